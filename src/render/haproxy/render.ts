/** Render one ProxyModel to haproxy.cfg (HAProxy 2.6). Pure: same model and options ⇒ same bytes. */
import Mustache from 'mustache';
import type { ProxyModel } from '../../plan/model';
import { haproxyEscape } from './escape';
import { DEFAULT_HAPROXY_OPTIONS, type HaproxyRenderOptions } from './options';
import { HAPROXY_TEMPLATES } from './templates';
import { buildHaproxyView } from './view-model';

export { haproxyPemFiles, type HaproxyPemFile } from './pem-files';

export function renderHaproxy(model: ProxyModel, options: Partial<HaproxyRenderOptions> = {}): string {
  const view = buildHaproxyView(model, { ...DEFAULT_HAPROXY_OPTIONS, ...options });
  return Mustache.render(HAPROXY_TEMPLATES.main, view, HAPROXY_TEMPLATES.partials, { escape: haproxyEscape });
}
