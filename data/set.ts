// Sets
//
// A set keeps its members in a dense array (so a random member is one index
// away: SPOP and SRANDMEMBER are O(1) per member) indexed by an
// open-addressing hash table of 32-bit slots. This costs less memory than a
// JavaScript Map next to the array, and removal is a swap with the last
// member. The same table (StringTable) indexes the fields of hashes.

import { lenChars, lenEnd, readLen } from "./_packed.ts";
import type { Container, EncodingLimits, Store } from "../store.ts";
import { parseInt64 } from "../_number.ts";
import { globMatch } from "../_glob.ts";

// A seed per process, so which strings collide cannot be worked out in
// advance (as Redis seeds its siphash).
const SEED = crypto.getRandomValues(new Uint32Array(1))[0];

/** A 32-bit hash of a byte string (seeded FNV-1a with a final mix). */
export function hashString(s: string): number {
  let h = 0x811c9dc5 ^ SEED;
  for (let i = 0; i < s.length; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

const MIN_SLOTS = 16;
/** Up to this many strings a table has no index: a linear scan is as fast
 * and saves the typed arrays, which cost far more than their contents. */
const LINEAR_MAX = 8;

/**
 * Distinct strings in a dense array, with an open-addressing (linear
 * probing) hash table from string to position once there are more than a
 * few. Used by sets and hashes.
 *
 * In pair mode (hashes) each entry is a field and its value joined in one
 * flat string, the field's length kept beside it: one string instead of
 * two saves a header and a pointer per field.
 */
export class StringTable {
  /** The strings (or field+value entries), densely packed; do not change
   * it directly. */
  keys: string[] = [];
  /** Field lengths in pair mode (a plain array while small). */
  #lens: Int32Array | number[] | null;
  // The index, null while small: each entry's hash, and the slots
  // (position + 1, 0 for an empty slot).
  #hashes: Int32Array | null = null;
  #slots: Int32Array | null = null;
  #mask = 0;

  /** An empty table; `pairs` for field+value entries. */
  constructor(pairs = false) {
    this.#lens = pairs ? [] : null;
  }

  /** Number of strings. */
  get size(): number {
    return this.keys.length;
  }

  /** A copy that later changes to either side do not affect. */
  clone(): StringTable {
    const t = new StringTable();
    const n = Math.max(4, this.keys.length);
    t.keys = this.keys.slice();
    const lens = this.#lens;
    t.#lens = lens === null
      ? null
      : Array.isArray(lens)
      ? lens.slice()
      : lens.slice(0, n);
    t.#hashes = this.#hashes?.slice(0, n) ?? null;
    t.#slots = this.#slots?.slice() ?? null;
    t.#mask = this.#mask;
    return t;
  }

  /** In pair mode: the length of the field of entry `pos`. */
  fieldLength(pos: number): number {
    return this.#lens![pos];
  }

  #linear(key: string): number {
    const keys = this.keys;
    const lens = this.#lens;
    const n = keys.length;
    if (lens === null) {
      for (let p = 0; p < n; p++) if (keys[p] === key) return p;
    } else {
      const len = key.length;
      for (let p = 0; p < n; p++) {
        if (lens[p] === len && keys[p].startsWith(key)) return p;
      }
    }
    return -1;
  }

  /** Indexed lookup: the position, or `-1 - slot` of the free slot where
   * the key would go. */
  #probe(key: string, h: number): number {
    const slots = this.#slots!;
    const hashes = this.#hashes!;
    const keys = this.keys;
    const lens = this.#lens;
    const mask = this.#mask;
    let i = h & mask;
    while (true) {
      const p = slots[i];
      if (p === 0) return -1 - i;
      if (hashes[p - 1] === h) {
        if (lens === null) {
          if (keys[p - 1] === key) return p - 1;
        } else if (lens[p - 1] === key.length && keys[p - 1].startsWith(key)) {
          return p - 1;
        }
      }
      i = (i + 1) & mask;
    }
  }

  /** Position of `key` (of the field, in pair mode), or -1. */
  find(key: string): number {
    if (this.#slots === null) return this.#linear(key);
    const p = this.#probe(key, hashString(key));
    return p < 0 ? -1 : p;
  }

  /** Adds `key` at the end when missing and returns its position; returns
   * `-1 - position` when it was there already. Not in pair mode. */
  add(key: string): number {
    if (this.#slots === null) {
      const found = this.#linear(key);
      if (found >= 0) return -1 - found;
      // concat() allocates the exact size, where push() would reserve 16
      // more slots: most sets and hashes are small.
      this.keys = this.keys.concat(key);
      if (this.keys.length > LINEAR_MAX) this.#index();
      return this.keys.length - 1;
    }
    const h = hashString(key);
    const found = this.#probe(key, h);
    if (found >= 0) return -1 - found;
    this.#append(key, h, -1 - found, 0);
    return this.keys.length - 1;
  }

  /** Pair mode: sets `field` to `value`; true when the field is new. */
  put(field: string, value: string): boolean {
    // One flat string: + makes a flat copy below 13 chars but a cons
    // string (two strings and a node) above; join() always copies.
    const entry = field.length + value.length < 13
      ? field + value
      : [field, value].join("");
    if (this.#slots === null) {
      const found = this.#linear(field);
      if (found >= 0) {
        this.keys[found] = entry;
        return false;
      }
      this.keys = this.keys.concat(entry);
      this.#lens = (this.#lens as number[]).concat(field.length);
      if (this.keys.length > LINEAR_MAX) this.#index();
      return true;
    }
    const h = hashString(field);
    const found = this.#probe(field, h);
    if (found >= 0) {
      this.keys[found] = entry;
      return false;
    }
    this.#append(entry, h, -1 - found, field.length);
    return true;
  }

  /** Builds the index of a table that outgrew the linear scan. */
  #index(): void {
    const keys = this.keys;
    const n = keys.length;
    const cap = n * 2;
    const hashes = new Int32Array(cap);
    const lens = this.#lens;
    if (lens === null) {
      for (let p = 0; p < n; p++) hashes[p] = hashString(keys[p]);
    } else {
      const typed = new Int32Array(cap);
      for (let p = 0; p < n; p++) {
        typed[p] = lens[p];
        hashes[p] = hashString(keys[p].slice(0, lens[p]));
      }
      this.#lens = typed;
    }
    this.#hashes = hashes;
    let size = MIN_SLOTS;
    while (size * 3 < n * 4) size *= 2;
    this.#rehash(size);
  }

  #append(entry: string, h: number, slot: number, len: number): void {
    const keys = this.keys;
    const pos = keys.length;
    if (pos === this.#hashes!.length) {
      const size = pos + (pos >> 1) + 4;
      const hashes = new Int32Array(size);
      hashes.set(this.#hashes!);
      this.#hashes = hashes;
      if (this.#lens !== null) {
        const lens = new Int32Array(size);
        lens.set(this.#lens as Int32Array);
        this.#lens = lens;
      }
    }
    keys.push(entry);
    this.#hashes![pos] = h;
    if (this.#lens !== null) this.#lens[pos] = len;
    this.#slots![slot] = pos + 1;
    if ((pos + 1) * 4 > this.#slots!.length * 3) {
      this.#rehash(this.#slots!.length * 2);
    }
  }

  #rehash(size: number): void {
    const slots = new Int32Array(size);
    const mask = size - 1;
    const hashes = this.#hashes!;
    const n = this.keys.length;
    for (let p = 0; p < n; p++) {
      let i = hashes[p] & mask;
      while (slots[i] !== 0) i = (i + 1) & mask;
      slots[i] = p + 1;
    }
    this.#slots = slots;
    this.#mask = mask;
  }

  #slotOf(pos: number): number {
    const slots = this.#slots!;
    const mask = this.#mask;
    let i = this.#hashes![pos] & mask;
    while (slots[i] !== pos + 1) i = (i + 1) & mask;
    return i;
  }

  /** Empties slot `i`, shifting back the entries of its probe run. */
  #clearSlot(i: number): void {
    const slots = this.#slots!;
    const hashes = this.#hashes!;
    const mask = this.#mask;
    let j = i;
    while (true) {
      j = (j + 1) & mask;
      const p = slots[j];
      if (p === 0) break;
      const home = hashes[p - 1] & mask;
      // Move it back unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!stays) {
        slots[i] = p;
        i = j;
      }
    }
    slots[i] = 0;
  }

  /** Removes the entry at `pos`, moving the last one into its place. */
  removeAt(pos: number): void {
    const last = this.keys.length - 1;
    const lens = this.#lens;
    if (this.#slots !== null) {
      this.#clearSlot(this.#slotOf(pos));
      if (pos !== last) {
        this.#slots[this.#slotOf(last)] = pos + 1;
        this.#hashes![pos] = this.#hashes![last];
      }
    }
    if (pos !== last) {
      this.keys[pos] = this.keys[last];
      if (lens !== null) lens[pos] = lens[last];
    }
    this.keys.pop();
    if (Array.isArray(lens)) lens.pop();
    if (this.#slots !== null) this.#shrink();
  }

  /** Removes the entry at `pos` keeping the order of the others: O(n),
   * for small tables. */
  removeOrdered(pos: number): void {
    const n = this.keys.length;
    this.keys.splice(pos, 1);
    const lens = this.#lens;
    if (Array.isArray(lens)) lens.splice(pos, 1);
    else lens?.copyWithin(pos, pos + 1, n);
    if (this.#slots === null) return;
    this.#hashes!.copyWithin(pos, pos + 1, n);
    if (!this.#shrink()) this.#rehash(this.#slots.length);
  }

  /** Gives memory back when the table became sparse; true if it rehashed. */
  #shrink(): boolean {
    const n = this.keys.length;
    const slots = this.#slots!;
    if (slots.length <= MIN_SLOTS || n * 8 >= slots.length) return false;
    if (this.#hashes!.length > 64 && n * 4 < this.#hashes!.length) {
      this.#hashes = this.#hashes!.slice(0, n * 2);
      if (this.#lens !== null) {
        this.#lens = (this.#lens as Int32Array).slice(0, n * 2);
      }
    }
    let size = MIN_SLOTS;
    while (size * 3 < n * 8) size *= 2;
    this.#rehash(size);
    return true;
  }
}

/** Positions 0..size-1 picked at random: `count` distinct ones (count <=
 * size), in O(count). */
export function distinctPicks(size: number, count: number): number[] {
  const out: number[] = [];
  if (count * 2 <= size) {
    const seen = new Set<number>();
    while (out.length < count) {
      const i = Math.floor(Math.random() * size);
      if (!seen.has(i)) {
        seen.add(i);
        out.push(i);
      }
    }
    return out;
  }
  const all = new Array<number>(size);
  for (let i = 0; i < size; i++) all[i] = i;
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (size - i));
    const t = all[i];
    all[i] = all[j];
    all[j] = t;
  }
  all.length = count;
  return all;
}

/** Compares canonical integer strings by value. */
function compareIntStrings(a: string, b: string): number {
  const na = a.charCodeAt(0) === 45, nb = b.charCodeAt(0) === 45;
  if (na !== nb) return na ? -1 : 1;
  let r = a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (na) r = -r;
  return r;
}

/** Sorts canonical integer strings by value, in place. */
export function sortIntStrings(members: string[]): string[] {
  return members.sort(compareIntStrings);
}

/** The result of one SSCAN or HSCAN step.
 *
 * @example
 * ```ts
 * import { type FieldScanStep, Store } from "@kv/store";
 * const store = new Store();
 * store.sets.sadd("s", ["apple", "avocado", "banana"]);
 * const { cursor, items }: FieldScanStep<string> = store.sets.sscan("s", 0);
 * console.log(cursor, items.sort()); // 0 ["apple", "avocado", "banana"]
 * ```
 */
export interface FieldScanStep<T> {
  /** Cursor of the next call; 0 when the iteration is complete. */
  cursor: number;
  /** What this step found. */
  items: T[];
}

/** Options of SSCAN and HSCAN.
 *
 * @example
 * ```ts
 * import { type FieldScanOptions, Store } from "@kv/store";
 * const store = new Store();
 * store.sets.sadd("s", ["apple", "avocado", "banana"]);
 * const options: FieldScanOptions = { match: "a*", count: 100 };
 * store.sets.sscan("s", 0, options).items.sort(); // ["apple", "avocado"]
 * ```
 */
export interface FieldScanOptions {
  /** Glob pattern the members (fields) must match. */
  match?: string;
  /** How many elements to look at (10 by default). */
  count?: number;
}

/**
 * One SSCAN/HSCAN step over a table of `size` elements, for the hashtable
 * encodings: positions are visited from the end down, so the swap with
 * the last element on removal never moves an unvisited element out of
 * reach. A negative cursor ends the iteration. Calls `visit` with each position; returns the next cursor.
 */
export function scanPositions(
  size: number,
  cursor: number,
  count: number,
  visit: (pos: number) => void,
): number {
  if (cursor < 0) return 0;
  let end = cursor === 0 ? size : Math.min(cursor, size);
  const stop = Math.max(0, end - count);
  while (end > stop) visit(--end);
  return stop;
}

// Small sets are one packed string, as Redis's intset is one byte array:
//
// - an intset: a width char (2, 4 or 8), then the members as fixed-width
//   big-endian integers in offset binary (the sign bit flipped), sorted, so
//   comparing chars compares values: binary search, O(1) member at a
//   position;
// - a small set of other members: a 0 char, the count, then each member
//   preceded by its length (as hashes pack fields), in insertion order.
//
// Past INT_PACK_MAX integers, or PACK_MAX_ENTRIES / PACK_MAX_CHARS for
// other members, the members move to a StringTable (BigSet).

/** Most integers a packed intset holds (a change copies the string). */
const INT_PACK_MAX = 2048;
/** Most members of other packed sets. */
const PACK_MAX_ENTRIES = 16;
/** Longest packed string of other members. */
const PACK_MAX_CHARS = 4096;
/** The empty set: an intset of width 2. */
const EMPTY_INTSET = "\x02";

const TWO32 = 4294967296;
/** Scratch: the value of the last integer {@linkcode intKey} read, and its
 * offset-binary halves at the width of the last {@linkcode keyAt}. */
let keyV: number | bigint = 0;
let keyHi = 0;
let keyLo = 0; // the whole offset value at widths 2 and 4

/** The width (2, 4 or 8) an integer member needs, or 0 when `m` is not a
 * canonical int64; keeps its value in keyV. */
function intKey(m: string): number {
  const v = parseInt64(m);
  if (v === null) return 0;
  keyV = v;
  if (typeof v === "bigint") return 8;
  return v >= -32768 && v < 32768
    ? 2
    : v >= -2147483648 && v < 2147483648
    ? 4
    : 8;
}

/** Encodes keyV at width `w` (at least the width it needs) in keyHi and
 * keyLo. */
function keyAt(w: number): void {
  const v = keyV;
  if (typeof v === "bigint") {
    keyHi = Number(BigInt.asIntN(32, v >> 32n)) + 2147483648;
    keyLo = Number(BigInt.asUintN(32, v));
  } else if (w === 2) keyLo = v + 32768;
  else if (w === 4) keyLo = v + 2147483648;
  else {
    const hi = Math.floor(v / TWO32);
    keyHi = hi + 2147483648;
    keyLo = v - hi * TWO32;
  }
}

/** The chars of the last key encoded by keyAt at width `w`. */
function keyChars(w: number): string {
  const f = String.fromCharCode;
  const lo = keyLo;
  if (w === 2) return f(lo >>> 8, lo & 255);
  if (w === 4) {
    return f(lo >>> 24, (lo >>> 16) & 255, (lo >>> 8) & 255, lo & 255);
  }
  const hi = keyHi;
  return f(
    hi >>> 24,
    (hi >>> 16) & 255,
    (hi >>> 8) & 255,
    hi & 255,
    lo >>> 24,
    (lo >>> 16) & 255,
    (lo >>> 8) & 255,
    lo & 255,
  );
}

/** The member at `pos` of a packed intset of width `w`. */
function intAt(d: string, w: number, pos: number): string {
  let i = 1 + pos * w;
  if (w === 2) {
    return String(((d.charCodeAt(i) << 8) | d.charCodeAt(i + 1)) - 32768);
  }
  const a = ((d.charCodeAt(i) << 24) | (d.charCodeAt(i + 1) << 16) |
    (d.charCodeAt(i + 2) << 8) | d.charCodeAt(i + 3)) >>> 0;
  if (w === 4) return String(a - 2147483648);
  i += 4;
  const lo = ((d.charCodeAt(i) << 24) | (d.charCodeAt(i + 1) << 16) |
    (d.charCodeAt(i + 2) << 8) | d.charCodeAt(i + 3)) >>> 0;
  const hi = a - 2147483648;
  if (hi >= -2097152 && hi < 2097152) return String(hi * TWO32 + lo);
  return String(BigInt(hi) * 4294967296n + BigInt(lo));
}

/** Binary search of the last key encoded by keyAt in a packed intset of
 * width `w`: its position, or `-1 - position` where it would go. */
function intFind(d: string, w: number): number {
  let lo = 0;
  let hi = (d.length - 1) / w;
  if (w === 2) {
    const k = keyLo;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const i = 1 + mid * 2;
      const v = (d.charCodeAt(i) << 8) | d.charCodeAt(i + 1);
      if (v === k) return mid;
      if (v < k) lo = mid + 1;
      else hi = mid;
    }
    return -1 - lo;
  }
  const kh = w === 4 ? keyLo : keyHi;
  const kl = keyLo;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    let i = 1 + mid * w;
    const a = ((d.charCodeAt(i) << 24) | (d.charCodeAt(i + 1) << 16) |
      (d.charCodeAt(i + 2) << 8) | d.charCodeAt(i + 3)) >>> 0;
    let c = a - kh;
    if (c === 0 && w === 8) {
      i += 4;
      c = (((d.charCodeAt(i) << 24) | (d.charCodeAt(i + 1) << 16) |
        (d.charCodeAt(i + 2) << 8) | d.charCodeAt(i + 3)) >>> 0) - kl;
    }
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1 - lo;
}

/** Re-encodes a packed intset at a greater width. */
function widen(d: string, w: number, to: number): string {
  const n = (d.length - 1) / w;
  const parts = new Array<string>(n + 1);
  parts[0] = String.fromCharCode(to);
  for (let p = 0; p < n; p++) {
    intKey(intAt(d, w, p));
    keyAt(to);
    parts[p + 1] = keyChars(to);
  }
  return parts.join("");
}

/** The offset of `m` in a packed set of other members, or -1; sets
 * `after` to the end of its entry. */
function packedFind(d: string, m: string): number {
  const end = d.length;
  const len = m.length;
  const last = len === 0 ? -1 : m.charCodeAt(len - 1);
  let i = 2;
  while (i < end) {
    let n = d.charCodeAt(i);
    let at = i + 1;
    if (n >= 128) {
      n = readLen(d, i);
      at = lenEnd.after;
    }
    if (
      n === len &&
      (len === 0 || (d.charCodeAt(at + len - 1) === last && sameAt(d, at, m)))
    ) {
      lenEnd.after = at + n;
      return i;
    }
    i = at + n;
  }
  return -1;
}

/** Whether `m` (its last char already compared) is at `at` in `p`,
 * compared from the end: members of one set tend to share a prefix. */
function sameAt(p: string, at: number, m: string): boolean {
  const len = m.length;
  if (len > 64) return p.startsWith(m, at);
  for (let k = len - 2; k >= 0; k--) {
    if (p.charCodeAt(at + k) !== m.charCodeAt(k)) return false;
  }
  return true;
}

/** The members of a packed set of other members, in order. */
function packedMembers(d: string): string[] {
  const out = new Array<string>(d.charCodeAt(1));
  let i = 2;
  let o = 0;
  while (i < d.length) {
    const n = readLen(d, i);
    out[o++] = d.slice(lenEnd.after, lenEnd.after + n);
    i = lenEnd.after + n;
  }
  return out;
}

/** A packed set of other members holding `members`. */
function packMembers(members: readonly string[]): string {
  const parts = new Array<string>(members.length * 2 + 1);
  parts[0] = String.fromCharCode(0, members.length);
  let o = 1;
  for (const m of members) {
    parts[o++] = lenChars(m.length);
    parts[o++] = m;
  }
  return parts.join("");
}

/** Chars a packed set of other members holding `members` takes. */
function packedChars(members: readonly string[]): number {
  let n = 2;
  for (const m of members) n += m.length + (m.length < 128 ? 1 : 3);
  return n;
}

/** A set past the packed forms: the indexed table, and whether it is
 * still an intset for Redis. */
class BigSet {
  constructor(readonly table: StringTable, public intset: boolean) {}
}

/**
 * A set value: byte strings without repeats. OBJECT ENCODING says
 * `intset` while every member is an integer in canonical form and there
 * are at most `set-max-intset-entries` of them (members come back sorted
 * then, as from Redis's intset), `hashtable` after.
 *
 * @example
 * ```ts
 * import { RedisSet } from "@kv/store";
 * const set = new RedisSet();
 * set.add("1", 512);
 * set.add("x", 512);
 * console.log(set.size, set.has("x")); // 2 true
 * ```
 */
export class RedisSet implements Container {
  // A packed string (intset, or other members) or the indexed form. One
  // field only: a small set is this object and one string.
  #d: string | BigSet = EMPTY_INTSET;

  /** The type, as TYPE names it. */
  get type(): "set" {
    return "set";
  }

  /** Number of members. */
  get size(): number {
    const d = this.#d;
    if (typeof d !== "string") return d.table.keys.length;
    const w = d.charCodeAt(0);
    return w === 0 ? d.charCodeAt(1) : (d.length - 1) / w;
  }

  /** True while the set is encoded as an intset. */
  get isIntset(): boolean {
    const d = this.#d;
    return typeof d === "string" ? d.charCodeAt(0) !== 0 : d.intset;
  }

  /** A copy that later changes to either side do not affect. */
  clone(): RedisSet {
    const s = new RedisSet();
    const d = this.#d;
    s.#d = typeof d === "string" ? d : new BigSet(d.table.clone(), d.intset);
    return s;
  }

  /** OBJECT ENCODING: `intset` or `hashtable`. */
  encoding(_limits: EncodingLimits): string {
    return this.isIntset ? "intset" : "hashtable";
  }

  /** Whether `member` is in the set. */
  has(member: string): boolean {
    const d = this.#d;
    if (typeof d !== "string") return d.table.find(member) >= 0;
    const w = d.charCodeAt(0);
    if (w === 0) return packedFind(d, member) >= 0;
    const kw = intKey(member);
    if (kw === 0 || kw > w) return false;
    keyAt(w);
    return intFind(d, w) >= 0;
  }

  /** Moves the members to the indexed form, in reply order. */
  #index(intset: boolean): BigSet {
    const table = new StringTable();
    for (const m of this.members()) table.add(m);
    const big = new BigSet(table, intset);
    this.#d = big;
    return big;
  }

  /** Adds `member`; true when it was new. `maxIntset` is
   * set-max-intset-entries, beyond which the set stays a hashtable. */
  add(member: string, maxIntset: number): boolean {
    const d = this.#d;
    if (typeof d !== "string") {
      if (d.table.add(member) < 0) return false;
      if (
        d.intset &&
        (d.table.keys.length > maxIntset || parseInt64(member) === null)
      ) d.intset = false;
      return true;
    }
    let w = d.charCodeAt(0);
    if (w === 0) {
      if (packedFind(d, member) >= 0) return false;
      const count = d.charCodeAt(1);
      if (
        count < PACK_MAX_ENTRIES &&
        d.length + member.length + 3 <= PACK_MAX_CHARS
      ) {
        this.#d = [
          String.fromCharCode(0, count + 1),
          d.slice(2),
          lenChars(member.length),
          member,
        ].join("");
        return true;
      }
      this.#index(false).table.add(member);
      return true;
    }
    const kw = intKey(member);
    const n = (d.length - 1) / w;
    if (kw !== 0) {
      if (kw <= w) {
        keyAt(w);
        if (intFind(d, w) >= 0) return false;
      }
      if (n < maxIntset) {
        if (n >= INT_PACK_MAX) {
          this.#index(true).table.add(member);
          return true;
        }
        let p = d;
        if (kw > w) {
          p = widen(d, w, kw);
          w = kw;
          intKey(member);
          keyAt(w);
        }
        const off = 1 + (-1 - intFind(p, w)) * w;
        this.#d = [p.slice(0, off), keyChars(w), p.slice(off)].join("");
        return true;
      }
    }
    // Not an intset any more.
    const members = this.members();
    members.push(member);
    if (
      members.length <= PACK_MAX_ENTRIES &&
      packedChars(members) <= PACK_MAX_CHARS
    ) {
      this.#d = packMembers(members);
      return true;
    }
    const table = new StringTable();
    for (const m of members) table.add(m);
    this.#d = new BigSet(table, false);
    return true;
  }

  /** Adds each of `members` as {@linkcode RedisSet.add} does; how many
   * were new. Many integers go into a packed intset at once (one new
   * string rather than one per member). */
  addMany(members: readonly string[], maxIntset: number): number {
    const d = this.#d;
    if (
      members.length >= 8 && typeof d === "string" && d.charCodeAt(0) !== 0
    ) {
      const merged = this.#mergeInts(d, members, maxIntset);
      if (merged >= 0) return merged;
    }
    let added = 0;
    for (const m of members) if (this.add(m, maxIntset)) added++;
    return added;
  }

  /** Merges integer `members` into packed intset `d` in one go; how many
   * were new, or -1 (nothing done) when the result would not be a packed
   * intset. */
  #mergeInts(d: string, members: readonly string[], max: number): number {
    const w = d.charCodeAt(0);
    const n = (d.length - 1) / w;
    // Every value as its 8-char offset-binary form: sorting those strings
    // sorts the values.
    const keys = new Set<string>();
    let width = w;
    for (const m of members) {
      const kw = intKey(m);
      if (kw === 0) return -1;
      if (kw > width) width = kw;
      keyAt(8);
      keys.add(keyChars(8));
    }
    for (let p = 0; p < n; p++) {
      intKey(intAt(d, w, p));
      keyAt(8);
      keys.add(keyChars(8));
    }
    const total = keys.size;
    if (total > max || total > INT_PACK_MAX) return -1;
    const sorted = Array.from(keys).sort();
    const parts = new Array<string>(total + 1);
    parts[0] = String.fromCharCode(width);
    for (let i = 0; i < total; i++) {
      const k = sorted[i];
      if (width === 8) {
        parts[i + 1] = k;
        continue;
      }
      // Small enough for 32 bits: the low half, re-offset.
      const hi = ((k.charCodeAt(0) << 24) | (k.charCodeAt(1) << 16) |
        (k.charCodeAt(2) << 8) | k.charCodeAt(3)) >>> 0;
      const lo = ((k.charCodeAt(4) << 24) | (k.charCodeAt(5) << 16) |
        (k.charCodeAt(6) << 8) | k.charCodeAt(7)) >>> 0;
      keyV = (hi - 2147483648) * TWO32 + lo;
      keyAt(width);
      parts[i + 1] = keyChars(width);
    }
    this.#d = parts.join("");
    return total - n;
  }

  /** Removes `member`; true when it was there. */
  delete(member: string): boolean {
    const d = this.#d;
    if (typeof d !== "string") {
      const pos = d.table.find(member);
      if (pos < 0) return false;
      d.table.removeAt(pos);
      return true;
    }
    const w = d.charCodeAt(0);
    if (w === 0) {
      const start = packedFind(d, member);
      if (start < 0) return false;
      this.#d = [
        String.fromCharCode(0, d.charCodeAt(1) - 1),
        d.slice(2, start),
        d.slice(lenEnd.after),
      ].join("");
      return true;
    }
    const kw = intKey(member);
    if (kw === 0 || kw > w) return false;
    keyAt(w);
    const pos = intFind(d, w);
    if (pos < 0) return false;
    this.removeAt(pos);
    return true;
  }

  /** The member at `pos` (0 <= pos < size), in storage order: O(1) but in
   * a small set of other members. */
  at(pos: number): string {
    const d = this.#d;
    if (typeof d !== "string") return d.table.keys[pos];
    const w = d.charCodeAt(0);
    if (w !== 0) return intAt(d, w, pos);
    let i = 2;
    for (let k = 0; k < pos; k++) i = readLen(d, i) + lenEnd.after;
    const n = readLen(d, i);
    return d.slice(lenEnd.after, lenEnd.after + n);
  }

  /** Removes the member at `pos` (in the indexed form the last one takes
   * its place; the packed forms keep their order). */
  removeAt(pos: number): void {
    const d = this.#d;
    if (typeof d !== "string") return d.table.removeAt(pos);
    const w = d.charCodeAt(0);
    if (w !== 0) {
      const off = 1 + pos * w;
      this.#d = d.length === 1 + w
        ? d.slice(0, 1)
        : [d.slice(0, off), d.slice(off + w)].join("");
      return;
    }
    this.delete(this.at(pos));
  }

  /** A member picked at random, or undefined when empty. */
  random(): string | undefined {
    const n = this.size;
    return n === 0 ? undefined : this.at(Math.floor(Math.random() * n));
  }

  /** The members in reply order: sorted for an intset, storage order
   * otherwise. A fresh array. */
  members(): string[] {
    const d = this.#d;
    if (typeof d !== "string") {
      const out = d.table.keys.slice();
      return d.intset ? sortIntStrings(out) : out;
    }
    const w = d.charCodeAt(0);
    if (w === 0) return packedMembers(d);
    const n = (d.length - 1) / w;
    const out = new Array<string>(n);
    for (let p = 0; p < n; p++) out[p] = intAt(d, w, p);
    return out;
  }

  /** The members in storage order; do not change it (the indexed form's
   * own array, a fresh one for the packed forms). */
  view(): readonly string[] {
    const d = this.#d;
    return typeof d === "string" ? this.members() : d.table.keys;
  }

  /** The commands that build this set again at `key`. */
  *rewrite(key: string, batch: number): Iterable<string[]> {
    const keys = this.view();
    for (let i = 0; i < keys.length; i += batch) {
      yield ["SADD", key, ...keys.slice(i, i + batch)];
    }
  }
}

/** Sets, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.sets`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.sets.sadd("s", ["a", "b", "c"]);
 * console.log(store.sets.scard("s")); // 3
 * console.log(store.sets.sismember("s", "b")); // true
 * ```
 */
export class SetOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  #read(key: string): RedisSet | undefined {
    return this.#store.readAs<RedisSet>(key, "set");
  }

  /** SADD: adds the members; how many were new. */
  sadd(key: string, members: readonly string[]): number {
    const store = this.#store;
    const set = store.writable(key, "set", () => new RedisSet())!;
    const max = store.limits.setMaxIntsetEntries;
    const added = set.addMany(members, max);
    store.written(key, set);
    store.dirty += added;
    return added;
  }

  /** SREM: removes the members; how many were there. The key goes away
   * with its last member. */
  srem(key: string, members: readonly string[]): number {
    const store = this.#store;
    const set = store.writable<RedisSet>(key, "set");
    if (set === undefined) return 0;
    let removed = 0;
    for (const m of members) {
      if (set.delete(m)) {
        removed++;
        if (set.size === 0) break;
      }
    }
    store.written(key, set);
    store.dirty += removed;
    return removed;
  }

  /** SMEMBERS: every member (sorted for an intset). */
  smembers(key: string): string[] {
    return this.#read(key)?.members() ?? [];
  }

  /** SISMEMBER. */
  sismember(key: string, member: string): boolean {
    return this.#read(key)?.has(member) ?? false;
  }

  /** SMISMEMBER: membership of each member, in order. */
  smismember(key: string, members: readonly string[]): boolean[] {
    const set = this.#read(key);
    return members.map((m) => set?.has(m) ?? false);
  }

  /** SCARD: the number of members, 0 when missing. */
  scard(key: string): number {
    return this.#read(key)?.size ?? 0;
  }

  /** SPOP without a count: removes and returns a random member. */
  spop(key: string): string | undefined {
    const store = this.#store;
    const set = store.writable<RedisSet>(key, "set");
    if (set === undefined) return undefined;
    const pos = Math.floor(Math.random() * set.size);
    const member = set.at(pos);
    set.removeAt(pos);
    store.written(key, set);
    store.dirty++;
    return member;
  }

  /** SPOP with a count: removes and returns up to `count` distinct random
   * members (all of them, in reply order, when count >= size). */
  spopCount(key: string, count: number): string[] {
    const store = this.#store;
    const set = store.writable<RedisSet>(key, "set");
    if (set === undefined || count === 0) return [];
    if (count >= set.size) {
      const all = set.members();
      store.delete(key);
      store.dirty += all.length;
      return all;
    }
    const out: string[] = [];
    for (let i = 0; i < count; i++) {
      const pos = Math.floor(Math.random() * set.size);
      out.push(set.at(pos));
      set.removeAt(pos);
    }
    store.written(key, set);
    store.dirty += count;
    return out;
  }

  /** SRANDMEMBER without a count: a random member. */
  srandmember(key: string): string | undefined {
    return this.#read(key)?.random();
  }

  /** SRANDMEMBER with a count: `count` distinct members when positive (the
   * whole set when count >= size), `-count` members that may repeat when
   * negative. */
  srandmemberCount(key: string, count: number): string[] {
    const set = this.#read(key);
    if (set === undefined || count === 0) return [];
    const out: string[] = [];
    const size = set.size;
    if (count < 0) {
      for (let i = 0; i < -count; i++) {
        out.push(set.at(Math.floor(Math.random() * size)));
      }
      return out;
    }
    if (count >= size) return set.members();
    for (const p of distinctPicks(size, count)) out.push(set.at(p));
    return out;
  }

  /** SMOVE: moves `member` from `source` to `destination`; true when it
   * was in `source`. */
  smove(source: string, destination: string, member: string): boolean {
    const store = this.#store;
    const src = store.lookupAs<RedisSet>(source, "set");
    if (src === undefined) {
      return false;
    }
    store.lookupAs<RedisSet>(destination, "set"); // WRONGTYPE first
    if (source === destination) return src.has(member);
    const from = store.writable<RedisSet>(source, "set")!;
    if (!from.delete(member)) return false;
    store.written(source, from);
    const to = store.writable(destination, "set", () => new RedisSet())!;
    to.add(member, store.limits.setMaxIntsetEntries);
    store.dirty++;
    return true;
  }

  /** The sets at `keys` (undefined for missing keys), WRONGTYPE checked
   * for every key. */
  #sets(keys: readonly string[], write: boolean): (RedisSet | undefined)[] {
    const store = this.#store;
    return keys.map((k) =>
      write
        ? store.lookupAs<RedisSet>(k, "set")
        : store.readAs<RedisSet>(k, "set")
    );
  }

  #inter(keys: readonly string[], write: boolean, limit = 0): string[] {
    const found = this.#sets(keys, write);
    if (found.some((s) => s === undefined)) return [];
    const sets = (found as RedisSet[]).slice().sort((a, b) => a.size - b.size);
    const [first, ...rest] = sets;
    const out: string[] = [];
    const members = first.isIntset ? first.members() : first.view();
    outer: for (const m of members) {
      for (const s of rest) if (s !== first && !s.has(m)) continue outer;
      out.push(m);
      if (out.length === limit) break;
    }
    return out;
  }

  #union(keys: readonly string[], write: boolean): RedisSet {
    const max = this.#store.limits.setMaxIntsetEntries;
    const out = new RedisSet();
    for (const s of this.#sets(keys, write)) {
      if (s !== undefined) { for (const m of s.view()) out.add(m, max); }
    }
    return out;
  }

  #diff(keys: readonly string[], write: boolean): RedisSet {
    const max = this.#store.limits.setMaxIntsetEntries;
    const sets = this.#sets(keys, write);
    const out = new RedisSet();
    const first = sets[0];
    if (first === undefined) return out;
    outer: for (const m of first.view()) {
      for (let i = 1; i < sets.length; i++) {
        const s = sets[i];
        if (s === first || s?.has(m)) continue outer;
      }
      out.add(m, max);
    }
    return out;
  }

  #save(destination: string, result: RedisSet): number {
    const store = this.#store;
    if (result.size === 0) {
      if (store.delete(destination)) store.dirty++;
      return 0;
    }
    store.set(destination, result);
    store.dirty++;
    return result.size;
  }

  /** SINTER: the members in every set (a missing key is an empty set). */
  sinter(keys: readonly string[]): string[] {
    return this.#inter(keys, false);
  }

  /** SINTERCARD: the size of the intersection, counting at most `limit`
   * members (0: no limit). */
  sintercard(keys: readonly string[], limit = 0): number {
    return this.#inter(keys, false, limit).length;
  }

  /** SINTERSTORE: stores the intersection at `destination` (deleting it
   * when empty); its size. */
  sinterstore(destination: string, keys: readonly string[]): number {
    const max = this.#store.limits.setMaxIntsetEntries;
    const members = this.#inter(keys, true);
    const result = new RedisSet();
    for (const m of members) result.add(m, max);
    return this.#save(destination, result);
  }

  /** SUNION: the members of any of the sets. */
  sunion(keys: readonly string[]): string[] {
    return this.#union(keys, false).members();
  }

  /** SUNIONSTORE: stores the union at `destination`; its size. */
  sunionstore(destination: string, keys: readonly string[]): number {
    return this.#save(destination, this.#union(keys, true));
  }

  /** SDIFF: the members of the first set in none of the others. */
  sdiff(keys: readonly string[]): string[] {
    return this.#diff(keys, false).members();
  }

  /** SDIFFSTORE: stores the difference at `destination`; its size. */
  sdiffstore(destination: string, keys: readonly string[]): number {
    return this.#save(destination, this.#diff(keys, true));
  }

  /** SSCAN: one step of an iteration (cursor 0 to begin). An intset comes
   * back whole, sorted, with cursor 0, as in Redis. */
  sscan(
    key: string,
    cursor: number,
    options: FieldScanOptions = {},
  ): FieldScanStep<string> {
    const set = this.#read(key);
    const items: string[] = [];
    if (set === undefined) return { cursor: 0, items };
    const match = options.match === "*" ? undefined : options.match;
    if (set.isIntset) {
      for (const m of set.members()) {
        if (match === undefined || globMatch(match, m)) items.push(m);
      }
      return { cursor: 0, items };
    }
    const next = scanPositions(set.size, cursor, options.count ?? 10, (p) => {
      const m = set.at(p);
      if (match === undefined || globMatch(match, m)) items.push(m);
    });
    return { cursor: next, items };
  }
}
