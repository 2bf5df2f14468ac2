/**
 * The shapes of the NGINX view model: what the mustache templates (templates.ts) read. Logic-less
 * templates get every decision precomputed (tokens allow-listed, strings escaped) in view-model.ts.
 */
import type { Token } from '../token';
import type { L4View } from './stream-listeners';
import type { AuthLocationView, CorsMapView, GeoView, LimitReqZoneView, PageLocationView, PolicyBodyView } from './policies';

export interface NameValue {
  readonly name: string;
  readonly value: string;
}

export interface NameRef {
  readonly name: string;
  readonly ref: Token;
}

export interface ProxyBodyView extends PolicyBodyView {
  readonly route: string;
  readonly unavailable: boolean;
  readonly proxy: boolean;
  readonly rewritePrefix?: { readonly pattern: string; readonly replacement: string };
  readonly rewriteExact?: { readonly pattern: string; readonly replacement: string };
  readonly target?: Token;
  /** Dynamic endpoints: the id of the rule's split in the endpoint set (named "=id" there); set_by_lua picks the upstream per request (ADR 0049). */
  readonly dataSplit?: Token;
  /** The NGINX module that proxies: `proxy` (proxy_pass, proxy_* directives) or `grpc` (grpc_pass, grpc_*). */
  readonly module?: Token;
  /** proxy_pass / grpc_pass scheme: http, https, grpc or grpcs. */
  readonly scheme?: Token;
  /** A grpc_pass location: the http block's proxy_* defaults do not apply, so it sets every value itself. */
  readonly grpc?: boolean;
  /**
   * TLS to the upstream: SNI/verified name, CA bundle file, client certificate files. The names are
   * unique in the whole view: mustache looks an absent field up in the enclosing contexts.
   */
  readonly upstreamTls?: { readonly upstreamSni?: string; readonly upstreamCa?: string; readonly upstreamClientCert?: string; readonly upstreamClientKey?: string };
  readonly connectTimeout?: string;
  readonly readTimeout?: string;
  readonly sendTimeout?: string;
  readonly nextUpstream?: string;
  readonly tries?: number;
  readonly customHeaders: boolean;
  readonly fixedHeaders: readonly NameRef[];
  readonly userHeaders: readonly NameValue[];
  readonly websocket: boolean;
  readonly hideHeaders: readonly string[];
  readonly addHeaders: readonly NameValue[];
  readonly setCookie?: Token;
  /** A weighted split pinned by a proxy-issued cookie: the cookie is (re)written on every answer. */
  readonly pinCookie?: { readonly cookie: string; readonly token: Token; readonly tag: Token; readonly maxAge: number };
  readonly redirect?: { readonly code: number; readonly parts: readonly { lit?: string; ref?: Token }[] };
  /** The location sets add_header itself, so it must repeat the http block's (add_header is inherited all-or-nothing). */
  readonly ownAddHeaders: boolean;
}

export interface LocationView {
  readonly exact: boolean;
  readonly path: string;
  readonly dispatch: readonly { readonly code: number; readonly condition: Token; readonly target: Token }[];
  /** Dispatch sets error_page here, so the location must repeat the server's (error_page is inherited all-or-nothing). */
  readonly ownErrorPages: boolean;
  /** A dispatched rule has errorPages: `recursive_error_pages on`, so they apply after the jump. */
  readonly recursiveErrorPages?: boolean;
  readonly body?: ProxyBodyView;
}

export interface NamedLocationView {
  readonly name: Token;
  readonly body: ProxyBodyView;
}

export interface ServerView {
  readonly serverName: string;
  readonly defaultServer: boolean;
  readonly listenHttp: boolean;
  /** Listens on the loopback TLS listener behind the SNI router. */
  readonly tlsListener: boolean;
  readonly tls?: { readonly cert: string; readonly key: string };
  /** The default server holding the shared TLS context (ADR 0028): ssl_certificate from the SNI maps. */
  readonly tlsByVariable?: true;
  readonly rejectTls: boolean;
  /** Route tls.clientCertificate: CA bundle and CRL files, `on` (Require) or `optional` (Request). */
  readonly clientCert?: { readonly ca: string; readonly verify: Token; readonly depth: number; readonly crl?: string };
  /** A client-certificate server without redirectHTTP refuses plain HTTP (`acme`: HTTP-01 requests spared). */
  readonly plainRefused?: { readonly acme: boolean };
  /** `acme`: the redirect spares HTTP-01 requests ($sg_https_redirect, see acmeHttp01). */
  readonly httpsRedirect?: { readonly portSuffix: string; readonly acme: boolean };
  /** The cluster answers HTTP-01: the tokens the agent wrote in this directory, before any redirect. */
  readonly acmeHttp01?: { readonly dir: string };
  readonly locations: readonly LocationView[];
  readonly named: readonly NamedLocationView[];
  /** Set when a rule of the server uses forwardAuth: its internal auth locations and the answer handlers. */
  /** clientAddress XForwardedFor, on a server of the HTTP port: believe X-Forwarded-For from these. */
  readonly forwardedFor?: { readonly trusted: readonly string[] };
  readonly authAsks?: { readonly locations: readonly AuthLocationView[] };
  /** errorPages: the internal page locations the server's rules jump to, sorted by path. */
  readonly pageLocations?: readonly PageLocationView[];
  readonly fixed503: boolean;
  /** A table server (route-table.ts, ADR 0050): every tabled host's name, in place of serverName. */
  readonly tableHosts?: readonly string[];
  /** `tableHosts` as the server_name list's lines, escaped. */
  readonly tableHostsText?: string;
  /** A table server: its one location asks sg.route() for the route and upstream of the request. */
  readonly routeTable?: true;
}

export interface NginxView {
  readonly cluster: string;
  /** The programmed routes as comment lines: NGINX refuses any line of 4096 bytes or more. */
  readonly routeLines: readonly string[];
  /** Some routes are served only as data (ADR 0050): routeLines leaves them out. */
  readonly tabledRoutes?: true;
  readonly streamModulePath?: string;
  /** Dynamic endpoints (lua-balancer.ts): modules, the balancer's code and its control port; absent: static upstreams. */
  readonly dynamic?: { readonly ndkModule: string; readonly luaModule: string; readonly lua: string; readonly controlPort: number };
  /**
   * Set with dynamic endpoints (the Lua module is loaded): every server's @sg_502 decides 502 or 503
   * in Lua (sg.bad_gateway), one configuration context instead of two (ADR 0036).
   */
  readonly luaBadGateway?: true;
  /** The variable naming a request's upstream in the logs: $proxy_host, or $sg_upstream with dynamic endpoints. */
  readonly upstreamVariable: string;
  readonly workerProcesses: string;
  readonly pidPath: string;
  readonly accessLog: boolean;
  readonly accessLogPath: string;
  /** Set with hitless delivery: the agent's loopback syslog listener for per-upstream counters. */
  readonly trafficLog?: { readonly port: number };
  /** Set with hitless delivery: the flag file the agent holds around a reload (see NginxRenderOptions.drainFlagPath). */
  readonly drain?: {
    readonly flagPath: string;
    /** Dynamic endpoints: each server sets $sg_draining with set_by_lua_block (sg.draining) instead of an `if (-f …)` block (ADR 0036). */
    readonly byLua: boolean;
  };
  /** Set when the cluster answers ACME HTTP-01: the redirect map that spares the challenge path. */
  readonly acmeRedirectMap?: true;
  readonly clientMaxBodySize: string;
  /** Set when a proxied header name is too long for NGINX's default hash bucket (see PROXY_HEADERS_BUCKET). */
  readonly proxyHeadersHash?: { readonly bucketSize: number };
  readonly defaults: HttpDefaults;
  readonly standardHeaders: readonly NameRef[];
  readonly httpPort: number;
  /** The http port speaks HTTP/2 without TLS (prior knowledge only, in NGINX 1.22): the cluster's proxy.h2c. */
  readonly h2c: boolean;
  readonly httpsPort: number;
  /** clientAddress ProxyProtocol: the published ports expect a PROXY header, believed from these. */
  readonly proxyProtocol?: { readonly trusted: readonly string[] };
  readonly tlsInternal: Token;
  readonly passthroughInternal: Token;
  readonly statusPort: number;
  readonly unavailablePort: number;
  /**
   * ADR 0028: the certificate and key of each host sharing the default server's TLS context, by
   * SNI name, and what an unknown name gets ("" when the default server refuses it).
   */
  readonly tlsCertificates?: {
    /**
     * The two maps' entry lines, escaped with the template's escape. Written as text by the view, not
     * per entry by the template: thousands of entries at scale, where Mustache's per-item context and
     * lookups were a sixth of a render (the same holds for the SNI lines and a table server's names).
     */
    readonly certLines: string;
    readonly keyLines: string;
    readonly defaultCert: string;
    readonly defaultKey: string;
  };
  /** A rule has a 503 error page: the loopback 503 server redirects to each server's @sg_no_task. */
  readonly noTaskPages?: true;
  /** Client address lists of Middleware ipAllow / ipDeny (policies.ts). */
  readonly geoMaps: readonly GeoView[];
  readonly limitReqZones: readonly LimitReqZoneView[];
  readonly limitConnZones: readonly { readonly zone: Token }[];
  readonly retryAfterMaps: readonly { readonly variable: Token; readonly seconds: number }[];
  readonly limitZoneSize: string;
  readonly corsMaps: readonly CorsMapView[];
  readonly preflightMap?: { readonly variable: Token };
  readonly headerMaps: readonly { readonly source: Token; readonly variable: Token; readonly pattern: string }[];
  readonly methodMaps: readonly { readonly variable: Token; readonly methods: readonly string[] }[];
  readonly combineMaps: readonly { readonly source: Token; readonly variable: Token; readonly expect: string }[];
  readonly cookieKeyMaps: readonly { readonly source: Token; readonly variable: Token }[];
  readonly setCookieMaps: readonly { readonly source: Token; readonly variable: Token; readonly cookie: string; readonly maxAge: number }[];
  readonly addHeaderMaps: readonly { readonly source: Token; readonly variable: Token; readonly value: string }[];
  readonly splits: readonly { readonly key: Token; readonly variable: Token; readonly shares: readonly { readonly share: string; readonly upstream: Token }[] }[];
  readonly cookieTokenMaps: readonly { readonly source: Token; readonly variable: Token }[];
  readonly stickySplits: readonly StickySplitView[];
  readonly upstreams: readonly UpstreamView[];
  readonly servers: readonly ServerView[];
  readonly stream?: StreamView;
}

/**
 * A weighted split whose clients stay on the version they landed on: the proxy's cookie carries
 * `<token>.<tag>`, the tag naming the chosen upstream. A cookie naming one of the split's targets
 * (weight > 0) picks it whatever the weights; otherwise the split decides, on the token.
 */
export interface StickySplitView {
  readonly source: Token;
  readonly pin: Token;
  readonly pick: Token;
  readonly tag: Token;
  readonly split: Token;
  readonly entries: readonly { readonly upstream: Token; readonly tag: Token }[];
}

export interface UpstreamView {
  readonly name: Token;
  readonly hash?: Token;
  readonly servers: readonly { readonly address: Token; readonly maxFails: number; readonly failTimeout: string }[];
  /** Connection reuse to upstreams (http only; stream has no keepalive). */
  readonly keepalive: boolean;
  /** The loopback 503 server, tried when every task failed (not with hash balancing, which forbids backups). */
  readonly backup?: Token;
}

export interface StreamView {
  /** The SNI router map's entry lines (each terminated or passed-through host → its loopback listener), escaped. */
  readonly sniLines: string;
  readonly passthrough: readonly { readonly host: string; readonly target: Token }[];
  readonly splits: NginxView['splits'];
  readonly upstreams: readonly UpstreamView[];
  readonly hasPassthrough: boolean;
  /** The SNI router on the https port exists (some host terminates or passes TLS through). */
  readonly sniRouter: boolean;
  /** Extra listeners (TCPRoute/UDPRoute); absent: none has a route with a target. */
  readonly l4?: L4View & { readonly splits: StreamView['splits'] };
}

export interface HttpDefaults {
  /** In NGINX's time syntax (nginxDuration). */
  readonly timeouts: { readonly connect: string; readonly read: string; readonly send: string };
  readonly nextUpstream: string;
  readonly tries: number;
}
