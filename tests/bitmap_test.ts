// Bitmaps, bit fields and LCS: byte-for-byte against redis-server, a seeded
// random comparison, the operations at the store level, and large values.

import assert from "node:assert/strict";
import { Store } from "../store.ts";
import {
  bitcountOf,
  Bitmap,
  bitposOf,
  FLAT_MAX,
  lcsOf,
  MAX_BITMAP_BYTES,
} from "../data/bitmap.ts";
import { encodeCommand } from "../protocol.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";

const I64_MIN = "-9223372036854775808";
const I64_MAX = "9223372036854775807";

const CASES: Record<string, Cmd[]> = {
  "setbit getbit": [
    ["SETBIT", "b", 7, 1],
    ["GET", "b"],
    ["SETBIT", "b", 7, 1],
    ["SETBIT", "b", 7, 0],
    ["SETBIT", "b", 100, 1],
    ["STRLEN", "b"],
    ["GET", "b"],
    ["GETBIT", "b", 100],
    ["GETBIT", "b", 101],
    ["GETBIT", "b", 100000],
    ["GETBIT", "missing", 0],
    ["SETBIT", "b", 0, "1"],
    ["GETBIT", "b", 0],
    ["SET", "s", "A"],
    ["GETBIT", "s", 1],
    ["GETBIT", "s", 7],
    ["SETBIT", "s", 6, 1],
    ["GET", "s"],
    ["SET", "n", "12"],
    ["SETBIT", "n", 15, 1],
    ["GET", "n"],
  ],
  "setbit getbit errors": [
    ["SETBIT", "b", -1, 1],
    ["SETBIT", "b", "x", 1],
    ["SETBIT", "b", "1.5", 1],
    ["SETBIT", "b", "-0", 1],
    ["SETBIT", "b", "+1", 1],
    ["SETBIT", "b", "#1", 1],
    ["SETBIT", "b", 4294967296, 1],
    ["SETBIT", "b", I64_MAX, 1],
    ["SETBIT", "b", "99999999999999999999", 1],
    ["SETBIT", "b", 1, 2],
    ["SETBIT", "b", 1, -1],
    ["SETBIT", "b", 1, "-0"],
    ["SETBIT", "b", 1, "x"],
    ["SETBIT", "b", 1, ""],
    ["SETBIT", "b", "x", "x"],
    ["GETBIT", "b", -1],
    ["GETBIT", "b", "x"],
    ["GETBIT", "b", 4294967296],
    ["GETBIT", "b", 4294967295],
    ["EXISTS", "b"],
    ["SETBIT", "b"],
    ["SETBIT", "b", 1],
    ["SETBIT", "b", 1, 1, 1],
    ["GETBIT", "b"],
    ["GETBIT", "b", 1, 2],
    ["RPUSH", "l", "a"],
    ["SETBIT", "l", 1, 1],
    ["GETBIT", "l", 1],
    ["SETBIT", "l", -1, 1],
    ["SETBIT", "l", 1, 5],
    ["ZADD", "h", 1, "v"],
    ["SETBIT", "h", 0, 1],
  ],
  "setbit keeps the ttl": [
    ["SET", "k", "a", "EX", 100],
    ["SETBIT", "k", 100, 1],
    ["TTL", "k"],
    ["GET", "k"],
  ],
  bitcount: [
    ["BITCOUNT", "missing"],
    ["BITCOUNT", "missing", 0, 1],
    ["BITCOUNT", "missing", "a", "b"],
    ["BITCOUNT", "missing", 1],
    ["SET", "s", "foobar"],
    ["BITCOUNT", "s"],
    ["BITCOUNT", "s", 0, 0],
    ["BITCOUNT", "s", 1, 1],
    ["BITCOUNT", "s", 1, -1],
    ["BITCOUNT", "s", -2, -1],
    ["BITCOUNT", "s", -1, -2],
    ["BITCOUNT", "s", -100, 100],
    ["BITCOUNT", "s", 100, 200],
    ["BITCOUNT", "s", 3, 1],
    ["BITCOUNT", "s", 5, -100],
    ["BITCOUNT", "s", 0, -1, "BYTE"],
    ["BITCOUNT", "s", 0, -1, "bit"],
    ["BITCOUNT", "s", 5, 30, "BIT"],
    ["BITCOUNT", "s", 1, 1, "BIT"],
    ["BITCOUNT", "s", 3, 3, "BIT"],
    ["BITCOUNT", "s", 7, 8, "BIT"],
    ["BITCOUNT", "s", -5, -1, "BIT"],
    ["BITCOUNT", "s", -1, -5, "BIT"],
    ["BITCOUNT", "s", -100, -90, "BIT"],
    ["BITCOUNT", "s", 47, 1000, "BIT"],
    ["BITCOUNT", "s", I64_MIN, I64_MAX],
    ["BITCOUNT", "s", I64_MIN, "-9223372036854775807"],
    ["BITCOUNT", "s", "-9223372036854775807", I64_MIN],
    ["BITCOUNT", "s", I64_MIN, I64_MAX, "BIT"],
    ["BITCOUNT", "s", 1],
    ["BITCOUNT", "s", 0, 1, "BITS"],
    ["BITCOUNT", "s", 0, 1, "BIT", "x"],
    ["BITCOUNT", "s", "x", 1],
    ["BITCOUNT", "s", 0, "x"],
    ["BITCOUNT", "s", "x", 1, "bogus"],
    ["BITCOUNT", "s", "9223372036854775808", 1],
    ["SET", "e", ""],
    ["BITCOUNT", "e"],
    ["BITCOUNT", "e", 0, -1],
    ["BITCOUNT", "e", 0, -1, "BIT"],
    ["BITCOUNT"],
    ["ZADD", "set", 1, "a"],
    ["BITCOUNT", "set"],
    ["BITCOUNT", "set", 0, 1, "junk"],
  ],
  bitpos: [
    ["BITPOS", "missing", 1],
    ["BITPOS", "missing", 0],
    ["BITPOS", "missing", 0, "x"],
    ["BITPOS", "missing", 2],
    ["BITPOS", "missing", "x"],
    ["SET", "s", "\xff\xf0\x00"],
    ["BITPOS", "s", 0],
    ["BITPOS", "s", 1],
    ["BITPOS", "s", 1, 2],
    ["BITPOS", "s", 0, 2],
    ["BITPOS", "s", 0, 1, 1],
    ["BITPOS", "s", 0, 0, 0],
    ["BITPOS", "s", 1, -1],
    ["BITPOS", "s", 1, 3],
    ["BITPOS", "s", 0, 3],
    ["BITPOS", "s", 0, 2, 1],
    ["BITPOS", "s", 0, 7, 15, "BIT"],
    ["BITPOS", "s", 0, 0, 7, "BIT"],
    ["BITPOS", "s", 1, 3, 6, "bit"],
    ["BITPOS", "s", 1, 12, -1, "BIT"],
    ["BITPOS", "s", 0, -12, -1, "BIT"],
    ["BITPOS", "s", 0, 0, -1, "BYTE"],
    ["BITPOS", "s", 1, -1, -100],
    ["BITPOS", "s", 1, I64_MIN, I64_MAX],
    ["BITPOS", "s", 0, I64_MIN, I64_MAX, "BIT"],
    ["SET", "f", "\xff\xff"],
    ["BITPOS", "f", 0],
    ["BITPOS", "f", 0, 0],
    ["BITPOS", "f", 0, 1],
    ["BITPOS", "f", 0, 0, -1],
    ["BITPOS", "f", 0, 3, "BIT"],
    ["BITPOS", "f", 0, 3, 14, "BIT"],
    ["BITPOS", "f", 0, 5, 10, "BIT"],
    ["BITPOS", "f", 1, 5, 10, "BIT"],
    ["SET", "z", "\x00\x00"],
    ["BITPOS", "z", 1],
    ["BITPOS", "z", 1, 1, 14, "BIT"],
    ["BITPOS", "z", 0, 9],
    ["SET", "e", ""],
    ["BITPOS", "e", 0],
    ["BITPOS", "e", 1],
    ["BITPOS", "e", 0, 0],
    ["BITPOS", "s", 3],
    ["BITPOS", "s", -1],
    ["BITPOS", "s", "1.0"],
    ["BITPOS", "s", 1, "x"],
    ["BITPOS", "s", 1, 0, "x"],
    ["BITPOS", "s", 1, 0, 1, "x"],
    ["BITPOS", "s", 1, 0, "x", "y"],
    ["BITPOS", "s", 1, 0, 1, "BIT", "x"],
    ["BITPOS", "s"],
    ["ZADD", "zs", 1, "a"],
    ["BITPOS", "zs", 1],
    ["BITPOS", "zs", 2],
  ],
  bitop: [
    ["SET", "a", "\x0f\xf0\xaa"],
    ["SET", "b", "\xff\x0f"],
    ["BITOP", "AND", "d", "a", "b"],
    ["GET", "d"],
    ["BITOP", "or", "d", "a", "b"],
    ["GET", "d"],
    ["BITOP", "Xor", "d", "a", "b"],
    ["GET", "d"],
    ["BITOP", "NOT", "d", "a"],
    ["GET", "d"],
    ["BITOP", "AND", "d", "a", "b", "missing"],
    ["GET", "d"],
    ["BITOP", "OR", "d", "missing", "a"],
    ["GET", "d"],
    ["BITOP", "AND", "d", "a"],
    ["GET", "d"],
    ["BITOP", "XOR", "d", "a", "a", "b"],
    ["GET", "d"],
    ["BITOP", "OR", "d", "nope1", "nope2"],
    ["EXISTS", "d"],
    ["BITOP", "OR", "d", "nope1"],
    ["BITOP", "NOT", "d", "nope"],
    ["BITOP", "NOT", "d", "a", "b"],
    ["BITOP", "NOT", "d"],
    ["BITOP", "NAND", "d", "a"],
    ["BITOP", "NAND", "d", "a", "b"],
    ["BITOP", "AND", "d"],
    ["BITOP", "AND", "a", "a", "b"],
    ["GET", "a"],
    ["SET", "e", ""],
    ["BITOP", "AND", "d", "e"],
    ["EXISTS", "d"],
    ["SET", "t", "x", "EX", 100],
    ["BITOP", "OR", "t", "b"],
    ["TTL", "t"],
    ["LPUSH", "l", "x"],
    ["BITOP", "OR", "d", "a", "l"],
    ["BITOP", "OR", "l", "a"],
    ["GET", "l"],
  ],
  "bitfield get set incrby": [
    ["BITFIELD", "k", "SET", "u8", 0, 255, "GET", "u8", 0],
    ["BITFIELD", "k", "INCRBY", "u8", 0, 10, "GET", "u8", 0],
    ["BITFIELD", "k", "incrby", "i5", 100, 1, "get", "u4", 0],
    ["BITFIELD", "k", "SET", "i8", "#1", -100, "GET", "i8", "#1"],
    ["GET", "k"],
    ["BITFIELD", "k", "GET", "i64", 0, "GET", "u63", 1, "GET", "i1", 3],
    ["BITFIELD", "k", "SET", "i64", 0, I64_MIN, "GET", "i64", 0],
    ["BITFIELD", "k", "SET", "i64", 3, I64_MAX, "GET", "i64", 3],
    ["BITFIELD", "k", "INCRBY", "i64", 3, 1],
    ["BITFIELD", "k", "INCRBY", "i64", 3, -1],
    ["BITFIELD", "k", "SET", "u63", 5, -1, "GET", "u63", 5],
    ["BITFIELD", "k", "INCRBY", "u63", 5, 1],
    ["BITFIELD", "k", "SET", "u32", 7, 4294967295, "GET", "u32", 7],
    ["BITFIELD", "k", "INCRBY", "u32", 7, 4294967297],
    ["BITFIELD", "k", "SET", "i33", 9, -4294967296, "GET", "i33", 9],
    ["BITFIELD", "k", "SET", "u1", 1000, 1, "GET", "u1", 1000],
    ["STRLEN", "k"],
    ["BITFIELD", "k"],
    ["BITFIELD", "missing"],
    ["BITFIELD", "missing", "GET", "u8", 0],
    ["EXISTS", "missing"],
    ["BITFIELD", "k", "GET", "u8", 100000],
    ["BITFIELD", "k", "GET", "i64", "#2305843009213693952"],
    ["BITFIELD", "k", "GET", "u8", "#2305843009213693952"],
  ],
  "bitfield overflow": [
    ["BITFIELD", "k", "SET", "u8", 0, 250],
    ["BITFIELD", "k", "INCRBY", "u8", 0, 10],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u8", 0, 100],
    ["BITFIELD", "k", "OVERFLOW", "sat", "INCRBY", "u8", 0, -1000],
    ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", 0, -1],
    ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "u8", 0, 1, "GET", "u8", 0],
    ["BITFIELD", "k", "OVERFLOW", "fail", "SET", "u8", 0, 256, "GET", "u8", 0],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", 0, 256, "GET", "u8", 0],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u8", 0, -5, "GET", "u8", 0],
    ["BITFIELD", "k", "OVERFLOW", "WRAP", "SET", "u8", 0, -5, "GET", "u8", 0],
    ["BITFIELD", "k", "SET", "i8", 0, 127, "INCRBY", "i8", 0, 1],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", 0, 1000],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -1000],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", 0, I64_MIN],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "i8", 0, I64_MAX],
    ["BITFIELD", "k", "SET", "i8", 0, I64_MIN, "GET", "i8", 0],
    ["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "i8", 0, I64_MIN],
    ["BITFIELD", "k", "SET", "i64", 0, I64_MAX, "INCRBY", "i64", 0, 1],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", 0, I64_MAX],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", 0, I64_MIN],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i64", 0, I64_MIN],
    ["BITFIELD", "k", "OVERFLOW", "FAIL", "INCRBY", "i64", 0, -1],
    ["BITFIELD", "k", "OVERFLOW", "WRAP", "INCRBY", "i64", 0, -1],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u63", 0, I64_MAX],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "u63", 0, I64_MIN],
    ["BITFIELD", "k", "OVERFLOW", "SAT", "SET", "u63", 0, I64_MIN],
    ["BITFIELD", "k", "OVERFLOW", "FAIL", "SET", "u2", 0, 3, "SET", "u2", 0, 4],
    [
      "BITFIELD",
      "k",
      "INCRBY",
      "u2",
      0,
      5,
      "OVERFLOW",
      "SAT",
      "INCRBY",
      "u2",
      0,
      5,
      "OVERFLOW",
      "FAIL",
      "INCRBY",
      "u2",
      0,
      5,
      "OVERFLOW",
      "WRAP",
      "INCRBY",
      "u2",
      0,
      5,
    ],
    ["BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "u8", 80, 1000],
    ["GET", "new"],
    ["BITFIELD", "new", "OVERFLOW", "FAIL", "INCRBY", "i1", 0, 1],
    ["BITFIELD", "new", "INCRBY", "i1", 0, 1, "INCRBY", "i1", 0, 1],
  ],
  "bitfield errors": [
    ["BITFIELD", "k", "GET", "I8", 0],
    ["BITFIELD", "k", "GET", "u64", 0],
    ["BITFIELD", "k", "GET", "i65", 0],
    ["BITFIELD", "k", "GET", "i0", 0],
    ["BITFIELD", "k", "GET", "u-1", 0],
    ["BITFIELD", "k", "GET", "u", 0],
    ["BITFIELD", "k", "GET", "", 0],
    ["BITFIELD", "k", "GET", "8", 0],
    ["BITFIELD", "k", "GET", "u8x", 0],
    ["BITFIELD", "k", "GET", "u08", 0],
    ["BITFIELD", "k", "GET", "u8\x00zz", 0],
    ["BITFIELD", "k", "GET", "u8", -1],
    ["BITFIELD", "k", "GET", "u8", "#-1"],
    ["BITFIELD", "k", "GET", "u8", "#"],
    ["BITFIELD", "k", "GET", "u8", "x"],
    ["BITFIELD", "k", "GET", "u8", 4294967296],
    ["BITFIELD", "k", "GET", "u8", "#536870912"],
    ["BITFIELD", "k", "GET", "u8", "#536870911"],
    ["BITFIELD", "k", "GET", "u8", "#1152921504606846976"],
    ["BITFIELD", "k", "SET", "u8", 0, "x"],
    ["BITFIELD", "k", "SET", "u8", 0, "99999999999999999999"],
    ["BITFIELD", "k", "SET", "u8", 0],
    ["BITFIELD", "k", "INCRBY", "u8", 0],
    ["BITFIELD", "k", "GET", "u8"],
    ["BITFIELD", "k", "OVERFLOW"],
    ["BITFIELD", "k", "OVERFLOW", "BOGUS", "GET", "u8", 0],
    ["BITFIELD", "k", "BOGUS"],
    ["BITFIELD", "k", "GET", "u8", 0, "extra"],
    ["BITFIELD", "k", "GET", "u8", 0, "SET", "I8", 0, 1],
    ["BITFIELD", "k", "SET", "u8", 0, 1, "GET", "x8", 0],
    ["EXISTS", "k"],
    ["BITFIELD"],
    ["RPUSH", "l", "x"],
    ["BITFIELD", "l"],
    ["BITFIELD", "l", "GET", "u8", 0],
    ["BITFIELD", "l", "SET", "u8", 0, 1],
    ["BITFIELD", "l", "GET", "x8", 0],
  ],
  "bitfield_ro": [
    ["SET", "k", "\x01\x02"],
    ["BITFIELD_RO", "k", "GET", "u8", 0, "GET", "u8", 8, "get", "i16", 0],
    ["BITFIELD_RO", "k"],
    ["BITFIELD_RO", "missing", "GET", "u8", 0],
    ["BITFIELD_RO", "k", "SET", "u8", 0, 1],
    ["BITFIELD_RO", "k", "INCRBY", "u8", 0, 1],
    ["BITFIELD_RO", "k", "SET", "u8", 0, "x"],
    ["BITFIELD_RO", "k", "OVERFLOW", "SAT", "GET", "u8", 0],
    ["BITFIELD_RO", "k", "GET", "u64", 0],
    ["BITFIELD_RO", "k", "BOGUS"],
    ["ZADD", "set", 1, "a"],
    ["BITFIELD_RO", "set", "GET", "u8", 0],
    ["BITFIELD_RO", "set", "SET", "u8", 0, 1],
    ["BITFIELD_RO"],
    ["GET", "k"],
  ],
  lcs: [
    ["SET", "x", "ohmytext"],
    ["SET", "y", "mynewtext"],
    ["LCS", "x", "y"],
    ["LCS", "x", "y", "LEN"],
    ["LCS", "x", "y", "IDX"],
    ["LCS", "x", "y", "idx", "WITHMATCHLEN"],
    ["LCS", "x", "y", "IDX", "MINMATCHLEN", 4],
    ["LCS", "x", "y", "IDX", "MINMATCHLEN", 2, "WITHMATCHLEN"],
    ["LCS", "x", "y", "IDX", "MINMATCHLEN", -5, "WITHMATCHLEN"],
    ["LCS", "x", "y", "IDX", "MINMATCHLEN", 100],
    ["LCS", "x", "y", "LEN", "MINMATCHLEN", 100],
    ["LCS", "x", "y", "WITHMATCHLEN"],
    ["LCS", "x", "missing"],
    ["LCS", "missing", "missing", "IDX"],
    ["LCS", "missing", "x", "LEN"],
    ["LCS", "x", "x", "IDX", "WITHMATCHLEN"],
    ["SET", "a", "abcabcabc"],
    ["SET", "b", "cbacbacba"],
    ["LCS", "a", "b"],
    ["LCS", "a", "b", "IDX", "WITHMATCHLEN"],
    ["SET", "c", "\x00\xff\x00"],
    ["SET", "d", "\xff\x00"],
    ["LCS", "c", "d"],
    ["LCS", "c", "d", "IDX"],
    ["LCS", "x", "y", "IDX", "LEN"],
    ["LCS", "x", "y", "LEN", "IDX"],
    ["LCS", "x", "y", "MINMATCHLEN"],
    ["LCS", "x", "y", "MINMATCHLEN", "x"],
    ["LCS", "x", "y", "MINMATCHLEN", "x", "IDX", "LEN"],
    ["LCS", "x", "y", "BOGUS"],
    ["LCS", "x"],
    ["LPUSH", "l", "a"],
    ["LCS", "l", "x"],
    ["LCS", "x", "l", "BOGUS"],
  ],
  "lcs table limit": [
    ["CONFIG", "SET", "proto-max-bulk-len", "1mb"],
    ["SET", "a", "a".repeat(600)],
    ["SET", "b", "b".repeat(600)],
    ["LCS", "a", "b", "LEN"],
    ["SET", "b", "a".repeat(400)],
    ["LCS", "a", "b", "LEN"],
    ["SETBIT", "big", 8 * 1024 * 1024, 1],
    ["SETBIT", "big", 8 * 1024 * 1024 - 1, 1],
    ["BITFIELD", "big", "GET", "u8", "#1048576"],
    ["CONFIG", "SET", "proto-max-bulk-len", "512mb"],
  ],
  // Values past FLAT_MAX (4096 bytes) that a bit command wrote are kept in
  // a mutable buffer: every other command sees the same string.
  "large bitmaps read and written as strings": [
    ["SETBIT", "b", 40000, 1],
    ["SETBIT", "b", 7, 1],
    ["SETBIT", "b", 7, 1],
    ["BITFIELD", "b", "SET", "u16", 100, 65535, "INCRBY", "i8", 39990, 5],
    ["GET", "b"],
    ["STRLEN", "b"],
    ["TYPE", "b"],
    ["OBJECT", "ENCODING", "b"],
    ["SETBIT", "b", 40008, 1],
    ["GETBIT", "b", 40000],
    ["GETBIT", "b", 40001],
    ["BITCOUNT", "b"],
    ["BITCOUNT", "b", 1, 4000],
    ["BITCOUNT", "b", -2, -1, "BIT"],
    ["BITPOS", "b", 1, 2],
    ["BITPOS", "b", 0, 0, -1, "BIT"],
    ["BITFIELD_RO", "b", "GET", "u16", 100, "GET", "i64", 39990],
    ["BITFIELD", "b", "GET", "u16", 100],
    ["GETRANGE", "b", 0, 20],
    ["GETRANGE", "b", -5, -1],
    ["SETBIT", "b", 50000, 1],
    ["APPEND", "b", "tail"],
    ["STRLEN", "b"],
    ["SETBIT", "b", 50081, 1],
    ["GETRANGE", "b", -10, -1],
    ["SETRANGE", "b", 10, "xyz"],
    ["SETBIT", "b", 0, 1],
    ["GET", "b"],
    ["SETRANGE", "b", 60000, "far"],
    ["BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", 480000, 300],
    ["STRLEN", "b"],
    ["EXPIRE", "b", 100],
    ["SETBIT", "b", 70000, 1],
    ["TTL", "b"],
    ["BITFIELD", "b", "SET", "u8", 80000, 1],
    ["TTL", "b"],
    ["PERSIST", "b"],
    ["TTL", "b"],
    ["EXISTS", "b"],
    ["INCR", "b"],
    ["PFADD", "b", "x"],
    ["SET", "c", "x".repeat(5000)],
    ["SETBIT", "c", 3, 1],
    ["SETBIT", "small", 1, 1],
    ["LCS", "small", "c", "LEN"],
    ["LCS", "c", "small"],
    ["BITOP", "OR", "d", "b", "c"],
    ["STRLEN", "d"],
    ["GET", "d"],
    ["BITOP", "NOT", "e", "d"],
    ["BITCOUNT", "e"],
    ["SETBIT", "e", 3, 1],
    ["GETRANGE", "e", 0, 3],
    ["BITOP", "AND", "d", "d", "missing"],
    ["BITCOUNT", "d"],
    ["BITOP", "XOR", "e", "e", "e"],
    ["BITCOUNT", "e"],
    ["BITOP", "AND", "e", "missing"],
    ["EXISTS", "e"],
    ["RENAME", "b", "b2"],
    ["GET", "b2"],
    ["COPY", "b2", "b3"],
    ["SETBIT", "b3", 9, 1],
    ["GETBIT", "b2", 9],
    ["GETBIT", "b3", 9],
    ["GETDEL", "b2"],
    ["EXISTS", "b2"],
    ["SET", "f", "y".repeat(4096)],
    ["SETBIT", "f", 0, 0],
    ["SETBIT", "f", 32768, 1],
    ["GET", "f"],
    ["MGET", "b3", "f", "c"],
    ["SET", "b3", "short"],
    ["SETBIT", "b3", 1, 1],
    ["GET", "b3"],
    ["GETSET", "f", "z"],
    ["GET", "f"],
    ["RPUSH", "l", "x"],
    ["SETBIT", "l", 40000, 1],
    ["BITFIELD", "l", "SET", "u8", 40000, 1],
    ["DEL", "c"],
    ["BITFIELD", "c", "SET", "i64", 64000, -1],
    ["GETRANGE", "c", 7990, 8010],
    ["DBSIZE"],
  ],
};

Deno.test({
  name: "bitmap: replies identical to redis-server",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, CASES);
  },
});

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCommand(r: () => number): Cmd {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (n: number) => Math.floor(r() * n);
  const key = () => pick(["a", "b", "c", "l"]);
  const off = () => pick([int(40), int(200), -int(30), int(8)]);
  const unit = () => pick([[], ["BIT"], ["BYTE"], ["bit"]]);
  const type = () => pick(["i", "u"]) + (1 + int(20));
  const wide = () => pick(["i64", "u63", "i33", "u32", "i63"]);
  const big = () =>
    pick([
      String(int(1000) - 500),
      I64_MAX,
      I64_MIN,
      String(2 ** 40 + int(1000)),
      String(-(2 ** 33)),
    ]);
  switch (int(12)) {
    case 0:
      return ["SETBIT", key(), int(120), int(2)];
    case 1:
      return ["GETBIT", key(), int(140)];
    case 2: {
      const c: Cmd = ["BITCOUNT", key()];
      if (r() < 0.7) c.push(off(), off(), ...unit());
      return c;
    }
    case 3: {
      const c: Cmd = ["BITPOS", key(), int(2)];
      if (r() < 0.8) c.push(off());
      if (r() < 0.6) c.push(off(), ...unit());
      return c;
    }
    case 4: {
      const op = pick(["AND", "OR", "XOR", "NOT"]);
      const n = op === "NOT" ? 1 : 1 + int(3);
      return ["BITOP", op, key(), ...Array.from({ length: n }, key)];
    }
    case 5:
    case 6:
    case 7: {
      const c: Cmd = [pick(["BITFIELD", "BITFIELD", "BITFIELD_RO"]), key()];
      const n = 1 + int(4);
      for (let i = 0; i < n; i++) {
        if (r() < 0.3) c.push("OVERFLOW", pick(["WRAP", "SAT", "FAIL"]));
        const t = r() < 0.3 ? wide() : type();
        const o = r() < 0.2 ? `#${int(6)}` : String(int(100));
        const which = int(3);
        if (which === 0) c.push("GET", t, o);
        else {
          c.push(which === 1 ? "SET" : "INCRBY", t, o, big());
        }
      }
      return c;
    }
    case 8:
      return [
        "LCS",
        key(),
        key(),
        ...pick([
          [],
          ["LEN"],
          ["IDX"],
          ["IDX", "WITHMATCHLEN"],
          ["IDX", "MINMATCHLEN", String(int(4))],
        ]),
      ];
    case 9:
      return [
        "SET",
        key(),
        Array.from({ length: int(12) }, () => pick(["a", "b", "\x00", "\xff"]))
          .join(""),
      ];
    case 10:
      return ["SETRANGE", key(), int(10), pick(["x", "\xf0\x0f", "ab"])];
    default:
      return pick([["GET", key()], ["DEL", key()], ["RPUSH", "l", "x"]]);
  }
}

Deno.test({
  name: "bitmap: seeded random commands give the same replies as redis-server",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using a = await Conn.open(redis.port);
    using b = await Conn.open(ours.port);
    const r = rng(20240607);
    for (const resp of [2, 3]) {
      await a.call("FLUSHALL");
      await b.call("FLUSHALL");
      await a.call("HELLO", String(resp));
      await b.call("HELLO", String(resp));
      for (let i = 0; i < 2500; i++) {
        const cmd = randomCommand(r);
        const wire = encodeCommand(cmd);
        const expected = await a.rawReplies(wire);
        const actual = await b.rawReplies(wire);
        assert.equal(
          actual,
          expected,
          `#${i} RESP${resp} ${JSON.stringify(cmd)}`,
        );
      }
      for (const k of ["a", "b", "c"]) {
        const wire = encodeCommand(["GET", k]);
        assert.equal(await b.rawReplies(wire), await a.rawReplies(wire));
      }
    }
  },
});

Deno.test("bitmap: operations at the store level", () => {
  const store = new Store();
  const ops = store.bitmaps;
  assert.equal(ops.setbit("k", 7, 1), 0);
  assert.equal(ops.setbit("k", 7, 1), 1);
  assert.equal(store.get("k"), "\x01");
  assert.equal(ops.getbit("k", 7), 1);
  assert.equal(ops.getbit("k", 6), 0);
  assert.equal(ops.getbit("nope", 6), 0);
  assert.equal(ops.setbit("k", 23, 1), 0);
  assert.equal(store.get("k"), "\x01\x00\x01");
  assert.equal(ops.bitcount("k"), 2);
  assert.equal(ops.bitcount("k", { start: 1, end: 1 }), 0);
  assert.equal(ops.bitcount("k", { start: 7, end: 7, unit: "BIT" }), 1);
  assert.equal(ops.bitpos("k", 1), 7);
  assert.equal(ops.bitpos("k", 1, { start: 1 }), 23);
  assert.equal(ops.bitpos("k", 0), 0);
  assert.equal(ops.bitpos("nope", 0), 0);
  assert.equal(ops.bitpos("nope", 1), -1);
  store.set("f", "\xff");
  assert.equal(ops.bitpos("f", 0), 8);
  assert.equal(ops.bitpos("f", 0, { start: 0, end: 0 }), -1);
  assert.equal(ops.bitop("NOT", "d", ["f"]), 1);
  assert.equal(store.get("d"), "\x00");
  assert.equal(ops.bitop("OR", "d", ["k", "f"]), 3);
  assert.equal(store.get("d"), "\xff\x00\x01");
  assert.equal(ops.bitop("AND", "d", ["missing"]), 0);
  assert.equal(store.has("d"), false);
  assert.throws(() => ops.bitop("NOT", "d", ["a", "b"]), /single source/);
  assert.deepEqual(
    ops.bitfield("bf", [
      { op: "SET", signed: false, bits: 8, offset: 0, value: 200 },
      { op: "INCRBY", signed: false, bits: 8, offset: 0, value: 100 },
      {
        op: "INCRBY",
        signed: false,
        bits: 8,
        offset: 0,
        value: 250,
        overflow: "FAIL",
      },
      { op: "SET", signed: true, bits: 64, offset: 8, value: -(2n ** 63n) },
      { op: "GET", signed: true, bits: 64, offset: 8 },
      { op: "GET", signed: false, bits: 4, offset: 4 },
    ]),
    [0, 44, null, 0, -(2n ** 63n), 12],
  );
  assert.throws(
    () =>
      ops.bitfield("bf", [
        { op: "SET", signed: false, bits: 8, offset: 0, value: 1 },
      ], { readonly: true }),
    /BITFIELD_RO/,
  );
  assert.throws(
    () =>
      ops.bitfield("bf", [{ op: "GET", signed: false, bits: 64, offset: 0 }]),
    /Invalid bitfield type/,
  );
  assert.throws(() => ops.setbit("k", -1, 1), /bit offset/);
  assert.throws(() => ops.setbit("k", 1, 2), /bit is not/);
  store.maxStringLength = 10;
  assert.throws(() => ops.setbit("k", 80, 1), /bit offset/);
  assert.equal(ops.setbit("k", 79, 1), 0);
  store.maxStringLength = 512 * 1024 * 1024;
  store.set("x", "ohmytext");
  store.set("y", "mynewtext");
  assert.equal(ops.lcs("x", "y"), "mytext");
  assert.equal(ops.lcsLen("x", "y"), 6);
  assert.deepEqual(ops.lcsIdx("x", "y", { minMatchLen: 4 }), {
    matches: [[[4, 7], [5, 8], 4]],
    len: 6,
  });
  store.lists.lpush("h", ["x"]); // another type for all of these
  assert.throws(() => ops.lcs("h", "x"), /must contain string values/);
  assert.throws(() => ops.getbit("h", 0), /WRONGTYPE/);
});

Deno.test("bitmap: pure helpers on byte strings and buffers agree", () => {
  const r = rng(7);
  for (let n = 0; n < 200; n++) {
    const len = Math.floor(r() * 20);
    const bytes = new Uint8Array(len);
    for (let i = 0; i < len; i++) bytes[i] = r() < 0.3 ? 0xff : r() * 256;
    const s = String.fromCharCode(...bytes);
    const start = Math.floor(r() * 200) - 100, end = Math.floor(r() * 200) - 50;
    for (const unit of ["BIT", "BYTE"] as const) {
      assert.equal(
        bitcountOf(bytes, { start, end, unit }),
        bitcountOf(s, { start, end, unit }),
      );
      for (const bit of [0, 1]) {
        assert.equal(
          bitposOf(bytes, bit, { start, end, unit }),
          bitposOf(s, bit, { start, end, unit }),
        );
      }
    }
    // BIT ranges counted one bit at a time.
    const lo = Math.max(0, Math.floor(r() * len * 8));
    const hi = Math.min(len * 8 - 1, lo + Math.floor(r() * 40));
    let count = 0;
    for (let i = lo; i <= hi; i++) {
      count += (bytes[i >> 3] >> (7 - (i & 7))) & 1;
    }
    if (lo <= hi) {
      assert.equal(bitcountOf(s, { start: lo, end: hi, unit: "BIT" }), count);
    }
  }
  assert.equal(lcsOf("", "abc").lcs, "");
  assert.deepEqual(lcsOf("abc", "abc", { idx: true }).matches, [
    [[0, 2], [0, 2], 3],
  ]);
});

Deno.test("bitmap: Bitmap buffer: clone independence, rewrite round trip, growth", async () => {
  const b = Bitmap.from("ab");
  const c = b.clone();
  b.setBit(0, 1);
  assert.equal(b.toString(), "\xe1b");
  assert.equal(c.toString(), "ab");
  assert.equal(b.getBit(0), 1);
  assert.equal(c.getBit(0), 0);
  assert.equal(b.type, "string");
  assert.equal(b.encoding(), "embstr");
  for (let i = 0; i < 1000; i++) b.setBit(16 + i * 9, 1);
  assert.equal(b.length, Math.floor((16 + 999 * 9) / 8) + 1);
  assert.equal(b.bitCount(), 1000 + 7);
  assert.equal(b.encoding(), "raw");
  const store = new Store();
  for (const argv of b.rewrite("k")) {
    assert.equal(argv[0], "SET");
    store.set(argv[1], argv[2]);
  }
  assert.equal(store.get("k"), b.toString());
  assert.equal(store.bitmaps.bitcount("k"), 1007);
  if (!hasRedis) return;
  // The rewrite applied to a real server gives the same value.
  await using redis = await RedisServer.start();
  using conn = await Conn.open(redis.port);
  for (const argv of b.rewrite("k")) await conn.call(...argv.map(bin));
  assert.equal(await conn.call("BITCOUNT", "k"), 1007);
  assert.equal(await conn.call("STRLEN", "k"), b.length);
});

function bin(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

Deno.test("bitmap: a snapshot keeps the value from before a SETBIT or BITFIELD", () => {
  const store = new Store();
  store.bitmaps.setbit("k", 0, 1);
  store.bitmaps.setbit("j", 0, 1);
  {
    using snap = store.snapshot();
    store.bitmaps.setbit("k", 1, 1);
    store.bitmaps.bitfield("j", [{
      op: "SET",
      signed: false,
      bits: 8,
      offset: 8,
      value: 7,
    }]);
    store.bitmaps.bitop("NOT", "n", ["k"]);
    const seen = new Map(snap.next(100).map(([k, v]) => [k, v]));
    assert.equal(seen.get("k"), "\x80");
    assert.equal(seen.get("j"), "\x80");
    assert.equal(seen.has("n"), false);
  }
  assert.equal(store.get("k"), "\xc0");
  assert.equal(store.get("j"), "\x80\x07");
});

Deno.test("bitmap: large values: counts and searches are linear, reads O(1)", () => {
  const store = new Store();
  const ops = store.bitmaps;
  const size = 16 * 1024 * 1024; // 128M bits
  store.set("big", "\0".repeat(size - 1) + "\x01");
  let t = performance.now();
  assert.equal(ops.bitcount("big"), 1);
  assert.equal(ops.bitpos("big", 1), size * 8 - 1);
  const scanMs = performance.now() - t;
  assert.ok(scanMs < 3000, `bitcount+bitpos of 16 MB took ${scanMs} ms`);
  // 1M reads anywhere in the string: constant time each.
  t = performance.now();
  let ones = 0;
  for (let i = 0; i < 1_000_000; i++) {
    ones += ops.getbit("big", (i * 104729) % (size * 8));
  }
  assert.equal(ones, 0);
  for (let i = 0; i < 100_000; i++) {
    ops.bitfield("big", [{
      op: "GET",
      signed: true,
      bits: 64,
      offset: (i * 7919) % (size * 8 - 64),
    }]);
  }
  const readMs = performance.now() - t;
  assert.ok(readMs < 4000, `1M GETBIT + 100k BITFIELD GET took ${readMs} ms`);
  // A bitmap built bit by bit (1M SETBITs) in the mutable buffer the store
  // could keep: O(1) each.
  const b = new Bitmap();
  t = performance.now();
  for (let i = 0; i < 1_000_000; i++) b.setBit(i * 3, 1);
  assert.equal(b.bitCount(), 1_000_000);
  const setMs = performance.now() - t;
  assert.ok(setMs < 2000, `1M Bitmap.setBit took ${setMs} ms`);
});

/** Random commands that also read and change the values as strings. */
function randomStringCommand(r: () => number): Cmd {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (n: number) => Math.floor(r() * n);
  const key = () => pick(["a", "b", "c"]);
  switch (int(10)) {
    case 0:
      return ["APPEND", key(), pick(["x", "\xff\x00"])];
    case 1:
      return ["GETRANGE", key(), int(20) - 5, int(40) - 5];
    case 2:
      return ["STRLEN", key()];
    case 3:
      return pick([["EXPIRE", key(), 1000], ["TTL", key()], [
        "PERSIST",
        key(),
      ]]);
    case 4:
      return ["SETBIT", key(), int(400), int(2)];
    case 5:
      return ["BITFIELD", key(), "INCRBY", pick(["u8", "i16"]), int(300), 7];
    case 6:
      return pick([["COPY", key(), key(), "REPLACE"], [
        "RENAME",
        key(),
        key(),
      ]]);
    default:
      return randomCommand(r);
  }
}

Deno.test({
  name:
    "bitmap: seeded random commands on values kept as Bitmap buffers give the same replies as redis-server",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    // Every value a bit command writes past 4 bytes becomes a Bitmap.
    ours.store.bitmaps.flatMax = 4;
    using a = await Conn.open(redis.port);
    using b = await Conn.open(ours.port);
    const r = rng(99173);
    for (const resp of [2, 3]) {
      await a.call("FLUSHALL");
      await b.call("FLUSHALL");
      await a.call("HELLO", String(resp));
      await b.call("HELLO", String(resp));
      for (let i = 0; i < 2500; i++) {
        const cmd = randomStringCommand(r);
        const wire = encodeCommand(cmd);
        const expected = await a.rawReplies(wire);
        const actual = await b.rawReplies(wire);
        assert.equal(
          actual,
          expected,
          `#${i} RESP${resp} ${JSON.stringify(cmd)}`,
        );
      }
      for (const k of ["a", "b", "c"]) {
        const wire = encodeCommand(["GET", k]);
        assert.equal(await b.rawReplies(wire), await a.rawReplies(wire));
      }
    }
  },
});

Deno.test("bitmap: 10,000 SETBITs on a 16 MB value are O(1) each, and it stays a string", () => {
  let now = 1_000_000;
  const store = new Store({ clock: () => now });
  const ops = store.bitmaps;
  const size = 16 * 1024 * 1024;
  store.set("big", "\0".repeat(size), { expireAt: now + 60_000 });
  const t = performance.now();
  for (let i = 0; i < 10_000; i++) {
    ops.setbit("big", (i * 2_654_435_761) % (size * 8), 1);
  }
  const ms = performance.now() - t;
  assert.ok(ms < 1000, `10,000 SETBITs on 16 MB took ${ms} ms`);
  assert.equal(ops.bitcount("big"), 10_000);
  // BITFIELD writes in place too.
  const t2 = performance.now();
  for (let i = 0; i < 10_000; i++) {
    ops.bitfield("big", [{
      op: "INCRBY",
      signed: false,
      bits: 8,
      offset: size * 8 - 8 - (i % 1000) * 8,
      value: 1,
    }]);
  }
  const ms2 = performance.now() - t2;
  assert.ok(ms2 < 1000, `10,000 BITFIELD INCRBYs on 16 MB took ${ms2} ms`);
  assert.equal(store.type("big"), "string");
  assert.equal(store.expiryOf("big"), now + 60_000);
  const v = store.get("big")!;
  assert.equal(typeof v, "string");
  assert.equal(v.length, size);
  assert.equal(v.charCodeAt(size - 1), 10);
  now += 60_001;
  assert.equal(ops.getbit("big", 0), 0);
  assert.equal(store.has("big"), false);
});

Deno.test("bitmap: values past FLAT_MAX become Bitmaps only through bit writes; smaller ones stay flat", () => {
  const store = new Store();
  const ops = store.bitmaps;
  const seen = () => {
    // The snapshot shows the string either way: peek at the live form
    // through readBitsQuiet (a Bitmap's bytes are a Uint8Array).
    return typeof store.readBitsQuiet("k");
  };
  ops.setbit("k", FLAT_MAX * 8 - 1, 1);
  assert.equal(seen(), "string");
  ops.setbit("k", FLAT_MAX * 8, 1);
  assert.equal(seen(), "object");
  assert.equal(store.get("k")!.length, FLAT_MAX + 1);
  assert.equal(seen(), "string"); // GET turned it back
  ops.bitfield("k", [{
    op: "SET",
    signed: false,
    bits: 8,
    offset: 0,
    value: 1,
  }]);
  assert.equal(seen(), "object");
  ops.bitfield("j", [{
    op: "SET",
    signed: false,
    bits: 8,
    offset: 0,
    value: 1,
  }]);
  assert.equal(typeof store.readBitsQuiet("j"), "string");
  assert.equal(ops.bitop("NOT", "n", ["k"]), FLAT_MAX + 1);
  assert.equal(typeof store.readBitsQuiet("n"), "object");
  assert.equal(ops.bitop("NOT", "m", ["j"]), 1);
  assert.equal(store.get("m"), "\xfe");
  assert.equal(typeof store.readBitsQuiet("m"), "string");
  // Reads of a Bitmap count hits and misses as string reads do.
  const hits = store.stats.hits;
  ops.getbit("n", 0);
  ops.bitcount("n");
  assert.equal(store.stats.hits, hits + 2);
  store.lists.rpush("l", ["x"]);
  assert.throws(() => store.readBits("l"), /WRONGTYPE/);
  assert.throws(() => store.writableBits("l", true), /WRONGTYPE/);
  assert.throws(() => ops.setbit("l", FLAT_MAX * 16, 1), /WRONGTYPE/);
  // Writes stop at V8's longest string (reads past it see zeros).
  const last = MAX_BITMAP_BYTES * 8;
  assert.throws(() => ops.setbit("z", last, 1), /bit offset/);
  assert.throws(
    () =>
      ops.bitfield("z", [
        { op: "SET", signed: false, bits: 8, offset: last - 4, value: 1 },
      ]),
    /bit offset/,
  );
  assert.equal(ops.getbit("z", last + 100), 0);
  assert.deepEqual(
    ops.bitfield("n", [{ op: "GET", signed: false, bits: 8, offset: last }]),
    [0],
  );
  assert.equal(store.has("z"), false);
});

Deno.test("bitmap: a snapshot during bit writes on Bitmap values keeps the old bytes", () => {
  const store = new Store();
  const ops = store.bitmaps;
  const n = FLAT_MAX * 8 + 8; // bits: a Bitmap
  ops.setbit("b", n, 1); // a Bitmap
  store.set("s", "\x01".repeat(FLAT_MAX + 10)); // a long flat string
  ops.setbit("d", n, 1);
  const before = {
    b: store.get("b")!,
    s: store.get("s")!,
    d: store.get("d")!,
  };
  ops.setbit("b", 0, 1); // a Bitmap again (GET turned it into a string)
  ops.setbit("d", 1, 1);
  before.b = store.get("b")!;
  before.d = store.get("d")!;
  ops.setbit("b", 2, 1);
  ops.setbit("d", 2, 1);
  const liveB = store.get("b")!;
  ops.setbit("b", 3, 1);
  {
    using snap = store.snapshot();
    ops.setbit("b", 4, 1); // copy on write
    ops.setbit("b", 5, 1);
    ops.bitfield("s", [{
      op: "SET",
      signed: true,
      bits: 16,
      offset: 0,
      value: -1,
    }]);
    ops.bitop("NOT", "d", ["b"]); // replaced
    ops.setbit("new", n, 1);
    const seen = new Map(snap.next(100).map(([k, v]) => [k, v]));
    assert.equal(seen.get("b"), bitsOn(liveB, [3]));
    assert.equal(seen.get("s"), before.s);
    assert.equal(seen.get("d"), bitsOn(before.d, [2]));
    assert.equal(seen.has("new"), false);
    assert.equal(ops.getbit("b", 5), 1);
  }
  assert.equal(store.get("b"), bitsOn(liveB, [3, 4, 5]));
  assert.equal(store.get("s")!.slice(0, 3), "\xff\xff\x01");
});

/** `s` with the given bits set. */
function bitsOn(s: string, bits: number[]): string {
  const b = Bitmap.from(s);
  for (const bit of bits) b.setBit(bit, 1);
  return b.toString();
}

Deno.test({
  name:
    "bitmap: SAVE, a restart and the append-only log keep Bitmap values; PFCOUNT's cache update is logged and replayed",
  ignore: !hasRedis,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-bitmap-aof-" });
    try {
      const writes: Cmd[] = [
        ["SETBIT", "b", 100_000, 1],
        ["SETBIT", "b", 7, 1],
        ["BITFIELD", "b", "SET", "i64", "#3", -5, "INCRBY", "u8", 99_992, 9],
        ["SETBIT", "b", 120_000, 1],
        ["SET", "t", "x".repeat(5000), "EX", 1000],
        ["SETBIT", "t", 3, 0],
        ["BITOP", "XOR", "x", "b", "t"],
        ["SETBIT", "x", 200_001, 1],
        ["SETBIT", "small", 3, 1],
        ["PFADD", "h", "a", "b", "c"],
        ["PFCOUNT", "h"],
        ["PFCOUNT", "h"],
        ["APPEND", "b", "end"],
        ["SETBIT", "b", 130_000, 1],
      ];
      const keys = ["b", "t", "x", "small", "h"];
      // The values redis-server holds after the same commands.
      const expected = new Map<string, unknown>();
      {
        await using redis = await RedisServer.start();
        using c = await Conn.open(redis.port);
        for (const cmd of writes) await c.call(...cmd);
        for (const k of keys) expected.set(k, await c.call("GET", k));
      }
      const check = async (c: Conn, from: string) => {
        for (const k of keys) {
          assert.equal(await c.call("GET", k), expected.get(k), `${k} ${from}`);
        }
        const ttl = await c.call("TTL", "t") as number;
        assert.ok(ttl > 900 && ttl <= 1000, `TTL ${ttl} ${from}`);
      };
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        for (const cmd of writes) await c.call(...cmd);
        await check(c, "live");
        // Bit writes after the check: b, t and x are Bitmaps again.
        for (const cmd of [["SETBIT", "b", 9, 1], ["SETBIT", "t", 0, 1]]) {
          await c.call(...cmd);
          await c.call(...cmd.slice(0, 3), 0);
        }
        assert.equal(await c.call("SAVE"), "OK");
      }
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.equal(
        log.split("PFCOUNT").length - 1,
        1,
        "the first PFCOUNT (it cached the estimate) is logged, not the second",
      );
      for (const appendonly of [true, false]) {
        await using server = await startServer({ dir, appendonly });
        using c = await Conn.open(server.port);
        await check(c, appendonly ? "from the log" : "from the snapshot");
      }
      {
        // A rewritten log (from the values, Bitmaps included) loads the same.
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await c.call("SETBIT", "b", 130_000, 0);
        await c.call("SETBIT", "b", 130_000, 1);
        assert.match(String(await c.call("BGREWRITEAOF")), /rewriting/);
        for (let i = 0; i < 200; i++) {
          const info = await c.call("INFO", "persistence") as string;
          if (info.includes("aof_rewrite_in_progress:0")) break;
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const rewritten = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.ok(!rewritten.includes("SETBIT"), "rewritten from the values");
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await check(c, "from the rewritten log");
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
