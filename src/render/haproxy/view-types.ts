/**
 * The shapes of the HAProxy view model: what the mustache templates (templates.ts) read. Logic-less
 * templates get every decision precomputed here (tokens already allow-listed, strings escaped).
 */
import type { Token } from '../token';
import type { L4FrontendView } from './stream-listeners';
import type { PolicyFrontendView, StickTableView } from './policies';
import type { ClientCertCheckView, TlsListener } from './client-certificates';
import type { CrtList } from './crt-list';

export interface EditView {
  readonly verb: Token;
  readonly name: string;
  readonly hasValue: boolean;
  readonly value: string;
}

export interface ResponseEditView extends EditView {
  readonly acl: Token;
}

export interface ServerView {
  readonly name: Token;
  readonly address: Token;
  readonly serverCookie?: Token;
  readonly passiveHealth?: { readonly upInterval: string; readonly failTimeout: string; readonly maxFails: number };
  /** PROXY protocol v1 to the server (TCPRoute proxyProtocol). */
  readonly sendProxy?: boolean;
  /** Dynamic endpoints (dynamic-slots.ts): an empty slot the agent fills through the runtime API. */
  readonly slot?: boolean;
}

export interface BackendView {
  readonly name: Token;
  /** errorPages: `http-error` per status, and `http-response return` per status for the servers' answers. */
  readonly errorPages?: {
    readonly own: readonly { readonly status: number; readonly contentType: string; readonly file: string }[];
    readonly upstream: readonly { readonly status: number; readonly contentType: string; readonly file: string }[];
  };
  readonly route: string;
  readonly tcp: boolean;
  readonly balanceRoundRobin: boolean;
  readonly balanceSource: boolean;
  readonly balanceCookie?: { readonly cookieName: Token };
  readonly consistentHash: boolean;
  readonly cookieAffinity?: { readonly cookieName: Token; readonly maxAge: number };
  readonly timeouts: readonly { readonly kind: Token; readonly value: string }[];
  readonly retries: number;
  /** `retries` is "every server once" (NGINX's tries 0), so it follows the server count. */
  readonly retriesEveryServer?: boolean;
  readonly customRetryOn?: { readonly keywords: readonly Token[] };
  readonly protectNonIdempotent: boolean;
  readonly blockUpgrade: boolean;
  readonly requestEdits: readonly EditView[];
  readonly replacePath?: { readonly pattern: string; readonly replacement: string };
  /** Middleware requestBody.buffering: true (`option http-buffer-request`). */
  readonly bufferRequest: boolean;
  /** Middleware compression: gzip these media types. */
  readonly compression?: { readonly types: readonly string[] };
  readonly setPath?: string;
  /** Server keywords for the protocol spoken to the servers (`proto h2`, `ssl ...`); absent: HTTP/1.1. */
  readonly upstreamProtocol?: readonly Token[];
  /** Backend TLS: SNI and verified name, CA bundle file, client certificate PEM (see upstreamTlsView). */
  readonly upstreamTls?: { readonly upstreamSni?: string; readonly upstreamCa?: string; readonly upstreamPem?: string };
  readonly servers: readonly ServerView[];
  /** Dynamic endpoints: what every slot's `default-server` line says (the options the servers would carry). */
  readonly slotDefaults?: ServerView;
  /** Dynamic endpoints: the task addresses the agent puts into the slots (endpoints.txt), not rendered. */
  readonly members?: readonly Token[];
}

export interface Conditional {
  readonly conditions: readonly Token[];
}

export interface UseBackendView extends Conditional {
  readonly backend: Token;
}

export interface PickAclView {
  readonly name: Token;
  readonly variable: Token;
  readonly below: number;
}

/** Which per-request numbers the frontend draws for weighted choices. */
export interface PickVariables {
  readonly randomPick: boolean;
  readonly clientIpPick: boolean;
  readonly cookiePicks: readonly { readonly variable: Token; readonly cookieName: Token }[];
}

/** ServiceCluster clientAddress: which peers' PROXY header or X-Forwarded-For names the client. */
export interface ClientAddressView {
  readonly trusted: readonly string[];
  readonly proxyProtocol: boolean;
  readonly forwardedFor: boolean;
}

export interface HttpFrontendView extends PickVariables, PolicyFrontendView {
  readonly bind: Token;
  readonly clientAddress?: ClientAddressView;
  /** ACME HTTP-01 tokens answered from this map file (the cluster serves ACME routes, ADR 0032). */
  readonly acmeHttp01?: { readonly map: string };
  readonly tlsBinds: readonly { readonly socket: string; readonly pem?: string; readonly crtList?: CrtList & { readonly file: string }; readonly name: Token; readonly clientCert?: TlsListener['clientCert'] }[];
  readonly maxBodyBytes: number;
  readonly hostAcls: readonly { readonly name: Token; readonly match: Token; readonly host: string }[];
  readonly vhostSelect: readonly { readonly index: number; readonly acl: Token; readonly plainOnly: boolean }[];
  readonly defaultVhost: boolean;
  readonly vhAcls: readonly { readonly name: Token; readonly index: number }[];
  readonly httpsRedirects: readonly { readonly acl: Token; readonly location: string }[];
  readonly clientCertChecks: readonly ClientCertCheckView[];
  readonly pathAcls: readonly { readonly name: Token; readonly path: string; readonly hasPrefix: boolean; readonly prefix: string }[];
  readonly headerAcls: readonly { readonly name: Token; readonly header: Token; readonly value: string; readonly empty: boolean }[];
  readonly cookieMatchAcls: readonly { readonly name: Token; readonly cookie: Token; readonly value: string }[];
  readonly methodAcls: readonly { readonly name: Token; readonly methods: readonly Token[] }[];
  readonly ruleSelect: readonly ({ readonly rule: Token } & Conditional)[];
  readonly ruleAcls: readonly { readonly name: Token; readonly rule: Token }[];
  readonly fallback503: boolean;
  readonly hasQueryAcl: boolean;
  readonly redirects: readonly ({ readonly location: string; readonly code: number } & Conditional)[];
  /** Rules without a task: 503 (`page`: the rule's 503 error page). */
  readonly unavailable: readonly { readonly rule: Token; readonly page?: { readonly contentType: string; readonly file: string } }[];
  readonly responseEdits: readonly ResponseEditView[];
  readonly pickAcls: readonly PickAclView[];
  readonly cookieAcls: readonly { readonly name: Token; readonly cookieName: Token; readonly prefix: Token }[];
  readonly useBackends: readonly UseBackendView[];
}

export interface TlsFrontendView extends PickVariables {
  readonly bind: Token;
  readonly clientAddress?: ClientAddressView;
  readonly idleTimeout: string;
  readonly sniAcls: readonly { readonly name: Token; readonly match: Token; readonly host: string }[];
  readonly pickAcls: readonly PickAclView[];
  readonly useBackends: readonly UseBackendView[];
  readonly defaultBackend: Token;
  readonly hops: readonly { readonly name: Token; readonly socket: string }[];
  readonly rejectUnknown: boolean;
}

export interface HaproxyView {
  /** Frontends of the extra listeners (TCPRoutes); absent: none. */
  readonly l4?: readonly L4FrontendView[];
  readonly cluster: string;
  readonly routeLines: readonly string[];
  readonly pickRange: number;
  readonly logTarget: string;
  readonly nbthread?: string;
  readonly accessLog: boolean;
  /** Set with hitless delivery: logs go to the agent's loopback listener (see options). */
  readonly trafficLog?: { readonly port: number };
  readonly defaults: { readonly connect: string; readonly server: string; readonly retryOn: readonly Token[] };
  readonly http: HttpFrontendView;
  readonly tls?: TlsFrontendView;
  readonly backends: readonly BackendView[];
  readonly stickTables: readonly StickTableView[];
  readonly statusBind: Token;
  /** Dynamic endpoints: the runtime API socket and the server-state file the agent writes (ADR 0031). */
  readonly dynamic?: { readonly adminSocket: string; readonly stateFile: string };
}
