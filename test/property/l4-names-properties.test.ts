/**
 * Layer-4 generated names keep routing apart: for two TCPRoutes on two listeners whose backend
 * services are near misses of each other (differing only in "." "-" "_" or case, so their readable
 * upstream bases fold alike) and whose route and listener names are any DNS labels, each listener
 * reaches exactly its own service's servers — in the NGINX view (stream upstreams behind the
 * listener's proxy_pass) and in the HAProxy view (the backends its frontend uses) — and no generated
 * stream name meets an HTTP or passthrough upstream name of the same cluster.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/plan/build-model';
import { DEFAULT_HAPROXY_OPTIONS } from '../../src/render/haproxy/options';
import { buildHaproxyView } from '../../src/render/haproxy/view-model';
import { DEFAULT_NGINX_OPTIONS } from '../../src/render/nginx/options';
import { buildNginxView } from '../../src/render/nginx/view-model';
import { separatorVariant } from '../helpers/collisions';
import { cluster, route, snapshot, streamRoute, task } from '../helpers/specs';

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);

describe('layer-4 generated names', () => {
  it('each listener reaches exactly its own backends, on NGINX and HAProxy', () => {
    fc.assert(
      fc.property(fc.nat({ max: 5000 }), fc.nat({ max: 5000 }), fc.tuple(label, label).filter(([a, b]) => a !== b), fc.tuple(label, label).filter(([a, b]) => a !== b), fc.boolean(), (i, j, [l1, l2], [r1, r2], upper) => {
        const s1 = separatorVariant(i);
        const s2 = upper ? separatorVariant(j).toUpperCase() : separatorVariant(j);
        if (s1 === s2) return;
        const ip = { [s1]: '10.0.0.1', [s2]: '10.0.0.2' };
        for (const kind of ['nginx', 'haproxy'] as const) {
          const c = cluster('edge', { proxy: { kind }, listeners: [{ name: l1, port: 9001, protocol: 'TCP' }, { name: l2, port: 9002, protocol: 'TLS' }] });
          const snap = snapshot({ services: [s1, s2].map((name) => ({ name, networks: ['app'] })), tasks: [task(s1, ip[s1] ?? ''), task(s2, ip[s2] ?? '')], networks: [{ name: 'app' }] });
          const result = buildModel(
            {
              // An HTTP Route and a passthrough Route on the same services: their upstream names must not be reused for layer 4.
              routes: [
                { object: route('web', { serviceCluster: 'edge', hosts: ['web.test'], rules: [{ backends: [{ service: s1, port: 7 }, { service: s2, port: 7 }] }] }), generation: 1 },
                { object: route('pt', { serviceCluster: 'edge', hosts: ['pt.test'], tls: { mode: 'Passthrough' }, rules: [{ backends: [{ service: s2, port: 7 }] }] }), generation: 1 },
              ],
              clusters: [{ object: c, generation: 1 }],
              rejected: [],
              streamRoutes: [
                { object: streamRoute('TCPRoute', r1, { serviceCluster: 'edge', listener: l1, backends: [{ service: s1, port: 7 }] }), generation: 1 },
                { object: streamRoute('TCPRoute', r2, { serviceCluster: 'edge', listener: l2, hostnames: ['a.test'], backends: [{ service: s2, port: 7 }] }), generation: 1 },
              ],
            },
            snap,
          );
          const model = result.clusters.find((m) => m.cluster === 'edge');
          if (model === undefined) throw new Error('no model');
          expect(model.listeners?.flatMap((l) => l.routes).length).toBe(2);
          const want = (listener: string): string => (listener === l1 ? `${ip[s1] ?? ''}:7` : `${ip[s2] ?? ''}:7`);
          if (kind === 'nginx') {
            const view = buildNginxView(model, DEFAULT_NGINX_OPTIONS);
            const l4 = view.stream?.l4;
            if (l4 === undefined) throw new Error('no l4 view');
            const servers = new Map(l4.upstreams.map((u) => [u.name as string, u.servers.map((s) => s.address as string)]));
            const sni = new Map(l4.listeners.flatMap((l) => (l.sniMap !== undefined ? [[l.sniMap.variable as string, l.sniMap.entries.map((e) => e.target as string)]] : [])));
            for (const [listener, port] of [[l1, 9001], [l2, 9002]] as const) {
              const v = l4.listeners.find((x) => x.listen === String(port));
              const targets = v?.sniMap !== undefined ? (sni.get(v.target) ?? []) : [v?.target ?? ''];
              expect(targets.flatMap((t) => servers.get(t) ?? ['?'])).toEqual([want(listener)]);
            }
            // Stream upstream names never equal an HTTP or passthrough upstream name (NGINX folds case).
            const other = new Set([...view.upstreams.map((u) => u.name.toLowerCase()), ...(view.stream?.upstreams ?? []).map((u) => u.name.toLowerCase())]);
            for (const u of l4.upstreams) expect(other.has(u.name.toLowerCase())).toBe(false);
          } else {
            const view = buildHaproxyView(model, DEFAULT_HAPROXY_OPTIONS);
            const backends = new Map(view.backends.map((b) => [b.name as string, b.servers.map((s) => s.address as string)]));
            expect(backends.size).toBe(view.backends.length);
            for (const [listener, name] of [[l1, `sg_l4_${l1}`], [l2, `sg_l4_${l2}`]] as const) {
              const f = view.l4?.find((x) => x.name === name);
              const used = [...(f?.useBackends ?? []).map((u) => u.backend as string), ...(f?.defaultBackend !== undefined ? [f.defaultBackend as string] : [])];
              expect(used.flatMap((b) => backends.get(b) ?? ['?'])).toEqual([want(listener)]);
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
