/**
 * A backend task that dies while NGINX itself is shutting down (a rolling proxy update removes the
 * old task at the same time as a removed backend): the retry goes to the loopback 503 backup, whose
 * listener the quitting NGINX has already closed. The answer must still be 503 (unavailable), and a
 * 502 that is a real bad gateway (a POST the backend reset: NGINX may not retry it) must stay 502.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { send } from '../helpers/http-client';
import { freePorts, type RunningNginx } from '../helpers/nginx-process';
import { startOneRouteNginx } from '../helpers/one-route-nginx';

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

async function proxyTo(backendPort: number): Promise<{ nginx: RunningNginx; http: number }> {
  const { nginx, http } = await startOneRouteNginx('127.0.9.3', backendPort);
  cleanups.push(() => nginx.stop());
  return { nginx, http };
}

describe('NGINX answers while a backend dies', () => {
  it('answers 503, not 502, when the backend dies while NGINX is shutting down', async () => {
    const [backendPort = 0] = await freePorts(1);
    await resettingBackend('127.0.9.3', backendPort, 800);
    const { nginx, http } = await proxyTo(backendPort);
    const reply = send({ port: http, host: 'app.test' });
    await new Promise((r) => setTimeout(r, 300));
    // Graceful stop: listeners close (the 503 backup's too), the request in flight is finished.
    const stopped = nginx.stop();
    const r = await reply;
    await stopped;
    expect(r.status).toBe(503);
    expect(r.body).toContain('no task of this backend is reachable');
  });

  it('keeps a real bad gateway a 502: a POST the backend reset is not retried', async () => {
    const [backendPort = 0] = await freePorts(1);
    await resettingBackend('127.0.9.3', backendPort, 50);
    const { nginx, http } = await proxyTo(backendPort);
    const r = await send({ port: http, host: 'app.test', method: 'POST' });
    expect(r.status).toBe(502);
    // A GET is retried on the backup while NGINX runs: the backend is unavailable.
    expect((await send({ port: http, host: 'app.test' })).status).toBe(503);
    // The backup server and @sg_bad_gateway evaluate the drain header too: every variable it reads is set there.
    expect(nginx.logs()).not.toContain('uninitialized');
  });
});
