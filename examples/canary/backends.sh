#!/usr/bin/env bash
# Backends of examples/canary, port 8080: api-v1 (5 tasks) and api-v2 (1 task) for route.yaml;
# shop-v1 (2) and shop-v2 (1) for progressive.yaml, and shop-tester, the stub its webhooks call.
#
# The core calls webhooks from its own task, which is only on the network swarmgate-control; the stub
# joins that network (so swarmgate must be installed first) with DNS round-robin endpoints, so the
# name shop-tester resolves to the stub's task without a service VIP. It answers 200 to any request.
# Usage: examples/canary/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend api-v1 5
  backend api-v2 1
  backend shop-v1 2
  backend shop-v2 1
  docker network inspect swarmgate-control >/dev/null 2>&1 \
    || ex_die "network swarmgate-control not found: run swarmgate install first (the webhook stub joins it)"
  backend shop-tester 1 --network swarmgate-control --endpoint-mode dnsrr
}
example_main "$@"
