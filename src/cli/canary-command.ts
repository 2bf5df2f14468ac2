/**
 * Sending a rollout command to the core and waiting for its verdict. The CLI has no channel to the
 * core but the Route's config labels: it writes LABELS.rolloutCommand (version-checked), the core
 * consumes it and answers in LABELS.rolloutResult with the same id. On timeout (or Ctrl-C) the CLI
 * withdraws its command, so a core that starts later does not act on a command nobody waits for.
 */
import { ConflictError, isConflict } from '../desired/conflict';
import { SEAL_LABEL } from '../desired/spec-store';
import { isNotFound, isOutOfSequence } from '../observed/docker-errors';
import type { DockerPort } from '../observed/docker-port';
import type { RolloutCommand } from '../plan/rollout';
import { pause } from './interrupt';
import { RouteRolloutReader, type RolloutLookup, type RouteRollout } from './route-rollout';
import { withCommand, withoutCommand, type RolloutCommandLabel, type RolloutResultLabel } from '../domain/rollout-labels';
import { newCommandId } from './rollout-labels';

/** Label writes that lose a race with the core (or an apply) are re-read and retried this often. */
const MAX_WRITE_ATTEMPTS = 5;
/** A config an apply is replacing (sealed) is not written: wait this long for its new generation, this often. */
const SEALED_WAIT_MS = 100;
const MAX_SEALED_WAITS = 50;

export interface SendOptions {
  readonly timeoutMs: number;
  readonly pollMs?: number;
  /** Ctrl-C: stop waiting and withdraw the command, as on timeout. */
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
  readonly id?: string;
}

export type SendOutcome =
  /** The core answered this command (accepted or not). */
  | { readonly kind: 'answered'; readonly result: RolloutResultLabel; readonly replaced?: RolloutCommandLabel }
  /** Nothing was sent: unknown route, invalid spec, or no spec.canary. */
  | { readonly kind: 'refused'; readonly lookup: Extract<RolloutLookup, { ok: false }> }
  /** The route (or its spec.canary) went away while waiting. */
  | { readonly kind: 'gone'; readonly message: string }
  /** Another CLI overwrote the command before the core took it: the core will never answer this one. */
  | { readonly kind: 'replaced'; readonly by: RolloutCommandLabel }
  /** The route kept changing under the label write (applies, the core): nothing was sent, or the withdrawal did not happen. */
  | { readonly kind: 'conflict'; readonly message: string }
  /**
   * No answer in time. `withdrawn`: the command was still pending and has been removed. Otherwise the
   * core had already taken it (its verdict will show in `canary get`).
   */
  | { readonly kind: 'timeout'; readonly withdrawn: boolean; readonly aborted: boolean; readonly replaced?: RolloutCommandLabel };

type WriteResult = { readonly ok: true; readonly before: RouteRollout } | { readonly ok: false; readonly lookup: Extract<RolloutLookup, { ok: false }> };

/**
 * Re-read the route and write `labels(rollout)` on its current config until the write is not stale.
 * `labels` returning undefined means there is nothing to write any more.
 */
async function writeLabels(
  reader: RouteRolloutReader,
  port: DockerPort,
  name: string,
  labels: (r: RouteRollout) => Record<string, string> | undefined,
  signal?: AbortSignal,
): Promise<WriteResult> {
  let sealedWaits = 0;
  for (let attempt = 1; ; ) {
    const lookup = await reader.read(name);
    if (!lookup.ok) return { ok: false, lookup };
    const { config } = lookup.rollout;
    const next = labels(lookup.rollout);
    if (next === undefined) return { ok: true, before: lookup.rollout };
    // An apply is replacing this generation and copies its labels as they were sealed: a write now would
    // be lost. Its generation n+1 follows within milliseconds (or the seal is lifted): write there.
    if (config.Spec.Labels?.[SEAL_LABEL] !== undefined) {
      if (++sealedWaits > MAX_SEALED_WAITS)
        throw new ConflictError('Route', name, `an apply has been replacing generation ${lookup.rollout.generation} for ${(MAX_SEALED_WAITS * SEALED_WAIT_MS) / 1000}s; nothing was written — run the command again`);
      await pause(SEALED_WAIT_MS, signal);
      continue;
    }
    try {
      await port.updateConfigLabels(config.ID, config.Version.Index, { ...config.Spec, Labels: next });
      return { ok: true, before: lookup.rollout };
    } catch (e) {
      // Stale version (the core, an apply's seal or another CLI wrote in between) or a config replaced by a re-apply: read again.
      if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
      if (++attempt > MAX_WRITE_ATTEMPTS)
        throw new ConflictError('Route', name, `its config changed ${MAX_WRITE_ATTEMPTS} times while this command was being written (applies, the core, other commands); nothing was written — run the command again`);
    }
  }
}

export async function sendRolloutCommand(port: DockerPort, name: string, command: RolloutCommand, opts: SendOptions): Promise<SendOutcome> {
  const now = opts.now ?? (() => new Date());
  const pollMs = opts.pollMs ?? 250;
  const reader = new RouteRolloutReader(port);
  const label: RolloutCommandLabel = { id: opts.id ?? newCommandId(), command, at: now().toISOString() };
  let sent: WriteResult;
  try {
    sent = await writeLabels(reader, port, name, (r) => withCommand(r.config.Spec.Labels ?? {}, label), opts.signal);
  } catch (e) {
    if (isConflict(e)) return { kind: 'conflict', message: e.message };
    throw e;
  }
  if (!sent.ok) return { kind: 'refused', lookup: sent.lookup };
  // A pending command nobody will wait for any more (its CLI was killed) is replaced; say so.
  const replaced = sent.before.pending !== undefined && sent.before.pending.id !== label.id ? { replaced: sent.before.pending } : {};

  const deadline = now().getTime() + opts.timeoutMs;
  for (;;) {
    if (opts.signal?.aborted === true || now().getTime() >= deadline) break;
    await pause(pollMs, opts.signal);
    const lookup = await reader.read(name);
    if (!lookup.ok) return { kind: 'gone', message: `${lookup.message} (changed while waiting for the core)` };
    const { result, pending } = lookup.rollout;
    if (result?.id === label.id) return { kind: 'answered', result, ...replaced };
    if (pending !== undefined && pending.id !== label.id) return { kind: 'replaced', by: pending };
  }
  return withdraw(reader, port, name, label, opts.signal?.aborted === true, replaced);
}

/** Remove our command if it is still pending; the version check makes this safe against the core taking it meanwhile. */
async function withdraw(reader: RouteRolloutReader, port: DockerPort, name: string, label: RolloutCommandLabel, aborted: boolean, replaced: { replaced?: RolloutCommandLabel }): Promise<SendOutcome> {
  let answered: RolloutResultLabel | undefined;
  let withdrawn = false;
  let w: WriteResult;
  try {
    w = await writeLabels(reader, port, name, (r) => {
      // Decided afresh on every attempt: a stale write is retried on what the core has written since.
      answered = r.result?.id === label.id ? r.result : undefined;
      withdrawn = answered === undefined && r.pending?.id === label.id;
      return withdrawn ? withoutCommand(r.config.Spec.Labels ?? {}) : undefined;
    });
  } catch (e) {
    if (!isConflict(e)) throw e;
    return { kind: 'conflict', message: `${e.message.replace(/; nothing was written — run the command again$/, '')}; the command could not be withdrawn and may still be acted on: see \`swarmgate canary get ${name}\`` };
  }
  if (!w.ok) return { kind: 'gone', message: `${w.lookup.message} (changed while waiting for the core)` };
  // The core answered between the last poll and the withdrawal: report the verdict, not a timeout.
  if (answered !== undefined) return { kind: 'answered', result: answered, ...replaced };
  return { kind: 'timeout', withdrawn, aborted, ...replaced };
}
