// Introspection and client control: MONITOR, SLOWLOG, LATENCY, CLIENT
// PAUSE/UNPAUSE/REPLY/NO-EVICT, CLIENT LIST fields, compared with
// redis-server where the output is deterministic.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, decoder, RedisServer, startServer } from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";
import { repr } from "../commands/introspection.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const compat = { ...opts, ignore: !hasRedis };

const enc = (...cmds: (string | number)[][]) =>
  cmds.map((c) => decoder.decode(encodeCommand(c))).join("");

const CASES: Record<string, Cmd[]> = {
  "slowlog len reset help and errors": [
    ["SLOWLOG", "RESET"],
    ["SLOWLOG", "LEN"],
    ["SLOWLOG", "GET", 0],
    ["SLOWLOG", "GET", "abc"],
    ["SLOWLOG", "GET", -5],
    ["SLOWLOG", "GET", 1, 2],
    ["SLOWLOG", "HELP"],
    ["SLOWLOG", "NOPE"],
    ["SLOWLOG"],
    ["SLOWLOG", "LEN", "x"],
  ],
  "slowlog settings": [
    ["CONFIG", "GET", "slowlog-log-slower-than"],
    ["CONFIG", "GET", "slowlog-max-len"],
    ["CONFIG", "SET", "slowlog-log-slower-than", "abc"],
    ["CONFIG", "SET", "slowlog-log-slower-than", "-2"],
    ["CONFIG", "SET", "slowlog-max-len", "-1"],
    ["CONFIG", "SET", "latency-monitor-threshold", "-1"],
    ["CONFIG", "GET", "latency-monitor-threshold"],
    ["CONFIG", "SET", "slowlog-max-len", "99999999999999999999"],
    ["CONFIG", "SET", "slowlog-max-len", "128"],
  ],
  "latency": [
    ["LATENCY", "HELP"],
    ["LATENCY", "RESET"],
    ["LATENCY", "LATEST"],
    ["LATENCY", "HISTORY", "command"],
    ["LATENCY", "RESET", "a", "b"],
    ["LATENCY", "GRAPH", "command"],
    ["LATENCY", "DOCTOR"],
    ["LATENCY", "HISTORY"],
  ],
  "client pause errors": [
    ["CLIENT", "PAUSE", "abc"],
    ["CLIENT", "PAUSE", -1],
    ["CLIENT", "PAUSE", 10, "foo"],
    ["CLIENT", "PAUSE", 0],
    ["CLIENT", "PAUSE", 0, "write"],
    ["CLIENT", "UNPAUSE"],
    ["CLIENT", "UNPAUSE", "x"],
  ],
  "client reply and no-evict errors": [
    ["CLIENT", "REPLY", "foo"],
    ["CLIENT", "REPLY", "ON"],
    ["CLIENT", "NO-EVICT", "foo"],
    ["CLIENT", "NO-EVICT", "on"],
    ["CLIENT", "NO-EVICT", "OFF"],
    ["CLIENT", "NO-TOUCH", "on"],
  ],
};

Deno.test("introspection: compared with redis-server", compat, async (t) => {
  await compareWithRedis(t, CASES);
});

/** Raw bytes of a pipeline whose replies end with `PING marker`. */
async function untilMarker(port: number, pipeline: string): Promise<string> {
  using c = await Conn.open(port);
  await c.send(pipeline + enc(["PING", "marker"]));
  let all = "";
  const deadline = Date.now() + 5000;
  while (!all.endsWith("$6\r\nmarker\r\n") && Date.now() < deadline) {
    all = await c.rawReplies("", 1).then((r) => all + r);
  }
  return all;
}

Deno.test(
  "introspection: CLIENT REPLY OFF/SKIP as redis-server",
  compat,
  async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const pipeline = enc(
      ["SET", "a", "1"],
      ["CLIENT", "REPLY", "OFF"],
      ["GET", "a"],
      ["NOSUCH"],
      ["CLIENT", "REPLY", "SKIP"],
      ["CLIENT", "REPLY", "ON"],
      ["INCR", "a"],
      ["CLIENT", "REPLY", "SKIP"],
      ["GET", "a"],
      ["GET", "a"],
      ["CLIENT", "REPLY", "SKIP"],
      ["CLIENT", "REPLY", "SKIP"],
      ["ECHO", "x"],
      ["ECHO", "y"],
    );
    const expected = await untilMarker(redis.port, pipeline);
    const actual = await untilMarker(ours.port, pipeline);
    assert.equal(actual, expected);
  },
);

/** MONITOR lines with the timestamp and address masked. */
async function monitorLines(port: number): Promise<string> {
  using mon = await Conn.open(port);
  assert.equal(await mon.call("MONITOR"), "OK");
  using c = await Conn.open(port);
  const cmds: (string | number)[][] = [
    ["SET", "a", "1"],
    ["AUTH", "user", "pass"],
    ["HELLO", "3", "AUTH", "default", "x", "SETNAME", "n"],
    ["CONFIG", "GET", "maxclients"],
    ["MULTI"],
    ["SET", "b", 'x y\n\x01"\\'],
    ["EXEC"],
    ["NOSUCH"],
    ["GET"],
    ["CLIENT", "SETNAME", "x"],
    ["ECHO", "\xc3\xa9\t\r\x07\x08"],
    ["SLOWLOG", "LEN"],
    ["PING", "last"],
  ];
  for (const cmd of cmds) await c.rawReplies(encodeCommand(cmd));
  let text = "";
  const deadline = Date.now() + 5000;
  while (!text.includes('"last"') && Date.now() < deadline) {
    text += await mon.rawReplies("", 1);
  }
  return text.replace(/\+\d+\.\d{6} \[0 127\.0\.0\.1:\d+\]/g, "+T [0 ADDR]");
}

Deno.test("introspection: MONITOR lines as redis-server", compat, async () => {
  await using redis = await RedisServer.start();
  await using ours = await startServer();
  const expected = await monitorLines(redis.port);
  const actual = await monitorLines(ours.port);
  assert.equal(actual, expected);
});

Deno.test(
  "introspection: MONITOR ends with RESET, CLIENT LIST shows O",
  opts,
  async () => {
    await using ours = await startServer();
    using mon = await Conn.open(ours.port);
    await mon.call("MONITOR");
    using c = await Conn.open(ours.port);
    const list = String(await c.call("CLIENT", "LIST"));
    assert.match(list, / flags=O /);
    await c.call("SET", "k", "v");
    assert.match(String(await mon.reply()), /"SET" "k" "v"/);
    assert.equal(await mon.call("RESET"), "RESET");
    await c.call("SET", "k", "w");
    assert.equal(await mon.call("PING"), "PONG");
    assert.doesNotMatch(String(await c.call("CLIENT", "LIST")), /flags=O/);
  },
);

Deno.test(
  "introspection: SLOWLOG entries, truncation, max-len",
  opts,
  async () => {
    await using ours = await startServer();
    using c = await Conn.open(ours.port);
    await c.call("CLIENT", "SETNAME", "me");
    await c.call("CONFIG", "SET", "slowlog-log-slower-than", "0");
    const many = Array.from({ length: 40 }, (_, i) => `m${i}`);
    await c.call("SADD", "s", ...many);
    await c.call("SET", "big", "x".repeat(200));
    await c.call("AUTH", "a", "b");
    const got = await c.call("SLOWLOG", "GET", "-1") as unknown[][];
    // Newest first: SLOWLOG GET is not there yet; AUTH, SET, SADD, CLIENT...
    const auth = got[0];
    assert.deepEqual(auth[3], ["AUTH", "(redacted)", "(redacted)"]);
    assert.equal(auth[5], "me");
    assert.match(String(auth[4]), /^127\.0\.0\.1:\d+$/);
    assert.deepEqual(
      (got[1][3] as string[])[2],
      "x".repeat(128) + "... (72 more bytes)",
    );
    const sadd = got[2][3] as string[];
    assert.equal(sadd.length, 32);
    assert.equal(sadd[31], "... (11 more arguments)");
    assert.equal(sadd[30], "m28");
    assert.ok((got[0][0] as number) > (got[1][0] as number));
    await c.call("CONFIG", "SET", "slowlog-max-len", "2");
    await c.call("PING");
    assert.equal(await c.call("SLOWLOG", "LEN"), 2);
    assert.equal(await c.call("SLOWLOG", "RESET"), "OK");
    // The RESET itself is logged after it runs.
    assert.equal(await c.call("SLOWLOG", "LEN"), 1);
    await c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1");
    await c.call("SLOWLOG", "RESET");
    await c.call("PING");
    assert.equal(await c.call("SLOWLOG", "LEN"), 0);
  },
);

Deno.test("introspection: LATENCY records command events", opts, async () => {
  await using ours = await startServer();
  using c = await Conn.open(ours.port);
  await c.call("CONFIG", "SET", "latency-monitor-threshold", "1");
  for (let i = 0; i < 20000; i++) await c.send(enc(["RPUSH", "l", i]));
  for (let i = 0; i < 20000; i++) await c.reply();
  // SORT of 20,000 elements takes more than a millisecond.
  await c.call("SORT", "l");
  const latest = await c.call("LATENCY", "LATEST") as unknown[][];
  const cmd = latest.find((e) => e[0] === "command");
  assert.ok(cmd, JSON.stringify(latest));
  assert.ok(
    (cmd[2] as number) >= 1 && (cmd[3] as number) >= (cmd[2] as number),
  );
  const hist = await c.call("LATENCY", "HISTORY", "command") as number[][];
  assert.ok(hist.length >= 1 && hist[0].length === 2);
  assert.match(String(await c.call("LATENCY", "DOCTOR")), /latency spikes/);
  assert.match(
    String(await c.call("LATENCY", "GRAPH", "command")),
    /^command - high/,
  );
  assert.ok((await c.call("LATENCY", "RESET")) as number >= 1);
  assert.deepEqual(await c.call("LATENCY", "LATEST"), []);
});

Deno.test(
  "introspection: CLIENT PAUSE WRITE holds writes, not reads",
  opts,
  async () => {
    await using ours = await startServer();
    using a = await Conn.open(ours.port);
    using b = await Conn.open(ours.port);
    await a.call("SET", "k", "1");
    assert.equal(await a.call("CLIENT", "PAUSE", 10000, "WRITE"), "OK");
    await b.send(enc(["GET", "k"], ["SET", "k", "2"], ["GET", "k"]));
    assert.equal(await b.reply(), "1"); // the read goes on
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await a.call("GET", "k"), "1"); // the write waits
    assert.equal(await a.call("CLIENT", "UNPAUSE"), "OK");
    assert.equal(await b.reply(), "OK");
    assert.equal(await b.reply(), "2");
  },
);

Deno.test(
  "introspection: CLIENT PAUSE ALL ends at the timeout",
  opts,
  async () => {
    await using ours = await startServer();
    using a = await Conn.open(ours.port);
    using b = await Conn.open(ours.port);
    const start = Date.now();
    assert.equal(await a.call("CLIENT", "PAUSE", 300), "OK");
    assert.equal(await b.call("GET", "k"), null);
    assert.ok(Date.now() - start >= 250);
    // The pausing client waits too, as in Redis.
    await a.call("CLIENT", "PAUSE", 200, "ALL");
    const t2 = Date.now();
    assert.equal(await a.call("PING"), "PONG");
    assert.ok(Date.now() - t2 >= 150);
  },
);

Deno.test(
  "introspection: CLIENT LIST field names and order as redis-server",
  compat,
  async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const fields = async (port: number, cmd: string[]) => {
      using c = await Conn.open(port);
      await c.call("CLIENT", "NO-EVICT", "on");
      const line = String(await c.call(...cmd)).trim();
      return {
        names: line.split(" ").map((f) => f.split("=")[0]),
        flags: /flags=(\S+)/.exec(line)![1],
      };
    };
    for (const cmd of [["CLIENT", "LIST"], ["CLIENT", "INFO"]]) {
      const expected = await fields(redis.port, cmd);
      const actual = await fields(ours.port, cmd);
      // Ours also shows 7.2's lib-name and lib-ver at the end.
      assert.deepEqual(
        actual.names.slice(0, expected.names.length),
        expected.names,
      );
      assert.equal(actual.flags, expected.flags);
    }
  },
);

Deno.test("introspection: repr escapes as sdscatrepr", () => {
  assert.equal(
    repr('a"b\\c\n\r\t\x07\x08\x00\xff'),
    '"a\\"b\\\\c\\n\\r\\t\\a\\b\\x00\\xff"',
  );
});

// ---- LATENCY HISTOGRAM ----

/** The bucket bounds (µs) Redis's LATENCY HISTOGRAM can reply with. */
const HISTOGRAM_BOUNDS = new Set(
  Array.from(
    { length: 21 },
    (_, n) => Math.floor((2 ** (n + 10) + 2 ** (n + 3) - 1) / 1000),
  ),
);

/** Raw replies with each histogram_usec map's content masked (timings are
 * machine-specific). */
function maskHistograms(raw: string): string {
  return raw.replace(
    /(histogram_usec\r\n)[*%]\d+\r\n(?::\d+\r\n)*/g,
    "$1<buckets>",
  );
}

/** Checks one RESP2 histogram reply: [name, [calls, n, histogram_usec,
 * [bound, cumulative, ...]], ...]; returns calls by name. */
function histogramCalls(reply: unknown): Map<string, number> {
  assert.ok(Array.isArray(reply));
  const calls = new Map<string, number>();
  for (let i = 0; i < reply.length; i += 2) {
    const [k1, n, k2, buckets] = reply[i + 1] as [
      string,
      number,
      string,
      number[],
    ];
    assert.equal(k1, "calls");
    assert.equal(k2, "histogram_usec");
    assert.ok(buckets.length >= 2 && buckets.length % 2 === 0);
    let prevBound = -1;
    let prevCum = 0;
    for (let j = 0; j < buckets.length; j += 2) {
      assert.ok(HISTOGRAM_BOUNDS.has(buckets[j]), `bound ${buckets[j]}`);
      assert.ok(buckets[j] > prevBound);
      assert.ok(buckets[j + 1] > prevCum);
      prevBound = buckets[j];
      prevCum = buckets[j + 1];
    }
    assert.equal(prevCum, n);
    calls.set(reply[i] as string, n);
  }
  return calls;
}

async function histogramSession(port: number, proto: 2 | 3) {
  using c = await Conn.open(port);
  if (proto === 3) await c.call("HELLO", "3");
  await c.call("CONFIG", "RESETSTAT");
  for (let i = 0; i < 3; i++) await c.call("SET", "a", String(i));
  await c.call("GET", "a");
  await c.call("GET", "nosuch");
  await c.call("CONFIG", "GET", "maxclients");
  await c.call("CLIENT", "ID");
  await c.call("INCR", "a");
  await c.call("LPUSH", "a", "x"); // WRONGTYPE: a failed call counts
  const specific = await c.rawReplies(
    enc(
      ["LATENCY", "HISTOGRAM", "set", "GET", "nosuch", "client", "incr"],
      [
        "LATENCY",
        "HISTOGRAM",
        "config|get",
        "lpush",
        "ping",
        "config|resetstat",
      ],
      ["LATENCY", "HISTOGRAM", "set", "set"],
      ["LATENCY", "HISTOGRAM", "nosuch"],
    ),
    4,
  );
  await c.call("HELLO", "2");
  const all = histogramCalls(await c.call("LATENCY", "HISTOGRAM"));
  return { specific: maskHistograms(specific), all };
}

Deno.test(
  "introspection: LATENCY HISTOGRAM shape as redis-server, RESP2 and RESP3",
  compat,
  async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const proto of [2, 3] as const) {
      const expected = await histogramSession(redis.port, proto);
      const actual = await histogramSession(ours.port, proto);
      assert.equal(actual.specific, expected.specific);
      assert.deepEqual(
        [...actual.all].sort(),
        [...expected.all].sort(),
      );
    }
  },
);

Deno.test(
  "introspection: LATENCY HISTOGRAM counts every call of a sampled command",
  opts,
  async () => {
    await using ours = await startServer();
    using c = await Conn.open(ours.port);
    const n = 1000;
    const pipeline = enc(...Array.from({ length: n }, () => ["PING"]));
    await c.rawReplies(pipeline, n);
    for (let i = 0; i < 7; i++) await c.call("GET", "k");
    const calls = histogramCalls(
      await c.call("LATENCY", "HISTOGRAM", "ping", "get"),
    );
    assert.deepEqual([...calls], [["ping", n], ["get", 7]]);
    // CONFIG RESETSTAT drops the histograms.
    await c.call("CONFIG", "RESETSTAT");
    assert.deepEqual(await c.call("LATENCY", "HISTOGRAM", "ping"), []);
    const info = String(await c.call("INFO", "latencystats"));
    assert.ok(!info.includes("latency_percentiles_usec_ping"));
    await c.call("PING");
    const after = String(await c.call("INFO", "latencystats"));
    assert.match(
      after,
      /latency_percentiles_usec_ping:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n/,
    );
  },
);

// ---- INFO ----

/** INFO's sections: title -> field names, in order. */
function infoFields(text: string): Map<string, string[]> {
  const sections = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of text.split("\r\n")) {
    if (line.startsWith("# ")) {
      current = [];
      sections.set(line.slice(2), current);
    } else if (line !== "") current.push(line.split(":")[0]);
  }
  return sections;
}

/** Fields only ours shows (kv's own, the V8 heap, 7.2's counter). */
const OUR_EXTRAS = new Set([
  "kv_store_version",
  "deno_version",
  "used_memory_heap_total",
  "v8_heap_size_limit",
  "maxmemory_effective",
  "client_output_buffer_limit_disconnections",
]);

async function infoSession(port: number, section: string[]) {
  using c = await Conn.open(port);
  await c.call("SET", "k", "v");
  await c.call("PEXPIRE", "k", "100000");
  await c.call("GET", "k");
  await c.call("GET", "missing");
  await c.call("NOSUCH");
  await c.call("INCR", "k");
  return infoFields(String(await c.call("INFO", ...section)));
}

Deno.test(
  "introspection: INFO field names and order per section as redis-server",
  compat,
  async () => {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const section of [[], ["everything"], ["all"], ["stats", "cpu"]]) {
      const expected = await infoSession(redis.port, section);
      const actual = await infoSession(ours.port, section);
      assert.deepEqual([...actual.keys()], [...expected.keys()], `${section}`);
      for (const [title, names] of expected) {
        const ours = actual.get(title)!.filter((n) => !OUR_EXTRAS.has(n));
        if (title === "Commandstats" || title === "Latencystats") {
          // The command table's order differs: compare as sets.
          assert.deepEqual(ours.sort(), names.sort(), title);
        } else assert.deepEqual(ours, names, title);
      }
    }
  },
);

Deno.test("introspection: INFO values change as expected", opts, async () => {
  await using ours = await startServer();
  using c = await Conn.open(ours.port);
  const fields = async (section: string) => {
    const text = String(await c.call("INFO", section));
    return new Map(
      text.split("\r\n").filter((l) => l.includes(":")).map((l) => {
        const i = l.indexOf(":");
        return [l.slice(0, i), l.slice(i + 1)];
      }),
    );
  };
  const before = await fields("stats");
  await c.call("SET", "k", "v");
  await c.call("GET", "k");
  await c.call("GET", "missing");
  await c.call("NOSUCH");
  const after = await fields("stats");
  assert.equal(
    Number(after.get("total_commands_processed")) -
      Number(before.get("total_commands_processed")),
    4, // INFO, SET, GET, GET (the unknown command is not processed)
  );
  assert.equal(Number(after.get("keyspace_hits")), 1);
  assert.equal(Number(after.get("keyspace_misses")), 1);
  assert.equal(
    Number(after.get("total_error_replies")) -
      Number(before.get("total_error_replies")),
    1,
  );
  assert.equal(after.get("expired_stale_perc"), "0.00");
  const repl = await fields("replication");
  assert.equal(repl.get("role"), "master");
  assert.match(repl.get("master_replid")!, /^[0-9a-f]{40}$/);
  assert.equal(repl.get("second_repl_offset"), "-1");
  const server = await fields("server");
  assert.equal(Number(server.get("tcp_port")), ours.port);
  assert.ok(
    Math.abs(
      Number(server.get("lru_clock")) -
        (Math.floor(Date.now() / 1000) & 0xffffff),
    ) <= 2,
  );
  const persistence = await fields("persistence");
  assert.equal(persistence.get("rdb_changes_since_last_save"), "1");
  assert.equal(persistence.get("module_fork_in_progress"), "0");
});
