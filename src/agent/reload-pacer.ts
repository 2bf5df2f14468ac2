/**
 * Paces proxy reloads under bursts of configuration changes. Every reload makes NGINX start new
 * workers and close the old ones' idle keep-alive connections (clients racing those closes see
 * read errors), so a burst of 100 changes must not become 100 reloads; yet a lone change must go
 * live at once. Policy:
 * - after a calm period (no change for `calmMs`) a change applies at once (leading edge);
 * - otherwise changes are debounced: applied once none has come for `quietMs`, but never later
 *   than `maxWaitMs` after the first waiting one; only the latest is applied (latest wins).
 * So 100 changes in 10 s become 3 reloads (at once, then every 5 s), and changes 2 s or
 * more apart each apply at once. Urgent items (a rollback away from a failing backend) skip all.
 * Pure timing logic (the clock and timers are injected), so it is unit-tested without a proxy.
 */
export interface PacerOptions {
  readonly calmMs: number;
  readonly quietMs: number;
  readonly maxWaitMs: number;
}

// quietMs exceeds the core's delivery cadence during a burst (its loop batches changes for up to 500 ms
// plus the run itself), so a burst of applies is one burst here too.
export const DEFAULT_PACER: PacerOptions = { calmMs: 2_000, quietMs: 1_500, maxWaitMs: 5_000 };

export interface PacerClock {
  now(): number;
  setTimeout(f: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: PacerClock = {
  now: () => Date.now(),
  setTimeout: (f, ms) => setTimeout(f, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class ReloadPacer<T> {
  private lastOfferAt = Number.NEGATIVE_INFINITY;
  private pending: T | undefined;
  /** When the oldest waiting item arrived (bounds the debounce by maxWaitMs). */
  private waitingSince: number | undefined;
  private timer: unknown;
  private busy = false;

  constructor(
    /** Applies one item (whether it reloaded the proxy does not matter to the pacing). */
    private readonly apply: (item: T) => Promise<unknown>,
    private readonly options: PacerOptions = DEFAULT_PACER,
    private readonly clock: PacerClock = realClock,
  ) {}

  /** A new item: applied now, or kept (replacing any kept one) until the burst calms down. */
  offer(item: T, urgent = false): void {
    this.pending = item;
    const now = this.clock.now();
    const calm = now - this.lastOfferAt >= this.options.calmMs;
    this.lastOfferAt = now;
    this.waitingSince ??= now;
    this.cancelTimer();
    if (this.busy) return;
    if (urgent || calm) {
      void this.flush();
      return;
    }
    this.arm(now);
  }

  stop(): void {
    this.cancelTimer();
    this.pending = undefined;
    this.waitingSince = undefined;
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(now: number): void {
    const due = Math.min(now + this.options.quietMs, (this.waitingSince ?? now) + this.options.maxWaitMs);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, Math.max(0, due - now));
  }

  private async flush(): Promise<void> {
    const item = this.pending;
    if (item === undefined) return;
    this.pending = undefined;
    this.waitingSince = undefined;
    this.busy = true;
    try {
      await this.apply(item);
    } finally {
      this.busy = false;
    }
    // Items that arrived while applying wait for quiet like any other within a burst.
    if (this.pending !== undefined) this.arm(this.clock.now());
  }
}
