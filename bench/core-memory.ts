/**
 * Memory of one core process converging CORE_MEMORY_ROUTES routes (default 1,000; one host and one
 * backend each, over 50 services), without Docker (the in-memory fake stands in): runs the reconcile
 * pass CORE_MEMORY_RUNS times (default 12) with task churn and prints RSS and V8 heap after each run.
 * Compare Node flags with: node --import tsx <flags> bench/core-memory.ts
 */
import pino from 'pino';
import { ControlPlane } from '../src/api/control-plane';
import { CoreRun } from '../src/core/core-run';
import { applyObject } from '../src/desired/spec-store';
import { FakeDocker } from '../test/fakes/fake-docker';
import { cluster, route } from '../test/helpers/specs';

const ROUTES = Number(process.env['CORE_MEMORY_ROUTES'] ?? '1000');
const RUNS = Number(process.env['CORE_MEMORY_RUNS'] ?? '12');

async function main(): Promise<void> {
  const docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  docker.addNetwork('swarmgate-control');
  for (let s = 0; s < 50; s++) {
    await docker.createService({ Name: `svc${s}`, TaskTemplate: { ContainerSpec: { Image: 'x' }, Networks: [{ Target: 'app' }] } });
    docker.addTasks(`svc${s}`, 2);
  }
  await applyObject(docker, cluster('edge', { proxy: { replicas: 1, delivery: 'hitless' } }));
  for (let i = 0; i < ROUTES; i++) await applyObject(docker, route(`r${i}`, { serviceCluster: 'edge', hosts: [`r${i}.example.test`], rules: [{ backends: [{ service: `svc${i % 50}`, port: 80 }] }] }));
  const run = new CoreRun(docker, pino({ level: 'silent' }), { plane: new ControlPlane(), agents: { coreAddress: 'c:1', controlNetwork: 'swarmgate-control', insecure: true } });
  for (let i = 1; i <= RUNS; i++) {
    docker.addTasks(`svc${i % 50}`, 1); // churn: every run sees a new config
    await run.run(i);
    if (process.env["GC_AFTER_RUN"] === "1") (globalThis as { gc?: () => void }).gc?.();
    const m = process.memoryUsage();
    process.stdout.write(`run ${String(i).padStart(2)}  rss ${(m.rss / 2 ** 20).toFixed(0)} MiB  heapUsed ${(m.heapUsed / 2 ** 20).toFixed(0)}  heapTotal ${(m.heapTotal / 2 ** 20).toFixed(0)}  external ${(m.external / 2 ** 20).toFixed(0)}\n`);
  }
}

void main();
