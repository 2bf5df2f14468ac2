/**
 * Whether the agent checks a delivered config before reloading onto it, and what the reload's
 * outcome means for the files on disk (ADR 0037). The core has already run the proxy's check on
 * the exact bytes; the agent's own `nginx -t` parsed them a second time (with the node's real
 * certificates) and the reload a third. NGINX's master does not need the second: on SIGHUP with a
 * config it cannot load it logs why and keeps its old workers on the old config, and the agent
 * reads that (nginx-master-log.ts). So the agent checks first only when it cannot rely on it:
 * - the proxy cannot tell it refused (HAProxy, whose master-worker reload differs; a master the
 *   agent cannot read the log of) or is not running (its restart would start on the files);
 * - no reload was measured yet, so the limits cannot be sized (reload-estimate.ts): the first
 *   change after the agent started or took a proxy over is checked, and timed, as before;
 * - booting (agent-boot.ts): there is no running config to fall back to.
 * Otherwise only what the parse cannot see is checked (the shared TLS server's pairs).
 * Refused: the previous files go back. Neither confirmed nor refused in time (or the master died)
 * after no check: the files in place are checked then, and go back if they fail; so the files a
 * restart or the next boot reads always load.
 */
import { DEFAULT_DRAIN_TIMING } from './nginx-drain';
import type { ProxyDriver, ReloadOutcome } from './proxy-process';
import { ReloadEstimate } from './reload-estimate';
import { reloadTiming, type ReloadTiming } from './reload-timing';
import type { StagedFiles } from './staged-files';
import type { ConfigFileData } from '../api/control-plane';
import type { Validation } from '../validate/result';

export interface ReloadPlan {
  readonly ok: true;
  readonly timing: ReloadTiming;
  /** Bytes of the delivered files (the estimate's measure). */
  readonly bytes: number;
  /** The proxy's full check, when one ran before the reload. */
  readonly checked?: Validation;
}

/** A check that failed: what install() returns as is. */
type Failed = Validation & { readonly ok: false };
const failed = (v: Validation): Failed => ({ ...v, ok: false });

export class ReloadGate {
  private readonly estimate = new ReloadEstimate();

  constructor(
    private readonly driver: ProxyDriver,
    /** The live main config (where a late check reads the files in place). */
    private readonly confPath: string,
  ) {}

  /** Check `candidate` fully or only beyond the parse (see above); `masterPid` undefined: not running. */
  plan(masterPid: number | undefined, files: readonly ConfigFileData[], candidate: string): ReloadPlan | Failed {
    const d = this.driver;
    const bytes = files.reduce((n, f) => n + f.content.length, 0);
    const timing = masterPid !== undefined && d.refusalVisible(masterPid) ? this.estimate.timing(bytes, DEFAULT_DRAIN_TIMING.leadMs) : undefined;
    if (timing !== undefined) {
      const beyond = d.checkBeyondParse(candidate);
      return beyond.ok ? { ok: true, timing, bytes } : failed(beyond);
    }
    const t0 = Date.now();
    const checked = d.check(candidate);
    if (!checked.ok) return failed(checked);
    return { ok: true, timing: reloadTiming(Date.now() - t0, DEFAULT_DRAIN_TIMING.leadMs), bytes, checked };
  }

  /**
   * After the reload (`outcome`; not confirmed when the proxy was not running): put the previous
   * files back when the config did not load, and report it; undefined when the caller goes on as
   * before (confirmed, or unconfirmed with files that pass the check).
   */
  settle(outcome: ReloadOutcome, plan: ReloadPlan, staged: StagedFiles): Validation | undefined {
    if (outcome.refused !== undefined) {
      staged.rollback();
      return { ok: false, output: outcome.refused };
    }
    if (!outcome.confirmed && plan.checked === undefined) {
      const late = this.driver.check(this.confPath);
      if (!late.ok) {
        staged.rollback();
        return late;
      }
    }
    staged.discard();
    if (outcome.confirmed && outcome.ms !== undefined) this.estimate.record({ bytes: plan.bytes, ms: outcome.ms });
    return undefined;
  }
}
