#!/usr/bin/env bash
# Backends of examples/tls: shop-api (port 8080) and shop-web (2 tasks, port 80); the secrets
# shop.example.com.crt/.key (route.yaml), self-signed for shop.example.com and www.shop.example.com;
# and the stored certificate admin-shop (stored-certificate.yaml), self-signed for
# admin.shop.example.com and stored with `swarmgate tls apply` (needs the core installed: make build).
# Usage: examples/tls/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  secret_pair shop.example.com.crt shop.example.com.key shop.example.com www.shop.example.com
  stored_certificate admin-shop admin.shop.example.com
  backend shop-api 1
  backend shop-web 2
}
backends_down() {
  "${SWARMGATE_CMD[@]}" tls delete admin-shop >&2 || ex_log "stored certificate admin-shop kept (delete the routes using it first)"
}
example_main "$@"
