#!/usr/bin/env bash
# Backends of examples/tcp-udp: echo-a and echo-b (1 task each) answering one line per TCP
# connection on 7000 and per UDP datagram on 5353, and a self-signed certificate for db.example.com
# as two Docker secrets. The example's cluster "l4" publishes in host mode on 9000-9004 of this node.
# Usage: examples/tcp-udp/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  config_file sg-example-l4-backend "$EXAMPLES_ROOT/examples/tcp-udp/backend-l4.nginx.conf"
  secret_pair db.example.com.crt db.example.com.key db.example.com
  backend echo-a 1 --config src=sg-example-l4-backend,target=/etc/nginx/nginx.conf
  backend echo-b 1 --config src=sg-example-l4-backend,target=/etc/nginx/nginx.conf
}
example_main "$@"
