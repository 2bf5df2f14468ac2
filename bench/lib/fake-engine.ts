/**
 * The in-memory Docker fake (test/fakes/fake-docker.ts) served as the Docker Engine API on a unix
 * socket: the paths and JSON the DockerPort's dockerode adapter uses, so an unmodified `swarmgate core`
 * process (DOCKER_HOST=unix://…) runs against it. The core's memory is then measured in its own
 * process, with the Docker answers parsed from JSON as from a daemon, while the fake's state lives in
 * the benchmark's process. Only what the adapter calls is served; anything else is a 404.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { DockerApiError } from '../../src/observed/docker-errors';
import type { ConfigSpec, LabelFilter, NetworkSpec, ServiceSpec } from '../../src/observed/docker-port';
import type { FakeDocker } from '../../test/fakes/fake-docker';

export interface FakeEngine {
  readonly socket: string;
  /** Engine API requests served so far (all paths). */
  readonly requests: () => number;
  /** The benchmark changed the fake's tasks directly (they emit no event): task listings are read afresh. */
  readonly tasksChanged: () => void;
  /** When the last request other than a task listing came (ms epoch): the core's task poll lists tasks twice a second, a run asks for more. */
  readonly lastRunRequestAt: () => number;
  close(): Promise<void>;
}

type Handler = (m: RegExpExecArray, q: URLSearchParams, body: unknown) => Promise<unknown>;

function filters(q: URLSearchParams): Record<string, string[]> {
  const raw = q.get('filters');
  if (raw === null || raw === '') return {};
  const parsed = JSON.parse(raw) as Record<string, string[] | Record<string, boolean>>;
  // The Engine API accepts both {"label": ["a=b"]} and {"label": {"a=b": true}}.
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, Array.isArray(v) ? v : Object.keys(v)]));
}

const labels = (q: URLSearchParams): LabelFilter | undefined => filters(q)['label'];

function routes(fake: FakeDocker): [string, RegExp, Handler][] {
  return [
    ['GET', /^\/services$/, (_m, q) => fake.listServices(labels(q))],
    ['GET', /^\/tasks$/, (_m, q) => fake.listTasks(filters(q)['service']?.[0] !== undefined ? { serviceId: filters(q)['service']?.[0] ?? '' } : undefined)],
    ['GET', /^\/tasks\/([^/]+)\/logs$/, async () => ''],
    ['GET', /^\/networks$/, () => fake.listNetworks()],
    ['GET', /^\/secrets$/, () => fake.listSecrets()],
    ['GET', /^\/nodes$/, () => fake.listNodes()],
    ['GET', /^\/configs$/, (_m, q) => fake.listConfigs(labels(q))],
    ['GET', /^\/configs\/([^/]+)$/, (m) => fake.inspectConfig(m[1] ?? '')],
    ['POST', /^\/configs\/create$/, async (_m, _q, b) => ({ ID: await fake.createConfig(b as ConfigSpec) })],
    ['POST', /^\/configs\/([^/]+)\/update$/, async (m, q, b) => void (await fake.updateConfigLabels(m[1] ?? '', Number(q.get('version')), b as ConfigSpec))],
    ['DELETE', /^\/configs\/([^/]+)$/, async (m) => void (await fake.removeConfig(m[1] ?? ''))],
    ['POST', /^\/secrets\/create$/, async (_m, _q, b) => ({ ID: await fake.createSecret(b as { Name: string; Data: string }) })],
    ['DELETE', /^\/secrets\/([^/]+)$/, async (m) => void (await fake.removeSecret(m[1] ?? ''))],
    ['POST', /^\/networks\/create$/, async (_m, _q, b) => ({ Id: await fake.createNetwork(b as NetworkSpec) })],
    ['DELETE', /^\/networks\/([^/]+)$/, async (m) => void (await fake.removeNetwork(m[1] ?? ''))],
    ['POST', /^\/services\/create$/, async (_m, _q, b) => ({ ID: await fake.createService(b as ServiceSpec) })],
    ['POST', /^\/services\/([^/]+)\/update$/, async (m, q, b) => {
        await fake.updateService(m[1] ?? '', Number(q.get('version')), b as ServiceSpec);
        return { Warnings: null };
      }],
    ['DELETE', /^\/services\/([^/]+)$/, async (m) => void (await fake.removeService(m[1] ?? ''))],
    [
      'GET',
      /^\/images\/(.+)\/json$/,
      async (m) => {
        const id = await fake.localImageId(decodeURIComponent(m[1] ?? ''));
        if (id === undefined) throw new DockerApiError(404, `No such image: ${m[1] ?? ''}`);
        return { Id: id, Config: { Labels: {} } };
      },
    ],
  ];
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

function send(res: ServerResponse, status: number, value: unknown): string {
  const text = value === undefined ? '' : JSON.stringify(value);
  sendText(res, status, text);
  return text;
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** What a write of an event type (config, service, …) makes stale: its own listings and those that show it. */
const STALE: Readonly<Record<string, readonly string[]>> = {
  config: ['configs'],
  service: ['services', 'tasks'],
  task: ['tasks'],
  network: ['networks', 'services', 'tasks'],
  secret: ['secrets'],
  node: ['nodes', 'tasks'],
};

/** GET answers by path kind and URL, shared while in flight; dropped by kind when the fake changes. */
class AnswerCache {
  private readonly answers = new Map<string, Map<string, Promise<string>>>();

  get(kind: string, url: string, read: () => Promise<string>): Promise<string> {
    const byUrl = this.answers.get(kind) ?? new Map<string, Promise<string>>();
    this.answers.set(kind, byUrl);
    let answer = byUrl.get(url);
    if (answer === undefined) {
      answer = read();
      byUrl.set(url, answer);
      // A failed read is not kept.
      answer.catch(() => byUrl.get(url) === answer && byUrl.delete(url));
    }
    return answer;
  }

  /** Forget what a change of `type` (an event type, or 'all') makes stale. */
  drop(type: string): void {
    if (type === 'all' || STALE[type] === undefined) this.answers.clear();
    else for (const kind of STALE[type] ?? []) this.answers.delete(kind);
  }
}

/** Serve `fake` on a unix socket at `socket` (replaced if it exists). */
export async function serveFakeEngine(fake: FakeDocker, socket: string): Promise<FakeEngine> {
  const table = routes(fake);
  let count = 0;
  let lastRunRequest = Date.now();
  /**
   * GET answers by URL until something writes: the core lists every task twice a second, and the
   * fake's deep copy of 50,000 tasks (plus JSON) took longer than the core's 10 s call deadline
   * while the benchmark shares two cores with other work. The bytes are the same either way.
   */
  const answers = new AnswerCache();
  // Every write the fake makes emits an event (the benchmark's own applies too): that kind's answers go first.
  const stopWatching = fake.watchEvents(
    (e) => answers.drop(e.Type),
    () => answers.drop('all'),
  );
  // dockerode also puts a created service's spec in the query string; dockerd reads request lines up to 1 MiB.
  const server: Server = createServer({ maxHeaderSize: 1 << 20 }, (req, res) => {
    count++;
    const url = new URL(req.url ?? '/', 'http://engine');
    // dockerode may prefix an API version (/v1.41/…).
    const path = url.pathname.replace(/^\/v\d+\.\d+/, '');
    if (!(req.method === 'GET' && (path === '/tasks' || path === '/events'))) lastRunRequest = Date.now();
    if (req.method === 'GET' && path === '/events') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      const stop = fake.watchEvents(
        (e) => res.write(`${JSON.stringify(e)}\n`),
        () => res.end(),
      );
      req.on('close', stop);
      return;
    }
    const hit = table.map(([method, re, h]) => (method === req.method ? ([re.exec(path), h] as const) : undefined)).find((x) => x !== undefined && x[0] !== null);
    if (hit === undefined || hit[0] === null) {
      send(res, 404, { message: `fake engine: ${req.method ?? ''} ${path} not served` });
      return;
    }
    const [m, h] = hit;
    const kind = path.split('/')[1] ?? '';
    const failed = (e: unknown) => send(res, e instanceof DockerApiError && e.statusCode > 0 ? e.statusCode : 500, { message: e instanceof Error ? e.message : String(e) });
    if (req.method === 'GET') {
      answers.get(kind, `${path}?${url.searchParams.toString()}`, async () => JSON.stringify(await h(m, url.searchParams, undefined))).then((text) => sendText(res, 200, text), failed);
      return;
    }
    readBody(req)
      .then((body) => h(m, url.searchParams, body))
      .then((value) => {
        answers.drop(kind.replace(/s$/, ''));
        send(res, path.endsWith('/create') ? 201 : 200, value);
      }, failed);
  });
  // Node closes an idle keep-alive connection after 5 s, and a client that reuses it at that moment gets
  // EPIPE (the core's 8 MB config write at 10,000 routes did); dockerd keeps them open.
  server.keepAliveTimeout = 0;
  server.requestTimeout = 0;
  server.headersTimeout = 0;
  rmSync(socket, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, resolve);
  });
  return {
    socket,
    requests: () => count,
    lastRunRequestAt: () => lastRunRequest,
    tasksChanged: () => answers.drop('task'),
    close: () =>
      new Promise<void>((resolve) => {
        stopWatching();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
