/**
 * The partials of the NGINX template (templates.ts): a location's body, an upstream, a server, the
 * split_clients blocks. Same conventions: user data only as "{{x}}" in double quotes (escaped by the
 * renderer), triple braces only for Tokens, every decision precomputed in view-model.ts.
 */
export const body = `            set $sg_route "{{route}}";
{{#forbidden}}
            if ({{{variable}}} = {{value}}) { return 403; }
{{/forbidden}}
{{#maintenance}}
            default_type text/plain;
            add_header Retry-After "{{retryAfter}}" always;
            return 503 "{{message}}\\n";
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
{{#rewritePrefix}}
            rewrite "{{pattern}}" "{{replacement}}$1" break;
{{/rewritePrefix}}
{{#rewriteExact}}
            rewrite "{{pattern}}" "{{replacement}}" break;
{{/rewriteExact}}
{{#dynamic}}
            set $sg_upstream {{{target}}};
            proxy_pass http://sg_dynamic;
{{/dynamic}}
{{^dynamic}}
            proxy_pass http://{{{target}}};
{{/dynamic}}
{{#connectTimeout}}
            proxy_connect_timeout {{connectTimeout}};
{{/connectTimeout}}
{{#readTimeout}}
            proxy_read_timeout {{readTimeout}};
{{/readTimeout}}
{{#sendTimeout}}
            proxy_send_timeout {{sendTimeout}};
{{/sendTimeout}}
{{#nextUpstream}}
            proxy_next_upstream {{nextUpstream}};
            proxy_next_upstream_tries {{tries}};
{{/nextUpstream}}
{{#customHeaders}}
{{#fixedHeaders}}
            proxy_set_header "{{name}}" {{{ref}}};
{{/fixedHeaders}}
{{#userHeaders}}
            proxy_set_header "{{name}}" "{{value}}";
{{/userHeaders}}
{{#websocket}}
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $sg_connection_upgrade;
{{/websocket}}
{{^websocket}}
            proxy_set_header Connection "";
{{/websocket}}
{{/customHeaders}}
{{#hideHeaders}}
            proxy_hide_header "{{.}}";
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
        listen {{httpPort}}{{#defaultServer}} default_server{{/defaultServer}};
{{/listenHttp}}
{{#tlsListener}}
        listen {{{tlsInternal}}} ssl proxy_protocol{{#defaultServer}} default_server{{/defaultServer}};
{{/tlsListener}}
        server_name "{{serverName}}";
{{#drain}}
        if (-f "{{flagPath}}") { set $sg_draining 1; }
{{/drain}}
{{#tls}}
        ssl_certificate "{{cert}}";
        ssl_certificate_key "{{key}}";
{{/tls}}
{{#rejectTls}}
        ssl_reject_handshake on;
{{/rejectTls}}
        error_page 502 = @sg_502;
{{#httpsRedirect}}
        if ($scheme = "http") {
            return 308 "https://$host{{portSuffix}}$request_uri";
        }
{{/httpsRedirect}}
{{#fixed503}}
        location / {
            return 503;
        }
{{/fixed503}}
{{#locations}}
        location {{#exact}}= {{/exact}}"{{path}}" {
{{#dispatch}}
            error_page {{code}} = {{{target}}};
{{/dispatch}}
{{#ownErrorPages}}
            error_page 502 = @sg_502;
{{/ownErrorPages}}
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
        location @sg_502 {
            if ($sg_backup_gone) { return 503 "no task of this backend is reachable\\n"; }
            return 502;
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
