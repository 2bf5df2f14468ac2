/**
 * The two JSON labels the CLI and the core exchange on a Route's current spec config to steer a
 * rollout: LABELS.rolloutCommand (written by the CLI, removed by the core) and LABELS.rolloutResult
 * (the core's verdict). The id ties a result to the command that caused it, so a CLI never mistakes
 * an older verdict for its own. One codec for both writers and both readers.
 *
 * Reading is tolerant in one way for everyone: a command label anybody may have written by hand is
 * never an error. Unreadable JSON or an unknown command still reads as a *pending* command (with no
 * `command`), so the core can answer it ("unknown command") and a CLI can tell it is there.
 */
import { LABELS } from './labels';

export const ROLLOUT_COMMANDS = ['promote', 'promoteFull', 'abort', 'retry'] as const;
export type RolloutCommand = (typeof ROLLOUT_COMMANDS)[number];

/** Longest command id kept (the CLI writes 16 hex digits). */
export const MAX_COMMAND_ID = 64;

export interface RolloutCommandLabel {
  readonly id: string;
  readonly command: RolloutCommand;
  /** ISO time the CLI wrote it, shown when another command is found pending. */
  readonly at: string;
}

/** A command label as found: `command` is absent when it is unreadable or not one of ROLLOUT_COMMANDS. */
export interface PendingCommand {
  readonly id: string;
  readonly at: string;
  /** What the label said the command was ("unreadable" when it is not a JSON object), for messages. */
  readonly raw: string;
  readonly command?: RolloutCommand;
}

export interface RolloutResultLabel {
  readonly id: string;
  readonly accepted: boolean;
  readonly message: string;
}

export function isRolloutCommand(v: unknown): v is RolloutCommand {
  return (ROLLOUT_COMMANDS as readonly unknown[]).includes(v);
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function encodeRolloutCommand(c: RolloutCommandLabel): string {
  return JSON.stringify({ id: c.id, command: c.command, at: c.at });
}

/** The command label's content; undefined only when there is no label. */
export function decodeRolloutCommand(text: string | undefined): PendingCommand | undefined {
  if (text === undefined) return undefined;
  const v = jsonObject(text);
  if (v === undefined) return { id: '', at: '', raw: 'unreadable' };
  const id = typeof v['id'] === 'string' ? v['id'].slice(0, MAX_COMMAND_ID) : '';
  const at = typeof v['at'] === 'string' ? v['at'] : '';
  const command = v['command'];
  return { id, at, raw: String(command), ...(isRolloutCommand(command) ? { command } : {}) };
}

/** A pending command the core will act on (known command), in the form the CLI wrote it; else undefined. */
export function knownCommand(p: PendingCommand | undefined): RolloutCommandLabel | undefined {
  return p?.command === undefined ? undefined : { id: p.id, command: p.command, at: p.at };
}

export function encodeRolloutResult(r: RolloutResultLabel): string {
  return JSON.stringify({ id: r.id, accepted: r.accepted, message: r.message });
}

/** The core's verdict; undefined when absent or unreadable (a CLI then keeps waiting for its own). */
export function decodeRolloutResult(text: string | undefined): RolloutResultLabel | undefined {
  const v = text === undefined ? undefined : jsonObject(text);
  if (v === undefined || typeof v['id'] !== 'string' || typeof v['accepted'] !== 'boolean') return undefined;
  return { id: v['id'], accepted: v['accepted'], message: typeof v['message'] === 'string' ? v['message'] : '' };
}

/** Labels with the command set (replacing any pending one: the core only ever acts on the latest). */
export function withCommand(labels: Readonly<Record<string, string>>, c: RolloutCommandLabel): Record<string, string> {
  return { ...labels, [LABELS.rolloutCommand]: encodeRolloutCommand(c) };
}

export function withoutCommand(labels: Readonly<Record<string, string>>): Record<string, string> {
  const { [LABELS.rolloutCommand]: _dropped, ...rest } = labels;
  return rest;
}
