// Sorted sets: small ones packed in one string (below); bigger ones a
// B+tree ordered by (score, member) whose leaves hold parallel arrays of
// members and scores, with subtree sizes in the inner nodes (rank in
// O(log n)), plus a member -> score map (O(1) ZSCORE).

import { lenChars, lenEnd, readLen } from "./_packed.ts";
import { formatDouble } from "../_number.ts";
import type { Container, EncodingLimits, Store } from "../store.ts";
import { StoreError } from "../_errors.ts";
import { parseFloatStrict } from "../_number.ts";

/** Error texts of the sorted set operations, as Redis words them. */
export const ZSET_ERRORS = {
  nan: "ERR resulting score is not a number (NaN)",
  notFloat: "ERR value is not a valid float",
} as const;

// Leaves hold up to LEAF_MAX entries, inner nodes up to INNER_MAX children.
const LEAF_MAX = 128;
const INNER_MAX = 64;

class Leaf {
  members: string[];
  scores: number[];
  prev: Leaf | null = null;
  next: Leaf | null = null;
  constructor(members: string[], scores: number[]) {
    this.members = members;
    this.scores = scores;
  }
}

class Inner {
  kids: Node[];
  /** Number of entries under each child. */
  sizes: number[];
  /** The greatest entry under each child. */
  maxS: number[];
  maxM: string[];
  count: number;
  constructor(
    kids: Node[],
    sizes: number[],
    maxS: number[],
    maxM: string[],
  ) {
    this.kids = kids;
    this.sizes = sizes;
    this.maxS = maxS;
    this.maxM = maxM;
    let n = 0;
    for (let i = 0; i < sizes.length; i++) n += sizes[i];
    this.count = n;
  }
}

type Node = Leaf | Inner;

function sizeOf(n: Node): number {
  return n instanceof Leaf ? n.members.length : n.count;
}

function maxScoreOf(n: Node): number {
  if (n instanceof Leaf) return n.scores[n.scores.length - 1];
  return n.maxS[n.maxS.length - 1];
}

function maxMemberOf(n: Node): string {
  if (n instanceof Leaf) return n.members[n.members.length - 1];
  return n.maxM[n.maxM.length - 1];
}

/** First index in the leaf whose entry is >= (s, m). */
function leafLower(leaf: Leaf, s: number, m: string): number {
  const scores = leaf.scores;
  const members = leaf.members;
  let lo = 0;
  let hi = scores.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const ms = scores[mid];
    if (ms < s || (ms === s && members[mid] < m)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The child of an inner node that holds (or would hold) (s, m). */
function childFor(node: Inner, s: number, m: string): number {
  const maxS = node.maxS;
  const maxM = node.maxM;
  const last = maxS.length - 1;
  for (let i = 0; i < last; i++) {
    const ms = maxS[i];
    if (ms > s || (ms === s && maxM[i] >= m)) return i;
  }
  return last;
}

function splitLeaf(leaf: Leaf, pos: number): Leaf {
  const n = leaf.members.length;
  // Appends and prepends (sequential scores) leave full leaves behind.
  const at = pos === n - 1 ? n - 1 : pos === 0 ? 1 : n >>> 1;
  const right = new Leaf(leaf.members.slice(at), leaf.scores.slice(at));
  leaf.members.length = at;
  leaf.scores.length = at;
  right.next = leaf.next;
  right.prev = leaf;
  if (leaf.next !== null) leaf.next.prev = right;
  leaf.next = right;
  return right;
}

function splitInner(node: Inner): Inner {
  const at = node.kids.length >>> 1;
  const right = new Inner(
    node.kids.slice(at),
    node.sizes.slice(at),
    node.maxS.slice(at),
    node.maxM.slice(at),
  );
  node.kids.length = at;
  node.sizes.length = at;
  node.maxS.length = at;
  node.maxM.length = at;
  node.count -= right.count;
  return right;
}

function insertAt(node: Node, s: number, m: string): Node | null {
  if (node instanceof Leaf) {
    const pos = leafLower(node, s, m);
    const members = node.members;
    if (pos === members.length) {
      members.push(m);
      node.scores.push(s);
    } else {
      members.splice(pos, 0, m);
      node.scores.splice(pos, 0, s);
    }
    return members.length > LEAF_MAX ? splitLeaf(node, pos) : null;
  }
  const i = childFor(node, s, m);
  const kid = node.kids[i];
  const right = insertAt(kid, s, m);
  node.count++;
  if (right === null) {
    node.sizes[i]++;
    const ms = node.maxS[i];
    if (s > ms || (s === ms && m > node.maxM[i])) {
      node.maxS[i] = s;
      node.maxM[i] = m;
    }
    return null;
  }
  node.sizes[i] = sizeOf(kid);
  node.maxS[i] = maxScoreOf(kid);
  node.maxM[i] = maxMemberOf(kid);
  node.kids.splice(i + 1, 0, right);
  node.sizes.splice(i + 1, 0, sizeOf(right));
  node.maxS.splice(i + 1, 0, maxScoreOf(right));
  node.maxM.splice(i + 1, 0, maxMemberOf(right));
  return node.kids.length > INNER_MAX ? splitInner(node) : null;
}

function removeAt(node: Node, s: number, m: string): void {
  if (node instanceof Leaf) {
    const pos = leafLower(node, s, m);
    if (pos === node.members.length - 1) {
      node.members.pop();
      node.scores.pop();
    } else {
      node.members.splice(pos, 1);
      node.scores.splice(pos, 1);
    }
    return;
  }
  const i = childFor(node, s, m);
  const kid = node.kids[i];
  removeAt(kid, s, m);
  node.count--;
  const left = --node.sizes[i];
  if (left === 0) {
    if (kid instanceof Leaf) unlink(kid);
    dropChild(node, i);
    return;
  }
  node.maxS[i] = maxScoreOf(kid);
  node.maxM[i] = maxMemberOf(kid);
  if (kid instanceof Leaf ? left < LEAF_MAX / 4 : kid.kids.length < 4) {
    if (i + 1 < node.kids.length) tryMerge(node, i);
    else if (i > 0) tryMerge(node, i - 1);
  }
}

function unlink(leaf: Leaf): void {
  if (leaf.prev !== null) leaf.prev.next = leaf.next;
  if (leaf.next !== null) leaf.next.prev = leaf.prev;
  leaf.prev = leaf.next = null;
}

function dropChild(node: Inner, i: number): void {
  node.kids.splice(i, 1);
  node.sizes.splice(i, 1);
  node.maxS.splice(i, 1);
  node.maxM.splice(i, 1);
}

/** Merges child i+1 into child i when they fit in one node. */
function tryMerge(node: Inner, i: number): void {
  const a = node.kids[i];
  const b = node.kids[i + 1];
  if (a instanceof Leaf) {
    const bl = b as Leaf;
    if (a.members.length + bl.members.length > LEAF_MAX) return;
    for (let j = 0; j < bl.members.length; j++) {
      a.members.push(bl.members[j]);
      a.scores.push(bl.scores[j]);
    }
    unlink(bl);
  } else {
    const bi = b as Inner;
    if (a.kids.length + bi.kids.length > INNER_MAX) return;
    for (let j = 0; j < bi.kids.length; j++) {
      a.kids.push(bi.kids[j]);
      a.sizes.push(bi.sizes[j]);
      a.maxS.push(bi.maxS[j]);
      a.maxM.push(bi.maxM[j]);
    }
    a.count += bi.count;
  }
  node.sizes[i] += node.sizes[i + 1];
  node.maxS[i] = node.maxS[i + 1];
  node.maxM[i] = node.maxM[i + 1];
  dropChild(node, i + 1);
}

/** Formats a score as Redis 7.0 prints doubles ("%.17g", `inf`, `-inf`).
 *
 * @example
 * ```ts ignore
 * // Internal; @kv/store exports the same as formatDouble.
 * import { formatScore } from "./zset.ts";
 * formatScore(0.1); // "0.10000000000000001"
 * formatScore(-Infinity); // "-inf"
 * ```
 */
export function formatScore(d: number): string {
  return formatDouble(d);
}

/** Parses a score as Redis's getDoubleFromObject (strtod: `inf`,
 * exponents; no spaces, no NaN, no overflow). Null when invalid.
 *
 * @example
 * ```ts ignore
 * // Internal: ZADD's score parsing; @kv/store does not export it.
 * import { parseScore } from "./zset.ts";
 * parseScore("-inf"); // -Infinity
 * parseScore("nan"); // null
 * ```
 */
export function parseScore(s: string): number | null {
  const v = parseFloatStrict(s);
  if (v === null) return null;
  if (v === Infinity || v === -Infinity) {
    return /^[+-]?inf/i.test(s) ? v : null; // overflow is an error
  }
  if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ""))) return null;
  return v;
}

/** Parses a bound of a score range as zslParseRange's strtod does
 * (leading spaces and an empty string are accepted). Null when invalid. */
function parseBound(s: string): number | null {
  if (s.length === 0) return 0;
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) i++;
    else break;
  }
  if (i === s.length) return null;
  return parseFloatStrict(i === 0 ? s : s.slice(i));
}

/** A range of scores, bounds inclusive unless said otherwise.
 *
 * @example
 * ```ts
 * import { type ScoreRange, Store } from "@kv/store";
 * const store = new Store();
 * store.zsets.zadd("z", [["a", 0], ["b", 5], ["c", 10]]);
 * const range: ScoreRange = { min: 0, max: 10, maxExclusive: true }; // [0, 10)
 * store.zsets.zrangeByScore("z", range); // [["a", 0], ["b", 5]]
 * ```
 */
export interface ScoreRange {
  /** Lowest score (may be -Infinity). */
  min: number;
  /** Highest score (may be Infinity). */
  max: number;
  /** Leave out scores equal to `min`. */
  minExclusive?: boolean;
  /** Leave out scores equal to `max`. */
  maxExclusive?: boolean;
}

/** A range of members (compared bytewise), bounds inclusive unless said
 * otherwise; an absent bound is unbounded (`-` / `+`).
 *
 * @example
 * ```ts
 * import type { LexRange } from "@kv/store";
 * const range: LexRange = { min: "a", max: "c", maxExclusive: true }; // [a, c)
 * const all: LexRange = {}; // - to +
 * ```
 */
export interface LexRange {
  /** Lowest member; undefined for `-`. */
  min?: string;
  /** Highest member; undefined for `+`. */
  max?: string;
  /** Leave out `min` itself. */
  minExclusive?: boolean;
  /** Leave out `max` itself. */
  maxExclusive?: boolean;
}

/** Parses ZRANGEBYSCORE's `min` and `max` (`(` exclusive, `-inf`, `+inf`);
 * null when either is not a float.
 *
 * @example
 * ```ts ignore
 * // Internal: ZRANGEBYSCORE's argument parsing; @kv/store does not export it.
 * import { parseScoreRange } from "./zset.ts";
 * parseScoreRange("(1", "+inf");
 * // { min: 1, max: Infinity, minExclusive: true, maxExclusive: false }
 * ```
 */
export function parseScoreRange(min: string, max: string): ScoreRange | null {
  const minEx = min.charCodeAt(0) === 40;
  const maxEx = max.charCodeAt(0) === 40;
  const lo = parseBound(minEx ? min.slice(1) : min);
  const hi = parseBound(maxEx ? max.slice(1) : max);
  if (lo === null || hi === null) return null;
  return { min: lo, max: hi, minExclusive: minEx, maxExclusive: maxEx };
}

/** Parses ZRANGEBYLEX's `min` and `max` (`[a`, `(a`, `-`, `+`); null when
 * either is not a valid range item.
 *
 * @example
 * ```ts ignore
 * // Internal: ZRANGEBYLEX's argument parsing; @kv/store does not export it.
 * import { parseLexRange } from "./zset.ts";
 * parseLexRange("[a", "+"); // { min: "a", minExclusive: false }: no max
 * ```
 */
export function parseLexRange(min: string, max: string): LexRange | null {
  const range: LexRange = {};
  const lo = lexItem(min);
  const hi = lexItem(max);
  if (lo === null || hi === null) return null;
  // "+" as min or "-" as max: an empty range.
  if (lo === "+" || hi === "-") return { min: "", max: "", maxExclusive: true };
  if (lo !== "-") {
    range.min = min.slice(1);
    range.minExclusive = min.charCodeAt(0) === 40;
  }
  if (hi !== "+") {
    range.max = max.slice(1);
    range.maxExclusive = max.charCodeAt(0) === 40;
  }
  return range;
}

function lexItem(s: string): string | null {
  const c = s.charCodeAt(0);
  if (c === 43 || c === 45) return s.length === 1 ? s : null; // + -
  if (c === 40 || c === 91) return ""; // ( [
  return null;
}

// A small sorted set (a listpack in Redis) is one packed string, as a
// listpack is one byte array: the count, then each entry in (score,
// member) order as its score (the 8 bytes of the double) and its member
// (length-prefixed, as hashes pack fields). Lookups scan it; a change
// builds it again; reads by rank or range decode it. Past
// PACK_MAX_ENTRIES members or PACK_MAX_CHARS chars (or once Redis would
// say skiplist) it becomes the B+tree and the member -> score map.

/** Most members a packed sorted set holds. */
const PACK_MAX_ENTRIES = 16;
/** Longest packed string (a change copies it). */
const PACK_MAX_CHARS = 4096;
/** The empty packed sorted set: a count of 0. */
const EMPTY = "\x00";

const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The 8 chars of a score, ordered as the scores are (big-endian, the
 * sign bit flipped for positives, every bit for negatives): comparing
 * chars compares scores (-0 and NaN never get here). */
function scoreChars(s: number): string {
  f64[0] = s;
  const b = f64Bytes;
  let c0, c1, c2, c3, c4, c5, c6, c7;
  if (LITTLE) {
    c0 = b[7], c1 = b[6], c2 = b[5], c3 = b[4];
    c4 = b[3], c5 = b[2], c6 = b[1], c7 = b[0];
  } else {
    c0 = b[0], c1 = b[1], c2 = b[2], c3 = b[3];
    c4 = b[4], c5 = b[5], c6 = b[6], c7 = b[7];
  }
  if (c0 >= 128) {
    return String.fromCharCode(
      c0 ^ 255,
      c1 ^ 255,
      c2 ^ 255,
      c3 ^ 255,
      c4 ^ 255,
      c5 ^ 255,
      c6 ^ 255,
      c7 ^ 255,
    );
  }
  return String.fromCharCode(c0 | 128, c1, c2, c3, c4, c5, c6, c7);
}

/** The score whose 8 chars are at `i` in `p`. */
function scoreAt(p: string, i: number): number {
  const b = f64Bytes;
  const c0 = p.charCodeAt(i);
  const x = c0 >= 128 ? 0 : 255;
  const first = c0 >= 128 ? c0 ^ 128 : c0 ^ 255;
  if (LITTLE) {
    b[7] = first;
    for (let k = 1; k < 8; k++) b[7 - k] = p.charCodeAt(i + k) ^ x;
  } else {
    b[0] = first;
    for (let k = 1; k < 8; k++) b[k] = p.charCodeAt(i + k) ^ x;
  }
  return f64[0];
}

/** Compares the 8 score chars at `i` in `p` with `key` (the chars of a
 * score): negative, 0 or positive as the score there is lower, equal or
 * higher. */
function compareScoreAt(p: string, i: number, key: string): number {
  for (let k = 0; k < 8; k++) {
    const c = p.charCodeAt(i + k) - key.charCodeAt(k);
    if (c !== 0) return c;
  }
  return 0;
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

/** The offset of the entry of `m` in packed string `p` (its score), or
 * -1; sets `after` to the end of the entry. */
function findMember(p: string, m: string): number {
  const end = p.length;
  const len = m.length;
  const last = len === 0 ? -1 : m.charCodeAt(len - 1);
  let i = 1;
  while (i < end) {
    let n = p.charCodeAt(i + 8);
    let at = i + 9;
    if (n >= 128) {
      n = readLen(p, i + 8);
      at = lenEnd.after;
    }
    if (
      n === len &&
      (len === 0 || (p.charCodeAt(at + len - 1) === last && sameAt(p, at, m)))
    ) {
      lenEnd.after = at + n;
      return i;
    }
    i = at + n;
  }
  return -1;
}

// The last lookup in a packed set (ZADD reads the score, then sets it):
// the set, the member, where the entry begins and ends. A change to a set
// forgets it.
let memoZ: object | null = null;
let memoM = "";
let memoAt = -1;
let memoEnd = 0;

/** Where entry (`key`: the chars of a score, `m`) goes in packed string
 * `p`, passing over the entry at [skip, skipEnd) (the member's old one). */
function insertionPoint(
  p: string,
  key: string,
  m: string,
  skip = -1,
  skipEnd = -1,
): number {
  const end = p.length;
  let i = 1;
  while (i < end) {
    if (i === skip) {
      i = skipEnd;
      continue;
    }
    const c = compareScoreAt(p, i, key);
    let n = p.charCodeAt(i + 8);
    let at = i + 9;
    if (n >= 128) {
      n = readLen(p, i + 8);
      at = lenEnd.after;
    }
    if (c > 0) return i;
    if (c === 0) {
      // Bytewise comparison of the member with m.
      const k = Math.min(n, m.length);
      let d = 0;
      for (let j = 0; j < k && d === 0; j++) {
        d = p.charCodeAt(at + j) - m.charCodeAt(j);
      }
      if (d > 0 || (d === 0 && n > m.length)) return i;
    }
    i = at + n;
  }
  return end;
}

/** The entries of packed string `p` as parallel arrays, in order. */
function unpack(p: string): Leaf {
  const count = p.charCodeAt(0);
  const members = new Array<string>(count);
  const scores = new Array<number>(count);
  let i = 1;
  for (let k = 0; k < count; k++) {
    scores[k] = scoreAt(p, i);
    const n = readLen(p, i + 8);
    members[k] = p.slice(lenEnd.after, lenEnd.after + n);
    i = lenEnd.after + n;
  }
  return new Leaf(members, scores);
}

/** A sorted set past the packed form: the B+tree, the member -> score
 * map, and whether Redis would still call it a listpack. */
class BigZ {
  scores = new Map<string, number>();
  root: Node = new Leaf([], []);
  constructor(public listpack: boolean) {}
}

/** Bulk-loads sorted distinct entries into a new BigZ. */
function loadBig(
  list: readonly (readonly [string, number])[],
  listpack: boolean,
): BigZ {
  const big = new BigZ(listpack);
  const fill = (LEAF_MAX * 3) >>> 2;
  let level: Node[] = [];
  let prev: Leaf | null = null;
  for (let i = 0; i < list.length; i += fill) {
    const members: string[] = [];
    const scores: number[] = [];
    const end = Math.min(list.length, i + fill);
    for (let j = i; j < end; j++) {
      let s = list[j][1];
      if (listpack && s === 0) s = 0;
      members.push(list[j][0]);
      scores.push(s);
      big.scores.set(list[j][0], s);
    }
    const leaf = new Leaf(members, scores);
    leaf.prev = prev;
    if (prev !== null) prev.next = leaf;
    prev = leaf;
    level.push(leaf);
  }
  const fanout = (INNER_MAX * 3) >>> 2;
  while (level.length > 1) {
    const up: Node[] = [];
    for (let i = 0; i < level.length; i += fanout) {
      const kids = level.slice(i, i + fanout);
      up.push(
        new Inner(
          kids,
          kids.map(sizeOf),
          kids.map(maxScoreOf),
          kids.map(maxMemberOf),
        ),
      );
    }
    level = up;
  }
  big.root = level.length === 1 ? level[0] : new Leaf([], []);
  return big;
}

/** A packed string of sorted distinct entries, or null when they do not
 * fit the packed form. */
function pack(list: readonly (readonly [string, number])[]): string | null {
  if (list.length > PACK_MAX_ENTRIES) return null;
  const parts = new Array<string>(list.length * 3 + 1);
  parts[0] = String.fromCharCode(list.length);
  let chars = 1;
  let o = 1;
  for (const [m, s] of list) {
    parts[o++] = scoreChars(s === 0 ? 0 : s);
    parts[o++] = lenChars(m.length);
    parts[o++] = m;
    chars += 11 + m.length;
  }
  return chars > PACK_MAX_CHARS ? null : parts.join("");
}

/**
 * A sorted set: members (byte strings) ordered by score, then bytewise.
 * Small, it is one packed string; bigger, a B+tree keeps the order
 * (leaves hold parallel arrays of members and scores, inner nodes subtree
 * sizes, so ranks take O(log n)), a map the score of each member.
 *
 * @example
 * ```ts
 * import { SortedSet } from "@kv/store";
 * const z = new SortedSet();
 * z.set("b", 2);
 * z.set("a", 1);
 * console.log(z.rank("b"), z.at(0)); // 1 ["a", 1]
 * ```
 */
export class SortedSet implements Container {
  // The packed string or the big form. One field only: a small sorted set
  // is this object and one string.
  #d: string | BigZ;

  /** Always `zset`. */
  get type(): "zset" {
    return "zset";
  }

  /** An empty sorted set; `listpack` false starts it in the big
   * (skiplist) encoding. */
  constructor(listpack = true) {
    this.#d = listpack ? EMPTY : new BigZ(false);
  }

  /** Builds a sorted set from entries (any order, members distinct), in
   * the encoding Redis gives a stored result of that size. */
  static from(
    entries: Iterable<readonly [member: string, score: number]>,
    limits?: EncodingLimits,
  ): SortedSet {
    const list = Array.from(entries);
    list.sort(compareEntries);
    let listpack = false;
    if (limits !== undefined && list.length <= limits.zsetMaxListpackEntries) {
      listpack = true;
      for (const [m] of list) {
        if (m.length > limits.zsetMaxListpackValue) listpack = false;
      }
    }
    const z = new SortedSet(listpack);
    const packed = listpack ? pack(list) : null;
    z.#d = packed ?? loadBig(list, listpack);
    return z;
  }

  /** Number of members. */
  get size(): number {
    const d = this.#d;
    return typeof d === "string" ? d.charCodeAt(0) : d.scores.size;
  }

  /** True while Redis would keep it as a listpack (small), false once it
   * turned into a skiplist. */
  get listpack(): boolean {
    const d = this.#d;
    return typeof d === "string" || d.listpack;
  }

  /** OBJECT ENCODING: `listpack` or `skiplist`. */
  encoding(_limits: EncodingLimits): string {
    return this.listpack ? "listpack" : "skiplist";
  }

  /** The score of `member`, or undefined. */
  score(member: string): number | undefined {
    const d = this.#d;
    if (typeof d !== "string") return d.scores.get(member);
    let i: number;
    if (memoZ === this && memoM === member) i = memoAt;
    else {
      i = findMember(d, member);
      memoZ = this;
      memoM = member;
      memoAt = i;
      memoEnd = lenEnd.after;
    }
    return i < 0 ? undefined : scoreAt(d, i);
  }

  /** True when `member` is in the set. */
  has(member: string): boolean {
    const d = this.#d;
    return typeof d === "string"
      ? findMember(d, member) >= 0
      : d.scores.has(member);
  }

  /** The B+tree: the big form's, or a one-leaf tree decoded from the
   * packed string (a copy). */
  #tree(): Node {
    const d = this.#d;
    return typeof d === "string" ? unpack(d) : d.root;
  }

  /** Moves a packed set to the big form. */
  #grow(d: string, listpack: boolean): BigZ {
    const leaf = unpack(d);
    const list = leaf.members.map((m, i) => [m, leaf.scores[i]] as const);
    const big = loadBig(list, listpack);
    this.#d = big;
    return big;
  }

  /**
   * Adds `member` or changes its score; true when it is new. With
   * `limits`, a listpack turns into a skiplist as Redis converts it (more
   * than zset-max-listpack-entries members, or a member longer than
   * zset-max-listpack-value).
   */
  set(member: string, score: number, limits?: EncodingLimits): boolean {
    let d = this.#d;
    if (typeof d === "string") {
      let start: number;
      if (memoZ === this && memoM === member) {
        start = memoAt;
        lenEnd.after = memoEnd;
      } else start = findMember(d, member);
      memoZ = null;
      const count = d.charCodeAt(0);
      if (start >= 0) {
        if (score === 0) score = 0; // listpacks keep no -0
        const end = lenEnd.after;
        const key = scoreChars(score);
        if (compareScoreAt(d, start, key) === 0) return false;
        const at = insertionPoint(d, key, member, start, end);
        const entry = d.slice(start + 8, end);
        this.#d = at === start || at === end // same place: the score only
          ? [d.slice(0, start), key, d.slice(start + 8)].join("")
          : at < start
          ? [d.slice(0, at), key, entry, d.slice(at, start), d.slice(end)]
            .join("")
          : [d.slice(0, start), d.slice(end, at), key, entry, d.slice(at)]
            .join("");
        return false;
      }
      const skiplist = limits !== undefined &&
        (count + 1 > limits.zsetMaxListpackEntries ||
          member.length > limits.zsetMaxListpackValue);
      if (
        !skiplist && count < PACK_MAX_ENTRIES &&
        d.length + member.length + 11 <= PACK_MAX_CHARS
      ) {
        const key = scoreChars(score === 0 ? 0 : score);
        const at = insertionPoint(d, key, member);
        this.#d = [
          String.fromCharCode(count + 1),
          d.slice(1, at),
          key,
          lenChars(member.length),
          member,
          d.slice(at),
        ].join("");
        return true;
      }
      d = this.#grow(d, !skiplist);
    } else if (d.listpack && limits !== undefined) {
      if (
        !d.scores.has(member) &&
        (d.scores.size + 1 > limits.zsetMaxListpackEntries ||
          member.length > limits.zsetMaxListpackValue)
      ) d.listpack = false;
    }
    if (d.listpack && score === 0) score = 0; // listpacks keep no -0
    const old = d.scores.get(member);
    if (old !== undefined) {
      if (Object.is(old, score)) return false;
      removeAt(d.root, old, member);
      d.root = shrinkRoot(d.root);
    }
    d.scores.set(member, score);
    const right = insertAt(d.root, score, member);
    if (right !== null) {
      const left = d.root;
      d.root = new Inner(
        [left, right],
        [sizeOf(left), sizeOf(right)],
        [maxScoreOf(left), maxScoreOf(right)],
        [maxMemberOf(left), maxMemberOf(right)],
      );
    }
    return old === undefined;
  }

  /** Removes `member`; true when it was there. */
  delete(member: string): boolean {
    const d = this.#d;
    if (typeof d === "string") {
      memoZ = null;
      const start = findMember(d, member);
      if (start < 0) return false;
      const count = d.charCodeAt(0) - 1;
      this.#d = count === 0
        ? EMPTY
        : [String.fromCharCode(count), d.slice(1, start), d.slice(lenEnd.after)]
          .join("");
      return true;
    }
    const old = d.scores.get(member);
    if (old === undefined) return false;
    d.scores.delete(member);
    removeAt(d.root, old, member);
    d.root = shrinkRoot(d.root);
    return true;
  }

  /** The 0-based rank of `member` in ascending order, or undefined. */
  rank(member: string): number | undefined {
    const d = this.#d;
    if (typeof d === "string") {
      const start = findMember(d, member);
      if (start < 0) return undefined;
      let rank = 0;
      for (let i = 1; i < start; rank++) i = readLen(d, i + 8) + lenEnd.after;
      return rank;
    }
    const s = d.scores.get(member);
    if (s === undefined) return undefined;
    let node = d.root;
    let rank = 0;
    while (node instanceof Inner) {
      const i = childFor(node, s, member);
      for (let j = 0; j < i; j++) rank += node.sizes[j];
      node = node.kids[i];
    }
    return rank + leafLower(node, s, member);
  }

  /** The leaf and index of the entry at `rank` (0 <= rank < size). */
  static #locate(node: Node, rank: number): [Leaf, number] {
    while (node instanceof Inner) {
      let i = 0;
      while (rank >= node.sizes[i]) rank -= node.sizes[i++];
      node = node.kids[i];
    }
    return [node, rank];
  }

  /** The entry at a 0-based ascending `rank`, or undefined. */
  at(rank: number): [member: string, score: number] | undefined {
    if (rank < 0 || rank >= this.size) return undefined;
    const d = this.#d;
    if (typeof d === "string") {
      let i = 1;
      for (let k = 0; k < rank; k++) i = readLen(d, i + 8) + lenEnd.after;
      const n = readLen(d, i + 8);
      return [d.slice(lenEnd.after, lenEnd.after + n), scoreAt(d, i)];
    }
    const [leaf, i] = SortedSet.#locate(d.root, rank);
    return [leaf.members[i], leaf.scores[i]];
  }

  /** How many entries come before the first one for which `after` is
   * true (`after` must be false then true along the order). */
  static #countBefore(
    node: Node,
    after: (s: number, m: string) => boolean,
  ): number {
    let n = 0;
    while (node instanceof Inner) {
      const last = node.kids.length - 1;
      let i = 0;
      while (i < last && !after(node.maxS[i], node.maxM[i])) {
        n += node.sizes[i++];
      }
      node = node.kids[i];
    }
    const { scores, members } = node;
    let lo = 0;
    let hi = scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (after(scores[mid], members[mid])) hi = mid;
      else lo = mid + 1;
    }
    return n + lo;
  }

  /** The ranks [start, end) of the entries within a score range. */
  scoreRanks(range: ScoreRange): [start: number, end: number] {
    const { min, max } = range;
    const d = this.#d;
    if (typeof d === "string") {
      let start = 0;
      let end = 0;
      const minEx = range.minExclusive;
      const maxEx = range.maxExclusive;
      for (let i = 1; i < d.length; i = readLen(d, i + 8) + lenEnd.after) {
        const s = scoreAt(d, i);
        if (minEx ? s <= min : s < min) start++;
        if (maxEx ? s < max : s <= max) end++;
      }
      return [start, Math.max(start, end)];
    }
    const tree = this.#tree();
    const count = SortedSet.#countBefore;
    const start = range.minExclusive
      ? count(tree, (s) => s > min)
      : count(tree, (s) => s >= min);
    const end = range.maxExclusive
      ? count(tree, (s) => s >= max)
      : count(tree, (s) => s > max);
    return [start, Math.max(start, end)];
  }

  /** The ranks [start, end) of the entries within a lex range (meaningful
   * when all scores are equal, as in Redis). */
  lexRanks(range: LexRange): [start: number, end: number] {
    const { min, max } = range;
    const tree = this.#tree();
    const count = SortedSet.#countBefore;
    let start = 0;
    let end = this.size;
    if (min !== undefined) {
      start = range.minExclusive
        ? count(tree, (_, m) => m > min)
        : count(tree, (_, m) => m >= min);
    }
    if (max !== undefined) {
      end = range.maxExclusive
        ? count(tree, (_, m) => m >= max)
        : count(tree, (_, m) => m > max);
    }
    return [start, Math.max(start, end)];
  }

  /**
   * Calls `fn` with each entry of ranks `start` to `end` inclusive (in
   * ascending order, or descending from `end` down to `start` when
   * `reverse`) in O(log n + m). Ranks must be within the set.
   */
  forRanks(
    start: number,
    end: number,
    reverse: boolean,
    fn: (member: string, score: number) => void,
  ): void {
    if (start > end) return;
    const d = this.#d;
    if (typeof d === "string") {
      let i = 1;
      for (let k = 0; k < start; k++) i = readLen(d, i + 8) + lenEnd.after;
      if (!reverse) {
        for (let k = start; k <= end; k++) {
          const n = readLen(d, i + 8);
          const at = lenEnd.after;
          fn(d.slice(at, at + n), scoreAt(d, i));
          i = at + n;
        }
        return;
      }
      const offsets: number[] = [];
      for (let k = start; k <= end; k++) {
        offsets.push(i);
        i = readLen(d, i + 8) + lenEnd.after;
      }
      for (let k = offsets.length - 1; k >= 0; k--) {
        const o = offsets[k];
        const n = readLen(d, o + 8);
        const at = lenEnd.after;
        fn(d.slice(at, at + n), scoreAt(d, o));
      }
      return;
    }
    const tree = d.root;
    let n = end - start + 1;
    if (!reverse) {
      let [leaf, i] = SortedSet.#locate(tree, start);
      while (true) {
        const { members, scores } = leaf;
        for (; i < members.length; i++) {
          fn(members[i], scores[i]);
          if (--n === 0) return;
        }
        leaf = leaf.next!;
        i = 0;
      }
    }
    let [leaf, i] = SortedSet.#locate(tree, end);
    while (true) {
      const { members, scores } = leaf;
      for (; i >= 0; i--) {
        fn(members[i], scores[i]);
        if (--n === 0) return;
      }
      leaf = leaf.prev!;
      i = leaf.members.length - 1;
    }
  }

  /** The entries of ranks `start` to `end` inclusive as [member, score]
   * pairs (descending when `reverse`). */
  slice(
    start: number,
    end: number,
    reverse = false,
  ): [member: string, score: number][] {
    const out: [string, number][] = [];
    this.forRanks(start, end, reverse, (m, s) => out.push([m, s]));
    return out;
  }

  /** Every entry in ascending order. */
  *entries(): IterableIterator<[member: string, score: number]> {
    let leaf: Leaf | null = this.#firstLeaf();
    while (leaf !== null) {
      const { members, scores } = leaf;
      for (let i = 0; i < members.length; i++) yield [members[i], scores[i]];
      leaf = leaf.next;
    }
  }

  /** Every member with its score, in insertion (hash) order past the
   * packed form, ascending in it: for scans. */
  members(): IterableIterator<[member: string, score: number]> {
    const d = this.#d;
    return typeof d === "string" ? this.entries() : d.scores.entries();
  }

  #firstLeaf(): Leaf {
    let node = this.#tree();
    while (node instanceof Inner) node = node.kids[0];
    return node;
  }

  /** A copy that later changes to either side do not affect. */
  clone(): SortedSet {
    const z = new SortedSet();
    const d = this.#d;
    z.#d = typeof d === "string"
      ? d
      : loadBig(Array.from(this.entries()), d.listpack);
    return z;
  }

  /** ZADD commands that rebuild this set at `key`, `batch` members each. */
  *rewrite(key: string, batch: number): Iterable<string[]> {
    let cmd: string[] = ["ZADD", key];
    for (const [m, s] of this.entries()) {
      cmd.push(formatScore(s), m);
      if (cmd.length >= 2 + 2 * batch) {
        yield cmd;
        cmd = ["ZADD", key];
      }
    }
    if (cmd.length > 2) yield cmd;
  }
}

/** The root after a removal: a lone child takes its parent's place. */
function shrinkRoot(root: Node): Node {
  while (root instanceof Inner && root.kids.length === 1) root = root.kids[0];
  if (root instanceof Inner && root.kids.length === 0) return new Leaf([], []);
  return root;
}

function compareEntries(
  a: readonly [string, number],
  b: readonly [string, number],
): number {
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}

/** Options of {@linkcode SortedSetOps.zadd}, as ZADD's flags.
 *
 * @example
 * ```ts
 * import { Store, type ZAddOptions } from "@kv/store";
 * const store = new Store();
 * store.zsets.zadd("board", [["alice", 10]]);
 * const gtCh: ZAddOptions = { gt: true, ch: true };
 * store.zsets.zadd("board", [["alice", 5]], gtCh); // 0: not greater
 * store.zsets.zadd("board", [["alice", 20]], gtCh); // 1: changed
 * ```
 */
export interface ZAddOptions {
  /** Only add new members. */
  nx?: boolean;
  /** Only update existing members. */
  xx?: boolean;
  /** Only update when the new score is greater. */
  gt?: boolean;
  /** Only update when the new score is less. */
  lt?: boolean;
  /** Count changed members too, not only added ones. */
  ch?: boolean;
}

/** Options of the range reads: skip `offset` entries, return at most
 * `count` (negative: all), in descending order when `reverse`.
 *
 * @example
 * ```ts
 * import { Store, type ZRangeOptions } from "@kv/store";
 * const store = new Store();
 * store.zsets.zadd("z", [["a", 1], ["b", 2], ["c", 3], ["d", 4]]);
 * const page: ZRangeOptions = { offset: 1, count: 2 };
 * store.zsets.zrangeByScore("z", { min: 0, max: Infinity }, page); // [["b", 2], ["c", 3]]
 * ```
 */
export interface ZRangeOptions {
  /** Entries to skip (a negative offset gives nothing, as in Redis). */
  offset?: number;
  /** At most this many entries; negative or absent means all. */
  count?: number;
  /** Descending order. */
  reverse?: boolean;
}

/** How ZUNION/ZINTER combine the scores of a member found in several
 * inputs.
 *
 * @example
 * ```ts
 * import { type Aggregate, Store } from "@kv/store";
 * const store = new Store();
 * store.zsets.zadd("x", [["a", 1]]);
 * store.zsets.zadd("y", [["a", 5]]);
 * const how: Aggregate = "max";
 * store.zsets.zunion(["x", "y"], { aggregate: how }); // [["a", 5]]
 * ```
 */
export type Aggregate = "sum" | "min" | "max";

/** Options of {@linkcode SortedSetOps.zunion} and
 * {@linkcode SortedSetOps.zinter}.
 *
 * @example
 * ```ts
 * import { Store, type ZCombineOptions } from "@kv/store";
 * const store = new Store();
 * store.zsets.zadd("x", [["a", 1], ["b", 2]]);
 * store.zsets.zadd("y", [["b", 5], ["c", 1]]);
 * const options: ZCombineOptions = { weights: [1, 2], aggregate: "max" };
 * store.zsets.zunion(["x", "y"], options); // [["a", 1], ["c", 2], ["b", 10]]
 * ```
 */
export interface ZCombineOptions {
  /** A multiplier per input key (default 1). */
  weights?: readonly number[];
  /** How scores add up (default sum). */
  aggregate?: Aggregate;
}

type Pairs = [member: string, score: number][];

/** Sorted sets, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.zsets`). Results are plain
 * JavaScript values: members as byte strings, scores as numbers, entries as
 * [member, score] pairs. Errors are thrown as StoreError with Redis's text.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.zsets.zadd("board", [["alice", 10], ["bob", 7]]);
 * console.log(store.zsets.zrange("board", 0, -1)); // [["bob", 7], ["alice", 10]]
 * ```
 */
export class SortedSetOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  /** The sorted set at `key` for a read (counts a hit or miss), or
   * undefined; throws WRONGTYPE. */
  read(key: string): SortedSet | undefined {
    return this.#store.readAs<SortedSet>(key, "zset");
  }

  /** The sorted set at `key` without counting a read, or undefined;
   * throws WRONGTYPE. */
  lookup(key: string): SortedSet | undefined {
    return this.#store.lookupAs<SortedSet>(key, "zset");
  }

  /**
   * ZADD: adds members with their scores (or updates them, as the options
   * allow). Returns how many were added (with `ch`: added or changed). The
   * key is created as Redis creates it (listpack while small).
   */
  zadd(
    key: string,
    entries: readonly (readonly [member: string, score: number])[],
    options: ZAddOptions = {},
  ): number {
    for (const [, s] of entries) {
      if (s !== s) throw new StoreError(ZSET_ERRORS.notFloat);
    }
    const store = this.#store;
    const z = options.xx
      ? store.writable<SortedSet>(key, "zset")
      : store.writable<SortedSet>(key, "zset", () => this.#create(entries));
    if (z === undefined) return 0;
    let added = 0;
    let changed = 0;
    const limits = store.limits;
    for (const [m, s] of entries) {
      const old = z.score(m);
      if (old === undefined) {
        if (options.xx) continue;
        z.set(m, s, limits);
        added++;
      } else {
        if (options.nx) continue;
        if ((options.gt && s <= old) || (options.lt && s >= old)) continue;
        if (old !== s) {
          z.set(m, s, limits);
          changed++;
        }
      }
    }
    store.written(key, z);
    store.dirty += added + changed;
    return options.ch ? added + changed : added;
  }

  #create(
    entries: readonly (readonly [string, number])[],
  ): SortedSet {
    const limits = this.#store.limits;
    const first = entries.length > 0 ? entries[0][0].length : 0;
    return new SortedSet(
      limits.zsetMaxListpackEntries !== 0 &&
        first <= limits.zsetMaxListpackValue,
    );
  }

  /**
   * ZINCRBY (and ZADD INCR): adds `increment` to the score of `member`
   * (0 when new) and returns the new score; undefined when the options
   * (`nx`, `xx`, `gt`, `lt`) prevented it. Throws when the result is NaN.
   */
  zincrby(
    key: string,
    member: string,
    increment: number,
    options: ZAddOptions = {},
  ): number | undefined {
    if (increment !== increment) throw new StoreError(ZSET_ERRORS.notFloat);
    const store = this.#store;
    const z = options.xx
      ? store.writable<SortedSet>(key, "zset")
      : store.writable<SortedSet>(key, "zset", () =>
        this.#create([[member, 0]]));
    if (z === undefined) return undefined;
    const old = z.score(member);
    let result: number | undefined;
    try {
      if (old === undefined) {
        if (options.xx) return undefined;
        z.set(member, increment, store.limits);
        result = increment;
      } else {
        if (options.nx) return undefined;
        const next = old + increment;
        if (next !== next) throw new StoreError(ZSET_ERRORS.nan);
        if ((options.gt && next <= old) || (options.lt && next >= old)) {
          return undefined;
        }
        if (next !== old) z.set(member, next, store.limits);
        result = next;
      }
      // A change only when the score moved (Redis: added or updated), so an
      // increment of 0 neither touches WATCH nor goes to the log.
      if (old === undefined || result !== old) store.dirty++;
      return result;
    } finally {
      store.written(key, z);
    }
  }

  /** ZSCORE: the score of `member`, or undefined. */
  zscore(key: string, member: string): number | undefined {
    return this.read(key)?.score(member);
  }

  /** ZMSCORE: the score of each member (undefined when missing). */
  zmscore(key: string, members: readonly string[]): (number | undefined)[] {
    const z = this.read(key);
    return members.map((m) => z?.score(m));
  }

  /** ZCARD: the number of members (0 when the key is missing). */
  zcard(key: string): number {
    return this.read(key)?.size ?? 0;
  }

  /** ZREM: removes members; how many were there. */
  zrem(key: string, members: readonly string[]): number {
    const store = this.#store;
    const z = store.writable<SortedSet>(key, "zset");
    if (z === undefined) return 0;
    let n = 0;
    for (const m of members) if (z.delete(m)) n++;
    store.written(key, z);
    store.dirty += n;
    return n;
  }

  /** ZRANK (or ZREVRANK with `reverse`): the 0-based rank of `member`, or
   * undefined. */
  zrank(key: string, member: string, reverse = false): number | undefined {
    const z = this.read(key);
    const r = z?.rank(member);
    return r === undefined ? undefined : reverse ? z!.size - 1 - r : r;
  }

  /** ZCOUNT: members with a score within `range`. */
  zcount(key: string, range: ScoreRange): number {
    const z = this.read(key);
    if (z === undefined) return 0;
    const [a, b] = z.scoreRanks(range);
    return b - a;
  }

  /** ZLEXCOUNT: members within a lex range. */
  zlexcount(key: string, range: LexRange): number {
    const z = this.read(key);
    if (z === undefined) return 0;
    const [a, b] = z.lexRanks(range);
    return b - a;
  }

  /**
   * ZRANGE by rank (ZREVRANGE with `reverse`): entries of ranks `start` to
   * `stop` inclusive, negative ranks counting from the end, as [member,
   * score] pairs.
   */
  zrange(
    key: string,
    start: number,
    stop: number,
    reverse = false,
  ): [member: string, score: number][] {
    const z = this.read(key);
    if (z === undefined) return [];
    const r = rankSpan(z.size, start, stop);
    if (r === null) return [];
    return reverse
      ? z.slice(z.size - 1 - r[1], z.size - 1 - r[0], true)
      : z.slice(r[0], r[1]);
  }

  /** ZRANGEBYSCORE (ZREVRANGEBYSCORE with `reverse`): entries within a
   * score range as [member, score] pairs, with LIMIT's offset and count. */
  zrangeByScore(
    key: string,
    range: ScoreRange,
    options: ZRangeOptions = {},
  ): [member: string, score: number][] {
    const z = this.read(key);
    if (z === undefined) return [];
    return window(z, z.scoreRanks(range), options);
  }

  /** ZRANGEBYLEX (ZREVRANGEBYLEX with `reverse`): entries within a lex
   * range as [member, score] pairs, with LIMIT's offset and count. */
  zrangeByLex(
    key: string,
    range: LexRange,
    options: ZRangeOptions = {},
  ): [member: string, score: number][] {
    const z = this.read(key);
    if (z === undefined) return [];
    return window(z, z.lexRanks(range), options);
  }

  /**
   * Stores entries as the sorted set at `key` (replacing what it held,
   * of any type; an empty result deletes the key), in the encoding Redis
   * gives a stored result. Returns the number of members stored. The
   * *STORE commands and GEOSEARCHSTORE use it.
   */
  zstore(
    key: string,
    entries: Iterable<readonly [member: string, score: number]>,
  ): number {
    const store = this.#store;
    const z = SortedSet.from(entries, store.limits);
    if (z.size === 0) {
      if (store.delete(key)) store.dirty++;
      return 0;
    }
    store.set(key, z);
    store.dirty++;
    return z.size;
  }

  /** ZREMRANGEBYRANK: removes ranks `start` to `stop` (negative from the
   * end); how many. */
  zremRangeByRank(key: string, start: number, stop: number): number {
    return this.#removeRanks(key, (z) => {
      const r = rankSpan(z.size, start, stop);
      return r === null ? [0, 0] : [r[0], r[1] + 1];
    });
  }

  /** ZREMRANGEBYSCORE: removes the members within a score range. */
  zremRangeByScore(key: string, range: ScoreRange): number {
    return this.#removeRanks(key, (z) => z.scoreRanks(range));
  }

  /** ZREMRANGEBYLEX: removes the members within a lex range. */
  zremRangeByLex(key: string, range: LexRange): number {
    return this.#removeRanks(key, (z) => z.lexRanks(range));
  }

  #removeRanks(
    key: string,
    span: (z: SortedSet) => [number, number],
  ): number {
    const store = this.#store;
    const z = store.writable<SortedSet>(key, "zset");
    if (z === undefined) return 0;
    const [a, b] = span(z);
    if (b <= a) return 0;
    const doomed = z.slice(a, b - 1);
    for (const [m] of doomed) z.delete(m);
    store.written(key, z);
    store.dirty += doomed.length;
    return doomed.length;
  }

  /** ZPOPMIN (ZPOPMAX with `max`): removes and returns up to `count`
   * entries with the lowest (highest) scores. */
  zpop(key: string, count = 1, max = false): [member: string, score: number][] {
    const store = this.#store;
    const z = store.writable<SortedSet>(key, "zset");
    if (z === undefined || count <= 0) return [];
    const n = Math.min(count, z.size);
    const out = max ? z.slice(z.size - n, z.size - 1, true) : z.slice(0, n - 1);
    for (const [m] of out) z.delete(m);
    store.written(key, z);
    store.dirty += out.length;
    return out;
  }

  /** ZMPOP: pops from the first non-empty key; its name and the entries,
   * or undefined when all are empty. */
  zmpop(
    keys: readonly string[],
    max: boolean,
    count = 1,
  ): [key: string, entries: [member: string, score: number][]] | undefined {
    for (const key of keys) {
      const z = this.lookup(key);
      if (z !== undefined && z.size > 0) {
        return [key, this.zpop(key, count, max)];
      }
    }
    return undefined;
  }

  /**
   * ZRANDMEMBER with a count: distinct random entries (up to the size)
   * when `count` >= 0, or exactly -count entries that may repeat when
   * negative.
   */
  zrandmember(key: string, count: number): [member: string, score: number][] {
    const z = this.read(key);
    if (z === undefined || count === 0) return [];
    const size = z.size;
    const out: Pairs = [];
    if (count < 0) {
      for (let i = 0; i < -count; i++) {
        out.push(z.at(Math.floor(Math.random() * size))!);
      }
      return out;
    }
    if (count >= size) return z.slice(0, size - 1);
    if (count * 3 > size) {
      const all = z.slice(0, size - 1);
      for (let i = 0; i < count; i++) {
        const j = i + Math.floor(Math.random() * (size - i));
        const t = all[i];
        all[i] = all[j];
        all[j] = t;
      }
      all.length = count;
      return all;
    }
    const picked = new Set<number>();
    while (picked.size < count) picked.add(Math.floor(Math.random() * size));
    for (const r of picked) out.push(z.at(r)!);
    return out;
  }

  /** The members and scores of each input (sorted sets, or sets with
   * score 1; missing keys are empty), for the set operations. */
  #inputs(keys: readonly string[]): (Map<string, number> | null)[] {
    const store = this.#store;
    return keys.map((key) => {
      const v = store.readValue(key);
      if (v === undefined) return null;
      if (typeof v === "object" && v instanceof SortedSet) {
        return new Map(v.members());
      }
      if (typeof v === "object" && v.type === "set") {
        const out = new Map<string, number>();
        for (const cmd of v.rewrite(key, 1024)) {
          for (let i = 2; i < cmd.length; i++) out.set(cmd[i], 1);
        }
        return out;
      }
      throw new StoreError(
        "WRONGTYPE Operation against a key holding the wrong kind of value",
      );
    });
  }

  /** ZUNION: every member of the inputs (sorted sets, or sets with score
   * 1) with its weighted, aggregated score, in ascending order. */
  zunion(
    keys: readonly string[],
    options: ZCombineOptions = {},
  ): [member: string, score: number][] {
    return this.#combine(keys, "union", options);
  }

  /** ZINTER: the members found in every input, aggregated, ascending. */
  zinter(
    keys: readonly string[],
    options: ZCombineOptions = {},
  ): [member: string, score: number][] {
    return this.#combine(keys, "inter", options);
  }

  /** ZDIFF: the members of the first input found in none of the others,
   * with their scores, ascending. */
  zdiff(keys: readonly string[]): [member: string, score: number][] {
    return this.#combine(keys, "diff", {});
  }

  /** ZINTERCARD: how many members are in every input, counting up to
   * `limit` (0: no limit). */
  zintercard(keys: readonly string[], limit = 0): number {
    const inputs = this.#inputs(keys);
    if (inputs.some((x) => x === null)) return 0;
    const sets = (inputs as Map<string, number>[]).sort((a, b) =>
      a.size - b.size
    );
    let n = 0;
    outer: for (const m of sets[0].keys()) {
      for (let i = 1; i < sets.length; i++) if (!sets[i].has(m)) continue outer;
      n++;
      if (limit > 0 && n >= limit) break;
    }
    return n;
  }

  #combine(
    keys: readonly string[],
    op: "union" | "inter" | "diff",
    options: ZCombineOptions,
  ): [member: string, score: number][] {
    const inputs = this.#inputs(keys);
    const weights = options.weights;
    const aggregate = options.aggregate ?? "sum";
    const order = keys.map((_, i) => i);
    const acc = new Map<string, number>();
    const weighted = (i: number, s: number) => {
      const v = (weights?.[i] ?? 1) * s;
      return v !== v ? 0 : v;
    };
    const combine = (a: number, b: number) => {
      if (aggregate === "sum") {
        const v = a + b;
        return v !== v ? 0 : v;
      }
      return aggregate === "min" ? (b < a ? b : a) : (b > a ? b : a);
    };
    if (op === "diff") {
      const first = inputs[0];
      if (first !== null) {
        outer: for (const [m, s] of first) {
          for (let i = 1; i < inputs.length; i++) {
            if (inputs[i]?.has(m)) continue outer;
          }
          acc.set(m, s);
        }
      }
    } else {
      if (op === "inter") {
        // Smallest input first, as Redis does (the sum's order follows).
        order.sort((a, b) => (inputs[a]?.size ?? 0) - (inputs[b]?.size ?? 0));
        const first = inputs[order[0]];
        if (first !== null && !inputs.some((x) => x === null)) {
          outer: for (const [m, s0] of first) {
            let score = weighted(order[0], s0);
            for (let k = 1; k < order.length; k++) {
              const s = inputs[order[k]]!.get(m);
              if (s === undefined) continue outer;
              // Only the first score is NaN-checked on its own, as in Redis.
              score = combine(score, (weights?.[order[k]] ?? 1) * s);
            }
            acc.set(m, score);
          }
        }
      } else {
        for (const i of order) {
          const input = inputs[i];
          if (input === null) continue;
          for (const [m, s] of input) {
            const v = weighted(i, s);
            const old = acc.get(m);
            acc.set(m, old === undefined ? v : combine(old, v));
          }
        }
      }
    }
    const out = Array.from(acc) as Pairs;
    out.sort(compareEntries);
    return out;
  }
}

/** Normalizes ZRANGE's start and stop against `size`: inclusive ranks,
 * or null when empty. */
export function rankSpan(
  size: number,
  start: number,
  stop: number,
): [number, number] | null {
  if (start < 0) start = size + start;
  if (stop < 0) stop = size + stop;
  if (start < 0) start = 0;
  if (start > stop || start >= size) return null;
  if (stop >= size) stop = size - 1;
  return [start, stop];
}

/** Applies LIMIT's offset/count to the ranks [a, b), in order. */
function window(
  z: SortedSet,
  [a, b]: [number, number],
  options: ZRangeOptions,
): [member: string, score: number][] {
  const offset = options.offset ?? 0;
  const count = options.count ?? -1;
  if (offset < 0 || b <= a) return [];
  let n = b - a - offset;
  if (count >= 0 && count < n) n = count;
  if (n <= 0) return [];
  return options.reverse
    ? z.slice(b - offset - n, b - offset - 1, true)
    : z.slice(a + offset, a + offset + n - 1);
}
