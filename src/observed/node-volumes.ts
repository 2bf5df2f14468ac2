/**
 * Named volumes of the Docker engine this process talks to (one node's, never the Swarm's: volumes are
 * node-local). Only the node clean-up job (cli/commands/node-volumes.ts, ADR 0020) uses it, so it is
 * kept out of the DockerPort the core and the CLI share.
 */
import Dockerode from 'dockerode';
import { dockerodeOptions, parseDockerHost, toDockerApiError } from './dockerode-adapter';

export type VolumeRemoval = 'removed' | 'absent' | 'in-use';

export interface NodeVolumes {
  /** Names of the local volumes starting with `prefix`. */
  names(prefix: string): Promise<string[]>;
  remove(name: string): Promise<VolumeRemoval>;
}

export function createNodeVolumes(docker: Dockerode = new Dockerode(dockerodeOptions(parseDockerHost(process.env)))): NodeVolumes {
  return {
    names: async (prefix) => {
      try {
        const { Volumes } = (await docker.listVolumes()) as { Volumes?: { Name: string }[] | null };
        return (Volumes ?? []).map((v) => v.Name).filter((n) => n.startsWith(prefix));
      } catch (e) {
        throw toDockerApiError(e, 'listVolumes');
      }
    },
    remove: async (name) => {
      try {
        await docker.getVolume(name).remove();
        return 'removed';
      } catch (e) {
        const err = toDockerApiError(e, 'removeVolume');
        if (err.statusCode === 404) return 'absent';
        // 409 "volume is in use": a container (a proxy task still stopping) mounts it.
        if (err.statusCode === 409) return 'in-use';
        throw err;
      }
    },
  };
}
