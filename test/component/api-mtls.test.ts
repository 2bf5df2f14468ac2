/**
 * Mutual TLS on the core's gRPC API, over a real socket: a component with an identity issued from
 * the install's CA gets in; plaintext clients, TLS clients without a certificate and clients with a
 * certificate from another CA are refused. No key material appears in any error.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreClient } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { clientCredentials, generateTlsMaterial, serverCredentials, type TlsMaterial } from '../../src/api/tls';
import { writeComponentDir, writeCoreDir } from '../helpers/identity-tls';

let api: CoreApi;
let socket: string;
let dir: string;
let material: TlsMaterial;
const plane = new ControlPlane();

/** The core's files and an edge agent's identity, both in `d` (the test's clients read it as their TLS dir). */
function writeSet(d: string, m: TlsMaterial): string {
  writeCoreDir(d, m);
  writeComponentDir(d, m, { role: 'agent', cluster: 'edge' });
  return d;
}

function report(creds: grpc.ChannelCredentials): Promise<grpc.ServiceError | null> {
  const client = coreClient(socket, creds);
  return new Promise((resolve) =>
    client.ReportProxyState({ cluster: 'edge', replicaId: 'r1', appliedHash: 'h' }, { deadline: new Date(Date.now() + 3000) }, (err) => {
      client.close();
      resolve(err);
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-mtls-'));
  material = generateTlsMaterial(1);
  writeSet(join(dir, 'ours'), material);
  socket = `unix://${dir}/core.sock`;
  plane.setProxyReplicas(new Map([['r1', 'edge']]));
  api = await startCoreApi({ plane, listen: socket, credentials: serverCredentials(join(dir, 'ours')), log: pino({ level: 'silent' }) });
}, 30_000);
afterAll(() => api.close());

describe('mutual TLS', () => {
  it('lets a component with an identity from our CA in', async () => {
    expect(await report(clientCredentials(join(dir, 'ours')))).toBeNull();
    expect(plane.reportsOf('edge').map((r) => r.replicaId)).toEqual(['r1']);
  });

  it('refuses plaintext, certificate-less and foreign-CA clients, without leaking key material', async () => {
    const other = writeSet(join(dir, 'other'), generateTlsMaterial(1));
    const errors = [
      await report(grpc.credentials.createInsecure()),
      await report(grpc.credentials.createSsl(Buffer.from(material.ca))),
      await report(clientCredentials(other)),
    ];
    for (const e of errors) {
      expect(e?.code).toBe(grpc.status.UNAVAILABLE);
      expect(`${e?.message ?? ''} ${e?.details ?? ''}`).not.toContain('-----BEGIN');
    }
  });

  it('names the missing file, not its content, when a secret is not mounted', () => {
    expect(() => clientCredentials(join(dir, 'nowhere'))).toThrow(/cannot read .*ca\.crt .*is the TLS secret mounted/);
  });
});
