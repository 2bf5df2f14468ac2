/**
 * Token: an identifier or variable reference that swarmgate itself generated (upstream names,
 * `$sg_…` variables, named locations, addresses from the allow-listed snapshot). Only Tokens
 * may be rendered unescaped (mustache triple braces); user data always goes through escaping.
 */
export type Token = string & { readonly __token: 'Token' };

const TOKEN = /^[$A-Za-z0-9_@.:[\]-]+$/;

export function token(s: string): Token {
  if (!TOKEN.test(s)) throw new Error(`not a safe config token: ${JSON.stringify(s)}`);
  return s as Token;
}

/** `$http_x_canary` for header X-Canary: NGINX's variable for a request header. */
export function headerVariable(name: string): Token {
  return token(`$http_${name.toLowerCase().replace(/-/g, '_')}`);
}
