/**
 * A rule's Middleware policies (model RulePolicies) in NGINX terms. The http-level blocks they
 * need (a `geo` per client address list) are collected here, named from their own NameTable: every
 * name starts with `$sg_acl_`, a prefix no other generated NGINX name uses, so names from this table
 * cannot meet the view model's (src/plan/names.ts).
 *
 * Address checks are `if (…) { return 403; }` at the top of the rule's location: NGINX runs them in
 * its rewrite phase, before the rule answers (proxy, redirect or 503). A login (`auth_basic`) runs in
 * the access phase, after that: a redirect rule or a 503 answers before it (documented), a proxied
 * request only once the user is known. The geo blocks read
 * $remote_addr, the client address after the PROXY protocol / realip rewriting of the listener.
 */
import type { ModelCors, ModelErrorPages, ModelForwardAuth, ModelRateLimit, ModelRule } from '../../plan/model';
import { pagePath } from '../../plan/error-pages';
import { anyOrigin, originPattern, preflightHeaders } from '../cors';
import { fnv1a32 } from '../../plan/hash';
import { identityKey, lowerCase } from '../../plan/names';
import { Journal } from '../registry-journal';
import { headerVariable, token, type Token } from '../token';
import { nginxDuration } from './duration';

export interface GeoView {
  readonly variable: Token;
  readonly cidrs: readonly string[];
}

/** The policy directives of one location body. */
export interface PolicyBodyView {
  /** `if (<variable> = <value>) { return 403; }`: a client address check that failed. */
  readonly forbidden: readonly { readonly variable: Token; readonly value: 0 | 1 }[];
  /** `auth_basic` with the users file (a mounted Docker secret); NGINX's workers read it per request. */
  readonly basicAuth?: { readonly realm: string; readonly file: string };
  readonly limitReq: readonly { readonly zone: Token; readonly burst: number }[];
  readonly limitConn: readonly { readonly zone: Token; readonly max: number }[];
  /** Set when the location limits: answer 429 (NGINX's default is 503). */
  readonly limitStatus: boolean;
  /** A variable holding the Retry-After seconds when limit_req refused the request, else empty (no header). */
  readonly retryAfter?: Token;
  readonly cors?: CorsBodyView;
  /**
   * Answer 503 with Retry-After and this text before anything else of the rule; with `pageUri` (the
   * rule has a 503 page) the page instead, through `error_page 503` to a page location that sends Retry-After.
   */
  readonly maintenance?: { readonly retryAfter: string; readonly message: string; readonly pageUri?: string; readonly pageLocation?: PageLocationView };
  /** client_max_body_size in bytes ("0": none; a string so that mustache prints 0). */
  readonly maxBodySize?: string;
  readonly requestBuffering?: 'on' | 'off';
  /** gzip_types (NGINX always compresses text/html too). */
  readonly gzip?: { readonly types: readonly string[] };
  readonly forwardAuth?: ForwardAuthBodyView;
  readonly errorPages?: ErrorPagesBodyView;
  /**
   * The rule's 503 page, in `$sg_page_503`: the loopback 503 server (no task reachable, or a timed-out
   * task) redirects to `@sg_no_task` (X-Accel-Redirect), which answers with it.
   */
  readonly noTaskPage?: string;
  /** `proxy_intercept_errors on` (errorPages.upstream): the backends' answers with a page's status get the page. */
  readonly interceptErrors?: boolean;
}

/** errorPages in a location: `error_page <codes> <uri>` to the server's internal page locations. */
export interface ErrorPagesBodyView {
  readonly lines: readonly { readonly codes: string; readonly uri: string }[];
  /** No page for 502: repeat the server's `error_page 502 = @sg_502` (error_page is inherited all-or-nothing). */
  readonly keep502: boolean;
  /** The internal locations these lines jump to (collected per server). */
  readonly locations: readonly PageLocationView[];
  /** The 503 page's location path, if any. */
  readonly noTaskPage?: string;
}

/** An internal location serving one page file (a mounted Swarm config). */
export interface PageLocationView {
  readonly path: string;
  readonly file: string;
  readonly contentType: string;
  /** Maintenance's page: with its Retry-After (add_header of the jumping location does not carry over). */
  readonly retryAfter?: string;
  /** A rate-limited rule's 429 page: Retry-After from the rule's variable (empty, so absent, unless limit_req refused). */
  readonly retryVariable?: Token;
}

/** forwardAuth in a location: `auth_request` to the server's internal auth location, answers mapped. */
export interface ForwardAuthBodyView {
  /** The internal location's path (server-local; "!" keeps it out of every path a rule can match). */
  readonly uri: string;
  /** `auth_request_set <variable> <source>`: the auth answer's headers copied upstream. */
  readonly copy: readonly { readonly variable: Token; readonly source: Token }[];
  readonly location: AuthLocationView;
}

/** Docker's embedded DNS, in every Swarm task: resolves a forwardAuth URL's host when NGINX asks. */
export const DOCKER_DNS = '127.0.0.11';
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The internal location a server needs per distinct auth service ask. */
export interface AuthLocationView {
  readonly path: string;
  /** forwardAuth.url: `set <variable> "<url>"; proxy_pass <variable>;`, with a resolver unless the host is an address. */
  readonly urlTarget?: { readonly variable: Token; readonly value: string; readonly resolver?: Token };
  /** The auth service's upstream, or the loopback 503 server when it has no running task. */
  readonly target: Token;
  /** The path asked on the auth service (user data, escaped). */
  readonly authPath: string;
  readonly timeout: string;
}

/** The variable holding a copied auth answer header: `$sg_acl_auth_h_remote_user` for Remote-User. */
export function authHeaderVariable(name: string): Token {
  return token(`$sg_acl_auth_h_${name.toLowerCase().replace(/-/g, '_')}`);
}

/** CORS in a location: the preflight answered in the rewrite phase, the headers added to every answer. */
export interface CorsBodyView {
  /** 1 for an OPTIONS request with Access-Control-Request-Method. */
  readonly preflight: Token;
  /** The Access-Control-Allow-Origin value: the request's Origin when allowed ("*" for any), else empty. */
  readonly allowOrigin: Token;
  /** "true" when the origin is allowed and credentials are; else empty. */
  readonly credentials?: Token;
  readonly expose?: Token;
  readonly methods: string;
  readonly headers?: string;
  readonly maxAge: string;
}

export interface CorsMapView {
  readonly variable: Token;
  readonly any: boolean;
  readonly patterns: readonly string[];
  readonly credentials?: Token;
  /** (Field names differ from the map's own: mustache looks names up through the enclosing sections.) */
  readonly expose?: { readonly exposeVariable: Token; readonly exposeValue: string };
}

export interface LimitReqZoneView {
  readonly zone: Token;
  readonly key: Token;
  readonly rate: number;
  readonly per: 's' | 'm';
}

export const NO_POLICIES: PolicyBodyView = { forbidden: [], limitReq: [], limitConn: [], limitStatus: false };

const PREFLIGHT = token('$sg_acl_preflight');

/** Shared memory per limit zone: 10 MB hold about 160 000 client addresses (NGINX's docs). */
export const LIMIT_ZONE_SIZE = '10m';

export class PolicyRegistry {
  private readonly names: { name: (identity: string, base: string) => string };
  readonly geos: Map<string, GeoView>;
  readonly reqZones: Map<string, LimitReqZoneView>;
  readonly connZones: Map<string, Token>;
  readonly retryAfterMaps: Map<string, { readonly variable: Token; readonly seconds: number }>;
  readonly corsMaps: Map<string, CorsMapView>;
  /** Whether an upstream has a running task, read through the journal. */
  private readonly serving: (upstream: string) => boolean;

  private corsBody(c: ModelCors): CorsBodyView {
    const identity = identityKey('cors', c.allowOrigins, c.exposeHeaders, c.allowCredentials);
    const id = fnv1a32(identity);
    const allowOrigin = token(this.names.name(identity, `$sg_acl_cors_${id}`));
    const credentials = c.allowCredentials ? token(this.names.name(identityKey('cors-credentials', allowOrigin), `$sg_acl_corscred_${id}`)) : undefined;
    const expose = c.exposeHeaders.length > 0 ? { exposeVariable: token(this.names.name(identityKey('cors-expose', allowOrigin), `$sg_acl_corsexp_${id}`)), exposeValue: c.exposeHeaders.join(', ') } : undefined;
    this.corsMaps.set(allowOrigin, { variable: allowOrigin, any: anyOrigin(c), patterns: anyOrigin(c) ? [] : c.allowOrigins.map(originPattern), ...(credentials !== undefined ? { credentials } : {}), ...(expose !== undefined ? { expose } : {}) });
    return { preflight: PREFLIGHT, allowOrigin, ...(credentials !== undefined ? { credentials } : {}), ...(expose !== undefined ? { expose: expose.exposeVariable } : {}), ...preflightHeaders(c) };
  }

  /**
   * @param secretsDir where the proxy task mounts Docker secrets (NginxRenderOptions.secretsDir).
   * @param unavailable the loopback 503 server (an auth service without running tasks is asked there).
   * @param serving upstream names that have servers.
   * @param journal the view model's journal (src/render/registry-journal.ts): names, blocks and reads go through it.
   */
  constructor(
    private readonly secretsDir: string,
    private readonly unavailable: Token = token('127.0.0.1:1'),
    serving: (upstream: string) => boolean = () => true,
    journal: Journal = new Journal(),
  ) {
    // Its own table ('policy'): every name here starts with $sg_acl_ / sg_acl_, which the view model's never do.
    const ask = journal.table('policy', lowerCase);
    this.names = { name: ask };
    this.geos = journal.map('policy.geos');
    this.reqZones = journal.map('policy.reqZones');
    this.connZones = journal.map('policy.connZones');
    this.retryAfterMaps = journal.map('policy.retryAfterMaps');
    this.corsMaps = journal.map('policy.corsMaps');
    this.serving = journal.source('policy.serving', serving);
  }

  private forwardAuth(fa: ModelForwardAuth): ForwardAuthBodyView {
    const identity = fa.url !== undefined ? identityKey('forward-auth-url', fa.url.origin, fa.path, fa.timeout) : identityKey('forward-auth', fa.upstream, fa.path, fa.timeout);
    const name = this.names.name(identity, `sg_acl_auth_${fnv1a32(identity)}`);
    const path = `/!sg-auth/${name}`;
    const upstream = fa.upstream ?? '';
    // By URL: proxy_pass through a variable, so NGINX resolves the host when it asks (Docker's DNS in a
    // task) instead of at load, where a name it cannot resolve would fail the whole configuration.
    const target =
      fa.url !== undefined
        ? { urlTarget: { variable: token(`$${name}_url`), value: `${fa.url.origin}${fa.path}`, ...(IPV4.test(fa.url.host) ? {} : { resolver: token(DOCKER_DNS) }) } }
        : {};
    return {
      uri: path,
      copy: fa.responseHeaders.map((h) => ({ variable: authHeaderVariable(h), source: token(`$upstream_http_${h.toLowerCase().replace(/-/g, '_')}`) })),
      // (With a URL the target is not rendered: urlTarget replaces it.)
      location: { path, target: fa.url === undefined && this.serving(upstream) ? token(upstream) : this.unavailable, authPath: fa.path, timeout: nginxDuration(fa.timeout), ...target },
    };
  }

  /** The internal location serving `config` as `contentType` (with Retry-After for maintenance). */
  private pageLocation(config: string, contentType: string, retryAfter?: string, retryVariable?: Token): PageLocationView {
    const identity = identityKey('page', config, contentType, retryAfter, retryVariable);
    const name = this.names.name(identity, `sg_acl_page_${fnv1a32(identity)}`);
    return { path: `/!sg-page/${name}`, file: pagePath(config), contentType, ...(retryAfter !== undefined ? { retryAfter } : {}), ...(retryVariable !== undefined ? { retryVariable } : {}) };
  }

  private errorPagesBody(e: ModelErrorPages, retryVariable: Token | undefined): ErrorPagesBodyView {
    const byPage = new Map<string, { codes: number[]; location: PageLocationView }>();
    for (const p of e.pages) {
      const location = this.pageLocation(p.config, p.contentType, undefined, p.status === 429 ? retryVariable : undefined);
      const entry = byPage.get(location.path) ?? { codes: [], location };
      entry.codes.push(p.status);
      byPage.set(location.path, entry);
    }
    const entries = [...byPage.values()].sort((a, b) => (a.codes[0] ?? 0) - (b.codes[0] ?? 0));
    return {
      lines: entries.map((x) => ({ codes: x.codes.join(' '), uri: x.location.path })),
      keep502: !e.pages.some((p) => p.status === 502),
      locations: entries.map((x) => x.location),
      ...(e.pages.some((p) => p.status === 503) ? { noTaskPage: entries.find((x) => x.codes.includes(503))?.location.path ?? '' } : {}),
    };
  }

  /** A variable that is 1 when the client address is in `cidrs`, 0 otherwise. */
  private addressList(cidrs: readonly string[]): Token {
    const sorted = [...cidrs].sort();
    const variable = token(this.names.name(identityKey('geo', sorted), `$sg_acl_ip_${fnv1a32(sorted.join(','))}`));
    this.geos.set(variable, { variable, cidrs: sorted });
    return variable;
  }

  /** A limit_req zone per route and limit: routes sharing a middleware do not share their clients' counts. */
  private reqZone(route: string, l: ModelRateLimit): Token {
    const key = l.header !== undefined ? headerVariable(l.header) : token('$binary_remote_addr');
    const identity = identityKey('limit-req', route, l.header?.toLowerCase(), l.rate, l.per);
    const zone = token(this.names.name(identity, `sg_acl_rl_${fnv1a32(identity)}`));
    this.reqZones.set(zone, { zone, key, rate: l.rate, per: l.per });
    return zone;
  }

  private connZone(route: string): Token {
    const zone = token(this.names.name(identityKey('limit-conn', route), `sg_acl_cl_${fnv1a32(route)}`));
    this.connZones.set(zone, zone);
    return zone;
  }

  private retryAfterVariable(seconds: number): Token {
    const variable = token(this.names.name(identityKey('retry-after', seconds), `$sg_acl_retry_${seconds}`));
    this.retryAfterMaps.set(variable, { variable, seconds });
    return variable;
  }

  /**
   * @param redirect the rule answers with a redirect (in the rewrite phase): no login is asked and no
   *   limit counted (neither could be: both run in later phases).
   */
  body(rule: ModelRule, redirect: boolean): PolicyBodyView {
    const policies = rule.policies;
    if (policies === undefined) return NO_POLICIES;
    const forbidden = [
      ...policies.ipAllow.map((list) => ({ variable: this.addressList(list), value: 0 as const })),
      ...policies.ipDeny.map((list) => ({ variable: this.addressList(list), value: 1 as const })),
    ];
    const auth = redirect ? undefined : policies.basicAuth;
    const forwardAuth = redirect || policies.forwardAuth === undefined ? undefined : this.forwardAuth(policies.forwardAuth);
    const rates = redirect ? [] : policies.rateLimits;
    const conns = redirect ? [] : policies.connectionLimits;
    // Limits with the same key and rate share a zone, and NGINX takes one limit_req per zone in a
    // location: both hold when the smaller burst does.
    const bursts = new Map<Token, number>();
    for (const l of rates) {
      const zone = this.reqZone(rule.route, l);
      bursts.set(zone, Math.min(l.burst, bursts.get(zone) ?? l.burst));
    }
    const limitReq = [...bursts].map(([zone, burst]) => ({ zone, burst }));
    // One zone per route counts a client's requests in progress; several limits: the smallest decides.
    const limitConn = conns.length === 0 ? [] : [{ zone: this.connZone(rule.route), max: Math.min(...conns.map((c) => c.max)) }];
    const wait = rates.length === 0 ? undefined : Math.max(...rates.map((l) => l.retryAfter));
    const cors = policies.cors === undefined ? undefined : this.corsBody(policies.cors);
    const retryAfter = wait !== undefined ? this.retryAfterVariable(wait) : undefined;
    const errorPages = policies.errorPages === undefined ? undefined : this.errorPagesBody(policies.errorPages, retryAfter);
    return {
      forbidden,
      ...(auth !== undefined ? { basicAuth: { realm: auth.realm, file: `${this.secretsDir}/${auth.secret}` } } : {}),
      ...(forwardAuth !== undefined ? { forwardAuth } : {}),
      limitReq,
      limitConn,
      limitStatus: limitReq.length > 0 || limitConn.length > 0,
      ...(retryAfter !== undefined ? { retryAfter } : {}),
      ...(cors !== undefined ? { cors } : {}),
      ...(!redirect && policies.requestBody?.maxBytes !== undefined ? { maxBodySize: String(policies.requestBody.maxBytes) } : {}),
      ...(!redirect && policies.requestBody?.buffering !== undefined ? { requestBuffering: policies.requestBody.buffering ? ('on' as const) : ('off' as const) } : {}),
      ...(!redirect && policies.compression !== undefined ? { gzip: { types: policies.compression.types } } : {}),
      ...(policies.maintenance !== undefined ? { maintenance: this.maintenanceBody(policies.maintenance, policies.errorPages) } : {}),
      ...(errorPages !== undefined ? { errorPages } : {}),
      ...(!redirect && errorPages?.noTaskPage !== undefined ? { noTaskPage: errorPages.noTaskPage } : {}),
      ...(!redirect && policies.errorPages?.upstream === true ? { interceptErrors: true } : {}),
    };
  }

  private maintenanceBody(m: NonNullable<NonNullable<ModelRule['policies']>['maintenance']>, e: ModelErrorPages | undefined): NonNullable<PolicyBodyView['maintenance']> {
    const retryAfter = String(m.retryAfterSeconds);
    const page = e?.pages.find((p) => p.status === 503);
    return { retryAfter, message: m.message, ...(page !== undefined ? { pageUri: this.pageLocation(page.config, page.contentType, retryAfter).path, pageLocation: this.pageLocation(page.config, page.contentType, retryAfter) } : {}) };
  }

  geoViews(): GeoView[] {
    return sorted(this.geos);
  }

  httpView(): { geoMaps: GeoView[]; limitReqZones: LimitReqZoneView[]; limitConnZones: { zone: Token }[]; retryAfterMaps: { variable: Token; seconds: number }[]; limitZoneSize: string; corsMaps: CorsMapView[]; preflightMap?: { variable: Token } } {
    return {
      corsMaps: sorted(this.corsMaps),
      ...(this.corsMaps.size > 0 ? { preflightMap: { variable: PREFLIGHT } } : {}),
      geoMaps: sorted(this.geos),
      limitReqZones: sorted(this.reqZones),
      limitConnZones: sorted(this.connZones).map((zone) => ({ zone })),
      retryAfterMaps: sorted(this.retryAfterMaps),
      limitZoneSize: LIMIT_ZONE_SIZE,
    };
  }
}

function sorted<V>(m: Map<string, V>): V[] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
}
