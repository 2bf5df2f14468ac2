/**
 * `make bench-tls`, HAProxy part: the cost of TLS hosts on HAProxy, before and after the crt-list
 * listener (ADR 0032).
 *
 * For N TLS hosts (HAPROXY_TLS_SIZES, default 1000,10000), each with its own certificate secret
 * pair (one EC P-256 pair copied under every name, as tls-bench.ts does), and both layouts —
 * `per-certificate` (one TLS bind, socket and SNI-router hop per certificate: before) and
 * `crt-list` (one bind reading a crt-list) — it measures on a local HAProxy 2.6:
 * - `haproxy -c`: wall and CPU time (TLS_RUNS runs, default 3);
 * - a reload (`haproxy -D -sf <old>`, the new process parses the config and loads every certificate
 *   before it forks): wall and CPU time until it returned, and PSS of the instance after start and
 *   after the old process left;
 * - handshakes to one host for TLS_SECONDS (default 3), full and resumed: HAProxy's CPU per
 *   handshake and handshakes per second of one sequential client.
 * The combined PEMs and the crt-list are built by the agent's own code (buildPemFiles).
 * A table on stdout, the samples in bench/results/tls-haproxy-latest.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderHaproxy } from '../src/render/haproxy/render';
import { buildPemFiles } from '../src/validate/haproxy-pems';
import { localHaproxy, processTree, pssBytes, sleep } from './lib/local-proxy';
import { machineInfo } from './lib/machine';
import { childrenCpuMs, generateCertPair, opensslVersion, populateSecrets } from './lib/nginx';
import { median } from './lib/stats';
import { tlsBenchModel } from './lib/tls-model';
import { handshake, handshakeLoop, type HandshakeLoop } from './lib/tls-handshakes';

type Layout = 'per-certificate' | 'crt-list';
const SIZES = (process.env['HAPROXY_TLS_SIZES'] ?? '1000,10000').split(',').map(Number).filter((n) => n > 0);
const RUNS = Number(process.env['TLS_RUNS'] ?? 3);
const SECONDS = Number(process.env['TLS_SECONDS'] ?? 3);
const LAYOUTS: Layout[] = ['per-certificate', 'crt-list'];
const BASE_PORT = 24100;

interface Row {
  readonly hosts: number;
  readonly layout: Layout;
  readonly configBytes: number;
  readonly tlsBinds: number;
  readonly check: { wallMs: readonly number[]; cpuMs: readonly number[] };
  /** Absent when HAProxy could not start (`startError` says why: e.g. more file descriptors than the limit). */
  readonly started?: {
    readonly reload: { wallMs: readonly number[]; cpuMs: readonly number[] };
    readonly pssAfterStartMiB: number;
    readonly pssAfterReloadMiB: number;
    readonly full: HandshakeLoop;
    readonly resumed: HandshakeLoop;
  };
  readonly startError?: string;
}

function timed<T>(f: () => T): { value: T; wallMs: number; cpuMs: number } {
  const c0 = childrenCpuMs() ?? 0;
  const t0 = performance.now();
  const value = f();
  return { value, wallMs: performance.now() - t0, cpuMs: (childrenCpuMs() ?? 0) - c0 };
}

async function measure(n: number, layout: Layout, tmp: string, secretsDir: string): Promise<Row> {
  const dir = join(tmp, `${n}-${layout}`);
  mkdirSync(dir, { recursive: true });
  const [http = 0, https = 0, status = 0, traffic = 0] = [0, 1, 2, 3].map((i) => BASE_PORT + i);
  const m = tlsBenchModel(n);
  const certDir = join(tmp, 'certs');
  const config = renderHaproxy(
    { ...m, spec: { ...m.spec, defaults: { ...m.spec.defaults, workerProcesses: '1', accessLog: false } } },
    { certDir, secretsDir, runtimeDir: dir, bindAddress: '127.0.0.1', httpPort: http, httpsPort: https, statusPort: status, trafficLogPort: traffic, logTarget: '/dev/null', crtList: layout === 'crt-list' },
  );
  const confPath = join(dir, 'haproxy.cfg');
  writeFileSync(confPath, config);
  const built = buildPemFiles(config, certDir, secretsDir);
  if (!built.ok) throw new Error(built.output);
  const proxy = localHaproxy(confPath, join(dir, 'haproxy.pid'));
  const check = { wallMs: [] as number[], cpuMs: [] as number[] };
  for (let i = 0; i < RUNS; i++) {
    const t = timed(() => proxy.check());
    if (!t.value.ok) throw new Error(`haproxy -c failed (${n} ${layout}): ${t.value.output.slice(0, 2000)}`);
    check.wallMs.push(t.wallMs);
    check.cpuMs.push(t.cpuMs);
  }
  const base = { hosts: n, layout, configBytes: Buffer.byteLength(config), tlsBinds: (config.match(/^\s*bind "unix@/gm) ?? []).length, check };
  try {
    proxy.start();
  } catch (e) {
    return { ...base, startError: (e instanceof Error ? e.message : String(e)).split('\n').filter((l) => l.includes('ALERT')).join(' ') };
  }
  try {
    const host = `t${Math.floor(n / 2)}.bench.test`;
    await untilServing(https, host);
    const pssAfterStartMiB = pssBytes(processTree(proxy.roots())) / 2 ** 20;
    const full = await handshakeLoop(https, host, false, () => proxy.roots(), SECONDS);
    const resumed = await handshakeLoop(https, host, true, () => proxy.roots(), SECONDS);
    const reload = { wallMs: [] as number[], cpuMs: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      const t = timed(() => proxy.reload());
      reload.wallMs.push(t.wallMs);
      reload.cpuMs.push(t.cpuMs);
      // The old process leaves once its connections are gone (none are open here).
      for (let w = 0; w < 200 && proxy.roots().length > 1; w++) await sleep(25);
    }
    await sleep(300);
    const pssAfterReloadMiB = pssBytes(processTree(proxy.roots())) / 2 ** 20;
    return { ...base, started: { reload, pssAfterStartMiB, pssAfterReloadMiB, full, resumed } };
  } finally {
    // SIGTERM (hard stop): a soft-stopped HAProxy may wait for idle connections, and a process
    // left behind would share the port (SO_REUSEPORT) with the next measurement's.
    const pids = processTree(proxy.roots());
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    for (let w = 0; w < 100 && processTree(pids).length > 0; w++) await sleep(50);
  }
}

/** Wait until a handshake to `host` succeeds (HAProxy's listeners may take a moment after the daemon returned). */
async function untilServing(port: number, host: string): Promise<void> {
  let last: unknown;
  for (let i = 0; i < 300; i++) {
    try {
      await handshake(port, host);
      return;
    } catch (e) {
      last = e;
      await sleep(100);
    }
  }
  throw new Error(`no TLS handshake with ${host} after 30 s: ${String(last)}`);
}

const ms = (xs: readonly number[]): string => (xs.length === 0 ? 'n/a' : `${Math.round(Math.min(...xs))} / ${Math.round(median(xs))}`);

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'sg-bench-tls-haproxy-'));
  const started = new Date();
  const pair = generateCertPair(join(tmp, 'pair'));
  const rows: Row[] = [];
  try {
    for (const n of SIZES) {
      const secretsDir = join(tmp, 'secrets');
      populateSecrets(secretsDir, pair, Array.from({ length: n }, (_, i) => `t${i}.crt`), Array.from({ length: n }, (_, i) => `t${i}.key`));
      for (const layout of LAYOUTS) {
        process.stderr.write(`tls bench (haproxy): ${n} hosts, ${layout}…\n`);
        rows.push(await measure(n, layout, tmp, secretsDir));
        process.stderr.write(`${JSON.stringify(rows[rows.length - 1])}\n`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const lines = [
    '| TLS hosts | layout | TLS binds | config KiB | haproxy -c wall ms min / median | haproxy -c CPU ms | reload wall ms | reload CPU ms | PSS MiB after start / after reloads | full handshake: HAProxy CPU ms, /s | resumed: HAProxy CPU ms, /s, reused |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const st = r.started;
    const run =
      st === undefined
        ? `did not start: ${r.startError ?? ''} | | | | |`
        : `${ms(st.reload.wallMs)} | ${ms(st.reload.cpuMs)} | ${Math.round(st.pssAfterStartMiB)} / ${Math.round(st.pssAfterReloadMiB)} | ${st.full.nginxCpuMsPer.toFixed(2)}, ${Math.round(st.full.perSecond)} | ${st.resumed.nginxCpuMsPer.toFixed(2)}, ${Math.round(st.resumed.perSecond)}, ${Math.round(st.resumed.reusedShare * 100)} % |`;
    lines.push(`| ${r.hosts} | ${r.layout} | ${r.tlsBinds} | ${Math.round(r.configBytes / 1024)} | ${ms(r.check.wallMs)} | ${ms(r.check.cpuMs)} | ${run}`);
  }
  const load = loadavg();
  process.stdout.write(`${lines.join('\n')}\nload average at the end: ${load.map((x) => x.toFixed(2)).join(' ')}\n`);
  const out = { benchmark: 'tls-haproxy', started: started.toISOString(), machine: machineInfo('haproxy', opensslVersion()), loadAverageAtEnd: load, runs: RUNS, handshakeSeconds: SECONDS, rows };
  const resultsDir = join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'tls-haproxy-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
