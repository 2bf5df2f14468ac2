/**
 * The issuer's part of a run: tell it which certificates the routes want, and add its conditions
 * (CertificateReady on Routes, Ready on Issuers) to the model's, with each object's generation.
 */
import type { Condition } from '../../domain/conditions';
import { acmeOrders, issuersByName } from '../../plan/acme-routes';
import type { DesiredConfig } from '../../plan/pipeline';
import type { IssuerActor } from './issuer-actor';

export function withIssuerConditions(built: DesiredConfig, issuer: IssuerActor): DesiredConfig {
  const desired = built.desired;
  issuer.sync(acmeOrders(desired.routes, built.result.conditions), issuersByName(desired.issuers));
  const { routes, issuers } = issuer.conditions();
  const conditions: Record<string, readonly Condition[]> = { ...built.result.conditions };
  const add = (key: string, c: Condition, generation: number | undefined): void => {
    const existing = conditions[key] ?? [];
    if (existing.some((x) => x.type === c.type)) return;
    conditions[key] = [...existing, { ...c, ...(generation !== undefined ? { observedGeneration: generation } : {}) }];
  };
  for (const r of desired.routes) {
    const c = routes.get(r.object.metadata.name);
    if (c !== undefined) add(`Route/${r.object.metadata.name}`, c, r.generation);
  }
  for (const i of desired.issuers ?? []) {
    const c = issuers.get(i.object.metadata.name);
    if (c !== undefined) add(`Issuer/${i.object.metadata.name}`, c, i.generation);
  }
  return { ...built, result: { ...built.result, conditions } };
}
