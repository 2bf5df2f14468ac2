// Original file: src/api/proto/swarmgate/v1/core.proto

import type { ObjectStatus as _swarmgate_v1_ObjectStatus, ObjectStatus__Output as _swarmgate_v1_ObjectStatus__Output } from '../../swarmgate/v1/ObjectStatus';
import type { ReplicaState as _swarmgate_v1_ReplicaState, ReplicaState__Output as _swarmgate_v1_ReplicaState__Output } from '../../swarmgate/v1/ReplicaState';
import type { Long } from '@grpc/proto-loader';

export interface StatusSnapshot {
  'sequence'?: (number | string | Long);
  'objects'?: (_swarmgate_v1_ObjectStatus)[];
  'replicas'?: (_swarmgate_v1_ReplicaState)[];
}

export interface StatusSnapshot__Output {
  'sequence': (string);
  'objects': (_swarmgate_v1_ObjectStatus__Output)[];
  'replicas': (_swarmgate_v1_ReplicaState__Output)[];
}
