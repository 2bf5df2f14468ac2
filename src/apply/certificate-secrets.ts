/**
 * Certificates stored with `swarmgate tls apply` as Docker secrets (see src/plan/certificate-versions.ts
 * for the layout): storing a new version, and removing versions nothing uses any more.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import type { CertificatePart, UtcTimestamp } from '../domain/snapshot';
import type { DockerPort } from '../observed/docker-port';
import { certificateSecretName } from '../plan/certificates';
import { type SecretRef, type StoredVersion } from '../plan/certificate-versions';
import { planCertificatePrune, type CertificateUsage } from '../plan/writes/certificate-prune';
import { executeGroup } from './execute-plan';

export { currentVersion, isComplete, secretsInUse, storedCertificates, type SecretRef, type StoredVersion } from '../plan/certificate-versions';
export type { CertificateUsage } from '../plan/writes/certificate-prune';

export interface NewPair {
  /** PEM texts, already checked by the caller (they match, the certificate parses). */
  readonly cert: string;
  readonly key: string;
  readonly notAfter: UtcTimestamp;
  readonly fingerprint: string;
  /** The certificate's DNS names, recorded so the plan can check them against route hosts. */
  readonly dnsNames: readonly string[];
}

/** More names than this, or a longer label, and the names are not recorded (unknown: no host check). */
const MAX_RECORDED_NAMES = 1000;
const MAX_NAMES_LABEL = 64 * 1024;

function dnsNamesLabel(names: readonly string[]): Record<string, string> {
  const value = names.map((n) => n.toLowerCase()).join(',');
  return names.length <= MAX_RECORDED_NAMES && value.length <= MAX_NAMES_LABEL ? { [LABELS.dnsNames]: value } : {};
}

/**
 * Store a pair as version max + 1 of `name`: the certificate first, then the key, so the version is
 * complete (and chosen by the plan) only once both exist. If the key cannot be stored, the lone
 * certificate is removed again rather than left as a half version.
 */
export async function createCertificateVersion(port: DockerPort, name: string, pair: NewPair, existing: readonly StoredVersion[]): Promise<{ version: number; cert: SecretRef; key: SecretRef }> {
  const version = Math.max(0, ...existing.map((v) => v.version)) + 1;
  const labels = (part: CertificatePart) => ({
    [LABELS.owner]: OWNER_VALUE,
    [LABELS.role]: 'certificate',
    [LABELS.certificate]: name,
    [LABELS.certificateVersion]: String(version),
    [LABELS.certificatePart]: part,
    [LABELS.notAfter]: pair.notAfter,
    [LABELS.fingerprint]: pair.fingerprint,
    ...dnsNamesLabel(pair.dnsNames),
  });
  const certName = certificateSecretName(name, version, 'cert');
  const keyName = certificateSecretName(name, version, 'key');
  const certId = await port.createSecret({ Name: certName, Labels: labels('cert'), Data: Buffer.from(pair.cert).toString('base64') });
  let keyId: string;
  try {
    keyId = await port.createSecret({ Name: keyName, Labels: labels('key'), Data: Buffer.from(pair.key).toString('base64') });
  } catch (e) {
    await port.removeSecret(certId).catch(() => undefined);
    throw e;
  }
  return { version, cert: { id: certId, name: certName }, key: { id: keyId, name: keyName } };
}

/**
 * Remove the versions planCertificatePrune finds unused (`only`: of one name). Returns the names of
 * the secrets removed. `tls apply` calls it for its own name; the core's run plans the same removals
 * for every name in its certificates group.
 */
export async function pruneCertificateVersions(port: DockerPort, state: CertificateUsage, only?: string): Promise<string[]> {
  const group = planCertificatePrune(state, only);
  const outcome = await executeGroup(group, { docker: port });
  return outcome.outcomes.filter((o) => o.result === 'ok').map((o) => (o.step.op === 'removeSecret' ? o.step.name : '')).filter((n) => n !== '');
}
