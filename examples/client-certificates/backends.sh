#!/usr/bin/env bash
# Backends of examples/client-certificates: partners (partners.nginx.conf, which echoes the
# X-Client-Cert-* headers), the secrets partners.example.com.crt/.key (self-signed for
# partners.example.com and portal.partners.example.com), a throw-away client CA made here by openssl
# (secret partners-clients-ca.pem; its key is deleted at once), two client certificates it signs,
# alice and mallory, and a CRL revoking mallory (secret partners-clients.crl, valid 30 days).
# The client certificates are written to $CLIENT_CERTS_DIR (default /tmp/swarmgate-client-certificates)
# for curl: alice.crt/.key, mallory.crt/.key.
# Usage: examples/client-certificates/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
CLIENT_CERTS_DIR=${CLIENT_CERTS_DIR:-/tmp/swarmgate-client-certificates}

# client_ca: the CA and CRL secrets and the two client certificates, unless they exist.
client_ca() {
  local dir
  if docker secret inspect partners-clients-ca.pem >/dev/null 2>&1 && docker secret inspect partners-clients.crl >/dev/null 2>&1 \
    && [[ -f $CLIENT_CERTS_DIR/alice.crt && -f $CLIENT_CERTS_DIR/mallory.crt ]]; then return; fi
  docker secret rm partners-clients-ca.pem partners-clients.crl >/dev/null 2>&1 || true
  dir=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=partners example CA" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
  mkdir -p "$CLIENT_CERTS_DIR"
  local who serial=1
  printf 'extendedKeyUsage=clientAuth\n' >"$dir/ext.cnf"
  for who in alice mallory; do
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$who" \
      -keyout "$CLIENT_CERTS_DIR/$who.key" -out "$dir/$who.csr" 2>/dev/null
    openssl x509 -req -in "$dir/$who.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "$serial" -days 30 \
      -extfile "$dir/ext.cnf" -out "$CLIENT_CERTS_DIR/$who.crt" 2>/dev/null
    serial=$((serial + 1))
  done
  # A CRL revoking mallory (`openssl ca` keeps revocations in an index file).
  : >"$dir/index.txt"
  printf '[ca]\ndefault_ca = d\n[d]\ndatabase = %s\ndefault_md = sha256\ndefault_crl_days = 30\ncertificate = %s\nprivate_key = %s\n' \
    "$dir/index.txt" "$dir/ca.pem" "$dir/ca.key" >"$dir/ca.cnf"
  openssl ca -config "$dir/ca.cnf" -revoke "$CLIENT_CERTS_DIR/mallory.crt" 2>/dev/null
  openssl ca -config "$dir/ca.cnf" -gencrl -out "$dir/crl.pem" 2>/dev/null
  docker secret create --label "$EXAMPLE_LABEL=true" partners-clients-ca.pem "$dir/ca.pem" >/dev/null
  docker secret create --label "$EXAMPLE_LABEL=true" partners-clients.crl "$dir/crl.pem" >/dev/null
  rm -rf "$dir"
  ex_log "secrets partners-clients-ca.pem and partners-clients.crl created; client certificates in $CLIENT_CERTS_DIR (mallory's is revoked)"
}

backends() {
  secret_pair partners.example.com.crt partners.example.com.key partners.example.com portal.partners.example.com
  client_ca
  config_file sg-example-partners "$(dirname "$0")/partners.nginx.conf"
  backend partners 1 --config src=sg-example-partners,target=/etc/nginx/nginx.conf
}
backends_down() {
  rm -rf "$CLIENT_CERTS_DIR"
}
example_main "$@"
