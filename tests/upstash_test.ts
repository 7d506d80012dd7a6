// The Upstash REST API (_upstash.ts) on the dashboard's HTTP port: the npm
// client @upstash/redis unchanged against our server, and each endpoint's
// exact JSON, status codes and headers with raw fetch.

import assert from "node:assert/strict";
import { Redis } from "@upstash/redis";
import { Conn, freePort, has, run, startServer } from "./_helpers.ts";
import { hasRedis, runCase } from "./_compat.ts";
import { RedisServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const TOKEN = "s3cret-token";

async function api(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer({ httpPort: freePort(), ...options });
  return { server, base: `http://127.0.0.1:${server.httpPort}` };
}

/** A request to the API; the body parsed as JSON when it is JSON. */
async function call(
  base: string,
  path: string,
  init: RequestInit & { token?: string | null } = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers; text: string }> {
  const headers = new Headers(init.headers);
  const token = init.token === undefined ? TOKEN : init.token;
  if (token !== null) headers.set("authorization", `Bearer ${token}`);
  const res = await fetch(`${base}${path}`, { ...init, headers });
  const text = await res.text();
  let body: unknown = undefined;
  if ((res.headers.get("content-type") ?? "").includes("json")) {
    body = JSON.parse(text);
  }
  return { status: res.status, body, headers: res.headers, text };
}

const post = (base: string, path: string, body: unknown, init = {}) =>
  call(base, path, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });

/** A raw HTTP/1.1 request (fetch sends its own Host header): the status
 * and the whole response. */
async function rawHttp(
  port: number,
  head: string,
  body = "",
): Promise<{ status: number; text: string }> {
  using c = await Conn.open(port);
  await c.send(
    `${head}\r\nConnection: close\r\nContent-Length: ${
      new TextEncoder().encode(body).length
    }\r\n\r\n${body}`,
  );
  const text = await c.drain(5000);
  return { status: Number(text.split(" ")[1]), text };
}

/** Waits (bounded) until `ok()` holds. */
async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

Deno.test(
  "@upstash/redis: strings, JSON values, hashes, lists, sorted sets",
  opts,
  async () => {
    const { server, base } = await api({ requirepass: TOKEN });
    await using _ = server;
    const redis = new Redis({ url: base, token: TOKEN });
    // The client serializes objects as JSON and parses them back.
    assert.equal(
      await redis.set("user", { name: "Ada", tags: ["x", 1] }),
      "OK",
    );
    assert.deepEqual(await redis.get("user"), { name: "Ada", tags: ["x", 1] });
    assert.equal(server.store.get("user"), '{"name":"Ada","tags":["x",1]}');
    assert.equal(await redis.set("ttl", "v", { ex: 100 }), "OK");
    const ttl = await redis.ttl("ttl");
    assert.ok(ttl > 90 && ttl <= 100, String(ttl));
    assert.equal(await redis.get("missing"), null);
    // Text beyond ASCII goes through the client's base64 decoding.
    assert.equal(await redis.set("text", "héllo ✓ 日本"), "OK");
    assert.equal(await redis.get("text"), "héllo ✓ 日本");
    assert.equal(await redis.incr("n"), 1);
    assert.equal(await redis.incrby("n", 41), 42);
    assert.equal(await redis.type("user"), "string");
    assert.equal(await redis.ping(), "PONG");
    // Hashes.
    assert.equal(await redis.hset("h", { f: "v", g: 2, o: { a: 1 } }), 3);
    assert.deepEqual(await redis.hgetall("h"), { f: "v", g: 2, o: { a: 1 } });
    assert.equal(await redis.hget("h", "f"), "v");
    // Lists.
    assert.equal(await redis.rpush("l", "a", "b", "c"), 3);
    assert.equal(await redis.lpush("l", "z"), 4);
    assert.deepEqual(await redis.lrange("l", 0, -1), ["z", "a", "b", "c"]);
    assert.equal(await redis.lpop("l"), "z");
    assert.equal(await redis.llen("l"), 3);
    // Sorted sets.
    assert.equal(
      await redis.zadd("z", { score: 1, member: "a" }, {
        score: 2.5,
        member: "b",
      }),
      2,
    );
    assert.deepEqual(await redis.zrange("z", 0, -1), ["a", "b"]);
    assert.deepEqual(await redis.zrange("z", 0, -1, { withScores: true }), [
      "a",
      1,
      "b",
      2.5,
    ]);
    assert.equal(await redis.zscore("z", "b"), 2.5);
    assert.deepEqual(
      (await redis.keys("*")).sort(),
      ["h", "l", "n", "text", "ttl", "user", "z"],
    );
    // Without base64 (responseEncoding: false) the same replies.
    const plain = new Redis({
      url: base,
      token: TOKEN,
      responseEncoding: false,
    });
    assert.equal(await plain.get("text"), "héllo ✓ 日本");
    assert.deepEqual(await plain.lrange("l", 0, -1), ["a", "b", "c"]);
  },
);

Deno.test(
  "@upstash/redis: pipelines, transactions, errors, auth failure",
  opts,
  async () => {
    const { server, base } = await api({ requirepass: TOKEN });
    await using _ = server;
    const redis = new Redis({
      url: base,
      token: TOKEN,
      enableAutoPipelining: false,
    });
    const p = redis.pipeline();
    p.set("a", 1).incr("a").get("a").hset("h", { f: { x: 1 } }).hvals("h");
    assert.deepEqual(await p.exec(), ["OK", 2, 2, 1, [{ x: 1 }]]);
    // A failing command in a pipeline: the others ran.
    const q = redis.pipeline();
    q.set("s", "text").incr("s").set("after", "yes");
    const kept = await q.exec({ keepErrors: true });
    assert.deepEqual(kept.map((r) => r.error), [
      undefined,
      "ERR value is not an integer or out of range",
      undefined,
    ]);
    assert.equal(await redis.get("after"), "yes");
    // Transactions: all commands at once, results in order.
    const m = redis.multi();
    m.set("t", "1").incr("t").lpush("tl", "x").get("t");
    assert.deepEqual(await m.exec(), ["OK", 2, 1, 2]);
    // An error while running (WRONGTYPE) does not undo the others (EXEC).
    const bad = redis.multi();
    bad.set("w", "v").lpush("w", "x").set("w2", "v2");
    await assert.rejects(
      () => bad.exec(),
      /Command 2 \[ lpush \] failed: WRONGTYPE Operation against a key holding the wrong kind of value/,
    );
    assert.equal(server.store.get("w2"), "v2");
    // Errors of single commands.
    await assert.rejects(
      () => redis.lpush("w", "x"),
      /WRONGTYPE Operation against a key holding the wrong kind of value/,
    );
    await assert.rejects(
      () => redis.incr("w"),
      /ERR value is not an integer or out of range/,
    );
    // A wrong token.
    const wrong = new Redis({
      url: base,
      token: "wrong",
      retry: false,
      enableAutoPipelining: false,
    });
    await assert.rejects(() => wrong.get("a"), /WRONGPASS/);
    await assert.rejects(() => wrong.set("a", "2"), /WRONGPASS/);
    assert.equal(server.store.get("a"), "2");
  },
);

Deno.test("@upstash/redis: binary values through base64", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  // A value of any bytes, posted as the body of the path form.
  const bytes = new Uint8Array([0xff, 0x00, 0x41, 0xc3, 0x28, 0x0d, 0x0a]);
  const set = await call(base, "/set/bin", { method: "POST", body: bytes });
  assert.deepEqual(set.body, { result: "OK" });
  assert.equal(server.store.get("bin"), String.fromCharCode(...bytes));
  // With Upstash-Encoding: base64, the exact bytes.
  const b64 = await call(base, "/get/bin", {
    headers: { "upstash-encoding": "base64" },
  });
  assert.deepEqual(b64.body, { result: btoa(String.fromCharCode(...bytes)) });
  // Without it, bytes that are not UTF-8 become U+FFFD (as Upstash does).
  const text = await call(base, "/get/bin");
  assert.deepEqual(text.body, { result: "\ufffd\u0000A\ufffd(\r\n" });
  // The client decodes base64 to text: the UTF-8 it can read.
  const redis = new Redis({ url: base, token: TOKEN });
  assert.equal(
    await redis.get("bin"),
    new TextDecoder().decode(bytes),
  );
  // A key of any bytes in the path: percent-decoded to bytes.
  const k = await call(base, "/set/%FE%00k/v%2Fw");
  assert.deepEqual(k.body, { result: "OK" });
  assert.equal(server.store.get("\xfe\x00k"), "v/w");
  const keys = await call(base, "/keys/*", {
    headers: { "upstash-encoding": "base64" },
  });
  assert.deepEqual(
    keys.body.result.map((s: string) => atob(s)).sort(),
    ["bin", "\xfe\x00k"],
  );
});

Deno.test("REST API: exact JSON of each endpoint", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  // POST / with the command as a JSON array.
  let r = await post(base, "/", ["SET", "k", "v", "EX", 100]);
  assert.equal(r.status, 200);
  assert.equal(r.text, '{"result":"OK"}');
  assert.match(r.headers.get("content-type")!, /application\/json/);
  r = await post(base, "/", ["GET", "k"]);
  assert.equal(r.text, '{"result":"v"}');
  r = await post(base, "/", ["GET", "nope"]);
  assert.equal(r.text, '{"result":null}');
  r = await post(base, "/", ["TTL", "k"]);
  assert.equal(r.body.result, 100);
  r = await post(base, "/", ["MGET", "k", "nope"]);
  assert.equal(r.text, '{"result":["v",null]}');
  // Numbers reach the command as written; integers come back exact.
  r = await post(base, "/", '["SET","big",9007199254740993]');
  assert.equal(server.store.get("big"), "9007199254740993");
  r = await post(base, "/", ["INCR", "big"]);
  assert.equal(r.text, '{"result":9007199254740994}');
  r = await post(base, "/", '["ZADD","z",1.50,"a",1e3,"b"]');
  assert.equal(r.text, '{"result":2}');
  r = await post(base, "/", ["ZRANGE", "z", 0, -1, "WITHSCORES"]);
  assert.equal(r.text, '{"result":["a","1.5","b","1000"]}');
  // Booleans as true/false.
  r = await post(base, "/", ["SET", "bool", true]);
  assert.equal(server.store.get("bool"), "true");
  // Nested arrays.
  await post(base, "/", ["XADD", "st", "1-1", "f", "v"]);
  r = await post(base, "/", ["XRANGE", "st", "-", "+"]);
  assert.equal(r.text, '{"result":[["1-1",["f","v"]]]}');
  // An error: status 400 and the server's message.
  r = await post(base, "/", ["LPUSH", "k", "x"]);
  assert.equal(r.status, 400);
  assert.equal(
    r.text,
    '{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"}',
  );
  r = await post(base, "/", ["GET"]);
  assert.equal(r.status, 400);
  assert.deepEqual(r.body, {
    error: "ERR wrong number of arguments for 'get' command",
  });
  // Malformed bodies.
  for (const bad of ["[", "{}", "[]", '[["GET","k"]]', '["GET",null]']) {
    r = await post(base, "/", bad);
    assert.equal(r.status, 400, bad);
    assert.match(r.body.error, /^ERR /, bad);
  }
  // /pipeline: one entry per command, status 200 even with errors.
  r = await post(base, "/pipeline", [
    ["SET", "p", "1"],
    ["INCR", "p"],
    ["NOPE", "x"],
    ["LPUSH", "p", "y"],
    ["GET", "p"],
  ]);
  assert.equal(r.status, 200);
  assert.equal(
    r.text,
    '[{"result":"OK"},{"result":2},' +
      `{"error":"ERR unknown command 'NOPE', with args beginning with: 'x' "},` +
      '{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"},' +
      '{"result":"2"}]',
  );
  // A SELECT in a pipeline picks the database for the rest of it only.
  r = await post(base, "/pipeline", [
    ["SELECT", 3],
    ["SET", "in3", "x"],
  ]);
  assert.equal(r.text, '[{"result":"OK"},{"result":"OK"}]');
  assert.equal(server.db(3).get("in3"), "x");
  r = await post(base, "/", ["EXISTS", "in3"]);
  assert.equal(r.text, '{"result":0}');
  // /multi-exec: EXEC's replies, each in its place.
  r = await post(base, "/multi-exec", [
    ["SET", "m", "1"],
    ["INCR", "m"],
    ["LPUSH", "m", "x"],
    ["GET", "m"],
  ]);
  assert.equal(r.status, 200);
  assert.equal(
    r.text,
    '[{"result":"OK"},{"result":2},' +
      '{"error":"WRONGTYPE Operation against a key holding the wrong kind of value"},' +
      '{"result":"2"}]',
  );
  // A command refused while queuing discards the whole transaction.
  r = await post(base, "/multi-exec", [["SET", "m", "9"], ["GET"]]);
  assert.equal(r.status, 400);
  assert.equal(
    r.body.error,
    "EXECABORT Transaction discarded because of previous errors. " +
      "(command 2: ERR wrong number of arguments for 'get' command)",
  );
  assert.equal(server.store.get("m"), "2");
  r = await post(base, "/multi-exec", [["SET", "m", "9"], ["BLPOP", "q", 0]]);
  assert.equal(r.status, 400);
  assert.match(r.body.error, /BLPOP is not supported.*nothing ran/);
  assert.equal(server.store.get("m"), "2");
  for (const path of ["/pipeline", "/multi-exec"]) {
    r = await post(base, path, []);
    assert.equal(r.status, 400, path);
    r = await call(base, path);
    assert.equal(r.status, 405, path);
  }
});

Deno.test("REST API: the path form, its body and query", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  let r = await call(base, "/set/foo/bar");
  assert.deepEqual(r.body, { result: "OK" });
  r = await call(base, "/GET/foo");
  assert.equal(r.text, '{"result":"bar"}');
  r = await call(base, "/set/a%20b/c%2Bd+e");
  assert.equal(server.store.get("a b"), "c+d+e");
  // The body is the last argument, the query adds name/value pairs.
  r = await call(base, "/set/json?EX=100", {
    method: "POST",
    body: '{"a": [1, 2]}',
  });
  assert.deepEqual(r.body, { result: "OK" });
  assert.equal(server.store.get("json"), '{"a": [1, 2]}');
  r = await call(base, "/ttl/json");
  assert.equal(r.body.result, 100);
  // A parameter without a value adds its name alone.
  r = await call(base, "/set/json?NX", { method: "POST", body: "other" });
  assert.deepEqual(r.body, { result: null });
  // PUT as POST; an empty body adds nothing.
  r = await call(base, "/dbsize", { method: "PUT" });
  assert.equal(r.body.result, 3);
  r = await call(base, "/zadd/teams/100/team-x/90/team-y");
  assert.equal(r.body.result, 2);
  r = await call(base, "/zrange/teams/0/-1");
  assert.deepEqual(r.body.result, ["team-y", "team-x"]);
  // Errors: 400.
  r = await call(base, "/nosuch/x");
  assert.equal(r.status, 400);
  assert.equal(
    r.body.error,
    "ERR unknown command 'nosuch', with args beginning with: 'x' ",
  );
  // The token as a query parameter (not an argument).
  r = await call(base, `/get/foo?_token=${TOKEN}`, { token: null });
  assert.deepEqual(r.body, { result: "bar" });
  // HEAD runs the command and sends no body.
  const head = await fetch(`${base}/exists/foo`, {
    method: "HEAD",
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  // Methods other than GET, HEAD, POST, PUT (and OPTIONS): 405.
  r = await call(base, "/get/foo", { method: "DELETE" });
  assert.equal(r.status, 405);
  assert.match(r.headers.get("allow")!, /POST/);
});

Deno.test("REST API: base64 and RESP2 responses", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  const b64 = { headers: { "upstash-encoding": "base64" } };
  let r = await post(base, "/", ["SET", "k", "bar"], b64);
  assert.equal(r.text, '{"result":"OK"}'); // OK is not encoded
  r = await post(base, "/", ["GET", "k"], b64);
  assert.equal(r.text, '{"result":"YmFy"}');
  r = await post(base, "/", ["PING"], b64);
  assert.equal(r.text, `{"result":"${btoa("PONG")}"}`);
  r = await post(base, "/", ["RPUSH", "l", "OK", "x"], b64);
  assert.equal(r.text, '{"result":2}'); // numbers stay numbers
  r = await post(base, "/", ["LRANGE", "l", 0, -1], b64);
  assert.equal(r.text, `{"result":["${btoa("OK")}","${btoa("x")}"]}`);
  r = await post(base, "/", ["GET", "none"], b64);
  assert.equal(r.text, '{"result":null}');
  r = await post(base, "/pipeline", [["SET", "a", "1"], ["GET", "a"]], b64);
  assert.equal(r.text, `[{"result":"OK"},{"result":"${btoa("1")}"}]`);
  r = await post(base, "/", ["LPUSH", "k", "x"], b64);
  assert.equal(r.status, 400); // errors are not encoded
  assert.match(r.body.error, /^WRONGTYPE/);
  // RESP2 bytes.
  const resp2 = { headers: { "upstash-response-format": "resp2" } };
  r = await post(base, "/", ["GET", "k"], resp2);
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "application/octet-stream");
  assert.equal(r.text, "$3\r\nbar\r\n");
  r = await post(base, "/pipeline", [["INCR", "n"], ["GET", "k"]], resp2);
  assert.equal(r.text, ":1\r\n$3\r\nbar\r\n");
  r = await post(base, "/", ["GET", "k"], {
    headers: {
      "upstash-response-format": "resp2",
      "upstash-encoding": "base64",
    },
  });
  assert.equal(r.status, 400);
  r = await post(base, "/", ["GET", "k"], {
    headers: { "upstash-response-format": "xml" },
  });
  assert.equal(r.status, 400);
});

Deno.test(
  "REST API: RESP2 replies as redis-server gives them",
  { ...opts, ignore: !hasRedis },
  async () => {
    await using redis = await RedisServer.start();
    const { server, base } = await api({ requirepass: TOKEN });
    await using _ = server;
    const cmds = [
      ["FLUSHALL"],
      ["SET", "s", "héllo"],
      ["APPEND", "s", "!"],
      ["GETRANGE", "s", "0", "2"],
      ["HSET", "h", "f", "1", "g", "2"],
      ["HINCRBYFLOAT", "h", "f", "1.5"],
      ["ZADD", "z", "1", "a", "2", "b"],
      ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
      ["XADD", "x", "5-1", "k", "v"],
      ["XRANGE", "x", "-", "+"],
      ["LPUSH", "s", "x"],
      ["OBJECT", "ENCODING", "h"],
      ["TYPE", "z"],
      ["SETRANGE", "bits", "0", "\x7f"],
      ["BITCOUNT", "bits"],
      ["EVAL", "return {1, 'two', {3}, redis.status_reply('OK')}", "0"],
    ];
    const expected = (await runCase(redis.port, cmds, 2)).join("");
    const r = await post(base, "/pipeline", cmds, {
      headers: { "upstash-response-format": "resp2" },
    });
    assert.equal(r.text, expected);
  },
);

Deno.test("REST API: refused commands do not hang", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  const refused: [unknown[], RegExp][] = [
    [["BLPOP", "q", 0], /BLPOP is not supported/],
    [["BZPOPMIN", "q", 0], /BZPOPMIN is not supported/],
    [["XREAD", "BLOCK", 0, "STREAMS", "s", "$"], /XREAD with BLOCK/],
    [["SUBSCRIBE", "c"], /use the \/subscribe/],
    [["MONITOR"], /use the \/monitor/],
    [["MULTI"], /\/multi-exec/],
    [["WATCH", "k"], /\/multi-exec/],
    [["HELLO", 3], /RESP2 only/],
    [["CLIENT", "TRACKING", "on"], /CLIENT TRACKING/],
  ];
  for (const [cmd, error] of refused) {
    const r = await post(base, "/", cmd);
    assert.equal(r.status, 400, JSON.stringify(cmd));
    assert.match(r.body.error, error);
  }
  // XREAD without BLOCK runs; a stream named "block" is no option.
  await post(base, "/", ["XADD", "block", "1-1", "f", "v"]);
  const r = await post(base, "/", ["XREAD", "STREAMS", "block", "0"]);
  assert.deepEqual(r.body, { result: [["block", [["1-1", ["f", "v"]]]]] });
  const ps = await post(base, "/pipeline", [["BRPOP", "q", 1], ["PING"]]);
  assert.equal(ps.body[1].result, "PONG");
  assert.match(ps.body[0].error, /BRPOP is not supported/);
  assert.equal(server.pubsub.channelCount, 0);
});

Deno.test(
  "REST API: writes are logged, notified and wake blocked clients",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-upstash-" });
    try {
      {
        const { server, base } = await api({
          requirepass: TOKEN,
          dir,
          appendonly: true,
          appendfsync: "always",
        });
        await using _ = server;
        using sub = await Conn.open(server.port);
        using blocked = await Conn.open(server.port);
        for (const c of [sub, blocked]) await c.call("AUTH", TOKEN);
        await sub.call("CONFIG", "SET", "notify-keyspace-events", "KEA");
        await sub.call("SUBSCRIBE", "__keyevent@0__:set");
        await blocked.send("*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n");
        const redis = new Redis({ url: base, token: TOKEN });
        assert.equal(await redis.set("logged", "yes"), "OK");
        assert.deepEqual(await sub.reply(), [
          "message",
          "__keyevent@0__:set",
          "logged",
        ]);
        await until(
          () =>
            [...server.state.clients.values()].some((c) => c.blocked != null),
          "BLPOP to block",
        );
        assert.equal(await redis.rpush("q", "job"), 1);
        assert.deepEqual(await blocked.reply(), ["q", "job"]);
        const m = redis.multi();
        m.set("tx1", "a").set("tx2", "b");
        await m.exec();
      }
      // The append-only file replays the API's writes (and the pop).
      const { server } = await api({
        requirepass: TOKEN,
        dir,
        appendonly: true,
      });
      await using _ = server;
      assert.equal(server.store.get("logged"), "yes");
      assert.equal(server.store.get("tx1"), "a");
      assert.equal(server.store.get("tx2"), "b");
      assert.equal(server.store.value("q"), undefined);
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test("REST API: auth, 401s and CORS", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  let r = await call(base, "/get/k", { token: null });
  assert.equal(r.status, 401);
  assert.match(r.body.error, /^Unauthorized/);
  assert.equal(r.headers.get("www-authenticate"), "Bearer");
  r = await call(base, "/get/k", { token: "nope" });
  assert.equal(r.status, 401);
  assert.deepEqual(r.body, {
    error: "WRONGPASS invalid username-password pair or user is disabled.",
  });
  r = await post(base, "/", ["SET", "k", "v"], { token: "nope" });
  assert.equal(r.status, 401);
  assert.equal(server.store.get("k"), undefined);
  r = await call(base, "/get/k?_token=nope", { token: null });
  assert.equal(r.status, 401);
  // CORS: open to every origin, as Upstash.
  r = await call(base, "/", {
    method: "OPTIONS",
    token: null,
    headers: {
      origin: "https://app.example",
      "access-control-request-method": "POST",
      "access-control-request-headers":
        "authorization,content-type,upstash-encoding",
    },
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  assert.match(r.headers.get("access-control-allow-methods")!, /POST/);
  assert.equal(
    r.headers.get("access-control-allow-headers"),
    "authorization,content-type,upstash-encoding",
  );
  r = await post(base, "/", ["PING"], {
    headers: { origin: "https://app.example" },
  });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  // With a password any Host name will do (the token is the guard).
  const named = await rawHttp(
    server.httpPort,
    `POST / HTTP/1.1\r\nHost: redis.internal.example\r\n` +
      `Authorization: Bearer ${TOKEN}`,
    '["ECHO","hi"]',
  );
  assert.equal(named.status, 200);
  assert.match(named.text, /\{"result":"hi"\}$/);
  // The dashboard is still the dashboard.
  const page = await fetch(`${base}/`);
  assert.match(await page.text(), /<title>@kv\/store dashboard<\/title>/);
  const session = await (await fetch(`${base}/api/session`)).json();
  assert.equal(session.passwordRequired, true);
});

Deno.test(
  "REST API: no password, loopback only and no cross-site browsers",
  opts,
  async () => {
    const { server, base } = await api();
    await using _ = server;
    // Any token, or none.
    const redis = new Redis({ url: base, token: "anything" });
    assert.equal(await redis.set("k", "v"), "OK");
    let r = await call(base, "/get/k", { token: null });
    assert.deepEqual(r.body, { result: "v" });
    // A page of this very server may call it.
    r = await post(base, "/", ["GET", "k"], {
      token: null,
      headers: { origin: base, "sec-fetch-site": "same-origin" },
    });
    assert.equal(r.status, 200);
    // Other sites may not (a foreign Origin, or Sec-Fetch-Site), and get no
    // CORS approval.
    for (
      const headers of <Record<string, string>[]> [
        { origin: "http://evil.example" },
        { origin: `http://localhost:${server.httpPort + 1}` },
        { "sec-fetch-site": "cross-site" },
        { "sec-fetch-site": "same-site" },
      ]
    ) {
      r = await call(base, "/del/k", { token: null, headers });
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.equal(r.headers.get("access-control-allow-origin"), null);
    }
    r = await call(base, "/", {
      method: "OPTIONS",
      token: null,
      headers: {
        origin: "http://evil.example",
        "access-control-request-method": "POST",
      },
    });
    assert.equal(r.status, 403);
    assert.equal(r.headers.get("access-control-allow-origin"), null);
    // DNS rebinding: a foreign Host name.
    const rebound = await rawHttp(
      server.httpPort,
      `POST / HTTP/1.1\r\nHost: evil.example:${server.httpPort}\r\n` +
        `Origin: http://evil.example:${server.httpPort}`,
      '["DEL","k"]',
    );
    assert.equal(rebound.status, 421);
    const local = await rawHttp(
      server.httpPort,
      `GET /get/k HTTP/1.1\r\nHost: localhost:${server.httpPort}`,
    );
    assert.equal(local.status, 200);
    assert.equal(server.store.get("k"), "v");
    // Bound beyond loopback with no password: off.
    const open = await startServer({ host: "0.0.0.0", httpPort: freePort() });
    try {
      const o = await post(`http://127.0.0.1:${open.httpPort}`, "/", ["PING"]);
      assert.equal(o.status, 403);
      assert.match(o.body.error, /no password/);
    } finally {
      await open.close();
    }
  },
);

Deno.test("REST API: subscribe and monitor event streams", opts, async () => {
  const { server, base } = await api({ requirepass: TOKEN });
  await using _ = server;
  const redis = new Redis({ url: base, token: TOKEN });
  const got: unknown[] = [];
  const sub = redis.subscribe(["chat"]);
  sub.on("subscribe", (n) => got.push(["subscribe", n]));
  sub.on("message", (m) => got.push(m));
  await until(
    () => server.pubsub.subscribers("channels", "chat") === 1,
    "the subscription",
  );
  assert.equal(await redis.publish("chat", { hi: 1 }), 1);
  assert.equal(await redis.publish("chat", "plain"), 1);
  await until(() => got.length === 3, "the messages");
  assert.deepEqual(got, [
    ["subscribe", 1],
    { channel: "chat", message: { hi: 1 } },
    { channel: "chat", message: "plain" },
  ]);
  await sub.unsubscribe();
  await until(
    () => server.pubsub.subscribers("channels", "chat") === 0,
    "the unsubscription",
  );
  // Patterns, raw: the exact events.
  const ps = await fetch(`${base}/psubscribe/news.*`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}`, accept: "text/event-stream" },
  });
  assert.equal(ps.headers.get("content-type"), "text/event-stream");
  const reader = ps.body!.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const read = async (want: string) => {
    while (!text.includes(want)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended before ${want}: ${text}`);
      text += value;
    }
  };
  await read("\n\n");
  assert.equal(server.pubsub.patternCount, 1);
  using pub = await Conn.open(server.port);
  await pub.call("AUTH", TOKEN);
  assert.equal(await pub.call("PUBLISH", "news.today", "two\nlines"), 1);
  await read("lines\n\n");
  assert.equal(
    text,
    "data: psubscribe,news.*,1\n\n" +
      "data: pmessage,news.*,news.today,two\ndata: lines\n\n",
  );
  await reader.cancel();
  await until(() => server.pubsub.patternCount === 0, "the stream's end");
  // MONITOR: "OK", then the commands of TCP clients.
  const mon = await fetch(`${base}/monitor`, {
    method: "POST",
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  const m = mon.body!.pipeThrough(new TextDecoderStream()).getReader();
  text = "";
  const readM = async (want: RegExp) => {
    while (!want.test(text)) {
      const { value, done } = await m.read();
      if (done) throw new Error(`stream ended: ${text}`);
      text += value;
    }
  };
  await readM(/^data: "OK"\n\n/);
  await pub.call("GET", "watched");
  await readM(/data: \d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "GET" "watched"\n\n/);
  // Closing the server ends the stream.
  await server.close();
  while (!(await m.read()).done) {
    // drain until the end
  }
});

Deno.test({
  name: "REST API: the README's curl commands",
  ignore: !has("curl"),
  ...opts,
  async fn() {
    await using server = await startServer({
      requirepass: "s3cret",
      httpPort: freePort(),
    });
    const base = `http://127.0.0.1:${server.httpPort}`;
    const auth = ["-H", "Authorization: Bearer s3cret"];
    const curl = async (...args: string[]) => {
      const r = await run("curl", ["-s", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(await curl(`${base}/set/foo/bar`, ...auth), '{"result":"OK"}');
    assert.equal(
      await curl(base, ...auth, "-d", '["GET","foo"]'),
      '{"result":"bar"}',
    );
    assert.equal(
      await curl(
        `${base}/pipeline`,
        ...auth,
        "-d",
        '[["INCR","n"],["GET","n"]]',
      ),
      '[{"result":1},{"result":"1"}]',
    );
    assert.equal(
      await curl(
        `${base}/multi-exec`,
        ...auth,
        "-d",
        '[["SET","a","1"],["INCR","a"]]',
      ),
      '[{"result":"OK"},{"result":2}]',
    );
    // No token: 401.
    assert.equal(
      await curl("-o", "/dev/null", "-w", "%{http_code}", `${base}/get/foo`),
      "401",
    );
    // What curl wrote is what a TCP client reads.
    using c = await Conn.open(server.port);
    await c.call("AUTH", "s3cret");
    assert.deepEqual(await c.call("MGET", "foo", "n", "a"), ["bar", "1", "2"]);
  },
});
