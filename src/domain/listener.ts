/**
 * A ServiceCluster's extra listener: a port published in the cluster's mode (host or ingress) beside
 * http/https, carrying TCPRoutes (protocol TCP or TLS) or UDPRoutes (protocol UDP). The proxy listens
 * on the same port inside its task as it publishes, so the ports the proxy already uses inside the
 * task are refused (listener-checks in cluster-checks.ts).
 */
import type * as t from 'io-ts';
import { DnsLabel, Port } from './brands';
import { oneOf, struct } from './codec';

/** TCP: one TCPRoute (optionally terminating TLS). TLS: TCPRoutes chosen by SNI, passed through. UDP: one UDPRoute. */
export const LISTENER_PROTOCOLS = ['TCP', 'UDP', 'TLS'] as const;
export type ListenerProtocol = (typeof LISTENER_PROTOCOLS)[number];

export const MAX_LISTENERS = 32;

export const Listener = struct('listener', { name: DnsLabel, port: Port, protocol: oneOf(LISTENER_PROTOCOLS) });
export type Listener = t.TypeOf<typeof Listener>;

/**
 * Ports the proxy itself listens on inside its task (HTTP 80, HTTPS 443, the loopback TLS and
 * passthrough listeners 10443/10444, the status, 503 and traffic-log ports 18080-18082): a listener
 * there would fail to bind or shadow one of them.
 */
export const RESERVED_TASK_PORTS: readonly number[] = [80, 443, 10443, 10444, 18080, 18081, 18082];

/** The Swarm protocol a listener publishes: TLS is TCP on the wire. */
export function listenerSwarmProtocol(l: Listener): 'tcp' | 'udp' {
  return l.protocol === 'UDP' ? 'udp' : 'tcp';
}
