/**
 * Dynamic endpoints (ADR 0016): the agent's side. The core delivers `endpoints.txt` next to
 * nginx.conf; when only it changed, the agent pushes it to NGINX's loopback control endpoint (the Lua
 * balancer's shared dictionary) instead of checking and reloading. Before a reload it pushes the
 * set too, so upstreams the new config names are known the moment its workers start.
 *
 * Only what changed (ADR 0038): the agent remembers the set it last pushed successfully and the
 * version the balancer confirmed for it, and sends the upstreams whose lines differ (PATCH) on top of
 * that version. The whole set (PUT) goes when there is nothing confirmed — the agent's start, a
 * reload, a failed push, a balancer that does not echo versions (an older nginx.conf) — and when the
 * balancer answers 409 because it holds another set (NGINX restarted and seeded itself from the file).
 *
 * Around a reload (ADR 0041): before it, the new set plus the upstreams it drops (the old workers
 * still serve the old config, which names them); after it, once the old workers are gone, the new
 * set exactly.
 */
import { createHash } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Validation } from '../validate/result';
import { ENDPOINTS_FILE } from '../render/render-cluster';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../render/nginx/options';

/** Names the set a push leaves in the balancer (sent and echoed as X-Swarmgate-Version). */
export const VERSION_HEADER = 'x-swarmgate-version';
/** The version a delta applies on top of. */
export const BASE_HEADER = 'x-swarmgate-base';

export interface ControlAnswer {
  readonly status: number;
  readonly text: string;
  /** The version the balancer echoed (undefined: none, e.g. an nginx.conf from before ADR 0038). */
  readonly version: string | undefined;
}

/** One request to NGINX's loopback control port. */
export function controlRequest(method: 'PUT' | 'PATCH' | 'GET', body: string | Uint8Array, headers: Record<string, string>, port = DEFAULT_DYNAMIC_ENDPOINTS.controlPort, timeoutMs = 10_000): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path: '/endpoints', agent: false, timeout: timeoutMs, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        const v = res.headers[VERSION_HEADER];
        resolve({ status: res.statusCode ?? 0, text, version: typeof v === 'string' ? v : undefined });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`NGINX endpoints ${method} timed out after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** PUT the whole set to NGINX's loopback control port; rejects unless NGINX answers 204. */
export async function putEndpoints(body: string | Uint8Array, port = DEFAULT_DYNAMIC_ENDPOINTS.controlPort, timeoutMs = 10_000, version?: string): Promise<ControlAnswer> {
  const a = await controlRequest('PUT', body, version !== undefined ? { [VERSION_HEADER]: version } : {}, port, timeoutMs);
  if (a.status !== 204) throw new Error(`NGINX refused the endpoints (${a.status}): ${a.text.trim().slice(0, 300)}`);
  return a;
}

/** Upstream name → its line (the name is the line's first field; a later line of the same name wins, as in the balancer). */
export function endpointLines(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const sp = line.indexOf(' ');
    out.set(sp < 0 ? line : line.slice(0, sp), line);
  }
  return out;
}

/** The delta from `before` to `after`: changed or new lines, then `-NAME` for every upstream gone. */
export function endpointDelta(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [name, line] of after) if (before.get(name) !== line) out.push(line);
  for (const name of before.keys()) if (!after.has(name)) out.push(`-${name}`);
  return out;
}

const nameOf = (line: string): string => {
  const sp = line.indexOf(' ');
  return sp < 0 ? line : line.slice(0, sp);
};

/** Identical text is skipped this many characters at a time (a native comparison), not line by line. */
const CHUNK = 4096;

/**
 * endpointDelta for two texts whose lines are sorted by name with no name twice (as the renderer
 * writes them): one walk over both, skipping identical stretches a chunk at a time, so a change of a
 * few lines costs about a comparison of the texts rather than a split and an index of every line.
 * Undefined when a text is not in that order (the caller compares maps instead).
 */
export function sortedTextDelta(before: string, after: string): string[] | undefined {
  const out: string[] = [];
  const A = before.length;
  const B = after.length;
  let i = 0;
  let j = 0;
  let lastA = '';
  let lastB = '';
  for (;;) {
    // i and j are at line starts: skip what is identical from there, then back to the start of the line the skip ended in.
    let n = 0;
    while (i + (n + 1) * CHUNK <= A && j + (n + 1) * CHUNK <= B && before.slice(i + n * CHUNK, i + (n + 1) * CHUNK) === after.slice(j + n * CHUNK, j + (n + 1) * CHUNK)) n++;
    if (n > 0) {
      const k = before.lastIndexOf('\n', i + n * CHUNK - 1) + 1;
      if (k > i) {
        // The names before k are the same in both: the order check goes on from the last of them.
        lastA = lastB = nameOf(before.slice(before.lastIndexOf('\n', k - 2) + 1, k - 1));
        j += k - i;
        i = k;
      }
    }
    if (i >= A && j >= B) return out;
    const ea = i < A ? (before.indexOf('\n', i) + 1 || A + 1) - 1 : A;
    const eb = j < B ? (after.indexOf('\n', j) + 1 || B + 1) - 1 : B;
    const la = i < A ? before.slice(i, ea) : undefined;
    const lb = j < B ? after.slice(j, eb) : undefined;
    if (la === '' || lb === '') {
      if (la === '') i = ea + 1;
      if (lb === '') j = eb + 1;
      continue;
    }
    const na = la === undefined ? undefined : nameOf(la);
    const nb = lb === undefined ? undefined : nameOf(lb);
    if ((na !== undefined && na <= lastA) || (nb !== undefined && nb <= lastB)) return undefined;
    if (la === lb && na !== undefined) {
      i = ea + 1;
      j = eb + 1;
      lastA = lastB = na;
      continue;
    }
    if (na !== undefined && na === nb && lb !== undefined) {
      out.push(lb);
      i = ea + 1;
      j = eb + 1;
      lastA = na;
      lastB = na;
    } else if (na !== undefined && (nb === undefined || na < nb)) {
      out.push(`-${na}`);
      i = ea + 1;
      lastA = na;
    } else if (nb !== undefined && lb !== undefined) {
      out.push(lb);
      j = eb + 1;
      lastB = nb;
    }
  }
}

/**
 * The set to push before a reload: `next` plus every upstream of `live` that `next` drops (`next`
 * itself when it drops none). Until the reload's old workers have exited they serve the old config,
 * which still proxies to the dropped names (a canary's weight going to 0, a backend or route
 * removed); a name missing from the dictionary sends its requests to the 503 backup. So the
 * dropped names go only after the reload (issue 22's canary finding, ADR 0041).
 */
export function keepingDropped(live: string, next: string): string {
  const delta = sortedTextDelta(live, next) ?? endpointDelta(endpointLines(live), endpointLines(next));
  if (!delta.some((l) => l.startsWith('-'))) return next;
  const after = endpointLines(next);
  const lines = [...after.values()];
  for (const [name, line] of endpointLines(live)) if (!after.has(name)) lines.push(line);
  // Sorted as the renderer writes a set (endpointsText), so deltas from it take the fast walk.
  return `${lines.sort().join('\n')}\n`;
}

/** A set's version: what the balancer stores beside it (a digest of the set's text, 32 hex). */
export function setVersion(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 32);
}

export type PushResult = Validation & {
  /** How the set went: whole (PUT), a delta of `upstreams` lines (PATCH), or nothing to send. */
  readonly sent?: 'whole' | 'delta' | 'none';
  readonly upstreams?: number;
};

/** The agent's side of the balancer: the set it last pushed successfully, and pushes from it. */
export class NginxEndpoints {
  private confirmed: { readonly version: string; readonly text: string } | undefined;

  constructor(private readonly port: number = DEFAULT_DYNAMIC_ENDPOINTS.controlPort) {}

  /** Nothing confirmed any more: the next push is whole. */
  forget(): void {
    this.confirmed = undefined;
  }

  /**
   * Before a reload: the new set with the upstreams it drops kept (keepingDropped), on top of the set
   * last confirmed, else of `liveText` (the endpoints file the running config was given). The push
   * after the reload (`push(undefined, content)`) then removes them.
   */
  async pushBeforeReload(content: Uint8Array | string, liveText: string | undefined): Promise<PushResult> {
    const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    return this.push(undefined, keepingDropped(this.confirmed?.text ?? liveText ?? '', text));
  }

  /** Whether the next push may be a delta (for tests and logs). */
  get hasConfirmedSet(): boolean {
    return this.confirmed !== undefined;
  }

  /**
   * The set to NGINX's balancer (no check, no reload): the changed upstreams when a set is confirmed,
   * else (or with `whole`) all of it; with `confDir`, then to the endpoints file a restarted NGINX
   * seeds from (absent: the caller moves a staged file into place itself).
   */
  async push(confDir: string | undefined, content: Uint8Array | string, whole = false): Promise<PushResult> {
    const text = typeof content === 'string' ? content : Buffer.from(content).toString('utf8');
    const version = setVersion(text);
    const base = whole ? undefined : this.confirmed;
    this.confirmed = undefined;
    let sent: PushResult['sent'];
    let upstreams = 0;
    try {
      const delta = base === undefined ? undefined : (sortedTextDelta(base.text, text) ?? endpointDelta(endpointLines(base.text), endpointLines(text)));
      if (base !== undefined && delta !== undefined && delta.length === 0) {
        sent = 'none';
        this.confirmed = { version: base.version, text };
      } else {
        let a: ControlAnswer | undefined;
        if (base !== undefined && delta !== undefined) {
          a = await controlRequest('PATCH', `${delta.join('\n')}\n`, { [BASE_HEADER]: base.version, [VERSION_HEADER]: version }, this.port);
          // 409: the balancer holds another set than the agent's (seeded from the file by a restarted NGINX): push it whole.
          if (a.status === 409) a = undefined;
          else if (a.status !== 204) throw new Error(`NGINX refused the endpoint delta (${a.status}): ${a.text.trim().slice(0, 300)}`);
          else {
            sent = 'delta';
            upstreams = delta.length;
          }
        }
        if (a === undefined) {
          a = await putEndpoints(text, this.port, 10_000, version);
          sent = 'whole';
          upstreams = endpointLines(text).size;
        }
        // A balancer that does not echo the version (an nginx.conf from before deltas) gets whole sets only.
        if (a.version === version) this.confirmed = { version, text };
      }
    } catch (err) {
      return { ok: false, output: err instanceof Error ? err.message : String(err) };
    }
    if (confDir !== undefined) {
      const target = join(confDir, ENDPOINTS_FILE);
      writeFileSync(`${target}.next`, content);
      renameSync(`${target}.next`, target);
    }
    return { ok: true, output: '', ...(sent !== undefined ? { sent } : {}), upstreams };
  }
}

/**
 * The whole set to NGINX's balancer, with no memory of earlier pushes (and, with `confDir`, to the
 * endpoints file). The agent uses NginxEndpoints; this is for one-off pushes.
 */
export async function pushEndpointSet(confDir: string | undefined, content: Uint8Array, port?: number): Promise<Validation> {
  return new NginxEndpoints(port).push(confDir, content, true);
}
