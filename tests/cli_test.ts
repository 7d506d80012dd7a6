// `kv cli` against the real server: output compared with redis-cli's for
// the same input, one-shot and batch, exit codes, and the interactive
// prompt driven through tmux.

import assert from "node:assert/strict";
import {
  Conn,
  freePort,
  has,
  RedisServer,
  run,
  startServer,
  tmux,
  waitForScreen,
} from "./_helpers.ts";
import { kv, kvCli, Streaming } from "./_cli.ts";
import {
  formatCSV,
  formatRaw,
  formatTTY,
  quoteBytes,
} from "../_reply_format.ts";
import { ReplyError } from "../protocol.ts";
import { lineToArgs, parseCliArgs } from "../cli.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

const BATCH = [
  'SET greeting "hello world"',
  "GET greeting",
  "GET missing",
  "INCR n",
  "INCRBY n -5",
  "MSET a 1 b 2",
  "MGET a b missing",
  'SET bin "\\x00\\xff\\n\\"quoted\\""',
  "GET bin",
  'SET utf8 "ключ"',
  "GET utf8",
  "KEYS nothing*",
  "EXISTS a b c",
  "GET",
  "NOSUCHCOMMAND x",
  "SCAN 0 MATCH a COUNT 1000",
  "TTL a",
  "PING",
  "ECHO 'single quoted'",
  "CONFIG GET maxclients",
  "",
  "INCRBYFLOAT f 1.5",
  "HSET h field value other 2",
  "HGETALL h",
  "HINCRBYFLOAT h other 0.5",
  "RPUSH l a b c",
  "LRANGE l 0 -1",
  "LPOS l b",
  "SADD s only",
  "SMEMBERS s",
  "SMISMEMBER s only none",
  "ZADD z 1.5 a 2 b",
  "ZRANGE z 0 -1 WITHSCORES",
  "ZSCORE z a",
  "ZPOPMIN z",
  "XADD x 1-1 f v",
  "XRANGE x - +",
  "XINFO GROUPS x",
  "HGET l f",
  "PFADD p a b c",
  "PFCOUNT p",
  "GEOADD g 13.361389 38.115556 Palermo",
  "GEOPOS g Palermo",
  "SETBIT bits 7 1",
  "BITCOUNT bits",
  "SORT l ALPHA DESC",
  "TYPE z",
  "INFO keyspace",
  "INFO nosuchsection",
  "CLIENT LIST ID abc",
].join("\n") + "\n";

Deno.test({
  name:
    "kv cli: batch output is redis-cli's, raw and formatted, RESP2 and RESP3",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer();
    for (
      const flags of [
        [],
        ["--no-raw"],
        ["-3"],
        ["-3", "--no-raw"],
        ["--csv"],
        ["-3", "--csv"],
      ]
    ) {
      await server.store.clear();
      const expected = await run(
        "redis-cli",
        ["-p", String(server.port), ...flags],
        { stdin: BATCH },
      );
      server.store.clear();
      const actual = await kv(["-p", String(server.port), ...flags], {
        stdin: BATCH,
      });
      assert.equal(actual.stdout, expected.stdout, `flags: ${flags.join(" ")}`);
      assert.equal(expected.code, 0);
      assert.equal(actual.code, 0, "a batch with error replies exits 0");
    }
    // -e: exit 1 when a command of the batch answered an error.
    const strict = await kv(["-p", String(server.port), "-e"], {
      stdin: BATCH,
    });
    assert.equal(strict.code, 1);
    const clean = await kv(["-p", String(server.port), "-e"], {
      stdin: "PING\n",
    });
    assert.deepEqual([clean.code, clean.stdout], [0, "PONG\n"]);
  },
});

Deno.test({
  name: "kv cli: one-shot commands, output and exit codes",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer({ requirepass: "pw" });
    const p = String(server.port);
    const auth = ["-p", p, "-a", "pw", "--no-auth-warning"];
    let r = await kv([...auth, "SET", "k", "hello world"]);
    assert.deepEqual([r.code, r.stdout], [0, "OK\n"]);
    r = await kv([...auth, "GET", "k"]);
    assert.deepEqual([r.code, r.stdout], [0, "hello world\n"]);
    r = await kv([...auth, "--no-raw", "GET", "k"]);
    assert.equal(r.stdout, '"hello world"\n');
    r = await kv([...auth, "INCRBY", "n", "-5"]); // "-5" is an argument
    assert.deepEqual([r.code, r.stdout], [0, "-5\n"]);
    r = await kv([...auth, "INCR", "k"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "ERR value is not an integer or out of range\n\n");
    r = await kv(["-p", p, "GET", "k"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /NOAUTH Authentication required/);
    // A wrong password: "AUTH failed: ..." and the command runs anyway, as
    // redis-cli (whose exit status is 0 whatever the reply; ours is 1).
    r = await kv(["-p", p, "-a", "wrong", "--no-auth-warning", "PING"]);
    const expected = await run("redis-cli", [
      "-p",
      p,
      "-a",
      "wrong",
      "--no-auth-warning",
      "PING",
    ]);
    assert.equal(r.code, 1);
    assert.deepEqual([r.stdout, r.stderr], [expected.stdout, expected.stderr]);
    assert.equal(
      r.stderr,
      "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n",
    );
    assert.equal(r.stdout, "NOAUTH Authentication required.\n\n");
    r = await kv(["-p", p, "-a", "pw", "PING"]);
    assert.match(r.stderr, /Warning: Using a password/);
    r = await kv([...auth, "-3", "--no-raw", "HELLO", "3"]);
    assert.match(r.stdout, /^1# "server" => "redis"\n/m);
  },
});

Deno.test("kv cli: no server, bad flags, help", opts, async () => {
  const port = freePort();
  let r = await kv(["-p", String(port), "PING"]);
  assert.equal(r.code, 1);
  assert.equal(
    r.stderr.trim(),
    `Could not connect to Redis at 127.0.0.1:${port}: Connection refused`,
  );
  r = await kv(["--bogus"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
  r = await kv(["--help"]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: kv cli/);
});

Deno.test({
  name: "kv cli: interactive prompt with history, hints and help (tmux)",
  ignore: !has("tmux"),
  ...opts,
  async fn() {
    await using server = await startServer();
    const session = `kv-cli-${Deno.pid}-${server.port}`;
    const home = await Deno.makeTempDir({ prefix: "kv-home-" });
    await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "160",
      "-y",
      "50",
      "-e",
      `HOME=${home}`,
      kvCli(`-p ${server.port}`),
    );
    try {
      const prompt = `127.0.0.1:${server.port}>`;
      await waitForScreen(session, new RegExp(prompt));
      await tmux("send-keys", "-t", session, "SET x 5", "Enter");
      await waitForScreen(session, /^OK$/m);
      await tmux("send-keys", "-t", session, "INCR x", "Enter");
      await waitForScreen(session, /\(integer\) 6/);
      await tmux("send-keys", "-t", session, "MGET x nope", "Enter");
      await waitForScreen(session, /1\) "6"\n2\) \(nil\)/);
      await tmux("send-keys", "-t", session, "GET", "Enter");
      await waitForScreen(
        session,
        /\(error\) ERR wrong number of arguments for 'get' command/,
      );
      // A hint shows the arguments once the command name is typed.
      await tmux("send-keys", "-t", session, "GETEX ");
      await waitForScreen(session, /GETEX key \[EX seconds\|PX milliseconds/);
      await tmux("send-keys", "-t", session, "C-u");
      // Up arrow brings back the previous command; running it again.
      await tmux("send-keys", "-t", session, "Up", "Up");
      await waitForScreen(
        session,
        new RegExp(`${prompt} MGET x nope\\s*$`, "m"),
      );
      await tmux("send-keys", "-t", session, "C-u", "help incr", "Enter");
      await waitForScreen(
        session,
        /INCR key\s*\n\s*summary: Increment the integer value of a key by one/,
      );
      // Every data type's commands have hints and help.
      await tmux("send-keys", "-t", session, "C-u", "ZADD ");
      await waitForScreen(session, /ZADD key \[NX\|XX\] \[GT\|LT\] \[CH\]/);
      await tmux("send-keys", "-t", session, "C-u", "help xreadgroup", "Enter");
      await waitForScreen(
        session,
        /XREADGROUP GROUP group consumer[\s\S]*summary: Return new entries from a stream using a consumer group/,
      );
      await tmux("send-keys", "-t", session, "quit", "Enter");
      // The session ends; history was saved.
      let history = "";
      for (let i = 0; i < 100 && !history.includes("quit"); i++) {
        await new Promise((r) => setTimeout(r, 50));
        history = await Deno.readTextFile(`${home}/.kv_history`).catch(() =>
          ""
        );
      }
      assert.match(history, /SET x 5\nINCR x\nMGET x nope\nGET\n/);
    } finally {
      await tmux("kill-session", "-t", session);
      await Deno.remove(home, { recursive: true });
    }
  },
});

Deno.test("reply formatting: redis-cli's raw and terminal forms", () => {
  const enc = new TextEncoder();
  assert.equal(formatTTY(null), "(nil)\n");
  assert.equal(formatTTY(3), "(integer) 3\n");
  assert.equal(formatTTY(1.5), "(double) 1.5\n");
  assert.equal(formatTTY(true), "(true)\n");
  assert.equal(formatTTY("OK"), "OK\n");
  assert.equal(formatTTY(new ReplyError("ERR x")), "(error) ERR x\n");
  assert.equal(formatTTY([]), "(empty array)\n");
  assert.equal(formatTTY(new Set()), "(empty set)\n");
  const ten = Array.from({ length: 10 }, (_, i) => enc.encode(String(i)));
  assert.equal(
    formatTTY([enc.encode("a"), ten]),
    '1) "a"\n2)  1) "0"\n    2) "1"\n' +
      ten.slice(2).map((_, i) =>
        `   ${String(i + 3).padStart(2)}) "${i + 2}"\n`
      ).join(""),
  );
  assert.equal(
    formatTTY(new Map([[enc.encode("k"), 1]])),
    '1# "k" => (integer) 1\n',
  );
  assert.equal(formatRaw([enc.encode("a"), null, 2]), "a\n\n2");
  assert.equal(
    formatCSV([enc.encode('a"b'), null, 2, true, new ReplyError("ERR x")]),
    '"a\\"b",NULL,2,true,ERROR,"ERR x"',
  );
  assert.equal(formatCSV(new Map([[enc.encode("k"), 1]])), '"k",1');
  assert.equal(formatRaw(new Map([[enc.encode("k"), enc.encode("v")]])), "k v");
  assert.equal(
    quoteBytes(new Uint8Array([0, 255, 34, 92, 10, 65])),
    '"\\x00\\xff\\"\\\\\\nA"',
  );
});

Deno.test("cli arguments: flags stop at the command; quoting as redis-cli", () => {
  const { options, command } = parseCliArgs([
    "-h",
    "localhost",
    "--port",
    "7000",
    "-3",
    "INCRBY",
    "n",
    "-5",
  ]);
  assert.equal(options.host, "localhost");
  assert.equal(options.port, 7000);
  assert.equal(options.resp3, true);
  assert.deepEqual(command, ["INCRBY", "n", "-5"]);
  assert.throws(() => parseCliArgs(["--port", "x"]), /bad port/);
  const dec = new TextDecoder();
  assert.deepEqual(
    lineToArgs("SET k \"a b\" 'c'")!.map((a) => dec.decode(a)),
    ["SET", "k", "a b", "c"],
  );
  assert.deepEqual(lineToArgs('"\\xff"')![0], new Uint8Array([255]));
  assert.equal(lineToArgs('"open'), null);
});

// ---------------------------------------------------------------------------
// Streaming commands: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, MONITOR.

function cliPair(port: number, flags: string[], command: string[]) {
  const args = ["-p", String(port), ...flags, ...command];
  return {
    redis: new Streaming("redis-cli", args),
    kv: Streaming.kv(args),
  };
}

/** Waits (bounded) until `count` clients last ran `cmd` (both CLIs are
 * subscribed or monitoring). */
async function clientsIn(conn: Conn, cmd: string, count: number) {
  let list = "";
  for (let i = 0; i < 300; i++) {
    list = String(await conn.call("CLIENT", "LIST"));
    const n = list.split("\n").filter((l) => l.includes(` cmd=${cmd} `))
      .length;
    if (n >= count) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never ${count} clients in ${cmd}:\n${list}`);
}

/** MONITOR lines differ in time and client address only. */
function monitorText(s: string): string {
  return s.replace(/\d+\.\d{6} \[(\d+) [^\]]+\]/g, "T [$1 addr]");
}

interface StreamCase {
  flags: string[];
  command: string[];
  /** Sent by another connection once both CLIs listen. */
  send: string[][];
  /** The output both must reach before the interrupt. */
  last: RegExp;
}

const STREAM_CASES: StreamCase[] = [
  ...[[], ["--no-raw"], ["-3", "--no-raw"], ["--csv"]].map((flags) => ({
    flags,
    command: ["SUBSCRIBE", "ch", "ch2"],
    send: [
      ["PUBLISH", "ch", "hello world"],
      ["PUBLISH", "other", "unseen"],
      ["PUBLISH", "ch2", "a\nb\xff"],
      ["PUBLISH", "ch", "end"],
    ],
    last: /end"?\n$/,
  })),
  {
    flags: ["--no-raw"],
    // One pattern per message: the order in which several patterns
    // match one message is Redis's dictionary order.
    command: ["PSUBSCRIBE", "c*", "?x"],
    send: [["PUBLISH", "ch", "one"], ["PUBLISH", "ax", "end"]],
    last: /"end"\n$/,
  },
  {
    flags: ["-3"],
    command: ["PSUBSCRIBE", "n*"],
    send: [["PUBLISH", "news", "end"]],
    last: /end\n$/,
  },
  {
    flags: ["-3", "--csv"],
    command: ["SSUBSCRIBE", "sh"],
    send: [["SPUBLISH", "sh", "x"], ["SPUBLISH", "sh", "end"]],
    last: /"end"\n$/,
  },
  ...[[], ["--no-raw"], ["--csv"]].map((flags) => ({
    flags,
    command: ["MONITOR"],
    send: [["ECHO", "start"], ["SET", "k", 'a b\n"c"'], ["ECHO", "end"]],
    last: /end.{0,3}\n$/,
  })),
];

async function streamOutputs(port: number, c: StreamCase) {
  await using conn = await Conn.open(port);
  const cmd = c.command[0].toLowerCase();
  const { redis, kv } = cliPair(port, c.flags, c.command);
  try {
    await clientsIn(conn, cmd, 2);
    for (const args of c.send) await conn.call(...args);
    await redis.waitFor(c.last);
    await kv.waitFor(c.last);
  } finally {
    const statuses = await Promise.all([redis.end(), kv.end()]);
    assert.deepEqual(
      statuses.map((s) => s.signal),
      ["SIGINT", "SIGINT"],
      "both end on SIGINT",
    );
  }
  if (cmd !== "monitor") return { redis: redis.stdout, kv: kv.stdout };
  // The earlier monitor also saw the other's CLIENT LIST polls.
  const from = (s: string) => monitorText(s.slice(s.search(/^.*"ECHO"/m)));
  assert.match(kv.stdout, /^"?OK"?\n/);
  return { redis: from(redis.stdout), kv: from(kv.stdout) };
}

Deno.test({
  name:
    "kv cli: SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, MONITOR print as redis-cli until SIGINT",
  ignore: !has("redis-cli") || !has("redis-server"),
  ...opts,
  async fn() {
    await using ours = await startServer();
    const redis = await RedisServer.start();
    try {
      for (const c of STREAM_CASES) {
        const [a, b] = await Promise.all([
          streamOutputs(ours.port, c),
          streamOutputs(redis.port, c),
        ]);
        const what = `${c.flags.join(" ")} ${c.command.join(" ")}`;
        assert.equal(a.kv, a.redis, `our server: ${what}`);
        assert.equal(b.kv, b.redis, `redis-server: ${what}`);
        assert.equal(a.kv, b.kv, `both servers: ${what}`);
      }
    } finally {
      await redis.stop();
    }
  },
});

Deno.test({
  name: "kv cli: streaming commands' errors and a closed connection",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer();
    const p = String(server.port);
    for (const flags of [[], ["--no-raw"], ["--csv"]]) {
      for (const command of [["SUBSCRIBE"], ["MONITOR", "x"]]) {
        const args = ["-p", p, ...flags, ...command];
        const expected = await run("redis-cli", args);
        const actual = await kv(args);
        assert.deepEqual(
          [actual.code, actual.stdout],
          [expected.code, expected.stdout],
          args.join(" "),
        );
      }
    }
    // The server closes the subscriber's connection: exit 1 with an error.
    await using conn = await Conn.open(server.port);
    for (const flags of [[], ["--no-raw"]]) {
      const { redis, kv } = cliPair(server.port, flags, ["SUBSCRIBE", "ch"]);
      await clientsIn(conn, "subscribe", 2);
      await redis.waitFor(/1\n$/);
      await kv.waitFor(/1\n$/);
      assert.equal(await conn.call("CLIENT", "KILL", "TYPE", "pubsub"), 2);
      const [a, b] = await Promise.all([redis.end(null), kv.end(null)]);
      assert.deepEqual([b.code, kv.stdout, kv.stderr], [
        a.code,
        redis.stdout,
        redis.stderr,
      ]);
      assert.equal(b.code, 1);
      assert.equal(kv.stderr, "Error: Server closed the connection\n");
    }
  },
});

Deno.test({
  name: "kv cli: SUBSCRIBE and MONITOR at the prompt, Ctrl-C back (tmux)",
  ignore: !has("tmux"),
  ...opts,
  async fn() {
    await using server = await startServer();
    await using conn = await Conn.open(server.port);
    // A tmux server of its own: other tests may stop the default one.
    const socket = `kv-cli-sub-${Deno.pid}-${server.port}`;
    const tx = (...args: string[]) => tmux("-L", socket, ...args);
    const screen = async (pattern: RegExp) => {
      let text = "";
      for (let i = 0; i < 200; i++) {
        text = (await tx("capture-pane", "-p", "-t", "cli")).stdout;
        if (pattern.test(text)) return text;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`screen never matched ${pattern}:\n${text}`);
    };
    const home = await Deno.makeTempDir({ prefix: "kv-home-" });
    await tx(
      "new-session",
      "-d",
      "-s",
      "cli",
      "-x",
      "120",
      "-y",
      "50",
      "-e",
      `HOME=${home}`,
      kvCli(`-p ${server.port}`),
    );
    try {
      const prompt = `127.0.0.1:${server.port}>`;
      await screen(new RegExp(prompt));
      await tx("send-keys", "-t", "cli", "SUBSCRIBE ch", "Enter");
      await screen(
        /Reading messages\.\.\. \(press Ctrl-C to quit\)\n1\) "subscribe"\n2\) "ch"\n3\) \(integer\) 1\n/,
      );
      await clientsIn(conn, "subscribe", 1);
      assert.equal(await conn.call("PUBLISH", "ch", "hello there"), 1);
      await screen(/1\) "message"\n2\) "ch"\n3\) "hello there"\n/);
      await tx("send-keys", "-t", "cli", "C-c");
      // Back at the prompt; the subscribed connection is gone.
      await screen(new RegExp(`"hello there"\\n.*\\n?${prompt}`));
      let subscribers = [] as unknown;
      for (let i = 0; i < 100; i++) {
        subscribers = await conn.call("PUBSUB", "NUMSUB", "ch");
        if ((subscribers as unknown[])[1] === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.deepEqual(subscribers, ["ch", 0]);
      await tx("send-keys", "-t", "cli", "PING", "Enter");
      await screen(/PING\nPONG\n/);
      await tx("send-keys", "-t", "cli", "MONITOR", "Enter");
      await screen(/MONITOR\nOK\n/);
      await clientsIn(conn, "monitor", 1);
      await conn.call("SET", "watched", "1");
      await screen(/\d+\.\d+ \[0 127\.0\.0\.1:\d+\] "SET" "watched" "1"\n/);
      await tx("send-keys", "-t", "cli", "C-c");
      await tx("send-keys", "-t", "cli", "ECHO back", "Enter");
      await screen(/ECHO back\n"back"\n/);
      await tx("send-keys", "-t", "cli", "quit", "Enter");
    } finally {
      await tx("kill-server");
      await Deno.remove(home, { recursive: true });
    }
  },
});
