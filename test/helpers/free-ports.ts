/**
 * Loopback ports for test servers that are started later by another process (NGINX, HAProxy,
 * pebble, a published Swarm port).
 *
 * Why not bind to port 0 and close: the kernel hands out such ports from the ephemeral range, the
 * same range every outgoing connection of every parallel test takes its local port from, so between
 * the close and the server's own bind the port can be taken (NGINX then exits with "Address already
 * in use"; seen in CI). Ports here come from below the ephemeral range, which the kernel never picks
 * by itself, and each vitest worker has its own slice of it, so two workers of one run never pick
 * the same port. Each port is still checked free (TCP on all IPv4 addresses, and UDP) before it is
 * handed out, which covers another run on the same machine.
 */
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';

/** Lowest port handed out: above the well-known and most registered service ports. */
const LOW = 12_000;
const SLICES = 16;

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    return low !== undefined && Number.isInteger(low) ? low : 32_768;
  } catch {
    return 32_768;
  }
}

interface Slice {
  readonly first: number;
  readonly size: number;
  next: number;
}

function workerSlice(): Slice | undefined {
  const high = ephemeralLow();
  const size = Math.floor((high - LOW) / SLICES);
  // A machine with an unusually wide ephemeral range leaves no room below it: fall back to port 0.
  if (size < 100) return undefined;
  const worker = Number(process.env.VITEST_POOL_ID ?? process.env.VITEST_WORKER_ID ?? 1);
  const first = LOW + ((Number.isInteger(worker) ? worker : process.pid) % SLICES) * size;
  // A random start, so a worker that runs many files (or a second run) does not retry the same ports first.
  return { first, size, next: Math.floor(Math.random() * size) };
}

/** This worker's slice; undefined when the machine leaves no room below its ephemeral range. */
const slice = workerSlice();

async function tcpFree(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.listen(port, '0.0.0.0', () => resolve(true));
  });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

async function udpFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '0.0.0.0', () => resolve(true));
  });
  await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

async function kernelPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** `n` distinct ports, each free for TCP and UDP right now and not handed out before by this process. */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  if (slice === undefined) {
    while (ports.length < n) {
      const p = await kernelPort();
      if (!ports.includes(p)) ports.push(p);
    }
    return ports;
  }
  for (let tried = 0; ports.length < n; tried++) {
    if (tried >= slice.size) throw new Error(`no free port left in ${slice.first}–${slice.first + slice.size - 1}`);
    const port = slice.first + slice.next;
    slice.next = (slice.next + 1) % slice.size;
    if ((await tcpFree(port)) && (await udpFree(port))) ports.push(port);
  }
  return ports;
}
