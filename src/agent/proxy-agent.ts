/**
 * `swarmgate proxy-agent`: runs inside a proxy task (hitless delivery) next to the proxy, NGINX or
 * HAProxy (the kind is fixed per task: `kind`, from SWARMGATE_PROXY_KIND), with no Docker socket.
 * It starts the proxy on the boot config (the last good config the core mounted as a Swarm
 * config), then streams WatchProxyConfig from the core: each new config is written beside the live
 * one, checked (`haproxy -c`, HAProxy's combined PEMs built first; NGINX: `nginx -t` only when its
 * reload cannot be the check, reload-gate.ts, ADR 0037), moved into place and applied in place
 * (NGINX: SIGHUP; HAProxy: SIGUSR2 to the master), and the applied hash is reported back once new
 * workers serve it. A config that fails its check, or that NGINX refuses at reload, is reported and
 * its files are put back: the proxy keeps serving the last good one. When the core is unreachable the agent keeps
 * the proxy running unchanged and reconnects (client.ts: a fresh resolution of the core's name and
 * a bounded connect on every attempt, 250 ms doubling to 1 s apart). Without a client (standalone, for
 * rolling delivery) it only starts the proxy on the mounted config, PEMs included.
 * Self-healing: when the proxy's master exits while the agent is not stopping it, the agent stops
 * its orphaned workers (they would hold the ports) and starts it again at once on the live config
 * (the last one that passed its check); a proxy that keeps dying is restarted 100 ms doubling to
 * 2 s apart, back to "at once" after it stayed up 10 s. The agent only exits when asked to.
 * The per-kind process details live in proxy-process.ts.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { resubscribe, type CoreConnection, type StreamHandle } from '../api/client';
import { ReceivedFiles } from '../api/unchanged-files';
import type { HandedPair } from './agent-identity';
import { safeRelativePath } from '../validate/validate-files';
import { deliveryHash, type ConfigFileData, type Validation } from '../api/control-plane';
import { ACME_DIR_IN_TASKS } from '../plan/acme-routes';
import { syncChallenges, writeCertificates, sameCertificates } from './acme-files';
import type { ProxyConfig__Output } from '../api/generated/swarmgate/v1/ProxyConfig';
import type { ProxyKind } from '../plan/proxy-capabilities';
import { chooseBootConfig } from './agent-boot';
import { restoreAcmeFiles } from './acme-restore';
import { sendReport } from './agent-report';
import { bootConfigHash, saveLastApplied } from './last-applied';
import { masterLogPath } from './nginx-master-log';
import { ReloadGate } from './reload-gate';
import { StagedFiles } from './staged-files';
import { installBootEndpoints, readBootConfig } from './boot-config-file';
import { ENDPOINTS_FILE } from '../render/render-cluster';
import { NginxEndpoints, type PushResult } from './nginx-endpoints';
import { HaproxyEndpoints } from './haproxy-endpoints';
import { DEFAULT_HAPROXY_OPTIONS } from '../render/haproxy/options';
import { TrafficListener } from './traffic-listener';
import { DEFAULT_PACER, ReloadPacer, type PacerOptions } from './reload-pacer';
import { DEFAULT_DRAIN_TIMING } from './nginx-drain';
import { describeLimit } from './reload-timing';
import { DEFAULT_RESTART_BACKOFF, nextRestartDelay, type RestartBackoff } from './restart-backoff';
import { adoptedHandle, clearMasterRecord, procIdentity, runningMaster, spawnedHandle, writeMasterRecord, type ProxyHandle } from './proxy-handle';
import { childPids, haproxyDriver, nginxDriver, type Counters, type HaproxyDriverOptions, type ProxyDriver, type ReloadOutcome } from './proxy-process';

export { childPids, reloadAndConfirm, reloadHaproxyAndConfirm } from './proxy-process';
export { DEFAULT_RESTART_BACKOFF, nextRestartDelay, type RestartBackoff };

export interface ProxyAgentOptions {
  /** The core; absent: standalone (start the proxy on the boot config, no stream, no reports). */
  readonly core?: CoreConnection;
  readonly cluster: string;
  /** The Swarm task ID (the core matches reports to tasks by it). */
  readonly replicaId: string;
  /** Which proxy this task runs; a delivered config of another kind is refused. Default nginx. */
  readonly kind?: ProxyKind;
  /** Writable directory holding the live nginx.conf / haproxy.cfg. */
  readonly confDir: string;
  /** Dynamic endpoints: NGINX's loopback control port (default DEFAULT_DYNAMIC_ENDPOINTS.controlPort, what the core renders). */
  readonly endpointsPort?: number;
  /** Config to start with: the mounted last-good config, else the image's placeholder. */
  readonly bootConfigs: readonly string[];
  readonly log: Logger;
  readonly nginx?: string;
  /** HAProxy binary and directories (defaults: the renderer's, and /run/secrets). */
  readonly haproxy?: HaproxyDriverOptions;
  /** Loopback status URL (NGINX stub_status, HAProxy stats CSV; rendered configs serve it on the status port). */
  readonly statusUrl?: string;
  readonly heartbeatMs?: number;
  /**
   * Loopback UDP port of the traffic listener (the NGINX config's `sg_traffic` log); absent: no
   * per-upstream counters. Only started when a core receives them.
   */
  readonly trafficPort?: number;
  /** Pacing of reloads under bursts of changes (reload-pacer.ts); default DEFAULT_PACER. */
  readonly pacer?: PacerOptions;
  /**
   * NGINX: the rendered config's drain flag, held around every reload so keep-alive clients are
   * not reset (nginx-drain.ts); absent: plain SIGHUP (configs without the flag test).
   */
  readonly drainFlagPath?: string;
  /** The node's volume of last applied configs (last-applied.ts); absent: none kept. */
  readonly lastAppliedDir?: string;
  /** Restart pacing of a proxy that keeps dying; default DEFAULT_RESTART_BACKOFF. */
  readonly restartBackoff?: RestartBackoff;
  /** Where ACME certificates and HTTP-01 tokens are written (acme-files.ts); default ACME_DIR_IN_TASKS. */
  readonly acmeDir?: string;
  /** Where the durable copies of ACME certificates are mounted (acme-restore.ts); default ACME_COPY_DIR_IN_TASKS. */
  readonly acmeCopiesDir?: string;
  /** The credentials `core` dials with, which take an identity the core hands over the stream (agent-identity.ts, ADR 0019). */
  readonly credentials?: { adopt(p: HandedPair): boolean };
}

export interface AgentState {
  readonly appliedHash: string;
  readonly lastReceivedHash: string;
  readonly lastValidation?: Validation;
  readonly appliedAt: number;
}

/** Only plain relative paths inside the config directory may be written (the validator's rule too). */
export { safeRelativePath };

/** Per stream: messages with the files the core referred to as unchanged put back (ADR 0042). */
function resolvingFiles(): (m: ProxyConfig__Output) => ProxyConfig__Output {
  const received = new ReceivedFiles();
  return (m) => ({ ...m, files: received.resolve(m.files) });
}

export class ProxyAgent {
  private proxyProc: ProxyHandle | undefined;
  private stream: StreamHandle | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private traffic: TrafficListener | undefined;
  private readonly pacer: ReloadPacer<ProxyConfig__Output>;
  private state: AgentState = { appliedHash: '', lastReceivedHash: '', appliedAt: 0 };
  /** The HAProxy HTTP-01 map pushes, one after the other (challenges()). */
  private http01: Promise<void> = Promise.resolve();
  private readonly driver: ProxyDriver;
  readonly exited: Promise<number>;
  private resolveExit: (code: number) => void = () => undefined;
  /** Set by stop(): an exit of the proxy from then on ends the agent instead of restarting it. */
  private stopping = false;
  private restartCount = 0;
  private restartDelayMs: number | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  /** Which boot config the task has mounted (last-applied.ts). */
  private readonly bootHash: string;
  /** HAProxy: the dynamic endpoints' slot table and state file (haproxy-endpoints.ts, ADR 0031). */
  private readonly slots: HaproxyEndpoints | undefined;
  /** NGINX: the set last pushed to the Lua balancer, so a task change sends only what changed (ADR 0038). */
  private readonly balancer: NginxEndpoints;
  private readonly gate: ReloadGate;

  constructor(private readonly o: ProxyAgentOptions) {
    const masterLog = masterLogPath(o.confDir);
    this.driver =
      o.kind === 'haproxy'
        ? haproxyDriver({ ...o.haproxy, ...(o.acmeDir !== undefined ? { acmeDir: o.acmeDir } : {}) })
        : nginxDriver({ ...(o.nginx !== undefined ? { bin: o.nginx } : {}), ...(o.drainFlagPath !== undefined ? { drain: { ...DEFAULT_DRAIN_TIMING, flagPath: o.drainFlagPath } } : {}), ...(masterLog !== undefined ? { masterLog } : {}) });
    this.gate = new ReloadGate(this.driver, this.confPath);
    this.slots = o.kind === 'haproxy' ? new HaproxyEndpoints(o.haproxy?.runtimeDir ?? DEFAULT_HAPROXY_OPTIONS.runtimeDir) : undefined;
    this.balancer = new NginxEndpoints(o.endpointsPort);
    this.exited = new Promise((r) => (this.resolveExit = r));
    this.bootHash = bootConfigHash(o.bootConfigs);
    this.pacer = new ReloadPacer((m) => this.apply(m), o.pacer ?? DEFAULT_PACER);
  }

  get current(): AgentState {
    return this.state;
  }

  /** How many times the agent restarted a proxy that died. */
  get restarts(): number {
    return this.restartCount;
  }

  get kind(): ProxyKind {
    return this.driver.kind;
  }

  /** PID of the proxy's master process while it runs (NGINX master, HAProxy master). */
  get proxyPid(): number | undefined {
    const p = this.proxyProc;
    return p !== undefined && p.running() ? p.pid : undefined;
  }

  /** Whether the running proxy was adopted from an agent that died (not started by this one). */
  get adopted(): boolean {
    return this.proxyProc !== undefined && !this.proxyProc.spawned;
  }

  private get confPath(): string {
    return join(this.o.confDir, this.driver.mainFile);
  }

  /**
   * Before start(): take over the proxy an agent that died left running (proxy-handle.ts, ADR
   * 0018): its master still serves the live config, so the new agent neither boots nor starts
   * another; start() then only subscribes. False when there is none (start() starts the proxy).
   */
  adoptRunningProxy(): boolean {
    const r = runningMaster(this.o.confDir, this.driver.kind);
    if (r === undefined) return false;
    this.state = { appliedHash: r.appliedHash, lastReceivedHash: r.appliedHash, appliedAt: r.appliedAt };
    // A flag left by the agent that died mid-reload would keep every answer on Connection: close.
    if (this.o.drainFlagPath !== undefined) rmSync(this.o.drainFlagPath, { force: true });
    this.watchProxy(adoptedHandle(r.pid, r.startTime), Date.now());
    this.o.log.warn({ pid: r.pid, config: r.appliedHash.slice(0, 12) }, `took over the running ${this.driver.label} left by the previous agent`);
    return true;
  }

  /**
   * Before start(): take the cluster's current config from the core as the one the proxy starts
   * on, when the core sends it within `waitMs` and it passes the check (agent-boot.ts); otherwise
   * start() boots on the mounted config. Resolves with what the proxy will start on.
   */
  async bootFromCore(waitMs: number): Promise<'core' | 'node' | 'mounted' | 'adopted'> {
    const core = this.o.core;
    if (this.proxyProc !== undefined) return 'adopted';
    if (core === undefined) return 'mounted';
    const b = await chooseBootConfig({
      core,
      cluster: this.o.cluster,
      replicaId: this.o.replicaId,
      waitMs,
      log: this.o.log,
      driver: this.driver,
      confDir: this.o.confDir,
      safePath: safeRelativePath,
      bootHash: this.bootHash,
      acmeDir: this.acmeDir,
      restoreAcme: (config) => this.restoreAcme(config),
      ...(this.o.lastAppliedDir !== undefined ? { lastAppliedDir: this.o.lastAppliedDir } : {}),
    });
    if (b.source !== 'mounted') this.state = { appliedHash: b.hash, lastReceivedHash: b.hash, appliedAt: b.appliedAt };
    if (b.source === 'core') this.saveLastApplied(b.files);
    else if (b.source === 'mounted') {
      const boot = this.o.bootConfigs.find((p) => existsSync(p));
      const config = existsSync(this.confPath) ? readFileSync(this.confPath, 'utf8') : boot !== undefined ? readBootConfig(boot) : '';
      await this.restoreAcme(config);
    }
    return b.source;
  }

  /**
   * Booting without the core's config: the ACME certificate files the config names come from their
   * durable copies (or a placeholder), so the proxy can start (acme-restore.ts, ADR 0024; HAProxy:
   * the files its combined ACME PEMs are built from, ADR 0033).
   */
  private async restoreAcme(config: string): Promise<void> {
    try {
      await restoreAcmeFiles(this.driver.acmeRoutesIn(config), { acmeDir: this.acmeDir, ...(this.o.acmeCopiesDir !== undefined ? { copiesDir: this.o.acmeCopiesDir } : {}), log: this.o.log });
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not restore the ACME certificate files');
    }
  }

  /** Keep the live config on the node for a task that starts while the core is away (last-applied.ts). */
  private saveLastApplied(files: readonly ConfigFileData[]): void {
    const dir = this.o.lastAppliedDir;
    if (dir === undefined) return;
    try {
      saveLastApplied(dir, this.driver.kind, this.bootHash, { hash: this.state.appliedHash, appliedAt: this.state.appliedAt, files });
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, "could not keep the configuration on the node's volume");
    }
  }

  /** Start the proxy on the boot config and subscribe to the core. */
  start(): void {
    if (this.proxyProc === undefined) this.startOnLiveConfig();
    const core = this.o.core;
    if (core === undefined) return;
    if (this.o.trafficPort !== undefined) {
      this.traffic = new TrafficListener(this.o.trafficPort, this.o.log);
      void this.traffic.start();
    }
    this.stream = resubscribe(
      () => core.client.WatchProxyConfig({ cluster: this.o.cluster, replicaId: this.o.replicaId, resolvesUnchangedFiles: true }),
      (m: ProxyConfig__Output) => {
        // A new identity (after rotate-certs): reconnect with it; the proxy is not touched (ADR 0019).
        if (m.identity !== null && this.o.credentials?.adopt(m.identity) === true) core.renew();
        // Tokens are served as files: written now, whatever the pacer does with the config.
        this.challenges(m);
        this.pacer.offer(m, m.immediate);
      },
      { log: this.o.log, what: 'WatchProxyConfig', connection: core, onConnect: () => this.o.log.info('connected to the core'), perStream: resolvingFiles },
    );
    this.heartbeat = setInterval(() => void this.report(), this.o.heartbeatMs ?? 5_000);
  }

  /** The live config (the boot config when there is none yet), then the proxy on it. */
  private startOnLiveConfig(): void {
    const label = this.driver.label;
    mkdirSync(this.o.confDir, { recursive: true });
    if (!existsSync(this.confPath)) {
      const boot = this.o.bootConfigs.find((p) => existsSync(p));
      if (boot === undefined) throw new Error(`no boot configuration found (looked at ${this.o.bootConfigs.join(', ')})`);
      // Decompressed and reassembled when the config was too large for one Swarm config (ADR 0029).
      writeFileSync(this.confPath, readBootConfig(boot));
      const endpoints = installBootEndpoints(boot, this.o.confDir, this.o.log);
      this.o.log.info({ boot, ...(endpoints !== undefined ? { endpoints } : {}) }, `starting ${label} on the boot configuration`);
    }
    // A flag left by an agent that died mid-reload would keep every answer on Connection: close.
    if (this.o.drainFlagPath !== undefined) rmSync(this.o.drainFlagPath, { force: true });
    const prepared = this.driver.prepare(readFileSync(this.confPath, 'utf8'));
    if (!prepared.ok) throw new Error(`cannot start ${label} on ${this.confPath}: ${prepared.output}`);
    this.startProxy();
  }

  /** Start the proxy on the live config and watch it: an unexpected exit restarts it. */
  private startProxy(): void {
    // HAProxy with dynamic endpoints: the state file the new process loads holds the current set.
    if (this.slots !== undefined) {
      const endpoints = join(this.o.confDir, ENDPOINTS_FILE);
      const staged = this.slots.stage(existsSync(endpoints) ? readFileSync(endpoints) : undefined);
      if (!staged.ok) this.o.log.warn({ err: staged.output }, 'could not seed the HAProxy server-state file; its slots start empty');
    }
    this.watchProxy(spawnedHandle(this.driver.start(this.confPath)), Date.now());
    this.recordMaster();
  }

  /** Leave what a new agent needs to take the proxy over if this one dies (proxy-handle.ts). */
  private recordMaster(): void {
    const pid = this.proxyPid;
    const id = pid === undefined ? undefined : procIdentity(pid);
    if (pid === undefined || id === undefined) return;
    try {
      writeMasterRecord(this.o.confDir, { kind: this.driver.kind, pid, startTime: id.startTime, appliedHash: this.state.appliedHash, appliedAt: this.state.appliedAt });
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not record the running proxy; a restarted agent would start another');
    }
  }

  /** Watch a running master: an unexpected end restarts it. */
  private watchProxy(proc: ProxyHandle, startedAt: number): void {
    const label = this.driver.label;
    this.proxyProc = proc;
    proc.onEnd((code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (this.stopping) {
        clearMasterRecord(this.o.confDir);
        this.o.log.info({ code, signal }, `${label} exited`);
        this.stopStreams();
        // An adopted master's status is unknown (not our child): it ended after we asked it to stop.
        this.resolveExit(proc.spawned ? (code ?? (signal !== null ? 128 : 1)) : 0);
        return;
      }
      this.restartDelayMs = nextRestartDelay(this.restartDelayMs, Date.now() - startedAt, this.o.restartBackoff);
      this.o.log.error({ code, signal, err: error?.message, restartInMs: this.restartDelayMs, restarts: this.restartCount }, `${label} exited unexpectedly; restarting it on the last good configuration`);
      this.restartTimer = setTimeout(() => void this.restart(proc.pid), this.restartDelayMs);
    });
  }

  private async restart(deadPid: number | undefined): Promise<void> {
    this.restartTimer = undefined;
    if (this.stopping) return this.resolveExit(0);
    const label = this.driver.label;
    const t0 = Date.now();
    try {
      // Its workers may still hold the listening sockets (NGINX's keep serving): let them go first.
      if (deadPid !== undefined) await this.driver.releaseOrphans(deadPid);
      if (this.stopping) return this.resolveExit(0);
      // A flag left by a reload the master died in would keep every answer on Connection: close.
      if (this.o.drainFlagPath !== undefined) rmSync(this.o.drainFlagPath, { force: true });
      const prepared = this.driver.prepare(readFileSync(this.confPath, 'utf8'));
      if (!prepared.ok) throw new Error(prepared.output);
      this.restartCount++;
      this.startProxy();
      this.o.log.warn({ restarts: this.restartCount, pid: this.proxyProc?.pid, releasedMs: Date.now() - t0, config: this.state.appliedHash.slice(0, 12) }, `${label} restarted`);
    } catch (err) {
      this.restartDelayMs = nextRestartDelay(this.restartDelayMs, 0, this.o.restartBackoff);
      this.o.log.error({ err: err instanceof Error ? err.message : String(err), retryInMs: this.restartDelayMs }, `could not restart ${label}`);
      this.restartTimer = setTimeout(() => void this.restart(undefined), this.restartDelayMs);
    }
  }

  /**
   * Stop: SIGQUIT (default) is graceful, the proxy finishes in-flight requests (HAProxy gets its
   * soft-stop signal, SIGUSR1), then the agent exits; SIGTERM stops at once.
   */
  stop(signal: NodeJS.Signals = 'SIGQUIT'): void {
    this.stopping = true;
    this.stopStreams();
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      this.resolveExit(0);
    } else if (this.proxyProc !== undefined && this.proxyProc.running()) this.driver.stop(this.proxyProc, signal);
    else this.resolveExit(0);
  }

  private stopStreams(): void {
    this.stream?.stop();
    this.traffic?.stop();
    this.pacer.stop();
    if (this.heartbeat !== undefined) clearInterval(this.heartbeat);
  }

  private get acmeDir(): string {
    return this.o.acmeDir ?? ACME_DIR_IN_TASKS;
  }

  /** Write the HTTP-01 tokens of a delivered message (no reload: NGINX serves them as files, HAProxy from a map). */
  private challenges(m: ProxyConfig__Output): void {
    if (m.cluster !== this.o.cluster) return;
    const sync = this.driver.syncHttp01?.bind(this.driver);
    if (sync !== undefined) {
      const tokens = m.challenges.map((c) => ({ token: c.token, keyAuthorization: c.keyAuthorization }));
      // One push at a time, in arrival order: each replaces the whole map with its message's tokens.
      this.http01 = this.http01.then(async () => {
        const r = await sync(tokens).catch((err: unknown) => ({ ok: false, output: err instanceof Error ? err.message : String(err) }));
        // "Unknown map": the running config has no token rule yet; the reload onto the one that does loads the file.
        if (r.ok) this.o.log.info({ tokens: tokens.length }, 'ACME HTTP-01 tokens updated (HAProxy map)');
        else if (/unknown map/i.test(r.output)) this.o.log.info({ tokens: tokens.length }, 'ACME HTTP-01 tokens written; the next config loads them');
        else this.o.log.warn({ output: r.output }, 'could not update the ACME HTTP-01 map of the running HAProxy');
      });
      return;
    }
    try {
      const r = syncChallenges(this.acmeDir, m.challenges.map((c) => ({ token: c.token, keyAuthorization: c.keyAuthorization })));
      if (r.written + r.removed > 0) this.o.log.info({ tokens: r.written, removed: r.removed }, 'ACME HTTP-01 tokens updated');
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'could not write ACME HTTP-01 tokens');
    }
  }

  /** Apply one delivered config now; true when the proxy reloaded onto it. */
  async apply(m: ProxyConfig__Output): Promise<boolean> {
    if (m.cluster !== this.o.cluster) return false;
    const files: ConfigFileData[] = m.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
    const certificates: ConfigFileData[] = m.certificates.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
    const hash = deliveryHash(files, certificates);
    if (hash !== m.configHash) {
      this.o.log.error({ expected: m.configHash, got: hash }, 'received config does not match its hash; ignoring it');
      return false;
    }
    if (hash === this.state.appliedHash) {
      await this.report();
      return false;
    }
    // An older core sends no kind: NGINX was the only one.
    const kind = m.proxyKind === '' ? 'nginx' : m.proxyKind;
    const validation =
      kind === this.driver.kind
        ? await this.install(files, certificates)
        : { ok: false, output: `this proxy task runs ${this.driver.kind}; a ${kind} configuration needs a proxy task of that kind (the core replaces the tasks when proxy.kind changes)` };
    this.state = validation.ok
      ? { appliedHash: hash, lastReceivedHash: hash, lastValidation: validation, appliedAt: Date.now() }
      : { ...this.state, lastReceivedHash: hash, lastValidation: validation };
    if (validation.ok) {
      this.recordMaster();
      this.saveLastApplied(files);
    }
    if (validation.ok && validation.pushedOnly === true) this.o.log.info({ config: hash.slice(0, 12), sequence: m.sequence, ...(validation.sent !== undefined ? { sent: validation.sent, upstreams: validation.upstreams } : {}) }, 'endpoints applied (no reload)');
    else if (validation.ok) this.o.log.info({ config: hash.slice(0, 12), sequence: m.sequence }, `configuration applied (${this.driver.reloadSignal})`);
    else this.o.log.warn({ config: hash.slice(0, 12), [this.driver.kind]: validation.output }, `configuration refused (${this.driver.checkName} or its reload); keeping the running one`);
    await this.report();
    return validation.ok;
  }

  /** Write next to the live files, prepare (HAProxy: PEMs), check (reload-gate.ts), move into place, reload; files back when refused. */
  private async install(files: readonly ConfigFileData[], certificates: readonly ConfigFileData[] = []): Promise<Validation & { readonly pushedOnly?: boolean } & Pick<PushResult, 'sent' | 'upstreams'>> {
    const d = this.driver;
    const main = files.find((f) => f.path === d.mainFile);
    if (main === undefined) return { ok: false, output: `the configuration has no ${d.mainFile}` };
    const endpoints = files.find((f) => f.path === ENDPOINTS_FILE);
    // Dynamic endpoints, the same config and the same certificates: a task change; push the set, no check, no reload.
    if (endpoints !== undefined && existsSync(this.confPath) && readFileSync(this.confPath).equals(main.content) && sameCertificates(this.acmeDir, certificates)) {
      // A task booted on its mounted config (appliedHash '') runs it unchecked, and it may be the very
      // config the core's delivery was refused for at boot (a certificate pair nginx -t cannot see):
      // check it once before reporting it applied; no reload either way.
      if (this.state.appliedHash === '') {
        const prepared = d.prepare(main.content.toString());
        if (!prepared.ok) return prepared;
        const check = d.check(this.confPath);
        if (!check.ok) return check;
      }
      const pushed = this.slots !== undefined ? await this.slots.push(this.o.confDir, ENDPOINTS_FILE, endpoints.content) : await this.balancer.push(this.o.confDir, endpoints.content);
      return { ...pushed, pushedOnly: true };
    }
    // Certificates first: the check below reads them at the paths the config names. NGINX holds the
    // ones it serves in memory, so a config refused below keeps serving the previous certificate.
    const written = writeCertificates(this.acmeDir, certificates);
    if (!written.ok) return written;
    const staged = StagedFiles.write(this.o.confDir, files);
    if (!(staged instanceof StagedFiles)) return staged;
    const config = main.content.toString();
    const prepared = d.prepare(config);
    if (!prepared.ok) return prepared;
    const proc = this.proxyProc;
    const pid = proc?.pid;
    const running = proc !== undefined && pid !== undefined && proc.running();
    const plan = this.gate.plan(running ? pid : undefined, files, `${this.confPath}.next`);
    if (!plan.ok) return plan;
    // The set first, so the new workers find every upstream their config names, with the upstreams
    // it drops kept: the old workers serve the old config until they exit, and a name gone from the
    // dictionary answers 503 (ADR 0041). Best effort: a running config without the balancer has no
    // endpoint (its reload seeds the new dictionary from the file moved into place below); pushed
    // again after the reload, exactly, which removes the dropped names.
    if (endpoints !== undefined && this.slots === undefined && this.proxyPid !== undefined) await this.balancer.pushBeforeReload(endpoints.content, this.liveEndpoints());
    // HAProxy: the new worker loads the set from the state file before it serves (a Static config ignores it).
    if (this.slots !== undefined) {
      const seeded = this.slots.stage(endpoints?.content);
      if (!seeded.ok) return seeded;
    }
    staged.commit();
    // Reported as applied only once new workers run it: Programmed must mean "serving".
    let outcome: ReloadOutcome = { confirmed: false };
    try {
      if (running) outcome = await d.reloadAndConfirm(pid, plan.timing);
    } catch (err) {
      this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, `${d.label} reload failed`);
    }
    const refused = this.gate.settle(outcome, plan, staged);
    if (refused !== undefined) return refused;
    if (!running) return { ok: false, output: `${d.label} is not running` };
    const reloaded = outcome.confirmed;
    // The master died during the reload: the restart started after the files moved, so it runs them.
    if (!reloaded && this.proxyProc === proc && proc.running()) {
      return { ok: false, output: `${d.label} did not start workers on the new configuration within ${describeLimit(plan.timing.confirmMs)}` };
    }
    if (!reloaded && !(await this.restartedSince(proc))) return { ok: false, output: `${d.label} died during the reload and was not running again within 10 s` };
    d.afterApply(config);
    // The drained reload returns once the old workers have exited (or after its hold): now the
    // dropped upstreams can go. A delta on the set pushed before; whole when the reload made a new
    // dictionary (409) or nothing was confirmed.
    if (endpoints !== undefined && this.slots === undefined) {
      const pushed = await this.balancer.push(undefined, endpoints.content);
      if (!pushed.ok) return pushed;
    }
    return { ok: true, output: plan.checked?.output ?? '' };
  }

  /** The endpoints file the running config was given (undefined: none). */
  private liveEndpoints(): string | undefined {
    const path = join(this.o.confDir, ENDPOINTS_FILE);
    return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  /** Whether a proxy started after `old` runs (its master has a worker) within `timeoutMs`. */
  private async restartedSince(old: ProxyHandle, timeoutMs = 10_000): Promise<boolean> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until && !this.stopping) {
      const pid = this.proxyPid;
      if (this.proxyProc !== old && pid !== undefined && childPids(pid).size > 0) return true;
      await new Promise((r) => setTimeout(r, 20));
    }
    return false;
  }

  private async counters(): Promise<Counters> {
    if (this.o.statusUrl === undefined) return { requests: 0, responses5xx: 0, activeConnections: 0 };
    try {
      const res = await fetch(this.o.statusUrl, { signal: AbortSignal.timeout(1_000) });
      return this.driver.parseCounters(await res.text());
    } catch {
      return { requests: 0, responses5xx: 0, activeConnections: 0 };
    }
  }

  async report(): Promise<void> {
    const core = this.o.core;
    if (core === undefined) return;
    await sendReport(core, { cluster: this.o.cluster, replicaId: this.o.replicaId, state: this.state, counters: await this.counters(), upstreams: this.traffic?.counters.snapshot() ?? [], log: this.o.log });
  }
}
