/** Run a real NGINX on a rendered configuration for traffic tests; stop it afterwards. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NginxRenderOptions } from '../../src/render/nginx/options';

export interface RunningNginx {
  readonly dir: string;
  logs(): string;
  stop(): Promise<void>;
}

export { freePorts } from './free-ports';

/** Waits until `port` accepts connections; gives up when `exited()` says the server is gone, or at the deadline. */
async function waitForPort(port: number, deadlineMs: number, exited: () => string | undefined = () => undefined): Promise<void> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const gone = exited();
    if (gone !== undefined) throw new Error(`nginx exited before it listened on ${port}: ${gone}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nginx did not listen on ${port} within ${deadlineMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function nginxTest(configPath: string): { ok: boolean; output: string } {
  const r = spawnSync('nginx', ['-t', '-q', '-c', configPath], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

export async function startNginx(config: string, readyPort: number, dir = mkdtempSync(join(tmpdir(), 'sg-nginx-'))): Promise<RunningNginx> {
  const path = join(dir, 'nginx.conf');
  writeFileSync(path, config);
  const check = nginxTest(path);
  if (!check.ok) throw new Error(`nginx -t failed:\n${check.output}`);
  let output = '';
  const proc: ChildProcess = spawn('nginx', ['-c', path, '-g', 'daemon off;'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  // 15 s: a 2-core machine running the whole suite can be slow to start NGINX; an NGINX that
  // exits (a port taken between freePorts and its bind) fails at once, with its output.
  await waitForPort(readyPort, 15_000, () => (proc.exitCode !== null || proc.signalCode !== null ? `${proc.exitCode ?? proc.signalCode}\n${output}` : undefined));
  return {
    dir,
    logs: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGQUIT');
      }),
  };
}

/**
 * Render options for a test NGINX: pid and access log in `dir`, every listener on a loopback port
 * given in this order: http, TLS internal, passthrough internal, status, unavailable, traffic log.
 */
export function loopbackRenderOptions(dir: string, ports: readonly number[]): Partial<NginxRenderOptions> {
  const [httpPort = 0, tlsInternalPort = 0, passthroughInternalPort = 0, statusPort = 0, unavailablePort = 0, trafficLogPort = 0] = ports;
  return { pidPath: join(dir, 'nginx.pid'), accessLogPath: join(dir, 'access.log'), drainFlagPath: join(dir, 'draining'), httpPort, tlsInternalPort, passthroughInternalPort, statusPort, unavailablePort, trafficLogPort };
}
