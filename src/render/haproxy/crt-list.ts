/**
 * One TLS listener for every terminated host without client certificates (ADR 0032): its bind
 * reads a `crt-list`, a file with one line per certificate and the SNI names it serves, so HAProxy
 * builds one bind (and one socket, one hop from the SNI router) however many TLS hosts there are,
 * instead of one bind with its own context per certificate. The first line is the default
 * certificate (HAProxy gives it to a name no line lists): the default server's when it terminates
 * TLS and shares, as NGINX's shared TLS server does (ADR 0028).
 *
 * HAProxy has no inline crt-list, and the file must travel with the config (core validation, the
 * agent's reload, a task's boot all have the config only): the renderer writes the file's lines
 * into haproxy.cfg as comments under the bind, `#   crt "<pem>" <sni>…`, and crtListOfConfig
 * rebuilds the file from them. The comment lines also carry ` crt "<pem>"`, so pemFilesOfConfig
 * (the PEMs to build) finds every certificate the list names.
 */
import type { ProxyModel, TlsTerminate } from '../../plan/model';
import { pemPath } from './pem-files';

/** File name of the crt-list in the certificate directory (not a `.pem`: pruning leaves it alone). */
export const CRT_LIST_FILE = 'hosts.crt-list';

export interface CrtListLine {
  readonly pem: string;
  /** SNI filters: the hosts of this certificate, exact or `*.` wildcard, lower case (allow-listed host patterns). */
  readonly sni: readonly string[];
}

export interface CrtList {
  readonly path: string;
  /** In file order: the first is the default certificate. */
  readonly lines: readonly CrtListLine[];
}

/** A terminated host's TLS can be served from the crt-list listener: no client certificate (verification is per bind). */
export function onCrtList(tls: TlsTerminate): boolean {
  return tls.clientCertMode === undefined;
}

/**
 * The crt-list of the shared listener, or undefined when no host uses it. Lines are by certificate
 * in the order hosts come (the default server first, then the model's hosts, sorted by name).
 */
export function crtListOf(model: Pick<ProxyModel, 'defaultServer' | 'virtualHosts'>, certDir: string): CrtList | undefined {
  const hosts = [...(model.defaultServer !== undefined ? [model.defaultServer] : []), ...model.virtualHosts];
  const byPem = new Map<string, Set<string>>();
  for (const vh of hosts) {
    if (vh.tls === undefined || !onCrtList(vh.tls)) continue;
    const pem = pemPath(certDir, vh.tls);
    const sni = byPem.get(pem) ?? new Set<string>();
    sni.add(vh.host.toLowerCase());
    byPem.set(pem, sni);
  }
  if (byPem.size === 0) return undefined;
  return { path: `${certDir.replace(/\/+$/, '')}/${CRT_LIST_FILE}`, lines: [...byPem].map(([pem, sni]) => ({ pem, sni: [...sni] })) };
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The crt-list file a rendered haproxy.cfg reads under `certDir` (its `crt-list "<path>"`), rebuilt
 * from the comment lines the renderer wrote under that bind; undefined when the config has none.
 * Paths are written unquoted: HAProxy 2.6 does not unquote crt-list paths (certificate paths are
 * `<certDir>/<swarm name>+<swarm name>.pem`, no blank possible).
 */
export function crtListOfConfig(config: string, certDir: string): { readonly path: string; readonly content: string } | undefined {
  const dir = escapeRe(certDir.replace(/\/+$/, ''));
  const list = new RegExp(` crt-list "(${dir}/[A-Za-z0-9_.+-]+)"`).exec(config);
  if (list?.[1] === undefined) return undefined;
  const lines: string[] = [];
  for (const m of config.matchAll(new RegExp(`^ +# +crt "(${dir}/[A-Za-z0-9_.+/-]+\\.pem)"((?: [A-Za-z0-9*._-]+)*)$`, 'gm'))) lines.push(`${m[1] ?? ''}${m[2] ?? ''}`);
  return { path: list[1], content: lines.length === 0 ? '' : `${lines.join('\n')}\n` };
}

/** File name, in the runtime directory, of the map of pending ACME HTTP-01 tokens (path → key authorization). */
export const HTTP01_MAP_FILE = 'acme-http01.map';

export function http01MapPath(runtimeDir: string): string {
  return `${runtimeDir.replace(/\/+$/, '')}/${HTTP01_MAP_FILE}`;
}
