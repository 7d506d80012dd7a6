// Numbered databases (issue 15) on disk, with our server only: snapshots
// (SAVE, BGSAVE, the version 2 and 3 formats, a database past --databases,
// a BGSAVE racing a SWAPDB), the append-only log (MULTI over two
// databases, SWAPDB, MOVE, writes after a rewrite) and the memory of
// selected but empty databases.

import assert from "node:assert/strict";
import { encodeCommand, type RespValue } from "../protocol.ts";
import { PersistenceError } from "../persistence.ts";
import { bgsave, concat, Conn, startServer, withDir } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Runs commands pipelined, 1000 at a time; returns their replies. */
async function pipeline(c: Conn, cmds: Cmd[]): Promise<RespValue[]> {
  const out: RespValue[] = [];
  for (let i = 0; i < cmds.length; i += 1000) {
    const batch = cmds.slice(i, i + 1000);
    await c.send(concat(batch.map((cmd) => encodeCommand(cmd))));
    for (let j = 0; j < batch.length; j++) out.push(await c.reply());
  }
  return out;
}

type Cmd = (string | number)[];

/** The commands that read a key of each type. */
const READ: Record<string, (k: string) => Cmd[]> = {
  string: (k) => [["GET", k]],
  hash: (k) => [["HGETALL", k]],
  list: (k) => [["LRANGE", k, 0, -1]],
  set: (k) => [["SORT", k, "ALPHA"]],
  zset: (k) => [["ZRANGE", k, 0, -1, "WITHSCORES"]],
  stream: (k) => [["XRANGE", k, "-", "+"], ["XINFO", "GROUPS", k]],
};

/** Every database's keys with type, value and absolute expiry (ms), by
 * database number, read over `c` (which is left in database 0). */
async function dump(c: Conn, databases = 16): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (let db = 0; db < databases; db++) {
    await c.call("SELECT", String(db));
    const keys = (await c.call("KEYS", "*") as string[]).sort();
    if (keys.length === 0) continue;
    const types = await pipeline(c, keys.map((k) => ["TYPE", k])) as string[];
    const reads = keys.map((k, i) => [
      ...(READ[types[i]]?.(k) ?? [["TYPE", k]]),
      ["PEXPIRETIME", k],
    ]);
    const replies = await pipeline(c, reads.flat());
    const entries: Record<string, unknown> = {};
    let r = 0;
    keys.forEach((k, i) => {
      const n = reads[i].length;
      entries[k] = [types[i], ...replies.slice(r, r + n)];
      r += n;
    });
    out[`db${db}`] = entries;
  }
  await c.call("SELECT", "0");
  return out;
}

/** Starts a server with `options` (a restart on a data directory) and
 * dumps it. */
async function dumpAfterRestart(
  options: Parameters<typeof startServer>[0],
): Promise<Record<string, unknown>> {
  await using server = await startServer(options);
  using c = await Conn.open(server.port);
  return await dump(c);
}

/** Data of every type, some with TTLs, in databases 0, 1, 5 and 15. */
async function fill(c: Conn): Promise<void> {
  const at = String(Date.now() + 3_600_000);
  for (const db of [0, 1, 5, 15]) {
    const d = String(db);
    await c.call("SELECT", d);
    await c.call("SET", "s", `string in ${d}`);
    await c.call("SET", `only-${d}`, d, "PX", "3600000");
    await c.call("HSET", "h", "f", d, "g", "x");
    await c.call("RPUSH", "l", "a", d, "c");
    await c.call("SADD", "set", "m", d);
    await c.call("ZADD", "z", "1", "a", db, "b");
    await c.call("XADD", "x", `${db + 1}-1`, "f", d);
    await c.call("XGROUP", "CREATE", "x", "g", "0");
    await c.call("PEXPIREAT", "h", at);
    await c.call("PEXPIREAT", "z", at);
  }
  await c.call("SELECT", "0");
}

/** The JSON of the snapshot file. */
async function snapshotJson(dir: string) {
  return JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
}

Deno.test(
  "databases on disk: SAVE, then a restart loads every database",
  opts,
  () =>
    withDir(async (dir) => {
      let before;
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await fill(c);
        before = await dump(c);
        assert.deepEqual(
          Object.keys(before),
          ["db0", "db1", "db5", "db15"],
        );
        assert.equal(await c.call("SAVE"), "OK");
      }
      const json = await snapshotJson(dir);
      assert.equal(json.version, 3);
      assert.deepEqual(
        json.entries.filter((e: unknown) => !Array.isArray(e)),
        [{ db: 1 }, { db: 5 }, { db: 15 }],
      );
      assert.deepEqual(await dumpAfterRestart({ dir }), before);
    }),
);

Deno.test(
  "databases on disk: BGSAVE, then a restart loads every database",
  opts,
  () =>
    withDir(async (dir) => {
      let before;
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await fill(c);
        before = await dump(c);
        await bgsave(c, server);
      }
      assert.deepEqual(await dumpAfterRestart({ dir }), before);
    }),
);

Deno.test(
  "databases on disk: the log replays writes, MULTI over two databases, SWAPDB, MOVE and COPY",
  opts,
  () =>
    withDir(async (dir) => {
      let before;
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await fill(c);
        await c.call("MULTI");
        await c.call("SET", "tx", "zero");
        await c.call("SELECT", "7");
        await c.call("SET", "tx", "seven");
        await c.call("RPUSH", "l", "in 7");
        assert.deepEqual(await c.call("EXEC"), ["OK", "OK", "OK", 1]);
        // The client is in database 7 after EXEC: the log must say so.
        await c.call("SET", "after-exec", "7");
        await c.call("SELECT", "1");
        assert.equal(await c.call("SWAPDB", "1", "5"), "OK");
        await c.call("SET", "after-swap", "1");
        assert.equal(await c.call("MOVE", "s", "2"), 1);
        assert.equal(await c.call("COPY", "l", "l", "DB", "3"), 1);
        await c.call(
          "EVAL",
          "redis.call('SELECT', 9); return redis.call('SET', 'lua', '9')",
          "0",
        );
        await c.call("SET", "after-eval", "1");
        await c.call("SELECT", "15");
        await c.call("FLUSHDB");
        await c.call("SET", "new-15", "x");
        before = await dump(c);
        assert.deepEqual(before.db7, {
          "after-exec": ["string", "7", -1],
          l: ["list", ["in 7"], -1],
          tx: ["string", "seven", -1],
        });
      }
      assert.deepEqual(
        await dumpAfterRestart({ dir, appendonly: true }),
        before,
      );
    }),
);

Deno.test(
  "databases on disk: writes after BGREWRITEAOF replay into their databases",
  opts,
  () =>
    withDir(async (dir) => {
      let before;
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await fill(c);
        // The client's database is 5 while the log is rewritten: the
        // rewritten log ends in another database, the next write must
        // select its own.
        await c.call("SELECT", "5");
        assert.match(
          await c.call("BGREWRITEAOF") as string,
          /rewriting started/,
        );
        await server.persistence.waitForRewrite();
        await c.call("SET", "after-rewrite", "5");
        await c.call("SELECT", "0");
        await c.call("SET", "after-rewrite", "0");
        await c.call("SWAPDB", "0", "15");
        await c.call("MOVE", "after-rewrite", "15");
        before = await dump(c);
        assert.equal(
          (before.db5 as Record<string, unknown>)["after-rewrite"]?.toString(),
          "string,5,-1",
        );
      }
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.ok(log.includes("SELECT"), "the log selects databases");
      assert.deepEqual(
        await dumpAfterRestart({ dir, appendonly: true }),
        before,
      );
    }),
);

Deno.test(
  "databases on disk: writes during BGREWRITEAOF in several databases",
  opts,
  () =>
    withDir(async (dir) => {
      let before;
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await preload(c, 3, 50_000);
        await c.call("SELECT", "4");
        await c.call("BGREWRITEAOF");
        // Written while the rewrite runs: kept aside, then appended.
        let during = 0;
        for (let i = 0; i < 50; i++) {
          await c.call("SET", `during-${i}`, "4");
          await c.call("SELECT", String(i % 3));
          await c.call("SET", `during-${i}`, String(i % 3));
          await c.call("SELECT", "4");
          if (server.persistence.rewriteInProgress) during++;
        }
        await server.persistence.waitForRewrite();
        assert.ok(during > 0, "no write happened during the rewrite");
        await c.call("SET", "after", "4");
        before = await dump(c);
      }
      assert.deepEqual(
        await dumpAfterRestart({ dir, appendonly: true }),
        before,
      );
    }),
);

Deno.test(
  "databases on disk: scripts' writes replay into their databases",
  opts,
  () =>
    withDir(async (dir) => {
      let before;
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await c.call("SELECT", "2");
        // Only in the database the script selects: the caller's did not
        // change, the writes are logged all the same.
        await c.call(
          "EVAL",
          "redis.call('SELECT', 9); return redis.call('SET', 'lua', '9')",
          "0",
        );
        await c.call("SET", "after", "2");
        // Inside EXEC a script's several writes are part of the
        // transaction (not a MULTI of their own, which would not replay).
        await c.call("MULTI");
        await c.call(
          "EVAL",
          "redis.call('SET', 'a', '1'); redis.call('SELECT', 4); " +
            "return redis.call('SET', 'b', '1')",
          "0",
        );
        await c.call("SET", "c", "2");
        await c.call(
          "EVAL",
          "redis.call('SET', 'd', '1'); return redis.call('SET', 'e', '1')",
          "0",
        );
        assert.deepEqual(await c.call("EXEC"), ["OK", "OK", "OK"]);
        // A script that yields past the busy threshold is logged when it
        // ends, in its caller's database.
        await c.call("CONFIG", "SET", "busy-reply-threshold", "5");
        await c.call("SELECT", "3");
        const slow = "local j = 0 for i = 1, 5000000 do j = j + i end " +
          "redis.call('SET', 'slow', 'x'); return redis.call('SET', 'slow2', 'y')";
        assert.equal(await c.call("EVAL", slow, "0"), "OK");
        await c.call("SELECT", "6");
        assert.equal(
          await c.call("EVAL", "redis.call('SELECT', 7); " + slow, "0"),
          "OK",
        );
        await c.call("SET", "in-6", "x");
        before = await dump(c);
        assert.deepEqual(Object.keys(before), [
          "db2",
          "db3",
          "db4",
          "db6",
          "db7",
          "db9",
        ]);
      }
      assert.deepEqual(
        await dumpAfterRestart({ dir, appendonly: true }),
        before,
      );
    }),
);

/** `n` string keys in database `db` (pipelined), the client left there. */
async function preload(c: Conn, db: number, n: number, value = "v") {
  await c.call("SELECT", String(db));
  for (let i = 0; i < n; i += 1000) {
    const batch: Uint8Array[] = [];
    for (let j = i; j < i + 1000 && j < n; j++) {
      batch.push(encodeCommand(["SET", `k${j}`, value]));
    }
    await c.send(concat(batch));
    for (let j = 0; j < batch.length; j++) await c.reply();
  }
}

Deno.test(
  "databases on disk: a version 2 snapshot (database 0 only) still loads",
  opts,
  () =>
    withDir(async (dir) => {
      const at = Date.now() + 3_600_000;
      // As version 2 wrote it: header, entries, count; no database markers.
      await Deno.writeTextFile(
        `${dir}/dump.json`,
        `{"format":"@kv/store snapshot","version":2,"time":${Date.now()},` +
          `"entries":[\n["s","v"],\n["t","w",${at}],\n` +
          `["h",{"type":"hash","commands":[["HSET","h","f","1","g","2"]]}],\n` +
          `["l",{"type":"list","commands":[["RPUSH","l","a","b"]]},${at}]\n` +
          `],"count":4}\n`,
      );
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      assert.deepEqual(await dump(c), {
        db0: {
          h: ["hash", ["f", "1", "g", "2"], -1],
          l: ["list", ["a", "b"], at],
          s: ["string", "v", -1],
          t: ["string", "w", at],
        },
      });
    }),
);

Deno.test(
  "databases on disk: a snapshot with database 0 only is version 2, others are version 3",
  opts,
  () =>
    withDir(async (dir) => {
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      await c.call("SET", "a", "1");
      // Selected, even written then emptied: still nothing to save there.
      for (let db = 1; db < 16; db++) {
        await c.call("SELECT", String(db));
        await c.call("SET", "gone", "x");
        await c.call("DEL", "gone");
      }
      assert.equal(await c.call("SAVE"), "OK");
      let json = await snapshotJson(dir);
      assert.equal(json.version, 2);
      assert.deepEqual(json.entries, [["a", "1"]]);
      await c.call("SET", "b", "2"); // in database 15
      assert.equal(await c.call("SAVE"), "OK");
      json = await snapshotJson(dir);
      assert.equal(json.version, 3);
      assert.deepEqual(json.entries, [["a", "1"], { db: 15 }, ["b", "2"]]);
      // Database 0 empty, another not: version 3, the marker first.
      await c.call("SELECT", "0");
      await c.call("FLUSHDB");
      assert.equal(await c.call("SAVE"), "OK");
      json = await snapshotJson(dir);
      assert.equal(json.version, 3);
      assert.deepEqual(json.entries, [{ db: 15 }, ["b", "2"]]);
      await using again = await startServer({ dir, port: 0 });
      using c2 = await Conn.open(again.port);
      assert.deepEqual(await dump(c2), { db15: { b: ["string", "2", -1] } });
    }),
);

/** The PersistenceError a server with `options` fails to start with. */
async function startError(
  options: Parameters<typeof startServer>[0],
): Promise<PersistenceError> {
  const e = await startServer(options).then(
    async (s) => {
      await s[Symbol.asyncDispose]();
      return undefined;
    },
    (e) => e,
  );
  assert.ok(e instanceof PersistenceError, `started, or ${e}`);
  return e;
}

Deno.test(
  "databases on disk: a snapshot holding database 12 does not load with --databases 4",
  opts,
  () =>
    withDir(async (dir) => {
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await c.call("SET", "a", "1");
        await c.call("SELECT", "12");
        await c.call("SET", "b", "2");
        assert.equal(await c.call("SAVE"), "OK");
      }
      const path = `${dir}/dump.json`;
      const e = await startError({ dir, databases: 4 });
      assert.ok(e.message.includes(path), e.message);
      assert.match(e.message, /database 12/);
      assert.match(e.message, /out of range/);
      // The file is left alone.
      assert.equal((await snapshotJson(dir)).version, 3);
    }),
);

Deno.test(
  "databases on disk: a log selecting database 12 does not load with --databases 4",
  opts,
  () =>
    withDir(async (dir) => {
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await c.call("SELECT", "12");
        await c.call("SET", "b", "2");
      }
      const e = await startError({ dir, appendonly: true, databases: 4 });
      assert.ok(e.message.includes(`${dir}/appendonly.aof`), e.message);
      assert.match(e.message, /out of range/);
    }),
);

/** Waits (bounded) until INFO persistence says a BGSAVE runs. */
async function bgsaveRunning(c: Conn): Promise<boolean> {
  const info = await c.call("INFO", "persistence") as string;
  return info.includes("\r\nrdb_bgsave_in_progress:1\r\n");
}

Deno.test(
  "databases on disk: a BGSAVE running while SWAPDB happens saves the contents before the swap",
  opts,
  () =>
    withDir(async (dir) => {
      const n = 100_000;
      let after;
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await preload(c, 1, n, "one");
        await preload(c, 0, n, "zero");
        await c.call("SET", "only-in-0", "x");
        assert.equal(await c.call("BGSAVE"), "Background saving started");
        assert.ok(await bgsaveRunning(c), "the save ended at once");
        // Swapped and changed while the save runs: none of it is saved.
        assert.equal(await c.call("SWAPDB", "0", "1"), "OK");
        await c.call("SET", "k0", "after");
        await c.call("DEL", "k1");
        await c.call("SELECT", "1");
        await c.call("SET", "k2", "after");
        await c.call("SWAPDB", "1", "6"); // database 6 was not saved
        await c.call("SELECT", "6");
        await c.call("SET", "k3", "after");
        assert.ok(await bgsaveRunning(c), "the save ended before the writes");
        await server.persistence.waitForBgsave();
        const info = await c.call("INFO", "persistence") as string;
        assert.match(info, /rdb_last_bgsave_status:ok\r\n/);
        // The file holds what was there when BGSAVE began.
        const json = await snapshotJson(dir);
        assert.equal(json.version, 3);
        assert.equal(json.count, 2 * n + 1);
        const saved: Record<string, Record<string, number>> = {};
        let db = "db0";
        for (const e of json.entries) {
          if (!Array.isArray(e)) db = `db${e.db}`;
          else {
            const values = saved[db] ??= {};
            values[e[1]] = (values[e[1]] ?? 0) + 1;
            assert.equal(e.length, 2, `${JSON.stringify(e)} has a TTL`);
          }
        }
        assert.deepEqual(saved, {
          db0: { zero: n, x: 1 },
          db1: { one: n },
        });
        // A second save works and saves the swapped contents.
        after = await dump(c);
        await bgsave(c, server);
      }
      assert.deepEqual(await dumpAfterRestart({ dir }), after);
    }),
);

Deno.test(
  "databases on disk: what a BGSAVE racing SWAPDB wrote",
  opts,
  () =>
    withDir(async (dir) => {
      const n = 100_000;
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await preload(c, 0, n, "zero");
        await c.call("SELECT", "3");
        await c.call("SET", "small", "three");
        assert.equal(await c.call("BGSAVE"), "Background saving started");
        assert.ok(await bgsaveRunning(c), "the save ended at once");
        // Database 2 was empty when the save began: swapping it with a
        // saved one must not lose or mix the saved contents.
        assert.equal(await c.call("SWAPDB", "0", "2"), "OK");
        assert.equal(await c.call("SWAPDB", "3", "0"), "OK");
        await c.call("SELECT", "2");
        await c.call("SET", "k5", "after");
        await c.call("SELECT", "0");
        await c.call("SET", "small", "after");
        await server.persistence.waitForBgsave();
      }
      await using again = await startServer({ dir });
      using c = await Conn.open(again.port);
      assert.equal(await c.call("DBSIZE"), n);
      assert.equal(await c.call("GET", "k5"), "zero");
      await c.call("SELECT", "3");
      assert.equal(await c.call("DBSIZE"), 1);
      assert.equal(await c.call("GET", "small"), "three");
      await c.call("SELECT", "2");
      assert.equal(await c.call("DBSIZE"), 0);
    }),
);

/** INFO memory's used_memory. */
async function usedMemory(c: Conn): Promise<number> {
  const info = await c.call("INFO", "memory") as string;
  return Number(info.match(/\r\nused_memory:(\d+)\r\n/)![1]);
}

Deno.test(
  "databases: selected but empty databases use no measurable memory",
  opts,
  async () => {
    await using server = await startServer({ databases: 16 });
    using c = await Conn.open(server.port);
    await c.call("SET", "a", "1");
    const before = await usedMemory(c);
    for (let db = 1; db < 16; db++) {
      await c.call("SELECT", String(db));
      await c.call("SET", "gone", "x".repeat(1000));
      await c.call("DEL", "gone");
    }
    await c.call("SELECT", "0");
    const after = await usedMemory(c);
    assert.ok(
      Math.abs(after - before) < 1 << 20,
      `used_memory ${before} before, ${after} after`,
    );
    assert.equal(
      await c.call("INFO", "keyspace"),
      "# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n",
    );
  },
);

Deno.test(
  "databases: SHUTDOWN saves when only another database than 0 holds keys",
  opts,
  async () => {
    await withDir(async (dir) => {
      const server = await startServer({ dir, save: [[3600, 1]] });
      {
        using c = await Conn.open(server.port);
        await c.call("SELECT", "7");
        await c.call("SET", "only", "here");
      }
      assert.equal(await server.shutdown(), true);
      await server.finished;
      await using again = await startServer({ dir });
      using c = await Conn.open(again.port);
      await c.call("SELECT", "7");
      assert.equal(await c.call("GET", "only"), "here");
    });
  },
);
