// Bundles the swarmgate CLI with esbuild: dist/cli/swarmgate-main.js (src/cli/main.ts and the libraries
// of the everyday commands, in one file) and dist/cli/swarmgate.js, the `swarmgate` bin, which runs it
// through a V8 code cache (src/cli/bin.ts). Why (ADR 0026): a command that loads ~150 files from dist/ and node_modules/ spends most of
// its start-up resolving, reading and compiling them; one file with each command's code wrapped in a
// lazy initialiser (esbuild does this for every `import()`) starts in about half the time.
// Run by `npm run build` after tsc; `node deploy/scripts/bundle-cli.mjs [OUT_DIR]` alone rebuilds the
// bundle (into OUT_DIR instead of dist/cli: test/unit/cli-bundle.test.ts).
import { build } from 'esbuild';
import { chmodSync, cpSync, rmSync } from 'node:fs';
import process from 'node:process';

const OUT_DIR = process.argv[2] ?? 'dist/cli';

/**
 * dockerode loads its BuildKit session (and with it @grpc/grpc-js and protobufjs) at load time, for
 * `buildImage` only, which swarmgate never calls. src/observed/skip-buildkit-session.ts keeps it out
 * of the tsc build through Node's module cache; in a bundle there is no module cache to use, so the
 * session is replaced here by the same refusal.
 */
const dockerodeWithoutBuildkitSession = {
  name: 'dockerode-without-buildkit-session',
  setup(b) {
    b.onResolve({ filter: /^\.\/session$/ }, (args) => (/[\\/]dockerode[\\/]lib$/.test(args.resolveDir) ? { path: 'dockerode-session', namespace: 'swarmgate-stub' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'swarmgate-stub' }, () => ({
      contents: "module.exports = function buildkitSessionUnavailable() { throw new Error('dockerode BuildKit session not loaded: swarmgate does not build images through the Docker API'); };",
      loader: 'js',
    }));
  },
};

/**
 * The libraries of the everyday commands (get, describe, status, wait, apply, diff, validate, render…)
 * go into the bundle. The long-running programs' libraries (gRPC, ACME, pino, prom-client, rxjs,
 * completion) stay ordinary requires from node_modules, loaded only when `core`, `proxy-agent`,
 * `extension`, a watch or a TLS command runs: bundled, their ~3 MB would be read and compiled by
 * every `get`. Either way each library is loaded once, so no class exists twice.
 */
const BUNDLED_PACKAGES = new Set(['commander', 'fp-ts', 'io-ts', '@noble/hashes', 'dockerode', 'yaml', 'diff', 'mustache', 'jsonpath-plus', 'fflate']);

const daemonLibrariesFromNodeModules = {
  name: 'daemon-libraries-from-node-modules',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === 'entry-point' || args.path.startsWith('node:') || /[\\/]node_modules[\\/]/.test(args.importer)) return undefined;
      const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
      return BUNDLED_PACKAGES.has(name) ? undefined : { path: args.path, external: true };
    });
  },
};

rmSync(OUT_DIR, { recursive: true, force: true });
await build({
  entryPoints: { swarmgate: 'src/cli/bin.ts', 'swarmgate-main': 'src/cli/main.ts' },
  outdir: OUT_DIR,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // ssh2 stays a real require from node_modules: it has native add-ons, and src/observed/skip-ssh2.ts
  // puts a stub in the module cache unless DOCKER_HOST is ssh:// (its load costs 16 MiB of memory).
  external: ['ssh2'],
  plugins: [dockerodeWithoutBuildkitSession, daemonLibrariesFromNodeModules],
  sourcemap: true,
  // The bundle keeps src/'s names in stack traces and stays readable.
  minify: false,
  logLevel: 'warning',
});
// src/api/proto.ts reads the .proto files next to the code that runs: __dirname is dist/cli here.
cpSync('src/api/proto', `${OUT_DIR}/proto`, { recursive: true });
chmodSync(`${OUT_DIR}/swarmgate.js`, 0o755);
