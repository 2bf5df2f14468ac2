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

/** An order at the CA as the state keeps it: its URL and the key the certificate is issued for. */
export interface PlacedOrder {
  readonly url: string;
  readonly keyPem: string;
}

/**
 * How an order survives a restart of the core (ADR 0027): the order the route's last attempt placed,
 * to resume, and where a newly placed one is saved before anything else happens to it.
 */
export interface OrderResumption {
  readonly placed?: PlacedOrder;
  onPlaced(order: PlacedOrder): Promise<void>;
  onResumed?(order: PlacedOrder, status: string): void;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return [...a].sort().join(',') === [...b].sort().join(',');
}

/**
 * The order at `url` when it can still give this route its certificate: it exists for this account,
 * covers exactly these hosts, and is neither invalid nor expired. Anything else: undefined (a new
 * order is placed), also when the CA cannot be asked (the new order's step reports that).
 */
async function resumable(client: acme.Client, url: string, hosts: readonly string[], now: number): Promise<acme.Order | undefined> {
  try {
    // getOrder reads only the URL of the order object it is given.
    const order = await client.getOrder({ url } as acme.Order);
    if (order.status === 'invalid') return undefined;
    if (order.status !== 'valid' && order.expires !== undefined && Date.parse(order.expires) <= now) return undefined;
    return sameNames(order.identifiers.map((i) => i.value), hosts) ? order : undefined;
  } catch {
    return undefined;
  }
}

async function presentAndValidate(client: acme.Client, issuer: IssuerSpec, order: acme.Order, hooks: ChallengeHooks, progress: (s: OrderStep) => void): Promise<void> {
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
      // A resumed order's challenge may have been answered before the restart (processing, valid): not again.
      for (const c of pending) if (c.status === 'pending') await client.completeChallenge(c);
      for (const c of pending) await client.waitForValidStatus(c);
    });
  } finally {
    for (const c of cleanups) await c().catch(() => undefined);
  }
}

/**
 * Order (or, with `resume.placed`, resume) a certificate for `hosts`. A resumed order goes on from
 * where the CA has it: pending (challenges presented again, by this core), ready (finalized),
 * processing or valid (downloaded), with the key saved when it was placed.
 */
export async function orderCertificate(client: acme.Client, issuer: IssuerSpec, hosts: readonly string[], hooks: ChallengeHooks, progress: (s: OrderStep) => void, resume?: OrderResumption): Promise<IssuedPair> {
  await ensureAccount(client, issuer.acme.email, progress);
  const kept = resume?.placed;
  let order = kept !== undefined ? await resumable(client, kept.url, hosts, Date.now()) : undefined;
  let keyPem: string;
  if (order !== undefined && kept !== undefined) {
    keyPem = kept.keyPem;
    resume?.onResumed?.(kept, order.status);
  } else {
    keyPem = (await acme.crypto.createPrivateEcdsaKey()).toString();
    const placed = await step('placing the order', progress, () => client.createOrder({ identifiers: hosts.map((h) => ({ type: 'dns', value: h })) }));
    await resume?.onPlaced({ url: placed.url, keyPem });
    order = placed;
  }
  if (order.status === 'pending') await presentAndValidate(client, issuer, order, hooks, progress);
  let finalized = order;
  if (order.status === 'pending' || order.status === 'ready') {
    const csr = await step('finalizing', progress, async () => (await acme.crypto.createCsr({ commonName: hosts[0] ?? '', altNames: [...hosts] }, keyPem))[1]);
    const current = order;
    finalized = await step('finalizing', progress, () => client.finalizeOrder(current, csr));
  }
  const done = finalized;
  const certPem = await step('downloading the certificate', progress, () => client.getCertificate(done));
  const info = acme.crypto.readCertificateInfo(certPem);
  return { certPem, keyPem, notBefore: info.notBefore.getTime(), notAfter: info.notAfter.getTime() };
}
