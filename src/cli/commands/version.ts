/**
 * `swarmgate version [-o json]`: the CLI's version and the running core's, as `kubectl version`
 * shows client and server. The core's version is its image's `org.opencontainers.image.version`
 * label (images are built with it, see deploy/docker/); "unknown" when the image is not on the
 * node this CLI talks to. Without Docker the client line still prints, and the exit code says why.
 */
import { errorText } from '../error-text';
import type { DockerPort } from '../../observed/docker-port';
import { findCore } from '../core-presence';
import { EXIT, type Output } from '../output';

export interface CoreVersion {
  readonly state: 'running' | 'starting' | 'stopped' | 'not-installed';
  readonly service?: string;
  readonly image?: string;
  readonly version?: string;
}

export async function coreVersion(port: DockerPort): Promise<CoreVersion> {
  const core = await findCore(port);
  if (core === undefined) return { state: 'not-installed' };
  const image = core.service.Spec.TaskTemplate.ContainerSpec.Image;
  const version = await port.localImageVersion(image);
  return { state: core.running ? 'running' : core.starting !== undefined ? 'starting' : 'stopped', service: core.service.Spec.Name, image, ...(version !== undefined ? { version } : {}) };
}

function coreLine(c: CoreVersion): string {
  if (c.state === 'not-installed') return 'core:   not installed (swarmgate install)';
  const version = c.version ?? 'unknown (its image is not on this node)';
  return `core:   ${version} (${c.service ?? ''}, ${c.state === 'running' ? 'running' : c.state === 'starting' ? 'starting' : 'NOT RUNNING'}, image ${c.image ?? '?'})`;
}

export async function runVersion(port: () => DockerPort, clientVersion: string, output: string | undefined, io: Output): Promise<number> {
  let core: CoreVersion | { readonly error: string };
  try {
    core = await coreVersion(port());
  } catch (e) {
    core = { error: errorText(e) };
  }
  if (output === 'json') {
    io.out(JSON.stringify({ client: { version: clientVersion }, core }, null, 2));
  } else {
    io.out(`client: ${clientVersion}`);
    io.out('error' in core ? `core:   unknown (${core.error})` : coreLine(core));
  }
  return 'error' in core ? EXIT.usage : EXIT.ok;
}
