/**
 * Swarm's limit on a config's data. Every rendered proxy config is stored as a Swarm config (rolling
 * delivery mounts it; hitless tasks boot from it). A config that outgrows it is stored gzip-compressed
 * and, when still too large, in parts (stored-config.ts, ADR 0029), which the proxy agent reassembles;
 * only an NGINX cluster with rolling delivery (no agent: NGINX reads the mounted file itself) cannot be
 * delivered then, and the core says so on the cluster instead of failing every run.
 */

/** swarmkit refuses config data of this many bytes or more (Docker 19.03+; secrets: 500 KiB). */
export const MAX_SWARM_CONFIG_BYTES = 1_024_000;

const thousands = (n: number): string => n.toLocaleString('en-US');

/** Why `rendered` cannot be stored as a Swarm config, or undefined when it fits. */
export function configSizeProblem(rendered: string, routes: number, limit = MAX_SWARM_CONFIG_BYTES): string | undefined {
  const bytes = Buffer.byteLength(rendered, 'utf8');
  if (bytes < limit) return undefined;
  return `the configuration for ${thousands(routes)} routes is ${thousands(bytes)} bytes, and a Swarm config must be smaller than ${thousands(limit)} bytes: use hitless delivery (the default: its agents read a compressed config) or split the routes over more ServiceClusters`;
}
