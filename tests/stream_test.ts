// Streams: byte-for-byte comparison with redis-server, a seeded random
// comparison, store-level unit tests (clone, rewrite, copy-on-write) and a
// large stream.

import assert from "node:assert/strict";
import { Store } from "../store.ts";
import { Stream } from "../data/stream.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";

const MAX = "18446744073709551615";

/** Each case starts from an empty keyspace. Ids are explicit so replies do
 * not depend on the clock. */
const CASES: Record<string, Cmd[]> = {
  "XCLAIM FORCE counts a delivery for the entry it makes pending": [
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "2-1", "f", "v"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "FORCE", "JUSTID"],
    ["XCLAIM", "s", "g", "c", "0", "2-1", "FORCE", "RETRYCOUNT", "5"],
    ["XPENDING", "s", "g"],
    ["XCLAIM", "s", "g", "d", "0", "1-1", "JUSTID"],
    ["XCLAIM", "s", "g", "d", "0", "2-1", "JUSTID"],
    ["XPENDING", "s", "g"],
  ],
  "xadd ids and errors": [
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "1-0", "f", "v"],
    ["XADD", "s", "1-*", "f", "v"],
    ["XADD", "s", "1", "f", "v"],
    ["XADD", "s", "0-0", "f", "v"],
    ["XADD", "t", "0-0", "f", "v"],
    ["XADD", "t", "0", "f", "v"],
    ["XADD", "t", "0-*", "f", "v"],
    ["XADD", "s", "2-*", "a", "1", "b", "2"],
    ["XADD", "s", "abc", "f", "v"],
    ["XADD", "s", "1-x", "f", "v"],
    ["XADD", "s", "-", "f", "v"],
    ["XADD", "s", "+", "f", "v"],
    ["XADD", "s", "-1", "f", "v"],
    ["XADD", "s", "", "f", "v"],
    ["XADD", "s", `${MAX}6`, "f", "v"],
    ["XADD", "s", `1-${MAX}6`, "f", "v"],
    ["XADD", "s", "3-1", "f"],
    ["XADD", "s", "3-1", "f", "v", "g"],
    ["XADD", "s", "3-1"],
    ["XADD", "s"],
    ["XADD", "s", "5", "f", "v"],
    ["XADD", "s", "5-*", "f", "v"],
    ["XADD", "s", " 7", "f", "v"],
    ["XADD", "s", "+8", "f", "v"],
    ["XADD", "s", "09-01", "f", "v"],
    ["XADD", "s", "10-", "f", "v"],
    ["XADD", "s", "-10", "f", "v"],
    ["XLEN", "s"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "u", `${MAX}-${MAX}`, "f", "v"],
    ["XADD", "u", "*", "f", "v"],
    ["XADD", "u", `${MAX}-*`, "f", "v"],
    ["XADD", "u", "1-1", "f", "v"],
    ["XADD", "w", `5-${MAX}`, "f", "v"],
    ["XADD", "w", "5-*", "f", "v"],
    ["XADD", "w", "6-*", "f", "v"],
    ["XADD", "w", `${MAX}-*`, "f", "v"],
    ["XADD", "w", `${MAX}-*`, "f", "v"],
    ["XRANGE", "w", "-", "+"],
    ["XRANGE", "u", "-", "+"],
  ],
  "xadd options": [
    ["XADD", "s", "NOMKSTREAM", "1-1", "f", "v"],
    ["EXISTS", "s"],
    ["XADD", "s", "MAXLEN", "-1", "1-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "abc", "1-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "1", "MINID", "0", "1-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "1", "LIMIT", "5", "1-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "~", "1", "LIMIT", "-1", "1-1", "f", "v"],
    ["XADD", "s", "LIMIT", "5", "1-1", "f", "v"],
    ["XADD", "s", "LIMIT", "0", "1-1", "f", "v"],
    ["XADD", "s", "MINID", "abc", "1-1", "f", "v"],
    ["XADD", "s", "MINID", "-", "1-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "=", "1-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "2.5", "1-1", "f", "v"],
    ["XADD", "s", "badopt", "f", "v"],
    ["XADD", "s", "LIMIT", "abc", "f", "v"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "NOMKSTREAM", "2-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "2", "3-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "=", "2", "4-1", "f", "v"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MINID", "4", "5-1", "f", "v"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "MINID", "=", "6", "6-1", "f", "v"],
    ["XRANGE", "s", "-", "+"],
    ["XADD", "s", "maxlen", "~", "0", "7-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "0", "8-1", "f", "v"],
    ["XLEN", "s"],
    ["EXISTS", "s"],
    ["XADD", "s", "MAXLEN", "~", "0", "LIMIT", "10", "9-1", "f", "v"],
    ["XADD", "s", "nomkstream", "MAXLEN", "5", "10-1", "f", "v"],
    ["XADD", "s", "MAXLEN", "5", "NOMKSTREAM", "11-1", "f", "v"],
    ["XRANGE", "s", "-", "+"],
  ],
  "wrong types": [
    ["SET", "str", "x"],
    ["HSET", "h", "f", "v"],
    ["XADD", "str", "1-1", "f", "v"],
    ["XADD", "h", "*", "f", "v"],
    ["XLEN", "str"],
    ["XRANGE", "str", "-", "+"],
    ["XRANGE", "str", "-", "+", "COUNT", "0"],
    ["XREVRANGE", "h", "+", "-"],
    ["XDEL", "str", "1"],
    ["XTRIM", "str", "MAXLEN", "1"],
    ["XREAD", "STREAMS", "str", "0"],
    ["XREAD", "STREAMS", "str", "bad"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "str", ">"],
    ["XGROUP", "CREATE", "str", "g", "$"],
    ["XGROUP", "CREATE", "str", "g", "$", "MKSTREAM"],
    ["XGROUP", "DESTROY", "h", "g"],
    ["XACK", "str", "g", "1"],
    ["XPENDING", "str", "g"],
    ["XCLAIM", "str", "g", "c", "0", "1"],
    ["XAUTOCLAIM", "str", "g", "c", "0", "0"],
    ["XINFO", "STREAM", "str"],
    ["XINFO", "GROUPS", "h"],
    ["XINFO", "CONSUMERS", "str", "g"],
    ["XSETID", "str", "5"],
    ["XADD", "s", "1-1", "f", "v"],
    ["LPUSH", "s", "x"],
    ["GET", "s"],
    ["TYPE", "s"],
  ],
  "xrange and xrevrange": [
    ["XRANGE", "s", "-", "+"],
    ["XRANGE", "s", "-", "+", "COUNT", "0"],
    ["XRANGE", "s", "(", "+"],
    ["XRANGE", "s", "(-", "+"],
    ["XRANGE", "s", "-", "(+"],
    ["XRANGE", "s", `(${MAX}-${MAX}`, "+"],
    ["XRANGE", "s", "-", "(0-0"],
    ["XRANGE", "s", "-", "+", "COUNT"],
    ["XRANGE", "s", "-", "+", "foo", "1"],
    ["XRANGE", "s", "-", "+", "COUNT", "x"],
    ["XRANGE", "s", "bad", "+", "COUNT", "x"],
    ["XREVRANGE", "s", `(0-0`, `(${MAX}-${MAX}`],
    ["XREVRANGE", "s", "bad", "worse"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "1-2", "a", "1", "b", "2"],
    ["XADD", "s", "2-0", "f", "w"],
    ["XADD", "s", "3-5", "f", "x", "g", "y"],
    ["XADD", "s", "4-0", "", ""],
    ["XRANGE", "s", "-", "+"],
    ["XRANGE", "s", "-", "+", "COUNT", "0"],
    ["XRANGE", "s", "-", "+", "COUNT", "-5"],
    ["XRANGE", "s", "-", "+", "COUNT", "2"],
    ["XRANGE", "s", "-", "+", "count", "2", "COUNT", "3"],
    ["XRANGE", "s", "1", "1"],
    ["XRANGE", "s", "1", "2"],
    ["XRANGE", "s", "(1-1", "(3-5"],
    ["XRANGE", "s", "(1", "+"],
    ["XRANGE", "s", "-", "-"],
    ["XRANGE", "s", "+", "+"],
    ["XRANGE", "s", "3", "2"],
    ["XREVRANGE", "s", "+", "-"],
    ["XREVRANGE", "s", "+", "-", "COUNT", "2"],
    ["XREVRANGE", "s", "3", "1"],
    ["XREVRANGE", "s", "(3-5", "(1-1"],
    ["XREVRANGE", "s", "1", "3"],
    ["XREVRANGE", "s", "+", "-", "COUNT", "0"],
    ["XRANGE", "nokey", "-", "+"],
    ["XRANGE", "nokey", "-", "+", "COUNT", "0"],
    ["XREVRANGE", "nokey", "+", "-"],
  ],
  "xdel and xtrim": [
    ["XDEL", "s", "1"],
    ["XTRIM", "s", "MAXLEN", "1"],
    ["XTRIM", "s", "foo", "1"],
    ["XTRIM", "s", "LIMIT", "1"],
    ["XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "1", "MINID", "2"],
    ["XTRIM", "s", "MAXLEN", "1", "MAXLEN", "2"],
    ["XTRIM", "s", "MAXLEN", "1", "LIMIT", "2"],
    ["XTRIM", "s", "MAXLEN", "-1"],
    ["XTRIM", "s", "MINID", "bad"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "2-1", "f", "v"],
    ["XADD", "s", "3-1", "f", "v"],
    ["XADD", "s", "4-1", "f", "v"],
    ["XADD", "s", "5-1", "f", "v"],
    ["XTRIM", "s", "MAXLEN", "1", "NOMKSTREAM"],
    ["XDEL", "s", "bad"],
    ["XDEL", "s", "1-1", "bad"],
    ["XDEL", "s", "-"],
    ["XDEL", "s", "2-1", "2-1", "9-9"],
    ["XDEL", "s", "2"],
    ["XLEN", "s"],
    ["XTRIM", "s", "MAXLEN", "~", "1"],
    ["XTRIM", "s", "MAXLEN", "10"],
    ["XTRIM", "s", "MINID", "3-1"],
    ["XTRIM", "s", "MINID", "=", "4"],
    ["XRANGE", "s", "-", "+"],
    ["XTRIM", "s", "MAXLEN", "=", "1"],
    ["XRANGE", "s", "-", "+"],
    ["XTRIM", "s", "MAXLEN", "0"],
    ["XLEN", "s"],
    ["EXISTS", "s"],
    ["XDEL", "nokey", "1"],
    ["XTRIM", "nokey", "MAXLEN", "0"],
  ],
  "xread": [
    ["XREAD", "STREAMS", "s", "0", "1"],
    ["XREAD", "COUNT", "x", "STREAMS", "s", "0"],
    ["XREAD", "COUNT", "-1", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "x", "STREAMS", "s", "0"],
    ["XREAD", "foo", "STREAMS", "s", "0"],
    ["XREAD", "STREAMS", "s", ">"],
    ["XREAD", "STREAMS", "s", "+"],
    ["XREAD", "STREAMS", "s", "-"],
    ["XREAD", "NOACK", "STREAMS", "s", "0"],
    ["XREAD", "GROUP", "g", "c", "STREAMS", "s", "0"],
    ["XREAD", "COUNT", "1"],
    ["XREAD", "COUNT", "1", "BLOCK", "10"],
    ["XREAD", "STREAMS", "s", "0"],
    ["XREAD", "STREAMS", "s", "$"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "2-1", "f", "w"],
    ["XADD", "t", "1-5", "a", "b"],
    ["XREAD", "STREAMS", "s", "0"],
    ["XREAD", "STREAMS", "s", "t", "0", "0"],
    ["XREAD", "STREAMS", "s", "t", "1-1", "0"],
    ["XREAD", "STREAMS", "s", "t", "1-1", "1-5"],
    ["XREAD", "STREAMS", "s", "t", "$", "$"],
    ["XREAD", "COUNT", "1", "STREAMS", "s", "t", "0", "0"],
    ["XREAD", "COUNT", "0", "STREAMS", "nokey", "s", "0", "0"],
    ["XREAD", "BLOCK", "0", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "10", "STREAMS", "s", "$"],
    ["XREAD", "streams", "s", "2"],
    ["XREAD", "STREAMS", "s", `${MAX}-${MAX}`],
    ["XREAD", "STREAMS", "STREAMS", "s", "0"],
  ],
  "xgroup": [
    ["XGROUP", "CREATE", "s", "g", "$"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
    ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "-2"],
    ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "x"],
    ["XGROUP", "CREATE", "s", "g2", "0", "foo"],
    ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD"],
    ["XGROUP", "CREATE", "s", "g2", "bad"],
    ["XGROUP", "CREATE", "s", "g2", "+"],
    ["XGROUP", "CREATE", "s", "g2", "-"],
    ["XGROUP", "CREATE", "s", "g2", "0", "ENTRIESREAD", "5", "MKSTREAM"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "SETID", "s", "nog", "0"],
    ["XGROUP", "SETID", "nokey", "g", "0"],
    ["XGROUP", "SETID", "s", "g", "5", "ENTRIESREAD", "-3"],
    ["XGROUP", "SETID", "s", "g", "5", "ENTRIESREAD", "3"],
    ["XGROUP", "SETID", "s", "g", "5", "foo", "3"],
    ["XGROUP", "SETID", "s", "g", "5", "ENTRIESREAD"],
    ["XGROUP", "SETID", "s", "g", "-"],
    ["XGROUP", "SETID", "s", "g", "+"],
    ["XGROUP", "SETID", "s", "g", "bad"],
    ["XGROUP", "SETID", "s", "g", "7"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
    ["XGROUP", "CREATECONSUMER", "s", "g", "c1"],
    ["XGROUP", "CREATECONSUMER", "s", "nog", "c1"],
    ["XGROUP", "CREATECONSUMER", "nokey", "g", "c1"],
    ["XGROUP", "DELCONSUMER", "s", "g", "c1"],
    ["XGROUP", "DELCONSUMER", "s", "g", "c1"],
    ["XGROUP", "DELCONSUMER", "s", "nog", "c1"],
    ["XGROUP", "DESTROY", "s", "g"],
    ["XGROUP", "DESTROY", "s", "g"],
    ["XGROUP", "DESTROY", "nokey", "g"],
    ["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM", "MKSTREAM"],
    [
      "XGROUP",
      "CREATE",
      "s",
      "g3",
      "0",
      "MKSTREAM",
      "ENTRIESREAD",
      "3",
      "MKSTREAM",
    ],
    ["XGROUP", "CREATE", "nokey", "g3", "0", "ENTRIESREAD", "3", "x", "y"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "2-1", "f", "v"],
    ["XGROUP", "CREATE", "s", "g4", "$"],
    ["XGROUP", "CREATE", "s", "g5", "1"],
    ["XGROUP", "CREATE", "s", "A", "1-1", "ENTRIESREAD", "1"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "foo"],
    ["XGROUP", "CREATE", "s"],
    ["XGROUP", "SETID", "s", "g4", "1", "ENTRIESREAD", "1", "x"],
    ["XGROUP", "HELP"],
    ["XGROUP", "help", "extra"],
    ["XINFO", "HELP"],
    ["XINFO", "foo", "s"],
  ],
  "xreadgroup and xack": [
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "a", "b"],
    ["XREADGROUP", "STREAMS", "s", ">"],
    ["XREADGROUP", "COUNT", "1", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
    ["XREADGROUP", "GROUP", "g", "c", "COUNT", "x", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "NOACK", "x", "STREAMS", "s", ">"],
    ["XACK", "s", "g", "bad"],
    ["XADD", "s", "1-1", "f", "v1"],
    ["XADD", "s", "2-1", "f", "v2"],
    ["XADD", "s", "3-1", "f", "v3"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "$"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "bad"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "nokey", ">", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "e", "STREAMS", "s", "0"],
    ["XINFO", "GROUPS", "s"],
    ["XPENDING", "s", "g"],
    ["XACK", "s", "g", "1-1", "bad"],
    ["XACK", "s", "g", "1-1", "1-1", "9-9"],
    ["XACK", "s", "g", "1-1"],
    ["XACK", "s", "nog", "2-1"],
    ["XACK", "nokey", "g", "2-1"],
    ["XPENDING", "s", "g"],
    ["XDEL", "s", "2-1"],
    ["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "d", "COUNT", "1", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "d", "STREAMS", "s", "(2-1"],
    ["XINFO", "GROUPS", "s"],
    ["XADD", "s", "4-1", "f", "v4"],
    ["XADD", "s", "5-1", "f", "v5"],
    [
      "XREADGROUP",
      "GROUP",
      "g",
      "c",
      "NOACK",
      "COUNT",
      "1",
      "STREAMS",
      "s",
      ">",
    ],
    ["XPENDING", "s", "g"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "SETID", "s", "g", "0"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"],
    ["XPENDING", "s", "g"],
    ["XINFO", "GROUPS", "s"],
    ["XGROUP", "DELCONSUMER", "s", "g", "c"],
    ["XPENDING", "s", "g"],
    ["XGROUP", "CREATE", "s", "h", "$"],
    ["XREADGROUP", "GROUP", "h", "c", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "h", "c", "BLOCK", "10", "STREAMS", "s", ">"],
  ],
  "xpending": [
    ["XPENDING", "s", "g"],
    ["XPENDING", "s", "g", "-", "+"],
    ["XPENDING", "s", "g", "-", "+", "x"],
    ["XPENDING", "s", "g", "IDLE", "10"],
    ["XPENDING", "s", "g", "IDLE", "x", "-", "+", "10"],
    ["XPENDING", "s", "g", "bad", "+", "10"],
    ["XPENDING", "s", "g", "-", "+", "10"],
    ["XADD", "s", "1-1", "f", "v1"],
    ["XADD", "s", "2-1", "f", "v2"],
    ["XADD", "s", "3-1", "f", "v3"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XPENDING", "s", "g"],
    ["XPENDING", "s", "g", "-", "+", "10"],
    ["XREADGROUP", "GROUP", "g", "b", "COUNT", "1", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "a", "COUNT", "2", "STREAMS", "s", ">"],
    ["XPENDING", "s", "g"],
    ["XPENDING", "s", "g", "-", "+", "-1"],
    ["XPENDING", "s", "g", "-", "+", "0"],
    ["XPENDING", "s", "g", "-", "+", "10", "nobody"],
    ["XPENDING", "s", "g", "IDLE", "100000000", "-", "+", "10"],
    ["XPENDING", "s", "g", "IDLE", "100000000", "(1-1", "+", "10", "a"],
    ["XPENDING", "s", "g", "-", "(3-1", "0", "a"],
    ["XPENDING", "s", "g", "-", "(3-1", "10", "nobody", "extra"],
    ["XPENDING", "s", "g", `(${MAX}-${MAX}`, "+", "10"],
    ["XPENDING", "s", "g", "-", "(0", "10"],
    ["XPENDING", "s", "nog"],
  ],
  "xclaim": [
    ["XCLAIM", "s", "g", "c", "0", "1-1"],
    ["XADD", "s", "1-1", "f", "v1"],
    ["XADD", "s", "2-1", "f", "v2"],
    ["XADD", "s", "3-1", "f", "v3"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XCLAIM", "s", "nog", "c", "x", "1-1"],
    ["XCLAIM", "s", "g", "c", "x", "1-1"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "foo"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "x"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "x"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", "x"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "x"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "IDLE"],
    ["XCLAIM", "s", "g", "c", "0", "1-1"],
    ["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"],
    ["XCLAIM", "s", "g", "b", "100000", "1-1"],
    ["XCLAIM", "s", "g", "b", "0", "1-1", "2-1"],
    ["XPENDING", "s", "g"],
    ["XCLAIM", "s", "g", "b", "-5", "3-1", "JUSTID"],
    ["XPENDING", "s", "g"],
    ["XCLAIM", "s", "g", "c", "0", "3-1", "RETRYCOUNT", "7", "JUSTID"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "RETRYCOUNT", "-1"],
    ["XINFO", "GROUPS", "s"],
    ["XADD", "s", "4-1", "f", "v4"],
    ["XCLAIM", "s", "g", "c", "0", "4-1"],
    ["XCLAIM", "s", "g", "c", "0", "4-1", "FORCE"],
    ["XCLAIM", "s", "g", "c", "0", "9-1", "FORCE"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "LASTID", "9-9", "JUSTID"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "2-1"],
    ["XCLAIM", "s", "g", "c", "0", "2-1", "3-1"],
    ["XPENDING", "s", "g"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "TIME", "0", "JUSTID"],
    ["XCLAIM", "s", "g", "c", "0", "1-1", "IDLE", "-999999999999999"],
  ],
  "xautoclaim": [
    ["XAUTOCLAIM", "s", "g", "c", "0", "0"],
    ["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0"],
    ["XINFO", "CONSUMERS", "s", "g"],
    ["XAUTOCLAIM", "s", "g", "c", "x", "0"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "bad"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "0"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "x"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0", "foo"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT"],
    ["XAUTOCLAIM", "s", "nog", "c", "0", "0"],
    ["XAUTOCLAIM", "s", "nog", "c", "0", "bad"],
    ["XAUTOCLAIM", "s", "g", "c", "0", `(${MAX}-${MAX}`],
    ["XADD", "s", "1-1", "f", "v1"],
    ["XADD", "s", "2-1", "f", "v2"],
    ["XADD", "s", "3-1", "f", "v3"],
    ["XADD", "s", "4-1", "f", "v4"],
    ["XREADGROUP", "GROUP", "g", "a", "STREAMS", "s", ">"],
    ["XAUTOCLAIM", "s", "g", "b", "100000", "0"],
    ["XAUTOCLAIM", "s", "g", "b", "0", "0", "COUNT", "1"],
    ["XAUTOCLAIM", "s", "g", "b", "0", "(1-1", "COUNT", "1", "JUSTID"],
    ["XDEL", "s", "3-1"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0", "COUNT", "2"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "0"],
    ["XPENDING", "s", "g"],
    ["XAUTOCLAIM", "s", "g", "c", "0", "-", "JUSTID"],
  ],
  "xsetid": [
    ["XSETID", "s", "5"],
    ["XADD", "s", "1-1", "f", "v"],
    ["XSETID", "s", "bad"],
    ["XSETID", "s", "0"],
    ["XSETID", "s", "1-1"],
    ["XSETID", "s", "-"],
    ["XSETID", "s", "5", "ENTRIESADDED", "-1"],
    ["XSETID", "s", "5", "ENTRIESADDED", "0"],
    ["XSETID", "s", "5", "ENTRIESADDED", "x"],
    ["XSETID", "s", "5", "MAXDELETEDID", "0", "ENTRIESADDED", "1"],
    ["XSETID", "s", "5", "ENTRIESADDED", "1", "MAXDELETEDID", "6"],
    ["XSETID", "s", "5", "ENTRIESADDED", "1", "MAXDELETEDID", "bad"],
    ["XSETID", "s", "5", "foo", "1"],
    ["XSETID", "s", "5", "ENTRIESADDED"],
    ["XSETID", "s", "5", "ENTRIESADDED", "3", "MAXDELETEDID", "2"],
    ["XADD", "s", "5-0", "f", "v"],
    ["XADD", "s", "5-1", "f", "v"],
    ["XDEL", "s", "1-1", "5-1"],
    ["XSETID", "s", "0"],
    ["XSETID", "s", "1-1"],
    ["XSETID", "s", "9-9"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XINFO", "GROUPS", "s"],
    ["XSETID", "s", `${MAX}-${MAX}`],
    ["XADD", "s", "*", "f", "v"],
    ["XINFO", "GROUPS", "s"],
  ],
  "xinfo": [
    ["XINFO", "STREAM", "nokey"],
    ["XINFO", "GROUPS", "nokey"],
    ["XINFO", "CONSUMERS", "nokey", "g"],
    ["XINFO", "STREAM", "nokey", "foo"],
    ["XGROUP", "CREATE", "s", "g", "0", "MKSTREAM"],
    ["XINFO", "GROUPS", "s"],
    ["XINFO", "CONSUMERS", "s", "g"],
    ["XINFO", "CONSUMERS", "s", "nog"],
    ["XINFO", "STREAM", "s", "foo"],
    ["XINFO", "STREAM", "s", "FULL", "COUNT"],
    ["XINFO", "STREAM", "s", "FULL", "COUNT", "x"],
    ["XINFO", "STREAM", "s", "FULL", "foo", "1"],
    ["XINFO", "STREAM", "s", "FULL", "COUNT", "1", "x"],
    ["XINFO", "STREAM"],
    ["XINFO", "GROUPS", "s", "x"],
  ],
  "ids beyond 2^53": [
    ["XADD", "s", "9007199254740991-0", "f", "a"],
    ["XADD", "s", "9007199254740992-*", "f", "b"],
    ["XADD", "s", "9007199254740993-18446744073709551614", "f", "c"],
    ["XADD", "s", "9007199254740993-*", "f", "d"],
    ["XADD", "s", "9007199254740993-*", "f", "e"],
    ["XADD", "s", "18446744073709551614-5", "f", "g"],
    ["XRANGE", "s", "-", "+"],
    ["XRANGE", "s", "(9007199254740991-0", "(18446744073709551614-5"],
    [
      "XREVRANGE",
      "s",
      "18446744073709551614",
      "9007199254740993-18446744073709551615",
    ],
    ["XDEL", "s", "9007199254740992-0"],
    ["XGROUP", "CREATE", "s", "g", "9007199254740991"],
    ["XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "s", ">"],
    ["XPENDING", "s", "g"],
    ["XREAD", "STREAMS", "s", "9007199254740993-18446744073709551614"],
    ["XINFO", "GROUPS", "s"],
    ["XTRIM", "s", "MINID", "9007199254740993-18446744073709551615"],
    ["XRANGE", "s", "-", "+"],
    ["XSETID", "s", "18446744073709551615-0"],
    ["XADD", "s", "*", "f", "h"],
    ["XADD", "s", "18446744073709551615-*", "f", "i"],
    ["XRANGE", "s", "-", "+"],
    ["XINFO", "GROUPS", "s"],
  ],
  "lag and entries-read": [
    ["XADD", "s", "1-1", "f", "v"],
    ["XADD", "s", "2-1", "f", "v"],
    ["XADD", "s", "3-1", "f", "v"],
    ["XADD", "s", "4-1", "f", "v"],
    ["XGROUP", "CREATE", "s", "a", "0"],
    ["XGROUP", "CREATE", "s", "b", "$"],
    ["XGROUP", "CREATE", "s", "c", "2-1"],
    ["XGROUP", "CREATE", "s", "d", "1-1", "ENTRIESREAD", "1"],
    ["XGROUP", "CREATE", "s", "e", "9-9"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "a", "x", "COUNT", "1", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "c", "x", "COUNT", "1", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "d", "x", "COUNT", "1", "STREAMS", "s", ">"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "3-1"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "a", "x", "STREAMS", "s", ">"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "1-1"],
    ["XINFO", "GROUPS", "s"],
    ["XTRIM", "s", "MAXLEN", "1"],
    ["XINFO", "GROUPS", "s"],
    ["XADD", "s", "5-1", "f", "v"],
    ["XINFO", "GROUPS", "s"],
    ["XDEL", "s", "4-1", "5-1"],
    ["XINFO", "GROUPS", "s"],
    ["XADD", "s", "6-1", "f", "v"],
    ["XINFO", "GROUPS", "s"],
    ["XREADGROUP", "GROUP", "b", "x", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "e", "x", "STREAMS", "s", ">"],
    ["XINFO", "GROUPS", "s"],
  ],
};

/** Node boundaries: ~ trimming removes whole nodes, as Redis cuts them
 * (100 entries, or 4096 bytes). */
function nodeCases(): Record<string, Cmd[]> {
  const many: Cmd[] = [];
  for (let i = 1; i <= 350; i++) {
    many.push(["XADD", "s", `${i}-1`, "f", `v${i}`]);
  }
  const big: Cmd[] = [];
  for (let i = 1; i <= 60; i++) {
    big.push(["XADD", "b", `${i}-1`, "field", "x".repeat(i * 7)]);
  }
  const mixed: Cmd[] = [];
  for (let i = 1; i <= 250; i++) {
    mixed.push(
      i % 3 === 0
        ? ["XADD", "m", `${i}-0`, "a", String(i), "b", String(-i * 1000)]
        : ["XADD", "m", `${i}-0`, "f", String(i * 12345)],
    );
  }
  const small: Cmd[] = [["CONFIG", "SET", "stream-node-max-entries", "7"]];
  for (let i = 1; i <= 40; i++) small.push(["XADD", "n", `${i}-0`, "f", "v"]);
  small.push(
    ["XTRIM", "n", "MAXLEN", "~", "20"],
    ["XLEN", "n"],
    ["XADD", "n", "MAXLEN", "~", "3", "41-0", "f", "v"],
    ["XLEN", "n"],
    ["CONFIG", "SET", "stream-node-max-entries", "0"],
    ["CONFIG", "SET", "stream-node-max-bytes", "300"],
  );
  for (let i = 42; i <= 80; i++) {
    small.push(["XADD", "n", `${i}-0`, "field", "v".repeat(i % 9)]);
  }
  small.push(
    ["XTRIM", "n", "MAXLEN", "~", "10"],
    ["XLEN", "n"],
    ["CONFIG", "SET", "stream-node-max-bytes", "4096"],
    ["CONFIG", "SET", "stream-node-max-entries", "100"],
  );
  return {
    "node limits from CONFIG SET": small,
    "approximate trims by node": [
      ...many,
      ["XTRIM", "s", "MAXLEN", "~", "340"],
      ["XTRIM", "s", "MAXLEN", "~", "300"],
      ["XLEN", "s"],
      ["XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "50"],
      ["XTRIM", "s", "MAXLEN", "~", "10", "LIMIT", "150"],
      ["XLEN", "s"],
      ["XTRIM", "s", "MINID", "~", "320"],
      ["XLEN", "s"],
      ["XADD", "s", "MAXLEN", "~", "20", "400-1", "f", "v"],
      ["XLEN", "s"],
      ["XTRIM", "s", "MAXLEN", "0"],
      ["XLEN", "s"],
    ],
    "big values cut nodes by bytes": [
      ...big,
      ["XTRIM", "b", "MAXLEN", "~", "50"],
      ["XLEN", "b"],
      ["XTRIM", "b", "MAXLEN", "~", "5"],
      ["XLEN", "b"],
      ["XRANGE", "b", "-", "+", "COUNT", "1"],
    ],
    "mixed fields and deletions": [
      ...mixed,
      ["XDEL", "m", "5-0", "50-0", "101-0", "102-0"],
      ["XTRIM", "m", "MAXLEN", "~", "150"],
      ["XLEN", "m"],
      ["XREVRANGE", "m", "+", "-", "COUNT", "3"],
      ["XRANGE", "m", "100", "110"],
      ["XTRIM", "m", "MINID", "~", "240"],
      ["XLEN", "m"],
    ],
  };
}

Deno.test({
  name: "stream: identical replies to redis-server, RESP2 and RESP3",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: (t) => compareWithRedis(t, { ...CASES, ...nodeCases() }),
});

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random stream command over a small key, group, consumer and id space,
 * so that commands collide. No `*` ids: replies must not depend on time. */
function randomCommand(r: () => number): Cmd {
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const int = (n: number) => Math.floor(r() * n);
  const key = pick(["s1", "s1", "s1", "s2", "str"]);
  const id = () =>
    pick([
      () => `${int(40)}-${int(3)}`,
      () => String(int(40)),
      () => `(${int(40)}-${int(3)}`,
      () => "-",
      () => "+",
      () => "bad",
    ])();
  const plainId = () => r() < 0.9 ? `${int(40)}-${int(3)}` : pick(["0", "bad"]);
  const group = pick(["g1", "g1", "g2", "nog"]);
  const consumer = pick(["c1", "c2", "c3"]);
  const fields = (): string[] => {
    const n = 1 + int(2);
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      out.push(
        pick(["f1", "f2", "f3", ""]),
        pick(["v", String(int(100)), "x".repeat(int(70))]),
      );
    }
    return out;
  };
  const trim = (): string[] => {
    const t: string[] = [];
    if (r() < 0.5) {
      t.push("MAXLEN");
      if (r() < 0.5) t.push(pick(["~", "="]));
      t.push(String(int(12)));
    } else {
      t.push("MINID");
      if (r() < 0.5) t.push(pick(["~", "="]));
      t.push(plainId());
    }
    if (t[1] === "~" && r() < 0.3) t.push("LIMIT", String(int(5)));
    return t;
  };
  switch (int(22)) {
    case 0:
    case 1:
    case 2:
    case 3: {
      const opts: string[] = [];
      if (r() < 0.1) opts.push("NOMKSTREAM");
      if (r() < 0.2) opts.push(...trim());
      const ms = int(45);
      const idArg = pick([`${ms}-${int(4)}`, `${ms}-*`, String(ms)]);
      return ["XADD", key, ...opts, idArg, ...fields()];
    }
    case 4:
      return ["XDEL", key, plainId(), ...(r() < 0.5 ? [plainId()] : [])];
    case 5:
      return ["XTRIM", key, ...trim()];
    case 6:
      return ["XLEN", key];
    case 7: {
      const c = r() < 0.5 ? ["COUNT", String(int(5) - 1)] : [];
      return [r() < 0.5 ? "XRANGE" : "XREVRANGE", key, id(), id(), ...c];
    }
    case 8: {
      const c = r() < 0.5 ? ["COUNT", String(int(4))] : [];
      return ["XREAD", ...c, "STREAMS", key, pick(["0", "$", plainId()])];
    }
    case 9: {
      const extra = r() < 0.3 ? ["MKSTREAM"] : [];
      if (r() < 0.3) extra.push("ENTRIESREAD", String(int(5) - 1));
      return [
        "XGROUP",
        "CREATE",
        key,
        group,
        pick(["$", "0", plainId()]),
        ...extra,
      ];
    }
    case 10:
      return [
        "XGROUP",
        "SETID",
        key,
        group,
        pick(["$", "0", plainId()]),
        ...(r() < 0.3 ? ["ENTRIESREAD", String(int(6))] : []),
      ];
    case 11:
      return pick([
        ["XGROUP", "DESTROY", key, group],
        ["XGROUP", "CREATECONSUMER", key, group, consumer],
        ["XGROUP", "DELCONSUMER", key, group, consumer],
      ]);
    case 12:
    case 13: {
      const opts: string[] = [];
      if (r() < 0.5) opts.push("COUNT", String(int(4)));
      if (r() < 0.2) opts.push("NOACK");
      return [
        "XREADGROUP",
        "GROUP",
        group,
        consumer,
        ...opts,
        "STREAMS",
        key,
        r() < 0.7 ? ">" : pick(["0", plainId()]),
      ];
    }
    case 14:
      return ["XACK", key, group, plainId(), ...(r() < 0.5 ? [plainId()] : [])];
    case 15:
      if (r() < 0.4) return ["XPENDING", key, group];
      return [
        "XPENDING",
        key,
        group,
        ...(r() < 0.2 ? ["IDLE", "0"] : []),
        id(),
        id(),
        String(int(6)),
        ...(r() < 0.4 ? [consumer] : []),
      ];
    case 16: {
      const opts: string[] = [];
      if (r() < 0.3) opts.push("JUSTID");
      if (r() < 0.2) opts.push("FORCE");
      if (r() < 0.2) opts.push("RETRYCOUNT", String(int(5)));
      if (r() < 0.1) opts.push("LASTID", plainId());
      return [
        "XCLAIM",
        key,
        group,
        consumer,
        pick(["0", "0", "100000"]),
        plainId(),
        ...(r() < 0.5 ? [plainId()] : []),
        ...opts,
      ];
    }
    case 17: {
      const opts: string[] = [];
      if (r() < 0.5) opts.push("COUNT", String(1 + int(4)));
      if (r() < 0.3) opts.push("JUSTID");
      return [
        "XAUTOCLAIM",
        key,
        group,
        consumer,
        pick(["0", "100000"]),
        pick(["0", "-", plainId()]),
        ...opts,
      ];
    }
    case 18:
      return pick([
        ["XINFO", "GROUPS", key],
        ["XINFO", "CONSUMERS", key, group],
        ["XINFO", "STREAM", key],
      ]);
    case 19:
      return [
        "XINFO",
        "STREAM",
        key,
        "FULL",
        ...(r() < 0.5 ? ["COUNT", String(int(4))] : []),
      ];
    case 20: {
      const opts: string[] = [];
      if (r() < 0.3) opts.push("ENTRIESADDED", String(int(60)));
      if (r() < 0.3) opts.push("MAXDELETEDID", plainId());
      return ["XSETID", key, pick([plainId(), "45-9"]), ...opts];
    }
    default:
      return pick([["DEL", key], ["SET", "str", "x"], ["EXISTS", key]]);
  }
}

/** radix-tree-keys (nodes) are compared: they show that nodes are cut
 * where Redis cuts them. */
const TIME_FIELDS = new Set(["radix-tree-nodes", "seen-time", "idle"]);

/** Blanks what depends on the clock (idle times, delivery times) or on the
 * exact radix tree (its inner node count). */
function normalize(name: string, v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const out = v.map((x) => normalize(name, x));
  for (let i = 0; i + 1 < out.length; i++) {
    if (typeof out[i] === "string" && TIME_FIELDS.has(out[i] as string)) {
      out[i + 1] = 0;
    }
    if (out[i] === "pending" && Array.isArray(out[i + 1])) {
      for (const p of out[i + 1] as unknown[]) {
        if (Array.isArray(p) && p.length === 4) p[2] = 0;
        if (Array.isArray(p) && p.length === 3) p[1] = 0;
      }
    }
  }
  if (
    name === "XPENDING" && out.every((e) => Array.isArray(e) && e.length === 4)
  ) {
    for (const e of out as unknown[][]) e[2] = 0;
  }
  return out;
}

Deno.test({
  name: "stream: seeded random commands, replies identical to redis-server",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const a = await Conn.open(redis.port);
      const b = await Conn.open(ours.port);
      try {
        await a.call("FLUSHALL");
        await b.call("FLUSHALL");
        const r = random(seed);
        for (let i = 0; i < 1500; i++) {
          const cmd = randomCommand(r);
          const name = String(cmd[0]).toUpperCase();
          const expected = normalize(name, await a.call(...cmd));
          const actual = normalize(name, await b.call(...cmd));
          assert.deepEqual(
            actual,
            expected,
            `seed ${seed} #${i}: ${cmd.join(" ")}`,
          );
        }
      } finally {
        a.close();
        b.close();
      }
    }
  },
});

function rangeOf(store: Store, key: string): unknown {
  return store.streams.xrange(key, "-", "+");
}

Deno.test("stream: embedded operations on a store", () => {
  let now = 1_000;
  const store = new Store({ clock: () => now });
  const x = store.streams;
  assert.equal(x.xadd("s", ["f", "v"], { id: "1-1" }), "1-1");
  assert.equal(x.xadd("s", ["f", "w"]), "1000-0");
  assert.equal(x.xadd("s", ["f", "w"]), "1000-1");
  assert.equal(x.xadd("s", ["a", "1", "b", "2"], { id: "2000-*" }), "2000-0");
  assert.equal(x.xadd("none", ["f", "v"], { nomkstream: true }), undefined);
  assert.equal(x.xlen("s"), 4);
  assert.deepEqual(x.xrange("s", "(1-1", "1000", 1), [["1000-0", ["f", "w"]]]);
  assert.deepEqual(x.xrevrange("s", "+", "-", 1), [["2000-0", [
    "a",
    "1",
    "b",
    "2",
  ]]]);
  assert.throws(
    () => x.xadd("s", ["f", "v"], { id: "1-1" }),
    /equal or smaller/,
  );
  assert.equal(x.xdel("s", ["1000-1", "9-9"]), 1);
  assert.equal(x.xtrim("s", { strategy: "maxlen", threshold: 2 }), 1);
  assert.deepEqual(x.xread(["s"], ["0"]), [["s", [["1000-0", ["f", "w"]], [
    "2000-0",
    ["a", "1", "b", "2"],
  ]]]]);
  assert.equal(x.xgroupCreate("s", "g", "0"), true);
  assert.equal(x.xgroupCreate("s", "g", "0"), false);
  const propagate: string[][] = [];
  const r = x.xreadgroup("g", "c", ["s"], [">"], { count: 1, propagate });
  assert.deepEqual(r, [["s", [["1000-0", ["f", "w"]]]]]);
  assert.deepEqual(propagate[0], ["XGROUP", "CREATECONSUMER", "s", "g", "c"]);
  assert.equal(propagate[1][0], "XCLAIM");
  assert.deepEqual(propagate[2].slice(0, 5), [
    "XGROUP",
    "SETID",
    "s",
    "g",
    "1000-0",
  ]);
  now += 50;
  assert.deepEqual(x.xpending("s", "g"), {
    count: 1,
    min: "1000-0",
    max: "1000-0",
    consumers: [["c", 1]],
  });
  assert.deepEqual(x.xpendingRange("s", "g", "-", "+", 10), [
    { id: "1000-0", consumer: "c", idle: 50, deliveries: 1 },
  ]);
  assert.deepEqual(x.xclaim("s", "g", "d", 10, ["1000-0"], { justId: true }), [
    "1000-0",
  ]);
  assert.deepEqual(x.xautoclaim("s", "g", "e", 0, "0").claimed, [["1000-0", [
    "f",
    "w",
  ]]]);
  assert.equal(x.xack("s", "g", ["1000-0"]), 1);
  assert.deepEqual(x.xinfoGroups("s"), [{
    name: "g",
    consumers: 3,
    pending: 0,
    lastDeliveredId: "1000-0",
    entriesRead: null, // a tombstone after the first entry: unknown
    lag: null,
  }]);
  assert.equal(x.xgroupDelConsumer("s", "g", "d"), 0);
  assert.equal(x.xgroupCreateConsumer("s", "g", "z"), true);
  assert.deepEqual(x.xinfoConsumers("s", "g").map((c) => c.name), [
    "c",
    "e",
    "z",
  ]);
  x.xsetid("s", "3000-0", { entriesAdded: 10 });
  assert.equal(x.xinfoStream("s").lastGeneratedId, "3000-0");
  assert.equal(x.xgroupDestroy("s", "g"), true);
  assert.equal((store.value("s") as Stream).encoding(store.limits), "stream");
  store.set("str", "x");
  assert.throws(() => x.xlen("str"), /WRONGTYPE/);
  // A stream stays when empty.
  x.xtrim("s", { strategy: "maxlen", threshold: 0 });
  assert.equal(store.type("s"), "stream");
});

Deno.test("stream: clone() is independent, both ways", () => {
  const store = new Store();
  const x = store.streams;
  for (let i = 1; i <= 300; i++) x.xadd("s", ["f", `v${i}`], { id: `${i}-0` });
  x.xgroupCreate("s", "g", "0");
  x.xreadgroup("g", "c", ["s"], [">"], { count: 5 });
  const original = store.value("s") as Stream;
  const copy = original.clone();
  const other = new Store();
  other.set("s", copy);
  x.xdel("s", ["1-0", "150-0"]);
  x.xadd("s", ["f", "new"], { id: "400-0" });
  x.xack("s", "g", ["2-0"]);
  x.xtrim("s", { strategy: "maxlen", threshold: 100, approx: true });
  assert.equal(other.streams.xlen("s"), 300);
  assert.deepEqual(other.streams.xpending("s", "g").count, 5);
  assert.deepEqual(other.streams.xrange("s", "1", "2"), [["1-0", ["f", "v1"]], [
    "2-0",
    ["f", "v2"],
  ]]);
  other.streams.xdel("s", ["300-0"]);
  other.streams.xgroupDestroy("s", "g");
  assert.equal(x.xrange("s", "300", "300")!.length, 1);
  assert.equal(x.xinfoGroups("s").length, 1);
});

Deno.test("stream: a snapshot keeps the value as it was (copy-on-write)", () => {
  const store = new Store();
  const x = store.streams;
  for (let i = 1; i <= 250; i++) x.xadd("s", ["f", `v${i}`], { id: `${i}-0` });
  x.xgroupCreate("s", "g", "0");
  const before = rangeOf(store, "s");
  using snap = store.snapshot();
  x.xadd("s", ["f", "later"], { id: "999-0" });
  x.xdel("s", ["5-0"]);
  x.xreadgroup("g", "c", ["s"], [">"], { count: 3 });
  const entries = snap.next(10);
  assert.equal(entries.length, 1);
  const old = new Store();
  old.set("s", entries[0][1]);
  assert.deepEqual(rangeOf(old, "s"), before);
  assert.equal(old.streams.xpending("s", "g").count, 0);
  assert.equal(x.xlen("s"), 250);
  assert.equal(x.xpending("s", "g").count, 3);
});

Deno.test({
  name: "stream: rewrite() rebuilds entries, counters, groups and PELs",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using ours = await startServer();
    await using redis = await RedisServer.start();
    await using fresh = await startServer();
    const setup: Cmd[] = [];
    for (let i = 1; i <= 230; i++) {
      setup.push([
        "XADD",
        "s",
        `${i}-${i % 3}`,
        "f",
        `v${i}`,
        ...(i % 7 ? [] : ["g", "x"]),
      ]);
    }
    setup.push(
      ["XDEL", "s", "50-2", "229-1"],
      ["XGROUP", "CREATE", "s", "g1", "0"],
      ["XGROUP", "CREATE", "s", "g2", "$", "ENTRIESREAD", "7"],
      ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "s", ">"],
      ["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "s", "0"],
      ["XCLAIM", "s", "g1", "carol", "0", "2-2", "RETRYCOUNT", "9"],
      ["XGROUP", "CREATECONSUMER", "s", "g2", "dave"],
      ["XADD", "empty", "MAXLEN", "0", "5-5", "a", "b"],
      ["XSETID", "empty", "7-7", "ENTRIESADDED", "12", "MAXDELETEDID", "6-0"],
      ["XADD", "odd", "5-5", "a", "b"],
      ["XDEL", "odd", "5-5"],
      ["XSETID", "odd", "1-0"],
    );
    const a = await Conn.open(ours.port);
    for (const cmd of setup) await a.call(...cmd);
    const full = async (c: Conn, key: string) =>
      normalize(
        "XINFO",
        await c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"),
      );
    for (const key of ["s", "empty", "odd"]) {
      const value = ours.store.value(key) as Stream;
      const commands = [...value.rewrite(key, 128)];
      const expected = await full(a, key);
      for (const port of [redis.port, fresh.port]) {
        const b = await Conn.open(port);
        try {
          for (const cmd of commands) {
            const reply = await b.call(...cmd);
            assert.ok(!(reply instanceof Error), `${cmd.join(" ")}: ${reply}`);
          }
          assert.deepEqual(await full(b, key), expected);
        } finally {
          b.close();
        }
      }
    }
    a.close();
  },
});

Deno.test("stream: a million entries, operations stay fast", () => {
  const store = new Store();
  const x = store.streams;
  const n = 1_000_000;
  let t = performance.now();
  const pair = ["f", ""];
  for (let i = 1; i <= n; i++) {
    pair[1] = String(i);
    x.xadd("big", pair, { id: { ms: i, seq: 0, seqGiven: true } });
  }
  const addMs = performance.now() - t;
  assert.equal(x.xlen("big"), n);
  t = performance.now();
  for (let i = 0; i < 10_000; i++) {
    const at = 1 + ((i * 7919) % n);
    const r = x.xrange("big", String(at), "+", 3)!;
    assert.equal(r[0][0], `${at}-0`);
  }
  const rangeMs = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < 1000; i++) x.xdel("big", [`${500_000 + i * 3}-0`]);
  x.xgroupCreate("big", "g", "900000-0");
  for (let i = 0; i < 1000; i++) {
    x.xreadgroup("g", "c", ["big"], [">"], { count: 10 });
  }
  assert.equal(x.xpending("big", "g").count, 10_000);
  for (let i = 0; i < 1000; i++) x.xack("big", "g", [`${900_001 + i}-0`]);
  const trimmed = x.xtrim("big", {
    strategy: "maxlen",
    threshold: 10_000,
    approx: true,
    limit: 0,
  });
  const left = x.xlen("big");
  assert.ok(left >= 10_000 && left < 10_100, `${left} left`);
  assert.equal(trimmed, n - 1000 - left);
  const restMs = performance.now() - t;
  // Linear work would take minutes: these bounds leave a wide margin.
  assert.ok(addMs < 5000, `1M XADD took ${addMs} ms`);
  assert.ok(rangeMs < 1000, `10k XRANGE took ${rangeMs} ms`);
  assert.ok(restMs < 1000, `XDEL/XREADGROUP/XACK/XTRIM took ${restMs} ms`);
});

/** Everything XINFO tells about a key, with times blanked. */
async function describe(c: Conn, key: string): Promise<unknown> {
  const type = await c.call("TYPE", key);
  if (type !== "stream") return type;
  return [
    normalize(
      "XINFO",
      await c.call("XINFO", "STREAM", key, "FULL", "COUNT", "0"),
    ),
    normalize("XINFO", await c.call("XINFO", "GROUPS", key)),
  ];
}

Deno.test({
  name:
    "stream: the append-only log replays to the same streams, groups and PELs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv-stream-aof-" });
    try {
      let expected: unknown[];
      {
        await using server = await startServer({ dir, appendonly: true });
        const c = await Conn.open(server.port);
        try {
          const r = random(42);
          for (let i = 0; i < 3000; i++) {
            const cmd = randomCommand(r);
            // Generated ids too: logged as the ids they made.
            if (cmd[0] === "XADD" && r() < 0.2) {
              cmd[
                cmd.findIndex((a, j) =>
                  j >= 2 && /^\d+(-[\d*]+)?$/.test(String(a))
                )
              ] = "*";
            }
            await c.call(...cmd);
          }
          await c.call("XADD", "auto", "*", "f", "v");
          await c.call(
            "XADD",
            "auto",
            "MAXLEN",
            "~",
            "0",
            "LIMIT",
            "5",
            "*",
            "f",
            "v",
          );
          expected = [];
          for (const key of ["s1", "s2", "str", "auto"]) {
            expected.push(await describe(c, key));
          }
        } finally {
          c.close();
        }
      }
      await using again = await startServer({ dir, appendonly: true });
      const c = await Conn.open(again.port);
      try {
        const actual: unknown[] = [];
        for (const key of ["s1", "s2", "str", "auto"]) {
          actual.push(await describe(c, key));
        }
        assert.match(JSON.stringify(expected), /"pel-count",[1-9]/);
        assert.deepEqual(actual, expected);
      } finally {
        c.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
});

/** Long streams: many nodes (entries and bytes limits), trims by node,
 * deletions inside nodes, ranges across nodes, groups reading along. */
function longStreamCommand(r: () => number, state: { ms: number }): Cmd {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)];
  const past = () => `${Math.max(0, state.ms - int(400))}-${int(3)}`;
  const k = int(100);
  if (k < 55) {
    state.ms += int(3);
    const value = r() < 0.1 ? "y".repeat(int(300)) : String(int(100000));
    const fields = r() < 0.8 ? ["f", value] : ["f", value, "g", String(int(9))];
    const opts = r() < 0.05
      ? ["MAXLEN", "~", String(100 + int(300))]
      : r() < 0.02
      ? ["MINID", "~", past()]
      : [];
    return ["XADD", "L", ...opts, `${state.ms}-*`, ...fields];
  }
  if (k < 62) return ["XDEL", "L", past(), past(), past()];
  if (k < 65) {
    const strategy = pick(["MAXLEN", "MINID"]);
    const threshold = strategy === "MAXLEN" ? String(200 + int(400)) : past();
    return ["XTRIM", "L", strategy, pick(["~", "=", "~"]), threshold];
  }
  if (k < 75) {
    const a = past(), b = past();
    const [lo, hi] = a < b ? [a, b] : [b, a];
    return r() < 0.5
      ? [
        "XRANGE",
        "L",
        pick([lo, `(${lo}`, "-"]),
        pick([hi, "+"]),
        "COUNT",
        String(1 + int(30)),
      ]
      : [
        "XREVRANGE",
        "L",
        pick([hi, "+"]),
        pick([lo, "-", `(${lo}`]),
        "COUNT",
        String(1 + int(30)),
      ];
  }
  if (k < 80) return ["XLEN", "L"];
  if (k < 82) {
    return [
      "XGROUP",
      "CREATE",
      "L",
      pick(["g1", "g2"]),
      pick(["0", "$", past()]),
    ];
  }
  if (k < 90) {
    return [
      "XREADGROUP",
      "GROUP",
      pick(["g1", "g2"]),
      pick(["a", "b"]),
      "COUNT",
      String(1 + int(20)),
      "STREAMS",
      "L",
      r() < 0.8 ? ">" : "0",
    ];
  }
  if (k < 93) return ["XACK", "L", pick(["g1", "g2"]), past(), past()];
  if (k < 95) {
    return [
      "XAUTOCLAIM",
      "L",
      pick(["g1", "g2"]),
      pick(["a", "b"]),
      "0",
      past(),
      "COUNT",
      String(1 + int(10)),
    ];
  }
  if (k < 97) return ["XPENDING", "L", pick(["g1", "g2"])];
  if (k < 98) return ["XREAD", "COUNT", "5", "STREAMS", "L", past()];
  return pick([["XINFO", "STREAM", "L"], ["XINFO", "GROUPS", "L"]]);
}

Deno.test({
  name: "stream: seeded random long streams, replies identical to redis-server",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const seed of [7, 8]) {
      const a = await Conn.open(redis.port);
      const b = await Conn.open(ours.port);
      try {
        await a.call("FLUSHALL");
        await b.call("FLUSHALL");
        const r = random(seed);
        const state = { ms: 1 };
        for (let i = 0; i < 4000; i++) {
          const cmd = longStreamCommand(r, state);
          const name = String(cmd[0]).toUpperCase();
          const expected = normalize(name, await a.call(...cmd));
          const actual = normalize(name, await b.call(...cmd));
          assert.deepEqual(
            actual,
            expected,
            `seed ${seed} #${i}: ${cmd.join(" ")}`,
          );
        }
      } finally {
        a.close();
        b.close();
      }
    }
  },
});

Deno.test({
  name: "streams: XCLAIM FORCE starts the delivery count at 1, as Redis",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const counts = async (port: number) => {
      using c = await Conn.open(port);
      await c.call("XADD", "t", "1-1", "f", "v");
      await c.call("XADD", "t", "2-1", "f", "v");
      await c.call("XGROUP", "CREATE", "t", "g", "0");
      await c.call("XCLAIM", "t", "g", "c", "0", "1-1", "FORCE");
      await c.call("XCLAIM", "t", "g", "c", "0", "2-1", "FORCE", "JUSTID");
      const pending = await c.call("XPENDING", "t", "g", "-", "+", "10") as [
        string,
        string,
        number,
        number,
      ][];
      return pending.map(([id, , , count]) => [id, count]);
    };
    assert.deepEqual(await counts(ours.port), await counts(redis.port));
  },
});
