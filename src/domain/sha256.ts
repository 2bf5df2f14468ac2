/**
 * SHA-256 as lowercase hex, for content addressing (generated config names, spec hashes, route
 * lists). Pure JavaScript (@noble/hashes) so the plan computes the same names the executor writes
 * without importing node:crypto; the digests equal node:crypto's, so names stored by earlier
 * versions keep matching and an upgrade rolls no proxy.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

export function sha256Hex(text: string): string {
  return bytesToHex(sha256(utf8ToBytes(text)));
}
