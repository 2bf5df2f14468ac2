#!/usr/bin/env bash
# make test-multinode (NODES=2) and make test-chaos (NODES=4) run this first: is the swarm of
# swarm-nodes-up.sh there, with that many nodes, and usable? Exit 0 when yes; otherwise say what is missing and how to get it (exit 1).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=test-multinode
# shellcheck source=lib.sh
. "$here/lib.sh"
# shellcheck source=swarm-nodes-lib.sh
. "$here/swarm-nodes-lib.sh"

missing() { die "the $NODES-node swarm is not up ($1): run make swarm-up NODES=$NODES first (as root)"; }

[[ $EUID -eq 0 ]] || die "needs root (the tests run clients with ip netns exec)"
for ns in "${SWARM_NODES[@]}" "$CLI"; do netns_exists "$ns" || missing "no network namespace $ns"; done
node_answers "$MGR" || missing "dockerd of $MGR does not answer on $(node_sock "$MGR")"
ready=$(node_docker "$MGR" node ls --format '{{.Hostname}} {{.Status}}' 2>/dev/null | grep -c ' Ready$' || true)
[[ $ready == "${#SWARM_NODES[@]}" ]] || missing "$ready ready swarm node(s) instead of ${#SWARM_NODES[@]}"
for img in swarmgate/swarmgate:latest swarmgate/proxy:latest; do
  for n in "${SWARM_NODES[@]}"; do
    [[ -n $(node_docker "$n" image ls -q "$img") ]] || missing "$n has no $img"
  done
done
log "$NODES-node swarm is up: $MGR ($MGR_ADDR, manager), $WRK ($WRK_ADDR, worker)${EXTRA_MANAGERS:+, ${EXTRA_MANAGERS[*]} (managers)}, client $CLI ($CLI_ADDR)"
