/**
 * Traffic cases that NGINX and HAProxy must pass alike, registered by both test/traffic/nginx-traffic
 * and test/traffic/haproxy-traffic against their own proxy. Both files render the same routes for
 * these hosts: web.test (prefix /api stripped to api, /v1 replaced by /v2 on web), secure.test
 * (TLS terminated, HTTP redirected), pt.test (TLS passed through by SNI), sticky.test (cookie
 * affinity) and no certificate for unknown.test.
 */
import { describe, expect, it } from 'vitest';
import type { EchoReply } from './echo-backends';
import { peerCertificate, send } from './http-client';

/** The proxy's ports; read when a case runs (the files start their proxy in beforeAll). */
export interface ProxyPorts {
  readonly http: () => number;
  readonly https: () => number;
}

const echo = (body: string): EchoReply => JSON.parse(body) as EchoReply;

/** Prefix matches, stripping and replacing. */
export function prefixRoutingCases(ports: ProxyPorts): void {
  it('strips the /api prefix and keeps the query string', async () => {
    const r = await send({ port: ports.http(), host: 'web.test', path: '/api/items?x=1' });
    expect(r.status).toBe(200);
    expect(echo(r.body)).toMatchObject({ service: 'api', url: '/items?x=1' });
  });

  it('matches the prefix itself and whole segments only', async () => {
    expect(echo((await send({ port: ports.http(), host: 'web.test', path: '/api' })).body)).toMatchObject({ service: 'api', url: '/' });
    expect(echo((await send({ port: ports.http(), host: 'web.test', path: '/apix' })).body)).toMatchObject({ service: 'web', url: '/apix' });
  });

  it('replaces a prefix', async () => {
    expect(echo((await send({ port: ports.http(), host: 'web.test', path: '/v1/users/7' })).body)).toMatchObject({ service: 'web', url: '/v2/users/7' });
  });
}

/** The first answer sets a cookie matching `cookie`; with it, every later request reaches the same task and sets none. */
export function cookieAffinityCases(ports: ProxyPorts, title: string, cookie: readonly RegExp[]): void {
  describe('session affinity', () => {
    it(title, async () => {
      const first = await send({ port: ports.http(), host: 'sticky.test' });
      const setCookie = first.headers['set-cookie']?.[0] ?? '';
      for (const re of cookie) expect(setCookie).toMatch(re);
      const pair = setCookie.split(';')[0] ?? '';
      const firstTask = echo(first.body).task;
      for (let i = 0; i < 15; i++) {
        const r = await send({ port: ports.http(), host: 'sticky.test', headers: { cookie: pair } });
        expect(echo(r.body).task).toBe(firstTask);
        expect(r.headers['set-cookie']).toBeUndefined();
      }
    });
  });
}

/** Redirect, termination, passthrough by SNI on the same port, and refused unknown names. */
export function tlsCases(ports: ProxyPorts): void {
  describe('TLS', () => {
    it('redirects plain HTTP to HTTPS with 308 and the published https port', async () => {
      const r = await send({ port: ports.http(), host: 'secure.test', path: '/a?b=1' });
      expect(r.status).toBe(308);
      expect(r.headers.location).toBe(`https://secure.test:${ports.https()}/a?b=1`);
    });

    it('terminates TLS behind the SNI router and forwards the client address', async () => {
      const r = await send({ port: ports.https(), host: 'secure.test', path: '/x', tls: true });
      expect(r.status).toBe(200);
      const e = echo(r.body);
      expect(e.service).toBe('secure');
      expect(e.headers['x-forwarded-proto']).toBe('https');
      expect(e.headers['x-real-ip']).toBe('127.0.0.1');
      const cert = await peerCertificate(ports.https(), 'secure.test');
      expect(cert instanceof Error ? cert.message : cert.subject.CN).toBe('secure.test');
    });

    it('does not serve a plain-HTTP host over TLS', async () => {
      const r = await send({ port: ports.https(), host: 'web.test', path: '/', tls: true, headers: {} }).catch((e: Error) => e);
      // The SNI "web.test" has no certificate: the handshake is refused.
      expect(r).toBeInstanceOf(Error);
    });

    it('passes TLS through untouched by SNI on the same port', async () => {
      const cert = await peerCertificate(ports.https(), 'pt.test');
      expect(cert instanceof Error ? cert.message : cert.subject.CN).toBe('pt.test');
      const r = await send({ port: ports.https(), host: 'pt.test', path: '/raw', tls: true });
      expect(echo(r.body)).toMatchObject({ service: 'pt', url: '/raw' });
    });

    it('refuses the handshake for an unknown SNI name', async () => {
      expect(await peerCertificate(ports.https(), 'unknown.test')).toBeInstanceOf(Error);
    });
  });
}
