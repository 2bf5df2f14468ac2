/**
 * Authorisation on the core's gRPC API (ADR 0012), over a real socket with real certificates issued
 * from the install's CA exactly as the core issues them: every role × every call × own / other
 * cluster. Allowed calls get their answer (a stream its first message); refused ones get
 * PERMISSION_DENIED and the core logs who tried what.
 */
import * as grpc from '@grpc/grpc-js';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreClient } from '../../src/api/client';

type CoreClient = ReturnType<typeof coreClient>;
import { ControlPlane } from '../../src/api/control-plane';
import { peerIp, startCoreApi, type CoreApi } from '../../src/api/server';
import { clientCredentials, generateTlsMaterial, serverCredentials, type TlsMaterial } from '../../src/api/tls';
import type { Identity } from '../../src/domain/identity';
import { writeComponentDir, writeCoreDir, writePair } from '../helpers/identity-tls';

type Call = 'WatchUpstreams' | 'SubmitConfig' | 'WatchProxyConfig' | 'ReportProxyState' | 'WatchStatus';
const CALLS: readonly Call[] = ['WatchUpstreams', 'SubmitConfig', 'WatchProxyConfig', 'ReportProxyState', 'WatchStatus'];
const MODEL_HASH = 'a'.repeat(64);

let api: CoreApi;
let socket: string;
let dir: string;
let material: TlsMaterial;
const plane = new ControlPlane();
const logLines: string[] = [];
const log = pino({ level: 'warn' }, new Writable({ write: (chunk: Buffer, _enc, done) => { logLines.push(chunk.toString()); done(); } }));
const fingerprints = new Map<string, string>();
const dirs = new Map<string, string>();

function label(id: Identity): string {
  return 'cluster' in id ? `${id.role}/${id.cluster}` : id.role;
}

function client(id: Identity): CoreClient {
  return coreClient(socket, clientCredentials(dirs.get(label(id)) ?? ''));
}

/** 'ok', or the gRPC status code name of the refusal. */
async function attempt(c: CoreClient, call: Call, cluster: string, replicaId: string): Promise<string> {
  const deadline = new Date(Date.now() + 5000);
  const unary = (err: grpc.ServiceError | null): string => (err === null ? 'ok' : grpc.status[err.code]);
  const stream = (s: grpc.ClientReadableStream<unknown>): Promise<string> =>
    new Promise((resolve) => {
      s.on('data', () => {
        resolve('ok');
        s.cancel();
      });
      s.on('error', (e: grpc.ServiceError) => resolve(grpc.status[e.code]));
    });
  try {
    switch (call) {
      case 'WatchUpstreams':
        return await stream(c.WatchUpstreams({ cluster }, { deadline }));
      case 'WatchProxyConfig':
        return await stream(c.WatchProxyConfig({ cluster, replicaId }, { deadline }));
      case 'WatchStatus':
        return await stream(c.WatchStatus({}, { deadline }));
      case 'SubmitConfig':
        return await new Promise((resolve) => c.SubmitConfig({ cluster, modelHash: MODEL_HASH, proxyKind: 'nginx', files: [{ path: 'nginx.conf', content: Buffer.from('events {}\n') }], validation: { ok: true, output: '' } }, { deadline }, (e: grpc.ServiceError | null) => resolve(unary(e))));
      case 'ReportProxyState':
        return await new Promise((resolve) => c.ReportProxyState({ cluster, replicaId, appliedHash: 'h' }, { deadline }, (e: grpc.ServiceError | null) => resolve(unary(e))));
    }
  } finally {
    c.close();
  }
}

/** What each identity may do for cluster edge, replica r-edge (a task of edge's proxy service). */
const ALLOWED: ReadonlyArray<readonly [Identity, readonly Call[]]> = [
  [{ role: 'agent', cluster: 'edge' }, ['WatchProxyConfig', 'ReportProxyState']],
  [{ role: 'extension', cluster: 'edge' }, ['WatchUpstreams', 'SubmitConfig']],
  [{ role: 'agent', cluster: 'other' }, []],
  [{ role: 'extension', cluster: 'other' }, []],
  [{ role: 'reader' }, ['WatchStatus']],
];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-authz-'));
  material = generateTlsMaterial(1);
  writeCoreDir(join(dir, 'core'), material);
  for (const [id] of ALLOWED) {
    const { dir: d, issued } = writeComponentDir(join(dir, label(id)), material, id);
    dirs.set(label(id), d);
    fingerprints.set(label(id), issued.fingerprint);
  }
  plane.setCurrentIdentities(fingerprints.values());
  plane.setProxyReplicas(new Map([['r-edge', 'edge'], ['r-other', 'other']]));
  for (const c of ['edge', 'other']) {
    plane.publishModel(c, MODEL_HASH, '{}');
    plane.deliver(c, 'nginx', [{ path: 'nginx.conf', content: Buffer.from('events {}\n') }]);
  }
  plane.publishStatus([]);
  socket = `unix://${dir}/core.sock`;
  api = await startCoreApi({ plane, listen: socket, credentials: serverCredentials(join(dir, 'core')), log });
}, 60_000);
afterAll(() => api.close());

describe('authorisation: each role × each call for cluster edge', () => {
  for (const [id, allowed] of ALLOWED) {
    for (const call of CALLS) {
      const expected = allowed.includes(call) ? 'ok' : 'PERMISSION_DENIED';
      it(`${label(id)} ${call} → ${expected}`, async () => {
        expect(await attempt(client(id), call, 'edge', 'r-edge')).toBe(expected);
      });
    }
  }

  it('logs the identity and the call of every refusal', async () => {
    logLines.length = 0;
    expect(await attempt(client({ role: 'agent', cluster: 'other' }), 'ReportProxyState', 'edge', 'r-edge')).toBe('PERMISSION_DENIED');
    const line = JSON.parse(logLines.find((l) => l.includes('permission denied')) ?? '{}') as Record<string, unknown>;
    expect(line).toMatchObject({ identity: 'agent of cluster other', call: 'ReportProxyState', cluster: 'edge', replicaId: 'r-edge' });
    expect(logLines.join('')).not.toContain('-----BEGIN');
  });
});

describe('authorisation: own cluster, other replicas, revoked and unnamed certificates', () => {
  it('lets an agent report only for tasks of its own cluster\'s proxy service', async () => {
    const edge: Identity = { role: 'agent', cluster: 'edge' };
    expect(await attempt(client(edge), 'ReportProxyState', 'edge', 'r-edge')).toBe('ok');
    expect(await attempt(client(edge), 'ReportProxyState', 'edge', 'r-other')).toBe('PERMISSION_DENIED');
    expect(await attempt(client(edge), 'ReportProxyState', 'edge', 'r-unknown')).toBe('PERMISSION_DENIED');
    expect(await attempt(client(edge), 'ReportProxyState', 'other', 'r-other')).toBe('PERMISSION_DENIED');
    expect(plane.reportsOf('other')).toEqual([]);
  });

  it('gives each component its own cluster: the other cluster\'s agent and extension work for theirs', async () => {
    expect(await attempt(client({ role: 'agent', cluster: 'other' }), 'WatchProxyConfig', 'other', 'r-other')).toBe('ok');
    expect(await attempt(client({ role: 'agent', cluster: 'other' }), 'ReportProxyState', 'other', 'r-other')).toBe('ok');
    expect(await attempt(client({ role: 'extension', cluster: 'other' }), 'WatchUpstreams', 'other', '')).toBe('ok');
    expect(await attempt(client({ role: 'extension', cluster: 'other' }), 'SubmitConfig', 'other', '')).toBe('ok');
  });

  it('refuses a revoked identity (its cluster removed) on every call, although its certificate is still valid', async () => {
    const edge: Identity = { role: 'agent', cluster: 'edge' };
    plane.setCurrentIdentities([...fingerprints].filter(([k]) => k !== 'agent/edge').map(([, v]) => v));
    try {
      expect(await attempt(client(edge), 'WatchProxyConfig', 'edge', 'r-edge')).toBe('PERMISSION_DENIED');
      expect(await attempt(client(edge), 'ReportProxyState', 'edge', 'r-edge')).toBe('PERMISSION_DENIED');
    } finally {
      plane.setCurrentIdentities(fingerprints.values());
    }
  });

  it('refuses certificates from our CA that name no swarmgate identity, even when listed as current', async () => {
    // The shape every component shared before ADR 0012 (CN only), and an identity URI with a role we do not know.
    for (const [name, ext] of [['cn-only', 'extendedKeyUsage=clientAuth\n'], ['unknown-role', 'subjectAltName=URI:spiffe://swarmgate/admin/edge\nextendedKeyUsage=clientAuth\n']] as const) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      writeFileSync(join(d, 'ca.crt'), material.ca);
      writeFileSync(join(d, 'ca.key'), material.caKey);
      writeFileSync(join(d, 'ext'), ext);
      const run = (args: string[]): void => void execFileSync('openssl', args, { cwd: d, stdio: 'ignore' });
      run(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=swarmgate-component', '-keyout', 'k.pem', '-out', 'c.csr']);
      run(['x509', '-req', '-in', 'c.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'c.pem', '-extfile', 'ext']);
      const cert = readFileSync(join(d, 'c.pem'), 'utf8');
      writePair(d, material.ca, cert, readFileSync(join(d, 'k.pem'), 'utf8'));
      // Not refused for being unknown to the allow-list: for naming no identity.
      plane.addCurrentIdentity(new X509Certificate(cert).fingerprint256);
      logLines.length = 0;
      expect(await attempt(coreClient(socket, clientCredentials(d)), 'ReportProxyState', 'edge', 'r-edge')).toBe('PERMISSION_DENIED');
      expect(logLines.join('')).toContain('names no swarmgate identity');
    }
  });
});

describe('authorisation: a report is bound to the address of the replica that sends it', () => {
  it('reads the peer\'s IP address from grpc-js\' peer string', () => {
    expect(peerIp('10.0.1.5:43210')).toBe('10.0.1.5');
    expect(peerIp('::ffff:10.0.1.5:43210')).toBe('10.0.1.5');
    expect(peerIp('fd00::5:43210')).toBe('fd00::5');
    expect(peerIp('/tmp/core.sock')).toBeUndefined();
    expect(peerIp('')).toBeUndefined();
  });

  it('over TCP, accepts an agent\'s report only from an address of that replica\'s task', async () => {
    const tcp = await startCoreApi({ plane, listen: '127.0.0.1:0', credentials: serverCredentials(join(dir, 'core')), log });
    const saved = socket;
    try {
      socket = `127.0.0.1:${tcp.port}`;
      plane.setProxyReplicas(new Map([['r-edge', 'edge'], ['r-edge-2', 'edge']]), new Map([['r-edge', ['10.0.9.3', '127.0.0.1']], ['r-edge-2', ['10.0.9.4']]]));
      const edge: Identity = { role: 'agent', cluster: 'edge' };
      expect(await attempt(client(edge), 'ReportProxyState', 'edge', 'r-edge')).toBe('ok');
      // Another replica of the same cluster, same certificate: its task has another address.
      logLines.length = 0;
      expect(await attempt(client(edge), 'ReportProxyState', 'edge', 'r-edge-2')).toBe('PERMISSION_DENIED');
      expect(logLines.join('')).toContain('not from an address of replica r-edge-2');
    } finally {
      socket = saved;
      plane.setProxyReplicas(new Map([['r-edge', 'edge'], ['r-other', 'other']]));
      await tcp.close();
    }
  });
});
