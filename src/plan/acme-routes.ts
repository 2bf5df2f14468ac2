/**
 * Routes with `tls.certificate.issuer` (ACME) in the pure plan: which certificates the core must
 * order (acmeOrders), whether a route can be served yet (admitAcmeRoute), and the file names the
 * proxies find the certificate and key under. The key material itself never enters the model or
 * the rendered config: the model holds file names only; the core delivers the PEMs to the agents
 * of the clusters that serve the route (ADR 0013).
 */
import type { HostPattern } from '../domain/brands';
import { condition, type Condition } from '../domain/conditions';
import { solverFor, type IssuerSpec } from '../domain/issuer';
import type { IssuerObject, RouteObject } from '../domain/object';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import type { Stored } from './inputs';
import { uncoveredHosts } from './certificates';

/** An issued certificate as the plan sees it: the names it covers and the files the agents get. */
export interface IssuedCertificate {
  readonly dnsNames: readonly string[];
}

/** What the core's issuer knows, by route name. Absent from BuildOptions: no ACME route is served. */
export type AcmeCertificates = ReadonlyMap<string, IssuedCertificate>;

/** Directory where hitless NGINX agents keep ACME certificates and HTTP-01 tokens (a tmpfs in the task). */
export const ACME_DIR_IN_TASKS = '/run/swarmgate/acme';
/** Sub-directory of ACME_DIR_IN_TASKS with one file per pending HTTP-01 token. */
export const HTTP01_SUBDIR = 'http01';

/** The certificate and key file names of a route's ACME certificate in the agent's directory. */
export function acmeFileNames(route: string): { readonly cert: string; readonly key: string } {
  return { cert: `acme-${route}.crt`, key: `acme-${route}.key` };
}

/** One certificate the core must hold: for a route, from an issuer, covering these hosts, for these clusters. */
export interface AcmeOrder {
  readonly route: string;
  readonly issuer: string;
  readonly hosts: readonly HostPattern[];
  readonly cluster: string;
}

export function issuerOf(route: RouteObject): string | undefined {
  return route.spec.tls?.mode === 'Terminate' ? route.spec.tls.certificate?.issuer : undefined;
}

/**
 * Why a cluster cannot serve an ACME route, or undefined. HTTP-01 tokens and the certificates reach
 * a proxy through its agent's stream: hitless delivery, NGINX (token files) or HAProxy (a map the
 * agent updates through HAProxy's runtime API, ADR 0032).
 */
export function acmeClusterProblem(cluster: string, spec: ServiceClusterSpec): string | undefined {
  if (spec.proxy.delivery !== 'hitless') return `tls.certificate.issuer needs hitless delivery (the agents receive the certificate and the challenge tokens); service cluster "${cluster}" uses ${spec.proxy.delivery}`;
  return undefined;
}

/** The result of judging an ACME route before it is admitted: served with these TLS files, or left out with these conditions. */
export type AcmeAdmission =
  | { readonly kind: 'serve' }
  | { readonly kind: 'rejected'; readonly conditions: readonly Condition[] }
  | { readonly kind: 'pending'; readonly resolved: Condition };

/**
 * Whether an ACME route can be served now: its issuer exists and can prove every host (a wildcard
 * needs dns01), and the core holds a certificate covering every host. Otherwise the route is left
 * out (its hosts fall to the default server, which answers HTTP-01 for them) with a reason.
 */
export function admitAcmeRoute(route: RouteObject, issuers: ReadonlyMap<string, IssuerSpec>, clusterSpec: ServiceClusterSpec, certs: AcmeCertificates | undefined): AcmeAdmission {
  const name = issuerOf(route);
  if (name === undefined) return { kind: 'serve' };
  const clusterProblem = acmeClusterProblem(route.spec.serviceCluster, clusterSpec);
  if (clusterProblem !== undefined) return { kind: 'rejected', conditions: [condition('Accepted', 'False', 'UnsupportedValue', clusterProblem)] };
  const issuer = issuers.get(name);
  if (issuer === undefined) {
    const msg = `issuer "${name}" not found (apply an Issuer of that name); the route is not served until it exists`;
    return { kind: 'rejected', conditions: [condition('Accepted', 'True', 'Accepted', `accepted by service cluster "${route.spec.serviceCluster}"`), condition('ResolvedRefs', 'False', 'IssuerNotFound', msg), condition('CertificateReady', 'False', 'IssuerNotFound', msg)] };
  }
  const unprovable = route.spec.hosts.filter((h) => solverFor(issuer, h) === undefined);
  if (unprovable.length > 0) {
    const why = unprovable.map((h) => `"${h}"${h.startsWith('*.') ? ' (a wildcard needs a dns01 solver)' : ''}`).join(', ');
    return { kind: 'rejected', conditions: [condition('Accepted', 'False', 'UnsupportedValue', `issuer "${name}" has no solver for ${why}`)] };
  }
  const cert = certs?.get(route.metadata.name);
  const missing = cert === undefined ? route.spec.hosts : uncoveredHosts(cert.dnsNames, route.spec.hosts);
  if (missing.length > 0)
    return { kind: 'pending', resolved: condition('ResolvedRefs', 'False', 'CertificateNotFound', `certificate from issuer "${name}" not issued yet for ${missing.map((h) => `"${h}"`).join(', ')} (see CertificateReady); the route is served once it is`) };
  return { kind: 'serve' };
}

/** Valid Issuers by name. */
export function issuersByName(issuers: readonly Stored<IssuerObject>[] | undefined): ReadonlyMap<string, IssuerSpec> {
  return new Map((issuers ?? []).map((i) => [i.object.metadata.name, i.object.spec]));
}

/**
 * The certificates the core must hold: one per route with an issuer that its cluster accepted and
 * whose issuer exists (whatever the number of clusters' replicas serve it).
 */
export function acmeOrders(routes: readonly Stored<RouteObject>[], conditions: Readonly<Record<string, readonly Condition[]>>): AcmeOrder[] {
  const out: AcmeOrder[] = [];
  for (const { object: r } of routes) {
    const issuer = issuerOf(r);
    if (issuer === undefined) continue;
    const conds = conditions[`Route/${r.metadata.name}`] ?? [];
    if (conds.some((c) => c.type === 'Accepted' && c.status === 'False')) continue;
    if (conds.some((c) => c.reason === 'IssuerNotFound')) continue;
    out.push({ route: r.metadata.name, issuer, hosts: r.spec.hosts, cluster: r.spec.serviceCluster });
  }
  return out;
}
