/**
 * The NGINX side of the benchmark: throw-away certificates and `nginx -t` timing.
 * Nothing here listens or connects; `nginx -t` only parses the config and loads the cert files.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './stats';

export interface NginxInfo {
  readonly version: string;
  /** Path for `load_module`, or null when the stream module is built in. */
  readonly streamModulePath: string | null;
}

export interface NginxTestResult {
  readonly ok: boolean;
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  /**
   * CPU time (user + sys) of each run, from the waited-for children's times in /proc/self/stat;
   * unlike wall time it barely moves when other work competes for the cores. Absent off Linux.
   */
  readonly cpuRunsMs?: readonly number[];
  readonly cpuMedianMs?: number;
  readonly exitCode: number | null;
  /** stderr of the last run, trimmed (errors, or warnings on success). */
  readonly stderr: string;
}

/** undefined when no nginx binary is on PATH. */
export function nginxInfo(): NginxInfo | undefined {
  const r = spawnSync('nginx', ['-V'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return undefined;
  const text = `${r.stdout}${r.stderr}`;
  const version = /nginx version: (\S+)/.exec(text)?.[1] ?? 'unknown';
  let streamModulePath: string | null = null;
  if (/--with-stream=dynamic/.test(text)) {
    const dir = /--modules-path=(\S+)/.exec(text)?.[1] ?? '/usr/lib/nginx/modules';
    streamModulePath = join(dir, 'ngx_stream_module.so');
  }
  return { version, streamModulePath };
}

export function opensslVersion(): string | undefined {
  const r = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

export interface CertPair {
  readonly cert: string;
  readonly key: string;
}

/** One self-signed EC P-256 key/certificate for *.example.com, valid for a week. */
export function generateCertPair(dir: string): CertPair {
  mkdirSync(dir, { recursive: true });
  const pair = { cert: join(dir, 'bench.crt'), key: join(dir, 'bench.key') };
  const r = spawnSync(
    'openssl',
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', pair.key, '-out', pair.cert, '-days', '7',
      '-subj', '/CN=*.example.com', '-addext', 'subjectAltName=DNS:*.example.com,DNS:example.com',
    ],
    { encoding: 'utf8' },
  );
  if (r.error !== undefined) throw new Error(`openssl: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`openssl failed (${r.status ?? 'signal'}): ${r.stderr}`);
  return pair;
}

/** Copy the pair under every secret name (as Docker would mount one file per secret). Returns files written. */
export function populateSecrets(secretsDir: string, pair: CertPair, certNames: readonly string[], keyNames: readonly string[]): number {
  mkdirSync(secretsDir, { recursive: true });
  let written = 0;
  const put = (src: string, name: string): void => {
    const dst = join(secretsDir, name);
    if (existsSync(dst)) return;
    copyFileSync(src, dst);
    written++;
  };
  for (const n of certNames) put(pair.cert, n);
  for (const n of keyNames) put(pair.key, n);
  return written;
}

let clockTicks: number | undefined;

/** User + sys CPU milliseconds of all waited-for children so far (Linux), or undefined. */
export function childrenCpuMs(): number | undefined {
  try {
    if (clockTicks === undefined) {
      const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
      clockTicks = r.status === 0 ? Number(r.stdout.trim()) || 100 : 100;
    }
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // Fields after "(comm)": state is field 3, cutime field 16, cstime field 17 (proc(5)).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cutime = Number(fields[13]);
    const cstime = Number(fields[14]);
    if (!Number.isFinite(cutime) || !Number.isFinite(cstime)) return undefined;
    return ((cutime + cstime) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * `nginx -t` wall time, up to `runs` times; the config is only parsed, never started.
 * When a run takes longer than `stopAfterMs` the remaining runs are skipped: the verdict against
 * a 1 s target cannot change, and repeating 20-second runs would blow the benchmark's time budget.
 */
export function nginxTest(confPath: string, prefixDir: string, runs: number, stopAfterMs = Number.POSITIVE_INFINITY): NginxTestResult {
  const times: number[] = [];
  const cpu: number[] = [];
  let last: ReturnType<typeof spawnSync> | undefined;
  for (let i = 0; i < runs; i++) {
    const c0 = childrenCpuMs();
    const t0 = performance.now();
    // stdout must not be a socket: the config logs to /dev/stdout, and open() of a socket fails
    // (ENXIO). Node's 'pipe' is a socketpair, so give nginx /dev/null as in a detached container.
    last = spawnSync('nginx', ['-t', '-q', '-e', 'stderr', '-p', `${prefixDir}/`, '-c', confPath], {
      encoding: 'utf8',
      stdio: ['ignore', 'ignore', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
    });
    times.push(performance.now() - t0);
    const c1 = childrenCpuMs();
    if (c0 !== undefined && c1 !== undefined) cpu.push(c1 - c0);
    if (last.status !== 0 || performance.now() - t0 > stopAfterMs) break;
  }
  const stderr = last === undefined ? '' : String(last.stderr ?? '').trim();
  const ok = last !== undefined && last.error === undefined && last.status === 0;
  const cpuStats = cpu.length === times.length ? { cpuRunsMs: cpu, cpuMedianMs: median(cpu) } : {};
  return { ok, runsMs: times, medianMs: median(times), ...cpuStats, exitCode: last?.status ?? null, stderr: stderr.length > 4000 ? `${stderr.slice(0, 4000)}…` : stderr };
}
