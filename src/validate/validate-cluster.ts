/**
 * The check every rendered cluster config passes before it is delivered: its proxy's own parser
 * (`nginx -t` / `haproxy -c`), chosen by the model's proxy kind.
 */
import type { ProxyModel } from '../plan/model';
import { validateHaproxy } from './haproxy';
import { validateNginx, type Validation } from './nginx';

export type { Validation } from './nginx';

export interface ValidatorBinaries {
  readonly nginx?: string;
  readonly haproxy?: string;
}

/**
 * Check the model's rendered config with its proxy's own parser (`nginx -t` / `haproxy -c`), with
 * throw-away certificates standing in for the TLS secrets. `ok: true` with `skipped` when the
 * binary is not installed here (the proxy still validates before it reloads).
 */
export function validateCluster(model: ProxyModel, bins: ValidatorBinaries = {}): Validation {
  return model.spec.proxy.kind === 'haproxy' ? validateHaproxy(model, bins.haproxy) : validateNginx(model, bins.nginx);
}
