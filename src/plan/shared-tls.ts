/**
 * NGINX's shared TLS server (ADR 0028): which virtual hosts get their certificate by SNI from one
 * certificate callback instead of a TLS context (SSL_CTX) of their own. One definition for the
 * planner (whose certificate secrets NGINX's workers must read: they load them at each full
 * handshake) and the renderer (which hosts lose their own ssl_certificate).
 *
 * A host shares when its TLS settings are the defaults every shared host has:
 * no client certificate (ssl_verify_client is a property of the TLS context: such a host keeps its
 * own server block and context, ADR 0023). ACME certificates share too: the agent writes them 0644
 * in its ACME directory, for the workers.
 * The default server holds the shared context, so the layout applies only when the default server
 * itself could share: no TLS (unknown names are refused) or TLS that shares (its certificate is
 * the one unknown names get).
 */
import type { ProxyModel, TlsTerminate, VirtualHost } from './model';

/** TLS settings a shared context can serve: a certificate and key (Docker secrets or ACME files), no client certificates. */
export function tlsCanShare(tls: TlsTerminate | undefined): tls is TlsTerminate {
  return tls !== undefined && tls.clientCertMode === undefined;
}

/** The default server can hold the shared context (see the file comment). */
export function sharedTlsPossible(model: Pick<ProxyModel, 'defaultServer'>): boolean {
  const t = model.defaultServer?.tls;
  return t === undefined || tlsCanShare(t);
}

/** The virtual hosts (not the default server) whose certificate comes from the shared context, in model order. */
export function sharedTlsHosts(model: Pick<ProxyModel, 'defaultServer' | 'virtualHosts'>): VirtualHost[] {
  if (!sharedTlsPossible(model)) return [];
  return model.virtualHosts.filter((vh) => tlsCanShare(vh.tls));
}

/**
 * The certificates NGINX's workers read: the shared hosts' and, when some host shares, the default
 * server's (its certificate is the shared context's fallback). Docker secrets among them are mounted
 * 0444, not 0400; ACME ones are files the agent writes.
 */
export function sharedTlsSecrets(model: Pick<ProxyModel, 'defaultServer' | 'virtualHosts'>): TlsTerminate[] {
  const hosts = sharedTlsHosts(model);
  if (hosts.length === 0) return [];
  const out: TlsTerminate[] = hosts.map((vh) => vh.tls).filter(tlsCanShare);
  const d = model.defaultServer?.tls;
  if (tlsCanShare(d)) out.push(d);
  return out;
}
