/**
 * Specs live in the cluster's own store: one Swarm config per object generation, labelled with
 * kind, name, generation, spec hash and first-creation time. Configs are immutable except labels,
 * so a changed spec is a new config (generation n+1) and the old one is removed afterwards.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as E from 'fp-ts/Either';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { KINDS, objectKey, type Kind } from '../domain/meta';
import { decodeObject, encodeObject, type ApiObject } from '../domain/object';
import { isNameConflict, isNotFound, isOutOfSequence } from '../observed/docker-errors';
import type { ConfigInfo, DockerPort } from '../observed/docker-port';
import { ConflictError, isConflict } from './conflict';
import { canonicalJson, fnv1a32 } from '../plan/hash';
import type { DesiredState, Rejected, Stored } from '../plan/inputs';
import type { IssuerObject, MiddlewareObject, RouteObject, ServiceClusterObject, StreamRouteObject } from '../domain/object';

export type ApplyResult = 'created' | 'configured' | 'unchanged';

/**
 * On a spec config: written (version-checked) by the apply that replaces it, JSON {generation, id, at}.
 * From then on the config's labels are frozen: the apply copies the rollout labels from exactly that
 * version into generation n+1, so the core and the CLI never write a sealed config (a write based on
 * an earlier read fails its version check). Kept here, not in LABELS: only the spec store and the
 * label writers that must respect it read it.
 */
export const SEAL_LABEL = 'io.swarmgate.superseded-by';

/** A seal older than this without its generation n+1 is an apply that died: the core lifts it, the next apply takes it over. */
export const SEAL_TTL_MS = 60_000;

export interface Seal {
  /** The generation being written (a delete: the generation being removed). */
  readonly generation: number;
  /** Random, per apply or delete: tells a writer its own seal from another's. */
  readonly id: string;
  /** ISO time the seal was written. */
  readonly at: string;
  /** Sealed by a delete: the object is being removed, no generation follows. */
  readonly deleting?: true;
}

export interface StoredSpec {
  readonly kind: Kind;
  readonly name: string;
  readonly generation: number;
  readonly createdAt: string;
  readonly config: ConfigInfo;
  /** Set while an apply replaces this generation (see SEAL_LABEL). */
  readonly sealed?: Seal;
}

export function specHash(obj: ApiObject): string {
  return createHash('sha256').update(canonicalJson(encodeObject(obj))).digest('hex');
}

/** One letter per kind in config names (existing names keep theirs: r and c). */
const KIND_LETTER: Readonly<Record<Kind, string>> = { Route: 'r', ServiceCluster: 'c', Middleware: 'm', TCPRoute: 't', UDPRoute: 'u', Issuer: 'i' };

/** `sgr-shop-1a2b3c-4`: readable, unique per object (the hash), under Docker's 64-character limit. */
export function specConfigName(kind: Kind, name: string, generation: number): string {
  return `sg${KIND_LETTER[kind]}-${name.slice(0, 40)}-${fnv1a32(objectKey(kind, name)).slice(0, 6)}-${generation}`;
}

export function parseSeal(text: string | undefined): Seal | undefined {
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as { generation?: unknown; id?: unknown; at?: unknown; deleting?: unknown };
    // Unreadable but present still seals: a writer must not write a config someone marked as being replaced.
    return {
      generation: typeof v.generation === 'number' ? v.generation : 0,
      id: typeof v.id === 'string' ? v.id : '',
      at: typeof v.at === 'string' ? v.at : '',
      ...(v.deleting === true ? { deleting: true as const } : {}),
    };
  } catch {
    return { generation: 0, id: '', at: '' };
  }
}

/** A seal whose apply stopped before storing its generation (unreadable times count as old). */
export function sealAbandoned(seal: Seal, now: Date): boolean {
  const at = Date.parse(seal.at);
  return !Number.isFinite(at) || now.getTime() - at > SEAL_TTL_MS;
}

function parseStored(c: ConfigInfo): StoredSpec | undefined {
  const l = c.Spec.Labels ?? {};
  const kind = l[LABELS.kind];
  const name = l[LABELS.name];
  const generation = Number(l[LABELS.generation]);
  if (!(KINDS as readonly (string | undefined)[]).includes(kind) || name === undefined || !Number.isInteger(generation) || l[LABELS.role] !== 'spec') return undefined;
  const sealed = parseSeal(l[SEAL_LABEL]);
  return { kind: kind as Kind, name, generation, createdAt: l[LABELS.createdAt] ?? c.CreatedAt ?? '', config: c, ...(sealed !== undefined ? { sealed } : {}) };
}

/**
 * The newest generation of every stored object, plus older generations left behind by an interrupted
 * apply; with `only`, of that one object (the daemon filters by its labels, so an apply does not list
 * every object's spec config).
 */
export async function listStoredSpecs(port: DockerPort, only?: { readonly kind: Kind; readonly name: string }): Promise<{ current: Map<string, StoredSpec>; stale: StoredSpec[] }> {
  const configs = await port.listConfigs(only === undefined ? [`${LABELS.role}=spec`, LABELS.kind] : [`${LABELS.role}=spec`, `${LABELS.kind}=${only.kind}`, `${LABELS.name}=${only.name}`]);
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

/** Every stored generation of one object, newest first. */
async function generationsOf(port: DockerPort, kind: Kind, name: string): Promise<StoredSpec[]> {
  const { current, stale } = await listStoredSpecs(port, { kind, name });
  return [...current.values(), ...stale].filter((s) => s.kind === kind && s.name === name).sort((a, b) => b.generation - a.generation);
}

/** Removal that tolerates a config someone else removed first; true when this call removed it. */
async function removeIfPresent(port: DockerPort, id: string): Promise<boolean> {
  try {
    await port.removeConfig(id);
    return true;
  } catch (e) {
    if (isNotFound(e)) return false;
    throw e;
  }
}

export interface ApplyOutcome {
  readonly result: ApplyResult;
  /** The generation now stored with this spec (for 'unchanged', the one that already was). */
  readonly generation: number;
}

/** Seal writes that lose to a status or rollout-command write are re-read and retried this often. */
const MAX_SEAL_ATTEMPTS = 8;

const RUN_AGAIN = 'nothing of this apply was stored — run apply again';

/**
 * Store `obj` as generation n+1 of its object, with optimistic concurrency on generation n as read:
 *
 * 1. read the current generation n (nothing to do when its spec hash is ours);
 * 2. seal n (a version-checked label write, SEAL_LABEL): n's labels are frozen from here on. A seal that
 *    loses to a status or rollout-command write (out of sequence) is retried on a fresh read; when the
 *    fresh read shows another apply's seal, a newer generation or no object at all, another writer won:
 *    ConflictError, nothing written;
 * 3. create generation n+1 carrying n's rollout labels as sealed. Config names are unique, so of two
 *    writers of n+1 exactly one create succeeds; the other gets ConflictError. (Generation 1 has no n
 *    to seal: the create alone decides.)
 * 4. check n still carries our seal at the sealed version (else someone wrote it after the seal was lifted
 *    as abandoned: our copy of its labels may be old, so generation n+1 is removed again → ConflictError),
 *    remove n and older leftovers (a 404 is fine: a concurrent delete or cleanup got there first);
 * 5. re-list: only when generation n+1 (or a later apply's generation above it, which sealed ours) is
 *    stored is the result reported. Gone: a concurrent delete won → ConflictError.
 */
export async function applyObjectChecked(port: DockerPort, obj: ApiObject, now: () => Date = () => new Date()): Promise<ApplyOutcome> {
  const kind = obj.kind;
  const name = obj.metadata.name;
  const hash = specHash(obj);
  const sealId = randomBytes(8).toString('hex');
  const conflict = (detail: string): ConflictError => new ConflictError(kind, name, detail);

  let gens = await generationsOf(port, kind, name);
  const first = gens[0];
  if (first !== undefined && first.config.Spec.Labels?.[LABELS.specHash] === hash && (first.sealed === undefined || sealAbandoned(first.sealed, now()))) return { result: 'unchanged', generation: first.generation };
  /** The generation this apply replaces, as first read: another writer moving past it wins. */
  const base = first?.generation ?? 0;
  const baseId = first?.config.ID;
  const generation = base + 1;

  // 2. Seal generation n.
  let sealed: { prev: StoredSpec; version: number } | undefined;
  for (let attempt = 1; first !== undefined && sealed === undefined; attempt++) {
    const prev = gens[0];
    if (prev === undefined) throw conflict(`it was deleted while this apply was being written; ${RUN_AGAIN}`);
    // Another apply stored exactly this spec meanwhile: what this apply asked for is stored.
    if (prev.config.ID !== baseId && prev.config.Spec.Labels?.[LABELS.specHash] === hash && prev.sealed === undefined) return { result: 'unchanged', generation: prev.generation };
    // By config ID: a delete followed by another apply may have stored the same generation number again.
    if (prev.config.ID !== baseId) throw conflict(`another apply stored generation ${prev.generation} while this one was being written; ${RUN_AGAIN}`);
    if (prev.sealed !== undefined && prev.sealed.id !== sealId && !sealAbandoned(prev.sealed, now()))
      throw conflict(prev.sealed.deleting === true ? `a delete is removing it right now; ${RUN_AGAIN}` : `another apply is storing generation ${prev.sealed.generation} right now; ${RUN_AGAIN}`);
    const labels = { ...(prev.config.Spec.Labels ?? {}), [SEAL_LABEL]: JSON.stringify({ generation, id: sealId, at: now().toISOString() }) };
    try {
      await port.updateConfigLabels(prev.config.ID, prev.config.Version.Index, { ...prev.config.Spec, Labels: labels });
      const after = await port.inspectConfig(prev.config.ID);
      // Nobody writes a sealed config, so this is the version our seal made (unless it was lifted already).
      if (parseSeal(after.Spec.Labels?.[SEAL_LABEL])?.id !== sealId) throw conflict(`another writer changed generation ${base} while this apply sealed it; ${RUN_AGAIN}`);
      sealed = { prev: { ...prev, config: after }, version: after.Version.Index };
    } catch (e) {
      if (isConflict(e)) throw e;
      // A status or rollout-command write (or another apply's seal) came first: look again.
      if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
      if (attempt >= MAX_SEAL_ATTEMPTS) throw conflict(`generation ${base} kept changing while this apply tried to replace it; ${RUN_AGAIN}`);
      gens = await generationsOf(port, kind, name);
    }
  }
  const prev = sealed?.prev;

  // 3. Create generation n+1: the config name is the lock on "generation n+1".
  let id: string;
  try {
    id = await port.createConfig({
      Name: specConfigName(kind, name, generation),
      Labels: {
        [LABELS.owner]: OWNER_VALUE,
        [LABELS.role]: 'spec',
        [LABELS.kind]: kind,
        [LABELS.name]: name,
        [LABELS.generation]: String(generation),
        [LABELS.specHash]: hash,
        [LABELS.createdAt]: prev?.createdAt ?? now().toISOString(),
        // A rollout outlives spec edits (a new threshold must not restart it): carry its state along.
        ...carried(prev),
      },
      Data: Buffer.from(`${JSON.stringify(encodeObject(obj), null, 2)}\n`).toString('base64'),
    });
  } catch (e) {
    if (sealed !== undefined) await unseal(port, sealed.prev.config.ID, sealId);
    if (!isNameConflict(e)) throw e;
    const other = (await generationsOf(port, kind, name)).find((s) => s.generation === generation);
    if (other !== undefined && other.config.Spec.Labels?.[LABELS.specHash] === hash) return { result: 'unchanged', generation };
    throw conflict(`another apply stored generation ${generation} while this one was being written; ${RUN_AGAIN}`);
  }

  // 4. Retire generation n, only while it still holds our seal at the version we sealed.
  if (sealed !== undefined) {
    let still: ConfigInfo | undefined;
    try {
      still = await port.inspectConfig(sealed.prev.config.ID);
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (still !== undefined && still.Version.Index !== sealed.version) {
      await removeIfPresent(port, id);
      throw conflict(`generation ${base} changed after this apply sealed it (the seal was lifted as abandoned); ${RUN_AGAIN}`);
    }
  }
  // Only after generation n+1 exists: removing first would lose the object if the create failed.
  for (const old of gens.filter((s) => s.generation < generation)) await removeIfPresent(port, old.config.ID);

  // 5. Report only what is stored.
  const after = await generationsOf(port, kind, name);
  // A newer generation than ours was written by an apply that sealed ours, i.e. that came after this one.
  if (!after.some((s) => s.config.ID === id || s.generation > generation)) throw conflict(`generation ${generation} was stored, then removed by a concurrent delete; the ${kind.toLowerCase()} is deleted`);
  return { result: prev === undefined ? 'created' : 'configured', generation };
}

/** applyObjectChecked's result alone (tests and callers that need no generation). */
export async function applyObject(port: DockerPort, obj: ApiObject, now: () => Date = () => new Date()): Promise<ApplyResult> {
  return (await applyObjectChecked(port, obj, now)).result;
}

/** Lift our own seal after a failed create, so the object is not frozen until the seal expires. Best effort. */
async function unseal(port: DockerPort, configId: string, sealId: string): Promise<void> {
  try {
    const c = await port.inspectConfig(configId);
    if (parseSeal(c.Spec.Labels?.[SEAL_LABEL])?.id !== sealId) return;
    const { [SEAL_LABEL]: _seal, ...labels } = c.Spec.Labels ?? {};
    await port.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: labels });
  } catch {
    // The core lifts it after SEAL_TTL_MS.
  }
}

/**
 * Lift seals whose apply died before storing its generation (older than SEAL_TTL_MS, no newer
 * generation): the core calls this so a crashed apply does not freeze status and rollouts.
 * Returns the specs as they are now (lifted ones with their new version).
 */
export async function liftAbandonedSeals(port: DockerPort, stored: ReadonlyMap<string, StoredSpec>, now: Date): Promise<{ stored: Map<string, StoredSpec>; lifted: string[] }> {
  const out = new Map(stored);
  const lifted: string[] = [];
  for (const [key, s] of stored) {
    if (s.sealed === undefined || !sealAbandoned(s.sealed, now)) continue;
    const { [SEAL_LABEL]: _seal, ...labels } = s.config.Spec.Labels ?? {};
    try {
      await port.updateConfigLabels(s.config.ID, s.config.Version.Index, { ...s.config.Spec, Labels: labels });
      const { sealed: _s, ...rest } = s;
      out.set(key, { ...rest, config: await port.inspectConfig(s.config.ID) });
      lifted.push(key);
    } catch (e) {
      // Someone else moved it (the apply finished after all, or another core): the next run looks again.
      if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
    }
  }
  return { stored: out, lifted };
}

const CARRIED_LABELS = [LABELS.rollout, LABELS.rolloutCommand, LABELS.rolloutResult] as const;

function carried(prev: StoredSpec | undefined): Record<string, string> {
  const labels = prev?.config.Spec.Labels ?? {};
  return Object.fromEntries(CARRIED_LABELS.flatMap((k) => (labels[k] !== undefined ? [[k, labels[k]]] : [])));
}

export type DeleteResult = 'deleted' | 'notFound';

/**
 * Remove every generation of an object, with optimistic concurrency like apply: first seal the newest
 * generation as being deleted (version-checked), so an apply that read it can no longer seal it and store
 * a generation on top (it gets a conflict), then remove every generation (404 is fine). A newest
 * generation sealed by an apply in progress is a conflict for the delete. Another delete's seal is no
 * conflict: both remove, and the one that found nothing left to remove reports not found. A generation
 * that appears anyway (an apply that read the object after it was removed) is found by the re-read:
 * ConflictError, the object exists with the apply's spec.
 */
export async function deleteObjectChecked(port: DockerPort, kind: Kind, name: string, now: () => Date = () => new Date()): Promise<DeleteResult> {
  const sealId = randomBytes(8).toString('hex');
  const conflict = (detail: string): ConflictError => new ConflictError(kind, name, detail);
  let all = await generationsOf(port, kind, name);
  /** The newest generation as first read: a newer one stored meanwhile wins over this delete. */
  const baseId = all[0]?.config.ID;
  for (let attempt = 1; ; attempt++) {
    const top = all[0];
    if (top === undefined) return 'notFound';
    if (top.config.ID !== baseId) throw conflict(`another apply stored generation ${top.generation} while this delete ran; it is not deleted — run delete again`);
    const seal = top.sealed;
    if (seal !== undefined && seal.deleting === true) break;
    if (seal !== undefined && !sealAbandoned(seal, now())) throw conflict(`an apply is storing generation ${seal.generation} right now; it is not deleted — run delete again`);
    try {
      const labels = { ...(top.config.Spec.Labels ?? {}), [SEAL_LABEL]: JSON.stringify({ generation: top.generation, id: sealId, at: now().toISOString(), deleting: true }) };
      await port.updateConfigLabels(top.config.ID, top.config.Version.Index, { ...top.config.Spec, Labels: labels });
      break;
    } catch (e) {
      // A status or command write, an apply's seal or another delete came first: look again.
      if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
      if (attempt >= MAX_SEAL_ATTEMPTS) throw conflict(`it kept changing while this delete tried to remove it; it is not deleted — run delete again`);
      all = await generationsOf(port, kind, name);
    }
  }
  let removed = 0;
  for (const s of all) if (await removeIfPresent(port, s.config.ID)) removed++;
  const seen = new Set(all.map((s) => s.config.ID));
  const newer = (await generationsOf(port, kind, name)).filter((s) => !seen.has(s.config.ID));
  const top = newer[0];
  if (top !== undefined) throw conflict(`another apply stored generation ${top.generation} while this delete ran; it is not deleted — run delete again`);
  return removed > 0 ? 'deleted' : 'notFound';
}

/** Remove every generation of an object; false when nothing was stored under that name. */
export async function deleteObject(port: DockerPort, kind: Kind, name: string): Promise<boolean> {
  return (await deleteObjectChecked(port, kind, name)) === 'deleted';
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
    const middlewares: Stored<MiddlewareObject>[] = [];
    const streamRoutes: Stored<StreamRouteObject>[] = [];
    const issuers: Stored<IssuerObject>[] = [];
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
      else if (r.right.kind === 'ServiceCluster') clusters.push({ ...base, object: r.right });
      else if (r.right.kind === 'Middleware') middlewares.push({ ...base, object: r.right });
      else if (r.right.kind === 'Issuer') issuers.push({ ...base, object: r.right });
      else streamRoutes.push({ ...base, object: r.right });
    }
    for (const id of this.cache.keys()) if (!live.has(id)) this.cache.delete(id);
    return {
      desired: {
        routes,
        clusters,
        rejected,
        ...(middlewares.length > 0 ? { middlewares } : {}),
        ...(streamRoutes.length > 0 ? { streamRoutes } : {}),
        ...(issuers.length > 0 ? { issuers } : {}),
      },
      stored: current,
    };
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
