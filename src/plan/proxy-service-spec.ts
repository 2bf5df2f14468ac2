/**
 * The Swarm service spec of one ServiceCluster's proxy, as a pure function of the cluster spec,
 * the delivered config, the secrets and networks it needs, and the nodes. Building it whole and
 * comparing with the live spec makes updates idempotent: same inputs ⇒ same spec ⇒ no write.
 */
import { durationMs, sizeBytes } from '../domain/brands';
import { LABELS, OWNER_VALUE } from '../domain/labels';
import type { ProxyModel } from './model';
import type { NodeInfo, ServiceSpec } from '../observed/docker-port';
import { TLS_DIR_IN_TASKS } from '../domain/tls-layout';
import { tlsMounts, type TlsSet } from './tls-sets';
import { identityKey, identityMounts, type ClusterRole, type IdentitySecrets } from './identity-secrets';
import { AGENT_RUNTIME_TMPFS, BOOT_ENDPOINTS_PATH, LAST_APPLIED_DIR, lastAppliedVolume, NGINX_WORKER_GID, PROXY_RUNTIME, WORKER_READABLE_MODE } from './proxy-runtime';
import { pagePath } from './error-pages';
import { listenerSwarmProtocol } from '../domain/listener';
import { partFilePath } from './stored-config';

export { AGENT_ARGS, BOOT_CONFIG_PATH, NGINX_CONFIG_PATH } from './proxy-runtime';

/** How a hitless proxy's agent reaches the core. */
export interface AgentEndpoint {
  /** host:port the agents dial (the core's service name on the control network). */
  readonly coreAddress: string;
  /** ID of the overlay network shared with the core. */
  readonly controlNetworkId: string;
  /** The mutual-TLS set whose component pair and CA the agent mounts; plaintext (--insecure) when absent. */
  readonly tls?: TlsSet;
  /** The components' identities of that set (identityKey → secrets): each service mounts only its own cluster's, for its role. */
  readonly identities?: ReadonlyMap<string, IdentitySecrets>;
  /** The set rotate-certs rotated away from: a service mounting its identity keeps it until it is updated anyway (ADR 0019). */
  readonly previousTlsSet?: string;
}

/** The CA and the component's own identity pair (ADR 0012); without an issued identity only the CA (the component cannot connect until the core issues one). */
export function componentTlsMounts(endpoint: AgentEndpoint, role: ClusterRole, cluster: string): NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']> {
  if (endpoint.tls === undefined) return [];
  const identity = endpoint.identities?.get(identityKey(endpoint.tls.id, role, cluster));
  return [...tlsMounts(endpoint.tls, ['ca']), ...(identity !== undefined ? identityMounts(identity) : [])];
}

export interface ProxyInputs {
  readonly model: ProxyModel;
  readonly serviceName: string;
  /** The proxy config, and its parts 2..n when it is stored in several Swarm configs (stored-config.ts). */
  readonly config: { readonly id: string; readonly name: string; readonly parts?: readonly { readonly id: string; readonly name: string }[] };
  /** Secret name → ID, for every secret the model needs. */
  readonly secretIds: ReadonlyMap<string, string>;
  /** Error-page config name → ID (ProxyModel.pageConfigs); absent: the name stands in. */
  readonly pageConfigIds?: ReadonlyMap<string, string>;
  /** Network name → ID, for every network the model needs. */
  readonly networkIds: ReadonlyMap<string, string>;
  readonly nodes: readonly NodeInfo[];
  /** The image as the service should name it (a local image ID in local-images mode); default: the spec's. */
  readonly image?: string;
  /** Set for hitless delivery: the mounted config is only the boot config; the agent streams the rest. */
  readonly agent?: AgentEndpoint;
  /** Network IDs to stay attached to although no route needs them now (hitless: leaving costs a restart). */
  readonly keepNetworkIds?: readonly string[];
  /**
   * Hitless with an allow-list (`spec.networks`): also join every allowed network that exists, so a
   * route to a backend on one of them later needs no service update, which would restart the
   * tasks (ADR 0018). Default true; the planner leaves it out to see whether a running service is
   * current without it (joining up front alone is never a reason to restart the tasks).
   */
  readonly joinAllowedNetworks?: boolean;
  /** Hitless: the CA and identity the live service mounts, kept instead of the current set's (keptComponentMounts, ADR 0019). */
  readonly keepTlsMounts?: NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']>;
  /** Hitless with dynamic endpoints: the endpoint set rendered with the boot config (boot-endpoints.ts, ADR 0035). */
  readonly bootEndpoints?: { readonly id: string; readonly name: string };
  /** Hitless with ACME routes: the durable copies of their certificates the tasks mount (acme-copies.ts, ADR 0024). */
  readonly acmeCopies?: NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']>;
}

export function proxyServiceName(cluster: string): string {
  return `sg-proxy-${cluster}`;
}

/**
 * Interlock's placement order: workers first; managers only when no worker can run a proxy.
 * A cluster's own constraints replace the default entirely.
 */
export function placementConstraints(model: ProxyModel, nodes: readonly NodeInfo[]): string[] {
  if (model.spec.proxy.constraints.length > 0) return [...model.spec.proxy.constraints];
  const usableWorker = nodes.some((n) => n.Spec.Role === 'worker' && n.Spec.Availability === 'active' && n.Status.State === 'ready');
  return usableWorker ? ['node.role==worker'] : [];
}

/** start-first keeps serving during updates, but deadlocks with host-mode ports on one node. */
export function updateOrder(model: ProxyModel): 'start-first' | 'stop-first' {
  return model.spec.proxy.update.order ?? (model.spec.proxy.publish.mode === 'host' ? 'stop-first' : 'start-first');
}

const NANO = 1_000_000;

/**
 * An edge proxy that stops is a node whose clients are refused: restart its task whatever the
 * reason (`any`), without giving up (MaxAttempts 0), after 200 ms instead of Swarm's default 5 s.
 * The agent restarts a dead NGINX/HAProxy itself; this covers the agent's own death (it is the
 * task's main process) and any other exit.
 */
export const PROXY_RESTART_POLICY = { Condition: 'any', Delay: 200 * NANO, MaxAttempts: 0 } as const;

export function proxyServiceSpec(inputs: ProxyInputs): ServiceSpec {
  const { model } = inputs;
  const p = model.spec.proxy;
  const res = p.resources;
  const toRes = (r: { cpus?: number; memory?: string } | undefined) =>
    r === undefined
      ? undefined
      : { ...(r.cpus !== undefined ? { NanoCPUs: Math.round(r.cpus * 1e9) } : {}), ...(r.memory !== undefined ? { MemoryBytes: sizeBytes(r.memory) } : {}) };
  const limits = toRes(res?.limits);
  const reservations = toRes(res?.reservations);
  // A set: with a shared TLS server every certificate is a worker secret, and a search per secret was quadratic (ADR 0046).
  const workerSecrets = new Set(model.workerSecrets ?? []);
  const constraints = placementConstraints(model, inputs.nodes);
  const labels = { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'proxy', [LABELS.cluster]: model.cluster, [LABELS.delivery]: inputs.agent !== undefined ? 'hitless' : 'rolling' };
  const agent = inputs.agent;
  const runtime = PROXY_RUNTIME[model.spec.proxy.kind];
  const configPath = agent !== undefined ? runtime.bootConfigPath : runtime.configPath;
  const parts = inputs.config.parts ?? [];
  const upFront = agent !== undefined && inputs.joinAllowedNetworks !== false ? model.spec.networks.filter((n) => inputs.networkIds.has(n)) : [];
  const networks = [...new Set([...model.networks, ...upFront])].sort().map((name) => ({ Target: inputs.networkIds.get(name) ?? name }));
  if (agent !== undefined) networks.push({ Target: agent.controlNetworkId });
  for (const id of inputs.keepNetworkIds ?? []) if (!networks.some((n) => n.Target === id)) networks.push({ Target: id });
  // One order whatever the reason for each attachment, so equal sets hash equal.
  networks.sort((a, b) => (a.Target < b.Target ? -1 : a.Target > b.Target ? 1 : 0));
  return {
    Name: inputs.serviceName,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: inputs.image ?? p.image,
        Labels: labels,
        ...(agent !== undefined
          ? {
              Args: [...runtime.agentArgs],
              Env: [
                `SWARMGATE_CORE_ADDR=${agent.coreAddress}`,
                `SWARMGATE_CLUSTER=${model.cluster}`,
                // Swarm fills the template per task: reports are matched to tasks by ID.
                'SWARMGATE_REPLICA_ID={{.Task.ID}}',
                agent.tls !== undefined ? `SWARMGATE_TLS_DIR=${TLS_DIR_IN_TASKS}` : 'SWARMGATE_INSECURE=1',
              ],
            }
          : {}),
        // HAProxy always runs under the agent (only the task can build its combined PEMs).
        ...(agent === undefined && runtime.rollingArgs !== undefined ? { Args: [...runtime.rollingArgs] } : {}),
        // Where the agent runs (hitless, and HAProxy always): its runtime files, keys included, on a
        // tmpfs, never on the node's disk. Hitless: the node keeps the last applied config (no key in it)
        // for a task that starts while the core is away.
        ...(agent !== undefined || runtime.rollingArgs !== undefined
          ? { Mounts: [...(agent !== undefined ? [{ Type: 'volume' as const, Source: lastAppliedVolume(model.cluster), Target: LAST_APPLIED_DIR }] : []), { ...AGENT_RUNTIME_TMPFS, TmpfsOptions: { ...AGENT_RUNTIME_TMPFS.TmpfsOptions } }] }
          : {}),
        StopSignal: 'SIGQUIT',
        StopGracePeriod: durationMs(p.stopGracePeriod) * NANO,
        // The proxy config first (readers take Configs[0] as it), its parts beside it, then the error pages its config names.
        Configs: [
          { ConfigID: inputs.config.id, ConfigName: inputs.config.name, File: { Name: configPath, UID: '0', GID: '0', Mode: 0o444 } },
          ...parts.map((p, i) => ({ ConfigID: p.id, ConfigName: p.name, File: { Name: partFilePath(configPath, i + 2, parts.length + 1), UID: '0', GID: '0', Mode: 0o444 } })),
          ...(agent !== undefined && inputs.bootEndpoints !== undefined ? [{ ConfigID: inputs.bootEndpoints.id, ConfigName: inputs.bootEndpoints.name, File: { Name: BOOT_ENDPOINTS_PATH, UID: '0', GID: '0', Mode: 0o444 } }] : []),
          ...[...(model.pageConfigs ?? [])].sort().map((name) => ({ ConfigID: inputs.pageConfigIds?.get(name) ?? name, ConfigName: name, File: { Name: pagePath(name), UID: '0', GID: '0', Mode: 0o444 } })),
        ],
        Secrets: [
          ...[...model.secrets].sort().map((name) => ({
            SecretID: inputs.secretIds.get(name) ?? name,
            SecretName: name,
            // Most certificates are read by NGINX's master (root); shared-TLS certificates (ADR 0028) and
            // basicAuth users files by its workers, so those are readable by the workers' group only.
            File:
              workerSecrets.has(name)
                ? { Name: name, UID: '0', GID: String(NGINX_WORKER_GID), Mode: WORKER_READABLE_MODE }
                : { Name: name, UID: '0', GID: '0', Mode: 0o400 },
          })),
          ...(agent !== undefined ? (inputs.acmeCopies ?? []) : []),
          ...(agent !== undefined ? (inputs.keepTlsMounts ?? componentTlsMounts(agent, 'agent', model.cluster)) : []),
        ],
      },
      Placement: {
        Constraints: constraints,
        Preferences: p.placementPreferences.map((pref) => ({ Spread: { SpreadDescriptor: pref.spread } })),
        // Two host-mode replicas cannot share a node's port 80.
        ...(p.publish.mode === 'host' ? { MaxReplicas: 1 } : {}),
      },
      ...(limits !== undefined || reservations !== undefined ? { Resources: { ...(limits !== undefined ? { Limits: limits } : {}), ...(reservations !== undefined ? { Reservations: reservations } : {}) } } : {}),
      Networks: networks,
      RestartPolicy: PROXY_RESTART_POLICY,
    },
    Mode: { Replicated: { Replicas: p.replicas } },
    UpdateConfig: {
      Parallelism: p.update.parallelism,
      Delay: durationMs(p.update.delay) * NANO,
      FailureAction: 'rollback',
      Monitor: 1_000 * NANO,
      Order: updateOrder(model),
    },
    EndpointSpec: {
      Mode: 'vip',
      Ports: [
        { Protocol: 'tcp', TargetPort: 80, PublishedPort: p.publish.http, PublishMode: p.publish.mode },
        { Protocol: 'tcp', TargetPort: 443, PublishedPort: p.publish.https, PublishMode: p.publish.mode },
        // Extra listeners listen inside the task on the port they publish; a clashing one is left out (listener-ports.ts).
        ...(model.listeners ?? []).map((l) => ({ Protocol: listenerSwarmProtocol(l), TargetPort: l.port, PublishedPort: l.port, PublishMode: p.publish.mode })),
      ],
    },
  };
}
