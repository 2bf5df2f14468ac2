/**
 * The NGINX side of dynamic endpoints (ADR 0016, lua-balancer.ts): the view fields of the balancer
 * and the endpoint lines the agent delivers instead of `upstream` blocks. Task churn changes only
 * these lines, never nginx.conf.
 */
import { durationMs } from '../../domain/brands';
import { DEFAULT_FAIL_TIMEOUT, DEFAULT_MAX_FAILS } from '../../domain/route';
import type { Upstream } from '../../plan/model';
import { balancerLua, ENDPOINT_LINE } from './lua-balancer';
import type { DynamicEndpointsOptions } from './options';
import type { NginxView } from './view-types';

/** Paths reach Lua source and NGINX syntax unquoted: only plain absolute paths are accepted. */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** `drainFlagPath`: with hitless delivery, the drain flag sg.draining() tests (ADR 0036). */
export function dynamicView(d: DynamicEndpointsOptions, unavailablePort: number, drainFlagPath?: string): NonNullable<NginxView['dynamic']> {
  for (const p of [d.endpointsPath, d.modulesDir, ...(drainFlagPath !== undefined ? [drainFlagPath] : [])]) if (!SAFE_PATH.test(p)) throw new Error(`dynamic endpoints: unsafe path ${JSON.stringify(p)}`);
  return {
    ndkModule: `${d.modulesDir}/ndk_http_module.so`,
    luaModule: `${d.modulesDir}/ngx_http_lua_module.so`,
    lua: balancerLua(unavailablePort, d.endpointsPath, drainFlagPath),
    controlPort: d.controlPort,
  };
}

/** `NAME MAX_FAILS FAIL_TIMEOUT AFFINITY_VARIABLE|- IP:PORT...`; `hashVariable` is the upstream's affinity key ($name) or undefined. */
export function endpointLine(u: Upstream, hashVariable: string | undefined): string {
  const [first] = u.servers;
  const maxFails = first?.maxFails ?? DEFAULT_MAX_FAILS;
  const failTimeout = durationMs(first?.failTimeout ?? DEFAULT_FAIL_TIMEOUT) / 1000;
  const peers = u.servers.map((s) => (s.ip.includes(':') ? `[${s.ip}]:${s.port}` : `${s.ip}:${s.port}`));
  const line = [u.name, String(maxFails), String(failTimeout), hashVariable?.replace(/^\$/, '') ?? '-', ...peers].join(' ');
  // Every part is generated or a checked brand; this guards the format the Lua side parses.
  if (!ENDPOINT_LINE.test(line)) throw new Error(`endpoint line does not match its format: ${line.slice(0, 200)}`);
  return line;
}
