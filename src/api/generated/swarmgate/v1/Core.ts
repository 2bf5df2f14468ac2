// Original file: src/api/proto/swarmgate/v1/core.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { ProxyConfig as _swarmgate_v1_ProxyConfig, ProxyConfig__Output as _swarmgate_v1_ProxyConfig__Output } from '../../swarmgate/v1/ProxyConfig';
import type { ProxyState as _swarmgate_v1_ProxyState, ProxyState__Output as _swarmgate_v1_ProxyState__Output } from '../../swarmgate/v1/ProxyState';
import type { ReportProxyStateResponse as _swarmgate_v1_ReportProxyStateResponse, ReportProxyStateResponse__Output as _swarmgate_v1_ReportProxyStateResponse__Output } from '../../swarmgate/v1/ReportProxyStateResponse';
import type { StatusSnapshot as _swarmgate_v1_StatusSnapshot, StatusSnapshot__Output as _swarmgate_v1_StatusSnapshot__Output } from '../../swarmgate/v1/StatusSnapshot';
import type { SubmitConfigRequest as _swarmgate_v1_SubmitConfigRequest, SubmitConfigRequest__Output as _swarmgate_v1_SubmitConfigRequest__Output } from '../../swarmgate/v1/SubmitConfigRequest';
import type { SubmitConfigResponse as _swarmgate_v1_SubmitConfigResponse, SubmitConfigResponse__Output as _swarmgate_v1_SubmitConfigResponse__Output } from '../../swarmgate/v1/SubmitConfigResponse';
import type { UpstreamModel as _swarmgate_v1_UpstreamModel, UpstreamModel__Output as _swarmgate_v1_UpstreamModel__Output } from '../../swarmgate/v1/UpstreamModel';
import type { WatchProxyConfigRequest as _swarmgate_v1_WatchProxyConfigRequest, WatchProxyConfigRequest__Output as _swarmgate_v1_WatchProxyConfigRequest__Output } from '../../swarmgate/v1/WatchProxyConfigRequest';
import type { WatchStatusRequest as _swarmgate_v1_WatchStatusRequest, WatchStatusRequest__Output as _swarmgate_v1_WatchStatusRequest__Output } from '../../swarmgate/v1/WatchStatusRequest';
import type { WatchUpstreamsRequest as _swarmgate_v1_WatchUpstreamsRequest, WatchUpstreamsRequest__Output as _swarmgate_v1_WatchUpstreamsRequest__Output } from '../../swarmgate/v1/WatchUpstreamsRequest';

export interface CoreClient extends grpc.Client {
  ReportProxyState(argument: _swarmgate_v1_ProxyState, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  ReportProxyState(argument: _swarmgate_v1_ProxyState, metadata: grpc.Metadata, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  ReportProxyState(argument: _swarmgate_v1_ProxyState, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  ReportProxyState(argument: _swarmgate_v1_ProxyState, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  reportProxyState(argument: _swarmgate_v1_ProxyState, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  reportProxyState(argument: _swarmgate_v1_ProxyState, metadata: grpc.Metadata, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  reportProxyState(argument: _swarmgate_v1_ProxyState, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  reportProxyState(argument: _swarmgate_v1_ProxyState, callback: grpc.requestCallback<_swarmgate_v1_ReportProxyStateResponse__Output>): grpc.ClientUnaryCall;
  
  SubmitConfig(argument: _swarmgate_v1_SubmitConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  SubmitConfig(argument: _swarmgate_v1_SubmitConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  SubmitConfig(argument: _swarmgate_v1_SubmitConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  SubmitConfig(argument: _swarmgate_v1_SubmitConfigRequest, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  submitConfig(argument: _swarmgate_v1_SubmitConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  submitConfig(argument: _swarmgate_v1_SubmitConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  submitConfig(argument: _swarmgate_v1_SubmitConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  submitConfig(argument: _swarmgate_v1_SubmitConfigRequest, callback: grpc.requestCallback<_swarmgate_v1_SubmitConfigResponse__Output>): grpc.ClientUnaryCall;
  
  WatchProxyConfig(argument: _swarmgate_v1_WatchProxyConfigRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_ProxyConfig__Output>;
  WatchProxyConfig(argument: _swarmgate_v1_WatchProxyConfigRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_ProxyConfig__Output>;
  watchProxyConfig(argument: _swarmgate_v1_WatchProxyConfigRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_ProxyConfig__Output>;
  watchProxyConfig(argument: _swarmgate_v1_WatchProxyConfigRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_ProxyConfig__Output>;
  
  WatchStatus(argument: _swarmgate_v1_WatchStatusRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_StatusSnapshot__Output>;
  WatchStatus(argument: _swarmgate_v1_WatchStatusRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_StatusSnapshot__Output>;
  watchStatus(argument: _swarmgate_v1_WatchStatusRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_StatusSnapshot__Output>;
  watchStatus(argument: _swarmgate_v1_WatchStatusRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_StatusSnapshot__Output>;
  
  WatchUpstreams(argument: _swarmgate_v1_WatchUpstreamsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_UpstreamModel__Output>;
  WatchUpstreams(argument: _swarmgate_v1_WatchUpstreamsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_UpstreamModel__Output>;
  watchUpstreams(argument: _swarmgate_v1_WatchUpstreamsRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_UpstreamModel__Output>;
  watchUpstreams(argument: _swarmgate_v1_WatchUpstreamsRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_swarmgate_v1_UpstreamModel__Output>;
  
}

export interface CoreHandlers extends grpc.UntypedServiceImplementation {
  ReportProxyState: grpc.handleUnaryCall<_swarmgate_v1_ProxyState__Output, _swarmgate_v1_ReportProxyStateResponse>;
  
  SubmitConfig: grpc.handleUnaryCall<_swarmgate_v1_SubmitConfigRequest__Output, _swarmgate_v1_SubmitConfigResponse>;
  
  WatchProxyConfig: grpc.handleServerStreamingCall<_swarmgate_v1_WatchProxyConfigRequest__Output, _swarmgate_v1_ProxyConfig>;
  
  WatchStatus: grpc.handleServerStreamingCall<_swarmgate_v1_WatchStatusRequest__Output, _swarmgate_v1_StatusSnapshot>;
  
  WatchUpstreams: grpc.handleServerStreamingCall<_swarmgate_v1_WatchUpstreamsRequest__Output, _swarmgate_v1_UpstreamModel>;
  
}

export interface CoreDefinition extends grpc.ServiceDefinition {
  ReportProxyState: MethodDefinition<_swarmgate_v1_ProxyState, _swarmgate_v1_ReportProxyStateResponse, _swarmgate_v1_ProxyState__Output, _swarmgate_v1_ReportProxyStateResponse__Output>
  SubmitConfig: MethodDefinition<_swarmgate_v1_SubmitConfigRequest, _swarmgate_v1_SubmitConfigResponse, _swarmgate_v1_SubmitConfigRequest__Output, _swarmgate_v1_SubmitConfigResponse__Output>
  WatchProxyConfig: MethodDefinition<_swarmgate_v1_WatchProxyConfigRequest, _swarmgate_v1_ProxyConfig, _swarmgate_v1_WatchProxyConfigRequest__Output, _swarmgate_v1_ProxyConfig__Output>
  WatchStatus: MethodDefinition<_swarmgate_v1_WatchStatusRequest, _swarmgate_v1_StatusSnapshot, _swarmgate_v1_WatchStatusRequest__Output, _swarmgate_v1_StatusSnapshot__Output>
  WatchUpstreams: MethodDefinition<_swarmgate_v1_WatchUpstreamsRequest, _swarmgate_v1_UpstreamModel, _swarmgate_v1_WatchUpstreamsRequest__Output, _swarmgate_v1_UpstreamModel__Output>
}
