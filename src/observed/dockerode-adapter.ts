/**
 * The DockerPort over dockerode: the only module in swarmgate that imports dockerode. It is a thin
 * pass-through of the Engine API's JSON; every failure becomes a DockerApiError (docker-errors.ts).
 *
 * Connection: `DOCKER_HOST` is read the way the docker CLI reads it (see `parseDockerHost`);
 * contexts (`DOCKER_CONTEXT`, ~/.docker/config.json) are not consulted.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
// Must precede dockerode: keeps ssh2's eager 16 MiB WebAssembly memory out of the core (see the file).
import './skip-ssh2';
import './skip-buildkit-session';
import Dockerode from 'dockerode';
import { DockerApiError } from './docker-errors';
import type { ConfigInfo, ConfigSpec, DockerEvent, DockerPort, LabelFilter, Labels, NetworkInfo, NodeInfo, SecretInfo, ServiceInfo, ServiceSpec, TaskInfo } from './docker-port';

// ---------------------------------------------------------------------------------------------
// DOCKER_HOST

export type DockerTarget =
  | { readonly kind: 'unix'; readonly socketPath: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number; readonly tls: TlsFiles | undefined }
  | { readonly kind: 'ssh'; readonly host: string; readonly port: number; readonly username: string | undefined };

export interface TlsFiles {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Where to reach the daemon, as the docker CLI decides it from the environment:
 * - unset or empty DOCKER_HOST: unix:///var/run/docker.sock;
 * - `unix:///path` (`unix://` alone means the default socket);
 * - `tcp://host:port`, or a bare `host:port`; without a port 2375, or 2376 with TLS; without a host
 *   localhost. TLS is on when DOCKER_TLS_VERIFY is non-empty, with ca.pem, cert.pem and key.pem from
 *   DOCKER_CERT_PATH (default ~/.docker);
 * - `ssh://[user@]host[:port]` (port 22), handed to dockerode's ssh transport.
 * Anything else (npipe://, fd://, http://) is rejected with an error naming the value.
 */
export function parseDockerHost(env: Readonly<Record<string, string | undefined>>, home: string = homedir()): DockerTarget {
  const raw = (env['DOCKER_HOST'] ?? '').trim();
  if (raw === '') return { kind: 'unix', socketPath: DEFAULT_SOCKET };
  const sep = raw.indexOf('://');
  const scheme = sep < 0 ? 'tcp' : raw.slice(0, sep).toLowerCase();
  const rest = sep < 0 ? raw : raw.slice(sep + 3);
  const tlsOn = (env['DOCKER_TLS_VERIFY'] ?? '') !== '';
  switch (scheme) {
    case 'unix':
      return { kind: 'unix', socketPath: rest === '' ? DEFAULT_SOCKET : rest };
    case 'tcp': {
      const { host, port } = splitHostPort(rest, tlsOn ? 2376 : 2375, raw);
      const certDir = env['DOCKER_CERT_PATH'] !== undefined && env['DOCKER_CERT_PATH'] !== '' ? env['DOCKER_CERT_PATH'] : join(home, '.docker');
      const tls = tlsOn ? { ca: join(certDir, 'ca.pem'), cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } : undefined;
      return { kind: 'tcp', host: host === '' ? 'localhost' : host, port, tls };
    }
    case 'ssh': {
      const at = rest.lastIndexOf('@');
      const username = at >= 0 ? rest.slice(0, at) : undefined;
      const { host, port } = splitHostPort(at >= 0 ? rest.slice(at + 1) : rest, 22, raw);
      if (host === '') throw new Error(`DOCKER_HOST ${JSON.stringify(raw)}: ssh needs a host`);
      return { kind: 'ssh', host, port, username: username === '' ? undefined : username };
    }
    default:
      throw new Error(`DOCKER_HOST ${JSON.stringify(raw)}: unsupported scheme "${scheme}" (use unix://, tcp:// or ssh://)`);
  }
}

function splitHostPort(hostPort: string, defaultPort: number, raw: string): { host: string; port: number } {
  const noPath = hostPort.replace(/\/.*$/, '');
  // [v6]:port, host:port, host, :port
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(noPath);
  if (m === null) throw new Error(`DOCKER_HOST ${JSON.stringify(raw)}: cannot read host and port`);
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  const portText = m[2] ?? '';
  const port = portText === '' ? defaultPort : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`DOCKER_HOST ${JSON.stringify(raw)}: bad port`);
  return { host, port };
}

/** dockerode options for a target; reads the TLS files (a missing ca.pem is an error, as in the CLI). */
export function dockerodeOptions(target: DockerTarget): Dockerode.DockerOptions {
  switch (target.kind) {
    case 'unix':
      return { socketPath: target.socketPath };
    case 'ssh':
      return target.username === undefined ? { protocol: 'ssh', host: target.host, port: target.port } : { protocol: 'ssh', host: target.host, port: target.port, username: target.username };
    case 'tcp': {
      if (target.tls === undefined) return { protocol: 'http', host: target.host, port: target.port };
      const optional = (p: string): Buffer | undefined => (existsSync(p) ? readFileSync(p) : undefined);
      const cert = optional(target.tls.cert);
      const key = optional(target.tls.key);
      return {
        protocol: 'https',
        host: target.host,
        port: target.port,
        ca: readFileSync(target.tls.ca),
        ...(cert !== undefined && key !== undefined ? { cert, key } : {}),
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Errors

/** The fields dockerode (docker-modem) puts on the errors it rejects with. */
interface ModemError {
  readonly message?: unknown;
  readonly statusCode?: unknown;
  readonly json?: unknown;
  readonly code?: unknown;
}

function daemonMessage(json: unknown): string | undefined {
  if (typeof json === 'object' && json !== null && 'message' in json && typeof json.message === 'string') return json.message;
  if (Buffer.isBuffer(json)) return json.toString('utf8').trim() || undefined;
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  return undefined;
}

/** Any error from dockerode or the transport as a DockerApiError (already-wrapped errors pass through). */
export function toDockerApiError(err: unknown, operation?: string): DockerApiError {
  if (err instanceof DockerApiError) return err;
  const e: ModemError = typeof err === 'object' && err !== null ? err : { message: String(err) };
  const status = typeof e.statusCode === 'number' ? e.statusCode : 0;
  const fallback = typeof e.message === 'string' ? e.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim() : String(err);
  const message = daemonMessage(e.json) ?? fallback;
  const code = typeof e.code === 'string' ? e.code : undefined;
  return new DockerApiError(status, message, operation, code);
}

async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toDockerApiError(err, operation);
  }
}

// ---------------------------------------------------------------------------------------------
// Event stream

/**
 * Splits a newline-delimited JSON byte stream into values. Chunks may cut a line, or a UTF-8
 * character, anywhere; a line that is not JSON is reported as malformed instead of throwing.
 */
export class JsonLineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(private readonly maxLineBytes = 1 << 20) {}

  push(chunk: Buffer | string): { values: unknown[]; malformed: string[] } {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const values: unknown[] = [];
    const malformed: string[] = [];
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      const line = this.pending.slice(0, nl).trim();
      this.pending = this.pending.slice(nl + 1);
      if (line !== '') {
        try {
          values.push(JSON.parse(line));
        } catch {
          malformed.push(line.length > 200 ? `${line.slice(0, 200)}…` : line);
        }
      }
      nl = this.pending.indexOf('\n');
    }
    if (this.pending.length > this.maxLineBytes) {
      malformed.push(`${this.pending.slice(0, 200)}… (line longer than ${this.maxLineBytes} bytes, discarded)`);
      this.pending = '';
    }
    return { values, malformed };
  }
}

export const WATCHED_EVENT_TYPES = ['service', 'network', 'config', 'secret', 'node'] as const;

function asLabels(u: unknown): Labels | undefined {
  if (typeof u !== 'object' || u === null) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(u)) if (typeof v === 'string') out[k] = v;
  return out;
}

/** An event as DockerPort types it; older daemons' `status`/`id` fields fill Action/Actor. */
export function toDockerEvent(u: unknown): DockerEvent {
  const o: Record<string, unknown> = typeof u === 'object' && u !== null ? { ...u } : {};
  const actorRaw = typeof o['Actor'] === 'object' && o['Actor'] !== null ? (o['Actor'] as Record<string, unknown>) : {};
  const id = typeof actorRaw['ID'] === 'string' ? actorRaw['ID'] : typeof o['id'] === 'string' ? o['id'] : undefined;
  const attributes = asLabels(actorRaw['Attributes']);
  const actor = { ...(id !== undefined ? { ID: id } : {}), ...(attributes !== undefined ? { Attributes: attributes } : {}) };
  const type = typeof o['Type'] === 'string' ? o['Type'] : 'unknown';
  const action = typeof o['Action'] === 'string' ? o['Action'] : typeof o['status'] === 'string' ? o['status'] : 'unknown';
  return { Type: type, Action: action, Actor: actor, ...(typeof o['time'] === 'number' ? { time: o['time'] } : {}) };
}

function destroyStream(s: NodeJS.ReadableStream | undefined): void {
  if (s === undefined) return;
  // dockerode hands back the http.IncomingMessage; NodeJS.ReadableStream does not declare destroy().
  const d = (s as Partial<{ destroy: () => void }>).destroy;
  if (typeof d === 'function') d.call(s);
}

// ---------------------------------------------------------------------------------------------
// The port

/** docker-modem sends `_body` as the request body and `_query` (empty here) as the query string. */
function bodyOnly<T>(body: T): { readonly _query: Record<string, never>; readonly _body: T } {
  return { _query: {}, _body: body };
}

function labelFilters(labels: LabelFilter | undefined): { filters: { label: string[] } } | Record<string, never> {
  return labels !== undefined && labels.length > 0 ? { filters: { label: [...labels] } } : {};
}

/**
 * The DockerPort against a real daemon. Pass a Dockerode instance to override the connection;
 * by default it is built from DOCKER_HOST (see `parseDockerHost`).
 *
 * The casts below are confined to this function: @types/dockerode types list/inspect results as
 * `any` or as its own partial interfaces, while the daemon's JSON is exactly the Engine API shape
 * that docker-port.ts declares (a subset of it). They are unchecked at run time by design; the
 * snapshot mapping (to-snapshot.ts) treats every field defensively.
 */
/**
 * Docker's log stream without a TTY is multiplexed: frames of [stream, 0, 0, 0, size (4 bytes BE)]
 * followed by the payload. Returns the text lines in order.
 */
export function demuxLogLines(buf: Buffer): string[] {
  let text = '';
  let i = 0;
  while (i + 8 <= buf.length) {
    const type = buf[i];
    const size = buf.readUInt32BE(i + 4);
    if (type === undefined || type > 2 || i + 8 + size > buf.length) {
      // Not multiplexed (a TTY service): the bytes are the text itself.
      text = buf.toString('utf8');
      i = buf.length;
      break;
    }
    text += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return text.split('\n').filter((l) => l.trim() !== '');
}

export function createDockerPort(docker: Dockerode = new Dockerode(dockerodeOptions(parseDockerHost(process.env)))): DockerPort {
  return {
    listServices: (labels) => call('listServices', async () => (await docker.listServices(labelFilters(labels))) as unknown as ServiceInfo[]),
    listTasks: (filter) => call('listTasks', async () => (await docker.listTasks(filter?.serviceId !== undefined ? { filters: { service: [filter.serviceId] } } : {})) as TaskInfo[]),
    listNetworks: () => call('listNetworks', async () => (await docker.listNetworks()) as unknown as NetworkInfo[]),
    listSecrets: () => call('listSecrets', async () => (await docker.listSecrets()) as unknown as SecretInfo[]),
    listNodes: () => call('listNodes', async () => (await docker.listNodes()) as NodeInfo[]),
    listConfigs: (labels) => call('listConfigs', async () => (await docker.listConfigs(labelFilters(labels))) as unknown as ConfigInfo[]),
    taskLogTail: (id, lines, timeoutMs) =>
      call('taskLogTail', async () => {
        const opts = { stdout: true, stderr: true, tail: lines, follow: false, abortSignal: AbortSignal.timeout(timeoutMs) };
        // Typed as a stream, but with follow: false docker-modem resolves the whole body as one Buffer.
        // @types/dockerode lacks Task#logs, which dockerode has (GET /tasks/{id}/logs).
        const task = docker.getTask(id) as unknown as { logs(o: typeof opts): Promise<unknown> };
        const body: unknown = await task.logs(opts);
        if (Buffer.isBuffer(body)) return demuxLogLines(body);
        const chunks: Buffer[] = [];
        for await (const chunk of body as AsyncIterable<Buffer | string>) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        return demuxLogLines(Buffer.concat(chunks));
      }),
    localImageId: (ref) =>
      call('localImageId', async () => {
        try {
          const info = (await docker.getImage(ref).inspect()) as { Id?: string };
          return info.Id;
        } catch (e) {
          if (toDockerApiError(e).statusCode === 404) return undefined;
          throw e;
        }
      }),
    localImageVersion: (ref) =>
      call('localImageVersion', async () => {
        try {
          const info = (await docker.getImage(ref).inspect()) as { Config?: { Labels?: Record<string, string> | null } };
          return info.Config?.Labels?.['org.opencontainers.image.version'];
        } catch (e) {
          if (toDockerApiError(e).statusCode === 404) return undefined;
          throw e;
        }
      }),
    inspectConfig: (id) => call('inspectConfig', async () => (await docker.getConfig(id).inspect()) as unknown as ConfigInfo),
    createConfig: (spec: ConfigSpec) =>
      call('createConfig', async () => {
        // Body only: dockerode would also put every option, Data included, in the query string, and
        // the daemon refuses request lines over 1 MiB (431) long before its 1,000 KiB config limit.
        const created = await docker.createConfig(bodyOnly({ ...spec }) as unknown as Record<string, unknown>);
        return (created as Dockerode.Config).id;
      }),
    updateConfigLabels: (id, version, spec) =>
      call('updateConfigLabels', async () => {
        // Only Labels may change; Name must be sent (the daemon rejects an update without it) and Data
        // is left out, so a caller passing a listed spec can never trip "only updates to Labels are allowed".
        // docker-modem takes the query from `_query` and the body from `_body` (not in @types/dockerode).
        const opts = { _query: { version }, _body: { Name: spec.Name, Labels: { ...(spec.Labels ?? {}) } } };
        await docker.getConfig(id).update(opts);
      }),
    createSecret: (spec) =>
      call('createSecret', async () => {
        // Body only, as for configs: key material must not travel in a URL either.
        const created = (await docker.createSecret(bodyOnly({ Name: spec.Name, Labels: { ...(spec.Labels ?? {}) }, Data: spec.Data }) as unknown as Record<string, unknown>)) as Dockerode.Secret;
        return created.id;
      }),
    removeSecret: (id) =>
      call('removeSecret', async () => {
        await docker.getSecret(id).remove();
      }),
    createNetwork: (spec) =>
      call('createNetwork', async () => {
        const created = await docker.createNetwork({ ...spec, Labels: { ...(spec.Labels ?? {}) }, CheckDuplicate: true });
        return created.id;
      }),
    removeNetwork: (id) =>
      call('removeNetwork', async () => {
        await docker.getNetwork(id).remove();
      }),
    removeConfig: (id) =>
      call('removeConfig', async () => {
        await docker.getConfig(id).remove();
      }),
    createService: (spec: ServiceSpec) =>
      call('createService', async () => {
        // ServiceSpec here is the Engine API JSON; dockerode's CreateServiceOptions is the same JSON typed
        // differently (mutable arrays, wider unions), so the spec is passed through as that type. The
        // two-argument form with no registry auth, and the spec in the body only: called with the spec
        // alone, dockerode also sends it base64-encoded as the X-Registry-Auth header (and in the query
        // string), and a proxy that mounts a secret per TLS route passes the daemon's 1 MiB header limit at
        // 10,000 routes (431, ADR 0046).
        const created = await docker.createService(undefined as unknown as Dockerode.AuthConfig, bodyOnly(spec) as unknown as Dockerode.ServiceSpec);
        return created.id;
      }),
    updateService: (id, version, spec) =>
      call('updateService', async () => {
        // `_query`/`_body` keep the (possibly large) spec out of the URL; dockerode would otherwise put every
        // option in the query string as well as the body.
        const opts = { _query: { version }, _body: spec };
        await docker.getService(id).update(opts);
      }),
    removeService: (id) =>
      call('removeService', async () => {
        await docker.getService(id).remove();
      }),
    watchEvents: (onEvent, onError) => watchEvents(docker, onEvent, onError),
  };
}

function watchEvents(docker: Dockerode, onEvent: (e: DockerEvent) => void, onError: (err: Error) => void): () => void {
  let stream: NodeJS.ReadableStream | undefined;
  let done = false;
  const fail = (err: unknown): void => {
    if (done) return;
    done = true;
    destroyStream(stream);
    onError(toDockerApiError(err, 'watchEvents'));
  };
  const splitter = new JsonLineSplitter();
  docker
    .getEvents({ filters: { type: [...WATCHED_EVENT_TYPES] } })
    .then((s) => {
      stream = s;
      if (done) {
        destroyStream(s);
        return;
      }
      s.on('data', (chunk: Buffer | string) => {
        if (done) return;
        const { values, malformed } = splitter.push(chunk);
        const events = values.map(toDockerEvent);
        // A line we cannot read is still a sign that something happened: pass it on as a generic hint.
        for (const line of malformed) events.push({ Type: 'unknown', Action: 'malformed', Actor: { Attributes: { line } } });
        for (const e of events) {
          if (done) return;
          try {
            onEvent(e);
          } catch (err) {
            // A throwing subscriber would otherwise surface as an uncaught exception inside the socket code.
            fail(err);
          }
        }
      });
      s.on('error', (err: unknown) => fail(err));
      s.on('end', () => fail(new DockerApiError(0, 'event stream ended', 'watchEvents')));
      s.on('close', () => fail(new DockerApiError(0, 'event stream closed', 'watchEvents')));
    })
    .catch((err: unknown) => fail(err));
  return () => {
    if (done) return;
    done = true;
    destroyStream(stream);
  };
}
