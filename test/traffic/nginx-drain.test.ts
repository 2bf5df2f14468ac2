/**
 * Drained reloads on a real NGINX running a rendered hitless config: while the agent's flag file
 * exists answers carry `Connection: close` (and only then), and keep-alive clients hammering the
 * proxy see no reset across reloads made the way the agent makes them (nginx-drain.ts).
 */
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_DRAIN_TIMING } from '../../src/agent/nginx-drain';
import { childPids, drainedReloadAndConfirm } from '../../src/agent/proxy-process';
import { startEcho, type Backend } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { startKeepAliveLoad } from '../helpers/keepalive-load';
import { freePorts, type RunningNginx } from '../helpers/nginx-process';
import { startOneRouteNginx } from '../helpers/one-route-nginx';

let nginx: RunningNginx | undefined;
let backend: Backend | undefined;
let http = 0;
let flag = '';
let masterPid = 0;

beforeAll(async () => {
  const [pApp = 0] = await freePorts(1);
  backend = await startEcho('app', 't1', '127.0.9.1', pApp);
  const started = await startOneRouteNginx('127.0.9.1', pApp);
  expect(started.model.spec.proxy.delivery).toBe('hitless');
  ({ nginx, http } = started);
  flag = started.options.drainFlagPath ?? '';
  expect(started.config).toContain(`if (-f "${flag}")`);
  masterPid = Number(readFileSync(join(started.dir, 'nginx.pid'), 'utf8').trim());
}, 30_000);

afterAll(async () => {
  await nginx?.stop();
  await backend?.close();
});

describe('drained NGINX reloads', () => {
  it('asks clients to close only while the flag file exists', async () => {
    const keepAlive = { connection: 'keep-alive' };
    const before = await send({ port: http, host: 'app.test', headers: keepAlive });
    writeFileSync(flag, '');
    const during = await send({ port: http, host: 'app.test', headers: keepAlive });
    const missing = await send({ port: http, host: 'missing.test', headers: keepAlive });
    rmSync(flag);
    const after = await send({ port: http, host: 'app.test', headers: keepAlive });
    expect([before.status, during.status, missing.status, after.status]).toEqual([200, 200, 503, 200]);
    expect(String(before.headers.connection)).not.toMatch(/close/);
    expect(String(during.headers.connection)).toMatch(/close/);
    expect(String(missing.headers.connection)).toMatch(/close/);
    expect(String(after.headers.connection)).not.toMatch(/close/);
  });

  it('keeps keep-alive clients free of resets across reloads', async () => {
    const load = startKeepAliveLoad(http, 'app.test');
    const workersSeen = new Set<number>(childPids(masterPid));
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 300));
      const connectionsBefore = load.connections();
      expect(await drainedReloadAndConfirm(masterPid, { ...DEFAULT_DRAIN_TIMING, flagPath: flag })).toBe(true);
      // The window made clients open new connections (they were asked to close the old ones).
      expect(load.connections()).toBeGreaterThan(connectionsBefore);
      for (const p of childPids(masterPid)) workersSeen.add(p);
      expect(existsSync(flag)).toBe(false);
    }
    await new Promise((r) => setTimeout(r, 300));
    const { ok, failures } = await load.stop();
    // Five reloads each started new workers (one per core, or the configured count, every time).
    expect(workersSeen.size).toBeGreaterThanOrEqual(6);
    expect(failures).toEqual([]);
    // Traffic flowed through all five reloads (a floor a loaded machine still clears: throughput is not the point).
    expect(ok).toBeGreaterThan(50);
  }, 30_000);
});
