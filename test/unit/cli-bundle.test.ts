/**
 * The bundled CLI (ADR 0026) is what the `swarmgate` bin runs: built by deploy/scripts/bundle-cli.mjs
 * into a temp dir under dist/ here, it must answer like the sources do, keep the long-running programs' libraries
 * out of the bundle, ship the .proto files next to it, and use and refresh its V8 code cache.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheDir, cacheName, cachePrefix, staleCaches } from '../../src/cli/bin';

// Inside the repository, as in an install: the CLI finds its version in the package.json above it.
mkdirSync('dist', { recursive: true });
const work = mkdtempSync(join('dist', 'bundle-test-'));
const out = join(work, 'cli');
const cache = join(work, 'cache');

function bundled(args: readonly string[], env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [join(out, 'swarmgate.js'), ...args], { encoding: 'utf8', env: { ...process.env, SWARMGATE_COMPILE_CACHE: cache, ...env } });
}

function fromSources(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });
}

beforeAll(() => {
  const r = spawnSync(process.execPath, ['deploy/scripts/bundle-cli.mjs', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle-cli.mjs failed: ${r.stderr}`);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the bundled CLI', () => {
  it('prints the package version', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    expect(bundled(['--version'])).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
  });

  it('renders and validates exactly as the sources do', () => {
    const render = ['render', '-f', 'examples/quickstart', '--snapshot', 'examples/quickstart/snapshot.json'];
    const b = bundled(render);
    expect(b.status).toBe(0);
    expect(b.stdout).toContain('server_name');
    expect(b.stdout).toBe(fromSources(render).stdout);
    const invalid = bundled(['validate', '-f', 'test/fixtures/does-not-exist.yaml']);
    expect(invalid.status).not.toBe(0);
    expect(bundled(['validate', '-f', 'examples/'])).toMatchObject({ status: 0 });
  }, 60_000);

  it('keeps the long-running programs\' libraries out of the bundle and the everyday ones in', () => {
    const code = readFileSync(join(out, 'swarmgate-main.js'), 'utf8');
    for (const lib of ['@grpc/grpc-js', 'rxjs', 'pino', 'acme-client', 'prom-client']) {
      expect(code).not.toContain(`// node_modules/${lib}/`);
      expect(code).toContain(`require("${lib}")`);
    }
    for (const lib of ['dockerode', 'commander', 'io-ts', 'fp-ts', 'yaml']) expect(code).toContain(`// node_modules/${lib}/`);
    // dockerode's BuildKit session (gRPC, protobufjs) is replaced, not bundled.
    expect(code).not.toContain('// node_modules/dockerode/lib/session.js');
    expect(statSync(join(out, 'swarmgate-main.js')).size).toBeLessThan(3 * 1024 * 1024);
    // src/api/proto.ts reads the .proto files next to the running code.
    expect(existsSync(join(out, 'proto', 'swarmgate', 'v1', 'core.proto'))).toBe(true);
  });

  it('saves one code cache per command after the first run and answers the same from it', () => {
    rmSync(cache, { recursive: true, force: true });
    // A cache of an earlier build is removed when the new one is written.
    mkdirSync(cache, { recursive: true });
    writeFileSync(join(cache, 'v20.0.0-x64-1-2-render.v8cache'), 'stale');
    const first = bundled(['render', '-f', 'examples/quickstart']);
    const files = readdirSync(cache);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/-render\.v8cache$/);
    const size = statSync(join(cache, files[0] ?? '')).size;
    expect(size).toBeGreaterThan(10_000);
    const second = bundled(['render', '-f', 'examples/quickstart']);
    expect(second.stdout).toBe(first.stdout);
    // Accepted, so not written again; and no cache at all when switched off.
    expect(statSync(join(cache, files[0] ?? '')).size).toBe(size);
    rmSync(cache, { recursive: true, force: true });
    expect(bundled(['--version'], { SWARMGATE_COMPILE_CACHE: 'off' }).status).toBe(0);
    expect(existsSync(cache)).toBe(false);
  }, 60_000);
});

describe('compile cache location and names', () => {
  it('follows SWARMGATE_COMPILE_CACHE, then XDG_CACHE_HOME, then ~/.cache', () => {
    expect(cacheDir({ SWARMGATE_COMPILE_CACHE: '/c' }, () => '/home/u')).toBe('/c');
    expect(cacheDir({ SWARMGATE_COMPILE_CACHE: 'off' }, () => '/home/u')).toBeUndefined();
    expect(cacheDir({ XDG_CACHE_HOME: '/x' }, () => '/home/u')).toBe('/x/swarmgate/v8');
    expect(cacheDir({}, () => '/home/u')).toBe('/home/u/.cache/swarmgate/v8');
    expect(
      cacheDir({}, () => {
        throw new Error('no home');
      }),
    ).toBeUndefined();
  });

  it('names a cache by Node, bundle size and mtime (V8 checks only the length) and command', () => {
    expect(cacheName(['node', 'swarmgate', 'get', 'routes'], 123, 456.7, 'v20.1.0', 'x64')).toBe('v20.1.0-x64-123-456-get.v8cache');
    expect(cacheName(['node', 'swarmgate', '--version'], 1, 2, 'v20.1.0', 'x64')).toBe('v20.1.0-x64-1-2-other.v8cache');
    expect(cacheName(['node', 'swarmgate', '../../etc'], 1, 2, 'v20.1.0', 'x64')).toBe('v20.1.0-x64-1-2-other.v8cache');
    expect(cacheName(['node', 'swarmgate'], 1, 2, 'v20.1.0', 'x64')).toBe('v20.1.0-x64-1-2-other.v8cache');
  });

  it('finds the caches of other builds and Node versions as stale, never other files', () => {
    const prefix = cachePrefix(123, 456, 'v20.1.0', 'x64');
    const files = ['v20.1.0-x64-123-456-get.v8cache', 'v20.1.0-x64-999-456-get.v8cache', 'v18.0.0-x64-123-456-status.v8cache', 'notes.txt', 'v20.1.0-x64-123-456-get.v8cache.77.tmp'];
    expect(staleCaches(files, prefix)).toEqual(['v20.1.0-x64-999-456-get.v8cache', 'v18.0.0-x64-123-456-status.v8cache']);
  });
});
