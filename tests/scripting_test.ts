// Lua scripting (EVAL, EVALSHA, SCRIPT): byte-for-byte comparison with
// redis-server, long scripts (BUSY, SCRIPT KILL, SHUTDOWN NOSAVE), effects
// in the append-only file, atomicity.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import {
  Conn,
  freePort,
  RedisServer,
  ServerProcess,
  startServer,
} from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";
import { Scripting } from "../commands/scripting.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const e = (body: string, ...rest: (string | number)[]): Cmd => [
  "EVAL",
  body,
  ...(rest.length ? rest : [0]),
];

/** Each case starts from an empty keyspace. */
const CASES: Record<string, Cmd[]> = {
  "errors and their positions": [
    e("return ("),
    e("error('boom')"),
    e("error({err='X boom'})"),
    e("return error(12)"),
    e("\n\nlocal x = nil + 1"),
    e("local function f() error('deep') end\nf()"),
    e(
      "local t = setmetatable({},{__index=function() error('in meta') end}) return t.x",
    ),
    e("x = 1"),
    e("return y"),
    e("redis.call = nil"),
    e("string.x = 1"),
    e("setmetatable(_G, {})"),
    e("coroutine.yield(1)"),
    e("return redis.error_reply('My err')"),
    e("return redis.error_reply('-CODE My err')"),
    e("return {err='x y'}"),
    e("return {err='x\r\ny'}"),
    e("return redis.error_reply(1)"),
    e("return redis.status_reply()"),
  ],
  "numkeys and evalsha": [
    ["EVAL", "return 1", "-1"],
    ["EVAL", "return 1", "5", "a"],
    ["EVAL", "return 1", "x"],
    ["EVAL", "return 1", "99999999999999999999"],
    ["EVAL", "return 1", "9223372036854775807"],
    ["EVAL", "return 1", "-9223372036854775808"],
    ["EVAL", "return 1", "3.0"],
    ["EVAL", "return 1"],
    ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    ["EVALSHA", "short", "0"],
    e("return KEYS[1] .. ARGV[1] .. #KEYS .. #ARGV", 2, "a", "b", "c", "d"),
    ["SCRIPT", "LOAD", "return 'loaded'"],
    ["EVALSHA", "d8d2a8a2cbbb6c8e5a1e5d6f5a2b0f3c2e2b7a71", "0"],
    ["SCRIPT", "EXISTS", "a", "cf7a8f4ff2e34c1ba1b05a4a0f0b5b4b7a9eec2b"],
    ["SCRIPT", "LOAD", "return ("],
    ["SCRIPT", "LOAD", "return 1"],
    ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"],
    ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
    ["EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"],
    ["EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
    ["SCRIPT", "FLUSH", "x"],
    ["SCRIPT", "FLUSH", "ASYNC", "x"],
    ["SCRIPT", "FLUSH", "SYNC"],
    ["SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"],
    ["EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"],
    ["SCRIPT", "KILL"],
    ["SCRIPT", "DEBUG", "NO"],
    ["SCRIPT", "DEBUG", "MAYBE"],
    ["SCRIPT", "HELP"],
    ["SCRIPT", "NOPE"],
  ],
  "shebang flags": [
    e("#!lua flags=no-writes\nreturn redis.call('set','x',1)"),
    e("#!js\nreturn 1"),
    e("#!lua foo=bar\nreturn 1"),
    e("#!lua flags=bad\nreturn 1"),
    e("#!lua\nerror('x')"),
    e("#!lua flags=no-writes,allow-oom\nreturn 1"),
    e("#!lua flags=\nreturn 2"),
    e("#!lua"),
    e("#!lua name=x\nreturn 1"),
    ["EVAL_RO", "return redis.call('set','x',1)", "0"],
    ["EVAL_RO", "#!lua\nreturn 1", "0"],
    ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0"],
  ],
  "over maxmemory": [
    ["SET", "big", "x".repeat(64)],
    ["CONFIG", "SET", "maxmemory", "1"],
    e("#!lua\nreturn 1"),
    e("#!lua flags=no-writes\nreturn 1"),
    e("#!lua flags=allow-oom\nreturn redis.call('set','a','b')"),
    e("return redis.call('set','a','b')"),
    e("return redis.call('get','a')"),
    e("redis.call('del','zz') return redis.call('set','a','c')"),
    ["CONFIG", "SET", "maxmemory", "0"],
  ],
  "redis.call and pcall": [
    e("return redis.call('nosuch')"),
    e("return redis.call()"),
    e("return redis.call({})"),
    e("return redis.call('get')"),
    e("return redis.call('eval','return 1',0)"),
    e("return redis.call('subscribe','x')"),
    e("return redis.call('multi')"),
    e("return redis.call('set','k','v')"),
    e("return redis.call('get','k')"),
    e("return redis.call('get','nokey')"),
    e("return type(redis.call('get','nokey'))"),
    ["SET", "s", "x"],
    e("return redis.call('incr','s')"),
    e("return redis.pcall('incr','s')"),
    e("return redis.pcall('nosuch').err"),
    e("return redis.call('ping')"),
    e("return redis.call('ping').ok"),
    e("local ok, err = pcall(redis.call, 'nosuch') return err"),
    e("local ok, err = pcall(error, {err='x'}) return err"),
    e("return pcall(error, {err='x'})"),
    e("return redis.call('hgetall','nokey')"),
    e("redis.call('hset','h','a','1','b','2') return redis.call('hgetall','h')"),
    e("return redis.call('zadd','z','1.5','m')"),
    e("return redis.call('zscore','z','m')"),
    e("return redis.call('lpush','l', 1, 2.5, 1e20, -0)"),
    e("return redis.call('lrange','l', 0, -1)"),
    e("return redis.call('incrbyfloat','f', 0.1)"),
    e("return redis.call('set','k')"),
    e("return redis.pcall('hget','k','f')"),
  ],
  "Lua to reply conversions": [
    e("return 1+1"),
    e("return {1,2,3.9,'a',nil,5}"),
    e("return 3.99"),
    e("return -3.99"),
    e("return 2^63"),
    e("return -2^63"),
    e("return 2^53 + 1"),
    e("return 0/0"),
    e("return {1, {2, {3, 'x'}}}"),
    e("local a = {} a[1]=1 a[3]=3 return a"),
    e("return nil"),
    e("return"),
    e("return 1, 2"),
    e("return true"),
    e("return false"),
    e("return {true, false}"),
    e("return {double=3.5}"),
    e("return {map={a=1}}"),
    e("return {set={a=true}}"),
    e("return {big_number='123'}"),
    e("return {verbatim_string={format='txt',string='hi'}}"),
    e("return redis.status_reply('A\r\nB')"),
    e("return redis.status_reply('FINE')"),
    e("return {ok='x', err='y'}"),
    e("return function() end"),
    e("return {{}}"),
    e("return 'bin\\0ary'"),
  ],
  "RESP3 conversions (redis.setresp)": [
    e("redis.setresp(3) return redis.call('hgetall','nokey')"),
    e("redis.call('hset','h','a','1') redis.setresp(3) return redis.call('hgetall','h')"),
    e("redis.setresp(3) return redis.call('get','nokey')"),
    e("redis.setresp(3) return {double=3.5}"),
    e("redis.setresp(3) return {double=1/0}"),
    e("redis.setresp(3) return true"),
    e("redis.setresp(3) return false"),
    e("redis.call('zadd','z',2.5,'m') redis.setresp(3) return redis.call('zscore','z','m')"),
    e("redis.call('zadd','z',2.5,'m') redis.setresp(3) return redis.call('zscore','z','m')['double']"),
    e("redis.call('sadd','st','a') redis.setresp(3) return redis.call('smembers','st')"),
    e("redis.setresp(3) return redis.call('ping')"),
    e("redis.setresp(3) local r = redis.call('hello') return type(r)"),
    e("return redis.setresp(4)"),
    e("return redis.setresp()"),
  ],
  "the redis table and globals": [
    e(
      "local t={} for k in pairs(_G) do t[#t+1]=k end table.sort(t) return t",
    ),
    e(
      "local t={} for k in pairs(redis) do t[#t+1]=k end table.sort(t) return t",
    ),
    e(
      "local t={} for k in pairs(string) do t[#t+1]=k end table.sort(t) return t",
    ),
    e("local t={} for k in pairs(math) do t[#t+1]=k end table.sort(t) return t"),
    e("return redis.log(redis.LOG_WARNING, 'hello', 'world')"),
    e("return redis.log(9, 'x')"),
    e("return redis.log('x')"),
    e("return redis.sha1hex('abc')"),
    e("return redis.sha1hex()"),
    e("return redis.REDIS_VERSION"),
    e("return redis.REDIS_VERSION_NUM"),
    e("return redis.set_repl(99)"),
    e("return redis.set_repl()"),
    e("return redis.breakpoint()"),
    e("return redis.replicate_commands()"),
    e("return redis.acl_check_cmd('get','x')"),
    e("return redis.acl_check_cmd('nosuch')"),
    e("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING, redis.REPL_ALL, redis.REPL_AOF, redis.REPL_REPLICA, redis.REPL_SLAVE, redis.REPL_NONE}"),
  ],
  "Lua 5.1 semantics": [
    e("return tostring(8/2)"),
    e("return tostring(1/3)"),
    e("return tostring(1e15) .. ' ' .. tostring(1e16) .. ' ' .. tostring(2^53)"),
    e("return 'x' .. 8/2"),
    e("return string.format('%d %s %5.2f %x', 2^40, 'x', 3.14159, 255)"),
    e("return loadstring('return 1')()"),
    e("return {unpack({1,2,3})}"),
    e("return math.floor(4503599627370497 * 1)"),
    e("local p = 3 * 0x100000000 + 7 return tostring(p)"),
    e("return math.random(1000000)"),
    e("return {math.random(), math.random(10), math.random(5,100)}"),
    e("math.randomseed(7) return {math.random(1000), math.random(1000)}"),
    e("return math.random(0)"),
    e("return select('#', 1, nil, 3)"),
    e("return #'\\0\\1\\2'"),
    e("return string.rep('ab', 3)"),
    e("return table.concat({1,2,3}, ',')"),
    e("local t = {3,1,2} table.sort(t) return t"),
    e("return tonumber('0x10')"),
    e("return tonumber('  12  ')"),
    e("return string.byte('A')"),
    e("return gcinfo() > 0"),
    e("return type(_G)"),
  ],
  "cjson": [
    e("return cjson.encode({1,2,{a=1,b='x'}})"),
    e("return cjson.encode({a={b={c={}}}})"),
    e("return cjson.encode(cjson.null)"),
    e("return cjson.encode({1.5, 1e20, -0.1, 3})"),
    e("return cjson.encode('caf\\195\\169 \"q\" \\n')"),
    e("return cjson.decode('[1,2,{\"a\":3}]')[3].a"),
    e("return cjson.decode('{\"a\":[1,2,3]}').a"),
    e("return cjson.decode('[1,')"),
    e("return cjson.decode('\"\\\\u00e9\"')"),
    e("return cjson.encode({[1]=1, [3]=3})"),
    e("return cjson.encode({[1]=1, [30]=3})"),
    e("return cjson.decode('null') == cjson.null"),
    e("return cjson.encode(function() end)"),
  ],
};

Deno.test({
  name: "scripting replies match redis-server byte for byte",
  ignore: !hasRedis,
  ...opts,
  async fn(t) {
    await compareWithRedis(t, CASES);
  },
});

/** Sends EVAL without waiting for its reply. */
async function sendEval(c: Conn, body: string): Promise<void> {
  await c.send(encodeCommand(["EVAL", body, "0"]));
}

/** Waits (bounded) until the server answers -BUSY to `cmd`. */
async function untilBusy(c: Conn, cmd: string[]): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const raw = await c.rawReplies(encodeCommand(cmd));
    if (raw.startsWith("-BUSY")) return raw;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("the server never answered BUSY");
}

/** The BUSY / SCRIPT KILL scenario on one server: its raw replies. */
async function busyScenario(port: number): Promise<string[]> {
  using admin = await Conn.open(port);
  await admin.call("CONFIG", "SET", "busy-reply-threshold", "100");
  using a = await Conn.open(port);
  using b = await Conn.open(port);
  const out: string[] = [];
  // A read-only endless script: BUSY for others, SCRIPT KILL stops it.
  await sendEval(a, "local i = 0 while true do i = i + 1 end");
  out.push(await untilBusy(b, ["GET", "x"]));
  out.push(await b.rawReplies(encodeCommand(["FUNCTION", "KILL"])));
  out.push(await b.rawReplies(encodeCommand(["SCRIPT", "KILL"])));
  out.push(await a.rawReplies(new Uint8Array(0)));
  out.push(await b.rawReplies(encodeCommand(["PING"])));
  // A script that wrote cannot be killed; it ends on its own here.
  await sendEval(
    a,
    "redis.call('set','w','1') local t = redis.call('time') local s = tonumber(t[1]) * 1000000 + tonumber(t[2]) " +
      "while true do local n = redis.call('time') if tonumber(n[1]) * 1000000 + tonumber(n[2]) - s > 400000 then break end end return redis.call('get','w')",
  );
  out.push(await untilBusy(b, ["SET", "x", "1"]));
  out.push(await b.rawReplies(encodeCommand(["SCRIPT", "KILL"])));
  out.push(await b.rawReplies(encodeCommand(["SHUTDOWN"])));
  out.push(await a.rawReplies(new Uint8Array(0)));
  out.push(await b.rawReplies(encodeCommand(["GET", "w"])));
  return out;
}

Deno.test({
  name: "a long script: BUSY for others, SCRIPT KILL, UNKILLABLE once it wrote",
  ...opts,
  async fn() {
    await using server = await startServer();
    const ours = await busyScenario(server.port);
    assert.deepEqual(ours.slice(0, 5), [
      "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
      "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n",
      "+OK\r\n",
      "-ERR Script killed by user with SCRIPT KILL... script: 1a8e0b2b0b8a1b8ac7d7b5bfa59e8f1e9e5cd1e9, on @user_script:1.\r\n"
        .replace(/script: \w+/, ours[3].match(/script: \w+/)?.[0] ?? ""),
      "+PONG\r\n",
    ]);
    assert.match(ours[5], /^-BUSY/);
    assert.match(ours[6], /^-UNKILLABLE Sorry the script already executed/);
    assert.match(ours[7], /^-BUSY/);
    assert.equal(ours[8], "$1\r\n1\r\n");
    assert.equal(ours[9], "$1\r\n1\r\n");
    if (hasRedis) {
      await using redis = await RedisServer.start();
      const theirs = await busyScenario(redis.port);
      assert.deepEqual(ours, theirs);
    }
  },
});

Deno.test({
  name: "SHUTDOWN NOSAVE stops a busy script that wrote, and the server",
  ...opts,
  async fn() {
    await using p = await ServerProcess.start(["--save", ""]);
    using admin = await Conn.open(p.port);
    await admin.call("CONFIG", "SET", "lua-time-limit", "100");
    using a = await Conn.open(p.port);
    await sendEval(a, "redis.call('set','w','1') while true do end");
    using b = await Conn.open(p.port);
    await untilBusy(b, ["PING"]);
    await b.send(encodeCommand(["SHUTDOWN", "NOSAVE"]));
    assert.ok(await b.closedWithin(10000));
    const status = await p.process.status;
    assert.equal(status.success, true);
  },
});

Deno.test({
  name: "a script is atomic, also while it yields past the busy threshold",
  ...opts,
  async fn() {
    await using server = await startServer();
    using a = await Conn.open(server.port);
    using b = await Conn.open(server.port);
    // The script yields (threshold 5 ms) so B's commands are read and
    // answered meanwhile: with -BUSY, never run in between. The script
    // reads the counter before and after its loop.
    await b.call("CONFIG", "SET", "busy-reply-threshold", "5");
    await b.call("SET", "n", "0");
    const body = "local x = redis.call('get','n') " +
      "local j = 0 for i = 1, 20000000 do j = j + i end " +
      "return {x, redis.call('get','n')}";
    await a.send(encodeCommand(["EVAL", body, "0"]));
    let busy = 0;
    // Bounded: the script runs about a second; each try takes well under
    // a millisecond.
    for (let i = 0; i < 100_000; i++) {
      const raw = await b.rawReplies(encodeCommand(["INCR", "n"]));
      if (raw.startsWith("-BUSY")) busy++;
      else break;
    }
    const [x, y] = await a.reply(30_000) as string[];
    assert.equal(x, "0");
    assert.equal(y, "0", "no INCR ran while the script ran");
    assert.ok(busy > 0, "other clients were answered while it ran");
    assert.equal(await b.call("GET", "n"), "1");
  },
});

Deno.test({
  name: "scripts are logged as their effects, replayed without the script",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv-script-" });
    try {
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await c.call(
          "EVAL",
          "redis.call('set', KEYS[1], ARGV[1]) redis.call('incr', 'n') " +
            "redis.call('set', 'r', tostring(math.random())) " +
            "redis.call('get', 'n') return 1",
          "1",
          "k",
          "v",
        );
        await c.call("EVAL", "return redis.call('set','one','1')", "0");
        await c.call("EVAL", "return redis.call('get','one')", "0");
        await c.call(
          "EVAL",
          "redis.set_repl(redis.REPL_NONE) redis.call('set','unlogged','1') " +
            "redis.set_repl(redis.REPL_ALL) return redis.call('set','logged','1')",
          "0",
        );
      }
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.ok(!/EVAL/i.test(log), "the script itself is not logged");
      assert.match(
        log,
        /MULTI\r\n.*SET\r\n\$1\r\nk\r\n\$1\r\nv\r\n.*INCR\r\n\$1\r\nn\r\n.*EXEC/is,
      );
      assert.ok(!log.includes("unlogged"));
      assert.ok(log.includes("logged"));
      assert.equal(log.match(/MULTI/g)?.length, 1);
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        assert.equal(await c.call("GET", "k"), "v");
        assert.equal(await c.call("GET", "n"), "1");
        assert.equal(await c.call("GET", "one"), "1");
        assert.equal(await c.call("GET", "unlogged"), null);
        assert.match(await c.call("GET", "r") as string, /^0\.\d+/);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "scripts inside MULTI, WATCH and blocked clients see script writes",
  ...opts,
  async fn() {
    await using server = await startServer();
    using a = await Conn.open(server.port);
    using b = await Conn.open(server.port);
    assert.equal(await a.call("MULTI"), "OK");
    assert.equal(
      await a.call("EVAL", "return redis.call('incr','m')", "0"),
      "QUEUED",
    );
    assert.deepEqual(await a.call("EXEC"), [1]);
    // WATCH: a script's write makes the watcher's EXEC fail.
    await b.call("WATCH", "m");
    await a.call("EVAL", "return redis.call('incr','m')", "0");
    await b.call("MULTI");
    await b.call("GET", "m");
    assert.equal(await b.call("EXEC"), null);
    // A client blocked on a list is woken by a script's push.
    await b.send(encodeCommand(["BLPOP", "q", "5"]));
    await new Promise((r) => setTimeout(r, 50));
    await a.call("EVAL", "return redis.call('rpush','q','x')", "0");
    assert.deepEqual(await b.reply(), ["q", "x"]);
  },
});

Deno.test({
  name: "the script cache is not saved; INFO counts scripts and Lua memory",
  ...opts,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "kv-script-" });
    try {
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        const sha = await c.call("SCRIPT", "LOAD", "return 1");
        const info = await c.call("INFO", "memory") as string;
        assert.match(info, /number_of_cached_scripts:1\r\n/);
        assert.match(info, /used_memory_lua:[1-9]\d*\r\n/);
        await c.call("SET", "k", "v");
        await c.call("SAVE");
        assert.deepEqual(await c.call("SCRIPT", "EXISTS", sha as string), [1]);
      }
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("GET", "k"), "v");
      assert.deepEqual(
        await c.call(
          "SCRIPT",
          "EXISTS",
          "e0e1f9fabfc9d4800c877a703b823ac0578ff8db",
        ),
        [0],
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "the dashboard console runs EVAL like any command",
  ...opts,
  async fn() {
    await using server = await startServer({ httpPort: freePort() });
    const base = `http://127.0.0.1:${server.httpPort}`;
    const res = await fetch(`${base}/api/command`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({
        command:
          `EVAL "return {redis.call('incrby', KEYS[1], 5), ARGV[1]}" 1 n x`,
      }),
    });
    const body = await res.json();
    assert.equal(body.output, '1) (integer) 5\n2) "x"\n');
  },
});

Deno.test({
  name:
    "redis.log writes to the server's log; script writes fire keyspace events",
  ...opts,
  async fn() {
    const lines: string[] = [];
    await using server = await startServer({
      loglevel: "notice",
      logSink: (line: string) => lines.push(line),
    });
    using c = await Conn.open(server.port);
    using sub = await Conn.open(server.port);
    await c.call("CONFIG", "SET", "notify-keyspace-events", "KA");
    await sub.call("SUBSCRIBE", "__keyspace@0__:k");
    await c.call(
      "EVAL",
      "redis.log(redis.LOG_WARNING, 'from', 'the script') " +
        "redis.log(redis.LOG_DEBUG, 'too quiet') " +
        "return redis.call('set', 'k', 'v')",
      "0",
    );
    assert.deepEqual(await sub.reply(), ["message", "__keyspace@0__:k", "set"]);
    assert.ok(lines.some((l) => l.includes("from the script")), lines.join());
    assert.ok(!lines.some((l) => l.includes("too quiet")));
  },
});

Deno.test({
  name:
    "a failure of the engine itself is an error reply; a fresh state follows",
  ...opts,
  async fn() {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    await c.call(
      "FUNCTION",
      "LOAD",
      "#!lua name=lib\nredis.register_function('f', function() redis.set_repl(redis.REPL_ALL) return 7 end)",
    );
    const sc = Scripting.of(server.state);
    const host = sc.host as { setRepl(flags: number): void };
    const setRepl = host.setRepl;
    // A host callback that throws: the exception leaves the engine's
    // frames (as a WebAssembly trap would).
    host.setRepl = () => {
      throw new Error("simulated engine failure");
    };
    try {
      assert.equal(
        await c.rawReplies(
          encodeCommand([
            "EVAL",
            "redis.call('set','w','1') redis.set_repl(3) return 1",
            "0",
          ]),
        ),
        "-ERR the Lua engine failed; its state was reset\r\n",
      );
      assert.equal(
        await c.rawReplies(encodeCommand(["FCALL", "f", "0"])),
        "-ERR the Lua engine failed; its state was reset\r\n",
      );
    } finally {
      host.setRepl = setRepl;
    }
    // The write before the failure stays; scripts and functions run again.
    assert.equal(await c.call("GET", "w"), "1");
    assert.equal(await c.call("EVAL", "return 1 + 1", "0"), 2);
    assert.equal(await c.call("FCALL", "f", "0"), 7);
  },
});
