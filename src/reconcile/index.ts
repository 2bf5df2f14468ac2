/** Public surface of the reconcile timing core; see loop.ts for how the pieces fit (architecture §4). */
export { reconcileLoop } from './loop';
export type { Outcome, ReconcileLoopOptions, RunResult } from './loop';
export { DEFAULT_MAX_WAIT_MS, DEFAULT_QUIET_MS, debounceWithMaxWait } from './debounce-max-wait';
export { oneRunPlusOneQueued } from './one-run-plus-one-queued';
export {
  DEFAULT_INITIAL_DELAY_MS,
  DEFAULT_MAX_CONFLICT_RETRIES,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_MAX_RETRIES,
  GaveUp,
  TerminalError,
  backoffDelay,
  defaultClassify,
  retryWithBackoff,
} from './backoff';
export type { BackoffOptions, Classify, ErrorClass } from './backoff';
export { DEFAULT_RESYNC_MS, DEFAULT_TASK_POLL_MS, poll$, resync$ } from './triggers';
