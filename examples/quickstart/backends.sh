#!/usr/bin/env bash
# Backends of examples/quickstart (what `make demo` creates): hello-v1 (3 tasks) and hello-v2 (1 task).
# Usage: examples/quickstart/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend hello-v1 3
  backend hello-v2 1
}
example_main "$@"
