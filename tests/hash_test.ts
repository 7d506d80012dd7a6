// Hashes: byte-for-byte comparison with redis-server, a seeded random
// comparison, store-level unit tests and a large test.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { ReplyError, type RespValue } from "../protocol.ts";
import { defaultEncodingLimits, Store, StoreError } from "../store.ts";
import { Hash } from "../data/hash.ts";

const WRONG: Cmd[] = [
  ["SET", "str", "x"],
  ["SADD", "set", "a"],
];

/** Each case starts from an empty keyspace. */
const CASES: Record<string, Cmd[]> = {
  "hset hget hmset": [
    ["HSET", "h", "a", "1"],
    ["HSET", "h", "a", "2", "b", "3"],
    ["HSET", "h", "c", "4", "c", "5"],
    ["HGET", "h", "a"],
    ["HGET", "h", "c"],
    ["HGET", "h", "nope"],
    ["HGET", "nokey", "a"],
    ["HSET", "h", "a"],
    ["HSET", "h", "a", "1", "b"],
    ["HSET", "h"],
    ["HMSET", "h", "x", "1", "y", "2"],
    ["HMSET", "h", "x"],
    ["HMSET", "h"],
    ["HGETALL", "h"],
    ["HSET", "h", "", ""],
    ["HGET", "h", ""],
    ["HSET", "h", "bin\x00\xff", "v\r\nw"],
    ["HGET", "h", "bin\x00\xff"],
    ["HGET", "h"],
    ...WRONG,
    ["HSET", "str", "a", "1"],
    ["HSET", "set", "a", "1"],
    ["HMSET", "str", "a", "1"],
    ["HGET", "str", "a"],
    ["HGET", "set", "a"],
  ],
  "hsetnx hmget hexists hlen hstrlen": [
    ["HSETNX", "h", "a", "1"],
    ["HSETNX", "h", "a", "2"],
    ["HGET", "h", "a"],
    ["HSETNX", "h", "b", ""],
    ["HMGET", "h", "a", "b", "c"],
    ["HMGET", "nokey", "a", "b"],
    ["HMGET", "h"],
    ["HEXISTS", "h", "a"],
    ["HEXISTS", "h", "z"],
    ["HEXISTS", "nokey", "a"],
    ["HLEN", "h"],
    ["HLEN", "nokey"],
    ["HSTRLEN", "h", "a"],
    ["HSTRLEN", "h", "b"],
    ["HSTRLEN", "h", "z"],
    ["HSTRLEN", "nokey", "z"],
    ["HSET", "h", "long", "x".repeat(1000)],
    ["HSTRLEN", "h", "long"],
    ["HSETNX", "h", "a"],
    ...WRONG,
    ["HSETNX", "str", "a", "1"],
    ["HMGET", "str", "a"],
    ["HMGET", "set", "a"],
    ["HEXISTS", "str", "a"],
    ["HLEN", "set"],
    ["HSTRLEN", "str", "a"],
    ["EXISTS", "nokey"],
  ],
  "hgetall hkeys hvals keep insertion order": [
    ["HGETALL", "nokey"],
    ["HKEYS", "nokey"],
    ["HVALS", "nokey"],
    ["HSET", "h", "z", "1", "a", "2", "m", "3", "b", "4"],
    ["HGETALL", "h"],
    ["HKEYS", "h"],
    ["HVALS", "h"],
    ["HDEL", "h", "a"],
    ["HSET", "h", "a", "5", "q", "6"],
    ["HGETALL", "h"],
    ["HSET", "h", "z", "7"],
    ["HKEYS", "h"],
    ["HVALS", "h"],
    ["HDEL", "h", "m", "z"],
    ["HGETALL", "h"],
    ...WRONG,
    ["HGETALL", "str"],
    ["HKEYS", "set"],
    ["HVALS", "str"],
  ],
  "hdel removes the key with its last field": [
    ["HSET", "h", "a", "1", "b", "2", "c", "3"],
    ["HDEL", "h", "a", "a", "nope"],
    ["HDEL", "h", "b", "c", "d"],
    ["EXISTS", "h"],
    ["HDEL", "h", "a"],
    ["HDEL", "nokey", "a"],
    ["HDEL", "h"],
    ...WRONG,
    ["HDEL", "str", "a"],
    ["HDEL", "set", "a"],
  ],
  "hincrby": [
    ["HINCRBY", "h", "n", "5"],
    ["HINCRBY", "h", "n", "-10"],
    ["HINCRBY", "h", "n", "0"],
    ["HINCRBY", "h", "n", "abc"],
    ["HINCRBY", "h", "n", "1.5"],
    ["HINCRBY", "h", "n", " 1"],
    ["HINCRBY", "h", "n", "9223372036854775808"],
    ["HSET", "h", "big", "9223372036854775807", "s", "abc", "sp", " 1"],
    ["HINCRBY", "h", "big", "1"],
    ["HINCRBY", "h", "big", "-1"],
    ["HINCRBY", "h", "s", "1"],
    ["HINCRBY", "h", "sp", "1"],
    ["HSET", "h", "min", "-9223372036854775808"],
    ["HINCRBY", "h", "min", "-1"],
    ["HINCRBY", "h", "min", "9223372036854775807"],
    ["HINCRBY", "h", "new", "-9223372036854775808"],
    ["HINCRBY", "h", "n"],
    ["HINCRBY", "nokey", "n", "x"],
    ["EXISTS", "nokey"],
    ["HGETALL", "h"],
    ...WRONG,
    ["HINCRBY", "str", "n", "1"],
    ["HINCRBY", "set", "n", "1"],
  ],
  "hincrbyfloat": [
    ["HINCRBYFLOAT", "h", "f", "10.5"],
    ["HINCRBYFLOAT", "h", "f", "0.1"],
    ["HINCRBYFLOAT", "h", "f", "-5"],
    ["HINCRBYFLOAT", "h", "f", "5.0e3"],
    ["HINCRBYFLOAT", "h", "f", "abc"],
    ["HINCRBYFLOAT", "h", "f", "inf"],
    ["HINCRBYFLOAT", "h", "f", "-inf"],
    ["HINCRBYFLOAT", "h", "f", "nan"],
    ["HINCRBYFLOAT", "h", "f", ""],
    ["HINCRBYFLOAT", "h", "f", " 1"],
    ["HSET", "h", "i", "3", "s", "x"],
    ["HSET", "h2", "big", "1.5e308"],
    ["HINCRBYFLOAT", "h", "i", "1.5"],
    ["HINCRBYFLOAT", "h", "s", "1"],
    ["HINCRBYFLOAT", "h2", "big", "1.5e308"],
    ["HGET", "h2", "big"],
    ["HINCRBYFLOAT", "h", "new", "3.0"],
    ["HINCRBYFLOAT", "h", "e", "1e-5"],
    ["HGETALL", "h"],
    ["HINCRBYFLOAT", "nokey", "f", "x"],
    ["EXISTS", "nokey"],
    ...WRONG,
    ["HINCRBYFLOAT", "str", "f", "1"],
    ["HINCRBYFLOAT", "set", "f", "1"],
  ],
  "hrandfield": [
    ["HRANDFIELD", "nokey"],
    ["HRANDFIELD", "nokey", "5"],
    ["HRANDFIELD", "nokey", "-5", "WITHVALUES"],
    ["HSET", "h", "a", "1", "b", "2", "c", "3"],
    ["HRANDFIELD", "h", "0"],
    ["HRANDFIELD", "h", "3"],
    ["HRANDFIELD", "h", "10"],
    ["HRANDFIELD", "h", "10", "WITHVALUES"],
    ["HRANDFIELD", "h", "3", "withvalues"],
    ["HRANDFIELD", "h", "9223372036854775807"],
    ["HRANDFIELD", "h", "-9223372036854775808"],
    ["HRANDFIELD", "h", "9223372036854775807", "WITHVALUES"],
    ["HRANDFIELD", "h", "4611686018427387904", "WITHVALUES"],
    ["HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES"],
    ["HRANDFIELD", "h", "abc"],
    ["HRANDFIELD", "nokey", "abc"],
    ["HRANDFIELD", "h", "1", "WITHVALUE"],
    ["HRANDFIELD", "h", "1", "WITHVALUES", "x"],
    ["HRANDFIELD", "h", "0", "WITHVALUES"],
    ["HSET", "one", "f", "v"],
    ["HRANDFIELD", "one"],
    ["HRANDFIELD", "one", "1"],
    ["HRANDFIELD", "one", "-3"],
    ["HRANDFIELD", "one", "-3", "WITHVALUES"],
    ["HRANDFIELD", "one", "2", "WITHVALUES"],
    ...WRONG,
    ["HRANDFIELD", "str"],
    ["HRANDFIELD", "set", "1"],
  ],
  "ttls are kept by in-place changes": [
    ["HSET", "h", "a", "1"],
    ["EXPIRE", "h", "1000"],
    ["HSET", "h", "b", "2"],
    ["HINCRBY", "h", "a", "1"],
    ["HINCRBYFLOAT", "h", "a", "1.5"],
    ["HDEL", "h", "b"],
    ["HSETNX", "h", "c", "3"],
    ["TTL", "h"],
  ],
  "hscan": [
    ["HSCAN", "nokey", "0"],
    ["HSCAN", "nokey", "0", "COUNT", "0"],
    ["HSCAN", "nokey", "abc"],
    ["HSET", "h", "a", "1", "b", "2", "ab", "3"],
    ["HSCAN", "h", "0"],
    ["HSCAN", "h", "5"],
    ["HSCAN", "h", "-1"],
    ["HSCAN", "h", "18446744073709551615"],
    ["HSCAN", "h", "18446744073709551616"],
    ["HSCAN", "h", "abc"],
    ["HSCAN", "h", " 0"],
    ["HSCAN", "h", "0", "COUNT", "1"],
    ["HSCAN", "h", "0", "MATCH", "a*"],
    ["HSCAN", "h", "0", "match", "*", "count", "100"],
    ["HSCAN", "h", "0", "COUNT", "0"],
    ["HSCAN", "h", "0", "COUNT", "-1"],
    ["HSCAN", "h", "0", "COUNT", "abc"],
    ["HSCAN", "h", "0", "MATCH"],
    ["HSCAN", "h", "0", "BOGUS", "x"],
    ["HSCAN", "h", "0", "NOVALUES"],
    ["HSCAN", "h"],
    ...WRONG,
    ["HSCAN", "str", "0"],
    ["HSCAN", "set", "0"],
    ["HSCAN", "str", "abc"],
  ],
};

Deno.test({
  name: "hashes: replies match redis-server byte for byte",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, CASES);
  },
});

// --- Seeded random comparison ---------------------------------------------

/** A small seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A reply as a comparable string. */
function norm(v: RespValue): string {
  if (typeof v === "string") return "$" + v;
  if (v instanceof Uint8Array) return "$" + String.fromCharCode(...v);
  if (v instanceof ReplyError) return "-" + v.message;
  if (Array.isArray(v)) return "[" + v.map(norm).join(",") + "]";
  return String(v);
}

function items(v: RespValue): string[] {
  assert.ok(Array.isArray(v), `expected an array, got ${norm(v)}`);
  return v.map(norm);
}

/** Flat field/value array as sorted "field=value" pairs. */
function pairsOf(v: RespValue): string[] {
  const flat = items(v);
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    out.push(flat[i] + "=" + flat[i + 1]);
  }
  return out.sort();
}

function sorted(v: RespValue): string {
  return Array.isArray(v) ? "[" + items(v).sort().join(",") + "]" : norm(v);
}

Deno.test({
  name: "hashes: seeded random commands agree with redis-server",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using r = await Conn.open(redis.port);
    using o = await Conn.open(ours.port);
    for (const c of [r, o]) {
      await c.call("CONFIG", "SET", "hash-max-listpack-entries", "8");
      await c.call("CONFIG", "SET", "hash-max-listpack-value", "16");
      await c.call("SET", "str", "x");
    }
    const rand = prng(77031);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const keys = ["h0", "h1", "h2", "str"];
    const fields = [
      ..."abcdefghijkl",
      "n0",
      "n1",
      "",
      "long-field-name-over-16",
    ];
    const values = [
      "1",
      "-7",
      "x",
      "",
      "2.5",
      "9223372036854775806",
      "v".repeat(20),
    ];
    const numeric = ["n0", "n1", "a"];
    const someFields = () =>
      Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(fields));
    const both = async (
      cmd: string[],
    ) => [await r.call(...cmd), await o.call(...cmd)];
    for (let i = 0; i < 3000; i++) {
      const key = pick(keys);
      const op = Math.floor(rand() * 18);
      let cmd: string[];
      switch (op) {
        case 0:
        case 1:
        case 2: {
          cmd = [rand() < 0.8 ? "HSET" : "HMSET", key];
          for (const f of someFields()) cmd.push(f, pick(values));
          break;
        }
        case 3:
          cmd = ["HSETNX", key, pick(fields), pick(values)];
          break;
        case 4:
          cmd = ["HGET", key, pick(fields)];
          break;
        case 5:
          cmd = ["HMGET", key, ...someFields()];
          break;
        case 6:
          cmd = ["HDEL", key, ...someFields()];
          break;
        case 7:
          cmd = [pick(["HEXISTS", "HSTRLEN"]), key, pick(fields)];
          break;
        case 8:
          cmd = ["HLEN", key];
          break;
        case 9:
        case 10:
          cmd = [pick(["HGETALL", "HKEYS", "HVALS"]), key];
          break;
        case 11:
          cmd = [
            "HINCRBY",
            key,
            pick(numeric),
            pick(["1", "-3", "100", "x", "9223372036854775807"]),
          ];
          break;
        case 12:
          cmd = [
            "HINCRBYFLOAT",
            key,
            pick(numeric),
            pick(["1.5", "-0.25", "3", "x", "1e3"]),
          ];
          break;
        case 13: {
          cmd = ["HRANDFIELD", key];
          if (rand() < 0.7) cmd.push(String(Math.floor(rand() * 24) - 8));
          if (cmd.length === 3 && rand() < 0.5) cmd.push("WITHVALUES");
          break;
        }
        case 14:
          cmd = ["HSCAN", key, "0"];
          if (rand() < 0.5) cmd.push("MATCH", pick(["*", "n*", "[a-c]"]));
          break;
        default:
          cmd = ["HSET", key, pick(fields), pick(values)];
      }
      const where = `#${i} ${cmd.join(" ")}`;
      const name = cmd[0];
      const enc = norm(await r.call("OBJECT", "ENCODING", key));
      const small = enc !== "$hashtable";
      if (name === "HRANDFIELD") {
        const [want, got] = await both(cmd);
        if (!Array.isArray(want)) {
          if (want === null || want instanceof ReplyError) {
            assert.equal(norm(got), norm(want), where);
          } else {
            assert.equal(
              norm(await r.call("HEXISTS", key, norm(got).slice(1))),
              "1",
              where,
            );
          }
          continue;
        }
        const all = new Set(pairsOf(await r.call("HGETALL", key)));
        const withValues = cmd.length === 4;
        const picked = withValues ? pairsOf(got) : items(got);
        assert.equal(items(got).length, items(want).length, where);
        const fieldsNow = new Set([...all].map((p) => p.split("=")[0]));
        for (const p of picked) {
          assert.ok(withValues ? all.has(p) : fieldsNow.has(p), where);
        }
        const n = Number(cmd[2]);
        if (n > 0) assert.equal(new Set(picked).size, picked.length, where);
        if (n >= all.size && small) assert.equal(norm(got), norm(want), where);
        continue;
      }
      if (name === "HSCAN" && !small) {
        const seen = [new Set<string>(), new Set<string>()];
        for (const [side, c] of [r, o].entries()) {
          let cursor = "0";
          for (let step = 0; step < 1000; step++) {
            const reply = await c.call(
              "HSCAN",
              key,
              cursor,
              ...cmd.slice(3),
              "COUNT",
              "3",
            );
            const [next, found] = reply as [string, RespValue[]];
            for (const p of pairsOf(found)) seen[side].add(p);
            cursor = next;
            if (cursor === "0") break;
          }
        }
        assert.deepEqual([...seen[1]].sort(), [...seen[0]].sort(), where);
        continue;
      }
      const [want, got] = await both(cmd);
      if (small || !["HGETALL", "HKEYS", "HVALS"].includes(name)) {
        assert.equal(norm(got), norm(want), where);
      } else if (name === "HGETALL") {
        assert.deepEqual(pairsOf(got), pairsOf(want), where);
      } else {
        assert.equal(sorted(got), sorted(want), where);
      }
    }
    for (const key of keys) {
      const [want, got] = await both(["HGETALL", key]);
      assert.equal(sorted(got), sorted(want), key);
    }
  },
});

// --- Store level ------------------------------------------------------------

Deno.test("hashes: embedded operations", () => {
  const store = new Store();
  const h = store.hashes;
  assert.equal(h.hset("u", [["name", "Ada"], ["n", "1"], ["name", "Bob"]]), 2);
  assert.equal(h.hget("u", "name"), "Bob");
  assert.deepEqual(h.hgetall("u"), [["name", "Bob"], ["n", "1"]]);
  assert.equal(h.hsetnx("u", "n", "5"), false);
  assert.equal(h.hincrby("u", "n", 41), 42);
  assert.equal(h.hincrby("u", "big", 9007199254740993n), 9007199254740993n);
  assert.equal(h.hincrbyfloat("u", "f", "0.1"), "0.1");
  assert.equal(h.hincrbyfloat("u", "f", "0.2"), "0.3");
  assert.throws(() => h.hincrby("u", "name", 1), StoreError);
  assert.throws(() => h.hincrbyfloat("u", "name", "1"), StoreError);
  assert.throws(() => h.hincrby("u", "big", 9223372036854775807n), {
    message: "ERR increment or decrement would overflow",
  });
  assert.deepEqual(h.hkeys("u"), ["name", "n", "big", "f"]);
  assert.deepEqual(h.hmget("u", ["n", "zz"]), ["42", undefined]);
  assert.equal(h.hstrlen("u", "name"), 3);
  assert.equal(h.hrandfieldCount("u", -10).length, 10);
  assert.equal(h.hrandfieldCount("u", 10).length, 4);
  assert.equal(h.hdel("u", ["name", "n", "big", "f", "x"]), 4);
  assert.equal(store.has("u"), false);
  assert.equal(h.hlen("u"), 0);
  assert.equal(h.hrandfield("u"), undefined);
});

Deno.test({
  name: "hashes: encoding() turns as redis-server's OBJECT ENCODING does",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    using r = await Conn.open(redis.port);
    const store = new Store();
    // redis-server's built-in default is 512 (redis.conf says 128): use
    // the same explicit value on both sides.
    await r.call("CONFIG", "SET", "hash-max-listpack-entries", "128");
    store.limits.hashMaxListpackEntries = 128;
    const check = async (key: string, what: string) => {
      const want = await r.call("OBJECT", "ENCODING", key);
      const hash = store.value(key) as Hash;
      assert.equal(hash.encoding(store.limits), want, `${key}: ${what}`);
    };
    const run = async (cmd: string[]) => {
      await r.call(...cmd);
      const [name, key, ...args] = cmd;
      const h = store.hashes;
      if (name === "HSET") {
        const pairs: [string, string][] = [];
        for (let i = 0; i < args.length; i += 2) {
          pairs.push([args[i], args[i + 1]]);
        }
        h.hset(key, pairs);
      } else if (name === "HDEL") h.hdel(key, args);
      else if (name === "HSETNX") h.hsetnx(key, args[0], args[1]);
      else if (name === "HINCRBY") h.hincrby(key, args[0], Number(args[1]));
      else if (name === "HINCRBYFLOAT") {
        h.hincrbyfloat(key, args[0], args[1]);
      }
    };
    const fields = Array.from({ length: 128 }, (_, i) => [`f${i}`, "v"]).flat();
    await run(["HSET", "a", ...fields]);
    await check("a", "128 fields");
    await run(["HSET", "a", "f0", "w"]);
    await check("a", "128 fields, one updated");
    await run(["HSET", "a", "one-more", "v"]);
    await check("a", "129 fields");
    await run(["HDEL", "a", "one-more", "f1", "f2"]);
    await check("a", "back to 126");
    await run(["HSET", "b", "f", "x".repeat(64)]);
    await check("b", "64-byte value");
    await run(["HSET", "c", "f".repeat(64), "x"]);
    await check("c", "64-byte field");
    await run(["HSET", "d", "f", "x".repeat(65)]);
    await check("d", "65-byte value");
    await run(["HSET", "e", "f".repeat(65), "x"]);
    await check("e", "65-byte field");
    await run(["HSET", "g", "a", "1"]);
    await run(["HSETNX", "g", "a", "x".repeat(65)]);
    await check("g", "HSETNX of an existing field");
    await run(["HSETNX", "g", "b", "x".repeat(65)]);
    await check("g", "HSETNX of a long value");
    await run(["HSET", "i", "n", "1"]);
    await run(["HINCRBYFLOAT", "i", "n", "1e60"]);
    await check("i", "HINCRBYFLOAT to a long value");
  },
});

Deno.test("hashes: clone() is independent", () => {
  const limits = defaultEncodingLimits();
  const a = new Hash();
  for (let i = 0; i < 200; i++) a.set(`f${i}`, `v${i}`, limits);
  const b = a.clone();
  a.set("f1", "changed", limits);
  a.delete("f2");
  b.set("extra", "x", limits);
  assert.equal(b.get("f1"), "v1");
  assert.equal(b.get("f2"), "v2");
  assert.equal(a.get("extra"), undefined);
  assert.equal(a.size, 199);
  assert.equal(b.size, 201);
});

Deno.test("hashes: rewrite() commands rebuild the hash on a fresh server", async () => {
  const store = new Store();
  const pairs: [string, string][] = [];
  for (let i = 0; i < 2500; i++) pairs.push([`f${i}\x00\xff`, `v${i}\r\n`]);
  pairs.push(["", ""], ["empty", ""], ["", "empty field"]);
  store.hashes.hset("h", pairs);
  store.hashes.hdel("h", pairs.slice(0, 100).map(([f]) => f));
  await using ours = await startServer();
  using c = await Conn.open(ours.port);
  const hash = store.value("h") as Hash;
  let commands = 0;
  for (const cmd of hash.rewrite("h", 1000)) {
    // Byte strings go out as bytes (a string would be sent as UTF-8).
    await c.call(
      ...cmd.map((a) => Uint8Array.from(a, (ch) => ch.charCodeAt(0))),
    );
    commands++;
  }
  assert.equal(commands, 3);
  const back = pairsOf(await c.call("HGETALL", "h"));
  const want = store.hashes.hgetall("h").map(([f, v]) => `$${f}=$${v}`).sort();
  assert.deepEqual(back, want);
});

Deno.test("hashes: a snapshot keeps the hash as it was (copy-on-write)", () => {
  const store = new Store();
  store.hashes.hset("h", [["a", "1"], ["b", "2"]]);
  store.hashes.hset("g", [["x", "1"]]);
  using snap = store.snapshot();
  store.hashes.hset("h", [["a", "changed"], ["c", "3"]]);
  store.hashes.hincrby("h", "b", 10);
  store.hashes.hdel("g", ["x"]);
  assert.equal(store.has("g"), false);
  const seen = new Map<string, [string, string][]>();
  for (let chunk = snap.next(10); chunk.length > 0; chunk = snap.next(10)) {
    for (const [key, value] of chunk) {
      const h = value as Hash;
      seen.set(key, h.fields().map((f, i) => [f, h.values()[i]]));
    }
  }
  assert.deepEqual(seen.get("h"), [["a", "1"], ["b", "2"]]);
  assert.deepEqual(seen.get("g"), [["x", "1"]]);
  assert.deepEqual(store.hashes.hgetall("h"), [
    ["a", "changed"],
    ["b", "12"],
    ["c", "3"],
  ]);
});

Deno.test("hashes: 1M fields, O(1) random fields", () => {
  const store = new Store();
  const h = store.hashes;
  const n = 1_000_000;
  let t = performance.now();
  const batch: [string, string][] = [];
  for (let i = 0; i < n; i++) {
    batch.push([`field:${i}`, `value:${i}`]);
    if (batch.length === 10_000) {
      h.hset("big", batch);
      batch.length = 0;
    }
  }
  assert.equal(h.hlen("big"), n);
  const fill = performance.now() - t;
  assert.ok(fill < 8000, `HSET 1M took ${fill} ms`);
  t = performance.now();
  for (let i = 0; i < 100_000; i++) {
    assert.equal(h.hget("big", `field:${i * 7}`), `value:${i * 7}`);
  }
  assert.equal(h.hrandfieldCount("big", 100_000).length, 100_000);
  assert.equal(h.hrandfieldCount("big", -100_000).length, 100_000);
  for (let i = 0; i < 100_000; i++) assert.ok(h.hrandfield("big"));
  const fields: string[] = [];
  for (let i = 0; i < 100_000; i++) fields.push(`field:${i * 3}`);
  assert.equal(h.hdel("big", fields), 100_000);
  const ops = performance.now() - t;
  assert.ok(ops < 3000, `100k of each took ${ops} ms`);
  assert.equal(h.hlen("big"), n - 100_000);
  // A full HSCAN sees every field once.
  let cursor = 0;
  let seen = 0;
  do {
    const r = h.hscan("big", cursor, { count: 50_000 });
    cursor = r.cursor;
    seen += r.items.length;
  } while (cursor !== 0);
  assert.equal(seen, n - 100_000);
});

Deno.test("hashes: HINCRBYFLOAT is logged as HSET; the log and a snapshot replay to the same hashes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-hash-aof-" });
  try {
    let all: RespValue;
    {
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      await c.call("HSET", "h", "a", "1", "b", "2", "c", "3");
      await c.call("HINCRBYFLOAT", "h", "f", "0.1");
      await c.call("HINCRBYFLOAT", "h", "f", "0.2");
      await c.call("HINCRBY", "h", "a", "41");
      await c.call("HDEL", "h", "b");
      await c.call("HSETNX", "h", "c", "no effect");
      await c.call(
        "HMSET",
        "big",
        ...Array.from({ length: 400 }, (_, i) => `x${i}`),
      );
      all = await c.call("HGETALL", "h");
      assert.deepEqual(all, ["a", "42", "c", "3", "f", "0.3"]);
      assert.equal(await c.call("SAVE"), "OK");
    }
    const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
    assert.ok(!log.includes("HINCRBYFLOAT"), "logged as the value it made");
    assert.ok(!log.includes("HSETNX"), "no change, not logged");
    for (const appendonly of [true, false]) {
      await using server = await startServer({ dir, appendonly });
      using c = await Conn.open(server.port);
      assert.deepEqual(await c.call("HGETALL", "h"), all);
      assert.equal(await c.call("HLEN", "big"), 200);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- The packed form of small hashes -----------------------------------------

/** Byte strings as bytes on the wire (a string would go out as UTF-8). */
function bytes(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

Deno.test({
  name:
    "hashes: seeded random commands across the packed, indexed-listpack and hashtable forms agree with redis-server",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using r = await Conn.open(redis.port);
    using o = await Conn.open(ours.port);
    // Up to 48 fields stay a listpack (past the 32 of the packed form);
    // values up to 300 bytes too (lengths of two chars when packed).
    for (const c of [r, o]) {
      await c.call("CONFIG", "SET", "hash-max-listpack-entries", "48");
      await c.call("CONFIG", "SET", "hash-max-listpack-value", "300");
    }
    const rand = prng(90417);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const keys = ["p0", "p1", "p2"];
    const fields = [
      ...Array.from({ length: 56 }, (_, i) => `f${i}`),
      "",
      "\x00",
      "\x80\xff",
      "\x7f\x80",
      "same-prefix-1",
      "same-prefix-2",
      "x".repeat(130),
      "y".repeat(301),
    ];
    const values = [
      "1",
      "",
      "\x00\x80\xff",
      "v".repeat(127),
      "w".repeat(128),
      "z".repeat(300),
    ];
    const someFields = () =>
      Array.from({ length: 1 + Math.floor(rand() * 6) }, () => pick(fields));
    const order = ["HGETALL", "HKEYS", "HVALS"];
    const seen = new Set<string>();
    for (let i = 0; i < 2500; i++) {
      const key = pick(keys);
      const op = Math.floor(rand() * 12);
      let cmd: string[];
      if (rand() < 0.02) {
        cmd = ["DEL", key];
      } else if (rand() < 0.01) {
        cmd = ["HSET", key, "f0", "long".repeat(80)];
      } else if (op < 5) {
        cmd = ["HSET", key];
        for (const f of someFields()) cmd.push(f, pick(values));
      } else if (op < 7) {
        cmd = ["HDEL", key, ...someFields()];
      } else if (op === 7) {
        cmd = ["HGET", key, pick(fields)];
      } else if (op === 8) {
        cmd = ["HMGET", key, ...someFields()];
      } else if (op === 9) {
        cmd = [pick(["HEXISTS", "HSTRLEN", "HSETNX"]), key, pick(fields)];
        if (cmd[0] === "HSETNX") cmd.push(pick(values));
      } else if (op === 10) {
        cmd = [pick(order), key];
      } else {
        cmd = [pick(["HLEN", "HSCAN"]), key];
        if (cmd[0] === "HSCAN") cmd.push("0", "COUNT", "1000");
      }
      const where = `#${i} ${cmd.map((a) => a.slice(0, 20)).join(" ")}`;
      const enc = norm(await r.call("OBJECT", "ENCODING", key));
      const len = Number(await r.call("HLEN", key));
      seen.add(enc === "$listpack" && len > 32 ? "big listpack" : enc);
      const args = cmd.map(bytes);
      const want = await r.call(...args);
      const got = await o.call(...args);
      if (enc === "$hashtable" && order.includes(cmd[0])) {
        assert.equal(sorted(got), sorted(want), where);
      } else if (enc === "$hashtable" && cmd[0] === "HSCAN") {
        assert.deepEqual(
          pairsOf((got as RespValue[])[1]),
          pairsOf((want as RespValue[])[1]),
          where,
        );
      } else {
        assert.equal(norm(got), norm(want), where);
      }
    }
    assert.deepEqual([...seen].sort(), [
      "$hashtable",
      "$listpack",
      "big listpack",
      "null",
    ]);
  },
});

/** A listpack's order: insertion order, kept by updates and removals. */
function checkModel(h: Hash, model: Map<string, string>, what: string) {
  assert.equal(h.size, model.size, what);
  if (h.isListpack) {
    assert.deepEqual(h.fields(), [...model.keys()], what);
    assert.deepEqual(h.values(), [...model.values()], what);
    assert.deepEqual(h.flat(), [...model].flat(), what);
  } else {
    assert.deepEqual(h.flat().length, model.size * 2, what);
  }
  const pos = Math.floor(model.size / 2);
  if (model.size > 0) {
    const f = h.fieldAt(pos);
    assert.equal(h.valueAt(pos), model.get(f), what);
  }
  for (const [f, v] of model) {
    assert.equal(h.get(f), v, what);
    assert.ok(h.has(f), what);
  }
}

Deno.test("hashes: the packed form keeps a listpack's order through updates, removals and the move to the index", () => {
  for (
    const limits of [
      defaultEncodingLimits(),
      { ...defaultEncodingLimits(), hashMaxListpackValue: 100_000 },
      { ...defaultEncodingLimits(), hashMaxListpackEntries: 40 },
      { ...defaultEncodingLimits(), hashMaxListpackEntries: 0 },
    ]
  ) {
    const rand = prng(limits.hashMaxListpackEntries + 3);
    const fields = [
      ...Array.from({ length: 45 }, (_, i) => `f${i}`),
      "",
      "\x00",
      "\xff\x80",
      "ab",
      "ba",
      "x".repeat(200),
    ];
    const values = [
      "",
      "1",
      "\x80",
      "v".repeat(127),
      "w".repeat(128),
      "u".repeat(20_000),
    ];
    const h = new Hash();
    const model = new Map<string, string>();
    let wasHashtable = false;
    for (let i = 0; i < 3000; i++) {
      const f = fields[Math.floor(rand() * fields.length)];
      const what =
        `${limits.hashMaxListpackEntries}/${limits.hashMaxListpackValue} #${i}`;
      if (rand() < 0.6) {
        const v = values[Math.floor(rand() * values.length)];
        assert.equal(h.set(f, v, limits), !model.has(f), what);
        model.set(f, v);
      } else {
        assert.equal(h.delete(f), model.delete(f), what);
      }
      assert.equal(h.get("missing"), undefined, what);
      if (wasHashtable) assert.equal(h.isListpack, false, what);
      wasHashtable = !h.isListpack;
      if (i % 10 === 0) checkModel(h, model, what);
      if (i % 100 === 0) checkModel(h.clone(), model, what);
      if (model.size === 0 && h.isListpack) {
        assert.equal(h.encoding(limits), "listpack", what);
      }
    }
    checkModel(h, model, "end");
  }
});

Deno.test("hashes: packed hashes rebuild with rewrite(), clone independently and keep old content in a snapshot", () => {
  const limits = defaultEncodingLimits();
  const a = new Hash();
  for (let i = 0; i < 5; i++) a.set(`f${i}`, `v${i}`, limits);
  assert.deepEqual([...a.rewrite("k", 2)], [
    ["HSET", "k", "f0", "v0", "f1", "v1"],
    ["HSET", "k", "f2", "v2", "f3", "v3"],
    ["HSET", "k", "f4", "v4"],
  ]);
  const b = a.clone();
  a.set("f1", "changed", limits);
  a.delete("f0");
  b.set("f9", "new", limits);
  assert.deepEqual(a.flat(), [
    "f1",
    "changed",
    "f2",
    "v2",
    "f3",
    "v3",
    "f4",
    "v4",
  ]);
  assert.deepEqual(b.fields(), ["f0", "f1", "f2", "f3", "f4", "f9"]);
  assert.equal(b.get("f1"), "v1");

  const store = new Store();
  store.hashes.hset("s", [["a", "1"], ["b", "2"]]);
  using snap = store.snapshot();
  store.hashes.hset("s", [["b", "3"], ["c", "4"]]);
  store.hashes.hdel("s", ["a"]);
  const [[key, value]] = snap.next(10);
  assert.equal(key, "s");
  assert.deepEqual((value as Hash).flat(), ["a", "1", "b", "2"]);
  assert.deepEqual(store.hashes.hgetall("s"), [["b", "3"], ["c", "4"]]);
});

Deno.test("hashes: 300k small hashes: HSET and HGET stay O(fields) and fast", () => {
  const store = new Store();
  const h = store.hashes;
  const n = 300_000;
  const names = ["name", "age", "email", "visits", "last"];
  let t = performance.now();
  for (let i = 0; i < n; i++) {
    h.hsetFlat(`user:${i}`, [
      names[0],
      `n${i}`,
      names[1],
      "42",
      names[2 + (i % 3)],
      "x",
    ]);
  }
  const fill = performance.now() - t;
  assert.ok(fill < 4000, `HSET of 300k small hashes took ${fill} ms`);
  // 32 fields: the largest packed hash.
  const big: string[] = [];
  for (let f = 0; f < 32; f++) {
    big.push(`element:${String(f).padStart(12, "0")}`, "v");
  }
  h.hsetFlat("wide", big);
  t = performance.now();
  for (let i = 0; i < n; i++) {
    assert.equal(h.hget(`user:${i}`, "age"), "42");
    assert.equal(h.hget("wide", big[(i % 32) * 2]), "v");
  }
  for (let i = 0; i < n; i++) h.hincrby(`user:${i % 1000}`, "hits", 1);
  const ops = performance.now() - t;
  assert.ok(ops < 4000, `900k operations took ${ops} ms`);
  assert.equal(h.hget("user:7", "hits"), "300");
  assert.equal(store.size, n + 1);
});
