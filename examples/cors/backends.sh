#!/usr/bin/env bash
# Backends of examples/cors: the service spa-api (1 task, port 8080).
# Usage: examples/cors/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend spa-api 1
}
example_main "$@"
