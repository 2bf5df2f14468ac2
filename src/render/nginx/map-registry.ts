/**
 * The http-level maps (and split_clients) rules need, collected once per config with collision-free
 * names: see MapRegistry.
 */
import { durationMs } from '../../domain/brands';
import type { Affinity, ModelRule, WeightedTarget } from '../../plan/model';
import { fnv1a32 } from '../../plan/hash';
import { identityKey, lowerCase } from '../../plan/names';
import { Journal } from '../registry-journal';
import { headerVariable, token, type Token } from '../token';
import { cookiePairRegex, exactRegex } from './escape';
import { splitPercentages } from '../split';
import { PolicyRegistry } from './policies';
import { SPLIT_LINE } from './lua-balancer';
import type { NginxView, ProxyBodyView, StickySplitView } from './view-types';

/** A rule's split as a line of the endpoint set (ADR 0049). */
export interface DataSplit {
  readonly name: string;
  readonly line: string;
  readonly members: readonly string[];
}

/**
 * Collects the http-level maps that rules need, deduplicated by variable name. Every generated
 * name goes through one NameTable (NGINX variable names ignore case): two `map`s of one variable
 * are one variable in NGINX, so a shared name would make one route test another route's value.
 */
export class MapRegistry {
  /** Every name, map entry and fact a view reads across hosts goes through it (ADR 0043). */
  readonly journal = new Journal();
  private readonly names = this.journal.table('maps', lowerCase);
  readonly policies: PolicyRegistry;

  /** Where the proxy task mounts Docker secrets (CA bundles and client certificates of backend TLS). */
  readonly secretsDir: string;

  constructor(secretsDir = '/run/secrets', ...policyContext: [unavailable?: Token, serving?: (upstream: string) => boolean]) {
    this.secretsDir = secretsDir;
    const [unavailable, serving] = policyContext;
    this.policies = new PolicyRegistry(secretsDir, unavailable, serving, this.journal);
  }

  readonly headerMaps = this.journal.map<NginxView['headerMaps'][number]>('headerMaps');
  readonly methodMaps = this.journal.map<NginxView['methodMaps'][number]>('methodMaps');
  readonly combineMaps = this.journal.map<NginxView['combineMaps'][number]>('combineMaps');
  readonly cookieKeyMaps = this.journal.map<NginxView['cookieKeyMaps'][number]>('cookieKeyMaps');
  readonly setCookieMaps = this.journal.map<NginxView['setCookieMaps'][number]>('setCookieMaps');
  readonly addHeaderMaps = this.journal.map<NginxView['addHeaderMaps'][number]>('addHeaderMaps');
  readonly splits = this.journal.map<NginxView['splits'][number]>('splits');
  readonly cookieTokenMaps = this.journal.map<NginxView['cookieTokenMaps'][number]>('cookieTokenMaps');
  readonly stickySplits = this.journal.map<StickySplitView>('stickySplits');
  /** Splits as endpoint lines (ADR 0049), by their name in the endpoint set. */
  readonly dataSplits = this.journal.map<DataSplit>('dataSplits');
  /**
   * Dynamic endpoints: rules over several backends split by a line of the endpoint set, not by
   * `split_clients` (ADR 0049). Set once, before any view is built.
   */
  splitsAsData = false;

  /** The name of `identity`: `base` unless another identity holds it (src/plan/names.ts). */
  private name(identity: string, base: string): Token {
    return token(this.names(identity, base));
  }

  /** A variable that is "1" when all of the rule's header and method conditions hold. */
  condition(rule: ModelRule): Token {
    const parts: Token[] = rule.headers.map((h) => {
      const variable = this.name(identityKey('header', h.name.toLowerCase(), h.value), `$sg_h_${fnv1a32(`${h.name.toLowerCase()}\u0000${h.value}`)}`);
      this.headerMaps.set(variable, { source: headerVariable(h.name), variable, pattern: `~${exactRegex(h.value)}` });
      return variable;
    });
    for (const c of rule.cookies) {
      const variable = this.name(identityKey('cookie', c.name, c.value), `$sg_k_${fnv1a32(`${c.name}\u0000${c.value}`)}`);
      // Not $cookie_<name>: NGINX finds that name without regard to case; cookie matches are case-sensitive.
      this.headerMaps.set(variable, { source: token('$http_cookie'), variable, pattern: `~${cookiePairRegex(c.name, c.value)}` });
      parts.push(variable);
    }
    if (rule.methods.length > 0) {
      const methods = [...rule.methods].sort();
      const variable = this.name(identityKey('methods', methods), `$sg_m_${fnv1a32(methods.join(','))}`);
      this.methodMaps.set(variable, { variable, methods });
      parts.push(variable);
    }
    const [only] = parts;
    if (parts.length === 1 && only !== undefined) return only;
    const variable = this.name(identityKey('all', parts), `$sg_c_${fnv1a32(parts.join(''))}`);
    this.combineMaps.set(variable, { source: token(parts.join('')), variable, expect: '1'.repeat(parts.length) });
    return variable;
  }

  /** The value requests are hashed on for stickiness and weighted splits. */
  affinityKey(a: Affinity): Token {
    if (a.kind === 'clientIP') return token('$remote_addr');
    if (a.kind === 'none') return token('$request_id');
    const variable = this.name(identityKey('cookie-key', a.name), `$sg_ck_${a.name}`);
    this.cookieKeyMaps.set(variable, { source: token(`$cookie_${a.name}`), variable });
    return variable;
  }

  setCookie(a: Affinity): Token | undefined {
    // An application-issued cookie is only hashed on: a second Set-Cookie of the same name would override the application's.
    if (a.kind !== 'cookie' || a.issuedBy === 'Application') return undefined;
    const maxAge = Math.max(1, Math.floor(durationMs(a.ttl) / 1000));
    const variable = this.name(identityKey('set-cookie', a.name, maxAge), `$sg_setck_${a.name}_${maxAge}`);
    this.setCookieMaps.set(variable, { source: token(`$cookie_${a.name}`), variable, cookie: a.name, maxAge });
    return variable;
  }

  /** The client's token: the proxy cookie's value up to its first ".", or a new request id. */
  cookieToken(name: string): Token {
    const variable = this.name(identityKey('cookie-token', name), `$sg_tok_${name}`);
    this.cookieTokenMaps.set(variable, { source: token(`$cookie_${name}`), variable });
    return variable;
  }

  /** A split that keeps each client on the version its cookie names (StickySplitView). */
  pinnedSplit(a: Affinity & { kind: 'cookie' }, targets: readonly WeightedTarget[]): NonNullable<ProxyBodyView['pinCookie']> & { pick: Token } {
    const tok = this.cookieToken(a.name);
    const split = this.split(targets, tok);
    const id = split.slice('$sg_split_'.length);
    // The tag names an upstream in clients' cookies: unique in the config, stable while the upstream exists.
    const entries = targets.map((t) => ({ upstream: token(t.upstream), tag: this.name(identityKey('upstream-tag', t.upstream), fnv1a32(t.upstream)) }));
    const derived = (kind: string): Token => this.name(identityKey(kind, split), `$sg_${kind}_${id}`);
    const view: StickySplitView = { source: token(`$cookie_${a.name}`), pin: derived('pin'), pick: derived('pick'), tag: derived('tag'), split, entries };
    this.stickySplits.set(view.pick, view);
    return { pick: view.pick, cookie: a.name, token: tok, tag: view.tag, maxAge: Math.max(1, Math.floor(durationMs(a.ttl) / 1000)) };
  }

  addHeader(name: string, value: string): Token {
    const variable = this.name(identityKey('add', name.toLowerCase(), value), `$sg_add_${fnv1a32(`${name.toLowerCase()}\u0000${value}`)}`);
    this.addHeaderMaps.set(variable, { source: headerVariable(name), variable, value });
    return variable;
  }

  /**
   * Rule `ruleId`'s split in the endpoint set (ADR 0049): its id (the set names it "=id") and its line. The name
   * depends on the rule and its members, not on the weights: a weight step changes the line only.
   * Per rule, so two rules over the same backends with other weights never share a line.
   */
  dataSplit(ruleId: string, declared: readonly WeightedTarget[], key: Token): Token {
    const members = declared.map((t) => t.upstream);
    const id = this.name(identityKey('data-split', ruleId, key, members), `sg_ds_${fnv1a32(`${ruleId}|${key}|${members.join(',')}`)}`);
    const name = `=${id}`;
    const line = [name, key.replace(/^\$/, ''), ...declared.map((t) => `${t.upstream}:${t.weight}`)].join(' ');
    // Every part is generated (names, a variable) or a number: this guards the format the Lua side parses.
    if (!SPLIT_LINE.test(line)) throw new Error(`split line does not match its format: ${line.slice(0, 200)}`);
    this.dataSplits.set(name, { name, line, members });
    return id;
  }

  split(targets: readonly WeightedTarget[], key: Token): Token {
    const id = fnv1a32(`${key}|${targets.map((t) => `${t.upstream}=${t.weight}`).join(',')}`);
    const variable = this.name(identityKey('split', key, targets.map((t) => `${t.upstream}=${t.weight}`)), `$sg_split_${id}`);
    const shares = splitPercentages(targets.map((t) => t.weight)).map((share, i) => ({ share, upstream: token(targets[i]?.upstream ?? '') }));
    this.splits.set(variable, { key, variable, shares });
    return variable;
  }
}
