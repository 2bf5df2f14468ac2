/**
 * Stored proxy configs (ADR 0029): whatever the text and whatever Swarm's limit, encoding gives parts
 * that each fit under the limit, and decoding them gives the text back byte for byte; a config that
 * fits stays plain (what NGINX's rolling tasks mount as nginx.conf); a missing, surplus, reordered
 * or damaged part is refused (a changed byte of the gzip trailer alone may still give the exact text,
 * which the header's SHA-256 proves), never decoded into another text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeStoredConfig, encodeStoredConfig, partConfigName, partFilePath, partOfFile, storedHeader } from '../../src/plan/stored-config';
import { proxyConfigName } from '../../src/plan/writes/proxy-writes';

/** Text that compresses well (config-like, repeated lines) or not at all (arbitrary code points, random bytes as latin-1). */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 6_000 }),
  fc.uint8Array({ maxLength: 6_000 }).map((b) => Buffer.from(b).toString('latin1')),
  fc.array(fc.constantFrom('server { listen 80; }\n', 'location / { proxy_pass http://u; }\n', '# route\n', 'ü€\n'), { maxLength: 400 }).map((l) => l.join('')),
);
const limit = fc.integer({ min: 150, max: 5_000 });

function attempt(f: () => string): string | Error {
  try {
    return f();
  } catch (e) {
    return e instanceof Error ? e : new Error(String(e));
  }
}

/** n pseudo-random bytes (mulberry32). */
function randomBytes(seed: number, n: number): Uint8Array {
  let a = seed >>> 0;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}

describe('stored proxy configs', () => {
  it('round-trips any text under any limit, every part under the limit, plain exactly when it fits', () => {
    fc.assert(
      fc.property(text, limit, (t, l) => {
        const stored = encodeStoredConfig(t, l);
        for (const p of stored.parts) expect(p.length).toBeLessThan(l);
        expect(stored.encoding).toBe(Buffer.byteLength(t) < l ? 'plain' : 'gzip');
        if (stored.encoding === 'plain') expect(Buffer.from(stored.parts[0] ?? []).toString('utf8')).toBe(t);
        else expect(storedHeader(stored.parts[0] ?? new Uint8Array())?.parts).toBe(stored.parts.length);
        expect(decodeStoredConfig(stored.parts)).toBe(t);
      }),
      { numRuns: 300 },
    );
  });

  it('is deterministic (same text and limit, same bytes): diff plans what the core writes', () => {
    fc.assert(
      fc.property(text, limit, (t, l) => {
        const a = encodeStoredConfig(t, l).parts.map((p) => Buffer.from(p).toString('hex'));
        const b = encodeStoredConfig(t, l).parts.map((p) => Buffer.from(p).toString('hex'));
        expect(a).toEqual(b);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a part missing, surplus, out of order or with a byte changed', () => {
    // From a seed, so that shrinking cannot turn it into compressible zeros.
    const incompressible = fc.tuple(fc.integer(), fc.integer({ min: 3_000, max: 8_000 })).map(([seed, n]) => Buffer.from(randomBytes(seed, n)).toString('base64'));
    fc.assert(
      fc.property(incompressible, fc.integer({ min: 300, max: 1_500 }), fc.nat(), fc.nat(), (t, l, which, at) => {
        const parts = encodeStoredConfig(t, l).parts.map((p) => Uint8Array.from(p));
        expect(parts.length).toBeGreaterThan(1);
        const k = which % parts.length;
        // Without the first part there is no header: what is left reads as plain text (throws, or is not the text).
        if (k > 0) expect(() => decodeStoredConfig(parts.filter((_, i) => i !== k))).toThrow();
        else expect(attempt(() => decodeStoredConfig(parts.slice(1)))).not.toBe(t);
        expect(() => decodeStoredConfig([...parts, parts[parts.length - 1] ?? new Uint8Array()])).toThrow();
        if (parts.length > 2) expect(() => decodeStoredConfig([parts[0] ?? new Uint8Array(), ...parts.slice(1).reverse()])).toThrow();
        const damaged = parts.map((p) => Uint8Array.from(p));
        const target = damaged[k] ?? new Uint8Array();
        // Past the header line of the first part: the header itself is checked by its own pattern.
        const from = k === 0 ? target.indexOf(0x0a) + 1 : 0;
        const i = from + (at % (target.length - from));
        target[i] = (target[i] ?? 0) ^ 0x5a;
        // Refused, or (a byte of the gzip trailer, which the SHA-256 makes redundant) exactly the text: never another text.
        const got = attempt(() => decodeStoredConfig(damaged));
        if (!(got instanceof Error)) expect(got).toBe(t);
      }),
      { numRuns: 40 },
    );
  });

  it('a 10,000-route-sized config shrinks to one part under Swarm\'s limit', () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `server {\n  listen 80;\n  server_name app-${i}.example.com;\n  location / { proxy_pass http://u_${(i * 2654435761) % 4294967296}; }\n}\n`).join('');
    expect(Buffer.byteLength(lines)).toBeGreaterThan(1_024_000);
    const stored = encodeStoredConfig(lines);
    expect(stored.encoding).toBe('gzip');
    expect(stored.parts).toHaveLength(1);
    expect(decodeStoredConfig(stored.parts)).toBe(lines);
  });

  it('names parts so that no part is named like a config and each part names one config', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
    const cluster = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?$/);
    fc.assert(
      fc.property(cluster, hex, cluster, hex, fc.integer({ min: 2, max: 9_999 }), fc.integer({ min: 2, max: 9_999 }), (c1, h1, c2, h2, k1, k2) => {
        const main1 = proxyConfigName(c1, h1);
        const main2 = proxyConfigName(c2, h2);
        expect(partConfigName(main1, k1)).not.toBe(main2);
        if (main1 !== main2 || k1 !== k2) expect(partConfigName(main1, k1)).not.toBe(partConfigName(main2, k2));
      }),
    );
    expect(partFilePath('/etc/swarmgate/boot/nginx.conf', 2, 3)).toBe('/etc/swarmgate/boot/nginx.conf.part2of3');
    expect(partOfFile('nginx.conf', 'nginx.conf.part2of3')).toEqual({ k: 2, n: 3 });
    expect(partOfFile('nginx.conf', 'nginx.conf')).toBeUndefined();
  });
});
