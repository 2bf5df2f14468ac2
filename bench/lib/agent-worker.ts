/**
 * bench-scale's proxy agent side of a dynamic push, in its own thread: the agent is a process of its
 * own, with its own heap, so the benchmark's core (gigabytes of models at 10,000 routes) must not
 * charge its garbage collection to the push. Messages: { id, port, dir, endpoints, whole } → { id, ok, output, sent, ms }.
 */
import { parentPort } from 'node:worker_threads';
import { NginxEndpoints } from '../../src/agent/nginx-endpoints';

const clients = new Map<number, NginxEndpoints>();
parentPort?.on('message', (m: { id: number; port: number; dir: string; endpoints: string; whole: boolean }) => {
  const c = clients.get(m.port) ?? new NginxEndpoints(m.port);
  clients.set(m.port, c);
  const t0 = performance.now();
  void c.push(m.dir, m.endpoints, m.whole).then((r) => parentPort?.postMessage({ id: m.id, ok: r.ok, output: r.output, sent: `${r.sent ?? 'whole'} (${r.upstreams ?? 0} upstreams)`, ms: performance.now() - t0 }));
});
