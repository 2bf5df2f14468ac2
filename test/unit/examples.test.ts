/**
 * Every folder in examples/ is a scenario a user will try first: it must validate, every object
 * must be accepted with resolved references against its snapshot, and each cluster's rendered
 * configuration must pass its proxy's own check (`nginx -t`, or `haproxy -c` for HAProxy clusters).
 */
import * as E from 'fp-ts/Either';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runValidate } from '../../src/cli/commands/validate';
import { loadSpecs } from '../../src/desired/load-specs';
import { loadSnapshotFile } from '../../src/cli/snapshot-file';
import { issuerOf } from '../../src/plan/acme-routes';
import { programmedStreamName } from '../../src/plan/model';
import { desiredConfig } from '../../src/plan/pipeline';
import { validateCluster } from '../../src/validate/validate-cluster';

const EXAMPLES = readdirSync('examples', { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name)
  .sort();

describe.each(EXAMPLES)('examples/%s', (name) => {
  const dir = join('examples', name);

  it('validates', () => {
    const err: string[] = [];
    const code = runValidate([dir], { out: () => undefined, err: (s) => err.push(s) });
    expect(err).toEqual([]);
    expect(code).toBe(0);
  });

  it('is fully accepted against its snapshot and renders configs that pass the proxy\'s check', () => {
    const snapshot = loadSnapshotFile(join(dir, 'snapshot.json'));
    if (E.isLeft(snapshot)) throw new Error(JSON.stringify(snapshot.left));
    const { desired, issues } = loadSpecs([dir]);
    expect(issues).toEqual([]);
    // The core's pipeline: a blue-green Route also serves its preview route. Routes with an ACME
    // issuer are served once the core holds their certificate: here as if it had been issued.
    const acme = new Map(desired.routes.filter((r) => issuerOf(r.object) !== undefined).map((r) => [r.object.metadata.name, { dnsNames: r.object.spec.hosts }]));
    const { result, desired: served } = desiredConfig({ specs: desired, snapshot: snapshot.right, render: false, acme });
    for (const [key, conditions] of Object.entries(result.conditions)) {
      for (const c of conditions) expect(`${key} ${c.type}=${c.status} ${c.message}`).toMatch(new RegExp(`^${key} ${c.type}=True `));
    }
    const programmed = result.clusters.flatMap((c) => c.routes.map((r) => r.name)).sort();
    // TCPRoutes and UDPRoutes are listed under programmedStreamName ("tcproute.db").
    const streams = (served.streamRoutes ?? []).map((r) => programmedStreamName(r.object.kind, r.object.metadata.name));
    expect(programmed).toEqual([...served.routes.map((r) => r.object.metadata.name), ...streams].sort());
    for (const r of desired.routes) expect(programmed).toContain(r.object.metadata.name);
    for (const model of result.clusters) {
      const check = validateCluster(model);
      expect(check.skipped).toBeUndefined();
      expect(check.output).not.toMatch(/emerg|ALERT/);
      expect(check.ok).toBe(true);
    }
  });
});

describe('examples/ as a whole', () => {
  it('validates in one go, as the README shows (no name is used twice across examples)', () => {
    const err: string[] = [];
    expect(runValidate(['examples'], { out: () => undefined, err: (s) => err.push(s) })).toBe(0);
    expect(err).toEqual([]);
  });
});
