/**
 * The core's gRPC server: a thin adapter from the Core service in core.proto to the ControlPlane,
 * plus grpc.health.v1. Streams send the current state first and then every change (level-triggered),
 * so clients resume after a disconnect by simply subscribing again.
 */
import * as grpc from '@grpc/grpc-js';
import { isIP } from 'node:net';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from 'pino';
import { combineLatest, type Subscription } from 'rxjs';
import type { ControlPlane, ProxyKind } from './control-plane';
import type { CoreHandlers } from './generated/swarmgate/v1/Core';
import { coreProto } from './proto';
import { SentFiles } from './unchanged-files';
import { MODEL_VERSION } from './model-json';
import type { UpstreamTraffic__Output } from './generated/swarmgate/v1/UpstreamTraffic';
import type { UpstreamReading } from './traffic-totals';
import { isUpstreamName } from '../domain/traffic';
import { PROXY_CAPABILITIES } from '../plan/proxy-capabilities';
import { refusal, type CallTarget, type CoreCall } from './authorise';
import { isTlsCall, peerCertificate } from './peer-identity';
import { describeIdentity } from '../domain/identity';

export interface CoreApiOptions {
  readonly plane: ControlPlane;
  /** host:port, or unix:///path */
  readonly listen: string;
  readonly credentials: grpc.ServerCredentials;
  readonly log: Logger;
}

export interface CoreApi {
  readonly port: number;
  readonly health: HealthImplementation;
  close(): Promise<void>;
}

const CLUSTER_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function badArgument(message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code: grpc.status.INVALID_ARGUMENT, details: message, metadata: new grpc.Metadata() });
}

function permissionDenied(message: string): grpc.ServiceError {
  return Object.assign(new Error(message), { code: grpc.status.PERMISSION_DENIED, details: message, metadata: new grpc.Metadata() });
}

/** The IP address of a TCP peer ("10.0.1.5:43210", "::ffff:10.0.1.5:43210"); undefined for a unix socket. */
export function peerIp(peer: string): string | undefined {
  const m = /^(.*):\d+$/.exec(peer);
  const host = m?.[1];
  if (host === undefined || isIP(host) === 0) return undefined;
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}

type AuthorisableCall = Parameters<typeof peerCertificate>[0] & { getPeer(): string };

/**
 * Checks the caller's certificate identity against the call and its target (authorise.ts); on a
 * refusal logs who tried what and returns the PERMISSION_DENIED error to send. Plaintext calls
 * (a core started with --insecure, development only) carry no identity and are not checked.
 */
function checker(plane: ControlPlane, log: Logger) {
  return (call: AuthorisableCall, name: CoreCall, target: CallTarget): grpc.ServiceError | undefined => {
    if (!isTlsCall(call)) return undefined;
    const cert = peerCertificate(call);
    const address = peerIp(call.getPeer());
    const who = cert !== undefined ? { ...cert, ...(address !== undefined ? { address } : {}) } : undefined;
    const identityCheck = plane.identityCheck;
    const why = refusal(who, name, target, { replicaCluster: (r) => plane.replicaCluster(r), replicaAddresses: (r) => plane.replicaAddresses(r), ...(identityCheck !== undefined ? { isCurrentIdentity: identityCheck } : {}) });
    if (why === undefined) return undefined;
    const identity = who?.identity !== undefined ? describeIdentity(who.identity) : 'unidentified client';
    log.warn({ identity, call: name, ...target, peer: call.getPeer() }, `permission denied: ${identity} called ${name}: ${why}`);
    return permissionDenied(`${name}: ${why}`);
  };
}

/** Ends a server stream's subscription (and runs `ended`) when the client goes away. */
function bindStream(call: grpc.ServerWritableStream<unknown, unknown>, sub: Subscription, ended?: () => void): void {
  const end = (): void => {
    sub.unsubscribe();
    ended?.();
  };
  call.on('cancelled', end);
  call.on('close', end);
  call.on('error', end);
}

function proxyKind(s: string): ProxyKind | undefined {
  return Object.hasOwn(PROXY_CAPABILITIES, s) ? (s as ProxyKind) : undefined;
}

export function coreHandlers(plane: ControlPlane, log: Logger): CoreHandlers {
  const denied = checker(plane, log);
  return {
    WatchUpstreams(call) {
      const cluster = call.request.cluster;
      if (!CLUSTER_RE.test(cluster)) {
        call.emit('error', badArgument(`cluster: expected a ServiceCluster name, got ${JSON.stringify(cluster)}`));
        return;
      }
      const refused = denied(call, 'WatchUpstreams', { cluster });
      if (refused !== undefined) {
        call.emit('error', refused);
        return;
      }
      log.debug({ cluster, peer: call.getPeer() }, 'extension subscribed');
      bindStream(
        call,
        plane.watchModel(cluster).subscribe((m) => {
          call.write({ cluster: m.cluster, modelHash: m.modelHash, sequence: String(m.sequence), modelJson: m.modelJson, modelVersion: MODEL_VERSION });
        }),
      );
    },
    SubmitConfig(call, callback) {
      const r = call.request;
      const kind = proxyKind(r.proxyKind);
      if (!CLUSTER_RE.test(r.cluster) || kind === undefined || !/^[0-9a-f]{64}$/.test(r.modelHash)) {
        callback(badArgument('cluster, proxy_kind (nginx|haproxy) and model_hash (sha256 hex) are required'));
        return;
      }
      const refused = denied(call, 'SubmitConfig', { cluster: r.cluster });
      if (refused !== undefined) {
        callback(refused);
        return;
      }
      const result = plane.submit({
        cluster: r.cluster,
        modelHash: r.modelHash,
        proxyKind: kind,
        files: r.files.map((f) => ({ path: f.path, content: Buffer.from(f.content) })),
        validation: { ok: r.validation?.ok ?? false, output: r.validation?.output ?? '' },
      });
      callback(null, result);
    },
    WatchProxyConfig(call) {
      const { cluster, replicaId } = call.request;
      if (!CLUSTER_RE.test(cluster) || replicaId === '') {
        call.emit('error', badArgument('cluster and replica_id are required'));
        return;
      }
      const refused = denied(call, 'WatchProxyConfig', { cluster, replicaId });
      if (refused !== undefined) {
        call.emit('error', refused);
        return;
      }
      log.debug({ cluster, replicaId, peer: call.getPeer() }, 'proxy agent subscribed');
      // An agent that connected with an earlier pair (the previous set's, after rotate-certs) is handed its current one (ADR 0019).
      const peer = isTlsCall(call) ? peerCertificate(call) : undefined;
      const handed = peer !== undefined ? plane.identityFor('agent', cluster, peer.fingerprint) : undefined;
      const identity = handed !== undefined ? { identity: { cert: Buffer.from(handed.cert), key: Buffer.from(handed.key), ca: Buffer.from(handed.ca) } } : {};
      const disconnected = plane.agentStreamOpened(cluster, replicaId);
      // An agent that resolves references gets a file it already has from this stream as one (ADR 0042).
      const sent = call.request.resolvesUnchangedFiles ? new SentFiles() : undefined;
      bindStream(
        call,
        // The config and the HTTP-01 tokens travel together: a token change resends the same config (no reload).
        combineLatest([plane.watchConfig(cluster), plane.watchChallenges(cluster)]).subscribe(([c, challenges]) => {
          call.write({
            cluster: c.cluster,
            configHash: c.configHash,
            sequence: String(c.sequence),
            proxyKind: c.proxyKind,
            files: sent !== undefined ? sent.encode(c.files) : c.files.map((f) => ({ path: f.path, content: f.content })),
            immediate: c.immediate === true,
            certificates: (c.certificates ?? []).map((f) => ({ path: f.path, content: f.content })),
            challenges: challenges.map((ch) => ({ token: ch.token, keyAuthorization: ch.keyAuthorization })),
            ...identity,
          });
        }),
        () => {
          disconnected();
          log.debug({ cluster, replicaId }, 'proxy agent stream ended');
        },
      );
    },
    ReportProxyState(call, callback) {
      const r = call.request;
      if (!CLUSTER_RE.test(r.cluster) || r.replicaId === '') {
        callback(badArgument('cluster and replica_id are required'));
        return;
      }
      const refused = denied(call, 'ReportProxyState', { cluster: r.cluster, replicaId: r.replicaId });
      if (refused !== undefined) {
        callback(refused);
        return;
      }
      plane.report({
        cluster: r.cluster,
        replicaId: r.replicaId,
        appliedHash: r.appliedHash,
        lastReceivedHash: r.lastReceivedHash,
        ...(r.lastValidation !== null ? { lastValidation: { ok: r.lastValidation.ok, output: r.lastValidation.output } } : {}),
        counters: {
          requests: Number(r.counters?.requests ?? 0),
          responses5xx: Number(r.counters?.responses_5xx ?? 0),
          activeConnections: Number(r.counters?.activeConnections ?? 0),
        },
      }, upstreamReadings(r.upstreams));
      callback(null, {});
    },
    WatchStatus(call) {
      const { kind, name } = call.request;
      const refused = denied(call, 'WatchStatus', {});
      if (refused !== undefined) {
        call.emit('error', refused);
        return;
      }
      bindStream(
        call,
        plane.watchStatus().subscribe((s) => {
          const objects = s.objects.filter((o) => (kind === '' || o.kind === kind) && (name === '' || o.name === name));
          call.write({ sequence: String(s.sequence), objects: objects.map((o) => ({ kind: o.kind, name: o.name, conditions: [...o.conditions] })), replicas: [] });
        }),
      );
    },
  };
}

export async function startCoreApi(options: CoreApiOptions): Promise<CoreApi> {
  const server = new grpc.Server({
    // Notice an agent that vanished without closing its stream within 15 s (status: AgentsDisconnected).
    // Clients ping every 3 s (client.ts); grpc-js servers accept pings at any rate (no too_many_pings).
    'grpc.keepalive_time_ms': 10_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    // SubmitConfig carries whole rendered configs (~1 MB per 1,000 routes).
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
  });
  server.addService(coreProto().swarmgate.v1.Core.service, coreHandlers(options.plane, options.log));
  const health = new HealthImplementation({ '': 'SERVING', 'swarmgate.v1.Core': 'SERVING' });
  health.addToServer(server);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(options.listen, options.credentials, (err, p) => (err !== null ? reject(err) : resolve(p)));
  });
  options.log.info({ listen: options.listen, port }, 'gRPC API listening');
  return {
    port,
    health,
    close: () =>
      new Promise<void>((resolve) => {
        health.setStatus('', 'NOT_SERVING');
        // Streams never end by themselves: give unary calls a moment, then cut the rest.
        const timer = setTimeout(() => server.forceShutdown(), 1_000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}

/** The agent's per-upstream counters; malformed entries (names outside the allow-list) are dropped. */
function upstreamReadings(list: readonly UpstreamTraffic__Output[]): UpstreamReading[] {
  return list
    .filter((u) => isUpstreamName(u.upstream))
    .slice(0, 10_000)
    .map((u) => ({ upstream: u.upstream, requests: Number(u.requests), responses5xx: Number(u.responses_5xx), latencyBuckets: u.latencyBuckets.map(Number) }));
}
