#!/usr/bin/env bash
# Backends of examples/grpc: the gRPC services echo-v1 (2 tasks) and echo-v2 (1 task), sgtest.Echo on
# port 50051 (echo-server.js and echo.proto as Docker configs, run by the Node of the proxy image), and the
# secrets echo.grpc.example.com.crt/.key, self-signed for echo.grpc.example.com.
# Usage: examples/grpc/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

# grpc_backend NAME REPLICAS: the Echo server of this folder, answering as its task (<name>.<slot>).
grpc_backend() {
  local name=$1 replicas=$2 image
  if docker service inspect "$name" >/dev/null 2>&1; then
    docker service update --detach --quiet --label-add "$EXAMPLE_LABEL=true" "$name" >/dev/null
    ex_log "service $name exists: reused"
    return
  fi
  # The proxy image: it is built FROM the swarmgate image (Node and /app/node_modules with grpc-js),
  # but its entrypoint is only tini, where the swarmgate image's runs the CLI. By ID: with a tag,
  # Swarm tries a registry pull at every task start.
  image=$(docker image inspect --format '{{.Id}}' "$IMAGE_PREFIX/proxy:latest") || ex_die "no image $IMAGE_PREFIX/proxy:latest: run make images first"
  docker service create --detach --quiet --no-resolve-image --name "$name" --replicas "$replicas" --stop-signal SIGTERM \
    --network "$EXAMPLE_NETWORK" --hostname "$name.{{.Task.Slot}}" \
    --config src=sg-example-grpc-server,target=/srv/echo-server.js --config src=sg-example-grpc-proto,target=/srv/echo.proto \
    --env NODE_PATH=/app/node_modules --label "$EXAMPLE_LABEL=true" --label io.swarmgate.example-backend=true \
    "$image" node /srv/echo-server.js >/dev/null
  ex_log "service $name created ($replicas tasks)"
}

backends() {
  config_file sg-example-grpc-server "$HERE/echo-server.js"
  config_file sg-example-grpc-proto "$HERE/echo.proto"
  secret_pair echo.grpc.example.com.crt echo.grpc.example.com.key echo.grpc.example.com
  grpc_backend echo-v1 2
  grpc_backend echo-v2 1
}
example_main "$@"
