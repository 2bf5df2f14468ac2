/**
 * TLS without a server certificate per host (ADR 0028), through a real NGINX and a real HAProxy:
 * three hosts with three different certificates (one a wildcard) each get their own certificate by
 * SNI and reach their backend; a name no route names is refused when no route is the default
 * backend, and gets the default backend's certificate when one is; the HTTP→HTTPS redirect and an
 * HSTS response header still work; a second connection resumes the first one's TLS session.
 * NGINX: the hosts carry no ssl_certificate of their own — the default server's one TLS context
 * loads each host's certificate at the handshake — so the config has one certificate pair, by variable.
 * HAProxy: one TLS listener whose crt-list maps each SNI name to its certificate (ADR 0032).
 */
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteObject } from '../../src/domain/object';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startProtocolProxy, type ProtocolProxy } from '../helpers/protocol-proxies';
import { cluster, route, snapshot, task } from '../helpers/specs';
import { selfSigned, type KeyPair } from '../helpers/tls-material';

const HSTS = 'max-age=31536000; includeSubDomains';
const pairs: Record<string, KeyPair> = { a: selfSigned('a.test'), b: selfSigned('b.test'), wild: selfSigned('wild.test', ['*.wild.test']), fallback: selfSigned('fallback.test') };
const secrets: Record<string, string> = Object.fromEntries(Object.entries(pairs).flatMap(([n, p]) => [[`${n}.crt`, p.cert], [`${n}.key`, p.key]]));
const cert = (n: string) => ({ certSecret: `${n}.crt`, keySecret: `${n}.key` });

function routes(port: number, withDefault: boolean): RouteObject[] {
  const to = (service: string) => [{ backends: [{ service, port }] }];
  return [
    route('a', { hosts: ['a.test'], tls: { mode: 'Terminate', certificate: cert('a'), redirectHTTP: true }, rules: [{ backends: [{ service: 'a', port }], responseHeaders: { set: [{ name: 'Strict-Transport-Security', value: HSTS }] } }] }),
    route('b', { hosts: ['b.test'], tls: { mode: 'Terminate', certificate: cert('b') }, rules: to('b') }),
    route('wild', { hosts: ['*.wild.test'], tls: { mode: 'Terminate', certificate: cert('wild') }, rules: to('wild') }),
    ...(withDefault ? [route('fallback', { hosts: ['fallback.test'], defaultBackend: true, tls: { mode: 'Terminate', certificate: cert('fallback') }, rules: to('fallback') })] : []),
  ];
}

/** A TLS handshake naming `servername`: the certificate's CN and the session (or the handshake error). */
function handshake(port: number, servername: string, session?: Buffer): Promise<{ cn: string; reused: boolean; session?: Buffer } | Error> {
  return new Promise((resolve) => {
    const sock: TLSSocket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'], ...(session !== undefined ? { session } : {}) });
    let got: Buffer | undefined;
    let cn = '';
    let reused = false;
    // TLS 1.3 sends the session ticket after the handshake: ask for a page so that it arrives before the close.
    sock.on('session', (s: Buffer) => (got = s));
    sock.once('secureConnect', () => {
      const subject = sock.getPeerCertificate().subject?.CN;
      cn = Array.isArray(subject) ? subject.join(',') : (subject ?? '');
      reused = sock.isSessionReused();
      sock.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    sock.on('data', () => undefined);
    sock.on('error', (e) => resolve(e));
    sock.on('close', () => resolve({ cn, reused, ...(got !== undefined ? { session: got } : {}) }));
  });
}

for (const kind of ['nginx', 'haproxy'] as const) {
  describe(`TLS hosts sharing one TLS server on ${kind}`, () => {
    const proxies = new Map<'plain' | 'withDefault', ProtocolProxy>();
    const backends: Backend[] = [];

    beforeAll(async () => {
      const [port = 0] = await freePorts(1);
      const ips: Record<string, string> = { a: '127.0.11.1', b: '127.0.11.2', wild: '127.0.11.3', fallback: '127.0.11.4' };
      for (const [service, ip] of Object.entries(ips)) backends.push(await startEcho(service, `${service}@${ip}`, ip, port));
      const snap = snapshot({
        services: Object.keys(ips).map((name) => ({ name, networks: ['app'] })),
        tasks: Object.entries(ips).map(([service, ip]) => task(service, ip)),
        networks: [{ name: 'app' }],
        secrets: Object.keys(secrets).map((name) => ({ name })),
      });
      for (const variant of ['plain', 'withDefault'] as const)
        proxies.set(variant, await startProtocolProxy(cluster('default', { proxy: { kind, delivery: 'rolling' } }), routes(port, variant === 'withDefault'), snap, secrets, pairs.a ?? selfSigned('x')));
    }, 60_000);

    afterAll(async () => {
      await Promise.all([...proxies.values()].map((p) => p.stop()));
      await Promise.all(backends.map((b) => b.close()));
    });

    const proxy = (v: 'plain' | 'withDefault'): ProtocolProxy => {
      const p = proxies.get(v);
      if (p === undefined) throw new Error(`no ${v} proxy`);
      return p;
    };

    if (kind === 'nginx')
      it('renders one certificate pair, by variable, for every host (no TLS context per host)', () => {
        for (const v of ['plain', 'withDefault'] as const) {
          const config = proxy(v).config;
          expect(config.match(/^\s*ssl_certificate\s/gm), v).toEqual([expect.stringContaining('ssl_certificate')]);
          expect(config, v).toContain('ssl_certificate $sg_tls_cert;');
          expect(proxy(v).result.clusters[0]?.workerSecrets, v).toEqual(expect.arrayContaining(['a.crt', 'a.key', 'b.crt', 'b.key', 'wild.crt', 'wild.key']));
        }
      });

    if (kind === 'haproxy') {
      it('renders one TLS listener reading one crt-list for every host (ADR 0032), the default certificate first', () => {
        for (const v of ['plain', 'withDefault'] as const) {
          const config = proxy(v).config;
          expect(config.match(/^\s*bind "unix@/gm), v).toHaveLength(1);
          expect(config, v).toMatch(/ ssl crt-list "[^"]+\/hosts\.crt-list" alpn h2,http\/1\.1\n/);
          expect(config.match(/^\s*#\s+crt "/gm), v).toHaveLength(v === 'withDefault' ? 4 : 3);
        }
        expect(proxy('withDefault').config).toMatch(/#\s+crt "[^"]+\/fallback\.crt\+fallback\.key\.pem" fallback\.test\n/);
      });

      it('negotiates HTTP/2 (ALPN h2) on the crt-list listener, and gives a handshake without SNI the default certificate', async () => {
        const p = proxy('withDefault');
        const alpn = await new Promise<string | false | null>((resolve, reject) => {
          const sock = tlsConnect({ host: '127.0.0.1', port: p.https, servername: 'b.test', rejectUnauthorized: false, ALPNProtocols: ['h2', 'http/1.1'] });
          sock.once('secureConnect', () => {
            resolve(sock.alpnProtocol);
            sock.destroy();
          });
          sock.on('error', reject);
        });
        expect(alpn).toBe('h2');
        const cn = await new Promise<string>((resolve, reject) => {
          const sock = tlsConnect({ host: '127.0.0.1', port: p.https, rejectUnauthorized: false });
          sock.once('secureConnect', () => {
            const subject = sock.getPeerCertificate().subject?.CN;
            resolve(Array.isArray(subject) ? subject.join(',') : (subject ?? ''));
            sock.destroy();
          });
          sock.on('error', reject);
        });
        expect(cn).toBe('fallback.test');
      });
    }

    it('gives each host its own certificate by SNI and routes it to its backend', async () => {
      const p = proxy('plain');
      for (const [sni, cn, service] of [['a.test', 'a.test', 'a'], ['b.test', 'b.test', 'b'], ['x.wild.test', 'wild.test', 'wild'], ['B.TEST', 'b.test', 'b']] as const) {
        const h = await handshake(p.https, sni);
        expect(h, sni).not.toBeInstanceOf(Error);
        expect((h as { cn: string }).cn, sni).toBe(cn);
        const r = await send({ port: p.https, host: sni, tls: true });
        expect(r.status, sni).toBe(200);
        expect((JSON.parse(r.body) as EchoReply).service, sni).toBe(service);
      }
    });

    it('refuses a name no route names when no route is the default backend', async () => {
      expect(await handshake(proxy('plain').https, 'unknown.test')).toBeInstanceOf(Error);
    });

    it("gives a name no route names the default backend's certificate when a route is the default backend", async () => {
      const p = proxy('withDefault');
      const h = await handshake(p.https, 'unknown.test');
      expect(h).not.toBeInstanceOf(Error);
      expect((h as { cn: string }).cn).toBe('fallback.test');
      // The named hosts keep theirs.
      expect(((await handshake(p.https, 'b.test')) as { cn: string }).cn).toBe('b.test');
      const r = await send({ port: p.https, host: 'unknown.test', tls: true });
      expect((JSON.parse(r.body) as EchoReply).service).toBe('fallback');
    });

    it('still redirects plain HTTP to HTTPS and sends the HSTS header over HTTPS', async () => {
      const p = proxy('plain');
      const plain = await send({ port: p.http, host: 'a.test', path: '/x?y=1' });
      expect(plain.status).toBe(308);
      expect(plain.headers.location).toBe('https://a.test/x?y=1');
      const secure = await send({ port: p.https, host: 'a.test', tls: true });
      expect(secure.status).toBe(200);
      expect(secure.headers['strict-transport-security']).toBe(HSTS);
      // b.test does not redirect: its plain HTTP is served.
      expect((await send({ port: p.http, host: 'b.test' })).status).toBe(200);
    });

    it("resumes a host's TLS session on a second connection (session tickets stay on)", async () => {
      const p = proxy('plain');
      const first = await handshake(p.https, 'b.test');
      if (first instanceof Error) throw first;
      expect(first.session).toBeDefined();
      const second = await handshake(p.https, 'b.test', first.session);
      if (second instanceof Error) throw second;
      // (A resumed TLS 1.3 session shows no peer certificate: the first handshake's was checked.)
      expect(second.reused).toBe(true);
      expect(first.cn).toBe('b.test');
    });
  });
}
