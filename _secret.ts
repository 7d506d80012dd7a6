// Comparing secrets (passwords) in constant time.

import { timingSafeEqual } from "node:crypto";
import { binaryToBytes } from "./_bytes.ts";

/** True when `given` equals `expected`, both byte strings (one char per
 * byte, as AUTH's argument and the configured password are); the time
 * taken does not depend on where they differ, nor on the expected length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = binaryToBytes(given);
  const b = binaryToBytes(expected);
  // Compare equal-length buffers so the time does not tell the length.
  const len = Math.max(a.length, b.length, 1);
  const pa = new Uint8Array(len);
  const pb = new Uint8Array(len);
  pa.set(a);
  pb.set(b);
  return timingSafeEqual(pa, pb) && a.length === b.length;
}
