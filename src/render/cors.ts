/**
 * CORS origins as PCRE patterns (NGINX map keys and HAProxy `-m reg` ACLs, both PCRE2): literal
 * characters other than letters and digits are written `\xHH`, so neither proxy's quoting nor `$`
 * handling can change them; `*.` of a wildcard origin becomes one or more DNS labels.
 */
import type { ModelCors } from '../plan/model';

function literal(s: string): string {
  let out = '';
  for (const ch of s) out += /[A-Za-z0-9]/.test(ch) ? ch : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  return out;
}

/** `^…\z` for one allowed origin other than `*`. */
export function originPattern(origin: string): string {
  const star = origin.indexOf('://*.');
  if (star < 0) return `^${literal(origin)}\\z`;
  const scheme = origin.slice(0, star + 3);
  const rest = origin.slice(star + 5);
  return `^${literal(scheme)}(?:[a-z0-9-]+\\x2e)+${literal(rest)}\\z`;
}

export const anyOrigin = (c: ModelCors): boolean => c.allowOrigins.includes('*' as ModelCors['allowOrigins'][number]);

/** The values of the preflight answer's headers. */
export function preflightHeaders(c: ModelCors): { methods: string; headers?: string; maxAge: string } {
  return { methods: c.allowMethods.join(', '), ...(c.allowHeaders.length > 0 ? { headers: c.allowHeaders.join(', ') } : {}), maxAge: String(c.maxAgeSeconds) };
}
