/**
 * What each running proxy replica serves, as route generations (`name@generation`), where the core
 * can know it: hitless replicas by the config hash they report (the core remembers the routes of
 * the last configs it delivered; after a restart it knows none, and status falls back to whether
 * replicas run the newest config), rolling replicas by the routes label of the Swarm config they
 * mount. Route status uses it to stay Programmed while another change is on its way.
 */
import type { ControlPlane } from '../api/control-plane';
import { LABELS } from '../domain/labels';
import type { LiveState } from '../observed/live-state';
import { toRevision } from '../plan/revisions';
import type { RevisionId } from '../domain/revision-id';

/** Delivered configs remembered (oldest first out). */
const KEPT = 32;

export class ServedRoutes {
  private readonly delivered = new Map<string, ReadonlySet<string>>();
  /** The user-facing identifier (revision and content hash) of each config handed to agents, by its files hash. */
  private readonly ids = new Map<string, RevisionId>();

  /** A config handed to agents, by its files hash, and the route generations in it. */
  remember(configHash: string, routes: ReadonlySet<string>): void {
    this.delivered.delete(configHash);
    this.delivered.set(configHash, routes);
    if (this.delivered.size > KEPT) this.delivered.delete(this.delivered.keys().next().value ?? '');
  }

  /** Name a delivered config: its files hash (what agents report) is shown to users as this revision. */
  name(configHash: string, id: RevisionId): void {
    this.ids.delete(configHash);
    this.ids.set(configHash, id);
    if (this.ids.size > KEPT) this.ids.delete(this.ids.keys().next().value ?? '');
  }

  /** The revision an agent's reported files hash stands for, when this core delivered it. */
  idOf(configHash: string): RevisionId | undefined {
    return this.ids.get(configHash);
  }

  /** By task ID, the routes each task of the service serves (tasks whose config is unknown are left out). `plane`: hitless. */
  of(plane: ControlPlane | undefined, serviceId: string | undefined, live: LiveState): ReadonlyMap<string, ReadonlySet<string>> {
    const served = new Map<string, ReadonlySet<string>>();
    if (serviceId === undefined) return served;
    const cluster = live.services.find((s) => s.ID === serviceId)?.Spec.Labels?.[LABELS.cluster] ?? '';
    const reports = plane === undefined ? undefined : new Map(plane.reportsOf(cluster).map((r) => [r.replicaId, r.appliedHash]));
    for (const task of live.tasks.filter((x) => x.ServiceID === serviceId)) {
      const routes = reports !== undefined ? this.delivered.get(reports.get(task.ID) ?? '') : this.mounted(task.Spec?.ContainerSpec?.Configs?.[0]?.ConfigName, live);
      if (routes !== undefined) served.set(task.ID, routes);
    }
    return served;
  }

  private mounted(configName: string | undefined, live: LiveState): ReadonlySet<string> | undefined {
    const config = live.proxyConfigs.find((c) => c.Spec.Name === configName);
    return config === undefined ? undefined : toRevision(config)?.routes;
  }
}
