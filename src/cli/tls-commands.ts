/** `swarmgate tls apply|list|delete`: registration only; the commands' module loads when one runs. */
import type { Command } from 'commander';
import { Option } from 'commander';
import type { DockerPort } from '../observed/docker-port';
import type { Output } from './output';

export function registerTlsCommands(program: Command, io: Output, setExit: (code: number) => void, port: () => DockerPort): void {
  const tls = program.command('tls').description('certificates that routes use by name (tls.certificate.name), stored as versioned Docker secrets');
  tls
    .command('apply')
    .description('check a PEM certificate and key and store them as the newest version of NAME; routes using NAME move to it')
    .argument('<name>', 'certificate name (a DNS label, at most 40 characters)')
    .requiredOption('--cert <file>', 'PEM certificate, the server\'s own first, then its chain')
    .requiredOption('--key <file>', 'PEM private key of the first certificate (unencrypted)')
    .option('--allow-mismatch', 'store it even if its DNS names do not cover every host of the routes using NAME')
    .action(async (name: string, opts: { cert: string; key: string; allowMismatch?: boolean }) =>
      setExit(await (await import('./commands/tls')).runTlsApply(port(), { name, cert: opts.cert, key: opts.key, allowMismatch: opts.allowMismatch === true }, io)),
    );
  tls
    .command('list')
    .description('stored certificates: versions, expiry, the services mounting each version and the routes using it')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .action(async (opts: { output?: string }) => setExit(await (await import('./commands/tls')).runTlsList(port(), opts.output, io)));
  tls
    .command('delete')
    .description('remove every version of a certificate no route uses')
    .argument('<name>', 'certificate name')
    .action(async (name: string) => setExit(await (await import('./commands/tls')).runTlsDelete(port(), name, io)));
}
