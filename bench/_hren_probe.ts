import { desiredModel } from '../src/plan/desired-model';
import { DEFAULT_DYNAMIC_ENDPOINTS } from '../src/render/nginx/options';
import { lastNginxFragments, renderNginxWithEndpoints } from '../src/render/nginx/render';
import { probeRoute, scaleInputs, withDynamicDefault } from './lib/scale-inputs';
const n = Number(process.env['N'] ?? 1000);
const s = scaleInputs(n);
const specs = withDynamicDefault(s.inputs.desired);
const model = (routes: typeof specs.routes) => desiredModel({ specs: { ...specs, routes }, snapshot: s.inputs.snapshot }).result.clusters.find((c) => c.cluster === 'default')!;
const options = { dynamicEndpoints: DEFAULT_DYNAMIC_ENDPOINTS };
let routes = specs.routes;
renderNginxWithEndpoints(model(routes), options);
for (let k = 1; k <= Number(process.env['RUNS'] ?? 8); k++) {
  routes = [...routes, probeRoute(s, k)];
  const m = model(routes);
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  const t0 = cpu();
  renderNginxWithEndpoints(m, options);
  const t1 = cpu();
  const f = lastNginxFragments();
  // steady: same model again
  const t2 = cpu();
  renderNginxWithEndpoints(m, options);
  const t3 = cpu();
  console.log(`change ${k}: ${(t1 - t0).toFixed(1)} ms (hosts ${f.hosts.hits}/${f.hosts.misses}, frags ${f.hits}/${f.misses}); same model again ${(t3 - t2).toFixed(1)} ms`);
}
