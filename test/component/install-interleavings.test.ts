/**
 * Two `install`s at once, over every interleaving of their Docker calls with up to three context
 * switches (test/fakes/interleave.ts), on a Swarm without a core and on one with a core. The property
 * (issue 18, "concurrent writers"), checked after every schedule:
 * - each run exits 0 with no error line, or 3 with exactly the conflict line and no `tls/…` or
 *   `service/…` line; never Docker's own words; at least one run succeeds;
 * - exactly one core and exactly one TLS set are stored, no stray TLS secret, and the core runs on that
 *   set (`--tls-set`) and mounts its four files;
 * - a `tls/… created` line names that set; the core's log level is a successful run's (the only one's
 *   when one run lost);
 * - one control network and one ACME state key.
 * Then an install racing a rotate-certs, and two rotate-certs, on an installed core: every stored TLS set
 * is one the core mounts (its current set and the previous one it trusts, ADR 0019), a successful
 * rotation's set is stored and reported, no stray TLS secret. SG_MAX_SWITCHES=5 widens the walk.
 * The TLS material is made once (openssl) and reused: what is raced is where it is stored.
 */
import { describe, expect, it, vi } from 'vitest';
import { CORE_SERVICE, runInstall, runRotateCerts } from '../../src/cli/commands/install';
import { EXIT, type Output } from '../../src/cli/output';
import { tlsSets } from '../../src/apply/tls-secrets';
import { decodeTlsSecretLabels, ACME_STATE_KEY } from '../../src/domain/tls-layout';
import { LABELS } from '../../src/domain/labels';
import type { InstallOptions } from '../../src/plan/core-service-spec';
import type * as Tls from '../../src/api/tls';
import { FakeDocker } from '../fakes/fake-docker';
import { everySchedule, interleave } from '../fakes/interleave';

vi.mock('../../src/api/tls', async (importOriginal) => {
  const real = await importOriginal<typeof Tls>();
  const material = real.generateTlsMaterial();
  return { ...real, generateTlsMaterial: () => material };
});

const RAW_DOCKER = /AlreadyExists|not found|out of sequence|rpc error|HTTP code|statusCode|in use/i;
const CONFLICT = /^service\/swarmgate-core: conflict: .*nothing of this install was stored — run install again$/;
const ROTATE_CONFLICT = /^service\/swarmgate-core: conflict: .*nothing of this rotation was stored — run rotate-certs again$/;
const MAX_SWITCHES = Number(process.env.SG_MAX_SWITCHES ?? 3);
const opts = (logLevel: string): InstallOptions => ({ image: 'swarmgate/swarmgate:latest', localImages: false, logLevel });

function capture(): Output & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  return { lines, errs, out: (t) => lines.push(t.trimEnd()), err: (t) => errs.push(t.trimEnd()) };
}

function argValue(args: readonly string[], flag: string): string | undefined {
  const at = args.indexOf(flag);
  return at >= 0 ? args[at + 1] : undefined;
}

/** Every violation of the property after one schedule (empty: it holds). */
async function violations(docker: FakeDocker, levels: readonly string[], codes: readonly number[], ios: readonly ReturnType<typeof capture>[]): Promise<string[]> {
  const bad: string[] = [];
  const winners: string[] = [];
  ios.forEach((io, w) => {
    const text = [...io.lines, ...io.errs].join(' | ');
    if (RAW_DOCKER.test(text)) bad.push(`run ${w} printed Docker's text: ${text}`);
    if (codes[w] === EXIT.ok) {
      if (io.errs.length > 0) bad.push(`run ${w} succeeded with an error line: ${text}`);
      winners.push(levels[w] ?? '');
    } else if (codes[w] === EXIT.conflict) {
      if (io.errs.length !== 1 || !CONFLICT.test(io.errs[0] ?? '')) bad.push(`run ${w} lost without the one conflict line: ${text}`);
      if (io.lines.some((l) => l.startsWith('tls/') || l.startsWith('service/'))) bad.push(`run ${w} lost but reported a write: ${text}`);
    } else bad.push(`run ${w} exited ${codes[w] ?? '?'}: ${text}`);
  });
  if (winners.length === 0) bad.push('no run succeeded');
  const cores = (await docker.listServices()).filter((s) => s.Spec.Name === CORE_SERVICE);
  const core = cores[0];
  if (cores.length !== 1 || core === undefined) return [...bad, `${cores.length} cores stored`];
  const secrets = await docker.listSecrets();
  const sets = tlsSets(secrets);
  const tlsSecrets = secrets.filter((s) => decodeTlsSecretLabels(s.Spec.Labels) !== undefined);
  if (sets.length !== 1) bad.push(`${sets.length} TLS sets stored: ${sets.map((s) => s.id).join(', ')}`);
  if (tlsSecrets.length !== 4) bad.push(`${tlsSecrets.length} TLS secrets stored (a set has 4)`);
  const set = sets[0];
  const spec = core.Spec.TaskTemplate.ContainerSpec;
  const mounted = new Set((spec.Secrets ?? []).map((m) => m.SecretID));
  if (set !== undefined) {
    if (argValue(spec.Args ?? [], '--tls-set') !== set.id) bad.push(`the core runs on --tls-set ${argValue(spec.Args ?? [], '--tls-set') ?? '-'}, the stored set is ${set.id}`);
    if (![set.ca, set.caKey, set.serverCert, set.serverKey].every((r) => mounted.has(r.id))) bad.push(`the core does not mount the stored set ${set.id}`);
    for (const io of ios) for (const l of io.lines.filter((x) => /^tls\/\S+ created/.test(x))) if (!l.startsWith(`tls/${set.id} created`)) bad.push(`reported "${l}" but the stored set is ${set.id}`);
  }
  const level = (spec.Env ?? []).find((e) => e.startsWith('LOG_LEVEL='))?.slice('LOG_LEVEL='.length) ?? '-';
  if (!winners.includes(level)) bad.push(`stored LOG_LEVEL=${level}, successful runs: ${winners.join(', ')}`);
  if ((await docker.listNetworks()).filter((n) => n.Name === 'swarmgate-control').length !== 1) bad.push('not exactly one control network');
  if (secrets.filter((s) => s.Spec.Labels?.[LABELS.role] === ACME_STATE_KEY.role).length !== 1) bad.push('not exactly one ACME state key');
  return bad;
}

async function explore(levels: readonly [string, string], setup: (docker: FakeDocker) => Promise<void>, maxSwitches = MAX_SWITCHES): Promise<{ schedules: number; complete: boolean; failures: string[] }> {
  const failures: string[] = [];
  const walk = await everySchedule(async (choose) => {
    const docker = FakeDocker.singleNode();
    await setup(docker);
    const ios = levels.map(capture);
    const { results: codes, trace } = await interleave(
      docker,
      levels.map((level, w) => (port) => runInstall(port, opts(level), ios[w] ?? capture())),
      choose,
    );
    const bad = await violations(docker, levels, codes, ios);
    if (bad.length > 0) failures.push(`${bad.join('; ')}\n  trace: ${trace.join(' ')}`);
  }, maxSwitches);
  return { ...walk, failures };
}

describe('two installs at once, every interleaving with up to three switches (SG_MAX_SWITCHES)', () => {
  it('on a Swarm without a core: one core on one TLS set, a loser says conflict', async () => {
    const { schedules, complete, failures } = await explore(['info', 'warn'], async () => undefined);
    console.log(`two first installs: ${schedules} schedules, ${failures.length} violating the property`);
    expect(complete).toBe(true);
    expect(schedules).toBeGreaterThan(100);
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);

  it('with the same options on a Swarm without a core (up to two switches: the same paths, less time)', async () => {
    const { failures } = await explore(['info', 'info'], async () => undefined, Math.min(2, MAX_SWITCHES));
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);

  it('on a Swarm with a core: the installed set stays the only one', async () => {
    const { failures } = await explore(['warn', 'debug'], async (docker) => {
      expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
    });
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);
});

describe('an install and a rotate-certs at once on an installed core, every interleaving with up to three switches', () => {
  it('every stored TLS set is one the core mounts; a rotation that succeeded is the set the core runs on', async () => {
    const failures: string[] = [];
    const walk = await everySchedule(async (choose) => {
      const docker = FakeDocker.singleNode();
      expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
      const [original] = tlsSets(await docker.listSecrets());
      const install = capture();
      const rotate = capture();
      const { results: codes, trace } = await interleave(docker, [(port) => runInstall(port, opts('warn'), install), (port) => runRotateCerts(port, rotate)], choose);
      const bad: string[] = [];
      const [installCode, rotateCode] = codes;
      for (const [io, code, conflict, what] of [
        [install, installCode, CONFLICT, 'install'],
        [rotate, rotateCode, ROTATE_CONFLICT, 'rotate-certs'],
      ] as const) {
        const text = [...io.lines, ...io.errs].join(' | ');
        if (RAW_DOCKER.test(text.replace(/tls\/\S+ still in use/g, ''))) bad.push(`${what} printed Docker's text: ${text}`);
        if (code === EXIT.ok) {
          if (io.errs.length > 0) bad.push(`${what} succeeded with an error line: ${text}`);
        } else if (code !== EXIT.conflict || io.errs.length !== 1 || !conflict.test(io.errs[0] ?? '') || io.lines.some((l) => l.startsWith('tls/') || l.startsWith('service/'))) {
          bad.push(`${what} exited ${code ?? '?'} without exactly the conflict line: ${text}`);
        }
      }
      if (installCode !== EXIT.ok && rotateCode !== EXIT.ok) bad.push('no run succeeded');
      const core = (await docker.listServices()).find((x) => x.Spec.Name === CORE_SERVICE);
      const spec = core?.Spec.TaskTemplate.ContainerSpec;
      const mounted = new Set((spec?.Secrets ?? []).map((m) => m.SecretID));
      const secrets = await docker.listSecrets();
      const sets = tlsSets(secrets);
      const current = argValue(spec?.Args ?? [], '--tls-set');
      if (!sets.some((x) => x.id === current)) bad.push(`the core runs on --tls-set ${current ?? '-'}, which is not stored`);
      for (const x of sets) if (!mounted.has(x.ca.id)) bad.push(`TLS set ${x.id} is stored but the core does not mount it`);
      if (secrets.filter((x) => decodeTlsSecretLabels(x.Spec.Labels) !== undefined).length !== sets.length * 4) bad.push('a TLS secret outside a complete set is left');
      const rotated = rotate.lines.find((l) => /^tls\/\S+ created; /.test(l))?.split(' ')[0]?.slice('tls/'.length);
      if (rotateCode === EXIT.ok && rotated !== current) bad.push(`rotate-certs reported tls/${rotated ?? '-'} created, the core runs on ${current ?? '-'}`);
      if (rotateCode !== EXIT.ok && current !== original?.id) bad.push(`rotate-certs lost but the core runs on ${current ?? '-'}, not the original set`);
      const level = (spec?.Env ?? []).find((e) => e.startsWith('LOG_LEVEL='));
      if (level !== `LOG_LEVEL=${installCode === EXIT.ok ? 'warn' : 'info'}`) bad.push(`stored ${level ?? '-'} after install exited ${installCode ?? '?'}`);
      if (bad.length > 0) failures.push(`${bad.join('; ')}\n  trace: ${trace.join(' ')}`);
    }, MAX_SWITCHES);
    console.log(`install and rotate-certs: ${walk.schedules} schedules, ${failures.length} violating the property`);
    expect(walk.complete).toBe(true);
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);
});

describe('two rotate-certs at once, every interleaving with up to three switches', () => {
  it('each stored new set is a successful rotation\'s, the core runs on one and mounts every set; a loser says conflict', async () => {
    const failures: string[] = [];
    const walk = await everySchedule(async (choose) => {
      const docker = FakeDocker.singleNode();
      expect(await runInstall(docker, opts('info'), capture())).toBe(EXIT.ok);
      const [original] = tlsSets(await docker.listSecrets());
      const ios = [capture(), capture()];
      const { results: codes, trace } = await interleave(docker, ios.map((io) => (port) => runRotateCerts(port, io)), choose);
      const bad: string[] = [];
      ios.forEach((io, w) => {
        const text = [...io.lines, ...io.errs].join(' | ');
        if (RAW_DOCKER.test(text.replace(/tls\/\S+ still in use/g, ''))) bad.push(`rotate ${w} printed Docker's text: ${text}`);
        if (codes[w] === EXIT.ok) {
          if (io.errs.length > 0) bad.push(`rotate ${w} succeeded with an error line: ${text}`);
        } else if (codes[w] !== EXIT.conflict || io.errs.length !== 1 || !ROTATE_CONFLICT.test(io.errs[0] ?? '') || io.lines.length > 0) {
          bad.push(`rotate ${w} exited ${codes[w] ?? '?'} without exactly the conflict line: ${text}`);
        }
      });
      if (!codes.includes(EXIT.ok)) bad.push('no run succeeded');
      const spec = (await docker.listServices()).find((x) => x.Spec.Name === CORE_SERVICE)?.Spec.TaskTemplate.ContainerSpec;
      const mounted = new Set((spec?.Secrets ?? []).map((m) => m.SecretID));
      const secrets = await docker.listSecrets();
      const sets = tlsSets(secrets);
      const current = argValue(spec?.Args ?? [], '--tls-set');
      const fresh = sets.filter((x) => x.id !== original?.id).map((x) => x.id);
      const reported = ios.flatMap((io) => io.lines).filter((l) => /^tls\/\S+ created; /.test(l)).map((l) => l.split(' ')[0]?.slice('tls/'.length) ?? '');
      // One stored new set per successful rotation (two when the second read the first's core), each reported; the core runs on one.
      if (fresh.length !== codes.filter((c) => c === EXIT.ok).length || !fresh.every((id) => reported.includes(id))) bad.push(`new sets stored: ${fresh.join(', ')}; reported: ${reported.join(', ')}`);
      if (current === undefined || !fresh.includes(current)) bad.push(`the core runs on ${current ?? '-'}, not on a new set`);
      for (const x of sets) if (!mounted.has(x.ca.id)) bad.push(`TLS set ${x.id} is stored but the core does not mount it`);
      if (secrets.filter((x) => decodeTlsSecretLabels(x.Spec.Labels) !== undefined).length !== sets.length * 4) bad.push('a TLS secret outside a complete set is left');
      if (bad.length > 0) failures.push(`${bad.join('; ')}\n  trace: ${trace.join(' ')}`);
    }, MAX_SWITCHES);
    console.log(`two rotate-certs: ${walk.schedules} schedules, ${failures.length} violating the property`);
    expect(walk.complete).toBe(true);
    expect(failures.slice(0, 3)).toEqual([]);
  }, 300_000);
});
