/**
 * Client certificates at the edge through a real NGINX and a real HAProxy (docs/reference/route.md,
 * "Client certificates"): a host that requires a certificate from a CA secret with a CRL, a host
 * that only asks for one, and a host without a policy sharing the same server certificate. Each
 * case: no certificate, a valid one, one from another CA, one revoked by the CRL; the headers the
 * backend gets (and that a client cannot forge); plain HTTP; and a request for a client-certificate
 * host on a connection whose SNI chose another host, over HTTP/1.1 and HTTP/2 (connection
 * coalescing), answered 421.
 */
import { X509Certificate } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { send, type Reply } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startProtocolProxy, type ProtocolProxy } from '../helpers/protocol-proxies';
import { cluster, route, snapshot, task } from '../helpers/specs';
import { selfSigned, testCa, type KeyPair } from '../helpers/tls-material';

interface Call {
  readonly sni: string;
  readonly host?: string;
  readonly client?: KeyPair;
  readonly headers?: Record<string, string>;
}

/** One HTTPS/1.1 request on a new connection, with this SNI name, Host header and client certificate. */
function call(port: number, c: Call): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: c.sni,
        headers: { host: c.host ?? c.sni, ...c.headers },
        agent: false,
        rejectUnauthorized: false,
        ...(c.client !== undefined ? { cert: c.client.cert, key: c.client.key } : {}),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** HTTP/2 requests for `authorities` on one connection opened with SNI `sni` (what a browser does when it coalesces). */
async function h2OnOneConnection(port: number, sni: string, authorities: readonly string[], client?: KeyPair): Promise<{ authority: string; status: number; body: string }[]> {
  const session = h2connect(`https://${sni}:${port}`, {
    host: '127.0.0.1',
    servername: sni,
    rejectUnauthorized: false,
    ...(client !== undefined ? { cert: client.cert, key: client.key } : {}),
  });
  try {
    const out: { authority: string; status: number; body: string }[] = [];
    for (const authority of authorities) {
      out.push(
        await new Promise((resolve, reject) => {
          const stream = session.request({ ':path': '/', ':authority': authority });
          let status = 0;
          let body = '';
          stream.setEncoding('utf8');
          stream.on('response', (h) => (status = Number(h[':status'])));
          stream.on('data', (d: string) => (body += d));
          stream.on('end', () => resolve({ authority, status, body }));
          stream.on('error', reject);
          stream.end();
        }),
      );
    }
    return out;
  } finally {
    session.close();
  }
}

const fingerprint = (pair: KeyPair): string => new X509Certificate(pair.cert).fingerprint.replace(/:/g, '').toLowerCase();

for (const kind of ['nginx', 'haproxy'] as const) {
  describe(`client certificates through ${kind}`, () => {
    let proxy: ProtocolProxy;
    let backend: Backend;
    const edge = selfSigned('admin.test', ['admin.test', 'portal.test', 'www.test']);
    const clients = testCa('clients CA');
    const otherCa = testCa('another CA');
    const alice = clients.issue(['alice'], 'clientAuth');
    const mallory = clients.issue(['mallory'], 'clientAuth');
    const stranger = otherCa.issue(['stranger'], 'clientAuth');

    beforeAll(async () => {
      const [port = 0] = await freePorts(1);
      backend = await startEcho('app', 'app@127.0.8.1', '127.0.8.1', port);
      const cert = { certSecret: 'edge.crt', keySecret: 'edge.key' };
      const backends = [{ service: 'app', port }];
      const routes = [
        route('admin', { hosts: ['admin.test'], tls: { mode: 'Terminate', certificate: cert, clientCertificate: { caSecret: 'clients-ca.pem', crlSecret: 'clients.crl' } }, rules: [{ backends }] }),
        route('portal', { hosts: ['portal.test'], tls: { mode: 'Terminate', certificate: cert, clientCertificate: { mode: 'Request', caSecret: 'clients-ca.pem' } }, rules: [{ backends }] }),
        route('www', { hosts: ['www.test'], tls: { mode: 'Terminate', certificate: cert }, rules: [{ backends }] }),
      ];
      const secrets = { 'edge.crt': edge.cert, 'edge.key': edge.key, 'clients-ca.pem': clients.cert, 'clients.crl': clients.crl([mallory]) };
      const snap = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', '127.0.8.1')], networks: [{ name: 'app' }], secrets: Object.keys(secrets).map((name) => ({ name })) });
      proxy = await startProtocolProxy(cluster('default', { proxy: { kind, delivery: 'rolling' } }), routes, snap, secrets, edge);
    }, 30_000);

    afterAll(async () => {
      await proxy?.stop();
      await backend?.close();
    });

    const echoed = (r: Reply): EchoReply['headers'] => (JSON.parse(r.body) as EchoReply).headers;

    it('requires a certificate: none → 400 "No required SSL certificate was sent"', async () => {
      const r = await call(proxy.https, { sni: 'admin.test' });
      expect(r.status).toBe(400);
      expect(r.body).toContain('No required SSL certificate was sent');
    });

    it('passes a verified certificate, with its result, subject, issuer and fingerprint, and drops forged headers', async () => {
      const r = await call(proxy.https, { sni: 'admin.test', client: alice, headers: { 'X-Client-Cert-Subject': 'CN=admin', 'X-Client-Cert-Verify': 'SUCCESS' } });
      expect(r.status).toBe(200);
      expect(echoed(r)).toMatchObject({
        'x-client-cert-verify': 'SUCCESS',
        'x-client-cert-subject': 'CN=alice',
        'x-client-cert-issuer': 'CN=clients CA',
        'x-client-cert-fingerprint': fingerprint(alice),
      });
    });

    it('refuses a certificate from another CA: 400 "The SSL certificate error"', async () => {
      const r = await call(proxy.https, { sni: 'admin.test', client: stranger });
      expect(r.status).toBe(400);
      expect(r.body).toContain('The SSL certificate error');
    });

    it('refuses a certificate the CRL revokes: 400 "The SSL certificate error"', async () => {
      const r = await call(proxy.https, { sni: 'admin.test', client: mallory });
      expect(r.status).toBe(400);
      expect(r.body).toContain('The SSL certificate error');
    });

    it('refuses plain HTTP to a host that requires a certificate: 403', async () => {
      const r = await send({ port: proxy.http, host: 'admin.test', headers: { 'X-Client-Cert-Verify': 'SUCCESS' } });
      expect(r.status).toBe(403);
      expect(r.body).toContain('client certificate required: use https');
    });

    it('Request mode: no certificate passes with Verify NONE and no forged subject; a valid one passes; a foreign one is refused', async () => {
      const none = await call(proxy.https, { sni: 'portal.test', headers: { 'X-Client-Cert-Subject': 'CN=admin' } });
      expect(none.status).toBe(200);
      expect(echoed(none)['x-client-cert-verify']).toBe('NONE');
      expect(echoed(none)['x-client-cert-subject']).toBeUndefined();
      const valid = await call(proxy.https, { sni: 'portal.test', client: alice });
      expect(echoed(valid)).toMatchObject({ 'x-client-cert-verify': 'SUCCESS', 'x-client-cert-subject': 'CN=alice' });
      expect((await call(proxy.https, { sni: 'portal.test', client: stranger })).status).toBe(400);
    });

    it('leaves a host without a policy alone: no certificate asked, no headers', async () => {
      const r = await call(proxy.https, { sni: 'www.test' });
      expect(r.status).toBe(200);
      expect(echoed(r)['x-client-cert-verify']).toBeUndefined();
    });

    it('answers 421 for a client-certificate host on a connection whose SNI chose another host (HTTP/1.1)', async () => {
      // The www connection asked for no certificate; admin's policy must not be bypassed through it.
      expect((await call(proxy.https, { sni: 'www.test', host: 'admin.test', client: alice })).status).toBe(421);
      // A certificate verified for admin does not satisfy portal's check on admin's connection either.
      expect((await call(proxy.https, { sni: 'admin.test', host: 'portal.test', client: alice })).status).toBe(421);
    });

    it('answers 421 to the coalesced HTTP/2 request, and serves each host on its own connection', async () => {
      const coalesced = await h2OnOneConnection(proxy.https, 'www.test', ['www.test', 'admin.test']);
      expect(coalesced.map((r) => [r.authority, r.status])).toEqual([
        ['www.test', 200],
        ['admin.test', 421],
      ]);
      const own = await h2OnOneConnection(proxy.https, 'admin.test', ['admin.test'], alice);
      expect(own[0]?.status).toBe(200);
      expect(JSON.parse(own[0]?.body ?? '{}')).toMatchObject({ headers: { 'x-client-cert-subject': 'CN=alice' } });
    });
  });
}
