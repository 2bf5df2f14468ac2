#!/usr/bin/env bash
# Backends of examples/haproxy, port 8080: shop-api (1 task), shop-v1 (2) and shop-v2 (1); and the
# secrets shop.crt / shop.key, a self-signed certificate for shop.example.com made here by openssl.
# Usage: examples/haproxy/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  secret_pair shop.crt shop.key shop.example.com
  backend shop-api 1
  backend shop-v1 2
  backend shop-v2 1
}
example_main "$@"
