// Original file: src/api/proto/swarmgate/v1/core.proto

import type { ConfigFile as _swarmgate_v1_ConfigFile, ConfigFile__Output as _swarmgate_v1_ConfigFile__Output } from '../../swarmgate/v1/ConfigFile';
import type { Validation as _swarmgate_v1_Validation, Validation__Output as _swarmgate_v1_Validation__Output } from '../../swarmgate/v1/Validation';

export interface SubmitConfigRequest {
  'cluster'?: (string);
  'modelHash'?: (string);
  'files'?: (_swarmgate_v1_ConfigFile)[];
  'validation'?: (_swarmgate_v1_Validation | null);
  'proxyKind'?: (string);
}

export interface SubmitConfigRequest__Output {
  'cluster': (string);
  'modelHash': (string);
  'files': (_swarmgate_v1_ConfigFile__Output)[];
  'validation': (_swarmgate_v1_Validation__Output | null);
  'proxyKind': (string);
}
