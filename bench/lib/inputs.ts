/**
 * Synthetic, deterministic inputs for the render benchmark: N Route objects and a matching Swarm
 * snapshot. Everything is built as plain JSON first and then decoded with the production codecs
 * (decodeObject, Snapshot), so the benchmark feeds buildModel exactly what the CLI would.
 *
 * The mix (per route, drawn from a seeded PRNG so every run sees the same inputs):
 * - 50 % TLS Terminate (half of those with redirectHTTP), the rest plain HTTP;
 * - two distinct backend services per route, each with 2-3 running tasks on an overlay network;
 * - 20 % weighted canary: one rule "/" → primary 90, canary 10;
 * - 30 % a second path rule: "/api" → api service, "/" → web service;
 * - 50 % both services behind one rule "/" with default (equal) weights.
 */
import * as E from 'fp-ts/Either';
import { decode } from '../../src/domain/codec';
import { formatPath } from '../../src/domain/issue';
import { decodeObject, type RouteObject } from '../../src/domain/object';
import { Snapshot } from '../../src/domain/snapshot';
import type { DesiredState, Stored } from '../../src/plan/inputs';

/**
 * The backends' port (8080). BENCH_BACKEND_PORT moves it, for bench-scale on a machine where something
 * else listens on 8080 (a Swarm proxy publishing it in host mode): its local backends bind that port.
 */
export const BACKEND_PORT = Number(process.env['BENCH_BACKEND_PORT'] ?? '8080');

/** How TLS routes reference certificates: one secret pair per route, or a pool of shared pairs. */
export type CertMode = { readonly kind: 'per-route' } | { readonly kind: 'shared'; readonly count: number };

export type RouteShape = 'weighted' | 'second-path' | 'equal-split';

export interface GeneratedInputs {
  readonly desired: DesiredState;
  readonly snapshot: Snapshot;
  /** Secret names TLS routes reference; a file of each name must exist in secretsDir for nginx -t. */
  readonly certSecrets: readonly string[];
  readonly keySecrets: readonly string[];
  readonly mix: InputMix;
}

export interface InputMix {
  readonly routes: number;
  readonly tls: number;
  readonly tlsRedirectHttp: number;
  readonly weighted: number;
  readonly secondPath: number;
  readonly equalSplit: number;
  readonly services: number;
  readonly runningTasks: number;
  readonly otherTasks: number;
  readonly networks: number;
  readonly secrets: number;
}

const NETWORKS = 10;
const SEED = 0x5eed_2024;

/** mulberry32: tiny seeded PRNG; the inputs only need to be reproducible, not random. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hands out unique addresses 10.<net>.x.y per overlay network (a /16 each, .0 and .255 skipped). */
class AddressPool {
  private readonly next = new Map<number, number>();
  take(net: number): string {
    const n = this.next.get(net) ?? 0;
    this.next.set(net, n + 1);
    // 253 hosts per /24: .2 … .254 (.0, .1 and .255 left out, as Docker's IPAM does for gateway and broadcast).
    return `10.${net}.${Math.floor(n / 253)}.${2 + (n % 253)}`;
  }
}

function routeShape(r: number): RouteShape {
  if (r < 0.2) return 'weighted';
  if (r < 0.5) return 'second-path';
  return 'equal-split';
}

interface ServicePlan {
  readonly name: string;
  readonly port: number;
}

function ruleSet(shape: RouteShape, web: ServicePlan, other: ServicePlan): unknown[] {
  const be = (s: ServicePlan, weight?: number): Record<string, unknown> => ({ service: s.name, port: s.port, ...(weight !== undefined ? { weight } : {}) });
  switch (shape) {
    case 'weighted':
      return [{ match: { pathPrefix: '/' }, backends: [be(web, 90), be(other, 10)] }];
    case 'second-path':
      return [
        { match: { pathPrefix: '/api' }, backends: [be(other)] },
        { match: { pathPrefix: '/' }, backends: [be(web)] },
      ];
    case 'equal-split':
      return [{ match: { pathPrefix: '/' }, backends: [be(web), be(other)] }];
  }
}

export function mustDecodeRoute(raw: unknown): RouteObject {
  const r = decodeObject(raw);
  if (E.isLeft(r)) throw new Error(`generated route does not decode: ${r.left.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  if (r.right.kind !== 'Route') throw new Error('generated object is not a Route');
  return r.right;
}

export function generateInputs(routeCount: number, certs: CertMode): GeneratedInputs {
  const rand = prng(SEED);
  const pool = new AddressPool();
  const pick = <T>(xs: readonly T[]): T => {
    const x = xs[Math.floor(rand() * xs.length)];
    if (x === undefined) throw new Error('pick from empty list');
    return x;
  };
  const nodes = Array.from({ length: 12 }, (_, i) => ({
    id: `node${i.toString().padStart(2, '0')}`,
    hostname: `swarm-${i < 3 ? 'mgr' : 'wrk'}-${i}`,
    role: i < 3 ? 'manager' : 'worker',
    availability: 'active',
    state: 'ready',
    labels: { zone: `z${i % 3}` },
    addr: `192.168.10.${10 + i}`,
  }));
  const networks: unknown[] = [
    { name: 'ingress', driver: 'overlay', scope: 'swarm', ingress: true },
    { name: 'bridge', driver: 'bridge', scope: 'local' },
    ...Array.from({ length: NETWORKS }, (_, k) => ({ name: `apps-${k}`, driver: 'overlay', scope: 'swarm' })),
  ];
  const services: unknown[] = [];
  const tasks: unknown[] = [];
  const secretNames = new Set<string>();
  const certSecrets = new Set<string>();
  const keySecrets = new Set<string>();
  const routes: Stored<RouteObject>[] = [];
  let taskSeq = 0;
  let runningTasks = 0;
  let otherTasks = 0;
  const counts = { tls: 0, tlsRedirectHttp: 0, weighted: 0, secondPath: 0, equalSplit: 0 };

  const addService = (name: string, port: number, net: number): ServicePlan => {
    const netName = `apps-${net}`;
    const published = rand() < 0.1;
    const replicas = 2 + Math.floor(rand() * 2);
    services.push({
      name,
      id: `svc${(services.length + 1).toString(36).padStart(8, '0')}`,
      labels: { 'com.docker.stack.namespace': name.replace(/-(web|api|canary|blue|green)$/, '') },
      networks: published ? ['ingress', netName] : [netName],
      vips: [{ network: netName, ip: pool.take(net) }],
      ports: published ? [{ target: port, published: 30000 + services.length, protocol: 'tcp', mode: 'ingress' }] : [],
      exposedPorts: [port],
      mode: 'replicated',
      replicas,
    });
    for (let slot = 1; slot <= replicas; slot++) {
      taskSeq++;
      runningTasks++;
      tasks.push({
        id: `t${taskSeq.toString(36).padStart(24, '0')}`,
        service: name,
        state: 'running',
        desiredState: 'running',
        addresses: [{ network: netName, ip: pool.take(net) }],
        node: pick(nodes).hostname,
        slot,
      });
    }
    // An old task that was replaced: it must not become an upstream server.
    if (rand() < 0.15) {
      taskSeq++;
      otherTasks++;
      tasks.push({
        id: `t${taskSeq.toString(36).padStart(24, '0')}`,
        service: name,
        state: 'shutdown',
        desiredState: 'shutdown',
        addresses: [{ network: netName, ip: pool.take(net) }],
        node: pick(nodes).hostname,
        slot: 1,
      });
    }
    return { name, port };
  };

  const createdBase = Date.UTC(2025, 0, 1);
  for (let i = 0; i < routeCount; i++) {
    const name = `app-${i}`;
    const shape = routeShape(rand());
    const net = i % NETWORKS;
    const [first, second] =
      shape === 'weighted' ? ['web', 'canary'] : shape === 'second-path' ? ['web', 'api'] : (['blue', 'green'] as const);
    const web = addService(`${name}-${first}`, BACKEND_PORT, net);
    const other = addService(`${name}-${second}`, shape === 'second-path' ? 9000 : BACKEND_PORT, net);
    const tls = rand() < 0.5;
    let tlsSpec: Record<string, unknown> | undefined;
    if (tls) {
      const pair = certs.kind === 'per-route' ? name : `wildcard-${i % certs.count}`;
      const certificate = { certSecret: `${pair}.crt`, keySecret: `${pair}.key` };
      certSecrets.add(certificate.certSecret);
      keySecrets.add(certificate.keySecret);
      secretNames.add(certificate.certSecret).add(certificate.keySecret);
      const redirectHTTP = rand() < 0.5;
      tlsSpec = { mode: 'Terminate', redirectHTTP, certificate };
      counts.tls++;
      if (redirectHTTP) counts.tlsRedirectHttp++;
    }
    if (shape === 'weighted') counts.weighted++;
    else if (shape === 'second-path') counts.secondPath++;
    else counts.equalSplit++;
    const raw = {
      apiVersion: 'swarmgate.io/v1',
      kind: 'Route',
      metadata: { name, labels: { team: `team-${i % 25}` } },
      spec: {
        hosts: [`${name}.example.com`],
        ...(tlsSpec !== undefined ? { tls: tlsSpec } : {}),
        rules: ruleSet(shape, web, other),
      },
    };
    routes.push({ object: mustDecodeRoute(raw), generation: 1 + (i % 3), createdAt: new Date(createdBase + i * 1000).toISOString() });
  }
  // A few unrelated secrets, as on a real cluster.
  for (let k = 0; k < 5; k++) secretNames.add(`db-password-${k}`);

  const rawSnapshot = { services, tasks, networks, secrets: [...secretNames].map((s) => ({ name: s })), nodes };
  const snap = decode(Snapshot, rawSnapshot);
  if (E.isLeft(snap)) throw new Error(`generated snapshot does not decode: ${snap.left.slice(0, 3).map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);

  return {
    desired: { routes, clusters: [], rejected: [] },
    snapshot: snap.right,
    certSecrets: [...certSecrets],
    keySecrets: [...keySecrets],
    mix: {
      routes: routeCount,
      ...counts,
      services: services.length,
      runningTasks,
      otherTasks,
      networks: networks.length,
      secrets: secretNames.size,
    },
  };
}
