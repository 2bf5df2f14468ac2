/**
 * The one result of checking a proxy configuration with the proxy's own parser (`nginx -t`,
 * `haproxy -c`), wherever the check runs: the core and the extension (in a private root, see
 * sandbox.ts), the proxy agent (on its real files), the tests. The gRPC `Validation` message
 * carries `ok` and `output`.
 */
export interface Validation {
  readonly ok: boolean;
  /**
   * The proxy's own message (alerts, errors, warnings), normalised so the same config always gives
   * the same text (no timestamps, process IDs or temporary paths). Never holds key material: the
   * certificates in a check are throw-away ones, and messages name paths, not contents.
   */
  readonly output: string;
  /** Why nothing was checked (no proxy binary, no private root possible here); `ok` is then true. */
  readonly skipped?: string;
}

export const PASSED: Validation = { ok: true, output: '' };
