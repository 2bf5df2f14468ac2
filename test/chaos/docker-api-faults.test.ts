/**
 * The Docker API drill: the core (in this process) talks to the engine through a fault-injecting
 * proxy (fault-socket.ts) in front of sg-mgr3's socket, and reconciles a rolling cluster whose
 * proxy runs on sg-mgr3. While the API fails, a route is applied (straight to the engine, as
 * `swarmgate apply` on another manager would); the drill measures how the core retries (requests
 * per second it sent to the failing API), what it reported, and how long after the API came back
 * the change was live. Three faults: every request answered 500 for 20 s; every request held for
 * 30 s; the engine failing for 5 s right after the core wrote a new proxy config (before it could
 * update the service) — after which no object may be orphaned or duplicated.
 * Table and JSON: bench/results/chaos-docker-api-latest.json.
 */
import Dockerode from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUninstall } from '../../src/cli/commands/install';
import { startCore } from '../../src/core/core';
import { applyObject } from '../../src/desired/spec-store';
import { withCallDeadline } from '../../src/observed/deadline-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import type { Outcome } from '../../src/reconcile';
import { cluster, route } from '../helpers/specs';
import { docker } from '../helpers/swarm';
import { createEcho, echoFromClient, removeLabelled } from '../multinode/nodes';
import { ADDR, assertChaosSwarm, CONTROL, ownedObjectProblems, report, socketOf, type ReportRow } from './chaos-swarm';
import { startFaultSocket, type FaultSocket, type SeenRequest } from './fault-socket';

const PREFIX = `sgf${process.pid % 10000}`;
const LABEL = `io.swarmgate.test=${PREFIX}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const ECHO = `${PREFIX}-echo`;
const HTTP = 18800;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
const rows: ReportRow[] = [];
const details: Record<string, unknown> = {};
const outcomes: Outcome[] = [];
const warnings: { at: number; msg: string }[] = [];
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
let fault: FaultSocket;
let stopCore = (): void => undefined;

const routeFor = (n: number) => route(`${PREFIX}-r${n}`, { serviceCluster: CLUSTER, hosts: [`f${n}.test`], rules: [{ backends: [{ service: ECHO, port: 8080 }] }] });
const live = (n: number, timeoutMs = 180_000) => echoFromClient(ADDR[CONTROL], HTTP, `f${n}.test`, timeoutMs);

/** Requests per whole second (max) and in all, of what the proxy saw under a fault. */
function rate(seen: readonly SeenRequest[]): { total: number; maxPerSecond: number; perSecond: number[] } {
  if (seen.length === 0) return { total: 0, maxPerSecond: 0, perSecond: [] };
  const t0 = seen[0]?.at ?? 0;
  const perSecond: number[] = [];
  for (const r of seen) {
    const i = Math.floor((r.at - t0) / 1000);
    perSecond[i] = (perSecond[i] ?? 0) + 1;
  }
  const filled = Array.from(perSecond, (x) => x ?? 0);
  return { total: seen.length, maxPerSecond: Math.max(...filled), perSecond: filled };
}

const countBy = (xs: readonly string[]): Record<string, number> => Object.fromEntries([...new Set(xs)].map((x) => [x, xs.filter((y) => y === x).length]));
const failedSince = (t: number): Outcome[] => outcomes.filter((o) => o.result === 'failed' && o.finishedAt >= t);

beforeAll(async () => {
  assertChaosSwarm();
  fault = await startFaultSocket(`/tmp/${PREFIX}-docker.sock`, socketOf(CONTROL));
  docker('network', 'create', '--driver', 'overlay', '--label', LABEL, NET);
  createEcho(ECHO, 1, ['--network', NET, '--constraint', `node.hostname==${CONTROL}`], LABEL);
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, delivery: 'rolling', constraints: [`node.hostname==${CONTROL}`], publish: { mode: 'host', http: HTTP, https: HTTP + 443 } } }));
  await applyObject(port, routeFor(1));
  const log = pino({ level: 'warn' }, { write: (line: string) => warnings.push({ at: Date.now(), msg: (JSON.parse(line) as { msg: string }).msg }) });
  // As `swarmgate core` runs it: every call under the deadline of src/observed/deadline-port.ts.
  const engine = createDockerPort(new Dockerode({ socketPath: fault.path }));
  const core = startCore({ port: withCallDeadline(engine, { onTimeout: (method) => log.warn({ method }, 'the Docker engine did not answer in time; the call fails and is retried') }), localImages: true, taskPollMs: 500, log });
  // The loop runs while its outcomes are subscribed.
  const sub = core.outcomes.subscribe((o) => outcomes.push(o));
  stopCore = () => sub.unsubscribe();
  await live(1);
}, 300_000);

afterAll(async () => {
  report('docker-api', rows, details);
  fault.set('none');
  stopCore();
  await fault.close();
  await runUninstall(port, true, io).catch(() => undefined);
  await removeLabelled(LABEL);
}, 300_000);

describe('a failing Docker API', () => {
  it('answering 500 for 20 s: the core backs off, reports the failure, and converges once the API is back', async () => {
    fault.clear();
    const t0 = Date.now();
    fault.set('error');
    await applyObject(port, routeFor(2));
    await sleep(20_000);
    const seen = rate(fault.seen());
    const failed = failedSince(t0);
    const back = Date.now();
    fault.set('none');
    await live(2);
    const liveMs = Date.now() - back;
    console.log(`500s for 20 s: ${seen.total} requests (max ${seen.maxPerSecond}/s, per second ${seen.perSecond.join(',')}); ${failed.length} failed runs (${failed.map((o) => `${o.reason}: ${o.error ?? ''}`).join(' | ')}); change live ${liveMs} ms after the API was back`);
    rows.push(
      { drill: 'Docker API answers 500 (20 s)', measure: 'requests to the failing API (max per second)', value: `${seen.total} (${seen.maxPerSecond}/s)`, want: 'backs off' },
      { drill: 'Docker API answers 500 (20 s)', measure: 'failed runs reported', value: `${failed.length} (${[...new Set(failed.map((o) => o.reason))].join(',')})`, want: '>= 1' },
      { drill: 'Docker API answers 500 (20 s)', measure: 'change live after the API is back', value: `${liveMs} ms` },
    );
    details['error-500'] = { seen, failed, liveMs };
    expect(failed.length).toBeGreaterThan(0);
    expect(failed[0]?.error).toMatch(/injected fault/);
    // Backing off: far fewer than the hundreds per second an unthrottled retry loop would send.
    expect(seen.maxPerSecond).toBeLessThan(50);
  });

  it('hanging for 30 s: the core gives each call 10 s, says so, and converges once the API answers again', async () => {
    fault.clear();
    const t0 = Date.now();
    fault.set('hang');
    await applyObject(port, routeFor(3));
    await sleep(30_000);
    const held = fault.seen().length;
    const heldRate = rate(fault.seen());
    const failed = failedSince(t0);
    const warned = warnings.filter((w) => w.at >= t0).map((w) => w.msg);
    const back = Date.now();
    fault.set('none');
    await live(3);
    const liveMs = Date.now() - back;
    console.log(`hang for 30 s: ${held} requests held (max ${heldRate.maxPerSecond}/s); ${failed.length} failed runs (${failed.map((o) => `${o.reason}: ${o.error ?? ''}`).join(' | ')}); warnings ${JSON.stringify([...new Set(warned)])}; change live ${liveMs} ms after the API answered again`);
    rows.push(
      { drill: 'Docker API hangs (30 s)', measure: 'requests held / calls reported timed out / failed runs', value: `${held} / ${warned.filter((w) => /did not answer in time/.test(w)).length} / ${failed.length}`, want: 'reported' },
      { drill: 'Docker API hangs (30 s)', measure: 'first timeout reported after', value: `${(warnings.find((w) => w.at >= t0 && /did not answer in time/.test(w.msg))?.at ?? NaN) - t0} ms` },
      { drill: 'Docker API hangs (30 s)', measure: 'change live after the API answers again', value: `${liveMs} ms` },
    );
    details['hang-30s'] = { held, heldRate, failed, warnings: warned, liveMs };
    expect(held).toBeGreaterThan(0);
    // Each call past its deadline is logged at once; the run's failed outcome follows its retries.
    expect(warned.filter((w) => /did not answer in time/.test(w)).length).toBeGreaterThan(0);
  });

  it('failing right after a config write: no orphaned or duplicated objects, and the change goes live', async () => {
    const tripped = fault.tripAfter('POST', /\/configs\/create/, 'error', 5_000);
    fault.clear();
    const t0 = Date.now();
    await applyObject(port, routeFor(4));
    await tripped;
    const failed = failedSince(t0);
    // What the core tried while the engine failed: the service update among it.
    const refused = fault.seen().filter((r) => r.fault === 'error').map((r) => `${r.method} ${r.path.replace(/\/v[\d.]+/, '').replace(/\/[a-z0-9]{25}\//, '/ID/')}`);
    await live(4);
    const liveMs = Date.now() - t0;
    await sleep(3_000);
    const census = await ownedObjectProblems(port, { installedCore: false });
    console.log(`engine failed for 5 s after the config write: refused ${JSON.stringify(countBy(refused))}; ${failed.length} failed runs; change live ${liveMs} ms after apply; objects ${JSON.stringify(census)}`);
    rows.push(
      { drill: 'engine fails after a config write (5 s)', measure: 'change live after apply', value: `${liveMs} ms` },
      { drill: 'engine fails after a config write (5 s)', measure: 'orphaned or duplicated objects', value: census.problems.length === 0 ? 'none' : census.problems.join('; '), want: 'none' },
    );
    details['fail-after-write'] = { refused: countBy(refused), failed, liveMs, census };
    expect(refused.some((r) => /^POST \/services\/ID\/update/.test(r))).toBe(true);
    expect(census.problems).toEqual([]);
  });
});
