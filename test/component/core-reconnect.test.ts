/**
 * Reconnecting to a replaced core over real gRPC. The core's name (`swarmgate-core.test`, resolved
 * through a stubbed dns.promises.lookup, which is what grpc-js's DNS resolver calls) first points at
 * one loopback address; then the core goes away and the name keeps pointing at the old address for
 * a while, where nothing answers any more, as on a Swarm where the old task's address vanished
 * (there a connect waits for the kernel: 39–134 s). Then a new core listens on another address
 * the name now resolves to. A client must be streaming from the new core within 2 s of it listening,
 * and must notice a core that vanished without closing its connections by keepalive.
 */
import * as grpc from '@grpc/grpc-js';
import dns from 'node:dns';
import net from 'node:net';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KEEPALIVE_TIME_MS, KEEPALIVE_TIMEOUT_MS, coreConnection, resubscribe, type CoreConnection, type StreamHandle } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import type { ProxyConfig__Output } from '../../src/api/generated/swarmgate/v1/ProxyConfig';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { freePorts } from '../helpers/nginx-process';
import { pollUntil as until } from '../helpers/poll';

const log = pino({ level: process.env['SG_DEBUG'] === '1' ? 'debug' : 'silent' });
const NAME = 'swarmgate-core.test';
/** What the stubbed resolver answers for NAME. */
let resolvesTo = '127.0.0.1';

const cleanups: (() => Promise<void> | void)[] = [];
beforeEach(() => {
  const real = dns.promises.lookup.bind(dns.promises);
  const stub = (async (hostname: string, options?: dns.LookupAllOptions) =>
    hostname === NAME ? [{ address: resolvesTo, family: 4 }] : real(hostname, options ?? { all: true })) as typeof dns.promises.lookup;
  const spy = vi.spyOn(dns.promises, 'lookup').mockImplementation(stub);
  cleanups.push(() => spy.mockRestore());
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A core (ControlPlane + gRPC server) on ip:port delivering one config for cluster edge, marked by `body`. */
async function startCore(ip: string, port: number, body: string): Promise<CoreApi & { plane: ControlPlane }> {
  const plane = new ControlPlane();
  plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(body) }]);
  const api = await startCoreApi({ plane, listen: `${ip}:${port}`, credentials: grpc.ServerCredentials.createInsecure(), log });
  cleanups.push(() => api.close());
  return Object.assign(api, { plane });
}

/** Accepts connections and never answers, nor closes them: what a dialled address looks like to a client whose connect cannot complete. */
async function blackHole(ip: string, port: number): Promise<() => Promise<void>> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(port, ip, resolve));
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return close;
}

/**
 * A relay ip:port → target that can freeze: it then stops forwarding in both directions and
 * answers no new connection, without closing anything (a peer that vanished silently).
 */
async function relay(ip: string, port: number, target: { host: string; port: number }): Promise<{ freeze(): void }> {
  let frozen = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.on('error', () => undefined);
    if (frozen) return;
    const up = net.connect(target);
    sockets.add(up);
    up.on('error', () => c.destroy());
    c.on('data', (d) => !frozen && up.write(d));
    up.on('data', (d) => !frozen && c.write(d));
    c.on('close', () => !frozen && up.destroy());
    up.on('close', () => !frozen && c.destroy());
  });
  await new Promise<void>((resolve) => server.listen(port, ip, resolve));
  cleanups.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { freeze: () => (frozen = true) };
}

/** Stream WatchProxyConfig for edge through `core`, recording what arrives and when. */
function watch(core: CoreConnection): { received: { body: string; at: number }[]; handle: StreamHandle } {
  const received: { body: string; at: number }[] = [];
  const handle = resubscribe(
    () => core.client.WatchProxyConfig({ cluster: 'edge', replicaId: 'task-1' }),
    (m: ProxyConfig__Output) => {
      received.push({ body: Buffer.from(m.files[0]?.content ?? Buffer.alloc(0)).toString(), at: Date.now() });
    },
    { log, what: 'WatchProxyConfig', connection: core },
  );
  cleanups.push(() => handle.stop());
  return { received, handle };
}

function connect(port: number): CoreConnection {
  const core = coreConnection(`${NAME}:${port}`, grpc.credentials.createInsecure());
  cleanups.push(() => core.close());
  return core;
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

describe('reconnecting to a replaced core', () => {
  it('streams from the new core within 2 s of it listening, though the old address hangs every connect', async () => {
    const [port = 0] = await freePorts(1);
    resolvesTo = '127.0.0.1';
    let api = await startCore('127.0.0.1', port, 'core-0');
    const core = connect(port);
    const { received } = watch(core);
    await until('the first core\'s config', () => received.find((r) => r.body === 'core-0'), 5_000);

    const times: number[] = [];
    // Each cycle: the core dies, its name still resolves to its old address (which now hangs every
    // connect) for a while, then a new core listens on the other address and the name follows it.
    for (let i = 1; i <= 5; i++) {
      const oldIp = resolvesTo;
      const newIp = oldIp === '127.0.0.1' ? '127.0.0.2' : '127.0.0.1';
      await api.close();
      const closeHole = await blackHole(oldIp, port);
      await sleep(1_000 + 700 * i);
      api = await startCore(newIp, port, `core-${i}`);
      const listening = Date.now();
      resolvesTo = newIp;
      const got = await until(`core-${i}'s config`, () => received.find((r) => r.body === `core-${i}`), 10_000);
      times.push(got.at - listening);
      // The new core knows the agent is connected (status: not AgentsDisconnected).
      expect(api.plane.connectedAgents('edge')).toEqual(new Set(['task-1']));
      await closeHole();
    }
    console.log(`reconnect after the core listens again (ms): ${times.join(', ')}; min ${Math.min(...times)}, median ${median(times)}`);
    const last = api.plane;
    await api.close();
    await until('the stream to end on the core', () => (last.connectedAgents('edge').size === 0 ? true : undefined), 5_000);
    expect(Math.max(...times)).toBeLessThan(2_000);
    // Every failed attempt and every lost stream started over on a new channel (a fresh resolution).
    expect(core.channels).toBeGreaterThan(5);
  }, 60_000);

  it('notices by keepalive a core that vanished without closing the connection, and reconnects', async () => {
    const [port = 0, inner = 0] = await freePorts(2);
    await startCore('127.0.0.3', inner, 'core-0');
    const r = await relay('127.0.0.1', port, { host: '127.0.0.3', port: inner });
    resolvesTo = '127.0.0.1';
    const core = connect(port);
    const { received } = watch(core);
    await until('the first core\'s config', () => received.find((x) => x.body === 'core-0'), 5_000);

    // The core's task vanishes: nothing is closed, nothing answers; a new core listens elsewhere.
    r.freeze();
    const vanished = Date.now();
    await startCore('127.0.0.2', port, 'core-1');
    resolvesTo = '127.0.0.2';
    const got = await until('the new core\'s config', () => received.find((x) => x.body === 'core-1'), 20_000);
    const ms = got.at - vanished;
    console.log(`reconnect after a silent vanish (ms): ${ms}`);
    expect(ms).toBeLessThan(KEEPALIVE_TIME_MS + KEEPALIVE_TIMEOUT_MS + 2_000);
  }, 30_000);
});
