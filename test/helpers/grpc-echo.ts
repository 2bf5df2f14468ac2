/**
 * Real gRPC (@grpc/grpc-js) for the gRPC traffic tests: the sgtest.Echo service of
 * examples/grpc/echo.proto as a loopback backend (plaintext h2c or TLS), and a client.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';

export const ECHO_PROTO = join(__dirname, '..', '..', 'examples', 'grpc', 'echo.proto');

export interface EchoReplyMessage {
  readonly text: string;
  readonly backend: string;
  readonly authority: string;
  readonly forwarded_for: string;
}

interface EchoRequestMessage {
  readonly text: string;
  readonly count: number;
  readonly pause_ms: number;
}

type EchoClient = grpc.Client & {
  Say(req: EchoRequestMessage, md: grpc.Metadata, opts: grpc.CallOptions, cb: (err: grpc.ServiceError | null, reply?: EchoReplyMessage) => void): grpc.ClientUnaryCall;
  Count(req: EchoRequestMessage, md: grpc.Metadata, opts: grpc.CallOptions): grpc.ClientReadableStream<EchoReplyMessage>;
};

function echoService(): { service: grpc.ServiceDefinition; client: grpc.ServiceClientConstructor } {
  const def = protoLoader.loadSync(ECHO_PROTO, { keepCase: true, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { sgtest: { Echo: grpc.ServiceClientConstructor } };
  return { service: pkg.sgtest.Echo.service, client: pkg.sgtest.Echo };
}

export interface GrpcBackend {
  readonly ip: string;
  readonly port: number;
  close(): Promise<void>;
}

/** An Echo server on ip:port answering as `backend`; with `tls` it speaks TLS (grpcs). */
export async function startGrpcEcho(backend: string, ip: string, port: number, tls?: { readonly cert: string; readonly key: string }): Promise<GrpcBackend> {
  const server = new grpc.Server();
  const meta = (call: grpc.ServerUnaryCall<EchoRequestMessage, EchoReplyMessage> | grpc.ServerWritableStream<EchoRequestMessage, EchoReplyMessage>): Pick<EchoReplyMessage, 'authority' | 'forwarded_for'> => ({
    authority: String(call.metadata.get(':authority')[0] ?? call.getPath()),
    forwarded_for: String(call.metadata.get('x-forwarded-for')[0] ?? ''),
  });
  server.addService(echoService().service, {
    Say: (call: grpc.ServerUnaryCall<EchoRequestMessage, EchoReplyMessage>, cb: grpc.sendUnaryData<EchoReplyMessage>) => cb(null, { text: call.request.text, backend, ...meta(call) }),
    Count: async (call: grpc.ServerWritableStream<EchoRequestMessage, EchoReplyMessage>) => {
      for (let i = 1; i <= call.request.count; i++) {
        if (call.request.pause_ms > 0) await new Promise((r) => setTimeout(r, call.request.pause_ms));
        call.write({ text: `${call.request.text} ${i}`, backend, ...meta(call) });
      }
      call.end();
    },
  });
  const creds = tls === undefined ? grpc.ServerCredentials.createInsecure() : grpc.ServerCredentials.createSsl(null, [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], false);
  const bound = await new Promise<number>((resolve, reject) => server.bindAsync(`${ip}:${port}`, creds, (err, p) => (err !== null ? reject(err) : resolve(p))));
  return {
    ip,
    port: bound,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

export interface EchoCaller {
  say(text: string): Promise<EchoReplyMessage>;
  /** A server-streaming call of n messages, the server waiting pauseMs before each. */
  count(text: string, n: number, pauseMs?: number): Promise<EchoReplyMessage[]>;
  close(): void;
}

/**
 * A client of the proxy at 127.0.0.1:port for virtual host `authority`. With `ca` it connects with
 * TLS (ALPN h2, SNI = authority) trusting that certificate; without, h2c (prior knowledge).
 */
export function echoClient(port: number, authority: string, ca?: string): EchoCaller {
  const creds = ca === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(ca));
  const Client = echoService().client;
  const client = new Client(`127.0.0.1:${port}`, creds, { 'grpc.default_authority': authority, 'grpc.ssl_target_name_override': authority }) as unknown as EchoClient;
  const deadline = (): grpc.CallOptions => ({ deadline: Date.now() + 10_000 });
  return {
    say: (text) => new Promise((resolve, reject) => client.Say({ text, count: 0, pause_ms: 0 }, new grpc.Metadata(), deadline(), (err, reply) => (err !== null || reply === undefined ? reject(err ?? new Error('no reply')) : resolve(reply)))),
    count: (text, n, pauseMs = 0) =>
      new Promise((resolve, reject) => {
        const out: EchoReplyMessage[] = [];
        const stream = client.Count({ text, count: n, pause_ms: pauseMs }, new grpc.Metadata(), deadline());
        stream.on('data', (m: EchoReplyMessage) => out.push(m));
        stream.on('error', reject);
        stream.on('end', () => resolve(out));
      }),
    close: () => client.close(),
  };
}
