#!/usr/bin/env bash
# Backends of examples/acme: the service secure-shop, and an ACME server for the Issuer "pebble":
# Debian's pebble (a test CA) and pebble-challtestsrv (its DNS: every name resolves to 127.0.0.1, so
# pebble validates HTTP-01 on the cluster's host-mode port 8091), run as processes on this host.
# pebble listens on the host's docker_gwbridge address 172.18.0.1:14000 (issuer.yaml), which the
# core's task can dial; its management interface (the root to trust) on 127.0.0.1:15000. Its HTTPS
# certificate is made here by openssl and stored as the Docker config acme-pebble-ca.
# State and logs: $ACME_EXAMPLE_DIR (default /tmp/swarmgate-example-acme). Needs: apt-get install pebble.
# Usage: examples/acme/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
DIR=${ACME_EXAMPLE_DIR:-/tmp/swarmgate-example-acme}
GATEWAY=172.18.0.1

start_pebble() {
  command -v pebble >/dev/null || ex_die "pebble is not installed (apt-get install pebble)"
  local gw
  gw=$(docker network inspect docker_gwbridge --format '{{(index .IPAM.Config 0).Gateway}}')
  [[ $gw == "$GATEWAY" ]] || ex_die "docker_gwbridge's gateway is $gw, not $GATEWAY: use $gw in examples/acme/issuer.yaml and here"
  mkdir -p "$DIR"
  if [[ -f $DIR/pebble.pid ]] && kill -0 "$(cat "$DIR/pebble.pid")" 2>/dev/null; then
    ex_log "pebble already running (pid $(cat "$DIR/pebble.pid"))"
  else
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=pebble \
      -addext "subjectAltName=IP:$GATEWAY,IP:127.0.0.1,DNS:localhost" -keyout "$DIR/key.pem" -out "$DIR/cert.pem" 2>/dev/null
    cat >"$DIR/pebble.json" <<JSON
{ "pebble": { "listenAddress": "$GATEWAY:14000", "managementListenAddress": "127.0.0.1:15000",
  "certificate": "$DIR/cert.pem", "privateKey": "$DIR/key.pem", "httpPort": 8091, "tlsPort": 5001,
  "ocspResponderURL": "", "externalAccountBindingRequired": false } }
JSON
    pebble-challtestsrv -dns01 127.0.0.1:8053 -http01 '' -https01 '' -tlsalpn01 '' -management 127.0.0.1:8055 \
      -defaultIPv4 127.0.0.1 -defaultIPv6 '' >"$DIR/challtestsrv.log" 2>&1 &
    echo $! >"$DIR/challtestsrv.pid"
    PEBBLE_VA_NOSLEEP=1 pebble -config "$DIR/pebble.json" -dnsserver 127.0.0.1:8053 >"$DIR/pebble.log" 2>&1 &
    echo $! >"$DIR/pebble.pid"
    local i
    for i in $(seq 1 50); do curl -sf --cacert "$DIR/cert.pem" "https://$GATEWAY:14000/dir" >/dev/null && break; sleep 0.2; done
    curl -sf --cacert "$DIR/cert.pem" "https://$GATEWAY:14000/dir" >/dev/null || ex_die "pebble did not start: $DIR/pebble.log"
    ex_log "pebble running on https://$GATEWAY:14000/dir (logs: $DIR/pebble.log)"
  fi
  if ! docker config inspect acme-pebble-ca >/dev/null 2>&1; then
    docker config create --label "$EXAMPLE_LABEL=true" acme-pebble-ca "$DIR/cert.pem" >/dev/null
    ex_log "config acme-pebble-ca created (pebble's HTTPS certificate)"
  fi
}

backends() {
  start_pebble
  backend secure-shop 1
}
backends_down() {
  local p
  for p in pebble challtestsrv; do
    if [[ -f $DIR/$p.pid ]]; then
      kill "$(cat "$DIR/$p.pid")" 2>/dev/null || true
      rm -f "$DIR/$p.pid"
      ex_log "$p stopped"
    fi
  done
}
example_main "$@"
