#!/usr/bin/env bash
# make swarm-up: make this machine a single-node Swarm manager for development and CI.
#   1. no dockerd?          install Debian's docker.io (apt-get);
#   2. dockerd not running? start it (systemd if the machine runs it, otherwise in the
#                           background with its log in DOCKERD_LOG) and wait, at most
#                           DOCKERD_WAIT seconds, until `docker info` answers;
#   3. node in no swarm?    docker swarm init --advertise-addr SWARM_ADVERTISE_ADDR.
# Whatever already exists is left as it is. What this script changed is written to STATE_FILE,
# and `make swarm-down` undoes exactly that. Running it again is harmless: records of an
# earlier run that are still true (same dockerd process, same swarm) are kept.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=swarm-up
# shellcheck source=lib.sh
. "$here/lib.sh"

cache=$(cd "$here/.." && pwd)/.cache
STATE_FILE=${STATE_FILE:-$cache/swarm-up.state}
DOCKERD_LOG=${DOCKERD_LOG:-$cache/dockerd.log}
DOCKERD_WAIT=${DOCKERD_WAIT:-60}
ADDR=${SWARM_ADVERTISE_ADDR:-127.0.0.1}
# dockerd's pidfile (its default unless set): tells "the machine's dockerd is running" apart
# from dockerds of test harnesses that run with their own --pidfile/--host in namespaces.
DOCKERD_PIDFILE=${DOCKERD_PIDFILE:-/var/run/docker.pid}

[[ $DOCKERD_WAIT =~ ^[0-9]+$ ]] || die "DOCKERD_WAIT must be a number of seconds, not '$DOCKERD_WAIT'"

declare -A old=()
read_state "$STATE_FILE" old

# What this run finds or does; written to STATE_FILE at the end.
installed=${old[installed_docker_io]:-0}   # sticky: swarm-down never uninstalls anyway
installed_now=0                            # this run installed docker.io
dockerd_started=0 dockerd_how='' dockerd_pid=''
swarm_created=0 swarm_node_id='' swarm_cluster_id=''

default_dockerd_pid() {
  local pid=''
  [[ -r $DOCKERD_PIDFILE ]] && pid=$(<"$DOCKERD_PIDFILE")
  is_dockerd_pid "$pid" && printf '%s\n' "$pid"
}

install_docker() {
  if command -v dockerd >/dev/null || [[ -x /usr/sbin/dockerd ]]; then
    if command -v docker >/dev/null; then
      log "dockerd and the docker CLI are installed"
      return 0
    fi
  fi
  log "installing Debian's docker.io"
  bash "$here/system-deps.sh" swarm || die "docker.io could not be installed (see above)"
  installed=1 installed_now=1
}

# wait_for_docker PID [ours]: wait until `docker info` answers; give up after DOCKERD_WAIT
# seconds, or at once when PID exits. A dockerd this run started ("ours") that never answers
# is stopped again, so a failed swarm-up leaves nothing behind that swarm-down would not know.
wait_for_docker() {
  local pid=$1 ours=${2:-} deadline=$(( SECONDS + DOCKERD_WAIT ))
  until docker_answers; do
    # kill -0, not is_dockerd_pid: right after `&` the child is still "bash"/"setsid" until exec
    if [[ -n $pid ]] && ! kill -0 "$pid" 2>/dev/null; then
      [[ -f $DOCKERD_LOG ]] && tail -n 20 "$DOCKERD_LOG" >&2
      die "dockerd (pid $pid) exited during start-up; see $DOCKERD_LOG"
    fi
    if (( SECONDS >= deadline )); then
      if [[ -n $ours && -n $pid ]]; then
        warn "stopping the dockerd (pid $pid) this run started"
        kill -TERM "$pid" 2>/dev/null || true
      fi
      die "dockerd did not answer within ${DOCKERD_WAIT}s (log: $DOCKERD_LOG; raise DOCKERD_WAIT=...)"
    fi
    sleep 0.5
  done
}

start_dockerd() {
  local pid
  # A dockerd that runs already, or is still starting, is used (waited for), never started a
  # second time. If it runs only because this run installed docker.io (the package starts
  # the service), it counts as started by swarm-up.
  if docker_answers || pid=$(default_dockerd_pid); then
    if ! docker_answers; then
      log "dockerd (pid $pid) is running but not answering yet; waiting up to ${DOCKERD_WAIT}s"
      wait_for_docker "$pid"
    fi
    if (( installed_now == 1 )); then
      record_dockerd "$(default_dockerd_pid || true)"
      log "dockerd was started by installing docker.io: recorded as started by swarm-up"
    else
      log "dockerd is running, leaving it as it is"
      keep_old_dockerd_record
    fi
    return 0
  fi
  [[ $EUID -eq 0 ]] || die "dockerd must be started, which needs root"
  if has_systemd; then
    log "starting dockerd: systemctl start docker"
    systemctl start docker
    wait_for_docker ''
    dockerd_started=1 dockerd_how=systemd dockerd_pid=$(default_dockerd_pid || true)
  else
    mkdir -p "$(dirname "$DOCKERD_LOG")"
    log "starting dockerd in the background (log: $DOCKERD_LOG)"
    # setsid: its own session, so neither make's Ctrl-C nor a closing terminal reaches it;
    # stdin/stdout/stderr detached so make does not wait for it.
    local -a args=()
    # only when not the default: a "pidfile" in daemon.json plus the flag makes dockerd refuse to start
    [[ $DOCKERD_PIDFILE == /var/run/docker.pid ]] || args=(--pidfile "$DOCKERD_PIDFILE")
    setsid dockerd "${args[@]}" >>"$DOCKERD_LOG" 2>&1 </dev/null &
    pid=$!
    wait_for_docker "$pid" ours
    # $! is dockerd itself (setsid execs when it need not fork); the pidfile confirms it.
    pid=$(default_dockerd_pid || printf '%s' "$pid")
    dockerd_started=1 dockerd_how=pid dockerd_pid=$pid
  fi
  log "dockerd answers (pid ${dockerd_pid:-?})"
}

record_dockerd() {
  dockerd_started=1 dockerd_pid=$1
  if has_systemd; then dockerd_how=systemd; else dockerd_how=pid; fi
}

# An earlier swarm-up started the dockerd that is running now: keep that record so that
# swarm-down still stops it.
keep_old_dockerd_record() {
  [[ ${old[dockerd_started]:-0} == 1 ]] || return 0
  case ${old[dockerd_how]:-} in
    pid)
      if is_dockerd_pid "${old[dockerd_pid]:-}"; then
        dockerd_started=1 dockerd_how=pid dockerd_pid=${old[dockerd_pid]}
      fi ;;
    systemd)
      if systemctl is-active --quiet docker 2>/dev/null; then
        dockerd_started=1 dockerd_how=systemd dockerd_pid=$(default_dockerd_pid || true)
      fi ;;
  esac
  if (( dockerd_started == 1 )); then log "(dockerd was started by an earlier swarm-up: still recorded)"; fi
}

ensure_swarm() {
  local state node
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  case $state in
    inactive)
      log "initialising a swarm: docker swarm init --advertise-addr $ADDR"
      docker swarm init --advertise-addr "$ADDR" >/dev/null
      swarm_created=1
      swarm_node_id=$(docker info --format '{{.Swarm.NodeID}}')
      swarm_cluster_id=$(docker info --format '{{.Swarm.Cluster.ID}}')
      log "swarm created: node $swarm_node_id, cluster $swarm_cluster_id"
      ;;
    active)
      node=$(docker info --format '{{.Swarm.NodeID}}')
      log "node $node is already in a swarm, leaving it as it is"
      [[ $(docker info --format '{{.Swarm.ControlAvailable}}') == true ]] \
        || warn "this node is a worker; swarmgate needs a manager"
      # keep the record if an earlier swarm-up created this very swarm
      if [[ ${old[swarm_created]:-0} == 1 && ${old[swarm_node_id]:-} == "$node" ]]; then
        swarm_created=1 swarm_node_id=$node swarm_cluster_id=${old[swarm_cluster_id]:-}
        log "(the swarm was created by an earlier swarm-up: still recorded)"
      fi
      ;;
    *)
      die "the node's swarm state is '$state'; fix it by hand (docker swarm unlock/leave) — swarm-up does not touch an existing swarm"
      ;;
  esac
}

write_state() {
  mkdir -p "$(dirname "$STATE_FILE")"
  local tmp=$STATE_FILE.tmp
  {
    printf '# Written by deploy/scripts/swarm-up.sh on %s. `make swarm-down` undoes what is\n' "$(date -u +%FT%TZ)"
    printf '# marked 1 here and nothing else (it never uninstalls packages).\n'
    printf 'installed_docker_io=%s\n' "$installed"
    printf 'dockerd_started=%s\ndockerd_how=%s\ndockerd_pid=%s\n' "$dockerd_started" "$dockerd_how" "$dockerd_pid"
    printf 'swarm_created=%s\nswarm_node_id=%s\nswarm_cluster_id=%s\n' "$swarm_created" "$swarm_node_id" "$swarm_cluster_id"
  } >"$tmp"
  mv -f "$tmp" "$STATE_FILE"
}

step "docker.io installed" install_docker
step "dockerd running" start_dockerd
step "swarm manager" ensure_swarm
write_state
if (( dockerd_started == 0 && swarm_created == 0 && installed == 0 )); then
  log "nothing changed by swarm-up (recorded in $STATE_FILE: swarm-down will leave everything as is)"
else
  log "recorded in $STATE_FILE: installed docker.io=$installed, started dockerd=$dockerd_started, created swarm=$swarm_created"
fi
summary
