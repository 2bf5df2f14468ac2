/**
 * What the proxy agent needs to know about the proxy it runs, one driver per kind: how to start it,
 * check a candidate config, reload it in place and confirm the reload took, stop it gracefully and
 * read its counters. The agent (proxy-agent.ts) is the same for both.
 *
 * NGINX: `nginx -c nginx.conf -g 'daemon off; error_log <agent's log> emerg;'`, `nginx -t`, SIGHUP;
 * confirmed when the master has a worker that did not exist before and no old worker still
 * accepts (NGINX retitles a draining worker "... is shutting down"); refused when the master logs
 * that it cannot load the config (nginx-master-log.ts, ADR 0037). With hitless configs the reload
 * holds the drain flag (nginx-drain.ts) so keep-alive clients see no reset.
 *
 * HAProxy (master-worker): `haproxy -W -db -S <runtimeDir>/master.sock -f haproxy.cfg`; before a
 * check the combined PEM files the config reads are built from the mounted secrets; `haproxy -c`;
 * SIGUSR2 makes the master re-read the same file and fork a new worker, which takes the listening
 * sockets over (`-x`), and the old workers soft-stop (they unbind at once and finish their
 * requests). Confirmed when the master has a worker that did not exist before and no old worker
 * still holds a listening socket (from /proc/<pid>/fd and /proc/net/{tcp,tcp6,unix}).
 * HAProxy 2.6's master installs its SIGUSR1/SIGUSR2 handlers only once its main loop runs, after
 * the worker already serves (and again after every reload, which re-executes it): a signal in
 * that window kills it (default action) or is dropped. So every signal waits until the master
 * answers on its CLI socket (`-S`, mode 0600), which it only does from that loop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { ProxyHandle } from './proxy-handle';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildPemFiles, pruneStalePemFiles } from '../validate/haproxy-pems';
import { runProxyCheck } from '../validate/proxy-check';
import { checkHaproxyFds, ownNofileHardLimit } from './haproxy-fd-need';
import { masterReady, refusalWatch } from './haproxy-master-cli';
import { checkSharedTlsPairs } from '../validate/tls-pairs';
import { PASSED, type Validation } from '../validate/result';
import type { ProxyKind } from '../plan/proxy-capabilities';
import { drainedReload, type DrainOptions } from './nginx-drain';
import { masterLogDirective, NginxMasterLog } from './nginx-master-log';
import type { ReloadTiming } from './reload-timing';
import { DEFAULT_HAPROXY_OPTIONS } from '../render/haproxy/options';
import { http01MapPath } from '../render/haproxy/crt-list';
import type { AcmeChallengeData } from '../api/control-plane';
import { ACME_DIR_IN_TASKS } from '../plan/acme-routes';
import { acmeRoutesNamedIn, acmeRoutesOfHaproxyConfig } from './acme-restore';
import { pushHttp01Map, writeHttp01Map } from './haproxy-http01';
import { nginxAllocatorEnv } from './nginx-allocator';

/** A check's outcome: the one Validation type of src/validate. */
export type CheckResult = Validation;
export { buildPemFiles, pruneStalePemFiles };

/** How a reload ended. */
export interface ReloadOutcome {
  /** New workers serve the new config. */
  readonly confirmed: boolean;
  /** The proxy said it cannot load the config and kept the old one (its message, as its check gives it). */
  readonly refused?: string;
  /** Confirmed: from the signal to the confirmation (reload-estimate.ts). */
  readonly ms?: number;
}

export interface Counters {
  readonly requests: number;
  readonly responses5xx: number;
  readonly activeConnections: number;
}

export interface ProxyDriver {
  readonly kind: ProxyKind;
  /** For log lines and messages: "NGINX", "HAProxy". */
  readonly label: string;
  /** The config file the proxy runs, in the agent's config directory. */
  readonly mainFile: string;
  /** The command that checks a config: "nginx -t", "haproxy -c". */
  readonly checkName: string;
  readonly reloadSignal: NodeJS.Signals;
  /** Make the files a config needs besides itself (HAProxy: the combined PEMs); a failure is reported like a failed check. */
  prepare(config: string): CheckResult;
  start(confPath: string): ChildProcess;
  check(candidatePath: string): CheckResult;
  /** What the proxy's own parse cannot see (NGINX: the shared TLS server's pairs, ADR 0028); run when check() is not. */
  checkBeyondParse(candidatePath: string): CheckResult;
  /** Whether a reload of this master reports a config it refuses (NGINX started with the agent's log, ADR 0037). */
  refusalVisible(masterPid: number): boolean;
  /** `timing.flagAfterSignalMs` applies to NGINX's drain flag only. */
  reloadAndConfirm(masterPid: number, timing?: ReloadTiming): Promise<ReloadOutcome>;
  /** Stop the running proxy: SIGQUIT gracefully (finishing requests), SIGTERM at once. */
  stop(proxy: ProxyHandle, requested: NodeJS.Signals): void;
  /** Counters from the loopback status page's body. */
  parseCounters(body: string): Counters;
  /** The routes whose ACME certificate files `config` names (made from the durable copies at a boot without the core, acme-restore.ts). */
  acmeRoutesIn(config: string): string[];
  /** After a config is live: drop what no live config needs any more (HAProxy: stale PEMs). */
  afterApply(config: string): void;
  /**
   * Serve these ACME HTTP-01 tokens without a reload. HAProxy: the map file is rewritten at once
   * (what a starting or reloading worker loads), then the running worker's copy is replaced through
   * the master CLI (haproxy-http01.ts). Absent (NGINX): the agent writes token files (acme-files.ts).
   */
  syncHttp01?(challenges: readonly AcmeChallengeData[]): Promise<{ ok: boolean; output: string }>;
  /**
   * After the master died unexpectedly: make its orphaned workers (its process group; start()
   * makes the master a group leader) let go of the listening sockets, so a new master can bind.
   */
  releaseOrphans(pgid: number): Promise<void>;
}

interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
}

/** Every process's /proc/<pid>/stat fields this file needs; a process that ends while we look is skipped. */
function procStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), state: f[0] ?? '', ppid: Number(f[1]), pgrp: Number(f[2]) });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** PIDs in process group `pgid`, zombies left out. */
export function processGroupMembers(pgid: number): Set<number> {
  return new Set(procStats().filter((p) => p.pgrp === pgid && p.state !== 'Z').map((p) => p.pid));
}

/**
 * The workers of a master that was killed keep running (NGINX's keep serving the old config and
 * hold the listening sockets, so a new master cannot bind). Ask them to stop gracefully with
 * `signal` (they close their listeners at once and finish their requests), wait until none holds a
 * listening socket, and SIGKILL the group after `timeoutMs`. Measured: the listeners are gone
 * within a few ms.
 */
export async function releaseOrphanedWorkers(pgid: number, signal: NodeJS.Signals, timeoutMs = 2_000): Promise<void> {
  const kill = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pgid, sig);
    } catch {
      // no process left in the group
    }
  };
  kill(signal);
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const listening = listeningSocketInodes();
    if (![...processGroupMembers(pgid)].some((pid) => holdsListener(pid, listening))) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  kill('SIGKILL');
}

/** PIDs whose parent is `pid` (from /proc: the proxy's workers are children of its master). */
export function childPids(pid: number): Set<number> {
  return new Set(procStats().filter((p) => p.ppid === pid).map((p) => p.pid));
}

/** An old NGINX worker still accepting connections: alive and not yet retitled "... is shutting down". */
function nginxStillAccepting(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down');
  } catch {
    return false;
  }
}

/** Inodes of the listening sockets in this network namespace: TCP (state 0A) and UNIX (__SO_ACCEPTCON). */
export function listeningSocketInodes(): Set<string> {
  const out = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] === '0A' && f[9] !== undefined) out.add(f[9]);
      }
    } catch {
      // no IPv6 in this namespace
    }
  }
  try {
    for (const line of readFileSync('/proc/net/unix', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '00010000' && f[6] !== undefined) out.add(f[6]);
    }
  } catch {
    // no /proc/net/unix
  }
  return out;
}

/** Whether `pid` holds one of the `listening` sockets (an HAProxy worker that has not soft-stopped yet). */
export function holdsListener(pid: number, listening: ReadonlySet<string>): boolean {
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m?.[1] !== undefined && listening.has(m[1])) return true;
    } catch {
      // closed while we looked
    }
  }
  return false;
}

/**
 * Send `signal` to the master, then wait until the new config is what answers: the master has
 * started a worker that did not exist before, and no old worker still accepts connections.
 * Resolves with the workers that ran before the signal, or undefined when not confirmed in time.
 */
async function signalAndConfirmWorkers(
  masterPid: number,
  signal: NodeJS.Signals,
  oldStillAccepting: (pid: number) => boolean,
  timeoutMs: number,
  /** Polled while waiting: true once the proxy has refused the config (no new worker will come). */
  refused: () => boolean = () => false,
): Promise<ReadonlySet<number> | undefined> {
  const before = childPids(masterPid);
  try {
    process.kill(masterPid, signal);
  } catch {
    return undefined; // the master died (the agent restarts it)
  }
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!existsSync(`/proc/${masterPid}`)) return undefined;
    const now = childPids(masterPid);
    const started = [...now].some((p) => !before.has(p));
    if (started && ![...before].some((p) => now.has(p) && oldStillAccepting(p))) return before;
    if (!started && refused()) return undefined;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

async function signalAndConfirm(masterPid: number, signal: NodeJS.Signals, oldStillAccepting: (pid: number) => boolean, timeoutMs: number): Promise<boolean> {
  return (await signalAndConfirmWorkers(masterPid, signal, oldStillAccepting, timeoutMs)) !== undefined;
}

/** NGINX: SIGHUP and confirm (see signalAndConfirm). */
export function reloadAndConfirm(masterPid: number, timeoutMs = 10_000): Promise<boolean> {
  return signalAndConfirm(masterPid, 'SIGHUP', nginxStillAccepting, timeoutMs);
}

/** NGINX with the drain flag held around the reload (nginx-drain.ts). */
export function drainedReloadAndConfirm(masterPid: number, drain: DrainOptions, timeoutMs = 10_000, flagAfterSignalMs = 0): Promise<boolean> {
  return drainedReload(drain, () => signalAndConfirmWorkers(masterPid, 'SIGHUP', nginxStillAccepting, timeoutMs), (pid) => existsSync(`/proc/${pid}`), flagAfterSignalMs);
}

/**
 * NGINX's reload as the agent runs it: SIGHUP (with the drain flag when configured), confirmed by
 * new workers, or refused when the master logs why it cannot load the config (`log`, when it
 * writes there) and starts none.
 */
async function nginxReload(masterPid: number, o: { readonly drain?: DrainOptions; readonly log?: NginxMasterLog }, timing?: ReloadTiming): Promise<ReloadOutcome> {
  const log = o.log !== undefined && o.log.observes(masterPid) ? o.log : undefined;
  log?.empty();
  const watch = log?.refusalWatch(masterPid);
  let refusal: string | undefined;
  let ms: number | undefined;
  const reload = async (): Promise<ReadonlySet<number> | undefined> => {
    const t0 = Date.now();
    const old = await signalAndConfirmWorkers(masterPid, 'SIGHUP', nginxStillAccepting, timing?.confirmMs ?? 10_000, () => (refusal = watch?.()) !== undefined);
    if (old !== undefined) ms = Date.now() - t0;
    return old;
  };
  const confirmed = o.drain !== undefined ? await drainedReload(o.drain, reload, (pid) => existsSync(`/proc/${pid}`), timing?.flagAfterSignalMs) : (await reload()) !== undefined;
  return { confirmed, ...(refusal !== undefined && !confirmed ? { refused: refusal } : {}), ...(ms !== undefined ? { ms } : {}) };
}

/**
 * HAProxy master-worker: once the master is ready, SIGUSR2 and confirm (an old worker that still
 * holds a listening socket still accepts), or refused as soon as the master counts the reload as
 * failed (haproxy-master-cli.ts).
 */
export async function reloadHaproxyAndConfirm(masterPid: number, masterSocket: string, timeoutMs = 10_000): Promise<ReloadOutcome> {
  const start = Date.now();
  // Ready: the master's count before the signal, which the refusal watch compares with.
  const before = await masterReady(masterSocket, timeoutMs);
  if (before === undefined) return { confirmed: false };
  const watch = refusalWatch(masterSocket, before);
  try {
    const old = await signalAndConfirmWorkers(masterPid, 'SIGUSR2', (pid) => holdsListener(pid, listeningSocketInodes()), Math.max(0, timeoutMs - (Date.now() - start)), () => watch.refused());
    if (old !== undefined) return { confirmed: true, ms: Date.now() - start };
    return watch.refused() ? { confirmed: false, refused: HAPROXY_REFUSED } : { confirmed: false };
  } finally {
    watch.stop();
  }
}

/** Its master logs the reason on the task's output, which the agent does not read (see haproxy-master-cli.ts). */
const HAPROXY_REFUSED = 'HAProxy could not load this configuration at its reload and kept serving the previous one; its reason is in the proxy task\'s log (docker service logs), on the lines before "Loading failure!"';

export interface NginxDriverOptions {
  readonly bin?: string;
  /** Hold this flag around reloads (the rendered config's drainFlagPath); absent: plain SIGHUP. */
  readonly drain?: DrainOptions;
  /** The agent's own emerg log (nginx-master-log.ts); absent: a refused reload is not told from a slow one. */
  readonly masterLog?: string;
}

export function nginxDriver(o: NginxDriverOptions = {}): ProxyDriver {
  const bin = o.bin ?? 'nginx';
  const log = o.masterLog !== undefined ? new NginxMasterLog(o.masterLog) : undefined;
  // nginx -t cannot see the pairs the shared TLS server loads per handshake (ADR 0028), nor can a reload.
  const pairs = (candidate: string): CheckResult => checkSharedTlsPairs(readFileSync(candidate, 'utf8'));
  return {
    kind: 'nginx',
    label: 'NGINX',
    mainFile: 'nginx.conf',
    checkName: 'nginx -t',
    reloadSignal: 'SIGHUP',
    prepare: () => PASSED,
    // detached: the master leads its own process group, so its workers can be found if it dies.
    // jemalloc (ADR 0040): memory after a reload as before it.
    start: (confPath) => {
      log?.create();
      const global = `daemon off;${log !== undefined ? ` ${masterLogDirective(log.path)}` : ''}`;
      return spawn(bin, ['-c', confPath, '-g', global], { stdio: ['ignore', 'inherit', 'inherit'], detached: true, env: { ...process.env, ...nginxAllocatorEnv() } });
    },
    check: (candidate) => {
      const checked = runProxyCheck('nginx', { bin, configPath: candidate, timeoutMs: 60_000 });
      if (!checked.ok) return checked;
      const paired = pairs(candidate);
      return paired.ok ? checked : paired;
    },
    checkBeyondParse: pairs,
    refusalVisible: (masterPid) => log?.observes(masterPid) === true,
    reloadAndConfirm: (masterPid, timing) => nginxReload(masterPid, { ...(o.drain !== undefined ? { drain: o.drain } : {}), ...(log !== undefined ? { log } : {}) }, timing),
    stop: (proxy, requested) => proxy.kill(requested),
    parseCounters(text) {
      // stub_status: "Active connections: N \nserver accepts handled requests\n A H R \n..."; no status codes.
      const active = /Active connections:\s*(\d+)/.exec(text)?.[1];
      const totals = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
      return { requests: Number(totals?.[3] ?? 0), responses5xx: 0, activeConnections: Number(active ?? 0) };
    },
    afterApply: () => undefined,
    // The rendered config names the task's ACME directory, whatever directory a test's agent writes to.
    acmeRoutesIn: (config) => acmeRoutesNamedIn(config, ACME_DIR_IN_TASKS),
    releaseOrphans: (pgid) => releaseOrphanedWorkers(pgid, 'SIGQUIT'),
  };
}

export interface HaproxyDriverOptions {
  readonly bin?: string;
  /** Where the rendered config reads its combined PEMs (HaproxyRenderOptions.certDir). */
  readonly certDir?: string;
  /** Where the rendered config puts its UNIX sockets (HaproxyRenderOptions.runtimeDir); created at start. */
  readonly runtimeDir?: string;
  /** Where the task's Docker secrets are mounted. */
  readonly secretsDir?: string;
  /** The agent's ACME directory (certificates and keys the core delivers; combined into PEMs like secrets). */
  readonly acmeDir?: string;
  /** `-q`: no messages from HAProxy itself (its master logs on stderr), alerts included; for tests. */
  readonly quiet?: boolean;
  /** How long a signal waits for the master to be ready (see above). */
  readonly readyTimeoutMs?: number;
  /** The hard file-descriptor limit HAProxy will run under (default: the agent's own, which it inherits); for tests. */
  readonly nofileLimit?: () => number | undefined;
}

/** Totals over the public frontends (all but sg_status) of HAProxy's stats CSV; they restart at 0 with each new worker. */
export function parseHaproxyStats(csv: string): Counters {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').replace(/^#\s*/, '').split(',');
  const col = (name: string): number => header.indexOf(name);
  const [px, sv, scur, reqTot, h5xx] = [col('pxname'), col('svname'), col('scur'), col('req_tot'), col('hrsp_5xx')];
  const totals = { requests: 0, responses5xx: 0, activeConnections: 0 };
  if (px < 0 || sv < 0) return totals;
  const num = (fields: string[], i: number): number => (i < 0 ? 0 : Number(fields[i] ?? 0) || 0);
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[sv] !== 'FRONTEND' || f[px] === 'sg_status') continue;
    totals.requests += num(f, reqTot);
    totals.responses5xx += num(f, h5xx);
    totals.activeConnections += num(f, scur);
  }
  return totals;
}

export function haproxyDriver(o: HaproxyDriverOptions = {}): ProxyDriver {
  const bin = o.bin ?? 'haproxy';
  const certDir = (o.certDir ?? DEFAULT_HAPROXY_OPTIONS.certDir).replace(/\/+$/, '');
  const runtimeDir = o.runtimeDir ?? DEFAULT_HAPROXY_OPTIONS.runtimeDir;
  const secretsDir = o.secretsDir ?? '/run/secrets';
  const masterSocket = join(runtimeDir, 'master.sock');
  const readyTimeout = o.readyTimeoutMs ?? 10_000;
  return {
    kind: 'haproxy',
    label: 'HAProxy',
    mainFile: 'haproxy.cfg',
    checkName: 'haproxy -c',
    reloadSignal: 'SIGUSR2',
    prepare: (config) => buildPemFiles(config, certDir, secretsDir, '', o.acmeDir ?? ACME_DIR_IN_TASKS),
    async syncHttp01(challenges) {
      const map = http01MapPath(runtimeDir);
      writeHttp01Map(map, challenges);
      if (!existsSync(masterSocket)) return { ok: true, output: 'HAProxy not running: the map file is what it loads' };
      return pushHttp01Map(masterSocket, map, challenges);
    },
    start(confPath) {
      mkdirSync(runtimeDir, { recursive: true });
      // -W: master-worker (SIGUSR2 reloads, the master's PID never changes); -db: foreground, logs on stdout.
      // -S: the master's CLI, only to know when it can take signals (see above).
      return spawn(bin, ['-W', '-db', ...(o.quiet === true ? ['-q'] : []), '-S', `${masterSocket},mode,600`, '-f', confPath], { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
    },
    check: (candidate) => {
      const checked = runProxyCheck('haproxy', { bin, configPath: candidate, timeoutMs: 60_000 });
      if (!checked.ok) return checked;
      // What `haproxy -c` does not see and a reload refuses: more file descriptors than the task may open.
      const fds = checkHaproxyFds(readFileSync(candidate, 'utf8'), (o.nofileLimit ?? ownNofileHardLimit)());
      return fds.ok ? checked : fds;
    },
    checkBeyondParse: () => PASSED,
    // Its master reports a config it cannot load nowhere the agent reads, and its reload semantics
    // differ (ADR 0037): every HAProxy config is checked before its reload, as before.
    refusalVisible: () => false,
    reloadAndConfirm: (masterPid, timing) => reloadHaproxyAndConfirm(masterPid, masterSocket, timing?.confirmMs),
    stop(proxy, requested) {
      // SIGTERM's default action is what it asks for: no need to wait for the handlers.
      if (requested !== 'SIGQUIT') return proxy.kill(requested);
      // SIGUSR1 is HAProxy's soft stop (finish requests); SIGQUIT would only dump memory pools.
      void masterReady(masterSocket, readyTimeout).then(() => {
        if (proxy.running()) proxy.kill('SIGUSR1');
      });
    },
    parseCounters: parseHaproxyStats,
    afterApply: (config) => pruneStalePemFiles(config, certDir),
    acmeRoutesIn: (config) => acmeRoutesOfHaproxyConfig(config, certDir),
    // Workers leave when their master dies; SIGUSR1 (soft stop) for any that has not noticed yet.
    releaseOrphans: (pgid) => releaseOrphanedWorkers(pgid, 'SIGUSR1'),
  };
}
