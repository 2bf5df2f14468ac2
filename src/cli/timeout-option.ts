/** The `--timeout DURATION` option every waiting command takes (wait, canary promote/abort/retry). */
import { durationMs } from '../domain/brands';

/** Milliseconds, or the usage error to print when the text is not a duration like 30s or 2m. */
export function parseTimeout(text: string): { readonly ms: number } | { readonly error: string } {
  return /^\d+(ms|s|m|h)$/.test(text) ? { ms: durationMs(text) } : { error: `--timeout: expected a duration like 30s or 2m, got "${text}"` };
}
