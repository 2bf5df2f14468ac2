/**
 * Imported first by the CLI entry point. For the long-running `core` process, V8 flags that trade a
 * little speed for memory: the core holds a small live set (≈ 25–35 MB at 1,000 routes) but churns
 * through whole rendered configs, and V8's default heap growth lets RSS settle at several times the
 * live set. Node refuses these flags in NODE_OPTIONS, so they are set here, before the modules load
 * (bench/core-memory.ts: about −15 MiB at 1,000 routes). Short CLI commands are left alone.
 */
import { setFlagsFromString } from 'node:v8';

export const CORE_V8_FLAGS = ['--optimize-for-size', '--heap-growing-percent=20'] as const;

if (process.argv[2] === 'core' && process.env['SWARMGATE_DEFAULT_V8'] !== '1') {
  for (const flag of CORE_V8_FLAGS) setFlagsFromString(flag);
}
