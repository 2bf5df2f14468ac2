/**
 * Cross-field rules of a Route for backend protocols and gRPC matches (docs/reference/route.md,
 * "gRPC"). NGINX chooses the upstream protocol per location (proxy_pass or grpc_pass), so every
 * backend of one rule speaks the same protocol.
 */
import type { Issue, PathSegment } from './issue';
import type { BackendProtocol, Rule, RouteSpec } from './route';

const at = (path: PathSegment[], message: string): Issue => ({ path: ['spec', ...path], message });

export const isGrpc = (p: BackendProtocol | undefined): boolean => p === 'grpc' || p === 'grpcs';

/** The one protocol of a rule's backends (absent: http); the checks below refuse a mix. */
export function ruleProtocol(rule: Rule): BackendProtocol {
  return rule.backends?.[0]?.protocol ?? 'http';
}

function ruleIssues(rule: Rule, i: number, passthrough: boolean): Issue[] {
  const out: Issue[] = [];
  const p = (...rest: PathSegment[]): PathSegment[] => ['rules', i, ...rest];
  const grpc = rule.match.grpc;
  if (grpc !== undefined) {
    if (rule.match.path !== undefined) out.push(at(p('match', 'grpc'), 'use either grpc (the path is /<service>/<method>) or path, not both'));
    if (rule.match.pathPrefix !== undefined) out.push(at(p('match', 'grpc'), 'use either grpc (the path is /<service>/<method>) or pathPrefix, not both'));
  }
  const backends = rule.backends ?? [];
  const first = backends[0]?.protocol ?? 'http';
  backends.forEach((b, j) => {
    const proto = b.protocol ?? 'http';
    if (proto !== first)
      out.push(at(p('backends', j, 'protocol'), `${proto} differs from backends[0]'s ${first}: the backends of one rule speak one protocol (split them into rules)`));
    if (passthrough && b.protocol !== undefined)
      out.push(at(p('backends', j, 'protocol'), 'not available with tls.mode Passthrough (the proxy forwards the client\'s TLS bytes as they are)'));
  });
  const tlsKey = JSON.stringify(backends[0]?.tls ?? null);
  backends.forEach((b, j) => {
    const tls = b.tls;
    if (tls === undefined) {
      if (j > 0 && tlsKey !== 'null') out.push(at(p('backends', j), 'backends[0] has tls and this one has none: the backends of one rule share one TLS setting'));
      return;
    }
    if (b.protocol !== 'https' && b.protocol !== 'grpcs') out.push(at(p('backends', j, 'tls'), 'only for protocol https or grpcs (TLS to the backend)'));
    if (tls.caSecret !== undefined && tls.serverName === undefined)
      out.push(at(p('backends', j, 'tls', 'serverName'), 'required with caSecret: the name the backend\'s certificate must carry (also sent as SNI)'));
    if (j > 0 && JSON.stringify(tls) !== tlsKey) out.push(at(p('backends', j, 'tls'), 'differs from backends[0].tls: the backends of one rule share one TLS setting (the proxy sets it per location)'));
  });
  if (backends.length > 0 && isGrpc(first)) {
    if (rule.websocket) out.push(at(p('websocket'), 'not available with grpc/grpcs backends (gRPC runs over HTTP/2 streams)'));
    if (rule.rewrite !== undefined) out.push(at(p('rewrite'), 'not available with grpc/grpcs backends (the path names the gRPC method)'));
  }
  if (grpc !== undefined && backends.length > 0 && !isGrpc(first))
    out.push(at(p('backends', 0, 'protocol'), 'a rule with a grpc match needs backends with protocol grpc or grpcs'));
  return out;
}

export function checkProtocols(spec: RouteSpec): Issue[] {
  const passthrough = spec.tls?.mode === 'Passthrough';
  return spec.rules.flatMap((rule, i) => ruleIssues(rule, i, passthrough));
}
