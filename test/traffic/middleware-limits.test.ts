/**
 * Middleware rateLimit and connectionLimit with real traffic through a real NGINX and a real HAProxy
 * running the rendered configuration of the same specs (one proxy replica each: the limits below are
 * per replica, see README "Middlewares").
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, type Backend } from '../helpers/echo-backends';
import { send, type Reply } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy, type ProxyKind } from '../helpers/policy-proxies';
import { middleware, route, snapshot, task } from '../helpers/specs';

const KINDS: readonly ProxyKind[] = ['nginx', 'haproxy'];
const proxies = new Map<ProxyKind, PolicyProxy>();
const backends: Backend[] = [];
let slow: Server | undefined;

/** The limit measured: 20 requests per second. */
const RATE = 20;
const SECONDS = 3;
/** Offered load: three times the limit, at a fixed pace. */
const OFFERED_PER_SECOND = 60;
const BURST = 5;

/** One client offering OFFERED_PER_SECOND requests per second for SECONDS, at a fixed pace. */
async function offer(port: number, host: string): Promise<Reply[]> {
  const start = Date.now() + 50;
  return Promise.all(
    Array.from({ length: OFFERED_PER_SECOND * SECONDS }, (_, i) => new Promise<Reply>((resolve, reject) => {
      setTimeout(() => send({ port, host, localAddress: '127.0.0.1' }).then(resolve, reject), start + (i * 1000) / OFFERED_PER_SECOND - Date.now());
    })),
  );
}

beforeAll(async () => {
  const [appPort = 0, slowPort = 0] = await freePorts(2);
  backends.push(await startEcho('app', 'app@127.0.0.70', '127.0.0.70', appPort));
  // A task that takes 600 ms to answer, so requests overlap.
  slow = createServer((_req, res) => setTimeout(() => res.end('slow'), 600));
  await new Promise<void>((resolve) => slow?.listen(slowPort, '127.0.0.71', () => resolve()));
  const middlewares = [
    middleware('twenty-per-second', { rateLimit: { average: RATE } }),
    middleware('twenty-per-second-burst', { rateLimit: { average: RATE, burst: BURST } }),
    middleware('per-key', { rateLimit: { average: 1, period: '1m', header: 'X-Api-Key' } }),
    middleware('one-at-a-time', { connectionLimit: { max: 1 } }),
  ];
  const routes = [
    route('rate', { hosts: ['rate.test'], middlewares: ['twenty-per-second'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('burst', { hosts: ['burst.test'], middlewares: ['twenty-per-second-burst'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('keys', { hosts: ['keys.test'], middlewares: ['per-key'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('conns', { hosts: ['conns.test'], middlewares: ['one-at-a-time'], rules: [{ backends: [{ service: 'slow', port: slowPort }] }] }),
  ];
  const snap = snapshot({
    services: [{ name: 'app', networks: ['app'] }, { name: 'slow', networks: ['app'] }],
    tasks: [task('app', '127.0.0.70'), task('slow', '127.0.0.71')],
    networks: [{ name: 'app' }],
  });
  for (const kind of KINDS) proxies.set(kind, await startPolicyProxy(kind, routes, middlewares, snap));
}, 30_000);

afterAll(async () => {
  await Promise.all([...proxies.values()].map((p) => p.stop()));
  await Promise.all(backends.map((b) => b.close()));
  await new Promise<void>((resolve) => (slow === undefined ? resolve() : slow.close(() => resolve())));
});

describe.each(KINDS)('%s: rateLimit and connectionLimit', (kind) => {
  const port = (): number => proxies.get(kind)?.http ?? 0;

  // The documented meaning (README "rateLimit"): over a run, average × seconds (+ burst on NGINX). HAProxy
  // counts in a sliding window (no burst); NGINX spaces admissions 1/average s apart, so without a burst
  // a client whose requests come with jitter gets fewer — the burst is what absorbs that.
  const [host, expected] = kind === 'nginx' ? ['burst.test', RATE * SECONDS + BURST] : ['rate.test', RATE * SECONDS];
  it(`admits ${kind === 'nginx' ? `${RATE}/s + burst ${BURST}` : `${RATE}/s`} ±10 % of a client offering ${OFFERED_PER_SECOND}/s for ${SECONDS} s, and answers the rest 429 with Retry-After`, async () => {
    const replies = await offer(port(), host);
    const admitted = replies.filter((r) => r.status === 200).length;
    const refused = replies.filter((r) => r.status === 429);
    console.info(`${kind} ${host}: admitted ${admitted} of ${replies.length} (expected ${expected})`);
    expect(admitted + refused.length).toBe(replies.length);
    expect(admitted).toBeGreaterThanOrEqual(expected * 0.9);
    expect(admitted).toBeLessThanOrEqual(expected * 1.1);
    expect(refused[0]?.headers['retry-after']).toBe('1');
    // Another client has its own count.
    expect((await send({ port: port(), host, localAddress: '127.0.0.2' })).status).toBe(200);
  });

  if (kind === 'nginx')
    it('never admits more than the average without a burst', async () => {
      const admitted = (await offer(port(), 'rate.test')).filter((r) => r.status === 200).length;
      expect(admitted).toBeLessThanOrEqual(RATE * SECONDS + 1);
      expect(admitted).toBeGreaterThan(RATE * SECONDS * 0.6);
    });
  else
    it('does not serve a burst (UnsupportedValue)', () => {
      expect(proxies.get(kind)?.result.conditions['Route/burst']?.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'UnsupportedValue' });
    });

  it('counts per header value when keyed by a header, and leaves requests without it alone', async () => {
    const get = async (headers: Record<string, string>) => (await send({ port: port(), host: 'keys.test', headers })).status;
    const a = [await get({ 'x-api-key': 'a' }), await get({ 'x-api-key': 'a' })];
    expect(a).toEqual([200, 429]);
    expect(await get({ 'x-api-key': 'b' })).toBe(200);
    for (let i = 0; i < 4; i++) expect(await get({})).toBe(200);
  });

  it('refuses a second request in progress from the same client with 429', async () => {
    const replies = await Promise.all([0, 1, 2].map(() => send({ port: port(), host: 'conns.test', localAddress: '127.0.0.1' })));
    expect(replies.map((r) => r.status).sort()).toEqual([200, 429, 429]);
    // Once the first is answered the client may send again.
    expect((await send({ port: port(), host: 'conns.test', localAddress: '127.0.0.1' })).status).toBe(200);
  });
});
