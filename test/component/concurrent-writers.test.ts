/**
 * Two writers of the same stored object, interleaved call by call over the in-memory fake
 * (FakeDocker.beforeNext / afterNext run the second writer at an exact point of the first):
 * apply/apply, apply/delete, delete/delete, apply/status write by the core, rollout command/apply,
 * status write/rollout command. In every interleaving the winner's value is stored, the loser gets a
 * ConflictError (the CLI: its message and exit 3) or retries on a fresh read, nothing is reported as
 * stored that is not, and rollout labels carried across generations are never lost.
 */
import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { runApply, runDelete } from '../../src/cli/commands/apply';
import { runRollback } from '../../src/cli/commands/history';
import { CoreRun } from '../../src/core/core-run';
import { sendRolloutCommand } from '../../src/cli/canary-command';
import { EXIT, type Output } from '../../src/cli/output';
import { ConflictError } from '../../src/desired/conflict';
import {
  applyObject,
  applyObjectChecked,
  decodeStoredObject,
  deleteObjectChecked,
  liftAbandonedSeals,
  listStoredSpecs,
  SEAL_LABEL,
  SEAL_TTL_MS,
  specHash,
  type StoredSpec,
} from '../../src/desired/spec-store';
import { LABELS } from '../../src/domain/labels';
import type { RouteObject } from '../../src/domain/object';
import { writeStatuses } from '../../src/status/write-status';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const shop = (weight: number): RouteObject =>
  route('shop', {
    hosts: ['shop.example.com'],
    rules: [{ backends: [{ service: 'shop-v1', port: 8080, weight }, { service: 'shop-v2', port: 8080, weight: 10 }] }],
  });
const canaryShop = (threshold: string): RouteObject =>
  route('shop', {
    hosts: ['shop.example.com'],
    rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }],
    canary: {
      stable: { service: 'shop-v1', port: 8080 },
      canary: { service: 'shop-v2', port: 8080 },
      steps: [{ setWeight: 10 }, { pause: {} }],
      analysis: { interval: '1m', maxErrorRate: threshold },
    },
  });

const KEY = 'Route/shop';

async function generations(docker: FakeDocker): Promise<StoredSpec[]> {
  const { current, stale } = await listStoredSpecs(docker);
  return [...current.values(), ...stale].filter((s) => s.name === 'shop').sort((a, b) => a.generation - b.generation);
}

async function current(docker: FakeDocker): Promise<StoredSpec | undefined> {
  return (await listStoredSpecs(docker)).current.get(KEY);
}

/** The spec hash of what is stored now (undefined: nothing). */
async function storedHash(docker: FakeDocker): Promise<string | undefined> {
  return (await current(docker))?.config.Spec.Labels?.[LABELS.specHash];
}

function capture(): Output & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (t) => out_.push(t), err: (t) => err_.push(t) };
}

function specFile(obj: RouteObject): string {
  const dir = mkdtempSync(join(tmpdir(), 'sg-race-'));
  const file = join(dir, 'route.json');
  writeFileSync(file, JSON.stringify(obj));
  return file;
}

/** What a user must never see: the daemon's own words. */
const RAW_DOCKER = /AlreadyExists|not found|out of sequence|rpc error/;

async function setLabels(docker: FakeDocker, labels: Record<string, string>): Promise<void> {
  const c = (await current(docker))?.config;
  if (c === undefined) throw new Error('no shop');
  await docker.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: { ...(c.Spec.Labels ?? {}), ...labels } });
}

describe('apply / apply', () => {
  it('two applies of generation n+1: the one whose write happened wins, the other gets a conflict and stores nothing', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    // B runs whole between A's read and A's first write (its seal of generation 1).
    let b: Awaited<ReturnType<typeof applyObjectChecked>> | undefined;
    docker.beforeNext('updateConfigLabels', async () => {
      b = await applyObjectChecked(docker, shop(3));
    });
    const a = applyObjectChecked(docker, shop(2));
    await expect(a).rejects.toThrow(ConflictError);
    await expect(a).rejects.toThrow('route/shop: conflict: another apply stored generation 2 while this one was being written; nothing of this apply was stored — run apply again');
    expect(b).toEqual({ result: 'configured', generation: 2 });
    expect(await storedHash(docker)).toBe(specHash(shop(3)));
    expect((await generations(docker)).map((g) => g.generation)).toEqual([2]);
    // A created nothing at all.
    expect(docker.writes.filter((w) => w.op === 'createConfig' && w.spec?.Labels?.[LABELS.specHash] === specHash(shop(2)))).toEqual([]);
  });

  it('two first applies: one creates generation 1, the other gets a conflict (the name is the lock)', async () => {
    const docker = FakeDocker.singleNode();
    docker.beforeNext('createConfig', async () => {
      await applyObjectChecked(docker, shop(3));
    });
    await expect(applyObjectChecked(docker, shop(2))).rejects.toThrow('route/shop: conflict: another apply stored generation 1 while this one was being written');
    expect(await storedHash(docker)).toBe(specHash(shop(3)));
  });

  it('the same spec applied twice at once: the second is unchanged, not a conflict', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('updateConfigLabels', async () => {
      expect(await applyObjectChecked(docker, shop(2))).toEqual({ result: 'configured', generation: 2 });
    });
    // A read generation 1 before B stored generation 2 with the same spec: what A asked for is stored.
    expect(await applyObjectChecked(docker, shop(2))).toEqual({ result: 'unchanged', generation: 2 });
    expect((await generations(docker)).map((g) => g.generation)).toEqual([2]);
  });

  it('an apply that reads the other one\'s new generation goes after it: both stored in turn, removals of gone generations are fine', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    let b: Awaited<ReturnType<typeof applyObjectChecked>> | undefined;
    // B runs whole right after A created generation 2, before A removes generation 1: B removes it first.
    docker.afterNext('createConfig', async () => {
      b = await applyObjectChecked(docker, shop(3));
    });
    expect(await applyObjectChecked(docker, shop(2))).toEqual({ result: 'configured', generation: 2 });
    expect(b).toEqual({ result: 'configured', generation: 3 });
    expect(await storedHash(docker)).toBe(specHash(shop(3)));
    expect((await generations(docker)).map((g) => g.generation)).toEqual([3]);
    // A's removal of generation 1 met a 404 and went on.
    expect(docker.actions.some((a) => a.op === 'removeConfig' && a.error !== undefined && /not found/.test(a.error))).toBe(true);
  });

  it('an apply waits for nobody: a seal of another apply in progress is a conflict', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('createConfig', async () => {
      await expect(applyObjectChecked(docker, shop(3))).rejects.toThrow('route/shop: conflict: another apply is storing generation 2 right now; nothing of this apply was stored — run apply again');
    });
    expect(await applyObjectChecked(docker, shop(2))).toEqual({ result: 'configured', generation: 2 });
    expect(await storedHash(docker)).toBe(specHash(shop(2)));
  });

  it('runApply: the loser prints the conflict line (no Docker text) and exits 3; the winner prints configured', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    const winner = capture();
    docker.beforeNext('updateConfigLabels', async () => {
      expect(await runApply(docker, [specFile(shop(3))], winner)).toBe(EXIT.ok);
    });
    const loser = capture();
    expect(await runApply(docker, [specFile(shop(2))], loser)).toBe(EXIT.conflict);
    expect(EXIT.conflict).toBe(3);
    expect(winner.out_).toEqual(['route/shop configured']);
    expect(loser.out_).toEqual([]);
    expect(loser.err_.filter((l) => !/^(warning|note): /.test(l))).toEqual(['route/shop: conflict: another apply stored generation 2 while this one was being written; nothing of this apply was stored — run apply again']);
    expect(loser.err_.filter((l) => !/^(warning|note): /.test(l)).join('\n')).not.toMatch(RAW_DOCKER);
  });
});

describe('apply / delete', () => {
  it('a delete between the apply\'s read and its seal: the apply gets a conflict, the object stays deleted', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('updateConfigLabels', async () => {
      expect(await deleteObjectChecked(docker, 'Route', 'shop')).toBe('deleted');
    });
    await expect(applyObjectChecked(docker, shop(2))).rejects.toThrow('route/shop: conflict: it was deleted while this apply was being written; nothing of this apply was stored — run apply again');
    expect(await generations(docker)).toEqual([]);
  });

  it('an apply storing its generation between the delete\'s read and its seal: the delete reports a conflict, the apply\'s spec is stored', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('updateConfigLabels', async () => {
      expect(await applyObjectChecked(docker, shop(2))).toEqual({ result: 'configured', generation: 2 });
    });
    await expect(deleteObjectChecked(docker, 'Route', 'shop')).rejects.toThrow('route/shop: conflict: another apply stored generation 2 while this delete ran; it is not deleted — run delete again');
    expect(await storedHash(docker)).toBe(specHash(shop(2)));
  });

  it('a delete and a new first apply between the apply\'s read and its seal: same generation number, still a conflict', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('updateConfigLabels', async () => {
      expect(await deleteObjectChecked(docker, 'Route', 'shop')).toBe('deleted');
      expect(await applyObjectChecked(docker, shop(5))).toEqual({ result: 'created', generation: 1 });
    });
    await expect(applyObjectChecked(docker, shop(2))).rejects.toThrow('route/shop: conflict: another apply stored generation 1 while this one was being written');
    expect(await storedHash(docker)).toBe(specHash(shop(5)));
  });

  it('an apply after the delete sealed the route: the apply gets a conflict, the route is deleted', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('removeConfig', async () => {
      await expect(applyObjectChecked(docker, shop(2))).rejects.toThrow('route/shop: conflict: a delete is removing it right now; nothing of this apply was stored — run apply again');
    });
    expect(await deleteObjectChecked(docker, 'Route', 'shop')).toBe('deleted');
    expect(await generations(docker)).toEqual([]);
  });

  it('a delete while an apply holds its seal: the delete gets a conflict, the apply\'s spec is stored', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('createConfig', async () => {
      await expect(deleteObjectChecked(docker, 'Route', 'shop')).rejects.toThrow('route/shop: conflict: an apply is storing generation 2 right now; it is not deleted — run delete again');
    });
    expect(await applyObjectChecked(docker, shop(2))).toEqual({ result: 'configured', generation: 2 });
    expect(await storedHash(docker)).toBe(specHash(shop(2)));
  });

  it('a delete right after the apply created its generation: the apply reports a conflict, the delete wins', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    const del = capture();
    docker.afterNext('createConfig', async () => {
      expect(await runDelete(docker, { kind: 'route', names: ['shop'] }, del)).toBe(EXIT.ok);
    });
    const io = capture();
    expect(await runApply(docker, [specFile(shop(2))], io)).toBe(EXIT.conflict);
    expect(del.out_).toEqual(['route/shop deleted']);
    expect(io.out_).toEqual([]);
    expect(io.err_.filter((l) => !/^(warning|note): /.test(l))).toEqual(['route/shop: conflict: generation 2 was stored, then removed by a concurrent delete; the route is deleted']);
    expect(await generations(docker)).toEqual([]);
  });
});

describe('delete / delete', () => {
  it('both remove; the one that found nothing left to remove says not found, neither shows a Docker error', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    const first = capture();
    docker.beforeNext('removeConfig', async () => {
      expect(await runDelete(docker, { kind: 'route', names: ['shop'] }, first)).toBe(EXIT.ok);
    });
    const second = capture();
    expect(await runDelete(docker, { kind: 'route', names: ['shop'] }, second)).toBe(EXIT.invalid);
    expect(first.out_).toEqual(['route/shop deleted']);
    expect(second.err_).toEqual(['route/shop not found']);
    expect(await generations(docker)).toEqual([]);
  });
});

describe('apply / status write by the core', () => {
  it('a status and rollout write between the apply\'s read and its seal is carried to generation n+1 (the seal is retried)', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    docker.beforeNext('updateConfigLabels', async () => {
      const { current: stored } = await listStoredSpecs(docker);
      const r = await writeStatuses(docker, stored, { [KEY]: [] }, '2026-12-06T10:00:00Z', {}, new Map([[KEY, { [LABELS.rollout]: 'state-after-step-1' }]]));
      expect(r).toEqual({ writes: 1, raced: [], sealed: [] });
    });
    expect(await applyObjectChecked(docker, canaryShop('2%'))).toEqual({ result: 'configured', generation: 2 });
    const now = await current(docker);
    expect(now?.generation).toBe(2);
    expect(now?.config.Spec.Labels?.[LABELS.rollout]).toBe('state-after-step-1');
    expect(now?.config.Spec.Labels?.[SEAL_LABEL]).toBeUndefined();
  });

  it('a status write read before the seal fails its version check and is skipped, not failed; the next one lands on n+1', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    await setLabels(docker, { [LABELS.rollout]: 'state-1' });
    const { current: stale } = await listStoredSpecs(docker);
    await applyObject(docker, canaryShop('2%'));
    // The core read generation 1 before the apply: its write of state-2 fails (404: generation 1 is gone).
    const r = await writeStatuses(docker, stale, { [KEY]: [] }, '2026-12-06T10:00:00Z', {}, new Map([[KEY, { [LABELS.rollout]: 'state-2' }]]));
    expect(r).toEqual({ writes: 0, raced: [KEY], sealed: [] });
    // Generation 2 carries state-1 (the state as sealed): the next run advances from there again.
    expect((await current(docker))?.config.Spec.Labels?.[LABELS.rollout]).toBe('state-1');
    const { current: fresh } = await listStoredSpecs(docker);
    expect(await writeStatuses(docker, fresh, { [KEY]: [] }, '2026-12-06T10:00:01Z', {}, new Map([[KEY, { [LABELS.rollout]: 'state-2' }]]))).toEqual({ writes: 1, raced: [], sealed: [] });
  });

  it('the core never writes a sealed generation: the apply copies its labels as sealed', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    await setLabels(docker, { [LABELS.rollout]: 'state-1' });
    // The apply has sealed generation 1; the core reads it now and wants to write state-2.
    docker.beforeNext('createConfig', async () => {
      const { current: stored } = await listStoredSpecs(docker);
      expect(stored.get(KEY)?.sealed?.generation).toBe(2);
      const r = await writeStatuses(docker, stored, { [KEY]: [] }, '2026-12-06T10:00:00Z', {}, new Map([[KEY, { [LABELS.rollout]: 'state-2' }]]));
      expect(r).toEqual({ writes: 0, raced: [], sealed: [KEY] });
    });
    await applyObjectChecked(docker, canaryShop('2%'));
    expect((await current(docker))?.config.Spec.Labels?.[LABELS.rollout]).toBe('state-1');
  });

  it('a seal left by an apply that died is lifted by the core after SEAL_TTL_MS, and a later apply takes it over', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    // The apply dies after sealing: its create never happens.
    docker.failNext('createConfig', new Error('killed'));
    const t0 = new Date('2026-12-06T10:00:00Z');
    await expect(applyObjectChecked(docker, canaryShop('2%'), () => t0)).rejects.toThrow('killed');
    // (A live apply lifts its own seal when its create fails; simulate one that could not.)
    await setLabels(docker, { [SEAL_LABEL]: JSON.stringify({ generation: 2, id: 'dead', at: t0.toISOString() }) });
    const { current: stored } = await listStoredSpecs(docker);
    expect((await liftAbandonedSeals(docker, stored, new Date(t0.getTime() + 1000))).lifted).toEqual([]);
    // Another apply within the TTL: conflict; after it: takes the seal over.
    await expect(applyObjectChecked(docker, canaryShop('3%'), () => new Date(t0.getTime() + 1000))).rejects.toThrow('another apply is storing generation 2 right now');
    expect(await applyObjectChecked(docker, canaryShop('3%'), () => new Date(t0.getTime() + SEAL_TTL_MS + 1))).toEqual({ result: 'configured', generation: 2 });
    // And the core lifts an abandoned seal that no apply took over.
    await setLabels(docker, { [SEAL_LABEL]: JSON.stringify({ generation: 3, id: 'dead', at: t0.toISOString() }) });
    const { current: again } = await listStoredSpecs(docker);
    const lifted = await liftAbandonedSeals(docker, again, new Date(t0.getTime() + SEAL_TTL_MS + 1));
    expect(lifted.lifted).toEqual([KEY]);
    expect(lifted.stored.get(KEY)?.sealed).toBeUndefined();
    expect((await current(docker))?.config.Spec.Labels?.[SEAL_LABEL]).toBeUndefined();
  });

  it('an apply whose create fails lifts its own seal, so status writes go on', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.failNext('createConfig', new Error('daemon hiccup'));
    await expect(applyObjectChecked(docker, shop(2))).rejects.toThrow('daemon hiccup');
    expect((await current(docker))?.sealed).toBeUndefined();
    expect(await storedHash(docker)).toBe(specHash(shop(1)));
  });
});

describe('rollout command / apply', () => {
  const command = { timeoutMs: 2000, pollMs: 5 };

  /** Plays the core: answers the pending command on the current generation once it sees it. */
  async function answerWhenPending(docker: FakeDocker): Promise<string> {
    for (let i = 0; i < 400; i++) {
      const c = (await current(docker))?.config;
      const pending = c?.Spec.Labels?.[LABELS.rolloutCommand];
      if (c !== undefined && pending !== undefined && c.Spec.Labels?.[SEAL_LABEL] === undefined) {
        const { id } = JSON.parse(pending) as { id: string };
        const { [LABELS.rolloutCommand]: _taken, ...labels } = c.Spec.Labels ?? {};
        await docker.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: { ...labels, [LABELS.rolloutResult]: JSON.stringify({ id, accepted: true, message: 'ok' }) } });
        return c.Spec.Name;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('no command seen');
  }

  it('a command written between the apply\'s read and its seal is carried to generation n+1 and answered there', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    let sent: ReturnType<typeof sendRolloutCommand> | undefined;
    docker.beforeNext('updateConfigLabels', async () => {
      sent = sendRolloutCommand(docker, 'shop', 'promote', { ...command, id: 'c0ffee0000000001' });
      // Let the CLI's write happen before the apply's seal.
      for (let i = 0; i < 50 && (await current(docker))?.config.Spec.Labels?.[LABELS.rolloutCommand] === undefined; i++) await new Promise((r) => setTimeout(r, 1));
    });
    expect(await applyObjectChecked(docker, canaryShop('2%'))).toEqual({ result: 'configured', generation: 2 });
    expect(JSON.parse((await current(docker))?.config.Spec.Labels?.[LABELS.rolloutCommand] ?? '{}')).toMatchObject({ id: 'c0ffee0000000001', command: 'promote' });
    expect(await answerWhenPending(docker)).toMatch(/-2$/);
    expect(await sent).toMatchObject({ kind: 'answered', result: { id: 'c0ffee0000000001', accepted: true } });
  });

  it('a command whose route is sealed waits for generation n+1 and is written there, not on the old one', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    let sent: ReturnType<typeof sendRolloutCommand> | undefined;
    docker.beforeNext('createConfig', async () => {
      // Sealed now: the CLI reads generation 1 sealed and waits.
      sent = sendRolloutCommand(docker, 'shop', 'abort', { ...command, id: 'c0ffee0000000002' });
      await new Promise((r) => setTimeout(r, 150));
      expect((await current(docker))?.config.Spec.Labels?.[LABELS.rolloutCommand]).toBeUndefined();
    });
    await applyObjectChecked(docker, canaryShop('2%'));
    expect(await answerWhenPending(docker)).toMatch(/-2$/);
    expect(await sent).toMatchObject({ kind: 'answered', result: { id: 'c0ffee0000000002' } });
    // Nothing was ever written on a sealed config.
    const sealedWrites = docker.writes.filter((w) => w.op === 'updateConfigLabels' && w.spec?.Labels?.[SEAL_LABEL] !== undefined && w.spec.Labels[LABELS.rolloutCommand] !== undefined);
    expect(sealedWrites).toEqual([]);
  });

  it('a command read before a whole apply retries on generation n+1 (version check, 404)', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    docker.beforeNext('updateConfigLabels', async () => {
      await applyObjectChecked(docker, canaryShop('2%'));
    });
    const sent = sendRolloutCommand(docker, 'shop', 'promote', { ...command, id: 'c0ffee0000000003' });
    expect(await answerWhenPending(docker)).toMatch(/-2$/);
    expect(await sent).toMatchObject({ kind: 'answered' });
  });

  it('a route that keeps changing under the command gives a conflict, not a Docker error', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    for (let i = 0; i < 6; i++)
      docker.beforeNext('updateConfigLabels', async () => {
        await setLabels(docker, { [LABELS.status]: `{"observedGeneration":1,"conditions":[],"n":${i}}` });
      });
    const out = await sendRolloutCommand(docker, 'shop', 'promote', command);
    expect(out.kind).toBe('conflict');
    expect(out.kind === 'conflict' ? out.message : '').toMatch(/^route\/shop: conflict: its config changed 5 times while this command was being written .*; nothing was written — run the command again$/);
    expect((await current(docker))?.config.Spec.Labels?.[LABELS.rolloutCommand]).toBeUndefined();
  });
});

describe('status write / rollout command', () => {
  it('a command written after the core read: the core\'s write is skipped and the command stays pending for the next run', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    const { current: read } = await listStoredSpecs(docker);
    await setLabels(docker, { [LABELS.rolloutCommand]: JSON.stringify({ id: 'c0ffee0000000004', command: 'promote', at: '' }) });
    const r = await writeStatuses(docker, read, { [KEY]: [] }, '2026-12-06T10:00:00Z', {}, new Map([[KEY, { [LABELS.rollout]: 'state-2' }]]));
    expect(r.raced).toEqual([KEY]);
    expect((await current(docker))?.config.Spec.Labels?.[LABELS.rolloutCommand]).toContain('c0ffee0000000004');
  });

  it('the core writing after the CLI read: the command is re-read and written on top of the new status', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, canaryShop('1%'));
    docker.beforeNext('updateConfigLabels', async () => {
      const { current: stored } = await listStoredSpecs(docker);
      await writeStatuses(docker, stored, { [KEY]: [] }, '2026-12-06T10:00:00Z', {}, new Map([[KEY, { [LABELS.rollout]: 'state-2' }]]));
    });
    const sent = sendRolloutCommand(docker, 'shop', 'promote', { timeoutMs: 2000, pollMs: 5, id: 'c0ffee0000000005' });
    for (let i = 0; i < 100 && (await current(docker))?.config.Spec.Labels?.[LABELS.rolloutCommand] === undefined; i++) await new Promise((r) => setTimeout(r, 2));
    const labels = (await current(docker))?.config.Spec.Labels ?? {};
    expect(labels[LABELS.rollout]).toBe('state-2');
    expect(labels[LABELS.rolloutCommand]).toContain('c0ffee0000000005');
    const c = (await current(docker))?.config;
    if (c === undefined) throw new Error('gone');
    const { [LABELS.rolloutCommand]: _t, ...rest } = labels;
    await docker.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: { ...rest, [LABELS.rolloutResult]: JSON.stringify({ id: 'c0ffee0000000005', accepted: true, message: 'ok' }) } });
    expect(await sent).toMatchObject({ kind: 'answered' });
  });
});

describe('what is stored is what was applied', () => {
  it('the stored object decodes to the winner\'s spec', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, shop(1));
    docker.beforeNext('updateConfigLabels', async () => {
      await applyObjectChecked(docker, shop(7));
    });
    await expect(applyObjectChecked(docker, shop(2))).rejects.toThrow(ConflictError);
    const id = (await current(docker))?.config.ID ?? '';
    const decoded = await decodeStoredObject(docker, id);
    expect(decoded._tag === 'Right' ? decoded.right : undefined).toEqual(shop(7));
  });
});

describe('rollback / apply of the cluster', () => {
  it('an apply of the ServiceCluster between the rollback\'s read and its write: exit 3 and the conflict line, nothing written', async () => {
    const docker = FakeDocker.singleNode();
    docker.addNetwork('app');
    await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
    docker.addTasks('web', 1);
    const edge = (replicas: number) => cluster('edge', { proxy: { replicas, delivery: 'rolling', publish: { mode: 'host', http: 18080, https: 18443 } } });
    const web = (host: string) => route('web', { serviceCluster: 'edge', hosts: [host], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
    const core = new CoreRun(docker, pino({ level: 'silent' }));
    await applyObject(docker, edge(1));
    await applyObject(docker, web('a.test'));
    await core.run(1);
    await applyObject(docker, web('b.test'));
    await core.run(2);
    docker.beforeNext('updateConfigLabels', async () => {
      await applyObjectChecked(docker, edge(2));
    });
    const io = capture();
    expect(await runRollback(docker, 'cluster', 'edge', undefined, io)).toBe(EXIT.conflict);
    expect(io.err_).toEqual(['servicecluster/edge: conflict: its stored spec changed while the rollback was being written (an apply, a delete or the core); nothing was written — run rollback again']);
    const { current: now } = await listStoredSpecs(docker);
    expect(now.get('ServiceCluster/edge')?.config.Spec.Labels?.[LABELS.rollback]).toBeUndefined();
  });
});
