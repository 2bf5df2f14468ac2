/**
 * `swarmgate validate` on bad input: every case under test/fixtures/invalid is a spec file (or a
 * directory) plus a `.expected` file holding the exact stderr lines. Inputs that must not be committed
 * (too big, binary, missing, dangling links) are generated into a temporary directory.
 * Paths are relative to the repository root, which is where the lines' FILE part comes from.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { runValidate } from '../../src/cli/commands/validate';
import type { Output } from '../../src/cli/output';
import { MAX_INPUT_BYTES } from '../../src/desired/read-inputs';
import { MAX_DOCUMENTS_PER_FILE } from '../../src/desired/yaml-documents';

const ROOT = resolve(__dirname, '../..');
const INVALID = 'test/fixtures/invalid';
const VALID = 'test/fixtures/valid';

interface Run {
  readonly code: number;
  readonly out: string[];
  readonly err: string[];
}

function validate(paths: readonly string[], stdin?: () => string): Run {
  const out: string[] = [];
  const err: string[] = [];
  const io: Output = { out: (text) => out.push(text), err: (text) => err.push(text) };
  const code = runValidate(paths, io, stdin);
  return { code, out, err };
}

function expectedLines(file: string): string[] {
  return readFileSync(file, 'utf8').replace(/\n$/, '').split('\n');
}

/** The input of a case: `<name>.yaml`, `<name>.json` or the directory `<name>/`. */
function inputOf(name: string): string {
  const found = [`${INVALID}/${name}.yaml`, `${INVALID}/${name}.json`, `${INVALID}/${name}`].find((p) => existsSync(p));
  if (found === undefined) throw new Error(`case ${name} has an .expected file but no input`);
  return found;
}

const ROUTE = ['apiVersion: swarmgate.io/v1', 'kind: Route', 'metadata:', '  name: web', 'spec:', '  hosts: [example.com]', '  rules:', '    - backends: [{service: web, port: 8080}]', ''].join('\n');

let warnings: MockInstance<typeof process.emitWarning>;

beforeAll(() => {
  // Fixture paths (and so the FILE part of every expected line) are relative to the repository root.
  expect(process.cwd(), 'run vitest from the repository root').toBe(ROOT);
});

beforeEach(() => {
  // The YAML library must not print to the process's stderr behind the Output sink.
  warnings = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
});

afterEach(() => {
  warnings.mockRestore();
});

describe('validate: invalid fixtures', () => {
  const cases = readdirSync(INVALID)
    .filter((f) => f.endsWith('.expected'))
    .map((f) => f.slice(0, -'.expected'.length))
    .sort();

  it('has at least 45 cases, each with an input and an expected file', () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    for (const entry of readdirSync(INVALID)) {
      const name = entry.replace(/\.(ya?ml|json|expected)$/, '');
      expect(existsSync(`${INVALID}/${name}.expected`), `${entry} has no .expected file`).toBe(true);
    }
  });

  it.each(cases)('%s', (name) => {
    const r = validate([inputOf(name)]);
    expect(r.err).toEqual(expectedLines(`${INVALID}/${name}.expected`));
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('reports a duplicate across two files named on the command line, against the first one given', () => {
    const a = `${INVALID}/33-duplicate-across-files/a.yaml`;
    const b = `${INVALID}/33-duplicate-across-files/b.yaml`;
    expect(validate([b, a]).err).toEqual([`${a}:4:3 Route/web metadata.name: duplicate Route/web (first defined at ${b}:10:3)`, '1 problem found']);
  });

  it('reports problems of every input, not only of the first', () => {
    const r = validate([`${INVALID}/08-weight-1500.yaml`, `${VALID}/routes.yaml`, `${INVALID}/09-port-zero.yaml`]);
    expect(r.err).toEqual([
      ...expectedLines(`${INVALID}/08-weight-1500.expected`).slice(0, -1),
      ...expectedLines(`${INVALID}/09-port-zero.expected`).slice(0, -1),
      '2 problems found',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
  });
});

describe('validate: generated inputs', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'swarmgate-validate-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a file over the 1 MiB cap without parsing it', () => {
    const file = join(dir, 'big.yaml');
    writeFileSync(file, ROUTE + `# ${'x'.repeat(MAX_INPUT_BYTES)}\n`);
    const size = readFileSync(file).length;
    const r = validate([file]);
    expect(r.err).toEqual([`${file}:1:1 file is ${size} bytes; the limit is ${MAX_INPUT_BYTES}`, '1 problem found']);
    expect(r.code).toBe(1);
  });

  it('accepts a file of exactly 1 MiB', () => {
    const file = join(dir, 'exact.yaml');
    const head = `${ROUTE}# `;
    writeFileSync(file, `${head}${'x'.repeat(MAX_INPUT_BYTES - head.length - 1)}\n`);
    expect(readFileSync(file).length).toBe(MAX_INPUT_BYTES);
    expect(validate([file])).toEqual({ code: 0, out: ['Route/web valid'], err: [] });
  });

  it('refuses stdin over the cap', () => {
    const r = validate(['-'], () => ROUTE + `# ${'x'.repeat(MAX_INPUT_BYTES)}\n`);
    expect(r.err).toEqual([`<stdin>:1:1 input larger than ${MAX_INPUT_BYTES} bytes`, '1 problem found']);
    expect(r.code).toBe(1);
  });

  it.runIf(existsSync('/dev/zero'))('stops reading an endless device at the cap', () => {
    const r = validate(['/dev/zero']);
    expect(r.err).toEqual([`/dev/zero:1:1 input larger than ${MAX_INPUT_BYTES} bytes`, '1 problem found']);
    expect(r.code).toBe(1);
  });

  it('refuses a binary file with a NUL byte', () => {
    const file = join(dir, 'binary.yaml');
    writeFileSync(file, Buffer.concat([Buffer.from(ROUTE), Buffer.from([0x00, 0xff, 0xfe, 0x00])]));
    const r = validate([file]);
    expect(r.err).toEqual([`${file}:1:1 not YAML: binary content (NUL byte)`, '1 problem found']);
    expect(r.code).toBe(1);
  });

  it('reports a missing file and still checks the others', () => {
    const r = validate([`${INVALID}/does-not-exist.yaml`, `${INVALID}/09-port-zero.yaml`]);
    expect(r.err).toEqual([
      `${INVALID}/does-not-exist.yaml:1:1 no such file or directory`,
      ...expectedLines(`${INVALID}/09-port-zero.expected`).slice(0, -1),
      '2 problems found',
    ]);
    expect(r.code).toBe(1);
  });

  it('reports a dangling symlink inside a directory instead of crashing', () => {
    const sub = join(dir, 'linked');
    mkdirSync(sub);
    writeFileSync(join(sub, 'a.yaml'), ROUTE);
    symlinkSync(join(dir, 'nowhere.yaml'), join(sub, 'b.yaml'));
    const r = validate([sub]);
    expect(r.err).toEqual([`${join(sub, 'b.yaml')}:1:1 no such file or directory`, '1 problem found']);
    expect(r.code).toBe(1);
  });

  it('reads a directory reachable through a symlink loop only once', () => {
    const sub = join(dir, 'loop');
    mkdirSync(sub);
    writeFileSync(join(sub, 'a.yaml'), ROUTE);
    symlinkSync('.', join(sub, 'again'));
    expect(validate([sub])).toEqual({ code: 0, out: ['Route/web valid'], err: [] });
  });

  it(`refuses more than ${MAX_DOCUMENTS_PER_FILE} documents in one file`, () => {
    const file = join(dir, 'many.yaml');
    writeFileSync(file, `${ROUTE}${'---\n'.repeat(MAX_DOCUMENTS_PER_FILE)}`);
    expect(validate([file]).err).toEqual([`${file}:1:1 more than ${MAX_DOCUMENTS_PER_FILE} documents in one file`, '1 problem found']);
  });

  it('turns pathological nesting into one located line, not a stack trace', () => {
    const file = join(dir, 'deep.yaml');
    writeFileSync(file, `${ROUTE}x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    const r = validate([file]);
    expect(r.code).toBe(1);
    expect(r.err.length).toBeGreaterThanOrEqual(2);
    for (const line of r.err.slice(0, -1)) expect(line).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+ invalid YAML: `));
    expect(r.err.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('gives the same positions for CRLF line endings', () => {
    const file = join(dir, 'crlf.yaml');
    writeFileSync(file, readFileSync(`${INVALID}/55-many-problems-one-document.yaml`, 'utf8').replace(/\n/g, '\r\n'));
    const expected = expectedLines(`${INVALID}/55-many-problems-one-document.expected`).map((l) => l.replace(`${INVALID}/55-many-problems-one-document.yaml`, file));
    expect(validate([file]).err).toEqual(expected);
  });
});

describe('validate: valid fixtures', () => {
  it('exits 0 and prints one "Kind/name valid" line per object, in input order', () => {
    const r = validate([`${VALID}/routes.yaml`, `${VALID}/passthrough.yaml`, `${VALID}/directory`]);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([
      'ServiceCluster/edge valid',
      'Route/web valid',
      'Route/legacy valid',
      'ServiceCluster/db valid',
      'Route/db valid',
      // Directories are read recursively in name order; only YAML files count (README.md and
      // snapshot.json beside the specs are skipped).
      'Route/dir-web valid',
      'ServiceCluster/default valid',
    ]);
    expect(warnings).not.toHaveBeenCalled();
  });

  it('reads stdin with "-"', () => {
    expect(validate(['-'], () => ROUTE)).toEqual({ code: 0, out: ['Route/web valid'], err: [] });
  });
});
