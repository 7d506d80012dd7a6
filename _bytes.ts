// Byte strings: the store keeps keys and values as JavaScript strings whose
// code units are bytes (0-255). V8 stores such strings in one byte per
// character, so they are both binary-safe and compact.

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

const fromCharCode = String.fromCharCode;
const codes: number[] = [];
// One reusable array per small length: `apply` on an array whose length
// never changes stays on V8's fast path.
const codeArrays: number[][] = [];
for (let n = 0; n <= 64; n++) codeArrays.push(new Array(n).fill(0));

/** Decodes `bytes[start, end)` as a byte string (one char per byte).
 * Always returns a flat string (no cons string), so a key or value kept in
 * the store costs its length plus a small header.
 *
 * @example
 * ```ts
 * import { bytesToBinary } from "@kv/store";
 * bytesToBinary(new Uint8Array([104, 105])); // "hi"
 * ```
 */
export function bytesToBinary(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): string {
  const n = end - start;
  const b = bytes;
  const i = start;
  switch (n) {
    case 0:
      return "";
    case 1:
      return fromCharCode(b[i]);
    case 2:
      return fromCharCode(b[i], b[i + 1]);
    case 3:
      return fromCharCode(b[i], b[i + 1], b[i + 2]);
    case 4:
      return fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3]);
    // Up to 32 bytes (most keys, numbers and short values): a call with
    // the bytes as arguments is about twice as fast as `apply` with an
    // array (18 ns against 37 ns for 16 bytes, measured).
    case 5:
      return fromCharCode(b[i], b[i + 1], b[i + 2], b[i + 3], b[i + 4]);
    case 6:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
      );
    case 7:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
      );
    case 8:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
      );
    case 9:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
      );
    case 10:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
      );
    case 11:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
      );
    case 12:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
      );
    case 13:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
      );
    case 14:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
      );
    case 15:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
      );
    case 16:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
      );
    case 17:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
      );
    case 18:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
      );
    case 19:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
      );
    case 20:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
      );
    case 21:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
      );
    case 22:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
      );
    case 23:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
      );
    case 24:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
      );
    case 25:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
      );
    case 26:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
      );
    case 27:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
        b[i + 26],
      );
    case 28:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
        b[i + 26],
        b[i + 27],
      );
    case 29:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
        b[i + 26],
        b[i + 27],
        b[i + 28],
      );
    case 30:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
        b[i + 26],
        b[i + 27],
        b[i + 28],
        b[i + 29],
      );
    case 31:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
        b[i + 26],
        b[i + 27],
        b[i + 28],
        b[i + 29],
        b[i + 30],
      );
    case 32:
      return fromCharCode(
        b[i],
        b[i + 1],
        b[i + 2],
        b[i + 3],
        b[i + 4],
        b[i + 5],
        b[i + 6],
        b[i + 7],
        b[i + 8],
        b[i + 9],
        b[i + 10],
        b[i + 11],
        b[i + 12],
        b[i + 13],
        b[i + 14],
        b[i + 15],
        b[i + 16],
        b[i + 17],
        b[i + 18],
        b[i + 19],
        b[i + 20],
        b[i + 21],
        b[i + 22],
        b[i + 23],
        b[i + 24],
        b[i + 25],
        b[i + 26],
        b[i + 27],
        b[i + 28],
        b[i + 29],
        b[i + 30],
        b[i + 31],
      );
  }
  if (n <= 64) {
    const a = codeArrays[n];
    for (let j = 0; j < n; j++) a[j] = b[i + j];
    return fromCharCode.apply(null, a);
  }
  if (n <= 1024) {
    codes.length = n;
    for (let j = 0; j < n; j++) codes[j] = b[i + j];
    return fromCharCode.apply(null, codes);
  }
  if (n <= 4096) {
    return fromCharCode.apply(
      null,
      bytes.subarray(start, end) as unknown as number[],
    );
  }
  // Large: ASCII text decodes natively; anything else goes in chunks.
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (bytes[i] > 127) {
      ascii = false;
      break;
    }
  }
  if (ascii) return utf8Decoder.decode(bytes.subarray(start, end));
  const parts: string[] = [];
  for (let i = start; i < end; i += 4096) {
    parts.push(
      String.fromCharCode.apply(
        null,
        bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[],
      ),
    );
  }
  return parts.join("");
}

/** Command names seen lately, as the strings first made for them. */
const recentNames: { bytes: Uint8Array; name: string }[] = [];

/** Decodes a command name (`bytes[start, start + len)`), giving back the
 * same string object for the same bytes as lately seen: the command
 * table's lookup then hits V8's cached string hash instead of hashing a new
 * string, and no string is made. Used by the request decoder and by
 * scripts' `redis.call`.
 *
 * @example
 * ```ts ignore
 * import { commandName } from "./_bytes.ts";
 * const b = new Uint8Array([71, 69, 84]);
 * commandName(b, 0, 3) === commandName(b, 0, 3); // true: the same string
 * ```
 */
export function commandName(
  bytes: Uint8Array,
  start: number,
  len: number,
): string {
  outer: for (let k = 0; k < recentNames.length; k++) {
    const e = recentNames[k];
    const b = e.bytes;
    if (b.length !== len) continue;
    for (let i = 0; i < len; i++) if (b[i] !== bytes[start + i]) continue outer;
    return e.name;
  }
  const name = bytesToBinary(bytes, start, start + len);
  if (len <= 32) {
    if (recentNames.length >= 16) recentNames.pop();
    recentNames.unshift({ bytes: bytes.slice(start, start + len), name });
  }
  return name;
}

/** Encodes a byte string back to bytes.
 *
 * @example
 * ```ts
 * import { binaryToBytes } from "@kv/store";
 * binaryToBytes("\xff\x00"); // Uint8Array [255, 0]
 * ```
 */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Encodes ordinary text as UTF-8 and returns it as a byte string.
 *
 * @example
 * ```ts
 * import { Store, textToBinary } from "@kv/store";
 * const store = new Store();
 * store.set(textToBinary("ключ"), textToBinary("значение"));
 * textToBinary("é"); // "\xc3\xa9": the two UTF-8 bytes
 * ```
 */
export function textToBinary(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return bytesToBinary(utf8Encoder.encode(text));
}

/** Decodes a byte string holding UTF-8 into ordinary text.
 *
 * @example
 * ```ts
 * import { binaryToText, Store, textToBinary } from "@kv/store";
 * const store = new Store();
 * store.set(textToBinary("ключ"), textToBinary("значение"));
 * binaryToText(store.get(textToBinary("ключ"))!); // "значение"
 * ```
 */
export function binaryToText(s: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return utf8Decoder.decode(binaryToBytes(s));
}
