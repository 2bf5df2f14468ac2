/** The CLI's only way to print, so commands stay testable (tests pass their own sink). */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

export const processOutput: Output = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
};

/**
 * Exit codes shared by every command. `conflict`: another writer changed the same object first;
 * nothing of this command was stored. `interrupted`: Ctrl-C (as a shell reports SIGINT); the command
 * printed what it completed. `brokenPipe`: the reader of stdout went away (as for SIGPIPE).
 */
export const EXIT = { ok: 0, invalid: 1, usage: 2, conflict: 3, interrupted: 130, brokenPipe: 141 } as const;
