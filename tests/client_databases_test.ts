// Numbered databases in the typed Client: the `db` option and the URL path
// select a database on connecting, after every reconnect and on the
// connections the client opens for itself (blocking commands, isolated());
// select() is remembered. Run against our server and redis-server alike.
// ioredis and node-redis with their own `db` options against both.

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { Client, ReplyError } from "../mod.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { hasRedis } from "./_compat.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Runs `fn` as a step against our server, then against redis-server
 * (16 databases, as by default) when it is installed. */
async function onBoth(
  t: Deno.TestContext,
  fn: (port: number) => Promise<void>,
): Promise<void> {
  await t.step("kv", async () => {
    await using server = await startServer();
    await fn(server.port);
  });
  await t.step({
    name: "redis-server",
    ignore: !hasRedis,
    fn: async () => {
      await using redis = await RedisServer.start();
      await fn(redis.port);
    },
  });
}

/** The value of `key` in database `db`, read over a raw connection. */
async function valueIn(port: number, db: number, key: string) {
  using c = await Conn.open(port);
  assert.equal(await c.call("SELECT", db), "OK");
  return await c.call("GET", key);
}

/** Runs commands on a raw connection that first selects `db`. */
async function rawIn(
  port: number,
  db: number,
  ...commands: (string | number)[][]
) {
  using c = await Conn.open(port);
  assert.equal(await c.call("SELECT", db), "OK");
  const replies = [];
  for (const command of commands) replies.push(await c.call(...command));
  return replies;
}

/** Kills the client's connection (CLIENT KILL from another connection)
 * and waits until it has reconnected. */
async function killAndReconnect(client: Client, port: number): Promise<void> {
  const id = await client.clientId();
  const reconnected = new Promise<void>((resolve) =>
    client.addEventListener("connect", () => resolve(), { once: true })
  );
  using c = await Conn.open(port);
  assert.equal(await c.call("CLIENT", "KILL", "ID", id), 1);
  await reconnected;
  assert.notEqual(await client.clientId(), id);
}

/** Waits (bounded, 10 s) until `n` clients are blocked. */
async function blockedClients(port: number, n: number): Promise<void> {
  using c = await Conn.open(port);
  for (let i = 0; i < 500; i++) {
    const info = String(await c.call("INFO", "clients"));
    if (new RegExp(`blocked_clients:${n}\\r\\n`).test(info)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never saw ${n} blocked clients`);
}

Deno.test({
  name: "client databases: db: 3 writes land in database 3",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({ port, db: 3 });
      assert.equal(client.db, 3);
      await client.set("k", "three");
      assert.equal(await client.get("k"), "three");
      assert.equal(await valueIn(port, 3, "k"), "three");
      assert.equal(await valueIn(port, 0, "k"), null);
      assert.match(await client.clientInfo(), / db=3 /);
      // The local cache's connection reads database 3 too.
      await using cache = await client.localCache();
      assert.equal(await cache.get("k"), "three");
      // Subscriptions (channels are not per database) work alongside.
      const got: string[] = [];
      await using _sub = await client.subscribe(
        "ch",
        (m) => got.push(m.message),
      );
      assert.equal(await client.publish("ch", "hi"), 1);
      for (let i = 0; i < 250 && got.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(got, ["hi"]);
      await using zero = await Client.connect({ port });
      assert.equal(zero.db, 0);
      assert.equal(await zero.get("k"), null);
    });
  },
});

Deno.test({
  name: "client databases: redis://host:port/3 selects database 3",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect(`redis://127.0.0.1:${port}/3`);
      assert.equal(client.db, 3);
      assert.equal(client.options.db, 3);
      await client.set("u", "from the url");
      assert.equal(await valueIn(port, 3, "u"), "from the url");
      assert.equal(await valueIn(port, 0, "u"), null);
      await using zero = await Client.connect(`redis://127.0.0.1:${port}/0`);
      assert.equal(await zero.get("u"), null);
      await using bare = await Client.connect(
        new URL(`redis://127.0.0.1:${port}/`),
      );
      assert.equal(bare.db, 0);
    });
  },
});

Deno.test("client databases: a URL path that is not a number is a TypeError", async () => {
  for (const path of ["abc", "1.5", "3/4", "-1", "3x", "%33"]) {
    await assert.rejects(
      Client.connect(`redis://127.0.0.1:1/${path}`),
      (e: Error) => {
        assert.ok(e instanceof TypeError, `/${path}: ${e}`);
        assert.match(
          e.message,
          new RegExp(
            `the path of a redis: URL is a database number \\(redis://host:port/3\\), not "/${
              path.replace(".", "\\.")
            }"`,
          ),
        );
        return true;
      },
    );
  }
  await assert.rejects(
    Client.connect({ port: 1, db: 1.5 }),
    new TypeError("db must be an integer, not 1.5"),
  );
});

Deno.test({
  name: "client databases: a reconnect after CLIENT KILL keeps database 3",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({
        port,
        db: 3,
        name: "keeper",
        reconnect: { minDelay: 10 },
      });
      await client.set("before", "1");
      await killAndReconnect(client, port);
      assert.equal(client.db, 3);
      assert.equal(await client.get("before"), "1");
      await client.set("after", "2");
      assert.equal(await valueIn(port, 3, "after"), "2");
      assert.equal(await valueIn(port, 0, "after"), null);
      // The name and the database were both set again.
      const info = await client.clientInfo();
      assert.match(info, / name=keeper /);
      assert.match(info, / db=3 /);
    });
  },
});

Deno.test({
  name:
    "client databases: BLPOP from a db: 2 client is served by a push in database 2",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({ port, db: 2 });
      const popped = client.blpop(["q"], 0);
      await blockedClients(port, 1);
      // A push in database 0 does not serve it; the one in database 2 does.
      await rawIn(port, 0, ["LPUSH", "q", "in 0"]);
      await rawIn(port, 2, ["LPUSH", "q", "in 2"]);
      assert.deepEqual(await popped, { key: "q", element: "in 2" });
      assert.deepEqual(await rawIn(port, 0, ["LLEN", "q"]), [1]);
      assert.equal(client.blockingConnections, 1);
    });
  },
});

Deno.test({
  name: "client databases: isolated() WATCH in database 2",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({ port, db: 2 });
      await client.set("w", "start");
      // A write to the same name in database 0 does not touch the watch.
      const untouched = await client.isolated(async (c) => {
        assert.equal(c.db, 2);
        await c.watch("w");
        assert.equal(await c.get("w"), "start");
        await rawIn(port, 0, ["SET", "w", "other database"]);
        return await c.multi().set("w", "mine").exec();
      });
      assert.deepEqual(untouched, ["OK"]);
      assert.equal(await valueIn(port, 2, "w"), "mine");
      // One in database 2 aborts the transaction.
      const aborted = await client.isolated(async (c) => {
        await c.watch("w");
        await rawIn(port, 2, ["SET", "w", "changed"]);
        return await c.multi().set("w", "lost").exec();
      });
      assert.equal(aborted, null);
      assert.equal(await valueIn(port, 2, "w"), "changed");
      assert.equal(await valueIn(port, 0, "w"), "other database");
    });
  },
});

Deno.test({
  name:
    "client databases: select(5) is remembered by reconnects and blocking connections",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({
        port,
        reconnect: { minDelay: 10 },
      });
      // An idle blocking connection, opened while in database 0.
      assert.equal(await client.blpop(["none"], 0.01), null);
      assert.equal(client.blockingConnections, 1);
      assert.equal(await client.select(5), "OK");
      assert.equal(client.db, 5);
      await killAndReconnect(client, port);
      assert.equal(client.db, 5);
      await client.set("k", "five");
      assert.equal(await valueIn(port, 5, "k"), "five");
      assert.match(await client.clientInfo(), / db=5 /);
      // The idle blocking connection selects database 5 before blocking.
      const popped = client.blpop(["q"], 0);
      await blockedClients(port, 1);
      await rawIn(port, 0, ["LPUSH", "q", "in 0"]);
      await rawIn(port, 5, ["LPUSH", "q", "in 5"]);
      assert.deepEqual(await popped, { key: "q", element: "in 5" });
      assert.equal(client.blockingConnections, 1);
      // isolated() opens its connection in database 5 too.
      assert.equal(await client.isolated((c) => c.get("k")), "five");
      // A SELECT on the isolated connection is its own.
      await client.isolated((c) => c.select(1));
      assert.equal(client.db, 5);
    });
  },
});

Deno.test({
  name:
    "client databases: SELECT in pipelines, transactions, execute and RESET",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({ port });
      await rawIn(port, 6, ["SET", "k", "six"]);
      await rawIn(port, 7, ["SET", "k", "seven"]);
      // In a pipeline: the commands after it, and the client from then on.
      const [ok, six] = await client.pipeline().select(6).get("k").exec();
      assert.deepEqual([ok, six], ["OK", "six"]);
      assert.equal(client.db, 6);
      assert.equal(await client.get("k"), "six");
      // A failed SELECT in a pipeline changes nothing.
      const [failed, still] = await client.pipeline().select(99).get("k")
        .exec();
      assert.ok(failed instanceof ReplyError);
      assert.equal(failed.message, "ERR DB index is out of range");
      assert.equal(still, "six");
      assert.equal(client.db, 6);
      // In a transaction that ran: the commands after it, then the client.
      const ran = await client.multi().get("k").select(7).get("k").exec();
      assert.deepEqual(ran, ["six", "OK", "seven"]);
      assert.equal(client.db, 7);
      assert.equal(await client.get("k"), "seven");
      // A transaction refused at EXEC (EXECABORT) selected nothing.
      await assert.rejects(
        client.multi().select(6).execute("GET").exec(),
        /EXECABORT/,
      );
      assert.equal(client.db, 7);
      assert.equal(await client.get("k"), "seven");
      // SELECT through execute(), then RESET (back to database 0).
      assert.equal(await client.execute("SELECT", "6"), "OK");
      assert.equal(client.db, 6);
      assert.equal(await client.execute("RESET"), "RESET");
      assert.equal(client.db, 0);
      assert.equal(await client.get("k"), null);
      // A failed select() leaves the client where it was.
      await client.select(7);
      await assert.rejects(client.select(16), /ERR DB index is out of range/);
      assert.equal(client.db, 7);
      assert.equal(await client.get("k"), "seven");
    });
  },
});

Deno.test({
  name:
    "client databases: a database out of range rejects connect with the server's error",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      for (
        const options of [
          { port, db: 16 },
          { port, db: -1 },
          { port, db: 99, name: "x", resp: 3 as const },
          `redis://127.0.0.1:${port}/16`,
        ]
      ) {
        await assert.rejects(Client.connect(options), (e: Error) => {
          assert.ok(e instanceof ReplyError, String(e));
          assert.equal(e.message, "ERR DB index is out of range");
          return true;
        });
      }
      // The connections it opened were closed (bounded wait: the server
      // sees the closes on its own time).
      await using client = await Client.connect({ port, db: 15 });
      let clients = 0;
      for (let i = 0; i < 250; i++) {
        clients = (await client.clientList()).trim().split("\n").length;
        if (clients === 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(clients, 1);
    });
  },
});

Deno.test({
  name: "client databases: ioredis and node-redis with their db option",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      const io = new Redis({
        port,
        host: "127.0.0.1",
        db: 4,
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      try {
        await io.connect();
        assert.equal(await io.set("lib:ioredis", "io"), "OK");
        assert.equal(await io.get("lib:ioredis"), "io");
      } finally {
        io.disconnect();
      }
      const node = createClient({ url: `redis://127.0.0.1:${port}/4` });
      node.on("error", () => {});
      await node.connect();
      try {
        assert.equal(await node.set("lib:node-redis", "node"), "OK");
        assert.equal(await node.get("lib:node-redis"), "node");
      } finally {
        await node.quit();
      }
      const byOption = createClient({
        socket: { host: "127.0.0.1", port },
        database: 4,
      });
      byOption.on("error", () => {});
      await byOption.connect();
      try {
        assert.equal(await byOption.get("lib:ioredis"), "io");
      } finally {
        await byOption.quit();
      }
      await using four = await Client.connect({ port, db: 4 });
      assert.deepEqual(await four.mget("lib:ioredis", "lib:node-redis"), [
        "io",
        "node",
      ]);
      await using zero = await Client.connect({ port });
      assert.equal(await zero.dbsize(), 0);
      assert.equal(await four.dbsize(), 2);
    });
  },
});

Deno.test({
  name: "client databases: move, swapdb, copy with db, flushdb and flushall",
  ...opts,
  async fn(t) {
    await onBoth(t, async (port) => {
      await using client = await Client.connect({ port, db: 1 });
      await client.set("a", "1");
      assert.equal(await client.move("a", 2), true);
      assert.equal(await client.move("a", 2), false);
      assert.equal(await valueIn(port, 2, "a"), "1");
      await client.set("b", "2");
      assert.equal(await client.copy("b", "c", { db: 2 }), true);
      assert.equal(await client.copy("b", "c", { db: 2 }), false);
      await client.set("b", "3");
      assert.equal(await client.copy("b", "c", { db: 2, replace: true }), true);
      assert.equal(await valueIn(port, 2, "c"), "3");
      assert.equal(await client.swapdb(1, 2), "OK");
      assert.deepEqual(await client.mget("a", "b", "c"), ["1", null, "3"]);
      assert.equal(await valueIn(port, 2, "b"), "3");
      assert.equal(await client.flushdb(), "OK");
      assert.equal(await client.dbsize(), 0);
      assert.equal(await valueIn(port, 2, "b"), "3");
      assert.equal(await client.flushall(), "OK");
      assert.equal(await valueIn(port, 2, "b"), null);
      await assert.rejects(
        client.move("x", 1),
        /ERR source and destination objects are the same/,
      );
    });
  },
});
