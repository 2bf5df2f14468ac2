/**
 * A proxy task boots from a boot config stored compressed and in parts (ADR 0029): the ProxyAgent,
 * with a real NGINX and a real HAProxy, reassembles `<boot>` + `<boot>.partKofN`, decompresses it and
 * starts the proxy on exactly the text (served, and byte-identical in the live directory); with a
 * part missing or damaged it refuses to start instead of running half a config.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyAgent } from '../../src/agent/proxy-agent';
import { bootConfigHash } from '../../src/agent/last-applied';
import { encodeStoredConfig, partFilePath } from '../../src/plan/stored-config';
import { haproxyAvailable } from '../helpers/haproxy-check';
import { send } from '../helpers/http-client';
import { freePorts } from '../helpers/nginx-process';
import { until } from '../helpers/swarm';
import { createHash } from 'node:crypto';

const log = pino({ level: 'silent' });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A limit that makes the configs below need several parts even compressed. */
const LIMIT = 700;

/** Many server blocks with distinct, incompressible names (so the compressed text still needs parts), then the one answering `body`. */
function nginxConf(dir: string, port: number, body: string): string {
  const noise = Array.from({ length: 150 }, (_, i) => `  server { listen 127.0.0.1:${port}; server_name n${createHash('sha256').update(String(i)).digest('hex').slice(0, 24)}.test; return 404; }\n`).join('');
  return `pid ${dir}/nginx.pid;\nerror_log stderr crit;\nevents {}\nhttp {\n  access_log off;\n  server_names_hash_bucket_size 128;\n${noise}  server { listen 127.0.0.1:${port} default_server; location / { return 200 "${body}\\n"; } }\n}\n`;
}

function haproxyConf(port: number, status: number, body: string): string {
  const noise = Array.from({ length: 60 }, (_, i) => `    http-request deny if { hdr(host) -i n${createHash('sha256').update(String(i)).digest('hex')}.test }`);
  return ['global', 'defaults', '    mode http', '    timeout connect 5s', '    timeout client 5s', '    timeout server 5s', 'frontend sg_http', `    bind 127.0.0.1:${port}`, ...noise,
    `    http-request return status 200 content-type text/plain string "${body}"`, 'frontend sg_status', `    bind 127.0.0.1:${status}`, '    stats enable', '    stats uri /haproxy_status', ''].join('\n');
}

/** Write `text` as the task would see it mounted: the first part at `boot`, the others beside it. */
function mount(boot: string, text: string): number {
  const { encoding, parts } = encodeStoredConfig(text, LIMIT);
  expect(encoding).toBe('gzip');
  writeFileSync(boot, parts[0] ?? new Uint8Array());
  parts.slice(1).forEach((p, i) => writeFileSync(partFilePath(boot, i + 2, parts.length), p));
  return parts.length;
}

function startAgent(o: ConstructorParameters<typeof ProxyAgent>[0]): ProxyAgent {
  const agent = new ProxyAgent(o);
  cleanups.push(async () => {
    agent.stop('SIGTERM');
    await agent.exited;
  });
  agent.start();
  return agent;
}

describe('booting from a compressed boot config in parts', () => {
  it('NGINX: the agent reassembles and decompresses it before NGINX starts, and serves exactly that text', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-boot-gz-'));
    const [port = 0] = await freePorts(1);
    const text = nginxConf(dir, port, 'from compressed parts');
    const boot = join(dir, 'boot', 'nginx.conf');
    mkdirSync(join(dir, 'boot'));
    const n = mount(boot, text);
    expect(n).toBeGreaterThanOrEqual(3);
    // The boot config's identity (last-applied.ts) is its text's, however it is stored.
    expect(bootConfigHash([boot])).toBe(createHash('sha256').update(text).digest('hex'));
    startAgent({ kind: 'nginx', cluster: '', replicaId: '', confDir: join(dir, 'live'), bootConfigs: [boot], log });
    await until('served', async () => ((await send({ port, host: 'x.test' })).body.trim() === 'from compressed parts' ? true : undefined), 15_000);
    expect(readFileSync(join(dir, 'live', 'nginx.conf'), 'utf8')).toBe(text);
  });

  it('NGINX: refuses to start with a part missing or damaged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-boot-gz-'));
    const [port = 0] = await freePorts(1);
    const boot = join(dir, 'nginx.conf');
    const n = mount(boot, nginxConf(dir, port, 'never'));
    rmSync(partFilePath(boot, n, n));
    expect(() => new ProxyAgent({ kind: 'nginx', cluster: '', replicaId: '', confDir: join(dir, 'live'), bootConfigs: [boot], log }).start()).toThrow(/not mounted/);
    mount(boot, nginxConf(dir, port, 'never'));
    const part = readFileSync(partFilePath(boot, 2, n));
    part[10] = (part[10] ?? 0) ^ 0xff;
    writeFileSync(partFilePath(boot, 2, n), part);
    expect(() => new ProxyAgent({ kind: 'nginx', cluster: '', replicaId: '', confDir: join(dir, 'live2'), bootConfigs: [boot], log }).start()).toThrow(/decompress|SHA-256/);
    expect((await send({ port, host: 'x.test' }).catch((e: unknown) => ({ body: String(e) }))).body).not.toContain('never');
  });

  it.runIf(haproxyAvailable())('HAProxy: the agent reassembles and decompresses it before HAProxy starts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-boot-gz-'));
    const [http = 0, status = 0] = await freePorts(2);
    const text = haproxyConf(http, status, 'haproxy from parts');
    const boot = join(dir, 'haproxy.cfg');
    expect(mount(boot, text)).toBeGreaterThanOrEqual(3);
    startAgent({ kind: 'haproxy', haproxy: { certDir: join(dir, 'certs'), runtimeDir: join(dir, 'run'), secretsDir: join(dir, 'secrets'), quiet: true }, cluster: '', replicaId: '', confDir: join(dir, 'live'), bootConfigs: [boot], log });
    await until('served', async () => ((await send({ port: http, host: 'x.test' })).body === 'haproxy from parts' ? true : undefined), 15_000);
    expect(readFileSync(join(dir, 'live', 'haproxy.cfg'), 'utf8')).toBe(text);
  });
});
