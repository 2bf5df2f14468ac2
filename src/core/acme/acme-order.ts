/**
 * One ACME order with acme-client's protocol steps (RFC 8555): account, order, one challenge per
 * host by the Issuer's solver for it (http01 through the proxies' agents, dns01 through the
 * webhook), finalize with a fresh key's CSR, download. acme-client's auto() picks one challenge type
 * for the whole order; a route's hosts may need different solvers, so the steps are called here.
 * Every failure is an AcmeStepError naming the step, with the CA's problem detail as message.
 */
import * as acme from 'acme-client';
import { solverFor, type IssuerSpec } from '../../domain/issuer';

type Challenge = acme.Authorization['challenges'][number];

export type OrderStep = 'registering the account' | 'placing the order' | 'presenting the challenges' | 'waiting for the CA to validate' | 'finalizing' | 'downloading the certificate';

export class AcmeStepError extends Error {
  constructor(
    readonly step: OrderStep,
    readonly detail: string,
  ) {
    super(`${step}: ${detail}`);
  }
}

/** How challenges are presented and withdrawn (the issuer actor wires them to agents and webhooks). */
export interface ChallengeHooks {
  presentHttp01(token: string, keyAuthorization: string): Promise<void>;
  cleanupHttp01(token: string): Promise<void>;
  presentDns01(url: string, fqdn: string, value: string): Promise<void>;
  cleanupDns01(url: string, fqdn: string, value: string): Promise<void>;
}

export interface IssuedPair {
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: number;
  readonly notAfter: number;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function step<T>(name: OrderStep, progress: (s: OrderStep) => void, f: () => Promise<T>): Promise<T> {
  progress(name);
  try {
    return await f();
  } catch (e) {
    throw e instanceof AcmeStepError ? e : new AcmeStepError(name, message(e));
  }
}

/** Register the account when the client has none yet; returns its URL. */
export async function ensureAccount(client: acme.Client, email: string, progress: (s: OrderStep) => void = () => undefined): Promise<string> {
  return step('registering the account', progress, async () => {
    try {
      return client.getAccountUrl();
    } catch {
      await client.createAccount({ termsOfServiceAgreed: true, contact: [`mailto:${email}`] });
      return client.getAccountUrl();
    }
  });
}

export async function orderCertificate(client: acme.Client, issuer: IssuerSpec, hosts: readonly string[], hooks: ChallengeHooks, progress: (s: OrderStep) => void): Promise<IssuedPair> {
  await ensureAccount(client, issuer.acme.email, progress);
  const order = await step('placing the order', progress, () => client.createOrder({ identifiers: hosts.map((h) => ({ type: 'dns', value: h })) }));
  const authorizations = await step('placing the order', progress, () => client.getAuthorizations(order));
  const cleanups: (() => Promise<void>)[] = [];
  try {
    const pending: Challenge[] = [];
    await step('presenting the challenges', progress, async () => {
      for (const authz of authorizations) {
        if (authz.status === 'valid') continue;
        const host = `${authz.wildcard === true ? '*.' : ''}${authz.identifier.value}`;
        const solver = solverFor(issuer, host);
        const type = solver?.dns01 !== undefined ? 'dns-01' : 'http-01';
        const challenge = authz.challenges.find((c) => c.type === type);
        if (solver === undefined || challenge === undefined) throw new Error(`the CA offers no ${type} challenge for ${host}`);
        const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
        const dns = solver.dns01;
        if (dns !== undefined) {
          const fqdn = `_acme-challenge.${authz.identifier.value}`;
          await hooks.presentDns01(dns.webhook.url, fqdn, keyAuthorization);
          cleanups.push(() => hooks.cleanupDns01(dns.webhook.url, fqdn, keyAuthorization));
        } else {
          await hooks.presentHttp01(challenge.token, keyAuthorization);
          cleanups.push(() => hooks.cleanupHttp01(challenge.token));
        }
        pending.push(challenge);
      }
    });
    await step('waiting for the CA to validate', progress, async () => {
      for (const c of pending) await client.completeChallenge(c);
      for (const c of pending) await client.waitForValidStatus(c);
    });
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
  const [keyBuf, csr] = await step('finalizing', progress, async () => {
    const key = await acme.crypto.createPrivateEcdsaKey();
    const [, request] = await acme.crypto.createCsr({ commonName: hosts[0] ?? '', altNames: [...hosts] }, key);
    return [key, request] as const;
  });
  const finalized = await step('finalizing', progress, () => client.finalizeOrder(order, csr));
  const certPem = await step('downloading the certificate', progress, () => client.getCertificate(finalized));
  const info = acme.crypto.readCertificateInfo(certPem);
  return { certPem, keyPem: keyBuf.toString(), notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime() };
}
