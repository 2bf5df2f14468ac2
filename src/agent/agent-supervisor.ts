/**
 * Keeps the proxy agent running (ADR 0018). In a proxy task, tini (PID 1) runs `swarmgate
 * proxy-agent`, which becomes this supervisor: it runs the real agent as its child and starts it
 * again when it dies (at once, then 100 ms doubling to 2 s for an agent that keeps dying, the
 * proxy's own backoff). The proxy (NGINX / HAProxy master) is started detached by the agent, so
 * the agent's death does not stop it: it keeps serving the live config, and the new agent takes it
 * over (proxy-handle.ts). Without the supervisor, the agent's death ended the task: 3.5–7 s of
 * refused connections until Swarm had started a new one.
 *
 * The supervisor does nothing else, so it has little reason to die itself: no gRPC, no Docker, no
 * config handling. Stop signals are passed to the agent, which stops the proxy gracefully; then the
 * supervisor exits with the agent's code. An agent that exits 0 is not restarted (it was asked to
 * stop), nor one that failed `maxQuickFailures` times in a row without a healthy run: then the
 * supervisor exits with SUPERVISOR_GAVE_UP_EXIT and Swarm's restart policy takes over.
 *
 * The supervisor is supervised in turn: in a proxy task, PID 1 is a shell loop
 * (deploy/docker/proxy-init.sh) that starts it again when it dies. The agent is given an IPC
 * channel to the supervisor and exits when it closes (agentFollowsSupervisor), leaving the proxy
 * running: the new supervisor's agent takes it over, and there are never two agents.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Logger } from 'pino';
import { DEFAULT_RESTART_BACKOFF, nextRestartDelay, type RestartBackoff } from './restart-backoff';

/** Set in the agent's environment by its supervisor: run the agent itself, not another supervisor. */
export const SUPERVISED_ENV = 'SWARMGATE_AGENT_SUPERVISED';

/**
 * The supervisor's status when it gave up on an agent that keeps failing: the task's PID 1
 * (deploy/docker/proxy-init.sh, which holds the same number) then ends the task instead of starting
 * the supervisor again. 75 = EX_TEMPFAIL: Swarm's restart policy may well succeed.
 */
export const SUPERVISOR_GAVE_UP_EXIT = 75;

export interface SupervisorOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly backoff?: RestartBackoff;
  /** Give up after this many failures in a row, each before a healthy run (backoff.resetAfterMs). Default 10. */
  readonly maxQuickFailures?: number;
}

export class AgentSupervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restartDelayMs: number | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private quickFailures = 0;
  private restartCount = 0;
  readonly exited: Promise<number>;
  private resolveExit: (code: number) => void = () => undefined;

  constructor(private readonly o: SupervisorOptions) {
    this.exited = new Promise((r) => (this.resolveExit = r));
  }

  /** How many times the agent was started again after it died. */
  get restarts(): number {
    return this.restartCount;
  }

  /** The running agent's PID. */
  get agentPid(): number | undefined {
    const c = this.child;
    return c !== undefined && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  start(): void {
    const startedAt = Date.now();
    // The IPC channel carries no messages: its end tells the agent that the supervisor is gone.
    const child = spawn(this.o.command, [...this.o.args], { env: { ...this.o.env, [SUPERVISED_ENV]: '1' }, stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
    this.child = child;
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: Error): void => {
      if (ended) return;
      ended = true;
      const status = code ?? (signal !== null ? 128 : 1);
      if (this.stopping || code === 0) return this.resolveExit(status);
      const ranMs = Date.now() - startedAt;
      const b = this.o.backoff ?? DEFAULT_RESTART_BACKOFF;
      this.quickFailures = ranMs >= b.resetAfterMs ? 1 : this.quickFailures + 1;
      if (this.quickFailures > (this.o.maxQuickFailures ?? 10)) {
        this.o.log.error({ code, signal, failures: this.quickFailures, exit: SUPERVISOR_GAVE_UP_EXIT }, 'the proxy agent keeps failing; giving up (the task ends)');
        return this.resolveExit(SUPERVISOR_GAVE_UP_EXIT);
      }
      this.restartDelayMs = nextRestartDelay(this.restartDelayMs, ranMs, b);
      this.o.log.error({ code, signal, err: error?.message, restartInMs: this.restartDelayMs }, 'the proxy agent died; starting it again (the proxy keeps serving)');
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        if (this.stopping) return this.resolveExit(0);
        this.restartCount++;
        this.start();
      }, this.restartDelayMs);
    };
    child.on('exit', onEnd);
    child.on('error', (err) => onEnd(null, null, err));
  }

  /** Pass a stop signal on to the agent (it stops the proxy); exit when it has. */
  stop(signal: NodeJS.Signals): void {
    this.stopping = true;
    if (this.restartTimer !== undefined) {
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      this.resolveExit(0);
      return;
    }
    const c = this.child;
    if (c !== undefined && c.exitCode === null && c.signalCode === null) c.kill(signal);
    else this.resolveExit(0);
  }
}

/**
 * In the supervised agent: exit when the supervisor's IPC channel closes (the supervisor died),
 * leaving the proxy running for the agent of the supervisor that replaces it (as if the agent had
 * been killed: everything it writes is written atomically). The channel does not keep the agent's
 * event loop alive. No-op without a channel (the agent runs alone).
 */
export function agentFollowsSupervisor(proc: NodeJS.Process, log: Logger, exit: (code: number) => void = (c) => proc.exit(c)): void {
  if (proc.channel === undefined) return;
  proc.channel.unref();
  proc.once('disconnect', () => {
    log.warn('the agent\'s supervisor is gone; exiting, the proxy keeps serving for the next agent');
    exit(0);
  });
}
