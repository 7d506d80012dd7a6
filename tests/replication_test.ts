// Replication with real redis-server 7.0 on loopback: a redis-server
// replica of our server (full sync of every type, expiry and database,
// then the stream; WAIT; ROLE and INFO replication beside a redis-server
// primary's; a dropped link resumed with +CONTINUE; a replica killed and
// started again synced in full; masterauth against our requirepass; the
// replica output buffer limit), and our server as a replica of a
// redis-server primary (the data, the stream, -READONLY, REPLICAOF NO ONE).

import assert from "node:assert/strict";
import { ReplyError, type RespValue } from "../protocol.ts";
import type { Server } from "../server.ts";
import { parseServerArgs } from "../config.ts";
import { Conn, freePort, RedisServer, startServer } from "./_helpers.ts";
import { Client } from "../client.ts";
import { hasRedis } from "./_compat.ts";

const opts = {
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !hasRedis,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true; fails after `ms`. */
async function until(
  what: string,
  check: () => Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** INFO `section` as a map of its fields. */
async function info(c: Conn, section: string): Promise<Map<string, string>> {
  const text = await c.call("INFO", section) as string;
  const out = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) {
      out.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return out;
}

/** Waits until the replica on `replica` has the link up and its offset is
 * the primary's. */
async function caughtUp(primary: Conn, replica: Conn): Promise<void> {
  await until("the replica to catch up", async () => {
    const r = await info(replica, "replication");
    const p = await info(primary, "replication");
    return r.get("master_link_status") === "up" &&
      r.get("slave_repl_offset") === p.get("master_repl_offset");
  });
}

/** Everything a server holds, read back with plain commands: per
 * database, each key's type, value and absolute expiry. */
async function readAll(
  c: Conn,
  options: { entriesRead?: boolean } = {},
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let db = 0; db < 16; db++) {
    await c.call("SELECT", db);
    const keys = (await c.call("KEYS", "*") as string[]).sort();
    for (const key of keys) {
      const type = await c.call("TYPE", key) as string;
      let value: RespValue;
      switch (type) {
        case "string":
          value = await c.call("GET", key);
          break;
        case "list":
          value = await c.call("LRANGE", key, 0, -1);
          break;
        case "hash":
          value = await c.call("HGETALL", key) as string[];
          value = pairs(value as string[]);
          break;
        case "set":
          value = (await c.call("SMEMBERS", key) as string[]).sort();
          break;
        case "zset":
          value = await c.call("ZRANGE", key, 0, -1, "WITHSCORES");
          break;
        case "stream":
          value = [
            await c.call("XRANGE", key, "-", "+"),
            groups(
              await c.call("XINFO", "GROUPS", key) as RespValue[][],
              options.entriesRead ?? true,
            ),
          ];
          break;
        default:
          value = null;
      }
      const at = await c.call("PEXPIRETIME", key);
      out.push([db, key, type, value, at]);
    }
  }
  await c.call("SELECT", 0);
  return out;
}

/** XINFO GROUPS, without entries-read unless `entriesRead`. */
function groups(list: RespValue[][], entriesRead: boolean): RespValue[][] {
  if (entriesRead) return list;
  return list.map((g) => {
    const i = g.indexOf("entries-read");
    return i < 0 ? g : [...g.slice(0, i), ...g.slice(i + 2)];
  });
}

/** HGETALL's pairs, sorted by field. */
function pairs(flat: string[]): string[][] {
  const out: string[][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i], flat[i + 1]]);
  return out.sort((a, b) => a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

/** Writes keys of every type (small and large encodings), with expiries,
 * in several databases. `tag` keeps two rounds apart. */
async function writeData(conn: Conn, tag: string): Promise<void> {
  // Every write must succeed (replies that are errors come back as values).
  const c = {
    call: async (...args: (string | number)[]) => {
      const r = await conn.call(...args);
      assert.ok(!(r instanceof ReplyError), `${args[0]}: ${r}`);
      return r;
    },
  };
  const big = "x".repeat(100);
  await c.call("SELECT", 0);
  await c.call("SET", `${tag}:str`, "hello");
  await c.call("SET", `${tag}:int`, 12345);
  await c.call("SET", `${tag}:bin`, "\x00\xff\r\n");
  await c.call("SET", `${tag}:ttl`, "v", "EX", 1000);
  await c.call("SET", `${tag}:gone`, "v", "PX", 1);
  await c.call("RPUSH", `${tag}:list`, "a", "b", "c", 1, 2);
  const many = Array.from({ length: 300 }, (_, i) => `e${i}`);
  await c.call("RPUSH", `${tag}:biglist`, ...many, big);
  await c.call("HSET", `${tag}:hash`, "f1", "v1", "f2", 2);
  await c.call("HSET", `${tag}:bighash`, ...many.flatMap((e) => [e, big]));
  await c.call("SADD", `${tag}:intset`, 1, 2, 3, -5);
  await c.call("SADD", `${tag}:set`, "a", "b", big);
  await c.call("ZADD", `${tag}:zset`, 1, "a", 2.5, "b", "-inf", "c");
  await c.call(
    "ZADD",
    `${tag}:bigzset`,
    ...many.flatMap((e, i) => [i / 3, e]),
  );
  await c.call("GEOADD", `${tag}:geo`, 13.361389, 38.115556, "Palermo");
  await c.call("PFADD", `${tag}:hll`, "a", "b", "c");
  await c.call("SETBIT", `${tag}:bits`, 100, 1);
  await c.call("XADD", `${tag}:stream`, "1-1", "f", "v");
  await c.call("XADD", `${tag}:stream`, "2-1", "f", "w");
  await c.call("XGROUP", "CREATE", `${tag}:stream`, "g", "0");
  await c.call(
    "XREADGROUP",
    "GROUP",
    "g",
    "alice",
    "COUNT",
    1,
    "STREAMS",
    `${tag}:stream`,
    ">",
  );
  await c.call("EXPIRE", `${tag}:hash`, 5000);
  await c.call("SELECT", 3);
  await c.call("SET", `${tag}:db3`, "three");
  await c.call("LPUSH", `${tag}:db3list`, "z");
  await c.call("PEXPIRE", `${tag}:db3list`, 900000);
  await c.call("SELECT", 15);
  await c.call("HSET", `${tag}:db15`, "k", "v");
  await c.call("SELECT", 0);
}

/** Our server and a redis-server replica of it, synced; stopped after. */
async function withReplica(
  fn: (
    ours: Server,
    c: Conn,
    replica: RedisServer,
    rc: Conn,
  ) => Promise<void>,
  options: { ours?: Record<string, unknown>; replicaArgs?: string[] } = {},
  before?: (c: Conn) => Promise<void>,
): Promise<void> {
  const ours = await startServer(options.ours ?? {});
  let replica: RedisServer | null = null;
  const conns: Conn[] = [];
  try {
    const c = await Conn.open(ours.port);
    conns.push(c);
    if (options.ours?.requirepass) {
      await c.call("AUTH", options.ours.requirepass as string);
    }
    if (before) await before(c);
    replica = await RedisServer.start([
      "--replicaof",
      "127.0.0.1",
      String(ours.port),
      ...(options.replicaArgs ?? []),
    ]);
    const rc = await Conn.open(replica.port);
    conns.push(rc);
    await fn(ours, c, replica, rc);
  } finally {
    for (const c of conns) c.close();
    await replica?.stop();
    await ours.close();
  }
}

Deno.test(
  "a redis-server replica gets every type, expiry and database, before the link and after",
  opts,
  async () => {
    await withReplica(
      async (_ours, c, _replica, rc) => {
        await caughtUp(c, rc);
        // After the link: the same again, plus commands of every kind.
        await writeData(c, "after");
        await c.call("MULTI");
        await c.call("INCR", "after:int");
        await c.call("SELECT", 3);
        await c.call("SET", "in-multi", "yes");
        await c.call("EXEC");
        await c.call("SELECT", 0);
        await c.call(
          "EVAL",
          "redis.call('SET', KEYS[1], ARGV[1])",
          1,
          "lua",
          "1",
        );
        await c.call("DEL", "before:str");
        await c.call("LPOP", "before:list");
        await c.call("SELECT", 15);
        await c.call("FLUSHDB");
        await c.call("SELECT", 0);
        await c.call("SET", "last", "write");
        assert.equal(await c.call("WAIT", 1, 10_000), 1);
        await caughtUp(c, rc);
        const ours = await readAll(c);
        const theirs = await readAll(rc);
        assert.ok(ours.length > 30, `only ${ours.length} keys`);
        assert.deepEqual(theirs, ours);
        // The key that expired on our side is gone there too.
        assert.equal(await rc.call("EXISTS", "before:gone"), 0);
      },
      {},
      (c) => writeData(c, "before"),
    );
  },
);

Deno.test(
  "our INFO replication and ROLE have the shape of redis-server's as a primary; WAIT counts ACKs",
  opts,
  async () => {
    const primary = await RedisServer.start([
      "--repl-diskless-sync-delay",
      "0",
    ]);
    let replica: RedisServer | null = null;
    try {
      replica = await RedisServer.start([
        "--replicaof",
        "127.0.0.1",
        String(primary.port),
      ]);
      const pc = await Conn.open(primary.port);
      const prc = await Conn.open(replica.port);
      await pc.call("SET", "k", "v");
      await caughtUp(pc, prc);
      await withReplica(async (_ours, c, _r, rc) => {
        await c.call("SET", "k", "v");
        await caughtUp(c, rc);
        // ACKs come every second: both list the replica as online.
        const want = await info(pc, "replication");
        const got = await info(c, "replication");
        assert.deepEqual([...got.keys()], [...want.keys()]);
        const fields = (s: string) =>
          s.split(",").map((kv) => kv.split("=")[0]);
        assert.deepEqual(
          fields(got.get("slave0")!),
          fields(want.get("slave0")!),
        );
        assert.match(
          got.get("slave0")!,
          /^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/,
        );
        assert.equal(got.get("role"), "master");
        assert.equal(got.get("connected_slaves"), "1");
        assert.match(got.get("master_replid")!, /^[0-9a-f]{40}$/);
        assert.equal(got.get("repl_backlog_active"), "1");
        assert.equal(got.get("repl_backlog_size"), "1048576");
        const theirs = await info(rc, "replication");
        assert.equal(theirs.get("master_replid"), got.get("master_replid"));
        // ROLE: master, the offset, [ip, port, offset] per replica.
        const shape = (r: RespValue): unknown =>
          Array.isArray(r) ? r.map(shape) : typeof r;
        const ourRole = await c.call("ROLE") as RespValue[];
        assert.deepEqual(shape(ourRole), shape(await pc.call("ROLE")));
        assert.equal(ourRole[0], "master");
        const [[ip, port]] = ourRole[2] as string[][];
        assert.equal(ip, "127.0.0.1");
        assert.equal(port, String(_r.port));
        // The replica side's ROLE names us.
        const rRole = await rc.call("ROLE") as RespValue[];
        assert.deepEqual(rRole.slice(0, 4), [
          "slave",
          "127.0.0.1",
          _ours.port,
          "connected",
        ]);
        // WAIT: 1 after a write; asking for 2 of 1 times out with 1.
        await c.call("INCR", "n");
        assert.equal(await c.call("WAIT", 1, 10_000), 1);
        assert.equal(await c.call("WAIT", 2, 300), 1);
        assert.equal(await c.call("WAIT", 0, 0), 1);
        assert.equal(await rc.call("GET", "n"), "1");
        // CLIENT LIST: the replica's connection has the S flag and is of
        // TYPE replica (alias slave), on both primaries.
        const replicaLine = async (conn: Conn) => {
          const list = String(
            await conn.call("CLIENT", "LIST", "TYPE", "replica"),
          );
          assert.equal(
            String(await conn.call("CLIENT", "LIST", "TYPE", "slave")),
            list,
          );
          return / flags=(\w+) /.exec(list)?.[1];
        };
        assert.equal(await replicaLine(c), await replicaLine(pc));
        assert.equal(await replicaLine(c), "S");
        // HELLO names each side's role.
        const role = async (conn: Conn) => {
          const hello = await conn.call("HELLO", "2") as RespValue[];
          return hello[hello.indexOf("role") + 1];
        };
        assert.deepEqual([await role(c), await role(rc)], [
          "master",
          "replica",
        ]);
        assert.equal(await role(prc), "replica");
      });
    } finally {
      await replica?.stop();
      await primary.stop();
    }
  },
);

Deno.test(
  "a dropped link resumes with +CONTINUE; a replica killed and started again syncs in full",
  opts,
  async () => {
    await withReplica(
      async (ours, c, replica, rc) => {
        await caughtUp(c, rc);
        let mine = await info(c, "stats");
        assert.equal(mine.get("sync_full"), "1");
        assert.equal(mine.get("sync_partial_ok"), "0");
        // The replica drops its link to us: writes meanwhile come from the
        // backlog when it reconnects.
        assert.equal(await rc.call("CLIENT", "KILL", "TYPE", "master"), 1);
        for (let i = 0; i < 100; i++) await c.call("RPUSH", "during", i);
        await c.call("SELECT", 2);
        await c.call("SET", "db2", "x");
        await c.call("SELECT", 0);
        await until("a partial resync", async () => {
          mine = await info(c, "stats");
          return mine.get("sync_partial_ok") === "1";
        });
        assert.equal(mine.get("sync_full"), "1");
        await caughtUp(c, rc);
        assert.deepEqual(await readAll(rc), await readAll(c));
        // kill -9: a new redis-server (no data) syncs in full.
        replica.process.kill("SIGKILL");
        await replica.process.status;
        await until("the dead replica to go", async () => {
          return (await info(c, "replication")).get("connected_slaves") === "0";
        });
        await c.call("SET", "while-down", "1");
        const again = await RedisServer.start([
          "--replicaof",
          "127.0.0.1",
          String(ours.port),
        ]);
        try {
          const ac = await Conn.open(again.port);
          await caughtUp(c, ac);
          assert.equal((await info(c, "stats")).get("sync_full"), "2");
          assert.deepEqual(await readAll(ac), await readAll(c));
          ac.close();
        } finally {
          await again.stop();
        }
      },
      {},
      (c) => writeData(c, "before"),
    );
  },
);

Deno.test(
  "a replica with masterauth syncs with our requirepass; a wrong one does not",
  opts,
  async () => {
    await withReplica(async (_ours, c, _r, rc) => {
      await caughtUp(c, rc);
      await c.call("SET", "secret", "kept");
      assert.equal(await c.call("WAIT", 1, 10_000), 1);
      assert.equal(await rc.call("GET", "secret"), "kept");
    }, {
      ours: { requirepass: "s3cret" },
      replicaArgs: ["--masterauth", "s3cret"],
    });
    const ours = await startServer({ requirepass: "s3cret" });
    const wrong = await RedisServer.start([
      "--replicaof",
      "127.0.0.1",
      String(ours.port),
      "--masterauth",
      "nope",
    ]);
    try {
      const c = await Conn.open(ours.port);
      await c.call("AUTH", "s3cret");
      // The replica tries (its AUTH fails): no replica ever connects.
      await until("the replica to try", async () => {
        const s = await info(c, "stats");
        return Number(s.get("total_error_replies")) > 0;
      });
      const rc = await Conn.open(wrong.port);
      assert.equal(
        (await info(rc, "replication")).get("master_link_status"),
        "down",
      );
      assert.equal((await info(c, "replication")).get("connected_slaves"), "0");
      c.close();
      rc.close();
    } finally {
      await wrong.stop();
      await ours.close();
    }
  },
);

Deno.test(
  "a replica that stops reading is dropped at its output buffer limit, then syncs again",
  opts,
  async () => {
    await withReplica(async (_ours, c, replica, rc) => {
      await caughtUp(c, rc);
      await c.call(
        "CONFIG",
        "SET",
        "client-output-buffer-limit",
        "replica 4mb 1mb 1",
      );
      replica.process.kill("SIGSTOP");
      let resumed = false;
      try {
        const value = "v".repeat(256 * 1024);
        // Far more than the socket buffers and the hard limit hold.
        for (let i = 0; i < 256; i++) await c.call("SET", `big${i % 8}`, value);
        await until("the replica to be dropped", async () => {
          const r = await info(c, "replication");
          return r.get("connected_slaves") === "0";
        });
        const s = await info(c, "stats");
        assert.ok(
          Number(s.get("client_output_buffer_limit_disconnections")) >= 1,
        );
        replica.process.kill("SIGCONT");
        resumed = true;
        await c.call("SET", "after", "drop");
        await caughtUp(c, rc);
        assert.equal(await rc.call("GET", "after"), "drop");
        assert.equal(await rc.call("DBSIZE"), await c.call("DBSIZE"));
      } finally {
        if (!resumed) replica.process.kill("SIGCONT");
      }
    });
  },
);

Deno.test(
  "our server as a replica of redis-server: data, stream, -READONLY, REPLICAOF NO ONE",
  opts,
  async () => {
    const primary = await RedisServer.start([
      "--repl-diskless-sync-delay",
      "0",
    ]);
    const ours = await startServer();
    try {
      const pc = await Conn.open(primary.port);
      const c = await Conn.open(ours.port);
      await writeData(pc, "before");
      await c.call("SET", "mine", "replaced by the primary's data");
      assert.equal(await c.call("REPLICAOF", "127.0.0.1", primary.port), "OK");
      assert.equal(
        await c.call("REPLICAOF", "127.0.0.1", primary.port),
        "OK Already connected to specified master",
      );
      await caughtUp(pc, c);
      await writeData(pc, "after");
      await pc.call("SELECT", 5);
      await pc.call("INCRBY", "counter", 7);
      await pc.call("SELECT", 0);
      assert.equal(await pc.call("WAIT", 1, 10_000), 1);
      await caughtUp(pc, c);
      // redis-server 7.0.15 propagates XREADGROUP without the group's
      // entries-read (its own replicas show nil too): left out.
      const plain = { entriesRead: false };
      assert.deepEqual(await readAll(c, plain), await readAll(pc, plain));
      assert.equal(await c.call("EXISTS", "mine"), 0);
      // Clients may read, not write.
      const refused = await c.call("SET", "x", "y");
      assert.ok(refused instanceof ReplyError);
      assert.equal(
        refused.message,
        "READONLY You can't write against a read only replica.",
      );
      assert.equal(await c.call("EXISTS", "x"), 0);
      // In a transaction (refused while queuing: EXEC aborts) and in a
      // script, as redis-server's replicas answer.
      assert.equal(await c.call("MULTI"), "OK");
      const queued = await c.call("SET", "x", "y");
      assert.ok(queued instanceof ReplyError);
      assert.match(queued.message, /^READONLY /);
      const aborted = await c.call("EXEC");
      assert.ok(aborted instanceof ReplyError);
      assert.match(aborted.message, /^EXECABORT /);
      const scripted = await c.call(
        "EVAL",
        "return redis.call('SET', KEYS[1], 'y')",
        1,
        "x",
      );
      assert.ok(scripted instanceof ReplyError);
      assert.match(scripted.message, /READONLY You can't write/);
      assert.equal(await c.call("EXISTS", "x"), 0);
      const role = await c.call("ROLE") as RespValue[];
      assert.deepEqual(role.slice(0, 4), [
        "slave",
        "127.0.0.1",
        primary.port,
        "connected",
      ]);
      const hello = await c.call("HELLO", "2") as RespValue[];
      assert.equal(hello[hello.indexOf("role") + 1], "replica");
      const r = await info(c, "replication");
      assert.equal(r.get("role"), "slave");
      assert.equal(r.get("master_link_status"), "up");
      const wait = await c.call("WAIT", 1, 0);
      assert.ok(wait instanceof ReplyError);
      assert.match(wait.message, /^ERR WAIT cannot be used with replica/);
      // The primary drops the link: we reconnect with PSYNC and get the
      // rest from its backlog.
      assert.equal(await pc.call("CLIENT", "KILL", "TYPE", "replica"), 1);
      for (let i = 0; i < 50; i++) await pc.call("RPUSH", "during", i);
      await until("a partial resync", async () => {
        return (await info(pc, "stats")).get("sync_partial_ok") === "1";
      });
      assert.equal((await info(pc, "stats")).get("sync_full"), "1");
      await caughtUp(pc, c);
      assert.deepEqual(await readAll(c, plain), await readAll(pc, plain));
      // Promoted: writes again, the data kept.
      assert.equal(await c.call("REPLICAOF", "NO", "ONE"), "OK");
      assert.equal(await c.call("SET", "x", "y"), "OK");
      assert.equal(await c.call("GET", "after:str"), "hello");
      assert.equal((await c.call("ROLE") as RespValue[])[0], "master");
      pc.close();
      c.close();
    } finally {
      await ours.close();
      await primary.stop();
    }
  },
);

Deno.test(
  "--replicaof host port: our server starts as a replica",
  opts,
  async () => {
    const config = parseServerArgs(["--replicaof", "127.0.0.1", "6380"]);
    assert.equal(config.replicaof, "127.0.0.1 6380");
    assert.equal(parseServerArgs(["--slaveof", "h 1"]).replicaof, "h 1");
    assert.throws(() => parseServerArgs(["--replicaof", "h", "x"]));
    const primary = await RedisServer.start([
      "--repl-diskless-sync-delay",
      "0",
    ]);
    const ours = await startServer({ replicaof: `127.0.0.1 ${primary.port}` });
    try {
      const pc = await Conn.open(primary.port);
      const c = await Conn.open(ours.port);
      await pc.call("SET", "k", "from the primary");
      await caughtUp(pc, c);
      assert.equal(await c.call("GET", "k"), "from the primary");
      assert.deepEqual(await c.call("CONFIG", "GET", "replicaof"), [
        "replicaof",
        `127.0.0.1 ${primary.port}`,
      ]);
      pc.close();
      c.close();
    } finally {
      await ours.close();
      await primary.stop();
    }
  },
);

Deno.test(
  "a full sync that a replica does not read holds the snapshots: BGSAVE and SAVE answer as Redis, SHUTDOWN stops the sync and saves",
  { sanitizeResources: false, sanitizeOps: false },
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-repl-hold-" });
    try {
      const server = await startServer({ dir, save: [[3600, 1]] });
      let closed = false;
      try {
        using c = await Conn.open(server.port);
        // About 24 MB of RDB (values that do not compress): more than the
        // socket buffers take.
        const random = () => {
          const b = crypto.getRandomValues(new Uint8Array(500));
          return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
        };
        for (let i = 0; i < 24_000; i += 1000) {
          const args: string[] = [];
          for (let j = i; j < i + 1000; j++) args.push(`k${j}`, random());
          await c.call("MSET", ...args);
        }
        await c.call("SELECT", "3");
        await c.call("SET", "in-db-3", "kept");
        // A replica that asks for a full sync, then never reads.
        const replica = await Deno.connect({
          hostname: "127.0.0.1",
          port: server.port,
        });
        try {
          const send = (s: string) =>
            replica.write(new TextEncoder().encode(s));
          await send("*3\r\n$8\r\nREPLCONF\r\n$4\r\ncapa\r\n$3\r\neof\r\n");
          // Its +OK read first: PSYNC is refused with output pending.
          const ok = new Uint8Array(5);
          for (let got = 0; got < 5;) {
            const n = await replica.read(ok.subarray(got));
            if (n === null) break;
            got += n;
          }
          assert.equal(new TextDecoder().decode(ok), "+OK\r\n");
          await send("*3\r\n$5\r\nPSYNC\r\n$1\r\n?\r\n$2\r\n-1\r\n");
          await until("the sync to start", async () => {
            const i = await info(c, "persistence");
            return i.get("rdb_bgsave_in_progress") === "1";
          });
          const bg = await c.call("BGSAVE");
          assert.ok(bg instanceof ReplyError);
          assert.equal(bg.message, "ERR Background save already in progress");
          const save = await c.call("SAVE");
          assert.ok(save instanceof ReplyError);
          assert.equal(save.message, "ERR Background save already in progress");
          // SHUTDOWN's save goes through: the sync is stopped first.
          assert.equal(await server.shutdown(), true);
          closed = true;
        } finally {
          try {
            replica.close();
          } catch {
            // closed by the server
          }
        }
      } finally {
        if (!closed) await server.close();
        await server.finished;
      }
      // Everything, database 3 too, is in the snapshot.
      await using again = await startServer({ dir });
      using c = await Conn.open(again.port);
      assert.equal(await c.call("DBSIZE"), 24_000);
      await c.call("SELECT", "3");
      assert.equal(await c.call("GET", "in-db-3"), "kept");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "Client: replicaof(), role() and replicaof('NO', 'ONE') against our server and redis-server",
  opts,
  async () => {
    await using primary = await RedisServer.start();
    await using ours = await startServer();
    await using other = await RedisServer.start();
    for (const port of [ours.port, other.port]) {
      await using client = await Client.connect({ port });
      assert.equal(await client.replicaof("127.0.0.1", primary.port), "OK");
      assert.deepEqual((await client.role()).slice(0, 3), [
        "slave",
        "127.0.0.1",
        primary.port,
      ]);
      assert.equal(await client.replicaof("NO", "ONE"), "OK");
      assert.equal((await client.role())[0], "master");
    }
  },
);

Deno.test(
  "a read-only replica refuses writes from the dashboard console and the REST API too",
  opts,
  async () => {
    await using primary = await RedisServer.start();
    await using ours = await startServer({ httpPort: freePort() });
    using c = await Conn.open(ours.port);
    assert.equal(await c.call("REPLICAOF", "127.0.0.1", primary.port), "OK");
    const base = `http://127.0.0.1:${ours.httpPort}`;
    const rest = await fetch(`${base}/set/b/2`);
    const restBody = await rest.json();
    assert.match(String(restBody.error), /^READONLY You can't write/);
    const console = await fetch(`${base}/api/command`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ command: "SET b 2" }),
    });
    const consoleBody = await console.json();
    assert.match(
      String(consoleBody.output ?? consoleBody.error),
      /READONLY You can't write/,
    );
    assert.equal(await c.call("EXISTS", "b"), 0);
    // Reads are served.
    assert.deepEqual(await (await fetch(`${base}/exists/b`)).json(), {
      result: 0,
    });
  },
);

Deno.test(
  "log lines of a replica carry Redis's S role letter, a primary's M",
  opts,
  async () => {
    await using primary = await RedisServer.start();
    const lines: string[] = [];
    await using ours = await startServer({
      loglevel: "notice",
      logSink: (l) => lines.push(l),
    });
    using c = await Conn.open(ours.port);
    assert.equal(await c.call("REPLICAOF", "127.0.0.1", primary.port), "OK");
    assert.equal(await c.call("REPLICAOF", "NO", "ONE"), "OK");
    const roles = lines.map((l) => /^\d+:([MS]) /.exec(l)?.[1]);
    assert.ok(roles.includes("S"), lines.join(""));
    assert.equal(roles.at(-1), "M", lines.join(""));
  },
);
