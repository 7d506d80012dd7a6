// Sets: byte-for-byte comparison with redis-server, a seeded random
// comparison, store-level unit tests and a large test.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { ReplyError, type RespValue } from "../protocol.ts";
import { Store, StoreError } from "../store.ts";
import { RedisSet, StringTable } from "../data/set.ts";

const WRONG: Cmd[] = [
  ["SET", "str", "x"],
  ["HSET", "hash", "a", "1"],
];

const INTS: Cmd = [
  "SADD",
  "i",
  "5",
  "-3",
  "100",
  "0",
  "-9223372036854775808",
  "9223372036854775807",
  "42",
];
const STRS: Cmd = ["SADD", "s", "a", "b", "c", "5", "0"];

/** Each case starts from an empty keyspace; hashtable-ordered replies are
 * compared as sets (see `unordered` below), intset replies exactly. */
const CASES: Record<string, Cmd[]> = {
  "sadd srem scard sismember smismember": [
    ["SADD", "s", "a", "b", "a"],
    ["SADD", "s", "b"],
    ["SCARD", "s"],
    ["SCARD", "nokey"],
    ["SISMEMBER", "s", "a"],
    ["SISMEMBER", "s", "z"],
    ["SISMEMBER", "nokey", "a"],
    ["SMISMEMBER", "s", "a", "z", "b"],
    ["SMISMEMBER", "nokey", "a", "b"],
    ["SMISMEMBER", "s"],
    ["SREM", "s", "a", "z", "a"],
    ["SREM", "nokey", "a"],
    ["SREM", "s", "b"],
    ["EXISTS", "s"],
    ["SADD", "s"],
    ["SREM", "s"],
    ["SADD", "s", "", "bin\x00\xff"],
    ["SISMEMBER", "s", "bin\x00\xff"],
    ["SISMEMBER", "s", ""],
    ...WRONG,
    ["SADD", "str", "a"],
    ["SADD", "hash", "a"],
    ["SREM", "str", "a"],
    ["SCARD", "hash"],
    ["SISMEMBER", "str", "a"],
    ["SMISMEMBER", "hash", "a"],
  ],
  "smembers: intsets sorted": [
    ["SMEMBERS", "nokey"],
    INTS,
    ["SMEMBERS", "i"],
    ["SADD", "i", "7", "-1"],
    ["SMEMBERS", "i"],
    ["SREM", "i", "0", "42"],
    ["SMEMBERS", "i"],
    ["SADD", "j", "01", "1", "-0", "+1", " 2"],
    ["SMEMBERS", "j"],
    ...WRONG,
    ["SMEMBERS", "str"],
    ["SMEMBERS", "hash"],
  ],
  "spop": [
    ["SPOP", "nokey"],
    ["SPOP", "nokey", "2"],
    ["SPOP", "nokey", "0"],
    INTS,
    ["SPOP", "i", "0"],
    ["SPOP", "i", "-1"],
    ["SPOP", "i", "abc"],
    ["SPOP", "i", "1", "2"],
    ["SPOP", "i", "100"],
    ["EXISTS", "i"],
    ["SADD", "one", "x"],
    ["SPOP", "one"],
    ["EXISTS", "one"],
    ["SADD", "one", "x"],
    ["SPOP", "one", "1"],
    ["SADD", "one", "y"],
    ["SPOP", "one", "9223372036854775807"],
    ["SPOP", "one", "9223372036854775808"],
    ...WRONG,
    ["SPOP", "str"],
    ["SPOP", "hash", "1"],
  ],
  "srandmember": [
    ["SRANDMEMBER", "nokey"],
    ["SRANDMEMBER", "nokey", "3"],
    ["SRANDMEMBER", "nokey", "-3"],
    INTS,
    ["SRANDMEMBER", "i", "0"],
    ["SRANDMEMBER", "i", "7"],
    ["SRANDMEMBER", "i", "100"],
    ["SRANDMEMBER", "i", "9223372036854775807"],
    ["SRANDMEMBER", "i", "-9223372036854775808"],
    ["SRANDMEMBER", "i", "abc"],
    ["SRANDMEMBER", "i", "1", "2"],
    ["SADD", "one", "x"],
    ["SRANDMEMBER", "one"],
    ["SRANDMEMBER", "one", "1"],
    ["SRANDMEMBER", "one", "-3"],
    ...WRONG,
    ["SRANDMEMBER", "str"],
    ["SRANDMEMBER", "hash", "-1"],
  ],
  "smove": [
    ["SADD", "a", "1", "2"],
    ["SMOVE", "a", "b", "1"],
    ["SMOVE", "a", "b", "9"],
    ["SMEMBERS", "a"],
    ["SMEMBERS", "b"],
    ["SMOVE", "a", "a", "2"],
    ["SMOVE", "a", "a", "9"],
    ["SMOVE", "a", "b", "2"],
    ["EXISTS", "a"],
    ["SMOVE", "nokey", "b", "1"],
    ["SMOVE", "b", "x", "1"],
    ["SMOVE", "b", "x", "2"],
    ["SMEMBERS", "x"],
    ...WRONG,
    ["SMOVE", "str", "x", "1"],
    ["SMOVE", "nokey", "str", "1"],
    ["SMOVE", "x", "hash", "1"],
    ["SMOVE", "x", "hash", "nope"],
    ["SMEMBERS", "x"],
  ],
  "sinter sintercard sinterstore": [
    ["SADD", "a", "1", "2", "3", "4"],
    ["SADD", "b", "2", "3", "4", "5", "6"],
    ["SADD", "c", "3", "4", "x"],
    ["SINTER", "a", "b"],
    ["SINTER", "a", "b", "c"],
    ["SINTER", "a"],
    ["SINTER", "a", "nokey"],
    ["SINTER", "a", "a"],
    ["SINTERCARD", "2", "a", "b"],
    ["SINTERCARD", "3", "a", "b", "c"],
    ["SINTERCARD", "2", "a", "b", "LIMIT", "2"],
    ["SINTERCARD", "2", "a", "b", "limit", "0"],
    ["SINTERCARD", "1", "a", "LIMIT", "1", "LIMIT", "3"],
    ["SINTERCARD", "2", "a", "nokey"],
    ["SINTERCARD", "0", "a"],
    ["SINTERCARD", "-1", "a"],
    ["SINTERCARD", "abc", "a"],
    ["SINTERCARD", "9223372036854775808", "a"],
    ["SINTERCARD", "3", "a", "b"],
    ["SINTERCARD", "1", "a", "LIMIT", "-1"],
    ["SINTERCARD", "1", "a", "LIMIT", "abc"],
    ["SINTERCARD", "1", "a", "LIMIT"],
    ["SINTERCARD", "1", "a", "b"],
    ["SINTERSTORE", "d", "a", "b"],
    ["SMEMBERS", "d"],
    ["SINTERSTORE", "d", "a", "nokey"],
    ["EXISTS", "d"],
    ["SET", "d", "string"],
    ["SINTERSTORE", "d", "a", "c"],
    ["TYPE", "d"],
    ["SMEMBERS", "d"],
    ["SINTERSTORE", "a", "a", "b"],
    ["SMEMBERS", "a"],
    ...WRONG,
    ["SINTER", "a", "str"],
    ["SINTER", "nokey", "hash"],
    ["SINTERCARD", "2", "nokey", "str"],
    ["SINTERSTORE", "d", "nokey", "str"],
    ["SINTERSTORE", "str", "a", "b"],
    ["TYPE", "str"],
  ],
  "sunion sunionstore sdiff sdiffstore": [
    ["SADD", "a", "1", "2", "3"],
    ["SADD", "b", "3", "4", "-5"],
    ["SADD", "c", "x", "3"],
    ["SUNION", "a", "b"],
    ["SUNION", "a", "nokey"],
    ["SUNION", "nokey"],
    ["SUNIONSTORE", "d", "a", "b"],
    ["SMEMBERS", "d"],
    ["SUNIONSTORE", "d", "nokey"],
    ["EXISTS", "d"],
    ["SDIFF", "a", "b"],
    ["SDIFF", "b", "a"],
    ["SDIFF", "a", "nokey"],
    ["SDIFF", "nokey", "a"],
    ["SDIFF", "a", "a"],
    ["SDIFF", "a"],
    ["SDIFFSTORE", "d", "a", "b"],
    ["SMEMBERS", "d"],
    ["SDIFFSTORE", "d", "a", "a"],
    ["EXISTS", "d"],
    ["SET", "d", "string"],
    ["SDIFFSTORE", "d", "b", "a"],
    ["SMEMBERS", "d"],
    ["SUNIONSTORE", "a", "a", "b"],
    ["SMEMBERS", "a"],
    ["SUNION", "a", "c"],
    ["SDIFF", "c", "a"],
    ...WRONG,
    ["SUNION", "a", "str"],
    ["SUNION", "nokey", "hash"],
    ["SDIFF", "nokey", "str"],
    ["SDIFF", "str", "nokey"],
    ["SUNIONSTORE", "d", "hash"],
    ["SDIFFSTORE", "d", "a", "str"],
  ],
  "mixed encodings": [
    INTS,
    STRS,
    ["SINTER", "s", "i"],
    ["SINTER", "i", "s"],
    ["SUNION", "s", "i"],
    ["SDIFF", "s", "i"],
    ["SDIFF", "i", "s"],
    ["SINTERCARD", "2", "i", "s"],
    ["SINTERSTORE", "d", "s", "i"],
    ["SMEMBERS", "d"],
    ["SDIFFSTORE", "d", "s", "i"],
    ["SMEMBERS", "d"],
    ["SSCAN", "s", "0", "COUNT", "100"],
    ["SMOVE", "s", "i", "a"],
    ["SMEMBERS", "i"],
    ["SRANDMEMBER", "s", "100"],
  ],
  "ttls: kept by in-place changes, cleared by *STORE": [
    ["SADD", "a", "1", "2"],
    ["EXPIRE", "a", "1000"],
    ["SADD", "a", "3"],
    ["SREM", "a", "1"],
    ["SPOP", "a", "0"],
    ["TTL", "a"],
    ["SADD", "d", "x"],
    ["EXPIRE", "d", "1000"],
    ["SUNIONSTORE", "d", "a"],
    ["TTL", "d"],
    ["EXPIRE", "d", "1000"],
    ["SMOVE", "a", "d", "2"],
    ["TTL", "d"],
    ["SINTERSTORE", "d", "a", "d"],
    ["TTL", "d"],
  ],
  "sscan": [
    ["SSCAN", "nokey", "0"],
    ["SSCAN", "nokey", "0", "COUNT", "0"],
    ["SSCAN", "nokey", "abc"],
    INTS,
    ["SSCAN", "i", "0"],
    ["SSCAN", "i", "7"],
    ["SSCAN", "i", "-1"],
    ["SSCAN", "i", "0", "COUNT", "1"],
    ["SSCAN", "i", "0", "MATCH", "-*"],
    ["SSCAN", "i", "0", "COUNT", "0"],
    ["SSCAN", "i", "0", "COUNT", "abc"],
    ["SSCAN", "i", "0", "MATCH"],
    ["SSCAN", "i", "18446744073709551616"],
    ["SSCAN", "i", "0", "BOGUS", "x"],
    ...WRONG,
    ["SSCAN", "str", "0"],
    ["SSCAN", "hash", "0"],
  ],
};

/** Replies of intsets come sorted: compared exactly. */
const ORDERED: Record<string, Cmd[]> = {
  "intset replies in order": [
    INTS,
    ["SADD", "k", "3", "-7", "100", "11"],
    ["SMEMBERS", "i"],
    ["SINTER", "i", "k"],
    ["SINTER", "k", "i"],
    ["SUNION", "i", "k"],
    ["SDIFF", "i", "k"],
    ["SDIFF", "k", "i"],
    ["SRANDMEMBER", "i", "100"],
    ["SSCAN", "i", "0"],
    ["SUNIONSTORE", "u", "i", "k"],
    ["SMEMBERS", "u"],
    ["SPOP", "u", "100"],
    ["SMOVE", "i", "k", "42"],
    ["SMEMBERS", "k"],
  ],
};

Deno.test({
  name: "sets: intset replies match redis-server in order",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, ORDERED);
  },
});

Deno.test({
  name: "sets: replies match redis-server byte for byte",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, CASES, {
      unordered: [
        "SMEMBERS",
        "SINTER",
        "SUNION",
        "SDIFF",
        "SPOP",
        "SRANDMEMBER",
        "SSCAN",
      ],
    });
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

/** A reply as a comparable string (bulk bytes as latin1). */
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

function sorted(v: RespValue): string {
  return Array.isArray(v) ? "[" + items(v).sort().join(",") + "]" : norm(v);
}

Deno.test({
  name: "sets: seeded random commands agree with redis-server",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using r = await Conn.open(redis.port);
    using o = await Conn.open(ours.port);
    for (const c of [r, o]) {
      await c.call("CONFIG", "SET", "set-max-intset-entries", "8");
    }
    const rand = prng(20240607);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const keys = ["s0", "s1", "s2", "s3", "str"];
    const pool = [
      ..."abcdefgh",
      ...Array.from({ length: 14 }, (_, i) => String(i - 3)),
      "007",
      "18446744073709551616",
    ];
    const members = () =>
      Array.from({ length: 1 + Math.floor(rand() * 5) }, () => pick(pool));
    const someKeys = () =>
      Array.from({ length: 1 + Math.floor(rand() * 3) }, () => pick(keys));
    const count = () => String(Math.floor(rand() * 14) - 4);
    await r.call("SET", "str", "x");
    await o.call("SET", "str", "x");
    const both = async (cmd: string[]) => {
      const [a, b] = [await r.call(...cmd), await o.call(...cmd)];
      return [a, b];
    };
    for (let i = 0; i < 3000; i++) {
      const key = pick(keys);
      const op = Math.floor(rand() * 20);
      let cmd: string[];
      switch (op) {
        case 0:
        case 1:
        case 2:
          cmd = ["SADD", key, ...members()];
          break;
        case 3:
          cmd = ["SREM", key, ...members()];
          break;
        case 4:
          cmd = ["SISMEMBER", key, pick(pool)];
          break;
        case 5:
          cmd = ["SMISMEMBER", key, ...members()];
          break;
        case 6:
          cmd = ["SCARD", key];
          break;
        case 7:
          cmd = ["SMEMBERS", key];
          break;
        case 8:
          cmd = rand() < 0.3 ? ["SPOP", key] : ["SPOP", key, count()];
          break;
        case 9:
          cmd = rand() < 0.3 ? ["SRANDMEMBER", key] : [
            "SRANDMEMBER",
            key,
            count(),
          ];
          break;
        case 10:
          cmd = ["SMOVE", key, pick(keys), pick(pool)];
          break;
        case 11:
          cmd = [pick(["SINTER", "SUNION", "SDIFF"]), ...someKeys()];
          break;
        case 12: {
          const ks = someKeys();
          cmd = ["SINTERCARD", String(ks.length), ...ks];
          if (rand() < 0.5) cmd.push("LIMIT", String(Math.floor(rand() * 4)));
          break;
        }
        case 13:
        case 14:
          cmd = [
            pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]),
            key,
            ...someKeys(),
          ];
          break;
        case 15:
          cmd = [
            "SSCAN",
            key,
            "0",
            "COUNT",
            String(1 + Math.floor(rand() * 5)),
          ];
          break;
        default:
          cmd = ["SADD", key, pick(pool)];
      }
      const where = `#${i} ${cmd.join(" ")}`;
      const name = cmd[0];
      if (name === "SPOP") {
        const got = await o.call(...cmd);
        if (got instanceof ReplyError || got === null) {
          assert.equal(norm(got), norm(await r.call(...cmd)), where);
          continue;
        }
        const before = new Set(items(await r.call("SMEMBERS", key)));
        const popped = Array.isArray(got) ? items(got) : [norm(got)];
        const n = cmd.length === 2 ? 1 : Math.min(Number(cmd[2]), before.size);
        assert.equal(popped.length, n, where);
        assert.equal(new Set(popped).size, n, where);
        for (const m of popped) assert.ok(before.has(m), where);
        // Bring redis-server to the same state.
        if (popped.length > 0) {
          await r.call("SREM", key, ...popped.map((m) => m.slice(1)));
        }
        continue;
      }
      if (name === "SRANDMEMBER" && cmd.length === 3) {
        const [want, got] = await both(cmd);
        if (!Array.isArray(want)) {
          assert.equal(norm(got), norm(want), where);
          continue;
        }
        const all = new Set(items(await r.call("SMEMBERS", key)));
        const n = Number(cmd[2]);
        const picked = items(got);
        assert.equal(picked.length, items(want).length, where);
        for (const m of picked) assert.ok(all.has(m), where);
        if (n > 0) assert.equal(new Set(picked).size, picked.length, where);
        if (n >= all.size) assert.equal(sorted(got), sorted(want), where);
        continue;
      }
      if (name === "SRANDMEMBER") {
        const [want, got] = await both(cmd);
        if (want === null || want instanceof ReplyError) {
          assert.equal(norm(got), norm(want), where);
        } else {
          assert.ok(
            norm(await r.call("SISMEMBER", key, norm(got).slice(1))) === "1",
            where,
          );
        }
        continue;
      }
      if (name === "SSCAN") {
        const enc = norm(await r.call("OBJECT", "ENCODING", key));
        const [want, got] = await both(cmd);
        if (enc !== "$hashtable") {
          assert.equal(norm(got), norm(want), where);
          continue;
        }
        // Full iterations on both sides find the same members.
        const seen = [new Set<string>(), new Set<string>()];
        for (const [side, c] of [r, o].entries()) {
          let cursor = "0";
          for (let step = 0; step < 1000; step++) {
            const reply = await c.call("SSCAN", key, cursor, "COUNT", "3");
            const [next, found] = reply as [Uint8Array, RespValue[]];
            for (const m of found) seen[side].add(norm(m));
            cursor = norm(next).slice(1);
            if (cursor === "0") break;
          }
        }
        assert.deepEqual([...seen[1]].sort(), [...seen[0]].sort(), where);
        continue;
      }
      const exact = name === "SMEMBERS"
        ? norm(await r.call("OBJECT", "ENCODING", key)) === "$intset"
        : !["SINTER", "SUNION", "SDIFF"].includes(name);
      const [want, got] = await both(cmd);
      assert.equal(
        exact ? norm(got) : sorted(got),
        exact ? norm(want) : sorted(want),
        where,
      );
    }
    // Same final state.
    for (const key of keys) {
      assert.equal(
        sorted(await o.call("SMEMBERS", key)),
        sorted(await r.call("SMEMBERS", key)),
        key,
      );
    }
  },
});

// --- Store level ------------------------------------------------------------

Deno.test("sets: embedded operations", () => {
  const store = new Store();
  const sets = store.sets;
  assert.equal(sets.sadd("s", ["b", "a", "b"]), 2);
  assert.equal(sets.scard("s"), 2);
  assert.deepEqual(sets.smismember("s", ["a", "z"]), [true, false]);
  assert.equal(sets.srem("s", ["a", "b", "c"]), 2);
  assert.equal(store.has("s"), false);
  sets.sadd("i", ["10", "-2", "3"]);
  assert.deepEqual(sets.smembers("i"), ["-2", "3", "10"]);
  sets.sadd("j", ["3", "4"]);
  assert.deepEqual(sets.sinter(["i", "j"]), ["3"]);
  assert.deepEqual(sets.sunion(["i", "j"]), ["-2", "3", "4", "10"]);
  assert.deepEqual(sets.sdiff(["i", "j"]), ["-2", "10"]);
  assert.equal(sets.sintercard(["i", "j"], 0), 1);
  assert.equal(sets.sunionstore("u", ["i", "j"]), 4);
  assert.equal(sets.smove("u", "v", "4"), true);
  assert.deepEqual(sets.smembers("v"), ["4"]);
  const popped = sets.spopCount("u", 2);
  assert.equal(popped.length, 2);
  assert.equal(sets.scard("u"), 1);
  assert.throws(() => {
    store.set("str", "x");
    sets.sadd("str", ["a"]);
  }, StoreError);
});

Deno.test({
  name: "sets: encoding() turns as redis-server's OBJECT ENCODING does",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    using r = await Conn.open(redis.port);
    const store = new Store();
    const check = async (key: string, what: string) => {
      const want = await r.call("OBJECT", "ENCODING", key);
      const set = store.value(key) as RedisSet;
      assert.equal(set.encoding(store.limits), want, `${key}: ${what}`);
    };
    const add = async (key: string, members: string[]) => {
      store.sets.sadd(key, members);
      await r.call("SADD", key, ...members);
    };
    const ints = Array.from({ length: 512 }, (_, i) => String(i * 7 - 100));
    await add("a", ints);
    await check("a", "512 integers");
    await add("a", ["100000"]);
    await check("a", "513 integers");
    await r.call("SREM", "a", "0", "7", "100000");
    store.sets.srem("a", ["0", "7", "100000"]);
    await check("a", "back to 510 integers");
    for (const odd of ["-0", "01", "+1", " 1", "9223372036854775808", "1.0"]) {
      await add(`b${odd}`, ["1", odd]);
      await check(`b${odd}`, `with ${odd}`);
    }
    await add("c", ["-9223372036854775808", "9223372036854775807"]);
    await check("c", "int64 bounds");
    await add("d", ["x"]);
    await check("d", "a string");
    await r.call("SREM", "d", "x");
    store.sets.srem("d", ["x"]);
    await add("d", ["1"]);
    await check("d", "recreated with an integer");
    await r.call("SUNIONSTORE", "e", "c", "a");
    store.sets.sunionstore("e", ["c", "a"]);
    await check("e", "union of intsets over 512");
    await r.call("SINTERSTORE", "f", "a", "a");
    store.sets.sinterstore("f", ["a", "a"]);
    await check("f", "intersection");
  },
});

Deno.test("sets: clone() is independent", () => {
  const a = new RedisSet();
  for (let i = 0; i < 100; i++) a.add(`m${i}`, 512);
  const b = a.clone();
  a.delete("m1");
  b.add("extra", 512);
  assert.equal(a.size, 99);
  assert.equal(b.size, 101);
  assert.ok(b.has("m1"));
  assert.ok(!a.has("extra"));
});

Deno.test("sets: rewrite() commands rebuild the set on a fresh server", async () => {
  const store = new Store();
  const members = Array.from({ length: 2500 }, (_, i) => `m${i}\x00\xff`);
  store.sets.sadd("s", members);
  store.sets.srem("s", members.slice(0, 100));
  await using ours = await startServer();
  using c = await Conn.open(ours.port);
  const set = store.value("s") as RedisSet;
  let commands = 0;
  for (const cmd of set.rewrite("s", 1000)) {
    assert.ok(cmd.length <= 1002);
    // Byte strings go out as bytes (a string would be sent as UTF-8).
    await c.call(
      ...cmd.map((a) => Uint8Array.from(a, (ch) => ch.charCodeAt(0))),
    );
    commands++;
  }
  assert.equal(commands, 3);
  const back = await c.call("SMEMBERS", "s") as string[];
  assert.deepEqual(back.sort(), store.sets.smembers("s").sort());
});

Deno.test("sets: a snapshot keeps the set as it was (copy-on-write)", () => {
  const store = new Store();
  store.sets.sadd("s", ["a", "b", "c"]);
  store.sets.sadd("t", ["1", "2"]);
  using snap = store.snapshot();
  store.sets.srem("s", ["a"]);
  store.sets.sadd("s", ["z"]);
  store.sets.spop("t");
  store.sets.spop("t");
  assert.equal(store.has("t"), false);
  const seen = new Map<string, string[]>();
  for (let chunk = snap.next(10); chunk.length > 0; chunk = snap.next(10)) {
    for (const [key, value] of chunk) {
      seen.set(key, (value as RedisSet).members().sort());
    }
  }
  assert.deepEqual(seen.get("s"), ["a", "b", "c"]);
  assert.deepEqual(seen.get("t"), ["1", "2"]);
  assert.deepEqual(store.sets.smembers("s").sort(), ["b", "c", "z"]);
});

for (const pairs of [false, true]) {
  Deno.test(`sets: the string table agrees with a Map under churn (pairs: ${pairs})`, () => {
    const rand = prng(pairs ? 98 : 99);
    const table = new StringTable(pairs);
    const ref = new Map<string, string>();
    for (let i = 0; i < 60_000; i++) {
      // Small key ranges at times, so tables go through every size.
      const range = i % 20_000 < 2_000 ? 12 : 3000;
      const m = `k${Math.floor(rand() * range)}`;
      const r = rand();
      if (r < 0.5) {
        const v = `v${i}`;
        if (pairs) assert.equal(table.put(m, v), !ref.has(m));
        else assert.equal(table.add(m) >= 0, !ref.has(m));
        if (pairs || !ref.has(m)) ref.set(m, pairs ? m + v : m);
      } else if (r < 0.9) {
        const pos = table.find(m);
        assert.equal(pos >= 0, ref.has(m));
        if (pos >= 0) {
          assert.equal(table.keys[pos], ref.get(m));
          if (rand() < 0.3) table.removeOrdered(pos);
          else table.removeAt(pos);
          ref.delete(m);
        }
      } else if (i % 10_000 === 0) {
        for (const k of [...ref.keys()]) table.removeAt(table.find(k));
        ref.clear();
      }
      assert.equal(table.size, ref.size);
    }
    assert.deepEqual([...table.keys].sort(), [...ref.values()].sort());
    for (const [k, entry] of ref) {
      const pos = table.find(k);
      assert.equal(table.keys[pos], entry);
      if (pairs) assert.equal(table.fieldLength(pos), k.length);
    }
  });
}

Deno.test("sets: 1M members, O(1) pops and random members", () => {
  const store = new Store();
  const sets = store.sets;
  const n = 1_000_000;
  let t = performance.now();
  const batch: string[] = [];
  for (let i = 0; i < n; i++) {
    batch.push(`member:${i}`);
    if (batch.length === 10_000) {
      sets.sadd("big", batch);
      batch.length = 0;
    }
  }
  assert.equal(sets.scard("big"), n);
  const fill = performance.now() - t;
  assert.ok(fill < 8000, `SADD 1M took ${fill} ms`);
  t = performance.now();
  for (let i = 0; i < 100_000; i++) {
    assert.ok(sets.sismember("big", `member:${i * 7}`));
  }
  assert.equal(sets.srandmemberCount("big", 100_000).length, 100_000);
  assert.equal(sets.srandmemberCount("big", -100_000).length, 100_000);
  assert.equal(new Set(sets.spopCount("big", 100_000)).size, 100_000);
  for (let i = 0; i < 10_000; i++) assert.ok(sets.spop("big") !== undefined);
  const ops = performance.now() - t;
  assert.ok(ops < 3000, `100k of each took ${ops} ms`);
  assert.equal(sets.scard("big"), n - 110_000);
  const { cursor, items } = sets.sscan("big", 0, { count: 1000 });
  assert.equal(items.length, 1000);
  assert.ok(cursor > 0);
});

Deno.test("sets: SPOP is logged as SREM; the log and a snapshot replay to the same sets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-set-aof-" });
  try {
    let members: string[];
    let card: RespValue;
    {
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      await c.call(
        "SADD",
        "s",
        ...Array.from({ length: 50 }, (_, i) => `m${i}`),
      );
      await c.call("SADD", "i", "1", "2", "3");
      await c.call("SPOP", "s");
      await c.call("SPOP", "s", "10");
      await c.call("SPOP", "i", "10");
      await c.call("SPOP", "nokey", "3");
      await c.call("SRANDMEMBER", "s", "-5");
      await c.call("SMOVE", "s", "t", "m49");
      await c.call("SUNIONSTORE", "u", "s", "t");
      members = (await c.call("SMEMBERS", "u") as string[]).sort();
      assert.equal(members.length, 39);
      card = await c.call("SCARD", "s");
      assert.equal(await c.call("SAVE"), "OK");
    }
    const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
    assert.ok(!log.includes("SPOP"), "SPOP is logged as SREM");
    assert.ok(!log.includes("SRANDMEMBER"));
    for (const appendonly of [true, false]) {
      await using server = await startServer({ dir, appendonly });
      using c = await Conn.open(server.port);
      assert.deepEqual(
        (await c.call("SMEMBERS", "u") as string[]).sort(),
        members,
      );
      assert.equal(await c.call("EXISTS", "i"), 0);
      assert.equal(await c.call("SCARD", "s"), card);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// --- Packed forms -------------------------------------------------------------

/** Integers of every intset width, their bounds and near misses. */
const WIDE = [
  "0",
  "-1",
  "1",
  "32767",
  "-32768",
  "32768",
  "-32769",
  "2147483647",
  "-2147483648",
  "2147483648",
  "-2147483649",
  "9007199254740991",
  "9007199254740993",
  "-9007199254740993",
  "4294967296",
  "-4294967296",
  "4294967295",
  "9223372036854775807",
  "-9223372036854775808",
  "9223372036854775806",
  "-9223372036854775807",
];

Deno.test({
  name:
    "sets: packed intsets and small sets agree with redis-server across every form",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using r = await Conn.open(redis.port);
    using o = await Conn.open(ours.port);
    // Past the 2,048 integers of a packed intset, still an intset.
    for (const c of [r, o]) {
      await c.call("CONFIG", "SET", "set-max-intset-entries", "2100");
    }
    const rand = prng(4242);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)];
    const keys = ["p0", "p1", "p2"];
    const strs = Array.from({ length: 40 }, (_, i) => `s${i}`);
    strs.push("", "\x00\xff", "x".repeat(200), "007", "-0");
    const pool = () => {
      const x = rand();
      if (x < 0.45) return pick(WIDE);
      if (x < 0.75) return String(Math.floor(rand() * 80) - 40);
      if (x < 0.78) return String(Math.floor(rand() * 3000));
      return pick(strs);
    };
    const members = () =>
      Array.from({ length: 1 + Math.floor(rand() * 6) }, pool);
    const enc = async (key: string) => {
      const want = await r.call("OBJECT", "ENCODING", key);
      const set = ours.store.value(key) as RedisSet | undefined;
      assert.equal(
        set?.encoding(ours.store.limits) ?? null,
        want === null ? null : norm(want).slice(1),
        key,
      );
      return want === null ? null : norm(want).slice(1);
    };
    for (let i = 0; i < 2500; i++) {
      const key = pick(keys);
      const x = rand();
      let cmd: string[];
      if (i % 400 === 399) {
        // A run of integers: past the packed intset (and back down).
        const base = Math.floor(rand() * 1000);
        cmd = ["SADD", key];
        for (let j = 0; j < 2060; j++) cmd.push(String(base + j * 3));
      } else if (i % 400 === 0) cmd = ["DEL", key];
      else if (x < 0.35) cmd = ["SADD", key, ...members()];
      else if (x < 0.5) cmd = ["SREM", key, ...members()];
      else if (x < 0.6) cmd = ["SISMEMBER", key, pool()];
      else if (x < 0.65) cmd = ["SMISMEMBER", key, ...members()];
      else if (x < 0.7) cmd = ["SCARD", key];
      else if (x < 0.78) cmd = ["SMEMBERS", key];
      else if (x < 0.82) cmd = ["SMOVE", key, pick(keys), pool()];
      else if (x < 0.86) {
        cmd = [pick(["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"]), key];
        cmd.push(pick(keys), pick(keys));
      } else if (x < 0.9) cmd = [pick(["SINTER", "SUNION", "SDIFF"]), ...keys];
      else if (x < 0.94) cmd = ["SRANDMEMBER", key, "-5"];
      else cmd = ["SPOP", key, "100000"];
      const where = `#${i} ${cmd.slice(0, 8).join(" ")}`;
      const e = await enc(key);
      const want = await r.call(...cmd);
      const got = await o.call(...cmd);
      await enc(key);
      if (cmd[0] === "SRANDMEMBER") {
        const all = new Set(items(await r.call("SMEMBERS", key)));
        for (const m of items(got)) assert.ok(all.has(m), where);
        assert.equal(items(got).length, items(want).length, where);
        continue;
      }
      const exact = ["SMEMBERS", "SPOP"].includes(cmd[0])
        ? e === "intset" || e === null
        : !["SINTER", "SUNION", "SDIFF"].includes(cmd[0]);
      assert.equal(
        exact ? norm(got) : sorted(got),
        exact ? norm(want) : sorted(want),
        where,
      );
    }
    for (const key of keys) {
      assert.equal(
        sorted(await o.call("SMEMBERS", key)),
        sorted(await r.call("SMEMBERS", key)),
      );
    }
  },
});

Deno.test("sets: packed forms agree with a model (clone, rewrite, at, removeAt)", () => {
  const rand = prng(777);
  for (let round = 0; round < 60; round++) {
    const set = new RedisSet();
    const ref = new Set<string>();
    const max = round % 3 === 0 ? 40 : 512;
    const ints = round % 2 === 0;
    const copies: [RedisSet, string[]][] = [];
    for (let i = 0; i < 300; i++) {
      const m = ints || rand() < 0.9
        ? (rand() < 0.5
          ? WIDE[Math.floor(rand() * WIDE.length)]
          : String(Math.floor(rand() * 200) - 100))
        : `m${Math.floor(rand() * 50)}`;
      if (rand() < 0.6) {
        assert.equal(set.add(m, max), !ref.has(m));
        ref.add(m);
      } else if (rand() < 0.8) {
        assert.equal(set.delete(m), ref.delete(m));
      } else if (set.size > 0) {
        const pos = Math.floor(rand() * set.size);
        const at = set.at(pos);
        assert.ok(ref.has(at));
        set.removeAt(pos);
        ref.delete(at);
      }
      if (rand() < 0.5) {
        ref.add(m);
        set.add(m, max);
      }
      assert.equal(set.size, ref.size);
      assert.equal(set.has(m), ref.has(m));
      if (i % 50 === 0) copies.push([set.clone(), [...ref].sort()]);
    }
    const members = set.members();
    if (set.isIntset) {
      const sortedInts = [...ref].sort((a, b) => {
        const d = BigInt(a) - BigInt(b);
        return d < 0n ? -1 : d > 0n ? 1 : 0;
      });
      assert.deepEqual(members, sortedInts);
    }
    assert.deepEqual([...members].sort(), [...ref].sort());
    for (let p = 0; p < set.size; p++) assert.ok(ref.has(set.at(p)));
    for (const [copy, want] of copies) {
      assert.deepEqual(copy.members().sort(), want);
    }
    const back = new RedisSet();
    for (const cmd of set.rewrite("k", 7)) {
      assert.deepEqual(cmd.slice(0, 2), ["SADD", "k"]);
      for (const m of cmd.slice(2)) back.add(m, max);
    }
    assert.deepEqual(back.members().sort(), [...ref].sort());
    assert.equal(back.isIntset, set.isIntset || ref.size === 0);
  }
});

Deno.test("sets: a snapshot keeps packed intsets and small sets as they were", () => {
  const store = new Store();
  store.sets.sadd("i", ["1", "70000", "-5"]);
  store.sets.sadd("s", ["a", "1"]);
  using snap = store.snapshot();
  store.sets.sadd("i", ["9223372036854775807"]);
  store.sets.srem("i", ["1"]);
  store.sets.sadd("s", ["b"]);
  store.sets.srem("s", ["a"]);
  const seen = new Map<string, string[]>();
  for (let chunk = snap.next(10); chunk.length > 0; chunk = snap.next(10)) {
    for (const [key, value] of chunk) {
      seen.set(key, (value as RedisSet).members());
    }
  }
  assert.deepEqual(seen.get("i"), ["-5", "1", "70000"]);
  assert.deepEqual(seen.get("s"), ["a", "1"]);
  assert.deepEqual(store.sets.smembers("i"), [
    "-5",
    "70000",
    "9223372036854775807",
  ]);
});

Deno.test("sets: 300k small sets stay compact and fast", () => {
  const store = new Store();
  const t = performance.now();
  for (let i = 0; i < 300_000; i++) {
    store.sets.sadd(`i:${i}`, [String(i & 255), "1000", String(-i)]);
    store.sets.sadd(`s:${i}`, ["a", `m${i}`]);
  }
  for (let i = 0; i < 300_000; i++) {
    assert.ok(store.sets.sismember(`i:${i}`, "1000"));
    assert.ok(store.sets.sismember(`s:${i}`, `m${i}`));
  }
  const took = performance.now() - t;
  assert.ok(took < 8000, `300k small sets took ${took} ms`);
});

Deno.test("sets: addMany() merges integers as repeated add() would", () => {
  const rand = prng(31337);
  for (let round = 0; round < 300; round++) {
    const max = [8, 20, 512, 3000][round % 4];
    const a = new RedisSet();
    const b = new RedisSet();
    for (let step = 0; step < 4; step++) {
      const n = Math.floor(rand() * (round % 7 === 0 ? 2200 : 40));
      const batch = Array.from({ length: n }, () => {
        const x = rand();
        if (x < 0.3) return WIDE[Math.floor(rand() * WIDE.length)];
        if (x < 0.31 && round % 5 === 0) return "x";
        return String(Math.floor(rand() * 100000) - 50000);
      });
      let added = 0;
      for (const m of batch) if (b.add(m, max)) added++;
      assert.equal(a.addMany(batch, max), added);
      assert.deepEqual(a.members(), b.members());
      assert.equal(a.isIntset, b.isIntset);
      assert.equal(a.size, b.size);
    }
  }
});
