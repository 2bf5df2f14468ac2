/**
 * One service's `com.docker.lb.*` labels → a draft Route (the settings pooled services must share,
 * and the backend), or the issues that reject the service. PURE.
 */
import { CookieName, DnsLabel, Duration, HostPattern, MatchPath, RedirectUrl, SwarmName } from '../../../domain/brands';
import { expected, oneOf } from '../../../domain/codec';
import { didYouMean } from '../../../domain/did-you-mean';
import { describeValue } from '../../../domain/issue';
import { normalisePrefix } from '../../../domain/route-checks';
import type { SnapshotService } from '../../../domain/snapshot';
import { canonicalJson, fnv1a32 } from '../../hash';
import { at, FALSE, INTERLOCK_BACKEND_MODES, INTERLOCK_LABELS, items, labelKey, LabelReader, LB_PREFIX, type InterlockLabel, type LabelIssue } from './labels';

export type Json = Record<string, unknown>;

/** What one service's labels say, split into what pooled services must share and the backend. */
export interface Draft {
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
    /** ssl_backend: the backends speak https (pooled services must agree: one protocol per rule). */
    readonly sslBackend: boolean;
    /** Redirect source hosts grouped by target (parts of a `redirect` field). */
    readonly redirects: readonly { readonly sources: readonly string[]; readonly target: Json }[];
  };
  readonly backend: Json;
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
export function readService(service: SnapshotService): Draft | LabelIssue[] {
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
  // TLS to the service: protocol https, not verified (Interlock's default `none`). Interlock labels cannot
  // name a CA bundle, so `required` is refused with the Route field that can (backends[].tls.caSecret).
  const sslBackend = r.bool('ssl_backend');
  if (r.has('ssl_backend_tls_verify')) {
    const verify = r.raw('ssl_backend_tls_verify');
    if (!sslBackend) r.invalid(at('ssl_backend_tls_verify'), `only with ${labelKey('ssl_backend')}=true, got ${describeValue(verify)}`);
    else if (verify === 'required')
      r.unsupported(at('ssl_backend_tls_verify'), 'verification needs a CA bundle, which no Interlock label names: write a Route whose backend has tls.caSecret and tls.serverName (swarmgate import-labels prints one to start from)');
    else if (verify !== 'none') r.invalid(at('ssl_backend_tls_verify'), expected('none or required', verify));
  }
  if (passthrough) {
    const why = `not with ${labelKey('ssl_passthrough')}=true (the proxy routes the encrypted connection by SNI and never sees HTTP)`;
    for (const other of ['ssl_cert', 'ssl_key', 'ssl_only', 'ssl_backend', 'context_root', 'context_root_rewrite', 'websocket_endpoints', 'sticky_session_cookie', 'redirects', 'default_backend'] as const) {
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
      sslBackend,
      redirects,
    },
    backend: {
      service: service.name,
      port,
      ...(sslBackend ? { protocol: 'https' } : {}),
      ...(mode !== undefined && mode !== 'task' ? { mode } : {}),
      ...(network !== undefined ? { network } : {}),
      ...(maxFails !== undefined || failTimeout !== undefined
        ? { passiveHealthCheck: { ...(maxFails !== undefined ? { maxFails } : {}), ...(failTimeout !== undefined ? { failTimeout } : {}) } }
        : {}),
    },
  };
}
