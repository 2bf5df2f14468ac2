# swarmgate/swarmgate without a registry (and without npm inside containers): everything
# Node-related is produced on the host and copied in. FROM the Debian base that `make images`
# debootstraps and imports (deploy/scripts/base-image.sh).
# Built by deploy/scripts/images.sh with a context streamed from the host:
#   node            the host's Node 20 binary (needs only libc6, libstdc++6, libgcc-s1: in the base)
#   node_modules/   production dependencies: `npm ci --omit=dev` in deploy/.cache/stage/
#   package.json
#   dist/           the compiled app (`npm run build`)
ARG BASE_IMAGE=swarmgate/debian:bookworm
FROM ${BASE_IMAGE}

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

# Layers ordered from least to most often changed, so a code change rebuilds only dist/.
COPY node /usr/local/bin/node
ENV NODE_ENV=production
WORKDIR /app
COPY node_modules/ /app/node_modules/
COPY package.json /app/package.json
COPY dist/ /app/dist/
# `swarmgate` on the PATH: hitless proxies run `swarmgate proxy-agent` (see proxy.Dockerfile).
RUN printf '#!/bin/sh\nexec node /app/dist/src/cli/main.js "$@"\n' >/usr/local/bin/swarmgate \
    && chmod 0755 /usr/local/bin/swarmgate

ARG VERSION=dev
LABEL org.opencontainers.image.title="swarmgate" \
      org.opencontainers.image.version="${VERSION}" \
      io.swarmgate.image="swarmgate"

ENTRYPOINT ["/usr/bin/tini", "--", "node", "/app/dist/src/cli/main.js"]
CMD ["--help"]
