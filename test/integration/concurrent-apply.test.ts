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
import { runApply } from '../../src/cli/commands/apply';
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
  return { out_, err_, out: (t) => out_.push(t.trimEnd()), err: (t) => err_.push(t.trimEnd()) };
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
        const codes = await Promise.all(ios.map((io, w) => runApply(recording(createDockerPort(), created), [files[w] ?? ''], io)));

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
});
