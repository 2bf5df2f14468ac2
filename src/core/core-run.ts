/**
 * One reconcile run of the core: read the Swarm and the stored specs, build the model, render and
 * validate each cluster's config, converge the proxy services, and write status. Level-triggered:
 * nothing here depends on what triggered the run, so lost events cannot make it wrong.
 */
import type { Logger } from 'pino';
import { configFilesHash, type ControlPlane } from '../api/control-plane';
import { encodeModel } from '../api/model-json';
import { convergeProxy, type LiveState } from '../apply/converge-proxy';
import { MAIN_CONFIG_FILE, type RenderedCluster } from '../render/render-cluster';
import { ValidationCache, type FilesValidator, type ShippedFile } from '../validate/validate-files';
import { proxyServiceName, type AgentEndpoint } from '../plan/proxy-service-spec';
import { tlsSets } from '../plan/tls-sets';
import { pruneCertificateVersions } from '../apply/certificate-secrets';
import { convergeExtension } from '../apply/extension-service';
import { configSizeProblem } from '../plan/config-size';
import { clusterRouteGenerations, rollbackOf, specsFingerprint, withRollback, type Revision } from '../plan/revisions';
import type { Condition } from '../domain/conditions';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { desiredConfig, mainFile } from '../plan/pipeline';
import { storedRollbacks } from '../desired/served-state';
import { Subject, type Observable } from 'rxjs';
import { RolloutDriver, type WebhookCaller } from './rollouts';
import { DesiredStateReader, liftAbandonedSeals, type StoredSpec } from '../desired/spec-store';
import type { DesiredState } from '../plan/inputs';
import { isNotFound, isOutOfSequence } from '../observed/docker-errors';
import type { DockerPort } from '../observed/docker-port';
import { toSnapshot } from '../observed/to-snapshot';
import type { ProxyModel, Upstream } from '../plan/model';
import type { RunResult } from '../reconcile';
import type { ClusterRuntime } from '../status/cluster-status';
import type { CoreMetrics } from '../status/metrics';
import { writeStatuses } from '../status/write-status';
import { proxyStatuses, runConditions, type CoreRunReport } from './run-conditions';

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
  readonly agents?: { readonly coreAddress: string; readonly controlNetwork: string; readonly insecure: boolean; readonly tlsSet?: string };
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
  /** Largest rendered config delivered (tests); default Swarm's limit, MAX_SWARM_CONFIG_BYTES. */
  readonly maxConfigBytes?: number;
  /** How the exact files that ship are checked (tests record them); default validateFiles in a private root. */
  readonly validate?: FilesValidator;
}

/** A status write that lost a race is retried this soon (the racing write's own event usually comes first). */
const RACED_RETRY_MS = 250;

export class CoreRun {
  private readonly reader: DesiredStateReader;
  /** Validation result by the hash of the files that ship: the same config is never validated twice. */
  private readonly validation: ValidationCache;
  lastReport: CoreRunReport = { writes: 0, clusters: [] };
  private runLog: Logger;
  private readonly rollouts: RolloutDriver;
  /** Upstreams of each cluster's model in the previous run: where a backend's traffic was counted. */
  private lastUpstreams = new Map<string, readonly Upstream[]>();
  private readonly wake = new Subject<number>();
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
  }

  async run(seq: number): Promise<RunResult> {
    // Every line a run logs carries its run id (seq), also the ones from helpers below.
    this.runLog = this.log.child({ seq });
    const port = this.port;
    const [services, tasks, networks, secrets, nodes, proxyConfigs] = await Promise.all([
      port.listServices(),
      port.listTasks(),
      port.listNetworks(),
      port.listSecrets(),
      port.listNodes(),
      port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`]),
    ]);
    const { snapshot, dropped } = toSnapshot({ services, tasks, networks, secrets, nodes });
    if (dropped.length > 0) {
      // An address that is no IP address is a daemon (or network driver) problem that takes a server out of the
      // proxies: say it at warn level, with the lines; the rest (e.g. a plugin network's driver name) is routine.
      const addresses = dropped.filter((d) => / (address|virtual IP) .* dropped \(/.test(d));
      if (addresses.length > 0) this.runLog.warn({ dropped: addresses.slice(0, 20), count: addresses.length }, 'snapshot dropped addresses that are not IP addresses');
      this.runLog.debug({ dropped: dropped.length, lines: dropped.slice(0, 20) }, 'snapshot dropped objects with names outside the allow-list');
    }
    const read = await this.reader.read();
    const specs = read.desired;
    // An apply that died between sealing generation n and storing n+1 must not freeze the object.
    const { stored, lifted } = await liftAbandonedSeals(port, read.stored, this.now());
    if (lifted.length > 0) this.runLog.warn({ objects: lifted }, 'lifted the seal of an apply that stopped before storing its generation');
    let writes = lifted.length + (await this.endStaleRollbacks(specs, stored));
    const now = this.now().getTime();
    const rollouts = this.rollouts.advance(specs, stored, services, (c) => this.lastUpstreams.get(c), now);
    const rollbacks = await storedRollbacks(port, stored, proxyConfigs);
    for (const m of rollbacks.missing) this.runLog.warn({ cluster: m.cluster, revision: m.revision }, 'rollback revision not found; delivering the current specs');
    // The one pure pipeline every consumer uses (src/plan/pipeline.ts): rollout weights, label routes, model, files.
    const externalRender = (this.options.externalExtension === true || this.options.extensionImage !== undefined) && this.options.plane !== undefined;
    const { desired, result, clusters } = desiredConfig({ specs, snapshot, now: new Date(now), rollouts: { weights: rollouts.weights }, rollbacks: rollbacks.sources, render: !externalRender });
    this.lastUpstreams = new Map(result.clusters.map((m) => [m.cluster, m.upstreams]));
    const live: LiveState = { services, tasks, networks, secrets, nodes, proxyConfigs };
    const runtimes: ClusterRuntime[] = [];
    /** Clusters serving an old revision: routes not in it are Programmed=False, RolledBack. */
    const rolledBack = new Map<string, Revision>();
    for (const { model, files: desiredFiles, rolledBack: rollback } of clusters) {
      const { json, hash: modelHash } = encodeModel(model);
      this.options.plane?.publishModel(model.cluster, modelHash, json);
      const expectedReplicas = expectedProxyReplicas(model);
      const { agent, note: agentNote } = this.agentFor(model, live);
      const existing = services.find((s) => s.Spec.Name === proxyServiceName(model.cluster));
      const configName = existing?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigName;
      const keepLast = { ...(existing !== undefined ? { serviceId: existing.ID } : {}), ...(configName !== undefined ? { configName } : {}) };
      writes += await this.convergeExtensionOf(model, live);
      if (rollback !== undefined) rolledBack.set(model.cluster, rollback.revision);
      const missing = rollbacks.missing.find((m) => m.cluster === model.cluster);
      const rollbackNote =
        rollback !== undefined
          ? `rolled back to revision ${rollback.revision.revision} until the next apply`
          : missing !== undefined
            ? `rollback to revision ${missing.revision} impossible: its config is gone; delivering the current specs`
            : undefined;
      const note = [agentNote, rollbackNote].filter((n) => n !== undefined).join('; ') || undefined;
      const source = rollback !== undefined ? { rendered: mainFile(desiredFiles) } : this.renderedFor(model, modelHash, desiredFiles);
      if (source === undefined) {
        runtimes.push({ model, expectedReplicas, waiting: `waiting for the extension to render model ${modelHash.slice(0, 12)}`, ...keepLast, ...this.hitlessRuntime(model.cluster, agent, undefined) });
        continue;
      }
      const rendered = source.rendered;
      const tooLarge = configSizeProblem(rendered, model.routes.length, this.options.maxConfigBytes);
      if (tooLarge !== undefined) {
        this.runLog.warn({ cluster: model.cluster, bytes: Buffer.byteLength(rendered) }, 'rendered configuration is too large for a Swarm config; keeping the last good one');
        runtimes.push({ model, invalid: tooLarge, expectedReplicas, ...keepLast, ...this.hitlessRuntime(model.cluster, agent, undefined) });
        continue;
      }
      const kind = model.spec.proxy.kind;
      const files = [{ path: MAIN_CONFIG_FILE[kind], content: Buffer.from(rendered) }];
      // The exact files that ship are checked before anything is delivered (to agents or as a Swarm
      // config), an extension's submission too, whatever it reported. A rolled-back revision was
      // validated when it was current.
      const invalid = source.invalid ?? (rollback !== undefined ? undefined : this.validate(model, files));
      if (invalid !== undefined) {
        runtimes.push({ model, invalid, expectedReplicas, ...keepLast, ...this.hitlessRuntime(model.cluster, agent, undefined) });
        continue;
      }
      const sentBefore = this.options.plane?.delivered(model.cluster)?.sequence;
      const delivered = agent !== undefined ? this.options.plane?.deliver(model.cluster, kind, files, rollouts.urgentClusters.has(model.cluster)) : undefined;
      const configHash = agent !== undefined ? (delivered?.configHash ?? configFilesHash(files)) : undefined;
      if (delivered !== undefined && delivered.sequence !== sentBefore) this.options.metrics?.proxyUpdates.inc({ cluster: model.cluster, delivery: 'hitless' });
      const image = this.options.localImages === true ? await port.localImageId(model.spec.proxy.image) : undefined;
      if (this.options.localImages === true && image === undefined) this.runLog.warn({ image: model.spec.proxy.image }, 'proxy image not present locally; Swarm will try to pull it');
      const r = await convergeProxy(port, model, rendered, live, image, agent, { rollback: rollback !== undefined });
      if (r.writes > 0) this.runLog.info({ cluster: model.cluster, config: r.configName, writes: r.writes }, 'proxy converged');
      writes += r.writes;
      if (r.serviceChanged) this.options.metrics?.proxyUpdates.inc({ cluster: model.cluster, delivery: agent !== undefined ? 'hitless' : 'rolling' });
      runtimes.push({ model, serviceId: r.serviceId, configName: r.configName, expectedReplicas, ...(note !== undefined ? { note } : {}), ...this.hitlessRuntime(model.cluster, agent, configHash) });
    }
    writes += await this.removeOrphanProxies(result.clusters.map((m) => m.cluster), services);
    const pruned = await pruneCertificateVersions(port, live);
    if (pruned.length > 0) this.runLog.info({ secrets: pruned }, 'removed certificate versions no task uses any more');
    writes += pruned.length;
    const { conditions, labelConditions, report } = runConditions(result, rollouts.conditions, desired, runtimes, tasks, rolledBack, this.options.metrics);
    const status = await writeStatuses(port, stored, conditions, this.now().toISOString(), proxyStatuses(runtimes, tasks), rollouts.labels);
    writes += status.writes;
    if (status.raced.length + status.sealed.length > 0)
      this.runLog.info({ raced: status.raced, sealed: status.sealed }, 'status not written: another writer changed the object (an apply, a delete or a rollout command); the next run writes it');
    // A lost status race is retried soon on a fresh read (its rollout state and command are then read from where they are now).
    const wakeAt = Math.min(rollouts.nextWakeAt ?? Infinity, status.raced.length > 0 ? now + RACED_RETRY_MS : Infinity);
    if (Number.isFinite(wakeAt) && wakeAt > now) this.wake.next(wakeAt);
    const everything = { ...labelConditions, ...conditions };
    this.publish(result.clusters.map((m) => m.cluster), runtimes, tasks, everything);
    this.options.metrics?.recordConditions(everything);
    this.lastReport = { writes, clusters: report };
    return { result: writes > 0 ? 'applied' : 'unchanged', reason: writes > 0 ? `${writes} write${writes === 1 ? '' : 's'}` : 'converged' };
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
  private renderedFor(model: ProxyModel, modelHash: string, rendered: RenderedCluster | undefined): { rendered: string; invalid?: string } | undefined {
    const plane = this.options.plane;
    const mainName = MAIN_CONFIG_FILE[model.spec.proxy.kind];
    // Rendered in this core (embedded extension): the pipeline's files.
    if (rendered !== undefined || plane === undefined) return { rendered: mainFile(rendered) };
    const sub = plane.submission(model.cluster, modelHash);
    if (sub === undefined) return undefined;
    const main = sub.proxyKind === model.spec.proxy.kind ? sub.files.find((f) => f.path === mainName) : undefined;
    if (!sub.validation.ok || main === undefined) return { rendered: main?.content.toString() ?? '', invalid: sub.validation.output || `the extension submitted no ${mainName} for a ${model.spec.proxy.kind} cluster` };
    return { rendered: main.content.toString() };
  }

  /** nginx -t / haproxy -c on the files that ship, once per distinct config; returns the failure output, or undefined when valid. */
  private validate(model: ProxyModel, files: readonly ShippedFile[]): string | undefined {
    const { validation: v, fresh } = this.validation.check(model.spec.proxy.kind, files, model.secrets);
    if (fresh && !v.ok) this.runLog.warn({ cluster: model.cluster, validator: v.output }, 'configuration failed validation; keeping the last good one');
    if (fresh && v.skipped !== undefined) this.runLog.warn({ cluster: model.cluster, reason: v.skipped }, 'configuration not validated by the core');
    return v.ok ? undefined : v.output || 'the configuration failed validation';
  }

  /** How components reach this core (address, control network, TLS set), if they can. */
  private endpoint(live: LiveState): AgentEndpoint | string {
    const a = this.options.agents;
    if (a === undefined || this.options.plane === undefined) return 'the core has no address components can reach: start it with --advertise';
    const net = live.networks.find((n) => n.Name === a.controlNetwork && n.Scope === 'swarm');
    if (net === undefined) return `control network ${a.controlNetwork} not found`;
    if (a.tlsSet === undefined) return { coreAddress: a.coreAddress, controlNetworkId: net.Id };
    const tls = tlsSets(live.secrets).find((t) => t.id === a.tlsSet);
    if (tls === undefined) return `TLS set ${a.tlsSet} not found among the secrets; run swarmgate install`;
    return { coreAddress: a.coreAddress, controlNetworkId: net.Id, tls };
  }

  /** Hitless delivery when the cluster asks for it and agents can reach this core. */
  private agentFor(model: ProxyModel, live: LiveState): { agent?: AgentEndpoint; note?: string } {
    if (model.spec.proxy.delivery !== 'hitless') return {};
    const e = this.endpoint(live);
    return typeof e === 'string' ? { note: `hitless delivery unavailable (${e}); delivering rolling` } : { agent: e };
  }

  private hitlessRuntime(cluster: string, agent: AgentEndpoint | undefined, configHash: string | undefined): Pick<ClusterRuntime, 'hitless'> {
    if (agent === undefined || this.options.plane === undefined) return {};
    const delivered = configHash ?? this.options.plane.delivered(cluster)?.configHash ?? '';
    return { hitless: { configHash: delivered, reports: this.options.plane.reportsOf(cluster), connected: this.options.plane.connectedAgents(cluster) } };
  }

  /** Share the run's result with gRPC subscribers and forget replicas that are gone. */
  private publish(clusters: readonly string[], runtimes: readonly ClusterRuntime[], tasks: LiveState['tasks'], conditions: Readonly<Record<string, readonly Condition[]>>): void {
    const plane = this.options.plane;
    if (plane === undefined) return;
    const proxyServices = new Set(runtimes.map((r) => r.serviceId));
    plane.retain(new Set(clusters), new Set(tasks.filter((t) => proxyServices.has(t.ServiceID) && t.DesiredState !== 'shutdown').map((t) => t.ID)));
    plane.publishStatus(
      Object.entries(conditions).map(([key, cs]) => {
        const [kind = '', name = ''] = key.split('/');
        return { kind, name, conditions: cs.map((c) => ({ type: c.type, status: c.status, reason: c.reason, message: c.message })) };
      }),
    );
  }

  /** The cluster's extension service, when the core runs them (extensionImage). */
  private async convergeExtensionOf(model: ProxyModel, live: LiveState): Promise<number> {
    const image = this.options.extensionImage;
    if (image === undefined) return 0;
    const endpoint = this.endpoint(live);
    if (typeof endpoint === 'string') {
      this.runLog.warn({ cluster: model.cluster }, 'extension services need the core\'s agent address (--advertise) and control network');
      return 0;
    }
    const writes = await convergeExtension(this.port, model, image, endpoint, live.services);
    if (writes > 0) this.runLog.info({ cluster: model.cluster }, 'extension service converged');
    return writes;
  }

  /** Proxy and extension services of clusters that no longer exist (a deleted ServiceCluster). */
  private async removeOrphanProxies(clusters: readonly string[], services: LiveState['services']): Promise<number> {
    let removed = 0;
    for (const s of services) {
      const l = s.Spec.Labels ?? {};
      if (l[LABELS.owner] !== OWNER_VALUE || (l[LABELS.role] !== 'proxy' && l[LABELS.role] !== 'extension')) continue;
      if (clusters.includes(l[LABELS.cluster] ?? '')) continue;
      await this.port.removeService(s.ID);
      this.runLog.info({ service: s.Spec.Name }, 'removed a service of a deleted service cluster');
      removed++;
    }
    return removed;
  }
}

/**
 * The replicas the proxy service asks Swarm for. Not capped at the active node count in host mode:
 * the service still requests every replica (MaxReplicas 1 per node leaves the rest pending with "no
 * suitable node"), and a node may not even match the constraints, so a cap made Ready True with 1 of 3.
 */
export function expectedProxyReplicas(model: ProxyModel): number {
  return model.spec.proxy.replicas;
}
