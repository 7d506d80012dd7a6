// HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST against
// redis-server byte for byte (replies and the HYLL values GET returns), a
// seeded random run side by side, the ops at the store level, and a
// million elements.

import assert from "node:assert/strict";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { type Container, Store } from "../store.ts";
import { encodeCommand } from "../protocol.ts";
import { HANDLERS } from "../commands.ts";
import { HLL_ERRORS, hllHash, HyperLogLog } from "../data/hyperloglog.ts";

const Z11 = "\x00".repeat(11);
/** A sparse header (cache valid, 0) followed by `ops`. */
const sparse = (ops: string) => "HYLL\x01\x00\x00\x00" + "\x00".repeat(8) + ops;

const CASES: Record<string, Cmd[]> = {
  "pfadd and pfcount": [
    ["PFADD", "k", "a", "b", "c"],
    ["PFADD", "k", "a"],
    ["PFADD", "k", "a", "d"],
    ["PFADD", "k"],
    ["PFADD", "new"],
    ["PFADD", "new"],
    ["PFCOUNT", "k"],
    ["PFCOUNT", "k"],
    ["PFCOUNT", "new"],
    ["PFCOUNT", "missing"],
    ["PFCOUNT", "missing", "other"],
    ["PFCOUNT", "k", "new", "missing"],
    ["TYPE", "k"],
    ["STRLEN", "k"],
    ["STRLEN", "new"],
    ["EXISTS", "new"],
    ["PFADD", "e", ""],
    ["PFCOUNT", "e"],
    ["pfadd", "k", "A", "B"],
    ["pfcount", "k"],
  ],
  "arity": [
    ["PFADD"],
    ["PFCOUNT"],
    ["PFMERGE"],
    ["PFDEBUG"],
    ["PFDEBUG", "encoding"],
    ["PFDEBUG", "encoding", "k", "extra"],
    ["PFSELFTEST", "x"],
    ["PFSELFTEST"],
  ],
  "wrong types": [
    ["SET", "s", "foo"],
    ["PFADD", "s", "a"],
    ["PFADD", "s"],
    ["PFCOUNT", "s"],
    ["PFCOUNT", "k", "s"],
    ["PFMERGE", "s"],
    ["PFMERGE", "d", "s"],
    ["EXISTS", "d"],
    ["PFDEBUG", "encoding", "s"],
    ["PFDEBUG", "nosuch", "s"],
    ["SET", "n", "12345678901234567"],
    ["PFADD", "n", "a"],
    ["SET", "short", "HYLL"],
    ["PFCOUNT", "short"],
    ["SET", "enc", "HYLL\x02" + Z11],
    ["PFADD", "enc", "a"],
    ["SET", "dense16", "HYLL\x00" + Z11],
    ["PFCOUNT", "dense16"],
    ["SET", "magic", "HYLX\x01" + Z11 + "\x7f\xff"],
    ["PFCOUNT", "magic"],
  ],
  "corrupted sparse values": [
    ["SET", "c", sparse("\x00")],
    ["PFCOUNT", "c"],
    ["PFADD", "c", "a"],
    ["PFMERGE", "d", "c"],
    ["EXISTS", "d"],
    ["PFCOUNT", "x", "c"],
    ["PFDEBUG", "decode", "c"],
    ["PFDEBUG", "encoding", "c"],
    ["PFDEBUG", "todense", "c"],
    ["PFDEBUG", "getreg", "c"],
    ["SET", "empty", sparse("")],
    ["PFCOUNT", "empty"],
    ["PFADD", "empty", "a"],
    ["PFDEBUG", "decode", "empty"],
    ["SET", "over", sparse("\x7f\x7f\x7f")],
    ["PFCOUNT", "over"],
    ["PFADD", "over", "a"],
    ["PFMERGE", "over2", "over"],
    ["SET", "valover", sparse("\x7f\x7e\xff")],
    ["PFCOUNT", "valover"],
    ["PFCOUNT", "valover", "x"],
    ["PFDEBUG", "todense", "valover"],
    // cache marked valid: the cached value comes back unchecked
    ["SET", "cached", "HYLL\x01\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x00"],
    ["PFCOUNT", "cached"],
    ["PFCOUNT", "cached", "x"],
  ],
  "valid hand-made values": [
    ["SET", "v", sparse("\x7f\xff")],
    ["PFCOUNT", "v"],
    ["PFADD", "v", "a", "b"],
    ["PFCOUNT", "v"],
    ["SET", "two", sparse("\x40\x00\x8c\x7f\xfd")],
    ["PFCOUNT", "two"],
    ["PFDEBUG", "decode", "two"],
    ["PFADD", "two", "x", "y", "z"],
    ["PFDEBUG", "decode", "two"],
    ["PFCOUNT", "two"],
    ["SET", "big", sparse("\x7f\xfe\xfc")],
    ["PFCOUNT", "big"],
  ],
  "pfdebug": [
    ["PFDEBUG", "encoding", "missing"],
    ["PFDEBUG", "nosuch", "missing"],
    ["PFADD", "k", "a", "b", "c", "d", "e"],
    ["PFDEBUG", "ENCODING", "k"],
    ["PFDEBUG", "decode", "k"],
    ["PFDEBUG", "Decode", "k"],
    ["PFDEBUG", "nosuch", "k"],
    ["PFDEBUG", "NoSuch", "k"],
    ["PFDEBUG", "todense", "k"],
    ["PFDEBUG", "todense", "k"],
    ["PFDEBUG", "encoding", "k"],
    ["PFDEBUG", "decode", "k"],
    ["PFCOUNT", "k"],
    ["PFADD", "k2", "x"],
    ["PFDEBUG", "getreg", "k2"],
    ["PFDEBUG", "encoding", "k2"],
    ["PFADD", "k3"],
    ["PFDEBUG", "decode", "k3"],
    ["PFDEBUG", "GETREG", "k3"],
  ],
  "pfmerge": [
    ["PFADD", "a", "1", "2", "3"],
    ["PFADD", "b", "3", "4", "5", "6"],
    ["PFMERGE", "c", "a", "b"],
    ["PFCOUNT", "c"],
    ["PFDEBUG", "decode", "c"],
    ["PFMERGE", "c"],
    ["PFCOUNT", "c"],
    ["PFMERGE", "none"],
    ["PFCOUNT", "none"],
    ["PFDEBUG", "decode", "none"],
    ["PFMERGE", "none2", "x", "y"],
    ["PFDEBUG", "decode", "none2"],
    ["PFDEBUG", "todense", "b"],
    ["PFMERGE", "d", "a", "b"],
    ["PFDEBUG", "encoding", "d"],
    ["PFCOUNT", "d"],
    ["PFMERGE", "a", "a"],
    ["PFDEBUG", "encoding", "a"],
    ["PFCOUNT", "a", "b", "c", "d"],
    ["PFMERGE", "b", "a"],
    ["PFCOUNT", "b"],
  ],
  "expiry is kept": [
    ["PFADD", "k", "a"],
    ["EXPIRE", "k", "100"],
    ["PFADD", "k", "b"],
    ["TTL", "k"],
    ["PFCOUNT", "k"],
    ["TTL", "k"],
    ["PFMERGE", "k", "x"],
    ["TTL", "k"],
    ["PFDEBUG", "todense", "k"],
    ["TTL", "k"],
  ],
  "promotion": [
    ["PFADD", "k", ...Array.from({ length: 300 }, (_, i) => `e${i}`)],
    ["PFDEBUG", "encoding", "k"],
    ["PFCOUNT", "k"],
    ["PFADD", "k", ...Array.from({ length: 2000 }, (_, i) => `f${i}`)],
    ["PFDEBUG", "encoding", "k"],
    ["PFCOUNT", "k"],
    ["PFADD", "k", ...Array.from({ length: 20 }, (_, i) => `g${i}`)],
    ["PFCOUNT", "k"],
    ["PFADD", "k", "f1"],
    ["PFDEBUG", "decode", "k"],
    ["PFMERGE", "m", "k"],
    ["PFDEBUG", "encoding", "m"],
    ["PFCOUNT", "m"],
  ],
  "pfselftest": [["PFSELFTEST"]],
  "hll-sparse-max-bytes": [
    ["CONFIG", "SET", "hll-sparse-max-bytes", "40"],
    ["PFADD", "k", "a", "b", "c", "d", "e", "f", "g", "h"],
    ["PFDEBUG", "ENCODING", "k"],
    ["PFADD", "k2", "a", "b"],
    ["PFDEBUG", "ENCODING", "k2"],
    ["CONFIG", "SET", "hll-sparse-max-bytes", "3000"],
    ["PFADD", "k3", "a", "b", "c", "d", "e", "f", "g", "h"],
    ["PFDEBUG", "ENCODING", "k3"],
  ],
};

/** Against containers (needs LPUSH and HSET on our server). */
const CONTAINER_CASES: Record<string, Cmd[]> = {
  "wrong types: containers": [
    ["SET", "s", "foo"],
    ["LPUSH", "l", "x"],
    ["HSET", "h", "f", "v"],
    ["PFADD", "l", "a"],
    ["PFCOUNT", "l"],
    ["PFCOUNT", "s", "l"],
    ["PFCOUNT", "l", "s"],
    ["PFMERGE", "l"],
    ["PFMERGE", "d", "h"],
    ["PFMERGE", "d", "missing", "l"],
    ["EXISTS", "d"],
    ["PFDEBUG", "encoding", "l"],
    ["PFDEBUG", "nosuch", "h"],
  ],
};

Deno.test({
  name: "hyperloglog: replies identical to redis-server",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, CASES);
    const ok = "lpush" in HANDLERS && "hset" in HANDLERS;
    if (ok) await compareWithRedis(t, CONTAINER_CASES);
  },
});

Deno.test("hyperloglog: WRONGTYPE for a container at the store level", () => {
  const store = new Store();
  const fake: Container = {
    type: "list",
    size: 1,
    clone: () => fake,
    encoding: () => "quicklist",
    rewrite: () => [],
  };
  store.set("l", fake);
  const wrong = { message: /^WRONGTYPE Operation against a key/ };
  const hll = store.hyperloglogs;
  assert.throws(() => hll.pfadd("l", ["a"]), wrong);
  assert.throws(() => hll.pfcount(["l"]), wrong);
  assert.throws(() => hll.pfcount(["x", "l"]), wrong);
  assert.throws(() => hll.pfmerge("d", ["l"]), wrong);
  assert.throws(() => hll.pfmerge("l", []), wrong);
  assert.throws(() => hll.debugEncoding("l"), wrong);
  assert.equal(store.has("d"), false);
});

type Call = (string | Uint8Array)[];

/** Runs `cmds` on both servers (fresh keyspaces) and compares every reply,
 * bulk strings as bytes. */
async function sameBytes(a: Conn, b: Conn, cmds: Call[]): Promise<void> {
  for (const cmd of cmds) {
    const [x, y] = await Promise.all([call(a, cmd), call(b, cmd)]);
    if (!sameValue(x, y)) {
      assert.fail(
        `${String(cmd[0])} ${String(cmd[1])}: ${short(x)} vs redis ${short(y)}`,
      );
    }
  }
}

async function call(c: Conn, cmd: Call): Promise<unknown> {
  await c.send(encodeCommand(cmd));
  return await c.reply(20_000);
}

function sameValue(x: unknown, y: unknown): boolean {
  if (x instanceof Error || y instanceof Error) {
    return x instanceof Error && y instanceof Error && x.message === y.message;
  }
  try {
    assert.deepStrictEqual(x, y);
    return true;
  } catch {
    return false;
  }
}

function short(v: unknown): string {
  const s = v instanceof Error ? `Error(${v.message})` : JSON.stringify(v);
  return s === undefined ? String(v) : s.slice(0, 200);
}

Deno.test({
  name:
    "hyperloglog: GET of values built by PFADD is byte-identical (1..200,000 elements)",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using a = await Conn.open(ours.port);
    using b = await Conn.open(redis.port);
    // One element at a time through the sparse form and into the dense one.
    const cmds: Call[] = [];
    for (let i = 0; i < 2500; i++) {
      cmds.push(["PFADD", "one", `item:${i}`]);
      if (i % 50 === 0 || (i > 1500 && i % 10 === 0)) {
        cmds.push(["GET", "one"], ["PFCOUNT", "one"], ["GET", "one"]);
      }
    }
    cmds.push(["PFDEBUG", "ENCODING", "one"], ["GET", "one"]);
    await sameBytes(a, b, cmds);
    // Growing batches up to 200,000 elements.
    let n = 0;
    for (const size of [1, 10, 100, 1000, 3000, 10_000, 50_000, 135_889]) {
      const batch = Array.from({ length: size }, (_, i) => `x${n + i}`);
      n += size;
      await sameBytes(a, b, [
        ["PFADD", "many", ...batch],
        ["GET", "many"],
        ["PFCOUNT", "many"],
        ["GET", "many"],
        ["PFCOUNT", "many", "one"],
        ["PFMERGE", `merged${size}`, "many", "one"],
        ["GET", `merged${size}`],
        ["PFCOUNT", `merged${size}`],
      ]);
    }
    assert.equal(n, 200_000);
    // Binary elements, and elements of every length around 8-byte blocks.
    const bin: Call = ["PFADD", "bin"];
    for (let len = 0; len < 40; len++) {
      const e = new Uint8Array(len);
      for (let i = 0; i < len; i++) e[i] = (len * 37 + i * 101) & 255;
      bin.push(e);
    }
    await sameBytes(a, b, [bin, ["GET", "bin"], ["PFCOUNT", "bin"]]);
  },
});

Deno.test({
  name: "hyperloglog: values SET from redis-server's bytes work here",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using a = await Conn.open(ours.port);
    using b = await Conn.open(redis.port);
    for (const size of [5, 500, 5000]) {
      const els = Array.from({ length: size }, (_, i) => `r${size}:${i}`);
      await b.call("PFADD", "src", ...els);
      const bytes = await b.call("GET", "src") as string;
      const raw = Uint8Array.from(bytes, (c) => c.charCodeAt(0));
      await a.call("SET", "src", raw);
      await sameBytes(a, b, [
        ["PFCOUNT", "src"],
        ["GET", "src"],
        ["PFADD", "src", "more", "and more"],
        ["GET", "src"],
        ["PFCOUNT", "src"],
        ["PFMERGE", "dst", "src"],
        ["GET", "dst"],
      ]);
      await Promise.all([a.call("FLUSHALL"), b.call("FLUSHALL")]);
    }
  },
});

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random HYLL value: sparse with runs of every kind (sometimes
 * damaged), or dense with any register values. */
function randomValue(rand: () => number): Uint8Array {
  const int = (n: number) => Math.floor(rand() * n);
  const out: number[] = [72, 89, 76, 76, 1, 0, 0, 0];
  const stale = rand() < 0.8;
  for (let i = 0; i < 8; i++) out.push(i === 7 && stale ? 0x80 : int(3));
  if (rand() < 0.2) {
    out[4] = 0;
    for (let i = 0; i < 12288; i++) out.push(rand() < 0.5 ? 0 : int(256));
    return Uint8Array.from(out);
  }
  let left = 16384;
  let last = out.length;
  while (left > 0) {
    last = out.length;
    const r = rand();
    if (r < 0.45) {
      const len = Math.min(left, 1 + int(4));
      out.push(0x80 | (int(rand() < 0.9 ? 4 : 32) << 2) | (len - 1));
      left -= len;
    } else if (r < 0.75) {
      const len = Math.min(left, 1 + int(64));
      out.push(len - 1);
      left -= len;
    } else {
      const len = Math.min(left, 1 + int(rand() < 0.5 ? 200 : 3000));
      out.push(0x40 | ((len - 1) >> 8), (len - 1) & 255);
      left -= len;
    }
  }
  // Damaged: the last opcode left out (a whole one: Redis reads past the
  // end of a cut XZERO, whatever memory holds there).
  if (rand() < 0.1) out.length = last;
  return Uint8Array.from(out);
}

Deno.test({
  name: "hyperloglog: random commands side by side with redis-server",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using a = await Conn.open(ours.port);
    using b = await Conn.open(redis.port);
    const rand = rng(Number(Deno.env.get("HLL_SEED") ?? 20240607));
    const int = (n: number) => Math.floor(rand() * n);
    const keys = ["h0", "h1", "h2", "h3", "s"];
    const key = () => keys[int(keys.length)];
    const el = () => `m${int(rand() < 0.5 ? 200 : 30_000)}`;
    const cmds: Call[] = [];
    for (let i = 0; i < 5000; i++) {
      const r = rand();
      if (r < 0.45) {
        const n = rand() < 0.9 ? int(6) : 50 + int(400);
        cmds.push(["PFADD", key(), ...Array.from({ length: n }, el)]);
      } else if (r < 0.6) {
        const n = 1 + int(3);
        cmds.push(["PFCOUNT", ...Array.from({ length: n }, key)]);
      } else if (r < 0.7) {
        cmds.push(["PFMERGE", key(), ...Array.from({ length: int(3) }, key)]);
      } else if (r < 0.8) {
        cmds.push(["GET", key()]);
      } else if (r < 0.86) {
        const sub = ["ENCODING", "DECODE", "TODENSE", "getreg"][int(4)];
        cmds.push(["PFDEBUG", sub, key()]);
      } else if (r < 0.88) {
        cmds.push(["DEL", key()]);
      } else if (r < 0.89) {
        cmds.push(["SET", "s", rand() < 0.5 ? "text" : "HYLL\x01"]);
      } else if (r < 0.9) {
        // hand-made values: any run layout, damaged now and then
        cmds.push(["SET", key(), randomValue(rand)]);
      } else {
        cmds.push(["STRLEN", key()]);
      }
    }
    await sameBytes(a, b, cmds);
  },
});

Deno.test("hyperloglog ops: embedded use at the store level", () => {
  const store = new Store();
  const hll = store.hyperloglogs;
  assert.equal(hll.pfadd("k", ["a", "b", "c"]), true);
  assert.equal(hll.pfadd("k", ["a"]), false);
  assert.equal(hll.pfadd("k", []), false);
  assert.equal(hll.pfadd("fresh", []), true);
  assert.equal(hll.pfcount(["k"]), 3);
  assert.equal(hll.pfcount(["k", "fresh", "missing"]), 3);
  assert.equal(hll.pfcount(["missing"]), 0);
  assert.equal(hll.debugEncoding("k"), "sparse");
  assert.equal(hll.debugTodense("k"), true);
  assert.equal(hll.debugTodense("k"), false);
  assert.equal(hll.debugEncoding("k"), "dense");
  assert.equal(store.get("k")!.length, 16 + 12288);
  assert.equal(hll.pfcount(["k"]), 3);
  hll.pfmerge("m", ["k", "missing"]);
  assert.equal(hll.pfcount(["m"]), 3);
  assert.equal(hll.debugEncoding("m"), "dense");
  const regs = hll.registers("m");
  assert.equal(regs.length, 16384);
  assert.equal(regs.reduce((n, r) => n + (r > 0 ? 1 : 0), 0), 3);
  assert.deepEqual(hll.debugGetreg("k"), regs);
  assert.equal(hll.debugDecode("fresh"), "Z:16384");
  assert.throws(() => hll.debugDecode("k"), { message: HLL_ERRORS.notSparse });
  assert.throws(() => hll.debugEncoding("nope"), { message: HLL_ERRORS.noKey });
  store.set("s", "plain");
  assert.throws(() => hll.pfadd("s", ["a"]), { message: HLL_ERRORS.notHll });
  hll.selftest();
  // dirty counts as Redis: one per changed element
  const before = store.dirty;
  hll.pfadd("d", ["1", "2", "3"]);
  assert.equal(store.dirty - before, 4);
  // the hash Redis uses
  const [register, count] = hllHash("a");
  assert.ok(register >= 0 && register < 16384 && count >= 1 && count <= 51);
});

Deno.test("hyperloglog: the standalone sketch", () => {
  const a = new HyperLogLog();
  assert.equal(a.encoding, "sparse");
  a.add(["x", "y", "z"]);
  assert.equal(a.count(), 3);
  const b = new HyperLogLog(a.value);
  b.add(Array.from({ length: 5000 }, (_, i) => `n${i}`));
  assert.equal(b.encoding, "dense");
  assert.ok(Math.abs(b.count() - 5003) < 5003 * 0.03);
  a.merge([b]);
  assert.equal(a.count(), b.count());
  assert.equal(a.registers().length, 16384);
  const c = new HyperLogLog();
  c.add(["q"]);
  assert.equal(c.toDense(), true);
  assert.equal(c.toDense(), false);
  assert.throws(() => new HyperLogLog("nope"), { message: HLL_ERRORS.notHll });
});

Deno.test("hyperloglog: a snapshot keeps the value from before a change", () => {
  const store = new Store();
  store.hyperloglogs.pfadd("k", ["a", "b"]);
  store.hyperloglogs.pfadd("dense", ["a"]);
  store.hyperloglogs.debugTodense("dense");
  const before = store.get("k");
  const denseBefore = store.get("dense");
  {
    using snap = store.snapshot();
    store.hyperloglogs.pfadd("k", ["c", "d", "e"]);
    store.hyperloglogs.pfadd("dense", ["c", "d"]);
    store.hyperloglogs.pfcount(["k"]);
    const seen = new Map(snap.next(100).map(([k, v]) => [k, v]));
    assert.equal(seen.get("k"), before);
    assert.equal(seen.get("dense"), denseBefore);
  }
  assert.equal(store.hyperloglogs.pfcount(["k"]), 5);
  assert.equal(store.hyperloglogs.pfcount(["dense"]), 3);
});

Deno.test("hyperloglog: a million elements, within the standard error, in bounded time", async () => {
  const store = new Store();
  const hll = store.hyperloglogs;
  const n = 1_000_000;
  const batch = new Array<string>(1000);
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch.length) {
    for (let j = 0; j < batch.length; j++) batch[j] = `element:${i + j}`;
    hll.pfadd("big", batch);
  }
  const count = hll.pfcount(["big"]) as number;
  const ms = performance.now() - t0;
  assert.ok(ms < 5000, `1M PFADDs took ${ms} ms`);
  // 0.81% standard error: allow three of them
  assert.ok(Math.abs(count - n) / n < 0.0243, `count ${count}`);
  // single-element PFADDs on a dense value cost O(1) (no rebuild)
  const t1 = performance.now();
  for (let i = 0; i < 20_000; i++) hll.pfadd("big", [`again:${i}`]);
  const per = (performance.now() - t1) / 20_000;
  assert.ok(per < 0.05, `${per} ms per PFADD`);
  if (hasRedis) {
    await using redis = await RedisServer.start();
    using b = await Conn.open(redis.port);
    for (let i = 0; i < n; i += 10_000) {
      const els = Array.from({ length: 10_000 }, (_, j) => `element:${i + j}`);
      await b.call("PFADD", "big", ...els);
    }
    for (let i = 0; i < 20_000; i += 5000) {
      const els = Array.from({ length: 5000 }, (_, j) => `again:${i + j}`);
      await b.call("PFADD", "big", ...els);
    }
    assert.equal(await b.call("PFCOUNT", "big"), hll.pfcount(["big"]));
    assert.equal(await b.call("GET", "big"), store.get("big"));
  }
});
