/**
 * The supervisor is supervised (ADR 0018, addendum): a proxy task's PID 1 is the shell loop
 * deploy/docker/proxy-init.sh, run here as the image runs it (`swarmgate-proxy-init swarmgate
 * proxy-agent ...`, with a `swarmgate` on the PATH that execs the real CLI), with real NGINX and a
 * real gRPC core. Under a request loop the agent's Node supervisor is SIGKILLed: NGINX keeps serving
 * (0 failed requests) with the same master, the loop starts a new supervisor, the orphaned agent
 * exits by itself (no two agents), and the new agent takes NGINX over and applies the next config.
 * A stop signal to the loop stops everything gracefully; an agent that keeps failing ends the loop
 * (the supervisor's give-up status is final). Figures are printed.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { AgentSupervisor, SUPERVISOR_GAVE_UP_EXIT } from '../../src/agent/agent-supervisor';
import { ControlPlane } from '../../src/api/control-plane';
import { startCoreApi } from '../../src/api/server';
import { masterRecordPath, procIdentity } from '../../src/agent/proxy-handle';
import { childPids } from '../../src/agent/proxy-process';
import { freePorts } from '../helpers/nginx-process';
import { cleanupsAfterEach, probe, recordedMaster, requestLoop, tinyNginxConf as conf } from '../helpers/agent-harness';
import { pollUntil } from '../helpers/poll';

const ROOT = resolve(__dirname, '../..');
const INIT = join(ROOT, 'deploy/docker/proxy-init.sh');
const log = pino({ level: 'silent' });
const cleanups = cleanupsAfterEach();

/** Running (not a zombie). */
function runs(pid: number): boolean {
  const id = procIdentity(pid);
  return id !== undefined && id.state !== 'Z' && id.state !== 'X';
}

/** The only running `proxy-agent` child of `pid` (not tsx's esbuild helper), or undefined. */
function onlyChild(pid: number): number | undefined {
  const kids = [...childPids(pid)].filter((p) => runs(p) && commandLine(p).includes('proxy-agent'));
  return kids.length === 1 ? kids[0] : undefined;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** `sh proxy-init.sh swarmgate proxy-agent ARGS`, with a `swarmgate` on the PATH that execs the CLI from source (as the image's does from dist/). */
function startInit(dir: string, args: readonly string[], env: NodeJS.ProcessEnv, shim = `exec ${JSON.stringify(process.execPath)} --import tsx ${JSON.stringify(join(ROOT, 'src/cli/main.ts'))} "$@"`): { proc: ChildProcess; output: string[]; exited: Promise<number | null> } {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'swarmgate'), `#!/bin/sh\n${shim}\n`);
  chmodSync(join(bin, 'swarmgate'), 0o755);
  const proc = spawn('sh', [INIT, 'swarmgate', 'proxy-agent', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  proc.stdout?.on('data', (c: Buffer) => output.push(c.toString()));
  proc.stderr?.on('data', (c: Buffer) => output.push(c.toString()));
  const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
  return { proc, output, exited };
}

describe('the proxy task\'s PID 1 (deploy/docker/proxy-init.sh)', () => {
  it('starts a SIGKILLed supervisor again; NGINX keeps serving (same master) and the new agent takes it over', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-proxy-init-'));
    const socket = `unix://${dir}/core.sock`;
    const [port = 0] = await freePorts(1);
    const plane = new ControlPlane();
    const api = await startCoreApi({ plane, listen: socket, credentials: grpc.ServerCredentials.createInsecure(), log });
    cleanups.push(() => api.close());
    const confDir = join(dir, 'live');
    mkdirSync(confDir);
    writeFileSync(join(confDir, 'nginx.conf'), conf(dir, port, 'boot'));
    const init = startInit(dir, ['--core', socket, '--cluster', 'edge', '--replica', 'task-1', '--conf-dir', confDir, '--insecure'], { SWARMGATE_BOOT_WAIT_MS: '0', LOG_LEVEL: 'warn' });
    const loopPid = init.proc.pid ?? 0;
    cleanups.push(() => {
      // Everything under the loop first (once the loop is gone its children are re-parented), then NGINX's group.
      const tree = (pid: number): number[] => [pid, ...[...childPids(pid)].flatMap(tree)];
      for (const p of tree(loopPid)) if (runs(p)) process.kill(p, 'SIGKILL');
      const m = recordedMaster(confDir);
      if (m !== undefined && runs(m)) process.kill(-m, 'SIGKILL');
    });
    const deliver = (body: string): string => plane.deliver('edge', 'nginx', [{ path: 'nginx.conf', content: Buffer.from(conf(dir, port, body)) }]).configHash;
    const v1 = deliver('v1');
    // Two Node start-ups through tsx (supervisor, agent): slow when the whole suite runs on 2 vCPUs.
    await pollUntil('v1 applied', () => plane.reportsOf('edge').find((r) => r.appliedHash === v1), 90_000);
    expect(await probe(port)).toBe('v1');
    const supervisor = await pollUntil('the supervisor', () => onlyChild(loopPid), 60_000);
    const agent = await pollUntil('the agent', () => onlyChild(supervisor), 60_000);
    const master = recordedMaster(confDir);
    expect(master).toBeDefined();

    // SIGKILL the supervisor (the loop's child) under a request loop.
    const load = requestLoop(port);
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = Date.now();
    process.kill(supervisor, 'SIGKILL');
    const newSupervisor = await pollUntil('a new supervisor', () => {
      const s = onlyChild(loopPid);
      return s !== undefined && s !== supervisor ? s : undefined;
    }, 60_000);
    const respawnMs = Date.now() - killedAt;
    // The old agent sees its supervisor's IPC channel close and exits: never two agents.
    await pollUntil('the orphaned agent gone', () => (runs(agent) ? undefined : true), 5_000);
    const orphanGoneMs = Date.now() - killedAt;
    const newAgent = await pollUntil('a new agent', () => onlyChild(newSupervisor), 60_000);
    const newAgentMs = Date.now() - killedAt;
    const v2 = deliver('v2');
    await pollUntil('v2 applied by the new agent', () => plane.reportsOf('edge').find((r) => r.appliedHash === v2), 90_000);
    const backMs = Date.now() - killedAt;
    await pollUntil('v2 served', async () => ((await probe(port)) === 'v2' ? true : undefined), 5_000);
    await new Promise((r) => setTimeout(r, 200));
    const r = await load.stop();
    console.log(`supervisor SIGKILL under PID 1's loop: ${r.failed} of ${r.requests} requests failed (longest gap ${r.gapMs} ms); new supervisor after ${respawnMs} ms; orphaned agent gone after ${orphanGoneMs} ms; new agent after ${newAgentMs} ms; the new agent applied the next config ${backMs} ms after the kill`);
    expect(r.failed).toBe(0);
    expect(r.requests).toBeGreaterThan(20);
    expect(newAgent).not.toBe(agent);
    expect(recordedMaster(confDir)).toBe(master);
    expect(runs(master ?? 0)).toBe(true);
    expect(init.proc.exitCode).toBeNull();
    expect(init.output.join('')).toContain('supervisor ended (status 137); starting it again');

    // A stop signal to PID 1 (Swarm's SIGQUIT) stops the supervisor, the agent and NGINX; the loop exits 0.
    init.proc.kill('SIGQUIT');
    const stopCode = await init.exited;
    if (stopCode !== 0) console.log(init.output.join(''));
    expect(stopCode).toBe(0);
    await pollUntil('NGINX gone', () => (runs(master ?? 0) ? undefined : true), 5_000);
    expect(existsSync(masterRecordPath(confDir))).toBe(false);
  }, 240_000);

  it('ends with the supervisor\'s give-up status, and after a stop; restarts it after any other death', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sg-proxy-init-'));
    const runsFile = join(dir, 'runs');
    expect(readFileSync(INIT, 'utf8')).toContain(`gave_up=${SUPERVISOR_GAVE_UP_EXIT}`);
    // Stand-ins for the supervisor: each run appends a line; what it does depends on the run.
    const withShim = async (body: string): Promise<{ code: number | null; runs: number; output: string }> => {
      writeFileSync(runsFile, '');
      const init = startInit(dir, [], {}, `echo run >>${JSON.stringify(runsFile)}\nn=$(wc -l <${JSON.stringify(runsFile)})\n${body}`);
      cleanups.push(() => {
        if (init.proc.exitCode === null) init.proc.kill('SIGKILL');
      });
      const code = await init.exited;
      return { code, runs: readFileSync(runsFile, 'utf8').split('\n').filter((l) => l !== '').length, output: init.output.join('') };
    };
    // Gave up: final, not restarted.
    expect(await withShim(`exit ${SUPERVISOR_GAVE_UP_EXIT}`)).toMatchObject({ code: SUPERVISOR_GAVE_UP_EXIT, runs: 1 });
    // Killed, then crashed (status 1), then exited 0: started again twice, then the loop ends with 0.
    const r = await withShim('case $n in 1) kill -9 $$ ;; 2) exit 1 ;; *) exit 0 ;; esac');
    expect(r).toMatchObject({ code: 0, runs: 3 });
    expect(r.output).toContain('supervisor ended (status 137); starting it again');
    expect(r.output).toContain('supervisor ended (status 1); starting it again');
  }, 30_000);

  it('the supervisor gives up with its own status on an agent that keeps failing', async () => {
    const supervisor = new AgentSupervisor({ command: 'sh', args: ['-c', 'exit 1'], env: process.env, log, backoff: { firstMs: 1, maxMs: 2, resetAfterMs: 10_000 }, maxQuickFailures: 3 });
    supervisor.start();
    expect(await supervisor.exited).toBe(SUPERVISOR_GAVE_UP_EXIT);
    expect(supervisor.restarts).toBe(3);
  });
});
