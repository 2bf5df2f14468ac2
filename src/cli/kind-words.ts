/** How the CLI names kinds (`route/shop`) and reads them back, kubectl's way. No heavy imports: `get` and `wait` start with it. */
import { KINDS, type Kind } from '../domain/meta';

export function resourceName(kind: Kind): string {
  return kind.toLowerCase();
}

/** route, routes, servicecluster(s), sc, middleware(s), mw, tcproute(s), udproute(s), issuer(s) — as kubectl accepts singular, plural and short names. */
export function parseKind(word: string): Kind | undefined {
  const w = word.toLowerCase();
  if (['route', 'routes', 'rt'].includes(w)) return 'Route';
  if (['servicecluster', 'serviceclusters', 'sc'].includes(w)) return 'ServiceCluster';
  if (['middleware', 'middlewares', 'mw'].includes(w)) return 'Middleware';
  if (['tcproute', 'tcproutes'].includes(w)) return 'TCPRoute';
  if (['udproute', 'udproutes'].includes(w)) return 'UDPRoute';
  if (['issuer', 'issuers'].includes(w)) return 'Issuer';
  return KINDS.find((k) => k.toLowerCase() === w);
}
