// Original file: src/api/proto/swarmgate/v1/core.proto

import type { Condition as _swarmgate_v1_Condition, Condition__Output as _swarmgate_v1_Condition__Output } from '../../swarmgate/v1/Condition';

export interface ObjectStatus {
  'kind'?: (string);
  'name'?: (string);
  'conditions'?: (_swarmgate_v1_Condition)[];
}

export interface ObjectStatus__Output {
  'kind': (string);
  'name': (string);
  'conditions': (_swarmgate_v1_Condition__Output)[];
}
