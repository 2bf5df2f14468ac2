/**
 * `swarmgate wait route/NAME --for=Programmed [--timeout 60s]`: exit 0 once the condition is True
 * for the object's current generation; on timeout exit 1 with the last reason, and at once when the
 * object is rejected for a reason only a new spec fixes (../wait-for.ts). For CI pipelines.
 * `--for=condition=Programmed` (kubectl's form) and `--for=delete` work too.
 * `--for=canary=PHASE` waits for a Route's rollout phase instead (see ../canary-wait.ts): it also
 * exits 1 early when the rollout ends in another phase.
 */
import { parseTimeout } from '../timeout-option';
import { LABELS } from '../../domain/labels';
import { listStoredSpecs } from '../../desired/spec-store';
import type { DockerPort } from '../../observed/docker-port';
import { decodeStatus } from '../../domain/status-label';
import { asSeenNow, corePresence } from '../core-presence';
import { probeCanary, type Probe } from '../canary-wait';
import { goalText, parseWaitFor, probeConditionGoal, type WaitGoal } from '../wait-for';
import { EXIT, type Output } from '../output';
import { RouteRolloutReader } from '../route-rollout';
import { parseKind, resourceName } from '../kind-words';
import type { Kind } from '../../domain/meta';

/** A condition, or the object's absence, on what is stored now. */
async function probeStored(port: DockerPort, kind: Kind, name: string, goal: Exclude<WaitGoal, { kind: 'canary' }>): Promise<Probe> {
  const [{ current }, presence] = await Promise.all([listStoredSpecs(port), goal.kind === 'delete' ? undefined : corePresence(port)]);
  const spec = [...current.values()].find((s) => s.kind === kind && s.name === name);
  if (goal.kind === 'delete') return spec === undefined ? { verdict: 'met', message: 'deleted' } : { verdict: 'pending', last: `generation ${spec.generation} is still stored` };
  if (spec === undefined) return { verdict: 'pending', last: 'not found' };
  // A condition a gone core wrote is not met: Programmed and Ready read Unknown until a core runs again.
  const raw = decodeStatus(spec.config.Spec.Labels?.[LABELS.status]);
  const status = presence === undefined ? raw : asSeenNow(raw, presence);
  return probeConditionGoal(goal, spec.generation, status?.observedGeneration === spec.generation ? status.conditions : undefined);
}

export async function runWait(port: DockerPort, ref: string, forCondition: string, timeout: string, io: Output, pollMs = 250): Promise<number> {
  const [what, name] = ref.split('/');
  const kind = parseKind(what ?? '');
  if (kind === undefined || name === undefined || name === '') {
    io.err(`expected KIND/NAME such as route/shop, got "${ref}"`);
    return EXIT.usage;
  }
  const goal = parseWaitFor(forCondition);
  if ('error' in goal) {
    io.err(goal.error);
    return EXIT.usage;
  }
  if (goal.kind === 'canary' && kind !== 'Route') {
    io.err(`--for canary=PHASE applies to routes (route/${name}), not ${resourceName(kind)}s`);
    return EXIT.usage;
  }
  const limit = parseTimeout(timeout);
  if ('error' in limit) {
    io.err(limit.error);
    return EXIT.usage;
  }
  const reader = new RouteRolloutReader(port);
  const probe = (): Promise<Probe> => (goal.kind === 'canary' ? reader.read(name).then((l) => probeCanary(l, goal.phase)) : probeStored(port, kind, name, goal));
  const deadline = Date.now() + limit.ms;
  for (;;) {
    const p = await probe();
    if (p.verdict === 'met') {
      io.out(`${resourceName(kind)}/${name} condition met: ${p.message}`);
      return EXIT.ok;
    }
    if (p.verdict === 'lost') {
      io.err(`${resourceName(kind)}/${name} will not reach ${goalText(goal)}: ${p.message}`);
      return EXIT.invalid;
    }
    if (Date.now() >= deadline) {
      io.err(`timed out after ${timeout} waiting for ${resourceName(kind)}/${name} ${goalText(goal)}; last: ${p.last}`);
      return EXIT.invalid;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
