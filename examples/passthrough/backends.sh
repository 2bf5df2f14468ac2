#!/usr/bin/env bash
# Backends of examples/passthrough: vault, an NGINX serving its own TLS on 8200 (vault.nginx.conf,
# with a self-signed certificate for vault.example.com in the secrets vault-backend.crt/.key), and
# portal on port 3000; the secrets portal-wildcard.crt/.key, self-signed for *.portal.example.com,
# which the proxy terminates with. All certificates are made here by openssl.
# Usage: examples/passthrough/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  secret_pair portal-wildcard.crt portal-wildcard.key '*.portal.example.com'
  secret_pair vault-backend.crt vault-backend.key vault.example.com
  config_file sg-example-vault "$(dirname "$0")/vault.nginx.conf"
  backend vault 1 --config src=sg-example-vault,target=/etc/nginx/nginx.conf \
    --secret vault-backend.crt --secret vault-backend.key
  backend portal 1
}
example_main "$@"
