// The Client's method names follow one rule, checked against the command
// table: every command (and subcommand) the server has is a method named
// from the command's own name (see methodName), on clients, pipelines and
// transactions; the names used before the rule still work.

import assert from "node:assert/strict";
import { Client, methodName } from "../client.ts";
import { COMMAND_INFO } from "../commands/_table_data.ts";
import { startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Commands that are deliberately not methods, and what to use instead. */
const NOT_METHODS: Record<string, string> = {
  multi: "client.multi() queues a transaction",
  exec: "ClientTransaction.exec()",
  discard: "ClientTransaction.discard()",
  watch: "client.watch() (on a client from isolated())",
  monitor: "the connection only streams afterwards: redis-cli MONITOR",
  unsubscribe: "Subscription.unsubscribe()",
  punsubscribe: "Subscription.unsubscribe()",
  sunsubscribe: "Subscription.unsubscribe()",
  reset: "would drop the client's own connection state (tracking, name)",
  "client|reply": "OFF/SKIP break the pairing of requests and replies",
  "script|debug": "the Lua debugger is not supported",
  psync: "a replica's handshake: the connection becomes a replication stream",
  sync: "a replica's handshake: the connection becomes a replication stream",
  replconf: "spoken by replicas and primaries to each other",
};

/** Client methods that pipelines and transactions do not have: they
 * manage the connection (subscriptions live on a connection of their own,
 * FLUSH falls back to a script on Redis). */
const CONNECTION_ONLY = [
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "quit",
  "shutdown",
  "unwatch",
  "flush",
];

Deno.test("client names: the rule, worked examples", () => {
  assert.equal(methodName("get"), "get");
  assert.equal(methodName("incrbyfloat"), "incrbyfloat");
  assert.equal(methodName("zrangebyscore"), "zrangebyscore");
  assert.equal(methodName("bitfield_ro"), "bitfieldRo");
  assert.equal(methodName("georadiusbymember_ro"), "georadiusbymemberRo");
  assert.equal(methodName("config|get"), "configGet");
  assert.equal(methodName("config|resetstat"), "configResetstat");
  assert.equal(methodName("client|no-evict"), "clientNoEvict");
  assert.equal(methodName("xgroup|createconsumer"), "xgroupCreateconsumer");
});

Deno.test(
  "client names: every command of the server is a method named by the rule",
  opts,
  async () => {
    await using server = await startServer();
    await using client = await Client.connect({ port: server.port });
    const ours = new Set(
      (await client.execute("COMMAND", "LIST")) as string[],
    );
    const expected: string[] = [];
    for (const command of COMMAND_INFO) {
      if (!ours.has(command.name)) continue;
      const subs = command.subcommands ?? [];
      if (subs.length === 0) {
        expected.push(command.name);
        continue;
      }
      // Subcommands the server has: its own COMMAND INFO lists them.
      const [info] = (await client.execute(
        "COMMAND",
        "INFO",
        command.name,
      )) as RespArray[];
      const mine = new Set((info[9] as RespArray[]).map((s) => s[0]));
      for (const sub of subs) if (mine.has(sub.name)) expected.push(sub.name);
    }
    // Our own commands, not in Redis's table.
    expected.push("delete", "flush");
    assert.ok(expected.length > 250, `${expected.length} commands`);

    const pipeline = client.pipeline() as unknown as Record<string, unknown>;
    const tx = client.multi() as unknown as Record<string, unknown>;
    const missing: string[] = [];
    for (const command of expected) {
      if (command in NOT_METHODS) continue;
      const name = methodName(command);
      const method = (client as unknown as Record<string, unknown>)[name];
      if (typeof method !== "function") {
        missing.push(`${command} -> ${name}`);
        continue;
      }
      // Pipelines and transactions queue the same commands, except those
      // that act on the connection itself.
      if (CONNECTION_ONLY.includes(command)) continue;
      if (pipeline[name] !== method || tx[name] !== method) {
        missing.push(`${command} -> ${name} (pipeline/transaction)`);
      }
    }
    assert.deepEqual(missing, []);
    for (const command of Object.keys(NOT_METHODS)) {
      assert.ok(
        expected.includes(command),
        `${command} is excluded but is not a command of ours`,
      );
    }
  },
);

Deno.test(
  "client names: the old names are deprecated aliases of the same methods",
  opts,
  async () => {
    await using server = await startServer();
    await using client = await Client.connect({ port: server.port });
    assert.equal(client.incrBy, client.incrby);
    assert.equal(client.zrangeByScore, client.zrangebyscore);
    assert.equal(client.clientSetName, client.clientSetname);
    assert.equal(await client.incrBy("n", 2), 2);
    assert.equal(await client.incrby("n", 3), 5);
    assert.equal(await client.renameNx("n", "m"), true);
    assert.equal(await client.flushDb(), "OK");
    const [a, b] = await client.pipeline().incrBy("x", 1).incrby("x", 1)
      .exec();
    assert.deepEqual([a, b], [1, 2]);
  },
);

Deno.test(
  "client names: methods the rule added (help, OBJECT, PUBSUB, MEMORY)",
  opts,
  async () => {
    await using server = await startServer();
    await using client = await Client.connect({ port: server.port });
    await client.set("k", "v");
    assert.equal(await client.objectRefcount("k"), 1);
    assert.equal(await client.objectRefcount("missing"), null);
    assert.equal(typeof await client.objectIdletime("k"), "number");
    assert.ok((await client.memoryUsage("k"))! > 0);
    assert.equal(await client.memoryUsage("missing"), null);
    assert.deepEqual(await client.pubsubNumsub("a", "b"), [["a", 0], [
      "b",
      0,
    ]]);
    assert.equal(await client.pubsubNumpat(), 0);
    assert.deepEqual(await client.pubsubChannels(), []);
    assert.equal(await client.pfselftest(), "OK");
    assert.match((await client.objectHelp())[0], /^OBJECT <subcommand>/);
    assert.match((await client.clientHelp())[0], /^CLIENT <subcommand>/);
  },
);

type RespArray = unknown[];
