/**
 * `proxy.endpoints` without a stored value (ADR 0039): `describe servicecluster` names the endpoints
 * in use and that they are the default; `get -o yaml` prints the stored spec, which keeps the field
 * absent (what `apply` can take back); an explicit value is shown as written.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runDescribe, runGet } from '../../src/cli/commands/get';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';
import { LABELS } from '../../src/domain/labels';
import { CORE_SERVICE } from '../../src/plan/core-service-spec';

function capture() {
  const out: string[] = [];
  return { out, io: { out: (t: string) => out.push(t), err: (_t: string) => undefined } };
}

async function describeLine(docker: FakeDocker, name: string): Promise<string | undefined> {
  const c = capture();
  expect(await runDescribe(docker, 'servicecluster', name, c.io)).toBe(0);
  return c.out.join('\n').split('\n').find((l) => l.startsWith('Proxy:'));
}

/** The installed core as `describe` reads it back: with an address agents reach (a control network), or without. */
async function installCore(docker: FakeDocker, agents: boolean): Promise<void> {
  docker.addNetwork('swarmgate-control');
  const args = ['swarmgate', 'core', ...(agents ? ['--advertise', 'swarmgate-core:50051', '--control-network', 'swarmgate-control', '--insecure'] : [])];
  await docker.createService({ Name: CORE_SERVICE, Labels: { [LABELS.role]: 'core' }, TaskTemplate: { ContainerSpec: { Image: 'swarmgate/swarmgate', Args: args } } });
}

describe('the endpoints a ServiceCluster uses', () => {
  it('describe names the default with the delivery it follows, and an explicit value as written', async () => {
    const docker = FakeDocker.singleNode();
    await installCore(docker, true);
    await applyObject(docker, cluster('hitless', {}));
    await applyObject(docker, cluster('rolling', { proxy: { delivery: 'rolling' } }));
    await applyObject(docker, cluster('pinned', { proxy: { kind: 'haproxy', endpoints: 'Static' } }));
    await applyObject(docker, cluster('refused', { proxy: { delivery: 'rolling', endpoints: 'Dynamic' } }));
    expect(await describeLine(docker, 'hitless')).toBe('Proxy:        nginx, hitless delivery, Dynamic endpoints (default with hitless delivery)');
    expect(await describeLine(docker, 'rolling')).toBe('Proxy:        nginx, rolling delivery, Static endpoints (default with rolling delivery)');
    expect(await describeLine(docker, 'pinned')).toBe('Proxy:        haproxy, hitless delivery, Static endpoints');
    expect(await describeLine(docker, 'refused')).toBe('Proxy:        nginx, rolling delivery, Static endpoints (proxy.endpoints: Dynamic needs hitless delivery)');
    // Backend TLS keeps an NGINX cluster's default Static (connections of the shared balancer upstream, ADR 0039).
    await applyObject(docker, route('pay', { serviceCluster: 'hitless', hosts: ['pay.test'], rules: [{ backends: [{ service: 'pay', port: 443, protocol: 'https', tls: { serverName: 'pay.internal' } }] }] }));
    expect(await describeLine(docker, 'hitless')).toBe('Proxy:        nginx, hitless delivery, Static endpoints (default; Static while a rule of this NGINX cluster has backend TLS)');
    // Also when the spec asks for Dynamic: a TLS connection verified for one route must not carry another's request.
    await applyObject(docker, cluster('hitless', { proxy: { endpoints: 'Dynamic' } }));
    expect(await describeLine(docker, 'hitless')).toBe('Proxy:        nginx, hitless delivery, Static endpoints (proxy.endpoints: Dynamic is not used while a rule of this NGINX cluster has backend TLS)');
  });

  it('describe says Static while proxy agents cannot reach the installed core', async () => {
    const docker = FakeDocker.singleNode();
    await installCore(docker, false);
    await applyObject(docker, cluster('hitless', {}));
    expect(await describeLine(docker, 'hitless')).toBe('Proxy:        nginx, hitless delivery, Static endpoints (proxy agents cannot reach the core: hitless delivery falls back to rolling)');
  });

  it('get -o yaml keeps an absent value absent, and shows an explicit one', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, cluster('hitless', {}));
    await applyObject(docker, cluster('pinned', { proxy: { endpoints: 'Static' } }));
    const proxyOf = async (name: string): Promise<Record<string, unknown>> => {
      const c = capture();
      expect(await runGet(docker, 'sc', name, 'yaml', c.io)).toBe(0);
      return (parse(c.out.join('\n')) as { spec: { proxy: Record<string, unknown> } }).spec.proxy;
    };
    const absent = await proxyOf('hitless');
    expect(absent['delivery']).toBe('hitless');
    expect('endpoints' in absent).toBe(false);
    expect((await proxyOf('pinned'))['endpoints']).toBe('Static');
  });
});
