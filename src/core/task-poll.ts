/**
 * The core's task poll as a trigger: it emits when the tasks' fingerprint differs from the last one
 * it READ. A failed listing is not a change (ADR 0047): before, it read as the fingerprint
 * "unreadable", which differs from every digest, so one failed poll caused two runs (the failure,
 * then the recovery) though no task had changed. A failing Docker still reaches status: every run
 * reads Docker itself (the 30 s resync and Docker events keep starting them), fails, and says so; the
 * poll only stops asking for runs it has no reason for. Tasks that changed while the poll failed are
 * caught by the first listing that succeeds again (it is compared with the last one read).
 */
import type { Logger } from 'pino';
import { distinctUntilChanged, exhaustMap, filter, from, skip, type Observable, type SchedulerLike } from 'rxjs';
import type { DockerPort } from '../observed/docker-port';
import { readTaskFingerprint } from '../observed/read-snapshot';
import { poll$ } from '../reconcile';

export function taskChanges$(port: DockerPort, periodMs: number, scheduler: SchedulerLike, log: Logger): Observable<string> {
  let failing = false;
  const read = async (): Promise<string | undefined> => {
    try {
      const digest = await readTaskFingerprint(port);
      if (failing) log.info('task poll reads the tasks again');
      failing = false;
      return digest;
    } catch (e) {
      // Once per failing streak: at two polls a second a Docker outage would flood the log.
      if (!failing) log.warn({ err: e instanceof Error ? e.message : String(e) }, 'task poll failed; not a task change (runs read Docker themselves)');
      failing = true;
      return undefined;
    }
  };
  return poll$(periodMs, scheduler).pipe(
    // One listing at a time: a tick while the last one is still read is skipped. switchMap only stopped
    // listening to the last one, so at 10,000 routes (50,000 tasks, ≈ 20 MB of JSON each) slow answers
    // piled up, held hundreds of MiB of bodies and missed their deadlines (ADR 0044).
    exhaustMap(() => from(read())),
    filter((d): d is string => d !== undefined),
    distinctUntilChanged(),
    // The first digest read is the baseline, not a change (the resync's first tick starts the first run).
    skip(1),
  );
}
