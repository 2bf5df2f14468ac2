/**
 * Certificate versions older than each name's current version that nothing uses any more are
 * removed (see secretsInUse). The current version is never removed, and neither is a newer
 * incomplete one (an apply may be writing it). Planned from the lists the run read, so a version the
 * run itself just stopped mounting goes in the next run, once its tasks stopped.
 */
import type { SecretInfo, ServiceInfo, TaskInfo } from '../../observed/docker-port';
import { currentVersion, secretsInUse, storedCertificates, type SecretRef } from '../certificate-versions';
import type { RemoveStep, StepGroup } from './steps';

/** What the Docker state must show to decide which versions can go. */
export interface CertificateUsage {
  readonly services: readonly ServiceInfo[];
  readonly tasks: readonly TaskInfo[];
  readonly secrets: readonly SecretInfo[];
}

export const CERTIFICATES_GROUP = 'certificates';

/** `only`: the versions of one name (tls apply); default every name. */
export function planCertificatePrune(state: CertificateUsage, only?: string): StepGroup {
  const used = secretsInUse(state.services, state.tasks);
  const steps: RemoveStep[] = [];
  for (const [name, versions] of storedCertificates(state.secrets)) {
    if (only !== undefined && name !== only) continue;
    const current = currentVersion(versions);
    if (current === undefined) continue;
    for (const v of versions) {
      if (v.version >= current.version) continue;
      const parts = [v.cert, v.key].filter((p): p is SecretRef => p !== undefined);
      if (parts.some((p) => used.has(p.id))) continue;
      for (const p of parts) steps.push({ op: 'removeSecret', targetId: p.id, name: p.name, reason: `certificate ${name} version ${v.version} is older than version ${current.version} and no task uses it` });
    }
  }
  return { key: CERTIFICATES_GROUP, steps };
}
