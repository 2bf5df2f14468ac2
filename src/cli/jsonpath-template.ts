/**
 * `-o jsonpath=TEMPLATE` as kubectl reads it: literal text with `{EXPR}` blocks, each EXPR a JSONPath
 * relative to the document (`{.items[*].metadata.name}`, `{.status.conditions[?(@.type=="Programmed")].status}`),
 * several results joined by a space, `\n` and `\t` in the text as newline and tab. The expressions are
 * evaluated by jsonpath-plus; only the template around them is read here. kubectl's `{range}`/`{end}`
 * blocks are not supported: they are refused with a pointer to -o json and jq.
 */
import type * as JsonpathPlus from 'jsonpath-plus';

export type Template = readonly ({ readonly text: string } | { readonly path: string })[];

export function parseJsonpathTemplate(template: string): Template | { readonly error: string } {
  const parts: ({ text: string } | { path: string })[] = [];
  let rest = template;
  while (rest.length > 0) {
    const open = rest.indexOf('{');
    if (open < 0) {
      parts.push({ text: rest });
      break;
    }
    if (open > 0) parts.push({ text: rest.slice(0, open) });
    const close = rest.indexOf('}', open);
    if (close < 0) return { error: `jsonpath: unclosed "{" at column ${template.length - rest.length + open + 1} in ${JSON.stringify(template)}` };
    const expr = rest.slice(open + 1, close).trim();
    if (/^(range|end)\b/.test(expr)) return { error: `jsonpath: {${expr}} blocks are not supported; use -o json with jq for loops` };
    if (expr === '') return { error: `jsonpath: empty {} in ${JSON.stringify(template)}` };
    parts.push({ path: expr.startsWith('$') ? expr : `$${expr.startsWith('.') || expr.startsWith('[') ? '' : '.'}${expr}` });
    rest = rest.slice(close + 1);
  }
  return parts;
}

function show(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function renderJsonpathTemplate(template: Template, document: unknown): string {
  return template
    .map((p) => {
      if ('text' in p) return p.text.replace(/\\n/g, '\n').replace(/\\t/g, '\t');
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: only -o jsonpath needs it, and every `get` pays for what it loads
      const { JSONPath } = require('jsonpath-plus') as typeof JsonpathPlus;
      const found = JSONPath({ path: p.path, json: document as object, wrap: true, eval: 'safe' }) as unknown[];
      return found.map(show).join(' ');
    })
    .join('');
}
