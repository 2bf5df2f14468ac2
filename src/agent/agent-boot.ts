/**
 * What a proxy task serves first (issue 18, "boot config never stale"). The mounted boot config is
 * the config of the proxy service's last update: with hitless delivery routes change without
 * service updates, so it can be many revisions old (revision 2 of 38 and 31 minutes old in a
 * drill), and an old config can point at task addresses that now belong to other services. So
 * before the proxy starts, the agent asks the core for the cluster's current config and waits for
 * it a short time (DEFAULT_BOOT_WAIT_MS): when it arrives and passes the proxy's check it becomes
 * the live config the proxy starts on; when the core does not answer in time (it is down or being
 * rescheduled) the proxy starts on the mounted boot config, as before, and the agent applies the
 * current one as soon as it reaches the core.
 * Between the two: the node's last applied config of the cluster (last-applied.ts), when it is
 * newer than the mounted one. So a task that starts while the core is away serves the newest
 * config its node knows.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import { loadLastApplied } from './last-applied';
import { resubscribe, type CoreConnection, type StreamHandle } from '../api/client';
import { deliveryHash, type ConfigFileData } from '../api/control-plane';
import { ACME_DIR_IN_TASKS } from '../plan/acme-routes';
import { syncChallenges, writeCertificates } from './acme-files';
import type { ProxyConfig__Output } from '../api/generated/swarmgate/v1/ProxyConfig';
import type { ProxyDriver } from './proxy-process';

/** How long a starting proxy waits for the core's current config before it boots on the mounted one. */
export const DEFAULT_BOOT_WAIT_MS = 3_000;

export interface BootFromCoreOptions {
  readonly core: CoreConnection;
  readonly cluster: string;
  readonly replicaId: string;
  readonly waitMs: number;
  readonly log: Logger;
}

/** The first config the core streams for this replica, or undefined when none came within waitMs. */
export function firstConfigFromCore(o: BootFromCoreOptions): Promise<ProxyConfig__Output | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    // Both callbacks run later (a message, the timer), never during this function.
    const done = (m: ProxyConfig__Output | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      handle.stop();
      resolve(m);
    };
    const handle: StreamHandle = resubscribe(() => o.core.client.WatchProxyConfig({ cluster: o.cluster, replicaId: o.replicaId }), (m: ProxyConfig__Output) => done(m), {
      log: o.log,
      what: 'WatchProxyConfig (boot)',
      connection: o.core,
    });
    const timer = setTimeout(() => done(undefined), o.waitMs);
  });
}

export type BootInstall = { readonly ok: true; readonly hash: string } | { readonly ok: false; readonly reason: string };

/**
 * Make a delivered config the live one in `confDir`, before the proxy runs: every file is written
 * beside its target, the proxy's own check must pass, then all are moved into place. Refuses a
 * config for another cluster or kind, one whose files do not match its hash, or a path outside
 * `confDir` (safeRelativePath).
 */
export function installBootConfig(
  m: ProxyConfig__Output,
  o: { readonly cluster: string; readonly driver: ProxyDriver; readonly confDir: string; readonly safePath: (p: string) => string | undefined; readonly acmeDir?: string },
): BootInstall {
  if (m.cluster !== o.cluster) return { ok: false, reason: `config of cluster ${JSON.stringify(m.cluster)}` };
  const kind = m.proxyKind === '' ? 'nginx' : m.proxyKind;
  if (kind !== o.driver.kind) return { ok: false, reason: `a ${kind} config for a ${o.driver.kind} task` };
  const files = m.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
  const certificates = m.certificates.map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
  const hash = deliveryHash(files, certificates);
  if (hash !== m.configHash) return { ok: false, reason: 'files do not match the config hash' };
  // Before the check: the proxy's check reads the certificate files the config names.
  const written = writeCertificates(o.acmeDir ?? ACME_DIR_IN_TASKS, certificates);
  if (!written.ok) return { ok: false, reason: written.output };
  const tokens = m.challenges.map((c) => ({ token: c.token, keyAuthorization: c.keyAuthorization }));
  syncChallenges(o.acmeDir ?? ACME_DIR_IN_TASKS, tokens);
  // HAProxy: the map file the proxy loads when it starts (written synchronously; nothing runs yet to push to).
  void o.driver.syncHttp01?.(tokens);
  return installConfigFiles(files, hash, o);
}

/** Stage `files` beside their targets, check them with the proxy, move them into place. */
function installConfigFiles(files: readonly ConfigFileData[], hash: string, o: { readonly driver: ProxyDriver; readonly confDir: string; readonly safePath: (p: string) => string | undefined }): BootInstall {
  const main = files.find((f) => f.path === o.driver.mainFile);
  if (main === undefined) return { ok: false, reason: `no ${o.driver.mainFile}` };
  const staged: [string, string][] = [];
  for (const f of files) {
    const rel = o.safePath(f.path);
    if (rel === undefined) return { ok: false, reason: `path outside the config directory: ${JSON.stringify(f.path)}` };
    const target = join(o.confDir, rel);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(`${target}.next`, f.content);
    staged.push([`${target}.next`, target]);
  }
  const prepared = o.driver.prepare(main.content.toString());
  if (!prepared.ok) return { ok: false, reason: prepared.output };
  const check = o.driver.check(join(o.confDir, `${o.driver.mainFile}.next`));
  if (!check.ok) return { ok: false, reason: check.output };
  for (const [next, target] of staged) renameSync(next, target);
  return { ok: true, hash };
}

export interface BootChoice {
  readonly source: 'core' | 'node' | 'mounted';
  /** Hash of the installed config ('' for the mounted one). */
  readonly hash: string;
  readonly appliedAt: number;
  /** The installed files (none for the mounted one). */
  readonly files: readonly ConfigFileData[];
}

export interface ChooseBootOptions extends BootFromCoreOptions {
  readonly driver: ProxyDriver;
  readonly confDir: string;
  readonly safePath: (p: string) => string | undefined;
  /** The node's last applied configs (a volume); absent: none kept. */
  readonly lastAppliedDir?: string;
  /** bootConfigHash() of the task's mounted boot config. */
  readonly bootHash: string;
  /** Where ACME certificates and HTTP-01 tokens go (default ACME_DIR_IN_TASKS). */
  readonly acmeDir?: string;
  /**
   * Make the ACME certificate files a config names that the task lacks (acme-restore.ts): called on
   * the node's last applied config before its check, which reads them (nginx -t; HAProxy's PEMs).
   */
  readonly restoreAcme?: (config: string) => Promise<void>;
}

/**
 * Install the config the proxy starts on: the core's current one when it answers within waitMs,
 * else the node's last applied one when newer than the mounted one, else nothing (start() copies
 * the mounted one).
 */
export async function chooseBootConfig(o: ChooseBootOptions): Promise<BootChoice> {
  const t0 = Date.now();
  mkdirSync(o.confDir, { recursive: true });
  const m = await firstConfigFromCore(o);
  const installed = m === undefined ? undefined : installBootConfig(m, o);
  if (installed?.ok === true) {
    o.log.info({ config: installed.hash.slice(0, 12), waitedMs: Date.now() - t0 }, 'booting on the current configuration from the core');
    return { source: 'core', hash: installed.hash, appliedAt: Date.now(), files: m?.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) })) ?? [] };
  }
  const why = installed === undefined ? `no configuration from the core within ${o.waitMs} ms` : `the core's configuration was refused: ${installed.reason}`;
  const last = o.lastAppliedDir === undefined ? undefined : loadLastApplied(o.lastAppliedDir, o.driver.kind, o.bootHash);
  const lastMain = last?.files.find((f) => f.path === o.driver.mainFile);
  if (lastMain !== undefined) await o.restoreAcme?.(Buffer.from(lastMain.content).toString('utf8'));
  const fromNode = last === undefined ? undefined : installConfigFiles(last.files, last.hash, o);
  if (last !== undefined && fromNode?.ok === true) {
    o.log.warn({ waitedMs: Date.now() - t0, config: last.hash.slice(0, 12), appliedAt: new Date(last.appliedAt).toISOString() }, `${why}; booting on this node's last applied configuration until the core is reached`);
    return { source: 'node', hash: last.hash, appliedAt: last.appliedAt, files: last.files };
  }
  o.log.warn({ waitedMs: Date.now() - t0 }, `${why}; booting on the mounted one (maybe older) until the core is reached`);
  return { source: 'mounted', hash: '', appliedAt: 0, files: [] };
}
