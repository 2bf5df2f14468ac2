/**
 * The Plan the core would make for a set of rendered models, planned the way the installed core
 * plans (its advertise address, control network, TLS set, extension image and local-images mode are
 * read back from its service spec): what `swarmgate diff` prints after the config diffs.
 */
import type { DockerPort } from '../../observed/docker-port';
import type { LiveState } from '../../observed/live-state';
import { agentEndpoint } from '../../plan/agent-endpoint';
import { configFilesHash } from '../../plan/config-files-hash';
import { coreSettingsOf } from '../../plan/core-service-spec';
import type { ProxyModel } from '../../plan/model';
import { planRun, type ClusterPlanInput } from '../../plan/writes/plan-run';
import type { Plan } from '../../plan/writes/steps';

export interface RenderedCluster {
  readonly model: ProxyModel;
  /** The main config file's path and content. */
  readonly file: string;
  readonly content: string;
  /** Dynamic endpoints: the endpoint set rendered with it, which a new or updated proxy service mounts for booting (ADR 0035). */
  readonly endpoints?: string;
}

/** Where the installed core's components reach it, or why they cannot (then hitless falls back to rolling). */
export function installedAgentEndpoint(live: LiveState): ReturnType<typeof agentEndpoint> {
  const settings = coreSettingsOf(live.services);
  return settings?.advertise !== undefined && settings.controlNetwork !== undefined
    ? agentEndpoint({ coreAddress: settings.advertise, controlNetwork: settings.controlNetwork, ...(settings.tlsSet !== undefined ? { tlsSet: settings.tlsSet } : {}), ...(settings.previousTlsSet !== undefined ? { previousTlsSet: settings.previousTlsSet } : {}) }, live)
    : 'no core with an address components reach is installed';
}

/** `now`: what the proxies are handed today, per cluster (hitless agents get a config only when it changes). */
export async function corePlan(port: DockerPort, clusters: readonly RenderedCluster[], now: ReadonlyMap<string, RenderedCluster>, live: LiveState): Promise<Plan> {
  const settings = coreSettingsOf(live.services);
  const endpoint = installedAgentEndpoint(live);
  const reachable = typeof endpoint === 'string' ? undefined : endpoint;
  const inputs: ClusterPlanInput[] = [];
  for (const c of clusters) {
    const agent = c.model.spec.proxy.delivery === 'hitless' ? reachable : undefined;
    const image = settings?.localImages === true ? await port.localImageId(c.model.spec.proxy.image) : undefined;
    const files = [{ path: c.file, content: Buffer.from(c.content) }];
    const before = now.get(c.model.cluster);
    const delivery =
      agent !== undefined
        ? { proxyKind: c.model.spec.proxy.kind, files, configHash: configFilesHash(files), immediate: false, ...(before !== undefined ? { deliveredHash: configFilesHash([{ path: before.file, content: Buffer.from(before.content) }]) } : {}) }
        : undefined;
    inputs.push({
      model: c.model,
      ...(settings?.extensionImage !== undefined && reachable !== undefined ? { extension: { image: settings.extensionImage, endpoint: reachable } } : {}),
      proxy: { rendered: c.content, ...(agent !== undefined && c.endpoints !== undefined ? { bootEndpoints: c.endpoints } : {}), ...(image !== undefined ? { image } : {}), ...(agent !== undefined ? { agent } : {}), ...(delivery !== undefined ? { delivery } : {}) },
    });
  }
  return planRun(inputs, live).plan;
}
