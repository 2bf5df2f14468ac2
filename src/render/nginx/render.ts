/** Render one ProxyModel to nginx.conf. Pure: same model and options ⇒ same bytes. */
import { PartialCacheWriter } from '../partial-cache-writer';
import type { ProxyModel } from '../../plan/model';
import { nginxEscape } from './escape';
import { DEFAULT_NGINX_OPTIONS, type NginxRenderOptions } from './options';
import { NGINX_TEMPLATES } from './templates';
import { buildNginxViewAndEndpoints } from './view-model';

/** One writer per renderer: it keeps each partial's tokens per place of use (partial-cache-writer.ts). */
const writer = new PartialCacheWriter();

export function renderNginx(model: ProxyModel, options: Partial<NginxRenderOptions> = {}): string {
  return renderNginxWithEndpoints(model, options).config;
}

/**
 * nginx.conf and, with dynamic endpoints (options.dynamicEndpoints), the endpoints text the agent
 * delivers to the balancer (one line per HTTP upstream, sorted; "" with static upstreams).
 */
export function renderNginxWithEndpoints(model: ProxyModel, options: Partial<NginxRenderOptions> = {}): { config: string; endpoints: string; dynamicUpstreams: readonly string[] } {
  const { view, endpoints, dynamicUpstreams } = buildNginxViewAndEndpoints(model, { ...DEFAULT_NGINX_OPTIONS, ...options });
  const config = writer.render(NGINX_TEMPLATES.main, view, NGINX_TEMPLATES.partials, { escape: nginxEscape });
  return { config, endpoints: endpointsText(endpoints), dynamicUpstreams };
}

/** The endpoints file: the lines sorted, one per line ("" with none). */
export function endpointsText(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `${[...lines].sort().join('\n')}\n`;
}
