// The Client's scripting methods (EVAL, EVALSHA, SCRIPT, FCALL, FUNCTION,
// defineScript) against our server and against redis-server, over RESP2
// and RESP3: the same expectations everywhere, and RESP3 gives the same JS
// values as RESP2. Then `kv cli --eval` next to `redis-cli --eval`.

import assert from "node:assert/strict";
import { Client, type ScriptReply } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import {
  freePort,
  has,
  RedisServer,
  run,
  ServerProcess,
  startServer,
} from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const MAIN = new URL("../main.ts", import.meta.url).pathname;

interface Target {
  port: number;
  stop(): Promise<void>;
}

/** Where each test runs. Tests that leave a script spinning (KILL) run our
 * server as a process of its own, so a script the server cannot interrupt
 * fails the test instead of hanging the test runner. */
const TARGETS: [string, (own?: boolean) => Promise<Target>][] = [
  ["@kv/store", async (own = false) => {
    if (own) {
      const p = await ServerProcess.start();
      return {
        port: p.port,
        stop: () => p[Symbol.asyncDispose](),
      };
    }
    const s = await startServer();
    return { port: s.port, stop: () => s.close() };
  }],
];
if (has("redis-server")) {
  TARGETS.push(["redis-server", async () => {
    const r = await RedisServer.start();
    return { port: r.port, stop: () => r.stop() };
  }]);
}

const enc = new TextEncoder();
const SHA_RETURN_1 = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
const NO_SHA = "0".repeat(40);

/** Asserts that a promise rejects with this exact error reply. */
async function rejectsWith(
  p: Promise<unknown>,
  message: string | Promise<string>,
) {
  const resolved = Symbol("resolved");
  const e = await p.then(() => resolved, (e: unknown) => e);
  assert.ok(e !== resolved, `resolved; expected the error ${await message}`);
  assert.ok(e instanceof ReplyError, `not a ReplyError: ${String(e)}`);
  assert.equal(e.message, await message);
}

/** A script's error text as Redis 7.0 writes it: the message, then which
 * script and line. */
async function scriptError(
  script: string,
  message: string,
  line = 1,
): Promise<string> {
  return `${message} script: ${await sha1(script)}, on @user_script:${line}.`;
}

async function sha1(s: string): Promise<string> {
  const d = await crypto.subtle.digest("SHA-1", enc.encode(s));
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, "0"))
    .join("");
}

const LIB = "#!lua name=mylib\n" +
  "redis.register_function('echo_key', function(keys, args) return {keys[1], args[1]} end)\n" +
  "redis.register_function{function_name='two', callback=function() return 2 end, " +
  "flags={'no-writes'}, description='returns two'}\n" +
  "redis.register_function('setter', function(keys, args) " +
  "return redis.call('SET', keys[1], args[1]) end)\n";

/** A scenario asserts what it can and returns the values RESP2 and RESP3
 * must agree on. */
type Scenario = (c: Client) => Promise<unknown>;

const SCENARIOS: [string, Scenario][] = [];

SCENARIOS.push(["EVAL: each reply type", async (c) => {
  const out: unknown[] = [];
  const check = async (
    script: string,
    expected: ScriptReply,
    ...a: [
      string[]?,
      (string | number)[]?,
    ]
  ) => {
    const got = await c.eval(script, ...a);
    assert.deepEqual(got, expected, script);
    out.push(got);
  };
  await check("return 42", 42);
  await check("return -7", -7);
  await check("return 3.99", 3); // Lua numbers become integers
  await check("return 'hello'", "hello");
  await check("return nil", null);
  await check("return false", null);
  await check("return true", 1);
  await check("return {1, 2, nil, 4}", [1, 2]); // cut at the first nil
  await check("return {}", []);
  await check("return {1, 'two', {3, 'four'}}", [1, "two", [3, "four"]]);
  await check("return redis.status_reply('FINE')", "FINE");
  await check("return {ok='fine'}", "fine");
  await check(
    "return {KEYS[1], ARGV[1], #KEYS, #ARGV}",
    ["k1", "a1", 2, 3],
    ["k1", "k2"],
    ["a1", "a2", 3],
  );
  await check(
    "return redis.call('SET', KEYS[1], ARGV[1])",
    "OK",
    ["key"],
    ["ключ ✓"],
  );
  await check("return redis.call('GET', KEYS[1])", "ключ ✓", ["key"]);
  await check("return redis.call('GET', 'missing')", null);
  await check(
    "redis.call('RPUSH', KEYS[1], 'a', 'b') return redis.call('LRANGE', KEYS[1], 0, -1)",
    ["a", "b"],
    ["list"],
  );
  await check("return redis.call('INCRBY', KEYS[1], 5)", 5, ["n"]);
  // An error inside a table is a value of the array.
  const nested = await c.eval("return {1, {err='ERR inner'}, 'x'}");
  assert.ok(Array.isArray(nested));
  assert.equal(nested[0], 1);
  assert.ok(nested[1] instanceof ReplyError);
  assert.equal((nested[1] as ReplyError).message, "ERR inner");
  assert.equal(nested[2], "x");
  out.push(nested.map((e) => e instanceof ReplyError ? e.message : e));
  // Binary arguments go through unchanged.
  const bin = new Uint8Array([0, 0xff, 10]);
  assert.equal(await c.eval("return #ARGV[1]", [], [bin]), 3);
  assert.equal(
    await c.eval("return redis.call('SET', KEYS[1], ARGV[1])", ["b"], [bin]),
    "OK",
  );
  assert.deepEqual(await c.getBytes("b"), bin);
  return out;
}]);

SCENARIOS.push(["EVAL: error replies reject", async (c) => {
  await rejectsWith(c.eval("return redis.error_reply('MY boom')"), "MY boom");
  await rejectsWith(c.eval("return {err='plain'}"), "plain");
  await assert.rejects(
    c.eval("return redis.error_reply('MY boom')"),
    (e: unknown) => e instanceof ReplyError && e.code === "MY",
  );
  await rejectsWith(
    c.eval("return redis.call('nosuch')"),
    scriptError(
      "return redis.call('nosuch')",
      "ERR Unknown Redis command called from script",
    ),
  );
  await rejectsWith(
    c.eval("return nil + 1"),
    scriptError(
      "return nil + 1",
      "ERR user_script:1: attempt to perform arithmetic on a nil value",
    ),
  );
  await rejectsWith(
    c.eval("error('raw')"),
    scriptError("error('raw')", "ERR user_script:1: raw"),
  );
  await c.set("str", "abc");
  await rejectsWith(
    c.eval("return redis.pcall('INCR', KEYS[1])", ["str"]),
    "ERR value is not an integer or out of range",
  );
  await rejectsWith(
    c.eval("return redis.call('INCR', KEYS[1])", ["str"]),
    scriptError(
      "return redis.call('INCR', KEYS[1])",
      "ERR value is not an integer or out of range",
    ),
  );
  await rejectsWith(
    c.execute("EVAL", "return 1", -1),
    "ERR Number of keys can't be negative",
  );
  await rejectsWith(
    c.execute("EVAL", "return 1", 2, "a"),
    "ERR Number of keys can't be greater than number of args",
  );
  // EVAL_RO: reads work, writes are refused.
  await c.set("k", "v");
  assert.equal(await c.evalRo("return redis.call('GET', KEYS[1])", ["k"]), "v");
  await rejectsWith(
    c.evalRo("return redis.call('SET', KEYS[1], 'x')", ["k"]),
    scriptError(
      "return redis.call('SET', KEYS[1], 'x')",
      "ERR Write commands are not allowed from read-only scripts.",
    ),
  );
  assert.equal(await c.get("k"), "v");
  return "errors";
}]);

SCENARIOS.push(["EVALSHA, SCRIPT LOAD/EXISTS/FLUSH", async (c) => {
  assert.equal(await c.scriptLoad("return 1"), SHA_RETURN_1);
  assert.equal(await c.evalsha(SHA_RETURN_1), 1);
  assert.equal(await c.evalsha(SHA_RETURN_1.toUpperCase()), 1);
  assert.equal(await c.evalshaRo(SHA_RETURN_1), 1);
  assert.deepEqual(await c.scriptExists(SHA_RETURN_1, NO_SHA), [true, false]);
  // EVAL caches what it runs.
  const script = "return {KEYS[1], ARGV[1]}";
  assert.deepEqual(await c.eval(script, ["k"], ["a"]), ["k", "a"]);
  const sha = await sha1(script);
  assert.deepEqual(await c.scriptExists(sha), [true]);
  assert.deepEqual(await c.evalsha(sha, ["k2"], ["a2"]), ["k2", "a2"]);
  // NOSCRIPT is an error of evalsha: no fallback there.
  await rejectsWith(
    c.evalsha(NO_SHA),
    "NOSCRIPT No matching script. Please use EVAL.",
  );
  await assert.rejects(
    c.evalshaRo(NO_SHA),
    (e: unknown) => e instanceof ReplyError && e.code === "NOSCRIPT",
  );
  assert.equal(await c.scriptFlush(), "OK");
  assert.deepEqual(await c.scriptExists(SHA_RETURN_1, sha), [false, false]);
  await rejectsWith(
    c.evalsha(SHA_RETURN_1),
    "NOSCRIPT No matching script. Please use EVAL.",
  );
  assert.equal(await c.scriptLoad("return 1"), SHA_RETURN_1);
  assert.equal(await c.scriptFlush("ASYNC"), "OK");
  assert.deepEqual(await c.scriptExists(SHA_RETURN_1), [false]);
  assert.equal(await c.scriptLoad("return 1"), SHA_RETURN_1);
  assert.equal(await c.scriptFlush("SYNC"), "OK");
  assert.deepEqual(await c.scriptExists(SHA_RETURN_1), [false]);
  await assert.rejects(c.scriptLoad("return +"), ReplyError);
  await rejectsWith(
    c.scriptExists(),
    "ERR wrong number of arguments for 'script|exists' command",
  );
  // A script given as bytes.
  assert.equal(await c.eval(enc.encode("return 'bytes'")), "bytes");
  await rejectsWith(
    c.scriptKill(),
    "NOTBUSY No scripts in execution right now.",
  );
  return [sha];
}]);

SCENARIOS.push(["defineScript: EVALSHA, EVAL after SCRIPT FLUSH", async (c) => {
  const lua = "return redis.call('INCRBY', KEYS[1], ARGV[1])";
  const incrBy = c.defineScript<number>(lua, { numberOfKeys: 1 });
  assert.equal(incrBy.lua, lua);
  assert.equal(await incrBy.sha(), await sha1(lua));
  await c.configResetStat();
  // Not cached yet: EVALSHA fails with NOSCRIPT, EVAL runs and caches it.
  assert.equal(await incrBy(["n"], [5]), 5);
  assert.deepEqual(await c.scriptExists(await incrBy.sha()), [true]);
  assert.equal(await incrBy(["n"], [2]), 7); // EVALSHA only
  const stats = await c.info("commandstats");
  assert.match(stats, /^cmdstat_evalsha:calls=2,/m);
  assert.match(stats, /^cmdstat_eval:calls=1,/m);
  // After SCRIPT FLUSH it falls back to EVAL again.
  assert.equal(await c.scriptFlush(), "OK");
  assert.equal(await incrBy(["n"], [3]), 10);
  assert.deepEqual(await c.scriptExists(await incrBy.sha()), [true]);
  // The number of keys is checked before anything is sent.
  await assert.rejects(incrBy(["a", "b"], [1]), RangeError);
  assert.equal(await c.get("a"), null);
  // Errors other than NOSCRIPT are not retried with EVAL.
  await c.set("s", "x");
  await assert.rejects(
    incrBy(["s"], [1]),
    (e: unknown) =>
      e instanceof ReplyError && /^ERR value is not an integer/.test(e.message),
  );
  // Read-only scripts use EVALSHA_RO and EVAL_RO.
  const read = c.defineScript("return redis.call('GET', KEYS[1])", {
    readOnly: true,
  });
  assert.equal(await read(["n"]), "10");
  assert.equal(await read(["n"]), "10");
  const ro = await c.info("commandstats");
  assert.match(ro, /^cmdstat_eval_ro:calls=1,/m);
  assert.match(ro, /^cmdstat_evalsha_ro:calls=2,/m);
  const write = c.defineScript("return redis.call('DEL', KEYS[1])", {
    readOnly: true,
  });
  await assert.rejects(
    write(["n"]),
    (e: unknown) =>
      e instanceof ReplyError &&
      e.message.startsWith(
        "ERR Write commands are not allowed from read-only scripts.",
      ),
  );
  // The SHA1 is of the script's UTF-8 bytes, as the server's.
  const utf8 = c.defineScript<string>("return 'ключ ✓'");
  assert.equal(await utf8(), "ключ ✓");
  assert.deepEqual(await c.scriptExists(await utf8.sha()), [true]);
  assert.equal(await c.evalsha(await utf8.sha()), "ключ ✓");
  // Default: any number of keys, and none.
  const count = c.defineScript("return #KEYS + #ARGV");
  assert.equal(await count(), 0);
  assert.equal(await count(["a", "b"], ["c"]), 3);
  return await c.get("n");
}]);

SCENARIOS.push(["scripts in pipelines and transactions", async (c) => {
  const sha = await c.scriptLoad("return ARGV[1]");
  const replies = await c.pipeline()
    .eval("return 1")
    .evalsha(sha, [], ["x"])
    .evalsha(NO_SHA)
    .eval("return redis.error_reply('ERR no')")
    .scriptExists(sha)
    .exec();
  assert.deepEqual(replies.slice(0, 2), [1, "x"]);
  assert.ok(replies[2] instanceof ReplyError);
  assert.equal((replies[2] as ReplyError).code, "NOSCRIPT");
  assert.ok(replies[3] instanceof ReplyError);
  assert.deepEqual(replies[4], [true]);
  const tx = await c.multi()
    .eval("return redis.call('INCR', KEYS[1])", ["t"])
    .evalsha(sha, [], ["y"])
    .exec();
  assert.deepEqual(tx, [1, "y"]);
  return replies.map((r) => r instanceof ReplyError ? r.message : r);
}]);

SCENARIOS.push(["FUNCTION LOAD/LIST/STATS, FCALL, FCALL_RO", async (c) => {
  assert.equal(await c.functionFlush(), "OK");
  assert.deepEqual(await c.functionList(), []);
  assert.equal(await c.functionLoad(LIB), "mylib");
  await rejectsWith(c.functionLoad(LIB), "ERR Library 'mylib' already exists");
  assert.equal(await c.functionLoad(LIB, { replace: true }), "mylib");
  await rejectsWith(c.functionLoad("return 1"), "ERR Missing library metadata");
  assert.deepEqual(await c.fcall("echo_key", ["k"], ["a"]), ["k", "a"]);
  assert.equal(await c.fcall("two"), 2);
  assert.equal(await c.fcallRo("two"), 2);
  assert.equal(await c.fcall("setter", ["fk"], ["fv"]), "OK");
  assert.equal(await c.get("fk"), "fv");
  await rejectsWith(
    c.fcallRo("setter", ["fk"], ["x"]),
    "ERR Can not execute a script with write flag using *_ro command.",
  );
  await rejectsWith(c.fcall("nope"), "ERR Function not found");
  const libs = await c.functionList();
  assert.equal(libs.length, 1);
  const [lib] = libs;
  assert.equal(lib.libraryName, "mylib");
  assert.equal(lib.engine, "LUA");
  assert.equal(lib.libraryCode, undefined);
  // The order of a library's functions is Redis's dict order: compare
  // them sorted.
  const fns = [...lib.functions].sort((a, b) => a.name < b.name ? -1 : 1);
  assert.deepEqual(fns, [
    { name: "echo_key", description: null, flags: [] },
    { name: "setter", description: null, flags: [] },
    { name: "two", description: "returns two", flags: ["no-writes"] },
  ]);
  const [withCode] = await c.functionList({ withCode: true });
  assert.equal(withCode.libraryCode, LIB);
  assert.deepEqual(await c.functionList({ libraryName: "my*" }), libs);
  assert.deepEqual(await c.functionList({ libraryName: "other*" }), []);
  assert.deepEqual(await c.functionStats(), {
    runningScript: null,
    engines: { LUA: { librariesCount: 1, functionsCount: 3 } },
  });
  await rejectsWith(
    c.functionKill(),
    "NOTBUSY No scripts in execution right now.",
  );
  return [fns, withCode.libraryCode];
}]);

SCENARIOS.push(["FUNCTION DUMP/RESTORE/DELETE/FLUSH", async (c) => {
  assert.equal(await c.functionFlush(), "OK");
  assert.equal(await c.functionLoad(LIB), "mylib");
  const payload = await c.functionDump();
  assert.ok(payload instanceof Uint8Array);
  assert.equal(await c.functionFlush(), "OK");
  assert.deepEqual(await c.functionList(), []);
  assert.equal(await c.functionRestore(payload), "OK");
  assert.equal((await c.functionList())[0].libraryName, "mylib");
  await rejectsWith(
    c.functionRestore(payload),
    "ERR Library mylib already exists",
  );
  await rejectsWith(
    c.functionRestore(payload, "APPEND"),
    "ERR Library mylib already exists",
  );
  assert.equal(await c.functionRestore(payload, "REPLACE"), "OK");
  assert.equal(await c.functionRestore(payload, "FLUSH"), "OK");
  assert.equal(await c.fcall("two"), 2);
  await rejectsWith(
    c.functionRestore(enc.encode("abc")),
    "ERR DUMP payload version or checksum are wrong",
  );
  assert.equal(await c.functionDelete("mylib"), "OK");
  await rejectsWith(c.functionDelete("mylib"), "ERR Library not found");
  await rejectsWith(c.fcall("two"), "ERR Function not found");
  assert.equal(await c.functionRestore(payload), "OK");
  assert.equal(await c.functionFlush("ASYNC"), "OK");
  assert.equal(await c.functionRestore(payload), "OK");
  assert.equal(await c.functionFlush("SYNC"), "OK");
  assert.deepEqual(await c.functionStats(), {
    runningScript: null,
    engines: { LUA: { librariesCount: 0, functionsCount: 0 } },
  });
  return [...payload];
}]);

SCENARIOS.push(["RESP3-only script replies as in RESP2", async (c) => {
  // redis.setresp(3) makes redis.call return RESP3 types; what the script
  // returns is converted for the connection's protocol.
  const map = await c.eval(
    "redis.setresp(3) return redis.call('HGETALL', KEYS[1])",
    ["h0"],
  );
  assert.deepEqual(map, []);
  await c.hset("h", { f: "v" });
  assert.deepEqual(
    await c.eval("redis.setresp(3) return redis.call('HGETALL', KEYS[1])", [
      "h",
    ]),
    ["f", "v"],
  );
  assert.deepEqual(await c.eval("return {map={a=1}}"), ["a", 1]);
  assert.deepEqual(await c.eval("return {set={a=true}}"), ["a"]);
  assert.equal(await c.eval("redis.setresp(3) return true"), 1);
  assert.equal(await c.eval("redis.setresp(3) return false"), 0);
  // A double is a string in RESP2 and a number in RESP3 (the client cannot
  // tell a RESP3 double 3 from an integer 3).
  assert.equal(
    await c.eval("return {double=3.5}"),
    c.options.resp === 3 ? 3.5 : "3.5",
  );
  assert.equal(
    await c.eval("redis.setresp(3) return redis.call('ZSCORE', KEYS[1], 'm')", [
      "z",
    ]),
    null,
  );
  await c.zadd("z", [["m", 1.5]]);
  const score = await c.eval(
    "redis.setresp(3) return redis.call('ZSCORE', KEYS[1], 'm')",
    ["z"],
  );
  assert.equal(score, c.options.resp === 3 ? 1.5 : "1.5");
  return [map];
}]);

for (const [name, start] of TARGETS) {
  for (const [title, scenario] of SCENARIOS) {
    Deno.test(`client scripting (${name}): ${title}`, opts, async () => {
      const target = await start();
      try {
        const results: unknown[] = [];
        for (const resp of [2, 3] as const) {
          await using c = await Client.connect({
            port: target.port,
            resp,
            timeout: 10_000,
          });
          await c.flushAll();
          await c.scriptFlush();
          results.push(await scenario(c));
        }
        assert.deepEqual(results[1], results[0], "RESP3 differs from RESP2");
      } finally {
        await target.stop();
      }
    });
  }

  Deno.test(`client scripting (${name}): SCRIPT KILL`, opts, async () => {
    const target = await start(true);
    try {
      await using c = await Client.connect({
        port: target.port,
        timeout: 10_000,
      });
      // BUSY after 50 ms instead of 5 s (lua-time-limit is the old name).
      assert.equal(await c.configSet({ "busy-reply-threshold": 50 }), "OK");
      assert.deepEqual(await c.configGet("lua-time-limit"), {
        "lua-time-limit": "50",
      });
      const spinning = c.eval("while true do end").then(
        () => assert.fail("the script returned"),
        (e: unknown) => e,
      );
      // Other clients get BUSY while it runs.
      await using other = await Client.connect({
        port: target.port,
        timeout: 10_000,
      });
      const busy = await untilBusy(
        () => other.get("x").then(() => null, (e: unknown) => e),
        (e) => e !== null,
      );
      assert.ok(busy instanceof ReplyError);
      assert.equal(
        busy.message,
        "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.",
      );
      const killed = await untilBusy(() => c.scriptKill());
      assert.equal(killed, "OK");
      const e = await spinning;
      assert.ok(e instanceof ReplyError);
      assert.equal(
        e.message,
        await scriptError(
          "while true do end",
          "ERR Script killed by user with SCRIPT KILL...",
        ),
      );
      assert.equal(await c.ping(), "PONG");
      await rejectsWith(
        c.scriptKill(),
        "NOTBUSY No scripts in execution right now.",
      );
    } finally {
      await target.stop();
    }
  });

  Deno.test(
    `client scripting (${name}): SCRIPT KILL of a script that wrote: UNKILLABLE`,
    opts,
    async () => {
      const target = await start(true);
      try {
        await using c = await Client.connect({
          port: target.port,
          timeout: 10_000,
        });
        assert.equal(await c.configSet({ "busy-reply-threshold": 50 }), "OK");
        const spinning = c.eval(
          "redis.call('SET', KEYS[1], '1') while true do end",
          ["x"],
        ).then(() => "returned", (e: unknown) => e);
        await using other = await Client.connect({
          port: target.port,
          timeout: 10_000,
        });
        const e = await untilBusy(
          () => other.scriptKill().then(() => null, (e: unknown) => e),
          (e) => !(e instanceof ReplyError && e.code === "NOTBUSY"),
        );
        assert.ok(e instanceof ReplyError);
        assert.equal(
          e.message,
          "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.",
        );
        // SHUTDOWN NOSAVE is the way out; the script's connection closes.
        await other.shutdown("NOSAVE");
        assert.ok((await spinning) instanceof Error);
      } finally {
        await target.stop();
      }
    },
  );

  Deno.test(
    `client scripting (${name}): FUNCTION KILL, FUNCTION STATS while running`,
    opts,
    async () => {
      const target = await start(true);
      try {
        await using c = await Client.connect({
          port: target.port,
          timeout: 10_000,
        });
        assert.equal(await c.configSet({ "busy-reply-threshold": 50 }), "OK");
        assert.equal(
          await c.functionLoad(
            "#!lua name=spinlib\nredis.register_function('spin', function() while true do end end)",
          ),
          "spinlib",
        );
        const spinning = c.fcall("spin", [], ["arg"]).then(
          () => assert.fail("the function returned"),
          (e: unknown) => e,
        );
        // FUNCTION STATS on a connection of its own while it runs.
        await using other = await Client.connect({
          port: target.port,
          timeout: 10_000,
        });
        const stats = await untilBusy(
          () => other.functionStats(),
          (s) => s.runningScript !== null,
        );
        assert.equal(stats.runningScript?.name, "spin");
        assert.deepEqual(stats.runningScript?.command, [
          "FCALL",
          "spin",
          "0",
          "arg",
        ]);
        assert.ok(stats.runningScript!.durationMs >= 0);
        await rejectsWith(
          other.get("x"),
          "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.",
        );
        assert.equal(await c.functionKill(), "OK");
        const e = await spinning;
        assert.ok(e instanceof ReplyError);
        assert.equal(
          e.message,
          // Redis 7.0 names SCRIPT KILL here too.
          "ERR Script killed by user with SCRIPT KILL... script: spin, on @user_function:2.",
        );
        await rejectsWith(
          c.functionKill(),
          "NOTBUSY No scripts in execution right now.",
        );
      } finally {
        await target.stop();
      }
    },
  );
}

/** Calls `f` (bounded: 200 tries, 25 ms apart) until it no longer answers
 * NOTBUSY (or, with `done`, until `done` holds): the script has started. */
async function untilBusy<T>(
  f: () => Promise<T>,
  done: (v: T) => boolean = () => true,
): Promise<T> {
  let last: unknown;
  for (let i = 0; i < 200; i++) {
    try {
      const v = await f();
      if (done(v)) return v;
      last = v;
    } catch (e) {
      if (!(e instanceof ReplyError && e.code === "NOTBUSY")) throw e;
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the script never got busy: ${last}`);
}

/** Loads a library on redis-server and on ours, returns both dumps. */
async function dumps(code: string): Promise<
  & { redis: Uint8Array; ours: Uint8Array; r: Client; k: Client }
  & AsyncDisposable
> {
  const redis = await RedisServer.start();
  const ours = await startServer();
  const r = await Client.connect({ port: redis.port });
  const k = await Client.connect({ port: ours.port });
  assert.equal(await r.functionLoad(code), await k.functionLoad(code));
  return {
    redis: await r.functionDump(),
    ours: await k.functionDump(),
    r,
    k,
    async [Symbol.asyncDispose]() {
      r.close();
      k.close();
      await ours.close();
      await redis.stop();
    },
  };
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

const SMALL_LIB = "#!lua name=small\n" +
  "redis.register_function('two', function() return 2 end)\n";

Deno.test({
  name: "client scripting: FUNCTION DUMP payloads restore across servers",
  ignore: !has("redis-server"),
  ...opts,
  async fn() {
    for (const code of [SMALL_LIB, LIB]) {
      await using d = await dumps(code);
      await d.k.functionFlush();
      assert.equal(await d.k.functionRestore(d.redis), "OK");
      assert.equal(await d.k.fcall("two"), 2);
      await d.r.functionFlush();
      assert.equal(await d.r.functionRestore(d.ours), "OK");
      assert.equal(await d.r.fcall("two"), 2);
    }
  },
});

Deno.test({
  name: "client scripting: FUNCTION DUMP is Redis's payload byte for byte",
  ignore: !has("redis-server"),
  ...opts,
  async fn() {
    {
      await using d = await dumps(SMALL_LIB); // too short to compress
      assert.equal(hex(d.ours), hex(d.redis));
    }
    {
      // Redis compresses longer code with LZF (rdbcompression yes); we
      // never do (README, Differences): with rdbcompression no, the bytes
      // are the same.
      await using d = await dumps(LIB);
      await d.r.configSet({ rdbcompression: "no" });
      const plain = await d.r.functionDump();
      assert.equal(
        hex(d.ours),
        hex(plain),
        `ours: ${d.ours.length} bytes, Redis's: ${plain.length} bytes`,
      );
      assert.ok(d.redis.length < plain.length, "Redis compressed it");
    }
  },
});

// --- kv cli --eval ----------------------------------------------------------

/** Scripts, the words after `--eval file`, and whether the reply is an
 * error. */
const CLI_SCRIPTS: [string, string[], boolean?][] = [
  ["return {KEYS[1], ARGV[1], #KEYS, #ARGV}", ["k", ",", "a"]],
  ["return {KEYS[1], ARGV[1], #KEYS, #ARGV}", ["k1", "k2", ",", "a", "b"]],
  ["return {KEYS[1], ARGV[1], #KEYS, #ARGV}", []],
  ["return {KEYS[1], ARGV[1], #KEYS, #ARGV}", ["a", "b"]], // no comma: keys
  ["return {KEYS[1], ARGV[1], #KEYS, #ARGV}", [",", "a", ","]],
  ["return {#KEYS, #ARGV, KEYS[1]}", ["a,b", ",b"]], // only a lone comma
  ["return redis.call('SET', KEYS[1], ARGV[1])", ["k", ",", "v w"]],
  ["return redis.call('GET', KEYS[1])", ["k"]],
  ["return redis.call('GET', KEYS[1])", ["missing"]],
  ["return 42", []],
  ["return redis.status_reply('FINE')", []],
  ["return {1, {2, 'x'}, nil, 3}", []],
  ["return redis.error_reply('MY boom')", [], true],
  ["return redis.call('nosuch')", [], true],
  [
    "-- a comment line\nlocal n = 0\nfor i = 1, 10 do n = n + i end\nreturn n",
    [],
  ],
];

Deno.test({
  name: "kv cli --eval: output as redis-cli's, raw, formatted and CSV",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv-eval-" });
    await using server = await startServer();
    const file = `${dir}/x.lua`;
    try {
      for (const flags of [[], ["--no-raw"], ["-3", "--no-raw"], ["--csv"]]) {
        for (const [script, words, error = false] of CLI_SCRIPTS) {
          await Deno.writeTextFile(file, script);
          const p = String(server.port);
          const expected = await run("redis-cli", [
            "-p",
            p,
            ...flags,
            "--eval",
            file,
            ...words,
          ]);
          const actual = await run(Deno.execPath(), [
            "run",
            "-A",
            MAIN,
            "cli",
            "-p",
            p,
            ...flags,
            "--eval",
            file,
            ...words,
          ]);
          const what = `${flags.join(" ")} --eval '${script}' ${
            words.join(" ")
          }`;
          assert.equal(actual.stdout, expected.stdout, what);
          // kv cli exits 1 on an error reply (redis-cli 7.0 exits 0).
          assert.equal(actual.code, error ? 1 : 0, what);
        }
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "kv cli --eval: against redis-server and ours, same output",
  ignore: !has("redis-cli") || !has("redis-server"),
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv-eval-" });
    await using redis = await RedisServer.start();
    await using ours = await startServer();
    const file = `${dir}/x.lua`;
    try {
      await Deno.writeTextFile(
        file,
        "redis.call('SET', KEYS[1], ARGV[1])\n" +
          "return {KEYS[1], redis.call('GET', KEYS[1]), #ARGV, redis.call('STRLEN', KEYS[1])}",
      );
      for (const flags of [[], ["--no-raw"]]) {
        const expected = await run("redis-cli", [
          "-p",
          String(redis.port),
          ...flags,
          "--eval",
          file,
          "k",
          ",",
          "a",
        ]);
        const actual = await run(Deno.execPath(), [
          "run",
          "-A",
          MAIN,
          "cli",
          "-p",
          String(ours.port),
          ...flags,
          "--eval",
          file,
          "k",
          ",",
          "a",
        ]);
        assert.equal(expected.code, 0);
        assert.deepEqual(
          [actual.code, actual.stdout],
          [0, expected.stdout],
          flags.join(" "),
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test(
  "kv cli --eval: a missing file, no server, --help",
  opts,
  async () => {
    await using server = await startServer();
    const missing = `/tmp/kv-eval-missing-${crypto.randomUUID()}.lua`;
    const kv = (port: number) =>
      run(Deno.execPath(), [
        "run",
        "-A",
        MAIN,
        "cli",
        "-p",
        String(port),
        "--eval",
        missing,
      ]);
    let r = await kv(server.port);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `Can't open file '${missing}': No such file or directory`,
    );
    if (has("redis-cli")) {
      const e = await run("redis-cli", [
        "-p",
        String(server.port),
        "--eval",
        missing,
      ]);
      assert.deepEqual([e.code, e.stderr.trim()], [1, r.stderr.trim()]);
    }
    // As redis-cli, the connection comes first.
    const port = freePort();
    r = await kv(port);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `Could not connect to Redis at 127.0.0.1:${port}: Connection refused`,
    );
    const help = await run(Deno.execPath(), [
      "run",
      "-A",
      MAIN,
      "cli",
      "--help",
    ]);
    assert.match(
      help.stdout,
      /^ {2}--eval <file> +Send an EVAL command using the Lua script at <file>\.$/m,
    );
    assert.match(
      help.stdout,
      /--eval myscript\.lua key1 key2 , arg1 arg2 arg3/,
    );
  },
);
