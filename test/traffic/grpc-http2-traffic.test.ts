/**
 * HTTP/2 and gRPC through a real NGINX and a real HAProxy running the rendered configuration
 * (docs/reference/route.md, "gRPC"; docs/reference/service-cluster.md, proxy.h2c): curl negotiates
 * h2 by ALPN on the TLS listener behind the SNI router and the client address still arrives
 * (PROXY protocol); real @grpc/grpc-js clients and servers make unary and server-streaming calls,
 * matched by gRPC service and method, over TLS and over h2c, and a 90/10 split holds.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEcho, type Backend, type EchoReply } from '../helpers/echo-backends';
import { echoClient, startGrpcEcho, type GrpcBackend } from '../helpers/grpc-echo';
import { freePorts } from '../helpers/nginx-process';
import { startProtocolProxy, type ProtocolProxy } from '../helpers/protocol-proxies';
import { cluster, route, snapshot, task } from '../helpers/specs';
import { selfSigned, type KeyPair } from '../helpers/tls-material';

const run = promisify(execFile);

const CALLS = 400;

for (const kind of ['nginx', 'haproxy'] as const) {
  describe(`HTTP/2 and gRPC through ${kind}`, () => {
    let proxy: ProtocolProxy;
    let cert: KeyPair;
    const backends: (Backend | GrpcBackend)[] = [];

    beforeAll(async () => {
      const [pWeb = 0, pGrpc = 0] = await freePorts(2);
      cert = selfSigned('grpc.test', ['grpc.test', 'web.test']);
      backends.push(
        await startEcho('web', 'web@127.0.6.1', '127.0.6.1', pWeb),
        await startGrpcEcho('v1@127.0.6.11', '127.0.6.11', pGrpc),
        await startGrpcEcho('v2@127.0.6.12', '127.0.6.12', pGrpc),
        await startGrpcEcho('stream@127.0.6.13', '127.0.6.13', pGrpc),
      );
      const tls = { mode: 'Terminate', certificate: { certSecret: 'proto.crt', keySecret: 'proto.key' } };
      const routes = [
        route('web', { hosts: ['web.test'], tls, rules: [{ backends: [{ service: 'web', port: pWeb }] }] }),
        route('grpc', {
          hosts: ['grpc.test'],
          tls,
          rules: [
            { match: { grpc: { service: 'sgtest.Echo' } }, backends: [{ service: 'v1', port: pGrpc, protocol: 'grpc', weight: 90 }, { service: 'v2', port: pGrpc, protocol: 'grpc', weight: 10 }] },
            { match: { grpc: { service: 'sgtest.Echo', method: 'Count' } }, backends: [{ service: 'stream', port: pGrpc, protocol: 'grpc' }] },
          ],
        }),
      ];
      const snap = snapshot({
        services: ['web', 'v1', 'v2', 'stream'].map((name) => ({ name, networks: ['app'] })),
        tasks: [task('web', '127.0.6.1'), task('v1', '127.0.6.11'), task('v2', '127.0.6.12'), task('stream', '127.0.6.13')],
        networks: [{ name: 'app' }],
        secrets: [{ name: 'proto.crt' }, { name: 'proto.key' }],
      });
      // Short HTTP defaults: a gRPC rule must not inherit them (streams may be quiet for long).
      const c = cluster('default', { proxy: { kind, delivery: 'rolling', h2c: true }, defaults: { timeouts: { read: '1s', send: '1s' } } });
      proxy = await startProtocolProxy(c, routes, snap, { 'proto.crt': cert.cert, 'proto.key': cert.key }, cert);
    }, 30_000);

    afterAll(async () => {
      await proxy?.stop();
      await Promise.all(backends.map((b) => b.close()));
    });

    it('accepts both routes', () => {
      for (const name of ['Route/web', 'Route/grpc']) expect(proxy.result.conditions[name]?.find((c) => c.type === 'Accepted')?.status).toBe('True');
    });

    it('negotiates h2 by ALPN on the TLS port and still sees the client address (PROXY protocol)', async () => {
      const { stdout } = await run('curl', ['-sk', '--http2', '--interface', '127.0.0.7', '--resolve', `web.test:${proxy.https}:127.0.0.1`, '-w', '\n%{http_version}', `https://web.test:${proxy.https}/h2`]);
      const [body = '', version] = stdout.split('\n');
      expect(version).toBe('2');
      const echo = JSON.parse(body) as EchoReply;
      expect(echo.service).toBe('web');
      expect(echo.headers['x-real-ip']).toBe('127.0.0.7');
    });

    it('keeps HTTP/1.1 for clients that offer only it', async () => {
      const { stdout } = await run('curl', ['-sk', '--http1.1', '--resolve', `web.test:${proxy.https}:127.0.0.1`, '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `https://web.test:${proxy.https}/`]);
      expect(stdout).toBe('1.1 200');
    });

    it('speaks h2c (prior knowledge) on the plain port with proxy.h2c', async () => {
      const { stdout } = await run('curl', ['-s', '--http2-prior-knowledge', '-H', 'Host: web.test', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', `http://127.0.0.1:${proxy.http}/`]);
      expect(stdout).toBe('2 200');
    });

    it('routes a unary call by gRPC service over TLS, with the client address forwarded', async () => {
      const client = echoClient(proxy.https, 'grpc.test', cert.cert);
      try {
        const reply = await client.say('hello');
        expect(reply.text).toBe('hello');
        expect(reply.backend).toMatch(/^v[12]@/);
        expect(reply.forwarded_for).toContain('127.0.0.1');
      } finally {
        client.close();
      }
    });

    it('routes the streaming method by its exact match, every message in order', async () => {
      const client = echoClient(proxy.https, 'grpc.test', cert.cert);
      try {
        const replies = await client.count('n', 25);
        expect(replies.map((r) => r.text)).toEqual(Array.from({ length: 25 }, (_, i) => `n ${i + 1}`));
        expect(new Set(replies.map((r) => r.backend))).toEqual(new Set(['stream@127.0.6.13']));
      } finally {
        client.close();
      }
    });

    it('keeps a server stream open across quiet gaps longer than the cluster\'s 1s HTTP timeouts', async () => {
      const client = echoClient(proxy.https, 'grpc.test', cert.cert);
      try {
        const replies = await client.count('slow', 2, 1500);
        expect(replies.map((r) => r.text)).toEqual(['slow 1', 'slow 2']);
      } finally {
        client.close();
      }
    }, 15_000);

    it('serves gRPC over h2c on the plain port', async () => {
      const client = echoClient(proxy.http, 'grpc.test');
      try {
        expect((await client.say('plain')).text).toBe('plain');
        expect((await client.count('p', 3)).map((r) => r.backend)).toEqual(['stream@127.0.6.13', 'stream@127.0.6.13', 'stream@127.0.6.13']);
      } finally {
        client.close();
      }
    });

    it(`splits ${CALLS} unary calls 90/10 across two backend services`, async () => {
      const client = echoClient(proxy.https, 'grpc.test', cert.cert);
      try {
        const counts = new Map<string, number>();
        for (let i = 0; i < CALLS; i += 20) {
          const replies = await Promise.all(Array.from({ length: 20 }, () => client.say('s')));
          for (const r of replies) counts.set(r.backend, (counts.get(r.backend) ?? 0) + 1);
        }
        const v2 = counts.get('v2@127.0.6.12') ?? 0;
        expect((counts.get('v1@127.0.6.11') ?? 0) + v2).toBe(CALLS);
        // 10% of 400 is 40 (binomial sd 6): 20..60 fails a broken split, not an honest one.
        expect(v2).toBeGreaterThanOrEqual(20);
        expect(v2).toBeLessThanOrEqual(60);
      } finally {
        client.close();
      }
    }, 30_000);
  });
}
