/**
 * An NGINX reload that keep-alive clients do not notice. On SIGHUP the old workers close their
 * idle keep-alive connections at once; a client that is sending its next request on one at that
 * moment gets a reset or an empty answer (wrk counts a read error, about half of the busy
 * connections per reload). Stock NGINX has no setting against it (HAProxy has
 * `idle-close-on-response`). What it does have is `if (-f file)`: the rendered config (hitless
 * delivery) adds `Connection: close` to every answer while the flag file exists (with the Lua module
 * loaded, a `set_by_lua_block` tests the same file: ADR 0036). So the agent:
 * 1. creates the flag and waits `leadMs`: busy connections get one answer with `close`, and
 *    their clients close them (a close by the client after an answer races nothing);
 * 2. reloads and waits until the old workers no longer accept (the usual confirmation);
 * 3. keeps the flag until the old workers have exited (at most `holdMs`): their in-flight answers
 *    also say `close`, so nothing is left for them to close under a client;
 * 4. removes the flag: the new workers keep connections alive again.
 * During the window every request opens a new connection, a small price next to failed requests.
 * For a config that takes seconds to parse, step 1 moves after the signal (`flagAfterSignalMs`,
 * reload-timing.ts): the old workers keep connections alive while the master parses.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DrainOptions {
  readonly flagPath: string;
  /** Flag on before the signal (step 1). */
  readonly leadMs: number;
  /** Longest wait for the old workers to exit before the flag goes (step 3); long requests or WebSockets can keep them for worker_shutdown_timeout. */
  readonly holdMs: number;
}

export const DEFAULT_DRAIN_TIMING = { leadMs: 50, holdMs: 1_000 } as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Run `reload` (signal and confirm; it resolves with the workers that ran before it, or undefined
 * when the reload was not confirmed) with the flag held around it as above.
 */
export async function drainedReload(
  o: DrainOptions,
  reload: () => Promise<ReadonlySet<number> | undefined>,
  alive: (pid: number) => boolean,
  flagAfterSignalMs = 0,
): Promise<boolean> {
  // NGINX's workers (not root) stat the flag: its directory must be searchable by them.
  mkdirSync(dirname(o.flagPath), { recursive: true, mode: 0o755 });
  const raise = (): void => writeFileSync(o.flagPath, '');
  try {
    let reloading: Promise<ReadonlySet<number> | undefined>;
    if (flagAfterSignalMs > 0) {
      // reload() sends its signal before its first await, so the delay counts from the signal.
      reloading = reload();
      await Promise.race([sleep(flagAfterSignalMs), reloading]);
      raise();
    } else {
      raise();
      await sleep(o.leadMs);
      reloading = reload();
    }
    const oldWorkers = await reloading;
    if (oldWorkers === undefined) return false;
    const until = Date.now() + o.holdMs;
    while (Date.now() < until && [...oldWorkers].some(alive)) await sleep(10);
    return true;
  } finally {
    rmSync(o.flagPath, { force: true });
  }
}
