/**
 * Helpers of the failure drills on the three-manager + one-worker swarm of `make swarm-up NODES=4`
 * (deploy/scripts/swarm-nodes-up.sh): the nodes and their roles in the drills, node faults
 * (deploy/scripts/swarm-nodes-ctl.sh), the steady client, invariants on what swarmgate owns, and
 * the drills' report (a table on stdout, JSON in bench/results/).
 *
 * Roles, fixed so that a drill never takes away what it measures with:
 *   sg-mgr3  the test's control manager (DOCKER_HOST, see vitest.chaos.mts), one proxy replica and
 *            the echo backends; never faulted
 *   sg-wrk   the other proxy replica; crashed by the node-loss drill
 *   sg-mgr, sg-mgr2  where the core may run (the drills pin it off sg-mgr3); the node running it
 *            is stopped or restarted by the core drills
 */
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SEAL_LABEL } from '../../src/desired/spec-store';
import { LABELS, OWNER_VALUE } from '../../src/domain/labels';
import type { DockerPort } from '../../src/observed/docker-port';
import { docker, until } from '../helpers/swarm';
import { getFromClient } from '../multinode/nodes';
import type { ClientSummary } from './steady-client';

export const NODE_NAMES = ['sg-mgr', 'sg-wrk', 'sg-mgr2', 'sg-mgr3'] as const;
export type NodeName = (typeof NODE_NAMES)[number];
export const CONTROL: NodeName = 'sg-mgr3';
export const WORKER: NodeName = 'sg-wrk';
export const CORE_CANDIDATES: readonly NodeName[] = ['sg-mgr', 'sg-mgr2'];
export const ADDR: Record<NodeName, string> = { 'sg-mgr': '10.210.0.11', 'sg-wrk': '10.210.0.12', 'sg-mgr2': '10.210.0.13', 'sg-mgr3': '10.210.0.14' };
export const CLIENT_NS = 'sg-cli';
export const socketOf = (n: NodeName): string => `/var/run/docker-${n}.sock`;
/** Every node's engine at the same path in its own mount namespace (swarm-nodes-lib.sh). */
export const NODE_LOCAL_SOCKET = '/var/run/sg-node/docker.sock';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');

/** Poll until `host` answers 200 through the proxy at addr:port; on timeout say what it answered last. */
export async function waitServing(addr: string, port: number, host: string, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last = 'no answer yet';
  for (;;) {
    try {
      const r = await getFromClient(addr, port, host);
      if (r.status === 200) return;
      last = `HTTP ${r.status}: ${r.body.slice(0, 200)}`;
    } catch (e) {
      last = e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
    }
    if (Date.now() > end) throw new Error(`${host} via ${addr}:${port} did not answer 200 within ${timeoutMs} ms; last: ${last}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Refuse to run against anything but the namespaced control manager. */
export function assertChaosSwarm(): void {
  if (process.env['DOCKER_HOST'] !== `unix://${socketOf(CONTROL)}`) throw new Error(`DOCKER_HOST must be unix://${socketOf(CONTROL)} (run with --config vitest.chaos.mts)`);
  const name = docker('info', '--format', '{{.Name}}');
  if (name !== CONTROL) throw new Error(`DOCKER_HOST answers as "${name}", not ${CONTROL}`);
}

/** stop | crash | start a node's dockerd (swarm-nodes-ctl.sh); resolves with how long it took. */
export async function nodeFault(action: 'stop' | 'crash' | 'start', node: NodeName): Promise<number> {
  const t0 = Date.now();
  await run('bash', [join(ROOT, 'deploy/scripts/swarm-nodes-ctl.sh'), action, node], { env: { ...process.env, NODES: '4' } });
  return Date.now() - t0;
}

/** The node's `Status.State` (ready, down, unknown) as the managers see it. */
export function nodeState(node: NodeName): string {
  return docker('node', 'inspect', '--format', '{{.Status.State}}', node);
}

export function waitNodeState(node: NodeName, state: string, timeoutMs = 90_000): Promise<true> {
  return until(`${node} ${state}`, () => Promise.resolve(nodeState(node) === state ? true : undefined), timeoutMs, 250);
}

/** Host PIDs of the processes of `service`'s container on `node` whose command line matches. */
export function containerPids(node: NodeName, service: string, command: RegExp): number[] {
  const ids = docker('-H', `unix://${socketOf(node)}`, 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`).split('\n').filter((x) => x !== '');
  if (ids.length !== 1) throw new Error(`${node} runs ${ids.length} containers of ${service}, expected 1`);
  const top = docker('-H', `unix://${socketOf(node)}`, 'top', ids[0] ?? '', '-eo', 'pid,args').split('\n').slice(1);
  return top.filter((l) => command.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
}

/**
 * The supervised proxy agent's host PID in the node's task of `service`: the `swarmgate
 * proxy-agent` process whose parent is another one (its supervisor, agent-supervisor.ts).
 */
export function agentPid(node: NodeName, service: string): number | undefined {
  const ids = docker('-H', `unix://${socketOf(node)}`, 'ps', '-q', '--filter', `label=com.docker.swarm.service.name=${service}`).split('\n').filter((x) => x !== '');
  if (ids.length !== 1) throw new Error(`${node} runs ${ids.length} containers of ${service}, expected 1`);
  const procs = docker('-H', `unix://${socketOf(node)}`, 'top', ids[0] ?? '', '-eo', 'pid,ppid,args')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => (f.slice(2).join(' ')).includes('main.js proxy-agent'))
    .map((f) => ({ pid: Number(f[0]), ppid: Number(f[1]) }));
  return procs.find((p) => procs.some((q) => q.pid === p.ppid))?.pid;
}

/** The steady client (steady-client.ts) in the client namespace; `stop()` ends it and returns its summary. */
export function startSteadyClient(host: string, targets: readonly string[]): { stop: () => Promise<ClientSummary> } {
  const child = spawn('ip', ['netns', 'exec', CLIENT_NS, process.execPath, '--import', 'tsx', join(__dirname, 'steady-client.ts'), host, ...targets], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    stop: async () => {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`steady client exited ${String(code)}: ${err}`);
      return JSON.parse(out) as ClientSummary;
    },
  };
}

/** Give the client time to be sending before a fault (tsx start-up in the namespace takes ~1 s). */
export async function waitSending(ms = 3_000): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/**
 * What swarmgate owns must be consistent after convergence, whatever was interrupted: one core
 * task (when installed), one proxy service per cluster, one stored spec per object, and no two
 * proxy configs of a cluster with the same revision or the same content. Returns the problems found (empty = none)
 * and counts for the report.
 */
export async function ownedObjectProblems(port: DockerPort, opts: { installedCore: boolean } = { installedCore: true }): Promise<{ problems: string[]; counts: Record<string, number> }> {
  const problems: string[] = [];
  const owned = (labels: Record<string, string> | undefined): boolean => labels?.[LABELS.owner] === OWNER_VALUE;
  const services = (await port.listServices()).filter((s) => owned(s.Spec.Labels));
  const tasks = await port.listTasks();
  const cores = services.filter((s) => s.Spec.Labels?.[LABELS.role] === 'core');
  if (cores.length !== (opts.installedCore ? 1 : 0)) problems.push(`${cores.length} core services`);
  const coreTasks = tasks.filter((t) => t.ServiceID === cores[0]?.ID && t.DesiredState === 'running');
  if (opts.installedCore && coreTasks.length !== 1) problems.push(`${coreTasks.length} core tasks desired running`);
  const proxiesByCluster = new Map<string, number>();
  for (const s of services.filter((x) => x.Spec.Labels?.[LABELS.role] === 'proxy')) {
    const c = s.Spec.Labels?.[LABELS.cluster] ?? '?';
    proxiesByCluster.set(c, (proxiesByCluster.get(c) ?? 0) + 1);
  }
  for (const [c, n] of proxiesByCluster) if (n !== 1) problems.push(`${n} proxy services for cluster ${c}`);
  const configs = (await port.listConfigs()).filter((c) => owned(c.Spec.Labels));
  const seen = new Map<string, string>();
  const twice = (key: string, name: string): void => {
    const other = seen.get(key);
    if (other !== undefined) problems.push(`${name} duplicates ${other} (${key})`);
    seen.set(key, name);
  };
  let proxyConfigs = 0;
  let specs = 0;
  for (const c of configs) {
    const l = c.Spec.Labels ?? {};
    if (l[LABELS.role] === 'proxy-config') {
      proxyConfigs++;
      twice(`revision ${l[LABELS.cluster] ?? ''}/${l[LABELS.revision] ?? ''}`, c.Spec.Name);
      twice(`content ${l[LABELS.cluster] ?? ''}/${l[LABELS.specHash] ?? ''}`, c.Spec.Name);
    } else if (l[LABELS.role] === 'spec' && l[SEAL_LABEL] === undefined) {
      specs++;
      twice(`spec ${l[LABELS.kind] ?? ''}/${l[LABELS.name] ?? ''}`, c.Spec.Name);
    }
  }
  return { problems, counts: { services: services.length, proxyConfigs, specs, configs: configs.length } };
}

export interface ReportRow {
  readonly drill: string;
  readonly measure: string;
  readonly value: string | number;
  /** What the issue asks for, for the reader of the table. */
  readonly want?: string;
}

/** Print the rows as a table on stdout and save them (with `details`) as bench/results/chaos-NAME-latest.json. */
export function report(name: string, rows: readonly ReportRow[], details: Record<string, unknown>): void {
  const cells = rows.map((r) => [r.drill, r.measure, String(r.value), r.want ?? '']);
  const head = ['drill', 'measure', 'value', 'want'];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => c.map((x, i) => x.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  process.stdout.write(`\n${[line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n\n`);
  const dir = join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `chaos-${name}-latest.json`), `${JSON.stringify({ date: new Date().toISOString(), rows, details }, null, 2)}\n`);
}
