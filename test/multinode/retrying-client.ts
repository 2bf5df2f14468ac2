/**
 * A client for the drain test, run inside the client namespace (`ip netns exec sg-cli node --import
 * tsx retrying-client.ts HOST TARGET...`): sends one GET after another to the proxies' host-mode
 * addresses until SIGTERM, then prints a JSON summary on stdout.
 *
 * It behaves like a client behind a DNS name that lists every node: a connection error (refused,
 * reset, timeout) is not a failure but a reason to try the next address, until RETRY_BUDGET_MS
 * passes. A failure is an HTTP answer other than 200, or a request that found no proxy within
 * the budget. Not a test file: it runs in another network namespace than vitest.
 */
import { request } from 'node:http';

const RETRY_BUDGET_MS = 60_000;
const REQUEST_TIMEOUT_MS = 2_000;

export interface ClientSummary {
  requests: number;
  ok: number;
  failed: number;
  /** Connection errors that led to trying the next address. */
  retries: number;
  /** Longest time one request spent retrying before it was answered. */
  maxRetryMs: number;
  /** Answered requests per target address. */
  byTarget: Record<string, number>;
  /** Non-200 statuses seen (status → count); "gave-up" for exhausted retries. */
  failures: Record<string, number>;
}

type Outcome = { kind: 'answer'; status: number } | { kind: 'connection'; error: string };

function get(target: string, host: string): Promise<Outcome> {
  const [ip, port] = target.split(':');
  return new Promise((resolve) => {
    const req = request({ host: ip, port: Number(port), path: '/', headers: { host }, agent: false, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      res.resume();
      res.on('end', () => resolve({ kind: 'answer', status: res.statusCode ?? 0 }));
      res.on('error', (e) => resolve({ kind: 'connection', error: e.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ kind: 'connection', error: e.message }));
    req.end();
  });
}

async function main(): Promise<void> {
  const [host, ...targets] = process.argv.slice(2);
  if (host === undefined || targets.length === 0) throw new Error('usage: retrying-client.ts HOST IP:PORT...');
  const s: ClientSummary = { requests: 0, ok: 0, failed: 0, retries: 0, maxRetryMs: 0, byTarget: {}, failures: {} };
  let stopping = false;
  process.on('SIGTERM', () => (stopping = true));
  let next = 0;
  while (!stopping) {
    s.requests++;
    const started = Date.now();
    for (;;) {
      const target = targets[next % targets.length] ?? '';
      const r = await get(target, host);
      if (r.kind === 'answer') {
        s.byTarget[target] = (s.byTarget[target] ?? 0) + 1;
        if (r.status === 200) s.ok++;
        else {
          s.failed++;
          s.failures[String(r.status)] = (s.failures[String(r.status)] ?? 0) + 1;
        }
        break;
      }
      s.retries++;
      next++;
      if (Date.now() - started > RETRY_BUDGET_MS) {
        s.failed++;
        s.failures['gave-up'] = (s.failures['gave-up'] ?? 0) + 1;
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    s.maxRetryMs = Math.max(s.maxRetryMs, Date.now() - started);
    // A steady, modest rate: about 50 requests per second at most.
    await new Promise((res) => setTimeout(res, 20));
  }
  process.stdout.write(`${JSON.stringify(s)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
