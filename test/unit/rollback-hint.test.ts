/**
 * `status` shows a rolled-back cluster's revision next to PROGRAMMED in the one form of ADR 0025,
 * `rev N (hash12)`, whether the core's note already says so or is an older core's "revision N".
 */
import { describe, expect, it } from 'vitest';
import { rollbackHint } from '../../src/cli/commands/status';
import { LABELS } from '../../src/domain/labels';
import type { ConfigInfo } from '../../src/observed/docker-port';

function proxyConfig(cluster: string, revision: number, hash12: string): ConfigInfo {
  return {
    ID: `id-${cluster}-${revision}`,
    Version: { Index: 1 },
    Spec: { Name: `sg-nginx-${cluster}-${hash12}`, Labels: { [LABELS.cluster]: cluster, [LABELS.role]: 'proxy-config', [LABELS.revision]: String(revision) } },
  };
}

const CONFIGS = [proxyConfig('edge', 1, '3f2a9c1b04de'), proxyConfig('edge', 2, '0123456789ab'), proxyConfig('other', 1, 'ffffffffffff')];

describe('rollbackHint', () => {
  it('repeats the identifier of the core\'s note', () => {
    expect(rollbackHint('rolled back to rev 1 (3f2a9c1b04de) until the next apply', 'edge', [])).toBe(' (rolled back to rev 1 (3f2a9c1b04de))');
  });

  it('names an older core\'s "revision N" by its identifier, from the cluster\'s own configs', () => {
    expect(rollbackHint('rolled back to revision 1 until the next apply', 'edge', CONFIGS)).toBe(' (rolled back to rev 1 (3f2a9c1b04de))');
    expect(rollbackHint('rolled back to revision 1 until the next apply', 'other', CONFIGS)).toBe(' (rolled back to rev 1 (ffffffffffff))');
  });

  it('says the hash is unknown when that revision\'s config is gone, and nothing when not rolled back', () => {
    expect(rollbackHint('rolled back to revision 7 until the next apply', 'edge', CONFIGS)).toBe(' (rolled back to rev 7 (?))');
    expect(rollbackHint('served by 2 proxy replicas of cluster "edge"', 'edge', CONFIGS)).toBe('');
  });
});
