#!/usr/bin/env bash
# make swarm-down: undo what `make swarm-up` recorded in STATE_FILE, and only that:
#   - leave the swarm, if swarm-up created it and the node is still in that same swarm;
#   - stop dockerd, if swarm-up started it and it is still that same process/service;
#   - never uninstall packages (docker.io stays, even if swarm-up installed it).
# Without a state file there is nothing to undo. Running it twice is harmless: the state file
# is removed once everything recorded has been undone.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=swarm-down
# shellcheck source=lib.sh
. "$here/lib.sh"

cache=$(cd "$here/.." && pwd)/.cache
STATE_FILE=${STATE_FILE:-$cache/swarm-up.state}
# dockerd stops its containers first (up to their stop timeouts), so allow it some time.
DOCKERD_STOP_WAIT=${DOCKERD_STOP_WAIT:-60}

if [[ ! -f $STATE_FILE ]]; then
  log "no $STATE_FILE: nothing recorded by swarm-up, nothing to undo"
  exit 0
fi
declare -A st=()
read_state "$STATE_FILE" st

leave_swarm() {
  local node state
  if ! docker_answers; then
    log "dockerd does not answer: there is no swarm to leave"
    return 0
  fi
  node=$(docker info --format '{{.Swarm.NodeID}}')
  state=$(docker info --format '{{.Swarm.LocalNodeState}}')
  if [[ $state != active || $node != "${st[swarm_node_id]:-}" ]]; then
    log "the swarm swarm-up created (node ${st[swarm_node_id]:-?}) is not the current one (node '${node:-none}', $state): left alone"
    return 0
  fi
  log "docker swarm leave --force (node $node, created by swarm-up)"
  docker swarm leave --force >/dev/null
}

stop_dockerd() {
  local pid=${st[dockerd_pid]:-} deadline
  case ${st[dockerd_how]:-} in
    systemd)
      log "systemctl stop docker (started by swarm-up)"
      systemctl stop docker.service docker.socket
      ;;
    pid)
      if ! is_dockerd_pid "$pid"; then
        log "dockerd pid $pid started by swarm-up is no longer running"
        return 0
      fi
      log "stopping dockerd pid $pid (started by swarm-up)"
      kill -TERM "$pid"
      deadline=$(( SECONDS + DOCKERD_STOP_WAIT ))
      while is_dockerd_pid "$pid"; do
        (( SECONDS < deadline )) \
          || die "dockerd pid $pid did not stop within ${DOCKERD_STOP_WAIT}s; left running, state kept in $STATE_FILE"
        sleep 0.5
      done
      ;;
    *)
      die "$STATE_FILE records a started dockerd but no way to stop it (dockerd_how='${st[dockerd_how]:-}')"
      ;;
  esac
}

did=0
if [[ ${st[swarm_created]:-0} == 1 ]]; then
  step "leave the swarm swarm-up created" leave_swarm
  did=1
fi
if [[ ${st[dockerd_started]:-0} == 1 ]]; then
  step "stop the dockerd swarm-up started" stop_dockerd
  did=1
fi
if [[ ${st[installed_docker_io]:-0} == 1 ]]; then
  log "docker.io was installed by swarm-up and stays installed (apt-get purge docker.io removes it)"
fi
(( did == 1 )) || log "swarm-up recorded that it changed nothing: dockerd and the swarm are left as they are"
rm -f "$STATE_FILE"
summary
