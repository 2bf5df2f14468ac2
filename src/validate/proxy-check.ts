/**
 * The one place that runs a proxy's own config check, `nginx -t -q -c <path>` or
 * `haproxy -c -f <path>`, and turns what it prints into a Validation. The proxy agent runs it on
 * the files in its container; validate-files.ts runs it inside a private root (`chroot`) holding
 * the exact files that ship.
 */
import { spawnSync } from 'node:child_process';
import type { ProxyKind } from '../plan/proxy-capabilities';
import type { Validation } from './result';

export interface CheckCommand {
  /** The proxy binary (inside `root` when given). */
  readonly bin: string;
  /** The config file the proxy is started with (inside `root` when given). */
  readonly configPath: string;
  /** Run the check inside this private root: the command prefix that enters it (see sandbox.ts). */
  readonly enter?: readonly string[];
  readonly timeoutMs?: number;
}

/** The check's arguments: what the proxy itself runs before a reload, nothing more. */
export function checkArgs(kind: ProxyKind, configPath: string): string[] {
  return kind === 'haproxy' ? ['-c', '-f', configPath] : ['-t', '-q', '-c', configPath];
}

export function proxyAvailable(bin: string): boolean {
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

/**
 * nginx's messages without the timestamp and process ID it prefixes once the config's own
 * `error_log` is in effect ("2026/01/02 03:04:05 [emerg] 12#12: ..." becomes "nginx: [emerg] ..."),
 * so the same config always gives the same message (it ends up in status labels).
 */
export function nginxProblems(output: string): string {
  return output
    .split('\n')
    .map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[(\w+)\] \d+#\d+: /, 'nginx: [$1] ').trimEnd())
    .filter((l) => l !== '')
    .join('\n');
}

/** Run the check once. Never throws for an invalid config: the answer is `ok: false` with the proxy's message. */
export function runProxyCheck(kind: ProxyKind, c: CheckCommand): Validation {
  const enter = c.enter ?? [];
  const [cmd = c.bin, ...prefix] = [...enter, c.bin];
  const args = [...prefix, ...checkArgs(kind, c.configPath)];
  // NGINX opens /dev/stdout (the access log) during the check, which fails when stdout is a
  // socketpair (Node's pipes): outside a private root stdout is inherited; inside one it is a plain file.
  const stdout = kind === 'nginx' && c.enter === undefined ? 'inherit' : 'pipe';
  // A clean environment: HAProxy expands "${VAR}" in a config, and a config may come from an extension.
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: c.timeoutMs ?? 120_000, stdio: ['ignore', stdout, 'pipe'], env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  const name = kind === 'haproxy' ? 'haproxy -c' : 'nginx -t';
  if (r.error !== undefined) return { ok: false, output: `could not run ${name}: ${r.error.message}` };
  const all = `${r.stdout ?? ''}${r.stderr}`;
  const ok = r.status === 0;
  const exited = `${name} exited ${String(r.status ?? r.signal)}`;
  if (kind === 'haproxy') {
    // Like `nginx -t -q`: nothing when valid (warnings aside); a failure without alerts shows everything.
    const problems = haproxyProblems(all);
    return { ok, output: problems || (ok ? '' : all.trim() || exited) };
  }
  const problems = nginxProblems(all);
  return { ok, output: problems || (ok ? '' : exited) };
}
