/**
 * validateFiles: the proxies' own checks on the exact files given, at the paths the proxy reads
 * them, inside a private root that holds nothing of the host but the proxy itself.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nginxProblems } from '../../src/validate/proxy-check';
import { rootEntry, resolveBinary } from '../../src/validate/sandbox';
import { ValidationCache, checkKey, validateFiles } from '../../src/validate/validate-files';
import type { Validation } from '../../src/validate/result';

const minimalNginx = (extra = '', http = '') => `${extra}\nevents {}\nhttp {\n    access_log "/dev/stdout";\n${http}\n    server { listen 80; return 204; }\n}\n`;

describe('validateFiles', () => {
  it('can make a private root here (the tests run as root or with user namespaces)', () => {
    expect(rootEntry()).not.toEqual(expect.any(String));
  });

  it('passes a valid NGINX config and reports a broken one at the path the proxy reads it from', () => {
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: minimalNginx() }])).toEqual({ ok: true, output: '' });
    const v = validateFiles('nginx', [{ path: 'nginx.conf', content: minimalNginx('bogus_directive on;') }]);
    expect(v.ok).toBe(false);
    expect(v.output).toBe('nginx: [emerg] unknown directive "bogus_directive" in /etc/nginx/nginx.conf:1\nnginx: configuration file /etc/nginx/nginx.conf test failed');
  });

  it('checks the bytes given, not a re-render: a byte changed is a different verdict', () => {
    const good = Buffer.from(minimalNginx());
    const bad = Buffer.from(good);
    bad[good.indexOf('events')] = 'E'.charCodeAt(0);
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: good }]).ok).toBe(true);
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: bad }]).output).toContain('unknown directive "Events"');
  });

  it('gives the mounted secrets throw-away certificates, and fails a config that reads a secret the task does not mount', () => {
    const tls = minimalNginx('', '    server { listen 443 ssl; ssl_certificate "/run/secrets/shop-cert"; ssl_certificate_key "/run/secrets/shop-key"; return 204; }');
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: tls }], { secrets: ['shop-cert', 'shop-key'] })).toEqual({ ok: true, output: '' });
    const v = validateFiles('nginx', [{ path: 'nginx.conf', content: tls }], { secrets: ['shop-cert'] });
    expect(v.ok).toBe(false);
    expect(v.output).toContain('/run/secrets/shop-key');
    expect(v.output).not.toMatch(/PRIVATE KEY|BEGIN/);
  });

  it('lets a config open, create or load nothing of the host (an untrusted submission is safe to check)', () => {
    const hostFile = join(tmpdir(), `sg-escape-${process.pid}-${Date.now()}.log`);
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: minimalNginx(`error_log "${hostFile}" info;`) }])).toMatchObject({ ok: true });
    expect(existsSync(hostFile)).toBe(false);
    // A library the host has is not in the root: load_module cannot reach it.
    const hostLib = ['/usr/lib/x86_64-linux-gnu/libcurl.so.4', '/usr/lib/x86_64-linux-gnu/libz.so.1', '/usr/lib/aarch64-linux-gnu/libz.so.1'].find((p) => existsSync(p));
    if (hostLib === undefined) throw new Error('no host library to try');
    const v = validateFiles('nginx', [{ path: 'nginx.conf', content: minimalNginx(`load_module "${hostLib}";`) }]);
    expect(v.ok).toBe(false);
    expect(v.output).toContain('No such file or directory');
    // The proxy's own dynamic modules are there (SNI routing loads the stream module).
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: minimalNginx('load_module "/usr/lib/nginx/modules/ngx_stream_module.so";') }])).toEqual({ ok: true, output: '' });
  });

  it('refuses files outside the config directory and a set without the main file', () => {
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: minimalNginx() }, { path: '../passwd', content: 'x' }])).toEqual({ ok: false, output: 'refusing to write outside the config directory: "../passwd"' });
    expect(validateFiles('haproxy', [{ path: 'nginx.conf', content: minimalNginx() }])).toEqual({ ok: false, output: 'the configuration has no haproxy.cfg' });
  });

  it('builds HAProxy\'s combined PEMs from the mounted secrets, as the agent does, and names a missing one', () => {
    const cfg = 'defaults\n    mode http\n    timeout client 5s\n    timeout server 5s\n    timeout connect 5s\nfrontend f\n    bind :443 ssl crt "/run/swarmgate/haproxy/certs/a-cert+a-key.pem"\n    http-request return status 204\n';
    expect(validateFiles('haproxy', [{ path: 'haproxy.cfg', content: cfg }], { secrets: ['a-cert', 'a-key'] })).toEqual({ ok: true, output: '' });
    expect(validateFiles('haproxy', [{ path: 'haproxy.cfg', content: cfg }], { secrets: ['a-cert'] })).toEqual({
      ok: false,
      output: 'secret "a-key" is not mounted at /run/secrets/a-key; the proxy service must mount it (the core updates the service)',
    });
    const v = validateFiles('haproxy', [{ path: 'haproxy.cfg', content: `${cfg}    bogus_keyword\n` }], { secrets: ['a-cert', 'a-key'] });
    expect(v.ok).toBe(false);
    expect(v.output).toContain("[ALERT] config : parsing [/etc/haproxy/haproxy.cfg:9] : unknown keyword 'bogus_keyword'");
  });

  it('checks an HAProxy config with dynamic endpoints (ADR 0031) against a stand-in server-state file: no warning', () => {
    const cfg = readFileSync('test/golden/85-haproxy-dynamic-endpoints/expected/haproxy/edge.haproxy.cfg', 'utf8');
    expect(cfg).toContain('server-state-file "/run/swarmgate/haproxy/server-state"');
    expect(validateFiles('haproxy', [{ path: 'haproxy.cfg', content: cfg }])).toEqual({ ok: true, output: '' });
  });

  it('passes, marked skipped, where the proxy binary is not installed', () => {
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: 'x' }], { bin: '/nonexistent/nginx' })).toEqual({ ok: true, output: '', skipped: 'nginx not installed here; the proxy validates on start' });
  });

  it('leaves nothing of a check in the private root: no config, no throw-away secret', () => {
    const tls = minimalNginx('', '    server { listen 443 ssl; ssl_certificate "/run/secrets/left-cert"; ssl_certificate_key "/run/secrets/left-cert"; return 204; }');
    expect(validateFiles('nginx', [{ path: 'nginx.conf', content: tls }], { secrets: ['left-cert'] }).ok).toBe(true);
    const roots = readdirSync(tmpdir()).filter((f) => f.startsWith(`sg-root-${process.pid}-nginx-`));
    expect(roots).toHaveLength(1);
    const root = join(tmpdir(), roots[0] ?? '');
    expect(existsSync(join(root, 'usr/sbin/nginx'))).toBe(true);
    expect(existsSync(join(root, 'etc/nginx/nginx.conf'))).toBe(false);
    expect(readdirSync(join(root, 'run/secrets'))).toEqual([]);
  });

  it('resolves a proxy binary on PATH', () => {
    expect(resolveBinary('nginx')).toMatch(/^\/.*\/nginx$/);
    expect(resolveBinary('no-such-proxy-binary')).toBeUndefined();
  });
});

describe('ValidationCache', () => {
  it('checks each distinct set of files and secrets once', () => {
    const calls: string[] = [];
    const cache = new ValidationCache((kind, files): Validation => {
      calls.push(`${kind}:${String(files[0]?.content)}`);
      return { ok: false, output: 'no' };
    }, 2);
    expect(cache.check('nginx', [{ path: 'nginx.conf', content: 'a' }], [])).toEqual({ validation: { ok: false, output: 'no' }, fresh: true });
    expect(cache.check('nginx', [{ path: 'nginx.conf', content: Buffer.from('a') }], []).fresh).toBe(false);
    expect(cache.check('nginx', [{ path: 'nginx.conf', content: 'a' }], ['s']).fresh).toBe(true);
    expect(cache.check('haproxy', [{ path: 'nginx.conf', content: 'a' }], []).fresh).toBe(true);
    expect(calls).toEqual(['nginx:a', 'nginx:a', 'haproxy:a']);
  });

  it('does not check again when only the dynamic endpoints file changed (a task change)', () => {
    const seen: string[][] = [];
    const cache = new ValidationCache((_kind, files): Validation => (seen.push(files.map((f) => f.path)), { ok: true, output: '' }));
    expect(cache.check('nginx', [{ path: 'nginx.conf', content: 'a' }, { path: 'endpoints.txt', content: 'u_a 1 1 - 10.0.0.1:80' }], []).fresh).toBe(true);
    expect(cache.check('nginx', [{ path: 'nginx.conf', content: 'a' }, { path: 'endpoints.txt', content: 'u_a 1 1 - 10.0.0.2:80' }], []).fresh).toBe(false);
    expect(cache.check('nginx', [{ path: 'nginx.conf', content: 'b' }, { path: 'endpoints.txt', content: 'u_a 1 1 - 10.0.0.2:80' }], []).fresh).toBe(true);
    expect(seen).toEqual([['nginx.conf'], ['nginx.conf']]);
  });

  it('keys on path and bytes, not on their concatenation', () => {
    expect(checkKey('nginx', [{ path: 'a', content: 'bc' }], [])).not.toBe(checkKey('nginx', [{ path: 'ab', content: 'c' }], []));
  });
});

describe('nginxProblems', () => {
  it('drops the timestamp and process ID, so the same config gives the same message', () => {
    expect(nginxProblems('2026/12/06 13:19:36 [emerg] 11060#11060: dlopen() failed in /etc/nginx/nginx.conf:1\nnginx: configuration file /etc/nginx/nginx.conf test failed\n')).toBe(
      'nginx: [emerg] dlopen() failed in /etc/nginx/nginx.conf:1\nnginx: configuration file /etc/nginx/nginx.conf test failed',
    );
  });
});
