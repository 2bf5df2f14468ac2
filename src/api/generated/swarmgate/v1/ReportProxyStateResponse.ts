// Original file: src/api/proto/swarmgate/v1/core.proto


export interface ReportProxyStateResponse {
}

export interface ReportProxyStateResponse__Output {
}
