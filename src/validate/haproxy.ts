/**
 * `haproxy -c` on a rendered configuration before it is delivered, the HAProxy twin of
 * nginx-validate.ts. Secrets are not readable through the Docker API, so the model is rendered
 * into a scratch directory whose certificate directory holds, for every combined PEM the config
 * reads (haproxyPemFiles), a throw-away certificate followed by its key: the structure, the
 * keywords and the PEM loading are what is checked, never user key material.
 * `haproxy -c` binds nothing, so ports and sockets may be in use.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProxyModel } from '../plan/model';
import { haproxyPemFiles, renderHaproxy } from '../render/haproxy/render';
import { scratchCertificate, type Validation } from './nginx';

export function haproxyAvailable(bin = 'haproxy'): boolean {
  const r = spawnSync(bin, ['-v'], { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
}

/**
 * haproxy's lines worth showing: alerts and warnings (NOTICE lines only name the version), without
 * the process ID, so the same config always gives the same message.
 */
export function haproxyProblems(output: string): string {
  return output
    .split('\n')
    .filter((l) => /\[(ALERT|WARNING)\]/.test(l))
    .map((l) => l.replace(/^\[(\w+)\]\s+\(\d+\) : /, '[$1] ').trim())
    .join('\n');
}

export function validateHaproxy(model: ProxyModel, bin = 'haproxy'): Validation {
  if (!haproxyAvailable(bin)) return { ok: true, output: '', skipped: 'haproxy not installed here; the proxy validates on start' };
  const dir = mkdtempSync(join(tmpdir(), 'sg-validate-haproxy-'));
  try {
    const certDir = join(dir, 'certs');
    mkdirSync(certDir);
    const pems = haproxyPemFiles(model, { certDir });
    if (pems.length > 0) {
      const pair = scratchCertificate(mkdtempSync(join(tmpdir(), 'sg-scratch-')));
      const combined = `${readFileSync(pair.cert, 'utf8')}${readFileSync(pair.key, 'utf8')}`;
      for (const pem of pems) writeFileSync(pem.path, combined, { mode: 0o600 });
    }
    const conf = join(dir, 'haproxy.cfg');
    writeFileSync(conf, renderHaproxy(model, { certDir, runtimeDir: join(dir, 'run') }));
    const r = spawnSync(bin, ['-c', '-f', conf], { encoding: 'utf8', timeout: 120_000 });
    if (r.error !== undefined) return { ok: false, output: `could not run haproxy: ${r.error.message}` };
    const all = `${r.stdout}${r.stderr}`;
    // Like `nginx -t -q`: nothing when valid (warnings aside); a failure without alerts shows everything.
    const shown = haproxyProblems(all) || (r.status === 0 ? '' : all.trim() || `haproxy -c exited ${String(r.status ?? r.signal)}`);
    return { ok: r.status === 0, output: shown.split(dir).join('<scratch>') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
