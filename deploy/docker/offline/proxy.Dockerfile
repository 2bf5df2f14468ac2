# swarmgate/proxy without a registry: NGINX plus the swarmgate agent (hitless delivery), built
# FROM the swarmgate app image that `make images` builds first (deploy/scripts/images.sh).
# Build context streamed from the repository: deploy/docker/offline/proxy.Dockerfile,
# deploy/docker/proxy-init.sh, deploy/nginx/nginx.conf, deploy/haproxy/haproxy.cfg.
ARG APP_IMAGE=swarmgate/swarmgate:latest
FROM ${APP_IMAGE}

# NGINX logs go to the container's stdout/stderr, also for configs that name Debian's default
# log files. nginx-light, libnginx-mod-stream (SNI routing), libnginx-mod-http-lua + lua-resty-core (dynamic endpoints) and tini come with the app image.
RUN ln -sf /dev/stdout /var/log/nginx/access.log; \
    ln -sf /dev/stderr /var/log/nginx/error.log

# Answers 503 on port 80 until swarmgate delivers a configuration.
COPY deploy/nginx/nginx.conf /etc/nginx/nginx.conf
RUN nginx -t

# The same for HAProxy (proxy.kind: haproxy; haproxy comes with the app image). HAProxy tasks run
# `swarmgate proxy-agent --kind haproxy` (hitless, or --standalone for rolling delivery), which builds
# the combined TLS PEM files under /run/swarmgate/haproxy/certs and runs `haproxy -W -db`.
COPY deploy/haproxy/haproxy.cfg /etc/haproxy/haproxy.cfg
RUN haproxy -c -f /etc/haproxy/haproxy.cfg

ARG VERSION=dev
LABEL org.opencontainers.image.title="swarmgate-proxy" \
      org.opencontainers.image.version="${VERSION}" \
      io.swarmgate.image="proxy"

EXPOSE 80 443
# SIGQUIT = graceful shutdown: NGINX finishes in-flight requests (SIGTERM would cut them off).
STOPSIGNAL SIGQUIT
# Rolling delivery runs NGINX alone (the core mounts each config as /etc/nginx/nginx.conf);
# hitless delivery runs `swarmgate proxy-agent`, which starts NGINX (or HAProxy) and reloads it in place.
# PID 1: a small shell loop that starts `swarmgate proxy-agent` (the agent's supervisor) again when it
# dies, while the proxy keeps serving (ADR 0018); any other command runs under tini as before.
COPY deploy/docker/proxy-init.sh /usr/local/bin/swarmgate-proxy-init
RUN chmod 0755 /usr/local/bin/swarmgate-proxy-init
ENTRYPOINT ["/usr/local/bin/swarmgate-proxy-init"]
CMD ["nginx", "-g", "daemon off;"]
