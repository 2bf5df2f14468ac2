/**
 * The observe phase of a run: the whole observed inventory, read once (the services, tasks,
 * networks, secrets and nodes the snapshot is made of, and the owned proxy configs), and the
 * snapshot the pure pipeline reads. Nothing after this phase reads Docker to decide what to write.
 */
import type { Logger } from 'pino';
import type { Snapshot } from '../domain/snapshot';
import type { DockerPort } from '../observed/docker-port';
import { readLiveState, type LiveState } from '../observed/live-state';
import type { SnapshotConverter } from '../observed/snapshot-converter';
import { toSnapshot } from '../observed/to-snapshot';

export interface Observed {
  readonly live: LiveState;
  readonly snapshot: Snapshot;
}

/**
 * `converter` keeps the last listing's conversions (ADR 0047): unchanged objects keep their snapshot
 * values, so the task fast path compares by identity. Without one, everything is converted anew.
 */
export async function observe(port: DockerPort, log: Logger, converter?: SnapshotConverter): Promise<Observed> {
  const live = await readLiveState(port);
  const { snapshot, dropped } = converter !== undefined ? converter.convert(live) : toSnapshot(live);
  if (dropped.length > 0) {
    // An address that is no IP address is a daemon (or network driver) problem that takes a server out of the
    // proxies: say it at warn level, with the lines; the rest (e.g. a plugin network's driver name) is routine.
    const addresses = dropped.filter((d) => / (address|virtual IP) .* dropped \(/.test(d));
    if (addresses.length > 0) log.warn({ dropped: addresses.slice(0, 20), count: addresses.length }, 'snapshot dropped addresses that are not IP addresses');
    log.debug({ dropped: dropped.length, lines: dropped.slice(0, 20) }, 'snapshot dropped objects with names outside the allow-list');
  }
  return { live, snapshot };
}
