// FUNCTION and FCALL: byte-for-byte comparison with redis-server, DUMP and
// RESTORE payloads both ways, persistence (snapshots, the append-only
// file), FUNCTION KILL and STATS while a function is busy.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** Each case starts from an empty keyspace (and flushes the libraries). */
const FCASES: Record<string, Cmd[]> = {
  "library loading and its errors": [
    ["FUNCTION", "FLUSH"],
    [
      "FUNCTION",
      "load",
      '#!lua name=t1\nlocal t={} for k in pairs(redis) do t[#t+1]=k end table.sort(t) redis.register_function("f", function() return t end)',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=t2\nredis.register_function("g", function() local t={} for k in pairs(redis) do t[#t+1]=k end table.sort(t) return t end)',
    ],
    ["fcall", "g", "0"],
    [
      "FUNCTION",
      "load",
      '#!lua name=t4\nredis.register_function("h2", function() local t={} for k in pairs(_G) do t[#t+1]=k end table.sort(t) return t end)',
    ],
    ["fcall", "h2", "0"],
    ["FUNCTION", "load", '#!lua name=t5\nredis.call("ping")'],
    ["FUNCTION", "load", "#!lua name=t6\nx=1"],
    ["FUNCTION", "load", "#!lua name=t7\nreturn ("],
    ["FUNCTION", "load", "return 1"],
    ["FUNCTION", "load", "#!lua\nreturn 1"],
    ["FUNCTION", "load", "#!lua name=t8 foo=bar\nreturn 1"],
    ["FUNCTION", "load", "#!js name=t9\nreturn 1"],
    [
      "FUNCTION",
      "load",
      '#!lua name=t1\nredis.register_function("f", function() return 1 end)',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=t10\nredis.register_function("g", function() return 1 end)',
    ],
    ["FUNCTION", "load", "#!lua name=t11\nlocal a = 1"],
    [
      "FUNCTION",
      "load",
      '#!lua name=t12\nredis.register_function("k", function() error("bad") end)',
    ],
  ],
  "a library whose code runs too long": [
    ["FUNCTION", "FLUSH"],
    [
      "FUNCTION",
      "LOAD",
      "#!lua name=slow\nlocal i = 0 while true do i = i + 1 end",
    ],
    ["FUNCTION", "LIST"],
  ],
  "fcall and flags": [
    ["FUNCTION", "FLUSH"],
    ["fcall", "k", "0"],
    ["fcall", "nosuch", "0"],
    ["fcall", "k", "2", "a"],
    ["fcall_ro", "k", "0"],
    [
      "FUNCTION",
      "load",
      '#!lua name=t13\nredis.register_function{function_name="ro", callback=function(keys, args) return {keys[1], args[1]} end, flags={"no-writes"}, description="desc"}',
    ],
    ["fcall_ro", "ro", "1", "a", "b"],
    ["FUNCTION", "list", "libraryname", "t13"],
    ["FUNCTION", "list", "libraryname", "t13", "withcode"],
    ["FUNCTION", "stats"],
    ["FUNCTION", "delete", "nosuch"],
    [
      "FUNCTION",
      "load",
      '#!lua name=t14\nredis.register_function("bad name!", function() end)',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=t15\nredis.register_function{function_name="x", callback=1}',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=t16\nredis.register_function{function_name="x2", callback=function() end, flags={"bogus"}}',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=t17\nredis.register_function("a1", function() end) redis.register_function("a1", function() end)',
    ],
  ],
  "subcommand errors": [
    ["FUNCTION", "FLUSH"],
    ["FUNCTION", "load", "#!lua name=bad-lib!\nreturn 1"],
    ["FUNCTION", "flush", "x"],
    ["FUNCTION", "flush", "async", "x"],
    ["FUNCTION", "list", "x"],
    ["FUNCTION", "list", "libraryname"],
    ["FUNCTION", "list", "withcode", "withcode"],
    ["FUNCTION", "list", "libraryname", "a", "libraryname", "b"],
    ["FUNCTION", "load", "replace"],
    [
      "FUNCTION",
      "load",
      '#!LUA name=u1\nredis.register_function("uu", function() return 1 end)',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=u2 name=u3\nredis.register_function("uu3", function() return 1 end)',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua  name=u4\nredis.register_function("uu4", function() return 1 end)',
    ],
    ["FUNCTION", "load", "#!lua name=u5"],
    ["FUNCTION", "load", "#!lua name=\nreturn 1"],
    ["FUNCTION", "restore", "garbage"],
    ["FUNCTION", "restore", "garbage", "bogus"],
    ["FUNCTION", "stats", "x"],
    ["fcall", "f", "x"],
    ["fcall", "f", "-1"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w1\nredis.register_function{function_name="wf", callback=function(keys, args) return redis.call("set", keys[1], args[1]) end}',
    ],
    ["fcall_ro", "wf", "1", "a", "b"],
    ["fcall", "wf", "1", "a", "b"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w2\nredis.register_function{function_name="wf2", callback=function(keys, args) return redis.call("set", keys[1], args[1]) end, flags={"no-writes"}}',
    ],
  ],
  "register_function forms, replace, delete": [
    ["FUNCTION", "FLUSH"],
    ["fcall", "wf2", "1", "a", "b"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w3\nredis.register_function("x3", function() return redis.call("time") end) local ok = pcall(redis.call, "x")',
    ],
    ["FUNCTION", "load", "#!lua name=w4\nredis.register_function()"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w5\nredis.register_function("a", function() end, 3)',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=w6\nredis.register_function{function_name="z", callback=function() end, extra=1}',
    ],
    [
      "FUNCTION",
      "load",
      "#!lua name=w7\nredis.register_function{callback=function() end}",
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=w8\nredis.register_function{function_name="z8"}',
    ],
    [
      "FUNCTION",
      "load",
      '#!lua name=w9\nredis.register_function{function_name="z9", callback=function() return redis.REDIS_VERSION end, flags={"NO-WRITES", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"}}',
    ],
    ["fcall", "z9", "0"],
    ["FUNCTION", "list", "libraryname", "w9"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w10\nredis.register_function("z10", function(k, a) return #k + #a end) redis.log(redis.LOG_WARNING, "loading w10")',
    ],
    ["fcall", "z10", "2", "a", "b", "c"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w10\nredis.register_function("z11", function(k, a) return 1 end)',
    ],
    [
      "FUNCTION",
      "load",
      "replace",
      '#!lua name=w10\nredis.register_function("z11", function(k, a) return 11 end)',
    ],
    ["fcall", "z10", "0"],
    ["fcall", "z11", "0"],
    [
      "FUNCTION",
      "load",
      "replace",
      '#!lua name=w10\nredis.register_function("wf", function(k, a) return 11 end)',
    ],
    ["FUNCTION", "delete", "w10"],
    ["fcall", "z11", "0"],
    ["FUNCTION", "help"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w12\nredis.register_function("z12", function(k, a) x = 1 end)',
    ],
    ["fcall", "z12", "0"],
    [
      "FUNCTION",
      "load",
      '#!lua name=w13\nredis.register_function("z13", function(k, a) return KEYS end)',
    ],
    ["fcall", "z13", "0"],
  ],
};

Deno.test({
  name: "FUNCTION and FCALL replies match redis-server byte for byte",
  ignore: !hasRedis,
  ...opts,
  async fn(t) {
    await compareWithRedis(t, FCASES);
  },
});

const LIB = "#!lua name=mylib\n" +
  "redis.register_function('incrby2', function(keys, args) " +
  "return redis.call('incrby', keys[1], args[1] * 2) end)\n" +
  "redis.register_function{function_name='peek', callback=function(keys) " +
  "return redis.call('get', keys[1]) end, flags={'no-writes'}, " +
  "description='reads a key'}\n";

Deno.test({
  name: "FUNCTION DUMP payloads restore both ways between us and redis-server",
  ignore: !hasRedis,
  ...opts,
  async fn() {
    await using ours = await startServer();
    await using redis = await RedisServer.start();
    using a = await Conn.open(ours.port);
    using b = await Conn.open(redis.port);
    const other = "#!lua name=second\nredis.register_function('two', " +
      "function() return 2 end)\n" + "-- " + "padding ".repeat(40);
    for (const c of [a, b]) {
      assert.equal(await c.call("FUNCTION", "LOAD", LIB), "mylib");
      assert.equal(await c.call("FUNCTION", "LOAD", other), "second");
    }
    // Payloads are bytes: sent back as bytes, not as UTF-8 text.
    const bin = (s: string) => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
    const fromUs = bin(await a.call("FUNCTION", "DUMP") as string);
    const fromRedis = bin(await b.call("FUNCTION", "DUMP") as string);
    for (const [c, payload] of [[a, fromRedis], [b, fromUs]] as const) {
      // Which one is named first follows the payload's (hash) order.
      assert.match(
        await c.rawReplies(encodeCommand(["FUNCTION", "RESTORE", payload])),
        /^-ERR Library (mylib|second) already exists\r\n$/,
      );
      assert.equal(await c.call("FUNCTION", "RESTORE", payload, "FLUSH"), "OK");
      assert.equal(await c.call("FCALL", "incrby2", "1", "n", "5"), 10);
      assert.equal(await c.call("FCALL", "two", "0"), 2);
      assert.equal(
        await c.call("FUNCTION", "RESTORE", payload, "REPLACE"),
        "OK",
      );
    }
    // A damaged payload is refused by both alike.
    const bad = fromUs.slice();
    bad[bad.length - 1] ^= 1;
    for (const port of [ours.port, redis.port]) {
      using c = await Conn.open(port);
      assert.equal(
        await c.rawReplies(encodeCommand(["FUNCTION", "RESTORE", bad])),
        "-ERR DUMP payload version or checksum are wrong\r\n",
      );
    }
  },
});

Deno.test({
  name: "libraries survive restarts: snapshot, log replay, log rewrite",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv-fn-" });
    try {
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await c.call("FUNCTION", "LOAD", LIB);
        await c.call("SET", "k", "v");
        await c.call("SAVE");
      }
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        assert.equal(await c.call("FCALL_RO", "peek", "1", "k"), "v");
        const list = await c.call("FUNCTION", "LIST") as unknown[];
        assert.equal(list.length, 1);
      }
      // The log: FUNCTION LOAD is logged, and a rewrite keeps libraries.
      const aofDir = await Deno.makeTempDir({ prefix: "kv-fn-aof-" });
      try {
        {
          await using server = await startServer({
            dir: aofDir,
            appendonly: true,
          });
          using c = await Conn.open(server.port);
          await c.call("FUNCTION", "LOAD", LIB);
          await c.call("FCALL", "incrby2", "1", "n", "3");
        }
        {
          await using server = await startServer({
            dir: aofDir,
            appendonly: true,
          });
          using c = await Conn.open(server.port);
          assert.equal(await c.call("GET", "n"), "6");
          assert.equal(await c.call("FCALL", "incrby2", "1", "n", "1"), 8);
          await c.call("BGREWRITEAOF");
          for (let i = 0; i < 100; i++) {
            const info = await c.call("INFO", "persistence") as string;
            if (info.includes("aof_rewrite_in_progress:0")) break;
            await new Promise((r) => setTimeout(r, 20));
          }
        }
        const log = await Deno.readTextFile(`${aofDir}/appendonly.aof`);
        assert.ok(!log.includes("FCALL"), "the call is logged as its effect");
        await using server = await startServer({
          dir: aofDir,
          appendonly: true,
        });
        using c = await Conn.open(server.port);
        assert.equal(await c.call("FCALL", "incrby2", "1", "n", "1"), 10);
      } finally {
        await Deno.remove(aofDir, { recursive: true });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

/** The busy-function scenario on one server: raw replies. */
async function busyFunction(port: number): Promise<string[]> {
  using admin = await Conn.open(port);
  await admin.call("CONFIG", "SET", "busy-reply-threshold", "100");
  await admin.call("FUNCTION", "FLUSH");
  await admin.call(
    "FUNCTION",
    "LOAD",
    "#!lua name=spin\nredis.register_function{function_name='spin', " +
      "callback=function() local i = 0 while true do i = i + 1 end end, " +
      "flags={'no-writes'}}",
  );
  using a = await Conn.open(port);
  using b = await Conn.open(port);
  const out: string[] = [];
  await a.send(encodeCommand(["FCALL", "spin", "0"]));
  for (let i = 0; i < 200; i++) {
    const raw = await b.rawReplies(encodeCommand(["PING"]));
    if (raw.startsWith("-BUSY")) {
      out.push(raw);
      break;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const stats = await b.call("FUNCTION", "STATS") as unknown[];
  const running = stats[1] as unknown[];
  out.push(JSON.stringify([running[0], running[1], running[2], running[3]]));
  out.push(await b.rawReplies(encodeCommand(["SCRIPT", "KILL"])));
  out.push(await b.rawReplies(encodeCommand(["FUNCTION", "KILL"])));
  out.push(await a.rawReplies(new Uint8Array(0)));
  out.push(await b.rawReplies(encodeCommand(["PING"])));
  return out;
}

Deno.test({
  name: "a busy function: BUSY, FUNCTION STATS, FUNCTION KILL",
  ...opts,
  async fn() {
    await using server = await startServer();
    const ours = await busyFunction(server.port);
    assert.deepEqual(ours, [
      "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n",
      JSON.stringify(["name", "spin", "command", ["FCALL", "spin", "0"]]),
      "-BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.\r\n",
      "+OK\r\n",
      "-ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.\r\n",
      "+PONG\r\n",
    ]);
    if (hasRedis) {
      await using redis = await RedisServer.start();
      assert.deepEqual(await busyFunction(redis.port), ours);
    }
  },
});
