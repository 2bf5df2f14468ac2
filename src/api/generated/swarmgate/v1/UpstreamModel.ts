// Original file: src/api/proto/swarmgate/v1/core.proto

import type { Long } from '@grpc/proto-loader';

export interface UpstreamModel {
  'cluster'?: (string);
  'modelHash'?: (string);
  'sequence'?: (number | string | Long);
  'modelJson'?: (string);
  'modelVersion'?: (number);
}

export interface UpstreamModel__Output {
  'cluster': (string);
  'modelHash': (string);
  'sequence': (string);
  'modelJson': (string);
  'modelVersion': (number);
}
