// Pieces of Redis's RDB encoding: CRC-64 (Jones, as Redis's crc64.c), LZF
// decompression, lengths, strings, doubles and millisecond times. Used by
// FUNCTION DUMP / RESTORE payloads (commands/functions.ts) and by DUMP /
// RESTORE (commands/dump.ts, values in data/_rdb_values.ts). Our own
// implementations, from the documented formats.

import { bytesToBinary } from "./_bytes.ts";
import { parseInt64 } from "./_number.ts";

// The table of the reflected Jones polynomial 0xad93d23594c935a9, in 32-bit
// halves (bigint arithmetic per byte would be slow on large payloads).
const CRC_LO = new Uint32Array(256);
const CRC_HI = new Uint32Array(256);
{
  const poly = 0x95ac9329ac4bc9b5n;
  for (let n = 0n; n < 256n; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    CRC_LO[Number(n)] = Number(c & 0xffffffffn);
    CRC_HI[Number(n)] = Number(c >> 32n);
  }
}

/** Redis's crc64 (Jones polynomial, reflected, no final xor) of `bytes`.
 *
 * @example
 * ```ts ignore
 * crc64(new TextEncoder().encode("123456789")); // 0xe9c6d914c4b8d9can
 * ```
 */
export function crc64(bytes: Uint8Array, crc = 0n): bigint {
  let lo = Number(crc & 0xffffffffn);
  let hi = Number((crc >> 32n) & 0xffffffffn);
  for (let i = 0; i < bytes.length; i++) {
    const idx = (lo ^ bytes[i]) & 0xff;
    lo = (CRC_LO[idx] ^ ((lo >>> 8) | (hi << 24))) >>> 0;
    hi = (CRC_HI[idx] ^ (hi >>> 8)) >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

/** Decompresses LZF data (as Redis's lzf_d.c defines the format) into
 * `outLen` bytes; null when the data is malformed. */
export function lzfDecompress(
  input: Uint8Array,
  outLen: number,
): Uint8Array | null {
  // One input byte pair can expand to at most 264 output bytes: a larger
  // claimed size is malformed (and must not be allocated).
  if (outLen > input.length * 132 + 32) return null;
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

/** LZF's hash table of 3-byte sequences, reused: an entry holds a
 * position plus the call's base, so entries of earlier calls read as
 * negative positions and the table needs no clearing per call. */
const LZF_TABLE = new Int32Array(1 << 14);
let lzfBase = 0;

/** Compresses `input` in LZF's format (as lzf_d.c reads it: literal runs
 * of up to 32 bytes, back references of 3 to 264 bytes at most 8192 bytes
 * back), greedily. Null when the result would take more than `maxOut`
 * bytes (Redis stores a string compressed only when that saves at least 4
 * bytes). Our own compressor: its output need not match liblzf's. */
export function lzfCompress(
  input: Uint8Array,
  maxOut: number,
): Uint8Array | null {
  const n = input.length;
  if (n < 4 || maxOut < 1) return null;
  const out = new Uint8Array(maxOut + 1);
  const table = LZF_TABLE;
  if (lzfBase + n + 1 > 0x3fffffff) {
    table.fill(0);
    lzfBase = 0;
  }
  const base = lzfBase + 1;
  lzfBase += n + 1;
  let ip = 0;
  let op = 1; // out[0]: the control byte of the first literal run
  let lit = 0;
  while (ip < n) {
    if (ip + 2 < n) {
      const h = ((input[ip] << 16 | input[ip + 1] << 8 | input[ip + 2]) *
        2654435761) >>> 18;
      const ref = table[h] - base;
      table[h] = ip + base;
      const off = ip - ref - 1;
      if (
        ref >= 0 && off < 8192 && input[ref] === input[ip] &&
        input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]
      ) {
        let len = 3;
        const max = Math.min(264, n - ip);
        while (len < max && input[ref + len] === input[ip + len]) len++;
        // Closes the literal run (or takes back its unused control byte).
        if (lit > 0) out[op - lit - 1] = lit - 1;
        else op--;
        if (op + 4 > maxOut) return null;
        const l = len - 2;
        if (l < 7) out[op++] = (l << 5) | (off >> 8);
        else {
          out[op++] = (7 << 5) | (off >> 8);
          out[op++] = l - 7;
        }
        out[op++] = off & 0xff;
        lit = 0;
        op++; // the next literal run's control byte
        ip += len;
        continue;
      }
    }
    if (op >= maxOut) return null;
    out[op++] = input[ip++];
    if (++lit === 32) {
      out[op - lit - 1] = 31;
      lit = 0;
      op++;
    }
  }
  if (lit > 0) out[op - lit - 1] = lit - 1;
  else op--;
  return op <= maxOut ? out.subarray(0, op) : null;
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

/** Builds RDB bytes: lengths, strings (integer-encoded when Redis would),
 * raw bytes, little-endian numbers. */
export class RdbWriter {
  #buf = new Uint8Array(256);
  /** Bytes gathered (written so far, less what was handed on). */
  length = 0;
  readonly #sink: ((bytes: Uint8Array) => void) | undefined;
  readonly #spillAt: number;
  /** LZF-compresses strings and blobs of more than 20 bytes when that
   * saves at least 4 (Redis's rdbSaveRawString with rdbcompression). */
  compress = false;

  /** Without `sink`, gathers everything (`finish()`). With one, `spill()`
   * hands what is gathered to it once past `spillAt` bytes, so a long
   * stream of values (an RDB file) needs a bounded buffer. */
  constructor(sink?: (bytes: Uint8Array) => void, spillAt = 1 << 20) {
    this.#sink = sink;
    this.#spillAt = spillAt;
  }

  /** A point where what is gathered may go out: handed to the sink when
   * there is one and enough is gathered (values call this between their
   * elements). */
  spill(): void {
    if (this.#sink !== undefined && this.length >= this.#spillAt) {
      this.#sink(this.drain());
    }
  }

  /** What is gathered, no longer counted (a view, valid until the next
   * write). */
  drain(): Uint8Array {
    const out = this.#buf.subarray(0, this.length);
    this.length = 0;
    return out;
  }

  #room(n: number): Uint8Array {
    const need = this.length + n;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, this.length));
      this.#buf = next;
    }
    return this.#buf;
  }

  /** One byte. */
  byte(b: number): void {
    this.#room(1)[this.length++] = b & 0xff;
  }

  /** Raw bytes. */
  bytes(b: Uint8Array): void {
    this.#room(b.length).set(b, this.length);
    this.length += b.length;
  }

  /** The chars of a byte string, raw. */
  binary(s: string): void {
    const buf = this.#room(s.length);
    let at = this.length;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  /** An RDB length. */
  len(n: number | bigint): void {
    if (typeof n === "bigint") {
      if (n <= 0xffffffffn) return this.len(Number(n));
      this.byte(0x81);
      for (let s = 56n; s >= 0n; s -= 8n) this.byte(Number((n >> s) & 0xffn));
      return;
    }
    if (n < 64) this.byte(n);
    else if (n < 16384) {
      this.byte(0x40 | (n >> 8));
      this.byte(n & 0xff);
    } else if (n <= 0xffffffff) {
      this.byte(0x80);
      this.u32be(n);
    } else this.len(BigInt(n));
  }

  /** A 32-bit unsigned integer, big-endian. */
  u32be(n: number): void {
    this.byte(n >>> 24);
    this.byte(n >>> 16);
    this.byte(n >>> 8);
    this.byte(n);
  }

  /** A 16-bit unsigned integer, little-endian. */
  u16le(n: number): void {
    this.byte(n);
    this.byte(n >>> 8);
  }

  /** A 32-bit unsigned integer, little-endian. */
  u32le(n: number): void {
    this.byte(n);
    this.byte(n >>> 8);
    this.byte(n >>> 16);
    this.byte(n >>> 24);
  }

  /** A 64-bit integer (two's complement), little-endian. */
  u64le(n: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 8; i++) {
      this.byte(Number(v & 0xffn));
      v >>= 8n;
    }
  }

  /** A 64-bit unsigned integer, big-endian (stream ids). */
  u64be(n: number | bigint): void {
    const v = BigInt.asUintN(64, BigInt(n));
    for (let s = 56n; s >= 0n; s -= 8n) this.byte(Number((v >> s) & 0xffn));
  }

  /** A double, IEEE 754 binary64 little-endian (RDB_TYPE_ZSET_2). */
  double(d: number): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, d, true);
    this.bytes(b);
  }

  /** A string as Redis's rdbSaveRawString writes it: an integer of at most
   * 32 bits in the integer encodings, anything else verbatim, or
   * LZF-compressed when `compress` is set (Redis reads both). */
  string(s: string): void {
    if (this.compress && s.length > 20) {
      const b = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
      if (this.#compressed(b)) return;
    }
    if (s.length <= 11 && s.length > 0) {
      const v = parseInt64(s);
      if (typeof v === "number" && v >= -2147483648 && v <= 2147483647) {
        if (v >= -128 && v <= 127) {
          this.byte(0xc0);
          this.byte(v);
        } else if (v >= -32768 && v <= 32767) {
          this.byte(0xc1);
          this.u16le(v);
        } else {
          this.byte(0xc2);
          this.u32le(v);
        }
        return;
      }
    }
    this.len(s.length);
    this.binary(s);
  }

  /** A byte blob (listpack, intset) as a verbatim RDB string. */
  blob(b: Uint8Array): void {
    if (this.compress && b.length > 20 && this.#compressed(b)) return;
    this.len(b.length);
    this.bytes(b);
  }

  /** Writes `b` LZF-compressed when that saves at least 4 bytes. */
  #compressed(b: Uint8Array): boolean {
    const c = lzfCompress(b, b.length - 4);
    if (c === null) return false;
    this.byte(0xc3);
    this.len(c.length);
    this.len(b.length);
    this.bytes(c);
    return true;
  }

  /** The bytes written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.length);
  }
}

/** Reads RDB values from a buffer; every read returns null past the end or
 * on a malformed value. */
export class RdbReader {
  pos = 0;
  /** Set when a read needed bytes past the end of `buf` (the data may be
   * cut short rather than malformed: an incremental reader waits for
   * more). */
  short = false;
  constructor(readonly buf: Uint8Array) {}

  #past(): null {
    this.short = true;
    return null;
  }

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  byte(): number | null {
    return this.pos < this.buf.length ? this.buf[this.pos++] : this.#past();
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
      if (this.pos + 4 > this.buf.length) return this.#past();
      const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos);
      this.pos += 4;
      return { n: v.getUint32(0), encoded: false };
    }
    if (b === 0x81) {
      if (this.pos + 8 > this.buf.length) return this.#past();
      const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos);
      this.pos += 8;
      return { n: Number(v.getBigUint64(0)), encoded: false };
    }
    return null;
  }

  /** `n` raw bytes (a view), or null past the end. */
  bytes(n: number): Uint8Array | null {
    if (n < 0) return null;
    if (this.pos + n > this.buf.length) return this.#past();
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A 64-bit little-endian integer (RDB millisecond times), signed. */
  i64le(): bigint | null {
    const b = this.bytes(8);
    if (b === null) return null;
    return new DataView(b.buffer, b.byteOffset, 8).getBigInt64(0, true);
  }

  /** A 64-bit big-endian unsigned integer (stream ids). */
  u64be(): bigint | null {
    const b = this.bytes(8);
    if (b === null) return null;
    return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, false);
  }

  /** A binary double (RDB_TYPE_ZSET_2). */
  binaryDouble(): number | null {
    const b = this.bytes(8);
    if (b === null) return null;
    return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
  }

  /** A double as text with a length byte (RDB_TYPE_ZSET, version < 8):
   * 253 nan, 254 +inf, 255 -inf. */
  textDouble(): number | null {
    const len = this.byte();
    if (len === null) return null;
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const b = this.bytes(len);
    if (b === null) return null;
    const s = bytesToBinary(b);
    // sscanf("%lg"): a number at the start, whatever follows.
    const m =
      /^\s*([+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))/i
        .exec(s);
    if (m === null) return null;
    const t = m[1].toLowerCase().replace(/^\+/, "");
    if (t.endsWith("nan")) return NaN;
    if (t.includes("inf")) return t.startsWith("-") ? -Infinity : Infinity;
    return Number(t);
  }

  /** A length that must be a plain one (not a special encoding). */
  plainLength(): number | null {
    const len = this.length();
    return len === null || len.encoded ? null : len.n;
  }

  /** A length as an exact unsigned 64-bit value (stream ids, counters). */
  bigLength(): bigint | null {
    if (this.pos >= this.buf.length) return this.#past();
    const b = this.buf[this.pos];
    if (b === 0x81) {
      this.pos++;
      return this.u64be();
    }
    const n = this.plainLength();
    return n === null ? null : BigInt(n);
  }

  /** A string's bytes (plain, integer-encoded as its decimal text, or
   * LZF-compressed). */
  stringBytes(): Uint8Array | null {
    const start = this.pos;
    const len = this.length();
    if (len === null) return null;
    if (!len.encoded) return this.bytes(len.n);
    if (len.n === 3) {
      const clen = this.plainLength();
      const ulen = this.plainLength();
      if (clen === null || ulen === null) return null;
      const c = this.bytes(clen);
      if (c === null) return null;
      return lzfDecompress(c, ulen);
    }
    this.pos = start;
    const s = this.string();
    if (s === null) return null;
    const out = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  /** A string (plain, integer-encoded or LZF-compressed) as a byte string. */
  string(): string | null {
    const len = this.length();
    if (len === null) return null;
    let bytes: Uint8Array | null;
    if (!len.encoded) {
      if (this.pos + len.n > this.buf.length) return this.#past();
      bytes = this.buf.subarray(this.pos, this.pos + len.n);
      this.pos += len.n;
    } else if (len.n <= 2) {
      const size = 1 << len.n;
      if (this.pos + size > this.buf.length) return this.#past();
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
      if (this.pos + clen.n > this.buf.length) return this.#past();
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
export function sealPayload(body: number[] | Uint8Array): Uint8Array {
  const n = body.length + 2;
  const bytes = new Uint8Array(n + 8);
  bytes.set(body);
  bytes[n - 2] = RDB_VERSION & 0xff;
  bytes[n - 1] = (RDB_VERSION >> 8) & 0xff;
  let crc = crc64(bytes.subarray(0, n));
  for (let i = 0; i < 8; i++) {
    bytes[n + i] = Number(crc & 0xffn);
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
