/**
 * The `com.docker.lb.*` label vocabulary swarmgate understands, and how one label's text is read
 * (Interlock's own rules: Go's ParseBool, comma-separated lists). Every issue names its label.
 */
import * as E from 'fp-ts/Either';
import { decode, expected, type Codec } from '../../../domain/codec';
import { describeValue, type Issue, type PathSegment } from '../../../domain/issue';

export const LB_PREFIX = 'com.docker.lb.';

/** Every Interlock service label swarmgate understands (translated, or refused as UnsupportedValue). */
export const INTERLOCK_LABELS = [
  'hosts',
  'port',
  'network',
  'context_root',
  'context_root_rewrite',
  'ssl_cert',
  'ssl_key',
  'ssl_only',
  'ssl_passthrough',
  'ssl_backend',
  'ssl_backend_tls_verify',
  'websocket_endpoints',
  'service_cluster',
  'sticky_session_cookie',
  'ip_hash',
  'redirects',
  'backend_mode',
  'default_backend',
  'max_fails',
  'fail_timeout',
] as const;
export type InterlockLabel = (typeof INTERLOCK_LABELS)[number];

/** Interlock's com.docker.lb.backend_mode values: swarmgate's `host` mode has no Interlock label form. */
export const INTERLOCK_BACKEND_MODES = ['task', 'vip'] as const;

/** Labels that describe the backend only: services that differ only in these are pooled on their shared hosts. */
export const BACKEND_LABELS: readonly InterlockLabel[] = ['port', 'network', 'backend_mode', 'max_fails', 'fail_timeout'];

export interface LabelIssue extends Issue {
  readonly unsupported: boolean;
}

export const labelKey = (name: InterlockLabel): string => `${LB_PREFIX}${name}`;
export const at = (name: InterlockLabel, ...rest: PathSegment[]): PathSegment[] => ['labels', labelKey(name), ...rest];

/** Go's strconv.ParseBool, which Interlock uses. */
export const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
export const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** Comma-separated items, blanks around them ignored; empty items (a trailing comma) are skipped. */
export function items(value: string, sep: string): string[] {
  return value
    .split(sep)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export class LabelReader {
  readonly issues: LabelIssue[] = [];

  constructor(private readonly labels: Readonly<Record<string, string>>) {}

  raw(name: InterlockLabel): string | undefined {
    return this.labels[labelKey(name)];
  }

  has(name: InterlockLabel): boolean {
    return this.raw(name) !== undefined;
  }

  invalid(path: PathSegment[], message: string): void {
    this.issues.push({ path, message, unsupported: false });
  }

  unsupported(path: PathSegment[], message: string): void {
    this.issues.push({ path, message, unsupported: true });
  }

  /** A value checked by a brand codec; its message already says what was expected and found. */
  branded<A>(codec: Codec<A>, value: string, path: PathSegment[]): A | undefined {
    const r = decode(codec, value, path);
    if (E.isRight(r)) return r.right;
    for (const i of r.left) this.invalid([...i.path], i.message);
    return undefined;
  }

  text<A>(name: InterlockLabel, codec: Codec<A>): A | undefined {
    const v = this.raw(name);
    return v === undefined ? undefined : this.branded(codec, v, at(name));
  }

  bool(name: InterlockLabel): boolean {
    const v = this.raw(name);
    if (v === undefined) return false;
    if (TRUE.includes(v)) return true;
    if (!FALSE.includes(v)) this.invalid(at(name), expected('true or false', v));
    return false;
  }

  integer(name: InterlockLabel, lo: number, hi: number, what: string): number | undefined {
    const v = this.raw(name);
    if (v === undefined) return undefined;
    const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
    if (Number.isInteger(n) && n >= lo && n <= hi) return n;
    this.invalid(at(name), expected(what, v));
    return undefined;
  }

  list<A>(name: InterlockLabel, codec: Codec<A>): A[] {
    const v = this.raw(name);
    if (v === undefined) return [];
    const out: A[] = [];
    const seen = new Map<string, number>();
    items(v, ',').forEach((item, i) => {
      const first = seen.get(item);
      if (first !== undefined) {
        this.invalid(at(name, i), `duplicate ${describeValue(item)} (already item ${first})`);
        return;
      }
      seen.set(item, i);
      const ok = this.branded(codec, item, at(name, i));
      if (ok !== undefined) out.push(ok);
    });
    if (out.length === 0 && this.issues.every((x) => x.path[1] !== labelKey(name)))
      this.invalid(at(name), expected('a comma-separated list', v));
    return out;
  }
}
