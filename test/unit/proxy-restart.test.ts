/**
 * Self-healing proxy tasks, the parts without processes: the agent's restart backoff (at once,
 * then 100 ms doubling to 2 s while the proxy keeps dying, at once again after a healthy run), and
 * the restart policy every proxy service gets (any exit, 200 ms, unlimited), rolling and hitless.
 */
import { describe, expect, it } from 'vitest';
import { PROXY_RESTART_POLICY, proxyServiceSpec, type ProxyInputs } from '../../src/plan/proxy-service-spec';
import { DEFAULT_RESTART_BACKOFF, nextRestartDelay } from '../../src/agent/restart-backoff';
import { buildModel } from '../../src/plan/build-model';
import { cluster, desired, route, snapshot, task } from '../helpers/specs';

describe('proxy restart backoff', () => {
  it('restarts at once the first time, then 100 ms doubling to 2 s while the proxy keeps dying', () => {
    const delays: number[] = [];
    let d: number | undefined;
    for (let i = 0; i < 8; i++) {
      d = nextRestartDelay(d, 50);
      delays.push(d);
    }
    expect(delays).toEqual([0, 100, 200, 400, 800, 1_600, 2_000, 2_000]);
  });

  it('restarts at once again after the proxy stayed up 10 s', () => {
    expect(nextRestartDelay(2_000, DEFAULT_RESTART_BACKOFF.resetAfterMs)).toBe(0);
    expect(nextRestartDelay(2_000, DEFAULT_RESTART_BACKOFF.resetAfterMs - 1)).toBe(2_000);
    expect(nextRestartDelay(0, 9_000)).toBe(100);
  });
});

describe('proxy service restart policy', () => {
  const r = route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
  const snap = snapshot({ services: [{ name: 'web', networks: ['app'] }], tasks: [task('web', '10.0.0.5')], networks: [{ name: 'app' }] });
  const inputs = (publishMode: 'host' | 'ingress', hitless: boolean): ProxyInputs => {
    const model = buildModel(desired([r], [cluster('edge', { proxy: { publish: { mode: publishMode } } })]), snap).clusters.find((c) => c.cluster === 'edge');
    if (model === undefined) throw new Error('no cluster edge');
    return {
      model,
      serviceName: 'sg-proxy-edge',
      config: { id: 'cfg1', name: 'sg-nginx-edge-abc' },
      secretIds: new Map(),
      networkIds: new Map([['app', 'net-app']]),
      nodes: [],
      ...(hitless ? { agent: { coreAddress: 'swarmgate-core:50051', controlNetworkId: 'net-control' } } : {}),
    };
  };

  it.each([
    ['host', true],
    ['host', false],
    ['ingress', true],
    ['ingress', false],
  ] as const)('publish %s, hitless %s: restart on any exit after 200 ms, never give up', (mode, hitless) => {
    const spec = proxyServiceSpec(inputs(mode, hitless));
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'any', Delay: 200_000_000, MaxAttempts: 0 });
    expect(spec.TaskTemplate.RestartPolicy).toBe(PROXY_RESTART_POLICY);
    // Well under Swarm's default of 5 s, the delay the issue measured.
    expect(PROXY_RESTART_POLICY.Delay / 1e6).toBeLessThanOrEqual(500);
  });
});
