/**
 * The core's in-memory control plane: the latest upstream model per cluster (for extensions), the
 * latest validated config per cluster (for proxy agents), what the extensions submitted and what
 * each proxy replica reports it runs. The reconcile loop writes models and configs; the gRPC
 * server reads them. Every stream is level-triggered: a subscriber first gets the current value,
 * then each new value, so a reconnecting client never needs what it missed.
 *
 * Nothing here is durable on purpose: after a core restart the first reconcile run republishes
 * every model and config, and the proxies keep serving their last good config meanwhile.
 */
import { BehaviorSubject, Subject, filter, type Observable } from 'rxjs';

import { configFilesHash, deliveryHash } from './delivery-hash';
import type { ProxyKind } from '../plan/proxy-capabilities';
import type { Validation } from '../validate/result';
import { backendVerdict } from '../domain/backend-health';
import { TrafficTotals, type TrafficDelta, type UpstreamReading } from './traffic-totals';

export type { ProxyKind };

export interface ConfigFileData {
  readonly path: string;
  readonly content: Buffer;
}

export interface PublishedModel {
  readonly cluster: string;
  readonly modelHash: string;
  readonly sequence: number;
  /** The model's JSON, encoded when read (a watcher's write), not kept: 13 MB at 10,000 routes (ADR 0044). */
  readonly modelJson: string;
}

/** A published model's JSON: a string as given, or encoded on each read from the model it stands for. */
export type ModelJsonSource = string | (() => string);

/** The published model, whose JSON source a later publication of the same hash may replace (same hash, same bytes). */
class Published implements PublishedModel {
  constructor(
    readonly cluster: string,
    readonly modelHash: string,
    readonly sequence: number,
    public source: ModelJsonSource,
  ) {}

  get modelJson(): string {
    return typeof this.source === 'string' ? this.source : this.source();
  }
}

/** A config check's outcome: the one Validation type of src/validate (the gRPC message carries ok and output). */
export type { Validation };

export interface Submission {
  readonly cluster: string;
  readonly modelHash: string;
  readonly proxyKind: ProxyKind;
  readonly files: readonly ConfigFileData[];
  readonly validation: Validation;
  readonly configHash: string;
}

export interface DeliveredConfig {
  readonly cluster: string;
  /** deliveryHash of the files and certificates: what the agents report once they run both. */
  readonly configHash: string;
  readonly sequence: number;
  readonly proxyKind: ProxyKind;
  readonly files: readonly ConfigFileData[];
  /** ACME certificates and keys for this cluster's agents only (ADR 0013); never logged, never in a Plan. */
  readonly certificates?: readonly ConfigFileData[];
  /** Skip the agents' reload pacing (a rollback away from a failing backend). */
  readonly immediate?: boolean;
}

export interface ReplicaReport {
  readonly cluster: string;
  readonly replicaId: string;
  readonly appliedHash: string;
  readonly lastReceivedHash: string;
  readonly lastValidation?: Validation;
  readonly counters: { readonly requests: number; readonly responses5xx: number; readonly activeConnections: number };
  /** Core clock, when the report arrived. */
  readonly receivedAt: number;
}

/** The hash a proxy reports for a set of files (node:crypto's SHA-256; the same digest as the plan's pure one). */
export { configFilesHash, deliveryHash } from './delivery-hash';

/** One pending HTTP-01 token and the text to answer it with (public: the CA fetches it over plain HTTP). */
export interface AcmeChallengeData {
  readonly token: string;
  readonly keyAuthorization: string;
}

export interface ObjectStatusData {
  readonly kind: string;
  readonly name: string;
  readonly conditions: readonly { readonly type: string; readonly status: string; readonly reason: string; readonly message: string }[];
}

export interface StatusData {
  readonly sequence: number;
  readonly objects: readonly ObjectStatusData[];
}

/** A component's current pair and the CA to trust from then on (PEM; never logged). */
export interface HandedIdentity {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
  readonly fingerprint: string;
}

/** Three missed heartbeats (agents report every 5 s): a replica that only reports counts as heard this long. */
export const AGENT_HEARD_MS = 15_000;

export class ControlPlane {
  private sequence = 0;
  private readonly models = new Map<string, BehaviorSubject<Published | undefined>>();
  private readonly configs = new Map<string, BehaviorSubject<DeliveredConfig | undefined>>();
  private readonly submissions = new Map<string, Submission>();
  private readonly reports = new Map<string, ReplicaReport>();
  /** Open WatchProxyConfig streams per replica, and when the last one closed. */
  private readonly agentStreams = new Map<string, { cluster: string; open: number; closedAt: number }>();
  private readonly changed = new Subject<string>();
  private readonly status = new BehaviorSubject<StatusData>({ sequence: 0, objects: [] });

  /** Proxy task ID → its cluster, from the core's last snapshot (who may report for which replica). */
  private replicaClusters = new Map<string, string>();
  /** Proxy task ID → its IP addresses (every network it is attached to): the only sources its agent reports from. */
  private replicaIps = new Map<string, readonly string[]>();
  /** Fingerprints of the component certificates the core issued and still stands by; undefined: not tracked (no CA key). */
  private issuedIdentities: Set<string> | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** The tasks of every cluster's proxy service now (set by each run). */
  setProxyReplicas(replicaToCluster: ReadonlyMap<string, string>, addresses: ReadonlyMap<string, readonly string[]> = new Map()): void {
    this.replicaClusters = new Map(replicaToCluster);
    this.replicaIps = new Map(addresses);
  }

  replicaAddresses(replicaId: string): readonly string[] {
    return this.replicaIps.get(replicaId) ?? [];
  }

  replicaCluster(replicaId: string): string | undefined {
    return this.replicaClusters.get(replicaId);
  }

  /** The certificates of current identities (set by each run of a core that issues them); any other is refused. */
  setCurrentIdentities(fingerprints: Iterable<string>): void {
    this.issuedIdentities = new Set(fingerprints);
  }

  /** Who hands components their current identity over their stream (ADR 0019); none without a CA key. */
  private identityProvider: ((role: 'agent' | 'extension', cluster: string, peerFingerprint: string) => HandedIdentity | undefined) | undefined;

  setIdentityProvider(provider: (role: 'agent' | 'extension', cluster: string, peerFingerprint: string) => HandedIdentity | undefined): void {
    this.identityProvider = provider;
  }

  /** The identity to hand a component that connected with `peerFingerprint`, when it is not its current one. */
  identityFor(role: 'agent' | 'extension', cluster: string, peerFingerprint: string): HandedIdentity | undefined {
    return this.identityProvider?.(role, cluster, peerFingerprint);
  }

  /** Add one just issued (before the next run lists it). */
  addCurrentIdentity(fingerprint: string): void {
    (this.issuedIdentities ??= new Set()).add(fingerprint);
  }

  /** Whether the core tracks issued identities, and if so whether this one is current. */
  get identityCheck(): ((fingerprint: string) => boolean) | undefined {
    const issued = this.issuedIdentities;
    return issued === undefined ? undefined : (f) => issued.has(f);
  }

  /** Fires (with a reason) when something arrived from outside that the next run should look at. */
  get changes$(): Observable<string> {
    return this.changed.asObservable();
  }

  private subject<T>(map: Map<string, BehaviorSubject<T | undefined>>, cluster: string): BehaviorSubject<T | undefined> {
    let s = map.get(cluster);
    if (s === undefined) {
      s = new BehaviorSubject<T | undefined>(undefined);
      map.set(cluster, s);
    }
    return s;
  }

  /**
   * Publish a cluster's model; a model with the same hash as the current one is not resent. `modelJson`
   * may be a function that encodes it: then only the model is held (which the core holds anyway), and
   * a republication of the same hash swaps in the new model so that the old one can go.
   */
  publishModel(cluster: string, modelHash: string, modelJson: ModelJsonSource): void {
    const s = this.models.get(cluster) ?? new BehaviorSubject<Published | undefined>(undefined);
    this.models.set(cluster, s);
    if (s.value?.modelHash === modelHash) {
      s.value.source = modelJson;
      return;
    }
    s.next(new Published(cluster, modelHash, ++this.sequence, modelJson));
  }

  model(cluster: string): PublishedModel | undefined {
    return this.models.get(cluster)?.value;
  }

  watchModel(cluster: string): Observable<PublishedModel> {
    return this.subject(this.models, cluster).pipe(filter((m): m is Published => m !== undefined));
  }

  /** Accept an extension's result for the current model; a result for an older model is refused. */
  submit(s: Omit<Submission, 'configHash'>): { accepted: boolean; configHash: string } {
    const configHash = configFilesHash(s.files);
    if (this.model(s.cluster)?.modelHash !== s.modelHash) return { accepted: false, configHash };
    const prev = this.submissions.get(s.cluster);
    this.submissions.set(s.cluster, { ...s, configHash });
    if (prev?.modelHash !== s.modelHash || prev.configHash !== configHash || prev.validation.ok !== s.validation.ok) this.changed.next(`submission:${s.cluster}`);
    return { accepted: true, configHash };
  }

  /** The extension's result for exactly this model hash, if it has answered. */
  submission(cluster: string, modelHash: string): Submission | undefined {
    const s = this.submissions.get(cluster);
    return s?.modelHash === modelHash ? s : undefined;
  }

  /** Hand a validated config to the cluster's proxy agents; the same hash is not resent. */
  deliver(cluster: string, proxyKind: ProxyKind, files: readonly ConfigFileData[], immediate = false, certificates: readonly ConfigFileData[] = []): DeliveredConfig {
    const s = this.subject(this.configs, cluster);
    const configHash = deliveryHash(files, certificates);
    if (s.value?.configHash === configHash) return s.value;
    const next = { cluster, configHash, sequence: ++this.sequence, proxyKind, files, ...(certificates.length > 0 ? { certificates } : {}), ...(immediate ? { immediate } : {}) };
    s.next(next);
    return next;
  }

  delivered(cluster: string): DeliveredConfig | undefined {
    return this.configs.get(cluster)?.value;
  }

  watchConfig(cluster: string): Observable<DeliveredConfig> {
    return this.subject(this.configs, cluster).pipe(filter((c): c is DeliveredConfig => c !== undefined));
  }

  private readonly challenges = new Map<string, BehaviorSubject<readonly AcmeChallengeData[]>>();

  /** The HTTP-01 tokens a cluster's agents must answer now (sent at once, without a reconcile run). */
  setChallenges(cluster: string, list: readonly AcmeChallengeData[]): void {
    const s = this.challenges.get(cluster) ?? new BehaviorSubject<readonly AcmeChallengeData[]>([]);
    this.challenges.set(cluster, s);
    const key = (l: readonly AcmeChallengeData[]) => l.map((c) => `${c.token}:${c.keyAuthorization}`).sort().join(',');
    if (key(s.value) !== key(list)) s.next(list);
  }

  watchChallenges(cluster: string): Observable<readonly AcmeChallengeData[]> {
    const s = this.challenges.get(cluster) ?? new BehaviorSubject<readonly AcmeChallengeData[]>([]);
    this.challenges.set(cluster, s);
    return s.asObservable();
  }

  /** Per-backend traffic of each cluster, summed over its replicas' reports (canary analysis, metrics). */
  readonly traffic = new TrafficTotals();
  private readonly trafficDeltas = new Subject<TrafficDelta[]>();

  /** What each report added to the traffic totals (for Prometheus counters). */
  get trafficDeltas$(): Observable<TrafficDelta[]> {
    return this.trafficDeltas.asObservable();
  }

  /** Per cluster: the backend verdicts last seen (upstream=verdict, sorted), to notice when one changes. */
  private readonly verdicts = new Map<string, string>();

  report(r: Omit<ReplicaReport, 'receivedAt'>, upstreams: readonly UpstreamReading[] = []): void {
    const prev = this.reports.get(r.replicaId);
    const now = this.now();
    this.reports.set(r.replicaId, { ...r, receivedAt: now });
    const deltas = this.traffic.observe(r.cluster, r.replicaId, upstreams, now);
    if (deltas.length > 0) this.trafficDeltas.next(deltas);
    // Reports come every few seconds, traffic or not: a backend starting or stopping to fail (or its
    // traffic leaving the window) is noticed here, and only such a change wakes a run (BackendsHealthy).
    const verdicts = this.traffic
      .recentUpstreams(r.cluster, now)
      .map((u) => `${u}=${backendVerdict(this.traffic.recent(r.cluster, u, now))}`)
      .join(',');
    if ((this.verdicts.get(r.cluster) ?? '') !== verdicts) {
      this.verdicts.set(r.cluster, verdicts);
      this.changed.next(`backend-health:${r.cluster}`);
    }
    // Counters change on every heartbeat; only a change of what runs is worth a reconcile.
    if (prev?.appliedHash !== r.appliedHash || prev.lastValidation?.ok !== r.lastValidation?.ok) this.changed.next(`report:${r.replicaId}`);
  }

  /**
   * A proxy agent's WatchProxyConfig stream opened; call the returned function when it ends. The
   * first stream of a replica and the end of its last one are changes the next run shows (status
   * says which replicas' agents are not connected).
   */
  agentStreamOpened(cluster: string, replicaId: string): () => void {
    const s = this.agentStreams.get(replicaId) ?? { cluster, open: 0, closedAt: 0 };
    this.agentStreams.set(replicaId, s);
    s.cluster = cluster;
    s.open++;
    if (s.open === 1) this.changed.next(`agent-connected:${replicaId}`);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      s.open--;
      if (s.open > 0) return;
      s.closedAt = this.now();
      this.changed.next(`agent-disconnected:${replicaId}`);
    };
  }

  /**
   * Replicas of a cluster whose agent the core hears: it has a stream open, or (a client that only
   * reports) its last report is under AGENT_HEARD_MS old and came after its last stream ended.
   */
  connectedAgents(cluster: string): Set<string> {
    const out = new Set<string>();
    for (const [id, s] of this.agentStreams) if (s.cluster === cluster && s.open > 0) out.add(id);
    const now = this.now();
    for (const r of this.reports.values()) {
      if (r.cluster !== cluster || out.has(r.replicaId)) continue;
      if (now - r.receivedAt < AGENT_HEARD_MS && r.receivedAt >= (this.agentStreams.get(r.replicaId)?.closedAt ?? 0)) out.add(r.replicaId);
    }
    return out;
  }

  reportsOf(cluster: string): ReplicaReport[] {
    return [...this.reports.values()].filter((r) => r.cluster === cluster);
  }

  /** The conditions of every object after a run (for WatchStatus). */
  publishStatus(objects: readonly ObjectStatusData[]): void {
    this.status.next({ sequence: ++this.sequence, objects });
  }

  watchStatus(): Observable<StatusData> {
    return this.status.asObservable();
  }

  /** Drop state of clusters and replicas that no longer exist (called by each run). */
  retain(clusters: ReadonlySet<string>, replicaIds: ReadonlySet<string>): void {
    for (const [id, r] of this.reports) if (!replicaIds.has(id) || !clusters.has(r.cluster)) this.reports.delete(id);
    for (const [id, s] of this.agentStreams) if (s.open === 0 && (!replicaIds.has(id) || !clusters.has(s.cluster))) this.agentStreams.delete(id);
    this.traffic.retain(clusters, replicaIds);
    for (const c of this.verdicts.keys()) if (!clusters.has(c)) this.verdicts.delete(c);
    for (const c of this.submissions.keys()) if (!clusters.has(c)) this.submissions.delete(c);
    for (const map of [this.models, this.configs] as const) {
      for (const [c, s] of map) {
        // Keep the subject while someone listens (an agent of a cluster being recreated); reset its value.
        if (clusters.has(c)) continue;
        if (s.observed) s.next(undefined);
        else map.delete(c);
      }
    }
  }
}
