/**
 * The endpoint set a dynamic-endpoints proxy task boots with when the core is unreachable (ADR 0035).
 * With `proxy.endpoints: Dynamic` the rendered config carries routes only; the task addresses live in
 * `endpoints.txt`, which the core delivers to the agents over gRPC. A task that boots from its mounted
 * Swarm boot config without the core (and without a last-applied config on its node) had no set, so
 * every backend answered 503 until the core answered. So the service also mounts the set rendered
 * with the boot config, as its own Swarm config at BOOT_ENDPOINTS_PATH:
 *
 * - `sg-ep-<cluster>-<12 hex of the set>`: content-addressed, like the config it goes with; no other
 *   generated config starts with `sg-ep-` (proxy configs are `sg-nginx-`/`sg-haproxy-`), labelled
 *   role proxy-config (so the run observes it) without a revision (so it is never one);
 * - written only when the proxy service is created or updated anyway (its tasks restart then), never
 *   per task change: a Swarm config write and a service update per task change would restart every
 *   proxy task for what the agents take without a reload. So the boot set is as old as the service's
 *   last update; a stale set (some tasks gone, new ones missing) still serves the tasks that remain —
 *   a dead one fails over to the others (passive health, retries) — where no set answers 503 for all;
 *   the node's last-applied config (which the agents refresh on every push) is preferred when there is
 *   one, and the agent replaces the set with the current one as soon as the core answers;
 * - stored like a proxy config (stored-config.ts): plain, or gzip when larger than a Swarm config.
 *   A set that does not fit in one Swarm config even compressed (hundreds of thousands of routes) is
 *   not mounted: such a task boots as before, answering 503 until the core answers.
 */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import { sha256Hex } from '../../domain/sha256';
import type { ConfigInfo } from '../../observed/docker-port';
import { BOOT_ENDPOINTS_PATH } from '../proxy-runtime';
import { encodeStoredConfig } from '../stored-config';
import type { CreateConfigStep } from './steps';

export const BOOT_ENDPOINTS_STEP = 'proxy-boot-endpoints';

/** `sg-ep-<cluster>-<12 hex>` of an endpoint set's text. */
export function bootEndpointsConfigName(cluster: string, text: string): string {
  return `sg-ep-${cluster}-${sha256Hex(text).slice(0, 12)}`;
}

/** Whether a generated config is a boot endpoint set (not a revision, not a part). */
export function isBootEndpoints(c: ConfigInfo): boolean {
  return c.Spec.Labels?.[LABELS.bootEndpoints] === 'true';
}

/** The boot endpoint set a service mounts today (by where it is mounted), if any. */
export function mountedBootEndpoints(configs: readonly { readonly ConfigID?: string; readonly ConfigName?: string; readonly File?: { readonly Name?: string } }[]): { readonly id: string; readonly name: string } | undefined {
  const c = configs.find((x) => x.File?.Name === BOOT_ENDPOINTS_PATH);
  return c?.ConfigID !== undefined && c.ConfigName !== undefined ? { id: c.ConfigID, name: c.ConfigName } : undefined;
}

export type BootEndpointsPlan = { readonly name: string; readonly existingId: string } | { readonly name: string; readonly create: CreateConfigStep } | undefined;

/**
 * The Swarm config holding `text` (the endpoint set shipped with the cluster's current config): the
 * existing one, or the step creating it; undefined when it does not fit in one Swarm config, or when
 * the set is empty (a cluster without HTTP backends, e.g. the implicit default cluster before any
 * route): there is nothing to seed, and Swarm refuses a config of 0 bytes.
 */
export function planBootEndpoints(cluster: string, text: string, proxyConfigs: readonly ConfigInfo[], limit: number): BootEndpointsPlan {
  if (text === '') return undefined;
  const name = bootEndpointsConfigName(cluster, text);
  const existing = proxyConfigs.find((c) => c.Spec.Name === name);
  if (existing !== undefined) return { name, existingId: existing.ID };
  const stored = encodeStoredConfig(text, limit);
  const data = stored.parts[0];
  if (stored.parts.length !== 1 || data === undefined) return undefined;
  return {
    name,
    create: {
      op: 'createConfig',
      id: BOOT_ENDPOINTS_STEP,
      cluster,
      spec: {
        Name: name,
        Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'proxy-config', [LABELS.cluster]: cluster, [LABELS.bootEndpoints]: 'true', ...(stored.encoding !== 'plain' ? { [LABELS.encoding]: stored.encoding } : {}) },
        Data: Buffer.from(data).toString('base64'),
      },
      reason: `the endpoint set a task boots with when the core is unreachable (${Buffer.byteLength(text)} bytes${stored.encoding !== 'plain' ? `, ${stored.encoding}` : ''})`,
    },
  };
}
