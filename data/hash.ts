// Hashes
//
// A small hash (listpack in Redis) is one packed byte string, as a
// listpack is one byte array: each field and each value in insertion order,
// preceded by its length (one char below 128, else 7 bits a char, low
// first), with the count kept beside it. A lookup scans it; a change builds
// the string again (small, so it costs about a listpack's memmove). Clones
// share the string. Most hashes in a session store are a few fields, and
// this costs a tenth of an indexed table for them.
//
// Past PACK_MAX_ENTRIES fields or PACK_MAX_CHARS chars (or once Redis would
// say hashtable) the fields move to a dense array indexed by an
// open-addressing table (StringTable, shared with sets), values beside
// them: a random field is one index away (HRANDFIELD is O(1) per field).
// While the hash is still a listpack for Redis, removal keeps the
// insertion order, so replies come out in Redis's order; after that a
// removal swaps in the last field.

import { lenChars, lenEnd, readLen } from "./_packed.ts";
import type { Container, EncodingLimits, Store } from "../store.ts";
import {
  addFloatStrings,
  addInt64,
  intToString,
  parseInt64,
} from "../_number.ts";
import { StoreError } from "../_errors.ts";
import { globMatch } from "../_glob.ts";
import {
  distinctPicks,
  type FieldScanOptions,
  type FieldScanStep,
  scanPositions,
  StringTable,
} from "./set.ts";

/** HINCRBY's and HINCRBYFLOAT's error replies. */
export const HASH_ERRORS = {
  notInteger: "ERR hash value is not an integer",
  notFloat: "ERR hash value is not a float",
  overflow: "ERR increment or decrement would overflow",
  nanOrInfinity: "ERR increment would produce NaN or Infinity",
} as const;

/** Most fields a packed hash holds before it moves to the indexed form. */
const PACK_MAX_ENTRIES = 32;
/** Longest packed string: a change copies it. */
const PACK_MAX_CHARS = 4096;

/** Where the entries of a packed string begin (after the count). */
function entriesStart(p: string): number {
  if (p.charCodeAt(0) < 128) return 1;
  readLen(p, 0);
  return lenEnd.after;
}

/** Whether `field` (its last char already compared) is at `at` in `p`.
 * Compared from the end: fields of one hash tend to share a prefix (a
 * loop is faster than startsWith for short fields). */
function sameAt(p: string, at: number, field: string): boolean {
  const len = field.length;
  if (len > 64) return p.startsWith(field, at);
  for (let k = len - 2; k >= 0; k--) {
    if (p.charCodeAt(at + k) !== field.charCodeAt(k)) return false;
  }
  return true;
}

/** The offset of the entry of `field` in packed string `p`, or -1; sets
 * `after` to where the length of its value begins. */
function findField(p: string, field: string): number {
  const end = p.length;
  const len = field.length;
  const last = len === 0 ? -1 : field.charCodeAt(len - 1);
  let i = entriesStart(p);
  while (i < end) {
    let n = p.charCodeAt(i);
    let at = i + 1;
    if (n >= 128) {
      n = readLen(p, i);
      at = lenEnd.after;
    }
    if (
      n === len &&
      (len === 0 ||
        (p.charCodeAt(at + len - 1) === last && sameAt(p, at, field)))
    ) {
      lenEnd.after = at + n;
      return i;
    }
    at += n;
    n = p.charCodeAt(at);
    if (n < 128) i = at + 1 + n;
    else i = readLen(p, at) + lenEnd.after;
  }
  return -1;
}

/** The offset of entry `pos` of packed string `p`. */
function offsetOf(p: string, pos: number): number {
  let i = entriesStart(p);
  for (let k = 0; k < pos; k++) {
    const fl = readLen(p, i);
    i = readLen(p, lenEnd.after + fl) + lenEnd.after;
  }
  return i;
}

/** Calls `fn` with each field and value of packed string `p`. */
function forEachPacked(
  p: string,
  fn: (field: string, value: string) => void,
): void {
  let i = entriesStart(p);
  while (i < p.length) {
    const fl = readLen(p, i);
    const f = p.slice(lenEnd.after, lenEnd.after + fl);
    const vl = readLen(p, lenEnd.after + fl);
    i = lenEnd.after + vl;
    fn(f, p.slice(lenEnd.after, i));
  }
}

/** A hash past the packed form: the indexed table, and whether Redis
 * would still call it a listpack. */
class Indexed {
  constructor(readonly table: StringTable, public listpack: boolean) {}
}

/** The empty packed hash: a count of 0. */
const EMPTY = "\x00";

/**
 * A hash value: fields and values, byte strings. OBJECT ENCODING says
 * `listpack` (insertion order kept) until it has more than
 * `hash-max-listpack-entries` fields or a field or value longer than
 * `hash-max-listpack-value`, `hashtable` for good after that.
 *
 * @example
 * ```ts
 * import { defaultEncodingLimits, Hash } from "@kv/store";
 * const hash = new Hash();
 * hash.set("name", "kv", defaultEncodingLimits());
 * console.log(hash.get("name"), hash.size); // "kv" 1
 * ```
 */
export class Hash implements Container {
  // The packed string (the count, then the entries), or the indexed form.
  // One field only: a small hash is this object and one string.
  #d: string | Indexed = EMPTY;

  /** The type, as TYPE names it. */
  get type(): "hash" {
    return "hash";
  }

  /** Number of fields. */
  get size(): number {
    const d = this.#d;
    if (typeof d !== "string") return d.table.keys.length;
    const n = d.charCodeAt(0);
    return n < 128 ? n : readLen(d, 0);
  }

  /** True while the hash is small enough for Redis's listpack encoding. */
  get isListpack(): boolean {
    const d = this.#d;
    return typeof d === "string" || d.listpack;
  }

  /** A copy that later changes to either side do not affect. */
  clone(): Hash {
    const h = new Hash();
    const d = this.#d;
    h.#d = typeof d === "string" ? d : new Indexed(d.table.clone(), d.listpack);
    return h;
  }

  /** OBJECT ENCODING: `listpack` or `hashtable`. */
  encoding(_limits: EncodingLimits): string {
    return this.isListpack ? "listpack" : "hashtable";
  }

  /** Moves a packed hash to the indexed form. */
  static #index(h: Hash, p: string, listpack: boolean): Indexed {
    const table = new StringTable(true);
    forEachPacked(p, (f, v) => table.put(f, v));
    return h.#d = new Indexed(table, listpack);
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    const d = this.#d;
    if (typeof d === "string") {
      if (findField(d, field) < 0) return undefined;
      const n = d.charCodeAt(lenEnd.after);
      if (n < 128) return d.slice(lenEnd.after + 1, lenEnd.after + 1 + n);
      const vl = readLen(d, lenEnd.after);
      return d.slice(lenEnd.after, lenEnd.after + vl);
    }
    const pos = d.table.find(field);
    return pos < 0 ? undefined : d.table.keys[pos].slice(field.length);
  }

  /** Whether `field` exists. */
  has(field: string): boolean {
    const d = this.#d;
    return typeof d === "string"
      ? findField(d, field) >= 0
      : d.table.find(field) >= 0;
  }

  /** Sets `field` to `value`; true when the field is new. `limits` decide
   * when the hash stops being a listpack. */
  set(field: string, value: string, limits: EncodingLimits): boolean {
    let d = this.#d;
    const long = field.length > limits.hashMaxListpackValue ||
      value.length > limits.hashMaxListpackValue;
    if (typeof d === "string") {
      if (long) {
        d = Hash.#index(this, d, false);
      } else if (findField(d, field) >= 0) {
        const at = lenEnd.after;
        const vl = readLen(d, at);
        const end = lenEnd.after + vl;
        if (vl === value.length && d.startsWith(value, lenEnd.after)) {
          return false;
        }
        if (d.length - vl + value.length <= PACK_MAX_CHARS) {
          this.#d = [
            d.slice(0, at),
            lenChars(value.length),
            value,
            d.slice(end),
          ]
            .join("");
          return false;
        }
        d = Hash.#index(this, d, true);
      } else {
        const count = this.size;
        if (
          count < PACK_MAX_ENTRIES && count < limits.hashMaxListpackEntries &&
          d.length + field.length + value.length + 4 <= PACK_MAX_CHARS
        ) {
          const start = count < 127 ? 1 : entriesStart(d);
          this.#d = [
            lenChars(count + 1),
            start === d.length ? "" : d.slice(start),
            lenChars(field.length),
            field,
            lenChars(value.length),
            value,
          ].join("");
          return true;
        }
        d = Hash.#index(this, d, true);
      }
    } else if (long) {
      d.listpack = false;
    }
    if (!d.table.put(field, value)) return false;
    if (d.listpack && d.table.keys.length > limits.hashMaxListpackEntries) {
      d.listpack = false;
    }
    return true;
  }

  /** Removes `field`; true when it was there. */
  delete(field: string): boolean {
    const d = this.#d;
    if (typeof d === "string") {
      const start = findField(d, field);
      if (start < 0) return false;
      const vl = readLen(d, lenEnd.after);
      const end = lenEnd.after + vl;
      const count = this.size - 1;
      const first = entriesStart(d);
      this.#d = count === 0
        ? EMPTY
        : [lenChars(count), d.slice(first, start), d.slice(end)].join("");
      return true;
    }
    const table = d.table;
    const pos = table.find(field);
    if (pos < 0) return false;
    if (d.listpack) table.removeOrdered(pos);
    else table.removeAt(pos);
    return true;
  }

  /** Calls `fn` with each field and value, in storage order (insertion
   * order while a listpack). */
  forEach(fn: (field: string, value: string) => void): void {
    const d = this.#d;
    if (typeof d === "string") return forEachPacked(d, fn);
    const table = d.table;
    const keys = table.keys;
    const n = keys.length;
    for (let pos = 0; pos < n; pos++) {
      const fl = table.fieldLength(pos);
      const entry = keys[pos];
      fn(entry.slice(0, fl), entry.slice(fl));
    }
  }

  /** Every field and value in storage order, flat: `[field, value, ...]`. */
  flat(): string[] {
    const out = new Array<string>(this.size * 2);
    let o = 0;
    this.forEach((f, v) => {
      out[o++] = f;
      out[o++] = v;
    });
    return out;
  }

  /** The field at `pos` (0 <= pos < size), in storage order: O(1) past
   * the packed form, O(size) in it. */
  fieldAt(pos: number): string {
    const d = this.#d;
    if (typeof d === "string") {
      const fl = readLen(d, offsetOf(d, pos));
      return d.slice(lenEnd.after, lenEnd.after + fl);
    }
    return d.table.keys[pos].slice(0, d.table.fieldLength(pos));
  }

  /** The value at `pos` (0 <= pos < size), in storage order: O(1) past
   * the packed form, O(size) in it. */
  valueAt(pos: number): string {
    const d = this.#d;
    if (typeof d === "string") {
      const fl = readLen(d, offsetOf(d, pos));
      const vl = readLen(d, lenEnd.after + fl);
      return d.slice(lenEnd.after, lenEnd.after + vl);
    }
    return d.table.keys[pos].slice(d.table.fieldLength(pos));
  }

  /** The fields in storage order (insertion order while a listpack). */
  fields(): string[] {
    const out: string[] = [];
    this.forEach((f) => out.push(f));
    return out;
  }

  /** The values, in the order of {@linkcode Hash.fields}. */
  values(): string[] {
    const out: string[] = [];
    this.forEach((_, v) => out.push(v));
    return out;
  }

  /** The commands that build this hash again at `key`. */
  *rewrite(key: string, batch: number): Iterable<string[]> {
    const d = this.#d;
    if (typeof d === "string") {
      const all = this.flat();
      for (let i = 0; i < all.length; i += batch * 2) {
        yield ["HSET", key, ...all.slice(i, i + batch * 2)];
      }
      return;
    }
    const n = d.table.keys.length;
    for (let i = 0; i < n; i += batch) {
      const cmd = ["HSET", key];
      const end = Math.min(n, i + batch);
      for (let p = i; p < end; p++) cmd.push(this.fieldAt(p), this.valueAt(p));
      yield cmd;
    }
  }
}

/** Hashes, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.hashes`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.hashes.hset("user:1", [["name", "Ada"], ["visits", "1"]]);
 * store.hashes.hincrby("user:1", "visits", 2);
 * console.log(store.hashes.hget("user:1", "visits")); // "3"
 * console.log(store.hashes.hgetall("user:1")); // [["name", "Ada"], ["visits", "3"]]
 * ```
 */
export class HashOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  #read(key: string): Hash | undefined {
    return this.#store.readAs<Hash>(key, "hash");
  }

  /** HSET (and HMSET): sets each field; how many fields were new. */
  hset(key: string, pairs: Iterable<readonly [string, string]>): number {
    const store = this.#store;
    const hash = store.writable(key, "hash", () => new Hash())!;
    const limits = store.limits;
    let added = 0;
    let changed = 0;
    for (const [f, v] of pairs) {
      if (hash.set(f, v, limits)) added++;
      changed++;
    }
    store.written(key, hash);
    store.dirty += changed;
    return added;
  }

  /** HSET with the fields and values flat (`field, value, field, ...`)
   * from `argv[from]` on, as the command sends them; how many fields were
   * new. */
  hsetFlat(key: string, argv: readonly string[], from = 0): number {
    const store = this.#store;
    const hash = store.writable(key, "hash", () => new Hash())!;
    const limits = store.limits;
    let added = 0;
    for (let i = from; i + 1 < argv.length; i += 2) {
      if (hash.set(argv[i], argv[i + 1], limits)) added++;
    }
    store.written(key, hash);
    store.dirty += (argv.length - from) >> 1;
    return added;
  }

  /** HSETNX: sets the field only when it does not exist; true when it
   * did. */
  hsetnx(key: string, field: string, value: string): boolean {
    const store = this.#store;
    const found = store.lookupAs<Hash>(key, "hash");
    if (found?.has(field)) return false;
    const hash = store.writable(key, "hash", () => new Hash())!;
    hash.set(field, value, store.limits);
    store.dirty++;
    return true;
  }

  /** HGET: the value of the field, or undefined. */
  hget(key: string, field: string): string | undefined {
    return this.#read(key)?.get(field);
  }

  /** HMGET: the value of each field (undefined when missing). */
  hmget(key: string, fields: readonly string[]): (string | undefined)[] {
    const hash = this.#read(key);
    return fields.map((f) => hash?.get(f));
  }

  /** HGETALL: every field and value, in the hash's order. */
  hgetall(key: string): [string, string][] {
    const out: [string, string][] = [];
    this.#read(key)?.forEach((f, v) => out.push([f, v]));
    return out;
  }

  /** HKEYS: every field. */
  hkeys(key: string): string[] {
    return this.#read(key)?.fields() ?? [];
  }

  /** HVALS: every value. */
  hvals(key: string): string[] {
    return this.#read(key)?.values() ?? [];
  }

  /** HDEL: removes the fields; how many existed. The key goes away with
   * its last field. */
  hdel(key: string, fields: readonly string[]): number {
    const store = this.#store;
    const hash = store.writable<Hash>(key, "hash");
    if (hash === undefined) return 0;
    let removed = 0;
    for (const f of fields) {
      if (hash.delete(f)) {
        removed++;
        if (hash.size === 0) break;
      }
    }
    store.written(key, hash);
    store.dirty += removed;
    return removed;
  }

  /** HEXISTS. */
  hexists(key: string, field: string): boolean {
    return this.#read(key)?.has(field) ?? false;
  }

  /** HLEN: the number of fields, 0 when missing. */
  hlen(key: string): number {
    return this.#read(key)?.size ?? 0;
  }

  /** HSTRLEN: the length of the field's value, 0 when missing. */
  hstrlen(key: string, field: string): number {
    return this.#read(key)?.get(field)?.length ?? 0;
  }

  /** HINCRBY: adds `by` to the field's integer value (0 when missing);
   * the new value (a bigint beyond 2^53). */
  hincrby(key: string, field: string, by: number | bigint): number | bigint {
    const store = this.#store;
    const hash = store.writable(key, "hash", () => new Hash())!;
    const old = hash.get(field);
    let current: number | bigint = 0;
    if (old !== undefined) {
      const parsed = parseInt64(old);
      if (parsed === null) throw new StoreError(HASH_ERRORS.notInteger);
      current = parsed;
    }
    const next = addInt64(current, by);
    if (next === null) {
      store.written(key, hash);
      throw new StoreError(HASH_ERRORS.overflow);
    }
    hash.set(field, intToString(next), store.limits);
    store.dirty++;
    return next;
  }

  /** HINCRBYFLOAT: adds `by` (a float as a string) to the field's value;
   * the new value, formatted as Redis does. */
  hincrbyfloat(key: string, field: string, by: string): string {
    const store = this.#store;
    const hash = store.writable(key, "hash", () => new Hash())!;
    const old = hash.get(field);
    const next = addFloatStrings(old ?? "0", by);
    if (next === null) {
      store.written(key, hash);
      throw new StoreError(HASH_ERRORS.notFloat);
    }
    if (next === "inf") {
      store.written(key, hash);
      throw new StoreError(HASH_ERRORS.nanOrInfinity);
    }
    hash.set(field, next, store.limits);
    store.dirty++;
    return next;
  }

  /** HRANDFIELD without a count: a random field. */
  hrandfield(key: string): string | undefined {
    const hash = this.#read(key);
    if (hash === undefined) return undefined;
    return hash.fieldAt(Math.floor(Math.random() * hash.size));
  }

  /** HRANDFIELD with a count: `count` distinct fields with their values
   * when positive (the whole hash, in order, when count >= size), `-count`
   * that may repeat when negative. */
  hrandfieldCount(key: string, count: number): [string, string][] {
    const hash = this.#read(key);
    const out: [string, string][] = [];
    if (hash === undefined || count === 0) return out;
    const size = hash.size;
    if (count >= size) {
      hash.forEach((f, v) => out.push([f, v]));
      return out;
    }
    // A listpack is read whole once (a packed one has no positions).
    const all = hash.isListpack ? hash.flat() : undefined;
    const pick = (p: number) => {
      out.push(
        all === undefined
          ? [hash.fieldAt(p), hash.valueAt(p)]
          : [all[2 * p], all[2 * p + 1]],
      );
    };
    if (count < 0) {
      for (let i = 0; i < -count; i++) pick(Math.floor(Math.random() * size));
    } else {
      for (const p of distinctPicks(size, count)) pick(p);
    }
    return out;
  }

  /** HSCAN: one step of an iteration (cursor 0 to begin). A listpack hash
   * comes back whole with cursor 0, as in Redis. */
  hscan(
    key: string,
    cursor: number,
    options: FieldScanOptions = {},
  ): FieldScanStep<[string, string]> {
    const hash = this.#read(key);
    const items: [string, string][] = [];
    if (hash === undefined) return { cursor: 0, items };
    const match = options.match === "*" ? undefined : options.match;
    const visit = (p: number) => {
      const f = hash.fieldAt(p);
      if (match === undefined || globMatch(match, f)) {
        items.push([f, hash.valueAt(p)]);
      }
    };
    if (hash.isListpack) {
      hash.forEach((f, v) => {
        if (match === undefined || globMatch(match, f)) items.push([f, v]);
      });
      return { cursor: 0, items };
    }
    return {
      cursor: scanPositions(hash.size, cursor, options.count ?? 10, visit),
      items,
    };
  }
}
