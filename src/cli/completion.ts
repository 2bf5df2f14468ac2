/**
 * Shell completion: which words may come next on a swarmgate command line. Commands and options are
 * read from the commander program itself (so completion never drifts from the CLI); arguments that
 * name objects are completed from what is stored, through `names` (bounded by the caller).
 * The shell scripts and the protocol with them are @pnpm/tabtab's.
 */
import type { Command, Option } from 'commander';

/** What an argument position holds, by command path and argument index. */
type ArgumentKind = 'kind' | 'name-of-kind' | 'route' | 'cluster' | 'cluster-word' | 'ref' | 'certificate';

const ARGUMENTS: Readonly<Record<string, readonly ArgumentKind[]>> = {
  get: ['kind', 'name-of-kind'],
  describe: ['kind', 'name-of-kind'],
  delete: ['kind', 'name-of-kind'],
  wait: ['ref'],
  'canary get': ['route'],
  'canary promote': ['route'],
  'canary abort': ['route'],
  'canary retry': ['route'],
  history: ['cluster-word', 'cluster'],
  rollback: ['cluster-word', 'cluster'],
  'tls delete': ['certificate'],
};

/** The kinds as `get` accepts them (plural, as kubectl users type them). */
export const KIND_WORDS = ['routes', 'serviceclusters'] as const;

/** Stored object names by kind word: "route", "servicecluster", "certificate". */
export type NameLookup = (kind: 'route' | 'servicecluster' | 'certificate') => Promise<readonly string[]>;

/** Completion asks the shell for file names instead (tabtab's marker). */
export const FILES = Symbol('files');

function kindOf(word: string | undefined): 'route' | 'servicecluster' | undefined {
  const w = (word ?? '').toLowerCase();
  if (['route', 'routes', 'rt'].includes(w)) return 'route';
  if (['servicecluster', 'serviceclusters', 'sc'].includes(w)) return 'servicecluster';
  return undefined;
}

function findOption(cmd: Command, flag: string): Option | undefined {
  return cmd.options.find((o) => o.long === flag || o.short === flag);
}

function takesValue(o: Option | undefined): boolean {
  return o !== undefined && (o.required || o.optional);
}

/** Values of options that take free text besides some usual values (no commander choices). */
const OPTION_VALUES: Readonly<Record<string, readonly string[]>> = { 'get --output': ['wide', 'yaml', 'json', 'name', 'jsonpath='] };

/** Options whose value is a path: the shell completes files there. */
const FILE_OPTIONS = new Set(['--file', '--snapshot', '--out', '--cert', '--key', '--tls-dir']);

/**
 * Candidates for the last (partial) word of `words` (the words after "swarmgate", the last one
 * being completed, possibly empty).
 */
export async function completionCandidates(program: Command, words: readonly string[], names: NameLookup): Promise<readonly string[] | typeof FILES> {
  const done = words.slice(0, -1);
  const partial = words[words.length - 1] ?? '';
  let cmd = program;
  const path: string[] = [];
  const positionals: string[] = [];
  let pendingValueOf: Option | undefined;
  for (const w of done) {
    if (pendingValueOf !== undefined) {
      pendingValueOf = undefined;
      continue;
    }
    if (w.startsWith('-')) {
      const o = findOption(cmd, w.split('=')[0] ?? w);
      if (takesValue(o) && !w.includes('=')) pendingValueOf = o;
      continue;
    }
    const sub = positionals.length === 0 ? cmd.commands.find((c) => c.name() === w || c.aliases().includes(w)) : undefined;
    if (sub !== undefined) {
      cmd = sub;
      path.push(sub.name());
      continue;
    }
    positionals.push(w);
  }
  if (pendingValueOf !== undefined) {
    if (FILE_OPTIONS.has(pendingValueOf.long ?? '')) return FILES;
    const values = pendingValueOf.argChoices ?? OPTION_VALUES[`${path.join(' ')} ${pendingValueOf.long ?? ''}`] ?? [];
    return values.filter((c) => c.startsWith(partial));
  }
  if (partial.startsWith('-')) {
    const flags = cmd.options.flatMap((o) => (o.hidden ? [] : [o.long ?? o.short ?? ''])).filter((f) => f !== '');
    return [...flags, '--help'].filter((f) => f.startsWith(partial));
  }
  const subcommands = cmd.commands.filter((c) => !(c as Command & { _hidden?: boolean })._hidden).map((c) => c.name());
  if (subcommands.length > 0 && positionals.length === 0) return subcommands.filter((s) => s.startsWith(partial)).sort();
  const spec = ARGUMENTS[path.join(' ')] ?? [];
  // A variadic last argument (delete's names) repeats.
  const kind = spec[Math.min(positionals.length, spec.length - 1)];
  const matching = (xs: readonly string[]): string[] => xs.filter((x) => x.startsWith(partial)).sort();
  switch (kind) {
    case 'kind':
      return matching(KIND_WORDS);
    case 'cluster-word':
      return matching(['cluster']);
    case 'name-of-kind': {
      const k = kindOf(positionals[0]);
      if (k === undefined || (positionals.length >= spec.length && path[0] !== 'delete')) return [];
      const taken = new Set(positionals.slice(1));
      return matching((await names(k)).filter((n) => !taken.has(n)));
    }
    case 'route':
      return matching(await names('route'));
    case 'cluster':
      return matching(await names('servicecluster'));
    case 'certificate':
      return matching(await names('certificate'));
    case 'ref': {
      const [routes, clusters] = await Promise.all([names('route'), names('servicecluster')]);
      return matching([...routes.map((n) => `route/${n}`), ...clusters.map((n) => `servicecluster/${n}`)]);
    }
    default:
      return [];
  }
}
