/**
 * `make bench-tls`: the cost of TLS hosts on NGINX, before and after the shared TLS server (ADR 0028).
 *
 * For N TLS hosts (TLS_SIZES, default 1000,5000,10000), each with its own certificate secret pair
 * (one EC P-256 pair copied under every name, as render-bench does), and for both layouts —
 * `per-host` (every host's server loads its certificate: one TLS context each) and `shared` (one
 * context, `ssl_certificate $sg_tls_cert` chosen by SNI) — it measures on a local NGINX:
 * - `nginx -t`: wall and CPU (user + sys) time, TLS_RUNS runs (default 3);
 * - a reload: CPU time of the master from SIGHUP until the new worker runs, and that wall time;
 * - handshakes to one host for TLS_SECONDS (default 3) each, full (new session) and resumed
 *   (session ticket of an earlier connection): NGINX's CPU per handshake (every process of the
 *   instance, from /proc) and handshakes per second of one sequential client on the same machine.
 * A table on stdout, every sample in bench/results/tls-<time>.json and tls-latest.json.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyModel } from '../src/plan/model';
import { renderNginx } from '../src/render/nginx/render';
import { localNginx, processTree, sleep } from './lib/local-proxy';
import { machineInfo } from './lib/machine';
import { generateCertPair, nginxInfo, nginxTest, opensslVersion, populateSecrets } from './lib/nginx';
import { median } from './lib/stats';
import { tlsBenchModel } from './lib/tls-model';
import { cpuMs, handshakeLoop, type HandshakeLoop } from './lib/tls-handshakes';

type Layout = 'per-host' | 'shared';
const SIZES = (process.env['TLS_SIZES'] ?? '1000,5000,10000').split(',').map(Number).filter((n) => n > 0);
const RUNS = Number(process.env['TLS_RUNS'] ?? 3);
const SECONDS = Number(process.env['TLS_SECONDS'] ?? 3);
const LAYOUTS: Layout[] = ['per-host', 'shared'];
const BASE_PORT = 24000;


async function reloadOnce(dir: string, confPath: string, pidPath: string): Promise<{ wallMs: number; masterCpuMs: number }> {
  const nginx = localNginx(dir, confPath, pidPath);
  const master = nginx.roots()[0];
  if (master === undefined) throw new Error('nginx is not running');
  const before = new Set(processTree([master]).filter((p) => p !== master));
  const c0 = cpuMs([master]);
  const t0 = performance.now();
  nginx.reload();
  for (;;) {
    const now = processTree([master]).filter((p) => p !== master && !before.has(p));
    if (now.length > 0) break;
    if (performance.now() - t0 > 300_000) throw new Error('reload did not start a new worker in 300 s');
    await sleep(5);
  }
  const wallMs = performance.now() - t0;
  const masterCpuMs = cpuMs([master]) - c0;
  // Let the old workers go before the next measurement.
  for (let i = 0; i < 200 && processTree([master]).some((p) => before.has(p)); i++) await sleep(25);
  return { wallMs, masterCpuMs };
}

interface Row {
  readonly hosts: number;
  readonly layout: Layout;
  readonly configBytes: number;
  readonly nginxT: { wallMs: readonly number[]; cpuMs: readonly number[] };
  readonly reload: { wallMs: readonly number[]; masterCpuMs: readonly number[] };
  readonly full: HandshakeLoop;
  readonly resumed: HandshakeLoop;
  readonly rssAfterStartKiB: number;
}

function rssKiB(pids: readonly number[]): number {
  let kb = 0;
  for (const pid of pids) {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    kb += Number(m?.[1] ?? 0);
  }
  return kb;
}

async function measure(n: number, layout: Layout, m: ProxyModel, tmp: string, secretsDir: string, streamModulePath: string | null): Promise<Row> {
  const dir = join(tmp, `${n}-${layout}`);
  mkdirSync(dir, { recursive: true });
  const [http, https, tls, pt, status, unavailable, traffic] = [0, 1, 2, 3, 4, 5, 6].map((i) => BASE_PORT + i);
  const pidPath = join(dir, 'nginx.pid');
  const config = renderNginx(
    { ...m, spec: { ...m.spec, defaults: { ...m.spec.defaults, workerProcesses: '1', accessLog: false } } },
    { secretsDir, streamModulePath, pidPath, accessLogPath: '/dev/null', drainFlagPath: join(dir, 'draining'), httpPort: http ?? 0, httpsPort: https ?? 0, tlsInternalPort: tls ?? 0, passthroughInternalPort: pt ?? 0, statusPort: status ?? 0, unavailablePort: unavailable ?? 0, trafficLogPort: traffic ?? 0, sharedTlsServer: layout === 'shared' },
  );
  const confPath = join(dir, 'nginx.conf');
  writeFileSync(confPath, config);
  const t = nginxTest(confPath, dir, RUNS);
  if (!t.ok) throw new Error(`nginx -t failed (${n} ${layout}): ${t.stderr}`);
  const nginx = localNginx(dir, confPath, pidPath);
  nginx.start();
  try {
    for (let i = 0; i < 400 && processTree(nginx.roots()).length < 2; i++) await sleep(25);
    const rssAfterStartKiB = rssKiB(processTree(nginx.roots()));
    const host = `t${Math.floor(n / 2)}.bench.test`;
    const full = await handshakeLoop(https ?? 0, host, false, () => nginx.roots(), SECONDS);
    const resumed = await handshakeLoop(https ?? 0, host, true, () => nginx.roots(), SECONDS);
    const reloads: { wallMs: number; masterCpuMs: number }[] = [];
    for (let i = 0; i < RUNS; i++) reloads.push(await reloadOnce(dir, confPath, pidPath));
    return {
      hosts: n,
      layout,
      configBytes: Buffer.byteLength(config),
      nginxT: { wallMs: t.runsMs, cpuMs: t.cpuRunsMs ?? [] },
      reload: { wallMs: reloads.map((r) => r.wallMs), masterCpuMs: reloads.map((r) => r.masterCpuMs) },
      full,
      resumed,
      rssAfterStartKiB,
    };
  } finally {
    nginx.stop();
    await sleep(300);
  }
}

const ms = (xs: readonly number[]): string => (xs.length === 0 ? 'n/a' : `${Math.round(Math.min(...xs))} / ${Math.round(median(xs))}`);

async function main(): Promise<void> {
  const info = nginxInfo();
  if (info === undefined) throw new Error('nginx is not on PATH');
  const { spawnSync } = await import('node:child_process');
  const tmp = mkdtempSync(join(tmpdir(), 'sg-bench-tls-'));
  const started = new Date();
  const pair = generateCertPair(join(tmp, 'pair'));
  const rows: Row[] = [];
  try {
    for (const n of SIZES) {
      const m = tlsBenchModel(n);
      const secretsDir = join(tmp, 'secrets');
      populateSecrets(secretsDir, pair, m.virtualHosts.map((vh) => vh.tls?.certSecret ?? ''), m.virtualHosts.map((vh) => vh.tls?.keySecret ?? ''));
      // NGINX's workers (nobody) read the shared server's certificates, as from a task's 0444 secrets.
      spawnSync('chmod', ['-R', 'a+rX', tmp]);
      for (const layout of LAYOUTS) {
        process.stderr.write(`tls bench: ${n} hosts, ${layout}…\n`);
        rows.push(await measure(n, layout, m, tmp, secretsDir, info.streamModulePath));
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const header = '| TLS hosts | layout | config KiB | nginx -t wall ms min / median | nginx -t CPU ms | reload wall ms | reload master CPU ms | NGINX RSS MiB | full handshake: NGINX CPU ms, /s | resumed: NGINX CPU ms, /s, reused |';
  const lines = [header, '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const r of rows)
    lines.push(
      `| ${r.hosts} | ${r.layout} | ${Math.round(r.configBytes / 1024)} | ${ms(r.nginxT.wallMs)} | ${ms(r.nginxT.cpuMs)} | ${ms(r.reload.wallMs)} | ${ms(r.reload.masterCpuMs)} | ${Math.round(r.rssAfterStartKiB / 1024)} | ${r.full.nginxCpuMsPer.toFixed(2)}, ${Math.round(r.full.perSecond)} | ${r.resumed.nginxCpuMsPer.toFixed(2)}, ${Math.round(r.resumed.perSecond)}, ${Math.round(r.resumed.reusedShare * 100)} % |`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);
  const load = (await import('node:os')).loadavg();
  const out = { benchmark: 'tls', started: started.toISOString(), machine: machineInfo(info.version, opensslVersion()), loadAverageAtEnd: load, runs: RUNS, handshakeSeconds: SECONDS, rows };
  const resultsDir = join(__dirname, 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = started.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  writeFileSync(join(resultsDir, `tls-${stamp}.json`), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(join(resultsDir, 'tls-latest.json'), `${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
