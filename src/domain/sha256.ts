/**
 * SHA-256 as lowercase hex, for content addressing (generated config names, spec hashes, route
 * lists). Pure JavaScript (@noble/hashes) so the plan computes the same names the executor writes
 * without importing node:crypto; the digests equal node:crypto's, so names stored by earlier
 * versions keep matching and an upgrade rolls no proxy.
 *
 * Large texts are remembered (ADR 0042): every core run names each cluster's config by its SHA-256,
 * and a task change keeps the config's text, so the same megabytes were hashed again on every run
 * (≈ 80 ms at 10,000 routes in pure JavaScript). A hit costs a string comparison: none for the same
 * string object, one native comparison of equal text otherwise.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';

/** Texts shorter than this are hashed every time (cheaper than keeping them). */
const REMEMBER_FROM = 64 * 1024;
/** How many large texts are remembered: a main file and an endpoint set per cluster of a few clusters. */
const REMEMBERED = 6;
const remembered = new Map<string, string>();

export function sha256Hex(text: string): string {
  if (text.length < REMEMBER_FROM) return bytesToHex(sha256(utf8ToBytes(text)));
  const hit = remembered.get(text);
  if (hit !== undefined) {
    // Most recently used last, so the oldest is the one dropped.
    remembered.delete(text);
    remembered.set(text, hit);
    return hit;
  }
  const hex = bytesToHex(sha256(utf8ToBytes(text)));
  remembered.set(text, hex);
  if (remembered.size > REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  return hex;
}
