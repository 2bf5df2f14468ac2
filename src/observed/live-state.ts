/**
 * The observed inventory one run works from: the raw Docker objects the snapshot is made of, plus
 * the generated proxy configs swarmgate owns. Read once per run (observe phase); nothing after
 * that phase reads Docker again to decide what to write.
 */
import { LABELS, OWNER_VALUE } from '../domain/labels';
import { ERROR_PAGE_LABEL } from '../domain/middleware';
import type { ConfigInfo, DockerPort } from './docker-port';
import type { DockerObjects } from './to-snapshot';

/** What a run read from Docker: the snapshot's raw objects plus the generated configs. */
export interface LiveState extends DockerObjects {
  /** Owned proxy-config configs (role=proxy-config). */
  readonly proxyConfigs: readonly ConfigInfo[];
}

/** Read the inventory of one run (the observe phase): all lists at once. */
export async function readLiveState(port: DockerPort): Promise<LiveState> {
  const [services, tasks, networks, secrets, nodes, proxyConfigs, pageConfigs] = await Promise.all([
    port.listServices(),
    port.listTasks(),
    port.listNetworks(),
    port.listSecrets(),
    port.listNodes(),
    port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`]),
    port.listConfigs([ERROR_PAGE_LABEL]),
  ]);
  return { services, tasks, networks, secrets, nodes, proxyConfigs, pageConfigs };
}
