// Keyspace notifications: the events both servers publish for the same
// commands (a subscriber on `__key*__:*` on each, messages compared in
// order), the `notify-keyspace-events` setting's parsing and printing, and
// `expired` from lazy and active expiry.

import assert from "node:assert/strict";
import { encodeCommand, type RespValue } from "../protocol.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Runs `cmds` with notifications on (`flags`) and returns the messages a
 * pattern subscriber received, in order. */
async function events(
  port: number,
  cmds: Cmd[],
  flags: string,
): Promise<string[]> {
  using sub = await Conn.open(port);
  using c = await Conn.open(port);
  await c.call("FLUSHALL");
  await c.call("CONFIG", "SET", "notify-keyspace-events", flags);
  await sub.call("PSUBSCRIBE", "__key*__:*");
  for (const cmd of cmds) await c.call(...cmd.map(String));
  await c.call("PUBLISH", "__keyend__:", "end");
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const m = await sub.reply() as RespValue[];
    if (m[2] === "__keyend__:") break;
    out.push(`${m[2]} ${m[3]}`);
  }
  await c.call("CONFIG", "SET", "notify-keyspace-events", "");
  return out;
}

const CASES: Record<string, Cmd[]> = {
  strings: [
    ["SET", "s", "1"],
    ["SET", "s", "2", "EX", "100"],
    ["SET", "s", "3", "NX"],
    ["SET", "s", "3", "XX", "GET"],
    ["SETNX", "s", "x"],
    ["SETNX", "s2", "x"],
    ["SETEX", "s3", "10", "v"],
    ["PSETEX", "s3", "10000", "v"],
    ["GETSET", "s", "9"],
    ["GETDEL", "s2"],
    ["GETDEL", "s2"],
    ["GETEX", "s", "EX", "100"],
    ["GETEX", "s", "PERSIST"],
    ["GETEX", "s", "PERSIST"],
    ["GETEX", "s", "PXAT", "1"],
    ["MSET", "a", "1", "b", "2"],
    ["MSETNX", "a", "1", "c", "2"],
    ["MSETNX", "c", "1", "d", "2"],
    ["APPEND", "a", "xx"],
    ["SETRANGE", "a", "1", "zz"],
    ["SETRANGE", "a", "1", ""],
    ["INCR", "n"],
    ["DECR", "n"],
    ["INCRBY", "n", "5"],
    ["DECRBY", "n", "5"],
    ["INCRBYFLOAT", "n", "1.5"],
    ["INCR", "a"],
  ],
  generic: [
    ["SET", "a", "1"],
    ["SET", "b", "1"],
    ["DEL", "a", "b", "c"],
    ["SET", "a", "1"],
    ["EXPIRE", "a", "100"],
    ["EXPIRE", "a", "100", "NX"],
    ["PEXPIRE", "a", "100000"],
    ["EXPIREAT", "a", "99999999999"],
    ["PERSIST", "a"],
    ["PERSIST", "a"],
    ["RENAME", "a", "b"],
    ["RENAME", "b", "b"],
    ["RENAMENX", "b", "c"],
    ["SET", "d", "1"],
    ["RENAMENX", "c", "d"],
    ["COPY", "c", "e"],
    ["COPY", "c", "e"],
    ["COPY", "c", "e", "REPLACE"],
    ["UNLINK", "e"],
    ["EXPIRE", "c", "-1"],
    ["PEXPIREAT", "d", "1"],
    ["RPUSH", "l", "3", "1", "2"],
    ["SORT", "l", "STORE", "dst"],
    ["SORT", "nope", "STORE", "dst"],
    ["SORT", "nope", "STORE", "dst"],
  ],
  lists: [
    ["LPUSH", "l", "a", "b"],
    ["RPUSH", "l", "c"],
    ["LPUSHX", "l", "d"],
    ["RPUSHX", "l", "e"],
    ["LPUSHX", "nope", "d"],
    ["LPOP", "l"],
    ["RPOP", "l"],
    ["LPOP", "l", "0"],
    ["LPOP", "nope"],
    ["LSET", "l", "0", "x"],
    ["LINSERT", "l", "BEFORE", "x", "y"],
    ["LINSERT", "l", "BEFORE", "nothere", "y"],
    ["LREM", "l", "0", "y"],
    ["LREM", "l", "0", "y"],
    ["LTRIM", "l", "0", "-1"],
    ["LTRIM", "nope", "0", "-1"],
    ["RPUSH", "m", "1", "2"],
    ["LMOVE", "m", "l", "LEFT", "RIGHT"],
    ["RPOPLPUSH", "m", "l"],
    ["RPOPLPUSH", "m", "l"],
    ["LMPOP", "2", "nope", "l", "LEFT", "COUNT", "2"],
    ["RPOP", "l", "10"],
    ["RPUSH", "t", "1", "2"],
    ["LTRIM", "t", "5", "6"],
  ],
  hashes: [
    ["HSET", "h", "a", "1", "b", "2"],
    ["HSET", "h", "a", "1"],
    ["HMSET", "h", "c", "3"],
    ["HSETNX", "h", "a", "1"],
    ["HSETNX", "h", "z", "1"],
    ["HDEL", "h", "nope"],
    ["HDEL", "h", "a"],
    ["HINCRBY", "h", "n", "2"],
    ["HINCRBYFLOAT", "h", "f", "2.5"],
    ["HDEL", "h", "b", "c", "z", "n", "f"],
  ],
  sets: [
    ["SADD", "s", "a", "b", "c"],
    ["SADD", "s", "a"],
    ["SREM", "s", "nope"],
    ["SREM", "s", "a"],
    ["SMOVE", "s", "t", "b"],
    ["SADD", "t", "c"],
    ["SMOVE", "s", "t", "c"],
    ["SMOVE", "t", "t", "c"],
    ["SADD", "u", "1", "2", "3"],
    ["SPOP", "u"],
    ["SPOP", "u", "0"],
    ["SPOP", "u", "5"],
    ["SPOP", "u"],
    ["SINTERSTORE", "d", "t", "t"],
    ["SUNIONSTORE", "d", "t", "nope"],
    ["SDIFFSTORE", "d", "t", "t"],
    ["SDIFFSTORE", "d", "t", "t"],
  ],
  zsets: [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "z", "1", "a"],
    ["ZADD", "z", "5", "a"],
    ["ZADD", "z", "NX", "5", "a"],
    ["ZADD", "z", "INCR", "1", "a"],
    ["ZADD", "z", "NX", "INCR", "1", "a"],
    ["ZINCRBY", "z", "1", "q"],
    ["ZREM", "z", "nope"],
    ["ZREM", "z", "q"],
    ["ZREMRANGEBYRANK", "z", "0", "0"],
    ["ZREMRANGEBYSCORE", "z", "2", "2"],
    ["ZREMRANGEBYLEX", "z", "-", "+"],
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZPOPMIN", "z"],
    ["ZPOPMAX", "z", "1"],
    ["ZPOPMAX", "z", "0"],
    ["ZMPOP", "1", "z", "MIN"],
    ["ZADD", "y", "1", "a", "2", "b"],
    ["ZRANGESTORE", "d", "y", "0", "-1"],
    ["ZUNIONSTORE", "d", "1", "y"],
    ["ZINTERSTORE", "d", "2", "y", "nope"],
    ["ZINTERSTORE", "d", "2", "y", "nope"],
    ["ZDIFFSTORE", "d", "1", "y"],
  ],
  bitmaps: [
    ["SETBIT", "b", "7", "1"],
    ["SETBIT", "b", "7", "1"],
    ["BITFIELD", "b", "GET", "u8", "0"],
    ["BITFIELD", "b", "SET", "u8", "0", "3"],
    ["BITOP", "OR", "d", "b", "b"],
    ["BITOP", "AND", "d", "nope"],
    ["BITOP", "AND", "d", "nope"],
  ],
  hyperloglog: [
    ["PFADD", "h", "a", "b"],
    ["PFADD", "h", "a"],
    ["PFADD", "g", "c"],
    ["PFMERGE", "d", "h", "g"],
    ["PFCOUNT", "d"],
  ],
  geo: [
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
    ["GEOADD", "g", "13.361389", "38.115556", "Palermo"],
    ["GEOADD", "g", "CH", "15.087269", "37.502669", "Catania"],
    [
      "GEOSEARCHSTORE",
      "d",
      "g",
      "FROMLONLAT",
      "15",
      "37",
      "BYRADIUS",
      "200",
      "km",
    ],
    ["GEORADIUS", "g", "15", "37", "200", "km", "STORE", "d"],
    ["GEOSEARCHSTORE", "d", "g", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"],
    [
      "GEOSEARCHSTORE",
      "d",
      "nope",
      "FROMLONLAT",
      "0",
      "0",
      "BYRADIUS",
      "1",
      "km",
    ],
  ],
  streams: [
    ["XADD", "x", "1-1", "f", "v"],
    ["XADD", "x", "MAXLEN", "1", "2-1", "f", "v"],
    ["XADD", "nope", "NOMKSTREAM", "*", "f", "v"],
    ["XTRIM", "x", "MAXLEN", "5"],
    ["XADD", "x", "3-1", "f", "v"],
    ["XTRIM", "x", "MAXLEN", "1"],
    ["XDEL", "x", "1-1"],
    ["XDEL", "x", "3-1"],
    ["XGROUP", "CREATE", "x", "g", "$"],
    ["XGROUP", "CREATE", "y", "g", "$", "MKSTREAM"],
    ["XGROUP", "SETID", "x", "g", "0"],
    ["XGROUP", "CREATECONSUMER", "x", "g", "c"],
    ["XGROUP", "CREATECONSUMER", "x", "g", "c"],
    ["XGROUP", "DELCONSUMER", "x", "g", "c"],
    ["XGROUP", "DELCONSUMER", "x", "g", "c"],
    ["XGROUP", "DESTROY", "x", "g"],
    ["XGROUP", "DESTROY", "x", "g"],
    ["XSETID", "x", "5-0"],
    ["XADD", "r", "1-1", "f", "v"],
    ["XGROUP", "CREATE", "r", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "r", ">"],
    ["XREADGROUP", "GROUP", "g", "c1", "STREAMS", "r", ">"],
    ["XREADGROUP", "GROUP", "g", "c9", "STREAMS", "r", "0"],
    ["XCLAIM", "r", "g", "c2", "0", "1-1"],
    ["XCLAIM", "r", "g", "c3", "0", "9-9"],
    ["XAUTOCLAIM", "r", "g", "c4", "0", "0"],
    ["XAUTOCLAIM", "r", "g", "c4", "0", "0"],
  ],
  "key misses (m)": [
    ["GET", "nope"],
    ["SET", "a", "1"],
    ["GET", "a"],
    ["MGET", "a", "b", "c"],
    ["HGET", "nope", "f"],
    ["LRANGE", "nope", "0", "-1"],
    ["SMEMBERS", "nope"],
    ["ZSCORE", "nope", "m"],
    ["XRANGE", "nope", "-", "+"],
    ["STRLEN", "nope"],
    ["GETBIT", "nope", "1"],
    ["PFCOUNT", "nope"],
  ],
  "new keys (n)": [
    ["SET", "a", "1"],
    ["SET", "a", "2"],
    ["RPUSH", "l", "1"],
    ["RPUSH", "l", "2"],
    ["HSET", "h", "f", "v"],
    ["SADD", "s", "m"],
    ["ZADD", "z", "1", "m"],
    ["COPY", "a", "b"],
    ["COPY", "a", "b", "REPLACE"],
    ["RENAME", "a", "b"],
    ["SET", "a", "1"],
    ["RENAME", "a", "c"],
    ["SINTERSTORE", "d", "s", "s"],
    ["SINTERSTORE", "d", "s", "s"],
    ["ZUNIONSTORE", "e", "1", "z"],
    ["ZUNIONSTORE", "e", "1", "z"],
    ["SORT", "l", "STORE", "f"],
    ["SORT", "l", "STORE", "f"],
    ["BITOP", "OR", "g", "c"],
    ["BITOP", "OR", "g", "c"],
    ["PFADD", "p", "x"],
    ["PFMERGE", "q", "p"],
    ["PFMERGE", "q", "p"],
    ["XADD", "x", "1-1", "f", "v"],
    ["SETBIT", "bits", "1", "1"],
    ["INCR", "n"],
    ["APPEND", "ap", "x"],
    ["GETSET", "gs", "x"],
    ["MSET", "m1", "1", "m2", "2"],
  ],
};

Deno.test({
  name: "notifications: the events of every family match redis-server",
  ignore: !hasRedis,
  ...opts,
  async fn(t) {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const [name, cmds] of Object.entries(CASES)) {
      const extra = name === "new keys (n)"
        ? "KEn"
        : name === "key misses (m)"
        ? "KEm"
        : "Kgl";
      for (const flags of ["KEA", extra]) {
        await t.step(`${name} (${flags})`, async () => {
          const expected = await events(redis.port, cmds, flags);
          const actual = await events(ours.port, cmds, flags);
          if (flags !== "Kgl") assert.ok(expected.length > 0);
          assert.deepEqual(actual, expected);
        });
      }
    }
  },
});

const CONFIG_CASES: Record<string, Cmd[]> = {
  "notify-keyspace-events": [
    ...[
      "",
      "A",
      "KEA",
      "gx",
      "Ex",
      "K$lshzxetmdn",
      "AKEmn",
      "An",
      "g$lshzxetd",
      "g$lshzxet",
      "nKE",
      "mE",
      "xyz",
      "KEA ",
    ].flatMap((v): Cmd[] => [
      ["CONFIG", "SET", "notify-keyspace-events", v],
      ["CONFIG", "GET", "notify-keyspace-events"],
    ]),
    ["CONFIG", "SET", "notify-keyspace-events", ""],
  ],
};

Deno.test({
  name: "notifications: notify-keyspace-events parsing matches redis-server",
  ignore: !hasRedis,
  ...opts,
  fn: (t) => compareWithRedis(t, CONFIG_CASES),
});

Deno.test(
  "notifications: expired, lazily and by the active cycle",
  opts,
  async () => {
    await using server = await startServer({ hz: 100 });
    using sub = await Conn.open(server.port);
    using c = await Conn.open(server.port);
    await c.call("CONFIG", "SET", "notify-keyspace-events", "Ex");
    await sub.call("SUBSCRIBE", "__keyevent@0__:expired");
    await c.call("SET", "lazy", "1", "PX", "1");
    await new Promise((r) => setTimeout(r, 5));
    await c.call("GET", "lazy");
    assert.deepEqual(await sub.reply(), [
      "message",
      "__keyevent@0__:expired",
      "lazy",
    ]);
    await c.call("SET", "active", "1", "PX", "20");
    assert.deepEqual(await sub.reply(3000), [
      "message",
      "__keyevent@0__:expired",
      "active",
    ]);
    assert.equal(await c.call("EXISTS", "active"), 0);
  },
);

Deno.test(
  "notifications: off by default, and a RESP3 client gets pushes",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    await c.call("HELLO", "3");
    await c.rawReplies(encodeCommand(["SUBSCRIBE", "__keyspace@0__:k"]));
    assert.equal(await c.call("SET", "k", "1"), "OK");
    await c.call("CONFIG", "SET", "notify-keyspace-events", "K$");
    // The push comes before the reply, as in Redis.
    const raw = await c.rawReplies(encodeCommand(["SET", "k", "2"]), 2);
    assert.equal(
      raw,
      ">3\r\n$7\r\nmessage\r\n$16\r\n__keyspace@0__:k\r\n$3\r\nset\r\n+OK\r\n",
    );
  },
);

Deno.test("notifications: evicted keys", opts, async () => {
  await using server = await startServer();
  using sub = await Conn.open(server.port);
  using c = await Conn.open(server.port);
  await c.call("CONFIG", "SET", "notify-keyspace-events", "Ee");
  await sub.call("SUBSCRIBE", "__keyevent@0__:evicted");
  for (let i = 0; i < 100; i++) await c.call("SET", `k${i}`, "x".repeat(100));
  await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
  await c.call("CONFIG", "SET", "maxmemory", "1");
  await c.call("SET", "last", "1");
  const m = await sub.reply() as RespValue[];
  assert.equal(m[1], "__keyevent@0__:evicted");
  await c.call("CONFIG", "SET", "maxmemory", "0");
});
