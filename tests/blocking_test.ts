// Blocking commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
// BZPOPMAX, BZMPOP, XREAD/XREADGROUP BLOCK, WAIT, CLIENT UNBLOCK. Immediate
// and timeout replies compared byte for byte with redis-server; scenarios
// over several connections run on both servers and compared too.

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";
import {
  Blocking,
  blockingCommands,
  secondsTimeout,
} from "../commands/blocking.ts";
import { ReplyDecoder, ReplyWriter } from "../protocol.ts";
import { writeAll } from "../_io.ts";
import { Store } from "../store.ts";
import type { ClientState, ServerState, Session } from "../commands.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const compat = { ...opts, ignore: !hasRedis };

/** Each case starts from an empty keyspace; every command answers at once
 * (data already there, a short timeout, or an error). */
const CASES: Record<string, Cmd[]> = {
  "blpop and brpop": [
    ["RPUSH", "l", "a", "b", "c"],
    ["BLPOP", "l", "0"],
    ["BRPOP", "l", "0"],
    ["BLPOP", "missing", "l", "1"],
    ["LLEN", "l"],
    ["EXISTS", "l"],
    ["BLPOP", "l", "0.01"],
    ["BRPOP", "l", "l2", "0.02"],
    ["RPUSH", "l2", "x"],
    ["BRPOP", "l", "l2", "0.02"],
    ["BLPOP", "l", "abc"],
    ["BLPOP", "l", "-1"],
    ["BLPOP", "l", "nan"],
    ["BLPOP", "l", "inf"],
    ["BLPOP", "l", "1e30"],
    ["BLPOP", "l", "9223372036854776"],
    ["BLPOP", "l", ""],
    ["BLPOP", "l", " 1"],
    ["BLPOP", "l", "1e-9"],
    ["BLPOP", "l", "0x0.01"],
    ["BLPOP", "l"],
    ["BRPOP"],
    ["SET", "s", "v"],
    ["BLPOP", "s", "0"],
    ["BLPOP", "missing", "s", "0"],
    ["SADD", "set", "m"],
    ["BRPOP", "set", "0"],
  ],
  "blmove and brpoplpush": [
    ["RPUSH", "src", "a", "b", "c"],
    ["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"],
    ["BLMOVE", "src", "dst", "right", "left", "0"],
    ["BRPOPLPUSH", "src", "dst", "0"],
    ["LRANGE", "dst", "0", "-1"],
    ["EXISTS", "src"],
    ["BLMOVE", "src", "dst", "LEFT", "LEFT", "0.01"],
    ["BRPOPLPUSH", "src", "dst", "0.01"],
    ["BLMOVE", "src", "dst", "UP", "LEFT", "0"],
    ["BLMOVE", "src", "dst", "LEFT", "DOWN", "abc"],
    ["BLMOVE", "src", "dst", "LEFT", "LEFT", "abc"],
    ["BLMOVE", "src", "dst", "LEFT", "LEFT", "-2"],
    ["BRPOPLPUSH", "src", "dst", "x"],
    ["SET", "str", "v"],
    ["BLMOVE", "str", "dst", "LEFT", "LEFT", "0"],
    ["BLMOVE", "dst", "str", "LEFT", "LEFT", "0"],
    ["BRPOPLPUSH", "dst", "str", "0"],
    ["BLMOVE", "dst", "dst", "LEFT", "RIGHT", "0"],
    ["LRANGE", "dst", "0", "-1"],
    ["BLMOVE", "src", "dst", "LEFT"],
  ],
  "blmpop": [
    ["RPUSH", "l", "a", "b", "c", "d"],
    ["BLMPOP", "0", "2", "none", "l", "LEFT"],
    ["BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "2"],
    ["BLMPOP", "0", "1", "l", "left", "count", "10"],
    ["BLMPOP", "0.01", "1", "l", "LEFT"],
    ["BLMPOP", "abc", "1", "l", "LEFT"],
    ["BLMPOP", "-1", "1", "l", "LEFT"],
    ["BLMPOP", "0", "0", "l", "LEFT"],
    ["BLMPOP", "0", "-1", "l", "LEFT"],
    ["BLMPOP", "0", "x", "l", "LEFT"],
    ["BLMPOP", "0", "2", "l", "LEFT"],
    ["BLMPOP", "0", "1", "l", "UP"],
    ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "0"],
    ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "-1"],
    ["BLMPOP", "0", "1", "l", "LEFT", "COUNT"],
    ["BLMPOP", "0", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"],
    ["BLMPOP", "0", "1", "l", "LEFT", "extra"],
    ["BLMPOP", "0", "1", "l"],
    ["SET", "s", "v"],
    ["BLMPOP", "0", "1", "s", "LEFT"],
  ],
  "bzpopmin, bzpopmax and bzmpop": [
    ["ZADD", "z", "1", "a", "2.5", "b", "3", "c", "-inf", "d"],
    ["BZPOPMIN", "z", "0"],
    ["BZPOPMAX", "none", "z", "0"],
    ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "5"],
    ["EXISTS", "z"],
    ["BZPOPMIN", "z", "0.01"],
    ["BZPOPMAX", "z", "z2", "0.01"],
    ["BZMPOP", "0.01", "2", "z", "z2", "MAX"],
    ["BZPOPMIN", "z", "abc"],
    ["BZPOPMIN", "z", "-0.5"],
    ["BZMPOP", "0", "1", "z", "LEFT"],
    ["BZMPOP", "0", "0", "z", "MIN"],
    ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "0"],
    ["BZMPOP", "x", "1", "z", "MIN"],
    ["ZADD", "z3", "1", "m", "2", "n"],
    ["BZMPOP", "0", "2", "z", "z3", "max", "count", "1"],
    ["SET", "s", "v"],
    ["BZPOPMIN", "s", "0"],
    ["BZMPOP", "0", "1", "s", "MIN"],
  ],
  "xread and xreadgroup block": [
    ["XADD", "s", "1-1", "f", "v"],
    ["XREAD", "BLOCK", "0", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "10", "STREAMS", "s", "$"],
    ["XREAD", "BLOCK", "10", "COUNT", "1", "STREAMS", "s", "none", "1-1", "0"],
    ["XREAD", "BLOCK", "abc", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "-1", "STREAMS", "s", "0"],
    ["XREAD", "BLOCK", "1.5", "STREAMS", "s", "0"],
    ["XGROUP", "CREATE", "s", "g", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "10", "STREAMS", "s", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "BLOCK", "-5", "STREAMS", "s", ">"],
    ["XREADGROUP", "GROUP", "nog", "c", "BLOCK", "10", "STREAMS", "s", ">"],
    ["SET", "str", "v"],
    ["XREAD", "BLOCK", "10", "STREAMS", "str", "0"],
  ],
  "wait": [
    ["WAIT", "0", "0"],
    ["WAIT", "-1", "0"],
    ["WAIT", "1", "20"],
    ["WAIT", "a", "0"],
    ["WAIT", "0", "a"],
    ["WAIT", "0", "-1"],
    ["WAIT", "0"],
  ],
  "client unblock": [
    ["CLIENT", "UNBLOCK", "999"],
    ["CLIENT", "UNBLOCK", "999", "TIMEOUT"],
    ["CLIENT", "UNBLOCK", "999", "error"],
    ["CLIENT", "UNBLOCK", "999", "foo"],
    ["CLIENT", "UNBLOCK", "abc"],
    ["CLIENT", "UNBLOCK"],
    ["CLIENT", "UNBLOCK", "1", "TIMEOUT", "x"],
  ],
  "blocking commands inside multi answer at once": [
    ["MULTI"],
    ["BLPOP", "l", "0"],
    ["BRPOPLPUSH", "l", "d", "0"],
    ["BLMOVE", "l", "d", "LEFT", "LEFT", "0"],
    ["BLMPOP", "0", "1", "l", "LEFT"],
    ["BZPOPMIN", "z", "0"],
    ["BZMPOP", "0", "1", "z", "MAX"],
    ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
    ["WAIT", "1", "0"],
    ["RPUSH", "l", "a"],
    ["BLPOP", "l", "0"],
    ["EXEC"],
  ],
};

Deno.test("blocking: replies compared with redis-server", compat, async (t) => {
  await compareWithRedis(t, CASES);
});

/** One step of a scenario: send a command on a connection without reading
 * (`send`), read one reply (`read`), both (`call`), or wait until `n`
 * clients are blocked. */
type Step =
  | { send: Cmd; c: number }
  | { read: number; count?: number }
  | { call: Cmd; c: number }
  | { blocked: number }
  | { sleep: number };

async function blockedCount(port: number): Promise<number> {
  using c = await Conn.open(port);
  const info = String(await c.call("INFO", "clients"));
  return Number(/blocked_clients:(\d+)/.exec(info)![1]);
}

/** Waits (at most 10 s) until `n` clients are blocked. */
async function waitBlocked(port: number, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (await blockedCount(port) !== n) {
    if (Date.now() > deadline) throw new Error(`${n} clients never blocked`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Runs a scenario on a server and returns the raw replies read. */
async function scenario(
  port: number,
  steps: Step[],
  resp: 2 | 3,
): Promise<string[]> {
  const conns: Conn[] = [];
  const out: string[] = [];
  try {
    for (let i = 0; i < 4; i++) {
      const c = await Conn.open(port);
      if (resp === 3) await c.call("HELLO", "3");
      conns.push(c);
    }
    await conns[0].call("FLUSHALL");
    for (const step of steps) {
      if ("send" in step) {
        await conns[step.c].send(encodeCommand(step.send));
      } else if ("read" in step) {
        out.push(await conns[step.read].rawReplies("", step.count ?? 1));
      } else if ("call" in step) {
        out.push(await conns[step.c].rawReplies(encodeCommand(step.call)));
      } else if ("blocked" in step) {
        const deadline = Date.now() + 3000;
        while (await blockedCount(port) !== step.blocked) {
          if (Date.now() > deadline) throw new Error("not blocked in time");
          await new Promise((r) => setTimeout(r, 5));
        }
      } else await new Promise((r) => setTimeout(r, step.sleep));
    }
    return out;
  } finally {
    for (const c of conns) c.close();
  }
}

const SCENARIOS: Record<string, Step[]> = {
  "blpop woken by rpush": [
    { send: ["BLPOP", "a", "b", "0"], c: 0 },
    { blocked: 1 },
    { call: ["RPUSH", "b", "x", "y"], c: 1 },
    { read: 0 },
    { call: ["LRANGE", "b", "0", "-1"], c: 1 },
  ],
  "waiters served first come, first served": [
    { send: ["BRPOP", "q", "0"], c: 0 },
    { blocked: 1 },
    { send: ["BLPOP", "q", "0"], c: 1 },
    { blocked: 2 },
    { send: ["BLMPOP", "0", "1", "q", "LEFT", "COUNT", "5"], c: 2 },
    { blocked: 3 },
    { call: ["RPUSH", "q", "1", "2", "3", "4", "5"], c: 3 },
    { read: 0 },
    { read: 1 },
    { read: 2 },
    { call: ["LRANGE", "q", "0", "-1"], c: 3 },
  ],
  "a push in a transaction wakes after exec": [
    { send: ["BLPOP", "q", "0"], c: 0 },
    { blocked: 1 },
    { call: ["MULTI"], c: 1 },
    { call: ["RPUSH", "q", "a"], c: 1 },
    { call: ["RPUSH", "q", "b"], c: 1 },
    { call: ["LPOP", "q"], c: 1 },
    { call: ["EXEC"], c: 1 },
    { read: 0 },
    { call: ["LRANGE", "q", "0", "-1"], c: 1 },
  ],
  "pipelined push then pop: the waiter goes first": [
    { send: ["BLPOP", "q", "0"], c: 0 },
    { blocked: 1 },
    { send: ["RPUSH", "q", "a"], c: 1 },
    { send: ["LPOP", "q"], c: 1 },
    { read: 1, count: 2 },
    { read: 0 },
  ],
  "blmove woken, then a chain through its destination": [
    { send: ["BLMOVE", "src", "mid", "LEFT", "RIGHT", "0"], c: 0 },
    { blocked: 1 },
    { send: ["BRPOP", "mid", "0"], c: 1 },
    { blocked: 2 },
    { call: ["LPUSH", "src", "x"], c: 2 },
    { read: 0 },
    { read: 1 },
    { call: ["EXISTS", "src", "mid"], c: 2 },
  ],
  "brpoplpush woken": [
    { send: ["BRPOPLPUSH", "src", "dst", "0"], c: 0 },
    { blocked: 1 },
    { call: ["RPUSH", "src", "a", "b"], c: 1 },
    { read: 0 },
    { call: ["LRANGE", "dst", "0", "-1"], c: 1 },
    { call: ["LRANGE", "src", "0", "-1"], c: 1 },
  ],
  "bzpopmin, bzpopmax and bzmpop woken by zadd": [
    { send: ["BZPOPMIN", "z", "0"], c: 0 },
    { blocked: 1 },
    { send: ["BZPOPMAX", "z", "0"], c: 1 },
    { blocked: 2 },
    { send: ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "10"], c: 2 },
    { blocked: 3 },
    { call: ["ZADD", "z", "1", "a", "2", "b", "3.5", "c", "4", "d"], c: 3 },
    { read: 0 },
    { read: 1 },
    { read: 2 },
    { call: ["EXISTS", "z"], c: 3 },
  ],
  "a string set on the key does not wake; a list later does": [
    { send: ["BLPOP", "k", "0"], c: 0 },
    { blocked: 1 },
    { call: ["SET", "k", "v"], c: 1 },
    { call: ["DEL", "k"], c: 1 },
    { call: ["RPUSH", "k", "x"], c: 1 },
    { read: 0 },
  ],
  "xread block woken by xadd": [
    { call: ["XADD", "s", "1-1", "f", "old"], c: 3 },
    { send: ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"], c: 0 },
    {
      send: [
        "XREAD",
        "COUNT",
        "1",
        "BLOCK",
        "0",
        "STREAMS",
        "t",
        "s",
        "$",
        "1-1",
      ],
      c: 1,
    },
    { blocked: 2 },
    { call: ["XADD", "s", "2-1", "f", "new"], c: 3 },
    { read: 0 },
    { read: 1 },
  ],
  "xreadgroup block woken by xadd": [
    { call: ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], c: 3 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c1",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 0,
    },
    { blocked: 1 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c2",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 1,
    },
    { blocked: 2 },
    { call: ["XADD", "s", "5-1", "f", "v"], c: 3 },
    { read: 0 },
    { call: ["XADD", "s", "6-1", "f", "w"], c: 3 },
    { read: 1 },
    { call: ["XPENDING", "s", "g"], c: 3 },
  ],
  "xreadgroup ends when its stream or group goes away": [
    { call: ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], c: 3 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 0,
    },
    { blocked: 1 },
    { call: ["DEL", "s"], c: 3 },
    { read: 0 },
    { call: ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], c: 3 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 0,
    },
    { blocked: 1 },
    { call: ["XGROUP", "DESTROY", "s", "g"], c: 3 },
    { read: 0 },
    { call: ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], c: 3 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 0,
    },
    { blocked: 1 },
    { call: ["SET", "s", "x"], c: 3 },
    { read: 0 },
    { send: ["XREAD", "BLOCK", "0", "STREAMS", "s2", "$"], c: 1 },
    { blocked: 1 },
    { call: ["XADD", "s2", "1-1", "a", "b"], c: 3 },
    { call: ["DEL", "s2"], c: 3 },
    { read: 1 },
  ],
  "xreadgroup and blpop after flushall, rename, expiry": [
    { call: ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], c: 3 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 0,
    },
    { blocked: 1 },
    { call: ["RENAME", "s", "s2"], c: 3 },
    { read: 0 },
    { send: ["BLPOP", "l", "0"], c: 1 },
    { blocked: 1 },
    { call: ["RPUSH", "tmp", "a", "b"], c: 3 },
    { call: ["RENAME", "tmp", "l"], c: 3 },
    { read: 1 },
    { send: ["BLPOP", "l2", "0"], c: 1 },
    { blocked: 1 },
    { call: ["RPUSH", "tmp", "c"], c: 3 },
    { call: ["COPY", "tmp", "l2"], c: 3 },
    { read: 1 },
    { call: ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], c: 3 },
    {
      send: [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
      c: 0,
    },
    { blocked: 1 },
    { call: ["FLUSHALL"], c: 3 },
    { call: ["XADD", "s", "1-1", "a", "b"], c: 3 },
    { read: 0 },
  ],
  "timeouts with fractional seconds": [
    { send: ["BLPOP", "q", "0.05"], c: 0 },
    { send: ["BZPOPMIN", "z", "0.02"], c: 1 },
    { send: ["XREAD", "BLOCK", "30", "STREAMS", "s", "$"], c: 2 },
    { read: 0 },
    { read: 1 },
    { read: 2 },
    { call: ["INFO", "nothing"], c: 3 },
  ],
  "commands pipelined after a blocking one wait for it": [
    { send: ["BLPOP", "q", "0"], c: 0 },
    { blocked: 1 },
    { send: ["PING"], c: 0 },
    { sleep: 30 },
    { call: ["RPUSH", "q", "a"], c: 1 },
    { read: 0, count: 2 },
  ],
};

Deno.test(
  "blocking: scenarios on several connections, compared",
  compat,
  async (t) => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const [name, steps] of Object.entries(SCENARIOS)) {
      for (const resp of [2, 3] as const) {
        await t.step(`${name} (RESP${resp})`, async () => {
          const expected = await scenario(redis.port, steps, resp);
          const actual = await scenario(ours.port, steps, resp);
          assert.deepEqual(actual, expected);
        });
      }
    }
  },
);

/** Opens a connection to each server and checks `f` gives the same. */
async function both(
  f: (port: number) => Promise<unknown>,
): Promise<void> {
  await using redis = await RedisServer.start();
  await using ours = await startServer();
  assert.deepEqual(await f(ours.port), await f(redis.port));
}

Deno.test(
  "blocking: CLIENT UNBLOCK, CLIENT LIST flag b, INFO",
  compat,
  async () => {
    await both(async (port) => {
      using a = await Conn.open(port);
      using b = await Conn.open(port);
      const id = await a.call("CLIENT", "ID");
      const replies: unknown[] = [];
      await a.send(encodeCommand(["BLPOP", "q", "0"]));
      await waitBlocked(port, 1);
      const list = String(await b.call("CLIENT", "LIST", "ID", String(id)));
      replies.push(/flags=(\S+)/.exec(list)![1], /cmd=(\S+)/.exec(list)![1]);
      const info = String(await b.call("INFO", "clients"));
      replies.push(/blocked_clients:\d+/.exec(info)![0]);
      replies.push(/clients_in_timeout_table:\d+/.exec(info)![0]);
      replies.push(await b.call("CLIENT", "UNBLOCK", String(id)));
      replies.push(await a.rawReplies("", 1));
      await a.send(encodeCommand(["BZPOPMIN", "z", "100"]));
      await waitBlocked(port, 1);
      const info2 = String(await b.call("INFO", "clients"));
      replies.push(/clients_in_timeout_table:\d+/.exec(info2)![0]);
      replies.push(await b.call("CLIENT", "UNBLOCK", String(id), "ERROR"));
      replies.push(await a.rawReplies("", 1));
      await a.send(encodeCommand(["WAIT", "1", "0"]));
      await waitBlocked(port, 1);
      replies.push(await b.call("CLIENT", "UNBLOCK", String(id), "TIMEOUT"));
      replies.push(await a.rawReplies("", 1));
      replies.push(await b.call("CLIENT", "UNBLOCK", String(id)));
      replies.push(await blockedCount(port));
      return replies;
    });
  },
);

Deno.test(
  "blocking: a blocked client is not closed by --timeout",
  compat,
  async () => {
    await both(async (port) => {
      using a = await Conn.open(port);
      using b = await Conn.open(port);
      await b.call("CONFIG", "SET", "timeout", "1");
      try {
        return [
          await a.call("BLPOP", "q", "2.2"),
          await b.closedWithin(100),
        ];
      } finally {
        using c = await Conn.open(port);
        await c.call("CONFIG", "SET", "timeout", "0");
      }
    });
  },
);

Deno.test("blocking: timeout parsing", () => {
  assert.equal(secondsTimeout("0"), 0);
  assert.equal(secondsTimeout("-0"), 0);
  assert.equal(secondsTimeout("0.0001"), 1);
  assert.equal(secondsTimeout("1.5"), 1500);
  assert.equal(secondsTimeout("0x10"), 16000);
  assert.equal(secondsTimeout("1e1"), 10000);
  assert.throws(() => secondsTimeout("1 "), /not a float/);
  assert.throws(() => secondsTimeout("-inf"), /negative/);
});

Deno.test(
  "blocking: a client that disconnects while blocked is forgotten",
  opts,
  async () => {
    await using server = await startServer();
    const a = await Conn.open(server.port);
    using b = await Conn.open(server.port);
    using c = await Conn.open(server.port);
    await a.send(encodeCommand(["BLPOP", "q", "0"]));
    await c.send(encodeCommand(["BLPOP", "q", "0"]));
    await waitBlocked(server.port, 2);
    a.close();
    const deadline = Date.now() + 2000;
    while (await blockedCount(server.port) !== 1 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(await blockedCount(server.port), 1);
    assert.equal(await b.call("RPUSH", "q", "x", "y"), 2);
    assert.deepEqual(await c.reply(), ["q", "x"]);
    assert.deepEqual(await b.call("LRANGE", "q", "0", "-1"), ["y"]);
    // CLIENT KILL of a blocked client: gone, given nothing.
    using d = await Conn.open(server.port);
    const id = await d.call("CLIENT", "ID");
    await d.send(encodeCommand(["BLPOP", "q2", "0"]));
    await waitBlocked(server.port, 1);
    assert.equal(await b.call("CLIENT", "KILL", "ID", String(id)), 1);
    assert.equal(await b.call("RPUSH", "q2", "z"), 1);
    assert.deepEqual(await b.call("LRANGE", "q2", "0", "-1"), ["z"]);
    assert.equal(await blockedCount(server.port), 0);
  },
);

Deno.test(
  "blocking: many waiters, pushes from several clients, nothing lost, in order",
  opts,
  async () => {
    await using server = await startServer();
    const WAITERS = 40;
    const waiters: Conn[] = [];
    for (let i = 0; i < WAITERS; i++) {
      const c = await Conn.open(server.port);
      await c.send(encodeCommand(["BLPOP", "q", "0"]));
      waiters.push(c);
      // Each is queued before the next: the order of service is known.
      await waitBlocked(server.port, i + 1);
    }
    const pushers: Conn[] = [];
    for (let i = 0; i < 4; i++) pushers.push(await Conn.open(server.port));
    try {
      // 4 pushers, 15 elements each: 40 go to the waiters, 20 stay.
      await Promise.all(pushers.map(async (p, i) => {
        for (let j = 0; j < 15; j++) await p.call("RPUSH", "q", `${i}:${j}`);
      }));
      const got: string[] = [];
      for (const w of waiters) {
        const [key, v] = await w.reply() as [string, string];
        assert.equal(key, "q");
        got.push(v);
      }
      const rest = await pushers[0].call("LRANGE", "q", "0", "-1") as string[];
      const all = [...got, ...rest];
      assert.equal(new Set(all).size, 60);
      // Each pusher's elements come out in the order it pushed them, and the
      // waiters took the first 40 of the list in their order.
      for (let i = 0; i < 4; i++) {
        const mine = all.filter((v) => v.startsWith(`${i}:`));
        assert.deepEqual(
          mine,
          mine.slice().sort((a, b) =>
            Number(a.split(":")[1]) - Number(b.split(":")[1])
          ),
        );
      }
      assert.equal(await blockedCount(server.port), 0);
    } finally {
      for (const c of [...waiters, ...pushers]) c.close();
    }
  },
);

Deno.test(
  "blocking: served pops are logged as their non-blocking forms and replay",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-block-" });
    try {
      {
        await using server = await startServer({ dir, appendonly: true });
        using a = await Conn.open(server.port);
        using b = await Conn.open(server.port);
        const wake = async (cmd: Cmd, push: Cmd) => {
          await a.send(encodeCommand(cmd));
          await waitBlocked(server.port, 1);
          await b.call(...push);
          return await a.reply();
        };
        assert.deepEqual(
          await wake(["BLPOP", "l", "0"], ["RPUSH", "l", "a", "b", "c"]),
          ["l", "a"],
        );
        assert.deepEqual(await a.call("BRPOP", "l", "0"), ["l", "c"]);
        assert.equal(
          await wake(["BLMOVE", "m", "n", "LEFT", "RIGHT", "0"], [
            "RPUSH",
            "m",
            "x",
            "y",
          ]),
          "x",
        );
        assert.deepEqual(
          await wake(["BLMPOP", "0", "1", "p", "RIGHT", "COUNT", "9"], [
            "RPUSH",
            "p",
            "1",
            "2",
            "3",
          ]),
          ["p", ["3", "2", "1"]],
        );
        assert.deepEqual(
          await wake(["BZPOPMAX", "z", "0"], ["ZADD", "z", "1", "a", "2", "b"]),
          ["z", "b", "2"],
        );
        assert.deepEqual(
          await wake(["BZMPOP", "0", "1", "y", "MIN", "COUNT", "5"], [
            "ZADD",
            "y",
            "1",
            "a",
            "3",
            "c",
          ]),
          ["y", [["a", "1"], ["c", "3"]]],
        );
        await b.call("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM");
        await wake([
          "XREADGROUP",
          "GROUP",
          "g",
          "c",
          "BLOCK",
          "0",
          "STREAMS",
          "s",
          ">",
        ], ["XADD", "s", "1-1", "f", "v"]);
        server.persistence.commit();
        const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
        for (
          const cmd of [
            ["LPOP", "l"],
            ["RPOP", "l"],
            ["LMOVE", "m", "n", "LEFT", "RIGHT"],
            ["RPOP", "p", "3"],
            ["ZPOPMAX", "z"],
            ["ZPOPMIN", "y", "2"],
          ]
        ) {
          assert.ok(
            log.includes(new TextDecoder().decode(encodeCommand(cmd))),
            cmd.join(" "),
          );
        }
      }
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      assert.deepEqual(await c.call("LRANGE", "l", "0", "-1"), ["b"]);
      assert.deepEqual(await c.call("LRANGE", "m", "0", "-1"), ["y"]);
      assert.deepEqual(await c.call("LRANGE", "n", "0", "-1"), ["x"]);
      assert.equal(await c.call("EXISTS", "p", "y"), 0);
      assert.deepEqual(await c.call("ZRANGE", "z", "0", "-1"), ["a"]);
      const pending = await c.call("XPENDING", "s", "g") as unknown[];
      assert.equal(pending[0], 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("blocking: ioredis blpop and node-redis blPop", opts, async () => {
  await using server = await startServer();
  using pusher = await Conn.open(server.port);
  const redis = new Redis({
    port: server.port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  try {
    await redis.connect();
    const p = redis.blpop("jobs", 0);
    await waitBlocked(server.port, 1);
    await pusher.call("RPUSH", "jobs", "j1");
    assert.deepEqual(await p, ["jobs", "j1"]);
    assert.equal(await redis.blpop("jobs", 0.05), null);
  } finally {
    redis.disconnect();
  }
  const client = createClient({ url: `redis://127.0.0.1:${server.port}` });
  client.on("error", () => {});
  await client.connect();
  try {
    const p = client.blPop("jobs", 0);
    await waitBlocked(server.port, 1);
    await pusher.call("RPUSH", "jobs", "j2");
    assert.deepEqual(await p, { key: "jobs", element: "j2" });
    assert.equal(await client.blPop("jobs", 0.05), null);
  } finally {
    await client.disconnect();
  }
});

/** A session of a pretend client (embedded use: no connection), its
 * replies in `out`, its logged commands in `fed`. */
function pretendSession(
  store: Store,
  id: number,
  clients: Map<number, ClientState>,
  fed: string[][],
): Session {
  const out = new ReplyWriter(64);
  const client = { id, out, blocked: null } as unknown as ClientState;
  clients.set(id, client);
  const server = {
    clients,
    persistence: { feed: (cmds: string[][]) => fed.push(...cmds) },
    config: { notifyKeyspaceEvents: 0 },
  } as unknown as ServerState;
  return { out, store, client, server, propagate: null };
}

Deno.test("blocking: 20,000 waiters on one list, served one push at a time in linear time", () => {
  const store = new Store();
  const clients = new Map<number, ClientState>();
  const fed: string[][] = [];
  const N = 20_000;
  const sessions: Session[] = [];
  for (let i = 1; i <= N; i++) {
    const s = pretendSession(store, i, clients, fed);
    blockingCommands.blpop(s, ["BLPOP", "q", "0"]);
    sessions.push(s);
  }
  const blocking = Blocking.of(store);
  assert.equal(blocking.count, N);
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    store.lists.rpush("q", [`e${i}`]);
    blocking.flush();
  }
  const ms = performance.now() - start;
  assert.equal(blocking.count, 0);
  assert.equal(store.has("q"), false);
  assert.ok(ms < 2000, `${ms} ms`);
  const text = new TextDecoder();
  for (let i = 0; i < N; i += 997) {
    assert.equal(
      text.decode(sessions[i].out.bytes()),
      `*2\r\n$1\r\nq\r\n$${`e${i}`.length}\r\ne${i}\r\n`,
    );
  }
  assert.equal(fed.length, N);
  assert.deepEqual(fed[5], ["LPOP", "q"]);
});

Deno.test("blocking: embedded waiters are served by writes outside any connection", async () => {
  const store = new Store();
  const clients = new Map<number, ClientState>();
  const fed: string[][] = [];
  const a = pretendSession(store, 1, clients, fed);
  const b = pretendSession(store, 2, clients, fed);
  blockingCommands.bzpopmin(a, ["BZPOPMIN", "z", "0"]);
  blockingCommands.blmove(b, ["BLMOVE", "l", "m", "LEFT", "RIGHT", "0"]);
  const wa = a.client.blocked!;
  assert.deepEqual(wa.keys, ["z"]);
  store.zsets.zadd("z", [["x", 2], ["y", 1]]);
  store.lists.rpush("l", ["v"]);
  await wa.promise; // served by the microtask, no flush called
  assert.equal(a.client.blocked, null);
  const text = new TextDecoder();
  assert.equal(
    text.decode(a.out.bytes()),
    "*3\r\n$1\r\nz\r\n$1\r\ny\r\n$1\r\n1\r\n",
  );
  assert.equal(text.decode(b.out.bytes()), "$1\r\nv\r\n");
  assert.deepEqual(store.lists.lrange("m", 0, -1), ["v"]);
  assert.deepEqual(fed, [["ZPOPMIN", "z"], [
    "LMOVE",
    "l",
    "m",
    "LEFT",
    "RIGHT",
  ]]);
  // CLIENT UNBLOCK's path, and a waiter forgotten.
  blockingCommands.blpop(a, ["BLPOP", "k", "0"]);
  const blocking = Blocking.of(store);
  assert.equal(blocking.unblock(1, true), true);
  assert.equal(blocking.unblock(1, true), false);
  blockingCommands.blpop(b, ["BLPOP", "k", "0"]);
  blocking.cancel(b.client.blocked!);
  assert.equal(blocking.count, 0);
  store.lists.rpush("k", ["x"]);
  blocking.flush();
  assert.deepEqual(store.lists.lrange("k", 0, -1), ["x"]);
});

/** A connection whose replies are read as they come (one read always
 * pending), so a test can ask whether a reply is there yet. */
class LiveConn {
  readonly replies: string[] = [];
  readonly #decoder = new ReplyDecoder({ bulk: "binary" });
  readonly #done: Promise<void>;
  constructor(readonly conn: Deno.TcpConn) {
    this.#done = this.#pump();
  }
  async #pump(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) return;
        this.#decoder.feed(buf.slice(0, n));
        let r;
        while ((r = this.#decoder.next()) !== undefined) {
          this.replies.push(Deno.inspect(r.value, { depth: 9 }));
        }
      }
    } catch {
      // closed
    }
  }
  send(cmd: Cmd): Promise<void> {
    return writeAll(this.conn, encodeCommand(cmd));
  }
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
    await this.#done;
  }
}

/** Waits (at most 10 s) until `cond` holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 1));
  }
}

/** A deterministic generator (mulberry32). */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

Deno.test(
  "blocking: seeded random blocking and writing commands, both servers side by side",
  compat,
  async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const ports = [redis.port, ours.port];
    const BLOCKERS = 3;
    // Per server: 3 connections that may block, then one that writes.
    const conns: LiveConn[][] = [];
    const ids: number[][] = [];
    for (const port of ports) {
      const list: LiveConn[] = [];
      const idList: number[] = [];
      for (let i = 0; i <= BLOCKERS; i++) {
        const c = new LiveConn(
          await Deno.connect({ hostname: "127.0.0.1", port }),
        );
        await c.send(["CLIENT", "ID"]);
        await until(() => c.replies.length > 0, "a reply to CLIENT ID");
        idList.push(Number(c.replies.shift()));
        list.push(c);
      }
      conns.push(list);
      ids.push(idList);
    }
    const next = random(20260603);
    const pick = <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)];
    let streamId = 1;
    const elems = () => {
      const n = 1 + Math.floor(next() * 3);
      return Array.from({ length: n }, () => pick(["a", "b", "c", "d", "e"]));
    };
    const writers: (() => Cmd)[] = [
      () => ["RPUSH", pick(["l1", "l2"]), ...elems()],
      () => ["LPUSH", pick(["l1", "l2"]), ...elems()],
      () => [
        "ZADD",
        "z",
        String(Math.floor(next() * 5)),
        pick(["m", "n", "o"]),
      ],
      () => ["LPOP", pick(["l1", "l2"])],
      () => ["LRANGE", pick(["l1", "l2"]), "0", "-1"],
      () => ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
      () => ["XADD", "s", `${streamId++}-1`, "f", pick(["x", "y"])],
      () => ["DEL", pick(["l1", "l2", "z", "s"])],
      () => ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"],
      () => ["XGROUP", "DESTROY", "s", "g"],
      () => ["XPENDING", "s", "g"],
      () => ["SET", pick(["l1", "z"]), "str"],
      () => ["LMPOP", "2", "l1", "l2", "RIGHT", "COUNT", "2"],
    ];
    const blockers: (() => Cmd)[] = [
      () => ["BLPOP", "l1", "l2", "0"],
      () => ["BRPOP", "l2", "0"],
      () => ["BLMOVE", "l1", "l2", pick(["LEFT", "RIGHT"]), "RIGHT", "0"],
      () => ["BRPOPLPUSH", "l2", "l1", "0"],
      () => ["BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "2"],
      () => ["BZPOPMIN", "z", "0"],
      () => ["BZPOPMAX", "z", "0"],
      () => ["BZMPOP", "0", "1", "z", "MIN", "COUNT", "2"],
      () => ["XREAD", "BLOCK", "0", "STREAMS", "s", "$"],
      () => [
        "XREADGROUP",
        "GROUP",
        "g",
        pick(["c1", "c2"]),
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
      ],
    ];
    /** Waits until every server answered or blocked each pending command. */
    async function settle(pending: number[]): Promise<void> {
      for (let srv = 0; srv < 2; srv++) {
        const deadline = Date.now() + 3000;
        while (true) {
          const control = conns[srv][BLOCKERS];
          const before = control.replies.length;
          await control.send(["CLIENT", "LIST"]);
          await until(
            () => control.replies.length > before,
            "a reply to CLIENT LIST",
          );
          const list = control.replies.pop()!;
          const settled = pending.every((i) =>
            conns[srv][i].replies.length > 0 ||
            new RegExp(`id=${ids[srv][i]} [^\\n]*flags=b`).test(list)
          );
          if (settled) break;
          if (Date.now() > deadline) throw new Error("a server did not settle");
        }
      }
    }
    const waiting = new Set<number>();
    const history: string[] = [];
    try {
      for (let step = 0; step < 400; step++) {
        const free = [...Array(BLOCKERS).keys()].filter((i) => !waiting.has(i));
        let who = BLOCKERS;
        let cmd: Cmd;
        if (free.length > 0 && next() < 0.4) {
          who = pick(free);
          cmd = pick(blockers)();
        } else cmd = pick(writers)();
        history.push(`${who}: ${cmd.join(" ")}`);
        for (let srv = 0; srv < 2; srv++) await conns[srv][who].send(cmd);
        if (who === BLOCKERS) {
          // The writer's reply, then whoever it woke.
          for (let srv = 0; srv < 2; srv++) {
            const c = conns[srv][who];
            const deadline = Date.now() + 3000;
            while (c.replies.length === 0 && Date.now() < deadline) {
              await new Promise((r) => setTimeout(r, 1));
            }
          }
        } else waiting.add(who);
        await settle([...waiting]);
        for (let i = 0; i <= BLOCKERS; i++) {
          const [a, b] = [conns[0][i].replies, conns[1][i].replies];
          assert.deepEqual(
            b,
            a,
            `step ${step} (conn ${i}) after ${history.slice(-12).join(", ")}`,
          );
          if (a.length > 0) waiting.delete(i);
          a.length = 0;
          b.length = 0;
        }
      }
    } finally {
      for (const list of conns) for (const c of list) await c.close();
    }
  },
);

Deno.test(
  "blocking: what a blocked client sends meanwhile runs after it is served",
  opts,
  async () => {
    await using server = await startServer();
    using a = await Conn.open(server.port);
    using b = await Conn.open(server.port);
    await a.send(encodeCommand(["BLPOP", "q", "0"]));
    await waitBlocked(server.port, 1);
    // More than the held buffer's size, in several writes.
    const big = "x".repeat(3000);
    for (let i = 0; i < 3; i++) {
      await a.send(encodeCommand(["RPUSH", "later", `${i}${big}`]));
    }
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(await b.call("EXISTS", "later"), 0);
    await b.call("RPUSH", "q", "v");
    assert.deepEqual(await a.reply(), ["q", "v"]);
    assert.equal(await a.reply(), 1);
    assert.equal(await a.reply(), 2);
    assert.equal(await a.reply(), 3);
    assert.equal(await a.call("LLEN", "later"), 3);
    assert.equal(await a.call("LINDEX", "later", "2"), `2${big}`);
  },
);

Deno.test(
  "blocking: the server closes at once with clients blocked",
  opts,
  async () => {
    const server = await startServer();
    using a = await Conn.open(server.port);
    await a.send(encodeCommand(["BLPOP", "q", "0"]));
    await a.send(encodeCommand(["WAIT", "1", "0"])); // held, runs never
    await waitBlocked(server.port, 1);
    const start = Date.now();
    await server.close();
    assert.ok(Date.now() - start < 1000, `${Date.now() - start} ms`);
    assert.ok(await a.closedWithin(1000));
    assert.equal(Blocking.of(server.store).count, 0);
  },
);
