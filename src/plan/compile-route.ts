/**
 * One Route → what the model builder admits of it: rules with their actions, the upstreams its backends
 * resolve to (with the reference problems met), the passthrough targets and the resolved TLS termination.
 * Pure; cluster-wide concerns (conflicts, claims) are the ClusterBuilder's.
 */
import type { Duration, HttpPath, SwarmName } from '../domain/brands';
import { isGrpc, ruleProtocol } from '../domain/protocol-checks';
import type { RouteObject } from '../domain/object';
import type { Rule } from '../domain/route';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import { currentCertificate, type CertificateVersion } from './certificates';
import type { Affinity, ModelRule, PathMatch, ProxyAction, RedirectAction, RulePolicies, TlsTerminate, Upstream, UpstreamTls, WeightedTarget } from './model';
import { acmeFileNames } from './acme-routes';
import { normalisePrefix } from './path-groups';
import { poolUpstream, resolveBackend, type IndexReads, type Names, type RefProblem } from './resolve-backends';

/**
 * Without a `retries` field: NGINX's own default, every server once on connection errors and
 * timeouts (0 = no limit), so a request reaches the "no task reachable" 503 backup rather than
 * failing with 502 while a backend's tasks are being replaced or removed.
 */
export const DEFAULT_RETRIES = { attempts: 0, on: ['error', 'timeout'] } as const;
const NO_EDITS = { set: [], add: [], remove: [] };

export interface CompiledRoute {
  readonly rules: ModelRule[];
  readonly upstreams: Upstream[];
  readonly problems: RefProblem[];
  readonly passthroughTargets: WeightedTarget[];
  readonly passthroughAffinity: Affinity;
  /** TLS termination with the certificate resolved to secret names (a stored certificate: its newest version). */
  readonly tls?: TlsTerminate;
}

export type Certificates = ReadonlyMap<string, readonly CertificateVersion[]>;
/** The lookups compileRoute makes of the certificates (a recording one in compile-journal.ts). */
export type CertificateReads = Pick<Certificates, 'get'>;

function affinityOf(rule: Rule): Affinity {
  const a = rule.sessionAffinity;
  if (a?.cookie !== undefined) return { kind: 'cookie', name: a.cookie.name, ttl: a.cookie.ttl, ...(a.cookie.issuedBy === 'Application' ? { issuedBy: 'Application' as const } : {}) };
  if (a?.clientIP === true) return { kind: 'clientIP' };
  return { kind: 'none' };
}

/**
 * A gRPC rule's read and send timeouts when the rule does not set them: a server-streaming
 * call may stay quiet for long between messages, which the cluster's HTTP defaults (60s) would cut.
 * The client's own deadline (grpc-timeout, passed through) still bounds each call.
 */
export const GRPC_STREAM_TIMEOUT = '1h' as Duration;

function matchOf(rule: Rule): PathMatch {
  // GRPCRoute: a method is the exact path /<service>/<method>; a service alone, every path under /<service>/.
  const grpc = rule.match.grpc;
  if (grpc !== undefined)
    return grpc.method !== undefined ? { kind: 'exact', path: `/${grpc.service}/${grpc.method}` as HttpPath } : { kind: 'prefix', path: `/${grpc.service}` as HttpPath };
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

/** @param policies per rule of the route (same index): its Middleware policies (src/plan/middlewares.ts). */
export function compileRoute(route: RouteObject, cluster: ServiceClusterSpec, idx: IndexReads, certs: CertificateReads, names: Names, policies: readonly (RulePolicies | undefined)[] = []): CompiledRoute {
  const upstreams: Upstream[] = [];
  const problems: RefProblem[] = [];
  const resolveTargets = (rule: Rule, affinity: Affinity): { targets: WeightedTarget[]; declared: WeightedTarget[] } => {
    const targets: WeightedTarget[] = [];
    const declared: WeightedTarget[] = [];
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
      } else {
        declared.push({ upstream: res.upstream.name, weight: backend.weight });
        if (backend.weight > 0 && res.upstream.servers.length > 0) targets.push({ upstream: res.upstream.name, weight: backend.weight });
      }
    }
    // split: Tasks — one upstream with every member's servers: the shares follow the task counts.
    const pool = poolUpstream(pooled, affinity, names);
    if (pool !== undefined) {
      upstreams.push(pool);
      if (pool.servers.length > 0) targets.push({ upstream: pool.name, weight: 1 });
    }
    return { targets, declared };
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
    const { targets, declared } = resolveTargets(rule, affinity);
    if (route.spec.tls?.mode === 'Passthrough') {
      passthroughTargets = targets;
      passthroughAffinity = affinity;
      return;
    }
    const d = cluster.defaults.timeouts;
    const t = rule.timeouts;
    const protocol = ruleProtocol(rule);
    const idle = isGrpc(protocol) ? GRPC_STREAM_TIMEOUT : undefined;
    const rewrite = rule.rewrite?.stripPrefix === true ? ('/' as HttpPath) : rule.rewrite?.replacePrefix;
    const action: ProxyAction = {
      kind: 'proxy',
      ...(protocol !== 'http' ? { protocol } : {}),
      ...upstreamTlsOf(rule),
      targets,
      ...(declared.length > 1 ? { declared } : {}),
      affinity,
      ...(rewrite !== undefined ? { rewrite: { replacePrefix: rewrite } } : {}),
      timeouts: { connect: t?.connect ?? d.connect, read: t?.read ?? idle ?? d.read, send: t?.send ?? idle ?? d.send },
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

/** The rule's backend TLS (every backend has the same, route-checks.ts), as the model carries it. */
function upstreamTlsOf(rule: Rule): { upstreamTls?: UpstreamTls } {
  const tls = rule.backends?.[0]?.tls;
  if (tls === undefined) return {};
  const c = tls.clientCertificate;
  return {
    upstreamTls: {
      ...(tls.caSecret !== undefined ? { caSecret: tls.caSecret } : {}),
      ...(tls.serverName !== undefined ? { serverName: tls.serverName } : {}),
      ...(c !== undefined ? { certSecret: c.certSecret, keySecret: c.keySecret } : {}),
    },
  };
}

/** Both forms end as secret names: the renderers and the proxy service spec never see a certificate name. */
function terminateOf(route: RouteObject, certs: CertificateReads): TlsTerminate | undefined {
  const tls = route.spec.tls;
  const pair = tls?.mode === 'Terminate' ? terminatePair(route, certs) : undefined;
  if (tls === undefined || pair === undefined) return undefined;
  const c = tls.clientCertificate;
  return {
    certSecret: pair.certSecret,
    keySecret: pair.keySecret,
    redirectHTTP: tls.redirectHTTP,
    ...(pair.acme === true ? { acme: true as const } : {}),
    ...(c !== undefined ? { clientCertMode: c.mode, clientCaSecret: c.caSecret, ...(c.crlSecret !== undefined ? { clientCrlSecret: c.crlSecret } : {}) } : {}),
  };
}

function terminatePair(route: RouteObject, certs: CertificateReads): Pick<TlsTerminate, 'certSecret' | 'keySecret' | 'acme'> | undefined {
  const cert = route.spec.tls?.certificate;
  if (cert === undefined) return undefined;
  // Only reached for an ACME route whose certificate the core holds (admitAcmeRoute).
  if (cert.issuer !== undefined) {
    const f = acmeFileNames(route.metadata.name);
    return { certSecret: f.cert as SwarmName, keySecret: f.key as SwarmName, acme: true };
  }
  if (cert.name !== undefined) {
    const current = currentCertificate(certs, cert.name);
    return current === undefined ? undefined : { certSecret: current.certSecret, keySecret: current.keySecret };
  }
  if (cert.certSecret === undefined || cert.keySecret === undefined) return undefined;
  return { certSecret: cert.certSecret, keySecret: cert.keySecret };
}
