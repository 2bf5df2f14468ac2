// Flat config. The import boundaries below are the architecture's dependency rule
// (docs/adr/0002-pure-core.md): domain, plan and render stay pure so they can be
// tested without a Docker engine and reused by the core, the extension and the CLI.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const ioModules = [
  { group: ['node:*', 'fs', 'fs/*', 'path', 'os', 'child_process', 'net', 'http', 'https', 'crypto', 'stream', 'events', 'util'], message: 'Pure core: no I/O or Node built-ins (see docs/adr/0002-pure-core.md).' },
  { group: ['dockerode', 'dockerode/*'], message: 'Only src/observed may talk to Docker.' },
  { group: ['rxjs', 'rxjs/*'], message: 'RxJS belongs to src/reconcile.' },
  { group: ['@grpc/*'], message: 'gRPC belongs to src/api.' },
  { group: ['pino', 'prom-client', 'commander', 'yaml'], message: 'Edges only: parse and log at the edge, keep the core pure.' },
];

const edgesAndPrograms = ['cli', 'core', 'agent', 'extension'];
/**
 * Which src/ folders each folder may not import (the dependency rule of docs/architecture.md).
 * Everything is forbidden the CLI and the programs, so no library folder depends on an edge.
 */
const boundaries = {
  domain: { pure: true, why: 'the bottom layer: types and codecs', forbidden: ['api', 'apply', 'validate', 'desired', 'observed', 'status', 'reconcile', 'plan', 'render', ...edgesAndPrograms] },
  plan: { pure: true, why: 'pure core', forbidden: ['api', 'apply', 'validate', 'desired', 'status', 'reconcile', ...edgesAndPrograms] },
  render: { pure: true, why: 'pure core', forbidden: ['api', 'apply', 'validate', 'desired', 'observed', 'status', 'reconcile', ...edgesAndPrograms] },
  observed: { pure: false, why: 'reads Docker; what users want is not its business', forbidden: ['desired', 'api', 'apply', 'validate', 'status', 'reconcile', 'plan', 'render', ...edgesAndPrograms] },
  desired: { pure: false, why: 'desired-state sources', forbidden: ['api', 'apply', 'validate', 'status', 'reconcile', ...edgesAndPrograms] },
  apply: { pure: false, why: 'executes writes on the Docker port, knows nothing of gRPC', forbidden: ['api', 'desired', 'status', 'reconcile', ...edgesAndPrograms] },
  validate: { pure: false, why: 'runs the proxies\' own checks', forbidden: ['api', 'apply', 'desired', 'observed', 'status', 'reconcile', ...edgesAndPrograms] },
  status: { pure: false, why: 'conditions to labels, metrics', forbidden: ['apply', 'reconcile', ...edgesAndPrograms] },
  reconcile: { pure: false, why: 'the loop operators', forbidden: ['api', 'apply', 'validate', 'desired', 'observed', 'status', 'plan', 'render', 'domain', ...edgesAndPrograms] },
  api: { pure: false, why: 'gRPC server and clients', forbidden: ['apply', 'desired', 'status', 'reconcile', ...edgesAndPrograms] },
  core: { pure: false, why: 'the core program', forbidden: ['cli', 'agent', 'extension'] },
  agent: { pure: false, why: 'the proxy agent program', forbidden: ['cli', 'core', 'extension', 'apply', 'desired', 'observed', 'status', 'reconcile'] },
  extension: { pure: false, why: 'the extension program', forbidden: ['cli', 'core', 'agent', 'apply', 'desired', 'observed', 'status', 'reconcile'] },
};

/** Patterns forbidding imports of the given src/ folders, from any depth. */
function layers(folders, who) {
  return folders.map((f) => ({ group: [`../${f}/*`, `../../${f}/*`, `../${f}`, `../../${f}`], message: `${who} must not import src/${f} (see docs/architecture.md, "Where each concern lives").` }));
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**', 'test/golden/**/*.json', 'src/api/generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-cycle': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
    settings: { 'import-x/resolver': { node: { extensions: ['.ts', '.js'] } } },
  },
  // One config per folder: ESLint keeps only the last matching value of a rule, so each folder's
  // patterns are listed whole here rather than layered.
  ...Object.entries(boundaries).map(([folder, { pure, forbidden, why }]) => ({
    files: [`src/${folder}/**/*.ts`],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [...(pure ? ioModules : []), ...layers(forbidden, `src/${folder} (${why})`)] }] },
  })),
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // Example backends in plain CommonJS, run by the Node of a container image (examples/grpc): no types.
    files: ['examples/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', console: 'readonly', setTimeout: 'readonly' } },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
