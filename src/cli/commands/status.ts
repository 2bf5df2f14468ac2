/**
 * `swarmgate status [--watch]`: clusters (proxy replicas running/desired and the config each running
 * replica serves) and routes (conditions). With --watch the table is redrawn in place when it changes.
 */
import { existsSync } from 'node:fs';
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import { listStoredSpecs } from '../../desired/spec-store';
import { isServingTask, type ConfigInfo, type DockerPort, type TaskInfo } from '../../observed/docker-port';
import { clusterRevisions, revisionIdOf } from '../../plan/revisions';
import { decodeStatus } from '../../domain/status-label';
import { conditionCell } from '../../status/object-status';
import { errorText } from '../error-text';
import { pause } from '../interrupt';
import { EXIT, type Output } from '../output';
import { WatchScreen } from '../watch-screen';
import { asSeenNow, isStartingTask, presenceOf } from '../core-presence';
import { clusterServing, nodeNames, replicasCell } from '../proxy-serving';
import { age, formatTable } from '../table';

/** Ingress publishing and service VIPs need the kernel's IPVS; its proc file exists when it is there. */
export function ipvsAvailable(): boolean {
  return process.platform !== 'linux' || existsSync('/proc/net/ip_vs');
}

/** "last run #12 applied (2 writes) 3s ago" from the core's JSON log lines (newest last). */
export function lastRun(lines: readonly string[], now: Date): string {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i] ?? '';
    const start = line.indexOf('{');
    if (start < 0) continue;
    try {
      const o = JSON.parse(line.slice(start)) as { seq?: number; result?: string; reason?: string; time?: number; msg?: string; error?: string };
      if (o.seq === undefined || o.result === undefined || o.time === undefined) continue;
      return `last run #${o.seq} ${o.result} (${o.error ?? o.reason ?? ''}) ${age(new Date(o.time).toISOString(), now)} ago`;
    } catch {
      // not a log record of ours
    }
  }
  return 'no run logged yet';
}

/** How long `status` waits for the core task's log: it is read from the task's node, which may be unreachable. */
export const CORE_LOG_TIMEOUT_MS = 3_000;

/**
 * The core's line: the running task's last logged run, read from that task only (a dead task's last
 * run is history, not state) and with a deadline; when no task runs, say so and that what follows
 * may be stale.
 */
async function coreState(port: DockerPort, name: string, tasks: readonly TaskInfo[], now: Date): Promise<string> {
  const newestFirst = [...tasks].sort((a, b) => ((a.Status.Timestamp ?? '') < (b.Status.Timestamp ?? '') ? 1 : -1));
  const live = newestFirst.find(isServingTask);
  const starting = newestFirst.find(isStartingTask);
  if (live === undefined && starting !== undefined) {
    return `core: ${name} is starting (0/1; task ${starting.Status.State}). The conditions below are from before it started; it rewrites them once it runs.`;
  }
  if (live === undefined) {
    const last = newestFirst[0];
    const why = last === undefined ? 'no task' : `last task ${last.Status.State}${last.Status.Err !== undefined && last.Status.Err !== '' ? `: ${last.Status.Err}` : ''}`;
    return `core: ${name} is NOT RUNNING (0/1; ${why}). Nothing is reconciled; the conditions below were written by a core that is gone and may be out of date.`;
  }
  const run = await port.taskLogTail(live.ID, 200, CORE_LOG_TIMEOUT_MS).then(
    (lines) => lastRun(lines, now),
    () => `last run unknown (its log did not answer within ${CORE_LOG_TIMEOUT_MS / 1000} s)`,
  );
  return `core: ${name} 1/1 running; ${run}`;
}

/**
 * " (rolled back to rev N (hash12))" when the core says the cluster serves a rolled-back revision (its
 * Programmed note), in the one form of ADR 0025. A core from before that wrote "revision N": the
 * identifier is then looked up among the cluster's configs (`rev N (?)` when that config is gone).
 */
export function rollbackHint(message: string, cluster: string, configs: readonly ConfigInfo[]): string {
  const id = /rolled back to (rev (?:\d+|\?) \([0-9a-f]+\))/.exec(message)?.[1];
  if (id !== undefined) return ` (rolled back to ${id})`;
  const n = /rolled back to revision (\d+)/.exec(message)?.[1];
  if (n === undefined) return '';
  const rev = clusterRevisions(configs, cluster).find((r) => r.revision === Number(n));
  return ` (rolled back to ${rev !== undefined ? revisionIdOf(rev) : `rev ${n} (?)`})`;
}

export async function statusText(port: DockerPort, now: Date = new Date()): Promise<string> {
  return (await statusReport(port, now)).text;
}

/** The status text, and the failures it shows (what makes `status --watch` end non-zero). */
export interface StatusReport {
  readonly text: string;
  /** One line per failure shown: the core not running, a condition False. Empty when all is well or still settling. */
  readonly failures: readonly string[];
}

export async function statusReport(port: DockerPort, now: Date = new Date()): Promise<StatusReport> {
  const [services, tasks, { current }, configs, nodes] = await Promise.all([
    port.listServices([`${LABELS.owner}=${OWNER_VALUE}`]),
    port.listTasks(),
    listStoredSpecs(port),
    port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`]),
    port.listNodes(),
  ]);
  const hostnames = nodeNames(nodes);
  const proxies = services.filter((s) => s.Spec.Labels?.[LABELS.role] === 'proxy').sort((a, b) => (a.Spec.Name < b.Spec.Name ? -1 : 1));
  const core = services.find((s) => s.Spec.Labels?.[LABELS.role] === 'core');
  const running = (serviceId: string) => tasks.filter((t) => t.ServiceID === serviceId && isServingTask(t));
  // As get and describe show them: with no core running, Programmed/Ready read Unknown (CoreNotRunning).
  const presence = presenceOf(core, tasks);
  const statusOf = (label: string | undefined) => asSeenNow(decodeStatus(label), presence);
  const clusterRows = proxies.map((p) => {
    const cluster = p.Spec.Labels?.[LABELS.cluster] ?? '?';
    const published = (p.Spec.EndpointSpec?.Ports ?? []).map((x) => `${x.PublishMode ?? 'ingress'}:${x.PublishedPort ?? '-'}`).join(',');
    const status = statusOf(current.get(`ServiceCluster/${cluster}`)?.config.Spec.Labels?.[LABELS.status]);
    const programmed = status?.conditions.find((c) => c.type === 'Programmed');
    const serving = clusterServing(p, status, running(p.ID), hostnames, configs.filter((c) => c.Spec.Labels?.[LABELS.cluster] === cluster));
    return [
      cluster,
      p.Spec.Name,
      `${serving.replicas.length}/${p.Spec.Mode?.Replicated?.Replicas ?? '-'}`,
      `${serving.current}${serving.hitless ? ' hitless' : ''}`,
      replicasCell(serving),
      published,
      programmed === undefined ? 'Unknown' : `${programmed.status === 'True' ? 'True' : `${programmed.status} (${programmed.reason})`}${rollbackHint(programmed.message, cluster, configs)}`,
    ];
  });
  const routeRows = [...current.values()]
    .filter((s) => s.kind === 'Route')
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => {
      const st = statusOf(s.config.Spec.Labels?.[LABELS.status]);
      const cell = (type: string) => conditionCell(st, s.generation, type);
      return [s.name, String(s.generation), cell('Accepted'), cell('ResolvedRefs'), cell('Programmed')];
    });
  const coreLine = core === undefined ? 'core: not installed as a service (swarmgate install)' : await coreState(port, core.Spec.Name, tasks.filter((t) => t.ServiceID === core.ID), now);
  const ingress = proxies.some((p) => (p.Spec.EndpointSpec?.Ports ?? []).some((x) => (x.PublishMode ?? 'ingress') === 'ingress'));
  const warnings = ingress && !ipvsAvailable() ? ['WARNING: a proxy publishes in ingress mode, but this node has no IPVS (/proc/net/ip_vs is missing): the routing mesh cannot carry its traffic here; use publish.mode: host.'] : [];
  const failures = [
    ...(coreLine.includes('NOT RUNNING') ? [`core ${core?.Spec.Name ?? ''} is not running`] : []),
    ...clusterRows.filter((r) => (r[6] ?? '').startsWith('False')).map((r) => `cluster ${r[0] ?? ''}: Programmed ${r[6] ?? ''}`),
    ...routeRows.flatMap((r) => (['Accepted', 'ResolvedRefs', 'Programmed'] as const).flatMap((type, i) => ((r[i + 2] ?? '').startsWith('False') ? [`route ${r[0] ?? ''}: ${type} ${r[i + 2] ?? ''}`] : []))),
  ];
  const text = [
    coreLine,
    ...warnings,
    '',
    proxies.length === 0 ? 'No proxies yet.' : formatTable(['CLUSTER', 'PROXY', 'READY', 'CONFIG', 'REPLICAS SERVE', 'PUBLISHED', 'PROGRAMMED'], clusterRows),
    '',
    routeRows.length === 0 ? 'No routes.' : formatTable(['ROUTE', 'GENERATION', 'ACCEPTED', 'RESOLVEDREFS', 'PROGRAMMED'], routeRows),
  ].join('\n');
  return { text, failures };
}

export interface StatusWatchOptions {
  readonly intervalMs?: number;
  readonly signal?: AbortSignal;
  /** Default: stdout's (terminal or not, and its size). */
  readonly screen?: WatchScreen;
}

/** Ages ("3s ago", "AGE 5m") move every second: a change of them alone is not news for a pipe. */
const AGES = /\b\d+[smhd]( ago)?\b/g;

/**
 * `status`, and `status --watch` until Ctrl-C (or its reader goes away: 141). The watch ends with 1 when
 * its last frame showed a failure (the core not running, Docker unreachable, a condition False) and says
 * which on stderr, so `status --watch` in a script or a CI log ends the way the system was left; 0 otherwise.
 */
export async function runStatus(port: DockerPort, watch: boolean, io: Output, opts: StatusWatchOptions = {}): Promise<number> {
  if (!watch) {
    io.out(await statusText(port));
    return EXIT.ok;
  }
  const screen = opts.screen ?? WatchScreen.forStdout(io);
  let failures: readonly string[] = [];
  while (opts.signal?.aborted !== true) {
    const report = await statusReport(port).catch((e: unknown): StatusReport => {
      const text = `error: ${errorText(e)}`;
      return { text, failures: [text] };
    });
    failures = report.failures;
    screen.show(report.text, report.text.replace(AGES, ''), new Date());
    await pause(opts.intervalMs ?? 1000, opts.signal);
  }
  if (failures.length === 0) return EXIT.ok;
  io.err(`status --watch ended with ${failures.length} failure${failures.length === 1 ? '' : 's'} showing: ${failures.slice(0, 5).join('; ')}${failures.length > 5 ? `; and ${failures.length - 5} more` : ''}`);
  return EXIT.invalid;
}
