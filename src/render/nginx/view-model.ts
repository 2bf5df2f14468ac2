/**
 * ProxyModel → the flat view the NGINX templates print. Every decision (ordering, variable
 * names, percentages, which locations exist) is made here so the templates stay logic-less.
 * Fields typed Token are generated identifiers; everything else is user data and is escaped.
 */
import { HTTP01_SUBDIR } from '../../plan/acme-routes';
import type { HeaderEdits, ModelRule, PathGroup, ProxyAction, ProxyModel, RedirectAction, Upstream, VirtualHost } from '../../plan/model';
import { DEFAULT_RETRIES, MAX_CONDITIONAL_RULES_PER_HOST } from '../../plan/build-model';
import { DEFAULT_FAIL_TIMEOUT, DEFAULT_MAX_FAILS } from '../../domain/route';
import { canonicalCidr } from '../../domain/cidr';
import { token, type Token } from '../token';
import { nginxDuration, nginxSeconds } from './duration';
import { nginxEscape, pathRegex } from './escape';
import type { NginxRenderOptions } from './options';
import { authHeaderVariable, type AuthLocationView, type PageLocationView, type PolicyBodyView } from './policies';
import { MapRegistry } from './map-registry';
import type { HostViewMemo, HostViews } from './host-view-memo';
import { l4View } from './stream-listeners';
import { clientCertServer, withClientCertHeaders } from './client-certificates';
import { dynamicView, endpointLine } from './dynamic-endpoints';
import { routeTable } from './route-table';
import { sharedTlsHosts } from '../../plan/shared-tls';
import { tlsCertificateMaps, tlsFiles, withoutCertificates, type TlsRole } from './shared-tls';
import type { HttpDefaults, LocationView, NameRef, NameValue, NamedLocationView, NginxView, ProxyBodyView, ServerView, StreamView, UpstreamView } from './view-types';

export type { LocationView, NamedLocationView, NginxView, ProxyBodyView, ServerView, StickySplitView, StreamView, UpstreamView } from './view-types';

/** error_page codes used to jump from a location to a conditional rule's named location. */
const FIRST_DISPATCH_CODE = 460;
const MAX_DISPATCH_RULES = MAX_CONDITIONAL_RULES_PER_HOST;

const STANDARD_REQUEST_HEADERS: readonly NameRef[] = [
  { name: 'Host', ref: token('$host') },
  { name: 'X-Real-IP', ref: token('$remote_addr') },
  { name: 'X-Forwarded-For', ref: token('$proxy_add_x_forwarded_for') },
  { name: 'X-Forwarded-Proto', ref: token('$scheme') },
  { name: 'X-Forwarded-Host', ref: token('$host') },
  { name: 'X-Request-Id', ref: token('$request_id') },
];

function sortedValues<V>(m: Map<string, V>): V[] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
}

function mergeRequestHeaders(edits: HeaderEdits, maps: MapRegistry): { fixed: NameRef[]; user: NameValue[] } {
  const touched = new Set([...edits.set.map((h) => h.name.toLowerCase()), ...edits.remove.map((n) => n.toLowerCase()), ...edits.add.map((h) => h.name.toLowerCase())]);
  const fixed: NameRef[] = STANDARD_REQUEST_HEADERS.filter((h) => !touched.has(h.name.toLowerCase()));
  const user: NameValue[] = [];
  for (const h of edits.set) user.push({ name: h.name, value: h.value });
  for (const h of edits.add) fixed.push({ name: h.name, ref: maps.addHeader(h.name, h.value) });
  for (const n of edits.remove) user.push({ name: n, value: '' });
  return { fixed, user };
}

/** basicAuth's userHeader: the logged-in user ($remote_user), replacing any value the client or an edit gave it. */
function withUserHeader(headers: { fixed: NameRef[]; user: NameValue[] }, name: string | undefined): { fixed: NameRef[]; user: NameValue[] } {
  if (name === undefined) return headers;
  const other = (h: { name: string }): boolean => h.name.toLowerCase() !== name.toLowerCase();
  return { fixed: [...headers.fixed.filter(other), { name, ref: token('$remote_user') }], user: headers.user.filter(other) };
}

/** forwardAuth's copied answer headers, replacing any value the client or an edit gave them (empty: not sent). */
function withAuthHeaders(headers: { fixed: NameRef[]; user: NameValue[] }, names: readonly string[] | undefined): { fixed: NameRef[]; user: NameValue[] } {
  if (names === undefined || names.length === 0) return headers;
  const copied = new Set(names.map((n) => n.toLowerCase()));
  const other = (h: { name: string }): boolean => !copied.has(h.name.toLowerCase());
  return { fixed: [...headers.fixed.filter(other), ...names.map((name) => ({ name, ref: authHeaderVariable(name) }))], user: headers.user.filter(other) };
}

function responseHeaders(edits: HeaderEdits): { hide: string[]; add: NameValue[] } {
  return {
    hide: [...edits.set.map((h) => h.name), ...edits.remove],
    add: [...edits.set, ...edits.add].map((h) => ({ name: h.name, value: h.value })),
  };
}

/** What the http block sets once; a location repeats a directive only when its value differs. */

function upstreamTlsView(t: NonNullable<ProxyAction['upstreamTls']>, secretsDir: string): NonNullable<ProxyBodyView['upstreamTls']> {
  return {
    ...(t.serverName !== undefined ? { upstreamSni: t.serverName } : {}),
    ...(t.caSecret !== undefined ? { upstreamCa: `${secretsDir}/${t.caSecret}` } : {}),
    ...(t.certSecret !== undefined && t.keySecret !== undefined ? { upstreamClientCert: `${secretsDir}/${t.certSecret}`, upstreamClientKey: `${secretsDir}/${t.keySecret}` } : {}),
  };
}

function proxyBody(rule: ModelRule, action: ProxyAction, maps: MapRegistry, defaults: HttpDefaults): Omit<ProxyBodyView, 'ownAddHeaders' | keyof PolicyBodyView> {
  const response = responseHeaders(action.responseHeaders);
  const base = { route: rule.route, websocket: false, customHeaders: false, fixedHeaders: [], userHeaders: [], hideHeaders: response.hide, addHeaders: response.add };
  const a = action.affinity;
  // Dynamic endpoints: a rule over several backends splits by a line of the endpoint set, weights and
  // empty backends included, so a weight step or a backend's last task changes no config (ADR 0049).
  // Not with a proxy-issued cookie: its pinning maps (StickySplitView) name the versions in nginx.conf.
  const declared = maps.splitsAsData && !(a.kind === 'cookie' && a.issuedBy !== 'Application') ? action.declared : undefined;
  if (action.targets.length === 0 && declared === undefined) return { ...base, unavailable: true, proxy: false };
  const key = maps.affinityKey(a);
  const [single] = action.targets;
  const dataSplit = declared !== undefined ? maps.dataSplit(rule.id, declared, key) : undefined;
  // Proxy-issued cookie over several versions: pin each client to the version it landed on.
  const pinned = dataSplit === undefined && action.targets.length > 1 && a.kind === 'cookie' && a.issuedBy !== 'Application' ? maps.pinnedSplit(a, action.targets) : undefined;
  const target = dataSplit ?? pinned?.pick ?? (action.targets.length === 1 && single !== undefined ? token(single.upstream) : maps.split(action.targets, key));
  const headers = withAuthHeaders(withUserHeader(mergeRequestHeaders(action.requestHeaders, maps), rule.policies?.basicAuth?.userHeader), rule.policies?.forwardAuth?.responseHeaders);
  const rewrite = action.rewrite;
  let rewritePrefix: ProxyBodyView['rewritePrefix'];
  let rewriteExact: ProxyBodyView['rewriteExact'];
  if (rewrite !== undefined) {
    const to = rewrite.replacePrefix;
    if (rule.match.kind === 'exact') rewriteExact = { pattern: `^${pathRegex(rule.match.path)}\\z`, replacement: to };
    else {
      const prefix = rule.match.path === '/' ? '' : pathRegex(rule.match.path);
      rewritePrefix = to.endsWith('/')
        ? { pattern: `(?s)^${prefix}/?(.*)\\z`, replacement: to }
        : { pattern: `(?s)^${prefix}(.*)\\z`, replacement: to };
    }
  }
  const setCookie = pinned === undefined ? maps.setCookie(action.affinity) : undefined;
  const nextUpstream = action.retries.on.join(' ');
  // grpc_pass inherits none of the http block's proxy_* defaults: such a location states them all.
  const grpc = action.protocol === 'grpc' || action.protocol === 'grpcs';
  const customHeaders = grpc || action.websocket || headers.user.length > 0 || headers.fixed.length !== STANDARD_REQUEST_HEADERS.length;
  const differs = (value: string, inherited: string): boolean => grpc || value !== inherited;
  return {
    ...base,
    unavailable: false,
    proxy: true,
    ...(rewritePrefix !== undefined ? { rewritePrefix } : {}),
    ...(rewriteExact !== undefined ? { rewriteExact } : {}),
    target,
    ...(dataSplit !== undefined ? { dataSplit } : {}),
    module: token(grpc ? 'grpc' : 'proxy'),
    scheme: token(action.protocol ?? 'http'),
    grpc,
    ...(action.upstreamTls !== undefined ? { upstreamTls: upstreamTlsView(action.upstreamTls, maps.secretsDir) } : {}),
    ...(differs(nginxDuration(action.timeouts.connect), defaults.timeouts.connect) ? { connectTimeout: nginxDuration(action.timeouts.connect) } : {}),
    ...(differs(nginxDuration(action.timeouts.read), defaults.timeouts.read) ? { readTimeout: nginxDuration(action.timeouts.read) } : {}),
    ...(differs(nginxDuration(action.timeouts.send), defaults.timeouts.send) ? { sendTimeout: nginxDuration(action.timeouts.send) } : {}),
    ...(differs(nextUpstream, defaults.nextUpstream) || action.retries.attempts !== defaults.tries ? { nextUpstream, tries: action.retries.attempts } : {}),
    // proxy_set_header is inherited all-or-nothing: a location that sets one must set them all.
    customHeaders,
    fixedHeaders: customHeaders ? headers.fixed : [],
    userHeaders: headers.user,
    websocket: action.websocket,
    ...(setCookie !== undefined ? { setCookie } : {}),
    ...(pinned !== undefined ? { pinCookie: { cookie: pinned.cookie, token: pinned.token, tag: pinned.tag, maxAge: pinned.maxAge } } : {}),
  };
}

function redirectBody(rule: ModelRule, action: RedirectAction): Omit<ProxyBodyView, 'ownAddHeaders' | keyof PolicyBodyView> {
  const parts: { lit?: string; ref?: Token }[] = [];
  if (action.to !== undefined) parts.push({ lit: action.to });
  else {
    parts.push(action.scheme !== undefined ? { lit: action.scheme } : { ref: token('$scheme') }, { lit: '://' });
    parts.push(action.host !== undefined ? { lit: action.host } : { ref: token('$host') });
    if (action.port !== undefined) parts.push({ lit: `:${action.port}` });
    if (action.path !== undefined) parts.push({ lit: action.path }, { ref: token('$is_args') }, { ref: token('$args') });
    else parts.push({ ref: token('$request_uri') });
  }
  const response = responseHeaders(action.responseHeaders);
  return {
    route: rule.route,
    unavailable: false,
    proxy: false,
    websocket: false,
    customHeaders: false,
    fixedHeaders: [],
    userHeaders: [],
    hideHeaders: [],
    addHeaders: response.add,
    redirect: { code: action.code, parts },
  };
}

function body(rule: ModelRule, maps: MapRegistry, defaults: HttpDefaults): ProxyBodyView {
  const b = rule.action.kind === 'proxy' ? proxyBody(rule, rule.action, maps, defaults) : redirectBody(rule, rule.action);
  const p = maps.policies.body(rule, rule.action.kind === 'redirect');
  return { ...b, ...p, ownAddHeaders: b.addHeaders.length > 0 || b.setCookie !== undefined || b.pinCookie !== undefined || p.retryAfter !== undefined || p.cors !== undefined || p.maintenance !== undefined };
}

function namedLocation(rule: ModelRule): Token {
  return token(`@sg_${rule.id}`);
}

function serverLocations(paths: readonly PathGroup[], maps: MapRegistry, defaults: HttpDefaults): { locations: LocationView[]; named: NamedLocationView[] } {
  const exactPaths = new Set(paths.filter((g) => g.match.kind === 'exact').map((g) => g.match.path));
  const named = new Map<string, NamedLocationView>();
  const locations: LocationView[] = [];
  for (const group of paths) {
    // buildModel refuses routes past this limit (UnsupportedValue), so this is a broken invariant, not input.
    if (group.conditional.length > MAX_DISPATCH_RULES)
      throw new Error(`more than ${MAX_DISPATCH_RULES} conditional rules on path ${group.match.path}`);
    const dispatch = group.conditional.map((rule, i) => {
      const target = namedLocation(rule);
      if (!named.has(target)) named.set(target, { name: target, body: body(rule, maps, defaults) });
      return { code: FIRST_DISPATCH_CODE + i, condition: maps.condition(rule), target };
    });
    const fallback = group.fallback === undefined ? undefined : body(group.fallback, maps, defaults);
    // A jump to a rule's named location is an error_page redirect: the rule's own error pages apply after it only when recursion is on here.
    const recursiveErrorPages = dispatch.length > 0 && fallback?.errorPages === undefined && group.conditional.some((r) => r.policies?.errorPages !== undefined);
    const make = (exact: boolean, path: string): LocationView => ({ exact, path, dispatch, ownErrorPages: dispatch.length > 0 && fallback?.errorPages?.keep502 !== false, ...(recursiveErrorPages ? { recursiveErrorPages } : {}), ...(fallback !== undefined ? { body: fallback } : {}) });
    const p = group.match.path;
    if (group.match.kind === 'exact') locations.push(make(true, p));
    else if (p === '/') locations.push(make(false, '/'));
    else {
      // Gateway API prefix semantics: "/api" matches "/api" and "/api/…", never "/apix".
      if (!exactPaths.has(p)) locations.push(make(true, p));
      locations.push(make(false, `${p}/`));
    }
  }
  return { locations, named: [...named.values()] };
}

/** The internal auth locations the server's rules ask (one per distinct path), sorted. */
function authLocations(locations: readonly LocationView[], named: readonly NamedLocationView[]): AuthLocationView[] {
  const out = new Map<string, AuthLocationView>();
  for (const b of [...locations.map((l) => l.body), ...named.map((n) => n.body)]) if (b?.forwardAuth !== undefined) out.set(b.forwardAuth.uri, b.forwardAuth.location);
  return sortedValues(out);
}

/** A rule of the server has a 503 page for the loopback 503 server's answers. */
function hasNoTaskPage(s: ServerView): boolean {
  return [...s.locations.map((l) => l.body), ...s.named.map((n) => n.body)].some((b) => b?.noTaskPage !== undefined);
}

/** The internal page locations of the server's rules (errorPages and maintenance pages), sorted. */
function pageLocations(locations: readonly LocationView[], named: readonly NamedLocationView[]): PageLocationView[] {
  const out = new Map<string, PageLocationView>();
  for (const b of [...locations.map((l) => l.body), ...named.map((n) => n.body)]) {
    for (const l of b?.errorPages?.locations ?? []) out.set(l.path, l);
    if (b?.maintenance?.pageLocation !== undefined) out.set(b.maintenance.pageLocation.path, b.maintenance.pageLocation);
  }
  // Maintenance pages (with Retry-After) after the others, so the order of the blocks never depends on user values.
  const rank = (l: PageLocationView) => (l.retryAfter !== undefined ? 2 : l.retryVariable !== undefined ? 1 : 0);
  return sortedValues(out).sort((a, b) => rank(a) - rank(b));
}

function serverView(vh: VirtualHost, model: ProxyModel, opts: NginxRenderOptions, maps: MapRegistry, isDefault: boolean, hasStream: boolean, tlsRole: TlsRole): ServerView {
  const plain = serverLocations(vh.paths, maps, httpDefaults(model));
  const client = clientCertServer(vh.tls, opts.secretsDir, model.acme !== undefined);
  const headers = (b: ProxyBodyView | undefined): ProxyBodyView | undefined => (b === undefined || client.clientCert === undefined ? b : withClientCertHeaders(b, STANDARD_REQUEST_HEADERS));
  const locations = plain.locations.map((l) => {
    const b = headers(l.body);
    return b === undefined ? l : { ...l, body: b };
  });
  const named = plain.named.map((n) => ({ ...n, body: headers(n.body) ?? n.body }));
  const auth = authLocations(locations, named);
  const pages = pageLocations(locations, named);
  const httpsPort = model.spec.proxy.publish.https;
  return {
    serverName: isDefault ? '_' : vh.host,
    defaultServer: isDefault,
    listenHttp: true,
    tlsListener: vh.tls !== undefined || (isDefault && hasStream),
    ...(vh.tls !== undefined && tlsRole === 'own' ? { tls: tlsFiles(vh.tls, opts) } : {}),
    ...(tlsRole === 'holder' ? { tlsByVariable: true as const } : {}),
    rejectTls: isDefault && vh.tls === undefined,
    ...client,
    ...(vh.tls?.redirectHTTP === true ? { httpsRedirect: { portSuffix: httpsPort === 443 ? '' : `:${httpsPort}`, acme: model.acme !== undefined } } : {}),
    ...acmeHttp01(model, opts),
    locations,
    named,
    ...(auth.length > 0 ? { authAsks: { locations: auth } } : {}),
    ...(pages.length > 0 ? { pageLocations: pages } : {}),
    fixed503: false,
  };
}

/** The cluster's trusted proxies, canonical and sorted (clientAddress). */
function trustedProxies(model: ProxyModel): string[] {
  return [...new Set((model.spec.proxy.clientAddress?.trustedProxies ?? []).map((c) => canonicalCidr(c)))].sort();
}

/**
 * clientAddress.from XForwardedFor: the HTTP port believes X-Forwarded-For from the trusted proxies,
 * while the loopback TLS listener must keep believing only the SNI router's PROXY header (a TLS
 * client's X-Forwarded-For would otherwise come "from 127.0.0.1"). realip is set per server, so a
 * server on both listeners becomes two: one per listener.
 */
function withForwardedFor(servers: readonly ServerView[], trusted: readonly string[]): ServerView[] {
  const xff = { trusted };
  return servers.flatMap((sv) => {
    if (!sv.listenHttp) return [sv];
    if (!sv.tlsListener) return [{ ...sv, forwardedFor: xff }];
    return [
      // The HTTP copy has no ssl listener: without its certificates it has no TLS context to build.
      { ...withoutCertificates(sv), tlsListener: false, rejectTls: false, forwardedFor: xff },
      { ...sv, listenHttp: false },
    ];
  });
}

/** Every HTTP server of a cluster with ACME routes answers HTTP-01 tokens (the default one too: a route waiting for its certificate is not served yet). */
function acmeHttp01(model: ProxyModel, opts: NginxRenderOptions): Pick<ServerView, 'acmeHttp01'> {
  return model.acme !== undefined ? { acmeHttp01: { dir: `${opts.acmeDir}/${HTTP01_SUBDIR}/` } } : {};
}

function upstreamView(u: Upstream, maps: MapRegistry, keepalive: boolean, backup?: Token): UpstreamView {
  return upstreamViewHashed(u, u.affinity.kind === 'none' ? undefined : maps.affinityKey(u.affinity), keepalive, backup);
}

/** upstreamView with the affinity variable already asked of the registry (`hash`). */
function upstreamViewHashed(u: Upstream, hash: Token | undefined, keepalive: boolean, backup?: Token): UpstreamView {
  const servers = u.servers.map((s) => ({
    address: token(s.ip.includes(':') ? `[${s.ip}]:${s.port}` : `${s.ip}:${s.port}`),
    maxFails: s.maxFails ?? DEFAULT_MAX_FAILS,
    failTimeout: nginxSeconds(s.failTimeout ?? DEFAULT_FAIL_TIMEOUT),
  }));
  return { name: token(u.name), ...(hash !== undefined ? { hash } : {}), servers, keepalive, ...(backup !== undefined && hash === undefined ? { backup } : {}) };
}

function streamView(model: ProxyModel, opts: NginxRenderOptions, maps: MapRegistry, streamMaps: MapRegistry): Omit<StreamView, 'sniRouter' | 'l4'> | undefined {
  const terminated = model.virtualHosts.filter((vh) => vh.tls !== undefined);
  if (terminated.length === 0 && model.passthrough.length === 0 && model.defaultServer?.tls === undefined) return undefined;
  const tlsInternal = token(`127.0.0.1:${opts.tlsInternalPort}`);
  const ptInternal = token(`127.0.0.1:${opts.passthroughInternalPort}`);
  const used = new Set<string>();
  const passthrough = model.passthrough.map((pt) => {
    let target: Token;
    if (pt.targets.length === 0) target = tlsInternal;
    else if (pt.targets.length === 1 && pt.targets[0] !== undefined) target = token(pt.targets[0].upstream);
    else target = streamMaps.split(pt.targets, pt.affinity.kind === 'clientIP' ? token('$remote_addr') : token('$remote_addr$remote_port'));
    for (const t of pt.targets) used.add(t.upstream);
    return { host: pt.host, target };
  });
  const sni = [
    ...terminated.map((vh) => ({ host: vh.host as string, target: tlsInternal })),
    ...model.passthrough.map((pt) => ({ host: pt.host as string, target: ptInternal })),
  ].sort((a, b) => (a.host < b.host ? -1 : 1));
  const upstreams = model.upstreams
    .filter((u) => used.has(u.name) && u.servers.length > 0)
    // Stream has no cookies: only client-IP affinity carries over to passthrough upstreams.
    .map((u) => upstreamView({ ...u, affinity: u.affinity.kind === 'clientIP' ? u.affinity : { kind: 'none' } }, maps, false));
  let sniLines = '';
  for (const e of sni) sniLines += `        "${nginxEscape(e.host)}" ${e.target};\n`;
  return { sniLines, passthrough, splits: sortedValues(streamMaps.splits), upstreams, hasPassthrough: passthrough.length > 0 };
}

/**
 * Upstreams of https/grpc/grpcs rules get no loopback 503 backup: it speaks plain HTTP/1.1, so a TLS
 * or HTTP/2 attempt at it fails and would turn a real 502 (a certificate the proxy refused) into
 * "no task reachable". Their rules answer NGINX's own 502 when every server failed.
 */
function nonHttpUpstreams(vh: VirtualHost): string[] {
  const out: string[] = [];
  for (const g of vh.paths)
    for (const r of [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])])
      if (r.action.kind === 'proxy' && r.action.protocol !== undefined) for (const t of r.action.targets) out.push(t.upstream);
  return out;
}

function httpDefaults(model: ProxyModel): HttpDefaults {
  const t = model.spec.defaults.timeouts;
  return { timeouts: { connect: nginxDuration(t.connect), read: nginxDuration(t.read), send: nginxDuration(t.send) }, nextUpstream: DEFAULT_RETRIES.on.join(' '), tries: DEFAULT_RETRIES.attempts };
}

/**
 * proxy_set_header and proxy_hide_header names go into a hash whose default bucket (64 bytes) holds
 * names of at most 46 characters (nginx 1.22); a header name may have 64, which needs 128.
 */
const DEFAULT_BUCKET_MAX_NAME = 46;
const PROXY_HEADERS_BUCKET = 128;

/** One HTTP upstream's block view and endpoint line ('' with static upstreams). */
interface UpstreamParts {
  readonly view: UpstreamView;
  readonly line: string;
}

/** What the config-wide parts of the view need of one server view: its upstreams, auth upstreams, longest proxied header and 503 page. */
interface ServerFacts {
  readonly targets: readonly string[];
  readonly authTargets: readonly string[];
  readonly longestHeader: number;
  readonly noTaskPage: boolean;
}

/**
 * Per server view, computed once: a memoised host's views are the same objects render after render
 * (ADR 0043), and views are never changed once built, so their facts are too.
 */
const factsOf = new WeakMap<ServerView, ServerFacts>();

function serverFacts(s: ServerView): ServerFacts {
  const known = factsOf.get(s);
  if (known !== undefined) return known;
  const targets: string[] = [];
  let longestHeader = 0;
  for (const b of [...s.locations.map((l) => l.body), ...s.named.map((n) => n.body)]) {
    if (b === undefined) continue;
    if (b.target !== undefined && !b.target.startsWith('$')) targets.push(b.target);
    for (const n of [...b.fixedHeaders.map((h) => h.name), ...b.userHeaders.map((h) => h.name), ...b.hideHeaders]) longestHeader = Math.max(longestHeader, n.length);
  }
  const facts = { targets, authTargets: (s.authAsks?.locations ?? []).map((a) => a.target), longestHeader, noTaskPage: hasNoTaskPage(s) };
  factsOf.set(s, facts);
  return facts;
}

/** One HTTP upstream's block view and (dynamic) endpoint line: a function of these arguments alone. */
function upstreamParts(u: Upstream, hash: Token | undefined, backup: Token | undefined, dynamic: boolean): UpstreamParts {
  return { view: upstreamViewHashed(u, hash, true, backup), line: dynamic ? endpointLine(u, hash) : '' };
}

/**
 * upstreamParts, kept per upstream object while the same arguments come with it (ADR 0048): the model
 * build reuses an unchanged route's upstream objects, so a render finds them by identity. Weak: an
 * upstream no model holds any more drops its entry.
 */
const upstreamPartsOf = new WeakMap<Upstream, { readonly hash: Token | undefined; readonly backup: Token | undefined; readonly dynamic: boolean; readonly parts: UpstreamParts }>();

function keptUpstreamParts(u: Upstream, hash: Token | undefined, backup: Token | undefined, dynamic: boolean): UpstreamParts {
  const kept = upstreamPartsOf.get(u);
  if (kept !== undefined && kept.hash === hash && kept.backup === backup && kept.dynamic === dynamic) return kept.parts;
  const parts = upstreamParts(u, hash, backup, dynamic);
  upstreamPartsOf.set(u, { hash, backup, dynamic, parts });
  return parts;
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function buildNginxView(model: ProxyModel, opts: NginxRenderOptions): NginxView {
  return buildNginxViewAndEndpoints(model, opts).view;
}

/**
 * The view, and with dynamic endpoints the lines of every HTTP upstream (what the agent delivers).
 * @param memo reuse the views of hosts met in the memo's current scope (host-view-memo.ts, ADR 0043);
 *   without it every host's view is built.
 */
export function buildNginxViewAndEndpoints(model: ProxyModel, opts: NginxRenderOptions, memo?: HostViewMemo): { view: NginxView; endpoints: readonly string[]; dynamicUpstreams: readonly string[] } {
  if (memo !== undefined) return memo.scoped(`${model.cluster}\u0000${JSON.stringify(opts)}`, hostContext(model, opts), () => buildView(model, opts, memo));
  return buildView(model, opts, undefined);
}

/**
 * What every host's view reads of the render besides its host (host-view-memo.ts, ADR 0043): the
 * options, the cluster's spec (defaults, published ports, client address) and its ACME files. (Whether
 * an SNI router exists, and the host's own roles, are in the per-host role string.)
 */
function hostContext(model: ProxyModel, opts: NginxRenderOptions): string {
  return JSON.stringify([opts, model.spec, model.acme ?? null]);
}

function buildView(model: ProxyModel, opts: NginxRenderOptions, memo: HostViewMemo | undefined): { view: NginxView; endpoints: readonly string[]; dynamicUpstreams: readonly string[] } {
  // Asked only by forwardAuth locations (ADR 0043's facts): built on the first question, not per render.
  let serving: Set<string> | undefined;
  const isServing = (name: string): boolean => {
    if (serving === undefined) {
      serving = new Set();
      for (const u of model.upstreams) if (u.servers.length > 0) serving.add(u.name);
    }
    return serving.has(name);
  };
  const maps = new MapRegistry(opts.secretsDir, token(`127.0.0.1:${opts.unavailablePort}`), isServing);
  maps.splitsAsData = opts.dynamicEndpoints !== null;
  // One registry for the stream block: the passthrough splits and the listeners' splits share its names.
  const streamMaps = new MapRegistry();
  const router = streamView(model, opts, maps, streamMaps);
  const routerSplits = new Set(streamMaps.splits.keys());
  const l4 = l4View(model, streamMaps, opts.secretsDir, (u) => upstreamView(u, maps, false));
  const l4Splits = sortedValues(streamMaps.splits).filter((sp) => !routerSplits.has(sp.variable));
  const stream: StreamView | undefined =
    router === undefined && l4 === undefined
      ? undefined
      : { ...(router ?? { sniLines: '', passthrough: [], splits: [], upstreams: [], hasPassthrough: false }), sniRouter: router !== undefined, ...(l4 !== undefined ? { l4: { ...l4, splits: l4Splits } } : {}) };
  // The SNI router (not the listeners) is what puts a TLS listener behind the default server.
  const hasStream = router !== undefined;
  const def = model.defaultServer;
  // ADR 0028: hosts with default TLS settings share the default server's TLS context.
  const shared = opts.sharedTlsServer ? new Set(sharedTlsHosts(model)) : new Set<VirtualHost>();
  const holder = shared.size > 0;
  const clientAddress = model.spec.proxy.clientAddress;
  const trusted = trustedProxies(model);
  const finish = (sv: ServerView): ServerView[] => (clientAddress?.from === 'XForwardedFor' ? withForwardedFor([sv], trusted) : [sv]);
  const notHttp = new Set<string>();
  // The role strings a host can have in this render, made once (not per host).
  const roles = new Map<string, string>();
  const roleOf = (isDefault: boolean, role: TlsRole): string => {
    const k = `${String(isDefault)} ${String(hasStream)} ${role}`;
    const known = roles.get(k);
    if (known !== undefined) return known;
    roles.set(k, k);
    return k;
  };
  const rolesByTls = { own: roleOf(false, 'own'), shared: roleOf(false, 'shared'), holder: roleOf(false, 'holder') };
  const hostViews = (key: string, vh: VirtualHost, isDefault: boolean, role: TlsRole): readonly ServerView[] => {
    const build = (): HostViews => ({ views: finish(serverView(vh, model, opts, maps, isDefault, hasStream, role)), nonHttp: nonHttpUpstreams(vh) });
    const h = memo === undefined ? build() : memo.host(key, vh, isDefault ? roleOf(true, role) : rolesByTls[role], maps.journal, build);
    for (const u of h.nonHttp) notHttp.add(u);
    return h.views;
  };
  const servers: ServerView[] = [
    ...(def !== undefined
      ? hostViews('\u0000default', def, true, holder ? 'holder' : 'own')
      : finish({ serverName: '_', defaultServer: true, listenHttp: true, tlsListener: hasStream, rejectTls: true, ...(holder ? { tlsByVariable: true as const } : {}), locations: [], named: [], fixed503: true, ...acmeHttp01(model, opts) })),
  ];
  for (const vh of model.virtualHosts) servers.push(...hostViews(vh.host, vh, false, shared.has(vh) ? 'shared' : 'own'));
  const httpUpstreamNames = new Set<string>();
  // forwardAuth subrequests share the main request's variables, so they cannot set $sg_upstream:
  // their upstreams stay static blocks even with dynamic endpoints (an auth task change reloads).
  const authTargets = new Set<string>();
  const facts = servers.map(serverFacts);
  for (const f of facts) for (const t of f.authTargets) authTargets.add(t);
  for (const t of authTargets) httpUpstreamNames.add(t);
  for (const f of facts) for (const t of f.targets) httpUpstreamNames.add(t);
  for (const split of maps.splits.values()) for (const sh of split.shares) httpUpstreamNames.add(sh.upstream);
  for (const split of maps.dataSplits.values()) for (const m of split.members) httpUpstreamNames.add(m);
  const httpUpstreams = model.upstreams.filter((u) => httpUpstreamNames.has(u.name));
  const dyn = opts.dynamicEndpoints;
  const unavailable = token(`127.0.0.1:${opts.unavailablePort}`);
  const streamNames = new Set((stream?.upstreams ?? []).map((u) => u.name as string));
  const upstreams: UpstreamView[] = [];
  const endpoints: string[] = [];
  // Upstreams whose servers reach only the endpoint lines, never nginx.conf: not an auth target (a
  // static block) nor a passthrough upstream of the stream block (static too).
  const dynamicUpstreams: string[] = [];
  // One pass over the HTTP upstreams (they are most of a large config's objects).
  for (const u of httpUpstreams) {
    // Asked of the registry every render (its name is shared state); the rest is a function of the upstream, the name and the backup.
    const hash = u.affinity.kind === 'none' ? undefined : maps.affinityKey(u.affinity);
    const backup = notHttp.has(u.name) ? undefined : unavailable;
    const p = memo === undefined ? upstreamParts(u, hash, backup, dyn !== null) : keptUpstreamParts(u, hash, backup, dyn !== null);
    upstreams.push(p.view);
    if (dyn === null) continue;
    endpoints.push(p.line);
    if (!authTargets.has(u.name) && !streamNames.has(u.name)) dynamicUpstreams.push(u.name);
  }
  // Weighted splits as endpoint lines (ADR 0049), after the upstreams' lines.
  if (dyn !== null) for (const d of maps.dataSplits.values()) endpoints.push(d.line);
  // Routes as data (ADR 0050): proxy-only hosts are lines too, served by a few table servers.
  const table = dyn !== null && opts.routeTable ? routeTable(servers) : undefined;
  if (table !== undefined) endpoints.push(...table.lines);
  const d = model.spec.defaults;
  const hitless = model.spec.proxy.delivery === 'hitless';
  const view: NginxView = {
    cluster: model.cluster,
    // Names only: a generation that changes nothing the proxy does must not change the bytes (ADR 0049).
    routeLines: chunk(
      model.routes.map((r) => r.name as string).filter((n) => table?.onlyTabled.has(n) !== true),
      10,
    ).map((names) => names.join(' ')),
    ...(table !== undefined && table.onlyTabled.size > 0 ? { tabledRoutes: true as const } : {}),
    ...(stream !== undefined && opts.streamModulePath !== null ? { streamModulePath: opts.streamModulePath } : {}),
    ...(dyn !== null ? { dynamic: dynamicView(dyn, opts.unavailablePort, hitless ? opts.drainFlagPath : undefined), luaBadGateway: true as const } : {}),
    upstreamVariable: dyn === null ? '$proxy_host' : '$sg_upstream',
    workerProcesses: d.workerProcesses,
    pidPath: opts.pidPath,
    accessLog: d.accessLog,
    accessLogPath: opts.accessLogPath,
    ...(model.acme !== undefined ? { acmeRedirectMap: true as const } : {}),
    // With the Lua module loaded (Dynamic), the drain test is a Lua-set variable, not an `if` (ADR 0036).
    ...(hitless ? { trafficLog: { port: opts.trafficLogPort }, drain: { flagPath: opts.drainFlagPath, byLua: dyn !== null } } : {}),
    clientMaxBodySize: d.clientMaxBodySize,
    ...(facts.reduce((m, f) => Math.max(m, f.longestHeader), 0) > DEFAULT_BUCKET_MAX_NAME ? { proxyHeadersHash: { bucketSize: PROXY_HEADERS_BUCKET } } : {}),
    defaults: httpDefaults(model),
    standardHeaders: STANDARD_REQUEST_HEADERS,
    httpPort: opts.httpPort,
    ...(clientAddress?.from === 'ProxyProtocol' ? { proxyProtocol: { trusted } } : {}),
    h2c: model.spec.proxy.h2c === true,
    httpsPort: opts.httpsPort,
    tlsInternal: token(`127.0.0.1:${opts.tlsInternalPort}`),
    passthroughInternal: token(`127.0.0.1:${opts.passthroughInternalPort}`),
    statusPort: opts.statusPort,
    unavailablePort: opts.unavailablePort,
    ...(facts.some((f) => f.noTaskPage) ? { noTaskPages: true as const } : {}),
    ...(holder ? { tlsCertificates: tlsCertificateMaps([...shared], def, opts) } : {}),
    ...maps.policies.httpView(),
    headerMaps: sortedValues(maps.headerMaps),
    methodMaps: sortedValues(maps.methodMaps),
    combineMaps: sortedValues(maps.combineMaps),
    cookieKeyMaps: sortedValues(maps.cookieKeyMaps),
    setCookieMaps: sortedValues(maps.setCookieMaps),
    addHeaderMaps: sortedValues(maps.addHeaderMaps),
    splits: sortedValues(maps.splits),
    cookieTokenMaps: sortedValues(maps.cookieTokenMaps),
    stickySplits: sortedValues(maps.stickySplits),
    // Dynamic endpoints: no upstream block per backend; the balancer reads the endpoint lines.
    upstreams: dyn === null ? upstreams : upstreams.filter((u) => authTargets.has(u.name)),
    servers: table?.servers ?? servers,
    ...(stream !== undefined ? { stream } : {}),
  };
  return { view, endpoints, dynamicUpstreams };
}
