/**
 * `swarmgate completion bash|zsh|fish` prints the script a shell sources; the script calls the
 * hidden `swarmgate completion-server` on every TAB, which answers from the program's own commands
 * and options and, for object names, from what is stored (with a deadline: a TAB never hangs on an
 * unreachable Docker daemon).
 */
import type { Command } from 'commander';
import { getCompletionScript, log, logFiles, parseEnv, type SupportedShell } from '@pnpm/tabtab';
import { listStoredSpecs } from '../../desired/spec-store';
import type { DockerPort } from '../../observed/docker-port';
import { storedCertificates } from '../../apply/certificate-secrets';
import { FILES, completionCandidates, type NameLookup } from '../completion';
import { EXIT, type Output } from '../output';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** How long a TAB waits for Docker before offering no names. */
const NAMES_DEADLINE_MS = 1500;

export async function runCompletionScript(shell: string, io: Output): Promise<number> {
  if (!(SHELLS as readonly string[]).includes(shell)) {
    io.err(`completion: expected one of ${SHELLS.join(', ')}, got "${shell}"`);
    return EXIT.usage;
  }
  io.out(await getCompletionScript({ name: 'swarmgate', completer: 'swarmgate', shell: shell as SupportedShell }));
  return EXIT.ok;
}

function withDeadline<T>(p: Promise<T>, fallback: T): Promise<T> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(fallback), NAMES_DEADLINE_MS);
    p.then(
      (v) => resolve(v),
      () => resolve(fallback),
    ).finally(() => clearTimeout(timer));
  });
}

export function storedNames(port: () => DockerPort): NameLookup {
  let specs: Promise<{ kind: string; name: string }[]> | undefined;
  return async (kind) => {
    if (kind === 'certificate') return withDeadline(port().listSecrets().then((s) => [...storedCertificates(s).keys()]), []);
    specs ??= withDeadline(listStoredSpecs(port()).then(({ current }) => [...current.values()].map((s) => ({ kind: s.kind, name: s.name }))), []);
    const wanted = kind === 'route' ? 'Route' : 'ServiceCluster';
    return (await specs).filter((s) => s.kind === wanted).map((s) => s.name);
  };
}

/** Answer one TAB: the shell passes the line and cursor in COMP_LINE / COMP_POINT. */
export async function runCompletionServer(program: Command, env: NodeJS.ProcessEnv, names: NameLookup): Promise<number> {
  const parsed = parseEnv(env);
  const shell = (SHELLS as readonly string[]).includes(env.SHELL?.split('/').pop() ?? '') ? (env.SHELL?.split('/').pop() as SupportedShell) : 'bash';
  // The words before the cursor; the first is the program's own name.
  const words = parsed.partial.split(/\s+/).slice(1);
  const candidates = await completionCandidates(program, words.length === 0 ? [''] : words, names);
  if (candidates === FILES) logFiles();
  else log([...candidates], shell);
  return EXIT.ok;
}
