/**
 * The commander program: parse, call a command, return its exit code. Thin by design. Each command's
 * module is imported when that command runs, not at start-up: a user types these commands all day,
 * and loading every command (Docker client, gRPC, the model, the renderers) cost ~0.5 s each time.
 */
import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { withInterrupt } from './interrupt';
import type { DockerPort } from '../observed/docker-port';
import type { RolloutCommand } from '../plan/rollout';
import type * as Adapter from '../observed/dockerode-adapter';
import type { Output } from './output';
import { DEFAULT_CORE_IMAGE, DEFAULT_DOCKER_SOCKET } from './install-defaults';
import { registerTlsCommands } from './tls-commands';

/** The version in package.json (one version for CLI and images), found from src/ and dist/src/ alike. */
function packageVersion(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? 'unknown';
  }
  return 'unknown';
}

const VERSION = packageVersion();

/** Docker is reached lazily, so offline commands (validate, render) never load dockerode. */
export type PortFactory = () => DockerPort;

function defaultPort(): DockerPort {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy on purpose: offline commands must not need Docker
  const adapter = require('../observed/dockerode-adapter') as typeof Adapter;
  return adapter.createDockerPort();
}

export function buildProgram(io: Output, setExit: (code: number) => void, port: PortFactory = defaultPort): Command {
  const program = new Command('swarmgate')
    .description('Layer-7 routing for Docker Swarm: Route and ServiceCluster specs, reconciled into NGINX or HAProxy proxies')
    .version(VERSION)
    // A hint, not the whole help: the error line (with commander's "did you mean") stays visible.
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .exitOverride();

  program
    .command('version')
    .description('the CLI\'s version and the running core\'s (from its image), like kubectl version')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .action(async (opts: { output?: string }) => setExit(await (await import('./commands/version')).runVersion(port, VERSION, opts.output, io)));

  program
    .command('completion')
    .description('print the shell completion script: source <(swarmgate completion bash), or zsh/fish likewise')
    .argument('<shell>', 'bash | zsh | fish')
    .action(async (shell: string) => setExit(await (await import('./commands/completion')).runCompletionScript(shell, io)));

  program
    .command('completion-server', { hidden: true })
    .description('answer one TAB for the completion script (reads COMP_LINE and COMP_POINT)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(async () => {
      const c = await import('./commands/completion');
      setExit(await c.runCompletionServer(program, process.env, c.storedNames(port)));
    });

  program
    .command('validate')
    .description('check spec files offline; one line per problem as FILE:LINE:COL Kind/name field: message')
    .requiredOption('-f, --file <path...>', 'YAML/JSON files or directories ("-" reads stdin)')
    .action(async (opts: { file: string[] }) => setExit((await import('./commands/validate')).runValidate(opts.file, io)));

  program
    .command('render')
    .description('render the proxy configuration the specs produce against a Swarm snapshot')
    .requiredOption('-f, --file <path...>', 'YAML/JSON files or directories')
    .option('--snapshot <file>', 'Swarm state as JSON/YAML (see docs/snapshot.md); empty when omitted')
    .option('--cluster <name>', 'only this service cluster (default: print the "default" cluster)')
    .option('--out <dir>', 'write <dir>/<cluster>/nginx.conf (haproxy.cfg for HAProxy clusters), <dir>/conditions.json and, with Interlock labels, <dir>/label-routes.json')
    .addOption(new Option('-o, --output <format>', 'print configs and conditions as JSON').choices(['json']))
    .action(async (opts: { file: string[]; snapshot?: string; cluster?: string; out?: string; output?: string }) => setExit((await import('./commands/render')).runRender(opts, io)));

  program
    .command('apply')
    .description('validate, then store each object in the Swarm (a config per generation); prints route/NAME created|configured|unchanged')
    .requiredOption('-f, --file <path...>', 'YAML files or directories')
    .action(async (opts: { file: string[] }) => setExit(await withInterrupt(async (signal) => (await import('./commands/apply')).runApply(port(), opts.file, io, signal))));

  program
    .command('delete')
    .description('delete objects: `delete route NAME...` or `delete -f PATH...`')
    .argument('[kind]', 'route or servicecluster')
    .argument('[names...]', 'object names')
    .option('-f, --file <path...>', 'delete the objects these files define')
    .action(async (kind: string | undefined, names: string[], opts: { file?: string[] }) =>
      setExit(await (await import('./commands/apply')).runDelete(port(), { ...(kind !== undefined ? { kind } : {}), names, ...(opts.file !== undefined ? { paths: opts.file } : {}) }, io)),
    );

  program
    .command('get')
    .description('list routes, serviceclusters, middlewares, tcproutes or udproutes with their conditions')
    .argument('<kind>', 'routes | serviceclusters | middlewares | tcproutes | udproutes')
    .argument('[name]', 'one object')
    .option('-o, --output <format>', 'output format: wide, yaml, json, name, or jsonpath=TEMPLATE (kubectl\'s, e.g. \'{.items[*].metadata.name}\')')
    .option('-l, --selector <selector>', 'only objects whose metadata.labels match: key=value, key!=value, key, !key (comma: and)')
    .option('-w, --watch', 'after the table, print a row whenever an object\'s row changes, until Ctrl-C')
    .action(async (kind: string, name: string | undefined, opts: { output?: string; selector?: string; watch?: boolean }) =>
      setExit(
        await withInterrupt(async (signal) => (await import('./commands/get')).runGet(port(), kind, name, opts.output, io, new Date(), opts.selector, opts.watch === true ? { signal } : undefined)),
      ),
    );

  program
    .command('describe')
    .description('show one object: spec summary and conditions with reasons')
    .argument('<kind>', 'route | servicecluster | middleware | tcproute | udproute')
    .argument('<name>', 'object name')
    .action(async (kind: string, name: string) => setExit(await (await import('./commands/get')).runDescribe(port(), kind, name, io)));

  program
    .command('wait')
    .description('wait until a condition holds for the current generation (exit 1 on timeout)')
    .argument('<ref>', 'KIND/NAME, e.g. route/shop')
    .requiredOption('--for <condition>', 'Programmed, condition=Accepted=True, delete, or canary=Succeeded (a route\'s rollout phase)')
    .option('--timeout <duration>', 'give up after this long', '60s')
    .action(async (ref: string, opts: { for: string; timeout: string }) => setExit(await (await import('./commands/wait')).runWait(port(), ref, opts.for, opts.timeout, io)));

  const canary = program
    .command('canary')
    .description('watch and steer the rollout of a Route with spec.canary (the core runs it; see docs/reference/canary.md)');

  canary
    .command('list')
    .description('every route with spec.canary: strategy, stable and new backend, phase and weight, Rollout condition')
    .action(async () => setExit(await (await import('./commands/canary-list')).runCanaryList(port(), io)));

  canary
    .command('get')
    .description('the rollout: phase, steps, weights, analysis, history and the last command\'s result')
    .argument('<name>', 'route name')
    .option('-w, --watch', 'redraw every second until the rollout is Succeeded, Failed or Aborted, or Ctrl-C')
    .addOption(new Option('-o, --output <format>', 'output format (with --watch: one JSON line per change)').choices(['json']))
    .action(async (name: string, opts: { watch?: boolean; output?: string }) =>
      setExit(
        await withInterrupt(async (signal) =>
          (await import('./commands/canary')).runCanaryGet(port(), name, { watch: opts.watch === true, ...(opts.output !== undefined ? { output: opts.output } : {}), signal }, io),
        ),
      ),
    );

  // Each command waits for the core's verdict: exit 0 accepted, 1 rejected or no answer (the command is then withdrawn).
  const steer = (cmd: string, description: string, command: (opts: { full?: boolean }) => RolloutCommand): Command =>
    canary
      .command(cmd)
      .description(description)
      .argument('<name>', 'route name')
      .option('--timeout <duration>', 'how long to wait for the core to take the command', '30s')
      .action(async (name: string, opts: { timeout: string; full?: boolean }) =>
        setExit(await withInterrupt(async (signal) => (await import('./commands/canary')).runCanaryCommand(port(), name, command(opts), { timeout: opts.timeout, signal }, io))),
      );
  steer('promote', 'end the current pause (blue-green: switch to the preview); --full: go to 100% at once', (o) => (o.full === true ? 'promoteFull' : 'promote')).option(
    '--full',
    'skip the remaining steps and send all traffic to the new service',
  );
  steer('abort', 'stop the rollout and send all traffic back to the stable service', () => 'abort');
  steer('retry', 'restart a Failed or Aborted rollout from step 0', () => 'retry');

  program
    .command('core')
    .description('run the reconciler (normally as the swarmgate-core service on a manager)')
    .option('--once', 'run one reconcile pass and exit (exit 1 if it failed)')
    .option('--listen <address>', 'serve the gRPC API on host:port or unix:///path (extensions, proxy agents)')
    .option('--advertise <host:port>', 'address proxy agents dial to reach this core (enables hitless delivery)')
    .option('--control-network <name>', 'overlay network shared by the core and hitless proxies', 'swarmgate-control')
    .option('--insecure', 'plaintext gRPC without client certificates (development only)')
    .option('--tls-dir <dir>', 'mutual TLS: directory with swarmgate-ca.crt, swarmgate-server.crt and swarmgate-server.key (and swarmgate-ca.key to issue components\' identities)')
    .option('--tls-set <id>', 'the TLS secret set (set by install): the CA the proxies and extensions mount, and the set the core issues their identities for')
    .option('--tls-previous-set <id>', 'set by rotate-certs: the set rotated away from, still trusted (its CA as swarmgate-previous-ca.crt/.key) until components have switched (ADR 0019)')
    .option('--metrics-listen <host:port>', 'serve Prometheus metrics on GET /metrics')
    .option('--external-extension', 'wait for `swarmgate extension` processes to render each cluster instead of rendering in the core')
    .option('--extension-image <ref>', 'run one extension service per cluster with this image (implies --external-extension)')
    .action(async (opts: { once?: boolean; listen?: string; advertise?: string; controlNetwork: string; insecure?: boolean; tlsDir?: string; tlsSet?: string; tlsPreviousSet?: string; metricsListen?: string; externalExtension?: boolean; extensionImage?: string }) =>
      setExit(
        await (await import('./commands/core')).runCoreCommand(
          port(),
          {
            once: opts.once === true,
            ...(opts.listen !== undefined ? { listen: opts.listen } : {}),
            ...(opts.advertise !== undefined ? { advertise: opts.advertise } : {}),
            controlNetwork: opts.controlNetwork,
            insecure: opts.insecure === true,
            ...(opts.tlsDir !== undefined ? { tlsDir: opts.tlsDir } : {}),
            ...(opts.tlsSet !== undefined ? { tlsSet: opts.tlsSet } : {}),
            ...(opts.tlsPreviousSet !== undefined ? { tlsPreviousSet: opts.tlsPreviousSet } : {}),
            ...(opts.metricsListen !== undefined ? { metricsListen: opts.metricsListen } : {}),
            ...(opts.externalExtension === true ? { externalExtension: true } : {}),
            ...(opts.extensionImage !== undefined ? { extensionImage: opts.extensionImage } : {}),
          },
          io,
        ),
      ),
    );

  program
    .command('extension')
    .description('render and validate one service cluster\'s configuration for the core (no Docker API needed)')
    .requiredOption('--cluster <name>', 'ServiceCluster to render')
    .option('--core <host:port>', 'the core gRPC address (default: $SWARMGATE_CORE_ADDR)')
    .option('--tls-dir <dir>', 'mutual TLS: directory with swarmgate-ca.crt, swarmgate-client.crt, swarmgate-client.key (default: $SWARMGATE_TLS_DIR)')
    .option('--insecure', 'plaintext gRPC (development only)')
    .action(async (opts: { cluster: string; core?: string; tlsDir?: string; insecure?: boolean }) =>
      setExit(await (await import('./commands/extension')).runExtension({ cluster: opts.cluster, ...(opts.core !== undefined ? { core: opts.core } : {}), ...(opts.tlsDir !== undefined ? { tlsDir: opts.tlsDir } : {}), insecure: opts.insecure === true }, io)),
    );

  program
    .command('proxy-agent')
    .description('run NGINX or HAProxy and apply the configs the core streams to it (inside hitless proxy tasks)')
    .option('--core <host:port>', 'the core gRPC address (default: $SWARMGATE_CORE_ADDR)')
    .option('--cluster <name>', 'ServiceCluster of this proxy (default: $SWARMGATE_CLUSTER)')
    .option('--replica <id>', 'this replica\'s Swarm task ID (default: $SWARMGATE_REPLICA_ID)')
    .option('--kind <kind>', 'nginx or haproxy (default: $SWARMGATE_PROXY_KIND, else nginx)')
    .option('--conf-dir <dir>', 'writable directory for the live configuration (default: /run/swarmgate/nginx, /run/swarmgate/haproxy/conf)')
    .option('--standalone', 'no core: run the proxy on the mounted config (rolling HAProxy tasks: builds the TLS PEM files)')
    .option('--tls-dir <dir>', 'mutual TLS files (default: $SWARMGATE_TLS_DIR)')
    .option('--insecure', 'plaintext gRPC (default when SWARMGATE_INSECURE=1)')
    .action(async (opts: { core?: string; cluster?: string; replica?: string; kind?: string; confDir?: string; standalone?: boolean; tlsDir?: string; insecure?: boolean }) =>
      setExit(
        await (await import('./commands/proxy-agent')).runProxyAgent(
          {
            ...(opts.confDir !== undefined ? { confDir: opts.confDir } : {}),
            ...(opts.kind !== undefined ? { kind: opts.kind } : {}),
            ...(opts.standalone === true ? { standalone: true } : {}),
            ...(opts.core !== undefined ? { core: opts.core } : {}),
            ...(opts.cluster !== undefined ? { cluster: opts.cluster } : {}),
            ...(opts.replica !== undefined ? { replica: opts.replica } : {}),
            ...(opts.insecure !== undefined ? { insecure: opts.insecure } : {}),
            ...(opts.tlsDir !== undefined ? { tlsDir: opts.tlsDir } : {}),
          },
          io,
        ),
      ),
    );

  program
    .command('diff')
    .description('show what apply would change: spec changes, generated proxy config diffs, proxy services updated (exit 0 same, 1 changes, 2 error)')
    .requiredOption('-f, --file <path...>', 'YAML files or directories')
    .action(async (opts: { file: string[] }) => setExit(await (await import('./commands/diff')).runDiff(port(), opts.file, io)));

  program
    .command('import-labels')
    .description('print the Route YAML equivalent to the Interlock com.docker.lb.* labels of the services (all labelled services by default); exit 1 if a label cannot be translated')
    .argument('[services...]', 'only these services (and the services pooled with them)')
    .action(async (services: string[]) => setExit(await (await import('./commands/import-labels')).runImportLabels(port(), services, io)));

  program
    .command('status')
    .description('proxies per cluster (replicas, the config each serves) and route conditions')
    .option('-w, --watch', 'redraw in place on every change until Ctrl-C')
    .action(async (opts: { watch?: boolean }) => setExit(await withInterrupt(async (signal) => (await import('./commands/status')).runStatus(port(), opts.watch === true, io, { signal }))));

  program
    .command('history')
    .description('revisions of a cluster\'s generated proxy config (the last 5 are kept): `history cluster NAME`')
    .argument('<kind>', 'cluster')
    .argument('<name>', 'service cluster name')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['json']))
    .action(async (kind: string, name: string, opts: { output?: string }) => setExit(await (await import('./commands/history')).runHistory(port(), kind, name, opts.output, io)));

  program
    .command('rollback')
    .description('serve an earlier revision of a cluster\'s proxy config until the next apply of the cluster or one of its routes')
    .argument('<kind>', 'cluster')
    .argument('<name>', 'service cluster name')
    .option('--to-revision <n>', 'revision to serve (default: the one before the current)')
    .action(async (kind: string, name: string, opts: { toRevision?: string }) => setExit(await (await import('./commands/history')).runRollback(port(), kind, name, opts.toRevision, io)));

  registerTlsCommands(program, io, setExit, port);

  program
    .command('install')
    .description('deploy the swarmgate core as a Swarm service on a manager (idempotent)')
    .option('--image <ref>', 'swarmgate image', DEFAULT_CORE_IMAGE)
    .option('--local-images', 'name images by local ID (no registry; single-node trials and CI)')
    .option('--log-level <level>', 'core log level', 'info')
    .option('--extension-services', 'render in one extension service per cluster (no Docker API) instead of in the core')
    .option('--docker-socket <path>', 'host path of the Docker socket to mount into the core', DEFAULT_DOCKER_SOCKET)
    .action(async (opts: { image: string; localImages?: boolean; logLevel: string; extensionServices?: boolean; dockerSocket: string }) =>
      setExit(
        await (await import('./commands/install')).runInstall(
          port(),
          { image: opts.image, localImages: opts.localImages === true, logLevel: opts.logLevel, dockerSocket: opts.dockerSocket, ...(opts.extensionServices === true ? { extensionServices: true } : {}) },
          io,
        ),
      ),
    );

  program
    .command('rotate-certs')
    .description('new CA and certificates for the gRPC API; the core restarts on them and hands every proxy agent its new identity over its stream (no proxy task restarts)')
    .option('--revoke-previous', 'stop trusting the previous set at once: proxies and extensions are updated to the new mounts (their tasks restart; use when a key leaked)')
    .action(async (opts: { revokePrevious?: boolean }) => setExit(await (await import('./commands/install')).runRotateCerts(port(), io, { revokePrevious: opts.revokePrevious === true })));

  program
    .command('uninstall')
    .description('remove the core, the proxies and their generated configs')
    .option('--purge', 'also remove the stored Route and ServiceCluster specs and the certificates stored with tls apply')
    .action(async (opts: { purge?: boolean }) => setExit(await (await import('./commands/install')).runUninstall(port(), opts.purge === true, io)));

  return program;
}
