// The real server on a loopback port, driven over TCP with raw bytes.

import assert from "node:assert/strict";
import { encodeCommand, ReplyError, VerbatimString } from "../protocol.ts";
import { Store } from "../store.ts";
import { isLoopback } from "../server.ts";
import { binaryToBytes } from "../_bytes.ts";
import { concat, Conn, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test("server: pipelined requests get replies in order", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 10_000; i++) parts.push(encodeCommand(["INCR", "n"]));
  await c.send(concat(parts));
  for (let i = 1; i <= 10_000; i++) assert.equal(await c.reply(), i);
});

Deno.test("server: requests split at every byte over TCP", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  const stream = encodeCommand(["SET", "k", "a\r\nb"]);
  for (const b of stream) await c.send(new Uint8Array([b]));
  assert.equal(await c.reply(), "OK");
  await c.send("GET k\r");
  await c.send("\n");
  assert.equal(await c.reply(), "a\r\nb");
});

Deno.test("server: keys and values of any bytes round-trip", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  let all = "";
  for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
  const bytes = binaryToBytes(all);
  assert.equal(await c.call("SET", bytes, bytes), "OK");
  assert.equal(await c.call("GET", bytes), all);
  assert.deepEqual(await c.call("KEYS", "*"), [all]);
});

Deno.test("server: RESP3 after HELLO 3", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  assert.equal(await c.rawReplies("GET nope\r\n"), "$-1\r\n");
  const hello = await c.call("HELLO", "3") as Map<unknown, unknown>;
  assert.ok(hello instanceof Map);
  assert.equal(hello.get("proto"), 3);
  assert.equal(hello.get("server"), "redis");
  assert.equal(await c.rawReplies("GET nope\r\n"), "_\r\n");
  assert.equal(
    await c.rawReplies("CONFIG GET timeout\r\n"),
    "%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n",
  );
  const info = await c.call("INFO", "server");
  assert.ok(info instanceof VerbatimString);
  assert.match(info.text, /^# Server\r\nredis_version:/);
  assert.equal(await c.call("HELLO", "2") instanceof Array, true);
  assert.equal(await c.rawReplies("GET nope\r\n"), "$-1\r\n");
});

Deno.test(
  "server: AUTH guards every command but AUTH, HELLO and QUIT",
  opts,
  async () => {
    await using server = await startServer({ requirepass: "s3cret" });
    using c = await Conn.open(server.port);
    const noauth = "-NOAUTH Authentication required.\r\n";
    assert.equal(await c.rawReplies("GET k\r\n"), noauth);
    assert.equal(await c.rawReplies("PING\r\n"), noauth);
    // Unknown commands and wrong arity answer before the auth check, as Redis.
    assert.match(
      await c.rawReplies("NOPE\r\n"),
      /^-ERR unknown command 'NOPE'/,
    );
    assert.equal(
      await c.rawReplies("AUTH wrong\r\n"),
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    assert.equal(
      await c.rawReplies("AUTH nobody s3cret\r\n"),
      "-WRONGPASS invalid username-password pair or user is disabled.\r\n",
    );
    assert.match(
      await c.rawReplies("HELLO 3\r\n"),
      /^-NOAUTH HELLO must be called with the client already authenticated/,
    );
    assert.equal(await c.rawReplies("AUTH s3cret\r\n"), "+OK\r\n");
    assert.equal(await c.rawReplies("PING\r\n"), "+PONG\r\n");

    using d = await Conn.open(server.port);
    const hello = await d.call(
      "HELLO",
      "3",
      "AUTH",
      "default",
      "s3cret",
      "SETNAME",
      "app",
    );
    assert.ok(hello instanceof Map);
    assert.equal(await d.call("CLIENT", "GETNAME"), "app");

    using q = await Conn.open(server.port);
    assert.equal(await q.rawReplies("QUIT\r\n"), "+OK\r\n");
    assert.equal(await q.closedWithin(2000), true);
  },
);

Deno.test(
  "server: before AUTH, big requests are a protocol error",
  opts,
  async () => {
    await using server = await startServer({ requirepass: "pw" });
    using c = await Conn.open(server.port);
    await c.send(`*20\r\n`);
    assert.equal(
      await c.drain(2000),
      "-ERR Protocol error: unauthenticated multibulk length\r\n",
    );
    using d = await Conn.open(server.port);
    await d.send(`*2\r\n$3\r\nGET\r\n$20000\r\n`);
    assert.equal(
      await d.drain(2000),
      "-ERR Protocol error: unauthenticated bulk length\r\n",
    );
  },
);

Deno.test(
  "server: CONFIG SET requirepass applies to new connections",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    assert.equal(await c.call("CONFIG", "SET", "requirepass", "pw"), "OK");
    using d = await Conn.open(server.port);
    assert.ok(await d.call("GET", "k") instanceof ReplyError);
    assert.equal(await d.call("AUTH", "pw"), "OK");
    assert.equal(await d.call("GET", "k"), null);
  },
);

Deno.test("server: maxclients refuses one client too many", opts, async () => {
  await using server = await startServer({ maxclients: 2 });
  using a = await Conn.open(server.port);
  using b = await Conn.open(server.port);
  assert.equal(await a.call("PING"), "PONG");
  assert.equal(await b.call("PING"), "PONG");
  using c = await Conn.open(server.port);
  assert.equal(await c.drain(2000), "-ERR max number of clients reached\r\n");
  a.close();
  // Once a client leaves, a new one is served again.
  let served = false;
  for (let i = 0; i < 50 && !served; i++) {
    using d = await Conn.open(server.port);
    const r = await d.call("PING").catch(() => null);
    served = r === "PONG";
    if (!served) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(served);
  const info = await b.call("INFO", "stats") as string;
  assert.match(info, /rejected_connections:[1-9]/);
});

Deno.test("server: --timeout closes idle clients", opts, async () => {
  await using server = await startServer({ timeout: 1, hz: 50 });
  using idle = await Conn.open(server.port);
  assert.equal(await idle.call("PING"), "PONG");
  assert.equal(await idle.closedWithin(4000), true);
});

Deno.test(
  "server: a protocol error is answered, the connection closed, the server goes on",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    await c.send("PING\r\n*1\r\n$x\r\nPING\r\n");
    assert.equal(
      await c.drain(2000),
      "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
    );
    using d = await Conn.open(server.port);
    assert.equal(await d.call("PING"), "PONG");
  },
);

Deno.test(
  "server: a client that does not read is cut off at the output limit",
  opts,
  async () => {
    await using server = await startServer({
      clientOutputBufferLimit: { hard: 4 << 20, soft: 1 << 20, softSeconds: 1 },
    });
    using setup = await Conn.open(server.port);
    await setup.call("SET", "big", "x".repeat(2 << 20));
    // Hard limit: one reply larger than the limit.
    using greedy = await Conn.open(server.port);
    await greedy.send("MGET big big big\r\n");
    assert.equal(await greedy.closedWithin(3000), true);
    // Soft limit: keeps asking, never reads.
    using lazy = await Conn.open(server.port);
    await lazy.send("GET big\r\n".repeat(200));
    let closed = false;
    for (let i = 0; i < 60 && !closed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const list = await setup.call("CLIENT", "LIST") as string;
      closed = list.trim().split("\n").length === 1;
    }
    assert.ok(closed, "the lazy client is still connected");
    assert.ok(server.stats.outputLimitDisconnections >= 2);
    assert.match(
      await setup.call("INFO", "stats") as string,
      /client_output_buffer_limit_disconnections:[2-9]/,
    );
  },
);

Deno.test("server: CLIENT ID, LIST, INFO, KILL", opts, async () => {
  await using server = await startServer();
  using a = await Conn.open(server.port);
  using b = await Conn.open(server.port);
  const idA = await a.call("CLIENT", "ID") as number;
  const idB = await b.call("CLIENT", "ID") as number;
  assert.ok(idB > idA);
  await b.call("CLIENT", "SETNAME", "victim");
  await b.call("CLIENT", "SETINFO", "LIB-NAME", "mylib");
  const list = await a.call("CLIENT", "LIST") as string;
  const lines = list.trim().split("\n");
  assert.equal(lines.length, 2);
  const line = lines.find((l) => l.startsWith(`id=${idB} `))!;
  assert.match(line, / name=victim /);
  assert.match(line, / lib-name=mylib /);
  assert.match(line, / addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ /);
  assert.match(line, / cmd=client\|setinfo /);
  const own = await a.call("CLIENT", "INFO") as string;
  assert.match(own, new RegExp(`^id=${idA} .* cmd=client\\|info `));
  assert.equal(
    await a.call("CLIENT", "LIST", "ID", String(idB)) as string,
    line + "\n",
  );
  assert.equal(await a.call("CLIENT", "KILL", "ID", String(idB)), 1);
  assert.equal(await b.closedWithin(2000), true);
  // Old form by address; SKIPME no kills the caller too.
  const addr = /addr=(\S+)/.exec(own)![1];
  assert.equal(await a.call("CLIENT", "KILL", addr), "OK");
  assert.equal(await a.closedWithin(2000), true);
});

Deno.test("server: INFO sections in Redis's format", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  await c.call("SET", "a", "1");
  await c.call("SET", "b", "2", "EX", "100");
  await c.call("GET", "a");
  await c.call("GET", "missing");
  await c.call("NOPE");
  const info = await c.call("INFO") as string;
  for (
    const section of [
      "Server",
      "Clients",
      "Memory",
      "Persistence",
      "Stats",
      "Replication",
      "CPU",
      "Keyspace",
    ]
  ) {
    assert.match(info, new RegExp(`(^|\\r\\n)# ${section}\\r\\n`), section);
  }
  assert.match(info, /\r\nconnected_clients:1\r\n/);
  assert.match(info, /\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\n/);
  assert.match(info, /\r\nkeyspace_hits:1\r\nkeyspace_misses:1\r\n/);
  assert.match(info, /\r\ntcp_port:\d+\r\n/);
  assert.match(info, /\r\nused_memory:\d+\r\n/);
  assert.match(info, /\r\nrdb_changes_since_last_save:2\r\n/);
  assert.match(info, /\r\nerrorstat_ERR:count=1\r\n/);
  assert.ok(info.endsWith("\r\n"));
  const stats = await c.call("INFO", "commandstats") as string;
  assert.match(
    stats,
    /\r\ncmdstat_set:calls=2,usec=\d+,usec_per_call=[\d.]+,rejected_calls=0,failed_calls=0\r\n/,
  );
  assert.match(stats, /cmdstat_info:calls=1,/);
  const one = await c.call("INFO", "keyspace") as string;
  assert.match(one, /^# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=\d+\r\n$/);
  assert.equal(await c.call("CONFIG", "RESETSTAT"), "OK");
  assert.match(await c.call("INFO", "stats") as string, /keyspace_hits:0\r\n/);
});

Deno.test("server: CONFIG GET patterns and CONFIG SET", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  const all = await c.call("CONFIG", "GET", "*") as string[];
  const names = all.filter((_, i) => i % 2 === 0);
  for (
    const name of [
      "bind",
      "port",
      "requirepass",
      "maxclients",
      "timeout",
      "loglevel",
      "protected-mode",
      "dir",
    ]
  ) {
    assert.ok(names.includes(name), name);
  }
  assert.deepEqual(await c.call("CONFIG", "GET", "max*", "timeout"), [
    "maxclients",
    "10000",
    "maxmemory",
    "0",
    "maxmemory-policy",
    "noeviction",
    "maxmemory-samples",
    "5",
    "maxmemory-eviction-tenacity",
    "10",
    "maxmemory-clients",
    "0",
    "timeout",
    "0",
  ]);
  assert.equal(
    await c.call("CONFIG", "SET", "timeout", "5", "loglevel", "debug"),
    "OK",
  );
  assert.equal(server.config.timeout, 5);
  assert.equal(server.config.loglevel, "debug");
  // All or nothing.
  const err = await c.call("CONFIG", "SET", "timeout", "7", "maxclients", "x");
  assert.ok(err instanceof ReplyError);
  assert.equal(server.config.timeout, 5);
  const immutable = await c.call("CONFIG", "SET", "port", "1");
  assert.ok(immutable instanceof ReplyError);
  assert.match(immutable.message, /can't set immutable config/);
  assert.equal(
    await c.call(
      "CONFIG",
      "SET",
      "client-output-buffer-limit",
      "normal 10mb 5mb 30",
    ),
    "OK",
  );
  assert.deepEqual(server.config.clientOutputBufferLimit, {
    hard: 10 << 20,
    soft: 5 << 20,
    softSeconds: 30,
  });
  assert.ok(await c.call("CONFIG", "REWRITE") instanceof ReplyError);
});

Deno.test("server: COMMAND is driven by the table", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  const count = await c.call("COMMAND", "COUNT") as number;
  const all = await c.call("COMMAND") as unknown[][];
  assert.equal(all.length, count);
  const names = all.map((e) => e[0]);
  for (
    const name of [
      "get",
      "set",
      "delete",
      "flush",
      "mget",
      "mset",
      "setex",
      "exists",
      "keys",
      "incr",
      "dbsize",
      "scan",
      "client",
      "config",
      "hello",
    ]
  ) {
    assert.ok(names.includes(name), name);
  }
  const [del] = await c.call("COMMAND", "INFO", "delete") as unknown[][];
  assert.equal(del[0], "delete");
  assert.equal(del[1], -2);
  const docs = await c.call("COMMAND", "DOCS", "set") as unknown[];
  assert.equal(docs[0], "set");
  assert.ok(JSON.stringify(docs[1]).includes("summary"));
  const getCommands = await c.call(
    "COMMAND",
    "LIST",
    "FILTERBY",
    "PATTERN",
    "getd*",
  ) as string[];
  assert.deepEqual(getCommands.sort(), ["getdel"]);
  // Every command in the table answers (no entry without a handler).
  for (const name of names as string[]) {
    const reply = await c.call(
      name,
      "__probe__",
      "__probe__",
      "__probe__",
      "__probe__",
    );
    if (reply instanceof ReplyError) {
      assert.doesNotMatch(reply.message, /unknown command/, name);
    }
    if (name === "shutdown" || name === "quit" || name === "client") break;
  }
});

Deno.test("server: DELETE and FLUSH, our own commands", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  await c.call("MSET", "a", "1", "b", "2", "c", "3");
  assert.equal(await c.call("DELETE", "a", "b", "zz"), 2);
  assert.equal(await c.call("DELETE", "a"), 0);
  assert.equal(
    await c.rawReplies("DELETE\r\n"),
    "-ERR wrong number of arguments for 'delete' command\r\n",
  );
  await c.call("MSET", "x", "1", "y", "2");
  assert.equal(await c.call("FLUSH"), 3);
  assert.equal(await c.call("FLUSH"), 0);
  assert.equal(await c.call("DBSIZE"), 0);
  assert.ok(await c.call("FLUSH", "NOW") instanceof ReplyError);
});

Deno.test(
  "server: expiry with an injected clock, lazy and active",
  opts,
  async () => {
    const clock = { now: 1_000_000_000_000 };
    await using server = await startServer({
      store: new Store({ clock: () => clock.now }),
      hz: 100,
    });
    using c = await Conn.open(server.port);
    await c.call("SET", "lazy", "v", "PX", "1000");
    for (let i = 0; i < 100; i++) await c.call("SET", `k${i}`, "v", "EX", "10");
    await c.call("SET", "forever", "v");
    assert.equal(await c.call("PTTL", "lazy"), 1000);
    clock.now += 1000;
    assert.equal(await c.call("GET", "lazy"), "v");
    clock.now += 1;
    assert.equal(await c.call("GET", "lazy"), null);
    assert.equal(await c.call("TTL", "k1"), 9); // 8999 ms, rounded
    clock.now += 10_001;
    // Nobody reads the k* keys: the active cycle reclaims them.
    let size = -1;
    for (let i = 0; i < 100 && size !== 1; i++) {
      size = await c.call("DBSIZE") as number;
      if (size !== 1) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(size, 1);
    assert.match(await c.call("INFO", "stats") as string, /expired_keys:101/);
  },
);

Deno.test(
  "server: SELECT knows databases 0 to --databases - 1",
  opts,
  async () => {
    await using server = await startServer({ databases: 4 });
    using c = await Conn.open(server.port);
    assert.equal(await c.call("SELECT", "3"), "OK");
    assert.equal(await c.call("SET", "k", "in 3"), "OK");
    const e = await c.call("SELECT", "4");
    assert.ok(e instanceof ReplyError);
    assert.equal(e.message, "ERR DB index is out of range");
    // Still in 3.
    assert.equal(await c.call("GET", "k"), "in 3");
    assert.equal(await c.call("SELECT", "0"), "OK");
    assert.equal(await c.call("GET", "k"), null);
  },
);

Deno.test("server: SCAN iterates everything across calls", opts, async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  for (let i = 0; i < 500; i++) {
    await c.send(encodeCommand(["SET", `user:${i}`, "v"]));
  }
  for (let i = 0; i < 500; i++) await c.reply();
  await c.call("SET", "other", "v");
  const seen = new Set<string>();
  let cursor = "0";
  let rounds = 0;
  do {
    const [next, keys] = await c.call(
      "SCAN",
      cursor,
      "MATCH",
      "user:*",
      "COUNT",
      "50",
    ) as [string, string[]];
    for (const k of keys) seen.add(k);
    cursor = next;
  } while (cursor !== "0" && ++rounds < 1000);
  assert.equal(seen.size, 500);
  assert.ok(!seen.has("other"));
});

Deno.test("server: addCommand extends the server", opts, async () => {
  await using server = await startServer();
  server.addCommand({
    name: "DOUBLE",
    arity: 2,
    flags: ["write"],
    keys: [1, 1, 1],
    summary: "Doubles the integer at key",
    handler: (s, argv) => {
      const v = Number(s.store.get(argv[1]) ?? "0") * 2;
      s.store.set(argv[1], String(v));
      s.out.int(v);
    },
  });
  using c = await Conn.open(server.port);
  await c.call("SET", "n", "21");
  assert.equal(await c.call("DOUBLE", "n"), 42);
  assert.equal(await c.call("double", "n"), 84);
  assert.equal(
    await c.rawReplies("DOUBLE\r\n"),
    "-ERR wrong number of arguments for 'double' command\r\n",
  );
  const [info] = await c.call("COMMAND", "INFO", "double") as unknown[][];
  assert.equal(info[0], "double");
});

Deno.test("server: close() finishes in-flight replies", opts, async () => {
  const server = await startServer();
  using c = await Conn.open(server.port);
  const n = 20_000;
  await c.send("INCR n\r\n".repeat(n));
  // Wait until the server is working on them, then close.
  assert.equal(await c.reply(), 1);
  const closing = server.close();
  let last = 1;
  try {
    for (let i = 2; i <= n; i++) {
      const r = await c.reply();
      assert.equal(r, i); // whole replies, in order
      last = i;
    }
  } catch (e) {
    // the connection closes after the batch it was working on
    assert.match(String(e), /connection closed/);
  }
  await closing;
  assert.ok(last >= 2, `only ${last} replies`);
  // Every command the server ran had its reply delivered before closing.
  assert.equal(server.store.get("n"), String(last));
  await assert.rejects(
    Deno.connect({ hostname: "127.0.0.1", port: server.port }),
  );
});

Deno.test(
  "server: fuzzed and mutated frames never crash or hang it",
  opts,
  async () => {
    await using server = await startServer();
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const valid = [
      encodeCommand(["SET", "k", "v"]),
      encodeCommand(["GET", "k"]),
      encodeCommand(["MSET", "a", "1", "b", "2"]),
      encodeCommand(["INCRBYFLOAT", "f", "1.5"]),
      encodeCommand(["SCAN", "0", "MATCH", "*", "COUNT", "5"]),
      new TextEncoder().encode('SET x "quoted value"\r\n'),
    ];
    const alphabet = new TextEncoder().encode(
      "*$:+-\r\n0123456789-abcSETGET \"'\\",
    );
    for (let round = 0; round < 200; round++) {
      const base = valid[rand(valid.length)];
      let data: Uint8Array;
      const kind = rand(3);
      if (kind === 0) { // random bytes from a RESP-ish alphabet
        data = new Uint8Array(1 + rand(64));
        for (let i = 0; i < data.length; i++) {
          data[i] = alphabet[rand(alphabet.length)];
        }
      } else if (kind === 1) { // mutate a valid frame
        data = base.slice();
        for (let m = 0; m <= rand(4); m++) data[rand(data.length)] = rand(256);
      } else { // truncate, duplicate, splice
        const a = base.subarray(0, rand(base.length));
        const b = valid[rand(valid.length)];
        data = new Uint8Array(a.length + b.length);
        data.set(a);
        data.set(b, a.length);
      }
      const c = await Conn.open(server.port);
      try {
        await c.send(data);
        await c.conn.closeWrite();
        // Every connection ends: the server answers what it can, then
        // closes on end of input or on a protocol error.
        assert.equal(
          await c.closedWithin(3000),
          true,
          `round ${round}: ${JSON.stringify(new TextDecoder().decode(data))}`,
        );
      } finally {
        c.close();
      }
    }
    using check = await Conn.open(server.port);
    assert.equal(await check.call("PING"), "PONG");
  },
);

Deno.test("isLoopback: what protected mode lets in", () => {
  for (
    const a of [
      "127.0.0.1",
      "127.1.2.3",
      "::1",
      "::ffff:127.0.0.1",
      "localhost",
    ]
  ) {
    assert.equal(isLoopback(a), true, a);
  }
  for (
    const a of [
      "10.0.0.1",
      "192.168.1.1",
      "0.0.0.0",
      "::",
      "8.8.8.8",
      "fe80::1",
    ]
  ) {
    assert.equal(isLoopback(a), false, a);
  }
});

Deno.test("server: TIME, RESET, HELLO SETNAME, CLIENT HELP", opts, async () => {
  await using server = await startServer({ requirepass: "pw" });
  using c = await Conn.open(server.port);
  assert.equal(await c.call("AUTH", "pw"), "OK");
  const before = Date.now();
  const [sec, usec] = await c.call("TIME") as [string, string];
  const ms = Number(sec) * 1000 + Number(usec) / 1000;
  assert.match(sec, /^\d+$/);
  assert.match(usec, /^\d+$/);
  assert.ok(Number(usec) < 1_000_000);
  assert.ok(Math.abs(ms - before) < 5000);
  const hello = await c.call("HELLO", "3", "SETNAME", "named") as Map<
    string,
    unknown
  >;
  assert.equal(hello.get("proto"), 3);
  assert.equal(await c.call("CLIENT", "GETNAME"), "named");
  // RESET: back to RESP2, no name, and no longer authenticated.
  assert.equal(await c.rawReplies("RESET\r\n"), "+RESET\r\n");
  assert.equal(
    await c.rawReplies("CLIENT GETNAME\r\n"),
    "-NOAUTH Authentication required.\r\n",
  );
  assert.equal(await c.call("AUTH", "pw"), "OK");
  assert.equal(await c.rawReplies("CLIENT GETNAME\r\n"), "$-1\r\n");
  const help = await c.call("CLIENT", "HELP") as string[];
  assert.match(help[0], /^CLIENT <subcommand>/);
});

Deno.test(
  "server: an inline request over 64 KB without a newline is refused",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    await c.send("x".repeat(70 * 1024));
    assert.equal(
      await c.drain(3000),
      "-ERR Protocol error: too big inline request\r\n",
    );
  },
);

Deno.test(
  "server: CONFIG GET answers what redis-benchmark asks",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    assert.deepEqual(await c.call("CONFIG", "GET", "save"), ["save", ""]);
    assert.deepEqual(await c.call("CONFIG", "GET", "appendonly"), [
      "appendonly",
      "no",
    ]);
    assert.deepEqual(await c.call("CONFIG", "GET", "databases"), [
      "databases",
      "16",
    ]);
  },
);
