/** A swarmgate core service in a FakeDocker, with a running task or none: readers trust stored conditions only with one. */
import { CORE_SERVICE } from '../../src/cli/commands/install';
import { LABELS, OWNER_VALUE } from '../../src/domain/labels';
import type { FakeDocker } from '../fakes/fake-docker';

/** `starting`: instead of a running task, one Swarm is still bringing up in this state (e.g. 'preparing'). */
export async function addCore(docker: FakeDocker, options: { readonly running: boolean; readonly image?: string; readonly starting?: string }): Promise<void> {
  await docker.createService({ Name: CORE_SERVICE, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: options.image ?? 'swarmgate' } } });
  if (options.running) docker.addTask(CORE_SERVICE);
  if (options.starting !== undefined) docker.setTaskState(docker.addTask(CORE_SERVICE), options.starting, 'running');
}

export function addRunningCore(docker: FakeDocker): Promise<void> {
  return addCore(docker, { running: true });
}
