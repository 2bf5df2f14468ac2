import { describe, expect, it } from 'vitest';
import { createTlsSet } from '../../src/apply/tls-secrets';
import { FakeDocker } from '../fakes/fake-docker';

const material = { ca: 'ca', caKey: 'ca-key', serverCert: 'cert', serverKey: 'key' };

describe('TLS set ids', () => {
  it('stay distinct for sets created in the same millisecond (two installs racing)', async () => {
    const docker = FakeDocker.singleNode();
    const now = new Date('2026-12-07T10:00:00.000Z');
    // With 3 random digits (46,656 values) 3,000 sets in one millisecond collide with a probability of
    // about 1 - e^(-3000²/2/46656) ≈ 1: the fake refuses the second secret of a name, so this fails.
    const ids = new Set<string>();
    for (let i = 0; i < 3_000; i++) ids.add((await createTlsSet(docker, material, now)).id);
    expect(ids.size).toBe(3_000);
  });

  it('sort by creation time', async () => {
    const docker = FakeDocker.singleNode();
    const earlier = await createTlsSet(docker, material, new Date('2026-12-07T10:00:00.000Z'));
    const later = await createTlsSet(docker, material, new Date('2026-12-07T10:00:00.001Z'));
    expect(earlier.id < later.id).toBe(true);
  });
});
