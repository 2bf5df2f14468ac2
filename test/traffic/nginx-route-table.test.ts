/**
 * Routes as data (ADR 0050) on a real NGINX with Debian's Lua module: the same routes rendered as a
 * `server` block per host (routeTable false) and as table servers with host lines (the default) run
 * side by side, and every request of a matrix (exact and prefix paths, the longest prefix, exact and
 * wildcard hosts, a wildcard beside an exact host, a tabled host beside a block, Host and URI
 * normalisation, a split) is answered by the same task with the same status and logged with the same
 * route. A change of a tabled host's paths is a push: no config byte, no reload.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { renderNginxWithEndpoints } from '../../src/render/nginx/render';
import type { RouteObject } from '../../src/domain/object';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { dynamicNginxSetup, nginxWorkerPids, putEndpointSet } from '../helpers/dynamic-nginx-traffic';
import { send } from '../helpers/http-client';
import { freePorts, startNginx, type RunningNginx } from '../helpers/nginx-process';
import { desired, route, snapshot, task } from '../helpers/specs';

const SERVICES = ['a', 'b', 'c', 'd', 'e', 'f', 'g'] as const;
const ip = (s: string): string => `127.0.59.${SERVICES.indexOf(s as (typeof SERVICES)[number]) + 1}`;

interface Side {
  readonly dir: string;
  readonly http: number;
  readonly control: number;
  readonly opts: Parameters<typeof renderNginxWithEndpoints>[1];
  nginx?: RunningNginx;
}

let backendPort = 0;
const backends: Backend[] = [];
const sides: { block?: Side; table?: Side } = {};

const be = (service: string) => ({ service, port: backendPort });
const edited = { responseHeaders: { set: [{ name: 'X-Block', value: 'yes' }] } };

function routes(extra: readonly RouteObject[] = []): RouteObject[] {
  return [
    route('paths', {
      hosts: ['paths.test'],
      rules: [
        { match: { path: '/a' }, backends: [be('a')] },
        { match: { pathPrefix: '/a' }, backends: [be('b')] },
        { match: { pathPrefix: '/api/v2' }, backends: [be('c')] },
        { match: { pathPrefix: '/api' }, backends: [be('d')] },
        { match: { pathPrefix: '/' }, backends: [be('e')] },
      ],
    }),
    route('noroot', { hosts: ['noroot.test'], rules: [{ match: { pathPrefix: '/only' }, backends: [be('a')] }] }),
    route('wild', { hosts: ['*.wild.test'], rules: [{ backends: [be('a')] }] }),
    route('wild-deep', { hosts: ['*.b.wild.test'], rules: [{ backends: [be('b')] }] }),
    route('wild-exact', { hosts: ['x.wild.test'], rules: [{ backends: [be('c')] }] }),
    // A wildcard block (its response header edit is not plain) beside a tabled exact host, and the reverse.
    route('mix-block', { hosts: ['*.mix.test'], rules: [{ backends: [be('d')], ...edited }] }),
    route('mix-table', { hosts: ['t.mix.test'], rules: [{ backends: [be('e')] }] }),
    route('mix2-table', { hosts: ['*.mix2.test'], rules: [{ backends: [be('f')] }] }),
    route('mix2-block', { hosts: ['x.mix2.test'], rules: [{ backends: [be('g')], ...edited }] }),
    route('split', { hosts: ['split.test'], rules: [{ backends: [{ ...be('f'), weight: 50 }, { ...be('g'), weight: 50 }], sessionAffinity: { clientIP: true } }] }),
    // Two routes on one host: each location logs its own route.
    route('shared-one', { hosts: ['shared.test'], rules: [{ match: { pathPrefix: '/one' }, backends: [be('a')] }] }),
    route('shared-two', { hosts: ['shared.test'], rules: [{ match: { pathPrefix: '/two' }, backends: [be('b')] }] }),
    ...extra,
  ];
}

function model(extra: readonly RouteObject[] = []): ProxyModel {
  const snap = snapshot({
    services: SERVICES.map((name) => ({ name, networks: ['app'] })),
    tasks: SERVICES.map((s) => task(s, ip(s))),
    networks: [{ name: 'app', driver: 'overlay', scope: 'swarm' }],
  });
  const m = buildModel(desired(routes(extra)), snap).clusters[0];
  if (m === undefined) throw new Error('no cluster');
  return m;
}

const render = (side: Side, extra: readonly RouteObject[] = []): { config: string; endpoints: string } => renderNginxWithEndpoints(model(extra), side.opts);

async function makeSide(routeTable: boolean): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), `sg-rtable-${String(routeTable)}-`));
  const { http, control, opts } = await dynamicNginxSetup(dir);
  const side: Side = { dir, http, control, opts: { ...opts, routeTable } };
  const r = render(side);
  writeFileSync(join(dir, 'endpoints.txt'), r.endpoints);
  side.nginx = await startNginx(r.config, side.http, dir);
  return side;
}

/** What a request got: status, the task that answered (200) and the X-Block header. */
async function ask(side: Side, host: string, path: string): Promise<string> {
  const r = await send({ port: side.http, host, path });
  const taskOf = r.status === 200 ? (JSON.parse(r.body) as EchoReply).task : '-';
  return `${r.status} ${taskOf} ${String(r.headers['x-block'] ?? '-')}`;
}

/**
 * The access log's lines from line `from` on, as `host uri route`, sorted: NGINX's workers append to
 * the log in the order their requests end, which need not be the order the client sent them in.
 */
function loggedRoutes(side: Side, from: number): string[] {
  const lines = readFileSync(join(side.dir, 'access.log'), 'utf8').split('\n').filter((l) => l !== '');
  return lines
    .slice(from)
    .map((l) => JSON.parse(l) as { host: string; uri: string; route: string })
    .map((e) => `${e.host} ${e.uri} ${e.route}`)
    .sort();
}

const logLength = (side: Side): number => readFileSync(join(side.dir, 'access.log'), 'utf8').split('\n').filter((l) => l !== '').length;

function both(): { block: Side; table: Side } {
  const { block, table } = sides;
  if (block === undefined || table === undefined) throw new Error('not started');
  return { block, table };
}

beforeAll(async () => {
  [backendPort] = (await freePorts(1)) as [number];
  for (const s of SERVICES) backends.push(await startEcho(s, s, ip(s), backendPort));
  sides.block = await makeSide(false);
  sides.table = await makeSide(true);
}, 30_000);

afterAll(async () => {
  await sides.block?.nginx?.stop();
  await sides.table?.nginx?.stop();
  await Promise.all(backends.map((b) => b.close()));
});

const MATRIX: readonly (readonly [string, string])[] = [
  ...['/a', '/a/', '/a/x', '/ab', '/A', '/api', '/api/', '/api/x', '/api/v2', '/api/v2/', '/api/v2x', '/apix', '/', '/zzz', '/%61pi/v2/x', '/x/../api/v2', '//api', '/api?q=1', '/a?x=/api'].map((p) => ['paths.test', p] as const),
  ['PATHS.Test', '/api'],
  ['paths.test.', '/api/v2'],
  ['paths.test:80', '/a'],
  ['noroot.test', '/only'],
  ['noroot.test', '/only/x'],
  ['y.wild.test', '/'],
  ['y.z.wild.test', '/'],
  ['a.b.wild.test', '/'],
  ['b.wild.test', '/'],
  ['x.wild.test', '/'],
  ['wild.test', '/'],
  ['t.mix.test', '/'],
  ['u.mix.test', '/'],
  ['x.mix2.test', '/'],
  ['y.mix2.test', '/'],
  ['split.test', '/'],
  ['split.test', '/x'],
  ['shared.test', '/one'],
  ['shared.test', '/two/x'],
  ['unknown.test', '/'],
];

describe('NGINX routes as data (ADR 0050)', () => {
  it('tables the proxy-only hosts and keeps the others as blocks', () => {
    const { table } = both();
    const r = render(table);
    const lines = r.endpoints.split('\n').filter((l) => l.startsWith('@'));
    expect(lines.map((l) => l.split(' ')[0]).sort()).toEqual(['@*.b.wild.test', '@*.mix2.test', '@*.wild.test', '@noroot.test', '@paths.test', '@shared.test', '@split.test', '@t.mix.test', '@x.wild.test']);
    expect(lines.find((l) => l.startsWith('@paths.test '))).toMatch(/^@paths\.test (?:[=^] \S+ paths \S+ ?){7}$/);
    expect(r.config.match(/rewrite_by_lua_block \{ sg\.route\(\) \}/g)).toHaveLength(1);
    expect(r.config).toMatch(/server_name "\*\.mix\.test";/);
    expect(r.config).toMatch(/server_name "x\.mix2\.test";/);
    expect(r.config).not.toMatch(/server_name "paths\.test";/);
  });

  it('answers every request of the matrix as the server blocks do, and logs the same route', async () => {
    const { block, table } = both();
    const fromBlock = logLength(block);
    const fromTable = logLength(table);
    const got: { block: string[]; table: string[] } = { block: [], table: [] };
    for (const [host, path] of MATRIX) {
      got.block.push(`${host}${path} ${await ask(block, host, path)}`);
      got.table.push(`${host}${path} ${await ask(table, host, path)}`);
    }
    expect(got.table.filter((g) => g.includes(' 200 ')).length).toBeGreaterThan(25);
    expect(got.table).toEqual(got.block);
    // Both logged one line per request, with the same route (the table sets $sg_route in Lua).
    await new Promise((r) => setTimeout(r, 200));
    expect(loggedRoutes(table, fromTable)).toEqual(loggedRoutes(block, fromBlock));
    expect(loggedRoutes(table, fromTable)).toContain('shared.test /two/x shared-two');
  });

  // A block whose locations miss a path falls to NGINX's static root (Debian's welcome page, or 404);
  // the table answers 404, which is what a route that does not match should answer.
  it('answers a path no location matches with 404', async () => {
    const { table } = both();
    expect(await ask(table, 'noroot.test', '/')).toBe('404 - -');
    expect(await ask(table, 'noroot.test', '/onlyx')).toBe('404 - -');
  });

  it('takes a new path on a tabled host with no config change and no reload', async () => {
    const { table } = both();
    const before = render(table);
    const pids = nginxWorkerPids(table.dir);
    const more = route('noroot-more', { hosts: ['noroot.test'], rules: [{ match: { pathPrefix: '/more' }, backends: [be('g')] }] });
    const after = render(table, [more]);
    expect(after.config).toBe(before.config);
    expect(after.endpoints).not.toBe(before.endpoints);
    expect(await ask(table, 'noroot.test', '/more')).toBe('404 - -');
    expect(await putEndpointSet(table.control, after.endpoints)).toBe(204);
    expect(await ask(table, 'noroot.test', '/more/x')).toBe('200 g -');
    expect(await ask(table, 'noroot.test', '/only')).toBe('200 a -');
    expect(nginxWorkerPids(table.dir)).toEqual(pids);
    expect(await putEndpointSet(table.control, before.endpoints)).toBe(204);
    expect(await ask(table, 'noroot.test', '/more')).toBe('404 - -');
  });

  it('refuses a malformed host line and keeps the set it holds', async () => {
    const { table } = both();
    const good = render(table).endpoints;
    for (const bad of ['@paths.test', '@paths.test = /a paths', '@paths.test ~ /a paths u_x', '@paths.test = a paths u_x', '@paths.test = /a paths $x']) {
      expect(await putEndpointSet(table.control, `${good}${bad}\n`), bad).toBe(400);
    }
    expect(await ask(table, 'paths.test', '/api/v2')).toBe('200 c -');
  });
});
