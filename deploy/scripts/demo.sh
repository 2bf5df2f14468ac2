#!/usr/bin/env bash
# `make demo`: from a fresh Debian machine to traffic through swarmgate in one command.
# swarm-up and images run before this script (Makefile prerequisites). Here: build the CLI,
# create two small backend services on an overlay network (examples/quickstart/backends.sh), install the core, apply
# examples/quickstart/, wait until the route is Programmed and send requests through the
# host-mode published port 8080. Idempotent: running it again reuses what exists.
set -euo pipefail
cd "$(dirname "$0")/../.."
SG_TAG=demo
# shellcheck source=deploy/scripts/lib.sh
source deploy/scripts/lib.sh

IMAGE_PREFIX=${IMAGE_PREFIX:-swarmgate}
SG="node dist/cli/swarmgate.js"

log "building the CLI"
npm run build >/dev/null

log "creating the backend services hello-v1 (3 tasks) and hello-v2 (1 task)"
IMAGE_PREFIX="$IMAGE_PREFIX" bash examples/quickstart/backends.sh up

log "installing the swarmgate core"
$SG install --local-images --image "$IMAGE_PREFIX/swarmgate:latest"
log "applying examples/quickstart/"
$SG apply -f examples/quickstart/
log "waiting for route/hello to be Programmed (the core converges the proxy)"
$SG wait route/hello --for=Programmed --timeout 180s
$SG get routes -o wide

log "ten requests to http://127.0.0.1:8080/ with Host: hello.localhost (weights 90/10)"
for _ in $(seq 1 10); do
  curl -fsS --retry 5 --retry-connrefused --retry-delay 1 -H 'Host: hello.localhost' http://127.0.0.1:8080/
done
log "and one to /v2/anything (always hello-v2, prefix stripped)"
curl -fsS -H 'Host: hello.localhost' http://127.0.0.1:8080/v2/anything

cat >&2 <<'NEXT'

==> [demo] Done. Try next:
  node dist/cli/swarmgate.js get routes -o wide          # conditions per route
  node dist/cli/swarmgate.js describe route hello        # rules and condition reasons
  curl -H 'Host: hello.localhost' -H 'X-Canary: always' http://127.0.0.1:8080/
  edit examples/quickstart/route.yaml (weights), then: node dist/cli/swarmgate.js apply -f examples/quickstart/
  docker service scale hello-v1=1                       # the upstream follows the tasks
  node dist/cli/swarmgate.js uninstall                   # remove the core and proxies (specs kept)
  make demo-clean                                       # remove everything the demo created
NEXT
