/**
 * `swarmgate wait route/NAME --for=Programmed [--timeout 60s]`: exit 0 once the condition is True
 * for the object's current generation; on timeout exit 1 with the last reason. For CI pipelines.
 */
import { durationMs } from '../../domain/brands';
import { LABELS } from '../../domain/labels';
import { listStoredSpecs } from '../../desired/spec-store';
import type { DockerPort } from '../../observed/docker-port';
import { currentCondition, parseStatus } from '../../status/object-status';
import { EXIT, type Output } from '../output';
import { parseKind, resourceName } from './apply';

export async function runWait(port: DockerPort, ref: string, forCondition: string, timeout: string, io: Output, pollMs = 250): Promise<number> {
  const [what, name] = ref.split('/');
  const kind = parseKind(what ?? '');
  if (kind === undefined || name === undefined || name === '') {
    io.err(`expected KIND/NAME such as route/shop, got "${ref}"`);
    return EXIT.usage;
  }
  const [type, wanted = 'True'] = forCondition.split('=');
  if (!/^\d+(ms|s|m|h)$/.test(timeout)) {
    io.err(`--timeout: expected a duration like 30s or 2m, got "${timeout}"`);
    return EXIT.usage;
  }
  const deadline = Date.now() + durationMs(timeout);
  let last = 'not observed yet';
  for (;;) {
    const { current } = await listStoredSpecs(port);
    const spec = [...current.values()].find((s) => s.kind === kind && s.name === name);
    if (spec === undefined) last = 'not found';
    else {
      const status = parseStatus(spec.config.Spec.Labels?.[LABELS.status]);
      const c = currentCondition(status, spec.generation, type ?? '');
      if (c !== undefined && c.status === wanted) {
        io.out(`${resourceName(kind)}/${name} condition met: ${type}=${wanted}`);
        return EXIT.ok;
      }
      last = c === undefined ? `generation ${spec.generation} not observed yet` : `${c.type}=${c.status} (${c.reason}): ${c.message}`;
    }
    if (Date.now() >= deadline) {
      io.err(`timed out after ${timeout} waiting for ${resourceName(kind)}/${name} ${type}=${wanted}; last: ${last}`);
      return EXIT.invalid;
    }
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
