/**
 * What the tests of the agent with real proxy processes share (agent supervision, the PID 1 loop,
 * self-healing, boot): the smallest NGINX config that answers a known body (HAProxy's is
 * plainHaproxyConfig in haproxy-check.ts), a probe on a new connection,
 * a request loop that measures gaps, the master the agent recorded, and clean-ups run after each test.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { afterEach } from 'vitest';
import { masterRecordPath } from '../../src/agent/proxy-handle';

/** An NGINX config serving `body` on 127.0.0.1:port, its pid file in `dir`. */
export const tinyNginxConf = (dir: string, port: number, body: string): string =>
  `pid ${dir}/nginx.pid;\nerror_log stderr crit;\nevents {}\nhttp {\n  access_log off;\n  server {\n    listen 127.0.0.1:${port};\n    location / { return 200 "${body}\\n"; }\n  }\n}\n`;

/** One request on a new connection; the body of a 200, or undefined on anything else (refused, reset, timeout). */
export function probe(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { connection: 'close' }, timeout: 500 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 ? body.trim() : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

export interface LoopResult {
  readonly requests: number;
  readonly failed: number;
  /** The longest run of failed requests, from the first failure to the next success. */
  readonly gapMs: number;
}

/** A request on a new connection every few ms until stopped. */
export function requestLoop(port: number): { stop: () => Promise<LoopResult> } {
  let stopped = false;
  let requests = 0;
  let failed = 0;
  let gapMs = 0;
  let failingSince: number | undefined;
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const ok = (await probe(port)) !== undefined;
      requests++;
      if (!ok) {
        failed++;
        failingSince ??= at;
      } else if (failingSince !== undefined) {
        gapMs = Math.max(gapMs, at - failingSince);
        failingSince = undefined;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return { requests, failed, gapMs };
    },
  };
}

/** The proxy master the agent recorded in `confDir` (ADR 0018), if any. */
export function recordedMaster(confDir: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(masterRecordPath(confDir), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** Clean-ups registered during a test, run in reverse order after it. Call once at module level. */
export function cleanupsAfterEach(): (() => Promise<void> | void)[] {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  return cleanups;
}
