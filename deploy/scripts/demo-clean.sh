#!/usr/bin/env bash
# `make demo-clean`: remove what `make demo` created — the core and proxies with their generated
# configs and stored specs (swarmgate uninstall --purge), the two backend services, their config and
# the overlay network. Leaves the swarm, dockerd and the images alone (make swarm-down for those).
set -euo pipefail
cd "$(dirname "$0")/../.."
SG_TAG=demo-clean
# shellcheck source=deploy/scripts/lib.sh
source deploy/scripts/lib.sh

[[ -f dist/src/cli/main.js ]] || die "dist/ is missing: run make build first"
node dist/src/cli/main.js uninstall --purge
for svc in hello-v1 hello-v2; do
  if docker service inspect "$svc" >/dev/null 2>&1; then docker service rm "$svc" >/dev/null && log "service $svc removed"; fi
done
# The backends' tasks must be gone before their config and network can be removed.
for _ in $(seq 1 40); do
  docker config rm sg-demo-backend >/dev/null 2>&1 && log "config sg-demo-backend removed" && break
  docker config inspect sg-demo-backend >/dev/null 2>&1 || break
  sleep 0.5
done
for _ in $(seq 1 40); do
  docker network rm sg-demo >/dev/null 2>&1 && log "network sg-demo removed" && break
  docker network inspect sg-demo >/dev/null 2>&1 || break
  sleep 0.5
done
log "demo removed"
