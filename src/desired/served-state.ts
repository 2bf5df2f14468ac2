/**
 * What the core last decided that the proxies serve, read back from Swarm for the pure pipeline
 * (src/plan/pipeline.ts): the stored rollout state of each rolling-out Route, and for each rolled-back
 * cluster the old revision's config text. The core reads rollbacks here too; `diff`, `render` and `get`
 * read both, so they show what is served during a rollout or a rollback.
 */
import * as E from 'fp-ts/Either';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { decodeRolloutState, type RolloutState } from '../domain/rollout-state';
import type { ConfigInfo, DockerPort } from '../observed/docker-port';
import type { RollbackSource } from '../plan/pipeline';
import { clusterRevisions, rollbackOf } from '../plan/revisions';
import { decodeStoredConfig, partConfigName } from '../plan/stored-config';
import type { StoredSpec } from './spec-store';

/** By route name: the readable stored rollout states (an unreadable one counts as none: the core restarts it). */
export function storedRolloutStates(stored: ReadonlyMap<string, StoredSpec>): Map<string, RolloutState> {
  const states = new Map<string, RolloutState>();
  for (const s of stored.values()) {
    const label = s.kind === 'Route' ? s.config.Spec.Labels?.[LABELS.rollout] : undefined;
    const decoded = label === undefined ? undefined : decodeRolloutState(label);
    if (decoded !== undefined && E.isRight(decoded)) states.set(s.name, decoded.right);
  }
  return states;
}

export interface StoredRollbacks {
  /** By cluster: the rolled-back revision and its config text. */
  readonly sources: Map<string, RollbackSource>;
  /** Clusters whose requested revision's config is gone (pruned): they are delivered from the current specs. */
  readonly missing: { readonly cluster: string; readonly revision: number }[];
}

/** The proxy configs (all revisions) a rollback can come from. */
export function listProxyConfigs(port: DockerPort): Promise<ConfigInfo[]> {
  return port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`]);
}

/** Every rollback requested on a stored ServiceCluster, with the revision's text read from its config. */
export async function storedRollbacks(port: DockerPort, stored: ReadonlyMap<string, StoredSpec>, proxyConfigs: readonly ConfigInfo[]): Promise<StoredRollbacks> {
  const sources = new Map<string, RollbackSource>();
  const missing: { cluster: string; revision: number }[] = [];
  for (const s of stored.values()) {
    if (s.kind !== 'ServiceCluster') continue;
    const request = rollbackOf(s.config);
    if (request === undefined) continue;
    const revision = clusterRevisions(proxyConfigs, s.name).find((r) => r.revision === request.revision);
    if (revision === undefined) {
      missing.push({ cluster: s.name, revision: request.revision });
      continue;
    }
    let content: string;
    try {
      content = await storedConfigText(port, revision.config, proxyConfigs);
    } catch {
      // A part is gone or damaged: the revision cannot be served, as if its config were gone.
      missing.push({ cluster: s.name, revision: request.revision });
      continue;
    }
    sources.set(s.name, { request, generation: s.generation, revision, content });
  }
  return { sources, missing };
}

/** The rendered text of a proxy config as stored: read whole, or decompressed and reassembled from its parts (ADR 0029). */
export async function storedConfigText(port: DockerPort, config: ConfigInfo, proxyConfigs: readonly ConfigInfo[]): Promise<string> {
  const data = async (id: string): Promise<Uint8Array> => Buffer.from((await port.inspectConfig(id)).Spec.Data ?? '', 'base64');
  const count = Number(config.Spec.Labels?.[LABELS.parts] ?? '1');
  const parts = [await data(config.ID)];
  for (let k = 2; k <= count; k++) {
    const part = proxyConfigs.find((c) => c.Spec.Name === partConfigName(config.Spec.Name, k));
    if (part === undefined) throw new Error(`part ${k} of ${config.Spec.Name} is missing`);
    parts.push(await data(part.ID));
  }
  return decodeStoredConfig(parts);
}
