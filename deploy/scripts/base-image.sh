#!/usr/bin/env bash
# Build the Debian bookworm base image of the offline image path without any registry:
#   debootstrap --variant=minbase  ->  point apt at the mirror, apply updates, drop caches
#   ->  tar  ->  docker import (one layer).
# Two caches, because debootstrap is the slow part (~40 s plus downloads):
#   1. the image tag BASE_IMAGE exists            -> nothing to do;
#   2. the cleaned rootfs tarball is in CACHE_DIR -> only `docker import` (~2 s).
# To refresh the base (e.g. for security updates): `docker rmi` the tag and delete
# deploy/.cache/rootfs/. Needs root (debootstrap, chroot) and the debootstrap package.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SG_TAG=${SG_TAG:-base-image}
# shellcheck source=lib.sh
. "$here/lib.sh"

BASE_IMAGE=${BASE_IMAGE:-swarmgate/debian:bookworm}
SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEBIAN_SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
CACHE_DIR=${CACHE_DIR:-$(cd "$here/.." && pwd)/.cache}
# Bump when the rootfs recipe below changes, so an old cached tarball is not reused.
RECIPE=1

# The tarball name carries a hash of everything that shapes its content.
key=$(printf '%s\n' "$RECIPE" "$SUITE" "$DEBIAN_MIRROR" "$DEBIAN_SECURITY_MIRROR" | sha256sum | cut -c1-12)
tarball=$CACHE_DIR/rootfs/debian-$SUITE-minbase-$key.tar

# --- rootfs ----------------------------------------------------------------------------------

debootstrap_rootfs() {
  local root=$1
  # A private mount namespace: the /proc and /sys debootstrap mounts inside the target vanish
  # with it even if debootstrap is interrupted, so no mount can leak onto the host and the
  # later `rm -rf` of the work directory never walks into a live /proc.
  run_logged debootstrap "$CACHE_DIR/logs/debootstrap.log" \
    unshare --mount --propagation private -- \
    debootstrap --variant=minbase --components=main "$SUITE" "$root" "$DEBIAN_MIRROR"
}

configure_rootfs() {
  local root=$1
  # apt sources: the same Debian mirrors the host uses (suite, updates, security), in the
  # deb822 format bookworm images use; debootstrap's one-line sources.list is replaced.
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: $DEBIAN_MIRROR
Suites: $SUITE $SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $DEBIAN_SECURITY_MIRROR
Suites: $SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES

  # apt defaults for image layers: no recommends, no translations, and never keep .deb files
  # or the binary package caches (they would be baked into every layer that runs apt).
  cat >"$root/etc/apt/apt.conf.d/90swarmgate-image" <<'APTCONF'
// Written by swarmgate deploy/scripts/base-image.sh: settings for container image builds.
APT::Install-Recommends "false";
APT::Install-Suggests "false";
Acquire::Languages "none";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb || true"; };
APTCONF

  # Containers have no init system: maintainer scripts must not try to start services
  # (nginx's postinst would otherwise launch an nginx inside the build container).
  cat >"$root/usr/sbin/policy-rc.d" <<'POLICY'
#!/bin/sh
# Container image: never start services from package maintainer scripts.
exit 101
POLICY
  chmod 0755 "$root/usr/sbin/policy-rc.d"
}

# Install pending bookworm-updates/security updates (debootstrap takes only the release
# suite), so every derived image starts from a patched base.
upgrade_rootfs() {
  local root=$1
  # chroot needs name resolution for apt; the file is emptied again in clean_rootfs.
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  run_logged "apt-get full-upgrade in the rootfs" "$CACHE_DIR/logs/apt-upgrade.log" \
    unshare --mount --propagation private -- \
    /bin/sh -eu -c '
      mount -t proc proc "$1/proc"
      exec chroot "$1" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        DEBIAN_FRONTEND=noninteractive LC_ALL=C \
        /bin/sh -euc "apt-get update -q && apt-get -y -q -o Dpkg::Options::=--force-confold full-upgrade && apt-get clean"
    ' sh "$root"
  local n
  n=$(grep -c '^Setting up ' "$CACHE_DIR/logs/apt-upgrade.log" || true)
  log "$n package(s) updated from $SUITE-updates/$SUITE-security"
}

# Remove everything that is cache, log or host-specific: ~206 MB -> ~120 MB.
clean_rootfs() {
  local root=$1
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/archives/partial/* \
    "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old \
    "$root"/var/log/apt/* "$root"/var/log/*.log "$root"/tmp/* "$root"/var/tmp/*
  # debootstrap copied the host's resolv.conf and hostname; Docker bind-mounts its own.
  : >"$root/etc/resolv.conf"
  : >"$root/etc/hostname"
}

build_tarball() {
  [[ $EUID -eq 0 ]] || die "building the base rootfs needs root (debootstrap, chroot); run as root"
  command -v debootstrap >/dev/null || die "debootstrap is not installed: make system-deps (as root) installs it"
  command -v unshare >/dev/null || die "unshare (util-linux) is not installed"
  mkdir -p "$CACHE_DIR/rootfs"
  local work
  work=$(mktemp -d "$CACHE_DIR/rootfs/build.XXXXXX")
  # --one-file-system: belt and braces against deleting through a mount point
  at_exit rm -rf --one-file-system -- "$work"

  local t0
  t0=$(now_ms); log "debootstrap $SUITE minbase from $DEBIAN_MIRROR (log: $CACHE_DIR/logs/debootstrap.log)"
  debootstrap_rootfs "$work/rootfs"
  log "debootstrap finished in $(elapsed "$t0")s, rootfs $(du -sh "$work/rootfs" | cut -f1)"
  configure_rootfs "$work/rootfs"
  t0=$(now_ms); log "apt-get full-upgrade inside the rootfs (log: $CACHE_DIR/logs/apt-upgrade.log)"
  upgrade_rootfs "$work/rootfs"
  log "upgrade finished in $(elapsed "$t0")s"
  clean_rootfs "$work/rootfs"
  log "cleaned rootfs: $(du -sh "$work/rootfs" | cut -f1)"
  # numeric owners: the image must not depend on the host's user database
  tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .
  mv -f "$work/rootfs.tar" "$tarball"      # atomic: a half-written tarball is never cached
}

# --- main --------------------------------------------------------------------------------------

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "$BASE_IMAGE exists, skipping (docker rmi it to rebuild)"
  exit 0
fi
if [[ -s $tarball ]]; then
  log "reusing cached rootfs $tarball"
else
  build_tarball
fi
log "docker import -> $BASE_IMAGE"
docker import \
  -c 'CMD ["bash"]' \
  -c 'LABEL io.swarmgate.image=base' \
  -m "debootstrap --variant=minbase $SUITE $DEBIAN_MIRROR (swarmgate deploy/scripts/base-image.sh)" \
  "$tarball" "$BASE_IMAGE" >/dev/null
log "$BASE_IMAGE: $(docker image inspect -f '{{.Size}}' "$BASE_IMAGE" | numfmt --to=si)B"
