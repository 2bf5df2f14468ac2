/**
 * Specs live in the cluster's own store: one Swarm config per object generation, labelled with
 * kind, name, generation, spec hash and first-creation time. Configs are immutable except labels,
 * so a changed spec is a new config (generation n+1) and the old one is removed afterwards.
 */
import { createHash } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { KINDS, objectKey, type Kind } from '../domain/meta';
import { decodeObject, encodeObject, type ApiObject } from '../domain/object';
import type { ConfigInfo, DockerPort } from '../observed/docker-port';
import { canonicalJson, fnv1a32 } from '../plan/hash';
import type { DesiredState, Rejected, Stored } from '../plan/inputs';
import type { RouteObject, ServiceClusterObject } from '../domain/object';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

export interface StoredSpec {
  readonly kind: Kind;
  readonly name: string;
  readonly generation: number;
  readonly createdAt: string;
  readonly config: ConfigInfo;
}

export function specHash(obj: ApiObject): string {
  return createHash('sha256').update(canonicalJson(encodeObject(obj))).digest('hex');
}

/** `sgr-shop-1a2b3c-4`: readable, unique per object (the hash), under Docker's 64-character limit. */
export function specConfigName(kind: Kind, name: string, generation: number): string {
  return `sg${kind === 'Route' ? 'r' : 'c'}-${name.slice(0, 40)}-${fnv1a32(objectKey(kind, name)).slice(0, 6)}-${generation}`;
}

function parseStored(c: ConfigInfo): StoredSpec | undefined {
  const l = c.Spec.Labels ?? {};
  const kind = l[LABELS.kind];
  const name = l[LABELS.name];
  const generation = Number(l[LABELS.generation]);
  if (!(KINDS as readonly (string | undefined)[]).includes(kind) || name === undefined || !Number.isInteger(generation) || l[LABELS.role] !== 'spec') return undefined;
  return { kind: kind as Kind, name, generation, createdAt: l[LABELS.createdAt] ?? c.CreatedAt ?? '', config: c };
}

/** The newest generation of every stored object, plus older generations left behind by an interrupted apply. */
export async function listStoredSpecs(port: DockerPort): Promise<{ current: Map<string, StoredSpec>; stale: StoredSpec[] }> {
  const configs = await port.listConfigs([`${LABELS.role}=spec`, LABELS.kind]);
  const current = new Map<string, StoredSpec>();
  const stale: StoredSpec[] = [];
  for (const c of configs) {
    const s = parseStored(c);
    if (s === undefined) continue;
    const key = objectKey(s.kind, s.name);
    const prev = current.get(key);
    if (prev === undefined || s.generation > prev.generation) {
      if (prev !== undefined) stale.push(prev);
      current.set(key, s);
    } else stale.push(s);
  }
  return { current, stale };
}

export async function applyObject(port: DockerPort, obj: ApiObject, now: () => Date = () => new Date()): Promise<ApplyResult> {
  const { current, stale } = await listStoredSpecs(port);
  const key = objectKey(obj.kind, obj.metadata.name);
  const prev = current.get(key);
  const hash = specHash(obj);
  if (prev !== undefined && prev.config.Spec.Labels?.[LABELS.specHash] === hash) return 'unchanged';
  const generation = (prev?.generation ?? 0) + 1;
  await port.createConfig({
    Name: specConfigName(obj.kind, obj.metadata.name, generation),
    Labels: {
      [LABELS.owner]: OWNER_VALUE,
      [LABELS.role]: 'spec',
      [LABELS.kind]: obj.kind,
      [LABELS.name]: obj.metadata.name,
      [LABELS.generation]: String(generation),
      [LABELS.specHash]: hash,
      [LABELS.createdAt]: prev?.createdAt ?? now().toISOString(),
      // A rollout outlives spec edits (a new threshold must not restart it): carry its state along.
      ...carried(prev),
    },
    Data: Buffer.from(`${JSON.stringify(encodeObject(obj), null, 2)}\n`).toString('base64'),
  });
  // Only after generation n+1 exists: removing first would lose the object if the create failed.
  for (const old of [...(prev !== undefined ? [prev] : []), ...stale.filter((s) => s.kind === obj.kind && s.name === obj.metadata.name)]) {
    await port.removeConfig(old.config.ID);
  }
  return prev === undefined ? 'created' : 'configured';
}

const CARRIED_LABELS = [LABELS.rollout, LABELS.rolloutCommand, LABELS.rolloutResult] as const;

function carried(prev: StoredSpec | undefined): Record<string, string> {
  const labels = prev?.config.Spec.Labels ?? {};
  return Object.fromEntries(CARRIED_LABELS.flatMap((k) => (labels[k] !== undefined ? [[k, labels[k]]] : [])));
}

/** Remove every generation of an object; false when nothing was stored under that name. */
export async function deleteObject(port: DockerPort, kind: Kind, name: string): Promise<boolean> {
  const { current, stale } = await listStoredSpecs(port);
  const all = [...current.values(), ...stale].filter((s) => s.kind === kind && s.name === name);
  for (const s of all) await port.removeConfig(s.config.ID);
  return all.length > 0;
}

type Decoded = E.Either<Rejected['issues'], ApiObject>;

/** The object stored in a spec config (its data is the object's JSON), decoded; unreadable JSON fails decoding. */
export async function decodeStoredObject(port: DockerPort, configId: string): Promise<ReturnType<typeof decodeObject>> {
  const full = await port.inspectConfig(configId);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(full.Spec.Data ?? '', 'base64').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  return decodeObject(parsed);
}

/**
 * Reads and decodes the stored objects: what the core reconciles. Invalid ones become rejects.
 * A config's content never changes, so decoded objects are cached by config ID: a run costs one
 * list call, plus one inspect per new generation.
 */
export class DesiredStateReader {
  private readonly cache = new Map<string, Decoded>();

  constructor(private readonly port: DockerPort) {}

  async read(): Promise<{ desired: DesiredState; stored: Map<string, StoredSpec> }> {
    const { current } = await listStoredSpecs(this.port);
    const routes: Stored<RouteObject>[] = [];
    const clusters: Stored<ServiceClusterObject>[] = [];
    const rejected: Rejected[] = [];
    const live = new Set<string>();
    for (const s of current.values()) {
      live.add(s.config.ID);
      const r = await this.decoded(s);
      if (E.isLeft(r)) {
        rejected.push({ kind: s.kind, name: s.name, generation: s.generation, issues: r.left });
        continue;
      }
      const base = { generation: s.generation, createdAt: s.createdAt };
      if (r.right.kind === 'Route') routes.push({ ...base, object: r.right });
      else clusters.push({ ...base, object: r.right });
    }
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    return { desired: { routes, clusters, rejected }, stored: current };
  }

  private async decoded(s: StoredSpec): Promise<Decoded> {
    const hit = this.cache.get(s.config.ID);
    if (hit !== undefined) return hit;
    const r = await decodeStoredObject(this.port, s.config.ID);
    const result: Decoded =
      E.isRight(r) && (r.right.kind !== s.kind || r.right.metadata.name !== s.name)
        ? E.left([{ path: ['metadata', 'name'], message: 'stored object does not match its labels' }])
        : r;
    this.cache.set(s.config.ID, result);
    return result;
  }
}
