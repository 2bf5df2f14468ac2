/**
 * HAProxy reads a certificate and its key from one file (`crt`), while a Route names two Docker
 * secrets. The delivery layer concatenates them (certificate first, then key) into the files
 * listed here; the renderer points `crt` at the same paths.
 */
import type { SwarmName } from '../../domain/brands';
import type { ProxyModel, TlsTerminate } from '../../plan/model';
import { DEFAULT_HAPROXY_OPTIONS, type HaproxyRenderOptions } from './options';

export interface HaproxyPemFile {
  /** Absolute path the rendered haproxy.cfg reads (`crt`). */
  readonly path: string;
  /** Docker secret holding the certificate (chain), mounted at /run/secrets/<certSecret>. */
  readonly certSecret: SwarmName;
  /** Docker secret holding the private key, mounted at /run/secrets/<keySecret>. */
  readonly keySecret: SwarmName;
  /** An ACME certificate: certSecret and keySecret are files of the agent's ACME directory (ADR 0032), not secrets. */
  readonly acme?: true;
}

/** Sub-directory of the certificate directory with the combined PEMs of ACME certificates. */
export const ACME_PEM_SUBDIR = 'acme';

/**
 * "+" cannot occur in a Swarm name (nor in an ACME file name, acmeFileNames), so the file name is
 * unambiguous for every pair; ACME pairs live in a sub-directory of their own, so a Docker secret
 * named like an ACME file never shares a path with one.
 */
export function pemPath(certDir: string, tls: Pick<TlsTerminate, 'certSecret' | 'keySecret' | 'acme'>): string {
  return `${certDir.replace(/\/+$/, '')}/${tls.acme === true ? `${ACME_PEM_SUBDIR}/` : ''}${tls.certSecret}+${tls.keySecret}.pem`;
}

type PemPair = Pick<TlsTerminate, 'certSecret' | 'keySecret' | 'acme'>;

function distinctPems(pairs: readonly PemPair[], options: Partial<Pick<HaproxyRenderOptions, 'certDir'>>): HaproxyPemFile[] {
  const certDir = options.certDir ?? DEFAULT_HAPROXY_OPTIONS.certDir;
  const byPath = new Map<string, HaproxyPemFile>();
  for (const tls of pairs) {
    const path = pemPath(certDir, tls);
    byPath.set(path, { path, certSecret: tls.certSecret, keySecret: tls.keySecret, ...(tls.acme === true ? { acme: true as const } : {}) });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The PEM files of the HTTP side (virtual hosts terminating TLS behind the SNI router): one TLS listener each. */
export function httpPemFiles(model: ProxyModel, options: Partial<Pick<HaproxyRenderOptions, 'certDir'>> = {}): HaproxyPemFile[] {
  const hosts = model.defaultServer === undefined ? model.virtualHosts : [...model.virtualHosts, model.defaultServer];
  return distinctPems(hosts.flatMap((vh) => (vh.tls !== undefined ? [vh.tls] : [])), options);
}

/** Client certificates the proxy shows to TLS backends (backend `tls.clientCertificate`). */
function backendClientPems(model: ProxyModel): PemPair[] {
  const hosts = model.defaultServer === undefined ? model.virtualHosts : [...model.virtualHosts, model.defaultServer];
  const out: PemPair[] = [];
  for (const vh of hosts)
    for (const g of vh.paths)
      for (const r of [...g.conditional, ...(g.fallback !== undefined ? [g.fallback] : [])]) {
        const t = r.action.kind === 'proxy' ? r.action.upstreamTls : undefined;
        if (t?.certSecret !== undefined && t.keySecret !== undefined) out.push({ certSecret: t.certSecret, keySecret: t.keySecret });
      }
  return out;
}

/**
 * Distinct combined PEM files the proxy needs (HTTP side, TCPRoutes terminating TLS on a listener,
 * client certificates to backends), sorted by path.
 */
export function haproxyPemFiles(model: ProxyModel, options: Partial<Pick<HaproxyRenderOptions, 'certDir'>> = {}): HaproxyPemFile[] {
  const hosts = model.defaultServer === undefined ? model.virtualHosts : [...model.virtualHosts, model.defaultServer];
  const stream = (model.listeners ?? []).flatMap((l) => l.routes.flatMap((r) => (r.tls !== undefined ? [r.tls] : [])));
  return distinctPems([...hosts.flatMap((vh) => (vh.tls !== undefined ? [vh.tls] : [])), ...stream, ...backendClientPems(model)], options);
}

const SWARM_NAME = '[A-Za-z0-9][A-Za-z0-9_.-]*';

/**
 * The combined PEM files a rendered haproxy.cfg reads under `certDir` (its `crt "<certDir>/<cert>+<key>.pem"`
 * arguments), sorted by path: what a proxy must build before starting or reloading on `config`,
 * when it has only the config and not the model (a boot config, a delivered config).
 * Inverse of pemPath; for a rendered config it equals haproxyPemFiles(model).
 */
export function pemFilesOfConfig(config: string, certDir: string = DEFAULT_HAPROXY_OPTIONS.certDir): HaproxyPemFile[] {
  const dir = certDir.replace(/\/+$/, '');
  const byPath = new Map<string, HaproxyPemFile>();
  const re = new RegExp(` crt "(${dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/(${ACME_PEM_SUBDIR}/)?(${SWARM_NAME})\\+(${SWARM_NAME})\\.pem)"`, 'g');
  for (const m of config.matchAll(re)) {
    const [, path, acme, certSecret, keySecret] = m;
    if (path === undefined || certSecret === undefined || keySecret === undefined) continue;
    byPath.set(path, { path, certSecret: certSecret as SwarmName, keySecret: keySecret as SwarmName, ...(acme !== undefined ? { acme: true as const } : {}) });
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
