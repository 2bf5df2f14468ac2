// Original file: src/api/proto/swarmgate/v1/core.proto


export interface ConfigFile {
  'path'?: (string);
  'content'?: (Buffer | Uint8Array | string);
  'unchanged'?: (boolean);
}

export interface ConfigFile__Output {
  'path': (string);
  'content': (Buffer);
  'unchanged': (boolean);
}
