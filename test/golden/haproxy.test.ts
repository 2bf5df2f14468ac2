/**
 * HAProxy goldens over the same cases and the same pipeline as golden.test.ts: specs (plus the
 * Route equivalents of the snapshot's com.docker.lb.* labels) + snapshot → buildModel →
 * renderHaproxy (default options) for every service cluster. Expectations live next to the NGINX
 * ones, in `expected/haproxy/` (a directory, which the NGINX runner's file comparison skips):
 * - `<cluster>.haproxy.cfg`: the rendered configuration, byte for byte;
 * - `<cluster>.unsupported.json`: what an HAProxy cluster would reject of the cluster's routes
 *   (unsupportedValues, src/plan/proxy-capabilities.ts), when anything. The cases' clusters are
 *   NGINX ones, so such routes are still in the model and rendered here (the larger timeout):
 *   for a `proxy.kind: haproxy` cluster buildModel leaves them out with UnsupportedValue;
 * - `<cluster>.pem-files.json`: haproxyPemFiles, when the cluster terminates TLS;
 * - `<cluster>.endpoints.txt`: with `proxy.endpoints: Dynamic` and hitless delivery, the members the
 *   agent puts into the backends' slots (ADR 0031); the config then has slots, not servers.
 * Every rendered config must pass `haproxy -c` without a warning, and rendering twice must give
 * the same bytes.
 *
 * `UPDATE_GOLDEN=1` (make update-golden runs every file in test/golden) rewrites the expected
 * files instead of comparing; review the diff before committing it.
 */
import * as E from 'fp-ts/Either';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSpecs } from '../../src/desired/load-specs';
import { loadSnapshotFile } from '../../src/cli/snapshot-file';
import { desiredConfig } from '../../src/plan/pipeline';
import { unsupportedValues } from '../../src/plan/proxy-capabilities';
import { HAPROXY_CERT_DIR } from '../../src/render/haproxy/options';
import { pemFilesOfConfig } from '../../src/render/haproxy/pem-files';
import { haproxyPemFiles, renderHaproxyWithEndpoints } from '../../src/render/haproxy/render';
import { dynamicEndpoints } from '../../src/render/render-cluster';
import { haproxyAvailable, haproxyCheck, haproxyProblems, referencedPems } from '../helpers/haproxy-check';

const UPDATE = process.env['UPDATE_GOLDEN'] === '1';
const SUBDIR = join('expected', 'haproxy');

const cases = readdirSync(__dirname)
  .filter((name) => statSync(join(__dirname, name)).isDirectory())
  .filter((name) => ['specs.yaml', 'snapshot.json'].every((f) => existsSync(join(__dirname, name, f))))
  .sort();

interface Rendered {
  readonly files: Map<string, string>;
  readonly configs: Map<string, string>;
}

const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function render(name: string): Rendered {
  // Relative paths, as the NGINX runner uses, so nothing depends on the checkout location.
  const at = (file: string): string => relative(process.cwd(), join(__dirname, name, file));
  const snapshot = loadSnapshotFile(at('snapshot.json'));
  if (E.isLeft(snapshot)) throw new Error(`snapshot of ${name} does not decode`);
  const files = new Map<string, string>();
  const configs = new Map<string, string>();
  const { desired, clusters } = desiredConfig({ specs: loadSpecs([at('specs.yaml')]).desired, snapshot: snapshot.right, render: false });
  const routes = [...desired.routes, ...(desired.labelRoutes ?? [])].map((r) => r.object).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  for (const { model } of clusters) {
    // Dynamic endpoints (ADR 0031): slots in the config, the members beside it.
    const { config, endpoints } = renderHaproxyWithEndpoints(model, { dynamicEndpoints: dynamicEndpoints(model) });
    configs.set(model.cluster, config);
    files.set(`${model.cluster}.haproxy.cfg`, config);
    if (endpoints !== '') files.set(`${model.cluster}.endpoints.txt`, endpoints);
    const unsupported = routes
      .filter((r) => r.spec.serviceCluster === model.cluster)
      .flatMap((r) => unsupportedValues('haproxy', r))
      .map(({ route, field, message }) => ({ route, field, message }));
    if (unsupported.length > 0) files.set(`${model.cluster}.unsupported.json`, json(unsupported));
    const pems = haproxyPemFiles(model);
    if (pems.length > 0) files.set(`${model.cluster}.pem-files.json`, json(pems));
  }
  return { files, configs };
}

function stored(name: string): string[] {
  const dir = join(__dirname, name, SUBDIR);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

describe('haproxy golden cases', () => {
  it('covers every golden case', () => {
    expect(cases.length).toBeGreaterThanOrEqual(28);
  });

  it('haproxy can be run for the haproxy -c checks, and the check is not vacuous', () => {
    expect(haproxyAvailable(), 'haproxy must be installed (Debian: apt-get install haproxy)').toBe(true);
    const bad = haproxyCheck('frontend f\n    bind :80\n    no_such_keyword on\n');
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/no_such_keyword/);
    const tls = haproxyCheck(`defaults\n    mode http\n    timeout client 1s\n    timeout connect 1s\n    timeout server 1s\nfrontend f\n    bind :443 ssl crt "${HAPROXY_CERT_DIR}/a+b.pem"\n`);
    expect(haproxyProblems(tls.output)).toEqual([]);
    expect(tls.ok, tls.output).toBe(true);
  });

  describe.each(cases)('%s', (name) => {
    let out: Rendered;
    try {
      out = render(name);
    } catch (e) {
      it('runs the pipeline', () => {
        throw e;
      });
      return;
    }

    if (UPDATE) {
      it('writes the expected files (UPDATE_GOLDEN=1)', () => {
        const dir = join(__dirname, name, SUBDIR);
        mkdirSync(dir, { recursive: true });
        for (const file of stored(name)) if (!out.files.has(file)) rmSync(join(dir, file));
        for (const [file, content] of out.files) writeFileSync(join(dir, file), content);
      });
    } else {
      it('matches the expected files', () => {
        expect([...out.files.keys()].sort(), `files under ${name}/${SUBDIR} (rerun make update-golden if intended)`).toEqual(stored(name));
        for (const [file, content] of out.files) expect(content, `${name}/${SUBDIR}/${file}`).toBe(readFileSync(join(__dirname, name, SUBDIR, file), 'utf8'));
      });
    }

    it('is deterministic', () => {
      expect([...render(name).files.entries()]).toEqual([...out.files.entries()]);
    });

    it.each([...out.configs.keys()])('cluster %s passes haproxy -c without warnings', (cluster) => {
      const config = out.configs.get(cluster) ?? '';
      const check = haproxyCheck(config);
      expect(haproxyProblems(check.output), `haproxy -c on ${name}/${SUBDIR}/${cluster}.haproxy.cfg`).toEqual([]);
      expect(check.ok, check.output).toBe(true);
    });

    // Dynamic endpoints (the default with hitless delivery, ADR 0039): every backend with slots has one
    // line naming it with its slot count; no line names a backend without slots.
    it.each([...out.configs.keys()].filter((c) => out.files.has(`${c}.endpoints.txt`)))('cluster %s: every slotted backend has one endpoint line with its slot count', (cluster) => {
      const config = out.configs.get(cluster) ?? '';
      const slots = new Map<string, number>();
      let backend = '';
      for (const line of config.split('\n')) {
        const b = /^backend (\S+)/.exec(line);
        if (b !== null) backend = b[1] ?? '';
        else if (/^\S/.test(line)) backend = '';
        else if (backend !== '' && /^\s+server s\d+ sg-slot\.invalid:1( cookie \S+)?$/.test(line)) slots.set(backend, (slots.get(backend) ?? 0) + 1);
      }
      const lines = (out.files.get(`${cluster}.endpoints.txt`) ?? '').split('\n').filter((l) => l !== '');
      const counts = new Map(lines.map((l) => [l.split(' ')[0] ?? '', Number(l.split(' ')[1])]));
      expect(counts.size, 'one line per backend').toBe(lines.length);
      expect(counts).toEqual(slots);
    });

    it.each([...out.configs.keys()])('cluster %s reads exactly the PEM files haproxyPemFiles lists', (cluster) => {
      const config = out.configs.get(cluster) ?? '';
      const listed = JSON.parse(out.files.get(`${cluster}.pem-files.json`) ?? '[]') as { path: string }[];
      expect(referencedPems(config).map((f) => `${HAPROXY_CERT_DIR}/${f}`)).toEqual(listed.map((p) => p.path));
      // What a proxy agent, which has the config but not the model, builds: the same files.
      expect(pemFilesOfConfig(config)).toEqual(listed);
    });
  });
});
