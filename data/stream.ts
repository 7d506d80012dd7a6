// Streams: entries ordered by id, packed into nodes of up to
// stream-node-max-entries entries / stream-node-max-bytes bytes (as Redis's
// listpacks in a radix tree), consumer groups with their pending entries.

import type { Container, EncodingLimits, Store } from "../store.ts";
import { StoreError } from "../_errors.ts";
import { parseInt64 } from "../_number.ts";

// ---------------------------------------------------------------------------
// Unsigned 64-bit numbers: a number up to 2^53-1, a bigint above (always
// normalized so, which keeps `===` meaningful and `<` works across both).

/** An unsigned 64-bit integer: a number when safe, a bigint above. */
export type U64 = number | bigint;

const SAFE = Number.MAX_SAFE_INTEGER;
const U64_MAX = 18446744073709551615n;

function norm(b: bigint): U64 {
  return b <= 9007199254740991n ? Number(b) : b;
}

function inc(x: U64): U64 {
  return typeof x === "number" && x < SAFE ? x + 1 : norm(BigInt(x) + 1n);
}

function dec(x: U64): U64 {
  return typeof x === "number" ? x - 1 : norm(x - 1n);
}

function isMax(x: U64): boolean {
  return typeof x === "bigint" && x === U64_MAX;
}

/** A stream entry id: milliseconds and sequence number. */
export interface StreamId {
  /** Milliseconds part. */
  ms: U64;
  /** Sequence part. */
  seq: U64;
}

function cmp(ams: U64, aseq: U64, bms: U64, bseq: U64): number {
  if (ams !== bms) return ams < bms ? -1 : 1;
  if (aseq !== bseq) return aseq < bseq ? -1 : 1;
  return 0;
}

function cmpId(a: StreamId, b: StreamId): number {
  return cmp(a.ms, a.seq, b.ms, b.seq);
}

/** Formats an id as `ms-seq`.
 *
 * @example
 * ```ts
 * import { formatId } from "@kv/store";
 * console.log(formatId({ ms: 5, seq: 1 })); // "5-1"
 * ```
 */
export function formatId(id: StreamId): string {
  return fmt(id.ms, id.seq);
}

// Ids are formatted digit by digit: String(number) would go through V8's
// number-to-string cache, whose entries outlive young collections, so every
// distinct millisecond would leave a promoted string behind (about 30 bytes
// of old-space garbage per id written, which shows in RSS).
const ID_CHARS: number[] = [];

function pushDigits(n: number): void {
  const start = ID_CHARS.length;
  do {
    const q = Math.floor(n / 10);
    ID_CHARS.push(48 + (n - q * 10));
    n = q;
  } while (n > 0);
  // Reverse the digits just pushed.
  for (let i = start, j = ID_CHARS.length - 1; i < j; i++, j--) {
    const t = ID_CHARS[i];
    ID_CHARS[i] = ID_CHARS[j];
    ID_CHARS[j] = t;
  }
}

function fmt(ms: U64, seq: U64): string {
  if (typeof ms === "bigint" || typeof seq === "bigint") return `${ms}-${seq}`;
  ID_CHARS.length = 0;
  pushDigits(ms);
  ID_CHARS.push(45);
  pushDigits(seq);
  return String.fromCharCode.apply(null, ID_CHARS);
}

const ZERO: StreamId = Object.freeze({ ms: 0, seq: 0 });
const MAX_ID: StreamId = Object.freeze({ ms: U64_MAX, seq: U64_MAX });

function maxId(a: StreamId, b: StreamId): StreamId {
  return cmpId(a, b) >= 0 ? a : b;
}

function incrId(id: StreamId): StreamId | null {
  if (!isMax(id.seq)) return { ms: id.ms, seq: inc(id.seq) };
  if (!isMax(id.ms)) return { ms: inc(id.ms), seq: 0 };
  return null;
}

function decrId(id: StreamId): StreamId | null {
  if (id.seq !== 0) return { ms: id.ms, seq: dec(id.seq) };
  if (id.ms !== 0) return { ms: dec(id.ms), seq: U64_MAX };
  return null;
}

/** The error texts of stream operations, as Redis words them. */
export const STREAM_ERRORS = {
  invalidId: "ERR Invalid stream ID specified as stream command argument",
  smallerId:
    "ERR The ID specified in XADD is equal or smaller than the target stream top item",
  zeroId: "ERR The ID specified in XADD must be greater than 0-0",
  exhausted:
    "ERR The stream has exhausted the last possible ID, unable to add more items",
  tooLarge: "ERR Elements are too large to be stored",
  noKeyGroup:
    "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.",
  busyGroup: "BUSYGROUP Consumer Group name already exists",
  setIdSmaller:
    "ERR The ID specified in XSETID is smaller than the target stream top item",
  setIdEntriesAdded:
    "ERR The entries_added specified in XSETID is smaller than the target stream length",
  setIdMaxDeleted:
    "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
  noSuchKey: "ERR no such key",
} as const;

function fail(message: string): never {
  throw new StoreError(message);
}

/** strtoull as Redis's string2ull uses it: spaces, a sign, digits. */
function parseU64(s: string): U64 | null {
  const strict = parseInt64(s);
  if (strict !== null) return strict < 0 ? null : strict;
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || (c >= 9 && c <= 13)) i++;
    else break;
  }
  let negative = false;
  if (i < n && (s[i] === "+" || s[i] === "-")) {
    negative = s[i] === "-";
    i++;
  }
  if (i >= n) return null;
  let v = 0n;
  for (let j = i; j < n; j++) {
    const c = s.charCodeAt(j) - 48;
    if (c < 0 || c > 9) return null;
    v = v * 10n + BigInt(c);
    if (v > U64_MAX) return null;
  }
  if (negative && v !== 0n) v = (1n << 64n) - v;
  return norm(v);
}

/** The result of parsing an id argument: the id, and whether the sequence
 * was given (false for `ms-*`). */
export interface ParsedId extends StreamId {
  /** False for the `ms-*` form. */
  seqGiven: boolean;
}

/**
 * Parses a stream id argument as Redis does: `ms-seq`, `ms` (sequence
 * `missingSeq`), `-` and `+` (unless `strict`), and `ms-*` when `allowAuto`.
 * Throws the invalid id error.
 *
 * @example
 * ```ts
 * import { parseStreamId } from "@kv/store";
 * console.log(parseStreamId("1526919030474-55")); // { ms: 1526919030474, seq: 55, seqGiven: true }
 * ```
 */
export function parseStreamId(
  arg: string,
  missingSeq: U64 = 0,
  strict = false,
  allowAuto = false,
): ParsedId {
  let s = arg;
  if (s.length > 127) fail(STREAM_ERRORS.invalidId);
  const nul = s.indexOf("\0");
  if (nul !== -1) s = s.slice(0, nul);
  if (s === "-" || s === "+") {
    if (strict) fail(STREAM_ERRORS.invalidId);
    return s === "-"
      ? { ms: 0, seq: 0, seqGiven: true }
      : { ms: U64_MAX, seq: U64_MAX, seqGiven: true };
  }
  const dash = s.indexOf("-");
  const ms = parseU64(dash === -1 ? s : s.slice(0, dash));
  if (ms === null) fail(STREAM_ERRORS.invalidId);
  if (dash === -1) return { ms, seq: missingSeq, seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowAuto && rest === "*") return { ms, seq: 0, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) fail(STREAM_ERRORS.invalidId);
  return { ms, seq, seqGiven: true };
}

/** Parses a range bound: an id, `-`, `+`, or an exclusive `(id`
 * (`missingSeq` completes an id given without sequence).
 *
 * @example
 * ```ts
 * import { parseStreamBound } from "@kv/store";
 * console.log(parseStreamBound("(5-1", 0).exclusive); // true
 * ```
 */
export function parseStreamBound(
  arg: string,
  missingSeq: U64,
): { id: StreamId; exclusive: boolean } {
  if (arg.length > 1 && arg[0] === "(") {
    return {
      id: parseStreamId(arg.slice(1), missingSeq, true),
      exclusive: true,
    };
  }
  return { id: parseStreamId(arg, missingSeq), exclusive: false };
}

function toId(id: string | StreamId, missingSeq: U64 = 0): StreamId {
  return typeof id === "string" ? parseStreamId(id, missingSeq) : id;
}

// ---------------------------------------------------------------------------
// Redis's listpack sizes, to cut nodes where Redis does (stream-node-max-
// bytes counts the listpack's bytes).

function lpIntLen(v: number | bigint): number {
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

function lpElem(len: number): number {
  return len +
    (len <= 127
      ? 1
      : len < 16383
      ? 2
      : len < 2097151
      ? 3
      : len < 268435455
      ? 4
      : 5);
}

function lpInt(v: number | bigint): number {
  return lpElem(lpIntLen(v));
}

function lpStr(s: string): number {
  const n = s.length;
  if (n > 0 && n <= 20) {
    const c = s.charCodeAt(0);
    if ((c >= 48 && c <= 57) || c === 45) {
      const v = parseInt64(s);
      if (v !== null) return lpInt(v);
    }
  }
  return lpElem(n < 64 ? 1 + n : n < 4096 ? 2 + n : 5 + n);
}

function lpDelta(a: U64, b: U64): number {
  if (typeof a === "number" && typeof b === "number") return lpInt(a - b);
  return lpInt(BigInt.asIntN(64, BigInt(a) - BigInt(b)));
}

// ---------------------------------------------------------------------------
// Nodes. Each entry is packed into the node's byte string:
//   varint(length of the rest) flags id body
// flags: 1 deleted, 2 same fields as the node's master fields, 4 raw id.
// id: varint(ms - node ms) varint(seq), or (raw) two length-prefixed decimals.
// body: the values (same fields), or varint(n) then n field/value pairs;
// every string as varint(length) bytes.

const F_DELETED = 1;
const F_SAME = 2;
const F_RAW = 4;

function varintLen(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(b: Uint8Array, at: number, n: number): number {
  while (n >= 128) {
    b[at++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  b[at++] = n;
  return at;
}

/** Writes varint(length) and the bytes of a byte string. */
function writeBytes(b: Uint8Array, at: number, s: string): number {
  at = writeVarint(b, at, s.length);
  for (let i = 0; i < s.length; i++) b[at++] = s.charCodeAt(i);
  return at;
}

function bytesToString(b: Uint8Array, len: number): string {
  const CHUNK = 8192;
  if (len <= CHUNK) {
    return String.fromCharCode.apply(
      null,
      b.subarray(0, len) as unknown as number[],
    );
  }
  const parts: string[] = [];
  for (let i = 0; i < len; i += CHUNK) {
    parts.push(
      String.fromCharCode.apply(
        null,
        b.subarray(i, Math.min(len, i + CHUNK)) as unknown as number[],
      ),
    );
  }
  return parts.join("");
}

// The node whose pending records are in the shared byte buffer.
let bufferOwner: StreamNode | null = null;

// Reader state (module-level to keep scans free of allocation).
let rPos = 0;

function readVarint(d: string): number {
  let c = d.charCodeAt(rPos++);
  if (c < 128) return c;
  let v = c & 127;
  let mul = 128;
  for (;;) {
    c = d.charCodeAt(rPos++);
    v += (c & 127) * mul;
    if (c < 128) return v;
    mul *= 128;
  }
}

function readStr(d: string): string {
  const n = readVarint(d);
  const s = d.slice(rPos, rPos + n);
  rPos += n;
  return s;
}

/** A node: entries from its master id on, packed in one byte string. */
class StreamNode {
  /** Master id (the first entry added to the node). */
  ms: U64;
  seq: U64;
  /** Last entry id in the node (deleted or not). */
  lastMs: U64;
  lastSeq: U64;
  /** Field names of the master entry. */
  fields: string[];
  /** Packed entries as one flat string; records appended to the tail
   * node wait as bytes in `buf` until read (no object per entry survives
   * to be promoted by the GC). */
  _data = "";
  buf: Uint8Array | null = null;
  bufLen = 0;
  live = 0;
  deleted = 0;
  /** Redis's listpack bytes, without the live/deleted counters. */
  lpBytes: number;

  constructor(ms: U64, seq: U64, fields: string[]) {
    this.ms = this.lastMs = ms;
    this.seq = this.lastSeq = seq;
    this.fields = fields;
    let b = 7 + lpInt(fields.length) + lpInt(0);
    for (const f of fields) b += lpStr(f);
    this.lpBytes = b;
  }

  /** The packed entries. */
  get data(): string {
    if (this.bufLen > 0) {
      const s = bytesToString(this.buf!, this.bufLen);
      this._data = this._data.length === 0 ? s : [this._data, s].join("");
      this.bufLen = 0;
    }
    return this._data;
  }

  set data(v: string) {
    this.bufLen = 0;
    this._data = v;
  }

  /** Room for `n` more bytes in `buf`. One buffer serves every stream:
   * the node that held it last gives its bytes up as a string first (so a
   * million small streams do not each keep a buffer). */
  reserve(n: number): Uint8Array {
    let b = this.buf;
    if (b === null && bufferOwner !== null) {
      const owner = bufferOwner;
      void owner.data;
      b = owner.buf;
      owner.buf = null;
      if (b !== null && b.length > 65536) b = null;
      this.buf = b;
    }
    bufferOwner = this;
    const need = this.bufLen + n;
    if (b === null || b.length < need) {
      let cap = b === null ? 256 : b.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      if (b !== null) next.set(b.subarray(0, this.bufLen));
      this.buf = b = next;
    }
    return b;
  }

  copy(): StreamNode {
    const n = Object.create(StreamNode.prototype) as StreamNode;
    n.ms = this.ms;
    n.seq = this.seq;
    n.lastMs = this.lastMs;
    n.lastSeq = this.lastSeq;
    n.fields = this.fields;
    n._data = this.data;
    n.buf = null;
    n.bufLen = 0;
    n.live = this.live;
    n.deleted = this.deleted;
    n.lpBytes = this.lpBytes;
    return n;
  }

  get redisBytes(): number {
    return this.lpBytes + lpInt(this.live) + lpInt(this.deleted);
  }
}

// Decoded entry header, set by readHeader.
let hFlags = 0;
let hMs: U64 = 0;
let hSeq: U64 = 0;
let hBody = 0;
let hEnd = 0;

/** Reads the header of the entry at `pos` of `node`. */
function readHeader(node: StreamNode, pos: number): void {
  const d = node.data;
  rPos = pos;
  const len = readVarint(d);
  hEnd = rPos + len;
  hFlags = d.charCodeAt(rPos++);
  if (hFlags & F_RAW) {
    hMs = parseU64(readStr(d))!;
    hSeq = parseU64(readStr(d))!;
  } else {
    hMs = (node.ms as number) + readVarint(d);
    hSeq = readVarint(d);
  }
  hBody = rPos;
}

/** Field/value pairs of the entry whose header was just read. */
function readBody(node: StreamNode): string[] {
  const d = node.data;
  rPos = hBody;
  if (hFlags & F_SAME) {
    const f = node.fields;
    const out = new Array<string>(f.length * 2);
    for (let i = 0; i < f.length; i++) {
      out[2 * i] = f[i];
      out[2 * i + 1] = readStr(d);
    }
    return out;
  }
  const n = readVarint(d);
  const out = new Array<string>(n * 2);
  for (let i = 0; i < 2 * n; i++) out[i] = readStr(d);
  return out;
}

/** A stream entry: id and flat field/value pairs. */
export type StreamEntry = [id: string, fields: string[]];

// ---------------------------------------------------------------------------
// Consumer groups.

/** A pending entry: delivered to a consumer, not acknowledged yet. */
class Nack {
  constructor(
    public ms: U64,
    public seq: U64,
    public time: number,
    public count: number,
    public consumer: Consumer,
  ) {}
}

/** A sorted list of items by id, in chunks (O(log n) search, cheap
 * inserts and removals anywhere). */
class IdList<T extends StreamId> {
  chunks: T[][] = [];
  size = 0;
  static readonly MAX = 256;

  /** Chunk index and position of the first item >= id. */
  #seek(ms: U64, seq: U64): [number, number] {
    const cs = this.chunks;
    let lo = 0, hi = cs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const last = cs[mid][cs[mid].length - 1];
      if (cmp(last.ms, last.seq, ms, seq) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo === cs.length) return [lo, 0];
    const c = cs[lo];
    let a = 0, b = c.length;
    while (a < b) {
      const mid = (a + b) >> 1;
      if (cmp(c[mid].ms, c[mid].seq, ms, seq) < 0) a = mid + 1;
      else b = mid;
    }
    return [lo, a];
  }

  get(ms: U64, seq: U64): T | undefined {
    const [ci, i] = this.#seek(ms, seq);
    const t = this.chunks[ci]?.[i];
    return t !== undefined && t.ms === ms && t.seq === seq ? t : undefined;
  }

  insert(t: T): void {
    const cs = this.chunks;
    this.size++;
    const tail = cs[cs.length - 1];
    if (tail === undefined) {
      cs.push([t]);
      return;
    }
    const last = tail[tail.length - 1];
    let ci: number, i: number;
    if (cmp(last.ms, last.seq, t.ms, t.seq) < 0) {
      ci = cs.length - 1;
      i = tail.length;
    } else {
      [ci, i] = this.#seek(t.ms, t.seq);
      if (ci === cs.length) ci--, i = cs[ci].length;
    }
    const c = cs[ci];
    if (i === c.length) c.push(t);
    else c.splice(i, 0, t);
    if (c.length > IdList.MAX) cs.splice(ci + 1, 0, c.splice(c.length >> 1));
  }

  remove(ms: U64, seq: U64): T | undefined {
    const [ci, i] = this.#seek(ms, seq);
    const c = this.chunks[ci];
    const t = c?.[i];
    if (t === undefined || t.ms !== ms || t.seq !== seq) return undefined;
    if (i === 0) c.shift();
    else c.splice(i, 1);
    if (c.length === 0) this.chunks.splice(ci, 1);
    this.size--;
    return t;
  }

  first(): T | undefined {
    return this.chunks[0]?.[0];
  }

  last(): T | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c?.[c.length - 1];
  }

  /** Items from the first >= id on, in order. */
  *from(ms: U64 = 0, seq: U64 = 0): Generator<T> {
    let [ci, i] = this.#seek(ms, seq);
    // Items may be removed while iterating: re-seek when the chunk changed.
    while (ci < this.chunks.length) {
      const c = this.chunks[ci];
      if (i >= c.length) {
        ci++;
        i = 0;
        continue;
      }
      const t = c[i];
      yield t;
      if (this.chunks[ci] !== c || c[i] !== t) {
        [ci, i] = this.#seek(t.ms, t.seq);
        const again = this.chunks[ci]?.[i];
        if (again === t) i++;
      } else i++;
    }
  }
}

/** A consumer of a group. */
class Consumer {
  pel: IdList<Nack> = new IdList<Nack>();
  constructor(public name: string, public seenTime: number) {}
}

/** A consumer group: last delivered id, read counter, pending entries and
 * consumers. */
class ConsumerGroup {
  pel: IdList<Nack> = new IdList<Nack>();
  consumers: Map<string, Consumer> = new Map<string, Consumer>();
  constructor(
    public name: string,
    public lastId: StreamId,
    public entriesRead: number,
  ) {}

  clone(): ConsumerGroup {
    const g = new ConsumerGroup(this.name, this.lastId, this.entriesRead);
    const byName = new Map<Consumer, Consumer>();
    for (const [n, c] of this.consumers) {
      const copy = new Consumer(n, c.seenTime);
      byName.set(c, copy);
      g.consumers.set(n, copy);
    }
    for (const chunk of this.pel.chunks) {
      for (const nk of chunk) {
        const owner = byName.get(nk.consumer)!;
        const copy = new Nack(nk.ms, nk.seq, nk.time, nk.count, owner);
        g.pel.insert(copy);
        owner.pel.insert(copy);
      }
    }
    return g;
  }
}

const INVALID_READ = -1;

// ---------------------------------------------------------------------------
// The stream.

/**
 * A stream: entries ordered by id in packed nodes, the last generated id,
 * counters, and consumer groups.
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * store.streams.xadd("events", ["type", "click"], { id: "1-1" });
 * console.log(store.streams.xlen("events")); // 1
 * ```
 */
export class Stream implements Container {
  /** Always `stream`. */
  readonly type = "stream" as const;
  /** @internal Nodes in id order. */
  nodes: StreamNode[] = [];
  /** Number of entries. */
  length = 0;
  /** Last id generated or set. */
  lastId: StreamId = ZERO;
  /** First entry's id (0-0 when empty). */
  firstId: StreamId = ZERO;
  /** Largest id deleted by XDEL. */
  maxDeletedId: StreamId = ZERO;
  /** Entries ever added. */
  entriesAdded = 0;
  /** @internal Consumer groups by name. */
  groups: Map<string, ConsumerGroup> | null = null;

  /** Number of entries. */
  get size(): number {
    return this.length;
  }

  /** A copy sharing nothing mutable. */
  clone(): Stream {
    const s = new Stream();
    s.nodes = this.nodes.map((n) => n.copy());
    s.length = this.length;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    if (this.groups !== null) {
      s.groups = new Map();
      for (const [n, g] of this.groups) s.groups.set(n, g.clone());
    }
    return s;
  }

  /** Always `stream`. */
  encoding(_limits: EncodingLimits): string {
    return "stream";
  }

  /** @internal Appends an entry with a given id (already checked to be greater than
   * the last id). */
  append(
    ms: U64,
    seq: U64,
    pairs: readonly string[],
    limits: EncodingLimits,
  ): void {
    let node: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    const nf = pairs.length / 2;
    let totel = 0;
    for (let i = 0; i < pairs.length; i++) totel += pairs[i].length;
    if (node !== undefined) {
      let maxBytes = limits.streamNodeMaxBytes;
      if (maxBytes <= 0 || maxBytes > 1 << 30) maxBytes = 1 << 30;
      if (
        node.redisBytes + totel >= maxBytes ||
        (limits.streamNodeMaxEntries > 0 &&
          node.live + node.deleted >= limits.streamNodeMaxEntries)
      ) {
        void node.data; // one flat string from now on
        node = undefined;
      }
    }
    let same = false;
    if (node === undefined) {
      const fields = new Array<string>(nf);
      for (let i = 0; i < nf; i++) fields[i] = pairs[2 * i];
      node = new StreamNode(ms, seq, fields);
      this.nodes.push(node);
      same = true;
    } else if (node.fields.length === nf) {
      same = true;
      for (let i = 0; i < nf; i++) {
        if (node.fields[i] !== pairs[2 * i]) {
          same = false;
          break;
        }
      }
    }
    // Redis's listpack bytes of the entry.
    let lp = lpInt(same ? 2 : 0) + lpDelta(ms, node.ms) +
      lpDelta(seq, node.seq);
    if (!same) lp += lpInt(nf);
    for (let i = 0; i < pairs.length; i++) {
      if (same && (i & 1) === 0) continue;
      lp += lpStr(pairs[i]);
    }
    lp += lpInt(same ? nf + 3 : 2 * nf + 4);
    node.lpBytes += lp;
    // Our packing, straight into the node's byte buffer.
    const compact = typeof ms === "number" && typeof node.ms === "number" &&
      typeof seq === "number";
    let msStr = "", seqStr = "";
    let len = 1;
    if (compact) {
      len += varintLen((ms as number) - (node.ms as number)) +
        varintLen(seq as number);
    } else {
      msStr = String(ms);
      seqStr = String(seq);
      len += varintLen(msStr.length) + msStr.length + varintLen(seqStr.length) +
        seqStr.length;
    }
    if (!same) len += varintLen(nf);
    for (let i = same ? 1 : 0; i < pairs.length; i += same ? 2 : 1) {
      len += varintLen(pairs[i].length) + pairs[i].length;
    }
    const buf = node.reserve(len + varintLen(len));
    let at = writeVarint(buf, node.bufLen, len);
    buf[at++] = (same ? F_SAME : 0) | (compact ? 0 : F_RAW);
    if (compact) {
      at = writeVarint(buf, at, (ms as number) - (node.ms as number));
      at = writeVarint(buf, at, seq as number);
    } else {
      at = writeBytes(buf, at, msStr);
      at = writeBytes(buf, at, seqStr);
    }
    if (!same) at = writeVarint(buf, at, nf);
    for (let i = same ? 1 : 0; i < pairs.length; i += same ? 2 : 1) {
      at = writeBytes(buf, at, pairs[i]);
    }
    node.bufLen = at;
    node.live++;
    node.lastMs = ms;
    node.lastSeq = seq;
    this.length++;
    this.entriesAdded++;
    const id = { ms, seq };
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  /** @internal Index of the node that may hold `id` (the last node whose master id
   * is <= id), or -1. */
  nodeIndex(ms: U64, seq: U64): number {
    const ns = this.nodes;
    let lo = 0, hi = ns.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cmp(ns[mid].ms, ns[mid].seq, ms, seq) <= 0) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** @internal Calls `visit(node, pos)` for live entries from `start` to `end`
   * (inclusive) in order, or reverse order; stops when it returns false. */
  scan(
    start: StreamId,
    end: StreamId,
    reverse: boolean,
    visit: (node: StreamNode, pos: number) => boolean,
  ): void {
    if (cmpId(start, end) > 0) return;
    const ns = this.nodes;
    if (!reverse) {
      let i = Math.max(0, this.nodeIndex(start.ms, start.seq));
      for (; i < ns.length; i++) {
        const node = ns[i];
        if (cmp(node.ms, node.seq, end.ms, end.seq) > 0) return;
        if (node.live === 0) continue;
        if (cmp(node.lastMs, node.lastSeq, start.ms, start.seq) < 0) continue;
        const d = node.data;
        for (let pos = 0; pos < d.length; pos = hEnd) {
          readHeader(node, pos);
          if (cmp(hMs, hSeq, start.ms, start.seq) < 0) continue;
          if (cmp(hMs, hSeq, end.ms, end.seq) > 0) return;
          if (hFlags & F_DELETED) continue;
          const next = hEnd;
          if (!visit(node, pos)) return;
          hEnd = next;
        }
      }
    } else {
      let i = this.nodeIndex(end.ms, end.seq);
      const positions: number[] = [];
      for (; i >= 0; i--) {
        const node = ns[i];
        if (cmp(node.lastMs, node.lastSeq, start.ms, start.seq) < 0) return;
        if (node.live === 0) continue;
        const d = node.data;
        positions.length = 0;
        for (let pos = 0; pos < d.length; pos = hEnd) {
          readHeader(node, pos);
          positions.push(pos);
        }
        for (let k = positions.length - 1; k >= 0; k--) {
          readHeader(node, positions[k]);
          if (cmp(hMs, hSeq, end.ms, end.seq) > 0) continue;
          if (cmp(hMs, hSeq, start.ms, start.seq) < 0) return;
          if (hFlags & F_DELETED) continue;
          if (!visit(node, positions[k])) return;
        }
      }
    }
  }

  /** @internal Live entries from `start` to `end`, at most `count` (0: all). */
  range(
    start: StreamId,
    end: StreamId,
    count: number,
    reverse = false,
  ): StreamEntry[] {
    const out: StreamEntry[] = [];
    this.scan(start, end, reverse, (node, pos) => {
      readHeader(node, pos);
      out.push([fmt(hMs, hSeq), readBody(node)]);
      return count === 0 || out.length < count;
    });
    return out;
  }

  /** @internal The entry with id `id`, if live. */
  get(id: StreamId): StreamEntry | undefined {
    const r = this.range(id, id, 1);
    return r[0];
  }

  /** @internal Whether a live entry has this id. */
  has(ms: U64, seq: U64): boolean {
    let found = false;
    const id = { ms, seq };
    this.scan(id, id, false, () => {
      found = true;
      return false;
    });
    return found;
  }

  /** @internal First (or last) live entry's id. */
  edge(first: boolean): StreamId | undefined {
    let id: StreamId | undefined;
    this.scan(ZERO, MAX_ID, !first, (node, pos) => {
      readHeader(node, pos);
      id = { ms: hMs, seq: hSeq };
      return false;
    });
    return id;
  }

  /** Marks the entry at `pos` of node `ni` deleted; removes the node when
   * it has no live entry left. */
  #markDeleted(ni: number, pos: number, dropEmpty: boolean): void {
    const node = this.nodes[ni];
    rPos = pos;
    readVarint(node.data);
    const at = rPos;
    const d = node.data;
    node.data = d.slice(0, at) +
      String.fromCharCode(d.charCodeAt(at) | F_DELETED) + d.slice(at + 1);
    node.live--;
    node.deleted++;
    this.length--;
    if (node.live === 0 && dropEmpty) this.nodes.splice(ni, 1);
  }

  /** @internal Deletes one entry (XDEL); true when it was there. */
  delete(ms: U64, seq: U64): boolean {
    const ni = this.nodeIndex(ms, seq);
    if (ni < 0) return false;
    const node = this.nodes[ni];
    const d = node.data;
    for (let pos = 0; pos < d.length; pos = hEnd) {
      readHeader(node, pos);
      const c = cmp(hMs, hSeq, ms, seq);
      if (c > 0) return false;
      if (c === 0) {
        if (hFlags & F_DELETED) return false;
        this.#markDeleted(ni, pos, true);
        return true;
      }
    }
    return false;
  }

  /** @internal Trims as XTRIM / XADD do; the number of entries removed. */
  trim(
    strategy: "maxlen" | "minid",
    maxlen: number,
    minid: StreamId,
    approx: boolean,
    limit: number,
  ): number {
    let deleted = 0;
    const ni = 0;
    while (ni < this.nodes.length) {
      if (strategy === "maxlen" && this.length <= maxlen) break;
      const node = this.nodes[ni];
      const entries = node.live;
      if (limit && deleted + entries > limit) break;
      const remove = strategy === "maxlen"
        ? this.length - entries >= maxlen
        : cmp(node.lastMs, node.lastSeq, minid.ms, minid.seq) < 0;
      if (remove) {
        this.nodes.splice(ni, 1);
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      const d = node.data;
      for (let pos = 0; pos < d.length; pos = hEnd) {
        readHeader(node, pos);
        const stop = strategy === "maxlen"
          ? this.length <= maxlen
          : cmp(hMs, hSeq, minid.ms, minid.seq) >= 0;
        if (stop) break;
        if (!(hFlags & F_DELETED)) {
          const next = hEnd;
          const before = node.data.length;
          this.#markDeleted(ni, pos, false);
          hEnd = next + node.data.length - before;
          deleted++;
        }
      }
      break;
    }
    this.firstId = this.length === 0 ? ZERO : this.edge(true)!;
    return deleted;
  }

  /** @internal The group, if any. */
  group(name: string): ConsumerGroup | undefined {
    return this.groups?.get(name);
  }

  /** @internal Whether a tombstone lies in [start, +inf). */
  hasTombstonesFrom(start: StreamId): boolean {
    const md = this.maxDeletedId;
    if (this.length === 0 || (md.ms === 0 && md.seq === 0)) return false;
    if (cmpId(this.firstId, md) > 0) return false;
    return cmpId(start, md) <= 0;
  }

  /** @internal The logical read counter of `id`, or -1 when it can't be known. */
  estimateDistance(id: StreamId): number {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && cmpId(id, this.lastId) < 1) {
      return this.entriesAdded;
    }
    const cl = cmpId(id, this.lastId);
    if (cl === 0) return this.entriesAdded;
    if (cl > 0) return INVALID_READ;
    const md = this.maxDeletedId;
    const cf = cmpId(id, this.firstId);
    if ((md.ms === 0 && md.seq === 0) || cmpId(md, this.firstId) < 0) {
      if (cf < 0) return this.entriesAdded - this.length;
      if (cf === 0) return this.entriesAdded - this.length + 1;
    }
    return INVALID_READ;
  }

  /** @internal A group's lag, or null when unknown. */
  lag(g: ConsumerGroup): number | null {
    if (this.entriesAdded === 0) return 0;
    if (g.entriesRead !== INVALID_READ && !this.hasTombstonesFrom(g.lastId)) {
      return this.entriesAdded - g.entriesRead;
    }
    const r = this.estimateDistance(g.lastId);
    return r === INVALID_READ ? null : this.entriesAdded - r;
  }

  /** The commands that rebuild this stream at `key`. */
  *rewrite(key: string, _batch: number): Iterable<string[]> {
    if (this.length === 0) {
      // An empty stream: add an entry and trim it away, as Redis does
      // (XSETID below puts the counters right).
      yield ["XADD", key, "MAXLEN", "0", "0-1", "x", "y"];
    } else {
      for (const node of this.nodes) {
        if (node.live === 0) continue;
        const d = node.data;
        for (let pos = 0; pos < d.length; pos = hEnd) {
          readHeader(node, pos);
          if (hFlags & F_DELETED) continue;
          const next = hEnd;
          const id = fmt(hMs, hSeq);
          yield ["XADD", key, id, ...readBody(node)];
          hEnd = next;
        }
      }
    }
    yield [
      "XSETID",
      key,
      formatId(maxId(this.lastId, this.maxDeletedId)),
      "ENTRIESADDED",
      String(this.entriesAdded),
      "MAXDELETEDID",
      formatId(this.maxDeletedId),
    ];
    // XSETID can move the last id below the largest deleted one (as Redis
    // 7.0 allows): set it in a second step.
    if (cmpId(this.maxDeletedId, this.lastId) > 0) {
      yield ["XSETID", key, formatId(this.lastId)];
    }
    if (this.groups === null) return;
    for (const g of this.groups.values()) {
      yield [
        "XGROUP",
        "CREATE",
        key,
        g.name,
        formatId(g.lastId),
        "ENTRIESREAD",
        String(g.entriesRead),
      ];
      for (const c of g.consumers.values()) {
        yield ["XGROUP", "CREATECONSUMER", key, g.name, c.name];
      }
      for (const chunk of g.pel.chunks) {
        for (const nk of chunk) {
          yield [
            "XCLAIM",
            key,
            g.name,
            nk.consumer.name,
            "0",
            fmt(nk.ms, nk.seq),
            "TIME",
            String(nk.time),
            "RETRYCOUNT",
            String(nk.count),
            "JUSTID",
            "FORCE",
          ];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Operations.

/** Trimming options of XADD and XTRIM. */
export interface StreamTrimOptions {
  /** Trim by length or by minimum id. */
  strategy: "maxlen" | "minid";
  /** Maximum length (maxlen) or minimum id (minid). */
  threshold: number | string | StreamId;
  /** `~`: remove whole nodes only. */
  approx?: boolean;
  /** LIMIT (only with `approx`); default 100 × stream-node-max-entries. */
  limit?: number;
}

/** Options of {@linkcode StreamOps.xadd}. */
export interface XAddOptions {
  /** Entry id: `*` (default), `ms-*`, or `ms-seq`. */
  id?: string | ParsedId;
  /** Do not create the stream when missing. */
  nomkstream?: boolean;
  /** Trim after adding. */
  trim?: StreamTrimOptions;
}

/** Options of {@linkcode StreamOps.xreadgroup}. */
export interface XReadGroupOptions {
  /** At most this many entries per stream (0: all). */
  count?: number;
  /** Do not add the entries to the pending list. */
  noack?: boolean;
  /** Receives the commands that replay the read (for the append-only log). */
  propagate?: string[][];
}

/** A pending entry as XPENDING's extended form reports it. */
export interface PendingEntry {
  /** Entry id. */
  id: string;
  /** Owner. */
  consumer: string;
  /** Milliseconds since the last delivery. */
  idle: number;
  /** Deliveries so far. */
  deliveries: number;
}

/** XPENDING's summary form. */
export interface PendingSummary {
  /** Pending entries in the group. */
  count: number;
  /** Smallest pending id, or null. */
  min: string | null;
  /** Largest pending id, or null. */
  max: string | null;
  /** Consumers with pending entries, and how many each. */
  consumers: [name: string, count: number][];
}

/** Options of {@linkcode StreamOps.xclaim}. */
export interface XClaimOptions {
  /** IDLE: set the idle time (ms). */
  idle?: number;
  /** TIME: set the delivery time (ms since the epoch). */
  time?: number;
  /** RETRYCOUNT: set the delivery count. */
  retryCount?: number;
  /** FORCE: create pending entries for ids not pending. */
  force?: boolean;
  /** JUSTID: return ids only, do not count a delivery. */
  justId?: boolean;
  /** LASTID: move the group's last id forward to this one. */
  lastId?: string | StreamId;
  /** Receives the commands that replay the claim. */
  propagate?: string[][];
}

/** Result of {@linkcode StreamOps.xautoclaim}. */
export interface XAutoClaimResult {
  /** Where to continue (0-0 when done). */
  next: string;
  /** Claimed entries (or ids with JUSTID). */
  claimed: (StreamEntry | string)[];
  /** Ids that were pending but deleted from the stream. */
  deleted: string[];
}

/** One group as XINFO GROUPS reports it. */
export interface StreamGroupInfo {
  /** Group name. */
  name: string;
  /** Number of consumers. */
  consumers: number;
  /** Pending entries. */
  pending: number;
  /** Last delivered id. */
  lastDeliveredId: string;
  /** Entries read counter, or null when unknown. */
  entriesRead: number | null;
  /** Entries not delivered yet, or null when unknown. */
  lag: number | null;
}

/** One consumer as XINFO CONSUMERS reports it. */
export interface StreamConsumerInfo {
  /** Consumer name. */
  name: string;
  /** Pending entries. */
  pending: number;
  /** Milliseconds since last seen. */
  idle: number;
}

/** XINFO STREAM's summary. */
export interface StreamInfo {
  /** Entries. */
  length: number;
  /** Nodes. */
  radixTreeKeys: number;
  /** Radix tree nodes (an estimate). */
  radixTreeNodes: number;
  /** Last generated id. */
  lastGeneratedId: string;
  /** Largest deleted id. */
  maxDeletedEntryId: string;
  /** Entries ever added. */
  entriesAdded: number;
  /** First entry id recorded. */
  recordedFirstEntryId: string;
  /** Groups. */
  groups: number;
  /** First entry, or null. */
  firstEntry: StreamEntry | null;
  /** Last entry, or null. */
  lastEntry: StreamEntry | null;
}

/** XINFO STREAM FULL's report. */
export interface StreamFullInfo {
  /** Entries. */
  length: number;
  /** Nodes. */
  radixTreeKeys: number;
  /** Radix tree nodes (an estimate). */
  radixTreeNodes: number;
  /** Last generated id. */
  lastGeneratedId: string;
  /** Largest deleted id. */
  maxDeletedEntryId: string;
  /** Entries ever added. */
  entriesAdded: number;
  /** First entry id recorded. */
  recordedFirstEntryId: string;
  /** Entries (up to COUNT). */
  entries: StreamEntry[];
  /** Groups with their pending entries and consumers. */
  groups: {
    name: string;
    lastDeliveredId: string;
    entriesRead: number | null;
    lag: number | null;
    pelCount: number;
    pending: [id: string, consumer: string, time: number, count: number][];
    consumers: {
      name: string;
      seenTime: number;
      pelCount: number;
      pending: [id: string, time: number, count: number][];
    }[];
  }[];
}

function sortedNames<T>(m: Map<string, T>): string[] {
  return [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function radixNodes(keys: number): number {
  // Not Redis's exact tree: an estimate of the same order.
  return keys === 0 ? 1 : keys + 1 + Math.floor(keys / 2);
}

/** Streams, on a {@linkcode Store}: the typed operations behind the commands,
 * for the server and for embedded use (`store.streams`).
 *
 * @example
 * ```ts
 * import { Store } from "@kv/store";
 * const store = new Store();
 * const id = store.streams.xadd("s", ["temp", "21"]);
 * console.log(store.streams.xrange("s", "-", "+")); // [[id, ["temp", "21"]]]
 * ```
 */
export class StreamOps {
  readonly #store: Store;
  /** Operations on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }
  /** The store operated on. */
  get store(): Store {
    return this.#store;
  }

  #read(key: string): Stream | undefined {
    return this.#store.readAs<Stream>(key, "stream");
  }

  #lookup(key: string): Stream | undefined {
    return this.#store.lookupAs<Stream>(key, "stream");
  }

  #writable(key: string): Stream | undefined {
    return this.#store.writable<Stream>(key, "stream");
  }

  /** Whether `key` holds a stream with the group `group` (throws
   * WRONGTYPE when it holds another type). */
  hasGroup(key: string, group: string): boolean {
    return this.#read(key)?.group(group) !== undefined;
  }

  /** XADD: appends an entry (flat field/value pairs); its id, or
   * undefined with `nomkstream` on a missing key. */
  xadd(
    key: string,
    pairs: readonly string[],
    options: XAddOptions = {},
  ): string | undefined {
    if (pairs.length === 0 || pairs.length % 2 !== 0) {
      fail("ERR wrong number of arguments for 'xadd' command");
    }
    const given = options.id === undefined || options.id === "*"
      ? undefined
      : typeof options.id === "string"
      ? parseStreamId(options.id, 0, false, true)
      : options.id;
    if (
      given !== undefined && given.seqGiven && given.ms === 0 &&
      given.seq === 0
    ) fail(STREAM_ERRORS.zeroId);
    const trim = this.#trimArgs(options.trim);
    let s = this.#writable(key);
    if (s === undefined) {
      if (options.nomkstream) return undefined;
      s = new Stream();
      this.#store.set(key, s);
    }
    const last = s.lastId;
    if (isMax(last.ms) && isMax(last.seq)) fail(STREAM_ERRORS.exhausted);
    let id: StreamId;
    if (given === undefined) {
      const now = this.#store.clock();
      if (now > last.ms) id = { ms: now, seq: 0 };
      else id = incrId(last)!;
    } else if (!given.seqGiven) {
      if (last.ms === given.ms) {
        if (isMax(last.seq)) fail(STREAM_ERRORS.tooLarge);
        id = { ms: last.ms, seq: inc(last.seq) };
      } else id = { ms: given.ms, seq: 0 };
    } else id = { ms: given.ms, seq: given.seq };
    if (cmpId(id, last) <= 0) fail(STREAM_ERRORS.smallerId);
    s.append(id.ms, id.seq, pairs, this.#store.limits);
    this.#store.dirty++;
    if (trim !== undefined) this.#trim(s, trim);
    this.#store.written(key, s);
    return formatId(id);
  }

  #trimArgs(
    t: StreamTrimOptions | undefined,
  ): [string, number, StreamId, boolean, number] | undefined {
    if (t === undefined) return undefined;
    let maxlen = 0;
    let minid: StreamId = ZERO;
    if (t.strategy === "maxlen") {
      maxlen = Number(t.threshold);
      if (!Number.isInteger(maxlen)) {
        fail("ERR value is not an integer or out of range");
      }
      if (maxlen < 0) fail("ERR The MAXLEN argument must be >= 0.");
    } else {
      minid = typeof t.threshold === "object"
        ? t.threshold
        : parseStreamId(String(t.threshold));
    }
    let limit = t.limit;
    if (limit !== undefined) {
      if (limit < 0) fail("ERR The LIMIT argument must be >= 0.");
      if (!t.approx) {
        fail(
          "ERR syntax error, LIMIT cannot be used without the special ~ option",
        );
      }
    } else if (t.approx) {
      limit = 100 * this.#store.limits.streamNodeMaxEntries;
      if (limit <= 0 || limit > 10000) limit = 10000;
    } else limit = 0;
    return [t.strategy, maxlen, minid, !!t.approx, limit];
  }

  #trim(
    s: Stream,
    [strategy, maxlen, minid, approx, limit]: [
      string,
      number,
      StreamId,
      boolean,
      number,
    ],
  ): number {
    const n = s.trim(strategy as "maxlen", maxlen, minid, approx, limit);
    if (n > 0) this.#store.dirty++;
    return n;
  }

  /** XTRIM: how many entries were removed. */
  xtrim(key: string, options: StreamTrimOptions): number {
    const t = this.#trimArgs(options)!;
    const s = this.#writable(key);
    if (s === undefined) return 0;
    const n = this.#trim(s, t);
    this.#store.written(key, s);
    return n;
  }

  /** XLEN. */
  xlen(key: string): number {
    return this.#read(key)?.length ?? 0;
  }

  /** XRANGE (or XREVRANGE with `reverse`; bounds still lowest first):
   * entries from `start` to `end` (`-`, `+`, ids, `(` exclusive), at most
   * `count`. Null when `count` is 0 or less on an existing stream. */
  xrange(
    key: string,
    start: string,
    end: string,
    count?: number,
    reverse = false,
  ): StreamEntry[] | null {
    const sb = parseStreamBound(start, 0);
    let from = sb.id;
    if (sb.exclusive) {
      const n = incrId(from);
      if (n === null) fail("ERR invalid start ID for the interval");
      from = n;
    }
    const eb = parseStreamBound(end, U64_MAX);
    let to = eb.id;
    if (eb.exclusive) {
      const n = decrId(to);
      if (n === null) fail("ERR invalid end ID for the interval");
      to = n;
    }
    const s = this.#read(key);
    if (s === undefined) return [];
    if (count !== undefined && count <= 0) return null;
    return s.range(from, to, count ?? 0, reverse);
  }

  /** XREVRANGE: entries from `end` down to `start`. */
  xrevrange(
    key: string,
    end: string,
    start: string,
    count?: number,
  ): StreamEntry[] | null {
    return this.xrange(key, start, end, count, true);
  }

  /** XDEL: how many of the ids were deleted. */
  xdel(key: string, ids: readonly (string | StreamId)[]): number {
    const s = this.#writable(key);
    if (s === undefined) return 0;
    const parsed = ids.map((i) =>
      typeof i === "string" ? parseStreamId(i, 0, true) : i
    );
    let deleted = 0;
    let first = false;
    for (const id of parsed) {
      if (s.delete(id.ms, id.seq)) {
        if (cmpId(id, s.firstId) === 0) first = true;
        if (cmpId(id, s.maxDeletedId) > 0) {
          s.maxDeletedId = { ms: id.ms, seq: id.seq };
        }
        deleted++;
      }
    }
    if (deleted) {
      if (s.length === 0) s.firstId = ZERO;
      else if (first) s.firstId = s.edge(true)!;
      this.#store.dirty += deleted;
    }
    this.#store.written(key, s);
    return deleted;
  }

  /** XREAD: for each key with entries after its id (`$`: the last id),
   * the key and its entries; null when there are none. */
  xread(
    keys: readonly string[],
    ids: readonly string[],
    count = 0,
  ): [key: string, entries: StreamEntry[]][] | null {
    const parsed: StreamId[] = [];
    for (let i = 0; i < keys.length; i++) {
      const s = this.#read(keys[i]);
      const id = ids[i];
      if (id === "$") parsed.push(s?.lastId ?? ZERO);
      else if (id === ">") {
        fail(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.",
        );
      } else parsed.push(parseStreamId(id, 0, true));
    }
    const out: [string, StreamEntry[]][] = [];
    for (let i = 0; i < keys.length; i++) {
      const s = this.#lookup(keys[i]);
      if (s === undefined) continue;
      const gt = parsed[i];
      if (s.length && cmpId(s.edge(false)!, gt) > 0) {
        const start = incrId(gt)!;
        out.push([keys[i], s.range(start, MAX_ID, count > 0 ? count : 0)]);
      }
    }
    return out.length ? out : null;
  }

  /**
   * XREADGROUP: as consumer `consumer` of `group`, reads new entries
   * (`>`) or the consumer's pending history (any other id) of each key.
   * Null when nothing could be served. Deleted pending entries come back
   * as `[id, null]`.
   */
  xreadgroup(
    group: string,
    consumer: string,
    keys: readonly string[],
    ids: readonly string[],
    options: XReadGroupOptions = {},
  ): [key: string, entries: [string, string[] | null][]][] | null {
    const count = options.count !== undefined && options.count > 0
      ? options.count
      : 0;
    const streams: Stream[] = [];
    const groups: ConsumerGroup[] = [];
    const starts: (StreamId | null)[] = [];
    for (let i = 0; i < keys.length; i++) {
      const s = this.#writable(keys[i]);
      const g = s?.group(group);
      if (s === undefined || g === undefined) {
        throw new StoreError(
          `NOGROUP No such key '${
            keys[i]
          }' or consumer group '${group}' in XREADGROUP with GROUP option`,
        );
      }
      streams.push(s);
      groups.push(g);
      const id = ids[i];
      if (id === "$") {
        fail(
          "ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.",
        );
      }
      starts.push(id === ">" ? null : parseStreamId(id, 0, true));
    }
    const now = this.#store.clock();
    const out: [string, [string, string[] | null][]][] = [];
    for (let i = 0; i < keys.length; i++) {
      const s = streams[i], g = groups[i], start = starts[i];
      let c = g.consumers.get(consumer);
      if (start === null) {
        if (!(s.length && cmpId(s.edge(false)!, g.lastId) > 0)) continue;
      }
      if (c === undefined) {
        c = new Consumer(consumer, now);
        g.consumers.set(consumer, c);
        options.propagate?.push(
          ["XGROUP", "CREATECONSUMER", keys[i], group, consumer],
        );
      } else c.seenTime = now;
      const entries: [string, string[] | null][] = [];
      if (start !== null) {
        // History: the consumer's pending entries from start on.
        for (const nk of c.pel.from(start.ms, start.seq)) {
          if (count && entries.length >= count) break;
          const e = s.get(nk);
          const id = fmt(nk.ms, nk.seq);
          if (e === undefined) {
            entries.push([id, null]);
            continue;
          }
          nk.time = now;
          nk.count++;
          entries.push(e);
          options.propagate?.push(claimArgv(keys[i], g, nk));
        }
      } else {
        const from = incrId(g.lastId)!;
        let lastSeen: StreamId | undefined;
        s.scan(from, MAX_ID, false, (node, pos) => {
          readHeader(node, pos);
          const id = { ms: hMs, seq: hSeq };
          const fields = readBody(node);
          lastSeen = id;
          entries.push([fmt(id.ms, id.seq), fields]);
          if (cmpId(id, g.lastId) > 0) {
            if (
              g.entriesRead !== INVALID_READ && !s.hasTombstonesFrom(id)
            ) g.entriesRead++;
            else if (s.entriesAdded) {
              g.entriesRead = s.estimateDistance(id);
            }
            g.lastId = id;
          }
          if (!options.noack) {
            let nk = g.pel.get(id.ms, id.seq);
            if (nk !== undefined) {
              nk.consumer.pel.remove(id.ms, id.seq);
              nk.consumer = c!;
              nk.time = now;
              nk.count = 1;
            } else {
              nk = new Nack(id.ms, id.seq, now, 1, c!);
              g.pel.insert(nk);
            }
            c!.pel.insert(nk);
            options.propagate?.push(claimArgv(keys[i], g, nk));
          }
          return count === 0 || entries.length < count;
        });
        if (lastSeen !== undefined) {
          options.propagate?.push([
            "XGROUP",
            "SETID",
            keys[i],
            g.name,
            formatId(g.lastId),
            "ENTRIESREAD",
            String(g.entriesRead),
          ]);
        }
      }
      this.#store.dirty++;
      out.push([keys[i], entries]);
    }
    return out.length ? out : null;
  }

  /** XACK: how many of the ids were pending and are acknowledged now. */
  xack(key: string, group: string, ids: readonly string[]): number {
    const s = this.#writable(key);
    const g = s?.group(group);
    if (g === undefined) return 0;
    const parsed = ids.map((i) => parseStreamId(i, 0, true));
    let n = 0;
    for (const id of parsed) {
      const nk = g.pel.remove(id.ms, id.seq);
      if (nk === undefined) continue;
      nk.consumer.pel.remove(id.ms, id.seq);
      n++;
    }
    this.#store.dirty += n;
    return n;
  }

  #group(key: string, group: string, read = true): [Stream, ConsumerGroup] {
    const s = read ? this.#read(key) : this.#writable(key);
    const g = s?.group(group);
    if (s === undefined || g === undefined) {
      throw new StoreError(
        `NOGROUP No such key '${key}' or consumer group '${group}'`,
      );
    }
    return [s, g];
  }

  /** XPENDING's summary form. */
  xpending(key: string, group: string): PendingSummary {
    const [, g] = this.#group(key, group);
    const first = g.pel.first(), last = g.pel.last();
    const consumers: [string, number][] = [];
    for (const name of sortedNames(g.consumers)) {
      const c = g.consumers.get(name)!;
      if (c.pel.size) consumers.push([name, c.pel.size]);
    }
    return {
      count: g.pel.size,
      min: first ? fmt(first.ms, first.seq) : null,
      max: last ? fmt(last.ms, last.seq) : null,
      consumers,
    };
  }

  /** XPENDING's extended form: pending entries from `start` to `end`
   * (`(` exclusive allowed), at most `count`, idle at least `minIdle`,
   * of `consumer` only when given. */
  xpendingRange(
    key: string,
    group: string,
    start: string,
    end: string,
    count: number,
    options: { idle?: number; consumer?: string } = {},
  ): PendingEntry[] {
    const sb = parseStreamBound(start, 0);
    let from = sb.id;
    if (sb.exclusive) {
      const n = incrId(from);
      if (n === null) fail("ERR invalid start ID for the interval");
      from = n;
    }
    const eb = parseStreamBound(end, U64_MAX);
    let to = eb.id;
    if (eb.exclusive) {
      const n = decrId(to);
      if (n === null) fail("ERR invalid end ID for the interval");
      to = n;
    }
    const [, g] = this.#group(key, group);
    const out: PendingEntry[] = [];
    let pel = g.pel;
    if (options.consumer !== undefined) {
      const c = g.consumers.get(options.consumer);
      if (c === undefined) return out;
      pel = c.pel;
    }
    if (count <= 0) return out;
    const now = this.#store.clock();
    for (const nk of pel.from(from.ms, from.seq)) {
      if (cmp(nk.ms, nk.seq, to.ms, to.seq) > 0) break;
      const idle = Math.max(0, now - nk.time);
      if (options.idle !== undefined && idle < options.idle) continue;
      out.push({
        id: fmt(nk.ms, nk.seq),
        consumer: nk.consumer.name,
        idle,
        deliveries: nk.count,
      });
      if (out.length >= count) break;
    }
    return out;
  }

  /** XCLAIM: moves pending entries idle at least `minIdle` ms to
   * `consumer`; the entries claimed (ids with JUSTID). */
  xclaim(
    key: string,
    group: string,
    consumer: string,
    minIdle: number,
    ids: readonly string[],
    options: XClaimOptions = {},
  ): (StreamEntry | string)[] {
    const [s, g] = this.#group(key, group, false);
    const parsed = ids.map((i) => parseStreamId(i, 0, true));
    const now = this.#store.clock();
    let deliveryTime = options.time ??
      (options.idle !== undefined ? now - options.idle : now);
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
    if (minIdle < 0) minIdle = 0;
    const lastId = options.lastId === undefined
      ? undefined
      : toId(options.lastId);
    if (lastId !== undefined && cmpId(lastId, g.lastId) > 0) {
      g.lastId = lastId;
    }
    let c: Consumer | undefined;
    const out: (StreamEntry | string)[] = [];
    for (const id of parsed) {
      let nk = g.pel.get(id.ms, id.seq);
      const exists = s.has(id.ms, id.seq);
      if (options.force && exists && nk === undefined) {
        c ??= this.#consumer(g, consumer, now, key, options.propagate);
        // A new pending entry counts one delivery, as Redis's
        // streamCreateNACK (then one more unless JUSTID).
        nk = new Nack(id.ms, id.seq, 0, 1, c);
        g.pel.insert(nk);
        c.pel.insert(nk);
      }
      if (nk === undefined) continue;
      if (!exists) {
        // The entry is gone: drop it from the pending lists.
        g.pel.remove(id.ms, id.seq);
        nk.consumer.pel.remove(id.ms, id.seq);
        options.propagate?.push(["XACK", key, g.name, fmt(id.ms, id.seq)]);
        this.#store.dirty++;
        continue;
      }
      if (minIdle > 0 && now - nk.time < minIdle) continue;
      c ??= this.#consumer(g, consumer, now, key, options.propagate);
      if (nk.consumer !== c) {
        nk.consumer.pel.remove(id.ms, id.seq);
        nk.consumer = c;
        c.pel.insert(nk);
      }
      nk.time = deliveryTime;
      if (options.retryCount !== undefined) nk.count = options.retryCount;
      else if (!options.justId) nk.count++;
      out.push(options.justId ? fmt(id.ms, id.seq) : s.get(id)!);
      this.#store.dirty++;
      options.propagate?.push(claimArgv(key, g, nk));
    }
    if (lastId !== undefined) this.#store.dirty++;
    return out;
  }

  #consumer(
    g: ConsumerGroup,
    name: string,
    now: number,
    key: string,
    propagate?: string[][],
  ): Consumer {
    let c = g.consumers.get(name);
    if (c === undefined) {
      c = new Consumer(name, now);
      g.consumers.set(name, c);
      propagate?.push(["XGROUP", "CREATECONSUMER", key, g.name, name]);
    }
    c.seenTime = now;
    return c;
  }

  /** XAUTOCLAIM: claims up to `count` pending entries idle at least
   * `minIdle` ms from `start` on. */
  xautoclaim(
    key: string,
    group: string,
    consumer: string,
    minIdle: number,
    start: string | StreamId,
    options: { count?: number; justId?: boolean; propagate?: string[][] } = {},
  ): XAutoClaimResult {
    const from = typeof start === "string"
      ? parseStreamBound(start, 0)
      : { id: start, exclusive: false };
    let begin = from.id;
    if (from.exclusive) {
      const n = incrId(begin);
      if (n === null) fail("ERR invalid start ID for the interval");
      begin = n;
    }
    const count = options.count ?? 100;
    const [s, g] = this.#group(key, group, false);
    const now = this.#store.clock();
    if (minIdle < 0) minIdle = 0;
    let c: Consumer | undefined;
    let left = count;
    const claimed: (StreamEntry | string)[] = [];
    const deleted: string[] = [];
    let attempts = count * 10;
    let next: StreamId = ZERO;
    const it = g.pel.from(begin.ms, begin.seq);
    let r = it.next();
    let more = false;
    while (attempts-- > 0 && left > 0 && !r.done) {
      const nk = r.value;
      const id = { ms: nk.ms, seq: nk.seq };
      const e = s.get(id);
      if (e === undefined) {
        g.pel.remove(id.ms, id.seq);
        nk.consumer.pel.remove(id.ms, id.seq);
        deleted.push(fmt(id.ms, id.seq));
        options.propagate?.push(["XACK", key, g.name, fmt(id.ms, id.seq)]);
        this.#store.dirty++;
        left--;
        r = it.next();
        continue;
      }
      if (minIdle > 0 && now - nk.time < minIdle) {
        r = it.next();
        continue;
      }
      c ??= this.#consumer(g, consumer, now, key, options.propagate);
      if (nk.consumer !== c) {
        nk.consumer.pel.remove(id.ms, id.seq);
        nk.consumer = c;
        c.pel.insert(nk);
      }
      nk.time = now;
      left--;
      if (!options.justId) nk.count++;
      claimed.push(options.justId ? e[0] : e);
      this.#store.dirty++;
      options.propagate?.push(claimArgv(key, g, nk));
      r = it.next();
    }
    if (!r.done) {
      next = r.value;
      more = true;
    }
    return {
      next: more ? fmt(next.ms, next.seq) : "0-0",
      claimed,
      deleted,
    };
  }

  /** XGROUP CREATE: false when the group exists already. `id` may be `$`.
   * Throws when the key is missing and `mkstream` is not set. */
  xgroupCreate(
    key: string,
    group: string,
    id: string | StreamId,
    options: { mkstream?: boolean; entriesRead?: number } = {},
  ): boolean {
    const entriesRead = options.entriesRead ?? INVALID_READ;
    if (entriesRead < 0 && entriesRead !== INVALID_READ) {
      fail("ERR value for ENTRIESREAD must be positive or -1");
    }
    let s = this.#writable(key);
    if (s === undefined && !options.mkstream) fail(STREAM_ERRORS.noKeyGroup);
    const start = id === "$"
      ? (s?.lastId ?? ZERO)
      : typeof id === "string"
      ? parseStreamId(id, 0, true)
      : id;
    if (s === undefined) {
      s = new Stream();
      this.#store.set(key, s);
    }
    s.groups ??= new Map();
    if (s.groups.has(group)) return false;
    s.groups.set(
      group,
      new ConsumerGroup(group, { ms: start.ms, seq: start.seq }, entriesRead),
    );
    this.#store.dirty++;
    return true;
  }

  #existingGroup(key: string, group: string): [Stream, ConsumerGroup] {
    const s = this.#writable(key);
    if (s === undefined) fail(STREAM_ERRORS.noKeyGroup);
    const g = s.group(group);
    if (g === undefined) {
      throw new StoreError(
        `NOGROUP No such consumer group '${group}' for key name '${key}'`,
      );
    }
    return [s, g];
  }

  /** XGROUP SETID: sets the group's last delivered id (`$`: the stream's
   * last id) and optionally its read counter. */
  xgroupSetId(
    key: string,
    group: string,
    id: string | StreamId,
    entriesRead?: number,
  ): void {
    if (
      entriesRead !== undefined && entriesRead < 0 &&
      entriesRead !== INVALID_READ
    ) fail("ERR value for ENTRIESREAD must be positive or -1");
    const [s, g] = this.#existingGroup(key, group);
    const to = id === "$" ? s.lastId : toId(id);
    g.lastId = { ms: to.ms, seq: to.seq };
    g.entriesRead = entriesRead ?? INVALID_READ;
    this.#store.dirty++;
  }

  /** XGROUP DESTROY: true when the group existed. */
  xgroupDestroy(key: string, group: string): boolean {
    const s = this.#writable(key);
    if (s === undefined) fail(STREAM_ERRORS.noKeyGroup);
    if (!s.groups?.delete(group)) return false;
    this.#store.dirty++;
    return true;
  }

  /** XGROUP CREATECONSUMER: true when the consumer was created. */
  xgroupCreateConsumer(key: string, group: string, consumer: string): boolean {
    const [, g] = this.#existingGroup(key, group);
    if (g.consumers.has(consumer)) return false;
    g.consumers.set(consumer, new Consumer(consumer, this.#store.clock()));
    this.#store.dirty++;
    return true;
  }

  /** XGROUP DELCONSUMER: the number of pending entries it had. */
  xgroupDelConsumer(key: string, group: string, consumer: string): number {
    const [, g] = this.#existingGroup(key, group);
    const c = g.consumers.get(consumer);
    if (c === undefined) return 0;
    const n = c.pel.size;
    for (const chunk of c.pel.chunks) {
      for (const nk of chunk) g.pel.remove(nk.ms, nk.seq);
    }
    g.consumers.delete(consumer);
    this.#store.dirty++;
    return n;
  }

  /** XSETID: sets the stream's last id, and optionally its entries-added
   * counter and largest deleted id. */
  xsetid(
    key: string,
    id: string | StreamId,
    options: { entriesAdded?: number; maxDeletedId?: string | StreamId } = {},
  ): void {
    const to = toId(id);
    const md = options.maxDeletedId === undefined
      ? undefined
      : toId(options.maxDeletedId);
    if (options.entriesAdded !== undefined && options.entriesAdded < 0) {
      fail("ERR entries_added must be positive");
    }
    if (md !== undefined && cmpId(to, md) < 0) {
      fail(STREAM_ERRORS.setIdMaxDeleted);
    }
    const s = this.#writable(key);
    if (s === undefined) fail(STREAM_ERRORS.noSuchKey);
    if (s.length > 0) {
      const last = s.edge(false)!;
      if (cmpId(to, last) < 0) fail(STREAM_ERRORS.setIdSmaller);
      if (
        options.entriesAdded !== undefined && s.length > options.entriesAdded
      ) fail(STREAM_ERRORS.setIdEntriesAdded);
    }
    s.lastId = { ms: to.ms, seq: to.seq };
    if (options.entriesAdded !== undefined) {
      s.entriesAdded = options.entriesAdded;
    }
    if (md !== undefined) s.maxDeletedId = { ms: md.ms, seq: md.seq };
    this.#store.dirty++;
  }

  /** XINFO STREAM. */
  xinfoStream(key: string): StreamInfo {
    const s = this.#stream(key);
    const first = s.edge(true), last = s.edge(false);
    return {
      length: s.length,
      radixTreeKeys: s.nodes.length,
      radixTreeNodes: radixNodes(s.nodes.length),
      lastGeneratedId: formatId(s.lastId),
      maxDeletedEntryId: formatId(s.maxDeletedId),
      entriesAdded: s.entriesAdded,
      recordedFirstEntryId: formatId(s.firstId),
      groups: s.groups?.size ?? 0,
      firstEntry: first ? s.get(first)! : null,
      lastEntry: last ? s.get(last)! : null,
    };
  }

  #stream(key: string): Stream {
    const s = this.#read(key);
    if (s === undefined) fail(STREAM_ERRORS.noSuchKey);
    return s;
  }

  /** XINFO STREAM FULL: everything, at most `count` entries and pending
   * entries per list (0: all). */
  xinfoStreamFull(key: string, count = 10): StreamFullInfo {
    const s = this.#stream(key);
    const groups: StreamFullInfo["groups"] = [];
    const take = <T>(it: Iterable<T>): T[] => {
      const out: T[] = [];
      for (const x of it) {
        if (count > 0 && out.length >= count) break;
        out.push(x);
      }
      return out;
    };
    if (s.groups) {
      for (const name of sortedNames(s.groups)) {
        const g = s.groups.get(name)!;
        groups.push({
          name,
          lastDeliveredId: formatId(g.lastId),
          entriesRead: g.entriesRead === INVALID_READ ? null : g.entriesRead,
          lag: s.lag(g),
          pelCount: g.pel.size,
          pending: take(g.pel.from()).map((
            nk,
          ) => [fmt(nk.ms, nk.seq), nk.consumer.name, nk.time, nk.count]),
          consumers: sortedNames(g.consumers).map((cn) => {
            const c = g.consumers.get(cn)!;
            return {
              name: cn,
              seenTime: c.seenTime,
              pelCount: c.pel.size,
              pending: take(c.pel.from()).map((
                nk,
              ) => [fmt(nk.ms, nk.seq), nk.time, nk.count]),
            };
          }),
        });
      }
    }
    return {
      length: s.length,
      radixTreeKeys: s.nodes.length,
      radixTreeNodes: radixNodes(s.nodes.length),
      lastGeneratedId: formatId(s.lastId),
      maxDeletedEntryId: formatId(s.maxDeletedId),
      entriesAdded: s.entriesAdded,
      recordedFirstEntryId: formatId(s.firstId),
      entries: s.range(ZERO, MAX_ID, count > 0 ? count : 0),
      groups,
    };
  }

  /** XINFO GROUPS. */
  xinfoGroups(key: string): StreamGroupInfo[] {
    const s = this.#stream(key);
    if (!s.groups) return [];
    return sortedNames(s.groups).map((name) => {
      const g = s.groups!.get(name)!;
      return {
        name,
        consumers: g.consumers.size,
        pending: g.pel.size,
        lastDeliveredId: formatId(g.lastId),
        entriesRead: g.entriesRead === INVALID_READ ? null : g.entriesRead,
        lag: s.lag(g),
      };
    });
  }

  /** XINFO CONSUMERS. */
  xinfoConsumers(key: string, group: string): StreamConsumerInfo[] {
    const s = this.#stream(key);
    const g = s.group(group);
    if (g === undefined) {
      throw new StoreError(
        `NOGROUP No such consumer group '${group}' for key name '${key}'`,
      );
    }
    const now = this.#store.clock();
    return sortedNames(g.consumers).map((name) => {
      const c = g.consumers.get(name)!;
      return { name, pending: c.pel.size, idle: Math.max(0, now - c.seenTime) };
    });
  }
}

function claimArgv(key: string, g: ConsumerGroup, nk: Nack): string[] {
  return [
    "XCLAIM",
    key,
    g.name,
    nk.consumer.name,
    "0",
    fmt(nk.ms, nk.seq),
    "TIME",
    String(nk.time),
    "RETRYCOUNT",
    String(nk.count),
    "FORCE",
    "JUSTID",
    "LASTID",
    formatId(g.lastId),
  ];
}
