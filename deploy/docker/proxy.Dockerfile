# swarmgate/proxy for machines with a registry: Debian's NGINX on debian:bookworm-slim.
# (Offline equivalent without pulls: offline/proxy.Dockerfile, built by `make images`.)
#
#   docker build -f deploy/docker/proxy.Dockerfile -t swarmgate/proxy:latest .
#
# Context: the repository root (only deploy/nginx/nginx.conf is used; with BuildKit,
# proxy.Dockerfile.dockerignore keeps the rest out of the context).
FROM debian:bookworm-slim

# nginx-light has everything the rendered configs use except `stream` (SNI routing), which
# Debian ships as the dynamic module libnginx-mod-stream. Logs go to the container's
# stdout/stderr, also for configs that name Debian's default log files.
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        nginx-light libnginx-mod-stream ca-certificates; \
    rm -rf /var/lib/apt/lists/*; \
    rm -f /etc/nginx/sites-enabled/default; \
    ln -sf /dev/stdout /var/log/nginx/access.log; \
    ln -sf /dev/stderr /var/log/nginx/error.log

# Answers 503 on port 80 until swarmgate delivers a configuration.
COPY deploy/nginx/nginx.conf /etc/nginx/nginx.conf
RUN nginx -t

ARG VERSION=dev
LABEL org.opencontainers.image.title="swarmgate-proxy" \
      org.opencontainers.image.version="${VERSION}" \
      io.swarmgate.image="proxy"

EXPOSE 80 443
# SIGQUIT = graceful shutdown: NGINX finishes in-flight requests (SIGTERM would cut them off).
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
