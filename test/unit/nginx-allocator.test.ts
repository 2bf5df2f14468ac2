import { describe, expect, it } from 'vitest';
import { JEMALLOC_PATHS, NGINX_MALLOC_CONF, nginxAllocatorEnv } from '../../src/agent/nginx-allocator';

const only = (path: string) => (p: string): boolean => p === path;
const x86 = JEMALLOC_PATHS[0] ?? '';
const arm = JEMALLOC_PATHS[1] ?? '';

describe('nginxAllocatorEnv (ADR 0040)', () => {
  it('preloads the installed jemalloc with a purging background thread', () => {
    expect(nginxAllocatorEnv({}, only(x86))).toEqual({ LD_PRELOAD: x86, MALLOC_CONF: NGINX_MALLOC_CONF });
    expect(nginxAllocatorEnv({}, only(arm))).toEqual({ LD_PRELOAD: arm, MALLOC_CONF: NGINX_MALLOC_CONF });
    expect(NGINX_MALLOC_CONF).toContain('background_thread:true');
  });

  it('changes nothing where jemalloc is not installed', () => {
    expect(nginxAllocatorEnv({ LD_PRELOAD: '/x.so' }, () => false)).toEqual({});
  });

  it("keeps an operator's own preload (first) and MALLOC_CONF", () => {
    expect(nginxAllocatorEnv({ LD_PRELOAD: '/opt/mine.so', MALLOC_CONF: 'narenas:1' }, only(x86))).toEqual({ LD_PRELOAD: `/opt/mine.so ${x86}`, MALLOC_CONF: 'narenas:1' });
    expect(nginxAllocatorEnv({ LD_PRELOAD: '' }, only(x86))['LD_PRELOAD']).toBe(x86);
  });
});
