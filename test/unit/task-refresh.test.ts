/**
 * The task fast path (ADR 0030, src/plan/task-refresh.ts), path by path: what it recomputes, what it
 * keeps byte for byte, and when it hands over to the full pipeline. The property test
 * test/property/task-refresh-properties.test.ts checks equality with the full pipeline over generated inputs.
 */
import { describe, expect, it } from 'vitest';
import { desiredConfig, incrementalConfig, mainFile, type PipelineInputs } from '../../src/plan/pipeline';
import type { DesiredState } from '../../src/plan/inputs';
import { ENDPOINTS_FILE, type RenderedCluster } from '../../src/render/render-cluster';
import { cluster, route, snapshot } from '../helpers/specs';

const CLUSTERS = [
  { object: cluster('dyn', { proxy: { kind: 'nginx', delivery: 'hitless', endpoints: 'Dynamic', publish: { mode: 'host', http: 18080, https: 18443 } } }), generation: 1 },
  { object: cluster('stat', { proxy: { kind: 'nginx', delivery: 'hitless', endpoints: 'Static', publish: { mode: 'host', http: 19080, https: 19443 } } }), generation: 1 },
];

function specs(extra: Record<string, unknown> = {}): DesiredState {
  return {
    routes: [
      { object: route('shop', { hosts: ['shop.test'], serviceCluster: 'dyn', rules: [{ backends: [{ service: 'web', port: 8080, weight: 90 }, { service: 'api', port: 8080, weight: 10 }], ...extra }] }), generation: 1, createdAt: '2026-01-01T00:00:00Z' },
      { object: route('blog', { hosts: ['blog.test'], serviceCluster: 'stat', rules: [{ backends: [{ service: 'web', port: 8080 }] }] }), generation: 1, createdAt: '2026-01-01T00:00:01Z' },
      { object: route('pins', { hosts: ['pins.test'], serviceCluster: 'dyn', rules: [{ backends: [{ service: 'pinned', port: 8080, mode: 'host' }] }] }), generation: 1, createdAt: '2026-01-01T00:00:02Z' },
    ],
    clusters: CLUSTERS,
    rejected: [],
  };
}

const task = (service: string, n: number, extra: Record<string, unknown> = {}) => ({ id: `t${service}${n}`, service, node: 'n1', state: 'running', desiredState: 'running', addresses: [{ network: 'app', ip: `10.0.${service.length}.${n}` }], ...extra });

function snap(web: number, opts: { api?: number; label?: string; pinned?: number } = {}) {
  return snapshot({
    services: [
      { name: 'web', networks: ['app'], exposedPorts: [8080], ...(opts.label !== undefined ? { labels: { team: opts.label } } : {}) },
      { name: 'api', networks: ['app'], exposedPorts: [8080] },
      { name: 'pinned', exposedPorts: [8080] },
    ],
    tasks: [
      ...Array.from({ length: web }, (_, i) => task('web', i + 2)),
      ...Array.from({ length: opts.api ?? 1 }, (_, i) => task('api', i + 2)),
      ...Array.from({ length: opts.pinned ?? 1 }, (_, i) => task('pinned', i + 2, { ports: [{ target: 8080, published: 30000 + i, mode: 'host' }], addresses: [] })),
    ],
    networks: [{ name: 'app' }],
    nodes: [{ id: 'n1', hostname: 'n1', role: 'manager', addr: '10.210.0.11' }],
  });
}

const endpoints = (f: RenderedCluster | undefined): string => f?.files.find((x) => x.path === ENDPOINTS_FILE)?.content ?? '';
const files = (o: ReturnType<typeof desiredConfig>, name: string): RenderedCluster | undefined => o.clusters.find((c) => c.model.cluster === name)?.files;

function after(before: PipelineInputs, next: PipelineInputs) {
  const first = incrementalConfig(undefined, before);
  expect(first.path).toEqual({ kind: 'full', reason: 'first run' });
  const second = incrementalConfig(first.run, next);
  // Whatever the path: exactly what the full pipeline gives.
  const full = desiredConfig(next);
  expect(second.output.result).toEqual(full.result);
  expect(second.output.clusters.map((c) => c.files?.files)).toEqual(full.clusters.map((c) => c.files?.files));
  return { first: first.output, second };
}

describe('task fast path', () => {
  it('a task added to a Dynamic cluster changes only endpoints.txt; a Static cluster using the service renders again', () => {
    const { first, second } = after({ specs: specs(), snapshot: snap(2) }, { specs: specs(), snapshot: snap(3) });
    // web's upstream in each cluster; only the Static one needed a render.
    expect(second.path).toEqual({ kind: 'tasks', upstreams: 2, rendered: ['stat'] });
    const dyn = files(second.output, 'dyn');
    expect(mainFile(dyn)).toBe(mainFile(files(first, 'dyn')));
    expect(endpoints(files(first, 'dyn'))).not.toContain('10.0.3.4:8080');
    expect(endpoints(dyn)).toContain('10.0.3.4:8080');
    expect(mainFile(files(first, 'stat'))).not.toContain('10.0.3.4:8080');
    expect(mainFile(files(second.output, 'stat'))).toContain('10.0.3.4:8080');
  });

  it('a task of a service only a Dynamic cluster uses renders nothing', () => {
    const { first, second } = after({ specs: specs(), snapshot: snap(2, { api: 1 }) }, { specs: specs(), snapshot: snap(2, { api: 2 }) });
    expect(second.path).toEqual({ kind: 'tasks', upstreams: 1, rendered: [] });
    expect(files(second.output, 'stat')).toBe(files(first, 'stat'));
    expect(endpoints(files(second.output, 'dyn'))).toContain('10.0.3.3:8080');
  });

  it('keeps sticky sessions and health settings on the rewritten lines', () => {
    const sticky = { sessionAffinity: { cookie: { name: 'sg' } } };
    const { second } = after({ specs: specs(sticky), snapshot: snap(2) }, { specs: specs(sticky), snapshot: snap(3) });
    expect(second.path.kind).toBe('tasks');
    expect(endpoints(files(second.output, 'dyn'))).toMatch(/ sg_\S+ 10\.0\.3\.2:8080 10\.0\.3\.3:8080 10\.0\.3\.4:8080\n/);
  });

  it('runs the full pipeline when an upstream gains its first server or loses its last', () => {
    expect(after({ specs: specs(), snapshot: snap(1) }, { specs: specs(), snapshot: snap(0) }).second.path).toEqual({ kind: 'full', reason: expect.stringMatching(/lost its last server/) as unknown });
    expect(after({ specs: specs(), snapshot: snap(0) }, { specs: specs(), snapshot: snap(1) }).second.path).toEqual({ kind: 'full', reason: expect.stringMatching(/gained its first server/) as unknown });
  });

  it('runs the full pipeline when a spec or anything but tasks changed, or a host-mode service churns', () => {
    expect(after({ specs: specs(), snapshot: snap(2) }, { specs: specs({ timeouts: { read: '30s' } }), snapshot: snap(2) }).second.path).toEqual({ kind: 'full', reason: 'specs changed' });
    expect(after({ specs: specs(), snapshot: snap(2) }, { specs: specs(), snapshot: snap(2, { label: 'x' }) }).second.path).toEqual({ kind: 'full', reason: 'snapshot (other than tasks) changed' });
    expect(after({ specs: specs(), snapshot: snap(2) }, { specs: specs(), snapshot: snap(2, { pinned: 2 }) }).second.path).toEqual({ kind: 'full', reason: 'service pinned publishes host-mode ports' });
  });

  it('unchanged tasks reuse the last output as it is', () => {
    const { first, second } = after({ specs: specs(), snapshot: snap(2) }, { specs: specs(), snapshot: snap(2) });
    expect(second.path).toEqual({ kind: 'tasks', upstreams: 0, rendered: [] });
    expect(second.output.clusters.map((c) => c.files)).toEqual(first.clusters.map((c) => c.files));
  });
});
