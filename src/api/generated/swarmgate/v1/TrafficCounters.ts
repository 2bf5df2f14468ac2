// Original file: src/api/proto/swarmgate/v1/core.proto

import type { Long } from '@grpc/proto-loader';

export interface TrafficCounters {
  'requests'?: (number | string | Long);
  'responses_5xx'?: (number | string | Long);
  'activeConnections'?: (number | string | Long);
}

export interface TrafficCounters__Output {
  'requests': (string);
  'responses_5xx': (string);
  'activeConnections': (string);
}
