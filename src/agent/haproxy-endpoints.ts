/**
 * Dynamic endpoints on HAProxy (ADR 0031): the agent's side. The config gives every backend a
 * fixed number of server slots (src/render/haproxy/dynamic-slots.ts); the agent keeps which task
 * address sits in which slot and
 * - on a task change (haproxy.cfg unchanged) sends the difference through the runtime API socket
 *   (`set server <b>/<s> addr <ip> port <p>`, `health up`, `state ready`; a removed task's slot
 *   `state maint`): no check, no reload, the workers stay the same processes;
 * - before every start and reload writes HAProxy's server-state file from that table, which the
 *   new worker loads before it serves (`load-server-state-from-file`), so the set survives a
 *   reload, a restart of HAProxy and a restart of the agent (it reads the table back from the file).
 * A task keeps its slot while it lives (so a slot's inserted cookie keeps naming it); a new task
 * takes a slot that was already empty before this change when there is one, so a slot is not
 * handed to another task in the same change that freed it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { HAPROXY_ENDPOINT_LINE, SLOT_ADDRESS, slotName } from '../render/haproxy/dynamic-slots';
import { haproxyDynamicPaths } from '../render/haproxy/options';
import type { Validation } from '../validate/result';

/** A backend's slots: index i holds slot s<i+1>'s task address ("ip:port", "[v6]:port") or null. */
export interface BackendSlots {
  readonly check: boolean;
  readonly slots: readonly (string | null)[];
}
export type SlotTable = ReadonlyMap<string, BackendSlots>;

interface Wanted {
  readonly slots: number;
  readonly check: boolean;
  readonly members: readonly string[];
}

/** endpoints.txt → backend → wanted members; throws on a line that does not match the format. */
export function parseHaproxyEndpoints(text: string): Map<string, Wanted> {
  const out = new Map<string, Wanted>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!HAPROXY_ENDPOINT_LINE.test(line)) throw new Error(`malformed endpoint line: ${line.slice(0, 200)}`);
    const [name = '', slots = '0', check = '0', ...members] = line.split(' ');
    if (members.length > Number(slots)) throw new Error(`backend ${name} has ${members.length} members for ${slots} slots`);
    out.set(name, { slots: Number(slots), check: check === '1', members });
  }
  return out;
}

/**
 * The table for `wanted`, keeping every task that stays in its slot (`current`), and the runtime
 * API commands that turn `current` into it (additions first, so a replaced task never leaves a
 * backend empty in between): only for the slots that change, or with `whole` for every slot (after
 * a push HAProxy refused part of, the worker may hold anything between the two tables).
 */
export function assignSlots(current: SlotTable, wanted: ReadonlyMap<string, Wanted>, whole = false): { table: Map<string, BackendSlots>; commands: string[] } {
  const table = new Map<string, BackendSlots>();
  const additions: string[] = [];
  const removals: string[] = [];
  for (const [backend, w] of wanted) {
    const before = current.get(backend)?.slots ?? [];
    const keep = new Set(w.members);
    const slots: (string | null)[] = Array.from({ length: w.slots }, (_, i) => {
      const a = before[i] ?? null;
      return a !== null && keep.has(a) ? a : null;
    });
    const placed = new Set(slots.filter((a): a is string => a !== null));
    const freeBefore = slots.map((a, i) => (a === null && (before[i] ?? null) === null ? i : -1)).filter((i) => i >= 0);
    const freedNow = slots.map((a, i) => (a === null && (before[i] ?? null) !== null ? i : -1)).filter((i) => i >= 0);
    const free = [...freeBefore, ...freedNow];
    const fill = (i: number, m: string): void => {
      const { ip, port } = splitAddress(m);
      const s = `${backend}/${slotName(i + 1)}`;
      additions.push(`set server ${s} addr ${ip} port ${port}`, ...(w.check ? [`set server ${s} health up`] : []), `set server ${s} state ready`);
    };
    if (whole) slots.forEach((a, i) => a !== null && fill(i, a));
    for (const m of w.members) {
      if (placed.has(m)) continue;
      const i = free.shift();
      if (i === undefined) throw new Error(`backend ${backend}: no free slot for ${m}`);
      slots[i] = m;
      placed.add(m);
      fill(i, m);
    }
    slots.forEach((a, i) => {
      if (a === null && (whole || (before[i] ?? null) !== null)) removals.push(`set server ${backend}/${slotName(i + 1)} state maint`);
    });
    table.set(backend, { check: w.check, slots });
  }
  return { table, commands: [...additions, ...removals] };
}

function splitAddress(a: string): { ip: string; port: string } {
  const at = a.lastIndexOf(':');
  return { ip: a.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: a.slice(at + 1) };
}

const STATE_HEADER =
  '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
const FQDN = SLOT_ADDRESS.split(':')[0] ?? '';

/**
 * HAProxy's server-state file (format version 1, as `show servers state` writes it) for the table:
 * a filled slot running and out of maintenance at its task's address, an empty one at 0.0.0.0 in
 * maintenance. IDs are not forced, so HAProxy matches lines by backend and server name.
 */
export function serverStateText(table: SlotTable): string {
  const lines = ['1', STATE_HEADER];
  let be = 0;
  for (const [backend, b] of table) {
    be++;
    b.slots.forEach((a, i) => {
      const id = `${be} ${backend} ${i + 1} ${slotName(i + 1)}`;
      if (a === null) lines.push(`${id} 0.0.0.0 0 5 1 1 0 1 0 0 14 0 0 0 ${FQDN} 1 - 0 0 - - 0`);
      else {
        const { ip, port } = splitAddress(a);
        lines.push(`${id} ${ip} 2 4 1 1 0 1 0 1 6 0 0 0 ${FQDN} ${port} - 0 0 - - 0`);
      }
    });
  }
  return `${lines.join('\n')}\n`;
}

/** The table back from a state file this module wrote (an agent that starts next to a running HAProxy). */
export function parseServerState(text: string): Map<string, BackendSlots> {
  const table = new Map<string, (string | null)[]>();
  for (const line of text.split('\n').slice(1)) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const f = line.split(' ');
    const [backend, id, addr, op, port] = [f[1] ?? '', Number(f[2]), f[4] ?? '', f[5], f[18] ?? ''];
    if (backend === '' || !(id > 0)) continue;
    const slots = table.get(backend) ?? [];
    slots[id - 1] = op === '2' && addr !== '0.0.0.0' ? (addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`) : null;
    table.set(backend, slots);
  }
  return new Map([...table].map(([b, slots]) => [b, { check: false, slots: Array.from(slots, (a) => a ?? null) }]));
}

/** Answers of the runtime API that mean a command did nothing (anything else it prints is a success note). */
const FAILED = /No such|Require|requires|Invalid|not supported|only supported|Unknown command|Permission denied|can't|cannot|error/i;

/** Send commands over the runtime API socket, a few kilobytes per connection (one line each); rejects on any refusal. */
export async function runtimeCommands(socket: string, commands: readonly string[], timeoutMs = 10_000): Promise<void> {
  const batches: string[][] = [[]];
  let size = 0;
  for (const c of commands) {
    if (size + c.length > 8_000 && (batches[batches.length - 1]?.length ?? 0) > 0) {
      batches.push([]);
      size = 0;
    }
    batches[batches.length - 1]?.push(c);
    size += c.length + 2;
  }
  for (const batch of batches) {
    if (batch.length === 0) continue;
    const answer = await new Promise<string>((resolve, reject) => {
      const sock = connect(socket);
      let text = '';
      sock.setTimeout(timeoutMs, () => sock.destroy(new Error(`HAProxy's runtime API did not answer within ${timeoutMs} ms`)));
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (text += d));
      sock.once('error', reject);
      sock.once('close', () => resolve(text));
      sock.once('connect', () => sock.end(`${batch.join('; ')}\n`));
    });
    const refused = answer.split('\n').filter((l) => FAILED.test(l));
    if (refused.length > 0) throw new Error(`HAProxy refused endpoint commands: ${refused.slice(0, 3).join(' / ').slice(0, 300)}`);
  }
}

/** The agent's slot table, its state file and its runtime API socket (under the config's runtimeDir). */
export class HaproxyEndpoints {
  private table: Map<string, BackendSlots>;
  /** A push failed part-way: the worker may hold any mix of the two tables, so the next push sets every slot. */
  private unsure = false;
  private readonly stateFile: string;
  private readonly socket: string;

  constructor(runtimeDir: string) {
    const p = haproxyDynamicPaths(runtimeDir);
    this.stateFile = p.stateFile;
    this.socket = p.adminSocket;
    // A state file left by the previous agent describes what the running HAProxy holds.
    this.table = existsSync(this.stateFile) ? parseServerState(readFileSync(this.stateFile, 'utf8')) : new Map();
  }

  /** Before a start or a reload: the set into the table and the state file the new worker loads (no command sent). */
  stage(endpoints: string | Uint8Array | undefined): Validation {
    try {
      if (endpoints !== undefined) this.table = assignSlots(this.table, parseHaproxyEndpoints(endpoints.toString())).table;
      this.writeState();
      return { ok: true, output: '' };
    } catch (err) {
      return { ok: false, output: err instanceof Error ? err.message : String(err) };
    }
  }

  /** A task change: the difference through the runtime API, then the state file and `confDir`'s endpoints.txt. */
  async push(confDir: string, endpointsFile: string, endpoints: Uint8Array): Promise<Validation & { readonly commands?: number }> {
    try {
      const { table, commands } = assignSlots(this.table, parseHaproxyEndpoints(endpoints.toString()), this.unsure);
      // Set before the commands go: HAProxy may apply some of them and refuse the rest.
      this.unsure = true;
      await runtimeCommands(this.socket, commands);
      this.unsure = false;
      this.table = table;
      this.writeState();
      const target = join(confDir, endpointsFile);
      writeFileSync(`${target}.next`, endpoints);
      renameSync(`${target}.next`, target);
      return { ok: true, output: '', commands: commands.length };
    } catch (err) {
      return { ok: false, output: err instanceof Error ? err.message : String(err) };
    }
  }

  private writeState(): void {
    mkdirSync(dirname(this.stateFile), { recursive: true });
    writeFileSync(`${this.stateFile}.next`, serverStateText(this.table));
    renameSync(`${this.stateFile}.next`, this.stateFile);
  }
}
