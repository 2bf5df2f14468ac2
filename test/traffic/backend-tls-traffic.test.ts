/**
 * TLS to backends through a real NGINX and a real HAProxy (docs/reference/route.md,
 * `rules[].backends[].tls`): an https backend verified against the CA bundle of a Docker secret for
 * its server name, the same backend refused with a CA that did not sign it and with a name its
 * certificate does not carry (502 and a log line saying why), a backend that requires a client
 * certificate, and a grpcs backend verified the same way.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEchoTls, type Backend, type EchoReply } from '../helpers/echo-backends';
import { echoClient, startGrpcEcho, type GrpcBackend } from '../helpers/grpc-echo';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { startProtocolProxy, type ProtocolProxy } from '../helpers/protocol-proxies';
import { cluster, route, snapshot, task } from '../helpers/specs';
import { selfSigned, testCa, type KeyPair } from '../helpers/tls-material';

/** An https server that requires a client certificate from `ca` and answers with its subject CN. */
async function mtlsBackend(ip: string, port: number, server: KeyPair, ca: string): Promise<Backend> {
  const s: Server = createServer({ cert: server.cert, key: server.key, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    res.end(JSON.stringify({ service: 'mtls', client: peer.subject?.CN ?? '' }));
  });
  await new Promise<void>((resolve) => s.listen(port, ip, () => resolve()));
  return { ip, port: (s.address() as AddressInfo).port, close: () => new Promise<void>((r) => s.close(() => r())) };
}

for (const kind of ['nginx', 'haproxy'] as const) {
  describe(`backend TLS through ${kind}`, () => {
    let proxy: ProtocolProxy;
    const backends: (Backend | GrpcBackend)[] = [];
    const edge = selfSigned('edge.test', ['grpcs.test']);
    const ca = testCa('backend CA');
    const otherCa = testCa('another CA');

    beforeAll(async () => {
      const [pHttps = 0, pMtls = 0, pGrpcs = 0] = await freePorts(3);
      const serverCert = ca.issue(['backend.internal']);
      const clientCert = ca.issue(['swarmgate-proxy'], 'clientAuth');
      backends.push(
        await startEchoTls('secure', 'secure@127.0.7.1', '127.0.7.1', pHttps, serverCert.cert, serverCert.key),
        await mtlsBackend('127.0.7.2', pMtls, serverCert, ca.cert),
        await startGrpcEcho('grpcs@127.0.7.3', '127.0.7.3', pGrpcs, serverCert),
      );
      // Every https route sends to the same service and port, and 'good' goes first: its verified
      // keep-alive connection must never carry another route's request (each TLS profile is its own
      // upstream, with its own pool; docs/reference/route.md, "TLS to backends").
      const https = (name: string, tls: Record<string, unknown>) => route(name, { hosts: [`${name}.test`], rules: [{ backends: [{ service: 'secure', port: pHttps, protocol: 'https', tls }] }] });
      const routes = [
        https('good', { caSecret: 'backend-ca.pem', serverName: 'backend.internal' }),
        https('wrong-ca', { caSecret: 'other-ca.pem', serverName: 'backend.internal' }),
        https('wrong-name', { caSecret: 'backend-ca.pem', serverName: 'other.internal' }),
        https('unverified', {}),
        route('mtls', { hosts: ['mtls.test'], rules: [{ backends: [{ service: 'mtls', port: pMtls, protocol: 'https', tls: { caSecret: 'backend-ca.pem', serverName: 'backend.internal', clientCertificate: { certSecret: 'proxy-client.crt', keySecret: 'proxy-client.key' } } }] }] }),
        // The same service without the client certificate: neither a pooled connection nor a resumed session may skip the check.
        route('no-client-cert', { hosts: ['no-client-cert.test'], rules: [{ backends: [{ service: 'mtls', port: pMtls, protocol: 'https', tls: { caSecret: 'backend-ca.pem', serverName: 'backend.internal' } }] }] }),
        route('grpcs', {
          hosts: ['grpcs.test'],
          tls: { mode: 'Terminate', certificate: { certSecret: 'edge.crt', keySecret: 'edge.key' } },
          rules: [{ match: { grpc: { service: 'sgtest.Echo' } }, backends: [{ service: 'grpcs', port: pGrpcs, protocol: 'grpcs', tls: { caSecret: 'backend-ca.pem', serverName: 'backend.internal' } }] }],
        }),
      ];
      const secrets = { 'backend-ca.pem': ca.cert, 'other-ca.pem': otherCa.cert, 'proxy-client.crt': clientCert.cert, 'proxy-client.key': clientCert.key, 'edge.crt': edge.cert, 'edge.key': edge.key };
      const snap = snapshot({
        services: ['secure', 'mtls', 'grpcs'].map((name) => ({ name, networks: ['app'] })),
        tasks: [task('secure', '127.0.7.1'), task('mtls', '127.0.7.2'), task('grpcs', '127.0.7.3')],
        networks: [{ name: 'app' }],
        secrets: Object.keys(secrets).map((name) => ({ name })),
      });
      proxy = await startProtocolProxy(cluster('default', { proxy: { kind, delivery: 'rolling' } }), routes, snap, secrets, edge);
    }, 30_000);

    afterAll(async () => {
      await proxy?.stop();
      await Promise.all(backends.map((b) => b.close()));
    });

    const get = (host: string) => send({ port: proxy.http, host, path: '/' });
    /**
     * A refused backend certificate: NGINX answers 502; HAProxy counts the failed handshake as a
     * failed connection and answers 503 (docs/reference/route.md, "TLS to backends").
     */
    const refused = kind === 'nginx' ? 502 : 503;
    /** The proxy's log gets the line a little after the answer: wait for it. */
    const logLine = async (re: RegExp): Promise<string> => {
      for (let i = 0; i < 40 && !re.test(proxy.logs()); i++) await new Promise((r) => setTimeout(r, 50));
      return proxy.logs();
    };

    it('reaches an https backend verified against the CA secret for its server name', async () => {
      const r = await get('good.test');
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body) as EchoReply).service).toBe('secure');
    });

    it(`answers ${kind === 'nginx' ? 502 : 503} and logs why when the CA did not sign the backend certificate`, async () => {
      expect((await get('wrong-ca.test')).status).toBe(refused);
      const line = kind === 'nginx' ? /upstream SSL certificate verify error: \(\d+:unable to verify the first certificate\).*host: "wrong-ca\.test"/ : /be\.wrong-ca-r0\.\S+ is DOWN, reason: Health analyze, info: "Detected 1 consecutive errors, last one was: L4 unsuccessful connection"/;
      expect(await logLine(line)).toMatch(line);
    });

    it(`answers ${kind === 'nginx' ? 502 : 503} and logs why when the certificate does not carry the server name`, async () => {
      expect((await get('wrong-name.test')).status).toBe(refused);
      const line = kind === 'nginx' ? /upstream SSL certificate does not match "other\.internal"/ : /be\.wrong-name-r0\.\S+ is DOWN, reason: Health analyze, info: "Detected 1 consecutive errors, last one was: L4 unsuccessful connection"/;
      expect(await logLine(line)).toMatch(line);
    });

    it('encrypts without verifying when tls names no CA', async () => {
      expect((await get('unverified.test')).status).toBe(200);
    });

    it('presents the client certificate to a backend that requires one, and fails without it', async () => {
      const r = await get('mtls.test');
      expect(r.status).toBe(200);
      expect(JSON.parse(r.body)).toEqual({ service: 'mtls', client: 'swarmgate-proxy' });
      // The backend refuses after the handshake (TLS 1.3): a broken response (502), or with HAProxy a
      // server its check has already marked down (503).
      expect(kind === 'nginx' ? [502] : [502, 503]).toContain((await get('no-client-cert.test')).status);
    });

    it('calls a grpcs backend verified against the CA', async () => {
      const client = echoClient(proxy.https, 'grpcs.test', edge.cert);
      try {
        expect(await client.say('tls')).toMatchObject({ text: 'tls', backend: 'grpcs@127.0.7.3' });
      } finally {
        client.close();
      }
    });
  });
}
