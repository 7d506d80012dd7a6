// RDB files as Redis 7.0 writes and reads them (rdb.c rdbSaveRio and
// rdbLoadRio): the "REDIS0010" magic, AUX fields, FUNCTION libraries,
// each database's SELECTDB and RESIZEDB, key/value pairs with their
// expiry (and LRU idle time or LFU counter when given), EOF and a CRC-64.
// Values are encoded and decoded by data/_rdb_values.ts (shared with DUMP
// and RESTORE). Our own code, from the documented format.
//
// Writing streams: the bytes gather in a buffer of about a megabyte that
// goes out whenever it fills (between elements of a large value, too), and
// the writer pauses between chunks of keys of the store's point-in-time
// snapshot, as the JSON snapshot writer does. Reading is incremental: it is
// fed chunks as they arrive (from a file or, later, a socket) and hands
// each key to a visitor as soon as its bytes are all in.

import { crc64, RdbReader, RdbWriter } from "./_rdb.ts";
import {
  RDB_TYPE,
  RdbFormatError,
  readValueOfType,
  writeValue,
} from "./data/_rdb_values.ts";
import type { EncodingLimits, Snapshot, StoredValue } from "./store.ts";
import { VERSION } from "./version.ts";

/** The RDB version written (Redis 7.0's); versions 1 to this one load. */
export const RDB_FILE_VERSION = 10;

/** Opcodes of rdb.h. */
const OP = {
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

/** Keys written between pauses (as the JSON snapshot writer). */
const KEYS_PER_CHUNK = 1000;

/** True when `head` (a file's first bytes) starts like an RDB file. */
export function looksLikeRdb(head: Uint8Array): boolean {
  return head.length >= 5 && head[0] === 0x52 && head[1] === 0x45 &&
    head[2] === 0x44 && head[3] === 0x49 && head[4] === 0x53; // REDIS
}

// --- writing ---------------------------------------------------------------

/**
 * The bytes of an RDB file on their way out: a {@linkcode RdbWriter} whose
 * gathered bytes go to `sink` when they pass about a megabyte (within a
 * chunk of keys) or are taken by the caller at each pause (`take()`),
 * counted in the file's checksum either way.
 */
export class RdbFileOut {
  /** The writer values are encoded into. */
  readonly w: RdbWriter;
  #crc = 0n;
  #sealed = false;

  /** `compress`: LZF-compress strings as Redis does with rdbcompression
   * yes. */
  constructor(
    sink: (bytes: Uint8Array) => void,
    options: { compress?: boolean; spillAt?: number } = {},
  ) {
    this.w = new RdbWriter((b) => sink(this.#count(b)), options.spillAt);
    this.w.compress = options.compress ?? false;
  }

  #count(b: Uint8Array): Uint8Array {
    if (!this.#sealed) this.#crc = crc64(b, this.#crc);
    return b;
  }

  /** What is gathered (counted in the checksum): a view valid until the
   * writer is used again. */
  take(): Uint8Array {
    return this.#count(this.w.drain());
  }

  /** Ends the checksummed part (everything up to EOF was taken): appends
   * the CRC-64, little-endian. */
  seal(): void {
    this.#count(this.w.drain()); // nothing, when the caller took it all
    this.#sealed = true;
    this.w.u64le(this.#crc);
  }
}

/** What an RDB file says besides the keys. */
export interface RdbFileInfo {
  /** When the snapshot was taken (ms since the epoch): the ctime field. */
  time: number;
  /** Bytes of memory in use (the used-mem field). */
  usedMemory: number;
  /** Every FUNCTION library's code. */
  functions: readonly string[];
  /** Encoding limits (list node sizes follow list-max-listpack-size). */
  limits: EncodingLimits;
  /** Each database's key and expiry counts (RESIZEDB hints), by index. */
  sizes?: ReadonlyMap<number, readonly [number, number]>;
}

/**
 * Encodes snapshots of databases as an RDB file into `out`, as Redis
 * 7.0's rdbSaveRio lays it out. Pauses (yields) after each chunk of keys,
 * when every value of the chunk is written (a container handed out by the
 * snapshot may change once the event loop runs), and once after EOF: the
 * caller takes what is gathered at each pause; after the end, the
 * checksum remains to be taken. Returns the number of keys.
 */
export function* rdbFileBytes(
  snaps: readonly (readonly [number, Snapshot])[],
  info: RdbFileInfo,
  out: RdbFileOut,
): Generator<void, number> {
  const w = out.w;
  w.binary(`REDIS${String(RDB_FILE_VERSION).padStart(4, "0")}`);
  const aux = (name: string, value: string) => {
    w.byte(OP.AUX);
    w.string(name);
    w.string(value);
  };
  aux("redis-ver", VERSION.redis);
  aux("redis-bits", "64");
  aux("ctime", String(Math.floor(info.time / 1000)));
  aux("used-mem", String(Math.max(0, Math.floor(info.usedMemory))));
  aux("aof-base", "0");
  for (const code of info.functions) {
    w.byte(OP.FUNCTION2);
    w.string(code);
    w.spill();
  }
  let count = 0;
  for (const [db, snap] of snaps) {
    let selected = false;
    let chunk;
    while ((chunk = snap.next(KEYS_PER_CHUNK)).length > 0) {
      if (!selected) {
        // Only a database with keys is written, as Redis does.
        selected = true;
        const [keys, expires] = info.sizes?.get(db) ?? [chunk.length, 0];
        w.byte(OP.SELECTDB);
        w.len(db);
        w.byte(OP.RESIZEDB);
        w.len(keys);
        w.len(expires);
      }
      for (const [key, value, at] of chunk) {
        if (at !== undefined) {
          w.byte(OP.EXPIRETIME_MS);
          w.u64le(Math.floor(at));
        }
        writeValue(w, value, info.limits, key);
        w.spill();
        count++;
      }
      yield;
    }
  }
  w.byte(OP.EOF);
  yield; // the caller takes everything up to EOF
  out.seal();
  return count;
}

// --- reading ---------------------------------------------------------------

/** An RDB file that cannot be read: its offset and what is wrong. */
export class RdbFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RdbFileError";
  }
}

/** What the reader hands on, in file order. */
export interface RdbVisitor {
  /** An AUX field (redis-ver, ctime, ...). */
  aux?(name: string, value: string): void;
  /** A FUNCTION library's code. */
  library?(code: string): void;
  /** The keys that follow are database `index`'s. */
  db?(index: number): void;
  /** A key: its value, its expiry (ms since the epoch) or undefined, its
   * LRU idle time in seconds (or -1) and LFU counter (or -1). */
  entry(
    key: string,
    value: StoredValue,
    expireAt: number | undefined,
    idle: number,
    freq: number,
  ): void;
  /** Something skipped, worth a log line (an empty key). */
  warning?(message: string): void;
}

/** Signals that a record needs more bytes than are in. */
class Short extends Error {}

/** The 9-character name of a module type id (moduleTypeNameByID). */
function moduleName(id: bigint): string {
  const chars =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  let name = "";
  let v = id >> 10n;
  for (let i = 0; i < 9; i++) {
    name = chars[Number(v & 63n)] + name;
    v >>= 6n;
  }
  return name;
}

/**
 * An incremental reader of RDB files (versions 1 to 10). Feed it the bytes
 * as they come with `feed()` (and `null` at the end); each step parses the
 * keys whose bytes are all in, handing them to the visitor. A value is
 * decoded once its last byte is in: the buffer holds the keys not read
 * yet, at most about twice the largest value's encoding. The checksum is
 * checked at EOF. Errors are {@linkcode RdbFileError}s giving the offset.
 *
 * @example
 * ```ts ignore
 * const reader = new RdbFileReader(visitor, () => store.limits);
 * for await (const chunk of file.readable) for (const _ of reader.feed(chunk)) {}
 * for (const _ of reader.feed(null)) {}
 * ```
 */
export class RdbFileReader {
  #buf = new Uint8Array(1 << 16);
  #pos = 0;
  #end = 0;
  /** File offset of `#buf[0]`. */
  #base = 0;
  #ended = false;
  #retryAt = 0;
  #crc = 0n;
  /** Bytes from here to `#pos` are read but not yet in `#crc` (counted in
   * runs: per key would cost a bigint step each). */
  #crcFrom = 0;
  #version = -1;
  #done = false;
  // State carried to the next key.
  #expireAt: number | undefined = undefined;
  #idle = -1;
  #freq = -1;
  #visitor: RdbVisitor;
  #limits: () => EncodingLimits;
  /** Keys read. */
  keys = 0;

  constructor(visitor: RdbVisitor, limits: () => EncodingLimits) {
    this.#visitor = visitor;
    this.#limits = limits;
  }

  /** True once EOF and the checksum were read. */
  get done(): boolean {
    return this.#done;
  }

  /** The RDB version of the file (-1 before its header is read). */
  get version(): number {
    return this.#version;
  }

  /** Takes `chunk` (null: the input ended) and parses what it can;
   * yields every {@linkcode KEYS_PER_CHUNK} keys. At the end, throws
   * unless the file was whole. */
  *feed(chunk: Uint8Array | null): Generator<void, void> {
    if (chunk === null) this.#ended = true;
    else if (!this.#done) this.#append(chunk);
    if (this.#done) return;
    let n = 0;
    while (!this.#done) {
      const avail = this.#end - this.#pos;
      if (!this.#ended && avail < this.#retryAt) break;
      if (!this.#record()) {
        if (this.#ended) {
          this.#fail(
            "the file ends before its end marker (a truncated file?)",
            this.#base + this.#end,
          );
        }
        // Retried once twice as much is in: linear work for a long value.
        this.#retryAt = Math.max(2 * avail, 16);
        break;
      }
      this.#retryAt = 0;
      if (++n % KEYS_PER_CHUNK === 0) yield;
    }
  }

  #append(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      // Moves the bytes not read yet to the front, into a buffer of a
      // power of two that holds them and the chunk (smaller again after a
      // long value went through).
      this.#count();
      const live = this.#end - this.#pos;
      let cap = 1 << 16;
      while (cap < live + chunk.length) cap *= 2;
      const next = cap === this.#buf.length ? this.#buf : new Uint8Array(cap);
      next.set(this.#buf.subarray(this.#pos, this.#end), 0);
      this.#base += this.#pos;
      this.#buf = next;
      this.#pos = 0;
      this.#crcFrom = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  #fail(why: string, at: number): never {
    throw new RdbFileError(`${why} (at byte ${at})`);
  }

  /** Parses one record; false when its bytes are not all in. */
  #record(): boolean {
    const start = this.#pos;
    const view = this.#buf.subarray(start, this.#end);
    const r = new RdbReader(view);
    const at = this.#base + start;
    let consumed: number;
    try {
      consumed = this.#parse(r, at);
    } catch (e) {
      if (e instanceof Short) return false;
      if (e instanceof RdbFormatError) {
        if (r.short && !this.#ended) return false;
        if (r.short) {
          this.#fail(
            "the file ends inside a key (a truncated file?)",
            this.#base + this.#end,
          );
        }
        this.#fail(`a malformed value: ${e.message}`, at);
      }
      throw e;
    }
    return consumed >= 0;
  }

  /** Reads one record from `r`; returns the bytes consumed. Throws Short
   * when more bytes are needed. */
  #parse(r: RdbReader, at: number): number {
    const need = <T>(v: T | null): T => {
      if (v === null) {
        if (r.short) throw new Short();
        this.#fail("a malformed length or string", at + r.pos);
      }
      return v;
    };
    if (this.#version < 0) {
      const head = need(r.bytes(9));
      if (!looksLikeRdb(head)) {
        this.#fail("not an RDB file (no REDIS magic)", 0);
      }
      const digits = String.fromCharCode(...head.subarray(5));
      const version = /^\d{4}$/.test(digits) ? Number(digits) : NaN;
      if (!(version >= 1 && version <= RDB_FILE_VERSION)) {
        this.#fail(`can't handle RDB format version ${digits}`, 5);
      }
      this.#version = version;
      return this.#consume(r.pos);
    }
    const type = need(r.byte());
    const v = this.#visitor;
    switch (type) {
      case OP.EOF: {
        if (this.#version >= 5) {
          const sum = need(r.bytes(8));
          this.#count();
          const crc = crc64(r.buf.subarray(0, 1), this.#crc);
          let expected = 0n;
          for (let i = 7; i >= 0; i--) {
            expected = (expected << 8n) | BigInt(sum[i]);
          }
          if (expected !== 0n && expected !== crc) {
            this.#fail(
              `wrong checksum (the file says ${
                expected.toString(16)
              }, its bytes give ${crc.toString(16)})`,
              at,
            );
          }
        }
        this.#consume(r.pos);
        this.#done = true;
        return r.pos;
      }
      case OP.SELECTDB: {
        const db = need(r.plainLength());
        this.#consume(r.pos);
        v.db?.(db);
        return r.pos;
      }
      case OP.RESIZEDB:
        need(r.plainLength());
        need(r.plainLength());
        return this.#consume(r.pos);
      case OP.EXPIRETIME_MS: {
        const ms = need(r.i64le());
        this.#expireAt = Number(ms);
        return this.#consume(r.pos);
      }
      case OP.EXPIRETIME: {
        const b = need(r.bytes(4));
        const s = new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true);
        this.#expireAt = s * 1000;
        return this.#consume(r.pos);
      }
      case OP.IDLE:
        this.#idle = need(r.plainLength());
        return this.#consume(r.pos);
      case OP.FREQ:
        this.#freq = need(r.byte());
        return this.#consume(r.pos);
      case OP.AUX: {
        const name = need(r.string());
        const value = need(r.string());
        this.#consume(r.pos);
        v.aux?.(name, value);
        return r.pos;
      }
      case OP.MODULE_AUX: {
        const id = need(r.bigLength());
        this.#fail(
          `holds AUX data of module '${
            moduleName(id)
          }', which this server can't load`,
          at,
        );
        break;
      }
      case OP.FUNCTION_PRE_GA:
        this.#fail("pre-release function format not supported", at);
        break;
      case OP.FUNCTION2: {
        const code = need(r.string());
        this.#consume(r.pos);
        v.library?.(code);
        return r.pos;
      }
    }
    if (type === RDB_TYPE.MODULE || type === RDB_TYPE.MODULE_2) {
      this.#fail("holds a module's value, which this server can't load", at);
    }
    const key = need(r.string());
    let value: StoredValue | undefined;
    try {
      value = readValueOfType(r, type, this.#limits());
    } catch (e) {
      if (
        e instanceof RdbFormatError && !r.short &&
        e.message.startsWith("empty ")
      ) {
        // Redis skips an empty key (rdbLoadObject's empty-key error).
        value = undefined;
      } else throw e;
    }
    this.#consume(r.pos);
    const expireAt = this.#expireAt, idle = this.#idle, freq = this.#freq;
    this.#expireAt = undefined;
    this.#idle = this.#freq = -1;
    if (value === undefined) {
      v.warning?.(`skipping an empty key (${JSON.stringify(key)})`);
      return r.pos;
    }
    this.keys++;
    v.entry(key, value, expireAt, idle, freq);
    return r.pos;
  }

  /** The record's `n` bytes are read. */
  #consume(n: number): number {
    this.#pos += n;
    return n;
  }

  /** Counts the bytes read so far in the checksum. */
  #count(): void {
    if (this.#pos > this.#crcFrom) {
      this.#crc = crc64(
        this.#buf.subarray(this.#crcFrom, this.#pos),
        this.#crc,
      );
      this.#crcFrom = this.#pos;
    }
  }
}
