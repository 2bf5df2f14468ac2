/** The TLS benchmarks' model: N routes, each one host `t<i>.bench.test` with its own certificate secret pair, one backend task. */
import * as E from 'fp-ts/Either';
import { decode } from '../../src/domain/codec';
import { Snapshot } from '../../src/domain/snapshot';
import { buildModel } from '../../src/plan/build-model';
import type { ProxyModel } from '../../src/plan/model';
import { mustDecodeRoute } from './inputs';

export function tlsBenchModel(n: number): ProxyModel {
  const routes = Array.from({ length: n }, (_, i) =>
    mustDecodeRoute({
      apiVersion: 'swarmgate.io/v1',
      kind: 'Route',
      metadata: { name: `t${i}` },
      spec: { hosts: [`t${i}.bench.test`], tls: { mode: 'Terminate', certificate: { certSecret: `t${i}.crt`, keySecret: `t${i}.key` } }, rules: [{ backends: [{ service: 'app', port: 8080 }] }] },
    }),
  );
  const snap = decode(Snapshot, {
    services: [{ name: 'app', networks: ['app'] }],
    tasks: [{ id: 'tapp1', service: 'app', state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: '127.0.12.1' }] }],
    networks: [{ name: 'app' }],
    secrets: routes.flatMap((_, i) => [{ name: `t${i}.crt` }, { name: `t${i}.key` }]),
  });
  if (E.isLeft(snap)) throw new Error('bench snapshot does not decode');
  const result = buildModel({ routes: routes.map((object, i) => ({ object, generation: 1, createdAt: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString() })), clusters: [], rejected: [] }, snap.right);
  const m = result.clusters.find((c) => c.cluster === 'default');
  if (m === undefined || m.virtualHosts.length !== n) throw new Error(`expected ${n} TLS hosts, got ${m?.virtualHosts.length ?? 0}`);
  return m;
}
