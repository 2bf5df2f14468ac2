/**
 * Issue 14: `validate` must stay linear on hostile input up to the 1 MiB cap (it took 38 s on 60 000 label
 * keys and 53 s on 40 000 unknown spec fields). Each adversarial input (test/helpers/adversarial-specs.ts)
 * must give the right answer; growth is checked as a ratio of CPU times (4× the input must cost well under
 * 16×, what a quadratic step costs), never as an absolute time. `npx tsx bench/validate-bench.ts` prints
 * the times.
 */
import * as E from 'fp-ts/Either';
import { LineCounter, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { runValidate } from '../../src/cli/commands/validate';
import type { Output } from '../../src/cli/output';
import { MAX_ISSUES_LISTED } from '../../src/desired/load-specs';
import { formatLocatedIssue } from '../../src/desired/source-position';
import { MAX_DOCUMENTS_PER_FILE, MAX_ISSUES_PER_DOCUMENT, MAX_NESTING_DEPTH, parseYamlDocuments } from '../../src/desired/yaml-documents';
import { MAX_UNKNOWN_FIELDS_LISTED } from '../../src/domain/codec';
import { formatPath } from '../../src/domain/issue';
import { decodeObject } from '../../src/domain/object';
import { deepBlock, deepFlow, duplicateKeys, manyLabels, manyUnknownSpecFields, megabyteInputs } from '../helpers/adversarial-specs';

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

function validate(text: string): Run {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (t) => out.push(t), err: (t) => err.push(t) };
  return { code: runValidate(['-'], io, () => text), out, err };
}

/** CPU milliseconds of `f`, the least of `runs` (wall time on a shared machine is noise). */
function cpuMs(f: () => void, runs = 3): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.cpuUsage();
    f();
    const used = process.cpuUsage(start);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/** Costs of n and 4n: linear is 4×, quadratic 16×; fail above 9× (with 5 ms of slack for tiny timings). */
function expectLinear(name: string, cost: (n: number) => number, n: number): void {
  cost(n); // warm up the JIT
  const small = cost(n);
  const large = cost(4 * n);
  console.log(`${name}: ${n} → ${small.toFixed(0)} ms CPU, ${4 * n} → ${large.toFixed(0)} ms CPU (×${(large / Math.max(small, 1)).toFixed(1)})`);
  expect(large, `${name}: 4× the input cost ${(large / small).toFixed(1)}× the CPU time`).toBeLessThan(9 * small + 5);
}

describe('adversarial inputs give the right answer', { timeout: 120_000 }, () => {
  it('60 000 label keys: one problem, the count, before any key is decoded', () => {
    const r = validate(manyLabels(60_000));
    expect(r.err).toEqual(['<stdin>:5:3 Route/r metadata.labels: expected at most 256 entries, got 60000', '1 problem found']);
  });

  it(`40 000 unknown spec fields: the first ${MAX_UNKNOWN_FIELDS_LISTED} listed where they are, then one line with the rest`, () => {
    const r = validate(manyUnknownSpecFields(40_000));
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(MAX_UNKNOWN_FIELDS_LISTED + 2);
    expect(r.err[0]).toBe(
      '<stdin>:5:1 Route/r spec: 39980 more unknown fields (not listed); allowed: serviceCluster, hosts, rules, defaultBackend, tls, canary, middlewares',
    );
    expect(r.err[1]).toMatch(/^<stdin>:11:3 Route\/r spec\.x0: unknown field/);
    expect(r.err[MAX_UNKNOWN_FIELDS_LISTED]).toMatch(/^<stdin>:30:3 Route\/r spec\.x19: unknown field/);
    expect(r.err.at(-1)).toBe(`${MAX_UNKNOWN_FIELDS_LISTED + 1} problems found`);
  });

  it(`duplicate keys: each reported where the library's own check put it, at most ${MAX_ISSUES_PER_DOCUMENT} per document`, () => {
    const r = validate(duplicateKeys(60_000));
    expect(r.err.slice(0, 2)).toEqual(['<stdin>:7:3 invalid YAML: Map keys must be unique', '<stdin>:8:3 invalid YAML: Map keys must be unique']);
    expect(r.err.slice(-2)).toEqual([`<stdin>:${6 + MAX_ISSUES_PER_DOCUMENT}:3 and ${59_999 - MAX_ISSUES_PER_DOCUMENT} more problems in this document (not listed)`, '59999 problems found']);
  });

  it('finds the same duplicate keys at the same places as the library\'s uniqueKeys check', () => {
    const shapes = [
      'a: 1\nb: 2\na: 3\n',
      'a: {x: 1, y: 2, x: 3}\n',
      '- {x: 1}\n- x: 1\n  x: 2\n',
      '1: a\n"1": b\n',
      'true: a\n"true": b\ntrue: c\n',
      '? a\n: 1\na: 2\n',
      'null: 1\n~: 2\n',
      '&k a: 1\n!!str a: 2\n',
      'a:\n  b: 1\n  c:\n    b: 2\n    b: 3\n  b: 4\n',
      '---\na: 1\n---\na: 1\na: 1\n',
      'a: 1\na: [unclosed\n',
    ];
    for (const text of shapes) {
      const counter = new LineCounter();
      const theirs = parseAllDocuments(text, { lineCounter: counter, uniqueKeys: true, strict: true, prettyErrors: false, logLevel: 'error' });
      const expected = (Array.isArray(theirs) ? theirs : [theirs])
        .flatMap((d) => d.errors)
        .map((e) => ({ ...counter.linePos(e.pos[0]), message: e.message.split('\n')[0] }))
        .sort((a, b) => a.line - b.line || a.col - b.col);
      const ours = parseYamlDocuments(text, 'f').issues.map((i) => ({ line: i.at.line, col: i.at.col, message: i.message.replace(/^invalid YAML: /, '') }));
      expect(ours, text).toEqual(expected);
    }
  });

  it(`nesting deeper than ${MAX_NESTING_DEPTH} levels, flow or block, is refused before parsing`, () => {
    expect(validate(deepFlow(MAX_NESTING_DEPTH + 1)).err).toEqual([`<stdin>:5:${7 + MAX_NESTING_DEPTH} invalid YAML: nested deeper than ${MAX_NESTING_DEPTH} levels`, '1 problem found']);
    expect(validate(deepBlock(MAX_NESTING_DEPTH + 5)).err[0]).toMatch(/^<stdin>:\d+:\d+ invalid YAML: nested deeper than 100 levels$/);
    // Not too eager: brackets in quoted scalars, comments and plain scalars are no nesting.
    const text = `a: "${'['.repeat(200)}"\nb: '${'{'.repeat(200)}'\n# ${'['.repeat(200)}\nc: x${'['.repeat(200)}\nd: [it's, "[[[[", x]\n`;
    expect(parseYamlDocuments(text, 'f').issues).toEqual([]);
    expect(parseYamlDocuments(deepFlow(MAX_NESTING_DEPTH - 5), 'f').issues).toEqual([]);
  });

  it('1 MiB of every shape: each refused with the right first problem, or accepted', { timeout: 300_000 }, () => {
    const inputs = megabyteInputs();
    const first: Record<string, RegExp> = {
      'labels, 1 MiB': /^<stdin>:5:3 Route\/r metadata\.labels: expected at most 256 entries, got \d+$/,
      'unknown spec fields, 1 MiB': /^<stdin>:5:1 Route\/r spec: \d+ more unknown fields \(not listed\)/,
      'unknown fields in a flow mapping, 1 MiB': /^<stdin>:5:1 Route\/r spec: \d+ more unknown fields \(not listed\)/,
      'duplicate keys, 1 MiB': /^<stdin>:7:3 invalid YAML: Map keys must be unique$/,
      'flow nesting, 1 MiB': /nested deeper than 100 levels$/,
      'block nesting, 1 MiB': /nested deeper than 100 levels$/,
      'empty documents, 1 MiB': new RegExp(`^<stdin>:1:1 more than ${MAX_DOCUMENTS_PER_FILE} documents in one file$`),
      'tiny documents, 1 MiB': new RegExp(`^<stdin>:1:1 more than ${MAX_DOCUMENTS_PER_FILE} documents in one file$`),
      'hosts, 1 MiB': /^<stdin>:6:3 Route\/r spec\.rules: expected at least 1 item, got 0$/,
      'one long key, 1 MiB': /^<stdin>:6:3 invalid YAML: The : indicator must be at most 1024 chars/,
      'one long quoted key, 1 MiB': /^<stdin>:6:3 invalid YAML: The : indicator must be at most 1024 chars/,
      'one long label value, 1 MiB': /^<stdin>:6:5 Route\/r metadata\.labels\.k: expected label value/,
      'anchors and aliases, 1 MiB': /too many alias expansions \(limit 100\)/,
      'compact nested lists, 1 MiB': /^<stdin>:6:6 invalid YAML: /,
      '1000 invalid documents': /^<stdin>:6:16 Route\/r0 spec\.hosts\[0\]: expected hostname/,
      '1000 documents, one with many problems each': /^<stdin>:6:1 Route\/r0 spec: 40 more unknown fields \(not listed\)/,
    };
    for (const [name, text] of Object.entries(inputs)) {
      const t0 = performance.now();
      const r = validate(text);
      console.log(`${name}: ${(text.length / 1024).toFixed(0)} KiB, ${(performance.now() - t0).toFixed(0)} ms, ${r.err.length} lines`);
      if (name === '1000 valid routes') {
        expect(r.err).toEqual([]);
        expect(r.out).toHaveLength(MAX_DOCUMENTS_PER_FILE);
        continue;
      }
      expect(r.code, name).toBe(1);
      expect(r.err[0], name).toMatch(first[name] ?? /^$/);
      expect(r.err.length, name).toBeLessThanOrEqual(MAX_ISSUES_LISTED + 2);
    }
  });

  it(`lists at most ${MAX_ISSUES_LISTED} problems for all the inputs together, then counts the rest`, () => {
    const r = validate(megabyteInputs()['1000 invalid documents'] ?? '');
    expect(r.err).toHaveLength(MAX_ISSUES_LISTED + 2);
    expect(r.err.at(-2)).toMatch(/ and \d+ more problems \(not listed\)$/);
    // The count covers the unlisted ones: 1000 documents with 5 problems each.
    expect(r.err.at(-1)).toBe('5000 problems found');
  });
});

describe('cost grows linearly with the input', { timeout: 120_000 }, () => {
  it('validate: label keys, unknown spec fields, duplicate keys', { timeout: 300_000 }, () => {
    expectLinear('label keys', (n) => cpuMs(() => validate(manyLabels(n))), 5_000);
    expectLinear('unknown spec fields', (n) => cpuMs(() => validate(manyUnknownSpecFields(n))), 5_000);
    expectLinear('duplicate keys', (n) => cpuMs(() => validate(duplicateKeys(n))), 5_000);
  });

  it('decodeObject (what the core runs on stored specs, parsed from JSON): label keys and unknown fields', { timeout: 120_000 }, () => {
    const labels = (n: number) => ({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'r', labels: Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v'])) }, spec: { hosts: ['a.example.com'], rules: [{ backends: [{ service: 'web', port: 80 }] }] } });
    const unknown = (n: number) => ({ apiVersion: 'swarmgate.io/v1', kind: 'Route', metadata: { name: 'r' }, spec: { hosts: ['a.example.com'], rules: [{ backends: [{ service: 'web', port: 80 }] }], ...Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, 1])) } });
    const issues = (u: unknown) => {
      const r = decodeObject(JSON.parse(JSON.stringify(u)));
      return E.isLeft(r) ? r.left.map((i) => `${formatPath(i.path)}: ${i.message}`) : [];
    };
    expect(issues(labels(60_000))).toEqual(['metadata.labels: expected at most 256 entries, got 60000']);
    const u = issues(unknown(40_000));
    expect(u).toHaveLength(MAX_UNKNOWN_FIELDS_LISTED + 1);
    expect(u.at(-1)).toMatch(/^spec: 39980 more unknown fields \(not listed\)/);
    expectLinear('decodeObject label keys', (n) => cpuMs(() => issues(labels(n))), 20_000);
    expectLinear('decodeObject unknown fields', (n) => cpuMs(() => issues(unknown(n))), 20_000);
  });

  it('locating problems: one lookup per problem, not a scan of the mapping', { timeout: 120_000 }, () => {
    // Every problem of a wide document is located; each lookup must not scan the mapping's keys.
    const wide = (n: number) => `${Array.from({ length: n }, (_, i) => `k${i}: 1\n`).join('')}`;
    expectLinear(
      'locate',
      (n) =>
        cpuMs(() => {
          const doc = parseYamlDocuments(wide(n), 'f').documents[0];
          for (let i = 0; i < n; i += 1) doc?.locate([`k${i}`]);
        }),
      5_000,
    );
    const doc = parseYamlDocuments(wide(100), 'f').documents[0];
    expect(doc === undefined ? undefined : formatLocatedIssue({ at: doc.locate(['k42']), message: 'here' })).toBe('f:43:1 here');
  });
});
