/**
 * Interlock labels through the whole core run (in-memory Docker fake): a service with
 * com.docker.lb.* labels is routed without any Route object, a Route spec claiming the same host
 * wins, and the label route's conditions are published (they have no stored config to carry them).
 */
import pino from 'pino';
import { beforeEach, describe, expect, it } from 'vitest';
import { ControlPlane } from '../../src/api/control-plane';
import { CoreRun } from '../../src/core/core-run';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { route } from '../helpers/specs';
import { firstValueFrom } from 'rxjs';

const quiet = pino({ level: 'silent' });
let docker: FakeDocker;

async function renderedConfig(): Promise<string> {
  const svc = docker.service('sg-proxy-default');
  const id = svc?.Spec.TaskTemplate.ContainerSpec.Configs?.[0]?.ConfigID ?? '';
  const c = await docker.inspectConfig(id);
  return Buffer.from(c.Spec.Data ?? '', 'base64').toString();
}

beforeEach(async () => {
  docker = FakeDocker.singleNode();
  docker.addNetwork('app');
  await docker.createService({
    Name: 'shop',
    Labels: { 'com.docker.lb.hosts': 'shop.test', 'com.docker.lb.port': '8080', 'com.docker.lb.network': 'app' },
    TaskTemplate: { ContainerSpec: { Image: 'shop' }, Networks: [{ Target: 'app' }] },
  });
  docker.addTasks('shop', 2);
});

describe('core run with Interlock labels', () => {
  it('routes a labelled service without a Route object and publishes its conditions', async () => {
    const plane = new ControlPlane();
    await new CoreRun(docker, quiet, { plane }).run(1);
    const conf = await renderedConfig();
    expect(conf).toContain('server_name "shop.test"');
    expect(conf).toMatch(/server 10\.\d+\.\d+\.\d+:8080/);
    const status = await firstValueFrom(plane.watchStatus());
    const labelRoute = status.objects.find((o) => o.kind === 'Route' && o.name.includes('shop'));
    expect(labelRoute?.conditions.find((c) => c.type === 'Accepted')?.status).toBe('True');
  });

  it('lets a Route spec win the host; the labelled service gets HostConflict', async () => {
    await docker.createService({ Name: 'other', TaskTemplate: { ContainerSpec: { Image: 'other' }, Networks: [{ Target: 'app' }] } });
    docker.addTasks('other', 1);
    await applyObject(docker, route('shop-spec', { hosts: ['shop.test'], rules: [{ backends: [{ service: 'other', port: 9090 }] }] }));
    const plane = new ControlPlane();
    await new CoreRun(docker, quiet, { plane }).run(1);
    const conf = await renderedConfig();
    expect(conf).toMatch(/server 10\.\d+\.\d+\.\d+:9090/);
    expect(conf).not.toMatch(/:8080/);
    const status = await firstValueFrom(plane.watchStatus());
    const labelRoute = status.objects.find((o) => o.kind === 'Route' && o.name.includes('shop') && o.name !== 'shop-spec');
    expect(labelRoute?.conditions.find((c) => c.type === 'Accepted')).toMatchObject({ status: 'False', reason: 'HostConflict' });
  });
});
