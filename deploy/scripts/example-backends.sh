# shellcheck shell=bash
# The backend recipe shared by examples/*/backends.sh. Sourced, never executed on its own.
#
# An example's backends.sh defines a function `backends` that calls the helpers below, then calls
# `example_main "$@"`: `backends.sh` (or `backends.sh up`) creates what the example's routes send to,
# `backends.sh down` removes it again. Everything runs on this machine's Swarm with the images
# `make images` builds (nothing is pulled):
#
# - every backend is NGINX from the local swarmgate/proxy image with examples/backend.nginx.conf,
#   answering "hello from <service>.<slot>, path <uri>" on ports 80, 3000 and 8080, so a curl shows
#   which service answered;
# - backends join the overlay network sg-examples (plus the networks an example asks for);
# - certificates are self-signed by openssl at `up` time; no private key is kept in the repository.
#
# Objects carry the label io.swarmgate.example.<example>=true. Examples may share a service (the
# canary and haproxy examples both use shop-v1): `up` reuses it and adds its label, `down` removes
# the label and removes the service only when no other example still uses it.
#
# SWARMGATE: the CLI command, for the few steps that need it (default: node dist/cli/swarmgate.js, the bundled bin,
# after `make build`).

set -euo pipefail
EXAMPLES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
EXAMPLE=$(basename "$(cd "$(dirname "$0")" && pwd)")
EXAMPLE_LABEL="io.swarmgate.example.$EXAMPLE"
EXAMPLE_NETWORK=sg-examples
EXAMPLE_BACKEND_CONFIG=sg-example-backend
IMAGE_PREFIX=${IMAGE_PREFIX:-swarmgate}
read -r -a SWARMGATE_CMD <<<"${SWARMGATE:-node $EXAMPLES_ROOT/dist/cli/swarmgate.js}"

ex_log() { printf '==> [%s] %s\n' "$EXAMPLE" "$*" >&2; }
ex_die() { printf '==> [%s] ERROR: %s\n' "$EXAMPLE" "$*" >&2; exit 1; }

# This node's ID (`docker node inspect` accepts "self", `docker node update` does not).
ex_this_node() { docker info --format '{{.Swarm.NodeID}}'; }

# The example labels (io.swarmgate.example.*) on an object, one per line.
ex_labels_of() {
  docker "$1" inspect --format '{{range $k, $v := .Spec.Labels}}{{$k}}{{"\n"}}{{end}}' "$2" 2>/dev/null | grep '^io\.swarmgate\.example\.' || true
}

# network NAME: an overlay network for backends (created once, shared by the examples).
network() {
  if ! docker network inspect "$1" >/dev/null 2>&1; then
    docker network create --driver overlay --label io.swarmgate.example=true "$1" >/dev/null
    ex_log "network $1 created"
  fi
}

# config_file NAME FILE: a Docker config from a file of the repository (created once).
config_file() {
  docker config inspect "$1" >/dev/null 2>&1 || docker config create --label "$EXAMPLE_LABEL=true" "$1" "$2" >/dev/null
}

# page_config NAME FILE: an error page for Middleware errorPages: a Docker config with the label
# swarmgate.io/error-page (swarmgate lists and mounts only configs carrying it), created once.
page_config() {
  docker config inspect "$1" >/dev/null 2>&1 || docker config create --label "$EXAMPLE_LABEL=true" --label swarmgate.io/error-page=true "$1" "$2" >/dev/null
  ex_log "error page config $1"
}

# backend NAME REPLICAS [docker service create flags...]: an NGINX backend answering with its name.
# Extra flags (--network, --secret, --config, --endpoint-mode ...) are passed to docker service create;
# a --config with target /etc/nginx/nginx.conf replaces examples/backend.nginx.conf.
backend() {
  local name=$1 replicas=$2
  shift 2
  if docker service inspect "$name" >/dev/null 2>&1; then
    docker service update --detach --quiet --label-add "$EXAMPLE_LABEL=true" "$name" >/dev/null
    ex_log "service $name exists: reused"
    return
  fi
  local image conf=(--config "src=$EXAMPLE_BACKEND_CONFIG,target=/etc/nginx/nginx.conf")
  # By ID: with a tag, Swarm tries a registry pull at every task start.
  image=$(docker image inspect --format '{{.Id}}' "$IMAGE_PREFIX/proxy:latest") || ex_die "no image $IMAGE_PREFIX/proxy:latest: run make images first"
  [[ " $* " == *"target=/etc/nginx/nginx.conf"* ]] && conf=()
  docker service create --detach --quiet --no-resolve-image --name "$name" --replicas "$replicas" \
    --network "$EXAMPLE_NETWORK" --hostname "$name.{{.Task.Slot}}" "${conf[@]}" \
    --label "$EXAMPLE_LABEL=true" --label io.swarmgate.example-backend=true "$@" "$image" >/dev/null
  ex_log "service $name created ($replicas tasks)"
}

# self_signed CERT_FILE KEY_FILE HOST...: a throw-away EC P-256 certificate for the hosts (CN = first).
self_signed() {
  local cert=$1 key=$2 cn=$3 san
  shift 2
  san=$(printf 'DNS:%s,' "$@")
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=$cn" \
    -addext "subjectAltName=${san%,}" -keyout "$key" -out "$cert" 2>/dev/null
}

# secret_pair CERT_SECRET KEY_SECRET HOST...: a self-signed pair stored as two Docker secrets.
secret_pair() {
  local crt=$1 key=$2 dir
  shift 2
  if docker secret inspect "$crt" >/dev/null 2>&1 && docker secret inspect "$key" >/dev/null 2>&1; then return; fi
  dir=$(mktemp -d)
  self_signed "$dir/cert.pem" "$dir/key.pem" "$@"
  docker secret create --label "$EXAMPLE_LABEL=true" "$crt" "$dir/cert.pem" >/dev/null
  docker secret create --label "$EXAMPLE_LABEL=true" "$key" "$dir/key.pem" >/dev/null
  rm -rf "$dir"
  ex_log "secrets $crt and $key created (self-signed for $*)"
}

# stored_certificate NAME HOST...: a self-signed pair stored with `swarmgate tls apply NAME`.
stored_certificate() {
  local name=$1 dir
  shift
  dir=$(mktemp -d)
  self_signed "$dir/cert.pem" "$dir/key.pem" "$@"
  "${SWARMGATE_CMD[@]}" tls apply "$name" --cert "$dir/cert.pem" --key "$dir/key.pem" >&2
  rm -rf "$dir"
}

# node_label KEY=VALUE: label this node (for placement constraints) unless it has that label already.
# `down` removes labels with exactly these values.
node_label() {
  local key=${1%%=*} value=${1#*=} have
  have=$(docker node inspect self --format "{{index .Spec.Labels \"$key\"}}")
  if [[ $have != "$value" ]]; then
    docker node update --label-add "$1" "$(ex_this_node)" >/dev/null
    ex_log "node labelled $1"
  fi
}

# down_node_label KEY=VALUE: the `down` counterpart of node_label.
down_node_label() {
  local key=${1%%=*} value=${1#*=}
  if [[ $(docker node inspect self --format "{{index .Spec.Labels \"$key\"}}") == "$value" ]]; then
    docker node update --label-rm "$key" "$(ex_this_node)" >/dev/null
    ex_log "node label $key removed"
  fi
}

# ex_remove_when_released TRIES KIND rm NAME: retry a removal every 0.5 s while Swarm still holds the
# object (tasks stop asynchronously). EXAMPLE_DOWN_NO_WAIT=1 tries once: for a first `down` while
# swarmgate still runs and holds what its proxies mount (test/integration/examples-walk.test.ts).
ex_remove_when_released() {
  local i tries=$1
  [[ ${EXAMPLE_DOWN_NO_WAIT:-} == 1 ]] && tries=1
  shift
  for i in $(seq 1 "$tries"); do
    docker "$@" >/dev/null 2>&1 && return 0
    docker "$1" inspect "${@: -1}" >/dev/null 2>&1 || return 0
    sleep 0.5
  done
  ex_log "$1 ${*: -1} kept: still in use (a swarmgate proxy may hold it until its routes are deleted or"
  ex_log "swarmgate is uninstalled: run backends.sh down again then)"
  return 1
}

example_down() {
  local svc rest sec
  # `backends_down` (optional): what an example undoes besides services and secrets.
  if declare -F backends_down >/dev/null; then backends_down; fi
  for svc in $(docker service ls --quiet --filter "label=$EXAMPLE_LABEL"); do
    svc=$(docker service inspect --format '{{.Spec.Name}}' "$svc")
    rest=$(ex_labels_of service "$svc" | grep -vxF "$EXAMPLE_LABEL" || true)
    if [[ -n $rest ]]; then
      docker service update --detach --quiet --label-rm "$EXAMPLE_LABEL" "$svc" >/dev/null
      ex_log "service $svc kept (still used by ${rest//io.swarmgate.example./})"
    else
      docker service rm "$svc" >/dev/null
      ex_log "service $svc removed"
    fi
  done
  local kind
  for kind in secret config; do
    for sec in $(docker "$kind" ls --quiet --filter "label=$EXAMPLE_LABEL"); do
      sec=$(docker "$kind" inspect --format '{{.Spec.Name}}' "$sec")
      if ex_remove_when_released 40 "$kind" rm "$sec"; then ex_log "$kind $sec removed"; fi
    done
  done
  # The shared config and networks go with the last example backend.
  if [[ -z $(docker service ls --quiet --filter label=io.swarmgate.example-backend=true) ]]; then
    if docker config inspect "$EXAMPLE_BACKEND_CONFIG" >/dev/null 2>&1; then
      ex_remove_when_released 40 config rm "$EXAMPLE_BACKEND_CONFIG" || true
    fi
    local net
    for net in $(docker network ls --quiet --filter label=io.swarmgate.example=true); do
      net=$(docker network inspect --format '{{.Name}}' "$net")
      if ex_remove_when_released 20 network rm "$net"; then ex_log "network $net removed"; fi
    done
  fi
}

example_main() {
  case ${1:-up} in
    up)
      network "$EXAMPLE_NETWORK"
      docker config inspect "$EXAMPLE_BACKEND_CONFIG" >/dev/null 2>&1 \
        || docker config create --label io.swarmgate.example=true "$EXAMPLE_BACKEND_CONFIG" "$EXAMPLES_ROOT/examples/backend.nginx.conf" >/dev/null
      backends
      ex_log "backends ready: docker service ls --filter label=$EXAMPLE_LABEL"
      ;;
    down) example_down ;;
    *) ex_die "usage: $0 [up|down]" ;;
  esac
}
