// Hashes
//
// Fields live in a dense array indexed by an open-addressing table
// (StringTable, shared with sets), values in a parallel array: a random
// field is one index away (HRANDFIELD is O(1) per field). While the hash is
// small (listpack in Redis) removal keeps the insertion order, so replies
// come out in Redis's order; after that a removal swaps in the last field.

import type { Container, EncodingLimits, Store } from "../store.ts";
import { addFloatStrings, addInt64, parseInt64 } from "../_number.ts";
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
  #table: StringTable;
  #listpack = true;

  /** An empty hash. */
  constructor() {
    this.#table = new StringTable(true);
  }

  /** The type, as TYPE names it. */
  get type(): "hash" {
    return "hash";
  }

  /** Number of fields. */
  get size(): number {
    return this.#table.keys.length;
  }

  /** True while the hash is small enough for Redis's listpack encoding. */
  get isListpack(): boolean {
    return this.#listpack;
  }

  /** A copy that later changes to either side do not affect. */
  clone(): Hash {
    const h = new Hash();
    h.#table = this.#table.clone();
    h.#listpack = this.#listpack;
    return h;
  }

  /** OBJECT ENCODING: `listpack` or `hashtable`. */
  encoding(_limits: EncodingLimits): string {
    return this.#listpack ? "listpack" : "hashtable";
  }

  /** The value of `field`, or undefined. */
  get(field: string): string | undefined {
    const pos = this.#table.find(field);
    return pos < 0 ? undefined : this.#table.keys[pos].slice(field.length);
  }

  /** Whether `field` exists. */
  has(field: string): boolean {
    return this.#table.find(field) >= 0;
  }

  /** Sets `field` to `value`; true when the field is new. `limits` decide
   * when the hash stops being a listpack. */
  set(field: string, value: string, limits: EncodingLimits): boolean {
    if (
      this.#listpack &&
      (field.length > limits.hashMaxListpackValue ||
        value.length > limits.hashMaxListpackValue)
    ) this.#listpack = false;
    if (!this.#table.put(field, value)) return false;
    if (this.#listpack && this.size > limits.hashMaxListpackEntries) {
      this.#listpack = false;
    }
    return true;
  }

  /** Removes `field`; true when it was there. */
  delete(field: string): boolean {
    const pos = this.#table.find(field);
    if (pos < 0) return false;
    if (this.#listpack) this.#table.removeOrdered(pos);
    else this.#table.removeAt(pos);
    return true;
  }

  /** The field at `pos` (0 <= pos < size), in storage order. */
  fieldAt(pos: number): string {
    return this.#table.keys[pos].slice(0, this.#table.fieldLength(pos));
  }

  /** The value at `pos` (0 <= pos < size), in storage order. */
  valueAt(pos: number): string {
    return this.#table.keys[pos].slice(this.#table.fieldLength(pos));
  }

  /** The fields in storage order (insertion order while a listpack). */
  fields(): string[] {
    const n = this.size;
    const out = new Array<string>(n);
    for (let p = 0; p < n; p++) out[p] = this.fieldAt(p);
    return out;
  }

  /** The values, in the order of {@linkcode Hash.fields}. */
  values(): string[] {
    const n = this.size;
    const out = new Array<string>(n);
    for (let p = 0; p < n; p++) out[p] = this.valueAt(p);
    return out;
  }

  /** The commands that build this hash again at `key`. */
  *rewrite(key: string, batch: number): Iterable<string[]> {
    const n = this.size;
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
    const hash = this.#read(key);
    if (hash === undefined) return [];
    const out: [string, string][] = [];
    for (let p = 0; p < hash.size; p++) {
      out.push([hash.fieldAt(p), hash.valueAt(p)]);
    }
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
    hash.set(field, String(next), store.limits);
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
    if (count < 0) {
      for (let i = 0; i < -count; i++) {
        const p = Math.floor(Math.random() * size);
        out.push([hash.fieldAt(p), hash.valueAt(p)]);
      }
      return out;
    }
    if (count >= size) {
      for (let p = 0; p < size; p++) {
        out.push([hash.fieldAt(p), hash.valueAt(p)]);
      }
      return out;
    }
    for (const p of distinctPicks(size, count)) {
      out.push([hash.fieldAt(p), hash.valueAt(p)]);
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
      for (let p = 0; p < hash.size; p++) visit(p);
      return { cursor: 0, items };
    }
    return {
      cursor: scanPositions(hash.size, cursor, options.count ?? 10, visit),
      items,
    };
  }
}
