#!/usr/bin/env node
/** Entry point of the `swarmgate` command. */
// First: V8 memory flags for the long-running core, before anything else is loaded.
import './long-running-heap';
import { CommanderError } from 'commander';
import { EXIT, processOutput } from './output';
import { buildProgram } from './program';

async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(processOutput, (c) => {
    code = c;
  });
  try {
    await program.parseAsync([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    processOutput.err(`swarmgate: ${(e as Error).message}`);
    return EXIT.usage;
  }
  return code;
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
