import { ACME_DIR_IN_TASKS } from '../../plan/acme-routes';

/** Where the rendered configuration runs: paths and internal ports, overridable for tests. */
export interface NginxRenderOptions {
  /** Directory where Docker mounts secrets in the proxy task. */
  readonly secretsDir: string;
  /** Dynamic stream module (SNI routing); null when NGINX has it built in. */
  readonly streamModulePath: string | null;
  readonly pidPath: string;
  /** Access log destination; /dev/stdout reaches `docker service logs`. Tests use a file (a socket stdout cannot be opened). */
  readonly accessLogPath: string;
  /** Ports NGINX listens on inside the proxy task (the service publishes them). */
  readonly httpPort: number;
  readonly httpsPort: number;
  /** Loopback listeners behind the SNI router; never published. */
  readonly tlsInternalPort: number;
  readonly passthroughInternalPort: number;
  /** Loopback-only listener for stub_status, read by the agent; never on a public virtual host. */
  readonly statusPort: number;
  /** Loopback listener answering 503: every HTTP upstream's backup, used when no task is reachable. */
  readonly unavailablePort: number;
  /**
   * Loopback UDP port of the proxy agent's traffic listener: with hitless delivery NGINX sends one
   * short syslog line per request (upstream, status, time) there, for per-backend counters.
   * Only hitless clusters get it: without an agent listening, NGINX logs an error per request.
   */
  readonly trafficLogPort: number;
  /**
   * Hitless delivery: while this file exists, responses carry `Connection: close`. The agent
   * creates it around each reload so keep-alive clients close their connections themselves
   * instead of racing the old workers' close of idle connections (see nginx-drain.ts).
   */
  readonly drainFlagPath: string;
  /** Where the agent writes ACME certificates and, under http01/, the HTTP-01 tokens (ADR 0013). */
  readonly acmeDir: string;
  /**
   * Dynamic endpoints (ADR 0016): the config carries routes only and a Lua balancer picks each
   * upstream's peer from a shared dictionary the agent fills; null: static upstream blocks.
   */
  readonly dynamicEndpoints: DynamicEndpointsOptions | null;
  /**
   * ADR 0028: hosts with default TLS settings share one TLS context whose certificate is chosen by
   * SNI (`ssl_certificate $variable`), so `nginx -t` and reloads do not grow with TLS hosts. false
   * gives every TLS host its own server certificate as before (the benchmark's "before" column).
   */
  readonly sharedTlsServer: boolean;
  /**
   * ADR 0050, with dynamic endpoints only: proxy-only hosts are lines of the endpoint set served by
   * a few table servers, not a `server` block each. false renders every host as a block (the
   * benchmark's "before" column, and the reference the table is tested against).
   */
  readonly routeTable: boolean;
}

export interface DynamicEndpointsOptions {
  /** Loopback-only port of the endpoint the agent PUTs the set to; never published. */
  readonly controlPort: number;
  /** The endpoints file the agent keeps next to the config; a fresh NGINX seeds its set from it. */
  readonly endpointsPath: string;
  /** Directory of Debian's dynamic modules (ndk_http_module.so, ngx_http_lua_module.so). */
  readonly modulesDir: string;
}

export const DEFAULT_DYNAMIC_ENDPOINTS: DynamicEndpointsOptions = {
  controlPort: 18083,
  endpointsPath: '/run/swarmgate/nginx/endpoints.txt',
  modulesDir: '/usr/lib/nginx/modules',
};

export const DEFAULT_NGINX_OPTIONS: NginxRenderOptions = {
  secretsDir: '/run/secrets',
  streamModulePath: '/usr/lib/nginx/modules/ngx_stream_module.so',
  pidPath: '/run/nginx.pid',
  accessLogPath: '/dev/stdout',
  httpPort: 80,
  httpsPort: 443,
  tlsInternalPort: 10443,
  passthroughInternalPort: 10444,
  statusPort: 18080,
  unavailablePort: 18081,
  trafficLogPort: 18082,
  drainFlagPath: '/run/swarmgate/draining',
  acmeDir: ACME_DIR_IN_TASKS,
  dynamicEndpoints: null,
  sharedTlsServer: true,
  routeTable: true,
};
