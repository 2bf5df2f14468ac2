/**
 * The writes that converge one ServiceCluster's proxy: the rendered config as a content-addressed
 * Swarm config (with its revision and route labels), the proxy service created or updated to use
 * it, the agents handed the config (hitless), and old configs pruned. Pure: every decision that
 * convergeProxy used to take while writing is taken here, from the observed inventory.
 */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { LiveState } from '../../observed/live-state';
import type { ProxyModel } from '../model';
import { proxyServiceName, proxyServiceSpec, type AgentEndpoint } from '../proxy-service-spec';
import { keptComponentMounts } from '../identity-secrets';
import { acmeCopyRefreshDue, acmeRoutesOf, keptAcmeCopyMounts, newestAcmeCopyMounts } from '../acme-copies';
import type { ServiceSpec } from '../../observed/docker-port';
import { clusterRevisions, revisionNumber, routesLabels } from '../revisions';
import { sha256Hex } from '../../domain/sha256';
import { revisionIdText } from '../../domain/revision-id';
import { planConfigPrune } from './config-prune';
import { isCurrent, labelledServiceSpec, updateEffect } from './service-labels';
import { configRef, type DeliverStep, type Step } from './steps';
import { MAX_SWARM_CONFIG_BYTES } from '../config-size';
import { encodeStoredConfig, partConfigName, type StoredConfig } from '../stored-config';
import { mountedBootEndpoints, planBootEndpoints } from './boot-endpoints';

export const PROXY_CONFIG_STEP = 'proxy-config';
export const PROXY_SERVICE_STEP = 'proxy-service';
/** The step creating part `k` (2..n) of a config stored in parts (stored-config.ts). */
export const proxyConfigPartStep = (k: number): string => `${PROXY_CONFIG_STEP}-p${k}`;

/** A Swarm config the proxy service mounts: its ID (or a step reference) and name. */
interface Mount {
  readonly id: string;
  readonly name: string;
}

/** `sg-nginx-<cluster>-<hash>` or `sg-haproxy-…`: named after the proxy that reads it (content-addressed by `hash`). */
export function proxyConfigName(cluster: string, hash: string, kind: ProxyModel['spec']['proxy']['kind'] = 'nginx'): string {
  return `sg-${kind}-${cluster}-${hash.slice(0, 12)}`;
}

export interface ProxyPlanInput {
  readonly model: ProxyModel;
  /** The validated text of the cluster's main config file (the bytes that ship). */
  readonly rendered: string;
  readonly live: LiveState;
  /** The image as the service names it (a local image ID in local-images mode); default: the spec's. */
  readonly image?: string;
  /** Set for hitless delivery: agents get the config; the service keeps its boot config when it can. */
  readonly agent?: AgentEndpoint;
  /** Serving an old revision as it is (no renumbering). */
  readonly rollback?: boolean;
  /** What the agents must get (hitless), with the hash of what they were last handed. */
  readonly delivery?: Omit<DeliverStep, 'op' | 'reason' | 'cluster'> & { readonly deliveredHash?: string };
  /** Swarm's limit on one config's data (tests lower it); default MAX_SWARM_CONFIG_BYTES. */
  readonly configLimit?: number;
  /**
   * Hitless with dynamic endpoints: the endpoint set shipped with `rendered` (endpoints.txt), mounted
   * beside the boot config when the service is created or updated anyway (boot-endpoints.ts, ADR 0035).
   */
  readonly bootEndpoints?: string;
  /** Hitless: the SHA-256 fingerprint of each ACME route's current certificate, whose durable copy a new task mounts (ADR 0024). */
  readonly acmeFingerprints?: ReadonlyMap<string, string>;
  /** The run's time (ms since the epoch), for the ACME copy refresh (ADR 0033); absent: mounted copies are kept until an update needed anyway. */
  readonly now?: number;
}

/** Whether the proxy's tasks run the agent, which can read a compressed or split config (NGINX rolling tasks read it as nginx.conf). */
export function readsStoredConfigs(model: ProxyModel, agent: AgentEndpoint | undefined): boolean {
  return agent !== undefined || model.spec.proxy.kind === 'haproxy';
}

/** The configs of parts 2..n of `main` a service mounts, in order (none for a config stored whole). */
function mountedParts(configs: NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Configs']>, main: string): Mount[] {
  const parts: Mount[] = [];
  for (let k = 2; ; k++) {
    const c = configs.find((x) => x.ConfigName === partConfigName(main, k));
    if (c?.ConfigID === undefined) return parts;
    parts.push({ id: c.ConfigID, name: partConfigName(main, k) });
  }
}

export interface ProxyPlan {
  readonly steps: Step[];
  /** The live proxy service, when there is one (else the createService step's result is its ID). */
  readonly serviceId?: string;
  /** The config the service mounts after the plan ran (hitless keeps the mounted boot config). */
  readonly configName: string;
  /** SHA-256 of the rendered text (content address of the config). */
  readonly configHash: string;
  /** The revision number the config has once the plan ran (a rollback: the rolled-back revision's). */
  readonly revision?: number;
}

export function planProxy(input: ProxyPlanInput): ProxyPlan {
  const { model, rendered, live, agent } = input;
  const steps: Step[] = [];
  const hash = sha256Hex(rendered);
  const configName = proxyConfigName(model.cluster, hash, model.spec.proxy.kind);
  const config = live.proxyConfigs.find((c) => c.Spec.Name === configName);
  // Revisions: a new config is previous max + 1; a known config that becomes current again is
  // renumbered (max + 1), so the current config is always the newest revision except during a
  // rollback, which serves an old revision as it is.
  const maxRevision = Math.max(0, ...clusterRevisions(live.proxyConfigs, model.cluster).map((r) => r.revision));
  const routes = routesLabels(model.routes);
  const own = config === undefined ? undefined : revisionNumber(config);
  const revision = config === undefined ? maxRevision + 1 : input.rollback === true ? own : own !== undefined && own === maxRevision ? own : maxRevision + 1;
  const id = revisionIdText({ ...(revision !== undefined ? { revision } : {}), content: hash });
  // Too large for one Swarm config as it is: gzip, and parts when even that is too large (stored-config.ts).
  const limit = input.configLimit ?? MAX_SWARM_CONFIG_BYTES;
  const fits = Buffer.byteLength(rendered) < limit;
  let encoded: StoredConfig | undefined;
  // Compressing a large config costs time: only when a config (or a part of it) is to be created.
  const stored = (): StoredConfig => (encoded ??= encodeStoredConfig(rendered, limit));
  // An existing config says how it was stored (its parts label); one created now, what encoding gives.
  const partCount = fits ? 1 : config !== undefined ? Number(config.Spec.Labels?.[LABELS.parts] ?? '1') : stored().parts.length;
  const partSteps = new Map<number, string>();
  if (config === undefined) {
    steps.push({
      op: 'createConfig',
      id: PROXY_CONFIG_STEP,
      cluster: model.cluster,
      spec: {
        Name: configName,
        Labels: {
          [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'proxy-config', [LABELS.cluster]: model.cluster, [LABELS.specHash]: hash, [LABELS.revision]: String(maxRevision + 1), ...routes,
          ...(!fits ? { [LABELS.encoding]: stored().encoding, [LABELS.parts]: String(partCount) } : {}),
        },
        Data: Buffer.from(fits ? rendered : (stored().parts[0] ?? '')).toString('base64'),
      },
      reason: `the rendered ${model.spec.proxy.kind} config changed: new config ${id}${fits ? '' : ` (${stored().encoding}, ${partCount} part${partCount === 1 ? '' : 's'}: ${Buffer.byteLength(rendered)} bytes do not fit in one Swarm config)`}`,
    });
  } else if (input.rollback !== true) {
    const labels = config.Spec.Labels ?? {};
    if (labels[LABELS.revision] !== String(revision ?? '') || Object.entries(routes).some(([k, v]) => labels[k] !== v)) {
      steps.push({
        op: 'updateConfigLabels',
        cluster: model.cluster,
        configId: config.ID,
        name: configName,
        version: config.Version.Index,
        spec: { ...config.Spec, Labels: { ...labels, [LABELS.revision]: String(revision ?? ''), ...routes } },
        reason: labels[LABELS.revision] !== String(revision ?? '') ? `config becomes current again: rev ${labels[LABELS.revision] ?? '?'} is renumbered ${id}` : `route generations in ${id} changed`,
      });
    }
  }
  // Parts 2..n: created when missing (a new config, or one whose part was removed by hand).
  for (let k = 2; k <= partCount; k++) {
    const partName = partConfigName(configName, k);
    const existingPart = live.proxyConfigs.find((c) => c.Spec.Name === partName);
    if (existingPart !== undefined) {
      partSteps.set(k, existingPart.ID);
      continue;
    }
    const stepId = proxyConfigPartStep(k);
    partSteps.set(k, configRef(stepId));
    steps.push({
      op: 'createConfig',
      id: stepId,
      cluster: model.cluster,
      spec: {
        Name: partName,
        Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'proxy-config', [LABELS.cluster]: model.cluster, [LABELS.partOf]: configName },
        Data: Buffer.from(stored().parts[k - 1] ?? new Uint8Array()).toString('base64'),
      },
      reason: `part ${k} of ${partCount} of config ${id}`,
    });
  }
  const parts: Mount[] = [...partSteps.entries()].map(([k, partId]) => ({ id: partId, name: partConfigName(configName, k) }));
  const name = proxyServiceName(model.cluster);
  const secretIds = new Map(live.secrets.map((s) => [s.Spec.Name, s.ID]));
  const pageConfigIds = new Map((live.pageConfigs ?? []).map((c) => [c.Spec.Name, c.ID]));
  const networkIds = new Map(live.networks.filter((n) => n.Scope === 'swarm').map((n) => [n.Name, n.Id]));
  type Mounts = NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']>;
  const existing = live.services.find((s) => s.Spec.Name === name);
  // ACME durable copies: the newest for a new or updated service, the mounted ones otherwise (a renewal restarts no task).
  const newestCopies = agent !== undefined ? newestAcmeCopyMounts(acmeRoutesOf(model.acme?.files), input.acmeFingerprints ?? new Map(), live.secrets) : [];
  let acmeCopies: Mounts = newestCopies;
  // Dynamic endpoints: the set a task boots with when the core is unreachable, written only with a service write (boot-endpoints.ts).
  const endpoints = agent !== undefined && input.bootEndpoints !== undefined ? planBootEndpoints(model.cluster, input.bootEndpoints, live.proxyConfigs, limit) : undefined;
  let bootEndpoints: Mount | undefined = endpoints === undefined ? undefined : { id: 'existingId' in endpoints ? endpoints.existingId : configRef(endpoints.create.id), name: endpoints.name };
  const build = (mount: Mount & { readonly parts: readonly Mount[] }, keepNetworkIds: readonly string[] = [], joinAllowedNetworks = true, keepTlsMounts?: Mounts) =>
    labelledServiceSpec(
      proxyServiceSpec({
        model,
        serviceName: name,
        config: mount,
        secretIds,
        pageConfigIds,
        networkIds,
        nodes: live.nodes,
        ...(input.image !== undefined ? { image: input.image } : {}),
        ...(agent !== undefined ? { agent, keepNetworkIds, joinAllowedNetworks, acmeCopies, ...(bootEndpoints !== undefined ? { bootEndpoints } : {}), ...(keepTlsMounts !== undefined ? { keepTlsMounts } : {}) } : {}),
      }),
    );
  let spec = build({ id: config?.ID ?? configRef(PROXY_CONFIG_STEP), name: configName, parts });
  let mountedName = configName;
  let kept = false;
  const mounted = existing?.Spec.TaskTemplate.ContainerSpec.Configs?.[0];
  // A mounted ACME copy near its expiry: the service is updated to the newest of everything (ADR 0033).
  const refresh =
    agent !== undefined && existing !== undefined && input.now !== undefined
      ? acmeCopyRefreshDue(acmeRoutesOf(model.acme?.files), input.acmeFingerprints ?? new Map(), existing.Spec.TaskTemplate.ContainerSpec.Secrets ?? [], live.secrets, input.now)
      : undefined;
  if (refresh === undefined && agent !== undefined && existing !== undefined && mounted?.ConfigID !== undefined && mounted.ConfigName !== undefined && live.proxyConfigs.some((c) => c.ID === mounted.ConfigID)) {
    // Hitless: a service update restarts the proxy tasks, so avoid the ones routes alone would cause.
    // Keep the mounted boot config (the agent streams newer ones), and stay on networks no route
    // needs any more (they are left at the next update the service needs anyway).
    const attached = (existing.Spec.TaskTemplate.Networks ?? []).map((n) => n.Target).filter((id) => live.networks.some((n) => n.Id === id));
    // Networks joined up front (allow-list) are added only when the service is updated anyway.
    const m = { id: mounted.ConfigID, name: mounted.ConfigName, parts: mountedParts(existing.Spec.TaskTemplate.ContainerSpec.Configs ?? [], mounted.ConfigName) };
    // After rotate-certs the mounted identity (previous set) stays until the service is updated anyway (ADR 0019).
    const tls = agent.tls !== undefined ? keptComponentMounts(existing.Spec.TaskTemplate.ContainerSpec.Secrets ?? [], live.secrets, [agent.tls.id, ...(agent.previousTlsSet !== undefined ? [agent.previousTlsSet] : [])], 'agent', model.cluster) : undefined;
    // The ACME copies the service mounts stay until it is updated anyway (acme-copies.ts, ADR 0024).
    acmeCopies = keptAcmeCopyMounts(existing.Spec.TaskTemplate.ContainerSpec.Secrets ?? [], live.secrets);
    // So is the boot endpoint set it mounts (none before ADR 0035, or for a Static cluster): never a reason to restart the tasks.
    const currentEndpoints = bootEndpoints;
    const keptEndpoints = mountedBootEndpoints(existing.Spec.TaskTemplate.ContainerSpec.Configs ?? []);
    bootEndpoints = keptEndpoints !== undefined && live.proxyConfigs.some((c) => c.ID === keptEndpoints.id) ? keptEndpoints : undefined;
    const variants = [build(m), build(m, attached), build(m, [], false), build(m, attached, false)];
    if (tls !== undefined) variants.push(build(m, [], true, tls), build(m, attached, true, tls), build(m, [], false, tls), build(m, attached, false, tls));
    acmeCopies = newestCopies;
    bootEndpoints = currentEndpoints;
    for (const keep of variants) {
      if (!isCurrent(existing, keep)) continue;
      spec = keep;
      mountedName = mounted.ConfigName;
      kept = true;
      break;
    }
  }
  // Created only when the service is to mount it (a new or updated service), before the service step.
  if (!kept && endpoints !== undefined && 'create' in endpoints && (existing === undefined || !isCurrent(existing, spec))) steps.push(endpoints.create);
  if (input.delivery !== undefined && input.delivery.deliveredHash !== input.delivery.configHash) {
    const { deliveredHash: _d, ...delivery } = input.delivery;
    steps.push({ op: 'deliver', cluster: model.cluster, ...delivery, reason: input.delivery.deliveredHash === undefined ? `the agents have no config from this core yet: hand them ${id}` : `the agents were handed another config: hand them ${id}` });
  }
  if (existing === undefined) {
    steps.push({ op: 'createService', id: PROXY_SERVICE_STEP, cluster: model.cluster, role: 'proxy', spec, effect: 'starts-tasks', reason: 'the cluster has no proxy service' });
  } else if (!isCurrent(existing, spec)) {
    steps.push({
      op: 'updateService',
      cluster: model.cluster,
      role: 'proxy',
      serviceId: existing.ID,
      version: existing.Version.Index,
      spec,
      effect: updateEffect(existing, spec),
      reason: refresh !== undefined ? `refresh the ACME durable copies: ${refresh}` : mounted?.ConfigName !== mountedName ? `mount config ${mountedName === configName ? id : mountedName} (was ${mounted?.ConfigName ?? 'none'})` : kept ? 'the service spec changed (the boot config stays)' : 'the service spec changed',
    });
  }
  const mountedBySpec = (spec.TaskTemplate.ContainerSpec.Configs ?? []).map((c) => c.ConfigName);
  steps.push(...planConfigPrune(model.cluster, configName, existing?.ID, live, mountedBySpec));
  return { steps, ...(existing !== undefined ? { serviceId: existing.ID } : {}), configName: mountedName, configHash: hash, ...(revision !== undefined ? { revision } : {}) };
}
