/**
 * ACME HTTP-01 tokens on HAProxy (ADR 0032). HAProxy 2.6 reads a `return … file` once at load, so a
 * file per token (NGINX's way, acme-files.ts) would need a reload per token. Instead the rendered
 * config answers `/.well-known/acme-challenge/<token>` from a map (`path,map(<file>)`), and the agent
 * keeps that map equal to the tokens the core sends: it rewrites the file (what a new worker loads on
 * a reload or a restart) and then replaces the running worker's copy through the master CLI
 * (`@1 clear map` + `@1 add map`, HAProxy's runtime API). No reload, no restart.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { AcmeChallengeData } from '../api/control-plane';

/** ACME tokens are base64url (RFC 8555 §8.1); a key authorization is token "." thumbprint. */
const TOKEN = /^[A-Za-z0-9_-]{1,256}$/;
const KEY_AUTHORIZATION = /^[A-Za-z0-9_-]{1,256}\.[A-Za-z0-9_-]{1,256}$/;
const PREFIX = '/.well-known/acme-challenge/';

/** The map's lines: "<path> <key authorization>", only well-formed tokens (nothing else can reach HAProxy's CLI). */
export function http01MapEntries(challenges: readonly AcmeChallengeData[]): [string, string][] {
  return challenges.filter((c) => TOKEN.test(c.token) && KEY_AUTHORIZATION.test(c.keyAuthorization)).map((c) => [`${PREFIX}${c.token}`, c.keyAuthorization]);
}

/** Write the map file (atomically); returns whether its content changed. */
export function writeHttp01Map(path: string, challenges: readonly AcmeChallengeData[]): boolean {
  const content = http01MapEntries(challenges).map(([k, v]) => `${k} ${v}\n`).join('');
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(`${path}.next`, content, { mode: 0o644 });
  renameSync(`${path}.next`, path);
  return true;
}

/**
 * Send commands to the master CLI and resolve with what it answered: the master keeps the session
 * open after a forwarded command, so the answer ends at `quit` or after a short quiet period.
 */
export function masterCli(socketPath: string, commands: readonly string[], timeoutMs = 3_000): Promise<{ ok: boolean; output: string }> {
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    let quiet: NodeJS.Timeout | undefined;
    const sock = connect(socketPath);
    const done = (ok: boolean): void => {
      if (settled) return;
      settled = true;
      if (quiet !== undefined) clearTimeout(quiet);
      sock.destroy();
      resolve({ ok, output: out });
    };
    const deadline = setTimeout(() => done(out !== ''), timeoutMs);
    sock.once('connect', () => sock.write(`${[...commands, 'quit'].join('; ')}\n`));
    sock.on('data', (d: Buffer) => {
      out += d.toString();
      if (quiet !== undefined) clearTimeout(quiet);
      quiet = setTimeout(() => done(true), 150);
    });
    sock.once('close', () => {
      clearTimeout(deadline);
      done(true);
    });
    sock.once('error', (e) => {
      clearTimeout(deadline);
      out += e.message;
      done(false);
    });
  });
}

/**
 * Make the running worker's map equal to `challenges` (after writeHttp01Map). `@1` is the current
 * worker (old ones, still finishing connections after a reload, keep the map they had).
 */
export async function pushHttp01Map(masterSocket: string, mapPath: string, challenges: readonly AcmeChallengeData[]): Promise<{ ok: boolean; output: string }> {
  const entries = http01MapEntries(challenges);
  const r = await masterCli(masterSocket, [`@1 clear map ${mapPath}`, ...entries.map(([k, v]) => `@1 add map ${mapPath} ${k} ${v}`)]);
  const problems = r.output.split('\n').filter((l) => /unknown|not found|error|denied/i.test(l));
  return { ok: r.ok && problems.length === 0, output: problems.join('; ') || r.output.trim() };
}
