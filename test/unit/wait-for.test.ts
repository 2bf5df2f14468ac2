import { describe, expect, it } from 'vitest';
import { errorText } from '../../src/cli/error-text';
import { FINAL_REJECTIONS, goalText, parseWaitFor, probeConditionGoal } from '../../src/cli/wait-for';
import { DockerApiError } from '../../src/observed/docker-errors';
import type { StatusCondition } from '../../src/status/object-status';

const cond = (type: StatusCondition['type'], status: StatusCondition['status'], reason: StatusCondition['reason'], message = ''): StatusCondition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '',
});

describe('wait --for', () => {
  it.each([
    ['Programmed', 'Programmed=True'],
    ['programmed', 'Programmed=True'],
    ['condition=Programmed', 'Programmed=True'],
    ['condition=Ready=False', 'Ready=False'],
    ['Accepted=unknown', 'Accepted=Unknown'],
    ['delete', 'delete'],
    ['canary=Succeeded', 'canary=Succeeded'],
  ])('reads %s as %s', (raw, shown) => {
    const goal = parseWaitFor(raw);
    if ('error' in goal) throw new Error(goal.error);
    expect(goalText(goal)).toBe(shown);
  });

  it.each([
    ['Programed', /unknown condition "Programed" \(did you mean "Programmed"\?\)/],
    ['condition=Redy', /did you mean "Ready"/],
    ['Programmed=yes', /must be True, False or Unknown/],
    ['condition=', /expected condition=TYPE/],
    ['Programmed=True=False', /expected condition=TYPE/],
    ['canary=Succeded', /did you mean "Succeeded"/],
  ])('refuses %s with a usable message', (raw, message) => {
    const goal = parseWaitFor(raw);
    expect('error' in goal ? goal.error : 'accepted').toMatch(message);
  });

  const programmed = { kind: 'condition', type: 'Programmed', status: 'True' } as const;

  it('is met only by the wanted status of the current generation', () => {
    expect(probeConditionGoal(programmed, 3, undefined)).toEqual({ verdict: 'pending', last: 'generation 3 not observed by the core yet' });
    expect(probeConditionGoal(programmed, 3, [cond('Programmed', 'False', 'Pending', 'rolling')]).verdict).toBe('pending');
    expect(probeConditionGoal(programmed, 3, [cond('Programmed', 'True', 'Programmed')])).toEqual({ verdict: 'met', message: 'Programmed=True' });
  });

  it.each(FINAL_REJECTIONS)('stops at once when the generation is rejected for %s, which only a new spec changes', (reason) => {
    const probe = probeConditionGoal(programmed, 2, [cond('Accepted', 'False', reason, 'why'), cond('Programmed', 'False', 'Pending')]);
    expect(probe).toEqual({ verdict: 'lost', message: `generation 2 is not accepted (${reason}): why; apply a corrected spec` });
  });

  it('keeps waiting for references that may still be created', () => {
    for (const reason of ['ServiceClusterNotFound', 'BackendNotFound', 'SecretNotFound'] as const) {
      const conditions = [cond(reason === 'ServiceClusterNotFound' ? 'Accepted' : 'ResolvedRefs', 'False', reason), cond('Programmed', 'False', 'Pending')];
      expect(probeConditionGoal(programmed, 1, conditions).verdict).toBe('pending');
    }
  });

  it('is met by a rejection when the rejection is what is waited for', () => {
    expect(probeConditionGoal({ kind: 'condition', type: 'Accepted', status: 'False' }, 1, [cond('Accepted', 'False', 'HostConflict')]).verdict).toBe('met');
  });
});

describe('errors of an unreachable Docker engine', () => {
  const env = (host?: string): NodeJS.ProcessEnv => (host === undefined ? {} : { DOCKER_HOST: host });

  it('names the engine address, where it came from, and what to check', () => {
    const text = errorText(new DockerApiError(0, 'connect ENOENT /nonexistent', 'listConfigs', 'ENOENT'), env('unix:///nonexistent'));
    expect(text).toBe(
      'cannot connect to the Docker engine at unix:///nonexistent (DOCKER_HOST): no such socket. Is dockerd running there (make swarm-up starts one on this machine), and is DOCKER_HOST right?',
    );
    expect(errorText(new DockerApiError(0, 'connect ECONNREFUSED', 'listConfigs', 'ECONNREFUSED'), env())).toMatch(
      /^cannot connect to the Docker engine at unix:\/\/\/var\/run\/docker.sock \(the default; DOCKER_HOST is not set\): connection refused\./,
    );
    expect(errorText(new DockerApiError(0, 'getaddrinfo ENOTFOUND foo', 'listConfigs', 'ENOTFOUND'), env('tcp://foo:2375'))).toMatch(/tcp:\/\/foo:2375 \(DOCKER_HOST\): unknown host name/);
  });

  it('never prints an empty message', () => {
    expect(errorText(new DockerApiError(404, '', 'listConfigs'), env('tcp://10.0.0.1:2375'))).toMatch(/answered HTTP 404 without a Docker error message/);
    expect(errorText(new Error(''))).toBe('Error (no message)');
  });

  it('leaves the daemon\'s own messages as they are', () => {
    expect(errorText(new DockerApiError(409, 'config name conflicts', 'createConfig'), env())).toBe('config name conflicts');
  });
});
