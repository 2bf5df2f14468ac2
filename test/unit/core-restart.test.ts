/**
 * The core's service restarts a task at once (500 ms) instead of after Swarm's default 5 s, also
 * when its node went down: while the core is away no change reaches the proxies.
 */
import { describe, expect, it } from 'vitest';
import { TLS_FILES, type TlsFile } from '../../src/api/tls';
import type { TlsSet } from '../../src/apply/tls-secrets';
import { CORE_RESTART_POLICY, coreServiceSpec } from '../../src/cli/commands/install';

const tls = { id: 's1', ...Object.fromEntries((Object.keys(TLS_FILES) as TlsFile[]).map((f) => [f, { id: `id-${f}`, name: `sg-tls-s1-${f}` }])) } as TlsSet;

describe('core service restart policy', () => {
  it('restarts the core on any exit after 500 ms, without giving up', () => {
    const spec = coreServiceSpec('swarmgate/swarmgate:1', { image: 'swarmgate/swarmgate:1', localImages: false, logLevel: 'info' }, 'net1', tls);
    expect(spec.TaskTemplate.RestartPolicy).toEqual({ Condition: 'any', Delay: 500_000_000, MaxAttempts: 0 });
    expect(spec.TaskTemplate.RestartPolicy).toBe(CORE_RESTART_POLICY);
  });
});
