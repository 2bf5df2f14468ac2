/**
 * `swarmgate install` deploys the core as a Swarm service on a manager with the Docker socket
 * mounted (idempotent: an unchanged spec is not updated); `swarmgate uninstall` removes the core,
 * the proxies and their generated configs (`--purge` also removes the stored Route/ServiceCluster specs).
 */
import { DEFAULT_CORE_IMAGE, DEFAULT_DOCKER_SOCKET } from '../install-defaults';
import { createHash, randomBytes } from 'node:crypto';
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { DockerPort, ServiceInfo, ServiceSpec } from '../../observed/docker-port';
import { isInUse, isNameConflict, isNotFound } from '../../observed/docker-errors';
import { ALL_LAST_APPLIED, lastAppliedVolumesOf, nodeCleanupJobSpec, nodeCleanupName } from '../../plan/node-cleanup-spec';
import { runNodeCleanupJob } from '../node-cleanup-run';
import { discardTlsSet, INSTALL_CONFLICT, lostCoreRace, ROTATE_CONFLICT, setSecretIds } from './core-race';
import { canonicalJson } from '../../plan/hash';
import { EXIT, type Output } from '../output';
import { CONTROL_NETWORK, CORE_SERVICE, coreDockerSocket, coreServiceSpec, coreTlsMounts, type InstallOptions } from '../../plan/core-service-spec';
import { markUninstalled } from '../uninstalled-status';
import { TLS_DIR_IN_TASKS, generateTlsMaterial } from '../../api/tls';
import { createTlsSet, tlsSets, type TlsSet } from '../../apply/tls-secrets';
import { ACME_STATE_KEY, TLS_FILES } from '../../domain/tls-layout';
import { ACME_COPY_ROLE } from '../../plan/acme-copies';
import type { SecretRef } from '../../plan/tls-sets';

export { CONTROL_NETWORK, CORE_NODE_OPTIONS, CORE_RESTART_POLICY, CORE_SERVICE, GRPC_PORT, METRICS_PORT, coreServiceSpec, type InstallOptions } from '../../plan/core-service-spec';

async function ensureControlNetwork(port: DockerPort, io: Output): Promise<string> {
  const find = async (): Promise<string | undefined> => (await port.listNetworks()).find((n) => n.Name === CONTROL_NETWORK && n.Scope === 'swarm')?.Id;
  const existing = await find();
  if (existing !== undefined) return existing;
  try {
    const id = await port.createNetwork({ Name: CONTROL_NETWORK, Driver: 'overlay', Attachable: false, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: 'control-network' } });
    io.out(`network/${CONTROL_NETWORK} created`);
    return id;
  } catch (e) {
    // A concurrent install created it first (Swarm keeps network names unique): use theirs.
    const theirs = isNameConflict(e) ? await find() : undefined;
    if (theirs === undefined) throw e;
    return theirs;
  }
}

/** The value of `flag` in a service's args. */
function argValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

/**
 * The set the installed core uses (and the previous one it still trusts, ADR 0019), else the newest
 * complete one, else a new one. `core` is the core as install read it, before this listing: a core is
 * only ever stored after its set's four secrets, so the set it names is complete here (unless a
 * concurrent rotation or uninstall removed it, and then the write on that read loses).
 */
async function ensureTlsSet(port: DockerPort, core: ServiceInfo | undefined): Promise<{ set: TlsSet; previous?: TlsSet; created?: true }> {
  const sets = tlsSets(await port.listSecrets());
  const args = core?.Spec.TaskTemplate.ContainerSpec.Args ?? [];
  const mounted = new Set((core?.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretID));
  const current = sets.find((set) => set.id === argValue(args, '--tls-set')) ?? sets.find((set) => mounted.has(set.ca.id)) ?? sets[0];
  const previous = sets.find((set) => set.id === argValue(args, '--tls-previous-set') && set.id !== current?.id);
  if (current !== undefined) return { set: current, ...(previous !== undefined ? { previous } : {}) };
  // Reported only once the core that mounts it is stored (a loser of an install race removes it again).
  return { set: await createTlsSet(port, generateTlsMaterial()), created: true };
}

/** Every file name of the gRPC TLS material (sets, previous set, identities): what rotate-certs and install own. */
const TLS_FILE_NAMES: ReadonlySet<string> = new Set(Object.values(TLS_FILES));

/** The ACME state key (ACME_STATE_KEY): made once, kept across installs and rotations, removed by uninstall. */
async function ensureAcmeStateKey(port: DockerPort, io: Output): Promise<SecretRef> {
  const found = (await port.listSecrets()).find((s) => s.Spec.Labels?.[LABELS.owner] === OWNER_VALUE && s.Spec.Labels[LABELS.role] === ACME_STATE_KEY.role);
  if (found !== undefined) return { id: found.ID, name: found.Spec.Name };
  let id: string;
  try {
    id = await port.createSecret({ Name: ACME_STATE_KEY.secretName, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: ACME_STATE_KEY.role }, Data: randomBytes(32).toString('base64') });
  } catch (e) {
    // A concurrent install created it first: use theirs (one key for both).
    const theirs = isNameConflict(e) ? (await port.listSecrets()).find((x) => x.Spec.Name === ACME_STATE_KEY.secretName) : undefined;
    if (theirs === undefined) throw e;
    return { id: theirs.ID, name: theirs.Spec.Name };
  }
  io.out(`secret/${ACME_STATE_KEY.secretName} created (the key of the core's ACME state)`);
  return { id, name: ACME_STATE_KEY.secretName };
}

/**
 * `swarmgate rotate-certs`: a new CA and certificates (ADR 0019). The core restarts on the new set,
 * still trusting the set it rotated away from and cross-signing the new CA with it; every proxy
 * agent is handed its new identity over its stream and reconnects with it, so no proxy task
 * restarts. Proxy services keep their mounted (previous) identity until they are updated for
 * another reason. With `revokePrevious` the previous set is not trusted any more: every component
 * service is updated to the new mounts (its tasks restart), as for a leaked key. Old sets are removed
 * once no service uses them (the next rotation or uninstall retries the ones still in use).
 */
export async function runRotateCerts(port: DockerPort, io: Output, opts: { readonly revokePrevious?: boolean } = {}): Promise<number> {
  const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  if (core === undefined) {
    io.err(`${CORE_SERVICE} is not installed: run swarmgate install`);
    return EXIT.invalid;
  }
  const spec = core.Spec;
  const old = [...(spec.TaskTemplate.ContainerSpec.Args ?? [])];
  const previous = opts.revokePrevious === true ? undefined : tlsSets(await port.listSecrets()).find((s) => s.id === argValue(old, '--tls-set'));
  const set = await createTlsSet(port, generateTlsMaterial());
  const args: string[] = [];
  for (let i = 0; i < old.length; i++) {
    const a = old[i] ?? '';
    if (a === '--insecure') continue;
    if (a === '--tls-previous-set') {
      i++;
      continue;
    }
    args.push(a);
    if (a === '--tls-set') {
      args.push(set.id);
      i++;
      if (previous !== undefined) args.push('--tls-previous-set', previous.id);
    }
  }
  if (!args.includes('--tls-set')) args.push('--tls-dir', TLS_DIR_IN_TASKS, '--tls-set', set.id);
  const updated: ServiceSpec = {
    ...spec,
    TaskTemplate: {
      ...spec.TaskTemplate,
      // Only the TLS files change: the ACME state key and Issuer secrets stay mounted (the ACME
      // state survives a rotation).
      ContainerSpec: { ...spec.TaskTemplate.ContainerSpec, Args: args, Secrets: [...coreTlsMounts(set, previous), ...(spec.TaskTemplate.ContainerSpec.Secrets ?? []).filter((m) => !TLS_FILE_NAMES.has(m.File.Name))] },
    },
  };
  const { [LABELS.specHash]: _old, ...labels } = spec.Labels ?? {};
  const hash = createHash('sha256').update(canonicalJson({ ...updated, Labels: labels })).digest('hex');
  try {
    await port.updateService(core.ID, core.Version.Index, { ...updated, Labels: { ...labels, [LABELS.specHash]: hash } });
  } catch (e) {
    if (!lostCoreRace(e, set)) throw e;
    await discardTlsSet(port, set);
    io.err(ROTATE_CONFLICT);
    return EXIT.conflict;
  }
  io.out(
    `tls/${set.id} created; service/${CORE_SERVICE} configured (${previous !== undefined ? `proxy agents are handed their new identity over their stream; tls/${previous.id} stays trusted while proxies mount it` : 'the previous set is no longer trusted: proxies and extensions restart with the new mounts'})`,
  );
  await removeUnusedTlsSets(port, set.id, io);
  return EXIT.ok;
}

async function removeUnusedTlsSets(port: DockerPort, keep: string | undefined, io: Output): Promise<void> {
  const used = new Set((await port.listServices()).flatMap((s) => (s.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((x) => x.SecretID)));
  for (const set of tlsSets(await port.listSecrets())) {
    if (set.id === keep) continue;
    const ids = setSecretIds(set);
    if (ids.some((id) => used.has(id))) {
      io.out(`tls/${set.id} still in use; it is removed by the next rotate-certs or uninstall`);
      continue;
    }
    // A set that became mounted meanwhile (a concurrent rotation stored it after our listing) is refused as in use: kept.
    let inUse = false;
    for (const id of ids) {
      try {
        await port.removeSecret(id);
      } catch (e) {
        if (isNotFound(e)) continue;
        if (!isInUse(e)) throw e;
        inUse = true;
      }
    }
    io.out(inUse ? `tls/${set.id} still in use; it is removed by the next rotate-certs or uninstall` : `tls/${set.id} removed`);
  }
}

export async function runInstall(port: DockerPort, opts: InstallOptions, io: Output): Promise<number> {
  if (opts.dockerSocket !== undefined && !/^\/[A-Za-z0-9_./-]+$/.test(opts.dockerSocket)) {
    io.err(`--docker-socket: expected an absolute path such as /var/run/docker.sock, got ${JSON.stringify(opts.dockerSocket)}`);
    return EXIT.usage;
  }
  let image = opts.image;
  if (opts.localImages) {
    const id = await port.localImageId(opts.image);
    if (id === undefined) {
      io.err(`image ${opts.image} is not present on this node; build it first (make images)`);
      return EXIT.invalid;
    }
    image = id;
  }
  // One read of the core, and everything decided from that read: the TLS set and the version the
  // write is checked against (issue 18). Choosing the set from one read and writing on a later one let
  // a second install that started before the first's core existed replace it with a set of its own,
  // leaving the first's set stored and unused.
  const existing = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
  const tls = await ensureTlsSet(port, existing);
  const spec = coreServiceSpec(image, opts, await ensureControlNetwork(port, io), tls.set, tls.previous, await ensureAcmeStateKey(port, io));
  const hash = createHash('sha256').update(canonicalJson(spec)).digest('hex');
  const labelled: ServiceSpec = { ...spec, Labels: { ...spec.Labels, [LABELS.specHash]: hash } };
  // Version-checked (update) or name-checked (create) on that read: of two installs racing, one is stored.
  let result: 'created' | 'configured' | 'unchanged';
  try {
    if (existing === undefined) {
      await port.createService(labelled);
      result = 'created';
    } else if (existing.Spec.Labels?.[LABELS.specHash] !== hash) {
      // Secrets the core mounted into itself for its Issuers (mount-into-core.ts) stay mounted; they
      // are not part of the spec hash.
      const own = new Set([...(labelled.TaskTemplate.ContainerSpec.Secrets ?? []).map((m) => m.File.Name), ...TLS_FILE_NAMES]);
      const issuerMounts = (existing.Spec.TaskTemplate.ContainerSpec.Secrets ?? []).filter((m) => !own.has(m.File.Name));
      const secrets = [...(labelled.TaskTemplate.ContainerSpec.Secrets ?? []), ...issuerMounts];
      await port.updateService(existing.ID, existing.Version.Index, { ...labelled, TaskTemplate: { ...labelled.TaskTemplate, ContainerSpec: { ...labelled.TaskTemplate.ContainerSpec, Secrets: secrets } } });
      result = 'configured';
    } else result = 'unchanged';
  } catch (e) {
    // With our set: its secrets removed meanwhile (by an uninstall) is a lost race too, not Docker's text.
    if (!lostCoreRace(e, tls.set)) throw e;
    const now = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
    if (now?.Spec.Labels?.[LABELS.specHash] === hash) {
      // The other install stored exactly this spec (same options, same TLS set): what was asked is stored.
      io.out(`service/${CORE_SERVICE} unchanged (another install stored the same spec at the same time)`);
      return EXIT.ok;
    }
    if (tls.created === true) await discardTlsSet(port, tls.set);
    io.err(INSTALL_CONFLICT(existing === undefined));
    return EXIT.conflict;
  }
  if (tls.created === true) io.out(`tls/${tls.set.id} created (CA and core certificate as Docker secrets; the core issues each component its own identity)`);
  io.out(result === 'unchanged' ? `service/${CORE_SERVICE} unchanged` : `service/${CORE_SERVICE} ${result} (image ${opts.image})`);
  return EXIT.ok;
}

async function waitForTasksGone(port: DockerPort, serviceId: string, timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    // Every task, not the daemon's service filter: once the service is removed that filter finds
    // nothing, while its tasks are still stopping (and the service may still be listed).
    const alive = (await port.listTasks()).some((t) => t.ServiceID === serviceId && ['running', 'starting', 'preparing', 'assigned', 'accepted', 'pending', 'ready', 'new'].includes(t.Status.State));
    if (!alive) return;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Retry a removal (every 250 ms, 10 s by default): objects stay in use until Swarm has stopped the tasks using them. */
async function whenReleased(remove: () => Promise<void>, attempts = 40): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await remove();
      return;
    } catch (e) {
      if (attempt >= attempts) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The hitless proxies' node-local volumes (sg-last-*), on every node, by a global job (ADR 0020). Runs
 * the CLI from the proxy image (swarmgate on its PATH behind tini) or else the core's image (the CLI is
 * its entrypoint). Nodes that are down keep theirs: the line printed names the manual step.
 */
async function removeNodeVolumes(port: DockerPort, core: ServiceInfo | undefined, services: readonly ServiceInfo[], io: Output): Promise<void> {
  const proxy = services.find((s) => s.Spec.Labels?.[LABELS.role] === 'proxy' && lastAppliedVolumesOf(s.Spec).length > 0);
  const image = proxy?.Spec.TaskTemplate.ContainerSpec.Image ?? core?.Spec.TaskTemplate.ContainerSpec.Image;
  const manual = `run \`docker volume ls -q --filter name=^sg-last- | xargs -r docker volume rm\` on each node`;
  // The nodes' engine socket as the core mounted it: without an installed core the path is unknown.
  const socket = core !== undefined ? coreDockerSocket([core]) : undefined;
  if (image === undefined || socket === undefined) {
    if (proxy !== undefined) io.out(`no installed core to take the nodes' Docker socket path from: sg-last-* volumes (last applied proxy configs) are left on the nodes; ${manual}`);
    return;
  }
  const spec = nodeCleanupJobSpec({ name: nodeCleanupName('uninstall', [ALL_LAST_APPLIED]), image, cliIsEntrypoint: proxy === undefined, volumes: [ALL_LAST_APPLIED], dockerSocket: socket });
  // Best effort: the volumes are a few KB of config; a failed clean-up must not fail the uninstall.
  const r = await runNodeCleanupJob(port, spec, io).catch((e: unknown) => {
    io.out(`the sg-last-* volume clean-up job could not run (${e instanceof Error ? e.message : String(e)}); ${manual}`);
    return undefined;
  });
  if (r !== undefined && r.notCompleted > 0) io.out(`sg-last-* volumes: the clean-up did not finish on ${r.notCompleted} node${r.notCompleted === 1 ? '' : 's'} (down, or a volume still in use); ${manual}`);
}

/** Remove a service; one already gone (404) is what the caller wanted. */
async function removeServiceIfPresent(port: DockerPort, id: string): Promise<void> {
  try {
    await port.removeService(id);
  } catch (e) {
    if (!isNotFound(e)) throw e;
  }
}

export async function runUninstall(port: DockerPort, purge: boolean, io: Output): Promise<number> {
  const owned = `${LABELS.owner}=${OWNER_VALUE}`;
  // The core first, and only then list the rest: until its task is gone it may still create a proxy
  // or extension service.
  const core = (await port.listServices([owned])).find((s) => s.Spec.Name === CORE_SERVICE);
  if (core !== undefined) {
    await removeServiceIfPresent(port, core.ID);
    io.out(`service/${CORE_SERVICE} removed`);
    await waitForTasksGone(port, core.ID);
  }
  // The removed core can still be listed for a moment; anything else may go meanwhile too (a
  // finished clean-up job): gone is what uninstall wants.
  const services = (await port.listServices([owned])).filter((s) => s.ID !== core?.ID);
  for (const s of services) {
    await removeServiceIfPresent(port, s.ID);
    io.out(`service/${s.Spec.Name} removed`);
  }
  await removeNodeVolumes(port, core, services, io);
  if (!purge) {
    // Kept specs must not go on saying a proxy serves them.
    const marked = await markUninstalled(port);
    if (marked > 0) io.out(`${marked} stored spec${marked === 1 ? '' : 's'}: Programmed/Ready set to Unknown (CoreUninstalled)`);
  }
  const configs = await port.listConfigs([owned]);
  let kept = 0;
  for (const c of configs) {
    const isSpec = c.Spec.Labels?.[LABELS.role] === 'spec';
    if (isSpec && !purge) {
      kept++;
      continue;
    }
    // A config is removable once the tasks that mounted it are gone; Swarm stops them asynchronously.
    await whenReleased(() => port.removeConfig(c.ID));
  }
  // TLS secrets, the components' identities, the ACME state key and the ACME certificates' durable
  // copies (ADR 0024; they go with the state they copy): removable once the tasks that mount them are gone.
  for (const x of (await port.listSecrets()).filter((y) => y.Spec.Labels?.[LABELS.owner] === OWNER_VALUE && ['tls', 'identity', ACME_STATE_KEY.role, ACME_COPY_ROLE].includes(y.Spec.Labels[LABELS.role] ?? ''))) {
    await whenReleased(() => port.removeSecret(x.ID));
  }
  // Certificates stored with `tls apply` are user data, like the specs: kept unless --purge.
  const certificates = (await port.listSecrets()).filter((y) => y.Spec.Labels?.[LABELS.owner] === OWNER_VALUE && y.Spec.Labels[LABELS.role] === 'certificate');
  if (purge) for (const x of certificates) await whenReleased(() => port.removeSecret(x.ID));
  if (certificates.length > 0) io.out(`${certificates.length} certificate secret${certificates.length === 1 ? '' : 's'} ${purge ? 'removed' : 'kept (use --purge to remove them)'}`);
  for (const n of (await port.listNetworks()).filter((x) => x.Labels?.[LABELS.owner] === OWNER_VALUE)) {
    // Task network attachments are released asynchronously after the services are gone.
    await whenReleased(() => port.removeNetwork(n.Id));
    // Swarm deletes the network asynchronously; an install right after must not find the dying one.
    await whenReleased(async () => {
      if ((await port.listNetworks()).some((x) => x.Id === n.Id)) throw new Error(`network ${n.Name} is still being removed`);
    }, 240);
    io.out(`network/${n.Name} removed`);
  }
  io.out(`${configs.length - kept} generated config${configs.length - kept === 1 ? '' : 's'} removed${kept > 0 ? `; ${kept} stored spec${kept === 1 ? '' : 's'} kept (use --purge to remove them)` : ''}`);
  return EXIT.ok;
}

export { DEFAULT_CORE_IMAGE, DEFAULT_DOCKER_SOCKET };
