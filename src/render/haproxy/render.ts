/** Render one ProxyModel to haproxy.cfg (HAProxy 2.6). Pure: same model and options ⇒ same bytes. */
import { PartialCacheWriter } from '../partial-cache-writer';
import type { ProxyModel } from '../../plan/model';
import { haproxyEscape } from './escape';
import { DEFAULT_HAPROXY_OPTIONS, type HaproxyRenderOptions } from './options';
import { HAPROXY_TEMPLATES } from './templates';
import { buildHaproxyView } from './view-model';

/** One writer per renderer: it keeps each partial's tokens per place of use (partial-cache-writer.ts). */
const writer = new PartialCacheWriter();

export { haproxyPemFiles, type HaproxyPemFile } from './pem-files';

export function renderHaproxy(model: ProxyModel, options: Partial<HaproxyRenderOptions> = {}): string {
  const view = buildHaproxyView(model, { ...DEFAULT_HAPROXY_OPTIONS, ...options });
  return writer.render(HAPROXY_TEMPLATES.main, view, HAPROXY_TEMPLATES.partials, { escape: haproxyEscape });
}
