/**
 * Where the core keeps its ACME state across restarts (ADR 0013): the account keys and every issued
 * certificate with its private key. Docker secrets cannot be read back through the API, so the state
 * is a Swarm config holding only ciphertext (AES-256-GCM), one per save (`sg-acme-state-<hash12>`,
 * role "acme-state"; older ones are removed after a save). The key is derived (HKDF-SHA256) from a
 * file only the core's task mounts: the ACME state key secret `install` makes (not part of a TLS
 * set, so rotate-certs keeps it), a Docker secret no other service mounts. Whoever reads the config through the Docker API gets ciphertext; decrypting needs the
 * secret, i.e. a task that mounts it. Without that file (a core started --insecure) the state lives
 * in memory only, and the Issuers' Ready condition says so.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import type { DockerPort } from '../../observed/docker-port';

/** An ACME account the core registered for an Issuer. */
export interface StoredAccount {
  readonly server: string;
  readonly email: string;
  readonly accountKeyPem: string;
  readonly accountUrl?: string;
}

/** A certificate the core holds for a route. */
export interface StoredCertificate {
  readonly issuer: string;
  readonly hosts: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly issuedAt: number;
  /** How many orders the core placed at the CA for this route since the state began, counted at placement (tls list). */
  readonly orders: number;
}

/**
 * An order placed at the CA and not finished yet, by route (ADR 0027): saved the moment the CA
 * creates it, so a core restarted in the middle resumes it by URL instead of placing another.
 * The key is the one the certificate will be issued for (made before the order, so an order the
 * CA finalized before the restart still pairs with it). Removed when the certificate is issued.
 */
export interface PendingOrder {
  readonly issuer: string;
  readonly hosts: readonly string[];
  readonly url: string;
  readonly keyPem: string;
  readonly placedAt: number;
  /** The route's order count including this one (StoredCertificate.orders once issued). */
  readonly orders: number;
}

export interface AcmeState {
  readonly accounts: Readonly<Record<string, StoredAccount>>;
  readonly certificates: Readonly<Record<string, StoredCertificate>>;
  /** Orders in flight, by route; absent in states saved before ADR 0027 (none then). */
  readonly pending?: Readonly<Record<string, PendingOrder>>;
}

export const EMPTY_STATE: AcmeState = { accounts: {}, certificates: {} };
const ROLE = 'acme-state';
const SAVED_AT = 'io.swarmgate.acme-saved-at';

/** Public facts of a held certificate (never a key): what `tls list` shows. */
export interface AcmeCertificateFacts {
  readonly route: string;
  readonly issuer: string;
  readonly hosts: readonly string[];
  readonly notAfter: string;
  readonly renewAt: string;
  readonly orders: number;
}

/** The label on the state's config that carries the public facts of every held certificate (JSON). */
export const ACME_FACTS_LABEL = 'io.swarmgate.acme-certificates';

export interface AcmeStateStore {
  /** Whether the state survives a restart of the core. */
  readonly durable: boolean;
  load(): Promise<AcmeState>;
  /** Save the state (ciphertext) with the public facts of its certificates beside it (a label). */
  save(state: AcmeState, facts?: readonly AcmeCertificateFacts[]): Promise<void>;
}

/** The facts the newest saved state published, for the CLI (which cannot open the state). */
export async function readAcmeFacts(port: DockerPort): Promise<AcmeCertificateFacts[]> {
  const [newest] = (await port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=${ROLE}`])).sort((a, b) => Number(b.Spec.Labels?.[SAVED_AT] ?? 0) - Number(a.Spec.Labels?.[SAVED_AT] ?? 0));
  try {
    const facts = JSON.parse(newest?.Spec.Labels?.[ACME_FACTS_LABEL] ?? '[]') as unknown;
    return Array.isArray(facts) ? (facts as AcmeCertificateFacts[]) : [];
  } catch {
    return [];
  }
}

/** State in memory only (no storage key, or tests). */
export function memoryStore(): AcmeStateStore {
  let kept: AcmeState = EMPTY_STATE;
  return {
    durable: false,
    load: () => Promise.resolve(kept),
    save: (s) => {
      kept = s;
      return Promise.resolve();
    },
  };
}

/** The 32-byte key for the state, derived from a secret file's bytes; undefined when the file cannot be read. */
export function storageKeyFrom(path: string): Buffer | undefined {
  try {
    const ikm = readFileSync(path);
    return Buffer.from(hkdfSync('sha256', ikm, 'swarmgate-acme-state', 'aes-256-gcm v1', 32));
  } catch {
    return undefined;
  }
}

export function encryptState(state: AcmeState, key: Buffer): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([c.update(JSON.stringify(state), 'utf8'), c.final()]);
  return JSON.stringify({ v: 1, alg: 'aes-256-gcm', iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64'), data: data.toString('base64') });
}

/** The state, or undefined when the envelope is not ours or the key does not open it (a rotated key). */
export function decryptState(text: string, key: Buffer): AcmeState | undefined {
  try {
    const e = JSON.parse(text) as { v?: number; iv?: string; tag?: string; data?: string };
    if (e.v !== 1 || e.iv === undefined || e.tag === undefined || e.data === undefined) return undefined;
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(e.iv, 'base64'));
    d.setAuthTag(Buffer.from(e.tag, 'base64'));
    const plain = Buffer.concat([d.update(Buffer.from(e.data, 'base64')), d.final()]).toString('utf8');
    const s = JSON.parse(plain) as Partial<AcmeState>;
    return { accounts: s.accounts ?? {}, certificates: s.certificates ?? {}, ...(s.pending !== undefined && Object.keys(s.pending).length > 0 ? { pending: s.pending } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Ciphertext in Swarm configs, the newest save wins. `key`: the key saves use, first of a list of
 * keys a load tries (an older key still opens a state saved before the key changed).
 */
export function swarmConfigStore(port: DockerPort, key: Buffer | readonly Buffer[], onUnreadable: (why: string) => void = () => undefined): AcmeStateStore {
  const keys = Buffer.isBuffer(key) ? [key] : key;
  const saveKey = keys[0];
  if (saveKey === undefined) throw new Error('swarmConfigStore needs a key');
  const filter = [`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=${ROLE}`];
  return {
    durable: true,
    async load() {
      const configs = (await port.listConfigs(filter)).sort((a, b) => Number(b.Spec.Labels?.[SAVED_AT] ?? 0) - Number(a.Spec.Labels?.[SAVED_AT] ?? 0));
      for (const c of configs) {
        const full = await port.inspectConfig(c.ID);
        const text = Buffer.from(full.Spec.Data ?? '', 'base64').toString('utf8');
        for (const k of keys) {
          const state = decryptState(text, k);
          if (state !== undefined) return state;
        }
        onUnreadable(`ACME state ${c.Spec.Name} cannot be decrypted with this core's keys; it is ignored`);
      }
      return EMPTY_STATE;
    },
    async save(state, facts = []) {
      const text = encryptState(state, saveKey);
      const name = `sg-acme-state-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`;
      const before = await port.listConfigs(filter);
      await port.createConfig({ Name: name, Labels: { [LABELS.owner]: OWNER_VALUE, [LABELS.role]: ROLE, [SAVED_AT]: String(Date.now()), [ACME_FACTS_LABEL]: JSON.stringify(facts) }, Data: Buffer.from(text).toString('base64') });
      for (const c of before) if (c.Spec.Name !== name) await port.removeConfig(c.ID).catch(() => undefined);
    },
  };
}
