/**
 * The proxy agent's loopback UDP syslog listener: NGINX sends one `sg_traffic` line per request
 * (see the NGINX template); HAProxy sends all its log lines here, counted ones first, and the
 * agent prints the access-log part on its stdout (so `docker service logs` still shows it). UDP keeps the proxy's request path free of the agent: a slow or
 * restarting agent loses lines, it never delays a request.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Logger } from 'pino';
import { parseDatagram, TrafficCounters } from './traffic-counters';

export class TrafficListener {
  readonly counters = new TrafficCounters();
  private socket: Socket | undefined;

  constructor(
    private readonly port: number,
    private readonly log: Logger,
    /** Where HAProxy's access log (which reaches the agent, not stdout) is printed. */
    private readonly printAccessLog: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  ) {}

  /** Resolves once bound; a failure to bind is logged and leaves the counters at 0 (never fatal). */
  start(): Promise<void> {
    const socket = createSocket('udp4');
    this.socket = socket;
    socket.on('message', (msg) => {
      const parsed = parseDatagram(msg.toString('latin1'));
      if (parsed.traffic !== undefined) this.counters.record(parsed.traffic);
      if (parsed.accessLog !== undefined) this.printAccessLog(parsed.accessLog);
    });
    return new Promise((resolve) => {
      socket.once('error', (err) => {
        this.log.warn({ err: err.message, port: this.port }, 'traffic listener unavailable; per-backend counters stay at 0');
        resolve();
      });
      socket.bind(this.port, '127.0.0.1', () => resolve());
    });
  }

  stop(): void {
    this.socket?.close();
    this.socket = undefined;
  }
}
