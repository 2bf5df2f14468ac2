/**
 * The core's issuer (ADR 0013): holds every ACME certificate the Routes ask for, orders each once for
 * the whole fleet (keyed by route, whatever the number of clusters or replicas that serve it), one
 * order at a time, renews at the Issuer's renewal time, backs off failed orders (acme-timing.ts,
 * Retry-After honoured) and keeps its state durable (acme-state-store.ts). The reconcile run tells
 * it what is wanted (sync) and asks it what it holds (certificates, files, conditions); it tells the
 * run to look again (poke) when something changed. HTTP-01 tokens go to the agents of the route's
 * cluster through the control plane at once, without a run. Private keys leave it only as the
 * certificate files of a delivery to those agents; nothing here logs a PEM.
 */
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { Logger } from 'pino';
import { Subject, type Observable } from 'rxjs';
import type { AcmeChallengeData, ConfigFileData, ControlPlane } from '../../api/control-plane';
import type { IssuerSpec } from '../../domain/issuer';
import { acmeFileNames, type AcmeCertificates, type AcmeOrder } from '../../plan/acme-routes';
import { nextAttemptAt, renewalTime } from '../../plan/acme-timing';
import { AcmeStepError, ensureAccount, orderCertificate, type ChallengeHooks, type OrderStep } from './acme-order';
import { EMPTY_STATE, type AcmeCertificateFacts, type AcmeState, type AcmeStateStore, type StoredCertificate } from './acme-state-store';
import { certificateCondition, issuerCondition, type OrderProgress } from './acme-conditions';
import type { Condition } from '../../domain/conditions';
import { certificateFingerprint, type AcmeCopyStore } from './acme-copy-store';

export interface IssuerActorOptions {
  readonly store: AcmeStateStore;
  readonly log: Logger;
  readonly plane?: ControlPlane;
  readonly now?: () => number;
  /** The text of a Docker config (caBundle.config), or undefined when there is none. */
  readonly readConfig?: (name: string) => Promise<string | undefined>;
  /** The text of a Docker secret mounted into the core (caBundle.secret, the EAB HMAC key). */
  readonly readSecret?: (name: string) => string | undefined;
  /** Mount a secret the core needs and does not have (mount-into-core.ts); says what happens. */
  readonly mountSecret?: (name: string) => Promise<string>;
  /** How long a presented HTTP-01 token is given to reach the agents before the CA is asked to check. */
  readonly tokenSettleMs?: number;
  /** Order retry pacing (tests shorten it). */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
  /** POST to a dns01 webhook (tests replace it). */
  readonly webhook?: (url: string, body: unknown) => Promise<void>;
  /** Where each issued certificate's durable copy is kept (a Docker secret the proxies mount, ADR 0024); absent: none. */
  readonly copies?: AcmeCopyStore;
}

async function postJson(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(30_000) });
  if (!res.ok) throw new Error(`dns01 webhook ${url} answered ${res.status}`);
}

/** The last Retry-After an ACME server sent with a refusal (acme-client's own retries are turned off). */
let lastRetryAfterMs: number | undefined;
let interceptorInstalled = false;
function installRetryAfterInterceptor(): void {
  if (interceptorInstalled) return;
  interceptorInstalled = true;
  // acme-client would sleep for Retry-After inside a request; the actor's backoff honours it instead.
  (acme.axios.defaults as { acmeSettings?: { retryMaxAttempts: number } }).acmeSettings = { ...(acme.axios.defaults as { acmeSettings?: object }).acmeSettings, retryMaxAttempts: 0 } as { retryMaxAttempts: number };
  acme.axios.interceptors.response.use((r) => {
    const ra = r.headers['retry-after'] as string | undefined;
    if (r.status >= 400 && ra !== undefined) {
      const secs = Number(ra);
      lastRetryAfterMs = Number.isFinite(secs) ? secs * 1000 : Math.max(0, Date.parse(ra) - Date.now());
    }
    return r;
  });
}

/** How long an HTTP-01 order waits for the cluster's agents to run the core's latest config. */
const AGENTS_CATCH_UP_MS = 30_000;

export class IssuerActor {
  private state: AcmeState = EMPTY_STATE;
  private wanted: readonly AcmeOrder[] = [];
  private issuers: ReadonlyMap<string, IssuerSpec> = new Map();
  private readonly progress = new Map<string, OrderProgress>();
  private readonly accounts = new Map<string, { ok: boolean; message: string }>();
  private readonly challenges = new Map<string, Map<string, AcmeChallengeData>>();
  private busy = false;
  private loaded = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly changed = new Subject<string>();
  private readonly fingerprintCache = new Map<string, string>();
  /** Fires when the run should look again (a certificate issued, an order's progress or failure). */
  readonly changes$: Observable<string> = this.changed.asObservable();

  constructor(private readonly o: IssuerActorOptions) {
    this.now = o.now ?? Date.now;
    installRetryAfterInterceptor();
  }

  /** Read the durable state; before this, nothing is ordered (a restart must not order again). */
  async start(): Promise<void> {
    this.state = await this.o.store.load();
    this.loaded = true;
    const n = Object.keys(this.state.certificates).length;
    this.o.log.info({ certificates: n, durable: this.o.store.durable }, 'ACME state loaded');
    this.kick();
    // Certificates issued before the core kept copies (or whose copy was removed by hand) get one now.
    for (const [route, c] of Object.entries(this.state.certificates)) if (c.notAfter > this.now()) await this.keepCopy(route, c);
  }

  /** Keep the durable copy of a route's certificate (a failure is logged: the stream still delivers it). */
  private async keepCopy(route: string, c: StoredCertificate): Promise<void> {
    if (this.o.copies === undefined) return;
    try {
      await this.o.copies.keep(route, c);
      this.changed.next('acme');
    } catch (e) {
      // Docker's error, never the secret's content.
      this.o.log.warn({ route, err: e instanceof Error ? e.message : String(e) }, 'could not keep the durable copy of the ACME certificate; a proxy task that boots while the core is away may start without it');
    }
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }

  /** What the run wants now: one order per route with an issuer that could be admitted. */
  sync(orders: readonly AcmeOrder[], issuers: ReadonlyMap<string, IssuerSpec>): void {
    this.wanted = orders;
    this.issuers = issuers;
    for (const route of this.progress.keys()) if (!orders.some((o) => o.route === route)) this.progress.delete(route);
    this.kick();
  }

  /** The certificates the plan may serve, by route (names only). */
  certificates(): AcmeCertificates {
    return new Map(Object.entries(this.state.certificates).filter(([, c]) => c.notAfter > this.now()).map(([route, c]) => [route, { dnsNames: c.hosts }]));
  }

  /** SHA-256 fingerprint of each route's current certificate (which durable copy a new proxy task mounts). */
  fingerprints(): ReadonlyMap<string, string> {
    const out = new Map<string, string>();
    for (const [route, c] of Object.entries(this.state.certificates)) {
      if (c.notAfter <= this.now()) continue;
      const known = this.fingerprintCache.get(c.certPem);
      const fp = known ?? certificateFingerprint(c.certPem);
      if (known === undefined) this.fingerprintCache.set(c.certPem, fp);
      out.set(route, fp);
    }
    return out;
  }

  /** The PEM files a model's config names (ProxyModel.acme.files), for its agents only. */
  filesFor(names: readonly string[] | undefined): ConfigFileData[] {
    const out: ConfigFileData[] = [];
    for (const [route, c] of Object.entries(this.state.certificates)) {
      const f = acmeFileNames(route);
      if (names?.includes(f.cert) === true) out.push({ path: f.cert, content: Buffer.from(c.certPem) });
      if (names?.includes(f.key) === true) out.push({ path: f.key, content: Buffer.from(c.keyPem) });
    }
    return out;
  }

  /** CertificateReady by route and Ready by issuer, for the routes and issuers the run knows. */
  conditions(): { routes: Map<string, Condition>; issuers: Map<string, Condition> } {
    const routes = new Map<string, Condition>();
    for (const o of this.wanted) {
      const held = this.state.certificates[o.route];
      routes.set(o.route, certificateCondition(o, held, this.progress.get(o.route), this.now(), held !== undefined ? this.renewAt(o.route, held) : undefined));
    }
    const issuers = new Map<string, Condition>();
    for (const name of this.issuers.keys()) issuers.set(name, issuerCondition(name, this.accounts.get(name), this.o.store.durable));
    return { routes, issuers };
  }

  /** Public facts of every held certificate (tls list, describe): never a key. */
  held(): { route: string; issuer: string; hosts: readonly string[]; notAfter: number; renewAt: number; orders: number }[] {
    return Object.entries(this.state.certificates).map(([route, c]) => ({ route, issuer: c.issuer, hosts: c.hosts, notAfter: c.notAfter, renewAt: this.renewAt(route, c), orders: c.orders }));
  }

  /** held() as the public facts saved beside the state (tls list). */
  private facts(): AcmeCertificateFacts[] {
    return this.held().map((h) => ({ route: h.route, issuer: h.issuer, hosts: h.hosts, notAfter: new Date(h.notAfter).toISOString(), renewAt: new Date(h.renewAt).toISOString(), orders: h.orders }));
  }

  private renewAt(route: string, c: StoredCertificate): number {
    const spec = this.issuers.get(c.issuer);
    return renewalTime(c.notBefore, c.notAfter, spec?.renewal ?? { percentOfLifetime: 66, jitterPercent: 5 }, `${route}\u0000${c.notAfter}`);
  }

  /** When an order is due: none held, the hosts or issuer changed, or its renewal time came; not before its backoff ends. */
  private dueAt(o: AcmeOrder): number {
    const p = this.progress.get(o.route);
    const c = this.state.certificates[o.route];
    const stale = c === undefined || c.issuer !== o.issuer || [...c.hosts].sort().join(',') !== [...o.hosts].sort().join(',');
    const at = stale ? 0 : this.renewAt(o.route, c);
    return Math.max(at, p?.retryAt ?? 0);
  }

  private kick(): void {
    if (!this.loaded || this.busy || this.stopped) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const accountless = [...this.issuers.keys()].find((name) => this.accounts.get(name) === undefined);
    const due = [...this.wanted].sort((a, b) => (a.route < b.route ? -1 : 1)).find((o) => this.issuers.has(o.issuer) && this.dueAt(o) <= now);
    if (accountless !== undefined) return void this.run(() => this.register(accountless));
    if (due !== undefined) return void this.run(() => this.order(due));
    const next = Math.min(...this.wanted.filter((o) => this.issuers.has(o.issuer)).map((o) => this.dueAt(o)));
    // setTimeout's limit is ~24.8 days; a later renewal is looked at again then.
    if (Number.isFinite(next)) this.timer = setTimeout(() => this.kick(), Math.min(Math.max(0, next - now), 2 ** 31 - 1));
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await work();
    } finally {
      this.busy = false;
      this.changed.next('acme');
      this.kick();
    }
  }

  private async clientFor(name: string, spec: IssuerSpec): Promise<acme.Client> {
    const prev = this.state.accounts[name];
    const same = prev !== undefined && prev.server === spec.acme.server && prev.email === spec.acme.email;
    const accountKeyPem = same ? prev.accountKeyPem : (await acme.crypto.createPrivateEcdsaKey()).toString();
    if (!same) await this.save({ ...this.state, accounts: { ...this.state.accounts, [name]: { server: spec.acme.server, email: spec.acme.email, accountKeyPem } } });
    const eab = spec.acme.externalAccountBinding;
    const hmacKey = eab !== undefined ? this.o.readSecret?.(eab.hmacKeySecret) : undefined;
    if (eab !== undefined && hmacKey === undefined) throw new AcmeStepError('registering the account', `external account binding: ${await this.unmounted(eab.hmacKeySecret)}`);
    await this.trustCaBundles();
    const url = same ? prev.accountUrl : undefined;
    return new acme.Client({
      directoryUrl: spec.acme.server,
      accountKey: accountKeyPem,
      ...(url !== undefined ? { accountUrl: url } : {}),
      ...(eab !== undefined && hmacKey !== undefined ? { externalAccountBinding: { kid: eab.keyId, hmacKey: hmacKey.trim() } } : {}),
    });
  }

  /** acme-client uses one HTTP agent: it trusts the system's roots plus every Issuer's CA bundle. */
  private async trustCaBundles(): Promise<void> {
    const extra: string[] = [];
    for (const spec of this.issuers.values()) {
      const ca = spec.acme.caBundle;
      if (ca?.config !== undefined) {
        const text = await this.o.readConfig?.(ca.config);
        if (text === undefined) throw new AcmeStepError('registering the account', `caBundle: config "${ca.config}" not found`);
        extra.push(text);
      } else if (ca?.secret !== undefined) {
        const text = this.o.readSecret?.(ca.secret);
        if (text === undefined) throw new AcmeStepError('registering the account', `caBundle: ${await this.unmounted(ca.secret)}`);
        extra.push(text);
      }
    }
    acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, ...extra], keepAlive: false });
  }

  /** A secret the core cannot read: have it mounted (the core's task is replaced), or say why not. */
  private async unmounted(name: string): Promise<string> {
    const m = this.o.mountSecret;
    if (m === undefined) return `secret "${name}" is not mounted into the core`;
    return m(name).catch((e: unknown) => `secret "${name}" could not be mounted into the core: ${e instanceof Error ? e.message : String(e)}`);
  }

  private async register(name: string): Promise<void> {
    const spec = this.issuers.get(name);
    if (spec === undefined) return;
    try {
      const client = await this.clientFor(name, spec);
      const url = await ensureAccount(client, spec.acme.email);
      const acct = this.state.accounts[name];
      if (acct !== undefined && acct.accountUrl !== url) await this.save({ ...this.state, accounts: { ...this.state.accounts, [name]: { ...acct, accountUrl: url } } });
      this.accounts.set(name, { ok: true, message: `account ${url} registered at ${spec.acme.server}` });
      this.o.log.info({ issuer: name, server: spec.acme.server }, 'ACME account registered');
    } catch (e) {
      const detail = e instanceof AcmeStepError ? e.detail : e instanceof Error ? e.message : String(e);
      this.accounts.set(name, { ok: false, message: `account at ${spec.acme.server} not registered: ${detail}` });
      this.o.log.warn({ issuer: name, err: detail }, 'ACME account registration failed');
    }
  }

  private hooks(cluster: string): ChallengeHooks {
    const settle = this.o.tokenSettleMs ?? 1_000;
    const post = this.o.webhook ?? postJson;
    return {
      presentHttp01: async (token, keyAuthorization) => {
        this.setToken(cluster, token, { token, keyAuthorization });
        await this.agentsCaughtUp(cluster);
        await new Promise((r) => setTimeout(r, settle));
      },
      cleanupHttp01: (token) => {
        this.setToken(cluster, token, undefined);
        return Promise.resolve();
      },
      presentDns01: (url, fqdn, value) => post(url, { action: 'present', fqdn, value }),
      cleanupDns01: (url, fqdn, value) => post(url, { action: 'cleanup', fqdn, value }),
    };
  }

  /**
   * Before the CA is asked to validate an HTTP-01 token: every connected agent of the cluster runs
   * the config the core delivered last. A cluster's first ACME route adds the challenge location to
   * its config in the same run that asks for the order, so without this the CA can reach a proxy
   * that still answers the token's path with the old config (a failed order, then 30 s of backoff).
   * Bounded: after AGENTS_CATCH_UP_MS the CA is asked anyway and its answer is the order's outcome.
   */
  private async agentsCaughtUp(cluster: string): Promise<void> {
    const plane = this.o.plane;
    if (plane === undefined) return;
    const t0 = this.now();
    for (;;) {
      const hash = plane.delivered(cluster)?.configHash;
      const agents = plane.connectedAgents(cluster);
      const reports = plane.reportsOf(cluster).filter((r) => agents.has(r.replicaId));
      const caughtUp = hash !== undefined && agents.size > 0 && reports.length === agents.size && reports.every((r) => r.appliedHash === hash);
      if (caughtUp || this.now() - t0 >= AGENTS_CATCH_UP_MS || this.stopped) {
        this.o.log.info({ cluster, agents: agents.size, reports: reports.length, caughtUp, waitedMs: this.now() - t0 }, 'HTTP-01 token presented to the agents');
        return;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private setToken(cluster: string, token: string, c: AcmeChallengeData | undefined): void {
    const m = this.challenges.get(cluster) ?? new Map<string, AcmeChallengeData>();
    this.challenges.set(cluster, m);
    if (c === undefined) m.delete(token);
    else m.set(token, c);
    this.o.plane?.setChallenges(cluster, [...m.values()]);
  }

  private async order(o: AcmeOrder): Promise<void> {
    const spec = this.issuers.get(o.issuer);
    if (spec === undefined) return;
    const held = this.state.certificates[o.route];
    const prev = this.progress.get(o.route);
    const renewing = held !== undefined && held.issuer === o.issuer;
    const t0 = this.now();
    const track = (step: OrderStep): void => {
      this.progress.set(o.route, { ...(prev ?? { failures: 0 }), step, renewing, startedAt: t0 });
      this.changed.next('acme');
    };
    this.o.log.info({ route: o.route, issuer: o.issuer, hosts: o.hosts, renewing }, 'ordering an ACME certificate');
    lastRetryAfterMs = undefined;
    // The order this route's last attempt placed (before a restart, or before a failure), for the same
    // issuer and hosts: resumed at the CA rather than ordered again (ADR 0027).
    const kept = this.state.pending?.[o.route];
    const resumable = kept !== undefined && kept.issuer === o.issuer && [...kept.hosts].sort().join(',') === [...o.hosts].sort().join(',') ? kept : undefined;
    let orders = resumable?.orders ?? held?.orders ?? 0;
    try {
      const client = await this.clientFor(o.issuer, spec);
      const pair = await orderCertificate(client, spec, o.hosts, this.hooks(o.cluster), track, {
        ...(resumable !== undefined ? { placed: { url: resumable.url, keyPem: resumable.keyPem } } : {}),
        onPlaced: async (placed) => {
          orders = (kept?.orders ?? held?.orders ?? 0) + 1;
          await this.save({ ...this.state, pending: { ...this.state.pending, [o.route]: { issuer: o.issuer, hosts: [...o.hosts], ...placed, placedAt: this.now(), orders } } });
          this.o.log.info({ route: o.route, issuer: o.issuer, renewing, order: placed.url, orders }, 'ACME order placed');
        },
        onResumed: (placed, status) => this.o.log.info({ route: o.route, issuer: o.issuer, renewing, order: placed.url, status }, 'resuming the ACME order placed before'),
      });
      const cert: StoredCertificate = { issuer: o.issuer, hosts: [...o.hosts], ...pair, issuedAt: this.now(), orders };
      const { [o.route]: _done, ...stillPending } = this.state.pending ?? {};
      await this.save({ ...this.state, certificates: { ...this.state.certificates, [o.route]: cert }, pending: stillPending });
      this.progress.delete(o.route);
      this.o.log.info({ route: o.route, issuer: o.issuer, notAfter: new Date(pair.notAfter).toISOString(), tookMs: this.now() - t0 }, 'ACME certificate issued');
      await this.keepCopy(o.route, cert);
    } catch (e) {
      const step = e instanceof AcmeStepError ? e.step : 'placing the order';
      const detail = e instanceof AcmeStepError ? e.detail : e instanceof Error ? e.message : String(e);
      const failures = (prev?.failures ?? 0) + 1;
      const retryAt = nextAttemptAt(this.now(), failures, lastRetryAfterMs, this.o.backoff);
      this.progress.set(o.route, { step, renewing, startedAt: t0, failures, retryAt, error: detail, ...(lastRetryAfterMs !== undefined ? { retryAfterMs: lastRetryAfterMs } : {}) });
      this.o.log.warn({ route: o.route, issuer: o.issuer, step, err: detail, failures, retryAt: new Date(retryAt).toISOString() }, 'ACME order failed');
    }
  }

  private async save(next: AcmeState): Promise<void> {
    this.state = next;
    try {
      await this.o.store.save(next, this.facts());
    } catch (e) {
      // Kept in memory; the next change saves again. The error is Docker's, never the state.
      this.o.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'ACME state not saved; it is kept in memory until the next save');
    }
  }
}
