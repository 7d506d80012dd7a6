// The same commands against redis-server and against our server: the raw
// reply bytes must be identical, in RESP2 and in RESP3.

import assert from "node:assert/strict";
import { Conn, RedisServer, startServer } from "./_helpers.ts";
import { type Cmd, compareWithRedis, hasRedis, runCase } from "./_compat.ts";

/** Each case starts from an empty keyspace. */
const CASES: Record<string, Cmd[]> = {
  "get and set": [
    ["GET", "missing"],
    ["SET", "k", "v"],
    ["GET", "k"],
    ["SET", "k", ""],
    ["GET", "k"],
    ["set", "k", "lower"],
    ["get", "k"],
    ["GET"],
    ["GET", "a", "b"],
    ["SET", "k"],
  ],
  "set options": [
    ["SET", "k", "1", "NX"],
    ["SET", "k", "2", "NX"],
    ["SET", "k", "3", "XX"],
    ["SET", "nope", "3", "XX"],
    ["SET", "k", "4", "NX", "XX"],
    ["SET", "k", "5", "XX", "NX"],
    ["SET", "k", "6", "GET"],
    ["SET", "new", "7", "GET"],
    ["SET", "new", "8", "NX", "GET"],
    ["SET", "new2", "9", "XX", "GET"],
    ["SET", "k", "v", "EX", "100"],
    ["TTL", "k"],
    ["SET", "k", "v", "PX", "100000"],
    ["TTL", "k"],
    ["SET", "k", "v", "KEEPTTL"],
    ["TTL", "k"],
    ["SET", "k", "v"],
    ["TTL", "k"],
    ["SET", "k", "v", "EX", "0"],
    ["SET", "k", "v", "EX", "-5"],
    ["SET", "k", "v", "EX", "abc"],
    ["SET", "k", "v", "EX"],
    ["SET", "k", "v", "EX", "10", "PX", "100"],
    ["SET", "k", "v", "EX", "10", "KEEPTTL"],
    ["SET", "k", "v", "KEEPTTL", "EX", "10"],
    ["SET", "k", "v", "EXAT", "4000000000"],
    ["EXPIRETIME", "k"],
    ["SET", "k", "v", "PXAT", "4000000000123"],
    ["PEXPIRETIME", "k"],
    ["SET", "k", "v", "EX", "9223372036854775807"],
    ["SET", "k", "v", "PX", "9223372036854775807"],
    ["SET", "k", "v", "BOGUS"],
    ["SET", "k", "v", "ex", "10", "ex", "20"],
    ["TTL", "k"],
    ["SET", "k", "v", "EXAT", "1"],
    ["GET", "k"],
  ],
  "setnx setex psetex getset getdel getex": [
    ["SETNX", "k", "1"],
    ["SETNX", "k", "2"],
    ["GET", "k"],
    ["SETEX", "k", "100", "v"],
    ["TTL", "k"],
    ["SETEX", "k", "0", "v"],
    ["SETEX", "k", "-1", "v"],
    ["SETEX", "k", "x", "v"],
    ["PSETEX", "k", "100000", "v"],
    ["TTL", "k"],
    ["PSETEX", "k", "0", "v"],
    ["GETSET", "k", "new"],
    ["TTL", "k"],
    ["GETSET", "none", "x"],
    ["GETDEL", "k"],
    ["GETDEL", "k"],
    ["EXISTS", "k"],
    ["SET", "g", "v"],
    ["GETEX", "g"],
    ["GETEX", "g", "EX", "100"],
    ["TTL", "g"],
    ["GETEX", "g", "PERSIST"],
    ["TTL", "g"],
    ["GETEX", "g", "EX", "0"],
    ["GETEX", "g", "EX", "10", "PERSIST"],
    ["GETEX", "g", "NX"],
    ["GETEX", "g", "KEEPTTL"],
    ["GETEX", "g", "EXAT", "1"],
    ["EXISTS", "g"],
    ["GETEX", "missing", "EX", "10"],
  ],
  "mget mset msetnx": [
    ["MSET", "a", "1", "b", "2"],
    ["MGET", "a", "b", "c"],
    ["MSET", "a"],
    ["MSET", "a", "1", "b"],
    ["MSETNX", "c", "3", "d", "4"],
    ["MSETNX", "d", "5", "e", "6"],
    ["MGET", "c", "d", "e"],
    ["MSETNX", "x"],
    ["MSETNX", "x", "1", "y"],
  ],
  "append strlen getrange setrange": [
    ["APPEND", "k", "Hello"],
    ["APPEND", "k", " World"],
    ["GET", "k"],
    ["STRLEN", "k"],
    ["STRLEN", "missing"],
    ["GETRANGE", "k", "0", "4"],
    ["GETRANGE", "k", "-5", "-1"],
    ["GETRANGE", "k", "-1", "-5"],
    ["GETRANGE", "k", "5", "3"],
    ["GETRANGE", "k", "0", "100"],
    ["GETRANGE", "k", "-100", "2"],
    ["GETRANGE", "k", "x", "2"],
    ["GETRANGE", "missing", "0", "-1"],
    ["SUBSTR", "k", "0", "2"],
    ["SETRANGE", "k", "6", "Redis"],
    ["GET", "k"],
    ["SETRANGE", "k", "20", "!"],
    ["GET", "k"],
    ["SETRANGE", "new", "3", "abc"],
    ["GET", "new"],
    ["SETRANGE", "empty", "0", ""],
    ["EXISTS", "empty"],
    ["SETRANGE", "k", "-1", "x"],
    ["SETRANGE", "k", "0", ""],
    ["SETRANGE", "k", "536870912", "x"],
    ["APPEND", "t", "1"],
    ["EXPIRE", "t", "100"],
    ["APPEND", "t", "2"],
    ["TTL", "t"],
  ],
  "counters": [
    ["INCR", "n"],
    ["INCR", "n"],
    ["DECR", "n"],
    ["INCRBY", "n", "10"],
    ["DECRBY", "n", "5"],
    ["INCRBY", "n", "-3"],
    ["INCRBY", "n", "abc"],
    ["INCRBY", "n", "1.5"],
    ["SET", "s", "abc"],
    ["INCR", "s"],
    ["SET", "s", " 1"],
    ["INCR", "s"],
    ["SET", "s", "01"],
    ["INCR", "s"],
    ["SET", "s", "+1"],
    ["INCR", "s"],
    ["SET", "big", "9223372036854775806"],
    ["INCR", "big"],
    ["INCR", "big"],
    ["SET", "small", "-9223372036854775807"],
    ["DECR", "small"],
    ["DECR", "small"],
    ["DECRBY", "x", "-9223372036854775808"],
    ["INCRBY", "x", "9223372036854775808"],
    ["SET", "e", "5"],
    ["EXPIRE", "e", "100"],
    ["INCR", "e"],
    ["TTL", "e"],
    ["SET", "m", "-0"],
    ["INCR", "m"],
    ["INCRBY", "k2", "9007199254740993"],
    ["INCRBY", "k2", "1"],
    // The stored digits (made without String()) at digit-count and 32-bit
    // boundaries, both signs.
    ["INCR", "fresh"],
    ["GET", "fresh"],
    ["SET", "c", "99"],
    ["INCR", "c"],
    ["GET", "c"],
    ["DECRBY", "c", "200"],
    ["GET", "c"],
    ["SET", "u", "4294967294"],
    ["INCR", "u"],
    ["GET", "u"],
    ["INCR", "u"],
    ["GET", "u"],
    ["DECRBY", "u", "8589934591"],
    ["GET", "u"],
    ["DECR", "u"],
    ["GET", "u"],
    ["SET", "z", "1"],
    ["DECR", "z"],
    ["GET", "z"],
    ["DECR", "z"],
    ["GET", "z"],
    ["APPEND", "z", "0"],
    ["HINCRBY", "h", "f", "4294967295"],
    ["HINCRBY", "h", "f", "-9999999999"],
    ["HGET", "h", "f"],
    ["HINCRBY", "h", "g", "-1"],
    ["HGETALL", "h"],
  ],
  "incrbyfloat": [
    ["SET", "f", "10.50"],
    ["INCRBYFLOAT", "f", "0.1"],
    ["INCRBYFLOAT", "f", "-5"],
    ["SET", "g", "5.0e3"],
    ["INCRBYFLOAT", "g", "2.0e2"],
    ["INCRBYFLOAT", "h", "0.1"],
    ["INCRBYFLOAT", "h", "0.2"],
    ["INCRBYFLOAT", "h", "abc"],
    ["INCRBYFLOAT", "h", "inf"],
    ["INCRBYFLOAT", "i", "3"],
    ["INCRBYFLOAT", "i", "-3"],
    ["INCRBYFLOAT", "j", "1e-20"],
    ["INCRBYFLOAT", "k", "-1.5"],
    ["INCRBYFLOAT", "l", "  1"],
    ["SET", "s", "x"],
    ["INCRBYFLOAT", "s", "1"],
    ["INCRBYFLOAT", "m", "123456789.123456789"],
    ["INCRBYFLOAT", "n", ".5"],
    ["INCRBYFLOAT", "o", "5."],
  ],
  "del exists touch unlink": [
    ["MSET", "a", "1", "b", "2", "c", "3"],
    ["EXISTS", "a", "a", "b", "z"],
    ["TOUCH", "a", "z"],
    ["DEL", "a", "z", "a"],
    ["UNLINK", "b", "c"],
    ["DBSIZE"],
    ["DEL"],
  ],
  "expire family": [
    ["SET", "k", "v"],
    ["EXPIRE", "k", "100"],
    ["TTL", "k"],
    ["EXPIRE", "k", "200", "NX"],
    ["EXPIRE", "k", "200", "XX"],
    ["TTL", "k"],
    ["EXPIRE", "k", "100", "GT"],
    ["EXPIRE", "k", "300", "GT"],
    ["TTL", "k"],
    ["EXPIRE", "k", "400", "LT"],
    ["EXPIRE", "k", "50", "LT"],
    ["TTL", "k"],
    ["EXPIRE", "k", "50", "NX", "XX"],
    ["EXPIRE", "k", "50", "GT", "LT"],
    ["EXPIRE", "k", "50", "FOO"],
    ["EXPIRE", "k", "abc"],
    ["EXPIRE", "missing", "10"],
    ["PERSIST", "k"],
    ["PERSIST", "k"],
    ["TTL", "k"],
    ["EXPIRE", "k", "100", "XX"],
    ["EXPIRE", "k", "100", "GT"],
    ["EXPIRE", "k", "100", "LT"],
    ["TTL", "k"],
    ["PEXPIRE", "k", "500000"],
    ["TTL", "k"],
    ["EXPIREAT", "k", "4000000000"],
    ["EXPIRETIME", "k"],
    ["PEXPIREAT", "k", "4000000000500"],
    ["EXPIRETIME", "k"],
    ["PEXPIRETIME", "k"],
    ["EXPIRE", "k", "9223372036854775807"],
    ["PEXPIRE", "k", "9223372036854775807"],
    ["EXPIRE", "k", "-1"],
    ["EXISTS", "k"],
    ["TTL", "missing"],
    ["PTTL", "missing"],
    ["EXPIRETIME", "missing"],
    ["SET", "p", "v"],
    ["PTTL", "p"],
    ["PEXPIRETIME", "p"],
    ["EXPIREAT", "p", "1"],
    ["GET", "p"],
  ],
  "type rename copy": [
    ["SET", "a", "1"],
    ["TYPE", "a"],
    ["TYPE", "missing"],
    ["RENAME", "a", "b"],
    ["GET", "b"],
    ["RENAME", "missing", "c"],
    ["RENAME", "b", "b"],
    ["RENAMENX", "b", "b"],
    ["SET", "c", "3"],
    ["RENAMENX", "b", "c"],
    ["RENAMENX", "b", "d"],
    ["EXPIRE", "d", "100"],
    ["RENAME", "d", "e"],
    ["TTL", "e"],
    ["COPY", "e", "f"],
    ["TTL", "f"],
    ["COPY", "e", "f"],
    ["COPY", "e", "f", "REPLACE"],
    ["COPY", "e", "e"],
    ["COPY", "missing", "x"],
    ["COPY", "e", "g", "DB", "0"],
    ["COPY", "e", "g", "DB", "1"],
    ["COPY", "e", "g", "FOO"],
    ["FLUSHALL"],
    ["RANDOMKEY"],
    ["SET", "only", "1"],
    ["RANDOMKEY"],
  ],
  "keys and patterns": [
    ["MSET", "hello", "1", "hallo", "2", "hxllo", "3", "hllo", "4"],
    ["MSET", "heeeello", "5", "a*b", "6", "a?b", "7", "h[e]llo", "8"],
    ["KEYS", "h?llo"],
    ["KEYS", "h*llo"],
    ["KEYS", "h[ae]llo"],
    ["KEYS", "h[^e]llo"],
    ["KEYS", "h[a-b]llo"],
    ["KEYS", "a\\*b"],
    ["KEYS", "a\\?b"],
    ["KEYS", "nomatch*"],
    ["KEYS", "h\\[e\\]llo"],
    ["KEYS", "[z-a]*"],
  ],
  "scan": [
    ["SCAN", "0", "MATCH", "nothing*"],
    ["SET", "k", "v"],
    ["SCAN", "0"],
    ["SCAN", "0", "COUNT", "0"],
    ["SCAN", "0", "COUNT", "-1"],
    ["SCAN", "0", "COUNT", "x"],
    ["SCAN", "x"],
    ["SCAN", "0", "FOO", "bar"],
    ["SCAN", "0", "MATCH"],
    ["SCAN", "0", "TYPE", "string"],
    ["SCAN", "0", "TYPE", "list"],
  ],
  "dbsize and flush": [
    ["MSET", "a", "1", "b", "2"],
    ["DBSIZE"],
    ["FLUSHDB", "FOO"],
    ["FLUSHDB", "ASYNC", "SYNC"],
    ["FLUSHDB", "ASYNC"],
    ["DBSIZE"],
    ["SET", "a", "1"],
    ["FLUSHALL", "SYNC"],
    ["DBSIZE"],
    ["FLUSHALL"],
  ],
  "connection": [
    ["PING"],
    ["PING", "hi"],
    ["PING", "a", "b"],
    ["ECHO", "x y"],
    ["ECHO"],
    ["SELECT", "0"],
    ["SELECT", "1"],
    ["SELECT", "x"],
    ["SELECT", "-1"],
    ["AUTH", "pw"],
    ["AUTH", "default", "anything"],
    ["AUTH", "nobody", "pw"],
    ["AUTH", "a", "b", "c"],
    ["HELLO", "4"],
    ["HELLO", "x"],
    ["HELLO", "2", "FOO"],
    ["HELLO", "2", "AUTH", "default"],
    ["HELLO", "2", "AUTH", "nobody", "x"],
    ["CLIENT", "SETNAME", "my-name"],
    ["CLIENT", "GETNAME"],
    ["CLIENT", "SETNAME", "bad name"],
    ["CLIENT", "SETNAME", ""],
    ["CLIENT", "GETNAME"],
    ["CLIENT", "FOO"],
    ["CLIENT"],
    ["CLIENT", "KILL", "1.2.3.4:5"],
    ["CLIENT", "KILL", "ID", "999999"],
    ["CLIENT", "KILL", "ID"],
    ["CLIENT", "KILL", "FOO", "bar"],
    ["CLIENT", "LIST", "TYPE", "pubsub"],
    ["CLIENT", "LIST", "TYPE", "foo"],
    ["CLIENT", "LIST", "ID", "999999"],
  ],
  "unknown and arity": [
    ["FOO"],
    ["FOO", "a", "b"],
    ["FOO", "x".repeat(200)],
    ["FOO", "a\r\nb"],
    ["CONFIG"],
    ["CONFIG", "FOO"],
    ["CONFIG", "GET"],
    ["CONFIG", "SET", "timeout"],
    ["CONFIG", "SET", "timeout", "1", "maxclients"],
    ["CONFIG", "SET", "nosuch", "1"],
    ["CONFIG", "SET", "timeout", "abc"],
    ["CONFIG", "SET", "timeout", "0", "timeout", "0"],
    ["CONFIG", "GET", "nosuch"],
    ["CONFIG", "GET", "timeout"],
    ["CONFIG", "SET", "timeout", "0"],
    ["COMMAND", "FOO"],
    ["COMMAND", "INFO", "get", "nosuchcommand"],
    ["COMMAND", "INFO", "set", "mget"],
    ["COMMAND", "INFO", "config|get"],
    ["COMMAND", "DOCS", "get", "incrbyfloat"],
    ["TYPE"],
    ["EXISTS"],
    ["TTL", "a", "b"],
  ],
};

Deno.test({
  name: "compat: identical replies to redis-server, RESP2 and RESP3",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: (t) => compareWithRedis(t, CASES),
});

/** Raw protocol input (inline commands, malformed frames): both servers
 * must answer with the same bytes and close (or not) alike. */
const RAW: Record<string, string> = {
  "inline command": "SET a b\r\nGET a\r\n",
  "inline with quotes": 'SET a "hello world"\r\nGET a\r\n',
  "inline with escapes": 'SET a "\\x41\\n\\t"\r\nGET a\r\n',
  "inline with single quotes": "SET a 'it\\'s'\r\nGET a\r\n",
  "inline with only LF": "PING\nPING\n",
  "empty lines are skipped": "\r\n\r\nPING\r\n",
  "unbalanced quotes": 'SET a "oops\r\n',
  "closing quote followed by text": 'SET a "x"y\r\n',
  "invalid multibulk length": "*abc\r\n",
  "negative multibulk is ignored": "*-1\r\nPING\r\n",
  "zero multibulk is ignored": "*0\r\nPING\r\n",
  "invalid bulk length": "*1\r\n$abc\r\n",
  "negative bulk length": "*1\r\n$-1\r\n",
  "bulk too long": "*1\r\n$536870913\r\n",
  "expected dollar": "*1\r\n+PING\r\n",
  "leading zero bulk length": "*1\r\n$04\r\nPING\r\n",
  "plus sign is inline": "+PING\r\n",
  "pipelined mix":
    "*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n",
};

async function rawExchange(port: number, input: string): Promise<string> {
  const c = await Conn.open(port);
  try {
    await c.send(input);
    return await c.drain(250);
  } finally {
    c.close();
  }
}

Deno.test({
  name: "compat: identical answers to raw and malformed input",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    for (const [name, input] of Object.entries(RAW)) {
      await t.step(name, async () => {
        const expected = await rawExchange(redis.port, input);
        const actual = await rawExchange(ours.port, input);
        assert.equal(actual, expected);
      });
    }
  },
});

/** Connects from another loopback address (127.0.0.2), sends PING and
 * returns everything received until the connection closes. */
async function pingFrom127002(port: number): Promise<string> {
  const net = await import("node:net");
  return await new Promise((resolve, reject) => {
    let data = "";
    const s = net.connect({
      host: "127.0.0.1",
      port,
      localAddress: "127.0.0.2",
    });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(data);
    }, 1000);
    s.on("connect", () => s.write("PING\r\n"));
    s.on("data", (d: Uint8Array) => data += new TextDecoder().decode(d));
    s.on("close", () => {
      clearTimeout(timer);
      resolve(data);
    });
    s.on("error", (e: Error) => {
      clearTimeout(timer);
      // A server that closes at once may reset the connection before our
      // PING is read: what arrived before the reset still counts.
      if (/ECONNRESET/.test(e.message)) resolve(data);
      else reject(e);
    });
  });
}

Deno.test({
  name: "compat: protected mode answers a non-local peer like redis-server",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start(["--bind", "0.0.0.0"]);
    await using ours = await startServer({ host: "0.0.0.0" });
    let expected = "";
    for (let i = 0; i < 5 && expected === ""; i++) {
      expected = await pingFrom127002(redis.port);
    }
    assert.match(expected, /^-DENIED Redis is running in protected mode/);
    assert.equal(await pingFrom127002(ours.port), expected);
    // With protected mode off, the same peer is served.
    using c = await Conn.open(ours.port);
    assert.equal(await c.call("CONFIG", "SET", "protected-mode", "no"), "OK");
    assert.equal(await pingFrom127002(ours.port), "+PONG\r\n");
    // With a password instead, it is asked to authenticate.
    assert.equal(await c.call("CONFIG", "SET", "protected-mode", "yes"), "OK");
    assert.equal(await c.call("CONFIG", "SET", "requirepass", "pw"), "OK");
    assert.equal(
      await pingFrom127002(ours.port),
      "-NOAUTH Authentication required.\r\n",
    );
  },
});

const COUNTED: Cmd[] = [
  ["SET", "a", "1"],
  ["SET", "b", "2", "EX", "100"],
  ["GET", "a"],
  ["GET", "nope"],
  ["MGET", "a", "b", "nope"],
  ["EXISTS", "a", "nope"],
  ["TYPE", "a"],
  ["TYPE", "nope"],
  ["TTL", "b"],
  ["PTTL", "nope"],
  ["STRLEN", "a"],
  ["STRLEN", "nope"],
  ["GETRANGE", "a", "0", "1"],
  ["TOUCH", "a", "nope"],
  ["INCR", "a"],
  ["INCR", "n"],
  ["APPEND", "s", "x"],
  ["GETSET", "a", "5"],
  ["GETDEL", "s"],
  ["GETEX", "b", "PERSIST"],
  ["SET", "c", "3", "GET"],
  ["COPY", "c", "d"],
  ["RENAME", "d", "e"],
  ["MSET", "x", "1", "y", "2", "z", "3"],
  ["MSETNX", "x", "1", "q", "2"],
  ["DEL", "x", "y", "nope"],
  ["EXPIRE", "z", "100"],
  ["PERSIST", "z"],
  ["SETRANGE", "z", "3", "abc"],
  ["INCRBYFLOAT", "f", "1.5"],
  ["SET", "gone", "1", "PX", "1"],
  ["SETNX", "a", "1"],
  ["FLUSHDB"],
  ["SET", "after", "1"],
  ["FLUSHALL"],
];

const STAT_FIELDS = [
  "keyspace_hits",
  "keyspace_misses",
  "rdb_changes_since_last_save",
];

async function statsAfter(port: number, cmds: Cmd[]) {
  const c = await Conn.open(port);
  try {
    await c.call("FLUSHALL");
    await c.call("CONFIG", "RESETSTAT");
    const read = async () => {
      const info = String(await c.call("INFO", "all"));
      return Object.fromEntries(
        STAT_FIELDS.map((
          f,
        ) => [f, Number(new RegExp(`${f}:(\\d+)`).exec(info)![1])]),
      );
    };
    const before = await read();
    for (const cmd of cmds) await c.call(...cmd);
    const after = await read();
    return Object.fromEntries(
      STAT_FIELDS.map((f) => [f, after[f] - before[f]]),
    );
  } finally {
    c.close();
  }
}

Deno.test({
  name: "compat: keyspace hits, misses and changes count as in redis-server",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    assert.deepEqual(
      await statsAfter(ours.port, COUNTED),
      await statsAfter(redis.port, COUNTED),
    );
  },
});

Deno.test({
  name: "compat: COMMAND INFO and COMMAND DOCS match redis-server's",
  ignore: !hasRedis,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    using c = await Conn.open(ours.port);
    // Containers (CONFIG, OBJECT, XGROUP, ...) list their subcommands in
    // the order of a hash table whose seed changes at every start of
    // redis-server: compare each subcommand on its own instead.
    const names: string[] = [];
    for (const n of await c.call("COMMAND", "LIST") as string[]) {
      if (n === "delete" || n === "flush") continue; // ours
      if (n === "client") names.push("client|list"); // has 7.2's SETINFO
      const subs = ours.commands.get(n)?.subcommands;
      if (subs === undefined) names.push(n);
      else if (n !== "client") {
        for (const sub of subs.keys()) names.push(`${n}|${sub}`);
      }
    }
    assert.ok(names.length > 40);
    for (const resp of [2, 3] as const) {
      const cmds: Cmd[] = [];
      for (const n of names) {
        cmds.push(["COMMAND", "INFO", n], ["COMMAND", "DOCS", n]);
      }
      const expected = await runCase(redis.port, cmds, resp);
      const actual = await runCase(ours.port, cmds, resp);
      for (let i = 0; i < cmds.length; i++) {
        assert.equal(
          actual[i],
          expected[i],
          `${cmds[i].join(" ")} (RESP${resp})`,
        );
      }
    }
  },
});
