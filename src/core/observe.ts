/**
 * The observe phase of a run: the whole observed inventory, read once (the services, tasks,
 * networks, secrets and nodes the snapshot is made of, and the owned proxy configs), and the
 * snapshot the pure pipeline reads. Nothing after this phase reads Docker to decide what to write.
 */
import type { Logger } from 'pino';
import type { Snapshot } from '../domain/snapshot';
import type { DockerPort } from '../observed/docker-port';
import { readLiveState, type LiveState } from '../observed/live-state';
import { toSnapshot } from '../observed/to-snapshot';

export interface Observed {
  readonly live: LiveState;
  readonly snapshot: Snapshot;
}

export async function observe(port: DockerPort, log: Logger): Promise<Observed> {
  const live = await readLiveState(port);
  const { snapshot, dropped } = toSnapshot(live);
  if (dropped.length > 0) {
    // An address that is no IP address is a daemon (or network driver) problem that takes a server out of the
    // proxies: say it at warn level, with the lines; the rest (e.g. a plugin network's driver name) is routine.
    const addresses = dropped.filter((d) => / (address|virtual IP) .* dropped \(/.test(d));
    if (addresses.length > 0) log.warn({ dropped: addresses.slice(0, 20), count: addresses.length }, 'snapshot dropped addresses that are not IP addresses');
    log.debug({ dropped: dropped.length, lines: dropped.slice(0, 20) }, 'snapshot dropped objects with names outside the allow-list');
  }
  return { live, snapshot };
}
