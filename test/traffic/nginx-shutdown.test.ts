/**
 * A backend task that dies while NGINX itself is shutting down (a rolling proxy update removes the
 * old task at the same time as a removed backend): the retry goes to the loopback 503 backup, whose
 * listener the quitting NGINX has already closed. The answer must still be 503 (unavailable), and a
 * 502 that is a real bad gateway (a POST the backend reset: NGINX may not retry it) must stay 502.
 * Both layouts: Static decides in @sg_502 with an `if`, Dynamic (the Lua module loaded) with
 * sg.bad_gateway() (ADR 0036); their answers must be the same bytes.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { send, type Reply } from '../helpers/http-client';
import { freePorts, type RunningNginx } from '../helpers/nginx-process';
import { startOneRouteNginx, type Layout } from '../helpers/one-route-nginx';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A backend that reads the request and resets the connection after `ms`, answering nothing. */
async function resettingBackend(ip: string, port: number, ms: number): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('data', () => undefined);
    setTimeout(() => s.resetAndDestroy(), ms);
  });
  await new Promise<void>((r) => server.listen(port, ip, () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return server;
}

async function proxyTo(backendPort: number, layout: Layout): Promise<{ nginx: RunningNginx; http: number; config: string }> {
  const { nginx, http, config } = await startOneRouteNginx('127.0.9.3', backendPort, layout);
  cleanups.push(() => nginx.stop());
  return { nginx, http, config };
}

/**
 * What a client sees of an answer: status, headers but the date, body. The headers as an object: their
 * order differs (Lua's Content-Length comes after NGINX's Connection), which no HTTP client may rely on.
 */
const seen = (r: Reply): { status: number; headers: Record<string, unknown>; body: string } => {
  const { date: _date, ...headers } = r.headers;
  return { status: r.status, headers, body: r.body };
};

describe.each<Layout>(['Static', 'Dynamic'])('NGINX answers while a backend dies (%s layout)', (layout) => {
  it('decides 502 or 503 in one location per server, with no if block in it with the Lua module', async () => {
    const [backendPort = 0] = await freePorts(1);
    const { config } = await proxyTo(backendPort, layout);
    const named = [...config.matchAll(/^ {8}location @sg_502 \{\n([\s\S]*?)^ {8}\}/gm)].map((m) => m[1] ?? '');
    const servers = config.match(/^ {8}error_page 502 = @sg_502;$/gm)?.length ?? 0;
    expect(named.length).toBe(servers);
    expect(named.length).toBeGreaterThanOrEqual(2);
    for (const body of named) expect(/^\s*if \(/m.test(body)).toBe(layout === 'Static');
    expect(config.includes('$sg_backup_gone')).toBe(layout === 'Static');
  });

  it('answers 503, not 502, when the backend dies while NGINX is shutting down', async () => {
    const r = await answerWhileStopping(layout, 'GET', '/');
    expect(r.status).toBe(503);
    expect(r.body).toContain('no task of this backend is reachable');
  });

  it('keeps a real bad gateway a 502: a POST the backend reset is not retried', async () => {
    const [backendPort = 0] = await freePorts(1);
    await resettingBackend('127.0.9.3', backendPort, 50);
    const { nginx, http } = await proxyTo(backendPort, layout);
    const r = await send({ port: http, host: 'app.test', method: 'POST' });
    expect(r.status).toBe(502);
    // A GET is retried on the backup while NGINX runs: the backend is unavailable.
    expect((await send({ port: http, host: 'app.test' })).status).toBe(503);
    // The backup server and @sg_502 evaluate the drain header too: every variable it reads is set there.
    expect(nginx.logs()).not.toContain('uninitialized');
  });
});

/** The answer to a request in flight when its backend resets the connection while NGINX stops gracefully. */
async function answerWhileStopping(layout: Layout, method: string, path: string): Promise<Reply> {
  const [backendPort = 0] = await freePorts(1);
  await resettingBackend('127.0.9.3', backendPort, 800);
  const { nginx, http } = await proxyTo(backendPort, layout);
  const reply = send({ port: http, host: 'app.test', method, path });
  await new Promise((r) => setTimeout(r, 300));
  // Graceful stop: listeners close (the 503 backup's too), the request in flight is finished.
  const stopped = nginx.stop();
  const r = await reply;
  await stopped;
  return r;
}

/** A POST (not retried) the backend resets: NGINX's own 502. */
async function badGateway(layout: Layout, path: string): Promise<Reply> {
  const [backendPort = 0] = await freePorts(1);
  await resettingBackend('127.0.9.3', backendPort, 50);
  const { http } = await proxyTo(backendPort, layout);
  return send({ port: http, host: 'app.test', method: 'POST', path, body: 'x' });
}

describe('the Lua layout answers as the Static one (ADR 0036)', () => {
  it('sends the same 503 (GET and HEAD; the Content-Type NGINX picks by extension) and the same 502', async () => {
    const answers = async (layout: Layout): Promise<ReturnType<typeof seen>[]> => [
      seen(await answerWhileStopping(layout, 'GET', '/')),
      seen(await answerWhileStopping(layout, 'GET', '/page.html')),
      seen(await answerWhileStopping(layout, 'HEAD', '/')),
      seen(await badGateway(layout, '/')),
    ];
    const [fixed, lua] = [await answers('Static'), await answers('Dynamic')];
    expect(lua).toEqual(fixed);
    // Each case could have caught a difference: the statuses, the Content-Type by extension, HEAD's empty body.
    expect(fixed.map((a) => [a.status, a.headers['content-type'], a.headers['content-length'], a.body.length])).toEqual([
      [503, 'text/plain', '37', 37],
      [503, 'text/html', '37', 37],
      [503, 'text/plain', '37', 0],
      [502, 'text/html', String(fixed[3]?.body.length), fixed[3]?.body.length],
    ]);
    expect(fixed[3]?.body).toContain('502 Bad Gateway');
  }, 60_000);
});
