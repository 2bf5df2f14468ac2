/**
 * The journal of one compiled route's reads (ADR 0048): everything compileRoute learns besides its
 * route, the cluster's spec and the route's policies goes through the index, the certificates and the
 * cluster's NameTable. While a route is compiled, each lookup is recorded with its answer, in order.
 *
 * A later build replays the recorded reads against its own index, certificates and table: every answer
 * the same (compared as data; a name must be the very name) ⇔ compileRoute, deterministic, would make
 * the same calls and return the same value, so the kept CompiledRoute is reused as it is. The first
 * answer that differs stops the replay and the route is compiled again. Replaying a name asks it of the
 * table (that is how the answer is known), so the names replayed so far are assigned; they are the
 * prefix of the calls the new compilation makes itself (same inputs and same answers so far ⇒ same
 * calls, and a NameTable answers one identity the same name every time), so the table ends exactly as
 * a build from scratch leaves it: collision-free, and every name the cold build's (ADR 0003).
 */
import type { CertificateReads } from './compile-route';
import type { IndexReads, Names } from './resolve-backends';
import { sameData } from './same-data';

export type CompileRead =
  | { readonly kind: 'service' | 'addresses' | 'tasks' | 'node' | 'certificate'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'network'; readonly key: string; readonly value: boolean }
  | { readonly kind: 'name'; readonly key: string; readonly base: string; readonly value: string };

/** The inputs compileRoute reads through, as a build has them. */
export interface CompileSources {
  readonly idx: IndexReads;
  readonly certs: CertificateReads;
  readonly names: Names;
}

/** Run `compile` over `src`, recording every read it makes: its value and the reads. */
export function recordCompile<T>(src: CompileSources, compile: (src: CompileSources) => T): { value: T; reads: readonly CompileRead[] } {
  const reads: CompileRead[] = [];
  const get =
    <V>(kind: 'service' | 'addresses' | 'tasks' | 'node' | 'certificate', read: (key: string) => V) =>
    (key: string): V => {
      const value = read(key);
      reads.push({ kind, key, value });
      return value;
    };
  const { idx, certs, names } = src;
  const recording: CompileSources = {
    idx: {
      services: { get: get('service', (k) => idx.services.get(k)) },
      routableNetworks: {
        has: (key) => {
          const value = idx.routableNetworks.has(key);
          reads.push({ kind: 'network', key, value });
          return value;
        },
      },
      runningAddresses: { get: get('addresses', (k) => idx.runningAddresses.get(k)) },
      runningTasks: { get: get('tasks', (k) => idx.runningTasks.get(k)) },
      nodeAddresses: { get: get('node', (k) => idx.nodeAddresses.get(k)) },
    },
    certs: { get: get('certificate', (k) => certs.get(k)) },
    names: {
      name: (key, base) => {
        const value = names.name(key, base);
        reads.push({ kind: 'name', key, base, value });
        return value;
      },
    },
  };
  const value = compile(recording);
  return { value, reads };
}

/** Replay `reads` against `src` in order: true when every answer is the recorded one (see the module comment). */
export function replayCompile(reads: readonly CompileRead[], src: CompileSources): boolean {
  for (const r of reads) {
    if (!sameAnswer(r, src)) return false;
  }
  return true;
}

function sameAnswer(r: CompileRead, { idx, certs, names }: CompileSources): boolean {
  switch (r.kind) {
    case 'name':
      return names.name(r.key, r.base) === r.value;
    case 'network':
      return idx.routableNetworks.has(r.key) === r.value;
    case 'service':
      return sameData(idx.services.get(r.key), r.value);
    case 'addresses':
      return sameData(idx.runningAddresses.get(r.key), r.value);
    case 'tasks':
      return sameData(idx.runningTasks.get(r.key), r.value);
    case 'node':
      return idx.nodeAddresses.get(r.key) === r.value;
    case 'certificate':
      return sameData(certs.get(r.key), r.value);
  }
}
