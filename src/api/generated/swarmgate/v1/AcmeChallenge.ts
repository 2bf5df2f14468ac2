// Original file: src/api/proto/swarmgate/v1/core.proto


export interface AcmeChallenge {
  'token'?: (string);
  'keyAuthorization'?: (string);
}

export interface AcmeChallenge__Output {
  'token': (string);
  'keyAuthorization': (string);
}
