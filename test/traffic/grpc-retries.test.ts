/**
 * gRPC retries through a real NGINX and a real HAProxy (docs/reference/route.md, "gRPC and HTTP/2",
 * retries): what both proxies can retry is a call whose connection to a task failed before the
 * request was sent (`retries.on: [error]`: NGINX grpc_next_upstream error, HAProxy retry-on
 * conn-failure); a task that is gone is then invisible to the client, for unary and streaming
 * calls. The same route without retries lets the client see UNAVAILABLE. Retrying on a gRPC status
 * (grpc-status in trailers after an HTTP 200) is possible on neither, and not offered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { echoClient, startGrpcEcho, type GrpcBackend } from '../helpers/grpc-echo';
import { freePorts } from '../helpers/nginx-process';
import { startProtocolProxy, type ProtocolProxy } from '../helpers/protocol-proxies';
import { cluster, route, snapshot, task } from '../helpers/specs';
import { selfSigned } from '../helpers/tls-material';

const CALLS = 40;

for (const kind of ['nginx', 'haproxy'] as const) {
  describe(`gRPC retries through ${kind}`, () => {
    let proxy: ProtocolProxy;
    let live: GrpcBackend;

    beforeAll(async () => {
      const [p = 0] = await freePorts(1);
      // Two tasks of one service: 127.0.6.21 serves, nothing listens on 127.0.6.22 (a task that just died).
      live = await startGrpcEcho('flaky@127.0.6.21', '127.0.6.21', p);
      // No passive health check: every call is balanced over both tasks, so the dead one is tried often.
      const backend = { service: 'flaky', port: p, protocol: 'grpc', passiveHealthCheck: { maxFails: 0, failTimeout: '1s' } };
      const routes = [
        route('retried', { hosts: ['retried.test'], rules: [{ match: { grpc: { service: 'sgtest.Echo' } }, backends: [backend], retries: { attempts: 3, on: ['error', 'timeout'] } }] }),
        route('once', { hosts: ['once.test'], rules: [{ match: { grpc: { service: 'sgtest.Echo' } }, backends: [backend], retries: { attempts: 1, on: ['error'] } }] }),
      ];
      const snap = snapshot({ services: [{ name: 'flaky', networks: ['app'] }], tasks: [task('flaky', '127.0.6.21'), task('flaky', '127.0.6.22')], networks: [{ name: 'app' }] });
      const cert = selfSigned('unused.test');
      proxy = await startProtocolProxy(cluster('default', { proxy: { kind, delivery: 'rolling', h2c: true } }), routes, snap, {}, cert);
    }, 30_000);

    afterAll(async () => {
      await proxy?.stop();
      await live?.close();
    });

    /** CALLS unary calls and CALLS/4 streams of 3 messages; how many failed, and the status codes seen. */
    async function calls(host: string): Promise<{ failed: number; codes: Set<number>; total: number }> {
      const client = echoClient(proxy.http, host);
      const codes = new Set<number>();
      let failed = 0;
      try {
        for (let i = 0; i < CALLS; i++)
          await client.say(`u${i}`).catch((e: { code?: number }) => {
            failed++;
            codes.add(e.code ?? -1);
          });
        for (let i = 0; i < CALLS / 4; i++) {
          const got = await client.count(`s${i}`, 3).catch((e: { code?: number }) => {
            codes.add(e.code ?? -1);
            return [];
          });
          if (got.length !== 3) failed++;
        }
      } finally {
        client.close();
      }
      return { failed, codes, total: CALLS + CALLS / 4 };
    }

    it('retries on a connection error: no unary or streaming call fails while one of two tasks is gone', async () => {
      const r = await calls('retried.test');
      expect(r.failed).toBe(0);
    });

    it('without retries the client sees the dead task as UNAVAILABLE (14)', async () => {
      const r = await calls('once.test');
      console.log(`${kind}: without retries ${r.failed} of ${r.total} gRPC calls failed (one of two tasks gone)`);
      expect(r.failed).toBeGreaterThan(0);
      expect([...r.codes]).toEqual([14]);
    });
  });
}
