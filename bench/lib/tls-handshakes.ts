/**
 * TLS handshakes for the TLS benchmarks (tls-bench.ts, tls-bench-haproxy.ts): one handshake, a loop
 * of them for a few seconds with the proxy's CPU per handshake, and the CPU time of live processes.
 */
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { connect as tlsConnect } from 'node:tls';
import { processTree } from './local-proxy';

let ticks: number | undefined;
/** user + sys CPU ms of these processes (those that exited meanwhile are missed: measure live ones). */
export function cpuMs(pids: readonly number[]): number {
  let sum = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      sum += Number(f[11]) + Number(f[12]);
    } catch {
      // exited
    }
  }
  ticks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
  return (sum * 1000) / ticks;
}

/** One TLS handshake naming `servername` (resuming `session` if given); resolves with the session ticket it got and whether it resumed. */
export function handshake(port: number, servername: string, session?: Buffer, waitTicket = false): Promise<{ reused: boolean; ticket?: Buffer }> {
  return new Promise((resolve, reject) => {
    let ticket: Buffer | undefined;
    const sock = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...(session !== undefined ? { session } : {}) });
    sock.on('session', (s: Buffer) => (ticket = s));
    sock.once('secureConnect', () => {
      const reused = sock.isSessionReused();
      if (!waitTicket) {
        sock.destroy();
        resolve({ reused });
        return;
      }
      // TLS 1.3 sends the ticket after the handshake: one request with Connection: close makes the
      // server answer (the ticket arrives before the answer) and close.
      sock.once('close', () => resolve({ reused, ...(ticket !== undefined ? { ticket } : {}) }));
      sock.on('data', () => undefined);
      sock.write(`GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    });
    sock.on('error', reject);
  });
}

export interface HandshakeLoop {
  readonly count: number;
  readonly perSecond: number;
  /** CPU ms of the proxy's processes per handshake (the field keeps its first benchmark's name). */
  readonly nginxCpuMsPer: number;
  readonly reusedShare: number;
}

export async function handshakeLoop(port: number, host: string, resumed: boolean, roots: () => number[], seconds: number): Promise<HandshakeLoop> {
  const first = await handshake(port, host, undefined, true);
  if (resumed && first.ticket === undefined) throw new Error('no session ticket');
  const pids = processTree(roots());
  const c0 = cpuMs(pids);
  const t0 = performance.now();
  let count = 0;
  let reused = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const r = await handshake(port, host, resumed ? first.ticket : undefined);
    count++;
    if (r.reused) reused++;
  }
  const wall = performance.now() - t0;
  return { count, perSecond: (count * 1000) / wall, nginxCpuMsPer: (cpuMs(pids) - c0) / count, reusedShare: reused / count };
}

