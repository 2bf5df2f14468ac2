/**
 * `make bench-scale`: the cost of one cluster with N bench-mix routes (bench/lib/inputs.ts), on a
 * real NGINX and a real HAProxy started on this machine. Per proxy kind and N:
 * - core: buildModel, render (the delivered bytes), validate (validateFiles on those bytes: the exact
 *   check the core runs, in its private root, no second render), encodeModel (the gRPC payload), config bytes, core RSS;
 * - proxy: `nginx -t` / `haproxy -c`; memory (PSS of all its processes) before, peak during and
 *   after a task change; the time from the core seeing one task added to the first request the new
 *   task serves, and from a route added to it being served; requests/s of the equal-split route whose
 *   upstreams the config declares first and of the one it declares last.
 * SCALE_SIZES=100,1000 limits N (default 100,1000,2000,5000,10000); SCALE_KINDS=nginx limits the
 * proxies; SCALE_LABEL names the result file (bench/results/scale-<label>.json; default "latest").
 * See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as protobuf from 'protobufjs';
import { deliveryHash } from '../src/api/delivery-hash';
import { SentFiles } from '../src/api/unchanged-files';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeModel } from '../src/api/model-json';
import type { ProxyModel } from '../src/plan/model';
import { renderCluster } from '../src/render/render-cluster';
import { renderHaproxyWithEndpoints } from '../src/render/haproxy/render';
import { HaproxyEndpoints } from '../src/agent/haproxy-endpoints';
import { renderNginxWithEndpoints } from '../src/render/nginx/render';
import { buildPemFiles } from '../src/validate/haproxy-pems';
import { mountedFiles, validateFiles } from '../src/validate/validate-files';
import { Worker } from 'node:worker_threads';
import { firstServed, localHaproxy, localNginx, probe, processTree, pssBytes, sleep, startBackends, wrkRate, type Kind, type LocalProxy } from './lib/local-proxy';
import { machineInfo } from './lib/machine';
import { generateCertPair, populateSecrets } from './lib/nginx';
import { clusterModel, probeRoute, scaleInputs, taskIp, withAddedTask, withDynamicDefault, type ScaleInputs } from './lib/scale-inputs';
import { incrementalConfig, mainFile, type IncrementalConfig } from '../src/plan/pipeline';
import { dynamicEndpoints, ENDPOINTS_FILE } from '../src/render/render-cluster';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../src/render/nginx/options';
import { dockerListing, freshListing, withListedTask } from './lib/docker-listing';
import { SnapshotConverter } from '../src/observed/snapshot-converter';
import { toSnapshot } from '../src/observed/to-snapshot';
import { formatScaleTable, type RouteRun, type ScaleRow, type TaskRun, type WeightRun } from './lib/scale-report';
import { targetIps, withProbeWeights } from './lib/weight-step';

const SIZES = (process.env['SCALE_SIZES'] ?? '100,1000,2000,5000,10000').split(',').map(Number);
const KINDS = (process.env['SCALE_KINDS'] ?? 'nginx,haproxy').split(',') as Kind[];
const LABEL = process.env['SCALE_LABEL'] ?? 'latest';
/** SCALE_PORT: the first of the proxy's ports (it uses up to +103), so two runs on one machine need not collide. */
const PORT = Number(process.env['SCALE_PORT'] ?? '28080');
/** SCALE_MODE=dynamic: dynamic endpoints (task changes pushed to NGINX's Lua balancer or HAProxy's server slots, no reload). */
const DYNAMIC = process.env['SCALE_MODE'] === 'dynamic';
const MiB = 2 ** 20;
/** SCALE_ROUTE_RUNS: route changes per case (each a new route and a reload), for min / median. */
const ROUTE_RUNS = Number(process.env['SCALE_ROUTE_RUNS'] ?? '1');
/** SCALE_TASK_RUNS: task changes per case, one after another (each one task replaced by a new one), for min / median. */
const TASK_RUNS = Math.max(1, Number(process.env['SCALE_TASK_RUNS'] ?? '1'));
/**
 * SCALE_POLL_GAP_MS: how long the core has been idle between the collection after its last applied
 * run and the conversion of a task change's listing (default 0: no wait, as the benchmark always did). A
 * core polls tasks every second, so a change it finds by polling is converted up to a second after
 * the last run's collection; the conversion right after a full collection is slower (V8 still sweeps).
 */
const POLL_GAP_MS = Number(process.env['SCALE_POLL_GAP_MS'] ?? '0');
/** SCALE_WEIGHT_RUNS: weight steps per NGINX dynamic case (ADR 0049); served once WEIGHT_STREAK answers in a row come from the target. */
const WEIGHT_RUNS = Number(process.env['SCALE_WEIGHT_RUNS'] ?? '4');
const WEIGHT_STREAK = 20;

const log = (m: string): void => void process.stderr.write(`[bench-scale] ${m}\n`);
/**
 * A full collection before each timed task change (ADR 0047): the untimed comparisons after a change
 * (a whole model build and render, a conversion from nothing) leave hundreds of MiB of garbage that
 * was otherwise collected inside the next change's timed window; a running core collects after every
 * run that applied something (core.ts, with CORE_NODE_OPTIONS' --expose-gc), so its task changes start clean.
 */
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
function timed<T>(f: () => T): [T, number] {
  const t0 = performance.now();
  const v = f();
  return [v, performance.now() - t0];
}
function repeat(n: number, f: () => unknown): number {
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(timed(f)[1]);
  return median(xs);
}

interface Local {
  readonly proxy: LocalProxy;
  /** Render `model` with this instance's ports and paths and write it (HAProxy: and its PEM files). */
  write(model: ProxyModel): void;
  /** Dynamic endpoints: the core's one render of a change; `push` when the config stayed the same (NGINX: PUT to the balancer; HAProxy: runtime API). */
  readonly dynamic?: {
    render(model: ProxyModel): { config: string; endpoints: string };
    written(): string;
    /**
     * The cluster's files delivered and applied: NGINX as the core and the agent do it (ADR 0042: the
     * delivery hash, the ProxyConfig message for the agent's stream, the agent's decode, resolution,
     * hash check and comparison of nginx.conf, then the push); HAProxy: its endpoints pushed.
     */
    push(files: readonly { path: string; content: string }[]): Promise<Pushed>;
    /**
     * NGINX: a delivery whose nginx.conf changed, as the agent applies it before its reload: the set
     * pushed first (routes as data, ADR 0050: a new host's line must be there when the new workers start).
     */
    configChange?(files: readonly { path: string; content: string }[]): Promise<Pushed>;
    /** The agent's state before the timed changes: the current files delivered and the set pushed whole (a running agent has). */
    prime(files: readonly { path: string; content: string }[]): Promise<unknown>;
  };
}

function local(kind: Kind, dir: string, secretsDir: string): Local {
  const conf = join(dir, kind === 'nginx' ? 'nginx.conf' : 'haproxy.cfg');
  if (kind === 'nginx') {
    const opts = {
      secretsDir, pidPath: join(dir, 'nginx.pid'), accessLogPath: '/dev/null', httpPort: PORT, httpsPort: PORT + 1,
      tlsInternalPort: PORT + 2, passthroughInternalPort: PORT + 3, statusPort: PORT + 100, unavailablePort: PORT + 101,
      trafficLogPort: PORT + 102, drainFlagPath: join(dir, 'draining'),
    };
    const endpointsPath = join(dir, 'endpoints.txt');
    const options = { ...opts, dynamicEndpoints: DYNAMIC ? { controlPort: PORT + 103, endpointsPath, modulesDir: '/usr/lib/nginx/modules' } : null };
    let current = '';
    // The agent (ADR 0038: only the changed upstreams once a set is confirmed), in a thread of its own, and the core's end of its stream.
    const agent = agentThread(PORT + 103, dir);
    const render = (m: ProxyModel) => renderNginxWithEndpoints(m, options);
    const write = (m: ProxyModel): void => {
      const r = render(m);
      current = r.config;
      writeFileSync(conf, r.config);
      writeFileSync(endpointsPath, r.endpoints);
    };
    return {
      proxy: localNginx(dir, conf, opts.pidPath),
      write,
      ...(DYNAMIC
        ? {
            dynamic: {
              render,
              written: () => current,
              push: (files) => agent.deliver(files, false),
              prime: (files) => agent.deliver(files, true),
              configChange: (files) => {
                writeFileSync(join(dir, RUNNING_MAIN), files.find((f) => f.path === 'nginx.conf')?.content ?? '');
                return agent.deliver(files, false);
              },
            },
          }
        : {}),
    };
  }
  const certDir = join(dir, 'certs');
  const opts = { certDir, runtimeDir: dir, bindAddress: '127.0.0.1', httpPort: PORT, httpsPort: PORT + 1, statusPort: PORT + 100, logTarget: `127.0.0.1:${PORT + 102}`, trafficLogPort: PORT + 102, dynamicEndpoints: DYNAMIC };
  // Dynamic (ADR 0031): the agent's own slot table, state file and runtime API client.
  const slots = new HaproxyEndpoints(dir);
  let current = '';
  const render = (m: ProxyModel) => renderHaproxyWithEndpoints(m, opts);
  return {
    proxy: localHaproxy(conf, join(dir, 'haproxy.pid')),
    write: (m) => {
      const r = render(m);
      current = r.config;
      writeFileSync(conf, r.config);
      const pems = buildPemFiles(r.config, certDir, secretsDir);
      if (!pems.ok) throw new Error(pems.output);
      // As the agent does before every start and reload: the state file HAProxy loads its slots from.
      const staged = DYNAMIC ? slots.stage(r.endpoints) : { ok: true, output: '' };
      if (!staged.ok) throw new Error(staged.output);
    },
    ...(DYNAMIC
      ? {
          dynamic: {
            render,
            written: () => current,
            push: async (files) => {
              const t0 = performance.now();
              const v = await slots.push(dir, ENDPOINTS_FILE, Buffer.from(endpointsIn(files)));
              if (!v.ok) throw new Error(v.output);
              return { sent: `${v.commands ?? 0} runtime API commands`, pushMs: performance.now() - t0 };
            },
            prime: async (files) => {
              const v = await slots.push(dir, ENDPOINTS_FILE, Buffer.from(endpointsIn(files)));
              if (!v.ok) throw new Error(v.output);
            },
          },
        }
      : {}),
  };
}

/** What applying a task change's files cost (ms) and sent. */
interface Pushed {
  readonly sent: string;
  /** NGINX: the core's delivery (files to bytes, delivery hash, ProxyConfig message for the stream). */
  readonly deliverMs?: number;
  readonly messageBytes?: number;
  /** NGINX: the agent's decode, resolution of unchanged files, hash check and nginx.conf comparison. */
  readonly receiveMs?: number;
  /** The push to the balancer (HAProxy: the runtime API commands). */
  readonly pushMs: number;
}

const endpointsIn = (files: readonly { path: string; content: string }[]): string => files.find((f) => f.path === ENDPOINTS_FILE)?.content ?? '';

/**
 * The agent in a worker thread (bench/lib/agent-worker.ts): the agent is a process of its own, so this
 * process's garbage collection (the core's models) is not charged to it. This side is the core's end
 * of the agent's stream (ADR 0042): the delivery hash and the ProxyConfig message, files the stream
 * carried before as references. Deliveries must succeed; each resolves to what it cost and sent.
 */
let worker: Worker | undefined;
let pushSeq = 0;
let proxyConfigType: protobuf.Type | undefined;
/** Where the agent thread finds the nginx.conf it runs (bench/lib/agent-worker.ts compares deliveries with it). */
const RUNNING_MAIN = 'delivered-nginx.conf';
function agentThread(port: number, dir: string): { deliver(files: readonly { path: string; content: string }[], whole: boolean): Promise<Pushed> } {
  worker ??= new Worker(`require('tsx/cjs'); require(${JSON.stringify(join(__dirname, 'lib/agent-worker.ts'))});`, { eval: true });
  const w = worker;
  const stream = new SentFiles();
  let lastMain: { text: string; bytes: Buffer } | undefined;
  proxyConfigType ??= protobuf.loadSync(join(__dirname, '../src/api/proto/swarmgate/v1/core.proto')).lookupType('swarmgate.v1.ProxyConfig');
  const type = proxyConfigType;
  return {
    deliver: (files, whole) => {
      const t0 = performance.now();
      // The agent's live nginx.conf is the core's (the local NGINX runs the same config with this machine's ports and paths).
      if (whole) writeFileSync(join(dir, RUNNING_MAIN), files.find((f) => f.path === 'nginx.conf')?.content ?? '');
      // As the core does (core-run.ts): the main file's bytes are kept while its text is (a task change keeps it).
      const bytes = files.map((f) => {
        if (f.path !== 'nginx.conf') return { path: f.path, content: Buffer.from(f.content) };
        if (lastMain?.text !== f.content) lastMain = { text: f.content, bytes: Buffer.from(f.content) };
        return { path: f.path, content: lastMain.bytes };
      });
      const configHash = deliveryHash(bytes, []);
      const wire = type.encode(type.create({ cluster: 'default', configHash, sequence: ++pushSeq, proxyKind: 'nginx', files: stream.encode(bytes) })).finish();
      const deliverMs = performance.now() - t0;
      return new Promise((resolve, reject) => {
        const id = pushSeq;
        const on = (m: { id: number; ok: boolean; output: string; sent: string; receiveMs: number; pushMs: number }): void => {
          if (m.id !== id) return;
          w.off('message', on);
          if (m.ok) resolve({ sent: m.sent, deliverMs, messageBytes: wire.length, receiveMs: m.receiveMs, pushMs: m.pushMs });
          else reject(new Error(m.output));
        };
        w.on('message', on);
        w.postMessage({ id, port, dir, wire, whole });
      });
    },
  };
}

/** Sample the instance's PSS every 50 ms until stop() is called; returns the peak. */
function memorySampler(proxy: LocalProxy): { stop: () => number } {
  let peak = 0;
  let on = true;
  const tick = (): void => {
    if (!on) return;
    peak = Math.max(peak, pssBytes(processTree(proxy.roots())));
    setTimeout(tick, 50);
  };
  tick();
  return { stop: () => ((on = false), peak) };
}

/**
 * One change's phases on the reload path (ms): the core's model, render, validation (nginx -t /
 * haproxy -c) and encode, then the agent's check: HAProxy's `haproxy -c`; none for NGINX, whose
 * reload is the agent's check (ADR 0037: an agent that has measured one reload, as a running one has).
 */
interface ReloadPhases {
  readonly coreMs: number;
  readonly modelMs: number;
  readonly renderMs: number;
  readonly validateMs: number;
  readonly encodeMs: number;
  readonly checkMs: number;
  /** When the reload was signalled (performance.now()). */
  readonly reloadAt: number;
}

/** The core's path for one change today: model, render, validate the bytes, then the agent checks and reloads. */
async function reloadApply(kind: Kind, l: Local, snapshot: ScaleInputs['inputs']['snapshot'], desired: ScaleInputs['inputs']['desired']): Promise<ReloadPhases> {
  const [m, modelMs] = timed(() => clusterModel({ desired, snapshot }, kind));
  // Memoised (ADR 0034): server blocks whose input did not change are reused from the last render.
  const [rendered, renderMs] = timed(() => renderCluster(m));
  // The core's path: the exact rendered files are checked (no second render).
  const [v, validateMs] = timed(() => validateFiles(rendered.kind, rendered.files, { secrets: mountedFiles(m) }));
  if (!v.ok) throw new Error(`validate rejected: ${v.output}`);
  const [, encodeMs] = timed(() => encodeModel(m));
  l.write(m); // the bytes the local instance reads (its ports and paths); not counted, the core rendered above
  // Dynamic NGINX: the agent pushes the set before it reloads (ADR 0041, 0050).
  if (kind === 'nginx' && l.dynamic?.configChange !== undefined) await l.dynamic.configChange(rendered.files);
  const c = kind === 'nginx' ? { ok: true, output: '', ms: 0 } : l.proxy.check();
  if (!c.ok) throw new Error(c.output);
  const reloadAt = performance.now();
  l.proxy.reload();
  return { coreMs: modelMs + renderMs + validateMs + encodeMs, modelMs, renderMs, validateMs, encodeMs, checkMs: c.ms, reloadAt };
}

/**
 * Dynamic endpoints, as the core runs a task change (ADR 0030): its pipeline from the last run
 * (`last`, the state before the change) recomputes the touched servers, keeps nginx.conf, and the
 * endpoint lines are pushed; no model build, no render, no reload.
 */
async function dynamicApply(
  d: NonNullable<Local['dynamic']>,
  last: IncrementalConfig,
  snapshot: ScaleInputs['inputs']['snapshot'],
  desired: ScaleInputs['inputs']['desired'],
): Promise<{ coreMs: number; pushed: Pushed; agentMs: number; reloaded: boolean; endpoints: string; next: IncrementalConfig }> {
  const [next, coreMs] = timed(() => incrementalConfig(last.run, { specs: desired, snapshot }));
  if (next.path.kind !== 'tasks') throw new Error(`the task change took the full pipeline: ${next.path.reason}`);
  const files = next.output.clusters.find((c) => c.model.cluster === 'default')?.files;
  const before = last.output.clusters.find((c) => c.model.cluster === 'default')?.files;
  if (mainFile(files) !== mainFile(before)) throw new Error('a task change changed the main config under dynamic endpoints');
  const endpoints = files?.files.find((f) => f.path === ENDPOINTS_FILE)?.content ?? '';
  const p0 = performance.now();
  const pushed = await d.push(files?.files ?? []);
  return { coreMs, pushed, agentMs: performance.now() - p0, reloaded: false, endpoints, next };
}

/** The default cluster's files in a pipeline output (what the agent last applied, in a running system). */
function filesOf(c: IncrementalConfig): readonly { path: string; content: string }[] {
  return c.output.clusters.find((x) => x.model.cluster === 'default')?.files?.files ?? [];
}

/** What the same task change cost before ADR 0030 (the whole model and one render), checked to give the same endpoint lines. */
function fullTaskPath(d: NonNullable<Local['dynamic']>, kind: Kind, snapshot: ScaleInputs['inputs']['snapshot'], desired: ScaleInputs['inputs']['desired'], endpoints: string): number {
  const [m, modelMs] = timed(() => clusterModel({ desired, snapshot }, kind));
  const [r, renderMs] = timed(() => d.render(m));
  if (r.config !== d.written()) throw new Error('a task change changed the main config under dynamic endpoints');
  if (r.endpoints !== endpoints) throw new Error('the fast path pushed other endpoint lines than a full render gives');
  return modelMs + renderMs;
}

async function runCase(kind: Kind, n: number, tmp: string, pair: ReturnType<typeof generateCertPair>): Promise<ScaleRow> {
  const [generated, generateMs] = timed(() => scaleInputs(n, TASK_RUNS));
  // The Swarm as the Engine API lists it (ADR 0047): task changes are timed from the listing the core
  // reads, through its incremental converter. The snapshot is that listing's (the same objects, sorted).
  const listing = dockerListing(generated.inputs.snapshot);
  const converted = toSnapshot(freshListing(listing));
  if (converted.dropped.length > 0) throw new Error(`the bench listing drops objects: ${converted.dropped.slice(0, 3).join('; ')}`);
  // The layout is pinned either way: without proxy.endpoints a hitless cluster is Dynamic (ADR 0039).
  const s: ScaleInputs = { ...generated, inputs: { ...generated.inputs, snapshot: converted.snapshot, desired: withDynamicDefault(generated.inputs.desired, kind, DYNAMIC ? 'Dynamic' : 'Static') } };
  log(`${kind} ${n}: inputs in ${generateMs.toFixed(0)} ms (${s.inputs.mix.services} services); probe routes app-${s.first.index} (first) / app-${s.last.index} (last)`);
  const dir = join(tmp, `${kind}-${n}`);
  mkdirSync(dir, { recursive: true });
  const secretsDir = join(tmp, 'secrets');
  populateSecrets(secretsDir, pair, s.inputs.certSecrets, s.inputs.keySecrets);
  const runs = n <= 1000 ? 5 : n <= 2000 ? 3 : 1;
  const model = clusterModel(s.inputs, kind);
  const modelMs = repeat(runs, () => clusterModel(s.inputs, kind));
  let bytes = 0;
  const renderMs = repeat(runs, () => (bytes = Buffer.byteLength(renderCluster(model).files[0]?.content ?? '')));
  const files = renderCluster(model);
  const [validation, validateMs] = timed(() => validateFiles(files.kind, files.files, { secrets: mountedFiles(model) }));
  if (!validation.ok) throw new Error(`validateFiles rejected the ${kind} ${n} config: ${validation.output.slice(0, 2000)}`);
  const encodeMs = repeat(runs, () => encodeModel(model));
  const coreRss = process.memoryUsage().rss;

  const l = local(kind, dir, secretsDir);
  l.write(model);
  const check = l.proxy.check();
  if (!check.ok) throw new Error(`${kind} rejected the local config: ${check.output.slice(0, 2000)}`);
  const stopBackends = startBackends(dir, s.backendIps);
  try {
    l.proxy.start();
    const up = await firstServed(PORT, s.last.host, (r) => r.status === 200, 120_000);
    if (up === undefined) throw new Error(`${kind} ${n}: ${s.last.host} not served after start`);
    await sleep(500);
    const memBefore = pssBytes(processTree(l.proxy.roots()));
    const rpsFirst = wrkRate(PORT, s.first.host, 3);
    const rpsLast = wrkRate(PORT, s.last.host, 3);
    log(`${kind} ${n}: ${(memBefore / MiB).toFixed(0)} MiB; split first ${rpsFirst.rps.toFixed(0)} req/s, last ${rpsLast.rps.toFixed(0)} req/s`);

    // Task changes: one task added to the last probe route's first service; change k > 1 replaces
    // change k-1's added task with a new one (SCALE_TASK_RUNS of them, one after another).
    // The core's state after its last run (not timed): what a task change starts from.
    // The core's observer (ADR 0047) has converted every listing since it started: here the same listing three times.
    const converter = new SnapshotConverter();
    const first = l.dynamic !== undefined ? incrementalConfig(undefined, { specs: s.inputs.desired, snapshot: converter.convert(freshListing(listing)).snapshot }) : undefined;
    // A running core has been through the fast path on every converged run (no task changed): so has this process, three times.
    let last = first;
    for (let i = 0; i < 3 && last !== undefined; i++) last = incrementalConfig(last.run, { specs: s.inputs.desired, snapshot: converter.convert(freshListing(listing)).snapshot });
    if (l.dynamic !== undefined && last !== undefined) await l.dynamic.prime(filesOf(last));
    const sampler = memorySampler(l.proxy);
    const taskRuns: TaskRun[] = [];
    let dynamic = false;
    for (let k = 1; k <= TASK_RUNS; k++) {
      // The core reads a fresh snapshot every run (new objects, nothing shared with the last one but the cached specs).
      const snapshotK = withAddedTask(s, s.inputs.snapshot, k);
      // The daemon's listing with change k's task (change k-1's gone), read as new objects (not timed: the
      // core has read it when it "sees" the change); the core's part starts with converting it.
      const addedTask = snapshotK.tasks[snapshotK.tasks.length - 1];
      if (addedTask === undefined) throw new Error('no added task');
      const listingK = freshListing(withListedTask(listing, addedTask, undefined, 1_000_000_000 + k));
      collect();
      if (POLL_GAP_MS > 0) await sleep(POLL_GAP_MS);
      const t0 = performance.now();
      const [changed, convertMs] = l.dynamic !== undefined ? timed(() => converter.convert(listingK).snapshot) : [snapshotK, 0];
      const applied = l.dynamic !== undefined && last !== undefined ? await dynamicApply(l.dynamic, last, changed, s.inputs.desired) : undefined;
      dynamic = applied?.reloaded === false;
      const coreOnly = applied ?? (await reloadApply(kind, l, snapshotK, s.inputs.desired));
      const served = await firstServed(PORT, s.last.host, (r) => r.body === taskIp(k), 180_000);
      const servedMs = served === undefined ? NaN : served - t0;
      // Not on the path: the same change through a model build and render (the figure before ADR 0030), checked to give the same lines.
      const coreFullMs = applied !== undefined && l.dynamic !== undefined ? fullTaskPath(l.dynamic, kind, snapshotK, s.inputs.desired, applied.endpoints) : undefined;
      // Not on the path either: the same listing converted from nothing (what every run cost before ADR 0047).
      const coldConvertMs = applied !== undefined ? timed(() => toSnapshot(freshListing(listingK)))[1] : undefined;
      if (applied !== undefined) last = applied.next;
      const p = applied?.pushed;
      const run: TaskRun = {
        servedMs,
        coreMs: coreOnly.coreMs,
        ...(p !== undefined ? { pushMs: p.pushMs, pushed: p.sent, ...(p.deliverMs !== undefined ? { deliverMs: p.deliverMs } : {}), ...(p.messageBytes !== undefined ? { messageBytes: p.messageBytes } : {}), ...(p.receiveMs !== undefined ? { receiveMs: p.receiveMs } : {}) } : {}),
        ...(applied !== undefined ? { agentMs: applied.agentMs } : {}),
        ...(coreFullMs !== undefined ? { coreFullMs } : {}),
        ...(applied !== undefined ? { convertMs } : {}),
        ...(coldConvertMs !== undefined ? { coldConvertMs } : {}),
      };
      taskRuns.push(run);
      const delivery = run.deliverMs !== undefined ? `, delivery ${run.deliverMs.toFixed(0)} ms (${((run.messageBytes ?? 0) / 1024).toFixed(0)} KiB message), agent receive ${(run.receiveMs ?? 0).toFixed(0)} ms` : '';
      log(`${kind} ${n}: task change ${k} served after ${servedMs.toFixed(0)} ms (${run.convertMs !== undefined ? `convert ${run.convertMs.toFixed(0)} ms [from nothing ${(run.coldConvertMs ?? NaN).toFixed(0)}], ` : ''}core ${run.coreMs.toFixed(0)} ms${delivery}${run.pushMs !== undefined ? `, push ${run.pushMs.toFixed(0)} ms: ${run.pushed ?? ''}` : ''}${run.agentMs !== undefined ? `, ${run.agentMs.toFixed(0)} ms from the message to the agent's answer` : ''}${coreFullMs !== undefined ? `; model + render would take ${coreFullMs.toFixed(0)} ms` : ''})`);
    }
    const taskMs = median(taskRuns.map((r) => r.servedMs));
    const taskCoreMs = median(taskRuns.map((r) => r.coreMs));
    const fulls = taskRuns.flatMap((r) => (r.coreFullMs !== undefined ? [r.coreFullMs] : []));
    const pushes = taskRuns.flatMap((r) => (r.pushMs !== undefined ? [r.pushMs] : []));
    const taskCoreFullMs = fulls.length > 0 ? median(fulls) : undefined;
    // Wait for the old workers / old daemon to finish before measuring "after".
    const settleEnd = performance.now() + 60_000;
    const workers = (): number => processTree(l.proxy.roots()).length;
    const steady = kind === 'nginx' ? 3 : 1;
    while (workers() > steady && performance.now() < settleEnd) await sleep(100);
    await sleep(500);
    const memPeak = sampler.stop();
    const memAfter = pssBytes(processTree(l.proxy.roots()));
    log(`${kind} ${n}: task changes served after ${taskMs.toFixed(0)} ms median of ${taskRuns.length}; memory ${(memAfter / MiB).toFixed(0)} MiB after, peak ${(memPeak / MiB).toFixed(0)}`);

    // Weight steps (ADR 0049): the last probe route's split wholly onto green, then blue, … Before a step
    // half the answers come from the target, so WEIGHT_STREAK in a row (2^-20 by chance) means served.
    const weightRuns: WeightRun[] = [];
    if (kind === 'nginx' && l.dynamic !== undefined && last !== undefined) {
      const snapshotW = withAddedTask(s, s.inputs.snapshot, TASK_RUNS);
      let desiredW = s.inputs.desired;
      let from = last;
      for (let k = 1; k <= WEIGHT_RUNS; k++) {
        const toGreen = k % 2 === 1;
        desiredW = withProbeWeights(desiredW, s, toGreen ? 0 : 100, toGreen ? 100 : 0);
        const target = targetIps(snapshotW, s, toGreen);
        const w0 = performance.now();
        const [next, coreMs] = timed(() => incrementalConfig(from.run, { specs: desiredW, snapshot: structuredClone(snapshotW) }));
        if (mainFile(next.output.clusters.find((c) => c.model.cluster === 'default')?.files) !== mainFile(from.output.clusters.find((c) => c.model.cluster === 'default')?.files)) throw new Error('a weight step changed nginx.conf under dynamic endpoints');
        const a0 = performance.now();
        await l.dynamic.push(filesOf(next));
        const agentMs = performance.now() - a0;
        let streak = 0;
        let streakAt = NaN;
        const end = performance.now() + 60_000;
        while (streak < WEIGHT_STREAK && performance.now() < end) {
          const r = await probe(PORT, s.last.host);
          const t = performance.now();
          if (target.has(r.body.trim())) {
            if (streak === 0) streakAt = t;
            streak++;
          } else streak = 0;
        }
        const servedMs = streak >= WEIGHT_STREAK ? streakAt - w0 : NaN;
        weightRuns.push({ servedMs, coreMs, agentMs });
        from = next;
        log(`${kind} ${n}: weight step ${k} (all to ${toGreen ? 'green' : 'blue'}) served after ${servedMs.toFixed(0)} ms (core ${coreMs.toFixed(0)} ms, same nginx.conf; ${agentMs.toFixed(0)} ms to the agent's answer)`);
      }
    }

    // Route changes: each a new route, served once its host answers 200 (SCALE_ROUTE_RUNS of them, one after another).
    const routeRuns: RouteRun[] = [];
    let routes = s.inputs.desired.routes;
    for (let k = 1; k <= ROUTE_RUNS; k++) {
      const r0 = performance.now();
      routes = [...routes, probeRoute(s, k)];
      const desired2 = { ...s.inputs.desired, routes };
      const p = await reloadApply(kind, l, withAddedTask(s, s.inputs.snapshot, TASK_RUNS), desired2);
      const routeServed = await firstServed(PORT, `zz-probe-${k}.example.com`, (r) => r.status === 200, 300_000);
      // Not on the path: the same render without memoised fragments, and the same bytes (checked).
      const m2 = clusterModel({ desired: desired2, snapshot: withAddedTask(s, s.inputs.snapshot, TASK_RUNS) }, kind);
      const memo = mainFile(renderCluster(m2));
      const [whole, renderWholeMs] = timed(() => (kind === 'nginx' ? renderNginxWithEndpoints(m2, dynamicEndpoints(m2) ? { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS } : {}, 'whole').config : mainFile(renderCluster(m2))));
      if (whole !== memo) throw new Error('the memoised render differs from the whole render');
      // Memory after the reload: once the old processes are gone and the allocator had time to purge (ADR 0040).
      while (workers() > steady && performance.now() < settleEnd + 60_000 * k) await sleep(100);
      await sleep(5_000);
      const memAfterMiB = pssBytes(processTree(l.proxy.roots())) / MiB;
      const run: RouteRun = { servedMs: routeServed === undefined ? NaN : routeServed - r0, reloadToServedMs: routeServed === undefined ? NaN : routeServed - p.reloadAt, modelMs: p.modelMs, renderMs: p.renderMs, renderWholeMs, validateMs: p.validateMs, encodeMs: p.encodeMs, checkMs: p.checkMs, memAfterMiB };
      routeRuns.push(run);
      log(`${kind} ${n}: route change ${k} served after ${run.servedMs.toFixed(0)} ms (model ${run.modelMs.toFixed(0)}, render ${run.renderMs.toFixed(0)} [whole ${renderWholeMs.toFixed(0)}], validate ${run.validateMs.toFixed(0)}, encode ${run.encodeMs.toFixed(0)}, agent check ${run.checkMs.toFixed(0)}, reload → served ${run.reloadToServedMs.toFixed(0)}; memory after ${memAfterMiB.toFixed(0)} MiB, before the changes ${(memBefore / MiB).toFixed(0)})`);
    }
    const routeMs = median(routeRuns.map((r) => r.servedMs));

    return {
      kind, routes: n, modelMs, renderMs, validateMs, encodeMs, configBytes: bytes, checkMs: check.ms,
      taskServedMs: taskMs, taskCoreMs, taskRuns, routeRuns, ...(weightRuns.length > 0 ? { weightRuns } : {}), ...(taskCoreFullMs !== undefined ? { taskCoreFullMs } : {}), ...(pushes.length > 0 ? { taskPushMs: median(pushes) } : {}), reloadsForTask: dynamic ? 0 : taskRuns.length, routeServedMs: routeMs,
      memBeforeMiB: memBefore / MiB, memPeakMiB: memPeak / MiB, memAfterMiB: memAfter / MiB, coreRssMiB: coreRss / MiB,
      rpsFirst: rpsFirst.rps, rpsLast: rpsLast.rps, wrkErrors: rpsFirst.errors + rpsLast.errors,
    };
  } finally {
    l.proxy.stop();
    stopBackends();
    await sleep(300);
  }
}

async function main(): Promise<void> {
  const started = new Date();
  const tmp = mkdtempSync(join(tmpdir(), 'swarmgate-scale-'));
  const rows: ScaleRow[] = [];
  try {
    const pair = generateCertPair(join(tmp, 'pki'));
    // Written after every case too: a case that fails later does not lose the ones before it.
    for (const kind of KINDS) for (const n of SIZES) {
      rows.push(await runCase(kind, n, tmp, pair));
      writeReport(started, rows);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
    await worker?.terminate();
  }
  const report = writeReport(started, rows);
  process.stdout.write(`\nswarmgate bench-scale (${report.mode})\n\n${formatScaleTable(rows)}\n\nResults: bench/results/scale-${LABEL}.json\n`);
}

function writeReport(started: Date, rows: readonly ScaleRow[]): { mode: string } {
  const report = {
    schema: 1,
    label: LABEL,
    mode: DYNAMIC ? 'dynamic endpoints (NGINX Lua balancer, HAProxy server slots): a task change is a push, no reload' : 'reload per change',
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo(undefined, undefined),
    loadAverageEnd: loadavg(),
    pollGapMs: POLL_GAP_MS,
    notes: [
      'model, render, encode: median of 5 runs (N ≤ 1k), 3 (2k), 1 (5k, 10k); validate: one validateFiles of the rendered files (the proxy check in a private root; the core renders once and checks those bytes).',
      'check: nginx -t / haproxy -c of the local config, with a certificate file per TLS secret.',
      'route served: from the core seeing the new route to the first 200 from its host; per run its phases: model, render (memoised: the last render\'s server blocks reused, ADR 0034; renderWhole: the same bytes without them, not on the path), validate (the core\'s nginx -t), encode, the agent\'s check (haproxy -c; 0 for NGINX: its reload is the check, ADR 0037), and reload → served; routeServedMs is the median of SCALE_ROUTE_RUNS runs.',
      'task served: from the core seeing the added task to the first response from it (core work + agent check (HAProxy only, ADR 0037) + reload, or the dynamic push). Each change starts after a full collection and pollGapMs of idle time (SCALE_POLL_GAP_MS).',
      'memory: PSS of every process of the local proxy; peak sampled every 50 ms from the change until the old processes exit.',
      'core RSS: this benchmark process after building, rendering, validating and encoding N routes (includes the tsx loader).',
      'req/s: wrk -t1 -c16 for 3 s, backends a local NGINX; noisy on a shared 2-core machine.',
    ],
    rows,
  };
  const dirOut = join(__dirname, 'results');
  mkdirSync(dirOut, { recursive: true });
  writeFileSync(join(dirOut, `scale-${LABEL}.json`), `${JSON.stringify(report, null, 2)}\n`);
  return report;
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});
