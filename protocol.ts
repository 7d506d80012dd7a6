/**
 * RESP2 and RESP3, both directions: an incremental {@linkcode RequestDecoder}
 * for what clients send (multibulk and inline commands, with Redis's limits),
 * a {@linkcode ReplyWriter} that encodes replies for a connection's protocol
 * version, a {@linkcode ReplyDecoder} for every RESP3 type, and
 * {@linkcode encodeCommand}.
 *
 * Strings on the server side are byte strings: one JavaScript char per byte.
 *
 * @example Decode a request split across reads
 * ```ts
 * import { RequestDecoder } from "@kv/store";
 * const decoder = new RequestDecoder();
 * decoder.feed(new TextEncoder().encode("*2\r\n$4\r\nECHO\r\n$2\r\nh"));
 * console.log(decoder.next()); // null: need more bytes
 * decoder.feed(new TextEncoder().encode("i\r\n"));
 * console.log(decoder.next()); // ["ECHO", "hi"]
 * ```
 * @module
 */

import { formatDouble as formatDouble17 } from "./_number.ts";
import { bytesToBinary, commandName, textToBinary } from "./_bytes.ts";

const CR = 13;
const LF = 10;
const EMPTY = new Uint8Array(0);

/** Redis's `PROTO_INLINE_MAX_SIZE`: longest inline command or length line. */
export const INLINE_MAX_SIZE = 64 * 1024;
/** Redis's default `proto-max-bulk-len`: 512 MB. */
export const DEFAULT_MAX_BULK_LENGTH = 512 * 1024 * 1024;

/** The longest string V8 can make (2^29 - 24 characters): an argument of
 * up to 512 MB that is longer cannot be held, so its command is answered
 * with an error (the connection goes on). */
export const MAX_ARGUMENT_LENGTH = 2 ** 29 - 24;
/** Most arguments one multibulk request may announce. */
export const MAX_MULTIBULK_LENGTH = 1024 * 1024;

/** Options of a {@linkcode RequestDecoder}.
 *
 * @example
 * ```ts
 * import { RequestDecoder, type RequestDecoderOptions } from "@kv/store";
 * const options: RequestDecoderOptions = { maxBulkLength: 1024 * 1024 };
 * const decoder = new RequestDecoder(options);
 * ```
 */
export interface RequestDecoderOptions {
  /** Longest bulk argument accepted (`proto-max-bulk-len`). */
  maxBulkLength?: number;
  /** Called per request: true while the client still has to authenticate,
   * which tightens the limits as Redis does. */
  authRequired?: () => boolean;
}

/** Parses an integer as Redis's `string2ll` does: strict digits, optional
 * minus, no leading zeros or plus sign. Returns NaN when invalid. */
function parseLength(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  if (i >= end) return NaN;
  let negative = false;
  if (buf[i] === 45) { // '-'
    negative = true;
    i++;
    if (i >= end) return NaN;
  }
  if (end - i > 18) return NaN;
  const first = buf[i];
  if (first === 48) { // '0'
    return end - i === 1 && !negative ? 0 : NaN;
  }
  if (first < 49 || first > 57) return NaN;
  let n = 0;
  for (; i < end; i++) {
    const c = buf[i] - 48;
    if (c < 0 || c > 9) return NaN;
    n = n * 10 + c;
  }
  return negative ? -n : n;
}

/**
 * Incremental decoder of client requests. Feed it whatever a read returned,
 * then call {@linkcode RequestDecoder.next} until it returns `null`; a
 * `null` with {@linkcode RequestDecoder.error} unset means "need more bytes".
 * It copies only the bytes of an incomplete request, so the chunk may be
 * reused once `next()` returned `null`.
 *
 * @example
 * ```ts
 * import { RequestDecoder } from "@kv/store";
 * const decoder = new RequestDecoder();
 * decoder.feed(new TextEncoder().encode("SET k v\r\nGET k\r\n"));
 * decoder.next(); // ["SET", "k", "v"]
 * decoder.next(); // ["GET", "k"]
 * decoder.next(); // null: need more bytes
 * ```
 */
export class RequestDecoder {
  /** Set on a protocol error (`ERR Protocol error: ...`); the connection
   * should get it as an error reply and then be closed. */
  error: string | null = null;
  #pending: Uint8Array = new Uint8Array(4096);
  #pendingLength = 0;
  #src: Uint8Array = EMPTY;
  #pos = 0;
  #end = 0;
  #fromPending = false;
  // State of a multibulk request parsed in part.
  #remaining = 0;
  #args: string[] | null = null;
  // Arguments of #args filled so far.
  #argc = 0;
  #maxBulk: number;
  #authRequired: () => boolean;
  // Bytes of an argument too long to hold, still to be skipped.
  #skip = 0;
  /** Set with the request `next()` returned when that request cannot run
   * (an argument longer than {@linkcode MAX_ARGUMENT_LENGTH}): reply with
   * this error instead of running it. Cleared by the next `next()`. */
  rejected: string | null = null;

  /** Creates a decoder with Redis's limits, optionally changed. */
  constructor(options: RequestDecoderOptions = {}) {
    this.#maxBulk = options.maxBulkLength ?? DEFAULT_MAX_BULK_LENGTH;
    this.#authRequired = options.authRequired ?? (() => false);
  }

  /** Changes the longest bulk argument accepted. */
  set maxBulkLength(n: number) {
    this.#maxBulk = n;
  }

  /** Bytes held for a request that is not complete yet. */
  get pendingBytes(): number {
    return this.#fromPending
      ? this.#end - this.#pos
      : this.#pendingLength + (this.#end - this.#pos);
  }

  /** Adds bytes read from the connection: `chunk`, or its first `length`
   * bytes (a read into a reused buffer, without a view made of it). */
  feed(chunk: Uint8Array, length: number = chunk.length): void {
    if (this.#pendingLength === 0) {
      // A big request is done: give its buffer back.
      if (this.#pending.length > 1024 * 1024) {
        this.#pending = new Uint8Array(4096);
      }
      this.#src = chunk;
      this.#pos = 0;
      this.#end = length;
      this.#fromPending = false;
      return;
    }
    this.#reserve(this.#pendingLength + length);
    this.#pending.set(
      length === chunk.length ? chunk : chunk.subarray(0, length),
      this.#pendingLength,
    );
    this.#pendingLength += length;
    this.#src = this.#pending;
    this.#pos = 0;
    this.#end = this.#pendingLength;
    this.#fromPending = true;
  }

  #reserve(size: number, exact = false): void {
    if (size <= this.#pending.length) return;
    // Grow geometrically; `exact` when the size of a coming bulk is known,
    // so a 512 MB argument does not reserve 1 GB.
    let cap = exact ? size : this.#pending.length * 2;
    while (cap < size) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#pending.subarray(0, this.#pendingLength));
    this.#pending = next;
  }

  /** Keeps the unread bytes for the next feed and reports "need more". */
  #needMore(hint = 0): null {
    const rest = this.#end - this.#pos;
    if (this.#fromPending) {
      if (this.#pos > 0) this.#pending.copyWithin(0, this.#pos, this.#end);
    } else {
      this.#pendingLength = 0;
      if (rest > 0) {
        this.#reserve(rest);
        this.#pending.set(this.#src.subarray(this.#pos, this.#end));
      }
    }
    this.#pendingLength = rest;
    // A large bulk is coming: make room once instead of doubling repeatedly.
    if (hint > rest && hint <= this.#maxBulk + 64) this.#reserve(hint, true);
    this.#src = EMPTY;
    this.#pos = this.#end = 0;
    this.#fromPending = false;
    return null;
  }

  #fail(message: string): null {
    this.error = `ERR Protocol error: ${message}`;
    this.#src = EMPTY;
    this.#pos = this.#end = 0;
    this.#pendingLength = 0;
    this.#args = null;
    return null;
  }

  /** The next complete request as its arguments (byte strings), or `null`. */
  next(): string[] | null {
    if (this.error !== null) return null;
    const src = this.#src;
    const end = this.#end;
    if (this.#skip > 0) {
      const n = Math.min(this.#skip, end - this.#pos);
      this.#skip -= n;
      this.#pos += n;
      if (this.#skip > 0) return this.#needMore();
    } else if (this.#args === null) this.rejected = null;
    while (true) {
      let pos = this.#pos;
      if (this.#args === null) {
        if (pos >= end) return this.#needMore();
        if (src[pos] !== 42) { // not '*': inline command
          const result = this.#inline();
          if (result === undefined) continue; // empty line
          return result;
        }
        // Multibulk length line. Fast path: "*N\r\n" with N in 1..9.
        const d = src[pos + 1] - 48;
        if (d > 0 && d <= 9 && src[pos + 2] === CR && pos + 3 < end) {
          pos = this.#pos = pos + 4;
          this.#remaining = d;
          // Sized up front: growing an empty array as arguments come
          // allocates a backing store for 17 and more (most of a small
          // command's garbage).
          this.#args = new Array(d);
          this.#argc = 0;
        }
      }
      if (this.#args === null) {
        let cr = src.indexOf(CR, pos);
        if (cr >= end) cr = -1;
        if (cr === -1) {
          if (end - pos > INLINE_MAX_SIZE) {
            return this.#fail("too big mbulk count string");
          }
          return this.#needMore();
        }
        if (cr + 1 >= end) return this.#needMore();
        const n = parseLength(src, pos + 1, cr);
        if (Number.isNaN(n) || n > MAX_MULTIBULK_LENGTH) {
          return this.#fail("invalid multibulk length");
        }
        if (n > 10 && this.#authRequired()) {
          return this.#fail("unauthenticated multibulk length");
        }
        pos = this.#pos = cr + 2;
        if (n <= 0) continue; // Redis ignores empty multibulk requests.
        this.#remaining = n;
        // As Redis, room for at most 1024 arguments before they come.
        this.#args = n <= 1024 ? new Array(n) : [];
        this.#argc = 0;
      }
      const args = this.#args!;
      while (this.#remaining > 0) {
        if (pos >= end) return this.#needMore();
        // Fast path: "$len\r\n" with len in 1..99999 and the data here.
        if (src[pos] === 36) {
          let p = pos + 1;
          let c = src[p] - 48;
          if (c > 0 && c <= 9) {
            let len = c;
            p++;
            while (p < end && p - pos <= 5) {
              c = src[p] - 48;
              if (c < 0 || c > 9) break;
              len = len * 10 + c;
              p++;
            }
            const start = p + 2;
            if (
              src[p] === CR && start + len + 2 <= end &&
              len <= this.#maxBulk && (len <= 16384 || !this.#authRequired())
            ) {
              const i = this.#argc++;
              args[i] = i === 0 && len <= 16
                ? commandName(src, start, len)
                : bytesToBinary(src, start, start + len);
              pos = this.#pos = start + len + 2;
              this.#remaining--;
              continue;
            }
          }
        }
        if (src[pos] !== 36) { // '$'
          return this.#fail(
            `expected '$', got '${String.fromCharCode(src[pos])}'`,
          );
        }
        let cr = src.indexOf(CR, pos);
        if (cr >= end) cr = -1;
        if (cr === -1) {
          if (end - pos > INLINE_MAX_SIZE) {
            return this.#fail("too big bulk count string");
          }
          return this.#needMore();
        }
        if (cr + 1 >= end) return this.#needMore();
        const len = parseLength(src, pos + 1, cr);
        if (Number.isNaN(len) || len < 0 || len > this.#maxBulk) {
          return this.#fail("invalid bulk length");
        }
        if (len > 16384 && this.#authRequired()) {
          return this.#fail("unauthenticated bulk length");
        }
        const start = cr + 2;
        if (len > MAX_ARGUMENT_LENGTH) {
          // Too long for a string: skip its bytes as they come, answer the
          // command with an error once it is complete.
          this.rejected =
            `ERR argument of ${len} bytes is longer than the longest string ` +
            `this server can hold (${MAX_ARGUMENT_LENGTH} bytes)`;
          args[this.#argc++] = "";
          this.#remaining--;
          const skip = len + 2;
          if (start + skip <= end) {
            pos = this.#pos = start + skip;
            continue;
          }
          this.#skip = skip - (end - start);
          this.#pos = end;
          return this.#needMore();
        }
        if (start + len + 2 > end) {
          this.#pos = pos;
          return this.#needMore(start - pos + len + 2);
        }
        args[this.#argc++] = bytesToBinary(src, start, start + len);
        // Like Redis, the two bytes after the data are skipped unchecked.
        pos = this.#pos = start + len + 2;
        this.#remaining--;
      }
      this.#args = null;
      return args;
    }
  }

  #inline(): string[] | null | undefined {
    const src = this.#src;
    const pos = this.#pos;
    let nl = src.indexOf(LF, pos);
    if (nl >= this.#end) nl = -1;
    if (nl === -1) {
      if (this.#end - pos > INLINE_MAX_SIZE) {
        return this.#fail("too big inline request");
      }
      return this.#needMore();
    }
    let lineEnd = nl;
    if (lineEnd > pos && src[lineEnd - 1] === CR) lineEnd--;
    this.#pos = nl + 1;
    const args = splitArgs(bytesToBinary(src, pos, lineEnd));
    if (args === null) return this.#fail("unbalanced quotes in request");
    if (args.length === 0) return undefined;
    return args;
  }
}

function isSpace(c: string): boolean {
  return c === " " || c === "\n" || c === "\r" || c === "\t" || c === "\v" ||
    c === "\f";
}

function hexValue(c: string): number {
  const code = c.charCodeAt(0);
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  if (code >= 65 && code <= 70) return code - 55;
  return -1;
}

/**
 * Splits a command line into arguments with redis-cli's quoting rules
 * (Redis's `sdssplitargs`): `"..."` understands `\n \r \t \b \a \\ \"` and
 * `\xHH`; `'...'` understands `\'`; a closing quote must be followed by a
 * space or the end. Returns `null` on unbalanced quotes.
 *
 * @example
 * ```ts
 * import { splitArgs } from "@kv/store";
 * splitArgs(`SET a "hello world"`); // ["SET", "a", "hello world"]
 * ```
 */
export function splitArgs(line: string): string[] | null {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  while (true) {
    while (i < n && isSpace(line[i])) i++;
    if (i >= n) return args;
    let inDouble = false;
    let inSingle = false;
    let current = "";
    let done = false;
    while (!done) {
      if (inDouble) {
        if (i >= n) return null;
        const c = line[i];
        if (
          c === "\\" && line[i + 1] === "x" && i + 3 < n &&
          hexValue(line[i + 2]) >= 0 && hexValue(line[i + 3]) >= 0
        ) {
          current += String.fromCharCode(
            hexValue(line[i + 2]) * 16 + hexValue(line[i + 3]),
          );
          i += 3;
        } else if (c === "\\" && i + 1 < n) {
          i++;
          const e = line[i];
          current += e === "n"
            ? "\n"
            : e === "r"
            ? "\r"
            : e === "t"
            ? "\t"
            : e === "b"
            ? "\b"
            : e === "a"
            ? "\x07"
            : e;
        } else if (c === '"') {
          // A closing quote must be followed by a space or nothing.
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          current += c;
        }
      } else if (inSingle) {
        if (i >= n) return null;
        const c = line[i];
        if (c === "\\" && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1])) return null;
          done = true;
        } else {
          current += c;
        }
      } else {
        if (i >= n) {
          done = true;
          break;
        }
        const c = line[i];
        if (isSpace(c)) {
          done = true;
        } else if (c === '"') {
          inDouble = true;
        } else if (c === "'") {
          inSingle = true;
        } else {
          current += c;
        }
      }
      if (i < n) i++;
    }
    args.push(current);
  }
}

// ---------------------------------------------------------------------------
// Values and replies

/** An error reply (`-CODE message`), as received by a client.
 *
 * @example
 * ```ts
 * import { ReplyError } from "@kv/store";
 * const e = new ReplyError("WRONGPASS invalid username-password pair");
 * e.code; // "WRONGPASS"
 * ```
 */
export class ReplyError extends Error {
  /** The first word of the error, e.g. `ERR`, `WRONGTYPE`, `NOAUTH`. */
  readonly code: string;
  /** Creates an error from the text after `-`. */
  constructor(message: string) {
    super(message);
    this.name = "ReplyError";
    const space = message.indexOf(" ");
    this.code = space === -1 ? message : message.slice(0, space);
  }
}

/** A RESP3 verbatim string (`=`): text with a three-letter format.
 *
 * @example
 * ```ts
 * import { VerbatimString } from "@kv/store";
 * new VerbatimString("txt", "# Server\r\n").text; // "# Server\r\n"
 * ```
 */
export class VerbatimString {
  /** Creates a verbatim string such as `txt` + text. */
  constructor(
    /** The format, `txt` or `mkd`. */
    readonly format: string,
    /** The text. */
    readonly text: string,
  ) {}
  /** The text. */
  toString(): string {
    return this.text;
  }
}

/** A RESP3 push message (`>`): out-of-band data sent by the server.
 *
 * @example
 * ```ts
 * import { PushMessage } from "@kv/store";
 * new PushMessage(["message", "news", "hello"]).data[0]; // "message"
 * ```
 */
export class PushMessage {
  /** Wraps the push message's elements. */
  constructor(
    /** The elements; the first names the kind of push. */
    readonly data: RespValue[],
  ) {}
}

/**
 * A decoded RESP value. Simple and bulk strings are `string` (or
 * `Uint8Array` when bulk strings are decoded as bytes), integers `number`
 * (`bigint` beyond 2^53), big numbers `bigint`, doubles `number`, booleans
 * `boolean`, nulls `null`, arrays `RespValue[]`, maps `Map`, sets `Set`.
 *
 * @example
 * ```ts
 * import type { RespValue } from "@kv/store";
 * const reply: RespValue = new Map([["proto", 3]]);
 * ```
 */
export type RespValue =
  | string
  | number
  | DoubleText
  | bigint
  | boolean
  | null
  | Uint8Array
  | ReplyError
  | VerbatimString
  | PushMessage
  | RespValue[]
  | Map<RespValue, RespValue>
  | Set<RespValue>;

const HEX = "0123456789abcdef";

/**
 * A {@linkcode ReplyWriter} was given a value it cannot encode (`int(NaN)`,
 * `bulk()` of something that is not a byte string, a negative or
 * fractional length): a mistake of the command's handler. The dispatcher
 * answers the client with an error reply instead of the partial reply.
 */
export class ReplyValueError extends TypeError {
  /** Creates the error; `message` names the method and the value. */
  constructor(message: string) {
    super(message);
    this.name = "ReplyValueError";
  }
}

/** How a refused value is named in a {@linkcode ReplyValueError}. */
function shown(v: unknown): string {
  if (typeof v === "string") {
    return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  }
  if (typeof v === "number" && Object.is(v, -0)) return "-0";
  return typeof v === "bigint" ? `${v}n` : String(v);
}

/** The integers an integer reply can carry: Redis's 64-bit range. */
const INT_LIMIT = 2 ** 63;

/**
 * Encodes replies into one growing buffer, as RESP2 or RESP3. Strings are
 * byte strings (one char per byte). Typed helpers fall back to RESP2 forms
 * on a RESP2 connection: nulls become `$-1`/`*-1`, maps flat arrays,
 * booleans integers and doubles bulk strings, as Redis does.
 *
 * @example
 * ```ts
 * import { ReplyWriter } from "@kv/store";
 * const w = new ReplyWriter();
 * w.resp = 3;
 * w.map(1);
 * w.bulk("proto");
 * w.int(3);
 * new TextDecoder().decode(w.bytes()); // "%1\r\n$5\r\nproto\r\n:3\r\n"
 * ```
 */
export class ReplyWriter {
  /** RESP version of the connection: 2 or 3. */
  resp: 2 | 3 = 2;
  /** Bytes written so far. */
  length = 0;
  #buf: Uint8Array;
  #initialCapacity: number;

  /** Creates a writer with an initial capacity in bytes. */
  constructor(capacity = 16 * 1024) {
    this.#initialCapacity = capacity;
    this.#buf = new Uint8Array(capacity);
  }

  /** The last view {@linkcode bytes} made, while the buffer is the same. */
  #view: Uint8Array | null = null;

  /** The encoded bytes (a view valid until the next write or reset). */
  bytes(): Uint8Array {
    // The same view again for the same length (a connection's replies are
    // often all `+OK`): a view is an object of about 100 bytes, and one per
    // reply was a tenth of the server's garbage per request (sampled).
    const view = this.#view;
    if (view !== null && view.length === this.length) return view;
    return this.#view = this.#buf.subarray(0, this.length);
  }

  /** Forgets what was written; shrinks a buffer that grew very large. */
  reset(): void {
    this.length = 0;
    if (this.#buf.length > 1024 * 1024) {
      this.#buf = new Uint8Array(this.#initialCapacity);
      this.#view = null;
    }
  }

  #ensure(extra: number): void {
    const need = this.length + extra;
    if (need <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.#buf.subarray(0, this.length));
    this.#buf = next;
    this.#view = null;
  }

  /** Appends raw bytes. */
  raw(bytes: Uint8Array): void {
    this.#ensure(bytes.length);
    this.#buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  /** Appends `src[start, end)` (no view is made for short ranges). */
  rawRange(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.#ensure(n);
    const buf = this.#buf;
    if (n <= 64) {
      let at = this.length;
      for (let i = start; i < end; i++) buf[at++] = src[i];
    } else buf.set(src.subarray(start, end), this.length);
    this.length += n;
  }

  /** Copies what was written into `dst` at `at` (no view is made for
   * short replies). */
  copyInto(dst: Uint8Array, at: number): void {
    const n = this.length;
    const buf = this.#buf;
    if (n <= 64) { for (let i = 0; i < n; i++) dst[at + i] = buf[i]; }
    else dst.set(buf.subarray(0, n), at);
  }

  #str(s: string): void {
    const buf = this.#buf;
    let at = this.length;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.length = at;
  }

  #line(prefix: number, s: string): void {
    this.#ensure(s.length + 3);
    const buf = this.#buf;
    buf[this.length++] = prefix;
    this.#str(s);
    buf[this.length++] = CR;
    buf[this.length++] = LF;
  }

  #header(prefix: number, n: number): void {
    this.#ensure(24);
    const buf = this.#buf;
    buf[this.length++] = prefix;
    if (n >= 0 && n <= 0xffffffff) this.#uint(n);
    else this.#str(String(n));
    buf[this.length++] = CR;
    buf[this.length++] = LF;
  }

  /** Writes the digits of a whole number in 0..2^32-1 (room for 10
   * reserved): no string made for them. Unsigned 32-bit division by 10
   * compiles to a multiply: about 12 ns against 30 for String(n). */
  #uint(n: number): void {
    const buf = this.#buf;
    const at = this.length;
    let v = n >>> 0;
    let end = at + 1;
    for (let p = 10; p <= v; p *= 10) end++;
    for (let i = end - 1; i > at; i--) {
      const q = (v / 10) >>> 0;
      buf[i] = 48 + v - q * 10;
      v = q;
    }
    buf[at] = 48 + v;
    this.length = end;
  }

  /** `+OK` */
  ok(): void {
    this.#line(43, "OK");
  }

  /** A simple string (`+`). Must not contain CR or LF. */
  simple(s: string): void {
    this.#line(43, s);
  }

  /** An error (`-`); `message` starts with its code, e.g. `ERR ...`.
   * CR and LF are replaced by spaces, as Redis does. */
  error(message: string): void {
    if (message.includes("\r") || message.includes("\n")) {
      message = message.replace(/[\r\n]/g, " ");
    }
    this.#line(45, message);
  }

  /** An integer (`:`): a whole number within 64 bits, or a bigint.
   * Anything else throws a {@linkcode ReplyValueError}. */
  int(n: number | bigint): void {
    if (typeof n === "number" && (n | 0) === n) {
      // An int32 (counts, most counters): its digits go straight into the
      // buffer, with no string made for them.
      this.#ensure(14);
      const buf = this.#buf;
      buf[this.length++] = 58;
      if (n < 0) {
        buf[this.length++] = 45;
        this.#uint(-n);
      } else this.#uint(n);
      buf[this.length++] = CR;
      buf[this.length++] = LF;
      return;
    }
    if (
      typeof n !== "bigint" &&
      !(Number.isInteger(n) && n > -INT_LIMIT && n < INT_LIMIT)
    ) {
      throw new ReplyValueError(
        `int() takes an integer, not ${shown(n)}`,
      );
    }
    this.#line(58, String(n));
  }

  /** A bulk string (`$`) of a byte string (one char per byte, as
   * `textToBinary` makes of text). Anything else throws a
   * {@linkcode ReplyValueError}. */
  bulk(s: string): void {
    if (typeof s !== "string") {
      throw new ReplyValueError(`bulk() takes a string, not ${shown(s)}`);
    }
    const n = s.length;
    this.#ensure(n + 16);
    const start = this.length;
    this.#header(36, n);
    if (
      n > 256 ? this.#bulkLarge(s) > 255 : this.#bytes(s) > 255
    ) {
      this.length = start;
      throw new ReplyValueError(
        `bulk() takes a byte string (one char per byte: encode text with textToBinary), not ${
          shown(s)
        }`,
      );
    }
    const buf = this.#buf;
    buf[this.length++] = CR;
    buf[this.length++] = LF;
  }

  /** Writes a byte string; returns its chars OR-ed together (above 255:
   * it was not one). */
  #bytes(s: string): number {
    const buf = this.#buf;
    let at = this.length;
    let all = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      all |= c;
      buf[at++] = c;
    }
    this.length = at;
    return all;
  }

  #bulkLarge(s: string): number {
    // encodeInto is native and fast; it is exact when every char is ASCII.
    const view = this.#buf.subarray(this.length, this.length + s.length);
    const { read, written } = encoder.encodeInto(s, view);
    if (read === s.length && written === s.length) {
      this.length += s.length;
      return 0;
    }
    return this.#bytes(s);
  }

  /** A bulk string of raw bytes. */
  bulkBytes(bytes: Uint8Array): void {
    this.#ensure(bytes.length + 16);
    this.#header(36, bytes.length);
    this.raw(bytes);
    this.#buf[this.length++] = CR;
    this.#buf[this.length++] = LF;
  }

  /** A bulk string, or null when `s` is undefined or null. */
  bulkOrNil(s: string | undefined | null): void {
    if (s === undefined || s === null) this.nil();
    else this.bulk(s);
  }

  /** The null reply: `$-1` in RESP2, `_` in RESP3. */
  nil(): void {
    if (this.resp === 3) this.#line(95, "");
    else this.#line(36, "-1");
  }

  /** The null array: `*-1` in RESP2, `_` in RESP3. */
  nilArray(): void {
    if (this.resp === 3) this.#line(95, "");
    else this.#line(42, "-1");
  }

  /** The length of an aggregate: a whole number from 0. */
  #count(n: number, what: string): number {
    if ((n >>> 0) === n) return n;
    throw new ReplyValueError(
      `${what}() takes a count of elements (0 or more), not ${shown(n)}`,
    );
  }

  /** An array header (`*n`); the caller writes the n elements. */
  array(n: number): void {
    this.#header(42, this.#count(n, "array"));
  }

  /** A map header of n pairs (`%n`, or `*2n` in RESP2). */
  map(n: number): void {
    if (this.resp === 3) this.#header(37, this.#count(n, "map"));
    else this.#header(42, this.#count(n, "map") * 2);
  }

  /** A set header (`~n`, or `*n` in RESP2). */
  set(n: number): void {
    this.#header(this.resp === 3 ? 126 : 42, this.#count(n, "set"));
  }

  /** A push header (`>n`, or `*n` in RESP2). */
  push(n: number): void {
    this.#header(this.resp === 3 ? 62 : 42, this.#count(n, "push"));
  }

  /** An attribute header (`|n`); nothing in RESP2 (the caller skips it). */
  attribute(n: number): void {
    this.#header(124, this.#count(n, "attribute"));
  }

  /** A double (`,`), or a bulk string in RESP2. */
  double(d: number): void {
    const s = formatDouble(d);
    if (this.resp === 3) this.#line(44, s);
    else this.bulk(s);
  }

  /** A boolean (`#t`/`#f`), or the integer 1/0 in RESP2. */
  bool(b: boolean): void {
    if (this.resp === 3) this.#line(35, b ? "t" : "f");
    else this.int(b ? 1 : 0);
  }

  /** A big number (`(`), or a bulk string in RESP2. */
  bigNumber(n: bigint): void {
    if (this.resp === 3) this.#line(40, n.toString());
    else this.bulk(n.toString());
  }

  /** A verbatim string (`=`), or a bulk string in RESP2. */
  verbatim(format: string, text: string): void {
    if (this.resp === 3) {
      const body = `${format}:${text}`;
      this.#ensure(body.length + 16);
      this.#header(61, body.length);
      this.#str(body);
      this.#buf[this.length++] = CR;
      this.#buf[this.length++] = LF;
    } else {
      this.bulk(text);
    }
  }

  /** Encodes any {@linkcode RespValue}; text is written as UTF-8. */
  value(v: RespValue): void {
    if (v === null) this.nil();
    else if (typeof v === "string") this.bulk(textToBinary(v));
    else if (typeof v === "number") {
      if (Number.isInteger(v)) this.int(v);
      else this.double(v);
    } else if (typeof v === "bigint") this.bigNumber(v);
    else if (typeof v === "boolean") this.bool(v);
    else if (v instanceof Uint8Array) this.bulkBytes(v);
    else if (v instanceof ReplyError) this.error(v.message);
    else if (v instanceof DoubleText) {
      if (this.resp === 3) this.raw(encoder.encode(`,${v.text}\r\n`));
      else this.bulk(v.text);
    } else if (v instanceof VerbatimString) {
      this.verbatim(v.format, textToBinary(v.text));
    } else if (v instanceof PushMessage) {
      this.push(v.data.length);
      for (const e of v.data) this.value(e);
    } else if (Array.isArray(v)) {
      this.array(v.length);
      for (const e of v) this.value(e);
    } else if (v instanceof Map) {
      this.map(v.size);
      for (const [k, e] of v) {
        this.value(k);
        this.value(e);
      }
    } else if (v instanceof Set) {
      this.set(v.size);
      for (const e of v) this.value(e);
    }
  }
}

const encoder = new TextEncoder();

/** Formats a double as Redis 7.0 does in replies (C's `%.17g`): `inf`,
 * `-inf`, `nan`, or 17 significant digits.
 *
 * @example
 * ```ts
 * import { formatDouble } from "@kv/store";
 * formatDouble(Infinity); // "inf"
 * ```
 */
export function formatDouble(d: number): string {
  return formatDouble17(d);
}

/** Encodes a command as a RESP array of bulk strings. Strings are sent as
 * UTF-8; `Uint8Array` arguments as they are.
 *
 * @example
 * ```ts
 * import { encodeCommand } from "@kv/store";
 * encodeCommand(["SET", "k", "v"]); // *3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n
 * ```
 */
export function encodeCommand(
  args: readonly (string | number | Uint8Array)[],
): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const a of args) {
    const bytes = a instanceof Uint8Array ? a : encoder.encode(String(a));
    parts.push(bytes);
    size += bytes.length + 16;
  }
  const w = new ReplyWriter(size + 16);
  w.array(parts.length);
  for (const p of parts) w.bulkBytes(p);
  return w.bytes().slice();
}

// ---------------------------------------------------------------------------
// Reply decoding (the client's direction)

/** Options of a {@linkcode ReplyDecoder}.
 *
 * @example
 * ```ts
 * import { ReplyDecoder } from "@kv/store";
 * const d = new ReplyDecoder({ bulk: "bytes" });
 * d.feed(new TextEncoder().encode("$2\r\nhi\r\n"));
 * d.next(); // { value: Uint8Array [104, 105] }
 * ```
 */
export interface ReplyDecoderOptions {
  /** How bulk strings come out: UTF-8 `text` (default), `bytes`
   * (`Uint8Array`), or `binary` (byte strings). */
  bulk?: "text" | "bytes" | "binary";
  /** How RESP3 doubles come out: `number` (default), or `text`
   * ({@linkcode DoubleText}, the digits as the server sent them, for
   * printing them as redis-cli does). */
  doubles?: "number" | "text";
}

/** A RESP3 double kept as the server wrote it (`13.36138933897018433`),
 * from a {@linkcode ReplyDecoder} with `doubles: "text"`.
 *
 * @example
 * ```ts
 * import { DoubleText } from "@kv/store";
 * const d = new DoubleText("0.10000000000000001");
 * console.log(d.text, Number(d)); // 0.10000000000000001 0.1
 * ```
 */
export class DoubleText {
  /** Creates one from the digits on the wire. */
  constructor(readonly text: string) {}
  /** The number it stands for. */
  valueOf(): number {
    const lower = this.text.toLowerCase();
    return lower === "inf"
      ? Infinity
      : lower === "-inf"
      ? -Infinity
      : lower === "nan"
      ? NaN
      : Number(this.text);
  }
  /** The digits as sent. */
  toString(): string {
    return this.text;
  }
}

/** Thrown by {@linkcode ReplyDecoder.next} on bytes that are not RESP.
 *
 * @example
 * ```ts
 * import { ProtocolError, ReplyDecoder } from "@kv/store";
 * const d = new ReplyDecoder();
 * d.feed(new TextEncoder().encode("?\r\n"));
 * try {
 *   d.next();
 * } catch (e) {
 *   console.log(e instanceof ProtocolError); // true
 * }
 * ```
 */
export class ProtocolError extends Error {
  /** Creates a protocol error. */
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

const NEED_MORE = Symbol("need more");
const utf8 = new TextDecoder();

/**
 * Incremental decoder of every RESP2 and RESP3 type. Feed chunks, then call
 * `next()` until it returns `undefined` (need more bytes). Attributes
 * (`|`) are read and kept in {@linkcode ReplyDecoder.attributes}.
 *
 * @example
 * ```ts
 * import { ReplyDecoder } from "@kv/store";
 * const d = new ReplyDecoder();
 * d.feed(new TextEncoder().encode("%1\r\n+a\r\n:1\r\n"));
 * console.log(d.next()); // { value: Map { "a" => 1 } }
 * ```
 */
export class ReplyDecoder {
  /** The last attribute map read, if any. */
  attributes: Map<RespValue, RespValue> | null = null;
  #buf: Uint8Array = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  #pos = 0;
  #need = 0;
  #bulk: "text" | "bytes" | "binary";
  #doubles: "number" | "text";

  /** Creates a decoder. */
  constructor(options: ReplyDecoderOptions = {}) {
    this.#bulk = options.bulk ?? "text";
    this.#doubles = options.doubles ?? "number";
  }

  /** Adds bytes read from the connection. */
  feed(chunk: Uint8Array): void {
    if (this.#end + chunk.length > this.#buf.length) {
      const live = this.#end - this.#start;
      let cap = this.#buf.length;
      while (cap < live + chunk.length) cap *= 2;
      if (cap === this.#buf.length) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        const next = new Uint8Array(cap);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#end = live;
      this.#start = 0;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** The next complete value wrapped as `{ value }`, or `undefined`. */
  next(): { value: RespValue } | undefined {
    if (this.#end - this.#start < this.#need) return undefined;
    this.#pos = this.#start;
    const value = this.#value();
    if (value === NEED_MORE) return undefined;
    this.#need = 0;
    this.#start = this.#pos;
    return { value };
  }

  #line(): number {
    const buf = this.#buf;
    const cr = buf.indexOf(CR, this.#pos);
    if (cr === -1 || cr >= this.#end || cr + 1 >= this.#end) return -1;
    return cr;
  }

  #lineText(): string | typeof NEED_MORE {
    const cr = this.#line();
    if (cr === -1) return NEED_MORE;
    const s = utf8.decode(this.#buf.subarray(this.#pos, cr));
    this.#pos = cr + 2;
    return s;
  }

  #int(): number | typeof NEED_MORE {
    const s = this.#lineText();
    if (s === NEED_MORE) return s;
    const n = Number(s);
    if (!Number.isInteger(n)) throw new ProtocolError(`bad length '${s}'`);
    return n;
  }

  #blob(): Uint8Array | null | typeof NEED_MORE {
    const n = this.#int();
    if (n === NEED_MORE) return n;
    if (n < 0) return null;
    if (this.#pos + n + 2 > this.#end) {
      this.#need = this.#pos + n + 2 - this.#start;
      return NEED_MORE;
    }
    const bytes = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n + 2;
    return bytes;
  }

  #value(): RespValue | typeof NEED_MORE {
    if (this.#pos >= this.#end) return NEED_MORE;
    const type = this.#buf[this.#pos++];
    switch (type) {
      case 43: // + simple string
        return this.#lineText();
      case 45: { // - error
        const s = this.#lineText();
        return s === NEED_MORE ? s : new ReplyError(s);
      }
      case 58: { // : integer
        const s = this.#lineText();
        if (s === NEED_MORE) return s;
        const n = Number(s);
        return Number.isSafeInteger(n) ? n : BigInt(s);
      }
      case 36: { // $ bulk string
        const b = this.#blob();
        if (b === NEED_MORE || b === null) return b;
        return this.#bulk === "bytes"
          ? b.slice()
          : this.#bulk === "binary"
          ? bytesToBinary(b)
          : utf8.decode(b);
      }
      case 33: { // ! blob error
        const b = this.#blob();
        if (b === NEED_MORE || b === null) return b;
        return new ReplyError(utf8.decode(b));
      }
      case 61: { // = verbatim string
        const b = this.#blob();
        if (b === NEED_MORE || b === null) return b;
        const s = utf8.decode(b);
        return new VerbatimString(s.slice(0, 3), s.slice(4));
      }
      case 95: { // _ null
        const s = this.#lineText();
        return s === NEED_MORE ? s : null;
      }
      case 44: { // , double
        const s = this.#lineText();
        if (s === NEED_MORE) return s;
        if (this.#doubles === "text") return new DoubleText(s);
        const lower = s.toLowerCase();
        return lower === "inf"
          ? Infinity
          : lower === "-inf"
          ? -Infinity
          : lower === "nan"
          ? NaN
          : Number(s);
      }
      case 35: { // # boolean
        const s = this.#lineText();
        return s === NEED_MORE ? s : s === "t";
      }
      case 40: { // ( big number
        const s = this.#lineText();
        return s === NEED_MORE ? s : BigInt(s);
      }
      case 42: // * array
      case 126: // ~ set
      case 62: { // > push
        const n = this.#int();
        if (n === NEED_MORE) return n;
        if (n < 0) return null;
        const items: RespValue[] = [];
        for (let i = 0; i < n; i++) {
          const v = this.#value();
          if (v === NEED_MORE) return v;
          items.push(v);
        }
        if (type === 126) return new Set(items);
        if (type === 62) return new PushMessage(items);
        return items;
      }
      case 37: // % map
      case 124: { // | attribute
        const n = this.#int();
        if (n === NEED_MORE) return n;
        const map = new Map<RespValue, RespValue>();
        for (let i = 0; i < n; i++) {
          const k = this.#value();
          if (k === NEED_MORE) return k;
          const v = this.#value();
          if (v === NEED_MORE) return v;
          map.set(k, v);
        }
        if (type === 124) {
          this.attributes = map;
          return this.#value();
        }
        return map;
      }
      default:
        throw new ProtocolError(
          `unknown reply type '${String.fromCharCode(type)}' (byte ${
            HEX[type >> 4]
          }${HEX[type & 15]})`,
        );
    }
  }
}
