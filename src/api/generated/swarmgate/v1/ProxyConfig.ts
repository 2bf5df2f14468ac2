// Original file: src/api/proto/swarmgate/v1/core.proto

import type { ConfigFile as _swarmgate_v1_ConfigFile, ConfigFile__Output as _swarmgate_v1_ConfigFile__Output } from '../../swarmgate/v1/ConfigFile';
import type { AcmeChallenge as _swarmgate_v1_AcmeChallenge, AcmeChallenge__Output as _swarmgate_v1_AcmeChallenge__Output } from '../../swarmgate/v1/AcmeChallenge';
import type { ComponentIdentity as _swarmgate_v1_ComponentIdentity, ComponentIdentity__Output as _swarmgate_v1_ComponentIdentity__Output } from '../../swarmgate/v1/ComponentIdentity';
import type { Long } from '@grpc/proto-loader';

export interface ProxyConfig {
  'cluster'?: (string);
  'configHash'?: (string);
  'sequence'?: (number | string | Long);
  'files'?: (_swarmgate_v1_ConfigFile)[];
  'proxyKind'?: (string);
  'immediate'?: (boolean);
  'certificates'?: (_swarmgate_v1_ConfigFile)[];
  'challenges'?: (_swarmgate_v1_AcmeChallenge)[];
  'identity'?: (_swarmgate_v1_ComponentIdentity | null);
}

export interface ProxyConfig__Output {
  'cluster': (string);
  'configHash': (string);
  'sequence': (string);
  'files': (_swarmgate_v1_ConfigFile__Output)[];
  'proxyKind': (string);
  'immediate': (boolean);
  'certificates': (_swarmgate_v1_ConfigFile__Output)[];
  'challenges': (_swarmgate_v1_AcmeChallenge__Output)[];
  'identity': (_swarmgate_v1_ComponentIdentity__Output | null);
}
