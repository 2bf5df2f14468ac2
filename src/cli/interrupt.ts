/**
 * Ctrl-C for long-waiting commands (`canary get --watch`, `canary promote` waiting for the core):
 * an AbortSignal instead of a process-wide handler, so the command can clean up (withdraw a
 * pending command) and tests can interrupt without sending signals to the test runner.
 */

/** Run `f` with a signal aborted by the first SIGINT; the handler is removed afterwards. */
export async function withInterrupt<T>(f: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await f(controller.signal);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/** Wait `ms`, or less if the signal fires: an interrupted watch must not sit out its interval. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
