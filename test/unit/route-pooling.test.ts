/**
 * The Route API additions behind Interlock compatibility: `rules[].split: Tasks` (one pooled upstream,
 * shares by task count), `backends[].passiveHealthCheck` (per-server max_fails / fail_timeout) and
 * `sessionAffinity.cookie.issuedBy: Application` (hash on the application's cookie, never set it).
 */
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { formatPath } from '../../src/domain/issue';
import { decodeObject } from '../../src/domain/object';
import { buildModel } from '../../src/plan/build-model';
import { renderNginx } from '../../src/render/nginx/render';
import { desired, route, snapshot, task } from '../helpers/specs';

const SNAP = snapshot({
  services: [
    { name: 'a', networks: ['app'] },
    { name: 'b', networks: ['app'] },
    { name: 'v', networks: ['app'], vips: [{ network: 'app', ip: '10.0.9.9' }] },
  ],
  tasks: [task('a', '10.0.0.1'), task('a', '10.0.0.2'), task('a', '10.0.0.3'), task('b', '10.0.0.4')],
});

function issues(spec: Record<string, unknown>): string[] {
  const r = decodeObject({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'x' }, spec });
  return E.isLeft(r) ? r.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : [];
}

function config(rules: unknown[]): string {
  const m = buildModel(desired([route('r', { hosts: ['h.test'], rules })]), SNAP).clusters[0];
  if (m === undefined) throw new Error('no model');
  return renderNginx(m);
}

const upstreamBlocks = (c: string): string[] => [...c.matchAll(/ {4}upstream [^\n]*\{\n[^}]*\}/g)].map((m) => m[0]);

describe('rules[].split', () => {
  it('Tasks pools the backends into one upstream: no split_clients, every task a server', () => {
    const c = config([{ split: 'Tasks', backends: [{ service: 'a', port: 80 }, { service: 'b', port: 80 }] }]);
    expect(c).not.toContain('split_clients');
    expect(upstreamBlocks(c)).toEqual([
      expect.stringMatching(
        /^ {4}upstream (u_[0-9a-f]{6}_a_b_80) \{\n {8}server 10\.0\.0\.1:80 max_fails=1 fail_timeout=1s;\n {8}server 10\.0\.0\.2:80 [^\n]*\n {8}server 10\.0\.0\.3:80 [^\n]*\n {8}server 10\.0\.0\.4:80 [^\n]*\n {8}server 127\.0\.0\.1:18081 backup;\n {8}keepalive 32;\n {4}\}$/,
      ),
    ]);
    expect(c).toMatch(/proxy_pass http:\/\/u_[0-9a-f]{6}_a_b_80;/);
  });

  it('Weights (or absent) keeps the weighted split', () => {
    const weighted = config([{ backends: [{ service: 'a', port: 80 }, { service: 'b', port: 80 }] }]);
    expect(config([{ split: 'Weights', backends: [{ service: 'a', port: 80 }, { service: 'b', port: 80 }] }])).toBe(weighted);
    expect(weighted).toContain('split_clients');
  });

  it('leaves weight-0 and unresolved backends out of the pool (and reports the latter), mixes task and VIP members', () => {
    const r = buildModel(
      desired([route('r', { hosts: ['h.test'], rules: [{ split: 'Tasks', backends: [{ service: 'a', port: 80, weight: 0 }, { service: 'v', port: 80, mode: 'vip' }, { service: 'gone', port: 80 }] }] })]),
      SNAP,
    );
    const pool = r.clusters[0]?.upstreams.find((u) => u.members !== undefined);
    expect(pool?.members).toEqual(['v']);
    expect(pool?.servers).toEqual([{ ip: '10.0.9.9', port: 80 }]);
    expect(r.conditions['Route/r']?.[1]).toMatchObject({ status: 'False', reason: 'BackendNotFound' });
  });

  it('answers 503 when the pool has no running task', () => {
    expect(config([{ split: 'Tasks', backends: [{ service: 'v', port: 80, weight: 0 }] }])).toMatch(/location "\/" \{\n {12}set \$sg_route "r";\n {12}return 503;/);
  });

  it('is validated: weights 0 or 1 only, backends only, and one of Weights | Tasks', () => {
    expect(issues({ hosts: ['h.test'], rules: [{ split: 'Tasks', backends: [{ service: 'a', port: 80, weight: 5 }] }] })).toEqual([
      'spec.rules[0].backends[0].weight: expected 0 (left out of the pool) or 1 with split: Tasks (shares follow task counts), got 5',
    ]);
    expect(issues({ hosts: ['h.test'], rules: [{ split: 'Tasks', redirect: { to: 'https://x.test' } }] })).toEqual(['spec.rules[0].split: only for rules with backends (this rule redirects)']);
    expect(issues({ hosts: ['h.test'], rules: [{ split: 'tasks', backends: [{ service: 'a', port: 80 }] }] })).toEqual([
      'spec.rules[0].split: expected one of Weights, Tasks, got "tasks" (did you mean "Tasks"?)',
    ]);
  });
});

describe('backends[].passiveHealthCheck', () => {
  it('sets max_fails and fail_timeout on that backend\'s servers only; defaults fill in', () => {
    const c = config([{ split: 'Tasks', backends: [{ service: 'a', port: 80, passiveHealthCheck: { maxFails: 0 } }, { service: 'b', port: 80, passiveHealthCheck: { failTimeout: '30s' } }] }]);
    expect(c).toContain('server 10.0.0.1:80 max_fails=0 fail_timeout=1s;');
    expect(c).toContain('server 10.0.0.4:80 max_fails=1 fail_timeout=30s;');
  });

  it('with the default values renders exactly as without the field', () => {
    expect(config([{ backends: [{ service: 'a', port: 80, passiveHealthCheck: { maxFails: 1, failTimeout: '1s' } }] }])).toBe(config([{ backends: [{ service: 'a', port: 80 }] }]));
  });

  it('is validated', () => {
    expect(issues({ hosts: ['h.test'], rules: [{ backends: [{ service: 'a', port: 80, passiveHealthCheck: { maxFails: 101, failTimeout: 10, maxFail: 1 } }] }] })).toEqual([
      'spec.rules[0].backends[0].passiveHealthCheck.maxFail: unknown field (did you mean "maxFails"?); allowed: maxFails, failTimeout',
      'spec.rules[0].backends[0].passiveHealthCheck.maxFails: expected integer 0..100, got 101',
      'spec.rules[0].backends[0].passiveHealthCheck.failTimeout: expected duration like 500ms, 30s, 5m, 1h30m, got 10: add a unit, e.g. "10s"',
    ]);
  });
});

describe('sessionAffinity.cookie.issuedBy', () => {
  it('Application: hash on the cookie, never set it; Proxy (or absent): set it', () => {
    const app = config([{ backends: [{ service: 'a', port: 80 }], sessionAffinity: { cookie: { name: 'sid', issuedBy: 'Application' } } }]);
    expect(app).toContain('hash $sg_ck_sid consistent;');
    expect(app).not.toContain('Set-Cookie');
    const proxy = config([{ backends: [{ service: 'a', port: 80 }], sessionAffinity: { cookie: { name: 'sid', issuedBy: 'Proxy' } } }]);
    expect(proxy).toContain('add_header Set-Cookie $sg_setck_sid_3600 always;');
    expect(config([{ backends: [{ service: 'a', port: 80 }], sessionAffinity: { cookie: { name: 'sid' } } }])).toBe(proxy);
  });
});
