// Original file: src/api/proto/swarmgate/v1/core.proto


export interface Validation {
  'ok'?: (boolean);
  'output'?: (string);
}

export interface Validation__Output {
  'ok': (boolean);
  'output': (string);
}
