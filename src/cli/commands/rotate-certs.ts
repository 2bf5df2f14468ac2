/**
 * `swarmgate rotate-certs`, and the TLS-set housekeeping it shares with `install`.
 *
 * Concurrency (issue 18, "concurrent writers"): the core service is written with its Version.Index as
 * read, so of two rotations (or a rotation and an install) based on the same version exactly one is
 * stored; the other gets Docker's "update out of sequence", or finds the set it created removed by the
 * winner's clean-up. The loser removes the set it created, prints one `conflict` line and exits 3:
 * nothing it reported was stored, and nothing it stored is left behind.
 */
import { createHash } from 'node:crypto';
import { LABELS } from '../../domain/labels';
import { isInUse, isNameConflict, isNotFound, isOutOfSequence } from '../../observed/docker-errors';
import type { DockerPort, ServiceSpec } from '../../observed/docker-port';
import { canonicalJson } from '../../plan/hash';
import { EXIT, type Output } from '../output';
import { CORE_SERVICE } from '../../plan/core-service-spec';
import { TLS_DIR_IN_TASKS, generateTlsMaterial } from '../../api/tls';
import { createTlsSet, tlsMounts, tlsSets, type TlsSet } from '../../apply/tls-secrets';

/** Secret IDs of a set. */
function setSecretIds(set: TlsSet): string[] {
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

/**
 * `swarmgate rotate-certs`: a new CA and certificates; the core is updated to the new set and
 * re-mounts the components' pair into every proxy (a rolling update). Old sets are removed once no
 * service uses them (the next rotation or uninstall retries the ones still in use).
 */
export async function runRotateCerts(port: DockerPort, io: Output): Promise<number> {
  const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  if (core === undefined) {
    io.err(`${CORE_SERVICE} is not installed: run swarmgate install`);
    return EXIT.invalid;
  }
  const set = await createTlsSet(port, generateTlsMaterial());
  const spec = core.Spec;
  const args = [...(spec.TaskTemplate.ContainerSpec.Args ?? [])];
  const at = args.indexOf('--tls-set');
  if (at >= 0) args[at + 1] = set.id;
  else args.push('--tls-dir', TLS_DIR_IN_TASKS, '--tls-set', set.id);
  const updated: ServiceSpec = {
    ...spec,
    TaskTemplate: {
      ...spec.TaskTemplate,
      ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Args: args.filter((a) => a !== '--insecure'), Secrets: tlsMounts(set, ['ca', 'caKey', 'serverCert', 'serverKey']) },
    },
  };
  const { [LABELS.specHash]: _old, ...labels } = spec.Labels ?? {};
  const hash = createHash('sha256').update(canonicalJson({ ...updated, Labels: labels })).digest('hex');
  try {
    await port.updateService(core.ID, core.Version.Index, { ...updated, Labels: { ...labels, [LABELS.specHash]: hash } });
  } catch (e) {
    if (!lostCoreRace(e, set)) throw e;
    await discardTlsSet(port, set);
    io.err(`service/${CORE_SERVICE}: conflict: another rotate-certs, install or uninstall changed it while this rotation was being written; nothing of this rotation was stored — run rotate-certs again`);
    return EXIT.conflict;
  }
  io.out(`tls/${set.id} created; service/${CORE_SERVICE} configured (proxies follow with the new certificates)`);
  await removeUnusedTlsSets(port, set.id, io);
  return EXIT.ok;
}

/**
 * Remove every TLS set but `keep` that no service mounts. A set that becomes mounted meanwhile (a
 * concurrent rotation stored it after our listing) is refused by Docker as in use and kept.
 */
export async function removeUnusedTlsSets(port: DockerPort, keep: string | undefined, io: Output): Promise<void> {
  const used = new Set((await port.listServices()).flatMap((s) => (s.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretID)));
  for (const set of tlsSets(await port.listSecrets())) {
    if (set.id === keep) continue;
    const ids = setSecretIds(set);
    if (ids.some((id) => used.has(id))) {
      io.out(`tls/${set.id} still in use; it is removed by the next rotate-certs or uninstall`);
      continue;
    }
    let inUse = false;
    for (const id of ids) {
      try {
        await port.removeSecret(id);
      } catch (e) {
        if (isNotFound(e)) continue;
        if (!isInUse(e)) throw e;
        inUse = true;
      }
    }
    io.out(inUse ? `tls/${set.id} still in use; it is removed by the next rotate-certs or uninstall` : `tls/${set.id} removed`);
  }
}
