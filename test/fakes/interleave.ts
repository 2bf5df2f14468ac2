/**
 * Deterministic interleaving of several writers over one FakeDocker, call by call: each writer gets its
 * own DockerPort whose every call first waits for the scheduler's turn, so exactly one writer's call runs
 * at a time and a schedule (which writer goes next, at each call) fixes the whole interleaving. Between
 * two calls a writer only computes (no timers in the commands raced here), so the scheduler waits until
 * every writer is parked at its next call or finished before choosing.
 *
 * `everySchedule` runs every distinct schedule with at most `maxSwitches` preemptions (the "bounded
 * preemption" of systematic concurrency testing, as in CHESS: races between two writers show up with
 * very few switches), so a test can check a property over all of them.
 */
import type { DockerPort } from '../../src/observed/docker-port';
import type { FakeDocker } from './fake-docker';

type Writer<T> = (port: DockerPort) => Promise<T>;

/** Picks the writer whose next call runs, among those parked at a call (their indexes, ascending). */
export type Chooser = (parked: readonly number[], step: number) => number;

interface Slot {
  state: 'running' | 'parked' | 'done';
  release?: () => void;
  calls: number;
}

export interface Interleaved<T> {
  readonly results: T[];
  /** Which writer made each call, with the method: "0:listServices", "1:createSecret", … */
  readonly trace: string[];
}

export async function interleave<T>(docker: FakeDocker, writers: readonly Writer<T>[], choose: Chooser): Promise<Interleaved<T>> {
  const slots: Slot[] = writers.map(() => ({ state: 'running', calls: 0 }));
  const trace: string[] = [];
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const gated = (w: number): DockerPort =>
    new Proxy(docker as unknown as DockerPort, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        // The port's methods are async (watchEvents is not raced here): wait for the turn, then call.
        return async (...args: unknown[]): Promise<unknown> => {
          const slot = slots[w] as Slot;
          await new Promise<void>((resolve) => {
            slot.state = 'parked';
            slot.release = resolve;
            notify();
          });
          trace.push(`${w}:${prop}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const runs = writers.map((run, w) =>
    run(gated(w)).finally(() => {
      (slots[w] as Slot).state = 'done';
      notify();
    }),
  );
  // Errors are the writers' own results: collect them after the schedule ends.
  const settled = Promise.allSettled(runs);
  for (let step = 0; ; step++) {
    while (slots.some((s) => s.state === 'running')) await new Promise<void>((r) => (wake = r));
    const parked = slots.flatMap((s, i) => (s.state === 'parked' ? [i] : []));
    if (parked.length === 0) break;
    const pick = choose(parked, step);
    const slot = slots[parked.includes(pick) ? pick : (parked[0] as number)] as Slot;
    slot.state = 'running';
    slot.calls++;
    slot.release?.();
  }
  const outcomes = await settled;
  return {
    trace,
    results: outcomes.map((o) => {
      if (o.status === 'rejected') throw o.reason;
      return o.value;
    }),
  };
}

/**
 * Every distinct schedule of the writers with at most `maxSwitches` preemptions (switching away from a
 * writer that could have made its next call), each run once: a depth-first walk over the choice points
 * the runs actually met (a stateless model checker's search). `run` runs one schedule with the given
 * chooser and says nothing; the walk stops after `limit` schedules (a guard, reported by the return).
 */
export async function everySchedule(run: (choose: Chooser) => Promise<void>, maxSwitches: number, limit = 20_000): Promise<{ schedules: number; complete: boolean }> {
  // A schedule is a forced prefix of picks; after it the chooser stays with the writer that ran last.
  const stack: number[][] = [[]];
  let schedules = 0;
  while (stack.length > 0) {
    if (schedules >= limit) return { schedules, complete: false };
    const prefix = stack.pop() as number[];
    const picks: number[] = [];
    const alternatives: number[][] = [];
    const switchesBefore: number[] = [];
    let switches = 0;
    await run((parked) => {
      const step = picks.length;
      const last = picks.at(-1);
      const pick = step < prefix.length ? (prefix[step] as number) : last !== undefined && parked.includes(last) ? last : (parked[0] as number);
      switchesBefore.push(switches);
      if (last !== undefined && pick !== last && parked.includes(last)) switches++;
      alternatives.push(parked.filter((p) => p !== pick));
      picks.push(pick);
      return pick;
    });
    schedules++;
    for (let step = picks.length - 1; step >= prefix.length; step--) {
      const last = step > 0 ? picks[step - 1] : undefined;
      for (const alt of alternatives[step] ?? []) {
        // Choosing alt here is a preemption when the writer that ran last could have gone on.
        const preempts = last !== undefined && alt !== last && (alternatives[step] ?? []).concat(picks[step] as number).includes(last);
        if ((switchesBefore[step] ?? 0) + (preempts ? 1 : 0) <= maxSwitches) stack.push([...picks.slice(0, step), alt]);
      }
    }
  }
  return { schedules, complete: true };
}
