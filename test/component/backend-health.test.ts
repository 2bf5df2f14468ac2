/**
 * BackendsHealthy on a Route, over the in-memory Docker fake and a ControlPlane fed with agent
 * reports: Unknown before traffic, False once a backend answers only 5xx over the window, True
 * when it answers, back to Unknown when the traffic leaves the window; each verdict change wakes a
 * run, counts alone write nothing; a rolling cluster says nothing counts its traffic.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { CoreRun } from '../../src/core/core-run';
import { LABELS } from '../../src/domain/labels';
import { HEALTH_WINDOW_MS } from '../../src/domain/backend-health';
import { LATENCY_BUCKET_COUNT } from '../../src/domain/traffic';
import { applyObject } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
const agents = { coreAddress: 'swarmgate-core:50051', controlNetwork: 'swarmgate-control', insecure: true };
let docker: FakeDocker;
let plane: ControlPlane;
let clock: number;
let run: CoreRun;
let wakes: string[];

async function statusOf(name: string) {
  const [c] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${name}`]);
  return parseStatus(c?.Spec.Labels?.[LABELS.status]);
}
const health = async (name: string) => (await statusOf(name))?.conditions.find((c) => c.type === 'BackendsHealthy');

/** Cumulative counters of one replica, as its agent reports them. */
function report(replica: string, upstream: string, requests: number, errors: number): void {
  const hash = plane.delivered('edge')?.configHash ?? '';
  const buckets = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  buckets[0] = requests;
  plane.report({ cluster: 'edge', replicaId: replica, appliedHash: hash, lastReceivedHash: hash, counters: { requests, responses5xx: errors, activeConnections: 0 } }, [{ upstream, requests, responses5xx: errors, latencyBuckets: buckets }]);
}

beforeEach(async () => {
  clock = Date.parse('2026-12-06T17:00:00Z');
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  plane = new ControlPlane(() => clock);
  wakes = [];
  plane.changes$.subscribe((c) => wakes.push(c));
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'hitless', publish: { mode: 'host', http: 18080, https: 18443 } } }));
  await applyObject(docker, route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] }));
  run = new CoreRun(docker, quiet, { plane, agents }, () => new Date(clock));
  await run.run(1);
});

function upstreamOfWeb(): string {
  // The config names it (`set $sg_upstream`), or the endpoint set does (a host's line, routes as data, ADR 0050).
  const text = (plane.delivered('edge')?.files ?? []).map((f) => f.content.toString()).join('\n');
  const m = /\b(u_\w+_web_8080)\b/.exec(text);
  if (m?.[1] === undefined) throw new Error('no upstream for web:8080 in the delivered config');
  return m[1];
}

describe('BackendsHealthy', () => {
  it('is Unknown without traffic, False when the backend answers only 5xx, True once it answers, Unknown when traffic stops', async () => {
    const [task = ''] = docker.addTasks('sg-proxy-edge', 1);
    const upstream = upstreamOfWeb();
    report(task, upstream, 0, 0);
    await run.run(2);
    expect(await health('web')).toMatchObject({ status: 'Unknown', reason: 'NotEnoughTraffic' });

    // Two 503s are not enough to call it failing; the third is (and the verdict change wakes a run).
    clock += 5_000;
    report(task, upstream, 2, 2);
    wakes.length = 0;
    clock += 5_000;
    report(task, upstream, 3, 3);
    expect(wakes).toContain('backend-health:edge');
    await run.run(3);
    const failing = await health('web');
    expect(failing).toMatchObject({ status: 'False', reason: 'BackendErrors' });
    expect(failing?.message).toContain('web:8080');
    expect((await statusOf('web'))?.backends?.items).toEqual([{ backend: 'web:8080', requests: 3, responses5xx: 3 }]);

    // More failing requests: the same verdict, so the run writes nothing.
    clock += 5_000;
    report(task, upstream, 10, 10);
    docker.clearActions();
    await run.run(4);
    expect(docker.writes.filter((w) => w.op === 'updateConfigLabels')).toEqual([]);

    // One answer that is not a 5xx: answering again.
    clock += 5_000;
    report(task, upstream, 11, 10);
    await run.run(5);
    expect(await health('web')).toMatchObject({ status: 'True', reason: 'BackendsAnswer' });

    // Everything counted is older than the window now: the heartbeat report notices, and the run says Unknown.
    clock += HEALTH_WINDOW_MS + 1_000;
    wakes.length = 0;
    report(task, upstream, 11, 10);
    expect(wakes).toContain('backend-health:edge');
    await run.run(6);
    expect(await health('web')).toMatchObject({ status: 'Unknown', reason: 'NotEnoughTraffic' });
  });

  it('is Unknown (NoTrafficData) on a cluster without proxy agents', async () => {
    const rolling = new CoreRun(docker, quiet, {}, () => new Date(clock));
    await rolling.run(7);
    expect(await health('web')).toMatchObject({ status: 'Unknown', reason: 'NoTrafficData' });
  });
});
