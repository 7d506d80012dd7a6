// The Client against our server and against redis-server, with the same
// expectations.

import assert from "node:assert/strict";
import { Client, ConnectionError, TimeoutError } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import { Server } from "../server.ts";
import { freePort, has, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Target {
  port: number;
  stop(): Promise<void>;
}

const TARGETS: [string, (args?: string[]) => Promise<Target>][] = [
  ["@kv/store", async (args = []) => {
    const requirepass = args[args.indexOf("--requirepass") + 1];
    const s = await startServer(
      args.includes("--requirepass") ? { requirepass } : {},
    );
    return { port: s.port, stop: () => s.close() };
  }],
];
if (has("redis-server")) {
  TARGETS.push(["redis-server", async (args = []) => {
    const r = await RedisServer.start(args);
    return { port: r.port, stop: () => r.stop() };
  }]);
}

for (const [name, start] of TARGETS) {
  Deno.test(
    `client (${name}): strings, options and missing keys`,
    opts,
    async () => {
      const target = await start();
      await using client = await Client.connect({ port: target.port });
      try {
        assert.equal(await client.set("k", "v"), "OK");
        assert.equal(await client.get("k"), "v");
        assert.equal(await client.get("missing"), null);
        assert.equal(await client.set("k", "w", { nx: true }), null);
        assert.equal(await client.set("k", "w", { xx: true, get: true }), "v");
        assert.equal(await client.set("t", "1", { ex: 100 }), "OK");
        assert.equal(await client.ttl("t"), 100);
        assert.equal(await client.set("t", "2", { keepTtl: true }), "OK");
        assert.equal(await client.ttl("t"), 100);
        assert.equal(await client.set("p", "1", { px: 100_000 }), "OK");
        assert.ok(await client.pttl("p") > 99_000);
        assert.equal(await client.setex("e", 50, "x"), "OK");
        assert.equal(await client.ttl("e"), 50);
        assert.equal(await client.setnx("e", "y"), false);
        assert.equal(await client.getset("e", "z"), "x");
        assert.equal(await client.getdel("e"), "z");
        assert.equal(await client.getex("k", { ex: 10 }), "w");
        assert.equal(await client.ttl("k"), 10);
        assert.equal(await client.getex("k", { persist: true }), "w");
        assert.equal(await client.ttl("k"), -1);
        assert.equal(await client.append("k", "xyz"), 4);
        assert.equal(await client.strlen("k"), 4);
        assert.equal(await client.getrange("k", 1, -1), "xyz");
        assert.equal(await client.setrange("k", 1, "AB"), 4);
        assert.equal(await client.get("k"), "wABz");
        assert.equal(await client.set("unicode", "ключ ✓"), "OK");
        assert.equal(await client.get("unicode"), "ключ ✓");
        assert.equal(await client.strlen("unicode"), 12);
      } finally {
        await target.stop();
      }
    },
  );

  Deno.test(
    `client (${name}): counters, multi-key, expiry, keys`,
    opts,
    async () => {
      const target = await start();
      await using client = await Client.connect({ port: target.port });
      try {
        assert.equal(await client.incr("n"), 1);
        assert.equal(await client.incrBy("n", 41), 42);
        assert.equal(await client.decr("n"), 41);
        assert.equal(await client.decrBy("n", 40), 1);
        assert.equal(await client.incrByFloat("f", 10.5), "10.5");
        assert.equal(await client.incrByFloat("f", "0.1"), "10.6");
        assert.equal(await client.mset({ a: "1", b: "2" }), "OK");
        assert.equal(await client.mset("c", "3", "d", 4), "OK");
        assert.deepEqual(await client.mget("a", "b", "c", "d", "z"), [
          "1",
          "2",
          "3",
          "4",
          null,
        ]);
        assert.equal(await client.msetnx({ a: "x", y: "y" }), false);
        assert.equal(await client.msetnx({ y: "y", z: "z" }), true);
        assert.equal(await client.exists("a", "a", "nope"), 2);
        assert.equal(await client.expire("a", 100), true);
        assert.equal(await client.expire("a", 50, "GT"), false);
        assert.equal(await client.expire("nope", 50), false);
        assert.equal(await client.persist("a"), true);
        const at = new Date(Date.now() + 3_600_000);
        assert.equal(await client.expireAt("b", at), true);
        assert.equal(
          await client.expireTime("b"),
          Math.floor(at.getTime() / 1000),
        );
        assert.equal(await client.pexpireAt("b", at.getTime()), true);
        assert.equal(await client.pexpireTime("b"), at.getTime());
        assert.equal(await client.pexpire("b", 60_000), true);
        assert.equal(await client.type("b"), "string");
        assert.equal(await client.type("nope"), "none");
        assert.equal(await client.rename("b", "b2"), "OK");
        assert.equal(await client.renameNx("b2", "c"), false);
        assert.equal(await client.copy("c", "c2"), true);
        assert.equal(await client.copy("c", "c2"), false);
        assert.equal(await client.copy("d", "c2", { replace: true }), true);
        assert.equal(await client.get("c2"), "4");
        assert.equal(await client.touch("c", "nope"), 1);
        assert.deepEqual((await client.keys("c*")).sort(), ["c", "c2"]);
        assert.equal(await client.delete("c", "c2", "nope"), 2);
        assert.equal(await client.unlink("d"), 1);
        // Left: n, f, a, b2, y, z.
        assert.equal(await client.dbsize(), 6);
      } finally {
        await target.stop();
      }
    },
  );

  Deno.test(
    `client (${name}): flush, scan iterator, binary data`,
    opts,
    async () => {
      const target = await start();
      await using client = await Client.connect({ port: target.port });
      try {
        for (let i = 0; i < 250; i++) await client.set(`user:${i}`, String(i));
        await client.set("other", "x");
        const seen = new Set<string>();
        for await (const key of client.scanIterator("user:*", { count: 20 })) {
          seen.add(key);
        }
        assert.equal(seen.size, 250);
        const page = await client.scan(0, { match: "nothing*" });
        assert.equal(typeof page.cursor, "string");
        assert.deepEqual(page.keys.length, 0);
        const bin = new Uint8Array([0, 255, 13, 10, 128, 1]);
        assert.equal(await client.set(bin, bin), "OK");
        assert.deepEqual(await client.getBytes(bin), bin);
        assert.equal(await client.getBytes("missing"), null);
        assert.equal(await client.flush(), 252);
        assert.equal(await client.dbsize(), 0);
        assert.equal(await client.flush(), 0);
      } finally {
        await target.stop();
      }
    },
  );

  Deno.test(
    `client (${name}): errors reject with ReplyError and its code`,
    opts,
    async () => {
      const target = await start();
      await using client = await Client.connect({ port: target.port });
      try {
        await client.set("s", "abc");
        const e = await client.incr("s").catch((e) => e);
        assert.ok(e instanceof ReplyError);
        assert.equal(e.code, "ERR");
        assert.equal(e.message, "ERR value is not an integer or out of range");
        const u = await client.execute("NOSUCHCOMMAND", "x").catch((e) => e);
        assert.ok(u instanceof ReplyError);
        assert.match(u.message, /^ERR unknown command 'NOSUCHCOMMAND'/);
        // The connection goes on after errors.
        assert.equal(await client.ping(), "PONG");
        assert.equal(await client.ping("hi"), "hi");
        assert.equal(await client.echo("x y"), "x y");
        assert.deepEqual(await client.execute("MGET", "s", "nope"), [
          "abc",
          null,
        ]);
      } finally {
        await target.stop();
      }
    },
  );

  Deno.test(
    `client (${name}): pipelines and automatic pipelining`,
    opts,
    async () => {
      const target = await start();
      await using client = await Client.connect({ port: target.port });
      try {
        const replies = await client.pipeline()
          .set("a", "1")
          .incr("a")
          .get("a")
          .incr("nope-not-a-number-key")
          .set("s", "x")
          .incr("s")
          .exec();
        assert.equal(replies.length, 6);
        assert.deepEqual(replies.slice(0, 5), ["OK", 2, "2", 1, "OK"]);
        assert.ok(replies[5] instanceof ReplyError);
        // Many concurrent calls over one connection, answered in order.
        const results = await Promise.all(
          Array.from({ length: 1000 }, () => client.incr("counter")),
        );
        assert.deepEqual(
          results,
          Array.from({ length: 1000 }, (_, i) => i + 1),
        );
        const list = await client.clientList();
        assert.equal(list.trim().split("\n").length, 1);
      } finally {
        await target.stop();
      }
    },
  );

  Deno.test(`client (${name}): password, name and RESP3`, opts, async () => {
    const target = await start(["--requirepass", "s3cret"]);
    try {
      await assert.rejects(
        Client.connect({ port: target.port, password: "wrong" }),
        (e: unknown) => e instanceof ReplyError && e.code === "WRONGPASS",
      );
      const noauth = await Client.connect({ port: target.port });
      const e = await noauth.get("k").catch((e) => e);
      assert.ok(e instanceof ReplyError);
      assert.equal(e.code, "NOAUTH");
      noauth.close();
      for (const resp of [2, 3] as const) {
        await using c = await Client.connect({
          port: target.port,
          password: "s3cret",
          name: `app-${resp}`,
          resp,
        });
        assert.equal(await c.clientGetName(), `app-${resp}`);
        assert.equal(await c.set("k", "v"), "OK");
        assert.equal(await c.get("nope"), null);
        assert.deepEqual(await c.configGet("maxclients"), {
          maxclients: "10000",
        });
        const hello = await c.execute("HELLO") as Map<string, unknown>;
        assert.equal(resp === 3 ? hello.get("proto") : 0, resp === 3 ? 3 : 0);
        assert.ok((await c.info("server")).includes("redis_version:"));
        const [seconds, micros] = await c.time();
        assert.ok(Number.isInteger(seconds) && Number.isInteger(micros));
        assert.ok(micros >= 0 && micros < 1_000_000);
        assert.ok(Math.abs(seconds * 1000 - Date.now()) < 5000);
        assert.ok(await c.clientId() > 0);
      }
    } finally {
      await target.stop();
    }
  });
}

Deno.test(
  "client: reconnects after a server restart, and says so",
  opts,
  async () => {
    const port = freePort();
    let server = new Server({ port, loglevel: "warning", logSink: () => {} });
    await server.listen();
    const client = await Client.connect({
      port,
      reconnect: { retries: 50, minDelay: 20, maxDelay: 100 },
    });
    const events: string[] = [];
    const closed = Promise.withResolvers<void>();
    client.addEventListener("close", () => {
      events.push("close");
      closed.resolve();
    });
    client.addEventListener("reconnecting", () => events.push("reconnecting"));
    client.addEventListener("connect", () => events.push("connect"));
    try {
      assert.equal(await client.set("k", "before"), "OK");
      await server.close();
      // A command in flight when the connection drops fails (it may or may
      // not have run); one issued once the client knows waits for the new
      // connection.
      await closed.promise;
      assert.equal(client.connected, false);
      const pending = client.get("k");
      await new Promise((r) => setTimeout(r, 200));
      server = new Server({ port, loglevel: "warning", logSink: () => {} });
      await server.listen();
      assert.equal(await pending, null); // a fresh server: the key is gone
      assert.equal(await client.set("k", "after"), "OK");
      assert.equal(await client.get("k"), "after");
      assert.ok(events.includes("close"));
      assert.ok(events.includes("reconnecting"));
      assert.equal(events.at(-1), "connect");
    } finally {
      client.close();
      await server.close();
    }
  },
);

Deno.test(
  "client: gives up after its retries and rejects, no hang",
  opts,
  async () => {
    const server = await startServer();
    const client = await Client.connect({
      port: server.port,
      reconnect: { retries: 3, minDelay: 10, maxDelay: 20 },
    });
    let gaveUp: Error | undefined;
    client.addEventListener("error", (e) => gaveUp = e.detail);
    const closed = Promise.withResolvers<void>();
    client.addEventListener("close", () => closed.resolve());
    await server.close();
    await closed.promise;
    // Waits through the retries, then fails: it does not hang.
    const e = await client.get("k").catch((e) => e);
    assert.ok(e instanceof ConnectionError, String(e));
    assert.match(e.message, /gave up reconnecting after 3 attempts/);
    assert.ok(gaveUp instanceof ConnectionError);
    await assert.rejects(client.get("k"), ConnectionError);
  },
);

Deno.test("client: a command that gets no reply times out", opts, async () => {
  // A server that accepts and never answers.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  (async () => {
    for await (const c of listener) conns.push(c);
  })();
  try {
    const client = await Client.connect({
      port: (listener.addr as Deno.NetAddr).port,
      timeout: 200,
    });
    const start = Date.now();
    const e = await client.get("k").catch((e) => e);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.ok(Date.now() - start < 2000);
    client.close();
  } finally {
    listener.close();
    for (const c of conns) c.close();
  }
});

Deno.test("client: connecting to nothing fails clearly", opts, async () => {
  const port = freePort();
  await assert.rejects(
    Client.connect({ port, reconnect: false }),
    (e: unknown) =>
      e instanceof ConnectionError && e.message.includes(`127.0.0.1:${port}`),
  );
});

Deno.test(
  "client: close() rejects pending commands; await using closes",
  opts,
  async () => {
    await using server = await startServer();
    let client: Client;
    {
      await using c = await Client.connect({ port: server.port });
      client = c;
      assert.equal(await c.ping(), "PONG");
    }
    assert.equal(client.connected, false);
    await assert.rejects(client.ping(), ConnectionError);
  },
);

Deno.test(
  "client: a command in flight when the connection drops fails with ConnectionError",
  opts,
  async () => {
    // A server that reads one command and hangs up without answering.
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    (async () => {
      for await (const c of listener) {
        c.read(new Uint8Array(1024)).then(() => c.close());
      }
    })();
    try {
      const client = await Client.connect({
        port: (listener.addr as Deno.NetAddr).port,
        reconnect: false,
      });
      await assert.rejects(client.get("k"), ConnectionError);
      client.close();
    } finally {
      listener.close();
    }
  },
);

Deno.test("client: connection and server commands", opts, async () => {
  await using server = await startServer();
  await using client = await Client.connect({ port: server.port });
  assert.equal(await client.select(0), "OK");
  assert.equal((await client.hello()).server, "redis");
  assert.ok(await client.commandCount() > 50);
  assert.ok((await client.commandList()).includes("get"));
  const [info] = await client.commandInfo("get") as unknown[][];
  assert.equal(info[0], "get");
  assert.ok(await client.commandDocs("set") instanceof Array);
  assert.equal(await client.clientSetInfo("LIB-NAME", "kv-client"), "OK");
  assert.match(await client.clientInfo(), / lib-name=kv-client /);
  assert.equal(await client.configResetStat(), "OK");
  await client.set("k", "hello");
  assert.equal(await client.substr("k", 0, 1), "he");
  await using other = await Client.connect({ port: server.port });
  const id = await other.clientId();
  assert.equal(await client.clientKill({ ID: id }), 1);
  const e = await client.auth("nope").catch((e) => e);
  assert.ok(e instanceof ReplyError); // no password is set
  await client.quit();
  assert.equal(client.connected, false);
  // SHUTDOWN stops the server.
  await using last = await Client.connect({
    port: server.port,
    reconnect: false,
  });
  await last.shutdown("NOSAVE");
  await server.finished;
});
