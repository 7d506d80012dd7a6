// The Client's typed methods for every data type, against our server and
// against redis-server, over RESP2 and RESP3: the same expectations
// everywhere, and RESP3 gives the same JS values as RESP2.

import assert from "node:assert/strict";
import { Client, type Value } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import { has, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Target {
  port: number;
  stop(): Promise<void>;
}

const TARGETS: [string, () => Promise<Target>][] = [
  ["@kv/store", async () => {
    const s = await startServer();
    return { port: s.port, stop: () => s.close() };
  }],
];
if (has("redis-server")) {
  TARGETS.push(["redis-server", async () => {
    const r = await RedisServer.start();
    return { port: r.port, stop: () => r.stop() };
  }]);
}

const enc = new TextEncoder();

function sorted<T>(a: T[]): T[] {
  return [...a].sort();
}

async function wrongType(p: Promise<unknown>): Promise<void> {
  await assert.rejects(
    p,
    (e: unknown) => e instanceof ReplyError && e.code === "WRONGTYPE",
  );
}

/** A scenario asserts what it can and returns the values RESP2 and RESP3
 * must agree on. */
type Scenario = (c: Client) => Promise<unknown>;

const SCENARIOS: [string, Scenario][] = [];

SCENARIOS.push(["hashes", async (c) => {
  await c.set("str", "x");
  assert.equal(await c.hset("h", { name: "Ada", born: 1815 }), 2);
  assert.equal(await c.hset("h", "name", "Ada L.", "x", 1), 1);
  assert.equal(await c.hsetnx("h", "name", "B"), false);
  assert.equal(await c.hsetnx("h", "nick", "al"), true);
  assert.equal(await c.hmset("h", { y: "2" }), "OK");
  assert.equal(await c.hmset("h", "z", "3"), "OK");
  assert.equal(await c.hget("h", "name"), "Ada L.");
  assert.equal(await c.hget("h", "nope"), null);
  assert.equal(await c.hget("missing", "f"), null);
  assert.deepEqual(await c.hmget("h", "name", "nope", "x"), [
    "Ada L.",
    null,
    "1",
  ]);
  assert.deepEqual(await c.hmget("missing", "a", "b"), [null, null]);
  const all = await c.hgetall("h");
  assert.deepEqual(all, {
    name: "Ada L.",
    born: "1815",
    x: "1",
    nick: "al",
    y: "2",
    z: "3",
  });
  assert.deepEqual(await c.hgetall("missing"), {});
  assert.equal(await c.hdel("h", "x", "zz"), 1);
  assert.equal(await c.hdel("missing", "x"), 0);
  assert.equal(await c.hexists("h", "y"), true);
  assert.equal(await c.hexists("h", "x"), false);
  assert.equal(await c.hlen("h"), 5);
  assert.equal(await c.hlen("missing"), 0);
  assert.equal(await c.hstrlen("h", "name"), 6);
  assert.equal(await c.hstrlen("h", "nope"), 0);
  assert.deepEqual(
    sorted(await c.hkeys("h")),
    ["born", "name", "nick", "y", "z"],
  );
  assert.deepEqual(sorted(await c.hvals("h")), [
    "1815",
    "2",
    "3",
    "Ada L.",
    "al",
  ]);
  assert.deepEqual(await c.hkeys("missing"), []);
  assert.equal(await c.hincrBy("h", "n", 5), 5);
  assert.equal(await c.hincrBy("h", "n", -7), -2);
  assert.equal(await c.hincrByFloat("h", "f", 10.5), "10.5");
  assert.equal(await c.hincrByFloat("h", "f", "0.1"), "10.6");
  assert.equal(await c.hincrByFloat("h", "f", -0.6), "10");
  await assert.rejects(c.hincrBy("h", "name", 1), /not an integer/);
  // HRANDFIELD
  const keys = await c.hkeys("h");
  const one = await c.hrandField("h");
  assert.ok(one !== null && keys.includes(one));
  assert.equal(await c.hrandField("missing"), null);
  const two = await c.hrandField("h", 2);
  assert.equal(new Set(two).size, 2);
  assert.equal((await c.hrandField("h", -10)).length, 10);
  assert.deepEqual(await c.hrandField("h", 100).then(sorted), sorted(keys));
  assert.deepEqual(await c.hrandField("missing", 3), []);
  const withValues = await c.hrandField("h", -3, { withValues: true });
  assert.equal(withValues.length, 3);
  const full = await c.hgetall("h");
  for (const [f, v] of withValues) assert.equal(full[f], v);
  // HSCAN, one page and the iterator
  for (let i = 0; i < 300; i++) await c.hset("big", `f${i}`, i);
  const page = await c.hscan("h", 0);
  assert.equal(page.cursor, "0");
  assert.deepEqual(Object.fromEntries(page.entries), full);
  const matched = await c.hscan("h", "0", { match: "n*", count: 100 });
  assert.deepEqual(sorted(matched.entries.map(([f]) => f)), [
    "n",
    "name",
    "nick",
  ]);
  const seen = new Map<string, string>();
  for await (const [f, v] of c.hscanIterator("big", { count: 50 })) {
    seen.set(f, v);
  }
  assert.equal(seen.size, 300);
  assert.equal(seen.get("f299"), "299");
  assert.deepEqual(await c.hscan("missing", 0), { cursor: "0", entries: [] });
  // Binary fields and values; a field called __proto__
  const bf = new Uint8Array([0xff, 0x00, 0x01]);
  const bv = new Uint8Array([0x80, 0xfe, 0x00]);
  assert.equal(await c.hset("bin", bf, bv), 1);
  assert.equal(
    await c.hset("bin", new Map<Value, Value>([[bf, "x"], ["t", bv]])),
    1,
  );
  assert.equal(await c.hset("bin", [[bf, bv], ["u", 1]]), 1);
  assert.equal(await c.hmset("bin", [["v", 2]]), "OK");
  assert.equal(await c.hlen("bin"), 4);
  assert.deepEqual(await c.hgetBytes("bin", bf), bv);
  assert.equal(await c.hgetBytes("bin", "nope"), null);
  assert.equal(await c.hstrlen("bin", bf), 3);
  assert.equal(await c.hset("proto", "__proto__", "x", "a", "b"), 2);
  const proto = await c.hgetall("proto");
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);
  assert.deepEqual(Object.entries(proto).sort(), [["__proto__", "x"], [
    "a",
    "b",
  ]]);
  await wrongType(c.hget("str", "f"));
  await wrongType(c.hset("str", "f", "v"));
  await c.rpush("list", "a");
  await wrongType(c.hgetall("list"));
  // An empty hash is deleted.
  assert.equal(await c.hdel("proto", "__proto__", "a"), 2);
  assert.equal(await c.exists("proto"), 0);
  return { all, full, page: sorted(page.entries.map((e) => e.join("="))) };
}]);

SCENARIOS.push(["lists", async (c) => {
  await c.set("str", "x");
  assert.equal(await c.rpush("l", "a", "b", "c"), 3);
  assert.equal(await c.lpush("l", "z", "y"), 5);
  assert.deepEqual(await c.lrange("l", 0, -1), ["y", "z", "a", "b", "c"]);
  assert.equal(await c.lpushx("missing", "a"), 0);
  assert.equal(await c.rpushx("missing", "a"), 0);
  assert.equal(await c.exists("missing"), 0);
  assert.equal(await c.rpushx("l", "d"), 6);
  assert.equal(await c.lpushx("l", "x"), 7);
  assert.equal(await c.llen("l"), 7);
  assert.equal(await c.llen("missing"), 0);
  assert.equal(await c.lindex("l", 0), "x");
  assert.equal(await c.lindex("l", -1), "d");
  assert.equal(await c.lindex("l", 100), null);
  assert.equal(await c.lindex("missing", 0), null);
  assert.equal(await c.lset("l", 1, "Y"), "OK");
  await assert.rejects(c.lset("l", 100, "v"), /index out of range/);
  await assert.rejects(c.lset("missing", 0, "v"), /no such key/);
  assert.equal(await c.linsert("l", "BEFORE", "a", "a0"), 8);
  assert.equal(await c.linsert("l", "AFTER", "a", "a1"), 9);
  assert.equal(await c.linsert("l", "AFTER", "nope", "v"), -1);
  assert.equal(await c.linsert("missing", "AFTER", "a", "v"), 0);
  assert.deepEqual(await c.lrange("l", 0, -1), [
    "x",
    "Y",
    "z",
    "a0",
    "a",
    "a1",
    "b",
    "c",
    "d",
  ]);
  assert.deepEqual(await c.lrange("l", -3, -2), ["b", "c"]);
  assert.deepEqual(await c.lrange("l", 5, 2), []);
  assert.deepEqual(await c.lrange("missing", 0, -1), []);
  assert.equal(await c.lpop("l"), "x");
  assert.equal(await c.rpop("l"), "d");
  assert.deepEqual(await c.lpop("l", 2), ["Y", "z"]);
  assert.deepEqual(await c.rpop("l", 2), ["c", "b"]);
  assert.deepEqual(await c.lpop("l", 0), []);
  assert.equal(await c.lpop("missing"), null);
  assert.equal(await c.lpop("missing", 2), null);
  assert.equal(await c.rpop("missing", 2), null);
  await assert.rejects(c.lpop("l", -1), /must be positive/);
  // LREM, LTRIM, LPOS
  await c.rpush("r", "a", "b", "a", "c", "a", "b");
  assert.equal(await c.lrem("r", -1, "a"), 1);
  assert.equal(await c.lrem("r", 0, "nope"), 0);
  assert.deepEqual(await c.lrange("r", 0, -1), ["a", "b", "a", "c", "b"]);
  assert.equal(await c.lpos("r", "b"), 1);
  assert.equal(await c.lpos("r", "b", { rank: -1 }), 4);
  assert.equal(await c.lpos("r", "b", { rank: 3 }), null);
  assert.equal(await c.lpos("r", "c", { maxlen: 2 }), null);
  assert.equal(await c.lpos("r", "nope"), null);
  assert.equal(await c.lpos("missing", "a"), null);
  assert.deepEqual(await c.lpos("r", "a", { count: 0 }), [0, 2]);
  assert.deepEqual(await c.lpos("r", "b", { count: 1, rank: -1 }), [4]);
  assert.deepEqual(await c.lpos("r", "nope", { count: 5 }), []);
  assert.deepEqual(await c.lpos("missing", "a", { count: 5 }), []);
  await assert.rejects(c.lpos("r", "a", { rank: 0 }), /RANK can't be zero/);
  assert.equal(await c.ltrim("r", 1, -2), "OK");
  assert.deepEqual(await c.lrange("r", 0, -1), ["b", "a", "c"]);
  assert.equal(await c.ltrim("r", 5, 10), "OK");
  assert.equal(await c.exists("r"), 0); // emptied lists are deleted
  // LMOVE, RPOPLPUSH, LMPOP
  await c.rpush("src", "1", "2", "3", "4");
  assert.equal(await c.lmove("src", "dst", "LEFT", "RIGHT"), "1");
  assert.equal(await c.lmove("src", "dst", "RIGHT", "LEFT"), "4");
  assert.equal(await c.rpoplpush("src", "dst"), "3");
  assert.equal(await c.lmove("missing", "dst", "LEFT", "LEFT"), null);
  assert.equal(await c.rpoplpush("missing", "dst"), null);
  assert.deepEqual(await c.lrange("dst", 0, -1), ["3", "4", "1"]);
  assert.equal(await c.rpoplpush("src", "src"), "2");
  assert.deepEqual(await c.lmpop(["missing", "dst", "src"], "LEFT"), {
    key: "dst",
    elements: ["3"],
  });
  assert.deepEqual(await c.lmpop(["dst"], "RIGHT", 10), {
    key: "dst",
    elements: ["1", "4"],
  });
  assert.equal(await c.lmpop(["missing", "dst"], "LEFT", 2), null);
  await assert.rejects(c.lmpop(["src"], "LEFT", 0), /count/);
  // Binary and numeric elements
  const b = new Uint8Array([0, 0xff, 0x10, 0x80]);
  await c.rpush("bin", b, 42, -1.5, "ключ");
  assert.deepEqual(await c.lindexBytes("bin", 0), b);
  assert.deepEqual(await c.lrangeBytes("bin", 1, -1), [
    enc.encode("42"),
    enc.encode("-1.5"),
    enc.encode("ключ"),
  ]);
  assert.equal(await c.lindexBytes("bin", 9), null);
  assert.deepEqual(await c.lrange("bin", 1, -1), ["42", "-1.5", "ключ"]);
  await wrongType(c.lpush("str", "a"));
  await wrongType(c.lrange("str", 0, -1));
  await c.hset("hash", "f", "v");
  await wrongType(c.lpop("hash"));
  await wrongType(c.lmove("bin", "hash", "LEFT", "LEFT"));
  return await c.lrange("bin", 0, -1);
}]);

SCENARIOS.push(["sets", async (c) => {
  await c.set("str", "x");
  assert.equal(await c.sadd("s", "a", "b", "c", "a"), 3);
  assert.equal(await c.sadd("s", "d"), 1);
  assert.equal(await c.srem("s", "d", "nope"), 1);
  assert.equal(await c.srem("missing", "a"), 0);
  assert.deepEqual(sorted(await c.smembers("s")), ["a", "b", "c"]);
  assert.deepEqual(await c.smembers("missing"), []);
  assert.equal(await c.sismember("s", "a"), true);
  assert.equal(await c.sismember("s", "z"), false);
  assert.equal(await c.sismember("missing", "a"), false);
  assert.deepEqual(await c.smismember("s", "a", "z", "c"), [
    true,
    false,
    true,
  ]);
  assert.deepEqual(await c.smismember("missing", "a"), [false]);
  assert.equal(await c.scard("s"), 3);
  assert.equal(await c.scard("missing"), 0);
  // Integers make an intset.
  assert.equal(await c.sadd("ints", 3, 1, 2, -5), 4);
  assert.equal(await c.objectEncoding("ints"), "intset");
  assert.equal(await c.objectEncoding("s"), "hashtable"); // 7.0: no listpack sets
  assert.deepEqual(await c.smembers("ints"), ["-5", "1", "2", "3"]);
  // Random members
  const r = await c.srandMember("s");
  assert.ok(r !== null && ["a", "b", "c"].includes(r));
  assert.equal(await c.srandMember("missing"), null);
  assert.deepEqual(sorted(await c.srandMember("s", 10)), ["a", "b", "c"]);
  assert.equal((await c.srandMember("s", -7)).length, 7);
  assert.deepEqual(await c.srandMember("missing", 3), []);
  const popped = await c.spop("ints");
  assert.ok(popped !== null && ["-5", "1", "2", "3"].includes(popped));
  assert.equal((await c.spop("ints", 2)).length, 2);
  assert.equal((await c.spop("ints", 5)).length, 1);
  assert.equal(await c.exists("ints"), 0);
  assert.equal(await c.spop("missing"), null);
  assert.deepEqual(await c.spop("missing", 3), []);
  await assert.rejects(c.spop("s", -1), /must be positive/);
  // Moves and algebra
  await c.sadd("t", "b", "c", "d");
  assert.equal(await c.smove("s", "u", "a"), true);
  assert.equal(await c.smove("s", "u", "a"), false);
  assert.equal(await c.smove("missing", "u", "a"), false);
  await c.sadd("s", "a");
  assert.deepEqual(sorted(await c.sinter("s", "t")), ["b", "c"]);
  assert.deepEqual(await c.sinter("s", "missing"), []);
  assert.equal(await c.sintercard(["s", "t"]), 2);
  assert.equal(await c.sintercard(["s", "t"], { limit: 1 }), 1);
  assert.equal(await c.sintercard(["s", "missing"]), 0);
  await assert.rejects(c.sintercard([]), /wrong number of arguments/);
  assert.equal(await c.sinterstore("st", "s", "t"), 2);
  assert.deepEqual(sorted(await c.smembers("st")), ["b", "c"]);
  assert.deepEqual(sorted(await c.sunion("s", "t", "missing")), [
    "a",
    "b",
    "c",
    "d",
  ]);
  assert.equal(await c.sunionstore("su", "s", "t"), 4);
  assert.deepEqual(sorted(await c.sdiff("s", "t")), ["a"]);
  assert.deepEqual(await c.sdiff("missing", "t"), []);
  assert.equal(await c.sdiffstore("sd", "t", "s"), 1);
  assert.deepEqual(await c.smembers("sd"), ["d"]);
  assert.equal(await c.sdiffstore("sd", "s", "s"), 0);
  assert.equal(await c.exists("sd"), 0);
  // SSCAN
  for (let i = 0; i < 200; i++) await c.sadd("big", `m${i}`);
  const seen = new Set<string>();
  for await (const m of c.sscanIterator("big", { count: 30 })) seen.add(m);
  assert.equal(seen.size, 200);
  const page = await c.sscan("s", 0, { match: "[ab]" });
  assert.equal(page.cursor, "0");
  assert.deepEqual(sorted(page.members), ["a", "b"]);
  assert.deepEqual(await c.sscan("missing", 0), { cursor: "0", members: [] });
  // Binary members
  const b = new Uint8Array([0xc3, 0x28, 0x00, 0xff]);
  assert.equal(await c.sadd("bin", b, "plain"), 2);
  assert.equal(await c.sismember("bin", b), true);
  const members = await c.smembersBytes("bin");
  assert.equal(members.length, 2);
  assert.ok(
    members.some((m) => m.length === 4 && m.every((x, i) => x === b[i])),
  );
  await wrongType(c.sadd("str", "a"));
  await wrongType(c.smembers("str"));
  await c.rpush("list", "a");
  await wrongType(c.sinter("s", "list"));
  await wrongType(c.sismember("list", "a"));
  return {
    inter: sorted(await c.sinter("s", "t")),
    union: sorted(await c.sunion("s", "t")),
  };
}]);

SCENARIOS.push(["sorted sets", async (c) => {
  await c.set("str", "x");
  assert.equal(await c.zadd("z", { a: 1, b: 2, c: 3 }), 3);
  assert.equal(await c.zadd("z", [["d", 4], ["e", "5.5"]]), 2);
  assert.equal(await c.zadd("z", [["a", 10]], { nx: true }), 0);
  assert.equal(await c.zadd("z", [["a", 0.5], ["f", 6]], { xx: true }), 0);
  assert.equal(await c.zscore("z", "a"), 0.5);
  assert.equal(await c.zadd("z", [["a", 0]], { gt: true, ch: true }), 0);
  assert.equal(await c.zadd("z", [["a", 1]], { gt: true, ch: true }), 1);
  assert.equal(await c.zadd("z", [["b", 3]], { lt: true, ch: true }), 0);
  assert.equal(await c.zadd("z", [["inf", Infinity], ["ninf", -Infinity]]), 2);
  assert.equal(await c.zadd("z", [["a", 5]], { incr: true }), 6);
  assert.equal(await c.zadd("z", [["a", 5]], { incr: true, nx: true }), null);
  assert.equal(await c.zadd("z", [["a", -5]], { incr: true, gt: true }), null);
  await assert.rejects(
    c.zadd("z", [["a", 1]], { nx: true, xx: true }),
    /not compatible/,
  );
  await assert.rejects(c.zadd("z", [["a", NaN]]), /not a valid float/);
  assert.equal(await c.zincrBy("z", 1.5, "a"), 7.5);
  assert.equal(await c.zincrBy("z", -7.5, "a"), 0);
  assert.equal(await c.zincrBy("z", "+inf", "a"), Infinity);
  assert.equal(await c.zadd("z", [["a", 1]]), 0);
  assert.equal(await c.zscore("z", "inf"), Infinity);
  assert.equal(await c.zscore("z", "ninf"), -Infinity);
  assert.equal(await c.zscore("z", "e"), 5.5);
  assert.equal(await c.zscore("z", "nope"), null);
  assert.equal(await c.zscore("missing", "a"), null);
  assert.deepEqual(await c.zmscore("z", "a", "nope", "inf"), [
    1,
    null,
    Infinity,
  ]);
  assert.deepEqual(await c.zmscore("missing", "a"), [null]);
  assert.equal(await c.zcard("z"), 7);
  assert.equal(await c.zcard("missing"), 0);
  assert.equal(await c.zcount("z", -Infinity, Infinity), 7);
  assert.equal(await c.zcount("z", "(1", 4), 3);
  assert.equal(await c.zcount("missing", 0, 1), 0);
  await assert.rejects(c.zcount("z", "x", 1), /min or max is not a float/);
  assert.equal(await c.zrank("z", "ninf"), 0);
  assert.equal(await c.zrank("z", "a"), 1);
  assert.equal(await c.zrevrank("z", "inf"), 0);
  assert.equal(await c.zrank("z", "nope"), null);
  assert.equal(await c.zrevrank("missing", "a"), null);
  // Ranges
  assert.deepEqual(await c.zrange("z", 0, -1), [
    "ninf",
    "a",
    "b",
    "c",
    "d",
    "e",
    "inf",
  ]);
  const withScores = await c.zrange("z", 0, 2, { withScores: true });
  assert.deepEqual(withScores, [["ninf", -Infinity], ["a", 1], ["b", 2]]);
  assert.deepEqual(
    await c.zrange("z", "+inf", "(3", {
      byScore: true,
      rev: true,
      withScores: true,
      limit: { offset: 1, count: 2 },
    }),
    [["e", 5.5], ["d", 4]],
  );
  assert.deepEqual(await c.zrange("z", 2, 4, { byScore: true }), [
    "b",
    "c",
    "d",
  ]);
  assert.deepEqual(await c.zrange("missing", 0, -1, { withScores: true }), []);
  assert.equal(await c.zrangeStore("zs", "z", 1, 3, { byScore: true }), 3);
  assert.deepEqual(await c.zrange("zs", 0, -1, { withScores: true }), [
    ["a", 1],
    ["b", 2],
    ["c", 3],
  ]);
  assert.equal(await c.zrangeStore("zs", "missing", 0, -1), 0);
  assert.equal(await c.exists("zs"), 0);
  assert.deepEqual(await c.zrangeByScore("z", 1, "(3"), ["a", "b"]);
  assert.deepEqual(
    await c.zrangeByScore("z", "-inf", "+inf", {
      withScores: true,
      limit: { offset: 5, count: 10 },
    }),
    [["e", 5.5], ["inf", Infinity]],
  );
  assert.deepEqual(await c.zrevrangeByScore("z", 3, 1), ["c", "b", "a"]);
  assert.deepEqual(
    await c.zrevrangeByScore("z", Infinity, 5, { withScores: true }),
    [["inf", Infinity], ["e", 5.5]],
  );
  assert.deepEqual(await c.zrevrange("z", 0, 1), ["inf", "e"]);
  assert.deepEqual(await c.zrevrange("z", -1, -1, { withScores: true }), [[
    "ninf",
    -Infinity,
  ]]);
  // Lex ranges
  await c.zadd("lex", { a: 0, b: 0, c: 0, d: 0, e: 0 });
  assert.equal(await c.zlexcount("lex", "[b", "(d"), 2);
  assert.equal(await c.zlexcount("lex", "-", "+"), 5);
  await assert.rejects(c.zlexcount("lex", "b", "d"), /not valid string range/);
  assert.deepEqual(await c.zrangeByLex("lex", "(a", "[c"), ["b", "c"]);
  assert.deepEqual(
    await c.zrangeByLex("lex", "-", "+", { limit: { offset: 3, count: 5 } }),
    ["d", "e"],
  );
  assert.deepEqual(await c.zrevrangeByLex("lex", "[c", "-"), ["c", "b", "a"]);
  assert.deepEqual(
    await c.zrange("lex", "[e", "(b", { byLex: true, rev: true }),
    ["e", "d", "c"],
  );
  assert.equal(await c.zremRangeByLex("lex", "[d", "+"), 2);
  assert.equal(await c.zremRangeByLex("missing", "-", "+"), 0);
  // Removal
  assert.equal(await c.zrem("z", "inf", "ninf", "nope"), 2);
  assert.equal(await c.zremRangeByRank("z", 0, 0), 1); // a
  assert.equal(await c.zremRangeByScore("z", "(4", Infinity), 1); // e
  assert.deepEqual(await c.zrange("z", 0, -1, { withScores: true }), [
    ["b", 2],
    ["c", 3],
    ["d", 4],
  ]);
  // Pops
  assert.deepEqual(await c.zpopMin("z"), [["b", 2]]);
  assert.deepEqual(await c.zpopMax("z"), [["d", 4]]);
  assert.deepEqual(await c.zpopMin("missing"), []);
  assert.deepEqual(await c.zpopMax("missing", 2), []);
  await c.zadd("z", { x: 10, y: 20, w: 30 });
  assert.deepEqual(await c.zpopMin("z", 2), [["c", 3], ["x", 10]]);
  assert.deepEqual(await c.zpopMax("z", 1), [["w", 30]]);
  assert.deepEqual(await c.zmpop(["missing", "z"], "MIN"), {
    key: "z",
    members: [["y", 20]],
  });
  assert.equal(await c.exists("z"), 0);
  assert.equal(await c.zmpop(["z", "missing"], "MAX", 3), null);
  await c.zadd("z2", { a: 1, b: 2, c: 3 });
  assert.deepEqual(await c.zmpop(["z2"], "MAX", 2), {
    key: "z2",
    members: [["c", 3], ["b", 2]],
  });
  // Random members
  await c.zadd("r", { a: 1, b: 2, c: 3 });
  const one = await c.zrandMember("r");
  assert.ok(one !== null && ["a", "b", "c"].includes(one));
  assert.equal(await c.zrandMember("missing"), null);
  assert.deepEqual(sorted(await c.zrandMember("r", 5)), ["a", "b", "c"]);
  assert.equal((await c.zrandMember("r", -6)).length, 6);
  const scored = await c.zrandMember("r", 3, { withScores: true });
  assert.deepEqual(scored.sort(), [["a", 1], ["b", 2], ["c", 3]]);
  assert.deepEqual(await c.zrandMember("missing", 2, { withScores: true }), []);
  // Union, intersection, difference
  await c.zadd("u1", { a: 1, b: 2, c: 3 });
  await c.zadd("u2", { b: 10, c: 20, d: 30 });
  await c.sadd("plainset", "a", "d");
  assert.deepEqual(await c.zunion(["u1", "u2"]), ["a", "b", "c", "d"]);
  assert.deepEqual(await c.zunion(["u1", "u2"], { withScores: true }), [
    ["a", 1],
    ["b", 12],
    ["c", 23],
    ["d", 30],
  ]);
  assert.deepEqual(
    await c.zunion(["u1", "u2"], {
      weights: [2, 0.5],
      aggregate: "MAX",
      withScores: true,
    }),
    [["a", 2], ["b", 5], ["c", 10], ["d", 15]],
  );
  assert.deepEqual(
    await c.zinter(["u1", "u2"], { aggregate: "MIN", withScores: true }),
    [["b", 2], ["c", 3]],
  );
  assert.deepEqual(await c.zinter(["u1", "plainset"]), ["a"]);
  assert.deepEqual(await c.zdiff(["u1", "u2"]), ["a"]);
  assert.deepEqual(await c.zdiff(["u1", "missing"], { withScores: true }), [
    ["a", 1],
    ["b", 2],
    ["c", 3],
  ]);
  assert.equal(await c.zunionStore("us", ["u1", "u2"], { weights: [1, 1] }), 4);
  assert.equal(await c.zscore("us", "c"), 23);
  assert.equal(
    await c.zinterStore("is", ["u1", "u2"], { aggregate: "SUM" }),
    2,
  );
  assert.deepEqual(await c.zrange("is", 0, -1, { withScores: true }), [
    ["b", 12],
    ["c", 23],
  ]);
  assert.equal(await c.zdiffStore("ds", ["u2", "u1"]), 1);
  assert.deepEqual(await c.zrange("ds", 0, -1), ["d"]);
  assert.equal(await c.zintercard(["u1", "u2"]), 2);
  assert.equal(await c.zintercard(["u1", "u2"], { limit: 1 }), 1);
  await assert.rejects(
    c.zunion(["u1", "u2"], { weights: [1] }),
    /syntax error/,
  );
  // ZSCAN
  for (let i = 0; i < 200; i++) await c.zadd("big", [[`m${i}`, i / 4]]);
  const seen = new Map<string, number>();
  for await (const [m, s] of c.zscanIterator("big", { count: 25 })) {
    seen.set(m, s);
  }
  assert.equal(seen.size, 200);
  assert.equal(seen.get("m199"), 49.75);
  const page = await c.zscan("u1", 0, { match: "[ab]" });
  assert.deepEqual(page, { cursor: "0", members: [["a", 1], ["b", 2]] });
  await c.zadd("infs", [["p", Infinity]]);
  assert.deepEqual((await c.zscan("infs", 0)).members, [["p", Infinity]]);
  // Binary members
  const b = new Uint8Array([0xff, 0xfe, 0]);
  assert.equal(await c.zadd("bin", [[b, 1.25]]), 1);
  assert.equal(
    await c.zadd("bin", new Map<Value, number>([[b, 2], ["m", -1]])),
    1,
  );
  assert.equal(await c.zadd("bin", new Map([[b, 1.25]])), 0);
  assert.equal(await c.zscore("bin", b), 1.25);
  assert.equal(await c.zrank("bin", b), 1);
  await wrongType(c.zadd("str", { a: 1 }));
  await wrongType(c.zscore("str", "a"));
  await c.rpush("list", "a");
  await wrongType(c.zrange("list", 0, -1));
  await wrongType(c.zunion(["u1", "list"]));
  return {
    withScores,
    union: await c.zunion(["u1", "u2"], { withScores: true }),
    scores: await c.zmscore("us", "a", "b", "c", "d"),
  };
}]);

SCENARIOS.push(["bitmaps and HyperLogLog", async (c) => {
  await c.rpush("list", "a");
  assert.equal(await c.setbit("b", 7, 1), 0);
  assert.equal(await c.setbit("b", 7, 1), 1);
  assert.equal(await c.setbit("b", 9, 1), 0);
  assert.equal(await c.getbit("b", 7), 1);
  assert.equal(await c.getbit("b", 8), 0);
  assert.equal(await c.getbit("b", 1_000_000), 0);
  assert.equal(await c.getbit("missing", 3), 0);
  await assert.rejects(
    c.setbit("b", -1, 1),
    /bit offset is not an integer or out of range/,
  );
  assert.equal(await c.getBytes("b").then((v) => v!.length), 2);
  assert.equal(await c.bitcount("b"), 2);
  assert.equal(await c.bitcount("b", { start: 1, end: 1 }), 1);
  assert.equal(await c.bitcount("b", { start: 0, end: 7, unit: "BIT" }), 1);
  assert.equal(await c.bitcount("missing"), 0);
  assert.equal(await c.bitpos("b", 1), 7);
  assert.equal(await c.bitpos("b", 0), 0);
  assert.equal(await c.bitpos("b", 1, { start: 1 }), 9);
  assert.equal(await c.bitpos("b", 1, { start: 8, end: 15, unit: "BIT" }), 9);
  assert.equal(await c.bitpos("missing", 1), -1);
  assert.equal(await c.bitpos("missing", 0), 0);
  await c.set("x", "\u00f0"); // UTF-8: c3 b0
  await c.set("y", new Uint8Array([0x0f, 0xff, 0x01]));
  assert.equal(await c.bitop("AND", "and", "x", "y"), 3);
  assert.deepEqual(
    await c.getBytes("and"),
    new Uint8Array([0x03, 0xb0, 0x00]),
  );
  assert.equal(await c.bitop("OR", "or", "x", "y"), 3);
  assert.deepEqual(await c.getBytes("or"), new Uint8Array([0xcf, 0xff, 0x01]));
  assert.equal(await c.bitop("XOR", "xor", "x", "y", "missing"), 3);
  assert.equal(await c.bitop("NOT", "not", "y"), 3);
  assert.deepEqual(
    await c.getBytes("not"),
    new Uint8Array([0xf0, 0x00, 0xfe]),
  );
  assert.equal(await c.bitop("AND", "gone", "missing"), 0);
  assert.equal(await c.exists("gone"), 0);
  await assert.rejects(c.bitop("NOT", "n", "x", "y"), /BITOP NOT/);
  // BITFIELD
  assert.deepEqual(
    await c.bitfield("bf", [
      { set: "u8", offset: 0, value: 200 },
      { incrBy: "u8", offset: 0, increment: 100 },
      { overflow: "SAT" },
      { incrBy: "u8", offset: 0, increment: 300 },
      { overflow: "FAIL" },
      { incrBy: "u8", offset: 0, increment: 1 },
      { get: "u8", offset: 0 },
      { set: "i16", offset: "#1", value: -1234 },
      { get: "i16", offset: "#1" },
      { set: "i64", offset: 64, value: 9007199254740993n },
      { get: "i64", offset: 64 },
      { get: "u4", offset: 0 },
    ]),
    [0, 44, 255, null, 255, 0, -1234, 0, 9007199254740993n, 15],
  );
  assert.deepEqual(await c.bitfield("missing", [{ get: "i8", offset: 0 }]), [
    0,
  ]);
  assert.deepEqual(
    await c.bitfieldRo("bf", [{ get: "u8", offset: 0 }, {
      get: "i16",
      offset: "#1",
    }]),
    [255, -1234],
  );
  await assert.rejects(
    c.bitfield("bf", [{ get: "u64", offset: 0 }]),
    /Invalid bitfield type/,
  );
  // LCS
  await c.mset({ a: "ohmytext", b: "mynewtext" });
  assert.equal(await c.lcs("a", "b"), "mytext");
  assert.equal(await c.lcs("a", "missing"), "");
  assert.equal(await c.lcsLen("a", "b"), 6);
  const idx = await c.lcsIdx("a", "b");
  assert.deepEqual(idx, {
    matches: [{ a: [4, 7], b: [5, 8] }, { a: [2, 3], b: [0, 1] }],
    len: 6,
  });
  assert.deepEqual(
    await c.lcsIdx("a", "b", { minMatchLen: 4, withMatchLen: true }),
    { matches: [{ a: [4, 7], b: [5, 8], len: 4 }], len: 6 },
  );
  await assert.rejects(c.lcs("a", "list"), /must contain string values/);
  await wrongType(c.setbit("list", 0, 1));
  await wrongType(c.bitcount("list"));
  // HyperLogLog
  assert.equal(await c.pfadd("h1", "a", "b", "c"), true);
  assert.equal(await c.pfadd("h1", "a"), false);
  assert.equal(await c.pfadd("h2", "c", "d"), true);
  assert.equal(await c.pfadd("h3"), true);
  assert.equal(await c.pfadd("h3"), false);
  assert.equal(await c.pfcount("h1"), 3);
  assert.equal(await c.pfcount("h1", "h2", "missing"), 4);
  assert.equal(await c.pfcount("missing"), 0);
  assert.equal(await c.pfmerge("hm", "h1", "h2"), "OK");
  assert.equal(await c.pfcount("hm"), 4);
  for (let i = 0; i < 5; i++) {
    await c.pfadd(
      "many",
      ...Array.from({ length: 200 }, (_, j) => i * 200 + j),
    );
  }
  const estimate = await c.pfcount("many");
  assert.ok(Math.abs(estimate - 1000) < 50, String(estimate));
  await wrongType(c.pfadd("list", "a"));
  await c.set("notahll", "hello world, this is not a HyperLogLog");
  await assert.rejects(c.pfcount("notahll"), /WRONGTYPE|INVALIDOBJ/);
  return { idx, estimate };
}]);

SCENARIOS.push(["geo", async (c) => {
  const places = [
    { longitude: 13.361389, latitude: 38.115556, member: "Palermo" },
    { longitude: 15.087269, latitude: 37.502669, member: "Catania" },
  ];
  assert.equal(await c.geoadd("Sicily", places), 2);
  assert.equal(
    await c.geoadd("Sicily", [{
      longitude: 13.361389,
      latitude: 38.2,
      member: "Palermo",
    }], { xx: true, ch: true }),
    1,
  );
  assert.equal(
    await c.geoadd("Sicily", [{
      longitude: 13.361389,
      latitude: 38.115556,
      member: "Palermo",
    }, { longitude: 12.5, latitude: 37.8, member: "Marsala" }], { nx: true }),
    1,
  );
  await c.geoadd("Sicily", [places[0]], { xx: true });
  await assert.rejects(
    c.geoadd("Sicily", [{ longitude: 200, latitude: 0, member: "x" }]),
    /invalid longitude,latitude pair/,
  );
  const pos = await c.geopos("Sicily", "Palermo", "nowhere");
  assert.equal(pos.length, 2);
  assert.equal(pos[1], null);
  assert.ok(Math.abs(pos[0]!.longitude - 13.361389) < 1e-5);
  assert.ok(Math.abs(pos[0]!.latitude - 38.115556) < 1e-5);
  assert.deepEqual(await c.geopos("missing", "a"), [null]);
  const dist = await c.geodist("Sicily", "Palermo", "Catania");
  assert.equal(dist, 166274.1516);
  assert.equal(await c.geodist("Sicily", "Palermo", "Catania", "km"), 166.2742);
  assert.equal(await c.geodist("Sicily", "Palermo", "nowhere"), null);
  assert.equal(await c.geodist("missing", "a", "b"), null);
  assert.deepEqual(await c.geohash("Sicily", "Palermo", "Catania", "nope"), [
    "sqc8b49rny0",
    "sqdtr74hyu0",
    null,
  ]);
  const near = await c.geosearch(
    "Sicily",
    { longitude: 15, latitude: 37 },
    { radius: 200, unit: "km" },
    { order: "ASC" },
  );
  assert.deepEqual(near, [{ member: "Catania" }, { member: "Palermo" }]);
  const full = await c.geosearch(
    "Sicily",
    { longitude: 15, latitude: 37 },
    { radius: 200, unit: "km" },
    { order: "ASC", withDist: true, withHash: true, withCoord: true },
  );
  assert.equal(full[0].member, "Catania");
  assert.equal(full[0].distance, 56.4413);
  assert.equal(full[0].hash, 3479447370796909);
  assert.ok(Math.abs(full[0].coordinates!.longitude - 15.087269) < 1e-5);
  const box = await c.geosearch(
    "Sicily",
    { member: "Palermo" },
    { width: 400, height: 400, unit: "km" },
    { order: "DESC", count: 2, withDist: true },
  );
  assert.deepEqual(box.map((m) => m.member), ["Catania", "Marsala"]);
  assert.equal(box[0].distance, 166.2742);
  assert.deepEqual(
    await c.geosearch("missing", { longitude: 0, latitude: 0 }, {
      radius: 1,
      unit: "m",
    }),
    [],
  );
  await assert.rejects(
    c.geosearch("Sicily", { member: "nowhere" }, { radius: 1, unit: "km" }),
    /could not decode requested zset member/,
  );
  assert.equal(
    await c.geosearchstore("dst", "Sicily", { longitude: 15, latitude: 37 }, {
      radius: 200,
      unit: "km",
    }, { storeDist: true, order: "ASC", count: 1 }),
    1,
  );
  assert.deepEqual(await c.zrange("dst", 0, -1, { withScores: true }), [[
    "Catania",
    56.4412578701582,
  ]]);
  assert.equal(
    await c.geosearchstore("dst2", "Sicily", { member: "Palermo" }, {
      radius: 10,
      unit: "km",
    }),
    1,
  );
  const radius = await c.georadius("Sicily", 15, 37, 200, "km", {
    withDist: true,
    order: "ASC",
  });
  assert.deepEqual(radius, [
    { member: "Catania", distance: 56.4413 },
    { member: "Palermo", distance: 190.4424 },
  ]);
  assert.deepEqual(
    await c.georadiusRo("Sicily", 15, 37, 100, "km"),
    [{ member: "Catania" }],
  );
  assert.deepEqual(
    await c.georadiusByMember("Sicily", "Palermo", 100, "km", {
      order: "ASC",
    }),
    [{ member: "Palermo" }, { member: "Marsala" }],
  );
  assert.deepEqual(
    await c.georadiusByMemberRo("Sicily", "Palermo", 200, "km", {
      order: "DESC",
      count: 1,
      withCoord: true,
    }).then((r) => r.map((m) => [m.member, typeof m.coordinates?.latitude])),
    [["Catania", "number"]],
  );
  await c.set("str", "x");
  await wrongType(c.geoadd("str", places));
  await wrongType(c.geopos("str", "a"));
  return { pos, full, box, radius };
}]);

SCENARIOS.push(["streams", async (c) => {
  await c.set("str", "x");
  assert.equal(await c.xadd("s", "1-1", { type: "login", user: "ada" }), "1-1");
  assert.equal(
    await c.xadd("s", "1-2", ["type", "logout", "user", "bob"]),
    "1-2",
  );
  assert.equal(await c.xadd("s", "2-*", { n: 1 }), "2-0");
  assert.equal(await c.xadd("s", "3", { n: 2 }), "3-0");
  const auto = await c.xadd("s", "*", { n: 3 });
  assert.match(auto!, /^\d+-\d+$/);
  assert.equal(await c.xadd("nope", "*", { a: 1 }, { nomkstream: true }), null);
  assert.equal(await c.exists("nope"), 0);
  await assert.rejects(
    c.xadd("s", "1-0", { a: 1 }),
    /equal or smaller than the target stream top item/,
  );
  assert.equal(await c.xlen("s"), 5);
  assert.equal(await c.xlen("missing"), 0);
  const range = await c.xrange("s", "-", "2");
  assert.deepEqual(range, [
    { id: "1-1", fields: { type: "login", user: "ada" } },
    { id: "1-2", fields: { type: "logout", user: "bob" } },
    { id: "2-0", fields: { n: "1" } },
  ]);
  assert.deepEqual(await c.xrange("s", "(1-1", "+", { count: 1 }), [
    { id: "1-2", fields: { type: "logout", user: "bob" } },
  ]);
  assert.deepEqual(
    (await c.xrevrange("s", "3", "-", { count: 2 })).map((e) => e.id),
    ["3-0", "2-0"],
  );
  assert.deepEqual(await c.xrange("missing"), []);
  assert.equal(await c.xdel("s", auto!, "9-9"), 1);
  assert.equal(await c.xadd("t", "1-0", { a: 1 }, { maxlen: 2 }), "1-0");
  await c.xadd("t", "2-0", { a: 2 }, { maxlen: 2 });
  await c.xadd("t", "3-0", { a: 3 }, { maxlen: 2 });
  assert.deepEqual((await c.xrange("t")).map((e) => e.id), ["2-0", "3-0"]);
  await c.xadd("t", "4-0", { a: 4 }, { minid: "3-0" });
  assert.equal(await c.xlen("t"), 2);
  assert.equal(await c.xtrim("t", { maxlen: 1 }), 1);
  assert.equal(await c.xtrim("t", { minid: "5-0" }), 1);
  assert.equal(
    await c.xtrim("t", { maxlen: 0, approximate: true, limit: 10 }),
    0,
  );
  assert.equal(await c.xtrim("missing", { maxlen: 1 }), 0);
  // XREAD
  const read = await c.xread({ s: "1-2", missing: "0" }, { count: 1 });
  assert.deepEqual(read, [
    { key: "s", entries: [{ id: "2-0", fields: { n: "1" } }] },
  ]);
  assert.deepEqual(
    await c.xread([["s", "0"], ["t", "0"]]).then((r) =>
      r.map((s) => [s.key, s.entries.length])
    ),
    [["s", 4]],
  );
  assert.deepEqual(await c.xread({ s: "$" }), []);
  assert.deepEqual(await c.xread({ s: "$" }, { block: 20 }), []);
  // Groups
  assert.equal(await c.xgroupCreate("s", "g", "0"), "OK");
  await assert.rejects(c.xgroupCreate("s", "g", "0"), /BUSYGROUP/);
  await assert.rejects(
    c.xgroupCreate("m", "g", "$"),
    /requires the key to exist/,
  );
  assert.equal(await c.xgroupCreate("m", "g", "$", { mkstream: true }), "OK");
  assert.equal(
    await c.xgroupCreate("s", "g2", "1-2", { entriesRead: 2 }),
    "OK",
  );
  assert.equal(await c.xgroupCreateConsumer("s", "g", "alice"), true);
  assert.equal(await c.xgroupCreateConsumer("s", "g", "alice"), false);
  const got = await c.xreadgroup("g", "alice", { s: ">" }, { count: 2 });
  assert.deepEqual(got, [{
    key: "s",
    entries: [
      { id: "1-1", fields: { type: "login", user: "ada" } },
      { id: "1-2", fields: { type: "logout", user: "bob" } },
    ],
  }]);
  await c.xreadgroup("g", "bob", { s: ">" }, { count: 1 });
  assert.deepEqual(
    await c.xreadgroup("g", "carol", { s: ">" }, { count: 1, noack: true }),
    [{ key: "s", entries: [{ id: "3-0", fields: { n: "2" } }] }],
  );
  assert.deepEqual(await c.xreadgroup("g", "carol", { s: ">" }), []);
  // Pending history shows deleted entries with null fields.
  assert.equal(await c.xdel("s", "1-2"), 1);
  const history = await c.xreadgroup("g", "alice", { s: "0" });
  assert.deepEqual(history, [{
    key: "s",
    entries: [
      { id: "1-1", fields: { type: "login", user: "ada" } },
      { id: "1-2", fields: null },
    ],
  }]);
  const summary = await c.xpending("s", "g");
  assert.deepEqual(summary, {
    count: 3,
    smallest: "1-1",
    largest: "2-0",
    consumers: [{ name: "alice", count: 2 }, { name: "bob", count: 1 }],
  });
  assert.deepEqual(await c.xpending("s", "g2"), {
    count: 0,
    smallest: null,
    largest: null,
    consumers: [],
  });
  const pending = await c.xpending("s", "g", {
    start: "-",
    end: "+",
    count: 10,
  });
  assert.deepEqual(
    pending.map((p) => [p.id, p.consumer, p.deliveries]),
    [["1-1", "alice", 2], ["1-2", "alice", 1], ["2-0", "bob", 1]],
  );
  assert.ok(pending.every((p) => p.idle >= 0 && p.idle < 10_000));
  assert.deepEqual(
    (await c.xpending("s", "g", {
      start: "-",
      end: "+",
      count: 10,
      consumer: "bob",
      idle: 0,
    })).map((p) => p.id),
    ["2-0"],
  );
  // Claims
  const claimed = await c.xclaim("s", "g", "bob", 0, ["1-1", "9-9"], {
    retryCount: 5,
  });
  assert.deepEqual(claimed, [
    { id: "1-1", fields: { type: "login", user: "ada" } },
  ]);
  assert.deepEqual(
    await c.xclaim("s", "g", "alice", 0, ["1-1"], {
      justId: true,
      idle: 500,
      lastId: "2-0",
    }),
    ["1-1"],
  );
  assert.deepEqual(
    await c.xclaim("s", "g", "carol", 0, ["3-0"], {
      force: true,
      justId: true,
      time: Date.now(),
    }),
    ["3-0"],
  );
  const auto1 = await c.xautoclaim("s", "g", "dave", 0, "0-0", { count: 10 });
  assert.deepEqual(auto1, {
    next: "0-0",
    entries: [
      { id: "1-1", fields: { type: "login", user: "ada" } },
      { id: "2-0", fields: { n: "1" } },
      { id: "3-0", fields: { n: "2" } },
    ],
    deleted: ["1-2"],
  });
  assert.deepEqual(
    await c.xautoclaim("s", "g", "erin", 0, "0", { count: 1, justId: true }),
    { next: "2-0", entries: ["1-1"], deleted: [] },
  );
  assert.equal(await c.xack("s", "g", "1-1", "2-0", "9-9"), 2);
  assert.equal(await c.xack("missing", "g", "1-1"), 0);
  // XINFO
  const info = await c.xinfoStream("s");
  assert.deepEqual(info, {
    length: 3,
    radixTreeKeys: 1,
    radixTreeNodes: 2,
    groups: 2,
    lastGeneratedId: auto,
    maxDeletedEntryId: auto,
    entriesAdded: 5,
    recordedFirstEntryId: "1-1",
    firstEntry: { id: "1-1", fields: { type: "login", user: "ada" } },
    lastEntry: { id: "3-0", fields: { n: "2" } },
  });
  const groups = await c.xinfoGroups("s");
  assert.deepEqual(groups.map((g) => [g.name, g.consumers, g.pending]), [
    ["g", 5, 1],
    ["g2", 0, 0],
  ]);
  assert.equal(groups[1].lastDeliveredId, "1-2");
  assert.equal(groups[1].entriesRead, 2);
  const consumers = await c.xinfoConsumers("s", "g");
  assert.deepEqual(consumers.map((x) => [x.name, x.pending]), [
    ["alice", 0],
    ["bob", 0],
    ["carol", 0],
    ["dave", 1],
    ["erin", 0],
  ]);
  assert.ok(consumers.every((x) => typeof x.idle === "number"));
  const full = await c.xinfoStreamFull("s", { count: 1 });
  assert.equal(full.length, 3);
  assert.deepEqual(full.entries, [
    { id: "1-1", fields: { type: "login", user: "ada" } },
  ]);
  const fg = (full.groups as Record<string, unknown>[])[0];
  assert.equal(fg.name, "g");
  assert.equal(fg.pelCount, 1);
  assert.equal((fg.consumers as Record<string, unknown>[])[0].name, "alice");
  // Group and consumer removal, XSETID
  assert.equal(await c.xgroupDelConsumer("s", "g", "dave"), 1);
  assert.equal(await c.xgroupDelConsumer("s", "g", "nobody"), 0);
  assert.equal(await c.xgroupSetId("s", "g", "0", { entriesRead: 0 }), "OK");
  assert.equal(await c.xgroupSetId("s", "g2", "$"), "OK");
  assert.equal(await c.xgroupDestroy("s", "g2"), true);
  assert.equal(await c.xgroupDestroy("s", "g2"), false);
  await assert.rejects(
    c.xgroupDestroy("missing", "g"),
    /requires the key to exist/,
  );
  assert.equal(
    await c.xsetid("t", "99-0", { entriesAdded: 100, maxDeletedId: "50-0" }),
    "OK",
  );
  const tinfo = await c.xinfoStream("t");
  assert.equal(tinfo.lastGeneratedId, "99-0");
  assert.equal(tinfo.entriesAdded, 100);
  assert.equal(tinfo.maxDeletedEntryId, "50-0");
  assert.equal(tinfo.firstEntry, null);
  await assert.rejects(
    c.xsetid("s", "1-0"),
    /smaller than the target stream top item/,
  );
  // Binary field values
  const b = new Uint8Array([0xff, 0, 0x80]);
  await c.xadd("bin", "1-0", ["f", b]);
  await c.xadd("bin", "2-0", [["g", 1], [b, "x"]]);
  await c.xadd("bin", "3-0", new Map([["h", 2]]));
  assert.deepEqual(
    (await c.xrange("bin", "2", "+")).map((e) => e.fields),
    [{ g: "1", [new TextDecoder().decode(b)]: "x" }, { h: "2" }],
  );
  const raw = await c.executeBytes("XRANGE", "bin", "-", "+") as unknown[][];
  assert.deepEqual((raw[0][1] as Uint8Array[])[1], b);
  await wrongType(c.xadd("str", "*", { a: 1 }));
  await wrongType(c.xrange("str"));
  await wrongType(c.xread({ str: "0" }));
  // Times (seen-time, delivery times) vary; everything else must agree.
  const fullShape = JSON.parse(
    JSON.stringify(full, (_, v) => typeof v === "number" && v > 1e12 ? 0 : v),
  );
  // [id, consumer, delivery time, delivery count]; the count differs
  // (XCLAIM FORCE JUSTID of an id that was not pending starts at 1 in Redis).
  assert.deepEqual(
    fullShape.groups[0].pending.map((p: unknown[]) => p.slice(0, 3)),
    [["3-0", "dave", 0]],
  );
  fullShape.lastGeneratedId = fullShape.maxDeletedEntryId = "";
  return {
    fullShape,
    range,
    info: { ...info, lastGeneratedId: "", maxDeletedEntryId: "" },
    summary,
    groups: groups.map((g) => ({ ...g })),
  };
}]);

SCENARIOS.push(["sort and object encoding", async (c) => {
  await c.rpush("ids", 3, 1, 2);
  await c.mset({ w_1: 30, w_2: 10, w_3: 20, n_1: "one", n_2: "two" });
  assert.deepEqual(await c.sort("ids"), ["1", "2", "3"]);
  assert.deepEqual(await c.sort("ids", { order: "DESC" }), ["3", "2", "1"]);
  assert.deepEqual(await c.sort("ids", { by: "w_*" }), ["2", "3", "1"]);
  assert.deepEqual(
    await c.sort("ids", { by: "w_*", get: ["#", "n_*"] }),
    ["2", "two", "3", null, "1", "one"],
  );
  assert.deepEqual(
    await c.sort("ids", { limit: { offset: 1, count: 1 } }),
    ["2"],
  );
  assert.deepEqual(await c.sort("missing"), []);
  assert.equal(await c.sort("ids", { store: "sorted", order: "DESC" }), 3);
  assert.deepEqual(await c.lrange("sorted", 0, -1), ["3", "2", "1"]);
  await c.sadd("names", "bob", "ada", "cy");
  assert.deepEqual(await c.sortRo("names", { alpha: true }), [
    "ada",
    "bob",
    "cy",
  ]);
  await assert.rejects(
    c.sort("names"),
    /One or more scores can't be converted/,
  );
  assert.deepEqual(await c.sortRo("missing"), []);
  assert.equal(await c.objectEncoding("ids"), "quicklist");
  assert.equal(await c.objectEncoding("names"), "hashtable");
  assert.equal(await c.objectEncoding("w_1"), "int");
  assert.equal(await c.objectEncoding("n_1"), "embstr");
  assert.equal(await c.objectEncoding("missing"), null);
  await c.hset("h", "f", "v");
  assert.equal(await c.objectEncoding("h"), "listpack");
  await c.hset("h", "long", "x".repeat(65));
  assert.equal(await c.objectEncoding("h"), "hashtable");
  await c.zadd("z", { a: 1 });
  assert.equal(await c.objectEncoding("z"), "listpack");
  await c.xadd("x", "1-0", { a: 1 });
  assert.equal(await c.objectEncoding("x"), "stream");
  await c.sadd("ints", 1, 2);
  assert.equal(await c.objectEncoding("ints"), "intset");
  return await c.sort("ids", { by: "w_*", get: ["#", "n_*"] });
}]);

/** Runs every scenario over RESP2 then RESP3 and compares the results. */
for (const [name, start] of TARGETS) {
  Deno.test(`client types (${name}): every data type`, opts, async (t) => {
    const target = await start();
    try {
      await using c2 = await Client.connect({ port: target.port });
      await using c3 = await Client.connect({ port: target.port, resp: 3 });
      // RESP3 doubles kept as text (as the CLI asks) must not change results.
      await using c3t = await Client.connect({
        port: target.port,
        resp: 3,
        doubles: "text",
      });
      for (const [title, scenario] of SCENARIOS) {
        await t.step(title, async () => {
          await c2.flush();
          const r2 = await scenario(c2);
          await c3.flush();
          const r3 = await scenario(c3);
          assert.deepEqual(r3, r2, "RESP3 and RESP2 differ");
          await c3t.flush();
          assert.deepEqual(await scenario(c3t), r2, "doubles as text differ");
        });
      }
    } finally {
      await target.stop();
    }
  });

  Deno.test({
    name: `client types (${name}): XREAD BLOCK wakes up`,
    ...opts,
  }, async () => {
    const target = await start();
    try {
      await using reader = await Client.connect({ port: target.port, resp: 3 });
      await using writer = await Client.connect({ port: target.port });
      const read = reader.xread({ s: "$" }, { block: 5000 });
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(await writer.xadd("s", "5-0", { a: "1" }), "5-0");
      assert.deepEqual(await read, [
        { key: "s", entries: [{ id: "5-0", fields: { a: "1" } }] },
      ]);
    } finally {
      await target.stop();
    }
  });

  Deno.test(`client types (${name}): pipelines`, opts, async () => {
    const target = await start();
    try {
      for (const resp of [2, 3] as const) {
        await using c = await Client.connect({ port: target.port, resp });
        await c.flush();
        const p = c.pipeline()
          .hset("h", { a: 1, b: 2 })
          .hgetall("h")
          .hincrByFloat("h", "a", 0.5)
          .rpush("l", "x", "y", "z")
          .lpop("l", 2)
          .lmpop(["l"], "RIGHT")
          .sadd("s", "m", "n")
          .smismember("s", "m", "o")
          .zadd("z", { a: 1.5, b: Infinity })
          .zrange("z", 0, -1, { withScores: true })
          .zpopMax("z")
          .zscore("z", "a")
          .setbit("bits", 3, 1)
          .bitfield("bits", [{ get: "u4", offset: 0 }])
          .pfadd("hll", "a", "b")
          .pfcount("hll")
          .geoadd("g", [{ longitude: 0, latitude: 0, member: "o" }])
          .geodist("g", "o", "o")
          .xadd("x", "1-0", { f: "v" })
          .xrange("x")
          .xgroupCreate("x", "grp", "0")
          .xreadgroup("grp", "c", { x: ">" })
          .xpending("x", "grp")
          .sort("l")
          .objectEncoding("s")
          .lset("missing", 0, "v") // an error, as a value
          .hget("h", "b");
        assert.equal(p.length, 27);
        const r = await p.exec();
        assert.deepEqual(r.slice(0, 25), [
          2,
          { a: "1", b: "2" },
          "1.5",
          3,
          ["x", "y"],
          { key: "l", elements: ["z"] },
          2,
          [true, false],
          2,
          [["a", 1.5], ["b", Infinity]],
          [["b", Infinity]],
          1.5,
          0,
          [1],
          true,
          2,
          1,
          0,
          "1-0",
          [{ id: "1-0", fields: { f: "v" } }],
          "OK",
          [{ key: "x", entries: [{ id: "1-0", fields: { f: "v" } }] }],
          {
            count: 1,
            smallest: "1-0",
            largest: "1-0",
            consumers: [{ name: "c", count: 1 }],
          },
          [],
          "hashtable",
        ]);
        assert.ok(r[25] instanceof ReplyError);
        assert.equal((r[25] as ReplyError).message, "ERR no such key");
        assert.equal(r[26], "2");
      }
    } finally {
      await target.stop();
    }
  });
}
