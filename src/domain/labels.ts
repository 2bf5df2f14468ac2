/**
 * Every label key swarmgate reads or writes, in one place. Objects swarmgate creates carry
 * `io.swarmgate.owner`; it never touches Docker objects without it.
 */
export const LABELS = {
  owner: 'io.swarmgate.owner',
  /** What an owned object is for: "spec", "proxy-config", "proxy", "extension", "core", "tls" (gRPC API), "certificate" (tls apply). */
  role: 'io.swarmgate.role',
  kind: 'io.swarmgate.kind',
  name: 'io.swarmgate.name',
  generation: 'io.swarmgate.generation',
  specHash: 'io.swarmgate.spec-hash',
  /**
   * On proxy and extension services: SHA-256 of the task template and endpoint (what Swarm compares to
   * decide whether tasks are replaced), so a plan can say whether an update restarts the tasks.
   */
  taskHash: 'io.swarmgate.task-hash',
  /** Creation time of generation 1, carried to every later generation: conflicts are decided by age. */
  createdAt: 'io.swarmgate.created-at',
  /** JSON {observedGeneration, conditions}, written by the core only. */
  status: 'io.swarmgate.status',
  cluster: 'io.swarmgate.cluster',
  /** On TLS secrets: the set (one install or rotation) and which file of it the secret holds. */
  tlsSet: 'io.swarmgate.tls-set',
  tlsFile: 'io.swarmgate.tls-file',
  /** On component identity secrets (role "identity", ADR 0012): "agent" or "extension" (with cluster and tls-set), and the certificate's SHA-256 fingerprint. */
  identityRole: 'io.swarmgate.identity-role',
  identityFingerprint: 'io.swarmgate.identity-fingerprint',
  /** On proxy services: "rolling" or "hitless". */
  delivery: 'io.swarmgate.delivery',
  /** On proxy configs: the revision number within the cluster (previous max + 1 when it becomes current). */
  revision: 'io.swarmgate.revision',
  /**
   * On proxy configs: the routes the config was rendered from, sorted `name@generation` joined by ",";
   * `sha256:<hex>` of that list when it would exceed ROUTES_LABEL_MAX (see ADR 0007).
   */
  routes: 'io.swarmgate.routes',
  /** On proxy configs too large for one Swarm config (ADR 0029): "gzip", and in how many configs it is stored (this one and its parts). */
  encoding: 'io.swarmgate.encoding',
  parts: 'io.swarmgate.parts',
  /** On a part (2..n) of a proxy config stored in several configs: the name of the config it continues. */
  partOf: 'io.swarmgate.part-of',
  /** On the endpoint set a dynamic-endpoints proxy service mounts for booting without the core (ADR 0035): "true". */
  bootEndpoints: 'io.swarmgate.boot-endpoints',
  /** On proxy configs: how many routes the config contains. */
  routeCount: 'io.swarmgate.route-count',
  /**
   * On certificate secrets (`swarmgate tls apply`, role "certificate"): the logical name routes refer
   * to (tls.certificate.name), the version within the name (previous max + 1), which part of the pair
   * the secret holds ("cert" or "key"), the certificate's notAfter (ISO 8601, UTC) and the SHA-256 of
   * its DER form. All public: the pure plan reads them through the snapshot, and nothing about the
   * private key is ever put in a label.
   */
  certificate: 'io.swarmgate.certificate',
  certificateVersion: 'io.swarmgate.certificate-version',
  certificatePart: 'io.swarmgate.certificate-part',
  notAfter: 'io.swarmgate.not-after',
  /** On an ACME durable copy (ADR 0033): the certificate's notBefore (ISO 8601, UTC), for the copy refresh policy. */
  notBefore: 'io.swarmgate.not-before',
  fingerprint: 'io.swarmgate.fingerprint',
  /** On a certificate secret: the certificate's DNS names (subjectAltName), lower case, comma-separated. */
  dnsNames: 'io.swarmgate.dns-names',
  /** On a ServiceCluster spec config: the proxy config revision the cluster is rolled back to. */
  rollback: 'io.swarmgate.rollback',
  /** With `rollback`: fingerprint of the cluster's stored route generations when it was requested. */
  rollbackSpecs: 'io.swarmgate.rollback-specs',
  /** On a Route spec config: the rollout state of `spec.canary` (encodeRolloutState), written by the core only. */
  rollout: 'io.swarmgate.rollout',
  /** On a Route spec config: a pending rollout command JSON {id, command, at}, written by the CLI, removed by the core. */
  rolloutCommand: 'io.swarmgate.rollout-command',
  /** On a Route spec config: the core's verdict on the last command JSON {id, accepted, message}. */
  rolloutResult: 'io.swarmgate.rollout-result',
} as const;

export const OWNER_VALUE = 'swarmgate';
export type SpecRole = 'spec';
