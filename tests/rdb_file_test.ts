// RDB files beside redis-server 7.0: a dump.rdb redis-server saved (every
// type and encoding, small and large, expiries, several databases, a
// FUNCTION library) loads into ours with the same read-back (values,
// expiry times, OBJECT ENCODING); ours SAVEs an .rdb that a fresh
// redis-server loads with the same read-back again; BGSAVE in RDB format
// keeps the point in time while writes go on; truncated and corrupted
// files fail with a clear error and stay untouched; the reader gives the
// same keys whatever the chunks it is fed; JSON snapshots still load and
// save, and the format is told by the content, not the name.

import assert from "node:assert/strict";
import { encodeCommand, type RespValue } from "../protocol.ts";
import { PersistenceError } from "../persistence.ts";
import { rdbFileBytes, RdbFileOut, RdbFileReader } from "../_rdb_file.ts";
import { List } from "../data/list.ts";
import { defaultEncodingLimits, Store, type StoredValue } from "../store.ts";
import { hasRedis } from "./_compat.ts";
import {
  bgsave,
  concat,
  Conn,
  RedisServer,
  startServer,
  withDir,
} from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

type Cmd = (string | number)[];

const range = (n: number, f: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => f(i));

/** Runs commands pipelined, 1000 at a time; asserts none failed. */
async function pipeline(c: Conn, cmds: Cmd[]): Promise<RespValue[]> {
  const out: RespValue[] = [];
  for (let i = 0; i < cmds.length; i += 1000) {
    const batch = cmds.slice(i, i + 1000);
    await c.send(concat(batch.map((cmd) => encodeCommand(cmd))));
    for (let j = 0; j < batch.length; j++) {
      const r = await c.reply(30_000);
      assert.ok(!(r instanceof Error), `${batch[j].join(" ")}: ${r}`);
      out.push(r);
    }
  }
  return out;
}

/** An expiry far ahead, fixed (so both servers report the same time). */
const LATER = Date.now() + 3600_000 * 24 * 30;

const LIB = "#!lua name=rdblib\n" +
  "redis.register_function('echo1', function(keys, args) return args[1] end)\n" +
  "redis.register_function{function_name='ro', callback=function() return 7 end, flags={'no-writes'}}";

/** The data set: every type and encoding, small and large, expiries,
 * three databases and a function library. */
function dataSet(): Cmd[] {
  const cmds: Cmd[] = [
    ["FUNCTION", "LOAD", LIB],
    ["SET", "s:short", "hello"],
    ["SET", "s:empty", ""],
    ["SET", "s:int8", "-12"],
    ["SET", "s:int32", "-2147483648"],
    ["SET", "s:int64", "9223372036854775807"],
    ["SET", "s:binary", "\x00\x01\xff\r\n"],
    ["SET", "s:raw", "r".repeat(60)],
    ["SET", "s:lzf", "abcdefgh".repeat(5000)],
    [
      "SET",
      "s:big",
      range(20000, (i) => String.fromCharCode(i % 251)).join(""),
    ],
    ["SETBIT", "s:bitmap", 1000, 1],
    ["PFADD", "s:hll", ...range(50, (i) => `e${i}`)],
    ["SET", "s:ttl", "v", "PXAT", LATER],
    ["RPUSH", "l:small", "a", "bb", "1", "-3", "300", "-9223372036854775808"],
    ["RPUSH", "l:big", ...range(5000, (i) => `element:${i}`)],
    ["RPUSH", "l:plain", "x".repeat(10000), "y".repeat(9000), "small"],
    ["HSET", "h:small", "f", "v", "n", "12"],
    ["HSET", "h:table", ...range(1200, (i) => `${i}:${i & 3}`)],
    ["HSET", "h:long", "a", "1", "long", "v".repeat(100)],
    ["SADD", "set:int", "3", "-2", "1000", "70000"],
    ["SADD", "set:int64", "-9223372036854775808", "5"],
    ["SADD", "set:table", "a", "b", "1"],
    ["SADD", "set:bigint", ...range(600, (i) => String(i * 3))],
    ["ZADD", "z:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d"],
    ["ZADD", "z:skip", ...range(400, (i) => i & 1 ? `m${i}` : `${i / 7}`)],
    ["ZADD", "z:long", "1", "a", "2", "m".repeat(100)],
    ["GEOADD", "geo", "13.361389", "38.115556", "Palermo"],
    ["PEXPIREAT", "l:small", LATER + 1],
    ["PEXPIREAT", "h:table", LATER + 2],
    ["PEXPIREAT", "z:skip", LATER + 3],
  ];
  for (let i = 1; i <= 250; i++) {
    cmds.push(["XADD", "x:big", `${i}-1`, "field", `v${i}`, "n", String(i)]);
  }
  cmds.push(
    ["XTRIM", "x:big", "MAXLEN", "180"],
    ["XDEL", "x:big", "120-1"],
    ["XADD", "x:g", "1-1", "a", "1", "b", "2"],
    ["XADD", "x:g", "1-2", "a", "3", "b", "4"],
    ["XADD", "x:g", "2-0", "other", "x"],
    ["XADD", "x:g", "3-0", "a", "5", "b", "6"],
    ["XGROUP", "CREATE", "x:g", "g1", "0"],
    ["XGROUP", "CREATE", "x:g", "g2", "$", "ENTRIESREAD", "2"],
    ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "2", "STREAMS", "x:g", ">"],
    ["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "1", "STREAMS", "x:g", ">"],
    ["XGROUP", "CREATECONSUMER", "x:g", "g2", "carol"],
    ["XACK", "x:g", "g1", "1-1"],
    ["XDEL", "x:g", "3-0"],
    ["XADD", "x:empty", "5-5", "a", "b"],
    ["XDEL", "x:empty", "5-5"],
    ["SELECT", "3"],
    ["SET", "s:db3", "three"],
    ["RPUSH", "l:db3", "1", "2", "3"],
    ["SET", "s:db3ttl", "t", "PXAT", LATER + 4],
    ["SELECT", "15"],
    ["HSET", "h:db15", "k", "v"],
    ["SET", "s:short", "same name as in database 0"],
    ["SELECT", "0"],
  );
  return cmds;
}

/** The commands that read back a key of each type, in full. */
const READ: Record<string, (k: string) => Cmd[]> = {
  string: (k) => [["GET", k]],
  hash: (k) => [["HGETALL", k]],
  list: (k) => [["LRANGE", k, 0, -1]],
  set: (k) => [["SMEMBERS", k]],
  zset: (k) => [["ZRANGE", k, 0, -1, "WITHSCORES"]],
  stream: (k) => [
    ["XRANGE", k, "-", "+"],
    ["XINFO", "STREAM", k, "FULL"],
    ["XINFO", "GROUPS", k],
  ],
};

/** A reply made comparable: hash pairs and set members sorted (hash
 * tables have no order of their own), XINFO's radix-tree-nodes masked
 * (ours is an estimate). */
function normal(type: string, cmd: Cmd, r: RespValue): RespValue {
  if (!Array.isArray(r)) return r;
  if (cmd[0] === "SMEMBERS") return r.map(String).sort();
  if (cmd[0] === "HGETALL") {
    const pairs: string[] = [];
    for (let i = 0; i < r.length; i += 2) {
      pairs.push(`${r[i]}\u0000${r[i + 1]}`);
    }
    return pairs.sort();
  }
  if (type === "stream" && cmd[1] === "STREAM") {
    const out = [...r];
    const i = out.indexOf("radix-tree-nodes");
    if (i >= 0) out[i + 1] = "(masked)";
    return out;
  }
  return r;
}

/** FUNCTION LIST with each library's functions sorted by name (Redis
 * lists them in its hash table's order). */
function sortFunctions(r: RespValue): RespValue {
  if (!Array.isArray(r)) return r;
  return r.map((lib) => {
    if (!Array.isArray(lib)) return lib;
    const out = [...lib];
    const i = out.indexOf("functions");
    const fns = out[i + 1];
    if (i >= 0 && Array.isArray(fns)) {
      out[i + 1] = [...fns].sort((a, b) =>
        String((a as RespValue[])[1]) < String((b as RespValue[])[1]) ? -1 : 1
      );
    }
    return out;
  });
}

/** Every database's keys: type, OBJECT ENCODING, expiry time (ms) and
 * full value; and the function libraries. `c` is left in database 0. */
async function readAll(c: Conn): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {
    functions: sortFunctions(await c.call("FUNCTION", "LIST", "WITHCODE")),
  };
  for (let db = 0; db < 16; db++) {
    await c.call("SELECT", String(db));
    const keys = (await c.call("KEYS", "*") as string[]).sort();
    if (keys.length === 0) continue;
    const entries: Record<string, unknown> = {};
    for (const k of keys) {
      const type = await c.call("TYPE", k) as string;
      // The encoding first: some reads change it.
      const entry: unknown[] = [
        type,
        await c.call("OBJECT", "ENCODING", k),
        await c.call("PEXPIRETIME", k),
      ];
      for (const cmd of READ[type](k)) {
        entry.push(normal(type, cmd, await c.call(...cmd)));
      }
      entries[k] = entry;
    }
    out[`db${db}`] = entries;
  }
  await c.call("SELECT", "0");
  return out;
}

/** Starts redis-server on the dump.rdb in `dir` and waits until it has
 * loaded it. */
async function redisOn(dir: string): Promise<RedisServer> {
  const redis = await RedisServer.start([
    "--dir",
    dir,
    "--dbfilename",
    "dump.rdb",
  ]);
  try {
    using c = await Conn.open(redis.port);
    for (let i = 0; i < 500; i++) {
      const r = await c.call("PING");
      if (r === "PONG") return redis;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error("redis-server did not finish loading");
  } catch (e) {
    await redis.stop();
    throw e;
  }
}

/** Every key an RDB file holds, read by our reader fed `chunk` bytes at a
 * time: [db, key, value as text, expiry]. */
async function keysOf(
  path: string,
  chunk: number,
): Promise<[number, string, string, number | undefined][]> {
  const bytes = await Deno.readFile(path);
  const out: [number, string, string, number | undefined][] = [];
  let db = 0;
  const libraries: string[] = [];
  const reader = new RdbFileReader({
    db: (i) => db = i,
    library: (code) => libraries.push(code),
    entry: (key, value, at) => out.push([db, key, show(value), at]),
  }, () => defaultEncodingLimits());
  for (let i = 0; i < bytes.length; i += chunk) {
    for (const _ of reader.feed(bytes.subarray(i, i + chunk))) { /* on */ }
  }
  for (const _ of reader.feed(null)) { /* on */ }
  assert.ok(reader.done);
  out.push([-1, "libraries", libraries.join("\n"), undefined]);
  return out;
}

function show(v: StoredValue): string {
  if (typeof v === "string") return `string:${v}`;
  return `${v.type}:${JSON.stringify(Array.from(v.rewrite("k", 1000)))}`;
}

Deno.test({
  name:
    "rdb file: redis-server's dump.rdb loads into ours, ours loads into redis-server",
  ignore: !hasRedis,
  ...opts,
  async fn() {
    await withDir(async (dir) => {
      let expected: Record<string, unknown>;
      {
        await using redis = await RedisServer.start();
        using c = await Conn.open(redis.port);
        await pipeline(c, dataSet());
        // A key that expires before it is loaded: in the file, left out at
        // load (as a primary does).
        await pipeline(c, [["SET", "s:gone", "x", "PX", 200], ["SAVE"]]);
        expected = await readAll(c);
        await Deno.copyFile(`${redis.dir}/dump.rdb`, `${dir}/dump.rdb`);
      }
      const theirs = (await Deno.stat(`${dir}/dump.rdb`)).size;
      const inFile = await keysOf(`${dir}/dump.rdb`, 1 << 20);
      const gone = inFile.find(([, k]) => k === "s:gone");
      if (gone !== undefined) {
        // Saved before it expired: wait until it has.
        const wait = gone[3]! - Date.now() + 50;
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        delete (expected.db0 as Record<string, unknown>)["s:gone"];
      }
      // The same keys whatever the chunks the reader is fed.
      for (const size of [1, 7, 4096]) {
        assert.deepEqual(await keysOf(`${dir}/dump.rdb`, size), inFile);
      }
      // redis-server's file into ours.
      {
        await using server = await startServer({ dir, dbfilename: "dump.rdb" });
        using c = await Conn.open(server.port);
        assert.deepEqual(await readAll(c), expected);
        assert.equal(await c.call("FCALL", "echo1", 0, "hi"), "hi");
        assert.equal(await c.call("SAVE"), "OK");
      }
      const ours = await Deno.readFile(`${dir}/dump.rdb`);
      assert.equal(new TextDecoder().decode(ours.subarray(0, 9)), "REDIS0010");
      // LZF-compressed, as rdbcompression asks: about redis-server's size
      // (uncompressed, s:lzf alone would add 40 KB).
      assert.ok(
        ours.length < theirs + 4096,
        `${ours.length} bytes, redis-server's ${theirs}`,
      );
      // Ours into a fresh redis-server.
      {
        await using redis = await redisOn(dir);
        using c = await Conn.open(redis.port);
        assert.deepEqual(await readAll(c), expected);
        assert.equal(await c.call("FCALL_RO", "ro", 0), 7);
      }
      // And ours reads its own file back the same.
      {
        await using server = await startServer({ dir, dbfilename: "dump.rdb" });
        using c = await Conn.open(server.port);
        assert.deepEqual(await readAll(c), expected);
      }
    });
  },
});

Deno.test({
  name: "rdb file: BGSAVE keeps the point in time while writes go on",
  ignore: !hasRedis,
  ...opts,
  async fn() {
    await withDir(async (dir) => {
      await using server = await startServer({ dir, dbfilename: "dump.rdb" });
      using c = await Conn.open(server.port);
      const cmds: Cmd[] = [];
      for (let i = 0; i < 20000; i++) cmds.push(["SET", `k:${i}`, `v${i}`]);
      for (let i = 0; i < 200; i++) {
        cmds.push(["RPUSH", `list:${i}`, ...range(50, (j) => `e${j}`)]);
        cmds.push(["HSET", `hash:${i}`, ...range(300, (j) => `f${j}`)]);
      }
      cmds.push(["SELECT", "2"], ["SADD", "set", "a", "b"], ["SELECT", "0"]);
      await pipeline(c, cmds);
      const expected = await readAll(c);
      // Writes in the same batch as BGSAVE: after the snapshot is taken,
      // while the file is written.
      const writes: Cmd[] = [
        ["BGSAVE"],
        ["SET", "k:0", "changed"],
        ["DEL", "k:1"],
        ["SET", "new", "1"],
        ["RPUSH", "list:199", "more"],
        ["HSET", "hash:0", "f0", "changed"],
        ["DEL", "list:0"],
        ["SELECT", "2"],
        ["FLUSHDB"],
        ["SELECT", "0"],
      ];
      await c.send(concat(writes.map((cmd) => encodeCommand(cmd))));
      for (const _ of writes) await c.reply(30_000);
      await server.persistence.waitForBgsave();
      assert.match(
        await c.call("INFO", "persistence") as string,
        /\r\nrdb_last_bgsave_status:ok\r\n/,
      );
      assert.equal(await c.call("GET", "k:0"), "changed");
      await using redis = await redisOn(dir);
      using r = await Conn.open(redis.port);
      assert.deepEqual(await readAll(r), expected);
    });
  },
});

Deno.test({
  name:
    "rdb file: truncated or corrupted files fail with a clear error and stay untouched",
  ...opts,
  async fn() {
    await withDir(async (dir) => {
      {
        await using server = await startServer({ dir, dbfilename: "dump.rdb" });
        using c = await Conn.open(server.port);
        await pipeline(c, [
          ["SET", "a", "1"],
          ["RPUSH", "l", ...range(100, String)],
          ["HSET", "h", "f", "v"],
          ["SET", "long", "z".repeat(5000)],
        ]);
        await bgsave(c, server);
      }
      const good = await Deno.readFile(`${dir}/dump.rdb`);
      const cases: [string, Uint8Array, RegExp][] = [
        [
          "truncated",
          good.slice(0, good.length >> 1),
          /ends (inside a key|before its end marker) \(a truncated file\?\)/,
        ],
        ["no checksum", good.slice(0, good.length - 8), /truncated file/],
        [
          "a flipped byte in an AUX field",
          flip(good, indexOf(good, "redis-ver") + 2),
          /wrong checksum \(the file says [0-9a-f]+, its bytes give/,
        ],
        [
          "a flipped byte in a value",
          flip(good, good.length - 20),
          /malformed value|wrong checksum/,
        ],
        ["bad version", patch(good, 5, "0099"), /version 0099/],
        [
          "neither format",
          new TextEncoder().encode("hello"),
          /neither an RDB file .* nor a JSON snapshot/,
        ],
      ];
      for (const [what, bytes, why] of cases) {
        await Deno.writeFile(`${dir}/dump.rdb`, bytes);
        await assert.rejects(
          startServer({ dir, dbfilename: "dump.rdb", save: [[1, 1]] }),
          (e: Error) => {
            assert.ok(e instanceof PersistenceError, `${what}: ${e}`);
            assert.ok(e.message.includes(`${dir}/dump.rdb`), e.message);
            assert.match(e.message, why, what);
            return true;
          },
        );
        assert.deepEqual(await Deno.readFile(`${dir}/dump.rdb`), bytes, what);
      }
      // The good file still loads.
      await Deno.writeFile(`${dir}/dump.rdb`, good);
      await using server = await startServer({ dir, dbfilename: "dump.rdb" });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("LLEN", "l"), 100);
      assert.equal(await c.call("STRLEN", "long"), 5000);
    });
  },
});

function indexOf(b: Uint8Array, text: string): number {
  const t = new TextEncoder().encode(text);
  for (let i = 0; i + t.length <= b.length; i++) {
    if (t.every((c, j) => b[i + j] === c)) return i;
  }
  throw new Error(`${text} is not in the file`);
}

function flip(b: Uint8Array, at: number): Uint8Array {
  const out = b.slice();
  out[at] ^= 0x20;
  return out;
}

function patch(b: Uint8Array, at: number, text: string): Uint8Array {
  const out = b.slice();
  out.set(new TextEncoder().encode(text), at);
  return out;
}

Deno.test({
  name:
    "rdb file: JSON snapshots still load and save; the content, not the name, tells the format",
  ...opts,
  async fn() {
    await withDir(async (dir) => {
      let expected: Record<string, unknown>;
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await pipeline(c, [
          ["SET", "a", "1", "PXAT", LATER],
          ["RPUSH", "l", "x", "y"],
          ["ZADD", "z", "1", "m"],
          ["SELECT", "4"],
          ["SADD", "s", "1", "2"],
          ["SELECT", "0"],
          ["FUNCTION", "LOAD", LIB],
        ]);
        expected = await readAll(c);
        assert.equal(await c.call("SAVE"), "OK");
      }
      const json = await Deno.readTextFile(`${dir}/dump.json`);
      assert.ok(json.startsWith("{"), "dump.json is JSON");
      // A JSON file named .rdb loads; SAVE then writes RDB.
      await Deno.rename(`${dir}/dump.json`, `${dir}/dump.rdb`);
      {
        await using server = await startServer({ dir, dbfilename: "dump.rdb" });
        using c = await Conn.open(server.port);
        assert.deepEqual(await readAll(c), expected);
        assert.equal(await c.call("SAVE"), "OK");
      }
      const rdb = await Deno.readFile(`${dir}/dump.rdb`);
      assert.equal(new TextDecoder().decode(rdb.subarray(0, 5)), "REDIS");
      // An RDB file named .json loads; SAVE then writes JSON.
      await Deno.rename(`${dir}/dump.rdb`, `${dir}/dump.json`);
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        assert.deepEqual(await readAll(c), expected);
        assert.equal(await c.call("SAVE"), "OK");
      }
      assert.ok((await Deno.readTextFile(`${dir}/dump.json`)).startsWith("{"));
    });
  },
});

Deno.test({
  name:
    "rdb file: the writer hands out bounded pieces, even of one large value, and they read back",
  ...opts,
  fn() {
    const store = new Store();
    const limits = defaultEncodingLimits();
    const list = new List(range(200_000, (i) => `element number ${i}`));
    store.set("big", list);
    store.set("s", "x".repeat(300_000));
    for (let i = 0; i < 3000; i++) store.set(`k${i}`, `v${i}`);
    const pieces: number[] = [];
    const all: Uint8Array[] = [];
    const keep = (b: Uint8Array) => {
      pieces.push(b.length);
      all.push(b.slice());
    };
    const out = new RdbFileOut(keep, { compress: true, spillAt: 64 * 1024 });
    using snap = store.snapshot();
    const steps = rdbFileBytes([[0, snap]], {
      time: snap.time,
      usedMemory: 0,
      functions: [],
      limits,
    }, out);
    let pauses = 0;
    let r;
    while (!(r = steps.next()).done) {
      keep(out.take());
      pauses++;
    }
    keep(out.take());
    assert.equal(r.value, 3002);
    assert.ok(pauses >= 4, `${pauses} pauses`); // 1000 keys a chunk, EOF
    // The list's encoding alone is megabytes; no piece is much more than
    // the spill size (plus one element or quicklist node).
    const total = pieces.reduce((a, b) => a + b, 0);
    assert.ok(total > 1 << 20, `${total} bytes`);
    assert.ok(Math.max(...pieces) < 64 * 1024 + 16 * 1024, `${pieces}`);
    const read = new Map<string, StoredValue>();
    const reader = new RdbFileReader({
      entry: (key, value) => read.set(key, value),
    }, () => limits);
    for (const b of all) for (const _ of reader.feed(b)) { /* on */ }
    for (const _ of reader.feed(null)) { /* on */ }
    assert.ok(reader.done);
    assert.equal(read.size, 3002);
    assert.deepEqual(
      Array.from((read.get("big") as List).values()),
      Array.from(list.values()),
    );
    assert.equal(read.get("s"), "x".repeat(300_000));
  },
});

Deno.test({
  name: "rdb file: LFU counters in redis-server's file are kept (FREQ opcodes)",
  ignore: !hasRedis,
  ...opts,
  async fn() {
    await withDir(async (dir) => {
      const policy = [
        "--maxmemory-policy",
        "allkeys-lfu",
        "--lfu-decay-time",
        "0",
      ];
      let freq: RespValue;
      let coldFreq: RespValue;
      {
        await using redis = await RedisServer.start(policy);
        using c = await Conn.open(redis.port);
        await pipeline(c, [
          ["SET", "hot", "1"],
          ...Array.from({ length: 2000 }, (): Cmd => ["GET", "hot"]),
          ["SET", "cold", "1"],
          ["SAVE"],
        ]);
        freq = await c.call("OBJECT", "FREQ", "hot");
        assert.ok((freq as number) > 5, `${freq}`);
        coldFreq = await c.call("OBJECT", "FREQ", "cold");
        await Deno.copyFile(`${redis.dir}/dump.rdb`, `${dir}/dump.rdb`);
      }
      await using server = await startServer({
        dir,
        dbfilename: "dump.rdb",
        maxmemoryPolicy: "allkeys-lfu",
        lfuDecayTime: 0,
      });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("OBJECT", "FREQ", "hot"), freq);
      assert.equal(await c.call("OBJECT", "FREQ", "cold"), coldFreq);
    });
  },
});
