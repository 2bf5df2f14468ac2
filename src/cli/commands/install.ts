/**
 * `swarmgate install` deploys the core as a Swarm service on a manager with the Docker socket
 * mounted (idempotent: an unchanged spec is not updated); `swarmgate uninstall` removes the core,
 * the proxies and their generated configs (`--purge` also removes the stored Route/ServiceCluster specs).
 */
import { createHash } from 'node:crypto';
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { DockerPort, ServiceSpec } from '../../observed/docker-port';
import { canonicalJson } from '../../plan/hash';
import { EXIT, type Output } from '../output';

export const CORE_SERVICE = 'swarmgate-core';
/** Overlay network shared by the core and hitless proxies (not attachable: only services join it). */
export const CONTROL_NETWORK = 'swarmgate-control';
export const GRPC_PORT = 50051;
/** Prometheus metrics of the core (GET /metrics), on its task address. */
export const METRICS_PORT = 9464;
export const DEFAULT_CORE_IMAGE = 'swarmgate/swarmgate:latest';
/**
 * The core's live heap is small (≈ 25–35 MB at 1,000 routes) but V8's defaults let garbage pile up
 * to several times that between collections: small semi-spaces keep RSS near
 * the live set, and --expose-gc lets the core collect after a run that changed something (each such
 * run drops a whole rendered config). bench/core-memory.ts under tsx: 171 → 112 MiB (tsx itself ≈ 38).
 */
export const CORE_NODE_OPTIONS = '--max-semi-space-size=1 --expose-gc';

export interface InstallOptions {
  readonly image: string;
  /** Name images by local ID and tell the core to do the same for proxies (no registry). */
  readonly localImages: boolean;
  readonly logLevel: string;
}

export function coreServiceSpec(image: string, opts: InstallOptions, controlNetworkId: string): ServiceSpec {
  const labels = { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'core' };
  // Plaintext until mutual TLS exists: the control network is the only path to the API (see README).
  const args = ['core', '--listen', `0.0.0.0:${GRPC_PORT}`, '--advertise', `${CORE_SERVICE}:${GRPC_PORT}`, '--control-network', CONTROL_NETWORK, '--insecure', '--metrics-listen', `0.0.0.0:${METRICS_PORT}`];
  return {
    Name: CORE_SERVICE,
    Labels: labels,
    TaskTemplate: {
      ContainerSpec: {
        Image: image,
        Args: args,
        Env: [`LOG_LEVEL=${opts.logLevel}`, `NODE_OPTIONS=${CORE_NODE_OPTIONS}`, ...(opts.localImages ? ['SWARMGATE_LOCAL_IMAGES=1'] : [])],
        Labels: labels,
        Mounts: [{ Type: 'bind', Source: '/var/run/docker.sock', Target: '/var/run/docker.sock' }],
        StopGracePeriod: 10_000_000_000,
      },
      // The only component with the Docker API runs where the API is authoritative.
      Placement: { Constraints: ['node.role==manager'] },
      Networks: [{ Target: controlNetworkId }],
    },
    Mode: { Replicated: { Replicas: 1 } },
    // DNS round robin: agents resolve the service name to the core task's address directly, which
    // also works where service VIPs do not (no IPVS in the kernel).
    EndpointSpec: { Mode: 'dnsrr' },
    UpdateConfig: { Parallelism: 1, Order: 'stop-first', FailureAction: 'rollback' },
  };
}

async function ensureControlNetwork(port: DockerPort, io: Output): Promise<string> {
  const existing = (await port.listNetworks()).find((n) => n.Name === CONTROL_NETWORK && n.Scope === 'swarm');
  if (existing !== undefined) return existing.Id;
  const id = await port.createNetwork({ Name: CONTROL_NETWORK, Driver: 'overlay', Attachable: false, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'control-network' } });
  io.out(`network/${CONTROL_NETWORK} created`);
  return id;
}

export async function runInstall(port: DockerPort, opts: InstallOptions, io: Output): Promise<number> {
  let image = opts.image;
  if (opts.localImages) {
    const id = await port.localImageId(opts.image);
    if (id === undefined) {
      io.err(`image ${opts.image} is not present on this node; build it first (make images)`);
      return EXIT.invalid;
    }
    image = id;
  }
  const spec = coreServiceSpec(image, opts, await ensureControlNetwork(port, io));
  const hash = createHash('sha256').update(canonicalJson(spec)).digest('hex');
  const labelled: ServiceSpec = { ...spec, Labels: { ...spec.Labels, [LABELS.specHash]: hash } };
  const existing = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  if (existing === undefined) {
    await port.createService(labelled);
    io.out(`service/${CORE_SERVICE} created (image ${opts.image})`);
  } else if (existing.Spec.Labels?.[LABELS.specHash] !== hash) {
    await port.updateService(existing.ID, existing.Version.Index, labelled);
    io.out(`service/${CORE_SERVICE} configured (image ${opts.image})`);
  } else io.out(`service/${CORE_SERVICE} unchanged`);
  return EXIT.ok;
}

async function waitForTasksGone(port: DockerPort, serviceId: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const alive = (await port.listTasks()).some((t) => t.ServiceID === serviceId && ['running', 'starting', 'preparing', 'assigned', 'accepted', 'pending', 'ready', 'new'].includes(t.Status.State));
    if (!alive) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

export async function runUninstall(port: DockerPort, purge: boolean, io: Output): Promise<number> {
  const owned = `${LABELS.owner}=${OWNER_VALUE}`;
  // The core first, so it does not recreate the proxies being removed.
  const services = (await port.listServices([owned])).sort((a, b) => (a.Spec.Name === CORE_SERVICE ? -1 : b.Spec.Name === CORE_SERVICE ? 1 : 0));
  for (const s of services) {
    await port.removeService(s.ID);
    io.out(`service/${s.Spec.Name} removed`);
    // A core task that is still stopping could finish one more run and recreate a proxy.
    if (s.Spec.Name === CORE_SERVICE) await waitForTasksGone(port, s.ID);
  }
  const configs = await port.listConfigs([owned]);
  let kept = 0;
  for (const c of configs) {
    const isSpec = c.Spec.Labels?.[LABELS.role] === 'spec';
    if (isSpec && !purge) {
      kept++;
      continue;
    }
    // A config is removable once the tasks that mounted it are gone; Swarm stops them asynchronously.
    for (let attempt = 0; ; attempt++) {
      try {
        await port.removeConfig(c.ID);
        break;
      } catch (e) {
        if (attempt >= 40) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  for (const n of (await port.listNetworks()).filter((x) => x.Labels?.[LABELS.owner] === OWNER_VALUE)) {
    // Task network attachments are released asynchronously after the services are gone.
    for (let attempt = 0; ; attempt++) {
      try {
        await port.removeNetwork(n.Id);
        io.out(`network/${n.Name} removed`);
        break;
      } catch (e) {
        if (attempt >= 40) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
  io.out(`${configs.length - kept} generated config${configs.length - kept === 1 ? '' : 's'} removed${kept > 0 ? `; ${kept} stored spec${kept === 1 ? '' : 's'} kept (use --purge to remove them)` : ''}`);
  return EXIT.ok;
}
