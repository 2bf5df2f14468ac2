/** `swarmgate get routes|serviceclusters|middlewares [NAME] [-o wide|yaml|json|name] [-l SELECTOR]` and `describe`. */

import * as E from 'fp-ts/Either';
import { stringify } from 'yaml';
import { LABELS } from '../../domain/labels';
import { objectKey, type Kind } from '../../domain/meta';
import { encodeObject, type ApiObject } from '../../domain/object';
import { withLabelRoutes } from '../../desired/interlock-labels';
import { DesiredStateReader } from '../../desired/spec-store';
import { buildModel } from '../../plan/build-model';
import { certificateVersions, currentCertificate, expiryCondition } from '../../plan/certificates';
import type { Certificate } from '../../domain/route';
import type { LabelRouteStatus } from '../../plan/model';
import type { Snapshot } from '../../domain/snapshot';
import { isServingTask, type DockerPort } from '../../observed/docker-port';
import { readSnapshot } from '../../observed/read-snapshot';
import { conditionCell, parseStatus, type ObjectStatus } from '../../status/object-status';
import { decodeRolloutState } from '../../plan/rollout';
import { matchesSelector, parseSelector } from '../label-selector';
import { EXIT, type Output } from '../output';
import { age, formatTable } from '../table';
import { parseKind, resourceName } from './apply';
import { behaviourLines, behavioursCell, usersCell, usersOf } from './middleware-view';
import { untilText } from './tls';

interface Listed {
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
}

/**
 * Routes translated from com.docker.lb.* service labels, with the conditions the core would give them:
 * computed read-only (stored specs + snapshot → buildModel), since they have no config to carry a status.
 */
function labelRoutes(desired: Awaited<ReturnType<DesiredStateReader['read']>>['desired'], snapshot: Snapshot): Listed[] {
  const merged = withLabelRoutes(desired, snapshot);
  const statuses = buildModel(merged, snapshot).labelRoutes ?? {};
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

async function listObjects(port: DockerPort, kind: Kind): Promise<Listed[]> {
  const { desired, stored } = await new DesiredStateReader(port).read();
  const fromLabels = kind === 'Route' ? labelRoutes(desired, (await readSnapshot(port)).snapshot) : [];
  const objects = new Map<string, ApiObject>([...desired.routes, ...desired.clusters, ...(desired.middlewares ?? [])].map((s) => [objectKey(s.object.kind, s.object.metadata.name), s.object]));
  const routes = desired.routes.map((r) => r.object);
  const clusters = desired.clusters.map((c) => c.object);
  const rejects = new Map(desired.rejected.map((r) => [objectKey(r.kind, r.name), r.issues.map((i) => i.message).join('; ')]));
  return [...stored.values()]
    .filter((s) => s.kind === kind)
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((s) => {
      const key = objectKey(s.kind, s.name);
      const object = objects.get(key);
      const status = parseStatus(s.config.Spec.Labels?.[LABELS.status]);
      const invalid = rejects.get(key);
      const rollout = s.config.Spec.Labels?.[LABELS.rollout];
      return {
        kind: s.kind,
        name: s.name,
        generation: s.generation,
        createdAt: s.createdAt,
        ...(object !== undefined ? { object } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(invalid !== undefined ? { invalid } : {}),
        ...(rollout !== undefined ? { rollout } : {}),
        ...(s.kind === 'Middleware' ? { usedBy: usersOf(s.name, routes, clusters) } : {}),
      } as Listed;
    })
    .concat(fromLabels);
}

/** "Progressing 20%": the rollout's phase and the new service's weight; "-" without spec.canary or before the core started it. */
function rolloutCell(l: Listed): string {
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

export async function runGet(port: DockerPort, what: string, name: string | undefined, output: string | undefined, io: Output, now = new Date(), selector?: string): Promise<number> {
  const kind = parseKind(what);
  if (kind === undefined) {
    io.err(`unknown resource type "${what}"; use routes, serviceclusters or middlewares`);
    return EXIT.usage;
  }
  const requirements = selector === undefined ? undefined : parseSelector(selector);
  if (requirements !== undefined && 'error' in requirements) {
    io.err(requirements.error);
    return EXIT.usage;
  }
  const listed = await listObjects(port, kind);
  // -o yaml/json print stored objects (what can be re-applied); use `import-labels` for the label routes.
  const stored = output === 'yaml' || output === 'json' ? listed.filter((l) => l.labels === undefined) : listed;
  const all = requirements === undefined ? stored : stored.filter((l) => matchesSelector(requirements, l.object?.metadata.labels));
  const items = name === undefined ? all : all.filter((l) => l.name === name);
  if (name !== undefined && items.length === 0) {
    const fromLabels = listed.some((l) => l.name === name && l.labels !== undefined);
    io.err(`${resourceName(kind)}/${name} ${fromLabels ? 'comes from com.docker.lb.* service labels and has no stored object; print it with `swarmgate import-labels`' : 'not found'}`);
    return EXIT.invalid;
  }
  if (output === 'json') {
    io.out(JSON.stringify(name !== undefined ? asDocument(items[0] as Listed) : { kind: 'List', items: items.map(asDocument) }, null, 2));
    return EXIT.ok;
  }
  if (output === 'yaml') {
    io.out(items.map((l) => stringify(asDocument(l))).join('---\n'));
    return EXIT.ok;
  }
  if (output === 'name') {
    if (items.length > 0) io.out(items.map((l) => `${resourceName(kind)}/${l.name}`).join('\n'));
    return EXIT.ok;
  }
  const wide = output === 'wide';
  if (kind === 'Route') {
    // Routes from com.docker.lb.* labels add a SOURCE column (absent when there are none, so the usual table is unchanged).
    const withSource = items.some((l) => l.labels !== undefined);
    // A ROLLOUT column (phase and the new service's weight) once any listed route has spec.canary.
    const withRollout = items.some((l) => l.object?.kind === 'Route' && l.object.spec.canary !== undefined);
    const header = ['NAME', 'HOSTS', 'CLUSTER', 'GENERATION', 'ACCEPTED', 'PROGRAMMED', ...(withRollout ? ['ROLLOUT'] : []), 'AGE', ...(wide ? ['RESOLVEDREFS'] : []), ...(withSource ? ['SOURCE'] : [])];
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
        ...(wide ? [cell(l, 'ResolvedRefs')] : []),
        ...(withSource ? [source(l)] : []),
      ];
    });
    io.out(items.length === 0 ? 'No routes found.' : formatTable(header, rows));
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
    io.out(items.length === 0 ? 'No middlewares found.' : formatTable(header, rows));
  } else {
    const header = ['NAME', 'PROXY', 'REPLICAS', 'PUBLISH', 'GENERATION', 'READY', 'PROGRAMMED', 'AGE'];
    const rows = items.map((l) => {
      const p = l.object?.kind === 'ServiceCluster' ? l.object.spec.proxy : undefined;
      return [l.name, p?.kind ?? '<invalid>', p !== undefined ? String(p.replicas) : '-', p !== undefined ? `${p.publish.mode}:${p.publish.http}/${p.publish.https}` : '-', String(l.generation), cell(l, 'Ready'), cell(l, 'Programmed'), age(l.createdAt, now)];
    });
    io.out(items.length === 0 ? 'No service clusters found (the implicit "default" cluster always exists).' : formatTable(header, rows));
  }
  return EXIT.ok;
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
    io.err(`unknown resource type "${what}"; use route, servicecluster or middleware`);
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
    const proxies = (await port.listServices([`${LABELS.role}=proxy`, `${LABELS.cluster}=${s.serviceCluster}`]))[0];
    if (proxies !== undefined) {
      const tasks = (await port.listTasks()).filter((t) => t.ServiceID === proxies.ID && isServingTask(t));
      lines.push(`Proxy replicas (${proxies.Spec.Name}):`);
      if (tasks.length === 0) lines.push('  (none running)');
      for (const t of tasks) lines.push(`  ${proxies.Spec.Name}.${t.Slot ?? '?'} on ${t.NodeID ?? '?'} serves ${t.Spec?.ContainerSpec?.Configs?.[0]?.ConfigName ?? '-'}`);
    }
  }
  if (item.object?.kind === 'Middleware') {
    lines.push('Behaviours:', ...behaviourLines(item.object.spec));
    lines.push(`Used by:      ${(item.usedBy ?? []).length === 0 ? '(no route)' : (item.usedBy ?? []).map((r) => `route/${r}`).join(', ')}`);
  }
  if (item.labels === undefined) lines.push(`Observed generation: ${item.status?.observedGeneration ?? '-'}`);
  lines.push('Conditions:');
  const conds = item.status?.conditions ?? [];
  if (conds.length === 0) lines.push('  (none yet: the core has not observed this object)');
  for (const c of conds) lines.push(`  ${c.type.padEnd(13)} ${c.status.padEnd(8)} ${c.reason.padEnd(22)} ${c.message}${c.lastTransitionTime === '' ? '' : ` (since ${c.lastTransitionTime})`}`);
  io.out(lines.join('\n'));
  return EXIT.ok;
}

