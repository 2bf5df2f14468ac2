#!/usr/bin/env bash
# Backends of examples/blue-green: cart-blue (active) and cart-green (preview), 2 tasks each, port 8080.
# Usage: examples/blue-green/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend cart-blue 2
  backend cart-green 2
}
example_main "$@"
