// Original file: src/api/proto/swarmgate/v1/core.proto

import type { ConfigFile as _swarmgate_v1_ConfigFile, ConfigFile__Output as _swarmgate_v1_ConfigFile__Output } from '../../swarmgate/v1/ConfigFile';
import type { Long } from '@grpc/proto-loader';

export interface ProxyConfig {
  'cluster'?: (string);
  'configHash'?: (string);
  'sequence'?: (number | string | Long);
  'files'?: (_swarmgate_v1_ConfigFile)[];
  'proxyKind'?: (string);
  'immediate'?: (boolean);
}

export interface ProxyConfig__Output {
  'cluster': (string);
  'configHash': (string);
  'sequence': (string);
  'files': (_swarmgate_v1_ConfigFile__Output)[];
  'proxyKind': (string);
  'immediate': (boolean);
}
