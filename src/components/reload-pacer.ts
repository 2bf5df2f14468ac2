/**
 * Paces proxy reloads under bursts of configuration changes. Every reload makes NGINX start new
 * workers and close the old ones' idle keep-alive connections (clients racing those closes see
 * read errors), so a burst of 100 changes must not become 100 reloads; yet a lone change must go
 * live at once. Policy: a change after a quiet period applies immediately; changes that follow a
 * reload closely wait for a gap that doubles with each reload of the burst (first 1.5 s, at most
 * 8 s), and only the latest waiting config is applied (latest wins). The gap resets after a quiet
 * period of twice the current gap.
 * Pure timing logic (the clock and timers are injected), so it is unit-tested without a proxy.
 */
export interface PacerOptions {
  readonly firstGapMs: number;
  readonly maxGapMs: number;
}

export const DEFAULT_PACER: PacerOptions = { firstGapMs: 1_500, maxGapMs: 8_000 };

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
  private lastAt = Number.NEGATIVE_INFINITY;
  private gap = 0;
  private pending: T | undefined;
  private timer: unknown;
  private busy = false;

  constructor(
    /** Applies one item; resolves to true when it reloaded the proxy (a no-op or a refused config: false). */
    private readonly apply: (item: T) => Promise<boolean>,
    private readonly options: PacerOptions = DEFAULT_PACER,
    private readonly clock: PacerClock = realClock,
  ) {}

  /**
   * A new item: applied now, or kept (replacing any kept one) until the gap has passed. `urgent`
   * items skip the gap (they still wait for an apply in progress, and count as a reload).
   */
  offer(item: T, urgent = false): void {
    this.pending = item;
    if (urgent && this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (urgent && !this.busy) {
      void this.flush();
      return;
    }
    this.schedule();
  }

  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
  }

  private schedule(): void {
    if (this.timer !== undefined || this.busy) return;
    const since = this.clock.now() - this.lastAt;
    if (since >= 2 * this.gap) this.gap = 0;
    const wait = Math.max(0, this.gap - since);
    if (wait === 0) {
      void this.flush();
      return;
    }
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, wait);
  }

  private async flush(): Promise<void> {
    const item = this.pending;
    if (item === undefined) return;
    this.pending = undefined;
    this.busy = true;
    try {
      if (await this.apply(item)) {
        this.lastAt = this.clock.now();
        this.gap = this.gap === 0 ? this.options.firstGapMs : Math.min(this.options.maxGapMs, this.gap * 2);
      }
    } finally {
      this.busy = false;
    }
    // Items that arrived while applying.
    if (this.pending !== undefined) this.schedule();
  }
}
