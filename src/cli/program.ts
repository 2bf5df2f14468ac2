/** The commander program: parse, call a command, return its exit code. Thin by design. */
import { Command, Option } from 'commander';
import { runRender } from './commands/render';
import { runValidate } from './commands/validate';
import type { Output } from './output';

const VERSION = '0.1.0';

export function buildProgram(io: Output, setExit: (code: number) => void): Command {
  const program = new Command('swarmgate')
    .description('Layer-7 routing for Docker Swarm: Route and ServiceCluster specs, reconciled into NGINX proxies')
    .version(VERSION)
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  program
    .command('validate')
    .description('check spec files offline; one line per problem as FILE:LINE:COL Kind/name field: message')
    .requiredOption('-f, --file <path...>', 'YAML/JSON files or directories ("-" reads stdin)')
    .action((opts: { file: string[] }) => setExit(runValidate(opts.file, io)));

  program
    .command('render')
    .description('render the proxy configuration the specs produce against a Swarm snapshot')
    .requiredOption('-f, --file <path...>', 'YAML/JSON files or directories')
    .option('--snapshot <file>', 'Swarm state as JSON/YAML (see docs/snapshot.md); empty when omitted')
    .option('--cluster <name>', 'only this service cluster (default: print the "default" cluster)')
    .option('--out <dir>', 'write <dir>/<cluster>/nginx.conf and <dir>/conditions.json')
    .addOption(new Option('-o, --output <format>', 'print configs and conditions as JSON').choices(['json']))
    .action((opts: { file: string[]; snapshot?: string; cluster?: string; out?: string; output?: string }) => setExit(runRender(opts, io)));

  return program;
}
