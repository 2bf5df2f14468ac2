/** `get tcproutes|udproutes`, `describe tcproute` and the listeners of `get serviceclusters -o wide` / `describe servicecluster`. */
import { describe, expect, it } from 'vitest';
import { runDescribe, runGet } from '../../src/cli/commands/get';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, streamRoute } from '../helpers/specs';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe('get and describe for layer 4', () => {
  it('lists TCPRoutes and UDPRoutes with cluster, listener and backends, and shows a cluster\'s listeners', async () => {
    const docker = FakeDocker.singleNode();
    await applyObject(docker, cluster('edge', { listeners: [{ name: 'db', port: 9000, protocol: 'TCP' }, { name: 'dns', port: 9000, protocol: 'UDP' }] }));
    await applyObject(docker, streamRoute('TCPRoute', 'pg', { serviceCluster: 'edge', listener: 'db', tls: { certificate: { name: 'pg' } }, backends: [{ service: 'pg', port: 5432, weight: 3 }, { service: 'pg-b', port: 5432 }] }));
    await applyObject(docker, streamRoute('UDPRoute', 'dns', { serviceCluster: 'edge', listener: 'dns', backends: [{ service: 'dns', port: 53 }] }));

    const tcp = capture();
    expect(await runGet(docker, 'tcproutes', undefined, undefined, tcp.io)).toBe(0);
    const [header, row] = (tcp.out[0] ?? '').split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'CLUSTER', 'LISTENER', 'BACKENDS', 'GENERATION', 'ACCEPTED', 'PROGRAMMED', 'AGE']);
    expect(row?.split(/\s{2,}/).slice(0, 5)).toEqual(['pg', 'edge', 'db', 'pg:5432 w=3,pg-b:5432 w=1', '1']);

    const udp = capture();
    expect(await runGet(docker, 'udproute', undefined, 'name', udp.io)).toBe(0);
    expect(udp.out.join('\n')).toBe('udproute/dns');

    const wide = capture();
    expect(await runGet(docker, 'sc', undefined, 'wide', wide.io)).toBe(0);
    expect(wide.out[0]).toMatch(/LISTENERS/);
    expect(wide.out[0]).toMatch(/db:9000\/TCP,dns:9000\/UDP/);

    const d = capture();
    expect(await runDescribe(docker, 'tcproute', 'pg', d.io)).toBe(0);
    const text = d.out.join('\n');
    expect(text).toContain('Kind:         TCPRoute');
    expect(text).toContain('Listener:     db');
    expect(text).toContain('TLS:          terminated with certificate pg');
    expect(text).toContain('Timeouts:     idle 10m, connect 5s');
    expect(text).toContain('  pg:5432 w=3 mode task (service not found)');

    const c = capture();
    expect(await runDescribe(docker, 'servicecluster', 'edge', c.io)).toBe(0);
    expect(c.out.join('\n')).toContain('Listeners:    db 9000/TCP, dns 9000/UDP');
  });
});
