/** The proxy replicas of a cluster and the config each serves, for `describe` and `get sc -o wide` (see ../proxy-serving.ts). */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import { effectiveEndpoints, type ServiceClusterSpec } from '../../domain/service-cluster';
import type { ObjectStatus } from '../../domain/status-label';
import { isServingTask, type DockerPort } from '../../observed/docker-port';
import { readLiveState } from '../../observed/live-state';
import { toSnapshot } from '../../observed/to-snapshot';
import { DesiredStateReader } from '../../desired/spec-store';
import { clusterServing, nodeNames, type ClusterServing } from '../proxy-serving';

/** `describe`: the cluster's proxy replicas, each with its node and the config it serves (proxy-serving.ts). */
export async function proxyLines(port: DockerPort, cluster: string, status: ObjectStatus | undefined): Promise<string[]> {
  const proxies = (await port.listServices([`${LABELS.role}=proxy`, `${LABELS.cluster}=${cluster}`]))[0];
  if (proxies === undefined) return [`Proxy replicas: (no proxy service for cluster "${cluster}" yet)`];
  const [tasks, nodes, configs] = await Promise.all([port.listTasks(), port.listNodes(), port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`, `${LABELS.cluster}=${cluster}`])]);
  const serving = clusterServing(proxies, status, tasks.filter((t) => t.ServiceID === proxies.ID && isServingTask(t)), nodeNames(nodes), configs);
  const lines = [`Proxy replicas (${proxies.Spec.Name}, current config ${serving.current}${serving.hitless ? ', hitless' : ''}):`];
  if (serving.replicas.length === 0) lines.push('  (none running)');
  for (const r of serving.replicas) lines.push(`  ${r.replica} on ${r.node} serves ${r.serves}${r.current ? '' : ' (not the current config yet)'}`);
  return lines;
}

/** `get sc -o wide`: what each cluster's proxies serve (the CONFIG column). */
export async function withServing<T extends { readonly name: string; readonly status?: ObjectStatus }>(port: DockerPort, items: readonly T[]): Promise<(T & { serving?: ClusterServing })[]> {
  const [proxies, tasks, nodes, configs] = await Promise.all([
    port.listServices([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy`]),
    port.listTasks(),
    port.listNodes(),
    port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`]),
  ]);
  const hostnames = nodeNames(nodes);
  return items.map((l) => {
    const p = proxies.find((x) => x.Spec.Labels?.[LABELS.cluster] === l.name);
    if (p === undefined) return l;
    const mine = configs.filter((c) => c.Spec.Labels?.[LABELS.cluster] === l.name);
    return { ...l, serving: clusterServing(p, l.status, tasks.filter((t) => t.ServiceID === p.ID && isServingTask(t)), hostnames, mine) };
  });
}

/**
 * `describe`: the proxy kind, its delivery and the endpoints its proxies use, as the installed core
 * renders them (the model's value, ADR 0039: agents that reach the core, backend TLS). Without
 * `proxy.endpoints` the spec (and `get -o yaml`, which prints what can be applied again) has no value
 * to show, so the default is named here with why it applies.
 */
export async function proxyModeLine(port: DockerPort, spec: ServiceClusterSpec, name: string): Promise<string> {
  const p = spec.proxy;
  const live = await readLiveState(port);
  // Loaded here only: the plan and the model (codecs, route compilation) are not needed by `get`.
  const { installedAgentEndpoint } = await import('./diff-plan');
  const agents = typeof installedAgentEndpoint(live) !== 'string';
  const { desiredModel } = await import('../../plan/desired-model');
  const { desired } = await new DesiredStateReader(port).read();
  const model = desiredModel({ specs: desired, snapshot: toSnapshot(live).snapshot, agents }).result.clusters.find((c) => c.cluster === name);
  const inUse = model?.spec.proxy.endpoints ?? effectiveEndpoints(p, agents);
  const why =
    p.delivery === 'hitless' && !agents
      ? ' (proxy agents cannot reach the core: hitless delivery falls back to rolling)'
      : p.endpoints !== undefined && p.endpoints !== inUse
        ? p.delivery === 'hitless'
          ? ` (proxy.endpoints: ${p.endpoints} is not used while a rule of this NGINX cluster has backend TLS)`
          : ` (proxy.endpoints: ${p.endpoints} needs hitless delivery)`
        : p.endpoints !== undefined
          ? ''
          : inUse !== effectiveEndpoints(p, agents)
            ? ' (default; Static while a rule of this NGINX cluster has backend TLS)'
            : p.kind === 'haproxy' && p.delivery === 'hitless'
              ? ' (default on HAProxy: its server slots need file descriptors; set proxy.endpoints: Dynamic to opt in)'
              : ` (default with ${p.delivery} delivery)`;
  return `Proxy:        ${p.kind}, ${p.delivery} delivery, ${inUse} endpoints${why}`;
}
