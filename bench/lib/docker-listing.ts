/**
 * bench-scale's Docker side (ADR 0047): the bench-mix snapshot as the Engine API would list it, so a
 * task change is timed from the listing the core reads — through the core's incremental converter
 * (src/observed/snapshot-converter.ts) — and not from a snapshot already converted.
 */
import type { Snapshot } from '../../src/domain/snapshot';
import type { NetworkInfo, NodeInfo, SecretInfo, ServiceInfo, TaskInfo } from '../../src/observed/docker-port';
import type { DockerObjects } from '../../src/observed/to-snapshot';

const netId = (name: string): string => `net${name.replace(/[^a-z0-9]/g, '')}`;

/** The listing toSnapshot turns back into `s` (the bench checks it once per N). */
export function dockerListing(s: Snapshot): DockerObjects {
  let version = 1;
  const networks: NetworkInfo[] = s.networks.map((n) => ({ Id: netId(n.name), Name: n.name, Driver: n.driver, Scope: n.scope, Ingress: n.ingress }));
  const services: ServiceInfo[] = s.services.map((x) => {
    const published = x.ports.map((p) => ({ Protocol: p.protocol as 'tcp', TargetPort: p.target, PublishedPort: p.published, PublishMode: p.mode as 'ingress' }));
    // Targets exposed but not published: spec ports without a published port (what toSnapshot reads as exposedPorts).
    const unpublished = x.exposedPorts.filter((t) => !x.ports.some((p) => p.target === t)).map((t) => ({ Protocol: 'tcp' as const, TargetPort: t }));
    return {
      ID: x.id ?? `svc${x.name}`,
      Version: { Index: version++ },
      Spec: {
        Name: x.name,
        Labels: { ...x.labels },
        TaskTemplate: { ContainerSpec: { Image: 'bench/app:1' }, Networks: x.networks.map((n) => ({ Target: netId(n) })) },
        Mode: x.mode === 'global' ? { Global: {} } : { Replicated: { Replicas: x.replicas ?? 1 } },
        EndpointSpec: { Ports: [...published, ...unpublished] },
      },
      Endpoint: { ...(published.length > 0 ? { Ports: published } : {}), VirtualIPs: x.vips.map((v) => ({ NetworkID: netId(v.network), Addr: `${v.ip}/24` })) },
    };
  });
  const ids = new Map(services.map((x) => [x.Spec.Name, x.ID]));
  const tasks: TaskInfo[] = s.tasks.map((t) => taskInfo(t, ids.get(t.service) ?? '', version++));
  const secrets: SecretInfo[] = s.secrets.map((x) => ({ ID: `sec${version}`, Version: { Index: version++ }, Spec: { Name: x.name } }));
  const nodes: NodeInfo[] = s.nodes.map((n) => ({
    ID: n.id,
    Version: { Index: version++ },
    Spec: { Role: n.role, Availability: n.availability, Labels: { ...n.labels } },
    Description: { Hostname: n.hostname },
    Status: { State: n.state, ...(n.addr !== undefined ? { Addr: n.addr } : {}) },
  }));
  return { networks, services, tasks, secrets, nodes, pageConfigs: [] };
}

function taskInfo(t: Snapshot['tasks'][number], serviceId: string, version: number): TaskInfo {
  const byNet = new Map<string, string[]>();
  for (const a of t.addresses) byNet.set(a.network, [...(byNet.get(a.network) ?? []), `${a.ip}/24`]);
  return {
    ID: t.id,
    Version: { Index: version },
    ServiceID: serviceId,
    ...(t.node !== undefined ? { NodeID: t.node } : {}),
    ...(t.slot !== undefined ? { Slot: t.slot } : {}),
    DesiredState: t.desiredState,
    Status: { State: t.state, ...(t.ports.length > 0 ? { PortStatus: { Ports: t.ports.map((p) => ({ Protocol: p.protocol as 'tcp', TargetPort: p.target, PublishedPort: p.published, PublishMode: p.mode as 'host' })) } } : {}) },
    NetworksAttachments: [...byNet].map(([network, addresses]) => ({ Network: { ID: netId(network) }, Addresses: addresses })),
  };
}

/**
 * The listing after a task change: `added` (a snapshot task: the benchmark's withAddedTask) listed with
 * a version no other object has, and the task with ID `replaced` (the previous change's) gone.
 */
export function withListedTask(base: DockerObjects, added: Snapshot['tasks'][number], replaced: string | undefined, version: number): DockerObjects {
  const serviceId = base.services.find((x) => x.Spec.Name === added.service)?.ID ?? '';
  const tasks = base.tasks.filter((t) => t.ID !== replaced);
  return { ...base, tasks: [...tasks, taskInfo(added, serviceId, version)] };
}

/** A listing as read from the daemon: new objects, nothing shared with the last one. */
export function freshListing(o: DockerObjects): DockerObjects {
  return JSON.parse(JSON.stringify(o)) as DockerObjects;
}
