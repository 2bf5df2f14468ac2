/**
 * `swarmgate proxy-agent`: the entrypoint of a hitless proxy task, and of a rolling HAProxy task
 * (`--standalone`: no core; it builds the combined PEMs and runs HAProxy on the mounted config).
 * Settings come from the environment the core puts on the proxy service (SWARMGATE_CORE_ADDR,
 * SWARMGATE_CLUSTER, SWARMGATE_REPLICA_ID, SWARMGATE_INSECURE, SWARMGATE_PROXY_KIND); flags
 * override them for local runs.
 */
import pino from 'pino';
import { coreConnection } from '../../api/client';
import { DEFAULT_BOOT_WAIT_MS } from '../../agent/agent-boot';
import { AgentSupervisor, SUPERVISED_ENV, agentFollowsSupervisor } from '../../agent/agent-supervisor';
import { ProxyAgent } from '../../agent/proxy-agent';
import { existsSync } from 'node:fs';
import { LAST_APPLIED_DIR, PROXY_KIND_ENV, PROXY_RUNTIME } from '../../plan/proxy-runtime';
import { EXIT, type Output } from '../output';
import { componentCredentials, mountedFingerprint } from './grpc-credentials';
import { AgentCredentials, HANDED_IDENTITY_PATH } from '../../agent/agent-identity';

/** Where the agent keeps an identity the core handed it (default HANDED_IDENTITY_PATH, the task's tmpfs); tests point it elsewhere. */
export const HANDED_IDENTITY_ENV = 'SWARMGATE_HANDED_IDENTITY';

export interface ProxyAgentCommandOptions {
  readonly core?: string;
  readonly cluster?: string;
  readonly replica?: string;
  /** Default: the kind's (PROXY_RUNTIME[kind].confDir). */
  readonly confDir?: string;
  readonly insecure?: boolean;
  readonly tlsDir?: string;
  /** `nginx` or `haproxy`; default $SWARMGATE_PROXY_KIND, else nginx. */
  readonly kind?: string;
  /** Run the proxy on the mounted config without a core (rolling delivery). */
  readonly standalone?: boolean;
}

/** Set to `off` to run the agent without its supervisor (it is then the task's main process). */
export const SUPERVISOR_ENV = 'SWARMGATE_AGENT_SUPERVISOR';

/**
 * Run this same command again as a supervised child (agent-supervisor.ts, ADR 0018): when the agent
 * dies, the proxy it started keeps serving and a new agent takes it over.
 */
function supervise(env: NodeJS.ProcessEnv, log: pino.Logger): Promise<number> {
  const supervisor = new AgentSupervisor({ command: process.execPath, args: [...process.execArgv, ...process.argv.slice(1)], env, log });
  for (const sig of ['SIGQUIT', 'SIGTERM', 'SIGINT'] as const) process.on(sig, () => supervisor.stop(sig));
  supervisor.start();
  return supervisor.exited;
}

function supervised(env: NodeJS.ProcessEnv): boolean {
  return env[SUPERVISED_ENV] === '1' || env[SUPERVISOR_ENV] === 'off';
}

/**
 * The agent runs under its supervisor: if it exits, the proxy keeps serving and a new agent takes
 * it over (without the supervisor, the task and the proxy with it would end). A
 * rejected promise nobody awaited (a failed report, a listener that could not start) is logged, not
 * fatal; the proxy keeps serving. A thrown exception still ends it (the service restarts the task
 * within 200 ms: PROXY_RESTART_POLICY).
 */
function surviveRejections(log: pino.Logger): void {
  process.on('unhandledRejection', (reason) => log.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection; the agent keeps running'));
}

export async function runProxyAgent(opts: ProxyAgentCommandOptions, io: Output, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const kindText = opts.kind ?? env[PROXY_KIND_ENV] ?? 'nginx';
  if (kindText !== 'nginx' && kindText !== 'haproxy') {
    io.err(`proxy-agent: --kind / ${PROXY_KIND_ENV}: expected nginx or haproxy, got ${JSON.stringify(kindText)}`);
    return EXIT.invalid;
  }
  const runtime = PROXY_RUNTIME[kindText];
  const confDir = opts.confDir ?? runtime.confDir;
  const bootConfigs = [runtime.bootConfigPath, runtime.configPath];
  if (opts.standalone === true) {
    const log = pino({ name: 'swarmgate-proxy-agent', level: env['LOG_LEVEL'] ?? 'info', base: { standalone: true } }, pino.destination(2));
    if (!supervised(env)) return supervise(env, log.child({ supervisor: true }));
    surviveRejections(log);
    agentFollowsSupervisor(process, log);
    const agent = new ProxyAgent({ kind: kindText, cluster: opts.cluster ?? env['SWARMGATE_CLUSTER'] ?? '', replicaId: '', confDir, bootConfigs, log });
    agent.adoptRunningProxy();
    agent.start();
    for (const sig of ['SIGQUIT', 'SIGTERM', 'SIGINT'] as const) process.once(sig, () => agent.stop('SIGQUIT'));
    return agent.exited;
  }
  const core = opts.core ?? env['SWARMGATE_CORE_ADDR'];
  const cluster = opts.cluster ?? env['SWARMGATE_CLUSTER'];
  const replicaId = opts.replica ?? env['SWARMGATE_REPLICA_ID'];
  const insecure = opts.insecure === true || env['SWARMGATE_INSECURE'] === '1';
  const missing = [core === undefined ? '--core / SWARMGATE_CORE_ADDR' : '', cluster === undefined ? '--cluster / SWARMGATE_CLUSTER' : '', replicaId === undefined ? '--replica / SWARMGATE_REPLICA_ID' : ''].filter((m) => m !== '');
  if (core === undefined || cluster === undefined || replicaId === undefined) {
    io.err(`proxy-agent: missing ${missing.join(', ')}`);
    return EXIT.invalid;
  }
  const tlsDir = opts.tlsDir ?? env['SWARMGATE_TLS_DIR'];
  const mounted = componentCredentials(tlsDir, insecure);
  if (typeof mounted === 'string') {
    io.err(`proxy-agent: ${mounted}`);
    return EXIT.invalid;
  }
  const log = pino({ name: 'swarmgate-proxy-agent', level: env['LOG_LEVEL'] ?? 'info', base: { cluster, replica: replicaId.slice(0, 12) } }, pino.destination(2));
  if (!supervised(env)) return supervise(env, log.child({ supervisor: true }));
  surviveRejections(log);
  agentFollowsSupervisor(process, log);
  // With mutual TLS the core may hand the agent a newer identity over its stream (ADR 0019).
  const fingerprint = tlsDir !== undefined ? mountedFingerprint(tlsDir) : undefined;
  const credentials = fingerprint !== undefined ? new AgentCredentials({ creds: mounted, fingerprint }, env[HANDED_IDENTITY_ENV] ?? HANDED_IDENTITY_PATH, log) : undefined;
  const agent = new ProxyAgent({
    core: coreConnection(core, credentials ?? mounted),
    ...(credentials !== undefined ? { credentials } : {}),
    cluster,
    replicaId,
    kind: kindText,
    confDir,
    bootConfigs,
    log,
    statusUrl: runtime.statusUrl,
    ...(runtime.trafficPort !== undefined ? { trafficPort: runtime.trafficPort } : {}),
    ...(runtime.drainFlagPath !== undefined ? { drainFlagPath: runtime.drainFlagPath } : {}),
    // The node's volume (mounted by the core's proxy service spec): absent in older specs.
    ...(existsSync(LAST_APPLIED_DIR) ? { lastAppliedDir: LAST_APPLIED_DIR } : {}),
  });
  // Serve nothing older than the cluster's current config when the core answers in time (agent-boot.ts).
  const waitText = env['SWARMGATE_BOOT_WAIT_MS'];
  const waitMs = waitText !== undefined && /^\d{1,6}$/.test(waitText) ? Number(waitText) : DEFAULT_BOOT_WAIT_MS;
  // A proxy left running by an agent that died serves the live config already: take it over.
  if (!agent.adoptRunningProxy()) await agent.bootFromCore(waitMs);
  agent.start();
  // Swarm stops the task with the service's StopSignal (SIGQUIT: graceful); SIGTERM/SIGINT also stop gracefully.
  for (const sig of ['SIGQUIT', 'SIGTERM', 'SIGINT'] as const) process.once(sig, () => agent.stop('SIGQUIT'));
  return agent.exited;
}
