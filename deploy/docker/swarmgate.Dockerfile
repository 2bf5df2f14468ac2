# swarmgate/swarmgate for machines with a registry (and working npm inside containers).
# (Offline equivalent without pulls: offline/swarmgate.Dockerfile, built by `make images`.)
#
#   docker build -f deploy/docker/swarmgate.Dockerfile -t swarmgate/swarmgate:latest .
#
# Context: the repository root (package.json, package-lock.json, tsconfig*.json, src/; with
# BuildKit, swarmgate.Dockerfile.dockerignore keeps node_modules/ and the rest out).

# --- build: all dependencies, compile TypeScript to dist/ -------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the only install scripts in the tree build optional native add-ons
# (ssh2/cpu-features) that swarmgate does not need.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- deps: production dependencies only --------------------------------------------------------
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# --- runtime -------------------------------------------------------------------------------------
FROM node:20-bookworm-slim
# tini: Node as PID 1 ignores SIGTERM, so every task stop would wait out the grace period.
# nginx-light + libnginx-mod-stream (+ libnginx-mod-http-lua, lua-resty-core: dynamic endpoints, ADR 0016), haproxy: swarmgate validates rendered configs with `nginx -t`
# and `haproxy -c` (proxy.kind: haproxy), and the proxy image runs either;
# openssl: a throw-away certificate stands in for TLS secrets during that check;
# libjemalloc2: the allocator the agent runs NGINX with (memory after a reload as before it, ADR 0040).
RUN set -eux; \
    apt-get update; \
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        tini nginx-light libnginx-mod-stream libnginx-mod-http-lua lua-resty-core libjemalloc2 haproxy openssl; \
    rm -rf /var/lib/apt/lists/*; \
    rm -f /etc/nginx/sites-enabled/default; \
    haproxy -v

ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY package.json ./
COPY --from=build /src/dist ./dist
# `swarmgate` on the PATH: hitless proxies run `swarmgate proxy-agent` (see proxy.Dockerfile).
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli/main.js "$@"\n' >/usr/local/bin/swarmgate \
    && chmod 0755 /usr/local/bin/swarmgate

ARG VERSION=dev
LABEL org.opencontainers.image.title="swarmgate" \
      org.opencontainers.image.version="${VERSION}" \
      io.swarmgate.image="swarmgate"

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
