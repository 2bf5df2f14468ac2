/**
 * How the agent hears NGINX refuse a config at reload (ADR 0037). On SIGHUP the master parses the
 * new config; when it cannot load it, it logs why at level `emerg` ("unknown directive ... in
 * nginx.conf:12", "cannot load certificate ...") and keeps its old workers on the old config.
 * Nothing else tells: no exit status, no signal back. The rendered config logs to stderr, which
 * the agent does not read (it goes to the task's log), so the agent starts NGINX with one more log
 * of its own, `-g "error_log <file> emerg;"`: NGINX applies `-g` directives to every config it
 * loads, so the file stays open across reloads (a refused config is reported in the old config's
 * logs, this one among them), whatever the delivered config says. Level `emerg` only: the file
 * gets a line when a config cannot be loaded (or a port cannot be bound), never per request, so
 * it stays small; the agent empties it before each reload (the master appends, O_APPEND, so it
 * writes at the new end). A master the agent adopted (ADR 0018) was started with the same argument
 * by the agent before it, which is checked on its command line.
 */
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { nginxProblems } from '../validate/proxy-check';

/** Only paths NGINX's `-g` parser reads as one plain token (no quoting needed, nothing to escape). */
/** How long the log stays quiet after an `emerg` line before the reload counts as refused (see refusalWatch). */
export const REFUSAL_QUIET_MS = 750;

const PLAIN_PATH = /^\/[A-Za-z0-9._/-]+$/;

/** Beside the config directory, like the master record (`<confDir>.master.json`): never a delivered file. */
export function masterLogPath(confDir: string): string | undefined {
  const path = `${confDir.replace(/\/+$/, '')}.emerg.log`;
  return PLAIN_PATH.test(path) ? path : undefined;
}

/** The `-g` directive that opens the log (after `daemon off;`). */
export function masterLogDirective(path: string): string {
  return `error_log ${path} emerg;`;
}

export class NginxMasterLog {
  constructor(readonly path: string) {}

  /** Create it (empty) before NGINX starts, so the agent owns the file and can empty it. */
  create(): void {
    closeSync(openSync(this.path, 'a'));
  }

  /** Whether the master `pid` writes to this log: it was started with our `-g` argument. */
  observes(pid: number): boolean {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(masterLogDirective(this.path)));
    } catch {
      return false;
    }
  }

  /** Forget what was logged so far: what the next reload logs is all there is to read. */
  empty(): void {
    writeFileSync(this.path, '');
  }

  /** Size in bytes (0 when missing): a cheap test for "something new was logged". */
  size(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  /**
   * A poll for a reload in flight: the refusal's message once the master `pid` logged one and the
   * log has then been quiet for `quietMs`; undefined before. Quiet first, because one `emerg` line
   * is not always the end: a port NGINX cannot bind is retried every 500 ms (a line each), and a
   * reload that binds on a retry succeeds. New workers (checked by the caller first) win anyway.
   */
  refusalWatch(pid: number, quietMs = REFUSAL_QUIET_MS): () => string | undefined {
    let seen = 0;
    let changedAt = Date.now();
    return () => {
      const size = this.size();
      if (size !== seen) {
        seen = size;
        changedAt = Date.now();
        return undefined;
      }
      if (size === 0 || Date.now() - changedAt < quietMs) return undefined;
      const lines = this.masterLines(pid);
      return lines === '' ? undefined : lines;
    };
  }

  /**
   * What the master `pid` logged since empty(), in the form `nginx -t` gives ("nginx: [emerg] ..."):
   * the refusal's message; '' when it logged nothing. Lines of other processes (a worker of the old
   * generation) are left out.
   */
  masterLines(pid: number): string {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return '';
    }
    const mine = text.split('\n').filter((l) => new RegExp(`^\\d{4}/\\d\\d/\\d\\d \\d\\d:\\d\\d:\\d\\d \\[\\w+\\] ${pid}#`).test(l));
    return nginxProblems(mine.join('\n'));
  }
}
