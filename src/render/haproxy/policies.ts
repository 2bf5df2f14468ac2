/**
 * A rule's Middleware policies (model RulePolicies) in HAProxy terms: frontend lines that run after
 * the rule is selected (txn.sg_rule) and before it answers (redirect, 503 or use_backend). ACL
 * names come from their own NameTable and all start with `pol_`, a prefix no other generated ACL
 * uses, so they cannot meet the view model's names (src/plan/names.ts).
 *
 * Address checks use `src`: the client address, or the one the PROXY protocol header carried on the
 * TLS listeners.
 */
import type { ModelCors, ModelErrorPages, ModelRule } from '../../plan/model';
import { pagePath } from '../../plan/error-pages';
import { anyOrigin, originPattern, preflightHeaders } from '../cors';
import { logFormatText } from './escape';
import { fnv1a32 } from '../../plan/hash';
import { identityKey, lowerCase, NameTable } from '../../plan/names';
import { token, type Token } from '../token';

/** errorPages: the page a refusal or answer of this status sends (`content-type … file …`). */
export interface PageView {
  readonly contentType: string;
  readonly file: string;
}

/** The page of `status` in `e`, if any. */
export function pageFor(e: ModelErrorPages | undefined, status: number): PageView | undefined {
  const p = e?.pages.find((x) => x.status === status);
  return p === undefined ? undefined : { contentType: p.contentType, file: pagePath(p.config) };
}

export interface AddressAclView {
  readonly name: Token;
  readonly cidrs: readonly string[];
}

/** One limit of one rule: a sticky counter tracked in a table, and the refusal above the limit. */
export interface LimitLineView {
  readonly rule: Token;
  readonly counter: number;
  readonly table: Token;
  /** Keyed by this request header (only requests carrying it are tracked); absent: by `src`. */
  readonly header?: Token;
  readonly rate?: { readonly limit: number; readonly retryAfter: number };
  readonly connections?: { readonly max: number };
  /** errorPages' 429 page. */
  readonly page?: PageView;
}

export interface StickTableView {
  readonly name: Token;
  /** Keyed by a header value (`type string len 128`), else by address (`type ipv6`, which holds IPv4 too). */
  readonly byHeader: boolean;
  readonly expire: string;
  /** `gpc0,gpc0_rate(<period>)` for a rate, `conn_cur` for connections. */
  readonly ratePeriod?: string;
}

/**
 * HAProxy 2.6 tracks at most 3 sticky counters per request (MAX_SESS_STKCTR), so one rule can have at
 * most 3 limits there (src/plan/middlewares.ts refuses more as UnsupportedValue).
 */
export const MAX_HAPROXY_LIMITS_PER_RULE = 3;

/** CORS of one rule: the origin ACL, the preflight answer, the headers added to every answer. */
export interface CorsLineView {
  readonly rule: Token;
  readonly acl: Token;
  /** `*` allowed: Access-Control-Allow-Origin is "*", else the request's Origin. */
  readonly any: boolean;
  readonly methods: string;
  readonly headers?: string;
  readonly maxAge: string;
  readonly credentials: boolean;
  readonly expose?: string;
}

export interface OriginAclView {
  readonly name: Token;
  readonly any: boolean;
  readonly patterns: readonly string[];
}

export interface PolicyFrontendView {
  /** Middleware requestBody.maxSize, tighter than the cluster's (src/plan/middlewares.ts refuses a looser one). */
  readonly bodyLimits: readonly { readonly rule: Token; readonly maxBytes: number; readonly page?: PageView }[];
  /** `page`: the rule's 503 page instead of the message. */
  readonly maintenance: readonly { readonly rule: Token; readonly retryAfter: string; readonly message: string; readonly page?: PageView }[];
  readonly addressAcls: readonly AddressAclView[];
  readonly originAcls: readonly OriginAclView[];
  readonly corsLines: readonly CorsLineView[];
  readonly limitLines: readonly LimitLineView[];
  /** `http-request deny deny_status 403 if <rule> [!]<acl>`. */
  readonly forbidden: readonly { readonly rule: Token; readonly negate: boolean; readonly acl: Token; readonly page?: PageView }[];
}

export class HaproxyPolicies {
  private readonly names = new NameTable(lowerCase);
  private readonly acls = new Map<string, AddressAclView>();
  private readonly forbidden: PolicyFrontendView['forbidden'][number][] = [];
  private readonly limits: LimitLineView[] = [];
  private readonly origins = new Map<string, OriginAclView>();
  private readonly cors: CorsLineView[] = [];
  private readonly maintenance: PolicyFrontendView['maintenance'][number][] = [];
  private readonly bodyLimits: PolicyFrontendView['bodyLimits'][number][] = [];

  private originAcl(c: ModelCors): Token {
    const name = token(this.names.name(identityKey('origin', c.allowOrigins), `pol_cors_${fnv1a32(c.allowOrigins.join(','))}`));
    this.origins.set(name, { name, any: anyOrigin(c), patterns: anyOrigin(c) ? [] : c.allowOrigins.map(originPattern) });
    return name;
  }
  private readonly tables = new Map<string, StickTableView>();

  private table(identity: string, base: string, t: Omit<StickTableView, 'name'>): Token {
    const name = token(this.names.name(identity, base));
    this.tables.set(name, { name, ...t });
    return name;
  }

  private addressAcl(cidrs: readonly string[]): Token {
    const sorted = [...cidrs].sort();
    const name = token(this.names.name(identityKey('src', sorted), `pol_ip_${fnv1a32(sorted.join(','))}`));
    this.acls.set(name, { name, cidrs: sorted });
    return name;
  }

  /** Adds the lines of `rule` (selected when `ruleAcl` holds). */
  add(rule: ModelRule, ruleAcl: Token): void {
    const p = rule.policies;
    if (p === undefined) return;
    const page = (status: number) => {
      const v = pageFor(p.errorPages, status);
      return v !== undefined ? { page: v } : {};
    };
    for (const list of p.ipAllow) this.forbidden.push({ rule: ruleAcl, negate: true, acl: this.addressAcl(list), ...page(403) });
    for (const list of p.ipDeny) this.forbidden.push({ rule: ruleAcl, negate: false, acl: this.addressAcl(list), ...page(403) });
    // `string` is not a log-format: the message needs only the escaping every quoted value gets.
    if (p.maintenance !== undefined) this.maintenance.push({ rule: ruleAcl, retryAfter: String(p.maintenance.retryAfterSeconds), message: p.maintenance.message, ...page(503) });
    const c = p.cors;
    if (c !== undefined) {
      const h = preflightHeaders(c);
      this.cors.push({
        rule: ruleAcl,
        acl: this.originAcl(c),
        any: anyOrigin(c),
        methods: logFormatText(h.methods),
        ...(h.headers !== undefined ? { headers: logFormatText(h.headers) } : {}),
        maxAge: h.maxAge,
        credentials: c.allowCredentials,
        ...(c.exposeHeaders.length > 0 ? { expose: logFormatText(c.exposeHeaders.join(', ')) } : {}),
      });
    }
    // Redirect rules are not limited (as with NGINX, which answers them before it counts).
    if (rule.action.kind === 'redirect') return;
    const maxBytes = p.requestBody?.maxBytes;
    if (maxBytes !== undefined && maxBytes > 0) this.bodyLimits.push({ rule: ruleAcl, maxBytes, ...page(413) });
    let counter = 0;
    for (const l of p.rateLimits) {
      const identity = identityKey('rate', rule.route, l.header?.toLowerCase(), l.rate, l.per);
      const period = l.per === 's' ? '1s' : '60s';
      const table = this.table(identity, `pol_rl_${fnv1a32(identity)}`, { byHeader: l.header !== undefined, expire: l.per === 's' ? '10s' : '2m', ratePeriod: period });
      this.limits.push({ rule: ruleAcl, counter: counter++, table, ...(l.header !== undefined ? { header: token(l.header) } : {}), rate: { limit: l.rate, retryAfter: l.retryAfter }, ...page(429) });
    }
    if (p.connectionLimits.length > 0) {
      const identity = identityKey('conn', rule.route);
      const table = this.table(identity, `pol_cl_${fnv1a32(rule.route)}`, { byHeader: false, expire: '1m' });
      this.limits.push({ rule: ruleAcl, counter: counter++, table, connections: { max: Math.min(...p.connectionLimits.map((c) => c.max)) }, ...page(429) });
    }
  }

  view(): PolicyFrontendView {
    return { addressAcls: [...this.acls.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v), forbidden: this.forbidden, maintenance: this.maintenance, bodyLimits: this.bodyLimits, limitLines: this.limits, originAcls: [...this.origins.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v), corsLines: this.cors };
  }

  stickTables(): StickTableView[] {
    return [...this.tables.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  }
}
