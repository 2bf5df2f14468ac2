// Original file: src/api/proto/swarmgate/v1/core.proto


export interface ReplicaState {
  'cluster'?: (string);
  'replicaId'?: (string);
  'appliedHash'?: (string);
}

export interface ReplicaState__Output {
  'cluster': (string);
  'replicaId': (string);
  'appliedHash': (string);
}
