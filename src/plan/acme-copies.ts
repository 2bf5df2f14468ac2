/**
 * The durable copy of each ACME certificate (ADR 0024): a Docker secret holding the certificate
 * chain and its key, made by the core after each issuance and mounted into the proxy tasks of the
 * clusters that serve the route, so a task that boots while the core is unreachable starts NGINX
 * with the last mounted certificate (agent: acme-restore.ts). The core still delivers every
 * certificate over the agents' stream (ADR 0013); the copy is only what a booting task starts on.
 *
 * Mounting a secret replaces the proxy tasks, so the copies are mounted lazily: a running service
 * keeps the copies it mounts (whatever was renewed since) and takes the newest ones when it is
 * updated for another reason; a service created now mounts the newest. A renewal therefore never
 * restarts a proxy task. Pure: which secret is a route's copy, and what a service mounts.
 */
import { LABELS } from '../domain/labels';
import type { SecretInfo, ServiceSpec } from '../observed/docker-port';
import { acmeFileNames } from './acme-routes';

type SecretMounts = NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']>;

/** The role label of a durable copy secret. */
export const ACME_COPY_ROLE = 'acme-copy';
/** Where a task finds the copies: /run/secrets/<ACME_COPY_SUBDIR>/<route>.pem (a Swarm secret name has no "/", so no user secret lands here). */
export const ACME_COPY_SUBDIR = 'swarmgate-acme';
export const ACME_COPY_DIR_IN_TASKS = `/run/secrets/${ACME_COPY_SUBDIR}`;

/** The mount target of a route's copy, relative to /run/secrets. */
export function acmeCopyTarget(route: string): string {
  return `${ACME_COPY_SUBDIR}/${route}.pem`;
}

/**
 * The secret's name: readable (route, truncated to fit Docker's 64 characters) and distinct per
 * certificate (its SHA-256 fingerprint). Lookups go by labels (role, route, fingerprint), never by
 * this name.
 */
export function acmeCopySecretName(route: string, fingerprint: string): string {
  return `sg-acme-${route.slice(0, 32)}-${fingerprint.slice(0, 16)}`;
}

/** The routes whose certificate files a cluster's config names (ProxyModel.acme.files). */
export function acmeRoutesOf(files: readonly string[] | undefined): string[] {
  return (files ?? []).flatMap((f) => {
    const m = /^acme-(.+)\.crt$/.exec(f);
    return m?.[1] !== undefined && acmeFileNames(m[1]).cert === f ? [m[1]] : [];
  });
}

/** The copy secret of exactly this certificate of `route`, when the core has made it. */
export function acmeCopySecret(secrets: readonly SecretInfo[], route: string, fingerprint: string): SecretInfo | undefined {
  return secrets.find((s) => s.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE && s.Spec.Labels[LABELS.name] === route && s.Spec.Labels[LABELS.fingerprint] === fingerprint);
}

function mount(route: string, s: SecretInfo): SecretMounts[number] {
  return { SecretID: s.ID, SecretName: s.Spec.Name, File: { Name: acmeCopyTarget(route), UID: '0', GID: '0', Mode: 0o400 } };
}

/**
 * The copy a new task of a route should mount: the current certificate's (route → fingerprint), else
 * the route's latest other copy (the core makes the copy just after the certificate; a run in between
 * mounts the previous one rather than none).
 */
function copyFor(secrets: readonly SecretInfo[], route: string, fingerprint: string | undefined): SecretInfo | undefined {
  const exact = fingerprint === undefined ? undefined : acmeCopySecret(secrets, route, fingerprint);
  if (exact !== undefined) return exact;
  const notAfter = (s: SecretInfo) => s.Spec.Labels?.[LABELS.notAfter] ?? '';
  return secrets.filter((s) => s.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE && s.Spec.Labels[LABELS.name] === route).sort((a, b) => (notAfter(a) < notAfter(b) ? 1 : -1))[0];
}

/** The copies a new task of these routes mounts (copyFor), sorted by mount target. */
export function newestAcmeCopyMounts(routes: readonly string[], fingerprints: ReadonlyMap<string, string>, secrets: readonly SecretInfo[]): SecretMounts {
  return byTarget(
    routes.flatMap((r) => {
      const s = copyFor(secrets, r, fingerprints.get(r));
      return s === undefined ? [] : [mount(r, s)];
    }),
  );
}

/** One order for both builders, so equal sets of mounts hash equal. */
function byTarget(mounts: SecretMounts): SecretMounts {
  return [...mounts].sort((a, b) => ((a.File?.Name ?? '') < (b.File?.Name ?? '') ? -1 : 1));
}

/**
 * The copies a live service mounts that still exist, as the spec builder writes them: kept by a
 * service that is not updated for another reason (a newer copy waits for that update). Also those
 * of routes the cluster no longer serves: dropping one would restart the tasks too.
 */
export function keptAcmeCopyMounts(mounted: SecretMounts, secrets: readonly SecretInfo[]): SecretMounts {
  return byTarget(
    mounted.flatMap((m) => {
      const s = secrets.find((x) => x.ID === m.SecretID && x.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE);
      const route = s?.Spec.Labels?.[LABELS.name];
      return s !== undefined && route !== undefined && m.File?.Name === acmeCopyTarget(route) ? [mount(route, s)] : [];
    }),
  );
}
