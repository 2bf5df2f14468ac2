// Original file: src/api/proto/swarmgate/v1/core.proto

import type { Long } from '@grpc/proto-loader';

export interface UpstreamTraffic {
  'upstream'?: (string);
  'requests'?: (number | string | Long);
  'responses_5xx'?: (number | string | Long);
  'latencyBuckets'?: (number | string | Long)[];
}

export interface UpstreamTraffic__Output {
  'upstream': (string);
  'requests': (string);
  'responses_5xx': (string);
  'latencyBuckets': (string)[];
}
