/**
 * Group a host's rules by path match and decide, for each group, the order of its conditional
 * rules and its fallback. Precedence follows the Gateway API: exact before prefix, longer prefix
 * before shorter, more header/method conditions before fewer, older route before newer.
 */
import type { HttpPath } from '../domain/brands';
import { normalisePrefix as normaliseText } from '../domain/route-checks';
import type { ModelRule, PathGroup, PathMatch } from './model';

const matchKey = (m: PathMatch): string => `${m.kind} ${m.path}`;
const conditionCount = (r: ModelRule): number => r.headers.length + r.cookies.length + (r.methods.length > 0 ? 1 : 0);

/** Whether prefix `prefix` covers path `path` by whole segments ("/api" covers "/api/x", not "/apix"). */
export function prefixCovers(prefix: HttpPath, path: string): boolean {
  return prefix === '/' || path === prefix || path.startsWith(`${prefix}/`);
}

export function normalisePrefix(p: HttpPath): HttpPath {
  return normaliseText(p) as HttpPath;
}

function compareGroups(a: PathMatch, b: PathMatch): number {
  if (a.kind !== b.kind) return a.kind === 'exact' ? -1 : 1;
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  return a.path < b.path ? -1 : a.path > b.path ? 1 : 0;
}

/** `rules` must be in precedence order of their routes (oldest first) and, within a route, rule order. */
export function groupPaths(rules: readonly ModelRule[]): PathGroup[] {
  const byMatch = new Map<string, { match: PathMatch; conditional: ModelRule[]; own?: ModelRule }>();
  for (const rule of rules) {
    const key = matchKey(rule.match);
    const group = byMatch.get(key) ?? { match: rule.match, conditional: [] };
    if (conditionCount(rule) > 0) group.conditional.push(rule);
    else group.own ??= rule;
    byMatch.set(key, group);
  }
  // Stable sort keeps route age and rule order among equally specific rules.
  const bySpecificity = (rs: readonly ModelRule[]): ModelRule[] => [...rs].sort((a, b) => conditionCount(b) - conditionCount(a));
  const prefixes = [...byMatch.values()].filter((g) => g.match.kind === 'prefix').sort((a, b) => b.match.path.length - a.match.path.length);
  const groups: PathGroup[] = [];
  for (const g of byMatch.values()) {
    // A request on this path may also match rules of shorter covering prefixes. In precedence order:
    // this path's conditional rules, its own unconditional rule (which always matches, ending the
    // chain), then each covering prefix's conditional rules and unconditional rule, longest first.
    const conditional = bySpecificity(g.conditional);
    let fallback = g.own;
    for (const p of prefixes) {
      if (fallback !== undefined) break;
      if (p === g || !prefixCovers(p.match.path, g.match.path)) continue;
      conditional.push(...bySpecificity(p.conditional));
      fallback = p.own;
    }
    groups.push(fallback === undefined ? { match: g.match, conditional } : { match: g.match, conditional, fallback });
  }
  return groups.sort((a, b) => compareGroups(a.match, b.match));
}
