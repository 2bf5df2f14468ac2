/**
 * Key material on the proxies stays off the node's disk (ADR 0027): every task the agent runs in
 * (hitless NGINX, HAProxy hitless or rolling) mounts a tmpfs over the agent's runtime directory,
 * and every directory the agent writes keys to (ACME certificates and keys, HAProxy's combined
 * PEMs) and its live config lie below it. A rolling NGINX task runs no agent and writes nothing.
 */
import { describe, expect, it } from 'vitest';
import { ACME_DIR_IN_TASKS } from '../../src/plan/acme-routes';
import { buildModel } from '../../src/plan/build-model';
import { AGENT_RUNTIME_DIR, AGENT_RUNTIME_TMPFS, LAST_APPLIED_DIR, PROXY_RUNTIME } from '../../src/plan/proxy-runtime';
import { proxyServiceSpec } from '../../src/plan/proxy-service-spec';
import { restartCauses } from '../../src/plan/writes/impact';
import { DEFAULT_HAPROXY_OPTIONS, HAPROXY_CERT_DIR } from '../../src/render/haproxy/options';
import { DEFAULT_NGINX_OPTIONS } from '../../src/render/nginx/options';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

const below = (dir: string): boolean => dir.startsWith(`${AGENT_RUNTIME_DIR}/`);

function spec(kind: 'nginx' | 'haproxy', hitless: boolean) {
  const r = route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '10.0.0.5')], networks: [{ name: 'app' }] });
  const model = buildModel(desired([r], [cluster('edge', { proxy: { kind, delivery: hitless ? 'hitless' : 'rolling' } })]), snap).clusters.find((c) => c.cluster === 'edge');
  if (model === undefined) throw new Error('no cluster edge');
  return proxyServiceSpec({
    model,
    serviceName: 'sg-proxy-edge',
    config: { id: 'cfg1', name: 'sg-edge-abc' },
    secretIds: new Map(),
    networkIds: new Map([['app', 'net-app']]),
    nodes: [],
    ...(hitless ? { agent: { coreAddress: 'swarmgate-core:50051', controlNetworkId: 'net-control' } } : {}),
  });
}

describe("the agent's runtime files on a tmpfs", () => {
  it('puts every directory the agent writes keys or configs to below the tmpfs', () => {
    for (const dir of [ACME_DIR_IN_TASKS, DEFAULT_NGINX_OPTIONS.acmeDir, HAPROXY_CERT_DIR, DEFAULT_HAPROXY_OPTIONS.certDir, DEFAULT_HAPROXY_OPTIONS.runtimeDir, PROXY_RUNTIME.nginx.confDir, PROXY_RUNTIME.haproxy.confDir]) expect([dir, below(dir)]).toEqual([dir, true]);
    // The node's volume holds configs only, and lies elsewhere.
    expect(below(LAST_APPLIED_DIR)).toBe(false);
  });

  it.each([
    ['nginx', true],
    ['haproxy', true],
    ['haproxy', false],
  ] as const)('%s, hitless %s: the task mounts a 0755 tmpfs there', (kind, hitless) => {
    const mounts = spec(kind, hitless).TaskTemplate.ContainerSpec.Mounts ?? [];
    const tmpfs = mounts.filter((m) => m.Type === 'tmpfs');
    expect(tmpfs).toEqual([{ Type: 'tmpfs', Source: '', Target: AGENT_RUNTIME_DIR, TmpfsOptions: { SizeBytes: 64 * 2 ** 20, Mode: 0o755 } }]);
    expect(tmpfs[0]).toEqual(AGENT_RUNTIME_TMPFS);
    // Nothing else is mounted over it or below it (which would put files back on a disk).
    expect(mounts.filter((m) => m.Target === AGENT_RUNTIME_DIR || below(m.Target))).toHaveLength(1);
    expect(mounts.filter((m) => m.Type === 'volume').map((m) => m.Target)).toEqual(hitless ? [LAST_APPLIED_DIR] : []);
  });

  it('mounts nothing in a rolling NGINX task (no agent writes there)', () => {
    expect(spec('nginx', false).TaskTemplate.ContainerSpec.Mounts).toBeUndefined();
  });

  it('names the new mount as the cause when an existing proxy service gains it', () => {
    const after = spec('nginx', true);
    const before = { ...after, TaskTemplate: { ...after.TaskTemplate, ContainerSpec: { ...after.TaskTemplate.ContainerSpec, Mounts: (after.TaskTemplate.ContainerSpec.Mounts ?? []).filter((m) => m.Type !== 'tmpfs') } } };
    expect(restartCauses(before, after, (x) => x)).toEqual([`mounts +tmpfs:${AGENT_RUNTIME_DIR}`]);
  });
});
