// Client-side caching: CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO
// and the invalidation messages, exchanged over two or three connections
// and compared byte for byte with redis-server in RESP2 and RESP3 (default
// mode, REDIRECT to a subscribed connection, BCAST with prefixes, OPTIN /
// OPTOUT, NOLOOP, FLUSHALL, expiry, MULTI), CLIENT LIST and INFO fields,
// and the table's eviction at its size limit.

import assert from "node:assert/strict";
import { encodeCommand, PushMessage } from "../protocol.ts";
import { type Cmd, hasRedis } from "./_compat.ts";
import { concat, Conn, RedisServer, startServer } from "./_helpers.ts";
import { Tracking } from "../commands/tracking.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

function pushed(v: unknown): unknown {
  assert.ok(v instanceof PushMessage);
  return v.data;
}

/** One step: connection index, then commands (sent in one write; `{id1}`
 * stands for connection 1's id) or null (only read), and how many replies
 * or pushes to read (one number, or [RESP2, RESP3]). Connection -1 sleeps
 * `count` ms; a command "CLOSE" closes the connection. */
type Step = [
  conn: number,
  cmd: Cmd | Cmd[] | null,
  count?: number | [resp2: number, resp3: number],
];

async function runScript(
  port: number,
  steps: Step[],
  resp: 2 | 3,
  conns: number,
): Promise<string[]> {
  const cs: Conn[] = [];
  const ids: number[] = [];
  try {
    for (let i = 0; i < conns; i++) {
      const c = await Conn.open(port);
      cs.push(c);
      if (resp === 3) await c.call("HELLO", "3");
      ids.push(Number(await c.call("CLIENT", "ID")));
    }
    await cs[0].call("FLUSHALL");
    const out: string[] = [];
    const closed = new Set<number>();
    for (const [i, cmd, count] of steps) {
      if (i < 0) {
        await new Promise((r) => setTimeout(r, count as number));
        continue;
      }
      if (cmd !== null && cmd[0] === "CLOSE") {
        cs[i].close();
        closed.add(i);
        continue;
      }
      const list = cmd === null
        ? []
        : Array.isArray(cmd[0])
        ? cmd as Cmd[]
        : [cmd as Cmd];
      const data = concat(list.map((c) =>
        encodeCommand(
          c.map((a) =>
            typeof a === "string"
              ? a.replace(/\{id(\d)\}/g, (_, n) => String(ids[Number(n)]))
              : a
          ),
        )
      ));
      const n = Array.isArray(count) ? count[resp - 2] : count ?? list.length;
      let raw = await cs[i].rawReplies(data, n);
      // Client ids differ between the servers.
      if (cmd === null || /^client$/i.test(String(list[0][0]))) {
        ids.forEach((id, k) => {
          raw = raw.replaceAll(`:${id}\r\n`, `:<id${k}>\r\n`);
        });
      }
      out.push(raw);
    }
    // Nothing else is pending on any connection.
    for (let i = 0; i < cs.length; i++) {
      if (!closed.has(i)) {
        out.push(await cs[i].rawReplies(encodeCommand(["PING"])));
      }
    }
    return out;
  } finally {
    for (const c of cs) c.close();
  }
}

async function compareScripts(
  t: Deno.TestContext,
  cases: Record<string, Step[]>,
  conns = 2,
): Promise<void> {
  await using redis = await RedisServer.start();
  await using ours = await startServer();
  for (const [name, steps] of Object.entries(cases)) {
    for (const resp of [2, 3] as const) {
      await t.step(`${name} (RESP${resp})`, async () => {
        const expected = await runScript(redis.port, steps, resp, conns);
        const actual = await runScript(ours.port, steps, resp, conns);
        for (let i = 0; i < expected.length; i++) {
          assert.equal(
            actual[i],
            expected[i],
            `step ${i} ${JSON.stringify(steps[i])}: got ${
              JSON.stringify(actual[i])
            }, redis said ${JSON.stringify(expected[i])}`,
          );
        }
      });
    }
  }
}

const ON = ["CLIENT", "TRACKING", "ON"];
const PUSH: [number, number] = [0, 1]; // a push only RESP3 gets
const SUB = ["SUBSCRIBE", "__redis__:invalidate"];

const ERRORS: Record<string, Step[]> = {
  "option errors and replies": [
    [0, ["CLIENT", "TRACKING", "on", "optin", "optout"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "optin"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "optin", "optout"]],
    [0, ["CLIENT", "TRACKING", "on", "prefix", "a"]],
    [0, ["CLIENT", "TRACKING", "on", "redirect", "99999"]],
    [0, ["CLIENT", "TRACKING", "on", "redirect", "0"]],
    [0, ["CLIENT", "TRACKING", "on", "redirect", "-1"]],
    [0, ["CLIENT", "TRACKING", "on", "redirect", "x"]],
    [0, ["CLIENT", "TRACKING", "on", "redirect", "{id1}", "redirect", "{id1}"]],
    [0, ["CLIENT", "TRACKING", "on", "redirect"]],
    [0, ["CLIENT", "TRACKING", "on", "prefix"]],
    [0, ["CLIENT", "TRACKING", "maybe"]],
    [0, ["CLIENT", "TRACKING", "on", "foo"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "ab"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab", "prefix", "a"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "prefix", "a", "prefix", "a"]],
    [0, ["CLIENT", "TRACKING"]],
    [0, ["CLIENT", "CACHING", "yes"]],
    [0, ["CLIENT", "CACHING"]],
    [0, ["CLIENT", "GETREDIR"]],
    [0, ["CLIENT", "GETREDIR", "x"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
    [0, ["CLIENT", "TRACKINGINFO", "x"]],
    [0, ["CLIENT", "TRACKING", "off"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
  ],
  "modes, switches and caching": [
    [0, ["CLIENT", "TRACKING", "ON", "optin"]],
    [0, ["CLIENT", "CACHING", "maybe"]],
    [0, ["CLIENT", "CACHING", "no"]],
    [0, ["CLIENT", "CACHING", "YES"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
    [0, ["CLIENT", "TRACKING", "on", "optout"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast"]],
    [0, ["CLIENT", "TRACKING", "on", "noloop", "redirect", "{id1}"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
    [0, ["CLIENT", "GETREDIR"]],
    [0, ["CLIENT", "TRACKING", "off"]],
    [0, ["CLIENT", "TRACKING", "on", "optout"]],
    [0, ["CLIENT", "CACHING", "yes"]],
    [0, ["CLIENT", "CACHING", "no"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
    [0, ["CLIENT", "TRACKING", "off"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "prefix", "b", "prefix", "a"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "prefix", "ab"]],
    [0, ["CLIENT", "TRACKING", "on", "bcast", "prefix", "c", "prefix", "b"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
    [0, ["CLIENT", "TRACKING", "on"]],
    [0, ["CLIENT", "TRACKING", "off"]],
    [0, ["CLIENT", "TRACKING", "off"]],
    [0, ["CLIENT", "GETREDIR"]],
    [0, ["CLIENT", "TRACKINGINFO"]],
  ],
};

const DEFAULT: Record<string, Step[]> = {
  "default mode: keys read are invalidated once": [
    [0, ON],
    [0, ["GET", "a"]],
    [0, ["MGET", "b", "c", "d"]],
    [0, ["HGET", "h", "f"]],
    [1, ["SET", "a", "1"]],
    [0, null, PUSH],
    [1, ["SET", "a", "2"]],
    [1, ["DEL", "c", "d"]], // missing: no change
    [1, ["MSET", "c", "1", "d", "2"]],
    [0, null, [0, 2]],
    [1, ["HSET", "h", "f", "v"]],
    [0, null, PUSH],
    [0, ["GET", "a"]],
    [1, ["APPEND", "a", "x"]],
    [0, null, PUSH],
    [1, ["MSET", "a", "1", "b", "2", "c", "3"]],
    [0, null, PUSH], // b
    [0, ["LRANGE", "l", "0", "-1"]],
    [1, ["RPUSH", "l", "x"]],
    [0, null, PUSH],
    [0, ["ZSCORE", "z", "m"]],
    [1, ["ZADD", "z", "1", "m"]],
    [0, null, PUSH],
  ],
  "default mode: the client's own writes, after the reply": [
    [0, ON],
    [0, ["GET", "x"]],
    [0, ["SET", "x", "1"], [1, 2]],
    [0, ["GET", "x"]],
    [0, [["SET", "x", "2"], ["GET", "y"], ["SET", "y", "3"]], [3, 5]],
    [0, ["GET", "x"]],
    [0, ["MULTI"]],
    [0, ["SET", "x", "1"]],
    [0, ["GET", "x"]],
    [0, ["EXEC"], [1, 2]],
    [1, ["SET", "x", "9"]],
    [0, null, PUSH],
  ],
  "keys of read commands with several key positions": [
    [0, ON],
    [0, ["XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"]],
    [0, ["ZUNION", "2", "z1", "z2"]],
    [0, ["SINTERCARD", "2", "t1", "t2", "LIMIT", "1"]],
    [0, ["LCS", "a", "b"]],
    [0, ["OBJECT", "ENCODING", "o"]],
    [0, ["EXISTS", "e1", "e2"]],
    [0, ["SORT_RO", "so"]],
    [0, ["GET", "wrong"]],
    [1, ["XADD", "s2", "1-1", "f", "v"]],
    [0, null, PUSH],
    [1, ["ZADD", "z2", "1", "m"]],
    [0, null, PUSH],
    [1, ["SADD", "t1", "m"]],
    [0, null, PUSH],
    [1, ["MSET", "b", "x", "o", "y", "e2", "z"]],
    [0, null, [0, 3]],
    [1, ["RPUSH", "so", "1"]],
    [0, null, PUSH],
    [1, ["MSET", "s1", "1", "z1", "1", "t2", "1", "a", "1", "e1", "1"]],
    [0, null, [0, 5]],
    [1, ["RPUSH", "wrong", "1"]],
    [0, null, PUSH],
    [0, ["GET", "wrong"]],
    [1, ["RPUSH", "wrong", "2"]],
    [0, null, PUSH],
    [1, ["RENAME", "wrong", "w2"]],
    [1, ["EXPIRE", "w2", "100"]],
    [1, ["SET", "x", "1"]],
  ],
  "two tracking clients, one key": [
    [0, ON],
    [1, ON],
    [0, ["GET", "k"]],
    [1, ["GET", "k"]],
    [2, ["SET", "k", "1"]],
    [0, null, PUSH],
    [1, null, PUSH],
    [0, ["GET", "k"]],
    [1, ["GET", "k"]],
    [1, ["EXPIRE", "k", "100"], [1, 2]],
    [0, null, PUSH],
    [0, ["GET", "k"]],
    [2, ["PERSIST", "k"]],
    [0, null, PUSH],
    [0, ["GET", "k"]],
    [2, ["RENAME", "k", "k2"]],
    [0, null, PUSH],
  ],
  "NOLOOP": [
    [0, ["CLIENT", "TRACKING", "ON", "NOLOOP"]],
    [0, ["GET", "a"]],
    [0, ["SET", "a", "1"]],
    [0, ["GET", "a"]],
    [1, ["SET", "a", "2"]],
    [0, null, PUSH],
  ],
  "OPTIN and OPTOUT with CLIENT CACHING": [
    [0, ["CLIENT", "TRACKING", "ON", "OPTIN"]],
    [0, ["GET", "a"]],
    [0, ["CLIENT", "CACHING", "YES"]],
    [0, ["GET", "b"]],
    [0, ["GET", "c"]],
    [0, ["CLIENT", "CACHING", "YES"]],
    [0, ["MULTI"]],
    [0, ["GET", "d"]],
    [0, ["GET", "e"]],
    [0, ["EXEC"]],
    [0, ["GET", "f"]],
    [1, ["MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", "6"]],
    [0, null, [0, 3]],
    [0, ["CLIENT", "TRACKING", "OFF"]],
    [0, ["CLIENT", "TRACKING", "ON", "OPTOUT"]],
    [0, ["GET", "a"]],
    [0, ["CLIENT", "CACHING", "NO"]],
    [0, ["GET", "b"]],
    [0, ["GET", "c"]],
    [1, ["MSET", "a", "1", "b", "2", "c", "3"]],
    [0, null, [0, 2]],
  ],
  "FLUSHALL and FLUSHDB: a null invalidation": [
    [0, ON],
    [1, ON],
    [0, ["GET", "a"]],
    [1, ["SET", "a", "1"]],
    [0, null, PUSH],
    [1, ["FLUSHALL"], [1, 2]],
    [0, null, PUSH],
    [0, ["GET", "a"]],
    [1, ["FLUSHDB"], [1, 2]],
    [0, null, PUSH],
    [1, ["SET", "a", "1"]],
  ],
  "expiry invalidates": [
    [0, ON],
    [1, ["SET", "k", "v", "PX", "30"]],
    [0, ["GET", "k"]],
    [-1, null, 120],
    [1, ["GET", "k"]],
    [0, null, PUSH],
  ],
  "RESP2 redirect to a subscribed connection": [
    [1, SUB],
    [0, ["CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"]],
    [0, ["GET", "a"]],
    [0, ["SET", "a", "1"]],
    [1, null, 1],
    [0, ["GET", "a"]],
    [2, ["FLUSHALL"]],
    [1, null, 1],
    [0, ["GET", "b"]],
    [1, ["CLIENT", "GETREDIR"]],
  ],
  "redirect to itself, then subscribed": [
    [0, ["CLIENT", "TRACKING", "ON", "REDIRECT", "{id0}"]],
    [0, ["GET", "a"]],
    [0, SUB],
    [1, ["SET", "a", "1"]],
    [0, null, 1],
  ],
  "redirect to a client that left": [
    [0, ["CLIENT", "TRACKING", "ON", "REDIRECT", "{id1}"]],
    [0, ["GET", "a"]],
    [1, ["CLOSE"]],
    [-1, null, 50],
    [2, ["SET", "a", "1"]],
    [0, null, PUSH],
    [0, ["CLIENT", "TRACKINGINFO"]],
    [0, ["CLIENT", "GETREDIR"]],
  ],
};

const BCAST: Record<string, Step[]> = {
  "BCAST with prefixes": [
    [0, [
      "CLIENT",
      "TRACKING",
      "ON",
      "BCAST",
      "PREFIX",
      "user:",
      "PREFIX",
      "obj:",
    ]],
    [1, ["MSET", "user:2", "a", "obj:1", "b", "other", "c", "user:1", "d"]],
    [0, null, [0, 2]],
    [1, [["SET", "user:b", "1"], ["SET", "user:a", "2"], ["DEL", "user:b"]]],
    [0, null, PUSH],
    [1, ["SET", "other", "1"]],
    [0, ["SET", "obj:x", "1"], [1, 2]],
    [0, ["GET", "user:a"]],
    [1, ["SET", "user:a", "3"]],
    [0, null, PUSH],
  ],
  "BCAST everything, NOLOOP": [
    [0, ["CLIENT", "TRACKING", "ON", "BCAST", "NOLOOP"]],
    [0, ["SET", "a", "1"]],
    [1, ["SET", "b", "1"]],
    [0, null, PUSH],
    [0, ["FLUSHALL"], [1, 2]],
  ],
  "BCAST redirected (RESP2 subscriber)": [
    [1, SUB],
    [0, [
      "CLIENT",
      "TRACKING",
      "ON",
      "BCAST",
      "REDIRECT",
      "{id1}",
      "PREFIX",
      "k",
    ]],
    [0, ["SET", "k1", "1"]],
    [1, null, 1],
    [2, ["DEL", "k1", "x"]],
    [1, null, 1],
  ],
};

Deno.test({
  name: "tracking: errors and modes compared with redis-server",
  ignore: !hasRedis,
  ...opts,
  fn: (t) => compareScripts(t, ERRORS, 2),
});

Deno.test({
  name: "tracking: default mode invalidations compared with redis-server",
  ignore: !hasRedis,
  ...opts,
  fn: (t) => compareScripts(t, DEFAULT, 3),
});

Deno.test({
  name: "tracking: BCAST invalidations compared with redis-server",
  ignore: !hasRedis,
  ...opts,
  fn: (t) => compareScripts(t, BCAST, 3),
});

/** CLIENT LIST's flags and redir, and INFO's tracking fields. */
async function introspect(port: number): Promise<string[]> {
  await using a = await Conn.open(port);
  await using b = await Conn.open(port);
  await a.call("FLUSHALL");
  const idB = Number(await b.call("CLIENT", "ID"));
  const out: string[] = [];
  const fields = async () => {
    const list = String(await a.call("CLIENT", "LIST"));
    const info = String(await a.call("INFO"));
    out.push(
      list.trim().split("\n").map((l) =>
        l.match(/ flags=\S+/)![0] +
        l.match(/ redir=\S+/)![0].replace(String(idB), "B")
      ).join(","),
      info.split("\r\n").filter((l) => l.startsWith("tracking_")).join(","),
    );
  };
  await fields();
  await a.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(idB));
  await a.call("MGET", "x", "y", "z");
  await b.call("CLIENT", "TRACKING", "ON");
  await b.call("GET", "x");
  await fields();
  await a.call("CLIENT", "TRACKING", "ON", "REDIRECT", String(idB));
  await b.call("CLIENT", "TRACKING", "OFF");
  await b.call(
    "CLIENT",
    "TRACKING",
    "ON",
    "BCAST",
    "PREFIX",
    "p",
    "PREFIX",
    "q",
  );
  await fields();
  await b.call("RESET");
  await fields();
  await a.call("SET", "x", "1"); // redirect broken
  await fields();
  return out;
}

Deno.test({
  name: "tracking: CLIENT LIST flags and redir, INFO fields",
  ignore: !hasRedis,
  ...opts,
  fn: async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    assert.deepEqual(await introspect(ours.port), await introspect(redis.port));
  },
});

Deno.test({
  name: "tracking: the table is bounded, evicted keys are invalidated",
  ...opts,
  fn: async () => {
    await using server = await startServer();
    const tracking = Tracking.of(server.store);
    tracking.maxKeys = 10;
    await using a = await Conn.open(server.port);
    // Used instead of maxKeys once the configuration knows it.
    await a.call("CONFIG", "SET", "tracking-table-max-keys", "10");
    await a.call("HELLO", "3");
    await a.call("CLIENT", "TRACKING", "ON");
    for (let i = 0; i < 15; i++) await a.call("GET", `k${i}`);
    // Over the limit after the 11th read: the oldest entries go, each
    // invalidated (after the reply).
    const pushes: unknown[] = [];
    await a.send(encodeCommand(["PING"]));
    while (true) {
      const r = await a.reply();
      if (r === "PONG") break;
      pushes.push(r);
    }
    assert.ok(pushes.length >= 5, `${pushes.length} evictions`);
    assert.ok(tracking.totalKeys <= 10);
    assert.equal(tracking.totalItems, tracking.totalKeys);
    a.close();
    // The tracking client left: the count drops, the hook is removed.
    for (let i = 0; i < 50 && tracking.clients !== 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(tracking.clients, 0);
    assert.equal(server.store.keyModified, null);
  },
});

Deno.test({
  name: "tracking: a large table (200k keys) stays fast",
  ...opts,
  fn: async () => {
    await using server = await startServer();
    await using a = await Conn.open(server.port);
    await using b = await Conn.open(server.port);
    await a.call("HELLO", "3");
    await a.call("CLIENT", "TRACKING", "ON");
    const n = 200_000;
    const start = performance.now();
    for (let i = 0; i < n; i += 1000) {
      const keys = Array.from({ length: 1000 }, (_, j) => `key:${i + j}`);
      await a.call("MGET", ...keys);
    }
    const tracking = Tracking.of(server.store);
    assert.equal(tracking.totalKeys, n);
    await b.call("SET", "key:777", "x");
    assert.deepEqual(pushed(await a.reply()), ["invalidate", ["key:777"]]);
    assert.equal(tracking.totalKeys, n - 1);
    await b.call("FLUSHALL");
    assert.deepEqual(pushed(await a.reply()), ["invalidate", null]);
    assert.equal(tracking.totalKeys, 0);
    assert.ok(performance.now() - start < 10_000);
  },
});

Deno.test({
  name: "tracking: evicted keys are invalidated",
  ...opts,
  fn: async () => {
    await using server = await startServer();
    await using a = await Conn.open(server.port);
    await using b = await Conn.open(server.port);
    await a.call("HELLO", "3");
    const value = "v".repeat(1000);
    for (let i = 0; i < 500; i++) await b.call("SET", `k${i}`, value);
    const info = String(await b.call("INFO", "memory"));
    const used = Number(/used_memory:(\d+)/.exec(info)![1]);
    await a.call("CLIENT", "TRACKING", "ON");
    for (let i = 0; i < 500; i++) await a.call("GET", `k${i}`);
    await b.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random");
    await b.call("CONFIG", "SET", "maxmemory", String(used + 200_000));
    for (let i = 0; i < 1000; i++) await b.call("SET", `n${i}`, value);
    await b.call("CONFIG", "SET", "maxmemory", "0");
    const evicted: string[] = [];
    await a.send(encodeCommand(["PING"]));
    while (true) {
      const r = await a.reply();
      if (r === "PONG") break;
      const [kind, keys] = pushed(r) as [string, string[]];
      assert.equal(kind, "invalidate");
      evicted.push(...keys);
    }
    assert.ok(evicted.length > 0, "some tracked keys were evicted");
    for (const k of evicted) assert.equal(await b.call("EXISTS", k), 0);
  },
});
