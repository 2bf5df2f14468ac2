/**
 * Interlock compatibility (migration path): the `com.docker.lb.*` labels of Swarm services become
 * in-memory Route objects, built as Route documents and decoded by the same `decodeObject` as Route
 * specs, so they go through the same validation, model and conditions. PURE: no I/O.
 *
 * - One service → one Route `svc-<service>` (plus `svc-<service>-redirect[-N]` for
 *   `com.docker.lb.redirects`), annotated `swarmgate.io/source: service/<name>`.
 * - Services whose labels are equal except the backend-level ones (port, network, backend_mode,
 *   max_fails, fail_timeout) share their hosts like in Interlock: ONE Route, named after the first
 *   service by name, whose rules pool every service's tasks (`split: Tasks`), so each service's share
 *   follows its task count (canary by replica ratio keeps working).
 * - Services that claim the same host and path with other labels are not pooled: the model admits the
 *   first by route name and the other gets HostConflict. A Route spec always wins over labels.
 * - A service with an invalid or unsupported label is rejected alone (Invalid / UnsupportedValue), with
 *   one issue per label: path `labels["com.docker.lb.<name>"]`, what was expected, what was found.
 *   Every other service is still translated. No label is ever dropped silently.
 */
import * as E from 'fp-ts/Either';
import { formatPath } from '../../../domain/issue';
import { API_VERSION } from '../../../domain/meta';
import { decodeObject, type RouteObject } from '../../../domain/object';
import type { Snapshot, SnapshotService } from '../../../domain/snapshot';
import { canonicalJson, fnv1a32 } from '../../hash';
import type { DesiredState, LabelReject, LabelRoute, RouteSource } from '../../inputs';
import { BACKEND_LABELS, LB_PREFIX, type LabelIssue } from './labels';
import { labelRouteName, readService, type Draft, type Json } from './read-service';

export { BACKEND_LABELS, INTERLOCK_LABELS, LB_PREFIX, type InterlockLabel } from './labels';
export { labelRouteName } from './read-service';

/** Annotation naming the services a label-derived Route comes from ("service/web,service/web-canary"). */
export const SOURCE_ANNOTATION = 'swarmgate.io/source';

/** A label-derived Route with the document it was decoded from (what `import-labels` prints). */
export interface TranslatedRoute extends LabelRoute {
  readonly document: Readonly<Record<string, unknown>>;
}

export interface LabelTranslation {
  /** Sorted by route name. */
  readonly routes: readonly TranslatedRoute[];
  /** Sorted by service name. */
  readonly rejects: readonly LabelReject[];
}

// ------------------------------------------------------------------------------------------------
// Drafts → Route documents

function routeDocument(name: string, services: readonly string[], spec: Json): Json {
  return {
    apiVersion: API_VERSION,
    kind: 'Route',
    metadata: { name, annotations: { [SOURCE_ANNOTATION]: services.map((s) => `service/${s}`).join(',') } },
    spec,
  };
}

/** The Route documents of one pool (one or more drafts with equal shared settings). */
function documentsOf(name: string, drafts: readonly Draft[]): Json[] {
  const [first] = drafts;
  if (first === undefined) return [];
  const s = first.shared;
  const services = drafts.map((d) => d.service.name);
  const backends = drafts.map((d) => d.backend);
  const pooled = drafts.length > 1 ? { split: 'Tasks' } : {};
  const sticky = s.affinity !== undefined ? { sessionAffinity: s.affinity } : {};
  const mainPath = s.contextRoot ?? '/';
  const rules: Json[] = [
    {
      ...(s.contextRoot !== undefined ? { match: { pathPrefix: s.contextRoot } } : {}),
      backends,
      ...pooled,
      ...(s.rewrite ? { rewrite: { stripPrefix: true } } : {}),
      ...(s.websocket.includes(mainPath) ? { websocket: true } : {}),
      ...sticky,
    },
    // Interlock gives each websocket path its own location, without the context root's rewrite.
    ...s.websocket.filter((p) => p !== mainPath).map((p) => ({ match: { pathPrefix: p }, backends, ...pooled, websocket: true, ...sticky })),
  ];
  const redirected = new Set(s.redirects.flatMap((g) => g.sources));
  const kept = s.hosts.filter((h) => !redirected.has(h));
  // A default backend whose hosts all redirect still catches unknown hosts.
  const hosts = kept.length === 0 && s.defaultBackend ? [`${name}.invalid`] : kept;
  const common = { ...(s.serviceCluster !== undefined ? { serviceCluster: s.serviceCluster } : {}) };
  const docs: Json[] = [];
  if (hosts.length > 0)
    docs.push(routeDocument(name, services, { ...common, hosts, rules, ...(s.defaultBackend ? { defaultBackend: true } : {}), ...(s.tls !== undefined ? { tls: s.tls } : {}) }));
  s.redirects.forEach((g, i) => {
    const suffix = s.redirects.length === 1 ? '-redirect' : `-redirect-${i + 1}`;
    docs.push(routeDocument(`${name}${suffix}`, services, { ...common, hosts: g.sources, rules: [{ redirect: g.target }], ...(s.tls !== undefined ? { tls: s.tls } : {}) }));
  });
  return docs;
}

/** The first unused name: `name`, else `name` with a hash of `salt` (kept within 63 characters). */
function unique(name: string, taken: Set<string>, salt: string): string {
  let candidate = name;
  for (let i = 0; taken.has(candidate); i++) candidate = `${name.slice(0, 55).replace(/-+$/, '')}-${fnv1a32(`${salt}#${i}`).slice(0, 6)}`;
  taken.add(candidate);
  return candidate;
}

function toReject(route: string, service: string, issues: readonly LabelIssue[]): LabelReject {
  return {
    route,
    service,
    reason: issues.some((i) => !i.unsupported) ? 'Invalid' : 'UnsupportedValue',
    issues: issues.map(({ path, message }) => ({ path, message })),
  };
}

/**
 * Services → label-derived Routes and per-service rejects. Services without any `com.docker.lb.*`
 * label are ignored. `reserved` holds names already in use (Route specs): a label route never takes one.
 */
export function translateServiceLabels(services: readonly SnapshotService[], reserved: ReadonlySet<string> = new Set()): LabelTranslation {
  const labelled = services.filter((s) => Object.keys(s.labels).some((k) => k.startsWith(LB_PREFIX))).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const taken = new Set(reserved);
  const rejects: LabelReject[] = [];
  const pools = new Map<string, Draft[]>();
  for (const svc of labelled) {
    const d = readService(svc);
    if (Array.isArray(d)) {
      rejects.push(toReject(unique(labelRouteName(svc.name), taken, svc.name), svc.name, d));
      continue;
    }
    // Equal route-level settings (hosts sorted) ⇒ one pool, like Interlock's shared upstream per host.
    const key = canonicalJson({ ...d.shared, hosts: [...d.shared.hosts].sort(), websocket: [...d.shared.websocket].sort() });
    const pool = pools.get(key) ?? [];
    pool.push(d);
    pools.set(key, pool);
  }
  const routes: TranslatedRoute[] = [];
  for (const drafts of pools.values()) {
    const [first] = drafts;
    if (first === undefined) continue;
    const services = drafts.map((d) => d.service.name);
    const docs = documentsOf(first.baseName, drafts).map((doc) => {
      const meta = doc['metadata'] as Json;
      return { ...doc, metadata: { ...meta, name: unique(String(meta['name']), taken, `${services.join(',')}|${String(meta['name'])}`) } };
    });
    const decoded = docs.map((doc) => ({ doc, r: decodeObject(doc) }));
    const failed = decoded.filter((x) => E.isLeft(x.r));
    if (failed.length > 0) {
      // Labels that each passed their own check but form an invalid Route together (a safety net: the
      // checks above should catch every such combination with a label path first).
      const issues: LabelIssue[] = failed.flatMap((x) => (E.isLeft(x.r) ? x.r.left : [])).map((i) => ({ path: ['labels'], message: `${formatPath(i.path)}: ${i.message}`, unsupported: false }));
      for (const d of drafts) rejects.push(toReject(unique(`${d.baseName}`, taken, `reject|${d.service.name}`), d.service.name, issues));
      continue;
    }
    for (const { doc, r } of decoded) {
      if (E.isLeft(r) || r.right.kind !== 'Route') continue;
      routes.push({ object: r.right as RouteObject, services, document: doc });
    }
  }
  return {
    routes: routes.sort((a, b) => (a.object.metadata.name < b.object.metadata.name ? -1 : 1)),
    rejects: rejects.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0)),
  };
}

/**
 * What a label route loses to, explained to a user who only ever wrote labels: a Route spec always wins
 * (label routes are admitted after every spec), and services are pooled only on equal route settings.
 */
export const INTERLOCK_SOURCE: RouteSource = {
  name: 'interlock-labels',
  lostToSpec: ' (a Route spec takes precedence over com.docker.lb.* labels)',
  lostToSameSource: ` (services sharing a host are pooled into one upstream only when all their com.docker.lb.* labels other than ${BACKEND_LABELS.slice(0, -1).join(', ')} and ${BACKEND_LABELS[BACKEND_LABELS.length - 1] ?? ''} are equal)`,
};

/**
 * The desired-state source of com.docker.lb.* labels (pure): the desired state with the snapshot's
 * labelled services added as label routes, each with its provenance (the services, INTERLOCK_SOURCE).
 * Label routes never reuse a Route spec's name.
 */
export function withLabelRoutes(desired: DesiredState, snapshot: Snapshot): DesiredState {
  const reserved = new Set([...desired.routes.map((r) => r.object.metadata.name), ...desired.rejected.filter((r) => r.kind === 'Route').map((r) => r.name)]);
  const t = translateServiceLabels(snapshot.services, reserved);
  if (t.routes.length === 0 && t.rejects.length === 0) return desired;
  return { ...desired, labelRoutes: t.routes.map(({ object, services }) => ({ object, services, source: INTERLOCK_SOURCE })), labelRejects: t.rejects };
}
