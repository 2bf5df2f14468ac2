/** How fast the agent restarts a proxy that keeps dying (proxy-agent.ts). */

/** Restart backoff of a proxy that keeps dying. */
export interface RestartBackoff {
  readonly firstMs: number;
  readonly maxMs: number;
  /** A proxy that ran this long is healthy again: the next restart is immediate. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { firstMs: 100, maxMs: 2_000, resetAfterMs: 10_000 };

/**
 * The wait before restarting a proxy that ran for `ranMs`, given the previous wait (undefined: no
 * restart yet): at once the first time and after a healthy run, then firstMs doubling to maxMs.
 */
export function nextRestartDelay(previousMs: number | undefined, ranMs: number, b: RestartBackoff = DEFAULT_RESTART_BACKOFF): number {
  if (previousMs === undefined || ranMs >= b.resetAfterMs) return 0;
  return previousMs <= 0 ? b.firstMs : Math.min(b.maxMs, previousMs * 2);
}
