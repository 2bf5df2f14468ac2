import { DEFAULT_DYNAMIC_ENDPOINTS, DEFAULT_NGINX_OPTIONS } from '../src/render/nginx/options';
import { renderNginxWithEndpoints } from '../src/render/nginx/render';
import { buildNginxViewAndEndpoints } from '../src/render/nginx/view-model';
import { desiredModel } from '../src/plan/desired-model';
import { probeRoute, scaleInputs, withDynamicDefault } from './lib/scale-inputs';
const opts = { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS };
for (const n of (process.env['N'] ?? '1000').split(',').map(Number)) {
  const s = scaleInputs(n);
  const specs = withDynamicDefault(s.inputs.desired);
  const models = [1, 2, 3, 4, 5, 6, 7, 8].map((k) => desiredModel({ specs: { ...specs, routes: [...specs.routes, probeRoute(s, k)] }, snapshot: s.inputs.snapshot }).result.clusters[0]!);
  renderNginxWithEndpoints(models[0]!, opts);
  renderNginxWithEndpoints(models[0]!, opts, 'whole');
  const r: Record<string, number[]> = { view: [], memo: [], whole: [] };
  for (let i = 1; i < models.length; i++) {
    const m = models[i]!;
    let t = performance.now(); buildNginxViewAndEndpoints(m, { ...DEFAULT_NGINX_OPTIONS, ...opts }); r.view!.push(performance.now() - t);
    t = performance.now(); renderNginxWithEndpoints(m, opts, 'whole'); r.whole!.push(performance.now() - t);
    t = performance.now(); renderNginxWithEndpoints(m, opts); r.memo!.push(performance.now() - t);
  }
  const mm = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return `${s[0]!.toFixed(0)} / ${s[Math.floor(s.length / 2)]!.toFixed(0)}`; };
  console.log(n, 'view', mm(r.view!), 'whole', mm(r.whole!), 'memo', mm(r.memo!));
}
