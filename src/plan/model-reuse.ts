/**
 * Model-build reuse (ADR 0048): per cluster, the compiled routes and the virtual hosts of the last
 * complete build, reused by a build that meets them again with the same inputs, so that a route change
 * compiles the routes it touches and the model it gives shares every other host's objects with the last
 * one. The NGINX view memo (src/render/nginx/host-view-memo.ts, ADR 0043) then finds an unchanged host
 * by identity instead of comparing it as data, which was half of a route change's render.
 *
 * A compiled route is a function of its route, the cluster's spec, its policies and what it read
 * (compile-journal.ts); it is reused only when all four are the same: the route and the policies as
 * data (the same object at once: the spec reader keeps decoded specs), the spec once per build (a
 * different spec drops the cluster's kept entries), the reads replayed with the same answers.
 * A virtual host is a function of its host, its routes' names, its TLS and its rules (in order); it is
 * reused only when the rules are the very objects of the kept host (so their routes' compilations were
 * reused) and the rest is equal. Same inputs ⇒ same value, so the kept object is returned as it is
 * (models are never changed once built).
 *
 * Bounded: a cluster keeps what its last complete build used (a build that threw keeps nothing); at most
 * MAX_SCOPES clusters, the least recently built dropped first. Module state of the pure planner, like
 * the renderer's memos: no I/O, and the model is a function of its inputs alone.
 */
import type { RouteObject } from '../domain/object';
import type { ServiceClusterSpec } from '../domain/service-cluster';
import { recordCompile, replayCompile, type CompileRead, type CompileSources } from './compile-journal';
import type { CompiledRoute } from './compile-route';
import type { ModelRule, RulePolicies, TlsTerminate, VirtualHost } from './model';
import { sameData } from './same-data';

const MAX_SCOPES = 64;

interface KeptRoute {
  readonly route: RouteObject;
  readonly policies: readonly (RulePolicies | undefined)[];
  readonly reads: readonly CompileRead[];
  readonly value: CompiledRoute;
}

interface KeptHost {
  readonly host: string;
  readonly routes: readonly string[];
  readonly rules: readonly ModelRule[];
  readonly tls: TlsTerminate | undefined;
  readonly value: VirtualHost;
}

interface Kept {
  readonly spec: ServiceClusterSpec;
  readonly routes: ReadonlyMap<string, KeptRoute>;
  readonly hosts: ReadonlyMap<string, KeptHost>;
}

/** Reuse counts of one cluster's build (benchmarks, tests). */
export interface ReuseCounts {
  routes: { hits: number; misses: number };
  hosts: { hits: number; misses: number };
}

/** One build of one cluster: what it may reuse (the kept entries of the cluster's last build) and what it keeps. */
export class ClusterReuse {
  readonly routes = new Map<string, KeptRoute>();
  readonly hosts = new Map<string, KeptHost>();
  readonly counts: ReuseCounts = { routes: { hits: 0, misses: 0 }, hosts: { hits: 0, misses: 0 } };

  constructor(
    readonly cluster: string,
    readonly spec: ServiceClusterSpec,
    private readonly previous: Kept | undefined,
  ) {}

  /** Route `key`'s compilation (compile(src)), the kept one when its route, policies and reads are the same (see the module comment). */
  compile(key: string, route: RouteObject, policies: readonly (RulePolicies | undefined)[], src: CompileSources, compile: (src: CompileSources) => CompiledRoute): CompiledRoute {
    const kept = this.previous?.routes.get(key);
    if (kept !== undefined && sameData(kept.route, route) && sameData(kept.policies, policies) && replayCompile(kept.reads, src)) {
      this.counts.routes.hits++;
      // The new objects are kept: the next build's are likelier to be these very objects (compared at once).
      this.routes.set(key, { ...kept, route, policies });
      return kept.value;
    }
    this.counts.routes.misses++;
    const { value, reads } = recordCompile(src, compile);
    this.routes.set(key, { route, policies, reads, value });
    return value;
  }

  /** Host `key`'s virtual host (build()), the kept one when its host, routes, TLS and rules are the same (the rules: the same objects). */
  virtualHost(key: string, host: string, routes: readonly string[], rules: readonly ModelRule[], tls: TlsTerminate | undefined, build: () => VirtualHost): VirtualHost {
    const kept = this.previous?.hosts.get(key);
    if (kept !== undefined && kept.host === host && sameRules(kept.rules, rules) && sameData(kept.routes, routes) && sameData(kept.tls, tls)) {
      this.counts.hosts.hits++;
      this.hosts.set(key, kept);
      return kept.value;
    }
    this.counts.hosts.misses++;
    const value = build();
    this.hosts.set(key, { host, routes: [...routes], rules: [...rules], tls, value });
    return value;
  }
}

/** Element by element the same objects (a rule rebuilt, even equal, is not reused: equality is the compilation's to prove). */
function sameRules(a: readonly ModelRule[], b: readonly ModelRule[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export class ModelReuse {
  private readonly kept = new Map<string, Kept>();
  /** The counts of each cluster's last build (benchmarks, tests). */
  readonly last = new Map<string, ReuseCounts>();

  /** A build of `cluster` with `spec`: the kept entries apply only if the cluster's last build had the same spec. */
  cluster(cluster: string, spec: ServiceClusterSpec): ClusterReuse {
    const last = this.kept.get(cluster);
    return new ClusterReuse(cluster, spec, last !== undefined && sameData(last.spec, spec) ? last : undefined);
  }

  /** After a complete build: what each cluster's build used becomes what the next build may reuse. */
  keep(builds: readonly ClusterReuse[]): void {
    for (const b of builds) {
      this.kept.delete(b.cluster);
      this.kept.set(b.cluster, { spec: b.spec, routes: b.routes, hosts: b.hosts });
      this.last.set(b.cluster, b.counts);
    }
    while (this.kept.size > MAX_SCOPES) {
      const oldest = this.kept.keys().next().value;
      if (oldest === undefined) break;
      this.kept.delete(oldest);
      this.last.delete(oldest);
    }
  }
}
