/**
 * When a proxy service's durable ACME copies are refreshed (ADR 0033), and which copies are pruned.
 * A running service keeps the copies it mounts (a renewal restarts no task, ADR 0024) until one of
 * them has less than its margin left (min(a sixth of its lifetime, 7 days)), or a route has had no
 * copy mounted for a third of its lifetime less that margin; then one service update takes the
 * newest of everything. Copies that
 * nothing mounts and a later copy of the route supersedes are removed.
 *
 * The policy is checked on single plans, then simulated over two years on the in-memory Docker port:
 * an issuer making a copy per certificate (renewed at 2/3 of its lifetime), the core's planner and
 * executor run once a day (every 5 s for pebble's certificates). The simulation gives the figures of ADR 0033: rolling restarts per year
 * and the least validity a mounted copy ever had.
 */
import { describe, expect, it } from 'vitest';
import { executePlan } from '../../src/apply/execute-plan';
import { LABELS } from '../../src/domain/labels';
import type { SecretInfo, ServiceInfo, ServiceSpec } from '../../src/observed/docker-port';
import { readLiveState, type LiveState } from '../../src/observed/live-state';
import { ACME_COPY_ROLE, acmeCopyRefreshDue, copyRefreshMargin, acmeCopySecretName, acmeCopyTarget, unusedAcmeCopies } from '../../src/plan/acme-copies';
import { acmeFileNames } from '../../src/plan/acme-routes';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { ACME_COPIES_GROUP, planRun } from '../../src/plan/writes/plan-run';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, desired, route, snapshot } from '../helpers/specs';

const DAY = 86_400_000;
const T0 = Date.parse('2027-01-01T00:00:00Z');
const agent = { coreAddress: 'swarmgate-core:50051', controlNetworkId: 'id-ctl' };
const RENDERED = 'events {}\nhttp {}\n';

function modelServing(routes: readonly string[]): ProxyModel {
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [], networks: [{ name: 'app' }] });
  const m = buildModel(desired([route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'app', port: 80 }] }] })], [cluster('default', { proxy: { delivery: 'hitless' } })]), snap).clusters.find((c) => c.cluster === 'default');
  if (m === undefined) throw new Error('no model');
  // As build-model marks a cluster serving ACME routes (the routes themselves are irrelevant here).
  return { ...m, acme: { files: routes.flatMap((r) => [acmeFileNames(r).cert, acmeFileNames(r).key]) } };
}

const fp = (route: string, k: number): string => `${route}-${k}`.padEnd(64, '0');
function copyLabels(route: string, k: number, from: number, lifetimeMs: number): Record<string, string> {
  return { [LABELS.owner]: 'swarmgate', [LABELS.role]: ACME_COPY_ROLE, [LABELS.name]: route, [LABELS.fingerprint]: fp(route, k), [LABELS.notBefore]: new Date(from).toISOString(), [LABELS.notAfter]: new Date(from + lifetimeMs).toISOString() };
}
const copy = (route: string, k: number, from: number, lifetimeMs: number): SecretInfo => ({ ID: `id-${route}-${k}`, Spec: { Name: acmeCopySecretName(route, fp(route, k)), Labels: copyLabels(route, k, from, lifetimeMs) } });
const mountOf = (s: SecretInfo, route = s.Spec.Labels?.[LABELS.name] ?? '') => ({ SecretID: s.ID, SecretName: s.Spec.Name, File: { Name: acmeCopyTarget(route), UID: '0', GID: '0', Mode: 0o400 } });

describe('when a service refreshes its ACME copies', () => {
  const L = 90 * DAY;
  const c0 = copy('shop', 0, T0, L);
  const c1 = copy('shop', 1, T0 + 60 * DAY, L);
  const fps = new Map([['shop', fp('shop', 1)]]);

  it('keeps the mounted copy after a renewal while it has more than 7 days left (a sixth of 90 days is more)', () => {
    expect(copyRefreshMargin(L)).toBe(7 * DAY);
    expect(copyRefreshMargin(6 * DAY)).toBe(DAY);
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(c0)], [c0, c1], T0 + 61 * DAY)).toBeUndefined();
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(c0)], [c0, c1], T0 + 82.9 * DAY)).toBeUndefined();
  });

  it('refreshes once the mounted copy has less than its margin left, to a newer copy only', () => {
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(c0)], [c0, c1], T0 + 83.1 * DAY)).toMatch(/mounted ACME copy of route shop expires 2027-04-01.*less than min/);
    // No newer copy (the renewal failed so far): nothing to refresh to.
    expect(acmeCopyRefreshDue(['shop'], new Map([['shop', fp('shop', 0)]]), [mountOf(c0)], [c0], T0 + 80 * DAY)).toBeUndefined();
    // The newest is mounted already.
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(c1)], [c0, c1], T0 + 140 * DAY)).toBeUndefined();
  });

  it('a route with no copy mounted is due once its certificate is a third of its lifetime less the margin old (23 of 90 days)', () => {
    expect(acmeCopyRefreshDue(['shop'], new Map([['shop', fp('shop', 0)]]), [], [c0], T0 + 22.9 * DAY)).toBeUndefined();
    expect(acmeCopyRefreshDue(['shop'], new Map([['shop', fp('shop', 0)]]), [], [c0], T0 + 23 * DAY)).toMatch(/route shop has no ACME copy mounted/);
  });

  it('never refreshes to a copy valid for less than a day (pebble\'s 80-second certificates), even over an expired one', () => {
    const s0 = copy('shop', 0, T0, 80_000);
    const s1 = copy('shop', 1, T0 + 40_000, 80_000);
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(s0)], [s0, s1], T0 + 100_000)).toBeUndefined();
    expect(acmeCopyRefreshDue(['shop'], fps, [], [s1], T0 + 70_000)).toBeUndefined();
  });

  it('copies made before ADR 0033 (no notBefore label) are judged by the newest copy\'s lifetime, and never refreshed to', () => {
    const old = { ...c0, Spec: { ...c0.Spec, Labels: { ...c0.Spec.Labels, [LABELS.notBefore]: '' } } };
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(old)], [old, c1], T0 + 82.9 * DAY)).toBeUndefined();
    expect(acmeCopyRefreshDue(['shop'], fps, [mountOf(old)], [old, c1], T0 + 83.1 * DAY)).toMatch(/less than min/);
    expect(acmeCopyRefreshDue(['shop'], new Map([['shop', fp('shop', 0)]]), [], [old], T0 + 80 * DAY)).toBeUndefined();
  });
});

describe('which ACME copies are pruned', () => {
  const L = 90 * DAY;
  const [a0, a1, a2] = [copy('a', 0, T0, L), copy('a', 1, T0 + 60 * DAY, L), copy('a', 2, T0 + 120 * DAY, L)];
  const service = (mounts: ReturnType<typeof mountOf>[]): ServiceInfo => ({ ID: 'svc', Version: { Index: 1 }, Spec: { Name: 'sg-proxy-x', TaskTemplate: { ContainerSpec: { Image: 'p', Secrets: mounts } } } as unknown as ServiceSpec });

  it('removes a superseded copy nothing mounts; keeps the mounted one, the current one, and one later than the current', () => {
    const ids = (xs: SecretInfo[]) => xs.map((x) => x.ID).sort();
    expect(ids(unusedAcmeCopies([a0, a1, a2], [service([mountOf(a1)])], [], new Map([['a', fp('a', 2)]])))).toEqual(['id-a-0']);
    // The run has not seen the issuance of a2 yet (its fingerprint is a1's): a2 stays.
    expect(ids(unusedAcmeCopies([a0, a1, a2], [], [], new Map([['a', fp('a', 1)]])))).toEqual(['id-a-0']);
    // A deleted route (no current certificate): its latest copy stays, older unmounted ones go.
    expect(ids(unusedAcmeCopies([a0, a1, a2], [], [], new Map()))).toEqual(['id-a-0', 'id-a-1']);
  });
});

/** A world: the in-memory Docker port, one cluster serving `routes`, an issuer renewing each at 2/3 of `lifetime`. */
async function simulate(o: { routes: number; lifetimeMs: number; stepMs: number; durationMs: number; firstIssuedWithin: number }) {
  const docker = new FakeDocker();
  docker.addNetwork('app', { driver: 'overlay' });
  const controlNetworkId = docker.addNetwork('swarmgate-control', { driver: 'overlay' });
  const routes = Array.from({ length: o.routes }, (_, i) => `r${i}`);
  // Route i is first issued at an even spread over `firstIssuedWithin`; renewed every 2/3 of the lifetime.
  const firstAt = (i: number) => T0 + Math.floor((i * o.firstIssuedWithin) / o.routes);
  const renewEvery = Math.round((o.lifetimeMs * 2) / 3);
  const model = modelServing(routes);
  let refreshes = 0;
  let leastLeftMs = Infinity;
  let leastIntervalMs = Infinity;
  let lastRefresh: number | undefined;
  let copiesLeft = 0;
  for (let now = T0; now <= T0 + o.durationMs; now += o.stepMs) {
    const fingerprints = new Map<string, string>();
    const made = new Set((await docker.listSecrets()).map((s) => s.Spec.Labels?.[LABELS.fingerprint]));
    for (const [i, r] of routes.entries()) {
      if (now < firstAt(i)) continue;
      const k = Math.floor((now - firstAt(i)) / renewEvery);
      fingerprints.set(r, fp(r, k));
      const labels = copyLabels(r, k, firstAt(i) + k * renewEvery, o.lifetimeMs);
      if (!made.has(fp(r, k))) await docker.createSecret({ Name: acmeCopySecretName(r, fp(r, k)), Labels: labels, Data: '' });
    }
    const live: LiveState = await readLiveState(docker);
    const { plan } = planRun([{ model: model, proxy: { rendered: RENDERED, agent: { ...agent, controlNetworkId }, acmeFingerprints: fingerprints, now } }], live, fingerprints);
    const updates = plan.groups.flatMap((g) => g.steps).filter((s) => s.op === 'updateService');
    if (updates.length > 0) {
      expect(updates.map((u) => u.reason)).toEqual([expect.stringMatching(/^refresh the ACME durable copies: /)]);
      refreshes++;
      if (lastRefresh !== undefined) leastIntervalMs = Math.min(leastIntervalMs, now - lastRefresh);
      lastRefresh = now;
    }
    const outcomes = await executePlan(plan, { docker });
    expect(outcomes.flatMap((g) => g.outcomes).filter((x) => x.result === 'failed')).toEqual([]);
    // What a task booting now without the core would serve: each mounted copy's time left.
    const svc = (await docker.listServices()).find((s) => s.Spec.Name.startsWith('sg-proxy'));
    const secrets = await docker.listSecrets();
    for (const m of svc?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []) {
      const until = secrets.find((s) => s.ID === m.SecretID)?.Spec.Labels?.[LABELS.notAfter];
      if (until !== undefined) leastLeftMs = Math.min(leastLeftMs, Date.parse(until) - now);
    }
    copiesLeft = secrets.filter((s) => s.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE).length;
    expect(plan.groups.find((g) => g.key === ACME_COPIES_GROUP)?.steps.every((s) => s.op === 'removeSecret') ?? true).toBe(true);
  }
  return { refreshes, leastLeftMs, leastIntervalMs, copiesLeft };
}

describe('two years of renewals on the in-memory Docker port', () => {
  it('90-day certificates, one route: one rolling restart per renewal, 23 days after it; a mounted copy always has ≥ 7 days left', async () => {
    const r = await simulate({ routes: 1, lifetimeMs: 90 * DAY, stepMs: DAY, durationMs: 730 * DAY, firstIssuedWithin: 0 });
    console.info(`90-day, 1 route: ${r.refreshes} refreshes in 2 years, least interval ${(r.leastIntervalMs / DAY).toFixed(1)} d, least time left on a mounted copy ${(r.leastLeftMs / DAY).toFixed(1)} d, copies kept at the end ${r.copiesLeft}`);
    // Renewals at days 60, 120, … 720 (12); each refreshed 23 days later (7 days before the mounted copy expires), except the last (past the end).
    expect(r.refreshes).toBe(11);
    expect(r.leastLeftMs).toBeGreaterThanOrEqual(6 * DAY);
    expect(r.leastIntervalMs).toBeGreaterThanOrEqual(59 * DAY);
    // The mounted copy and the newest, nothing older.
    expect(r.copiesLeft).toBeLessThanOrEqual(2);
  }, 60_000);

  it('90-day certificates, 30 routes issued over 60 days: at most one rolling restart per 23 days, whatever the number of routes', async () => {
    const r = await simulate({ routes: 30, lifetimeMs: 90 * DAY, stepMs: DAY, durationMs: 730 * DAY, firstIssuedWithin: 60 * DAY });
    console.info(`90-day, 30 routes: ${r.refreshes} refreshes in 2 years, least interval ${(r.leastIntervalMs / DAY).toFixed(1)} d, least time left on a mounted copy ${(r.leastLeftMs / DAY).toFixed(1)} d, copies kept at the end ${r.copiesLeft}`);
    expect(r.leastIntervalMs).toBeGreaterThanOrEqual(22 * DAY);
    expect(r.refreshes).toBeLessThanOrEqual(Math.ceil(730 / 23));
    // A route issued after the last refresh has no copy mounted for up to 23 days (the placeholder); mounted ones keep ≥ 7 days.
    expect(r.leastLeftMs).toBeGreaterThanOrEqual(6 * DAY);
    expect(r.copiesLeft).toBeLessThanOrEqual(60);
  }, 120_000);

  it('pebble\'s 80-second certificates: never a refresh', async () => {
    const r = await simulate({ routes: 2, lifetimeMs: 80_000, stepMs: 5_000, durationMs: 1_800_000, firstIssuedWithin: 40_000 });
    expect(r.refreshes).toBe(0);
    expect(r.copiesLeft).toBeLessThanOrEqual(4);
  }, 120_000);
});
