/**
 * Escaping for haproxy.cfg (HAProxy 2.6 configuration manual §2.2).
 *
 * Every user value is printed inside double quotes ("weak quoting"). Inside them HAProxy still
 * interprets `\` escapes and expands `$VAR` environment variables, and `"` ends the word, so
 * `\`, `"` and `$` are backslash-escaped. `#` and `'` are literal inside double quotes; they are
 * escaped too, so a value stays inert even if a template ever printed it unquoted.
 *
 * Values that HAProxy parses a second time as a log-format string (set-header / add-header
 * values, redirect locations, replace-path / set-path replacements) must also have `%` doubled:
 * `%[...]`, `%{...}` and `%XX` are log-format directives. That is logFormatText's job; the view
 * model applies it to user text before mixing in the directives it generates itself.
 */
import { durationMs, type Duration } from '../../domain/brands';

export function haproxyEscape(value: unknown): string {
  const s = String(value);
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error('control character in a value rendered into haproxy.cfg');
  return s.replace(/[\\"$#']/g, (ch) => `\\${ch}`);
}

/** User text as a literal inside a log-format string: only `%` is special there. */
export function logFormatText(value: string): string {
  return value.replace(/%/g, '%%');
}

const UNIT_MS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/**
 * A Duration ("30s", "1h30m") in HAProxy's time syntax, which takes one number and one unit:
 * single-unit durations are kept as written, compound ones become the largest exact unit.
 */
export function haproxyDuration(d: Duration): string {
  if (/^\d+(ms|s|m|h|d)$/.test(d)) return d;
  const ms = durationMs(d);
  const unit = UNIT_MS.find(([, size]) => ms % size === 0);
  return unit === undefined ? `${ms}ms` : `${ms / unit[1]}${unit[0]}`;
}

/**
 * A passive-health failTimeout as the `fastinter`/`downinter` of a server. HAProxy has no zero
 * interval (`fastinter 0s` is an error); NGINX's `fail_timeout=0` skips a failed server for the
 * rest of the current second, so 0 becomes 1s here.
 */
export function haproxyFailTimeout(d: Duration): string {
  return durationMs(d) === 0 ? '1s' : haproxyDuration(d);
}
