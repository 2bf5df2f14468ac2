/**
 * `swarmgate core`: the long-running reconciler. Triggers are hints only (Docker events, a task
 * poll that fires when the task fingerprint changes, a periodic full resync); every run reads the
 * whole state, so a lost event only delays convergence until the next poll or resync.
 */
import pino, { type Logger } from 'pino';
import { asyncScheduler, Observable, retry, switchMap, timer, type SchedulerLike, type Subscription } from 'rxjs';
import { classifyDockerError, isDockerApiError } from '../observed/docker-errors';
import type { DockerEvent, DockerPort } from '../observed/docker-port';
import { DEFAULT_RESYNC_MS, DEFAULT_TASK_POLL_MS, defaultClassify, reconcileLoop, resync$, type Outcome } from '../reconcile';
import type { ControlPlane } from '../api/control-plane';
import { instrumentPort, type CoreMetrics } from '../status/metrics';
import { CoreRun, type CoreRunOptions } from './core-run';
import { taskChanges$ } from './task-poll';
import type { IssuerActor } from './acme/issuer-actor';

export interface CoreOptions {
  readonly port: DockerPort;
  readonly log?: Logger;
  readonly scheduler?: SchedulerLike;
  readonly taskPollMs?: number;
  readonly resyncMs?: number;
  readonly onOutcome?: (o: Outcome, run: CoreRun) => void;
  readonly localImages?: boolean;
  readonly plane?: ControlPlane;
  readonly agents?: CoreRunOptions['agents'];
  readonly metrics?: CoreMetrics;
  readonly externalExtension?: boolean;
  readonly extensionImage?: string;
  readonly webhookCaller?: CoreRunOptions['webhookCaller'];
  readonly identities?: CoreRunOptions['identities'];
  /** The ACME issuer (ADR 0013); its changes trigger runs. */
  readonly issuer?: IssuerActor;
}

/** Docker events as an observable that reconnects (events are hints: a gap is covered by the poll). */
export function dockerEvents$(port: DockerPort, log: Logger, scheduler: SchedulerLike): Observable<DockerEvent> {
  return new Observable<DockerEvent>((sub) => port.watchEvents((e) => sub.next(e), (err) => sub.error(err))).pipe(
    retry({
      delay: (err: unknown) => {
        log.warn({ err: err instanceof Error ? err.message : String(err) }, 'docker event stream lost; reconnecting in 1s');
        return timer(1000, scheduler);
      },
    }),
  );
}

/**
 * Runs a rollout asks for at a time (a pause ends, an analysis interval is due, webhook answers
 * arrived). Only the latest request counts: every run asks again for what it still needs.
 */
function wakeups$(run: CoreRun, scheduler: SchedulerLike): Observable<number> {
  return run.wakeAt$.pipe(switchMap((at) => timer(Math.max(MIN_WAKE_MS, at - scheduler.now()), scheduler)));
}
/** Two wake-ups never come closer than this (a due time in the past does not make a busy loop). */
const MIN_WAKE_MS = 100;

export function startCore(options: CoreOptions): { outcomes: Observable<Outcome>; stop: () => void; run: CoreRun } {
  const log = options.log ?? pino({ name: 'swarmgate-core' }, pino.destination(2));
  const scheduler = options.scheduler ?? asyncScheduler;
  const port = options.metrics !== undefined ? instrumentPort(options.port, options.metrics) : options.port;
  const run = new CoreRun(port, log, {
    ...(options.metrics !== undefined ? { metrics: options.metrics } : {}),
    ...(options.localImages !== undefined ? { localImages: options.localImages } : {}),
    ...(options.plane !== undefined ? { plane: options.plane } : {}),
    ...(options.agents !== undefined ? { agents: options.agents } : {}),
    ...(options.externalExtension !== undefined ? { externalExtension: options.externalExtension } : {}),
    ...(options.extensionImage !== undefined ? { extensionImage: options.extensionImage } : {}),
    ...(options.webhookCaller !== undefined ? { webhookCaller: options.webhookCaller } : {}),
    ...(options.identities !== undefined ? { identities: options.identities } : {}),
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
  });
  // A proxy reporting a new applied hash, or an extension submitting, changes status: look again.
  const planeChanges$ = options.plane?.changes$ ?? new Observable<string>();
  const taskChanges = taskChanges$(port, options.taskPollMs ?? DEFAULT_TASK_POLL_MS, scheduler, log);
  const outcomes = reconcileLoop({
    triggers: [dockerEvents$(options.port, log, scheduler), taskChanges, resync$(options.resyncMs ?? DEFAULT_RESYNC_MS, scheduler), planeChanges$, wakeups$(run, scheduler), options.issuer?.changes$ ?? new Observable<string>()],
    run: (seq) => run.run(seq),
    scheduler,
    // Docker's answers by the error table in docker-errors.ts (a 4xx is terminal: no backoff).
    classify: (e) => (isDockerApiError(e) ? classifyDockerError(e) : defaultClassify(e)),
    onTriggerError: (i, e) => log.warn({ trigger: i, err: e instanceof Error ? e.message : String(e) }, 'a trigger failed'),
  });
  let sub: Subscription | undefined;
  const shared = new Observable<Outcome>((observer) => {
    sub = outcomes.subscribe({
      next: (o) => {
        const line = { seq: o.seq, result: o.result, reason: o.reason, ms: o.finishedAt - o.startedAt, ...(o.error !== undefined ? { error: o.error } : {}) };
        if (o.result === 'failed') log.error(line, 'reconcile failed');
        else if (o.result === 'applied') log.info(line, 'reconciled');
        // Info too: `swarmgate status` reads the last outcome from the core's log (no Docker write per run).
        else log.info(line, 'reconciled');
        options.metrics?.runs.inc({ result: o.result });
        options.metrics?.runSeconds.observe((o.finishedAt - o.startedAt) / 1000);
        // A run that applied something dropped a rendered config and a snapshot: collect now rather
        // than let V8 grow the heap (only when the core runs with --expose-gc, see CORE_NODE_OPTIONS).
        if (o.result === 'applied') (globalThis as { gc?: () => void }).gc?.();
        options.onOutcome?.(o, run);
        observer.next(o);
      },
      error: (e: unknown) => observer.error(e),
      complete: () => observer.complete(),
    });
    return () => sub?.unsubscribe();
  });
  return { outcomes: shared, stop: () => sub?.unsubscribe(), run };
}
