/**
 * One reconcile run of the core: read the Swarm and the stored specs, build the model, render and
 * validate each cluster's config, converge the proxy services, and write status. Level-triggered:
 * nothing here depends on what triggered the run, so lost events cannot make it wrong.
 */
import type { Logger } from 'pino';
import type { ControlPlane } from '../api/control-plane';
import { encodeModel } from '../api/model-json';
import { executePlan, type GroupOutcome } from '../apply/execute-plan';
import type { LiveState } from '../observed/live-state';
import { observe, type Observed } from './observe';
import { SnapshotConverter } from '../observed/snapshot-converter';
import { ServedRoutes } from './served-routes';
import { deliveryHash } from '../api/delivery-hash';
import type { ConfigFileData } from '../api/control-plane';
import type { IssuerActor } from './acme/issuer-actor';
import { withIssuerConditions } from './acme/issuer-status';
import { planRun, type ClusterPlanInput } from '../plan/writes/plan-run';
import { PROXY_SERVICE_STEP, readsStoredConfigs, type ProxyPlan } from '../plan/writes/proxy-writes';
import { clusterGroupKey, type Step } from '../plan/writes/steps';
import { agentSink, blockedCount, countWrites, failureCondition, logOutcomes, runError } from './actuation';
import { TerminalFailures } from './terminal-failures';
import { ENDPOINTS_FILE, MAIN_CONFIG_FILE, type RenderedCluster } from '../render/render-cluster';
import { mountedFiles, ValidationCache, type FilesValidator, type ShippedFile } from '../validate/validate-files';
import { proxyServiceName, type AgentEndpoint } from '../plan/proxy-service-spec';
import { agentEndpoint } from '../plan/agent-endpoint';
import { configSizeProblem } from '../plan/config-size';
import { clusterRouteGenerations, revisionIdOf, revisionNumber, rollbackOf, specsFingerprint, withRollback } from '../plan/revisions';
import { CONTENT_ID_LENGTH, contentOfConfigName, type RevisionId } from '../domain/revision-id';
import type { Condition } from '../domain/conditions';
import { incrementalConfig, mainFile, type desiredConfig, type PipelineRun, type RollbackSource } from '../plan/pipeline';
import { storedRollbacks } from '../desired/served-state';
import { Subject, type Observable } from 'rxjs';
import { RolloutDriver, type WebhookCaller } from './rollouts';
import { DesiredStateReader, liftAbandonedSeals, type StoredSpec } from '../desired/spec-store';
import type { DesiredState } from '../plan/inputs';
import { isNotFound, isOutOfSequence } from '../observed/docker-errors';
import type { DockerPort } from '../observed/docker-port';
import type { ProxyModel, Upstream } from '../plan/model';
import type { RunResult } from '../reconcile';
import type { ClusterRuntime } from '../status/cluster-status';
import type { CoreMetrics } from '../status/metrics';
import { writeStatuses } from '../status/write-status';
import { proxyStatuses, runConditions, type CoreRunReport } from './run-conditions';
import { IdentityDesk, taskIps, withIdentities, type IdentityAuthority } from './identities';

export type { CoreRunReport } from './run-conditions';

export interface CoreRunOptions {
  /**
   * Name proxy images by their local image ID. Swarm tries a registry pull at every task start for a
   * tagged image; on a machine without a registry (single-node trials, CI) that pull can only fail.
   */
  readonly localImages?: boolean;
  /** The gRPC control plane: models for extensions, configs for proxy agents, their reports. */
  readonly plane?: ControlPlane;
  /**
   * Where proxy agents reach this core. Without it (a core running outside Swarm), clusters that
   * ask for hitless delivery are delivered rolling, and their status says so.
   */
  readonly agents?: { readonly coreAddress: string; readonly controlNetwork: string; readonly insecure: boolean; readonly tlsSet?: string; readonly previousTlsSet?: string };
  readonly metrics?: CoreMetrics;
  /** Wait for each cluster's extension (SubmitConfig) instead of rendering in the core. Needs `plane`. */
  readonly externalExtension?: boolean;
  /**
   * Run one extension service per cluster with this image (needs `agents`, whose address and TLS
   * set the extensions use too). Implies waiting for their submissions.
   */
  readonly extensionImage?: string;
  /** How rollout webhooks are called (tests); default: HTTP POST with the hook's timeout. */
  readonly webhookCaller?: WebhookCaller;
  /** Swarm's limit on one config's data (tests lower it): larger configs are stored compressed and in parts, or refused for NGINX rolling delivery; default MAX_SWARM_CONFIG_BYTES. */
  readonly maxConfigBytes?: number;
  /** How the exact files that ship are checked (tests record them); default validateFiles in a private root. */
  readonly validate?: FilesValidator;
  /** The CA the core issues components' identities with (ADR 0012); without it (no TLS, or a core outside Swarm) none are issued. */
  readonly identities?: IdentityAuthority;
  /** The ACME issuer (ADR 0013): certificates for routes with tls.certificate.issuer. Absent: they wait. */
  readonly issuer?: IssuerActor;
}

/** A cluster's part of the pipeline's output: its files (when rendered here), its rollback, and what to say about it. */
interface ClusterSource {
  readonly files?: RenderedCluster;
  readonly rolledBack?: RollbackSource;
  readonly note?: string;
}

/** One cluster's part of the run: what the plan gets, and the status inputs known before executing. */
interface ClusterIntent {
  readonly input: ClusterPlanInput;
  readonly agent: AgentEndpoint | undefined;
  /** The runtime as it stands before the writes (the service and config the cluster has now). */
  readonly status: ClusterRuntime;
}

/** What the desire phase hands on: the specs as stored, the writes it made, the time, rollouts and rollbacks. */
interface Wanted {
  readonly specs: DesiredState;
  readonly stored: Map<string, StoredSpec>;
  readonly writes: number;
  readonly now: number;
  readonly rollouts: ReturnType<RolloutDriver['advance']>;
  readonly rollbacks: Awaited<ReturnType<typeof storedRollbacks>>;
}

/** A status write that lost a race is retried this soon (the racing write's own event usually comes first). */
const RACED_RETRY_MS = 250;

export class CoreRun {
  private readonly reader: DesiredStateReader;
  /** Validation results by the exact files checked: the same config is never validated twice (bounded). */
  private readonly validation: ValidationCache;
  lastReport: CoreRunReport = { writes: 0, clusters: [] };
  private runLog: Logger;
  private readonly rollouts: RolloutDriver;
  /** Each run's listings converted incrementally: what did not change keeps its snapshot objects (ADR 0047). */
  private readonly converter = new SnapshotConverter();
  /** The last pipeline run: a run where only tasks changed recomputes servers from it (ADR 0030). */
  private lastPipeline: PipelineRun | undefined;
  /**
   * Each model's hash, by model object: the pipeline hands back the same object while its inputs are
   * unchanged. Not its JSON: watchers get it encoded when they are sent it (ADR 0044).
   */
  private readonly modelHashes = new WeakMap<ProxyModel, string>();
  /** Upstreams of each cluster's model in the previous run: where a backend's traffic was counted. */
  private lastUpstreams = new Map<string, readonly Upstream[]>();
  private readonly wake = new Subject<number>();
  /** What each proxy replica serves (route generations), for route status. */
  private readonly served = new ServedRoutes();
  /** This run's ACME certificate files per cluster, handed to the agents with the config (never in the Plan). */
  private readonly certificates = new Map<string, readonly ConfigFileData[]>();
  /**
   * Per cluster, the main file's text and its bytes as last delivered: a task change keeps the text
   * (ADR 0030), and the same Buffer lets each agent stream see "unchanged" without comparing
   * megabytes, and spares a copy of them per run (ADR 0042).
   */
  private readonly mainBytes = new Map<string, { readonly text: string; readonly bytes: Buffer }>();

  private bytesOfMain(cluster: string, text: string): Buffer {
    const last = this.mainBytes.get(cluster);
    if (last?.text === text) return last.bytes;
    const bytes = Buffer.from(text);
    this.mainBytes.set(cluster, { text, bytes });
    return bytes;
  }
  /** Writes Docker rejected for good, not sent again until their inputs change. */
  private readonly terminal = new TerminalFailures();
  /** The identity pairs this process can hand agents over their stream (ADR 0019). */
  private readonly desk: IdentityDesk | undefined;
  /**
   * When a run is needed without any Docker change (epoch ms): a rollout's next pause end or analysis
   * interval, or webhook answers that arrived. The core's loop turns these into triggers.
   */
  readonly wakeAt$: Observable<number> = this.wake.asObservable();

  constructor(
    private readonly port: DockerPort,
    private readonly log: Logger,
    private readonly options: CoreRunOptions = {},
    private readonly now: () => Date = () => new Date(),
  ) {
    this.reader = new DesiredStateReader(port);
    this.validation = new ValidationCache(options.validate);
    this.runLog = log;
    this.rollouts = new RolloutDriver(log, options.plane?.traffic, () => this.wake.next(this.now().getTime()), options.webhookCaller, options.metrics);
    const { identities: authority, plane } = options;
    if (authority !== undefined && plane !== undefined) {
      const desk = new IdentityDesk(authority, plane, log);
      plane.setIdentityProvider((role, cluster, fingerprint) => desk.forPeer(role, cluster, fingerprint));
      this.desk = desk;
    }
  }

  /**
   * One run, as its phases: observe → desire → build (pure pipeline: model, conditions, files) →
   * validate (per cluster, the exact bytes) → plan (pure) → execute (per cluster) → status. Each phase
   * returns data; the status phase runs whatever failed before it.
   */
  async run(seq: number): Promise<RunResult> {
    // Every line a run logs carries its run id (seq), also the ones from helpers below.
    this.runLog = this.log.child({ seq });
    const observed = await observe(this.port, this.runLog, this.converter);
    const wanted = await this.desire(observed);
    const built = this.build(observed, wanted);
    const withIdentities = await this.identities(observed, built);
    const intents = await this.validated(withIdentities, wanted, built);
    const { plan, proxies } = planRun(intents.map((i) => i.input), observed.live, this.options.issuer?.fingerprints());
    const outcomes = await this.execute(plan);
    for (const c of built.clusters) if (c.files !== undefined || c.rolledBack !== undefined) this.publishModel(c.model);
    const runtimes = intents.map((intent) => this.runtimeOf(intent, proxies.get(intent.input.model.cluster), outcomes.find((g) => g.key === clusterGroupKey(intent.input.model.cluster)), observed.live));
    const status = await this.status(observed, wanted, built, runtimes);
    const writes = wanted.writes + countWrites(outcomes) + status.writes;
    this.lastReport = { writes, clusters: status.report };
    // Status is written and published whatever failed: now the loop hears about the failures.
    const failure = runError(outcomes);
    if (failure !== undefined) throw failure;
    const blocked = blockedCount(outcomes);
    const held = blocked > 0 ? `; ${blocked} write${blocked === 1 ? '' : 's'} held back (Docker rejected ${blocked === 1 ? 'it' : 'them'} before; see the clusters' status)` : '';
    return { result: writes > 0 ? 'applied' : 'unchanged', reason: `${writes > 0 ? `${writes} write${writes === 1 ? '' : 's'}` : 'converged'}${held}` };
  }

  /** desire: the stored specs (abandoned seals lifted, ended rollbacks cleared), rollouts advanced, rollbacks read. */
  private async desire({ live }: Observed): Promise<Wanted> {
    const read = await this.reader.read();
    const specs = read.desired;
    // An apply that died between sealing generation n and storing n+1 must not freeze the object.
    const { stored, lifted } = await liftAbandonedSeals(this.port, read.stored, this.now());
    if (lifted.length > 0) this.runLog.warn({ objects: lifted }, 'lifted the seal of an apply that stopped before storing its generation');
    const writes = lifted.length + (await this.endStaleRollbacks(specs, stored));
    const now = this.now().getTime();
    const rollouts = this.rollouts.advance(specs, stored, live.services, (c) => this.lastUpstreams.get(c), now);
    const rollbacks = await storedRollbacks(this.port, stored, live.proxyConfigs);
    for (const m of rollbacks.missing) this.runLog.warn({ cluster: m.cluster, revision: m.revision }, 'rollback revision not found; delivering the current specs');
    return { specs, stored, writes, now, rollouts, rollbacks };
  }

  /** build: the one pure pipeline every consumer uses (src/plan/pipeline.ts): rollout weights, label routes, model, files. */
  private build({ snapshot, live }: Observed, w: Wanted): ReturnType<typeof desiredConfig> {
    const externalRender = (this.options.externalExtension === true || this.options.extensionImage !== undefined) && this.options.plane !== undefined;
    const issuer = this.options.issuer;
    // Without agents hitless delivery falls back to rolling: a cluster without proxy.endpoints renders Static then (ADR 0039).
    const inputs = { specs: w.specs, snapshot, now: new Date(w.now), rollouts: { weights: w.rollouts.weights }, rollbacks: w.rollbacks.sources, render: !externalRender, agents: typeof this.endpoint(live) !== 'string', ...(issuer !== undefined ? { acme: issuer.certificates() } : {}) };
    const started = performance.now();
    const { output: built, run, path } = incrementalConfig(this.lastPipeline, inputs);
    this.lastPipeline = run;
    const ms = Math.round(performance.now() - started);
    if (path.kind === 'tasks') this.runLog.info({ upstreams: path.upstreams, rendered: path.rendered, ms }, 'only tasks changed: servers recomputed, no model build');
    else this.runLog.debug({ reason: path.reason, ms }, 'model built');
    this.lastUpstreams = new Map(built.result.clusters.map((m) => [m.cluster, m.upstreams]));
    return issuer === undefined ? built : withIssuerConditions(built, issuer);
  }

  /** identities: each cluster's components get their own certificate before the plan mounts it (src/core/identities.ts). */
  private async identities(observed: Observed, built: ReturnType<typeof desiredConfig>): Promise<Observed> {
    const { identities: authority, plane, extensionImage } = this.options;
    if (authority === undefined || plane === undefined) return observed;
    return withIdentities(this.port, authority, plane, observed, built.clusters.map((c) => c.model), extensionImage !== undefined, this.runLog, this.desk);
  }

  /** validate: per cluster, the config that would ship (rendered here, submitted, or rolled back), checked byte for byte. */
  private async validated({ live }: Observed, w: Wanted, built: ReturnType<typeof desiredConfig>): Promise<ClusterIntent[]> {
    const intents: ClusterIntent[] = [];
    for (const { model, files, rolledBack: rollback } of built.clusters) {
      // An extension renders from the published model, so it goes out first; a model the core renders
      // itself is published after delivery (see run): encoding 10k routes takes about as long as rendering them.
      const modelHash = files === undefined && rollback === undefined ? this.publishModel(model) : '';
      const missing = w.rollbacks.missing.find((m) => m.cluster === model.cluster);
      const note =
        rollback !== undefined
          ? `rolled back to ${revisionIdOf(rollback.revision)} until the next apply`
          : missing !== undefined
            ? `rollback to rev ${missing.revision} impossible: its config is gone; delivering the current specs`
            : undefined;
      const source: ClusterSource = { ...(files !== undefined ? { files } : {}), ...(rollback !== undefined ? { rolledBack: rollback } : {}), ...(note !== undefined ? { note } : {}) };
      intents.push(await this.intentFor(model, modelHash, live, source, w.rollouts.urgentClusters.has(model.cluster)));
    }
    return intents;
  }

  /** Publish a cluster's model to gRPC watchers (extensions); returns its hash. Hashed once per model object (a run where nothing changed reuses it). */
  private publishModel(model: ProxyModel): string {
    let hash = this.modelHashes.get(model);
    if (hash === undefined) {
      hash = encodeModel(model).hash;
      this.modelHashes.set(model, hash);
    }
    this.options.plane?.publishModel(model.cluster, hash, () => encodeModel(model).json);
    return hash;
  }

  /** execute: the plan's writes, group by group (one per cluster); a failed group ends alone. */
  private async execute(plan: ReturnType<typeof planRun>['plan']): Promise<GroupOutcome[]> {
    const plane = this.options.plane;
    const outcomes = await executePlan(plan, { docker: this.port, ...(plane !== undefined ? { agents: agentSink(plane, (c) => this.certificates.get(c) ?? []) } : {}) }, this.terminal.blocked);
    this.terminal.update(outcomes);
    logOutcomes(this.runLog, outcomes);
    return outcomes;
  }

  /** status: conditions written on the stored specs, published to gRPC watchers and metrics; the writes made and the per-cluster report. */
  private async status({ live }: Observed, w: Wanted, built: ReturnType<typeof desiredConfig>, runtimes: readonly ClusterRuntime[]): Promise<{ writes: number; report: CoreRunReport['clusters'] }> {
    /** Clusters serving an old revision: routes not in it are Programmed=False, RolledBack. */
    const rolledBack = new Map(built.clusters.flatMap((c) => (c.rolledBack !== undefined ? [[c.model.cluster, c.rolledBack.revision] as const] : [])));
    const traffic = this.options.plane?.traffic;
    const at = this.now();
    const recent = traffic !== undefined ? { recent: (c: string, u: string) => traffic.recent(c, u, at.getTime()), at: at.toISOString() } : undefined;
    const { conditions, labelConditions, report, backends } = runConditions(built.result, w.rollouts.conditions, built.desired, runtimes, live.tasks, rolledBack, this.options.metrics, recent);
    const status = await writeStatuses(this.port, w.stored, conditions, at.toISOString(), proxyStatuses(runtimes, live.tasks, (hash) => this.served.idOf(hash)), w.rollouts.labels, backends);
    if (status.raced.length + status.sealed.length > 0)
      this.runLog.info({ raced: status.raced, sealed: status.sealed }, 'status not written: another writer changed the object (an apply, a delete or a rollout command); the next run writes it');
    // A lost status race is retried soon on a fresh read (its rollout state and command are then read from where they are now).
    const wakeAt = Math.min(w.rollouts.nextWakeAt ?? Infinity, status.raced.length > 0 ? w.now + RACED_RETRY_MS : Infinity);
    if (Number.isFinite(wakeAt) && wakeAt > w.now) this.wake.next(wakeAt);
    const everything = { ...labelConditions, ...conditions };
    this.publish(built.result.clusters.map((m) => m.cluster), runtimes, live.tasks, everything);
    this.options.metrics?.recordConditions(everything);
    return { writes: status.writes, report };
  }

  /**
   * A rollback ends once the cluster's stored route generations differ from when it was requested
   * (an apply or delete of one of its routes); the core then clears it from the cluster's spec
   * config. Applying a changed ServiceCluster needs nothing: its new config has no rollback label.
   */
  private async endStaleRollbacks(specs: DesiredState, stored: Map<string, StoredSpec>): Promise<number> {
    let writes = 0;
    for (const [key, s] of stored) {
      if (s.kind !== 'ServiceCluster') continue;
      const request = rollbackOf(s.config);
      if (request === undefined || request.specs === specsFingerprint(clusterRouteGenerations(specs, s.name))) continue;
      // Being replaced by an apply: its new generation has no rollback label anyway.
      if (s.sealed !== undefined) continue;
      const labels = s.config.Spec.Labels ?? {};
      try {
        await this.port.updateConfigLabels(s.config.ID, s.config.Version.Index, { ...s.config.Spec, Labels: withRollback(labels, undefined) });
      } catch (e) {
        // Another writer came first (an apply, a delete, a rollback command): the next run decides again on a fresh read.
        if (!(isOutOfSequence(e) || isNotFound(e))) throw e;
        stored.delete(key);
        continue;
      }
      writes++;
      this.runLog.info({ cluster: s.name, revision: request.revision }, 'a route of the cluster was applied: rollback ended');
      // Status is written on the same config later in this run: carry its new version.
      stored.set(key, { ...s, config: await this.port.inspectConfig(s.config.ID) });
    }
    return writes;
  }

  /**
   * The cluster's config: rendered here (embedded extension), or what the extension service
   * submitted for exactly this model (undefined until it has). A submission that failed its
   * validation carries the validator's output.
   */
  private renderedFor(model: ProxyModel, modelHash: string, rendered: RenderedCluster | undefined): RenderedSource | undefined {
    const plane = this.options.plane;
    const mainName = MAIN_CONFIG_FILE[model.spec.proxy.kind];
    // Rendered in this core (embedded extension): the pipeline's files.
    if (rendered !== undefined || plane === undefined) return { rendered: mainFile(rendered), extraFiles: extraFilesOf(rendered) };
    const sub = plane.submission(model.cluster, modelHash);
    if (sub === undefined) return undefined;
    const main = sub.proxyKind === model.spec.proxy.kind ? sub.files.find((f) => f.path === mainName) : undefined;
    if (!sub.validation.ok || main === undefined) return { rendered: main?.content.toString() ?? '', extraFiles: [], invalid: sub.validation.output || `the extension submitted no ${mainName} for a ${model.spec.proxy.kind} cluster` };
    return { rendered: main.content.toString(), extraFiles: sub.files.filter((f) => f.path !== mainName) };
  }

  /** nginx -t / haproxy -c on the files that ship, once per distinct config; returns the failure output, or undefined when valid. */
  private validate(model: ProxyModel, files: readonly ShippedFile[]): string | undefined {
    const { validation: v, fresh } = this.validation.check(model.spec.proxy.kind, files, mountedFiles(model));
    if (fresh && !v.ok) this.runLog.warn({ cluster: model.cluster, validator: v.output }, 'configuration failed validation; keeping the last good one');
    if (fresh && v.skipped !== undefined) this.runLog.warn({ cluster: model.cluster, reason: v.skipped }, 'configuration not validated by the core');
    return v.ok ? undefined : v.output || 'the configuration failed validation';
  }

  /** How components reach this core (address, control network, TLS set), if they can. */
  private endpoint(live: LiveState): AgentEndpoint | string {
    const a = this.options.agents;
    if (a === undefined || this.options.plane === undefined) return 'the core has no address components can reach: start it with --advertise';
    return agentEndpoint(a, live);
  }

  /** Hitless delivery when the cluster asks for it and agents can reach this core. */
  private agentFor(model: ProxyModel, live: LiveState): { agent?: AgentEndpoint; note?: string } {
    if (model.spec.proxy.delivery !== 'hitless') return {};
    const e = this.endpoint(live);
    return typeof e === 'string' ? { note: `hitless delivery unavailable (${e}); delivering rolling, with Static endpoints` } : { agent: e };
  }

  /** What the agents were handed (after this run's delivery) and what each replica reported. */
  private hitlessRuntime(cluster: string, agent: AgentEndpoint | undefined): Pick<ClusterRuntime, 'hitless'> {
    if (agent === undefined || this.options.plane === undefined) return {};
    const delivered = this.options.plane.delivered(cluster)?.configHash ?? '';
    return { hitless: { configHash: delivered, reports: this.options.plane.reportsOf(cluster), connected: this.options.plane.connectedAgents(cluster) } };
  }

  /** Share the run's result with gRPC subscribers and forget replicas that are gone. */
  private publish(clusters: readonly string[], runtimes: readonly ClusterRuntime[], tasks: LiveState['tasks'], conditions: Readonly<Record<string, readonly Condition[]>>): void {
    for (const c of this.mainBytes.keys()) if (!clusters.includes(c)) this.mainBytes.delete(c);
    const plane = this.options.plane;
    if (plane === undefined) return;
    const proxyServices = new Set(runtimes.map((r) => r.serviceId));
    const clusterOfService = new Map(runtimes.flatMap((r) => (r.serviceId !== undefined ? [[r.serviceId, r.model.cluster] as const] : [])));
    const proxyTasks = tasks.filter((t) => clusterOfService.has(t.ServiceID) && t.DesiredState !== 'shutdown');
    plane.setProxyReplicas(new Map(proxyTasks.map((t) => [t.ID, clusterOfService.get(t.ServiceID) ?? ''])), new Map(proxyTasks.map((t) => [t.ID, taskIps(t)])));
    plane.retain(new Set(clusters), new Set(tasks.filter((t) => proxyServices.has(t.ServiceID) && t.DesiredState !== 'shutdown').map((t) => t.ID)));
    plane.publishStatus(
      Object.entries(conditions).map(([key, cs]) => {
        const [kind = '', name = ''] = key.split('/');
        return { kind, name, conditions: cs.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })) };
      }),
    );
  }

  /**
   * What one cluster should run: its extension service (when the core runs them) and, when the
   * cluster has a config that passed its checks, the config to ship; plus what its status needs.
   */
  private async intentFor(model: ProxyModel, modelHash: string, live: LiveState, cluster: ClusterSource, urgent: boolean): Promise<ClusterIntent> {
    const expectedReplicas = expectedProxyReplicas(model);
    const { agent, note: agentNote } = this.agentFor(model, live);
    const existing = live.services.find((s) => s.Spec.Name === proxyServiceName(model.cluster));
    const configName = existing?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;
    const keepLast = { ...(existing !== undefined ? { serviceId: existing.ID } : {}), ...(configName !== undefined ? { configName } : {}) };
    const extension = this.extensionOf(model, live);
    const base = { model, ...(extension !== undefined ? { extension } : {}) };
    const note = [agentNote, cluster.note].filter((n) => n !== undefined).join('; ') || undefined;
    const rollback = cluster.rolledBack;
    const source: RenderedSource | undefined = rollback !== undefined ? { rendered: mainFile(cluster.files), extraFiles: [] } : this.renderedFor(model, modelHash, cluster.files);
    if (source === undefined) return { input: base, agent, status: { model, expectedReplicas, waiting: `waiting for the extension to render model ${modelHash.slice(0, 12)}`, ...keepLast } };
    const rendered = source.rendered;
    // Too large for one Swarm config: stored compressed (and in parts) for tasks whose agent reads it; NGINX rolling tasks cannot (ADR 0029).
    const tooLarge = readsStoredConfigs(model, agent) ? undefined : configSizeProblem(rendered, model.routes.length, this.options.maxConfigBytes);
    if (tooLarge !== undefined) {
      this.runLog.warn({ cluster: model.cluster, bytes: Buffer.byteLength(rendered) }, 'rendered configuration is too large for a Swarm config; keeping the last good one');
      return { input: base, agent, status: { model, invalid: tooLarge, expectedReplicas, ...keepLast } };
    }
    const kind = model.spec.proxy.kind;
    // The main file and what ships beside it (dynamic endpoints' endpoints.txt, ADR 0016): agents get them all.
    const files = [{ path: MAIN_CONFIG_FILE[kind], content: this.bytesOfMain(model.cluster, rendered) }, ...source.extraFiles];
    // The exact files that ship are checked before anything is delivered (to agents or as a Swarm
    // config), an extension's submission too, whatever it reported. A rolled-back revision was
    // validated when it was current.
    // ACME certificates reach proxies only through their agents: a rolling proxy would start on a config naming files it never gets.
    const acmeWithoutAgents = agent === undefined && (model.acme?.files.length ?? 0) > 0 ? `ACME certificates reach the proxies through their agents, but this cluster is delivered rolling (${agentNote ?? 'no agent'}); keeping the last good configuration` : undefined;
    const invalid = source.invalid ?? acmeWithoutAgents ?? (rollback !== undefined ? undefined : this.validate(model, files));
    if (invalid !== undefined) return { input: base, agent, status: { model, invalid, expectedReplicas, ...keepLast } };
    const image = this.options.localImages === true ? await this.port.localImageId(model.spec.proxy.image) : undefined;
    if (this.options.localImages === true && image === undefined) this.runLog.warn({ image: model.spec.proxy.image }, 'proxy image not present locally; Swarm will try to pull it');
    // Hitless: the agents get the validated config (they run nginx -t / haproxy -c themselves too before reloading).
    const plane = this.options.plane;
    const delivered = plane?.delivered(model.cluster)?.configHash;
    // ACME certificates travel with the config to this cluster's agents only; the plan sees their hash, never their bytes.
    const certificates = this.options.issuer?.filesFor(model.acme?.files) ?? [];
    this.certificates.set(model.cluster, certificates);
    const delivery = agent !== undefined && plane !== undefined ? { proxyKind: kind, files, configHash: deliveryHash(files, certificates), immediate: urgent, ...(delivered !== undefined ? { deliveredHash: delivered } : {}) } : undefined;
    if (delivery !== undefined) this.served.remember(delivery.configHash, rollback !== undefined ? (rollback.revision.routes ?? new Set()) : new Set(model.routes.map((r) => `${r.name}@${r.generation}`)));
    const fingerprints = agent !== undefined && (model.acme?.files.length ?? 0) > 0 ? this.options.issuer?.fingerprints() : undefined;
    // Dynamic endpoints: the set rendered with this config, mounted for a task that boots without the core (ADR 0035).
    const endpointSet = agent !== undefined && rollback === undefined ? source.extraFiles.find((f) => f.path === ENDPOINTS_FILE)?.content.toString() : undefined;
    const proxy = { rendered, rollback: rollback !== undefined, ...(endpointSet !== undefined ? { bootEndpoints: endpointSet } : {}), ...(fingerprints !== undefined ? { acmeFingerprints: fingerprints, now: this.now().getTime() } : {}), ...(this.options.maxConfigBytes !== undefined ? { configLimit: this.options.maxConfigBytes } : {}), ...(image !== undefined ? { image } : {}), ...(agent !== undefined ? { agent } : {}), ...(delivery !== undefined ? { delivery } : {}) };
    return { input: { ...base, proxy }, agent, status: { model, expectedReplicas, ...keepLast, ...(note !== undefined ? { note } : {}) } };
  }

  /** The cluster's status inputs once its writes ran: the service and config it has now, and what failed. */
  private runtimeOf(intent: ClusterIntent, proxy: ProxyPlan | undefined, outcome: GroupOutcome | undefined, live: LiveState): ClusterRuntime {
    const { model } = intent.input;
    const failed = outcome?.failed !== undefined ? failureCondition(outcome.failed) : undefined;
    const ok = (op: Step['op']) => outcome?.outcomes.some((o) => o.result === 'ok' && o.step.op === op && (o.step.op !== 'createService' && o.step.op !== 'updateService' ? true : o.step.role === 'proxy')) === true;
    const serviceId = proxy?.serviceId ?? outcome?.created.get(PROXY_SERVICE_STEP) ?? intent.status.serviceId;
    if (ok('createService') || ok('updateService')) this.options.metrics?.proxyUpdates.inc({ cluster: model.cluster, delivery: intent.agent !== undefined ? 'hitless' : 'rolling' });
    if (outcome?.outcomes.some((o) => o.result === 'ok' && o.step.op === 'deliver') === true) this.options.metrics?.proxyUpdates.inc({ cluster: model.cluster, delivery: 'hitless' });
    const revisionId = this.revisionIdOf(intent, proxy, failed === undefined, live);
    return {
      ...intent.status,
      ...(serviceId !== undefined ? { serviceId } : {}),
      // A failed cluster keeps what it mounts; a converged one mounts what the plan said.
      ...(proxy !== undefined && failed === undefined ? { configName: proxy.configName } : {}),
      ...(failed !== undefined ? { failed } : {}),
      ...(revisionId !== undefined ? { revisionId } : {}),
      ...this.hitlessRuntime(model.cluster, intent.agent),
      servedRoutes: this.served.of(intent.agent !== undefined ? this.options.plane : undefined, serviceId, live),
    };
  }

  /**
   * The cluster's current config as users see it (rev N and content hash): the one this run planned,
   * named for the agents' files hash too (they report that); else what the agents were last handed or
   * the service mounts.
   */
  private revisionIdOf(intent: ClusterIntent, proxy: ProxyPlan | undefined, converged: boolean, live: LiveState): RevisionId | undefined {
    const cluster = intent.input.model.cluster;
    if (proxy !== undefined && converged) {
      const id = { ...(proxy.revision !== undefined ? { revision: proxy.revision } : {}), content: proxy.configHash.slice(0, CONTENT_ID_LENGTH) };
      const delivered = intent.input.proxy?.delivery?.configHash;
      if (delivered !== undefined) this.served.name(delivered, id);
      return id;
    }
    const delivered = intent.agent !== undefined ? this.options.plane?.delivered(cluster)?.configHash : undefined;
    if (delivered !== undefined) return this.served.idOf(delivered);
    const name = intent.status.configName;
    const content = name === undefined ? undefined : contentOfConfigName(name);
    if (content === undefined) return undefined;
    const revision = revisionNumber(live.proxyConfigs.find((c) => c.Spec.Name === name) ?? { ID: '', Version: { Index: 0 }, Spec: { Name: '' } });
    return { ...(revision !== undefined ? { revision } : {}), content };
  }

  /** The cluster's extension service, when the core runs them (extensionImage). */
  private extensionOf(model: ProxyModel, live: LiveState): ClusterPlanInput['extension'] {
    const image = this.options.extensionImage;
    if (image === undefined) return undefined;
    const endpoint = this.endpoint(live);
    if (typeof endpoint === 'string') {
      this.runLog.warn({ cluster: model.cluster }, 'extension services need the core\'s agent address (--advertise) and control network');
      return undefined;
    }
    return { image, endpoint };
  }
}

/**
 * A cluster's rendered config as the core ships it: the main file's text (also the Swarm boot
 * config) and the files delivered beside it to agents only (dynamic endpoints' endpoints.txt).
 */
interface RenderedSource {
  readonly rendered: string;
  readonly extraFiles: readonly ConfigFileData[];
  readonly invalid?: string;
}

/** The files of a rendered cluster other than its main file, as delivered. */
function extraFilesOf(rendered: RenderedCluster | undefined): readonly ConfigFileData[] {
  return (rendered?.files ?? []).filter((f) => f.path !== rendered?.main).map((f) => ({ path: f.path, content: Buffer.from(f.content) }));
}

/**
 * The replicas the proxy service asks Swarm for. Not capped at the active node count in host mode:
 * the service still requests every replica (MaxReplicas 1 per node leaves the rest pending with "no
 * suitable node"), and a node may not even match the constraints, so a cap made Ready True with 1 of 3.
 */
export function expectedProxyReplicas(model: ProxyModel): number {
  return model.spec.proxy.replicas;
}
