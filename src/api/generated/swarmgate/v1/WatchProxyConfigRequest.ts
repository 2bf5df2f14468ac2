// Original file: src/api/proto/swarmgate/v1/core.proto


export interface WatchProxyConfigRequest {
  'cluster'?: (string);
  'replicaId'?: (string);
  'resolvesUnchangedFiles'?: (boolean);
}

export interface WatchProxyConfigRequest__Output {
  'cluster': (string);
  'replicaId': (string);
  'resolvesUnchangedFiles': (boolean);
}
