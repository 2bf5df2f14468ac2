/**
 * Who a component is: its role and, for the per-cluster roles, its ServiceCluster. Encoded in the
 * certificate the core issues it as one SAN URI, `spiffe://swarmgate/<role>[/<cluster>]` (ADR 0012),
 * so the core reads the caller's identity from the verified TLS peer certificate on every call.
 */

/** core: the gRPC server; agent / extension: a proxy agent or extension of one cluster; reader: status only. */
export type ComponentRole = 'core' | 'agent' | 'extension' | 'reader';

export type Identity =
  | { readonly role: 'core' | 'reader' }
  | { readonly role: 'agent' | 'extension'; readonly cluster: string };

export const IDENTITY_URI_PREFIX = 'spiffe://swarmgate/';

/** ServiceCluster names are DNS labels (the cluster codec's rule). */
const CLUSTER_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export function isClusterName(s: string): boolean {
  return CLUSTER_RE.test(s);
}

export function identityUri(id: Identity): string {
  return `${IDENTITY_URI_PREFIX}${id.role}${'cluster' in id ? `/${id.cluster}` : ''}`;
}

/** The identity a URI names; undefined for anything else (another scheme, role or a malformed cluster). */
export function parseIdentityUri(uri: string): Identity | undefined {
  if (!uri.startsWith(IDENTITY_URI_PREFIX)) return undefined;
  const parts = uri.slice(IDENTITY_URI_PREFIX.length).split('/');
  const [role, cluster] = parts;
  if (parts.length === 1 && (role === 'core' || role === 'reader')) return { role };
  if (parts.length === 2 && (role === 'agent' || role === 'extension') && cluster !== undefined && isClusterName(cluster)) return { role, cluster };
  return undefined;
}

/** For logs and errors: "agent of cluster edge", "reader". */
export function describeIdentity(id: Identity): string {
  return 'cluster' in id ? `${id.role} of cluster ${id.cluster}` : id.role;
}
