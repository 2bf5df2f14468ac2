/**
 * How long the agent waits for a reload, and when it raises NGINX's drain flag, scaled by the time
 * the proxy took to check the same config moments before (`nginx -t` / `haproxy -c`). A master
 * parses the whole config again on reload before any new worker starts, so the check's duration is
 * a measure of the reload taken on this machine, under its current load. A fixed 10 s limit
 * reported a healthy 10,000-route reload (14–16 s then) as failed (issue 22).
 */

/** The least time a reload is given: small configs keep the limit they always had. */
export const MIN_CONFIRM_MS = 10_000;
/** Checks shorter than this keep the drain flag up for the whole reload, as before. */
export const LATE_FLAG_MIN_CHECK_MS = 1_000;

export interface ReloadTiming {
  /** Give up on seeing new workers after this long. */
  readonly confirmMs: number;
  /**
   * Raise the drain flag this long after the signal instead of before it (0: before). Old
   * workers close idle keep-alive connections only once the new config is parsed; asking clients
   * to close during the whole parse costs every request a new connection for seconds at 10k routes.
   * Half the check's time leaves a factor of two for a parse that runs faster than the check did.
   */
  readonly flagAfterSignalMs: number;
}

export function reloadTiming(checkMs: number, leadMs: number): ReloadTiming {
  const measured = Number.isFinite(checkMs) && checkMs > 0 ? checkMs : 0;
  return {
    confirmMs: Math.max(MIN_CONFIRM_MS, 5_000 + 3 * Math.ceil(measured)),
    flagAfterSignalMs: measured >= LATE_FLAG_MIN_CHECK_MS ? Math.max(0, Math.floor(measured / 2) - leadMs) : 0,
  };
}

/** "10 s", "47 s": for the message of a reload that was not confirmed. */
export function describeLimit(ms: number): string {
  return `${Math.round(ms / 1000)} s`;
}
