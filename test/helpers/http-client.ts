/** Minimal HTTP(S) requests against the proxy under test, with explicit Host/SNI. */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface RequestSpec {
  readonly port: number;
  readonly host: string;
  readonly path?: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly tls?: boolean;
  /** The client's source address (a loopback address other than 127.0.0.1 stands for another client). */
  readonly localAddress?: string;
  readonly body?: string;
}

export function send(spec: RequestSpec): Promise<Reply> {
  const options = {
    host: '127.0.0.1',
    port: spec.port,
    path: spec.path ?? '/',
    method: spec.method ?? 'GET',
    headers: { host: spec.host, ...spec.headers },
    agent: false as const,
    servername: spec.host,
    rejectUnauthorized: false,
    ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (spec.tls === true ? httpsRequest : httpRequest)(options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** The certificate a TLS server presents for this SNI name, or the handshake error. */
export function peerCertificate(port: number, servername: string): Promise<PeerCertificate | Error> {
  return new Promise((resolve) => {
    const sock = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cert = sock.getPeerCertificate();
      sock.destroy();
      resolve(cert);
    });
    sock.on('error', (e) => resolve(e));
  });
}
