/**
 * A lost race between two writers of the same stored object (two applies, an apply and a delete, a
 * label write and an apply). It carries the sentence the CLI prints as is: which object, what the other
 * writer did, and that nothing of this write was stored. Never a raw Docker message.
 */
import type { Kind } from '../domain/meta';

export class ConflictError extends Error {
  override readonly name = 'ConflictError';

  constructor(
    readonly kind: Kind,
    readonly objectName: string,
    /** What happened, after "<kind>/<name>: conflict: ". */
    readonly detail: string,
  ) {
    super(`${kind.toLowerCase()}/${objectName}: conflict: ${detail}`);
  }
}

export function isConflict(e: unknown): e is ConflictError {
  return e instanceof ConflictError;
}
