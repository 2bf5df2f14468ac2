/**
 * ProxyModel → the flat view the HAProxy templates print. Every decision (ordering, ACL names,
 * thresholds, which backends exist) is made here so the templates stay logic-less.
 * Fields typed Token are generated identifiers; every other string is escaped by the template's
 * escape function, and user text bound for a log-format argument has gone through logFormatText.
 *
 * HTTP frontend, in the order HAProxy evaluates it (every http-request rule runs before any
 * use_backend, so routing decisions are variables, not use_backend order):
 *  1. txn.sg_host (Host without port, lowercase), txn.sg_path (percent-decoded, "//" merged, as
 *     NGINX matches locations) and txn.sg_scheme;
 *  2. txn.sg_vh: the virtual host. Exact names, then wildcards longest first, then the default
 *     server (0). A host without TLS is not served over TLS (NGINX: it has no TLS listener).
 *  3. txn.sg_rule: the first rule, in the model's precedence (exact paths, longer prefixes first,
 *     rules with more header/method conditions first, then the group's fallback), whose conditions
 *     hold. A host with no matching rule answers 404; a request for no known host 503.
 *  4. the rule's action: a redirect, a 503 (no backend has a task), or use_backend.
 *
 * Weights: one HAProxy backend per (rule, upstream), chosen in the frontend by a per-request
 * random number in [0, 10000) compared with the cumulative declared shares (basis points, the
 * same floor rule as NGINX's split_clients). Inside a backend the tasks share its load evenly,
 * so a service's share is its declared weight whatever its task count: 90/10 over 5 and 1 tasks
 * stays 90/10. (Server weights normalised per service would also hold the share, but must be
 * recomputed whenever tasks come and go, and one backend per rule is needed anyway for per-rule
 * timeouts, retries, rewrites and header edits.) Affinity replaces the random number:
 * client-IP affinity by a hash of the client address (and `balance source` inside the backend);
 * an application-issued cookie by a hash of its value (`balance hash req.cook(...)`); a
 * proxy-issued cookie lets HAProxy insert a cookie naming the server, whose value starts with
 * the backend's tag, so a returning client goes back to the same backend and server.
 *
 * The TLS port is a TCP frontend that reads the SNI (req.ssl_sni): passthrough hosts go straight
 * to their TCP backends, terminated hosts to a UNIX-socket TLS listener of the HTTP frontend
 * (one per certificate, so each host gets exactly its Route's certificate, as with NGINX's
 * per-server ssl_certificate) with PROXY protocol v2, which keeps the client address.
 */
import { durationMs, sizeBytes, type Duration } from '../../domain/brands';
import { DEFAULT_FAIL_TIMEOUT, DEFAULT_MAX_FAILS, type RetryCondition } from '../../domain/route';
import { DEFAULT_RETRIES } from '../../plan/build-model';
import { fnv1a32 } from '../../plan/hash';
import { lowerCase, NameTable } from '../../plan/names';
import type { Affinity, HeaderEdits, HeaderPair, ModelErrorPages, ModelRule, ProxyAction, ProxyModel, RedirectAction, Upstream, VirtualHost } from '../../plan/model';
import { pagePath } from '../../plan/error-pages';
import { pathRegex } from '../nginx/escape';
import { SPLIT_UNITS } from '../split';
import { token, type Token } from '../token';
import { haproxyDuration, haproxyFailTimeout, logFormatText } from './escape';
import { haproxyDynamicPaths, type HaproxyRenderOptions } from './options';
import { slottedBackend } from './dynamic-slots';
import { pemPath } from './pem-files';
import { clientCertCheck, listenerKeyOf, tlsBindName, tlsListeners } from './client-certificates';
import { CRT_LIST_FILE, http01MapPath } from './crt-list';
import { l4Frontends } from './stream-listeners';
import { HaproxyPolicies, pageFor } from './policies';
import { AclRegistry, pickSource, sortedValues, weightedChoice } from './acl-registry';
import { canonicalCidr } from '../../domain/cidr';
import type { BackendView, ClientAddressView, Conditional, EditView, HaproxyView, HttpFrontendView, ResponseEditView, ServerView, TlsFrontendView, UseBackendView } from './view-types';

export type { BackendView, EditView, HaproxyView, HttpFrontendView, ResponseEditView, ServerView, TlsFrontendView } from './view-types';

/** Random numbers and hashes that pick a weighted backend are drawn from [0, PICK_RANGE). */
const PICK_RANGE = SPLIT_UNITS;
/**
 * Passive health (NGINX max_fails / fail_timeout): `observe layer4` marks a server down after
 * maxFails consecutive connection failures, and a check every failTimeout (downinter) brings it
 * back. Servers that are up are checked only this rarely: NGINX has no active checks at all.
 */
const UP_CHECK_INTERVAL = '1h';
/** NGINX's stream proxy_timeout default: idle TLS connections through the SNI router live this long. */
const TCP_IDLE_TIMEOUT = '10m';

/**
 * retry-on keywords for each retry condition. http_429 has none (HAProxy 2.6 retries on 401,
 * 403, 404, 408, 425 and 500-504 only: buildModel rejects such a rule for an HAProxy cluster, see
 * src/plan/proxy-capabilities.ts); non_idempotent is not a condition
 * but lifts the `disable-l7-retry` that otherwise stops POST, LOCK and PATCH from being resent.
 */
const RETRY_ON: Readonly<Record<RetryCondition, readonly string[]>> = {
  error: ['conn-failure', 'empty-response'],
  timeout: ['conn-failure', 'response-timeout'],
  invalid_header: ['junk-response'],
  http_500: ['500'],
  http_502: ['502'],
  http_503: ['503'],
  http_504: ['504'],
  http_403: ['403'],
  http_404: ['404'],
  http_429: [],
  non_idempotent: [],
};
const RETRY_ORDER = ['conn-failure', 'empty-response', 'junk-response', 'response-timeout', '403', '404', '500', '502', '503', '504'];

const SET = token('set-header');
const ADD = token('add-header');
const DEL = token('del-header');

function edit(verb: Token, name: string, value?: string): EditView {
  return { verb, name, hasValue: value !== undefined, value: value ?? '' };
}

/** Request headers every proxied request gets (NGINX sends the same set), as log-format values. */
const STANDARD_REQUEST_HEADERS: readonly EditView[] = [
  edit(SET, 'X-Real-IP', '%[src]'),
  // A line after the client's own, which HTTP reads as "client-list, address" (NGINX's $proxy_add_x_forwarded_for).
  edit(ADD, 'X-Forwarded-For', '%[src]'),
  edit(SET, 'X-Forwarded-Proto', '%[var(txn.sg_scheme)]'),
  edit(SET, 'X-Forwarded-Host', '%[var(txn.sg_host)]'),
  edit(SET, 'X-Request-Id', '%[unique-id]'),
];

/**
 * HAProxy has one server-side inactivity timeout for both directions: the larger of read and send
 * (a rule setting both to different values is rejected, see src/plan/proxy-capabilities.ts).
 */
function serverTimeout(t: ProxyAction['timeouts']): Duration {
  return durationMs(t.send) > durationMs(t.read) ? t.send : t.read;
}

function retryKeywords(on: readonly RetryCondition[]): string[] {
  const words = new Set(on.flatMap((c) => RETRY_ON[c]));
  const sorted = RETRY_ORDER.filter((w) => words.has(w));
  return sorted.length === 0 ? ['none'] : sorted;
}

/** Exact hosts first, then wildcards with the longest (most specific) suffix first: NGINX's server_name order. */
function hostOrder(a: string, b: string): number {
  const wa = a.startsWith('*.');
  const wb = b.startsWith('*.');
  if (wa !== wb) return wa ? 1 : -1;
  if (wa && a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "*.example.com" matches any name ending in ".example.com" (any depth, not the bare domain), as in NGINX. */
function hostMatch(host: string): { match: Token; host: string } {
  return host.startsWith('*.') ? { match: token('end'), host: host.slice(1) } : { match: token('str'), host };
}


/**
 * HAProxy drops an empty quoted argument, so an empty value cannot be written; NGINX sends no
 * header for an empty value either: setting "" removes the header, adding "" adds nothing.
 */
const setHeader = (h: HeaderPair): EditView => (h.value === '' ? edit(DEL, h.name) : edit(SET, h.name, logFormatText(h.value)));
const addHeaders = (hs: readonly HeaderPair[]): EditView[] => hs.filter((h) => h.value !== '').map((h) => edit(ADD, h.name, logFormatText(h.value)));

function responseEdits(edits: HeaderEdits, acl: Token, upstreamResponse: boolean): ResponseEditView[] {
  const lines = upstreamResponse
    ? [...edits.remove.map((n) => edit(DEL, n)), ...edits.set.map(setHeader), ...addHeaders(edits.add)]
    : addHeaders([...edits.set, ...edits.add]);
  return lines.map((l) => ({ ...l, acl }));
}

function requestEdits(edits: HeaderEdits): EditView[] {
  const touched = new Set([...edits.set.map((h) => h.name), ...edits.add.map((h) => h.name), ...edits.remove].map((n) => n.toLowerCase()));
  return [
    ...STANDARD_REQUEST_HEADERS.filter((h) => !touched.has(h.name.toLowerCase())),
    ...edits.set.map(setHeader),
    ...addHeaders(edits.add),
    ...edits.remove.map((n) => edit(DEL, n)),
  ];
}

function rewriteOf(rule: ModelRule, action: ProxyAction): Pick<BackendView, 'replacePath' | 'setPath'> {
  if (action.rewrite === undefined) return {};
  const to = action.rewrite.replacePrefix;
  if (rule.match.kind === 'exact') return { setPath: logFormatText(to) };
  // replace-path changes the path only (the query string is kept), like NGINX's rewrite.
  const prefix = rule.match.path === '/' ? '' : pathRegex(rule.match.path);
  return { replacePath: { pattern: to.endsWith('/') ? `^${prefix}/?(.*)` : `^${prefix}(.*)`, replacement: `${logFormatText(to)}\\1` } };
}

function serverViews(u: Upstream, cookieTag: string | undefined): ServerView[] {
  const seen = new Set<string>();
  const out: ServerView[] = [];
  // Each server's cookie value is its own, even if two addresses share a hash.
  const serverTags = new NameTable(lowerCase);
  for (const s of u.servers) {
    const address = token(s.ip.includes(':') ? `[${s.ip}]:${s.port}` : `${s.ip}:${s.port}`);
    if (seen.has(address)) continue;
    seen.add(address);
    const maxFails = s.maxFails ?? DEFAULT_MAX_FAILS;
    out.push({
      name: token(`s_${s.ip.replace(/[.:]/g, '_')}_${s.port}`),
      address,
      // The cookie names the task opaquely (no address reaches clients) and survives reloads.
      ...(cookieTag !== undefined ? { serverCookie: token(`${cookieTag}.${serverTags.name(address, fnv1a32(address))}`) } : {}),
      // max_fails=0 turns failure accounting off in NGINX: no observation, no checks.
      ...(maxFails > 0 ? { passiveHealth: { upInterval: UP_CHECK_INTERVAL, failTimeout: haproxyFailTimeout(s.failTimeout ?? DEFAULT_FAIL_TIMEOUT), maxFails } } : {}),
    });
  }
  return out;
}

function balanceOf(a: Affinity): Pick<BackendView, 'balanceRoundRobin' | 'balanceSource' | 'balanceCookie' | 'consistentHash'> {
  const appCookie = a.kind === 'cookie' && a.issuedBy === 'Application' ? a.name : undefined;
  return {
    balanceRoundRobin: a.kind === 'none' || (a.kind === 'cookie' && appCookie === undefined),
    balanceSource: a.kind === 'clientIP',
    ...(appCookie !== undefined ? { balanceCookie: { cookieName: token(appCookie) } } : {}),
    consistentHash: a.kind === 'clientIP' || appCookie !== undefined,
  };
}

interface Defaults {
  readonly connect: Duration;
  readonly server: Duration;
  readonly retryOn: string;
}

/**
 * errorPages in a rule's backend: `http-error` for the errors HAProxy makes there (no server 503,
 * 502, 504; HAProxy uses the backend's replies before the frontend's), and with `upstream` an
 * `http-response return` that replaces a server's answer of that status.
 */
function errorPagesView(e: ModelErrorPages): NonNullable<BackendView['errorPages']> {
  const pages = e.pages.map((p) => ({ status: p.status, contentType: p.contentType, file: pagePath(p.config) }));
  return { own: pages, upstream: e.upstream ? pages : [] };
}

function httpBackend(rule: ModelRule, action: ProxyAction, u: Upstream, defaults: Defaults, acls: AclRegistry, opts: HaproxyRenderOptions): BackendView {
  const name = token(`be.${rule.id}.${u.name}`);
  const a = action.affinity;
  const server = serverTimeout(action.timeouts);
  const timeouts: { kind: Token; value: string }[] = [];
  if (action.timeouts.connect !== defaults.connect) timeouts.push({ kind: token('connect'), value: haproxyDuration(action.timeouts.connect) });
  if (durationMs(server) !== durationMs(defaults.server)) timeouts.push({ kind: token('server'), value: haproxyDuration(server) });
  // Upgraded (websocket) connections: NGINX applies proxy_read_timeout to them.
  if (action.websocket) timeouts.push({ kind: token('tunnel'), value: haproxyDuration(server) });
  const keywords = retryKeywords(action.retries.on);
  const proxyCookie = a.kind === 'cookie' && a.issuedBy !== 'Application' ? a : undefined;
  const servers = serverViews(u, proxyCookie !== undefined ? acls.cookieTag(name) : undefined);
  return {
    name,
    route: rule.route,
    tcp: false,
    ...balanceOf(a),
    ...(proxyCookie !== undefined ? { cookieAffinity: { cookieName: token(proxyCookie.name), maxAge: Math.max(1, Math.floor(durationMs(proxyCookie.ttl) / 1000)) } } : {}),
    timeouts,
    // NGINX's tries count the first attempt, 0 meaning every server once; HAProxy counts retries.
    retries: action.retries.attempts === 0 ? Math.max(0, servers.length - 1) : action.retries.attempts - 1,
    retriesEveryServer: action.retries.attempts === 0,
    ...(keywords.join(' ') !== defaults.retryOn ? { customRetryOn: { keywords: keywords.map(token) } } : {}),
    protectNonIdempotent: !action.retries.on.includes('non_idempotent'),
    // Without websocket: true NGINX passes neither Upgrade nor Connection on, so no upgrade can happen.
    blockUpgrade: !action.websocket,
    requestEdits: requestEdits(action.requestHeaders),
    ...rewriteOf(rule, action),
    bufferRequest: rule.policies?.requestBody?.buffering === true,
    ...(rule.policies?.compression !== undefined ? { compression: { types: rule.policies.compression.types } } : {}),
    ...(rule.policies?.errorPages !== undefined ? { errorPages: errorPagesView(rule.policies.errorPages) } : {}),
    ...(action.protocol !== undefined ? { upstreamProtocol: upstreamProtocol(action) } : {}),
    ...(action.upstreamTls !== undefined ? { upstreamTls: upstreamTlsView(action.upstreamTls, opts) } : {}),
    servers,
  };
}

/** HAProxy server keywords for a rule's backend protocol (docs/reference/route.md, "gRPC"). */
function upstreamProtocol(action: ProxyAction): readonly Token[] {
  const verify = action.upstreamTls?.caSecret !== undefined ? 'required' : 'none';
  if (action.protocol === 'grpc') return ['proto', 'h2'].map(token);
  if (action.protocol === 'grpcs') return ['ssl', 'verify', verify, 'alpn', 'h2'].map(token);
  return ['ssl', 'verify', verify].map(token);
}

/** Backend TLS: the SNI/verified name, the CA bundle (a mounted secret), the client certificate (a combined PEM). */
function upstreamTlsView(t: NonNullable<ProxyAction['upstreamTls']>, opts: HaproxyRenderOptions): NonNullable<BackendView['upstreamTls']> {
  return {
    ...(t.serverName !== undefined ? { upstreamSni: t.serverName } : {}),
    ...(t.caSecret !== undefined ? { upstreamCa: `${opts.secretsDir.replace(/\/+$/, '')}/${t.caSecret}` } : {}),
    ...(t.certSecret !== undefined && t.keySecret !== undefined ? { upstreamPem: pemPath(opts.certDir, { certSecret: t.certSecret, keySecret: t.keySecret }) } : {}),
  };
}

function tcpBackend(name: Token, route: string, u: Upstream, affinity: Affinity): BackendView {
  const servers = serverViews(u, undefined);
  return {
    name,
    route,
    tcp: true,
    ...balanceOf(affinity),
    timeouts: [{ kind: token('server'), value: TCP_IDLE_TIMEOUT }],
    retries: Math.max(0, servers.length - 1),
    retriesEveryServer: true,
    protectNonIdempotent: false,
    blockUpgrade: false,
    requestEdits: [],
    bufferRequest: false,
    servers,
  };
}

function redirectLines(action: RedirectAction, acl: Token, hasQuery: Token): HttpFrontendView['redirects'] {
  const code = action.code;
  if (action.to !== undefined) return [{ location: logFormatText(action.to), code, conditions: [acl] }];
  let base = action.scheme !== undefined ? action.scheme : '%[var(txn.sg_scheme)]';
  base += `://${action.host !== undefined ? action.host : '%[var(txn.sg_host)]'}`;
  if (action.port !== undefined) base += `:${action.port}`;
  if (action.path === undefined) return [{ location: `${base}%[pathq]`, code, conditions: [acl] }];
  const path = `${base}${logFormatText(action.path)}`;
  // NGINX: path + $is_args$args — the query string is kept when there is one.
  return [
    { location: `${path}?%[query]`, code, conditions: [acl, hasQuery] },
    { location: path, code, conditions: [acl] },
  ];
}

interface Numbered {
  readonly index: number;
  readonly vh: VirtualHost;
}

/** The rule-selection chain and the distinct rules it can select, in order of first appearance. */
function selectRules(vhosts: readonly Numbered[], acls: AclRegistry): { select: HttpFrontendView['ruleSelect']; rules: ModelRule[] } {
  const select: ({ rule: Token } & Conditional)[] = [];
  const rules = new Map<string, ModelRule>();
  for (const { index, vh } of vhosts) {
    const vhAcl = token(`vh_${index}`);
    for (const group of vh.paths) {
      const pathAcl = acls.path(group.match);
      const base = pathAcl === undefined ? [vhAcl] : [vhAcl, pathAcl];
      for (const rule of group.conditional) select.push({ rule: token(rule.id), conditions: [...base, ...acls.conditions(rule)] });
      if (group.fallback !== undefined) select.push({ rule: token(group.fallback.id), conditions: base });
      for (const rule of group.fallback === undefined ? group.conditional : [...group.conditional, group.fallback]) if (!rules.has(rule.id)) rules.set(rule.id, rule);
    }
  }
  return { select, rules: [...rules.values()] };
}

function upstreamOf(upstreams: ReadonlyMap<string, Upstream>, name: string): Upstream {
  const u = upstreams.get(name);
  if (u === undefined) throw new Error(`target ${name} is not an upstream of the model`);
  return u;
}

interface PemSocket {
  readonly hop: Token;
  readonly socket: string;
}

function tlsFrontend(model: ProxyModel, opts: HaproxyRenderOptions, pems: ReadonlyMap<string, PemSocket>, upstreams: ReadonlyMap<string, Upstream>, backends: BackendView[]): TlsFrontendView | undefined {
  const terminated = model.virtualHosts.filter((vh) => vh.tls !== undefined);
  if (terminated.length === 0 && model.passthrough.length === 0 && model.defaultServer?.tls === undefined) return undefined;
  const reject = token('sg_tls_reject');
  const hopFor = (vh: VirtualHost | undefined): Token => (vh?.tls === undefined ? reject : (pems.get(listenerKeyOf(vh.tls, opts.certDir, opts.secretsDir, opts.crtList))?.hop ?? reject));
  const defaultBackend = hopFor(model.defaultServer);
  const acls = new AclRegistry();
  const entries: { host: string; lines: UseBackendView[] }[] = terminated.map((vh) => ({ host: vh.host, lines: [{ backend: hopFor(vh), conditions: [] }] }));
  for (const pt of model.passthrough) {
    // No task: like NGINX, the handshake goes where an unknown name would.
    if (pt.targets.length === 0) {
      entries.push({ host: pt.host, lines: [{ backend: defaultBackend, conditions: [] }] });
      continue;
    }
    const ptBackends = pt.targets.map((t) => tcpBackend(token(`pt.${pt.route}.${t.upstream}`), pt.route, upstreamOf(upstreams, t.upstream), pt.affinity));
    backends.push(...ptBackends);
    const names = ptBackends.map((b) => b.name);
    entries.push({ host: pt.host, lines: weightedChoice(pt.targets, names, pickSource(pt.affinity, 'sess'), acls, []) });
  }
  entries.sort((a, b) => hostOrder(a.host, b.host));
  const sni = (i: number): Token => token(`sni_${i + 1}`);
  return {
    bind: token(`${opts.bindAddress}:${opts.httpsPort}`),
    idleTimeout: TCP_IDLE_TIMEOUT,
    ...acls.pickVariables(),
    sniAcls: entries.map((e, i) => ({ name: sni(i), ...hostMatch(e.host) })),
    pickAcls: sortedValues(acls.picks),
    useBackends: entries.flatMap((e, i) => e.lines.map((l) => ({ backend: l.backend, conditions: [sni(i), ...l.conditions] }))),
    defaultBackend,
    hops: [...pems.values()].map((p) => ({ name: p.hop, socket: p.socket })),
    rejectUnknown: defaultBackend === reject,
  };
}

function clientAddressView(model: ProxyModel): ClientAddressView | undefined {
  const c = model.spec.proxy.clientAddress;
  if (c === undefined) return undefined;
  return { trusted: [...new Set(c.trustedProxies.map((x) => canonicalCidr(x)))].sort(), proxyProtocol: c.from === 'ProxyProtocol', forwardedFor: c.from === 'XForwardedFor' };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function buildHaproxyView(model: ProxyModel, opts: HaproxyRenderOptions): HaproxyView {
  const d = model.spec.defaults;
  const defaults: Defaults = { connect: d.timeouts.connect, server: serverTimeout(d.timeouts), retryOn: retryKeywords(DEFAULT_RETRIES.on).join(' ') };
  const runtimeDir = opts.runtimeDir.replace(/\/+$/, '');
  // One TLS listener for the crt-list, one per certificate and client-certificate policy (client-certificates.ts).
  const listeners = tlsListeners(model, opts.certDir, opts.secretsDir, opts.crtList);
  const pems = new Map(listeners.map((l, i) => [l.key, { hop: tlsBindName(i), socket: `${runtimeDir}/tls-${i + 1}.sock`, listener: l }]));
  const upstreams = new Map(model.upstreams.map((u) => [u.name, u]));
  const backends: BackendView[] = [];
  const acls = new AclRegistry();

  // Virtual hosts are numbered in model order (sorted by name) and selected in NGINX's order.
  const vhosts: Numbered[] = model.virtualHosts.map((vh, i) => ({ index: i + 1, vh }));
  const ordered = [...vhosts].sort((a, b) => hostOrder(a.vh.host, b.vh.host));
  const all = model.defaultServer === undefined ? vhosts : [...vhosts, { index: 0, vh: model.defaultServer }];
  const httpsPort = model.spec.proxy.publish.https;

  const { select, rules } = selectRules(all, acls);
  const ruleAcl = (rule: ModelRule): Token => token(`rule_${rule.id}`);
  const hasQuery = token('sg_has_query');
  const redirects: HttpFrontendView['redirects'][number][] = [];
  const unavailable: HttpFrontendView['unavailable'][number][] = [];
  const respEdits: ResponseEditView[] = [];
  const useBackends: UseBackendView[] = [];
  const policies = new HaproxyPolicies();
  for (const rule of rules) {
    const action = rule.action;
    const acl = ruleAcl(rule);
    policies.add(rule, acl);
    respEdits.push(...responseEdits(action.responseHeaders, acl, action.kind === 'proxy'));
    if (action.kind === 'redirect') redirects.push(...redirectLines(action, acl, hasQuery));
    else if (action.targets.length === 0) {
      const page = pageFor(rule.policies?.errorPages, 503);
      unavailable.push({ rule: acl, ...(page !== undefined ? { page } : {}) });
    }
    else {
      const ruleBackends = action.targets.map((t) => httpBackend(rule, action, upstreamOf(upstreams, t.upstream), defaults, acls, opts));
      backends.push(...ruleBackends);
      const a = action.affinity;
      // A returning client's cookie names its backend: it wins over the weighted choice.
      if (ruleBackends.length > 1 && a.kind === 'cookie' && a.issuedBy !== 'Application')
        for (const b of ruleBackends) useBackends.push({ backend: b.name, conditions: [acl, acls.cookie(a.name, b.name)] });
      useBackends.push(...weightedChoice(action.targets, ruleBackends.map((b) => b.name), pickSource(a, 'txn'), acls, [acl]));
    }
  }
  const tlsView = tlsFrontend(model, opts, pems, upstreams, backends);
  const l4 = l4Frontends(model, opts, backends, tcpBackend);
  const clientAddress = clientAddressView(model);
  // The HTTPS port takes the balancer's PROXY header too; X-Forwarded-For is read in sg_http only.
  const tls = tlsView === undefined ? undefined : { ...tlsView, ...(clientAddress?.proxyProtocol === true ? { clientAddress } : {}) };
  const unique = [...new Map(backends.map((b) => [b.name, b])).values()];

  return {
    cluster: model.cluster,
    // Names only: a generation that changes nothing the proxy does must not change the bytes (ADR 0049).
    routeLines: chunk(model.routes.map((r) => r.name as string), 10).map((names) => names.join(' ')),
    pickRange: PICK_RANGE,
    logTarget: opts.logTarget,
    ...(d.workerProcesses !== 'auto' ? { nbthread: d.workerProcesses } : {}),
    accessLog: d.accessLog,
    ...(model.spec.proxy.delivery === 'hitless' ? { trafficLog: { port: opts.trafficLogPort } } : {}),
    defaults: { connect: haproxyDuration(defaults.connect), server: haproxyDuration(defaults.server), retryOn: defaults.retryOn.split(' ').map(token) },
    http: {
      bind: token(`${opts.bindAddress}:${opts.httpPort}`),
      ...(clientAddress !== undefined ? { clientAddress } : {}),
      ...(model.acme !== undefined ? { acmeHttp01: { map: http01MapPath(runtimeDir) } } : {}),
      tlsBinds: [...pems.values()].map((s) => ({
        socket: s.socket,
        name: s.hop,
        ...(s.listener.pem !== undefined ? { pem: s.listener.pem } : {}),
        ...(s.listener.crtList !== undefined ? { crtList: { ...s.listener.crtList, file: CRT_LIST_FILE } } : {}),
        ...(s.listener.clientCert !== undefined ? { clientCert: s.listener.clientCert } : {}),
      })),
      // client_max_body_size; 0 means no limit, as in NGINX.
      maxBodyBytes: sizeBytes(d.clientMaxBodySize),
      ...acls.pickVariables(),
      hostAcls: ordered.map(({ index, vh }) => ({ name: token(`host_${index}`), ...hostMatch(vh.host) })),
      // A host without TLS is not served on the TLS listeners (with NGINX it has no TLS listener).
      vhostSelect: ordered.map(({ index, vh }) => ({ index, acl: token(`host_${index}`), plainOnly: vh.tls === undefined && pems.size > 0 })),
      defaultVhost: model.defaultServer !== undefined,
      vhAcls: all.map(({ index }) => ({ name: token(`vh_${index}`), index })),
      httpsRedirects: all
        .filter(({ vh }) => vh.tls?.redirectHTTP === true)
        .map(({ index }) => ({ acl: token(`vh_${index}`), location: `https://%[var(txn.sg_host)]${httpsPort === 443 ? '' : `:${httpsPort}`}%[pathq]` })),
      clientCertChecks: all.flatMap(({ index, vh }) => {
        const check = vh.tls === undefined ? undefined : clientCertCheck(vh, token(`vh_${index}`), pems.get(listenerKeyOf(vh.tls, opts.certDir, opts.secretsDir, opts.crtList))?.hop);
        return check !== undefined ? [check] : [];
      }),
      pathAcls: sortedValues(acls.paths),
      headerAcls: sortedValues(acls.headers),
      cookieMatchAcls: sortedValues(acls.cookieMatches),
      methodAcls: sortedValues(acls.methods),
      ruleSelect: select,
      ruleAcls: rules.map((r) => ({ name: ruleAcl(r), rule: token(r.id) })),
      fallback503: model.defaultServer === undefined,
      ...policies.view(),
      hasQueryAcl: redirects.some((r) => r.conditions.includes(hasQuery)),
      redirects,
      unavailable,
      responseEdits: respEdits,
      pickAcls: sortedValues(acls.picks),
      cookieAcls: sortedValues(acls.cookies),
      useBackends,
    },
    ...(tls !== undefined ? { tls } : {}),
    ...(l4.length > 0 ? { l4 } : {}),
    backends: opts.dynamicEndpoints ? unique.map((b) => slottedBackend(b, b.cookieAffinity !== undefined ? acls.cookieTag(b.name) : undefined, b.retriesEveryServer === true)) : unique,
    stickTables: policies.stickTables(),
    statusBind: token(`127.0.0.1:${opts.statusPort}`),
    ...(opts.dynamicEndpoints ? { dynamic: haproxyDynamicPaths(runtimeDir) } : {}),
  };
}
