/**
 * A proxy task that boots without the core (ADR 0024, HAProxy: ADR 0033): its config (the node's
 * last applied one or the mounted boot config) names ACME certificate files the core delivers over
 * the stream into the task's tmpfs, which a new task does not have yet, and NGINX refuses to start
 * on a config whose certificate files are missing (HAProxy: the agent cannot build the combined PEM
 * its crt-list names). Before the proxy starts, every such file is made:
 * - from the route's durable copy, a Docker secret the core mounts into the cluster's proxy tasks
 *   (/run/secrets/swarmgate-acme/<route>.pem: the chain, then the key): the route serves the last
 *   mounted certificate while the core is away;
 * - else from a self-signed placeholder made once per boot (a route issued after the service's
 *   last update has no copy yet): NGINX starts and serves every other route; clients of that route
 *   see an untrusted certificate until the core answers.
 * When the core answers, its delivery overwrites the files and NGINX reloads (the fresher
 * certificate). Nothing here logs a PEM.
 */
import { webcrypto } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import type { Logger } from 'pino';
import { ACME_DIR_IN_TASKS, acmeFileNames } from '../plan/acme-routes';
import { ACME_COPY_DIR_IN_TASKS } from '../plan/acme-copies';
import { pemFilesOfConfig } from '../render/haproxy/pem-files';
import { writeCertificates } from './acme-files';

const KEY_BLOCK = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----\s*/;
const ROUTE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/;

/** The routes whose ACME certificate files `config` names under `acmeDir`. */
export function acmeRoutesNamedIn(config: string, acmeDir: string = ACME_DIR_IN_TASKS): string[] {
  const routes = new Set<string>();
  const prefix = `${acmeDir}/acme-`;
  for (let at = config.indexOf(prefix); at >= 0; at = config.indexOf(prefix, at + 1)) {
    const m = /^([A-Za-z0-9._-]+)\.(crt|key)/.exec(config.slice(at + prefix.length));
    if (m?.[1] !== undefined && ROUTE.test(m[1])) routes.add(m[1]);
  }
  return [...routes].sort();
}

/**
 * HAProxy: the routes whose ACME combined PEM a rendered haproxy.cfg reads under `certDir` (its
 * crt-list lines name `<certDir>/acme/acme-<route>.crt+acme-<route>.key.pem`, ADR 0032).
 */
export function acmeRoutesOfHaproxyConfig(config: string, certDir: string): string[] {
  const routes = pemFilesOfConfig(config, certDir).flatMap((p) => {
    const route = p.acme === true ? /^acme-(.+)\.crt$/.exec(p.certSecret)?.[1] : undefined;
    return route !== undefined && ROUTE.test(route) && acmeFileNames(route).key === p.keySecret ? [route] : [];
  });
  return [...new Set(routes)].sort();
}

/** A durable copy split into the certificate chain and the key, or undefined when it is not one. */
export function splitCopy(pem: string): { cert: string; key: string } | undefined {
  const key = KEY_BLOCK.exec(pem)?.[0];
  const cert = pem.replace(KEY_BLOCK, '');
  if (key === undefined || !cert.includes('-----BEGIN CERTIFICATE-----')) return undefined;
  return { cert: `${cert.trim()}\n`, key: `${key.trim()}\n` };
}

/** A self-signed P-256 pair that lets NGINX start (never trusted by a client). */
export async function placeholderPair(): Promise<{ cert: string; key: string }> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    { name: 'CN=swarmgate placeholder (the core has not delivered this certificate yet)', keys, signingAlgorithm: alg, notBefore: new Date(now - 60_000), notAfter: new Date(now + 7 * 86_400_000) },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { cert: `${cert.toString('pem').trim()}\n`, key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n` };
}

export interface RestoreResult {
  /** Routes whose files came from their durable copy. */
  readonly fromCopies: readonly string[];
  /** Routes that got the placeholder. */
  readonly placeholders: readonly string[];
}

/**
 * Make the ACME certificate files of `routes` (those the boot config names: acmeRoutesNamedIn for
 * NGINX, acmeRoutesOfHaproxyConfig for HAProxy) that `acmeDir` lacks, from the durable copies in
 * `copiesDir`, else the placeholder. Files already there (written by this task) are left alone.
 */
export async function restoreAcmeFiles(routes: readonly string[], o: { readonly acmeDir?: string; readonly copiesDir?: string; readonly log: Logger }): Promise<RestoreResult> {
  const acmeDir = o.acmeDir ?? ACME_DIR_IN_TASKS;
  const copiesDir = o.copiesDir ?? ACME_COPY_DIR_IN_TASKS;
  const fromCopies: string[] = [];
  const placeholders: string[] = [];
  let placeholder: { cert: string; key: string } | undefined;
  for (const route of routes) {
    const names = acmeFileNames(route);
    if (existsSync(join(acmeDir, names.cert)) && existsSync(join(acmeDir, names.key))) continue;
    const copyPath = join(copiesDir, `${route}.pem`);
    let pair = existsSync(copyPath) ? splitCopy(readFileSync(copyPath, 'utf8')) : undefined;
    if (pair !== undefined) fromCopies.push(route);
    else {
      pair = placeholder ??= await placeholderPair();
      placeholders.push(route);
    }
    const written = writeCertificates(acmeDir, [
      { path: names.cert, content: Buffer.from(pair.cert) },
      { path: names.key, content: Buffer.from(pair.key) },
    ]);
    if (!written.ok) o.log.warn({ route, err: written.output }, 'could not write the ACME certificate files');
  }
  if (fromCopies.length > 0) o.log.warn({ routes: fromCopies }, 'booting without the core: ACME routes serve the certificate of their durable copy (the Docker secret mounted at the service\'s last update) until the core delivers the current one');
  if (placeholders.length > 0) o.log.warn({ routes: placeholders }, 'booting without the core: ACME routes with no durable copy mounted serve a self-signed placeholder until the core delivers their certificate');
  return { fromCopies, placeholders };
}
