/**
 * What HAProxy's master says of its reloads, on its CLI socket (`-S`). A master that cannot load a
 * config at SIGUSR2 logs why on its stderr, keeps its old workers and counts the reload as failed:
 * `show proc` prints `<reloads> [failed: <n>]` on the master's line, n reset to 0 by the next
 * reload that loads. The agent cannot read that stderr (it is the task's, and HAProxy must outlive
 * the agent, ADR 0018), so it reads the count: a refused reload is then reported at once, as NGINX's
 * is from its log (ADR 0037), instead of as a reload not confirmed within the time limit.
 */
import { connect } from 'node:net';

export interface MasterReloads {
  readonly reloads: number;
  readonly failed: number;
}

/** The master's line of `show proc`: "<pid> master <reloads> [failed: <n>] <uptime> <version>". */
export function parseMasterReloads(text: string): MasterReloads | undefined {
  const m = /^\s*\d+\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]/m.exec(text);
  return m === null ? undefined : { reloads: Number(m[1]), failed: Number(m[2]) };
}

/** `show proc` on the master CLI; undefined when it does not answer within `timeoutMs` (re-executing, gone). */
export function masterReloads(socketPath: string, timeoutMs = 1_000): Promise<MasterReloads | undefined> {
  return new Promise((resolve) => {
    const sock = connect(socketPath);
    let text = '';
    let settled = false;
    const done = (): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      resolve(parseMasterReloads(text));
    };
    sock.setTimeout(timeoutMs, done);
    sock.once('connect', () => sock.write('show proc\n'));
    sock.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      // The master's line and the workers' header: enough to answer, without waiting for the close.
      if (parseMasterReloads(text) !== undefined && text.includes('# workers')) done();
    });
    sock.once('error', done);
    sock.once('close', done);
  });
}

/**
 * Polls `show proc` until the master answers — it does so only from its main loop, where its signal
 * handlers are installed — and returns its count; undefined when it did not within `timeoutMs`.
 */
export async function masterReady(socketPath: string, timeoutMs = 10_000): Promise<MasterReloads | undefined> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const answered = await masterReloads(socketPath, Math.max(100, Math.min(2_000, until - Date.now())));
    if (answered !== undefined) return answered;
    await new Promise((r) => setTimeout(r, 20));
  }
  return undefined;
}

/**
 * After a SIGUSR2 sent when the master had counted `before`: polls the master CLI in the background
 * and answers, synchronously, whether that reload was counted as failed. stop() ends the polling.
 */
export function refusalWatch(socketPath: string, before: MasterReloads, intervalMs = 50): { readonly refused: () => boolean; readonly stop: () => void } {
  let refused = false;
  let stopped = false;
  const poll = async (): Promise<void> => {
    while (!stopped && !refused) {
      const now = await masterReloads(socketPath);
      if (now !== undefined && now.reloads > before.reloads && now.failed > 0) refused = true;
      else await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  void poll();
  return { refused: () => refused, stop: () => void (stopped = true) };
}
