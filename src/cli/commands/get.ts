/** `swarmgate get routes|serviceclusters|middlewares|tcproutes|udproutes [NAME] [-o wide|yaml|json|name|jsonpath=TEMPLATE] [-l SELECTOR]` and `describe`. */

import * as E from 'fp-ts/Either';
import { LABELS, OWNER_VALUE } from '../../domain/labels';
import { objectKey, type Kind } from '../../domain/meta';
import { encodeObject, type ApiObject } from '../../domain/object';
import { storedRolloutStates } from '../../desired/served-state';
import { DesiredStateReader, type StoredSpec } from '../../desired/spec-store';
import type * as DesiredModel from '../../plan/desired-model';
import { certificateVersions, currentCertificate, expiryCondition } from '../../plan/certificates';
import type { Certificate } from '../../domain/route';
import type { LabelRouteStatus } from '../../plan/model';
import type { Snapshot } from '../../domain/snapshot';
import type { DockerPort } from '../../observed/docker-port';
import { readSnapshot } from '../../observed/read-snapshot';
import { decodeStatus, type BackendsStatus, type ObjectStatus } from '../../domain/status-label';
import { conditionCell } from '../../status/object-status';
import { decodeRolloutState } from '../../plan/rollout';
import { matchesSelector, parseSelector, type Requirement } from '../label-selector';
import { pause } from '../interrupt';
import { EXIT, type Output } from '../output';
import { asSeenNow, corePresence } from '../core-presence';
import { describeEvents, eventLines, type DescribedEvent } from '../describe-events';
import { clusterRevisions, clusterRouteGenerations, revisionIdOf, rollbackOf, specsFingerprint } from '../../plan/revisions';
import { parseJsonpathTemplate, renderJsonpathTemplate, type Template } from '../jsonpath-template';
import { age, formatTable } from '../table';
import { parseKind, resourceName } from '../kind-words';
import { behaviourLines, behavioursCell, usersCell, usersOf } from './middleware-view';
import { backendsCell, clusterCell, listenerCell, listenerLines, listenersCell, STREAM_ROUTE_HEADER, streamRouteLines } from './stream-route-view';
import { untilText } from '../until-text';
import { replicasCell, type ClusterServing } from '../proxy-serving';
import { proxyLines, proxyModeLine, withServing } from './cluster-serving-view';

export interface Listed {
  readonly kind: Kind;
  readonly name: string;
  readonly generation: number;
  readonly createdAt: string;
  readonly object?: ApiObject;
  readonly status?: ObjectStatus;
  readonly invalid?: string;
  /** A route from com.docker.lb.* labels: no stored config; its conditions are computed now from the Swarm. */
  readonly labels?: LabelRouteStatus;
  /** The stored rollout state label of a Route with spec.canary (decodeRolloutState). */
  readonly rollout?: string;
  /** A Middleware: the routes that use it. */
  readonly usedBy?: readonly string[];
  /** A ServiceCluster serving an old revision (`swarmgate rollback`): that revision, `rev N (hash12)`. */
  readonly rolledBackTo?: string;
  /** A ServiceCluster's proxies and what they serve (with -o wide). */
  readonly serving?: ClusterServing;
}

/** What every Interlock service label starts with (src/plan/sources/interlock/labels.ts; not imported, so `get` loads none of the model). */
const INTERLOCK_LABEL_PREFIX = 'com.docker.lb.';

/**
 * Routes translated from com.docker.lb.* service labels, with the conditions the core would give them:
 * computed read-only through the core's pipeline (stored specs at their served rollout weights + snapshot),
 * since they have no config to carry a status.
 */
async function labelRoutes(desired: Awaited<ReturnType<DesiredStateReader['read']>>['desired'], stored: ReadonlyMap<string, StoredSpec>, snapshot: Snapshot): Promise<Listed[]> {
  // The model (codecs, route compilation) is loaded only when a service carries Interlock labels: a plain `get` must start fast.
  if (!snapshot.services.some((s) => Object.keys(s.labels).some((k) => k.startsWith(INTERLOCK_LABEL_PREFIX)))) return [];
  const { desiredModel } = (await import('../../plan/desired-model')) as typeof DesiredModel;
  const { desired: merged, result } = desiredModel({ specs: desired, snapshot, rollouts: { states: storedRolloutStates(stored) } });
  const statuses = result.labelRoutes ?? {};
  const objects = new Map<string, ApiObject>((merged.labelRoutes ?? []).map((r) => [r.object.metadata.name, r.object]));
  return Object.entries(statuses).map(([name, st]) => {
    const object = objects.get(name);
    const accepted = st.conditions.find((c) => c.type === 'Accepted');
    const invalid = object === undefined && accepted !== undefined ? accepted.message : undefined;
    return {
      kind: 'Route' as const,
      name,
      generation: 1,
      createdAt: '',
      ...(object !== undefined ? { object } : {}),
      status: { observedGeneration: 1, conditions: st.conditions.map((c) => ({ ...c, lastTransitionTime: '' })) },
      ...(invalid !== undefined ? { invalid } : {}),
      labels: st,
    };
  });
}

/** `rev N (hash12)` of each cluster's rollback revision (ADR 0025); reads the configs only when a cluster is rolled back. */
async function revisionIds(port: DockerPort, rollbacks: ReadonlyMap<string, number>): Promise<Map<string, string>> {
  if (rollbacks.size === 0) return new Map();
  const configs = await port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`]);
  return new Map(
    [...rollbacks].map(([cluster, revision]) => {
      const rev = clusterRevisions(configs, cluster).find((r) => r.revision === revision);
      return [cluster, rev !== undefined ? revisionIdOf(rev) : `rev ${revision} (?)`];
    }),
  );
}

/** Label routes only when a service has Interlock labels: one service list instead of the whole snapshot (six lists) on every `get routes`. */
async function labelRoutesIfAny(port: DockerPort, desired: Awaited<ReturnType<DesiredStateReader['read']>>['desired'], stored: ReadonlyMap<string, StoredSpec>): Promise<Listed[]> {
  const services = await port.listServices();
  if (!services.some((s) => Object.keys(s.Spec.Labels ?? {}).some((k) => k.startsWith(INTERLOCK_LABEL_PREFIX)))) return [];
  return labelRoutes(desired, stored, (await readSnapshot(port)).snapshot);
}

export async function listObjects(port: DockerPort, kind: Kind): Promise<Listed[]> {
  const [{ desired, stored }, presence] = await Promise.all([new DesiredStateReader(port).read(), corePresence(port)]);
  const fromLabels = kind === 'Route' ? await labelRoutesIfAny(port, desired, stored) : [];
  const objects = new Map<string, ApiObject>([...desired.routes, ...desired.clusters, ...(desired.middlewares ?? []), ...(desired.streamRoutes ?? [])].map((s) => [objectKey(s.object.kind, s.object.metadata.name), s.object]));
  const routes = desired.routes.map((r) => r.object);
  const clusters = desired.clusters.map((c) => c.object);
  const rejects = new Map(desired.rejected.map((r) => [objectKey(r.kind, r.name), r.issues.map((i) => i.message).join('; ')]));
  // Clusters rolled back (a request a later apply already ended does not count, as in `history`), by revision.
  const rollbacks = new Map<string, number>();
  for (const s of stored.values()) {
    const rollback = s.kind === 'ServiceCluster' ? rollbackOf(s.config) : undefined;
    if (rollback !== undefined && rollback.specs === specsFingerprint(clusterRouteGenerations(desired, s.name))) rollbacks.set(s.name, rollback.revision);
  }
  const rolledBackIds = await revisionIds(port, rollbacks);
  return [...stored.values()]
    .filter((s) => s.kind === kind)
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => {
      const key = objectKey(s.kind, s.name);
      const object = objects.get(key);
      // Without a running core, what proxies serve is not known: Programmed and Ready read Unknown.
      const status = asSeenNow(decodeStatus(s.config.Spec.Labels?.[LABELS.status]), presence);
      const invalid = rejects.get(key);
      const rollout = s.config.Spec.Labels?.[LABELS.rollout];
      const rolledBackTo = s.kind === 'ServiceCluster' ? rolledBackIds.get(s.name) : undefined;
      return {
        kind: s.kind,
        name: s.name,
        generation: s.generation,
        createdAt: s.createdAt,
        ...(object !== undefined ? { object } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(invalid !== undefined ? { invalid } : {}),
        ...(rollout !== undefined ? { rollout } : {}),
        ...(rolledBackTo !== undefined ? { rolledBackTo } : {}),
        ...(s.kind === 'Middleware' ? { usedBy: usersOf(s.name, routes, clusters) } : {}),
      } as Listed;
    })
    .concat(fromLabels);
}

/** "Progressing 20%": the rollout's phase and the new service's weight; "-" without spec.canary or before the core started it. */
export function rolloutCell(l: Listed): string {
  if (l.object?.kind !== 'Route' || l.object.spec.canary === undefined) return '-';
  const state = l.rollout === undefined ? undefined : decodeRolloutState(l.rollout);
  return state === undefined || E.isLeft(state) ? 'Pending' : `${state.right.phase} ${state.right.weight}%`;
}

function source(l: Listed): string {
  return l.labels === undefined ? 'spec' : l.labels.services.map((s) => `service/${s}`).join(',');
}

function cell(l: Listed, type: string): string {
  return conditionCell(l.status, l.generation, type);
}

function asDocument(l: Listed): unknown {
  const base = l.object !== undefined ? (encodeObject(l.object) as Record<string, unknown>) : { apiVersion: 'swarmgate.io/v1', kind: l.kind, metadata: { name: l.name } };
  return { ...base, status: { generation: l.generation, ...(l.status ?? { conditions: [] }) } };
}

const OUTPUT_FORMATS = ['wide', 'yaml', 'json', 'name', 'jsonpath=TEMPLATE'] as const;

/** -o: a table variant, a document format, or a kubectl-style jsonpath template. */
function parseGetOutput(output: string | undefined): { readonly plain: string | undefined } | { readonly jsonpath: Template } | { readonly error: string } {
  if (output === undefined || ['wide', 'yaml', 'json', 'name'].includes(output)) return { plain: output };
  if (output.startsWith('jsonpath=')) {
    const t = parseJsonpathTemplate(output.slice('jsonpath='.length));
    return 'error' in t ? t : { jsonpath: t };
  }
  return { error: `-o: expected one of ${OUTPUT_FORMATS.join(', ')}, got ${JSON.stringify(output)}` };
}

/** `get -w`: how often to look again, and the Ctrl-C that ends the watch. */
export interface GetWatch {
  readonly signal: AbortSignal;
  readonly intervalMs?: number;
}

export async function runGet(port: DockerPort, what: string, name: string | undefined, output: string | undefined, io: Output, now = new Date(), selector?: string, watch?: GetWatch): Promise<number> {
  const kind = parseKind(what);
  if (kind === undefined) {
    io.err(`unknown resource type "${what}"; use routes, serviceclusters, middlewares, tcproutes or udproutes`);
    return EXIT.usage;
  }
  const format = parseGetOutput(output);
  if ('error' in format) {
    io.err(format.error);
    return EXIT.usage;
  }
  const requirements = selector === undefined ? undefined : parseSelector(selector);
  if (requirements !== undefined && 'error' in requirements) {
    io.err(requirements.error);
    return EXIT.usage;
  }
  if (watch !== undefined && !(output === undefined || output === 'wide')) {
    io.err(`-w prints the table (optionally -o wide); -o ${output} is not supported with it`);
    return EXIT.usage;
  }
  const { listed, items } = await selectItems(port, kind, name, output, requirements);
  if (name !== undefined && items.length === 0) {
    const fromLabels = listed.some((l) => l.name === name && l.labels !== undefined);
    io.err(`${resourceName(kind)}/${name} ${fromLabels ? 'comes from com.docker.lb.* service labels and has no stored object; print it with `swarmgate import-labels`' : 'not found'}`);
    return EXIT.invalid;
  }
  if (output === 'json') {
    io.out(JSON.stringify(name !== undefined ? asDocument(items[0] as Listed) : { kind: 'List', items: items.map(asDocument) }, null, 2));
    return EXIT.ok;
  }
  if ('jsonpath' in format) {
    // The same document -o json prints, so a template can be tried out against that output.
    io.out(renderJsonpathTemplate(format.jsonpath, JSON.parse(JSON.stringify(name !== undefined ? asDocument(items[0] as Listed) : { kind: 'List', items: items.map(asDocument) })) as unknown));
    return EXIT.ok;
  }
  if (output === 'yaml') {
    // Loaded here only: the YAML library is a tenth of a plain `get`'s start-up.
    const { stringify } = await import('yaml');
    io.out(items.map((l) => stringify(asDocument(l))).join('---\n'));
    return EXIT.ok;
  }
  if (output === 'name') {
    if (items.length > 0) io.out(items.map((l) => `${resourceName(kind)}/${l.name}`).join('\n'));
    return EXIT.ok;
  }
  const table = tableOf(kind, items, output === 'wide', now);
  io.out(items.length === 0 ? table.empty : formatTable(table.header, table.rows));
  if (watch !== undefined) return watchTable(port, kind, name, output === 'wide', requirements, table, io, watch);
  return EXIT.ok;
}

/** What happened to a stored object lately, read back from what is stored (describe-events.ts). */
async function eventsOf(port: DockerPort, item: Listed): Promise<DescribedEvent[]> {
  const cluster = item.object?.kind === 'Route' ? item.object.spec.serviceCluster : item.object?.kind === 'ServiceCluster' ? item.name : undefined;
  const configs = cluster === undefined ? [] : await port.listConfigs([`${LABELS.owner}=${OWNER_VALUE}`, `${LABELS.role}=proxy-config`, `${LABELS.cluster}=${cluster}`]);
  const rollout = item.rollout === undefined ? undefined : decodeRolloutState(item.rollout);
  return describeEvents({
    generation: item.generation,
    storedAt: item.createdAt,
    ...(item.status !== undefined ? { status: item.status } : {}),
    ...(cluster !== undefined ? { revisions: clusterRevisions(configs, cluster) } : {}),
    ...(item.kind === 'Route' ? { route: { name: item.name, generation: item.generation } } : {}),
    ...(rollout !== undefined && E.isRight(rollout) ? { rollout: rollout.right.history } : {}),
  });
}

/** The objects `get` shows: by kind, then -l and NAME; -o yaml/json leave out label routes. */
async function selectItems(port: DockerPort, kind: Kind, name: string | undefined, output: string | undefined, requirements: readonly Requirement[] | undefined): Promise<{ listed: Listed[]; items: Listed[] }> {
  const listed = await listObjects(port, kind);
  // -o yaml/json print stored objects (what can be re-applied); use `import-labels` for the label routes.
  const stored = output === 'yaml' || output === 'json' ? listed.filter((l) => l.labels === undefined) : listed;
  const all = requirements === undefined ? stored : stored.filter((l) => matchesSelector(requirements, l.object?.metadata.labels));
  const items = name === undefined ? all : all.filter((l) => l.name === name);
  return { listed, items: kind === 'ServiceCluster' && output === 'wide' ? await withServing(port, items) : items };
}

/**
 * `get -w`, as kubectl's: after the table, one line per object whose row changed (its AGE aside), in
 * the first table's column widths; a new header when the columns change; `KIND/NAME deleted` when
 * an object goes. Until Ctrl-C (exit 0).
 */
async function watchTable(port: DockerPort, kind: Kind, name: string | undefined, wide: boolean, requirements: readonly Requirement[] | undefined, first: ReturnType<typeof tableOf>, io: Output, watch: GetWatch): Promise<number> {
  let header = first.header;
  const withoutAge = (h: readonly string[], row: readonly string[]): string => JSON.stringify(row.filter((_, i) => h[i] !== 'AGE'));
  let seen = new Map(first.rows.map((r) => [r[0] ?? '', withoutAge(header, r)]));
  // Rows are printed in the widths of the last table printed, so columns stay aligned while watching.
  let widthsOf = [...first.rows];
  for (;;) {
    await pause(watch.intervalMs ?? 1000, watch.signal);
    if (watch.signal.aborted) return EXIT.ok;
    const { items } = await selectItems(port, kind, name, wide ? 'wide' : undefined, requirements);
    const table = tableOf(kind, items, wide, new Date());
    if (JSON.stringify(table.header) !== JSON.stringify(header)) {
      header = table.header;
      widthsOf = [...table.rows];
      io.out(formatTable(header, table.rows));
      seen = new Map(table.rows.map((r) => [r[0] ?? '', withoutAge(header, r)]));
      continue;
    }
    const next = new Map(table.rows.map((r) => [r[0] ?? '', withoutAge(header, r)]));
    for (const row of table.rows) {
      const key = row[0] ?? '';
      if (seen.get(key) === next.get(key)) continue;
      io.out(formatTable(header, [...widthsOf, row]).split('\n').at(-1) ?? '');
    }
    for (const gone of [...seen.keys()].filter((k) => !next.has(k))) io.out(`${resourceName(kind)}/${gone} deleted`);
    seen = next;
  }
}

/** The table `get` prints: header, one row per object (first cell: the name), and what to say when empty. */
function tableOf(kind: Kind, items: readonly Listed[], wide: boolean, now: Date): { header: string[]; rows: string[][]; empty: string } {
  if (kind === 'Route') {
    // Routes from com.docker.lb.* labels add a SOURCE column (absent when there are none, so the usual table is unchanged).
    const withSource = items.some((l) => l.labels !== undefined);
    // A ROLLOUT column (phase and the new service's weight) once any listed route has spec.canary.
    const withRollout = items.some((l) => l.object?.kind === 'Route' && l.object.spec.canary !== undefined);
    const header = ['NAME', 'HOSTS', 'CLUSTER', 'GENERATION', 'ACCEPTED', 'PROGRAMMED', ...(withRollout ? ['ROLLOUT'] : []), 'AGE', ...(wide ? ['RESOLVEDREFS', 'HEALTH'] : []), ...(withSource ? ['SOURCE'] : [])];
    const rows = items.map((l) => {
      const spec = l.object?.kind === 'Route' ? l.object.spec : undefined;
      const hosts = spec === undefined ? '<invalid>' : wide || spec.hosts.length <= 2 ? spec.hosts.join(',') : `${spec.hosts.slice(0, 2).join(',')} +${spec.hosts.length - 2}`;
      const fromLabels = l.labels !== undefined;
      const accepted = l.invalid !== undefined && !fromLabels ? 'False (Invalid)' : cell(l, 'Accepted');
      return [
        l.name,
        hosts,
        spec?.serviceCluster ?? '-',
        fromLabels ? '-' : String(l.generation),
        accepted,
        fromLabels ? '-' : cell(l, 'Programmed'),
        ...(withRollout ? [rolloutCell(l)] : []),
        fromLabels ? '-' : age(l.createdAt, now),
        ...(wide ? [cell(l, 'ResolvedRefs'), cell(l, 'BackendsHealthy')] : []),
        ...(withSource ? [source(l)] : []),
      ];
    });
    return { header, rows, empty: 'No routes found.' };
  } else if (kind === 'Middleware') {
    const header = ['NAME', 'BEHAVIOURS', 'USED BY', 'GENERATION', 'ACCEPTED', 'AGE'];
    const rows = items.map((l) => [
      l.name,
      behavioursCell(l.object?.kind === 'Middleware' ? l.object : undefined),
      usersCell(l.usedBy ?? [], wide),
      String(l.generation),
      l.invalid !== undefined ? 'False (Invalid)' : cell(l, 'Accepted'),
      age(l.createdAt, now),
    ]);
    return { header, rows, empty: 'No middlewares found.' };
  } else if (kind === 'TCPRoute' || kind === 'UDPRoute') {
    const header = [...STREAM_ROUTE_HEADER, ...(wide ? ['RESOLVEDREFS'] : [])];
    const rows = items.map((l) => [
      l.name,
      clusterCell(l.object),
      listenerCell(l.object),
      backendsCell(l.object, wide),
      String(l.generation),
      l.invalid !== undefined ? 'False (Invalid)' : cell(l, 'Accepted'),
      cell(l, 'Programmed'),
      age(l.createdAt, now),
      ...(wide ? [cell(l, 'ResolvedRefs')] : []),
    ]);
    return { header, rows, empty: `No ${kind === 'TCPRoute' ? 'TCP' : 'UDP'} routes found.` };
  } else if (kind === 'Issuer') {
    const header = ['NAME', 'SERVER', 'SOLVERS', 'GENERATION', 'ACCEPTED', 'READY', 'AGE'];
    const rows = items.map((l) => {
      const spec = l.object?.kind === 'Issuer' ? l.object.spec : undefined;
      const solvers = spec?.solvers.map((x) => (x.dns01 !== undefined ? 'dns01' : 'http01')).join(',') ?? '-';
      return [l.name, spec?.acme.server ?? '<invalid>', solvers, String(l.generation), l.invalid !== undefined ? 'False (Invalid)' : cell(l, 'Accepted'), cell(l, 'Ready'), age(l.createdAt, now)];
    });
    return { header, rows, empty: 'No issuers found.' };
  } else {
    const header = ['NAME', 'PROXY', 'REPLICAS', 'PUBLISH', 'GENERATION', 'READY', 'PROGRAMMED', 'AGE', ...(wide ? ['LISTENERS', 'CONFIG', 'REPLICAS SERVE'] : [])];
    const rows = items.map((l) => {
      const p = l.object?.kind === 'ServiceCluster' ? l.object.spec.proxy : undefined;
      return [
        l.name,
        p?.kind ?? '<invalid>',
        p !== undefined ? String(p.replicas) : '-',
        p !== undefined ? `${p.publish.mode}:${p.publish.http}/${p.publish.https}` : '-',
        String(l.generation),
        cell(l, 'Ready'),
        `${cell(l, 'Programmed')}${l.rolledBackTo !== undefined ? ` (rolled back to ${l.rolledBackTo})` : ''}`,
        age(l.createdAt, now),
        ...(wide ? [listenersCell(l.object), l.serving === undefined ? '-' : `${l.serving.current}${l.serving.hitless ? ' hitless' : ''}`, l.serving === undefined ? '-' : replicasCell(l.serving)] : []),
      ];
    });
    return { header, rows, empty: 'No service clusters found (the implicit "default" cluster always exists).' };
  }
}

/**
 * The certificate a route terminates with: a stored one resolved as the plan does (newest complete
 * version), with its expiry and the warning a route carries from EXPIRY_WARNING_DAYS before it.
 */
function certificateLines(cert: Certificate, snapshot: Snapshot, now: Date): string[] {
  if (cert.name === undefined) return [`Certificate:  secrets ${cert.certSecret ?? '-'}, ${cert.keySecret ?? '-'}`];
  const current = currentCertificate(certificateVersions(snapshot.secrets), cert.name);
  if (current === undefined) return [`Certificate:  ${cert.name}: not stored (swarmgate tls apply ${cert.name} --cert FILE --key FILE)`];
  const expires = current.notAfter === undefined ? 'expiry unknown' : `expires ${current.notAfter} (${untilText(current.notAfter, now)})`;
  const warning = expiryCondition(current, now);
  return [
    `Certificate:  ${cert.name} version ${current.version} (secrets ${current.certSecret}, ${current.keySecret}), ${expires}`,
    ...(warning !== undefined ? [`              Warning: ${warning.message}`] : []),
  ];
}

export async function runDescribe(port: DockerPort, what: string, name: string, io: Output, now = new Date()): Promise<number> {
  const kind = parseKind(what);
  if (kind === undefined) {
    io.err(`unknown resource type "${what}"; use route, servicecluster, middleware, tcproute or udproute`);
    return EXIT.usage;
  }
  const item = (await listObjects(port, kind)).find((l) => l.name === name);
  if (item === undefined) {
    io.err(`${resourceName(kind)}/${name} not found`);
    return EXIT.invalid;
  }
  const lines: string[] =
    item.labels === undefined
      ? [`Name:         ${item.name}`, `Kind:         ${item.kind}`, `Generation:   ${item.generation}`, `Created:      ${item.createdAt}`]
      : [`Name:         ${item.name}`, `Kind:         ${item.kind}`, `Source:       ${source(item)} (com.docker.lb.* labels; not stored: conditions are computed now)`];
  if (item.invalid !== undefined) lines.push(`Invalid:      ${item.invalid}`);
  if (item.object?.kind === 'Route') {
    const s = item.object.spec;
    const { snapshot } = await readSnapshot(port);
    lines.push(`Cluster:      ${s.serviceCluster}`, `Hosts:        ${s.hosts.join(', ')}`, `TLS:          ${s.tls === undefined ? 'none' : s.tls.mode}`);
    const cert = s.tls?.mode === 'Terminate' ? s.tls.certificate : undefined;
    if (cert !== undefined) lines.push(...certificateLines(cert, snapshot, now));
    const client = s.tls?.mode === 'Terminate' ? s.tls.clientCertificate : undefined;
    if (client !== undefined) {
      const secret = (name: string): string => `${name}${snapshot.secrets.some((x) => x.name === name) ? '' : ' (secret not found)'}`;
      lines.push(`Client certs: ${client.mode}, CA ${secret(client.caSecret)}${client.crlSecret !== undefined ? `, CRL ${secret(client.crlSecret)}` : ''}`);
    }
    lines.push('Rules:');
    // Running task counts per backend service: what the upstreams contain right now.
    const running = (service: string): string => {
      if (!snapshot.services.some((x) => x.name === service)) return 'service not found';
      const n = snapshot.tasks.filter((t) => t.service === service && t.state === 'running' && t.desiredState === 'running').length;
      return `${n} running task${n === 1 ? '' : 's'}`;
    };
    s.rules.forEach((r, i) => {
      const match = r.match.path !== undefined ? `path ${r.match.path}` : `prefix ${r.match.pathPrefix ?? '/'}`;
      const target = r.redirect !== undefined ? `redirect ${r.redirect.code}` : (r.backends ?? []).map((b) => `${b.service}:${b.port} w=${b.weight} (${running(b.service)})`).join(', ');
      lines.push(`  [${i}] ${match}${r.match.headers.length > 0 ? ` headers ${r.match.headers.map((h) => `${h.name}=${h.value}`).join(',')}` : ''} -> ${target}`);
    });
    // The proxy replicas of its cluster and the generated config each runs.
    lines.push(...(await proxyLines(port, s.serviceCluster, (await listObjects(port, 'ServiceCluster')).find((c) => c.name === s.serviceCluster)?.status)));
    if (item.labels === undefined) lines.push(...backendLines(item.status?.backends));
  }
  if (item.object?.kind === 'TCPRoute' || item.object?.kind === 'UDPRoute') lines.push(...streamRouteLines(item.object, (await readSnapshot(port)).snapshot));
  if (item.object?.kind === 'ServiceCluster') lines.push(await proxyModeLine(port, item.object.spec, item.name), ...listenerLines(item.object), ...(await proxyLines(port, item.name, item.status)));
  if (item.object?.kind === 'Middleware') {
    lines.push('Behaviours:', ...behaviourLines(item.object.spec));
    lines.push(`Used by:      ${(item.usedBy ?? []).length === 0 ? '(no route)' : (item.usedBy ?? []).map((r) => `route/${r}`).join(', ')}`);
  }
  if (item.labels === undefined) lines.push(`Observed generation: ${item.status?.observedGeneration ?? '-'}`);
  lines.push('Conditions:');
  const conds = item.status?.conditions ?? [];
  if (conds.length === 0) lines.push('  (none yet: the core has not observed this object)');
  for (const c of conds) lines.push(`  ${c.type.padEnd(15)} ${c.status.padEnd(8)} ${c.reason.padEnd(22)} ${c.message}${c.lastTransitionTime === '' ? '' : ` (since ${c.lastTransitionTime})`}`);
  if (item.labels === undefined) lines.push(...eventLines(await eventsOf(port, item), now));
  io.out(lines.join('\n'));
  return EXIT.ok;
}


/** `describe route`: each backend's requests and 5xx answers as the proxies counted them (status `backends`). */
function backendLines(b: BackendsStatus | undefined): string[] {
  if (b === undefined || b.items.length === 0) return ['Backend traffic: (not counted yet: needs proxy agents and requests; see BackendsHealthy)'];
  const rows = b.items.map((x) => [x.backend, String(x.requests), String(x.responses5xx), x.requests === 0 ? '-' : `${Math.round((100 * x.responses5xx) / x.requests)}%`]);
  const table = formatTable(['BACKEND', 'REQUESTS', '5XX', 'ERRORS'], rows).split('\n').map((l) => `  ${l}`);
  return [`Backend traffic (the ${b.windowSeconds} s before ${b.at}, counted by the proxies):`, ...table];
}

