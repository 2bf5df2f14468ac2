/** The proxy replicas of a cluster and the config each serves, for `describe` and `get sc -o wide` (see ../proxy-serving.ts). */
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import { effectiveEndpoints, type ServiceClusterSpec } from '../../domain/service-cluster';
import type { ObjectStatus } from '../../domain/status-label';
import { isServingTask, type DockerPort } from '../../observed/docker-port';
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
 * `describe`: the proxy kind, its delivery and where task addresses live. Without `proxy.endpoints`
 * the spec (and `get -o yaml`, which prints what can be applied again) has no value to show, so the
 * default is named here with why it applies (ADR 0039).
 */
export function proxyModeLine(spec: ServiceClusterSpec): string {
  const p = spec.proxy;
  const endpoints = effectiveEndpoints(p);
  const why = p.endpoints === undefined ? ` (default with ${p.delivery} delivery)` : p.endpoints !== endpoints ? ` (proxy.endpoints: ${p.endpoints} needs hitless delivery)` : '';
  return `Proxy:        ${p.kind}, ${p.delivery} delivery, ${endpoints} endpoints${why}`;
}
