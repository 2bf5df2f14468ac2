/**
 * `swarmgate wait` as a CI job runs it, over the in-memory Docker: kubectl's `--for=condition=X`,
 * `--for=delete`, a misspelt condition (usage error with a suggestion, not a wait into the timeout),
 * an early exit 1 for failures waiting cannot change, and the cause printed every time.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { runWait } from '../../src/cli/commands/wait';
import { LABELS } from '../../src/domain/labels';
import { encodeStatus, type ObjectStatus } from '../../src/domain/status-label';
import { applyObject, deleteObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { route } from '../helpers/specs';

type Conditions = ObjectStatus['conditions'];
const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = ''): Conditions[number] => ({ type, status, reason, message, lastTransitionTime: '' }) as Conditions[number];

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

let docker: FakeDocker;

async function setStatus(conditions: Conditions): Promise<void> {
  const [config] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=shop`]);
  if (config === undefined) throw new Error('no config');
  await docker.updateConfigLabels(config.ID, config.Version.Index, { ...config.Spec, Labels: { ...config.Spec.Labels, [LABELS.status]: encodeStatus({ observedGeneration: 1, conditions }) } });
}

/** A running core, so Programmed is read as written (a gone core's Programmed reads Unknown). */
async function runningCore(): Promise<void> {
  await docker.createService({ Name: 'swarmgate-core', Labels: { [LABELS.owner]: 'swarmgate', [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate' } } });
  docker.addTasks('swarmgate-core', 1);
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  await applyObject(docker, route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
  await runningCore();
});

describe('swarmgate wait', () => {
  it('accepts kubectl\'s --for=condition=Programmed and is met once the core writes it', async () => {
    await setStatus([cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'False', 'Pending', 'waiting for the proxies')]);
    const c = capture();
    const waiting = runWait(docker, 'route/shop', 'condition=Programmed', '5s', c.io, 10);
    await new Promise((r) => setTimeout(r, 50));
    await setStatus([cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'True', 'Programmed')]);
    expect(await waiting).toBe(0);
    expect(c.out).toEqual(['route/shop condition met: Programmed=True']);
  });

  it('waits for --for=delete', async () => {
    const c = capture();
    const waiting = runWait(docker, 'route/shop', 'delete', '5s', c.io, 10);
    await new Promise((r) => setTimeout(r, 50));
    await deleteObject(docker, 'Route', 'shop');
    expect(await waiting).toBe(0);
    expect(c.out).toEqual(['route/shop condition met: deleted']);
  });

  it('refuses a misspelt condition at once with a suggestion (exit 2), instead of waiting out the timeout', async () => {
    const c = capture();
    const started = Date.now();
    expect(await runWait(docker, 'route/shop', 'Programed', '30s', c.io, 10)).toBe(2);
    // Well under the 30 s timeout it would otherwise wait out (a loaded machine takes its time).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(c.err[0]).toMatch(/unknown condition "Programed" \(did you mean "Programmed"\?\)/);
  });

  it.each([
    ['Accepted=False HostConflict', [cond('Accepted', 'False', 'HostConflict', 'host shop.test is claimed by route/older'), cond('Programmed', 'False', 'Pending')], /not accepted \(HostConflict\): host shop\.test is claimed by route\/older; apply a corrected spec/],
    ['Programmed=False Invalid', [cond('Accepted', 'True', 'Accepted'), cond('Programmed', 'False', 'Invalid', 'cluster "default" keeps its last good configuration: nginx: [emerg] …')], /cannot be programmed \(Invalid\): cluster "default" keeps its last good configuration/],
  ])('stops at once with exit 1 and the cause on %s', async (_, conditions, cause) => {
    await setStatus(conditions);
    const c = capture();
    const started = Date.now();
    expect(await runWait(docker, 'route/shop', 'Programmed', '30s', c.io, 10)).toBe(1);
    // Well under the 30 s timeout it would otherwise wait out (a loaded machine takes its time).
    expect(Date.now() - started).toBeLessThan(5000);
    expect(c.err[0]).toMatch(/^route\/shop will not reach Programmed=True: generation 1 /);
    expect(c.err[0]).toMatch(cause);
  });

  it('keeps waiting on a missing secret (it may still be created) and prints the last cause on timeout', async () => {
    await setStatus([cond('Accepted', 'True', 'Accepted'), cond('ResolvedRefs', 'False', 'SecretNotFound', 'secret shop-cert not found'), cond('Programmed', 'False', 'Pending', 'not part of the proxy configuration')]);
    const c = capture();
    expect(await runWait(docker, 'route/shop', 'Programmed', '200ms', c.io, 10)).toBe(1);
    expect(c.err).toEqual(['timed out after 200ms waiting for route/shop Programmed=True; last: Programmed=False (Pending): not part of the proxy configuration; ResolvedRefs=False (SecretNotFound): secret shop-cert not found']);
  });
});
