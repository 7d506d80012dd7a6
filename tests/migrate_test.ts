// MIGRATE: our server as a client of the target. Beside redis-server 7.0
// doing the same MIGRATE (replies byte for byte, and the bytes each sends
// to a target: AUTH, SELECT only when the database changes on a cached
// connection, RESTORE pipelines, the retry after a closed connection);
// our server -> redis-server for every type and option, -> our server,
// redis-server -> our server (RESTORE, and RESTORE-ASKING from a cluster
// node); the calling client waits while others are served, and a key
// changed during the migration stays; and `redis-cli --cluster import`
// from our server into a 3-node Redis Cluster. Every process is stopped in
// a finally block (`await using`), even when a test fails.

import assert from "node:assert/strict";
import { keySlot } from "../_cluster.ts";
import { encodeCommand, RequestDecoder, type RespValue } from "../protocol.ts";
import { type Cmd, hasRedis } from "./_compat.ts";
import { RedisCluster } from "./_cluster.ts";
import {
  Conn,
  has,
  RedisServer,
  run,
  startServer,
  withDir,
} from "./_helpers.ts";

const opts = {
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !hasRedis,
};

const range = <T>(n: number, f: (i: number) => T): T[] =>
  Array.from({ length: n }, (_, i) => f(i));

/** Waits (bounded) until `ok()` holds. */
async function until(
  ok: () => boolean | Promise<boolean>,
  what: string,
  ms = 10_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A key of every type (and encoding) under `p`: the commands that make
 * them. Values small enough that both servers' DUMP payloads are the same
 * bytes where `small` is set. */
function everyType(p: string, small = false): Cmd[] {
  const cmds: Cmd[] = [
    ["SET", `${p}str`, "hello"],
    ["SET", `${p}int`, "-12345"],
    ["RPUSH", `${p}list`, "a", "bb", "1", "-3", "300"],
    ["HSET", `${p}hash`, "f", "v", "n", "12"],
    ["SADD", `${p}intset`, "1", "2", "70000"],
    ["ZADD", `${p}zset`, "1", "a", "2.5", "b"],
    ["SETBIT", `${p}bits`, 100, 1],
  ];
  if (small) return cmds;
  return [
    ...cmds,
    ["SADD", `${p}set`, "a", "b", "c"],
    ["SET", `${p}long`, "abcdefgh".repeat(500)],
    ["RPUSH", `${p}biglist`, ...range(2000, (i) => `element:${i}`)],
    [
      "HSET",
      `${p}bighash`,
      ...range(400, (i) => `f${i}`).flatMap((f) => [f, f]),
    ],
    ["SADD", `${p}bigset`, ...range(600, (i) => `m${i}`)],
    [
      "ZADD",
      `${p}bigzset`,
      ...range(300, (i) => [String(i / 3), `z${i}`]).flat(),
    ],
    ["PFADD", `${p}hll`, "a", "b", "c"],
    ["XADD", `${p}stream`, "1-1", "a", "1"],
    ["XADD", `${p}stream`, "2-1", "b", "2", "c", "3"],
    ["XGROUP", "CREATE", `${p}stream`, "g", "0"],
    [
      "XREADGROUP",
      "GROUP",
      "g",
      "c1",
      "COUNT",
      "1",
      "STREAMS",
      `${p}stream`,
      ">",
    ],
    ["SET", `${p}ttl`, "soon", "PX", "600000"],
    ["RPUSH", `${p}ttllist`, "x"],
    ["PEXPIRE", `${p}ttllist`, "500000"],
  ];
}

/** The keys `cmds` make. */
function keysOf(cmds: Cmd[]): string[] {
  const keys = new Set<string>();
  for (const cmd of cmds) {
    const name = String(cmd[0]).toUpperCase();
    const key = name === "XGROUP"
      ? cmd[2]
      : name === "XREADGROUP"
      ? undefined
      : cmd[1];
    if (key !== undefined) keys.add(String(key));
  }
  return [...keys];
}

async function runAll(c: Conn, cmds: Cmd[]): Promise<void> {
  for (const cmd of cmds) {
    const r = await c.call(...cmd);
    assert.ok(!(r instanceof Error), `${cmd.join(" ")}: ${r}`);
  }
}

/** A key's type and content, in a form that does not depend on a hash
 * table's order, and its TTL (-1 without, else the ms left). */
async function readKey(
  c: Conn,
  key: string,
): Promise<{ value: string; pttl: number }> {
  const type = await c.call("TYPE", key) as string;
  let value: RespValue;
  const sorted = (v: RespValue) => (v as string[]).slice().sort();
  const pairs = (v: RespValue) => {
    const a = v as string[];
    const out: string[] = [];
    for (let i = 0; i < a.length; i += 2) out.push(`${a[i]}=${a[i + 1]}`);
    return out.sort();
  };
  switch (type) {
    case "string":
      value = await c.call("GET", key);
      break;
    case "list":
      value = await c.call("LRANGE", key, 0, -1);
      break;
    case "hash":
      value = pairs(await c.call("HGETALL", key));
      break;
    case "set":
      value = sorted(await c.call("SMEMBERS", key));
      break;
    case "zset":
      value = await c.call("ZRANGE", key, 0, -1, "WITHSCORES");
      break;
    case "stream":
      value = [
        await c.call("XRANGE", key, "-", "+"),
        await c.call("XINFO", "STREAM", key, "FULL"),
      ];
      break;
    default:
      value = null;
  }
  return {
    value: `${type}:${JSON.stringify(value)}`,
    pttl: Number(await c.call("PTTL", key)),
  };
}

/** The TTL carried over: none stays none; else at most what the source
 * had, and not gone (a generous bound, not a timing one). */
function sameTtl(got: number, source: number, key: string): void {
  if (source < 0) assert.equal(got, source, `${key}: TTL`);
  else {
    assert.ok(got > 0 && got <= source, `${key}: TTL ${got} (was ${source})`);
    assert.ok(got > source - 60_000, `${key}: TTL ${got} (was ${source})`);
  }
}

/** Sets `cmds` up on `source`, MIGRATEs them with `migrate` (the keys go
 * after KEYS), and checks each landed on `target` as it was, with its TTL,
 * and is gone from the source (unless COPY). */
async function moveAll(
  source: Conn,
  target: Conn,
  cmds: Cmd[],
  migrate: Cmd,
  db = 0,
): Promise<void> {
  await runAll(source, cmds);
  const keys = keysOf(cmds);
  const before = new Map<string, { value: string; pttl: number }>();
  for (const key of keys) before.set(key, await readKey(source, key));
  assert.equal(await source.call(...migrate, "KEYS", ...keys), "OK");
  const copy = migrate.some((a) => String(a).toUpperCase() === "COPY");
  await target.call("SELECT", db);
  for (const key of keys) {
    const was = before.get(key)!;
    const got = await readKey(target, key);
    assert.equal(got.value, was.value, key);
    sameTtl(got.pttl, was.pttl, key);
    assert.equal(await source.call("EXISTS", key), copy ? 1 : 0, key);
  }
}

// ---------------------------------------------------------------------------
// Replies beside redis-server

/** One scenario: on `source` with targets of the given ports, the raw
 * replies of MIGRATE and of reads on source and target. */
type Scenario = (
  source: Conn,
  targets: { plain: number; auth: number; closed: number },
  record: (c: Conn, cmd: Cmd) => Promise<void>,
  target: Conn,
) => Promise<void>;

const SCENARIOS: Record<string, Scenario> = {
  "a single key, then NOKEY": async (s, t, rec, target) => {
    await s.call("SET", "k", "v");
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k", 0, 5000]);
    await rec(s, ["EXISTS", "k"]);
    await rec(target, ["GET", "k"]);
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k", 0, 5000]);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.plain,
      "",
      0,
      5000,
      "KEYS",
      "x",
      "y",
    ]);
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "", 0, 5000, "KEYS"]);
  },
  "KEYS of every type, COPY keeps the source": async (s, t, rec, target) => {
    const cmds = everyType("");
    await runAll(s, cmds);
    const keys = keysOf(cmds);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.plain,
      "",
      0,
      5000,
      "COPY",
      "KEYS",
      ...keys,
      "missing",
    ]);
    await rec(s, ["EXISTS", ...keys]);
    await rec(target, ["EXISTS", ...keys]);
    await rec(target, ["LRANGE", "biglist", 0, 5]);
    // (FULL would show delivery times, which differ between the runs.)
    await rec(target, ["XINFO", "GROUPS", "stream"]);
    await rec(target, ["XRANGE", "stream", "-", "+"]);
    // Without REPLACE the target's error comes back; the keys stay.
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "str", 0, 5000]);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.plain,
      "",
      0,
      5000,
      "KEYS",
      ...keys,
    ]);
    await rec(s, ["EXISTS", ...keys]);
    // REPLACE over them: moved, gone here.
    await s.call("SET", "str", "new");
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.plain,
      "",
      0,
      5000,
      "REPLACE",
      "KEYS",
      ...keys,
    ]);
    await rec(s, ["EXISTS", ...keys]);
    await rec(target, ["GET", "str"]);
  },
  "destination database 3, and one out of range": async (s, t, rec, target) => {
    await s.call("SET", "k", "v");
    await s.call("SET", "k2", "v2");
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k", 3, 5000, "COPY"]);
    await rec(target, ["EXISTS", "k"]);
    await rec(target, ["SELECT", 3]);
    await rec(target, ["GET", "k"]);
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k2", 99, 5000]);
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k2", -1, 5000]);
    await rec(s, ["EXISTS", "k2"]);
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k2", 3, 5000]);
    await rec(target, ["GET", "k2"]);
  },
  "AUTH and AUTH2": async (s, t, rec) => {
    await s.call("SET", "k", "v");
    await rec(s, ["MIGRATE", "127.0.0.1", t.auth, "k", 0, 5000, "COPY"]);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.auth,
      "k",
      0,
      5000,
      "COPY",
      "AUTH",
      "wrong",
    ]);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.auth,
      "k",
      0,
      5000,
      "COPY",
      "AUTH",
      "secret",
    ]);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.auth,
      "k",
      1,
      5000,
      "COPY",
      "AUTH2",
      "mover",
      "nope",
    ]);
    await rec(s, [
      "MIGRATE",
      "127.0.0.1",
      t.auth,
      "k",
      1,
      5000,
      "AUTH2",
      "mover",
      "pass",
    ]);
    await rec(s, ["EXISTS", "k"]);
  },
  "syntax and argument errors": async (s, t, rec) => {
    await s.call("SET", "k", "v");
    const m = ["MIGRATE", "127.0.0.1", t.plain];
    await rec(s, [...m, "k", 0, 5000, "NOPE"]);
    await rec(s, [...m, "k", 0, 5000, "AUTH"]);
    await rec(s, [...m, "k", 0, 5000, "AUTH2", "u"]);
    await rec(s, [...m, "k", 0, 5000, "KEYS", "k"]);
    await rec(s, [...m, "k", "x", "y", "NOPE"]);
    await rec(s, [...m, "k", "x", 5000]);
    await rec(s, [...m, "k", 0, "1.5"]);
    await rec(s, [...m, "k", 0]);
    await rec(s, [...m, "", 0, 5000, "COPY", "KEYS", "k", "COPY"]);
    await rec(s, ["EXISTS", "k", "COPY"]);
  },
  "connection errors": async (s, t, rec) => {
    await s.call("SET", "k", "v");
    await rec(s, ["MIGRATE", "127.0.0.1", t.closed, "k", 0, 1000]);
    await rec(s, ["MIGRATE", "127.0.0.1", 0, "k", 0, 1000]);
    await rec(s, ["MIGRATE", "127.0.0.1", "abc", "k", 0, 1000]);
    await rec(s, ["MIGRATE", "127.0.0.1", -5, "k", 0, 1000]);
    await rec(s, ["MIGRATE", "no-such-host.invalid", 6379, "k", 0, 1000]);
    await rec(s, ["EXISTS", "k"]);
  },
  "TTL carried over; timeout 0 is the default": async (s, t, rec, target) => {
    await s.call("SET", "k", "v", "EX", 1000);
    await rec(s, ["MIGRATE", "127.0.0.1", t.plain, "k", 0, 0]);
    const pttl = Number(await target.call("PTTL", "k"));
    assert.ok(pttl > 900_000 && pttl <= 1_000_000, `PTTL ${pttl}`);
    await rec(target, ["TTL", "k"]);
  },
};

Deno.test("migrate: replies beside redis-server", opts, async (t) => {
  const closed = (() => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    return port;
  })();
  await using ours = await startServer();
  await using redis = await RedisServer.start();
  for (const [name, scenario] of Object.entries(SCENARIOS)) {
    await t.step(name, async () => {
      const records: string[][] = [];
      for (const sourcePort of [redis.port, ours.port]) {
        // Each source gets targets of its own, fresh.
        await using plain = await RedisServer.start();
        await using auth = await RedisServer.start([
          "--requirepass",
          "secret",
        ]);
        {
          using a = await Conn.open(auth.port);
          await a.call("AUTH", "secret");
          await a.call("ACL", "SETUSER", "mover", "on", ">pass", "~*", "+@all");
        }
        using source = await Conn.open(sourcePort);
        using target = await Conn.open(plain.port);
        await source.call("FLUSHALL");
        const out: string[] = [];
        await scenario(
          source,
          { plain: plain.port, auth: auth.port, closed },
          async (c, cmd) => {
            // The targets' ports differ between the two runs: named.
            const names = new Map([
              [plain.port, "PLAIN"],
              [auth.port, "AUTH"],
            ]);
            const label = cmd.map((a) => names.get(a as number) ?? a)
              .join(" ").slice(0, 80);
            out.push(`${label} -> ${await c.rawReplies(encodeCommand(cmd))}`);
          },
          target,
        );
        records.push(out);
      }
      const [expected, actual] = records;
      for (let i = 0; i < expected.length; i++) {
        assert.equal(actual[i], expected[i]);
      }
      assert.equal(actual.length, expected.length);
    });
  }
  // Both targets of AUTH got the key in database 1 (checked above through
  // the replies); the connections cached by ours close with its targets.
});

// ---------------------------------------------------------------------------
// What is sent to the target, beside redis-server

/** A fake target: records each connection's commands and answers them as
 * `answer` says (a raw reply, or null: no reply). */
class FakeTarget {
  readonly listener: Deno.TcpListener;
  readonly connections: string[][][] = [];
  readonly conns: Deno.TcpConn[] = [];
  #accepting: Promise<void>;
  constructor(
    public answer: (argv: string[]) => string | null | Promise<string | null>,
  ) {
    this.listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#accepting = this.#accept();
  }

  get port(): number {
    return (this.listener.addr as Deno.NetAddr).port;
  }

  /** Every command received, in order, over every connection. */
  get commands(): string[][] {
    return this.connections.flat();
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.listener) {
        this.conns.push(conn);
        const log: string[][] = [];
        this.connections.push(log);
        this.#serve(conn, log);
      }
    } catch {
      // closed
    }
  }

  async #serve(conn: Deno.TcpConn, log: string[][]): Promise<void> {
    const decoder = new RequestDecoder();
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        decoder.feed(buf.subarray(0, n));
        let argv: string[] | null;
        while ((argv = decoder.next()) !== null) {
          log.push(argv);
          const reply = await this.answer(argv);
          if (reply !== null) await conn.write(new TextEncoder().encode(reply));
        }
      }
    } catch {
      // closed
    }
    try {
      conn.close();
    } catch {
      // closed
    }
  }

  /** Closes every accepted connection (the listener stays). */
  dropConnections(): void {
    for (const c of this.conns.splice(0)) {
      try {
        c.close();
      } catch {
        // closed
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.dropConnections();
    this.listener.close();
    await this.#accepting;
  }
}

Deno.test(
  "migrate: the bytes sent to the target, beside redis-server (AUTH, SELECT on change, cached connection, retry after a close)",
  opts,
  async () => {
    await using ours = await startServer();
    await using redis = await RedisServer.start();
    const seen: string[][][][] = [];
    const replies: string[][] = [];
    for (const port of [redis.port, ours.port]) {
      await using fake = new FakeTarget((argv) =>
        argv[0] === "RESTORE" && argv[1] === "refused"
          ? "-BUSYKEY Target key name already exists.\r\n"
          : "+OK\r\n"
      );
      using c = await Conn.open(port);
      await c.call("FLUSHALL");
      const cmds = everyType("", true);
      await runAll(c, cmds);
      await c.call("SET", "refused", "x");
      await c.call("SET", "after", "y");
      const keys = keysOf(cmds);
      const out: string[] = [];
      const m = (...args: Cmd) => ["MIGRATE", "127.0.0.1", fake.port, ...args];
      const steps: Cmd[] = [
        m("", 0, 5000, "COPY", "AUTH2", "u", "p", "KEYS", ...keys),
        m("str", 0, 5000, "COPY", "REPLACE"), // no SELECT: cached, db 0
        m("str", 5, 5000, "COPY", "AUTH", "pw"), // SELECT 5
        m("str", 5, 5000, "COPY"), // no SELECT
        // One RESTORE refused: the error comes back; the others moved.
        m("", 5, 5000, "KEYS", "int", "refused", "after"),
        m("list", 5, 5000, "COPY"), // after an error: SELECT again
      ];
      for (const step of steps) {
        out.push(await c.rawReplies(encodeCommand(step)));
      }
      out.push(
        await c.rawReplies(
          encodeCommand(["EXISTS", "int", "refused", "after"]),
        ),
      );
      // The target closes the cached connection: one retry, on a new one.
      fake.dropConnections();
      out.push(await c.rawReplies(encodeCommand(m("hash", 5, 5000, "COPY"))));
      replies.push(out);
      seen.push(fake.connections.map((conn) => conn.map((a) => a.slice())));
    }
    assert.deepEqual(replies[1], replies[0]);
    assert.equal(
      replies[0][4],
      "-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n",
    );
    assert.equal(replies[0][6], ":1\r\n");
    // Same connections, same commands, same bytes (payloads of small
    // values are the same bytes on both).
    assert.deepEqual(seen[1], seen[0]);
    const [first, second] = seen[0];
    assert.deepEqual(first[0], ["AUTH", "u", "p"]);
    assert.deepEqual(first[1], ["SELECT", "0"]);
    assert.equal(first.filter((a) => a[0] === "SELECT").length, 3);
    assert.deepEqual(second[0], ["SELECT", "5"]);
  },
);

Deno.test(
  "migrate: a target that does not answer gives IOERR after the timeout, as redis-server",
  opts,
  async () => {
    await using ours = await startServer();
    await using redis = await RedisServer.start();
    const replies: string[] = [];
    for (const port of [redis.port, ours.port]) {
      await using fake = new FakeTarget(() => null);
      using c = await Conn.open(port);
      await c.call("SET", "k", "v");
      replies.push(
        await c.rawReplies(
          encodeCommand(["MIGRATE", "127.0.0.1", fake.port, "k", 0, 200]),
        ),
      );
      replies.push(await c.rawReplies(encodeCommand(["EXISTS", "k"])));
      // A timeout is not retried: one connection.
      assert.equal(fake.connections.length, 1);
    }
    assert.equal(
      replies[0],
      "-IOERR error or timeout reading to target instance\r\n",
    );
    assert.deepEqual(replies.slice(2), replies.slice(0, 2));
  },
);

// ---------------------------------------------------------------------------
// The caller waits; others are served; a key changed meanwhile stays

Deno.test(
  "migrate: other clients are served during a migration; a key changed meanwhile stays; DEL logged and notified",
  opts,
  async () => {
    await withDir(async (dir) => {
      let release: () => void = () => {};
      const held = new Promise<void>((r) => release = r);
      await using fake = new FakeTarget(async (argv) => {
        if (argv[0] === "RESTORE") await held;
        return "+OK\r\n";
      });
      {
        await using ours = await startServer({ dir, appendonly: true });
        using mover = await Conn.open(ours.port);
        using other = await Conn.open(ours.port);
        using sub = await Conn.open(ours.port);
        await other.call("CONFIG", "SET", "notify-keyspace-events", "Kg");
        await sub.call("SUBSCRIBE", "__keyspace@0__:moved");
        await other.call("SET", "moved", "1");
        await other.call("SET", "changed", "1");
        await other.call("RPUSH", "pushed", "a");
        await mover.send(encodeCommand([
          "MIGRATE",
          "127.0.0.1",
          fake.port,
          "",
          0,
          10_000,
          "KEYS",
          "moved",
          "changed",
          "pushed",
        ]));
        await mover.send(encodeCommand(["PING", "after"]));
        await until(
          () => fake.commands.some((a) => a[0] === "RESTORE"),
          "the RESTOREs",
        );
        // The server is not blocked: another client runs commands, and
        // changes two of the keys being migrated.
        assert.equal(await other.call("PING"), "PONG");
        assert.equal(await other.call("SET", "changed", "2"), "OK");
        assert.equal(await other.call("RPUSH", "pushed", "b"), 2);
        assert.equal(await other.call("EXISTS", "moved"), 1);
        release();
        assert.equal(await mover.reply(), "OK");
        assert.equal(await mover.reply(), "after"); // then its next command
        assert.equal(await other.call("EXISTS", "moved"), 0);
        assert.equal(await other.call("GET", "changed"), "2");
        assert.deepEqual(await other.call("LRANGE", "pushed", 0, -1), [
          "a",
          "b",
        ]);
        // The payloads were of the values when MIGRATE started.
        const restores = fake.commands.filter((a) => a[0] === "RESTORE");
        assert.deepEqual(restores.map((a) => a[1]), [
          "moved",
          "changed",
          "pushed",
        ]);
        assert.deepEqual(await sub.reply(), [
          "message",
          "__keyspace@0__:moved",
          "del",
        ]);
      }
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.match(log, /\*2\r\n\$3\r\nDEL\r\n\$5\r\nmoved\r\n/);
      assert.ok(!log.includes("MIGRATE"), "MIGRATE itself is not logged");
      // Restarted from the log: what stayed is there, what moved is not.
      await using again = await startServer({ dir, appendonly: true });
      using c = await Conn.open(again.port);
      assert.equal(await c.call("EXISTS", "moved", "changed", "pushed"), 2);
    });
  },
);

Deno.test(
  "migrate: MULTI/EXEC and scripts refuse it (this server does not block); MONITOR hides the passwords",
  opts,
  async () => {
    await using ours = await startServer();
    await using target = await RedisServer.start();
    {
      using c = await Conn.open(ours.port);
      await c.call("SET", "k", "v");
      await c.call("MULTI");
      await c.call("MIGRATE", "127.0.0.1", target.port, "k", 0, 1000);
      const [r] = await c.call("EXEC") as RespValue[];
      assert.ok(
        r instanceof Error && /MULTI\/EXEC or a script/.test(r.message),
      );
      const e = await c.call(
        "EVAL",
        "return redis.call('MIGRATE', ARGV[1], ARGV[2], 'k', 0, 1000)",
        0,
        "127.0.0.1",
        target.port,
      );
      assert.ok(
        e instanceof Error && /MULTI\/EXEC or a script/.test(e.message),
      );
      assert.equal(await c.call("EXISTS", "k"), 1);
    }
    // MONITOR and SLOWLOG show the passwords redacted, as redis-server.
    const shown: string[][] = [];
    await using redis = await RedisServer.start();
    await using guarded = await RedisServer.start(["--requirepass", "pw1"]);
    {
      using a = await Conn.open(guarded.port);
      await a.call("AUTH", "pw1");
      await a.call("ACL", "SETUSER", "user", "on", ">pw2", "~*", "+@all");
    }
    for (const port of [redis.port, ours.port]) {
      using c = await Conn.open(port);
      using mon = await Conn.open(port);
      await c.call("SET", "k", "v");
      await c.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
      assert.equal(await mon.call("MONITOR"), "OK");
      const m = ["MIGRATE", "127.0.0.1", guarded.port, "k", 0, 1000, "COPY"];
      assert.equal(await c.call(...m, "REPLACE", "AUTH2", "user", "pw2"), "OK");
      assert.equal(await c.call(...m, "REPLACE", "AUTH", "pw1"), "OK");
      const lines = [await mon.reply(), await mon.reply()].map((l) =>
        String(l).replace(/^\S+ \[[^\]]*\] /, "")
      );
      const [entry] = await c.call("SLOWLOG", "GET", 1) as RespValue[][];
      shown.push([...lines, JSON.stringify(entry[3])]);
    }
    assert.deepEqual(shown[1], shown[0]);
    assert.match(shown[0][0], /"AUTH2" "\(redacted\)" "\(redacted\)"$/);
    assert.ok(!shown.flat().some((l) => /pw1|pw2|user/.test(l)));
  },
);

// ---------------------------------------------------------------------------
// Between servers of every kind

Deno.test("migrate: our server -> redis-server, every type", opts, async () => {
  await using ours = await startServer();
  await using redis = await RedisServer.start();
  using s = await Conn.open(ours.port);
  using t = await Conn.open(redis.port);
  const m: Cmd = ["MIGRATE", "127.0.0.1", redis.port, "", 0, 5000];
  await moveAll(s, t, everyType("a:"), m);
  await moveAll(s, t, everyType("b:"), [...m, "COPY"]);
  await moveAll(
    s,
    t,
    everyType("a:"),
    [...m.slice(0, 4), 3, 5000, "REPLACE"],
    3,
  );
  // One connection to the target stays cached (INFO stats, as Redis).
  assert.match(
    String(await s.call("INFO", "stats")),
    /\r\nmigrate_cached_sockets:1\r\n/,
  );
});

Deno.test("migrate: our server -> our server", opts, async () => {
  await using ours = await startServer();
  await using other = await startServer({ requirepass: "pw" });
  using s = await Conn.open(ours.port);
  using t = await Conn.open(other.port);
  await t.call("AUTH", "pw");
  await s.call("SET", "x", "1");
  assert.equal(
    String(await s.call("MIGRATE", "127.0.0.1", other.port, "x", 0, 5000)),
    "ReplyError: ERR Target instance replied with error: NOAUTH Authentication required.",
  );
  assert.equal(await s.call("EXISTS", "x"), 1);
  const m: Cmd = ["MIGRATE", "127.0.0.1", other.port, "", 0, 5000];
  await moveAll(s, t, everyType("a:"), [...m, "AUTH", "pw"]);
  await moveAll(s, t, everyType("a:"), [
    ...m.slice(0, 4),
    2,
    5000,
    "AUTH",
    "pw",
  ], 2);
  // The cached connection stays logged in (as Redis's does).
  assert.equal(
    await s.call("MIGRATE", "127.0.0.1", other.port, "x", 0, 5000),
    "OK",
  );
});

Deno.test("migrate: redis-server -> our server (RESTORE)", opts, async () => {
  await using ours = await startServer({ requirepass: "pw" });
  await using redis = await RedisServer.start();
  using s = await Conn.open(redis.port);
  using t = await Conn.open(ours.port);
  await t.call("AUTH", "pw");
  const m: Cmd = ["MIGRATE", "127.0.0.1", ours.port, "", 0, 5000, "AUTH", "pw"];
  await moveAll(s, t, everyType("a:"), m);
  // Again, without REPLACE: the keys are there already, our BUSYKEY comes
  // back and the source keeps them.
  const again = everyType("a:");
  await runAll(s, again);
  assert.equal(
    String(await s.call(...m, "KEYS", ...keysOf(again))),
    "ReplyError: ERR Target instance replied with error: BUSYKEY Target key name already exists.",
  );
  assert.equal(await s.call("EXISTS", ...keysOf(again)), keysOf(again).length);
  await moveAll(s, t, everyType("b:"), [
    ...m.slice(0, 4),
    4,
    5000,
    "AUTH",
    "pw",
  ], 4);
  await s.call("SET", "a:str", "newer");
  assert.equal(await s.call(...m, "REPLACE", "KEYS", "a:str"), "OK");
  assert.equal(await s.call("EXISTS", "a:str"), 0);
  await t.call("SELECT", 0);
  assert.equal(await t.call("GET", "a:str"), "newer");
  const stats = String(await t.call("INFO", "commandstats"));
  assert.match(stats, /cmdstat_restore:calls=\d+/);
});

// ---------------------------------------------------------------------------
// Redis Cluster

/** 500 keys of every type (some with a TTL, some large). */
function fiveHundred(): Cmd[] {
  const cmds: Cmd[] = [];
  for (let i = 0; i < 500; i++) {
    const k = `key:${i}`;
    switch (i % 8) {
      case 0:
        cmds.push(["SET", k, `value ${i}`]);
        break;
      case 1:
        cmds.push(["SET", k, String(i * 1000)]);
        break;
      case 2:
        cmds.push(["RPUSH", k, ...range(i % 50 + 1, (j) => `e${j}`)]);
        break;
      case 3:
        cmds.push([
          "HSET",
          k,
          ...range(i % 40 + 1, (j) => [`f${j}`, `${j}`]).flat(),
        ]);
        break;
      case 4:
        cmds.push([
          "SADD",
          k,
          ...range(i % 30 + 1, (j) => i % 16 === 4 ? `${j}` : `m${j}`),
        ]);
        break;
      case 5:
        cmds.push([
          "ZADD",
          k,
          ...range(i % 20 + 1, (j) => [`${j / 2}`, `z${j}`]).flat(),
        ]);
        break;
      case 6:
        cmds.push(["XADD", k, "*", "n", `${i}`], [
          "XGROUP",
          "CREATE",
          k,
          "g",
          "0",
        ]);
        break;
      case 7:
        cmds.push(["SET", k, "x".repeat(i * 10)]);
        break;
    }
    if (i % 5 === 0) cmds.push(["PEXPIRE", k, 3_600_000 + i]);
  }
  cmds.push(["RPUSH", "key:biglist", ...range(3000, (j) => `element ${j}`)]);
  cmds.push(["SET", "{tag}a", "1"], ["SET", "{tag}b", "2"]);
  return cmds;
}

/** Checks each key of `expected` is on the node of its slot (and no other)
 * with the same value and TTL. */
async function checkCluster(
  cluster: RedisCluster,
  expected: Map<string, { value: string; pttl: number }>,
): Promise<void> {
  const conns = new Map<number, Conn>();
  try {
    for (const port of cluster.ports) conns.set(port, await Conn.open(port));
    const owners = new Map<number, number>();
    let total = 0;
    for (const port of cluster.ports) {
      total += Number(await conns.get(port)!.call("DBSIZE"));
    }
    assert.equal(total, expected.size);
    for (const [key, was] of expected) {
      const slot = keySlot(key);
      let owner = owners.get(slot);
      if (owner === undefined) {
        owner = await cluster.ownerOf(slot);
        owners.set(slot, owner);
      }
      const node = conns.get(owner)!;
      assert.equal(
        await node.call("CLUSTER", "KEYSLOT", key),
        slot,
        `${key}: slot`,
      );
      const got = await readKey(node, key);
      assert.equal(got.value, was.value, key);
      sameTtl(got.pttl, was.pttl, key);
    }
  } finally {
    for (const c of conns.values()) c.close();
  }
}

Deno.test({
  name:
    "migrate: redis-cli --cluster import from our server into a Redis Cluster (copy, then replace)",
  ...opts,
  ignore: !hasRedis || !has("redis-cli"),
  fn: async () => {
    await using cluster = await RedisCluster.start();
    await using ours = await startServer();
    using c = await Conn.open(ours.port);
    const cmds = fiveHundred();
    await runAll(c, cmds);
    const keys = keysOf(cmds);
    const expected = new Map<string, { value: string; pttl: number }>();
    for (const key of keys) expected.set(key, await readKey(c, key));
    const imp = async (...flags: string[]) => {
      const r = await run("redis-cli", [
        "--cluster",
        "import",
        `127.0.0.1:${cluster.ports[0]}`,
        "--cluster-from",
        `127.0.0.1:${ours.port}`,
        ...flags,
      ], { ms: 120_000 });
      return r;
    };
    let r = await imp("--cluster-copy");
    assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`Importing ${keys.length} keys from DB 0`),
    );
    assert.equal(r.stdout.match(/: \S*OK/g)?.length, keys.length);
    await checkCluster(cluster, expected);
    // COPY: the source keeps every key.
    assert.equal(await c.call("DBSIZE"), keys.length);

    // Again without REPLACE: the cluster's BUSYKEY stops the import.
    r = await imp("--cluster-copy");
    assert.notEqual(r.code, 0);
    assert.match(r.stdout + r.stderr, /BUSYKEY/);

    // Changed values, imported with --cluster-replace (and moved: no COPY).
    for (let i = 0; i < 500; i += 7) {
      await c.call("DEL", `key:${i}`);
      await c.call("SET", `key:${i}`, `changed ${i}`);
      expected.set(`key:${i}`, await readKey(c, `key:${i}`));
    }
    r = await imp("--cluster-replace");
    assert.equal(r.code, 0, r.stdout.slice(-2000) + r.stderr);
    await checkCluster(cluster, expected);
    assert.equal(await c.call("DBSIZE"), 0);

    // A cluster node migrating to us sends RESTORE-ASKING.
    using node = await Conn.open(await cluster.ownerOf(keySlot("key:1")));
    assert.equal(
      await node.call("MIGRATE", "127.0.0.1", ours.port, "key:1", 0, 5000),
      "OK",
    );
    assert.equal(await c.call("GET", "key:1"), "1000");
    const stats = String(await c.call("INFO", "commandstats"));
    assert.match(stats, /cmdstat_restore-asking:calls=1,/);
  },
});
