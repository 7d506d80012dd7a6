/**
 * Memory accounting, the memory limit and eviction, after Redis 7.0's
 * evict.c and object.c (the semantics; the code is our own).
 *
 * How memory is measured. Redis counts every allocation (zmalloc); V8 does
 * not tell us what one value costs, and its heap statistics include
 * garbage until a collection. So `used_memory` is an estimate kept up to
 * date incrementally by the {@linkcode Store}:
 *
 * - every key costs {@linkcode ENTRY_BYTES} (its slot in the keyspace's
 *   Map) plus its V8 one-byte string ({@linkcode stringBytes});
 * - a string value costs its V8 string; a bitmap its bytes;
 * - a container (hash, list, set, sorted set, stream) is estimated from a
 *   few sampled elements (through its `rewrite()`, which every container
 *   has), times its size, remembered per container and brought up to date
 *   on each {@linkcode Store.written} (re-sampled every
 *   {@linkcode RESAMPLE_WRITES} changes or when its size doubles or halves);
 * - each key with an expiry, or with access data, adds one Map entry;
 * - plus the server's start-up heap (the baseline) and the clients' query
 *   and output buffers (summed by the server's cron, ten times a second).
 *
 * Checking it is O(1), so every command can, as Redis's processCommand
 * does. Besides, the real V8 heap is looked at (`v8.getHeapStatistics()`,
 * about a microsecond) each time the estimate grew by
 * {@linkcode HEAP_CHECK_STEP} bytes and in the cron: when the heap is above
 * {@linkcode HEAP_CEILING} of V8's heap limit even after a full collection,
 * the limit in force is lowered in proportion, so denyoom commands are
 * refused (or keys evicted, with a policy) long before V8 would abort with
 * "Reached heap limit".
 *
 * LRU and LFU are approximated as Redis does: one small number per key (a
 * clock in seconds, or Redis's 16-bit minutes + 8-bit logarithmic counter
 * with decay), kept in a side Map only while a policy or OBJECT
 * FREQ/IDLETIME needs it (about 30 bytes per key; none otherwise), a pool
 * of the 16 best candidates refilled with `maxmemory-samples` keys per
 * eviction. Keys are sampled from where a rotating iterator over the
 * keyspace is, after a random skip (a JS Map has no random access).
 *
 * @module
 */

import v8 from "node:v8";
import type { Container, Store, StoredValue } from "../store.ts";
import { Bitmap } from "./bitmap.ts";

/** The eight `maxmemory-policy` values, in the order Redis's error lists
 * them. */
export const EVICTION_POLICIES = [
  "volatile-lru",
  "volatile-lfu",
  "volatile-random",
  "volatile-ttl",
  "allkeys-lru",
  "allkeys-lfu",
  "allkeys-random",
  "noeviction",
] as const;

/** A `maxmemory-policy`.
 *
 * @example
 * ```ts
 * import { EVICTION_POLICIES, type EvictionPolicy } from "@kv/store";
 * const p: EvictionPolicy = "allkeys-lru";
 * EVICTION_POLICIES.includes(p); // true
 * ```
 */
export type EvictionPolicy = typeof EVICTION_POLICIES[number];

/** The redis.conf settings of the memory limit and eviction.
 *
 * @example
 * ```ts
 * import { defaultMemorySettings, Store } from "@kv/store";
 * const store = new Store();
 * store.memory.settings = {
 *   ...defaultMemorySettings(),
 *   maxmemory: 100 * 1024 * 1024,
 *   maxmemoryPolicy: "allkeys-lru",
 * };
 * store.memory.sync();
 * ```
 */
export interface MemorySettings {
  /** `maxmemory` in bytes; 0: no limit but the V8 heap's. */
  maxmemory: number;
  /** `maxmemory-policy`. */
  maxmemoryPolicy: EvictionPolicy;
  /** `maxmemory-samples` (5): keys sampled per eviction. */
  maxmemorySamples: number;
  /** `maxmemory-eviction-tenacity` (10): how long one command may spend
   * evicting before the rest is left to the background. */
  maxmemoryEvictionTenacity: number;
  /** `maxmemory-clients` (0); accepted and shown, not enforced. */
  maxmemoryClients: string;
  /** `lfu-log-factor` (10). */
  lfuLogFactor: number;
  /** `lfu-decay-time` (1, in minutes). */
  lfuDecayTime: number;
}

/** Redis 7.0's defaults for {@linkcode MemorySettings}.
 *
 * @example
 * ```ts
 * import { defaultMemorySettings } from "@kv/store";
 * console.log(defaultMemorySettings().maxmemoryPolicy); // "noeviction"
 * ```
 */
export function defaultMemorySettings(): MemorySettings {
  return {
    maxmemory: 0,
    maxmemoryPolicy: "noeviction",
    maxmemorySamples: 5,
    maxmemoryEvictionTenacity: 10,
    maxmemoryClients: "0",
    lfuLogFactor: 10,
    lfuDecayTime: 1,
  };
}

/** Bytes of one Map entry holding a key (or an expiry, or access data),
 * table slack included: measured with 1M keys on Deno 2 (about 29-37). */
export const ENTRY_BYTES = 32;
/** Container values are re-sampled after this many changes. */
export const RESAMPLE_WRITES = 64;
/** The V8 heap is looked at each time the estimate grew by this much. */
export const HEAP_CHECK_STEP = 4 * 1024 * 1024;
/** Share of V8's heap limit the heap may fill (after a full collection)
 * before the limit in force is lowered. */
export const HEAP_CEILING = 0.75;

/** Under a maxmemory, a full collection is asked for when the V8 heap
 * holds more than this times the estimate (plus 16 MB). */
export const GARBAGE_FACTOR = 1.5;

/** An idle server (no command for this long) collects its garbage... */
export const IDLE_COLLECT_MS = 1000;
/** ...once the V8 heap grew by this much since the last full collection
 * (and by a quarter): see {@linkcode MemoryManager.idleCollect}. */
export const IDLE_COLLECT_GROWTH = 32 * 1024 * 1024;
/** ...as long as the heap is at most this big: the collection pauses the
 * server about 1.5 ms per MB of heap (V8's low-memory collection, two
 * mark-compacts: 145 ms at 100 MB), so a larger heap is left to V8's own
 * incremental collector rather than make a client wait longer. */
export const IDLE_COLLECT_MAX_HEAP = 160 * 1024 * 1024;

/** Bytes of a V8 one-byte string of `length` chars: a 16-byte header, the
 * chars, rounded up to 8. */
export function stringBytes(length: number): number {
  return (length + 23) & ~7;
}

/** The OOM error of denyoom commands over the limit. */
export const OOM_ERROR =
  "OOM command not allowed when used memory > 'maxmemory'.";

/** Bytes of fixed overhead of a container object per type. */
const CONTAINER_BYTES = 96;
/** Extra bytes per element of each type beyond its strings (nodes,
 * pointers, scores), roughly as each module keeps them. */
const PER_ELEMENT: Record<string, number> = {
  hash: 16,
  list: 8,
  set: 16,
  zset: 48,
  stream: 24,
};

/** Average bytes of the elements in one rewrite command's arguments. */
function sampleCommand(
  cmd: string[],
  type: Container["type"],
): [bytes: number, elements: number] {
  let bytes = 0;
  for (let i = 2; i < cmd.length; i++) {
    const a = cmd[i];
    // Scores are kept as numbers, not strings.
    bytes += type === "zset" && (i & 1) === 0 ? 8 : stringBytes(a.length);
  }
  const args = cmd.length - 2;
  const elements = type === "hash" || type === "zset"
    ? args / 2
    : type === "stream"
    ? (cmd[0] === "XADD" ? 1 : 0)
    : args;
  return [bytes, elements];
}

/**
 * Estimated bytes of a container: `samples` elements (0: all) are read
 * through its `rewrite()` and their average extended to its size, as
 * MEMORY USAGE does.
 */
export function containerBytes(c: Container, samples: number): number {
  const size = c.size;
  if (size === 0) return CONTAINER_BYTES;
  const want = samples <= 0 ? Infinity : samples;
  let bytes = 0;
  let elements = 0;
  for (const cmd of c.rewrite("", samples <= 0 ? 1024 : samples)) {
    if (c.type === "stream" && cmd[0] !== "XADD") {
      // Groups, consumers, pending entries: counted by their arguments.
      for (let i = 2; i < cmd.length; i++) bytes += stringBytes(cmd[i].length);
      continue;
    }
    const [b, e] = sampleCommand(cmd, c.type);
    bytes += b;
    elements += e;
    if (elements >= want) break;
  }
  if (elements === 0) return CONTAINER_BYTES + bytes;
  const per = bytes / elements + PER_ELEMENT[c.type];
  return Math.round(CONTAINER_BYTES + per * Math.max(size, elements));
}

/** Estimated bytes of a value (without its key), as MEMORY USAGE's value
 * part. */
export function valueBytes(v: StoredValue | Bitmap, samples = 5): number {
  if (typeof v === "string") return stringBytes(v.length);
  if (v instanceof Bitmap) return 48 + v.bytes.length;
  return containerBytes(v, samples);
}

/** What the accounting remembers of one container. */
interface Sized {
  /** What is counted for it now. */
  bytes: number;
  /** Its size when last sampled... */
  size: number;
  /** ...and the bytes per element then. */
  per: number;
  /** Changes since. */
  writes: number;
}

/**
 * The store's byte counts of values: strings computed, containers sampled
 * and remembered (per container object, in a WeakMap) so that removing one
 * takes away what was counted for it.
 */
export class ValueSizes {
  #sized = new WeakMap<object, Sized>();

  /** Bytes counted for `v` from now on. */
  add(v: StoredValue | Bitmap): number {
    if (typeof v === "string") return stringBytes(v.length);
    const bytes = valueBytes(v);
    const size = v instanceof Bitmap ? v.bytes.length : v.size;
    this.#sized.set(v, {
      bytes,
      size,
      per: size === 0 ? 0 : (bytes - CONTAINER_BYTES) / size,
      writes: 0,
    });
    return bytes;
  }

  /** Bytes that were counted for `v` (now leaving the keyspace). */
  remove(v: StoredValue | Bitmap): number {
    if (typeof v === "string") return stringBytes(v.length);
    return this.#sized.get(v)?.bytes ?? 0;
  }

  /** After `v` changed in place: how many bytes more (or fewer) it holds
   * than counted. */
  changed(v: Container | Bitmap): number {
    const m = this.#sized.get(v);
    if (m === undefined) return 0;
    let bytes: number;
    if (v instanceof Bitmap) {
      bytes = 48 + v.bytes.length;
    } else {
      const size = v.size;
      if (
        ++m.writes >= RESAMPLE_WRITES || size > m.size * 2 ||
        size * 2 < m.size || m.size === 0
      ) {
        bytes = containerBytes(v, 5);
        m.size = size;
        m.per = size === 0 ? 0 : (bytes - CONTAINER_BYTES) / size;
        m.writes = 0;
      } else {
        bytes = Math.round(CONTAINER_BYTES + m.per * size);
      }
    }
    const delta = bytes - m.bytes;
    m.bytes = bytes;
    return delta;
  }
}

/** Redis's initial LFU counter of a new key. */
export const LFU_INIT_VAL = 5;

/** What {@linkcode MemoryManager.performEvictions} did: under the limit
 * (now), time ran out (more is evicted in the background), or over the
 * limit with nothing (more) to evict. */
export const Evict = { Ok: 0, Running: 1, Fail: 2 } as const;

/** What {@linkcode MemoryManager.performEvictions} did: 0 under the limit
 * (now), 1 time ran out (more is evicted in the background), 2 over the
 * limit with nothing (more) to evict.
 *
 * @example
 * ```ts
 * import { type EvictResult, Store } from "@kv/store";
 * const store = new Store();
 * const r: EvictResult = store.memory.performEvictions(); // 0: under the limit
 * ```
 */
export type EvictResult = 0 | 1 | 2;

const POOL_SIZE = 16;

let gcFunction: (() => void) | null | undefined;
let gcLoading: Promise<void> | null = null;

/**
 * Gets {@linkcode collectGarbage} ready (once; resolves when it is): sets
 * V8's `--expose-gc` and takes `gc` from a new context made by node:vm.
 *
 * DESIGN: node:vm is imported here, on demand, not with this module:
 * importing it costs every server about 6 ms and 3 MB of RSS at start-up,
 * and most never collect. A server asks for it ahead of need
 * ({@linkcode prepareGarbageCollectionSoon}, from its cron); until it is
 * loaded, collectGarbage answers false (no collection), which its callers
 * already take as "try again later".
 */
export function prepareGarbageCollection(): Promise<void> {
  return gcLoading ??= import("node:vm").then((vm) => {
    v8.setFlagsFromString("--expose-gc");
    gcFunction = vm.default.runInNewContext("gc") as () => void;
  }).catch(() => {
    gcFunction = null;
  });
}

/** Heap growth past a server's start-up heap at which
 * {@linkcode prepareGarbageCollectionSoon} gets collections ready: half
 * the growth an idle collection waits for. */
const PREPARE_GROWTH = IDLE_COLLECT_GROWTH / 2;

/** Calls {@linkcode prepareGarbageCollection} once a collection may soon
 * be wanted: a `maxmemory` is set, or the V8 heap grew by 16 MB past
 * `baseline` or to half the ceiling heap checks collect at. Cheap once
 * done (a server's cron calls it every tick). */
export function prepareGarbageCollectionSoon(
  maxmemory: number,
  baseline: number,
): void {
  if (gcLoading !== null) return;
  const h = v8.getHeapStatistics();
  if (
    maxmemory > 0 || h.used_heap_size > baseline + PREPARE_GROWTH ||
    h.used_heap_size > h.heap_size_limit * HEAP_CEILING / 2
  ) {
    prepareGarbageCollection();
  }
}

/** A full garbage collection, when the runtime lets us ask for one (V8's
 * `--expose-gc` set at run time); false when it does not, or not yet
 * (the first call starts {@linkcode prepareGarbageCollection}). */
export function collectGarbage(): boolean {
  if (gcFunction === undefined) {
    prepareGarbageCollection();
    return false;
  }
  if (gcFunction === null) return false;
  gcFunction();
  return true;
}

/**
 * The memory limit of one {@linkcode Store}: what is used (an estimate,
 * see the module doc), the limit in force, the eviction policies and their
 * per-key access data, and the counters INFO reports. Reach it as
 * `store.memory`.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.memory.settings.maxmemory = 1024 * 1024;
 * store.memory.settings.maxmemoryPolicy = "allkeys-lru";
 * store.memory.sync();
 * for (let i = 0; i < 10_000; i++) {
 *   store.memory.check(); // evicts, as before every command on a server
 *   store.set(`key:${i}`, "x".repeat(100));
 * }
 * console.log(store.memory.evictedKeys > 0); // true
 * ```
 */
export class MemoryManager {
  /** The settings in force (a server passes its config); call
   * {@linkcode MemoryManager.sync} after changing them. */
  settings: MemorySettings = defaultMemorySettings();
  /** Keys evicted so far (INFO's `evicted_keys`). */
  evictedKeys = 0;
  /** Bytes the store does not count: clients' buffers (set by the
   * server). */
  overhead = 0;
  /** Bytes counted before any data (`used_memory_startup`): 0 for a
   * store of its own; a server sets its start-up heap
   * ({@linkcode MemoryManager.measureBaseline}). */
  baseline = 0;
  /** Highest `used` seen (INFO's `used_memory_peak`). */
  peak = 0;
  /** Called with each evicted key and its store (the server logs a DEL in
   * that database). */
  onEvict: ((key: string, store: Store) => void) | null = null;
  /** Full collections asked of V8 (heap checks, garbage under a
   * maxmemory). */
  collections = 0;
  /** Total time spent evicting, in microseconds. */
  evictionMicros = 0;
  readonly #store: Store;
  /** Every store sharing this accounting (a server's databases). */
  readonly #stores: Store[];
  /** The lower limit the V8 heap imposes (Infinity while it has room). */
  #heapCap = Infinity;
  #nextHeapCheck = 0;
  #lastCollect = 0;
  /** V8's used heap after the last full collection we asked for (or at
   * the first {@linkcode MemoryManager.idleCollect}). */
  #heapAfterCollect = -1;
  /** The activity count {@linkcode MemoryManager.idleCollect} last saw,
   * and when it changed. */
  #activity = -1;
  #activeAt = 0;
  #pool: { key: string; idle: number; store: Store }[] = [];
  /** Where the key {@linkcode MemoryManager.#pick} returned lives. */
  #picked: Store;
  /** The store a random eviction starts looking in. */
  #nextStore = 0;
  #idleAvg = NaN;
  #epoch: number;
  /** When per-key access tracking began (ms): keys not seen since count
   * from then. */
  #sinceMs: number;

  /** The memory of `store` (the store makes its own). */
  constructor(store: Store) {
    this.#store = this.#picked = store;
    this.#stores = [store];
    this.#epoch = this.#sinceMs = store.clock();
  }

  /** Sets {@linkcode MemoryManager.baseline} to the V8 heap in use now (at
   * most 64 MB), as a server does when it starts. */
  measureBaseline(): void {
    this.baseline = Math.min(
      v8.getHeapStatistics().used_heap_size,
      64 * 1024 * 1024,
    );
  }

  /** Counts `store` here too (another database of the same server): its
   * data counts against the limit and may be evicted. Used by
   * {@linkcode Store}'s `shareWith` option. */
  attach(store: Store): void {
    this.#stores.push(store);
    store.trackAccess(this.#store.accessMode);
  }

  /** Estimated bytes of every store's data. */
  #dataBytes(): number {
    const stores = this.#stores;
    if (stores.length === 1) return this.#store.usedBytes;
    let n = 0;
    for (let i = 0; i < stores.length; i++) n += stores[i].usedBytes;
    return n;
  }

  /** Bytes in use: baseline, data and buffers (INFO's `used_memory`). */
  get used(): number {
    return this.baseline + this.overhead + this.#dataBytes();
  }

  /** The limit in force: `maxmemory`, or lower when the V8 heap has no
   * room; 0 when neither applies. */
  get limit(): number {
    const m = this.settings.maxmemory;
    if (this.#heapCap === Infinity) return m;
    return m === 0 ? this.#heapCap : Math.min(m, this.#heapCap);
  }

  /** The V8 heap's own limit in bytes. */
  get heapLimit(): number {
    return v8.getHeapStatistics().heap_size_limit;
  }

  /** Applies changed settings: turns per-key access tracking on or off
   * (LRU and LFU policies need it). */
  sync(): void {
    const p = this.settings.maxmemoryPolicy;
    const mode = p.endsWith("-lfu") ? 2 : p.endsWith("-lru") ? 1 : 0;
    // Other policies keep LRU data if OBJECT IDLETIME asked for it.
    if (mode !== 0) this.track(mode);
    else if (this.#store.accessMode === 2) this.track(0);
    this.#pool.length = 0;
    this.#idleAvg = NaN;
  }

  /** Starts keeping per-key access data: 1 LRU, 2 LFU (0 stops). */
  track(mode: 0 | 1 | 2): void {
    if (this.#store.accessMode === mode) return;
    this.#sinceMs = this.#store.clock();
    for (const store of this.#stores) store.trackAccess(mode);
  }

  /** Seconds on the LRU clock. */
  lruClock(): number {
    return Math.floor((this.#store.clock() - this.#epoch) / 1000);
  }

  /** Minutes on the LFU clock (16 bits, as Redis). */
  lfuMinutes(): number {
    return Math.floor(this.#store.clock() / 60000) & 65535;
  }

  /** The access data of a key after an access: the LRU clock, or the LFU
   * counter decayed then incremented (`prev` undefined: a new key). */
  accessed(prev: number | undefined, mode: number): number {
    if (mode === 1) return this.lruClock();
    if (prev === undefined) return (this.lfuMinutes() << 8) | LFU_INIT_VAL;
    let counter = this.lfuDecay(prev);
    if (counter < 255) {
      const base = counter - LFU_INIT_VAL;
      const p = 1 / ((base < 0 ? 0 : base) * this.settings.lfuLogFactor + 1);
      if (Math.random() < p) counter++;
    }
    return (this.lfuMinutes() << 8) | counter;
  }

  /** The LFU counter of packed access data after its decay (OBJECT
   * FREQ). */
  lfuDecay(data: number): number {
    const ldt = data >> 8;
    const counter = data & 255;
    const now = this.lfuMinutes();
    const elapsed = now >= ldt ? now - ldt : 65535 - ldt + now;
    const decay = this.settings.lfuDecayTime;
    const periods = decay > 0 ? Math.floor(elapsed / decay) : 0;
    return periods > counter ? 0 : counter - periods;
  }

  /** Milliseconds since `key` was last accessed (OBJECT IDLETIME * 1000;
   * the LRU score). Keys not seen since tracking began count from then. */
  idleMs(key: string, store: Store = this.#store): number {
    const data = store.accessOf(key);
    const at = this.#store.accessMode === 1 && data !== undefined
      ? data
      : Math.floor((this.#sinceMs - this.#epoch) / 1000);
    return Math.max(0, this.lruClock() - at) * 1000;
  }

  /** The decayed LFU counter of `key` (OBJECT FREQ). */
  frequency(key: string, store: Store = this.#store): number {
    const data = store.accessOf(key);
    if (data === undefined || this.#store.accessMode !== 2) {
      return this.lfuDecay(
        ((Math.floor(this.#sinceMs / 60000) & 65535) << 8) | LFU_INIT_VAL,
      );
    }
    return this.lfuDecay(data);
  }

  /** Looks at the V8 heap; lowers the limit in force when the heap is
   * nearly full (after one full collection, at most once a second),
   * raises it again when there is room. */
  checkHeap(): void {
    const used = this.#dataBytes() + this.baseline + this.overhead;
    this.#nextHeapCheck = used + HEAP_CHECK_STEP;
    let h = v8.getHeapStatistics();
    const ceiling = h.heap_size_limit * HEAP_CEILING;
    if (h.used_heap_size <= ceiling) {
      if (this.#heapCap !== Infinity && h.used_heap_size < ceiling * 0.9) {
        this.#heapCap = Infinity;
      }
      return;
    }
    const now = performance.now();
    if (now - this.#lastCollect > 1000 && collectGarbage()) {
      this.#lastCollect = now;
      this.collections++;
      h = v8.getHeapStatistics();
      this.#heapAfterCollect = h.used_heap_size;
      if (h.used_heap_size <= ceiling) {
        if (h.used_heap_size < ceiling * 0.9) this.#heapCap = Infinity;
        return;
      }
    } else if (this.#heapCap !== Infinity) {
      // No collection now: the heap may be garbage of deleted keys, so the
      // limit found after the last one stands.
      return;
    }
    // What the estimate may reach so that the heap stays under the
    // ceiling, in proportion to what the heap holds per estimated byte.
    const cap = Math.floor(used * (ceiling * 0.95) / h.used_heap_size);
    this.#heapCap = Math.min(this.#heapCap, cap);
  }

  /**
   * The check Redis's processCommand makes before each command: over the
   * limit, evicts what the policy allows. True when a command flagged
   * denyoom must be refused with {@linkcode OOM_ERROR}.
   */
  check(): boolean {
    const used = this.#dataBytes() + this.baseline + this.overhead;
    if (used >= this.#nextHeapCheck) this.checkHeap();
    const limit = this.limit;
    if (limit === 0 || used <= limit) return false;
    return this.performEvictions() === Evict.Fail;
  }

  /** Background work (the server's cron): the peak, the heap, and
   * evictions a command left unfinished. */
  cron(): void {
    const used = this.used;
    if (used > this.peak) this.peak = used;
    this.checkHeap();
    // Under a maxmemory, evicted values are garbage V8 would let pile up
    // to about twice what is live before collecting: collect sooner (at
    // most once a second), so RSS stays near the limit.
    if (this.settings.maxmemory > 0) {
      const heap = v8.getHeapStatistics().used_heap_size;
      const now = performance.now();
      if (
        heap > used * GARBAGE_FACTOR + 16 * 1024 * 1024 &&
        now - this.#lastCollect > 1000 && collectGarbage()
      ) {
        this.#lastCollect = now;
        this.collections++;
        this.#heapAfterCollect = v8.getHeapStatistics().used_heap_size;
      }
    }
    const limit = this.limit;
    if (limit !== 0 && used > limit) this.performEvictions();
  }

  /**
   * Memory hygiene of an idle server (its cron calls this with a count of
   * commands run so far): once no command ran for
   * {@linkcode IDLE_COLLECT_MS} and the V8 heap grew by
   * {@linkcode IDLE_COLLECT_GROWTH} and a quarter since the last full
   * collection, asks V8 for one. True when it did.
   *
   * DESIGN: V8 collects its old generation when it grows, not when the
   * program goes idle (its memory reducer, which would, does not run under
   * Deno: an idle server that had just taken 1M SETs kept its garbage for
   * the 16 s we watched). What a burst of writes leaves behind is mostly
   * the Map's outgrown hash tables and whatever was young during a
   * scavenge: 14 bytes per key after 1M SETs (129 bytes of RSS per key
   * before the collection, 115 after; redis-server 130). The collection is
   * a full pause (about 150 ms with 1M keys, 100 MB of heap, on this
   * machine), which is why it waits for a second without commands and for
   * real growth, and is not made past {@linkcode IDLE_COLLECT_MAX_HEAP}.
   *
   * @example
   * ```ts
   * import { Store } from "@kv/store";
   * const store = new Store();
   * store.memory.idleCollect(0); // false: it just saw activity
   * ```
   */
  idleCollect(activity: number, now: number = performance.now()): boolean {
    if (this.#heapAfterCollect < 0) {
      // The first call (at start): the base.
      this.#heapAfterCollect = v8.getHeapStatistics().used_heap_size;
    }
    if (activity !== this.#activity) {
      this.#activity = activity;
      this.#activeAt = now;
      return false;
    }
    if (now - this.#activeAt < IDLE_COLLECT_MS) return false;
    if (now - this.#lastCollect < IDLE_COLLECT_MS) return false;
    const heap = v8.getHeapStatistics().used_heap_size;
    const base = this.#heapAfterCollect;
    if (heap > IDLE_COLLECT_MAX_HEAP) return false;
    if (heap < base + IDLE_COLLECT_GROWTH || heap < base * 1.25) {
      // Shrunk (V8 collected by itself): a lower base.
      if (heap < base) this.#heapAfterCollect = heap;
      return false;
    }
    if (!collectGarbage()) return false;
    this.#lastCollect = now;
    this.collections++;
    this.#heapAfterCollect = v8.getHeapStatistics().used_heap_size;
    return true;
  }

  /** Microseconds one call may spend evicting, from the tenacity (as
   * Redis's evictionTimeLimitUs). */
  #timeLimitUs(): number {
    const t = this.settings.maxmemoryEvictionTenacity;
    if (t <= 10) return 50 * t;
    if (t < 100) return 500 * Math.pow(1.15, t - 10);
    return Infinity;
  }

  /** Evicts keys by the policy until under the limit, for a while. */
  performEvictions(): EvictResult {
    const limit = this.limit;
    let used = this.used;
    if (limit === 0 || used <= limit) return Evict.Ok;
    const policy = this.settings.maxmemoryPolicy;
    if (policy === "noeviction") return Evict.Fail;
    const start = performance.now();
    const budget = this.#timeLimitUs() / 1000;
    let n = 0;
    try {
      while (used > limit) {
        const key = this.#pick(policy);
        if (key === undefined) return Evict.Fail;
        const store = this.#picked;
        store.delete(key);
        this.evictedKeys++;
        this.onEvict?.(key, store);
        used = this.used;
        if ((++n & 15) === 0 && performance.now() - start > budget) {
          return used > limit ? Evict.Running : Evict.Ok;
        }
      }
      return Evict.Ok;
    } finally {
      this.evictionMicros += (performance.now() - start) * 1000;
    }
  }

  /** The next key to evict, or undefined when there is none; its store
   * is left in {@linkcode MemoryManager.#picked}. */
  #pick(policy: EvictionPolicy): string | undefined {
    const stores = this.#stores;
    const volatile = policy.startsWith("volatile");
    if (policy.endsWith("random")) return this.#pickRandom(volatile);
    const pool = this.#pool;
    const mode = policy.endsWith("lru") ? 1 : policy.endsWith("lfu") ? 2 : 3;
    // Samples come from a sweep in insertion order, not at random as in
    // Redis, so neighbours are alike: while the best candidate scores below
    // the running average of what was sampled, look a little further (up to
    // 16 batches) before taking it. Each batch samples every database, as
    // Redis's evictionPoolPopulate does.
    for (let tries = 0; tries < 64; tries++) {
      let sampled = 0;
      for (const store of stores) {
        if ((volatile ? store.volatileSize : store.size) === 0) continue;
        const keys = store.sampleKeys(
          volatile,
          this.settings.maxmemorySamples,
        );
        sampled += keys.length;
        for (const key of keys) {
          let idle: number;
          if (mode === 1) idle = this.idleMs(key, store);
          else if (mode === 2) idle = 255 - this.frequency(key, store);
          else idle = -(store.expiryOf(key) ?? Infinity);
          this.#poolInsert(key, idle, store);
          this.#idleAvg = Number.isNaN(this.#idleAvg)
            ? idle
            : this.#idleAvg * 0.995 + idle * 0.005;
        }
      }
      while (pool.length > 0) {
        const best = pool[pool.length - 1];
        const store = best.store;
        if (
          store.peek(best.key) === undefined ||
          (volatile && store.expiryOf(best.key) === undefined)
        ) {
          pool.pop();
          continue;
        }
        if (best.idle < this.#idleAvg && tries < 16 && sampled > 0) break;
        pool.pop();
        this.#picked = store;
        return best.key;
      }
      if (sampled === 0) return undefined;
    }
    return this.#pickRandom(volatile);
  }

  /** A key of the next store (in turn) that has one, for the random
   * policies; undefined when all are empty. */
  #pickRandom(volatile: boolean): string | undefined {
    const stores = this.#stores;
    for (let i = 0; i < stores.length; i++) {
      const store = stores[this.#nextStore++ % stores.length];
      const key = store.sampleKeys(volatile, 1)[0];
      if (key !== undefined) {
        this.#picked = store;
        return key;
      }
    }
    return undefined;
  }

  /** Keeps the POOL_SIZE keys with the highest idle score, ascending. */
  #poolInsert(key: string, idle: number, store: Store): void {
    const pool = this.#pool;
    for (let j = 0; j < pool.length; j++) {
      if (pool[j].key === key && pool[j].store === store) {
        pool.splice(j, 1);
        break;
      }
    }
    let i = 0;
    while (i < pool.length && pool[i].idle < idle) i++;
    if (pool.length >= POOL_SIZE) {
      if (i === 0) return; // worse than everything kept
      pool.splice(0, 1);
      i--;
    }
    pool.splice(i, 0, { key, idle, store });
  }
}
