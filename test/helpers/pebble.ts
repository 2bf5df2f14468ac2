/**
 * A real ACME server for tests, offline: Debian's `pebble` (the test CA) and `pebble-challtestsrv`
 * (its DNS: every name resolves to 127.0.0.1 unless told otherwise), both on loopback ports. pebble's
 * own HTTPS uses a throw-away certificate made here with openssl; the root it signs certificates
 * with is read from its management interface (`/roots/0`), as a client would trust it.
 * Started with PEBBLE_VA_NOSLEEP=1 (no random validation delay) and a short certificate lifetime
 * (`certificateValidityPeriod`) so renewal can be watched in seconds. Install: deploy/scripts/system-deps.sh (test).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './nginx-process';

export interface Pebble {
  /** The ACME directory URL. */
  readonly directory: string;
  /** PEM of the certificate pebble's HTTPS listeners use (an Issuer's caBundle). */
  readonly serverCa: string;
  /** PEM of the root pebble signs issued certificates with (what HTTPS clients trust). */
  root(): Promise<string>;
  /** Make DNS answer SERVFAIL for a host (a challenge that cannot be validated). */
  servfail(host: string): Promise<void>;
  /** Serve (value) or withdraw (undefined) a TXT record, as a DNS provider would for DNS-01. */
  txt(fqdn: string, value: string | undefined): Promise<void>;
  logs(): string;
  /**
   * Orders pebble created so far, from its log ("Added order … to the db"). Not the `POST /order-plz`
   * requests: pebble refuses 5 % of nonces at random (PEBBLE_WFE_NONCEREJECT), and the client sends a
   * refused request again, so requests over-count orders now and then.
   */
  ordersCreated(): number;
  stop(): Promise<void>;
}

function get(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve(body) : reject(new Error(`${url}: ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

async function until(what: string, f: () => Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `listen`: the address pebble's ACME directory listens on (default loopback). The real-Swarm test
 * passes the host's docker_gwbridge address, the one address of this machine a Swarm task (the
 * core's) can dial; pebble's certificate names it. Management and DNS stay on loopback.
 * `resolveTo`: the address every test host resolves to, where pebble validates HTTP-01 (default loopback).
 */
export async function startPebble(o: { httpPort: number; validitySeconds: number; listen?: string; resolveTo?: string }): Promise<Pebble> {
  const listen = o.listen ?? '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'sg-pebble-'));
  const [acmePort, mgmtPort, dnsPort, dnsMgmtPort, tlsPort] = await freePorts(5);
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost', '-addext', `subjectAltName=DNS:localhost,IP:127.0.0.1${listen !== '127.0.0.1' ? `,IP:${listen}` : ''}`], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`openssl: ${made.stderr}`);
  const config = {
    pebble: {
      listenAddress: `${listen}:${acmePort}`,
      managementListenAddress: `127.0.0.1:${mgmtPort}`,
      certificate: cert,
      privateKey: key,
      httpPort: o.httpPort,
      tlsPort,
      ocspResponderURL: '',
      externalAccountBindingRequired: false,
      certificateValidityPeriod: o.validitySeconds,
    },
  };
  writeFileSync(join(dir, 'pebble.json'), JSON.stringify(config));
  let output = '';
  const procs: ChildProcess[] = [];
  const start = (bin: string, args: string[]): void => {
    const p = spawn(bin, args, { env: { ...process.env, PEBBLE_VA_NOSLEEP: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    procs.push(p);
  };
  start('pebble-challtestsrv', ['-dns01', `127.0.0.1:${dnsPort}`, '-http01', '', '-https01', '', '-tlsalpn01', '', '-management', `127.0.0.1:${dnsMgmtPort}`, '-defaultIPv4', o.resolveTo ?? '127.0.0.1', '-defaultIPv6', '']);
  start('pebble', ['-config', join(dir, 'pebble.json'), '-dnsserver', `127.0.0.1:${dnsPort}`]);
  const serverCa = readFileSync(cert, 'utf8');
  const directory = `https://${listen}:${acmePort}/dir`;
  await until('pebble', async () => (await get(directory, serverCa)).includes('newOrder'));
  return {
    directory,
    serverCa,
    root: () => get(`https://127.0.0.1:${mgmtPort}/roots/0`, serverCa),
    servfail: async (host) => {
      const res = await fetch(`http://127.0.0.1:${dnsMgmtPort}/set-servfail`, { method: 'POST', body: JSON.stringify({ host }) });
      if (!res.ok) throw new Error(`set-servfail: ${res.status}`);
    },
    txt: async (fqdn, value) => {
      const host = fqdn.endsWith('.') ? fqdn : `${fqdn}.`;
      const res = await fetch(`http://127.0.0.1:${dnsMgmtPort}/${value === undefined ? 'clear-txt' : 'set-txt'}`, { method: 'POST', body: JSON.stringify(value === undefined ? { host } : { host, value }) });
      if (!res.ok) throw new Error(`${value === undefined ? 'clear-txt' : 'set-txt'}: ${res.status}`);
    },
    logs: () => output,
    ordersCreated: () => output.split('\n').filter((l) => /Added order "[^"]*" to the db/.test(l)).length,
    stop: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.exitCode !== null) return resolve();
              p.once('exit', () => resolve());
              p.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}
