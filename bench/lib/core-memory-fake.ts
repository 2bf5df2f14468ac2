/** bench-core-memory's Docker: the fake loaded with the bench mix, and the route change it times. */
import * as E from 'fp-ts/Either';
import { applyObject } from '../../src/desired/spec-store';
import { decodeObject, encodeObject, type RouteObject } from '../../src/domain/object';
import { FakeDocker } from '../../test/fakes/fake-docker';
import type { GeneratedInputs } from './inputs';

/** The fake loaded with the bench mix: networks, secrets, 2N services and their tasks, N routes stored as the CLI stores them. */
export async function seedFake(inputs: GeneratedInputs): Promise<FakeDocker> {
  const fake = FakeDocker.singleNode();
  fake.addNetwork('swarmgate-control');
  for (const n of inputs.snapshot.networks) if (n.name !== 'ingress' && n.name !== 'bridge') fake.addNetwork(n.name);
  for (const s of inputs.snapshot.secrets) fake.addSecret(s.name);
  for (const s of inputs.snapshot.services) {
    const networks = s.networks.filter((n) => n !== 'ingress').map((n) => ({ Target: n }));
    const ports = s.ports.map((p) => ({ Protocol: p.protocol, TargetPort: p.target, ...(p.published !== undefined ? { PublishedPort: p.published } : {}), PublishMode: p.mode }));
    await fake.createService({
      Name: s.name,
      Labels: { ...s.labels },
      TaskTemplate: { ContainerSpec: { Image: 'bench/app:1' }, Networks: networks },
      Mode: { Replicated: { Replicas: s.replicas ?? 1 } },
      ...(ports.length > 0 ? { EndpointSpec: { Ports: ports } } : {}),
    });
  }
  for (const t of inputs.snapshot.tasks) fake.addTask(t.service, { state: t.state, desiredState: t.desiredState, ...(t.slot !== undefined ? { slot: t.slot } : {}), addresses: t.addresses.map((a) => ({ network: a.network, ip: a.ip })) });
  for (const r of inputs.desired.routes) await applyObject(fake, r.object);
  return fake;
}

/** The route change: route app-0 gets one more path rule (a new spec generation, a new config). */
export function changedRoute(route: RouteObject): RouteObject {
  const raw = encodeObject(route) as { spec: { rules: unknown[] } };
  const first = raw.spec.rules[raw.spec.rules.length - 1] as { backends: unknown };
  const decoded = decodeObject({ ...raw, spec: { ...raw.spec, rules: [{ match: { pathPrefix: '/bench-change' }, backends: first.backends }, ...raw.spec.rules] } });
  if (E.isLeft(decoded) || decoded.right.kind !== 'Route') throw new Error('changed route does not decode');
  return decoded.right;
}
