/**
 * Allow-list types for every user string that can reach a proxy configuration.
 * A value of a branded type has passed its check; renderers accept only branded values,
 * so an unchecked string cannot reach nginx or HAProxy syntax by construction.
 */
import type * as t from 'io-ts';
import { brandedString, intRange, type Codec } from './codec';

type Brand<N extends string> = t.Brand<{ readonly [K in N]: N }>;

export type DnsLabel = string & Brand<'DnsLabel'>;
export type CertificateName = string & Brand<'CertificateName'>;
export type Hostname = string & Brand<'Hostname'>;
export type HostPattern = string & Brand<'HostPattern'>;
export type HttpPath = string & Brand<'HttpPath'>;
export type HeaderName = string & Brand<'HeaderName'>;
export type HeaderValue = string & Brand<'HeaderValue'>;
export type SwarmName = string & Brand<'SwarmName'>;
export type CookieName = string & Brand<'CookieName'>;
export type CookieValue = string & Brand<'CookieValue'>;
export type Duration = string & Brand<'Duration'>;
export type Size = string & Brand<'Size'>;
export type MemorySize = string & Brand<'MemorySize'>;
export type ImageRef = string & Brand<'ImageRef'>;
export type ConstraintExpr = string & Brand<'ConstraintExpr'>;
export type NodeLabelPath = string & Brand<'NodeLabelPath'>;
export type RedirectUrl = string & Brand<'RedirectUrl'>;
export type LabelKey = string & Brand<'LabelKey'>;
export type LabelValue = string & Brand<'LabelValue'>;
export type GrpcServiceName = string & Brand<'GrpcServiceName'>;
export type GrpcMethodName = string & Brand<'GrpcMethodName'>;
export type Port = number & Brand<'Port'>;
export type Weight = number & Brand<'Weight'>;

/** Names the first character outside `allowed`, in a form that survives a one-line message. */
function badChar(s: string, allowed: RegExp): string | undefined {
  for (const ch of s) {
    if (!allowed.test(ch)) return `character ${JSON.stringify(ch)} is not allowed`;
  }
  return undefined;
}

function dnsLabelProblem(label: string, what: string): string | undefined {
  if (label.length === 0) return `empty ${what}`;
  if (label.length > 63) return `${what} "${label.slice(0, 20)}..." is longer than 63 characters`;
  const bad = [...label].find((c) => !/[a-z0-9-]/.test(c));
  // Only hint at lowercase when the offending character is the uppercase one.
  if (bad !== undefined) return `character ${JSON.stringify(bad)} is not allowed${/[A-Z]/.test(bad) ? ' (use lowercase)' : ''}`;
  if (label.startsWith('-') || label.endsWith('-')) return `${what} must start and end with a letter or digit`;
  return undefined;
}

export const DnsLabel = brandedString<Brand<'DnsLabel'>>('DNS-1123 label (lowercase letters, digits, "-", at most 63)', (s) =>
  dnsLabelProblem(s, 'name'),
);

/**
 * The logical name of a certificate stored with `swarmgate tls apply` (tls.certificate.name). A DNS
 * label of at most 40 characters, so that its versioned secret names (`sg-cert-<name>-v<version>.crt`)
 * stay within Swarm's 64-character limit.
 */
export const CERTIFICATE_NAME_MAX = 40;
export const CertificateName = brandedString<Brand<'CertificateName'>>(`certificate name (DNS-1123 label, at most ${CERTIFICATE_NAME_MAX})`, (s) =>
  s.length > CERTIFICATE_NAME_MAX ? `longer than ${CERTIFICATE_NAME_MAX} characters` : dnsLabelProblem(s, 'name'),
);

function hostnameProblem(s: string): string | undefined {
  if (s.length > 253) return `longer than 253 characters`;
  for (const label of s.split('.')) {
    const p = dnsLabelProblem(label, 'label');
    if (p !== undefined) return p;
  }
  return undefined;
}

export const Hostname = brandedString<Brand<'Hostname'>>('RFC 1123 hostname', hostnameProblem);

export const HostPattern = brandedString<Brand<'HostPattern'>>('hostname (RFC 1123, optional leading "*.")', (s) => {
  if (s.startsWith('*.')) return hostnameProblem(s.slice(2));
  if (s.includes('*')) return 'a wildcard is only allowed as the whole first label ("*.example.com")';
  return hostnameProblem(s);
});

const PATH_CHAR = /[A-Za-z0-9._~%+,:@/=&-]/;

function pathProblem(s: string): string | undefined {
  if (!s.startsWith('/')) return 'must start with "/"';
  if (s.length > 1024) return 'longer than 1024 characters';
  const ch = badChar(s, PATH_CHAR);
  if (ch !== undefined) return ch;
  if (/%(?![0-9A-Fa-f]{2})/.test(s)) return '"%" must start a percent-encoded byte (%XX)';
  if (s.includes('//')) return 'empty path segment ("//")';
  if (/(^|\/)\.\.?(\/|$)/.test(s)) return '"." and ".." segments are not allowed';
  return undefined;
}

export const HttpPath = brandedString<Brand<'HttpPath'>>('URL path', pathProblem);

/**
 * A path to match requests against. NGINX matches the percent-decoded path, so "%XX" in a match
 * could never match anything; it is refused rather than silently dead.
 */
export const MatchPath = brandedString<Brand<'HttpPath'>>('URL path to match', (s) =>
  s.includes('%') ? 'percent-encoding cannot match (requests are matched decoded); write the plain characters' : pathProblem(s),
);

export const HeaderName = brandedString<Brand<'HeaderName'>>('HTTP header name (letters, digits, "-")', (s) => {
  if (s.length === 0 || s.length > 64) return 'length must be 1..64';
  const ch = badChar(s, /[A-Za-z0-9-]/);
  if (ch !== undefined) return ch;
  if (s.startsWith('-')) return 'must start with a letter or digit';
  return undefined;
});

/**
 * NGINX reads a double-quoted parameter of at most 4093 bytes between the quotes when it is the
 * first word of a line (a map key) and 4094 after it (nginx 1.22: one more is "too long
 * parameter"); the smaller bound holds for every position. Every user string is written into nginx.conf as one quoted
 * parameter, escaped; a field whose escaped form could exceed this is bounded below by its
 * escaped size, computed from the renderer's escaping rules (src/render/nginx/escape.ts, which a
 * test keeps in step with the two functions here).
 */
export const NGINX_MAX_QUOTED_PARAM = 4093;

/** Bytes of `s` inside a quoted nginx.conf parameter: `$` is written `${sg_dollar}` (12), `"` and `\` take a backslash. */
export function nginxQuotedBytes(s: string): number {
  let n = 0;
  for (const ch of s) n += ch === '$' ? 12 : ch === '"' || ch === '\\' ? 2 : 1;
  return n;
}

/** Bytes of `s` as an exact-match regex in a quoted parameter: letters and digits 1, any other character `\\xHH` (5). */
export function nginxRegexBytes(s: string): number {
  let n = 0;
  for (const ch of s) n += /[A-Za-z0-9]/.test(ch) ? 1 : 5;
  return n;
}

/**
 * Header edit values share their parameter with at most `$http_<64-character name>, ` (72 bytes,
 * the add-header map's default); match values are regexes `~^…\\z` (5 bytes around the value).
 */
export const HEADER_VALUE_MAX_BYTES = NGINX_MAX_QUOTED_PARAM - '$http_, '.length - 64;
export const MATCH_VALUE_MAX_BYTES = NGINX_MAX_QUOTED_PARAM - '~^\\\\z'.length;
/**
 * Cookie matches test the whole Cookie header with `~(?:^|;)[\x20\x09]*NAME=VALUE[\x20\x09]*(?:;|\z)`
 * (src/render/nginx/escape.ts cookiePairRegex): 44 bytes of frame once escaped, and a cookie name of
 * up to 64 characters, share the parameter with the value.
 */
export const COOKIE_MATCH_FRAME_BYTES = 44;
export const COOKIE_MATCH_VALUE_MAX_BYTES = NGINX_MAX_QUOTED_PARAM - COOKIE_MATCH_FRAME_BYTES - 64;

function printableProblem(s: string): string | undefined {
  if (s.length > 1024) return 'longer than 1024 characters';
  return badChar(s, /[\x20-\x7e]/);
}

function headerValueProblem(s: string): string | undefined {
  const p = printableProblem(s);
  if (p !== undefined) return p;
  const bytes = nginxQuotedBytes(s);
  if (bytes > HEADER_VALUE_MAX_BYTES)
    return `takes ${bytes} bytes once escaped for nginx.conf ("$" takes 12, '"' and "\\" 2, any other character 1), at most ${HEADER_VALUE_MAX_BYTES}`;
  return undefined;
}

function matchValueProblem(s: string, max = MATCH_VALUE_MAX_BYTES): string | undefined {
  const bytes = nginxRegexBytes(s);
  if (bytes > max) return `takes ${bytes} bytes as an NGINX match pattern (a letter or digit 1, any other character 5), at most ${max}`;
  return undefined;
}

export const HeaderValue = brandedString<Brand<'HeaderValue'>>('HTTP header value (printable ASCII)', headerValueProblem);

/** A header value to match exactly: a header value whose match pattern also fits NGINX's parameter limit. */
export const HeaderMatchValue = brandedString<Brand<'HeaderValue'>>('HTTP header value to match (printable ASCII)', (s) => printableProblem(s) ?? matchValueProblem(s));

export const SwarmName = brandedString<Brand<'SwarmName'>>('Swarm object name (letters, digits, "_", ".", "-")', (s) => {
  if (s.length === 0 || s.length > 64) return 'length must be 1..64';
  const ch = badChar(s, /[A-Za-z0-9_.-]/);
  if (ch !== undefined) return ch;
  if (!/^[A-Za-z0-9]/.test(s)) return 'must start with a letter or digit';
  return undefined;
});

export const CookieName = brandedString<Brand<'CookieName'>>('cookie name (letters, digits, "_")', (s) => {
  if (s.length === 0 || s.length > 64) return 'length must be 1..64';
  return badChar(s, /[A-Za-z0-9_]/);
});

/** RFC 6265 cookie-octets: printable ASCII without space, '"', ',', ';' and '\\'. Never empty. */
export const CookieValue = brandedString<Brand<'CookieValue'>>('cookie value (printable ASCII without space " , ; \\)', (s) => {
  if (s.length === 0 || s.length > 1024) return 'length must be 1..1024';
  return badChar(s, /[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]/) ?? matchValueProblem(s, COOKIE_MATCH_VALUE_MAX_BYTES);
});

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const MAX_DURATION_MS = 7 * 86_400_000;

/** Milliseconds of a duration already checked by the `Duration` codec. */
export function durationMs(d: string): number {
  let total = 0;
  for (const m of d.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * (DURATION_UNIT_MS[m[2] ?? 's'] ?? 0);
  return total;
}

export const Duration = brandedString<Brand<'Duration'>>(
  'duration like 500ms, 30s, 5m, 1h30m',
  (s) => {
    if (!/^(\d{1,9}(ms|s|m|h|d))+$/.test(s)) return 'use digits followed by a unit (ms, s, m, h, d)';
    if (durationMs(s) > MAX_DURATION_MS) return 'longer than 7d';
    return undefined;
  },
  (n) => `add a unit, e.g. "${n}s"`,
);

const SIZE_UNIT: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** Bytes of a size already checked by the `Size` or `MemorySize` codec. */
export function sizeBytes(s: string): number {
  const m = /^(\d+)([kmgb]?)$/i.exec(s);
  if (m === null) return NaN;
  const unit = (m[2] ?? '').toLowerCase();
  return Number(m[1]) * (SIZE_UNIT[unit === 'b' ? '' : unit] ?? 1);
}

// YAML reads `512` as a number; sizes are strings, so say how to write one instead of "got 512".
const quoteSize = (n: number): string => `write it as a string, e.g. "${n}m" (no unit means bytes)`;

export const Size = brandedString<Brand<'Size'>>(
  'size like 512, 64k, 10m, 1g',
  (s) => {
    if (!/^\d{1,12}[kmgKMG]?$/.test(s)) return 'use digits with an optional unit k, m or g';
    if (sizeBytes(s) > 1024 ** 4) return 'larger than 1024g';
    return undefined;
  },
  quoteSize,
);

export const MemorySize = brandedString<Brand<'MemorySize'>>(
  'memory size like 64m, 1g',
  (s) => {
    if (!/^\d{1,12}[bkmgBKMG]?$/.test(s)) return 'use digits with an optional unit b, k, m or g';
    if (sizeBytes(s) < 4 * 1024 ** 2) return 'Docker needs at least 4m';
    return undefined;
  },
  quoteSize,
);

export const ImageRef = brandedString<Brand<'ImageRef'>>('image reference like repo/name:tag', (s) => {
  if (s.length === 0 || s.length > 255) return 'length must be 1..255';
  const ch = badChar(s, /[A-Za-z0-9._/:@-]/);
  if (ch !== undefined) return ch;
  if (!/^[A-Za-z0-9]/.test(s)) return 'must start with a letter or digit';
  return undefined;
});

const CONSTRAINT =
  /^(node\.(id|hostname|role|platform\.os|platform\.arch|labels\.[A-Za-z0-9_.-]+)|engine\.labels\.[A-Za-z0-9_.-]+) ?(==|!=) ?[A-Za-z0-9_.:/-]+$/;

export const ConstraintExpr = brandedString<Brand<'ConstraintExpr'>>(
  'Swarm constraint like node.role==worker or node.labels.zone!=b',
  (s) => (CONSTRAINT.test(s) ? undefined : 'use <node.id|node.hostname|node.role|node.platform.os|node.platform.arch|node.labels.KEY|engine.labels.KEY> ==|!= <value>'),
);

export const NodeLabelPath = brandedString<Brand<'NodeLabelPath'>>('node label path like node.labels.zone', (s) =>
  /^(node|engine)\.labels\.[A-Za-z0-9_.-]+$/.test(s) ? undefined : 'use node.labels.KEY or engine.labels.KEY',
);

/** No URL character needs escaping in nginx.conf, so a redirect URL fits one parameter at this length. */
export const REDIRECT_URL_MAX = NGINX_MAX_QUOTED_PARAM;

export const RedirectUrl = brandedString<Brand<'RedirectUrl'>>('absolute http(s) URL', (s) => {
  if (s.length > REDIRECT_URL_MAX) return `longer than ${REDIRECT_URL_MAX} characters`;
  const m = /^(https?):\/\/([^/:?#]+)(?::(\d{1,5}))?(\/[^?#]*)?(?:\?([^#]*))?$/.exec(s);
  if (m === null) return 'use http(s)://host[:port][/path][?query] (no fragment)';
  const hostProblem = hostnameProblem(m[2] ?? '');
  if (hostProblem !== undefined) return `host: ${hostProblem}`;
  if (m[3] !== undefined && (Number(m[3]) < 1 || Number(m[3]) > 65535)) return 'port must be 1..65535';
  if (m[4] !== undefined) {
    const p = pathProblem(m[4]);
    if (p !== undefined) return `path: ${p}`;
  }
  if (m[5] !== undefined) {
    const q = badChar(m[5], /[A-Za-z0-9._~%+,:@/=&-]/);
    if (q !== undefined) return `query: ${q}`;
  }
  return undefined;
});

export const LabelKey = brandedString<Brand<'LabelKey'>>('label key (letters, digits, ".", "_", "/", "-")', (s) => {
  if (s.length === 0 || s.length > 253) return 'length must be 1..253';
  return badChar(s, /[A-Za-z0-9._/-]/);
});

export const LabelValue = brandedString<Brand<'LabelValue'>>('label value (printable, at most 1024)', (s) => {
  if (s.length > 1024) return 'longer than 1024 characters';
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  return badChar(s, /[^\x00-\x1f\x7f]/);
});

/**
 * gRPC names as protobuf writes them (GRPCRoute's `service` and `method`): a package-qualified
 * service like `helloworld.Greeter`, a method like `SayHello`. They become the request path
 * `/<service>/<method>`, so only identifier characters and "." between identifiers are allowed.
 */
export const GrpcServiceName = brandedString<Brand<'GrpcServiceName'>>('gRPC service name like pkg.Service (letters, digits, "_", "." between names)', (s) => {
  if (s.length === 0 || s.length > 255) return 'length must be 1..255';
  const ch = badChar(s, /[A-Za-z0-9_.]/);
  if (ch !== undefined) return ch;
  return /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(s) ? undefined : 'each "."-separated part must start with a letter or "_" and none may be empty';
});
export const GrpcMethodName = brandedString<Brand<'GrpcMethodName'>>('gRPC method name (letters, digits, "_")', (s) => {
  if (s.length === 0 || s.length > 255) return 'length must be 1..255';
  const ch = badChar(s, /[A-Za-z0-9_]/);
  if (ch !== undefined) return ch;
  return /^[A-Za-z_]/.test(s) ? undefined : 'must start with a letter or "_"';
});

export const Port: Codec<Port> = intRange<Brand<'Port'>>(1, 65535, 'port 1..65535');
export const Weight: Codec<Weight> = intRange<Brand<'Weight'>>(0, 1000);
