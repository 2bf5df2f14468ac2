/**
 * Helpers shared by the multi-node tests: names and addresses of the namespaced swarm (see
 * deploy/scripts/swarm-nodes-lib.sh), a guard that refuses to run against any other dockerd,
 * requests sent from the client namespace, the core run in-process against the namespaced
 * manager, and echo backends.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { startCore } from '../../src/core/core';
import { isServingTask, type DockerPort } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import type { Outcome } from '../../src/reconcile';
import { docker, until } from '../helpers/swarm';

export const MGR = 'sg-mgr';
export const WRK = 'sg-wrk';
export const NODE_NAMES = [MGR, WRK] as const;
export const CLIENT_NS = 'sg-cli';
export const MGR_ADDR = '10.210.0.11';
export const WRK_ADDR = '10.210.0.12';
export const CLIENT_ADDR = '10.210.0.20';
export const MGR_SOCKET = '/var/run/docker-sg-mgr.sock';

const run = promisify(execFile);

/**
 * Every test file calls this first. The helpers use the docker CLI and dockerode, which follow
 * DOCKER_HOST (set by vitest.multinode.mts); this makes sure it really names the namespaced
 * manager, so that nothing here can ever reach the machine's own dockerd.
 */
export function assertNamespacedSwarm(): void {
  if (process.env['DOCKER_HOST'] !== `unix://${MGR_SOCKET}`) throw new Error(`DOCKER_HOST must be unix://${MGR_SOCKET} (run with --config vitest.multinode.mts)`);
  const name = docker('info', '--format', '{{.Name}}');
  if (name !== MGR) throw new Error(`DOCKER_HOST answers as "${name}", not ${MGR}`);
}

/** Node hostname → node ID, and back. */
export function nodeIds(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of docker('node', 'ls', '--format', '{{.Hostname}} {{.ID}}').split('\n')) {
    const [host, id] = line.split(' ');
    if (host !== undefined && id !== undefined) out.set(host, id);
  }
  return out;
}

/** Hostnames of the nodes running a serving task of `service`, sorted (one entry per task). */
export async function servingNodes(port: DockerPort, service: string): Promise<string[]> {
  const svc = (await port.listServices()).find((s) => s.Spec.Name === service);
  if (svc === undefined) return [];
  const byId = new Map([...nodeIds()].map(([h, id]) => [id, h]));
  return (await port.listTasks())
    .filter((t) => t.ServiceID === svc.ID && isServingTask(t))
    .map((t) => byId.get(t.NodeID ?? '') ?? '?')
    .sort();
}

/** Wait until `service` has exactly these serving tasks (by node hostname, sorted). */
export function waitForPlacement(port: DockerPort, service: string, nodes: readonly string[], timeoutMs = 90_000): Promise<true> {
  const want = [...nodes].sort().join(',');
  return until(`${service} running on ${want}`, async () => ((await servingNodes(port, service)).join(',') === want ? true : undefined), timeoutMs, 250);
}

export interface ClientReply {
  readonly status: number;
  readonly body: string;
}

/** GET http://ADDR:PORT/ with a Host header, sent from the client namespace (source 10.210.0.20). */
export async function getFromClient(addr: string, port: number, host: string): Promise<ClientReply> {
  const r = await run('ip', ['netns', 'exec', CLIENT_NS, 'curl', '-s', '-m', '5', '-H', `Host: ${host}`, '-w', '\n%{http_code}', `http://${addr}:${port}/`], { encoding: 'utf8' });
  const cut = r.stdout.lastIndexOf('\n');
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

/** What the echo backend answers (see ECHO_SCRIPT). */
export interface Echo {
  readonly node: string;
  readonly task: string;
  readonly peer: string;
  readonly headers: Record<string, string | undefined>;
}

/** Poll until the request answers 200 and the body is an echo; returns it. */
export function echoFromClient(addr: string, port: number, host: string, timeoutMs = 90_000): Promise<Echo> {
  return until(`200 from ${host} via ${addr}:${port}`, async () => {
    const r = await getFromClient(addr, port, host);
    return r.status === 200 ? (JSON.parse(r.body) as Echo) : undefined;
  }, timeoutMs, 250);
}

/**
 * An HTTP echo server in the swarmgate image (it has Node): answers JSON with the node and task it
 * runs on, the peer address it saw and the request headers. SIGTERM ends it at once (Node as
 * PID 1 would otherwise wait the whole stop grace period).
 */
const ECHO_SCRIPT = [
  "const http = require('http');",
  "process.on('SIGTERM', () => process.exit(0));",
  'http.createServer((q, s) => { q.resume();',
  "  s.setHeader('content-type', 'application/json');",
  '  s.end(JSON.stringify({ node: process.env.SG_NODE, task: process.env.SG_TASK, peer: q.socket.remoteAddress, headers: q.headers }));',
  '}).listen(8080);',
].join('\n');

/** `docker service create` arguments of an echo backend on container port 8080; `extra` goes before the image. */
export function createEcho(name: string, replicas: number, extra: readonly string[], label: string): void {
  const image = docker('image', 'inspect', '--format', '{{.Id}}', 'swarmgate/swarmgate:latest');
  docker('service', 'create', '--detach', '--quiet', '--no-resolve-image', '--name', name, '--replicas', String(replicas), '--label', label,
    '--env', 'SG_NODE={{.Node.Hostname}}', '--env', 'SG_TASK={{.Task.Name}}', '--stop-grace-period', '2s', ...extra,
    '--entrypoint', 'node', image, '-e', ECHO_SCRIPT);
}

/** The core's reconcile loop, in this process, against the namespaced manager (rolling delivery). */
export function startTestCore(): { port: DockerPort; outcomes: Outcome[]; stop: () => void } {
  const port = createDockerPort();
  const outcomes: Outcome[] = [];
  const core = startCore({ port, localImages: true, taskPollMs: 500, log: pino({ level: process.env['LOG_LEVEL'] ?? 'silent' }) });
  const sub = core.outcomes.subscribe((o) => outcomes.push(o));
  return { port, outcomes, stop: () => { sub.unsubscribe(); core.stop(); } };
}

/** Remove every service, config and network with the test label (the swarm is ours alone). */
export async function removeLabelled(label: string): Promise<void> {
  const ids = (kind: string) => docker(kind, 'ls', '-q', '--filter', `label=${label}`).split('\n').filter((x) => x !== '');
  const services = ids('service');
  if (services.length > 0) docker('service', 'rm', ...services);
  for (const kind of ['config', 'network']) {
    await until(`${kind}s labelled ${label} removed`, async () => {
      const left = ids(kind);
      if (left.length === 0) return true;
      try {
        docker(kind, 'rm', ...left);
      } catch {
        // still used by a task being stopped
      }
      return undefined;
    }, 60_000, 500);
  }
}

/** Set a node's availability (`active`, `drain`) on the namespaced swarm. */
export function setAvailability(node: string, availability: 'active' | 'drain' | 'pause'): void {
  docker('node', 'update', '--availability', availability, node);
}

/** Milliseconds since `t0`, for the measurements the tests print. */
export function since(t0: number): number {
  return Date.now() - t0;
}
