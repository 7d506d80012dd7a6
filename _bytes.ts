// Byte strings: the store keeps keys and values as JavaScript strings whose
// code units are bytes (0-255). V8 stores such strings in one byte per
// character, so they are both binary-safe and compact.

const utf8Decoder = new TextDecoder();
const utf8Encoder = new TextEncoder();

/** Decodes `bytes[start, end)` as a byte string (one char per byte). */
export function bytesToBinary(
  bytes: Uint8Array,
  start = 0,
  end: number = bytes.length,
): string {
  const n = end - start;
  if (n <= 12) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(bytes[i]);
    return s;
  }
  if (n <= 4096) {
    return String.fromCharCode.apply(
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

/** Encodes a byte string back to bytes. */
export function binaryToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Encodes ordinary text as UTF-8 and returns it as a byte string. */
export function textToBinary(text: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return text;
  return bytesToBinary(utf8Encoder.encode(text));
}

/** Decodes a byte string holding UTF-8 into ordinary text. */
export function binaryToText(s: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(s)) return s;
  return utf8Decoder.decode(binaryToBytes(s));
}
