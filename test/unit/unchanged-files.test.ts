/**
 * ADR 0042: on a WatchProxyConfig stream the core sends a file equal to the same path's file of the
 * previous message as a reference, and the agent puts the content back. Over any sequence of file
 * sets the agent must end with exactly what the core sent, and a stream must start whole.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReceivedFiles, SentFiles } from '../../src/api/unchanged-files';

const paths = ['nginx.conf', 'endpoints.txt', 'extra.conf'];
const fileSet = fc.uniqueArray(fc.record({ path: fc.constantFrom(...paths), content: fc.constantFrom('a', 'b', '', 'a long line\n').map((t) => Buffer.from(t)) }), { selector: (f) => f.path, maxLength: 3 });

describe('files by reference on one stream', () => {
  it('the agent resolves every message to exactly the files the core sent', () => {
    fc.assert(
      fc.property(fc.array(fileSet, { minLength: 1, maxLength: 8 }), (sets) => {
        const sent = new SentFiles();
        const received = new ReceivedFiles();
        for (const files of sets) {
          const wire = sent.encode(files);
          for (const f of wire) if (f.unchanged) expect(f.content.length).toBe(0);
          expect(received.resolve(wire).map((f) => ({ path: f.path, content: f.content.toString() }))).toEqual(files.map((f) => ({ path: f.path, content: f.content.toString() })));
        }
      }),
      { numRuns: 300 },
    );
  });

  it('sends an unchanged file as a reference and a changed one whole; a new stream starts whole', () => {
    const sent = new SentFiles();
    const conf = Buffer.from('http { }\n');
    sent.encode([{ path: 'nginx.conf', content: conf }, { path: 'endpoints.txt', content: Buffer.from('u 1 10 - 10.0.0.1:80\n') }]);
    const second = sent.encode([{ path: 'nginx.conf', content: Buffer.from('http { }\n') }, { path: 'endpoints.txt', content: Buffer.from('u 1 10 - 10.0.0.2:80\n') }]);
    expect(second.map((f) => [f.path, f.unchanged, f.content.toString()])).toEqual([
      ['nginx.conf', true, ''],
      ['endpoints.txt', false, 'u 1 10 - 10.0.0.2:80\n'],
    ]);
    expect(new SentFiles().encode([{ path: 'nginx.conf', content: conf }]).map((f) => f.unchanged)).toEqual([false]);
  });

  it('refuses a reference to a file the stream has not carried', () => {
    const received = new ReceivedFiles();
    expect(() => received.resolve([{ path: 'nginx.conf', content: Buffer.alloc(0), unchanged: true }])).toThrow(/has not carried it/);
    received.resolve([{ path: 'endpoints.txt', content: Buffer.from('x') }]);
    expect(() => received.resolve([{ path: 'nginx.conf', content: Buffer.alloc(0), unchanged: true }])).toThrow(/nginx\.conf/);
  });
});
