/**
 * The one way a generated proxy config is named to users (docs/adr/0025-one-revision-identifier.md):
 * `rev 7 (3f2a9c1b04de)` — the cluster's revision number (io.swarmgate.revision) and the first 12
 * hex digits of the SHA-256 of the exact bytes of the main config file, which are also the suffix of
 * its Swarm config's name (`sg-nginx-<cluster>-3f2a9c1b04de`), so `docker config ls` finds it.
 * `status`, `describe`, `get sc -o wide`, `history`, `diff`/`apply` and the conditions' messages all
 * print it this way, whether the proxies got the config from a Swarm config (rolling) or from their
 * agent (hitless; the agents' own files hash is translated by the core, see src/core/served-routes.ts).
 */

export interface RevisionId {
  /** The cluster's revision number; absent for configs written before revisions were numbered. */
  readonly revision?: number;
  /** SHA-256 of the main config file's bytes, first 12 hex digits. */
  readonly content: string;
}

export const CONTENT_ID_LENGTH = 12;

export function revisionIdText(id: RevisionId): string {
  return `rev ${id.revision ?? '?'} (${id.content.slice(0, CONTENT_ID_LENGTH)})`;
}

/** The content part of a generated config's name (`sg-<kind>-<cluster>-<hash12>`), or undefined for other names. */
export function contentOfConfigName(name: string): string | undefined {
  const m = /-([0-9a-f]{12})$/.exec(name);
  return m?.[1];
}
