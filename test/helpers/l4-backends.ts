/**
 * Layer-4 test backends and clients: TCP (optionally TLS) servers that answer one line with who
 * they are and the PROXY protocol header they saw, and UDP servers that answer DNS-style queries
 * (same ID, QR bit set, the question copied, one A record naming the backend).
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';

export interface L4Reply {
  readonly backend: string;
  /** The PROXY protocol v1 line the backend received first, if any. */
  readonly proxy: string | null;
  readonly got: string;
}

export interface L4Backend {
  readonly name: string;
  close(): Promise<void>;
}

function handle(name: string, sock: Socket): void {
  let buf = '';
  let proxy: string | null = null;
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl).replace(/\r$/, '');
      buf = buf.slice(nl + 1);
      if (proxy === null && line.startsWith('PROXY ')) {
        proxy = line;
        continue;
      }
      sock.end(`${JSON.stringify({ backend: name, proxy, got: line } satisfies L4Reply)}\n`);
      return;
    }
  });
  sock.on('error', () => undefined);
}

export async function startTcpBackend(name: string, ip: string, port: number, tls?: { cert: string; key: string }): Promise<L4Backend> {
  const server: Server = tls === undefined ? createServer((s) => handle(name, s)) : createTlsServer({ cert: tls.cert, key: tls.key }, (s) => handle(name, s));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve());
  });
  return { name, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * Send one line through `port` (plain TCP, or TLS with `servername`) and read the answer until the
 * server closes. Resolves the reply, or undefined when the connection closed without one.
 */
export function tcpExchange(port: number, opts: { tls?: { servername: string }; line?: string; host?: string } = {}): Promise<L4Reply | undefined> {
  return new Promise((resolve, reject) => {
    let data = '';
    const host = opts.host ?? '127.0.0.1';
    const sock: Socket = opts.tls === undefined ? connect(port, host) : tlsConnect({ port, host, servername: opts.tls.servername, rejectUnauthorized: false });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no answer on port ${port} within 5 s`));
    }, 5000);
    sock.once(opts.tls === undefined ? 'connect' : 'secureConnect', () => sock.write(`${opts.line ?? 'ping'}\n`));
    sock.on('data', (d: Buffer) => (data += d.toString()));
    const done = (): void => {
      clearTimeout(timer);
      const line = data.split('\n')[0] ?? '';
      resolve(line === '' ? undefined : (JSON.parse(line) as L4Reply));
    };
    sock.on('close', done);
    sock.on('error', () => undefined);
  });
}

/** Open a connection, send nothing, and measure how long until the far side closes it (ms). */
export function idleCloseAfter(port: number, limitMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const started = Date.now();
    const sock = connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(undefined);
    }, limitMs);
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
    sock.on('error', () => undefined);
  });
}

// ---------------------------------------------------------------------------------------------
// DNS-style UDP.

/** A DNS query for `name` type A with this ID. */
export function dnsQuery(id: number, name: string): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, 'ascii')]));
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(0x0100, 2); // RD
  header.writeUInt16BE(1, 4); // QDCOUNT
  return Buffer.concat([header, ...labels, Buffer.from([0]), Buffer.from([0, 1, 0, 1])]);
}

export interface DnsAnswer {
  readonly id: number;
  readonly isResponse: boolean;
  readonly answer: string;
}

export function parseDnsAnswer(msg: Buffer): DnsAnswer {
  const id = msg.readUInt16BE(0);
  const isResponse = (msg.readUInt16BE(2) & 0x8000) !== 0;
  const a = msg.subarray(msg.length - 4);
  return { id, isResponse, answer: [...a].join('.') };
}

/** Answers every query with its ID, the question and one A record: `answer` (the backend's identity). */
export async function startDnsBackend(ip: string, port: number, answer: string): Promise<L4Backend> {
  const sock: UdpSocket = createSocket('udp4');
  sock.on('message', (msg, from) => {
    const header = Buffer.from(msg.subarray(0, 12));
    header.writeUInt16BE(0x8180, 2); // QR, RD, RA
    header.writeUInt16BE(1, 6); // ANCOUNT
    const question = msg.subarray(12);
    const rr = Buffer.alloc(16);
    rr.writeUInt16BE(0xc00c, 0); // name: pointer to the question
    rr.writeUInt16BE(1, 2); // A
    rr.writeUInt16BE(1, 4); // IN
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(4, 10);
    answer.split('.').forEach((o, i) => rr.writeUInt8(Number(o), 12 + i));
    sock.send(Buffer.concat([header, question, rr]), from.port, from.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(port, ip, () => resolve());
  });
  return { name: answer, close: () => new Promise<void>((r) => sock.close(() => r())) };
}

/** One query from a fresh socket (a new client port: a new UDP session at the proxy). */
export function dnsExchange(port: number, id: number, name: string): Promise<DnsAnswer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      resolve(undefined);
    }, 3000);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(parseDnsAnswer(msg));
    });
    sock.send(dnsQuery(id, name), port, '127.0.0.1');
  });
}
