// Pieces of Redis's RDB encoding: CRC-64 (Jones, as Redis's crc64.c), LZF
// decompression, lengths and strings. Used by FUNCTION DUMP / RESTORE
// payloads (commands/functions.ts). Our own implementations, from the
// documented formats.

import { bytesToBinary } from "./_bytes.ts";

const CRC_TABLE: bigint[] = (() => {
  // Reflected form of the Jones polynomial 0xad93d23594c935a9.
  const poly = 0x95ac9329ac4bc9b5n;
  const table: bigint[] = [];
  for (let n = 0n; n < 256n; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    table.push(c);
  }
  return table;
})();

/** Redis's crc64 (Jones polynomial, reflected, no final xor) of `bytes`.
 *
 * @example
 * ```ts ignore
 * crc64(new TextEncoder().encode("123456789")); // 0xe9c6d914c4b8d9can
 * ```
 */
export function crc64(bytes: Uint8Array, crc = 0n): bigint {
  for (let i = 0; i < bytes.length; i++) {
    crc = CRC_TABLE[Number((crc ^ BigInt(bytes[i])) & 0xffn)] ^ (crc >> 8n);
  }
  return crc;
}

/** Decompresses LZF data (as Redis's lzf_d.c defines the format) into
 * `outLen` bytes; null when the data is malformed. */
export function lzfDecompress(
  input: Uint8Array,
  outLen: number,
): Uint8Array | null {
  const out = new Uint8Array(outLen);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    let ctrl = input[ip++];
    if (ctrl < 32) {
      ctrl++; // a literal run of ctrl bytes
      if (op + ctrl > outLen || ip + ctrl > input.length) return null;
      out.set(input.subarray(ip, ip + ctrl), op);
      ip += ctrl;
      op += ctrl;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) {
        if (ip >= input.length) return null;
        len += input[ip++];
      }
      if (ip >= input.length) return null;
      ref -= input[ip++];
      len += 2;
      if (op + len > outLen || ref < 0) return null;
      for (let i = 0; i < len; i++) out[op++] = out[ref++];
    }
  }
  return op === outLen ? out : null;
}

/** Appends an RDB length. */
export function rdbLength(out: number[], n: number): void {
  if (n < 64) out.push(n);
  else if (n < 16384) out.push(0x40 | (n >> 8), n & 0xff);
  else if (n <= 0xffffffff) {
    out.push(
      0x80,
      (n >>> 24) & 0xff,
      (n >>> 16) & 0xff,
      (n >>> 8) & 0xff,
      n & 0xff,
    );
  } else {
    out.push(0x81);
    const big = BigInt(n);
    for (let s = 56n; s >= 0n; s -= 8n) out.push(Number((big >> s) & 0xffn));
  }
}

/** Appends an RDB string (uncompressed) holding a byte string. */
export function rdbString(out: number[], s: string): void {
  rdbLength(out, s.length);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i) & 0xff);
}

/** Reads RDB values from a buffer; every read returns null past the end or
 * on a malformed value. */
export class RdbReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  byte(): number | null {
    return this.pos < this.buf.length ? this.buf[this.pos++] : null;
  }

  /** A length; `encoded` is set when it is a special encoding (type in
   * the low 6 bits). */
  length(): { n: number; encoded: boolean } | null {
    const b = this.byte();
    if (b === null) return null;
    const kind = b >> 6;
    if (kind === 0) return { n: b & 0x3f, encoded: false };
    if (kind === 1) {
      const b2 = this.byte();
      return b2 === null ? null : { n: ((b & 0x3f) << 8) | b2, encoded: false };
    }
    if (kind === 3) return { n: b & 0x3f, encoded: true };
    if (b === 0x80) {
      if (this.pos + 4 > this.buf.length) return null;
      const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos);
      this.pos += 4;
      return { n: v.getUint32(0), encoded: false };
    }
    if (b === 0x81) {
      if (this.pos + 8 > this.buf.length) return null;
      const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos);
      this.pos += 8;
      return { n: Number(v.getBigUint64(0)), encoded: false };
    }
    return null;
  }

  /** A string (plain, integer-encoded or LZF-compressed) as a byte string. */
  string(): string | null {
    const len = this.length();
    if (len === null) return null;
    let bytes: Uint8Array | null;
    if (!len.encoded) {
      if (this.pos + len.n > this.buf.length) return null;
      bytes = this.buf.subarray(this.pos, this.pos + len.n);
      this.pos += len.n;
    } else if (len.n <= 2) {
      const size = 1 << len.n;
      if (this.pos + size > this.buf.length) return null;
      const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos);
      this.pos += size;
      const n = size === 1
        ? v.getInt8(0)
        : size === 2
        ? v.getInt16(0, true)
        : v.getInt32(0, true);
      return String(n);
    } else if (len.n === 3) {
      const clen = this.length();
      const ulen = this.length();
      if (clen === null || ulen === null) return null;
      if (this.pos + clen.n > this.buf.length) return null;
      bytes = lzfDecompress(
        this.buf.subarray(this.pos, this.pos + clen.n),
        ulen.n,
      );
      this.pos += clen.n;
      if (bytes === null) return null;
    } else return null;
    return bytesToBinary(bytes);
  }
}

/** The RDB version our payloads carry (Redis 7.0's). */
export const RDB_VERSION = 10;

/** Seals a DUMP-style payload: appends the RDB version and the CRC-64. */
export function sealPayload(body: number[]): Uint8Array {
  body.push(RDB_VERSION & 0xff, (RDB_VERSION >> 8) & 0xff);
  const bytes = new Uint8Array(body.length + 8);
  bytes.set(body);
  let crc = crc64(bytes.subarray(0, body.length));
  for (let i = 0; i < 8; i++) {
    bytes[body.length + i] = Number(crc & 0xffn);
    crc >>= 8n;
  }
  return bytes;
}

/** Checks a DUMP-style payload's version and CRC; returns its body, or
 * null. */
export function openPayload(payload: Uint8Array): Uint8Array | null {
  if (payload.length < 10) return null;
  const end = payload.length - 10;
  const version = payload[end] | (payload[end + 1] << 8);
  if (version > RDB_VERSION) return null;
  let crc = 0n;
  for (let i = 7; i >= 0; i--) {
    crc = (crc << 8n) | BigInt(payload[payload.length - 8 + i]);
  }
  if (crc64(payload.subarray(0, payload.length - 8)) !== crc) return null;
  return payload.subarray(0, end);
}
