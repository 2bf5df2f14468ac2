/**
 * Middleware references → the policies of each rule. A route's rules get, in this order, the
 * middlewares of its ServiceCluster's `defaults.middlewares`, of its `spec.middlewares` and of the
 * rule's own `middlewares` (a name listed twice applies once, at its first place). A name that is
 * not a valid stored Middleware is a MiddlewareNotFound problem: the route is left out.
 * Passthrough routes have no HTTP requests to apply policies to: cluster defaults skip them.
 */
import { durationMs, sizeBytes } from '../domain/brands';
import { canonicalCidr, type Cidr } from '../domain/cidr';
import { didYouMean } from '../domain/did-you-mean';
import type { MiddlewareObject, RouteObject } from '../domain/object';
import { ERROR_PAGE_LABEL, splitAuthUrl, type ErrorPages, type MiddlewareSpec, type RateLimit } from '../domain/middleware';
import type { Port, SwarmName } from '../domain/brands';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import type { Rejected, Stored } from './inputs';
import type { ModelErrorPages, ModelRateLimit, RulePolicies, Upstream } from './model';
import type { RefProblem, Resolution } from './resolve-backends';

/** Valid middlewares by name, and the names of invalid ones (so the message can say which). */
export interface MiddlewareIndex {
  readonly valid: ReadonlyMap<string, MiddlewareSpec>;
  readonly invalid: ReadonlySet<string>;
}

export function indexMiddlewares(stored: readonly Stored<MiddlewareObject>[] | undefined, rejected: readonly Rejected[]): MiddlewareIndex {
  return {
    valid: new Map((stored ?? []).map((s) => [s.object.metadata.name, s.object.spec])),
    invalid: new Set(rejected.filter((r) => r.kind === 'Middleware').map((r) => r.name)),
  };
}

function hint(name: string, index: MiddlewareIndex): string {
  const near = didYouMean(name, [...index.valid.keys()].sort());
  return near === undefined ? '' : ` (did you mean "${near}"?)`;
}

export interface ResolvedPolicies {
  /** Per rule of the route (same index): its policies, or undefined when no middleware applies. */
  readonly rules: readonly (RulePolicies | undefined)[];
  readonly problems: readonly RefProblem[];
  /** The auth services' upstreams (forwardAuth), to add to the route's. */
  readonly upstreams: readonly Upstream[];
}

/** A forwardAuth's auth service given as a Swarm service. */
export interface AuthService {
  readonly service: SwarmName;
  readonly port: Port;
  readonly network?: SwarmName;
}

/** Resolves a forwardAuth's auth service like a backend (task addresses on an overlay network). */
export type AuthServiceResolver = (auth: AuthService) => Resolution;

/** Canonical forms (both proxies read them), sorted and without duplicates ("::1" and "0:0:…:1" are one). */
function addresses(list: readonly Cidr[]): Cidr[] {
  return [...new Set(list.map((c) => canonicalCidr(c) as Cidr))].sort();
}

/**
 * A rate limit as each replica enforces it. Cluster scope divides by the replica count; the rate is
 * kept per second when that stays a whole number, else counted per minute (NGINX and HAProxy take
 * whole numbers), never below one request per minute.
 */
export function replicaRate(r: RateLimit, replicas: number): ModelRateLimit {
  const n = r.scope === 'Cluster' ? Math.max(1, replicas) : 1;
  const perSecond = r.period === '1s' && r.average % n === 0;
  const rate = perSecond ? r.average / n : Math.max(1, Math.floor((r.average * (r.period === '1s' ? 60 : 1)) / n));
  const per = perSecond ? 's' : 'm';
  const burst = Math.floor(r.burst / n);
  const retryAfter = Math.max(1, Math.ceil((per === 's' ? 1 : 60) / rate));
  return { rate, per, burst, ...(r.header !== undefined ? { header: r.header } : {}), retryAfter };
}

/** One page per status, sorted by status (checkMiddleware refuses a status listed twice). */
function modelErrorPages(e: ErrorPages): ModelErrorPages {
  const pages = e.pages.flatMap((p) => p.statuses.map((status) => ({ status, config: p.config, contentType: p.contentType })));
  return { pages: pages.sort((a, b) => a.status - b.status), upstream: e.upstream };
}

function merge(names: readonly string[], index: MiddlewareIndex, replicas: number): RulePolicies | undefined {
  if (names.length === 0) return undefined;
  const specs = names.flatMap((n) => {
    const s = index.valid.get(n);
    return s === undefined ? [] : [s];
  });
  // Single-valued behaviours: the last middleware that sets one wins (a route's own over its cluster's).
  const basicAuth = specs.flatMap((s) => (s.basicAuth !== undefined ? [s.basicAuth] : [])).at(-1);
  const cors = specs.flatMap((s) => (s.cors !== undefined ? [s.cors] : [])).at(-1);
  const body = specs.flatMap((s) => (s.requestBody !== undefined ? [s.requestBody] : [])).at(-1);
  const compression = specs.flatMap((s) => (s.compression !== undefined ? [s.compression] : [])).at(-1);
  const errorPages = specs.flatMap((s) => (s.errorPages !== undefined ? [s.errorPages] : [])).at(-1);
  const maintenance = specs.flatMap((s) => (s.maintenance?.enabled === true ? [s.maintenance] : [])).at(-1);
  return {
    middlewares: names,
    ipAllow: specs.flatMap((s) => (s.ipAllow !== undefined ? [addresses(s.ipAllow)] : [])),
    ipDeny: specs.flatMap((s) => (s.ipDeny !== undefined ? [addresses(s.ipDeny)] : [])),
    rateLimits: specs.flatMap((s) => (s.rateLimit !== undefined ? [replicaRate(s.rateLimit, replicas)] : [])),
    connectionLimits: specs.flatMap((s) => (s.connectionLimit !== undefined ? [{ max: s.connectionLimit.scope === 'Cluster' ? Math.max(1, Math.floor(s.connectionLimit.max / Math.max(1, replicas))) : s.connectionLimit.max }] : [])),
    ...(cors !== undefined
      ? {
          cors: {
            allowOrigins: cors.allowOrigins,
            allowMethods: cors.allowMethods,
            allowHeaders: cors.allowHeaders,
            exposeHeaders: cors.exposeHeaders,
            allowCredentials: cors.allowCredentials,
            maxAgeSeconds: Math.floor(durationMs(cors.maxAge) / 1000),
          },
        }
      : {}),
    ...(body !== undefined && (body.maxSize !== undefined || body.buffering !== undefined)
      ? { requestBody: { ...(body.maxSize !== undefined ? { maxBytes: sizeBytes(body.maxSize) } : {}), ...(body.buffering !== undefined ? { buffering: body.buffering } : {}) } }
      : {}),
    ...(compression !== undefined ? { compression: { types: [...new Set(compression.types)].sort() } } : {}),
    ...(maintenance !== undefined ? { maintenance: { retryAfterSeconds: Math.max(1, Math.floor(durationMs(maintenance.retryAfter) / 1000)), message: maintenance.message } } : {}),
    ...(errorPages !== undefined ? { errorPages: modelErrorPages(errorPages) } : {}),
    ...(basicAuth !== undefined ? { basicAuth: { secret: basicAuth.secret, realm: basicAuth.realm, ...(basicAuth.userHeader !== undefined ? { userHeader: basicAuth.userHeader } : {}) } } : {}),
  };
}

/**
 * @param secretExists whether a Docker secret of that name exists (a basicAuth users file that does
 *   not is SecretNotFound: the route is left out, as for a missing TLS secret).
 */
export function resolvePolicies(
  route: RouteObject,
  cluster: ServiceClusterSpec,
  index: MiddlewareIndex,
  secretExists: (name: string) => boolean,
  resolveAuth?: AuthServiceResolver,
  pageExists: (config: string) => boolean = () => false,
): ResolvedPolicies {
  const passthrough = route.spec.tls?.mode === 'Passthrough';
  const base = [...(passthrough ? [] : (cluster.defaults.middlewares ?? [])), ...(route.spec.middlewares ?? [])];
  const perRule = route.spec.rules.map((r) => [...new Set([...base, ...(r.middlewares ?? [])])]);
  const missing = [...new Set(perRule.flat())].filter((n) => !index.valid.has(n));
  const problems: RefProblem[] = missing.map((n) => ({
    reason: 'MiddlewareNotFound',
    message: index.invalid.has(n)
      ? `middleware "${n}" is invalid (see swarmgate describe middleware ${n}); the route is not programmed until it is fixed`
      : `middleware "${n}" not found${hint(n, index)}; the route is not programmed until it exists`,
  }));
  const merged = perRule.map((names) => merge(names, index, cluster.proxy.replicas));
  // forwardAuth: the last middleware's; its service resolved like a backend. A service that does not
  // resolve leaves the route out (it must never be served without the login its owner asked for).
  const upstreams = new Map<string, Upstream>();
  const authProblems = new Map<string, RefProblem>();
  const rules = merged.map((p, i) => {
    const auth = (perRule[i] ?? []).flatMap((n) => index.valid.get(n)?.forwardAuth ?? []).at(-1);
    if (p === undefined || auth === undefined) return p;
    const common = { responseHeaders: auth.responseHeaders, timeout: auth.timeout };
    // By URL: nothing to resolve in the swarm; the proxy resolves the host when it asks.
    if (auth.url !== undefined) {
      const u = splitAuthUrl(auth.url);
      return { ...p, forwardAuth: { url: { origin: u.origin, host: u.host }, path: u.path ?? auth.path, ...common } };
    }
    if (auth.service === undefined || auth.port === undefined) return p; // checkMiddleware refuses this
    const res = resolveAuth?.({ service: auth.service, port: auth.port, ...(auth.network !== undefined ? { network: auth.network } : {}) });
    if (res === undefined || !res.ok) {
      const problem = res?.problem ?? { reason: 'BackendNotFound' as const, message: `auth service "${auth.service}" cannot be resolved` };
      authProblems.set(problem.message, { reason: problem.reason, message: `forwardAuth: ${problem.message}; the route is not programmed until it resolves` });
      return p;
    }
    upstreams.set(res.upstream.name, res.upstream);
    return { ...p, forwardAuth: { upstream: res.upstream.name, service: auth.service, port: auth.port, path: auth.path, ...common } };
  });
  problems.push(...authProblems.values());
  const secrets = [...new Set(rules.flatMap((r) => (r?.basicAuth !== undefined ? [r.basicAuth.secret] : [])))];
  for (const s of secrets.filter((name) => !secretExists(name)))
    problems.push({ reason: 'SecretNotFound', message: `secret "${s}" (basicAuth users) not found; the route is not programmed until it exists` });
  const pages = [...new Set(rules.flatMap((r) => (r?.errorPages?.pages ?? []).map((p) => p.config)))].sort();
  for (const c of pages.filter((name) => !pageExists(name)))
    problems.push({ reason: 'ConfigNotFound', message: `config "${c}" (errorPages) not found, or it lacks the label ${ERROR_PAGE_LABEL}; the route is not programmed until it exists` });
  return { rules, problems, upstreams: [...upstreams.values()] };
}

/** Sticky counters HAProxy 2.6 tracks per request (MAX_SESS_STKCTR): rate limits + one for connection limits. */
export const MAX_HAPROXY_COUNTERS = 3;

/** One Route value a proxy kind cannot serve, with the middleware that holds it. */
export interface UnsupportedPolicy {
  readonly path: (string | number)[];
  readonly message: string;
}

/**
 * Behaviours of the route's middlewares that a proxy of `kind` cannot express (see the README's
 * parity table). HAProxy reads basicAuth users only from its own configuration (a `userlist`), and
 * swarmgate never writes a secret's content into a configuration or a Swarm config.
 */
export function unsupportedPolicies(kind: 'nginx' | 'haproxy', route: RouteObject, cluster: ServiceClusterSpec, index: MiddlewareIndex): UnsupportedPolicy[] {
  if (kind !== 'haproxy') return [];
  const passthrough = route.spec.tls?.mode === 'Passthrough';
  const sources: { path: (string | number)[]; names: readonly string[] }[] = [
    { path: ['spec', 'defaults', 'middlewares'], names: passthrough ? [] : (cluster.defaults.middlewares ?? []) },
    { path: ['spec', 'middlewares'], names: route.spec.middlewares ?? [] },
    ...route.spec.rules.map((r, i) => ({ path: ['spec', 'rules', i, 'middlewares'], names: r.middlewares ?? [] })),
  ];
  const out: UnsupportedPolicy[] = [];
  const seen = new Set<string>();
  for (const src of sources) {
    for (const name of src.names) {
      if (seen.has(name)) continue;
      seen.add(name);
      const spec = index.valid.get(name);
      if ((spec?.rateLimit?.burst ?? 0) > 0)
        out.push({ path: src.path, message: `middleware "${name}": rateLimit.burst is not supported by HAProxy (it counts requests in a sliding window of the period, which admits up to average at once); leave burst out` });
      const max = spec?.requestBody?.maxSize;
      const clusterMax = sizeBytes(cluster.defaults.clientMaxBodySize);
      if (max !== undefined && clusterMax !== 0 && (sizeBytes(max) === 0 || sizeBytes(max) > clusterMax))
        out.push({ path: src.path, message: `middleware "${name}": requestBody.maxSize ${max} is larger than the cluster's defaults.clientMaxBodySize ${cluster.defaults.clientMaxBodySize}, which HAProxy checks before it knows the rule; raise the cluster's instead` });
      if (spec?.forwardAuth !== undefined)
        out.push({ path: src.path, message: `middleware "${name}": forwardAuth is not supported by HAProxy (2.6 has no subrequest to ask an auth service without Lua); use an NGINX cluster` });
      if (spec?.basicAuth !== undefined)
        out.push({ path: src.path, message: `middleware "${name}": basicAuth is not supported by HAProxy (it reads users only from its configuration, which never holds secrets); use an NGINX cluster` });
    }
  }
  // HAProxy 2.6 tracks at most 3 sticky counters per request: one per rate limit, one for connections.
  const base = [...(passthrough ? [] : (cluster.defaults.middlewares ?? [])), ...(route.spec.middlewares ?? [])];
  route.spec.rules.forEach((r, i) => {
    const specs = [...new Set([...base, ...(r.middlewares ?? [])])].flatMap((n) => index.valid.get(n) ?? []);
    const counters = specs.filter((s) => s.rateLimit !== undefined).length + (specs.some((s) => s.connectionLimit !== undefined) ? 1 : 0);
    if (counters > MAX_HAPROXY_COUNTERS)
      out.push({ path: ['spec', 'rules', i, 'middlewares'], message: `${counters} rate and connection limits apply to this rule; HAProxy 2.6 tracks at most ${MAX_HAPROXY_COUNTERS} per request` });
  });
  return out;
}

/** Which routes use a middleware: directly, through a rule, or through their cluster's defaults. */
export function middlewareUsers(name: string, routes: readonly RouteObject[], clusterDefaults: ReadonlyMap<string, readonly string[]>): string[] {
  return routes
    .filter((r) => {
      if ((r.spec.middlewares ?? []).some((m) => m === name)) return true;
      if (r.spec.rules.some((rule) => (rule.middlewares ?? []).some((m) => m === name))) return true;
      return r.spec.tls?.mode !== 'Passthrough' && (clusterDefaults.get(r.spec.serviceCluster)?.includes(name) ?? false);
    })
    .map((r) => r.metadata.name)
    .sort();
}
