#!/usr/bin/env node
/** Entry point of the `swarmgate` command. */
import { CommanderError } from 'commander';
import { EXIT, processOutput } from './output';
import { buildProgram } from './program';

function main(argv: readonly string[]): number {
  let code: number = EXIT.ok;
  const program = buildProgram(processOutput, (c) => {
    code = c;
  });
  try {
    program.parse([...argv]);
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    processOutput.err(`swarmgate: ${(e as Error).message}`);
    return EXIT.usage;
  }
  return code;
}

process.exitCode = main(process.argv);
