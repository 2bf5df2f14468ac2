/**
 * HAProxy templates (mustache, logic-less). Conventions, as for NGINX:
 * - user data only as "{{x}}" inside double quotes: the renderer's escape function escapes it for
 *   haproxy.cfg (and the view model has already doubled "%" in log-format arguments);
 * - triple braces only for Tokens (identifiers swarmgate generated, see ../token.ts);
 * - every decision lives in view-model.ts; a section here only tests a precomputed field.
 * Named ACLs carry every user value: an anonymous `{ ... }` ACL would end at a value "}".
 */
import { GENERATED_HEADER } from '../generated-header';
import { CLIENT_CERT_TEMPLATE, TLS_BIND_TEMPLATE } from './client-certificates';

/**
 * What a server line says besides its name, address and cookie; with dynamic endpoints the
 * backend's slots share it through one `default-server` line (protocol and TLS are the backend's
 * fields, reached from either context).
 */
const SERVER_OPTIONS = `{{#sendProxy}} send-proxy{{/sendProxy}}{{#upstreamProtocol}} {{{.}}}{{/upstreamProtocol}}{{#upstreamTls}}{{#upstreamSni}} sni "str({{upstreamSni}})"{{/upstreamSni}}{{#upstreamCa}} ca-file "{{upstreamCa}}" verifyhost "{{upstreamSni}}"{{/upstreamCa}}{{#upstreamPem}} crt "{{upstreamPem}}"{{/upstreamPem}}{{/upstreamTls}}{{#passiveHealth}} check inter {{upInterval}} fastinter {{failTimeout}} downinter {{failTimeout}} rise 1 fall 1 observe layer4 error-limit {{maxFails}} on-error mark-down{{/passiveHealth}}`;

const backend = `backend {{{name}}}
    # route "{{route}}"
{{#tcp}}
    mode tcp
{{/tcp}}
{{#balanceRoundRobin}}
    balance roundrobin
{{/balanceRoundRobin}}
{{#balanceSource}}
    balance source
{{/balanceSource}}
{{#balanceCookie}}
    balance hash req.cook({{{cookieName}}})
{{/balanceCookie}}
{{#consistentHash}}
    hash-type consistent
{{/consistentHash}}
{{#cookieAffinity}}
    cookie {{{cookieName}}} insert indirect nocache httponly attr "SameSite=Lax" attr "Max-Age={{maxAge}}"
{{/cookieAffinity}}
{{#timeouts}}
    timeout {{{kind}}} {{value}}
{{/timeouts}}
    retries {{retries}}
{{#customRetryOn}}
    retry-on{{#keywords}} {{{.}}}{{/keywords}}
{{/customRetryOn}}
{{#protectNonIdempotent}}
    http-request disable-l7-retry if { method POST LOCK PATCH }
{{/protectNonIdempotent}}
{{#blockUpgrade}}
    http-request del-header Upgrade
    http-request del-header Connection
{{/blockUpgrade}}
{{#requestEdits}}
    http-request {{{verb}}} "{{name}}"{{#hasValue}} "{{value}}"{{/hasValue}}
{{/requestEdits}}
{{#replacePath}}
    http-request replace-path "{{pattern}}" "{{replacement}}"
{{/replacePath}}
{{#setPath}}
    http-request set-path "{{setPath}}"
{{/setPath}}
{{#bufferRequest}}
    option http-buffer-request
{{/bufferRequest}}
{{#compression}}
    compression algo gzip
    compression type{{#types}} "{{.}}"{{/types}}
{{/compression}}
{{#errorPages}}
{{#own}}
    http-error status {{status}} content-type "{{contentType}}" file "{{file}}"
{{/own}}
{{#upstream}}
    http-response return status {{status}} content-type "{{contentType}}" file "{{file}}" if { status {{status}} }
{{/upstream}}
{{/errorPages}}
{{#slotDefaults}}
    default-server init-addr last,0.0.0.0 disabled${SERVER_OPTIONS}
{{/slotDefaults}}
{{#servers}}
    server {{{name}}} {{{address}}}{{#serverCookie}} cookie {{{serverCookie}}}{{/serverCookie}}{{^slot}}${SERVER_OPTIONS}{{/slot}}
{{/servers}}
`;

/** The trusted balancers of clientAddress, and the PROXY header they send (both HTTP and TLS frontends). */
const trustedProxies = `{{#clientAddress}}
{{#trusted}}
    acl sg_trusted_proxy src "{{.}}"
{{/trusted}}
{{#proxyProtocol}}
    # clientAddress ProxyProtocol: a trusted balancer's PROXY header names the client.
    tcp-request connection expect-proxy layer4 if sg_trusted_proxy
{{/proxyProtocol}}
{{/clientAddress}}
`;

const http = `frontend sg_http
    bind {{{bind}}}
${TLS_BIND_TEMPLATE}{{> trustedProxies}}
    unique-id-format %[uuid()]
{{#clientAddress}}
{{#forwardedFor}}
    # clientAddress XForwardedFor: the last address a trusted balancer appended names the client.
    http-request set-src hdr_ip(x-forwarded-for,-1) if sg_trusted_proxy !{ ssl_fc } { req.hdr_cnt(x-forwarded-for) gt 0 }
{{/forwardedFor}}
{{/clientAddress}}
{{#acmeHttp01}}
    # ACME HTTP-01 (ADR 0032): the pending tokens by path, in a map the proxy agent keeps up to date
    # through HAProxy's runtime API (no reload per token); answered before any redirect or rule.
    http-request return status 200 content-type text/plain lf-string "%[path,map({{map}})]" if { path_beg /.well-known/acme-challenge/ } { path,map({{map}}) -m found }
    # Any other path there is not a pending token: 404, as NGINX's challenge location answers (not a route's redirect or backend).
    http-request return status 404 content-type text/plain string "not a pending ACME challenge token" if { path_beg /.well-known/acme-challenge/ }
{{/acmeHttp01}}
    # On a reload the old process answers each idle keep-alive client's next request with
    # "Connection: close" instead of closing the connection under it (no reset for the client).
    option idle-close-on-response
{{#maxBodyBytes}}
    # client_max_body_size (requests announcing their length; chunked bodies are not limited).
    http-request deny deny_status 413 if { req.hdr_val(content-length) gt {{maxBodyBytes}} }
{{/maxBodyBytes}}
    http-request set-var(txn.sg_host) req.hdr(host),field(1,:),lower
    http-request set-var(txn.sg_path) path,url_dec,regsub("/+","/",g)
    http-request set-var(txn.sg_scheme) str(https) if { ssl_fc }
    http-request set-var(txn.sg_scheme) str(http) if !{ ssl_fc }
{{#randomPick}}
    http-request set-var(txn.sg_pick) rand({{pickRange}})
{{/randomPick}}
{{#clientIpPick}}
    http-request set-var(txn.sg_pick_ip) src,crc32,mod({{pickRange}})
{{/clientIpPick}}
{{#cookiePicks}}
    http-request set-var({{{variable}}}) rand({{pickRange}})
    http-request set-var({{{variable}}}) req.cook({{{cookieName}}}),crc32,mod({{pickRange}}) if { req.cook({{{cookieName}}}) -m found }
{{/cookiePicks}}
    acl sg_tls ssl_fc
    acl sg_vh_set var(txn.sg_vh) -m found
    acl sg_rule_set var(txn.sg_rule) -m found

    # Virtual host: exact names, then wildcards longest first, then the default server (0).
{{#hostAcls}}
    acl {{{name}}} var(txn.sg_host) -m {{{match}}} -- "{{host}}"
{{/hostAcls}}
{{#vhostSelect}}
    http-request set-var(txn.sg_vh) int({{index}}) if !sg_vh_set {{{acl}}}{{#plainOnly}} !sg_tls{{/plainOnly}}
{{/vhostSelect}}
{{#defaultVhost}}
    http-request set-var(txn.sg_vh) int(0) if !sg_vh_set
{{/defaultVhost}}
{{#vhAcls}}
    acl {{{name}}} var(txn.sg_vh) -m int eq {{index}}
{{/vhAcls}}
{{#httpsRedirects}}
    http-request redirect location "{{location}}" code 308 if {{{acl}}} !sg_tls
{{/httpsRedirects}}
${CLIENT_CERT_TEMPLATE}
    # Rule: the first whose conditions hold, in NGINX's precedence.
{{#pathAcls}}
    acl {{{name}}} var(txn.sg_path) -m str -- "{{path}}"
{{#hasPrefix}}
    acl {{{name}}} var(txn.sg_path) -m beg -- "{{prefix}}"
{{/hasPrefix}}
{{/pathAcls}}
{{#headerAcls}}
{{^empty}}
    acl {{{name}}} req.fhdr({{{header}}},1) -m str -- "{{value}}"
{{/empty}}
{{#empty}}
    acl {{{name}}} req.fhdr({{{header}}},1) -m len 0
    acl {{{name}}} req.fhdr_cnt({{{header}}}) eq 0
{{/empty}}
{{/headerAcls}}
{{#cookieMatchAcls}}
    acl {{{name}}} req.cook({{{cookie}}}) -m str -- "{{value}}"
{{/cookieMatchAcls}}
{{#methodAcls}}
    acl {{{name}}} method{{#methods}} {{{.}}}{{/methods}}
{{/methodAcls}}
{{#ruleSelect}}
    http-request set-var(txn.sg_rule) str({{{rule}}}) if !sg_rule_set{{#conditions}} {{{.}}}{{/conditions}}
{{/ruleSelect}}
{{#ruleAcls}}
    acl {{{name}}} var(txn.sg_rule) -m str {{{rule}}}
{{/ruleAcls}}
{{#fallback503}}
    http-request return status 503 content-type text/plain string "no route for this host" if !sg_vh_set
{{/fallback503}}
    http-request return status 404 content-type text/plain string "no rule of this host matches the request" if sg_vh_set !sg_rule_set
{{#addressAcls}}
{{#cidrs}}
    acl {{{name}}} src "{{.}}"
{{/cidrs}}
{{/addressAcls}}
{{#forbidden}}
    http-request deny deny_status 403{{#page}} content-type "{{contentType}}" file "{{file}}"{{/page}} if {{{rule}}} {{#negate}}!{{/negate}}{{{acl}}}
{{/forbidden}}
{{#maintenance}}
{{#page}}
    http-request return status 503 content-type "{{contentType}}" file "{{file}}" hdr Retry-After "{{retryAfter}}" if {{{rule}}}
{{/page}}
{{^page}}
    http-request return status 503 content-type text/plain string "{{message}}\\n" hdr Retry-After "{{retryAfter}}" if {{{rule}}}
{{/page}}
{{/maintenance}}
{{#originAcls}}
{{#any}}
    acl {{{name}}} req.hdr(origin) -m found
{{/any}}
{{#patterns}}
    acl {{{name}}} req.hdr(origin) -m reg -- "{{.}}"
{{/patterns}}
{{/originAcls}}
{{#corsLines}}
    http-request set-var(txn.sg_origin) {{#any}}str(*){{/any}}{{^any}}req.hdr(origin){{/any}} if {{{rule}}} {{{acl}}}
    http-request return status 204 hdr Access-Control-Allow-Methods "{{methods}}"{{#headers}} hdr Access-Control-Allow-Headers "{{headers}}"{{/headers}} hdr Access-Control-Max-Age "{{maxAge}}" if {{{rule}}} METH_OPTIONS { req.hdr(access-control-request-method) -m found }
{{/corsLines}}
{{#bodyLimits}}
    http-request deny deny_status 413{{#page}} content-type "{{contentType}}" file "{{file}}"{{/page}} if {{{rule}}} { req.hdr_val(content-length) gt {{maxBytes}} }
{{/bodyLimits}}
{{#limitLines}}
    http-request track-sc{{counter}} {{#header}}req.hdr({{{header}}}){{/header}}{{^header}}src{{/header}} table {{{table}}} if {{{rule}}}{{#header}} { req.hdr({{{header}}}) -m found }{{/header}}
{{#rate}}
    http-request deny deny_status 429{{#page}} content-type "{{contentType}}" file "{{file}}"{{/page}} hdr Retry-After {{retryAfter}} if {{{rule}}} { sc_gpc0_rate({{counter}},{{{table}}}) ge {{limit}} }
    http-request sc-inc-gpc0({{counter}}) if {{{rule}}}
{{/rate}}
{{#connections}}
    http-request deny deny_status 429{{#page}} content-type "{{contentType}}" file "{{file}}"{{/page}} if {{{rule}}} { sc_conn_cur({{counter}},{{{table}}}) gt {{max}} }
{{/connections}}
{{/limitLines}}
{{#hasQueryAcl}}
    acl sg_has_query query -m found
{{/hasQueryAcl}}
{{#redirects}}
    http-request redirect location "{{location}}" code {{code}} if{{#conditions}} {{{.}}}{{/conditions}}
{{/redirects}}
{{#unavailable}}
{{#page}}
    http-request return status 503 content-type "{{contentType}}" file "{{file}}" if {{{rule}}}
{{/page}}
{{^page}}
    http-request return status 503 content-type text/plain string "no task of this backend is available" if {{{rule}}}
{{/page}}
{{/unavailable}}
{{#responseEdits}}
    http-after-response {{{verb}}} "{{name}}"{{#hasValue}} "{{value}}"{{/hasValue}} if {{{acl}}}
{{/responseEdits}}
{{#corsLines}}
    http-after-response set-header Access-Control-Allow-Origin "%[var(txn.sg_origin)]" if {{{rule}}} { var(txn.sg_origin) -m found }
{{#credentials}}
    http-after-response set-header Access-Control-Allow-Credentials "true" if {{{rule}}} { var(txn.sg_origin) -m found }
{{/credentials}}
{{#expose}}
    http-after-response set-header Access-Control-Expose-Headers "{{expose}}" if {{{rule}}} { var(txn.sg_origin) -m found }
{{/expose}}
    http-after-response add-header Vary "Origin" if {{{rule}}}
{{/corsLines}}

    # Backend: weighted by declared share (random or client-address hash), sticky by cookie.
{{#pickAcls}}
    acl {{{name}}} var({{{variable}}}) -m int lt {{below}}
{{/pickAcls}}
{{#cookieAcls}}
    acl {{{name}}} req.cook({{{cookieName}}}) -m beg -- {{{prefix}}}
{{/cookieAcls}}
{{#useBackends}}
    use_backend {{{backend}}} if{{#conditions}} {{{.}}}{{/conditions}}
{{/useBackends}}
`;

const tls = `frontend sg_tls
    # SNI router: passthrough hosts go to their TCP backends, terminated hosts to the TLS
    # listener of their certificate (PROXY protocol keeps the client address).
    mode tcp
    bind {{{bind}}}
{{> trustedProxies}}
{{#accessLog}}
    option tcplog
{{/accessLog}}
{{^accessLog}}
{{#trafficLog}}
    # No access log; the defaults' HTTP log-format (the agent's counters) cannot apply to TCP,
    # and the agent drops lines of this marker.
    log-format "sg-quiet"
{{/trafficLog}}
{{/accessLog}}
    timeout client {{idleTimeout}}
    tcp-request inspect-delay 5s
{{#randomPick}}
    tcp-request content set-var(sess.sg_pick) rand({{pickRange}})
{{/randomPick}}
{{#clientIpPick}}
    tcp-request content set-var(sess.sg_pick_ip) src,crc32,mod({{pickRange}})
{{/clientIpPick}}
    tcp-request content accept if { req.ssl_hello_type 1 }
{{#sniAcls}}
    acl {{{name}}} req.ssl_sni -i -m {{{match}}} -- "{{host}}"
{{/sniAcls}}
{{#pickAcls}}
    acl {{{name}}} var({{{variable}}}) -m int lt {{below}}
{{/pickAcls}}
{{#useBackends}}
    use_backend {{{backend}}} if{{#conditions}} {{{.}}}{{/conditions}}
{{/useBackends}}
    default_backend {{{defaultBackend}}}
{{#hops}}

backend {{{name}}}
    mode tcp
    timeout server {{idleTimeout}}
    server local "unix@{{socket}}" send-proxy-v2
{{/hops}}
{{#rejectUnknown}}

backend sg_tls_reject
    # Unknown server name and no default certificate: refuse, like NGINX's ssl_reject_handshake.
    mode tcp
    tcp-request content reject
{{/rejectUnknown}}
`;

const l4 = `frontend {{{name}}}
    # Extra listener (TCPRoute).
    mode tcp
    bind {{{bind}}}{{#tls}} ssl{{#crts}} crt "{{.}}"{{/crts}}{{/tls}}
{{#accessLog}}
    option tcplog
{{/accessLog}}
{{^accessLog}}
{{#trafficLog}}
    log-format "sg-quiet"
{{/trafficLog}}
{{/accessLog}}
    timeout client {{idleTimeout}}
{{#sni}}
    tcp-request inspect-delay 5s
    tcp-request content accept if { req.ssl_hello_type 1 }
{{/sni}}
{{#randomPick}}
    tcp-request content set-var(sess.sg_pick) rand({{pickRange}})
{{/randomPick}}
{{#sniAcls}}
    acl {{{name}}} {{{sniFetch}}} -i -m {{{match}}} -- "{{host}}"
{{/sniAcls}}
{{#pickAcls}}
    acl {{{name}}} var({{{variable}}}) -m int lt {{below}}
{{/pickAcls}}
{{#useBackends}}
    use_backend {{{backend}}} if{{#conditions}} {{{.}}}{{/conditions}}
{{/useBackends}}
{{#defaultBackend}}
    default_backend {{{defaultBackend}}}
{{/defaultBackend}}
`;

const main = `${GENERATED_HEADER}global
{{#trafficLog}}
    # To the proxy agent (loopback UDP): it counts per-backend requests, 5xx and latency for canary
    # analysis and prints the access log on its stdout. Lossy by design, never blocks a request.
    log 127.0.0.1:{{port}} format raw local0
{{/trafficLog}}
{{^trafficLog}}
    log "{{logTarget}}" format raw local0
{{/trafficLog}}
    maxconn 8192
{{#nbthread}}
    nbthread {{nbthread}}
{{/nbthread}}
    hard-stop-after 30s
{{#dynamic}}
    # Dynamic endpoints: the agent fills the backends' slots through this socket, and writes the
    # state file every start and reload begins from, so the members survive both.
    stats socket "{{adminSocket}}" mode 600 level admin
    server-state-file "{{stateFile}}"
{{/dynamic}}
    ssl-default-bind-options ssl-min-ver TLSv1.2
    tune.ssl.default-dh-param 2048

defaults
    mode http
{{#trafficLog}}
    log global
    option dontlognull
    # "sgm <backend> <status> <time>" first, for the agent's counters; the access log after "|".
    log-format "sgm %b %ST %Ta ms{{#accessLog}}|%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq rule=%[var(txn.sg_rule)] id=%ID %{+Q}r{{/accessLog}}"
{{/trafficLog}}
{{^trafficLog}}
{{#accessLog}}
    log global
    option dontlognull
    log-format "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq rule=%[var(txn.sg_rule)] id=%ID %{+Q}r"
{{/accessLog}}
{{/trafficLog}}
{{#defaults}}
    timeout connect {{connect}}
    timeout server {{server}}
    timeout check {{connect}}
{{/defaults}}
    timeout client 60s
    timeout http-request 60s
    timeout http-keep-alive 75s
    option redispatch 1
{{#dynamic}}
    load-server-state-from-file global
{{/dynamic}}
{{#defaults}}
    retry-on{{#retryOn}} {{{.}}}{{/retryOn}}
{{/defaults}}

{{#http}}
{{> http}}
{{/http}}
{{#tls}}

{{> tls}}
{{/tls}}
{{#l4}}

{{> l4}}
{{/l4}}
{{#backends}}

{{> backend}}
{{/backends}}
{{#stickTables}}

backend {{{name}}}
    # Counters of a Middleware limit (one table per route and limit).
    stick-table type {{#byHeader}}string len 128{{/byHeader}}{{^byHeader}}ipv6{{/byHeader}} size 100k expire {{expire}} store {{#ratePeriod}}gpc0,gpc0_rate({{ratePeriod}}){{/ratePeriod}}{{^ratePeriod}}conn_cur{{/ratePeriod}}
{{/stickTables}}

frontend sg_status
    # Loopback only: stats page and health check, never on a public frontend.
    bind {{{statusBind}}}
    http-request set-log-level silent
    monitor-uri /healthz
    stats enable
    stats uri /haproxy_status
`;

export const HAPROXY_TEMPLATES = { main, partials: { http, tls, backend, l4, trustedProxies } } as const;
