/**
 * Keep-alive clients that send requests back to back (like wrk, through Node's http.Agent): every
 * error is counted, since Node does not retry a request that a closed keep-alive connection lost.
 */
import { Agent, request } from 'node:http';

export interface KeepAliveLoadResult {
  readonly ok: number;
  /** Error messages and non-200 statuses, in order. */
  readonly failures: readonly string[];
  /** Connections opened over the run. */
  readonly connections: number;
}

export interface KeepAliveLoad {
  /** Connections opened so far. */
  connections(): number;
  /** Failures so far: lets a test say in which phase of a run they happened. */
  failuresSoFar(): number;
  stop(): Promise<KeepAliveLoadResult>;
}

export function startKeepAliveLoad(port: number, host: string, clients = 20): KeepAliveLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const sockets = new Set<unknown>();
  const failures: string[] = [];
  let ok = 0;
  let running = true;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent, timeout: 10_000 }, (res) => {
        res.resume();
        res.on('end', () => {
          if (res.statusCode === 200) ok++;
          else failures.push(`status ${String(res.statusCode)}`);
          resolve();
        });
      });
      req.on('socket', (s) => sockets.add(s));
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', (e) => {
        failures.push(e.message);
        resolve();
      });
      req.end();
    });
  const loops = Array.from({ length: clients }, async () => {
    while (running) await one();
  });
  return {
    connections: () => sockets.size,
    failuresSoFar: () => failures.length,
    async stop() {
      running = false;
      await Promise.all(loops);
      agent.destroy();
      return { ok, failures, connections: sockets.size };
    },
  };
}
