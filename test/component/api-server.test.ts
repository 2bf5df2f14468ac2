/** The core's gRPC server over a socket: health, argument checks, and WatchStatus. */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreClient, resubscribe } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';

const quiet = pino({ level: 'silent' });
let api: CoreApi;
let socket: string;
let plane: ControlPlane;

beforeEach(async () => {
  plane = new ControlPlane();
  socket = `unix://${mkdtempSync(join(tmpdir(), 'sg-api-'))}/core.sock`;
  api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log: quiet });
});
afterEach(() => api.close());

describe('core gRPC server', () => {
  it('answers grpc.health.v1 with SERVING', async () => {
    const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(protoPath, { enums: String })) as unknown as { grpc: { health: { v1: { Health: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { check: (r: object, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void) => void } } } } };
    const health = new pkg.grpc.health.v1.Health(socket, grpc.credentials.createInsecure());
    const reply = await new Promise<{ status: string } | undefined>((resolve, reject) => health.check({ service: 'swarmgate.v1.Core' }, (e, r) => (e !== null ? reject(e) : resolve(r))));
    expect(reply?.status).toBe('SERVING');
    health.close();
  });

  it('rejects a stream for an invalid cluster name with INVALID_ARGUMENT', async () => {
    const client = coreClient(socket, grpc.credentials.createInsecure());
    const err = await new Promise<grpc.ServiceError>((resolve) => {
      const s = client.WatchProxyConfig({ cluster: 'Not A Name', replicaId: 'x' });
      s.on('error', resolve);
      s.on('data', () => undefined);
    });
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('cluster');
    client.close();
  });

  it('hands a slow subscriber only the latest of a burst (full-state messages, latest wins)', async () => {
    const client = coreClient(socket, grpc.credentials.createInsecure());
    const seen: string[] = [];
    const handle = resubscribe(
      () => client.WatchProxyConfig({ cluster: 'edge', replicaId: 'r1' }),
      async (m: { files: { content: Buffer }[] }) => {
        seen.push(m.files[0]?.content.toString() ?? '');
        await new Promise((r) => setTimeout(r, 300));
      },
      { log: quiet, what: 'test' },
    );
    plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from('v0') }]);
    await new Promise((r) => setTimeout(r, 100));
    for (let i = 1; i <= 5; i++) plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(`v${i}`) }]);
    await new Promise((r) => setTimeout(r, 1000));
    handle.stop();
    client.close();
    expect(seen).toEqual(['v0', 'v5']);
  });

  it('streams the current status on subscription, filtered by kind and name', async () => {
    plane.publishStatus([
      { kind: 'Route', name: 'a', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: 'ok' }] },
      { kind: 'Route', name: 'b', conditions: [] },
      { kind: 'ServiceCluster', name: 'a', conditions: [] },
    ]);
    const client = coreClient(socket, grpc.credentials.createInsecure());
    const first = await new Promise<{ objects: { kind: string; name: string }[] }>((resolve) => {
      const s = client.WatchStatus({ kind: 'Route', name: 'a' });
      s.once('data', (m: { objects: { kind: string; name: string }[] }) => {
        resolve(m);
        s.cancel();
      });
      s.on('error', () => undefined);
    });
    expect(first.objects.map((o) => `${o.kind}/${o.name}`)).toEqual(['Route/a']);
    client.close();
  });
});
