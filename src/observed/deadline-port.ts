/**
 * A deadline on every Docker API call of a long-running component. The engine's API has no
 * timeout of its own, and neither has dockerode: an engine that stops answering (a hung dockerd, a
 * manager stuck in a Raft election) held the core's run for as long as it hung, with nothing in
 * the log or the status (the Docker API drill, test/chaos: 30 s without a word). With a deadline
 * the call fails as a transient error, so the loop backs off and retries; each call that ran out
 * of time is logged at once (onTimeout) and counted in swarmgate_docker_api_errors_total, and once
 * its retries are spent the run is reported failed (`RetriesExhausted: the Docker engine did not
 * answer listTasks within 10 s`).
 *
 * The abandoned request is not cancelled (dockerode offers that per call only): it ends when the
 * engine answers or drops it; the backoff bounds how many pile up meanwhile.
 */
import { DockerApiError } from './docker-errors';
import type { DockerPort } from './docker-port';

export const DEFAULT_CALL_DEADLINE_MS = 10_000;

/** Calls that are not one request and answer: a stream, or a read with its own timeout. */
const EXEMPT: ReadonlySet<string> = new Set(['watchEvents', 'taskLogTail']);

export interface CallDeadlineOptions {
  readonly deadlineMs?: number;
  /** Told of each call that ran out of time (the core logs it: the run's outcome comes only after its retries). */
  readonly onTimeout?: (method: string, deadlineMs: number) => void;
}

export function withCallDeadline(port: DockerPort, options: CallDeadlineOptions = {}): DockerPort {
  const deadlineMs = options.deadlineMs ?? DEFAULT_CALL_DEADLINE_MS;
  return new Proxy(port, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || EXEMPT.has(prop)) return value;
      return (...args: unknown[]): unknown => {
        const result: unknown = Reflect.apply(value as (...a: unknown[]) => unknown, target, args);
        if (!(result instanceof Promise)) return result;
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            options.onTimeout?.(prop, deadlineMs);
            reject(new DockerApiError(0, `the Docker engine did not answer ${prop} within ${deadlineMs / 1000} s`, prop, 'ETIMEDOUT'));
          }, deadlineMs);
        });
        return Promise.race([result, deadline]).finally(() => clearTimeout(timer));
      };
    },
  });
}
