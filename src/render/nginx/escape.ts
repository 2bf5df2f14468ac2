/**
 * Escaping for values placed inside double-quoted NGINX strings.
 * NGINX has no escape for "$" in strings that are evaluated for variables, so a literal "$" is
 * written as `${sg_dollar}`, a variable the rendered config defines (geo block) as "$".
 * Control characters never get here (brands reject them), but they are refused again so a
 * broken caller cannot emit a line break into the configuration.
 */
export const DOLLAR_VARIABLE = 'sg_dollar';

export function nginxEscape(value: unknown): string {
  const s = String(value);
  // Most values have nothing to escape nor refuse: one test, no replace (every quoted value of a large config passes here).
  // eslint-disable-next-line no-control-regex -- control characters are among what the slow path looks at
  if (!/[\x00-\x1f\x7f\\"$]/.test(s)) return s;
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  if (/[\x00-\x1f\x7f]/.test(s)) throw new Error('control character in a value rendered into nginx.conf');
  return s.replace(/[\\"$]/g, (ch) => (ch === '$' ? `\${${DOLLAR_VARIABLE}}` : `\\${ch}`));
}

/**
 * A PCRE pattern that matches exactly `value`, written only with letters, digits and `\xHH`
 * escapes (so neither NGINX quoting nor `$` handling can change it). `\z` anchors the end.
 */
export function exactRegex(value: string): string {
  return `^${literalRegex(value)}\\z`;
}

function literalRegex(value: string): string {
  let out = '';
  for (const ch of value) out += /[A-Za-z0-9]/.test(ch) ? ch : `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  return out;
}

/**
 * A PCRE pattern for the Cookie header (`$http_cookie`, every Cookie header joined by "; ") that
 * holds when some cookie is exactly `name=value`, name and value case-sensitive. NGINX's own
 * `$cookie_<name>` finds the name without regard to case, unlike HAProxy's `req.cook(<name>)`;
 * this makes both proxies match the same cookies (any occurrence, as HAProxy's ACL does).
 */
export function cookiePairRegex(name: string, value: string): string {
  // A cookie name is letters, digits and "_" (CookieName): none is special in PCRE, so it stays as it is,
  // which keeps its size in the parameter to its length (src/domain/brands.ts COOKIE_MATCH_FRAME_BYTES).
  const literalName = name.replace(/[^A-Za-z0-9_]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return `(?:^|;)[\\x20\\x09]*${literalName}=${literalRegex(value)}[\\x20\\x09]*(?:;|\\z)`;
}

/** A regex for a URL path prefix made of allow-listed path characters: metacharacters become classes. */
export function pathRegex(path: string): string {
  return path.replace(/[.+]/g, (ch) => `[${ch}]`);
}
