/**
 * Progressive delivery on the real local Swarm, production layout (`swarmgate install`, hitless
 * delivery, analysis from the proxy agents' traffic counters):
 * - a rollout with short pauses ends Succeeded with all traffic on the canary, no failed request;
 * - a canary that answers 500 to half its requests is failed by analysis and traffic returns to
 *   stable, with no connection error while the proxies switch;
 * - abort mid-rollout sends everything back to stable;
 * - the core restarted mid-rollout resumes where the rollout stood (no restart from step 0).
 * Needs the images (make images).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { LABELS } from '../../src/domain/labels';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { decodeRolloutState, type RolloutCommand, type RolloutState } from '../../src/plan/rollout';
import { runCanaryCommand } from '../../src/cli/commands/canary';
import { runWait } from '../../src/cli/commands/wait';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { cluster, route } from '../helpers/specs';
import { backendRemoval, createBackend, docker, isProgrammed, removeWhenReleased, until } from '../helpers/swarm';

const PREFIX = `sgc${process.pid % 10000}`;
const NET = `${PREFIX}-net`;
const CLUSTER = `${PREFIX}-edge`;
const STABLE = `${PREFIX}-stable`;
const GOOD = `${PREFIX}-good`;
const BAD = `${PREFIX}-bad`;
const HOST = `${PREFIX}.localhost`;
const ROUTE = PREFIX;
const io = { out: () => undefined, err: () => undefined };
const port = createDockerPort();
let httpPort = 0;

interface Tally {
  byBody: Map<string, number>;
  status5xx: number;
  /** 5xx answers by status: the bad canary answers 500 itself; 502/503/504 would be the proxy's. */
  byStatus: Map<number, number>;
  socketErrors: number;
  total: number;
}

/** Sends requests 4 at a time until stopped; counts answers by body, 5xx and connection errors. */
function traffic(): { tally: Tally; stop: () => Promise<Tally> } {
  const tally: Tally = { byBody: new Map(), status5xx: 0, byStatus: new Map(), socketErrors: 0, total: 0 };
  let running = true;
  const worker = async (): Promise<void> => {
    while (running) {
      tally.total++;
      try {
        const r = await send({ port: httpPort, host: HOST, path: '/' });
        if (r.status >= 500) {
          tally.status5xx++;
          tally.byStatus.set(r.status, (tally.byStatus.get(r.status) ?? 0) + 1);
        }
        else tally.byBody.set(r.body.trim(), (tally.byBody.get(r.body.trim()) ?? 0) + 1);
      } catch {
        tally.socketErrors++;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const workers = Array.from({ length: 4 }, worker);
  return {
    tally,
    stop: async () => {
      running = false;
      await Promise.all(workers);
      return tally;
    },
  };
}

async function state(): Promise<RolloutState | undefined> {
  const [c] = await port.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${ROUTE}`]);
  const label = c?.Spec.Labels?.[LABELS.rollout];
  if (label === undefined) return undefined;
  const d = decodeRolloutState(label);
  return d._tag === 'Right' ? d.right : undefined;
}

async function phase(wanted: string, timeoutMs = 90_000): Promise<RolloutState> {
  return until(`rollout ${wanted}`, async () => {
    const s = await state();
    return s?.phase === wanted ? s : undefined;
  }, timeoutMs);
}

/** `swarmgate canary <cmd> ROUTE`: the CLI writes the command and waits for the core's verdict. */
async function command(cmd: RolloutCommand): Promise<void> {
  const out: string[] = [];
  const code = await runCanaryCommand(port, ROUTE, cmd, { timeout: '30s' }, { out: (t) => out.push(t), err: (t) => out.push(t) });
  expect(code, out.join('\n')).toBe(0);
}

function shopRoute(canaryService: string, canary: Record<string, unknown>): ReturnType<typeof route> {
  return route(ROUTE, {
    serviceCluster: CLUSTER,
    hosts: [HOST],
    rules: [{ backends: [{ service: STABLE, port: 80 }] }],
    canary: { stable: { service: STABLE, port: 80 }, canary: { service: canaryService, port: 80 }, ...canary },
  });
}

async function onlyStable(): Promise<void> {
  await until('all traffic on stable', async () => {
    for (let i = 0; i < 40; i++) if ((await send({ port: httpPort, host: HOST, path: '/' })).body.trim() !== STABLE) return undefined;
    return true;
  });
}

beforeAll(async () => {
  const [h, hs] = await freePorts(2);
  if (h === undefined || hs === undefined) throw new Error('no free ports');
  httpPort = h;
  docker('network', 'create', '--driver', 'overlay', '--label', `io.swarmgate.test=${PREFIX}`, NET);
  createBackend(STABLE, NET, 1, `location / { return 200 "${STABLE}\\n"; }`);
  createBackend(GOOD, NET, 1, `location / { return 200 "${GOOD}\\n"; }`);
  // Half the requests fail: request ids are random hex, so the last digit is 0-7 half the time.
  createBackend(BAD, NET, 1, `location / { if ($request_id ~ "[0-7]$") { return 500; } return 200 "${BAD}\\n"; }`);
  // No proxy.endpoints: the default, Dynamic with hitless delivery (ADR 0039). A weight step changes
  // only the endpoint set (ADR 0049: the split is a line of it), no reload; the promotion that leaves
  // one backend is a new nginx.conf and a reload that drops the stable upstream, which the old workers
  // still serve until they exit (ADR 0041: the agent keeps it in the balancer until then).
  await applyObject(port, cluster(CLUSTER, { proxy: { replicas: 1, publish: { mode: 'host', http: h, https: hs } } }));
  await applyObject(port, route(ROUTE, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: STABLE, port: 80 }] }] }));
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
  await until('route programmed', () => isProgrammed(port, 'Route', ROUTE), 120_000);
  await onlyStable();
}, 240_000);

afterAll(async () => {
  await deleteObject(port, 'Route', ROUTE).catch(() => undefined);
  await deleteObject(port, 'ServiceCluster', CLUSTER).catch(() => undefined);
  await runUninstall(port, false, io).catch(() => undefined);
  await removeWhenReleased(backendRemoval([STABLE, GOOD, BAD], NET));
}, 180_000);

describe('progressive delivery on a real Swarm', () => {
  it('rolls a good canary through its steps to Succeeded with no failed request', async () => {
    const load = traffic();
    const started = Date.now();
    await applyObject(port, shopRoute(GOOD, {
      steps: [{ setWeight: 30 }, { pause: { duration: '3s' } }, { setWeight: 70 }, { pause: { duration: '3s' } }],
      analysis: { interval: '5s', maxErrorRate: '5%', minRequests: 20, failureLimit: 1 },
    }));
    // As a CI pipeline would: `swarmgate wait route/NAME --for=canary=Succeeded`.
    expect(await runWait(port, `route/${ROUTE}`, 'canary=Succeeded', '90s', io)).toBe(0);
    const done = await phase('Succeeded');
    // The promotion is a reload, the one that drops the stable upstream: the load runs until
    // the proxy serves it (stopping at Succeeded raced that reload, so the test saw it only sometimes).
    await until('all traffic on the canary', async () => {
      for (let i = 0; i < 40; i++) if ((await send({ port: httpPort, host: HOST, path: '/' })).body.trim() !== GOOD) return undefined;
      return true;
    });
    await new Promise((r) => setTimeout(r, 1_500)); // the old workers' last answers
    const t = await load.stop();
    console.log(`rollout Succeeded after ${((Date.now() - started) / 1000).toFixed(1)} s; ${t.total} requests: ${JSON.stringify(Object.fromEntries(t.byBody))}, 5xx ${t.status5xx}, socket errors ${t.socketErrors}`);
    console.log(`measurements: ${JSON.stringify(done.measurements)}`);
    expect(t.status5xx + t.socketErrors).toBe(0);
    expect(t.byBody.get(GOOD) ?? 0).toBeGreaterThan(0);
    // Analysis judged real traffic from the agents' counters at a paused step.
    expect(done.measurements.some((m) => (m.requests ?? 0) >= 20 && m.passed > 0)).toBe(true);
  }, 150_000);

  it('fails a canary answering 500 to half its requests and returns all traffic to stable', async () => {
    await applyObject(port, route(ROUTE, { serviceCluster: CLUSTER, hosts: [HOST], rules: [{ backends: [{ service: STABLE, port: 80 }] }] }));
    await onlyStable();
    const load = traffic();
    await applyObject(port, shopRoute(BAD, {
      steps: [{ setWeight: 50 }, { pause: { duration: '60s' } }],
      analysis: { interval: '5s', maxErrorRate: '5%', minRequests: 20, failureLimit: 0 },
    }));
    const failed = await phase('Failed', 60_000);
    const before = { ...load.tally, byBody: new Map(load.tally.byBody) };
    // From here on: the rollback. Nothing may fail while the proxies switch back.
    await onlyStable();
    const t = await load.stop();
    console.log(`Failed: ${failed.message ?? ''}; during rollback: ${t.total - before.total} requests, 5xx ${t.status5xx - before.status5xx}, socket errors ${t.socketErrors}; whole test: ${t.total} requests, 5xx by status ${JSON.stringify(Object.fromEntries(t.byStatus))}`);
    expect(failed.weight).toBe(0);
    expect(failed.reason).toBe('AnalysisFailed');
    expect(failed.message).toMatch(/error rate/);
    expect(t.socketErrors).toBe(0);
    // Only the bad canary's own 500s: the rollback drops the canary's upstream, which the old NGINX
    // workers still use until they exit; a 503 here is the proxy's (ADR 0041).
    expect([...t.byStatus.keys()].filter((s) => s !== 500)).toEqual([]);
  }, 150_000);

  it('aborts mid-rollout: all traffic back to stable', async () => {
    // Another canary service and other steps: a new rollout from step 0 (the failed one is over).
    await applyObject(port, shopRoute(GOOD, { steps: [{ setWeight: 50 }, { pause: {} }] }));
    await phase('Paused');
    await until('canary takes traffic', async () => {
      for (let i = 0; i < 40; i++) if ((await send({ port: httpPort, host: HOST, path: '/' })).body.trim() === GOOD) return true;
      return undefined;
    });
    await command('abort');
    expect((await phase('Aborted')).weight).toBe(0);
    await onlyStable();
  }, 120_000);

  it('resumes a paused rollout after the core restarts', async () => {
    await command('retry');
    const paused = await phase('Paused');
    const starts = paused.history.filter((h) => h.reason === 'RolloutStarted' || h.reason === 'Retried' || h.reason === 'SpecChanged').length;
    docker('service', 'update', '--detach', '--force', 'swarmgate-core');
    await until('core restarted', async () => (docker('service', 'ps', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}', 'swarmgate-core').startsWith('Running') && docker('service', 'ps', '--format', '{{.ID}}', 'swarmgate-core').split('\n').length > 1 ? true : undefined), 90_000);
    await command('promote');
    const done = await phase('Succeeded', 90_000);
    // The restarted core continued the same rollout: no new start in its history.
    expect(done.history.filter((h) => h.reason === 'RolloutStarted' || h.reason === 'Retried' || h.reason === 'SpecChanged').length).toBe(starts);
  }, 150_000);
});
