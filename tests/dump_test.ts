// DUMP and RESTORE beside redis-server 7.0: payloads go both ways (DUMP from
// redis-server -> RESTORE into ours, DUMP from ours -> RESTORE into
// redis-server) for every type and encoding, and each side reads back the
// same value and OBJECT ENCODING; small values give the same bytes. Then
// the options, the errors, payloads of older RDB versions, notifications,
// the append-only log, and a bounded fuzz of malformed payloads.

import assert from "node:assert/strict";
import { binaryToBytes } from "../_bytes.ts";
import { crc64, RdbReader, RdbWriter } from "../_rdb.ts";
import { ListpackBuilder } from "../data/_rdb_values.ts";
import { encodeCommand, type RespValue } from "../protocol.ts";
import { Store } from "../store.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A value set up by commands, and how to read it back in full. */
interface Case {
  setup: Cmd[];
  /** Read-back commands (the key is `k`). */
  read: Cmd[];
  /** DUMP gives the same bytes on both servers. */
  sameBytes?: boolean;
  /** Replies whose array elements are compared sorted (hash tables). */
  sorted?: boolean;
  /** Replies whose flat [field, value, ...] pairs are compared sorted. */
  sortedPairs?: boolean;
}

const range = (n: number, f: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => f(i));

const STRING_READ: Cmd[] = [["GET", "k"], ["STRLEN", "k"]];
const LIST_READ: Cmd[] = [["LRANGE", "k", 0, -1], ["LLEN", "k"]];
const HASH_READ: Cmd[] = [["HGETALL", "k"], ["HLEN", "k"]];
const SET_READ: Cmd[] = [["SMEMBERS", "k"], ["SCARD", "k"]];
const ZSET_READ: Cmd[] = [["ZRANGE", "k", 0, -1, "WITHSCORES"], ["ZCARD", "k"]];
const STREAM_READ: Cmd[] = [
  ["XRANGE", "k", "-", "+"],
  ["XINFO", "STREAM", "k", "FULL"],
  ["XINFO", "GROUPS", "k"],
];

const CASES: Record<string, Case> = {
  "string: short": {
    setup: [["SET", "k", "hello"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: empty": {
    setup: [["SET", "k", ""]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: int8": {
    setup: [["SET", "k", "-12"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: int16": {
    setup: [["SET", "k", "3000"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: int32": {
    setup: [["SET", "k", "-2147483648"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: int64": {
    setup: [["SET", "k", "9223372036854775807"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: not canonical integers": {
    setup: [["SET", "k", "007"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: binary": {
    setup: [["SET", "k", "\x00\x01\x7f\r\n"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "string: long (LZF in redis-server)": {
    setup: [["SET", "k", "abcdefgh".repeat(500)]],
    read: STRING_READ,
  },
  "string: a float": {
    setup: [["INCRBYFLOAT", "k", "3.25"]],
    read: STRING_READ,
    sameBytes: true,
  },
  "bitmap": {
    setup: [["SETBIT", "k", 100, 1], ["SETBIT", "k", 7, 1]],
    read: [...STRING_READ, ["BITCOUNT", "k"]],
    sameBytes: true,
  },
  "hyperloglog": {
    setup: [["PFADD", "k", "a", "b", "c", "d"]],
    read: [...STRING_READ, ["PFCOUNT", "k"]],
  },
  "list: small listpack": {
    setup: [["RPUSH", "k", "a", "bb", "1", "-3", "300"]],
    read: LIST_READ,
    sameBytes: true,
  },
  "list: integers of every listpack width": {
    setup: [[
      "RPUSH",
      "k",
      "127",
      "-4096",
      "32767",
      "-8388608",
      "2147483647",
      "-9223372036854775808",
    ]],
    read: LIST_READ,
  },
  "list: several quicklist nodes": {
    setup: [["RPUSH", "k", ...range(3000, (i) => `element:${i}`)]],
    read: LIST_READ,
  },
  "list: elements of 1 KB, 5 KB and 20 KB": {
    setup: [[
      "RPUSH",
      "k",
      "x".repeat(1000),
      "y".repeat(5000),
      "z".repeat(20000),
      "small",
    ]],
    read: LIST_READ,
  },
  "hash: small listpack": {
    setup: [["HSET", "k", "f", "v", "n", "12"]],
    read: HASH_READ,
    sameBytes: true,
  },
  "hash: listpack of 300 fields": {
    setup: [["HSET", "k", ...range(600, (i) => `f${i >> 1}:${i & 1}`)]],
    read: HASH_READ,
  },
  "hash: hashtable (many fields)": {
    setup: [["HSET", "k", ...range(1400, (i) => `${i}`)]],
    read: HASH_READ,
    sortedPairs: true,
  },
  "hash: hashtable (a long value)": {
    setup: [["HSET", "k", "a", "1", "long", "v".repeat(100)]],
    read: HASH_READ,
    sortedPairs: true,
  },
  "set: intset of 16-bit values": {
    setup: [["SADD", "k", "3", "-2", "1000"]],
    read: SET_READ,
    sameBytes: true,
  },
  "set: intset of 32-bit values": {
    setup: [["SADD", "k", "70000", "-1"]],
    read: SET_READ,
    sameBytes: true,
  },
  "set: intset of 64-bit values": {
    setup: [["SADD", "k", "-9223372036854775808", "5"]],
    read: SET_READ,
  },
  "set: hashtable": {
    setup: [["SADD", "k", "a", "b", "1"]],
    read: SET_READ,
    sorted: true,
  },
  "set: big intset turns into a hashtable": {
    setup: [["SADD", "k", ...range(600, (i) => String(i * 3))]],
    read: SET_READ,
    sorted: true,
  },
  "zset: small listpack": {
    setup: [["ZADD", "k", "1", "a", "2.5", "b", "-3", "c"]],
    read: ZSET_READ,
    sameBytes: true,
  },
  "zset: scores of every form": {
    setup: [[
      "ZADD",
      "k",
      "0.1",
      "a",
      "inf",
      "b",
      "-inf",
      "c",
      "1e300",
      "d",
      "123456789012",
      "e",
    ]],
    read: ZSET_READ,
  },
  "zset: skiplist (many members)": {
    setup: [["ZADD", "k", ...range(400, (i) => i & 1 ? `m${i}` : `${i / 7}`)]],
    read: ZSET_READ,
  },
  "zset: skiplist (a long member)": {
    setup: [["ZADD", "k", "1", "a", "2", "m".repeat(100)]],
    read: ZSET_READ,
  },
  "geo": {
    setup: [["GEOADD", "k", "13.361389", "38.115556", "Palermo"]],
    read: [...ZSET_READ, ["GEOPOS", "k", "Palermo"]],
  },
  "stream: entries": {
    setup: [
      ["XADD", "k", "1-1", "a", "1", "b", "2"],
      ["XADD", "k", "1-2", "a", "3", "b", "4"],
      ["XADD", "k", "2-0", "other", "x"],
    ],
    read: STREAM_READ,
  },
  "stream: groups, consumers, pending entries, deletions": {
    setup: [
      ...range(30, (i) => `${i + 1}-0`).map((id): Cmd => [
        "XADD",
        "k",
        id,
        "f",
        id,
      ]),
      ["XGROUP", "CREATE", "k", "g1", "0"],
      ["XGROUP", "CREATE", "k", "g2", "$", "ENTRIESREAD", "5"],
      ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "k", ">"],
      ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", "k", ">"],
      ["XGROUP", "CREATECONSUMER", "k", "g2", "carol"],
      ["XACK", "k", "g1", "2-0"],
      ["XDEL", "k", "3-0", "10-0", "30-0"],
      ["XCLAIM", "k", "g1", "bob", "0", "1-0", "RETRYCOUNT", "7"],
    ],
    read: [...STREAM_READ, ["XPENDING", "k", "g1"]],
  },
  "stream: several nodes, trimmed": {
    setup: [
      ...range(250, (i) => `${i + 1}-1`).map((id): Cmd => [
        "XADD",
        "k",
        id,
        "field",
        id,
        "n",
        String(id.length),
      ]),
      ["XTRIM", "k", "MAXLEN", "180"],
      ["XDEL", "k", "120-1"],
    ],
    read: STREAM_READ,
  },
  "stream: empty, with its counters": {
    setup: [
      ["XADD", "k", "5-5", "a", "b"],
      ["XDEL", "k", "5-5"],
      ["XGROUP", "CREATE", "k", "g", "$"],
    ],
    read: STREAM_READ,
  },
};

/** XINFO STREAM with its radix-tree-nodes masked: ours is an estimate
 * (data/stream.ts radixNodes), not Redis's tree. */
function maskRaxNodes(v: RespValue): RespValue {
  if (!Array.isArray(v)) return v;
  const out = [...v];
  const i = out.indexOf("radix-tree-nodes");
  if (i >= 0) out[i + 1] = "(masked)";
  return out;
}

function sortReply(v: RespValue, pairs: boolean): RespValue {
  if (!Array.isArray(v)) return v;
  if (!pairs) return [...v].map(String).sort();
  const out: string[] = [];
  for (let i = 0; i < v.length; i += 2) out.push(`${v[i]}\u0000${v[i + 1]}`);
  return out.sort();
}

/** The read-back of `k` on `c`: each read command's reply, and OBJECT
 * ENCODING. */
async function readBack(c: Conn, k: Case): Promise<RespValue[]> {
  // The encoding first: some reads change it (PFCOUNT caches).
  const out: RespValue[] = [
    await c.call("OBJECT", "ENCODING", "k"),
    await c.call("TYPE", "k"),
  ];
  for (const cmd of k.read) {
    const r = maskRaxNodes(await c.call(...cmd));
    out.push(
      k.sorted || k.sortedPairs ? sortReply(r, k.sortedPairs === true) : r,
    );
  }
  return out;
}

/** The blobs of a payload whose value is one or more blobs (a string, a
 * listpack hash or zset, an intset, the nodes of a quicklist), LZF
 * undone: what must match byte for byte when redis-server compresses. Null
 * for the other types. */
function blobsOf(payload: string): number[][] | null {
  const r = new RdbReader(binaryToBytes(payload));
  const type = r.byte();
  const blob = () => Array.from(r.stringBytes()!);
  if (type === 0 || type === 11 || type === 16 || type === 17) return [blob()];
  if (type !== 18) return null;
  const out: number[][] = [];
  for (let n = r.plainLength()!; n > 0; n--) {
    out.push([r.plainLength()!]);
    out.push(blob());
  }
  return out;
}

/** Sets the case up on `c` (flushed first) and returns its DUMP. */
async function dumpOf(c: Conn, k: Case): Promise<string> {
  assert.equal(await c.call("FLUSHALL"), "OK");
  for (const cmd of k.setup) {
    const r = await c.call(...cmd);
    assert.ok(!(r instanceof Error), `${cmd.join(" ")}: ${r}`);
  }
  const payload = await c.call("DUMP", "k");
  assert.equal(typeof payload, "string");
  return payload as string;
}

async function restoreInto(c: Conn, payload: string): Promise<void> {
  assert.equal(await c.call("FLUSHALL"), "OK");
  const r = await c.call("RESTORE", "k", "0", binaryToBytes(payload));
  assert.equal(r, "OK", `RESTORE: ${r}`);
}

Deno.test({
  name: "dump: every type and encoding, both ways with redis-server",
  ignore: !hasRedis,
  ...opts,
  fn: async (t) => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using r = await Conn.open(redis.port);
    using o = await Conn.open(ours.port);
    for (const [name, k] of Object.entries(CASES)) {
      await t.step(name, async () => {
        const fromRedis = await dumpOf(r, k);
        const original = await readBack(r, k);
        const fromOurs = await dumpOf(o, k);
        const ourOriginal = await readBack(o, k);
        // Compressed or not, the same encoding (node splits included).
        assert.deepEqual(
          blobsOf(fromOurs),
          blobsOf(fromRedis),
          "the same encoded value",
        );
        if (k.sameBytes) {
          assert.deepEqual(
            binaryToBytes(fromOurs),
            binaryToBytes(fromRedis),
            "the same DUMP bytes",
          );
        }
        // Each payload restores to the same value, encoding included, on
        // both servers.
        for (
          const [from, payload, value] of [
            ["redis", fromRedis, original],
            ["ours", fromOurs, ourOriginal],
          ] as const
        ) {
          await restoreInto(r, payload);
          const expected = await readBack(r, k);
          await restoreInto(o, payload);
          assert.deepEqual(
            await readBack(o, k),
            expected,
            `the payload of ${from} restored into ours and into redis-server`,
          );
          // The value is the one dumped (encodings aside: they depend on
          // the history of the original).
          assert.deepEqual(
            expected.slice(2),
            value.slice(2),
            `the payload of ${from} holds the value`,
          );
        }
      });
    }
  },
});

// ---------------------------------------------------------------------------
// Errors and options.

Deno.test({
  name: "dump: errors and option checks, byte for byte",
  ignore: !hasRedis,
  ...opts,
  fn: async (t) => {
    await compareWithRedis(t, {
      "missing key": [["DUMP", "nope"]],
      "bad checksum": [["RESTORE", "k", "0", "garbage that is long enough"]],
      "too short": [["RESTORE", "k", "0", "x"]],
      "ttl checked before the payload": [["RESTORE", "k", "-1", "x"]],
      "ttl not a number": [["RESTORE", "k", "abc", "x"]],
      "idletime": [
        ["RESTORE", "k", "0", "x", "IDLETIME", "-1"],
        ["RESTORE", "k", "0", "x", "IDLETIME", "x"],
        ["RESTORE", "k", "0", "x", "IDLETIME"],
      ],
      "freq": [
        ["RESTORE", "k", "0", "x", "FREQ", "256"],
        ["RESTORE", "k", "0", "x", "FREQ", "-1"],
        ["RESTORE", "k", "0", "x", "freq", "1", "IDLETIME", "1"],
      ],
      "syntax": [
        ["RESTORE", "k", "0", "x", "NOPE"],
        ["RESTORE", "k", "0", "x", "replace", "absttl", "nope"],
      ],
      "busykey comes first": [
        ["SET", "k", "v"],
        ["RESTORE", "k", "-5", "x"],
        ["RESTORE", "k", "0", "x", "REPLACE"],
      ],
      "arity": [["RESTORE", "k", "0"], ["DUMP"]],
    });
  },
});

/** A payload of `body` with RDB `version` and its CRC-64. */
function seal(body: Uint8Array | number[], version = 10): Uint8Array {
  const out = new Uint8Array(body.length + 10);
  out.set(body);
  out[body.length] = version & 0xff;
  out[body.length + 1] = version >> 8;
  let crc = crc64(out.subarray(0, body.length + 2));
  for (let i = 0; i < 8; i++) {
    out[body.length + 2 + i] = Number(crc & 0xffn);
    crc >>= 8n;
  }
  return out;
}

type Arg = string | number | Uint8Array;

/** Runs `cmds` on a flushed keyspace of `port` and returns the raw replies
 * (error replies and simple values are text). */
async function rawRun(port: number, cmds: Arg[][]): Promise<string[]> {
  using c = await Conn.open(port);
  await c.call("FLUSHALL");
  const out: string[] = [];
  for (const cmd of cmds) out.push(await c.rawReplies(encodeCommand(cmd)));
  return out;
}

Deno.test({
  name: "dump: payloads redis-server refuses are refused the same way",
  ignore: !hasRedis,
  ...opts,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const good = [0, 1, 0x76]; // a string "v"
    const cmds: Arg[][] = [
      ["RESTORE", "k", "0", seal(good)],
      ["GET", "k"],
      ["RESTORE", "k2", "0", seal(good, 11)], // a version from the future
      ["RESTORE", "k2", "0", seal(good, 9)], // older ones load
      ["RESTORE", "a", "0", seal([8, 1, 0x76])], // no such type
      ["RESTORE", "a", "0", seal([20, 1, 0x76])],
      ["RESTORE", "a", "0", seal([7, 1])], // a module value
      ["RESTORE", "a", "0", seal([0, 5, 0x76])], // short
      ["RESTORE", "a", "0", seal([])],
      ["RESTORE", "a", "0", seal([1, 0])], // an empty list
      ["RESTORE", "a", "0", seal([2, 0])], // an empty set
      ["RESTORE", "a", "0", seal([4, 0])], // an empty hash
      ["RESTORE", "a", "0", seal([5, 0])], // an empty zset
      ["RESTORE", "a", "0", seal([18, 0])], // a quicklist of no node
      ["RESTORE", "a", "0", seal([0, 0xc3, 2, 5, 0, 0x76])], // bad LZF
      [
        "RESTORE",
        "a",
        "0",
        seal([5, 1, 1, 0x61, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f]),
      ], // NaN
      ["EXISTS", "a"],
    ];
    assert.deepEqual(
      await rawRun(ours.port, cmds),
      await rawRun(redis.port, cmds),
    );
  },
});

Deno.test({
  name: "dump: TTL, ABSTTL, REPLACE, IDLETIME and FREQ beside redis-server",
  ignore: !hasRedis,
  ...opts,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const v = seal([0, 1, 0x76]);
    const list = seal([18, 1, 2, 10, 10, 0, 0, 0, 1, 0, 0x81, 0x61, 2, 0xff]);
    const future = Date.now() + 3_600_000;
    const cmds: Arg[][] = [
      ["RESTORE", "a", future, v, "ABSTTL"],
      ["PEXPIRETIME", "a"],
      ["RESTORE", "b", "0", v],
      ["PTTL", "b"],
      ["RESTORE", "b", "0", v],
      ["RESTORE", "b", "0", list, "REPLACE"],
      ["TYPE", "b"],
      ["LRANGE", "b", 0, -1],
      // Already expired: OK, and nothing is created; with REPLACE the key
      // that was there is removed.
      ["RESTORE", "c", "1", v, "ABSTTL"],
      ["EXISTS", "c"],
      ["RESTORE", "b", "1000", v, "ABSTTL", "REPLACE"],
      ["EXISTS", "b"],
      ["RESTORE", "d", "0", v, "IDLETIME", "1000", "REPLACE"],
      ["RESTORE", "e", "0", v, "FREQ", "100", "ABSTTL"],
      ["MGET", "d", "e"],
      // IDLETIME sets the LRU clock (any policy but LFU's) ...
      ["OBJECT", "IDLETIME", "d"],
      ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
      ["RESTORE", "f", "0", v, "IDLETIME", "5000"],
      ["OBJECT", "IDLETIME", "f"],
      // ... FREQ the LFU counter (under an LFU policy).
      ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
      ["RESTORE", "g", "0", v, "FREQ", "77"],
      ["OBJECT", "FREQ", "g"],
      ["RESTORE", "h", "0", v, "IDLETIME", "5000"],
      ["OBJECT", "FREQ", "h"],
      ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
    ];
    assert.deepEqual(
      await rawRun(ours.port, cmds),
      await rawRun(redis.port, cmds),
    );
    // A relative TTL: the time left is at most the TTL.
    for (const port of [ours.port, redis.port]) {
      using c = await Conn.open(port);
      assert.equal(await c.call("RESTORE", "t", "60000", v), "OK");
      const left = await c.call("PTTL", "t") as number;
      assert.ok(left > 0 && left <= 60000, `PTTL ${left}`);
    }
  },
});

// ---------------------------------------------------------------------------
// Payloads of RDB version 9: the encodings Redis wrote before 7.0.

/** A ziplist of `items` (strings, or numbers in an integer encoding). */
function ziplist(items: (string | number)[]): Uint8Array {
  const entries: number[][] = [];
  let prev = 0;
  for (const it of items) {
    const e: number[] = prev < 254
      ? [prev]
      : [0xfe, prev & 0xff, (prev >> 8) & 0xff, (prev >> 16) & 0xff, 0];
    if (typeof it === "number") {
      if (it >= 0 && it <= 12) e.push(0xf1 + it);
      else if (it >= -128 && it <= 127) e.push(0xfe, it & 0xff);
      else e.push(0xc0, it & 0xff, (it >> 8) & 0xff);
    } else if (it.length < 64) {
      e.push(it.length, ...binaryToBytes(it));
    } else {
      e.push(0x40 | (it.length >> 8), it.length & 0xff, ...binaryToBytes(it));
    }
    prev = e.length;
    entries.push(e);
  }
  const body = entries.flat();
  const total = 10 + body.length + 1;
  const tail = 10 + body.length - (entries.at(-1)?.length ?? 0);
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, total, true);
  dv.setUint32(4, entries.length ? tail : 10, true);
  dv.setUint16(8, entries.length, true);
  out.set(body, 10);
  out[total - 1] = 0xff;
  return out;
}

function blob(type: number, b: Uint8Array): number[] {
  const w = new RdbWriter();
  w.byte(type);
  w.blob(b);
  return [...w.finish()];
}

Deno.test({
  name: "dump: payloads of RDB version 9 (ziplists, zipmaps, quicklist v1, " +
    "LZF, text scores, streams without counters)",
  ignore: !hasRedis,
  ...opts,
  fn: async (t) => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const lzf = [0, 0xc3, 7, 24, 2, 0x61, 0x62, 0x63, 0xe0, 12, 2];
    const zipmap = new Uint8Array([
      2,
      1,
      0x61,
      1,
      0,
      0x31,
      2,
      0x62,
      0x62,
      3,
      2,
      0x78,
      0x79,
      0x7a,
      0,
      0,
      0xff,
    ]);
    const w = new RdbWriter();
    w.byte(3); // a zset with scores as text
    w.len(3);
    w.string("a");
    w.bytes(new Uint8Array([3, 0x31, 0x2e, 0x35]));
    w.string("b");
    w.byte(254);
    w.string("c");
    w.bytes(new Uint8Array([2, 0x2d, 0x32]));
    const textScores = [...w.finish()];
    // A stream of RDB_TYPE_STREAM_LISTPACKS: one node, a group.
    const lp = new ListpackBuilder();
    for (const x of [2, 0, 1, "f", 0]) lp.add(String(x));
    for (const x of [2, 0, 0, "v1", 4, 0, 1, 0, 1, "g", "v2", 6]) {
      lp.add(String(x));
    }
    const sw = new RdbWriter();
    sw.byte(15);
    sw.len(1);
    const key = new RdbWriter();
    key.u64be(5);
    key.u64be(0);
    sw.blob(key.finish());
    sw.blob(lp.finish());
    sw.len(2); // length
    sw.len(6); // last id
    sw.len(0);
    sw.len(1); // groups
    sw.string("grp");
    sw.len(5);
    sw.len(0);
    sw.len(1); // PEL
    sw.u64be(5);
    sw.u64be(0);
    sw.u64le(1_700_000_000_000);
    sw.len(2);
    sw.len(1); // consumers
    sw.string("alice");
    sw.u64le(1_700_000_000_500);
    sw.len(1);
    sw.u64be(5);
    sw.u64be(0);
    const streamV1 = [...sw.finish()];
    const cases: Record<string, [number[], Cmd[]]> = {
      "LZF string": [lzf, [["GET", "k"]]],
      "hash ziplist": [
        blob(13, ziplist(["f", "v", "n", 7, "neg", -100])),
        [["HGETALL", "k"]],
      ],
      "hash zipmap": [blob(9, zipmap), [["HGETALL", "k"]]],
      "zset ziplist": [
        blob(12, ziplist(["a", 1, "b", "2.5", "c", 300])),
        [["ZRANGE", "k", 0, -1, "WITHSCORES"]],
      ],
      "zset text scores": [textScores, [["ZRANGE", "k", 0, -1, "WITHSCORES"]]],
      "list ziplist": [
        blob(10, ziplist(["a", 5, -7, "x".repeat(300)])),
        [["LRANGE", "k", 0, -1]],
      ],
      "list quicklist v1": [
        [
          14,
          2,
          ...blob(0, ziplist(["a", "b"])).slice(1),
          ...blob(0, ziplist([1, 2, 3])).slice(1),
        ],
        [["LRANGE", "k", 0, -1]],
      ],
      "list of strings": [
        [1, 3, 1, 0x61, 0xc0, 5, 0xc1, 0x10, 0x27],
        [["LRANGE", "k", 0, -1]],
      ],
      "stream v1": [
        streamV1,
        [
          ["XRANGE", "k", "-", "+"],
          ["XINFO", "STREAM", "k", "FULL"],
          ["XINFO", "GROUPS", "k"],
        ],
      ],
    };
    for (const [name, [body, read]] of Object.entries(cases)) {
      await t.step(name, async () => {
        const cmds: Arg[][] = [
          ["RESTORE", "k", "0", seal(body, 9)],
          ["OBJECT", "ENCODING", "k"],
          ...read.map((c) => c[0] === "XINFO" ? c : c),
        ];
        const mine = await rawRun(ours.port, cmds);
        assert.deepEqual(
          mine.map(maskRaxNodesRaw),
          (await rawRun(redis.port, cmds)).map(maskRaxNodesRaw),
        );
        assert.equal(mine[0], "+OK\r\n");
      });
    }
  },
});

/** The raw XINFO reply with radix-tree-nodes masked (see maskRaxNodes). */
function maskRaxNodesRaw(raw: string): string {
  return raw.replace(/(radix-tree-nodes\r\n:)\d+/, "$1?");
}

// ---------------------------------------------------------------------------
// Effects: notifications, WATCH, blocked clients, the append-only log.

Deno.test({
  name: "dump: RESTORE's keyspace events are redis-server's",
  ignore: !hasRedis,
  ...opts,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const v = seal([0, 1, 0x76]);
    const run = async (port: number) => {
      using sub = await Conn.open(port);
      using c = await Conn.open(port);
      await c.call("FLUSHALL");
      await c.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
      await sub.call("PSUBSCRIBE", "__key*__:*");
      await c.call("RESTORE", "a", "0", v);
      await c.call("RESTORE", "a", "0", v, "REPLACE");
      await c.call("RESTORE", "b", "100000", v);
      await c.call("RESTORE", "a", "1", v, "REPLACE", "ABSTTL");
      await c.call("PUBLISH", "__keyend__:", "end");
      const out: string[] = [];
      for (let i = 0; i < 100; i++) {
        const m = await sub.reply() as RespValue[];
        if (m[2] === "__keyend__:") break;
        out.push(`${m[2]} ${m[3]}`);
      }
      await c.call("CONFIG", "SET", "notify-keyspace-events", "");
      return out;
    };
    const mine = await run(ours.port);
    assert.ok(mine.includes("__keyevent@0__:restore a"), mine.join(", "));
    assert.deepEqual(mine, await run(redis.port));
  },
});

Deno.test(
  "dump: RESTORE touches WATCHed keys and wakes blocked clients",
  opts,
  async () => {
    await using ours = await startServer();
    using c = await Conn.open(ours.port);
    using other = await Conn.open(ours.port);
    const list = seal([18, 1, 2, 10, 10, 0, 0, 0, 1, 0, 0x81, 0x61, 2, 0xff]);
    await c.call("WATCH", "w");
    await other.call("RESTORE", "w", "0", list);
    await c.call("MULTI");
    await c.call("GET", "x");
    assert.equal(await c.call("EXEC"), null);
    await c.send(encodeCommand(["BLPOP", "q", "10"]));
    // The BLPOP is in before the RESTORE: the next command on the same
    // connection is answered after it.
    await other.call("CLIENT", "LIST");
    for (let i = 0; i < 100; i++) {
      const info = await other.call("INFO", "clients") as string;
      if (/blocked_clients:1/.test(info)) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(await other.call("RESTORE", "q", "0", list), "OK");
    assert.deepEqual(await c.reply(), ["q", "a"]);
  },
);

Deno.test("dump: the log gets RESTORE with an absolute TTL", opts, async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-dump-" });
  try {
    const clock = { now: 1_800_000_000_000 };
    const v = seal([0, 1, 0x76]);
    {
      await using server = await startServer({
        dir,
        appendonly: true,
        store: new Store({ clock: () => clock.now }),
      });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("RESTORE", "rel", "5000", v), "OK");
      assert.equal(await c.call("RESTORE", "none", "0", v), "OK");
      assert.equal(await c.call("SET", "gone", "x"), "OK");
      assert.equal(
        await c.call("RESTORE", "gone", "1", v, "ABSTTL", "REPLACE"),
        "OK",
      );
      assert.equal(await c.call("RESTORE", "never", "1", v, "ABSTTL"), "OK");
    }
    const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
    assert.match(
      log,
      /RESTORE\r\n\$3\r\nrel\r\n\$13\r\n1800000005000\r\n\$\d+\r\n[^]*ABSTTL/,
    );
    assert.match(log, /DEL\r\n\$4\r\ngone/);
    assert.ok(!log.includes("never"), "a RESTORE that did nothing");
    clock.now += 1000;
    await using server = await startServer({
      dir,
      appendonly: true,
      store: new Store({ clock: () => clock.now }),
    });
    using c = await Conn.open(server.port);
    assert.equal(await c.call("PTTL", "rel"), 4000);
    assert.equal(await c.call("GET", "none"), "v");
    assert.equal(await c.call("EXISTS", "gone"), 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------
// Fuzz: malformed payloads with a valid checksum answer OK or Bad data
// format, and the server stays well.

/** A small deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test("dump: fuzzed payloads never crash the server", opts, async () => {
  await using ours = await startServer();
  using c = await Conn.open(ours.port);
  // Seeds: a payload of every type.
  const seeds: Uint8Array[] = [];
  const setups: Cmd[][] = [
    [["SET", "k", "hello world, a string"]],
    [["RPUSH", "k", "a", "1", "-300", "x".repeat(70)]],
    [["HSET", "k", "f", "v", "g", "123456"]],
    [["HSET", "k", "f", "v".repeat(80)]],
    [["SADD", "k", "1", "2", "70000"]],
    [["SADD", "k", "a", "b"]],
    [["ZADD", "k", "1", "a", "2.5", "b"]],
    [["ZADD", "k", "1", "a", "2", "m".repeat(80)]],
    [
      ["XADD", "k", "1-1", "a", "1"],
      ["XADD", "k", "2-1", "b", "2", "c", "3"],
      ["XGROUP", "CREATE", "k", "g", "0"],
      ["XREADGROUP", "GROUP", "g", "c1", "COUNT", "1", "STREAMS", "k", ">"],
      ["XDEL", "k", "2-1"],
    ],
  ];
  for (const setup of setups) {
    await c.call("FLUSHALL");
    for (const cmd of setup) await c.call(...cmd);
    seeds.push(binaryToBytes(await c.call("DUMP", "k") as string));
  }
  const random = rng(14);
  const pick = (n: number) => Math.floor(random() * n);
  let restored = 0;
  const N = 3000;
  for (let i = 0; i < N; i++) {
    const seed = seeds[i % seeds.length];
    const body = seed.slice(0, seed.length - 10);
    let m: Uint8Array;
    switch (pick(4)) {
      case 0: // truncated
        m = body.slice(0, pick(body.length));
        break;
      case 1: { // bits flipped
        m = body.slice();
        for (let k = 0, n = 1 + pick(3); k < n; k++) {
          m[pick(m.length)] ^= 1 << pick(8);
        }
        break;
      }
      case 2: { // bytes replaced with edge values
        m = body.slice();
        const edge = [0, 0xff, 0x7f, 0x80, 0x40, 0xc0, 0xfe, 0xf0];
        for (let k = 0, n = 1 + pick(2); k < n; k++) {
          m[1 + pick(m.length - 1)] = edge[pick(edge.length)];
        }
        break;
      }
      default: { // a slice repeated or removed
        const a = pick(body.length);
        const b = a + pick(body.length - a);
        m = random() < 0.5
          ? new Uint8Array([...body.slice(0, b), ...body.slice(a)])
          : new Uint8Array([...body.slice(0, a), ...body.slice(b)]);
      }
    }
    const r = await c.call("RESTORE", "f", "0", seal(m), "REPLACE");
    if (r === "OK") {
      restored++;
      // Whatever was accepted can be read and dumped again.
      const type = await c.call("TYPE", "f");
      assert.ok(typeof type === "string" && type !== "none");
      const again = await c.call("DUMP", "f");
      assert.equal(typeof again, "string");
      assert.equal(
        await c.call(
          "RESTORE",
          "f2",
          "0",
          binaryToBytes(again as string),
          "REPLACE",
        ),
        "OK",
      );
    } else {
      assert.ok(r instanceof Error, String(r));
      assert.equal(r.message, "ERR Bad data format", `payload ${m}`);
    }
  }
  assert.ok(restored > 0 && restored < N, `${restored} restored`);
  assert.equal(await c.call("PING"), "PONG");
});
