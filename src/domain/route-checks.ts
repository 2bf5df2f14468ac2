/**
 * Cross-field rules of a Route that a field-by-field decoder cannot see.
 * Each returns issues with paths relative to the object, so they print like decode errors.
 */
import { checkCanary } from './canary-checks';
import { checkProtocols } from './protocol-checks';
import { duplicateRefIssues } from './middleware';
import type { Issue, PathSegment } from './issue';
import { CLIENT_CERT_HEADER_NAMES, type Certificate, type Rule, type RouteSpec } from './route';
import { zeroTimeoutIssues } from './service-cluster';

/** "/api/" and "/api" are the same prefix (whole-segment matching); "/" stays "/". */
export function normalisePrefix(p: string): string {
  return p.length > 1 ? p.replace(/\/+$/, '') || '/' : p;
}

type Check = (spec: RouteSpec) => Issue[];

const at = (path: PathSegment[], message: string): Issue => ({ path: ['spec', ...path], message });

function duplicates<T>(items: readonly T[], key: (t: T) => string): [number, number][] {
  const seen = new Map<string, number>();
  const out: [number, number][] = [];
  items.forEach((item, i) => {
    const k = key(item);
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else out.push([i, first]);
  });
  return out;
}

const uniqueHosts: Check = (spec) =>
  duplicates(spec.hosts, (h) => h).map(([i, first]) => at(['hosts', i], `duplicate host "${spec.hosts[i]}" (already at spec.hosts[${first}])`));

const tlsShape: Check = (spec) => {
  const tls = spec.tls;
  if (tls === undefined) return [];
  const out: Issue[] = [];
  if (tls.mode === 'Terminate' && tls.certificate === undefined)
    out.push(at(['tls', 'certificate'], 'required when tls.mode is Terminate (certSecret and keySecret name Docker secrets)'));
  if (tls.certificate !== undefined && tls.mode === 'Terminate') out.push(...certificateForm(tls.certificate));
  if (tls.mode === 'Passthrough') {
    if (tls.certificate !== undefined) out.push(at(['tls', 'certificate'], 'not used with tls.mode Passthrough: the backend terminates TLS'));
    if (tls.redirectHTTP) out.push(at(['tls', 'redirectHTTP'], 'not available with tls.mode Passthrough: the route has no HTTP server'));
    if (tls.clientCertificate !== undefined)
      out.push(at(['tls', 'clientCertificate'], 'not available with tls.mode Passthrough: the proxy does not terminate TLS, so the backend must ask for client certificates itself'));
    if (spec.defaultBackend) out.push(at(['defaultBackend'], 'not available with tls.mode Passthrough'));
    if (spec.rules.length !== 1) out.push(at(['rules'], `tls.mode Passthrough takes exactly one rule, got ${spec.rules.length}`));
    if (spec.middlewares !== undefined) out.push(at(['middlewares'], 'not available with tls.mode Passthrough (the proxy never sees the HTTP requests)'));
  }
  return out;
};

/** Exactly one form: a stored certificate's name, an Issuer's name (ACME), or both secrets. */
export function certificateForm(cert: Certificate): Issue[] {
  const p = (field?: string): PathSegment[] => ['tls', 'certificate', ...(field !== undefined ? [field] : [])];
  const secrets = cert.certSecret !== undefined || cert.keySecret !== undefined;
  const forms = [cert.name !== undefined, cert.issuer !== undefined, secrets].filter(Boolean).length;
  const which = 'name (a certificate stored with swarmgate tls apply), issuer (an Issuer that orders one by ACME) or certSecret and keySecret (Docker secrets)';
  if (forms > 1 && cert.issuer !== undefined) return [at(p('issuer'), `use one of ${which}, not several`)];
  if (forms > 1) return [at(p(cert.certSecret !== undefined ? 'certSecret' : 'keySecret'), 'use either name (a certificate stored with swarmgate tls apply) or certSecret and keySecret, not both')];
  if (forms === 0) return [at(p(), `expected ${which}`)];
  if (cert.name !== undefined || cert.issuer !== undefined) return [];
  if (cert.certSecret === undefined) return [at(p('certSecret'), 'required with keySecret (the Docker secret holding the certificate)')];
  if (cert.keySecret === undefined) return [at(p('keySecret'), 'required with certSecret (the Docker secret holding the private key)')];
  return [];
}

/** Fields a Passthrough rule cannot honour: the proxy never decrypts, so it sees no path, header or method. */
function passthroughRuleIssues(rule: Rule, i: number): Issue[] {
  const why = 'not available with tls.mode Passthrough (traffic is routed by SNI without decryption)';
  const out: Issue[] = [];
  const m = rule.match;
  if (m.pathPrefix !== undefined && m.pathPrefix !== '/') out.push(at(['rules', i, 'match', 'pathPrefix'], why));
  if (m.path !== undefined) out.push(at(['rules', i, 'match', 'path'], why));
  if (m.headers.length > 0) out.push(at(['rules', i, 'match', 'headers'], why));
  if (m.cookies.length > 0) out.push(at(['rules', i, 'match', 'cookies'], why));
  if (m.methods.length > 0) out.push(at(['rules', i, 'match', 'methods'], why));
  for (const field of ['rewrite', 'redirect', 'timeouts', 'retries', 'requestHeaders', 'responseHeaders', 'middlewares'] as const) {
    if (rule[field] !== undefined) out.push(at(['rules', i, field], why));
  }
  if (rule.websocket) out.push(at(['rules', i, 'websocket'], why));
  if (rule.sessionAffinity?.cookie !== undefined) out.push(at(['rules', i, 'sessionAffinity', 'cookie'], why));
  return out;
}

function ruleIssues(rule: Rule, i: number): Issue[] {
  const out: Issue[] = [];
  const p = (...rest: PathSegment[]): PathSegment[] => ['rules', i, ...rest];
  if (rule.backends === undefined && rule.redirect === undefined) out.push(at(p(), 'a rule needs either backends or redirect'));
  if (rule.backends !== undefined && rule.redirect !== undefined) out.push(at(p('redirect'), 'a rule has either backends or redirect, not both'));
  if (rule.match.path !== undefined && rule.match.pathPrefix !== undefined)
    out.push(at(p('match', 'path'), 'use either path (exact) or pathPrefix, not both'));
  for (const [j, first] of duplicates(rule.match.headers, (h) => h.name.toLowerCase()))
    out.push(at(p('match', 'headers', j, 'name'), `duplicate header match (already at headers[${first}])`));
  for (const [j, first] of duplicates(rule.match.cookies, (c) => c.name))
    out.push(at(p('match', 'cookies', j, 'name'), `duplicate cookie match (already at cookies[${first}])`));
  for (const [j, first] of duplicates(rule.match.methods, (m) => m)) out.push(at(p('match', 'methods', j), `duplicate method (already at methods[${first}])`));
  if (rule.rewrite !== undefined) {
    if (rule.redirect !== undefined) out.push(at(p('rewrite'), 'a redirect rule cannot rewrite; put the target path in redirect'));
    if (rule.rewrite.stripPrefix === true && rule.rewrite.replacePrefix !== undefined)
      out.push(at(p('rewrite', 'replacePrefix'), 'use either stripPrefix or replacePrefix, not both'));
    if (rule.rewrite.stripPrefix !== true && rule.rewrite.replacePrefix === undefined)
      out.push(at(p('rewrite'), 'expected stripPrefix: true or replacePrefix: /path (a rewrite that changes nothing is a mistake)'));
  }
  if (rule.redirect !== undefined) {
    const r = rule.redirect;
    const parts = r.scheme !== undefined || r.host !== undefined || r.port !== undefined || r.path !== undefined;
    if (r.to !== undefined && parts) out.push(at(p('redirect', 'to'), 'use either to (a full URL) or scheme/host/port/path, not both'));
    if (r.to === undefined && !parts) out.push(at(p('redirect'), 'expected to (a full URL) or at least one of scheme, host, port, path'));
    for (const field of ['timeouts', 'retries', 'sessionAffinity', 'requestHeaders', 'split'] as const) {
      if (rule[field] !== undefined) out.push(at(p(field), 'only for rules with backends (this rule redirects)'));
    }
    if (rule.websocket) out.push(at(p('websocket'), 'only for rules with backends (this rule redirects)'));
    if ((rule.responseHeaders?.remove.length ?? 0) > 0)
      out.push(at(p('responseHeaders', 'remove'), 'a redirect has no upstream response to remove headers from; use set or add'));
  }
  if (rule.backends !== undefined) {
    for (const [j, first] of duplicates(rule.backends, (b) => `${b.service}:${b.port}:${b.network ?? ''}:${b.mode}`))
      out.push(at(p('backends', j), `duplicate backend (same service, port, mode and network as backends[${first}])`));
    rule.backends.forEach((b, j) => {
      // Said rather than ignored: a network here means the author expects overlay routing.
      if (b.mode === 'host' && b.network !== undefined)
        out.push(at(p('backends', j, 'network'), 'mode: host reaches the tasks on their nodes\' addresses, not over an overlay network; remove network or use mode: task'));
    });
    if (rule.split === 'Tasks')
      rule.backends.forEach((b, j) => {
        if (b.weight > 1) out.push(at(p('backends', j, 'weight'), `expected 0 (left out of the pool) or 1 with split: Tasks (shares follow task counts), got ${b.weight}`));
      });
  }
  for (const issue of zeroTimeoutIssues(rule.timeouts, ['rules', i, 'timeouts'])) out.push(at(issue.path, issue.message));
  const aff = rule.sessionAffinity;
  if (aff !== undefined) {
    if (aff.cookie !== undefined && aff.clientIP === true) out.push(at(p('sessionAffinity'), 'use either cookie or clientIP, not both'));
    if (aff.cookie === undefined && aff.clientIP !== true) out.push(at(p('sessionAffinity'), 'expected cookie: {name, ttl} or clientIP: true'));
  }
  for (const side of ['requestHeaders', 'responseHeaders'] as const) {
    const edits = rule[side];
    if (edits === undefined) continue;
    for (const [j, first] of duplicates(edits.set, (h) => h.name.toLowerCase()))
      out.push(at(p(side, 'set', j, 'name'), `header set twice (already at set[${first}])`));
    edits.remove.forEach((name, j) => {
      if (edits.set.some((h) => h.name.toLowerCase() === name.toLowerCase()) || edits.add.some((h) => h.name.toLowerCase() === name.toLowerCase()))
        out.push(at(p(side, 'remove', j), `header "${name}" is both removed and set/added`));
    });
  }
  return out;
}

const rules: Check = (spec) =>
  spec.rules.flatMap((rule, i) => [...ruleIssues(rule, i), ...(spec.tls?.mode === 'Passthrough' ? passthroughRuleIssues(rule, i) : [])]);

const matchUnique: Check = (spec) =>
  duplicates(spec.rules, (r) =>
    JSON.stringify([r.match.grpc ?? null, r.match.path ?? null, r.match.path === undefined ? normalisePrefix(r.match.pathPrefix ?? '/') : null, [...r.match.headers].map((h) => `${h.name.toLowerCase()}=${h.value}`).sort(), [...r.match.methods].sort(), [...r.match.cookies].map((c) => `${c.name}=${c.value}`).sort()]),
  ).map(([i, first]) => at(['rules', i, 'match'], `same match as rules[${first}]; the second rule could never be used`));

const middlewareRefs: Check = (spec) => [
  ...duplicateRefIssues(spec.middlewares, ['spec', 'middlewares']),
  ...spec.rules.flatMap((r, i) => duplicateRefIssues(r.middlewares, ['spec', 'rules', i, 'middlewares'])),
];

/** The X-Client-Cert-* headers are the proxy's word about the client certificate: a rule may not edit them. */
const clientCertHeaders: Check = (spec) => {
  if (spec.tls?.clientCertificate === undefined) return [];
  const out: Issue[] = [];
  spec.rules.forEach((rule, i) => {
    const edits = rule.requestHeaders;
    if (edits === undefined) return;
    const named: [string, readonly { name: string }[]][] = [['set', edits.set], ['add', edits.add], ['remove', edits.remove.map((name) => ({ name }))]];
    for (const [verb, list] of named)
      list.forEach((h, j) => {
        if (CLIENT_CERT_HEADER_NAMES.some((n) => n.toLowerCase() === h.name.toLowerCase()))
          out.push(at(['rules', i, 'requestHeaders', verb, j], `"${h.name}" is set by the proxy from the client certificate (tls.clientCertificate); a rule cannot edit it`));
      });
  });
  return out;
};

const CHECKS: readonly Check[] = [uniqueHosts, tlsShape, rules, matchUnique, checkCanary, middlewareRefs, checkProtocols, clientCertHeaders];

export function checkRoute(spec: RouteSpec): Issue[] {
  return CHECKS.flatMap((check) => check(spec));
}
