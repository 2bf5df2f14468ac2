/**
 * The core's own Swarm service (`swarmgate install`), as a pure function of the install options,
 * the control network and the TLS set; and the reverse: what an installed core was started with
 * (coreSettingsOf), so `swarmgate diff` plans with the core's own options.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { ACME_STATE_KEY, TLS_DIR_IN_TASKS, TLS_FILES } from '../domain/tls-layout';
import type { ServiceInfo, ServiceSpec } from '../observed/docker-port';
import { tlsMounts, type SecretRef, type TlsSet } from './tls-sets';

/** Where the core finds the Docker socket inside its task (bind-mounted from the host). */
const DOCKER_SOCKET = '/var/run/docker.sock';

export const CORE_SERVICE = 'swarmgate-core';
/** Overlay network shared by the core and hitless proxies (not attachable: only services join it). */
export const CONTROL_NETWORK = 'swarmgate-control';
export const GRPC_PORT = 50051;
/** Prometheus metrics of the core (GET /metrics), on its task address. */
export const METRICS_PORT = 9464;
/**
 * The core's live heap is small (≈ 25–35 MB at 1,000 routes) but V8's defaults let garbage pile up
 * to several times that between collections: small semi-spaces keep RSS near
 * the live set, and --expose-gc lets the core collect after a run that changed something (each such
 * run drops a whole rendered config). bench/core-memory.ts under tsx: 171 → 112 MiB (tsx itself ≈ 38).
 */
export const CORE_NODE_OPTIONS = '--max-semi-space-size=1 --expose-gc --v8-pool-size=1';

/**
 * While the core is away no change reaches the proxies, so its replacement should start at once:
 * Swarm's default waits 5 s before restarting a task, also one whose node went down (measured on
 * the three-manager drill swarm: 19.3 s from stopping the core's node to the core running on
 * another manager, 5.4 s of it this delay). 500 ms keeps a crash-looping core from spinning.
 */
export const CORE_RESTART_POLICY = { Condition: 'any', Delay: 500_000_000, MaxAttempts: 0 } as const;

export interface InstallOptions {
  readonly image: string;
  /** Name images by local ID and tell the core to do the same for proxies (no registry). */
  readonly localImages: boolean;
  readonly logLevel: string;
  /** Render in one extension service per cluster (least privilege) instead of in the core. */
  readonly extensionServices?: boolean;
  /**
   * Host path of the Docker socket bind-mounted into the core (default /var/run/docker.sock): a
   * dockerd listening elsewhere (e.g. several engines on one host, as the multi-node tests run).
   */
  readonly dockerSocket?: string;
}


/** The ACME state key's mount (ACME_STATE_KEY): the core's only, read by root. */
export function acmeStateKeyMount(ref: SecretRef): NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']>[number] {
  return { SecretID: ref.id, SecretName: ref.name, File: { Name: ACME_STATE_KEY.file, UID: '0', GID: '0', Mode: 0o400 } };
}

/**
 * The core's secrets: the set's four files, and after rotate-certs the previous set's CA and CA key
 * under their own names (the core trusts the previous CA and cross-signs the new one with it, ADR 0019).
 */
export function coreTlsMounts(tls: TlsSet, previous?: TlsSet): NonNullable<ServiceSpec['TaskTemplate']['ContainerSpec']['Secrets']> {
  const own = tlsMounts(tls, ['ca', 'caKey', 'serverCert', 'serverKey']);
  if (previous === undefined || previous.id === tls.id) return own;
  const prev = tlsMounts(previous, ['ca', 'caKey']).map((m, i) => ({ ...m, File: { ...m.File, Name: i === 0 ? TLS_FILES.previousCa : TLS_FILES.previousCaKey } }));
  return [...own, ...prev];
}

export function coreServiceSpec(image: string, opts: InstallOptions, controlNetworkId: string, tls: TlsSet, previous?: TlsSet, acmeStateKey?: SecretRef): ServiceSpec {
  const labels = { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'core' };
  // Mutual TLS: the core's server pair from the set; it mounts the set's client pair into proxies.
  const args = ['core', '--listen', `0.0.0.0:${GRPC_PORT}`, '--advertise', `${CORE_SERVICE}:${GRPC_PORT}`, '--control-network', CONTROL_NETWORK, '--tls-dir', TLS_DIR_IN_TASKS, '--tls-set', tls.id];
  if (previous !== undefined && previous.id !== tls.id) args.push('--tls-previous-set', previous.id);
  args.push('--metrics-listen', `0.0.0.0:${METRICS_PORT}`);
  // Extension services run the same image as the core (it has NGINX for nginx -t).
  if (opts.extensionServices === true) args.push('--extension-image', image);
  return {
    Name: CORE_SERVICE,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Args: args,
        // glibc's per-thread malloc arenas fragment a long-running Node process; two are plenty here.
        Env: [`LOG_LEVEL=${opts.logLevel}`, `NODE_OPTIONS=${CORE_NODE_OPTIONS}`, 'MALLOC_ARENA_MAX=2', ...(opts.localImages ? ['SWARMGATE_LOCAL_IMAGES=1'] : [])],
        Labels: labels,
        Mounts: [{ Type: 'bind', Source: opts.dockerSocket ?? DOCKER_SOCKET, Target: DOCKER_SOCKET }],
        Secrets: [...coreTlsMounts(tls, previous), ...(acmeStateKey !== undefined ? [acmeStateKeyMount(acmeStateKey)] : [])],
        StopGracePeriod: 10_000_000_000,
      },
      // The only component with the Docker API runs where the API is authoritative.
      Placement: { Constraints: ['node.role==manager'] },
      Networks: [{ Target: controlNetworkId }],
      RestartPolicy: CORE_RESTART_POLICY,
    },
    Mode: { Replicated: { Replicas: 1 } },
    // DNS round robin: agents resolve the service name to the core task's address directly, which
    // also works where service VIPs do not (no IPVS in the kernel).
    EndpointSpec: { Mode: 'dnsrr' },
    UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'rollback' },
  };
}

/** What an installed core runs with, read back from its service spec (the arguments coreServiceSpec wrote). */
export interface CoreSettings {
  /** host:port components dial (--advertise). */
  readonly advertise?: string;
  readonly controlNetwork?: string;
  readonly tlsSet?: string;
  /** The set rotate-certs rotated away from, still trusted (--tls-previous-set). */
  readonly previousTlsSet?: string;
  readonly insecure: boolean;
  readonly extensionImage?: string;
  readonly localImages: boolean;
}

export function coreSettingsOf(services: readonly ServiceInfo[]): CoreSettings | undefined {
  const core = services.find((s) => s.Spec.Name === CORE_SERVICE && s.Spec.Labels?.[LABELS.role] === 'core');
  if (core === undefined) return undefined;
  const c = core.Spec.TaskTemplate.ContainerSpec;
  const args = c.Args ?? [];
  const arg = (flag: string): string | undefined => {
    const at = args.indexOf(flag);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const value = <K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> => (v !== undefined ? ({ [key]: v } as Record<K, string>) : {});
  return {
    ...value('advertise', arg('--advertise')),
    ...value('controlNetwork', arg('--control-network')),
    ...value('tlsSet', arg('--tls-set')),
    ...value('previousTlsSet', arg('--tls-previous-set')),
    ...value('extensionImage', arg('--extension-image')),
    insecure: args.includes('--insecure'),
    localImages: (c.Env ?? []).includes('SWARMGATE_LOCAL_IMAGES=1'),
  };
}
