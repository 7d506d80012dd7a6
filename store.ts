/**
 * The keyspace: keys, values and expiry, with no I/O and no wire format, so
 * the server, persistence and embedded users share it.
 *
 * Keys and values are byte strings (one JavaScript char per byte, 0-255),
 * which keeps any bytes intact and lets V8 store them compactly. Plain
 * ASCII text is already a valid byte string.
 *
 * @example Expiry with an injected clock: no sleeping
 * ```ts
 * import { Store } from "@kv/store";
 * let now = 1_000;
 * const store = new Store({ clock: () => now });
 * store.set("session", "abc", { expireAt: now + 500 });
 * now += 501;
 * console.log(store.get("session")); // undefined
 * ```
 * @module
 */

import { globMatch } from "./_glob.ts";
import { STORE_ERRORS, StoreError } from "./_errors.ts";
import { HashOps } from "./data/hash.ts";
import { ListOps } from "./data/list.ts";
import { SetOps } from "./data/set.ts";
import { SortedSetOps } from "./data/zset.ts";
import { StreamOps } from "./data/stream.ts";
import { Bitmap, BitmapOps } from "./data/bitmap.ts";
import { HyperLogLogOps } from "./data/hyperloglog.ts";
import { GeoOps } from "./data/geo.ts";
import {
  ENTRY_BYTES,
  MemoryManager,
  stringBytes,
  ValueSizes,
} from "./data/_memory.ts";
import {
  addFloatStrings,
  addInt64,
  intToString,
  isInt64Min,
  negate,
  parseInt64,
} from "./_number.ts";

/** Returns the current time in milliseconds since the epoch.
 *
 * @example
 * ```ts
 * import { type Clock, Store } from "@kv/store";
 * let now = 0;
 * const clock: Clock = () => now;
 * const store = new Store({ clock });
 * store.set("k", "v", { expireAt: 10 });
 * now = 11;
 * store.get("k"); // undefined
 * ```
 */
export type Clock = () => number;

/** Told when a WATCHed key changes (see {@linkcode Store.watched}).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.watched.set("k", { touched: (exists) => console.log(exists) });
 * store.set("k", "v"); // logs true
 * ```
 */
export interface KeyWatchers {
  /** The key was written (`exists`) or removed. */
  touched(exists: boolean): void;
}

/** Options of a {@linkcode Store}.
 *
 * @example
 * ```ts
 * import { Store, type StoreOptions } from "@kv/store";
 * const options: StoreOptions = { clock: () => Date.now() };
 * const store = new Store(options);
 * ```
 */
export interface StoreOptions {
  /** Source of time in milliseconds; defaults to `Date.now`. */
  clock?: Clock;
  /** Another database of the same server (Redis's numbered databases):
   * the new store shares its clock, its counters ({@linkcode Store.stats})
   * and its memory accounting and limit ({@linkcode Store.memory}), and
   * keeps keys of its own. */
  shareWith?: Store;
}

/** Options of {@linkcode Store.set}.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("k", "v", { expireAt: Date.now() + 60_000 });
 * store.set("k", "w", { keepTtl: true }); // still expires in a minute
 * ```
 */
export interface SetOptions {
  /** Absolute expiry time in milliseconds since the epoch. */
  expireAt?: number;
  /** Keep the key's current expiry instead of clearing it. */
  keepTtl?: boolean;
}

export { STORE_ERRORS, StoreError } from "./_errors.ts";

/** Options of {@linkcode Store.setIf}.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * const expireAt = Date.now() + 30_000;
 * store.setIf("lock", "me", { nx: true, expireAt }).written; // true
 * store.setIf("lock", "you", { nx: true, expireAt }).written; // false
 * ```
 */
export interface ConditionalSetOptions extends SetOptions {
  /** Only when the key does not exist. */
  nx?: boolean;
  /** Only when the key exists. */
  xx?: boolean;
  /** Read the previous value as a GET would (counted as a keyspace read). */
  get?: boolean;
}

/** Result of {@linkcode Store.setIf}.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("k", "old");
 * const { written, previous } = store.setIf("k", "new", { get: true });
 * console.log(written, previous); // true "old"
 * ```
 */
export interface ConditionalSetResult {
  /** Whether the value was written. */
  written: boolean;
  /** The value before, if any. */
  previous: string | undefined;
}

/** Conditions of {@linkcode Store.pexpireAt}, as EXPIRE's options.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("k", "v");
 * store.pexpireAt("k", Date.now() + 60_000, "NX"); // true: it had no TTL
 * store.pexpireAt("k", Date.now() + 90_000, "NX"); // false: it has one now
 * ```
 */
export type ExpireCondition = "NX" | "XX" | "GT" | "LT";

/** The longest string V8 can make. */
const MAX_STRING_LENGTH = 2 ** 29 - 24;

const KEEP_TTL: SetOptions = Object.freeze({ keepTtl: true });

/** The type of a value, as TYPE names it.
 *
 * @example
 * ```ts
 * import { Store, type ValueType } from "@kv/store";
 * const store = new Store();
 * store.lists.rpush("k", ["a"]);
 * const t: ValueType | "none" = store.type("k"); // "list"
 * ```
 */
export type ValueType = "string" | "list" | "set" | "zset" | "hash" | "stream";

/** The encoding thresholds of the redis.conf settings that choose how a
 * small container is kept (listpack, intset) and when it turns into a big
 * one (hashtable, skiplist); OBJECT ENCODING reports the result.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.limits.hashMaxListpackEntries = 128; // as the sample redis.conf
 * ```
 */
export interface EncodingLimits {
  /** `hash-max-listpack-entries` (512, redis-server's built-in default;
   * the sample redis.conf sets 128). */
  hashMaxListpackEntries: number;
  /** `hash-max-listpack-value` (64). */
  hashMaxListpackValue: number;
  /** `set-max-intset-entries` (512). */
  setMaxIntsetEntries: number;
  /** `zset-max-listpack-entries` (128). */
  zsetMaxListpackEntries: number;
  /** `zset-max-listpack-value` (64). */
  zsetMaxListpackValue: number;
  /** `list-max-listpack-size` (-2). */
  listMaxListpackSize: number;
  /** `list-compress-depth` (0). */
  listCompressDepth: number;
  /** `stream-node-max-bytes` (4096). */
  streamNodeMaxBytes: number;
  /** `stream-node-max-entries` (100). */
  streamNodeMaxEntries: number;
  /** `hll-sparse-max-bytes` (3000). */
  hllSparseMaxBytes: number;
}

/** Redis 7.0's defaults for {@linkcode EncodingLimits}. */
export function defaultEncodingLimits(): EncodingLimits {
  return {
    hashMaxListpackEntries: 512,
    hashMaxListpackValue: 64,
    setMaxIntsetEntries: 512,
    zsetMaxListpackEntries: 128,
    zsetMaxListpackValue: 64,
    listMaxListpackSize: -2,
    listCompressDepth: 0,
    streamNodeMaxBytes: 4096,
    streamNodeMaxEntries: 100,
    hllSparseMaxBytes: 3000,
  };
}

/**
 * A value other than a string: a list, set, sorted set, hash or stream
 * (one module each under `data/`). The store keeps it by reference and
 * changes it in place; {@linkcode Store.writable} makes sure a running
 * snapshot keeps its own copy first.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.hashes.hset("k", [["a", "1"], ["b", "2"]]);
 * const value = store.value("k");
 * if (typeof value === "object") console.log(value.type, value.size); // "hash" 2
 * ```
 */
export interface Container {
  /** The type, as TYPE names it. */
  readonly type: Exclude<ValueType, "string">;
  /** Number of elements; a key whose container becomes empty is removed
   * (streams excepted, as in Redis). */
  readonly size: number;
  /** A copy that later changes to either side do not affect. */
  clone(): Container;
  /** OBJECT ENCODING's name for it (listpack, quicklist, intset,
   * hashtable, skiplist, stream). */
  encoding(limits: EncodingLimits): string;
  /** The commands that build this value again at `key` (for log rewrites
   * and snapshots), each with at most about `batch` elements. */
  rewrite(key: string, batch: number): Iterable<string[]>;
}

/** What a key holds: a byte string, or a container.
 *
 * @example
 * ```ts
 * import { Store, type StoredValue } from "@kv/store";
 * const store = new Store();
 * store.set("k", "v");
 * const v: StoredValue | undefined = store.value("k"); // "v"
 * ```
 */
export type StoredValue = string | Container;

/** Counters kept by a {@linkcode Store}, as Redis reports them in INFO.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("k", "v");
 * store.read("k");
 * store.read("missing");
 * console.log(store.stats.hits, store.stats.misses, store.stats.expired); // 1 1 0
 * ```
 */
export interface StoreStats {
  /** Reads that found their key. */
  hits: number;
  /** Reads that did not. */
  misses: number;
  /** Keys removed because their time ran out. */
  expired: number;
}

/** The result of one {@linkcode Store.scan} call.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * for (let i = 0; i < 1000; i++) store.set(`key:${i}`, "v");
 * const found: string[] = [];
 * let cursor = 0;
 * do {
 *   const r = store.scan(cursor, 100);
 *   found.push(...r.keys);
 *   cursor = r.cursor;
 * } while (cursor !== 0);
 * console.log(found.length); // 1000
 * ```
 */
export interface ScanResult {
  /** Cursor for the next call; 0 when the iteration is complete. */
  cursor: number;
  /** Keys found in this call. */
  keys: string[];
}

const SCAN_SLOTS = 256;

/** One entry of a snapshot: key, value, and absolute expiry in ms (or
 * undefined).
 *
 * @example
 * ```ts
 * import { type SnapshotEntry, Store } from "@kv/store";
 * const store = new Store();
 * store.set("k", "v");
 * using snap = store.snapshot();
 * const [key, value, expireAt]: SnapshotEntry = snap.next(1)[0]; // "k", "v", undefined
 * ```
 */
export type SnapshotEntry = [
  key: string,
  value: StoredValue,
  expireAt?: number,
];

const ABSENT = 0;
const VISITED_SHARD = 1 << 16;

function visitedHas(shards: Set<string>[], key: string): boolean {
  for (let i = shards.length - 1; i >= 0; i--) {
    if (shards[i].has(key)) return true;
  }
  return false;
}

function visitedAdd(shards: Set<string>[], key: string): void {
  let last = shards[shards.length - 1];
  if (last === undefined || last.size >= VISITED_SHARD) {
    last = new Set();
    shards.push(last);
  }
  last.add(key);
}

interface SnapshotState {
  /** When the snapshot was taken: keys expired by then are left out. */
  readonly time: number;
  /** The maps as they were when it began (replaced, not cleared, by a
   * flush meanwhile). */
  readonly data: Map<string, StoredValue | Bitmap>;
  readonly expires: Map<string, number>;
  readonly iterator: Iterator<string>;
  /** Keys already read, in sets of at most VISITED_SHARD keys: one big set
   * would stall everything while it rehashes as it grows. */
  readonly visited: Set<string>[];
  /** Keys changed before they were read: their value at the start, or
   * ABSENT when they did not exist yet. */
  readonly preimages: Map<
    string,
    [StoredValue | Bitmap, number | undefined] | typeof ABSENT
  >;
  /** Keys changed after they were read. */
  readonly changedAfterRead: Set<string>;
  done: boolean;
  /** The store whose keys it reads: SWAPDB hands it to the other store
   * with the keys, closing it must clear that store's. */
  owner: Store;
}

/**
 * A consistent, point-in-time view of a {@linkcode Store}, read a chunk at
 * a time while writes go on (copy-on-write: a key changed before it is read
 * has its old value kept aside). Get one from {@linkcode Store.snapshot}.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * for (let i = 0; i < 2500; i++) store.set(`key:${i}`, "v");
 * using snap = store.snapshot();
 * for (let chunk = snap.next(1000); chunk.length > 0; chunk = snap.next(1000)) {
 *   console.log(chunk.length); // 1000, 1000, 500
 * }
 * ```
 */
export interface Snapshot extends Disposable {
  /** When the snapshot was taken (ms since the epoch, on the store's clock). */
  readonly time: number;
  /** Up to `max` more entries; an empty array once all were read. */
  next(max: number): SnapshotEntry[];
  /** Stops keeping old values; the snapshot cannot be read after this. */
  close(): void;
}

interface ScanState {
  cursor: number;
  iterator: Iterator<string>;
  position: number;
}

/**
 * An in-memory keyspace of string values with millisecond expiry: lazy on
 * access plus {@linkcode Store.activeExpireCycle} for keys nobody touches.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.set("greeting", "hello");
 * console.log(store.get("greeting")); // "hello"
 * console.log(store.keys("greet*")); // ["greeting"]
 * ```
 */
export class Store {
  /** The clock used for expiry. */
  readonly clock: Clock;
  /** Read and expiry counters. */
  readonly stats: StoreStats;
  /** Called with each key removed because its time ran out (lazily or by
   * the active cycle): the server publishes the `expired` notification. */
  onExpire: ((key: string) => void) | null = null;
  /** Called with each key added to the keyspace (not when a value is
   * replaced): the server publishes the `new` notification. */
  onNew: ((key: string) => void) | null = null;
  /** Called with each key a read found missing (counted as a keyspace
   * miss): the server publishes the `keymiss` notification. */
  onMiss: ((key: string) => void) | null = null;
  /** Writes since the counter was last reset (Redis's `dirty`); the
   * command methods count, the primitives (set, delete, ...) do not. */
  dirty = 0;
  /** Longest string APPEND and SETRANGE may build (proto-max-bulk-len). */
  maxStringLength = 512 * 1024 * 1024;
  /** Encoding thresholds (the redis.conf settings of each type). */
  limits: EncodingLimits = defaultEncodingLimits();
  #data = new Map<string, StoredValue | Bitmap>();
  // Expiry lives beside the data, as in Redis: most keys have none.
  #expires = new Map<string, number>();
  #expireCursor: Iterator<[string, number]> | null = null;
  #avgTtl = 0;
  #randomCursor: Iterator<string> | null = null;
  /** Live SCAN iterators by cursor slot; made by the first SCAN (an empty
   * database costs less without them). */
  #scanSlots: (ScanState | undefined)[] | null = null;
  #snapshot: SnapshotState | null = null;
  #nextScanSlot = 1;
  // Memory accounting (data/_memory.ts): estimated bytes of keys and
  // values, and per-key access data while an LRU/LFU policy needs it.
  #bytes = 0;
  #sizes = new ValueSizes();
  #access: Map<string, number> | null = null;
  #accessMode: 0 | 1 | 2 = 0;
  #sampleCursor: Iterator<string> | null = null;
  #volatileCursor: Iterator<string> | null = null;
  #samples: string[] = [];
  /** Memory use, the memory limit and eviction (maxmemory). */
  readonly memory: MemoryManager;

  /** Keys that clients WATCH (commands/transactions.ts), each told when
   * its key is written or removed; empty when nobody watches, and then
   * each write checks only its size. */
  readonly watched: Map<string, KeyWatchers> = new Map();
  /** Watched keys changed in place by the running command, not yet
   * signalled (see {@linkcode Store.settleTouches}). */
  touchesPending = false;
  /** Told of each key written while clients block on keys
   * (commands/blocking.ts); null when none do. */
  keyReady: ((key: string) => void) | null = null;
  /** Told of each key written or removed, and of flushes (`null`), while
   * clients track keys for client-side caching (commands/tracking.ts);
   * null when none do. */
  keyModified: ((key: string | null) => void) | null = null;
  #pendingTouches: string[] = [];

  /** Creates an empty store. */
  constructor(options: StoreOptions = {}) {
    const other = options.shareWith;
    if (other !== undefined) {
      this.clock = other.clock;
      this.stats = other.stats;
      this.maxStringLength = other.maxStringLength;
      this.limits = other.limits;
      this.memory = other.memory;
      this.memory.attach(this);
    } else {
      this.clock = options.clock ?? Date.now;
      this.stats = { hits: 0, misses: 0, expired: 0 };
      this.memory = new MemoryManager(this);
    }
  }

  // The operations of each type, one module each under data/.
  #hashes?: HashOps;
  #lists?: ListOps;
  #sets?: SetOps;
  #zsets?: SortedSetOps;
  #streams?: StreamOps;
  #bitmaps?: BitmapOps;
  #hyperloglogs?: HyperLogLogOps;
  #geo?: GeoOps;

  /** Hash operations (HSET, HGET, ...). */
  get hashes(): HashOps {
    return this.#hashes ??= new HashOps(this);
  }
  /** List operations (LPUSH, RPOP, ...). */
  get lists(): ListOps {
    return this.#lists ??= new ListOps(this);
  }
  /** Set operations (SADD, SINTER, ...). */
  get sets(): SetOps {
    return this.#sets ??= new SetOps(this);
  }
  /** Sorted set operations (ZADD, ZRANGE, ...). */
  get zsets(): SortedSetOps {
    return this.#zsets ??= new SortedSetOps(this);
  }
  /** Stream operations (XADD, XREADGROUP, ...). */
  get streams(): StreamOps {
    return this.#streams ??= new StreamOps(this);
  }
  /** Bit operations on strings (SETBIT, BITCOUNT, BITFIELD, ...) and LCS. */
  get bitmaps(): BitmapOps {
    return this.#bitmaps ??= new BitmapOps(this);
  }
  /** HyperLogLog operations (PFADD, PFCOUNT, PFMERGE). */
  get hyperloglogs(): HyperLogLogOps {
    return this.#hyperloglogs ??= new HyperLogLogOps(this);
  }
  /** Geo operations on sorted sets (GEOADD, GEOSEARCH, ...). */
  get geo(): GeoOps {
    return this.#geo ??= new GeoOps(this);
  }

  /** Number of keys, counting expired keys not reclaimed yet (as DBSIZE). */
  get size(): number {
    return this.#data.size;
  }

  /** Estimated average TTL in ms of keys that have one, from the active
   * cycle's samples (INFO keyspace's `avg_ttl`); 0 when unknown. */
  get averageTtl(): number {
    return this.#expires.size === 0 ? 0 : Math.round(this.#avgTtl);
  }

  /** Number of keys that have an expiry. */
  get volatileSize(): number {
    return this.#expires.size;
  }

  /** Deletes `key` if its time ran out; true when it did. */
  #expireIfNeeded(key: string, now: number): boolean {
    const at = this.#expires.get(key);
    if (at === undefined || now <= at) return false;
    if (this.#snapshot !== null) this.#preserve(key);
    this.#drop(key);
    this.#expires.delete(key);
    this.stats.expired++;
    if (this.onExpire !== null) this.onExpire(key);
    return true;
  }

  /** Stores `v` at `key`, keeping the byte count. `old`: the value there,
   * when the caller has just read it (saves a look-up). */
  #put(
    key: string,
    v: StoredValue | Bitmap,
    old: StoredValue | Bitmap | undefined = this.#data.get(key),
  ): void {
    if (old === undefined) {
      this.#bytes += ENTRY_BYTES + stringBytes(key.length);
      if (this.onNew !== null) this.onNew(key);
    } else this.#bytes -= this.#sizes.remove(old);
    this.#bytes += this.#sizes.add(v);
    this.#data.set(key, v);
  }

  /** Removes `key` from the data, keeping the byte count; true when it
   * was there. */
  #drop(key: string): boolean {
    const old = this.#data.get(key);
    if (old === undefined) return false;
    this.#bytes -= ENTRY_BYTES + stringBytes(key.length) +
      this.#sizes.remove(old);
    this.#data.delete(key);
    if (this.#access !== null) this.#access.delete(key);
    if (this.watched.size !== 0 || this.keyModified !== null) {
      this.#signal(key);
    }
    // A blocked XREADGROUP learns its stream is gone.
    if (this.keyReady !== null) this.keyReady(key);
    return true;
  }

  /** Tells whoever WATCHes `key` that it changed (written or removed). */
  #signal(key: string): void {
    const w = this.watched.get(key);
    if (w !== undefined) w.touched(this.#data.has(key));
    if (this.keyModified !== null) this.keyModified(key);
  }

  /** Tells WATCH and client-side caching that `key` was modified even if
   * its content did not change, for the commands Redis signals always
   * (LSET, LTRIM, HINCRBY, HINCRBYFLOAT). */
  signalModified(key: string): void {
    if (this.watched.size !== 0 || this.keyModified !== null) {
      this.#signal(key);
    }
  }

  /** Signals the watched keys that in-place changes of containers touched
   * when the command changed something (`dirty` moved), else forgets them;
   * the dispatcher calls it after a command while `touchesPending`. */
  settleTouches(changed: boolean): void {
    const keys = this.#pendingTouches;
    this.#pendingTouches = [];
    this.touchesPending = false;
    if (!changed) return;
    for (const key of keys) this.#signal(key);
  }

  /** Records an access to `key` (LRU clock or LFU counter). */
  #touch(key: string): void {
    const a = this.#access!;
    a.set(key, this.memory.accessed(a.get(key), this.#accessMode));
  }

  /** Estimated bytes of the keys, values, expiry and access data (see
   * data/_memory.ts); O(1). */
  get usedBytes(): number {
    return this.#bytes +
      (this.#expires.size + (this.#access?.size ?? 0)) * ENTRY_BYTES;
  }

  /** Per-key access data kept: 0 none, 1 LRU, 2 LFU. */
  get accessMode(): 0 | 1 | 2 {
    return this.#accessMode;
  }

  /** Starts (or stops, with 0) keeping per-key access data; what was kept
   * is dropped. Used by {@linkcode MemoryManager}. */
  trackAccess(mode: 0 | 1 | 2): void {
    this.#accessMode = mode;
    this.#access = mode === 0 ? null : new Map();
  }

  /** Sets the access data of an existing `key` while access data is kept
   * (RESTORE's IDLETIME and FREQ). */
  setAccess(key: string, data: number): void {
    if (this.#access !== null && this.#data.has(key)) {
      this.#access.set(key, data);
    }
  }

  /** The access data of `key` (LRU seconds or packed LFU), if any. */
  accessOf(key: string): number | undefined {
    return this.#access?.get(key);
  }

  /** The value at `key` of any type, as kept (a bitmap stays one),
   * without counting or touching it (OBJECT, MEMORY USAGE). */
  peek(key: string): StoredValue | Bitmap | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    return this.#data.get(key);
  }

  /** Up to `count` live keys (of those with an expiry when `volatile`)
   * from where a rotating iterator is, after a random skip: eviction's
   * samples. The array is reused by the next call. */
  sampleKeys(volatile: boolean, count: number): string[] {
    const out = this.#samples;
    out.length = 0;
    const map = volatile ? this.#expires : this.#data;
    if (map.size === 0) return out;
    // A random start on each sweep; the pool does the rest.
    let skip = (volatile ? this.#volatileCursor : this.#sampleCursor) === null
      ? Math.floor(Math.random() * Math.min(map.size, count))
      : 0;
    const now = this.clock();
    let wraps = 0;
    while (out.length < count && out.length < map.size) {
      let it = volatile ? this.#volatileCursor : this.#sampleCursor;
      if (it === null) {
        it = map.keys();
        if (volatile) this.#volatileCursor = it;
        else this.#sampleCursor = it;
      }
      const r = it.next();
      if (r.done) {
        if (volatile) this.#volatileCursor = null;
        else this.#sampleCursor = null;
        if (++wraps > 2) break;
        continue;
      }
      if (skip > 0) {
        skip--;
        continue;
      }
      const key = r.value;
      if (this.#expires.size !== 0 && this.#expireIfNeeded(key, now)) continue;
      out.push(key);
    }
    return out;
  }

  /** The string value of `key`, or undefined when missing or expired.
   * Throws WRONGTYPE when the key holds another type. */
  get(key: string): string | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    const v = this.#data.get(key);
    if (this.#access !== null && v !== undefined) this.#touch(key);
    if (typeof v === "object") {
      if (v instanceof Bitmap) return this.#demote(key, v);
      throw new StoreError(STORE_ERRORS.wrongType);
    }
    return v;
  }

  /** A bitmap kept for the bit commands turns back into a byte string for
   * every other reader (O(n), as GET's reply). */
  #demote(key: string, v: Bitmap): string {
    // A bitmap past V8's longest string (SETBIT near 2^32) cannot be read
    // as a string: an error, not a dropped connection.
    if (v.bytes.length > MAX_STRING_LENGTH) {
      throw new StoreError(STORE_ERRORS.tooBig);
    }
    const s = v.toString();
    this.#put(key, s);
    return s;
  }

  /** The string at `key` for a bit command that reads (a hit or a miss):
   * its bytes in place, without copying. Throws WRONGTYPE. */
  readBits(key: string): string | Uint8Array | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    const v = this.#data.get(key);
    if (v === undefined) {
      this.stats.misses++;
      if (this.onMiss !== null) this.onMiss(key);
      return undefined;
    }
    this.stats.hits++;
    if (this.#access !== null) this.#touch(key);
    if (typeof v === "string") return v;
    if (v instanceof Bitmap) return v.bytes;
    throw new StoreError(STORE_ERRORS.wrongType);
  }

  /** Like readBits without counting (write commands' lookups). */
  readBitsQuiet(key: string): string | Uint8Array | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    const v = this.#data.get(key);
    if (v === undefined || typeof v === "string") return v;
    if (v instanceof Bitmap) return v.bytes;
    throw new StoreError(STORE_ERRORS.wrongType);
  }

  /** The string at `key` as a mutable {@linkcode Bitmap} for SETBIT and
   * BITFIELD (made empty when missing and `create`); TYPE still says
   * string. Copy-on-write while a snapshot runs. Throws WRONGTYPE. */
  writableBits(key: string, create: boolean): Bitmap | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    const v = this.#data.get(key);
    if (v === undefined) {
      if (!create) return undefined;
      const b = new Bitmap();
      this.set(key, b as unknown as Container);
      return b;
    }
    if (typeof v === "string") {
      const b = Bitmap.from(v);
      this.set(key, b as unknown as Container, KEEP_TTL);
      return b;
    }
    if (!(v instanceof Bitmap)) throw new StoreError(STORE_ERRORS.wrongType);
    // What earlier bit commands grew it by is counted now.
    this.#bytes += this.#sizes.changed(v);
    if (this.watched.size !== 0 || this.keyModified !== null) {
      this.#signal(key);
    }
    if (this.#snapshot === null) return v;
    return this.#copyOnWrite(
      key,
      v as unknown as Container,
    ) as unknown as Bitmap;
  }

  /** Like {@linkcode Store.get}, and counts a keyspace hit or miss. */
  read(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) {
      this.stats.misses++;
      if (this.onMiss !== null) this.onMiss(key);
    } else this.stats.hits++;
    return v;
  }

  /** The value of `key` of any type, or undefined when missing or
   * expired. */
  value(key: string): StoredValue | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    const v = this.#data.get(key);
    if (this.#access !== null && v !== undefined) this.#touch(key);
    if (!(v instanceof Bitmap)) return v;
    // One too long to be a string stays a bitmap (TYPE: string).
    return v.bytes.length > MAX_STRING_LENGTH
      ? v as unknown as Container
      : this.#demote(key, v);
  }

  /** Like {@linkcode Store.value}, and counts a keyspace hit or miss. */
  readValue(key: string): StoredValue | undefined {
    const v = this.value(key);
    if (v === undefined) {
      this.stats.misses++;
      if (this.onMiss !== null) this.onMiss(key);
    } else this.stats.hits++;
    return v;
  }

  /** The container of `type` at `key` for a read command (counting a hit
   * or miss), or undefined when missing. Throws WRONGTYPE when the key
   * holds another type. */
  readAs<T extends Container>(
    key: string,
    type: Container["type"],
  ): T | undefined {
    const v = this.readValue(key);
    if (v === undefined) return undefined;
    if (typeof v === "string" || v.type !== type) {
      throw new StoreError(STORE_ERRORS.wrongType);
    }
    return v as T;
  }

  /** Like {@linkcode Store.readAs} without counting a hit or miss (the
   * lookups of write commands). */
  lookupAs<T extends Container>(
    key: string,
    type: Container["type"],
  ): T | undefined {
    const v = this.value(key);
    if (v === undefined) return undefined;
    if (typeof v === "string" || v.type !== type) {
      throw new StoreError(STORE_ERRORS.wrongType);
    }
    return v as T;
  }

  /**
   * The container of `type` at `key`, ready to be changed in place; when
   * the key is missing, `create` makes one (stored at once) or, without
   * `create`, undefined comes back. Throws WRONGTYPE when the key holds
   * another type. After changing it, call {@linkcode Store.written}.
   *
   * While a snapshot runs, the first change of a container copies it, so
   * the snapshot keeps the value as it was when it began.
   *
   * @example
   * ```ts
   * import { List, Store } from "@kv/store";
   * const store = new Store();
   * const list = store.writable("queue", "list", () => new List())!;
   * list.pushRight("job");
   * store.written("queue", list);
   * store.lists.lrange("queue", 0, -1); // ["job"]
   * ```
   */
  writable<T extends Container>(
    key: string,
    type: Container["type"],
    create?: () => T,
  ): T | undefined {
    const v = this.value(key);
    if (v === undefined) {
      if (create === undefined) return undefined;
      const made = create();
      this.set(key, made);
      return made;
    }
    if (typeof v === "string" || v.type !== type) {
      throw new StoreError(STORE_ERRORS.wrongType);
    }
    return (this.#snapshot === null ? v : this.#copyOnWrite(key, v)) as T;
  }

  /** After a container was changed in place: removes its key when it is
   * empty (a stream stays). */
  written(key: string, container: Container): void {
    if (this.#data.get(key) !== container) return;
    if (container.size === 0 && container.type !== "stream") {
      this.delete(key);
    } else {
      this.#bytes += this.#sizes.changed(container);
      if (this.keyReady !== null) this.keyReady(key);
      // Signalled once the command is known to have changed something
      // (settleTouches): ops call written() after no-op changes too.
      if (
        (this.watched.size !== 0 && this.watched.has(key)) ||
        this.keyModified !== null
      ) {
        this.#pendingTouches.push(key);
        this.touchesPending = true;
      }
    }
  }

  /** Gives the live keyspace its own copy of a container the running
   * snapshot may still read. */
  #copyOnWrite(key: string, v: Container): Container {
    const s = this.#snapshot!;
    if (
      s.data !== this.#data || s.preimages.has(key) ||
      s.changedAfterRead.has(key)
    ) return v; // the snapshot holds no reference to the live value
    if (visitedHas(s.visited, key)) s.changedAfterRead.add(key);
    else s.preimages.set(key, [v, this.#expires.get(key)]);
    const copy = v.clone();
    this.#put(key, copy);
    return copy;
  }

  /** True when `key` exists and has not expired. */
  has(key: string): boolean {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    return this.#data.has(key);
  }

  /** Sets `key` to `value` (of any type); clears any expiry unless told
   * otherwise. */
  set(key: string, value: StoredValue, options?: SetOptions): void {
    if (this.#snapshot !== null) this.#preserve(key);
    this.#put(key, value);
    if (this.watched.size !== 0 || this.keyModified !== null) {
      this.#signal(key);
    }
    if (this.keyReady !== null) this.keyReady(key);
    if (this.#access !== null) this.#touch(key);
    if (options === undefined) {
      if (this.#expires.size !== 0) this.#expires.delete(key);
      return;
    }
    if (options.expireAt !== undefined) {
      this.#expires.set(key, options.expireAt);
    } else if (!options.keepTtl && this.#expires.size !== 0) {
      this.#expires.delete(key);
    }
  }

  /**
   * Adds a string key that is known not to be there: loading a snapshot
   * into an empty store (its keys are distinct). One Map operation instead
   * of a look-up and an insert; no watchers to tell, no snapshot to keep.
   *
   * @example
   * ```ts
   * import { Store } from "@kv/store";
   * const store = new Store();
   * store.load("greeting", "hello");
   * store.get("greeting"); // "hello"
   * ```
   */
  load(key: string, value: string, expireAt?: number): void {
    this.#bytes += ENTRY_BYTES + stringBytes(key.length) +
      this.#sizes.add(value);
    this.#data.set(key, value);
    if (this.onNew !== null) this.onNew(key);
    if (this.#access !== null) this.#touch(key);
    if (expireAt !== undefined) this.#expires.set(key, expireAt);
  }

  /** SET ... KEEPTTL of an existing string key whose value the caller has
   * just read (INCR and the like): one look-up less. */
  #replace(key: string, old: string, value: string): void {
    if (this.#snapshot !== null) this.#preserve(key);
    this.#put(key, value, old);
    if (this.watched.size !== 0 || this.keyModified !== null) {
      this.#signal(key);
    }
    if (this.keyReady !== null) this.keyReady(key);
    if (this.#access !== null) this.#touch(key);
  }

  /** Removes `key`; true when it existed (and had not expired). */
  delete(key: string): boolean {
    if (this.#snapshot !== null) this.#preserve(key);
    if (this.#expires.size !== 0) {
      if (this.#expireIfNeeded(key, this.clock())) return false;
      this.#expires.delete(key);
    }
    return this.#drop(key);
  }

  /** The absolute expiry time of `key` in ms, or undefined if it has none.
   * Call on an existing key. */
  expiryOf(key: string): number | undefined {
    return this.#expires.get(key);
  }

  /** Sets the absolute expiry of an existing key; a time already past
   * deletes it. Returns false when the key does not exist. */
  setExpireAt(key: string, at: number): boolean {
    if (!this.has(key)) return false;
    if (this.#snapshot !== null) this.#preserve(key);
    if (at <= this.clock()) {
      this.#drop(key);
      this.#expires.delete(key);
    } else {
      this.#expires.set(key, at);
      if (this.watched.size !== 0 || this.keyModified !== null) {
        this.#signal(key);
      }
    }
    return true;
  }

  /** Removes the expiry of `key`; true when it had one. */
  persist(key: string): boolean {
    if (!this.has(key)) return false;
    if (this.#snapshot !== null) this.#preserve(key);
    if (!this.#expires.delete(key)) return false;
    if (this.watched.size !== 0 || this.keyModified !== null) {
      this.#signal(key);
    }
    return true;
  }

  /** The type of the value at `key`, or `none` when missing (a keyspace
   * read, as TYPE). */
  type(key: string): ValueType | "none" {
    // Read in place: a bitmap stays one (its type is "string").
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    const v = this.#data.get(key);
    if (v === undefined) {
      this.stats.misses++;
      if (this.onMiss !== null) this.onMiss(key);
      return "none";
    }
    this.stats.hits++;
    return typeof v === "string" ? "string" : v.type;
  }

  /**
   * Starts a consistent point-in-time snapshot (for BGSAVE and AOF
   * rewrites): entries are read in chunks with `next()` while the store
   * goes on changing, and come out as they were when it started. One at a
   * time; close it when done.
   *
   * @example
   * ```ts
   * import { Store } from "@kv/store";
   * const store = new Store();
   * store.set("a", "1");
   * using snap = store.snapshot();
   * store.set("a", "2"); // after the snapshot: not in it
   * snap.next(100); // [["a", "1", undefined]]
   * ```
   */
  snapshot(): Snapshot {
    if (this.#snapshot !== null) {
      throw new Error("a snapshot is already in progress");
    }
    const state: SnapshotState = {
      time: this.clock(),
      data: this.#data,
      expires: this.#expires,
      iterator: this.#data.keys(),
      visited: [],
      preimages: new Map(),
      changedAfterRead: new Set(),
      done: false,
      owner: this,
    };
    this.#snapshot = state;
    const close = () => {
      const owner = state.owner;
      if (owner.#snapshot === state) owner.#snapshot = null;
      state.done = true;
      state.visited.length = 0;
      state.preimages.clear();
      state.changedAfterRead.clear();
    };
    return {
      time: state.time,
      next: (max) => this.#snapshotNext(state, max),
      close,
      [Symbol.dispose]: close,
    };
  }

  /** Keeps a key's value as it was when the snapshot began, before its
   * first change, unless the snapshot has read it already. */
  #preserve(key: string): void {
    const s = this.#snapshot!;
    if (s.data !== this.#data || s.preimages.has(key)) return;
    if (visitedHas(s.visited, key)) {
      s.changedAfterRead.add(key); // if it comes round again, skip it
      return;
    }
    const v = this.#data.get(key);
    s.preimages.set(
      key,
      v === undefined ? ABSENT : [v, this.#expires.get(key)],
    );
  }

  #snapshotNext(s: SnapshotState, max: number): SnapshotEntry[] {
    const out: SnapshotEntry[] = [];
    if (s.done) return out;
    while (out.length < max) {
      const r = s.iterator.next();
      if (r.done) {
        // Keys deleted before they were read.
        for (const [key, pre] of s.preimages) {
          if (pre !== ABSENT && !visitedHas(s.visited, key)) {
            if (pre[1] === undefined || pre[1] >= s.time) {
              const v = pre[0];
              out.push([key, v instanceof Bitmap ? v.toString() : v, pre[1]]);
            }
          }
        }
        s.done = true;
        return out;
      }
      const key = r.value;
      const pre = s.preimages.get(key);
      // A key deleted and added again comes round a second time.
      if (
        (pre !== undefined || s.changedAfterRead.has(key)) &&
        visitedHas(s.visited, key)
      ) continue;
      visitedAdd(s.visited, key);
      let value: StoredValue | Bitmap | undefined;
      let at: number | undefined;
      if (pre === undefined) {
        value = s.data.get(key);
        at = s.expires.get(key);
      } else if (pre === ABSENT) {
        continue; // created after the snapshot began
      } else {
        [value, at] = pre;
      }
      if (value === undefined || (at !== undefined && at < s.time)) continue;
      out.push([key, value instanceof Bitmap ? value.toString() : value, at]);
    }
    return out;
  }

  // --- Commands: the semantics of Redis's string and key commands, for the
  // server's handlers and for embedded use. They read as Redis reads (hits
  // and misses), count changes in `dirty`, and throw StoreError.

  /** SET with NX/XX/GET and expiry options. */
  setIf(
    key: string,
    value: string,
    options: ConditionalSetOptions,
  ): ConditionalSetResult {
    const previous = options.get ? this.read(key) : undefined;
    const found = options.get ? previous !== undefined : this.has(key);
    if ((options.nx && found) || (options.xx && !found)) {
      return { written: false, previous };
    }
    this.set(key, value, options);
    this.dirty++;
    return { written: true, previous };
  }

  /** SETNX: sets only a missing key; true when it did. */
  setNx(key: string, value: string): boolean {
    return this.setIf(key, value, { nx: true }).written;
  }

  /** GETSET: sets and returns the old value (the TTL is cleared). */
  getSet(key: string, value: string): string | undefined {
    const old = this.read(key);
    this.set(key, value);
    this.dirty++;
    return old;
  }

  /** GETDEL: returns the value and deletes the key. */
  getDel(key: string): string | undefined {
    const v = this.read(key);
    if (v !== undefined) {
      this.delete(key);
      this.dirty++;
    }
    return v;
  }

  /** GETEX: returns the value; sets a new absolute expiry or removes it. */
  getEx(
    key: string,
    options: { expireAt?: number; persist?: boolean } = {},
  ): string | undefined {
    const v = this.read(key);
    if (v === undefined) return v;
    if (options.expireAt !== undefined) {
      this.setExpireAt(key, options.expireAt);
      this.dirty++;
    } else if (options.persist && this.persist(key)) {
      this.dirty++;
    }
    return v;
  }

  /** MGET: values in order, undefined for missing keys. */
  mget(keys: readonly string[]): (string | undefined)[] {
    return keys.map((k) => {
      const v = this.readValue(k);
      return typeof v === "string" ? v : undefined;
    });
  }

  /** MSET: sets every pair (TTLs cleared). */
  mset(pairs: Iterable<readonly [string, string]>): void {
    for (const [k, v] of pairs) {
      this.set(k, v);
      this.dirty++;
    }
  }

  /** MSETNX: sets every pair only when none of the keys exists. */
  msetNx(pairs: readonly (readonly [string, string])[]): boolean {
    for (const [k] of pairs) if (this.has(k)) return false;
    this.mset(pairs);
    return true;
  }

  /** INCRBY (and INCR, DECR, DECRBY): the new value. Numbers beyond 2^53
   * come back as bigint; the value stays within int64 as in Redis. */
  incrBy(key: string, by: number | bigint): number | bigint {
    const old = this.get(key);
    let current: number | bigint = 0;
    if (old !== undefined) {
      const parsed = parseInt64(old);
      if (parsed === null) throw new StoreError(STORE_ERRORS.notInteger);
      current = parsed;
    }
    const next = addInt64(current, by);
    if (next === null) throw new StoreError(STORE_ERRORS.overflow);
    const value = intToString(next);
    if (old === undefined) this.set(key, value);
    else this.#replace(key, old, value);
    this.dirty++;
    return next;
  }

  /** DECRBY: the new value. */
  decrBy(key: string, by: number | bigint): number | bigint {
    if (isInt64Min(by)) throw new StoreError(STORE_ERRORS.decrementOverflow);
    return this.incrBy(key, negate(by));
  }

  /** INCRBYFLOAT: the new value, formatted exactly as Redis does. */
  incrByFloat(key: string, by: string | number): string {
    const old = this.get(key);
    const next = addFloatStrings(old ?? "0", String(by));
    if (next === null) throw new StoreError(STORE_ERRORS.notFloat);
    if (next === "inf") throw new StoreError(STORE_ERRORS.nanOrInfinity);
    this.set(key, next, old === undefined ? undefined : KEEP_TTL);
    this.dirty++;
    return next;
  }

  /** APPEND: the new length. */
  append(key: string, value: string): number {
    const old = this.get(key);
    if (old === undefined) {
      this.set(key, value);
      this.dirty++;
      return value.length;
    }
    this.#checkLength(old.length + value.length);
    this.set(key, old + value, KEEP_TTL);
    this.dirty++;
    return old.length + value.length;
  }

  #checkLength(n: number): void {
    // V8 strings hold at most 2^29 - 24 characters, a little less than the
    // 512 MB proto-max-bulk-len: past it, the same error as Redis's limit.
    if (n > this.maxStringLength || n > MAX_STRING_LENGTH) {
      throw new StoreError(STORE_ERRORS.tooBig);
    }
  }

  /** STRLEN: the length in bytes, 0 when missing. */
  strlen(key: string): number {
    return this.readBits(key)?.length ?? 0;
  }

  /** GETRANGE: bytes from `start` to `end` inclusive; negative offsets
   * count from the end. */
  getRange(key: string, start: number, end: number): string {
    const v = this.read(key);
    if (v === undefined || (start < 0 && end < 0 && start > end)) return "";
    const len = v.length;
    if (start < 0) start = Math.max(0, len + start);
    if (end < 0) end = Math.max(0, len + end);
    if (end >= len) end = len - 1;
    return start > end || len === 0 ? "" : v.slice(start, end + 1);
  }

  /** SETRANGE: overwrites from `offset`, padding with zero bytes; the new
   * length. */
  setRange(key: string, offset: number, value: string): number {
    if (offset < 0) throw new StoreError(STORE_ERRORS.offset);
    const old = this.get(key);
    if (value.length === 0) return old?.length ?? 0;
    this.#checkLength(offset + value.length);
    const base = old ?? "";
    const padded = base.length < offset
      ? base + "\0".repeat(offset - base.length)
      : base;
    const next = padded.slice(0, offset) + value +
      padded.slice(offset + value.length);
    this.set(key, next, old === undefined ? undefined : KEEP_TTL);
    this.dirty++;
    return next.length;
  }

  /** EXISTS (and TOUCH): how many of the keys exist; repeats count. */
  exists(keys: readonly string[]): number {
    let n = 0;
    for (const k of keys) if (this.readValue(k) !== undefined) n++;
    return n;
  }

  /** DEL: how many of the keys existed. */
  del(keys: readonly string[]): number {
    let n = 0;
    for (const k of keys) if (this.delete(k)) n++;
    this.dirty += n;
    return n;
  }

  /** FLUSHDB: removes every key; how many there were. */
  flush(): number {
    const n = this.clear();
    this.dirty += n;
    return n;
  }

  /**
   * PEXPIREAT with EXPIRE's conditions: sets the absolute expiry `at` (ms)
   * of an existing key; a time already past deletes the key. True when the
   * expiry was set (or the key deleted).
   */
  pexpireAt(key: string, at: number, condition?: ExpireCondition): boolean {
    if (!this.has(key)) return false;
    if (condition !== undefined) {
      const current = this.#expires.get(key);
      if (
        (condition === "NX" && current !== undefined) ||
        (condition === "XX" && current === undefined) ||
        (condition === "GT" && (current === undefined || at <= current)) ||
        (condition === "LT" && current !== undefined && at >= current)
      ) return false;
    }
    this.setExpireAt(key, at);
    this.dirty++;
    return true;
  }

  /** PTTL: ms left; -1 without an expiry, -2 when the key is missing. */
  pttl(key: string): number {
    if (this.readValue(key) === undefined) return -2;
    const at = this.#expires.get(key);
    return at === undefined ? -1 : Math.max(0, at - this.clock());
  }

  /** PEXPIRETIME: the absolute expiry in ms; -1 without, -2 missing. */
  pexpireTime(key: string): number {
    if (this.readValue(key) === undefined) return -2;
    return this.#expires.get(key) ?? -1;
  }

  /** PERSIST, counted as a change when it removed an expiry. */
  persistKey(key: string): boolean {
    const removed = this.persist(key);
    if (removed) this.dirty++;
    return removed;
  }

  /** RENAME (or RENAMENX with `nx`): moves the value and its expiry.
   * Throws when `from` is missing; false when `nx` and `to` exists. */
  rename(from: string, to: string, nx = false): boolean {
    const value = this.value(from);
    if (value === undefined) throw new StoreError(STORE_ERRORS.noSuchKey);
    if (from === to) return !nx;
    if (nx && this.has(to)) return false;
    const expireAt = this.#expires.get(from);
    this.delete(from);
    this.set(to, value, expireAt === undefined ? undefined : { expireAt });
    this.dirty++;
    return true;
  }

  /** COPY: copies value and expiry, into `target` (another database of
   * the server: COPY ... DB n) or this store; false when `from` is missing
   * or `to` exists (unless `replace`). */
  copy(
    from: string,
    to: string,
    replace = false,
    target: Store = this,
  ): boolean {
    const value = this.readValue(from);
    if (value === undefined) return false;
    if (target.has(to)) {
      if (!replace) return false;
      target.delete(to);
    }
    const expireAt = this.#expires.get(from);
    target.set(
      to,
      typeof value === "string" ? value : value.clone(),
      expireAt === undefined ? undefined : { expireAt },
    );
    this.dirty++;
    return true;
  }

  /** MOVE: moves `key` with its expiry into `target` (another database of
   * the server); false when it is missing here or exists there. */
  move(key: string, target: Store): boolean {
    let value = this.value(key);
    if (value === undefined || target.has(key)) return false;
    const expireAt = this.#expires.get(key);
    this.delete(key);
    // A snapshot under way may still read the container as this store's:
    // the other store gets a copy it may change in place.
    if (typeof value !== "string" && this.#snapshot !== null) {
      value = value.clone();
    }
    target.set(key, value, expireAt === undefined ? undefined : { expireAt });
    this.dirty++;
    return true;
  }

  /**
   * SWAPDB: exchanges the keys (values, expiries, access data and memory
   * counts) of this store and `other`, as Redis swaps two databases' key
   * tables. What belongs to the clients of each database stays: WATCHed
   * keys that exist on either side are touched (the server then tells
   * the clients blocked on keys of either database to look again). A
   * snapshot under way moves with the keys it reads, so it still saves
   * what was there.
   */
  swap(other: Store): void {
    if (other === this) return;
    for (const [key, w] of this.watched) {
      if (this.#data.has(key) || other.#data.has(key)) w.touched(false);
    }
    for (const [key, w] of other.watched) {
      if (this.#data.has(key) || other.#data.has(key)) w.touched(false);
    }
    const data = this.#data, expires = this.#expires, snap = this.#snapshot;
    const sizes = this.#sizes, access = this.#access, bytes = this.#bytes;
    const avgTtl = this.#avgTtl;
    this.#data = other.#data;
    this.#expires = other.#expires;
    this.#snapshot = other.#snapshot;
    this.#sizes = other.#sizes;
    this.#access = other.#access;
    this.#bytes = other.#bytes;
    this.#avgTtl = other.#avgTtl;
    other.#data = data;
    other.#expires = expires;
    other.#snapshot = snap;
    other.#sizes = sizes;
    other.#access = access;
    other.#bytes = bytes;
    other.#avgTtl = avgTtl;
    if (this.#snapshot !== null) this.#snapshot.owner = this;
    if (other.#snapshot !== null) other.#snapshot.owner = other;
    // Cursors walk the maps they were made on: start them afresh.
    for (const s of [this, other]) {
      s.#expireCursor = s.#randomCursor = null;
      s.#sampleCursor = s.#volatileCursor = null;
      s.#scanSlots = null;
    }
  }

  /** Removes every key; returns how many there were. */
  clear(): number {
    const n = this.#data.size;
    if (this.keyModified !== null) this.keyModified(null);
    // Watched keys that exist are touched (FLUSHALL, FLUSHDB).
    for (const [key, w] of this.watched) {
      if (this.#data.has(key)) w.touched(false);
    }
    const snap = this.#snapshot;
    if (snap !== null && snap.data === this.#data) {
      // A snapshot is reading these maps: leave them to it, start afresh.
      this.#data = new Map();
      this.#expires = new Map();
      this.#expireCursor = this.#randomCursor = null;
      this.#scanSlots = null;
    } else {
      this.#data.clear();
      this.#expires.clear();
    }
    this.#sampleCursor = this.#volatileCursor = null;
    this.#bytes = 0;
    if (this.#access !== null) this.#access = new Map();
    return n;
  }

  /** Keys matching a Redis glob pattern (`*`, `?`, `[a-z]`, `[^x]`, `\`),
   * leaving out expired keys. */
  keys(pattern = "*"): string[] {
    const out: string[] = [];
    const all = pattern === "*";
    const now = this.clock();
    const checkTtl = this.#expires.size !== 0;
    for (const key of this.#data.keys()) {
      if (!all && !globMatch(pattern, key)) continue;
      if (checkTtl) {
        const at = this.#expires.get(key);
        if (at !== undefined && now > at) continue;
      }
      out.push(key);
    }
    return out;
  }

  /** Iterates every live entry: key, value and expiry time (or undefined).
   * For snapshots and the dashboard. */
  *entries(): IterableIterator<[string, StoredValue, number | undefined]> {
    const now = this.clock();
    for (const [key, value] of this.#data) {
      const at = this.#expires.get(key);
      if (at !== undefined && now > at) continue;
      yield [key, value instanceof Bitmap ? value.toString() : value, at];
    }
  }

  /**
   * One step of a SCAN iteration. Visits about `count` keys starting from
   * `cursor` (0 to begin) and returns those accepted by `filter`. A full
   * iteration returns every key present from its start to its end, whatever
   * is written meanwhile. Recent cursors resume a live iterator; an older
   * cursor resumes by position.
   */
  scan(
    cursor: number,
    count = 10,
    filter?: (key: string) => boolean,
  ): ScanResult {
    let iterator: Iterator<string>;
    let position: number;
    const slot = cursor % SCAN_SLOTS;
    const slots = this.#scanSlots ??= new Array(SCAN_SLOTS);
    const saved = cursor === 0 ? undefined : slots[slot];
    if (saved !== undefined && saved.cursor === cursor) {
      iterator = saved.iterator;
      position = saved.position;
      slots[slot] = undefined;
    } else {
      iterator = this.#data.keys();
      position = Math.floor(cursor / SCAN_SLOTS);
      for (let i = 0; i < position; i++) {
        if (iterator.next().done) return { cursor: 0, keys: [] };
      }
    }
    const keys: string[] = [];
    const now = this.clock();
    for (let visited = 0; visited < count; visited++) {
      const r = iterator.next();
      if (r.done) return { cursor: 0, keys };
      position++;
      const key = r.value;
      if (this.#expires.size !== 0 && this.#expireIfNeeded(key, now)) continue;
      if (filter === undefined || filter(key)) keys.push(key);
    }
    const nextSlot = this.#nextScanSlot;
    this.#nextScanSlot = nextSlot % (SCAN_SLOTS - 1) + 1;
    const next = position * SCAN_SLOTS + nextSlot;
    slots[nextSlot] = { cursor: next, iterator, position };
    return { cursor: next, keys };
  }

  /** A random live key, or undefined when the store is empty. */
  randomKey(): string | undefined {
    const now = this.clock();
    for (let tries = 0; tries < 100 && this.#data.size > 0; tries++) {
      let steps = Math.floor(Math.random() * Math.min(this.#data.size, 32));
      let key: string | undefined;
      while (true) {
        this.#randomCursor ??= this.#data.keys();
        const r = this.#randomCursor.next();
        if (r.done) {
          this.#randomCursor = null;
          continue;
        }
        key = r.value;
        if (steps-- <= 0) break;
      }
      if (!this.#expireIfNeeded(key, now)) return key;
    }
    return this.#data.size > 0 ? this.#data.keys().next().value : undefined;
  }

  /**
   * Runs {@linkcode Store.activeExpireCycle} `hz` times a second, as the
   * server does, for stores used in-process. The timer does not keep the
   * process alive. Stop it with `stop()` or `using`.
   *
   * @example
   * ```ts
   * import { Store } from "@kv/store";
   * const store = new Store();
   * using _sweep = store.startExpiryCycle();
   * store.set("temp", "1", { expireAt: Date.now() + 100 });
   * ```
   */
  startExpiryCycle(hz = 10): { stop(): void } & Disposable {
    const period = 1000 / hz;
    const timer = setInterval(() => this.activeExpireCycle(period / 4), period);
    Deno.unrefTimer(timer as unknown as number);
    const stop = () => clearInterval(timer);
    return { stop, [Symbol.dispose]: stop };
  }

  /**
   * Reclaims expired keys nobody reads, as Redis's active expire cycle:
   * looks at 20 keys with a TTL at a time, goes on while more than a
   * quarter of them had expired, and stops after `budgetMs`. Returns how
   * many keys it removed.
   */
  activeExpireCycle(budgetMs = 25): number {
    const start = performance.now();
    const now = this.clock();
    let removed = 0;
    for (let round = 0; this.#expires.size > 0; round++) {
      let sampled = 0;
      let expired = 0;
      let ttlSum = 0;
      const limit = Math.min(20, this.#expires.size);
      let wrapped = false;
      while (sampled < limit) {
        this.#expireCursor ??= this.#expires.entries();
        const r = this.#expireCursor.next();
        if (r.done) {
          this.#expireCursor = null;
          if (wrapped) break;
          wrapped = true;
          continue;
        }
        sampled++;
        const [key, at] = r.value;
        if (now > at) {
          if (this.#snapshot !== null) this.#preserve(key);
          this.#drop(key);
          this.#expires.delete(key);
          this.stats.expired++;
          if (this.onExpire !== null) this.onExpire(key);
          expired++;
        } else {
          ttlSum += at - now;
        }
      }
      // A running average over the cycles, weighted as Redis does.
      const live = sampled - expired;
      if (live > 0) {
        const avg = ttlSum / live;
        this.#avgTtl = this.#avgTtl === 0
          ? avg
          : this.#avgTtl * 0.98 + avg * 0.02;
      }
      removed += expired;
      if (expired * 4 <= sampled) break;
      if ((round & 15) === 15 && performance.now() - start > budgetMs) break;
    }
    return removed;
  }
}
