/** Every Docker call of the core fails after a deadline instead of hanging with the engine. */
import { describe, expect, it } from 'vitest';
import { DockerApiError } from '../../src/observed/docker-errors';
import type { DockerPort } from '../../src/observed/docker-port';
import { withCallDeadline } from '../../src/observed/deadline-port';

const never = new Promise<never>(() => undefined);

function fakePort(overrides: Partial<Record<keyof DockerPort, unknown>>): DockerPort {
  return overrides as unknown as DockerPort;
}

describe('withCallDeadline', () => {
  it('fails a call the engine does not answer within the deadline, as a transport error naming the call', async () => {
    const told: string[] = [];
    const port = withCallDeadline(fakePort({ listTasks: () => never }), { deadlineMs: 30, onTimeout: (m, ms) => told.push(`${m} ${ms}`) });
    const t0 = Date.now();
    const err = await port.listTasks().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerApiError);
    expect(err).toMatchObject({ statusCode: 0, operation: 'listTasks', code: 'ETIMEDOUT', message: 'the Docker engine did not answer listTasks within 0.03 s' });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
    expect(told).toEqual(['listTasks 30']);
  });

  it('passes answers and errors that come in time through unchanged', async () => {
    const boom = new DockerApiError(500, 'engine error', 'listServices');
    const port = withCallDeadline(fakePort({ listNodes: () => Promise.resolve(['n1']), listServices: () => Promise.reject(boom) }), { deadlineMs: 1_000 });
    expect(await port.listNodes()).toEqual(['n1']);
    await expect(port.listServices()).rejects.toBe(boom);
  });

  it('leaves the event stream and log reads (their own timeout) alone', () => {
    let stopped = false;
    const stop = (): void => {
      stopped = true;
    };
    const tail = (): Promise<string[]> => never;
    const port = withCallDeadline(fakePort({ watchEvents: () => stop, taskLogTail: tail }), { deadlineMs: 10 });
    port.watchEvents(() => undefined, () => undefined)();
    expect(stopped).toBe(true);
    expect(port.taskLogTail).toBe(tail);
  });
});
