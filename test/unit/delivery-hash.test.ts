/**
 * ADR 0042: the edges hash deliveries with node:crypto, the plan with the pure SHA-256; both must give
 * the digest agents and cores of every version report (else an upgrade would leave Programmed false
 * or make agents refuse every delivery). And the plan's remembered hashes of large texts must be the
 * hashes of exactly those texts.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configFilesHash as nativeFilesHash, deliveryHash as nativeDeliveryHash } from '../../src/api/delivery-hash';
import { configFilesHash, deliveryHash } from '../../src/plan/config-files-hash';
import { sha256Hex } from '../../src/domain/sha256';

const file = fc.record({ path: fc.stringMatching(/^[a-z][a-z0-9._/-]{0,20}$/), content: fc.uint8Array({ maxLength: 300 }) });

/** The definition written out: sorted by path, each as path NUL length NUL content. */
function byDefinition(files: readonly { path: string; content: Uint8Array }[]): string {
  const h = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) h.update(`${f.path}\0${f.content.length}\0`).update(f.content);
  return h.digest('hex');
}

describe('delivery hash', () => {
  it('is the same digest with node:crypto and with the pure SHA-256, and follows the definition', () => {
    fc.assert(
      fc.property(fc.array(file, { maxLength: 5 }), fc.array(file, { maxLength: 3 }), (files, certificates) => {
        const native = nativeDeliveryHash(files, certificates);
        expect(native).toBe(deliveryHash(files, certificates));
        expect(nativeFilesHash(files)).toBe(configFilesHash(files));
        expect(nativeFilesHash(files)).toBe(byDefinition(files));
        if (certificates.length === 0) expect(native).toBe(byDefinition(files));
      }),
      { numRuns: 200 },
    );
  });

  it('hashes a multi-megabyte file like the definition', () => {
    const big = Buffer.alloc(3 * 2 ** 20, 'upstream u_1 { server 10.0.0.1:80; }\n');
    const files = [{ path: 'nginx.conf', content: big }, { path: 'endpoints.txt', content: Buffer.from('u_1 1 10 - 10.0.0.1:80\n') }];
    expect(nativeDeliveryHash(files, [])).toBe(byDefinition(files));
  });
});

describe('sha256Hex of large texts (remembered)', () => {
  it('is the SHA-256 of the text given, also for texts of equal length and after many others', () => {
    const base = 'x'.repeat(100_000);
    const digest = (t: string): string => createHash('sha256').update(t, 'utf8').digest('hex');
    const variants = Array.from({ length: 10 }, (_, i) => `${base}${i}`);
    for (let round = 0; round < 2; round++) {
      for (const v of variants) expect(sha256Hex(v)).toBe(digest(v));
      // An equal text built anew (another string object) hits the same entry.
      expect(sha256Hex(`${base}${3}`)).toBe(digest(`${base}3`));
    }
    expect(sha256Hex(`${base}é`)).toBe(digest(`${base}é`));
  });
});
