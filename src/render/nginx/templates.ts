/**
 * NGINX templates (mustache, logic-less). Conventions:
 * - user data only as "{{x}}" inside double quotes: the renderer's escape function quotes it for NGINX;
 * - triple braces only for Tokens (identifiers swarmgate generated, see ../token.ts);
 * - every decision lives in view-model.ts; a section here only tests a precomputed field.
 */
import { GENERATED_HEADER } from '../generated-header';
import { body, server, splits, upstream } from './template-partials';

const main = `${GENERATED_HEADER}{{#streamModulePath}}
load_module "{{streamModulePath}}";
{{/streamModulePath}}
{{#dynamic}}
load_module "{{{ndkModule}}}";
load_module "{{{luaModule}}}";
{{/dynamic}}
worker_processes {{workerProcesses}};
worker_shutdown_timeout 30s;
pid "{{pidPath}}";
error_log stderr warn;

events {
    worker_connections 4096;
}

http {
    server_tokens off;
    # $sg_route and $sg_draining are set only where they apply (declared in the 503 server below);
    # unset they are empty, which is what the log and the drain map expect.
    uninitialized_variable_warn off;
    server_names_hash_max_size 262144;
    # Buckets fit the longest legal host name (253) plus map keys derived from it.
    server_names_hash_bucket_size 512;
    map_hash_max_size 262144;
    map_hash_bucket_size 512;
    variables_hash_max_size 65536;
    variables_hash_bucket_size 128;
    client_max_body_size {{clientMaxBodySize}};
{{#proxyHeadersHash}}
    proxy_headers_hash_bucket_size {{bucketSize}};
{{/proxyHeadersHash}}
    proxy_http_version 1.1;
    # Defaults every location inherits; a location repeats a directive only to change it
    # (proxy_set_header is inherited all-or-nothing, so such a location repeats the whole set).
{{#defaults}}
{{#timeouts}}
    proxy_connect_timeout {{connect}};
    proxy_read_timeout {{read}};
    proxy_send_timeout {{send}};
{{/timeouts}}
    proxy_next_upstream {{nextUpstream}};
    proxy_next_upstream_tries {{tries}};
{{/defaults}}
{{#standardHeaders}}
    proxy_set_header "{{name}}" {{{ref}}};
{{/standardHeaders}}
    proxy_set_header Connection "";
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache shared:sg_ssl:10m;
    # Client address from the SNI router's PROXY protocol header on the loopback TLS listener.
    set_real_ip_from 127.0.0.1;
{{#proxyProtocol}}
    # clientAddress ProxyProtocol: the HTTP port's PROXY header is believed from these.
{{#trusted}}
    set_real_ip_from "{{.}}";
{{/trusted}}
{{/proxyProtocol}}
    real_ip_header proxy_protocol;

    log_format sg_json escape=json '{"time":"$time_iso8601","client":"$remote_addr","host":"$host",'
        '"method":"$request_method","uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,'
        '"route":"$sg_route","upstream":"{{{upstreamVariable}}}","upstream_addr":"$upstream_addr",'
        '"request_time":$request_time,"upstream_time":"$upstream_response_time","request_id":"$request_id"}';
{{#trafficLog}}
    # One line per request to the proxy agent (loopback UDP syslog): per-upstream request, 5xx and
    # latency counters for canary analysis and metrics. Lossy by design, never blocks a request.
    log_format sg_traffic 'sgm {{{upstreamVariable}}} $status \${request_time}s';
{{/trafficLog}}
{{#accessLog}}
    access_log "{{accessLogPath}}" sg_json;
{{/accessLog}}
{{#trafficLog}}
    access_log "syslog:server=127.0.0.1:{{port}},nohostname,tag=sg" sg_traffic;
{{/trafficLog}}
{{^accessLog}}
{{^trafficLog}}
    access_log off;
{{/trafficLog}}
{{/accessLog}}

    # "$" cannot be escaped in NGINX strings: user text uses \${sg_dollar} for a literal dollar.
    geo $sg_dollar {
        default "$";
    }
{{#tlsCertificates}}
    # One TLS context for every host with default TLS settings (ADR 0028): the default server's,
    # whose workers load the certificate the SNI name selects at each full handshake.
    map $ssl_server_name $sg_tls_cert {
        hostnames;
{{{certLines}}}        default "{{defaultCert}}";
    }
    map $ssl_server_name $sg_tls_key {
        hostnames;
{{{keyLines}}}        default "{{defaultKey}}";
    }
{{/tlsCertificates}}
    map $http_upgrade $sg_connection_upgrade {
        default upgrade;
        "" close;
    }
{{#acmeRedirectMap}}
    # ACME HTTP-01 (ADR 0013): a route's HTTP→HTTPS redirect spares the challenge path, which the
    # CA fetches over plain HTTP.
    map "$scheme:$uri" $sg_https_redirect {
        "~^http:/\\.well-known/acme-challenge/" 0;
        "~^http:" 1;
        default 0;
    }
{{/acmeRedirectMap}}
{{#drain}}
    # While the agent reloads (its flag file exists), answers ask keep-alive clients to close:
    # a client closing after a response races nothing, whereas the old workers' close of idle
    # connections at a reload races a client sending its next request. 1xx (Upgrade) is left alone.
    map "$sg_draining:$status" $sg_drain_connection {
        "~^1:[2-5]" close;
        default "";
    }
    add_header Connection $sg_drain_connection always;
{{/drain}}
    # Every server sends NGINX's own 502 to @sg_502: after the 503 backup was tried it means the
    # backup's listener was gone (this NGINX is shutting down), so the backend is unavailable (503),
    # not broken. Other 502s stay 502.
{{^luaBadGateway}}
    map $upstream_addr $sg_backup_gone {
        "~127\\.0\\.0\\.1:{{unavailablePort}}$" 1;
        default 0;
    }
{{/luaBadGateway}}
{{#luaBadGateway}}
    # With the Lua module loaded, sg.bad_gateway() (init_by_lua below) decides, without an "if" block.
{{/luaBadGateway}}
{{#geoMaps}}
    geo {{{variable}}} {
        default 0;
{{#cidrs}}
        "{{.}}" 1;
{{/cidrs}}
    }
{{/geoMaps}}
{{#limitReqZones}}
    limit_req_zone {{{key}}} zone={{{zone}}}:{{limitZoneSize}} rate={{rate}}r/{{per}};
{{/limitReqZones}}
{{#limitConnZones}}
    limit_conn_zone $binary_remote_addr zone={{{zone}}}:{{limitZoneSize}};
{{/limitConnZones}}
{{#preflightMap}}
    map "$request_method:$http_access_control_request_method" {{{variable}}} {
        "~^OPTIONS:." 1;
        default 0;
    }
{{/preflightMap}}
{{#corsMaps}}
    map $http_origin {{{variable}}} {
{{#any}}
        "" "";
        default "*";
{{/any}}
{{^any}}
{{#patterns}}
        "~{{.}}" $http_origin;
{{/patterns}}
        default "";
{{/any}}
    }
{{#credentials}}
    map {{{variable}}} {{{credentials}}} {
        "" "";
        default "true";
    }
{{/credentials}}
{{#expose}}
    map {{{variable}}} {{{exposeVariable}}} {
        "" "";
        default "{{exposeValue}}";
    }
{{/expose}}
{{/corsMaps}}
{{#retryAfterMaps}}
    map $limit_req_status {{{variable}}} {
        REJECTED "{{seconds}}";
        default "";
    }
{{/retryAfterMaps}}
{{#headerMaps}}
    map {{{source}}} {{{variable}}} {
        "{{pattern}}" 1;
        default 0;
    }
{{/headerMaps}}
{{#methodMaps}}
    map $request_method {{{variable}}} {
{{#methods}}
        {{.}} 1;
{{/methods}}
        default 0;
    }
{{/methodMaps}}
{{#combineMaps}}
    map "{{{source}}}" {{{variable}}} {
        {{expect}} 1;
        default 0;
    }
{{/combineMaps}}
{{#cookieKeyMaps}}
    map {{{source}}} {{{variable}}} {
        "" $request_id;
        default {{{source}}};
    }
{{/cookieKeyMaps}}
{{#setCookieMaps}}
    map {{{source}}} {{{variable}}} {
        "" "{{cookie}}=$request_id; Path=/; Max-Age={{maxAge}}; HttpOnly; SameSite=Lax";
        default "";
    }
{{/setCookieMaps}}
{{#cookieTokenMaps}}
    map {{{source}}} {{{variable}}} {
        "" $request_id;
        "~^([^.]+)\\." $1;
        default {{{source}}};
    }
{{/cookieTokenMaps}}
{{#stickySplits}}
    # Clients stay on the version their cookie names while it has weight; others are split.
    map {{{source}}} {{{pin}}} {
{{#entries}}
        "~\\.{{{tag}}}$" {{{upstream}}};
{{/entries}}
        default "";
    }
    map {{{pin}}} {{{pick}}} {
        "" {{{split}}};
        default {{{pin}}};
    }
    map {{{pick}}} {{{tag}}} {
{{#entries}}
        {{{upstream}}} {{{tag}}};
{{/entries}}
        default "";
    }
{{/stickySplits}}
{{#addHeaderMaps}}
    map {{{source}}} {{{variable}}} {
        "" "{{value}}";
        default "{{{source}}}, {{value}}";
    }
{{/addHeaderMaps}}
{{> splits}}
{{#dynamic}}
    # Dynamic endpoints (ADR 0016): the peers of every upstream live in this shared dictionary,
    # filled by the proxy agent through the loopback server below; no reload for task changes.
    lua_shared_dict sg_endpoints 64m;
    init_by_lua_block {
{{{lua}}}
    }
    upstream sg_dynamic {
        # Never used: the balancer sets every peer (and the loopback 503 server when none is left).
        server 127.0.0.1:{{unavailablePort}};
        balancer_by_lua_block { sg.balance() }
        keepalive 1024;
    }
    server {
        listen 127.0.0.1:{{controlPort}};
        server_name "_";
        access_log off;
        client_max_body_size 256m;
        client_body_buffer_size 16m;
        location = /endpoints {
            content_by_lua_block { sg.endpoints() }
        }
        location / {
            return 404;
        }
    }
{{/dynamic}}
{{#upstreams}}
{{> upstream}}
{{/upstreams}}
{{#servers}}
{{> server}}
{{/servers}}
    # Every HTTP upstream's backup: answers 503 when no task of the backend can be reached
    # (tasks being replaced or removed), instead of a 502 from a dead address.
    server {
        listen 127.0.0.1:{{unavailablePort}};
        server_name "_";
        access_log off;
        # Declares the variables the http block reads (a config may have no server setting them).
        set $sg_route "";
{{#dynamic}}
        set $sg_upstream "";
{{/dynamic}}
        set $sg_draining "";
{{#noTaskPages}}
        set $sg_page_503 "";
        # errorPages: the proxying server answers from its @sg_no_task (the rule's 503 page).
        add_header X-Accel-Redirect "@sg_no_task" always;
{{/noTaskPages}}
        default_type text/plain;
        return 503 "no task of this backend is reachable\n";
    }
    # Internal status listener (loopback only; never on a public virtual host).
    server {
        listen 127.0.0.1:{{statusPort}};
        server_name "_";
        access_log off;
        location = /nginx_status {
            stub_status;
        }
        location / {
            return 404;
        }
    }
}
{{#stream}}

stream {
    log_format sg_stream escape=json '{"time":"$time_iso8601","client":"$remote_addr","sni":"$ssl_preread_server_name",'
        '"status":$status,"upstream_addr":"$upstream_addr","session_time":$session_time}';
{{#accessLog}}
    access_log "{{accessLogPath}}" sg_stream;
{{/accessLog}}
{{^accessLog}}
    access_log off;
{{/accessLog}}
    map_hash_max_size 262144;
    map_hash_bucket_size 512;

{{#sniRouter}}
    # SNI router: terminated hosts go to the loopback TLS listener, passthrough hosts to the
    # loopback passthrough listener; both receive the client address as PROXY protocol.
    map $ssl_preread_server_name $sg_sni_target {
        hostnames;
{{{sniLines}}}        default {{{tlsInternal}}};
    }
    server {
        listen {{httpsPort}}{{#proxyProtocol}} proxy_protocol{{/proxyProtocol}};
{{#proxyProtocol}}
        # The balancer's PROXY header names the client (from trusted proxies); it is passed on.
{{#trusted}}
        set_real_ip_from "{{.}}";
{{/trusted}}
{{/proxyProtocol}}
        ssl_preread on;
        proxy_protocol on;
        proxy_pass $sg_sni_target;
    }
{{/sniRouter}}
{{#hasPassthrough}}
    map $ssl_preread_server_name $sg_passthrough_target {
        hostnames;
{{#passthrough}}
        "{{host}}" {{{target}}};
{{/passthrough}}
        default {{{tlsInternal}}};
    }
{{> splits}}
{{#upstreams}}
{{> upstream}}
{{/upstreams}}
    server {
        listen {{{passthroughInternal}}} proxy_protocol;
        # The client address from the SNI router's PROXY header, so clientIP affinity sees real clients.
        set_real_ip_from 127.0.0.1;
        ssl_preread on;
        proxy_pass $sg_passthrough_target;
    }
{{/hasPassthrough}}
{{#l4}}
    # Extra listeners (TCPRoute, UDPRoute).
{{#splits}}
    split_clients "{{{key}}}" {{{variable}}} {
{{#shares}}
        {{share}} {{{upstream}}};
{{/shares}}
    }
{{/splits}}
{{#upstreams}}
{{> upstream}}
{{/upstreams}}
{{#refuse}}
    # An SNI name no route of a TLS listener names: the connection is closed.
    upstream sg_l4_refuse {
        server 127.0.0.1:1 down;
    }
{{/refuse}}
{{#listeners}}
{{#sniMap}}
    map {{{source}}} {{{variable}}} {
        hostnames;
{{#entries}}
        "{{host}}" {{{target}}};
{{/entries}}
        default sg_l4_refuse;
    }
{{/sniMap}}
{{#certMaps}}
    # TLS terminated per SNI name: an unknown name gets no certificate (the handshake fails).
    map $ssl_server_name {{{variable}}} {
        hostnames;
{{#entries}}
        "{{host}}" "{{path}}";
{{/entries}}
        default "";
    }
{{/certMaps}}
    server {
        listen {{{listen}}};
{{#preread}}
        ssl_preread on;
{{/preread}}
{{#tls}}
        ssl_certificate "{{cert}}";
        ssl_certificate_key "{{key}}";
        ssl_protocols TLSv1.2 TLSv1.3;
{{/tls}}
{{#tlsByName}}
        ssl_certificate {{{cert}}};
        ssl_certificate_key {{{key}}};
        ssl_protocols TLSv1.2 TLSv1.3;
{{/tlsByName}}
{{#connectTimeout}}
        proxy_connect_timeout {{connectTimeout}};
{{/connectTimeout}}
        proxy_timeout {{idleTimeout}};
{{#proxyProtocol}}
        proxy_protocol on;
{{/proxyProtocol}}
        proxy_pass {{{target}}};
    }
{{/listeners}}
{{/l4}}
}
{{/stream}}
`;

export const NGINX_TEMPLATES = { main, partials: { body, upstream, server, splits } } as const;
