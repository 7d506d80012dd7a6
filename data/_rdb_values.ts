// Values in Redis's RDB encoding (Redis 7.0, RDB version 10): what DUMP
// writes and RESTORE reads, and what an RDB file holds per key. Writing
// follows rdbSaveObject (the encoding Redis 7.0 keeps each value in: a
// listpack while small, a hash table / skiplist after; lists as quicklists
// of listpacks; sets as intsets or tables); reading accepts every object
// type of RDB versions 1 to 10 (zipmaps, ziplists, quicklists of
// ziplists, text-encoded scores, streams without the 7.0 counters) and
// checks everything it reads: a malformed value throws RdbFormatError,
// never anything else. Our own code, from the documented formats.

import { RdbReader, RdbWriter } from "../_rdb.ts";
import { bytesToBinary } from "../_bytes.ts";
import { formatDouble, parseFloatStrict, parseInt64 } from "../_number.ts";
import { type EncodingLimits, Store, type StoredValue } from "../store.ts";
import { Hash } from "./hash.ts";
import { List } from "./list.ts";
import { RedisSet } from "./set.ts";
import { SortedSet } from "./zset.ts";
import { Stream, type StreamId, type U64 } from "./stream.ts";
import { Bitmap } from "./bitmap.ts";

/** RDB object types (rdb.h). */
export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
} as const;

/** A value that cannot be read: RESTORE answers `ERR Bad data format`. */
export class RdbFormatError extends Error {
  /** `reason`: what was wrong (for logs). */
  constructor(reason: string) {
    super(reason);
  }
}

function bad(reason: string): never {
  throw new RdbFormatError(reason);
}

function need<T>(v: T | null, what: string): T {
  if (v === null) bad(`short or malformed ${what}`);
  return v;
}

// ---------------------------------------------------------------------------
// Listpacks (listpack.c's format): total bytes (u32 LE), element count (u16
// LE, 65535 when unknown), the elements, 0xFF. An element is its encoding,
// its data and its "backlen" (the length of encoding + data, written so it
// reads backwards).

/** The canonical int64 a listpack would store `s` as, or null. */
function asInt(s: string): number | bigint | null {
  const c = s.charCodeAt(0);
  if (s.length === 0 || s.length > 20 || (c !== 45 && (c < 48 || c > 57))) {
    return null;
  }
  return parseInt64(s);
}

/** Builds a listpack, element by element. */
export class ListpackBuilder {
  readonly #w = new RdbWriter();
  /** Elements appended. */
  count = 0;

  constructor() {
    for (let i = 0; i < 6; i++) this.#w.byte(0); // header, filled in last
  }

  /** Bytes of the listpack so far, with its terminator. */
  get bytes(): number {
    return this.#w.length + 1;
  }

  #backlen(l: number): void {
    const w = this.#w;
    if (l <= 127) w.byte(l);
    else if (l < 16383) {
      w.byte(l >>> 7);
      w.byte((l & 127) | 128);
    } else if (l < 2097151) {
      w.byte(l >>> 14);
      w.byte(((l >>> 7) & 127) | 128);
      w.byte((l & 127) | 128);
    } else if (l < 268435455) {
      w.byte(l >>> 21);
      w.byte(((l >>> 14) & 127) | 128);
      w.byte(((l >>> 7) & 127) | 128);
      w.byte((l & 127) | 128);
    } else {
      w.byte(Math.floor(l / 268435456));
      w.byte(((l >>> 21) & 127) | 128);
      w.byte(((l >>> 14) & 127) | 128);
      w.byte(((l >>> 7) & 127) | 128);
      w.byte((l & 127) | 128);
    }
  }

  /** Appends an integer in the smallest encoding that holds it. */
  int(v: number | bigint): void {
    const w = this.#w;
    this.count++;
    if (typeof v === "number" && v >= 0 && v <= 127) {
      w.byte(v);
      this.#backlen(1);
    } else if (typeof v === "number" && v >= -4096 && v <= 4095) {
      const u = v < 0 ? 8192 + v : v;
      w.byte((u >>> 8) | 0xc0);
      w.byte(u & 0xff);
      this.#backlen(2);
    } else if (typeof v === "number" && v >= -32768 && v <= 32767) {
      w.byte(0xf1);
      w.u16le(v);
      this.#backlen(3);
    } else if (typeof v === "number" && v >= -8388608 && v <= 8388607) {
      const u = v < 0 ? 16777216 + v : v;
      w.byte(0xf2);
      w.byte(u);
      w.byte(u >>> 8);
      w.byte(u >>> 16);
      this.#backlen(4);
    } else if (
      typeof v === "number" && v >= -2147483648 && v <= 2147483647
    ) {
      w.byte(0xf3);
      w.u32le(v);
      this.#backlen(5);
    } else {
      w.byte(0xf4);
      w.u64le(v);
      this.#backlen(9);
    }
  }

  /** Appends a byte string (as an integer when it is one, as Redis's
   * lpAppend does). */
  add(s: string): void {
    const v = asInt(s);
    if (v !== null) return this.int(v);
    const w = this.#w;
    const n = s.length;
    this.count++;
    if (n < 64) {
      w.byte(0x80 | n);
      w.binary(s);
      this.#backlen(1 + n);
    } else if (n < 4096) {
      w.byte(0xe0 | (n >>> 8));
      w.byte(n & 0xff);
      w.binary(s);
      this.#backlen(2 + n);
    } else {
      w.byte(0xf0);
      w.u32le(n);
      w.binary(s);
      this.#backlen(5 + n);
    }
  }

  /** The finished listpack. */
  finish(): Uint8Array {
    this.#w.byte(0xff);
    const out = this.#w.finish();
    const dv = new DataView(out.buffer);
    dv.setUint32(0, out.length, true);
    dv.setUint16(4, this.count < 65535 ? this.count : 65535, true);
    return out;
  }
}

/** Byte size of an element's backlen for an element of `l` bytes. */
function backlenSize(l: number): number {
  return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/** The elements of a listpack as byte strings (integers as their decimal
 * text); checks the whole structure. */
export function readListpack(b: Uint8Array): string[] {
  if (b.length < 7) bad("listpack too short");
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (dv.getUint32(0, true) !== b.length) bad("listpack size");
  const declared = dv.getUint16(4, true);
  const out: string[] = [];
  let p = 6;
  const end = b.length - 1;
  while (p < end) {
    const start = p;
    const e = b[p];
    let s: string;
    if (e < 0x80) {
      s = String(e);
      p += 1;
    } else if (e < 0xc0) {
      const n = e & 0x3f;
      if (p + 1 + n > end) bad("listpack string");
      s = bytesToBinary(b, p + 1, p + 1 + n);
      p += 1 + n;
    } else if (e < 0xe0) {
      if (p + 2 > end) bad("listpack int");
      const u = ((e & 0x1f) << 8) | b[p + 1];
      s = String(u >= 4096 ? u - 8192 : u);
      p += 2;
    } else if (e < 0xf0) {
      if (p + 2 > end) bad("listpack string");
      const n = ((e & 0x0f) << 8) | b[p + 1];
      if (p + 2 + n > end) bad("listpack string");
      s = bytesToBinary(b, p + 2, p + 2 + n);
      p += 2 + n;
    } else if (e === 0xf0) {
      if (p + 5 > end) bad("listpack string");
      const n = dv.getUint32(p + 1, true);
      if (p + 5 + n > end) bad("listpack string");
      s = bytesToBinary(b, p + 5, p + 5 + n);
      p += 5 + n;
    } else if (e === 0xf1) {
      if (p + 3 > end) bad("listpack int");
      s = String(dv.getInt16(p + 1, true));
      p += 3;
    } else if (e === 0xf2) {
      if (p + 4 > end) bad("listpack int");
      const u = b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16);
      s = String(u >= 8388608 ? u - 16777216 : u);
      p += 4;
    } else if (e === 0xf3) {
      if (p + 5 > end) bad("listpack int");
      s = String(dv.getInt32(p + 1, true));
      p += 5;
    } else if (e === 0xf4) {
      if (p + 9 > end) bad("listpack int");
      s = String(dv.getBigInt64(p + 1, true));
      p += 9;
    } else bad("listpack encoding");
    // The backlen must say the element's length.
    const l = p - start;
    const bl = backlenSize(l);
    if (p + bl > end) bad("listpack backlen");
    // The first byte has its high bit clear, the others set.
    let v = 0;
    for (let i = 0; i < bl; i++) {
      const c = b[p + i];
      if ((c & 128) !== (i === 0 ? 0 : 128)) bad("listpack backlen");
      v = v * 128 + (c & 127);
    }
    if (v !== l) bad("listpack backlen");
    p += bl;
    out.push(s);
  }
  if (p !== end || b[end] !== 0xff) bad("listpack end");
  if (declared !== 65535 && declared !== out.length) bad("listpack count");
  return out;
}

// ---------------------------------------------------------------------------
// Ziplists (RDB versions before 10): zlbytes, zltail (u32 LE), zllen (u16
// LE), entries (prevlen, encoding, data), 0xFF.

/** The elements of a ziplist as byte strings; checks the structure. */
export function readZiplist(b: Uint8Array): string[] {
  if (b.length < 11) bad("ziplist too short");
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  if (dv.getUint32(0, true) !== b.length) bad("ziplist size");
  const tail = dv.getUint32(4, true);
  const declared = dv.getUint16(8, true);
  const end = b.length - 1;
  if (b[end] !== 0xff) bad("ziplist end");
  const out: string[] = [];
  let p = 10;
  let prev = 0;
  let lastStart = 10;
  while (p < end) {
    const start = p;
    let prevlen = b[p];
    if (prevlen === 0xfe) {
      if (p + 5 > end) bad("ziplist prevlen");
      prevlen = dv.getUint32(p + 1, true);
      p += 5;
    } else if (prevlen === 0xff) bad("ziplist prevlen");
    else p += 1;
    if (prevlen !== prev) bad("ziplist prevlen");
    if (p >= end) bad("ziplist entry");
    const e = b[p];
    let s: string;
    const kind = e >> 6;
    if (kind === 0) {
      const n = e & 0x3f;
      if (p + 1 + n > end) bad("ziplist string");
      s = bytesToBinary(b, p + 1, p + 1 + n);
      p += 1 + n;
    } else if (kind === 1) {
      if (p + 2 > end) bad("ziplist string");
      const n = ((e & 0x3f) << 8) | b[p + 1];
      if (p + 2 + n > end) bad("ziplist string");
      s = bytesToBinary(b, p + 2, p + 2 + n);
      p += 2 + n;
    } else if (kind === 2) {
      if (e !== 0x80 || p + 5 > end) bad("ziplist string");
      const n = dv.getUint32(p + 1, false);
      if (p + 5 + n > end) bad("ziplist string");
      s = bytesToBinary(b, p + 5, p + 5 + n);
      p += 5 + n;
    } else if (e === 0xc0) {
      if (p + 3 > end) bad("ziplist int");
      s = String(dv.getInt16(p + 1, true));
      p += 3;
    } else if (e === 0xd0) {
      if (p + 5 > end) bad("ziplist int");
      s = String(dv.getInt32(p + 1, true));
      p += 5;
    } else if (e === 0xe0) {
      if (p + 9 > end) bad("ziplist int");
      s = String(dv.getBigInt64(p + 1, true));
      p += 9;
    } else if (e === 0xf0) {
      if (p + 4 > end) bad("ziplist int");
      const u = b[p + 1] | (b[p + 2] << 8) | (b[p + 3] << 16);
      s = String(u >= 8388608 ? u - 16777216 : u);
      p += 4;
    } else if (e === 0xfe) {
      if (p + 2 > end) bad("ziplist int");
      s = String(dv.getInt8(p + 1));
      p += 2;
    } else if (e >= 0xf1 && e <= 0xfd) {
      s = String((e & 0x0f) - 1);
      p += 1;
    } else bad("ziplist encoding");
    prev = p - start;
    lastStart = start;
    out.push(s);
  }
  if (p !== end) bad("ziplist end");
  if (out.length > 0 && tail !== lastStart) bad("ziplist tail");
  if (declared !== 65535 && declared !== out.length) bad("ziplist count");
  return out;
}

/** The field/value pairs of a zipmap (Redis 2.4 hashes, RDB type 9). */
function readZipmap(b: Uint8Array): string[] {
  const out: string[] = [];
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  let p = 1; // zmlen
  const len = (): number => {
    if (p >= b.length) bad("zipmap length");
    const c = b[p];
    if (c < 254) {
      p += 1;
      return c;
    }
    if (c === 254) {
      if (p + 5 > b.length) bad("zipmap length");
      const n = dv.getUint32(p + 1, true);
      p += 5;
      return n;
    }
    p += 1; // 0xFF: the end
    return -1;
  };
  for (;;) {
    const fl = len();
    if (fl < 0) break; // 0xFF: the end
    if (p + fl > b.length) bad("zipmap field");
    const f = bytesToBinary(b, p, p + fl);
    p += fl;
    const vl = len();
    if (vl < 0 || p + 1 > b.length) bad("zipmap value");
    const free = b[p++];
    if (p + vl + free > b.length) bad("zipmap value");
    out.push(f, bytesToBinary(b, p, p + vl));
    p += vl + free;
  }
  if (p !== b.length) bad("zipmap end");
  return out;
}

// ---------------------------------------------------------------------------
// Intsets: encoding (u32 LE: 2, 4 or 8), length (u32 LE), values sorted,
// little-endian.

function readIntset(b: Uint8Array): string[] {
  if (b.length < 8) bad("intset too short");
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const w = dv.getUint32(0, true);
  const n = dv.getUint32(4, true);
  if ((w !== 2 && w !== 4 && w !== 8) || b.length !== 8 + n * w) {
    bad("intset size");
  }
  const out: string[] = [];
  let prev: bigint | null = null;
  for (let i = 0; i < n; i++) {
    const at = 8 + i * w;
    const v = w === 2
      ? BigInt(dv.getInt16(at, true))
      : w === 4
      ? BigInt(dv.getInt32(at, true))
      : dv.getBigInt64(at, true);
    if (prev !== null && v <= prev) bad("intset order");
    prev = v;
    out.push(String(v));
  }
  return out;
}

function writeIntset(members: readonly string[]): Uint8Array {
  const values = members.map((m) => BigInt(m));
  let w = 2;
  for (const v of values) {
    if (v < -2147483648n || v > 2147483647n) w = 8;
    else if ((v < -32768n || v > 32767n) && w < 4) w = 4;
  }
  const out = new Uint8Array(8 + values.length * w);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, w, true);
  dv.setUint32(4, values.length, true);
  values.forEach((v, i) => {
    const at = 8 + i * w;
    if (w === 2) dv.setInt16(at, Number(v), true);
    else if (w === 4) dv.setInt32(at, Number(v), true);
    else dv.setBigInt64(at, v, true);
  });
  return out;
}

// ---------------------------------------------------------------------------
// Writing (DUMP).

/** Quicklist node limits of list-max-listpack-size (fill), as Redis 7.0's
 * _quicklistNodeAllowInsert and quicklistNodeExceedsLimit: may a node of
 * `bytes` bytes and `count` elements take one more element of `sz` bytes?
 * (The element's size is overestimated by 8 bytes of overhead.) */
function nodeTakes(bytes: number, count: number, fill: number, sz: number) {
  const next = bytes + sz + 8;
  if (fill < 0) return next <= [4096, 8192, 16384, 32768, 65536][-fill - 1];
  if (next > 8192) return false;
  return count + 1 <= fill;
}

function writeList(
  w: RdbWriter,
  list: List,
  limits: EncodingLimits,
  key?: string,
): void {
  let fill = limits.listMaxListpackSize;
  if (fill > 32768) fill = 32768;
  else if (fill < -5) fill = -5;
  const nodes: Uint8Array[] = [];
  let node: ListpackBuilder | null = null;
  for (const v of list.values()) {
    if (node !== null && !nodeTakes(node.bytes, node.count, fill, v.length)) {
      nodes.push(node.finish());
      node = null;
    }
    node ??= new ListpackBuilder();
    node.add(v);
  }
  if (node !== null) nodes.push(node.finish());
  head(w, RDB_TYPE.LIST_QUICKLIST_2, key);
  w.len(nodes.length);
  for (const lp of nodes) {
    w.len(2); // QUICKLIST_NODE_CONTAINER_PACKED
    w.blob(lp);
    w.spill();
  }
}

function writeHash(w: RdbWriter, h: Hash, key?: string): void {
  if (h.isListpack) {
    const lp = new ListpackBuilder();
    h.forEach((f, v) => {
      lp.add(f);
      lp.add(v);
    });
    head(w, RDB_TYPE.HASH_LISTPACK, key);
    w.blob(lp.finish());
    return;
  }
  head(w, RDB_TYPE.HASH, key);
  w.len(h.size);
  h.forEach((f, v) => {
    w.string(f);
    w.string(v);
    w.spill();
  });
}

function writeSet(w: RdbWriter, set: RedisSet, key?: string): void {
  if (set.isIntset) {
    head(w, RDB_TYPE.SET_INTSET, key);
    w.blob(writeIntset(set.members()));
    return;
  }
  head(w, RDB_TYPE.SET, key);
  const members = set.view();
  w.len(members.length);
  for (const m of members) {
    w.string(m);
    w.spill();
  }
}

function writeZset(w: RdbWriter, z: SortedSet, key?: string): void {
  if (z.listpack) {
    const lp = new ListpackBuilder();
    for (const [m, score] of z.entries()) {
      lp.add(m);
      lp.add(formatDouble(score));
    }
    head(w, RDB_TYPE.ZSET_LISTPACK, key);
    w.blob(lp.finish());
    return;
  }
  // Greatest first, as rdbSaveObject walks the skiplist from its tail.
  const all = Array.from(z.entries());
  head(w, RDB_TYPE.ZSET_2, key);
  w.len(all.length);
  for (let i = all.length - 1; i >= 0; i--) {
    w.string(all[i][0]);
    w.double(all[i][1]);
    w.spill();
  }
}

// Our stream nodes' packing (data/stream.ts): each entry is
// varint(length of the rest) flags id body; flags 1 deleted, 2 same fields
// as the node's master fields, 4 raw id; id varint(ms - node ms) varint(seq)
// or (raw) two length-prefixed decimals; body the values (same fields) or
// varint(n) then n field/value pairs; strings as varint(length) bytes.

interface NodeEntry {
  flags: number;
  ms: bigint;
  seq: bigint;
  pairs: string[];
}

type StreamNodeView = Stream["nodes"][number];

function nodeEntries(node: StreamNodeView): NodeEntry[] {
  const d = node.data;
  let p = 0;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      const c = d.charCodeAt(p++);
      v += (c & 127) * mul;
      if (c < 128) return v;
      mul *= 128;
    }
  };
  const str = (): string => {
    const n = varint();
    const s = d.slice(p, p + n);
    p += n;
    return s;
  };
  const out: NodeEntry[] = [];
  while (p < d.length) {
    const len = varint();
    const end = p + len;
    const flags = d.charCodeAt(p++);
    let ms: bigint, seq: bigint;
    if (flags & 4) {
      ms = BigInt(str());
      seq = BigInt(str());
    } else {
      ms = BigInt(node.ms) + BigInt(varint());
      seq = BigInt(varint());
    }
    const pairs: string[] = [];
    if (flags & 2) {
      for (const f of node.fields) pairs.push(f, str());
    } else {
      const n = varint();
      for (let i = 0; i < 2 * n; i++) pairs.push(str());
    }
    out.push({ flags, ms, seq, pairs });
    p = end;
  }
  return out;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function writeStreamId(w: RdbWriter, id: StreamId): void {
  w.len(BigInt(id.ms));
  w.len(BigInt(id.seq));
}

function writeStream(w: RdbWriter, s: Stream, key?: string): void {
  head(w, RDB_TYPE.STREAM_LISTPACKS_2, key);
  // A node whose entries are all deleted is gone in Redis.
  const nodes = s.nodes.filter((n) => n.live > 0);
  w.len(nodes.length);
  for (const node of nodes) {
    const nodeKey = new RdbWriter();
    nodeKey.u64be(node.ms);
    nodeKey.u64be(node.seq);
    w.blob(nodeKey.finish());
    const lp = new ListpackBuilder();
    const masterMs = BigInt(node.ms);
    const masterSeq = BigInt(node.seq);
    lp.int(node.live);
    lp.int(node.deleted);
    lp.int(node.fields.length);
    for (const f of node.fields) lp.add(f);
    lp.int(0);
    for (const e of nodeEntries(node)) {
      const same = (e.flags & 2) !== 0;
      lp.int((e.flags & 1) | (same ? 2 : 0));
      lp.int(norm64(BigInt.asIntN(64, e.ms - masterMs)));
      lp.int(norm64(BigInt.asIntN(64, e.seq - masterSeq)));
      const nf = e.pairs.length / 2;
      if (same) {
        for (let i = 1; i < e.pairs.length; i += 2) lp.add(e.pairs[i]);
        lp.int(nf + 3);
      } else {
        lp.int(nf);
        for (const x of e.pairs) lp.add(x);
        lp.int(2 * nf + 4);
      }
    }
    w.blob(lp.finish());
    w.spill();
  }
  w.len(s.length);
  writeStreamId(w, s.lastId);
  writeStreamId(w, s.firstId);
  writeStreamId(w, s.maxDeletedId);
  w.len(s.entriesAdded);
  const groups = s.groups === null
    ? []
    : Array.from(s.groups.values()).sort((a, b) =>
      compareBytes(a.name, b.name)
    );
  w.len(groups.length);
  for (const g of groups) {
    w.string(g.name);
    writeStreamId(w, g.lastId);
    w.len(g.entriesRead < 0 ? 0xffffffffffffffffn : g.entriesRead);
    w.len(g.pel.size);
    for (const chunk of g.pel.chunks) {
      for (const nk of chunk) {
        w.u64be(nk.ms);
        w.u64be(nk.seq);
        w.u64le(nk.time);
        w.len(nk.count);
        w.spill();
      }
    }
    const consumers = Array.from(g.consumers.values()).sort((a, b) =>
      compareBytes(a.name, b.name)
    );
    w.len(consumers.length);
    for (const c of consumers) {
      w.string(c.name);
      w.u64le(c.seenTime);
      w.len(c.pel.size);
      for (const chunk of c.pel.chunks) {
        for (const nk of chunk) {
          w.u64be(nk.ms);
          w.u64be(nk.seq);
          w.spill();
        }
      }
    }
  }
}

/** The RDB type byte, then the key when there is one (an RDB file's
 * key/value pair: type, key, value). */
function head(w: RdbWriter, type: number, key: string | undefined): void {
  w.byte(type);
  if (key !== undefined) w.string(key);
}

/** Writes `value` as Redis 7.0's rdbSaveObjectType + rdbSaveObject do:
 * its RDB type byte, then the value; with `key`, the key between them (as
 * rdbSaveKeyValuePair). Strings are not LZF-compressed. With a writer that
 * has a sink, what is gathered may go out between elements
 * ({@linkcode RdbWriter.spill}). */
export function writeValue(
  w: RdbWriter,
  value: StoredValue | Bitmap,
  limits: EncodingLimits,
  key?: string,
): void {
  if (typeof value === "string") {
    head(w, RDB_TYPE.STRING, key);
    w.string(value);
    return;
  }
  if (value instanceof Bitmap) {
    head(w, RDB_TYPE.STRING, key);
    w.blob(value.bytes);
    return;
  }
  switch (value.type) {
    case "list":
      return writeList(w, value as List, limits, key);
    case "hash":
      return writeHash(w, value as Hash, key);
    case "set":
      return writeSet(w, value as RedisSet, key);
    case "zset":
      return writeZset(w, value as SortedSet, key);
    case "stream":
      return writeStream(w, value as Stream, key);
  }
}

// ---------------------------------------------------------------------------
// Reading (RESTORE, RDB files).

function norm64(b: bigint): number | bigint {
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

function u64(b: bigint): U64 {
  return b <= 9007199254740991n ? Number(b) : b;
}

function readString(r: RdbReader): string {
  return need(r.string(), "string");
}

function readLen(r: RdbReader): number {
  return need(r.plainLength(), "length");
}

function hashFrom(pairs: string[], limits: EncodingLimits): Hash {
  if (pairs.length === 0) bad("empty hash");
  if (pairs.length % 2 !== 0) bad("hash pairs");
  const h = new Hash();
  for (let i = 0; i < pairs.length; i += 2) {
    if (!h.set(pairs[i], pairs[i + 1], limits)) bad("duplicate hash field");
  }
  return h;
}

function zsetFrom(
  entries: [string, number][],
  limits: EncodingLimits,
): SortedSet {
  if (entries.length === 0) bad("empty zset");
  const seen = new Set<string>();
  for (const [m, score] of entries) {
    if (Number.isNaN(score)) bad("zset NaN score");
    if (seen.has(m)) bad("duplicate zset member");
    seen.add(m);
  }
  return SortedSet.from(entries, limits);
}

function zsetPairs(items: string[], limits: EncodingLimits): SortedSet {
  if (items.length % 2 !== 0) bad("zset pairs");
  const entries: [string, number][] = [];
  for (let i = 0; i < items.length; i += 2) {
    const score = parseFloatStrict(items[i + 1]);
    if (score === null) bad("zset score");
    entries.push([items[i], score]);
  }
  // Kept a listpack whatever the member lengths (Redis checks the count
  // only).
  return zsetFrom(entries, {
    ...limits,
    zsetMaxListpackValue: Number.MAX_SAFE_INTEGER,
  });
}

function setFrom(members: string[], limits: EncodingLimits): RedisSet {
  if (members.length === 0) bad("empty set");
  const set = new RedisSet();
  for (const m of members) {
    if (!set.add(m, limits.setMaxIntsetEntries)) bad("duplicate set member");
  }
  return set;
}

function listFrom(elements: Iterable<string>): List {
  const list = new List(elements);
  if (list.size === 0) bad("empty list");
  return list;
}

/** A stream of a payload: the nodes, then the counters and groups. */
function readStream(r: RdbReader, v2: boolean): Stream {
  const s = new Stream();
  const newNode = {
    streamNodeMaxEntries: 1,
    streamNodeMaxBytes: 0,
  } as EncodingLimits;
  const sameNode = {
    streamNodeMaxEntries: 0,
    streamNodeMaxBytes: 0,
  } as EncodingLimits;
  const nodes = readLen(r);
  let last: [bigint, bigint] | null = null;
  let live = 0;
  const deleted: [U64, U64][] = [];
  for (let n = 0; n < nodes; n++) {
    const key = need(r.stringBytes(), "stream node key");
    if (key.length !== 16) bad("stream node key size");
    const kv = new DataView(key.buffer, key.byteOffset, 16);
    const masterMs = kv.getBigUint64(0, false);
    const masterSeq = kv.getBigUint64(8, false);
    const items = readListpack(need(r.stringBytes(), "stream listpack"));
    let p = 0;
    const next = (): string => {
      if (p >= items.length) bad("stream listpack entries");
      return items[p++];
    };
    const int = (): bigint => {
      const v = asInt(next());
      if (v === null) bad("stream listpack integer");
      return BigInt(v);
    };
    const count = int();
    const dels = int();
    const nf = Number(int());
    if (nf < 0 || nf > items.length) bad("stream master fields");
    const master: string[] = [];
    for (let i = 0; i < nf; i++) master.push(next());
    if (int() !== 0n) bad("stream master terminator");
    if (p >= items.length) bad("empty stream listpack");
    let first = true;
    let liveHere = 0n, deletedHere = 0n;
    while (p < items.length) {
      const flags = Number(int());
      if (flags < 0 || flags > 3) bad("stream entry flags");
      const ms = BigInt.asUintN(64, masterMs + int());
      const seq = BigInt.asUintN(64, masterSeq + int());
      const pairs: string[] = [];
      if (flags & 2) {
        for (const f of master) pairs.push(f, next());
        int(); // lp-count, for backward iteration only
      } else {
        const k = Number(int());
        if (k < 0 || k * 2 > items.length - p) bad("stream entry fields");
        for (let i = 0; i < 2 * k; i++) pairs.push(next());
        int(); // lp-count
      }
      if (
        last !== null &&
        (ms < last[0] || (ms === last[0] && seq <= last[1]))
      ) bad("stream ids out of order");
      last = [ms, seq];
      s.append(u64(ms), u64(seq), pairs, first ? newNode : sameNode);
      first = false;
      if (flags & 1) {
        deleted.push([u64(ms), u64(seq)]);
        deletedHere++;
      } else liveHere++;
    }
    if (liveHere !== count || deletedHere !== dels) bad("stream node counts");
    live += Number(liveHere);
  }
  for (const [ms, seq] of deleted) s.delete(ms, seq);
  const length = need(r.bigLength(), "stream length");
  const lastId = {
    ms: u64(need(r.bigLength(), "stream last id")),
    seq: u64(need(r.bigLength(), "stream last id")),
  };
  if (length !== BigInt(live)) bad("stream length");
  if (
    last !== null &&
    (BigInt(lastId.ms) < last[0] ||
      (BigInt(lastId.ms) === last[0] && BigInt(lastId.seq) < last[1]))
  ) bad("stream last id below its entries");
  s.length = live;
  s.lastId = lastId;
  if (v2) {
    s.firstId = {
      ms: u64(need(r.bigLength(), "stream first id")),
      seq: u64(need(r.bigLength(), "stream first id")),
    };
    s.maxDeletedId = {
      ms: u64(need(r.bigLength(), "stream max deleted id")),
      seq: u64(need(r.bigLength(), "stream max deleted id")),
    };
    const added = need(r.bigLength(), "stream entries added");
    if (added > 9007199254740991n) bad("stream entries added");
    s.entriesAdded = Number(added);
  } else {
    s.maxDeletedId = { ms: 0, seq: 0 };
    s.entriesAdded = live;
    s.firstId = s.edge(true) ?? { ms: 0, seq: 0 };
  }
  const groups = readLen(r);
  if (groups > 0) readGroups(r, s, groups, v2);
  return s;
}

type Group = NonNullable<Stream["groups"]> extends Map<string, infer G> ? G
  : never;
type Nack = Parameters<Group["pel"]["insert"]>[0];

function readGroups(r: RdbReader, s: Stream, count: number, v2: boolean) {
  const ops = groupOps(s);
  for (let gi = 0; gi < count; gi++) {
    const name = readString(r);
    const lastId = {
      ms: u64(need(r.bigLength(), "group id")),
      seq: u64(need(r.bigLength(), "group id")),
    };
    let entriesRead: number;
    if (v2) {
      const v = need(r.bigLength(), "group entries read");
      if (v === 0xffffffffffffffffn) entriesRead = -1;
      else if (v > 9007199254740991n) bad("group entries read");
      else entriesRead = Number(v);
    } else entriesRead = s.estimateDistance(lastId);
    if (!ops.create(name, lastId, entriesRead)) bad("duplicate group");
    const g = s.groups!.get(name)!;
    const pelSize = readLen(r);
    const pending = new Map<string, Nack>();
    for (let i = 0; i < pelSize; i++) {
      const ms = need(r.u64be(), "pel id");
      const seq = need(r.u64be(), "pel id");
      const time = need(r.i64le(), "pel delivery time");
      const deliveries = need(r.bigLength(), "pel delivery count");
      const id = `${ms}-${seq}`;
      if (pending.has(id)) bad("duplicate pel entry");
      const nack = {
        ms: u64(ms),
        seq: u64(seq),
        time: Number(time),
        count: Number(deliveries),
        consumer: undefined,
      } as unknown as Nack;
      pending.set(id, nack);
    }
    const consumers = readLen(r);
    for (let ci = 0; ci < consumers; ci++) {
      const cname = readString(r);
      const seen = need(r.i64le(), "consumer seen time");
      if (!ops.consumer(name, cname)) bad("duplicate consumer");
      const c = g.consumers.get(cname)!;
      c.seenTime = Number(seen);
      const n = readLen(r);
      for (let i = 0; i < n; i++) {
        const ms = need(r.u64be(), "consumer pel id");
        const seq = need(r.u64be(), "consumer pel id");
        const nack = pending.get(`${ms}-${seq}`);
        if (nack === undefined || nack.consumer !== undefined) {
          bad("consumer pel entry not in the group's");
        }
        nack.consumer = c;
      }
    }
    // Every pending entry has its consumer (as deep sanitization checks).
    const ordered = Array.from(pending.values()).sort((a, b) =>
      a.ms !== b.ms ? (a.ms < b.ms ? -1 : 1) : a.seq < b.seq ? -1 : 1
    );
    for (const nack of ordered) {
      if (nack.consumer === undefined) bad("pending entry without consumer");
      g.pel.insert(nack);
      nack.consumer.pel.insert(nack);
    }
  }
}

/** Group and consumer creation through the stream's own operations, on a
 * scratch keyspace holding `s`. */
function groupOps(s: Stream) {
  const store = new Store();
  store.set("s", s);
  return {
    create: (name: string, id: StreamId, entriesRead: number): boolean =>
      store.streams.xgroupCreate("s", name, id, { entriesRead }),
    consumer: (group: string, name: string): boolean =>
      store.streams.xgroupCreateConsumer("s", group, name),
  };
}

/** Reads one value of RDB type `type` (the byte before it was read
 * already). Throws RdbFormatError when it is malformed or empty. */
export function readValueOfType(
  r: RdbReader,
  type: number,
  limits: EncodingLimits,
): StoredValue {
  switch (type) {
    case RDB_TYPE.STRING:
      return readString(r);
    case RDB_TYPE.LIST: {
      const n = readLen(r);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(readString(r));
      return listFrom(items);
    }
    case RDB_TYPE.SET: {
      const n = readLen(r);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(readString(r));
      return setFrom(items, limits);
    }
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2: {
      const n = readLen(r);
      const entries: [string, number][] = [];
      for (let i = 0; i < n; i++) {
        const m = readString(r);
        const score = type === RDB_TYPE.ZSET_2
          ? r.binaryDouble()
          : r.textDouble();
        entries.push([m, need(score, "zset score")]);
      }
      return zsetFrom(entries, limits);
    }
    case RDB_TYPE.HASH: {
      const n = readLen(r);
      const items: string[] = [];
      for (let i = 0; i < 2 * n; i++) items.push(readString(r));
      return hashFrom(items, limits);
    }
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2: {
      const n = readLen(r);
      const items: string[] = [];
      for (let i = 0; i < n; i++) {
        let container = 2;
        if (type === RDB_TYPE.LIST_QUICKLIST_2) {
          container = readLen(r);
          if (container !== 1 && container !== 2) bad("quicklist container");
        }
        const data = need(r.stringBytes(), "quicklist node");
        if (data.length === 0) bad("empty quicklist node");
        if (container === 1) items.push(bytesToBinary(data));
        else if (type === RDB_TYPE.LIST_QUICKLIST_2) {
          items.push(...readListpack(data));
        } else items.push(...readZiplist(data));
      }
      return listFrom(items);
    }
    case RDB_TYPE.LIST_ZIPLIST:
      return listFrom(readZiplist(need(r.stringBytes(), "ziplist")));
    case RDB_TYPE.SET_INTSET:
      return setFrom(readIntset(need(r.stringBytes(), "intset")), limits);
    case RDB_TYPE.ZSET_ZIPLIST:
      return zsetPairs(readZiplist(need(r.stringBytes(), "ziplist")), limits);
    case RDB_TYPE.ZSET_LISTPACK:
      return zsetPairs(readListpack(need(r.stringBytes(), "listpack")), limits);
    case RDB_TYPE.HASH_ZIPMAP: {
      // Converted as Redis does: a listpack unless too long by either
      // threshold.
      return hashFrom(readZipmap(need(r.stringBytes(), "zipmap")), limits);
    }
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK: {
      const b = need(r.stringBytes(), "hash blob");
      const items = type === RDB_TYPE.HASH_ZIPLIST
        ? readZiplist(b)
        : readListpack(b);
      // Kept a listpack whatever the value lengths (Redis checks the count
      // only).
      return hashFrom(items, {
        ...limits,
        hashMaxListpackValue: Number.MAX_SAFE_INTEGER,
      });
    }
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
      return readStream(r, type === RDB_TYPE.STREAM_LISTPACKS_2);
    default:
      bad(`unknown or unsupported RDB type ${type}`);
  }
}

/** Reads a value with its type byte first, as DUMP payloads hold it. */
export function readValue(r: RdbReader, limits: EncodingLimits): StoredValue {
  const type = need(r.byte(), "type");
  return readValueOfType(r, type, limits);
}
