/** A swarmgate core service with a running task in a FakeDocker: readers then trust stored conditions. */
import { CORE_SERVICE } from '../../src/cli/commands/install';
import { LABELS, OWNER_VALUE } from '../../src/domain/labels';
import type { FakeDocker } from '../fakes/fake-docker';

export async function addRunningCore(docker: FakeDocker): Promise<void> {
  await docker.createService({ Name: CORE_SERVICE, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate' } } });
  docker.addTask(CORE_SERVICE);
}
