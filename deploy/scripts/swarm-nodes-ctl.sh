#!/usr/bin/env bash
# Failure injection on the namespaced swarm of swarm-nodes-up.sh (used by test/chaos):
#
#   swarm-nodes-ctl.sh stop NODE    SIGTERM the node's dockerd and wait until it exited (it stops
#                                   its containers first: an orderly daemon stop)
#   swarm-nodes-ctl.sh crash NODE   SIGKILL everything of the node at once — its containers'
#                                   processes, containerd and shims, dockerd — and renew its
#                                   network namespace (interfaces, routes, iptables rules gone, as
#                                   after a reboot; same address): the node is lost as in a power
#                                   cut, and only its disk (the data root) survives
#   swarm-nodes-ctl.sh start NODE   start the node's dockerd again on its data root and wait until
#                                   it answers (the node rejoins the swarm by itself)
#
# Only nodes of this harness (their pidfiles, cgroups and exec roots) are ever signalled.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=swarm-nodes-ctl
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=swarm-nodes-lib.sh
. "$here/swarm-nodes-lib.sh"

DOCKERD_WAIT=${DOCKERD_WAIT:-60}
DOCKERD_STOP_WAIT=${DOCKERD_STOP_WAIT:-60}

[[ $EUID -eq 0 ]] || die "needs root"
(( $# == 2 )) || die "usage: swarm-nodes-ctl.sh stop|crash|start NODE"
action=$1 n=$2
case $n in "$MGR"|"$WRK"|"$MGR2"|"$MGR3") ;; *) die "unknown node '$n'" ;; esac
netns_exists "$n" || die "node $n does not exist (make swarm-up NODES=4)"

dockerd_pid() {
  local pid=''
  [[ -r $(node_pidfile "$n") ]] && pid=$(<"$(node_pidfile "$n")")
  is_dockerd_pid "$pid" && printf '%s\n' "$pid"
  return 0
}

case $action in
  stop)
    pid=$(dockerd_pid)
    [[ -n $pid ]] || die "dockerd of $n is not running"
    kill -TERM "$pid"
    deadline=$(( SECONDS + DOCKERD_STOP_WAIT ))
    while is_dockerd_pid "$pid"; do
      (( SECONDS < deadline )) || die "dockerd of $n (pid $pid) did not stop within ${DOCKERD_STOP_WAIT}s"
      sleep 0.1
    done
    log "dockerd of $n stopped"
    ;;
  crash)
    pid=$(dockerd_pid)
    mapfile -t pids < <(container_pids "$n"; runtime_pids "$n"; [[ -n $pid ]] && echo "$pid")
    (( ${#pids[@]} > 0 )) || die "nothing of $n is running"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    [[ -z $pid ]] || while is_dockerd_pid "$pid"; do sleep 0.05; done
    # A reboot clears the kernel's state: stale NAT rules of the dead containers would otherwise
    # catch the published ports of the tasks that start after the restart.
    # The bridge end first: removing the namespace frees its veth only later, and the new link
    # would then find the old v-NODE still on the bridge.
    ip -n "$BR" link del "v-$n" 2>/dev/null || true
    ip netns del "$n"
    ensure_netns "$n"
    ensure_link "$n"
    log "$n crashed: ${#pids[@]} process(es) SIGKILLed, network namespace renewed"
    ;;
  start)
    [[ -z $(dockerd_pid) ]] || die "dockerd of $n is running already"
    # A crash leaves the socket and pidfile behind; containerd and shims are gone with it.
    rm -f "$(node_sock "$n")" "$(node_pidfile "$n")"
    launch "$n" "$(node_data_root "$n")"
    launcher=$LAUNCHED
    deadline=$(( SECONDS + DOCKERD_WAIT ))
    until node_answers "$n"; do
      kill -0 "$launcher" 2>/dev/null || { tail -n 20 "$NODES_CACHE/$n.log" >&2; die "dockerd of $n exited during start-up"; }
      (( SECONDS < deadline )) || die "dockerd of $n did not answer within ${DOCKERD_WAIT}s (log: $NODES_CACHE/$n.log)"
      sleep 0.1
    done
    record "dockerd=$n:$(<"$(node_pidfile "$n")")"
    log "dockerd of $n answers again"
    ;;
  *) die "unknown action '$action' (stop, crash, start)" ;;
esac
