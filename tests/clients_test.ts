// Real clients against the real server: redis-cli (one-shot, piped,
// interactive through tmux), redis-benchmark, ioredis and node-redis.

import assert from "node:assert/strict";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { has, run, startServer, tmux, waitForScreen } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const hasCli = has("redis-cli");

Deno.test({
  name: "redis-cli: one-shot commands, replies and exit codes",
  ignore: !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    const cli = (...args: string[]) =>
      run("redis-cli", ["-p", String(server.port), ...args]);
    assert.equal((await cli("SET", "greeting", "hello world")).stdout, "OK\n");
    assert.equal((await cli("GET", "greeting")).stdout, "hello world\n");
    assert.equal((await cli("INCR", "n")).stdout, "1\n");
    assert.equal((await cli("--no-raw", "INCR", "n")).stdout, "(integer) 2\n");
    assert.equal((await cli("--no-raw", "GET", "nope")).stdout, "(nil)\n");
    assert.equal(
      (await cli("--no-raw", "MGET", "greeting", "nope")).stdout,
      '1) "hello world"\n2) (nil)\n',
    );
    const err = await cli("--no-raw", "GET");
    assert.equal(
      err.stdout,
      "(error) ERR wrong number of arguments for 'get' command\n",
    );
    await cli("HSET", "h", "f", "v");
    assert.equal(
      (await cli("-3", "--no-raw", "HGETALL", "h")).stdout,
      '1# "f" => "v"\n',
    );
    assert.equal(
      (await cli("-3", "--no-raw", "NOSUCH", "x")).stdout.startsWith(
        "(error) ERR unknown command",
      ),
      true,
    );
    assert.equal((await cli("DBSIZE")).stdout, "3\n");
    assert.equal((await cli("FLUSH")).stdout, "3\n");
  },
});

Deno.test({
  name: "redis-cli: piped batch of commands",
  ignore: !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    const r = await run("redis-cli", ["-p", String(server.port)], {
      stdin:
        'SET a 1\nINCRBY a 41\nGET a\nSET b "two words"\nGET b\nEXISTS a b c\n',
    });
    assert.equal(r.stdout, "OK\n42\n42\nOK\ntwo words\n2\n");
    // --pipe mode: raw RESP in, a summary out.
    const lines: string[] = [];
    for (let i = 0; i < 1000; i++) {
      lines.push(
        `*3\r\n$3\r\nSET\r\n$${String(i).length + 2}\r\nk:${i}\r\n$1\r\nv\r\n`,
      );
    }
    const pipe = await run("redis-cli", ["-p", String(server.port), "--pipe"], {
      stdin: lines.join(""),
    });
    assert.match(pipe.stdout, /errors: 0, replies: 1000/);
    assert.equal(server.store.size, 1002);
  },
});

Deno.test({
  name: "redis-cli: interactive session with hints, driven through tmux",
  ignore: !hasCli || !has("tmux"),
  ...opts,
  async fn() {
    await using server = await startServer();
    const session = `kv-test-${Deno.pid}-${server.port}`;
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "160",
      "-y",
      "40",
      `redis-cli -p ${server.port}`,
    );
    try {
      await waitForScreen(
        session,
        new RegExp(`127\\.0\\.0\\.1:${server.port}>`),
      );
      await tmux("send-keys", "-t", session, "SET x 5", "Enter");
      await waitForScreen(session, /^OK$/m);
      await tmux("send-keys", "-t", session, "INCR x", "Enter");
      await waitForScreen(session, /\(integer\) 6/);
      await tmux("send-keys", "-t", session, "MGET x nope", "Enter");
      await waitForScreen(session, /1\) "6"\s*\n2\) \(nil\)/);
      // Typing a command name shows its arguments, from COMMAND DOCS.
      await tmux("send-keys", "-t", session, "GETEX ");
      const hint = await waitForScreen(session, /GETEX key/);
      assert.match(hint, /GETEX key \[/);
      await tmux("send-keys", "-t", session, "C-u");
      await tmux("send-keys", "-t", session, "GET", "Enter");
      await waitForScreen(
        session,
        /\(error\) ERR wrong number of arguments for 'get' command/,
      );
    } finally {
      await tmux("kill-session", "-t", session);
    }
  },
});

Deno.test({
  name: "redis-benchmark's whole default test set runs without errors",
  ignore: !has("redis-benchmark"),
  ...opts,
  async fn() {
    await using server = await startServer();
    const r = await run("redis-benchmark", [
      "-p",
      String(server.port),
      "-n",
      "2000",
      "-c",
      "10",
      "-P",
      "4",
      "--csv",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout + r.stderr, /ERR|WRONGTYPE|Error/);
    const rows = r.stdout.trim().split("\n").slice(1);
    // PING_INLINE ... MSET: every test of Redis 7.0's default set.
    assert.ok(rows.length >= 20, r.stdout);
    for (
      const name of ["LPUSH", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN"]
    ) {
      assert.ok(rows.some((row) => row.startsWith(`"${name}"`)), name);
    }
    for (const row of rows) {
      assert.ok(Number(row.split(",")[1].replaceAll('"', "")) > 0, row);
    }
  },
});

Deno.test(
  "ioredis: commands, pipelines, errors, binary data",
  opts,
  async () => {
    await using server = await startServer();
    const redis = new Redis({
      port: server.port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    });
    try {
      await redis.connect();
      assert.equal(await redis.set("k", "v", "EX", 100), "OK");
      assert.equal(await redis.get("k"), "v");
      assert.equal(await redis.ttl("k"), 100);
      assert.equal(await redis.incr("n"), 1);
      assert.equal(await redis.incrbyfloat("f", "2.5"), "2.5");
      assert.deepEqual(await redis.mget("k", "n", "nope"), ["v", "1", null]);
      const results = await redis.pipeline().set("a", "1").incr("a").get("a")
        .exec();
      assert.deepEqual(results, [[null, "OK"], [null, 2], [null, "2"]]);
      await assert.rejects(redis.incr("k"), /ERR value is not an integer/);
      const bin = Buffer.from([0, 255, 13, 10, 128]);
      await redis.set(bin, bin);
      assert.deepEqual(await redis.getBuffer(bin), bin);
      const [cursor, keys] = await redis.scan("0", "COUNT", 100);
      assert.equal(cursor, "0");
      assert.equal(keys.length, 5);
      assert.equal(await redis.dbsize(), 5);
      assert.match(await redis.info("keyspace"), /db0:keys=5/);
    } finally {
      redis.disconnect();
    }
  },
);

Deno.test("ioredis: password from options", opts, async () => {
  await using server = await startServer({ requirepass: "pw" });
  const redis = new Redis({
    port: server.port,
    host: "127.0.0.1",
    password: "pw",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
  });
  try {
    await redis.connect();
    assert.equal(await redis.ping(), "PONG");
  } finally {
    redis.disconnect();
  }
});

Deno.test("node-redis: commands and multi-key replies", opts, async () => {
  await using server = await startServer();
  const client = createClient({ url: `redis://127.0.0.1:${server.port}` });
  client.on("error", () => {});
  await client.connect();
  try {
    assert.equal(await client.set("k", "v", { PX: 50_000 }), "OK");
    assert.equal(await client.get("k"), "v");
    assert.equal(await client.incrBy("n", 5), 5);
    assert.deepEqual(await client.mGet(["k", "n", "x"]), ["v", "5", null]);
    assert.equal(await client.exists(["k", "n", "x"]), 2);
    assert.deepEqual((await client.keys("*")).sort(), ["k", "n"]);
    assert.equal(await client.del("k"), 1);
  } finally {
    await client.quit();
  }
});
