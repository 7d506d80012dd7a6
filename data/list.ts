// Lists: a deque of chunks, as Redis's quicklist of listpacks.
//
// A list is a ring of chunks of up to CHUNK elements. The chunk at each
// end is a plain array, so pushes and pops are O(1): a full end chunk is
// packed when the next one starts, and a packed one is split in halves
// when popped from, so packing and unpacking cost O(1) per push or pop
// amortized. The other chunks are packed into one byte string each (a
// count, then each element's entry: its length and bytes, or a small
// integer in 1-4 bytes), which costs about one byte per element on top of
// its data instead of a pointer and a string header. A packed chunk is
// read in place (LINDEX, LRANGE, LPOS, LREM compare without copying) and
// turned back into an array only when it is changed. A small list (one
// chunk of up to SMALL_BYTES) stays packed and is changed by rebuilding its
// string, as a listpack is.

import { type Store, StoreError } from "../store.ts";
import type { Container, EncodingLimits } from "../store.ts";

/** Elements per chunk. */
const CHUNK = 128;
const HALF = CHUNK / 2;
/** Chunks whose elements total more bytes than this stay arrays: big
 * elements gain nothing from packing and would be copied. */
const PACK_MAX = 32 * 1024;
/** A list of one chunk that packs into at most this many bytes is kept
 * packed even at its ends, and changed by rebuilding that string (as a
 * listpack is): O(bytes) per change, small lists cost little more than
 * their bytes. */
const SMALL_BYTES = 1024;
/** A single-chunk list that grew out of that and shrinks by pops is packed
 * again at this many elements (and half the bytes): the gap keeps pushes
 * and pops around one size from packing and unpacking every time. */
const SMALL_REPACK = 16;

const ERR_INDEX = "ERR index out of range";
const ERR_RANK =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const ERR_COUNT = "ERR COUNT can't be negative";
const ERR_MAXLEN = "ERR MAXLEN can't be negative";
const ERR_POSITIVE = "ERR value is out of range, must be positive";

type Chunk = string | string[];

const fromCharCode = String.fromCharCode;

// A packed chunk is one byte string: the element count, then one entry per
// element. An entry is a string (a length header, then the bytes) or, for
// a decimal integer from 0 to 2^32-1 written canonically, its value in 1 to
// 4 bytes (as listpack keeps integers), which turns back into the same
// text. Every value has exactly one entry, so entries compare as values.
//
// Header bytes: 0-239 a string of that length; 240-243 an integer of 1-4
// bytes; 254 a string with a 2-byte length; 255 a 4-byte length.
const INT1 = 240;
const STR2 = 254;
const STR4 = 255;

/** One-char headers, for strings shorter than INT1. */
const SHORT_HEADERS: string[] = [];
for (let i = 0; i < INT1; i++) SHORT_HEADERS.push(fromCharCode(i));

function header(len: number): string {
  if (len < INT1) return SHORT_HEADERS[len];
  if (len < 65536) return fromCharCode(STR2, len >>> 8, len & 255);
  return fromCharCode(
    STR4,
    len >>> 24,
    (len >>> 16) & 255,
    (len >>> 8) & 255,
    len & 255,
  );
}

/** The value of `v` when it is a canonical decimal integer in 0..2^32-1
 * (no sign, no leading zero), else -1. */
function uintValue(v: string): number {
  const len = v.length;
  if (len === 0 || len > 10) return -1;
  let c = v.charCodeAt(0) - 48;
  if (c < 0 || c > 9 || (c === 0 && len > 1)) return -1;
  let n = c;
  for (let i = 1; i < len; i++) {
    c = v.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n <= 4294967295 ? n : -1;
}

/** The entry of an integer value. */
function intEntry(n: number): string {
  if (n < 256) return fromCharCode(INT1, n);
  if (n < 65536) return fromCharCode(INT1 + 1, n >>> 8, n & 255);
  if (n < 16777216) {
    return fromCharCode(INT1 + 2, n >>> 16, (n >>> 8) & 255, n & 255);
  }
  return fromCharCode(
    INT1 + 3,
    n >>> 24,
    (n >>> 16) & 255,
    (n >>> 8) & 255,
    n & 255,
  );
}

/** The entry of `v`, as it is packed (for comparisons). */
function entryOf(v: string): string {
  const n = uintValue(v);
  return n >= 0 ? intEntry(n) : header(v.length) + v;
}

// What `readAt` found (module-level: no tuple per entry): an integer
// (`intValue`) or a string whose bytes start at `dataAt`.
let isInt = false;
let intValue = 0;
let dataAt = 0;

/** Reads the entry at `i` of a packed chunk; returns where it ends. */
function readAt(p: string, i: number): number {
  const b = p.charCodeAt(i);
  if (b < INT1) {
    isInt = false;
    dataAt = i + 1;
    return dataAt + b;
  }
  switch (b) {
    case INT1:
      isInt = true;
      intValue = p.charCodeAt(i + 1);
      return i + 2;
    case INT1 + 1:
      isInt = true;
      intValue = (p.charCodeAt(i + 1) << 8) | p.charCodeAt(i + 2);
      return i + 3;
    case INT1 + 2:
      isInt = true;
      intValue = (p.charCodeAt(i + 1) << 16) | (p.charCodeAt(i + 2) << 8) |
        p.charCodeAt(i + 3);
      return i + 4;
    case INT1 + 3:
      isInt = true;
      intValue = p.charCodeAt(i + 1) * 16777216 +
        ((p.charCodeAt(i + 2) << 16) | (p.charCodeAt(i + 3) << 8) |
          p.charCodeAt(i + 4));
      return i + 5;
    case STR2:
      isInt = false;
      dataAt = i + 3;
      return dataAt + ((p.charCodeAt(i + 1) << 8) | p.charCodeAt(i + 2));
    default:
      isInt = false;
      dataAt = i + 5;
      return dataAt + p.charCodeAt(i + 1) * 16777216 +
        ((p.charCodeAt(i + 2) << 16) | (p.charCodeAt(i + 3) << 8) |
          p.charCodeAt(i + 4));
  }
}

/** The value of the entry read last, which ends at `end`. */
function valueRead(p: string, end: number): string {
  return isInt ? String(intValue) : p.slice(dataAt, end);
}

/** Where the entries of the packed chunk laid out last begin and end
 * (chunks never hold more than 255 elements). */
const starts = new Int32Array(256);
const ends = new Int32Array(256);

/** Fills `starts` and `ends` for a packed chunk; its element count. */
function layout(p: string): number {
  const n = p.charCodeAt(0);
  let pos = 1;
  for (let j = 0; j < n; j++) {
    starts[j] = pos;
    pos = ends[j] = readAt(p, pos);
  }
  return n;
}

/** Whether entry `j` of the packed chunk laid out last is `entry`. */
function packedEquals(p: string, j: number, entry: string): boolean {
  return ends[j] - starts[j] === entry.length && p.startsWith(entry, starts[j]);
}

function countOf(c: Chunk): number {
  return typeof c === "string" ? c.charCodeAt(0) : c.length;
}

/** A chunk packed into one string, or the array itself when its elements
 * are too big to gain from it. */
function pack(a: string[]): Chunk {
  const n = a.length;
  let total = 0;
  for (let j = 0; j < n; j++) total += a[j].length;
  if (total > PACK_MAX) return a;
  const parts = new Array<string>(2 * n + 1);
  parts[0] = fromCharCode(n);
  for (let j = 0; j < n; j++) {
    const v = a[j];
    const int = uintValue(v);
    if (int >= 0) {
      parts[2 * j + 1] = intEntry(int);
      parts[2 * j + 2] = "";
    } else {
      parts[2 * j + 1] = header(v.length);
      parts[2 * j + 2] = v;
    }
  }
  return parts.join("");
}

/** The elements of a chunk as a new array. */
function unpack(c: Chunk): string[] {
  if (typeof c !== "string") return c;
  const n = c.charCodeAt(0);
  const out = new Array<string>(n);
  let pos = 1;
  for (let j = 0; j < n; j++) {
    pos = readAt(c, pos);
    out[j] = valueRead(c, pos);
  }
  return out;
}

/** Element `k` of a packed chunk. */
function nth(p: string, k: number): string {
  let pos = 1;
  for (let j = 0; j < k; j++) pos = readAt(p, pos);
  return valueRead(p, readAt(p, pos));
}

/** A flat string of the three parts (a packed chunk rebuilt). */
function flat(a: string, b: string, c: string): string {
  return [a, b, c].join("");
}

/** The elements [from, to) of a packed chunk, packed (1 <= to - from). */
function packedSlice(p: string, from: number, to: number): string {
  layout(p);
  return flat(fromCharCode(to - from), p.slice(starts[from], ends[to - 1]), "");
}

// Set by List's #locate: the position within the chunk it found.
let located = 0;

/** Makes an empty list (for Store.writable). */
const newList = () => new List();

/**
 * A list value: a deque of chunks of up to 128 elements, as Redis's
 * quicklist. Pushes and pops at both ends are O(1), access by index
 * O(n/128), and the chunks away from the ends are packed into one string
 * each, so an element costs little more than its bytes.
 *
 * @example
 * ```ts
 * import { List } from "@kv/store";
 * const list = new List();
 * list.pushRight("b");
 * list.pushLeft("a");
 * console.log([...list.values()]); // ["a", "b"]
 * ```
 */
export class List implements Container {
  // A ring of chunks: chunk i is at #ring[(#head + i) & (#ring.length - 1)].
  // A list of at most one chunk (most lists) has no ring: #solo holds it.
  #ring: (Chunk | undefined)[] | null = null;
  #solo: Chunk | undefined = undefined;
  #head = 0;
  #chunks = 0;
  #size = 0;

  /** Creates an empty list, or one holding `elements` in order. */
  constructor(elements?: Iterable<string>) {
    if (elements !== undefined) { for (const e of elements) this.pushRight(e); }
  }

  /** Always `list`. */
  get type(): "list" {
    return "list";
  }

  /** Number of elements. */
  get size(): number {
    return this.#size;
  }

  /** An independent copy (packed chunks are immutable and shared). */
  clone(): List {
    const copy = new List();
    if (this.#ring === null) {
      const c = this.#solo;
      copy.#solo = typeof c === "object" ? c.slice() : c;
    } else {
      const ring = new Array<Chunk | undefined>(this.#ring.length);
      for (let i = 0; i < this.#chunks; i++) {
        const c = this.#at(i);
        ring[i] = typeof c === "string" ? c : c.slice();
      }
      copy.#ring = ring;
    }
    copy.#chunks = this.#chunks;
    copy.#size = this.#size;
    return copy;
  }

  /** OBJECT ENCODING: `quicklist`, whatever the size, as Redis 7.0. */
  encoding(_limits: EncodingLimits): string {
    return "quicklist";
  }

  /** RPUSH commands of at most `batch` elements that build the list. */
  *rewrite(key: string, batch: number): Iterable<string[]> {
    let cmd: string[] = ["RPUSH", key];
    for (const v of this.values()) {
      cmd.push(v);
      if (cmd.length - 2 >= batch) {
        yield cmd;
        cmd = ["RPUSH", key];
      }
    }
    if (cmd.length > 2) yield cmd;
  }

  /** The elements from head to tail. */
  *values(): IterableIterator<string> {
    for (let i = 0; i < this.#chunks; i++) {
      const c = this.#at(i);
      if (typeof c !== "string") {
        // A copy: the chunk may change while the caller iterates.
        yield* c.slice();
        continue;
      }
      const n = c.charCodeAt(0);
      let pos = 1;
      for (let j = 0; j < n; j++) {
        pos = readAt(c, pos);
        yield valueRead(c, pos);
      }
    }
  }

  // --- The ring of chunks.

  #at(i: number): Chunk {
    const ring = this.#ring;
    if (ring === null) return this.#solo!;
    return ring[(this.#head + i) & (ring.length - 1)]!;
  }

  #put(i: number, c: Chunk | undefined): void {
    const ring = this.#ring;
    if (ring === null) this.#solo = c;
    else ring[(this.#head + i) & (ring.length - 1)] = c;
  }

  /** Copies the chunks into a new ring of `capacity` (a power of two, at
   * least 2). */
  #resize(capacity: number): void {
    const ring = new Array<Chunk | undefined>(capacity);
    for (let i = 0; i < this.#chunks; i++) ring[i] = this.#at(i);
    this.#ring = ring;
    this.#solo = undefined;
    this.#head = 0;
  }

  /** Room for one more chunk. */
  #grow(): void {
    const n = this.#chunks;
    if (this.#ring === null ? n === 1 : n === this.#ring.length) {
      this.#resize(Math.max(2, n * 2));
    }
  }

  #addLast(c: Chunk): void {
    this.#grow();
    this.#put(this.#chunks++, c);
    this.#packAt(this.#chunks - 2);
  }

  #addFirst(c: Chunk): void {
    this.#grow();
    const ring = this.#ring;
    if (ring === null) this.#solo = c;
    else {
      this.#head = (this.#head - 1) & (ring.length - 1);
      ring[this.#head] = c;
    }
    this.#chunks++;
    this.#packAt(1);
  }

  #removeLast(): void {
    this.#put(this.#chunks - 1, undefined);
    this.#chunks--;
    this.#shrink();
  }

  #removeFirst(): void {
    const ring = this.#ring;
    if (ring === null) this.#solo = undefined;
    else {
      ring[this.#head] = undefined;
      this.#head = (this.#head + 1) & (ring.length - 1);
    }
    this.#chunks--;
    this.#shrink();
  }

  #shrink(): void {
    const ring = this.#ring;
    if (ring === null) return;
    const cap = ring.length;
    if (this.#chunks <= 1) {
      // Back to no ring.
      this.#solo = this.#chunks === 1 ? this.#at(0) : undefined;
      this.#ring = null;
      this.#head = 0;
    } else if (cap > 8 && this.#chunks < cap / 4) this.#resize(cap / 2);
  }

  /** Replaces every chunk (after LREM, LINSERT, LTRIM). */
  #replace(chunks: Chunk[]): void {
    let size = 0;
    for (let i = 0; i < chunks.length; i++) size += countOf(chunks[i]);
    this.#head = 0;
    this.#chunks = chunks.length;
    this.#size = size;
    if (chunks.length <= 1) {
      this.#ring = null;
      this.#solo = chunks[0];
      return;
    }
    let cap = 2;
    while (cap < chunks.length) cap *= 2;
    const ring = new Array<Chunk | undefined>(cap);
    for (let i = 0; i < chunks.length; i++) ring[i] = chunks[i];
    this.#ring = ring;
    this.#solo = undefined;
    for (let i = 1; i < chunks.length - 1; i++) this.#settle(i);
  }

  /** Packs chunk `i` if it is an array away from both ends. */
  #settle(i: number): void {
    if (i >= 1 && i < this.#chunks - 1) this.#packAt(i);
  }

  /** Packs chunk `i` if it is an array (and small enough to gain). */
  #packAt(i: number): void {
    const c = this.#at(i);
    if (typeof c !== "string") this.#put(i, pack(c));
  }

  /**
   * End chunk `i` (the first when `left`, else the last) as an array to pop
   * from. A packed one of more than half a chunk is split: the inner half
   * is packed again and the outer half becomes the array, so at least half
   * a chunk of pops and of pushes follow before a chunk is packed or
   * unpacked again.
   */
  #end(i: number, left: boolean): string[] {
    const c = this.#at(i);
    if (typeof c !== "string") return c;
    const a = unpack(c);
    const n = a.length;
    if (n <= HALF) {
      this.#put(i, a);
      return a;
    }
    if (left) {
      const outer = a.slice(0, HALF);
      this.#put(0, pack(a.slice(HALF)));
      this.#addFirst(outer);
      return outer;
    }
    const outer = a.slice(n - HALF);
    this.#put(i, pack(a.slice(0, n - HALF)));
    this.#addLast(outer);
    return outer;
  }

  /** Chunk `i` as an array, unpacked in place if it was packed. */
  #open(i: number): string[] {
    const c = this.#at(i);
    if (typeof c !== "string") return c;
    const a = unpack(c);
    this.#put(i, a);
    return a;
  }

  /** The chunk holding element `index` (0 <= index < size), walking from
   * the nearer end; sets `located` to its position in the chunk. */
  #locate(index: number): number {
    if (index < this.#size / 2) {
      for (let i = 0;; i++) {
        const n = countOf(this.#at(i));
        if (index < n) {
          located = index;
          return i;
        }
        index -= n;
      }
    }
    let rest = this.#size - 1 - index;
    for (let i = this.#chunks - 1;; i--) {
      const n = countOf(this.#at(i));
      if (rest < n) {
        located = n - 1 - rest;
        return i;
      }
      rest -= n;
    }
  }

  // --- Operations.

  /** Adds `v` at the tail. */
  pushRight(v: string): void {
    const last = this.#chunks - 1;
    if (last >= 0) {
      const c = this.#at(last);
      const n = countOf(c);
      if (n < CHUNK) {
        if (typeof c === "string" && last === 0) {
          const e = entryOf(v);
          if (c.length + e.length <= SMALL_BYTES) {
            this.#put(0, flat(fromCharCode(n + 1), c.slice(1), e));
            this.#size++;
            return;
          }
        }
        this.#open(last).push(v);
        this.#size++;
        return;
      }
    }
    this.#addLast(this.#chunks === 0 ? List.#first(v) : [v]);
    this.#size++;
  }

  /** Adds `v` at the head. */
  pushLeft(v: string): void {
    if (this.#chunks > 0) {
      const c = this.#at(0);
      const n = countOf(c);
      if (n < CHUNK) {
        if (typeof c === "string" && this.#chunks === 1) {
          const e = entryOf(v);
          if (c.length + e.length <= SMALL_BYTES) {
            this.#put(0, flat(fromCharCode(n + 1), e, c.slice(1)));
            this.#size++;
            return;
          }
        }
        this.#open(0).unshift(v);
        this.#size++;
        return;
      }
    }
    this.#addFirst(this.#chunks === 0 ? List.#first(v) : [v]);
    this.#size++;
  }

  /** The chunk of a list's first element: packed when small. */
  static #first(v: string): Chunk {
    if (v.length > SMALL_BYTES - 8) return [v];
    return flat(SHORT_HEADERS[1], entryOf(v), "");
  }

  /** Packs the only chunk of the list when it is an array of at most
   * `count` elements that packs into at most `bytes`. */
  #packSmall(count: number, bytes: number): void {
    if (this.#chunks !== 1) return;
    const c = this.#at(0);
    if (typeof c === "string" || c.length > count) return;
    let total = 1;
    for (let j = 0; j < c.length; j++) {
      total += c[j].length + 1;
      if (total > bytes) return;
    }
    this.#put(0, pack(c));
  }

  /** Removes and returns the tail element. */
  popRight(): string | undefined {
    const last = this.#chunks - 1;
    if (last < 0) return undefined;
    const c = this.#at(last);
    let v: string;
    if (typeof c === "string" && last === 0 && c.length <= SMALL_BYTES) {
      const n = layout(c);
      const at = starts[n - 1];
      v = valueRead(c, readAt(c, at));
      if (n === 1) this.#removeLast();
      else this.#put(0, flat(fromCharCode(n - 1), c.slice(1, at), ""));
    } else {
      const a = this.#end(last, false);
      v = a.pop()!;
      if (a.length === 0) this.#removeLast();
      else if (last === 0 && a.length <= SMALL_REPACK) {
        this.#packSmall(SMALL_REPACK, SMALL_BYTES / 2);
      }
    }
    this.#size--;
    return v;
  }

  /** Removes and returns the head element. */
  popLeft(): string | undefined {
    if (this.#chunks === 0) return undefined;
    const c = this.#at(0);
    let v: string;
    if (
      typeof c === "string" && this.#chunks === 1 && c.length <= SMALL_BYTES
    ) {
      const n = c.charCodeAt(0);
      const end = readAt(c, 1);
      v = valueRead(c, end);
      if (n === 1) this.#removeFirst();
      else this.#put(0, flat(fromCharCode(n - 1), c.slice(end), ""));
    } else {
      const a = this.#end(0, true);
      v = a.shift()!;
      if (a.length === 0) this.#removeFirst();
      else if (this.#chunks === 1 && a.length <= SMALL_REPACK) {
        this.#packSmall(SMALL_REPACK, SMALL_BYTES / 2);
      }
    }
    this.#size--;
    return v;
  }

  /** The element at `index` (0-based from the head; negative counts from
   * the tail), or undefined when out of range. */
  at(index: number): string | undefined {
    if (index < 0) index += this.#size;
    if (index < 0 || index >= this.#size) return undefined;
    const c = this.#at(this.#locate(index));
    return typeof c === "string" ? nth(c, located) : c[located];
  }

  /** Replaces the element at `index` (negative counts from the tail);
   * false when out of range. */
  set(index: number, v: string): boolean {
    if (index < 0) index += this.#size;
    if (index < 0 || index >= this.#size) return false;
    const i = this.#locate(index);
    this.#open(i)[located] = v;
    this.#settle(i);
    this.#packSmall(CHUNK, SMALL_BYTES);
    return true;
  }

  /** Up to `count` elements from `start` (0 <= start < size), in order. */
  range(start: number, count: number): string[] {
    count = Math.min(count, this.#size - start);
    const out = new Array<string>(count);
    if (count <= 0) return out;
    let i = this.#locate(start);
    let off = located;
    let k = 0;
    for (; k < count; i++, off = 0) {
      const c = this.#at(i);
      if (typeof c !== "string") {
        for (let j = off; j < c.length && k < count; j++) out[k++] = c[j];
        continue;
      }
      const n = c.charCodeAt(0);
      let pos = 1;
      for (let j = 0; j < off; j++) pos = readAt(c, pos);
      for (let j = off; j < n && k < count; j++) {
        pos = readAt(c, pos);
        out[k++] = valueRead(c, pos);
      }
    }
    return out;
  }

  /** Position of the first chunk element equal to `v`, whose packed
   * entry is `entry` (from the tail when `backward`), or -1. */
  static #find(c: Chunk, v: string, entry: string, backward: boolean): number {
    if (typeof c !== "string") {
      return backward ? c.lastIndexOf(v) : c.indexOf(v);
    }
    const n = layout(c);
    if (backward) {
      for (let j = n - 1; j >= 0; j--) if (packedEquals(c, j, entry)) return j;
    } else {
      for (let j = 0; j < n; j++) if (packedEquals(c, j, entry)) return j;
    }
    return -1;
  }

  /** Inserts `v` before (or `after`) the first element equal to `pivot`;
   * false when there is none. */
  insert(pivot: string, v: string, after: boolean): boolean {
    const entry = entryOf(pivot);
    for (let i = 0; i < this.#chunks; i++) {
      const j = List.#find(this.#at(i), pivot, entry, false);
      if (j === -1) continue;
      const a = this.#open(i);
      a.splice(after ? j + 1 : j, 0, v);
      this.#size++;
      if (a.length <= CHUNK) {
        this.#settle(i);
        this.#packSmall(CHUNK, SMALL_BYTES);
        return true;
      }
      // Split the full chunk in two.
      const chunks: Chunk[] = [];
      for (let k = 0; k < this.#chunks; k++) {
        if (k !== i) chunks.push(this.#at(k));
        else chunks.push(a.slice(0, a.length >> 1), a.slice(a.length >> 1));
      }
      this.#replace(chunks);
      return true;
    }
    return false;
  }

  /** Removes elements equal to `v`: the first `count` from the head
   * (count > 0), the last -count from the tail (count < 0), or all (0).
   * Returns how many were removed. */
  remove(count: number, v: string): number {
    const backward = count < 0;
    let left = backward ? -count : count === 0 ? Infinity : count;
    const n = this.#chunks;
    let removed = 0;
    let changed = false;
    const chunks = new Array<Chunk>(n);
    const entry = entryOf(v);
    for (let step = 0; step < n; step++) {
      const i = backward ? n - 1 - step : step;
      const c = this.#at(i);
      chunks[i] = c;
      if (left === 0 || List.#find(c, v, entry, backward) === -1) continue;
      const a = unpack(c);
      const kept: string[] = [];
      if (backward) {
        for (let j = a.length - 1; j >= 0; j--) {
          if (left > 0 && a[j] === v) {
            left--;
            removed++;
          } else kept.push(a[j]);
        }
        kept.reverse();
      } else {
        for (let j = 0; j < a.length; j++) {
          if (left > 0 && a[j] === v) {
            left--;
            removed++;
          } else kept.push(a[j]);
        }
      }
      chunks[i] = kept;
      changed = true;
    }
    if (!changed) return 0;
    // Drop empty chunks; merge small neighbours.
    const out: Chunk[] = [];
    for (const c of chunks) {
      const k = countOf(c);
      if (k === 0) continue;
      const prev = out.length > 0 ? out[out.length - 1] : undefined;
      if (
        prev !== undefined &&
        (typeof prev !== "string" || typeof c !== "string") &&
        countOf(prev) + k <= CHUNK
      ) {
        out[out.length - 1] = unpack(prev).concat(unpack(c));
      } else out.push(c);
    }
    this.#replace(out);
    this.#packSmall(CHUNK, SMALL_BYTES);
    return removed;
  }

  /** Keeps only the elements from `start` to `stop` inclusive (0 <= start
   * <= stop < size); returns how many were removed. */
  trim(start: number, stop: number): number {
    const before = this.#size;
    if (this.#chunks === 1) {
      const c = this.#at(0);
      if (typeof c === "string") {
        this.#put(0, packedSlice(c, start, stop + 1));
        this.#size = stop - start + 1;
        return before - this.#size;
      }
    }
    let drop = start;
    while (drop > 0) {
      const n = countOf(this.#at(0));
      if (n <= drop) {
        this.#removeFirst();
        this.#size -= n;
        drop -= n;
      } else {
        const c = this.#at(0);
        if (typeof c === "string") this.#put(0, packedSlice(c, drop, n));
        else c.splice(0, drop);
        this.#size -= drop;
        drop = 0;
      }
    }
    drop = before - 1 - stop;
    while (drop > 0) {
      const last = this.#chunks - 1;
      const n = countOf(this.#at(last));
      if (n <= drop) {
        this.#removeLast();
        this.#size -= n;
        drop -= n;
      } else {
        const c = this.#at(last);
        if (typeof c === "string") {
          this.#put(last, packedSlice(c, 0, n - drop));
        } else c.length = n - drop;
        this.#size -= drop;
        drop = 0;
      }
    }
    this.#packSmall(CHUNK, SMALL_BYTES);
    return before - this.#size;
  }

  /** Clears the list. */
  clear(): void {
    this.#ring = null;
    this.#solo = undefined;
    this.#head = this.#chunks = this.#size = 0;
  }

  /**
   * LPOS: positions of elements equal to `v`. Starts at the `rank`-th
   * match (negative: counting from the tail), returns up to `count` of
   * them (0: all), looking at no more than `maxlen` elements (0: all).
   */
  positions(v: string, rank: number, count: number, maxlen: number): number[] {
    const out: number[] = [];
    const backward = rank < 0;
    let skip = (backward ? -rank : rank) - 1;
    const limit = maxlen === 0 ? this.#size : Math.min(maxlen, this.#size);
    const want = count === 0 ? Infinity : count;
    let seen = 0;
    const n = this.#chunks;
    const entry = entryOf(v);
    for (let step = 0; step < n && seen < limit; step++) {
      const i = backward ? n - 1 - step : step;
      const c = this.#at(i);
      const k = countOf(c);
      const base = backward ? this.#size - seen - 1 : seen;
      if (typeof c !== "string") {
        for (let s = 0; s < k && seen < limit; s++, seen++) {
          if (c[backward ? k - 1 - s : s] !== v) continue;
          if (skip > 0) skip--;
          else {
            out.push(backward ? base - s : base + s);
            if (out.length >= want) return out;
          }
        }
        continue;
      }
      layout(c);
      for (let s = 0; s < k && seen < limit; s++, seen++) {
        if (!packedEquals(c, backward ? k - 1 - s : s, entry)) continue;
        if (skip > 0) skip--;
        else {
          out.push(backward ? base - s : base + s);
          if (out.length >= want) return out;
        }
      }
    }
    return out;
  }
}

/** Validates a count argument of the ops (what the commands check). */
function checkCount(n: number, message: string): void {
  if (!(n >= 0)) throw new StoreError(message);
}

/** Lists, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.lists`). They read and
 * count changes as Redis does, delete a list that becomes empty, and throw
 * {@linkcode StoreError} with Redis's texts (WRONGTYPE, `ERR no such key`,
 * `ERR index out of range`, ...).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.lists.rpush("queue", ["a", "b", "c"]); // 3
 * store.lists.lpop("queue"); // "a"
 * store.lists.lrange("queue", 0, -1); // ["b", "c"]
 * ```
 */
export class ListOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  /**
   * The one place where elements are added to a list (LPUSH, RPUSH, their
   * X forms, and the destination of LMOVE and RPOPLPUSH): a list that gets
   * elements here is where blocked clients will be woken. Returns the new
   * length; 0 when the key is missing and `create` is false.
   */
  #push(
    key: string,
    elements: readonly string[],
    left: boolean,
    create: boolean,
  ): number {
    const store = this.#store;
    const list = store.writable<List>(
      key,
      "list",
      create ? newList : undefined,
    );
    if (list === undefined) return 0;
    if (left) { for (const e of elements) list.pushLeft(e); }
    else for (const e of elements) list.pushRight(e);
    store.dirty += elements.length;
    store.written(key, list);
    return list.size;
  }

  /** LPUSH: adds the elements at the head, one after the other (so the
   * last comes first); the new length. */
  lpush(key: string, elements: readonly string[]): number {
    return this.#push(key, elements, true, true);
  }

  /** RPUSH: adds the elements at the tail; the new length. */
  rpush(key: string, elements: readonly string[]): number {
    return this.#push(key, elements, false, true);
  }

  /** LPUSHX: LPUSH only when the list exists; 0 when it does not. */
  lpushx(key: string, elements: readonly string[]): number {
    return this.#push(key, elements, true, false);
  }

  /** RPUSHX: RPUSH only when the list exists; 0 when it does not. */
  rpushx(key: string, elements: readonly string[]): number {
    return this.#push(key, elements, false, false);
  }

  /** LPOP: removes and returns the head element, or undefined when the
   * key is missing. */
  lpop(key: string): string | undefined;
  /** LPOP with a count: up to `count` elements from the head; undefined
   * when the key is missing (an empty array for count 0). */
  lpop(key: string, count: number): string[] | undefined;
  lpop(key: string, count?: number): string | string[] | undefined {
    return this.#pop(key, true, count);
  }

  /** RPOP: removes and returns the tail element, or undefined when the
   * key is missing. */
  rpop(key: string): string | undefined;
  /** RPOP with a count: up to `count` elements from the tail; undefined
   * when the key is missing (an empty array for count 0). */
  rpop(key: string, count: number): string[] | undefined;
  rpop(key: string, count?: number): string | string[] | undefined {
    return this.#pop(key, false, count);
  }

  #pop(
    key: string,
    left: boolean,
    count: number | undefined,
  ): string | string[] | undefined {
    if (count !== undefined) checkCount(count, ERR_POSITIVE);
    const store = this.#store;
    if (store.lookupAs<List>(key, "list") === undefined) return undefined;
    if (count === 0) return [];
    const list = store.writable<List>(key, "list")!;
    if (count === undefined) {
      const v = left ? list.popLeft() : list.popRight();
      store.dirty++;
      store.written(key, list);
      return v;
    }
    const n = Math.min(count, list.size);
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      out[i] = (left ? list.popLeft() : list.popRight())!;
    }
    store.dirty += n;
    store.written(key, list);
    return out;
  }

  /** LLEN: the length, 0 when the key is missing. */
  llen(key: string): number {
    return this.#store.readAs<List>(key, "list")?.size ?? 0;
  }

  /** LINDEX: the element at `index` (negative counts from the tail), or
   * undefined. */
  lindex(key: string, index: number): string | undefined {
    return this.#store.readAs<List>(key, "list")?.at(index);
  }

  /** LSET: replaces the element at `index`. Throws `ERR no such key` and
   * `ERR index out of range`. */
  lset(key: string, index: number, element: string): void {
    const store = this.#store;
    if (store.lookupAs<List>(key, "list") === undefined) {
      throw new StoreError("ERR no such key");
    }
    const list = store.writable<List>(key, "list")!;
    if (!list.set(index, element)) throw new StoreError(ERR_INDEX);
    store.dirty++;
  }

  /** LINSERT: inserts `element` before or after the first `pivot`; the
   * new length, -1 when there is no pivot, 0 when the key is missing. */
  linsert(
    key: string,
    where: "BEFORE" | "AFTER",
    pivot: string,
    element: string,
  ): number {
    const store = this.#store;
    if (store.lookupAs<List>(key, "list") === undefined) return 0;
    const list = store.writable<List>(key, "list")!;
    if (!list.insert(pivot, element, where === "AFTER")) return -1;
    store.dirty++;
    return list.size;
  }

  /** LRANGE: the elements from `start` to `stop` inclusive (negative
   * offsets count from the tail). */
  lrange(key: string, start: number, stop: number): string[] {
    const list = this.#store.readAs<List>(key, "list");
    if (list === undefined) return [];
    const len = list.size;
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    if (start > stop || start >= len) return [];
    if (stop >= len) stop = len - 1;
    return list.range(start, stop - start + 1);
  }

  /** LREM: removes the first `count` elements equal to `element` (from
   * the tail when negative, all when 0); how many were removed. */
  lrem(key: string, count: number, element: string): number {
    const store = this.#store;
    if (store.lookupAs<List>(key, "list") === undefined) return 0;
    const list = store.writable<List>(key, "list")!;
    const removed = list.remove(count, element);
    store.dirty += removed;
    store.written(key, list);
    return removed;
  }

  /** LTRIM: keeps only the elements from `start` to `stop` inclusive
   * (negative offsets count from the tail); an empty range deletes the
   * key. */
  ltrim(key: string, start: number, stop: number): void {
    const store = this.#store;
    if (store.lookupAs<List>(key, "list") === undefined) return;
    const list = store.writable<List>(key, "list")!;
    const len = list.size;
    if (start < 0) start += len;
    if (stop < 0) stop += len;
    if (start < 0) start = 0;
    if (start > stop || start >= len) {
      list.clear();
      store.dirty += len;
    } else {
      if (stop >= len) stop = len - 1;
      store.dirty += list.trim(start, stop);
    }
    store.written(key, list);
  }

  /**
   * LPOS: the index of the first element equal to `element`, or undefined;
   * `rank` starts from the rank-th match (negative: from the tail), and
   * `maxlen` compares at most that many elements (0: all).
   */
  lpos(
    key: string,
    element: string,
    options?: { rank?: number; maxlen?: number },
  ): number | undefined;
  /** LPOS with COUNT: the indexes of up to `count` matches (0: all). */
  lpos(
    key: string,
    element: string,
    options: { rank?: number; count: number; maxlen?: number },
  ): number[];
  lpos(
    key: string,
    element: string,
    options: { rank?: number; count?: number; maxlen?: number } = {},
  ): number | number[] | undefined {
    const rank = options.rank ?? 1;
    const maxlen = options.maxlen ?? 0;
    if (rank === 0) throw new StoreError(ERR_RANK);
    if (options.count !== undefined) checkCount(options.count, ERR_COUNT);
    checkCount(maxlen, ERR_MAXLEN);
    const list = this.#store.readAs<List>(key, "list");
    if (options.count !== undefined) {
      return list?.positions(element, rank, options.count, maxlen) ?? [];
    }
    return list?.positions(element, rank, 1, maxlen)[0];
  }

  /**
   * LMOVE: pops an element from one end of `source` and pushes it at one
   * end of `destination` (the same key rotates); the element, or undefined
   * when `source` is missing. WRONGTYPE on the destination is checked
   * before anything is popped.
   */
  lmove(
    source: string,
    destination: string,
    from: "LEFT" | "RIGHT",
    to: "LEFT" | "RIGHT",
  ): string | undefined {
    const store = this.#store;
    if (store.lookupAs<List>(source, "list") === undefined) return undefined;
    if (destination !== source) store.lookupAs<List>(destination, "list");
    const list = store.writable<List>(source, "list")!;
    const v = (from === "LEFT" ? list.popLeft() : list.popRight())!;
    this.#push(destination, [v], to === "LEFT", true);
    store.written(source, list);
    return v;
  }

  /** RPOPLPUSH: LMOVE from the tail of `source` to the head of
   * `destination`. */
  rpoplpush(source: string, destination: string): string | undefined {
    return this.lmove(source, destination, "RIGHT", "LEFT");
  }

  /** LMPOP: pops up to `count` elements from the given end of the first
   * non-empty list among `keys`; its key and the elements, or undefined
   * when all are missing. */
  lmpop(
    keys: readonly string[],
    from: "LEFT" | "RIGHT",
    count = 1,
  ): [key: string, elements: string[]] | undefined {
    if (!(count > 0)) {
      throw new StoreError("ERR count should be greater than 0");
    }
    for (const key of keys) {
      if (this.#store.lookupAs<List>(key, "list") === undefined) continue;
      return [key, this.#pop(key, from === "LEFT", count) as string[]];
    }
    return undefined;
  }
}
