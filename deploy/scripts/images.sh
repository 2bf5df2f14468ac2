#!/usr/bin/env bash
# make images: build $IMAGE_PREFIX/proxy and $IMAGE_PREFIX/swarmgate, tagged $VERSION and latest.
#
#   IMAGE_SOURCE=offline  (default) pulls nothing: the base is Debian debootstrapped on this
#                         machine (base-image.sh), Node is the host's binary, dist/ and the
#                         production node_modules/ are built on the host. For machines without
#                         a container registry, where npm also cannot run inside containers.
#   IMAGE_SOURCE=registry builds deploy/docker/*.Dockerfile (FROM debian:bookworm-slim and
#                         node:20-bookworm-slim, --pull) for everyone else.
#
# Build contexts are streamed to `docker build -` as tar archives holding only the files an
# image needs: the repository has no .dockerignore, and the legacy builder (the only one
# without buildx) would otherwise upload node_modules/ and the rootfs cache every time.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
SG_TAG=images
# shellcheck source=lib.sh
. "$here/lib.sh"

IMAGE_PREFIX=${IMAGE_PREFIX:-swarmgate}
VERSION=${VERSION:-}
IMAGE_SOURCE=${IMAGE_SOURCE:-offline}
BASE_IMAGE=${BASE_IMAGE:-$IMAGE_PREFIX/debian:bookworm}
NODE_BIN=${NODE_BIN:-/usr/bin/node}
CACHE_DIR=${CACHE_DIR:-$repo/deploy/.cache}
export BASE_IMAGE CACHE_DIR     # for base-image.sh

proxy_image=$IMAGE_PREFIX/proxy
app_image=$IMAGE_PREFIX/swarmgate
stage=$CACHE_DIR/stage/swarmgate

# --- checks ------------------------------------------------------------------------------------

preflight() {
  [[ -n $VERSION ]] || die "VERSION is empty (could not read \"version\" from package.json); pass VERSION=..."
  [[ $VERSION =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] \
    || die "VERSION '$VERSION' is not a valid image tag (letters, digits, _ . -)"
  case $IMAGE_SOURCE in offline|registry) ;; *) die "IMAGE_SOURCE must be 'offline' or 'registry', not '$IMAGE_SOURCE'" ;; esac
  command -v docker >/dev/null || die "the docker CLI is not installed (make swarm-up installs Debian's docker.io)"
  timeout 30 docker info >/dev/null 2>&1 \
    || die "cannot reach dockerd (is it running? make swarm-up starts it)"
  command -v curl >/dev/null || die "curl is not installed (the smoke test requests the proxy on loopback)"
  if [[ $IMAGE_SOURCE == offline ]]; then
    command -v npm >/dev/null || die "npm is not installed on the host; the offline path builds the app on the host"
    [[ -x $NODE_BIN ]] || die "NODE_BIN=$NODE_BIN is not an executable Node binary"
  fi
  log "building $proxy_image and $app_image, tags $VERSION + latest, from '$IMAGE_SOURCE'"
}

# --- app on the host (offline) -----------------------------------------------------------------

# dist/ must match src/: rebuild with the repo's own toolchain when anything is newer.
ensure_dist() {
  local main=$repo/dist/src/cli/main.js newer=''
  if [[ -f $main ]]; then
    newer=$(find "$repo/src" "$repo/package.json" "$repo/tsconfig.json" "$repo/tsconfig.build.json" \
      -newer "$main" -print -quit)
    if [[ -z $newer ]]; then
      log "dist/ is up to date with src/"
      return 0
    fi
    log "$newer is newer than dist/: rebuilding"
  fi
  [[ -x $repo/node_modules/.bin/tsc ]] \
    || die "dist/ is missing or stale and TypeScript is not installed: run 'make deps build' first"
  (cd "$repo" && npm run build)
}

# Production dependencies, installed from the repo's lockfile into a staging directory (the
# repo's own node_modules/, which has the dev tools, is left alone). Reused while
# package.json, package-lock.json and the Node/npm versions are unchanged.
stage_deps() {
  mkdir -p "$stage"
  local key
  key=$( { cat "$repo/package.json" "$repo/package-lock.json"; "$NODE_BIN" --version; npm --version; } \
    | sha256sum | cut -c1-16)
  if [[ -d $stage/node_modules && -f $stage/.deps-key && $(<"$stage/.deps-key") == "$key" ]]; then
    log "production node_modules/ unchanged, reusing $stage/node_modules"
    return 0
  fi
  rm -f "$stage/.deps-key"
  cp "$repo/package.json" "$repo/package-lock.json" "$stage/"
  # --ignore-scripts: the only install scripts build optional native add-ons (ssh2,
  # cpu-features) that need a compiler and Node headers and are not used by swarmgate.
  (cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
  printf '%s\n' "$key" >"$stage/.deps-key"
  log "production node_modules/: $(du -sh "$stage/node_modules" | cut -f1)"
}

# The host's Node must be 20.x and need nothing the base image lacks.
stage_node() {
  local ver
  ver=$("$NODE_BIN" --version 2>/dev/null | head -n 1 || true)
  [[ $ver == v20.* ]] || die "$NODE_BIN is Node $ver; the image needs Node 20 (set NODE_BIN=...)"
  if ldd "$NODE_BIN" | grep -q 'not found'; then
    ldd "$NODE_BIN" >&2
    die "$NODE_BIN has unresolved libraries on the host"
  fi
  # Only libc6, libstdc++6 and libgcc-s1 are expected; the in-image ldd check after the
  # build is the definitive one.
  log "$NODE_BIN $ver links: $(ldd "$NODE_BIN" | awk '$1 != "linux-vdso.so.1" {print $1}' | tr '\n' ' ')"
  mkdir -p "$stage"
  # -L: copy the binary even if NODE_BIN is a symlink; skip the 100 MB copy when unchanged.
  cmp -s "$NODE_BIN" "$stage/node" 2>/dev/null || cp -L "$NODE_BIN" "$stage/node"
  chmod 0755 "$stage/node"
}

# --- builds --------------------------------------------------------------------------------------

# docker_build DOCKERFILE IMAGE [docker build args...] < context.tar
docker_build() {
  local dockerfile=$1 image=$2
  shift 2
  # --force-rm: the legacy builder otherwise keeps the container of a failed step
  docker build --force-rm -f "$dockerfile" --build-arg VERSION="$VERSION" \
    -t "$image:$VERSION" -t "$image:latest" "$@" -
}

build_offline_proxy() {
  # The legacy builder: needs no buildx plugin and takes BASE_IMAGE from the local image store.
  tar -C "$repo" -c deploy/docker/offline/proxy.Dockerfile deploy/docker/proxy-init.sh deploy/nginx/nginx.conf deploy/haproxy/haproxy.cfg \
    | DOCKER_BUILDKIT=0 docker_build deploy/docker/offline/proxy.Dockerfile "$proxy_image" \
        --build-arg APP_IMAGE="$app_image:$VERSION"
}

build_offline_app() {
  tar -c -C "$repo" deploy/docker/offline/swarmgate.Dockerfile dist \
         -C "$stage" node node_modules package.json \
    | DOCKER_BUILDKIT=0 docker_build deploy/docker/offline/swarmgate.Dockerfile "$app_image" \
        --build-arg BASE_IMAGE="$BASE_IMAGE"
}

build_registry_proxy() {
  tar -C "$repo" -c deploy/docker/proxy.Dockerfile deploy/docker/proxy-init.sh deploy/nginx/nginx.conf deploy/haproxy/haproxy.cfg \
    | docker_build deploy/docker/proxy.Dockerfile "$proxy_image" --build-arg APP_IMAGE="$app_image:$VERSION"
}

build_registry_app() {
  tar -C "$repo" -c --exclude='*.test.ts' deploy/docker/swarmgate.Dockerfile \
      package.json package-lock.json tsconfig.json tsconfig.build.json src \
    | docker_build deploy/docker/swarmgate.Dockerfile "$app_image" --pull
}

# --- checks on the result ------------------------------------------------------------------------

remove_container() { docker rm -f "$1" >/dev/null 2>&1 || true; }

smoke_test() {
  local out port cid
  # the CLI starts under tini and prints its version
  out=$(docker run --rm "$app_image:$VERSION" --version)
  [[ $out == "$VERSION" ]] \
    || warn "swarmgate --version prints '$out' but the image is tagged '$VERSION' (src/cli/program.ts vs package.json)"
  out=$(docker run --rm --entrypoint node "$app_image:$VERSION" -e 'process.stdout.write(process.version)')
  [[ $out == v20.* ]] || die "node in $app_image:$VERSION is '$out', expected v20.x"
  out=$(docker run --rm --entrypoint /bin/sh "$app_image:$VERSION" -c 'ldd "$(command -v node)"')
  if grep -q 'not found' <<<"$out"; then
    printf '%s\n' "$out" >&2
    die "node in $app_image:$VERSION misses shared libraries"
  fi
  docker run --rm --entrypoint nginx "$app_image:$VERSION" -t -q \
    || die "nginx -t fails inside $app_image:$VERSION"
  docker run --rm "$proxy_image:$VERSION" nginx -t -q \
    || die "nginx -t fails inside $proxy_image:$VERSION"
  # Whole output, first line taken in bash: `| head -n 1` would close the pipe early, and with
  # pipefail docker's "broken pipe" fails the build now and then.
  out=$(docker run --rm --entrypoint haproxy "$app_image:$VERSION" -v)
  out=${out%%$'\n'*}
  [[ $out == *"version 2."* ]] || die "haproxy in $app_image:$VERSION prints '$out'"
  docker run --rm "$proxy_image:$VERSION" haproxy -c -q -f /etc/haproxy/haproxy.cfg \
    || die "haproxy -c fails on the placeholder config inside $proxy_image:$VERSION"
  out=$(docker run --rm "$proxy_image:$VERSION" swarmgate --version)
  [[ $out == "$VERSION" ]] || die "swarmgate (the hitless agent) in $proxy_image:$VERSION prints '$out', expected $VERSION"
  # The placeholder config must answer 503. Published on a random loopback port only.
  cid=$(docker run -d --rm -p 127.0.0.1::80 "$proxy_image:$VERSION")
  at_exit remove_container "$cid"
  port=$(docker port "$cid" 80/tcp | head -n1 | sed 's/.*://')
  out=''
  for _ in $(seq 50); do
    out=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)
    [[ $out == 503 ]] && break
    sleep 0.1
  done
  [[ $out == 503 ]] || die "$proxy_image:$VERSION answered '$out' on port 80, expected 503"
  remove_container "$cid"
  log "swarmgate --version, node $(docker run --rm --entrypoint node "$app_image:$VERSION" --version), nginx -t (both images), proxy 503: ok"
}

# Rebuilding moves the tags and leaves the previous images dangling; remove those (only
# untagged images carrying this project's label).
prune_dangling() {
  docker image prune -f --filter label=io.swarmgate.image >/dev/null
}

report() {
  log "images:"
  local -a refs=(--filter "reference=$proxy_image" --filter "reference=$app_image")
  [[ $IMAGE_SOURCE == offline ]] && refs+=(--filter "reference=$BASE_IMAGE")
  docker image ls "${refs[@]}" --format '{{.Repository}}:{{.Tag}}\t{{.ID}}\t{{.Size}}' \
    | column -t | sed 's/^/      /' >&2
}

# --- main ----------------------------------------------------------------------------------------

preflight
if [[ $IMAGE_SOURCE == offline ]]; then
  step "base image $BASE_IMAGE" bash "$here/base-image.sh"
  step "app: dist/ (npm run build)" ensure_dist
  step "app: production node_modules/ (npm ci --omit=dev)" stage_deps
  step "app: Node runtime from $NODE_BIN" stage_node
  # The proxy image is the app image plus NGINX's placeholder config: app first.
  step "image $app_image" build_offline_app
  step "image $proxy_image" build_offline_proxy
else
  step "image $app_image (registry)" build_registry_app
  step "image $proxy_image (registry)" build_registry_proxy
fi
step "smoke test" smoke_test
step "prune dangling swarmgate images" prune_dangling
report
summary
