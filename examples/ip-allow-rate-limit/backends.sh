#!/usr/bin/env bash
# Backends of examples/ip-allow-rate-limit: the service wiki (1 task, port 3000). The example's
# cluster "intranet" publishes in host mode on 8084/8447 of this node.
# Usage: examples/ip-allow-rate-limit/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend wiki 1
}
example_main "$@"
