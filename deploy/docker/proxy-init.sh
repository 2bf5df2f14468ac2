#!/bin/sh
# PID 1 of a swarmgate proxy task (installed as /usr/local/bin/swarmgate-proxy-init, the proxy
# image's ENTRYPOINT; ADR 0018, addendum).
#
# `swarmgate proxy-agent ...` (hitless tasks, rolling HAProxy tasks): run it, the agent's Node
# supervisor, and start it again at once when it dies (kill -9, OOM kill, a crash). The NGINX or
# HAProxy master runs detached and keeps serving meanwhile; the new supervisor's agent takes it
# over from the record the previous agent left (src/agent/proxy-handle.ts). An agent whose
# supervisor died exits by itself (its IPC channel closes), so there are never two.
# Anything else (rolling NGINX: `nginx -g 'daemon off;'`): exec tini, as before.
#
# The death of PID 1 ends the container (the kernel's rule), so this stays trivial: no parsing,
# no I/O but one log line per restart. Stop signals (QUIT from Swarm, TERM, INT) become one SIGTERM
# to the supervisor (it and the agent stop the proxy gracefully either way; SIGQUIT would be
# ignored by a child a non-interactive shell starts in the background). Orphans (a dead agent's
# proxy workers) are reaped by `wait`, which takes any child. Exit: the supervisor's status when
# it was asked to stop, exited 0, or gave up (75: the agent kept failing); the same when it died
# more than 10 times in a row within 10 s of its start.
set -u

if [ "${1:-}" != swarmgate ] || [ "${2:-}" != proxy-agent ] || [ "${SWARMGATE_AGENT_SUPERVISOR:-}" = off ]; then
  exec /usr/bin/tini -- "$@"
fi

# Keep in step with SUPERVISOR_GAVE_UP_EXIT in src/agent/agent-supervisor.ts.
gave_up=75
child=''
stopping=''
quick=0

log() { # level (pino's: 30 info, 50 error), message without double quotes
  printf '{"level":%s,"time":%s000,"name":"swarmgate-proxy-init","msg":"%s"}\n' "$1" "$(date +%s)" "$2" >&2
}

stop() {
  stopping=1
  if [ -n "$child" ]; then kill -TERM "$child" 2>/dev/null || true; fi
}
trap stop TERM QUIT INT

while :; do
  started=$(date +%s)
  "$@" &
  child=$!
  # A stop signal that came before $! was known.
  if [ -n "$stopping" ]; then kill -TERM "$child" 2>/dev/null || true; fi
  while :; do
    wait "$child"
    code=$?
    # A trapped signal ends `wait` early (status > 128) while the supervisor still runs: wait again.
    if [ -n "$stopping" ] && [ "$code" -gt 128 ] && kill -0 "$child" 2>/dev/null; then continue; fi
    break
  done
  child=''
  if [ -n "$stopping" ] || [ "$code" -eq 0 ] || [ "$code" -eq "$gave_up" ]; then exit "$code"; fi
  if [ $(($(date +%s) - started)) -ge 10 ]; then quick=1; else quick=$((quick + 1)); fi
  if [ "$quick" -gt 10 ]; then
    log 50 "the proxy agent's supervisor keeps dying (status $code, $quick times in a row); giving up (the task ends)"
    exit "$code"
  fi
  log 50 "the proxy agent's supervisor ended (status $code); starting it again (the proxy keeps serving)"
  # At once the first time, then a second apart (interruptible: a stop signal ends the wait).
  if [ "$quick" -gt 1 ]; then
    sleep 1 &
    wait $! || true
    if [ -n "$stopping" ]; then exit "$code"; fi
  fi
done
