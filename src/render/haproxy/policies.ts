/**
 * A rule's Middleware policies (model RulePolicies) in HAProxy terms: frontend lines that run after
 * the rule is selected (txn.sg_rule) and before it answers (redirect, 503 or use_backend). ACL
 * names come from their own NameTable and all start with `pol_`, a prefix no other generated ACL
 * uses, so they cannot meet the view model's names (src/plan/names.ts).
 *
 * Address checks use `src`: the client address, or the one the PROXY protocol header carried on the
 * TLS listeners.
 */
import type { ModelRule } from '../../plan/model';
import { fnv1a32 } from '../../plan/hash';
import { identityKey, lowerCase, NameTable } from '../../plan/names';
import { token, type Token } from '../token';

export interface AddressAclView {
  readonly name: Token;
  readonly cidrs: readonly string[];
}

export interface PolicyFrontendView {
  readonly addressAcls: readonly AddressAclView[];
  /** `http-request deny deny_status 403 if <rule> [!]<acl>`. */
  readonly forbidden: readonly { readonly rule: Token; readonly negate: boolean; readonly acl: Token }[];
}

export class HaproxyPolicies {
  private readonly names = new NameTable(lowerCase);
  private readonly acls = new Map<string, AddressAclView>();
  private readonly forbidden: PolicyFrontendView['forbidden'][number][] = [];

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
    for (const list of p.ipAllow) this.forbidden.push({ rule: ruleAcl, negate: true, acl: this.addressAcl(list) });
    for (const list of p.ipDeny) this.forbidden.push({ rule: ruleAcl, negate: false, acl: this.addressAcl(list) });
  }

  view(): PolicyFrontendView {
    return { addressAcls: [...this.acls.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v), forbidden: this.forbidden };
  }
}
