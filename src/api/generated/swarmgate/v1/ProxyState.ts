// Original file: src/api/proto/swarmgate/v1/core.proto

import type { Validation as _swarmgate_v1_Validation, Validation__Output as _swarmgate_v1_Validation__Output } from '../../swarmgate/v1/Validation';
import type { TrafficCounters as _swarmgate_v1_TrafficCounters, TrafficCounters__Output as _swarmgate_v1_TrafficCounters__Output } from '../../swarmgate/v1/TrafficCounters';
import type { UpstreamTraffic as _swarmgate_v1_UpstreamTraffic, UpstreamTraffic__Output as _swarmgate_v1_UpstreamTraffic__Output } from '../../swarmgate/v1/UpstreamTraffic';
import type { Long } from '@grpc/proto-loader';

export interface ProxyState {
  'cluster'?: (string);
  'replicaId'?: (string);
  'appliedHash'?: (string);
  'lastReceivedHash'?: (string);
  'lastValidation'?: (_swarmgate_v1_Validation | null);
  'counters'?: (_swarmgate_v1_TrafficCounters | null);
  'appliedAtMs'?: (number | string | Long);
  'upstreams'?: (_swarmgate_v1_UpstreamTraffic)[];
  'latencyBoundsMs'?: (number)[];
}

export interface ProxyState__Output {
  'cluster': (string);
  'replicaId': (string);
  'appliedHash': (string);
  'lastReceivedHash': (string);
  'lastValidation': (_swarmgate_v1_Validation__Output | null);
  'counters': (_swarmgate_v1_TrafficCounters__Output | null);
  'appliedAtMs': (string);
  'upstreams': (_swarmgate_v1_UpstreamTraffic__Output)[];
  'latencyBoundsMs': (number)[];
}
