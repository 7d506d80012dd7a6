// Sets
//
// A set keeps its members in a dense array (so a random member is one index
// away: SPOP and SRANDMEMBER are O(1) per member) indexed by an
// open-addressing hash table of 32-bit slots. This costs less memory than a
// JavaScript Map next to the array, and removal is a swap with the last
// member. The same table (StringTable) indexes the fields of hashes.

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
 * ```ts ignore
 * const { cursor, items } = store.sets.sscan("s", 0);
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
 * ```ts ignore
 * store.sets.sscan("s", 0, { match: "a*", count: 100 });
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
  #table: StringTable;
  #intset = true;

  /** An empty set. */
  constructor() {
    this.#table = new StringTable();
  }

  /** The type, as TYPE names it. */
  get type(): "set" {
    return "set";
  }

  /** Number of members. */
  get size(): number {
    return this.#table.keys.length;
  }

  /** True while the set is encoded as an intset. */
  get isIntset(): boolean {
    return this.#intset;
  }

  /** A copy that later changes to either side do not affect. */
  clone(): RedisSet {
    const s = new RedisSet();
    s.#table = this.#table.clone();
    s.#intset = this.#intset;
    return s;
  }

  /** OBJECT ENCODING: `intset` or `hashtable`. */
  encoding(_limits: EncodingLimits): string {
    return this.#intset ? "intset" : "hashtable";
  }

  /** Whether `member` is in the set. */
  has(member: string): boolean {
    return this.#table.find(member) >= 0;
  }

  /** Adds `member`; true when it was new. `maxIntset` is
   * set-max-intset-entries, beyond which the set stays a hashtable. */
  add(member: string, maxIntset: number): boolean {
    if (this.#table.add(member) < 0) return false;
    if (
      this.#intset &&
      (this.#table.keys.length > maxIntset || parseInt64(member) === null)
    ) this.#intset = false;
    return true;
  }

  /** Removes `member`; true when it was there. */
  delete(member: string): boolean {
    const pos = this.#table.find(member);
    if (pos < 0) return false;
    this.#table.removeAt(pos);
    return true;
  }

  /** The member at `pos` (0 <= pos < size), in storage order. */
  at(pos: number): string {
    return this.#table.keys[pos];
  }

  /** Removes the member at `pos` (the last one takes its place). */
  removeAt(pos: number): void {
    this.#table.removeAt(pos);
  }

  /** A member picked at random, or undefined when empty. */
  random(): string | undefined {
    const keys = this.#table.keys;
    return keys[Math.floor(Math.random() * keys.length)];
  }

  /** The members in reply order: sorted for an intset, storage order
   * otherwise. A fresh array. */
  members(): string[] {
    const out = this.#table.keys.slice();
    return this.#intset ? sortIntStrings(out) : out;
  }

  /** The members in storage order, without copying; do not change it. */
  view(): readonly string[] {
    return this.#table.keys;
  }

  /** The commands that build this set again at `key`. */
  *rewrite(key: string, batch: number): Iterable<string[]> {
    const keys = this.#table.keys;
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
    let added = 0;
    for (const m of members) if (set.add(m, max)) added++;
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
