/**
 * Every example runs as shipped on the quickstart's single node: on the real local Swarm, for each
 * folder of examples/ the test does what the example's README tells a user to do — create its
 * backends with `examples/NAME/backends.sh`, `swarmgate apply -f examples/NAME/` unchanged, wait
 * until its routes are Programmed — then sends requests through the host-mode ports on loopback and
 * checks that each answer comes from the backend the example routes it to (every example backend
 * answers "hello from <service>.<slot>, path <uri>"), with the status, headers and certificate the
 * example promises (the tcp-udp example: one line per TCP connection or UDP datagram on its
 * listeners). A rollout example is checked at its first step. Then it removes what it made.
 *
 * All examples share one install (and the quickstart's `default` cluster on 8080/8443), which keeps
 * the walk to a few minutes. Needs the images (make images). Run: make test-int
 */
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDelete } from '../../src/cli/commands/apply';
import { runInstall, runUninstall } from '../../src/cli/commands/install';
import { LABELS } from '../../src/domain/labels';
import { createDockerPort } from '../../src/observed/dockerode-adapter';
import { decodeRolloutState, type RolloutState } from '../../src/plan/rollout';
import { echoClient } from '../helpers/grpc-echo';
import { peerCertificate, send, type Reply } from '../helpers/http-client';
import { docker, isProgrammed, until } from '../helpers/swarm';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
/** The newest modification time of a file under `dir`. */
function newestMtime(dir: string): number {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).reduce((m, d) => (d.isFile() ? Math.max(m, statSync(join(d.parentPath, d.name)).mtimeMs) : m), 0);
}
/**
 * The CLI as the recipes and this test call it: the bundled bin a user runs when `make images` (which
 * builds dist/ from src/) left it newer than every source file; it starts in a third of the time of
 * the sources through tsx (about 25 starts in the walk). Else from source, so no `make build` is needed.
 */
const BUNDLE = join(ROOT, 'dist/cli/swarmgate.js');
const CLI: readonly string[] = existsSync(BUNDLE) && statSync(join(ROOT, 'dist/cli/swarmgate-main.js')).mtimeMs >= newestMtime(join(ROOT, 'src')) ? [BUNDLE] : ['--import', 'tsx', join(ROOT, 'src/cli/main.ts')];
const SWARMGATE = ['node', ...CLI].join(' ');
const port = createDockerPort();
const io = { out: () => undefined, err: (t: string) => console.error(t) };

/** One request through a published port and what its answer must be. */
interface Check {
  readonly what: string;
  readonly port: number;
  readonly host: string;
  readonly path?: string;
  readonly tls?: boolean;
  readonly headers?: Record<string, string>;
  /** The services that may answer (the body names them), or absent when the proxy answers itself. */
  readonly from?: readonly string[];
  /** The path the backend must have received (rewrites). */
  readonly backendPath?: string;
  readonly status?: number;
  /** Response headers that must be present, with a value matching. */
  readonly responseHeaders?: Record<string, RegExp>;
  /** The subject CN of the certificate served for `host` (TLS checks). */
  readonly certificateCN?: string;
  /** Text the body must contain (a page the proxy serves). */
  readonly bodyIncludes?: string;
}

interface Walk {
  readonly routes: readonly string[];
  readonly checks: readonly Check[];
  /** More than a request can show (a rollout's state). */
  readonly also?: () => Promise<void>;
}

const HTTP = 8080;
const HTTPS = 8443;

async function rollout(route: string): Promise<RolloutState | undefined> {
  const [c] = await port.listConfigs([`${LABELS.kind}=Route`, `${LABELS.name}=${route}`]);
  const label = c?.Spec.Labels?.[LABELS.rollout];
  if (label === undefined) return undefined;
  const d = decodeRolloutState(label);
  return d._tag === 'Right' ? d.right : undefined;
}

/** What each example is expected to do; the quickstart goes first (it defines the `default` cluster). */
const WALKS: Record<string, Walk> = {
  acme: {
    routes: ['secure-shop'],
    checks: [
      { what: 'HTTPS with the ACME certificate', port: 8454, tls: true, host: 'shop.acme.example.com', from: ['secure-shop'] },
      { what: 'HTTP redirected to HTTPS', port: 8091, host: 'shop.acme.example.com', status: 308, responseHeaders: { location: /^https:\/\/shop\.acme\.example\.com(:8454)?\// } },
    ],
    also: async () => {
      // Issued by pebble (started by backends.sh) for the route's host, and trusted through pebble's root.
      const cert = await peerCertificate(8454, 'shop.acme.example.com');
      if (cert instanceof Error) throw cert;
      expect(cert.issuer.CN).toMatch(/^Pebble Intermediate CA/);
      expect(cert.subjectaltname).toBe('DNS:shop.acme.example.com');
      const { stdout: root } = await run('curl', ['-sk', 'https://127.0.0.1:15000/roots/0']);
      const dir = mkdtempSync(join(tmpdir(), 'sg-acme-root-'));
      writeFileSync(join(dir, 'root.pem'), root);
      const { stdout } = await run('curl', ['-s', '--cacert', join(dir, 'root.pem'), '--resolve', 'shop.acme.example.com:8454:127.0.0.1', 'https://shop.acme.example.com:8454/']);
      expect(stdout).toMatch(/^hello from secure-shop\.\d+, path \/$/m);
    },
  },
  quickstart: {
    routes: ['hello'],
    checks: [
      { what: 'weighted 90/10', port: HTTP, host: 'hello.localhost', from: ['hello-v1', 'hello-v2'] },
      { what: '/v2 prefix stripped', port: HTTP, host: 'hello.localhost', path: '/v2/anything', from: ['hello-v2'], backendPath: '/anything' },
      { what: 'header canary', port: HTTP, host: 'hello.localhost', headers: { 'x-canary': 'always' }, from: ['hello-v2'] },
    ],
  },
  basic: {
    routes: ['basic'],
    checks: [{ what: 'one host to one service', port: HTTP, host: 'hello.example.com', path: '/x', from: ['hello'], backendPath: '/x' }],
  },
  'basic-auth': {
    routes: ['dashboard'],
    checks: [
      { what: 'no login: 401', port: HTTP, host: 'dashboard.example.com', status: 401, responseHeaders: { 'www-authenticate': /^Basic realm="Staff area"/ } },
      { what: 'alice logs in', port: HTTP, host: 'dashboard.example.com', headers: { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` }, from: ['dashboard'] },
      { what: '/healthz open', port: HTTP, host: 'dashboard.example.com', path: '/healthz', from: ['dashboard'], backendPath: '/healthz' },
    ],
  },
  cors: {
    routes: ['spa-api'],
    checks: [{ what: 'allowed origin', port: HTTP, host: 'spa-api.example.com', path: '/items', headers: { origin: 'https://app.example.com' }, from: ['spa-api'], responseHeaders: { 'access-control-allow-origin': /^https:\/\/app\.example\.com$/ } }],
  },
  'error-pages': {
    routes: ['shop-front', 'shop-archive'],
    checks: [
      { what: 'the shop', port: HTTP, host: 'shop-front.example.com', from: ['shop-front'] },
      { what: 'no task: 503 with the mounted page', port: HTTP, host: 'shop-front.example.com', path: '/checkout', status: 503, bodyIncludes: 'swarmgate example error page', responseHeaders: { 'content-type': /^text\/html/ } },
      { what: 'maintenance: 503, Retry-After and the page', port: HTTP, host: 'archive.shop-front.example.com', status: 503, bodyIncludes: 'We will be back soon', responseHeaders: { 'retry-after': /^1800$/ } },
    ],
  },
  'ip-allow-rate-limit': {
    routes: ['wiki'],
    checks: [
      { what: 'public wiki', port: 8084, host: 'wiki.example.com', from: ['wiki'] },
      { what: '/admin for the office only', port: 8084, host: 'wiki.example.com', path: '/admin', status: 403 },
    ],
  },
  'forward-auth': {
    routes: ['team-wiki', 'sso-login'],
    checks: [
      { what: 'no session: to the login portal', port: 8088, host: 'wiki.sso.example.com', path: '/page', status: 302, responseHeaders: { location: /^http:\/\/login\.sso\.example\.com:8088\/\?rd=http:\/\/wiki\.sso\.example\.com\/page$/ } },
      { what: 'alice is let in', port: 8088, host: 'wiki.sso.example.com', path: '/page', headers: { cookie: 'session=alice' }, from: ['team-wiki'], backendPath: '/page' },
      { what: 'banned is refused', port: 8088, host: 'wiki.sso.example.com', headers: { cookie: 'session=banned' }, status: 403 },
      { what: 'the login portal is open', port: 8088, host: 'login.sso.example.com', path: '/?rd=x', status: 200 },
    ],
  },
  'blue-green': {
    routes: ['cart-rollout'],
    checks: [
      { what: 'active', port: HTTP, host: 'cart.example.com', from: ['cart-blue'] },
      { what: 'preview host', port: HTTP, host: 'preview.cart.example.com', from: ['cart-green'] },
    ],
    also: async () => {
      expect((await until('blue-green paused', async () => ((await rollout('cart-rollout'))?.phase === 'Paused' ? true : undefined), 30_000))).toBe(true);
    },
  },
  canary: {
    routes: ['api', 'shop-rollout'],
    checks: [
      { what: 'api weighted 90/10 with a sticky cookie', port: HTTP, host: 'api.example.com', from: ['api-v1', 'api-v2'], responseHeaders: { 'set-cookie': /api_version=/ } },
      { what: 'api header canary', port: HTTP, host: 'api.example.com', headers: { 'x-canary': 'always' }, from: ['api-v2'] },
      { what: 'api cookie canary', port: HTTP, host: 'api.example.com', headers: { cookie: 'canary=always' }, from: ['api-v2'] },
      { what: 'rollout: testers reach shop-v2', port: HTTP, host: 'boutique.example.com', headers: { 'x-canary': 'always' }, from: ['shop-v2'] },
      { what: 'rollout: everyone else shop-v1 (95 %) or shop-v2 (5 %)', port: HTTP, host: 'boutique.example.com', from: ['shop-v1', 'shop-v2'] },
    ],
    also: async () => {
      // The pre-rollout webhook reached the bundled stub (else: Failed), and the first step is applied.
      const s = await until('rollout at its first step (5 %)', async () => {
        const r = await rollout('shop-rollout');
        return r !== undefined && r.weight === 5 ? r : undefined;
      }, 60_000);
      expect(s.phase).toBe('Progressing');
    },
  },
  haproxy: {
    routes: ['shop-haproxy'],
    checks: [
      { what: 'HTTP redirected to HTTPS', port: 8081, host: 'shop.example.com', status: 308, responseHeaders: { location: /^https:\/\/shop\.example\.com(:8444)?\// } },
      { what: '/api over TLS', port: 8444, tls: true, host: 'shop.example.com', path: '/api/orders', from: ['shop-api'], certificateCN: 'shop.example.com' },
      { what: 'weighted 80/20', port: 8444, tls: true, host: 'shop.example.com', from: ['shop-v1', 'shop-v2'] },
    ],
  },
  passthrough: {
    routes: ['vault', 'portal'],
    checks: [
      { what: 'passthrough to the backend\'s own TLS', port: HTTPS, tls: true, host: 'vault.example.com', from: ['vault'], certificateCN: 'vault.example.com' },
      { what: 'wildcard host terminated', port: HTTPS, tls: true, host: 'eu.portal.example.com', from: ['portal'], certificateCN: '*.portal.example.com' },
    ],
  },
  'service-clusters': {
    routes: ['storefront', 'reports'],
    checks: [
      { what: 'public pool', port: 8082, host: 'store.example.com', from: ['store'] },
      { what: 'internal pool', port: 8083, host: 'reports.internal.example.com', from: ['reports'] },
      { what: 'internal redirect', port: 8083, host: 'reports.internal.example.com', path: '/legacy', status: 301, responseHeaders: { location: /\/v2\/reports$/ } },
      { what: 'internal default backend', port: 8083, host: 'unknown.example.com', from: ['reports'] },
    ],
  },
  'tcp-udp': {
    routes: [],
    checks: [],
    also: async () => {
      for (const [kind, name] of [['TCPRoute', 'echo'], ['TCPRoute', 'db'], ['UDPRoute', 'dns']] as const) await until(`${kind} ${name} Programmed`, () => isProgrammed(port, kind, name), 120_000, 250);
      const hello = /^hello from (echo-[ab])\.\d+$/;
      // Both services answer on the 50/50 TCP listener, one line per connection.
      const seen = await until('echo-a and echo-b on 9002', async () => {
        const names = new Set<string>();
        for (let i = 0; i < 20; i++) names.add(hello.exec((await l4Line('tcp', 9002)) ?? '')?.[1] ?? '-');
        return names.has('echo-a') && names.has('echo-b') ? names : undefined;
      }, 60_000, 250);
      expect([...seen].filter((n) => n !== '-').sort()).toEqual(['echo-a', 'echo-b']);
      expect(await until('TLS terminated on 9003', async () => (await l4Line('tls', 9003)) ?? undefined, 60_000, 250)).toMatch(/^hello from echo-a\.\d+$/);
      expect(await until('UDP on 9004', async () => (await l4Line('udp', 9004)) ?? undefined, 60_000, 250)).toMatch(hello);
    },
  },
  'client-certificates': {
    routes: ['partners', 'partners-portal'],
    checks: [{ what: 'plain HTTP refused where a client certificate is required', port: HTTP, host: 'partners.example.com', status: 403 }],
    also: async () => {
      const dir = '/tmp/swarmgate-client-certificates';
      const pair = (who: string) => ({ cert: readFileSync(join(dir, `${who}.crt`), 'utf8'), key: readFileSync(join(dir, `${who}.key`), 'utf8') });
      const get = (host: string, client?: { cert: string; key: string }) => clientCertRequest(HTTPS, host, client);
      const alice = await until('alice served on partners.example.com', async () => {
        const r = await get('partners.example.com', pair('alice')).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      }, 60_000, 250);
      expect(alice.body.trim()).toMatch(/^hello from partners\.\d+, path \/, client CN=alice \(SUCCESS\)$/);
      const none = await get('partners.example.com');
      expect([none.status, none.body]).toEqual([400, expect.stringContaining('No required SSL certificate was sent')]);
      const revoked = await get('partners.example.com', pair('mallory'));
      expect([revoked.status, revoked.body]).toEqual([400, expect.stringContaining('The SSL certificate error')]);
      const portal = await get('portal.partners.example.com');
      expect([portal.status, portal.body.trim()]).toEqual([200, expect.stringMatching(/^hello from partners\.\d+, path \/, client {2}\(NONE\)$/)]);
    },
  },
  'backend-tls': {
    routes: ['billing', 'billing-wrong-name'],
    checks: [
      { what: 'https backend verified against the CA secret', port: HTTP, host: 'billing.example.com', path: '/invoices', from: ['billing'], backendPath: '/invoices' },
      { what: 'a name the certificate does not carry is refused', port: HTTP, host: 'billing-wrong-name.example.com', status: 502 },
    ],
  },
  grpc: {
    routes: ['echo'],
    checks: [],
    also: async () => {
      // gRPC over h2c on the host-mode port 8085: unary calls split 90/10, the stream from echo-v1 only.
      const client = echoClient(8085, 'echo.grpc.example.com');
      try {
        const first = await until('a gRPC answer on 8085', async () => client.say('hi').catch(() => undefined), 60_000, 250);
        expect(first.text).toBe('hi');
        const seen = new Set<string>();
        for (let i = 0; i < 60; i++) seen.add((await client.say('s')).backend.replace(/\.\d+$/, ''));
        expect([...seen].every((b) => b === 'echo-v1' || b === 'echo-v2')).toBe(true);
        expect(seen.has('echo-v1')).toBe(true);
        const stream = await client.count('n', 3);
        expect(stream.map((m) => m.text)).toEqual(['n 1', 'n 2', 'n 3']);
        expect(stream.every((m) => m.backend.startsWith('echo-v1.'))).toBe(true);
      } finally {
        client.close();
      }
      // h2 by ALPN on the TLS port.
      const { stdout } = await run('curl', ['-sk', '--http2', '--resolve', 'echo.grpc.example.com:8448:127.0.0.1', '-o', '/dev/null', '-w', '%{http_version}', 'https://echo.grpc.example.com:8448/']);
      expect(stdout).toBe('2');
    },
  },
  tls: {
    routes: ['shop', 'shop-admin'],
    checks: [
      { what: 'HTTP redirected to HTTPS', port: HTTP, host: 'shop.example.com', status: 308, responseHeaders: { location: /^https:\/\/shop\.example\.com(:8443)?\// } },
      { what: '/api prefix stripped', port: HTTPS, tls: true, host: 'shop.example.com', path: '/api/cart', from: ['shop-api'], backendPath: '/cart', certificateCN: 'shop.example.com' },
      { what: 'HSTS on the web rule', port: HTTPS, tls: true, host: 'www.shop.example.com', from: ['shop-web'], responseHeaders: { 'strict-transport-security': /max-age=31536000/ } },
      { what: 'stored certificate by name', port: HTTPS, tls: true, host: 'admin.shop.example.com', from: ['shop-web'], certificateCN: 'admin.shop.example.com' },
    ],
  },
};

const EXAMPLES = readdirSync(join(ROOT, 'examples'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
/** SG_EXAMPLES=a,b walks only those (a quick check of one example); default: all. */
const ONLY = process.env.SG_EXAMPLES?.split(',').filter((e) => e !== '');
/** The quickstart first, the others in name order. */
const ORDER = ['quickstart', ...EXAMPLES.filter((e) => e !== 'quickstart').sort()].filter((e) => ONLY === undefined || ONLY.includes(e));

async function sh(cmd: string, args: readonly string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const r = await run(cmd, args, { cwd: ROOT, env: { ...process.env, SWARMGATE, ...env }, timeout: 150_000 });
    return r.stdout + r.stderr;
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${x.message}\n${x.stdout ?? ''}${x.stderr ?? ''}`);
  }
}
const swarmgate = (...args: string[]): Promise<string> => sh('node', [...CLI, ...args]);
const backends = (example: string, action: 'up' | 'down', env: Record<string, string> = {}): Promise<string> => sh('bash', [join('examples', example, 'backends.sh'), action], env);

/** Whether every service the example's recipe made runs all its replicas (`3/3`). */
function backendsRunning(example: string): boolean {
  const lines = docker('service', 'ls', '--filter', `label=io.swarmgate.example.${example}=true`, '--format', '{{.Replicas}}').split('\n').filter((l) => l !== '');
  return lines.every((l) => /^(\d+)\/\1\b/.test(l));
}

/** Why a reply does not match the check, or undefined when it does. */
function mismatch(c: Check, r: Reply): string | undefined {
  if (r.status !== (c.status ?? 200)) return `status ${r.status}`;
  if (c.from !== undefined) {
    const m = /^hello from ([a-z0-9-]+)\.\d+(?: over its own TLS)?, path (\S+)$/.exec(r.body.trim());
    if (m === null) return `body ${JSON.stringify(r.body)}`;
    if (!c.from.includes(m[1] ?? '')) return `answered by ${m[1]}`;
    if (c.backendPath !== undefined && m[2] !== c.backendPath) return `backend got path ${m[2]}`;
  }
  if (c.bodyIncludes !== undefined && !r.body.includes(c.bodyIncludes)) return `body ${JSON.stringify(r.body.slice(0, 120))}`;
  for (const [h, re] of Object.entries(c.responseHeaders ?? {})) {
    const v = r.headers[h];
    if (!re.test(Array.isArray(v) ? v.join('; ') : (v ?? ''))) return `header ${h}: ${String(v)}`;
  }
  return undefined;
}

/** Retries until the answer matches (a proxy may still be starting); fails with the last mismatch. */
async function check(c: Check): Promise<void> {
  let last = 'no answer';
  await until(`${c.what}: ${c.host}${c.path ?? '/'} on ${c.port}`, async () => {
    try {
      const r = await send({ port: c.port, host: c.host, path: c.path ?? '/', tls: c.tls === true, headers: c.headers ?? {} });
      last = mismatch(c, r) ?? '';
      return last === '' ? true : undefined;
    } catch (e) {
      last = (e as Error).message;
      return undefined;
    }
  }, 60_000, 250).catch(() => {
    throw new Error(`${c.what} (${c.host}${c.path ?? '/'} on port ${c.port}): ${last}`);
  });
  if (c.certificateCN !== undefined) {
    const cert = await peerCertificate(c.port, c.host);
    expect(cert instanceof Error ? cert.message : cert.subject.CN, c.what).toBe(c.certificateCN);
  }
}

/** One HTTPS request with this SNI name and Host, and optionally a client certificate. */
function clientCertRequest(p: number, host: string, client?: { cert: string; key: string }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port: p, path: '/', servername: host, headers: { host }, agent: false, rejectUnauthorized: false, ...(client ?? {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The first line answered on a layer-4 listener of this node: a TCP connection, TLS (db.example.com) or one UDP datagram. */
function l4Line(kind: 'tcp' | 'tls' | 'udp', p: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let data = '';
    const finish = (): void => resolve(data.split('\n')[0] || undefined);
    if (kind === 'udp') {
      const sock = createSocket('udp4');
      const timer = setTimeout(() => (sock.close(), finish()), 2000);
      sock.on('message', (m) => {
        clearTimeout(timer);
        data = m.toString();
        sock.close();
        finish();
      });
      sock.send('ping\n', p, '127.0.0.1');
      return;
    }
    const sock = kind === 'tls' ? tlsConnect({ port: p, host: '127.0.0.1', servername: 'db.example.com', rejectUnauthorized: false }) : connect(p, '127.0.0.1');
    const timer = setTimeout(() => sock.destroy(), 2000);
    sock.on('data', (d: Buffer) => (data += d.toString()));
    sock.on('close', () => {
      clearTimeout(timer);
      finish();
    });
    sock.on('error', () => undefined);
  });
}

let coreWasInstalled = false;
const applied: string[] = [];
const backendsUp: string[] = [];
const timings: string[] = [];

beforeAll(async () => {
  const names = new Set(Object.values(WALKS).flatMap((w) => w.routes));
  const stored = (await port.listConfigs([`${LABELS.kind}=Route`])).map((c) => c.Spec.Labels?.[LABELS.name] ?? '');
  const clash = stored.filter((n) => names.has(n));
  if (clash.length > 0) throw new Error(`routes of the examples are already stored (${[...new Set(clash)].join(', ')}): run make demo-clean or delete them first`);
  coreWasInstalled = (await port.listServices([])).some((s) => s.Spec.Name === 'swarmgate-core');
  expect(await runInstall(port, { image: 'swarmgate/swarmgate:latest', localImages: true, logLevel: 'info' }, io)).toBe(0);
}, 180_000);

afterAll(async () => {
  const t0 = Date.now();
  // In process, not the CLI: what is tested is the walk; a CLI start per example cost ~1.2 s each.
  for (const e of [...applied].reverse()) await runDelete(port, { paths: [join(ROOT, 'examples', e)] }, io).catch((x: Error) => console.error(x.message));
  // Proxies hold the backends' network and secrets until uninstall, and `down` waits up to 20 s for
  // each object still held: the first pass does not wait (it removes the services, among them the
  // webhook stub on swarmgate-control, which uninstall removes); after uninstall a second `down`
  // removes the rest, as the README says.
  for (const e of [...backendsUp].reverse()) await backends(e, 'down', { EXAMPLE_DOWN_NO_WAIT: '1' }).catch((x: Error) => console.error(x.message));
  if (!coreWasInstalled) await runUninstall(port, false, io).catch((x: Error) => console.error(x.message));
  for (const e of backendsUp) await backends(e, 'down').catch((x: Error) => console.error(x.message));
  const left = [
    ...backendsUp.flatMap((e) => ['service', 'secret', 'config'].map((kind) => docker(kind, 'ls', '--quiet', '--filter', `label=io.swarmgate.example.${e}`))),
    docker('network', 'ls', '--quiet', '--filter', 'label=io.swarmgate.example=true'),
    docker('node', 'inspect', 'self', '--format', '{{index .Spec.Labels "zone"}}') === 'example-zone-a' ? 'node label zone=example-zone-a' : '',
  ].filter((x) => x !== '');
  if (!coreWasInstalled) expect(left, 'objects the recipes made, left behind').toEqual([]);
  timings.push(`cleanup ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`examples walk: ${timings.join('; ')}`);
}, 240_000);

describe('every example runs as shipped on a single-node Swarm', () => {
  it('has a backend recipe and a walk for every example folder', () => {
    for (const e of EXAMPLES) {
      expect(existsSync(join(ROOT, 'examples', e, 'backends.sh')), `examples/${e}/backends.sh`).toBe(true);
      expect(existsSync(join(ROOT, 'examples', e, 'README.md')), `examples/${e}/README.md`).toBe(true);
      expect(Object.keys(WALKS), `a walk for examples/${e} in this test`).toContain(e);
    }
  });

  it.each(ORDER.filter((e) => WALKS[e] !== undefined))('examples/%s: backends, apply as shipped, Programmed, answers from the right backend', async (example) => {
    const walk = WALKS[example];
    if (walk === undefined) throw new Error(`no walk for ${example}`);
    const t0 = Date.now();
    backendsUp.push(example);
    await backends(example, 'up');
    // What a user sees before applying: the backends run. A rollout's pre-rollout webhook that finds
    // no stub yet is only tried again an analysis interval later (30 s in examples/canary).
    await until(`${example} backends running`, async () => (backendsRunning(example) ? true : undefined), 60_000, 250);
    applied.push(example);
    await swarmgate('apply', '-f', join('examples', example));
    for (const r of walk.routes) await until(`route ${r} Programmed`, () => isProgrammed(port, 'Route', r), 120_000, 250);
    for (const c of walk.checks) await check(c);
    await walk.also?.();
    timings.push(`${example} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 240_000);

  it('left no backend task failing (the recipes start what the examples need)', () => {
    const failing = docker('service', 'ls', '--filter', 'label=io.swarmgate.example-backend=true', '--format', '{{.Name}} {{.Replicas}}')
      .split('\n').filter((l) => l !== '' && !/ (\d+)\/\1$/.test(l));
    expect(failing).toEqual([]);
  });
});
