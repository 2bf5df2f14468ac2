/**
 * The README links to docs/reference/ and docs/architecture.md instead of holding everything, and the
 * pages link to each other by section. A link whose file or heading moved is a dead end for a reader, so
 * every relative link in the user-facing Markdown must reach an existing file and, with a #fragment, a
 * heading of that file (GitHub's anchor rules).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONDITION_TYPES, REASONS } from '../../src/domain/conditions';

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return markdownFiles(path);
    return d.name.endsWith('.md') ? [path] : [];
  });
}

const FILES = ['README.md', ...markdownFiles('docs'), ...['bench/README.md', 'deploy/README.md'].filter((f) => existsSync(f))];

/** Text outside fenced code blocks (a `#` line in a shell block is no heading, a `](` there no link). */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to `-`, repeats numbered. */
export function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of prose(markdown).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const slug = (m[1] as string)
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    anchors.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return anchors;
}

function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] as string).filter((t) => !/^[a-z]+:/.test(t));
}

describe('links in the README and docs/', () => {
  it('computes anchors the way GitHub does', () => {
    expect([...anchorsOf('## Progressive delivery (`spec.canary`)\n## Delivery: rolling and hitless\n### Route `spec`\n## A\n## A\n')]).toEqual([
      'progressive-delivery-speccanary',
      'delivery-rolling-and-hitless',
      'route-spec',
      'a',
      'a-1',
    ]);
  });

  it.each(FILES)('%s: every relative link reaches a file and, with #fragment, one of its headings', (file) => {
    const broken: string[] = [];
    for (const target of links(readFileSync(file, 'utf8'))) {
      const [path = '', fragment] = target.split('#');
      const resolved = path === '' ? file : normalize(join(dirname(file), path));
      if (!existsSync(resolved)) {
        broken.push(`${target}: no file ${resolved}`);
        continue;
      }
      if (fragment === undefined || statSync(resolved).isDirectory()) continue;
      if (!anchorsOf(readFileSync(resolved, 'utf8')).has(fragment)) broken.push(`${target}: no heading #${fragment} in ${resolved}`);
    }
    expect(broken).toEqual([]);
  });

  it('the reference has a page for each kind, the conditions and the commands', () => {
    for (const page of ['route.md', 'service-cluster.md', 'value-formats.md', 'conditions.md', 'cli.md', 'canary.md', 'tls.md', 'delivery.md', 'interlock.md']) {
      expect(existsSync(join('docs/reference', page)), page).toBe(true);
    }
  });
});

describe('docs/reference/conditions.md', () => {
  it('names every condition type and every reason swarmgate can write', () => {
    const page = readFileSync('docs/reference/conditions.md', 'utf8');
    const missing = [...CONDITION_TYPES, ...REASONS].filter((name) => !page.includes(`\`${name}\``));
    expect(missing, 'types or reasons of src/domain/conditions.ts missing from conditions.md').toEqual([]);
  });
});
