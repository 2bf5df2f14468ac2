/**
 * `swarmgate wait route/NAME --for=Programmed [--timeout 60s]`: exit 0 once the condition is True
 * for the object's current generation; on timeout exit 1 with the last reason. For CI pipelines.
 * `--for=canary=PHASE` waits for a Route's rollout phase instead (see ../canary-wait.ts): it also
 * exits 1 early when the rollout ends in another phase.
 */
import { parseTimeout } from '../timeout-option';
import { LABELS } from '../../domain/labels';
import { listStoredSpecs } from '../../desired/spec-store';
import type { DockerPort } from '../../observed/docker-port';
import { currentCondition, parseStatus } from '../../status/object-status';
import { parseCanaryFor, probeCanary, type Probe } from '../canary-wait';
import { EXIT, type Output } from '../output';
import { RouteRolloutReader } from '../route-rollout';
import { parseKind, resourceName } from './apply';
import type { Kind } from '../../domain/meta';

/** A condition on the object's stored status label. */
async function probeCondition(port: DockerPort, kind: Kind, name: string, type: string, wanted: string): Promise<Probe> {
  const { current } = await listStoredSpecs(port);
  const spec = [...current.values()].find((s) => s.kind === kind && s.name === name);
  if (spec === undefined) return { verdict: 'pending', last: 'not found' };
  const status = parseStatus(spec.config.Spec.Labels?.[LABELS.status]);
  const c = currentCondition(status, spec.generation, type);
  if (c !== undefined && c.status === wanted) return { verdict: 'met', message: `${type}=${wanted}` };
  return { verdict: 'pending', last: c === undefined ? `generation ${spec.generation} not observed yet` : `${c.type}=${c.status} (${c.reason}): ${c.message}` };
}

export async function runWait(port: DockerPort, ref: string, forCondition: string, timeout: string, io: Output, pollMs = 250): Promise<number> {
  const [what, name] = ref.split('/');
  const kind = parseKind(what ?? '');
  if (kind === undefined || name === undefined || name === '') {
    io.err(`expected KIND/NAME such as route/shop, got "${ref}"`);
    return EXIT.usage;
  }
  const canary = parseCanaryFor(forCondition);
  if (canary !== undefined && 'error' in canary) {
    io.err(canary.error);
    return EXIT.usage;
  }
  if (canary !== undefined && kind !== 'Route') {
    io.err(`--for canary=PHASE applies to routes (route/${name}), not ${resourceName(kind)}s`);
    return EXIT.usage;
  }
  const [type, wanted = 'True'] = forCondition.split('=');
  const limit = parseTimeout(timeout);
  if ('error' in limit) {
    io.err(limit.error);
    return EXIT.usage;
  }
  const reader = new RouteRolloutReader(port);
  const probe = (): Promise<Probe> =>
    canary !== undefined ? reader.read(name).then((l) => probeCanary(l, canary.phase)) : probeCondition(port, kind, name, type ?? '', wanted);
  const goal = canary !== undefined ? `canary=${canary.phase}` : `${type}=${wanted}`;
  const deadline = Date.now() + limit.ms;
  for (;;) {
    const p = await probe();
    if (p.verdict === 'met') {
      io.out(`${resourceName(kind)}/${name} condition met: ${p.message}`);
      return EXIT.ok;
    }
    if (p.verdict === 'lost') {
      io.err(`${resourceName(kind)}/${name} will not reach ${goal}: ${p.message}`);
      return EXIT.invalid;
    }
    if (Date.now() >= deadline) {
      io.err(`timed out after ${timeout} waiting for ${resourceName(kind)}/${name} ${goal}; last: ${p.last}`);
      return EXIT.invalid;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
