/**
 * Durations in NGINX's time syntax. NGINX reads each unit at most once and in decreasing order
 * (`1h30m`; `30m1h`, `1s1s` and `500ms1s` are errors), and the `fail_timeout` of a server in
 * whole seconds only (`500ms` is an error there). A Duration accepts any order and repeats, so
 * the renderer writes what NGINX reads: a duration already in NGINX's form as written (so specs
 * keep their spelling), any other in the canonical form.
 */
import { durationMs, type Duration } from '../../domain/brands';

const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

function unitRank(unit: string): number {
  return UNITS.findIndex(([u]) => u === unit);
}

/** Each unit at most once, largest first (NGINX's ngx_parse_time); `allowMs` false for second slots. */
function nginxReadable(d: string, allowMs: boolean): boolean {
  let last = -1;
  for (const m of d.matchAll(/\d+(ms|s|m|h|d)/g)) {
    const rank = unitRank(m[1] ?? '');
    if (rank <= last || (!allowMs && m[1] === 'ms')) return false;
    last = rank;
  }
  return true;
}

/** Milliseconds as NGINX writes them: every nonzero unit once, largest first ("0s" for zero). */
export function canonicalDuration(ms: number): string {
  let rest = ms;
  let out = '';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out === '' ? '0s' : out;
}

/**
 * Each distinct duration's NGINX form, computed once: a config repeats a few durations (every
 * location's timeouts) thousands of times. A pure function of the text, so a plain cache.
 */
const millisecondForms = new Map<string, string>();
const secondForms = new Map<string, string>();
const MAX_CACHED = 10_000;

function cached(cache: Map<string, string>, d: string, compute: () => string): string {
  let v = cache.get(d);
  if (v === undefined) {
    v = compute();
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(d, v);
  }
  return v;
}

/** A duration for a millisecond directive (proxy_*_timeout). */
export function nginxDuration(d: Duration): string {
  return cached(millisecondForms, d, () => (nginxReadable(d, true) ? d : canonicalDuration(durationMs(d))));
}

/**
 * A duration for a whole-second parameter (a server's fail_timeout): rounded up to whole seconds
 * (`500ms` → `1s`; NGINX counts failures per second anyway).
 */
export function nginxSeconds(d: Duration): string {
  return cached(secondForms, d, () => (nginxReadable(d, false) ? d : canonicalDuration(Math.ceil(durationMs(d) / 1000) * 1000)));
}
