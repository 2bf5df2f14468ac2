/**
 * The durable copies of the core's ACME certificates as Docker secrets (ADR 0024; what mounts them:
 * src/plan/acme-copies.ts). One secret per issued certificate, holding the chain and then its key
 * as PEM, labelled with the route and the certificate's SHA-256 fingerprint (public facts only).
 * Docker secrets are encrypted in the managers' Raft log, cannot be read back through the API, and
 * reach only the tasks that mount them, on a tmpfs: the one Swarm object a key may live in. The
 * older copies of a route are removed once no service mounts them (Docker refuses while one does;
 * the next pass tries again).
 */
import { createHash, X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { DockerPort } from '../../observed/docker-port';
import { isInUse } from '../../observed/docker-errors';
import { ACME_COPY_ROLE, acmeCopySecret, acmeCopySecretName } from '../../plan/acme-copies';

/**
 * SHA-256 of the leaf certificate's DER form, lower-case hex (the `fingerprint` label's form); of the
 * PEM text for one that does not parse (a copy's name and lookup only need it to be distinct).
 */
export function certificateFingerprint(certPem: string): string {
  try {
    return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
  } catch {
    return createHash('sha256').update(certPem).digest('hex');
  }
}

export interface AcmeCopyStore {
  /** Make the copy of this certificate of `route` when it does not exist; remove the route's older, unmounted copies. */
  keep(route: string, pair: { readonly certPem: string; readonly keyPem: string; readonly notAfter: number; readonly notBefore?: number }): Promise<void>;
}

export function dockerAcmeCopyStore(port: DockerPort, log: Logger): AcmeCopyStore {
  return {
    async keep(route, pair) {
      const fingerprint = certificateFingerprint(pair.certPem);
      const secrets = await port.listSecrets();
      if (acmeCopySecret(secrets, route, fingerprint) === undefined) {
        await port.createSecret({
          Name: acmeCopySecretName(route, fingerprint),
          Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: ACME_COPY_ROLE, [LABELS.name]: route, [LABELS.fingerprint]: fingerprint, [LABELS.notAfter]: new Date(pair.notAfter).toISOString(), ...(pair.notBefore !== undefined ? { [LABELS.notBefore]: new Date(pair.notBefore).toISOString() } : {}) },
          Data: Buffer.from(`${pair.certPem.trimEnd()}\n${pair.keyPem.trimEnd()}\n`).toString('base64'),
        });
        log.info({ route, fingerprint: fingerprint.slice(0, 16) }, 'kept a durable copy of the ACME certificate as a Docker secret');
      }
      for (const old of secrets) {
        const l = old.Spec.Labels ?? {};
        if (l[LABELS.role] !== ACME_COPY_ROLE || l[LABELS.name] !== route || l[LABELS.fingerprint] === fingerprint) continue;
        try {
          await port.removeSecret(old.ID);
        } catch (e) {
          // A proxy service still mounts it (until that service is next updated): kept for now.
          if (!isInUse(e)) throw e;
        }
      }
    },
  };
}
