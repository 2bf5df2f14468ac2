/**
 * `nginx -t` for rendered configurations, usable from any test, property test or benchmark.
 *
 * A rendered config points at paths that only exist inside a proxy task (Docker secrets under
 * /run/secrets, the pid file under /run). The check works on a copy: the secrets directory and
 * the pid path are redirected into a fresh temporary directory, every secret the config names
 * is filled with a throw-away self-signed EC P-256 certificate and its key (one PEM holding
 * both, so a secret works whether nginx reads it as certificate or as key), and
 * `nginx -t -c COPY` runs synchronously.
 *
 * Listen ports need no substitution: `nginx -t` parses and checks the configuration but never
 * binds its listeners, so 80/443 and the loopback ports may be in use (checked with nginx 1.22).
 * It must run as root or with an nginx whose temp paths are writable, like the real proxy image.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selfSigned } from './tls-material';

export interface NginxCheckResult {
  /** `nginx -t` exited with status 0. */
  readonly ok: boolean;
  /** Everything nginx printed (it reports on stderr), with temporary paths as they were. */
  readonly output: string;
  /** Wall time of the `nginx -t` run alone (for benchmarks). */
  readonly elapsedMs: number;
}

export interface NginxCheckOptions {
  /** The secrets directory the config was rendered with (NginxRenderOptions.secretsDir). */
  readonly secretsDir?: string;
  /** The nginx binary; defaults to $NGINX_BIN, then `nginx` on PATH, then /usr/sbin/nginx. */
  readonly nginxBin?: string;
  /** Keep the temporary directory (for debugging a failure); its path is in the output. */
  readonly keepTempDir?: boolean;
  /** Kill nginx after this long (large generated configs in benchmarks); default 120 s. */
  readonly timeoutMs?: number;
}

const DEFAULT_SECRETS_DIR = '/run/secrets';

let sharedPem: string | undefined;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function resolveNginxBin(explicit: string | undefined): string {
  if (explicit !== undefined) return explicit;
  const fromEnv = process.env['NGINX_BIN'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const probe = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  if (probe.error === undefined) return 'nginx';
  return '/usr/sbin/nginx';
}

/** Whether an nginx binary can be run at all (for a clear failure instead of a cryptic one). */
export function nginxAvailable(nginxBin?: string): boolean {
  const r = spawnSync(resolveNginxBin(nginxBin), ['-v'], { encoding: 'utf8' });
  return r.error === undefined && r.status === 0;
}

/** The throw-away certificate and key as one PEM, generated once per process. */
export function selfSignedPem(): string {
  if (sharedPem !== undefined) return sharedPem;
  const pair = selfSigned('swarmgate-nginx-check');
  sharedPem = `${pair.cert}${pair.key}`;
  return sharedPem;
}

/** Names of the files under `secretsDir` that the config refers to. */
export function referencedSecrets(config: string, secretsDir: string = DEFAULT_SECRETS_DIR): string[] {
  const re = new RegExp(`${escapeRegExp(secretsDir.replace(/\/+$/, ''))}/([A-Za-z0-9_.-]+)`, 'g');
  return [...new Set([...config.matchAll(re)].map((m) => m[1] ?? ''))].filter((n) => n !== '').sort();
}

/**
 * The config as it will be tested: secrets dir and pid path moved under `tempDir`.
 * Exported so a failing check can be reproduced by hand.
 */
export function relocateConfig(config: string, tempDir: string, secretsDir: string = DEFAULT_SECRETS_DIR): string {
  const from = secretsDir.replace(/\/+$/, '');
  const withSecrets = config.split(`${from}/`).join(`${join(tempDir, 'secrets')}/`);
  return withSecrets.replace(/^(\s*)pid\s+("[^"]*"|[^\s;]+)\s*;/m, `$1pid "${join(tempDir, 'nginx.pid')}";`);
}

/** Run `nginx -t` on a rendered configuration. Never throws for an invalid config; returns ok=false. */
export function nginxCheck(config: string, options: NginxCheckOptions = {}): NginxCheckResult {
  const secretsDir = options.secretsDir ?? DEFAULT_SECRETS_DIR;
  const bin = resolveNginxBin(options.nginxBin);
  const secrets = referencedSecrets(config, secretsDir);
  const pem = secrets.length > 0 ? selfSignedPem() : '';
  const dir = mkdtempSync(join(tmpdir(), 'swarmgate-nginx-check-'));
  try {
    const secretsPath = join(dir, 'secrets');
    mkdirSync(secretsPath);
    for (const name of secrets) writeFileSync(join(secretsPath, name), pem, { mode: 0o600 });
    const file = join(dir, 'nginx.conf');
    writeFileSync(file, relocateConfig(config, dir, secretsDir));
    // stdout/stderr go to real files: the config opens /dev/stdout for access logs, which fails
    // (ENXIO) when it is the socketpair Node creates for piped child stdio.
    const outFile = join(dir, 'nginx.out');
    const fd = openSync(outFile, 'w');
    const started = process.hrtime.bigint();
    let r;
    try {
      // -e: errors before the config's own error_log is read go to stderr too.
      r = spawnSync(bin, ['-t', '-q', '-e', 'stderr', '-c', file], { stdio: ['ignore', fd, fd], timeout: options.timeoutMs ?? 120_000 });
    } finally {
      closeSync(fd);
    }
    const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.error !== undefined) return { ok: false, output: `could not run ${bin}: ${r.error.message}`, elapsedMs };
    const output = readFileSync(outFile, 'utf8');
    return { ok: r.status === 0, output: options.keepTempDir === true ? `${output}(kept ${dir})\n` : output, elapsedMs };
  } finally {
    if (options.keepTempDir !== true) rmSync(dir, { recursive: true, force: true });
  }
}
