import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { durationMs, sizeBytes } from '../../src/domain/brands';
import { didYouMean } from '../../src/domain/did-you-mean';
import { formatPath } from '../../src/domain/issue';
import { groupPaths, prefixCovers } from '../../src/plan/path-groups';
import type { ModelRule } from '../../src/plan/model';
import { exactRegex, nginxEscape, pathRegex } from '../../src/render/nginx/escape';
import { SPLIT_UNITS, splitPercentages, splitShares } from '../../src/render/split';

describe('formatPath', () => {
  it('prints fields, indices and odd keys the way users read them', () => {
    expect(formatPath(['spec', 'rules', 0, 'backends', 1, 'weight'])).toBe('spec.rules[0].backends[1].weight');
    expect(formatPath(['metadata', 'labels', 'app.kubernetes.io/name'])).toBe('metadata.labels["app.kubernetes.io/name"]');
  });
});

describe('didYouMean', () => {
  it('suggests near misses only', () => {
    expect(didYouMean('hots', ['hosts', 'rules', 'tls'])).toBe('hosts');
    expect(didYouMean('weigth', ['service', 'port', 'weight', 'mode'])).toBe('weight');
    expect(didYouMean('zzzzzz', ['hosts', 'rules'])).toBeUndefined();
  });
});

describe('durations and sizes', () => {
  it('adds up compound durations', () => {
    expect(durationMs('1m30s')).toBe(90_000);
    expect(durationMs('250ms')).toBe(250);
    expect(durationMs('2h')).toBe(7_200_000);
  });
  it('reads nginx and docker sizes', () => {
    expect(sizeBytes('10m')).toBe(10 * 1024 * 1024);
    expect(sizeBytes('512')).toBe(512);
    expect(sizeBytes('1G')).toBe(1024 ** 3);
  });
});

describe('splitPercentages', () => {
  it('follows declared weights and never exceeds 100 %', () => {
    expect(splitPercentages([90, 10])).toEqual(['90.00%', '*']);
    expect(splitPercentages([1, 1, 1])).toEqual(['33.33%', '33.33%', '*']);
    expect(splitPercentages([1, 999])).toEqual(['0.10%', '*']);
    expect(splitPercentages([0, 0])).toEqual([]);
  });

  it('gives every positive weight a nonzero share, the total still exactly 100 % (issue 14)', () => {
    // One backend of weight 1 among eleven of weight 1000 floored to 0.00 %, which nginx -t refuses.
    const tiny = splitShares([1, ...Array<number>(11).fill(1000)]);
    expect(tiny[0]).toBe(1);
    expect(tiny.reduce((a, b) => a + b, 0)).toBe(SPLIT_UNITS);
    expect(splitPercentages([1, ...Array<number>(11).fill(1000)])[0]).toBe('0.01%');
    // The tiny one last: the rest ("*") is still at least 0.01 %.
    const lastTiny = splitShares([...Array<number>(31).fill(1000), 1]);
    expect(lastTiny[31]).toBeGreaterThanOrEqual(1);
    expect(splitShares([...Array<number>(10).fill(1000), 1, 1])).toEqual([...Array<number>(10).fill(999), 1, 9]);
    expect(lastTiny.reduce((a, b) => a + b, 0)).toBe(SPLIT_UNITS);
  });

  it('never gives a positive weight 0, and shares sum to 10000 basis points', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(0, 1, 1000), fc.integer({ min: 0, max: 1000 })), { minLength: 1, maxLength: 32 }), (weights) => {
        const shares = splitShares(weights);
        const total = weights.reduce((a, b) => a + b, 0);
        if (total === 0) {
          expect(shares).toEqual([]);
          return;
        }
        expect(shares.reduce((a, b) => a + b, 0)).toBe(SPLIT_UNITS);
        weights.forEach((w, i) => {
          if (w > 0) expect(shares[i]).toBeGreaterThanOrEqual(1);
          // No share strays more than one unit per target from the declared ratio.
          if (i < weights.length - 1) expect(Math.abs((shares[i] ?? 0) - (w * SPLIT_UNITS) / total)).toBeLessThanOrEqual(weights.length);
        });
      }),
      { numRuns: 500 },
    );
  });
});

describe('escaping', () => {
  it('escapes quotes and backslashes and replaces $ by the sg_dollar variable', () => {
    expect(nginxEscape('a"b\\c$d')).toBe('a\\"b\\\\c${sg_dollar}d');
  });
  it('refuses control characters even if a caller forgot the brand', () => {
    expect(() => nginxEscape('a\nb')).toThrow(/control character/);
  });
  it('builds exact-match regexes from letters, digits and hex escapes only', () => {
    expect(exactRegex('a-b$')).toBe('^a\\x2db\\x24\\z');
  });
  it('neutralises regex metacharacters allowed in paths', () => {
    expect(pathRegex('/v1.0+beta')).toBe('/v1[.]0[+]beta');
  });
});

describe('path groups', () => {
  const rule = (id: string, kind: 'prefix' | 'exact', path: string, headers: { name: string; value: string }[] = []): ModelRule =>
    ({ id, route: id, match: { kind, path }, headers, cookies: [], methods: [], action: { kind: 'redirect', code: 302, responseHeaders: { set: [], add: [], remove: [] } } }) as unknown as ModelRule;

  it('covers by whole segments', () => {
    expect(prefixCovers('/api' as never, '/api/x')).toBe(true);
    expect(prefixCovers('/api' as never, '/apix')).toBe(false);
    expect(prefixCovers('/' as never, '/anything')).toBe(true);
  });

  it('orders exact before prefix and longer prefixes first, and finds fallbacks', () => {
    const groups = groupPaths([
      rule('root', 'prefix', '/'),
      rule('api', 'prefix', '/api'),
      rule('v2-canary', 'prefix', '/api/v2', [{ name: 'X-C', value: '1' }]),
      rule('health', 'exact', '/api/health', [{ name: 'X-C', value: '1' }]),
    ]);
    expect(groups.map((g) => `${g.match.kind} ${g.match.path} -> ${g.fallback?.id ?? '404'}`)).toEqual([
      'exact /api/health -> api',
      'prefix /api/v2 -> api',
      'prefix /api -> api',
      'prefix / -> root',
    ]);
  });

  it('puts rules with more conditions first', () => {
    const [g] = groupPaths([rule('one', 'prefix', '/', [{ name: 'A', value: '1' }]), rule('two', 'prefix', '/', [{ name: 'A', value: '1' }, { name: 'B', value: '2' }])]);
    expect(g?.conditional.map((r) => r.id)).toEqual(['two', 'one']);
    expect(g?.fallback).toBeUndefined();
  });
});

describe('path groups: inherited conditional rules', () => {
  const rule = (id: string, path: string, headers: { name: string; value: string }[] = []): ModelRule =>
    ({ id, route: id, match: { kind: 'prefix', path }, headers, cookies: [], methods: [], action: { kind: 'redirect', code: 302, responseHeaders: { set: [], add: [], remove: [] } } }) as unknown as ModelRule;

  it('lets a longer prefix without its own fallback try the shorter prefixes\' conditional rules first', () => {
    const groups = groupPaths([rule('root', '/'), rule('api-canary', '/api', [{ name: 'X-C', value: '1' }]), rule('v2-canary', '/api/v2', [{ name: 'X-D', value: '1' }])]);
    const v2 = groups.find((g) => g.match.path === '/api/v2');
    expect(v2?.conditional.map((r) => r.id)).toEqual(['v2-canary', 'api-canary']);
    expect(v2?.fallback?.id).toBe('root');
  });

  it('stops at the first unconditional rule: its own beats a shorter prefix\'s conditions', () => {
    const groups = groupPaths([rule('api-canary', '/api', [{ name: 'X-C', value: '1' }]), rule('v2', '/api/v2')]);
    const v2 = groups.find((g) => g.match.path === '/api/v2');
    expect(v2?.conditional).toEqual([]);
    expect(v2?.fallback?.id).toBe('v2');
  });
});

describe('status helpers', () => {
  it('reads the last run outcome from the core log, skipping other records', async () => {
    const { lastRun } = await import('../../src/cli/commands/status');
    const now = new Date('2026-01-01T00:01:00Z');
    const t = Date.parse('2026-01-01T00:00:57Z');
    const lines = [
      `{"level":30,"time":${t - 5000},"seq":4,"result":"applied","reason":"2 writes","msg":"reconciled"}`,
      'a line that is not JSON',
      `{"level":30,"time":${t},"seq":5,"result":"unchanged","reason":"converged","msg":"reconciled"}`,
      `{"level":30,"time":${t},"seq":5,"cluster":"default","msg":"proxy converged"}`,
    ];
    expect(lastRun(lines, now)).toBe('last run #5 unchanged (converged) 3s ago');
    expect(lastRun([], now)).toBe('no run logged yet');
  });

  it('demultiplexes Docker log frames into lines', async () => {
    const { demuxLogLines } = await import('../../src/observed/dockerode-adapter');
    const frame = (type: number, text: string): Buffer => {
      const body = Buffer.from(text);
      const header = Buffer.alloc(8);
      header[0] = type;
      header.writeUInt32BE(body.length, 4);
      return Buffer.concat([header, body]);
    };
    expect(demuxLogLines(Buffer.concat([frame(1, 'one\ntw'), frame(2, 'o\nthree\n')]))).toEqual(['one', 'two', 'three']);
    expect(demuxLogLines(Buffer.from('plain tty output\nsecond\n'))).toEqual(['plain tty output', 'second']);
  });
});
