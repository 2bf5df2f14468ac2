#!/usr/bin/env bash
# Backends of examples/service-clusters: store (port 80) on the overlay network frontend, the only
# one the "public" cluster may join; reports (port 8080). The public cluster's placement needs nodes
# labelled edge=true and a zone: this node gets edge=true and zone=example-zone-a when it has no such
# label (`down` removes exactly these values).
# Usage: examples/service-clusters/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  node_label edge=true
  node_label zone=example-zone-a
  network frontend
  backend store 1 --network frontend
  backend reports 1
}
backends_down() {
  down_node_label edge=true
  down_node_label zone=example-zone-a
}
example_main "$@"
