/**
 * `swarmgate … | head -1`: when the reader goes away the CLI stops quietly with 141 (what a shell
 * reports for SIGPIPE), not with a stack trace.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('the CLI with a closed stdout', () => {
  it('exits 141 without a stack trace', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'render', '-f', 'examples/quickstart'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the first write
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(141);
  }, 30_000);

  it('stops status --watch with 141 and no stack trace (`status --watch | head -3`)', async () => {
    // No engine at this address: the first frame is the connection error, written to a pipe nobody reads.
    const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent/sg-broken-pipe.sock' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', '--watch'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(141);
  }, 30_000);
});
