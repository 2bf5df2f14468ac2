#!/usr/bin/env node
/** Entry point of the `swarmgate` command. */
// First: V8 memory flags for the long-running core, before anything else is loaded.
import './long-running-heap';
import { CommanderError } from 'commander';
import { errorText } from './error-text';
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
    processOutput.err(`swarmgate: ${errorText(e)}`);
    return EXIT.usage;
  }
  return code;
}

// A reader that went away (`swarmgate status --watch | head -3`) is not an error of ours: stop
// quietly, with the status a shell gives a process killed by SIGPIPE, as other Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.brokenPipe);
    throw e;
  });
}

void main(process.argv).then((code) => {
  process.exitCode = code;
});
