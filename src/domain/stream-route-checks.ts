/** Cross-field rules of TCPRoutes and UDPRoutes (what the codec alone cannot say). */
import { durationMs } from './brands';
import type { Issue } from './issue';
import { certificateForm } from './route-checks';
import type { TcpRouteSpec, UdpRouteSpec } from './stream-route';

function backendIssues(spec: TcpRouteSpec | UdpRouteSpec): Issue[] {
  const out: Issue[] = [];
  const seen = new Set<string>();
  spec.backends.forEach((b, i) => {
    const key = `${b.service}:${b.port}:${b.mode}:${b.network ?? ''}`;
    if (seen.has(key)) out.push({ path: ['spec', 'backends', i], message: `duplicate backend ${b.service}:${b.port} (mode ${b.mode})` });
    seen.add(key);
  });
  if (spec.backends.every((b) => b.weight === 0)) out.push({ path: ['spec', 'backends'], message: 'at least one backend needs a weight above 0' });
  return out;
}

function positive(value: string, path: (string | number)[]): Issue[] {
  return durationMs(value) === 0 ? [{ path, message: 'must be longer than 0' }] : [];
}

export function checkTcpRoute(spec: TcpRouteSpec): Issue[] {
  const out = [...backendIssues(spec), ...positive(spec.idleTimeout, ['spec', 'idleTimeout']), ...positive(spec.connectTimeout, ['spec', 'connectTimeout'])];
  if (spec.tls !== undefined) out.push(...certificateForm(spec.tls.certificate));
  const hosts = new Set<string>();
  (spec.hostnames ?? []).forEach((h, i) => {
    if (hosts.has(h)) out.push({ path: ['spec', 'hostnames', i], message: `duplicate hostname "${h}"` });
    hosts.add(h);
  });
  return out;
}

export function checkUdpRoute(spec: UdpRouteSpec): Issue[] {
  return [...backendIssues(spec), ...positive(spec.idleTimeout, ['spec', 'idleTimeout'])];
}
