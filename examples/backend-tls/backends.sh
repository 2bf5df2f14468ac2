#!/usr/bin/env bash
# Backends of examples/backend-tls: billing, an NGINX serving HTTPS on 8443 (billing.nginx.conf) with a
# certificate for billing.internal signed by a throw-away CA made here by openssl; the secrets
# billing-ca.pem (the CA certificate the proxy verifies with; its key is deleted at once) and
# billing-backend.crt/.key (the backend's certificate).
# Usage: examples/backend-tls/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"

# ca_and_leaf: the three secrets, unless they exist.
ca_and_leaf() {
  local dir
  if docker secret inspect billing-ca.pem >/dev/null 2>&1 && docker secret inspect billing-backend.crt >/dev/null 2>&1 \
    && docker secret inspect billing-backend.key >/dev/null 2>&1; then return; fi
  dir=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=billing example CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=billing.internal \
    -keyout "$dir/leaf.key" -out "$dir/leaf.csr" 2>/dev/null
  printf 'subjectAltName=DNS:billing.internal\nextendedKeyUsage=serverAuth\n' >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/leaf.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial 1 -days 30 \
    -extfile "$dir/ext.cnf" -out "$dir/leaf.crt" 2>/dev/null
  docker secret create --label "$EXAMPLE_LABEL=true" billing-ca.pem "$dir/ca.pem" >/dev/null
  docker secret create --label "$EXAMPLE_LABEL=true" billing-backend.crt "$dir/leaf.crt" >/dev/null
  docker secret create --label "$EXAMPLE_LABEL=true" billing-backend.key "$dir/leaf.key" >/dev/null
  rm -rf "$dir"
  ex_log "secrets billing-ca.pem, billing-backend.crt and billing-backend.key created (a CA and a certificate for billing.internal)"
}

backends() {
  ca_and_leaf
  config_file sg-example-billing "$(dirname "$0")/billing.nginx.conf"
  backend billing 1 --config src=sg-example-billing,target=/etc/nginx/nginx.conf \
    --secret billing-backend.crt --secret billing-backend.key
}
example_main "$@"
