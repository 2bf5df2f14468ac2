/**
 * Which old proxy configs a run removes. Docker refuses to remove a config that a service spec
 * references, even when no task runs it; with hitless delivery the spec keeps its boot config while
 * newer revisions are only delivered, so the prune must never plan that removal (it would be
 * deferred "still in use" on every run, and the plan would never be empty).
 */
import { describe, expect, it } from 'vitest';
import { LABELS } from '../../src/domain/labels';
import type { LiveState } from '../../src/observed/live-state';
import { planConfigPrune } from '../../src/plan/writes/config-prune';
import { KEEP_REVISIONS } from '../../src/plan/revisions';

function config(n: number): LiveState['proxyConfigs'][number] {
  return {
    ID: `id${n}`,
    Version: { Index: n },
    CreatedAt: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString(),
    Spec: { Name: `sg-nginx-edge-rev${n}`, Labels: { [LABELS.cluster]: 'edge', [LABELS.revision]: String(n) }, Data: '' },
  };
}

const revisions = KEEP_REVISIONS + 4;
const live: LiveState = { services: [], tasks: [], networks: [], secrets: [], nodes: [], pageConfigs: [], proxyConfigs: Array.from({ length: revisions }, (_, i) => config(i + 1)) };
const newest = `sg-nginx-edge-rev${revisions}`;

describe('planConfigPrune', () => {
  it('removes the revisions beyond the newest KEEP_REVISIONS that nothing uses', () => {
    const removed = planConfigPrune('edge', newest, 'svc', live).map((s) => s.name);
    expect(removed).toEqual(Array.from({ length: revisions - KEEP_REVISIONS }, (_, i) => `sg-nginx-edge-rev${revisions - KEEP_REVISIONS - i}`));
  });

  it('keeps an old config the service spec still mounts, with no task running it', () => {
    const boot = 'sg-nginx-edge-rev1';
    const removed = planConfigPrune('edge', newest, 'svc', live, [boot]).map((s) => s.name);
    expect(removed).not.toContain(boot);
    expect(removed).toHaveLength(revisions - KEEP_REVISIONS - 1);
  });
});
