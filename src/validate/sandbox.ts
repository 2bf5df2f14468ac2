/**
 * A private root (chroot) in which a proxy checks the exact files that ship, at the absolute paths
 * the proxy uses: the config itself, throw-away certificates where the task's secrets are mounted,
 * the proxy binary with its shared libraries and modules, /etc/passwd and /etc/group, /dev/stdout
 * as a plain file, the pid and temp directories. Nothing else of the host is visible, so a config
 * from an untrusted party (an extension's submission) can only open, create or load what is in
 * there (see docs/adr/0009-validate-the-shipped-bytes.md).
 *
 * The binary, libraries and modules are copied once per process into the root (never hard-linked
 * to the system's own files: a check may append log lines to any file it can name). Before and
 * after every check, everything that is not one of those copies is removed; the root is rebuilt
 * when one of the copies changed size or time (a previous check appended to it).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { ProxyKind } from '../plan/proxy-capabilities';
import { DEFAULT_NGINX_OPTIONS } from '../render/nginx/options';

/** Directories every root has (the proxies create files below them: pid, temp paths, sockets). */
const ROOT_PREFIX = 'sg-root-';
const ROOT_DIRS = ['/dev', '/tmp', '/run', '/run/secrets', '/var/lib/nginx', '/var/log/nginx', '/var/lib/haproxy', '/etc'];
/** Opened by configs as log targets; plain files here, never the host's devices. */
const DEVICE_FILES = ['/dev/stdout', '/dev/stderr', '/dev/null'];
const FALLBACK_PASSWD = 'root:x:0:0:root:/root:/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n';
const FALLBACK_GROUP = 'root:x:0:\nnogroup:x:65534:\n';

interface BaseFile {
  readonly size: number;
  readonly mtimeMs: number;
}

interface Base {
  readonly dir: string;
  /** Absolute path inside the root → what it looked like when copied. */
  readonly files: ReadonlyMap<string, BaseFile>;
}

/** The absolute path of `bin` (a path, or a name looked up on PATH); undefined when there is none. */
export function resolveBinary(bin: string): string | undefined {
  const candidates = bin.includes('/') ? [bin] : (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter).map((d) => join(d, bin));
  for (const c of candidates) {
    if (!isAbsolute(c)) continue;
    try {
      if (statSync(c).isFile()) return c;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Shared libraries an ELF file loads (ldd), the dynamic loader included; none for a script or a static binary. */
function sharedLibraries(file: string): string[] {
  const r = spawnSync('ldd', [file], { encoding: 'utf8' });
  if (r.error !== undefined) throw new Error(`ldd is needed to build a private root: ${r.error.message}`);
  if (r.status !== 0) return [];
  return [...r.stdout.matchAll(/(?:=>\s*|^\s*)(\/\S+)\s+\(0x/gm)].map((m) => m[1] ?? '').filter((p) => p !== '');
}

/** The interpreter of a `#!` script (tests use scripts standing in for a proxy). */
function interpreterOf(file: string): string | undefined {
  const head = readFileSync(file).subarray(0, 256).toString('latin1');
  return head.startsWith('#!') ? /^#!\s*(\S+)/.exec(head)?.[1] : undefined;
}

function copyInto(baseDir: string, files: Map<string, BaseFile>, path: string): void {
  if (files.has(path)) return;
  const target = join(baseDir, path);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(path), target);
  chmodSync(target, 0o555);
  const s = statSync(target);
  files.set(path, { size: s.size, mtimeMs: s.mtimeMs });
}

function writeInto(baseDir: string, files: Map<string, BaseFile>, path: string, content: string): void {
  const target = join(baseDir, path);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, content, { mode: 0o444 });
  const s = statSync(target);
  files.set(path, { size: s.size, mtimeMs: s.mtimeMs });
}

/** Copy what running `binPath` needs into a new root directory (its name carries this process's ID, see sweepOrphans). */
function buildBase(kind: ProxyKind, binPath: string): Base {
  const dir = mkdtempSync(join(tmpdir(), `${ROOT_PREFIX}${process.pid}-${kind}-`));
  const files = new Map<string, BaseFile>();
  const programs = [binPath];
  const interpreter = interpreterOf(binPath);
  if (interpreter !== undefined) programs.push(interpreter);
  // NGINX: every dynamic module the proxy image has (load_module names them by absolute path).
  const modulesDir = dirname(DEFAULT_NGINX_OPTIONS.streamModulePath ?? '/usr/lib/nginx/modules/x.so');
  if (kind === 'nginx' && existsSync(modulesDir)) for (const m of readdirSync(modulesDir)) if (m.endsWith('.so')) programs.push(join(modulesDir, m));
  for (const p of programs) {
    copyInto(dir, files, p);
    for (const lib of sharedLibraries(p)) copyInto(dir, files, lib);
  }
  // `user` and a master running as root look users and groups up (glibc reads these files itself).
  for (const [path, fallback] of [['/etc/passwd', FALLBACK_PASSWD], ['/etc/group', FALLBACK_GROUP]] as const) {
    writeInto(dir, files, path, existsSync(path) ? readFileSync(path, 'utf8') : fallback);
  }
  return { dir, files };
}

function unchanged(base: Base): boolean {
  for (const [path, was] of base.files) {
    try {
      const s = statSync(join(base.dir, path));
      if (s.size !== was.size || s.mtimeMs !== was.mtimeMs) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Back to the state right after buildBase: everything a check wrote (its config, the throw-away
 * secrets, pid and temp files, logs) is removed, the directories the proxies write to exist, and
 * the device stand-ins are empty plain files.
 */
function reset(base: Base): void {
  const keep = new Set<string>(['/']);
  for (const p of [...base.files.keys(), ...ROOT_DIRS, ...DEVICE_FILES]) for (let d = p; d !== '/'; d = dirname(d)) keep.add(d);
  const walk = (dir: string): void => {
    for (const e of readdirSync(join(base.dir, dir), { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (!keep.has(path)) rmSync(join(base.dir, path), { recursive: true, force: true });
      else if (e.isDirectory()) walk(path);
    }
  };
  walk('/');
  for (const d of ROOT_DIRS) mkdirSync(join(base.dir, d), { recursive: true });
  for (const d of DEVICE_FILES) writeFileSync(join(base.dir, d), '');
}

/** Roots left by processes that ended without their exit handler (a killed test worker, a crashed core). */
function sweepOrphans(): void {
  for (const name of readdirSync(tmpdir())) {
    const pid = Number(/^sg-root-(\d+)-/.exec(name)?.[1] ?? NaN);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ESRCH') rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

const bases = new Map<string, Base>();
let cleanupRegistered = false;

function baseFor(kind: ProxyKind, binPath: string): Base {
  const key = `${kind}\0${binPath}`;
  const known = bases.get(key);
  // A check may append to any file it can name (error_log): rebuild rather than run a changed binary.
  if (known !== undefined && unchanged(known)) return known;
  if (known !== undefined) rmSync(known.dir, { recursive: true, force: true });
  if (!cleanupRegistered) {
    cleanupRegistered = true;
    sweepOrphans();
    process.once('exit', () => {
      for (const b of bases.values()) rmSync(b.dir, { recursive: true, force: true });
    });
  }
  const base = buildBase(kind, binPath);
  bases.set(key, base);
  return base;
}

let entry: readonly string[] | string | undefined;

/**
 * How this process enters a private root: `chroot` (root with CAP_SYS_CHROOT, as the core and the
 * extension run in their containers), else `unshare -r chroot` (an unprivileged user namespace,
 * e.g. a developer's machine), else a sentence saying why it cannot. Probed once per process.
 */
export function rootEntry(): readonly string[] | string {
  if (entry !== undefined) return entry;
  const chroot = resolveBinary('chroot') ?? resolveBinary('/usr/sbin/chroot');
  const unshare = resolveBinary('unshare') ?? resolveBinary('/usr/bin/unshare');
  const ways: string[][] = [];
  if (chroot !== undefined && process.getuid?.() === 0) ways.push([chroot]);
  if (chroot !== undefined && unshare !== undefined) ways.push([unshare, '-r', chroot]);
  const works = ways.find((w) => {
    const [cmd = '', ...args] = w;
    return spawnSync(cmd, [...args, '/', 'true'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
  });
  entry = works ?? (chroot === undefined ? 'no chroot program here' : 'chroot is not permitted here (it needs root with CAP_SYS_CHROOT, or unprivileged user namespaces)');
  return entry;
}

export interface PrivateRoot {
  /** The root on the host; every absolute path the proxy uses is below it. */
  readonly dir: string;
  /** The command prefix that runs a program inside it. */
  readonly enter: readonly string[];
  /** Write a file at its absolute path inside the root. */
  write(path: string, content: string | Uint8Array, mode?: number): void;
  /**
   * Make `path` another name of the file at `existing` (both absolute inside the root): a stand-in
   * certificate for thousands of secrets is one file, not thousands of writes (ADR 0050's measure:
   * 10,000 secrets took 1–4 s to write, the check itself 0.1 s). Falls back to a copy.
   */
  link(existing: string, path: string): void;
  /** Remove everything the check wrote (the root itself is kept for the next check in this process). */
  release(): void;
}

/**
 * A clean private root for one check with `binPath`, or why none can be made here. Checks run
 * one at a time (synchronously) in a process, so one root per proxy binary serves them all.
 */
export function privateRoot(kind: ProxyKind, binPath: string): PrivateRoot | string {
  const how = rootEntry();
  if (typeof how === 'string') return how;
  const base = baseFor(kind, binPath);
  reset(base);
  return {
    dir: base.dir,
    enter: [...how, base.dir],
    write(path, content, mode = 0o644) {
      const target = join(base.dir, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content, { mode });
    },
    link(existing, path) {
      const target = join(base.dir, path);
      mkdirSync(dirname(target), { recursive: true });
      try {
        linkSync(join(base.dir, existing), target);
      } catch {
        copyFileSync(join(base.dir, existing), target);
      }
    },
    release: () => reset(base),
  };
}

let scratchPem: string | undefined;

/**
 * A throw-away self-signed EC certificate followed by its key (one PEM, made once per process):
 * stands in for every TLS secret in a check, whether the config reads it as certificate or key.
 */
export function scratchCertificatePem(): string {
  if (scratchPem !== undefined) return scratchPem;
  const dir = mkdtempSync(join(tmpdir(), 'sg-scratch-'));
  try {
    const [cert, key] = [join(dir, 'scratch.crt'), join(dir, 'scratch.key')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=swarmgate-validation', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    scratchPem = `${readFileSync(cert, 'utf8')}${readFileSync(key, 'utf8')}`;
    return scratchPem;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
