/**
 * Imported before dockerode. dockerode 4 loads its BuildKit session (lib/session.js) eagerly, and
 * with it @grpc/grpc-js, @grpc/proto-loader and protobufjs: about a third of a CLI command's start-up
 * (measured with node --cpu-prof on `swarmgate get routes`). Only `docker.buildImage` with BuildKit
 * uses it, and swarmgate never builds images through the Docker API, so a stub stands in; it throws
 * with a clear message if anything ever calls it.
 */
import { stubModule } from './module-stub';

function buildkitSessionUnavailable(): never {
  throw new Error('dockerode BuildKit session not loaded: swarmgate does not build images through the Docker API');
}

/** True when the stub was installed (false: dockerode not found, or its session already loaded). */
export function stubBuildkitSession(): boolean {
  return stubModule('dockerode/lib/session', buildkitSessionUnavailable);
}

stubBuildkitSession();
