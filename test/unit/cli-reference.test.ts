/**
 * docs/reference/cli.md is the one place a user reads every command and flag; `--help` is generated
 * from src/cli/program.ts. A command or flag added to the program without its line in the reference
 * fails here.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program';

const PAGE = readFileSync('docs/reference/cli.md', 'utf8');

/** Every command as "swarmgate a b" with its long flags, sub-commands included. */
function commands(cmd: Command, prefix: string): { name: string; flags: string[] }[] {
  // What --help shows: hidden commands (the completion script's helper) are no user's business.
  const help = cmd.createHelp();
  return help
    .visibleCommands(cmd)
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => {
      const name = `${prefix} ${c.name()}`;
      const flags = help.visibleOptions(c).map((o) => o.long).filter((l): l is string => l !== undefined && l !== '--help');
      return [{ name, flags }, ...commands(c, name)];
    });
}

describe('docs/reference/cli.md', () => {
  const all = commands(buildProgram({ out: () => undefined, err: () => undefined }, () => undefined), 'swarmgate');

  it('finds the program\'s commands', () => {
    expect(all.map((c) => c.name)).toEqual(expect.arrayContaining(['swarmgate apply', 'swarmgate canary promote', 'swarmgate tls apply', 'swarmgate proxy-agent', 'swarmgate version']));
  });

  it.each(all.map((c) => [c.name, c.flags] as const))('documents `%s` and each of its flags', (name, flags) => {
    expect(PAGE.includes(`\`${name}`), `${name} is not on the page`).toBe(true);
    const missing = flags.filter((f) => !PAGE.includes(`\`${f}`) && !PAGE.includes(`[${f}`) && !PAGE.includes(` ${f} `) && !PAGE.includes(`|${f}`));
    expect(missing, `flags of ${name} missing from the page`).toEqual([]);
  });
});
