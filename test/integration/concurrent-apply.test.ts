/**
 * Issue 18, "nothing lost under faults": concurrent `apply` of one Route on the real Swarm. Each
 * trial starts 2–4 writers at once (runApply, the CLI's function, each with its own Docker
 * connection) with different specs, while a stand-in for the core writes status and rollout state on
 * the route's current config as fast as it can (writeStatuses, as the core does). Asserted per trial:
 * every writer either printed `configured` (exit 0) or the conflict line (exit 3) and nothing else,
 * never Docker's own words; exactly the writers that reported success created a generation; the spec
 * stored at the end is the one of the successful writer with the highest generation; the rollout state
 * on the current generation is the last one the status writer stored (never an older one).
 *
 * Touches only spec configs of its own route (`race-<random>`), which it removes at the end.
 * Run with the Swarm lock held: flock /tmp/swarm.lock npx vitest run --config vitest.integration.mts test/integration/concurrent-apply.test.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runApply, runDelete } from '../../src/cli/commands/apply';
import { EXIT, type Output } from '../../src/cli/output';
import { deleteObject, listStoredSpecs, specHash } from '../../src/desired/spec-store';
import { LABELS } from '../../src/domain/labels';
import type { RouteObject } from '../../src/domain/object';
import type { DockerPort } from '../../src/observed/docker-port';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { writeStatuses } from '../../src/status/write-status';
import { route } from '../helpers/specs';

const NAME = `race-${randomBytes(3).toString('hex')}`;
const KEY = `Route/${NAME}`;
const TRIALS = [2, 3, 4, 2, 3, 4, 2, 4];
const RAW_DOCKER = /AlreadyExists|not found|out of sequence|rpc error|HTTP code|statusCode/i;
const CONFIGURED = `route/${NAME} configured`;
const CONFLICT = new RegExp(`^route/${NAME}: conflict: (another apply stored generation \\d+ while this one was being written|another apply is storing generation \\d+ right now|generation \\d+ kept changing while this apply tried to replace it); nothing of this apply was stored — run apply again$`);

function spec(trial: number, writer: number): RouteObject {
  return route(NAME, {
    hosts: [`${NAME}.example.com`],
    rules: [{ backends: [{ service: `${NAME}-v1`, port: 8080 }] }],
    canary: {
      stable: { service: `${NAME}-v1`, port: 8080 },
      canary: { service: `${NAME}-v2`, port: 8080 },
      steps: [{ setWeight: 10 }, { pause: {} }],
      // Different per trial and writer, so every apply is a change.
      analysis: { interval: '1m', maxErrorRate: `${trial}.${writer + 1}%` },
    },
  });
}

function capture(): Output & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  // Whether a core runs on the test Swarm is not this test's subject: its warning line is left out.
  return { out_, err_, out: (t) => out_.push(t.trimEnd()), err: (t) => (/^(warning|note): /.test(t) ? undefined : err_.push(t.trimEnd())) };
}

/** A port that records the spec configs it created (name → spec hash). */
function recording(port: DockerPort, created: Map<string, string>): DockerPort {
  return {
    ...port,
    createConfig: async (s) => {
      const id = await port.createConfig(s);
      if (s.Labels?.[LABELS.name] === NAME) created.set(s.Labels[LABELS.generation] ?? '', s.Labels[LABELS.specHash] ?? '');
      return id;
    },
  };
}

const port = createDockerPort();

afterAll(async () => {
  await deleteObject(port, 'Route', NAME).catch(() => false);
});

describe('concurrent apply of one route on the real Swarm', () => {
  it('stores exactly one winner per generation, reports it, and gives every loser the conflict line and exit 3', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-race-'));
    const file = (trial: number, writer: number): string => {
      const f = join(dir, `t${trial}-w${writer}.json`);
      writeFileSync(f, JSON.stringify(spec(trial, writer)));
      return f;
    };
    expect(await runApply(port, [file(99, 0)], capture())).toBe(EXIT.ok);

    // The core's stand-in: writes rollout state "n" on the current config, version-checked, in a loop.
    let statusWrites = 0;
    let lastState: string | undefined;
    let stop = false;
    const statusWriter = (async () => {
      const own = createDockerPort();
      for (let n = 1; !stop; n++) {
        const { current } = await listStoredSpecs(own);
        const state = `state-${n}`;
        const r = await writeStatuses(own, new Map([...current].filter(([k]) => k === KEY)), { [KEY]: [] }, new Date().toISOString(), {}, new Map([[KEY, { [LABELS.rollout]: state }]]));
        if (r.writes > 0) {
          statusWrites++;
          lastState = state;
        }
        await new Promise((res) => setTimeout(res, 20));
      }
    })();

    const summary: string[] = [];
    try {
      for (const [trial, writers] of TRIALS.entries()) {
        const created = new Map<string, string>();
        const ios = Array.from({ length: writers }, capture);
        const files = Array.from({ length: writers }, (_, w) => file(trial, w));
        // Odd trials start the writers up to 150 ms apart: some then read another's new generation and go after it.
        const jitter = (w: number): number => (trial % 2 === 1 ? Math.floor(Math.random() * 150) * Math.min(w, 1) : 0);
        const codes = await Promise.all(
          ios.map(async (io, w) => {
            await new Promise((r) => setTimeout(r, jitter(w)));
            return runApply(recording(createDockerPort(), created), [files[w] ?? ''], io);
          }),
        );

        const winners: number[] = [];
        for (const [w, io] of ios.entries()) {
          const text = [...io.out_, ...io.err_].join('\n');
          expect(text, `trial ${trial} writer ${w}`).not.toMatch(RAW_DOCKER);
          if (codes[w] === EXIT.ok) {
            expect(io.out_).toEqual([CONFIGURED]);
            expect(io.err_).toEqual([]);
            winners.push(w);
          } else {
            expect(codes[w], `trial ${trial} writer ${w}: ${text}`).toBe(EXIT.conflict);
            expect(io.out_).toEqual([]);
            expect(io.err_).toHaveLength(1);
            expect(io.err_[0]).toMatch(CONFLICT);
          }
        }
        // Exactly the writers that reported success created a generation, each its own.
        const hashOf = (w: number): string => specHash(spec(trial, w));
        expect([...created.values()].sort()).toEqual(winners.map(hashOf).sort());
        expect(winners.length).toBeGreaterThan(0);
        // The stored spec is the one of the winner with the highest generation.
        const newest = [...created.entries()].sort((a, b) => Number(b[0]) - Number(a[0]))[0];
        const { current, stale } = await listStoredSpecs(port);
        const stored = current.get(KEY);
        expect(stored?.config.Spec.Labels?.[LABELS.specHash]).toBe(newest?.[1]);
        expect(stored?.generation).toBe(Number(newest?.[0]));
        expect(stale.filter((s) => s.name === NAME)).toEqual([]);
        summary.push(`trial ${trial}: ${writers} writers, ${winners.length} stored (generations ${[...created.keys()].sort().join(',')}), ${writers - winners.length} conflict`);
      }
    } finally {
      stop = true;
      await statusWriter;
    }
    // The rollout state on the current generation is the last one written: carried, never lost.
    const { current } = await listStoredSpecs(port);
    expect(current.get(KEY)?.config.Spec.Labels?.[LABELS.rollout]).toBe(lastState);
    expect(statusWrites).toBeGreaterThan(0);
    console.log(`${summary.join('\n')}\nstatus writes during the trials: ${statusWrites}, last ${lastState ?? '-'}`);
  });

  it('applies racing a delete: no Docker text, and what is stored agrees with what was reported', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-race-del-'));
    const summary: string[] = [];
    for (let trial = 0; trial < 6; trial++) {
      const base = join(dir, `base-${trial}.json`);
      writeFileSync(base, JSON.stringify(spec(50 + trial, 9)));
      expect(await runApply(port, [base], capture())).toBe(EXIT.ok);
      const created = new Map<string, string>();
      const files = [0, 1].map((w) => {
        const f = join(dir, `t${trial}-w${w}.json`);
        writeFileSync(f, JSON.stringify(spec(50 + trial, w)));
        return f;
      });
      const applies = files.map(capture);
      const del = capture();
      // Who starts first varies: the delete 0–20 ms after the applies, or the applies 0–20 ms after the delete.
      const later = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
      const applyDelay = trial % 2 === 0 ? trial * 5 : 0;
      const deleteDelay = trial % 2 === 1 ? trial * 5 : 0;
      const [a0, a1, d] = await Promise.all([
        later(applyDelay).then(() => runApply(recording(createDockerPort(), created), [files[0] ?? ''], applies[0] ?? capture())),
        later(applyDelay).then(() => runApply(recording(createDockerPort(), created), [files[1] ?? ''], applies[1] ?? capture())),
        later(deleteDelay).then(() => runDelete(createDockerPort(), { kind: 'route', names: [NAME] }, del)),
      ]);
      const all = [...applies, del].flatMap((io) => [...io.out_, ...io.err_]);
      for (const line of all) {
        expect(line).not.toMatch(RAW_DOCKER);
        expect(line).toMatch(new RegExp(`^route/${NAME}(:? (created|configured|deleted|not found)$|: conflict: )`));
      }
      const { current } = await listStoredSpecs(port);
      const stored = current.get(KEY);
      const okApplies = [a0, a1].flatMap((code, w) => (code === EXIT.ok ? [specHash(spec(50 + trial, w))] : []));
      if (stored !== undefined) {
        // Present: the stored spec is the newest a successful apply wrote; if the delete succeeded too, that
        // apply came after it (it read no object and created generation 1).
        expect(okApplies).toContain(stored.config.Spec.Labels?.[LABELS.specHash]);
        const newest = [...created.entries()].sort((x, y) => Number(y[0]) - Number(x[0]))[0];
        expect(stored.config.Spec.Labels?.[LABELS.specHash]).toBe(newest?.[1]);
        if (d === EXIT.ok) expect(applies.some((io) => io.out_.includes(`route/${NAME} created`))).toBe(true);
        else expect(d).toBe(EXIT.conflict);
      } else {
        // Absent: the delete won (only a delete removes a generation); applies that read the route before got conflicts.
        expect(d).toBe(EXIT.ok);
      }
      summary.push(`trial ${trial}: applies exit ${a0},${a1}, delete exit ${d}; stored ${stored === undefined ? 'nothing' : `generation ${stored.generation}`}`);
      await deleteObject(port, 'Route', NAME);
    }
    console.log(summary.join('\n'));
  });
});
