/**
 * Loads src/api/proto at run time (the build copies the .proto files next to the compiled code)
 * and types the result with the generated definitions.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { join } from 'node:path';
import type { ProtoGrpcType } from './generated/core';

/** The options the generated types were made with (Makefile PROTO_GEN): keep them in step. */
const LOADER_OPTIONS: protoLoader.Options = { longs: String, enums: String, defaults: true, oneofs: true };

let cached: ProtoGrpcType | undefined;

export function coreProto(): ProtoGrpcType {
  if (cached === undefined) {
    const definition = protoLoader.loadSync('swarmgate/v1/core.proto', { ...LOADER_OPTIONS, includeDirs: [join(__dirname, 'proto')] });
    cached = grpc.loadPackageDefinition(definition) as unknown as ProtoGrpcType;
  }
  return cached;
}

/** Every call has a deadline; streams have none (they live as long as the subscriber). */
export const UNARY_DEADLINE_MS = 5_000;

export function deadline(ms = UNARY_DEADLINE_MS): Date {
  return new Date(Date.now() + ms);
}
