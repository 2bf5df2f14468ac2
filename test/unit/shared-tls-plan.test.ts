/**
 * The shared TLS server in the pure plan and the NGINX render (ADR 0028): which hosts share the
 * default server's TLS context, whose certificate secrets NGINX's workers must read (mounted root:nogroup 0440),
 * and which hosts keep a certificate (a TLS context) of their own.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { proxyServiceSpec } from '../../src/plan/proxy-service-spec';
import { sharedTlsHosts } from '../../src/plan/shared-tls';
import { renderNginx } from '../../src/render/nginx/render';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const SECRETS = ['a.crt', 'a.key', 'b.crt', 'b.key', 'd.crt', 'd.key', 'ca.pem'];
const SNAP = snapshot({ services: [{ name: 'app', networks: ['app'] }], tasks: [task('app', '10.0.0.5')], networks: [{ name: 'app' }], secrets: SECRETS.map((name) => ({ name })) });
const rules = [{ backends: [{ service: 'app', port: 80 }] }];
const cert = (n: string) => ({ certSecret: `${n}.crt`, keySecret: `${n}.key` });

function build(routes: ReturnType<typeof route>[], kind: 'nginx' | 'haproxy' = 'nginx'): ProxyModel {
  const result = buildModel(desired(routes, [cluster('default', { proxy: { kind } })]), SNAP);
  const model = result.clusters.find((c) => c.cluster === 'default');
  if (model === undefined) throw new Error('no model');
  return model;
}

const plain = route('a', { hosts: ['a.test'], tls: { mode: 'Terminate', certificate: cert('a'), redirectHTTP: true }, rules });
const withClientCert = route('b', { hosts: ['b.test'], tls: { mode: 'Terminate', certificate: cert('b'), clientCertificate: { caSecret: 'ca.pem' } }, rules });
const http = route('h', { hosts: ['h.test'], rules });

describe('the shared TLS server (ADR 0028)', () => {
  it("shares hosts with default TLS settings; a client-certificate host keeps its own context", () => {
    const model = build([plain, withClientCert, http]);
    expect(sharedTlsHosts(model).map((vh) => vh.host)).toEqual(['a.test']);
    const config = renderNginx(model);
    // One pair by variable (the default server) and the client-certificate host's own pair.
    expect(config.match(/^\s*ssl_certificate .*$/gm)?.map((l) => l.trim())).toEqual(['ssl_certificate $sg_tls_cert;', 'ssl_certificate "/run/secrets/b.crt";']);
    expect(config).toMatch(/map \$ssl_server_name \$sg_tls_cert \{\n\s+hostnames;\n\s+"a\.test" "\/run\/secrets\/a\.crt";\n\s+default "";/);
    expect(config).toMatch(/map \$ssl_server_name \$sg_tls_key \{\n\s+hostnames;\n\s+"a\.test" "\/run\/secrets\/a\.key";\n\s+default "";/);
  });

  it("mounts the shared hosts' certificate secrets readable by NGINX's workers' group only (root:nogroup 0440), the others root-only 0400", () => {
    const model = build([plain, withClientCert]);
    expect(model.workerSecrets).toEqual(['a.crt', 'a.key']);
    const spec = proxyServiceSpec({ model, serviceName: 'sg-proxy-default', config: { id: 'c', name: 'cfg' }, secretIds: new Map(), networkIds: new Map([['app', 'net']]), nodes: [] });
    const modes = Object.fromEntries((spec.TaskTemplate.ContainerSpec.Secrets ?? []).map((s) => [s.SecretName, `${s.File?.UID}:${s.File?.GID} ${(s.File?.Mode ?? 0).toString(8)}`]));
    expect(modes).toMatchObject({ 'a.crt': '0:65534 440', 'a.key': '0:65534 440', 'b.crt': '0:0 400', 'b.key': '0:0 400', 'ca.pem': '0:0 400' });
  });

  it("uses the default backend's certificate for unknown names, and shares it with the workers", () => {
    const model = build([plain, route('d', { hosts: ['d.test'], defaultBackend: true, tls: { mode: 'Terminate', certificate: cert('d') }, rules })]);
    expect(model.workerSecrets).toEqual(['a.crt', 'a.key', 'd.crt', 'd.key']);
    const config = renderNginx(model);
    expect(config).toContain('default "/run/secrets/d.crt";');
    expect(config).toContain('default "/run/secrets/d.key";');
    expect(config).not.toContain('ssl_reject_handshake on;');
  });

  it('shares nothing when the default backend asks for client certificates (its context must stay its own)', () => {
    const model = build([plain, route('d', { hosts: ['d.test'], defaultBackend: true, tls: { mode: 'Terminate', certificate: cert('d'), clientCertificate: { caSecret: 'ca.pem' } }, rules })]);
    expect(sharedTlsHosts(model)).toEqual([]);
    expect(model.workerSecrets).toBeUndefined();
    const config = renderNginx(model);
    expect(config).not.toContain('$sg_tls_cert');
    expect(config).toContain('ssl_certificate "/run/secrets/a.crt";');
  });

  it('renders every host its own certificate with sharedTlsServer false (the benchmark\'s "before")', () => {
    const config = renderNginx(build([plain]), { sharedTlsServer: false });
    expect(config).not.toContain('$sg_tls_cert');
    expect(config).toContain('ssl_certificate "/run/secrets/a.crt";');
  });

  it('changes nothing for HAProxy clusters (their process reads the secrets as root)', () => {
    expect(build([plain], 'haproxy').workerSecrets).toBeUndefined();
  });
});
