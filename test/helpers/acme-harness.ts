/**
 * What the ACME component tests share: the Issuer for the test's pebble, and a logger whose lines
 * the test keeps (they scan them for key material and read the actor's progress from them).
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import type { IssuerObject } from '../../src/domain/object';
import { object } from './specs';

/** Issuer `pebble` for HTTP-01 against `directory`, trusting the CA bundle in secret pebble-ca. */
export function pebbleIssuer(directory: string): IssuerObject {
  return object({
    apiVersion: 'swarmgate.io/v1',
    kind: 'Issuer',
    metadata: { name: 'pebble' },
    spec: { acme: { server: directory, email: 'ops@example.com', caBundle: { secret: 'pebble-ca' } }, solvers: [{ http01: {} }] },
  }) as IssuerObject;
}

/** A pino logger at `level` that appends each line it writes to `lines`. */
export function capturingLog(lines: string[], level: pino.Level): Logger {
  return pino(
    { level },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString().split('\n').filter((l) => l !== ''));
        done();
      },
    }),
  );
}
