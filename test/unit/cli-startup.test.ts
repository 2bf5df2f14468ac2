/**
 * The CLI loads a command's module only when that command runs: starting `swarmgate` must not load
 * the Docker client, gRPC, the YAML parser or the renderers (they cost ~0.5 s on every call).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const HEAVY = ['dockerode', '@grpc/grpc-js', 'yaml', 'mustache', 'pino', 'rxjs', 'io-ts'];

function loadedAfter(script: string): string[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `${script}; process.stdout.write(JSON.stringify(Object.keys(require.cache)))`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return (JSON.parse(r.stdout) as string[]).map((p) => p.replace(/\\/g, '/'));
}

describe('CLI start-up', () => {
  it('builds the program without loading any heavy module', () => {
    const loaded = loadedAfter("require('./src/cli/program').buildProgram({ out() {}, err() {} }, () => undefined)");
    expect(loaded.some((p) => p.endsWith('/src/cli/program.ts'))).toBe(true);
    expect(HEAVY.filter((m) => loaded.some((p) => p.includes(`/node_modules/${m}/`)))).toEqual([]);
    expect(loaded.filter((p) => p.includes('/src/cli/commands/'))).toEqual([]);
  });

  it('reaches Docker without loading gRPC or protobufjs (dockerode\'s BuildKit session is stubbed)', () => {
    const loaded = loadedAfter("require('./src/observed/dockerode-adapter').createDockerPort()");
    expect(loaded.some((p) => p.includes('/node_modules/dockerode/'))).toBe(true);
    expect(['@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs'].filter((m) => loaded.some((p) => p.includes(`/node_modules/${m}/`)))).toEqual([]);
  });

  it('runs get without the YAML parser or the apply preview (loaded by the commands that need them)', () => {
    const loaded = loadedAfter("require('./src/cli/commands/get')");
    expect(loaded.filter((p) => p.includes('/node_modules/yaml/') || p.endsWith('/src/cli/apply-preview.ts') || p.endsWith('/src/desired/load-specs.ts'))).toEqual([]);
  });

  it('runs get without the renderers, mustache, the model builder or jsonpath-plus (loaded only when needed)', () => {
    const loaded = loadedAfter("require('./src/cli/commands/get')");
    const heavy = loaded.filter(
      (p) => p.includes('/src/render/') || p.includes('/node_modules/mustache/') || p.includes('/node_modules/jsonpath-plus/') || p.endsWith('/src/plan/build-model.ts') || p.endsWith('/src/plan/pipeline.ts'),
    );
    expect(heavy).toEqual([]);
  });
});
