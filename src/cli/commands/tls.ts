/**
 * `swarmgate tls apply NAME --cert FILE --key FILE`, `tls list [-o json]`, `tls delete NAME`:
 * certificates stored as versioned Docker secrets that routes refer to by name
 * (`tls.certificate.name`). Applying a new pair under a name adds a version; the core moves the
 * routes' proxies to it and removes older versions once no proxy mounts them.
 */
import { untilText } from '../until-text';
import * as E from 'fp-ts/Either';
import { readFileSync, statSync } from 'node:fs';
import { createCertificateVersion, currentVersion, isComplete, pruneCertificateVersions, secretsInUse, storedCertificates, type StoredVersion } from '../../apply/certificate-secrets';
import { CertificateName } from '../../domain/brands';
import { decode } from '../../domain/codec';
import { DesiredStateReader } from '../../desired/spec-store';
import { isNameConflict, isNotFound } from '../../observed/docker-errors';
import type { DockerPort } from '../../observed/docker-port';
import { expiryState, uncoveredHosts } from '../../plan/certificates';
import { checkPemPair, MAX_SECRET_BYTES, type PairInfo, type PemFile } from '../pem-pair';
import { EXIT, type Output } from '../output';
import { formatTable } from '../table';
import { readAcmeFacts } from '../../core/acme/acme-state-store';

export interface TlsApplyFlags {
  readonly name: string;
  readonly cert: string;
  readonly key: string;
  /** Store the pair even though its names do not cover every host of the routes that use the name. */
  readonly allowMismatch?: boolean;
}

/** A file's text, or a message naming the file (never its content). */
function readPem(path: string, what: string): PemFile | string {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return `${what} ${path}: is a directory`;
    if (st.size > MAX_SECRET_BYTES) return `${what} ${path}: larger than ${MAX_SECRET_BYTES / 1024} KiB (Docker's limit for a secret)`;
    return { file: path, text: readFileSync(path, 'utf8') };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return `${what} ${path}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'cannot be read'}`;
  }
}

function nameProblem(name: string): string | undefined {
  const r = decode(CertificateName, name);
  return E.isLeft(r) ? `certificate name ${JSON.stringify(name)}: ${r.left.map((i) => i.message).join('; ')}` : undefined;
}

export async function runTlsApply(port: DockerPort, flags: TlsApplyFlags, io: Output, now = new Date()): Promise<number> {
  const problems: string[] = [];
  const bad = nameProblem(flags.name);
  if (bad !== undefined) problems.push(bad);
  const cert = readPem(flags.cert, '--cert');
  const key = readPem(flags.key, '--key');
  for (const f of [cert, key]) if (typeof f === 'string') problems.push(f);
  if (problems.length === 0 && typeof cert !== 'string' && typeof key !== 'string') {
    const check = checkPemPair(cert, key, now);
    if (!check.ok) problems.push(...check.errors);
    else {
      const mismatches = await uncoveredRouteHosts(port, flags.name, check.info.dnsNames);
      if (mismatches.length === 0 || flags.allowMismatch === true) {
        for (const m of mismatches) io.err(`warning: ${m}`);
        return storePair(port, flags.name, cert.text, key.text, check.info, io);
      }
      problems.push(...mismatches, `nothing stored: use a certificate whose names cover these hosts, or --allow-mismatch to store it anyway`);
    }
  }
  for (const p of problems) io.err(p);
  return EXIT.invalid;
}

/** One line per stored route that names the certificate and has a host none of `dnsNames` covers. */
async function uncoveredRouteHosts(port: DockerPort, name: string, dnsNames: readonly string[]): Promise<string[]> {
  const { desired } = await new DesiredStateReader(port).read();
  const names = dnsNames.length === 0 ? 'no DNS names' : `DNS names ${dnsNames.join(', ')}`;
  return desired.routes.flatMap(({ object: r }) => {
    if (r.spec.tls?.mode !== 'Terminate' || r.spec.tls.certificate?.name !== name) return [];
    const missing = uncoveredHosts(dnsNames, r.spec.hosts);
    return missing.length === 0 ? [] : [`route/${r.metadata.name} uses certificate "${name}", whose ${names} do not cover ${missing.map((h) => `"${h}"`).join(', ')}`];
  });
}

async function storePair(port: DockerPort, name: string, cert: string, key: string, info: PairInfo, io: Output): Promise<number> {
  const versions = storedCertificates(await port.listSecrets()).get(name) ?? [];
  const current = currentVersion(versions);
  if (current?.fingerprint === info.fingerprint) {
    io.out(`certificate/${name} unchanged (version ${current.version}, expires ${current.notAfter ?? 'unknown'})`);
    return EXIT.ok;
  }
  let created: Awaited<ReturnType<typeof createCertificateVersion>>;
  try {
    created = await createCertificateVersion(port, name, { cert, key, notAfter: info.notAfter, fingerprint: info.fingerprint, dnsNames: info.dnsNames }, versions);
  } catch (e) {
    // Another `tls apply` of the same name took the version number between our read and our write
    // (the secret names are per version): its pair is stored, none of ours is (a lone certificate
    // secret is removed again by createCertificateVersion).
    if (!isNameConflict(e)) throw e;
    const next = Math.max(0, ...versions.map((v) => v.version)) + 1;
    io.err(`certificate/${name}: conflict: another writer stored version ${next} while this one was being stored; nothing of this write was stored — run the command again`);
    return EXIT.conflict;
  }
  io.out(`certificate/${name} version ${created.version} created (secrets ${created.cert.name}, ${created.key.name}; expires ${info.notAfter}${info.dnsNames.length > 0 ? `; DNS names ${info.dnsNames.join(', ')}` : ''})`);
  // Versions nothing mounts can go now; the one the proxies run is removed by the core once they moved on.
  const [services, tasks, secrets] = await Promise.all([port.listServices(), port.listTasks(), port.listSecrets()]);
  const removed = await pruneCertificateVersions(port, { services, tasks, secrets }, name);
  for (const r of removed) io.out(`secret/${r} removed (an unused older version)`);
  const users = secretsInUse(services, tasks);
  for (const v of storedCertificates(secrets).get(name) ?? []) {
    if (v.version >= created.version) continue;
    const by = [...new Set([v.cert, v.key].flatMap((p) => (p === undefined ? [] : (users.get(p.id) ?? []))))];
    if (by.length > 0) io.out(`certificate/${name} version ${v.version} is in use by ${by.join(', ')}; the core removes it once the proxies serve version ${created.version}`);
  }
  return EXIT.ok;
}

/** "in 12d", "in 3h", "expired 2d ago": how far notAfter is from now. */
export { untilText };

interface ListedVersion {
  readonly name: string;
  readonly version: number;
  readonly current: boolean;
  readonly complete: boolean;
  readonly notAfter?: string;
  readonly expiry?: 'valid' | 'expiring' | 'expired';
  readonly secrets: readonly string[];
  readonly usedBy: readonly string[];
  /** Routes whose spec names the certificate (on the current version's row: they use that one). */
  readonly routes: readonly string[];
}

async function listVersions(port: DockerPort, now: Date): Promise<ListedVersion[]> {
  const [services, tasks, secrets, { desired }] = await Promise.all([port.listServices(), port.listTasks(), port.listSecrets(), new DesiredStateReader(port).read()]);
  const users = secretsInUse(services, tasks);
  const routesOf = (name: string): string[] =>
    desired.routes
      .filter((r) => r.object.spec.tls?.mode === 'Terminate' && r.object.spec.tls.certificate?.name === name)
      .map((r) => r.object.metadata.name)
      .sort();
  const out: ListedVersion[] = [];
  const stored = storedCertificates(secrets);
  for (const name of [...stored.keys()].sort()) {
    const versions: readonly StoredVersion[] = stored.get(name) ?? [];
    const current = currentVersion(versions);
    for (const v of versions) {
      const parts = [v.cert, v.key].filter((p) => p !== undefined);
      out.push({
        name,
        version: v.version,
        current: v === current,
        complete: isComplete(v),
        ...(v.notAfter !== undefined ? { notAfter: v.notAfter, expiry: expiryState(v.notAfter, now).kind } : {}),
        secrets: parts.map((p) => p.name),
        usedBy: [...new Set(parts.flatMap((p) => users.get(p.id) ?? []))].sort(),
        routes: v === current ? routesOf(name) : [],
      });
    }
  }
  // Names routes ask for that are not stored: the routes are left out (CertificateNotFound) until `tls apply`.
  const missing = new Set(desired.routes.map((r) => r.object.spec.tls?.certificate?.name).filter((n): n is NonNullable<typeof n> => n !== undefined && !stored.has(n)));
  for (const name of missing) out.push({ name, version: 0, current: false, complete: false, secrets: [], usedBy: [], routes: routesOf(name) });
  return out.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : y.version - x.version));
}

export async function runTlsList(port: DockerPort, output: string | undefined, io: Output, now = new Date()): Promise<number> {
  const rows = await listVersions(port, now);
  // ACME certificates: the core holds them; the public facts it saved beside its state (ADR 0013).
  const acme = (await readAcmeFacts(port)).sort((a, b) => (a.route < b.route ? -1 : a.route > b.route ? 1 : 0));
  if (output === 'json') {
    io.out(JSON.stringify({ kind: 'CertificateList', items: rows, acme }, null, 2));
    return EXIT.ok;
  }
  if (acme.length > 0) {
    const header = ['ROUTE', 'ISSUER', 'HOSTS', 'NOT AFTER', 'EXPIRES', 'NEXT RENEWAL', 'ORDERS'];
    io.out('ACME certificates (ordered and renewed by the core):');
    io.out(formatTable(header, acme.map((a) => [a.route, a.issuer, a.hosts.join(','), a.notAfter, untilText(a.notAfter, now), a.renewAt, String(a.orders)])));
    if (rows.length > 0) io.out('');
  }
  if (rows.length === 0) {
    if (acme.length === 0) io.out('No certificates found (store one with swarmgate tls apply NAME --cert FILE --key FILE).');
    return EXIT.ok;
  }
  const header = ['NAME', 'VERSION', 'NOT AFTER', 'EXPIRES', 'CURRENT', 'USED BY', 'ROUTES'];
  const table = rows.map((r) => [
    r.name,
    r.version === 0 ? '-' : String(r.version),
    r.notAfter ?? '-',
    r.version === 0 ? 'not stored' : r.notAfter === undefined ? 'unknown' : `${untilText(r.notAfter, now)}${r.expiry === 'expiring' ? ' (renew)' : ''}`,
    r.current ? '*' : r.complete || r.version === 0 ? '' : 'incomplete',
    r.usedBy.length > 0 ? r.usedBy.join(',') : '-',
    r.routes.length > 0 ? r.routes.join(',') : '-',
  ]);
  io.out(formatTable(header, table));
  return EXIT.ok;
}

/** Remove every version of a name no route names and no service mounts. */
export async function runTlsDelete(port: DockerPort, name: string, io: Output): Promise<number> {
  const rows = (await listVersions(port, new Date())).filter((r) => r.name === name);
  const stored = rows.filter((r) => r.version > 0);
  if (stored.length === 0) {
    io.err(`certificate/${name} not found`);
    return EXIT.invalid;
  }
  const routes = [...new Set(rows.flatMap((r) => r.routes))];
  const mounted = [...new Set(rows.flatMap((r) => r.usedBy))];
  if (routes.length > 0 || mounted.length > 0) {
    io.err(`certificate/${name} is in use (${[...routes.map((r) => `route/${r}`), ...mounted.map((s) => `service/${s}`)].join(', ')}); change or delete those routes first`);
    return EXIT.invalid;
  }
  const ids = new Map((await port.listSecrets()).map((s) => [s.Spec.Name, s.ID]));
  for (const secret of stored.flatMap((r) => r.secrets)) {
    const id = ids.get(secret);
    // Gone meanwhile (a racing `tls apply` pruned it as an unused older version): deleted all the same.
    if (id !== undefined) await port.removeSecret(id).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  }
  // A `tls apply` of the same name that stored a version meanwhile: the name is not gone.
  const added = (storedCertificates(await port.listSecrets()).get(name) ?? []).filter((v) => !stored.some((r) => r.version === v.version));
  if (added.length > 0) {
    io.err(`certificate/${name}: conflict: version ${added.map((v) => v.version).join(', ')} was stored by another writer while this one deleted; ${stored.length} older version${stored.length === 1 ? '' : 's'} deleted, the name is still stored`);
    return EXIT.conflict;
  }
  io.out(`certificate/${name} deleted (${stored.length} version${stored.length === 1 ? '' : 's'})`);
  return EXIT.ok;
}

/** The `tls` command group, registered by program.ts. */
