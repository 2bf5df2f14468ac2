/**
 * What a Plan does to traffic, per cluster, in words a user acts on before anything is written
 * (`swarmgate diff` and `apply`): a hitless reload, service settings only, or proxy tasks that
 * restart — with why (a new overlay network, a secret mount, published ports, the image, a new
 * config on rolling delivery) and what clients see (stop-first: refused connections while a
 * replica is replaced). Pure: reads the Plan and the observed services and tasks.
 */
import type { LiveState } from '../../observed/live-state';
import type { ServiceInfo, ServiceSpec } from '../../observed/docker-port';
import { proxyServiceName } from '../proxy-service-spec';
import { planSteps, type Plan, type Step } from './steps';

export interface ClusterImpact {
  readonly cluster: string;
  /** True when running proxy tasks restart or stop (clients notice). */
  readonly disruptive: boolean;
  readonly text: string;
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

function added(before: readonly string[], after: readonly string[]): string[] {
  return after.filter((x) => !before.includes(x));
}

/** Why the task template changed, from the old and new service specs. */
export function restartCauses(before: ServiceSpec, after: ServiceSpec, networkName: (idOrName: string) => string): string[] {
  const causes: string[] = [];
  const nets = (s: ServiceSpec) => (s.TaskTemplate.Networks ?? []).map((n) => networkName(n.Target));
  const newNets = added(nets(before), nets(after));
  const goneNets = added(nets(after), nets(before));
  if (newNets.length > 0) causes.push(`new overlay network ${newNets.join(', ')}`);
  if (goneNets.length > 0) causes.push(`leaves network ${goneNets.join(', ')}`);
  const secrets = (s: ServiceSpec) => (s.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretName);
  const newSecrets = added(secrets(before), secrets(after));
  const goneSecrets = added(secrets(after), secrets(before));
  if (newSecrets.length > 0 || goneSecrets.length > 0) causes.push(`secret mounts ${[...newSecrets.map((s) => `+${s}`), ...goneSecrets.map((s) => `-${s}`)].join(' ')}`);
  const ports = (s: ServiceSpec) => (s.EndpointSpec?.Ports ?? []).map((p) => `${p.PublishedPort ?? '-'}:${p.TargetPort}/${p.PublishMode ?? 'ingress'}`).join(',');
  if (ports(before) !== ports(after)) causes.push(`published ports ${ports(before) || 'none'} → ${ports(after) || 'none'}`);
  if (before.TaskTemplate.ContainerSpec.Image !== after.TaskTemplate.ContainerSpec.Image) causes.push('image');
  // Configs after the first are error pages (src/plan/error-pages.ts).
  const pages = (s: ServiceSpec) => (s.TaskTemplate.ContainerSpec.Configs ?? []).slice(1).map((c) => c.ConfigName ?? '');
  const newPages = added(pages(before), pages(after));
  const gonePages = added(pages(after), pages(before));
  if (newPages.length > 0 || gonePages.length > 0) causes.push(`error page mounts ${[...newPages.map((s) => `+${s}`), ...gonePages.map((s) => `-${s}`)].join(' ')}`);
  const mounts = (s: ServiceSpec) => (s.TaskTemplate.ContainerSpec.Mounts ?? []).map((m) => `${m.Type}:${m.Target}`);
  const newMounts = added(mounts(before), mounts(after));
  const goneMounts = added(mounts(after), mounts(before));
  if (newMounts.length > 0 || goneMounts.length > 0) causes.push(`mounts ${[...newMounts.map((s) => `+${s}`), ...goneMounts.map((s) => `-${s}`)].join(' ')}`);
  const configs = (s: ServiceSpec) => (s.TaskTemplate.ContainerSpec.Configs ?? []).map((c) => c.ConfigName).join(',');
  if (causes.length === 0 && configs(before) !== configs(after)) causes.push('a new proxy config (rolling delivery mounts each config in new tasks)');
  if (causes.length === 0) causes.push('task settings (environment, resources, placement or restart policy)');
  return causes;
}

/**
 * How long a node's clients were refused while its proxy task was replaced for a network or port change,
 * measured on the test swarms (README, failure drills: 1 host-mode replica on 1 node, 2.9 s; 2 on 2
 * nodes, 4.2–5.3 s per node). Quoted in the warning so it says what was seen, not a guess.
 */
export const REPLACED_TASK_REFUSED = '3–6 s';

/** What replacing `running` tasks with this update order and parallelism means for clients. */
function restartEffect(spec: ServiceSpec, running: number): string {
  const order = spec.UpdateConfig?.Order ?? 'stop-first';
  const host = (spec.EndpointSpec?.Ports ?? []).some((p) => p.PublishMode === 'host');
  const parallelism = spec.UpdateConfig?.Parallelism ?? 1;
  const atATime = parallelism === 1 ? 'one at a time' : `${parallelism} at a time`;
  const n = running === 0 ? 'its replicas restart' : `${plural(running, 'replica')} restart${running === 1 ? 's' : ''}`;
  if (order === 'start-first') return `${n}, start-first: each new task starts before the old one stops (open connections of the old one end after its grace period)`;
  if (running <= 1) return `${n}, stop-first: clients of ${host ? 'its node' : 'the cluster'} see refused connections while its task is replaced (${REPLACED_TASK_REFUSED} measured); there is no other replica meanwhile`;
  if (host) return `${n}, stop-first, ${atATime}: clients of each replica's node see refused connections while its task is replaced (${REPLACED_TASK_REFUSED} per node measured); clients that try another node meanwhile lose nothing`;
  return `${n}, stop-first, ${atATime}: the other replicas take the traffic meanwhile`;
}

function serviceOf(live: Pick<LiveState, 'services'>, id: string): ServiceInfo | undefined {
  return live.services.find((s) => s.ID === id);
}

function runningOf(live: Pick<LiveState, 'tasks'>, serviceId: string): number {
  return live.tasks.filter((t) => t.ServiceID === serviceId && t.DesiredState === 'running' && t.Status.State === 'running').length;
}

function stepImpact(step: Step, live: Pick<LiveState, 'services' | 'tasks' | 'networks'>): ClusterImpact | undefined {
  const networkName = (x: string): string => live.networks.find((n) => n.Id === x)?.Name ?? x;
  switch (step.op) {
    case 'deliver':
      return { cluster: step.cluster, disruptive: false, text: 'hitless reload: the agents reload the proxy in place (no task restarts, no refused connection)' };
    case 'createService': {
      if (step.role === 'node-cleanup') return { cluster: step.cluster, disruptive: false, text: 'starts a job that removes its last applied configs on every node' };
      if (step.role !== 'proxy') return { cluster: step.cluster, disruptive: false, text: 'starts its extension service' };
      const ports = (step.spec.EndpointSpec?.Ports ?? []).map((p) => `${p.PublishedPort ?? '-'} (${p.PublishMode ?? 'ingress'})`).join(', ');
      const replicas = step.spec.Mode?.Replicated?.Replicas ?? 1;
      return { cluster: step.cluster, disruptive: false, text: `new proxy service: ${plural(replicas, 'replica')} start${replicas === 1 ? 's' : ''}, publishing ${ports || 'no port'}` };
    }
    case 'updateService': {
      const existing = serviceOf(live, step.serviceId);
      const who = step.role === 'proxy' ? 'proxy' : 'extension';
      if (step.effect === 'keeps-tasks') return { cluster: step.cluster, disruptive: false, text: `${who} service settings only (replicas, labels, update policy): running tasks stay` };
      const causes = existing !== undefined ? restartCauses(existing.Spec, step.spec, networkName) : ['the task template'];
      const effect = step.role === 'proxy' ? restartEffect(step.spec, runningOf(live, step.serviceId)) : 'its tasks restart';
      return { cluster: step.cluster, disruptive: step.role === 'proxy', text: `${who} tasks RESTART (${causes.join('; ')}): ${effect}` };
    }
    case 'removeService':
      return step.cluster !== undefined && step.name === proxyServiceName(step.cluster) ? { cluster: step.cluster, disruptive: true, text: 'the proxy service is removed: its ports stop answering' } : undefined;
    default:
      return undefined;
  }
}

/** One line per cluster step that touches running proxies; clusters with only config bookkeeping say nothing. */
export function planImpact(plan: Plan, live: Pick<LiveState, 'services' | 'tasks' | 'networks'>): ClusterImpact[] {
  return planSteps(plan).flatMap((s) => {
    const i = stepImpact(s, live);
    return i === undefined ? [] : [i];
  });
}
