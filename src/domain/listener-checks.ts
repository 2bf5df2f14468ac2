/** Cross-field rules of a ServiceCluster's listeners: unique names, no port used twice on the proxy. */
import type { Issue } from './issue';
import { listenerSwarmProtocol, RESERVED_TASK_PORTS } from './listener';
import type { ServiceClusterSpec } from './service-cluster';

export function listenerIssues(spec: ServiceClusterSpec): Issue[] {
  const out: Issue[] = [];
  const names = new Set<string>();
  const ports = new Map<string, string>();
  const { http, https } = spec.proxy.publish;
  spec.listeners.forEach((l, i) => {
    const at = ['spec', 'listeners', i];
    if (names.has(l.name)) out.push({ path: [...at, 'name'], message: `duplicate listener name "${l.name}"` });
    names.add(l.name);
    if (l.port === http || l.port === https)
      out.push({ path: [...at, 'port'], message: `port ${l.port} is the cluster's published ${l.port === http ? 'http' : 'https'} port` });
    else if (RESERVED_TASK_PORTS.includes(l.port))
      out.push({ path: [...at, 'port'], message: `port ${l.port} is used by the proxy inside its task (reserved: ${RESERVED_TASK_PORTS.join(', ')})` });
    // TCP and UDP may share a number (Swarm publishes them separately); TLS is TCP on the wire.
    const key = `${listenerSwarmProtocol(l)}/${l.port}`;
    const other = ports.get(key);
    if (other !== undefined) out.push({ path: [...at, 'port'], message: `${key} is already listener "${other}"'s port` });
    else ports.set(key, l.name);
  });
  return out;
}
