/**
 * bench-scale's proxy agent side of a dynamic task change, in its own thread: the agent is a process of
 * its own, with its own heap, so the benchmark's core (gigabytes of models at 10,000 routes) must not
 * charge its garbage collection to the agent. It does what the agent does with a ProxyConfig message
 * (ADR 0042): decode it (protobufjs, as grpc-js does), put back the files the stream carried as
 * unchanged, verify the delivery hash, compare nginx.conf with the running one, then push the set to the
 * balancer (ADR 0038: only the changed upstreams once a set is confirmed).
 * Messages: { id, port, dir, wire, whole } → { id, ok, output, sent, receiveMs, pushMs }.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import * as protobuf from 'protobufjs';
import { NginxEndpoints } from '../../src/agent/nginx-endpoints';
import { deliveryHash } from '../../src/api/delivery-hash';
import { ReceivedFiles } from '../../src/api/unchanged-files';

const type = protobuf.loadSync(join(__dirname, '../../src/api/proto/swarmgate/v1/core.proto')).lookupType('swarmgate.v1.ProxyConfig');
const clients = new Map<number, { balancer: NginxEndpoints; received: ReceivedFiles }>();

interface Decoded {
  configHash: string;
  files: { path: string; content: Uint8Array; unchanged?: boolean }[];
}

parentPort?.on('message', (m: { id: number; port: number; dir: string; wire: Uint8Array; whole: boolean }) => {
  const c = clients.get(m.port) ?? { balancer: new NginxEndpoints(m.port), received: new ReceivedFiles() };
  clients.set(m.port, c);
  const t0 = performance.now();
  const decoded = type.toObject(type.decode(m.wire), { longs: String, enums: String, defaults: true }) as Decoded;
  const files = c.received.resolve(decoded.files.map((f) => ({ path: f.path, content: Buffer.from(f.content.buffer, f.content.byteOffset, f.content.byteLength), unchanged: f.unchanged === true })));
  if (deliveryHash(files, []) !== decoded.configHash) {
    parentPort?.postMessage({ id: m.id, ok: false, output: 'received config does not match its hash' });
    return;
  }
  const main = files.find((f) => f.path === 'nginx.conf');
  if (main === undefined || !readFileSync(join(m.dir, 'delivered-nginx.conf')).equals(main.content)) {
    parentPort?.postMessage({ id: m.id, ok: false, output: 'nginx.conf changed: not a task change' });
    return;
  }
  const endpoints = files.find((f) => f.path === 'endpoints.txt')?.content ?? Buffer.alloc(0);
  const t1 = performance.now();
  void c.balancer.push(m.dir, endpoints, m.whole).then((r) =>
    parentPort?.postMessage({ id: m.id, ok: r.ok, output: r.output, sent: `${r.sent ?? 'whole'} (${r.upstreams ?? 0} upstreams)`, receiveMs: t1 - t0, pushMs: performance.now() - t1 }),
  );
});
