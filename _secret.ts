// Comparing secrets (passwords) in constant time.

import { binaryToBytes } from "./_bytes.ts";

/** True when `given` equals `expected`, both byte strings (one char per
 * byte, as AUTH's argument and the configured password are); the time
 * taken does not depend on where they differ, nor on the expected length.
 *
 * DESIGN: our own loop, not node:crypto's timingSafeEqual: importing
 * node:crypto costs every server about 9 ms and 4 MB of RSS at start-up.
 * Every byte of both padded buffers is visited and the differences are
 * OR-ed together, with no early exit. */
export function sameSecret(given: string, expected: string): boolean {
  const a = binaryToBytes(given);
  const b = binaryToBytes(expected);
  // Compare equal-length buffers so the time does not tell the length.
  const len = Math.max(a.length, b.length, 1);
  const pa = new Uint8Array(len);
  const pb = new Uint8Array(len);
  pa.set(a);
  pb.set(b);
  let diff = a.length ^ b.length;
  for (let i = 0; i < len; i++) diff |= pa[i] ^ pb[i];
  return diff === 0;
}
