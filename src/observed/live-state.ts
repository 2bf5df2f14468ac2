/**
 * The observed inventory one run works from: the raw Docker objects the snapshot is made of, plus
 * the generated proxy configs swarmgate owns. Read once per run (observe phase); nothing after
 * that phase reads Docker again to decide what to write.
 */
import type { ConfigInfo } from './docker-port';
import type { DockerObjects } from './to-snapshot';

/** What a run read from Docker: the snapshot's raw objects plus the generated configs. */
export interface LiveState extends DockerObjects {
  /** Owned proxy-config configs (role=proxy-config). */
  readonly proxyConfigs: readonly ConfigInfo[];
}
