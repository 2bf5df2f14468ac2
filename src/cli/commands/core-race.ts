/**
 * Races on the core's service between `install`, `rotate-certs` and `uninstall` (issue 18, "concurrent
 * writers"). The core service is written with its Version.Index as read (update) or under Swarm's
 * unique service names (create), so of two runs based on the same read exactly one is stored; the other
 * gets Docker's "update out of sequence" or "already exists", or finds the TLS set it created removed by
 * the winner's clean-up. The loser removes the set it created, prints one `conflict` line and exits 3.
 */
import { isInUse, isNameConflict, isNotFound, isOutOfSequence } from '../../observed/docker-errors';
import type { DockerPort } from '../../observed/docker-port';
import type { TlsSet } from '../../apply/tls-secrets';

/** Secret IDs of a set. */
export function setSecretIds(set: TlsSet): string[] {
  return [set.ca, set.caKey, set.serverCert, set.serverKey].map((r) => r.id);
}

/**
 * A failed write of the core service that another writer caused: a stale version, a name taken by a
 * concurrent create, the service removed meanwhile, or (rotate) our new set's secrets removed by the
 * other writer's clean-up before our update referenced them.
 */
export function lostCoreRace(e: unknown, ownSet?: TlsSet): boolean {
  if (isOutOfSequence(e) || isNameConflict(e) || isNotFound(e)) return true;
  if (ownSet === undefined || !(e instanceof Error)) return false;
  const names = [ownSet.ca, ownSet.caKey, ownSet.serverCert, ownSet.serverKey].map((r) => r.name);
  return /not found/i.test(e.message) && names.some((n) => e.message.includes(n));
}

/** Remove a set this command created and did not get stored; secrets already gone are fine. */
export async function discardTlsSet(port: DockerPort, set: TlsSet): Promise<void> {
  for (const id of setSecretIds(set)) {
    try {
      await port.removeSecret(id);
    } catch (e) {
      // Gone (the winner's clean-up took it) or, impossibly for a set no write stored, in use: leave it.
      if (!(isNotFound(e) || isInUse(e))) throw e;
    }
  }
}

export const INSTALL_CONFLICT = (created: boolean): string =>
  `service/swarmgate-core: conflict: another install, rotate-certs or uninstall ${created ? 'created or removed' : 'changed'} it while this install was being written; nothing of this install was stored — run install again`;
export const ROTATE_CONFLICT = 'service/swarmgate-core: conflict: another rotate-certs, install or uninstall changed it while this rotation was being written; nothing of this rotation was stored — run rotate-certs again';
