/**
 * How fast something that keeps dying is restarted: the proxy by its agent (proxy-agent.ts) and the
 * agent by its supervisor (agent-supervisor.ts). The first restart is at once (a single crash costs
 * no waiting), then firstMs doubling to maxMs, back to "at once" after a healthy run.
 */

/** Restart backoff of a process that keeps dying. */
export interface RestartBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
  /** A process that ran this long is healthy again: the next restart is immediate. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { firstMs: 100, maxMs: 2_000, resetAfterMs: 10_000 };

/**
 * The wait before restarting a process that ran for `ranMs`, given the previous wait (undefined: no
 * restart yet): at once the first time and after a healthy run, then firstMs doubling to maxMs.
 */
export function nextRestartDelay(previousMs: number | undefined, ranMs: number, b: RestartBackoff = DEFAULT_RESTART_BACKOFF): number {
  if (previousMs === undefined || ranMs >= b.resetAfterMs) return 0;
  return previousMs <= 0 ? b.firstMs : Math.min(b.maxMs, previousMs * 2);
}
