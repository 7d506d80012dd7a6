// HyperLogLog counters in Redis's HYLL string format.
//
// A HyperLogLog is an ordinary string value, byte for byte what Redis 7.0
// stores: a 16-byte header ("HYLL", the encoding byte, 3 unused bytes, the
// cached cardinality as 8 bytes little endian whose top bit marks it stale)
// followed by either the dense form (16384 registers of 6 bits, 12288
// bytes) or the sparse form (run-length opcodes ZERO 00xxxxxx, XZERO
// 01xxxxxx yyyyyyyy and VAL 1vvvvvxx). Elements are hashed with
// MurmurHash64A (seed 0xadc83b19): the low 14 bits choose the register,
// the run of zeroes above them (plus one) is the value kept.
//
// The store keeps strings immutable, so a change builds a new string: the
// dense form is patched with slices around the two bytes a register
// touches (V8 joins them with one copy), the sparse form (a few KB at most)
// is edited in a scratch buffer and encoded again.

import type { Store } from "../store.ts";
import { StoreError } from "../_errors.ts";

/** Error texts of the HyperLogLog commands, as Redis words them. */
export const HLL_ERRORS = {
  /** A string that is not a HyperLogLog. */
  notHll: "WRONGTYPE Key is not a valid HyperLogLog string value.",
  /** A HyperLogLog whose sparse form is damaged. */
  invalid: "INVALIDOBJ Corrupted HLL object detected",
  /** PFDEBUG on a missing key. */
  noKey: "ERR The specified key does not exist",
  /** PFDEBUG DECODE of a dense value. */
  notSparse: "ERR HLL encoding is not sparse",
} as const;

const WRONGTYPE =
  "WRONGTYPE Operation against a key holding the wrong kind of value";

const P = 14;
const Q = 64 - P;
const REGISTERS = 1 << P;
const P_MASK = REGISTERS - 1;
const HDR = 16;
const DENSE_BYTES = (REGISTERS * 6) / 8;
const DENSE_SIZE = HDR + DENSE_BYTES;
const DENSE = 0;
const SPARSE = 1;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
const ALPHA_INF = 0.721347520444481703680;

/** The value of an empty HyperLogLog, as PFADD creates it (sparse, one
 * XZERO opcode covering every register). */
const EMPTY = "HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
  String.fromCharCode(0x40 | ((XZERO_MAX_LEN - 1) >> 8), 0xff);

// ---------------------------------------------------------------------------
// MurmurHash64A on 32-bit halves.

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const M_LO0 = M_LO & 0xffff;
const M_LO1 = M_LO >>> 16;
let rHi = 0;
let rLo = 0;

/** (hi, lo) * m mod 2^64 into rHi, rLo. */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const p00 = a0 * M_LO0;
  const p01 = a0 * M_LO1;
  const p10 = a1 * M_LO0;
  const p11 = a1 * M_LO1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  rLo = (((mid & 0xffff) << 16) | (p00 & 0xffff)) >>> 0;
  const carry = p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16);
  rHi = (carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
}

let hashIndex = 0;

/** Hashes the byte string `s` as Redis's hllPatLen: sets `hashIndex` to
 * the register and returns the count (1 to 51). */
function patLen(s: string): number {
  const len = s.length;
  // h = seed ^ (len * m)
  mulM(0, len);
  let hHi = rHi;
  let hLo = (rLo ^ 0xadc83b19) >>> 0;
  const blocks = len - (len & 7);
  let i = 0;
  for (; i < blocks; i += 8) {
    let kLo = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) |
      (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    let kHi = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) |
      (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>> 0;
    mulM(kHi, kLo);
    kHi = rHi;
    kLo = (rLo ^ (rHi >>> 15)) >>> 0;
    mulM(kHi, kLo);
    hHi = (hHi ^ rHi) >>> 0;
    hLo = (hLo ^ rLo) >>> 0;
    mulM(hHi, hLo);
    hHi = rHi;
    hLo = rLo;
  }
  const rest = len & 7;
  if (rest !== 0) {
    for (let j = rest - 1; j >= 4; j--) {
      hHi ^= s.charCodeAt(i + j) << ((j - 4) * 8);
    }
    for (let j = Math.min(rest, 4) - 1; j >= 0; j--) {
      hLo ^= s.charCodeAt(i + j) << (j * 8);
    }
    mulM(hHi >>> 0, hLo >>> 0);
    hHi = rHi;
    hLo = rLo;
  }
  // h ^= h >> 47; h *= m; h ^= h >> 47
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mulM(hHi, hLo);
  hHi = rHi;
  hLo = (rLo ^ (rHi >>> 15)) >>> 0;
  hashIndex = hLo & P_MASK;
  const low = hLo >>> P; // 18 bits above the index
  if (low !== 0) return 32 - Math.clz32(low & -low);
  if (hHi !== 0) return 18 + 32 - Math.clz32(hHi & -hHi);
  return Q + 1;
}

/** The register and count Redis derives from `element` (a byte string):
 * MurmurHash64A's low 14 bits, and the run of zeroes above them plus one.
 *
 * @example
 * ```ts ignore
 * // Internal: PFADD's hashing; @kv/store does not export it.
 * import { hllHash } from "./hyperloglog.ts";
 * const [register, count] = hllHash("a"); // 12711, 2
 * ```
 */
export function hllHash(element: string): [register: number, count: number] {
  const count = patLen(element);
  return [hashIndex, count];
}

// ---------------------------------------------------------------------------
// Estimation (Ertl's improved estimator, as Redis 7.0's hllCount).

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrime !== z);
  return z / 3;
}

const histo = new Float64Array(64);

function estimate(): number {
  const m = REGISTERS;
  let z = m * tau((m - histo[Q + 1]) / m);
  for (let j = Q; j >= 1; --j) {
    z += histo[j];
    z *= 0.5;
  }
  z += m * sigma(histo[0] / m);
  return Math.round(ALPHA_INF * m * m / z);
}

/** Fills `histo` from a dense value. */
function denseHisto(s: string): void {
  histo.fill(0);
  for (let b = HDR; b < DENSE_SIZE; b += 3) {
    const b0 = s.charCodeAt(b);
    const b1 = s.charCodeAt(b + 1);
    const b2 = s.charCodeAt(b + 2);
    histo[b0 & 63]++;
    histo[((b0 >> 6) | (b1 << 2)) & 63]++;
    histo[((b1 >> 4) | (b2 << 4)) & 63]++;
    histo[b2 >> 2]++;
  }
}

/** Fills `histo` from a sparse value; false when it is damaged. */
function sparseHisto(s: string): boolean {
  histo.fill(0);
  let idx = 0;
  const end = s.length;
  for (let p = HDR; p < end;) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      const run = (op & 0x3f) + 1;
      idx += run;
      histo[0] += run;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = (((op & 0x3f) << 8) | (s.charCodeAt(p + 1) || 0)) + 1;
      idx += run;
      histo[0] += run;
      p += 2;
    } else {
      const run = (op & 3) + 1;
      idx += run;
      histo[((op >> 2) & 0x1f) + 1] += run;
      p++;
    }
  }
  return idx === REGISTERS;
}

/** Merges a value's registers into `max` (one byte per register); false
 * when a sparse value is damaged. */
function mergeInto(max: Uint8Array, s: string): boolean {
  if (s.charCodeAt(4) === DENSE) {
    let i = 0;
    for (let b = HDR; b < DENSE_SIZE; b += 3) {
      const b0 = s.charCodeAt(b);
      const b1 = s.charCodeAt(b + 1);
      const b2 = s.charCodeAt(b + 2);
      let v = b0 & 63;
      if (v > max[i]) max[i] = v;
      v = ((b0 >> 6) | (b1 << 2)) & 63;
      if (v > max[i + 1]) max[i + 1] = v;
      v = ((b1 >> 4) | (b2 << 4)) & 63;
      if (v > max[i + 2]) max[i + 2] = v;
      v = b2 >> 2;
      if (v > max[i + 3]) max[i + 3] = v;
      i += 4;
    }
    return true;
  }
  let i = 0;
  const end = s.length;
  for (let p = HDR; p < end;) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      i += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      i += (((op & 0x3f) << 8) | (s.charCodeAt(p + 1) || 0)) + 1;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const v = ((op >> 2) & 0x1f) + 1;
      if (run + i > REGISTERS) break;
      while (run-- > 0) {
        if (v > max[i]) max[i] = v;
        i++;
      }
      p++;
    }
  }
  return i === REGISTERS;
}

// ---------------------------------------------------------------------------
// Byte buffers and strings.

const fromCharCode = String.fromCharCode;

function encode(b: Uint8Array, len: number): string {
  if (len <= 4096) {
    return fromCharCode.apply(null, b.subarray(0, len) as unknown as number[]);
  }
  let s = "";
  for (let i = 0; i < len; i += 4096) {
    s += fromCharCode.apply(
      null,
      b.subarray(i, Math.min(len, i + 4096)) as unknown as number[],
    );
  }
  return flat(s);
}

/** Makes V8 lay out a string built from pieces as one flat copy (reading a
 * char flattens it), so the value costs its length and no more. */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

function decodeInto(s: string, b: Uint8Array): void {
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
}

function denseGet(b: Uint8Array, i: number): number {
  const pos = i * 6;
  const byte = HDR + (pos >> 3);
  const fb = pos & 7;
  return ((b[byte] >> fb) | (b[byte + 1] << (8 - fb))) & 63;
}

function denseSet(b: Uint8Array, i: number, v: number): void {
  const pos = i * 6;
  const byte = HDR + (pos >> 3);
  const fb = pos & 7;
  const fb8 = 8 - fb;
  b[byte] = (b[byte] & ~(63 << fb)) | (v << fb);
  b[byte + 1] = (b[byte + 1] & ~(63 >> fb8)) | (v >> fb8);
}

function denseGetStr(s: string, i: number): number {
  const pos = i * 6;
  const byte = HDR + (pos >> 3);
  const fb = pos & 7;
  return ((s.charCodeAt(byte) >> fb) | (s.charCodeAt(byte + 1) << (8 - fb))) &
    63;
}

/** `s` with register `i` of its dense form set to `v`. */
function denseSetStr(s: string, i: number, v: number): string {
  const pos = i * 6;
  const byte = HDR + (pos >> 3);
  const fb = pos & 7;
  const fb8 = 8 - fb;
  const b0 = ((s.charCodeAt(byte) & ~(63 << fb)) | (v << fb)) & 0xff;
  const b1 = ((s.charCodeAt(byte + 1) & ~(63 >> fb8)) | (v >> fb8)) & 0xff;
  return s.slice(0, byte) + fromCharCode(b0, b1) + s.slice(byte + 2);
}

function invalidated(s: string): string {
  const c = s.charCodeAt(15);
  if (c & 0x80) return s;
  return s.slice(0, 15) + fromCharCode(c | 0x80) + s.slice(16);
}

/** Scratch buffers: the dense form, and the sparse form being edited. */
const dense = new Uint8Array(DENSE_SIZE + 1);
let sparse = new Uint8Array(4096);
let sparseLen = 0;

function loadSparse(s: string): void {
  if (sparse.length < s.length + 8) sparse = new Uint8Array(s.length + 4096);
  decodeInto(s, sparse);
  sparse.fill(0, s.length, s.length + 8);
  sparseLen = s.length;
}

/** Turns the sparse form in `sparse` into the dense form in `dense`;
 * false when it is damaged. */
function sparseToDense(): boolean {
  dense.fill(0);
  dense.set(sparse.subarray(0, HDR));
  dense[4] = DENSE;
  let idx = 0;
  const b = sparse;
  for (let p = HDR; p < sparseLen;) {
    const op = b[p];
    if ((op & 0xc0) === 0) {
      idx += (op & 0x3f) + 1;
      p++;
    } else if ((op & 0xc0) === 0x40) {
      idx += (((op & 0x3f) << 8) | b[p + 1]) + 1;
      p += 2;
    } else {
      let run = (op & 3) + 1;
      const v = ((op >> 2) & 0x1f) + 1;
      if (run + idx > REGISTERS) break;
      while (run-- > 0) denseSet(dense, idx++, v);
      p++;
    }
  }
  return idx === REGISTERS;
}

const PROMOTE = 2;
const seq = new Uint8Array(5);

/** Redis's hllSparseSet on `sparse`: 1 when a register changed, 0 when
 * not, -1 when the value is damaged, PROMOTE when it must turn dense
 * first. */
function sparseSet(index: number, count: number, maxBytes: number): number {
  if (count > VAL_MAX_VALUE) return PROMOTE;
  const b = sparse;
  let end = sparseLen;
  // Step 1: find the opcode covering the register.
  let p = HDR;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = b[p];
    let oplen = 1;
    if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
    else if (op & 0x80) span = (op & 3) + 1;
    else {
      span = (((op & 0x3f) << 8) | b[p + 1]) + 1;
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  let done = false;
  const op = b[p];
  const isZero = (op & 0xc0) === 0;
  const isXzero = (op & 0xc0) === 0x40;
  const isVal = (op & 0x80) !== 0;
  const next = isXzero ? p + 2 : p + 1;
  const runlen = isZero
    ? (op & 0x3f) + 1
    : isXzero
    ? (((op & 0x3f) << 8) | b[p + 1]) + 1
    : (op & 3) + 1;
  if (!done && isVal) {
    const old = ((op >> 2) & 0x1f) + 1;
    if (old >= count) return 0;
    if (runlen === 1) {
      b[p] = 0x80 | ((count - 1) << 2);
      done = true;
    }
  }
  if (!done && isZero && runlen === 1) {
    b[p] = 0x80 | ((count - 1) << 2);
    done = true;
  }
  if (!done) {
    // Step 2: split the opcode.
    let n = 0;
    const last = first + span - 1;
    if (isZero || isXzero) {
      if (index !== first) {
        const len = index - first;
        if (len > ZERO_MAX_LEN) {
          seq[n++] = 0x40 | ((len - 1) >> 8);
          seq[n++] = (len - 1) & 0xff;
        } else seq[n++] = len - 1;
      }
      seq[n++] = 0x80 | ((count - 1) << 2);
      if (index !== last) {
        const len = last - index;
        if (len > ZERO_MAX_LEN) {
          seq[n++] = 0x40 | ((len - 1) >> 8);
          seq[n++] = (len - 1) & 0xff;
        } else seq[n++] = len - 1;
      }
    } else {
      const cur = (op >> 2) & 0x1f;
      if (index !== first) seq[n++] = 0x80 | (cur << 2) | (index - first - 1);
      seq[n++] = 0x80 | ((count - 1) << 2);
      if (index !== last) seq[n++] = 0x80 | (cur << 2) | (last - index - 1);
    }
    // Step 3: put the new sequence in place of the opcode.
    const oldlen = isXzero ? 2 : 1;
    const delta = n - oldlen;
    if (delta > 0 && end + delta > maxBytes) return PROMOTE;
    if (end + delta + 8 > b.length) {
      const grown = new Uint8Array((end + delta) * 2 + 64);
      grown.set(b.subarray(0, end));
      sparse = grown;
      return sparseSet(index, count, maxBytes);
    }
    if (delta !== 0 && next < end) b.copyWithin(next + delta, next, end);
    end += delta;
    b.set(seq.subarray(0, n), p);
    if (delta < 0) b.fill(0, end, end - delta);
  }
  // Step 4: merge adjacent VAL opcodes of the same value.
  p = prev >= 0 ? prev : HDR;
  let scan = 5;
  while (p < end && scan-- > 0) {
    const o = b[p];
    if ((o & 0xc0) === 0x40) {
      p += 2;
      continue;
    } else if ((o & 0xc0) === 0) {
      p++;
      continue;
    }
    if (p + 1 < end && (b[p + 1] & 0x80)) {
      const o2 = b[p + 1];
      if (((o >> 2) & 0x1f) === ((o2 >> 2) & 0x1f)) {
        const len = (o & 3) + (o2 & 3) + 2;
        if (len <= VAL_MAX_LEN) {
          b[p + 1] = (o & 0xfc) | (len - 1);
          b.copyWithin(p, p + 1, end);
          end--;
          b[end] = 0;
          continue;
        }
      }
    }
    p++;
  }
  sparseLen = end;
  b[15] |= 0x80;
  return 1;
}

/** Whether `s` is a HyperLogLog as Redis's isHLLObjectOrReply accepts
 * it. */
function isHll(s: string): boolean {
  return s.length >= HDR && s.charCodeAt(0) === 0x48 &&
    s.charCodeAt(1) === 0x59 && s.charCodeAt(2) === 0x4c &&
    s.charCodeAt(3) === 0x4c && s.charCodeAt(4) <= SPARSE &&
    (s.charCodeAt(4) === SPARSE || s.length === DENSE_SIZE);
}

/** The registers of a value as one byte each (a copy). */
function registersOf(s: string): Uint8Array | null {
  const out = new Uint8Array(REGISTERS);
  return mergeInto(out, s) ? out : null;
}

/** Adds elements to the HYLL value `s`, as PFADD: returns the new value
 * and how many elements changed a register, or -1 when it is damaged (the
 * value then holds the changes made before the damage was found). */
function addAll(
  s: string,
  elements: readonly string[],
  maxBytes: number,
): [string, number] {
  let updated = 0;
  if (s.charCodeAt(4) === DENSE && elements.length <= 16) {
    for (const e of elements) {
      const count = patLen(e);
      if (count > denseGetStr(s, hashIndex)) {
        s = flat(denseSetStr(s, hashIndex, count));
        updated++;
      }
    }
    return [s, updated];
  }
  let isDense = s.charCodeAt(4) === DENSE;
  if (isDense) decodeInto(s, dense);
  else loadSparse(s);
  for (const e of elements) {
    const count = patLen(e);
    const index = hashIndex;
    if (!isDense) {
      const r = sparseSet(index, count, maxBytes);
      if (r === 1) {
        updated++;
        continue;
      }
      if (r === 0) continue;
      if (r === -1 || !sparseToDense()) {
        return [encode(sparse, sparseLen), -1];
      }
      isDense = true;
    }
    if (count > denseGet(dense, index)) {
      denseSet(dense, index, count);
      updated++;
    }
  }
  if (updated === 0) return [s, 0];
  return [
    isDense ? encode(dense, DENSE_SIZE) : encode(sparse, sparseLen),
    updated,
  ];
}

function cachedCount(s: string): number | bigint | undefined {
  if (s.charCodeAt(15) & 0x80) return undefined;
  const lo = (s.charCodeAt(8) | (s.charCodeAt(9) << 8) |
    (s.charCodeAt(10) << 16) | (s.charCodeAt(11) << 24)) >>> 0;
  const hi = (s.charCodeAt(12) | (s.charCodeAt(13) << 8) |
    (s.charCodeAt(14) << 16) | (s.charCodeAt(15) << 24)) >>> 0;
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

function withCount(s: string, n: number): string {
  const lo = n % 0x100000000;
  const hi = Math.floor(n / 0x100000000);
  return flat(
    s.slice(0, 8) +
      fromCharCode(
        lo & 0xff,
        (lo >>> 8) & 0xff,
        (lo >>> 16) & 0xff,
        lo >>> 24,
        hi & 0xff,
        (hi >>> 8) & 0xff,
        (hi >>> 16) & 0xff,
        (hi >>> 24) & 0xff,
      ) + s.slice(16),
  );
}

/** The cardinality estimate of a value (not the cache); -1 when damaged. */
function countOf(s: string): number {
  if (s.charCodeAt(4) === DENSE) denseHisto(s);
  else if (!sparseHisto(s)) return -1;
  return estimate();
}

// ---------------------------------------------------------------------------
// The standalone sketch.

/**
 * One HyperLogLog counter held as its Redis HYLL string (`value`): the
 * same bytes GET returns for a key PFADD built, and what SET of such bytes
 * gives PFCOUNT. Starts sparse and turns dense as Redis does.
 *
 * @example
 * ```ts
 * import { HyperLogLog } from "@kv/store";
 * const hll = new HyperLogLog();
 * hll.add(["a", "b", "c", "a"]);
 * console.log(hll.count()); // 3
 * ```
 */
export class HyperLogLog {
  /** The HYLL bytes, one char per byte. */
  value: string;
  /** Longest sparse form before it turns dense (`hll-sparse-max-bytes`). */
  sparseMaxBytes: number;
  /** An empty counter, or one over the HYLL bytes `value` (throws the
   * WRONGTYPE error of PFADD when they are not a HyperLogLog). */
  constructor(value: string = EMPTY, sparseMaxBytes = 3000) {
    if (!isHll(value)) throw new StoreError(HLL_ERRORS.notHll);
    this.value = value;
    this.sparseMaxBytes = sparseMaxBytes;
  }
  /** Adds byte-string elements; true when a register changed (PFADD's 1).
   * Throws INVALIDOBJ when the value is damaged. */
  add(elements: Iterable<string>): boolean {
    const list = Array.isArray(elements) ? elements : [...elements];
    const [v, n] = addAll(this.value, list, this.sparseMaxBytes);
    this.value = v;
    if (n < 0) throw new StoreError(HLL_ERRORS.invalid);
    if (n > 0) this.value = flat(invalidated(v));
    return n > 0;
  }
  /** The estimated number of distinct elements (PFCOUNT), from the cache
   * when it is valid, else computed and cached in `value`. */
  count(): number {
    const cached = cachedCount(this.value);
    if (cached !== undefined) return Number(cached);
    const n = countOf(this.value);
    if (n < 0) throw new StoreError(HLL_ERRORS.invalid);
    this.value = withCount(this.value, n);
    return n;
  }
  /** "dense" or "sparse" (PFDEBUG ENCODING). */
  get encoding(): "dense" | "sparse" {
    return this.value.charCodeAt(4) === DENSE ? "dense" : "sparse";
  }
  /** The 16384 registers, one byte each. */
  registers(): Uint8Array {
    const r = registersOf(this.value);
    if (r === null) throw new StoreError(HLL_ERRORS.invalid);
    return r;
  }
  /** Turns a sparse value dense; true when it was sparse. */
  toDense(): boolean {
    if (this.value.charCodeAt(4) === DENSE) return false;
    loadSparse(this.value);
    if (!sparseToDense()) throw new StoreError(HLL_ERRORS.invalid);
    this.value = encode(dense, DENSE_SIZE);
    return true;
  }
  /** Merges other counters (or HYLL strings) into this one, as PFMERGE
   * does with this one as the destination. */
  merge(others: Iterable<HyperLogLog | string>): void {
    const max = new Uint8Array(REGISTERS);
    let useDense = false;
    const all = [this.value];
    for (const o of others) all.push(typeof o === "string" ? o : o.value);
    for (const s of all) {
      if (!isHll(s)) throw new StoreError(HLL_ERRORS.notHll);
      if (s.charCodeAt(4) === DENSE) useDense = true;
      if (!mergeInto(max, s)) throw new StoreError(HLL_ERRORS.invalid);
    }
    this.value = writeRegisters(this.value, max, useDense, this.sparseMaxBytes);
  }
}

/** PFMERGE's write: `dest` with registers raised to `max` (turned dense
 * first when `useDense`), cache invalidated. */
function writeRegisters(
  dest: string,
  max: Uint8Array,
  useDense: boolean,
  maxBytes: number,
): string {
  let isDense = dest.charCodeAt(4) === DENSE;
  if (isDense) decodeInto(dest, dense);
  else {
    loadSparse(dest);
    if (useDense) {
      if (!sparseToDense()) throw new StoreError(HLL_ERRORS.invalid);
      isDense = true;
    }
  }
  for (let j = 0; j < REGISTERS; j++) {
    const v = max[j];
    if (v === 0) continue;
    if (!isDense) {
      const r = sparseSet(j, v, maxBytes);
      if (r !== PROMOTE) continue;
      if (!sparseToDense()) continue;
      isDense = true;
    }
    if (v > denseGet(dense, j)) denseSet(dense, j, v);
  }
  if (isDense) {
    dense[15] |= 0x80;
    return encode(dense, DENSE_SIZE);
  }
  sparse[15] |= 0x80;
  return encode(sparse, sparseLen);
}

/** Decodes a sparse value's opcodes as PFDEBUG DECODE prints them. */
function decodeOps(s: string): string {
  const parts: string[] = [];
  for (let p = HDR; p < s.length;) {
    const op = s.charCodeAt(p);
    if ((op & 0xc0) === 0) {
      parts.push(`z:${(op & 0x3f) + 1}`);
      p++;
    } else if ((op & 0xc0) === 0x40) {
      const run = (((op & 0x3f) << 8) | (s.charCodeAt(p + 1) || 0)) + 1;
      parts.push(`Z:${run}`);
      p += 2;
    } else {
      parts.push(`v:${((op >> 2) & 0x1f) + 1},${(op & 3) + 1}`);
      p++;
    }
  }
  return parts.join(" ");
}

// ---------------------------------------------------------------------------
// The operations on a store.

/** Reads the HLL value at `key` without stats (write lookups). */
function hllAt(store: Store, key: string, read: boolean): string | undefined {
  const v = read ? store.readValue(key) : store.value(key);
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new StoreError(WRONGTYPE);
  if (!isHll(v)) throw new StoreError(HLL_ERRORS.notHll);
  return v;
}

const KEEP_TTL = Object.freeze({ keepTtl: true });

/** HyperLogLog counters in Redis's HYLL string format, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.hyperloglogs`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.hyperloglogs.pfadd("visitors", ["alice", "bob", "alice"]);
 * console.log(store.hyperloglogs.pfcount(["visitors"])); // 2
 * ```
 */
export class HyperLogLogOps {
  readonly #store: Store;
  #sparseMaxBytes = 3000;
  /** `hll-sparse-max-bytes`: the longest sparse value (header included)
   * before it turns dense. The server's settings (`store.limits`, when they
   * carry `hllSparseMaxBytes`) win, so CONFIG SET reaches it. */
  get sparseMaxBytes(): number {
    const limits = this.#store.limits as { hllSparseMaxBytes?: number };
    return limits.hllSparseMaxBytes ?? this.#sparseMaxBytes;
  }
  set sparseMaxBytes(n: number) {
    const limits = this.#store.limits as { hllSparseMaxBytes?: number };
    if (limits.hllSparseMaxBytes !== undefined) limits.hllSparseMaxBytes = n;
    this.#sparseMaxBytes = n;
  }
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  /** PFADD: adds byte-string elements to the counter at `key` (created
   * when missing); true when the key was created or a register changed. */
  pfadd(key: string, elements: readonly string[]): boolean {
    const store = this.#store;
    const cur = hllAt(store, key, false);
    let updated = 0;
    let s = cur;
    if (s === undefined) {
      s = EMPTY;
      updated = 1;
    }
    const [v, n] = elements.length === 0
      ? [s, 0]
      : addAll(s, elements, this.sparseMaxBytes);
    if (n < 0) {
      if (v !== s || cur === undefined) store.set(key, v, KEEP_TTL);
      throw new StoreError(HLL_ERRORS.invalid);
    }
    updated += n;
    if (updated === 0) return false;
    store.set(key, flat(invalidated(v)), KEEP_TTL);
    store.dirty += updated;
    return true;
  }

  /** PFCOUNT: the estimated number of distinct elements at `key`, or of
   * the union of several keys. A single key's value caches the estimate,
   * as Redis's does. */
  pfcount(keys: readonly string[]): number | bigint {
    const store = this.#store;
    if (keys.length === 1) {
      const s = hllAt(store, keys[0], true);
      if (s === undefined) return 0;
      const cached = cachedCount(s);
      if (cached !== undefined) return cached;
      const n = countOf(s);
      if (n < 0) throw new StoreError(HLL_ERRORS.invalid);
      store.set(keys[0], withCount(s, n), KEEP_TTL);
      store.dirty++;
      return n;
    }
    const max = new Uint8Array(REGISTERS);
    for (const key of keys) {
      const s = hllAt(store, key, true);
      if (s === undefined) continue;
      if (!mergeInto(max, s)) throw new StoreError(HLL_ERRORS.invalid);
    }
    histo.fill(0);
    for (let i = 0; i < REGISTERS; i++) histo[max[i]]++;
    return estimate();
  }

  /** PFMERGE: raises the registers of `dest` (created when missing) to
   * the maximum over `dest` and `sources`. */
  pfmerge(dest: string, sources: readonly string[]): void {
    const store = this.#store;
    const max = new Uint8Array(REGISTERS);
    let useDense = false;
    for (const key of [dest, ...sources]) {
      const s = hllAt(store, key, true);
      if (s === undefined) continue;
      if (s.charCodeAt(4) === DENSE) useDense = true;
      if (!mergeInto(max, s)) throw new StoreError(HLL_ERRORS.invalid);
    }
    let cur = hllAt(store, dest, false);
    if (cur === undefined) {
      cur = EMPTY;
      store.set(dest, cur);
    }
    const v = writeRegisters(cur, max, useDense, this.sparseMaxBytes);
    store.set(dest, v, KEEP_TTL);
    store.dirty++;
  }

  /** PFDEBUG GETREG: the 16384 registers (turns a sparse value dense, as
   * Redis does). */
  debugGetreg(key: string): Uint8Array {
    const s = this.#debugValue(key);
    if (s.charCodeAt(4) !== DENSE) this.debugTodense(key);
    return this.registers(key);
  }

  /** PFDEBUG DECODE: the opcodes of a sparse value (`Z:16384`, `v:2,1`,
   * `z:3` ...). */
  debugDecode(key: string): string {
    const s = this.#debugValue(key);
    if (s.charCodeAt(4) !== SPARSE) {
      throw new StoreError(HLL_ERRORS.notSparse);
    }
    return decodeOps(s);
  }

  /** PFDEBUG ENCODING: "dense" or "sparse". */
  debugEncoding(key: string): "dense" | "sparse" {
    const s = this.#debugValue(key);
    return s.charCodeAt(4) === DENSE ? "dense" : "sparse";
  }

  /** PFDEBUG TODENSE: turns a sparse value dense; true when it was
   * sparse. */
  debugTodense(key: string): boolean {
    const s = this.#debugValue(key);
    if (s.charCodeAt(4) === DENSE) return false;
    loadSparse(s);
    if (!sparseToDense()) throw new StoreError(HLL_ERRORS.invalid);
    this.#store.set(key, encode(dense, DENSE_SIZE), KEEP_TTL);
    this.#store.dirty++;
    return true;
  }

  /** The registers at `key`, one byte each (zeroes when missing). */
  registers(key: string): Uint8Array {
    const s = hllAt(this.#store, key, false);
    if (s === undefined) return new Uint8Array(REGISTERS);
    const r = registersOf(s);
    if (r === null) throw new StoreError(HLL_ERRORS.invalid);
    return r;
  }

  /** PFSELFTEST: checks register access of both forms against a plain
   * array; throws on a mismatch. */
  selftest(): void {
    const want = new Uint8Array(REGISTERS);
    let seed = 12345;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    const b = new Uint8Array(DENSE_SIZE + 1);
    for (let cycle = 0; cycle < 10; cycle++) {
      for (let i = 0; i < REGISTERS; i++) {
        want[i] = (rand() >>> 8) & 63;
        denseSet(b, i, want[i]);
      }
      for (let i = 0; i < REGISTERS; i++) {
        const got = denseGet(b, i);
        if (got !== want[i]) {
          throw new StoreError(
            `TESTFAILED Register ${i} should be ${want[i]} but is ${got}`,
          );
        }
      }
    }
    // The sparse form against the dense one while it grows.
    const hll = new HyperLogLog(EMPTY, 3000);
    const exact = new HyperLogLog(EMPTY, 0);
    for (let i = 0; i < 2000; i++) {
      const e = String(rand());
      hll.add([e]);
      exact.add([e]);
      if (hll.count() !== exact.count()) {
        throw new StoreError(`TESTFAILED Sparse and dense differ at ${i}`);
      }
    }
  }

  #debugValue(key: string): string {
    const s = hllAt(this.#store, key, false);
    if (s === undefined) throw new StoreError(HLL_ERRORS.noKey);
    return s;
  }
}
