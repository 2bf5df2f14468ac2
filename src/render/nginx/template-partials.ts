/**
 * The partials of the NGINX template (templates.ts): a location's body, an upstream, a server, the
 * split_clients blocks. Same conventions: user data only as "{{x}}" in double quotes (escaped by the
 * renderer), triple braces only for Tokens, every decision precomputed in view-model.ts.
 * Dynamic endpoints: `set $sg_upstream` comes before any `rewrite … break`, which ends the rewrite
 * module's directives of the location (a `set` after it never runs: the balancer found no upstream
 * and every rewritten rule answered 503; examples-walk found it, ADR 0039).
 */
export const body = `            set $sg_route "{{route}}";
{{#noTaskPage}}
            set $sg_page_503 "{{noTaskPage}}";
{{/noTaskPage}}
{{#forbidden}}
            if ({{{variable}}} = {{value}}) { return 403; }
{{/forbidden}}
{{#maintenance}}
{{#pageUri}}
            error_page 503 "{{pageUri}}";
            return 503;
{{/pageUri}}
{{^pageUri}}
            default_type text/plain;
            add_header Retry-After "{{retryAfter}}" always;
            return 503 "{{message}}\\n";
{{/pageUri}}
{{/maintenance}}
{{#cors}}
            if ({{{preflight}}} = 1) {
                add_header Access-Control-Allow-Origin {{{allowOrigin}}} always;
{{#credentials}}
                add_header Access-Control-Allow-Credentials {{{credentials}}} always;
{{/credentials}}
                add_header Access-Control-Allow-Methods "{{methods}}" always;
{{#headers}}
                add_header Access-Control-Allow-Headers "{{headers}}" always;
{{/headers}}
                add_header Access-Control-Max-Age "{{maxAge}}" always;
                add_header Vary Origin always;
{{#drain}}
                add_header Connection $sg_drain_connection always;
{{/drain}}
                return 204;
            }
            add_header Access-Control-Allow-Origin {{{allowOrigin}}} always;
{{#credentials}}
            add_header Access-Control-Allow-Credentials {{{credentials}}} always;
{{/credentials}}
{{#expose}}
            add_header Access-Control-Expose-Headers {{{expose}}} always;
{{/expose}}
            add_header Vary Origin always;
{{/cors}}
{{#basicAuth}}
            auth_basic "{{realm}}";
            auth_basic_user_file "{{file}}";
{{/basicAuth}}
{{#forwardAuth}}
            auth_request "{{uri}}";
            auth_request_set $sg_acl_auth_status $upstream_status;
            auth_request_set $sg_acl_auth_location $upstream_http_location;
{{#copy}}
            auth_request_set {{{variable}}} {{{source}}};
{{/copy}}
            error_page 401 = @sg_auth_401;
            error_page 500 = @sg_auth_500;
            error_page 502 = @sg_502;
{{/forwardAuth}}
{{#errorPages}}
            # errorPages: after forwardAuth's error_page lines, which win for the auth service's answers.
            recursive_error_pages on;
{{#lines}}
            error_page {{codes}} "{{uri}}";
{{/lines}}
{{#keep502}}
            error_page 502 = @sg_502;
{{/keep502}}
{{/errorPages}}
{{#maxBodySize}}
            client_max_body_size {{maxBodySize}};
{{/maxBodySize}}
{{#requestBuffering}}
            proxy_request_buffering {{requestBuffering}};
{{/requestBuffering}}
{{#gzip}}
            gzip on;
            gzip_proxied any;
            gzip_vary on;
            gzip_types{{#types}} "{{.}}"{{/types}};
{{/gzip}}
{{#limitReq}}
            limit_req zone={{{zone}}}{{#burst}} burst={{burst}} nodelay{{/burst}};
{{/limitReq}}
{{#limitConn}}
            limit_conn {{{zone}}} {{max}};
{{/limitConn}}
{{#limitStatus}}
            limit_req_status 429;
            limit_conn_status 429;
{{/limitStatus}}
{{#retryAfter}}
            add_header Retry-After {{{retryAfter}}} always;
{{/retryAfter}}
{{#unavailable}}
            return 503;
{{/unavailable}}
{{#redirect}}
{{#addHeaders}}
            add_header "{{name}}" "{{value}}" always;
{{/addHeaders}}
            return {{code}} "{{#parts}}{{lit}}{{{ref}}}{{/parts}}";
{{/redirect}}
{{#proxy}}
{{#dynamic}}
{{#dataSplit}}
            set_by_lua $sg_upstream "return sg.split(ngx.arg[1])" "={{{dataSplit}}}";
{{/dataSplit}}
{{^dataSplit}}
            set $sg_upstream {{{target}}};
{{/dataSplit}}
{{/dynamic}}
{{#rewritePrefix}}
            rewrite "{{pattern}}" "{{replacement}}$1" break;
{{/rewritePrefix}}
{{#rewriteExact}}
            rewrite "{{pattern}}" "{{replacement}}" break;
{{/rewriteExact}}
{{#dynamic}}
            {{{module}}}_pass {{{scheme}}}://sg_dynamic;
{{/dynamic}}
{{^dynamic}}
            {{{module}}}_pass {{{scheme}}}://{{{target}}};
{{/dynamic}}
{{#interceptErrors}}
            {{{module}}}_intercept_errors on;
{{/interceptErrors}}
{{#upstreamTls}}
            {{{module}}}_ssl_session_reuse off;
{{#upstreamSni}}
            {{{module}}}_ssl_server_name on;
            {{{module}}}_ssl_name "{{upstreamSni}}";
{{/upstreamSni}}
{{#upstreamCa}}
            {{{module}}}_ssl_verify on;
            {{{module}}}_ssl_trusted_certificate "{{upstreamCa}}";
{{/upstreamCa}}
{{#upstreamClientCert}}
            {{{module}}}_ssl_certificate "{{upstreamClientCert}}";
            {{{module}}}_ssl_certificate_key "{{upstreamClientKey}}";
{{/upstreamClientCert}}
{{/upstreamTls}}
{{#connectTimeout}}
            {{{module}}}_connect_timeout {{connectTimeout}};
{{/connectTimeout}}
{{#readTimeout}}
            {{{module}}}_read_timeout {{readTimeout}};
{{/readTimeout}}
{{#sendTimeout}}
            {{{module}}}_send_timeout {{sendTimeout}};
{{/sendTimeout}}
{{#nextUpstream}}
            {{{module}}}_next_upstream {{nextUpstream}};
            {{{module}}}_next_upstream_tries {{tries}};
{{/nextUpstream}}
{{#customHeaders}}
{{#fixedHeaders}}
            {{{module}}}_set_header "{{name}}" {{{ref}}};
{{/fixedHeaders}}
{{#userHeaders}}
            {{{module}}}_set_header "{{name}}" "{{value}}";
{{/userHeaders}}
{{#websocket}}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $sg_connection_upgrade;
{{/websocket}}
{{^websocket}}
{{^grpc}}
            proxy_set_header Connection "";
{{/grpc}}
{{/websocket}}
{{/customHeaders}}
{{#hideHeaders}}
            {{{module}}}_hide_header "{{.}}";
{{/hideHeaders}}
{{#addHeaders}}
            add_header "{{name}}" "{{value}}" always;
{{/addHeaders}}
{{#setCookie}}
            add_header Set-Cookie {{{setCookie}}} always;
{{/setCookie}}
{{#pinCookie}}
            add_header Set-Cookie "{{cookie}}={{{token}}}.{{{tag}}}; Path=/; Max-Age={{maxAge}}; HttpOnly; SameSite=Lax" always;
{{/pinCookie}}
{{/proxy}}
{{#ownAddHeaders}}
{{#drain}}
            add_header Connection $sg_drain_connection always;
{{/drain}}
{{/ownAddHeaders}}
`;

export const upstream = `    upstream {{{name}}} {
{{#hash}}
        hash {{{hash}}} consistent;
{{/hash}}
{{#servers}}
        server {{{address}}} max_fails={{maxFails}} fail_timeout={{failTimeout}};
{{/servers}}
{{#backup}}
        server {{{backup}}} backup;
{{/backup}}
{{#keepalive}}
        keepalive 32;
{{/keepalive}}
    }
`;

export const server = `    server {
{{#listenHttp}}
        listen {{httpPort}}{{#defaultServer}} default_server{{/defaultServer}}{{#h2c}} http2{{/h2c}}{{#proxyProtocol}} proxy_protocol{{/proxyProtocol}};
{{/listenHttp}}
{{#tlsListener}}
        listen {{{tlsInternal}}} ssl proxy_protocol http2{{#defaultServer}} default_server{{/defaultServer}};
{{/tlsListener}}
{{^tableHosts}}
        server_name "{{serverName}}";
{{/tableHosts}}
{{#routeTable}}
        # Routes as data (ADR 0050): these hosts' paths and upstreams are lines of the endpoint set.
        server_name
{{{tableHostsText}}}            ;
{{/routeTable}}
{{#forwardedFor}}
        # clientAddress XForwardedFor: the last address of X-Forwarded-For, from trusted proxies only.
        real_ip_header X-Forwarded-For;
{{#trusted}}
        set_real_ip_from "{{.}}";
{{/trusted}}
{{/forwardedFor}}
{{#drain}}
{{#byLua}}
        set_by_lua_block $sg_draining { return sg.draining() }
{{/byLua}}
{{^byLua}}
        if (-f "{{flagPath}}") { set $sg_draining 1; }
{{/byLua}}
{{/drain}}
{{#tls}}
        ssl_certificate "{{cert}}";
        ssl_certificate_key "{{key}}";
{{/tls}}
{{#tlsByVariable}}
        # The shared TLS context (ADR 0028): hosts without a certificate of their own get theirs by SNI.
        ssl_certificate $sg_tls_cert;
        ssl_certificate_key $sg_tls_key;
{{/tlsByVariable}}
{{#clientCert}}
        ssl_client_certificate "{{ca}}";
        ssl_verify_client {{{verify}}};
        ssl_verify_depth {{depth}};
{{#crl}}
        ssl_crl "{{crl}}";
{{/crl}}
{{/clientCert}}
{{#rejectTls}}
        ssl_reject_handshake on;
{{/rejectTls}}
        error_page 502 = @sg_502;
{{#acmeHttp01}}
        location ^~ "/.well-known/acme-challenge/" {
            alias "{{dir}}";
            default_type text/plain;
        }
{{/acmeHttp01}}
{{#httpsRedirect}}
{{^acme}}
        if ($scheme = "http") {
{{/acme}}
{{#acme}}
        if ($sg_https_redirect) {
{{/acme}}
            return 308 "https://$host{{portSuffix}}$request_uri";
        }
{{/httpsRedirect}}
{{#plainRefused}}
        # A client certificate is asked for on HTTPS only: plain HTTP would bypass it.
{{^acme}}
        if ($scheme = "http") {
{{/acme}}
{{#acme}}
        if ($sg_https_redirect) {
{{/acme}}
            return 403 "client certificate required: use https\n";
        }
{{/plainRefused}}
{{#fixed503}}
        location / {
            return 503;
        }
{{/fixed503}}
{{#routeTable}}
        location / {
            rewrite_by_lua_block { sg.route() }
            proxy_pass http://sg_dynamic;
        }
{{/routeTable}}
{{#locations}}
        location {{#exact}}= {{/exact}}"{{path}}" {
{{#dispatch}}
            error_page {{code}} = {{{target}}};
{{/dispatch}}
{{#ownErrorPages}}
            error_page 502 = @sg_502;
{{/ownErrorPages}}
{{#recursiveErrorPages}}
            recursive_error_pages on;
{{/recursiveErrorPages}}
{{#dispatch}}
            if ({{{condition}}}) { return {{code}}; }
{{/dispatch}}
{{#body}}
{{> body}}
{{/body}}
{{^body}}
            return 404;
{{/body}}
        }
{{/locations}}
{{#named}}
        location {{{name}}} {
{{#body}}
{{> body}}
{{/body}}
        }
{{/named}}
{{#authAsks}}
{{#locations}}
        # forwardAuth: the auth service is asked here (a subrequest; "internal": clients cannot reach it).
        location = "{{path}}" {
            internal;
{{#urlTarget}}
{{#resolver}}
            resolver {{{resolver}}} valid=10s ipv6=off;
            resolver_timeout 5s;
{{/resolver}}
            set {{{variable}}} "{{value}}";
            proxy_pass {{{variable}}};
{{/urlTarget}}
{{^urlTarget}}
            proxy_pass "http://{{{target}}}{{authPath}}";
{{/urlTarget}}
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header Connection "";
            proxy_set_header X-Original-URL "$scheme://$http_host$request_uri";
            proxy_set_header X-Original-Method $request_method;
            proxy_set_header X-Forwarded-Method $request_method;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_set_header X-Forwarded-Uri $request_uri;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Request-Id $request_id;
            proxy_connect_timeout {{timeout}};
            proxy_send_timeout {{timeout}};
            proxy_read_timeout {{timeout}};
        }
{{/locations}}
        # The auth service answered 401: with a Location (Authelia's AuthRequest), send the client there;
        # else 401 (auth_request has already copied its WWW-Authenticate).
        location @sg_auth_401 {
            if ($sg_acl_auth_location != "") { return 302 $sg_acl_auth_location; }
            return 401;
        }
        # auth_request turns every other answer into 500: a 3xx is a redirect to the login; anything
        # else (no answer, timeout, 5xx) is the auth service's failure, told apart from the app's.
        location @sg_auth_500 {
            if ($sg_acl_auth_status ~ "^3") { return 302 $sg_acl_auth_location; }
            if ($sg_acl_auth_status = "") { return 500; }
            default_type text/plain;
            add_header X-Swarmgate-Error forward-auth always;
            return 502 "swarmgate: the authentication service failed ($sg_acl_auth_status)\\n";
        }
{{/authAsks}}
{{#pageLocations}}
        # errorPages: a mounted Swarm config, served with the status of the error that jumped here.
        location = "{{path}}" {
            internal;
            types { }
            default_type "{{contentType}}";
{{#retryAfter}}
            add_header Retry-After "{{retryAfter}}" always;
{{#drain}}
            add_header Connection $sg_drain_connection always;
{{/drain}}
{{/retryAfter}}
{{#retryVariable}}
            add_header Retry-After {{{retryVariable}}} always;
{{#drain}}
            add_header Connection $sg_drain_connection always;
{{/drain}}
{{/retryVariable}}
            alias "{{file}}";
        }
{{/pageLocations}}
{{#noTaskPages}}
        # errorPages: the loopback 503 server sent the request here (X-Accel-Redirect); the rule's 503 page if it has one.
        location @sg_no_task {
            default_type text/plain;
            if ($sg_page_503 = "") { return 503 "no task of this backend is reachable\\n"; }
            error_page 503 $sg_page_503;
            return 503;
        }
{{/noTaskPages}}
        location @sg_502 {
{{#luaBadGateway}}
            content_by_lua_block { sg.bad_gateway() }
{{/luaBadGateway}}
{{^luaBadGateway}}
            if ($sg_backup_gone) { return 503 "no task of this backend is reachable\\n"; }
            return 502;
{{/luaBadGateway}}
        }
    }
`;

export const splits = `{{#splits}}
    split_clients "{{{key}}}" {{{variable}}} {
{{#shares}}
        {{share}} {{{upstream}}};
{{/shares}}
    }
{{/splits}}
`;
