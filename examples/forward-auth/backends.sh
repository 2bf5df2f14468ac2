#!/usr/bin/env bash
# Backends of examples/forward-auth: the app team-wiki (1 task, port 8080) and the auth service
# sso-auth (1 task, port 9091; NGINX with auth.nginx.conf standing in for Authelia). The example's
# cluster "sso" publishes in host mode on 8088/8451 of this node.
# Usage: examples/forward-auth/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend team-wiki 1
  config_file sg-example-forward-auth "$EXAMPLES_ROOT/examples/forward-auth/auth.nginx.conf"
  backend sso-auth 1 --config src=sg-example-forward-auth,target=/etc/nginx/nginx.conf
}
example_main "$@"
