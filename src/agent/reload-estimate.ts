/**
 * How long the next reload will take, without a check to time (ADR 0037). Before, the agent timed
 * its own `nginx -t` of the candidate and sized the reload's limits from it (reload-timing.ts).
 * When the reload itself is the check, the measure is the last reload this agent saw confirmed:
 * from the signal to new workers serving, on this machine, under its current load, for a config
 * of a known size. A new config is assumed to parse in proportion to its size, but each limit
 * errs on its own safe side:
 * - the confirmation limit grows with a larger config and never shrinks below the measured time
 *   (too short a limit reports a healthy reload as failed);
 * - the drain flag's delay after the signal never grows beyond the measured time (too long a
 *   delay raises the flag after the old workers began closing keep-alive connections, which is
 *   what the flag is for; too short only costs new connections for a while).
 * Parse time is not exactly linear in size (NGINX's variable search grows faster, ADR 0034), so the
 * estimate is only used through those margins; without a measurement the agent checks first.
 */
import { reloadTiming, type ReloadTiming } from './reload-timing';

export interface ReloadSample {
  /** Bytes of the config files the reload loaded. */
  readonly bytes: number;
  /** From the signal to the reload confirmed (new workers, no old one accepting). */
  readonly ms: number;
}

export class ReloadEstimate {
  private last: ReloadSample | undefined;

  record(sample: ReloadSample): void {
    if (sample.bytes > 0 && Number.isFinite(sample.ms) && sample.ms >= 0) this.last = sample;
  }

  get sample(): ReloadSample | undefined {
    return this.last;
  }

  /** The reload's limits for a config of `bytes`, or undefined when no reload was measured yet. */
  timing(bytes: number, leadMs: number): ReloadTiming | undefined {
    const last = this.last;
    if (last === undefined) return undefined;
    const ratio = bytes / last.bytes;
    return {
      confirmMs: reloadTiming(last.ms * Math.max(1, ratio), leadMs).confirmMs,
      flagAfterSignalMs: reloadTiming(last.ms * Math.min(1, ratio), leadMs).flagAfterSignalMs,
    };
  }
}
