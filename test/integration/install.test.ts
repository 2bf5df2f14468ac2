/**
 * `swarmgate install` / `status` / `uninstall` on the real local Swarm: the core runs as a service with
 * the Docker socket, reconciles on its own, `status` reads its last run, and uninstall leaves nothing
 * swarmgate owns behind. Needs the images (make images).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { runInstall, runUninstall, CORE_SERVICE } from '../../src/cli/commands/install';
import { statusText } from '../../src/cli/commands/status';
import { LABELS, OWNER_VALUE } from '../../src/domain/labels';
import { createDockerPort } from '../../src/observed/dockerode-adapter';

const port = createDockerPort();
const io = { out: () => undefined, err: () => undefined };
const owned = `${LABELS.owner}=${OWNER_VALUE}`;

afterAll(async () => {
  await runUninstall(port, false, io).catch(() => undefined);
}, 120_000);

describe('install, status, uninstall', () => {
  it('runs the core as a service that reconciles by itself; install is idempotent', async () => {
    const lines: string[] = [];
    expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, { out: (t) => lines.push(t), err: (t) => lines.push(t) })).toBe(0);
    expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, { out: (t) => lines.push(t), err: (t) => lines.push(t) })).toBe(0);
    // The second install finds everything in place: the same TLS set, the same network, no update.
    expect(lines.at(-1)).toBe(`service/${CORE_SERVICE} unchanged`);
    expect(lines.filter((l) => l.startsWith('tls/'))).toHaveLength(1);
    const core = (await port.listServices()).find((s) => s.Spec.Name === CORE_SERVICE);
    expect(core?.Spec.TaskTemplate.ContainerSpec.Mounts?.[0]?.Source).toBe('/var/run/docker.sock');
    expect(core?.Spec.TaskTemplate.Placement?.Constraints).toEqual(['node.role==manager']);
    // The core converges the implicit default cluster on its own, and status shows its last run.
    const until = Date.now() + 60_000;
    let text = '';
    while (Date.now() < until) {
      text = await statusText(port);
      if (/last run #\d+ (applied|unchanged)/.test(text) && /sg-proxy-default/.test(text)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(text).toMatch(/^core: swarmgate-core 1\/1 running; last run #\d+ (applied|unchanged)/m);
    expect(text).toMatch(/^default\s+sg-proxy-default\s/m);
  });

  it('uninstall removes the core, the proxies and the generated configs', async () => {
    expect(await runUninstall(port, false, io)).toBe(0);
    expect(await port.listServices([owned])).toEqual([]);
    const left = (await port.listConfigs([owned])).filter((c) => c.Spec.Labels?.[LABELS.role] !== 'spec');
    expect(left).toEqual([]);
  });
});
