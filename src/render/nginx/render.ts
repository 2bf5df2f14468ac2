/** Render one ProxyModel to nginx.conf. Pure: same model and options ⇒ same bytes. */
import Mustache from 'mustache';
import type { ProxyModel } from '../../plan/model';
import { nginxEscape } from './escape';
import { DEFAULT_NGINX_OPTIONS, type NginxRenderOptions } from './options';
import { NGINX_TEMPLATES } from './templates';
import { buildNginxView } from './view-model';

export function renderNginx(model: ProxyModel, options: Partial<NginxRenderOptions> = {}): string {
  const view = buildNginxView(model, { ...DEFAULT_NGINX_OPTIONS, ...options });
  return Mustache.render(NGINX_TEMPLATES.main, view, NGINX_TEMPLATES.partials, { escape: nginxEscape });
}
