/**
 * The core's issuer as `swarmgate core` runs it: its state encrypted in a Swarm config with a key
 * derived from the ACME state key secret (mounted into the core's task only; older installs: the
 * core's gRPC server key), or in memory without TLS; Docker configs read through the API, Docker secrets from the core's own mounts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ControlPlane } from '../../api/control-plane';
import { ACME_STATE_KEY, TLS_DIR_IN_TASKS, TLS_FILES } from '../../domain/tls-layout';
import type { DockerPort } from '../../observed/docker-port';
import { memoryStore, storageKeyFrom, swarmConfigStore } from './acme-state-store';
import { IssuerActor } from './issuer-actor';
import { dockerAcmeCopyStore } from './acme-copy-store';
import { mountSecretIntoCore } from './mount-into-core';

/** Swarm secrets are mounted under their name; only plain names are looked up. */
function readMountedSecret(dir: string, name: string): string | undefined {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) return undefined;
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

export function createIssuer(port: DockerPort, log: Logger, plane: ControlPlane | undefined, tlsDir: string | undefined): IssuerActor {
  // The state key secret (install makes it; rotate-certs keeps it); a core installed before it
  // existed used its server key, which still opens an older state (saved again under the new key).
  const stateKey = tlsDir !== undefined ? storageKeyFrom(join(tlsDir, ACME_STATE_KEY.file)) : undefined;
  const serverKey = tlsDir !== undefined ? storageKeyFrom(join(tlsDir, TLS_FILES.serverKey)) : undefined;
  const keys = [stateKey, serverKey].filter((k): k is Buffer => k !== undefined);
  const key = keys[0];
  const store = key !== undefined ? swarmConfigStore(port, keys, (why) => log.warn(why)) : memoryStore();
  if (key === undefined) log.warn('ACME state is kept in memory only (no TLS directory): certificates are ordered again after a restart');
  return new IssuerActor({
    store,
    log: log.child({ component: 'acme' }),
    ...(plane !== undefined ? { plane } : {}),
    readConfig: async (name) => {
      const found = (await port.listConfigs()).find((c) => c.Spec.Name === name);
      if (found === undefined) return undefined;
      return Buffer.from((await port.inspectConfig(found.ID)).Spec.Data ?? '', 'base64').toString('utf8');
    },
    readSecret: (name) => readMountedSecret(tlsDir ?? TLS_DIR_IN_TASKS, name),
    mountSecret: (name) => mountSecretIntoCore(port, name),
    // Only with a durable state: a core without TLS (--insecure) keeps nothing beyond its memory.
    ...(key !== undefined ? { copies: dockerAcmeCopyStore(port, log.child({ component: 'acme' })) } : {}),
  });
}
