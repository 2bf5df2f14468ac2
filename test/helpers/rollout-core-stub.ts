/**
 * Stands in for the core's half of rollout commands in CLI tests: watches the fake's config events,
 * takes a pending LABELS.rolloutCommand off a Route's config and answers in LABELS.rolloutResult
 * (optionally with a new rollout state), all in one version-checked label update, as the core does.
 */
import * as E from 'fp-ts/Either';
import { LABELS } from '../../src/domain/labels';
import { decodeObject } from '../../src/domain/object';
import { advanceRollout, decodeRolloutState, encodeRolloutState, type RolloutState } from '../../src/plan/rollout';
import { decodeRolloutCommand, encodeRolloutResult, knownCommand, type RolloutCommandLabel } from '../../src/domain/rollout-labels';
import type { ConfigInfo } from '../../src/observed/docker-port';
import type { FakeDocker } from '../fakes/fake-docker';

export interface Answer {
  readonly accepted: boolean;
  readonly message: string;
  /** The rollout state to store with the verdict (encodeRolloutState); absent: unchanged. */
  readonly state?: string;
}

/** Decide on a command; undefined leaves it pending (a core that has not got to it). */
export type Decide = (command: RolloutCommandLabel, config: ConfigInfo, docker: FakeDocker) => Promise<Answer | undefined> | Answer | undefined;

export interface CoreStub {
  /** Every command seen, in order. */
  readonly seen: RolloutCommandLabel[];
  stop(): void;
}

export function answerRolloutCommands(docker: FakeDocker, decide: Decide): CoreStub {
  const seen: RolloutCommandLabel[] = [];
  let busy = false;
  let again = false;
  const check = async (): Promise<void> => {
    // One pass at a time; an event during a pass runs one more, like the core's loop.
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    try {
      do {
        again = false;
        for (const c of await docker.listConfigs([`${LABELS.kind}=Route`, LABELS.rolloutCommand])) {
          const command = knownCommand(decodeRolloutCommand(c.Spec.Labels?.[LABELS.rolloutCommand]));
          if (command === undefined) continue;
          if (!seen.some((s) => s.id === command.id)) seen.push(command);
          const answer = await decide(command, c, docker);
          if (answer === undefined) continue;
          const { [LABELS.rolloutCommand]: _taken, ...labels } = c.Spec.Labels ?? {};
          const result = encodeRolloutResult({ id: command.id, accepted: answer.accepted, message: answer.message });
          // A stale version means someone wrote meanwhile; their write's event brings us back.
          await docker
            .updateConfigLabels(c.ID, c.Version.Index, { ...c.Spec, Labels: { ...labels, [LABELS.rolloutResult]: result, ...(answer.state !== undefined ? { [LABELS.rollout]: answer.state } : {}) } })
            .catch(() => undefined);
        }
      } while (again);
    } finally {
      busy = false;
    }
  };
  const stop = docker.watchEvents(
    (e) => {
      if (e.Type === 'config') void check();
    },
    () => undefined,
  );
  void check();
  return { seen, stop };
}

/** Decides the way the real core will: the state machine applied to the stored spec and state at `now`. */
export function stateMachine(now: number): Decide {
  return async (command, config, docker) => {
    const full = await docker.inspectConfig(config.ID);
    const obj = decodeObject(JSON.parse(Buffer.from(full.Spec.Data ?? '', 'base64').toString('utf8')));
    if (E.isLeft(obj) || obj.right.kind !== 'Route' || obj.right.spec.canary === undefined) return { accepted: false, message: 'no spec.canary' };
    const text = config.Spec.Labels?.[LABELS.rollout];
    const decoded = text === undefined ? undefined : decodeRolloutState(text);
    const state: RolloutState | undefined = decoded !== undefined && E.isRight(decoded) ? decoded.right : undefined;
    const r = advanceRollout(obj.right.spec.canary, state, { now, command: command.command });
    return { ...(r.command ?? { accepted: false, message: 'no verdict' }), state: encodeRolloutState(r.state) };
  };
}
