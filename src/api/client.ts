/**
 * Clients of the core's API (extension, proxy agent, CLI): a connection to the core, and server
 * streams that resubscribe with capped exponential backoff. Because the server sends the full
 * current state on every subscription, a resubscribed stream is immediately up to date.
 *
 * Reconnecting after the core's task is replaced (a new task, a new address behind the same name)
 * needs more than grpc-js gives a long-lived channel: its DNS resolver caches the old task's
 * address for 30 s (`grpc.dns_min_time_between_resolutions_ms`), and its TCP connect has no
 * timeout, so a connect to an address nobody answers any more waits for the kernel (EHOSTUNREACH
 * after 39–73 s, ETIMEDOUT after ~134 s). So a `CoreConnection` bounds every connection attempt
 * (`waitForReady` with a deadline) and, whenever an attempt or a stream fails, closes the channel
 * and makes a new one: the next attempt resolves the core's name afresh and dials only what the
 * name resolves to now. Keepalive pings notice a peer that vanished without closing the
 * connection within KEEPALIVE_TIME_MS + KEEPALIVE_TIMEOUT_MS.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CoreClient } from './generated/swarmgate/v1/Core';
import { coreProto } from './proto';
import { CORE_TLS_NAME } from './tls';

/** grpc.status.PERMISSION_DENIED (this module imports only grpc-js' types). */
const PERMISSION_DENIED = 7;

/** A ping after this long without one; the core's server accepts pings at any rate (grpc-js enforces no ping policy). */
export const KEEPALIVE_TIME_MS = 3_000;
/** No answer to a ping within this long: the connection is dead (the stream fails, the client reconnects). */
export const KEEPALIVE_TIMEOUT_MS = 2_000;
/** One connection attempt (resolve, TCP, TLS, HTTP/2 settings) may take this long. */
export const CONNECT_TIMEOUT_MS = 1_000;
/** Resubscription backoff: 250 ms doubling to 1 s, so a core that listens again is reached within ~2 s. */
export const RECONNECT_MIN_DELAY_MS = 250;
export const RECONNECT_MAX_DELAY_MS = 1_000;

export function coreClient(address: string, credentials: grpc.ChannelCredentials): CoreClient {
  return new (coreProto().swarmgate.v1.Core)(address, credentials, {
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    // A channel only lives until its connection fails (CoreConnection renews it), but keep its own
    // reconnects quick and its re-resolution unthrottled too (defaults: backoff to 120 s, DNS every 30 s).
    'grpc.max_reconnect_backoff_ms': RECONNECT_MAX_DELAY_MS,
    'grpc.initial_reconnect_backoff_ms': RECONNECT_MIN_DELAY_MS,
    'grpc.dns_min_time_between_resolutions_ms': 500,
    // No TXT lookups for a service config we never publish (one DNS query less per attempt).
    'grpc.service_config_disable_resolution': 1,
    // Subchannels of a closed channel (one stuck connecting to the old task) are never reused.
    'grpc.use_local_subchannel_pool': 1,
    // Rendered configs reach ~1 MB per 1,000 routes; the 4 MB default would cut off at ~4,000.
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // With mTLS the core's certificate names swarmgate-core whatever address is dialled (a task IP,
    // a unix socket in tests); the CA is ours alone, so pinning the name is safe. Ignored in plaintext.
    'grpc.ssl_target_name_override': CORE_TLS_NAME,
  });
}

/**
 * Credentials that may change while the component runs (an identity handed over the stream, ADR
 * 0019): each new channel takes `current()`; `refused()` says the last attempt failed or was
 * refused, so the source may offer another pair next.
 */
export interface CredentialSource {
  current(): grpc.ChannelCredentials;
  refused(): void;
}

/**
 * The core as one renewable channel: `client` is the current one (use it for each call, do not
 * keep it), `ready()` waits a bounded time for it to connect, `renew()` replaces it.
 */
export class CoreConnection {
  private current: CoreClient;
  private closed = false;
  /** How many channels were made (tests, logs). */
  channels = 1;

  constructor(
    private readonly make: () => CoreClient,
    private readonly onRefused: () => void = () => undefined,
  ) {
    this.current = make();
  }

  /** The core refused this channel's credentials (PERMISSION_DENIED): the source may switch pairs; renew() follows. */
  refused(): void {
    this.onRefused();
  }

  /** The current channel's client; after a renew() calls go to the new one. */
  get client(): CoreClient {
    return this.current;
  }

  /** Wait up to timeoutMs for the channel to connect; on failure renew it (fresh resolution next time). */
  ready(timeoutMs = CONNECT_TIMEOUT_MS): Promise<Error | undefined> {
    const client = this.current;
    return new Promise((resolve) => {
      client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err !== undefined && client === this.current) {
          // A TLS handshake the other side refused looks the same as a core that is away: offer the other pair next.
          this.onRefused();
          this.renew();
        }
        resolve(err);
      });
    });
  }

  /** Close the channel (its calls fail, a connect attempt in flight is abandoned) and make a new one. */
  renew(): void {
    if (this.closed) return;
    const old = this.current;
    this.current = this.make();
    this.channels++;
    old.close();
  }

  close(): void {
    this.closed = true;
    this.current.close();
  }
}

/** A connection to the core at host:port (resolved on every attempt), or unix:///path. */
export function coreConnection(address: string, credentials: grpc.ChannelCredentials | CredentialSource): CoreConnection {
  if ('current' in credentials && 'refused' in credentials) {
    const source = credentials;
    return new CoreConnection(() => coreClient(address, source.current()), () => source.refused());
  }
  const fixed = credentials as grpc.ChannelCredentials;
  return new CoreConnection(() => coreClient(address, fixed));
}

export interface StreamHandle {
  stop(): void;
}

export interface ResubscribeOptions<T = unknown> {
  readonly log: Logger;
  readonly what: string;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /**
   * The connection `open` uses: each attempt first waits (at most connectTimeoutMs) for it to be
   * ready, and a failed attempt or a lost stream renews its channel. Without it `open` is simply
   * called again after the delay (a fixed channel: reconnects only as grpc-js does).
   */
  readonly connection?: CoreConnection;
  readonly connectTimeoutMs?: number;
  readonly onDisconnect?: (err: Error | undefined) => void;
  /** Called when a stream is open on a connected channel (without `connection`: at its first message). */
  readonly onConnect?: () => void;
  /**
   * A fresh decoder for each stream opened, given every message of that stream in order before
   * messages are coalesced (latest wins): for state that spans messages of one stream (ADR 0042's
   * file references). A decoder that throws ends the stream; the next one starts fresh.
   */
  readonly perStream?: () => (m: T) => T;
}

/**
 * Keep a server stream open forever: on end or error open it again, attempts starting 250 ms
 * doubling to 1 s apart (reset once a message arrives). Messages are handled one at a time, latest wins: every
 * message carries the full state, so one that was overtaken while the previous was being handled
 * (an NGINX reload, a render) is skipped — a burst of changes costs one more reload, not one each.
 */
export function resubscribe<T>(open: () => grpc.ClientReadableStream<T>, onMessage: (m: T) => Promise<void> | void, opts: ResubscribeOptions<T>): StreamHandle {
  const min = opts.minDelayMs ?? RECONNECT_MIN_DELAY_MS;
  const max = opts.maxDelayMs ?? RECONNECT_MAX_DELAY_MS;
  const connection = opts.connection;
  let delay = min;
  let stopped = false;
  let current: grpc.ClientReadableStream<T> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let pending: { readonly m: T } | undefined;
  let busy = false;
  const drain = async (): Promise<void> => {
    if (busy) return;
    busy = true;
    while (pending !== undefined) {
      const { m } = pending;
      pending = undefined;
      try {
        await onMessage(m);
      } catch (e) {
        opts.log.error({ stream: opts.what, err: e instanceof Error ? e.message : String(e) }, 'handling a message failed');
      }
    }
    busy = false;
  };

  let failures = 0;
  let startedAt = 0;
  /**
   * The next attempt starts `delay` after the previous one started (up to 20 % sooner, so agents
   * cut off together do not all dial the new core at the same moment): an attempt that waited out
   * its connect timeout is followed at once, and a core that listens again is reached within about
   * one delay plus one connect.
   */
  const later = (err: Error | undefined, lost: boolean): void => {
    if (stopped) return;
    failures++;
    if (lost) opts.onDisconnect?.(err);
    const wait = Math.max(0, startedAt + Math.round(delay * (1 - Math.random() * 0.2)) - Date.now());
    // A lost stream is worth a warning; repeated failed attempts while the core is away are not (one per 30).
    const level = lost ? 'warn' : failures % 30 === 1 ? 'info' : 'debug';
    opts.log[level]({ stream: opts.what, err: err?.message, retryInMs: wait, attempts: failures }, lost ? 'stream to the core lost; reconnecting' : 'core not reachable yet; retrying');
    timer = setTimeout(() => void connect(), wait);
    delay = Math.min(max, delay * 2);
  };

  const connect = async (): Promise<void> => {
    if (stopped) return;
    startedAt = Date.now();
    if (connection !== undefined) {
      const err = await connection.ready(opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS);
      if (stopped) return;
      if (err !== undefined) {
        later(new Error(`not connected within ${opts.connectTimeoutMs ?? CONNECT_TIMEOUT_MS} ms: ${err.message}`), false);
        return;
      }
    }
    let stream: grpc.ClientReadableStream<T>;
    try {
      stream = open();
    } catch (e) {
      // The channel was closed under us (a renew or close raced this attempt): try again on the next one.
      if (stopped) return;
      connection?.renew();
      later(e instanceof Error ? e : new Error(String(e)), false);
      return;
    }
    current = stream;
    const decode = opts.perStream?.();
    let ended = false;
    let heard = false;
    if (connection !== undefined) {
      heard = true;
      opts.onConnect?.();
    }
    const retry = (err: Error | undefined): void => {
      if (ended) return;
      ended = true;
      if (stopped) return;
      // Refused credentials (a revoked or no longer held pair): the next attempt may use another pair.
      if ((err as Partial<grpc.ServiceError> | undefined)?.code === PERMISSION_DENIED) connection?.refused();
      // Whatever failed, the next attempt starts on a new channel: a fresh resolution of the core's name.
      connection?.renew();
      later(err, true);
    };
    let undecodable = false;
    stream.on('data', (raw: T) => {
      if (undecodable) return;
      let m = raw;
      if (decode !== undefined) {
        try {
          m = decode(raw);
        } catch (e) {
          // Nothing of this stream can be used from here on (later messages may refer to this one).
          undecodable = true;
          opts.log.error({ stream: opts.what, err: e instanceof Error ? e.message : String(e) }, 'could not decode a message; reopening the stream');
          stream.cancel();
          return;
        }
      }
      delay = min;
      failures = 0;
      if (!heard) {
        heard = true;
        opts.onConnect?.();
      }
      pending = { m };
      void drain();
    });
    stream.on('error', (e: Error) => retry(e));
    stream.on('end', () => retry(undefined));
  };
  void connect();
  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      current?.cancel();
    },
  };
}
