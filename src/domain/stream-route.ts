/**
 * TCPRoute and UDPRoute (Gateway API's layer-4 kinds): a ServiceCluster listener (`spec.listener`,
 * declared in the cluster's `spec.listeners`) → weighted Swarm backends. Backends are the HTTP
 * Route's (service, port, weight, task/vip/host mode, network) and resolve the same way. A TCPRoute
 * on a TCP listener may terminate TLS (`tls.certificate`, as a Route names it); on a TLS listener it
 * names the SNI `hostnames` it is passed through for (ADR 0015: no TLSRoute kind).
 */
import type * as t from 'io-ts';
import { CertificateName, DnsLabel, Duration, HostPattern, Port, SwarmName, Weight } from './brands';
import { bool, listOf, oneOf, struct, withDefault } from './codec';
import { BACKEND_MODES, PassiveHealthCheck } from './route';

/** NGINX's proxy_timeout default; HAProxy's `timeout client/server` take the same value. */
export const DEFAULT_TCP_IDLE_TIMEOUT = '10m' as Duration;
/** A UDP "session" (a client's address and port) ends after this long without a datagram. */
export const DEFAULT_UDP_IDLE_TIMEOUT = '30s' as Duration;
export const DEFAULT_STREAM_CONNECT_TIMEOUT = '5s' as Duration;
export const MAX_STREAM_BACKENDS = 32;

/**
 * A Route's backend without the HTTP-only fields (protocol, tls to the backend): layer 4 passes bytes
 * through, so those would be accepted and silently ignored.
 */
const StreamBackend = struct(
  'backend',
  {
    service: SwarmName,
    port: Port,
    weight: withDefault(Weight, 1 as Weight),
    mode: withDefault(oneOf(BACKEND_MODES), 'task'),
  },
  { network: SwarmName, passiveHealthCheck: PassiveHealthCheck },
);

/** A Route's certificate forms except an ACME issuer (HTTP-01 needs an HTTP route; not on listeners). */
const StreamCertificate = struct('certificate', {}, { name: CertificateName, certSecret: SwarmName, keySecret: SwarmName });
const StreamTls = struct('tls', { certificate: StreamCertificate });

export const TcpRouteSpec = struct(
  'TCPRoute spec',
  {
    serviceCluster: withDefault(DnsLabel, 'default' as DnsLabel),
    listener: DnsLabel,
    backends: listOf(StreamBackend, { min: 1, max: MAX_STREAM_BACKENDS }),
    idleTimeout: withDefault(Duration, DEFAULT_TCP_IDLE_TIMEOUT),
    connectTimeout: withDefault(Duration, DEFAULT_STREAM_CONNECT_TIMEOUT),
    // PROXY protocol v1 header to the backend, carrying the client's address.
    proxyProtocol: withDefault(bool, false),
  },
  // hostnames: SNI names on a TLS listener (required there, refused on TCP listeners);
  // tls: terminate TLS with this certificate, the backend gets plain TCP: on a TCP listener, or on a
  // TLS listener for the route's hostnames (TLS termination per SNI name; ADR 0015).
  { hostnames: listOf(HostPattern, { min: 1, max: 100 }), tls: StreamTls },
);
export type TcpRouteSpec = t.TypeOf<typeof TcpRouteSpec>;

export const UdpRouteSpec = struct('UDPRoute spec', {
  serviceCluster: withDefault(DnsLabel, 'default' as DnsLabel),
  listener: DnsLabel,
  backends: listOf(StreamBackend, { min: 1, max: MAX_STREAM_BACKENDS }),
  idleTimeout: withDefault(Duration, DEFAULT_UDP_IDLE_TIMEOUT),
});
export type UdpRouteSpec = t.TypeOf<typeof UdpRouteSpec>;
