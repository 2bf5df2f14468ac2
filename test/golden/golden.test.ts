/**
 * Golden tests: every directory here with `specs.yaml` and `snapshot.json` is one case.
 * specs (plus the Route equivalents of the snapshot's com.docker.lb.* service labels) → loadSpecs →
 * the core's pipeline (desiredConfig: sources → buildModel → renderCluster) for every NGINX service cluster, compared byte for byte with
 * `expected/<cluster>.nginx.conf`, `expected/conditions.json`, when the specs have invalid documents
 * `expected/issues.txt`, and when services carry Interlock labels `expected/label-routes.json`. Every rendered config must also
 * pass `nginx -t`, and rendering twice must give the same bytes. With dynamic endpoints (the default for
 * hitless clusters, ADR 0039) `expected/<cluster>.endpoints.txt` holds the task addresses the upstream
 * blocks held before, and every upstream the config proxies to has its line there. A few cases pin
 * `proxy.endpoints: Static` (01, 08, 26, 64) so the Static layout stays covered.
 *
 * `UPDATE_GOLDEN=1` (make update-golden) rewrites the expected files instead of comparing;
 * review the diff before committing it.
 */
import * as E from 'fp-ts/Either';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpecs } from '../../src/desired/load-specs';
import { formatLocatedIssue } from '../../src/desired/source-position';
import { loadSnapshotFile } from '../../src/cli/snapshot-file';
import { desiredConfig, mainFile } from '../../src/plan/pipeline';
import { ENDPOINTS_FILE } from '../../src/render/render-cluster';
import { goldenPlan } from '../helpers/golden-plan';
import { nginxAvailable, nginxCheck } from '../helpers/nginx-check';

const GOLDEN_DIR = __dirname;
const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const MIN_CASES = 28;
const KNOWN_NGINX_FAILURE = 'KNOWN_NGINX_FAILURE';
/**
 * Cases whose Plan (the Docker writes on a Swarm without swarmgate objects: configs, proxy service
 * specs, deliveries) is pinned as expected/plan.json: service clusters, host-mode publishing, TLS.
 */
const PLAN_CASES = new Set(['19-tls-terminate', '20-tls-redirect-http-custom-port', '32-two-service-clusters', '50-host-mode-backend']);

interface CaseOutput {
  /** File name under expected/ → content. */
  readonly files: ReadonlyMap<string, string>;
  /** Rendered config per cluster name. */
  readonly configs: ReadonlyMap<string, string>;
}

function caseNames(): string[] {
  return readdirSync(GOLDEN_DIR)
    .filter((name) => {
      const dir = join(GOLDEN_DIR, name);
      return statSync(dir).isDirectory() && existsSync(join(dir, 'specs.yaml')) && existsSync(join(dir, 'snapshot.json'));
    })
    .sort();
}

/** Paths relative to the working directory, so issue lines do not depend on the checkout location. */
function relativePath(...parts: string[]): string {
  return relative(process.cwd(), join(GOLDEN_DIR, ...parts));
}

function runCase(name: string): CaseOutput {
  const loaded = loadSpecs([relativePath(name, 'specs.yaml')]);
  const snapshot = loadSnapshotFile(relativePath(name, 'snapshot.json'));
  if (E.isLeft(snapshot)) throw new Error(`snapshot of ${name} does not decode:\n${snapshot.left.map(formatLocatedIssue).join('\n')}`);
  const { result, clusters } = desiredConfig({ specs: loaded.desired, snapshot: snapshot.right });
  const files = new Map<string, string>();
  const configs = new Map<string, string>();
  for (const { model, files: rendered } of clusters) {
    // An HAProxy cluster's config is haproxy.test.ts's (expected/haproxy/).
    if (model.spec.proxy.kind !== 'nginx') continue;
    const config = mainFile(rendered);
    configs.set(model.cluster, config);
    files.set(`${model.cluster}.nginx.conf`, config);
    // Dynamic endpoints: the set the agent pushes to the balancer (ADR 0016).
    const endpoints = rendered?.files.find((f) => f.path === ENDPOINTS_FILE);
    if (endpoints !== undefined) files.set(`${model.cluster}.endpoints.txt`, endpoints.content);
  }
  files.set('conditions.json', `${JSON.stringify(result.conditions, null, 2)}\n`);
  if (result.labelRoutes !== undefined) files.set('label-routes.json', `${JSON.stringify(result.labelRoutes, null, 2)}\n`);
  if (PLAN_CASES.has(name)) files.set('plan.json', goldenPlan(result.clusters, snapshot.right));
  if (loaded.issues.length > 0) files.set('issues.txt', `${loaded.issues.map(formatLocatedIssue).join('\n')}\n`);
  return { files, configs };
}

function expectedFiles(name: string): string[] {
  const dir = join(GOLDEN_DIR, name, 'expected');
  return existsSync(dir) ? readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile()).sort() : [];
}

function writeExpected(name: string, out: CaseOutput): void {
  const dir = join(GOLDEN_DIR, name, 'expected');
  mkdirSync(dir, { recursive: true });
  for (const stale of expectedFiles(name)) if (!out.files.has(stale)) rmSync(join(dir, stale));
  for (const [file, content] of out.files) writeFileSync(join(dir, file), content);
}

const cases = caseNames();

describe('golden cases', () => {
  it('pins the Plan of every plan case', () => {
    for (const name of PLAN_CASES) expect(cases, name).toContain(name);
  });

  it(`has at least ${MIN_CASES} cases, each with a README.md`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(MIN_CASES);
    for (const name of cases) expect(existsSync(join(GOLDEN_DIR, name, 'README.md')), `${name}/README.md`).toBe(true);
  });

  it('nginx can be run for the nginx -t checks, and the check is not vacuous', () => {
    expect(nginxAvailable(), 'nginx (with the stream module) must be installed; see the Makefile "unit" target').toBe(true);
    const bad = nginxCheck('pid /run/nginx.pid;\nevents {}\nhttp { server { no_such_directive on; } }\n');
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/no_such_directive/);
    const withSecrets = nginxCheck('pid /run/nginx.pid;\nevents {}\nhttp { server { listen 127.0.0.1:10443 ssl; ssl_certificate /run/secrets/c; ssl_certificate_key /run/secrets/k; } }\n');
    expect(withSecrets.ok, withSecrets.output).toBe(true);
  });

  describe.each(cases)('%s', (name) => {
    // A case whose pipeline throws fails on its own instead of aborting the whole file.
    let out: CaseOutput;
    try {
      out = runCase(name);
    } catch (e) {
      it('runs the pipeline', () => {
        throw e;
      });
      return;
    }

    if (UPDATE) {
      it('writes the expected files (UPDATE_GOLDEN=1)', () => {
        writeExpected(name, out);
      });
    } else {
      it('matches the expected files', () => {
        expect([...out.files.keys()].sort(), 'files under expected/ (rerun make update-golden if intended)').toEqual(expectedFiles(name));
        for (const [file, content] of out.files) {
          const want = readFileSync(join(GOLDEN_DIR, name, 'expected', file), 'utf8');
          expect(content, `${name}/expected/${file}`).toBe(want);
        }
      });
    }

    it('is deterministic', () => {
      const again = runCase(name);
      expect([...again.files.entries()]).toEqual([...out.files.entries()]);
    });

    // A case that documents a renderer bug nginx rejects carries KNOWN_NGINX_FAILURE (the reason);
    // its check is expected to fail, so the fix shows up as a failure telling to remove the file.
    // Dynamic endpoints (the default with hitless delivery, ADR 0039): what the upstream blocks said
    // (task addresses, max_fails, fail_timeout, affinity) is asserted through endpoints.txt above; here,
    // that the config and its set agree: every upstream the config proxies to without a block of its
    // own has exactly one well-formed line, and every other line names a static block.
    it.each([...out.configs.keys()].filter((c) => out.files.has(`${c}.endpoints.txt`)))('cluster %s: every dynamic upstream of the config has one endpoint line', (cluster) => {
      const config = out.configs.get(cluster) ?? '';
      const all = (out.files.get(`${cluster}.endpoints.txt`) ?? '').split('\n').filter((l) => l !== '');
      // Rules over several backends split by a line of the set (ADR 0049): "=ID KEY UPSTREAM:WEIGHT...".
      const splitLines = all.filter((l) => l.startsWith('='));
      // Proxy-only hosts are lines too (ADR 0050): "@HOST KIND PATH ROUTE TARGET...", named by a table server.
      const hostLines = all.filter((l) => l.startsWith('@'));
      for (const l of hostLines) expect(l, `${name}/expected/${cluster}.endpoints.txt`).toMatch(/^@(\*\.)?[a-z0-9.-]+( [=^] \/\S* [a-z0-9.-]+ (=sg_ds_\w+|u_[0-9a-f]{6}_\w+))+$/);
      const tableNames = [...config.matchAll(/^\s*server_name\n((?:\s+"[^"]+"\n)+)\s+;$/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/"([^"]+)"/g)].map((n) => n[1]));
      expect([...new Set(tableNames)].sort(), 'every tabled host has a line and a table server').toEqual(hostLines.map((l) => l.split(' ')[0]?.slice(1)).sort());
      // What the config and the host lines proxy to.
      const refs = `${config}\n${hostLines.join('\n')}`;
      const lines = all.filter((l) => !l.startsWith('=') && !l.startsWith('@'));
      for (const l of lines) expect(l, `${name}/expected/${cluster}.endpoints.txt`).toMatch(/^u_[0-9a-f]{6}_\w+ \d+ \d+(\.\d+)? (-|[\w]+)( (\d{1,3}(\.\d{1,3}){3}|\[[0-9a-f:]+\]):\d+)*$/);
      for (const l of splitLines) expect(l, `${name}/expected/${cluster}.endpoints.txt`).toMatch(/^=sg_ds_\w+ \w+( u_[0-9a-f]{6}_\w+:\d+)+$/);
      const named = lines.map((l) => l.split(' ')[0]);
      expect(new Set(named).size, 'one line per upstream').toBe(named.length);
      // Every split the config names has one line, and every line is a split the config names.
      const splitsNamed = splitLines.map((l) => l.split(' ')[0]);
      expect(splitsNamed.sort()).toEqual([...new Set([...refs.matchAll(/(?:"|\s)(=sg_ds_\w+)(?:";|\s|$)/gm)].map((m) => m[1]))].sort());
      const members = new Set(splitLines.flatMap((l) => l.split(' ').slice(2).map((m) => m.split(':')[0])));
      const blocks = new Set([...config.matchAll(/^\s*upstream (\S+) \{/gm)].map((m) => m[1]));
      const used = new Set([...[...refs.matchAll(/\bu_[0-9a-f]{6}_\w+/g)].map((m) => m[0]), ...members].filter((u) => !blocks.has(u)));
      // A forwardAuth upstream keeps its static block (subrequests cannot set $sg_upstream) and may have a line too.
      expect(named.filter((u) => !blocks.has(u)).sort()).toEqual([...used].sort());
    });

    const knownFailure = existsSync(join(GOLDEN_DIR, name, KNOWN_NGINX_FAILURE));
    const nginxTest = knownFailure ? it.fails : it;
    nginxTest.each([...out.configs.keys()])(`cluster %s passes nginx -t${knownFailure ? ` (known failure, see ${KNOWN_NGINX_FAILURE})` : ''}`, (cluster) => {
      const config = out.configs.get(cluster) ?? '';
      const check = nginxCheck(config);
      expect(check.output, `nginx -t on ${name}/expected/${cluster}.nginx.conf`).not.toMatch(/\[emerg\]|\[alert\]/);
      expect(check.ok, check.output).toBe(true);
    });
  });
});
