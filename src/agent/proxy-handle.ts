/**
 * The proxy master the agent runs, whether the agent started it (a child process) or adopted it
 * from an agent that died (ADR 0018): the proxy is started detached, so it outlives its agent, and
 * the agent's supervisor (agent-supervisor.ts) starts a new agent, which finds the running master
 * from the record the old one left (`<confDir>.master.json`) and takes it over instead of starting
 * another. An adopted master is not the agent's child: its end is noticed by polling /proc (every
 * 20 ms), and its exit status is unknown. The record holds the master's start time (field 22 of
 * /proc/<pid>/stat), so a PID the kernel reused for another process is never adopted.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';

export type EndListener = (code: number | null, signal: NodeJS.Signals | null, error?: Error) => void;

export interface ProxyHandle {
  /** The master's PID (undefined: a spawn that failed). */
  readonly pid: number | undefined;
  /** Started by this agent (false: adopted from an agent that died). */
  readonly spawned: boolean;
  running(): boolean;
  kill(signal: NodeJS.Signals): void;
  /** Called once when the master has ended (or could not be started). */
  onEnd(listener: EndListener): void;
}

export function spawnedHandle(proc: ChildProcess): ProxyHandle {
  return {
    pid: proc.pid,
    spawned: true,
    running: () => proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null,
    kill: (signal) => void proc.kill(signal),
    onEnd(listener) {
      let ended = false;
      const once: EndListener = (code, signal, error) => {
        if (ended) return;
        ended = true;
        listener(code, signal, error);
      };
      proc.on('exit', (code, signal) => once(code, signal));
      // A spawn that failed (binary missing) emits only 'error'.
      proc.on('error', (err) => once(null, null, err));
    },
  };
}

interface ProcIdentity {
  readonly state: string;
  /** Field 22 of /proc/<pid>/stat: clock ticks after boot; with the PID, names one process for good. */
  readonly startTime: string;
}

/** State and start time of `pid`, or undefined when there is no such process. */
export function procIdentity(pid: number): ProcIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = f[0];
    const startTime = f[19];
    return state === undefined || startTime === undefined ? undefined : { state, startTime };
  } catch {
    return undefined;
  }
}

function alive(pid: number, startTime: string): boolean {
  const id = procIdentity(pid);
  // A zombie has ended: its parent (PID 1, once the agent that started it died) has not reaped it yet.
  return id !== undefined && id.startTime === startTime && id.state !== 'Z' && id.state !== 'X';
}

/** A master this agent did not start: liveness from /proc, polled every `pollMs`. */
export function adoptedHandle(pid: number, startTime: string, pollMs = 20): ProxyHandle {
  return {
    pid,
    spawned: false,
    running: () => alive(pid, startTime),
    kill(signal) {
      if (alive(pid, startTime)) process.kill(pid, signal);
    },
    onEnd(listener) {
      const timer = setInterval(() => {
        if (alive(pid, startTime)) return;
        clearInterval(timer);
        listener(null, null);
      }, pollMs);
    },
  };
}

/** What an agent leaves for the next one: the running master, and the config it runs. */
export interface MasterRecord {
  readonly kind: string;
  readonly pid: number;
  readonly startTime: string;
  /** Hash of the live config (what the agent reports as applied), '' when the boot config. */
  readonly appliedHash: string;
  readonly appliedAt: number;
}

export function masterRecordPath(confDir: string): string {
  return `${confDir.replace(/\/+$/, '')}.master.json`;
}

/** Write the record atomically (a new agent may read it at any moment). */
export function writeMasterRecord(confDir: string, r: MasterRecord): void {
  const path = masterRecordPath(confDir);
  writeFileSync(`${path}.next`, JSON.stringify(r));
  renameSync(`${path}.next`, path);
}

export function clearMasterRecord(confDir: string): void {
  rmSync(masterRecordPath(confDir), { force: true });
}

/** The record of a master of `kind` that still runs, or undefined (none, unreadable, ended, PID reused). */
export function runningMaster(confDir: string, kind: string): MasterRecord | undefined {
  let r: Partial<MasterRecord>;
  try {
    r = JSON.parse(readFileSync(masterRecordPath(confDir), 'utf8')) as Partial<MasterRecord>;
  } catch {
    return undefined;
  }
  if (r.kind !== kind || typeof r.pid !== 'number' || typeof r.startTime !== 'string' || typeof r.appliedHash !== 'string' || typeof r.appliedAt !== 'number') return undefined;
  if (r.pid === process.pid || !alive(r.pid, r.startTime)) return undefined;
  return { kind: r.kind, pid: r.pid, startTime: r.startTime, appliedHash: r.appliedHash, appliedAt: r.appliedAt };
}
