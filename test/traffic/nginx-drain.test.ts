/**
 * Drained reloads on a real NGINX running a rendered hitless config: while the agent's flag file
 * exists answers carry `Connection: close` (and only then), and keep-alive clients hammering the
 * proxy see no reset across reloads made the way the agent makes them (nginx-drain.ts). Both
 * layouts: Static tests the flag with an `if` per server, Dynamic (the Lua module loaded) with a
 * Lua-set variable and no `if` block (ADR 0036).
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
import { startOneRouteNginx, type Layout } from '../helpers/one-route-nginx';

describe.each<Layout>(['Static', 'Dynamic'])('drained NGINX reloads (%s layout)', (layout) => {
  let nginx: RunningNginx | undefined;
  let backend: Backend | undefined;
  let http = 0;
  let flag = '';
  let masterPid = 0;
  let config = '';

  beforeAll(async () => {
    const [pApp = 0] = await freePorts(1);
    backend = await startEcho('app', 't1', '127.0.9.1', pApp);
    const started = await startOneRouteNginx('127.0.9.1', pApp, layout);
    expect(started.model.spec.proxy.delivery).toBe('hitless');
    ({ nginx, http, config } = started);
    flag = started.options.drainFlagPath ?? '';
    masterPid = Number(readFileSync(join(started.dir, 'nginx.pid'), 'utf8').trim());
  }, 30_000);

  afterAll(async () => {
    await nginx?.stop();
    await backend?.close();
  });

  it('tests the flag with an if block only without the Lua module', () => {
    const servers = config.match(/^ {4}server \{/gm)?.length ?? 0;
    const ifs = config.match(/^\s*if \(-f "[^"]*"\)/gm)?.length ?? 0;
    const byLua = config.match(/^\s*set_by_lua_block \$sg_draining \{ return sg\.draining\(\) \}$/gm)?.length ?? 0;
    // Every route server (here: the default server and app.test) tests the flag, one way or the other.
    expect(layout === 'Static' ? [ifs, byLua] : [byLua, ifs]).toEqual([2, 0]);
    expect(servers).toBeGreaterThan(2);
    expect(config).toContain(layout === 'Static' ? `if (-f "${flag}")` : `local DRAIN_FLAG = "${flag}"`);
  });

  it('asks clients to close only while the flag file exists', async () => {
    const keepAlive = { connection: 'keep-alive' };
    const before = await send({ port: http, host: 'app.test', headers: keepAlive });
    // Owner-only, as an agent with umask 077 would leave it: the workers (user nobody) may not read it, only see it.
    writeFileSync(flag, '', { mode: 0o600 });
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
