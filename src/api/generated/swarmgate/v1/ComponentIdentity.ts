// Original file: src/api/proto/swarmgate/v1/core.proto


export interface ComponentIdentity {
  'cert'?: (Buffer | Uint8Array | string);
  'key'?: (Buffer | Uint8Array | string);
  'ca'?: (Buffer | Uint8Array | string);
}

export interface ComponentIdentity__Output {
  'cert': (Buffer);
  'key': (Buffer);
  'ca': (Buffer);
}
