/**
 * `swarmgate canary get NAME [--watch] [-o json]` and `swarmgate canary promote|abort|retry NAME`:
 * watch and steer a Route's rollout (`spec.canary`), in the manner of `kubectl argo rollouts`.
 * The core runs the rollout; these commands only read its state and leave commands for it.
 */
import { parseTimeout } from '../timeout-option';
import type { DockerPort } from '../../observed/docker-port';
import type { RolloutCommand } from '../../plan/rollout';
import { sendRolloutCommand, type SendOutcome } from '../canary-command';
import { canaryViewJson, formatCanaryView, isTerminal } from '../canary-view';
import { pause } from '../interrupt';
import { EXIT, type Output } from '../output';
import { WatchScreen } from '../watch-screen';
import { RouteRolloutReader } from '../route-rollout';
import { commandText } from '../rollout-labels';

export interface GetOptions {
  readonly watch?: boolean;
  readonly output?: string;
  /** How frames are drawn (see ../watch-screen.ts); default: stdout's, terminal or not. */
  readonly screen?: WatchScreen;
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
  readonly now?: () => Date;
}

/** A function, not an inline test, so the compiler does not assume the signal stays as first checked. */
const interrupted = (signal: AbortSignal | undefined): boolean => signal?.aborted === true;

export async function runCanaryGet(port: DockerPort, name: string, opts: GetOptions, io: Output): Promise<number> {
  const reader = new RouteRolloutReader(port);
  const now = opts.now ?? (() => new Date());
  const json = opts.output === 'json';
  const screen = opts.screen ?? WatchScreen.forStdout(io);
  let lastFacts = '';
  for (;;) {
    const lookup = await reader.read(name);
    if (!lookup.ok) {
      io.err(lookup.message);
      return EXIT.invalid;
    }
    const r = lookup.rollout;
    if (!opts.watch) {
      io.out(json ? JSON.stringify(canaryViewJson(r), null, 2) : formatCanaryView(r, now()));
      return EXIT.ok;
    }
    // What changed is judged on the stored facts, not the text: the text's ages and "s left" change every second.
    const facts = JSON.stringify({ generation: r.generation, ...(canaryViewJson(r) as object) });
    if (json) {
      if (facts !== lastFacts) io.out(JSON.stringify(canaryViewJson(r)));
    } else screen.show(formatCanaryView(r, now()), facts, now());
    lastFacts = facts;
    // A terminal state left from the previous generation is no end: the core has yet to restart the rollout.
    // The exit status says how it ended, for scripts: 0 Succeeded, 1 Failed or Aborted.
    if (isTerminal(r.state) && r.observedGeneration === r.generation) return r.state?.phase === 'Succeeded' ? EXIT.ok : EXIT.invalid;
    await pause(opts.intervalMs ?? 1000, opts.signal);
    if (interrupted(opts.signal)) return EXIT.ok;
  }
}

export interface CommandOptions {
  readonly timeout: string;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

export async function runCanaryCommand(port: DockerPort, name: string, command: RolloutCommand, opts: CommandOptions, io: Output): Promise<number> {
  const limit = parseTimeout(opts.timeout);
  if ('error' in limit) {
    io.err(limit.error);
    return EXIT.usage;
  }
  const outcome = await sendRolloutCommand(port, name, command, { timeoutMs: limit.ms, ...(opts.pollMs !== undefined ? { pollMs: opts.pollMs } : {}), ...(opts.signal !== undefined ? { signal: opts.signal } : {}) });
  return report(outcome, name, command, opts.timeout, io);
}

function report(outcome: SendOutcome, name: string, command: RolloutCommand, timeout: string, io: Output): number {
  const what = commandText(command);
  const ref = `route/${name}`;
  if ('replaced' in outcome && outcome.replaced !== undefined)
    io.err(`note: replaced a pending "${commandText(outcome.replaced.command)}" (id ${outcome.replaced.id}, sent ${outcome.replaced.at || '?'}) that the core had not taken`);
  switch (outcome.kind) {
    case 'answered':
      if (outcome.result.accepted) {
        io.out(`${ref}: ${what} accepted: ${outcome.result.message}`);
        return EXIT.ok;
      }
      io.err(`${ref}: ${what} rejected: ${outcome.result.message}`);
      return EXIT.invalid;
    case 'refused':
      io.err(outcome.lookup.message);
      return EXIT.invalid;
    case 'gone':
      io.err(outcome.message);
      return EXIT.invalid;
    case 'conflict':
      io.err(outcome.message);
      return EXIT.conflict;
    case 'replaced':
      io.err(`${ref}: "${what}" was replaced by another "${commandText(outcome.by.command)}" (id ${outcome.by.id}) before the core took it; the core acts on that one`);
      return EXIT.invalid;
    case 'timeout': {
      const why = outcome.aborted ? 'interrupted' : `the core did not pick up "${what}" within ${timeout} (is \`swarmgate core\` running?)`;
      io.err(
        outcome.withdrawn
          ? `${ref}: ${why}; the command was withdrawn, nothing changed`
          : `${ref}: ${outcome.aborted ? 'interrupted' : `no verdict on "${what}" within ${timeout}`}, but the core had already taken it; see \`swarmgate canary get ${name}\``,
      );
      return EXIT.invalid;
    }
  }
}
