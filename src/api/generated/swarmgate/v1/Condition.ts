// Original file: src/api/proto/swarmgate/v1/core.proto


export interface Condition {
  'type'?: (string);
  'status'?: (string);
  'reason'?: (string);
  'message'?: (string);
}

export interface Condition__Output {
  'type': (string);
  'status': (string);
  'reason': (string);
  'message': (string);
}
