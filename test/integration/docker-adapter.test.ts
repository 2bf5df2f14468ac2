/**
 * The dockerode adapter and readSnapshot against the real single-node Swarm of this machine.
 * Run: npx vitest run --config vitest.integration.mts
 *
 * Everything this file creates carries the label io.swarmgate.test=<PREFIX> and a name starting with
 * PREFIX; afterAll removes it all, whatever happened before. The only thing kept is the test image
 * (fixed tag, rebuilt in < 1 s when missing): /usr/bin/sleep and its libraries, imported from a tar.
 * Services name the image by ID (sha256:…): with a tag, the Swarm agent tries a registry pull at every
 * task start (network traffic, and a delay until it fails); with an image ID it does not.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerApiError, isNameConflict, isNotFound, isOutOfSequence } from '../../src/observed/docker-errors';
import type { DockerEvent, DockerPort, ServiceSpec, TaskInfo } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { readSnapshot, taskFingerprint } from '../../src/observed/read-snapshot';

const IMAGE = 'swarmgate-test/sleep:1';
const PREFIX = `sgit-${process.pid}-${Date.now().toString(36)}`;
const LABEL = 'io.swarmgate.test';
const NET = `${PREFIX}-net`;
const SVC = `${PREFIX}-svc`;
const CFG = `${PREFIX}-cfg`;

function docker(args: string[], input?: Buffer): string {
  return execFileSync('docker', args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...(input !== undefined ? { input } : {}) });
}

/** The test image's ID, building it first when the tag is missing. */
function ensureSleepImage(): string {
  try {
    return docker(['image', 'inspect', '-f', '{{.Id}}', IMAGE]).trim();
  } catch {
    // not there yet: build it below
  }
  const sleepBin = ['/usr/bin/sleep', '/bin/sleep'].find((p) => existsSync(p));
  if (sleepBin === undefined) throw new Error('no sleep binary on this machine');
  const root = mkdtempSync(join(tmpdir(), 'swarmgate-sleep-'));
  try {
    mkdirSync(join(root, 'bin'));
    copyFileSync(sleepBin, join(root, 'bin', 'sleep'));
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)" and "/lib64/ld-linux-x86-64.so.2 (0x…)"
    const libs = execFileSync('ldd', [sleepBin], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
      .filter((p): p is string => p !== undefined);
    for (const lib of libs) {
      mkdirSync(join(root, dirname(lib)), { recursive: true });
      copyFileSync(lib, join(root, lib)); // follows symlinks: the image gets real files
    }
    const tar = execFileSync('tar', ['-C', root, '-c', '.'], { maxBuffer: 64 << 20 });
    docker(['import', '-c', 'CMD ["/bin/sleep","3600"]', '-', IMAGE], tar);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return docker(['image', 'inspect', '-f', '{{.Id}}', IMAGE]).trim();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` until it returns a value (not undefined), or fail after `timeoutMs`. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

const port: DockerPort = createDockerPort();
let imageId = '';
const events: DockerEvent[] = [];
const eventErrors: Error[] = [];
let stopEvents: (() => void) | undefined;

function serviceSpec(replicas: number): ServiceSpec {
  return {
    Name: SVC,
    Labels: { [LABEL]: PREFIX },
    TaskTemplate: {
      // sleep as PID 1 ignores SIGTERM: a 1 s grace period keeps scale-down and cleanup quick.
      ContainerSpec: { Image: imageId, Command: ['/bin/sleep', '3600'], StopGracePeriod: 1_000_000_000, Labels: { [LABEL]: PREFIX } },
      Networks: [{ Target: NET }],
    },
    Mode: { Replicated: { Replicas: replicas } },
    EndpointSpec: { Mode: 'vip' },
  };
}

async function ourTasks(serviceId: string): Promise<TaskInfo[]> {
  return (await port.listTasks()).filter((t) => t.ServiceID === serviceId);
}

async function cleanUp(): Promise<void> {
  stopEvents?.();
  const problems: string[] = [];
  for (const s of await port.listServices([`${LABEL}=${PREFIX}`]).catch(() => [])) {
    await port.removeService(s.ID).catch((e: unknown) => (isNotFound(e) ? undefined : problems.push(`service ${s.Spec.Name}: ${String(e)}`)));
  }
  for (const c of await port.listConfigs([`${LABEL}=${PREFIX}`]).catch(() => [])) {
    await port.removeConfig(c.ID).catch((e: unknown) => (isNotFound(e) ? undefined : problems.push(`config ${c.Spec.Name}: ${String(e)}`)));
  }
  // Task containers go away once stopped (1 s grace); the network can be removed once no service uses it.
  await until(
    'task containers to go',
    () => (docker(['ps', '-aq', '--filter', `label=com.docker.swarm.service.name=${SVC}`]).trim() === '' ? true : undefined),
    30_000,
    500,
  ).catch((e: unknown) => problems.push(String(e)));
  // By exact name, until the daemon says it is gone. (`docker network ls --filter name=|label=` is no
  // help here: on this daemon it sometimes omits a swarm network that has no local attachment.)
  await until(
    'the test network to be removed',
    () => {
      try {
        docker(['network', 'rm', NET]);
      } catch (e) {
        const stderr = String((e as { stderr?: unknown }).stderr ?? e);
        if (/not found|No such network/i.test(stderr)) return true;
        return undefined; // still in use by a stopping task: try again
      }
      return undefined; // removed: the next round confirms it is gone
    },
    30_000,
    500,
  ).catch((e: unknown) => problems.push(String(e)));
  if (problems.length > 0) throw new Error(`cleanup left things behind:\n${problems.join('\n')}`);
}

beforeAll(async () => {
  imageId = ensureSleepImage();
  stopEvents = port.watchEvents(
    (e) => events.push(e),
    (e) => eventErrors.push(e),
  );
  docker(['network', 'create', '--driver', 'overlay', '--label', `${LABEL}=${PREFIX}`, NET]);
  // watchEvents gives no "open" signal (and the synchronous docker CLI calls above block the request
  // from even being sent). Probe: create a throw-away config until its event comes back; from then on
  // the stream is live and no later event can be missed by a late subscription.
  for (let attempt = 1; ; attempt++) {
    const probeId = await port.createConfig({ Name: `${PREFIX}-probe-${attempt}`, Labels: { [LABEL]: PREFIX }, Data: Buffer.from('probe').toString('base64') });
    const seen = await until('the probe config event', () => events.find((e) => e.Type === 'config' && e.Actor?.ID === probeId), 1_000, 25).catch(() => undefined);
    if (seen !== undefined) break;
    if (attempt >= 10) throw new Error('the event stream never delivered a probe event');
  }
});

afterAll(async () => {
  await cleanUp();
});

describe('dockerode adapter on a real Swarm', () => {
  it('creates a config near the daemon\'s 1,000 KiB limit (its base64 would not fit in a request line)', async () => {
    // 900 KB of config: 1.2 MB of base64, more than the daemon accepts in a URL (431).
    const data = Buffer.from('#'.repeat(899_999) + '\n').toString('base64');
    const id = await port.createConfig({ Name: `${CFG}-big`, Labels: { [LABEL]: PREFIX }, Data: data });
    try {
      expect((await port.inspectConfig(id)).Spec.Data).toBe(data);
    } finally {
      await port.removeConfig(id);
    }
  });

  it('round-trips a config: data, labels, version-checked label update, typed errors', async () => {
    const data = Buffer.from('server_name example.test; # ünïcode\n', 'utf8').toString('base64');
    const id = await port.createConfig({ Name: CFG, Labels: { [LABEL]: PREFIX, 'io.swarmgate.generation': '1' }, Data: data });
    expect(id).toMatch(/^[a-z0-9]{25}$/);

    const inspected = await port.inspectConfig(id);
    expect(inspected.Spec).toMatchObject({ Name: CFG, Labels: { [LABEL]: PREFIX, 'io.swarmgate.generation': '1' }, Data: data });
    expect((await port.listConfigs([`${LABEL}=${PREFIX}`, 'io.swarmgate.generation=1'])).map((c) => c.ID)).toEqual([id]);
    expect(await port.listConfigs([`${LABEL}=${PREFIX}-other`])).toEqual([]);

    // Pass the whole inspected spec (with Data), as a caller would: the adapter sends Name + Labels only.
    const v1 = inspected.Version.Index;
    await port.updateConfigLabels(id, v1, { ...inspected.Spec, Labels: { ...inspected.Spec.Labels, 'io.swarmgate.status': '{"ok":true}' } });
    const updated = await port.inspectConfig(id);
    expect(updated.Version.Index).toBeGreaterThan(v1);
    expect(updated.Spec.Labels?.['io.swarmgate.status']).toBe('{"ok":true}');
    expect(updated.Spec.Data).toBe(data);

    const stale = await port.updateConfigLabels(id, v1, { Name: CFG, Labels: { [LABEL]: PREFIX } }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(stale).toBeInstanceOf(DockerApiError);
    expect(isOutOfSequence(stale)).toBe(true);
    expect(stale).toMatchObject({ statusCode: 500, operation: 'updateConfigLabels' });
    expect((stale as DockerApiError).message).toContain('update out of sequence');

    const dup = await port.createConfig({ Name: CFG, Labels: { [LABEL]: PREFIX }, Data: data }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isNameConflict(dup)).toBe(true);
    expect(dup).toMatchObject({ statusCode: 409 });

    const missing = await port.inspectConfig(`${PREFIX}-missing`).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isNotFound(missing)).toBe(true);
    await until('the config create event', () => events.find((e) => e.Type === 'config' && e.Action === 'create' && e.Actor?.ID === id), 10_000, 50);
    await until('the config update event', () => events.find((e) => e.Type === 'config' && e.Action === 'update' && e.Actor?.ID === id), 10_000, 50);
  });

  it('runs a 2-replica service on an overlay network, sees it in the snapshot, scales it to 0', async () => {
    const id = await port.createService(serviceSpec(2));
    const created = await until('the service create event', () =>
      events.find((e) => e.Type === 'service' && e.Action === 'create' && e.Actor?.ID === id),
    );
    expect(created.Actor?.Attributes?.['name']).toBe(SVC);

    const dup = await port.createService(serviceSpec(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isNameConflict(dup)).toBe(true);

    const running = await until('2 running tasks with addresses', async () => {
      const { snapshot } = await readSnapshot(port);
      const tasks = snapshot.tasks.filter((t) => t.service === SVC && t.state === 'running' && t.desiredState === 'running');
      return tasks.length === 2 && tasks.every((t) => t.addresses.some((a) => a.network === NET)) ? { snapshot, tasks } : undefined;
    });
    const { snapshot, tasks } = running;
    const svc = snapshot.services.find((s) => s.name === SVC);
    expect(svc).toMatchObject({ id, networks: [NET], mode: 'replicated', replicas: 2, labels: { [LABEL]: PREFIX }, exposedPorts: [], ports: [] });
    // The VIP is allocated even though this kernel cannot route to it (no IPVS).
    expect(svc?.vips.map((v) => v.network)).toEqual([NET]);
    expect(snapshot.networks.find((n) => n.name === NET)).toEqual({ name: NET, driver: 'overlay', scope: 'swarm', ingress: false });
    expect(snapshot.networks.find((n) => n.ingress)?.name).toBe('ingress');
    expect(snapshot.nodes.some((n) => n.role === 'manager' && n.state === 'ready')).toBe(true);
    const ips = tasks.flatMap((t) => t.addresses.filter((a) => a.network === NET).map((a) => a.ip));
    expect(new Set(ips).size).toBe(2);
    // One service's tasks, filtered by the daemon: exactly what filtering every task gives.
    const only = await port.listTasks({ serviceId: id });
    expect(only.map((t) => t.ID).sort()).toEqual((await ourTasks(id)).map((t) => t.ID).sort());
    expect(only.length).toBeGreaterThanOrEqual(2);
    for (const ip of ips) expect(ip).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(tasks.map((t) => t.slot).sort()).toEqual([1, 2]);
    expect(tasks.every((t) => snapshot.nodes.some((n) => n.id === t.node))).toBe(true);

    const before = taskFingerprint(await ourTasks(id));

    // Scale to 0 with a version check; a second update with the same (now stale) version loses.
    const current = (await port.listServices([`${LABEL}=${PREFIX}`])).find((s) => s.ID === id);
    if (current === undefined) throw new Error('service not listed');
    await port.updateService(id, current.Version.Index, serviceSpec(0));
    const stale = await port.updateService(id, current.Version.Index, serviceSpec(1)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOutOfSequence(stale)).toBe(true);

    // Desired state leaves "running" first (20.10 sets "remove" on scale-down), then the tasks stop.
    await until('desired state to leave running', async () => ((await ourTasks(id)).every((t) => t.DesiredState !== 'running') ? true : undefined), 30_000);
    await until('tasks to leave running', async () => ((await ourTasks(id)).every((t) => t.Status.State !== 'running') ? true : undefined), 30_000);
    expect(taskFingerprint(await ourTasks(id))).not.toBe(before);
    const after = await readSnapshot(port);
    expect(after.snapshot.tasks.filter((t) => t.service === SVC && t.state === 'running')).toEqual([]);
    expect(after.snapshot.services.find((s) => s.name === SVC)?.replicas).toBe(0);
    expect(after.dropped.filter((d) => d.includes(PREFIX))).toEqual([]);

    await until('the service update event', () => events.find((e) => e.Type === 'service' && e.Action === 'update' && e.Actor?.ID === id));
    expect(eventErrors).toEqual([]);
  });

  it('reports 404 for unknown services', async () => {
    const e = await port.removeService(`${PREFIX}-missing`).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(isNotFound(e)).toBe(true);
    expect(e).toMatchObject({ statusCode: 404, operation: 'removeService' });
  });

  it('ends a watch quietly on unsubscribe', async () => {
    const errors: Error[] = [];
    const stop = port.watchEvents(
      () => undefined,
      (e) => errors.push(e),
    );
    await sleep(200);
    stop();
    await sleep(200);
    expect(errors).toEqual([]);
  });
});
