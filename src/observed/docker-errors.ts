/**
 * The one error type the DockerPort throws, so callers can classify failures without knowing
 * dockerode. `statusCode` is the HTTP status the daemon answered with, or 0 when no answer came
 * (socket missing, connection refused or reset, stream cut). `message` is the daemon's own text,
 * without dockerode's "(HTTP code …) … -" prefix.
 *
 * What dockerd 20.10 (API 1.41) answers, observed on a real single-node Swarm:
 * | case                                             | status | message                                                                          |
 * |--------------------------------------------------|--------|----------------------------------------------------------------------------------|
 * | update with a stale `version` (service, config)  | 500    | rpc error: code = Unknown desc = update out of sequence                           |
 * | create a config whose name exists                | 409    | rpc error: code = AlreadyExists desc = config NAME already exists                 |
 * | create a service whose name exists               | 409    | rpc error: code = AlreadyExists desc = name conflicts with an existing object: service NAME already exists |
 * | inspect/update/remove an unknown config/service  | 404    | config ID not found / service ID not found                                        |
 * | config update changing Data or Name (or no Name) | 400    | rpc error: code = InvalidArgument desc = only updates to Labels are allowed       |
 * | remove a config a service still mounts           | 400    | rpc error: code = InvalidArgument desc = config 'NAME' is in use by the following service: SVC |
 * | service create naming an unknown network         | 500    | network NAME not found                                                            |
 * | network create whose name a concurrent create took | 500   | rpc error: code = Unknown desc = name conflicts with an existing object           |
 * | service create naming an unknown config          | 400    | rpc error: code = InvalidArgument desc = config not found: NAME                   |
 * | service rename through update                    | 501    | rpc error: code = Unimplemented desc = renaming services is not supported         |
 * | create a config with empty (or ≥ 1000 KiB) data  | 400    | rpc error: code = InvalidArgument desc = config data must be larger than 0 and less than 1024000 bytes |
 * | update without ?version=                         | 400    | invalid config version / invalid service version '': …                            |
 * Newer engines map the swarmkit sequence error to 409 instead of 500; `isOutOfSequence` accepts both.
 */

export class DockerApiError extends Error {
  override readonly name = 'DockerApiError';

  constructor(
    /** HTTP status from the daemon; 0 when no HTTP answer was received. */
    readonly statusCode: number,
    message: string,
    /** The DockerPort method that failed (e.g. "updateService"), when known. */
    readonly operation?: string,
    /** A transport error code such as ECONNREFUSED or ENOENT, when statusCode is 0. */
    readonly code?: string,
  ) {
    super(message);
  }
}

export const OUT_OF_SEQUENCE_TEXT = 'update out of sequence';

export function isDockerApiError(e: unknown): e is DockerApiError {
  return e instanceof DockerApiError;
}

export function isNotFound(e: unknown): boolean {
  return isDockerApiError(e) && e.statusCode === 404;
}

/** A lost optimistic-concurrency race: re-read the object (or the whole snapshot) and try again. */
export function isOutOfSequence(e: unknown): boolean {
  return isDockerApiError(e) && (e.statusCode === 500 || e.statusCode === 409) && e.message.toLowerCase().includes(OUT_OF_SEQUENCE_TEXT);
}

/** An object of that name already exists (409 that is not a sequence error). */
export function isNameConflict(e: unknown): boolean {
  if (!isDockerApiError(e)) return false;
  // Creating an overlay network whose name a concurrent create just took answers 500 with swarmkit's
  // "code = Unknown desc = name conflicts with an existing object", not 409 (seen on Docker 20.10).
  return (e.statusCode === 409 && !isOutOfSequence(e)) || /name conflicts with an existing object/.test(e.message);
}

/** The object is referenced by a service and cannot be removed yet. */
export function isInUse(e: unknown): boolean {
  return isDockerApiError(e) && e.statusCode === 400 && / is in use by /.test(e.message);
}

/**
 * Worth retrying with backoff: no answer at all, the daemon is unavailable (503: not a manager,
 * no quorum), or a 500 that is not a sequence error and not a missing-reference error.
 */
export function isTransient(e: unknown): boolean {
  if (!isDockerApiError(e)) return false;
  if (e.statusCode === 0 || e.statusCode === 503 || e.statusCode === 502 || e.statusCode === 504) return true;
  return e.statusCode === 500 && !isOutOfSequence(e) && !/ not found$/.test(e.message);
}

/** The daemon's text for a stale version, as the fake and the adapter both produce it. */
export function outOfSequenceError(operation?: string): DockerApiError {
  return new DockerApiError(500, `rpc error: code = Unknown desc = ${OUT_OF_SEQUENCE_TEXT}`, operation);
}

/**
 * What to do after a failed write, by the daemon's answer (the run's error table):
 * | class      | answers                                                        | what happens                                      |
 * |------------|----------------------------------------------------------------|---------------------------------------------------|
 * | conflict   | update out of sequence (500/409), name conflict (409)           | re-read at once: another writer changed the state |
 * | transient  | no answer (0), 502/503/504, other 500s                          | retry with backoff                                |
 * | terminal   | other 4xx, 500 "… not found" (a missing reference), 501         | no retry until an input of the write changes      |
 * A 404 while removing is no failure (already gone), and "in use" while pruning is not either
 * (the next run decides again): the executor handles both before classifying. Errors that are not
 * the daemon's (a bug, an unexpected exception) are transient: retrying is the safe default.
 */
export type DockerErrorClass = 'conflict' | 'transient' | 'terminal';

export function classifyDockerError(e: unknown): DockerErrorClass {
  if (!isDockerApiError(e)) return 'transient';
  if (isOutOfSequence(e) || isNameConflict(e)) return 'conflict';
  if (isTransient(e)) return 'transient';
  if (e.statusCode >= 400 && e.statusCode < 600) return 'terminal';
  return 'transient';
}
