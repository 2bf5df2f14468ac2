/**
 * Where error pages live in a proxy task. A page is a Swarm config (labelled ERROR_PAGE_LABEL) that
 * the proxy service mounts read-only at PAGES_DIR/<config name>: its bytes go from Swarm to the task
 * directly, whatever the delivery (rolling or hitless), so they never pass through swarmgate's
 * configs, model or gRPC stream, and a page of any size works. Swarm configs are immutable: a new
 * page is a new config, which the service mounts with a rolling update (like a basicAuth secret).
 */
import type { SwarmName } from '../domain/brands';

/** The directory page configs are mounted in (outside /run/secrets, so a secret and a config of one name never meet). */
export const PAGES_DIR = '/run/swarmgate-pages';

export function pagePath(config: SwarmName | string): string {
  return `${PAGES_DIR}/${config}`;
}
