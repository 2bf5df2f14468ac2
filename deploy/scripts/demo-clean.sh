#!/usr/bin/env bash
# `make demo-clean`: remove what `make demo` created — the core and proxies with their generated
# configs and stored specs (swarmgate uninstall --purge), then the two backend services with their
# config and overlay network (examples/quickstart/backends.sh down). Leaves the swarm, dockerd and
# the images alone (make swarm-down for those).
set -euo pipefail
cd "$(dirname "$0")/../.."
SG_TAG=demo-clean
# shellcheck source=deploy/scripts/lib.sh
source deploy/scripts/lib.sh

[[ -f dist/cli/swarmgate.js ]] || die "dist/ is missing: run make build first"
node dist/cli/swarmgate.js uninstall --purge
bash examples/quickstart/backends.sh down
log "demo removed"
