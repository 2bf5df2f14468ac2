/**
 * A real NGINX or HAProxy started on this machine from a rendered config, for bench-scale: start,
 * check, reload, stop, memory (PSS of every process of the instance) and a probe of what a host
 * serves. Backends are a second, tiny NGINX answering its own address on loopback IPs
 * (127.0.x.y:8080), so a request tells which task served it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { nginxAllocatorEnv } from '../../src/agent/nginx-allocator';
import { BACKEND_PORT } from './inputs';

export type Kind = 'nginx' | 'haproxy';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function readPid(pidFile: string): number | undefined {
  if (!existsSync(pidFile)) return undefined;
  const n = Number(readFileSync(pidFile, 'utf8').trim().split(/\s+/)[0]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Alive and not a zombie: a child that exited stays a zombie until this (blocked) event loop reaps it. */
function running(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Start a daemonising proxy: its output goes to a file, since a daemon keeps the pipes of
 * spawnSync open and spawnSync would wait for it to exit.
 */
function daemonise(bin: string, args: readonly string[], logPath: string): { status: number | null; log: string } {
  const fd = openSync(logPath, 'a');
  try {
    const r = spawnSync(bin, args, { stdio: ['ignore', fd, fd] });
    return { status: r.status, log: existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-4000) : '' };
  } finally {
    closeSync(fd);
  }
}

/** Every live process whose parent chain reaches one of `roots` (the roots included). */
export function processTree(roots: readonly number[]): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(fields[1]));
    } catch {
      // the process exited meanwhile
    }
  }
  const inTree = new Set(roots.filter((p) => parent.has(p)));
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of parent) if (!inTree.has(pid) && inTree.has(ppid)) { inTree.add(pid); grew = true; }
  }
  return [...inTree];
}

/** Proportional set size in bytes (shared pages split between the processes that map them). */
export function pssBytes(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      // exited
    }
  }
  return kb * 1024;
}

export interface LocalProxy {
  readonly kind: Kind;
  readonly confPath: string;
  /** Root processes whose trees make up the instance (NGINX: the master; HAProxy: every daemon still running). */
  roots(): number[];
  check(): { ok: boolean; ms: number; output: string };
  start(): void;
  /** Ask for a reload; returns once the command returned (NGINX: signal sent; HAProxy: new daemon started). */
  reload(): void;
  stop(): void;
}

export function localNginx(dir: string, confPath: string, pidPath: string): LocalProxy {
  const run = (...args: string[]) => spawnSync('nginx', ['-p', dir, '-c', confPath, ...args], { encoding: 'utf8' });
  return {
    kind: 'nginx',
    confPath,
    roots: () => {
      const p = readPid(pidPath);
      return p !== undefined && alive(p) ? [p] : [];
    },
    check: () => {
      const t0 = performance.now();
      const r = run('-t', '-q');
      return { ok: r.status === 0, ms: performance.now() - t0, output: `${r.stderr}` };
    },
    // As the agent starts it (src/agent/proxy-process.ts): in the foreground, on the allocator of
    // ADR 0040. A daemonising NGINX would lose jemalloc's purging thread at its fork, and with it
    // the memory figures of a proxy task.
    start: () => {
      const logPath = join(dir, 'nginx.log');
      const fd = openSync(logPath, 'a');
      try {
        const child = spawn('nginx', ['-p', dir, '-c', confPath, '-g', 'daemon off;'], { stdio: ['ignore', fd, fd], detached: true, env: { ...process.env, ...nginxAllocatorEnv() } });
        child.unref();
        const deadline = Date.now() + 300_000;
        while (readPid(pidPath) !== child.pid) {
          if (!running(child.pid ?? 0) || Date.now() > deadline) throw new Error(`nginx did not start: ${existsSync(logPath) ? readFileSync(logPath, 'utf8').slice(-4000) : ''}`);
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
        }
      } finally {
        closeSync(fd);
      }
    },
    reload: () => {
      const p = readPid(pidPath);
      if (p === undefined) throw new Error('nginx is not running');
      process.kill(p, 'SIGHUP');
    },
    stop: () => {
      const p = readPid(pidPath);
      if (p !== undefined && alive(p)) process.kill(p, 'SIGTERM');
    },
  };
}

export function localHaproxy(confPath: string, pidPath: string): LocalProxy {
  let daemons: number[] = [];
  const launch = (extra: string[]) => {
    const r = daemonise('haproxy', ['-f', confPath, '-D', '-p', pidPath, ...extra], `${confPath}.log`);
    if (r.status !== 0) throw new Error(`haproxy did not start: ${r.log}`);
    const p = readPid(pidPath);
    if (p !== undefined) daemons = [...daemons.filter(alive), p];
  };
  return {
    kind: 'haproxy',
    confPath,
    roots: () => (daemons = daemons.filter(alive)),
    check: () => {
      const t0 = performance.now();
      const r = spawnSync('haproxy', ['-c', '-q', '-f', confPath], { encoding: 'utf8' });
      return { ok: r.status === 0, ms: performance.now() - t0, output: `${r.stdout}${r.stderr}` };
    },
    start: () => launch([]),
    reload: () => launch(['-sf', ...daemons.filter(alive).map(String)]),
    stop: () => {
      for (const p of daemons.filter(alive)) process.kill(p, 'SIGUSR1');
    },
  };
}

/** A tiny NGINX answering "its own address" on every given loopback IP, port 8080 (BACKEND_PORT). */
export function startBackends(dir: string, ips: readonly string[]): () => void {
  const conf = join(dir, 'backends.conf');
  const pid = join(dir, 'backends.pid');
  writeFileSync(
    conf,
    [
      `pid ${pid};`,
      'worker_processes 1;',
      'error_log stderr error;',
      'events { worker_connections 2048; }',
      'http {',
      '  access_log off;',
      '  keepalive_requests 100000;',
      '  server {',
      ...ips.map((ip) => `    listen ${ip}:${BACKEND_PORT};`),
      '    location / { default_type text/plain; return 200 "$server_addr"; }',
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  const r = daemonise('nginx', ['-p', dir, '-c', conf], join(dir, 'backends.log'));
  if (r.status !== 0) throw new Error(`backend nginx did not start: ${r.log}`);
  return () => {
    const p = readPid(pid);
    if (p === undefined || !alive(p)) return;
    process.kill(p, 'SIGTERM');
    // Until it let go of its addresses: the next case's backends bind the same ones (a loaded machine takes a while).
    const until = Date.now() + 10_000;
    while (alive(p) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  };
}

/** One GET of `host` at 127.0.0.1:port: status and body (0/"" on a connection error). */
export function probe(port: number, host: string, path = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Probe until `accept` holds; the time it first held (performance.now()), or undefined after timeoutMs. */
export async function firstServed(
  port: number,
  host: string,
  accept: (r: { status: number; body: string }) => boolean,
  timeoutMs: number,
  onTick?: () => void,
): Promise<number | undefined> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const r = await probe(port, host);
    if (accept(r)) return performance.now();
    onTick?.();
    if (r.status === 0) await sleep(2);
  }
  return undefined;
}

/** wrk against one host for `seconds`: requests per second and the count of non-2xx/3xx answers and socket errors. */
export function wrkRate(port: number, host: string, seconds: number): { rps: number; errors: number } {
  const r = spawnSync('wrk', ['-t1', '-c16', `-d${seconds}s`, '-H', `Host: ${host}`, `http://127.0.0.1:${port}/`], { encoding: 'utf8' });
  // Run without make (which installs it), the column would read NaN with no reason given.
  if (r.error !== undefined) process.stderr.write(`[bench] wrk could not run (${r.error.message}): requests/s not measured; \`make bench-scale\` installs it (Debian package wrk)\n`);
  const out = `${r.stdout}`;
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (sock === null ? 0 : sock.slice(1).reduce((a, b) => a + Number(b), 0));
  return { rps, errors };
}
