/**
 * One entry point per proxy kind for whoever renders a cluster's model (the core's embedded
 * extension, the extension service, the CLI): which files the proxy reads. NGINX:
 * `nginx.conf`. HAProxy: `haproxy.cfg` (TLS certificates and keys are not files of the config: the
 * proxy agent builds the combined PEMs from its mounted secrets, see haproxyPemFiles). The check
 * they pass before delivery lives in src/validate/.
 */
import { effectiveEndpoints } from '../domain/service-cluster';
import type { ProxyModel, Upstream } from '../plan/model';
import type { ProxyKind } from '../plan/proxy-capabilities';
import { renderHaproxy, renderHaproxyWithEndpoints } from './haproxy/render';
import { DEFAULT_DYNAMIC_ENDPOINTS } from './nginx/options';
import { endpointLine } from './nginx/dynamic-endpoints';
import { renderNginx, renderNginxWithEndpoints } from './nginx/render';

export type { ProxyKind } from '../plan/proxy-capabilities';

/** The file a proxy of each kind starts from. */
export const MAIN_CONFIG_FILE: Readonly<Record<ProxyKind, string>> = { nginx: 'nginx.conf', haproxy: 'haproxy.cfg' };
/** Dynamic endpoints (ADR 0016, 0031): the endpoint lines the agent pushes to NGINX's balancer or HAProxy's slots, next to the config. */
export const ENDPOINTS_FILE = 'endpoints.txt';

/**
 * Dynamic endpoints apply with hitless delivery (an agent to push them), on NGINX and HAProxy; others
 * render Static. Without `proxy.endpoints` a hitless cluster is Dynamic (ADR 0039); buildModel fills the
 * value in (Static where agents cannot reach the core), so this reads what the model says.
 */
export function dynamicEndpoints(model: ProxyModel): boolean {
  const p = model.spec.proxy;
  return effectiveEndpoints(p) === 'Dynamic';
}

export interface RenderedFile {
  /** Relative to the proxy's config directory. */
  readonly path: string;
  readonly content: string;
}

export interface RenderedCluster {
  readonly kind: ProxyKind;
  /** Path of the file the proxy is started with (MAIN_CONFIG_FILE[kind]); always one of `files`. */
  readonly main: string;
  readonly files: readonly RenderedFile[];
  /**
   * Dynamic endpoints: the upstreams whose servers reach only ENDPOINTS_FILE, never the main file, so
   * a change of their servers alone leaves the main file's bytes as they are (src/plan/task-refresh.ts).
   * Absent: every upstream's servers may be in the main file.
   */
  readonly dynamicUpstreams?: ReadonlySet<string>;
}

/** Render a cluster's model for its proxy kind (model.spec.proxy.kind). Pure: same model ⇒ same bytes. */
export function renderCluster(model: ProxyModel): RenderedCluster {
  const kind = model.spec.proxy.kind;
  const main = MAIN_CONFIG_FILE[kind];
  if (dynamicEndpoints(model)) {
    if (kind === 'haproxy') {
      // HAProxy's endpoint lines have their own format: a task change renders it again (ADR 0030).
      const h = renderHaproxyWithEndpoints(model, { dynamicEndpoints: true });
      return { kind, main, files: [{ path: main, content: h.config }, { path: ENDPOINTS_FILE, content: h.endpoints }] };
    }
    const r = renderNginxWithEndpoints(model, { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS });
    return { kind, main, files: [{ path: main, content: r.config }, { path: ENDPOINTS_FILE, content: r.endpoints }], dynamicUpstreams: new Set(r.dynamicUpstreams) };
  }
  const content = kind === 'haproxy' ? renderHaproxy(model) : renderNginx(model);
  return { kind, main, files: [{ path: main, content }] };
}

/**
 * `rendered` with the endpoint lines of `upstreams` (all in rendered.dynamicUpstreams) rewritten for
 * their current servers, every other byte as it was: what renderCluster gives for a model that differs
 * from the rendered one only in those upstreams' servers. The line keeps its affinity field (the
 * balancer's hash variable, chosen by the upstream's affinity, not its servers); the rest is endpointLine's.
 * Undefined when an upstream has no line or is not dynamic (the caller renders again).
 */
export function withEndpointServers(rendered: RenderedCluster, upstreams: readonly Upstream[]): RenderedCluster | undefined {
  const dynamic = rendered.dynamicUpstreams;
  const file = rendered.files.find((f) => f.path === ENDPOINTS_FILE);
  if (dynamic === undefined || file === undefined) return undefined;
  // Each line found by a search of the text (names are unique, one line each), not by splitting
  // every line: a task change rewrites a few lines of a file with one per upstream (ADR 0038).
  let content = file.content;
  for (const u of upstreams) {
    if (!dynamic.has(u.name)) return undefined;
    const start = lineOf(content, u.name);
    if (start < 0) return undefined;
    const next = content.indexOf('\n', start);
    const end = next < 0 ? content.length : next;
    const hash = content.slice(start, end).split(' ', 4)[3];
    // In place: the lines are sorted, and a name followed by a space orders a line whatever follows,
    // since " " sorts before every character a name has; so the new line keeps its place.
    content = content.slice(0, start) + endpointLine(u, hash === undefined || hash === '-' ? undefined : hash) + content.slice(end);
  }
  return { ...rendered, files: rendered.files.map((f) => (f.path === ENDPOINTS_FILE ? { path: f.path, content } : f)) };
}

/** Where the line of upstream `name` starts in an endpoints file's text (-1: none). */
function lineOf(text: string, name: string): number {
  const key = `${name} `;
  if (text.startsWith(key)) return 0;
  const at = text.indexOf(`\n${key}`);
  return at < 0 ? -1 : at + 1;
}
