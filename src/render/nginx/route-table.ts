/**
 * Routes as data (ADR 0050): on dynamic NGINX, a host whose every location only proxies (a rule's
 * upstream or weighted split, nothing else of its own) is not a `server` block. Its name joins the
 * `server_name` list of one shared "table server" per listener shape, and its locations become one
 * line of the endpoint set the agent pushes: `@HOST KIND PATH ROUTE TARGET...`, KIND `=` (exact) or
 * `^` (prefix). sg.route() (lua-balancer.ts) picks the location as NGINX would (an exact path, else
 * the longest prefix) and sets `$sg_route` and `$sg_upstream`.
 *
 * Why: lua-nginx-module builds an OpenSSL context for every `server` and `location` block at every
 * `nginx -t` and reload (ADR 0036), so a config's check and reload grew with its routes (8–9 s at
 * 10,000). A server name costs a hash entry, not a context: the table server has a handful of
 * contexts whatever the number of hosts, and a change of a tabled host's paths or backends changes
 * only its line (no reload).
 *
 * What is tabled is an allow-list of view fields with their plain values: a field this file does
 * not know (a future feature) keeps the host a block, so the table never drops a behaviour.
 */
import { nginxEscape } from './escape';
import type { LocationView, ProxyBodyView, ServerView } from './view-types';

/** A host's line: `@HOST` then, per location, `KIND PATH ROUTE TARGET` (TARGET an upstream or `=`split). */
export const ROUTE_LINE = /^@(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?: [=^] \/[A-Za-z0-9._~+,:@/=&-]* [A-Za-z0-9._-]+ =?[A-Za-z0-9_]+)+$/;

/** Body fields that may be present on a tabled location, each with the test its value must pass (an absent field is not looked at). */
const PLAIN_BODY: Readonly<Record<string, (v: unknown) => boolean>> = {
  route: () => true,
  target: (v) => typeof v === 'string' && !v.startsWith('$'),
  dataSplit: () => true,
  unavailable: (v) => v === false,
  proxy: (v) => v === true,
  module: (v) => v === 'proxy',
  scheme: (v) => v === 'http',
  grpc: (v) => v === false,
  customHeaders: (v) => v === false,
  websocket: (v) => v === false,
  ownAddHeaders: (v) => v === false,
  limitStatus: (v) => v === false,
  fixedHeaders: empty,
  userHeaders: empty,
  hideHeaders: empty,
  addHeaders: empty,
  forbidden: empty,
  limitReq: empty,
  limitConn: empty,
};

/** Server fields a tabled host may have; those marked `shape` must be equal across the hosts of one table server. */
const PLAIN_SERVER: Readonly<Record<string, 'name' | 'shape' | ((v: unknown) => boolean)>> = {
  serverName: 'name',
  listenHttp: 'shape',
  tlsListener: 'shape',
  httpsRedirect: 'shape',
  acmeHttp01: 'shape',
  forwardedFor: 'shape',
  defaultServer: (v) => v === false,
  rejectTls: (v) => v === false,
  fixed503: (v) => v === false,
  named: empty,
  locations: (v) => Array.isArray(v) && v.length > 0,
};

function empty(v: unknown): boolean {
  return Array.isArray(v) && v.length === 0;
}

function plainBody(b: ProxyBodyView): boolean {
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    const ok = PLAIN_BODY[k];
    if (ok === undefined || !ok(v)) return false;
  }
  return b.proxy && (b.dataSplit !== undefined || b.target !== undefined);
}

function plainLocation(l: LocationView): l is LocationView & { readonly body: ProxyBodyView } {
  return l.dispatch.length === 0 && !l.ownErrorPages && l.recursiveErrorPages !== true && l.body !== undefined && plainBody(l.body);
}

/** What a tabled host gives the table: its table server's shape and its location entries. */
interface Tabled {
  readonly shape: string;
  readonly host: string;
  /** Its line of the endpoint set, made once per view (a render reuses it, ADR 0043). */
  readonly line: string;
  readonly routes: readonly string[];
}

/** A host that stays a block: the routes its locations serve (the config's header names them). */
interface Block {
  readonly routes: readonly string[];
}

/** Per server view (views are never changed once built, and a kept host's view is the same object, ADR 0043). */
const tabledOf = new WeakMap<ServerView, Tabled | Block>();

function tabled(s: ServerView): Tabled | Block {
  const known = tabledOf.get(s);
  if (known !== undefined) return known;
  const t = classify(s) ?? { routes: [...new Set([...s.locations.map((l) => l.body), ...s.named.map((n) => n.body)].flatMap((b) => (b !== undefined ? [b.route] : [])))] };
  tabledOf.set(s, t);
  return t;
}

function classify(s: ServerView): Tabled | null {
  const shape: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined) continue;
    const rule = PLAIN_SERVER[k];
    if (rule === undefined) return null;
    if (rule === 'shape') shape[k] = v;
    else if (rule !== 'name' && !rule(v)) return null;
  }
  const entries: string[] = [];
  const routes = new Set<string>();
  for (const l of s.locations) {
    if (!plainLocation(l)) return null;
    const target = l.body.dataSplit !== undefined ? `=${l.body.dataSplit}` : String(l.body.target);
    entries.push(`${l.exact ? '=' : '^'} ${l.path} ${l.body.route} ${target}`);
    routes.add(l.body.route);
  }
  const host = s.serverName.toLowerCase();
  const line = `@${host} ${entries.join(' ')}`;
  // A value outside the line's alphabet (a route name an older source allowed, say) keeps the host a block.
  return ROUTE_LINE.test(line) ? { shape: JSON.stringify(shape, Object.keys(shape).sort()), host, line, routes: [...routes] } : null;
}

export interface RouteTable {
  /** The servers to render: the blocks kept, in order, then one table server per shape. */
  readonly servers: readonly ServerView[];
  /** One line per tabled host, for the endpoint set. */
  readonly lines: readonly string[];
  /** The routes served only by the table (no kept block names them): the config's header leaves them out. */
  readonly onlyTabled: ReadonlySet<string>;
}

/**
 * Moves every tabled host out of `servers` into its shape's table server. A host rendered as two
 * servers (one per listener, clientAddress XForwardedFor) joins two table servers with one line.
 */
export function routeTable(servers: readonly ServerView[]): RouteTable {
  const kept: ServerView[] = [];
  const byShape = new Map<string, { readonly sample: ServerView; readonly names: string[] }>();
  const lines: string[] = [];
  // A host rendered as two servers (one per listener, clientAddress XForwardedFor) is met twice in a
  // row (the view model puts a host's servers together), the same line each time.
  let lastHost = '';
  const tabledRoutes = new Set<string>();
  const blockRoutes = new Set<string>();
  for (const s of servers) {
    const t = tabled(s);
    if (!('shape' in t)) {
      kept.push(s);
      for (const r of t.routes) blockRoutes.add(r);
      continue;
    }
    for (const r of t.routes) tabledRoutes.add(r);
    const group = byShape.get(t.shape);
    if (group === undefined) byShape.set(t.shape, { sample: s, names: [t.host] });
    else group.names.push(t.host);
    if (t.host === lastHost) continue;
    lastHost = t.host;
    lines.push(t.line);
  }
  const tables = [...byShape.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([shape, g]): ServerView => keptTableServer(shape, g.sample, g.names.sort()));
  const onlyTabled = new Set([...tabledRoutes].filter((r) => !blockRoutes.has(r)));
  return { servers: [...kept, ...tables], lines, onlyTabled };
}

/**
 * The last table server of each shape, reused while its names are the same: the render's fragment
 * memo then finds its block by identity instead of comparing the JSON of every name (ADR 0043's rule:
 * views are never changed once built). A view is a function of the shape and the names alone.
 */
const lastTables = new Map<string, { readonly names: readonly string[]; readonly view: ServerView }>();
/** More shapes than this (many clusters with other listener shapes) start the cache afresh. */
const MAX_SHAPES = 64;

function keptTableServer(shape: string, sample: ServerView, names: readonly string[]): ServerView {
  const last = lastTables.get(shape);
  if (last !== undefined && sameNames(last.names, names)) return last.view;
  const view = tableServer(sample, names);
  if (lastTables.size >= MAX_SHAPES) lastTables.clear();
  lastTables.set(shape, { names, view });
  return view;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The shared server of one shape: the sample's listeners and server-wide settings, every host's name, the Lua router. */
function tableServer(sample: ServerView, names: readonly string[]): ServerView {
  const { locations: _locations, named: _named, serverName: _name, ...shared } = sample;
  let tableHostsText = '';
  for (const n of names) tableHostsText += `            "${nginxEscape(n)}"\n`;
  return { ...shared, serverName: names[0] ?? '_', tableHosts: names, tableHostsText, routeTable: true, locations: [], named: [] };
}
