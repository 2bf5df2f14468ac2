/**
 * Waiting for a state instead of asserting an instant: tests on real processes poll for what they
 * expect, so a loaded machine makes them slower, not red. (test/helpers/swarm.ts has the Swarm
 * flavour, which also treats errors as "not yet".)
 */

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `f` until it returns a value (not undefined); fail naming `what` after `timeoutMs`. */
export async function pollUntil<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** pollUntil where a thrown error (a refused connection, a handshake with no certificate yet) also means "not yet". */
export function pollUntilOk<T>(what: string, f: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  return pollUntil(what, async () => {
    try {
      return await f();
    } catch {
      return undefined;
    }
  }, timeoutMs, everyMs);
}
