/**
 * Secrets an Issuer names (the EAB HMAC key, a caBundle secret) reach the core the only way Docker
 * allows: mounted into its task. The core owns its own service spec, so when it needs one it does
 * not have, it adds the mount itself (Swarm then replaces the core's task, which reads the file on
 * start). Nothing to do by hand; `install` keeps the mounts (they are outside its spec hash) and
 * `rotate-certs` replaces only the TLS set's. Only names that exist as Docker secrets are mounted.
 */
import { CORE_SERVICE } from '../../plan/core-service-spec';
import type { DockerPort } from '../../observed/docker-port';

/** Why the secret is not readable yet, as the end of a sentence for a condition. */
export async function mountSecretIntoCore(port: DockerPort, name: string): Promise<string> {
  const secret = (await port.listSecrets()).find((s) => s.Spec.Name === name);
  if (secret === undefined) return `secret "${name}" does not exist (docker secret create ${name} FILE)`;
  const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  if (core === undefined) return `secret "${name}" is not mounted into the core, and the core's service ${CORE_SERVICE} was not found to mount it`;
  const c = core.Spec.TaskTemplate.ContainerSpec;
  const mounts = c.Secrets ?? [];
  if (mounts.some((m) => m.File.Name === name)) return `secret "${name}" is being mounted into the core (its task is replaced to read it)`;
  const added = [...mounts, { SecretID: secret.ID, SecretName: name, File: { Name: name, UID: '0', GID: '0', Mode: 0o400 } }];
  await port.updateService(core.ID, core.Version.Index, { ...core.Spec, TaskTemplate: { ...core.Spec.TaskTemplate, ContainerSpec: { ...c, Secrets: added } } });
  return `secret "${name}" is being mounted into the core (its task is replaced to read it)`;
}
