/**
 * `haproxy -c` for rendered configurations, and a real HAProxy process for traffic tests.
 *
 * A rendered haproxy.cfg reads combined PEM files (certificate + key) under the certificate
 * directory the renderer was given (default /run/swarmgate/haproxy/certs). The check works on a
 * copy whose certificate directory is moved into a fresh temporary directory, where every PEM
 * the config names is a throw-away self-signed EC P-256 certificate followed by its key.
 *
 * `haproxy -c` parses and checks everything (certificates included) but binds no listener, so
 * ports 80/443, the loopback status port and the UNIX sockets may be in use or absent.
 * Checked with Debian bookworm's HAProxy 2.6.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { crtListOfConfig } from '../../src/render/haproxy/crt-list';
import { HAPROXY_CERT_DIR } from '../../src/render/haproxy/options';
import { selfSignedPem } from './nginx-check';

export interface HaproxyCheckResult {
  /** `haproxy -c` exited with status 0 (warnings do not change the status; see `output`). */
  readonly ok: boolean;
  /** Everything haproxy printed: NOTICE, WARNING and ALERT lines. */
  readonly output: string;
}

export interface HaproxyCheckOptions {
  /** The certificate directory the config was rendered with (HaproxyRenderOptions.certDir). */
  readonly certDir?: string;
  /** The haproxy binary; defaults to $HAPROXY_BIN, then `haproxy` on PATH. */
  readonly haproxyBin?: string;
}

function bin(explicit?: string): string {
  const fromEnv = process.env['HAPROXY_BIN'];
  return explicit ?? (fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'haproxy');
}

export function haproxyAvailable(haproxyBin?: string): boolean {
  const r = spawnSync(bin(haproxyBin), ['-v'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

/** File names (relative to `certDir`) of the PEM files the config reads. */
export function referencedPems(config: string, certDir: string = HAPROXY_CERT_DIR): string[] {
  const prefix = `${certDir.replace(/\/+$/, '')}/`;
  const names = new Set<string>();
  for (const line of config.split('\n')) {
    for (const m of line.matchAll(/ crt "([^"]+)"/g)) {
      const path = m[1] ?? '';
      if (path.startsWith(prefix)) names.add(path.slice(prefix.length));
    }
  }
  return [...names].sort();
}

/**
 * Write the crt-list a rendered config reads, as the proxy agent does before a start (crt-list.ts);
 * the PEM files it lists are the caller's (haproxyPemFiles).
 */
export function writeCrtList(config: string): void {
  const path = / crt-list "([^"]+)"/.exec(config)?.[1];
  if (path === undefined) return;
  const list = crtListOfConfig(config, dirname(path));
  if (list !== undefined) writeFileSync(list.path, list.content);
}

/** Run `haproxy -c` on a rendered configuration. Never throws for an invalid config; returns ok=false. */
export function haproxyCheck(config: string, options: HaproxyCheckOptions = {}): HaproxyCheckResult {
  const certDir = (options.certDir ?? HAPROXY_CERT_DIR).replace(/\/+$/, '');
  const dir = mkdtempSync(join(tmpdir(), 'swarmgate-haproxy-check-'));
  try {
    const certs = join(dir, 'certs');
    mkdirSync(certs);
    const pems = referencedPems(config, certDir);
    for (const name of pems) {
      // ACME pairs sit in a sub-directory of their own (pem-files.ts).
      mkdirSync(dirname(join(certs, name)), { recursive: true });
      writeFileSync(join(certs, name), selfSignedPem(), { mode: 0o600 });
    }
    // Maps (the ACME HTTP-01 tokens): HAProxy loads them at parse time; an empty one stands in.
    const maps = join(dir, 'maps');
    mkdirSync(maps);
    const mapPaths = [...new Set([...config.matchAll(/[ ,]map\((\/[A-Za-z0-9_./-]+\.map)\)/g)].map((m) => m[1] ?? ''))];
    mapPaths.forEach((_, i) => writeFileSync(join(maps, `${i}.map`), ''));
    // CA bundles (backend TLS, client certificates) and CRLs are mounted secrets: a throw-away certificate stands in for each.
    const secrets = join(dir, 'secrets');
    mkdirSync(secrets);
    for (const m of config.matchAll(/ (?:ca|crl)-file "\/run\/secrets\/([A-Za-z0-9][A-Za-z0-9_.-]*)"/g)) if (m[1] !== undefined) writeFileSync(join(secrets, m[1]), selfSignedPem(), { mode: 0o600 });
    // Error pages are mounted Swarm configs: a small page stands in for each (HAProxy reads them at load).
    const pages = join(dir, 'pages');
    mkdirSync(pages);
    for (const m of config.matchAll(/ file "\/run\/swarmgate-pages\/([A-Za-z0-9][A-Za-z0-9_.-]*)"/g)) if (m[1] !== undefined) writeFileSync(join(pages, m[1]), '<h1>page</h1>\n');
    // Dynamic endpoints: the server-state file the agent writes; an empty one (version line only) stands in.
    const state = join(dir, 'server-state');
    writeFileSync(state, '1\n');
    const file = join(dir, 'haproxy.cfg');
    const checked = config
      .replace(/^(\s*server-state-file )"[^"]*"$/m, `$1"${state}"`)
      .split(`${certDir}/`)
      .join(`${certs}/`)
      .split(' ca-file "/run/secrets/')
      .join(` ca-file "${secrets}/`)
      .split(' crl-file "/run/secrets/')
      .join(` crl-file "${secrets}/`)
      .split(' file "/run/swarmgate-pages/')
      .join(` file "${pages}/`)
      .replace(/([ ,]map\()(\/[A-Za-z0-9_./-]+\.map)\)/g, (_m, pre: string, path: string) => `${pre}${join(maps, `${mapPaths.indexOf(path)}.map`)})`);
    writeFileSync(file, checked);
    // The crt-list the config names, as the agent writes it from the config's lines (crt-list.ts).
    const list = crtListOfConfig(checked, certs);
    if (list !== undefined) writeFileSync(list.path, list.content);
    const r = spawnSync(bin(options.haproxyBin), ['-c', '-f', file], { encoding: 'utf8', timeout: 120_000 });
    if (r.error !== undefined) return { ok: false, output: `could not run haproxy: ${r.error.message}` };
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The WARNING and ALERT lines of a check's output (NOTICE lines only name the version). */
export function haproxyProblems(output: string): string[] {
  return output.split('\n').filter((l) => /\[(WARNING|ALERT)\]/.test(l));
}

export interface RunningHaproxy {
  logs(): string;
  stop(): Promise<void>;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ port, host: '127.0.0.1' });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Start `haproxy -db` (foreground, never a daemon) on `config` and wait until `readyPort` accepts
 * connections. stop() ends exactly this process (by its own handle, never by name).
 */
export async function startHaproxy(config: string, readyPort: number, dir = mkdtempSync(join(tmpdir(), 'sg-haproxy-'))): Promise<RunningHaproxy> {
  const path = join(dir, 'haproxy.cfg');
  writeFileSync(path, config);
  writeCrtList(config);
  let output = '';
  const proc: ChildProcess = spawn(bin(), ['-db', '-f', path], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const stop = (): Promise<void> =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  const deadline = Date.now() + 5000;
  while (!(await portOpen(readyPort))) {
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`haproxy did not listen on ${readyPort}:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { logs: () => output, stop };
}

export interface HaproxyLine {
  /** 1-based line number in the configuration. */
  readonly line: number;
  /** The words as HAProxy's parser sees them: quotes removed, escapes resolved. */
  readonly words: readonly string[];
  /** Unescaped `$` inside double quotes: HAProxy would expand an environment variable there. */
  readonly envRefs: number;
}

const ESCAPED: Readonly<Record<string, string>> = { ' ': ' ', '#': '#', '\\': '\\', "'": "'", '"': '"', $: '$', n: '\n', r: '\r', t: '\t' };

/**
 * Split a configuration into lines of words the way HAProxy 2.6 does (configuration manual §2.2):
 * `#` outside quotes starts a comment, blanks separate words, double quotes group and still
 * honour `\` escapes and `$VAR`, single quotes take everything literally. Unknown escapes such as
 * `\1` are kept as written. A word that is empty once unquoted (`""`) is dropped, as HAProxy 2.6
 * drops it ("expects exactly 2 arguments"). Comment-only and blank lines are left out.
 */
export function parseHaproxyConfig(config: string): HaproxyLine[] {
  const out: HaproxyLine[] = [];
  config.split('\n').forEach((text, i) => {
    const words: string[] = [];
    let word = '';
    let inWord = false;
    let quote: '' | '"' | "'" = '';
    let envRefs = 0;
    const end = (): void => {
      if (inWord && word !== '') words.push(word);
      word = '';
      inWord = false;
    };
    for (let p = 0; p < text.length; p++) {
      const ch = text[p] ?? '';
      if (quote === "'") {
        if (ch === "'") quote = '';
        else word += ch;
        continue;
      }
      if (ch === '\\') {
        const next = text[p + 1] ?? '';
        const hex = /^x[0-9A-Fa-f]{2}$/.test(text.slice(p + 1, p + 4)) ? text.slice(p + 2, p + 4) : undefined;
        if (hex !== undefined) {
          word += String.fromCharCode(Number.parseInt(hex, 16));
          p += 3;
        } else {
          word += ESCAPED[next] ?? `\\${next}`;
          p += 1;
        }
        inWord = true;
        continue;
      }
      if (quote === '"') {
        if (ch === '"') quote = '';
        else {
          if (ch === '$') envRefs++;
          word += ch;
        }
        continue;
      }
      if (ch === '#') break;
      if (ch === ' ' || ch === '\t') end();
      else if (ch === '"' || ch === "'") {
        quote = ch;
        inWord = true;
      } else {
        word += ch;
        inWord = true;
      }
    }
    if (quote !== '') throw new Error(`line ${i + 1}: unterminated ${quote} quote`);
    end();
    if (words.length > 0) out.push({ line: i + 1, words, envRefs });
  });
  return out;
}

/** The structure of a configuration: each line's keyword and word count, one per line. */
export function haproxyShape(lines: readonly HaproxyLine[]): string {
  return lines.map((l) => `${l.words[0] ?? ''}/${l.words.length}${l.envRefs > 0 ? '/$' : ''}`).join('\n');
}

/**
 * A hand-written HAProxy config answering `body` on the HTTP port, with the stats page on the
 * status port when there is one: `frontendLines` go into the HTTP frontend, `globalLines` into `global`.
 */
export function plainHaproxyConfig(port: number, status: number | undefined, body: string, o: { readonly frontendLines?: string; readonly globalLines?: string } = {}): string {
  return [
    'global',
    o.globalLines ?? '',
    'defaults',
    '    mode http',
    '    timeout connect 5s',
    '    timeout client 5s',
    '    timeout server 5s',
    'frontend sg_http',
    `    bind 127.0.0.1:${port}`,
    o.frontendLines ?? '',
    `    http-request return status 200 content-type text/plain string "${body}"`,
    ...(status === undefined ? [] : ['frontend sg_status', `    bind 127.0.0.1:${status}`, '    stats enable', '    stats uri /haproxy_status']),
    '',
  ].join('\n');
}
