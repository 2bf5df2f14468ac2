/**
 * Interlock com.docker.lb.* labels → Routes: every label with good and bad values (exact messages),
 * per-service isolation, pooling of services sharing hosts, names, and the merge into the model
 * (a Route spec always wins; label routes get conditions of their own).
 */
import { describe, expect, it } from 'vitest';
import { labelRouteName, translateServiceLabels, withLabelRoutes, type LabelTranslation } from '../../src/plan/sources/interlock';
import { formatPath } from '../../src/domain/issue';
import { buildModel } from '../../src/plan/build-model';
import type { DesiredState } from '../../src/plan/inputs';
import { renderNginx } from '../../src/render/nginx/render';
import { desired, route, snapshot, task } from '../helpers/specs';

const LB = 'com.docker.lb.';

/** Labels with the `com.docker.lb.` prefix added to every key. */
function lb(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [`${LB}${k}`, v]));
}

function translate(labels: Record<string, string>, name = 'web'): LabelTranslation {
  return translateServiceLabels(snapshot({ services: [{ name, networks: ['app'], labels: lb(labels) }] }).services);
}

/** The spec document of the one route the labels give (fails if they are rejected). */
function spec(labels: Record<string, string>): Record<string, unknown> {
  const t = translate(labels);
  expect(t.rejects.map((r) => r.issues.map((i) => `${formatPath(i.path)}: ${i.message}`))).toEqual([]);
  expect(t.routes).toHaveLength(1);
  return (t.routes[0]?.document as { spec: Record<string, unknown> }).spec;
}

/** `labels["com.docker.lb.port"]: expected …` lines and the reason of the rejected service. */
function rejected(labels: Record<string, string>): { reason: string; issues: string[] } {
  const t = translate(labels);
  expect(t.routes).toEqual([]);
  const [r] = t.rejects;
  if (r === undefined) throw new Error('not rejected');
  return { reason: r.reason, issues: r.issues.map((i) => `${formatPath(i.path)}: ${i.message}`) };
}

const BASE = { hosts: 'web.example.com', port: '8080' };
const BACKEND = { service: 'web', port: 8080 };

describe('com.docker.lb.hosts and port', () => {
  it('translates the minimal label set into one Route named after the service, with the service as source', () => {
    const t = translate(BASE);
    expect(t.rejects).toEqual([]);
    expect(t.routes.map((r) => r.document)).toEqual([
      {
        apiVersion: 'swarmgate.io/v1',
        kind: 'Route',
        metadata: { name: 'svc-web', annotations: { 'swarmgate.io/source': 'service/web' } },
        spec: { hosts: ['web.example.com'], rules: [{ backends: [BACKEND] }] },
      },
    ]);
    expect(t.routes[0]?.services).toEqual(['web']);
    expect(t.routes[0]?.object.spec.rules[0]?.backends).toEqual([{ service: 'web', port: 8080, weight: 1, mode: 'task' }]);
  });

  it('reads a comma list with blanks and a trailing comma, wildcards included', () => {
    expect(spec({ ...BASE, hosts: ' a.example.com, *.b.example.com ,' }).hosts).toEqual(['a.example.com', '*.b.example.com']);
  });

  it.each([
    ['Bad_Host', 'labels["com.docker.lb.hosts"][0]: expected hostname (RFC 1123, optional leading "*."), got "Bad_Host": character "B" is not allowed (use lowercase)'],
    ['a.example.com,a;b', 'labels["com.docker.lb.hosts"][1]: expected hostname (RFC 1123, optional leading "*."), got "a;b": character ";" is not allowed'],
    ['a.example.com,a.example.com', 'labels["com.docker.lb.hosts"][1]: duplicate "a.example.com" (already item 0)'],
    [' , ', 'labels["com.docker.lb.hosts"]: expected a comma-separated list, got " , "'],
  ])('rejects hosts %j', (hosts, message) => {
    expect(rejected({ ...BASE, hosts })).toEqual({ reason: 'Invalid', issues: [message] });
  });

  it('requires hosts (unless default_backend) and port', () => {
    expect(rejected({ network: 'app' }).issues).toEqual([
      'labels["com.docker.lb.hosts"]: required label missing (expected comma-separated host names such as "example.com,www.example.com")',
      'labels["com.docker.lb.port"]: required label missing (expected the container port to send traffic to, 1..65535)',
    ]);
  });

  it.each(['80a', '0', '70000', ' 80', '-1'])('rejects port %j', (port) => {
    expect(rejected({ ...BASE, port }).issues).toEqual([`labels["com.docker.lb.port"]: expected port 1..65535, got ${JSON.stringify(port)}`]);
  });
});

describe('backend labels: network, backend_mode, max_fails, fail_timeout', () => {
  it('network and backend_mode go to the backend', () => {
    expect(spec({ ...BASE, network: 'front_net', backend_mode: 'vip' }).rules).toEqual([{ backends: [{ ...BACKEND, mode: 'vip', network: 'front_net' }] }]);
    expect(spec({ ...BASE, backend_mode: 'task' }).rules).toEqual([{ backends: [BACKEND] }]);
  });

  it('rejects a bad network name and an unknown mode', () => {
    expect(rejected({ ...BASE, network: 'bad net', backend_mode: 'VIP' }).issues).toEqual([
      'labels["com.docker.lb.network"]: expected Swarm object name (letters, digits, "_", ".", "-"), got "bad net": character " " is not allowed',
      'labels["com.docker.lb.backend_mode"]: expected one of task, vip, got "VIP" (did you mean "vip"?)',
    ]);
  });

  it('max_fails and fail_timeout become the backend passive health check; a bare number is seconds', () => {
    expect(spec({ ...BASE, max_fails: '3', fail_timeout: '10' }).rules).toEqual([{ backends: [{ ...BACKEND, passiveHealthCheck: { maxFails: 3, failTimeout: '10s' } }] }]);
    expect(spec({ ...BASE, fail_timeout: '1m30s' }).rules).toEqual([{ backends: [{ ...BACKEND, passiveHealthCheck: { failTimeout: '1m30s' } }] }]);
    expect(spec({ ...BASE, max_fails: '0' }).rules).toEqual([{ backends: [{ ...BACKEND, passiveHealthCheck: { maxFails: 0 } }] }]);
  });

  it('rejects max_fails outside 0..100 and a fail_timeout that is no duration', () => {
    expect(rejected({ ...BASE, max_fails: '101', fail_timeout: '10 s' }).issues).toEqual([
      'labels["com.docker.lb.max_fails"]: expected integer 0..100, got "101"',
      'labels["com.docker.lb.fail_timeout"]: expected duration like 500ms, 30s, 5m, 1h30m, got "10 s": use digits followed by a unit (ms, s, m, h, d)',
    ]);
    expect(rejected({ ...BASE, max_fails: 'three' }).issues).toEqual(['labels["com.docker.lb.max_fails"]: expected integer 0..100, got "three"']);
  });
});

describe('paths: context_root, context_root_rewrite, websocket_endpoints', () => {
  it('context_root is the rule prefix (trailing "/" ignored); rewrite strips it', () => {
    expect(spec({ ...BASE, context_root: '/app/' }).rules).toEqual([{ match: { pathPrefix: '/app' }, backends: [BACKEND] }]);
    expect(spec({ ...BASE, context_root: '/app', context_root_rewrite: 'true' }).rules).toEqual([{ match: { pathPrefix: '/app' }, backends: [BACKEND], rewrite: { stripPrefix: true } }]);
    expect(spec({ ...BASE, context_root: '/app', context_root_rewrite: 'False' }).rules).toEqual([{ match: { pathPrefix: '/app' }, backends: [BACKEND] }]);
  });

  it('rejects a context root without "/" and a rewrite that is no boolean or has no context root', () => {
    expect(rejected({ ...BASE, context_root: 'app', context_root_rewrite: 'yes' }).issues).toEqual([
      'labels["com.docker.lb.context_root"]: expected URL path to match, got "app": must start with "/"',
      'labels["com.docker.lb.context_root_rewrite"]: expected true or false, got "yes"',
    ]);
    expect(rejected({ ...BASE, context_root_rewrite: '1' }).issues).toEqual([
      'labels["com.docker.lb.context_root_rewrite"]: needs com.docker.lb.context_root (there is no prefix to strip)',
    ]);
  });

  it('each websocket endpoint gets its own rule (without the rewrite); the main path becomes a websocket rule itself', () => {
    expect(spec({ ...BASE, context_root: '/app', context_root_rewrite: 'true', websocket_endpoints: '/app/ws, /live' }).rules).toEqual([
      { match: { pathPrefix: '/app' }, backends: [BACKEND], rewrite: { stripPrefix: true } },
      { match: { pathPrefix: '/app/ws' }, backends: [BACKEND], websocket: true },
      { match: { pathPrefix: '/live' }, backends: [BACKEND], websocket: true },
    ]);
    expect(spec({ ...BASE, websocket_endpoints: '/' }).rules).toEqual([{ backends: [BACKEND], websocket: true }]);
  });

  it('rejects a websocket endpoint that is no path, and a duplicate', () => {
    expect(rejected({ ...BASE, websocket_endpoints: 'ws,/a,/a' }).issues).toEqual([
      'labels["com.docker.lb.websocket_endpoints"][0]: expected URL path to match, got "ws": must start with "/"',
      'labels["com.docker.lb.websocket_endpoints"][2]: duplicate "/a" (already item 1)',
    ]);
  });
});

describe('TLS: ssl_cert, ssl_key, ssl_only, ssl_passthrough, ssl_backend, ssl_backend_tls_verify', () => {
  it('ssl_cert and ssl_key terminate TLS with those Docker secrets; ssl_only redirects HTTP', () => {
    expect(spec({ ...BASE, ssl_cert: 'web.crt', ssl_key: 'web.key' }).tls).toEqual({ mode: 'Terminate', certificate: { certSecret: 'web.crt', keySecret: 'web.key' } });
    expect(spec({ ...BASE, ssl_cert: 'web.crt', ssl_key: 'web.key', ssl_only: 'true' }).tls).toEqual({
      mode: 'Terminate',
      certificate: { certSecret: 'web.crt', keySecret: 'web.key' },
      redirectHTTP: true,
    });
  });

  it('rejects a certificate without key, a bad secret name, and ssl_only without a certificate', () => {
    expect(rejected({ ...BASE, ssl_cert: 'web.crt' }).issues).toEqual([
      'labels["com.docker.lb.ssl_cert"]: needs com.docker.lb.ssl_key too (the certificate and its key, as Docker secret names)',
    ]);
    expect(rejected({ ...BASE, ssl_cert: 'web.crt', ssl_key: '-key' }).issues).toEqual([
      'labels["com.docker.lb.ssl_key"]: expected Swarm object name (letters, digits, "_", ".", "-"), got "-key": must start with a letter or digit',
    ]);
    expect(rejected({ ...BASE, ssl_only: 'true' }).issues).toEqual([
      'labels["com.docker.lb.ssl_only"]: needs com.docker.lb.ssl_cert and com.docker.lb.ssl_key (there is no HTTPS to redirect to)',
    ]);
  });

  it('ssl_passthrough routes by SNI; labels that need HTTP are refused with it', () => {
    expect(spec({ ...BASE, ssl_passthrough: 'true', ip_hash: 'true' })).toEqual({
      hosts: ['web.example.com'],
      rules: [{ backends: [BACKEND], sessionAffinity: { clientIP: true } }],
      tls: { mode: 'Passthrough' },
    });
    const why = 'not with com.docker.lb.ssl_passthrough=true (the proxy routes the encrypted connection by SNI and never sees HTTP)';
    expect(rejected({ ...BASE, ssl_passthrough: 'true', ssl_cert: 'c', ssl_key: 'k', context_root: '/x' }).issues).toEqual([
      `labels["com.docker.lb.ssl_cert"]: ${why}`,
      `labels["com.docker.lb.ssl_key"]: ${why}`,
      `labels["com.docker.lb.context_root"]: ${why}`,
    ]);
    expect(rejected({ ...BASE, ssl_passthrough: 'on' }).issues).toEqual(['labels["com.docker.lb.ssl_passthrough"]: expected true or false, got "on"']);
  });

  it('ssl_backend=true sends https to the service, unverified as Interlock\'s default (none); false changes nothing', () => {
    const https = { ...BACKEND, protocol: 'https' };
    expect(spec({ ...BASE, ssl_backend: 'true' })).toEqual({ hosts: ['web.example.com'], rules: [{ backends: [https] }] });
    expect(spec({ ...BASE, ssl_backend: 'true', ssl_backend_tls_verify: 'none' })).toEqual({ hosts: ['web.example.com'], rules: [{ backends: [https] }] });
    expect(spec({ ...BASE, ssl_backend: 'false' })).toEqual({ hosts: ['web.example.com'], rules: [{ backends: [BACKEND] }] });
  });

  it('ssl_backend_tls_verify=required is UnsupportedValue (no label names the CA) and other values Invalid', () => {
    expect(rejected({ ...BASE, ssl_backend: 'true', ssl_backend_tls_verify: 'required' })).toEqual({
      reason: 'UnsupportedValue',
      issues: ['labels["com.docker.lb.ssl_backend_tls_verify"]: verification needs a CA bundle, which no Interlock label names: write a Route whose backend has tls.caSecret and tls.serverName (swarmgate import-labels prints one to start from)'],
    });
    expect(rejected({ ...BASE, ssl_backend: 'true', ssl_backend_tls_verify: 'strict' })).toEqual({
      reason: 'Invalid',
      issues: ['labels["com.docker.lb.ssl_backend_tls_verify"]: expected none or required, got "strict"'],
    });
  });

  it('ssl_backend_tls_verify without ssl_backend=true is Invalid; a mix of invalid and unsupported is Invalid', () => {
    expect(rejected({ ...BASE, ssl_backend_tls_verify: 'none' })).toEqual({
      reason: 'Invalid',
      issues: ['labels["com.docker.lb.ssl_backend_tls_verify"]: only with com.docker.lb.ssl_backend=true, got "none"'],
    });
    expect(rejected({ ...BASE, port: 'x', ssl_backend: 'true' }).reason).toBe('Invalid');
  });
});

describe('service_cluster, sticky_session_cookie, ip_hash, default_backend', () => {
  it('service_cluster picks the cluster', () => {
    expect(spec({ ...BASE, service_cluster: 'us-east' }).serviceCluster).toBe('us-east');
    expect(rejected({ ...BASE, service_cluster: 'US_East' }).issues).toEqual([
      'labels["com.docker.lb.service_cluster"]: expected DNS-1123 label (lowercase letters, digits, "-", at most 63), got "US_East": character "U" is not allowed (use lowercase)',
    ]);
  });

  it('sticky_session_cookie hashes on the application\'s cookie (the proxy never sets it); ip_hash on the client address', () => {
    expect(spec({ ...BASE, sticky_session_cookie: 'JSESSIONID' }).rules).toEqual([
      { backends: [BACKEND], sessionAffinity: { cookie: { name: 'JSESSIONID', issuedBy: 'Application' } } },
    ]);
    expect(spec({ ...BASE, ip_hash: 'T' }).rules).toEqual([{ backends: [BACKEND], sessionAffinity: { clientIP: true } }]);
  });

  it('rejects a bad cookie name and both stickiness labels together', () => {
    expect(rejected({ ...BASE, sticky_session_cookie: 'my-cookie' }).issues).toEqual([
      'labels["com.docker.lb.sticky_session_cookie"]: expected cookie name (letters, digits, "_"), got "my-cookie": character "-" is not allowed',
    ]);
    expect(rejected({ ...BASE, sticky_session_cookie: 'sid', ip_hash: 'true' }).issues).toEqual([
      'labels["com.docker.lb.ip_hash"]: use either com.docker.lb.sticky_session_cookie or com.docker.lb.ip_hash, not both',
    ]);
  });

  it('default_backend with hosts, and without (a placeholder host that never resolves)', () => {
    expect(spec({ ...BASE, default_backend: 'true' })).toEqual({ hosts: ['web.example.com'], rules: [{ backends: [BACKEND] }], defaultBackend: true });
    expect(spec({ port: '8080', default_backend: 'true' })).toEqual({ hosts: ['svc-web.invalid'], rules: [{ backends: [BACKEND] }], defaultBackend: true });
    expect(rejected({ ...BASE, default_backend: 'maybe' }).issues).toEqual(['labels["com.docker.lb.default_backend"]: expected true or false, got "maybe"']);
  });
});

describe('com.docker.lb.redirects', () => {
  const hosts = 'new.example.com,old.example.com,older.example.com';

  it('gives the source hosts their own route answering 302 to the target host (request path kept), with the same TLS', () => {
    const t = translate({ ...BASE, hosts, ssl_cert: 'c', ssl_key: 'k', redirects: 'http://old.example.com,https://new.example.com; http://older.example.com/,https://new.example.com/;' });
    expect(t.rejects).toEqual([]);
    expect(t.routes.map((r) => [r.object.metadata.name, (r.document as { spec: unknown }).spec])).toEqual([
      ['svc-web', { hosts: ['new.example.com'], rules: [{ backends: [BACKEND] }], tls: { mode: 'Terminate', certificate: { certSecret: 'c', keySecret: 'k' } } }],
      [
        'svc-web-redirect',
        {
          hosts: ['old.example.com', 'older.example.com'],
          rules: [{ redirect: { scheme: 'https', host: 'new.example.com', code: 302 } }],
          tls: { mode: 'Terminate', certificate: { certSecret: 'c', keySecret: 'k' } },
        },
      ],
    ]);
  });

  it('one route per distinct target, with the port', () => {
    const t = translate({ ...BASE, hosts, redirects: 'http://old.example.com,http://new.example.com:8080;http://older.example.com,https://other.example.org' });
    expect(t.routes.map((r) => [r.object.metadata.name, r.object.spec.hosts, r.object.spec.rules[0]?.redirect])).toEqual([
      ['svc-web', ['new.example.com'], undefined],
      ['svc-web-redirect-1', ['old.example.com'], { scheme: 'http', host: 'new.example.com', port: 8080, code: 302 }],
      ['svc-web-redirect-2', ['older.example.com'], { scheme: 'https', host: 'other.example.org', code: 302 }],
    ]);
  });

  it('rejects malformed pairs, sources outside hosts and twice-redirected sources (Invalid)', () => {
    expect(rejected({ ...BASE, hosts, redirects: 'http://old.example.com;http://x.example.com,http://new.example.com;ftp://old.example.com,http://a.b;http://new.example.com,http://a.b;http://new.example.com,http://c.d' }).issues).toEqual([
      'labels["com.docker.lb.redirects"][0]: expected "source,target" (two URLs separated by ","), got "http://old.example.com"',
      'labels["com.docker.lb.redirects"][1].source: the source host must also be in com.docker.lb.hosts, got "x.example.com"',
      'labels["com.docker.lb.redirects"][2].source: expected absolute http(s) URL, got "ftp://old.example.com": use http(s)://host[:port][/path][?query] (no fragment)',
      'labels["com.docker.lb.redirects"][4].source: host "new.example.com" is already redirected by an earlier pair',
    ]);
  });

  it('a target or source with a path is UnsupportedValue (Interlock appends the request path to the target)', () => {
    expect(rejected({ ...BASE, hosts, redirects: 'http://old.example.com/a,http://new.example.com/b' })).toEqual({
      reason: 'UnsupportedValue',
      issues: [
        'labels["com.docker.lb.redirects"][0].source: a redirect source is matched by its host only; a path or query cannot be matched, got "http://old.example.com/a"',
        'labels["com.docker.lb.redirects"][0].target: a redirect target with a path or query is not supported (Interlock appends the request path to it; swarmgate keeps the request path when the target has none), got "http://new.example.com/b"',
      ],
    });
  });

  it('is refused with ssl_passthrough', () => {
    expect(rejected({ ...BASE, hosts, ssl_passthrough: 'true', redirects: 'http://old.example.com,http://new.example.com' }).issues).toEqual([
      'labels["com.docker.lb.redirects"]: not with com.docker.lb.ssl_passthrough=true (the proxy routes the encrypted connection by SNI and never sees HTTP)',
    ]);
  });
});

describe('unknown labels, isolation, names', () => {
  it('an unknown com.docker.lb.* label is an error with a hint, never ignored', () => {
    expect(rejected({ ...BASE, hots: 'x', 'foo.bar': 'y' }).issues).toEqual([
      'labels["com.docker.lb.foo.bar"]: unknown Interlock label; known: hosts, port, network, context_root, context_root_rewrite, ssl_cert, ssl_key, ssl_only, ssl_passthrough, ssl_backend, ssl_backend_tls_verify, websocket_endpoints, service_cluster, sticky_session_cookie, ip_hash, redirects, backend_mode, default_backend, max_fails, fail_timeout',
      'labels["com.docker.lb.hots"]: unknown Interlock label (did you mean "com.docker.lb.hosts"?); known: hosts, port, network, context_root, context_root_rewrite, ssl_cert, ssl_key, ssl_only, ssl_passthrough, ssl_backend, ssl_backend_tls_verify, websocket_endpoints, service_cluster, sticky_session_cookie, ip_hash, redirects, backend_mode, default_backend, max_fails, fail_timeout',
    ]);
  });

  it('ignores services without com.docker.lb.* labels; one bad service leaves the others alone', () => {
    const t = translateServiceLabels(
      snapshot({
        services: [
          { name: 'plain', labels: { 'com.example.team': 'a' } },
          { name: 'bad', labels: lb({ hosts: 'bad.example.com', port: 'x' }) },
          { name: 'good', labels: lb({ hosts: 'good.example.com', port: '80' }) },
        ],
      }).services,
    );
    expect(t.routes.map((r) => r.object.metadata.name)).toEqual(['svc-good']);
    expect(t.rejects.map((r) => [r.route, r.service, r.reason])).toEqual([['svc-bad', 'bad', 'Invalid']]);
  });

  it('names are DNS labels; a service name that had to change gets a hash, so two services never share a name', () => {
    expect(labelRouteName('web')).toBe('svc-web');
    expect(labelRouteName('My_App')).toMatch(/^svc-my-app-[0-9a-f]{6}$/);
    expect(labelRouteName('my-app')).toBe('svc-my-app');
    expect(labelRouteName('a'.repeat(60))).toMatch(new RegExp(`^svc-${'a'.repeat(40)}-[0-9a-f]{6}$`));
    const t = translateServiceLabels(snapshot({ services: [{ name: 'web', labels: lb(BASE) }] }).services, new Set(['svc-web']));
    expect(t.routes[0]?.object.metadata.name).toMatch(/^svc-web-[0-9a-f]{6}$/);
  });
});

describe('services sharing hosts', () => {
  const snap = (services: { name: string; labels: Record<string, string> }[]) =>
    snapshot({ services: services.map((s) => ({ ...s, networks: ['app'], labels: lb(s.labels) })) });

  it('pools services whose labels differ only in backend labels into one Route with split: Tasks', () => {
    const t = translateServiceLabels(
      snap([
        { name: 'web-v2', labels: { ...BASE, hosts: 'b.example.com,web.example.com', port: '9090', max_fails: '2' } },
        { name: 'web-v1', labels: { ...BASE, hosts: 'web.example.com, b.example.com' } },
        { name: 'web-v3', labels: { ...BASE, hosts: 'web.example.com,b.example.com', network: 'app', backend_mode: 'vip' } },
      ]).services,
    );
    expect(t.routes.map((r) => [r.object.metadata.name, r.services, r.document['metadata']])).toEqual([
      ['svc-web-v1', ['web-v1', 'web-v2', 'web-v3'], { name: 'svc-web-v1', annotations: { 'swarmgate.io/source': 'service/web-v1,service/web-v2,service/web-v3' } }],
    ]);
    expect((t.routes[0]?.document as { spec: unknown }).spec).toEqual({
      hosts: ['web.example.com', 'b.example.com'],
      rules: [
        {
          backends: [
            { service: 'web-v1', port: 8080 },
            { service: 'web-v2', port: 9090, passiveHealthCheck: { maxFails: 2 } },
            { service: 'web-v3', port: 8080, mode: 'vip', network: 'app' },
          ],
          split: 'Tasks',
        },
      ],
    });
  });

  it('does not pool services with other differences: the model keeps the first and says why the other lost', () => {
    const s = snapshot({
      services: [
        { name: 'a', networks: ['app'], labels: lb(BASE) },
        { name: 'b', networks: ['app'], labels: lb({ ...BASE, ip_hash: 'true' }) },
      ],
      tasks: [task('a', '10.0.0.1'), task('b', '10.0.0.2')],
    });
    const r = buildModel(withLabelRoutes(desired([]), s), s);
    expect(r.labelRoutes?.['svc-a']?.conditions.map((c) => c.status)).toEqual(['True', 'True']);
    expect(r.labelRoutes?.['svc-b']?.conditions).toEqual([
      {
        type: 'Accepted',
        status: 'False',
        reason: 'HostConflict',
        message:
          'host "web.example.com" pathPrefix / is already routed by route "svc-a" (services sharing a host are pooled into one upstream only when all their com.docker.lb.* labels other than port, network, backend_mode, max_fails and fail_timeout are equal)',
      },
    ]);
  });

  it('renders one upstream with the tasks of every pooled service: shares follow task counts', () => {
    const s = snapshot({
      services: [
        { name: 'v1', networks: ['app'], labels: lb(BASE) },
        { name: 'v2', networks: ['app'], labels: lb(BASE) },
      ],
      tasks: [task('v1', '10.0.0.1'), task('v1', '10.0.0.2'), task('v1', '10.0.0.3'), task('v1', '10.0.0.4'), task('v2', '10.0.0.9')],
    });
    const config = renderNginx(buildModel(withLabelRoutes(desired([]), s), s).clusters[0] ?? (undefined as never));
    const upstreams = [...config.matchAll(/upstream (\S+) \{([^}]*)\}/g)].map((m) => [m[1], (m[2] ?? '').match(/server 10\.\S+/g)]);
    expect(upstreams).toEqual([[expect.stringMatching(/^u_[0-9a-f]{6}_v1_v2_8080$/), ['server 10.0.0.1:8080', 'server 10.0.0.2:8080', 'server 10.0.0.3:8080', 'server 10.0.0.4:8080', 'server 10.0.0.9:8080']]]);
    expect(config).not.toContain('split_clients');
  });
});

describe('merge into the model input', () => {
  const s = snapshot({
    services: [
      { name: 'web', networks: ['app'], labels: lb({ hosts: 'shop.example.com,extra.example.com', port: '80' }) },
      { name: 'spec-web', networks: ['app'] },
      { name: 'bad', networks: ['app'], labels: lb({ hosts: 'bad.example.com' }) },
    ],
    tasks: [task('web', '10.0.0.1'), task('spec-web', '10.0.0.2')],
  });
  const shop = route('shop', { hosts: ['shop.example.com'], rules: [{ backends: [{ service: 'spec-web', port: 80 }] }] });

  it('a Route spec wins over a labelled service claiming the same host, whatever the names; the service gets HostConflict', () => {
    const r = buildModel(withLabelRoutes(desired([shop]), s), s);
    expect(r.conditions['Route/shop']?.map((c) => c.status)).toEqual(['True', 'True']);
    expect(r.labelRoutes?.['svc-web']).toEqual({
      services: ['web'],
      conditions: [
        {
          type: 'Accepted',
          status: 'False',
          reason: 'HostConflict',
          message: 'host "shop.example.com" pathPrefix / is already routed by route "shop" (a Route spec takes precedence over com.docker.lb.* labels)',
        },
      ],
    });
    // Conditions of Route specs stay keyed by object; label routes never land there (nothing to write status on).
    expect(Object.keys(r.conditions)).toEqual(['Route/shop']);
    expect(r.labelRoutes?.['svc-bad']).toEqual({
      services: ['bad'],
      conditions: [
        { type: 'Accepted', status: 'False', reason: 'Invalid', message: 'labels["com.docker.lb.port"]: required label missing (expected the container port to send traffic to, 1..65535)' },
      ],
    });
  });

  it('a label route never reuses the name of a Route spec', () => {
    const state: DesiredState = withLabelRoutes(desired([route('svc-web', { hosts: ['other.example.com'], rules: [{ backends: [{ service: 'spec-web', port: 80 }] }] })]), s);
    expect(state.labelRoutes?.map((r) => r.object.metadata.name)).toEqual([expect.stringMatching(/^svc-web-[0-9a-f]{6}$/)]);
  });

  it('changes nothing without labelled services', () => {
    const plain = snapshot({ services: [{ name: 'spec-web', networks: ['app'] }] });
    const d = desired([shop]);
    expect(withLabelRoutes(d, plain)).toBe(d);
    expect(buildModel(d, plain).labelRoutes).toBeUndefined();
  });
});
