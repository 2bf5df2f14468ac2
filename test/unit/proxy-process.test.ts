import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runProxyAgent } from '../../src/cli/commands/proxy-agent';
import type { Output } from '../../src/cli/output';
import { buildPemFiles, parseHaproxyStats, pruneStalePemFiles } from '../../src/agent/proxy-process';
import { pemFilesOfConfig } from '../../src/render/haproxy/pem-files';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nsecret\n-----END PRIVATE KEY-----';

function dirs() {
  const dir = mkdtempSync(join(tmpdir(), 'sg-pem-'));
  const secrets = join(dir, 'secrets');
  mkdirSync(secrets);
  writeFileSync(join(secrets, 'a.crt'), CERT);
  writeFileSync(join(secrets, 'a.key'), KEY);
  return { certDir: join(dir, 'certs'), secrets };
}

const cfg = (certDir: string, ...pairs: string[]): string => pairs.map((p, i) => `    bind "unix@/run/x/tls-${i}.sock" accept-proxy ssl crt "${certDir}/${p}.pem"\n`).join('');

describe('pemFilesOfConfig', () => {
  it('reads back the secret pairs of the crt arguments under the certificate directory only', () => {
    const config = `${cfg('/c', 'a.crt+a.key', 'b-1_x.y+b.key', 'a.crt+a.key')}    bind :443 ssl crt "/elsewhere/z+y.pem"\n    bind :444 ssl crt "/c/sub/z+y.pem"\n`;
    expect(pemFilesOfConfig(config, '/c/')).toEqual([
      { path: '/c/a.crt+a.key.pem', certSecret: 'a.crt', keySecret: 'a.key' },
      { path: '/c/b-1_x.y+b.key.pem', certSecret: 'b-1_x.y', keySecret: 'b.key' },
    ]);
  });
});

describe('buildPemFiles', () => {
  it('writes certificate then key (newline-separated), owner-only, and leaves no temporary file', () => {
    const { certDir, secrets } = dirs();
    expect(buildPemFiles(cfg(certDir, 'a.crt+a.key'), certDir, secrets)).toEqual({ ok: true, output: '' });
    const pem = join(certDir, 'a.crt+a.key.pem');
    expect(readFileSync(pem, 'utf8')).toBe(`${CERT}${KEY}\n`);
    expect(statSync(pem).mode & 0o777).toBe(0o600);
    expect(readdirSync(certDir)).toEqual(['a.crt+a.key.pem']);
  });

  it('names a missing secret and never prints key material', () => {
    const { certDir, secrets } = dirs();
    const r = buildPemFiles(cfg(certDir, 'a.crt+gone.key'), certDir, secrets);
    expect(r.ok).toBe(false);
    expect(r.output).toContain(`secret "gone.key" is not mounted at ${join(secrets, 'gone.key')}`);
    expect(r.output).not.toContain('PRIVATE KEY');
  });

  it("writes the crt-list from the config's comment lines, with the PEMs it lists (ADR 0032)", () => {
    const { certDir, secrets } = dirs();
    const config = `    bind "unix@/run/x/tls-1.sock" accept-proxy ssl crt-list "${certDir}/hosts.crt-list" alpn h2,http/1.1\n    # hosts.crt-list: comment\n    #   crt "${certDir}/a.crt+a.key.pem" a.test *.a.test\n`;
    expect(buildPemFiles(config, certDir, secrets)).toEqual({ ok: true, output: '' });
    expect(readFileSync(join(certDir, 'hosts.crt-list'), 'utf8')).toBe(`${certDir}/a.crt+a.key.pem a.test *.a.test\n`);
    expect(readFileSync(join(certDir, 'a.crt+a.key.pem'), 'utf8')).toBe(`${CERT}${KEY}\n`);
    // Pruning keeps the list (not a PEM) and the PEM it names.
    pruneStalePemFiles(config, certDir);
    expect(readdirSync(certDir).sort()).toEqual(['a.crt+a.key.pem', 'hosts.crt-list']);
  });

  it('does nothing for a config without TLS', () => {
    const { certDir, secrets } = dirs();
    expect(buildPemFiles('frontend f\n    bind :80\n', certDir, secrets)).toEqual({ ok: true, output: '' });
    expect(existsSync(certDir)).toBe(false);
  });
});

describe('pruneStalePemFiles', () => {
  it('removes the PEMs the live config no longer reads and keeps the rest', () => {
    const { certDir, secrets } = dirs();
    writeFileSync(join(secrets, 'b.crt'), CERT);
    writeFileSync(join(secrets, 'b.key'), KEY);
    buildPemFiles(cfg(certDir, 'a.crt+a.key', 'b.crt+b.key'), certDir, secrets);
    writeFileSync(join(certDir, 'notes.txt'), 'kept');
    pruneStalePemFiles(cfg(certDir, 'b.crt+b.key'), certDir);
    expect(readdirSync(certDir).sort()).toEqual(['b.crt+b.key.pem', 'notes.txt']);
  });
});

describe('parseHaproxyStats', () => {
  const header = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,hrsp_5xx,req_tot';
  it('sums the public frontends and ignores backends and the status frontend', () => {
    const csv = [header, 'sg_http,FRONTEND,,,3,,,,,,2,40', 'sg_tls,FRONTEND,,,1,,,,,,,', 'be.x,BACKEND,,,9,,,,,,7,99', 'sg_status,FRONTEND,,,1,,,,,,0,5', ''].join('\n');
    expect(parseHaproxyStats(csv)).toEqual({ requests: 40, responses5xx: 2, activeConnections: 4 });
  });

  it('is all zeros for something else', () => {
    expect(parseHaproxyStats('<html>503</html>')).toEqual({ requests: 0, responses5xx: 0, activeConnections: 0 });
  });
});

describe('swarmgate proxy-agent', () => {
  it('refuses an unknown proxy kind', async () => {
    const err: string[] = [];
    const io: Output = { out: () => undefined, err: (s) => void err.push(s) };
    expect(await runProxyAgent({ kind: 'traefik' }, io, {})).not.toBe(0);
    expect(err.join('\n')).toContain('expected nginx or haproxy, got "traefik"');
  });
});
