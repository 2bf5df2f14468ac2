import { describe, expect, it } from 'vitest';
import { buildModel } from '../../plan/build-model';
import type { ProxyModel } from '../../plan/model';
import { cluster, desired, route, snapshot, task } from '../../../test/helpers/specs';
import { crtListOfConfig } from './crt-list';
import { haproxyPemFiles, renderHaproxy } from './render';

const SERVICES = ['a', 'b', 'c'];
const SNAPSHOT = snapshot({
  services: SERVICES.map((name) => ({ name, networks: ['app'] })),
  tasks: SERVICES.flatMap((s, i) => [task(s, `10.0.${i}.1`), task(s, `10.0.${i}.2`)]),
  networks: [{ name: 'app' }],
  secrets: ['c1', 'k1', 'c2', 'k2'].map((name) => ({ name })),
});

function model(routes: Record<string, Record<string, unknown>>, clusterSpec?: Record<string, unknown>): ProxyModel {
  const rs = Object.entries(routes).map(([name, spec]) => route(name, { ...(clusterSpec !== undefined ? { serviceCluster: 'edge' } : {}), ...spec }));
  const cs = clusterSpec !== undefined ? [cluster('edge', clusterSpec)] : [];
  const m = buildModel(desired(rs, cs), SNAPSHOT).clusters.find((c) => c.cluster === (clusterSpec !== undefined ? 'edge' : 'default'));
  if (m === undefined) throw new Error('no cluster');
  return m;
}

const lines = (config: string): string[] => config.split('\n').map((l) => l.trim());

describe('weights', () => {
  it('compares one random number with cumulative declared shares, the last target taking the rest', () => {
    const config = renderHaproxy(model({ w: { hosts: ['w.test'], rules: [{ backends: [{ service: 'a', port: 80, weight: 1 }, { service: 'b', port: 80, weight: 1 }, { service: 'c', port: 80, weight: 1 }] }] } }));
    const l = lines(config);
    expect(l).toContain('http-request set-var(txn.sg_pick) rand(10000)');
    expect(l).toContain('acl pick_3333 var(txn.sg_pick) -m int lt 3333');
    expect(l).toContain('acl pick_6666 var(txn.sg_pick) -m int lt 6666');
    const use = l.filter((x) => x.startsWith('use_backend'));
    expect(use).toHaveLength(3);
    expect(use[0]).toMatch(/ pick_3333$/);
    expect(use[1]).toMatch(/ pick_6666$/);
    expect(use[2]).toMatch(/ rule_w-r0$/);
  });

  it('hashes the client address for clientIP affinity and balances by source inside each backend', () => {
    const config = renderHaproxy(model({ s: { hosts: ['s.test'], rules: [{ sessionAffinity: { clientIP: true }, backends: [{ service: 'a', port: 80, weight: 3 }, { service: 'b', port: 80, weight: 1 }] }] } }));
    const l = lines(config);
    expect(l).toContain('http-request set-var(txn.sg_pick_ip) src,crc32,mod(10000)');
    expect(l).toContain('acl pickip_7500 var(txn.sg_pick_ip) -m int lt 7500');
    expect(l.filter((x) => x === 'balance source')).toHaveLength(2);
    expect(l).not.toContain('http-request set-var(txn.sg_pick) rand(10000)');
  });

  it('hashes an application-issued cookie instead of inserting one', () => {
    const config = renderHaproxy(model({ s: { hosts: ['s.test'], rules: [{ sessionAffinity: { cookie: { name: 'sid', issuedBy: 'Application' } }, backends: [{ service: 'a', port: 80 }, { service: 'b', port: 80 }] }] } }));
    const l = lines(config);
    expect(l).toContain('http-request set-var(txn.sg_pick_ck_sid) req.cook(sid),crc32,mod(10000) if { req.cook(sid) -m found }');
    expect(l.filter((x) => x === 'balance hash req.cook(sid)')).toHaveLength(2);
    expect(config).not.toMatch(/^\s*cookie /m);
  });

  it('inserts a proxy cookie naming the server and routes a returning client by its backend tag', () => {
    const config = renderHaproxy(model({ s: { hosts: ['s.test'], rules: [{ sessionAffinity: { cookie: { name: 'pin', ttl: '90m' } }, backends: [{ service: 'a', port: 80 }, { service: 'b', port: 80 }] }] } }));
    const l = lines(config);
    expect(l.filter((x) => x.startsWith('cookie pin insert indirect nocache httponly') && x.endsWith('attr "Max-Age=5400"'))).toHaveLength(2);
    const tags = l.filter((x) => x.startsWith('acl ck_')).map((x) => /-m beg -- ([0-9a-f]{8})\.$/.exec(x)?.[1]);
    expect(tags).toHaveLength(2);
    for (const tag of tags) expect(l.filter((x) => x.startsWith('server ') && x.includes(` cookie ${tag ?? '?'}.`))).toHaveLength(2);
  });
});

describe('header edits and matches', () => {
  it('removes a header set to "" and adds nothing for an empty add (HAProxy drops empty arguments; NGINX sends no empty header)', () => {
    const config = renderHaproxy(
      model({
        e: {
          hosts: ['e.test'],
          rules: [
            {
              backends: [{ service: 'a', port: 80 }],
              requestHeaders: { set: [{ name: 'X-Set', value: '' }], add: [{ name: 'X-Add', value: '' }] },
              responseHeaders: { set: [{ name: 'X-RSet', value: '' }], add: [{ name: 'X-RAdd', value: '' }] },
            },
          ],
        },
      }),
    );
    const l = lines(config);
    expect(l).toContain('http-request del-header "X-Set"');
    expect(l).toContain('http-after-response del-header "X-RSet" if rule_e-r0');
    expect(config).not.toMatch(/X-Add|X-RAdd|""/);
  });

  it('lets an empty header match also match an absent header, as NGINX does', () => {
    const config = renderHaproxy(model({ m: { hosts: ['m.test'], rules: [{ match: { headers: [{ name: 'X-Flag', value: '' }] }, backends: [{ service: 'a', port: 80 }] }] } }));
    const acl = lines(config).filter((x) => x.startsWith('acl hdr_'));
    expect(acl.map((x) => x.replace(/hdr_[0-9a-f]+/, 'hdr'))).toEqual(['acl hdr req.fhdr(X-Flag,1) -m len 0', 'acl hdr req.fhdr_cnt(X-Flag) eq 0']);
  });

  it('leaves a standard header to the user when the user edits it', () => {
    const config = renderHaproxy(model({ h: { hosts: ['h.test'], rules: [{ backends: [{ service: 'a', port: 80 }], requestHeaders: { remove: ['x-forwarded-for'], set: [{ name: 'X-Real-IP', value: '1.2.3.4' }] } }] } }));
    const l = lines(config);
    expect(l).not.toContain('http-request add-header "X-Forwarded-For" "%[src]"');
    expect(l).toContain('http-request del-header "x-forwarded-for"');
    expect(l.filter((x) => x.includes('"X-Real-IP"'))).toEqual(['http-request set-header "X-Real-IP" "1.2.3.4"']);
  });
});

describe('retries, timeouts and health', () => {
  it('maps retry conditions to retry-on, counts retries without the first try, and lets non_idempotent resend POST', () => {
    const config = renderHaproxy(
      model({ r: { hosts: ['r.test'], rules: [{ retries: { attempts: 3, on: ['error', 'invalid_header', 'http_502', 'http_404', 'non_idempotent'] }, backends: [{ service: 'a', port: 80 }] }] } }),
    );
    const l = lines(config);
    expect(l).toContain('retries 2');
    expect(l).toContain('retry-on conn-failure empty-response junk-response 404 502');
    expect(l).not.toContain('http-request disable-l7-retry if { method POST LOCK PATCH }');
  });

  it('keeps the defaults in the defaults section and repeats only what a rule changes', () => {
    const config = renderHaproxy(
      model({ t: { hosts: ['t.test'], rules: [{ match: { pathPrefix: '/slow' }, websocket: true, timeouts: { connect: '2s', read: '1h30m', send: '1h30m' }, backends: [{ service: 'a', port: 80 }] }, { backends: [{ service: 'b', port: 80 }] }] } }),
    );
    const slow = config.slice(config.indexOf('\nbackend be.t-r0.') + 1);
    expect(slow.slice(0, slow.indexOf('\n\n'))).toMatch(/timeout connect 2s\n\s+timeout server 90m\n\s+timeout tunnel 90m\n/);
    const plain = config.slice(config.indexOf('\nbackend be.t-r1.') + 1);
    expect(plain.slice(0, plain.indexOf('\n\n'))).not.toMatch(/timeout/);
    expect(lines(config)).toContain('timeout server 60s');
  });

  it('checks servers only when passive health is on (max_fails > 0)', () => {
    const m = model({ p: { hosts: ['p.test'], rules: [{ backends: [{ service: 'a', port: 80 }] }] } });
    const off: ProxyModel = { ...m, upstreams: m.upstreams.map((u) => ({ ...u, servers: u.servers.map((s) => ({ ...s, maxFails: 0 })) })) };
    expect(renderHaproxy(m)).toMatch(/server s_10_0_0_1_80 10\.0\.0\.1:80 check inter 1h fastinter 1s downinter 1s rise 1 fall 1 observe layer4 error-limit 1 on-error mark-down/);
    expect(renderHaproxy(off)).toMatch(/server s_10_0_0_1_80 10\.0\.0\.1:80\n/);
  });
});

describe('TLS and options', () => {
  const tlsRoutes = {
    one: { hosts: ['one.test', '*.one.test'], tls: { mode: 'Terminate', certificate: { certSecret: 'c1', keySecret: 'k1' } }, rules: [{ backends: [{ service: 'a', port: 80 }] }] },
    two: { hosts: ['two.test'], defaultBackend: true, tls: { mode: 'Terminate', certificate: { certSecret: 'c2', keySecret: 'k2' } }, rules: [{ backends: [{ service: 'b', port: 80 }] }] },
  };

  it('lists one combined PEM per certificate/key pair, under the chosen directory', () => {
    expect(haproxyPemFiles(model(tlsRoutes))).toEqual([
      { path: '/run/swarmgate/haproxy/certs/c1+k1.pem', certSecret: 'c1', keySecret: 'k1' },
      { path: '/run/swarmgate/haproxy/certs/c2+k2.pem', certSecret: 'c2', keySecret: 'k2' },
    ]);
    expect(haproxyPemFiles(model(tlsRoutes), { certDir: '/tmp/x/' }).map((p) => p.path)).toEqual(['/tmp/x/c1+k1.pem', '/tmp/x/c2+k2.pem']);
  });

  it('sends unknown server names to the default server certificate instead of refusing them: the first line of the crt-list', () => {
    const config = renderHaproxy(model(tlsRoutes), { runtimeDir: '/tmp/rt/', certDir: '/tmp/certs' });
    const l = lines(config);
    expect(l).toContain('default_backend sg_tls_1');
    expect(l).not.toContain('backend sg_tls_reject');
    expect(l).toContain('bind "unix@/tmp/rt/tls-1.sock" accept-proxy ssl crt-list "/tmp/certs/hosts.crt-list" alpn h2,http/1.1');
    expect(l.filter((x) => x.startsWith('bind "unix@'))).toHaveLength(1);
    expect(l).toContain('http-request set-var(txn.sg_vh) int(0) if !sg_vh_set');
    expect(crtListOfConfig(config, '/tmp/certs')).toEqual({ path: '/tmp/certs/hosts.crt-list', content: '/tmp/certs/c2+k2.pem two.test\n/tmp/certs/c1+k1.pem *.one.test one.test\n' });
  });

  it('renders one listener per certificate with crtList: false (the layout before ADR 0032)', () => {
    const l = lines(renderHaproxy(model(tlsRoutes), { runtimeDir: '/tmp/rt/', certDir: '/tmp/certs', crtList: false }));
    expect(l).toContain('bind "unix@/tmp/rt/tls-1.sock" accept-proxy ssl crt "/tmp/certs/c1+k1.pem" alpn h2,http/1.1');
    expect(l).toContain('default_backend sg_tls_2');
    expect(l.join('\n')).not.toContain('crt-list');
  });

  it('binds the configured address and ports', () => {
    const l = lines(renderHaproxy(model(tlsRoutes), { bindAddress: '127.0.0.1', httpPort: 8080, httpsPort: 8443, statusPort: 9000 }));
    expect(l).toContain('bind 127.0.0.1:8080');
    expect(l).toContain('bind 127.0.0.1:8443');
    expect(l).toContain('bind 127.0.0.1:9000');
  });

  it('takes threads, access log and body size from the cluster defaults', () => {
    const config = renderHaproxy(model({ d: { hosts: ['d.test'], rules: [{ backends: [{ service: 'a', port: 80 }] }] } }, { defaults: { workerProcesses: 4, accessLog: 'off', clientMaxBodySize: '0' } }));
    expect(config).toMatch(/\n {4}nbthread 4\n/);
    // Hitless (the default): only the agent's counter line, no access log, nothing logged for TCP.
    expect(config).toContain('log-format "sgm %b %ST %Ta ms"\n');
    expect(config).not.toMatch(/tcplog|\|%ci/);
    expect(config).not.toMatch(/deny_status 413/);
    const rolling = renderHaproxy(model({ d: { hosts: ['d.test'], rules: [{ backends: [{ service: 'a', port: 80 }] }] } }, { proxy: { delivery: 'rolling' }, defaults: { accessLog: 'off' } }));
    expect(rolling).not.toMatch(/log global|log-format|tcplog/);
  });
});
