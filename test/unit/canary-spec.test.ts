/**
 * `spec.canary`: whole objects accepted or rejected alike by crds/route.schema.json and
 * decodeObject (field-level agreement is in crds.test.ts, which walks the new fields too), the
 * cross-field rules of canary-checks.ts, and the percentage helper.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import * as E from 'fp-ts/Either';
import { describe, expect, it } from 'vitest';
import { percentageThousandths } from '../../src/domain/canary';
import { formatPath } from '../../src/domain/issue';
import { decodeObject } from '../../src/domain/object';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'crds', 'route.schema.json'), 'utf8')) as object;

const route = (spec: Record<string, unknown>): Record<string, unknown> => ({
  apiVersion: 'swarmgate.io/v1',
  kind: 'Route',
  metadata: { name: 'shop' },
  spec: { hosts: ['shop.example.com'], rules: [{ backends: [{ service: 'shop-v1', port: 8080 }] }], ...spec },
});

const CANARY = {
  strategy: 'canary',
  stable: { service: 'shop-v1', port: 8080 },
  canary: { service: 'shop-v2', port: 8080 },
  steps: [{ setWeight: 5 }, { pause: { duration: '5m' } }, { setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: '10m' } }],
  analysis: { interval: '30s', maxErrorRate: '0.5%', maxP99Latency: '400ms', minRequests: 50, failureLimit: 3 },
  scaleDownDelay: '15m',
  webhooks: [
    { name: 'smoke', type: 'preRollout', url: 'http://tester:8080/smoke', timeout: '30s' },
    { name: 'load', type: 'rollout', url: 'http://tester:8080/check?route=shop' },
    { name: 'chat', type: 'postRollout', url: 'https://chat.example.com/hooks/deploy' },
  ],
};

const BLUE_GREEN = {
  strategy: 'blueGreen',
  active: { service: 'shop-v1', port: 8080 },
  preview: { service: 'shop-v2', port: 8080 },
  previewHost: 'preview.shop.example.com',
  scaleDownDelay: '30m',
};

function decodeIssues(object: Record<string, unknown>): string[] {
  const r = decodeObject(object);
  return E.isLeft(r) ? r.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : [];
}

describe('schema and codec on whole objects with spec.canary', () => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validate = ajv.compile(schema);

  it.each([
    ['canary with everything', route({ canary: CANARY })],
    ['minimal canary', route({ canary: { stable: CANARY.stable, canary: CANARY.canary, steps: [{ setWeight: 50 }, { pause: {} }] } })],
    ['blue-green', route({ canary: BLUE_GREEN })],
    ['blue-green with analysis from a webhook only', route({ canary: { ...BLUE_GREEN, analysis: {}, webhooks: [CANARY.webhooks[1]] } })],
    [
      'other rules left alone: a header rule to the canary, a redirect',
      route({
        rules: [
          { match: { headers: [{ name: 'X-Canary', value: 'always' }] }, backends: [{ service: 'shop-v2', port: 8080 }] },
          { backends: [{ service: 'shop-v1', port: 8080, mode: 'vip' }] },
          { match: { path: '/old' }, redirect: { path: '/new' } },
        ],
        canary: CANARY,
      }),
    ],
  ])('%s: accepted by both', (_name, object) => {
    expect(validate(object) ? [] : validate.errors).toEqual([]);
    expect(decodeIssues(object)).toEqual([]);
  });

  it('filling schema defaults gives what the codec decodes', () => {
    const filling = new Ajv2020({ strict: true, useDefaults: true }).compile(schema);
    const object = route({ canary: { stable: CANARY.stable, canary: CANARY.canary, steps: CANARY.steps, analysis: { maxErrorRate: '1%' }, webhooks: [{ name: 'x', type: 'rollout', url: 'http://x/' }] } });
    const filled = structuredClone(object);
    expect(filling(filled)).toBe(true);
    const decoded = decodeObject(object);
    expect(decoded).toEqual(E.right(expect.anything()));
    if (E.isRight(decoded)) expect(JSON.parse(JSON.stringify(decoded.right))).toEqual(filled);
    expect((filled['spec'] as { canary: unknown }).canary).toMatchObject({
      strategy: 'canary',
      analysis: { interval: '1m', minRequests: 100, failureLimit: 2 },
      webhooks: [{ timeout: '10s' }],
    });
  });

  it.each([
    ['setWeight 0', { ...CANARY, steps: [{ setWeight: 0 }, { pause: {} }] }, 'spec.canary.steps[0].setWeight: expected integer 1..100, got 0'],
    ['setWeight 101', { ...CANARY, steps: [{ setWeight: 101 }, { pause: {} }] }, 'spec.canary.steps[0].setWeight: expected integer 1..100, got 101'],
    ['empty steps', { ...CANARY, steps: [] }, 'spec.canary.steps: expected at least 1 item, got 0'],
    ['unknown strategy', { ...CANARY, strategy: 'abTest' }, 'spec.canary.strategy: expected one of canary, blueGreen, got "abTest"'],
    ['percentage without %', { ...CANARY, analysis: { maxErrorRate: '1' } }, 'spec.canary.analysis.maxErrorRate: expected percentage like 1%, 0.5%, 100%, got "1": use 0 to 100 with at most 3 decimals, followed by "%"'],
    ['percentage with 4 decimals', { ...CANARY, analysis: { maxErrorRate: '0.0001%' } }, 'spec.canary.analysis.maxErrorRate: expected percentage like 1%, 0.5%, 100%, got "0.0001%": use 0 to 100 with at most 3 decimals, followed by "%"'],
    ['webhook without url', { ...CANARY, webhooks: [{ name: 'a', type: 'rollout' }] }, 'spec.canary.webhooks[0].url: required field missing (expected absolute http(s) URL)'],
    ['backend without port', { ...CANARY, canary: { service: 'shop-v2' } }, 'spec.canary.canary.port: required field missing (expected port 1..65535)'],
    ['unknown pause field', { ...CANARY, steps: [{ setWeight: 1 }, { pause: { for: '1m' } }] }, 'spec.canary.steps[1].pause.for: unknown field; allowed: duration'],
  ])('%s: rejected by both', (_name, canary, issue) => {
    const object = route({ canary });
    expect(validate(object)).toBe(false);
    expect(decodeIssues(object)).toContain(issue);
  });
});

describe('cross-field rules of spec.canary (validate only; the schema cannot state them)', () => {
  it.each([
    ['stable == canary', { ...CANARY, canary: { service: 'shop-v1', port: 9090 } }, ['spec.canary.canary.service: must differ from stable.service (both are "shop-v1"): a rollout shifts traffic between two services']],
    ['active == preview', { ...BLUE_GREEN, preview: BLUE_GREEN.active }, ['spec.canary.preview.service: must differ from active.service (both are "shop-v1"): a rollout shifts traffic between two services']],
    [
      'weights not increasing',
      { ...CANARY, steps: [{ setWeight: 30 }, { pause: {} }, { setWeight: 30 }, { pause: {} }] },
      ['spec.canary.steps[2].setWeight: must be greater than the previous setWeight (30 at steps[0])'],
    ],
    ['setWeight last', { ...CANARY, steps: [{ setWeight: 30 }] }, ['spec.canary.steps[0]: the last step is a setWeight: after the last step all traffic goes to the canary at once; add a pause after it']],
    ['setWeight then setWeight', { ...CANARY, steps: [{ setWeight: 10 }, { setWeight: 20 }, { pause: {} }] }, ['spec.canary.steps[0]: setWeight 10 would last no time: add a pause before steps[1]']],
    ['pause of 0s', { ...CANARY, steps: [{ setWeight: 10 }, { pause: { duration: '0ms' } }] }, ['spec.canary.steps[1].pause.duration: a pause must last longer than 0s; use pause: {} to wait for a promote']],
    ['empty step', { ...CANARY, steps: [{ setWeight: 10 }, {}] }, ['spec.canary.steps[1]: expected setWeight: N, pause: {duration: 30s}, or pause: {} (wait for a promote)']],
    [
      'canary fields missing',
      { strategy: 'canary' },
      ['spec.canary.stable: required with strategy canary', 'spec.canary.canary: required with strategy canary', 'spec.canary.steps: required with strategy canary'],
    ],
    [
      'blue-green fields missing, canary fields present',
      { strategy: 'blueGreen', stable: CANARY.stable, canary: CANARY.canary, steps: CANARY.steps },
      [
        'spec.canary.active: required with strategy blueGreen',
        'spec.canary.preview: required with strategy blueGreen',
        'spec.canary.previewHost: required with strategy blueGreen',
        'spec.canary.scaleDownDelay: required with strategy blueGreen',
        'spec.canary.stable: only with strategy canary',
        'spec.canary.canary: only with strategy canary',
        'spec.canary.steps: only with strategy canary',
      ],
    ],
    ['previewHost is a host of the route', { ...BLUE_GREEN, previewHost: 'shop.example.com' }, ["spec.canary.previewHost: must not be one of the route's hosts (it is spec.hosts[0]): the preview needs a host of its own"]],
    ['analysis interval 4s', { ...CANARY, analysis: { interval: '4s', maxErrorRate: '1%' } }, ['spec.canary.analysis.interval: must be at least 5s']],
    ['analysis checks nothing', { ...CANARY, analysis: { interval: '5s' }, webhooks: [CANARY.webhooks[0]] }, ['spec.canary.analysis: checks nothing: give maxErrorRate, maxP99Latency, or a webhook of type rollout']],
    ['webhook timeout 61s', { ...CANARY, webhooks: [{ name: 'a', type: 'preRollout', url: 'http://a/', timeout: '61s' }] }, ['spec.canary.webhooks[0].timeout: must be at most 1m']],
    [
      'no rule sends to stable alone',
      { ...CANARY, stable: { service: 'shop-v1', port: 9090 } },
      ['spec.canary.stable: no rule sends to service "shop-v1" port 9090 alone; the rollout shifts the traffic of rules whose backends are exactly [{service: shop-v1, port: 9090}]'],
    ],
  ])('%s', (_name, canary, issues) => {
    expect(decodeIssues(route({ canary }))).toEqual(issues);
  });

  it('a rule with several backends may not name a rolled-out service', () => {
    const object = route({
      rules: [
        { backends: [{ service: 'shop-v1', port: 8080 }] },
        { match: { pathPrefix: '/api' }, backends: [{ service: 'api', port: 80 }, { service: 'shop-v2', port: 8080 }] },
      ],
      canary: CANARY,
    });
    expect(decodeIssues(object)).toEqual([
      'spec.rules[1].backends[1].service: service "shop-v2" is rolled out by spec.canary; a rule with several backends cannot also split traffic to it (the rollout sets the weights)',
    ]);
  });

  it('blue-green: scaleDownDelay is the one field a canary may share', () => {
    expect(decodeIssues(route({ canary: { ...CANARY, scaleDownDelay: '1m' } }))).toEqual([]);
  });
});

describe('percentageThousandths', () => {
  it.each([
    ['0%', 0],
    ['1%', 1000],
    ['0.5%', 500],
    ['0.05%', 50],
    ['0.001%', 1],
    ['12.345%', 12345],
    ['100%', 100_000],
    ['100.000%', 100_000],
  ])('%s → %d', (p, n) => {
    expect(percentageThousandths(p)).toBe(n);
  });
});
