/** Where the rendered haproxy.cfg runs: paths, addresses and ports, overridable for tests. */
export interface HaproxyRenderOptions {
  /**
   * Directory of the combined PEM files (certificate + key, one file per pair of Docker secrets).
   * HAProxy reads both from one `crt` file, so the delivery layer builds them: see haproxyPemFiles.
   */
  readonly certDir: string;
  /** Directory where Docker mounts secrets in the proxy task (CA bundles HAProxy reads as they are). */
  readonly secretsDir: string;
  /** Writable directory for the loopback-only UNIX sockets between the SNI router and the TLS listeners. */
  readonly runtimeDir: string;
  /** Address the public listeners bind; "" means every IPv4 address (like NGINX's `listen 80`). */
  readonly bindAddress: string;
  /** Ports HAProxy listens on inside the proxy task (the service publishes them). */
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Loopback-only listener for the stats page and the health check; never on a public frontend. */
  readonly statusPort: number;
  /** `log` target: "stdout" reaches `docker service logs`; a syslog address otherwise. */
  readonly logTarget: string;
  /**
   * Hitless delivery: every log line goes to the proxy agent on this loopback UDP port instead; the
   * agent counts per-backend traffic from it and prints the access log on its own stdout.
   */
  readonly trafficLogPort: number;
  /**
   * Hosts without client certificates share one TLS listener reading a crt-list (ADR 0032). `false`
   * renders one listener per certificate as before; only the benchmark uses it, for its "before" column.
   */
  readonly crtList: boolean;
  /**
   * Dynamic endpoints (ADR 0031): every backend gets server slots the agent fills through the
   * runtime API (`<runtimeDir>/admin.sock`), seeded from `<runtimeDir>/server-state` at every start
   * and reload; false: one server per task in the config.
   */
  readonly dynamicEndpoints: boolean;
}

/** The runtime API socket and the server-state file of a dynamic-endpoints config, both under runtimeDir. */
export function haproxyDynamicPaths(runtimeDir: string): { readonly adminSocket: string; readonly stateFile: string } {
  const dir = runtimeDir.replace(/\/+$/, '');
  return { adminSocket: `${dir}/admin.sock`, stateFile: `${dir}/server-state` };
}

export const HAPROXY_CERT_DIR = '/run/swarmgate/haproxy/certs';

export const DEFAULT_HAPROXY_OPTIONS: HaproxyRenderOptions = {
  certDir: HAPROXY_CERT_DIR,
  secretsDir: '/run/secrets',
  runtimeDir: '/run/swarmgate/haproxy',
  bindAddress: '',
  httpPort: 80,
  httpsPort: 443,
  statusPort: 18080,
  logTarget: 'stdout',
  trafficLogPort: 18082,
  crtList: true,
  dynamicEndpoints: false,
};
