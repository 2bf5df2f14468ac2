/** Render one ProxyModel to haproxy.cfg (HAProxy 2.6). Pure: same model and options ⇒ same bytes. */
import { PartialCacheWriter } from '../partial-cache-writer';
import type { ProxyModel } from '../../plan/model';
import { haproxyEscape } from './escape';
import { DEFAULT_HAPROXY_OPTIONS, type HaproxyRenderOptions } from './options';
import { HAPROXY_TEMPLATES } from './templates';
import { buildHaproxyView } from './view-model';
import { haproxyEndpointLine } from './dynamic-slots';

/** One writer per renderer: it keeps each partial's tokens per place of use (partial-cache-writer.ts). */
const writer = new PartialCacheWriter();

export { haproxyPemFiles, type HaproxyPemFile } from './pem-files';

export function renderHaproxy(model: ProxyModel, options: Partial<HaproxyRenderOptions> = {}): string {
  return renderHaproxyWithEndpoints(model, options).config;
}

/**
 * haproxy.cfg and, with dynamic endpoints (options.dynamicEndpoints, ADR 0031), the endpoints text
 * the agent puts into the backends' slots (one line per backend, sorted; "" with static servers).
 */
export function renderHaproxyWithEndpoints(model: ProxyModel, options: Partial<HaproxyRenderOptions> = {}): { config: string; endpoints: string } {
  const view = buildHaproxyView(model, { ...DEFAULT_HAPROXY_OPTIONS, ...options });
  const config = writer.render(HAPROXY_TEMPLATES.main, view, HAPROXY_TEMPLATES.partials, { escape: haproxyEscape });
  const lines = view.backends.filter((b) => b.members !== undefined).map(haproxyEndpointLine);
  return { config, endpoints: lines.length === 0 ? '' : `${lines.sort().join('\n')}\n` };
}
