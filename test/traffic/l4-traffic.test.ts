/**
 * Layer-4 traffic through a real NGINX and a real HAProxy running the rendered configuration of a
 * cluster with extra listeners: a TCP echo split 50/50 (counted per backend), PROXY protocol to the
 * backend, TLS terminated on a TCP listener, SNI routing on a TLS listener (exact name over a
 * wildcard, unknown names refused), the idle timeout, and on NGINX a DNS-style UDP exchange split
 * across two backends.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { haproxyPemFiles, renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { startHaproxy } from '../helpers/haproxy-check';
import { dnsExchange, idleCloseAfter, startDnsBackend, startTcpBackend, tcpExchange, type L4Backend } from '../helpers/l4-backends';
import { freePorts, loopbackRenderOptions, startNginx } from '../helpers/nginx-process';
import { cluster, snapshot, streamRoute, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

type Kind = 'nginx' | 'haproxy';

interface Ports {
  readonly echo: number;
  readonly pp: number;
  readonly db: number;
  readonly sni: number;
  readonly idle: number;
  readonly dns: number;
  readonly backend: number;
}

const backends: L4Backend[] = [];
const proxies: { stop(): Promise<void> }[] = [];
const ports = new Map<Kind, Ports>();
const serverCert = selfSigned('db.test');
const backendCert = selfSigned('a.sni.test', ['a.sni.test', '*.wild.test']);

function model(kind: Kind, p: Ports): ProxyModel {
  const c = cluster('edge', {
    proxy: { kind, delivery: 'rolling', publish: { http: 8080, https: 8443 } },
    listeners: [
      { name: 'echo', port: p.echo, protocol: 'TCP' },
      { name: 'pp', port: p.pp, protocol: 'TCP' },
      { name: 'db', port: p.db, protocol: 'TCP' },
      { name: 'sni', port: p.sni, protocol: 'TLS' },
      { name: 'idle', port: p.idle, protocol: 'TCP' },
      { name: 'dns', port: p.dns, protocol: 'UDP' },
    ],
  });
  const b = (service: string, weight = 1) => ({ service, port: p.backend, weight });
  const routes = [
    streamRoute('TCPRoute', 'echo', { serviceCluster: 'edge', listener: 'echo', backends: [b('echo-a', 50), b('echo-b', 50)] }),
    streamRoute('TCPRoute', 'pp', { serviceCluster: 'edge', listener: 'pp', proxyProtocol: true, backends: [b('echo-a')] }),
    streamRoute('TCPRoute', 'db', { serviceCluster: 'edge', listener: 'db', tls: { certificate: { certSecret: 'db.crt', keySecret: 'db.key' } }, backends: [b('echo-b')] }),
    streamRoute('TCPRoute', 'wild', { serviceCluster: 'edge', listener: 'sni', hostnames: ['*.wild.test'], backends: [b('tls-wild')] }),
    streamRoute('TCPRoute', 'exact', { serviceCluster: 'edge', listener: 'sni', hostnames: ['a.sni.test', 'x.wild.test'], backends: [b('tls-exact')] }),
    streamRoute('TCPRoute', 'idle', { serviceCluster: 'edge', listener: 'idle', idleTimeout: '1s', backends: [b('echo-a')] }),
    ...(kind === 'nginx' ? [streamRoute('UDPRoute', 'dns', { serviceCluster: 'edge', listener: 'dns', idleTimeout: '2s', backends: [b('dns-a'), b('dns-b')] })] : []),
  ];
  const snap = snapshot({
    services: ['echo-a', 'echo-b', 'tls-wild', 'tls-exact', 'dns-a', 'dns-b'].map((name) => ({ name, networks: ['app'] })),
    tasks: [task('echo-a', '127.0.7.1'), task('echo-a', '127.0.7.2'), task('echo-b', '127.0.7.3'), task('tls-wild', '127.0.7.4'), task('tls-exact', '127.0.7.5'), task('dns-a', '127.0.7.6'), task('dns-b', '127.0.7.7')],
    networks: [{ name: 'app' }],
    secrets: [{ name: 'db.crt' }, { name: 'db.key' }],
  });
  const result = buildModel({ routes: [], clusters: [{ object: c, generation: 1 }], rejected: [], streamRoutes: routes.map((object, i) => ({ object, generation: 1, createdAt: `2026-01-01T00:00:0${i}Z` })) }, snap);
  for (const [key, conds] of Object.entries(result.conditions)) if (key.includes('Route/')) expect(conds.map((x) => `${x.type}=${x.status}`), key).toEqual(['Accepted=True', 'ResolvedRefs=True']);
  const m = result.clusters.find((x) => x.cluster === 'edge');
  if (m === undefined) throw new Error('no model');
  return m;
}

beforeAll(async () => {
  const free = await freePorts(2 * 6 + 1 + 8);
  const backendPort = free.pop() ?? 0;
  for (const kind of ['nginx', 'haproxy'] as const) {
    const [echo = 0, pp = 0, db = 0, sni = 0, idle = 0, dns = 0] = free.splice(0, 6);
    ports.set(kind, { echo, pp, db, sni, idle, dns, backend: backendPort });
  }
  for (const [name, ip] of [['echo-a', '127.0.7.1'], ['echo-a', '127.0.7.2'], ['echo-b', '127.0.7.3']] as const) backends.push(await startTcpBackend(name, ip, backendPort));
  backends.push(await startTcpBackend('tls-wild', '127.0.7.4', backendPort, backendCert));
  backends.push(await startTcpBackend('tls-exact', '127.0.7.5', backendPort, backendCert));
  backends.push(await startDnsBackend('127.0.7.6', backendPort, '10.0.0.6'));
  backends.push(await startDnsBackend('127.0.7.7', backendPort, '10.0.0.7'));

  const nginxPorts = ports.get('nginx') as Ports;
  const nginxDir = mkdtempSync(join(tmpdir(), 'sg-l4-nginx-'));
  writeFileSync(join(nginxDir, 'db.crt'), serverCert.cert);
  writeFileSync(join(nginxDir, 'db.key'), serverCert.key);
  const nginxConfig = renderNginx(model('nginx', nginxPorts), { ...loopbackRenderOptions(nginxDir, free.splice(0, 6)), secretsDir: nginxDir });
  proxies.push(await startNginx(nginxConfig, nginxPorts.echo, nginxDir));

  const hp = ports.get('haproxy') as Ports;
  const hDir = mkdtempSync(join(tmpdir(), 'sg-l4-haproxy-'));
  const certDir = join(hDir, 'certs');
  mkdirSync(certDir);
  const hModel = model('haproxy', hp);
  for (const pem of haproxyPemFiles(hModel, { certDir })) writeFileSync(pem.path, `${serverCert.cert}${serverCert.key}`, { mode: 0o600 });
  const [hHttp = 0, hStatus = 0] = free.splice(0, 2);
  const hConfig = renderHaproxy(hModel, { certDir, runtimeDir: hDir, bindAddress: '127.0.0.1', httpPort: hHttp, httpsPort: 8443, statusPort: hStatus, logTarget: 'stderr' });
  proxies.push(await startHaproxy(hConfig, hp.echo, hDir));
}, 60_000);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe.each(['nginx', 'haproxy'] as const)('TCPRoute on %s', (kind) => {
  const p = (): Ports => ports.get(kind) as Ports;

  it('echoes through a listener and splits connections 50/50 between two backends', async () => {
    const counts = new Map<string, number>();
    const N = 200;
    for (let i = 0; i < N; i++) {
      const r = await tcpExchange(p().echo, { line: `hello ${i}` });
      expect(r?.got).toBe(`hello ${i}`);
      counts.set(r?.backend ?? '-', (counts.get(r?.backend ?? '-') ?? 0) + 1);
    }
    console.info(`${kind} TCP 50/50 over ${N} connections: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect([...counts.keys()].sort()).toEqual(['echo-a', 'echo-b']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(N * 0.35);
  });

  it('sends a PROXY protocol header with the client address when asked, and none otherwise', async () => {
    const r = await tcpExchange(p().pp);
    expect(r?.proxy).toMatch(new RegExp(`^PROXY TCP4 127\\.0\\.0\\.1 127\\.0\\.0\\.1 \\d+ ${p().pp}$`));
    expect(r?.got).toBe('ping');
    expect((await tcpExchange(p().echo))?.proxy).toBeNull();
  });

  it('terminates TLS on a TCP listener and sends plain TCP to the backend', async () => {
    const r = await tcpExchange(p().db, { tls: { servername: 'db.test' }, line: 'SELECT 1' });
    expect(r).toEqual({ backend: 'echo-b', proxy: null, got: 'SELECT 1' });
  });

  it('routes a TLS listener by SNI without decrypting: exact names before wildcards, unknown names refused', async () => {
    expect((await tcpExchange(p().sni, { tls: { servername: 'a.sni.test' } }))?.backend).toBe('tls-exact');
    expect((await tcpExchange(p().sni, { tls: { servername: 'x.wild.test' } }))?.backend).toBe('tls-exact');
    expect((await tcpExchange(p().sni, { tls: { servername: 'deep.y.wild.test' } }))?.backend).toBe('tls-wild');
    expect(await tcpExchange(p().sni, { tls: { servername: 'unknown.test' } })).toBeUndefined();
  });

  it('closes a connection idle for longer than idleTimeout', async () => {
    const closedAfter = await idleCloseAfter(p().idle, 4000);
    expect(closedAfter).toBeGreaterThan(900);
    expect(closedAfter).toBeLessThan(3000);
  });
});

describe('UDPRoute on nginx', () => {
  it('answers DNS-style queries through the listener, split between two backends', async () => {
    const counts = new Map<string, number>();
    const N = 100;
    const dnsPort = (ports.get('nginx') as Ports).dns;
    for (let i = 0; i < N; i++) {
      const a = await dnsExchange(dnsPort, 1000 + i, `q${i}.example.com`);
      expect(a?.id).toBe(1000 + i);
      expect(a?.isResponse).toBe(true);
      counts.set(a?.answer ?? '-', (counts.get(a?.answer ?? '-') ?? 0) + 1);
    }
    console.info(`nginx UDP 50/50 over ${N} client sockets: ${JSON.stringify(Object.fromEntries(counts))}`);
    expect([...counts.keys()].sort()).toEqual(['10.0.0.6', '10.0.0.7']);
    for (const n of counts.values()) expect(n).toBeGreaterThan(N * 0.3);
  });
});
