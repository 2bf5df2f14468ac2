/**
 * Small io-ts combinators that give users precise errors:
 * - `struct` rejects unknown fields (with "did you mean") and reports missing required ones;
 * - `listOf` and `mapOf` keep indices and keys in the error path;
 * - `withDefault` fills a default when the field is absent (the decoded form is always complete);
 * - every failure carries a message "expected X, got Y" that the reporter prints verbatim.
 * io-ts' own union/intersection are avoided because they put synthetic entries into error paths.
 */
import * as t from 'io-ts';
import * as E from 'fp-ts/Either';
import { describeValue, type Issue, type PathSegment } from './issue';
import { didYouMean } from './did-you-mean';

export type Codec<A> = t.Type<A, unknown, unknown>;

export function fail<A>(u: unknown, c: t.Context, message: string): t.Validation<A> {
  return t.failure(u, c, message);
}

export function expected(name: string, u: unknown): string {
  return `expected ${name}, got ${describeValue(u)}`;
}

/** A codec whose value may be omitted in input; the decoder then supplies `value`. */
export class DefaultCodec<A> extends t.Type<A, unknown, unknown> {
  readonly _defaultTag = 'DefaultCodec';
  constructor(
    readonly inner: Codec<A>,
    readonly value: A,
  ) {
    super(inner.name, inner.is, (u, c) => (u === undefined ? t.success(value) : inner.validate(u, c)), inner.encode);
  }
}

export function withDefault<A>(inner: Codec<A>, value: A): DefaultCodec<A> {
  return new DefaultCodec(inner, value);
}

/** Unknown fields of one mapping reported one by one; the rest are counted in one more issue. */
export const MAX_UNKNOWN_FIELDS_LISTED = 20;

type Props = Record<string, t.Mixed>;
type Required<R extends Props> = { [K in keyof R]: t.TypeOf<R[K]> };
type Optional<O extends Props> = { [K in keyof O]?: t.TypeOf<O[K]> };
export type StructOf<R extends Props, O extends Props> = Required<R> & Optional<O>;

export class StructCodec<A> extends t.Type<A, unknown, unknown> {
  readonly _structTag = 'StructCodec';
  constructor(
    name: string,
    readonly required: Props,
    readonly optional: Props,
    is: t.Is<A>,
    validate: t.Validate<unknown, A>,
    encode: t.Encode<A, unknown>,
  ) {
    super(name, is, validate, encode);
  }
  get knownKeys(): string[] {
    return [...Object.keys(this.required), ...Object.keys(this.optional)];
  }
}

function isPlainRecord(u: unknown): u is Record<string, unknown> {
  return typeof u === 'object' && u !== null && !Array.isArray(u);
}

/**
 * A closed object: `required` fields (a DefaultCodec there makes the field optional in input but
 * always present once decoded) and `optional` fields (absent stays absent).
 */
export function struct<R extends Props, O extends Props = Record<never, never>>(
  name: string,
  required: R,
  optional?: O,
): StructCodec<StructOf<R, O>> {
  const opt: Props = optional ?? {};
  const known = [...Object.keys(required), ...Object.keys(opt)];
  const encode = (a: StructOf<R, O>): unknown => {
    const out: Record<string, unknown> = {};
    const rec = a as Record<string, unknown>;
    for (const key of known) {
      const codec = required[key] ?? opt[key];
      if (codec !== undefined && rec[key] !== undefined) out[key] = codec.encode(rec[key]);
    }
    return out;
  };
  const is = (u: unknown): u is StructOf<R, O> =>
    isPlainRecord(u) &&
    Object.keys(u).every((k) => known.includes(k)) &&
    Object.entries(required).every(([k, c]) => c.is(u[k])) &&
    Object.entries(opt).every(([k, c]) => u[k] === undefined || c.is(u[k]));
  const codec: StructCodec<StructOf<R, O>> = new StructCodec<StructOf<R, O>>(
    name,
    required,
    opt,
    is,
    (u, c) => {
      if (!isPlainRecord(u)) return fail(u, c, expected(`a mapping (${name})`, u));
      const errors: t.Errors = [];
      const out: Record<string, unknown> = {};
      let unknown = 0;
      for (const key of Object.keys(u)) {
        if (known.includes(key)) continue;
        // Each is one problem for the user to fix; past a few, one line says how many more there are.
        if (++unknown > MAX_UNKNOWN_FIELDS_LISTED) continue;
        const hint = didYouMean(key, known);
        const entry = { key, type: codec, actual: u[key] };
        errors.push({
          value: u[key],
          context: [...c, entry],
          message: `unknown field${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}; allowed: ${known.join(', ')}`,
        });
      }
      if (unknown > MAX_UNKNOWN_FIELDS_LISTED)
        errors.push({ value: u, context: c, message: `${unknown - MAX_UNKNOWN_FIELDS_LISTED} more unknown fields (not listed); allowed: ${known.join(', ')}` });
      const visit = (key: string, field: t.Mixed, isRequired: boolean): void => {
        const value = u[key];
        const ctx = [...c, { key, type: field, actual: value }];
        if (value === undefined || value === null) {
          if (field instanceof DefaultCodec) {
            out[key] = field.value;
            return;
          }
          if (!isRequired) return;
          errors.push({ value, context: ctx, message: `required field missing (expected ${field.name})` });
          return;
        }
        const result = field.validate(value, ctx);
        if (E.isLeft(result)) errors.push(...result.left);
        else out[key] = result.right;
      };
      for (const [key, field] of Object.entries(required)) visit(key, field, true);
      for (const [key, field] of Object.entries(opt)) visit(key, field, false);
      return errors.length > 0 ? t.failures(errors) : t.success(out as StructOf<R, O>);
    },
    encode,
  );
  return codec;
}

export interface ListBounds {
  readonly min?: number;
  readonly max?: number;
}

export class ListCodec<A> extends t.Type<A[], unknown, unknown> {
  readonly _listTag = 'ListCodec';
  constructor(
    name: string,
    is: t.Is<A[]>,
    validate: t.Validate<unknown, A[]>,
    encode: t.Encode<A[], unknown>,
    /** The codec of each element (read by schema generators and the CRD agreement test). */
    readonly item: Codec<A>,
    readonly bounds: ListBounds,
  ) {
    super(name, is, validate, encode);
  }
}

/** A list with optional length bounds; errors keep the element index in the path. */
export function listOf<A>(item: Codec<A>, bounds: ListBounds = {}): ListCodec<A> {
  const name = `list of ${item.name}`;
  const codec: ListCodec<A> = new ListCodec<A>(
    name,
    (u): u is A[] => Array.isArray(u) && u.every((x) => item.is(x)),
    (u, c) => {
      if (!Array.isArray(u)) return fail(u, c, expected(name, u));
      if (bounds.min !== undefined && u.length < bounds.min)
        return fail(u, c, `expected at least ${bounds.min} item${bounds.min === 1 ? '' : 's'}, got ${u.length}`);
      if (bounds.max !== undefined && u.length > bounds.max)
        return fail(u, c, `expected at most ${bounds.max} items, got ${u.length}`);
      const errors: t.Errors = [];
      const out: A[] = [];
      u.forEach((x, i) => {
        const r = item.validate(x, [...c, { key: String(i), type: codec, actual: x }]);
        if (E.isLeft(r)) errors.push(...r.left);
        else out.push(r.right);
      });
      return errors.length > 0 ? t.failures(errors) : t.success(out);
    },
    (as) => as.map((a) => item.encode(a)),
    item,
    bounds,
  );
  return codec;
}

export class MapCodec<K extends string, V> extends t.Type<Record<K, V>, unknown, unknown> {
  readonly _mapTag = 'MapCodec';
  constructor(
    name: string,
    is: t.Is<Record<K, V>>,
    validate: t.Validate<unknown, Record<K, V>>,
    encode: t.Encode<Record<K, V>, unknown>,
    readonly key: Codec<K>,
    readonly value: Codec<V>,
    readonly maxEntries: number,
  ) {
    super(name, is, validate, encode);
  }
}

/** A string-keyed map (labels, annotations) with validated keys and values. */
export function mapOf<K extends string, V>(key: Codec<K>, value: Codec<V>, maxEntries = 256): MapCodec<K, V> {
  const name = `mapping of ${key.name} to ${value.name}`;
  return new MapCodec<K, V>(
    name,
    (u): u is Record<K, V> => isPlainRecord(u) && Object.entries(u).every(([k, v]) => key.is(k) && value.is(v)),
    (u, c) => {
      if (!isPlainRecord(u)) return fail(u, c, expected(name, u));
      const entries = Object.entries(u);
      if (entries.length > maxEntries) return fail(u, c, `expected at most ${maxEntries} entries, got ${entries.length}`);
      const errors: t.Errors = [];
      const out: Record<string, V> = {};
      for (const [k, v] of entries) {
        const ctx = [...c, { key: k, type: value, actual: v }];
        const kr = key.validate(k, ctx);
        if (E.isLeft(kr)) errors.push(...kr.left.map((e) => ({ ...e, message: `key ${describeValue(k)}: ${e.message ?? ''}` })));
        const vr = value.validate(v, ctx);
        if (E.isLeft(vr)) errors.push(...vr.left);
        else out[k] = vr.right;
      }
      return errors.length > 0 ? t.failures(errors) : t.success(out as Record<K, V>);
    },
    (a) => ({ ...a }),
    key,
    value,
    maxEntries,
  );
}

export class OneOfCodec<L extends string> extends t.Type<L, unknown, unknown> {
  readonly _oneOfTag = 'OneOfCodec';
  constructor(
    name: string,
    is: t.Is<L>,
    validate: t.Validate<unknown, L>,
    encode: t.Encode<L, unknown>,
    readonly values: readonly L[],
  ) {
    super(name, is, validate, encode);
  }
}

/** One of a fixed set of string values. */
export function oneOf<L extends string>(values: readonly L[], label?: string): OneOfCodec<L> {
  const name = label ?? values.map((v) => JSON.stringify(v)).join(' | ');
  return new OneOfCodec<L>(
    name,
    (u): u is L => typeof u === 'string' && (values as readonly string[]).includes(u),
    (u, c) => {
      if (typeof u === 'string' && (values as readonly string[]).includes(u)) return t.success(u as L);
      if (typeof u === 'string') {
        const hint = didYouMean(u, values);
        return fail(u, c, `${expected(`one of ${values.join(', ')}`, u)}${hint !== undefined ? ` (did you mean "${hint}"?)` : ''}`);
      }
      return fail(u, c, expected(`one of ${values.join(', ')}`, u));
    },
    (a) => a,
    values,
  );
}

export const bool: Codec<boolean> = new t.Type<boolean, unknown, unknown>(
  'boolean',
  (u): u is boolean => typeof u === 'boolean',
  (u, c) => (typeof u === 'boolean' ? t.success(u) : fail(u, c, expected('true or false', u))),
  (a) => a,
);

/**
 * Build a branded codec from a check that returns an error text, or undefined when valid.
 * `numberHint` explains how to write a value that YAML read as a number (`30` for a duration).
 */
export function brandedString<B>(name: string, check: (s: string) => string | undefined, numberHint?: (n: number) => string): Codec<string & B> {
  const test = (u: unknown): u is string & B => typeof u === 'string' && check(u) === undefined;
  return new t.Type<string & B, unknown, unknown>(
    name,
    test,
    (u, c) => {
      if (typeof u === 'number' && numberHint !== undefined) return fail(u, c, `${expected(name, u)}: ${numberHint(u)}`);
      if (typeof u !== 'string') return fail(u, c, expected(name, u));
      const problem = check(u);
      return problem === undefined ? t.success(u as string & B) : fail(u, c, `${expected(name, u)}: ${problem}`);
    },
    (a) => a,
  );
}

export function intRange<B = unknown>(lo: number, hi: number, label?: string): Codec<number & B> {
  const name = label ?? `integer ${lo}..${hi}`;
  const ok = (u: unknown): u is number & B => typeof u === 'number' && Number.isInteger(u) && u >= lo && u <= hi;
  return new t.Type<number & B, unknown, unknown>(
    name,
    ok,
    (u, c) => (ok(u) ? t.success(u) : fail(u, c, expected(name, u))),
    (a) => a,
  );
}

/** Turn io-ts errors into user-facing issues: a path of field names and indices, and a message. */
export function toIssues(errors: t.Errors, base: readonly PathSegment[] = []): Issue[] {
  return errors.map((e) => {
    const path: PathSegment[] = [...base];
    e.context.forEach((entry, i) => {
      if (i === 0 || entry.key === '') return;
      const parent = e.context[i - 1]?.type;
      // A defaulted list (withDefault(listOf(...))) is still a list: its indices are numbers too.
      const inList = parent instanceof ListCodec || (parent instanceof DefaultCodec && parent.inner instanceof ListCodec);
      path.push(inList && /^\d+$/.test(entry.key) ? Number(entry.key) : entry.key);
    });
    return { path, message: e.message ?? expected(e.context[e.context.length - 1]?.type.name ?? 'value', e.value) };
  });
}

export function decode<A>(codec: Codec<A>, u: unknown, base: readonly PathSegment[] = []): E.Either<Issue[], A> {
  const r = codec.decode(u);
  return E.isLeft(r) ? E.left(toIssues(r.left, base)) : E.right(r.right);
}
