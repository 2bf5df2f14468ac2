/**
 * Per-cluster accumulation while routes are admitted oldest first: which route holds each host's TLS
 * side, passthrough and every (host, match) claim; the first conflict a newcomer would cause; and the
 * ProxyModel once every route is in. Pure.
 */
import type { HostPattern, SwarmName } from '../domain/brands';
import type { Reason } from '../domain/conditions';
import type { RouteObject } from '../domain/object';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import type { CompiledRoute } from './compile-route';
import type { ClusterReuse } from './model-reuse';
import type { Stored } from './inputs';
import type { ModelRule, PassthroughHost, ProgrammedRoute, ProxyModel, TlsTerminate, Upstream, VirtualHost } from './model';
import { lowerCase, NameTable } from './names';
import { groupPaths } from './path-groups';
import { PROXY_CAPABILITIES } from './proxy-capabilities';
import { sharedTlsSecrets } from './shared-tls';

/** Per-cluster accumulation while routes are admitted oldest first. */
export class ClusterBuilder {
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

  /**
   * @param reuse the cluster's last build's hosts, reused when their inputs are the same
   *   (model-reuse.ts, ADR 0048); absent: every host is built.
   */
  constructor(
    readonly name: string,
    readonly spec: ServiceClusterSpec,
    readonly reuse?: ClusterReuse,
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

  /** A host's VirtualHost: a function of these arguments alone, so the last build's is reused when they are the same (ADR 0048). */
  private virtualHost(key: string, host: HostPattern, routes: readonly string[], rules: readonly ModelRule[], tls: TlsTerminate | undefined): VirtualHost {
    const build = (): VirtualHost => ({ host, routes: [...routes], ...(tls !== undefined ? { tls } : {}), paths: groupPaths(rules) });
    return this.reuse === undefined ? build() : this.reuse.virtualHost(key, host, routes, rules, tls, build);
  }

  build(): ProxyModel {
    const virtualHosts: VirtualHost[] = [...this.hostRules.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([host, { routes, rules }]) => {
        const t = this.hostServer.get(host)?.tls;
        const tls = t !== undefined && t !== 'none' ? t : undefined;
        return this.virtualHost(host, host as HostPattern, routes, rules, tls);
      });
    const d = this.defaultRoute;
    // Its own key: the default server's host may also be a virtual host of the cluster.
    const defaultServer: VirtualHost | undefined = d === undefined ? undefined : this.virtualHost('\u0000default', d.host, [d.name], d.rules, d.tls);
    const secrets = new Set<SwarmName>();
    for (const vh of [...virtualHosts, ...(defaultServer !== undefined ? [defaultServer] : [])]) {
      // ACME certificates are files the agents receive, not secrets the task mounts.
      if (vh.tls !== undefined && vh.tls.acme !== true) {
        secrets.add(vh.tls.certSecret);
        secrets.add(vh.tls.keySecret);
      }
      // Client certificate CA bundle and CRL: read by NGINX's master (HAProxy's process) like certificates.
      for (const s of [vh.tls?.clientCaSecret, vh.tls?.clientCrlSecret]) if (s !== undefined) secrets.add(s);
    }
    // basicAuth users files: mounted like certificates, but read by NGINX's workers at request time.
    const workerSecrets = new Set<SwarmName>();
    for (const vh of [...virtualHosts, ...(defaultServer !== undefined ? [defaultServer] : [])])
      for (const g of vh.paths)
        for (const r of [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]) if (r.policies?.basicAuth !== undefined) workerSecrets.add(r.policies.basicAuth.secret);
    // NGINX's shared TLS server (ADR 0028): its workers load these certificates at each full handshake.
    if (this.spec.proxy.kind === 'nginx')
      for (const t of sharedTlsSecrets({ virtualHosts, ...(defaultServer !== undefined ? { defaultServer } : {}) }).filter((x) => x.acme !== true)) {
        workerSecrets.add(t.certSecret);
        workerSecrets.add(t.keySecret);
      }
    for (const s of workerSecrets) secrets.add(s);
    // Error pages: Swarm configs mounted into the tasks (their content never passes through swarmgate).
    const pageConfigs = new Set<SwarmName>();
    for (const vh of [...virtualHosts, ...(defaultServer !== undefined ? [defaultServer] : [])])
      for (const g of vh.paths)
        for (const r of [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]) for (const p of r.policies?.errorPages?.pages ?? []) pageConfigs.add(p.config);
    // Backend TLS: CA bundles and client certificates, read by NGINX's master like certificates.
    for (const vh of [...virtualHosts, ...(defaultServer !== undefined ? [defaultServer] : [])])
      for (const g of vh.paths)
        for (const r of [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]) {
          const t = r.action.kind === 'proxy' ? r.action.upstreamTls : undefined;
          for (const s of [t?.caSecret, t?.certSecret, t?.keySecret]) if (s !== undefined) secrets.add(s);
        }
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
      ...(pageConfigs.size > 0 ? { pageConfigs: [...pageConfigs].sort() } : {}),
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
  const client = t.clientCertMode === undefined ? '' : `, clientCertificate ${t.clientCertMode} with CA ${t.clientCaSecret ?? ''}${t.clientCrlSecret !== undefined ? ` and CRL ${t.clientCrlSecret}` : ''}`;
  return `tls.mode Terminate with secrets ${t.certSecret} and ${t.keySecret}, redirectHTTP ${t.redirectHTTP ? 'true' : 'false'}${client}`;
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
