/**
 * buildModel: desired specs + Swarm snapshot → one ProxyModel per ServiceCluster and conditions
 * per object. Pure and total: a bad or conflicting route is recorded as a condition and left out,
 * every other route is still built (per-route isolation). Same inputs ⇒ same output, byte for byte.
 */
import type { HostPattern, HttpPath, SwarmName } from '../domain/brands';
import { condition, type Condition, type Reason } from '../domain/conditions';
import { formatPath, type Issue } from '../domain/issue';
import { objectKey } from '../domain/meta';
import type { RouteObject } from '../domain/object';
import type { Rule } from '../domain/route';
import { DEFAULT_CLUSTER_NAME, DEFAULT_CLUSTER_SPEC, type ServiceClusterSpec } from '../domain/service-cluster';
import type { Snapshot } from '../domain/snapshot';
import { certificateVersions, currentCertificate, expiryCondition, mismatchCondition, type CertificateVersion } from './certificates';
import { byAge, type DesiredState, type Stored } from './inputs';
import type {
  Affinity,
  LabelRouteStatus,
  ModelResult,
  ModelRule,
  PassthroughHost,
  PathMatch,
  ProgrammedRoute,
  ProxyAction,
  ProxyModel,
  RedirectAction,
  TlsTerminate,
  Upstream,
  VirtualHost,
  WeightedTarget,
} from './model';
import { lowerCase, NameTable } from './names';
import { groupPaths, normalisePrefix } from './path-groups';
import { indexMiddlewares, resolvePolicies, unsupportedPolicies, type ResolvedPolicies } from './middlewares';
import { MAX_NGINX_CONDITIONAL_RULES, PROXY_CAPABILITIES, unsupportedValues } from './proxy-capabilities';
import { indexSnapshot, poolUpstream, resolveBackend, type RefProblem, type SnapshotIndex } from './resolve-backends';

/**
 * Without a `retries` field: NGINX's own default, every server once on connection errors and
 * timeouts (0 = no limit), so a request reaches the "no task reachable" 503 backup rather than
 * failing with 502 while a backend's tasks are being replaced or removed.
 */
export const DEFAULT_RETRIES = { attempts: 0, on: ['error', 'timeout'] } as const;
/** NGINX's limit of header/method-conditioned rules per host (see proxy-capabilities.ts). */
export const MAX_CONDITIONAL_RULES_PER_HOST = MAX_NGINX_CONDITIONAL_RULES;
const NO_EDITS = { set: [], add: [], remove: [] };
/** The Interlock labels that only describe a backend (kept in step with BACKEND_LABELS in src/desired/interlock-labels.ts). */
const BACKEND_LABEL_NAMES = 'port, network, backend_mode, max_fails and fail_timeout';

interface CompiledRoute {
  readonly rules: ModelRule[];
  readonly upstreams: Upstream[];
  readonly problems: RefProblem[];
  readonly passthroughTargets: WeightedTarget[];
  readonly passthroughAffinity: Affinity;
  /** TLS termination with the certificate resolved to secret names (a stored certificate: its newest version). */
  readonly tls?: TlsTerminate;
}

/** Inputs of buildModel besides specs and snapshot. */
export interface BuildOptions {
  /**
   * The time the model is built for: routes whose stored certificate expires within
   * EXPIRY_WARNING_DAYS get a CertificateExpiring condition. Absent: no expiry is judged, so callers
   * that want byte-identical output for the same files (golden tests, render) stay deterministic.
   */
  readonly now?: Date;
}

type Certificates = ReadonlyMap<string, readonly CertificateVersion[]>;

function affinityOf(rule: Rule): Affinity {
  const a = rule.sessionAffinity;
  if (a?.cookie !== undefined) return { kind: 'cookie', name: a.cookie.name, ttl: a.cookie.ttl, ...(a.cookie.issuedBy === 'Application' ? { issuedBy: 'Application' as const } : {}) };
  if (a?.clientIP === true) return { kind: 'clientIP' };
  return { kind: 'none' };
}

function matchOf(rule: Rule): PathMatch {
  if (rule.match.path !== undefined) return { kind: 'exact', path: rule.match.path };
  return { kind: 'prefix', path: normalisePrefix(rule.match.pathPrefix ?? ('/' as HttpPath)) };
}

function redirectAction(rule: Rule): RedirectAction {
  const r = rule.redirect;
  if (r === undefined) throw new Error('redirectAction on a rule without redirect');
  return {
    kind: 'redirect',
    code: r.code,
    ...(r.to !== undefined ? { to: r.to } : {}),
    ...(r.scheme !== undefined ? { scheme: r.scheme } : {}),
    ...(r.host !== undefined ? { host: r.host } : {}),
    ...(r.port !== undefined ? { port: r.port } : {}),
    ...(r.path !== undefined ? { path: r.path } : {}),
    responseHeaders: rule.responseHeaders ?? NO_EDITS,
  };
}

function compileRoute(route: RouteObject, cluster: ServiceClusterSpec, idx: SnapshotIndex, certs: Certificates, names: NameTable, policies: ResolvedPolicies['rules']): CompiledRoute {
  const upstreams: Upstream[] = [];
  const problems: RefProblem[] = [];
  const resolveTargets = (rule: Rule, affinity: Affinity): WeightedTarget[] => {
    const targets: WeightedTarget[] = [];
    const pooled: Upstream[] = [];
    for (const backend of rule.backends ?? []) {
      const res = resolveBackend(backend, affinity, cluster.networks, idx, names);
      if (!res.ok) {
        problems.push(res.problem);
        continue;
      }
      upstreams.push(res.upstream);
      if (rule.split === 'Tasks') {
        if (backend.weight > 0) pooled.push(res.upstream);
      } else if (backend.weight > 0 && res.upstream.servers.length > 0) targets.push({ upstream: res.upstream.name, weight: backend.weight });
    }
    // split: Tasks — one upstream with every member's servers: the shares follow the task counts.
    const pool = poolUpstream(pooled, affinity, names);
    if (pool !== undefined) {
      upstreams.push(pool);
      if (pool.servers.length > 0) targets.push({ upstream: pool.name, weight: 1 });
    }
    return targets;
  };
  const rules: ModelRule[] = [];
  let passthroughTargets: WeightedTarget[] = [];
  let passthroughAffinity: Affinity = { kind: 'none' };
  route.spec.rules.forEach((rule, i) => {
    const affinity = affinityOf(rule);
    const p = policies[i];
    const base = { id: `${route.metadata.name}-r${i}`, route: route.metadata.name, match: matchOf(rule), headers: rule.match.headers, cookies: rule.match.cookies, methods: rule.match.methods, ...(p !== undefined ? { policies: p } : {}) };
    if (rule.redirect !== undefined) {
      rules.push({ ...base, action: redirectAction(rule) });
      return;
    }
    const targets = resolveTargets(rule, affinity);
    if (route.spec.tls?.mode === 'Passthrough') {
      passthroughTargets = targets;
      passthroughAffinity = affinity;
      return;
    }
    const d = cluster.defaults.timeouts;
    const t = rule.timeouts;
    const rewrite = rule.rewrite?.stripPrefix === true ? ('/' as HttpPath) : rule.rewrite?.replacePrefix;
    const action: ProxyAction = {
      kind: 'proxy',
      targets,
      affinity,
      ...(rewrite !== undefined ? { rewrite: { replacePrefix: rewrite } } : {}),
      timeouts: { connect: t?.connect ?? d.connect, read: t?.read ?? d.read, send: t?.send ?? d.send },
      retries: rule.retries ?? { attempts: DEFAULT_RETRIES.attempts, on: [...DEFAULT_RETRIES.on] },
      websocket: rule.websocket,
      requestHeaders: rule.requestHeaders ?? NO_EDITS,
      responseHeaders: rule.responseHeaders ?? NO_EDITS,
    };
    rules.push({ ...base, action });
  });
  const tls = terminateOf(route, certs);
  return { rules, upstreams, problems, passthroughTargets, passthroughAffinity, ...(tls !== undefined ? { tls } : {}) };
}

/** Per-cluster accumulation while routes are admitted oldest first. */
class ClusterBuilder {
  readonly claims = new Map<string, string>();
  /** Per host: the TLS setting of its HTTP server, from the oldest route on it. */
  readonly hostServer = new Map<string, { tls: 'none' | TlsTerminate; route: string }>();
  /** Per host: the route it is passed through to. */
  readonly hostPassthrough = new Map<string, string>();
  readonly hostRules = new Map<string, { routes: string[]; rules: ModelRule[] }>();
  readonly passthrough: PassthroughHost[] = [];
  readonly upstreams = new Map<string, Upstream>();
  /**
   * Upstream names, one per distinct upstream identity in the cluster (NGINX compares them without
   * regard to case). Routes are compiled oldest first, so an older route's upstream keeps its name.
   */
  readonly names = new NameTable(lowerCase);
  readonly programmed: ProgrammedRoute[] = [];
  defaultRoute?: { name: string; rules: ModelRule[]; tls?: TlsTerminate; host: HostPattern };

  constructor(
    readonly name: string,
    readonly spec: ServiceClusterSpec,
  ) {}

  /** The first conflict this route would cause, or undefined; `owner` is the route that holds what it wants. */
  conflict(route: RouteObject, compiled: CompiledRoute): { reason: Reason; message: string; owner?: string } | undefined {
    const wanted = hostTlsOf(route, compiled);
    for (const host of route.spec.hosts) {
      // A host has two sides. Its HTTP server (port 80, and 443 when it terminates TLS) has one TLS setting that
      // every route on it must ask for: none, or the same termination (certificate and redirectHTTP), else one
      // route would change how the other's paths are served. The passthrough side (443 only) has one route.
      const server = this.hostServer.get(host);
      const passedBy = this.hostPassthrough.get(host);
      if (wanted === 'passthrough') {
        if (passedBy !== undefined) return { reason: 'HostConflict', message: `host "${host}" is already passed through by route "${passedBy}"`, owner: passedBy };
        if (server !== undefined && server.tls !== 'none') return tlsConflict(host, server.route, server.tls, wanted);
        continue;
      }
      // Unresolved TLS (a certificate not found) claims nothing: that route is left out as CertificateNotFound.
      if (wanted !== undefined) {
        if (wanted !== 'none' && passedBy !== undefined) return tlsConflict(host, passedBy, 'passthrough', wanted);
        if (server !== undefined && !sameHostTls(server.tls, wanted)) return tlsConflict(host, server.route, server.tls, wanted);
      }
      for (const rule of compiled.rules) {
        const owner = this.claims.get(claimKey(host, rule));
        if (owner !== undefined)
          return { reason: 'HostConflict', message: `host "${host}" ${describeMatch(rule)} is already routed by route "${owner}"`, owner };
      }
    }
    const conditional = compiled.rules.filter(isConditional).length;
    const maxConditional = PROXY_CAPABILITIES[this.spec.proxy.kind].maxConditionalRulesPerHost;
    for (const host of route.spec.hosts) {
      const existing = (this.hostRules.get(host)?.rules ?? []).filter(isConditional).length;
      if (maxConditional !== undefined && conditional > 0 && existing + conditional > maxConditional)
        return {
          reason: 'UnsupportedValue',
          message: `host "${host}" would have ${existing + conditional} header/method-matched rules; at most ${maxConditional} per host are supported`,
        };
    }
    if (route.spec.defaultBackend && this.defaultRoute !== undefined)
      return { reason: 'DefaultBackendConflict', message: `route "${this.defaultRoute.name}" is already the default backend of service cluster "${this.name}"` };
    return undefined;
  }

  admit(stored: Stored<RouteObject>, compiled: CompiledRoute): void {
    const route = stored.object;
    const name = route.metadata.name;
    for (const u of compiled.upstreams) this.upstreams.set(u.name, u);
    const hostTls = hostTlsOf(route, compiled);
    for (const host of route.spec.hosts) {
      if (hostTls === 'passthrough') {
        this.hostPassthrough.set(host, name);
        this.passthrough.push({ host, route: name, targets: compiled.passthroughTargets, affinity: compiled.passthroughAffinity });
        continue;
      }
      // The first route admitted on a host (the oldest) sets what every later one must agree with.
      if (hostTls !== undefined && !this.hostServer.has(host)) this.hostServer.set(host, { tls: hostTls, route: name });
      for (const rule of compiled.rules) this.claims.set(claimKey(host, rule), name);
      const entry = this.hostRules.get(host) ?? { routes: [], rules: [] };
      entry.routes.push(name);
      entry.rules.push(...compiled.rules);
      this.hostRules.set(host, entry);
    }
    if (route.spec.defaultBackend) {
      const terminate = compiled.tls;
      const host = route.spec.hosts[0] as HostPattern;
      this.defaultRoute = { name, rules: compiled.rules, host, ...(terminate !== undefined ? { tls: terminate } : {}) };
    }
    this.programmed.push({ name, generation: stored.generation });
  }

  build(): ProxyModel {
    const virtualHosts: VirtualHost[] = [...this.hostRules.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host, { routes, rules }]) => {
        const tls = this.hostServer.get(host)?.tls;
        return {
          host: host as HostPattern,
          routes,
          ...(tls !== undefined && tls !== 'none' ? { tls } : {}),
          paths: groupPaths(rules),
        };
      });
    const d = this.defaultRoute;
    const defaultServer: VirtualHost | undefined =
      d === undefined ? undefined : { host: d.host, routes: [d.name], ...(d.tls !== undefined ? { tls: d.tls } : {}), paths: groupPaths(d.rules) };
    const secrets = new Set<SwarmName>();
    for (const vh of [...virtualHosts, ...(defaultServer !== undefined ? [defaultServer] : [])]) {
      if (vh.tls !== undefined) {
        secrets.add(vh.tls.certSecret);
        secrets.add(vh.tls.keySecret);
      }
    }
    // basicAuth users files: mounted like certificates, but read by NGINX's workers at request time.
    const workerSecrets = new Set<SwarmName>();
    for (const vh of [...virtualHosts, ...(defaultServer !== undefined ? [defaultServer] : [])])
      for (const g of vh.paths)
        for (const r of [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]) if (r.policies?.basicAuth !== undefined) workerSecrets.add(r.policies.basicAuth.secret);
    for (const s of workerSecrets) secrets.add(s);
    const upstreams = [...this.upstreams.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return {
      cluster: this.name,
      spec: this.spec,
      virtualHosts,
      passthrough: [...this.passthrough].sort((a, b) => (a.host < b.host ? -1 : 1)),
      ...(defaultServer !== undefined ? { defaultServer } : {}),
      upstreams,
      secrets: [...secrets].sort(),
      ...(workerSecrets.size > 0 ? { workerSecrets: [...workerSecrets].sort() } : {}),
      networks: [...new Set(upstreams.flatMap((u) => (u.network !== undefined ? [u.network] : [])))].sort(),
      routes: [...this.programmed].sort((a, b) => (a.name < b.name ? -1 : 1)),
    };
  }
}

/**
 * What a route asks of each of its hosts' server: plain HTTP only ('none'), TLS termination with one
 * certificate and redirect setting, or passthrough. Undefined: a Terminate route whose certificate did
 * not resolve (it is left out, so it claims nothing).
 */
export type HostTls = 'none' | 'passthrough' | TlsTerminate;

function hostTlsOf(route: RouteObject, compiled: CompiledRoute): HostTls | undefined {
  const mode = route.spec.tls?.mode;
  if (mode === undefined) return 'none';
  if (mode === 'Passthrough') return 'passthrough';
  return compiled.tls;
}

/** Every field of a termination is per server: compare them all, so a field added later cannot be shared silently. */
function sameHostTls(a: HostTls, b: HostTls): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])] as (keyof TlsTerminate)[];
  return keys.every((k) => a[k] === b[k]);
}

function tlsConflict(host: string, owner: string, has: HostTls, wanted: HostTls): { reason: Reason; message: string; owner: string } {
  return { reason: 'HostConflict', message: `host "${host}" already has different TLS settings from route "${owner}" (${describeHostTls(has)}; this route: ${describeHostTls(wanted)})`, owner };
}

function describeHostTls(t: HostTls): string {
  if (t === 'none') return 'plain HTTP, no tls';
  if (t === 'passthrough') return 'tls.mode Passthrough';
  return `tls.mode Terminate with secrets ${t.certSecret} and ${t.keySecret}, redirectHTTP ${t.redirectHTTP ? 'true' : 'false'}`;
}

/** Both forms end as secret names: the renderers and the proxy service spec never see a certificate name. */
function terminateOf(route: RouteObject, certs: Certificates): TlsTerminate | undefined {
  const tls = route.spec.tls;
  const cert = tls?.certificate;
  if (tls?.mode !== 'Terminate' || cert === undefined) return undefined;
  if (cert.name !== undefined) {
    const current = currentCertificate(certs, cert.name);
    return current === undefined ? undefined : { certSecret: current.certSecret, keySecret: current.keySecret, redirectHTTP: tls.redirectHTTP };
  }
  if (cert.certSecret === undefined || cert.keySecret === undefined) return undefined;
  return { certSecret: cert.certSecret, keySecret: cert.keySecret, redirectHTTP: tls.redirectHTTP };
}

const isConditional = (r: ModelRule): boolean => r.headers.length > 0 || r.cookies.length > 0 || r.methods.length > 0;

function claimKey(host: string, rule: ModelRule): string {
  const headers = rule.headers.map((h) => `${h.name.toLowerCase()}=${h.value}`).sort();
  const cookies = rule.cookies.map((c) => `${c.name}=${c.value}`).sort();
  return JSON.stringify([host, rule.match.kind, rule.match.path, headers, [...rule.methods].sort(), ...(cookies.length > 0 ? [cookies] : [])]);
}

function describeMatch(rule: ModelRule): string {
  const conds = [...rule.headers.map((h) => `header ${h.name}=${h.value}`), ...rule.cookies.map((c) => `cookie ${c.name}=${c.value}`), ...(rule.methods.length > 0 ? [`methods ${rule.methods.join(',')}`] : [])];
  return `${rule.match.kind === 'exact' ? 'path' : 'pathPrefix'} ${rule.match.path}${conds.length > 0 ? ` (${conds.join(', ')})` : ''}`;
}

function withGeneration(conds: Condition[], generation: number): Condition[] {
  return conds.map((c) => ({ ...c, observedGeneration: generation }));
}

function missingSecrets(route: RouteObject, idx: SnapshotIndex, certs: Certificates): RefProblem[] {
  const cert = route.spec.tls?.certificate;
  if (route.spec.tls?.mode !== 'Terminate' || cert === undefined) return [];
  if (cert.name !== undefined) {
    return currentCertificate(certs, cert.name) !== undefined
      ? []
      : [{ reason: 'CertificateNotFound', message: `certificate "${cert.name}" not found (store it with swarmgate tls apply ${cert.name} --cert FILE --key FILE); the route is not programmed until it exists` }];
  }
  return [cert.certSecret, cert.keySecret]
    .filter((s): s is SwarmName => s !== undefined)
    .filter((s, i, all) => !idx.secrets.has(s) && all.indexOf(s) === i)
    .map((s) => ({ reason: 'SecretNotFound' as const, message: `secret "${s}" not found; the route is not programmed until it exists` }));
}

/**
 * Warnings about a route's stored certificate: CertificateExpiring when it expires soon or has expired
 * (only when `now` is known), CertificateMismatch when its names do not cover every host of the route.
 */
function certificateWarnings(route: RouteObject, certs: Certificates, now: Date | undefined): Condition[] {
  const name = route.spec.tls?.mode === 'Terminate' ? route.spec.tls.certificate?.name : undefined;
  const current = name === undefined ? undefined : currentCertificate(certs, name);
  if (current === undefined) return [];
  const expiry = now === undefined ? undefined : expiryCondition(current, now);
  const mismatch = mismatchCondition(current, route.spec.hosts);
  return [expiry, mismatch].filter((c): c is Condition => c !== undefined);
}

/** The first three issues on one line, "(and N more)" after them. */
function issueSummary(issues: readonly Issue[]): string {
  const summary = issues.slice(0, 3).map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ');
  return `${summary}${issues.length > 3 ? ` (and ${issues.length - 3} more)` : ''}`;
}

/** Why a label route lost a conflict, for a user who only ever wrote labels. */
const SPEC_WINS = ' (a Route spec takes precedence over com.docker.lb.* labels)';
const NOT_POOLED = ` (services sharing a host are pooled into one upstream only when all their com.docker.lb.* labels other than ${BACKEND_LABEL_NAMES} are equal)`;

export function buildModel(desired: DesiredState, snapshot: Snapshot, options: BuildOptions = {}): ModelResult {
  const idx = indexSnapshot(snapshot);
  const certs = certificateVersions(snapshot.secrets);
  const conditions: Record<string, Condition[]> = {};
  for (const r of desired.rejected) {
    conditions[objectKey(r.kind, r.name)] = withGeneration([condition('Accepted', 'False', 'Invalid', issueSummary(r.issues))], r.generation);
  }
  const clusters = new Map<string, ClusterBuilder>();
  const explicit = [...desired.clusters].sort(byAge);
  for (const c of explicit) {
    const name = c.object.metadata.name;
    if (clusters.has(name)) continue;
    clusters.set(name, new ClusterBuilder(name, c.object.spec));
    conditions[objectKey('ServiceCluster', name)] = withGeneration([condition('Accepted', 'True', 'Accepted', 'spec is valid')], c.generation);
  }
  const middlewares = indexMiddlewares(desired.middlewares, desired.rejected);
  for (const m of desired.middlewares ?? []) {
    conditions[objectKey('Middleware', m.object.metadata.name)] = withGeneration([condition('Accepted', 'True', 'Accepted', 'spec is valid')], m.generation);
  }
  if (!clusters.has(DEFAULT_CLUSTER_NAME)) clusters.set(DEFAULT_CLUSTER_NAME, new ClusterBuilder(DEFAULT_CLUSTER_NAME, DEFAULT_CLUSTER_SPEC));

  const labelNames = new Set<string>((desired.labelRoutes ?? []).map((r) => r.object.metadata.name));
  /** Admit one route if it can be (or leave it out) and return its conditions. */
  const place = (stored: Stored<RouteObject>, fromLabels: boolean): Condition[] => {
    const route = stored.object;
    const cluster = clusters.get(route.spec.serviceCluster);
    if (cluster === undefined) return [condition('Accepted', 'False', 'ServiceClusterNotFound', `service cluster "${route.spec.serviceCluster}" does not exist`)];
    // A value the cluster's proxy cannot express: the whole route is left out, never served half.
    const unsupported = unsupportedValues(cluster.spec.proxy.kind, route);
    if (unsupported.length > 0) {
      return [condition('Accepted', 'False', 'UnsupportedValue', `not supported by the ${cluster.spec.proxy.kind} proxy of service cluster "${cluster.name}": ${issueSummary(unsupported)}`)];
    }
    const policyGaps = unsupportedPolicies(cluster.spec.proxy.kind, route, cluster.spec, middlewares);
    if (policyGaps.length > 0) {
      return [condition('Accepted', 'False', 'UnsupportedValue', `not supported by the ${cluster.spec.proxy.kind} proxy of service cluster "${cluster.name}": ${issueSummary(policyGaps)}`)];
    }
    const policies = resolvePolicies(route, cluster.spec, middlewares, (s) => idx.secrets.has(s));
    const compiled = compileRoute(route, cluster.spec, idx, certs, cluster.names, policies.rules);
    const conflict = cluster.conflict(route, compiled);
    if (conflict !== undefined) {
      const hint = !fromLabels || conflict.reason !== 'HostConflict' || conflict.owner === undefined ? '' : labelNames.has(conflict.owner) ? NOT_POOLED : SPEC_WINS;
      return [condition('Accepted', 'False', conflict.reason, `${conflict.message}${hint}`)];
    }
    const secretProblems = missingSecrets(route, idx, certs);
    const problems = [...secretProblems, ...policies.problems, ...compiled.problems];
    const first = problems[0];
    const resolved =
      first === undefined
        ? condition('ResolvedRefs', 'True', 'ResolvedRefs', 'all references resolved')
        : condition('ResolvedRefs', 'False', first.reason, [...new Set(problems.map((p) => p.message))].join('; '));
    // Without its certificate a TLS route cannot be served at all; leave it out rather than break nginx -t for everyone.
    // Without one of its middlewares it would be served without a policy its owner asked for: left out too.
    if (secretProblems.length === 0 && policies.problems.length === 0) cluster.admit(stored, compiled);
    return [condition('Accepted', 'True', 'Accepted', `accepted by service cluster "${cluster.name}"`), resolved, ...certificateWarnings(route, certs, options.now)];
  };
  for (const stored of [...desired.routes].sort(byAge)) {
    conditions[objectKey('Route', stored.object.metadata.name)] = withGeneration(place(stored, false), stored.generation);
  }
  // Label routes after every Route spec, so a spec always keeps a host and path a labelled service also claims.
  // They have no generation (they are never stored); 1 is what a never-applied spec has, so the
  // rendered config is the same as for their `import-labels` output applied as specs.
  const labelStatus: Record<string, LabelRouteStatus> = {};
  for (const r of desired.labelRejects ?? []) labelStatus[r.route] = { services: [r.service], conditions: [condition('Accepted', 'False', r.reason, issueSummary(r.issues))] };
  const labelled = (desired.labelRoutes ?? []).map((r) => ({ stored: { object: r.object, generation: 1 }, services: r.services }));
  for (const { stored, services } of labelled.sort((a, b) => byAge(a.stored, b.stored))) {
    labelStatus[stored.object.metadata.name] = { services, conditions: place(stored, true) };
  }
  const models = [...clusters.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((c) => c.build());
  const hasLabels = desired.labelRoutes !== undefined || desired.labelRejects !== undefined;
  return { clusters: models, conditions: sortKeys(conditions), ...(hasLabels ? { labelRoutes: sortKeys(labelStatus) } : {}) };
}

function sortKeys<V>(rec: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : 1)));
}

