#!/usr/bin/env bash
# Backends of examples/basic-auth: the service dashboard (1 task, port 8080) and the Docker secret
# staff-users-v1 with one user, alice / s3cret (SHA-512 crypt; make your own with htpasswd -nbB).
# Usage: examples/basic-auth/backends.sh [up|down]   (the recipe: deploy/scripts/example-backends.sh)
source "$(dirname "$0")/../../deploy/scripts/example-backends.sh"
backends() {
  backend dashboard 1
  if ! docker secret inspect staff-users-v1 >/dev/null 2>&1; then
    printf 'alice:%s\n' "$(openssl passwd -6 's3cret')" | docker secret create --label "$EXAMPLE_LABEL=true" staff-users-v1 - >/dev/null
    ex_log "secret staff-users-v1 created (user alice)"
  fi
}
example_main "$@"
