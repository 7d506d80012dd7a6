// Pub/sub: the subscribe / publish exchanges of two (or three) connections
// compared byte for byte with redis-server in RESP2 and RESP3, the
// subscribed-mode rules, PUBSUB introspection, CLIENT LIST / INFO fields,
// client libraries, and a slow subscriber cut off at the pubsub limit.

import assert from "node:assert/strict";
import { encodeCommand } from "../protocol.ts";
import { type Cmd, compareRecords, hasRedis, withConns } from "./_compat.ts";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { Redis } from "ioredis";
import { createClient } from "redis";

const opts = { sanitizeOps: false, sanitizeResources: false };

/** One step: connection index, then a command (or null: only read) and how
 * many replies / messages to read on that connection. */
type Step = [
  conn: number,
  cmd: Cmd | null,
  count?: number | [resp2: number, resp3: number],
];

async function runScript(
  port: number,
  steps: Step[],
  resp: 2 | 3,
  conns = 2,
): Promise<string[]> {
  return await withConns(port, conns, resp, async (cs) => {
    const out: string[] = [];
    for (const [i, cmd, count] of steps) {
      const data = cmd === null ? new Uint8Array(0) : encodeCommand(cmd);
      const n = Array.isArray(count) ? count[resp - 2] : count ?? 1;
      out.push(await cs[i].rawReplies(data, n));
    }
    return out;
  });
}

async function compareScripts(
  t: Deno.TestContext,
  cases: Record<string, Step[]>,
  conns = 2,
): Promise<void> {
  await compareRecords(
    t,
    cases,
    (port, steps, resp) => runScript(port, steps, resp, conns),
    (steps, i) => `step ${i} ${JSON.stringify(steps[i])}`,
  );
}

const BIN = "\x00\xff\r\n\x80bin";

const CASES: Record<string, Step[]> = {
  "subscribe, publish, unsubscribe": [
    [0, ["SUBSCRIBE", "a", "b", "a"], 3],
    [1, ["PUBLISH", "a", "hello"]],
    [0, null],
    [1, ["PUBLISH", "b", ""]],
    [0, null],
    [1, ["PUBLISH", "c", "nobody"]],
    [0, ["UNSUBSCRIBE", "a", "zz"], 2],
    [1, ["PUBLISH", "a", "gone"]],
    [0, ["UNSUBSCRIBE"]],
    [0, ["UNSUBSCRIBE"]],
    [0, ["PUNSUBSCRIBE"]],
    [0, ["SUNSUBSCRIBE"]],
    [0, ["PING"]],
  ],
  "binary channels and payloads": [
    [0, ["SUBSCRIBE", BIN], 1],
    [1, ["PUBLISH", BIN, BIN]],
    [0, null],
    [0, ["PSUBSCRIBE", "\x00*"], 1],
    [1, ["PUBLISH", BIN, "x"]],
    [0, null, 2],
  ],
  "patterns": [
    [0, ["PSUBSCRIBE", "news.*", "h?llo", "[ab]c", "x\\*"], 4],
    [1, ["PUBLISH", "news.sport", "goal"]],
    [0, null],
    [1, ["PUBLISH", "hallo", "1"]],
    [0, null],
    [1, ["PUBLISH", "bc", "2"]],
    [0, null],
    [1, ["PUBLISH", "x*", "3"]],
    [0, null],
    [1, ["PUBLISH", "xy", "none"]],
    [1, ["PUBSUB", "NUMPAT"]],
    [0, ["PUNSUBSCRIBE", "news.*"]],
    [1, ["PUBSUB", "NUMPAT"]],
    [0, ["PUNSUBSCRIBE", "nope"]],
    [0, ["SUBSCRIBE", "hallo"]],
    [1, ["PUBLISH", "hallo", "twice"]],
    [0, null, 2],
  ],
  "subscribed mode": [
    [0, ["SUBSCRIBE", "a"]],
    [0, ["GET", "a"]],
    [0, ["CLIENT", "GETNAME"]],
    [0, ["CONFIG", "GET", "maxclients"]],
    [0, ["PING"]],
    [0, ["PING", "hi"]],
    [0, ["PUBLISH", "a", "self"], [1, 2]],
    [0, ["SSUBSCRIBE", "s"]],
    [0, ["UNSUBSCRIBE", "a"]],
    [0, ["GET", "a"]],
    [0, ["SUNSUBSCRIBE", "s"]],
    [0, ["GET", "a"]],
    [0, ["PING"]],
  ],
  "reset drops subscriptions": [
    [0, ["SUBSCRIBE", "a"]],
    [0, ["PSUBSCRIBE", "*"]],
    [0, ["RESET"]],
    [1, ["PUBLISH", "a", "x"]],
    [0, ["PING"]],
  ],
  "shard channels": [
    [0, ["SSUBSCRIBE", "s1", "s2", "s1"], 3],
    [0, ["SUBSCRIBE", "s1"]],
    [0, ["PSUBSCRIBE", "s*"]],
    [1, ["SPUBLISH", "s1", "m"]],
    [0, null],
    [1, ["PUBLISH", "s1", "n"]],
    [0, null, 2],
    [1, ["PUBSUB", "SHARDCHANNELS", "s1"]],
    [1, ["PUBSUB", "SHARDNUMSUB", "s1", "s2", "s3"]],
    [1, ["PUBSUB", "SHARDNUMSUB"]],
    [1, ["PUBSUB", "SHARDCHANNELS", "*2"]],
    [0, ["SUNSUBSCRIBE", "s1", "x"], 2],
    [0, ["SUNSUBSCRIBE"]],
    [0, ["SUNSUBSCRIBE"]],
    [1, ["SPUBLISH", "s2", "m"]],
  ],
  "pubsub introspection": [
    [1, ["PUBSUB", "CHANNELS"]],
    [0, ["SUBSCRIBE", "ch1"]],
    [1, ["PUBSUB", "CHANNELS"]],
    [1, ["PUBSUB", "CHANNELS", "ch*"]],
    [1, ["PUBSUB", "CHANNELS", "x*"]],
    [1, ["PUBSUB", "CHANNELS", "a", "b"]],
    [1, ["PUBSUB", "SHARDCHANNELS", "a", "b"]],
    [1, ["PUBSUB", "NUMSUB", "ch1", "ch2"]],
    [1, ["PUBSUB", "NUMSUB"]],
    [1, ["PUBSUB", "NUMPAT"]],
    [1, ["PUBSUB", "NUMPAT", "x"]],
    [1, ["PUBSUB", "HELP"]],
    [1, ["PUBSUB", "NOPE"]],
    [1, ["PUBSUB"]],
    [1, ["PUBLISH", "a"]],
    [1, ["SPUBLISH", "a"]],
    [1, ["SUBSCRIBE"]],
    [1, ["PSUBSCRIBE"]],
    [1, ["SSUBSCRIBE"]],
  ],
};

Deno.test({
  name: "pubsub: exchanges match redis-server byte for byte",
  ignore: !hasRedis,
  ...opts,
  fn: (t) => compareScripts(t, CASES),
});

Deno.test({
  name: "pubsub: three subscribers, publish counts receivers",
  ignore: !hasRedis,
  ...opts,
  fn: (t) =>
    compareScripts(t, {
      "fan out": [
        [0, ["SUBSCRIBE", "a"]],
        [1, ["SUBSCRIBE", "a"]],
        [1, ["PSUBSCRIBE", "a*"]],
        [2, ["PUBLISH", "a", "m"]],
        [0, null],
        [1, null, 2],
        [2, ["PUBSUB", "NUMSUB", "a"]],
        [1, ["QUIT"]],
        [2, ["PUBLISH", "a", "m"]],
        [0, null],
      ],
    }, 3),
});

Deno.test(
  "pubsub: an idle subscriber gets messages at once",
  opts,
  async () => {
    await using server = await startServer();
    using sub = await Conn.open(server.port);
    using pub = await Conn.open(server.port);
    await sub.call("SUBSCRIBE", "c");
    for (let i = 0; i < 100; i++) {
      assert.equal(await pub.call("PUBLISH", "c", `m${i}`), 1);
      assert.deepEqual(await sub.reply(2000), ["message", "c", `m${i}`]);
    }
  },
);

Deno.test("pubsub: CLIENT LIST, INFO and disconnects", opts, async () => {
  await using server = await startServer();
  using sub = await Conn.open(server.port);
  using other = await Conn.open(server.port);
  await sub.call("HELLO", "3");
  await sub.rawReplies(encodeCommand(["SUBSCRIBE", "a", "b"]), 2);
  await sub.call("PSUBSCRIBE", "p*");
  await sub.call("SSUBSCRIBE", "s");
  const list = String(await sub.call("CLIENT", "LIST"));
  const line = list.split("\n").find((l) => l.includes("cmd=client|list"))!;
  assert.match(line, / flags=P .*sub=2 psub=1 ssub=1 /);
  const info = String(await other.call("INFO", "stats"));
  assert.match(info, /pubsub_channels:2\r\n/);
  assert.match(info, /pubsub_patterns:1\r\n/);
  assert.match(info, /pubsubshard_channels:1\r\n/);
  sub.close();
  for (let i = 0; i < 100; i++) {
    if (await other.call("PUBLISH", "a", "x") === 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(await other.call("PUBLISH", "a", "x"), 0);
  assert.equal(await other.call("PUBSUB", "NUMPAT"), 0);
  assert.deepEqual(await other.call("PUBSUB", "SHARDCHANNELS"), []);
});

Deno.test("pubsub: the pubsub output limit setting", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  assert.deepEqual(
    await c.call("CONFIG", "GET", "client-output-buffer-limit"),
    [
      "client-output-buffer-limit",
      "normal 1073741824 268435456 60 slave 268435456 67108864 60 " +
      "pubsub 33554432 8388608 60",
    ],
  );
  assert.equal(
    await c.call(
      "CONFIG",
      "SET",
      "client-output-buffer-limit",
      "pubsub 1mb 2mb 3",
    ),
    "OK",
  );
  assert.deepEqual(server.config.clientOutputBufferLimitPubsub, {
    hard: 1 << 20,
    soft: 2 << 20,
    softSeconds: 3,
  });
  for (
    const [bad, msg] of [
      ["foo 1 2 3", "Invalid client class"],
      ["pubsub 1 2", "Wrong number of arguments"],
      ["pubsub 1 x 3", "Error in hard, soft or soft_seconds"],
    ]
  ) {
    const r = await c.call("CONFIG", "SET", "client-output-buffer-limit", bad);
    assert.ok(r instanceof Error && r.message.includes(msg), String(r));
  }
});

Deno.test(
  "pubsub: a slow subscriber is cut off at the limit",
  opts,
  async () => {
    await using server = await startServer({
      clientOutputBufferLimitPubsub: {
        hard: 256 * 1024,
        soft: 0,
        softSeconds: 0,
      },
    });
    // A subscriber that never reads: the socket buffers fill, then ours.
    const sub = await Conn.open(server.port);
    await sub.call("SUBSCRIBE", "c");
    using pub = await Conn.open(server.port);
    const payload = "x".repeat(16 * 1024);
    let cut = false;
    for (let i = 0; i < 2000 && !cut; i++) {
      const n = await pub.call("PUBLISH", "c", payload);
      if (n === 0) cut = true;
    }
    assert.ok(cut, "the subscriber was not disconnected");
    assert.ok(server.stats.outputLimitDisconnections >= 1);
    assert.match(
      String(await pub.call("INFO", "stats")),
      /client_output_buffer_limit_disconnections:1/,
    );
    sub.close();
  },
);

/** Waits until `check` holds (bounded). */
async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test(
  "pubsub: ioredis subscribes, psubscribes and receives",
  opts,
  async () => {
    await using server = await startServer();
    const options = {
      port: server.port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 0,
    };
    const sub = new Redis(options);
    const pub = new Redis(options);
    try {
      await sub.connect();
      await pub.connect();
      const got: string[] = [];
      sub.on("message", (ch: string, m: string) => got.push(`${ch}:${m}`));
      sub.on(
        "pmessage",
        (p: string, ch: string, m: string) => got.push(`${p}|${ch}:${m}`),
      );
      assert.equal(await sub.subscribe("news", "sport"), 2);
      assert.equal(await sub.psubscribe("n*"), 3);
      assert.equal(await pub.publish("news", "hello"), 2);
      assert.equal(await pub.publish("sport", "goal"), 1);
      await until(() => got.length === 3);
      assert.deepEqual(got, ["news:hello", "n*|news:hello", "sport:goal"]);
      assert.deepEqual(await pub.pubsub("NUMSUB", "news", "x"), [
        "news",
        1,
        "x",
        0,
      ]);
      await sub.unsubscribe("news");
      // (ioredis waits forever on a PUNSUBSCRIBE without arguments, with
      // redis-server as well: name them.)
      await sub.punsubscribe("n*");
      assert.equal(await pub.publish("news", "again"), 0);
      await sub.unsubscribe("sport");
      assert.equal(await sub.ping(), "PONG"); // out of subscribed mode
    } finally {
      sub.disconnect();
      pub.disconnect();
    }
  },
);

Deno.test("pubsub: node-redis subscribers (RESP2)", opts, async () => {
  await using server = await startServer();
  const url = `redis://127.0.0.1:${server.port}`;
  const pub = createClient({ url });
  pub.on("error", () => {});
  await pub.connect();
  const sub = pub.duplicate();
  sub.on("error", () => {});
  await sub.connect();
  try {
    const got: string[] = [];
    await sub.subscribe("a", (m, ch) => got.push(`${ch}:${m}`));
    await sub.pSubscribe("b*", (m, ch) => got.push(`p ${ch}:${m}`));
    await sub.sSubscribe("s", (m, ch) => got.push(`s ${ch}:${m}`));
    assert.equal(await pub.publish("a", "1"), 1);
    assert.equal(await pub.publish("bb", "2"), 1);
    assert.equal(await pub.sPublish("s", "3"), 1);
    await until(() => got.length === 3);
    assert.deepEqual(got, ["a:1", "p bb:2", "s s:3"]);
    assert.deepEqual(await pub.pubSubChannels(), ["a"]);
    assert.equal(await pub.pubSubNumPat(), 1);
    await sub.unsubscribe("a");
    assert.equal(await pub.publish("a", "x"), 0);
  } finally {
    await sub.disconnect();
    await pub.quit();
  }
});

Deno.test(
  "pubsub: a subscriber over the soft limit for too long is cut off",
  opts,
  async () => {
    await using server = await startServer({
      clientOutputBufferLimitPubsub: {
        hard: 0,
        soft: 128 * 1024,
        softSeconds: 1,
      },
    });
    const sub = await Conn.open(server.port);
    await sub.call("SUBSCRIBE", "c");
    using pub = await Conn.open(server.port);
    const payload = "x".repeat(64 * 1024);
    const start = Date.now();
    let cutAfter = -1;
    for (let i = 0; i < 400 && cutAfter < 0; i++) {
      if (await pub.call("PUBLISH", "c", payload) === 0) {
        cutAfter = Date.now() - start;
      } else if (i > 40) await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(cutAfter >= 1000, `cut after ${cutAfter} ms`);
    sub.close();
  },
);

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random subscribe / unsubscribe / publish traffic over three RESP2
 * connections; a model of the subscriptions says how many messages each
 * connection gets, and what every connection received is compared (as a
 * set within one step: the order across patterns is Redis's hash order). */
async function randomTraffic(port: number, seed: number): Promise<string[]> {
  const random = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const CHANNELS = ["a", "b", "ab", "ba", "c"];
  const PATTERNS = ["a*", "*b", "?", "[ab]*"];
  const conns: Conn[] = [];
  const subs = [0, 1, 2].map(() => ({
    ch: new Set<string>(),
    pat: new Set<string>(),
  }));
  const out: string[] = [];
  try {
    for (let i = 0; i < 3; i++) conns.push(await Conn.open(port));
    for (let step = 0; step < 600; step++) {
      const i = Math.floor(random() * 3);
      const me = subs[i];
      const r = random();
      let cmd: Cmd;
      if (r < 0.25) {
        const ch = pick(CHANNELS);
        cmd = ["SUBSCRIBE", ch];
        me.ch.add(ch);
      } else if (r < 0.35) {
        const ch = pick(CHANNELS);
        cmd = ["UNSUBSCRIBE", ch];
        me.ch.delete(ch);
      } else if (r < 0.5) {
        const p = pick(PATTERNS);
        cmd = ["PSUBSCRIBE", p];
        me.pat.add(p);
      } else if (r < 0.6) {
        const p = pick(PATTERNS);
        cmd = ["PUNSUBSCRIBE", p];
        me.pat.delete(p);
      } else if (r < 0.65) {
        cmd = ["PING"];
      } else if (r < 0.7) {
        cmd = ["PUBSUB", "NUMSUB", pick(CHANNELS), pick(CHANNELS)];
      } else {
        cmd = ["PUBLISH", pick(CHANNELS), `m${step}`];
      }
      // A subscribed RESP2 connection cannot PUBLISH (an error reply).
      const subscribed = me.ch.size + me.pat.size > 0;
      const reply = await conns[i].rawReplies(encodeCommand(cmd));
      out.push(`${i} ${cmd.join(" ")} -> ${reply}`);
      if (cmd[0] !== "PUBLISH" || subscribed) continue;
      // Delivered: read each subscriber's messages.
      const ch = String(cmd[1]);
      for (let j = 0; j < 3; j++) {
        let n = subs[j].ch.has(ch) ? 1 : 0;
        for (const p of subs[j].pat) {
          if (new RegExp(`^${globToRegExp(p)}$`).test(ch)) n++;
        }
        if (n === 0) continue;
        const got = await conns[j].rawReplies(new Uint8Array(0), n);
        out.push(`  ${j} got ${got.split(/(?=\*)/).sort().join("")}`);
      }
    }
    return out;
  } finally {
    for (const c of conns) c.close();
  }
}

function globToRegExp(p: string): string {
  return p.replace(/\*/g, ".*").replace(/\?/g, ".");
}

Deno.test({
  name: "pubsub: seeded random traffic matches redis-server",
  ignore: !hasRedis,
  ...opts,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const seed of [1, 2, 3]) {
      const expected = await randomTraffic(redis.port, seed);
      const actual = await randomTraffic(ours.port, seed);
      for (let k = 0; k < expected.length; k++) {
        assert.equal(actual[k], expected[k], `seed ${seed}, line ${k}`);
      }
      assert.equal(actual.length, expected.length);
    }
  },
});

Deno.test({
  name:
    "pubsub: a subscribed client is of type pubsub for CLIENT LIST and KILL",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const run = async (port: number) => {
      const sub = await Conn.open(port);
      await sub.call("SUBSCRIBE", "ch");
      using c = await Conn.open(port);
      const listed = String(await c.call("CLIENT", "LIST", "TYPE", "pubsub"))
        .split("\n").filter((l) => l !== "").length;
      const normal = String(await c.call("CLIENT", "LIST", "TYPE", "normal"))
        .split("\n").filter((l) => l !== "").length;
      const killed = await c.call("CLIENT", "KILL", "TYPE", "pubsub");
      sub.close();
      return [listed, normal, killed];
    };
    assert.deepEqual(await run(ours.port), await run(redis.port));
  },
});
