/**
 * The `BackendsHealthy` condition of a Route: how the backends it proxies to answered the proxies'
 * requests over the last HEALTH_WINDOW_MS (src/domain/backend-health.ts), from the agents' traffic
 * counters. False (BackendErrors) once a backend answered nothing but 5xx; True (BackendsAnswer) when
 * backends answered; Unknown when there was (almost) no traffic, or nothing counts it (a cluster
 * without proxy agents: rolling delivery). Messages name backends, never counts, so an unchanged
 * verdict writes nothing; the counts go with the status (`backends`) whenever it is written.
 */
import { condition, type Condition } from '../domain/conditions';
import { backendVerdict, HEALTH_WINDOW_MS, type RecentCount } from '../domain/backend-health';
import type { BackendTraffic } from '../domain/status-label';
import type { ProxyModel, Upstream } from '../plan/model';
import { routeUpstreams } from './model-index';

/** Recent requests and 5xx answers of one upstream of a cluster. */
export type RecentTraffic = (cluster: string, upstream: string) => RecentCount;

const backendName = (u: Upstream): string => `${u.service}:${u.port}`;
const WINDOW = `the last ${HEALTH_WINDOW_MS / 1000} s`;

/** The condition and the per-backend counts; `traffic` undefined: nothing counts this cluster's traffic. */
export function backendsHealthy(model: ProxyModel, route: string, traffic: RecentTraffic | undefined): { condition: Condition; backends: BackendTraffic[] } {
  const upstreams = routeUpstreams(model, route);
  if (traffic === undefined)
    return { condition: condition('BackendsHealthy', 'Unknown', 'NoTrafficData', `cluster "${model.cluster}" has no proxy agents (rolling delivery): backend answers are not counted`), backends: [] };
  if (upstreams.length === 0) return { condition: condition('BackendsHealthy', 'Unknown', 'NoTrafficData', 'no rule of this route proxies to a backend'), backends: [] };
  const counted = upstreams.map((u) => ({ u, count: traffic(model.cluster, u.name) }));
  const backends = counted.map(({ u, count }) => ({ backend: backendName(u), requests: count.requests, responses5xx: count.responses5xx }));
  const failing = counted.filter(({ count }) => backendVerdict(count) === 'failing').map(({ u }) => backendName(u));
  if (failing.length > 0)
    return {
      condition: condition(
        'BackendsHealthy',
        'False',
        'BackendErrors',
        `every request to ${failing.join(', ')} in ${WINDOW} got a 5xx answer (the backend fails, or the proxy cannot reach it: is the service listening on that port?)`,
      ),
      backends,
    };
  const answering = counted.filter(({ count }) => backendVerdict(count) === 'answering').map(({ u }) => backendName(u));
  if (answering.length > 0) return { condition: condition('BackendsHealthy', 'True', 'BackendsAnswer', `${answering.join(', ')} answered requests in ${WINDOW}`), backends };
  return { condition: condition('BackendsHealthy', 'Unknown', 'NotEnoughTraffic', `too few requests to this route's backends in ${WINDOW} to judge them`), backends };
}
