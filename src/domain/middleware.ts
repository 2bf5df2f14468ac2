/**
 * Middleware: a named, reusable set of edge policies (access by client address, authentication,
 * limits, …) that Routes and ServiceClusters reference by name. Each field is one behaviour; a
 * Middleware holds one or more. How references combine is in docs/adr/0011-middlewares.md.
 */
import type * as t from 'io-ts';
import { Cidr } from './cidr';
import { DnsLabel, Duration, HeaderName, HeaderValue, Hostname, HttpPath, Port, Size, SwarmName } from './brands';
import { bool, brandedString, intRange, listOf, oneOf, struct, withDefault } from './codec';
import { HTTP_METHODS } from './http-methods';
import type { Issue } from './issue';

/** The most client address ranges one list may hold (each is one line of a geo block / ACL). */
export const MAX_CIDRS = 256;
/** The most middlewares one reference list (route, rule or cluster defaults) may name. */
export const MAX_MIDDLEWARE_REFS = 16;

const CidrList = listOf(Cidr, { min: 1, max: MAX_CIDRS });

export type Realm = string & t.Brand<{ readonly Realm: 'Realm' }>;
/**
 * The realm of a login prompt. NGINX writes it into `WWW-Authenticate: Basic realm="…"` without
 * escaping, so '"' and a backslash would break the header: printable ASCII without them.
 */
export const Realm = brandedString<t.Brand<{ readonly Realm: 'Realm' }>>('realm (printable ASCII without " and \\, 1..128 characters)', (s) => {
  if (s.length === 0 || s.length > 128) return 'length must be 1..128';
  for (const ch of s) if (!/[\x20-\x7e]/.test(ch) || ch === '"' || ch === '\\') return `character ${JSON.stringify(ch)} is not allowed`;
  return undefined;
});

export const BasicAuth = struct(
  'basicAuth',
  {
    /** Docker secret holding the users in htpasswd format (one `user:hash` per line). */
    secret: SwarmName,
    realm: withDefault(Realm, 'Restricted' as Realm),
  },
  /** Request header that carries the authenticated user name to the backends (the client's own is replaced). */
  { userHeader: HeaderName },
);
export type BasicAuth = t.TypeOf<typeof BasicAuth>;

/** The most auth-service response headers one forwardAuth copies to the upstream request. */
export const MAX_AUTH_RESPONSE_HEADERS = 16;

/**
 * Ask an auth service (Authelia, Authentik, oauth2-proxy, …) about every request before it is
 * proxied. The service is a Swarm service reached on its task addresses like a backend. Its answer:
 * 2xx lets the request through, 401 and 403 go back to the client, 401 with a `Location` header
 * becomes a 302 to that location (Authelia's AuthRequest endpoint), any 3xx a 302 to its Location.
 */
export type AuthUrl = string & t.Brand<{ readonly AuthUrl: 'AuthUrl' }>;
/**
 * An auth service outside the swarm (or not a Swarm service): `http://host[:port][/path]`, the host a
 * lowercase hostname or an IPv4 address. Plain HTTP only: NGINX would need a CA bundle to verify an
 * https one, which swarmgate does not ship into its configs.
 */
export const AuthUrl = brandedString<t.Brand<{ readonly AuthUrl: 'AuthUrl' }>>('URL like http://auth.internal:9091/api/authz/auth-request (http only)', (s) => {
  const m = /^http:\/\/([^/:?#]+)(?::(\d{1,5}))?(\/[^?#]*)?$/.exec(s);
  if (m === null) return 'use http://host[:port][/path] (no query, no fragment; https is not supported)';
  const host = m[1] ?? '';
  const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(host);
  if (!ipv4 && !Hostname.is(host)) return `host "${host}" is not a lowercase hostname or an IPv4 address`;
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535 || m[2].startsWith('0'))) return 'port must be 1..65535 without leading zeros';
  if (m[3] !== undefined && !HttpPath.is(m[3])) return `path "${m[3]}" is not a valid URL path`;
  return undefined;
});

/** The URL's origin (`http://host[:port]`) and path (absent: none given). */
export function splitAuthUrl(url: AuthUrl): { origin: string; host: string; path?: HttpPath } {
  const m = /^(http:\/\/([^/:]+)(?::\d+)?)(\/.*)?$/.exec(url);
  return { origin: m?.[1] ?? url, host: m?.[2] ?? '', ...(m?.[3] !== undefined ? { path: m[3] as HttpPath } : {}) };
}

export const ForwardAuth = struct(
  'forwardAuth',
  {
    /** The path asked on the auth service (the original request is described by X-Forwarded-* headers). */
    path: withDefault(HttpPath, '/' as HttpPath),
    /** Headers of the auth service's 2xx answer copied into the upstream request (the client's own are replaced). */
    responseHeaders: withDefault(listOf(HeaderName, { max: MAX_AUTH_RESPONSE_HEADERS }), []),
    /** Connect and read timeout of the ask; past it the request fails as "authentication service unavailable". */
    timeout: withDefault(Duration, '5s' as Duration),
  },
  {
    /** The auth service as a Swarm service (with port), reached on its task addresses like a backend. */
    service: SwarmName,
    port: Port,
    /** Overlay network to reach the auth service on (default: the first the cluster may join, as for backends). */
    network: SwarmName,
    /** Or: the auth service by URL (http only); its host is resolved when asked (Docker's DNS in a task). */
    url: AuthUrl,
  },
);
export type ForwardAuth = t.TypeOf<typeof ForwardAuth>;

export const RATE_PERIODS = ['1s', '1m'] as const;
/**
 * Where a limit is counted. Replica: each proxy replica counts on its own (as Traefik does), so a
 * client whose connections reach N replicas may get up to N times the limit. Cluster: each replica
 * gets 1/N of the limit (N = proxy.replicas), which is exact when a client's connections spread
 * evenly over the replicas (the routing mesh spreads connections, not requests) and stricter than
 * asked for a client on one keep-alive connection.
 */
export const LIMIT_SCOPES = ['Replica', 'Cluster'] as const;

export const RateLimit = struct(
  'rateLimit',
  {
    /** Requests each client may make per period, on average. */
    average: intRange(1, 1_000_000),
    period: withDefault(oneOf(RATE_PERIODS), '1s'),
    /** Requests a client may make at once above the average (answered at once, not delayed). */
    burst: withDefault(intRange(0, 1_000_000), 0),
    scope: withDefault(oneOf(LIMIT_SCOPES), 'Replica'),
  },
  // Count per value of this request header (e.g. an API key) instead of per client address; requests without it are not limited.
  { header: HeaderName },
);
export type RateLimit = t.TypeOf<typeof RateLimit>;

/** Concurrent requests in progress per client address (NGINX) / connections (HAProxy). */
/** NGINX's limit_conn takes at most 65535. */
export const ConnectionLimit = struct('connectionLimit', { max: intRange(1, 65_535), scope: withDefault(oneOf(LIMIT_SCOPES), 'Replica') });
export type ConnectionLimit = t.TypeOf<typeof ConnectionLimit>;

export type CorsOrigin = string & t.Brand<{ readonly CorsOrigin: 'CorsOrigin' }>;
/**
 * An origin browsers send (`scheme://host[:port]`), or `scheme://*.domain[:port]` for any subdomain
 * (one or more labels), or `*` for every origin.
 */
export const CorsOrigin = brandedString<t.Brand<{ readonly CorsOrigin: 'CorsOrigin' }>>('origin like https://app.example.com, https://*.example.com or *', (s) => {
  if (s === '*') return undefined;
  const m = /^(https?):\/\/(\*\.)?([^:/]+)(?::(\d{1,5}))?$/.exec(s);
  if (m === null) return 'use scheme://host[:port] (no path), scheme://*.domain[:port], or *';
  if (!Hostname.is(m[3])) return `host "${m[3] ?? ''}" is not a lowercase hostname`;
  if (m[4] !== undefined && (Number(m[4]) < 1 || Number(m[4]) > 65535 || m[4].startsWith('0'))) return 'port must be 1..65535 without leading zeros';
  return undefined;
});

export const Cors = struct(
  'cors',
  {
    allowOrigins: listOf(CorsOrigin, { min: 1, max: 64 }),
    allowMethods: withDefault(listOf(oneOf(HTTP_METHODS), { min: 1, max: HTTP_METHODS.length }), ['GET', 'HEAD', 'POST']),
    allowHeaders: withDefault(listOf(HeaderName, { max: 64 }), []),
    exposeHeaders: withDefault(listOf(HeaderName, { max: 64 }), []),
    allowCredentials: withDefault(bool, false),
    maxAge: withDefault(Duration, '5s' as Duration),
  },
);
export type Cors = t.TypeOf<typeof Cors>;

/** A switch that answers every request of the rules with 503 and Retry-After, without removing the route. */
export const Maintenance = struct('maintenance', {
  enabled: withDefault(bool, true),
  retryAfter: withDefault(Duration, '5m' as Duration),
  /** The plain-text body (one line, printable ASCII). */
  message: withDefault(HeaderValue, 'This service is down for maintenance.' as HeaderValue),
});
export type Maintenance = t.TypeOf<typeof Maintenance>;

/** What the proxy does with request bodies of the rules. */
export const RequestBody = struct('requestBody', {}, {
  /** Largest body accepted (413 above it); 0: no limit. Replaces the cluster's defaults.clientMaxBodySize. */
  maxSize: Size,
  /** true: read the whole body before sending it on; false: stream it. Absent: the proxy's default. */
  buffering: bool,
});
export type RequestBody = t.TypeOf<typeof RequestBody>;

export type MimeType = string & t.Brand<{ readonly MimeType: 'MimeType' }>;
/**
 * A media type without parameters, e.g. application/json. At most 45 characters: NGINX's gzip_types
 * hash (64-byte buckets, nginx 1.22) refuses longer ones.
 */
export const MIME_TYPE_MAX = 45;
export const MimeType = brandedString<t.Brand<{ readonly MimeType: 'MimeType' }>>(`media type like text/html or application/json (at most ${MIME_TYPE_MAX} characters)`, (s) => {
  if (s.length > MIME_TYPE_MAX) return `longer than ${MIME_TYPE_MAX} characters`;
  return /^[a-z0-9][a-z0-9_.+-]*\/[a-z0-9][a-z0-9_.+-]*$/.test(s) ? undefined : 'use lowercase type/subtype (letters, digits, ".", "+", "-", "_")';
});

/** gzip for answers of the listed media types (when the client accepts it and the backend did not compress). */
export const Compression = struct('compression', { types: listOf(MimeType, { min: 1, max: 32 }) });
export type Compression = t.TypeOf<typeof Compression>;

/**
 * Statuses a custom error page can replace. Both proxies serve a page for them: NGINX's error_page
 * takes 300..599, HAProxy 2.6's http-error / deny / return only these (it refuses the others).
 */
export const ERROR_PAGE_STATUSES = [400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429, 500, 501, 502, 503, 504] as const;
/** The label a Swarm config needs to be usable as a page: swarmgate lists only those (a list of every config would carry all their data). */
export const ERROR_PAGE_LABEL = 'swarmgate.io/error-page';
export const MAX_ERROR_PAGES = 16;

export const ErrorPage = struct(
  'errorPages page',
  {
    /** The statuses answered with this page. */
    statuses: listOf(intRange(400, 599), { min: 1, max: ERROR_PAGE_STATUSES.length }),
    /** The Swarm config holding the page (labelled swarmgate.io/error-page); mounted into the proxy tasks. */
    config: SwarmName,
    contentType: withDefault(MimeType, 'text/html' as MimeType),
  },
);
export type ErrorPage = t.TypeOf<typeof ErrorPage>;

/** Custom bodies for error answers of the rules: the proxy's own errors, and with `upstream` the backends' too. */
export const ErrorPages = struct('errorPages', {
  pages: listOf(ErrorPage, { min: 1, max: MAX_ERROR_PAGES }),
  /** Also replace the body of a backend's answer with one of these statuses (NGINX proxy_intercept_errors). */
  upstream: withDefault(bool, false),
});
export type ErrorPages = t.TypeOf<typeof ErrorPages>;

export const MiddlewareSpec = struct(
  'Middleware spec',
  {},
  {
    /** Only clients whose address is in one of these ranges pass; others get 403. */
    ipAllow: CidrList,
    /** Clients whose address is in one of these ranges get 403. */
    ipDeny: CidrList,
    /** A login (HTTP Basic authentication) against users from a Docker secret in htpasswd format. */
    basicAuth: BasicAuth,
    /** Ask an auth service about every request (NGINX only). */
    forwardAuth: ForwardAuth,
    /** Requests per client (address or header value) and period; above it 429 with Retry-After. */
    rateLimit: RateLimit,
    /** Requests in progress at once per client address; above it 429. */
    connectionLimit: ConnectionLimit,
    /** Cross-origin requests from browsers: preflights answered by the proxy, CORS headers on answers. */
    cors: Cors,
    /** While enabled: 503 with Retry-After and a message for every request, the route stays programmed. */
    maintenance: Maintenance,
    /** Body size limit and buffering of requests. */
    requestBody: RequestBody,
    /** gzip for listed media types. */
    compression: Compression,
    /** Custom pages (from Swarm configs) for error statuses; a maintenance answer uses the 503 page. */
    errorPages: ErrorPages,
  },
);
export type MiddlewareSpec = t.TypeOf<typeof MiddlewareSpec>;

/** The behaviours a Middleware can hold, in the order the reference documents them. */
export const MIDDLEWARE_BEHAVIOURS = Object.keys(MiddlewareSpec.optional) as (keyof MiddlewareSpec)[];

/** Names of middlewares, in the order they apply. */
export const MiddlewareRefs = listOf(DnsLabel, { max: MAX_MIDDLEWARE_REFS });

/** The behaviours a spec sets, in MIDDLEWARE_BEHAVIOURS order. */
export function behavioursOf(spec: MiddlewareSpec): (keyof MiddlewareSpec)[] {
  return MIDDLEWARE_BEHAVIOURS.filter((b) => spec[b] !== undefined);
}

export function checkMiddleware(spec: MiddlewareSpec): Issue[] {
  if (behavioursOf(spec).length === 0) return [{ path: ['spec'], message: `a Middleware needs at least one behaviour: ${MIDDLEWARE_BEHAVIOURS.join(', ')}` }];
  const out: Issue[] = [];
  const c = spec.cors;
  if (c !== undefined) {
    if (c.allowCredentials && c.allowOrigins.includes('*' as CorsOrigin)) out.push({ path: ['spec', 'cors', 'allowOrigins'], message: 'browsers refuse "*" with allowCredentials: true; list the origins' });
    if (c.allowOrigins.length > 1 && c.allowOrigins.includes('*' as CorsOrigin)) out.push({ path: ['spec', 'cors', 'allowOrigins'], message: '"*" allows every origin: list it alone' });
  }
  const fa = spec.forwardAuth;
  if (fa !== undefined) {
    const at = ['spec', 'forwardAuth'];
    if (fa.url !== undefined && (fa.service !== undefined || fa.port !== undefined || fa.network !== undefined)) out.push({ path: at, message: 'give the auth service as url, or as service and port (with network), not both' });
    if (fa.url === undefined && (fa.service === undefined || fa.port === undefined)) out.push({ path: at, message: 'give the auth service as service and port, or as url' });
    if (fa.url !== undefined && splitAuthUrl(fa.url).path !== undefined && fa.path !== '/') out.push({ path: [...at, 'path'], message: 'the url has a path already: give the path in url or in path, not both' });
    const lower = fa.responseHeaders.map((h) => h.toLowerCase());
    lower.forEach((h, i) => {
      if (lower.indexOf(h) !== i) out.push({ path: ['spec', 'forwardAuth', 'responseHeaders', i], message: `header "${fa.responseHeaders[i] ?? ''}" is already listed` });
    });
  }
  const ep = spec.errorPages;
  if (ep !== undefined) {
    const seen = new Map<number, number>();
    ep.pages.forEach((page, i) =>
      page.statuses.forEach((status, j) => {
        const at = ['spec', 'errorPages', 'pages', i, 'statuses', j];
        if (!(ERROR_PAGE_STATUSES as readonly number[]).includes(status)) out.push({ path: at, message: `status ${status} cannot have a page; use one of ${ERROR_PAGE_STATUSES.join(', ')}` });
        const first = seen.get(status);
        if (first !== undefined) out.push({ path: at, message: `status ${status} already has a page (pages[${first}])` });
        else seen.set(status, i);
      }),
    );
  }
  for (const field of ['ipAllow', 'ipDeny'] as const) {
    const seen = new Map<string, number>();
    (spec[field] ?? []).forEach((c, i) => {
      const first = seen.get(c);
      if (first !== undefined) out.push({ path: ['spec', field, i], message: `duplicate address (already at ${field}[${first}])` });
      else seen.set(c, i);
    });
  }
  return out;
}

/** Duplicate names in one reference list, as issues at `at`. */
export function duplicateRefIssues(refs: readonly string[] | undefined, at: readonly (string | number)[]): Issue[] {
  const seen = new Set<string>();
  const out: Issue[] = [];
  (refs ?? []).forEach((r, i) => {
    if (seen.has(r)) out.push({ path: [...at, i], message: `middleware "${r}" is already listed` });
    seen.add(r);
  });
  return out;
}
