/**
 * Model features haproxy.cfg cannot express. The renderer still produces a valid configuration
 * (with the closest behaviour, noted below), but these are reported so the core can set
 * `Accepted=False, reason UnsupportedValue` on the route instead of silently serving something else.
 *
 * - `retries.on: http_429`: HAProxy 2.6's retry-on takes the statuses 401, 403, 404, 408, 425
 *   and 500–504 only. Rendered: the other conditions.
 * - `timeouts.send` different from `timeouts.read`: HAProxy has one server-side inactivity timeout
 *   (`timeout server`) for both directions. Rendered: the larger of the two.
 *
 * Everything else in the model has an HAProxy equivalent (see view-model.ts).
 */
import { durationMs } from '../../domain/brands';
import { formatPath } from '../../domain/issue';
import type { ModelRule, ProxyModel } from '../../plan/model';

export interface HaproxyUnsupported {
  /** Route name. */
  readonly route: string;
  /** Field path in the route, e.g. `spec.rules[1].timeouts.send`. */
  readonly field: string;
  readonly message: string;
}

function ruleIndex(rule: ModelRule): number {
  const m = /-r(\d+)$/.exec(rule.id);
  if (m === null) throw new Error(`rule id ${rule.id} does not end in -r<index>`);
  return Number(m[1]);
}

function distinctRules(model: ProxyModel): ModelRule[] {
  const rules = new Map<string, ModelRule>();
  const hosts = model.defaultServer === undefined ? model.virtualHosts : [...model.virtualHosts, model.defaultServer];
  for (const vh of hosts)
    for (const g of vh.paths) for (const r of g.fallback === undefined ? g.conditional : [...g.conditional, g.fallback]) rules.set(r.id, r);
  return [...rules.values()];
}

export function haproxyUnsupported(model: ProxyModel): HaproxyUnsupported[] {
  const out: HaproxyUnsupported[] = [];
  const defaults = model.spec.defaults.timeouts;
  for (const rule of distinctRules(model)) {
    const action = rule.action;
    if (action.kind !== 'proxy') continue;
    const at = (...path: (string | number)[]): string => formatPath(['spec', 'rules', ruleIndex(rule), ...path]);
    if (action.retries.on.includes('http_429'))
      out.push({
        route: rule.route,
        field: at('retries', 'on'),
        message: 'http_429 is not supported by the HAProxy proxy (retry-on takes 401, 403, 404, 408, 425 and 500-504 only)',
      });
    const { read, send } = action.timeouts;
    if (durationMs(read) !== durationMs(send)) {
      const inherited = read === defaults.read && send === defaults.send ? ' (both from the ServiceCluster defaults)' : '';
      out.push({
        route: rule.route,
        field: at('timeouts', 'send'),
        message: `send timeout ${send} differs from read timeout ${read}${inherited}; the HAProxy proxy has one server-side inactivity timeout, set both to the same value`,
      });
    }
  }
  return out.sort((a, b) => (a.route !== b.route ? (a.route < b.route ? -1 : 1) : a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}
