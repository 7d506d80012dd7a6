// Memory across numbered databases: every database's keys count
// against one maxmemory, eviction takes keys from whichever database holds
// the best candidates, and each eviction is logged (DEL after a SELECT of
// its database) and notified in its database's channel.

import assert from "node:assert/strict";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { hasRedis } from "./_compat.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** `keys=N` of `dbI` in INFO keyspace (0 when the line is absent). */
function keysIn(info: string, db: number): number {
  const m = new RegExp(`^db${db}:keys=(\\d+)`, "m").exec(info);
  return m === null ? 0 : Number(m[1]);
}

Deno.test(
  "databases: keys of every database count against maxmemory, LRU evicts the idle database's",
  opts,
  async () => {
    await using server = await startServer({ appendonly: true });
    using c = await Conn.open(server.port);
    const value = "x".repeat(200);
    // Old keys in database 3, then the limit, then new keys in database 0.
    assert.equal(await c.call("SELECT", "3"), "OK");
    for (let i = 0; i < 2000; i++) await c.call("SET", `old:${i}`, value);
    const used = Number(
      /used_memory:(\d+)/.exec(await c.call("INFO", "memory") as string)![1],
    );
    assert.equal(
      await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"),
      "OK",
    );
    assert.equal(
      await c.call("CONFIG", "SET", "maxmemory", String(used + 200_000)),
      "OK",
    );
    assert.equal(await c.call("SELECT", "0"), "OK");
    // The LRU clock counts seconds: the old keys must be idle longer.
    await new Promise((r) => setTimeout(r, 1100));
    for (let i = 0; i < 4000; i++) {
      assert.equal(await c.call("SET", `new:${i}`, value), "OK");
    }
    const info = await c.call("INFO") as string;
    const evicted = Number(/evicted_keys:(\d+)/.exec(info)![1]);
    assert.ok(evicted > 0, "keys were evicted");
    const left3 = keysIn(info, 3);
    const left0 = keysIn(info, 0);
    assert.equal(left3 + left0 + evicted, 6000);
    // The idle keys of database 3 went first.
    assert.ok(
      2000 - left3 > (4000 - left0),
      `db3 lost ${2000 - left3}, db0 ${4000 - left0}`,
    );
    // Each eviction is a DEL in the log, in its database.
    server.persistence.commit();
    const aof = await Deno.readTextFile(`${server.config.dir}/appendonly.aof`);
    assert.match(
      aof,
      /\*2\r\n\$6\r\nSELECT\r\n\$1\r\n3\r\n\*2\r\n\$3\r\nDEL\r\n\$\d+\r\nold:/,
    );
  },
);

Deno.test(
  "databases: an evicted key is notified in its own database's channel",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    using sub = await Conn.open(server.port);
    assert.equal(
      await c.call("CONFIG", "SET", "notify-keyspace-events", "Ee"),
      "OK",
    );
    await sub.call(
      "SUBSCRIBE",
      "__keyevent@5__:evicted",
      "__keyevent@0__:evicted",
    );
    await sub.reply(); // the second subscription
    assert.equal(await c.call("SELECT", "5"), "OK");
    for (let i = 0; i < 200; i++) {
      await c.call("SET", `k:${i}`, "v".repeat(100));
    }
    assert.equal(
      await c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random"),
      "OK",
    );
    assert.equal(await c.call("CONFIG", "SET", "maxmemory", "1"), "OK");
    // Over the limit: the next command evicts first (from database 5, the
    // only one with keys) until nothing is left.
    await c.call("GET", "k:0");
    assert.equal(await c.call("DBSIZE"), 0);
    assert.equal(await c.call("CONFIG", "SET", "maxmemory", "0"), "OK");
    const m = await sub.reply() as string[];
    assert.deepEqual(m.slice(0, 2), ["message", "__keyevent@5__:evicted"]);
    assert.match(m[2], /^k:\d+$/);
  },
);

Deno.test({
  name:
    "databases: MEMORY STATS has a db.N entry per database with keys and counts all keys, as redis-server",
  ignore: !hasRedis,
  ...opts,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const shape = async (port: number) => {
      using c = await Conn.open(port);
      await c.call("SET", "a", "1");
      await c.call("SELECT", "4");
      await c.call("SET", "b", "2", "EX", "100");
      await c.call("SET", "c", "3");
      const stats = await c.call("MEMORY", "STATS") as unknown[];
      const names = stats.filter((_, i) => i % 2 === 0) as string[];
      const at = (name: string) => stats[names.indexOf(name) * 2 + 1];
      return {
        names,
        keys: at("keys.count"),
        db4: (at("db.4") as unknown[]).filter((_, i) => i % 2 === 0),
      };
    };
    assert.deepEqual(await shape(ours.port), await shape(redis.port));
  },
});

Deno.test(
  "databases: FLUSHALL is logged even when every database was empty (as Redis forces it)",
  opts,
  async () => {
    await using server = await startServer({ appendonly: true });
    using c = await Conn.open(server.port);
    assert.equal(await c.call("FLUSHALL"), "OK");
    server.persistence.commit();
    const aof = await Deno.readTextFile(`${server.config.dir}/appendonly.aof`);
    assert.ok(aof.endsWith("*1\r\n$8\r\nFLUSHALL\r\n"), JSON.stringify(aof));
  },
);
