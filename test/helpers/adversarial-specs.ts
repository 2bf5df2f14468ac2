/**
 * Hostile spec inputs for `validate` (test/unit/validate-limits.test.ts and bench/validate-bench.ts): each
 * is at most MAX_INPUT_BYTES and built to make a non-linear step quadratic (many keys in one mapping,
 * many problems to locate, deep nesting, many documents, long scalars).
 */
import { MAX_INPUT_BYTES } from '../../src/desired/read-inputs';
import { MAX_DOCUMENTS_PER_FILE as MAX_DOCS } from '../../src/desired/yaml-documents';

const HEAD = 'apiVersion: swarmgate.io/v1\nkind: Route\nmetadata:\n  name: r\n';
const SPEC = 'spec:\n  hosts: [a.example.com]\n  rules:\n    - backends:\n        - service: web\n          port: 80\n';

/** Repeat `unit(i)` until the next one would pass `limit` bytes (ASCII only, so characters are bytes). */
function fill(prefix: string, unit: (i: number) => string, limit = MAX_INPUT_BYTES, suffix = '', count = Infinity): string {
  const parts = [prefix];
  let size = prefix.length + suffix.length;
  for (let i = 0; i < count; i++) {
    const u = unit(i);
    if (size + u.length > limit) break;
    parts.push(u);
    size += u.length;
  }
  parts.push(suffix);
  return parts.join('');
}

/** `n` label keys under metadata.labels (60 000: the 480 KB file of issue 14). */
export function manyLabels(n: number): string {
  const lines = Array.from({ length: n }, (_, i) => `    k${i}: v\n`);
  return `${HEAD}  labels:\n${lines.join('')}${SPEC}`;
}

/** A valid spec plus `n` unknown fields under spec. */
export function manyUnknownSpecFields(n: number): string {
  return `${HEAD}${SPEC}${Array.from({ length: n }, (_, i) => `  x${i}: 1\n`).join('')}`;
}

/** The same key `n` times in one mapping. */
export function duplicateKeys(n: number): string {
  return `${HEAD}spec:\n${'  hosts: [a]\n'.repeat(n)}`;
}

/** One flow collection nested `depth` deep ("[[[...]]]"). */
export function deepFlow(depth: number): string {
  return `${HEAD}spec: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
}

/** Block mappings nested `depth` deep (one more space of indentation per level). */
export function deepBlock(depth: number): string {
  return `${HEAD}spec:\n${Array.from({ length: depth }, (_, i) => `${' '.repeat(i + 2)}k:\n`).join('')}`;
}

/** A whole 1 MiB file of each shape, named. */
export function megabyteInputs(): Record<string, string> {
  return {
    'labels, 1 MiB': fill(`${HEAD}  labels:\n`, (i) => `    k${i}: v\n`, MAX_INPUT_BYTES, SPEC),
    'unknown spec fields, 1 MiB': fill(`${HEAD}${SPEC}`, (i) => `  x${i}: 1\n`),
    'unknown fields in a flow mapping, 1 MiB': fill(`${HEAD}spec: {`, (i) => `k${i}: 1, `, MAX_INPUT_BYTES, '}\n'),
    'duplicate keys, 1 MiB': fill(`${HEAD}spec:\n`, () => '  hosts: [a]\n'),
    'flow nesting, 1 MiB': deepFlow(MAX_INPUT_BYTES / 2 - 100),
    'block nesting, 1 MiB': fill(`${HEAD}spec:\n`, (i) => `${' '.repeat(i + 2)}k:\n`),
    'empty documents, 1 MiB': fill('', () => '---\n'),
    'tiny documents, 1 MiB': fill('', () => '---\n{}\n'),
    'hosts, 1 MiB': fill(`${HEAD}spec:\n  rules: []\n  hosts:\n`, () => '    - a.b\n'),
    'one long key, 1 MiB': `${HEAD}spec:\n  ${'x'.repeat(MAX_INPUT_BYTES - 200)}: 1\n`,
    'one long quoted key, 1 MiB': `${HEAD}spec:\n  "${'x'.repeat(MAX_INPUT_BYTES - 200)}": 1\n`,
    'one long label value, 1 MiB': `${HEAD}  labels:\n    k: "${'x'.repeat(MAX_INPUT_BYTES - 200)}"\n${SPEC}`,
    'anchors and aliases, 1 MiB': fill(`${HEAD}spec:\n  hosts: [a.example.com]\n  x: &a [1]\n  rules:\n`, () => '    - *a\n'),
    'compact nested lists, 1 MiB': `${HEAD}spec:\n  x: ${'- '.repeat(MAX_INPUT_BYTES / 2 - 100)}1\n`,
    '1000 invalid documents': fill('', (i) => `---\n${HEAD.replace('name: r', `name: r${i}`)}spec: {hosts: [A], rules: [], bad1: 1, bad2: 2, tls: {mode: x}}\n`, MAX_INPUT_BYTES, '', MAX_DOCS),
    '1000 documents, one with many problems each': fill('', (i) => `---\n${HEAD.replace('name: r', `name: r${i}`)}spec: {${Array.from({ length: 60 }, (_, j) => `b${j}: 1`).join(', ')}}\n`, MAX_INPUT_BYTES, '', MAX_DOCS),
    '1000 valid routes': fill('', (i) => `---\n${HEAD.replace('name: r', `name: r${i}`)}${SPEC}`, MAX_INPUT_BYTES, '', MAX_DOCS),
  };
}
