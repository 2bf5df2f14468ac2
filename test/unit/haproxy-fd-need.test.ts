/**
 * The agent's file-descriptor check for HAProxy (src/agent/haproxy-fd-need.ts): the lower bound of
 * what HAProxy 2.6 asks for (2 × maxconn + listeners + health-checked servers), read from rendered
 * configs, and the reading of /proc/<pid>/limits and of the master CLI's `show proc`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkHaproxyFds, haproxyFdNeed, nofileHardLimit } from '../../src/agent/haproxy-fd-need';
import { parseMasterReloads } from '../../src/agent/haproxy-master-cli';

const golden = (name: string): string => readFileSync(join(__dirname, '..', 'golden', name), 'utf8');

describe('haproxyFdNeed', () => {
  it('counts 2 × maxconn, every bind and every server health-checked by its line or its backend default-server', () => {
    const config = [
      'global',
      '    maxconn 1000',
      'defaults',
      '    mode http',
      'frontend a',
      '    bind :80',
      '    bind :443 ssl crt-list /x',
      'backend checked-by-default',
      '    default-server check inter 1h',
      '    server s1 10.0.0.1:80',
      '    server s2 10.0.0.2:80',
      'backend checked-by-line',
      '    server s1 10.0.0.3:80 check',
      '    server s2 10.0.0.4:80 no-check',
      '    server s3 10.0.0.5:80 # check in a comment',
      'listen l',
      '    bind :9000',
      '    server s1 10.0.0.6:80',
      '',
    ].join('\n');
    expect(haproxyFdNeed(config)).toEqual({ maxconn: 1000, listeners: 3, checkedServers: 3, atLeast: 2006 });
  });

  it("counts a Dynamic golden's 8 checked slots per backend", () => {
    const config = golden('85-haproxy-dynamic-endpoints/expected/haproxy/edge.haproxy.cfg');
    const need = haproxyFdNeed(config);
    const backends = (config.match(/^backend /gm) ?? []).length;
    const slotLines = (config.match(/^\s+server s\d+ sg-slot\.invalid:1/gm) ?? []).length;
    expect(backends).toBeGreaterThan(0);
    expect(slotLines).toBe(8 * backends);
    expect(need.maxconn).toBe(8192);
    expect(need.checkedServers).toBeGreaterThanOrEqual(slotLines);
    expect(need.atLeast).toBe(2 * 8192 + need.listeners + need.checkedServers);
  });

  it('has no bound when the config sets no maxconn (HAProxy sizes it to the limit)', () => {
    const need = haproxyFdNeed('global\nfrontend f\n    bind :80\n');
    expect(need.maxconn).toBeUndefined();
    expect(checkHaproxyFds('global\nfrontend f\n    bind :80\n', 10).ok).toBe(true);
  });
});

describe('checkHaproxyFds', () => {
  const config = 'global\n    maxconn 8192\nfrontend f\n    bind :80\nbackend b\n    default-server check\n' + Array.from({ length: 100 }, (_, i) => `    server s${i} 10.0.0.1:80\n`).join('');

  it('refuses a config needing more than the hard limit, saying what to change, and passes one under it', () => {
    const need = 2 * 8192 + 1 + 100;
    const refused = checkHaproxyFds(config, need - 1);
    expect(refused.ok).toBe(false);
    expect(refused.output).toContain(`at least ${need} file descriptors`);
    expect(refused.output).toContain(`may open ${need - 1}`);
    expect(refused.output).toContain('proxy.endpoints: Static');
    expect(checkHaproxyFds(config, need).ok).toBe(true);
    expect(checkHaproxyFds(config, undefined).ok).toBe(true);
  });
});

describe('nofileHardLimit', () => {
  const limits = (soft: string, hard: string): string =>
    ['Limit                     Soft Limit           Hard Limit           Units     ', `Max processes             unlimited            unlimited            processes `, `Max open files            ${soft.padEnd(20)} ${hard.padEnd(20)} files     `, ''].join('\n');
  it('reads the hard limit of "Max open files", not the soft one nor another line', () => {
    expect(nofileHardLimit(limits('1024', '20000'))).toBe(20000);
    expect(nofileHardLimit(limits('1024', 'unlimited'))).toBeUndefined();
    expect(nofileHardLimit('')).toBeUndefined();
  });
  it("reads this process's own limits file", () => {
    const own = nofileHardLimit(readFileSync('/proc/self/limits', 'utf8'));
    expect(own === undefined || own > 0).toBe(true);
    expect(readFileSync('/proc/self/limits', 'utf8')).toMatch(/Max open files/);
  });
});

describe('parseMasterReloads', () => {
  it("reads the master's reloads and failed count from show proc, not a worker's line", () => {
    const text = [
      '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
      '8103            master          1 [failed: 1]   0d00h00m06s     2.6.12-1+deb12u4',
      '# workers',
      '8108            worker          1               0d00h00m06s     2.6.12-1+deb12u4',
      '# programs',
      '',
    ].join('\n');
    expect(parseMasterReloads(text)).toEqual({ reloads: 1, failed: 1 });
    expect(parseMasterReloads('8108            worker          1               0d00h00m06s')).toBeUndefined();
  });
});
