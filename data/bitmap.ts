// Bitmaps and bit fields on string values, and LCS

import type { Container, EncodingLimits, Store } from "../store.ts";
import { StoreError } from "../_errors.ts";
import { bytesToBinary } from "../_bytes.ts";
import { Buffer } from "node:buffer";

/** The error texts of the bit commands, as Redis words them. */
export const BITMAP_ERRORS = {
  bitOffset: "ERR bit offset is not an integer or out of range",
  bitValue: "ERR bit is not an integer or out of range",
  bitfieldType:
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
  bitfieldReadonly: "ERR BITFIELD_RO only supports the GET subcommand",
  bitopNot: "ERR BITOP NOT must be called with a single source key.",
  bitposBit: "ERR The bit argument must be 1 or 0.",
  overflowType: "ERR Invalid OVERFLOW type specified",
  lcsType: "ERR The specified keys must contain string values",
  lcsIdxAndLen:
    "ERR If you want both the length and indexes, please just use IDX.",
  lcsTooLong: "ERR String too long for LCS",
  lcsMemory:
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
} as const;

/** Set bits of each byte value. */
const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1];

/** A string value kept as a growable, mutable byte buffer, so that SETBIT
 * and BITFIELD change one byte in O(1) instead of copying the string. The
 * store keeps one for a string longer than a few KB that a bit command
 * wrote (TYPE still `string`, GET the same bytes); any other reader turns
 * it back into a byte string.
 *
 * @example
 * ```ts
 * import { Bitmap } from "@kv/store";
 * const b = Bitmap.from("\x00");
 * b.setBit(7, 1);
 * console.log(b.toString() === "\x01", b.bitCount(0, 0));
 * ```
 */
export class Bitmap {
  /** Bytes; only the first {@linkcode Bitmap.length} are the value. */
  #bytes: Uint8Array;
  #length: number;

  /** An empty bitmap, or one of `length` zero bytes. */
  constructor(length = 0) {
    this.#bytes = new Uint8Array(length);
    this.#length = length;
  }

  /** A bitmap over `bytes`, adopted as they are (not copied). */
  static wrap(bytes: Uint8Array): Bitmap {
    const b = new Bitmap();
    b.#bytes = bytes;
    b.#length = bytes.length;
    return b;
  }

  /** A bitmap holding the bytes of a byte string. */
  static from(value: string): Bitmap {
    const b = new Bitmap(value.length);
    const bytes = b.#bytes;
    for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i);
    return b;
  }

  /** As TYPE names it: a bitmap is a string. */
  get type(): "string" {
    return "string";
  }

  /** Length in bytes. */
  get length(): number {
    return this.#length;
  }

  /** Length in bytes (a container's size). */
  get size(): number {
    return this.#length;
  }

  /** The value's bytes (a view: valid until the next change). */
  get bytes(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  /** The value as a byte string (a flat copy). */
  toString(): string {
    const n = this.#length;
    if (n <= 1024) return bytesToBinary(this.#bytes, 0, n);
    // Native latin1 decoding: about 10x faster than fromCharCode in chunks.
    const b = this.#bytes;
    return Buffer.from(b.buffer, b.byteOffset, n).toString("latin1");
  }

  /** A copy that later changes to either side do not affect. */
  clone(): Bitmap {
    const b = new Bitmap(this.#length);
    b.#bytes.set(this.bytes);
    return b;
  }

  /** OBJECT ENCODING of a string this long (never an integer). */
  encoding(_limits?: EncodingLimits): string {
    return this.#length <= 44 ? "embstr" : "raw";
  }

  /** The command that builds the value again. */
  *rewrite(key: string, _batch?: number): Iterable<string[]> {
    yield ["SET", key, this.toString()];
  }

  /** Makes the value at least `length` bytes long, padding with zeros.
   * Room is added ahead as a string's is: twice the length up to 1 MB, then
   * 1 MB more, so a bitmap growing bit by bit is copied seldom. */
  grow(length: number): void {
    if (length <= this.#length) return;
    if (length > this.#bytes.length) {
      const room = this.#length === 0
        ? length
        : length < GROW_DOUBLE_MAX
        ? length * 2
        : length + GROW_DOUBLE_MAX;
      const next = new Uint8Array(room);
      next.set(this.bytes);
      this.#bytes = next;
    }
    // (Bytes past the length are zeros: a bitmap never shrinks.)
    this.#length = length;
  }

  /** The bit at `offset` (0 beyond the end). */
  getBit(offset: number): number {
    const byte = Math.floor(offset / 8);
    if (byte >= this.#length) return 0;
    return (this.#bytes[byte] >> (7 - offset % 8)) & 1;
  }

  /** Sets the bit at `offset`, growing as needed; returns the old bit. */
  setBit(offset: number, bit: number): number {
    const byte = Math.floor(offset / 8);
    this.grow(byte + 1);
    const shift = 7 - offset % 8;
    const old = this.#bytes[byte];
    this.#bytes[byte] = bit ? old | (1 << shift) : old & ~(1 << shift);
    return (old >> shift) & 1;
  }

  /** Set bits in bytes `start` to `end` inclusive. */
  bitCount(start = 0, end: number = this.#length - 1): number {
    return popcount(this.#bytes, start, Math.min(end, this.#length - 1));
  }
}

/** Growth doubles a bitmap's room up to this length, then adds as much. */
const GROW_DOUBLE_MAX = 1024 * 1024;

/** A string value's bytes, read the same way whether it is a byte string
 * or a buffer. */
type Bytes = string | Uint8Array;

function byteAt(v: Bytes, i: number): number {
  return typeof v === "string" ? v.charCodeAt(i) : v[i];
}

/** Set bits of bytes `start` to `end` inclusive. */
function popcount(v: Bytes, start: number, end: number): number {
  let n = 0;
  if (typeof v === "string") {
    for (let i = start; i <= end; i++) n += POPCOUNT[v.charCodeAt(i)];
  } else {
    for (let i = start; i <= end; i++) n += POPCOUNT[v[i]];
  }
  return n;
}

/** A range of BITCOUNT or BITPOS: byte or bit offsets, negative from the
 * end, as the commands take them.
 *
 * @example
 * ```ts
 * import { type BitRange, Store } from "@kv/store";
 * const store = new Store();
 * store.set("visits", "\xff\x01");
 * const secondByte: BitRange = { start: 1, end: 1 };
 * store.bitmaps.bitcount("visits", secondByte); // 1
 * store.bitmaps.bitcount("visits", { start: 0, end: -1, unit: "BIT" }); // 9
 * ```
 */
export interface BitRange {
  /** First offset (negative: from the end). */
  start: number | bigint;
  /** Last offset, inclusive; BITPOS without it searches to the end (and a
   * clear bit may then be found just past it). */
  end?: number | bigint;
  /** Offsets in bytes (default) or bits. */
  unit?: "BYTE" | "BIT";
}

const SAFE = 2 ** 53;
function clampNumber(v: number | bigint): number {
  if (typeof v === "number") return v;
  return v > 0n ? SAFE : -SAFE;
}

/** BITCOUNT of a string value, with Redis's range rules. */
export function bitcountOf(
  v: string | Uint8Array,
  range?: BitRange,
): number {
  if (range === undefined) return popcount(v, 0, v.length - 1);
  const isBit = range.unit === "BIT";
  const rawEnd = range.end ?? -1;
  if (range.start < 0 && rawEnd < 0 && range.start > rawEnd) return 0;
  const totlen = isBit ? v.length * 8 : v.length;
  let start = clampNumber(range.start);
  let end = clampNumber(rawEnd);
  if (start < 0) start = totlen + start;
  if (end < 0) end = totlen + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= totlen) end = totlen - 1;
  if (start > end) return 0;
  if (!isBit) return popcount(v, start, end);
  const first = Math.floor(start / 8), last = Math.floor(end / 8);
  let n = popcount(v, first, last);
  // Leave out the bits of the edge bytes outside the range.
  n -= POPCOUNT[byteAt(v, first) & ~((1 << (8 - start % 8)) - 1) & 0xff];
  n -= POPCOUNT[byteAt(v, last) & ((1 << (7 - end % 8)) - 1)];
  return n;
}

/** The first bit equal to `bit` in bits `from` to `to` inclusive, or -1. */
function findBit(v: Bytes, bit: number, from: number, to: number): number {
  let i = from;
  for (; i <= to && i % 8 !== 0; i++) {
    if (((byteAt(v, Math.floor(i / 8)) >> (7 - i % 8)) & 1) === bit) return i;
  }
  if (i > to) return -1;
  const skip = bit ? 0 : 0xff;
  let byte = i / 8;
  const lastWhole = Math.floor((to + 1) / 8); // bytes before this are whole
  if (typeof v === "string") {
    while (byte < lastWhole && v.charCodeAt(byte) === skip) byte++;
  } else {
    while (byte < lastWhole && v[byte] === skip) byte++;
  }
  for (i = byte * 8; i <= to; i++) {
    if (((byteAt(v, Math.floor(i / 8)) >> (7 - i % 8)) & 1) === bit) return i;
  }
  return -1;
}

/** BITPOS of a string value, with Redis's range rules. */
export function bitposOf(
  v: string | Uint8Array,
  bit: number,
  range?: BitRange,
): number {
  const isBit = range?.unit === "BIT";
  const endGiven = range?.end !== undefined;
  let from: number, to: number;
  if (range === undefined) {
    if (v.length === 0) return -1;
    from = 0;
    to = v.length * 8 - 1;
  } else {
    const totlen = isBit ? v.length * 8 : v.length;
    let start = clampNumber(range.start);
    let end = endGiven ? clampNumber(range.end!) : totlen - 1;
    if (start < 0) start = totlen + start;
    if (end < 0) end = totlen + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= totlen) end = totlen - 1;
    if (start > end) return -1;
    from = isBit ? start : start * 8;
    to = isBit ? end : end * 8 + 7;
  }
  const pos = findBit(v, bit, from, to);
  if (pos !== -1 || bit === 1 || endGiven) return pos;
  // Looking for a clear bit with no end: the string continues with zeros.
  return to + 1;
}

/** One BITFIELD operation, with its offset in bits (a `#n` offset already
 * multiplied by the width).
 *
 * @example
 * ```ts
 * import { type BitfieldOp, Store } from "@kv/store";
 * const store = new Store();
 * const op: BitfieldOp = {
 *   op: "INCRBY",
 *   signed: false,
 *   bits: 8,
 *   offset: 0,
 *   value: 300,
 *   overflow: "SAT",
 * };
 * store.bitmaps.bitfield("k", [op]); // [255]: saturated at u8's maximum
 * ```
 */
export interface BitfieldOp {
  /** GET reads; SET writes and returns the old value; INCRBY adds and
   * returns the new value. */
  op: "GET" | "SET" | "INCRBY";
  /** Signed (`i`) or unsigned (`u`) field. */
  signed: boolean;
  /** Width: 1 to 64 bits signed, 1 to 63 unsigned. */
  bits: number;
  /** Offset of the field's first bit. */
  offset: number;
  /** SET's value or INCRBY's increment (an int64). */
  value?: number | bigint;
  /** What happens when the result does not fit (default WRAP); FAIL
   * leaves the field alone and returns null. */
  overflow?: "WRAP" | "SAT" | "FAIL";
}

/** A field's value: a number when it is a safe integer, else a bigint. */
type FieldValue = number | bigint;

function num(v: bigint): FieldValue {
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Reads a field from up to 9 bytes at its offset (zeros past the end). */
function readField(
  v: Bytes,
  offset: number,
  bits: number,
  signed: boolean,
): FieldValue {
  const len = v.length;
  let byte = Math.floor(offset / 8);
  let shift = offset % 8;
  let cur = byte < len ? byteAt(v, byte) : 0;
  let hi = 0, lo = 0;
  const hiBits = bits > 32 ? bits - 32 : 0;
  for (let i = 0; i < bits; i++) {
    const b = (cur >> (7 - shift)) & 1;
    if (i < hiBits) hi = hi * 2 + b;
    else lo = lo * 2 + b;
    if (++shift === 8) {
      shift = 0;
      byte++;
      cur = byte < len ? byteAt(v, byte) : 0;
    }
  }
  if (hiBits === 0) {
    if (signed && lo >= 2 ** (bits - 1)) return lo - 2 ** bits;
    return lo;
  }
  const big = (BigInt(hi) << 32n) | BigInt(lo);
  return num(signed ? BigInt.asIntN(bits, big) : big);
}

/** Writes the low `bits` bits of `value` (two's complement) at `offset`;
 * the buffer is long enough. */
function writeField(
  buf: Uint8Array,
  offset: number,
  bits: number,
  value: FieldValue,
): void {
  let hi = 0, lo: number;
  if (typeof value === "bigint") {
    const u = BigInt.asUintN(64, value);
    lo = Number(u & 0xffffffffn);
    hi = Number(u >> 32n);
  } else if (bits <= 32 && value >= -(2 ** 31) && value < 2 ** 32) {
    lo = value >>> 0;
  } else {
    const u = BigInt.asUintN(64, BigInt(value));
    lo = Number(u & 0xffffffffn);
    hi = Number(u >> 32n);
  }
  for (let i = bits - 1, pos = offset; i >= 0; i--, pos++) {
    const b = i >= 32 ? (hi >>> (i - 32)) & 1 : (lo >>> i) & 1;
    // Bit i of the value (0 = least significant): the high bits first.
    const byte = Math.floor(pos / 8);
    const mask = 1 << (7 - pos % 8);
    if (b) buf[byte] |= mask;
    else buf[byte] &= ~mask;
  }
}

const U64 = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;

/** Redis's checkSignedBitfieldOverflow on int64 values, including its
 * wrap-around in the range arithmetic: [overflow, value to store]. */
function signedOverflow(
  value: bigint,
  incr: bigint,
  bits: number,
  owtype: string,
): [number, bigint] {
  const max = bits === 64 ? I64_MAX : (1n << BigInt(bits - 1)) - 1n;
  const min = -max - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, min - value);
  let overflow = 0;
  if (
    value > max || (bits !== 64 && incr > maxincr) ||
    (value >= 0n && incr > 0n && incr > maxincr)
  ) overflow = 1;
  else if (
    value < min || (bits !== 64 && incr < minincr) ||
    (value < 0n && incr < 0n && incr < minincr)
  ) overflow = -1;
  if (overflow === 0) return [0, value + incr];
  if (owtype === "SAT") return [overflow, overflow > 0 ? max : min];
  return [overflow, BigInt.asIntN(bits, value + incr)];
}

/** Redis's checkUnsignedBitfieldOverflow: `value` as a uint64. */
function unsignedOverflow(
  value: bigint,
  incr: bigint,
  bits: number,
  owtype: string,
): [number, bigint] {
  const max = (1n << BigInt(bits)) - 1n;
  const maxincr = BigInt.asIntN(64, max - value);
  const minincr = BigInt.asIntN(64, -value);
  let overflow = 0;
  if (value > max || (incr > 0n && incr > maxincr)) overflow = 1;
  else if (incr < 0n && incr < minincr) overflow = -1;
  if (overflow === 0) return [0, value + incr];
  if (owtype === "SAT") return [overflow, overflow > 0 ? max : 0n];
  return [overflow, BigInt.asUintN(bits, value + incr)];
}

/** One SET or INCRBY on a field value `old`: [write?, new value, reply]. */
function applyField(
  op: BitfieldOp,
  old: FieldValue,
): [boolean, FieldValue, FieldValue | null] {
  const owtype = op.overflow ?? "WRAP";
  const arg = op.value ?? 0;
  const incr = op.op === "INCRBY";
  const bits = op.bits;
  // Fast path: small fields and small arguments, exact in doubles.
  if (
    bits <= 32 && typeof arg === "number" && typeof old === "number" &&
    arg > -(2 ** 40) && arg < 2 ** 40
  ) {
    const range = 2 ** bits;
    const min = op.signed ? -(range / 2) : 0;
    const max = op.signed ? range / 2 - 1 : range - 1;
    const target = incr ? old + arg : arg;
    let next = target;
    // An unsigned SET of a negative value is a huge uint64: too big.
    const dir = target > max || (!op.signed && target < 0 && !incr)
      ? 1
      : target < min
      ? -1
      : 0;
    if (dir !== 0) {
      if (owtype === "FAIL") return [false, old, null];
      if (owtype === "SAT") next = dir > 0 ? max : min;
      else {
        next = ((target % range) + range) % range;
        if (op.signed && next > max) next -= range;
      }
    }
    return [true, next, incr ? next : old];
  }
  const a = BigInt(arg);
  let r: [number, bigint];
  if (op.signed) {
    r = incr
      ? signedOverflow(BigInt(old), a, bits, owtype)
      : signedOverflow(a, 0n, bits, owtype);
  } else {
    r = incr
      ? unsignedOverflow(BigInt(old), a, bits, owtype)
      : unsignedOverflow(a & U64, 0n, bits, owtype);
  }
  if (r[0] !== 0 && owtype === "FAIL") return [false, old, null];
  const next = num(r[1]);
  return [true, next, incr ? next : old];
}

/** Values up to this many bytes stay flat byte strings under SETBIT,
 * BITFIELD and BITOP (a change copies them: a few microseconds at this
 * size); longer ones are kept in a mutable {@linkcode Bitmap} (changed in
 * place, at the cost of a buffer's fixed overhead per key). Measured with
 * tools/mem_bitmap.ts (`threshold`). */
export const FLAT_MAX = 4096;

/** `v` with byte `at` set to `byte`, padded with zeros up to it: a flat
 * string (short: see FLAT_MAX). */
function withByte(v: string, at: number, byte: number): string {
  const len = Math.max(v.length, at + 1);
  const buf = new Uint8Array(len);
  for (let i = 0; i < v.length; i++) buf[i] = v.charCodeAt(i);
  buf[at] = byte;
  return bytesToBinary(buf);
}

/** The longest string V8 makes (2^29 - 24 bytes, a little under Redis's
 * 512 MB): a bitmap must stay readable as a string, so writes stop there
 * (reads past it see zeros, as anywhere past the end). */
export const MAX_BITMAP_BYTES = 2 ** 29 - 24;

/** Checks an offset in bits against the longest string allowed (and, for
 * a write, the longest V8 string). */
function checkOffset(store: Store, offset: number, write = false): void {
  if (
    !Number.isInteger(offset) || offset < 0 ||
    Math.floor(offset / 8) >= store.maxStringLength ||
    (write && Math.floor(offset / 8) >= MAX_BITMAP_BYTES)
  ) throw new StoreError(BITMAP_ERRORS.bitOffset);
}

/** LCS's IDX result: the matching ranges, from the end of the strings
 * backwards, and the LCS length.
 *
 * @example
 * ```ts
 * import { type LcsIdxResult, Store } from "@kv/store";
 * const store = new Store();
 * store.set("a", "ohmytext");
 * store.set("b", "mynewtext");
 * const { matches, len }: LcsIdxResult = store.bitmaps.lcsIdx("a", "b", {
 *   minMatchLen: 4,
 * });
 * console.log(matches, len); // [[[4, 7], [5, 8], 4]] 6: "text", of "mytext"
 * ```
 */
export interface LcsIdxResult {
  /** Each match: [start, end] in the first string, [start, end] in the
   * second, and the match length. */
  matches: [[number, number], [number, number], number][];
  /** Length of the longest common subsequence. */
  len: number;
}

/** What {@linkcode lcsOf} computes. */
export interface LcsResult {
  /** The longest common subsequence (unless only the length was asked). */
  lcs?: string;
  /** Its length. */
  len: number;
  /** The ranges (with `idx`). */
  matches?: [[number, number], [number, number], number][];
}

/** `v`'s bytes as an array (a byte string copied, a buffer as it is). */
function asBytes(v: Bytes): Uint8Array {
  if (typeof v !== "string") return v;
  const out = new Uint8Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v.charCodeAt(i);
  return out;
}

/**
 * LCS of two byte strings (or buffers) with Redis's dynamic programming
 * table and its backward walk (so IDX ranges come out in Redis's order).
 * `maxTable` bounds the table's bytes (proto-max-bulk-len).
 */
export function lcsOf(
  a: string | Uint8Array,
  b: string | Uint8Array,
  options: {
    idx?: boolean;
    len?: boolean;
    minMatchLen?: number;
    maxTable?: number;
  } = {},
): LcsResult {
  const alen = a.length, blen = b.length;
  if (alen >= 0xffffffff - 1 || blen >= 0xffffffff - 1) {
    throw new StoreError(BITMAP_ERRORS.lcsTooLong);
  }
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > (options.maxTable ?? Infinity)) {
    throw new StoreError(BITMAP_ERRORS.lcsMemory);
  }
  const w = blen + 1;
  const table = new Uint32Array(cells);
  const ab = asBytes(a), bc = asBytes(b);
  for (let i = 1; i <= alen; i++) {
    const ac = ab[i - 1];
    const row = i * w, prev = row - w;
    for (let j = 1; j <= blen; j++) {
      if (ac === bc[j - 1]) table[row + j] = table[prev + j - 1] + 1;
      else {
        const up = table[prev + j], left = table[row + j - 1];
        table[row + j] = up > left ? up : left;
      }
    }
  }
  const len = table[alen * w + blen];
  const getIdx = options.idx === true;
  if (!getIdx && options.len) return { len };
  const minMatchLen = Math.max(0, options.minMatchLen ?? 0);
  const out = new Uint8Array(len);
  const matches: [[number, number], [number, number], number][] = [];
  let idx = len;
  let aStart = alen, aEnd = 0, bStart = 0, bEnd = 0; // aStart = alen: none
  let i = alen, j = blen;
  while (i > 0 && j > 0) {
    let emit = false;
    const ch = ab[i - 1];
    if (ch === bc[j - 1]) {
      out[idx - 1] = ch;
      if (aStart === alen) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * w + j] > table[i * w + j - 1]) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (getIdx && (minMatchLen === 0 || matchLen >= minMatchLen)) {
        matches.push([[aStart, aEnd], [bStart, bEnd], matchLen]);
      }
      aStart = alen;
    }
  }
  return getIdx ? { len, matches } : { lcs: bytesToBinary(out), len };
}

/** Bitmaps and bit fields on string values, and LCS, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.bitmaps`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.bitmaps.setbit("seen", 7, 1);
 * console.log(store.get("seen") === "\x01", store.bitmaps.bitcount("seen"));
 * ```
 */
export class BitmapOps {
  readonly #store: Store;
  /** Longest value (in bytes) SETBIT, BITFIELD and BITOP keep as a flat
   * byte string; longer ones become a mutable {@linkcode Bitmap}.
   * Defaults to 4096 bytes (`FLAT_MAX`). */
  flatMax: number = FLAT_MAX;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  /** SETBIT: sets or clears the bit at `offset` (growing the string with
   * zeros); returns the old bit. */
  setbit(key: string, offset: number, value: number): number {
    const store = this.#store;
    checkOffset(store, offset, true);
    if (value !== 0 && value !== 1) {
      throw new StoreError(BITMAP_ERRORS.bitValue);
    }
    const old = store.readBitsQuiet(key);
    const byte = Math.floor(offset / 8);
    const shift = 7 - offset % 8;
    const len = old === undefined ? 0 : old.length;
    const was = byte < len ? byteAt(old!, byte) : 0;
    const bit = (was >> shift) & 1;
    if (byte < len && bit === value) return bit; // no change
    if (typeof old === "object" || Math.max(len, byte + 1) > this.flatMax) {
      // A bitmap already, or one from now on: changed in place.
      store.writableBits(key, true)!.setBit(offset, value);
    } else {
      const now = value ? was | (1 << shift) : was & ~(1 << shift);
      const next = withByte(old ?? "", byte, now);
      store.set(key, next, old === undefined ? undefined : KEEP_TTL);
    }
    store.dirty++;
    return bit;
  }

  /** GETBIT: the bit at `offset` (0 past the end or for a missing key). */
  getbit(key: string, offset: number): number {
    checkOffset(this.#store, offset);
    const v = this.#store.readBits(key);
    const byte = Math.floor(offset / 8);
    if (v === undefined || byte >= v.length) return 0;
    return (byteAt(v, byte) >> (7 - offset % 8)) & 1;
  }

  /** BITCOUNT: set bits in the whole string or in a range. */
  bitcount(key: string, range?: BitRange): number {
    const v = this.#store.readBits(key);
    return v === undefined ? 0 : bitcountOf(v, range);
  }

  /** BITPOS: the first bit equal to `bit`, or -1 (see Redis's rules for a
   * clear bit past the end). */
  bitpos(key: string, bit: number, range?: BitRange): number {
    if (bit !== 0 && bit !== 1) throw new StoreError(BITMAP_ERRORS.bitposBit);
    const v = this.#store.readBits(key);
    if (v === undefined) return bit ? -1 : 0;
    return bitposOf(v, bit, range);
  }

  /** BITOP: stores AND, OR, XOR of the strings at `keys` (missing keys
   * are empty, shorter ones padded with zeros) or NOT of one, at `dest`;
   * returns the length stored (0 deletes `dest`). */
  bitop(
    op: "AND" | "OR" | "XOR" | "NOT",
    dest: string,
    keys: readonly string[],
  ): number {
    if (op === "NOT" && keys.length !== 1) {
      throw new StoreError(BITMAP_ERRORS.bitopNot);
    }
    const store = this.#store;
    const values: Bytes[] = [];
    let maxlen = 0;
    for (const k of keys) {
      const v = store.readBits(k) ?? "";
      values.push(v);
      if (v.length > maxlen) maxlen = v.length;
    }
    if (maxlen === 0) {
      if (store.delete(dest)) store.dirty++;
      return 0;
    }
    const res = new Uint8Array(maxlen);
    const first = values[0];
    if (typeof first === "string") {
      for (let i = 0; i < first.length; i++) res[i] = first.charCodeAt(i);
    } else {
      res.set(first);
    }
    if (op === "NOT") {
      for (let i = 0; i < maxlen; i++) res[i] = ~res[i];
    } else {
      for (let k = 1; k < values.length; k++) combine(op, res, values[k]);
    }
    // Sources are read before the destination changes (it may be one).
    store.set(
      dest,
      maxlen > this.flatMax
        ? Bitmap.wrap(res) as unknown as Container
        : bytesToBinary(res),
    );
    store.dirty++;
    return maxlen;
  }

  /** BITFIELD (BITFIELD_RO with `readonly`): runs the operations in order;
   * each result is the value read, SET's old value, INCRBY's new value,
   * or null when OVERFLOW FAIL refused it. */
  bitfield(
    key: string,
    ops: readonly BitfieldOp[],
    options: { readonly?: boolean } = {},
  ): (number | bigint | null)[] {
    const store = this.#store;
    let highest = -1;
    for (const op of ops) {
      if (
        !Number.isInteger(op.bits) || op.bits < 1 ||
        op.bits > (op.signed ? 64 : 63)
      ) throw new StoreError(BITMAP_ERRORS.bitfieldType);
      checkOffset(store, op.offset);
      if (op.op !== "GET") {
        highest = Math.max(highest, op.offset + op.bits - 1);
        checkOffset(store, highest, true);
      }
    }
    const out: (number | bigint | null)[] = [];
    if (highest < 0) {
      const v = store.readBits(key) ?? "";
      for (const op of ops) {
        out.push(readField(v, op.offset, op.bits, op.signed));
      }
      return out;
    }
    if (options.readonly) throw new StoreError(BITMAP_ERRORS.bitfieldReadonly);
    const old = store.readBitsQuiet(key);
    const oldLen = old === undefined ? 0 : old.length;
    const need = Math.floor(highest / 8) + 1;
    const grew = old === undefined || need > oldLen;
    let buf: Uint8Array;
    let flat = false;
    if (typeof old === "object" || Math.max(need, oldLen) > this.flatMax) {
      // Changed in place (see FLAT_MAX).
      const b = store.writableBits(key, true)!;
      b.grow(need);
      buf = b.bytes;
    } else {
      flat = true;
      buf = new Uint8Array(Math.max(need, oldLen));
      if (old !== undefined) {
        for (let i = 0; i < oldLen; i++) buf[i] = old.charCodeAt(i);
      }
    }
    let changes = 0;
    for (const op of ops) {
      const value = readField(buf, op.offset, op.bits, op.signed);
      if (op.op === "GET") {
        out.push(value);
        continue;
      }
      const [write, next, reply] = applyField(op, value);
      out.push(reply);
      if (!write) continue;
      writeField(buf, op.offset, op.bits, next);
      if (grew || next !== value) changes++;
    }
    if (flat && (grew || changes > 0)) {
      store.set(
        key,
        bytesToBinary(buf),
        old === undefined ? undefined : KEEP_TTL,
      );
    }
    store.dirty += changes;
    return out;
  }

  /** The two values LCS compares (missing keys are empty); both keys are
   * looked up (and counted) before a wrong type is refused. */
  #lcsInputs(a: string, b: string): [Bytes, Bytes] {
    return lcsInputs(this.#store, a, b);
  }

  /** LCS: the longest common subsequence of the strings at two keys. */
  lcs(a: string, b: string): string {
    const [x, y] = this.#lcsInputs(a, b);
    return lcsOf(x, y, { maxTable: this.#store.maxStringLength }).lcs!;
  }

  /** LCS LEN: the length of the longest common subsequence. */
  lcsLen(a: string, b: string): number {
    const [x, y] = this.#lcsInputs(a, b);
    return lcsOf(x, y, { len: true, maxTable: this.#store.maxStringLength })
      .len;
  }

  /** LCS IDX: the matching ranges (those at least `minMatchLen` long) and
   * the length. */
  lcsIdx(
    a: string,
    b: string,
    options: { minMatchLen?: number } = {},
  ): LcsIdxResult {
    const [x, y] = this.#lcsInputs(a, b);
    const r = lcsOf(x, y, {
      idx: true,
      minMatchLen: options.minMatchLen,
      maxTable: this.#store.maxStringLength,
    });
    return { matches: r.matches!, len: r.len };
  }
}

/** ANDs, ORs or XORs `v` into `res` (BITOP; `v` no longer than `res`). */
function combine(op: "AND" | "OR" | "XOR", res: Uint8Array, v: Bytes): void {
  const n = v.length;
  if (typeof v === "string") {
    if (op === "AND") { for (let i = 0; i < n; i++) res[i] &= v.charCodeAt(i); }
    else if (op === "OR") {
      for (let i = 0; i < n; i++) res[i] |= v.charCodeAt(i);
    } else for (let i = 0; i < n; i++) res[i] ^= v.charCodeAt(i);
  } else {
    if (op === "AND") { for (let i = 0; i < n; i++) res[i] &= v[i]; }
    else if (op === "OR") { for (let i = 0; i < n; i++) res[i] |= v[i]; }
    else for (let i = 0; i < n; i++) res[i] ^= v[i];
  }
  if (op === "AND") res.fill(0, n);
}

/** The values at two keys for LCS (missing keys are empty): both are
 * looked up, and counted, before another type is refused, as Redis does. */
export function lcsInputs(store: Store, a: string, b: string): [Bytes, Bytes] {
  let wrong = false;
  const look = (key: string): Bytes => {
    try {
      return store.readBits(key) ?? "";
    } catch (e) {
      if (!(e instanceof StoreError)) throw e;
      wrong = true;
      return "";
    }
  };
  const x = look(a), y = look(b);
  if (wrong) throw new StoreError(BITMAP_ERRORS.lcsType);
  return [x, y];
}

const KEEP_TTL = Object.freeze({ keepTtl: true });
