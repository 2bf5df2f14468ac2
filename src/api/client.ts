/**
 * Clients of the core's API (extension, proxy agent, CLI): one channel, and server streams that
 * resubscribe with capped exponential backoff. Because the server sends the full current state on
 * every subscription, a resubscribed stream is immediately up to date.
 */
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { CoreClient } from './generated/swarmgate/v1/Core';
import { coreProto } from './proto';
import { CORE_TLS_NAME } from './tls';

export function coreClient(address: string, credentials: grpc.ChannelCredentials): CoreClient {
  return new (coreProto().swarmgate.v1.Core)(address, credentials, {
    'grpc.keepalive_time_ms': 20_000,
    'grpc.keepalive_timeout_ms': 5_000,
    'grpc.keepalive_permit_without_calls': 1,
    // Reconnect quickly after a core restart: the default backoff grows to 120 s.
    'grpc.max_reconnect_backoff_ms': 5_000,
    'grpc.initial_reconnect_backoff_ms': 250,
    // Rendered configs reach ~1 MB per 1,000 routes; the 4 MB default would cut off at ~4,000.
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // With mTLS the core's certificate names swarmgate-core whatever address is dialled (a task IP,
    // a unix socket in tests); the CA is ours alone, so pinning the name is safe. Ignored in plaintext.
    'grpc.ssl_target_name_override': CORE_TLS_NAME,
  });
}

export interface StreamHandle {
  stop(): void;
}

export interface ResubscribeOptions {
  readonly log: Logger;
  readonly what: string;
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly onDisconnect?: (err: Error | undefined) => void;
}

/**
 * Keep a server stream open forever: on end or error wait (250 ms doubling to 5 s, reset once a
 * message arrives) and open it again. Messages are handled one at a time, latest wins: every
 * message carries the full state, so one that was overtaken while the previous was being handled
 * (an NGINX reload, a render) is skipped — a burst of changes costs one more reload, not one each.
 */
export function resubscribe<T>(open: () => grpc.ClientReadableStream<T>, onMessage: (m: T) => Promise<void> | void, opts: ResubscribeOptions): StreamHandle {
  const min = opts.minDelayMs ?? 250;
  const max = opts.maxDelayMs ?? 5_000;
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

  const connect = (): void => {
    if (stopped) return;
    const stream = open();
    current = stream;
    let ended = false;
    const retry = (err: Error | undefined): void => {
      if (ended) return;
      ended = true;
      if (stopped) return;
      opts.onDisconnect?.(err);
      opts.log.warn({ stream: opts.what, err: err?.message, retryInMs: delay }, 'stream to the core lost; resubscribing');
      timer = setTimeout(connect, delay);
      delay = Math.min(max, delay * 2);
    };
    stream.on('data', (m: T) => {
      delay = min;
      pending = { m };
      void drain();
    });
    stream.on('error', (e: Error) => retry(e));
    stream.on('end', () => retry(undefined));
  };
  connect();
  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      current?.cancel();
    },
  };
}
