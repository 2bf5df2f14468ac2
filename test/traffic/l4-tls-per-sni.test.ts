/**
 * TLS termination per SNI name on a TLS listener (docs/reference/tcp-route.md), through a real NGINX
 * and a real HAProxy: two TCPRoutes with `tls` on one TLS listener, each with its own certificate;
 * a client naming `orders.db.test` gets the orders certificate and reaches the orders backend in
 * plain TCP, one naming `x.billing.test` (a wildcard) the billing certificate and the billing
 * backend; an unknown name gets no answer.
 */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { haproxyPemFiles, renderHaproxy } from '../../src/render/haproxy/render';
import { renderNginx } from '../../src/render/nginx/render';
import { startHaproxy } from '../helpers/haproxy-check';
import { writeWorkerReadable } from '../helpers/worker-readable';
import { startTcpBackend, type L4Backend, type L4Reply } from '../helpers/l4-backends';
import { freePorts, loopbackRenderOptions, startNginx } from '../helpers/nginx-process';
import { cluster, snapshot, streamRoute, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

type Kind = 'nginx' | 'haproxy';

const orders = selfSigned('orders.db.test');
const billing = selfSigned('billing.db.test', ['billing.db.test', '*.billing.test']);
const SECRETS: Record<string, string> = { 'orders.crt': orders.cert, 'orders.key': orders.key, 'billing.crt': billing.cert, 'billing.key': billing.key };

const backends: L4Backend[] = [];
const proxies: { stop(): Promise<void> }[] = [];
const listenPort = new Map<Kind, number>();

function model(kind: Kind, port: number, backendPort: number): ProxyModel {
  const c = cluster('edge', { proxy: { kind, delivery: 'rolling', publish: { http: 8080, https: 8443 } }, listeners: [{ name: 'db-tls', port, protocol: 'TLS' }] });
  const routes = [
    streamRoute('TCPRoute', 'orders', { serviceCluster: 'edge', listener: 'db-tls', hostnames: ['orders.db.test'], tls: { certificate: { certSecret: 'orders.crt', keySecret: 'orders.key' } }, backends: [{ service: 'orders', port: backendPort }] }),
    streamRoute('TCPRoute', 'billing', { serviceCluster: 'edge', listener: 'db-tls', hostnames: ['billing.db.test', '*.billing.test'], tls: { certificate: { certSecret: 'billing.crt', keySecret: 'billing.key' } }, backends: [{ service: 'billing', port: backendPort }] }),
  ];
  const snap = snapshot({
    services: ['orders', 'billing'].map((name) => ({ name, networks: ['app'] })),
    tasks: [task('orders', '127.0.9.1'), task('billing', '127.0.9.2')],
    networks: [{ name: 'app' }],
    secrets: Object.keys(SECRETS).map((name) => ({ name })),
  });
  const result = buildModel({ routes: [], clusters: [{ object: c, generation: 1 }], rejected: [], streamRoutes: routes.map((object, i) => ({ object, generation: 1, createdAt: `2026-01-01T00:00:0${i}Z` })) }, snap);
  for (const [key, conds] of Object.entries(result.conditions)) if (key.includes('Route/')) expect(conds.map((x) => `${x.type}=${x.status}`), key).toEqual(['Accepted=True', 'ResolvedRefs=True']);
  const m = result.clusters.find((x) => x.cluster === 'edge');
  if (m === undefined) throw new Error('no model');
  return m;
}

/** One TLS connection naming `servername`: the certificate's CN and the backend's reply (undefined when refused). */
function exchange(port: number, servername: string): Promise<{ cn?: string; reply?: L4Reply }> {
  return new Promise((resolve) => {
    let data = '';
    let cn: string | undefined;
    const sock = tlsConnect({ port, host: '127.0.0.1', servername, rejectUnauthorized: false });
    const timer = setTimeout(() => sock.destroy(), 5000);
    sock.once('secureConnect', () => {
      const subject = sock.getPeerCertificate().subject?.CN;
      cn = Array.isArray(subject) ? subject.join(',') : subject;
      sock.write('ping\n');
    });
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearTimeout(timer);
      const line = data.split('\n')[0] ?? '';
      resolve({ ...(cn !== undefined ? { cn } : {}), ...(line !== '' ? { reply: JSON.parse(line) as L4Reply } : {}) });
    });
  });
}

beforeAll(async () => {
  const free = await freePorts(11);
  const backendPort = free.pop() ?? 0;
  backends.push(await startTcpBackend('orders', '127.0.9.1', backendPort), await startTcpBackend('billing', '127.0.9.2', backendPort));
  const [nPort = 0, hPort = 0] = free.splice(0, 2);
  listenPort.set('nginx', nPort);
  listenPort.set('haproxy', hPort);

  const nginxDir = mkdtempSync(join(tmpdir(), 'sg-l4sni-nginx-'));
  // NGINX's workers load a certificate named by a variable at each handshake: as in a task's
  // /run/secrets (root:nogroup 0440 for these, workerSecrets), they must be able to read it.
  chmodSync(nginxDir, 0o755);
  for (const [name, content] of Object.entries(SECRETS)) writeWorkerReadable(join(nginxDir, name), content);
  const nginxConfig = renderNginx(model('nginx', nPort, backendPort), { ...loopbackRenderOptions(nginxDir, free.splice(0, 6)), secretsDir: nginxDir });
  proxies.push(await startNginx(nginxConfig, nPort, nginxDir));

  const hDir = mkdtempSync(join(tmpdir(), 'sg-l4sni-haproxy-'));
  const certDir = join(hDir, 'certs');
  mkdirSync(certDir);
  const hModel = model('haproxy', hPort, backendPort);
  for (const pem of haproxyPemFiles(hModel, { certDir })) writeFileSync(pem.path, `${SECRETS[pem.certSecret] ?? ''}${SECRETS[pem.keySecret] ?? ''}`, { mode: 0o600 });
  const [hHttp = 0, hStatus = 0] = free.splice(0, 2);
  const hConfig = renderHaproxy(hModel, { certDir, runtimeDir: hDir, bindAddress: '127.0.0.1', httpPort: hHttp, httpsPort: 8443, statusPort: hStatus, logTarget: 'stderr' });
  proxies.push(await startHaproxy(hConfig, hPort, hDir));
}, 60_000);

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe.each(['nginx', 'haproxy'] as const)('TLS termination per SNI name on %s', (kind) => {
  const port = (): number => listenPort.get(kind) ?? 0;

  it('terminates orders.db.test with its certificate and passes plain TCP to the orders backend', async () => {
    const r = await exchange(port(), 'orders.db.test');
    expect(r.cn).toBe('orders.db.test');
    expect(r.reply).toMatchObject({ backend: 'orders', got: 'ping', proxy: null });
  });

  it('terminates billing names (exact and wildcard) with the billing certificate, to the billing backend', async () => {
    for (const name of ['billing.db.test', 'x.billing.test']) {
      const r = await exchange(port(), name);
      expect(r.cn, name).toBe('billing.db.test');
      expect(r.reply?.backend, name).toBe('billing');
    }
  });

  it('gives a name no route names no answer', async () => {
    expect((await exchange(port(), 'unknown.test')).reply).toBeUndefined();
  });
});
