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
import { CookieName, DnsLabel, Duration, HostPattern, MatchPath, RedirectUrl, SwarmName } from '../domain/brands';
import { decode, expected, oneOf, type Codec } from '../domain/codec';
import { didYouMean } from '../domain/did-you-mean';
import { describeValue, formatPath, type Issue, type PathSegment } from '../domain/issue';
import { API_VERSION } from '../domain/meta';
import { decodeObject, type RouteObject } from '../domain/object';
import { normalisePrefix } from '../domain/route-checks';
import type { Snapshot, SnapshotService } from '../domain/snapshot';
import { canonicalJson, fnv1a32 } from '../plan/hash';
import type { DesiredState, LabelReject, LabelRoute } from '../plan/inputs';

export const LB_PREFIX = 'com.docker.lb.';

/** Every Interlock service label swarmgate understands (translated, or refused as UnsupportedValue). */
export const INTERLOCK_LABELS = [
  'hosts',
  'port',
  'network',
  'context_root',
  'context_root_rewrite',
  'ssl_cert',
  'ssl_key',
  'ssl_only',
  'ssl_passthrough',
  'ssl_backend',
  'ssl_backend_tls_verify',
  'websocket_endpoints',
  'service_cluster',
  'sticky_session_cookie',
  'ip_hash',
  'redirects',
  'backend_mode',
  'default_backend',
  'max_fails',
  'fail_timeout',
] as const;
export type InterlockLabel = (typeof INTERLOCK_LABELS)[number];

/** Labels that describe the backend only: services that differ only in these are pooled on their shared hosts. */
/** Interlock's com.docker.lb.backend_mode values: swarmgate's `host` mode has no Interlock label form. */
const INTERLOCK_BACKEND_MODES = ['task', 'vip'] as const;

export const BACKEND_LABELS: readonly InterlockLabel[] = ['port', 'network', 'backend_mode', 'max_fails', 'fail_timeout'];

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
// One service's labels

interface LabelIssue extends Issue {
  readonly unsupported: boolean;
}

type Json = Record<string, unknown>;

/** What one service's labels say, split into what pooled services must share and the backend. */
interface Draft {
  readonly service: SnapshotService;
  readonly baseName: string;
  /** Route-level settings (everything but the backend): equal drafts are pooled. */
  readonly shared: {
    readonly serviceCluster?: string;
    readonly hosts: readonly string[];
    readonly contextRoot?: string;
    readonly rewrite: boolean;
    readonly websocket: readonly string[];
    readonly affinity?: Json;
    readonly tls?: Json;
    readonly defaultBackend: boolean;
    /** Redirect source hosts grouped by target (parts of a `redirect` field). */
    readonly redirects: readonly { readonly sources: readonly string[]; readonly target: Json }[];
  };
  readonly backend: Json;
}

const labelKey = (name: InterlockLabel): string => `${LB_PREFIX}${name}`;
const at = (name: InterlockLabel, ...rest: PathSegment[]): PathSegment[] => ['labels', labelKey(name), ...rest];

/** Go's strconv.ParseBool, which Interlock uses. */
const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** Comma-separated items, blanks around them ignored; empty items (a trailing comma) are skipped. */
function items(value: string, sep: string): string[] {
  return value
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

class LabelReader {
  readonly issues: LabelIssue[] = [];

  constructor(private readonly labels: Readonly<Record<string, string>>) {}

  raw(name: InterlockLabel): string | undefined {
    return this.labels[labelKey(name)];
  }

  has(name: InterlockLabel): boolean {
    return this.raw(name) !== undefined;
  }

  invalid(path: PathSegment[], message: string): void {
    this.issues.push({ path, message, unsupported: false });
  }

  unsupported(path: PathSegment[], message: string): void {
    this.issues.push({ path, message, unsupported: true });
  }

  /** A value checked by a brand codec; its message already says what was expected and found. */
  branded<A>(codec: Codec<A>, value: string, path: PathSegment[]): A | undefined {
    const r = decode(codec, value, path);
    if (E.isRight(r)) return r.right;
    for (const i of r.left) this.invalid([...i.path], i.message);
    return undefined;
  }

  text<A>(name: InterlockLabel, codec: Codec<A>): A | undefined {
    const v = this.raw(name);
    return v === undefined ? undefined : this.branded(codec, v, at(name));
  }

  bool(name: InterlockLabel): boolean {
    const v = this.raw(name);
    if (v === undefined) return false;
    if (TRUE.includes(v)) return true;
    if (!FALSE.includes(v)) this.invalid(at(name), expected('true or false', v));
    return false;
  }

  integer(name: InterlockLabel, lo: number, hi: number, what: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= lo && n <= hi) return n;
    this.invalid(at(name), expected(what, v));
    return undefined;
  }

  list<A>(name: InterlockLabel, codec: Codec<A>): A[] {
    const v = this.raw(name);
    if (v === undefined) return [];
    const out: A[] = [];
    const seen = new Map<string, number>();
    items(v, ',').forEach((item, i) => {
      const first = seen.get(item);
      if (first !== undefined) {
        this.invalid(at(name, i), `duplicate ${describeValue(item)} (already item ${first})`);
        return;
      }
      seen.set(item, i);
      const ok = this.branded(codec, item, at(name, i));
      if (ok !== undefined) out.push(ok);
    });
    if (out.length === 0 && this.issues.every((x) => x.path[1] !== labelKey(name)))
      this.invalid(at(name), expected('a comma-separated list', v));
    return out;
  }
}

/** `svc-<service>`: a DNS label; a hash suffix keeps names unique when the service name had to change. */
export function labelRouteName(service: string): string {
  const clean = service.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
  if (clean === service && clean.length <= 40) return `svc-${clean}`;
  return `svc-${clean.slice(0, 40).replace(/-+$/, '')}-${fnv1a32(service).slice(0, 6)}`;
}

const URL_PARTS = /^(https?):\/\/([^/:?#]+)(?::(\d{1,5}))?(\/[^?#]*)?(?:\?(.*))?$/;

function parseRedirects(r: LabelReader, hosts: readonly string[]): Draft['shared']['redirects'] {
  const v = r.raw('redirects');
  if (v === undefined) return [];
  const groups = new Map<string, { sources: string[]; target: Json }>();
  const sources = new Set<string>();
  const pairs = items(v, ';');
  if (pairs.length === 0) r.invalid(at('redirects'), expected('"source,target" URL pairs separated by ";"', v));
  pairs.forEach((pair, i) => {
    const parts = pair.split(',').map((s) => s.trim());
    const [source, target] = parts;
    if (parts.length !== 2 || source === undefined || target === undefined || source === '' || target === '') {
      r.invalid(at('redirects', i), expected('"source,target" (two URLs separated by ",")', pair));
      return;
    }
    const src = r.branded(RedirectUrl, source, at('redirects', i, 'source'));
    const dst = r.branded(RedirectUrl, target, at('redirects', i, 'target'));
    if (src === undefined || dst === undefined) return;
    const s = URL_PARTS.exec(src);
    const d = URL_PARTS.exec(dst);
    if (s === null || d === null) return;
    const sourceHost = s[2] ?? '';
    if ((s[4] !== undefined && s[4] !== '/') || s[5] !== undefined)
      r.unsupported(at('redirects', i, 'source'), `a redirect source is matched by its host only; a path or query cannot be matched, got ${describeValue(source)}`);
    if (!hosts.includes(sourceHost))
      r.invalid(at('redirects', i, 'source'), `the source host must also be in ${labelKey('hosts')}, got ${describeValue(sourceHost)}`);
    if (sources.has(sourceHost)) r.invalid(at('redirects', i, 'source'), `host ${describeValue(sourceHost)} is already redirected by an earlier pair`);
    sources.add(sourceHost);
    if ((d[4] !== undefined && d[4] !== '/') || d[5] !== undefined) {
      r.unsupported(
        at('redirects', i, 'target'),
        `a redirect target with a path or query is not supported (Interlock appends the request path to it; swarmgate keeps the request path when the target has none), got ${describeValue(target)}`,
      );
      return;
    }
    const targetJson: Json = { scheme: d[1], host: d[2], ...(d[3] !== undefined ? { port: Number(d[3]) } : {}), code: 302 };
    const key = canonicalJson(targetJson);
    const g = groups.get(key) ?? { sources: [], target: targetJson };
    g.sources.push(sourceHost);
    groups.set(key, g);
  });
  return [...groups.values()];
}

/** One service's labels → a draft, or the issues that reject it. */
function readService(service: SnapshotService): Draft | LabelIssue[] {
  const r = new LabelReader(service.labels);
  for (const key of Object.keys(service.labels).sort()) {
    if (!key.startsWith(LB_PREFIX)) continue;
    const name = key.slice(LB_PREFIX.length);
    if ((INTERLOCK_LABELS as readonly string[]).includes(name)) continue;
    const hint = didYouMean(name, INTERLOCK_LABELS);
    r.invalid(['labels', key], `unknown Interlock label${hint !== undefined ? ` (did you mean "${labelKey(hint as InterlockLabel)}"?)` : ''}; known: ${INTERLOCK_LABELS.join(', ')}`);
  }
  const baseName = labelRouteName(service.name);

  // Hosts and backend.
  const defaultBackend = r.bool('default_backend');
  let hosts: string[] = r.list('hosts', HostPattern);
  if (!r.has('hosts')) {
    if (defaultBackend) hosts = [`${baseName}.invalid`];
    else r.invalid(at('hosts'), 'required label missing (expected comma-separated host names such as "example.com,www.example.com")');
  }
  const port = r.integer('port', 1, 65535, 'port 1..65535');
  if (!r.has('port')) r.invalid(at('port'), 'required label missing (expected the container port to send traffic to, 1..65535)');
  const network = r.text('network', SwarmName);
  const modeRaw = r.raw('backend_mode');
  const mode = modeRaw === undefined ? undefined : r.branded(oneOf(INTERLOCK_BACKEND_MODES), modeRaw, at('backend_mode'));
  const maxFails = r.integer('max_fails', 0, 100, 'integer 0..100');
  const failRaw = r.raw('fail_timeout');
  // NGINX reads a bare number as seconds, and Interlock passes the label through.
  const failTimeout = failRaw === undefined ? undefined : r.branded(Duration, /^\d{1,9}$/.test(failRaw) ? `${failRaw}s` : failRaw, at('fail_timeout'));

  // Paths.
  const contextRoot = r.text('context_root', MatchPath);
  const rewrite = r.bool('context_root_rewrite');
  if (rewrite && !r.has('context_root')) r.invalid(at('context_root_rewrite'), `needs ${labelKey('context_root')} (there is no prefix to strip)`);
  const websocket = r.list('websocket_endpoints', MatchPath).map((p) => normalisePrefix(p));

  // TLS.
  const cert = r.text('ssl_cert', SwarmName);
  const key = r.text('ssl_key', SwarmName);
  const sslOnly = r.bool('ssl_only');
  const passthrough = r.bool('ssl_passthrough');
  if (r.has('ssl_cert') !== r.has('ssl_key'))
    r.invalid(at(r.has('ssl_cert') ? 'ssl_cert' : 'ssl_key'), `needs ${labelKey(r.has('ssl_cert') ? 'ssl_key' : 'ssl_cert')} too (the certificate and its key, as Docker secret names)`);
  if (sslOnly && !r.has('ssl_cert') && !passthrough) r.invalid(at('ssl_only'), `needs ${labelKey('ssl_cert')} and ${labelKey('ssl_key')} (there is no HTTPS to redirect to)`);
  if (r.bool('ssl_backend'))
    r.unsupported(at('ssl_backend'), 'TLS from the proxy to the service is not supported yet; serve plain HTTP on com.docker.lb.port, or use com.docker.lb.ssl_passthrough');
  if (r.has('ssl_backend_tls_verify')) {
    if (r.raw('ssl_backend') !== undefined && TRUE.includes(r.raw('ssl_backend') ?? ''))
      r.unsupported(at('ssl_backend_tls_verify'), `verification of the service's certificate needs ${labelKey('ssl_backend')}, which is not supported yet`);
    else r.invalid(at('ssl_backend_tls_verify'), `only with ${labelKey('ssl_backend')}=true, got ${describeValue(r.raw('ssl_backend_tls_verify'))}`);
  }
  if (passthrough) {
    const why = `not with ${labelKey('ssl_passthrough')}=true (the proxy routes the encrypted connection by SNI and never sees HTTP)`;
    for (const other of ['ssl_cert', 'ssl_key', 'ssl_only', 'context_root', 'context_root_rewrite', 'websocket_endpoints', 'sticky_session_cookie', 'redirects', 'default_backend'] as const) {
      if (r.has(other) && !(FALSE.includes(r.raw(other) ?? ''))) r.invalid(at(other), why);
    }
  }
  const tls: Json | undefined = passthrough
    ? { mode: 'Passthrough' }
    : cert !== undefined && key !== undefined
      ? { mode: 'Terminate', certificate: { certSecret: cert, keySecret: key }, ...(sslOnly ? { redirectHTTP: true } : {}) }
      : undefined;

  // Stickiness.
  const cookie = r.text('sticky_session_cookie', CookieName);
  const ipHash = r.bool('ip_hash');
  if (r.has('sticky_session_cookie') && ipHash) r.invalid(at('ip_hash'), `use either ${labelKey('sticky_session_cookie')} or ${labelKey('ip_hash')}, not both`);
  const affinity: Json | undefined = cookie !== undefined ? { cookie: { name: cookie, issuedBy: 'Application' } } : ipHash ? { clientIP: true } : undefined;

  const serviceCluster = r.text('service_cluster', DnsLabel);
  const redirects = parseRedirects(r, hosts);
  if (r.issues.length > 0) return r.issues;
  return {
    service,
    baseName,
    shared: {
      ...(serviceCluster !== undefined ? { serviceCluster } : {}),
      hosts,
      ...(contextRoot !== undefined ? { contextRoot: normalisePrefix(contextRoot) } : {}),
      rewrite,
      websocket,
      ...(affinity !== undefined ? { affinity } : {}),
      ...(tls !== undefined ? { tls } : {}),
      defaultBackend,
      redirects,
    },
    backend: {
      service: service.name,
      port,
      ...(mode !== undefined && mode !== 'task' ? { mode } : {}),
      ...(network !== undefined ? { network } : {}),
      ...(maxFails !== undefined || failTimeout !== undefined
        ? { passiveHealthCheck: { ...(maxFails !== undefined ? { maxFails } : {}), ...(failTimeout !== undefined ? { failTimeout } : {}) } }
        : {}),
    },
  };
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
 * The desired state with the snapshot's labelled services added as label routes (pure): what the
 * core, `diff` and `render` feed to buildModel. Label routes never reuse a Route spec's name.
 */
export function withLabelRoutes(desired: DesiredState, snapshot: Snapshot): DesiredState {
  const reserved = new Set([...desired.routes.map((r) => r.object.metadata.name), ...desired.rejected.filter((r) => r.kind === 'Route').map((r) => r.name)]);
  const t = translateServiceLabels(snapshot.services, reserved);
  if (t.routes.length === 0 && t.rejects.length === 0) return desired;
  return { ...desired, labelRoutes: t.routes.map(({ object, services }) => ({ object, services })), labelRejects: t.rejects };
}
