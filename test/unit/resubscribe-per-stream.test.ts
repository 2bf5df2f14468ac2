/**
 * ADR 0042: the agent resolves file references per stream, before messages are coalesced. A message
 * whose reference cannot be resolved must never reach the handler; the stream is ended and the next
 * one starts with a fresh decoder (a new stream's first message is whole).
 */
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { resubscribe } from '../../src/api/client';
import { ReceivedFiles } from '../../src/api/unchanged-files';
import { pollUntil } from '../helpers/poll';

interface Message {
  readonly id: string;
  readonly files: readonly { readonly path: string; readonly content: Buffer; readonly unchanged?: boolean }[];
}

/** A server stream as grpc-js hands it to resubscribe: data events, and cancel() ending it with an error. */
class FakeStream extends EventEmitter {
  cancelled = false;
  cancel(): void {
    this.cancelled = true;
    setImmediate(() => this.emit('error', new Error('Cancelled on client')));
  }
}

describe('resubscribe with a per-stream decoder', () => {
  it('drops a message it cannot decode, reopens the stream, and decodes the new one from scratch', async () => {
    const streams: FakeStream[] = [];
    const handled: Message[] = [];
    const decoders: ReceivedFiles[] = [];
    const handle = resubscribe<Message>(
      () => {
        const s = new FakeStream();
        streams.push(s);
        return s as unknown as grpc.ClientReadableStream<Message>;
      },
      (m) => void handled.push(m),
      {
        log: pino({ level: 'silent' }),
        what: 'test',
        minDelayMs: 1,
        maxDelayMs: 5,
        perStream: () => {
          const r = new ReceivedFiles();
          decoders.push(r);
          return (m) => ({ ...m, files: r.resolve(m.files) });
        },
      },
    );
    try {
      const first = await pollUntil('first stream', () => streams[0]);
      first.emit('data', { id: 'a', files: [{ path: 'nginx.conf', content: Buffer.from('conf') }] });
      await pollUntil('a handled', () => handled.find((m) => m.id === 'a'));
      first.emit('data', { id: 'b', files: [{ path: 'nginx.conf', content: Buffer.alloc(0), unchanged: true }] });
      await pollUntil('b handled', () => handled.find((m) => m.id === 'b'));
      expect(handled.find((m) => m.id === 'b')?.files[0]?.content.toString()).toBe('conf');
      // A reference to a file this stream never carried: not handled, the stream is ended.
      first.emit('data', { id: 'c', files: [{ path: 'extra.conf', content: Buffer.alloc(0), unchanged: true }] });
      await pollUntil('stream cancelled', () => (first.cancelled ? true : undefined));
      const second = await pollUntil('second stream', () => streams[1]);
      // The new stream's decoder remembers nothing: a reference there would be refused too, a whole file is taken.
      second.emit('data', { id: 'd', files: [{ path: 'nginx.conf', content: Buffer.from('conf 2') }] });
      await pollUntil('d handled', () => handled.find((m) => m.id === 'd'));
      expect(handled.map((m) => m.id)).toEqual(['a', 'b', 'd']);
      expect(decoders).toHaveLength(2);
    } finally {
      handle.stop();
    }
  });
});
