/**
 * A fault-injecting proxy in front of a Docker socket, for the Docker API drill: listens on a unix
 * socket of its own and forwards every request to the real engine, unless a fault is on:
 *   - `error`: every new request is answered 500 at once (as a failing engine does);
 *   - `hang`:  every new request is held until the fault is switched off, then forwarded (an
 *              engine that stops answering for a while and comes back).
 * Switching a fault on also cuts the streams in flight (the event stream), as an engine that
 * fails does. Counts what it saw, with times, so a drill can show how hard the client retried.
 */
import { request, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import type { Socket } from 'node:net';

export type Fault = 'none' | 'error' | 'hang';

export interface SeenRequest {
  readonly at: number;
  readonly method: string;
  readonly path: string;
  readonly fault: Fault;
}

export interface FaultSocket {
  readonly path: string;
  set(fault: Fault): void;
  /**
   * Once a request matching `method` and `path` has been answered by the engine, switch `fault`
   * on for `forMs` (an engine that dies right after a write). Resolves when the fault ends.
   */
  tripAfter(method: string, path: RegExp, fault: Fault, forMs: number): Promise<void>;
  /** Requests seen since the proxy started (or since `clear`). */
  seen(): readonly SeenRequest[];
  clear(): void;
  close(): Promise<void>;
}

export async function startFaultSocket(path: string, upstream: string): Promise<FaultSocket> {
  let fault: Fault = 'none';
  let seen: SeenRequest[] = [];
  const held: (() => void)[] = [];
  const open = new Set<Socket>();
  let trip: { method: string; path: RegExp; fault: Fault; forMs: number; done: () => void } | undefined;
  /** `keep`: the connection whose answer switched the fault on (it still gets that answer). */
  const set = (next: Fault, keep?: Socket): void => {
    if (next !== 'none' && fault === 'none') for (const s of open) if (s !== keep) s.destroy();
    fault = next;
    if (next !== 'hang') for (const go of held.splice(0)) go();
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = request({ socketPath: upstream, method: req.method, path: req.url, headers: req.headers }, (ur) => {
      const t = trip;
      if (t !== undefined && req.method === t.method && t.path.test(req.url ?? '')) {
        trip = undefined;
        // The engine did the write; from now on it fails, before the client even has the answer.
        set(t.fault, req.socket);
        setTimeout(() => {
          set('none');
          t.done();
        }, t.forMs);
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    res.on('close', () => up.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    seen.push({ at: Date.now(), method: req.method ?? '', path: (req.url ?? '').split('?')[0] ?? '', fault });
    if (fault === 'error') {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'injected fault: engine error' }));
    } else if (fault === 'hang') {
      held.push(() => forward(req, res));
    } else forward(req, res);
  });
  server.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  rmSync(path, { force: true });
  await new Promise<void>((resolve) => server.listen(path, resolve));

  return {
    path,
    set,
    tripAfter: (method, path, next, forMs) => new Promise<void>((done) => (trip = { method, path, fault: next, forMs, done })),
    seen: () => seen,
    clear: () => (seen = []),
    close: async () => {
      for (const go of held.splice(0)) go();
      for (const s of open) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(path, { force: true });
    },
  };
}
