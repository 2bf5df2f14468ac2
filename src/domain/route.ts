/**
 * Route: hosts, optional TLS, and rules that send matching requests to weighted Swarm backends
 * or answer with a redirect. Structural decoding is here; cross-field rules are in route-checks.ts.
 */
import type * as t from 'io-ts';
import {
  CertificateName,
  CookieName,
  CookieValue,
  DnsLabel,
  Duration,
  GrpcMethodName,
  GrpcServiceName,
  HeaderMatchValue,
  HeaderName,
  HeaderValue,
  HostPattern,
  Hostname,
  HttpPath,
  MatchPath,
  Port,
  RedirectUrl,
  SwarmName,
  Weight,
} from './brands';
import * as tt from 'io-ts';
import { bool, expected, intRange, listOf, oneOf, struct, withDefault } from './codec';
import { CanarySpec } from './canary';
import { Timeouts } from './service-cluster';
import { MiddlewareRefs } from './middleware';

import { HTTP_METHODS } from './http-methods';
export { HTTP_METHODS, type HttpMethod } from './http-methods';

/** The conditions `proxy_next_upstream` accepts that make sense to expose; a fixed list on purpose. */
export const RETRY_CONDITIONS = [
  'error',
  'timeout',
  'invalid_header',
  'http_500',
  'http_502',
  'http_503',
  'http_504',
  'http_403',
  'http_404',
  'http_429',
  'non_idempotent',
] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

const HeaderMatch = struct('header match', { name: HeaderName, value: HeaderMatchValue });
/** A cookie with exactly this value (ingress-nginx's canary-by-cookie, with any name and value). */
const CookieMatch = struct('cookie match', { name: CookieName, value: CookieValue });
/** GRPCRoute's method match (exact): the request path `/<service>/<method>`, or every method of the service. */
const GrpcMatch = struct('grpc match', { service: GrpcServiceName }, { method: GrpcMethodName });
export type GrpcMatch = t.TypeOf<typeof GrpcMatch>;

export const Match = struct(
  'match',
  {
    headers: withDefault(listOf(HeaderMatch, { max: 16 }), []),
    cookies: withDefault(listOf(CookieMatch, { max: 16 }), []),
    methods: withDefault(listOf(oneOf(HTTP_METHODS), { max: HTTP_METHODS.length }), []),
  },
  { pathPrefix: MatchPath, path: MatchPath, grpc: GrpcMatch },
);
export type Match = t.TypeOf<typeof Match>;

const Rewrite = struct('rewrite', {}, { stripPrefix: bool, replacePrefix: HttpPath });

/**
 * How the proxy reaches a backend's tasks: `task` their overlay addresses, `vip` the service's
 * virtual IP, `host` the address of each task's node and the port the task publishes there in host
 * mode (no overlay network shared with the proxy needed; Interlock's host-mode backends).
 */
export const BACKEND_MODES = ['task', 'vip', 'host'] as const;
export type BackendMode = (typeof BACKEND_MODES)[number];

/**
 * What the proxy speaks to a backend: HTTP/1.1 (`http`, the default), HTTP/1.1 over TLS (`https`),
 * gRPC over HTTP/2 without TLS (`grpc`, h2c) or with TLS (`grpcs`).
 */
export const BACKEND_PROTOCOLS = ['http', 'https', 'grpc', 'grpcs'] as const;
export type BackendProtocol = (typeof BACKEND_PROTOCOLS)[number];

/** NGINX's defaults for a server before this field existed: one failure marks it down for one second. */
export const DEFAULT_MAX_FAILS = 1;
export const DEFAULT_FAIL_TIMEOUT = '1s' as Duration;

/**
 * Passive health check of each server of a backend (NGINX `max_fails` / `fail_timeout`): after
 * `maxFails` failed attempts within `failTimeout` the server is skipped for `failTimeout`.
 */
export const PassiveHealthCheck = struct('passiveHealthCheck', {
  maxFails: withDefault(intRange(0, 100), DEFAULT_MAX_FAILS),
  failTimeout: withDefault(Duration, DEFAULT_FAIL_TIMEOUT),
});
export type PassiveHealthCheck = t.TypeOf<typeof PassiveHealthCheck>;

/**
 * TLS to an `https`/`grpcs` backend (Gateway API's BackendTLSPolicy): verify its certificate against
 * the CA bundle in `caSecret` for the name `serverName` (also sent as SNI), and optionally present a
 * client certificate. Absent: encrypted but not verified, no SNI.
 */
export const BackendTls = struct(
  'backend tls',
  {},
  { caSecret: SwarmName, serverName: Hostname, clientCertificate: struct('client certificate', { certSecret: SwarmName, keySecret: SwarmName }) },
);
export type BackendTls = t.TypeOf<typeof BackendTls>;

export const Backend = struct(
  'backend',
  {
    service: SwarmName,
    port: Port,
    weight: withDefault(Weight, 1 as Weight),
    mode: withDefault(oneOf(BACKEND_MODES), 'task'),
  },
  // Which overlay network to reach the service on; by default the first (by name) the cluster may join.
  { network: SwarmName, passiveHealthCheck: PassiveHealthCheck, protocol: oneOf(BACKEND_PROTOCOLS), tls: BackendTls },
);
export type Backend = t.TypeOf<typeof Backend>;

export const REDIRECT_CODES = [301, 302, 307, 308] as const;
export type RedirectCode = (typeof REDIRECT_CODES)[number];
const RedirectCode = new tt.Type<RedirectCode, unknown, unknown>(
  '301 | 302 | 307 | 308',
  (u): u is RedirectCode => (REDIRECT_CODES as readonly unknown[]).includes(u),
  (u, c) => ((REDIRECT_CODES as readonly unknown[]).includes(u) ? tt.success(u as RedirectCode) : tt.failure(u, c, expected('one of 301, 302, 307, 308', u))),
  (a) => a,
);

export const Redirect = struct(
  'redirect',
  { code: withDefault(RedirectCode, 302 as RedirectCode) },
  { to: RedirectUrl, scheme: oneOf(['http', 'https'] as const), host: Hostname, port: Port, path: HttpPath },
);
export type Redirect = t.TypeOf<typeof Redirect>;

const Retries = struct('retries', {
  attempts: intRange(1, 10),
  on: withDefault(listOf(oneOf(RETRY_CONDITIONS), { min: 1, max: RETRY_CONDITIONS.length }), ['error', 'timeout']),
});

/** Who sets the affinity cookie: the proxy on a first response (default), or the application itself (Interlock's sticky_session_cookie). */
export const COOKIE_ISSUERS = ['Proxy', 'Application'] as const;
export type CookieIssuer = (typeof COOKIE_ISSUERS)[number];
const CookieAffinity = struct('cookie affinity', { name: CookieName, ttl: withDefault(Duration, '1h' as Duration) }, { issuedBy: oneOf(COOKIE_ISSUERS) });
const SessionAffinity = struct('sessionAffinity', {}, { cookie: CookieAffinity, clientIP: bool });

const HeaderPair = struct('header', { name: HeaderName, value: HeaderValue });
export const HeaderEdits = struct('header edits', {
  set: withDefault(listOf(HeaderPair, { max: 32 }), []),
  add: withDefault(listOf(HeaderPair, { max: 32 }), []),
  remove: withDefault(listOf(HeaderName, { max: 32 }), []),
});
export type HeaderEdits = t.TypeOf<typeof HeaderEdits>;

/**
 * How a rule shares requests among its backends. Weights (the default when absent): by declared weight,
 * whatever the replica counts. Tasks: one upstream pooling every running task of every backend, so each
 * backend's share follows its task count (Interlock's services sharing a host; canary by replica ratio).
 */
export const SPLIT_MODES = ['Weights', 'Tasks'] as const;
export type SplitMode = (typeof SPLIT_MODES)[number];

export const Rule = struct(
  'rule',
  {
    match: withDefault(Match, { headers: [], cookies: [], methods: [] }),
    websocket: withDefault(bool, false),
  },
  {
    rewrite: Rewrite,
    backends: listOf(Backend, { min: 1, max: 32 }),
    split: oneOf(SPLIT_MODES),
    redirect: Redirect,
    timeouts: Timeouts,
    retries: Retries,
    sessionAffinity: SessionAffinity,
    requestHeaders: HeaderEdits,
    responseHeaders: HeaderEdits,
    /** Middlewares for this rule only, applied after the cluster's defaults and the route's. */
    middlewares: MiddlewareRefs,
  },
);
export type Rule = t.TypeOf<typeof Rule>;

/**
 * Three forms, exactly one of them (route-checks.ts): `issuer`, an Issuer that orders the certificate
 * by ACME for the route's hosts (the core stores it and hands it to the proxies, ADR 0013); `name`, a certificate stored with `swarmgate tls
 * apply` (the plan resolves it to the newest version's secrets, so a new pair under the same name
 * rolls the proxies without editing the route), or `certSecret` + `keySecret`, Docker secrets the
 * user manages. Every field is optional here so that the check can say which form is incomplete.
 */
export const Certificate = struct('certificate', {}, { name: CertificateName, certSecret: SwarmName, keySecret: SwarmName, issuer: DnsLabel });
export type Certificate = t.TypeOf<typeof Certificate>;

/**
 * Client certificates at the edge (Gateway API's frontend validation, ingress-nginx's auth-tls-*):
 * `Require` refuses a request without a certificate the CA bundle in `caSecret` verifies; `Request`
 * asks for one and lets clients without a certificate through (a presented but unverifiable one is
 * refused in both modes). `crlSecret`: a PEM CRL of certificates to refuse. The verification result,
 * subject, issuer and fingerprint reach the backend as X-Client-Cert-* headers.
 */
export const CLIENT_CERTIFICATE_MODES = ['Require', 'Request'] as const;
export type ClientCertificateMode = (typeof CLIENT_CERTIFICATE_MODES)[number];
export const ClientCertificate = struct(
  'clientCertificate',
  { mode: withDefault(oneOf(CLIENT_CERTIFICATE_MODES), 'Require'), caSecret: SwarmName },
  { crlSecret: SwarmName },
);
export type ClientCertificate = t.TypeOf<typeof ClientCertificate>;

/**
 * The request headers that tell a backend about the client certificate of a route with
 * tls.clientCertificate (both renderers): names fixed and documented (docs/reference/route.md,
 * "Client certificates"), values NGINX's and HAProxy's equivalents. A client's own headers of these
 * names are never passed on.
 */
export const CLIENT_CERT_HEADERS = {
  /** `SUCCESS`, or `NONE` without a certificate (tls.clientCertificate.mode Request). */
  verify: 'X-Client-Cert-Verify',
  /** The certificate's subject DN, RFC 2253 (`CN=alice,O=Example`). */
  subject: 'X-Client-Cert-Subject',
  /** Its issuer DN, RFC 2253. */
  issuer: 'X-Client-Cert-Issuer',
  /** SHA-1 of the DER certificate, lowercase hex (NGINX's $ssl_client_fingerprint). */
  fingerprint: 'X-Client-Cert-Fingerprint',
} as const;

export const CLIENT_CERT_HEADER_NAMES: readonly string[] = Object.values(CLIENT_CERT_HEADERS);

export const TLS_MODES = ['Terminate', 'Passthrough'] as const;
export const Tls = struct(
  'tls',
  { mode: oneOf(TLS_MODES), redirectHTTP: withDefault(bool, false) },
  { certificate: Certificate, clientCertificate: ClientCertificate },
);
export type Tls = t.TypeOf<typeof Tls>;

export const RouteSpec = struct(
  'Route spec',
  {
    serviceCluster: withDefault(DnsLabel, 'default' as DnsLabel),
    hosts: listOf(HostPattern, { min: 1, max: 100 }),
    rules: listOf(Rule, { min: 1, max: 100 }),
    defaultBackend: withDefault(bool, false),
  },
  // Progressive delivery; see canary.ts for how it relates to rules[].backends.
  // middlewares: names of Middleware objects for every rule of the route (after the cluster's defaults).
  { tls: Tls, canary: CanarySpec, middlewares: MiddlewareRefs },
);
export type RouteSpec = t.TypeOf<typeof RouteSpec>;
