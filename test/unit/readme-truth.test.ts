/**
 * Statements in the README that a check can keep true: the project layout names every folder that
 * exists, every `make` target the README tells a user to run exists, and every Debian package the
 * README says a command installs is in the one list (deploy/scripts/system-deps.sh). Each of these
 * went stale once while the code moved on.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const README = readFileSync('README.md', 'utf8');

/** The README and the pages it links to (docs/reference/, docs/architecture.md …): the user's documentation. */
function docsText(dir = 'docs'): string {
  return readdirSync(dir, { withFileTypes: true })
    .map((d) => (d.isDirectory() ? docsText(join(dir, d.name)) : d.name.endsWith('.md') ? readFileSync(join(dir, d.name), 'utf8') : ''))
    .join('\n');
}

/** The fenced block of the "Project layout" section. */
function layoutBlock(): string {
  const section = README.split(/^## Project layout$/m)[1];
  if (section === undefined) throw new Error('README has no "## Project layout" section');
  const block = /```\n([\s\S]*?)```/.exec(section);
  if (block?.[1] === undefined) throw new Error('the "Project layout" section has no code block');
  return block[1];
}

/** The folder names at the start of the layout's lines ("src/api/  …" → "src/api"). */
function layoutFolders(): Set<string> {
  const names = layoutBlock()
    .split('\n')
    .map((line) => /^([a-z0-9._-]+(?:\/[a-z0-9._-]+)*)\/\s/i.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);
  return new Set(names);
}

function subfolders(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'node_modules' && d.name !== 'dist')
    .map((d) => d.name)
    .sort();
}

function makeTargets(): Set<string> {
  const makefile = readFileSync('Makefile', 'utf8');
  return new Set([...makefile.matchAll(/^([a-zA-Z][a-zA-Z0-9_-]*):/gm)].map((m) => m[1] as string));
}

describe('README', () => {
  it('names every folder under src/ in its project layout', () => {
    const listed = layoutFolders();
    const missing = subfolders('src').filter((name) => !listed.has(`src/${name}`));
    expect(missing, 'folders under src/ missing from the README layout').toEqual([]);
  });

  it('names every top-level folder of the repository in its project layout, and only folders that exist', () => {
    const listed = layoutFolders();
    const top = subfolders('.');
    const named = (name: string): boolean => listed.has(name) || [...listed].some((entry) => entry.startsWith(`${name}/`));
    expect(top.filter((name) => !named(name)), 'top-level folders missing from the layout').toEqual([]);
    const existing = new Set([...top, ...subfolders('src').map((name) => `src/${name}`)]);
    expect([...listed].filter((name) => !existing.has(name)), 'layout entries that do not exist').toEqual([]);
  });

  it('tells users only about make targets that exist (README and docs/)', () => {
    const targets = makeTargets();
    const named = new Set([...`${README}\n${docsText()}`.matchAll(/`make ([a-z][a-z0-9-]*)/g)].map((m) => m[1] as string));
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((t) => !targets.has(t)).sort(), 'make targets the README or docs/ name but the Makefile lacks').toEqual([]);
  });

  it('lists in deploy/scripts/system-deps.sh every Debian package it says the commands install', () => {
    const r = spawnSync('bash', ['deploy/scripts/system-deps.sh', '--list', 'all'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const listed = new Set(r.stdout.trim().split('\n'));
    for (const pkg of ['docker.io', 'debootstrap', 'haproxy', 'nginx-light', 'libnginx-mod-stream', 'wrk']) {
      expect(listed.has(pkg), pkg).toBe(true);
      expect(README.includes(`\`${pkg}\``) || README.includes(pkg.replace(/-light$/, '')), pkg).toBe(true);
    }
  });
});

describe('deploy/scripts/system-deps.sh', () => {
  const list = (...args: string[]): string[] =>
    spawnSync('bash', ['deploy/scripts/system-deps.sh', '--list', ...args], { encoding: 'utf8' }).stdout.trim().split('\n');

  it('gives make test what nginx -t and haproxy -c need, and CI never purges docker.io or base packages', () => {
    expect(list('test')).toEqual(expect.arrayContaining(['nginx-light', 'libnginx-mod-stream', 'haproxy', 'openssl']));
    const purgeable = list('--purgeable', 'all');
    expect(purgeable).toEqual(expect.arrayContaining(['nginx-light', 'haproxy', 'debootstrap']));
    for (const kept of ['docker.io', 'openssl', 'curl', 'iproute2', 'util-linux']) expect(purgeable).not.toContain(kept);
  });

  it('refuses an unknown purpose with the list of known ones', () => {
    const r = spawnSync('bash', ['deploy/scripts/system-deps.sh', 'tset'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown purpose 'tset'.*test, images/);
  });
});
