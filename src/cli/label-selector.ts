/**
 * `-l, --selector`: kubectl's equality-based label selectors on `metadata.labels`, comma-separated
 * requirements that must all hold — `key=value` (or `==`), `key!=value`, `key` (present), `!key`
 * (absent). Set-based forms (`in`, `notin`) are not supported and say so.
 */
export type Requirement =
  | { readonly op: 'equals'; readonly key: string; readonly value: string }
  | { readonly op: 'notEquals'; readonly key: string; readonly value: string }
  | { readonly op: 'exists'; readonly key: string }
  | { readonly op: 'absent'; readonly key: string };

const KEY = /^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$/;

function requirement(text: string): Requirement | string {
  const t = text.trim();
  if (/\s(in|notin)\s*\(/.test(t)) return `"${t}": set-based selectors (in, notin) are not supported; use key=value, key!=value, key or !key`;
  const m = /^([^!=]+?)\s*(==|!=|=)\s*(.*)$/.exec(t);
  const [key, op, value] = m === null ? [t.replace(/^!/, ''), t.startsWith('!') ? '!' : '', ''] : [m[1] ?? '', m[2] ?? '', m[3] ?? ''];
  const k = key.trim();
  if (!KEY.test(k)) return `"${t}": "${k}" is not a label key`;
  if (m === null) return op === '!' ? { op: 'absent', key: k } : { op: 'exists', key: k };
  return op === '!=' ? { op: 'notEquals', key: k, value: value.trim() } : { op: 'equals', key: k, value: value.trim() };
}

export function parseSelector(text: string): readonly Requirement[] | { readonly error: string } {
  const parts = text.split(',').filter((p) => p.trim() !== '');
  if (parts.length === 0) return { error: '--selector: empty; expected key=value, key!=value, key or !key, comma-separated' };
  const out: Requirement[] = [];
  for (const p of parts) {
    const r = requirement(p);
    if (typeof r === 'string') return { error: `--selector ${r}` };
    out.push(r);
  }
  return out;
}

export function matchesSelector(selector: readonly Requirement[], labels: Readonly<Record<string, string>> | undefined): boolean {
  const l = labels ?? {};
  return selector.every((r) => {
    const v = Object.prototype.hasOwnProperty.call(l, r.key) ? l[r.key] : undefined;
    switch (r.op) {
      case 'equals':
        return v === r.value;
      case 'notEquals':
        return v !== r.value;
      case 'exists':
        return v !== undefined;
      case 'absent':
        return v === undefined;
    }
  });
}
