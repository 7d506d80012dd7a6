// The Client's types and entry points as a new user meets them: pipelines
// typed per queued call, option objects that cannot combine rejected by the
// type checker (the `@ts-expect-error` lines fail `deno check` if they
// type-check), TIME in whole units, and `redis://` URLs.

import assert from "node:assert/strict";
import { Client, type Pipeline } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import { RedisServer, startServer } from "./_helpers.ts";
import { has } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Compile-time checks only: never called. */
function _types(client: Client): void {
  // @ts-expect-error: EX and PX together
  client.set("k", "v", { ex: 10, px: 100 });
  // @ts-expect-error: NX and XX together
  client.set("k", "v", { nx: true, xx: true });
  // @ts-expect-error: an expiry and KEEPTTL
  client.set("k", "v", { ex: 10, keepTtl: true });
  // @ts-expect-error: EXAT and PXAT together
  client.getex("k", { exat: 1, pxat: 2 });
  // @ts-expect-error: an expiry and PERSIST
  client.getex("k", { px: 1, persist: true });
  client.set("k", "v", { nx: true, px: 30_000, get: true });
  client.set("k", "v", { xx: true, keepTtl: true });
  client.getex("k", { persist: true });

  const p: Pipeline<[string | null, number, [string, number][]]> = client
    .pipeline().get("a").incr("n").zrangebyscore("z", 0, 1, {
      withScores: true,
    });
  p.exec().then(([value, n, pairs]) => {
    const v: string | null | ReplyError = value;
    const count: number | ReplyError = n;
    // @ts-expect-error: INCR's result is not a string
    const wrong: string = n;
    console.log(v, count, pairs, wrong);
  });
  client.multi().lpop("l").lpop("l", 2).exec().then((r) => {
    if (r === null) return;
    const [one, many]: [
      string | null | ReplyError,
      string[] | null | ReplyError,
    ] = r;
    console.log(one, many);
  });
  client.time().then(([seconds, microseconds]) => {
    const s: number = seconds + microseconds;
    console.log(s);
  });
}
void _types;

Deno.test(
  "client api: a pipeline's exec() holds each call's result",
  opts,
  async () => {
    await using server = await startServer();
    await using client = await Client.connect({ port: server.port });
    await client.zadd("z", { m: 1 });
    const [value, n, pairs, err] = await client.pipeline().get("a").incr("n")
      .zrangebyscore("z", 0, 1, { withScores: true }).incr("z").exec();
    assert.equal(value, null);
    assert.equal(n, 1);
    assert.deepEqual(pairs, [["m", 1]]);
    assert.ok(err instanceof ReplyError);
    const r = await client.multi().set("x", "1").incrby("x", 2).exec();
    assert.deepEqual(r, ["OK", 3]);
  },
);

for (
  const [name, start] of [
    ["@kv/store", async () => {
      const s = await startServer();
      return { port: s.port, stop: () => s.close() };
    }],
    ...(has("redis-server")
      ? [
        ["redis-server", async () => {
          const r = await RedisServer.start([]);
          return { port: r.port, stop: () => r.stop() };
        }] as const,
      ]
      : []),
  ] as const
) {
  Deno.test(`client api (${name}): TIME in whole units`, opts, async () => {
    const target = await start();
    try {
      await using client = await Client.connect({ port: target.port });
      const [seconds, micros] = await client.time();
      assert.ok(Number.isInteger(seconds) && Number.isInteger(micros));
      assert.ok(micros >= 0 && micros < 1_000_000, String(micros));
      assert.ok(Math.abs(seconds - Date.now() / 1000) < 10);
    } finally {
      await target.stop();
    }
  });
}

Deno.test("client api: Client.connect takes a redis:// URL", opts, async () => {
  await using server = await startServer({ requirepass: "p@ss w" });
  await using client = await Client.connect(
    `redis://default:${
      encodeURIComponent("p@ss w")
    }@127.0.0.1:${server.port}/0`,
  );
  assert.equal(await client.ping(), "PONG");
  await using bare = await Client.connect(
    new URL(
      `redis://:${encodeURIComponent("p@ss w")}@127.0.0.1:${server.port}`,
    ),
  );
  assert.equal(await bare.ping(), "PONG");
  await assert.rejects(
    () => Client.connect(`rediss://127.0.0.1:${server.port}`),
    /rediss: URLs need TLS/,
  );
  // The path is a database number (tests/client_databases_test.ts).
  await assert.rejects(
    () => Client.connect(`redis://127.0.0.1:${server.port}/abc`),
    TypeError,
  );
  await assert.rejects(() => Client.connect("http://x"), /not a redis: URL/);
});
