// Original file: src/api/proto/swarmgate/v1/core.proto


export interface WatchStatusRequest {
  'kind'?: (string);
  'name'?: (string);
}

export interface WatchStatusRequest__Output {
  'kind': (string);
  'name': (string);
}
