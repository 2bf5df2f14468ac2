import { describe, expect, it } from 'vitest';
import { runStatus } from '../../src/cli/commands/status';
import { colourStates, fitFrame, WatchScreen } from '../../src/cli/watch-screen';
import { FakeDocker } from '../fakes/fake-docker';
import { LABELS } from '../../src/domain/labels';
import { encodeStatus, type ObjectStatus } from '../../src/domain/status-label';
import { applyObject } from '../../src/desired/spec-store';
import type { DockerPort } from '../../src/observed/docker-port';
import { route } from '../helpers/specs';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

/** Watch status for a moment (piped), then Ctrl-C: the exit code and what was printed. */
async function watchBriefly(docker: DockerPort, ms = 80) {
  const c = capture();
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), ms);
  const code = await runStatus(docker, true, c.io, { intervalMs: 10, signal: ctl.signal, screen: new WatchScreen(c.io, { tty: false }) });
  return { code, ...c };
}

/** Store a status on a route's spec config, as the core writes it. */
async function setRouteStatus(docker: FakeDocker, name: string, conditions: ObjectStatus['conditions']): Promise<void> {
  const [config] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${name}`]);
  if (config === undefined) throw new Error('no config');
  await docker.updateConfigLabels(config.ID, config.Version.Index, { ...config.Spec, Labels: { ...config.Spec.Labels, [LABELS.status]: encodeStatus({ observedGeneration: 1, conditions }) } });
}

const cond = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: '', lastTransitionTime: '' }) as ObjectStatus['conditions'][number];

const T = new Date('2026-01-01T00:00:00Z');

describe('WatchScreen', () => {
  it('prints a block per change of the facts when not on a terminal, without escape sequences', () => {
    const c = capture();
    const screen = new WatchScreen(c.io, { tty: false });
    screen.show('a True 3s', 'a', T);
    screen.show('a True 4s', 'a', T);
    screen.show('b False', 'b', T);
    expect(c.out).toEqual(['--- 2026-01-01T00:00:00.000Z\na True 3s', '\n--- 2026-01-01T00:00:00.000Z\nb False']);
  });

  it('redraws in place on a terminal, colouring states unless NO_COLOR', () => {
    const c = capture();
    new WatchScreen(c.io, { tty: true, colour: true }).show('Ready True\nProgrammed False', 'x', T);
    expect(c.out).toEqual(['\x1b[HReady \x1b[32mTrue\x1b[0m\x1b[K\nProgrammed \x1b[31mFalse\x1b[0m\x1b[K\x1b[J']);
    const plain = capture();
    const before = process.env['NO_COLOR'];
    process.env['NO_COLOR'] = '1';
    try {
      new WatchScreen(plain.io, { tty: true }).show('Ready True', 'x', T);
    } finally {
      if (before === undefined) delete process.env['NO_COLOR'];
      else process.env['NO_COLOR'] = before;
    }
    expect(plain.out).toEqual(['\x1b[HReady True\x1b[K\x1b[J']);
  });

  it('fits a frame to the terminal: no wrapped line, no line below the last row', () => {
    const text = Array.from({ length: 30 }, (_, i) => `line ${i} ${'x'.repeat(200)}`).join('\n');
    const lines = fitFrame(text, 100, 12);
    expect(lines).toHaveLength(11);
    expect(lines.at(-1)).toBe('… 20 more lines (enlarge the terminal to see them)');
    expect(lines.every((l) => [...l].length <= 100)).toBe(true);
    expect(lines[0]?.endsWith('…')).toBe(true);
    expect(fitFrame('short\nframe', 100, 12)).toEqual(['short', 'frame']);
    expect(fitFrame('unknown size', undefined, undefined)).toEqual(['unknown size']);
  });

  it('colours whole words only', () => {
    expect(colourStates('Truest Falsehood')).toBe('Truest Falsehood');
  });
});

describe('status --watch', () => {
  it('prints only changes when piped, and stops on Ctrl-C', async () => {
    const docker = FakeDocker.singleNode();
    const c = capture();
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 120);
    expect(await runStatus(docker, true, c.io, { intervalMs: 10, signal: ctl.signal, screen: new WatchScreen(c.io, { tty: false }) })).toBe(0);
    expect(c.out).toHaveLength(1);
    expect(c.out[0]).toMatch(/^--- \S+Z\ncore: not installed as a service/);
  });

  it('ends with 0 when the last frame shows everything True, 1 naming the failure when a condition is False', async () => {
    const docker = FakeDocker.singleNode();
    await docker.createService({ Name: 'swarmgate-core', Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate' } } });
    docker.addTasks('swarmgate-core', 1);
    await applyObject(docker, route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
    await setRouteStatus(docker, 'shop', [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'True', 'ResolvedRefs'), cond('Programmed', 'True', 'Programmed')]);
    const fine = await watchBriefly(docker);
    expect(fine.code).toBe(0);
    expect(fine.err).toEqual([]);
    await setRouteStatus(docker, 'shop', [cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'False', 'BackendNotFound'), cond('Programmed', 'False', 'Pending')]);
    const failed = await watchBriefly(docker);
    expect(failed.code).toBe(1);
    expect(failed.err).toEqual(['status --watch ended with 2 failures showing: route shop: ResolvedRefs False (BackendNotFound); route shop: Programmed False (Pending)']);
  });

  it('ends with 1 when the core is not running, or Docker cannot be read', async () => {
    const docker = FakeDocker.singleNode();
    await docker.createService({ Name: 'swarmgate-core', Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate' } } });
    docker.addTasks('swarmgate-core', 1, { state: 'failed', desiredState: 'shutdown' });
    const stopped = await watchBriefly(docker);
    expect(stopped.code).toBe(1);
    expect(stopped.err[0]).toMatch(/^status --watch ended with 1 failure showing: core swarmgate-core is not running$/);
    const unreachable = new Proxy(docker, {
      get: (target, key, receiver) => (key === 'listServices' ? () => Promise.reject(new Error('connect ENOENT /var/run/docker.sock')) : Reflect.get(target, key, receiver) as unknown),
    });
    const down = await watchBriefly(unreachable);
    expect(down.code).toBe(1);
    expect(down.out[0]).toContain('error: connect ENOENT /var/run/docker.sock');
    expect(down.err[0]).toContain('error: connect ENOENT');
  });
});
