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
 * import { Store } from "./store.ts";
 * let now = 1_000;
 * const store = new Store({ clock: () => now });
 * store.set("session", "abc", { expireAt: now + 500 });
 * now += 501;
 * console.log(store.get("session")); // undefined
 * ```
 * @module
 */

import { globMatch } from "./_glob.ts";

/** Returns the current time in milliseconds since the epoch. */
export type Clock = () => number;

/** Options of a {@linkcode Store}. */
export interface StoreOptions {
  /** Source of time in milliseconds; defaults to `Date.now`. */
  clock?: Clock;
}

/** Options of {@linkcode Store.set}. */
export interface SetOptions {
  /** Absolute expiry time in milliseconds since the epoch. */
  expireAt?: number;
  /** Keep the key's current expiry instead of clearing it. */
  keepTtl?: boolean;
}

/** Counters kept by a {@linkcode Store}, as Redis reports them in INFO. */
export interface StoreStats {
  /** Reads that found their key. */
  hits: number;
  /** Reads that did not. */
  misses: number;
  /** Keys removed because their time ran out. */
  expired: number;
}

/** The result of one {@linkcode Store.scan} call. */
export interface ScanResult {
  /** Cursor for the next call; 0 when the iteration is complete. */
  cursor: number;
  /** Keys found in this call. */
  keys: string[];
}

const SCAN_SLOTS = 256;

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
 * import { Store } from "./store.ts";
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
  readonly stats: StoreStats = { hits: 0, misses: 0, expired: 0 };
  /** Writes since the counter was last reset (Redis's `dirty`). */
  dirty = 0;
  #data = new Map<string, string>();
  // Expiry lives beside the data, as in Redis: most keys have none.
  #expires = new Map<string, number>();
  #expireCursor: Iterator<[string, number]> | null = null;
  #avgTtl = 0;
  #randomCursor: Iterator<string> | null = null;
  #scanSlots: (ScanState | undefined)[] = new Array(SCAN_SLOTS);
  #nextScanSlot = 1;

  /** Creates an empty store. */
  constructor(options: StoreOptions = {}) {
    this.clock = options.clock ?? Date.now;
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
    this.#data.delete(key);
    this.#expires.delete(key);
    this.stats.expired++;
    return true;
  }

  /** The value of `key`, or undefined when missing or expired. */
  get(key: string): string | undefined {
    if (this.#expires.size !== 0) this.#expireIfNeeded(key, this.clock());
    return this.#data.get(key);
  }

  /** Like {@linkcode Store.get}, and counts a keyspace hit or miss. */
  read(key: string): string | undefined {
    const v = this.get(key);
    if (v === undefined) this.stats.misses++;
    else this.stats.hits++;
    return v;
  }

  /** True when `key` exists and has not expired. */
  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Sets `key` to `value`; clears any expiry unless told otherwise. */
  set(key: string, value: string, options?: SetOptions): void {
    this.#data.set(key, value);
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

  /** Removes `key`; true when it existed (and had not expired). */
  delete(key: string): boolean {
    if (this.#expires.size !== 0) {
      if (this.#expireIfNeeded(key, this.clock())) return false;
      this.#expires.delete(key);
    }
    return this.#data.delete(key);
  }

  /** The absolute expiry time of `key` in ms, or undefined if it has none.
   * Call on an existing key. */
  expireAt(key: string): number | undefined {
    return this.#expires.get(key);
  }

  /** Sets the absolute expiry of an existing key; a time already past
   * deletes it. Returns false when the key does not exist. */
  setExpireAt(key: string, at: number): boolean {
    if (!this.has(key)) return false;
    if (at <= this.clock()) {
      this.#data.delete(key);
      this.#expires.delete(key);
    } else {
      this.#expires.set(key, at);
    }
    return true;
  }

  /** Removes the expiry of `key`; true when it had one. */
  persist(key: string): boolean {
    if (!this.has(key)) return false;
    return this.#expires.delete(key);
  }

  /** The type of the value at `key`: `string`, or `none` when missing. */
  type(key: string): "string" | "none" {
    return this.has(key) ? "string" : "none";
  }

  /** Removes every key; returns how many there were. */
  clear(): number {
    const n = this.#data.size;
    this.#data.clear();
    this.#expires.clear();
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
  *entries(): IterableIterator<[string, string, number | undefined]> {
    const now = this.clock();
    for (const [key, value] of this.#data) {
      const at = this.#expires.get(key);
      if (at !== undefined && now > at) continue;
      yield [key, value, at];
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
    const saved = cursor === 0 ? undefined : this.#scanSlots[slot];
    if (saved !== undefined && saved.cursor === cursor) {
      iterator = saved.iterator;
      position = saved.position;
      this.#scanSlots[slot] = undefined;
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
    this.#scanSlots[nextSlot] = { cursor: next, iterator, position };
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
          this.#data.delete(key);
          this.#expires.delete(key);
          this.stats.expired++;
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
