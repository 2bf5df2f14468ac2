/**
 * The Events section of `describe`, as kubectl shows one: what happened to the object lately, newest
 * last. swarmgate keeps no event log; the events are read back from what is stored anyway: when the
 * current generation was stored, when each condition last changed, the cluster's generated config
 * revisions (and whether they carry this route's generation), and a rollout's transitions.
 */
import type { ConfigInfo } from '../observed/docker-port';
import type { Revision } from '../plan/revisions';
import type { Transition } from '../plan/rollout';
import type { ObjectStatus } from '../status/object-status';
import { age } from './table';

export interface DescribedEvent {
  /** Epoch ms. */
  readonly at: number;
  readonly text: string;
}

export interface EventSources {
  readonly generation: number;
  readonly storedAt: string;
  readonly status?: ObjectStatus;
  /** The object's cluster's config revisions (oldest first), with this route's generation when it is a route. */
  readonly revisions?: readonly Revision[];
  readonly route?: { readonly name: string; readonly generation: number };
  readonly rollout?: readonly Transition[];
}

/** Events kept in the section: the newest ones. */
export const MAX_EVENTS = 12;

function when(c: ConfigInfo): number {
  return Date.parse(c.UpdatedAt ?? c.CreatedAt ?? '');
}

export function describeEvents(s: EventSources): DescribedEvent[] {
  const events: DescribedEvent[] = [];
  events.push({ at: Date.parse(s.storedAt), text: `generation ${s.generation} stored` });
  for (const c of s.status?.conditions ?? []) {
    if (c.lastTransitionTime !== '') events.push({ at: Date.parse(c.lastTransitionTime), text: `${c.type} became ${c.status} (${c.reason})` });
  }
  for (const r of s.revisions ?? []) {
    const carries = s.route === undefined || r.routes === undefined ? '' : r.routes.has(`${s.route.name}@${s.route.generation}`) ? `, with generation ${s.route.generation}` : ', without this generation';
    events.push({ at: when(r.config), text: `proxy config revision ${r.revision} (${r.config.Spec.Name})${carries}` });
  }
  for (const t of s.rollout ?? []) {
    events.push({ at: t.at, text: `rollout ${t.from !== undefined ? `${t.from} → ` : ''}${t.to} at step ${t.step}, weight ${t.weight}% (${t.reason}${t.message !== undefined ? `: ${t.message}` : ''})` });
  }
  return events
    .filter((e) => Number.isFinite(e.at))
    .sort((a, b) => a.at - b.at)
    .slice(-MAX_EVENTS);
}

/** "Events:" lines: the age of each event (as get's AGE column) and what happened. */
export function eventLines(events: readonly DescribedEvent[], now: Date): string[] {
  if (events.length === 0) return ['Events:', '  (none)'];
  return ['Events:', ...events.map((e) => `  ${age(new Date(e.at).toISOString(), now).padStart(5)} ago  ${e.text}`)];
}
