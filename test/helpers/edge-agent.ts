/**
 * What the component tests of dynamic endpoints through the agent share: the core's gRPC API on a
 * unix socket, a connection to it, and one ProxyAgent (cluster `edge`, replica `task-1`) running
 * NGINX from a boot config that answers "boot" on `http`; and the PIDs of that NGINX's workers.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { coreConnection } from '../../src/api/client';
import type { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi, type CoreApi } from '../../src/api/server';
import { ProxyAgent, type ProxyAgentOptions } from '../../src/agent/proxy-agent';

export interface EdgeAgent {
  readonly api: CoreApi;
  readonly core: ReturnType<typeof coreConnection>;
  readonly agent: ProxyAgent;
}

export async function startEdgeAgent(o: {
  readonly dir: string;
  readonly confDir: string;
  readonly plane: ControlPlane;
  readonly log: Logger;
  readonly http: number;
  /** The Lua balancer's control port (the rendered config's dynamicEndpoints.controlPort). */
  readonly control: number;
  /** More agent options (drain flag, traffic port, pacer). */
  readonly agent?: Partial<ProxyAgentOptions>;
}): Promise<EdgeAgent> {
  const socket = `unix://${o.dir}/core.sock`;
  const api = await startCoreApi({ plane: o.plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log: o.log });
  const core = coreConnection(socket, grpc.credentials.createInsecure());
  const boot = join(o.dir, 'boot.conf');
  writeFileSync(boot, `pid ${o.confDir}/nginx.pid;\nerror_log stderr error;\nevents {}\nhttp { access_log off; server { listen ${o.http}; location / { return 200 "boot\\n"; } } }\n`);
  const agent = new ProxyAgent({ core, cluster: 'edge', replicaId: 'task-1', confDir: o.confDir, bootConfigs: [boot], log: o.log, heartbeatMs: 200, endpointsPort: o.control, ...o.agent });
  agent.start();
  return { api, core, agent };
}

/** Stop the agent (and its NGINX), close the connection and the API. */
export async function stopEdgeAgent(e: { readonly agent: ProxyAgent; readonly core: { close(): void }; readonly api: CoreApi }): Promise<void> {
  e.agent.stop('SIGTERM');
  await e.agent.exited;
  e.core.close();
  await e.api.close();
}

/** The PIDs of the workers of the NGINX whose pid file is in `confDir`, sorted. */
export function nginxWorkerPids(confDir: string): number[] {
  const master = Number(readFileSync(join(confDir, 'nginx.pid'), 'utf8').trim());
  return readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim().split(/\s+/).map(Number).sort();
}
