/**
 * Status never outlives the core that wrote it: with no core running, get/describe show Programmed
 * as Unknown (CoreNotRunning) and wait does not count it; uninstall marks kept specs Unknown
 * (CoreUninstalled), so a wait right after the next install waits for the new core's word.
 */
import { describe, expect, it } from 'vitest';
import { runDescribe, runGet } from '../../src/cli/commands/get';
import { runUninstall } from '../../src/cli/commands/install';
import { runWait } from '../../src/cli/commands/wait';
import { statusReport } from '../../src/cli/commands/status';
import { runVersion } from '../../src/cli/commands/version';
import { EXIT, type Output } from '../../src/cli/output';
import { condition } from '../../src/domain/conditions';
import { LABELS } from '../../src/domain/labels';
import { objectKey } from '../../src/domain/meta';
import { applyObject, listStoredSpecs } from '../../src/desired/spec-store';
import { parseStatus } from '../../src/status/object-status';
import { writeStatuses } from '../../src/status/write-status';
import { addCore } from '../helpers/running-core';
import { FakeDocker } from '../fakes/fake-docker';
import { route } from '../helpers/specs';

function capture(): Output & { readonly outLines: string[]; readonly errLines: string[] } {
  const outLines: string[] = [];
  const errLines: string[] = [];
  return { outLines, errLines, out: (t) => outLines.push(t), err: (t) => errLines.push(t) };
}

/** A route whose status says what a core wrote when it last ran: every condition True. */
async function programmedRoute(docker: FakeDocker): Promise<void> {
  await applyObject(docker, route('shop', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
  const { current } = await listStoredSpecs(docker);
  const key = objectKey('Route', 'shop');
  await writeStatuses(docker, current, { [key]: [condition('Accepted', 'True', 'Accepted', 'ok'), condition('ResolvedRefs', 'True', 'ResolvedRefs', 'ok'), condition('Programmed', 'True', 'Programmed', 'served by 1 proxy replica of cluster "default"')] }, '2026-12-06T10:00:00Z');
}

function core(docker: FakeDocker, running: boolean): Promise<void> {
  return addCore(docker, { running });
}

function programmedCell(out: readonly string[]): string | undefined {
  const rows = (out[0] ?? '').split('\n').map((l) => l.split(/\s{2,}/));
  const col = rows[0]?.indexOf('PROGRAMMED') ?? -1;
  return rows.find((r) => r[0] === 'shop')?.[col];
}

describe('conditions when no core runs', () => {
  it('shows what the running core wrote', async () => {
    const docker = new FakeDocker();
    await core(docker, true);
    await programmedRoute(docker);
    const io = capture();
    await runGet(docker, 'routes', undefined, undefined, io);
    expect(programmedCell(io.outLines)).toBe('True');
    expect(await runWait(docker, 'route/shop', 'Programmed', '1s', capture(), 20)).toBe(EXIT.ok);
  });

  it('reads Programmed as Unknown (CoreNotRunning) when the core is stopped, and wait does not count it', async () => {
    const docker = new FakeDocker();
    await core(docker, false);
    await programmedRoute(docker);
    const io = capture();
    await runGet(docker, 'routes', undefined, undefined, io);
    expect(programmedCell(io.outLines)).toBe('Unknown (CoreNotRunning)');
    const d = capture();
    await runDescribe(docker, 'route', 'shop', d);
    expect(d.outLines.join('\n')).toMatch(/Programmed\s+Unknown\s+CoreNotRunning\s+the core \(swarmgate-core\) is not running; last known: True \(Programmed\)/);
    const w = capture();
    expect(await runWait(docker, 'route/shop', 'Programmed', '200ms', w, 20)).toBe(EXIT.invalid);
    expect(w.errLines.join('\n')).toMatch(/last: Programmed=Unknown \(CoreNotRunning\)/);
  });

  it('says the core is starting while its task comes up: status is no failure, Programmed waits for its word', async () => {
    const docker = new FakeDocker();
    await addCore(docker, { running: false, starting: 'preparing' });
    await programmedRoute(docker);
    const d = capture();
    await runDescribe(docker, 'route', 'shop', d);
    expect(d.outLines.join('\n')).toMatch(/Programmed\s+Unknown\s+CoreNotRunning\s+the core \(swarmgate-core\) is starting \(task preparing\); last known: True/);
    const report = await statusReport(docker);
    expect(report.text).toContain('core: swarmgate-core is starting (0/1; task preparing).');
    expect(report.text).not.toContain('NOT RUNNING');
    expect(report.failures).toEqual([]);
    const v = capture();
    await runVersion(() => docker, '0.1.0', undefined, v);
    expect(v.outLines.join('\n')).toMatch(/swarmgate-core, starting, image/);
  });

  it('uninstall marks kept specs Unknown (CoreUninstalled): a wait after the next install waits for the new core', async () => {
    const docker = new FakeDocker();
    await core(docker, false);
    await programmedRoute(docker);
    const io = capture();
    expect(await runUninstall(docker, false, io)).toBe(EXIT.ok);
    expect(io.outLines).toContain('1 stored spec: Programmed/Ready set to Unknown (CoreUninstalled)');
    const { current } = await listStoredSpecs(docker);
    const status = parseStatus(current.get(objectKey('Route', 'shop'))?.config.Spec.Labels?.[LABELS.status]);
    expect(status?.conditions.find((c) => c.type === 'Programmed')).toMatchObject({ status: 'Unknown', reason: 'CoreUninstalled' });
    // What does not depend on a proxy is kept.
    expect(status?.conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'True', reason: 'Accepted' });
    // A new core runs (install) but has not written yet: the wait is not met.
    await core(docker, true);
    const w = capture();
    expect(await runWait(docker, 'route/shop', 'Programmed', '200ms', w, 20)).toBe(EXIT.invalid);
    expect(w.errLines.join('\n')).toMatch(/CoreUninstalled/);
  });
});
