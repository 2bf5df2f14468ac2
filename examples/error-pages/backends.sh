#!/usr/bin/env bash
# Backends of examples/error-pages: the service shop-front (1 task, port 8080), the service
# closed-shop (no task: the proxy answers 503), and the error page as a Swarm config labelled
# swarmgate.io/error-page (the label lets swarmgate see and mount it).
# Usage: examples/error-pages/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend shop-front 1
  backend closed-shop 0
  page_config shop-outage-page "$EXAMPLES_ROOT/examples/error-pages/outage.html"
}
example_main "$@"
