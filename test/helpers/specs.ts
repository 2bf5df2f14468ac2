/** Build decoded specs and snapshots from plain literals, failing loudly on invalid fixtures. */
import * as E from 'fp-ts/Either';
import { decode } from '../../src/domain/codec';
import { formatPath } from '../../src/domain/issue';
import { decodeObject, type ApiObject, type MiddlewareObject, type RouteObject, type ServiceClusterObject, type StreamRouteObject } from '../../src/domain/object';
import { Snapshot } from '../../src/domain/snapshot';
import type { DesiredState } from '../../src/plan/inputs';
import type { TASK_STATES } from '../../src/domain/snapshot';

type TaskState = (typeof TASK_STATES)[number];

export function object(u: unknown): ApiObject {
  const r = decodeObject(u);
  if (E.isLeft(r)) throw new Error(`fixture is invalid: ${r.left.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  return r.right;
}

export function route(name: string, spec: Record<string, unknown>): RouteObject {
  const o = object({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name }, spec });
  if (o.kind !== 'Route') throw new Error('not a route');
  return o;
}

export function cluster(name: string, spec: Record<string, unknown>): ServiceClusterObject {
  const o = object({ apiVersion: 'swarmgate.io/v1', kind: 'ServiceCluster', metadata: { name }, spec });
  if (o.kind !== 'ServiceCluster') throw new Error('not a cluster');
  return o;
}

export function middleware(name: string, spec: Record<string, unknown>): MiddlewareObject {
  const o = object({ apiVersion: 'swarmgate.io/v1', kind: 'Middleware', metadata: { name }, spec });
  if (o.kind !== 'Middleware') throw new Error('not a middleware');
  return o;
}

/** A TCPRoute or UDPRoute. */
export function streamRoute(kind: 'TCPRoute' | 'UDPRoute', name: string, spec: Record<string, unknown>): StreamRouteObject {
  const o = object({ apiVersion: 'swarmgate.io/v1', kind, metadata: { name }, spec });
  if (o.kind !== 'TCPRoute' && o.kind !== 'UDPRoute') throw new Error('not a stream route');
  return o;
}

export function desired(routes: readonly RouteObject[], clusters: readonly ServiceClusterObject[] = []): DesiredState {
  return {
    routes: routes.map((object, i) => ({ object, generation: 1, createdAt: `2026-01-01T00:00:${String(i).padStart(2, '0')}Z` })),
    clusters: clusters.map((object) => ({ object, generation: 1 })),
    rejected: [],
  };
}

export function snapshot(u: unknown): Snapshot {
  const r = decode(Snapshot, u);
  if (E.isLeft(r)) throw new Error(`snapshot fixture is invalid: ${r.left.map((i) => `${formatPath(i.path)}: ${i.message}`).join('; ')}`);
  return r.right;
}

/** A running task of `service` with one address on `network`. */
export function task(service: string, ip: string, network = 'app', state: TaskState = 'running', desiredState: TaskState = 'running') {
  return { id: `t${ip.replace(/\./g, '')}${service.replace(/[^a-z0-9]/g, '')}`, service, state, desiredState, addresses: [{ network, ip }] };
}
