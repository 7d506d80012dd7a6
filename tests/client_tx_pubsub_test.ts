// The Client's transactions (multi / exec / discard, isolated connections
// with watch), pub/sub subscriptions (iterator, listener, patterns, shard
// channels, resubscribing after a reconnect) and blocking commands on
// connections of their own: against our server and against redis-server,
// with the same expectations.

import assert from "node:assert/strict";
import { Client, type PubSubMessage, type Subscription } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import { has, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Target {
  port: number;
  stop(): Promise<void>;
}

const TARGETS: [string, () => Promise<Target>][] = [
  ["@kv/store", async () => {
    const s = await startServer();
    return { port: s.port, stop: () => s.close() };
  }],
];
if (has("redis-server")) {
  TARGETS.push(["redis-server", async () => {
    const r = await RedisServer.start();
    return { port: r.port, stop: () => r.stop() };
  }]);
}

/** The next message of a subscription, or a failure after `ms`. */
async function nextMessage(
  sub: Subscription,
  ms = 2000,
): Promise<PubSubMessage | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const r = await Promise.race([
      sub.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("no message")), ms);
      }),
    ]);
    return r.done ? undefined : r.value;
  } finally {
    clearTimeout(timer);
  }
}

/** Whether a server answers CLIENT TRACKING ON in RESP3. */
async function tracks(port: number): Promise<boolean> {
  try {
    await using c = await Client.connect({ port, resp: 3 });
    await c.execute("CLIENT", "TRACKING", "ON");
    return true;
  } catch {
    return false;
  }
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

for (const [name, start] of TARGETS) {
  for (const resp of [2, 3] as const) {
    Deno.test(
      `client tx (${name}, RESP${resp}): multi / exec / discard`,
      opts,
      async () => {
        const target = await start();
        try {
          await using client = await Client.connect({
            port: target.port,
            resp,
          });
          const r = await client.multi()
            .set("a", "1")
            .incr("a")
            .get("a")
            .hset("h", { f: "v" })
            .hgetall("h")
            .zadd("z", [["m", 1.5]])
            .zrange("z", 0, -1, { withScores: true })
            .exists("a", "nope")
            .exec();
          assert.deepEqual(r, [
            "OK",
            2,
            "2",
            1,
            { f: "v" },
            1,
            [["m", 1.5]],
            1,
          ]);
          // A command failing inside the transaction: its error as a value.
          const [ok, err, after] = (await client.multi()
            .set("s", "text")
            .incr("s")
            .get("s")
            .exec())!;
          assert.equal(ok, "OK");
          assert.ok(err instanceof ReplyError);
          assert.equal(
            (err as ReplyError).message,
            "ERR value is not an integer or out of range",
          );
          assert.equal(after, "text");
          // Refused while queueing: nothing runs, exec rejects EXECABORT.
          await assert.rejects(
            client.multi().set("q", "1").execute("SET", "q").exec(),
            (e: unknown) =>
              e instanceof ReplyError && e.code === "EXECABORT" &&
              e.message.includes("wrong number of arguments"),
          );
          assert.equal(await client.get("q"), null);
          // Empty transaction, discard.
          assert.deepEqual(await client.multi().exec(), []);
          const tx = client.multi().set("d", "1");
          assert.equal(tx.length, 1);
          await tx.discard();
          assert.equal(tx.length, 0);
          assert.equal(await client.get("d"), null);
          // Blocking commands inside MULTI do not block.
          assert.deepEqual(
            await client.multi().blpop(["nolist"], 0).lpush("l", "x")
              .blpop(["l"], 0).exec(),
            [null, 1, { key: "l", element: "x" }],
          );
          // Concurrent callers cannot land inside the MULTI.
          const calls: Promise<unknown>[] = [];
          for (let i = 0; i < 50; i++) {
            calls.push(client.incr("n"));
            if (i % 10 === 0) {
              calls.push(client.multi().incr("n").incr("n").exec());
            }
          }
          const all = await Promise.all(calls);
          for (const v of all) {
            if (Array.isArray(v)) assert.equal(v[1], (v[0] as number) + 1);
          }
          assert.equal(await client.get("n"), "60");
          // WATCH needs a connection of its own.
          await assert.rejects(client.watch("a"), /isolated/);
          await assert.rejects(client.unwatch(), /isolated/);
        } finally {
          await target.stop();
        }
      },
    );
  }

  Deno.test(
    `client tx (${name}): isolated connections, watch / unwatch`,
    opts,
    async () => {
      const target = await start();
      try {
        await using client = await Client.connect({ port: target.port });
        await client.set("balance", "100");
        // Untouched: the transaction runs.
        const ok = await client.isolated(async (c) => {
          assert.equal(await c.watch("balance"), "OK");
          const b = Number(await c.get("balance"));
          return await c.multi().set("balance", b - 10).get("balance").exec();
        });
        assert.deepEqual(ok, ["OK", "90"]);
        // Changed by another connection in between: null, nothing ran.
        const failed = await client.isolated(async (c) => {
          await c.watch("balance");
          await client.set("balance", "500");
          return await c.multi().set("balance", "0").exec();
        });
        assert.equal(failed, null);
        assert.equal(await client.get("balance"), "500");
        // UNWATCH forgets; discard() unwatches as DISCARD does.
        const unwatched = await client.isolated(async (c) => {
          await c.watch("balance");
          assert.equal(await c.unwatch(), "OK");
          await client.set("balance", "7");
          const tx = c.multi().incr("balance");
          await c.watch("balance");
          await client.set("balance", "8");
          await tx.discard();
          return await c.multi().incr("balance").exec();
        });
        assert.deepEqual(unwatched, [9]);
        // The connection is closed afterwards, even when fn throws.
        let inner: Client | undefined;
        await assert.rejects(
          client.isolated((c) => {
            inner = c;
            throw new Error("boom");
          }),
          /boom/,
        );
        assert.equal(inner!.connected, false);
        // A CAS race: every increment lands exactly once.
        const cas = (id: number) =>
          client.isolated(async (c) => {
            for (let attempt = 0; attempt < 100; attempt++) {
              await c.watch("counter");
              const v = Number(await c.get("counter") ?? 0);
              const r = await c.multi().set("counter", v + 1).exec();
              if (r !== null) return attempt;
            }
            throw new Error(`worker ${id} starved`);
          });
        await Promise.all([0, 1, 2, 3, 4].map(cas));
        assert.equal(await client.get("counter"), "5");
      } finally {
        await target.stop();
      }
    },
  );

  for (const resp of [2, 3] as const) {
    Deno.test(
      `client pubsub (${name}, RESP${resp}): subscribe, psubscribe, ssubscribe`,
      opts,
      async () => {
        const target = await start();
        try {
          await using client = await Client.connect({
            port: target.port,
            resp,
          });
          const sub = await client.subscribe(["news", "weather"]);
          assert.deepEqual(sub.names, ["news", "weather"]);
          assert.equal(await client.publish("news", "hello"), 1);
          assert.equal(await client.publish("weather", "rain"), 1);
          assert.deepEqual(await nextMessage(sub), {
            channel: "news",
            message: "hello",
          });
          assert.deepEqual(await nextMessage(sub), {
            channel: "weather",
            message: "rain",
          });
          // The main connection keeps working while subscribed.
          assert.equal(await client.set("k", "v"), "OK");
          assert.equal(await client.get("k"), "v");
          // A pattern, delivered with the pattern that matched.
          const psub = await client.psubscribe("news.*");
          assert.equal(await client.publish("news.tech", "deno"), 1);
          assert.deepEqual(await nextMessage(psub), {
            pattern: "news.*",
            channel: "news.tech",
            message: "deno",
          });
          // Shard channels.
          const ssub = await client.ssubscribe("orders");
          assert.equal(await client.spublish("orders", "o1"), 1);
          assert.deepEqual(await nextMessage(ssub), {
            channel: "orders",
            message: "o1",
          });
          // The callback form; two subscriptions of the same channel share
          // the server's one subscription.
          const got: PubSubMessage[] = [];
          const cb = await client.subscribe("news", (m) => got.push(m));
          assert.equal(await client.publish("news", "twice"), 1);
          await until(() => got.length === 1);
          assert.deepEqual(got, [{ channel: "news", message: "twice" }]);
          assert.equal((await nextMessage(sub))?.message, "twice");
          await cb.unsubscribe();
          assert.equal(cb.active, false);
          assert.equal(await client.publish("news", "still"), 1);
          assert.equal((await nextMessage(sub))?.message, "still");
          assert.equal(got.length, 1);
          // Unsubscribing ends the iterator and tells the server.
          const drained: string[] = [];
          const loop = (async () => {
            for await (const m of psub) drained.push(m.message);
          })();
          assert.equal(await client.publish("news.x", "last"), 1);
          await until(() => drained.length === 1);
          await psub.unsubscribe();
          await loop;
          assert.deepEqual(drained, ["last"]);
          assert.equal(await client.publish("news.x", "gone"), 0);
          await ssub.unsubscribe();
          assert.equal(await client.spublish("orders", "gone"), 0);
          await sub.unsubscribe();
          assert.equal(await client.publish("news", "gone"), 0);
          assert.equal(await nextMessage(sub), undefined);
          // Binary-safe text and empty messages.
          await using s2 = await client.subscribe("ü");
          assert.equal(await client.publish("ü", ""), 1);
          assert.deepEqual(await nextMessage(s2), {
            channel: "ü",
            message: "",
          });
          await assert.rejects(client.subscribe([]), /at least one/);
          // A listener that throws is reported as an error event.
          const errors: Error[] = [];
          client.addEventListener("error", (e) => errors.push(e.detail));
          await using bad = await client.subscribe("bad", () => {
            throw new Error("listener failed");
          });
          assert.equal(await client.publish("bad", "x"), 1);
          await until(() => errors.length === 1);
          assert.equal(errors[0].message, "listener failed");
          assert.equal(bad.active, true);
        } finally {
          await target.stop();
        }
      },
    );
  }

  Deno.test(
    `client pubsub (${name}): a killed subscriber connection resubscribes`,
    opts,
    async () => {
      const target = await start();
      try {
        await using client = await Client.connect({ port: target.port });
        const sub = await client.subscribe("c1");
        const psub = await client.psubscribe("p.*");
        assert.equal(await client.publish("c1", "before"), 1);
        assert.equal((await nextMessage(sub))?.message, "before");
        // The subscriber is the one RESP3 connection (the client is RESP2).
        const line = (await client.clientList()).split("\n")
          .find((l) => / resp=3( |$)/.test(l));
        assert.ok(line, "no subscriber connection in CLIENT LIST");
        const id = Number(/\bid=(\d+)/.exec(line)![1]);
        assert.equal(await client.clientKill({ id }), 1);
        await until(async () =>
          await client.publish("c1", "probe") === 1 &&
          await client.publish("p.x", "probe") === 1
        );
        assert.equal(await client.publish("c1", "after"), 1);
        let m;
        while ((m = await nextMessage(sub))?.message === "probe");
        assert.equal(m?.message, "after");
        assert.equal((await nextMessage(psub))?.channel, "p.x");
      } finally {
        await target.stop();
      }
    },
  );

  for (const resp of [2, 3] as const) {
    Deno.test(
      `client blocking (${name}, RESP${resp}): typed results, own connections`,
      opts,
      async () => {
        const target = await start();
        try {
          await using client = await Client.connect({
            port: target.port,
            resp,
          });
          // Timeouts: null.
          assert.equal(await client.blpop(["l1"], 0.05), null);
          assert.equal(await client.brpop(["l1"], 0.05), null);
          assert.equal(
            await client.blmove("l1", "l2", "LEFT", "RIGHT", 0.05),
            null,
          );
          assert.equal(await client.brpoplpush("l1", "l2", 0.05), null);
          assert.equal(await client.blmpop(0.05, ["l1"], "LEFT"), null);
          assert.equal(await client.bzpopmin(["z1"], 0.05), null);
          assert.equal(await client.bzpopmax(["z1"], 0.05), null);
          assert.equal(await client.bzmpop(0.05, ["z1"], "MIN"), null);
          assert.deepEqual(
            await client.xread({ s1: "$" }, { block: 50 }),
            [],
          );
          // Served at once when there is data.
          await client.rpush("l1", "a", "b", "c", "d", "e");
          assert.deepEqual(await client.blpop(["l0", "l1"], 1), {
            key: "l1",
            element: "a",
          });
          assert.deepEqual(await client.brpop(["l1"], 1), {
            key: "l1",
            element: "e",
          });
          assert.equal(
            await client.blmove("l1", "l2", "LEFT", "RIGHT", 1),
            "b",
          );
          assert.equal(await client.brpoplpush("l1", "l2", 1), "d");
          assert.deepEqual(await client.blmpop(1, ["l0", "l2"], "RIGHT", 5), {
            key: "l2",
            elements: ["b", "d"],
          });
          await client.zadd("z1", [["x", 1], ["y", 2], ["w", 3]]);
          assert.deepEqual(await client.bzpopmin(["z1"], 1), {
            key: "z1",
            member: "x",
            score: 1,
          });
          assert.deepEqual(await client.bzpopmax(["z1"], 1), {
            key: "z1",
            member: "w",
            score: 3,
          });
          assert.deepEqual(await client.bzmpop(1, ["z1"], "MIN", 3), {
            key: "z1",
            members: [["y", 2]],
          });
          // Wrong types and bad timeouts reject as usual.
          await client.set("str", "v");
          await assert.rejects(
            client.blpop(["str"], 1),
            (e: unknown) => e instanceof ReplyError && e.code === "WRONGTYPE",
          );
          await assert.rejects(
            client.blpop(["l1"], -1),
            /timeout is negative/,
          );
          // Woken by a push from the main connection.
          const waiting = client.blpop(["jobs"], 5);
          const waitingZ = client.bzpopmax(["zjobs"], 5);
          const waitingX = client.xread({ s1: "$" }, { block: 5000 });
          const waitingG = (async () => {
            await client.xgroupCreate("s2", "g", "$", { mkstream: true });
            return await client.xreadgroup("g", "alice", { s2: ">" }, {
              block: 5000,
            });
          })();
          // Every waiting call has a connection of its own.
          await until(() => client.blockingConnections >= 4);
          assert.equal(await client.lpush("jobs", "j1"), 1);
          assert.equal(await client.zadd("zjobs", [["big", 9]]), 1);
          const id = await client.xadd("s1", "*", { f: "v" });
          const id2 = await client.xadd("s2", "*", { g: "w" });
          assert.deepEqual(await waiting, { key: "jobs", element: "j1" });
          assert.deepEqual(await waitingZ, {
            key: "zjobs",
            member: "big",
            score: 9,
          });
          assert.deepEqual(await waitingX, [
            { key: "s1", entries: [{ id, fields: { f: "v" } }] },
          ]);
          assert.deepEqual(await waitingG, [
            { key: "s2", entries: [{ id: id2, fields: { g: "w" } }] },
          ]);
          // Idle connections are reused, a few are kept.
          const before = client.blockingConnections;
          assert.equal(await client.blpop(["none"], 0.01), null);
          assert.equal(client.blockingConnections, before);
          // execute() routes blocking commands too.
          assert.equal(await client.execute("BLPOP", "none", "0.01"), null);
          // A pipeline holding a blocking command runs beside the main
          // connection too.
          const piped = client.pipeline().brpop(["pjobs"], 3).exec();
          await until(() => client.blockingConnections >= 1);
          assert.equal(await client.rpush("pjobs", "p1"), 1);
          assert.deepEqual(await piped, [{ key: "pjobs", element: "p1" }]);
          // The client's command timeout does not cut blocking calls short.
          await using quick = await Client.connect({
            port: target.port,
            resp,
            timeout: 100,
          });
          assert.equal(await quick.blpop(["none"], 0.3), null);
          assert.deepEqual(
            await quick.xread({ none: "$" }, { block: 300 }),
            [],
          );
        } finally {
          await target.stop();
        }
      },
    );
  }

  Deno.test(
    `client blocking (${name}): a blocked call does not delay a GET`,
    opts,
    async () => {
      const target = await start();
      try {
        await using client = await Client.connect({ port: target.port });
        await client.set("k", "v");
        const blocked = client.blpop(["never"], 3);
        const blockedZ = client.bzmpop(3, ["never-z"], "MIN");
        const blockedX = client.xread({ sx: "$" }, { block: 3000 });
        await until(() => client.blockingConnections >= 3);
        const t0 = performance.now();
        for (let i = 0; i < 20; i++) assert.equal(await client.get("k"), "v");
        assert.ok(performance.now() - t0 < 1000, "GET waited for a BLPOP");
        await client.rpush("never", "x");
        await client.zadd("never-z", [["m", 1]]);
        await client.xadd("sx", "1-1", { a: "b" });
        assert.deepEqual(await blocked, { key: "never", element: "x" });
        assert.deepEqual(await blockedZ, {
          key: "never-z",
          members: [["m", 1]],
        });
        assert.deepEqual(await blockedX, [
          { key: "sx", entries: [{ id: "1-1", fields: { a: "b" } }] },
        ]);
        // Closing the client fails blocked calls and closes their
        // connections.
        const pending = client.blpop(["never2"], 0);
        await until(() => client.blockingConnections >= 1);
        client.close();
        await assert.rejects(pending);
        assert.equal(client.blockingConnections, 0);
      } finally {
        await target.stop();
      }
    },
  );
}

for (const [name, start] of TARGETS) {
  Deno.test(
    `client cache (${name}): invalidated reads, LRU, flush, reconnect`,
    opts,
    async (t) => {
      const target = await start();
      try {
        if (!await tracks(target.port)) {
          // The server side of CLIENT TRACKING has not landed.
          console.log(`${name}: no CLIENT TRACKING, cache test skipped`);
          await t.step({ name: "CLIENT TRACKING", ignore: true, fn() {} });
          return;
        }
        await using client = await Client.connect({ port: target.port });
        await client.set("k", "v1");
        await using cache = await client.localCache({ maxEntries: 2 });
        assert.equal(await cache.get("k"), "v1");
        assert.equal(await cache.get("k"), "v1");
        assert.equal(await cache.get("missing"), null);
        assert.equal(await cache.get("missing"), null);
        assert.deepEqual([cache.hits, cache.misses, cache.size], [2, 2, 2]);
        // A write elsewhere invalidates.
        await client.set("k", "v2");
        await until(() => cache.size === 1);
        assert.equal(await cache.get("k"), "v2");
        assert.equal(cache.misses, 3);
        await client.set("missing", "now");
        await until(() => cache.size === 1);
        assert.equal(await cache.get("missing"), "now");
        // Least recently used goes first.
        await client.set("third", "3");
        assert.equal(await cache.get("k"), "v2");
        assert.equal(await cache.get("third"), "3");
        assert.equal(cache.size, 2);
        const misses = cache.misses;
        assert.equal(await cache.get("k"), "v2");
        assert.equal(cache.misses, misses);
        // FLUSHALL invalidates everything; expiry invalidates too.
        await client.flushAll();
        await until(() => cache.size === 0);
        assert.equal(await cache.get("k"), null);
        await client.set("t", "x", { px: 50 });
        assert.equal(await cache.get("t"), "x");
        await until(async () => await cache.get("t") === null);
        // Concurrent reads of one key share a request.
        await client.set("c", "shared");
        const before = cache.misses;
        const reads = await Promise.all([1, 2, 3].map(() => cache.get("c")));
        assert.deepEqual(reads, ["shared", "shared", "shared"]);
        assert.equal(cache.misses, before + 1);
        // A dropped connection empties the cache, tracking comes back.
        const line = (await client.clientList()).split("\n")
          .find((l) => / resp=3( |$)/.test(l));
        const id = Number(/\bid=(\d+)/.exec(line!)![1]);
        assert.equal(await client.clientKill({ id }), 1);
        await until(() => cache.size === 0);
        await until(async () => {
          try {
            return await cache.get("c") === "shared";
          } catch {
            return false;
          }
        });
        await client.set("c", "changed");
        await until(async () => await cache.get("c") === "changed");
        cache.close();
        await assert.rejects(cache.get("c"), /closed/);
      } finally {
        await target.stop();
      }
    },
  );
}

Deno.test(
  "client pubsub (@kv/store): resubscribes after the server restarts",
  opts,
  async () => {
    let server = await startServer();
    const port = server.port;
    try {
      await using client = await Client.connect({
        port,
        reconnect: { minDelay: 20, maxDelay: 100, retries: 100 },
      });
      const sub = await client.subscribe("news");
      const got: PubSubMessage[] = [];
      await client.psubscribe("n*", (m) => got.push(m));
      await client.publish("news", "one");
      assert.equal((await nextMessage(sub))?.message, "one");
      await server.close();
      server = await startServer({ port });
      await until(async () => {
        try {
          return await client.publish("news", "probe") === 2 &&
            got.length > 1;
        } catch {
          return false;
        }
      }, 10_000);
      assert.equal(await client.publish("news", "two"), 2);
      let m;
      while ((m = await nextMessage(sub))?.message === "probe");
      assert.equal(m?.message, "two");
      await until(() => got.some((g) => g.message === "two"));
      assert.equal(got[0].message, "one");
      assert.equal(got[0].pattern, "n*");
    } finally {
      await server.close();
    }
  },
);
