/**
 * The check every configuration passes before it ships: the proxy's own parser (`nginx -t` /
 * `haproxy -c`) on exactly the files that will be delivered — the same bytes, at the path the
 * proxy reads them — inside a private root (sandbox.ts) that holds throw-away certificates where
 * the proxy task's secrets are mounted. Used by the core (before delivering to agents or storing a
 * Swarm config, for its own renders and for extension submissions alike), by the extension, and
 * by the tests; the proxy agent runs the same check (proxy-check.ts) on its real files.
 */
import { createHash } from 'node:crypto';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import type { ProxyKind } from '../plan/proxy-capabilities';
import { PROXY_RUNTIME } from '../plan/proxy-runtime';
import { DEFAULT_HAPROXY_OPTIONS, haproxyDynamicPaths } from '../render/haproxy/options';
import { pagePath } from '../plan/error-pages';
import { DEFAULT_NGINX_OPTIONS } from '../render/nginx/options';
import { ENDPOINTS_FILE } from '../render/render-cluster';
import { buildPemFiles } from './haproxy-pems';
import { proxyAvailable, runProxyCheck } from './proxy-check';
import type { Validation } from './result';
import { privateRoot, resolveBinary, scratchCertificatePem } from './sandbox';

export type { Validation } from './result';

/** One file as delivered: its path relative to the proxy's config directory, its exact bytes. */
export interface ShippedFile {
  readonly path: string;
  readonly content: string | Uint8Array;
}

/** In `secrets`, a name with this prefix is an ACME certificate file of the agent's directory (ProxyModel.acme.files). */
export const ACME_FILE_PREFIX = 'acme/';
/** In `secrets`, a name with this prefix is an error-page config the task mounts at PAGES_DIR (ProxyModel.pageConfigs). */
export const PAGE_FILE_PREFIX = 'page/';

/** What a check passes as `secrets` for a model: its secrets, its ACME files and its error-page configs. */
export function mountedFiles(model: { readonly secrets: readonly string[]; readonly acme?: { readonly files: readonly string[] }; readonly pageConfigs?: readonly string[] }): string[] {
  return [...model.secrets, ...(model.acme?.files ?? []).map((f) => `${ACME_FILE_PREFIX}${f}`), ...(model.pageConfigs ?? []).map((p) => `${PAGE_FILE_PREFIX}${p}`)];
}

export interface ValidateFilesOptions {
  /** Docker secrets the proxy task mounts (ProxyModel.secrets), and ACME files (ACME_FILE_PREFIX): a throw-away certificate stands in for each. */
  readonly secrets?: readonly string[];
  /** The proxy binary (a path or a name on PATH); default `nginx` / `haproxy`. */
  readonly bin?: string;
  readonly timeoutMs?: number;
}

/** Only plain relative paths inside the config directory may be written (the agent's rule too). */
export function safeRelativePath(p: string): string | undefined {
  if (p === '' || isAbsolute(p) || p.includes('\0')) return undefined;
  const n = normalize(p);
  return n.startsWith('..') || n === '.' ? undefined : n;
}

/** Where the proxy task reads the main file (rolling delivery's mount; hitless agents write the same bytes to their own directory). */
export function shippedConfigPath(kind: ProxyKind): string {
  return PROXY_RUNTIME[kind].configPath;
}

/**
 * Check `files` as the proxy of `kind` would load them. `ok: true` with `skipped` when the proxy
 * binary is not installed here or no private root can be made (see rootEntry); the proxy agents
 * still check before they reload.
 */
export function validateFiles(kind: ProxyKind, files: readonly ShippedFile[], o: ValidateFilesOptions = {}): Validation {
  const runtime = PROXY_RUNTIME[kind];
  const name = kind === 'haproxy' ? 'haproxy' : 'nginx';
  const binPath = resolveBinary(o.bin ?? name);
  if (binPath === undefined || !proxyAvailable(binPath)) return { ok: true, output: '', skipped: `${name} not installed here; the proxy validates on start` };
  const main = files.find((f) => f.path === runtime.mainFile);
  if (main === undefined) return { ok: false, output: `the configuration has no ${runtime.mainFile}` };
  const root = privateRoot(kind, binPath);
  if (typeof root === 'string') return { ok: true, output: '', skipped: `${root}; the proxy validates on start` };
  try {
    const configDir = dirname(shippedConfigPath(kind));
    for (const f of files) {
      const rel = safeRelativePath(f.path);
      if (rel === undefined) return { ok: false, output: `refusing to write outside the config directory: ${JSON.stringify(f.path)}` };
      root.write(join(configDir, rel), f.content);
    }
    const secretsDir = DEFAULT_NGINX_OPTIONS.secretsDir;
    const secrets = o.secrets ?? [];
    if (secrets.length > 0) {
      const pem = scratchCertificatePem();
      // Every certificate stand-in is the same bytes and mode: written once, linked under each name.
      let first: string | undefined;
      const writePem = (path: string): void => {
        if (first === undefined) {
          root.write(path, pem, 0o400);
          first = path;
        } else root.link(first, path);
      };
      for (const s of secrets) {
        const rel = safeRelativePath(s);
        if (rel === undefined) continue;
        // ACME certificates: files the agent writes in its own directory, not mounted secrets.
        const acme = rel.startsWith(ACME_FILE_PREFIX) ? rel.slice(ACME_FILE_PREFIX.length) : undefined;
        // Error pages: HAProxy reads them at load; a small page stands in for the mounted config.
        const page = rel.startsWith(PAGE_FILE_PREFIX) ? rel.slice(PAGE_FILE_PREFIX.length) : undefined;
        if (page !== undefined) {
          if (!page.includes('/')) root.write(pagePath(page), '<h1>page</h1>\n', 0o444);
        } else if (acme !== undefined && !acme.includes('/')) writePem(join(DEFAULT_NGINX_OPTIONS.acmeDir, acme));
        else if (!rel.includes('/')) writePem(join(secretsDir, rel));
      }
    }
    if (kind === 'haproxy') {
      const prepared = buildPemFiles(Buffer.from(main.content).toString('utf8'), DEFAULT_HAPROXY_OPTIONS.certDir, secretsDir, root.dir);
      if (!prepared.ok) return prepared;
      // Dynamic endpoints (ADR 0031): the agent writes the server-state file; an empty one (version line) stands in.
      root.write(haproxyDynamicPaths(DEFAULT_HAPROXY_OPTIONS.runtimeDir).stateFile, '1\n', 0o444);
    }
    return runProxyCheck(kind, { bin: binPath, configPath: shippedConfigPath(kind), enter: root.enter, ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}) });
  } finally {
    root.release();
  }
}

/** The identity of a check: proxy kind, mounted secrets and every file's path and bytes. */
export function checkKey(kind: ProxyKind, files: readonly ShippedFile[], secrets: readonly string[]): string {
  const h = createHash('sha256').update(kind).update('\0').update([...secrets].sort().join(',')).update('\0');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    const bytes = Buffer.from(f.content);
    h.update(f.path).update('\0').update(String(bytes.length)).update('\0').update(bytes);
  }
  return h.digest('hex');
}

export type FilesValidator = (kind: ProxyKind, files: readonly ShippedFile[], secrets: readonly string[]) => Validation;

/**
 * validateFiles once per distinct (kind, secrets, files): the same config is never checked twice.
 * Bounded, oldest first out: a long-running core sees a new config on every task change.
 */
export class ValidationCache {
  private readonly results = new Map<string, Validation>();

  constructor(
    private readonly validate: FilesValidator = (kind, files, secrets) => validateFiles(kind, files, { secrets }),
    private readonly kept = 64,
  ) {}

  /**
   * The result, and whether it was computed now (callers log a failure once). The endpoints file of
   * dynamic endpoints (ADR 0016) is not part of the check: NGINX's parser never reads it (the agent
   * pushes it; each line's format is guarded where it is rendered and again by the balancer), so a
   * task change, which changes only that file, costs no `nginx -t`.
   */
  check(kind: ProxyKind, all: readonly ShippedFile[], secrets: readonly string[]): { readonly validation: Validation; readonly fresh: boolean } {
    const files = all.filter((f) => f.path !== ENDPOINTS_FILE);
    const key = checkKey(kind, files, secrets);
    const known = this.results.get(key);
    if (known !== undefined) return { validation: known, fresh: false };
    const validation = this.validate(kind, files, secrets);
    this.results.set(key, validation);
    if (this.results.size > this.kept) this.results.delete(this.results.keys().next().value ?? '');
    return { validation, fresh: true };
  }
}
