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
 * restarts a proxy task. Only when a mounted copy nears its expiry (acmeCopyRefreshDue, ADR 0033) is
 * the service updated for its copies: one rolling restart per renewal for one route, at most one per
 * 23 days for 90-day certificates whatever the number of routes, none for certificates living less
 * than about 29 hours. Pure: which secret is a route's copy, what a service mounts, when it refreshes, and
 * which copies can go.
 */
import { LABELS } from '../domain/labels';
import type { SecretInfo, ServiceInfo, ServiceSpec, TaskInfo } from '../observed/docker-port';
import { secretsInUse } from './certificate-versions';
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
  // By ID: a proxy mounts a secret per TLS route, and the Swarm holds as many; a search per mount was quadratic (ADR 0046).
  const copies = new Map(secrets.filter((x) => x.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE).map((x) => [x.ID, x]));
  return byTarget(
    mounted.flatMap((m) => {
      const s = copies.get(m.SecretID);
      const route = s?.Spec.Labels?.[LABELS.name];
      return s !== undefined && route !== undefined && m.File?.Name === acmeCopyTarget(route) ? [mount(route, s)] : [];
    }),
  );
}

/**
 * A mounted copy is refreshed once less than this fraction of its certificate's lifetime is left
 * (ADR 0033), or less than COPY_REFRESH_MARGIN_MAX_MS: a copy only matters while the core is down,
 * and a week covers any outage short of a lost cluster.
 */
export const COPY_REFRESH_FRACTION = 1 / 6;
export const COPY_REFRESH_MARGIN_MAX_MS = 7 * 86_400_000;
/**
 * Never refreshed to a copy valid for less than this: certificates that short-lived (pebble's in the
 * tests) would cost a rolling restart every few minutes for a copy that expires soon anyway.
 */
export const COPY_MIN_VALIDITY_MS = 24 * 3_600_000;

/** The time left on a copy of a certificate living `lifetimeMs` under which it is refreshed. */
export function copyRefreshMargin(lifetimeMs: number): number {
  return Math.min(lifetimeMs * COPY_REFRESH_FRACTION, COPY_REFRESH_MARGIN_MAX_MS);
}

function labelTime(s: SecretInfo, label: string): number | undefined {
  const v = s.Spec.Labels?.[label];
  const t = v === undefined ? NaN : Date.parse(v);
  return Number.isFinite(t) ? t : undefined;
}

/** notBefore and notAfter of a copy, from its labels (copies made before ADR 0033 have no notBefore: undefined). */
function validity(s: SecretInfo): { readonly from: number; readonly until: number } | undefined {
  const from = labelTime(s, LABELS.notBefore);
  const until = labelTime(s, LABELS.notAfter);
  return from === undefined || until === undefined || until <= from ? undefined : { from, until };
}

/**
 * Why a live proxy service should be updated now to mount the newest copies of its routes, or
 * undefined (it keeps what it mounts). With margin(L) = min(L/6, 7 days) (copyRefreshMargin), due
 * when, for some route the cluster serves, the newest copy is worth mounting (more than its margin
 * and at least COPY_MIN_VALIDITY_MS left) and
 *  - the mounted copy has less than its own margin left, or
 *  - no copy is mounted (the route came after the service's last update: a task booting without the
 *    core would serve the placeholder) and the newest copy is L/3 − margin into its lifetime.
 * After a refresh every mounted copy is its route's newest, which (renewed at 2/3 of its lifetime)
 * has more than L/3 left, and a route issued after it waits L/3 − margin: the next refresh comes at
 * least L/3 − margin later (23 days for 90-day certificates), however many routes come and renew.
 */
export function acmeCopyRefreshDue(routes: readonly string[], fingerprints: ReadonlyMap<string, string>, mounted: SecretMounts, secrets: readonly SecretInfo[], now: number): string | undefined {
  for (const route of routes) {
    const newest = copyFor(secrets, route, fingerprints.get(route));
    const n = newest === undefined ? undefined : validity(newest);
    if (newest === undefined || n === undefined) continue;
    const margin = copyRefreshMargin(n.until - n.from);
    if (n.until - now <= margin || n.until - now < COPY_MIN_VALIDITY_MS) continue;
    const m = mounted.find((x) => x.File?.Name === acmeCopyTarget(route));
    const current = m === undefined ? undefined : secrets.find((x) => x.ID === m.SecretID && x.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE);
    if (current === undefined) {
      if (now - n.from >= (n.until - n.from) / 3 - margin) return `route ${route} has no ACME copy mounted (a task booting without the core would serve a placeholder)`;
      continue;
    }
    if (current.ID === newest.ID) continue;
    const until = labelTime(current, LABELS.notAfter);
    const c = validity(current);
    const left = until === undefined ? 0 : until - now;
    if (left < (c === undefined ? margin : copyRefreshMargin(c.until - c.from)) && n.until > (until ?? 0))
      return `the mounted ACME copy of route ${route} expires ${until === undefined ? 'at an unknown time' : new Date(until).toISOString()} (less than min(a sixth of its lifetime, 7 days) left)`;
  }
  return undefined;
}

/**
 * Copies no service or live task mounts that an equal or later copy of the same route supersedes
 * (the current certificate's, else the latest): removed. A route's newest copy always stays (new
 * services mount it); so does a copy later than the current certificate's (made by an issuance this
 * run has not seen yet).
 */
export function unusedAcmeCopies(secrets: readonly SecretInfo[], services: readonly ServiceInfo[], tasks: readonly TaskInfo[], fingerprints: ReadonlyMap<string, string>): SecretInfo[] {
  const used = secretsInUse(services, tasks);
  const copies = secrets.filter((s) => s.Spec.Labels?.[LABELS.role] === ACME_COPY_ROLE && s.Spec.Labels[LABELS.name] !== undefined);
  return copies.filter((s) => {
    const route = s.Spec.Labels?.[LABELS.name] ?? '';
    const keeper = copyFor(secrets, route, fingerprints.get(route));
    if (keeper === undefined || keeper.ID === s.ID || used.has(s.ID)) return false;
    return (s.Spec.Labels?.[LABELS.notAfter] ?? '') <= (keeper.Spec.Labels?.[LABELS.notAfter] ?? '');
  });
}
