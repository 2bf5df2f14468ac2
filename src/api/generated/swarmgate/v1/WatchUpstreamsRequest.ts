// Original file: src/api/proto/swarmgate/v1/core.proto


export interface WatchUpstreamsRequest {
  'cluster'?: (string);
}

export interface WatchUpstreamsRequest__Output {
  'cluster': (string);
}
