#!/usr/bin/env bash
# make swarm-down NODES=2 (or 4): remove the namespaced test swarm that swarm-nodes-up.sh recorded in
# NODES_STATE — its dockerds (by PID), the processes of their containers (by PID, found through
# the nodes' cgroups and exec roots), network namespaces (with their veths and bridge), data and
# exec roots, sockets, pidfiles and cgroups. Works after a crash half-way through `up` (the state
# is written as things are created) and when run twice. Never touches the machine's own dockerd.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=swarm-nodes-down
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=swarm-nodes-lib.sh
. "$here/swarm-nodes-lib.sh"

# dockerd stops its containers first; their processes are killed before, so this is generous.
DOCKERD_STOP_WAIT=${DOCKERD_STOP_WAIT:-30}

[[ $EUID -eq 0 ]] || die "needs root"
if [[ ! -f $NODES_STATE ]]; then
  log "no $NODES_STATE: swarm-nodes-up recorded nothing, nothing to remove"
  exit 0
fi
# Records are "kind=value"; several lines may have the same kind.
mapfile -t records < <(grep -v '^#' "$NODES_STATE" | grep '=' || true)
recorded() { local r; for r in "${records[@]}"; do [[ ${r%%=*} == "$1" ]] && printf '%s\n' "${r#*=}"; done; return 0; }
mapfile -t nodes < <(recorded dataroot; recorded dockerd | cut -d: -f1)
mapfile -t nodes < <(printf '%s\n' "${nodes[@]}" | sort -u | grep . || true)

# kill_pids SIGNAL PID...: only PIDs that still exist.
kill_pids() {
  local sig=$1 pid
  shift
  for pid in "$@"; do kill "-$sig" "$pid" 2>/dev/null || true; done
}

stop_dockerds() {
  local rec n pid deadline
  for n in "${nodes[@]}"; do
    mapfile -t pids < <(container_pids "$n")
    if (( ${#pids[@]} > 0 )); then
      log "$n: killing ${#pids[@]} container process(es)"
      kill_pids KILL "${pids[@]}"
    fi
  done
  for rec in $(recorded dockerd); do
    n=${rec%%:*} pid=${rec#*:}
    if ! is_dockerd_pid "$pid"; then
      log "dockerd of $n (pid $pid) is not running"
      continue
    fi
    log "stopping dockerd of $n (pid $pid)"
    kill -TERM "$pid"
    deadline=$(( SECONDS + DOCKERD_STOP_WAIT ))
    while is_dockerd_pid "$pid"; do
      if (( SECONDS >= deadline )); then
        warn "dockerd of $n did not stop within ${DOCKERD_STOP_WAIT}s: SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
      fi
      sleep 0.2
    done
  done
  for n in "${nodes[@]}"; do
    mapfile -t pids < <(runtime_pids "$n"; container_pids "$n")
    if (( ${#pids[@]} > 0 )); then
      log "$n: killing ${#pids[@]} leftover containerd/shim/container process(es): ${pids[*]}"
      kill_pids KILL "${pids[@]}"
      sleep 0.5
    fi
  done
}

remove_namespaces() {
  local ns
  for ns in $(recorded netns | sort -u); do
    if netns_exists "$ns"; then
      ip netns del "$ns"
      log "netns $ns removed (with its interfaces)"
    fi
  done
}

remove_files() {
  local n path m
  for n in "${nodes[@]}"; do
    # Mounts live in the nodes' private mount namespaces, gone with their processes; unmount any
    # that is visible here anyway (innermost first) so rm never walks into a mounted tree.
    for path in "$(node_data_root "$n")" "$(node_exec_root "$n")"; do
      while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v p="$path" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
      rm -rf "$path"
    done
    rm -f "$(node_sock "$n")" "$(node_pidfile "$n")"
    remove_cgroups "$n"
    log "$n: data root, exec root, socket, pidfile and cgroups removed"
  done
}

step "stop the nodes' dockerds and containers" stop_dockerds
step "remove network namespaces" remove_namespaces
step "remove data roots, sockets, cgroups" remove_files
rm -rf "$NODES_CACHE/seed"
rm -f "$NODES_STATE"
log "the namespaced swarm is gone"
summary
