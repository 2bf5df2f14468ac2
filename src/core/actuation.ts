/**
 * The core's side of "plan → execute": how the control plane receives deliveries, what a step's
 * outcome means for the cluster's status and for the run's outcome, and what is logged.
 */
import type { Logger } from 'pino';
import type { ConfigFileData, ControlPlane } from '../api/control-plane';
import type { AgentSink, GroupOutcome, StepFailure, StepOutcome } from '../apply/execute-plan';
import { isDockerApiError } from '../observed/docker-errors';
import { TerminalError } from '../reconcile';
import type { Reason } from '../domain/conditions';
import { stepTarget, type Step } from '../plan/writes/steps';

/** Deliveries go to the control plane, with the cluster's ACME certificates (which the Plan never holds). */
export function agentSink(plane: ControlPlane, certificatesOf: (cluster: string) => readonly ConfigFileData[] = () => []): AgentSink {
  // The core's Buffers as they are (no copy): the same Buffer run after run is how a stream sees a file unchanged at once (ADR 0042).
  return { deliver: (s) => void plane.deliver(s.cluster, s.proxyKind, s.files.map((f) => ({ path: f.path, content: Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content) })), s.immediate, certificatesOf(s.cluster)) };
}

function daemonText(error: unknown): string {
  if (isDockerApiError(error)) return `${error.statusCode > 0 ? `HTTP ${error.statusCode}: ` : ''}${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

/** The Programmed=False a failed write gives its cluster: the daemon's own words, and what happens next. */
export function failureCondition(failure: { readonly step: Step } & StepFailure): { readonly reason: Reason; readonly message: string } {
  const what = `${failure.step.op} ${stepTarget(failure.step)}`;
  const text = daemonText(failure.error);
  switch (failure.errorClass) {
    case 'terminal':
      return { reason: 'Rejected', message: `Docker rejected ${what} (${text}); proxies keep their current config; not retried until the cluster's specs or the Swarm state it depends on change` };
    case 'conflict':
      return { reason: 'Conflict', message: `another writer changed ${stepTarget(failure.step)} while this run wrote it (${text}); retrying on a fresh read` };
    case 'transient':
      return { reason: 'DockerUnavailable', message: `${what} failed (${text}); proxies keep their current config; retrying with backoff` };
  }
}

/** Docker writes the outcomes made (deliveries to agents are not Docker writes). */
export function countWrites(outcomes: readonly GroupOutcome[]): number {
  return outcomes.reduce((n, g) => n + g.outcomes.filter((o) => o.result === 'ok' && o.step.op !== 'deliver').length, 0);
}

type Failed = Extract<StepOutcome, { result: 'failed' }> & { readonly group: string };

function failures(outcomes: readonly GroupOutcome[]): Failed[] {
  return outcomes.flatMap((g) => g.outcomes.filter((o): o is Extract<StepOutcome, { result: 'failed' }> => o.result === 'failed').map((o) => ({ ...o, group: g.key })));
}

/**
 * What the run reports to the loop once status is written: a race is thrown as it is (the loop
 * re-runs at once on a fresh read), a transient error too (backoff), a terminal error the run just
 * met as a TerminalError (no retry). Terminal failures remembered from earlier runs end the run
 * normally: nothing was attempted, and the status already says why.
 */
export function runError(outcomes: readonly GroupOutcome[]): unknown {
  const fresh = failures(outcomes).filter((f) => f.remembered !== true);
  const retry = fresh.find((f) => f.errorClass === 'conflict') ?? fresh.find((f) => f.errorClass === 'transient');
  if (retry !== undefined) return retry.error;
  const terminal = fresh.filter((f) => f.errorClass === 'terminal');
  if (terminal.length === 0) return undefined;
  const first = terminal[0];
  const lines = terminal.map((f) => `${f.group}: ${f.step.op} ${stepTarget(f.step)}: ${daemonText(f.error)}`);
  return new TerminalError(`Docker rejected ${terminal.length} write${terminal.length === 1 ? '' : 's'} (not retried until an input changes): ${lines.join('; ')}`, { cause: first?.error });
}

/** Writes not attempted because Docker rejected the same request before. */
export function blockedCount(outcomes: readonly GroupOutcome[]): number {
  return failures(outcomes).filter((f) => f.remembered === true).length;
}

export function logOutcomes(log: Logger, outcomes: readonly GroupOutcome[]): void {
  for (const g of outcomes) {
    for (const o of g.outcomes) {
      const line = { group: g.key, op: o.step.op, target: stepTarget(o.step), reason: o.step.reason };
      if (o.result === 'ok') log.info(line, 'wrote');
      else if (o.result === 'deferred') log.debug({ ...line, why: o.why }, 'write deferred to a later run');
      else if (o.result === 'skipped') log.info(line, 'write skipped: an earlier write of its group failed');
      else if (o.remembered === true) log.debug({ ...line, error: daemonText(o.error) }, 'write not attempted: Docker rejected the same request before');
      else log.warn({ ...line, class: o.errorClass, error: daemonText(o.error) }, 'write failed');
    }
  }
}
