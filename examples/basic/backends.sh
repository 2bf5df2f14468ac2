#!/usr/bin/env bash
# Backends of examples/basic: the service hello (2 tasks), port 8080.
# Usage: examples/basic/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend hello 2
}
example_main "$@"
