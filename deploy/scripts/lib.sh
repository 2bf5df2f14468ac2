# shellcheck shell=bash
# Helpers shared by deploy/scripts/*.sh. Sourced, never executed on its own.
#
# Every script prints progress as "==> [tag] ..." lines so they stand out between the
# (verbose) docker/apt/npm output in CI logs, times each step, and on failure names the
# step that failed. Steps rely on `set -e` (set by the calling script): a failing command
# inside a step ends the script, and the EXIT trap below turns that into a clear message.

SG_TAG=${SG_TAG:-deploy}
SG_STEP=''            # the step running now; reported if the script dies during it
SG_STEP_T0=0
SG_TIMES=()           # "name|seconds" of finished steps, for the summary
SG_CLEANUPS=()        # commands (already shell-quoted) run at exit, newest first

now_ms() { date +%s%3N; }
SG_T0=$(now_ms)

# seconds since a now_ms value, one decimal (integer maths: no awk/bc needed)
elapsed() {
  local ms=$(( $(now_ms) - $1 ))
  printf '%d.%d' $(( ms / 1000 )) $(( (ms % 1000) / 100 ))
}

log()  { printf '==> [%s] %s\n' "$SG_TAG" "$*" >&2; }
warn() { printf '==> [%s] WARNING: %s\n' "$SG_TAG" "$*" >&2; }
die()  { printf '==> [%s] ERROR: %s\n' "$SG_TAG" "$*" >&2; exit 1; }

# at_exit CMD ARGS...: run CMD at exit, whether the script succeeds or fails.
at_exit() {
  local q
  printf -v q '%q ' "$@"
  SG_CLEANUPS+=("$q")
}

sg_on_exit() {
  local rc=$? i
  trap - EXIT
  for (( i = ${#SG_CLEANUPS[@]} - 1; i >= 0; i-- )); do
    eval "${SG_CLEANUPS[i]}" || true
  done
  if (( rc != 0 )) && [[ -n $SG_STEP ]]; then
    printf '==> [%s] FAILED: step "%s" failed (exit %d) after %ss; the cause is in the output above.\n' \
      "$SG_TAG" "$SG_STEP" "$rc" "$(elapsed "$SG_STEP_T0")" >&2
  fi
  exit "$rc"
}
trap sg_on_exit EXIT
# Ctrl-C / kill: leave through the EXIT trap so temporary files are removed.
trap 'exit 130' INT
trap 'exit 143' TERM

# step NAME CMD ARGS...: announce, run and time one step. Must not be called from an
# `if`/`&&`/`||` context, or bash would switch off `set -e` inside CMD.
step() {
  local name=$1
  shift
  SG_STEP=$name
  SG_STEP_T0=$(now_ms)
  log "step: $name"
  "$@"
  local secs
  secs=$(elapsed "$SG_STEP_T0")
  SG_TIMES+=("$name|$secs")
  log "done: $name (${secs}s)"
  SG_STEP=''
}

# print the per-step times and the total
summary() {
  local row
  log "timings:"
  for row in "${SG_TIMES[@]}"; do
    printf '      %-52s %6ss\n' "${row%%|*}" "${row##*|}" >&2
  done
  printf '      %-52s %6ss\n' "total" "$(elapsed "$SG_T0")" >&2
}

# run_logged WHAT LOGFILE CMD ARGS...: for chatty tools (debootstrap, apt): output goes to
# LOGFILE, and only its tail is shown, when the command fails. CMD must be a program, not a
# shell function (a function called in an `if` would run without `set -e`).
run_logged() {
  local what=$1 logfile=$2
  shift 2
  mkdir -p "$(dirname "$logfile")"
  if ! "$@" >"$logfile" 2>&1; then
    printf '==> [%s] %s failed; last lines of %s:\n' "$SG_TAG" "$what" "$logfile" >&2
    tail -n 25 "$logfile" >&2
    return 1
  fi
}

# read_state FILE ARRAY: the key=value lines of FILE (blank lines and # comments skipped) into
# the associative array named ARRAY. The file is parsed, never sourced: it is data, not code.
read_state() {
  local file=$1 k v
  local -n sg_into=$2
  [[ -f $file ]] || return 0
  while IFS='=' read -r k v; do
    [[ -z $k || $k == \#* ]] && continue
    sg_into[$k]=$v
  done <"$file"
}

# is_dockerd_pid PID: PID is alive and is a dockerd (guards against a recycled PID).
is_dockerd_pid() {
  [[ $1 =~ ^[0-9]+$ && -r /proc/$1/comm && $(</proc/$1/comm) == dockerd ]]
}

# has_systemd: the machine is booted with systemd, so docker is a systemd service.
has_systemd() { [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; }

# docker_answers: the daemon the docker CLI talks to responds.
docker_answers() { command -v docker >/dev/null && timeout 10 docker info >/dev/null 2>&1; }
