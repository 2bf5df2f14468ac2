/**
 * `swarmgate proxy-agent`: the entrypoint of a hitless proxy task. Settings come from the
 * environment the core puts on the proxy service (SWARMGATE_CORE_ADDR, SWARMGATE_CLUSTER,
 * SWARMGATE_REPLICA_ID, SWARMGATE_INSECURE); flags override them for local runs.
 */
import pino from 'pino';
import { coreClient } from '../../api/client';
import { ProxyAgent } from '../../components/proxy-agent';
import { BOOT_CONFIG_PATH, NGINX_CONFIG_PATH } from '../../apply/proxy-service-spec';
import { DEFAULT_NGINX_OPTIONS } from '../../render/nginx/options';
import { EXIT, type Output } from '../output';
import { componentCredentials } from './grpc-credentials';

export interface ProxyAgentCommandOptions {
  readonly core?: string;
  readonly cluster?: string;
  readonly replica?: string;
  readonly confDir: string;
  readonly insecure?: boolean;
  readonly tlsDir?: string;
}

export async function runProxyAgent(opts: ProxyAgentCommandOptions, io: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const core = opts.core ?? env['SWARMGATE_CORE_ADDR'];
  const cluster = opts.cluster ?? env['SWARMGATE_CLUSTER'];
  const replicaId = opts.replica ?? env['SWARMGATE_REPLICA_ID'];
  const insecure = opts.insecure === true || env['SWARMGATE_INSECURE'] === '1';
  const missing = [core === undefined ? '--core / SWARMGATE_CORE_ADDR' : '', cluster === undefined ? '--cluster / SWARMGATE_CLUSTER' : '', replicaId === undefined ? '--replica / SWARMGATE_REPLICA_ID' : ''].filter((m) => m !== '');
  if (core === undefined || cluster === undefined || replicaId === undefined) {
    io.err(`proxy-agent: missing ${missing.join(', ')}`);
    return EXIT.invalid;
  }
  const credentials = componentCredentials(opts.tlsDir ?? env['SWARMGATE_TLS_DIR'], insecure);
  if (typeof credentials === 'string') {
    io.err(`proxy-agent: ${credentials}`);
    return EXIT.invalid;
  }
  const log = pino({ name: 'swarmgate-proxy-agent', level: env['LOG_LEVEL'] ?? 'info', base: { cluster, replica: replicaId.slice(0, 12) } }, pino.destination(2));
  const agent = new ProxyAgent({
    client: coreClient(core, credentials),
    cluster,
    replicaId,
    confDir: opts.confDir,
    bootConfigs: [BOOT_CONFIG_PATH, NGINX_CONFIG_PATH],
    log,
    statusUrl: `http://127.0.0.1:${DEFAULT_NGINX_OPTIONS.statusPort}/nginx_status`,
  });
  agent.start();
  // Swarm stops the task with the service's StopSignal (SIGQUIT: graceful); SIGTERM/SIGINT also stop gracefully.
  for (const sig of ['SIGQUIT', 'SIGTERM', 'SIGINT'] as const) process.once(sig, () => agent.stop('SIGQUIT'));
  return agent.exited;
}
