/**
 * Backend health from the proxies' own traffic: how each upstream (a backend service and port)
 * answered over a recent window, as the agents count it (requests and 5xx answers, see
 * src/agent/traffic-counters.ts). A backend that answers every request with a 5xx — including the
 * 502/503/504 a proxy sends when it cannot reach it — is failing; one that answered anything else
 * is answering; with too few requests nothing can be said.
 */

/** The window the verdict looks at. */
export const HEALTH_WINDOW_MS = 60_000;
/** Fewer requests than this, all 5xx, are not enough to call a backend failing (one 503 proves little). */
export const MIN_FAILING_REQUESTS = 3;

export interface RecentCount {
  readonly requests: number;
  readonly responses5xx: number;
}

export type BackendVerdict = 'idle' | 'undecided' | 'failing' | 'answering';

export function backendVerdict(c: RecentCount): BackendVerdict {
  if (c.requests === 0) return 'idle';
  if (c.responses5xx < c.requests) return 'answering';
  return c.requests >= MIN_FAILING_REQUESTS ? 'failing' : 'undecided';
}
