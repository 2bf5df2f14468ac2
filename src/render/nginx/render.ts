/** Render one ProxyModel to nginx.conf. Pure: same model and options ⇒ same bytes. */
import { FragmentMemo } from '../fragment-memo';
import { PartialCacheWriter } from '../partial-cache-writer';
import type { ProxyModel } from '../../plan/model';
import { nginxEscape } from './escape';
import { DEFAULT_NGINX_OPTIONS, type NginxRenderOptions } from './options';
import { NGINX_TEMPLATES } from './templates';
import { buildNginxViewAndEndpoints } from './view-model';
import { HostViewMemo } from './host-view-memo';

/**
 * One writer per renderer: it keeps each partial's tokens per place of use (partial-cache-writer.ts),
 * and each `server` block's text between renders of a cluster (fragment-memo.ts, ADR 0034).
 */
const writer = new PartialCacheWriter(
  new Set(['server']),
  new FragmentMemo((server) => `${String(server['serverName'])} ${String(server['listenHttp'])} ${String(server['tlsListener'])}`),
  // The config-wide maps' entries: set by the hosts' views, so a kept host's entries are the same objects (ADR 0043, 0048).
  new Set(['splits', 'headerMaps', 'methodMaps', 'combineMaps', 'cookieKeyMaps', 'setCookieMaps', 'cookieTokenMaps', 'stickySplits', 'addHeaderMaps']),
);
/** The hosts' views between renders of a cluster (host-view-memo.ts, ADR 0043), scoped like the writer's fragments. */
const hostViews = new HostViewMemo();
/** Without memoised fragments: the reference the memoised render must equal byte for byte (tests, benchmark). */
const wholeWriter = new PartialCacheWriter();

/** How many `server` blocks the last memoised render reused (hits) and rendered (misses); `hosts`: the same for the hosts' views. */
export function lastNginxFragments(): { readonly hits: number; readonly misses: number; readonly hosts: { readonly hits: number; readonly misses: number } } {
  return { hits: writer.memo.hits, misses: writer.memo.misses, hosts: { hits: hostViews.hits, misses: hostViews.misses } };
}

export function renderNginx(model: ProxyModel, options: Partial<NginxRenderOptions> = {}): string {
  return renderNginxWithEndpoints(model, options).config;
}

/**
 * nginx.conf and, with dynamic endpoints (options.dynamicEndpoints), the endpoints text the agent
 * delivers to the balancer (one line per HTTP upstream, sorted; "" with static upstreams).
 */
export function renderNginxWithEndpoints(model: ProxyModel, options: Partial<NginxRenderOptions> = {}, memo: 'memo' | 'whole' = 'memo'): { config: string; endpoints: string; dynamicUpstreams: readonly string[] } {
  const opts = { ...DEFAULT_NGINX_OPTIONS, ...options };
  if (memo === 'whole') {
    const { view, endpoints, dynamicUpstreams } = buildNginxViewAndEndpoints(model, opts);
    return { config: wholeWriter.render(NGINX_TEMPLATES.main, view, NGINX_TEMPLATES.partials, { escape: nginxEscape }), endpoints: endpointsText(endpoints), dynamicUpstreams };
  }
  // The scope only bounds what is kept (one cluster's last render per options); the hosts' and fragments' keys are their whole input.
  const scope = `${model.cluster}\u0000${JSON.stringify(opts)}`;
  const { view, endpoints, dynamicUpstreams } = buildNginxViewAndEndpoints(model, opts, hostViews);
  const config = writer.renderScoped(scope, NGINX_TEMPLATES.main, view, NGINX_TEMPLATES.partials, { escape: nginxEscape });
  return { config, endpoints: endpointsText(endpoints), dynamicUpstreams };
}

/** The endpoints file: the lines sorted, one per line ("" with none). */
export function endpointsText(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${[...lines].sort().join('\n')}\n`;
}
