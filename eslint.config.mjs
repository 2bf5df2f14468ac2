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
  {
    files: ['src/domain/**/*.ts', 'src/plan/**/*.ts', 'src/render/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ioModules }] },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
