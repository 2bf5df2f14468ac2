/**
 * The trusted client address (ServiceCluster proxy.clientAddress) with real traffic through a real
 * NGINX and a real HAProxy: a "balancer" on 127.0.0.1 (trusted) speaks the PROXY protocol or sends
 * X-Forwarded-For naming clients in 203.0.113.0/24; a peer on 127.0.0.2 (not trusted) tries the
 * same. An ipAllow of 203.0.113.0/24 shows which address the policies see; the echo backend shows
 * what the proxy passed on. The HTTPS port goes through the SNI router, which itself talks PROXY
 * protocol to the TLS listener behind it.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startPolicyProxy, type PolicyProxy, type ProxyKind } from '../helpers/policy-proxies';
import { middleware, route, snapshot, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

const KINDS: readonly ProxyKind[] = ['nginx', 'haproxy'];
const APP_IP = '127.0.0.70';
const backends: Backend[] = [];
const proxies = new Map<string, PolicyProxy>();
const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;

interface RawReply {
  readonly status: number;
  readonly body: string;
}

/** One HTTP/1.1 request on a fresh connection from `from`, optionally after a PROXY v1 header, optionally in TLS. */
function raw(port: number, from: string, opts: { proxyHeader?: string; tls?: boolean; host: string; headers?: Record<string, string> }): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port, localAddress: from });
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    let data = '';
    const request = `GET /who HTTP/1.1\r\nHost: ${opts.host}\r\nConnection: close\r\n${Object.entries(opts.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    const done = (): void => {
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0);
      resolve({ status, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    };
    socket.once('error', (e) => (data === '' ? reject(e) : done()));
    socket.once('connect', () => {
      if (opts.proxyHeader !== undefined) socket.write(opts.proxyHeader);
      if (opts.tls !== true) {
        socket.on('data', (c: Buffer) => (data += c.toString('utf8')));
        socket.on('end', done);
        socket.write(request);
        return;
      }
      const secure = tlsConnect({ socket, servername: opts.host, rejectUnauthorized: false });
      secure.on('data', (c: Buffer) => (data += c.toString('utf8')));
      secure.on('end', done);
      secure.on('close', done);
      secure.once('error', (e) => (data === '' ? resolve({ status: 0, body: String(e) }) : done()));
      secure.once('secureConnect', () => secure.write(request));
    });
  });
}

const proxyV1 = (client: string, port: number): string => `PROXY TCP4 ${client} 127.0.0.1 40000 ${port}\r\n`;
/** The body's last X-Forwarded-For address: what the proxy says the client is. */
const lastForwarded = (body: string): string | undefined => String(echo(body).headers['x-forwarded-for'] ?? '').split(',').at(-1)?.trim();

beforeAll(async () => {
  const [appPort = 0] = await freePorts(1);
  backends.push(await startEcho('app', `app@${APP_IP}`, APP_IP, appPort));
  const cert = selfSigned('site.test', ['site.test']);
  const middlewares = [middleware('clients-only', { ipAllow: ['203.0.113.0/24'] })];
  const routes = [
    route('site', { hosts: ['site.test'], middlewares: ['clients-only'], tls: { mode: 'Terminate', certificate: { certSecret: 'site.crt', keySecret: 'site.key' } }, rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('plain', { hosts: ['plain.test'], middlewares: ['clients-only'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
    route('open', { hosts: ['open.test'], rules: [{ backends: [{ service: 'app', port: appPort }] }] }),
  ];
  const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', APP_IP)], networks: [{ name: 'app' }], secrets: [{ name: 'site.crt' }, { name: 'site.key' }] });
  for (const kind of KINDS)
    for (const from of ['ProxyProtocol', 'XForwardedFor'])
      proxies.set(`${kind}/${from}`, await startPolicyProxy(kind, routes, middlewares, snap, { tls: cert, proxy: { clientAddress: { from, trustedProxies: ['127.0.0.1'] } } }));
}, 60_000);

afterAll(async () => {
  await Promise.all([...proxies.values()].map((p) => p.stop()));
  await Promise.all(backends.map((b) => b.close()));
});

describe.each(KINDS)('%s: clientAddress from ProxyProtocol', (kind) => {
  const p = (): PolicyProxy => proxies.get(`${kind}/ProxyProtocol`) as PolicyProxy;

  it('believes the PROXY header of a trusted balancer on the HTTP port: policies and the backend see the client', async () => {
    const r = await raw(p().http, '127.0.0.1', { proxyHeader: proxyV1('203.0.113.7', p().http), host: 'plain.test' });
    expect(r.status).toBe(200);
    expect(lastForwarded(r.body)).toBe('203.0.113.7');
  });

  it('passes the client on through the SNI router to the TLS listener on the HTTPS port', async () => {
    const r = await raw(p().https, '127.0.0.1', { proxyHeader: proxyV1('203.0.113.8', p().https), host: 'site.test', tls: true });
    expect(r.status).toBe(200);
    expect(lastForwarded(r.body)).toBe('203.0.113.8');
  });

  it('does not believe a PROXY header from a peer that is not trusted', async () => {
    // NGINX requires the header and keeps the peer address (403 from the allow list); HAProxy
    // expects no header from such a peer and refuses the request line (400).
    const r = await raw(p().http, '127.0.0.2', { proxyHeader: proxyV1('203.0.113.7', p().http), host: 'plain.test' });
    expect(r.status).toBe(kind === 'nginx' ? 403 : 400);
  });

  it('takes what curl --haproxy-protocol sends (the connection own addresses)', async () => {
    // Asynchronously: the echo backend answers from this process.
    const { stdout } = await promisify(execFile)('curl', ['-s', '--max-time', '5', '--haproxy-protocol', '-H', 'Host: open.test', `http://127.0.0.1:${p().http}/who`], { encoding: 'utf8' });
    expect(lastForwarded(stdout)).toBe('127.0.0.1');
  });
});

describe.each(KINDS)('%s: clientAddress from XForwardedFor', (kind) => {
  const p = (): PolicyProxy => proxies.get(`${kind}/XForwardedFor`) as PolicyProxy;

  it('believes the last X-Forwarded-For address from a trusted balancer on the HTTP port', async () => {
    const r = await send({ port: p().http, host: 'plain.test', path: '/who', localAddress: '127.0.0.1', headers: { 'x-forwarded-for': '198.51.100.1, 203.0.113.9' } });
    expect(r.status).toBe(200);
    expect(lastForwarded(r.body)).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', async () => {
    const r = await send({ port: p().http, host: 'plain.test', path: '/who', localAddress: '127.0.0.2', headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(r.status).toBe(403);
  });

  it('ignores X-Forwarded-For inside TLS (the HTTPS port keeps the SNI router address of the client)', async () => {
    const r = await raw(p().https, '127.0.0.1', { tls: true, host: 'site.test', headers: { 'X-Forwarded-For': '203.0.113.9' } });
    expect(r.status).toBe(403);
  });
});
