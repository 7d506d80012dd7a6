// Numbered databases (issue 15): SELECT, MOVE, SWAPDB, COPY ... DB,
// FLUSHDB/FLUSHALL, INFO keyspace, keyspace notifications, WATCH, blocking
// commands and scripts across databases, compared byte for byte with
// redis-server 7.0 started with 16 databases.

import assert from "node:assert/strict";
import {
  type Cmd,
  compareRecords,
  compareWithRedis,
  hasRedis,
  runCase,
  withConns,
} from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const compat = { ...opts, ignore: !hasRedis };

// --- one connection ----------------------------------------------------------

const CASES: Record<string, Cmd[]> = {
  "SELECT: in range, out of range, not an integer": [
    ["SELECT", "0"],
    ["SELECT", "15"],
    ["SELECT", "16"],
    ["SELECT", "-1"],
    ["SELECT", "x"],
    ["SELECT", String(2 ** 40)],
    ["SELECT", "2147483648"],
    ["SELECT", "-2147483649"],
    ["SELECT", "2147483647"],
    ["SELECT", " 1"],
    ["SELECT", "1 "],
    ["SELECT", "1.0"],
    ["SELECT", "01"],
    ["SELECT", "+1"],
    ["SELECT", ""],
    ["SELECT", "99999999999999999999"],
    ["SELECT"],
    ["SELECT", "1", "2"],
  ],
  "SELECT: a failed SELECT stays in the database": [
    ["SELECT", "4"],
    ["SET", "k", "four"],
    ["SELECT", "16"],
    ["SELECT", "x"],
    ["GET", "k"],
  ],
  "RESET returns to database 0": [
    ["SET", "k", "zero"],
    ["SELECT", "3"],
    ["SET", "k", "three"],
    ["RESET"],
    ["GET", "k"],
    ["SELECT", "3"],
    ["GET", "k"],
  ],
  "keys are separate per database": [
    ["SET", "k", "zero"],
    ["SELECT", "3"],
    ["GET", "k"],
    ["RANDOMKEY"],
    ["SET", "only3", "x"],
    ["RANDOMKEY"],
    ["SET", "k", "three"],
    ["GET", "k"],
    ["DBSIZE"],
    ["KEYS", "*"],
    ["SCAN", "0"],
    ["EXISTS", "k", "only3"],
    ["SELECT", "0"],
    ["GET", "k"],
    ["DBSIZE"],
    ["KEYS", "*"],
    ["SCAN", "0"],
    ["RANDOMKEY"],
    ["EXISTS", "k", "only3"],
    ["SELECT", "5"],
    ["RANDOMKEY"],
    ["DBSIZE"],
    ["SCAN", "0"],
    ["KEYS", "*"],
  ],
  "MOVE: existing, missing, present in the target, errors": [
    ["SET", "a", "1"],
    ["MOVE", "a", "1"],
    ["EXISTS", "a"],
    ["MOVE", "a", "1"],
    ["MOVE", "missing", "1"],
    ["SET", "b", "x"],
    ["SELECT", "1"],
    ["GET", "a"],
    ["SET", "b", "y"],
    ["SELECT", "0"],
    ["MOVE", "b", "1"],
    ["GET", "b"],
    ["MOVE", "b", "0"],
    ["MOVE", "missing", "0"],
    ["MOVE", "b", "16"],
    ["MOVE", "missing", "16"],
    ["MOVE", "b", "-1"],
    ["MOVE", "b", "x"],
    ["MOVE", "b", "1.5"],
    ["MOVE", "b", " 1"],
    ["MOVE", "b", "99999999999"],
    ["MOVE", "b"],
    ["MOVE", "b", "1", "2"],
    ["SELECT", "1"],
    ["GET", "b"],
  ],
  "MOVE keeps the TTL": [
    ["SET", "t", "v", "EX", "1000"],
    ["PEXPIREAT", "t", "99999999999999"],
    ["MOVE", "t", "2"],
    ["TTL", "t"],
    ["SELECT", "2"],
    ["PEXPIRETIME", "t"],
    ["GET", "t"],
    ["SET", "p", "v"],
    ["MOVE", "p", "0"],
    ["SELECT", "0"],
    ["TTL", "p"],
  ],
  "MOVE of every type": [
    ["RPUSH", "l", "a", "b"],
    ["HSET", "h", "f", "v", "g", "w"],
    ["SADD", "s", "m", "1"],
    ["SADD", "i", "1", "2"],
    ["ZADD", "z", "1", "m", "2", "n"],
    ["XADD", "x", "1-1", "f", "v"],
    ["XGROUP", "CREATE", "x", "g", "0"],
    ["PFADD", "p", "a"],
    ["SETBIT", "bits", "9", "1"],
    ["MOVE", "l", "4"],
    ["MOVE", "h", "4"],
    ["MOVE", "s", "4"],
    ["MOVE", "i", "4"],
    ["MOVE", "z", "4"],
    ["MOVE", "x", "4"],
    ["MOVE", "p", "4"],
    ["MOVE", "bits", "4"],
    ["DBSIZE"],
    ["SELECT", "4"],
    ["DBSIZE"],
    ["LRANGE", "l", "0", "-1"],
    ["HGETALL", "h"],
    ["SMEMBERS", "s"],
    ["SMEMBERS", "i"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["XRANGE", "x", "-", "+"],
    ["XINFO", "GROUPS", "x"],
    ["PFCOUNT", "p"],
    ["GETBIT", "bits", "9"],
    ["OBJECT", "ENCODING", "l"],
    ["OBJECT", "ENCODING", "h"],
    ["OBJECT", "ENCODING", "s"],
    ["OBJECT", "ENCODING", "i"],
    ["OBJECT", "ENCODING", "z"],
    ["LPUSH", "l", "c"],
    ["MOVE", "l", "0"],
    ["SELECT", "0"],
    ["LRANGE", "l", "0", "-1"],
  ],
  "SWAPDB: swaps, TTLs follow, errors": [
    ["SET", "a", "0"],
    ["SELECT", "1"],
    ["SET", "b", "1"],
    ["SET", "t", "x", "EX", "500"],
    ["SWAPDB", "0", "1"],
    ["KEYS", "*"],
    ["SELECT", "0"],
    ["KEYS", "*"],
    ["TTL", "t"],
    ["SWAPDB", "0", "0"],
    ["KEYS", "*"],
    ["SWAPDB", "0", "16"],
    ["SWAPDB", "16", "0"],
    ["SWAPDB", "-1", "0"],
    ["SWAPDB", "0", "-1"],
    ["SWAPDB", "x", "0"],
    ["SWAPDB", "0", "x"],
    ["SWAPDB", "x", "y"],
    ["SWAPDB", "1.5", "0"],
    ["SWAPDB", "0", "99999999999"],
    ["SWAPDB", "99999999999", "16"],
    ["SWAPDB", "16", "x"],
    ["SWAPDB", "0"],
    ["SWAPDB", "0", "1", "2"],
    ["SWAPDB", "3", "7"],
    ["DBSIZE"],
    ["SWAPDB", "0", "9"],
    ["DBSIZE"],
    ["SELECT", "9"],
    ["TTL", "t"],
    ["KEYS", "*"],
    ["SWAPDB", "9", "15"],
    ["DBSIZE"],
  ],
  "COPY ... DB": [
    ["SET", "a", "1", "EX", "300"],
    ["COPY", "a", "a"],
    ["COPY", "a", "a", "DB", "0"],
    ["COPY", "a", "a", "DB", "1"],
    ["COPY", "a", "a", "DB", "1"],
    ["COPY", "a", "a", "DB", "1", "REPLACE"],
    ["COPY", "a", "b", "DB", "16"],
    ["COPY", "a", "b", "DB", "-1"],
    ["COPY", "a", "b", "DB", "x"],
    ["COPY", "a", "b", "DB"],
    ["COPY", "a", "b", "DB", "99999999999"],
    ["COPY", "a", "b", "DB", "16", "BOGUS"],
    ["COPY", "a", "b", "DB", "1", "DB", "2"],
    ["COPY", "missing", "b", "DB", "2"],
    ["COPY", "missing", "missing", "DB", "0"],
    ["SELECT", "1"],
    ["TTL", "a"],
    ["GET", "a"],
    ["SET", "a", "other"],
    ["SELECT", "0"],
    ["COPY", "a", "a", "DB", "1"],
    ["COPY", "a", "a", "REPLACE", "DB", "1"],
    ["SELECT", "1"],
    ["GET", "a"],
    ["TTL", "a"],
    ["RPUSH", "l", "x"],
    ["COPY", "l", "l2", "DB", "0"],
    ["LPUSH", "l", "y"],
    ["SELECT", "0"],
    ["LRANGE", "l2", "0", "-1"],
    ["SELECT", "1"],
    ["COPY", "a", "a", "DB", "1"],
    ["COPY", "a", "c"],
    ["SELECT", "2"],
    ["DBSIZE"],
  ],
  "FLUSHDB empties the selected database, FLUSHALL every one": [
    ["SET", "a", "1"],
    ["SELECT", "2"],
    ["SET", "b", "1"],
    ["SET", "c", "1"],
    ["FLUSHDB"],
    ["DBSIZE"],
    ["SET", "b", "1"],
    ["SELECT", "0"],
    ["DBSIZE"],
    ["SELECT", "2"],
    ["DBSIZE"],
    ["FLUSHALL"],
    ["DBSIZE"],
    ["SELECT", "0"],
    ["DBSIZE"],
    ["FLUSHDB", "ASYNC"],
    ["FLUSHALL", "SYNC"],
    ["FLUSHALL", "x"],
  ],
};

Deno.test(
  "databases: replies compared with redis-server",
  compat,
  async (t) => {
    await compareWithRedis(t, CASES, { unordered: ["SCAN", "SMEMBERS"] });
  },
);

Deno.test(
  "databases: FLUSH replies the selected database's count",
  opts,
  async () => {
    await using ours = await startServer();
    using c = await Conn.open(ours.port);
    await c.call("SET", "a", "1");
    await c.call("SET", "b", "1");
    await c.call("SELECT", "7");
    await c.call("MSET", "x", "1", "y", "2", "z", "3");
    assert.equal(await c.call("FLUSH"), 3);
    assert.equal(await c.call("DBSIZE"), 0);
    assert.equal(await c.call("FLUSH"), 0);
    await c.call("SELECT", "0");
    assert.equal(await c.call("DBSIZE"), 2);
    assert.equal(await c.call("FLUSH", "ASYNC"), 2);
    assert.equal(await c.call("DBSIZE"), 0);
  },
);

// --- several connections -----------------------------------------------------

/** One step of a scenario over several connections:
 * - `[i, cmd]`: connection i runs cmd; its raw reply is recorded
 *   (`[i, cmd, n]`: its n replies, SUBSCRIBE's to n channels);
 * - `["sleep", ms]`: waits;
 * - `["send", i, cmd]`: connection i sends cmd without waiting (blocking);
 * - `["reply", i]`: the raw reply connection i was waiting for;
 * - `["blocked", n]`: waits (bounded) until n clients are blocked;
 * - `["messages", i]`: every message connection i received so far (its
 *   pub/sub), up to the reply of a PING sent then
 *   (`["messages", i, end]`: up to the text `end`, sending nothing:
 *   MONITOR). */
type Step =
  | [number, Cmd]
  | [number, Cmd, number]
  | ["sleep", number]
  | ["send", number, Cmd]
  | ["reply", number]
  | ["blocked", number]
  | ["messages", number]
  | ["messages", number, string];

/** The reply to PING of a subscribed connection. */
const PONGS = ["*2\r\n$4\r\npong\r\n$0\r\n\r\n", "+PONG\r\n"];

/** Runs a scenario over `conns` connections after FLUSHALL; returns what
 * each recorded step received, raw. */
async function runSteps(
  port: number,
  steps: Step[],
  resp: 2 | 3,
  conns = 3,
): Promise<string[]> {
  return await withConns(port, conns, resp, async (cs) => {
    await cs[0].call("CONFIG", "SET", "notify-keyspace-events", "");
    const out: string[] = [];
    for (const step of steps) {
      if (step[0] === "send") {
        await cs[step[1]].send(encodeCommand(step[2]));
      } else if (step[0] === "reply") {
        out.push(await cs[step[1]].rawReplies("", 1));
      } else if (step[0] === "sleep") {
        await new Promise((r) => setTimeout(r, step[1]));
      } else if (step[0] === "blocked") {
        await waitBlocked(cs[0], step[1]);
      } else if (step[0] === "messages") {
        const c = cs[step[1]];
        const end = step[2];
        if (end === undefined) await c.send(encodeCommand(["PING"]));
        let raw = "";
        // Bounded: each read waits at most 5 s for more.
        for (let i = 0; i < 1000; i++) {
          raw += await c.rawReplies("", 1);
          if (
            end !== undefined
              ? raw.endsWith(end)
              : PONGS.some((p) => raw.endsWith(p))
          ) break;
        }
        out.push(raw);
      } else {
        const c = cs[step[0]];
        out.push(await c.rawReplies(encodeCommand(step[1]), step[2] ?? 1));
      }
    }
    return out;
  });
}

/** MONITOR lines with their time and the client's address replaced
 * (the database and `lua` stay), and HELLO's id and version. */
function normalizeMonitor(raw: string): string {
  return normalize(raw).replace(
    /\+\d+\.\d{6} \[(\d+) (lua|[\d.]+:\d+)\]/g,
    (_, db, who) => `+T [${db} ${who === "lua" ? who : "ADDR"}]`,
  );
}

/** Waits (bounded) until INFO says `n` clients are blocked. */
async function waitBlocked(c: Conn, n: number): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const info = String(await c.call("INFO", "clients"));
    if (info.includes(`\r\nblocked_clients:${n}\r\n`)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never ${n} blocked clients`);
}

/** Runs each scenario on both servers (RESP2 and RESP3) and compares
 * everything recorded. */
async function compareSteps(
  t: Deno.TestContext,
  scenarios: Record<string, Step[]>,
): Promise<void> {
  await compareRecords(
    t,
    scenarios,
    async (port, steps, resp) =>
      (await runSteps(port, steps, resp)).map(normalizeMonitor),
    (steps, i) => {
      const recorded = steps.filter((s) =>
        s[0] !== "send" && s[0] !== "blocked" && s[0] !== "sleep"
      );
      return `step ${i} ${JSON.stringify(recorded[i])}`;
    },
  );
}

const KEA: Cmd = ["CONFIG", "SET", "notify-keyspace-events", "KEA"];

const NOTIFICATIONS: Record<string, Step[]> = {
  "keyspace and keyevent channels carry the database": [
    [0, KEA],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [2, ["SUBSCRIBE", "__keyspace@3__:k", "__keyevent@3__:set"], 2],
    [0, ["SET", "k", "zero"]],
    [0, ["SELECT", "3"]],
    [0, ["SET", "k", "three"]],
    [0, ["SET", "other", "x"]],
    [0, ["DEL", "k"]],
    ["messages", 1],
    ["messages", 2],
  ],
  "MOVE: move_from in the source, move_to in the target": [
    [0, KEA],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [0, ["SELECT", "2"]],
    [0, ["SET", "k", "v"]],
    [0, ["MOVE", "k", "9"]],
    [0, ["MOVE", "k", "9"]],
    [0, ["SELECT", "9"]],
    [0, ["RPUSH", "l", "a"]],
    [0, ["MOVE", "l", "0"]],
    ["messages", 1],
  ],
  "COPY: copy_to in the target database": [
    [0, KEA],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [0, ["SELECT", "1"]],
    [0, ["SET", "k", "v"]],
    [0, ["COPY", "k", "k", "DB", "6"]],
    [0, ["COPY", "k", "k", "DB", "6"]],
    [0, ["COPY", "k", "k2"]],
    [0, ["COPY", "k", "k", "DB", "6", "REPLACE"]],
    ["messages", 1],
  ],
  "FLUSHDB and SWAPDB send nothing": [
    [0, KEA],
    [0, ["SELECT", "1"]],
    [0, ["SET", "k", "v"]],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [0, ["SWAPDB", "1", "2"]],
    [0, ["FLUSHDB"]],
    [0, ["FLUSHALL"]],
    ["messages", 1],
  ],
  "expired in the key's database (PX in db 5)": [
    [0, KEA],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [0, ["SELECT", "5"]],
    [0, ["SET", "k", "v", "PX", "1"]],
    [0, ["SET", "other", "1"]],
    ["sleep", 30],
    [0, ["GET", "k"]],
    ["messages", 1],
  ],
};

Deno.test(
  "databases: keyspace notifications compared with redis-server",
  compat,
  (t) => compareSteps(t, NOTIFICATIONS),
);

/** Redis's replies that name the client or the server's version, with
 * those replaced, and INFO keyspace's avg_ttl values (they depend on
 * timing). */
function normalize(raw: string): string {
  return raw
    .replace(/\$2\r\nid\r\n:\d+\r\n/, "$2\r\nid\r\n:ID\r\n")
    .replace(/\$7\r\nversion\r\n\$\d+\r\n[\d.]+\r\n/, "$7\r\nversion\r\nV\r\n")
    .replace(/avg_ttl=\d+/g, "avg_ttl=N");
}

Deno.test(
  "databases: CLIENT LIST, CLIENT INFO and HELLO show the database",
  compat,
  async (t) => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const resp of [2, 3] as const) {
      await t.step(`RESP${resp}`, async () => {
        const run = async (port: number) => {
          using c = await Conn.open(port);
          await c.call("FLUSHALL");
          if (resp === 3) await c.call("HELLO", "3");
          const out: string[] = [];
          const db = async (cmd: Cmd) => {
            const text = String(await c.call(...cmd));
            const m = text.match(/ db=\d+ /g);
            out.push(`${cmd.join(" ")}:${m?.join(",")}`);
          };
          await db(["CLIENT", "INFO"]);
          out.push(await c.rawReplies(encodeCommand(["SELECT", "6"])));
          await db(["CLIENT", "INFO"]);
          await db(["CLIENT", "LIST"]);
          const id = String(await c.call("CLIENT", "ID"));
          const text = String(await c.call("CLIENT", "LIST", "ID", id));
          out.push(`CLIENT LIST ID:${text.match(/ db=\d+ /)}`);
          out.push(await c.rawReplies(encodeCommand(["SET", "k", "six"])));
          // HELLO keeps the database.
          for (const v of ["3", "2", String(resp)]) {
            out.push(
              normalize(await c.rawReplies(encodeCommand(["HELLO", v]))),
            );
            out.push(await c.rawReplies(encodeCommand(["GET", "k"])));
            await db(["CLIENT", "INFO"]);
          }
          out.push(await c.rawReplies(encodeCommand(["SELECT", "15"])));
          await db(["CLIENT", "LIST"]);
          out.push(await c.rawReplies(encodeCommand(["RESET"])));
          await db(["CLIENT", "INFO"]);
          return out;
        };
        const expected = await run(redis.port);
        const actual = await run(ours.port);
        assert.ok(expected.includes("CLIENT INFO: db=6 "), String(expected));
        assert.deepEqual(actual, expected);
      });
    }
  },
);

Deno.test(
  "databases: INFO keyspace lists the databases with keys",
  compat,
  async (t) => {
    const cmds: Cmd[] = [
      ["INFO", "keyspace"],
      ["SET", "a", "1"],
      ["SELECT", "3"],
      ["SET", "b", "1", "EX", "100"],
      ["SET", "c", "1"],
      ["HSET", "h", "f", "v"],
      ["PEXPIRE", "h", "50000"],
      ["SELECT", "7"],
      ["SET", "x", "1"],
      ["DEL", "x"],
      ["SELECT", "12"],
      ["SELECT", "15"],
      ["SET", "last", "1"],
      ["INFO", "keyspace"],
      ["SWAPDB", "15", "14"],
      ["MOVE", "last", "0"],
      ["SELECT", "14"],
      ["MOVE", "last", "9"],
      ["INFO", "keyspace"],
      ["FLUSHALL"],
      ["INFO", "keyspace"],
    ];
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const resp of [2, 3] as const) {
      await t.step(`RESP${resp}`, async () => {
        const expected = await runCase(redis.port, cmds, resp);
        const actual = await runCase(ours.port, cmds, resp);
        assert.match(expected[13], /db3:keys=3,expires=2,avg_ttl=\d+/);
        assert.deepEqual(actual.map(normalize), expected.map(normalize));
      });
    }
  },
);

/** WATCH k in database `db` on connection 0. */
const watchIn = (db: number, setup: Cmd[] = []): Step[] => [
  [0, ["SELECT", String(db)]],
  ...setup.map((c): Step => [0, c]),
  [0, ["WATCH", "k"]],
];
/** Connection 0 runs a transaction (nil when a watched key changed) and
 * says where it is. */
const execute: Step[] = [
  [0, ["MULTI"]],
  [0, ["INCR", "n"]],
  [0, ["EXEC"]],
  [0, ["GET", "n"]],
];

const WATCHES: Record<string, Step[]> = {
  "a write in the watched database aborts EXEC": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SELECT", "2"]],
    [1, ["SET", "k", "2"]],
    ...execute,
  ],
  "a write to the same name in database 0 does not": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SET", "k", "2"]],
    [1, ["DEL", "k"]],
    ...execute,
  ],
  "the watch stays in its database after SELECT": [
    ...watchIn(2),
    [0, ["SELECT", "0"]],
    [1, ["SELECT", "2"]],
    [1, ["SET", "k", "2"]],
    ...execute,
    [0, ["SELECT", "2"]],
    [0, ["GET", "n"]],
  ],
  "watching the same name in two databases": [
    ...watchIn(2),
    [0, ["SELECT", "3"]],
    [0, ["WATCH", "k"]],
    [1, ["SELECT", "3"]],
    [1, ["SET", "k", "2"]],
    ...execute,
  ],
  "SWAPDB with the key on the other side aborts": [
    ...watchIn(2),
    [1, ["SELECT", "5"]],
    [1, ["SET", "k", "x"]],
    [1, ["SWAPDB", "2", "5"]],
    ...execute,
    [0, ["GET", "k"]],
  ],
  "SWAPDB with the key on the watched side aborts": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SWAPDB", "5", "2"]],
    ...execute,
  ],
  "SWAPDB with the key on neither side does not": [
    ...watchIn(2, [["SET", "other", "1"]]),
    [1, ["SELECT", "5"]],
    [1, ["SET", "more", "x"]],
    [1, ["SWAPDB", "2", "5"]],
    ...execute,
  ],
  "SWAPDB of other databases does not": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SELECT", "5"]],
    [1, ["SET", "k", "x"]],
    [1, ["SWAPDB", "5", "0"]],
    ...execute,
  ],
  "SWAPDB of a database with itself": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SWAPDB", "2", "2"]],
    ...execute,
  ],
  "MOVE of the watched key out of its database aborts": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SELECT", "2"]],
    [1, ["MOVE", "k", "3"]],
    ...execute,
  ],
  "MOVE into the watched database aborts": [
    ...watchIn(3),
    [1, ["SET", "k", "1"]],
    [1, ["MOVE", "k", "3"]],
    ...execute,
  ],
  "MOVE that fails does not": [
    ...watchIn(3, [["SET", "k", "1"]]),
    [1, ["SET", "k", "1"]],
    [1, ["MOVE", "k", "3"]],
    ...execute,
  ],
  "COPY into the watched database aborts": [
    ...watchIn(3),
    [1, ["SET", "k", "1"]],
    [1, ["COPY", "k", "k", "DB", "3"]],
    ...execute,
  ],
  "FLUSHDB of another database does not, FLUSHALL does": [
    ...watchIn(3, [["SET", "k", "1"]]),
    [1, ["FLUSHDB"]],
    ...execute,
    [0, ["WATCH", "k"]],
    [0, ["SET", "k", "1"]],
    [0, ["UNWATCH"]],
    [0, ["WATCH", "k"]],
    [1, ["FLUSHALL"]],
    ...execute,
  ],
  "MULTI with SELECT inside writes in two databases": [
    [0, ["MULTI"]],
    [0, ["SET", "a", "1"]],
    [0, ["SELECT", "4"]],
    [0, ["SET", "b", "2"]],
    [0, ["GET", "a"]],
    [0, ["SELECT", "99"]],
    [0, ["SELECT", "6"]],
    [0, ["LPUSH", "l", "x"]],
    [0, ["EXEC"]],
    [0, ["GET", "b"]],
    [0, ["LLEN", "l"]],
    [1, ["MGET", "a", "b"]],
    [1, ["SELECT", "4"]],
    [1, ["MGET", "a", "b"]],
    [1, ["SELECT", "6"]],
    [1, ["LLEN", "l"]],
    [1, ["INFO", "keyspace"]],
  ],
  "a SELECT queued in a transaction that aborts changes nothing": [
    ...watchIn(2, [["SET", "k", "1"]]),
    [1, ["SELECT", "2"]],
    [1, ["SET", "k", "2"]],
    [0, ["MULTI"]],
    [0, ["SELECT", "5"]],
    [0, ["SET", "x", "1"]],
    [0, ["EXEC"]],
    [0, ["GET", "k"]],
    [0, ["GET", "x"]],
  ],
};

Deno.test(
  "databases: WATCH across databases compared with redis-server",
  compat,
  (t) => compareSteps(t, WATCHES),
);

const BLOCKING: Record<string, Step[]> = {
  "BLPOP in db 1 is served by a push in db 1, not db 0": [
    [1, ["SELECT", "1"]],
    ["send", 1, ["BLPOP", "l", "0"]],
    ["blocked", 1],
    [0, ["LPUSH", "l", "zero"]],
    ["blocked", 1],
    [0, ["LLEN", "l"]],
    [0, ["SELECT", "1"]],
    [0, ["LPUSH", "l", "one"]],
    ["reply", 1],
    [0, ["LLEN", "l"]],
    [0, ["SELECT", "0"]],
    [0, ["LLEN", "l"]],
  ],
  "BZPOPMIN and BLMOVE in their databases": [
    [1, ["SELECT", "2"]],
    ["send", 1, ["BZPOPMIN", "z", "0"]],
    [2, ["SELECT", "3"]],
    ["send", 2, ["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]],
    ["blocked", 2],
    [0, ["ZADD", "z", "1", "a"]],
    [0, ["RPUSH", "src", "a"]],
    ["blocked", 2],
    [0, ["SELECT", "3"]],
    [0, ["RPUSH", "src", "b"]],
    ["reply", 2],
    [0, ["LRANGE", "dst", "0", "-1"]],
    [0, ["SELECT", "2"]],
    [0, ["ZADD", "z", "2", "b"]],
    ["reply", 1],
  ],
  "SWAPDB bringing a list into the blocked client's database serves it": [
    [1, ["SELECT", "1"]],
    ["send", 1, ["BLPOP", "l", "0"]],
    ["blocked", 1],
    [0, ["RPUSH", "l", "x", "y"]],
    [0, ["SWAPDB", "0", "1"]],
    ["reply", 1],
    [0, ["LRANGE", "l", "0", "-1"]],
    [0, ["SELECT", "1"]],
    [0, ["LRANGE", "l", "0", "-1"]],
  ],
  "SWAPDB bringing a string does not serve a BLPOP": [
    [1, ["SELECT", "1"]],
    ["send", 1, ["BLPOP", "l", "0"]],
    ["blocked", 1],
    [0, ["SET", "l", "x"]],
    [0, ["SWAPDB", "0", "1"]],
    ["blocked", 1],
    [0, ["SELECT", "1"]],
    [0, ["DEL", "l"]],
    [0, ["RPUSH", "l", "z"]],
    ["reply", 1],
  ],
  "SWAPDB bringing a stream serves XREAD": [
    [1, ["SELECT", "4"]],
    ["send", 1, ["XREAD", "BLOCK", "0", "STREAMS", "s", "0-0"]],
    ["blocked", 1],
    [0, ["XADD", "s", "1-1", "f", "v"]],
    [0, ["SWAPDB", "4", "0"]],
    ["reply", 1],
  ],
  "FLUSHALL ends an XREADGROUP wait": [
    [1, ["SELECT", "3"]],
    [1, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
    ["send", 1, [
      "XREADGROUP",
      "GROUP",
      "g",
      "c",
      "BLOCK",
      "0",
      "STREAMS",
      "s",
      ">",
    ]],
    ["blocked", 1],
    [0, ["FLUSHDB"]],
    ["blocked", 1],
    [0, ["FLUSHALL"]],
    ["reply", 1],
  ],
  "FLUSHDB in its database ends an XREADGROUP wait": [
    [1, ["SELECT", "3"]],
    [1, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
    ["send", 1, [
      "XREADGROUP",
      "GROUP",
      "g",
      "c",
      "BLOCK",
      "0",
      "STREAMS",
      "s",
      ">",
    ]],
    ["blocked", 1],
    [0, ["SELECT", "3"]],
    [0, ["FLUSHDB"]],
    ["reply", 1],
  ],
  "SWAPDB taking the stream away ends an XREADGROUP wait": [
    [1, ["SELECT", "3"]],
    [1, ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]],
    ["send", 1, [
      "XREADGROUP",
      "GROUP",
      "g",
      "c",
      "BLOCK",
      "0",
      "STREAMS",
      "s",
      ">",
    ]],
    ["blocked", 1],
    [0, ["SWAPDB", "3", "8"]],
    ["reply", 1],
  ],
  "MOVE of a list into the blocked client's database serves it": [
    [1, ["SELECT", "1"]],
    ["send", 1, ["BLPOP", "l", "0"]],
    ["blocked", 1],
    [0, ["RPUSH", "l", "x"]],
    [0, ["MOVE", "l", "1"]],
    ["reply", 1],
  ],
  "COPY of a list into the blocked client's database serves it": [
    [1, ["SELECT", "1"]],
    ["send", 1, ["BLPOP", "l", "0"]],
    ["blocked", 1],
    [0, ["RPUSH", "l", "x"]],
    [0, ["COPY", "l", "l", "DB", "1"]],
    ["reply", 1],
    [0, ["LLEN", "l"]],
  ],
  "a blocked client in a MULTI's other database": [
    [1, ["SELECT", "5"]],
    ["send", 1, ["BLPOP", "l", "0"]],
    ["blocked", 1],
    [0, ["MULTI"]],
    [0, ["RPUSH", "l", "zero"]],
    [0, ["SELECT", "5"]],
    [0, ["RPUSH", "l", "five"]],
    [0, ["EXEC"]],
    ["reply", 1],
  ],
};

Deno.test(
  "databases: blocking commands across databases compared with redis-server",
  compat,
  (t) => compareSteps(t, BLOCKING),
);

const SELECT3 = "redis.call('SELECT', 3); " +
  "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])";

const SCRIPTS: Record<string, Cmd[]> = {
  "SELECT inside EVAL writes there, the caller stays": [
    ["EVAL", SELECT3, "1", "k", "three"],
    ["GET", "k"],
    ["SELECT", "3"],
    ["GET", "k"],
    ["SELECT", "5"],
    ["SET", "k", "five"],
    ["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"],
    ["EVAL", SELECT3 + " .. redis.call('SELECT', 5)", "1", "k", "x"],
    ["GET", "k"],
    ["EVAL", "redis.call('SELECT', 3) return redis.call('GET', 'k')", "0"],
    ["EVAL", "return redis.pcall('SELECT', 16)", "0"],
    ["EVAL", "return redis.pcall('SELECT', 'x')", "0"],
    ["EVAL", "return redis.call('SELECT', 0)", "0"],
    ["GET", "k"],
    ["EVAL", "redis.call('SELECT', 0); return redis.call('MOVE', 'k', 5)", "0"],
    ["SELECT", "0"],
    [
      "EVAL",
      "redis.call('SET', 'k', 'zero'); return redis.call('MOVE', 'k', 5)",
      "0",
    ],
    ["SELECT", "3"],
    ["EVAL", "return redis.call('SWAPDB', 3, 4)", "0"],
    ["DBSIZE"],
    ["SELECT", "4"],
    ["KEYS", "*"],
  ],
  "SELECT inside EVAL inside MULTI": [
    ["SELECT", "2"],
    ["MULTI"],
    ["EVAL", SELECT3, "1", "k", "v"],
    ["SET", "k", "two"],
    ["SELECT", "7"],
    ["EVAL", "return redis.call('GET', 'k')", "0"],
    ["EXEC"],
    ["SELECT", "2"],
    ["GET", "k"],
    ["SELECT", "3"],
    ["GET", "k"],
  ],
  "FCALL starts in the caller's database": [
    ["FUNCTION", "FLUSH"],
    [
      "FUNCTION",
      "LOAD",
      "#!lua name=dblib\n" +
      "redis.register_function('sel', function(keys, args) " +
      "redis.call('SELECT', tonumber(args[1])); " +
      "return redis.call('GET', keys[1]) end)",
    ],
    ["SET", "k", "zero"],
    ["SELECT", "9"],
    ["SET", "k", "nine"],
    ["FCALL", "sel", "1", "k", "0"],
    ["FCALL", "sel", "1", "k", "9"],
    ["GET", "k"],
    ["FUNCTION", "FLUSH"],
  ],
};

Deno.test(
  "databases: scripts' SELECT compared with redis-server",
  compat,
  (t) => compareWithRedis(t, SCRIPTS),
);

const MORE: Record<string, Step[]> = {
  "MONITOR shows each command's database": [
    [1, ["MONITOR"]],
    [0, ["SET", "k", "zero"]],
    [0, ["SELECT", "4"]],
    [0, ["GET", "k"]],
    [0, [
      "EVAL",
      "redis.call('SELECT', 2); return redis.call('GET', 'k')",
      "0",
    ]],
    [0, ["MULTI"]],
    [0, ["SELECT", "6"]],
    [0, ["SET", "k", "six"]],
    [0, ["EXEC"]],
    [0, ["GET", "k"]],
    [0, ["FCALL", "nosuchfunction", "0"]],
    [0, ["ECHO", "end"]],
    ["messages", 1, '"ECHO" "end"\r\n'],
  ],
  "client-side caching: a write in any database invalidates the name": [
    // [1, GET, 2]: the invalidation, then the reply.
    [1, ["HELLO", "3"]],
    [1, ["CLIENT", "TRACKING", "ON"]],
    [1, ["SELECT", "9"]],
    [1, ["GET", "k"]],
    [0, ["SELECT", "9"]],
    [0, ["SET", "k", "nine"]],
    [1, ["GET", "k"], 2],
    [0, ["SELECT", "2"]],
    [0, ["SET", "k", "two"]],
    [1, ["GET", "k"], 2],
    [0, ["MOVE", "k", "3"]],
    [1, ["GET", "k"], 2],
    [0, ["SWAPDB", "9", "3"]],
    [1, ["GET", "k"]],
    [0, ["FLUSHALL"]],
    [1, ["PING"], 2],
  ],
  // One key with a TTL each: the active expiry's order is the servers'.
  "MOVE of a key past its TTL": [
    [0, KEA],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [0, ["SELECT", "5"]],
    [0, ["SET", "k", "v", "PX", "1"]],
    [0, ["SET", "other", "1"]],
    ["sleep", 30],
    [0, ["MOVE", "k", "6"]],
    [0, ["SELECT", "6"]],
    [0, ["DBSIZE"]],
    ["messages", 1],
  ],
  "COPY of a key past its TTL": [
    [0, KEA],
    [1, ["PSUBSCRIBE", "__key*@*__:*"]],
    [0, ["SELECT", "5"]],
    [0, ["SET", "c", "v", "PX", "1"]],
    [0, ["SET", "other", "1"]],
    ["sleep", 30],
    [0, ["COPY", "c", "c", "DB", "6"]],
    [0, ["SELECT", "6"]],
    [0, ["DBSIZE"]],
    ["messages", 1],
  ],
};

Deno.test(
  "databases: MONITOR, tracking and expired keys compared with redis-server",
  compat,
  (t) => compareSteps(t, MORE),
);
