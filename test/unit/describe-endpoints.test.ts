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
import { cluster } from '../helpers/specs';

function capture() {
  const out: string[] = [];
  return { out, io: { out: (t: string) => out.push(t), err: (_t: string) => undefined } };
}

async function describeLine(docker: FakeDocker, name: string): Promise<string | undefined> {
  const c = capture();
  expect(await runDescribe(docker, 'servicecluster', name, c.io)).toBe(0);
  return c.out.join('\n').split('\n').find((l) => l.startsWith('Proxy:'));
}

describe('the endpoints a ServiceCluster uses', () => {
  it('describe names the default with the delivery it follows, and an explicit value as written', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, cluster('hitless', {}));
    await applyObject(docker, cluster('rolling', { proxy: { delivery: 'rolling' } }));
    await applyObject(docker, cluster('pinned', { proxy: { kind: 'haproxy', endpoints: 'Static' } }));
    await applyObject(docker, cluster('refused', { proxy: { delivery: 'rolling', endpoints: 'Dynamic' } }));
    expect(await describeLine(docker, 'hitless')).toBe('Proxy:        nginx, hitless delivery, Dynamic endpoints (default with hitless delivery)');
    expect(await describeLine(docker, 'rolling')).toBe('Proxy:        nginx, rolling delivery, Static endpoints (default with rolling delivery)');
    expect(await describeLine(docker, 'pinned')).toBe('Proxy:        haproxy, hitless delivery, Static endpoints');
    expect(await describeLine(docker, 'refused')).toBe('Proxy:        nginx, rolling delivery, Static endpoints (proxy.endpoints: Dynamic needs hitless delivery)');
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
