/**
 * The CLI's side of the rollout command labels: fresh command ids and how commands are named on the
 * command line. The label format itself is src/domain/rollout-labels.ts, shared with the core.
 */
import { randomBytes } from 'node:crypto';
import type { RolloutCommand } from '../domain/rollout-labels';

/** 16 random hex digits: enough that two CLIs never pick the same id. */
export function newCommandId(): string {
  return randomBytes(8).toString('hex');
}

/** How users name the commands on the command line (`promote --full` is the core's `promoteFull`). */
export function commandText(c: RolloutCommand): string {
  return c === 'promoteFull' ? 'promote --full' : c;
}
