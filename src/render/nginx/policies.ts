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
import type { RulePolicies } from '../../plan/model';
import { fnv1a32 } from '../../plan/hash';
import { identityKey, lowerCase, NameTable } from '../../plan/names';
import { token, type Token } from '../token';

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
}

export const NO_POLICIES: PolicyBodyView = { forbidden: [] };

export class PolicyRegistry {
  private readonly names = new NameTable(lowerCase);
  readonly geos = new Map<string, GeoView>();

  /** @param secretsDir where the proxy task mounts Docker secrets (NginxRenderOptions.secretsDir). */
  constructor(private readonly secretsDir: string) {}

  /** A variable that is 1 when the client address is in `cidrs`, 0 otherwise. */
  private addressList(cidrs: readonly string[]): Token {
    const sorted = [...cidrs].sort();
    const variable = token(this.names.name(identityKey('geo', sorted), `$sg_acl_ip_${fnv1a32(sorted.join(','))}`));
    this.geos.set(variable, { variable, cidrs: sorted });
    return variable;
  }

  /** @param redirect the rule answers with a redirect (in the rewrite phase): no login is asked (it could not be). */
  body(policies: RulePolicies | undefined, redirect: boolean): PolicyBodyView {
    if (policies === undefined) return NO_POLICIES;
    const forbidden = [
      ...policies.ipAllow.map((list) => ({ variable: this.addressList(list), value: 0 as const })),
      ...policies.ipDeny.map((list) => ({ variable: this.addressList(list), value: 1 as const })),
    ];
    const auth = redirect ? undefined : policies.basicAuth;
    return { forbidden, ...(auth !== undefined ? { basicAuth: { realm: auth.realm, file: `${this.secretsDir}/${auth.secret}` } } : {}) };
  }

  geoViews(): GeoView[] {
    return [...this.geos.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
  }
}
