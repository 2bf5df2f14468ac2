/**
 * The traffic of the failure drills, run inside the client namespace (`ip netns exec sg-cli node
 * --import tsx steady-client.ts HOST IP:PORT...`): one loop per target address sends one GET after
 * another (a new connection each, about 50 per second per target) until SIGTERM, then prints a
 * JSON summary on stdout.
 *
 * Unlike the drain test's retrying client, nothing is retried: every request that does not answer
 * 200 counts as failed against its target, so a drill can say exactly which proxy lost requests
 * and when (failure windows: runs of consecutive failures, with wall-clock times). Not a test
 * file: it runs in another network namespace than vitest.
 */
import { request } from 'node:http';

const REQUEST_TIMEOUT_MS = 2_000;
const PAUSE_MS = 20;

export interface FailureWindow {
  /** Wall-clock ms of the first failed request of the run, and of the last one. */
  from: number;
  to: number;
  failed: number;
}

export interface TargetSummary {
  requests: number;
  ok: number;
  failed: number;
  /** Why requests failed: an HTTP status, or the connection error's code (ECONNREFUSED, timeout…). */
  failures: Record<string, number>;
  windows: FailureWindow[];
  /** Wall-clock ms of the first and last request sent. */
  firstAt: number;
  lastAt: number;
}

export type ClientSummary = Record<string, TargetSummary>;

function get(target: string, host: string): Promise<string | undefined> {
  const [ip, port] = target.split(':');
  return new Promise((resolve) => {
    const req = request({ host: ip, port: Number(port), path: '/', headers: { host }, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? undefined : String(res.statusCode)));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end();
  });
}

async function loop(target: string, host: string, s: TargetSummary, stopping: () => boolean): Promise<void> {
  let open: FailureWindow | undefined;
  while (!stopping()) {
    const at = Date.now();
    if (s.firstAt === 0) s.firstAt = at;
    s.lastAt = at;
    s.requests++;
    const failure = await get(target, host);
    if (failure === undefined) {
      s.ok++;
      open = undefined;
    } else {
      s.failed++;
      s.failures[failure] = (s.failures[failure] ?? 0) + 1;
      if (open === undefined) {
        open = { from: at, to: at, failed: 0 };
        s.windows.push(open);
      }
      open.to = at;
      open.failed++;
    }
    await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
}

async function main(): Promise<void> {
  const [host, ...targets] = process.argv.slice(2);
  if (host === undefined || targets.length === 0) throw new Error('usage: steady-client.ts HOST IP:PORT...');
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  const summary: ClientSummary = {};
  for (const t of targets) summary[t] = { requests: 0, ok: 0, failed: 0, failures: {}, windows: [], firstAt: 0, lastAt: 0 };
  await Promise.all(targets.map((t) => loop(t, host, summary[t] as TargetSummary, () => stopping)));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
