/**
 * The two JSON labels the CLI and the core exchange on a Route's current config to steer a rollout
 * (LABELS.rolloutCommand, written by the CLI; LABELS.rolloutResult, written by the core). The id ties
 * a result to the command that caused it, so a CLI never mistakes an older verdict for its own.
 */
import { randomBytes } from 'node:crypto';
import { LABELS } from '../domain/labels';
import { ROLLOUT_COMMANDS, type RolloutCommand } from '../plan/rollout';

export interface RolloutCommandLabel {
  readonly id: string;
  readonly command: RolloutCommand;
  /** ISO time the CLI wrote it, shown when another command is found pending. */
  readonly at: string;
}

export interface RolloutResultLabel {
  readonly id: string;
  readonly accepted: boolean;
  readonly message: string;
}

/** 16 random hex digits: enough that two CLIs never pick the same id. */
export function newCommandId(): string {
  return randomBytes(8).toString('hex');
}

export function encodeCommand(c: RolloutCommandLabel): string {
  return JSON.stringify({ id: c.id, command: c.command, at: c.at });
}

function parseJson(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A label someone else may have written by hand: anything malformed reads as absent rather than failing the CLI. */
export function parseCommand(text: string | undefined): RolloutCommandLabel | undefined {
  const v = parseJson(text);
  const command = v?.['command'];
  if (v === undefined || typeof v['id'] !== 'string' || typeof command !== 'string' || !(ROLLOUT_COMMANDS as readonly string[]).includes(command)) return undefined;
  return { id: v['id'], command: command as RolloutCommand, at: typeof v['at'] === 'string' ? v['at'] : '' };
}

export function parseResult(text: string | undefined): RolloutResultLabel | undefined {
  const v = parseJson(text);
  if (v === undefined || typeof v['id'] !== 'string' || typeof v['accepted'] !== 'boolean') return undefined;
  return { id: v['id'], accepted: v['accepted'], message: typeof v['message'] === 'string' ? v['message'] : '' };
}

/** Labels with the command set (replacing any pending one: the core only ever acts on the latest). */
export function withCommand(labels: Readonly<Record<string, string>>, c: RolloutCommandLabel): Record<string, string> {
  return { ...labels, [LABELS.rolloutCommand]: encodeCommand(c) };
}

export function withoutCommand(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { [LABELS.rolloutCommand]: _dropped, ...rest } = labels;
  return rest;
}

/** How users name the commands on the command line (`promote --full` is the core's `promoteFull`). */
export function commandText(c: RolloutCommand): string {
  return c === 'promoteFull' ? 'promote --full' : c;
}
