/**
 * ACLs and weighted choices of the HAProxy view model: every condition the frontends test, named
 * collision-free (one NameTable), and the per-request numbers drawn so that traffic splits follow
 * the declared weights (thresholds out of PICK_RANGE).
 */
import { fnv1a32 } from '../../plan/hash';
import { identityKey, lowerCase, NameTable } from '../../plan/names';
import type { Affinity, ModelRule, PathMatch, WeightedTarget } from '../../plan/model';
import { splitShares } from '../split';
import { token, type Token } from '../token';
import type { HttpFrontendView, PickAclView, PickVariables, UseBackendView } from './view-types';

/** Cumulative thresholds (out of PICK_RANGE) for all targets but the last, which takes the rest. */
export function thresholds(targets: readonly WeightedTarget[]): number[] {
  let acc = 0;
  return splitShares(targets.map((t) => t.weight))
    .slice(0, -1)
    .map((share) => (acc += share));
}

export function sortedValues<V>(m: Map<string, V>): V[] {
  return [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
}

/** The number a weighted choice compares with the thresholds, by affinity. */
export interface PickSource {
  readonly variable: string;
  readonly tag: string;
  readonly cookie?: string;
}

export function pickSource(a: Affinity, scope: 'txn' | 'sess'): PickSource {
  if (a.kind === 'clientIP') return { variable: `${scope}.sg_pick_ip`, tag: 'pickip' };
  if (a.kind === 'cookie' && a.issuedBy === 'Application') return { variable: `${scope}.sg_pick_ck_${a.name}`, tag: `pickck_${a.name}`, cookie: a.name };
  return { variable: `${scope}.sg_pick`, tag: 'pick' };
}

/**
 * Collects ACLs and pick variables, deduplicated by name. Names made from user values go through
 * one NameTable: HAProxy ORs every `acl` line of one name, so two values sharing a name would make
 * one route's condition test another route's value.
 */
export class AclRegistry {
  private readonly names = new NameTable(lowerCase);
  readonly paths = new Map<string, HttpFrontendView['pathAcls'][number]>();
  readonly headers = new Map<string, HttpFrontendView['headerAcls'][number]>();
  readonly methods = new Map<string, HttpFrontendView['methodAcls'][number]>();
  readonly picks = new Map<string, PickAclView>();
  readonly cookies = new Map<string, HttpFrontendView['cookieAcls'][number]>();
  readonly cookieMatches = new Map<string, HttpFrontendView['cookieMatchAcls'][number]>();
  readonly sources = new Map<string, PickSource>();

  /** Undefined for the root prefix, which every path matches. */
  path(m: PathMatch): Token | undefined {
    if (m.kind === 'prefix' && m.path === '/') return undefined;
    const name = token(this.names.name(identityKey('path', m.kind, m.path), `path_${m.kind === 'exact' ? 'e' : 'p'}_${fnv1a32(m.path)}`));
    // Gateway API prefix semantics: "/api" matches "/api" and "/api/…", never "/apix".
    this.paths.set(name, { name, path: m.path, hasPrefix: m.kind === 'prefix', prefix: `${m.path}/` });
    return name;
  }

  conditions(rule: ModelRule): Token[] {
    const out = rule.headers.map((h) => {
      const name = token(this.names.name(identityKey('header', h.name.toLowerCase(), h.value), `hdr_${fnv1a32(`${h.name.toLowerCase()}\u0000${h.value}`)}`));
      // NGINX compares $http_<name> (empty when absent) with the value: "" matches an empty or absent header.
      // (HAProxy drops an empty quoted argument, so "" cannot be written as a pattern.)
      this.headers.set(name, { name, header: token(h.name), value: h.value, empty: h.value === '' });
      return name;
    });
    for (const c of rule.cookies) {
      const name = token(this.names.name(identityKey('cookie', c.name, c.value), `cook_${fnv1a32(`${c.name}\u0000${c.value}`)}`));
      this.cookieMatches.set(name, { name, cookie: token(c.name), value: c.value });
      out.push(name);
    }
    if (rule.methods.length > 0) {
      const methods = [...rule.methods].sort();
      const name = token(this.names.name(identityKey('methods', methods), `meth_${fnv1a32(methods.join(','))}`));
      this.methods.set(name, { name, methods: methods.map(token) });
      out.push(name);
    }
    return out;
  }

  pick(source: PickSource, below: number): Token {
    this.sources.set(source.variable, source);
    const name = token(`${source.tag}_${below}`);
    this.picks.set(name, { name, variable: token(source.variable), below });
    return name;
  }

  /** The opaque tag of a backend in the proxy-issued affinity cookie ("<tag>.<server>"), unique in the config. */
  cookieTag(backend: Token): string {
    return this.names.name(identityKey('cookie-tag', backend), fnv1a32(backend));
  }

  cookie(cookieName: string, backend: Token): Token {
    const tag = this.cookieTag(backend);
    const name = token(`ck_${tag}`);
    this.cookies.set(name, { name, cookieName: token(cookieName), prefix: token(`${tag}.`) });
    return name;
  }

  pickVariables(): PickVariables {
    const sources = [...this.sources.values()];
    return {
      randomPick: sources.some((s) => s.tag === 'pick'),
      clientIpPick: sources.some((s) => s.tag === 'pickip'),
      cookiePicks: sources
        .filter((s) => s.cookie !== undefined)
        .sort((a, b) => (a.variable < b.variable ? -1 : 1))
        .map((s) => ({ variable: token(s.variable), cookieName: token(s.cookie ?? '') })),
    };
  }
}

/** use_backend lines for a weighted choice among `backends` (same order as `targets`). */
export function weightedChoice(targets: readonly WeightedTarget[], backends: readonly Token[], source: PickSource, acls: AclRegistry, prefix: readonly Token[]): UseBackendView[] {
  const limits = thresholds(targets);
  return backends.map((backend, i) => {
    const below = limits[i];
    return { backend, conditions: below === undefined ? [...prefix] : [...prefix, acls.pick(source, below)] };
  });
}
