/**
 * Client certificates at the edge on HAProxy (Route tls.clientCertificate). HAProxy verifies per
 * bind, so a terminated host's TLS listener is one per certificate *and* client-certificate policy
 * (tlsListeners). The bind asks with `verify optional` and ignores verification errors, so that the
 * HTTP rules can answer as NGINX does instead of failing the handshake: 400 without a required
 * certificate or with one that does not verify (revoked by the CRL included), 403 on plain HTTP, and
 * 421 for a request whose host's policy is not the listener's its connection arrived on (HTTP/2
 * connection coalescing, or a Host header that differs from the SNI name).
 */
import type { SwarmName } from '../../domain/brands';
import type { ProxyModel, TlsTerminate } from '../../plan/model';
import { CLIENT_CERT_HEADERS } from '../../domain/route';
import { token, type Token } from '../token';
import { pemPath } from './pem-files';
import { crtListOf, onCrtList, type CrtList } from './crt-list';

export interface TlsListener {
  /** Identifies the listener: the PEM path, plus the policy when there is one; CRT_LIST_KEY for the crt-list listener. */
  readonly key: string;
  /** The one certificate of the listener (`crt`), or its crt-list (hosts without client certificates, crt-list.ts). */
  readonly pem?: string;
  readonly crtList?: CrtList;
  readonly clientCert?: { readonly ca: string; readonly crl?: string; readonly require: boolean };
}

function secretPath(secretsDir: string, name: SwarmName): string {
  return `${secretsDir.replace(/\/+$/, '')}/${name}`;
}

export function tlsListenerOf(tls: TlsTerminate, certDir: string, secretsDir: string): TlsListener {
  const pem = pemPath(certDir, tls);
  if (tls.clientCertMode === undefined || tls.clientCaSecret === undefined) return { key: pem, pem };
  const crl = tls.clientCrlSecret !== undefined ? secretPath(secretsDir, tls.clientCrlSecret) : undefined;
  const clientCert = { ca: secretPath(secretsDir, tls.clientCaSecret), ...(crl !== undefined ? { crl } : {}), require: tls.clientCertMode === 'Require' };
  return { key: `${pem}|${tls.clientCertMode}|${clientCert.ca}|${crl ?? ''}`, pem, clientCert };
}

export const CRT_LIST_KEY = 'crt-list';

/** The key of the listener a terminated host's connections go to (tlsListeners). */
export function listenerKeyOf(tls: TlsTerminate, certDir: string, secretsDir: string, crtList: boolean): string {
  return crtList && onCrtList(tls) ? CRT_LIST_KEY : tlsListenerOf(tls, certDir, secretsDir).key;
}

/**
 * Distinct TLS listeners of the HTTP side: the crt-list listener first (every host without client
 * certificates, crt-list.ts), then one per certificate and client-certificate policy, sorted by
 * key. `crtList: false` renders the layout before ADR 0032 (one listener per certificate), for
 * the benchmark's "before" column.
 */
export function tlsListeners(model: ProxyModel, certDir: string, secretsDir: string, crtList: boolean): TlsListener[] {
  const hosts = model.defaultServer === undefined ? model.virtualHosts : [...model.virtualHosts, model.defaultServer];
  const byKey = new Map<string, TlsListener>();
  for (const vh of hosts) if (vh.tls !== undefined && !(crtList && onCrtList(vh.tls))) byKey.set(tlsListenerOf(vh.tls, certDir, secretsDir).key, tlsListenerOf(vh.tls, certDir, secretsDir));
  const list = crtList ? crtListOf(model, certDir) : undefined;
  const own = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return list === undefined ? own : [{ key: CRT_LIST_KEY, crtList: list }, ...own];
}

export interface ClientCertCheckView {
  /** The virtual host's ACL. */
  readonly acl: Token;
  /** The name of the bind its connections must have arrived on (`so_name`). */
  readonly listener: Token;
  readonly refusePlain: boolean;
  readonly require: boolean;
  readonly headers: typeof CLIENT_CERT_HEADERS;
}

export function clientCertCheck(vh: { readonly tls?: TlsTerminate }, acl: Token, listener: Token | undefined): ClientCertCheckView | undefined {
  const tls = vh.tls;
  if (tls?.clientCertMode === undefined || listener === undefined) return undefined;
  return { acl, listener, refusePlain: !tls.redirectHTTP, require: tls.clientCertMode === 'Require', headers: CLIENT_CERT_HEADERS };
}

export const CLIENT_CERT_TEMPLATE = `{{#clientCertChecks}}
    # tls.clientCertificate: answered as NGINX does (its 400s, 421 for another listener's connection).
{{#refusePlain}}
    http-request return status 403 content-type text/plain string "client certificate required: use https" if {{{acl}}} !sg_tls
{{/refusePlain}}
    http-request return status 421 content-type text/plain string "misdirected request" if {{{acl}}} sg_tls !{ so_name {{{listener}}} }
{{#require}}
    http-request return status 400 content-type text/plain string "No required SSL certificate was sent" if {{{acl}}} sg_tls !{ ssl_c_used }
{{/require}}
    http-request return status 400 content-type text/plain string "The SSL certificate error" if {{{acl}}} sg_tls { ssl_c_used } !{ ssl_c_verify 0 }
{{#headers}}
    http-request del-header "{{verify}}" if {{{acl}}}
    http-request del-header "{{subject}}" if {{{acl}}}
    http-request del-header "{{issuer}}" if {{{acl}}}
    http-request del-header "{{fingerprint}}" if {{{acl}}}
    http-request set-header "{{verify}}" SUCCESS if {{{acl}}} sg_tls { ssl_c_used }
    http-request set-header "{{verify}}" NONE if {{{acl}}} sg_tls !{ ssl_c_used }
    http-request set-header "{{subject}}" "%[ssl_c_s_dn(,0,rfc2253)]" if {{{acl}}} sg_tls { ssl_c_used }
    http-request set-header "{{issuer}}" "%[ssl_c_i_dn(,0,rfc2253)]" if {{{acl}}} sg_tls { ssl_c_used }
    http-request set-header "{{fingerprint}}" "%[ssl_c_sha1,hex,lower]" if {{{acl}}} sg_tls { ssl_c_used }
{{/headers}}
{{/clientCertChecks}}
`;

export const TLS_BIND_TEMPLATE = `{{#tlsBinds}}
    bind "unix@{{socket}}" accept-proxy ssl{{#pem}} crt "{{pem}}"{{/pem}}{{#crtList}} crt-list "{{path}}"{{/crtList}} alpn h2,http/1.1{{#clientCert}} name {{{name}}} verify optional ca-file "{{ca}}"{{#crl}} crl-file "{{crl}}"{{/crl}} ca-ignore-err all crt-ignore-err all{{/clientCert}}
{{#crtList}}
    # {{file}}: the certificate of each SNI name; the first line's is the default. HAProxy reads
    # no inline list: the agent (and the core's check) writes the file from these lines.
{{#lines}}
    #   crt "{{pem}}"{{#sni}} {{.}}{{/sni}}
{{/lines}}
{{/crtList}}
{{/tlsBinds}}
`;

export function tlsBindName(i: number): Token {
  return token(`sg_tls_${i + 1}`);
}
