// Transactions: MULTI/EXEC/DISCARD/WATCH/UNWATCH compared byte for byte
// with redis-server (one and two connections), clients' multi(), a CAS race,
// the append-only log and the replay of a transaction cut short.

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, decoder, RedisServer, startServer } from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";
import { Store } from "../store.ts";

/** Commands as one RESP text. */
const enc = (...cmds: string[][]) =>
  cmds.map((c) => decoder.decode(encodeCommand(c))).join("");

const opts = { sanitizeResources: false, sanitizeOps: false };
const compat = { ...opts, ignore: !hasRedis };

/** A WATCH case: `setup`, WATCH k, `cmd`, then an empty transaction (nil
 * when `cmd` touched k). */
function touchCase(setup: Cmd[], cmd: Cmd): Cmd[] {
  return [...setup, ["WATCH", "k"], cmd, ["MULTI"], ["PING"], ["EXEC"]];
}

const CASES: Record<string, Cmd[]> = {
  "queued and executed": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["INCR", "a"],
    ["GET", "a"],
    ["LPUSH", "l", "x", "y"],
    ["LRANGE", "l", 0, -1],
    ["HSET", "h", "f", "v"],
    ["HGETALL", "h"],
    ["EXEC"],
    ["GET", "a"],
  ],
  "empty transaction": [["MULTI"], ["EXEC"]],
  "runtime errors are elements of the reply": [
    ["SET", "s", "x"],
    ["MULTI"],
    ["INCR", "s"],
    ["LPUSH", "s", "a"],
    ["SET", "t", "1"],
    ["INCRBYFLOAT", "t", "1.5"],
    ["EXEC"],
    ["GET", "t"],
  ],
  "errors outside MULTI": [
    ["EXEC"],
    ["DISCARD"],
    ["WATCH"],
    ["MULTI", "x"],
    ["EXEC", "x"],
    ["DISCARD", "x"],
    ["UNWATCH", "x"],
    ["UNWATCH"],
  ],
  "nested MULTI and WATCH inside MULTI do not abort": [
    ["MULTI"],
    ["MULTI"],
    ["WATCH", "a"],
    ["SET", "a", "1"],
    ["EXEC"],
    ["GET", "a"],
  ],
  "unknown command aborts": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["NOSUCHCOMMAND", "x"],
    ["EXEC"],
    ["GET", "a"],
    ["EXEC"],
  ],
  "arity error aborts": [
    ["MULTI"],
    ["GET"],
    ["SET", "a", "1"],
    ["EXEC"],
    ["GET", "a"],
  ],
  "unknown subcommand aborts": [
    ["MULTI"],
    ["CONFIG", "NOPE"],
    ["EXEC"],
  ],
  "EXEC and DISCARD with arguments inside MULTI abort": [
    ["MULTI"],
    ["EXEC", "x"],
    ["DISCARD", "x"],
    ["MULTI", "x"],
    ["EXEC"],
    ["MULTI"],
    ["WATCH"],
    ["EXEC"],
  ],
  "DISCARD drops the queue": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["DISCARD"],
    ["GET", "a"],
    ["EXEC"],
    ["DISCARD"],
  ],
  "DISCARD forgets watches": [
    ["WATCH", "a"],
    ["MULTI"],
    ["DISCARD"],
    ["SET", "a", "2"],
    ["MULTI"],
    ["GET", "a"],
    ["EXEC"],
  ],
  "RESET leaves MULTI": [
    ["MULTI"],
    ["SET", "a", "1"],
    ["RESET"],
    ["EXEC"],
    ["GET", "a"],
  ],
  "UNWATCH queued runs inside EXEC": [
    ["WATCH", "a"],
    ["MULTI"],
    ["UNWATCH"],
    ["SET", "a", "1"],
    ["EXEC"],
  ],
  "own write invalidates": [
    ["WATCH", "a"],
    ["SET", "a", "1"],
    ["MULTI"],
    ["INCR", "a"],
    ["EXEC"],
    ["GET", "a"],
  ],
  "UNWATCH clears the dirty flag": [
    ["WATCH", "a"],
    ["SET", "a", "1"],
    ["UNWATCH"],
    ["MULTI"],
    ["INCR", "a"],
    ["EXEC"],
  ],
  "WATCH again after a change stays dirty": [
    ["WATCH", "a"],
    ["SET", "a", "1"],
    ["WATCH", "b"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "watched key untouched": [
    ["SET", "a", "1"],
    ["WATCH", "a", "b", "a"],
    ["GET", "a"],
    ["SET", "c", "1"],
    ["DEL", "b"],
    ["MULTI"],
    ["INCR", "a"],
    ["EXEC"],
  ],
  "FLUSHALL touches existing watched keys only": [
    ["SET", "x", "1"],
    ["WATCH", "a"],
    ["FLUSHALL"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["SET", "a", "1"],
    ["WATCH", "a"],
    ["FLUSHDB"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "RENAME touches both keys": [
    ["SET", "a", "1"],
    ["WATCH", "b"],
    ["RENAME", "a", "b"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
    ["WATCH", "b"],
    ["RENAME", "b", "c"],
    ["MULTI"],
    ["PING"],
    ["EXEC"],
  ],
  "RESP3 and the null EXEC": [
    ["WATCH", "a"],
    ["SET", "a", "1"],
    ["MULTI"],
    ["GET", "a"],
    ["HGETALL", "none"],
    ["EXEC"],
  ],
};

// Every kind of write on a watched key (and some that change nothing).
const S = ["SET", "k", "v"];
const L = ["RPUSH", "k", "a", "b"];
const H = ["HSET", "k", "f", "v"];
const Z = ["ZADD", "k", "1", "a"];
const T = ["SADD", "k", "a", "b"];
const X = ["XADD", "k", "1-1", "f", "v"];
const touches: [Cmd[], Cmd][] = [
  [[], ["SET", "k", "v"]],
  [[S], ["SET", "k", "v"]],
  [[S], ["SETNX", "k", "v"]],
  [[S], ["APPEND", "k", ""]],
  [[S], ["APPEND", "k", "x"]],
  [[S], ["SETRANGE", "k", "0", ""]],
  [[S], ["GETDEL", "k"]],
  [[S], ["GETEX", "k", "PERSIST"]],
  [[S], ["GETEX", "k", "EX", "100"]],
  [[S], ["EXPIRE", "k", "100"]],
  [[S], ["EXPIRE", "k", "-1"]],
  [[S, ["EXPIRE", "k", "100"]], ["PERSIST", "k"]],
  [[S], ["PERSIST", "k"]],
  [[S], ["DEL", "k"]],
  [[], ["DEL", "k"]],
  [[S], ["UNLINK", "k"]],
  [[S], ["COPY", "k", "k2"]],
  [[["SET", "k2", "x"]], ["COPY", "k2", "k"]],
  [[S], ["SETBIT", "k", "1", "0"]],
  [[], ["SETBIT", "k", "1", "1"]],
  [[S], ["BITOP", "NOT", "k", "k"]],
  [[S], ["INCR", "k"]],
  [[L], ["LPUSH", "k", "x"]],
  [[L], ["LPOP", "k"]],
  [[L], ["LREM", "k", "0", "zz"]],
  [[L], ["LINSERT", "k", "BEFORE", "zz", "q"]],
  [[L], ["LMOVE", "k", "k", "LEFT", "RIGHT"]],
  [[], ["LPUSHX", "k", "a"]],
  [[H], ["HSET", "k", "f", "v"]],
  [[H], ["HSETNX", "k", "f", "v"]],
  [[H], ["HDEL", "k", "nope"]],
  [[H], ["HDEL", "k", "f"]],
  [[T], ["SADD", "k", "a"]],
  [[T], ["SADD", "k", "c"]],
  [[T], ["SREM", "k", "zz"]],
  [[["SADD", "k", "a"]], ["SPOP", "k"]],
  [[T], ["SMOVE", "k", "k2", "zz"]],
  [[T], ["SINTERSTORE", "k2", "k"]],
  [[T, ["SADD", "k2", "x"]], ["SUNIONSTORE", "k", "k2"]],
  [[T], ["SDIFFSTORE", "k", "nope"]],
  [[Z], ["ZADD", "k", "1", "a"]],
  [[Z], ["ZADD", "k", "2", "a"]],
  [[Z], ["ZADD", "k", "XX", "1", "b"]],
  [[Z], ["ZREM", "k", "zz"]],
  [[Z], ["ZREMRANGEBYSCORE", "k", "5", "6"]],
  [[Z], ["ZPOPMIN", "k"]],
  [[Z], ["ZRANGESTORE", "k2", "k", "0", "-1"]],
  [[Z], ["ZUNIONSTORE", "k", "1", "nope"]],
  [[X], ["XADD", "k", "2-1", "f", "v"]],
  [[X], ["XDEL", "k", "9-9"]],
  [[X], ["XTRIM", "k", "MAXLEN", "5"]],
  [[X], ["XGROUP", "CREATE", "k", "g", "0"]],
  [[X], ["XSETID", "k", "5-5"]],
  [[L], ["SORT", "k", "ALPHA", "STORE", "k"]],
  [[L], ["SORT", "k", "ALPHA", "STORE", "k2"]],
  [[["RPUSH", "k2", "b"]], ["SORT", "k2", "ALPHA", "STORE", "k"]],
  [[S], ["PFADD", "k", "a"]],
  [[["PFADD", "k", "a"]], ["PFADD", "k", "a"]],
  [[["GEOADD", "k", "1", "1", "a"]], ["GEOADD", "k", "1", "1", "a"]],
  [[S], ["RENAME", "k", "k2"]],
  [[S], ["FLUSHALL"]],
  // Redis signals these even when nothing changes (ZINCRBY by 0 it does not).
  [[L], ["LTRIM", "k", "0", "-1"]],
  [[L], ["LSET", "k", "0", "a"]],
  [[H], ["HINCRBY", "k", "n", "0"]],
  [[H], ["HINCRBYFLOAT", "k", "n", "0"]],
  [[Z], ["ZINCRBY", "k", "0", "a"]],
  [[Z], ["ZADD", "k", "1", "a"]],
  [[T], ["SADD", "k", "a"]],
  [[L], ["LREM", "k", "0", "zz"]],
];
for (const [setup, cmd] of touches) {
  CASES[`touch: ${setup.map((c) => c[0]).join(",")} then ${cmd.join(" ")}`] =
    touchCase(setup, cmd);
}

Deno.test("transactions: compared with redis-server", compat, async (t) => {
  await compareWithRedis(t, CASES);
});

type Step = [number, Cmd] | number;

/** Runs steps over several connections (a number: sleep that many ms) and
 * returns each reply's raw bytes. */
async function runScript(port: number, steps: Step[]): Promise<string[]> {
  const conns = [await Conn.open(port), await Conn.open(port)];
  try {
    await conns[0].call("FLUSHALL");
    const out: string[] = [];
    for (const step of steps) {
      if (typeof step === "number") {
        await new Promise((r) => setTimeout(r, step));
        continue;
      }
      out.push(await conns[step[0]].rawReplies(encodeCommand(step[1])));
    }
    return out;
  } finally {
    for (const c of conns) c.close();
  }
}

const SCRIPTS: Record<string, Step[]> = {
  "another client's write invalidates": [
    [0, ["SET", "k", "1"]],
    [0, ["WATCH", "k"]],
    [1, ["SET", "k", "2"]],
    [0, ["MULTI"]],
    [0, ["INCR", "k"]],
    [0, ["EXEC"]],
    [0, ["GET", "k"]],
  ],
  "another client's write to another key does not": [
    [0, ["WATCH", "k"]],
    [1, ["SET", "other", "2"]],
    [1, ["GET", "k"]],
    [0, ["MULTI"]],
    [0, ["SET", "k", "1"]],
    [0, ["EXEC"]],
  ],
  "a write between MULTI and EXEC invalidates": [
    [0, ["WATCH", "k"]],
    [0, ["MULTI"]],
    [0, ["SET", "k", "1"]],
    [1, ["LPUSH", "k", "x"]],
    [0, ["EXEC"]],
    [0, ["TYPE", "k"]],
  ],
  "EXEC is atomic: the other client sees all or nothing": [
    [0, ["MULTI"]],
    [0, ["SET", "a", "1"]],
    [1, ["GET", "a"]],
    [0, ["SET", "b", "2"]],
    [0, ["EXEC"]],
    [1, ["MGET", "a", "b"]],
  ],
  "another client's FLUSHALL": [
    [0, ["SET", "k", "1"]],
    [0, ["WATCH", "k"]],
    [1, ["FLUSHALL"]],
    [0, ["MULTI"]],
    [0, ["EXEC"]],
  ],
  "a key that expires after WATCH fails EXEC": [
    [0, ["SET", "k", "v", "PX", "30"]],
    [0, ["WATCH", "k"]],
    80,
    [0, ["MULTI"]],
    [0, ["EXEC"]],
  ],
  "lazy expiry after WATCH": [
    [0, ["SET", "k", "v", "PX", "30"]],
    [0, ["WATCH", "k"]],
    80,
    [1, ["GET", "k"]],
    [0, ["MULTI"]],
    [0, ["EXEC"]],
  ],
  "a key already expired when watched": [
    [0, ["SET", "k", "v", "PX", "10"]],
    40,
    [0, ["WATCH", "k"]],
    [1, ["GET", "k"]],
    [0, ["MULTI"]],
    [0, ["EXEC"]],
  ],
  "a key already expired when watched, then written": [
    [0, ["SET", "k", "v", "PX", "10"]],
    40,
    [0, ["WATCH", "k"]],
    [1, ["SET", "k", "w"]],
    [0, ["MULTI"]],
    [0, ["EXEC"]],
  ],
  "a key set with a TTL after WATCH": [
    [0, ["WATCH", "k"]],
    [1, ["SET", "k", "v", "PX", "10000"]],
    [0, ["MULTI"]],
    [0, ["EXEC"]],
  ],
};

Deno.test(
  "transactions: two connections compared with redis-server",
  compat,
  async (t) => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const [name, steps] of Object.entries(SCRIPTS)) {
      await t.step(name, async () => {
        const expected = await runScript(redis.port, steps);
        const actual = await runScript(ours.port, steps);
        assert.deepEqual(actual, expected);
      });
    }
  },
);

Deno.test("transactions: NOAUTH while queuing aborts", compat, async () => {
  await using redis = await RedisServer.start(["--requirepass", "pw"]);
  await using ours = await startServer({ requirepass: "pw" });
  const script: Cmd[] = [
    ["MULTI"],
    ["GET", "a"],
    ["AUTH", "pw"],
    ["EXEC"],
    ["MULTI"],
    ["EXEC"],
  ];
  const replies = [];
  for (const port of [redis.port, ours.port]) {
    using c = await Conn.open(port);
    const out = [];
    for (const cmd of script) {
      out.push(await c.rawReplies(encodeCommand(cmd)));
    }
    replies.push(out);
  }
  assert.deepEqual(replies[1], replies[0]);
});

Deno.test("transactions: CLIENT LIST flags and multi", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  const line = async () => {
    const l = String(await c.call("CLIENT", "INFO"));
    return / flags=(\S+) .* multi=(\S+) /.exec(l)!.slice(1);
  };
  assert.deepEqual(await line(), ["N", "-1"]);
  await c.call("WATCH", "k");
  await c.call("SET", "k", "1");
  assert.deepEqual(await line(), ["d", "-1"]);
  await c.call("MULTI");
  await c.call("PING");
  const reply = await c.call("CLIENT", "INFO");
  assert.equal(reply, "QUEUED");
  await c.call("EXEC");
  assert.deepEqual(await line(), ["N", "-1"]);
  await c.call("MULTI");
  await c.call("SET", "a", "1");
  await c.call("CLIENT", "INFO");
  const [, info] = await c.call("EXEC") as [string, string];
  assert.match(info, / flags=x .* multi=2 /);
});

Deno.test("transactions: ioredis and node-redis multi()", opts, async () => {
  await using server = await startServer();
  const redis = new Redis({
    port: server.port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  try {
    await redis.connect();
    const r = await redis.multi().set("a", "1").incr("a").get("a").exec();
    assert.deepEqual(r, [[null, "OK"], [null, 2], [null, "2"]]);
    await redis.watch("a");
    await redis.set("a", "5");
    assert.equal(await redis.multi().incr("a").exec(), null);
    const e = await redis.multi().set("s", "x").incr("s").exec();
    assert.equal(e![0][1], "OK");
    assert.match(String(e![1][0]), /not an integer/);
  } finally {
    redis.disconnect();
  }
  const client = createClient({ url: `redis://127.0.0.1:${server.port}` });
  client.on("error", () => {});
  await client.connect();
  try {
    const r = await client.multi().set("b", "1").incrBy("b", 4).get("b")
      .exec();
    assert.deepEqual(r, ["OK", 5, "5"]);
    await client.watch("b");
    await client.set("b", "0");
    await assert.rejects(client.multi().incr("b").exec(), /WATCH|aborted/i);
  } finally {
    await client.quit();
  }
});

Deno.test("transactions: CAS loops never lose an increment", opts, async () => {
  await using server = await startServer();
  const clients = 8;
  const rounds = 60;
  let successes = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      using c = await Conn.open(server.port);
      for (let i = 0; i < rounds; i++) {
        await c.call("WATCH", "counter");
        const v = Number(await c.call("GET", "counter") ?? 0);
        await c.send(
          enc(["MULTI"], ["SET", "counter", String(v + 1)], ["EXEC"]),
        );
        await c.reply();
        await c.reply();
        const r = await c.reply();
        if (Array.isArray(r)) successes++;
        else assert.equal(r, null);
      }
    }),
  );
  using c = await Conn.open(server.port);
  assert.equal(Number(await c.call("GET", "counter")), successes);
  assert.ok(successes >= rounds, `${successes}`);
  assert.ok(successes < clients * rounds, "some transactions conflicted");
});

Deno.test("transactions: the store signals watched keys", () => {
  let now = 1000;
  const store = new Store({ clock: () => now });
  const seen: boolean[] = [];
  store.watched.set("k", { touched: (exists) => seen.push(exists) });
  store.set("other", "1");
  store.set("k", "1");
  store.setExpireAt("k", 5000);
  store.persist("k");
  store.persist("k"); // no expiry any more: no change
  store.delete("k");
  store.delete("k"); // missing: no change
  store.set("k", "2", { expireAt: 1500 });
  now = 2000;
  store.get("k"); // lazy expiry
  store.set("k", "3");
  store.flush();
  store.flush(); // nothing there
  // In-place changes wait for the command's end: signalled only when it
  // changed something (dirty moved).
  let dirty = store.dirty;
  store.sets.sadd("k", ["a"]); // new key: signalled at once
  store.sets.sadd("k", ["b"]);
  assert.equal(store.touchesPending, true);
  store.settleTouches(store.dirty !== dirty);
  dirty = store.dirty;
  store.sets.sadd("k", ["a"]);
  store.settleTouches(store.dirty !== dirty);
  store.sets.srem("k", ["a", "b"]); // emptied: removed
  assert.deepEqual(seen, [
    true, // set
    true, // expire
    true, // persist
    false, // delete
    true, // set
    false, // lazy expiry
    true, // set
    false, // flush
    true, // sadd: a new key
    true, // sadd: settled (both in-place changes), dirty moved
    true,
    false, // srem: emptied
  ]);
});

Deno.test("transactions: the AOF logs a transaction whole", opts, async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-tx-" });
  try {
    {
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      for (
        const cmd of [
          ["MULTI"],
          ["SET", "a", "1"],
          ["INCR", "a"],
          ["GET", "a"],
          ["LPUSH", "a", "x"],
          ["EXEC"],
          ["MULTI"],
          ["SET", "b", "2"],
          ["EXEC"],
          ["MULTI"],
          ["GET", "b"],
          ["EXEC"],
          ["MULTI"],
          ["SET", "c", "3"],
          ["DISCARD"],
        ]
      ) await c.call(...cmd);
      server.persistence.commit();
    }
    const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
    assert.ok(
      log.endsWith(
        enc(["MULTI"], ["SET", "a", "1"], ["INCR", "a"], ["EXEC"]) +
          enc(["SET", "b", "2"]),
      ),
      JSON.stringify(log),
    );
    await using server = await startServer({ dir, appendonly: true });
    using c = await Conn.open(server.port);
    assert.deepEqual(await c.call("MGET", "a", "b", "c"), ["2", "2", null]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(
  "transactions: a transaction cut short at the end of the AOF is dropped whole",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-tx-" });
    try {
      const good = enc(
        ["SET", "a", "1"],
        ["MULTI"],
        ["SET", "b", "2"],
        ["INCR", "a"],
        ["EXEC"],
      );
      for (
        const tail of [
          enc(["MULTI"], ["SET", "c", "3"], ["INCR", "a"]),
          enc(["MULTI"], ["SET", "c", "3"]) + "*3\r\n$3\r\nSET\r\n$1",
          enc(["MULTI"]),
        ]
      ) {
        await Deno.writeTextFile(`${dir}/appendonly.aof`, good + tail);
        const lines: string[] = [];
        await using server = await startServer({
          dir,
          appendonly: true,
          logSink: (l) => lines.push(l),
        });
        using c = await Conn.open(server.port);
        assert.deepEqual(await c.call("MGET", "a", "b", "c"), [
          "2",
          "2",
          null,
        ]);
        assert.ok(
          lines.some((l) => l.includes("incomplete MULTI/EXEC")),
          lines.join(""),
        );
        // The file was cut back before MULTI; new writes follow, and replay.
        await c.call("SET", "d", "4");
        server.persistence.commit();
        assert.equal(
          await Deno.readTextFile(`${dir}/appendonly.aof`),
          good + enc(["SET", "d", "4"]),
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
