/**
 * Loopback HTTP(S) servers that stand in for Swarm tasks: each answers with JSON naming its
 * service and task and echoing the request it received, so tests can see what the proxy sent.
 */
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface EchoReply {
  readonly service: string;
  readonly task: string;
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

export interface Backend {
  readonly ip: string;
  readonly port: number;
  close(): Promise<void>;
}

function handler(service: string, task: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    req.on('end', () => {
      const body: EchoReply = { service, task, method: req.method ?? '', url: req.url ?? '', headers: req.headers };
      res.setHeader('content-type', 'application/json');
      res.setHeader('x-remove-me', 'upstream');
      res.end(JSON.stringify(body));
    });
  };
}

async function listen(server: Server, ip: string, port: number): Promise<Backend> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, ip, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    ip,
    port: addr.port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export function startEcho(service: string, task: string, ip: string, port: number): Promise<Backend> {
  return listen(createHttp(handler(service, task)), ip, port);
}

export function startEchoTls(service: string, task: string, ip: string, port: number, cert: string, key: string): Promise<Backend> {
  return listen(createHttps({ cert, key }, handler(service, task)), ip, port);
}
