/**
 * The Plan a core would make for a golden case on a Swarm that has no swarmgate objects yet: the
 * case's snapshot as the observed inventory (networks, secrets and nodes get IDs `id-<name>`), the
 * control network of an installed core, hitless clusters delivered through agents. Pinned as
 * `expected/plan.json` (service specs whole), as Envoy Gateway's translator goldens pin the
 * infrastructure next to the data plane.
 */
import type { Snapshot } from '../../src/domain/snapshot';
import type { LiveState } from '../../src/observed/live-state';
import { configFilesHash } from '../../src/plan/config-files-hash';
import type { ProxyModel } from '../../src/plan/model';
import type { AgentEndpoint } from '../../src/plan/proxy-service-spec';
import { planJson } from '../../src/plan/writes/describe-plan';
import { planRun } from '../../src/plan/writes/plan-run';
import { renderCluster } from '../../src/render/render-cluster';

const CONTROL_NETWORK = 'swarmgate-control';

export function inventoryOf(snapshot: Snapshot): LiveState {
  return {
    services: [],
    tasks: [],
    proxyConfigs: [],
    networks: [...snapshot.networks.map((n) => ({ Id: `id-${n.name}`, Name: n.name, Driver: n.driver, Scope: n.scope, Ingress: n.ingress })), { Id: `id-${CONTROL_NETWORK}`, Name: CONTROL_NETWORK, Driver: 'overlay', Scope: 'swarm' }],
    secrets: snapshot.secrets.map((s) => ({ ID: `id-${s.name}`, Spec: { Name: s.name } })),
    nodes: snapshot.nodes.map((n) => ({ ID: n.id, Spec: { Role: n.role, Availability: n.availability, Labels: n.labels }, Description: { Hostname: n.hostname }, Status: { State: n.state } })),
  };
}

export function goldenPlan(models: readonly ProxyModel[], snapshot: Snapshot): string {
  const agent: AgentEndpoint = { coreAddress: 'swarmgate-core:50051', controlNetworkId: `id-${CONTROL_NETWORK}` };
  const inputs = models.map((model) => {
    const r = renderCluster(model);
    const content = r.files.find((f) => f.path === r.main)?.content ?? '';
    const files = [{ path: r.main, content: Buffer.from(content) }];
    const hitless = model.spec.proxy.delivery === 'hitless';
    return { model, proxy: { rendered: content, ...(hitless ? { agent, delivery: { proxyKind: model.spec.proxy.kind, files, configHash: configFilesHash(files), immediate: false } } : {}) } };
  });
  return `${JSON.stringify(planJson(planRun(inputs, inventoryOf(snapshot)).plan), null, 2)}\n`;
}
