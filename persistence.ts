/**
 * Everything that touches data files: snapshots (SAVE, BGSAVE, the save
 * policy, loading at start-up) and the append-only log (logging writes
 * before their replies go out, fsync policies, replay, rewrite).
 *
 * Snapshots are JSON, or Redis's RDB format (_rdb_file.ts) when
 * `dbfilename` ends in `.rdb`; a file is loaded by what it holds (`REDIS`
 * or `{` first), whatever its name.
 *
 * Snapshots are written to a temporary file in `dir`, fsynced, renamed over
 * `dbfilename`, and the directory fsynced, so a crash at any moment leaves
 * either the old file or the new one, whole. Both directions stream: files
 * are written from a buffer of about a megabyte (a long value goes out as
 * pieces of one JSON or RESP string) and read a few megabytes at a time by
 * an incremental parser that builds long values from pieces, so neither
 * the file nor a whole large value is ever one string or buffer on the way. Background work reads the
 * store through {@linkcode Store.snapshot}: a point-in-time view that
 * costs no pause.
 *
 * @module
 */

import { join } from "./_path.ts";
import type { ServerConfig } from "./config.ts";
import type { Snapshot, SnapshotEntry, Store } from "./store.ts";
import { ReplyWriter } from "./protocol.ts";
import { bytesToBinary } from "./_bytes.ts";
import {
  statOrNull,
  syncPath,
  syncPathSync,
  writeAll,
  writeAllSync,
} from "./_io.ts";
import {
  looksLikeRdb,
  rdbFileBytes,
  RdbFileError,
  RdbFileOut,
  RdbFileReader,
} from "./_rdb_file.ts";

/** The snapshot file's `format` field.
 *
 * @example
 * ```ts ignore
 * import { SNAPSHOT_FORMAT } from "./persistence.ts";
 * const doc = JSON.parse(await Deno.readTextFile("dump.json"));
 * console.log(doc.format === SNAPSHOT_FORMAT);
 * ```
 */
export const SNAPSHOT_FORMAT = "@kv/store snapshot";
/** The newest snapshot format version this code writes and reads (1 and
 * 2 load too). Version 3 adds `{"db": N}` markers among the entries for
 * the numbered databases; a snapshot of database 0 alone is written as
 * version 2, which older versions read.
 *
 * @example
 * ```ts ignore
 * import { SNAPSHOT_VERSION } from "./persistence.ts";
 * console.log(SNAPSHOT_VERSION); // 3
 * ```
 */
export const SNAPSHOT_VERSION = 3;

/** A data file could not be read: the server must not start.
 *
 * @example
 * ```ts ignore
 * import { PersistenceError, Server } from "./mod.ts";
 * try {
 *   await new Server({ dir: "/nonexistent" }).listen();
 * } catch (e) {
 *   if (e instanceof PersistenceError) console.error(e.message);
 * }
 * ```
 */
export class PersistenceError extends Error {
  /** Creates an error naming the file and the problem. */
  constructor(message: string) {
    super(message);
    this.name = "PersistenceError";
  }
}

/** What the persistence layer needs from the server.
 *
 * @example
 * ```ts ignore
 * const server = new Server({ port: 0 });
 * server.persistence.bgsave(); // the server is the host
 * ```
 */
export interface PersistenceHost {
  /** The store to save and load (database 0). */
  readonly store: Store;
  /** Every database made so far (index, store), ordered by index; database
   * 0 alone when absent. */
  readonly databases?: readonly (readonly [number, Store])[];
  /** Database `index`, made when missing (loading a snapshot). */
  db?(index: number): Store;
  /** Live settings. */
  readonly config: ServerConfig;
  /** Writes a log line. */
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void;
  /** Runs one command from the log during replay; returns an error reply's
   * text, or undefined. */
  replay(argv: string[]): string | undefined;
  /** The code of every FUNCTION library, saved with the data and loaded
   * back with `FUNCTION LOAD REPLACE` (commands/functions.ts). */
  functions?(): string[];
}

const ENTRIES_PER_CHUNK = 1000;
/** Elements per command when a container is written out as commands. */
const CONTAINER_BATCH = 128;

// --- writing in bounded pieces ---------------------------------------------
//
// Snapshots and log rewrites are encoded into one buffer of about a
// megabyte that is written out whenever it fills: no string or buffer ever
// holds a whole file, nor a whole large value (a long string goes out as
// pieces of one JSON string, or of one RESP bulk string).

/** Output gathered before it is written out (a write happens at this size,
 * or at the end of each chunk of entries). */
const OUT_FLUSH = 1 << 20;
/** Chars of a long string encoded in one go: a multiple of 3, so base64
 * pieces join into one base64 text. */
const PIECE = 3 * 16384;
/** Buffer size: a full flush threshold plus the worst case of one piece
 * (a char escaped as `\u00XX` takes 6 bytes). */
const OUT_CAPACITY = OUT_FLUSH + PIECE * 6 + 4096;

/** How a byte string is written in JSON. */
const PLAIN = 0; // printable ASCII with nothing to escape: as it is
const TEXT = 1; // valid UTF-8: as text, escaped
const BASE64 = 2; // other bytes: {"base64": "..."}

const PLAIN_RE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
// deno-lint-ignore no-control-regex
const ASCII_RE = /^[\x00-\x7f]*$/;
const HEX = "0123456789abcdef";
const encoder = new TextEncoder();

/** True when the byte string `s` is valid UTF-8 (as a fatal decoder sees
 * it: no overlong forms, no surrogates, nothing past U+10FFFF). */
function isUtf8(s: string): boolean {
  const n = s.length;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    let cp: number;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      min = 0x80;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      min = 0x800;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      min = 0x10000;
      cp = c & 0x07;
    } else {
      return false;
    }
    for (let j = 1; j <= need; j++) {
      const d = s.charCodeAt(i + j);
      if ((d & 0xc0) !== 0x80) return false; // NaN past the end too
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += need + 1;
  }
  return true;
}

function stringKind(s: string): number {
  if (PLAIN_RE.test(s)) return PLAIN;
  return isUtf8(s) ? TEXT : BASE64;
}

/**
 * An output buffer of bounded size that a sink empties. Encoders make room
 * before each write (`room`), which hands the buffer to the sink when it
 * is full; generators (`*Pieces`) instead pause when it is full, so an
 * asynchronous writer can empty it between pieces.
 */
class ChunkedOut {
  buf: Uint8Array = new Uint8Array(OUT_CAPACITY);
  len = 0;
  #sink: (bytes: Uint8Array) => void;

  constructor(sink: (bytes: Uint8Array) => void) {
    this.#sink = sink;
  }

  /** True when enough is gathered to be worth a write. */
  get full(): boolean {
    return this.len >= OUT_FLUSH;
  }

  /** The bytes gathered (valid until the next write to this buffer). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Hands what is gathered to the sink. */
  flush(): void {
    if (this.len > 0) {
      this.#sink(this.buf.subarray(0, this.len));
      this.len = 0;
    }
  }

  /** Makes room for `n` bytes (at most a piece's worst case). */
  room(n: number): void {
    if (this.len + n > this.buf.length) this.flush();
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.len++] = b;
  }

  /** Short ASCII text (at most a few KB), as it is. */
  ascii(s: string): void {
    this.room(s.length);
    const buf = this.buf;
    let at = this.len;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.len = at;
  }

  /** Chars `from..to` of a byte string as bytes (room made by the caller). */
  #latin1(s: string, from: number, to: number, ascii: boolean): void {
    if (ascii && to - from > 64) {
      const { written } = encoder.encodeInto(
        from === 0 && to === s.length ? s : s.slice(from, to),
        this.buf.subarray(this.len),
      );
      this.len += written;
      return;
    }
    const buf = this.buf;
    let at = this.len;
    for (let i = from; i < to; i++) buf[at++] = s.charCodeAt(i);
    this.len = at;
  }

  /** Chars `from..to` of `s` JSON-escaped (UTF-8 bytes stay as they are:
   * they are the text's encoding already). */
  #escaped(s: string, from: number, to: number): void {
    const buf = this.buf;
    let at = this.len;
    for (let i = from; i < to; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x20 && c !== 34 && c !== 92) {
        buf[at++] = c;
        continue;
      }
      buf[at++] = 92; // '\'
      switch (c) {
        case 34:
          buf[at++] = 34;
          break;
        case 92:
          buf[at++] = 92;
          break;
        case 10:
          buf[at++] = 110; // n
          break;
        case 13:
          buf[at++] = 114; // r
          break;
        case 9:
          buf[at++] = 116; // t
          break;
        case 8:
          buf[at++] = 98; // b
          break;
        case 12:
          buf[at++] = 102; // f
          break;
        default:
          buf[at++] = 117; // u00XX
          buf[at++] = 48;
          buf[at++] = 48;
          buf[at++] = HEX.charCodeAt(c >> 4);
          buf[at++] = HEX.charCodeAt(c & 15);
      }
    }
    this.len = at;
  }

  /** A byte string as one JSON value: a string when it is valid UTF-8,
   * else `{"base64": ...}`. */
  jsonString(s: string): void {
    const n = s.length;
    if (n <= 256) {
      // Fast path: printable ASCII with nothing to escape.
      this.room(n + 2);
      const buf = this.buf;
      let at = this.len;
      buf[at++] = 34;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c < 0x20 || c > 0x7e || c === 34 || c === 92) break;
        buf[at++] = c;
      }
      if (i === n) {
        buf[at++] = 34;
        this.len = at;
        return;
      }
    }
    for (const _ of this.jsonStringPieces(s)) this.flush();
  }

  /** `jsonString` in pieces, pausing whenever the buffer is full. */
  *jsonStringPieces(s: string): Generator<void> {
    const kind = stringKind(s);
    this.ascii(kind === BASE64 ? '{"base64":"' : '"');
    for (let i = 0; i < s.length; i += PIECE) {
      const end = Math.min(s.length, i + PIECE);
      this.room(PIECE * 6);
      if (kind === PLAIN) this.#latin1(s, i, end, true);
      else if (kind === TEXT) this.#escaped(s, i, end);
      else {
        const b64 = btoa(s.slice(i, end));
        this.#latin1(b64, 0, b64.length, true);
      }
      if (this.full) yield;
    }
    this.ascii(kind === BASE64 ? '"}' : '"');
  }

  /** A RESP bulk string. */
  bulk(s: string): void {
    if (s.length <= 256) {
      this.room(s.length + 24);
      this.ascii(`$${s.length}\r\n`);
      this.#latin1(s, 0, s.length, false);
      this.buf[this.len++] = 13;
      this.buf[this.len++] = 10;
      return;
    }
    for (const _ of this.bulkPieces(s)) this.flush();
  }

  /** `bulk` in pieces, pausing whenever the buffer is full. */
  *bulkPieces(s: string): Generator<void> {
    this.ascii(`$${s.length}\r\n`);
    for (let i = 0; i < s.length; i += PIECE) {
      const end = Math.min(s.length, i + PIECE);
      this.room(PIECE);
      const piece = s.slice(i, end);
      this.#latin1(piece, 0, piece.length, ASCII_RE.test(piece));
      if (this.full) yield;
    }
    this.ascii("\r\n");
  }

  /** A command as a RESP array of bulk strings. */
  command(argv: string[]): void {
    this.ascii(`*${argv.length}\r\n`);
    for (const a of argv) this.bulk(a);
  }
}

function header(
  time: number,
  functions: readonly string[],
  version: number,
): string {
  // FUNCTION libraries, as Redis keeps them in its RDB file: their code.
  const libs = functions.length > 0
    ? `"functions":${JSON.stringify(functions)},`
    : "";
  return `{"format":${
    JSON.stringify(SNAPSHOT_FORMAT)
  },"version":${version},"time":${time},${libs}"entries":[`;
}

/** The snapshot of one database: its index and the point-in-time view
 * (what {@linkcode Persistence.snapshotAll} takes of every database).
 *
 * @example
 * ```ts
 * import { type DbSnapshot, Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * const { snaps } = server.persistence.snapshotAll();
 * const first: DbSnapshot = snaps[0];
 * console.log(first[0]); // 0: database 0 is always there
 * for (const [, snap] of snaps) snap.close();
 * ```
 */
export type DbSnapshot = readonly [number, Snapshot];

function trailer(count: number): string {
  return `\n],"count":${count}}\n`;
}

/** The index of the last container in a chunk of entries, or -1. */
function lastContainer(chunk: SnapshotEntry[]): number {
  for (let i = chunk.length - 1; i >= 0; i--) {
    if (typeof chunk[i][1] !== "string") return i;
  }
  return -1;
}

/**
 * Encodes a snapshot as the JSON file, pausing (yielding) at the end of
 * each chunk of entries and between the pieces of a long string value.
 * A container the snapshot handed out may be changed in place once the
 * event loop runs, so pauses only come when every container of the chunk
 * is written; strings cannot change, so a long one may pause. Returns the
 * number of entries.
 */
function* snapshotBytes(
  snaps: readonly DbSnapshot[],
  time: number,
  out: ChunkedOut,
  functions: readonly string[],
): Generator<void, number> {
  // Database 0 alone keeps version 2's layout, which older versions read;
  // other databases' entries follow a {"db": N} marker (version 3).
  const multi = snaps.some(([db]) => db !== 0);
  out.ascii(header(time, functions, multi ? SNAPSHOT_VERSION : 2));
  let count = 0;
  let items = 0;
  for (const [db, snap] of snaps) {
    if (db !== 0) out.ascii(`${items++ === 0 ? "\n" : ",\n"}{"db":${db}}`);
    let chunk;
    while ((chunk = snap.next(ENTRIES_PER_CHUNK)).length > 0) {
      const safe = lastContainer(chunk);
      for (let i = 0; i < chunk.length; i++) {
        const [k, v, at] = chunk[i];
        out.ascii(items++ === 0 ? "\n[" : ",\n[");
        count++;
        out.jsonString(k);
        out.byte(44);
        if (typeof v === "string") {
          if (i > safe && v.length > PIECE) yield* out.jsonStringPieces(v);
          else out.jsonString(v);
        } else {
          out.ascii(`{"type":${JSON.stringify(v.type)},"commands":[`);
          let first = true;
          for (const argv of v.rewrite(k, CONTAINER_BATCH)) {
            out.ascii(first ? "[" : ",[");
            first = false;
            for (let j = 0; j < argv.length; j++) {
              if (j > 0) out.byte(44);
              out.jsonString(argv[j]);
            }
            out.byte(93);
          }
          out.ascii("]}");
        }
        if (at !== undefined) out.ascii(`,${at}`);
        out.byte(93);
      }
      yield;
    }
  }
  out.ascii(trailer(count));
  return count;
}

/** Encodes a snapshot as the commands that rebuild it (a log rewrite),
 * pausing as {@linkcode snapshotBytes} does; each database other than 0
 * after a SELECT. Returns the database selected at the end. */
function* rewriteBytes(
  snaps: readonly DbSnapshot[],
  out: ChunkedOut,
  functions: readonly string[],
): Generator<void, number> {
  for (const code of functions) {
    out.command(["FUNCTION", "LOAD", "REPLACE", code]);
  }
  let selected = 0;
  for (const [db, snap] of snaps) {
    if (db !== selected) out.command(["SELECT", String(selected = db)]);
    let chunk;
    while ((chunk = snap.next(ENTRIES_PER_CHUNK)).length > 0) {
      const safe = lastContainer(chunk);
      for (let i = 0; i < chunk.length; i++) {
        const [k, v, at] = chunk[i];
        if (typeof v !== "string") {
          for (const argv of v.rewrite(k, CONTAINER_BATCH)) out.command(argv);
          if (at !== undefined) out.command(["PEXPIREAT", k, String(at)]);
          continue;
        }
        out.ascii(at === undefined ? "*3\r\n" : "*5\r\n");
        out.bulk("SET");
        out.bulk(k);
        if (i > safe && v.length > PIECE) yield* out.bulkPieces(v);
        else out.bulk(v);
        if (at !== undefined) {
          out.bulk("PXAT");
          out.bulk(String(at));
        }
      }
      yield;
    }
  }
  return selected;
}

// --- reading in bounded pieces ---------------------------------------------

/** Bytes read from a file at a time. */
const READ_CHUNK = 4 << 20;

/** A window on a file read in chunks: `buf[pos, end)` are the bytes not
 * consumed yet; `more()` reads on, keeping them. */
class ChunkedReader {
  buf: Uint8Array;
  pos = 0;
  end = 0;
  /** File offset of `buf[0]`. */
  offset = 0;
  #file: Deno.FsFile;
  #eof = false;

  constructor(file: Deno.FsFile, size = READ_CHUNK) {
    this.#file = file;
    this.buf = new Uint8Array(size);
  }

  /** Reads on until `n` bytes are unconsumed, or the file ends. */
  need(n: number): void {
    while (this.end - this.pos < n && this.more()) {
      // reading
    }
  }

  /** Reads more bytes after the unconsumed ones; false at the end of the
   * file. */
  more(): boolean {
    if (this.#eof) return false;
    if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
      this.offset += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    if (this.end === this.buf.length) {
      // Only a token longer than the window (a number?) gets here.
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    const n = this.#file.readSync(this.buf.subarray(this.end));
    if (n === null || n === 0) {
      this.#eof = true;
      return false;
    }
    this.end += n;
    return true;
  }
}

/** The log's file ended inside a command. */
class AofTruncated extends Error {}

/** The log holds something that is not a command. */
class AofBadFormat extends Error {}

/**
 * Reads the append-only file's commands (RESP arrays of bulk strings) from
 * a {@linkcode ChunkedReader}; a bulk string longer than the window is
 * built from pieces, so no buffer holds a whole large value.
 */
class AofReader {
  /** File offset just after the last whole command. */
  valid = 0;
  #r: ChunkedReader;

  constructor(r: ChunkedReader) {
    this.#r = r;
  }

  /** File offset up to which bytes were read. */
  get read(): number {
    return this.#r.offset + this.#r.end;
  }

  /** The next command, or null at the end of the file. Throws
   * `AofTruncated` when the file ends inside one, `AofBadFormat` when it
   * holds something else. */
  next(): string[] | null {
    const r = this.#r;
    if (r.pos >= r.end && !r.more()) return null;
    const n = this.#count(42, "multibulk");
    if (n < 1) throw new AofBadFormat("invalid multibulk length");
    const argv: string[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const len = this.#count(36, "bulk");
      argv[i] = this.#bulk(len);
    }
    this.valid = r.offset + r.pos;
    return argv;
  }

  /** A `*N` or `$N` line (with the given prefix): its number. */
  #count(prefix: number, what: string): number {
    const r = this.#r;
    for (;;) {
      const buf = r.buf;
      const end = r.end;
      let i = r.pos;
      if (i < end) {
        if (buf[i] !== prefix) {
          throw new AofBadFormat(
            `expected '${String.fromCharCode(prefix)}', got '${
              String.fromCharCode(buf[i])
            }'`,
          );
        }
        let v = 0;
        let digits = 0;
        for (i++; i < end && digits <= 18; i++, digits++) {
          const c = buf[i];
          if (c < 48 || c > 57) break;
          v = v * 10 + (c - 48);
        }
        if (i + 1 < end) {
          if (buf[i] !== 13 || buf[i + 1] !== 10 || digits === 0) {
            throw new AofBadFormat(`invalid ${what} length`);
          }
          r.pos = i + 2;
          return v;
        }
      }
      if (end - r.pos > 64) throw new AofBadFormat(`invalid ${what} length`);
      if (!r.more()) throw new AofTruncated();
    }
  }

  /** `len` bytes and the CRLF after them, as a byte string. */
  #bulk(len: number): string {
    const r = this.#r;
    if (len + 2 <= READ_CHUNK) {
      if (r.end - r.pos < len + 2) {
        r.need(len + 2);
        if (r.end - r.pos < len + 2) throw new AofTruncated();
      }
      const s = bytesToBinary(r.buf, r.pos, r.pos + len);
      r.pos += len + 2; // as Redis, the CRLF is skipped unchecked
      return s;
    }
    const parts: string[] = [];
    let left = len;
    while (left > 0) {
      if (r.pos >= r.end && !r.more()) throw new AofTruncated();
      const take = Math.min(left, r.end - r.pos);
      parts.push(bytesToBinary(r.buf, r.pos, r.pos + take));
      r.pos += take;
      left -= take;
    }
    r.need(2);
    if (r.end - r.pos < 2) throw new AofTruncated();
    r.pos += 2;
    return parts.join("");
  }
}

/** What a snapshot file holds, handed over entry by entry. */
interface SnapshotVisitor {
  /** Called once the header is read (format and version checked). */
  begin?(version: number): void;
  /** The FUNCTION libraries' code (before the entries). */
  functions?(codes: string[]): void;
  /** The entries that follow belong to database `index` (version 3). */
  db?(index: number): void;
  /** A string value. */
  string(index: number, key: string, value: string, expireAt?: number): void;
  /** A container begins: its commands follow. */
  container(index: number, key: string): void;
  /** One command that builds the container begun last. */
  command(index: number, argv: string[]): void;
  /** The container begun last is complete. */
  containerEnd(index: number, key: string, expireAt?: number): void;
}

class JsonSyntaxError extends Error {}

/**
 * An incremental parser of the snapshot format: reads the file in chunks
 * and hands each entry to a visitor as soon as it is read, building long
 * strings from pieces. Strings come out as byte strings (the UTF-8 bytes of
 * JSON text, `{"base64": ...}` decoded).
 */
class SnapshotParser {
  #r: ChunkedReader;
  #fail: (why: string) => never;

  constructor(r: ChunkedReader, fail: (why: string) => never) {
    this.#r = r;
    this.#fail = fail;
  }

  #syntax(why: string): never {
    const r = this.#r;
    throw new JsonSyntaxError(
      `not valid JSON (${why} at byte ${r.offset + r.pos})`,
    );
  }

  /** The next byte that is not white space (not consumed), or -1 at the
   * end of the file. */
  #peek(): number {
    const r = this.#r;
    for (;;) {
      const buf = r.buf;
      let i = r.pos;
      const end = r.end;
      while (i < end) {
        const c = buf[i];
        if (c !== 32 && c !== 10 && c !== 13 && c !== 9) {
          r.pos = i;
          return c;
        }
        i++;
      }
      r.pos = i;
      if (!r.more()) return -1;
    }
  }

  #expect(c: number): void {
    if (this.#peek() !== c) {
      this.#syntax(`expected '${String.fromCharCode(c)}'`);
    }
    this.#r.pos++;
  }

  /** Consumes a `,` (true) or the closing `close` (false). */
  #commaOr(close: number): boolean {
    const c = this.#peek();
    if (c === 44) {
      this.#r.pos++;
      return true;
    }
    if (c === close) {
      this.#r.pos++;
      return false;
    }
    return this.#syntax(`expected ',' or '${String.fromCharCode(close)}'`);
  }

  /** A JSON string (at its opening quote) as a byte string; with
   * `base64`, its text decoded from base64 piece by piece. */
  #string(base64 = false): string {
    const r = this.#r;
    if (!base64) {
      // Fast path: the whole string is in the window, with no escapes.
      const buf = r.buf;
      const end = r.end;
      const start = r.pos + 1;
      for (let i = start; i < end; i++) {
        const c = buf[i];
        if (c === 34) {
          r.pos = i + 1;
          return bytesToBinary(buf, start, i);
        }
        if (c === 92) break;
      }
    }
    return this.#stringPieces(base64);
  }

  /** A string with escapes or longer than the window, built from pieces. */
  #stringPieces(base64: boolean): string {
    const r = this.#r;
    r.pos++; // the opening quote
    const parts: string[] = [];
    let carry = ""; // base64 text not yet a multiple of 4 chars
    const push = (piece: string) => {
      if (base64) {
        piece = carry + piece;
        const cut = piece.length - (piece.length & 3);
        carry = piece.slice(cut);
        try {
          piece = atob(piece.slice(0, cut));
        } catch {
          this.#fail("a base64 value is not valid base64");
        }
      }
      parts.push(piece);
    };
    for (;;) {
      const buf = r.buf;
      const end = r.end;
      const start = r.pos;
      let i = start;
      let c = 0;
      while (i < end) {
        c = buf[i];
        if (c === 34 || c === 92) break;
        i++;
      }
      if (i > start) push(bytesToBinary(buf, start, i));
      r.pos = i;
      if (i < end && c === 34) {
        r.pos = i + 1;
        if (carry !== "") this.#fail("a base64 value is not valid base64");
        return parts.length === 1 ? parts[0] : parts.join("");
      }
      if (i < end) {
        // A backslash: the escape needs up to 12 bytes (a surrogate pair).
        r.need(12);
        push(this.#escape());
        continue;
      }
      if (!r.more()) this.#syntax("unterminated string");
    }
  }

  /** An escape sequence (at the backslash) as UTF-8 bytes. */
  #escape(): string {
    const r = this.#r;
    const buf = r.buf;
    const c = buf[r.pos + 1];
    r.pos += 2;
    switch (c) {
      case 34:
        return '"';
      case 92:
        return "\\";
      case 47:
        return "/";
      case 98:
        return "\b";
      case 102:
        return "\f";
      case 110:
        return "\n";
      case 114:
        return "\r";
      case 116:
        return "\t";
      case 117: {
        let cp = this.#hex4();
        if (cp >= 0xd800 && cp <= 0xdbff) {
          if (
            r.pos + 1 < r.end && buf[r.pos] === 92 && buf[r.pos + 1] === 117
          ) {
            const save = r.pos;
            r.pos += 2;
            const low = this.#hex4();
            if (low >= 0xdc00 && low <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            } else {
              r.pos = save;
              cp = 0xfffd;
            }
          } else {
            cp = 0xfffd;
          }
        } else if (cp >= 0xdc00 && cp <= 0xdfff) {
          cp = 0xfffd; // a lone surrogate: TextEncoder's replacement
        }
        return utf8Bytes(cp);
      }
    }
    return this.#syntax("bad escape in a string");
  }

  #hex4(): number {
    const r = this.#r;
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const d = r.pos < r.end ? hexDigit(r.buf[r.pos]) : -1;
      if (d < 0) this.#syntax("bad \\u escape");
      v = v * 16 + d;
      r.pos++;
    }
    return v;
  }

  #number(): number {
    const r = this.#r;
    for (;;) {
      let i = r.pos;
      while (i < r.end && isNumberByte(r.buf[i])) i++;
      if (i < r.end || !r.more()) {
        const text = bytesToBinary(r.buf, r.pos, i);
        r.pos = i;
        const n = text === "" ? NaN : Number(text);
        if (Number.isNaN(n)) this.#syntax("bad number");
        return n;
      }
    }
  }

  /** Any JSON value (for fields this code does not use). */
  #value(): unknown {
    const c = this.#peek();
    if (c === 34) return this.#string();
    if (c === 45 || (c >= 48 && c <= 57)) return this.#number();
    const r = this.#r;
    if (c === 123) {
      r.pos++;
      const o: Record<string, unknown> = {};
      if (this.#peek() === 125) {
        r.pos++;
        return o;
      }
      do {
        if (this.#peek() !== 34) this.#syntax(`expected '"'`);
        const k = this.#string();
        this.#expect(58);
        o[k] = this.#value();
      } while (this.#commaOr(125));
      return o;
    }
    if (c === 91) {
      r.pos++;
      const a: unknown[] = [];
      if (this.#peek() === 93) {
        r.pos++;
        return a;
      }
      do a.push(this.#value()); while (this.#commaOr(93));
      return a;
    }
    for (
      const [word, v] of [["true", true], ["false", false], ["null", null]]
    ) {
      const w = word as string;
      r.need(w.length);
      if (
        bytesToBinary(r.buf, r.pos, Math.min(r.end, r.pos + w.length)) === w
      ) {
        r.pos += w.length;
        return v;
      }
    }
    return c === -1
      ? this.#syntax("unexpected end of file")
      : this.#syntax(`unexpected '${String.fromCharCode(c)}'`);
  }

  /** A key or string value: a JSON string, or `{"base64": "..."}`;
   * undefined for anything else (consumed). */
  #byteString(): string | undefined {
    const c = this.#peek();
    if (c === 34) return this.#string();
    if (c !== 123) {
      this.#value();
      return undefined;
    }
    this.#r.pos++;
    let out: string | undefined;
    let other = false;
    if (this.#peek() === 125) {
      this.#r.pos++;
      return undefined;
    }
    do {
      if (this.#peek() !== 34) this.#syntax(`expected '"'`);
      const k = this.#string();
      this.#expect(58);
      if (k === "base64" && this.#peek() === 34) out = this.#string(true);
      else {
        this.#value();
        other = true;
      }
    } while (this.#commaOr(125));
    return other ? undefined : out;
  }

  /** Parses the whole file, handing entries to `v`. */
  /** Parses the whole file; yields every {@linkcode ENTRIES_PER_CHUNK}
   * entries, so a caller may let other work run while loading. */
  *parse(v: SnapshotVisitor): Generator<void, void> {
    this.#expect(123);
    let format: unknown;
    let version: unknown;
    let entries = -1;
    let count: unknown;
    if (this.#peek() !== 125) {
      do {
        if (this.#peek() !== 34) this.#syntax(`expected '"'`);
        const name = this.#string();
        this.#expect(58);
        if (name === "entries" && this.#peek() === 91) {
          if (format !== SNAPSHOT_FORMAT) this.#notOurs();
          if (version !== SNAPSHOT_VERSION && version !== 2 && version !== 1) {
            this.#fail(`unsupported format version ${JSON.stringify(version)}`);
          }
          v.begin?.(version as number);
          entries = yield* this.#entries(v);
        } else {
          const value = this.#value();
          if (name === "format") format = value;
          else if (name === "version") version = value;
          else if (name === "count") count = value;
          else if (name === "functions" && Array.isArray(value)) {
            v.functions?.(value.filter((c) => typeof c === "string"));
          }
        }
      } while (this.#commaOr(125));
    }
    if (this.#peek() !== -1) this.#syntax("data after the end");
    if (format !== SNAPSHOT_FORMAT) this.#notOurs();
    if (entries < 0) this.#fail(`"entries" is not an array`);
    if (typeof count === "number" && count !== entries) {
      this.#fail(`holds ${entries} entries, expected ${count}`);
    }
  }

  #notOurs(): never {
    return this.#fail(
      `not a @kv/store snapshot (no "format": "${SNAPSHOT_FORMAT}")`,
    );
  }

  *#entries(v: SnapshotVisitor): Generator<void, number> {
    const r = this.#r;
    r.pos++; // [
    if (this.#peek() === 93) {
      r.pos++;
      return 0;
    }
    let i = 0;
    // One closure for all entries (it reads the current `i`), not one
    // allocated per entry: a million entries made a million of them.
    const shape = () =>
      this.#fail(
        `entry ${i} is not [key, value] or [key, value, expireAt]`,
      );
    do {
      if (this.#plainEntry(v, i)) {
        if (++i % ENTRIES_PER_CHUNK === 0) yield;
        continue;
      }
      if (this.#peek() === 123) {
        // {"db": N}: the entries that follow are database N's.
        const marker = this.#value() as Record<string, unknown>;
        const db = marker.db;
        if (typeof db !== "number" || !Number.isInteger(db) || db < 0) {
          this.#fail(`a database marker before entry ${i} is not {"db": N}`);
        }
        v.db?.(db as number);
        continue;
      }
      if (this.#peek() !== 91) shape();
      r.pos++;
      const key = this.#byteString();
      if (!this.#commaOr(93)) shape();
      if (this.#peek() === 123 && key !== undefined && this.#isContainer()) {
        v.container(i, key);
        this.#containerBody(v, i);
        const at = this.#expiry(i, shape);
        v.containerEnd(i, key, at);
      } else {
        const value = this.#byteString();
        const at = this.#expiry(i, shape);
        if (key === undefined || value === undefined) {
          this.#fail(`entry ${i} has a key or value that is not a string`);
        }
        v.string(i, key!, value!, at);
      }
      i++;
      if (i % ENTRIES_PER_CHUNK === 0) yield;
    } while (this.#commaOr(93));
    return i;
  }

  /** The common entry, `["key","value"]` or `["key","value",expireAt]`
   * as the writer puts it (no white space inside, strings without
   * escapes, the expiry a non-negative integer), wholly in the window:
   * read in one pass and handed to `v`. False, consuming nothing, for
   * anything else, which the general path then reads.
   *
   * DESIGN: the general path peeks, checks and calls once per token; for
   * 1M such entries the reading alone (the store's insert left out) took
   * 179 ms of CPU with this against 206 ms without (median of 9 runs). */
  #plainEntry(v: SnapshotVisitor, i: number): boolean {
    const r = this.#r;
    const buf = r.buf;
    const end = r.end;
    let p = r.pos;
    let c = 0;
    while (
      p < end && ((c = buf[p]) === 10 || c === 32 || c === 13 || c === 9)
    ) {
      p++;
    }
    if (p + 1 >= end || c !== 91 || buf[p + 1] !== 34) return false;
    const keyStart = p + 2;
    let j = keyStart;
    while (j < end && (c = buf[j]) !== 34 && c !== 92) j++;
    if (c !== 34 || j + 3 >= end || buf[j + 1] !== 44 || buf[j + 2] !== 34) {
      return false;
    }
    const keyEnd = j;
    const valueStart = j + 3;
    j = valueStart;
    while (j < end && (c = buf[j]) !== 34 && c !== 92) j++;
    if (c !== 34 || j + 1 >= end) return false;
    const valueEnd = j;
    c = buf[++j];
    let at: number | undefined;
    if (c === 44) {
      // Up to 15 digits: exact as a double, as Number() reads them.
      const digits = ++j;
      let n = 0;
      while (j < end && (c = buf[j] - 48) >= 0 && c <= 9) {
        n = n * 10 + c;
        j++;
      }
      if (j === digits || j - digits > 15 || j >= end) return false;
      at = n;
      c = buf[j];
    }
    if (c !== 93) return false;
    r.pos = j + 1;
    v.string(
      i,
      bytesToBinary(buf, keyStart, keyEnd),
      bytesToBinary(buf, valueStart, valueEnd),
      at,
    );
    return true;
  }

  /** The optional expiry after a value, and the entry's closing bracket. */
  #expiry(i: number, shape: () => never): number | undefined {
    if (!this.#commaOr(93)) return undefined;
    const at = this.#value();
    if (typeof at !== "number" || !Number.isFinite(at)) {
      this.#fail(`entry ${i} has an expiry time that is not a number`);
    }
    if (this.#commaOr(93)) shape();
    return at as number;
  }

  /** At a `{`: true when the object is a container (its first field is
   * "type" or "commands"), not `{"base64": ...}`. Consumes nothing. */
  #isContainer(): boolean {
    const r = this.#r;
    r.need(16);
    let i = r.pos + 1;
    while (i < r.end && isSpace(r.buf[i])) i++;
    const head = bytesToBinary(r.buf, i, Math.min(r.end, i + 10));
    return head.startsWith('"type"') || head.startsWith('"commands"');
  }

  /** `{"type": ..., "commands": [[...], ...]}`: each command goes to the
   * visitor as soon as it is read. */
  #containerBody(v: SnapshotVisitor, i: number): void {
    const r = this.#r;
    r.pos++; // {
    if (this.#peek() === 125) {
      r.pos++;
      return;
    }
    const bad = () =>
      this.#fail(`entry ${i} has a command that is not a list of strings`);
    do {
      if (this.#peek() !== 34) this.#syntax(`expected '"'`);
      const name = this.#string();
      this.#expect(58);
      if (name !== "commands" || this.#peek() !== 91) {
        this.#value();
        continue;
      }
      r.pos++; // [
      if (this.#peek() === 93) {
        r.pos++;
        continue;
      }
      do {
        if (this.#peek() !== 91) {
          this.#value();
          bad();
        }
        r.pos++;
        const argv: string[] = [];
        if (this.#peek() === 93) r.pos++;
        else {
          do {
            const a = this.#byteString();
            if (a === undefined) bad();
            argv.push(a!);
          } while (this.#commaOr(93));
        }
        if (argv.length < 2) bad();
        v.command(i, argv);
      } while (this.#commaOr(93));
    } while (this.#commaOr(125));
  }
}

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function isNumberByte(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 ||
    c === 101 || c === 69;
}

/** A code point as its UTF-8 bytes (a byte string). */
function utf8Bytes(cp: number): string {
  const f = String.fromCharCode;
  if (cp < 0x80) return f(cp);
  if (cp < 0x800) return f(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  if (cp < 0x10000) {
    return f(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  }
  return f(
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 63),
    0x80 | ((cp >> 6) & 63),
    0x80 | (cp & 63),
  );
}

/** Reads a snapshot file in chunks, handing its entries to `v`. Throws a
 * {@linkcode PersistenceError} naming the file and the problem. */
function readSnapshot(
  path: string,
  file: Deno.FsFile,
  v: SnapshotVisitor,
  windowBytes = READ_CHUNK,
) {
  const steps = readSnapshotSteps(path, file, v, windowBytes);
  while (!steps.next().done) {
    // reading
  }
}

/** {@linkcode readSnapshot} in steps: yields every
 * {@linkcode ENTRIES_PER_CHUNK} entries. */
function* readSnapshotSteps(
  path: string,
  file: Deno.FsFile,
  v: SnapshotVisitor,
  windowBytes = READ_CHUNK,
): Generator<void, void> {
  const fail = (why: string): never => {
    throw new PersistenceError(`Bad snapshot file ${path}: ${why}`);
  };
  const parser = new SnapshotParser(new ChunkedReader(file, windowBytes), fail);
  try {
    yield* parser.parse(v);
  } catch (e) {
    if (e instanceof JsonSyntaxError) fail(e.message);
    throw e;
  }
}

/** Bytes allocated for the strings of later entries that a loaded entry
 * waits behind before it goes into the store (see {@linkcode LoadQueue}). */
const LOAD_DELAY_BYTES = 6 << 20;
/** Heap bytes of a string besides its chars (header and alignment), about. */
const STRING_OVERHEAD = 24;
/** Most entries waiting at once (a power of two). */
const LOAD_QUEUE_SLOTS = 1 << 17;

/**
 * String entries of a load on their way to the store, handed to it in the
 * order they came, each once about {@linkcode LOAD_DELAY_BYTES} more were
 * read after it. Whatever else a load does to a store waits for `flush()`.
 *
 * DESIGN: V8 interns a string when it becomes a Map key. A key still in
 * the young generation is copied into the old one and left behind as a
 * thin string; a key already in the old generation is interned in place.
 * A micro test: 1M 16-byte keys into a Map, 684 ms when each went in as it
 * was made, 392 ms when they had been moved to the old generation first.
 * A key the reader makes and inserts at once is always young; held back
 * while a few megabytes more are allocated, young-generation collections
 * have moved it (the server runs with 2 MB semi-spaces). The load of 1M
 * keys (/tmp/st/snap, 16-byte values), main-thread CPU, 9 interleaved
 * runs: 732 ms against 825 ms; delays of 0 to 128 KB gave nothing, 512 KB
 * a little, 1 to 8 MB all the same gain. An RDB file of the same keys:
 * 884 ms against 1089 ms. With V8's default (larger) young generation the
 * keys are still young when they go in: no gain, no loss. The queue's
 * arrays take 3 MB while a load runs.
 */
class LoadQueue {
  #keys: string[] = new Array(LOAD_QUEUE_SLOTS);
  #values: string[] = new Array(LOAD_QUEUE_SLOTS);
  /** Expiry times, NaN for none. */
  #at = new Float64Array(LOAD_QUEUE_SLOTS);
  #head = 0;
  #count = 0;
  #bytes = 0;
  #store: Store;
  #duplicate: ((key: string) => never) | null;

  /** With `duplicate`, a key the store already has when its entry comes
   * to go in is handed to it (it throws): that entry and those after it
   * stay out, as when each went in at once and the first duplicate
   * stopped the load. */
  constructor(
    store: Store,
    duplicate: ((key: string) => never) | null = null,
  ) {
    this.#store = store;
    this.#duplicate = duplicate;
  }

  /** The store entries go to; the entries queued for the previous one
   * are handed to it first. */
  set store(store: Store) {
    this.flush();
    this.#store = store;
  }

  /** Queues a string entry (as {@linkcode Store.load} takes it). */
  add(key: string, value: string, expireAt: number | undefined): void {
    const i = (this.#head + this.#count) & (LOAD_QUEUE_SLOTS - 1);
    this.#keys[i] = key;
    this.#values[i] = value;
    this.#at[i] = expireAt === undefined ? NaN : expireAt;
    this.#count++;
    this.#bytes += key.length + value.length + 2 * STRING_OVERHEAD;
    while (
      this.#bytes > LOAD_DELAY_BYTES || this.#count === LOAD_QUEUE_SLOTS
    ) {
      this.#shift();
    }
  }

  /** Hands every queued entry to the store. */
  flush(): void {
    while (this.#count > 0) this.#shift();
  }

  #shift(): void {
    const i = this.#head;
    const key = this.#keys[i];
    const value = this.#values[i];
    const at = this.#at[i];
    this.#head = (i + 1) & (LOAD_QUEUE_SLOTS - 1);
    this.#count--;
    this.#bytes -= key.length + value.length + 2 * STRING_OVERHEAD;
    const store = this.#store;
    if (this.#duplicate !== null && store.has(key)) {
      this.#count = 0;
      this.#bytes = 0;
      this.#duplicate(key);
    }
    store.load(key, value, Number.isNaN(at) ? undefined : at);
  }
}

/** Lets timers and I/O run (clients get -LOADING) during a long load,
 * at most every 50 ms. */
class LoadYield {
  #last = performance.now();
  async maybe(): Promise<void> {
    const now = performance.now();
    if (now - this.#last < 50) return;
    // DESIGN: turns of the event loop (setImmediate) for 1 ms, not a
    // setTimeout(0): that waited 2-3 ms a time (timer resolution, nested
    // timers clamped), 29-44 ms in a load of 1M keys (15 pauses). One turn
    // alone (0.1 ms) was too little: a client in the same process (the
    // -LOADING test of tests/startup_test.ts) needs a turn for each step of
    // connecting, writing and reading, and got its answer only once the
    // load was over; with 1 ms of turns it passed 15 runs in 15, two at a
    // time in 10 of them (0.5 ms: 3 in 5).
    do {
      await new Promise((r) => setImmediate(r));
    } while (performance.now() - now < 1);
    this.#last = performance.now();
  }
}

/** Names {@linkcode tempName} makes: kind and the pid of the writer. */
const TEMP_FILE = /^temp-kv-[a-z]+-(\d+)-\d+-\d+(\.json|\.aof|\.rdb)?$/;

/** Whether process `pid` may still run: true when it has a /proc entry,
 * false when it has none, undefined when that cannot be told (no /proc, or
 * no permission to look). */
async function processAlive(pid: number): Promise<boolean | undefined> {
  if (pid === Deno.pid) return true;
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) return undefined;
    try {
      await Deno.stat("/proc/self");
      return false; // /proc is there, the process is not
    } catch {
      return undefined;
    }
  }
}

function tempName(dir: string, kind: string): string {
  return join(
    dir,
    `temp-kv-${kind}-${Deno.pid}-${Date.now()}-${
      Math.floor(Math.random() * 1e9)
    }`,
  );
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Encodes commands as RESP arrays of bulk strings (byte strings). */
/** Encodes `commands` of database `db` after what was encoded in
 * database `selected`, with a SELECT first when they differ; returns the
 * database selected after them (a transaction may SELECT inside). */
/** Closes every database's snapshot. */
function closeAll(snaps: readonly DbSnapshot[]): void {
  for (const [, snap] of snaps) snap.close();
}

function encodeIn(
  w: ReplyWriter,
  commands: string[][],
  db: number,
  selected: number,
): number {
  if (db !== selected) {
    encodeCommands(w, [["SELECT", String(db)]]);
    selected = db;
  }
  encodeCommands(w, commands);
  if (commands.length > 1) {
    for (const argv of commands) {
      if (argv[0] === "SELECT") selected = Number(argv[1]);
    }
  }
  return selected;
}

function encodeCommands(w: ReplyWriter, commands: string[][]): void {
  for (const argv of commands) {
    w.array(argv.length);
    for (const a of argv) w.bulk(a);
  }
}

/**
 * Snapshots and the append-only log of one server.
 *
 * @example
 * ```ts ignore
 * const server = new Server({ port: 0, dir: "/var/lib/kv", appendonly: true });
 * await server.listen(); // loads the data first
 * server.persistence.bgsave();
 * await server.persistence.waitForBgsave();
 * ```
 */
export class Persistence {
  /** Unix time in ms of the last successful save (start-up counts). */
  lastSave: number = Date.now();
  /** Outcome of the last background save. */
  lastBgsaveStatus: "ok" | "err" = "ok";
  /** Why the last background save failed. */
  lastBgsaveError: string = "";
  /** Seconds the last background save took. */
  lastBgsaveSeconds: number = -1;
  /** True while loading data at start-up. */
  loading: boolean = false;
  /** Outcome of the last write to the append-only file. */
  aofLastWriteStatus: "ok" | "err" = "ok";
  /** Outcome of the last log rewrite. */
  lastRewriteStatus: "ok" | "err" = "ok";
  /** Seconds the last rewrite took. */
  lastRewriteSeconds: number = -1;
  /** Log size after the last rewrite (or at start-up). */
  aofBaseSize: number = 0;
  /** Current log size. */
  aofCurrentSize: number = 0;
  /** Commands logged so far (their count). */
  fedSeq: number = 0;
  /** Count of commands durably written (as the fsync policy goes). */
  writtenSeq: number = 0;

  #host: PersistenceHost;
  #bgsave: Promise<void> | null = null;
  #bgsaveStarted = 0;
  #bgsaveScheduled = false;
  #cancelBgsave = false;
  #cancelRewrite = false;
  #lastBgsaveTry = 0;
  #aof: Deno.FsFile | null = null;
  #aofBuf = new ReplyWriter(64 * 1024);
  #aofChain: Promise<void> = Promise.resolve();
  #aofDirty = false; // written but not fsynced
  #fsyncing = false;
  #lastFsync = 0;
  #rewrite: Promise<void> | null = null;
  #rewriteStarted = 0;
  #rewriteBuf: ReplyWriter | null = null;
  #rewriteScheduled = false;

  /** A data file was found and read by `load()`. */
  #loadedFile = false;

  /** True while `load()` reads a data file (not while it looks for
   * one). */
  get loadingFile(): boolean {
    return this.#fileLoading;
  }
  /** What CONFIG SET appendonly asked for last. */
  #aofWanted = false;
  /** Turning the log on or off, in the order asked. */
  #aofSwitch: Promise<void> = Promise.resolve();
  /** The log is being turned on: its first rewrite runs. */
  #aofEnabling = false;

  /** False for a server that keeps no files (an embedded
   * {@linkcode Server} given no `dir`): nothing is read at start, no
   * snapshot or log is written, and SAVE, BGSAVE, BGREWRITEAOF and
   * `CONFIG SET appendonly yes` are refused. */
  readonly enabled: boolean;

  /** Creates the persistence layer; nothing is read until `load()`. */
  constructor(host: PersistenceHost, options: { enabled?: boolean } = {}) {
    this.#host = host;
    this.enabled = options.enabled ?? true;
  }

  get #config(): ServerConfig {
    return this.#host.config;
  }

  /** Full path of the snapshot file. */
  get snapshotPath(): string {
    return join(this.#config.dir, this.#config.dbfilename);
  }

  /** Full path of the append-only file. */
  get aofPath(): string {
    return join(this.#config.dir, this.#config.appendfilename);
  }

  /** True while a background save runs, or a replica's full sync reads
   * the snapshots (Redis's RDB child). */
  get bgsaveInProgress(): boolean {
    return this.#bgsave !== null || this.#held !== null;
  }

  /** True while the log is being rewritten. */
  get rewriteInProgress(): boolean {
    return this.#rewrite !== null;
  }

  /** True when the log is on. */
  get aofEnabled(): boolean {
    return this.#aof !== null;
  }

  /** The -MISCONF error writes get while saving or logging fails, or
   * undefined when writes are allowed. */
  writeError(): string | undefined {
    const c = this.#config;
    if (
      c.stopWritesOnBgsaveError && c.save.length > 0 &&
      this.lastBgsaveStatus === "err"
    ) {
      return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";
    }
    if (this.aofEnabled && this.aofLastWriteStatus === "err") {
      return "MISCONF Errors writing to the AOF file: " + this.#aofError;
    }
    return undefined;
  }
  #aofError = "";
  #lastWriteRetry = 0;

  // --- start-up ----------------------------------------------------------

  /** Removes temporary files that a save or rewrite killed half-way left
   * in `dir` (one was 914 MB), unless their writer still runs. */
  async #removeStaleTempFiles(): Promise<void> {
    const dir = this.#config.dir;
    try {
      for await (const entry of Deno.readDir(dir)) {
        const m = TEMP_FILE.exec(entry.name);
        if (!entry.isFile || m === null) continue;
        const alive = await processAlive(Number(m[1]));
        if (alive === true) continue;
        if (alive === undefined) {
          // Cannot tell: a file a live save is writing keeps changing.
          const info = await Deno.stat(join(dir, entry.name));
          if (Date.now() - (info.mtime?.getTime() ?? 0) < 60_000) continue;
        }
        await Deno.remove(join(dir, entry.name));
        this.#host.log(
          "notice",
          `Removed ${entry.name}, left by a save or rewrite that did not finish`,
        );
      }
    } catch (e) {
      this.#host.log(
        "warning",
        `Could not clean temporary files in ${dir}: ${message(e)}`,
      );
    }
  }

  /**
   * Checks `dir` and loads the data: the append-only file when the log is
   * on and the file exists, otherwise the snapshot. Throws a
   * {@linkcode PersistenceError} naming the file and the problem when
   * either cannot be read; a file is never overwritten because of that.
   */
  async load(): Promise<void> {
    const c = this.#config;
    this.#aofWanted = c.appendonly;
    if (!this.enabled) return; // an embedded server without a dir
    const exists = (path: string) => statOrNull(path)?.isFile === true;
    // Told at once, before any await, so clients that come meanwhile are
    // answered -LOADING only when there is a file to load.
    this.#fileLoading = (c.appendonly && exists(this.aofPath)) ||
      exists(this.snapshotPath);
    // INFO's loading:1 from the same moment as the -LOADING replies.
    this.loading = this.#fileLoading;
    try {
      await this.#load();
    } finally {
      this.#fileLoading = false;
      this.loading = false;
    }
  }

  #fileLoading = false;

  async #load(): Promise<void> {
    const c = this.#config;
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(c.dir);
    } catch (e) {
      throw new PersistenceError(
        `Can't use --dir '${c.dir}': ${message(e)}`,
      );
    }
    if (!info.isDirectory) {
      throw new PersistenceError(`Can't use --dir '${c.dir}': not a directory`);
    }
    await this.#removeStaleTempFiles();
    this.loading = true;
    const start = performance.now();
    try {
      let aofExists = false;
      if (c.appendonly) {
        try {
          aofExists = (await Deno.stat(this.aofPath)).isFile;
        } catch {
          aofExists = false;
        }
      }
      if (aofExists) {
        await this.#loadAof();
      } else {
        await this.#loadSnapshot();
      }
    } finally {
      this.loading = false;
    }
    const ms = performance.now() - start;
    if (this.#loadedFile) {
      // As Redis, nothing is said when there was no file to load.
      this.#host.log(
        "notice",
        `DB loaded from disk: ${this.#keyCount()} keys in ${
          (ms / 1000).toFixed(3)
        } seconds`,
      );
    }
    for (const [, store] of this.#databases()) store.dirty = 0;
    this.lastSave = Date.now();
    if (c.appendonly) {
      try {
        await this.#openAof(!await this.#exists(this.aofPath));
      } catch (e) {
        throw new PersistenceError(
          `Can't open the append only file ${this.aofPath}: ${message(e)}`,
        );
      }
    }
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await Deno.stat(path);
      return true;
    } catch {
      return false;
    }
  }

  async #loadSnapshot(): Promise<void> {
    const path = this.snapshotPath;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return; // nothing saved yet
      throw new PersistenceError(
        `Can't read the snapshot file ${path}: ${message(e)}`,
      );
    }
    this.#clearAll();
    this.#loadedFile = true;
    // The format is told by the content, whatever the file's name.
    let format: "rdb" | "json";
    try {
      format = await this.#formatOf(file);
    } catch (e) {
      file.close();
      if (e instanceof PersistenceError) throw e;
      throw new PersistenceError(
        `Can't read the snapshot file ${path}: ${message(e)}`,
      );
    }
    if (format === "rdb") return await this.#loadRdb(path, file);
    const pause = new LoadYield();
    let store = this.#host.store;
    // The store is empty and a snapshot's keys are distinct.
    const queue = new LoadQueue(store);
    // Containers are built by commands, run in the entry's database.
    const select = (db: number) => {
      const error = this.#host.replay(["SELECT", String(db)]);
      if (error !== undefined) {
        throw new PersistenceError(
          `Bad snapshot file ${path}: database ${db}: ${error}`,
        );
      }
    };
    try {
      const steps = readSnapshotSteps(path, file, {
        db: (db) => {
          queue.flush();
          select(db);
          queue.store = store = this.#host.db?.(db) ?? store;
        },
        string: (_i, key, value, at) => queue.add(key, value, at),
        functions: (codes) => {
          queue.flush();
          for (const code of codes) {
            const error = this.#host.replay([
              "FUNCTION",
              "LOAD",
              "REPLACE",
              code,
            ]);
            if (error !== undefined) {
              throw new PersistenceError(
                `Bad snapshot file ${path}: a function library: ${error}`,
              );
            }
          }
        },
        container: (_i, key) => {
          queue.flush();
          store.delete(key);
        },
        command: (i, argv) => {
          const error = this.#host.replay(argv);
          if (error !== undefined) {
            throw new PersistenceError(
              `Bad snapshot file ${path}: entry ${i}: ${error}`,
            );
          }
        },
        containerEnd: (_i, key, at) => {
          if (at !== undefined) store.setExpireAt(key, at);
        },
      });
      while (!steps.next().done) await pause.maybe();
    } catch (e) {
      if (e instanceof PersistenceError) throw e;
      throw new PersistenceError(
        `Can't read the snapshot file ${path}: ${message(e)}`,
      );
    } finally {
      // Also after an error: the entries read before it are loaded, as
      // they were when each went in at once.
      queue.flush();
      file.close();
      this.#host.replay(["SELECT", "0"]);
    }
  }

  /** Whether `file` is an RDB file or a JSON snapshot (by its first
   * bytes); throws for anything else. Leaves the file at its start. */
  async #formatOf(file: Deno.FsFile): Promise<"rdb" | "json"> {
    const head = new Uint8Array(64);
    let n = 0;
    while (n < head.length) {
      const got = await file.read(head.subarray(n));
      if (got === null) break;
      n += got;
    }
    await file.seek(0, Deno.SeekMode.Start);
    if (looksLikeRdb(head.subarray(0, n))) return "rdb";
    let i = 0;
    while (i < n && isSpace(head[i])) i++;
    // An empty file is left to the JSON reader (which says so).
    if (i === n || head[i] === 123) return "json";
    const path = this.snapshotPath;
    throw new PersistenceError(
      `Bad snapshot file ${path}: neither an RDB file (starting "REDIS") nor a JSON snapshot (starting "{")`,
    );
  }

  /** Loads an RDB file (as redis-server writes it) read in chunks: every
   * database, FUNCTION libraries (through FUNCTION LOAD REPLACE, as a
   * JSON snapshot's), expiries; keys already expired are left out, as a
   * Redis primary does. */
  async #loadRdb(path: string, file: Deno.FsFile): Promise<void> {
    const host = this.#host;
    const pause = new LoadYield();
    let store = host.store;
    let db = 0;
    let expired = 0;
    const now = store.clock();
    const bad = (why: string): never => {
      throw new PersistenceError(`Bad RDB file ${path}: ${why}`);
    };
    const duplicate = (key: string) =>
      bad(`duplicated key ${JSON.stringify(key)} in database ${db}`);
    // Plain strings go through the queue (LoadQueue), which checks them
    // for duplicates as they go in; anything else waits until those
    // before it are in.
    const queue = new LoadQueue(store, duplicate);
    const reader = new RdbFileReader({
      aux: (name, value) => {
        if (name === "redis-ver") {
          host.log("notice", `Loading RDB produced by version ${value}`);
        } else if (name === "ctime" && /^\d+$/.test(value)) {
          const age = Math.floor(Date.now() / 1000) - Number(value);
          host.log("notice", `RDB age ${age} seconds`);
        }
      },
      library: (code) => {
        queue.flush();
        const error = host.replay(["FUNCTION", "LOAD", "REPLACE", code]);
        if (error !== undefined) bad(`a function library: ${error}`);
      },
      db: (index) => {
        queue.flush();
        const error = host.replay(["SELECT", String(index)]);
        if (error !== undefined) bad(`database ${index}: ${error}`);
        queue.store = store = host.db?.(index) ?? store;
        db = index;
      },
      entry: (key, value, at, idle, freq) => {
        if (at !== undefined && at < now) {
          expired++;
          return;
        }
        if (typeof value === "string" && idle < 0 && freq < 0) {
          queue.add(key, value, at);
          return;
        }
        queue.flush();
        if (store.has(key)) duplicate(key);
        if (typeof value === "string") store.load(key, value, at);
        else {store.set(
            key,
            value,
            at === undefined ? undefined : { expireAt: at },
          );}
        if (idle < 0 && freq < 0) return;
        // The LRU idle time or LFU counter, as RESTORE's (commands/dump.ts).
        const memory = store.memory;
        const lfu = memory.settings.maxmemoryPolicy.endsWith("-lfu");
        if (lfu && freq >= 0) {
          store.setAccess(key, (memory.lfuMinutes() << 8) | freq);
        } else if (!lfu && idle >= 0) {
          memory.track(1);
          store.setAccess(key, memory.lruClock() - idle);
        }
      },
      warning: (why) => host.log("warning", `RDB file ${path}: ${why}`),
    }, () => store.limits);
    const buf = new Uint8Array(READ_CHUNK);
    try {
      for (;;) {
        const n = await file.read(buf);
        const steps = reader.feed(n === null ? null : buf.subarray(0, n));
        while (!steps.next().done) await pause.maybe();
        await pause.maybe();
        if (n === null || reader.done) break;
      }
      queue.flush();
      if (expired > 0) {
        host.log(
          "notice",
          `Done loading RDB, keys loaded: ${
            reader.keys - expired
          }, keys expired: ${expired}.`,
        );
      }
    } catch (e) {
      if (e instanceof PersistenceError) throw e;
      if (e instanceof RdbFileError) bad(e.message);
      throw new PersistenceError(
        `Can't read the RDB file ${path}: ${message(e)}`,
      );
    } finally {
      try {
        // Also after an error: the entries read before it are loaded, as
        // they were when each went in at once (a duplicate among them is
        // the error then, as it came first).
        queue.flush();
      } finally {
        file.close();
        host.replay(["SELECT", "0"]);
      }
    }
  }

  async #loadAof(): Promise<void> {
    const path = this.aofPath;
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch (e) {
      throw new PersistenceError(
        `Can't read the append only file ${path}: ${message(e)}`,
      );
    }
    this.#clearAll();
    this.#loadedFile = true;
    const pause = new LoadYield();
    const reader = new AofReader(new ChunkedReader(file));
    // The log starts in database 0; SELECTs move it on.
    this.#host.replay(["SELECT", "0"]);
    let selected = 0;
    let selectedAtMulti = 0;
    let commands = 0;
    // Where an open MULTI began: a transaction cut short (a crash while
    // writing it) is dropped whole, as Redis does.
    let multiAt = -1;
    try {
      for (;;) {
        let argv: string[] | null;
        const at = reader.valid;
        try {
          argv = reader.next();
        } catch (e) {
          if (e instanceof AofTruncated) break;
          if (e instanceof AofBadFormat) {
            throw new PersistenceError(
              `Bad file format reading the append only file ${path} at byte ${reader.valid}: ERR Protocol error: ${e.message}`,
            );
          }
          throw new PersistenceError(
            `Can't read the append only file ${path}: ${message(e)}`,
          );
        }
        if (argv === null) break;
        commands++;
        if (commands % ENTRIES_PER_CHUNK === 0) await pause.maybe();
        if (argv.length === 1 && /^(multi|exec)$/i.test(argv[0])) {
          multiAt = argv[0].length === 5 ? at : -1;
          selectedAtMulti = selected;
        }
        const error = this.#host.replay(argv);
        if (
          argv.length === 2 && argv[0].length === 6 &&
          argv[0].toUpperCase() === "SELECT" && error === undefined
        ) selected = Number(argv[1]);
        if (error !== undefined) {
          throw new PersistenceError(
            `Bad file format reading the append only file ${path}: command ${commands} (${
              JSON.stringify(argv[0])
            }) at byte ${reader.valid} failed: ${error}`,
          );
        }
      }
    } finally {
      file.close();
    }
    let valid = reader.valid;
    const off = reader.read;
    if (multiAt !== -1) {
      this.#host.log(
        "warning",
        "Revert incomplete MULTI/EXEC transaction in AOF file",
      );
      this.#host.replay(["DISCARD"]);
      valid = multiAt;
      selected = selectedAtMulti; // a SELECT in it is dropped with it
    }
    this.#host.replay(["SELECT", "0"]);
    this.#aofDb = selected;
    if (valid < off) {
      this.#host.log(
        "warning",
        `!!! Warning: short read while loading the append only file ${path}: ` +
          `the last ${off - valid} bytes are an incomplete command ` +
          `(a crash while writing?). They are dropped and the rest is loaded.`,
      );
      await Deno.truncate(path, valid);
    }
    this.aofBaseSize = this.aofCurrentSize = valid;
  }

  // --- snapshots ---------------------------------------------------------

  /** Another holder of the stores' snapshots (a replica's full sync) until
   * it settles; saves and rewrites wait for it. */
  #held: Promise<void> | null = null;

  /**
   * Marks the stores' snapshots as taken by someone else (replication's
   * full sync) until `until` settles: BGSAVE answers that a save is in
   * progress (as Redis while its replication child runs), SAVE is refused,
   * rewrites and automatic saves wait.
   */
  holdSnapshots(until: Promise<void>): void {
    this.#held = until;
    until.finally(() => {
      if (this.#held === until) this.#held = null;
    });
  }

  /** SAVE: writes a snapshot now, blocking until it is on disk. */
  saveSync(): void {
    if (!this.enabled) {
      throw new Error("this server keeps no files (it was given no dir)");
    }
    if (this.#bgsave !== null || this.#held !== null) {
      throw new Error("Background save already in progress");
    }
    if (this.#rewrite !== null) {
      throw new Error("Background AOF rewrite in progress");
    }
    const dir = this.#config.dir;
    const tmp = tempName(dir, "save") + this.#snapshotExtension;
    const { snaps, time, dirtyAtStart } = this.snapshotAll();
    let file: Deno.FsFile | null = null;
    try {
      const f = file = Deno.openSync(tmp, {
        write: true,
        create: true,
        truncate: true,
      });
      const { steps, take } = this.#snapshotWriter(
        snaps,
        time,
        (bytes) => writeAllSync(f, bytes),
      );
      let r;
      while (!(r = steps.next()).done) writeAllSync(f, take());
      const count = r.value;
      writeAllSync(f, take());
      f.syncSync();
      f.close();
      file = null;
      Deno.renameSync(tmp, this.snapshotPath);
      syncPathSync(dir);
      this.#saved(dirtyAtStart);
      this.#host.log("notice", `DB saved on disk (${count} keys)`);
    } catch (e) {
      file?.close();
      try {
        Deno.removeSync(tmp);
      } catch {
        // not created
      }
      this.#host.log("warning", `Failed saving the DB: ${message(e)}`);
      throw e;
    } finally {
      closeAll(snaps);
    }
  }

  /** True when snapshots are RDB files (a `dbfilename` ending in .rdb),
   * false for JSON snapshots. */
  get rdbFormat(): boolean {
    return /\.rdb$/i.test(this.#config.dbfilename);
  }

  get #snapshotExtension(): string {
    return this.rdbFormat ? ".rdb" : ".json";
  }

  /**
   * The bytes of a snapshot file in the configured format: `steps` pauses
   * between chunks of entries (returning the number of entries at the
   * end), `take()` hands over what is gathered at a pause (a view, to be
   * written before the next step), and `sink` gets full buffers within a
   * chunk. An RDB file's RESIZEDB hints are the databases' sizes now.
   */
  /** An RDB file of `snaps` (a snapshot in RDB format, a replica's full
   * sync), written as {@linkcode Persistence.#snapshotWriter} describes:
   * the FUNCTION libraries, Redis's AUX fields, strings compressed as
   * `rdbcompression` says. */
  rdbWriter(
    snaps: readonly DbSnapshot[],
    time: number,
    sink: (bytes: Uint8Array) => void,
  ): { steps: Generator<void, number>; take: () => Uint8Array } {
    const out = new RdbFileOut(sink, { compress: this.#config.rdbcompression });
    const sizes = new Map<number, [number, number]>();
    for (const [db, store] of this.#databases()) {
      sizes.set(db, [store.size, store.volatileSize]);
    }
    const steps = rdbFileBytes(snaps, {
      time,
      usedMemory: this.#host.store.usedBytes,
      functions: this.#host.functions?.() ?? [],
      limits: this.#host.store.limits,
      sizes,
    }, out);
    return { steps, take: () => out.take() };
  }

  #snapshotWriter(
    snaps: readonly DbSnapshot[],
    time: number,
    sink: (bytes: Uint8Array) => void,
  ): { steps: Generator<void, number>; take: () => Uint8Array } {
    if (this.rdbFormat) return this.rdbWriter(snaps, time, sink);
    const out = new ChunkedOut(sink);
    const functions = this.#host.functions?.() ?? [];
    const steps = snapshotBytes(snaps, time, out, functions);
    return {
      steps,
      take: () => {
        const bytes = out.bytes();
        out.len = 0;
        return bytes;
      },
    };
  }

  /** Empties every database before a load. */
  #clearAll(): void {
    for (const [, store] of this.#databases()) store.clear();
  }

  /** Keys in every database. */
  #keyCount(): number {
    let n = 0;
    for (const [, store] of this.#databases()) n += store.size;
    return n;
  }

  /** Every database (index, store); database 0 alone without a server. */
  #databases(): readonly (readonly [number, Store])[] {
    return this.#host.databases ?? [[0, this.#host.store]];
  }

  /** Snapshots of database 0 and every other database with keys, taken
   * at one moment, and each store's count of writes then (those taken are
   * closed again when one fails). Used by saves, rewrites and replicas'
   * full syncs. */
  snapshotAll(): {
    snaps: DbSnapshot[];
    time: number;
    dirtyAtStart: [Store, number][];
  } {
    const snaps: DbSnapshot[] = [];
    const dirtyAtStart: [Store, number][] = [];
    try {
      for (const [db, store] of this.#databases()) {
        dirtyAtStart.push([store, store.dirty]);
        if (db === 0 || store.size > 0) snaps.push([db, store.snapshot()]);
      }
    } catch (e) {
      closeAll(snaps); // those taken before the failure
      throw e;
    }
    return { snaps, time: snaps[0][1].time, dirtyAtStart };
  }

  /** Writes since the last save, in every database (Redis's `dirty`). */
  get dirty(): number {
    let n = 0;
    for (const [, store] of this.#databases()) n += store.dirty;
    return n;
  }

  /** A snapshot taken when the stores' counts were `dirtyAtStart` is on
   * disk. */
  #saved(dirtyAtStart: [Store, number][]): void {
    for (const [store, n] of dirtyAtStart) store.dirty -= n;
    this.lastSave = Date.now();
    this.lastBgsaveStatus = "ok";
  }

  /**
   * BGSAVE: starts writing a snapshot in the background; the server goes on
   * answering. Returns false when one is already running (or a rewrite is,
   * in which case it is scheduled if `schedule`).
   */
  bgsave(schedule = false): "started" | "in-progress" | "scheduled" | "busy" {
    if (this.#bgsave !== null || this.#held !== null) return "in-progress";
    if (this.#rewrite !== null) {
      if (!schedule) return "busy";
      this.#bgsaveScheduled = true;
      return "scheduled";
    }
    this.#startBgsave();
    return "started";
  }

  #startBgsave(): void {
    this.#bgsaveStarted = Date.now();
    this.#lastBgsaveTry = Date.now();
    this.#cancelBgsave = false;
    this.#host.log("notice", "Background saving started");
    this.#bgsave = this.#bgsaveJob().finally(() => {
      this.#bgsave = null;
    });
  }

  async #bgsaveJob(): Promise<void> {
    const dir = this.#config.dir;
    const tmp = tempName(dir, "bgsave") + this.#snapshotExtension;
    let snaps: DbSnapshot[] = [];
    let count = 0;
    let file: Deno.FsFile | null = null;
    try {
      // Inside the try: a failure to take the snapshot is a failed save
      // (reported, the server goes on), not an unhandled rejection.
      const all = this.snapshotAll();
      snaps = all.snaps;
      const { time, dirtyAtStart } = all;
      const f = file = await Deno.open(tmp, {
        write: true,
        create: true,
        truncate: true,
      });
      // Within a chunk of entries a full buffer is written at once (see
      // snapshotBytes); at each pause, in the background.
      const { steps, take } = this.#snapshotWriter(
        snaps,
        time,
        (bytes) => writeAllSync(f, bytes),
      );
      let r;
      while (!(r = steps.next()).done) {
        if (this.#cancelBgsave) throw new Error("cancelled");
        await writeAll(f, take());
      }
      count = r.value;
      await writeAll(f, take());
      await f.sync();
      f.close();
      file = null;
      await Deno.rename(tmp, this.snapshotPath);
      await syncPath(dir);
      this.#saved(dirtyAtStart);
      this.lastBgsaveSeconds = Math.round(
        (Date.now() - this.#bgsaveStarted) / 1000,
      );
      this.#host.log(
        "notice",
        `Background saving terminated with success (${count} keys)`,
      );
    } catch (e) {
      file?.close();
      await Deno.remove(tmp).catch(() => {});
      if (this.#cancelBgsave) {
        this.#host.log("notice", "Background saving cancelled");
        return;
      }
      this.lastBgsaveStatus = "err";
      this.lastBgsaveError = message(e);
      this.lastBgsaveSeconds = Math.round(
        (Date.now() - this.#bgsaveStarted) / 1000,
      );
      this.#host.log(
        "warning",
        `Background saving error: ${message(e)} (writing ${tmp})`,
      );
    } finally {
      closeAll(snaps);
    }
  }

  /** Waits for a running background save (for tests and shutdown). */
  async waitForBgsave(): Promise<void> {
    await this.#bgsave;
  }

  // --- the append-only log -------------------------------------------------

  async #openAof(create: boolean): Promise<void> {
    if (create) {
      // No log yet: start one from the data we have (loaded from the
      // snapshot, or empty), before accepting any write.
      await this.#writeRewrite(this.aofPath, false);
    }
    this.#aof = await Deno.open(this.aofPath, { append: true, create: true });
    const size = (await this.#aof.stat()).size;
    this.aofCurrentSize = size;
    if (create || this.aofBaseSize === 0) this.aofBaseSize = size;
  }

  /** False when {@linkcode Persistence.feed} would keep nothing (no
   * append-only log, none being turned on, no replicas, or loading):
   * callers may skip building what they would feed. */
  get feeding(): boolean {
    return !this.loading &&
      (this.#aof !== null || this.#rewriteBuf !== null || this.replicating);
  }

  /** Writes go to replicas too, through {@linkcode Persistence.onFeed}
   * (set by replication.ts once it keeps a backlog). */
  replicating = false;

  /**
   * Logs write commands (after they ran, before their replies go out).
   * Commands with relative times are logged with absolute ones by their
   * handlers, so a replay never brings expired data back.
   */
  feed(commands: string[][], db = 0): void {
    if (this.loading) return;
    // The replicas get the same (replication.ts).
    if (this.onFeed !== null) this.onFeed(commands, db);
    if (this.#aof !== null) {
      this.#aofDb = encodeIn(this.#aofBuf, commands, db, this.#aofDb);
      this.fedSeq += commands.length;
    }
    // During a rewrite (or turning the log on) the new file gets them too.
    if (this.#rewriteBuf !== null) {
      this.#rewriteDb = encodeIn(
        this.#rewriteBuf,
        commands,
        db,
        this.#rewriteDb,
      );
    }
  }
  /** Called by {@linkcode Persistence.feed} with what it gets: the
   * replication stream (replication.ts). */
  onFeed: ((commands: string[][], db: number) => void) | null = null;
  /** The database the log's last command ran in; -1: unknown (a SELECT
   * goes first). */
  #aofDb = 0;
  /** The same for what a rewrite under way appends after its data. */
  #rewriteDb = -1;

  /**
   * Writes what was logged so far to the file, and fsyncs it with
   * `appendfsync always`, now. The server calls it once per turn of the
   * event loop, before the replies of its connections (_turn.ts): one write
   * and one fsync for all of them (group commit). `upTo` is the last
   * command the caller is about to acknowledge: when a write or fsync that
   * covered it failed, this throws that failure, so no connection of the
   * turn acknowledges what the log may not hold.
   */
  commit(upTo: number = this.fedSeq): void {
    if (this.#aof === null) return;
    if (this.#aofBuf.length === 0) {
      if (upTo <= this.#failedSeq) throw this.#failure;
      return;
    }
    // A write to the page cache is quick: do it now, as Redis does before
    // replying, and skip a round trip through the event loop.
    this.#writeNow();
    // DESIGN: `always` fsyncs here too, blocking the event loop, as Redis
    // does before its replies (beforeSleep). Measured (redis-benchmark SET
    // -P 1, -c 50, this machine's virtio disk): 48-50k req/s with the write
    // and the fsync as async ops on Deno's thread pool, 64-66k blocking
    // (Redis about 80k).
    if (this.#config.appendfsync === "always") this.#syncNow();
  }
  /** The last command a failed fsync covered, and its error. */
  #failedSeq = -1;
  #failure: unknown = null;

  #writeNow(): void {
    const file = this.#aof!;
    const bytes = this.#aofBuf.bytes();
    let off = 0;
    try {
      while (off < bytes.length) off += file.writeSync(bytes.subarray(off));
      this.#aofBuf.reset();
      this.aofCurrentSize += bytes.length;
      this.#aofDirty = true;
      if (this.#config.appendfsync !== "always") this.writtenSeq = this.fedSeq;
      this.#writeSucceeded();
    } catch (e) {
      // Only the unwritten rest goes back to the buffer (nothing was fed
      // meanwhile: this is synchronous).
      const rest = bytes.subarray(off).slice();
      this.#aofBuf.reset();
      this.#writeFailed(e, rest, off);
      throw e;
    }
  }

  /** `appendfsync always`: fsyncs what {@linkcode #writeNow} wrote. A
   * failed fsync fails every commit that covers it (see
   * {@linkcode commit}), and writes are refused with -MISCONF until a retry
   * (a second later, from the cron) succeeds. */
  #syncNow(): void {
    try {
      this.#aof!.syncDataSync();
      this.#aofDirty = false;
      this.writtenSeq = this.fedSeq;
    } catch (e) {
      this.#failedSeq = this.fedSeq;
      this.#failure = e;
      this.#writeFailed(e, new Uint8Array(0), 0);
      throw e;
    }
  }

  /** A log write failed after `written` bytes: keep the rest to write
   * again (the cron retries, as Redis does), so memory and the log do not
   * part ways; writes are refused with -MISCONF meanwhile. */
  #writeFailed(e: unknown, rest: Uint8Array, written: number): void {
    const later = this.#aofBuf.bytes().slice();
    this.#aofBuf.reset();
    this.#aofBuf.raw(rest);
    this.#aofBuf.raw(later);
    this.aofCurrentSize += written;
    if (this.aofLastWriteStatus !== "err") {
      this.#host.log("warning", `Error writing to the AOF file: ${message(e)}`);
    }
    this.aofLastWriteStatus = "err";
    this.#aofError = message(e);
    this.#lastWriteRetry = Date.now(); // the cron tries again a second later
  }

  #writeSucceeded(): void {
    if (this.aofLastWriteStatus === "err") {
      this.#host.log(
        "warning",
        "AOF write error looks solved, Redis can write again.",
      );
    }
    this.aofLastWriteStatus = "ok";
  }

  /** Flushes and fsyncs the log now, blocking (shutdown). */
  flushSync(): void {
    if (this.#aof === null) return;
    writeAllSync(this.#aof, this.#aofBuf.bytes());
    this.#aofBuf.reset();
    this.#aof.syncDataSync();
  }

  /** BGREWRITEAOF: compacts the log to the current data in the
   * background; writes during the rewrite are kept. */
  bgrewriteaof(): "started" | "in-progress" | "scheduled" {
    if (this.#rewrite !== null) return "in-progress";
    if (this.#bgsave !== null || this.#held !== null) {
      this.#rewriteScheduled = true;
      return "scheduled";
    }
    this.#startRewrite();
    return "started";
  }

  #startRewrite(): void {
    this.#rewriteScheduled = false;
    this.#rewriteStarted = Date.now();
    this.#cancelRewrite = false;
    this.#host.log("notice", "Background append only file rewriting started");
    this.#rewrite = this.#rewriteJob().finally(() => {
      this.#rewrite = null;
    });
  }

  /** Writes the current data as commands to `path` (through a temporary
   * file); with `live`, also what is logged meanwhile, then switches the
   * log over to the new file. */
  async #writeRewrite(path: string, live: boolean): Promise<void> {
    const dir = this.#config.dir;
    const tmp = tempName(dir, "rewriteaof") + ".aof";
    const { snaps } = this.snapshotAll();
    let file: Deno.FsFile | null = null;
    if (live) {
      this.#rewriteBuf = new ReplyWriter(64 * 1024);
      this.#rewriteDb = -1;
    }
    try {
      file = await Deno.open(tmp, {
        write: true,
        create: true,
        truncate: true,
      });
      const f = file;
      const out = new ChunkedOut((bytes) => writeAllSync(f, bytes));
      const gen = rewriteBytes(snaps, out, this.#host.functions?.() ?? []);
      let step;
      while (!(step = gen.next()).done) {
        if (live && this.#cancelRewrite) throw new Error("cancelled");
        await writeAll(f, out.bytes());
        out.len = 0;
      }
      // The database the new file's data ends in; commands appended after
      // it start with a SELECT when they differ.
      const endDb = step.value;
      if (!live) this.#aofDb = endDb;
      await writeAll(f, out.bytes());
      out.len = 0;
      closeAll(snaps);
      if (live) {
        // Catch up with what was logged meanwhile.
        while (this.#rewriteBuf!.length > 0) {
          if (this.#cancelRewrite) throw new Error("cancelled");
          const bytes = this.#rewriteBuf!.bytes().slice();
          this.#rewriteBuf!.reset();
          await writeAll(file, bytes);
        }
      }
      await file.sync();
      if (live && this.#rewriteBuf!.length > 0) {
        // The last few commands, written without yielding.
        writeAllSync(file, this.#rewriteBuf!.bytes());
        file.syncSync();
        this.#rewriteBuf!.reset();
      }
      // From here to the end: no await, so no command slips between.
      file.close();
      file = null;
      Deno.renameSync(tmp, path);
      syncPathSync(dir);
      // A BGREWRITEAOF with the log off writes the file and leaves it off.
      if (live && (this.#aof !== null || this.#aofEnabling)) {
        const old = this.#aof;
        this.#aof = Deno.openSync(path, { append: true });
        this.#aofDb = this.#rewriteDb === -1 ? endDb : this.#rewriteDb;
        this.#aofBuf.reset(); // those commands are in the new file already
        this.writtenSeq = this.fedSeq;
        this.#writeSucceeded(); // a failed write's data is in the new file
        this.#aofDirty = false;
        this.#rewriteBuf = null;
        // Close the old file once writes under way on it have finished.
        this.#aofChain.finally(() => old?.close());
      }
      if (live) this.#rewriteBuf = null;
      const size = Deno.statSync(path).size;
      this.aofBaseSize = this.aofCurrentSize = size;
    } catch (e) {
      closeAll(snaps);
      file?.close();
      this.#rewriteBuf = null;
      await Deno.remove(tmp).catch(() => {});
      throw e;
    }
  }

  async #rewriteJob(): Promise<void> {
    try {
      await this.#writeRewrite(this.aofPath, true);
      this.lastRewriteStatus = "ok";
      this.#host.log(
        "notice",
        `Background AOF rewrite finished successfully (${this.aofBaseSize} bytes)`,
      );
    } catch (e) {
      if (this.#cancelRewrite) {
        this.#host.log("notice", "Background AOF rewrite cancelled");
        return;
      }
      this.lastRewriteStatus = "err";
      this.#host.log("warning", `Background AOF rewrite failed: ${message(e)}`);
    } finally {
      this.lastRewriteSeconds = Math.round(
        (Date.now() - this.#rewriteStarted) / 1000,
      );
    }
  }

  /** Waits for a running log rewrite (for tests and shutdown). */
  async waitForRewrite(): Promise<void> {
    await this.#rewrite;
  }

  /**
   * Turns the log on or off, as CONFIG SET appendonly does: on starts a
   * rewrite of the current data into a new log (writes made meanwhile are
   * kept for it), then appends to it; off stops that rewrite if it still
   * runs, then closes the log. Switches happen in the order asked, and the
   * last one asked wins; resolves once this one is done.
   */
  setAppendOnly(on: boolean): Promise<void> {
    if (on && !this.enabled) {
      return Promise.reject(
        new Error("this server keeps no files (it was given no dir)"),
      );
    }
    this.#aofWanted = on;
    if (!on && this.#rewrite !== null) this.#cancelRewrite = true;
    const next = this.#aofSwitch.then(() => this.#applyAppendOnly());
    this.#aofSwitch = next.catch(() => {});
    return next;
  }

  async #applyAppendOnly(): Promise<void> {
    if (this.#aofWanted && this.#aof === null) {
      this.#aofEnabling = true;
      try {
        // One background job at a time, as Redis.
        while (
          this.#rewrite !== null || this.#bgsave !== null ||
          this.#held !== null
        ) {
          await this.#rewrite;
          await this.#bgsave;
          await this.#held;
        }
        if (!this.#aofWanted) return;
        this.#rewriteStarted = Date.now();
        this.#cancelRewrite = false;
        this.#host.log(
          "notice",
          "Background append only file rewriting started",
        );
        const job = this.#writeRewrite(this.aofPath, true);
        this.#rewrite = job.catch(() => {}).finally(() => {
          this.#rewrite = null;
        });
        try {
          await job;
        } catch (e) {
          if (this.#cancelRewrite) {
            this.#host.log("notice", "Background AOF rewrite cancelled");
            return;
          }
          this.lastRewriteStatus = "err";
          throw e;
        } finally {
          this.lastRewriteSeconds = Math.round(
            (Date.now() - this.#rewriteStarted) / 1000,
          );
        }
        this.lastRewriteStatus = "ok";
        this.#host.log("notice", "Append only file enabled");
      } finally {
        this.#aofEnabling = false;
      }
    }
    if (!this.#aofWanted && this.#aof !== null) {
      if (this.#rewrite !== null) {
        this.#cancelRewrite = true;
        await this.#rewrite;
      }
      if (this.#aof === null) return;
      try {
        this.commit();
      } catch {
        // logged by the write that failed; the log is closed below
      }
      await this.#aofChain;
      this.#aof.close();
      this.#aof = null;
      this.#aofBuf.reset();
      this.#host.log("notice", "Append only file disabled");
    }
  }

  // --- background duties -----------------------------------------------

  /** Called by the server `hz` times a second: the save policy, the
   * once-a-second fsync, automatic and scheduled rewrites. */
  cron(): void {
    if (!this.enabled) return;
    const c = this.#config;
    const now = Date.now();
    // After a log write error, try again once a second, as Redis does;
    // the first write that succeeds lifts the -MISCONF.
    if (
      this.#aof !== null && this.aofLastWriteStatus === "err" &&
      now - this.#lastWriteRetry >= 1000
    ) {
      this.#lastWriteRetry = now;
      try {
        if (this.#aofBuf.length > 0) {
          this.#writeNow();
          if (c.appendfsync === "always") this.#syncNow();
        } else {
          this.#aof.syncDataSync();
          this.#writeSucceeded();
        }
        // The connections a failed fsync covered were all answered (with
        // no reply) in its turn: nothing is owed to it any more.
        this.#failedSeq = -1;
        this.#failure = null;
      } catch {
        // still failing; logged once
      }
    }
    if (
      this.#bgsave === null && this.#rewrite === null && this.#held === null
    ) {
      if (this.#bgsaveScheduled) {
        this.#bgsaveScheduled = false;
        this.#startBgsave();
      } else if (this.#rewriteScheduled) {
        this.#startRewrite();
      } else {
        const dirty = this.dirty;
        const retryOk = this.lastBgsaveStatus === "ok" ||
          now - this.#lastBgsaveTry > 5000;
        for (const [seconds, changes] of c.save) {
          if (
            dirty >= changes && now - this.lastSave > seconds * 1000 && retryOk
          ) {
            this.#host.log(
              "notice",
              `${changes} changes in ${seconds} seconds. Saving...`,
            );
            this.#startBgsave();
            break;
          }
        }
        if (
          this.#bgsave === null && this.#aof !== null &&
          c.autoAofRewritePercentage > 0 &&
          this.aofCurrentSize >= c.autoAofRewriteMinSize
        ) {
          const base = Math.max(1, this.aofBaseSize);
          const growth = ((this.aofCurrentSize - base) * 100) / base;
          if (growth >= c.autoAofRewritePercentage) {
            this.#host.log(
              "notice",
              `Starting automatic rewriting of AOF on ${
                Math.round(growth)
              }% growth`,
            );
            this.#startRewrite();
          }
        }
      }
    }
    if (
      this.#aof !== null && c.appendfsync === "everysec" && this.#aofDirty &&
      !this.#fsyncing && now - this.#lastFsync >= 1000
    ) {
      this.#fsyncing = true;
      this.#aofDirty = false;
      const file = this.#aof;
      this.#aofChain = this.#aofChain.then(() => file.syncData()).catch((e) => {
        this.#host.log("warning", `fsync of the AOF failed: ${message(e)}`);
      }).finally(() => {
        this.#fsyncing = false;
        this.#lastFsync = Date.now();
      });
    }
  }

  /**
   * Stops a running background save and log rewrite, as Redis stops its
   * child before a final save, and waits until they are gone (their
   * temporary files removed). Writes are in the log already, so stopping a
   * rewrite loses nothing.
   */
  async stopBackgroundJobs(): Promise<void> {
    this.#bgsaveScheduled = this.#rewriteScheduled = false;
    if (this.#bgsave !== null) {
      this.#host.log("notice", "Stopping the background save for shutdown");
      this.#cancelBgsave = true;
      await this.#bgsave;
    }
    if (this.#rewrite !== null) {
      this.#host.log("notice", "Stopping the AOF rewrite for shutdown");
      this.#cancelRewrite = true;
      await this.#rewrite;
    }
  }

  /**
   * Before exiting: flushes and fsyncs the log, and writes a snapshot when
   * `save` (a running background save or rewrite is stopped first).
   * Returns false when the snapshot could not be written.
   */
  async shutdown(save: boolean): Promise<boolean> {
    await this.stopBackgroundJobs();
    try {
      await this.#aofChain;
      this.flushSync();
    } catch (e) {
      this.#host.log(
        "warning",
        `Error flushing the AOF on shutdown: ${message(e)}`,
      );
    }
    let ok = true;
    if (save) {
      this.#host.log("notice", "Saving the final snapshot before exiting.");
      try {
        this.saveSync();
      } catch {
        ok = false;
      }
    }
    this.#aof?.close();
    this.#aof = null;
    return ok;
  }

  /** The fields of INFO persistence. */
  info(): [string, string | number][] {
    const now = Date.now();
    return [
      ["loading", this.loading ? 1 : 0],
      ["async_loading", 0],
      ["rdb_changes_since_last_save", this.dirty],
      ["rdb_bgsave_in_progress", this.bgsaveInProgress ? 1 : 0],
      ["rdb_last_save_time", Math.floor(this.lastSave / 1000)],
      ["rdb_last_bgsave_status", this.lastBgsaveStatus],
      ["rdb_last_bgsave_time_sec", this.lastBgsaveSeconds],
      [
        "rdb_current_bgsave_time_sec",
        this.#bgsave !== null
          ? Math.round((now - this.#bgsaveStarted) / 1000)
          : -1,
      ],
      // As Redis, on from the moment it is asked for (the first rewrite
      // may still run), off at once.
      [
        "aof_enabled",
        this.#aofWanted && (this.#aof !== null || this.#aofEnabling) ? 1 : 0,
      ],
      ["aof_rewrite_in_progress", this.#rewrite !== null ? 1 : 0],
      ["aof_rewrite_scheduled", this.#rewriteScheduled ? 1 : 0],
      ["aof_last_rewrite_time_sec", this.lastRewriteSeconds],
      [
        "aof_current_rewrite_time_sec",
        this.#rewrite !== null
          ? Math.round((now - this.#rewriteStarted) / 1000)
          : -1,
      ],
      ["aof_last_bgrewrite_status", this.lastRewriteStatus],
      ["aof_last_write_status", this.aofLastWriteStatus],
      ...(this.#aof !== null
        ? [
          ["aof_current_size", this.aofCurrentSize],
          ["aof_base_size", this.aofBaseSize],
        ] as [string, number][]
        : []),
    ];
  }
}

/** A container as a snapshot file holds it: the commands that build it. */
export interface SnapshotFileContainer {
  /** The commands, in order. */
  commands: string[][];
}

/** For tests: the entries a snapshot file holds, decoded (read in chunks,
 * as the server reads it; `windowBytes` sets the chunk size). */
export async function readSnapshotFile(
  path: string,
  windowBytes: number = READ_CHUNK,
): Promise<[string, string | SnapshotFileContainer, number?][]> {
  const out: [string, string | SnapshotFileContainer, number?][] = [];
  let current: SnapshotFileContainer = { commands: [] };
  const file = await Deno.open(path, { read: true });
  const push = (key: string, v: string | SnapshotFileContainer, at?: number) =>
    out.push(at === undefined ? [key, v] : [key, v, at]);
  try {
    readSnapshot(path, file, {
      string: (_i, key, value, at) => push(key, value, at),
      container: () => {
        current = { commands: [] };
      },
      command: (_i, argv) => current.commands.push(argv),
      containerEnd: (_i, key, at) => push(key, current, at),
    }, windowBytes);
  } finally {
    file.close();
  }
  return out;
}
