/**
 * The node's last applied config of a cluster that serves ACME routes (ADR 0033): the agent records
 * the delivery's hash, which also covers the ACME certificates it does not keep on the node. The
 * record must still load (it was refused as damaged, so such a task booted on the older mounted
 * config), and under the hash of its files alone, so the core's delivery of the same config with
 * its current certificates is applied over the restored copies instead of being taken as applied.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadLastApplied, saveLastApplied } from '../../src/agent/last-applied';
import { configFilesHash } from '../../src/api/control-plane';
import { deliveryHash } from '../../src/plan/config-files-hash';

describe('the last applied config of a cluster with ACME certificates', () => {
  const files = [{ path: 'haproxy.cfg', content: Buffer.from('global\n#   crt "/c/acme/acme-shop.crt+acme-shop.key.pem" shop.test\n') }];
  const certificates = [{ path: 'acme-shop.crt', content: Buffer.from('chain') }];

  it('loads under the hash of its files, not the delivery hash it was saved with', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-last-applied-'));
    const delivered = deliveryHash(files, certificates);
    expect(delivered).not.toBe(configFilesHash(files));
    saveLastApplied(dir, 'haproxy', 'boot-1', { hash: delivered, appliedAt: 5, files });
    const last = loadLastApplied(dir, 'haproxy', 'boot-1');
    expect(last?.hash).toBe(configFilesHash(files));
    expect(last?.files.map((f) => f.content.toString())).toEqual([files[0]?.content.toString()]);
    // Another boot config mounted since: not taken.
    expect(loadLastApplied(dir, 'haproxy', 'boot-2')).toBeUndefined();
  });
});
