/**
 * A cluster's model rendered and checked in one call (the CLI, the golden and example tests):
 * renderCluster's exact files through validateFiles, with the secrets the proxy task mounts.
 */
import type { ProxyModel } from '../plan/model';
import { renderCluster } from '../render/render-cluster';
import type { Validation } from './result';
import { mountedFiles, validateFiles } from './validate-files';

export type { Validation } from './result';

export interface ValidatorBinaries {
  readonly nginx?: string;
  readonly haproxy?: string;
}

/**
 * Check the model's rendered config with its proxy's own parser (`nginx -t` / `haproxy -c`), with
 * throw-away certificates standing in for the TLS secrets and the ACME certificates. `ok: true` with `skipped` when the
 * binary is not installed here (the proxy still validates before it reloads).
 */
export function validateCluster(model: ProxyModel, bins: ValidatorBinaries = {}): Validation {
  const rendered = renderCluster(model);
  const bin = bins[rendered.kind];
  // ACME certificates the core holds are files its agents write, and error pages mounted configs: checked like the core checks them.
  return validateFiles(rendered.kind, rendered.files, { secrets: mountedFiles(model), ...(bin !== undefined ? { bin } : {}) });
}
