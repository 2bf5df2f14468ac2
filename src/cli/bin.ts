#!/usr/bin/env node
/**
 * The `swarmgate` bin (built to dist/cli/swarmgate.js; ADR 0026). It runs the bundled CLI,
 * dist/cli/swarmgate-main.js, through a V8 code cache, one per command: the first `swarmgate get`
 * saves the compiled code of everything that command ran, and later ones load it instead of parsing
 * and compiling again (−30…40 ms of ~100 ms of swarmgate's own start-up; bench/README.md).
 *
 * Node 22 has this built in (module.enableCompileCache); Node 20 does not. v8-compile-cache saves
 * the cache right after compiling, before anything ran, so it holds only top-level code; in a bundle
 * nearly all code sits in functions, so it saved a third of what this saves.
 *
 * Cache files: $SWARMGATE_COMPILE_CACHE, else $XDG_CACHE_HOME/swarmgate/v8, else
 * ~/.cache/swarmgate/v8; SWARMGATE_COMPILE_CACHE=off disables it. V8 only checks a cache against
 * the source's length, so the file name carries the bundle's size and mtime and Node's version.
 * Any failure (no home, read-only disk, a rejected cache) only means compiling as without it.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const BUNDLE = join(__dirname, 'swarmgate-main.js');

/** Where cache files go, or undefined when caching is off or there is no place for it. */
export function cacheDir(env: NodeJS.ProcessEnv, home: () => string): string | undefined {
  const chosen = env['SWARMGATE_COMPILE_CACHE'];
  if (chosen === 'off') return undefined;
  if (chosen !== undefined && chosen !== '') return chosen;
  const xdg = env['XDG_CACHE_HOME'];
  if (xdg !== undefined && xdg !== '') return join(xdg, 'swarmgate', 'v8');
  try {
    return join(home(), '.cache', 'swarmgate', 'v8');
  } catch {
    return undefined;
  }
}

const SUFFIX = '.v8cache';

/** What every cache file of this bundle and Node starts with; files with another start are stale. */
export function cachePrefix(bundleSize: number, bundleMtimeMs: number, nodeVersion: string, arch: string): string {
  return `${nodeVersion}-${arch}-${bundleSize}-${Math.floor(bundleMtimeMs)}-`;
}

/** One cache per command (a command's cache holds the code that command runs); anything odd shares one. */
export function cacheName(argv: readonly string[], bundleSize: number, bundleMtimeMs: number, nodeVersion: string, arch: string): string {
  const command = argv[2] !== undefined && /^[a-z][a-z-]{0,30}$/.test(argv[2]) ? argv[2] : 'other';
  return `${cachePrefix(bundleSize, bundleMtimeMs, nodeVersion, arch)}${command}${SUFFIX}`;
}

/** Stale caches (another build or Node) are removed when a new one is written, so rebuilds do not pile them up. */
export function staleCaches(files: readonly string[], prefix: string): string[] {
  return files.filter((f) => f.endsWith(SUFFIX) && !f.startsWith(prefix));
}

function readCache(file: string | undefined): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

function writeCache(file: string, prefix: string, script: Script): void {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    for (const stale of staleCaches(readdirSync(dirname(file)), prefix)) unlinkSync(join(dirname(file), stale));
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, file); // atomic: a concurrent run reads the old file or the whole new one
  } catch {
    // No cache this time; the command's own result is what matters.
  }
}

function run(): void {
  const stat = statSync(BUNDLE);
  const dir = cacheDir(process.env, homedir);
  const prefix = cachePrefix(stat.size, stat.mtimeMs, process.version, process.arch);
  const file = dir === undefined ? undefined : join(dir, cacheName(process.argv, stat.size, stat.mtimeMs, process.version, process.arch));
  const cached = readCache(file);
  // A hashbang is not JavaScript inside the module wrapper; `//` keeps the line numbers.
  const source = readFileSync(BUNDLE, 'utf8').replace(/^#!/, '//');
  const script = new Script(Module.wrap(source), { filename: BUNDLE, ...(cached !== undefined ? { cachedData: cached } : {}) });
  if (file !== undefined && (cached === undefined || script.cachedDataRejected === true)) process.once('exit', () => writeCache(file, prefix, script));
  const moduleWrapper = script.runInThisContext() as (exports: object, require: NodeJS.Require, module: { exports: object }, filename: string, dirname: string) => void;
  const bundleModule = { exports: {} };
  moduleWrapper.call(bundleModule.exports, bundleModule.exports, createRequire(BUNDLE), bundleModule, BUNDLE, dirname(BUNDLE));
}

if (require.main === module) run();
