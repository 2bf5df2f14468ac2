/**
 * How a proxy task of each kind runs, for the core's proxy service spec and the agent's defaults:
 * where configs are mounted, what the container runs, and what the agent needs to know.
 * NGINX's values are the ones proxy-service-spec.ts has always used.
 *
 * HAProxy reads each TLS certificate and key from one combined PEM file that only the task can
 * build (from its mounted secrets), so an HAProxy task always runs the agent: with the core's
 * address for hitless delivery, `--standalone` for rolling delivery (it builds the PEMs for the
 * mounted config and runs `haproxy -W -db` on it; no stream, no reports). The agent turns the
 * task's SIGQUIT into HAProxy's soft stop (SIGUSR1), so the task's StopSignal stays SIGQUIT.
 */
import type { ProxyKind } from './proxy-capabilities';
import { DEFAULT_HAPROXY_OPTIONS } from '../render/haproxy/options';
import { DEFAULT_NGINX_OPTIONS } from '../render/nginx/options';

export const NGINX_CONFIG_PATH = '/etc/nginx/nginx.conf';
/** Hitless delivery: where the boot config (last good at the last service update) is mounted. */
export const BOOT_CONFIG_PATH = '/etc/swarmgate/boot/nginx.conf';
/**
 * Hitless delivery with dynamic endpoints: where the endpoint set rendered with the boot config is
 * mounted (both kinds), so a task that boots while the core is unreachable serves its backends
 * instead of answering 503 (boot-endpoints.ts, ADR 0035).
 */
export const BOOT_ENDPOINTS_PATH = '/etc/swarmgate/boot/endpoints.txt';
/** The agent's command, run by the proxy image's entrypoint (swarmgate-proxy-init: a loop that restarts it, ADR 0018). */
export const AGENT_ARGS = ['swarmgate', 'proxy-agent'] as const;

export interface ProxyRuntime {
  readonly kind: ProxyKind;
  /** The rendered config's file name (renderCluster's `main`). */
  readonly mainFile: string;
  /** Rolling delivery: where the rendered config is mounted (the image's placeholder is there). */
  readonly configPath: string;
  /** Hitless delivery: where the boot config (last good) is mounted. */
  readonly bootConfigPath: string;
  /** Rolling delivery: the container's Args; absent: the image's CMD (NGINX alone). */
  readonly rollingArgs?: readonly string[];
  /** Hitless delivery: the agent's Args (its environment says the rest: core address, cluster, task). */
  readonly agentArgs: readonly string[];
  /** The agent's default writable config directory. */
  readonly confDir: string;
  /** Loopback status URL the agent reads counters from (rendered configs serve it). */
  readonly statusUrl: string;
  /** Loopback UDP port the rendered config sends per-request traffic lines to; absent: none. */
  readonly trafficPort?: number;
  /** The flag file the rendered config tests to ask clients to close during a reload; absent: none. */
  readonly drainFlagPath?: string;
}

/**
 * Hitless delivery: where the node's volume of the cluster's last applied config is mounted
 * (agent/last-applied.ts, ADR 0018); the agent keeps it only when the directory exists.
 */
export const LAST_APPLIED_DIR = '/var/lib/swarmgate/last';

/** The node-local volume (one per cluster, created by Docker on each node on first use) mounted there. */
export function lastAppliedVolume(cluster: string): string {
  return `sg-last-${cluster}`;
}

/**
 * Where a task's agent keeps its runtime files: the live config, the ACME certificates and keys
 * the core delivers (ACME_DIR_IN_TASKS), the HTTP-01 tokens, HAProxy's combined PEMs (certificate +
 * key, HAPROXY_CERT_DIR) and sockets. A tmpfs mount in every task the agent runs in
 * (proxyServiceSpec), so no private key is ever written to the container's writable layer, i.e.
 * the node's disk; it is gone with the task (the core delivers again to a new one). 0755: NGINX's
 * workers (not root) traverse it to the tokens and the drain flag; the keys below are 0600.
 */
export const AGENT_RUNTIME_DIR = '/run/swarmgate';
/** The tmpfs mount itself (ADR 0027). 64 MiB, as Docker's /dev/shm: the configs of thousands of routes fit many times. */
export const AGENT_RUNTIME_TMPFS = { Type: 'tmpfs', Source: '', Target: AGENT_RUNTIME_DIR, TmpfsOptions: { SizeBytes: 64 * 2 ** 20, Mode: 0o755 } } as const;

export const HAPROXY_CONFIG_PATH = '/etc/haproxy/haproxy.cfg';
export const HAPROXY_BOOT_CONFIG_PATH = '/etc/swarmgate/boot/haproxy.cfg';
/** The agent's proxy kind when `--kind` is not given; absent: nginx. */
export const PROXY_KIND_ENV = 'SWARMGATE_PROXY_KIND';

export const PROXY_RUNTIME: Readonly<Record<ProxyKind, ProxyRuntime>> = {
  nginx: {
    kind: 'nginx',
    mainFile: 'nginx.conf',
    configPath: NGINX_CONFIG_PATH,
    bootConfigPath: BOOT_CONFIG_PATH,
    agentArgs: [...AGENT_ARGS],
    confDir: '/run/swarmgate/nginx',
    statusUrl: `http://127.0.0.1:${DEFAULT_NGINX_OPTIONS.statusPort}/nginx_status`,
    trafficPort: DEFAULT_NGINX_OPTIONS.trafficLogPort,
    drainFlagPath: DEFAULT_NGINX_OPTIONS.drainFlagPath,
  },
  haproxy: {
    kind: 'haproxy',
    mainFile: 'haproxy.cfg',
    configPath: HAPROXY_CONFIG_PATH,
    bootConfigPath: HAPROXY_BOOT_CONFIG_PATH,
    rollingArgs: [...AGENT_ARGS, '--kind', 'haproxy', '--standalone'],
    agentArgs: [...AGENT_ARGS, '--kind', 'haproxy'],
    confDir: `${DEFAULT_HAPROXY_OPTIONS.runtimeDir}/conf`,
    statusUrl: `http://127.0.0.1:${DEFAULT_HAPROXY_OPTIONS.statusPort}/haproxy_status;csv`,
    trafficPort: DEFAULT_HAPROXY_OPTIONS.trafficLogPort,
  },
};

/**
 * Files NGINX's workers must read (the shared TLS server's certificates and keys, basicAuth users
 * files, ACME certificates): owned by root, group of the workers, mode 0440 — readable by the
 * workers and root, by no one else in the task. The proxy image's NGINX has no `user` directive and
 * Debian builds it without `--user`, so its workers run as nobody:nogroup (65534).
 */
export const NGINX_WORKER_GID = 65534;
export const WORKER_READABLE_MODE = 0o440;
