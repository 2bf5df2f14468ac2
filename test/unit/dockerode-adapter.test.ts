// Engine-free tests of the dockerode adapter: DOCKER_HOST parsing, error wrapping, the event stream
// decoder and watchEvents' life cycle over a stub (the real daemon is covered in test/integration).
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DockerApiError, isNameConflict, isNotFound, isOutOfSequence } from '../../src/observed/docker-errors';
import type { DockerEvent } from '../../src/observed/docker-port';
import { createDockerPort, JsonLineSplitter, parseDockerHost, toDockerApiError, toDockerEvent } from '../../src/observed/dockerode-adapter';

describe('parseDockerHost', () => {
  const home = '/home/u';
  it('defaults to the unix socket', () => {
    expect(parseDockerHost({}, home)).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(parseDockerHost({ DOCKER_HOST: '' }, home)).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(parseDockerHost({ DOCKER_HOST: 'unix://' }, home)).toEqual({ kind: 'unix', socketPath: '/var/run/docker.sock' });
    expect(parseDockerHost({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }, home)).toEqual({ kind: 'unix', socketPath: '/run/user/1000/docker.sock' });
  });
  it('reads tcp like the CLI: default ports, bare host:port, TLS from DOCKER_TLS_VERIFY and DOCKER_CERT_PATH', () => {
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://127.0.0.1:2375' }, home)).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 2375, tls: undefined });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://docker.local' }, home)).toMatchObject({ host: 'docker.local', port: 2375 });
    expect(parseDockerHost({ DOCKER_HOST: '127.0.0.1:1234' }, home)).toMatchObject({ kind: 'tcp', host: '127.0.0.1', port: 1234 });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://:2375' }, home)).toMatchObject({ host: 'localhost' });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://[::1]:2375' }, home)).toMatchObject({ host: '::1', port: 2375 });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://h', DOCKER_TLS_VERIFY: '1' }, home)).toEqual({
      kind: 'tcp',
      host: 'h',
      port: 2376,
      tls: { ca: '/home/u/.docker/ca.pem', cert: '/home/u/.docker/cert.pem', key: '/home/u/.docker/key.pem' },
    });
    expect(parseDockerHost({ DOCKER_HOST: 'tcp://h:9999', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' }, home)).toMatchObject({
      port: 9999,
      tls: { ca: '/certs/ca.pem' },
    });
  });
  it('reads ssh and rejects what it cannot serve', () => {
    expect(parseDockerHost({ DOCKER_HOST: 'ssh://me@box:2222' }, home)).toEqual({ kind: 'ssh', host: 'box', port: 2222, username: 'me' });
    expect(parseDockerHost({ DOCKER_HOST: 'ssh://box' }, home)).toEqual({ kind: 'ssh', host: 'box', port: 22, username: undefined });
    expect(() => parseDockerHost({ DOCKER_HOST: 'npipe:////./pipe/docker_engine' }, home)).toThrow(/unsupported scheme "npipe"/);
    expect(() => parseDockerHost({ DOCKER_HOST: 'tcp://h:99999' }, home)).toThrow(/bad port/);
  });
});

describe('toDockerApiError', () => {
  it('keeps the status and the daemon message, without dockerode prefixes', () => {
    const modem = Object.assign(new Error('(HTTP code 500) server error - rpc error: code = Unknown desc = update out of sequence '), {
      statusCode: 500,
      json: { message: 'rpc error: code = Unknown desc = update out of sequence' },
    });
    const e = toDockerApiError(modem, 'updateService');
    expect(e).toBeInstanceOf(DockerApiError);
    expect(e).toMatchObject({ statusCode: 500, operation: 'updateService', message: 'rpc error: code = Unknown desc = update out of sequence' });
    expect(isOutOfSequence(e)).toBe(true);
    expect(isOutOfSequence(toDockerApiError({ statusCode: 409, json: { message: 'update out of sequence' } }))).toBe(true);
    expect(isNameConflict(toDockerApiError({ statusCode: 409, json: { message: 'config x already exists' } }))).toBe(true);
    expect(isNotFound(toDockerApiError({ statusCode: 404, json: Buffer.from('page not found') }))).toBe(true);
    expect(toDockerApiError(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }))).toMatchObject({ statusCode: 0, code: 'ENOENT' });
    expect(toDockerApiError('weird')).toMatchObject({ statusCode: 0, message: 'weird' });
  });
});

describe('JsonLineSplitter', () => {
  it('joins lines and UTF-8 characters split across chunks, and reports malformed lines', () => {
    const s = new JsonLineSplitter();
    const text = '{"Type":"service","Action":"create","Actor":{"Attributes":{"name":"café"}}}\n{"Type":"config"';
    const bytes = Buffer.from(text, 'utf8');
    const cut = bytes.indexOf(Buffer.from('é')) + 1; // inside the two-byte é
    expect(s.push(bytes.subarray(0, cut)).values).toEqual([]);
    expect(s.push(bytes.subarray(cut)).values).toEqual([{ Type: 'service', Action: 'create', Actor: { Attributes: { name: 'café' } } }]);
    expect(s.push(',"Action":"update"}\n\nnot json\n')).toEqual({ values: [{ Type: 'config', Action: 'update' }], malformed: ['not json'] });
  });
  it('discards a runaway line', () => {
    const s = new JsonLineSplitter(10);
    expect(s.push('x'.repeat(20)).malformed).toHaveLength(1);
    expect(s.push('{"a":1}\n').values).toEqual([{ a: 1 }]);
  });
  it('maps legacy event fields', () => {
    expect(toDockerEvent({ status: 'start', id: 'abc', Type: 'container', time: 5 })).toEqual({ Type: 'container', Action: 'start', Actor: { ID: 'abc' }, time: 5 });
    expect(toDockerEvent(null)).toEqual({ Type: 'unknown', Action: 'unknown', Actor: {} });
  });
});

describe('watchEvents over a stub', () => {
  function stubPort(result: Promise<PassThrough>, seenOpts: unknown[] = []): ReturnType<typeof createDockerPort> {
    const stub = {
      getEvents: (opts: unknown) => {
        seenOpts.push(opts);
        return result;
      },
    };
    // The stub stands in for a Dockerode instance; only getEvents is used by watchEvents.
    return createDockerPort(stub as unknown as Parameters<typeof createDockerPort>[0]);
  }
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('filters by type, decodes split events, reports the end of the stream once', async () => {
    const stream = new PassThrough();
    const opts: unknown[] = [];
    const events: DockerEvent[] = [];
    const errors: Error[] = [];
    stubPort(Promise.resolve(stream), opts).watchEvents((e) => events.push(e), (e) => errors.push(e));
    await tick();
    expect(opts).toEqual([{ filters: { type: ['service', 'network', 'config', 'secret', 'node'] } }]);
    stream.write('{"Type":"service","Action":"cre');
    stream.write('ate","Actor":{"ID":"s1","Attributes":{"name":"web"}},"time":1}\n{"Type":"node","Action":"update"}\n');
    await tick();
    expect(events.map((e) => `${e.Type}/${e.Action}`)).toEqual(['service/create', 'node/update']);
    stream.end();
    await tick();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(DockerApiError);
    expect(errors[0]?.message).toBe('event stream ended');
  });

  it('destroys the stream on unsubscribe and stays silent afterwards', async () => {
    const stream = new PassThrough();
    const errors: Error[] = [];
    const stop = stubPort(Promise.resolve(stream)).watchEvents(() => undefined, (e) => errors.push(e));
    await tick();
    stop();
    await tick();
    expect(stream.destroyed).toBe(true);
    expect(errors).toEqual([]);
  });

  it('destroys a stream that arrives after unsubscribe', async () => {
    const stream = new PassThrough();
    let resolve: (s: PassThrough) => void = () => undefined;
    const stop = stubPort(new Promise((r) => (resolve = r))).watchEvents(() => undefined, () => undefined);
    stop();
    resolve(stream);
    await tick();
    expect(stream.destroyed).toBe(true);
  });

  it('reports a failed connection and stream errors as DockerApiError', async () => {
    const errors: Error[] = [];
    stubPort(Promise.reject(Object.assign(new Error('connect ENOENT /nope.sock'), { code: 'ENOENT' }))).watchEvents(() => undefined, (e) => errors.push(e));
    await tick();
    expect(errors[0]).toMatchObject({ statusCode: 0, code: 'ENOENT', operation: 'watchEvents' });

    const stream = new PassThrough();
    stubPort(Promise.resolve(stream)).watchEvents(() => undefined, (e) => errors.push(e));
    await tick();
    stream.destroy(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    await tick();
    expect(errors).toHaveLength(2);
    expect(errors[1]).toMatchObject({ code: 'ECONNRESET' });
  });

  it('ends the watch when the subscriber throws', async () => {
    const stream = new PassThrough();
    const errors: Error[] = [];
    stubPort(Promise.resolve(stream)).watchEvents(
      () => {
        throw new Error('subscriber bug');
      },
      (e) => errors.push(e),
    );
    await tick();
    stream.write('{"Type":"service","Action":"update"}\n');
    await tick();
    expect(errors.map((e) => e.message)).toEqual(['subscriber bug']);
    expect(stream.destroyed).toBe(true);
  });
});

describe('createService', () => {
  it('sends the spec in the body only, not in the query nor as registry auth: a proxy mounting 10,000 secrets stays under the daemon\'s 1 MiB header limit', async () => {
    const Dockerode = (await import('dockerode')).default;
    const docker = new Dockerode({ socketPath: '/nonexistent.sock' });
    const dialled: Record<string, unknown>[] = [];
    // docker-modem's dial is where a request is built: X-Registry-Auth from `authconfig`, the query from `options` (or `_query`).
    const modem = docker.modem as unknown as { dial: (o: Record<string, unknown>, cb: (e: unknown, d: unknown) => void) => void };
    modem.dial = (o, cb) => {
      dialled.push(o);
      cb(null, { ID: 'svc1' });
    };
    const secrets = Array.from({ length: 10_000 }, (_, i) => ({ SecretID: `s${i}`.padEnd(25, '0'), SecretName: `tls-route-${i}.crt`, File: { Name: `tls-route-${i}.crt`, UID: '0', GID: '0', Mode: 0o400 } }));
    const spec = { Name: 'sg-proxy-default', TaskTemplate: { ContainerSpec: { Image: 'swarmgate/proxy:1', Secrets: secrets } } };
    expect(await createDockerPort(docker).createService(spec)).toBe('svc1');
    expect(dialled).toHaveLength(1);
    expect(dialled[0]?.['authconfig']).toBeUndefined();
    expect(dialled[0]?.['options']).toEqual({ _query: {}, _body: spec });
  });
});
