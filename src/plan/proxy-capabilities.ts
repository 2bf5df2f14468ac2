/**
 * What each proxy kind can express. Decided here, in the pure plan, so a route the ServiceCluster's
 * proxy cannot serve as written is rejected by buildModel (Accepted=False, reason UnsupportedValue)
 * and left out of the model: never half-served. The renderers can then trust the model: every
 * rule in it has an equivalent in their configuration language.
 *
 * HAProxy 2.6 (src/render/haproxy/) cannot express, per proxied rule:
 * - `retries.on: http_429`: `retry-on` takes the statuses 401, 403, 404, 408, 425 and 500–504 only.
 * - `timeouts.read` and `timeouts.send` both set on the rule, to different values: HAProxy has one
 *   server-side inactivity timeout (`timeout server`) for both directions.
 *   Only the explicit pair is rejected. When one or both come from the ServiceCluster's
 *   `defaults.timeouts` the rule is accepted and HAProxy uses the larger of the two, so a cluster
 *   whose defaults differ (or a rule that only lengthens `read`) never loses its routes; the
 *   docs/reference/service-cluster.md ("HAProxy") documents it.
 * Everything else in a model has an HAProxy equivalent (see src/render/haproxy/view-model.ts).
 *
 * NGINX has one limit the model must respect: at most MAX_NGINX_CONDITIONAL_RULES header/method
 * matched rules per host (docs/adr/0003-nginx-config-layout.md); HAProxy has none.
 */
import { durationMs } from '../domain/brands';
import { formatPath, type Issue, type PathSegment } from '../domain/issue';
import type { RouteObject } from '../domain/object';
import type { ServiceClusterSpec } from '../domain/service-cluster';

export type ProxyKind = ServiceClusterSpec['proxy']['kind'];

/**
 * Header/method-conditioned rules per host. NGINX dispatches them with error_page codes 460–493
 * (see docs/adr/0003-nginx-config-layout.md), so a location can jump to at most 34 of them.
 */
export const MAX_NGINX_CONDITIONAL_RULES = 34;

export interface ProxyCapabilities {
  /** Header/method-matched rules one host may have; absent: no limit. */
  readonly maxConditionalRulesPerHost?: number;
}

export const PROXY_CAPABILITIES: Readonly<Record<ProxyKind, ProxyCapabilities>> = {
  nginx: { maxConditionalRulesPerHost: MAX_NGINX_CONDITIONAL_RULES },
  haproxy: {},
};

/** One value of a Route a proxy kind cannot serve (an Issue, so it reads like every other error). */
export interface UnsupportedValue extends Issue {
  /** Route name. */
  readonly route: string;
  /** `path` as users read it, e.g. `spec.rules[1].timeouts.send`. */
  readonly field: string;
}

function haproxyUnsupportedValues(route: RouteObject): UnsupportedValue[] {
  // A passthrough route's rule has no HTTP settings (cross-field rules), and redirect rules proxy nothing.
  if (route.spec.tls?.mode === 'Passthrough') return [];
  const out: UnsupportedValue[] = [];
  route.spec.rules.forEach((rule, i) => {
    if (rule.redirect !== undefined) return;
    const at = (...rest: string[]): Pick<UnsupportedValue, 'route' | 'path' | 'field'> => {
      const path: PathSegment[] = ['spec', 'rules', i, ...rest];
      return { route: route.metadata.name, path, field: formatPath(path) };
    };
    if (rule.retries?.on.includes('http_429') === true)
      out.push({
        ...at('retries', 'on'),
        message: 'http_429 cannot be retried (HAProxy 2.6 retries on statuses 401, 403, 404, 408, 425 and 500-504 only)',
      });
    const read = rule.timeouts?.read;
    const send = rule.timeouts?.send;
    if (read !== undefined && send !== undefined && durationMs(read) !== durationMs(send))
      out.push({
        ...at('timeouts', 'send'),
        message: `send timeout ${send} differs from read timeout ${read}; HAProxy has one server-side inactivity timeout for both directions: set them equal or leave one out (then the larger applies)`,
      });
  });
  return out;
}

/**
 * NGINX 1.22 builds grpc_set_header / grpc_hide_header names into a hash of fixed 64-byte buckets
 * (there is no grpc_headers_hash_bucket_size, unlike proxy_*): names longer than this fail nginx -t.
 */
export const NGINX_GRPC_HEADER_NAME_MAX = 46;

function nginxUnsupportedValues(route: RouteObject): UnsupportedValue[] {
  const out: UnsupportedValue[] = [];
  route.spec.rules.forEach((rule, i) => {
    const protocol = rule.backends?.[0]?.protocol;
    if (protocol !== 'grpc' && protocol !== 'grpcs') return;
    const named: [string, readonly string[]][] = [
      ['requestHeaders', [...(rule.requestHeaders?.set ?? []).map((h) => h.name), ...(rule.requestHeaders?.add ?? []).map((h) => h.name), ...(rule.requestHeaders?.remove ?? [])]],
      ['responseHeaders', [...(rule.responseHeaders?.set ?? []).map((h) => h.name), ...(rule.responseHeaders?.remove ?? [])]],
    ];
    for (const [side, names] of named) {
      const long = names.find((n) => n.length > NGINX_GRPC_HEADER_NAME_MAX);
      if (long === undefined) continue;
      const path: PathSegment[] = ['spec', 'rules', i, side];
      out.push({ route: route.metadata.name, path, field: formatPath(path), message: `header name "${long}" is longer than ${NGINX_GRPC_HEADER_NAME_MAX} characters, which NGINX 1.22 cannot set or hide on a grpc/grpcs rule (grpc_set_header's hash has fixed buckets)` });
    }
  });
  return out;
}

/** The values of `route` a proxy of `kind` cannot serve, in field order; empty: it can serve all of it. */
export function unsupportedValues(kind: ProxyKind, route: RouteObject): UnsupportedValue[] {
  return kind === 'haproxy' ? haproxyUnsupportedValues(route) : nginxUnsupportedValues(route);
}

/**
 * `proxy.endpoints: Dynamic` needs an agent to push the endpoint set: NGINX's Lua balancer (ADR
 * 0016) or HAProxy's runtime API (ADR 0031), with hitless delivery. A rolling cluster has no
 * agent. Such a cluster is not silently rendered Static:
 * its Accepted condition says so (UnsupportedValue), while its proxies keep serving with static
 * upstreams. Undefined when the spec asks for Static or can have Dynamic.
 */
export function dynamicEndpointsProblem(spec: ServiceClusterSpec): string | undefined {
  const p = spec.proxy;
  if (p.endpoints !== 'Dynamic') return undefined;
  const why = p.delivery !== 'hitless' ? `proxy.delivery ${p.delivery} (no proxy agent to push the endpoints; use proxy.delivery hitless)` : undefined;
  return why === undefined
    ? undefined
    : `spec.proxy.endpoints: Dynamic is not supported with ${why}; the proxies serve with Static endpoints (a server or upstream entry per task, a reload per task change) until the spec changes`;
}
