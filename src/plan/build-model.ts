/**
 * buildModel: desired specs + Swarm snapshot → one ProxyModel per ServiceCluster and conditions
 * per object. Pure and total: a bad or conflicting route is recorded as a condition and left out,
 * every other route is still built (per-route isolation). Same inputs ⇒ same output, byte for byte.
 */
import { condition, type Condition } from '../domain/conditions';
import { formatPath, type Issue } from '../domain/issue';
import { objectKey } from '../domain/meta';
import type { RouteObject } from '../domain/object';
import { DEFAULT_CLUSTER_NAME, DEFAULT_CLUSTER_SPEC, type ServiceClusterSpec } from '../domain/service-cluster';
import { modelEndpoints } from './model-endpoints';
import type { SwarmName, Weight } from '../domain/brands';
import type { Snapshot } from '../domain/snapshot';
import { certificateVersions, currentCertificate, expiryCondition, mismatchCondition } from './certificates';
import { ClusterBuilder } from './cluster-builder';
import { acmeFileNames, admitAcmeRoute, issuerOf, issuersByName, type AcmeCertificates } from './acme-routes';
import { compileRoute, type Certificates, type CompiledRoute } from './compile-route';
import type { CompileSources } from './compile-journal';
import { byAge, type DesiredState, type RouteSource, type Stored } from './inputs';
import type { LabelRouteStatus, ModelResult } from './model';
import { indexMiddlewares, resolvePolicies, unsupportedPolicies, type AuthService } from './middlewares';
import { dynamicEndpointsProblem, MAX_NGINX_CONDITIONAL_RULES, unsupportedValues } from './proxy-capabilities';
import { indexSnapshot, resolveBackend, type RefProblem, type Resolution, type SnapshotIndex } from './resolve-backends';
import { listenerPortConflicts } from './listener-ports';
import { placeStreamRoutes } from './stream-routes';
import { ModelReuse, type ReuseCounts } from './model-reuse';

export { DEFAULT_RETRIES } from './compile-route';
export type { HostTls } from './cluster-builder';

/** NGINX's limit of header/method-conditioned rules per host (see proxy-capabilities.ts). */
export const MAX_CONDITIONAL_RULES_PER_HOST = MAX_NGINX_CONDITIONAL_RULES;

/** Inputs of buildModel besides specs and snapshot. */
export interface BuildOptions {
  /**
   * The time the model is built for: routes whose stored certificate expires within
   * EXPIRY_WARNING_DAYS get a CertificateExpiring condition. Absent: no expiry is judged, so callers
   * that want byte-identical output for the same files (golden tests, render) stay deterministic.
   */
  readonly now?: Date;
  /** ACME certificates the core holds, by route (absent: none, so routes with an issuer wait). */
  readonly acme?: AcmeCertificates;
  /**
   * Whether proxy agents can reach the core (default true). Without them hitless delivery falls back
   * to rolling, so a cluster without `proxy.endpoints` gets Static, not an endpoint set nobody pushes.
   */
  readonly agents?: boolean;
  /**
   * 'memo' (default): reuse the compiled routes and virtual hosts of each cluster's last build whose
   * inputs are the same (model-reuse.ts, ADR 0048); 'whole': build every one (the reference the reuse
   * must equal: tests, benchmarks).
   */
  readonly reuse?: 'memo' | 'whole';
}

/** The kept parts of each cluster's last build (ADR 0048). */
const modelReuse = new ModelReuse();

/** How many routes and hosts the last build of `cluster` reused (hits) and built (misses); undefined: not built with reuse. */
export function lastModelReuse(cluster: string): ReuseCounts | undefined {
  return modelReuse.last.get(cluster);
}

function withGeneration(conds: Condition[], generation: number): Condition[] {
  return conds.map((c) => ({ ...c, observedGeneration: generation }));
}

/** Docker secrets of the route's backend TLS (CA bundles, client certificates). */
function backendTlsSecrets(route: RouteObject): SwarmName[] {
  return route.spec.rules.flatMap((r) =>
    (r.backends ?? []).flatMap((b) => [b.tls?.caSecret, b.tls?.clientCertificate?.certSecret, b.tls?.clientCertificate?.keySecret].filter((s): s is SwarmName => s !== undefined)),
  );
}

function missingSecrets(route: RouteObject, idx: SnapshotIndex, certs: Certificates): RefProblem[] {
  const missing = (names: readonly SwarmName[]): RefProblem[] =>
    names
      .filter((s, i, all) => !idx.secrets.has(s) && all.indexOf(s) === i)
      .map((s) => ({ reason: 'SecretNotFound' as const, message: `secret "${s}" not found; the route is not programmed until it exists` }));
  const client = route.spec.tls?.mode === 'Terminate' ? route.spec.tls.clientCertificate : undefined;
  const clientSecrets = client === undefined ? [] : [client.caSecret, ...(client.crlSecret !== undefined ? [client.crlSecret] : [])];
  return [...terminationSecretProblems(route, idx, certs), ...missing([...clientSecrets, ...backendTlsSecrets(route)])];
}

function terminationSecretProblems(route: RouteObject, idx: SnapshotIndex, certs: Certificates): RefProblem[] {
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

export function buildModel(desired: DesiredState, snapshot: Snapshot, options: BuildOptions = {}): ModelResult {
  const idx = indexSnapshot(snapshot);
  const certs = certificateVersions(snapshot.secrets);
  const conditions: Record<string, Condition[]> = {};
  for (const r of desired.rejected) {
    conditions[objectKey(r.kind, r.name)] = withGeneration([condition('Accepted', 'False', 'Invalid', issueSummary(r.issues))], r.generation);
  }
  const clusters = new Map<string, ClusterBuilder>();
  const reuse = options.reuse !== 'whole';
  const newBuilder = (name: string, spec: ServiceClusterSpec): ClusterBuilder => new ClusterBuilder(name, spec, reuse ? modelReuse.cluster(name, spec) : undefined);
  const explicit = [...desired.clusters].sort(byAge);
  for (const c of explicit) {
    const name = c.object.metadata.name;
    if (clusters.has(name)) continue;
    clusters.set(name, newBuilder(name, c.object.spec));
    const unsupported = dynamicEndpointsProblem(c.object.spec);
    const accepted = unsupported === undefined ? condition('Accepted', 'True', 'Accepted', 'spec is valid') : condition('Accepted', 'False', 'UnsupportedValue', unsupported);
    conditions[objectKey('ServiceCluster', name)] = withGeneration([accepted], c.generation);
  }
  const middlewares = indexMiddlewares(desired.middlewares, desired.rejected);
  for (const m of desired.middlewares ?? []) {
    conditions[objectKey('Middleware', m.object.metadata.name)] = withGeneration([condition('Accepted', 'True', 'Accepted', 'spec is valid')], m.generation);
  }
  if (!clusters.has(DEFAULT_CLUSTER_NAME)) clusters.set(DEFAULT_CLUSTER_NAME, newBuilder(DEFAULT_CLUSTER_NAME, DEFAULT_CLUSTER_SPEC));
  const issuers = issuersByName(desired.issuers);
  for (const i of desired.issuers ?? []) {
    conditions[objectKey('Issuer', i.object.metadata.name)] = withGeneration([condition('Accepted', 'True', 'Accepted', 'spec is valid')], i.generation);
  }
  /** Clusters that answer HTTP-01 (a route of theirs uses an issuer), with the ACME files their config names. */
  const acmeClusters = new Map<string, Set<string>>();

  /** Which source each route of another source comes from, by route name (who lost to whom). */
  const sourceOf = new Map<string, string | undefined>((desired.labelRoutes ?? []).map((r) => [r.object.metadata.name, r.source?.name]));
  /** Admit one route if it can be (or leave it out) and return its conditions. */
  const place = (stored: Stored<RouteObject>, source?: RouteSource): Condition[] => {
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
    const acme = admitAcmeRoute(route, issuers, cluster.spec, options.acme);
    if (acme.kind === 'rejected') return [...acme.conditions];
    if (issuerOf(route) !== undefined && !acmeClusters.has(cluster.name)) acmeClusters.set(cluster.name, new Set());
    if (acme.kind === 'pending') return [condition('Accepted', 'True', 'Accepted', `accepted by service cluster "${cluster.name}"`), acme.resolved];
    const resolveAuth = (a: AuthService): Resolution =>
      resolveBackend({ service: a.service, port: a.port, weight: 1 as Weight, mode: 'task', ...(a.network !== undefined ? { network: a.network } : {}) }, { kind: 'none' }, cluster.spec.networks, idx, cluster.names);
    const policies = resolvePolicies(route, cluster.spec, middlewares, (s) => idx.secrets.has(s), resolveAuth, (c) => idx.pageConfigs.has(c));
    const compile = (src: CompileSources): CompiledRoute => compileRoute(route, cluster.spec, src.idx, src.certs, src.names, policies.rules);
    const sources = { idx, certs, names: cluster.names };
    const routeCompiled = cluster.reuse === undefined ? compile(sources) : cluster.reuse.compile(route.metadata.name, route, policies.rules, sources, compile);
    const compiled = { ...routeCompiled, upstreams: [...routeCompiled.upstreams, ...policies.upstreams] };
    const conflict = cluster.conflict(route, compiled);
    if (conflict !== undefined) {
      // A route of another source is told, in its source's terms, why it lost (a spec wins; its own source's rules).
      const hint = source === undefined || conflict.reason !== 'HostConflict' || conflict.owner === undefined ? '' : sourceOf.has(conflict.owner) && sourceOf.get(conflict.owner) === source.name ? source.lostToSameSource : source.lostToSpec;
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
    if (secretProblems.length === 0 && policies.problems.length === 0) {
      cluster.admit(stored, compiled);
      if (compiled.tls?.acme === true) acmeClusters.get(cluster.name)?.add(route.metadata.name);
    }
    return [condition('Accepted', 'True', 'Accepted', `accepted by service cluster "${cluster.name}"`), resolved, ...certificateWarnings(route, certs, options.now)];
  };
  for (const stored of [...desired.routes].sort(byAge)) {
    conditions[objectKey('Route', stored.object.metadata.name)] = withGeneration(place(stored), stored.generation);
  }
  // Label routes after every Route spec, so a spec always keeps a host and path a labelled service also claims.
  // They have no generation (they are never stored); 1 is what a never-applied spec has, so the
  // rendered config is the same as for their `import-labels` output applied as specs.
  const labelStatus: Record<string, LabelRouteStatus> = {};
  for (const r of desired.labelRejects ?? []) labelStatus[r.route] = { services: [r.service], conditions: [condition('Accepted', 'False', r.reason, issueSummary(r.issues))] };
  const labelled = (desired.labelRoutes ?? []).map((r) => ({ stored: { object: r.object, generation: 1 }, services: r.services, source: r.source }));
  for (const { stored, services, source } of labelled.sort((a, b) => byAge(a.stored, b.stored))) {
    labelStatus[stored.object.metadata.name] = { services, conditions: place(stored, source) };
  }
  // Layer 4: listeners (a port another cluster publishes on the same nodes is left out) and their routes.
  const ordered = [...clusters.values()];
  const leftOut = listenerPortConflicts(ordered.map((c) => ({ name: c.name, spec: c.spec })));
  for (const [name, lost] of leftOut) {
    const key = objectKey('ServiceCluster', name);
    if (conditions[key] !== undefined) conditions[key] = [...conditions[key], ...withGeneration([condition('Conflicted', 'True', 'PortConflict', lost.map((l) => l.message).join('; '))], conditions[key][0]?.observedGeneration ?? 1)];
  }
  const streams = placeStreamRoutes(desired.streamRoutes ?? [], new Map(ordered.map((c) => [c.name, c.spec])), leftOut, idx, certs);
  Object.assign(conditions, streams.conditions);
  const models = [...clusters.values()]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((c) => streams.extend(c.build()))
    // The model says which endpoints apply, so every renderer (core, extension, CLI) reads one value (ADR 0039).
    .map((m) => ({ ...m, spec: { ...m.spec, proxy: { ...m.spec.proxy, endpoints: modelEndpoints(m, options.agents) } } }))
    .map((m) => {
      const routes = acmeClusters.get(m.cluster);
      if (routes === undefined) return m;
      const files = [...routes].sort().flatMap((r) => [acmeFileNames(r).cert, acmeFileNames(r).key]);
      return { ...m, acme: { files } };
    });
  // Only a complete build is kept (one that threw leaves the last build's parts as they were).
  if (reuse) modelReuse.keep([...clusters.values()].flatMap((c) => (c.reuse !== undefined ? [c.reuse] : [])));
  const hasLabels = desired.labelRoutes !== undefined || desired.labelRejects !== undefined;
  return { clusters: models, conditions: sortKeys(conditions), ...(hasLabels ? { labelRoutes: sortKeys(labelStatus) } : {}) };
}

function sortKeys<V>(rec: Record<string, V>): Record<string, V> {
  return Object.fromEntries(Object.entries(rec).sort(([a], [b]) => (a < b ? -1 : 1)));
}

