/**
 * Hitless credential rotation over real gRPC with real certificates (ADR 0019): a core rotated from
 * set O to set N trusts both CAs and sends N's CA cross-signed by O after its server certificate.
 * An agent that still has O's mounted identity verifies the core, is handed its N identity on its
 * stream, and reconnects with it (the same code path as the proxy agent: AgentCredentials,
 * coreConnection, resubscribe); a task that mounts N connects directly; an identity the core no
 * longer accepts is dropped for the other pair.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, existsSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreClient, coreConnection, resubscribe } from '../../src/api/client';
import { ControlPlane } from '../../src/api/control-plane';
import type { ProxyConfig__Output } from '../../src/api/generated/swarmgate/v1/ProxyConfig';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { clientCredentials, crossSign, generateTlsMaterial, issueIdentity, serverCredentials, type IssuedIdentity, type TlsMaterial } from '../../src/api/tls';
import { AgentCredentials } from '../../src/agent/agent-identity';
import { IdentityDesk } from '../../src/core/identities';
import { identityKey } from '../../src/plan/identity-secrets';
import { writeComponentDir, writeCoreDir } from '../helpers/identity-tls';
import { pollUntil as until } from '../helpers/poll';

const log = pino({ level: 'silent' });
let dir: string;
let api: CoreApi;
let socket: string;
let oldSet: TlsMaterial;
let newSet: TlsMaterial;
let current: IssuedIdentity;
const plane = new ControlPlane();
const oldAgent = { dir: '', fingerprint: '' };

/** The first message of a WatchProxyConfig stream opened with `creds`, or the gRPC status name of its failure. */
function firstMessage(creds: grpc.ChannelCredentials): Promise<ProxyConfig__Output | string> {
  const c = coreClient(socket, creds);
  return new Promise((resolve) => {
    const s = c.WatchProxyConfig({ cluster: 'edge', replicaId: 'r1' }, { deadline: new Date(Date.now() + 5000) });
    s.on('data', (m: ProxyConfig__Output) => {
      resolve(m);
      s.cancel();
      c.close();
    });
    s.on('error', (e: grpc.ServiceError) => {
      resolve(grpc.status[e.code]);
      c.close();
    });
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sg-rotate-'));
  oldSet = generateTlsMaterial(1);
  newSet = generateTlsMaterial(1);
  writeCoreDir(join(dir, 'core'), newSet);
  const o = writeComponentDir(join(dir, 'agent-old'), oldSet, { role: 'agent', cluster: 'edge' });
  oldAgent.dir = o.dir;
  oldAgent.fingerprint = o.issued.fingerprint;
  // The core's first run after the rotation: the cluster's N identity issued (and held), O's accepted while mounted.
  const authority = { ca: { cert: newSet.ca, key: newSet.caKey }, set: 'n', previousSet: 'o' };
  const desk = new IdentityDesk(authority, plane, log);
  current = issueIdentity(authority.ca, { role: 'agent', cluster: 'edge' }, 1);
  desk.remember(identityKey('n', 'agent', 'edge'), current);
  desk.setCurrent(new Map([[identityKey('n', 'agent', 'edge'), current.fingerprint]]));
  plane.setIdentityProvider((role, cluster, fp) => desk.forPeer(role, cluster, fp));
  plane.setCurrentIdentities([current.fingerprint, oldAgent.fingerprint]);
  plane.setProxyReplicas(new Map([['r1', 'edge']]));
  plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from('events {}\n') }]);
  socket = `unix://${dir}/core.sock`;
  const credentials = serverCredentials(join(dir, 'core'), { ca: oldSet.ca, crossSigned: crossSign({ cert: newSet.ca, key: newSet.caKey }, { cert: oldSet.ca, key: oldSet.caKey }) });
  api = await startCoreApi({ plane, listen: socket, credentials, log });
}, 60_000);
afterAll(() => api.close());

describe('rotation without restarting the proxy (ADR 0019)', () => {
  it('hands an agent that connects with the previous set\'s identity its current one, and verifies through the cross-signed CA', async () => {
    const m = await firstMessage(clientCredentials(oldAgent.dir));
    expect(typeof m).not.toBe('string');
    const handed = (m as ProxyConfig__Output).identity;
    expect(handed).not.toBeNull();
    expect(handed?.cert.toString()).toBe(current.cert);
    expect(handed?.key.toString()).toBe(current.key);
    expect(handed?.ca.toString()).toBe(newSet.ca);
  });

  it('sends nothing to an agent that already uses its current identity (a task that mounts the new set)', async () => {
    const d = join(dir, 'agent-new');
    const { writePair } = await import('../helpers/identity-tls');
    writePair(d, newSet.ca, current.cert, current.key);
    const m = await firstMessage(clientCredentials(d));
    expect(typeof m).not.toBe('string');
    expect((m as ProxyConfig__Output).identity).toBeNull();
    expect((m as ProxyConfig__Output).files[0]?.content.toString()).toBe('events {}\n');
  });

  it('refuses a component of neither set at the handshake', async () => {
    const stranger = generateTlsMaterial(1);
    const { dir: d } = writeComponentDir(join(dir, 'agent-stranger'), stranger, { role: 'agent', cluster: 'edge' });
    expect(await firstMessage(clientCredentials(d))).toBe('UNAVAILABLE');
  });

  it('switches a running agent connection to the handed identity, keeps it on the task tmpfs, and stays connected', async () => {
    const keptAt = join(dir, 'shm', 'identity.json');
    const creds = new AgentCredentials({ creds: clientCredentials(oldAgent.dir), fingerprint: oldAgent.fingerprint }, keptAt, log);
    const connection = coreConnection(socket, creds);
    const messages: ProxyConfig__Output[] = [];
    const stream = resubscribe(
      () => connection.client.WatchProxyConfig({ cluster: 'edge', replicaId: 'r1' }),
      (m: ProxyConfig__Output) => {
        messages.push(m);
        if (m.identity !== null && creds.adopt(m.identity)) connection.renew();
      },
      { log, what: 'test', connection },
    );
    try {
      // First a message carrying the identity (old pair), then one without (reconnected with the new pair).
      await until('a message with the identity', () => (messages.some((m) => m.identity !== null) ? true : undefined));
      await until('a message on the new identity', () => (messages.length >= 2 && messages[messages.length - 1]?.identity === null ? true : undefined));
      expect(creds.usingHanded).toBe(true);
      expect(existsSync(keptAt)).toBe(true);
      expect(statSync(keptAt).mode & 0o777).toBe(0o600);
      expect(readFileSync(keptAt, 'utf8')).toContain('BEGIN CERTIFICATE');
      // A restarted agent (its supervisor starts a new one) comes back with the kept pair.
      expect(new AgentCredentials({ creds: clientCredentials(oldAgent.dir), fingerprint: oldAgent.fingerprint }, keptAt, log).usingHanded).toBe(true);
    } finally {
      stream.stop();
      connection.close();
    }
  });

  it('falls back to the mounted pair when the core no longer accepts the handed one, and is handed a new one', async () => {
    const keptAt = join(dir, 'shm2', 'identity.json');
    const creds = new AgentCredentials({ creds: clientCredentials(oldAgent.dir), fingerprint: oldAgent.fingerprint }, keptAt, log);
    // A pair this core does not accept (as after a core restart that no longer holds an on-demand pair).
    const gone = issueIdentity({ cert: newSet.ca, key: newSet.caKey }, { role: 'agent', cluster: 'edge' }, 1);
    expect(creds.adopt({ cert: Buffer.from(gone.cert), key: Buffer.from(gone.key), ca: Buffer.from(newSet.ca) })).toBe(true);
    const connection = coreConnection(socket, creds);
    const messages: ProxyConfig__Output[] = [];
    const stream = resubscribe(
      () => connection.client.WatchProxyConfig({ cluster: 'edge', replicaId: 'r1' }),
      (m: ProxyConfig__Output) => {
        messages.push(m);
        if (m.identity !== null && creds.adopt(m.identity)) connection.renew();
      },
      { log, what: 'test', connection },
    );
    try {
      await until('handed the current identity after the refusal', () => (messages.some((m) => m.identity?.cert.toString() === current.cert) ? true : undefined), 15_000);
      await until('connected on the current identity', () => (messages[messages.length - 1]?.identity === null ? true : undefined), 15_000);
      expect(creds.usingHanded).toBe(true);
    } finally {
      stream.stop();
      connection.close();
    }
  }, 30_000);
});
