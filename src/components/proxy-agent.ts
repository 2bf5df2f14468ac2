/**
 * `swarmgate proxy-agent`: runs inside a proxy task (hitless delivery) next to NGINX, with no
 * Docker socket. It starts NGINX on the boot config (the last good config the core mounted as a
 * Swarm config), then streams WatchProxyConfig from the core: each new config is written beside the
 * live one, checked with `nginx -t`, moved into place and applied with SIGHUP, and the applied hash
 * is reported back. A config that fails `nginx -t` is reported and never applied: NGINX keeps
 * serving the last good one. When the core is unreachable the agent keeps NGINX running unchanged
 * and resubscribes with backoff.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize, isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import { resubscribe, type StreamHandle } from '../api/client';
import { configFilesHash, type ConfigFileData, type Validation } from '../api/control-plane';
import type { CoreClient } from '../api/generated/swarmgate/v1/Core';
import type { ProxyConfig__Output } from '../api/generated/swarmgate/v1/ProxyConfig';
import { deadline } from '../api/proto';

export interface ProxyAgentOptions {
  readonly client: CoreClient;
  readonly cluster: string;
  /** The Swarm task ID (the core matches reports to tasks by it). */
  readonly replicaId: string;
  /** Writable directory holding the live nginx.conf. */
  readonly confDir: string;
  /** Config to start with: the mounted last-good config, else the image's placeholder. */
  readonly bootConfigs: readonly string[];
  readonly log: Logger;
  readonly nginx?: string;
  /** stub_status URL on loopback (rendered configs serve it on the status port). */
  readonly statusUrl?: string;
  readonly heartbeatMs?: number;
}

export interface AgentState {
  readonly appliedHash: string;
  readonly lastReceivedHash: string;
  readonly lastValidation?: Validation;
  readonly appliedAt: number;
}

/** Only plain relative paths inside the config directory may be written. */
export function safeRelativePath(p: string): string | undefined {
  if (p === '' || isAbsolute(p) || p.includes('\0')) return undefined;
  const n = normalize(p);
  return n.startsWith('..') || n === '.' ? undefined : n;
}

/** PIDs whose parent is `pid` (from /proc: NGINX's workers are children of its master). */
export function childPids(pid: number): Set<number> {
  const out = new Set<number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.add(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** An old worker still accepting connections: alive and not yet retitled "... is shutting down". */
function stillAccepting(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('shutting down');
  } catch {
    return false;
  }
}

/**
 * SIGHUP, then wait until the new config is what answers: the master has started a worker that did
 * not exist before, and every old worker has stopped accepting (NGINX retitles it "worker process
 * is shutting down"; it only finishes the requests it already has).
 */
export async function reloadAndConfirm(masterPid: number, timeoutMs = 10_000): Promise<boolean> {
  const before = childPids(masterPid);
  process.kill(masterPid, 'SIGHUP');
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const now = childPids(masterPid);
    const started = [...now].some((p) => !before.has(p));
    if (started && ![...before].some((p) => now.has(p) && stillAccepting(p))) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

export class ProxyAgent {
  private nginxProc: ChildProcess | undefined;
  private stream: StreamHandle | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private state: AgentState = { appliedHash: '', lastReceivedHash: '', appliedAt: 0 };
  private readonly nginx: string;
  readonly exited: Promise<number>;
  private resolveExit: (code: number) => void = () => undefined;

  constructor(private readonly o: ProxyAgentOptions) {
    this.nginx = o.nginx ?? 'nginx';
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  get current(): AgentState {
    return this.state;
  }

  private get confPath(): string {
    return join(this.o.confDir, 'nginx.conf');
  }

  /** Start NGINX on the boot config and subscribe to the core. */
  start(): void {
    mkdirSync(this.o.confDir, { recursive: true });
    if (!existsSync(this.confPath)) {
      const boot = this.o.bootConfigs.find((p) => existsSync(p));
      if (boot === undefined) throw new Error(`no boot configuration found (looked at ${this.o.bootConfigs.join(', ')})`);
      copyFileSync(boot, this.confPath);
      this.o.log.info({ boot }, 'starting NGINX on the boot configuration');
    }
    const proc = spawn(this.nginx, ['-c', this.confPath, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
    this.nginxProc = proc;
    proc.on('exit', (code, signal) => {
      this.o.log.info({ code, signal }, 'NGINX exited');
      this.stopStreams();
      this.resolveExit(code ?? (signal !== null ? 128 : 1));
    });
    this.stream = resubscribe(
      () => this.o.client.WatchProxyConfig({ cluster: this.o.cluster, replicaId: this.o.replicaId }),
      (m: ProxyConfig__Output) => this.apply(m),
      { log: this.o.log, what: 'WatchProxyConfig' },
    );
    this.heartbeat = setInterval(() => void this.report(), this.o.heartbeatMs ?? 5_000);
  }

  /** Graceful stop: NGINX finishes in-flight requests (SIGQUIT), then the agent exits. */
  stop(signal: NodeJS.Signals = 'SIGQUIT'): void {
    this.stopStreams();
    if (this.nginxProc?.exitCode === null) this.nginxProc.kill(signal);
    else this.resolveExit(0);
  }

  private stopStreams(): void {
    this.stream?.stop();
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
  }

  async apply(m: ProxyConfig__Output): Promise<void> {
    if (m.cluster !== this.o.cluster) return;
    const files: ConfigFileData[] = m.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
    const hash = configFilesHash(files);
    if (hash !== m.configHash) {
      this.o.log.error({ expected: m.configHash, got: hash }, 'received config does not match its hash; ignoring it');
      return;
    }
    if (hash === this.state.appliedHash) {
      await this.report();
      return;
    }
    const validation = await this.install(files);
    this.state = validation.ok
      ? { appliedHash: hash, lastReceivedHash: hash, lastValidation: validation, appliedAt: Date.now() }
      : { ...this.state, lastReceivedHash: hash, lastValidation: validation };
    if (validation.ok) this.o.log.info({ config: hash.slice(0, 12), sequence: m.sequence }, 'configuration applied (SIGHUP)');
    else this.o.log.warn({ config: hash.slice(0, 12), nginx: validation.output }, 'configuration failed nginx -t; keeping the running one');
    await this.report();
  }

  /** Write next to the live files, validate, move into place, reload. */
  private async install(files: readonly ConfigFileData[]): Promise<Validation> {
    const main = files.find((f) => f.path === 'nginx.conf');
    if (main === undefined) return { ok: false, output: 'the configuration has no nginx.conf' };
    const staged: [string, string][] = [];
    for (const f of files) {
      const rel = safeRelativePath(f.path);
      if (rel === undefined) return { ok: false, output: `refusing to write outside the config directory: ${JSON.stringify(f.path)}` };
      const target = join(this.o.confDir, rel);
      const next = `${target}.next`;
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(next, f.content);
      staged.push([next, target]);
    }
    // stdout inherited, not piped: Node's pipes are socketpairs, and NGINX cannot open /dev/stdout
    // (the access log) when it is a socket. Its errors come on stderr.
    const check = spawnSync(this.nginx, ['-t', '-q', '-c', `${this.confPath}.next`], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'inherit', 'pipe'] });
    if (check.status !== 0) return { ok: false, output: check.stderr.trim() || `nginx -t exited ${String(check.status)}` };
    for (const [next, target] of staged) renameSync(next, target);
    const pid = this.nginxProc?.pid;
    if (pid === undefined || this.nginxProc?.exitCode !== null) return { ok: false, output: 'NGINX is not running' };
    // Reported as applied only once new workers run it: Programmed must mean "serving".
    if (!(await reloadAndConfirm(pid))) return { ok: false, output: 'NGINX did not start workers on the new configuration within 10 s' };
    return { ok: true, output: '' };
  }

  private async counters(): Promise<{ requests: number; activeConnections: number }> {
    if (this.o.statusUrl === undefined) return { requests: 0, activeConnections: 0 };
    try {
      const res = await fetch(this.o.statusUrl, { signal: AbortSignal.timeout(1_000) });
      const text = await res.text();
      // stub_status: "Active connections: N \nserver accepts handled requests\n A H R \n..."
      const active = /Active connections:\s*(\d+)/.exec(text)?.[1];
      const totals = /\n\s*(\d+)\s+(\d+)\s+(\d+)\s*\n/.exec(text);
      return { requests: Number(totals?.[3] ?? 0), activeConnections: Number(active ?? 0) };
    } catch {
      return { requests: 0, activeConnections: 0 };
    }
  }

  async report(): Promise<void> {
    const c = await this.counters();
    const s = this.state;
    await new Promise<void>((resolve) => {
      this.o.client.ReportProxyState(
        {
          cluster: this.o.cluster,
          replicaId: this.o.replicaId,
          appliedHash: s.appliedHash,
          lastReceivedHash: s.lastReceivedHash,
          ...(s.lastValidation !== undefined ? { lastValidation: s.lastValidation } : {}),
          // 5xx are not in stub_status; the access-log counters of the canary work will fill them in.
          counters: { requests: c.requests, responses_5xx: 0, activeConnections: c.activeConnections },
          appliedAtMs: s.appliedAt,
        },
        { deadline: deadline() },
        (err) => {
          if (err !== null) this.o.log.debug({ err: err.message }, 'report to the core failed; the next heartbeat retries');
          resolve();
        },
      );
    });
  }
}
