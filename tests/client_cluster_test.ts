// The Client in cluster mode against a real Redis Cluster: three
// redis-server 7.0 primaries on loopback ports, joined by
// `redis-cli --cluster create`. Every process is killed in a finally
// block (`await using`), even when a test fails.

import assert from "node:assert/strict";
import { Client, type Pipeline } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import { CROSSSLOT, keyPositions, keySlot } from "../_cluster.ts";
import { has, RedisServer } from "./_helpers.ts";
import { RedisCluster } from "./_cluster.ts";

const opts = {
  sanitizeResources: false,
  sanitizeOps: false,
  ignore: !has("redis-server") || !has("redis-cli"),
};

/** One statistic of `INFO <section>` on a node (0 when absent). */
async function infoCount(
  c: Client,
  section: string,
  field: string,
  sub = "calls",
): Promise<number> {
  const info = String(await c.execute("INFO", section));
  const line = info.split("\r\n").find((l) => l.startsWith(field + ":"));
  if (line === undefined) return 0;
  const m = new RegExp(`${sub}=(\\d+)`).exec(line);
  return m === null ? Number(line.split(":")[1]) : Number(m[1]);
}

function connect(cluster: RedisCluster): Promise<Client> {
  return Client.connect({
    cluster: [{ hostname: "127.0.0.1", port: cluster.ports[0] }],
  });
}

const KEYS = Array.from({ length: 200 }, (_, i) => `key:${i}`);

Deno.test(
  "cluster: key slots and key positions agree with Redis",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using node = await cluster.node(cluster.ports[0]);
    const keys: (string | Uint8Array)[] = [
      "foo",
      "bar",
      "123456789",
      "{user1}:a",
      "{user1}:b",
      "{}",
      "{}user1",
      "a{}b{user1}",
      "{{user1}}",
      "x{user1",
      "{user1}}",
      "é{ü}",
      new Uint8Array([0xff, 0x7b, 0x00, 0x7d, 0x80]),
      ...KEYS.slice(0, 50),
    ];
    for (const key of keys) {
      const expected = await node.execute("CLUSTER", "KEYSLOT", key);
      assert.equal(keySlot(key), expected, String(key));
    }
    // Where the keys are: our reading of the key specs against COMMAND
    // GETKEYS.
    const commands: (string | number)[][] = [
      ["GET", "k"],
      ["SET", "k", "v", "EX", 10],
      ["MSET", "a", "1", "b", "2", "c", "3"],
      ["MGET", "a", "b", "c"],
      ["DEL", "a", "b"],
      ["ZUNIONSTORE", "d", 2, "s1", "s2", "WEIGHTS", 1, 2],
      ["ZUNION", 2, "s1", "s2", "WITHSCORES"],
      ["EVAL", "return 1", 2, "k1", "k2", "arg"],
      ["FCALL", "f", 1, "k1", "arg"],
      ["XREAD", "COUNT", 2, "STREAMS", "s1", "s2", "0", "0"],
      ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", ">"],
      ["BLMPOP", 0, 2, "l1", "l2", "LEFT"],
      ["LMOVE", "src", "dst", "LEFT", "RIGHT"],
      ["OBJECT", "ENCODING", "k"],
      ["MEMORY", "USAGE", "k"],
      ["BITOP", "AND", "dest", "s1", "s2"],
      ["GEORADIUS", "g", 0, 0, 1, "km", "STORE", "dst"],
      ["SINTERCARD", 2, "a", "b", "LIMIT", 1],
      ["RENAME", "a", "b"],
      ["SMOVE", "a", "b", "m"],
    ];
    for (const args of commands) {
      const at = keyPositions(args);
      assert.ok(at !== null, String(args));
      const ours = at.map((i) => String(args[i]));
      const theirs = await node.execute("COMMAND", "GETKEYS", ...args);
      assert.deepEqual(ours, theirs, args.join(" "));
    }
    // SORT's STORE is not at a fixed place: the cluster is asked.
    assert.equal(keyPositions(["SORT", "k", "STORE", "d"]), null);
    assert.deepEqual(keyPositions(["PING"]), []);
    assert.deepEqual(keyPositions(["NOSUCHCOMMAND", "k"]), []);
  },
);

Deno.test(
  "cluster: 200 keys over every node, each on the node of its slot",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    for (const [i, key] of KEYS.entries()) {
      assert.equal(await client.set(key, `v${i}`), "OK");
    }
    const values = await Promise.all(KEYS.map((k) => client.get(k)));
    assert.deepEqual(values, KEYS.map((_, i) => `v${i}`));
    // Each key is where the cluster says its slot is, and nowhere else.
    const nodes = new Map<number, Client>();
    try {
      for (const port of cluster.ports) {
        nodes.set(port, await cluster.node(port));
      }
      const perNode = new Map<number, number>();
      for (const [i, key] of KEYS.entries()) {
        const slot = Number(
          await nodes.get(cluster.ports[0])!.execute("CLUSTER", "KEYSLOT", key),
        );
        const owner = await cluster.ownerOf(slot);
        assert.equal(await nodes.get(owner)!.get(key), `v${i}`);
        perNode.set(owner, (perNode.get(owner) ?? 0) + 1);
        for (const port of cluster.ports) {
          if (port === owner) continue;
          await assert.rejects(
            nodes.get(port)!.get(key),
            (e) => e instanceof ReplyError && e.code === "MOVED",
          );
        }
      }
      // Spread over all three, and nothing else stored.
      assert.equal(perNode.size, 3);
      for (const port of cluster.ports) {
        assert.equal(await nodes.get(port)!.dbsize(), perNode.get(port));
      }
    } finally {
      for (const n of nodes.values()) n.close();
    }
  },
);

Deno.test(
  "cluster: hash tags share a node; MSET across slots is CROSSSLOT, locally",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    assert.equal(keySlot("{user1}:a"), keySlot("{user1}:b"));
    assert.equal(
      await client.mset({ "{user1}:a": "1", "{user1}:b": "2" }),
      "OK",
    );
    assert.deepEqual(await client.mget("{user1}:a", "{user1}:b"), ["1", "2"]);
    const owner = await cluster.ownerOf(keySlot("{user1}:a"));
    {
      await using node = await cluster.node(owner);
      assert.deepEqual(await node.mget("{user1}:a", "{user1}:b"), ["1", "2"]);
    }
    // Keys of two slots: the client refuses with Redis's own error, and no
    // node saw an MSET.
    assert.notEqual(keySlot("a"), keySlot("b"));
    const before: number[][] = [];
    for (const port of cluster.ports) {
      await using node = await cluster.node(port);
      before.push([
        await infoCount(node, "commandstats", "cmdstat_mset"),
        await infoCount(node, "commandstats", "cmdstat_mget"),
      ]);
    }
    await assert.rejects(
      client.mset({ a: "1", b: "2" }),
      (e) => e instanceof ReplyError && e.message === CROSSSLOT,
    );
    const [, crossed, fine] = await client.pipeline().get("a").mget("a", "b")
      .get("{user1}:a").exec();
    assert.ok(crossed instanceof ReplyError && crossed.message === CROSSSLOT);
    assert.equal(fine, "1");
    for (const [i, port] of cluster.ports.entries()) {
      await using node = await cluster.node(port);
      assert.deepEqual([
        await infoCount(node, "commandstats", "cmdstat_mset"),
        await infoCount(node, "commandstats", "cmdstat_mget"),
      ], before[i]);
    }
    // SORT's STORE key is found by asking the cluster (COMMAND GETKEYS).
    assert.equal(await client.rpush("{user1}:list", "3", "1", "2"), 3);
    assert.equal(
      await client.execute("SORT", "{user1}:list", "STORE", "{user1}:sorted"),
      3,
    );
    assert.deepEqual(await client.lrange("{user1}:sorted", 0, -1), [
      "1",
      "2",
      "3",
    ]);
    await assert.rejects(
      client.execute("SORT", "{user1}:list", "STORE", "elsewhere"),
      (e) => e instanceof ReplyError && e.message === CROSSSLOT,
    );
    // The same text as a node's own reply to such an MSET.
    {
      await using node = await cluster.node(
        await cluster.ownerOf(keySlot("a")),
      );
      await assert.rejects(
        node.mset({ a: "1", b: "2" }),
        (e) => e instanceof ReplyError && e.message === CROSSSLOT,
      );
    }
  },
);

Deno.test(
  "cluster: a pipeline of 100 commands over every node replies in order",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    const p: Pipeline<unknown[]> = client.pipeline();
    const expected: unknown[] = [];
    for (let i = 0; i < 25; i++) {
      p.set(`p:${i}`, `v${i}`);
      expected.push("OK");
      p.incr(`n:${i}`);
      expected.push(1);
      p.incrby(`n:${i}`, i);
      expected.push(1 + i);
      p.get(`p:${i}`);
      expected.push(`v${i}`);
    }
    assert.equal(p.length, 100);
    assert.deepEqual(await p.exec(), expected);
    // The commands went to all three nodes.
    for (const port of cluster.ports) {
      await using node = await cluster.node(port);
      assert.ok(await infoCount(node, "commandstats", "cmdstat_set") > 0);
    }
  },
);

/** Moves `slot` from node `from` to node `to` by hand, as
 * `redis-cli --cluster reshard` does; `finish` false leaves it migrating
 * (MIGRATING on `from`, IMPORTING on `to`) after moving `keys` only. */
async function migrate(
  cluster: RedisCluster,
  slot: number,
  from: number,
  to: number,
  keys: string[],
  finish: boolean,
): Promise<void> {
  await using source = await cluster.node(from);
  await using target = await cluster.node(to);
  const fromId = await cluster.idOf(from);
  const toId = await cluster.idOf(to);
  assert.equal(
    await target.execute("CLUSTER", "SETSLOT", slot, "IMPORTING", fromId),
    "OK",
  );
  assert.equal(
    await source.execute("CLUSTER", "SETSLOT", slot, "MIGRATING", toId),
    "OK",
  );
  if (keys.length > 0) {
    assert.equal(
      await source.execute(
        "MIGRATE",
        "127.0.0.1",
        to,
        "",
        0,
        5000,
        "KEYS",
        ...keys,
      ),
      "OK",
    );
  }
  if (!finish) return;
  for (const port of cluster.ports) {
    await using node = await cluster.node(port);
    assert.equal(
      await node.execute("CLUSTER", "SETSLOT", slot, "NODE", toId),
      "OK",
    );
  }
}

Deno.test(
  "cluster: MOVED after a slot moved under a stale map",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    const slot = keySlot("{moved}:a");
    assert.equal(
      await client.mset({ "{moved}:a": "1", "{moved}:b": "2" }),
      "OK",
    );
    const from = await cluster.ownerOf(slot);
    const to = cluster.ports.find((p) => p !== from)!;
    await migrate(cluster, slot, from, to, ["{moved}:a", "{moved}:b"], true);
    assert.equal(await cluster.ownerOf(slot), to);
    await using source = await cluster.node(from);
    const moved = await infoCount(
      source,
      "errorstats",
      "errorstat_MOVED",
      "count",
    );
    // The client still thinks `from` has it: MOVED, followed.
    assert.equal(await client.get("{moved}:a"), "1");
    assert.equal(
      await infoCount(source, "errorstats", "errorstat_MOVED", "count"),
      moved + 1,
    );
    // Noted: the next command goes straight to the new owner.
    assert.deepEqual(await client.mget("{moved}:a", "{moved}:b"), ["1", "2"]);
    assert.equal(await client.set("{moved}:c", "3"), "OK");
    assert.equal(
      await infoCount(source, "errorstats", "errorstat_MOVED", "count"),
      moved + 1,
    );
    await using target = await cluster.node(to);
    assert.equal(await target.get("{moved}:c"), "3");
    // A pipeline under a stale map too: move it back.
    await migrate(cluster, slot, to, from, [
      "{moved}:a",
      "{moved}:b",
      "{moved}:c",
    ], true);
    const replies = await client.pipeline().get("{moved}:a").get("{moved}:c")
      .set("{moved}:d", "4").get("key:1").exec();
    assert.deepEqual(replies, ["1", "3", "OK", null]);
    assert.equal(await source.get("{moved}:d"), "4");
    // A transaction under a stale map: the queued command's MOVED aborts
    // it (EXECABORT), and it runs again on the new owner.
    const third = cluster.ports.find((p) => p !== from && p !== to)!;
    await migrate(cluster, slot, from, third, [
      "{moved}:a",
      "{moved}:b",
      "{moved}:c",
      "{moved}:d",
    ], true);
    const before = await infoCount(
      source,
      "errorstats",
      "errorstat_EXECABORT",
      "count",
    );
    assert.deepEqual(
      await client.multi().incr("{moved}:a").get("{moved}:d").exec(),
      [2, "4"],
    );
    assert.equal(
      await infoCount(source, "errorstats", "errorstat_EXECABORT", "count"),
      before + 1,
    );
    await using last = await cluster.node(third);
    assert.equal(await last.get("{moved}:a"), "2");
  },
);

Deno.test(
  "cluster: ASK during a slot migration gets the moved key",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    const slot = keySlot("{ask}:moved");
    assert.equal(
      await client.mset({ "{ask}:moved": "there", "{ask}:stays": "here" }),
      "OK",
    );
    const from = await cluster.ownerOf(slot);
    const to = cluster.ports.find((p) => p !== from)!;
    await migrate(cluster, slot, from, to, ["{ask}:moved"], false);
    await using source = await cluster.node(from);
    await using target = await cluster.node(to);
    // Only the target has it now; the source answers ASK for it.
    assert.equal(
      await target.execute("CLUSTER", "COUNTKEYSINSLOT", slot),
      1,
    );
    await assert.rejects(
      source.get("{ask}:moved"),
      (e) => e instanceof ReplyError && e.code === "ASK",
    );
    const asks = await infoCount(
      source,
      "errorstats",
      "errorstat_ASK",
      "count",
    );
    assert.equal(await client.get("{ask}:moved"), "there");
    assert.equal(await client.get("{ask}:stays"), "here");
    assert.equal(
      await infoCount(source, "errorstats", "errorstat_ASK", "count"),
      asks + 1,
    );
    // ASK is for one command: the map still names the source.
    assert.equal(await client.get("{ask}:moved"), "there");
    assert.equal(
      await infoCount(source, "errorstats", "errorstat_ASK", "count"),
      asks + 2,
    );
    // In a pipeline, and a transaction of the migrated key.
    const replies = await client.pipeline().get("{ask}:moved").get(
      "{ask}:stays",
    )
      .exec();
    assert.deepEqual(replies, ["there", "here"]);
    assert.deepEqual(
      await client.multi().get("{ask}:moved").strlen("{ask}:moved").exec(),
      ["there", 5],
    );
  },
);

Deno.test(
  "cluster: MULTI/EXEC on one slot, WATCH on the key's node",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    const results = await client.multi().set("{tx}:a", "1").incr("{tx}:n")
      .incrby("{tx}:n", 5).get("{tx}:a").exec();
    assert.deepEqual(results, ["OK", 1, 6, "1"]);
    await using owner = await cluster.node(
      await cluster.ownerOf(keySlot("{tx}:a")),
    );
    assert.equal(await infoCount(owner, "commandstats", "cmdstat_exec"), 1);
    // Keys of two slots: refused before anything is sent.
    await assert.rejects(
      client.multi().set("a", "1").set("b", "2").exec(),
      (e) => e instanceof ReplyError && e.message === CROSSSLOT,
    );
    for (const port of cluster.ports) {
      await using node = await cluster.node(port);
      assert.equal(
        await infoCount(node, "commandstats", "cmdstat_multi"),
        port === (await cluster.ownerOf(keySlot("{tx}:a"))) ? 1 : 0,
      );
    }
    // WATCH: a change by someone else makes EXEC return null.
    await assert.rejects(client.watch("{tx}:a"), /isolated\(key/);
    const aborted = await client.isolated("{tx}:a", async (c) => {
      await c.watch("{tx}:a");
      await client.set("{tx}:a", "changed");
      return await c.multi().set("{tx}:a", "mine").exec();
    });
    assert.equal(aborted, null);
    assert.equal(await client.get("{tx}:a"), "changed");
    const done = await client.isolated("{tx}:a", async (c) => {
      await c.watch("{tx}:a");
      const v = await c.get("{tx}:a");
      return await c.multi().set("{tx}:a", `${v}!`).exec();
    });
    assert.deepEqual(done, ["OK"]);
    assert.equal(await client.get("{tx}:a"), "changed!");
  },
);

Deno.test(
  "cluster: BLPOP waits on the key's node and a push serves it",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    await using owner = await cluster.node(await cluster.ownerOf(keySlot("q")));
    const popped = client.blpop(["q"], 10);
    // Bounded wait until the owner has the client blocked.
    const deadline = Date.now() + 10_000;
    while (await infoCount(owner, "clients", "blocked_clients") !== 1) {
      assert.ok(Date.now() < deadline, "BLPOP never blocked on the owner");
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(await client.rpush("q", "job"), 1);
    assert.deepEqual(await popped, { key: "q", element: "job" });
  },
);

Deno.test(
  "cluster: SCAN over every primary finds all 200 keys",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    await Promise.all(KEYS.map((k) => client.set(k, "1")));
    await client.set("other", "1");
    const found = new Set<string>();
    for await (const key of client.scanIterator("key:*", { count: 7 })) {
      found.add(key);
    }
    assert.deepEqual([...found].sort(), [...KEYS].sort());
    assert.equal((await client.nodes()).length, 3);
    let total = 0;
    for (const node of await client.nodes()) total += await node.dbsize();
    assert.equal(total, 201);
    assert.equal(await client.flush(), 201);
    for (const node of await client.nodes()) {
      assert.equal(
        await node.dbsize(),
        0,
      );
    }
  },
);

Deno.test(
  "cluster: SUBSCRIBE on any node, SSUBSCRIBE on the channel's node",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    const sub = await client.subscribe("news");
    const shard = await client.ssubscribe("{user1}:events");
    // PUBLISH goes to any node; the cluster forwards it to every node.
    for (const port of cluster.ports) {
      await using node = await cluster.node(port);
      await node.publish("news", `from ${port}`);
    }
    const got: string[] = [];
    for await (const m of sub) {
      got.push(m.message);
      if (got.length === 3) break;
    }
    assert.deepEqual(got.sort(), cluster.ports.map((p) => `from ${p}`).sort());
    assert.equal(await client.spublish("{user1}:events", "hi"), 1);
    const { value } = await shard.next();
    assert.deepEqual(value, { channel: "{user1}:events", message: "hi" });
    await assert.rejects(
      client.ssubscribe(["a", "b"]),
      (e) => e instanceof ReplyError && e.message === CROSSSLOT,
    );
  },
);

Deno.test(
  "cluster: a node killed and started again: the client recovers",
  opts,
  async () => {
    await using cluster = await RedisCluster.start();
    await using client = await connect(cluster);
    const port = await cluster.ownerOf(keySlot("k"));
    assert.equal(await client.set("k", "before"), "OK");
    await cluster.kill(port);
    // Keys on the other nodes still work.
    let elsewhere = "";
    for (const key of KEYS) {
      if (await cluster.ownerOf(keySlot(key)) !== port) {
        elsewhere = key;
        break;
      }
    }
    assert.equal(await client.set(elsewhere, "up"), "OK");
    assert.equal(await client.get(elsewhere), "up");
    // A command for the dead node waits (within the retry budget) for it.
    const pending = client.set("k", "after");
    await new Promise((r) => setTimeout(r, 300));
    await cluster.startNode(port);
    assert.equal(await pending, "OK");
    assert.equal(await client.get("k"), "after");
    await cluster.waitOk();
    assert.equal(await client.incr("{k}n"), 1);
  },
);

Deno.test(
  "client: reconnect: false closes the client when its connection drops",
  opts,
  async () => {
    // The cluster's node connections rely on it: a dropped one is seen as
    // closed (and opened again), not "connected" with commands that would
    // wait forever.
    await using redis = await RedisServer.start();
    await using client = await Client.connect({
      port: redis.port,
      reconnect: false,
    });
    await using killer = await Client.connect({ port: redis.port });
    const id = await client.clientId();
    await killer.execute("CLIENT", "KILL", "ID", id);
    const deadline = Date.now() + 10_000;
    while (client.connected) {
      assert.ok(Date.now() < deadline, "still connected after CLIENT KILL");
      await new Promise((r) => setTimeout(r, 20));
    }
    await assert.rejects(client.get("k"), /the client is closed/);
  },
);
