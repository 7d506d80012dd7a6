// Lists: byte-for-byte comparison with redis-server, a seeded random
// comparison, the ops at the store level, and complexity at 1M elements.

import assert from "node:assert/strict";
import { encodeCommand } from "../protocol.ts";
import { type Container, Store } from "../store.ts";
import { List } from "../data/list.ts";
import { binaryToBytes } from "../_bytes.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";

const CASES: Record<string, Cmd[]> = {
  "push and length": [
    ["LPUSH", "l", "a"],
    ["LPUSH", "l", "b", "c"],
    ["RPUSH", "l", "d", "e", "f"],
    ["LLEN", "l"],
    ["LRANGE", "l", "0", "-1"],
    ["LLEN", "missing"],
    ["LPUSH", "l"],
    ["RPUSH"],
    ["LLEN"],
    ["LLEN", "l", "x"],
    ["lpush", "l", ""],
    ["LRANGE", "l", "0", "0"],
    ["TYPE", "l"],
  ],
  "pushx": [
    ["LPUSHX", "l", "a"],
    ["RPUSHX", "l", "a", "b"],
    ["EXISTS", "l"],
    ["RPUSH", "l", "x"],
    ["LPUSHX", "l", "a", "b"],
    ["RPUSHX", "l", "c", "d"],
    ["LRANGE", "l", "0", "-1"],
    ["LPUSHX", "l"],
    ["RPUSHX", "l"],
  ],
  "pop": [
    ["RPUSH", "l", "a", "b", "c", "d", "e"],
    ["LPOP", "l"],
    ["RPOP", "l"],
    ["LPOP", "l", "0"],
    ["LPOP", "l", "1"],
    ["RPOP", "l", "1"],
    ["LPOP", "l", "-1"],
    ["RPOP", "l", "abc"],
    ["LPOP", "l", "1.5"],
    ["LPOP", "l", "1", "2"],
    ["RPOP", "l", "1", "2"],
    ["LPOP", "l", "9223372036854775807"],
    ["EXISTS", "l"],
    ["LPOP", "l"],
    ["RPOP", "l"],
    ["LPOP", "l", "0"],
    ["RPOP", "l", "3"],
    ["LPOP", "l", "-1"],
    ["RPUSH", "l", "x"],
    ["RPOP", "l", "5"],
    ["EXISTS", "l"],
    ["LPOP"],
  ],
  "lindex": [
    ["RPUSH", "l", "a", "b", "c"],
    ["LINDEX", "l", "0"],
    ["LINDEX", "l", "2"],
    ["LINDEX", "l", "3"],
    ["LINDEX", "l", "-1"],
    ["LINDEX", "l", "-3"],
    ["LINDEX", "l", "-4"],
    ["LINDEX", "l", "abc"],
    ["LINDEX", "l", "9223372036854775807"],
    ["LINDEX", "l", "9223372036854775808"],
    ["LINDEX", "l", "-9223372036854775808"],
    ["LINDEX", "missing", "0"],
    ["LINDEX", "missing", "abc"],
    ["LINDEX", "l"],
  ],
  "lset": [
    ["LSET", "missing", "0", "x"],
    ["LSET", "missing", "abc", "x"],
    ["RPUSH", "l", "a", "b", "c"],
    ["LSET", "l", "0", "A"],
    ["LSET", "l", "-1", "C"],
    ["LSET", "l", "3", "x"],
    ["LSET", "l", "-4", "x"],
    ["LSET", "l", "abc", "x"],
    ["LSET", "l", "99999999999999999999", "x"],
    ["LRANGE", "l", "0", "-1"],
    ["LSET", "l", "0"],
  ],
  "linsert": [
    ["LINSERT", "missing", "BEFORE", "a", "x"],
    ["LINSERT", "missing", "middle", "a", "x"],
    ["RPUSH", "l", "a", "b", "c", "b"],
    ["LINSERT", "l", "BEFORE", "b", "x"],
    ["LINSERT", "l", "after", "b", "y"],
    ["LINSERT", "l", "AFTER", "c", "z"],
    ["LINSERT", "l", "before", "a", "w"],
    ["LINSERT", "l", "BEFORE", "nope", "x"],
    ["LINSERT", "l", "middle", "b", "x"],
    ["LRANGE", "l", "0", "-1"],
    ["LINSERT", "l", "BEFORE", "b"],
  ],
  "lrange": [
    ["RPUSH", "l", "a", "b", "c", "d", "e"],
    ["LRANGE", "l", "0", "-1"],
    ["LRANGE", "l", "1", "3"],
    ["LRANGE", "l", "-2", "-1"],
    ["LRANGE", "l", "-100", "100"],
    ["LRANGE", "l", "3", "1"],
    ["LRANGE", "l", "5", "10"],
    ["LRANGE", "l", "-1", "-2"],
    ["LRANGE", "l", "0", "0"],
    ["LRANGE", "l", "0", "-6"],
    ["LRANGE", "l", "-9223372036854775808", "9223372036854775807"],
    ["LRANGE", "l", "a", "1"],
    ["LRANGE", "l", "0", "b"],
    ["LRANGE", "missing", "0", "-1"],
    ["LRANGE", "missing", "x", "-1"],
    ["LRANGE", "l", "0"],
  ],
  "lrem": [
    ["RPUSH", "l", "a", "b", "a", "c", "a", "b", "a"],
    ["LREM", "l", "1", "a"],
    ["LRANGE", "l", "0", "-1"],
    ["LREM", "l", "-2", "a"],
    ["LRANGE", "l", "0", "-1"],
    ["LREM", "l", "0", "b"],
    ["LRANGE", "l", "0", "-1"],
    ["LREM", "l", "0", "nope"],
    ["LREM", "l", "x", "a"],
    ["LREM", "l", "0", "a"],
    ["LREM", "l", "0", "c"],
    ["EXISTS", "l"],
    ["LREM", "missing", "0", "a"],
    ["LREM", "missing", "x", "a"],
    ["LREM", "l", "0"],
  ],
  "ltrim": [
    ["RPUSH", "l", "a", "b", "c", "d", "e"],
    ["LTRIM", "l", "1", "-2"],
    ["LRANGE", "l", "0", "-1"],
    ["LTRIM", "l", "-100", "100"],
    ["LRANGE", "l", "0", "-1"],
    ["LTRIM", "l", "1", "1"],
    ["LRANGE", "l", "0", "-1"],
    ["LTRIM", "l", "a", "1"],
    ["LTRIM", "l", "2", "1"],
    ["EXISTS", "l"],
    ["RPUSH", "l", "a", "b"],
    ["LTRIM", "l", "5", "10"],
    ["EXISTS", "l"],
    ["LTRIM", "missing", "0", "1"],
    ["LTRIM", "missing", "x", "1"],
    ["LTRIM", "l", "0"],
  ],
  "lpos": [
    ["RPUSH", "l", "a", "b", "a", "c", "a", "b"],
    ["LPOS", "l", "a"],
    ["LPOS", "l", "b"],
    ["LPOS", "l", "z"],
    ["LPOS", "l", "a", "RANK", "2"],
    ["LPOS", "l", "a", "RANK", "-1"],
    ["LPOS", "l", "a", "RANK", "-3"],
    ["LPOS", "l", "a", "RANK", "4"],
    ["LPOS", "l", "a", "RANK", "0"],
    ["LPOS", "l", "a", "RANK", "x"],
    ["LPOS", "l", "a", "RANK", "-9223372036854775808", "COUNT", "0"],
    ["LPOS", "l", "a", "RANK", "-9223372036854775807", "COUNT", "0"],
    ["LPOS", "l", "a", "RANK", "9223372036854775807"],
    ["LPOS", "l", "a", "COUNT", "0"],
    ["LPOS", "l", "a", "COUNT", "2"],
    ["LPOS", "l", "a", "COUNT", "2", "RANK", "-1"],
    ["LPOS", "l", "z", "COUNT", "2"],
    ["LPOS", "l", "a", "COUNT", "-1"],
    ["LPOS", "l", "a", "COUNT", "x"],
    ["LPOS", "l", "a", "MAXLEN", "3", "COUNT", "0"],
    ["LPOS", "l", "a", "MAXLEN", "1", "RANK", "-1", "COUNT", "0"],
    ["LPOS", "l", "a", "MAXLEN", "2", "RANK", "2"],
    ["LPOS", "l", "a", "MAXLEN", "-1"],
    ["LPOS", "l", "a", "MAXLEN", "9223372036854775808"],
    ["LPOS", "l", "a", "RANK", "2", "RANK", "1"],
    ["LPOS", "l", "a", "rank"],
    ["LPOS", "l", "a", "COUNT"],
    ["LPOS", "l", "a", "foo", "1"],
    ["LPOS", "missing", "a"],
    ["LPOS", "missing", "a", "COUNT", "1"],
    ["LPOS", "missing", "a", "RANK", "0"],
    ["LPOS", "l"],
  ],
  "lmove and rpoplpush": [
    ["RPUSH", "src", "a", "b", "c"],
    ["LMOVE", "src", "dst", "LEFT", "RIGHT"],
    ["LMOVE", "src", "dst", "right", "left"],
    ["LRANGE", "src", "0", "-1"],
    ["LRANGE", "dst", "0", "-1"],
    ["LMOVE", "src", "src", "LEFT", "RIGHT"],
    ["RPUSH", "src", "d", "e"],
    ["LMOVE", "src", "src", "LEFT", "RIGHT"],
    ["LMOVE", "src", "src", "RIGHT", "LEFT"],
    ["LMOVE", "src", "src", "LEFT", "LEFT"],
    ["LRANGE", "src", "0", "-1"],
    ["RPOPLPUSH", "src", "dst"],
    ["RPOPLPUSH", "src", "src"],
    ["LRANGE", "src", "0", "-1"],
    ["LRANGE", "dst", "0", "-1"],
    ["LMOVE", "src", "dst", "UP", "LEFT"],
    ["LMOVE", "src", "dst", "LEFT", "DOWN"],
    ["LMOVE", "missing", "dst", "LEFT", "LEFT"],
    ["LMOVE", "missing", "dst", "x", "LEFT"],
    ["RPOPLPUSH", "missing", "dst"],
    ["DEL", "src"],
    ["RPUSH", "one", "x"],
    ["LMOVE", "one", "dst", "LEFT", "LEFT"],
    ["EXISTS", "one"],
    ["RPUSH", "one", "x"],
    ["RPOPLPUSH", "one", "one"],
    ["LRANGE", "one", "0", "-1"],
    ["LMOVE", "src", "dst", "LEFT"],
    ["RPOPLPUSH", "src"],
  ],
  "lmpop": [
    ["LMPOP", "2", "a", "b", "LEFT"],
    ["RPUSH", "b", "1", "2", "3", "4"],
    ["LMPOP", "2", "a", "b", "LEFT"],
    ["LMPOP", "2", "a", "b", "RIGHT", "COUNT", "2"],
    ["LMPOP", "2", "a", "b", "left", "count", "10"],
    ["EXISTS", "b"],
    ["RPUSH", "a", "x"],
    ["LMPOP", "1", "a", "RIGHT", "COUNT", "1"],
    ["LMPOP", "0", "a", "LEFT"],
    ["LMPOP", "-1", "a", "LEFT"],
    ["LMPOP", "abc", "a", "LEFT"],
    ["LMPOP", "2", "a", "LEFT"],
    ["LMPOP", "3", "a", "b", "LEFT"],
    ["LMPOP", "9223372036854775807", "a", "LEFT"],
    ["LMPOP", "1", "a", "UP"],
    ["LMPOP", "1", "a", "LEFT", "COUNT", "0"],
    ["LMPOP", "1", "a", "LEFT", "COUNT", "-1"],
    ["LMPOP", "1", "a", "LEFT", "COUNT", "x"],
    ["LMPOP", "1", "a", "LEFT", "COUNT"],
    ["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"],
    ["LMPOP", "1", "a", "LEFT", "foo"],
    ["LMPOP", "1", "a"],
    ["LMPOP", "1"],
  ],
  "wrong type": [
    ["SET", "s", "x"],
    ["RPUSH", "l", "a"],
    ...["s"].flatMap((k): Cmd[] => [
      ["LPUSH", k, "a"],
      ["RPUSH", k, "a"],
      ["LPUSHX", k, "a"],
      ["RPUSHX", k, "a"],
      ["LPOP", k],
      ["RPOP", k, "2"],
      ["LPOP", k, "0"],
      ["LPOP", k, "-1"],
      ["LLEN", k],
      ["LINDEX", k, "0"],
      ["LINDEX", k, "x"],
      ["LSET", k, "0", "x"],
      ["LSET", k, "x", "x"],
      ["LINSERT", k, "BEFORE", "a", "b"],
      ["LINSERT", k, "x", "a", "b"],
      ["LRANGE", k, "0", "-1"],
      ["LRANGE", k, "x", "-1"],
      ["LREM", k, "0", "a"],
      ["LTRIM", k, "0", "1"],
      ["LPOS", k, "a"],
      ["LPOS", k, "a", "RANK", "0"],
      ["LMOVE", k, "l", "LEFT", "LEFT"],
      ["LMOVE", "l", k, "LEFT", "LEFT"],
      ["LMOVE", "missing", k, "LEFT", "LEFT"],
      ["RPOPLPUSH", "l", k],
      ["RPOPLPUSH", k, "l"],
      ["LMPOP", "2", "missing", k, "LEFT"],
      ["LMPOP", "2", "l", k, "LEFT"],
    ]),
    ["LRANGE", "l", "0", "-1"],
    ["GET", "s"],
  ],
  "binary and long elements": [
    ["RPUSH", "l", "\x00\xff\r\n", "x".repeat(300), "y".repeat(70000), ""],
    ["RPUSH", "l", "0", "-0", "01", "255", "256", "65536", "16777216"],
    ["RPUSH", "l", "4294967295", "4294967296", "-9223372036854775808", "1e3"],
    ["LRANGE", "l", "0", "-1"],
    ["LPOS", "l", "y".repeat(70000)],
    ["LINDEX", "l", "2"],
    ["LREM", "l", "0", "x".repeat(300)],
    ["LLEN", "l"],
  ],
};

// Many elements: packed chunks in the middle of the list.
const big: Cmd[] = [];
{
  const push: Cmd = ["RPUSH", "big"];
  for (let i = 0; i < 1000; i++) {
    push.push(i % 3 === 0 ? String((i % 41) * 997) : `e${i % 37}`);
  }
  big.push(push);
  big.push(["LPUSH", "big", ...Array.from({ length: 300 }, (_, i) => `h${i}`)]);
  big.push(
    ["LLEN", "big"],
    ["LINDEX", "big", "650"],
    ["LINDEX", "big", "-650"],
    ["LRANGE", "big", "500", "530"],
    ["LRANGE", "big", "-530", "-500"],
    ["LPOS", "big", "e5", "RANK", "3", "COUNT", "5"],
    ["LPOS", "big", "e5", "RANK", "-3", "COUNT", "5"],
    ["LPOS", "big", "e5", "MAXLEN", "700", "COUNT", "0"],
    ["LPOS", "big", "1994", "RANK", "-2", "COUNT", "3"],
    ["LREM", "big", "2", "2991"],
    ["LINSERT", "big", "AFTER", "3988", "ins3"],
    ["LSET", "big", "700", "changed"],
    ["LINDEX", "big", "700"],
    ["LINSERT", "big", "BEFORE", "changed", "ins"],
    ["LINSERT", "big", "AFTER", "e36", "ins2"],
    ["LREM", "big", "5", "e3"],
    ["LREM", "big", "-5", "e4"],
    ["LREM", "big", "0", "e6"],
    ["LLEN", "big"],
    ["LRANGE", "big", "0", "-1"],
    ["LTRIM", "big", "250", "-250"],
    ["LRANGE", "big", "0", "-1"],
    ["LPOP", "big", "300"],
    ["RPOP", "big", "10"],
    ["LRANGE", "big", "0", "-1"],
  );
}
CASES["many elements"] = big;

Deno.test({
  name: "lists: replies match redis-server byte for byte",
  ignore: !hasRedis,
  fn: async (t) => {
    await compareWithRedis(t, CASES);
  },
});

// --- Random commands against both servers.

/** A small seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomCommands(seed: number, n: number): Cmd[] {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const keys = ["a", "b", "c", "s"];
  const elems = [
    "x",
    "y",
    "z",
    "",
    "long-element-" + "q".repeat(20),
    "0",
    "12",
    "012",
    "-1",
    "70000",
    "4294967295",
    "4294967296",
  ];
  const key = () => pick(keys);
  const el = () => pick(elems);
  const idx = () =>
    r() < 0.05
      ? pick(["abc", "9223372036854775807", "-9223372036854775808"])
      : String(int(-700, 700) >> (r() < 0.5 ? 6 : 0));
  const where = () => r() < 0.05 ? "UP" : pick(["LEFT", "RIGHT", "left"]);
  const many = () => {
    const k = r() < 0.2 ? int(100, 500) : int(1, 4);
    return Array.from({ length: k }, el);
  };
  const cmds: Cmd[] = [["SET", "s", "string"]];
  for (let i = 0; i < n; i++) {
    const c = int(0, 22);
    switch (c) {
      case 0:
      case 1:
        cmds.push([pick(["LPUSH", "RPUSH"]), key(), ...many()]);
        break;
      case 2:
        cmds.push([pick(["LPUSHX", "RPUSHX"]), key(), ...many()]);
        break;
      case 3:
        cmds.push([pick(["LPOP", "RPOP"]), key()]);
        break;
      case 4:
        cmds.push([
          pick(["LPOP", "RPOP"]),
          key(),
          r() < 0.1 ? "-1" : String(int(0, 60)),
        ]);
        break;
      case 5:
        cmds.push(["LLEN", key()]);
        break;
      case 6:
        cmds.push(["LINDEX", key(), idx()]);
        break;
      case 7:
        cmds.push(["LSET", key(), idx(), el()]);
        break;
      case 8:
        cmds.push([
          "LINSERT",
          key(),
          r() < 0.05 ? "MIDDLE" : pick(["BEFORE", "AFTER"]),
          el(),
          el(),
        ]);
        break;
      case 9:
      case 10:
        cmds.push(["LRANGE", key(), idx(), idx()]);
        break;
      case 11:
        cmds.push(["LREM", key(), String(int(-3, 3)), el()]);
        break;
      case 12:
        if (r() < 0.3) cmds.push(["LTRIM", key(), idx(), idx()]);
        else cmds.push(["LRANGE", key(), idx(), "-1"]);
        break;
      case 13:
      case 14: {
        const cmd: Cmd = ["LPOS", key(), el()];
        if (r() < 0.5) cmd.push("RANK", String(int(-4, 4)));
        if (r() < 0.5) cmd.push("COUNT", String(int(-1, 5)));
        if (r() < 0.3) cmd.push("MAXLEN", String(int(-1, 300)));
        cmds.push(cmd);
        break;
      }
      case 15:
      case 16:
        cmds.push(["LMOVE", key(), key(), where(), where()]);
        break;
      case 17:
        cmds.push(["RPOPLPUSH", key(), key()]);
        break;
      case 18: {
        const k = int(0, 3);
        const cmd: Cmd = ["LMPOP", String(k)];
        for (let j = 0; j < k; j++) cmd.push(key());
        cmd.push(where());
        if (r() < 0.5) cmd.push("COUNT", String(int(-1, 50)));
        cmds.push(cmd);
        break;
      }
      case 19:
        cmds.push(["LRANGE", key(), "0", "-1"]);
        break;
      case 20:
        cmds.push(["EXISTS", key()]);
        break;
      case 21:
        cmds.push(["LINDEX", key(), String(int(-500, 500))]);
        break;
      default:
        if (r() < 0.05) cmds.push(["DEL", key()]);
        else cmds.push(["LLEN", key()]);
    }
  }
  return cmds;
}

Deno.test({
  name: "lists: thousands of random commands answer as redis-server does",
  ignore: !hasRedis,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using a = await Conn.open(redis.port);
    using b = await Conn.open(ours.port);
    for (const seed of [1, 2, 3]) {
      await a.call("FLUSHALL");
      await b.call("FLUSHALL");
      const cmds = randomCommands(seed, 1500);
      for (let i = 0; i < cmds.length; i++) {
        const bytes = encodeCommand(cmds[i]);
        const expected = await a.rawReplies(bytes);
        const actual = await b.rawReplies(bytes);
        if (actual !== expected) {
          assert.fail(
            `seed ${seed}, command ${i}: ${
              cmds[i].join(" ").slice(0, 200)
            }\n got ${JSON.stringify(actual).slice(0, 500)}\n redis said ${
              JSON.stringify(expected).slice(0, 500)
            }`,
          );
        }
      }
    }
  },
});

// --- The structure and the ops at the store level.

/** Random changes to a List and to an array, compared all along; `scale`
 * bounds the pushes and pops of one step (small: the list stays short). */
function modelRun(seed: number, steps: number, scale: number): void {
  const r = rng(seed);
  const list = new List();
  let model: string[] = [];
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  for (let step = 0; step < steps; step++) {
    // Text, and numbers that pack as integers ("317", "4294967295") or not
    // ("05", "-3", "4294967296").
    const pre = () => ["v", "", "", "-", "0", "42949672"][int(0, 5)];
    const v = pre() + int(0, 9) +
      (r() < 0.02 ? "z".repeat(int(200, 70000)) : "");
    switch (int(0, 11)) {
      case 0:
      case 1:
        for (let k = int(1, scale); k > 0; k--) {
          list.pushRight(v + k);
          model.push(v + k);
        }
        break;
      case 2:
        for (let k = int(1, scale); k > 0; k--) {
          list.pushLeft(v + k);
          model.unshift(v + k);
        }
        break;
      case 3:
        for (let k = int(1, scale * 0.75 + 1); k > 0; k--) {
          assert.equal(list.popLeft(), model.shift());
        }
        break;
      case 4:
        for (let k = int(1, scale * 0.75 + 1); k > 0; k--) {
          assert.equal(list.popRight(), model.pop());
        }
        break;
      case 5: {
        const i = int(-model.length - 2, model.length + 2);
        assert.equal(list.at(i), model.at(i));
        break;
      }
      case 6: {
        const i = int(-model.length - 2, model.length + 2);
        const ok = i >= -model.length && i < model.length;
        assert.equal(list.set(i, v), ok);
        if (ok) model[i < 0 ? i + model.length : i] = v;
        break;
      }
      case 7: {
        if (model.length === 0) break;
        const start = int(0, model.length - 1);
        const count = int(0, 300);
        assert.deepEqual(
          list.range(start, count),
          model.slice(start, start + count),
        );
        break;
      }
      case 8: {
        const pivot = pre() + int(0, 9) + int(1, 200);
        const after = r() < 0.5;
        const at = model.indexOf(pivot);
        assert.equal(list.insert(pivot, v, after), at !== -1);
        if (at !== -1) model.splice(after ? at + 1 : at, 0, v);
        break;
      }
      case 9: {
        const target = pre() + int(0, 9) + int(1, 5);
        const count = int(-3, 3);
        let left = count === 0 ? Infinity : Math.abs(count);
        let removed = 0;
        const order = count < 0 ? [...model.keys()].reverse() : model.keys();
        const drop = new Set<number>();
        for (const j of order) {
          if (left > 0 && model[j] === target) {
            drop.add(j);
            left--;
            removed++;
          }
        }
        model = model.filter((_, j) => !drop.has(j));
        assert.equal(list.remove(count, target), removed);
        break;
      }
      case 10: {
        if (model.length === 0) break;
        const start = int(0, Math.min(model.length - 1, scale + 100));
        const stop = int(start, model.length - 1);
        list.trim(start, stop);
        model = model.slice(start, stop + 1);
        break;
      }
      case 11: {
        const target = pre() + int(0, 9) + int(1, 5);
        const rank = int(1, 3) * (r() < 0.5 ? -1 : 1);
        const maxlen = r() < 0.5 ? 0 : int(1, model.length + 1);
        const want: number[] = [];
        let skip = Math.abs(rank) - 1;
        const limit = maxlen === 0 ? model.length : maxlen;
        for (let s = 0; s < Math.min(limit, model.length); s++) {
          const j = rank > 0 ? s : model.length - 1 - s;
          if (model[j] !== target) continue;
          if (skip > 0) skip--;
          else want.push(j);
        }
        assert.deepEqual(list.positions(target, rank, 0, maxlen), want);
        break;
      }
    }
    assert.equal(list.size, model.length);
    if (step % 2000 === 0) assert.deepEqual([...list.values()], model);
  }
  assert.deepEqual([...list.values()], model);
}

Deno.test("lists: the structure matches an array model through random changes", () => {
  modelRun(42, 40_000, 200); // long lists: packed chunks in the middle
  modelRun(7, 40_000, 3); // short lists: one packed chunk
  modelRun(9, 20_000, 12); // around the small-list thresholds
});

Deno.test("lists: ops at the store level, as the commands", () => {
  const store = new Store();
  const l = store.lists;
  assert.equal(l.rpush("k", ["a", "b", "c"]), 3);
  assert.equal(l.lpush("k", ["z", "y"]), 5);
  assert.deepEqual(l.lrange("k", 0, -1), ["y", "z", "a", "b", "c"]);
  assert.equal(l.lpushx("none", ["a"]), 0);
  assert.equal(store.has("none"), false);
  assert.equal(l.rpushx("k", ["d"]), 6);
  assert.equal(l.lpop("k"), "y");
  assert.deepEqual(l.rpop("k", 2), ["d", "c"]);
  assert.deepEqual(l.lpop("k", 0), []);
  assert.equal(l.lpop("none", 0), undefined);
  assert.throws(() => l.lpop("k", -1), /must be positive/);
  assert.equal(l.llen("k"), 3);
  assert.equal(l.lindex("k", -1), "b");
  l.lset("k", 0, "Z");
  assert.throws(() => l.lset("k", 9, "x"), /ERR index out of range/);
  assert.throws(() => l.lset("none", 0, "x"), /ERR no such key/);
  assert.equal(l.linsert("k", "AFTER", "a", "a2"), 4);
  assert.equal(l.linsert("k", "BEFORE", "nope", "x"), -1);
  assert.equal(l.linsert("none", "BEFORE", "a", "x"), 0);
  assert.deepEqual(l.lrange("k", 0, -1), ["Z", "a", "a2", "b"]);
  assert.equal(l.lpos("k", "a2"), 2);
  assert.equal(l.lpos("k", "nope"), undefined);
  assert.deepEqual(l.lpos("k", "a", { count: 0, rank: -1 }), [1]);
  assert.throws(() => l.lpos("k", "a", { rank: 0 }), /RANK can't be zero/);
  assert.equal(l.lrem("k", 0, "a"), 1);
  l.ltrim("k", 1, -1);
  assert.deepEqual(l.lrange("k", 0, -1), ["a2", "b"]);
  assert.equal(l.lmove("k", "k2", "LEFT", "RIGHT"), "a2");
  assert.equal(l.rpoplpush("k", "k2"), "b");
  assert.equal(store.has("k"), false); // emptied: deleted
  assert.deepEqual(l.lrange("k2", 0, -1), ["b", "a2"]);
  assert.deepEqual(l.lmpop(["none", "k2"], "RIGHT", 5), ["k2", ["a2", "b"]]);
  assert.equal(l.lmpop(["none", "k2"], "LEFT"), undefined);
  assert.throws(() => l.lmpop(["k"], "LEFT", 0), /count should be greater/);
  l.rpush("k", ["a"]);
  l.ltrim("k", 1, 0);
  assert.equal(store.has("k"), false);
  assert.equal(store.value("k"), undefined);
  // WRONGTYPE against a string and against another container type.
  store.set("s", "x");
  const hash: Container = {
    type: "hash",
    size: 1,
    clone: () => hash,
    encoding: () => "listpack",
    rewrite: () => [],
  };
  store.set("h", hash);
  for (const k of ["s", "h"]) {
    assert.throws(() => l.lpush(k, ["a"]), /^StoreError: WRONGTYPE/);
    assert.throws(() => l.llen(k), /WRONGTYPE/);
    assert.throws(() => l.lpop(k), /WRONGTYPE/);
  }
  l.rpush("src", ["only"]);
  assert.throws(() => l.lmove("src", "h", "LEFT", "LEFT"), /WRONGTYPE/);
  assert.equal(l.llen("src"), 1); // nothing popped
  assert.equal(store.type("src"), "list");
});

Deno.test("lists: reads count keyspace hits and misses, writes do not", () => {
  const store = new Store();
  const l = store.lists;
  l.rpush("k", ["a", "b"]);
  l.lpushx("none", ["a"]);
  l.lpop("none");
  l.lmove("none", "k", "LEFT", "LEFT");
  l.lmpop(["none", "k"], "LEFT");
  assert.deepEqual([store.stats.hits, store.stats.misses], [0, 0]);
  l.llen("k");
  l.lindex("k", 0);
  l.lrange("k", 0, -1);
  l.lpos("k", "b");
  assert.deepEqual([store.stats.hits, store.stats.misses], [4, 0]);
  l.llen("none");
  l.lrange("none", 0, -1);
  assert.deepEqual([store.stats.hits, store.stats.misses], [4, 2]);
  const dirty = store.dirty;
  l.rpush("k", ["x", "y", "z"]);
  assert.equal(store.dirty, dirty + 3);
  l.lrem("k", 0, "nope");
  l.ltrim("k", 0, -1);
  assert.equal(store.dirty, dirty + 3, "no change, no dirty");
});

Deno.test("lists: OBJECT ENCODING is quicklist at any size, as Redis 7.0", () => {
  const store = new Store();
  for (const n of [1, 128, 129, 10000]) {
    const list = new List(Array.from({ length: n }, (_, i) => String(i)));
    assert.equal(list.encoding(store.limits), "quicklist");
  }
});

Deno.test("lists: elements beyond Latin-1 (embedded use) survive packing", () => {
  const list = new List();
  const values = Array.from({ length: 1000 }, (_, i) => `ключ ${i} ✓`);
  for (const v of values) list.pushRight(v);
  assert.deepEqual([...list.values()], values);
  assert.equal(list.at(500), values[500]);
  assert.deepEqual(list.positions(values[700], 1, 0, 0), [700]);
  assert.equal(list.remove(0, values[600]), 1);
  assert.equal(list.insert(values[601], "новый", false), true);
  assert.equal(list.at(600), "новый");
});

Deno.test("lists: clone() is independent of the original", () => {
  const list = new List();
  for (let i = 0; i < 2000; i++) list.pushRight("e" + i);
  const copy = list.clone();
  list.set(1000, "changed");
  list.pushLeft("front");
  list.popRight();
  list.remove(0, "e5");
  copy.set(10, "copy");
  assert.equal(copy.size, 2000);
  assert.equal(copy.at(1000), "e1000");
  assert.equal(copy.at(-1), "e1999");
  assert.equal(list.at(10), "e10"); // front, e0..e4, e6..
  assert.equal(list.at(1000), "changed");
  assert.deepEqual(
    [...copy.values()],
    Array.from({ length: 2000 }, (_, i) => i === 10 ? "copy" : "e" + i),
  );
});

Deno.test("lists: rewrite() rebuilds the list on a fresh server", async () => {
  const store = new Store();
  const values: string[] = [];
  for (let i = 0; i < 3000; i++) {
    values.push(i % 97 === 0 ? "\x00\xff" + "b".repeat(i) : "e" + i);
  }
  store.lists.rpush("k", values);
  store.lists.lset("k", 1500, "set");
  values[1500] = "set";
  const list = store.value("k") as List;
  const cmds = [...list.rewrite("k", 500)];
  assert.ok(cmds.every((c) => c[0] === "RPUSH" && c.length <= 502));
  await using server = await startServer();
  using c = await Conn.open(server.port);
  for (const cmd of cmds) await c.call(...cmd.map(binaryToBytes));
  assert.deepEqual(await c.call("LRANGE", "k", "0", "-1"), values);
  // The same commands build it on a fresh store through the ops.
  const again = new Store();
  for (const cmd of cmds) again.lists.rpush(cmd[1], cmd.slice(2));
  assert.deepEqual(again.lists.lrange("k", 0, -1), values);
});

Deno.test("lists: a snapshot keeps the list as it was (copy-on-write)", () => {
  const store = new Store();
  const l = store.lists;
  const values = Array.from({ length: 1000 }, (_, i) => "e" + i);
  l.rpush("k", values);
  l.rpush("other", ["x"]);
  {
    using snap = store.snapshot();
    l.lpush("k", ["new"]);
    l.lset("k", 500, "changed");
    l.ltrim("k", 0, 700);
    l.lrem("k", 0, "e3");
    l.lmove("other", "k", "LEFT", "LEFT");
    const seen = new Map(
      snap.next(100).map(([k, v]) => [k, [...(v as List).values()]]),
    );
    assert.deepEqual(seen.get("k"), values);
    assert.deepEqual(seen.get("other"), ["x"]);
  }
  assert.equal(l.llen("k"), 701);
  assert.equal(l.lindex("k", 0), "x");
  assert.equal(store.has("other"), false);
});

Deno.test("lists: a snapshot and the append-only log bring lists back after a restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-list-" });
  try {
    const values = Array.from(
      { length: 2500 },
      (_, i) =>
        i % 5 === 0 ? String(i) : i % 7 === 0 ? "\x00\xff" + i : "e" + i,
    );
    const expect = [...values];
    let moved = "";
    {
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      await c.call("RPUSH", "k", ...values.map(binaryToBytes));
      await c.call("LSET", "k", "1000", "set");
      expect[1000] = "set";
      await c.call("LPUSH", "k", "first");
      expect.unshift("first");
      await c.call("LMOVE", "k", "k2", "RIGHT", "LEFT");
      moved = expect.pop()!;
      await c.call("LREM", "k", "0", "e1");
      expect.splice(expect.indexOf("e1"), 1);
      assert.equal(await c.call("SAVE"), "OK");
    }
    {
      // From the log (which has priority when appendonly is on).
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      assert.deepEqual(await c.call("LRANGE", "k", "0", "-1"), expect);
      assert.deepEqual(await c.call("LRANGE", "k2", "0", "-1"), [moved]);
      // Rewrite the log from the values (List.rewrite), then load it.
      assert.match(String(await c.call("BGREWRITEAOF")), /rewriting/);
      for (let i = 0; i < 100; i++) {
        const info = await c.call("INFO", "persistence") as string;
        if (info.includes("aof_rewrite_in_progress:0")) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
    assert.ok(log.includes("RPUSH") && !log.includes("LSET"), "rewritten");
    {
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      assert.deepEqual(await c.call("LRANGE", "k", "0", "-1"), expect);
      assert.deepEqual(await c.call("LRANGE", "k2", "0", "-1"), [moved]);
    }
    {
      // From the snapshot.
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      assert.deepEqual(await c.call("LRANGE", "k", "0", "-1"), expect);
      assert.deepEqual(await c.call("LRANGE", "k2", "0", "-1"), [moved]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lists: pushes and pops around a chunk boundary stay O(1)", () => {
  for (const size of [128 * 10, 128 * 10 + 1, 128 * 10 - 1, 64 * 21]) {
    for (const left of [false, true]) {
      const list = new List();
      for (let i = 0; i < size; i++) list.pushRight("element:" + i);
      const push = left ? () => list.pushLeft("x") : () => list.pushRight("x");
      const pop = left ? () => list.popLeft() : () => list.popRight();
      const t = performance.now();
      for (let i = 0; i < 50_000; i++) {
        push();
        pop();
        pop();
        push();
        pop();
        push();
        push();
        pop();
      }
      const ms = performance.now() - t;
      assert.equal(list.size, size);
      assert.ok(ms < 1500, `${size} ${left}: ${ms} ms for 400k operations`);
    }
  }
});

// --- Complexity at 1M elements.

Deno.test("lists: 1M elements: O(1) ends, fast index and ranges", () => {
  const store = new Store();
  const l = store.lists;
  const N = 1_000_000;
  let t = performance.now();
  const batch: string[] = new Array(1000);
  for (let i = 0; i < N; i += 1000) {
    for (let j = 0; j < 1000; j++) batch[j] = "element:" + (i + j);
    l.rpush("big", batch);
  }
  const pushMs = performance.now() - t;
  assert.equal(l.llen("big"), N);
  // Index in the middle, from both sides.
  t = performance.now();
  for (let i = 0; i < 1000; i++) {
    const at = N / 2 - 500 + i;
    assert.equal(l.lindex("big", at), "element:" + at);
  }
  const indexMs = performance.now() - t;
  // 100-element ranges at both ends.
  t = performance.now();
  for (let i = 0; i < 1000; i++) {
    assert.equal(l.lrange("big", 0, 99).length, 100);
    assert.equal(l.lrange("big", -100, -1)[99], "element:" + (N - 1));
  }
  const rangeMs = performance.now() - t;
  // Pushes and pops at both ends do not depend on the length.
  t = performance.now();
  for (let i = 0; i < 200_000; i++) {
    l.lpush("big", ["x"]);
    l.rpop("big");
    l.rpush("big", ["y"]);
    l.lpop("big");
  }
  const endsMs = performance.now() - t;
  assert.equal(l.llen("big"), N);
  assert.equal(l.lindex("big", 0), "element:0");
  assert.equal(l.lindex("big", -1), "y");
  assert.equal(l.lindex("big", -2), "element:" + (N - 2));
  // LSET in the middle and LPOS over everything.
  l.lset("big", N / 2, "middle");
  assert.equal(l.lpos("big", "middle"), N / 2);
  t = performance.now();
  let popped = 0;
  while (l.lpop("big", 1000) !== undefined) popped += 1000;
  const popMs = performance.now() - t;
  assert.equal(popped, N);
  assert.equal(store.has("big"), false);
  console.log(
    `1M: push ${pushMs.toFixed(0)} ms, 1000 LINDEX mid ${
      indexMs.toFixed(1)
    } ms, 2000 LRANGE 100 ${rangeMs.toFixed(1)} ms, 800k end ops ${
      endsMs.toFixed(0)
    } ms, pop all ${popMs.toFixed(0)} ms`,
  );
  assert.ok(pushMs < 3000, `push ${pushMs}`);
  assert.ok(indexMs < 500, `index ${indexMs}`);
  assert.ok(rangeMs < 500, `range ${rangeMs}`);
  assert.ok(endsMs < 3000, `ends ${endsMs}`);
  assert.ok(popMs < 3000, `pop ${popMs}`);
});
