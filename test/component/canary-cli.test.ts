/**
 * `swarmgate canary get|promote|abort|retry` and `wait --for=canary=PHASE` over the in-memory Docker
 * fake. The core's side (take the command label, answer in the result label) is played by
 * test/helpers/rollout-core-stub.ts, mostly with the real state machine deciding.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCanaryCommand, runCanaryGet } from '../../src/cli/commands/canary';
import { runCanaryList } from '../../src/cli/commands/canary-list';
import { WatchScreen } from '../../src/cli/watch-screen';
import { runWait } from '../../src/cli/commands/wait';
import type { Output } from '../../src/cli/output';
import { buildProgram } from '../../src/cli/program';
import { LABELS } from '../../src/domain/labels';
import { applyObject, specConfigName } from '../../src/desired/spec-store';
import { outOfSequenceError } from '../../src/observed/docker-errors';
import { advanceRollout, encodeRolloutState, type RolloutInput, type RolloutState } from '../../src/plan/rollout';
import { addRunningCore } from '../helpers/running-core';
import { FakeDocker } from '../fakes/fake-docker';
import { answerRolloutCommands, stateMachine, type CoreStub } from '../helpers/rollout-core-stub';
import { at, last, run } from '../helpers/rollout';
import { route } from '../helpers/specs';

const STEPS = [{ setWeight: 10 }, { pause: { duration: '1m' } }, { setWeight: 50 }, { pause: {} }];
const shop = route('shop', {
  hosts: ['shop.example.com'],
  rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }],
  canary: { stable: { service: 'shop-v1', port: 8080 }, canary: { service: 'shop-v2', port: 8080 }, steps: STEPS },
});
const plain = route('plain', { hosts: ['plain.example.com'], rules: [{ backends: [{ service: 'web', port: 80 }] }] });
const spec = shop.spec.canary ?? (() => { throw new Error('fixture has no canary'); })();

let docker: FakeDocker;
let core: CoreStub | undefined;

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  await applyObject(docker, shop);
  await applyObject(docker, plain);
  core = undefined;
});

afterEach(() => core?.stop());

function capture(): Output & { out_: string[]; err_: string[] } {
  const out_: string[] = [];
  const err_: string[] = [];
  return { out_, err_, out: (t) => out_.push(t), err: (t) => err_.push(t) };
}

async function shopConfig() {
  const [c] = await docker.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=shop`]);
  if (c === undefined) throw new Error('no shop config');
  return c;
}

/** Store a rollout state as the core would: with a status observing the given generation. */
async function storeState(state: RolloutState | undefined, observedGeneration = 1): Promise<void> {
  const c = await shopConfig();
  const labels: Record<string, string> = { ...(c.Spec.Labels ?? {}), [LABELS.status]: JSON.stringify({ observedGeneration, conditions: [] }) };
  if (state !== undefined) labels[LABELS.rollout] = encodeRolloutState(state);
  await docker.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: labels });
}

const states = (inputs: readonly RolloutInput[]): RolloutState => last(run(spec, inputs)).state;
const PAUSED = (): RolloutState => states([{ now: at(0) }, { now: at(60) }]);
const fast = { timeout: '2s', pollMs: 10 };

describe('canary promote / abort / retry', () => {
  it('writes the command label (version-checked), waits for the result with the same id, prints it, exit 0', async () => {
    await storeState(PAUSED());
    const before = await shopConfig();
    core = answerRolloutCommands(docker, stateMachine(at(70)));
    const io = capture();
    const code = await runCanaryCommand(docker, 'shop', 'promote', fast, io);
    expect(io.err_).toEqual([]);
    expect(io.out_).toEqual(['route/shop: promote accepted: steps[3] ended by promote']);
    expect(code).toBe(0);
    const cmd = core.seen[0];
    expect(cmd?.command).toBe('promote');
    expect(cmd?.id).toMatch(/^[0-9a-f]{16}$/);
    expect(Number.isNaN(Date.parse(cmd?.at ?? ''))).toBe(false);
    // The CLI's own write carried the version it read, and kept every other label.
    const write = docker.writes.find((a) => a.op === 'updateConfigLabels' && a.spec?.Labels?.[LABELS.rolloutCommand] !== undefined);
    expect(write?.version).toBe(before.Version.Index);
    expect(write?.spec?.Labels?.[LABELS.status]).toBe(before.Spec.Labels?.[LABELS.status]);
    // The core took it: no command left, its verdict and the new state stored.
    const after = (await shopConfig()).Spec.Labels ?? {};
    expect(after[LABELS.rolloutCommand]).toBeUndefined();
    expect(JSON.parse(after[LABELS.rolloutResult] ?? '{}')).toMatchObject({ id: cmd?.id, accepted: true });
    expect(after[LABELS.rollout]).toContain('"phase":"Succeeded"');
  });

  it('promote --full sends promoteFull; abort and retry send themselves', async () => {
    await storeState(states([{ now: at(0) }]));
    core = answerRolloutCommands(docker, stateMachine(at(5)));
    expect(await runCanaryCommand(docker, 'shop', 'promoteFull', fast, capture())).toBe(0);
    expect(await runCanaryCommand(docker, 'shop', 'abort', fast, capture())).toBe(1); // Succeeded cannot be aborted
    expect(core.seen.map((c) => c.command)).toEqual(['promoteFull', 'abort']);
  });

  it('a rejected command prints the core\'s reason and exits 1', async () => {
    await storeState(PAUSED());
    core = answerRolloutCommands(docker, stateMachine(at(70)));
    const io = capture();
    const code = await runCanaryCommand(docker, 'shop', 'retry', fast, io);
    expect(code).toBe(1);
    expect(io.err_).toEqual(['route/shop: retry rejected: retry restarts a Failed or Aborted rollout; this one is Paused']);
    expect(io.out_).toEqual([]);
  });

  it('retries the label write when it loses a race (update out of sequence)', async () => {
    await storeState(PAUSED());
    core = answerRolloutCommands(docker, stateMachine(at(70)));
    docker.failNext('updateConfigLabels', outOfSequenceError('updateConfigLabels'), 2);
    const code = await runCanaryCommand(docker, 'shop', 'abort', fast, capture());
    expect(code).toBe(0);
    const attempts = docker.actions.filter((a) => a.op === 'updateConfigLabels' && a.spec?.Labels?.[LABELS.rolloutCommand] !== undefined);
    expect(attempts.map((a) => a.error === undefined)).toEqual([false, false, true]);
  });

  it('timeout: says the core did not pick it up, withdraws the command (other labels kept), exit 1', async () => {
    await storeState(PAUSED());
    const io = capture();
    const started = Date.now();
    const code = await runCanaryCommand(docker, 'shop', 'promote', { timeout: '300ms', pollMs: 20 }, io);
    expect(code).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(io.err_).toEqual(['route/shop: the core did not pick up "promote" within 300ms (is `swarmgate core` running?); the command was withdrawn, nothing changed']);
    const labels = (await shopConfig()).Spec.Labels ?? {};
    expect(labels[LABELS.rolloutCommand]).toBeUndefined();
    expect(labels[LABELS.rollout]).toBe(encodeRolloutState(PAUSED()));
    expect(labels[LABELS.status]).toBeDefined();
  });

  it('Ctrl-C while waiting withdraws the command too', async () => {
    await storeState(PAUSED());
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 50);
    const io = capture();
    const code = await runCanaryCommand(docker, 'shop', 'abort', { timeout: '30s', pollMs: 10, signal: ctl.signal }, io);
    expect(code).toBe(1);
    expect(io.err_).toEqual(['route/shop: interrupted; the command was withdrawn, nothing changed']);
    expect((await shopConfig()).Spec.Labels?.[LABELS.rolloutCommand]).toBeUndefined();
  });

  it('a core that took the command but has not answered is not undone on timeout', async () => {
    await storeState(PAUSED());
    // Takes the command label off without a verdict (as if the core crashed half-way).
    core = answerRolloutCommands(docker, async (_cmd, c, d) => {
      const { [LABELS.rolloutCommand]: _x, ...rest } = c.Spec.Labels ?? {};
      await d.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: rest });
      return undefined;
    });
    const io = capture();
    expect(await runCanaryCommand(docker, 'shop', 'promote', { timeout: '200ms', pollMs: 10 }, io)).toBe(1);
    expect(io.err_).toEqual(['route/shop: no verdict on "promote" within 200ms, but the core had already taken it; see `swarmgate canary get shop`']);
  });

  it('follows the route to a new config generation made while waiting (apply carries the labels over)', async () => {
    await storeState(PAUSED());
    const decide = stateMachine(at(70));
    let moved = false;
    core = answerRolloutCommands(docker, async (cmd, c, d) => {
      if (!moved) {
        // A re-apply: generation 2 with the same labels (command included), then generation 1 removed.
        moved = true;
        const full = await d.inspectConfig(c.ID);
        await d.createConfig({ Name: specConfigName('Route', 'shop', 2), Labels: { ...(c.Spec.Labels ?? {}), [LABELS.generation]: '2' }, Data: full.Spec.Data ?? '' });
        await d.removeConfig(c.ID);
        return undefined;
      }
      return decide(cmd, c, d);
    });
    const io = capture();
    expect(await runCanaryCommand(docker, 'shop', 'promote', fast, io)).toBe(0);
    expect(io.out_).toEqual(['route/shop: promote accepted: steps[3] ended by promote']);
    expect((await shopConfig()).Spec.Labels?.[LABELS.generation]).toBe('2');
  });

  it('another CLI replacing the pending command: this one reports it and exits 1', async () => {
    await storeState(PAUSED());
    core = answerRolloutCommands(docker, async (cmd, c, d) => {
      if (cmd.id === 'otherotherother1') return undefined;
      await d.updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: { ...(c.Spec.Labels ?? {}), [LABELS.rolloutCommand]: JSON.stringify({ id: 'otherotherother1', command: 'abort', at: '2026-01-01T00:00:00Z' }) } });
      return undefined;
    });
    const io = capture();
    expect(await runCanaryCommand(docker, 'shop', 'promote', fast, io)).toBe(1);
    expect(io.err_).toEqual(['route/shop: "promote" was replaced by another "abort" (id otherotherother1) before the core took it; the core acts on that one']);
  });

  it('refuses a route without spec.canary and an unknown route, writing nothing', async () => {
    docker.clearActions();
    const io = capture();
    expect(await runCanaryCommand(docker, 'plain', 'promote', fast, io)).toBe(1);
    expect(io.err_[0]).toMatch(/^route\/plain has no spec\.canary/);
    expect(await runCanaryCommand(docker, 'nope', 'abort', fast, io)).toBe(1);
    expect(io.err_[1]).toBe('route/nope not found');
    expect(docker.writes).toEqual([]);
  });

  it('rejects a --timeout that is not a duration (usage, exit 2)', async () => {
    const io = capture();
    expect(await runCanaryCommand(docker, 'shop', 'promote', { timeout: 'soon' }, io)).toBe(2);
    expect(io.err_).toEqual(['--timeout: expected a duration like 30s or 2m, got "soon"']);
  });
});

describe('canary list', () => {
  it('lists only routes with spec.canary, with their backends and phase', async () => {
    const io = capture();
    expect(await runCanaryList(docker, io)).toBe(0);
    expect(io.out_.join('\n').split('\n').map((l) => l.split(/\s+/).slice(0, 6))).toEqual([
      ['NAME', 'CLUSTER', 'STRATEGY', 'STABLE', 'NEW', 'STATUS'],
      ['shop', 'default', 'canary', 'shop-v1:8080', 'shop-v2:8080', 'Pending'],
    ]);
    await storeState(PAUSED());
    const paused = capture();
    await runCanaryList(docker, paused);
    expect(paused.out_.join('\n')).toMatch(/^shop +default +canary +shop-v1:8080 +shop-v2:8080 +Paused 50%/m);
  });
});

describe('canary get', () => {
  it('prints the view of the stored state', async () => {
    await storeState(PAUSED());
    const io = capture();
    expect(await runCanaryGet(docker, 'shop', {}, io)).toBe(0);
    const text = io.out_.join('\n');
    expect(text).toContain('Phase:      Paused (waiting for `swarmgate canary promote shop`)');
    expect(text).toContain('  ►  3  pause: (until promote)');
    expect(text).toContain('Weight:     stable ██████████░░░░░░░░░░ 50% | canary 50%');
  });

  it('-o json prints the state for scripts', async () => {
    await storeState(PAUSED());
    const io = capture();
    expect(await runCanaryGet(docker, 'shop', { output: 'json' }, io)).toBe(0);
    expect(JSON.parse(io.out_.join(''))).toMatchObject({ route: 'shop', generation: 1, state: { phase: 'Paused', weight: 50 }, lastResult: null });
  });

  it('says when the core has not started the rollout; refuses routes without canary and unknown ones', async () => {
    const io = capture();
    expect(await runCanaryGet(docker, 'shop', {}, io)).toBe(0);
    expect(io.out_.join('\n')).toContain('Phase:      not started');
    expect(await runCanaryGet(docker, 'plain', {}, io)).toBe(1);
    expect(await runCanaryGet(docker, 'nope', {}, io)).toBe(1);
    expect(io.err_).toEqual([expect.stringMatching(/^route\/plain has no spec\.canary/), 'route/nope not found']);
  });

  it('--watch without a terminal prints a block per change and stops once the rollout is terminal', async () => {
    await storeState(PAUSED());
    const io = capture();
    const watching = runCanaryGet(docker, 'shop', { watch: true, screen: new WatchScreen(io, { tty: false }), intervalMs: 10 }, io);
    await new Promise((r) => setTimeout(r, 60));
    // Several polls of an unchanged state printed one block.
    expect(io.out_).toHaveLength(1);
    await storeState(advanceRollout(spec, PAUSED(), { now: at(70), command: 'promote' }).state);
    expect(await watching).toBe(0);
    expect(io.out_).toHaveLength(2);
    expect(io.out_[1]).toContain('Phase:      Succeeded');
    expect(io.out_.every((b) => !b.includes('\x1b'))).toBe(true);
  });

  it('--watch exits 1 when the rollout ends Aborted, for scripts', async () => {
    await storeState(PAUSED());
    const io = capture();
    const watching = runCanaryGet(docker, 'shop', { watch: true, screen: new WatchScreen(io, { tty: false }), intervalMs: 10 }, io);
    await new Promise((r) => setTimeout(r, 40));
    await storeState(advanceRollout(spec, PAUSED(), { now: at(70), command: 'abort' }).state);
    expect(await watching).toBe(1);
    expect(io.out_.at(-1)).toContain('Phase:      Aborted');
  });

  it('--watch on a terminal redraws in place every interval until Ctrl-C, cut to the terminal', async () => {
    await storeState(PAUSED());
    const io = capture();
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 80);
    expect(await runCanaryGet(docker, 'shop', { watch: true, screen: new WatchScreen(io, { tty: true, colour: false, columns: 60, rows: 8 }), intervalMs: 10, signal: ctl.signal }, io)).toBe(0);
    expect(io.out_.length).toBeGreaterThan(2);
    expect(io.out_.every((b) => b.startsWith('\x1b[H') && b.endsWith('\x1b[J'))).toBe(true);
    // 8 rows: 7 lines at most, the last one saying how many did not fit; no line wider than 60 columns.
    const frame = (io.out_[0] ?? '').slice(3, -3).split('\x1b[K\n');
    expect(frame.length).toBeLessThanOrEqual(7);
    expect(frame.at(-1)).toMatch(/^… \d+ more lines/);
    expect(frame.every((l) => [...l.replace('\x1b[K', '')].length <= 60)).toBe(true);
  });

  it('--watch does not stop on a terminal state the core has not re-observed for a new generation', async () => {
    await storeState(states([{ now: at(0) }, { now: at(1), command: 'promoteFull' }]), 0);
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(), 60);
    const io = capture();
    const started = Date.now();
    expect(await runCanaryGet(docker, 'shop', { watch: true, screen: new WatchScreen(io, { tty: false }), intervalMs: 10, signal: ctl.signal }, io)).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
  });
});

describe('wait --for=canary=PHASE', () => {
  it('exits 0 once the stored phase is the one awaited', async () => {
    await storeState(PAUSED());
    setTimeout(() => void storeState(advanceRollout(spec, PAUSED(), { now: at(70), command: 'promote' }).state), 50);
    const io = capture();
    expect(await runWait(docker, 'route/shop', 'canary=Succeeded', '5s', io, 10)).toBe(0);
    expect(io.out_).toEqual(['route/shop condition met: canary=Succeeded']);
  });

  it('fails early with the reason when the rollout ends in another terminal phase', async () => {
    await storeState(PAUSED());
    setTimeout(() => void storeState(advanceRollout(spec, PAUSED(), { now: at(70), command: 'abort' }).state), 50);
    const io = capture();
    const started = Date.now();
    expect(await runWait(docker, 'route/shop', 'canary=Succeeded', '20s', io, 10)).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(io.err_).toEqual(['route/shop will not reach canary=Succeeded: the rollout ended Aborted (Aborted: aborted by command), step 3, weight 0%, not Succeeded']);
  });

  it('waiting for Failed is met by Failed (any phase can be awaited)', async () => {
    await storeState(advanceRollout(spec, PAUSED(), { now: at(70), command: 'abort' }).state);
    expect(await runWait(docker, 'route/shop', 'canary=Aborted', '1s', capture(), 10)).toBe(0);
  });

  it('ignores a state the core has not confirmed for the current generation, and times out', async () => {
    await storeState(states([{ now: at(0) }, { now: at(1), command: 'promoteFull' }]), 0);
    const io = capture();
    expect(await runWait(docker, 'route/shop', 'canary=Succeeded', '100ms', io, 10)).toBe(1);
    expect(io.err_).toEqual(['timed out after 100ms waiting for route/shop canary=Succeeded; last: generation 1 not observed yet']);
  });

  it('times out saying the rollout has not started when there is no state', async () => {
    await storeState(undefined);
    const io = capture();
    expect(await runWait(docker, 'route/shop', 'canary=Succeeded', '50ms', io, 10)).toBe(1);
    expect(io.err_[0]).toMatch(/last: the core has not started the rollout yet$/);
  });

  it('a route without spec.canary fails at once', async () => {
    const io = capture();
    expect(await runWait(docker, 'route/plain', 'canary=Succeeded', '30s', io, 10)).toBe(1);
    expect(io.err_[0]).toMatch(/^route\/plain will not reach canary=Succeeded: route\/plain has no spec\.canary/);
  });

  it('validates the phase name with a did-you-mean (usage, exit 2)', async () => {
    const io = capture();
    expect(await runWait(docker, 'route/shop', 'canary=Succeded', '1s', io)).toBe(2);
    expect(io.err_).toEqual(['--for canary: unknown phase "Succeded" (did you mean "Succeeded"?); one of Progressing, Paused, Promoted, Aborted, Failed, Succeeded']);
    expect(await runWait(docker, 'route/shop', 'canary', '1s', io)).toBe(2);
    expect(await runWait(docker, 'servicecluster/edge', 'canary=Succeeded', '1s', io)).toBe(2);
    expect(io.err_[2]).toBe('--for canary=PHASE applies to routes (route/edge), not serviceclusters');
  });

  it('leaves ordinary conditions as they were', async () => {
    const c = await shopConfig();
    await docker.updateConfigLabels(c.ID, c.Version.Index, {
      ...c.Spec,
      Labels: { ...(c.Spec.Labels ?? {}), [LABELS.status]: JSON.stringify({ observedGeneration: 1, conditions: [{ type: 'Programmed', status: 'True', reason: 'Programmed', message: '', lastTransitionTime: '' }] }) },
    });
    // A core runs: conditions it wrote are trusted (with none, Programmed reads Unknown).
    await addRunningCore(docker);
    const io = capture();
    expect(await runWait(docker, 'route/shop', 'Programmed', '1s', io, 10)).toBe(0);
    expect(io.out_).toEqual(['route/shop condition met: Programmed=True']);
  });
});

describe('command line wiring', () => {
  it('`canary promote NAME --full --timeout D` sends promoteFull and sets the exit code', async () => {
    await storeState(PAUSED());
    core = answerRolloutCommands(docker, stateMachine(at(70)));
    const io = capture();
    let code = -1;
    await buildProgram(io, (c) => (code = c), () => docker).parseAsync(['node', 'swarmgate', 'canary', 'promote', 'shop', '--full', '--timeout', '2s']);
    expect(core.seen.map((c) => c.command)).toEqual(['promoteFull']);
    expect(io.out_).toEqual(['route/shop: promote --full accepted: promoted to 100%']);
    expect(code).toBe(0);
    await buildProgram(io, (c) => (code = c), () => docker).parseAsync(['node', 'swarmgate', 'wait', 'route/shop', '--for=canary=Succeeded', '--timeout', '1s']);
    expect(code).toBe(0);
  });
});
