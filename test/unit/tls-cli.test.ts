/**
 * `swarmgate tls apply|list|delete`: the PEM pair checks and their messages (which never carry key
 * material), and what the commands store and print, over the in-memory Docker fake.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { runDescribe } from '../../src/cli/commands/get';
import { runTlsApply, runTlsDelete, runTlsList } from '../../src/cli/commands/tls';
import { checkPemPair } from '../../src/cli/pem-pair';
import { LABELS } from '../../src/domain/labels';
import { applyObject } from '../../src/desired/spec-store';
import { FakeDocker } from '../fakes/fake-docker';
import { selfSigned, type KeyPair } from '../helpers/tls-material';
import { route } from '../helpers/specs';

const dir = mkdtempSync(join(tmpdir(), 'sg-tls-cli-'));
const a = selfSigned('a.test', ['a.test', 'www.a.test']);
const b = selfSigned('b.test');
const NOW = new Date();

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const encryptedKey = execFileSync('openssl', ['pkey', '-in', a.keyPath, '-aes256', '-passout', 'pass:secret'], { encoding: 'utf8' });
const rsaKey = execFileSync('openssl', ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048'], { encoding: 'utf8' });

/** Every line of a PEM key's body: none of them may ever appear in output. */
function keyLines(...keys: string[]): string[] {
  return keys.flatMap((k) => k.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----')));
}

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t) } };
}

describe('checkPemPair', () => {
  const cert = (text: string) => ({ file: 'cert.pem', text });
  const key = (text: string) => ({ file: 'key.pem', text });
  const errors = (c: string, k: string, now = NOW): readonly string[] => {
    const r = checkPemPair(cert(c), key(k), now);
    return r.ok ? [] : r.errors;
  };

  it('accepts a matching pair and reports its expiry, fingerprint and DNS names', () => {
    const r = checkPemPair(cert(a.cert), key(a.key), NOW);
    if (!r.ok) throw new Error(r.errors.join('; '));
    expect(r.info.notAfter).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(r.info.notAfter)).toBeGreaterThan(NOW.getTime());
    expect(r.info.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.info.dnsNames).toEqual(['a.test', 'www.a.test']);
    expect(r.info.chainLength).toBe(1);
  });

  it('names each problem with its file', () => {
    expect(errors(b.cert, a.key)).toEqual(['key.pem: the private key does not belong to the certificate in cert.pem (the first certificate of the file must be the server\'s own)']);
    expect(errors(a.cert, rsaKey)).toEqual([expect.stringMatching(/^key\.pem: the private key does not belong to the certificate/)]);
    expect(errors('hello', a.key)).toEqual(['cert.pem: no PEM certificate found (expected "-----BEGIN CERTIFICATE-----")']);
    expect(errors(`${a.cert}${a.key}`, a.key)).toEqual(['cert.pem: contains a private key; pass the key with --key and keep only certificates in --cert']);
    expect(errors(`${a.cert}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`, a.key)).toEqual(['cert.pem: certificate 2 of 2 is not a valid X.509 certificate']);
    expect(errors(a.cert, encryptedKey)).toEqual([expect.stringMatching(/^key\.pem: the private key is encrypted; NGINX cannot use it without its passphrase/)]);
    expect(errors(a.cert, '')).toEqual(['key.pem: empty file (expected a PEM private key)']);
    expect(errors(a.cert, a.cert)).toEqual([expect.stringMatching(/^key\.pem: no PEM private key found/)]);
  });

  it('rejects a mangled key without passing on what OpenSSL said about its bytes', () => {
    const broken = a.key.replace(/\n([A-Za-z0-9+/]{10})/, '\n!!!!!!!!!!');
    expect(errors(a.cert, broken)).toEqual(['key.pem: not a valid PEM private key']);
  });

  it('rejects an expired certificate', () => {
    const later = new Date(NOW.getTime() + 3 * 86_400_000);
    expect(errors(a.cert, a.key, later)).toEqual([expect.stringMatching(/^cert\.pem: the certificate expired at \d{4}-.*Z; clients would reject it$/)]);
  });
});

describe('tls apply, list and delete', () => {
  let docker: FakeDocker;
  beforeEach(() => {
    docker = FakeDocker.singleNode();
  });

  const apply = async (name: string, pair: KeyPair) => {
    const c = capture();
    const code = await runTlsApply(docker, { name, cert: pair.certPath, key: pair.keyPath }, c.io, NOW);
    return { code, ...c };
  };
  const certSecrets = async () =>
    (await docker.listSecrets()).filter((s) => s.Spec.Labels?.[LABELS.role] === 'certificate').map((s) => s.Spec.Name).sort();

  it('stores a pair as version 1: two owned secrets labelled with name, version, part, notAfter and fingerprint', async () => {
    const r = await apply('shop', a);
    expect(r.code).toBe(0);
    expect(r.err).toEqual([]);
    expect(r.out[0]).toMatch(/^certificate\/shop version 1 created \(secrets sg-cert-shop-v1\.crt, sg-cert-shop-v1\.key; expires \S+Z; DNS names a\.test, www\.a\.test\)$/);
    const secrets = await docker.listSecrets();
    const crt = secrets.find((s) => s.Spec.Name === 'sg-cert-shop-v1.crt');
    expect(crt?.Spec.Labels).toEqual({
      [LABELS.owner]: 'swarmgate',
      [LABELS.role]: 'certificate',
      [LABELS.certificate]: 'shop',
      [LABELS.certificateVersion]: '1',
      [LABELS.certificatePart]: 'cert',
      [LABELS.notAfter]: expect.stringMatching(/Z$/),
      [LABELS.fingerprint]: expect.stringMatching(/^sha256:/),
      [LABELS.dnsNames]: 'a.test,www.a.test',
    });
    expect(secrets.find((s) => s.Spec.Name === 'sg-cert-shop-v1.key')?.Spec.Labels?.[LABELS.certificatePart]).toBe('key');
  });

  it('writes nothing for the same pair again, and a new pair becomes version 2', async () => {
    await apply('shop', a);
    docker.clearActions();
    const same = await apply('shop', a);
    expect(same.out).toEqual([expect.stringMatching(/^certificate\/shop unchanged \(version 1, expires /)]);
    expect(docker.writes).toEqual([]);
    const next = await apply('shop', b);
    expect(next.out[0]).toMatch(/^certificate\/shop version 2 created/);
    // Version 1 was mounted by nothing: removed at once.
    expect(next.out).toContain('secret/sg-cert-shop-v1.crt removed (an unused older version)');
    expect(await certSecrets()).toEqual(['sg-cert-shop-v2.crt', 'sg-cert-shop-v2.key']);
  });

  it('keeps a version a service mounts and says who uses it', async () => {
    await apply('shop', a);
    const [crt, key] = (await docker.listSecrets()).sort((x, y) => (x.Spec.Name < y.Spec.Name ? -1 : 1));
    const mount = (s: typeof crt) => ({ SecretID: s?.ID ?? '', SecretName: s?.Spec.Name ?? '', File: { Name: s?.Spec.Name ?? '', UID: '0', GID: '0', Mode: 0o400 } });
    await docker.createService({ Name: 'sg-proxy-edge', TaskTemplate: { ContainerSpec: { Image: 'p', Secrets: [mount(crt), mount(key)] } } });
    const next = await apply('shop', b);
    expect(next.out).toContain('certificate/shop version 1 is in use by sg-proxy-edge; the core removes it once the proxies serve version 2');
    expect(await certSecrets()).toEqual(['sg-cert-shop-v1.crt', 'sg-cert-shop-v1.key', 'sg-cert-shop-v2.crt', 'sg-cert-shop-v2.key']);
  });

  it('refuses bad names, missing files and bad pairs with one line each, storing nothing', async () => {
    const r = capture();
    const code = await runTlsApply(docker, { name: 'Shop', cert: join(dir, 'nope.pem'), key: file('garbage.key', 'not a key') }, r.io, NOW);
    expect(code).toBe(1);
    expect(r.err).toEqual([
      'certificate name "Shop": expected certificate name (DNS-1123 label, at most 40), got "Shop": character "S" is not allowed (use lowercase)',
      `--cert ${join(dir, 'nope.pem')}: no such file`,
    ]);
    const mismatch = capture();
    expect(await runTlsApply(docker, { name: 'shop', cert: a.certPath, key: b.keyPath }, mismatch.io, NOW)).toBe(1);
    expect(mismatch.err).toEqual([`${b.keyPath}: the private key does not belong to the certificate in ${a.certPath} (the first certificate of the file must be the server's own)`]);
    expect(docker.writes).toEqual([]);
  });

  it('never prints key material, whatever goes wrong', async () => {
    const outputs: string[] = [];
    for (const [certText, keyText] of [[a.cert, b.key], [a.cert, encryptedKey], [`${a.cert}${a.key}`, a.key], [a.cert, a.key.slice(0, 120)], [b.cert, rsaKey]] as const) {
      const c = capture();
      await runTlsApply(docker, { name: 'shop', cert: file('c.pem', certText), key: file('k.pem', keyText) }, c.io, NOW);
      outputs.push(...c.out, ...c.err);
    }
    expect(outputs.length).toBeGreaterThanOrEqual(5);
    const text = outputs.join('\n');
    expect(text).not.toMatch(/PRIVATE KEY-----/);
    for (const line of keyLines(a.key, b.key, encryptedKey, rsaKey)) expect(text).not.toContain(line);
  });

  it('lists versions with expiry, who mounts them and the routes using the name', async () => {
    await apply('shop', a);
    const [crt] = (await docker.listSecrets()).filter((s) => s.Spec.Name.endsWith('.crt'));
    await docker.createService({ Name: 'sg-proxy-edge', TaskTemplate: { ContainerSpec: { Image: 'p', Secrets: [{ SecretID: crt?.ID ?? '', SecretName: crt?.Spec.Name ?? '', File: { Name: 'x', UID: '0', GID: '0', Mode: 0o400 } }] } } });
    await apply('shop', b);
    await applyObject(docker, route('front', { hosts: ['a.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
    await applyObject(docker, route('lost', { hosts: ['c.test'], tls: { mode: 'Terminate', certificate: { name: 'missing' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
    const c = capture();
    expect(await runTlsList(docker, undefined, c.io, NOW)).toBe(0);
    const lines = (c.out[0] ?? '').split('\n').map((l) => l.split(/\s{2,}/));
    expect(lines[0]).toEqual(['NAME', 'VERSION', 'NOT AFTER', 'EXPIRES', 'CURRENT', 'USED BY', 'ROUTES']);
    expect(lines[1]).toEqual(['missing', '-', '-', 'not stored', '-', 'lost']); // the route waits (CertificateNotFound)
    expect(lines[2]).toEqual(['shop', '2', expect.stringMatching(/Z$/), expect.stringMatching(/^in 1d \(renew\)$/), '*', '-', 'front']);
    expect(lines[3]).toEqual(['shop', '1', expect.stringMatching(/Z$/), expect.stringMatching(/^in 1d \(renew\)$/), 'sg-proxy-edge', '-']);
    const json = capture();
    await runTlsList(docker, 'json', json.io, NOW);
    const items = (JSON.parse(json.out[0] ?? '{}') as { items: { name: string; version: number; current: boolean; expiry?: string }[] }).items;
    expect(items.filter((i) => i.name === 'shop').map((i) => [i.version, i.current, i.expiry])).toEqual([[2, true, 'expiring'], [1, false, 'expiring']]);
  });

  it('describe route shows the version served, its expiry and the warning within 14 days', async () => {
    await apply('shop', a);
    await applyObject(docker, route('front', { hosts: ['a.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
    const c = capture();
    expect(await runDescribe(docker, 'route', 'front', c.io, NOW)).toBe(0);
    const lines = (c.out[0] ?? '').split('\n');
    const at = lines.findIndex((l) => l.startsWith('Certificate:'));
    expect(lines[at]).toMatch(/^Certificate: {2}shop version 1 \(secrets sg-cert-shop-v1\.crt, sg-cert-shop-v1\.key\), expires \S+Z \(in 1d\)$/);
    // The pair expires in 2 days (tls-material.ts): inside the 14-day window.
    expect(lines[at + 1]).toMatch(/^ {14}Warning: certificate "shop" \(version 1\) expires at \S+Z, within 14 days: store a renewed pair with swarmgate tls apply shop$/);
    const later = capture();
    await runDescribe(docker, 'route', 'front', later.io, new Date(NOW.getTime() - 30 * 86_400_000));
    expect((later.out[0] ?? '').includes('Warning:')).toBe(false);
  });

  it('refuses a pair whose names do not cover the hosts of the routes using the name, unless told to', async () => {
    await apply('shop', a);
    await applyObject(docker, route('front', { hosts: ['a.test', 'shop.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
    docker.clearActions();
    const refused = await apply('shop', b);
    expect(refused.code).toBe(1);
    expect(refused.err).toEqual([
      'route/front uses certificate "shop", whose DNS names b.test do not cover "a.test", "shop.test"',
      'nothing stored: use a certificate whose names cover these hosts, or --allow-mismatch to store it anyway',
    ]);
    expect(docker.writes).toEqual([]);
    const c = capture();
    expect(await runTlsApply(docker, { name: 'shop', cert: b.certPath, key: b.keyPath, allowMismatch: true }, c.io, NOW)).toBe(0);
    expect(c.err).toEqual(['warning: route/front uses certificate "shop", whose DNS names b.test do not cover "a.test", "shop.test"']);
    expect(c.out[0]).toMatch(/^certificate\/shop version 2 created/);
  });

  it('deletes a certificate only when no route names it', async () => {
    await apply('shop', a);
    await applyObject(docker, route('front', { hosts: ['a.test'], tls: { mode: 'Terminate', certificate: { name: 'shop' } }, rules: [{ backends: [{ service: 'web', port: 80 }] }] }));
    const refused = capture();
    expect(await runTlsDelete(docker, 'shop', refused.io)).toBe(1);
    expect(refused.err).toEqual(['certificate/shop is in use (route/front); change or delete those routes first']);
    await apply('other', b);
    const ok = capture();
    expect(await runTlsDelete(docker, 'other', ok.io)).toBe(0);
    expect(ok.out).toEqual(['certificate/other deleted (1 version)']);
    expect(await certSecrets()).toEqual(['sg-cert-shop-v1.crt', 'sg-cert-shop-v1.key']);
  });
});

/** `docker` whose first listSecrets answers what was stored before: a writer that read, then lost the race. */
function staleReader(docker: FakeDocker, before: Awaited<ReturnType<FakeDocker['listSecrets']>>): FakeDocker {
  let stale = true;
  return new Proxy(docker, {
    get(target, prop, receiver) {
      if (prop === 'listSecrets' && stale) {
        stale = false;
        return () => Promise.resolve(before);
      }
      const v: unknown = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('tls apply and delete racing another writer', () => {
  it('the apply that lost the version number says conflict, exits 3 and stores nothing', async () => {
    const docker = new FakeDocker();
    const before = await docker.listSecrets();
    const first = capture();
    expect(await runTlsApply(docker, { name: 'shop', cert: a.certPath, key: a.keyPath }, first.io, NOW)).toBe(0);
    const loser = capture();
    expect(await runTlsApply(staleReader(docker, before), { name: 'shop', cert: b.certPath, key: b.keyPath, allowMismatch: true }, loser.io, NOW)).toBe(3);
    expect(loser.err.join('\n')).toContain('certificate/shop: conflict: another writer stored version 1 while this one was being stored; nothing of this write was stored');
    expect(loser.out.join('\n')).not.toContain('created');
    // The winner's pair is the one stored, complete; no lone secret of the loser's.
    const secrets = (await docker.listSecrets()).map((s) => s.Spec.Name).sort();
    expect(secrets).toHaveLength(2);
    const listed = capture();
    await runTlsList(docker, 'json', listed.io, NOW);
    const items = (JSON.parse(listed.out.join('')) as { items: { name: string; version: number; complete: boolean }[] }).items;
    expect(items.map((i) => [i.name, i.version, i.complete])).toEqual([['shop', 1, true]]);
    expect(keyLines(a.key, b.key).some((l) => [...loser.err, ...loser.out].join('\n').includes(l))).toBe(false);
  });

  it('a delete that raced an apply of the same name says the name is still stored', async () => {
    const docker = new FakeDocker();
    expect(await runTlsApply(docker, { name: 'shop', cert: a.certPath, key: a.keyPath }, capture().io, NOW)).toBe(0);
    // The apply lands between the delete's listing and its removals.
    let applied = false;
    const racing = new Proxy(docker, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'removeSecret' && !applied) {
          return async (id: string) => {
            applied = true;
            expect(await runTlsApply(docker, { name: 'shop', cert: b.certPath, key: b.keyPath, allowMismatch: true }, capture().io, NOW)).toBe(0);
            return docker.removeSecret(id);
          };
        }
        return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
      },
    });
    const d = capture();
    expect(await runTlsDelete(racing, 'shop', d.io)).toBe(3);
    expect(d.err.join('\n')).toContain('certificate/shop: conflict: version 2 was stored by another writer while this one deleted');
    expect(d.out.join('\n')).not.toContain('deleted (');
    const listed = capture();
    await runTlsList(docker, 'json', listed.io, NOW);
    const items = (JSON.parse(listed.out.join('')) as { items: { name: string; version: number }[] }).items;
    expect(items.map((i) => [i.name, i.version])).toEqual([['shop', 2]]);
  });
});
