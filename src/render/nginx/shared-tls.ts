/**
 * NGINX's shared TLS server (ADR 0028): hosts with default TLS settings carry no certificate of
 * their own; the default server's one TLS context loads each host's certificate by SNI, from two
 * maps of $ssl_server_name. Which hosts share: src/plan/shared-tls.ts.
 */
import type { VirtualHost } from '../../plan/model';
import { nginxEscape } from './escape';
import type { NginxRenderOptions } from './options';
import type { NginxView, ServerView } from './view-types';

/**
 * How a server gets its certificate (ADR 0028): `own` ssl_certificate files (its own TLS context),
 * `shared` (none: the default server's context picks it by SNI), or `holder` (the default server
 * holding the shared context: ssl_certificate by variable).
 */
export type TlsRole = 'own' | 'shared' | 'holder';

/** Where a host's certificate and key files are in the proxy task. */
export function tlsFiles(tls: NonNullable<VirtualHost['tls']>, opts: NginxRenderOptions): { cert: string; key: string } {
  const dir = tls.acme === true ? opts.acmeDir : opts.secretsDir;
  return { cert: `${dir}/${tls.certSecret}`, key: `${dir}/${tls.keySecret}` };
}

/** A server without certificates (the HTTP copy of a server split per listener: it has no TLS listener). */
export function withoutCertificates(sv: ServerView): ServerView {
  const { tls: _tls, tlsByVariable: _byVariable, ...rest } = sv;
  return rest;
}

/**
 * The shared context's certificate per SNI name (ADR 0028): `hostnames` maps match exact and
 * wildcard names as server_name does; an unknown name gets the default server's certificate, or ""
 * when it has none (the default server then refuses the handshake before a certificate is loaded).
 */
export function tlsCertificateMaps(hosts: readonly VirtualHost[], def: VirtualHost | undefined, opts: NginxRenderOptions): NonNullable<NginxView['tlsCertificates']> {
  const entries = hosts
    .flatMap((vh) => (vh.tls !== undefined ? [{ host: vh.host as string, ...tlsFiles(vh.tls, opts) }] : []))
    .sort((a, b) => (a.host < b.host ? -1 : 1));
  const fallback = def?.tls !== undefined ? tlsFiles(def.tls, opts) : { cert: '', key: '' };
  let certLines = '';
  let keyLines = '';
  for (const e of entries) {
    const host = nginxEscape(e.host);
    certLines += `        "${host}" "${nginxEscape(e.cert)}";\n`;
    keyLines += `        "${host}" "${nginxEscape(e.key)}";\n`;
  }
  return { certLines, keyLines, defaultCert: fallback.cert, defaultKey: fallback.key };
}
