// The interactive `kv cli` beside redis-cli, both driven through tmux with
// the same keys: reconnecting after the server restarts, a wrong -a
// password then AUTH, INFO printed line by line.

import assert from "node:assert/strict";
import { has, RedisServer, startServer } from "./_helpers.ts";
import { kvCli, Terminal, twin } from "./_cli.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** redis-server on a given port (to start it again on the same one). */
const redisOn = (port: number) => RedisServer.start([], port);

/** Screens with the port and trailing blank lines taken out. */
const norm = (s: string, port: number) =>
  s.replaceAll(String(port), "PORT").trimEnd();

Deno.test({
  name:
    "kv cli: after the server restarts, the next command reconnects (as redis-cli)",
  ignore: !has("tmux") || !has("redis-cli") || !has("redis-server"),
  ...opts,
  async fn() {
    // Ours: an in-process server stopped and started on the same port.
    let ours = await startServer();
    const port = ours.port;
    let redis = await RedisServer.start();
    const rport = redis.port;
    try {
      await using a = await Terminal.open(kvCli(`-p ${port}`));
      await using b = await Terminal.open(`redis-cli -p ${rport}`);
      const prompt = "127\\.0\\.0\\.1:\\d+>";
      const steps: [string, RegExp][] = [
        ["PING", new RegExp(`> PING\nPONG\n${prompt}$`)],
        ["RESTART", /./],
        [
          "PING",
          /> PING\nError: Server closed the connection\nnot connected>$/,
        ],
        ["PING", new RegExp(`not connected> PING\nPONG\n${prompt}$`)],
        ["STOP", /./],
        [
          "PING",
          new RegExp(
            `${prompt} PING\nError: Server closed the connection\nnot connected>$`,
          ),
        ],
        [
          "PING",
          /not connected> PING\nCould not connect to Redis at 127\.0\.0\.1:\d+: Connection refused\nnot connected>$/,
        ],
        ["START", /./],
        ["SET k v", new RegExp(`not connected> SET k v\nOK\n${prompt}$`)],
      ];
      await a.waitFor(new RegExp(`${prompt}$`));
      await b.waitFor(new RegExp(`${prompt}$`));
      for (const [step, pattern] of steps) {
        if (step === "RESTART" || step === "STOP") {
          await ours.close();
          await redis.stop();
        }
        if (step === "RESTART" || step === "START") {
          ours = await startServer({ port });
          redis = await redisOn(rport);
        }
        if (step === "RESTART" || step === "STOP" || step === "START") continue;
        await a.keys(step, "Enter");
        await b.keys(step, "Enter");
        await a.waitFor(pattern);
        await b.waitFor(pattern);
      }
      assert.equal(norm(await a.screen(), port), norm(await b.screen(), rport));
      assert.equal(ours.store.value("k"), "v");
    } finally {
      await ours.close();
      await redis.stop();
    }
  },
});

/** The prompt redis-cli and kv cli start with. */
const PROMPT = /127\.0\.0\.1:\d+>$/;

Deno.test({
  name:
    "kv cli: a wrong -a password prints AUTH failed, then AUTH works (as redis-cli)",
  ignore: !has("tmux") || !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer({ requirepass: "s3cret" });
    const [ours, theirs] = await twin(server.port, "-a wrong", PROMPT, [
      ["GET x", /NOAUTH Authentication required\.\n127\.0\.0\.1:\d+>$/],
      ["auth s3cret", /auth s3cret\nOK\n127\.0\.0\.1:\d+>$/],
      ["SET x 1", /SET x 1\nOK\n127\.0\.0\.1:\d+>$/],
      ["GET x", /GET x\n"1"\n127\.0\.0\.1:\d+>$/],
    ]);
    assert.match(
      ours,
      /AUTH failed: WRONGPASS invalid username-password pair or user is disabled\.\n/,
    );
    assert.equal(ours.trimEnd(), theirs.trimEnd());
  },
});

Deno.test({
  name: "kv cli: INFO at the prompt prints its lines, RESP2 and RESP3",
  ignore: !has("tmux") || !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer();
    server.store.set("a", "1");
    for (const flags of ["", "-3"]) {
      const [ours, theirs] = await twin(server.port, flags, PROMPT, [
        ["INFO keyspace", /db0:keys=1,expires=0,avg_ttl=0\n127\.0\.0\.1:\d+>$/],
        ["CLIENT LIST ID 999", /CLIENT LIST ID 999\n127\.0\.0\.1:\d+>$/],
        ["ECHO done", /"done"\n127\.0\.0\.1:\d+>$/],
      ]);
      assert.match(ours, /> INFO keyspace\n# Keyspace\ndb0:keys=1,/);
      assert.equal(ours.trimEnd(), theirs.trimEnd(), `flags: ${flags}`);
    }
  },
});
