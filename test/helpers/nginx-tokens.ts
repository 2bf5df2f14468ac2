/**
 * A small reader of NGINX configuration syntax for tests: tokens (with quote and escape handling
 * as NGINX does it) and the directive tree. Used to prove that user values cannot change the
 * structure of a rendered configuration.
 */
export interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  readonly block?: readonly Directive[];
}

type Tok = { kind: 'word'; value: string } | { kind: ';' | '{' | '}' };

export function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] ?? '';
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (ch === ';' || ch === '{' || ch === '}') {
      out.push({ kind: ch });
      i++;
    } else if (ch === '"' || ch === "'") {
      let value = '';
      i++;
      while (i < text.length && text[i] !== ch) {
        if (text[i] === '\\' && i + 1 < text.length) {
          const next = text[i + 1] ?? '';
          value += next === '"' || next === "'" || next === '\\' ? next : `\\${next}`;
          i += 2;
        } else {
          value += text[i];
          i++;
        }
      }
      if (i >= text.length) throw new Error('unterminated string');
      i++;
      out.push({ kind: 'word', value });
    } else {
      let value = '';
      while (i < text.length && !/[\s;{}]/.test(text[i] ?? '')) {
        value += text[i];
        i++;
      }
      out.push({ kind: 'word', value });
    }
  }
  return out;
}

export function parseConfig(text: string): Directive[] {
  const toks = tokenize(text);
  let pos = 0;
  const block = (nested: boolean): Directive[] => {
    const ds: Directive[] = [];
    for (;;) {
      const t = toks[pos];
      if (t === undefined) {
        if (nested) throw new Error('missing }');
        return ds;
      }
      if (t.kind === '}') {
        if (!nested) throw new Error('unexpected }');
        pos++;
        return ds;
      }
      if (t.kind !== 'word') throw new Error(`unexpected ${t.kind}`);
      const name = t.value;
      pos++;
      const args: string[] = [];
      for (;;) {
        const a = toks[pos];
        if (a === undefined) throw new Error(`directive ${name} not terminated`);
        pos++;
        if (a.kind === 'word') args.push(a.value);
        else if (a.kind === ';') {
          ds.push({ name, args });
          break;
        } else if (a.kind === '{') {
          ds.push({ name, args, block: block(true) });
          break;
        } else throw new Error(`unexpected } in ${name}`);
      }
    }
  };
  return block(false);
}

/** Blocks whose entries are data (key value pairs), not directives. */
const DATA_BLOCKS = new Set(['map', 'geo', 'split_clients']);

/** The shape of a config: directive names, argument counts and nesting, without values (data entries anonymised). */
export function shape(ds: readonly Directive[], data = false): string {
  return ds
    .map((d) => `${data ? '_' : d.name}/${d.args.length}${d.block !== undefined ? `{${shape(d.block, DATA_BLOCKS.has(d.name))}}` : ''}`)
    .join(' ');
}

export function findAll(ds: readonly Directive[], name: string): Directive[] {
  return ds.flatMap((d) => [...(d.name === name ? [d] : []), ...(d.block !== undefined ? findAll(d.block, name) : [])]);
}
