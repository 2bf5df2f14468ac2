// Original file: src/api/proto/swarmgate/v1/core.proto


export interface SubmitConfigResponse {
  'accepted'?: (boolean);
  'configHash'?: (string);
}

export interface SubmitConfigResponse__Output {
  'accepted': (boolean);
  'configHash': (string);
}
