/**
 * Shell completion: candidates come from the commander program itself and from stored names; and a
 * real bash, with the script `swarmgate completion bash` prints sourced, completes through it.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FILES, completionCandidates, type NameLookup } from '../../src/cli/completion';
import { buildProgram } from '../../src/cli/program';

const names: NameLookup = async (kind) => ({ route: ['shop', 'shop-api', 'blog'], servicecluster: ['edge'], certificate: ['shop-cert'] })[kind];
const program = () => buildProgram({ out: () => undefined, err: () => undefined }, () => undefined);
const complete = (line: string) => completionCandidates(program(), line.split(' '), names);

describe('completion candidates', () => {
  it('offers the commands, never the hidden completion-server', async () => {
    const top = await complete('');
    expect(top).toEqual(expect.arrayContaining(['apply', 'get', 'describe', 'wait', 'canary', 'tls', 'version', 'completion']));
    expect(top).not.toContain('completion-server');
    expect(await complete('de')).toEqual(['delete', 'describe']);
    expect(await complete('canary p')).toEqual(['promote']);
  });

  it('offers kinds, then stored names of that kind', async () => {
    expect(await complete('get ')).toEqual(['routes', 'serviceclusters']);
    expect(await complete('get routes sh')).toEqual(['shop', 'shop-api']);
    expect(await complete('describe sc ')).toEqual(['edge']);
    expect(await complete('get routes shop ')).toEqual([]);
    // delete takes several names: the ones already typed are not offered again.
    expect(await complete('delete route shop ')).toEqual(['blog', 'shop-api']);
  });

  it('offers KIND/NAME for wait, routes for canary, clusters for history, certificates for tls delete', async () => {
    expect(await complete('wait ')).toEqual(['route/blog', 'route/shop', 'route/shop-api', 'servicecluster/edge']);
    expect(await complete('canary promote b')).toEqual(['blog']);
    expect(await complete('history ')).toEqual(['cluster']);
    expect(await complete('history cluster ')).toEqual(['edge']);
    expect(await complete('tls delete ')).toEqual(['shop-cert']);
  });

  it('offers options, option choices, and files for path options', async () => {
    expect(await complete('get routes --')).toEqual(expect.arrayContaining(['--output', '--selector', '--help']));
    expect(await complete('get routes -o ')).toEqual(['wide', 'yaml', 'json', 'name', 'jsonpath=']);
    expect(await complete('canary get shop -o ')).toEqual(['json']);
    expect(await complete('apply -f ')).toBe(FILES);
    // A value already given does not shift the positional arguments.
    expect(await complete('get -o wide routes b')).toEqual(['blog']);
  });
});

describe('completion in a real bash', () => {
  it('completes through the script swarmgate completion bash prints', () => {
    const bin = mkdtempSync(join(tmpdir(), 'sg-completion-'));
    const root = resolve(__dirname, '../..');
    // `swarmgate` on the PATH runs this checkout's CLI from source, as the installed one runs from dist.
    writeFileSync(join(bin, 'swarmgate'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${join(root, 'src/cli/main.ts')}" "$@"\n`);
    chmodSync(join(bin, 'swarmgate'), 0o755);
    const script = [
      'source <(swarmgate completion bash)',
      'COMP_WORDS=(swarmgate get rou); COMP_CWORD=2; COMP_LINE="swarmgate get rou"; COMP_POINT=${#COMP_LINE}',
      '_swarmgate_completion',
      'printf "%s\\n" "${COMPREPLY[@]}"',
    ].join('\n');
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: root, env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}`, DOCKER_HOST: 'unix:///nonexistent.sock' }, timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n')).toEqual(['routes']);
  });
});
