import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { Condition as _swarmgate_v1_Condition, Condition__Output as _swarmgate_v1_Condition__Output } from './swarmgate/v1/Condition';
import type { ConfigFile as _swarmgate_v1_ConfigFile, ConfigFile__Output as _swarmgate_v1_ConfigFile__Output } from './swarmgate/v1/ConfigFile';
import type { CoreClient as _swarmgate_v1_CoreClient, CoreDefinition as _swarmgate_v1_CoreDefinition } from './swarmgate/v1/Core';
import type { ObjectStatus as _swarmgate_v1_ObjectStatus, ObjectStatus__Output as _swarmgate_v1_ObjectStatus__Output } from './swarmgate/v1/ObjectStatus';
import type { ProxyConfig as _swarmgate_v1_ProxyConfig, ProxyConfig__Output as _swarmgate_v1_ProxyConfig__Output } from './swarmgate/v1/ProxyConfig';
import type { ProxyState as _swarmgate_v1_ProxyState, ProxyState__Output as _swarmgate_v1_ProxyState__Output } from './swarmgate/v1/ProxyState';
import type { ReplicaState as _swarmgate_v1_ReplicaState, ReplicaState__Output as _swarmgate_v1_ReplicaState__Output } from './swarmgate/v1/ReplicaState';
import type { ReportProxyStateResponse as _swarmgate_v1_ReportProxyStateResponse, ReportProxyStateResponse__Output as _swarmgate_v1_ReportProxyStateResponse__Output } from './swarmgate/v1/ReportProxyStateResponse';
import type { StatusSnapshot as _swarmgate_v1_StatusSnapshot, StatusSnapshot__Output as _swarmgate_v1_StatusSnapshot__Output } from './swarmgate/v1/StatusSnapshot';
import type { SubmitConfigRequest as _swarmgate_v1_SubmitConfigRequest, SubmitConfigRequest__Output as _swarmgate_v1_SubmitConfigRequest__Output } from './swarmgate/v1/SubmitConfigRequest';
import type { SubmitConfigResponse as _swarmgate_v1_SubmitConfigResponse, SubmitConfigResponse__Output as _swarmgate_v1_SubmitConfigResponse__Output } from './swarmgate/v1/SubmitConfigResponse';
import type { TrafficCounters as _swarmgate_v1_TrafficCounters, TrafficCounters__Output as _swarmgate_v1_TrafficCounters__Output } from './swarmgate/v1/TrafficCounters';
import type { UpstreamModel as _swarmgate_v1_UpstreamModel, UpstreamModel__Output as _swarmgate_v1_UpstreamModel__Output } from './swarmgate/v1/UpstreamModel';
import type { Validation as _swarmgate_v1_Validation, Validation__Output as _swarmgate_v1_Validation__Output } from './swarmgate/v1/Validation';
import type { WatchProxyConfigRequest as _swarmgate_v1_WatchProxyConfigRequest, WatchProxyConfigRequest__Output as _swarmgate_v1_WatchProxyConfigRequest__Output } from './swarmgate/v1/WatchProxyConfigRequest';
import type { WatchStatusRequest as _swarmgate_v1_WatchStatusRequest, WatchStatusRequest__Output as _swarmgate_v1_WatchStatusRequest__Output } from './swarmgate/v1/WatchStatusRequest';
import type { WatchUpstreamsRequest as _swarmgate_v1_WatchUpstreamsRequest, WatchUpstreamsRequest__Output as _swarmgate_v1_WatchUpstreamsRequest__Output } from './swarmgate/v1/WatchUpstreamsRequest';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  swarmgate: {
    v1: {
      Condition: MessageTypeDefinition<_swarmgate_v1_Condition, _swarmgate_v1_Condition__Output>
      ConfigFile: MessageTypeDefinition<_swarmgate_v1_ConfigFile, _swarmgate_v1_ConfigFile__Output>
      Core: SubtypeConstructor<typeof grpc.Client, _swarmgate_v1_CoreClient> & { service: _swarmgate_v1_CoreDefinition }
      ObjectStatus: MessageTypeDefinition<_swarmgate_v1_ObjectStatus, _swarmgate_v1_ObjectStatus__Output>
      ProxyConfig: MessageTypeDefinition<_swarmgate_v1_ProxyConfig, _swarmgate_v1_ProxyConfig__Output>
      ProxyState: MessageTypeDefinition<_swarmgate_v1_ProxyState, _swarmgate_v1_ProxyState__Output>
      ReplicaState: MessageTypeDefinition<_swarmgate_v1_ReplicaState, _swarmgate_v1_ReplicaState__Output>
      ReportProxyStateResponse: MessageTypeDefinition<_swarmgate_v1_ReportProxyStateResponse, _swarmgate_v1_ReportProxyStateResponse__Output>
      StatusSnapshot: MessageTypeDefinition<_swarmgate_v1_StatusSnapshot, _swarmgate_v1_StatusSnapshot__Output>
      SubmitConfigRequest: MessageTypeDefinition<_swarmgate_v1_SubmitConfigRequest, _swarmgate_v1_SubmitConfigRequest__Output>
      SubmitConfigResponse: MessageTypeDefinition<_swarmgate_v1_SubmitConfigResponse, _swarmgate_v1_SubmitConfigResponse__Output>
      TrafficCounters: MessageTypeDefinition<_swarmgate_v1_TrafficCounters, _swarmgate_v1_TrafficCounters__Output>
      UpstreamModel: MessageTypeDefinition<_swarmgate_v1_UpstreamModel, _swarmgate_v1_UpstreamModel__Output>
      Validation: MessageTypeDefinition<_swarmgate_v1_Validation, _swarmgate_v1_Validation__Output>
      WatchProxyConfigRequest: MessageTypeDefinition<_swarmgate_v1_WatchProxyConfigRequest, _swarmgate_v1_WatchProxyConfigRequest__Output>
      WatchStatusRequest: MessageTypeDefinition<_swarmgate_v1_WatchStatusRequest, _swarmgate_v1_WatchStatusRequest__Output>
      WatchUpstreamsRequest: MessageTypeDefinition<_swarmgate_v1_WatchUpstreamsRequest, _swarmgate_v1_WatchUpstreamsRequest__Output>
    }
  }
}

