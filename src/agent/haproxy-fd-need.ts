/**
 * Whether HAProxy can open the file descriptors a config needs, before the agent reloads onto it.
 * HAProxy raises its own RLIMIT_NOFILE at start to what the config needs and refuses to load when
 * the hard limit is lower ("Cannot raise FD limit to N, limit is M"), but `haproxy -c` does not
 * look: the check passes and the reload fails. The need grows with the routes (one descriptor per
 * health-checked server, and Dynamic endpoints give every backend 8 checked slots, ADR 0031), so a
 * cluster that grows past the proxy task's limit would otherwise fail where no check sees it.
 *
 * The figure is a lower bound of HAProxy 2.6's own: 2 × maxconn (a client and a server socket per
 * connection), one per listener (`bind` line) and one per server with health checks (a `check` on
 * its line or on its backend's `default-server`); measured with `prlimit` and the "Cannot raise FD
 * limit" message, HAProxy adds about 16 for its pollers, wake-up pipes and standard streams. A
 * config needing more than the bound is certain not to load; one just under it can still be
 * refused at the reload, which the agent then sees on the master CLI (haproxy-master-cli.ts).
 */
import { readFileSync } from 'node:fs';
import { PASSED, type Validation } from '../validate/result';

export interface HaproxyFdNeed {
  /** The global `maxconn`; undefined when the config sets none (HAProxy then sizes it to the limit). */
  readonly maxconn: number | undefined;
  readonly listeners: number;
  readonly checkedServers: number;
  /** 2 × maxconn + listeners + checked servers. */
  readonly atLeast: number;
}

const SECTION = /^(global|defaults|frontend|backend|listen|peers|resolvers|userlist|program|http-errors|ring|cache|mailers)\b/;
const hasCheck = (line: string): boolean => /(^|\s)check(\s|$)/.test(line) && !/(^|\s)no-check(\s|$)/.test(line);

export function haproxyFdNeed(config: string): HaproxyFdNeed {
  let section = '';
  let maxconn: number | undefined;
  let listeners = 0;
  let checkedServers = 0;
  // A backend's `default-server` applies to the server lines after it.
  let defaultChecks = false;
  for (const raw of config.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const header = SECTION.exec(raw);
    if (header !== null) {
      section = header[1] ?? '';
      defaultChecks = false;
      continue;
    }
    const word = line.split(/\s+/, 1)[0];
    if (section === 'global' && word === 'maxconn') maxconn = Number(line.split(/\s+/)[1]);
    else if (word === 'bind' && (section === 'frontend' || section === 'listen')) listeners++;
    else if (word === 'default-server') defaultChecks = hasCheck(line);
    else if (word === 'server' && (section === 'backend' || section === 'listen') && (defaultChecks || hasCheck(line))) checkedServers++;
  }
  const known = maxconn !== undefined && Number.isFinite(maxconn) ? maxconn : undefined;
  return { maxconn: known, listeners, checkedServers, atLeast: 2 * (known ?? 0) + listeners + checkedServers };
}

/** The hard "Max open files" of /proc/<pid>/limits' text; undefined when unlimited or absent. */
export function nofileHardLimit(limits: string): number | undefined {
  const m = /^Max open files\s+\S+\s+(\S+)/m.exec(limits);
  const hard = m?.[1];
  return hard === undefined || hard === 'unlimited' ? undefined : Number(hard);
}

/** This process's hard limit: what the HAProxy it starts inherits (undefined off Linux). */
export function ownNofileHardLimit(): number | undefined {
  try {
    return nofileHardLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

/** Fails, saying what to change, when `config` cannot load under a hard limit of `limit` descriptors. */
export function checkHaproxyFds(config: string, limit: number | undefined): Validation {
  const need = haproxyFdNeed(config);
  if (limit === undefined || need.maxconn === undefined || need.atLeast <= limit) return PASSED;
  return {
    ok: false,
    output:
      `HAProxy would need at least ${need.atLeast} file descriptors for this configuration (2 × maxconn ${need.maxconn}, ` +
      `${need.listeners} listeners, ${need.checkedServers} health-checked servers) and the proxy task may open ${limit} ` +
      "(its hard RLIMIT_NOFILE, the Docker daemon's limit for containers): HAProxy would refuse to load it. Put fewer " +
      'backends in this cluster, use proxy.endpoints: Static (Dynamic endpoints give every backend 8 health-checked ' +
      "server slots), or raise the daemon's nofile limit (its default-ulimits).",
  };
}
