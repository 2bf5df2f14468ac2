import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { haproxyProblems } from '../../src/validate/proxy-check';
import { renderCluster } from '../../src/render/render-cluster';
import { validateCluster } from '../../src/validate/validate-cluster';
import { runRender } from '../../src/cli/commands/render';
import type { Output } from '../../src/cli/output';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { renderHaproxy, renderHaproxyWithEndpoints } from '../../src/render/haproxy/render';
import { renderNginx, renderNginxWithEndpoints } from '../../src/render/nginx/render';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../../src/render/nginx/options';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const SNAP = snapshot({
  services: [{ name: 'web', networks: ['app'] }],
  tasks: [task('web', '10.0.0.2')],
  networks: [{ name: 'app' }],
  secrets: [{ name: 'web-cert' }, { name: 'web-key' }],
});

function model(kind: 'nginx' | 'haproxy', endpoints?: 'Static' | 'Dynamic'): ProxyModel {
  const r = route('web', {
    serviceCluster: 'edge',
    hosts: ['web.test'],
    tls: { mode: 'Terminate', certificate: { certSecret: 'web-cert', keySecret: 'web-key' } },
    rules: [{ backends: [{ service: 'web', port: 80 }] }],
  });
  const m = buildModel(desired([r], [cluster('edge', { proxy: { kind, ...(endpoints !== undefined ? { endpoints } : {}) } })]), SNAP).clusters.find((c) => c.cluster === 'edge');
  if (m === undefined) throw new Error('no cluster');
  return m;
}

function fakeBinary(script: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'sg-fake-bin-')), 'proxy');
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

describe('renderCluster', () => {
  it('renders nginx.conf for a Static NGINX cluster', () => {
    const m = model('nginx', 'Static');
    expect(renderCluster(m)).toEqual({ kind: 'nginx', main: 'nginx.conf', files: [{ path: 'nginx.conf', content: renderNginx(m) }] });
  });

  it('renders haproxy.cfg for a Static HAProxy cluster', () => {
    const m = model('haproxy', 'Static');
    expect(renderCluster(m)).toEqual({ kind: 'haproxy', main: 'haproxy.cfg', files: [{ path: 'haproxy.cfg', content: renderHaproxy(m) }] });
  });

  it('renders the config and endpoints.txt for a hitless NGINX cluster without proxy.endpoints (Dynamic, ADR 0039), and for HAProxy when asked', () => {
    const n = model('nginx');
    const nginx = renderNginxWithEndpoints(n, { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS });
    expect(renderCluster(n)).toEqual({ kind: 'nginx', main: 'nginx.conf', files: [{ path: 'nginx.conf', content: nginx.config }, { path: 'endpoints.txt', content: nginx.endpoints }], dynamicUpstreams: new Set(nginx.dynamicUpstreams) });
    // The host's line (its locations, routes as data, ADR 0050), then the upstream's.
    const upstream = [...nginx.dynamicUpstreams][0] ?? '';
    expect(nginx.endpoints).toBe(`@web.test ^ / web ${upstream}\n${upstream} 1 1 - 10.0.0.2:80\n`);
    // HAProxy: Static unless its spec says Dynamic (its slots need file descriptors, ADR 0039).
    expect(renderCluster(model('haproxy')).files.map((f) => f.path)).toEqual(['haproxy.cfg']);
    const h = model('haproxy', 'Dynamic');
    const haproxy = renderHaproxyWithEndpoints(h, { dynamicEndpoints: true });
    expect(renderCluster(h)).toEqual({ kind: 'haproxy', main: 'haproxy.cfg', files: [{ path: 'haproxy.cfg', content: haproxy.config }, { path: 'endpoints.txt', content: haproxy.endpoints }] });
    expect(haproxy.config).toContain('server s1 sg-slot.invalid:1');
  });
});

describe('validateCluster', () => {
  it('checks an HAProxy cluster with haproxy -c, scratch PEMs standing in for its TLS secrets', () => {
    const v = validateCluster(model('haproxy'));
    expect(v).toEqual({ ok: true, output: '' });
  });

  it('checks an NGINX cluster with nginx -t', () => {
    expect(validateCluster(model('nginx'))).toMatchObject({ ok: true });
  });

  it('reports haproxy\'s alerts at the path the proxy reads the config from, without the process ID', () => {
    const bin = fakeBinary('[ "$1" = -v ] && exit 0\necho "[NOTICE]   (42) : haproxy version is 2.6"\necho "[ALERT]    (42) : config : parsing [$3:7] : unknown keyword \'x\'" >&2\nexit 1');
    const v = validateCluster(model('haproxy'), { haproxy: bin });
    expect(v).toEqual({ ok: false, output: "[ALERT] config : parsing [/etc/haproxy/haproxy.cfg:7] : unknown keyword 'x'" });
  });

  it('passes, marked skipped, where the proxy binary is not installed', () => {
    expect(validateCluster(model('haproxy'), { haproxy: '/nonexistent/haproxy' })).toMatchObject({ ok: true, skipped: expect.stringContaining('haproxy not installed') as unknown as string });
  });

  it('keeps only alert and warning lines', () => {
    expect(haproxyProblems('[NOTICE]   (1) : v\n[WARNING]  (1) : w\n[ALERT]    (1) : a\n')).toBe('[WARNING] w\n[ALERT] a');
  });
});

describe('swarmgate render', () => {
  it('writes haproxy.cfg for an HAProxy cluster and nginx.conf for an NGINX one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-render-cli-'));
    const specs = join(dir, 'specs.yaml');
    writeFileSync(
      specs,
      [
        'apiVersion: swarmgate.io/v1\nkind: ServiceCluster\nmetadata: {name: edge}\nspec: {proxy: {kind: haproxy}}',
        'apiVersion: swarmgate.io/v1\nkind: Route\nmetadata: {name: web}\nspec: {serviceCluster: edge, hosts: [web.test], rules: [{backends: [{service: web, port: 80}]}]}',
      ].join('\n---\n'),
    );
    const out: string[] = [];
    const io: Output = { out: (s) => void out.push(s), err: () => undefined };
    expect(runRender({ file: [specs], output: 'json' }, io)).toBe(0);
    const json = JSON.parse(out.join('')) as { clusters: { name: string; files: Record<string, string> }[] };
    // Both hitless without proxy.endpoints: NGINX Dynamic with its endpoint set, HAProxy Static (ADR 0039).
    expect(json.clusters.map((c) => [c.name, Object.keys(c.files)])).toEqual([
      ['default', ['nginx.conf', 'endpoints.txt']],
      ['edge', ['haproxy.cfg']],
    ]);
    expect(json.clusters[1]?.files['haproxy.cfg']).toContain('# Routes: web\n');
    expect(runRender({ file: [specs], out: join(dir, 'out') }, io)).toBe(0);
    expect(readFileSync(join(dir, 'out', 'edge', 'haproxy.cfg'), 'utf8')).toBe(json.clusters[1]?.files['haproxy.cfg']);
  });
});
