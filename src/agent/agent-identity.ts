/**
 * The credentials a component dials the core with (ADR 0019). A task starts with the pair Swarm
 * mounted (/run/secrets); after `rotate-certs` the core hands the agent its current pair and CA over
 * its stream, and the agent reconnects with them while NGINX/HAProxy keep running: changing the
 * mounted secrets would need a service update, which replaces the task.
 *
 * A handed pair is kept in memory and in a file on the task's tmpfs (/dev/shm: never on disk, gone
 * with the task), so an agent restarted by its supervisor (ADR 0018) comes back with it. Either pair
 * may be refused later (the handed one by a core that restarted and no longer holds it, the mounted
 * one once its set is no longer trusted): after a refused or failed connection attempt the next one
 * uses the other pair, so the agent always finds the one the core accepts, and is handed a new one.
 */
import type * as grpc from '@grpc/grpc-js';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { pairCredentials } from '../api/tls';
import type { CredentialSource } from '../api/client';

export interface HandedPair {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: Buffer;
}

/** Where an agent keeps a handed pair: the task's /dev/shm (a tmpfs in every container). */
export const HANDED_IDENTITY_PATH = '/dev/shm/swarmgate/identity.json';

interface Held {
  readonly creds: grpc.ChannelCredentials;
  readonly fingerprint: string;
}

/** The certificate's fingerprint when cert, key and CA parse and the key is the certificate's; else undefined. */
function checkedFingerprint(p: HandedPair): string | undefined {
  try {
    const cert = new X509Certificate(p.cert);
    if (!cert.checkPrivateKey(createPrivateKey(p.key))) return undefined;
    new X509Certificate(p.ca);
    return cert.fingerprint256;
  } catch {
    return undefined;
  }
}

export class AgentCredentials implements CredentialSource {
  private handed: Held | undefined;
  private useHanded = false;

  /**
   * `mounted`: the pair Swarm mounted (its fingerprint, to recognise it when handed again);
   * `path`: where a handed pair is kept (undefined: memory only).
   */
  constructor(
    private readonly mounted: { readonly creds: grpc.ChannelCredentials; readonly fingerprint: string },
    private readonly path: string | undefined,
    private readonly log: Logger,
  ) {
    const kept = path !== undefined ? readKept(path) : undefined;
    if (kept !== undefined) {
      const fingerprint = checkedFingerprint(kept);
      if (fingerprint !== undefined) {
        this.handed = { creds: pairCredentials(kept.ca, kept.cert, kept.key), fingerprint };
        this.useHanded = true;
      }
    }
  }

  /** Whether the next connection uses a handed pair (tests, logs). */
  get usingHanded(): boolean {
    return this.useHanded && this.handed !== undefined;
  }

  current(): grpc.ChannelCredentials {
    return this.useHanded && this.handed !== undefined ? this.handed.creds : this.mounted.creds;
  }

  /** A connection attempt failed or was refused: try the other pair next time (when there is one). */
  refused(): void {
    if (this.handed !== undefined) this.useHanded = !this.useHanded;
  }

  /**
   * Take a pair the core handed over the stream. True when it is new (the caller reconnects with
   * it); false when it is the one in use already or does not parse.
   */
  adopt(p: HandedPair): boolean {
    const fingerprint = checkedFingerprint(p);
    if (fingerprint === undefined) {
      this.log.warn('the core handed an identity that does not parse; keeping the current one');
      return false;
    }
    if (fingerprint === (this.usingHanded ? this.handed?.fingerprint : this.mounted.fingerprint)) return false;
    this.handed = { creds: pairCredentials(p.ca, p.cert, p.key), fingerprint };
    this.useHanded = true;
    if (this.path !== undefined) {
      try {
        keep(this.path, p);
      } catch (e) {
        this.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'could not keep the handed identity on the task tmpfs (kept in memory)');
      }
    }
    this.log.info({ fingerprint: fingerprint.slice(0, 23) }, 'the core handed a new identity; reconnecting with it (the proxy keeps running)');
    return true;
  }
}

function readKept(path: string): HandedPair | undefined {
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as { cert?: unknown; key?: unknown; ca?: unknown };
    if (typeof j.cert !== 'string' || typeof j.key !== 'string' || typeof j.ca !== 'string') return undefined;
    return { cert: Buffer.from(j.cert), key: Buffer.from(j.key), ca: Buffer.from(j.ca) };
  } catch {
    return undefined;
  }
}

function keep(path: string, p: HandedPair): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.next`;
  try {
    writeFileSync(tmp, JSON.stringify({ cert: p.cert.toString(), key: p.key.toString(), ca: p.ca.toString() }), { mode: 0o600 });
    renameSync(tmp, path);
  } finally {
    rmSync(tmp, { force: true });
  }
}
