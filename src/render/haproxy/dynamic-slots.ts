/**
 * Dynamic endpoints on HAProxy (ADR 0031): every backend gets a fixed number of server slots whose
 * address the proxy agent sets through HAProxy's runtime API (`set server <b>/<s> addr … port …`,
 * `state ready|maint`), so task churn changes neither haproxy.cfg nor the running workers. The
 * config carries routes only; the members travel beside it as `endpoints.txt`, one line per
 * backend: `BACKEND SLOTS CHECK(0|1) ADDRESS:PORT...` (HAPROXY_ENDPOINT_LINE guards the format
 * on both sides).
 *
 * An empty slot names a placeholder host (`sg-slot.invalid`, never resolved) with
 * `init-addr last,0.0.0.0`: HAProxy takes the address from the server-state file the agent writes
 * before every start and reload (`last`), else 0.0.0.0 in maintenance (`disabled`). The placeholder
 * matters: HAProxy 2.6 restores a state file's address only for a server whose address came
 * through init-addr, never for an IP literal, and it refuses to set an address on a server
 * without an address family (hence 0.0.0.0, not `none`).
 */
import { token, type Token } from '../token';
import type { BackendView, ServerView } from './view-types';

/** A backend has at least this many slots; more in powers of two (see slotCount). */
export const MIN_SLOTS = 8;
export const SLOT_ADDRESS = token('sg-slot.invalid:1');
/** One line of endpoints.txt for HAProxy: backend, slot count, whether checks run, members. */
export const HAPROXY_ENDPOINT_LINE = /^[A-Za-z0-9_.:@-]+ [1-9][0-9]* [01]( (\d{1,3}(\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5})*$/;

/**
 * Slots for a backend of `members` tasks: MIN_SLOTS, doubled until they hold every member. A scale
 * within the same power of two changes nothing in haproxy.cfg; crossing one (e.g. 8 → 9 tasks)
 * renders more (or fewer) slots, which is a reload (the state file keeps the members across it).
 */
export function slotCount(members: number): number {
  let n = MIN_SLOTS;
  while (n < members) n *= 2;
  return n;
}

export const slotName = (i: number): Token => token(`s${i}`);

/**
 * A backend rendered with slots instead of one server per task: every slot takes the options of
 * the backend's servers (checks, TLS, PROXY protocol) from one `default-server` line, a cookie value of its own when the backend
 * inserts cookies (`cookieTag`), and the members are kept for the endpoints line.
 */
export function slottedBackend(b: BackendView, cookieTag: string | undefined, attemptsEveryServer: boolean): BackendView {
  const [first] = b.servers;
  const count = slotCount(b.servers.length);
  const slots: ServerView[] = Array.from({ length: count }, (_, i) => ({
    name: slotName(i + 1),
    address: SLOT_ADDRESS,
    slot: true,
    ...(cookieTag !== undefined ? { serverCookie: token(`${cookieTag}.${slotName(i + 1)}`) } : {}),
  }));
  return {
    ...b,
    // "Every server once" (NGINX's tries 0) cannot follow the task count without changing the config: every slot once.
    ...(attemptsEveryServer ? { retries: count - 1 } : {}),
    servers: slots,
    // Every server of a backend has the same options; only the name, address and cookie are each its own.
    slotDefaults: { name: slotName(0), address: SLOT_ADDRESS, ...(first?.sendProxy === true ? { sendProxy: true } : {}), ...(first?.passiveHealth !== undefined ? { passiveHealth: first.passiveHealth } : {}) },
    members: b.servers.map((s) => s.address),
  };
}

/** The endpoints line of a slotted backend. */
export function haproxyEndpointLine(b: BackendView): string {
  const check = b.slotDefaults?.passiveHealth !== undefined ? 1 : 0;
  const line = [b.name, String(b.servers.length), String(check), ...(b.members ?? [])].join(' ');
  // Every part is generated or an allow-listed address; this guards the format the agent parses.
  if (!HAPROXY_ENDPOINT_LINE.test(line)) throw new Error(`HAProxy endpoint line does not match its format: ${line.slice(0, 200)}`);
  return line;
}
