#!/usr/bin/env bash
# make system-deps (and every target the README names, through it): install the Debian packages
# a purpose needs when they are missing. Idempotent; silent when nothing is missing; one line
# naming what it installed otherwise.
#
#   system-deps.sh [--list [PURPOSE...]] [--purgeable] [PURPOSE...]
#     PURPOSE     test | images | swarm | multinode | bench | bench-reload | all (default: all)
#     --list      print the packages of those purposes (one per line) and exit
#     --purgeable with --list: only the packages .ci/run removes to make the machine look new
#
# THE one list of Debian packages the project installs. Columns:
#   package  purposes (comma-separated)  purge  why
# purge=yes: .ci/run removes it before the README's commands, so a missing install step fails
# CI the same day. purge=no: docker.io (removing it would throw away the images and swarms of
# the machine's other runs) and packages of Debian's base system that other packages depend on
# (purging openssl would take ca-certificates, and with it npm's TLS, along).
PACKAGES='
nginx-light          test,bench             yes  nginx -t on every rendered config; NGINX for the traffic tests
libnginx-mod-stream  test,bench             yes  the stream module (SNI passthrough, ssl_preread) that nginx -t loads
libnginx-mod-http-lua test,bench            yes  the Lua module of dynamic endpoints (ADR 0016): balancer_by_lua, lua_shared_dict
lua-resty-core       test,bench             yes  ngx.balancer for the Lua module (dynamic endpoints)
libjemalloc2         test,bench             yes  the allocator the agent runs NGINX with (ADR 0040): memory after a reload as before it
haproxy              test                   yes  haproxy -c on every rendered HAProxy config; HAProxy for its traffic tests
pebble               test                   yes  a test ACME server (pebble, pebble-challtestsrv) the ACME tests start on loopback
debootstrap          images                 yes  the offline Debian base image (no registry on the machine)
wrk                  bench-reload           yes  the load generator of make bench-reload
docker.io            swarm,images,multinode no   dockerd and the docker CLI (make swarm-up starts it)
openssl              test                   no   test certificates (CA, server, client) for TLS and mutual-TLS tests
curl                 test,images            no   the smoke test of make images; the traffic checks of make demo
iproute2             test,multinode         no   network namespaces: the two-node swarm; the two-replica ACME component test
util-linux           images,multinode       no   unshare for debootstrap and the namespaced dockerds
'

set -euo pipefail

list=0 purgeable=0 purposes=()
for arg in "$@"; do
  case $arg in
    --list) list=1 ;;
    --purgeable) purgeable=1 ;;
    test|images|swarm|multinode|bench|bench-reload|all) purposes+=("$arg") ;;
    *) echo "system-deps: unknown purpose '$arg' (test, images, swarm, multinode, bench, bench-reload, all)" >&2; exit 2 ;;
  esac
done
(( ${#purposes[@]} )) || purposes=(all)

# packages_for: the packages of the chosen purposes, in table order, each once.
packages_for() {
  local pkg uses purge why p
  while read -r pkg uses purge why; do
    [[ -z $pkg ]] && continue
    (( purgeable )) && [[ $purge != yes ]] && continue
    for p in "${purposes[@]}"; do
      if [[ $p == all || ,$uses, == *,$p,* ]]; then printf '%s\n' "$pkg"; break; fi
    done
  done <<<"$PACKAGES"
}

if (( list )); then packages_for; exit 0; fi

installed() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == 'install ok installed' ]]; }

missing=()
while read -r pkg; do
  installed "$pkg" || missing+=("$pkg")
done < <(packages_for)
(( ${#missing[@]} )) || exit 0

if [[ $EUID -ne 0 ]]; then
  echo "system-deps: missing Debian packages: ${missing[*]}; run as root: make system-deps (or apt-get install ${missing[*]})" >&2
  exit 1
fi

t0=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Wait for another apt (a parallel make, unattended-upgrades) instead of failing on its lock.
apt=(apt-get -o DPkg::Lock::Timeout=300)
if ! { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  tail -n 25 "$log" >&2
  echo "system-deps: apt-get install ${missing[*]} failed (output above)" >&2
  exit 1
fi
# The nginx and haproxy packages start system instances on port 80 where an init system runs;
# the tests and the demo start their own, so stop those (quietly: often there is none).
for svc in nginx haproxy; do
  if [[ " ${missing[*]} " == *" ${svc}"* ]]; then
    { systemctl stop "$svc" || service "$svc" stop; } >/dev/null 2>&1 || true
  fi
done
echo "system-deps: installed ${missing[*]} ($(( $(date +%s) - t0 )) s)" >&2
