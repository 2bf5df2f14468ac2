/**
 * `nginx -t` on a rendered configuration before it is delivered. Secrets are not readable through
 * the Docker API, so validation renders the same model with a scratch secrets directory holding a
 * throw-away certificate under every secret name: the structure and directives are what is checked.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyModel } from '../plan/model';
import { renderNginx } from '../render/nginx/render';

export interface Validation {
  readonly ok: boolean;
  /** nginx's own message on failure (never contains key material: the scratch key is not a user secret). */
  readonly output: string;
  readonly skipped?: string;
}

let scratchPair: { cert: string; key: string } | undefined;

/** A throw-away self-signed EC pair (made once per process, in `dir`): stands in for TLS secrets in checks. */
export function scratchCertificate(dir: string): { cert: string; key: string } {
  if (scratchPair !== undefined && existsSync(scratchPair.cert)) return scratchPair;
  const cert = join(dir, 'scratch.crt');
  const key = join(dir, 'scratch.key');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '3650', '-subj', '/CN=swarmgate-validation', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  scratchPair = { cert, key };
  return scratchPair;
}

export function nginxAvailable(bin = 'nginx'): boolean {
  return spawnSync(bin, ['-v'], { stdio: 'ignore' }).status === 0;
}

export function validateNginx(model: ProxyModel, bin = 'nginx'): Validation {
  if (!nginxAvailable(bin)) return { ok: true, output: '', skipped: 'nginx not installed here; the proxy validates on start' };
  const dir = mkdtempSync(join(tmpdir(), 'sg-validate-'));
  try {
    const secretsDir = join(dir, 'secrets');
    mkdirSync(secretsDir);
    if (model.secrets.length > 0) {
      const pair = scratchCertificate(mkdtempSync(join(tmpdir(), 'sg-scratch-')));
      // A certificate and a key cannot be told apart by name; give every secret both PEM blocks.
      const both = `${readFileSync(pair.cert, 'utf8')}${readFileSync(pair.key, 'utf8')}`;
      for (const name of model.secrets) writeFileSync(join(secretsDir, name), both);
    }
    const conf = join(dir, 'nginx.conf');
    writeFileSync(conf, renderNginx(model, { secretsDir, pidPath: join(dir, 'nginx.pid'), accessLogPath: join(dir, 'access.log') }));
    const r = spawnSync(bin, ['-t', '-q', '-c', conf], { encoding: 'utf8' });
    const output = `${r.stdout}${r.stderr}`.split(dir).join('<scratch>').trim();
    return { ok: r.status === 0, output };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
