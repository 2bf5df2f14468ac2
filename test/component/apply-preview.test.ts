/**
 * What `diff` and `apply` say before anything is written, over the in-memory Docker fake with a core
 * run's result in place: which changes restart proxy tasks (and why, and what clients see), which
 * are a hitless reload, routes that would not be served (host conflicts) and ports two clusters want.
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { previewApply, previewLines } from '../../src/cli/apply-preview';
import { CoreRun } from '../../src/core/core-run';
import { applyObject } from '../../src/desired/spec-store';
import { planImpact } from '../../src/plan/writes/impact';
import { FakeDocker } from '../fakes/fake-docker';
import { cluster, route } from '../helpers/specs';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;

const edge = (http: number) => cluster('edge', { proxy: { replicas: 2, publish: { mode: 'host', http, https: 18443 } } });
const web = (host: string) => route('web', { serviceCluster: 'edge', hosts: [host], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  await docker.createService({ Name: 'web', TaskTemplate: { ContainerSpec: { Image: 'web' }, Networks: [{ Target: 'app' }] } });
  docker.addTasks('web', 1);
  await applyObject(docker, edge(18080));
  await applyObject(docker, web('web.test'));
  await new CoreRun(docker, quiet).run(1);
  docker.addTasks('sg-proxy-edge', 2);
});

describe('apply preview', () => {
  it('warns that new published ports restart both host-mode replicas stop-first, with refused connections', async () => {
    const p = await previewApply(docker, [edge(18081)]);
    expect(p.changed.map((c) => c.object.metadata.name)).toEqual(['edge']);
    const [impact] = p.impact;
    expect(impact?.disruptive).toBe(true);
    expect(impact?.text).toContain('published ports 18080:80/host,18443:443/host → 18081:80/host,18443:443/host');
    expect(impact?.text).toContain("2 replicas restart, stop-first, one at a time: clients of each replica's node see refused connections while its task is replaced (3–6 s per node measured); clients that try another node meanwhile lose nothing");
    expect(previewLines(p)[0]).toMatch(/^warning: cluster "edge": proxy tasks RESTART/);
  });

  it('says a route change on rolling delivery restarts the tasks to mount the new config', async () => {
    const p = await previewApply(docker, [web('shop.test')]);
    expect(p.impact.map((i) => i.text)).toEqual([expect.stringContaining('proxy tasks RESTART (a new proxy config (rolling delivery mounts each config in new tasks))') as string]);
  });

  it('says nothing restarts when nothing changes', async () => {
    const p = await previewApply(docker, [web('web.test')]);
    expect(p.changed).toEqual([]);
    expect(previewLines(p)).toEqual([]);
  });

  it('flags a host conflict and a host port another cluster already publishes', async () => {
    const thief = route('thief', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: 'web', port: 8080 }] }] });
    const other = cluster('other', { proxy: { replicas: 1, publish: { mode: 'host', http: 18080, https: 28443 } } });
    const lines = previewLines(await previewApply(docker, [thief, other]));
    expect(lines).toContainEqual(expect.stringMatching(/^warning: route\/thief would not be served: Accepted False \(HostConflict\)/));
    expect(lines).toContainEqual('warning: port 18080 is published by cluster "edge" and cluster "other": Swarm gives it to one only (the other cluster\'s proxies stay pending or are refused)');
  });

  it('calls a delivery to agents a hitless reload', () => {
    const impact = planImpact(
      { groups: [{ key: 'cluster:edge', steps: [{ op: 'deliver', cluster: 'edge', proxyKind: 'nginx', files: [], configHash: 'h', immediate: false, reason: 'config changed' }] }] },
      { services: [], tasks: [], networks: [] },
    );
    expect(impact).toEqual([{ cluster: 'edge', disruptive: false, text: 'hitless reload: the agents reload the proxy in place (no task restarts, no refused connection)' }]);
  });
});
