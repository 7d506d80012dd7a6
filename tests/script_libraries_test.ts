// Scripts as libraries ship them, run unchanged through ioredis
// (defineCommand) and node-redis (defineScript): the Redlock release script,
// the clients' EVALSHA-then-EVAL fallback after SCRIPT FLUSH, and rate
// limiter scripts of the kind rate-limiter-flexible uses. Each runs against
// our server and against redis-server with the same expectations.

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { Redis } from "ioredis";
import { createClient, defineScript } from "redis";
import { has, RedisServer, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

interface Target {
  port: number;
  stop(): Promise<void>;
}

const TARGETS: [string, () => Promise<Target>][] = [
  ["@kv/store", async () => {
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

/** Redlock's release: delete the lock only if it still holds our token. */
const RELEASE =
  'if redis.call("get",KEYS[1]) == ARGV[1] then return redis.call("del",KEYS[1]) else return 0 end';

/** A fixed-window counter: INCR, PEXPIRE on the first hit, {count, pttl}. */
const FIXED_WINDOW = `local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}`;

/** rate-limiter-flexible's RedisStore script (consume ARGV[1] points in a
 * window of ARGV[2] seconds). */
const RLFLX_INCR =
  `local ok = redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX')
local consumed = redis.call('incrby', KEYS[1], ARGV[1])
local ttl = redis.call('pttl', KEYS[1])
if ttl == -1 then
  redis.call('expire', KEYS[1], ARGV[2])
  ttl = 1000 * ARGV[2]
end
return {consumed, ttl}`;

// node-redlock 5's scripts: locks on several keys at once (any number of
// KEYS), ARGV[1] the lock's value, ARGV[2] its duration in ms.
const REDLOCK_ACQUIRE = `-- Return 0 if an entry already exists.
for i, key in ipairs(KEYS) do
  if redis.call("exists", key) == 1 then
    return 0
  end
end

-- Create an entry for each provided key.
for i, key in ipairs(KEYS) do
  redis.call("set", key, ARGV[1], "PX", ARGV[2])
end

-- Return the number of entries added.
return #KEYS`;

const REDLOCK_EXTEND =
  `-- Return 0 if an entry exists with a *different* lock value.
for i, key in ipairs(KEYS) do
  if redis.call("get", key) ~= ARGV[1] then
    return 0
  end
end

-- Update the entry for each provided key.
for i, key in ipairs(KEYS) do
  redis.call("set", key, ARGV[1], "PX", ARGV[2])
end

-- Return the number of entries updated.
return #KEYS`;

const REDLOCK_RELEASE = `local count = 0
for i, key in ipairs(KEYS) do
  -- Only remove entries for *this* lock value.
  if redis.call("get", key) == ARGV[1] then
    redis.pcall("del", key)
    count = count + 1
  end
end

-- Return the number of entries removed.
return count`;

/** A function library: the lock as functions, one of them read-only. */
const LOCK_LIBRARY = `#!lua name=locks
local function acquire(keys, args)
  return redis.call('SET', keys[1], args[1], 'PX', args[2], 'NX') and 1 or 0
end
local function release(keys, args)
  if redis.call('GET', keys[1]) == args[1] then
    return redis.call('DEL', keys[1])
  end
  return 0
end
local function owner(keys, args)
  return redis.call('GET', keys[1])
end
redis.register_function('lock_acquire', acquire)
redis.register_function('lock_release', release)
redis.register_function{
  function_name = 'lock_owner',
  callback = owner,
  flags = {'no-writes'},
  description = 'who holds the lock',
}`;

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(text),
  );
  return Array.from(new Uint8Array(digest))
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ScriptCommands {
  releaseLock(key: string, token: string): Promise<number>;
  fixedWindow(key: string, windowMs: number): Promise<[number, number]>;
  rlflxIncr(
    key: string,
    points: number,
    seconds: number,
  ): Promise<[number, number]>;
  /** node-redlock's scripts: number of keys, the keys, value, ms. */
  redlockAcquire(...args: (string | number)[]): Promise<number>;
  redlockExtend(...args: (string | number)[]): Promise<number>;
  redlockRelease(...args: (string | number)[]): Promise<number>;
}

/** ioredis's pipeline() and multi() with the commands defined here. */
interface ScriptBatch {
  releaseLock(key: string, token: string): ScriptBatch;
  exists(key: string): ScriptBatch;
  get(key: string): ScriptBatch;
  exec(): Promise<[Error | null, unknown][] | null>;
}

function ioredis(port: number): Redis & ScriptCommands {
  const redis = new Redis({
    port,
    host: "127.0.0.1",
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 5000,
    commandTimeout: 5000,
  });
  redis.on("error", () => {});
  redis.defineCommand("releaseLock", { numberOfKeys: 1, lua: RELEASE });
  redis.defineCommand("fixedWindow", { numberOfKeys: 1, lua: FIXED_WINDOW });
  redis.defineCommand("rlflxIncr", { numberOfKeys: 1, lua: RLFLX_INCR });
  redis.defineCommand("redlockAcquire", { lua: REDLOCK_ACQUIRE });
  redis.defineCommand("redlockExtend", { lua: REDLOCK_EXTEND });
  redis.defineCommand("redlockRelease", { lua: REDLOCK_RELEASE });
  return redis as Redis & ScriptCommands;
}

/** `calls` and `failed_calls` of each command in INFO commandstats. */
function commandStats(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split("\r\n")) {
    const m = /^cmdstat_([^:]+):calls=(\d+),.*failed_calls=(\d+)/.exec(line);
    if (m) out[m[1]] = `calls=${m[2]},failed=${m[3]}`;
  }
  return out;
}

function nodeRedis(port: number) {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    socket: { connectTimeout: 5000, reconnectStrategy: false },
    scripts: {
      releaseLock: defineScript({
        NUMBER_OF_KEYS: 1,
        SCRIPT: RELEASE,
        transformArguments(key: string, token: string): string[] {
          return [key, token];
        },
        transformReply(reply: number): number {
          return reply;
        },
      }),
      fixedWindow: defineScript({
        NUMBER_OF_KEYS: 1,
        SCRIPT: FIXED_WINDOW,
        transformArguments(key: string, windowMs: number): string[] {
          return [key, String(windowMs)];
        },
        transformReply(reply: [number, number]): [number, number] {
          return reply;
        },
      }),
    },
    functions: {
      locks: {
        lock_acquire: {
          NUMBER_OF_KEYS: 1,
          transformArguments(key: string, token: string, ms: number) {
            return [key, token, String(ms)];
          },
          transformReply(reply: number): number {
            return reply;
          },
        },
        lock_release: {
          NUMBER_OF_KEYS: 1,
          transformArguments(key: string, token: string) {
            return [key, token];
          },
          transformReply(reply: number): number {
            return reply;
          },
        },
        lock_owner: {
          NUMBER_OF_KEYS: 1,
          IS_READ_ONLY: true,
          transformArguments(key: string) {
            return [key];
          },
          transformReply(reply: string | null): string | null {
            return reply;
          },
        },
      },
    },
  });
  client.on("error", () => {});
  return client;
}

for (const [name, start] of TARGETS) {
  Deno.test(
    `scripts (${name}): ioredis defineCommand, Redlock release`,
    opts,
    async () => {
      const target = await start();
      const redis = ioredis(target.port);
      try {
        await redis.connect();
        const token = crypto.randomUUID();
        assert.equal(await redis.set("lock", token, "PX", 10_000, "NX"), "OK");
        assert.equal(
          await redis.set("lock", "other", "PX", 10_000, "NX"),
          null,
        );
        const pttl = await redis.pttl("lock");
        assert.ok(pttl > 0 && pttl <= 10_000, `pttl ${pttl}`);

        // A wrong token leaves the lock alone.
        assert.equal(await redis.releaseLock("lock", "not-the-token"), 0);
        assert.equal(await redis.get("lock"), token);
        // The right one releases it, once.
        assert.equal(await redis.releaseLock("lock", token), 1);
        assert.equal(await redis.exists("lock"), 0);
        assert.equal(await redis.releaseLock("lock", token), 0);
        // Free again: someone else can take it.
        assert.equal(await redis.set("lock", "next", "PX", 10_000, "NX"), "OK");
        assert.equal(await redis.releaseLock("lock", token), 0);
        assert.equal(await redis.releaseLock("lock", "next"), 1);

        // The script is in the cache under its SHA1, as the client computed.
        const sha = await sha1(RELEASE);
        assert.deepEqual(await redis.script("EXISTS", sha), [1]);
        assert.equal(await redis.script("LOAD", RELEASE), sha);
        assert.equal(
          await redis.evalsha(sha, 1, "lock", "x"),
          0,
        );
        assert.equal(
          await redis.eval(RELEASE, 1, "lock", "x"),
          0,
        );
        // A lock on a key of another type: GET fails inside the script.
        await redis.rpush("list", "a");
        await assert.rejects(
          redis.releaseLock("list", token),
          (e: Error) => {
            assert.equal(
              e.message,
              "WRONGTYPE Operation against a key holding the wrong kind of " +
                `value script: ${sha}, on @user_script:1.`,
            );
            return true;
          },
        );
      } finally {
        redis.disconnect();
        await target.stop();
      }
    },
  );

  Deno.test(
    `scripts (${name}): ioredis falls back from EVALSHA to EVAL after SCRIPT FLUSH`,
    opts,
    async () => {
      const target = await start();
      const redis = ioredis(target.port);
      try {
        await redis.connect();
        const sha = await sha1(RELEASE);
        await redis.set("lock", "t1");
        assert.equal(await redis.releaseLock("lock", "t1"), 1);
        assert.deepEqual(await redis.script("EXISTS", sha), [1]);

        assert.equal(await redis.script("FLUSH"), "OK");
        assert.deepEqual(await redis.script("EXISTS", sha), [0]);
        await assert.rejects(
          redis.evalsha(sha, 1, "lock", "t1"),
          (e: Error) => {
            assert.equal(
              e.message,
              "NOSCRIPT No matching script. Please use EVAL.",
            );
            return true;
          },
        );

        // ioredis sends EVALSHA (known on this socket), gets NOSCRIPT, and
        // sends EVAL: the call still works.
        assert.equal(await redis.config("RESETSTAT"), "OK");
        await redis.set("lock", "t2");
        assert.equal(await redis.releaseLock("lock", "t2"), 1);
        const stats = commandStats(await redis.info("commandstats"));
        assert.equal(stats.evalsha, "calls=1,failed=1");
        assert.equal(stats.eval, "calls=1,failed=0");
        assert.deepEqual(await redis.script("EXISTS", sha), [1]);
        // and the next call is an EVALSHA that works.
        assert.equal(await redis.releaseLock("lock", "t2"), 0);
        const after = commandStats(await redis.info("commandstats"));
        assert.equal(after.evalsha, "calls=2,failed=1");
        assert.equal(after.eval, "calls=1,failed=0");

        // The same in a pipeline and in MULTI after another flush.
        assert.equal(await redis.script("FLUSH", "SYNC"), "OK");
        await redis.set("lock", "t3");
        // (ioredis sends the EVALs that replace NOSCRIPT EVALSHAs outside
        // the pipeline, after the EXISTS: it still sees the lock.)
        const piped = await (redis.pipeline() as unknown as ScriptBatch)
          .releaseLock("lock", "wrong")
          .releaseLock("lock", "t3")
          .exists("lock")
          .exec();
        assert.deepEqual(piped, [[null, 0], [null, 1], [null, 1]]);
        assert.equal(await redis.exists("lock"), 0);
        assert.equal(await redis.script("FLUSH", "ASYNC"), "OK");
        await redis.set("lock", "t4");
        const tx = await (redis.multi() as unknown as ScriptBatch)
          .releaseLock("lock", "t4")
          .get("lock")
          .exec();
        // In MULTI ioredis cannot fall back (EVALSHA is queued, NOSCRIPT
        // comes back in EXEC's reply): the error is in its place and the
        // rest of the transaction runs, as with Redis.
        assert.equal(tx?.length, 2);
        assert.equal(
          (tx![0][0] as Error).message,
          "NOSCRIPT No matching script. Please use EVAL.",
        );
        assert.deepEqual(tx![1], [null, "t4"]);
        // Outside MULTI the next call falls back again.
        assert.equal(await redis.releaseLock("lock", "t4"), 1);
      } finally {
        redis.disconnect();
        await target.stop();
      }
    },
  );

  Deno.test(
    `scripts (${name}): node-redis defineScript, Redlock release and EVAL fallback`,
    opts,
    async () => {
      const target = await start();
      const client = nodeRedis(target.port);
      try {
        await client.connect();
        const sha = await sha1(RELEASE);
        const token = crypto.randomUUID();
        assert.equal(
          await client.set("lock", token, { PX: 10_000, NX: true }),
          "OK",
        );
        assert.equal(
          await client.set("lock", "other", { PX: 10_000, NX: true }),
          null,
        );
        // First call: EVALSHA fails with NOSCRIPT, node-redis sends EVAL.
        assert.equal(await client.configResetStat(), "OK");
        assert.equal(await client.releaseLock("lock", "wrong"), 0);
        assert.equal(await client.get("lock"), token);
        let stats = commandStats(await client.info("commandstats"));
        assert.equal(stats.evalsha, "calls=1,failed=1");
        assert.equal(stats.eval, "calls=1,failed=0");
        assert.deepEqual(await client.scriptExists(sha), [true]);

        assert.equal(await client.releaseLock("lock", token), 1);
        assert.equal(await client.exists("lock"), 0);
        assert.equal(await client.releaseLock("lock", token), 0);
        stats = commandStats(await client.info("commandstats"));
        assert.equal(stats.evalsha, "calls=3,failed=1");
        assert.equal(stats.eval, "calls=1,failed=0");

        // After SCRIPT FLUSH the next call still works.
        assert.equal(await client.scriptFlush(), "OK");
        assert.deepEqual(await client.scriptExists(sha), [false]);
        await client.set("lock", "t2", { PX: 10_000, NX: true });
        assert.equal(await client.releaseLock("lock", "t2"), 1);
        stats = commandStats(await client.info("commandstats"));
        assert.equal(stats.evalsha, "calls=4,failed=2");
        assert.equal(stats.eval, "calls=2,failed=0");
        assert.deepEqual(await client.scriptExists(sha), [true]);

        // In MULTI node-redis sends EVAL for a script's first use in the
        // transaction, EVALSHA after: the EVAL queued first loads it for the
        // EVALSHA behind it, after a flush too.
        assert.equal(await client.scriptFlush(), "OK");
        await client.set("lock", "t3");
        assert.equal(await client.configResetStat(), "OK");
        assert.deepEqual(
          await client.multi()
            .releaseLock("lock", "wrong")
            .releaseLock("lock", "t3")
            .get("lock")
            .exec(),
          [0, 1, null],
        );
        stats = commandStats(await client.info("commandstats"));
        assert.equal(stats.evalsha, "calls=1,failed=0");
        assert.equal(stats.eval, "calls=1,failed=0");
        assert.equal(stats.exec, "calls=1,failed=0");
      } finally {
        await client.disconnect().catch(() => {});
        await target.stop();
      }
    },
  );

  Deno.test(
    `scripts (${name}): rate limiter scripts (INCR + PEXPIRE, rate-limiter-flexible)`,
    opts,
    async () => {
      const target = await start();
      const redis = ioredis(target.port);
      const client = nodeRedis(target.port);
      try {
        await redis.connect();
        await client.connect();
        const WINDOW = 300;
        for (let i = 1; i <= 5; i++) {
          const [count, pttl] = i % 2
            ? await redis.fixedWindow("rl:a", WINDOW)
            : await client.fixedWindow("rl:a", WINDOW);
          assert.equal(count, i);
          assert.ok(pttl > 0 && pttl <= WINDOW, `pttl ${pttl}`);
        }
        assert.equal(await redis.get("rl:a"), "5");
        // The window ends with the key; the count starts again at 1.
        for (let i = 0; i < 100 && await redis.exists("rl:a"); i++) {
          await sleep(20);
        }
        assert.equal(await redis.exists("rl:a"), 0);
        const [count, pttl] = await client.fixedWindow("rl:a", WINDOW);
        assert.equal(count, 1);
        assert.ok(pttl > 0 && pttl <= WINDOW, `pttl ${pttl}`);

        // rate-limiter-flexible: SET NX EX, INCRBY, PTTL; EXPIRE if the key
        // had none (1000 * ARGV[2] is a Lua number, returned as an integer).
        const r1 = await redis.rlflxIncr("rl:b", 2, 60);
        assert.equal(r1[0], 2);
        assert.ok(r1[1] > 59_000 && r1[1] <= 60_000, `pttl ${r1[1]}`);
        const r2 = await redis.rlflxIncr("rl:b", 3, 60);
        assert.equal(r2[0], 5);
        assert.ok(r2[1] > 59_000 && r2[1] <= 60_000, `pttl ${r2[1]}`);
        await redis.set("rl:c", "7"); // a counter that lost its TTL
        assert.deepEqual(await redis.rlflxIncr("rl:c", 1, 30), [8, 30_000]);
        const ttl = await redis.pttl("rl:c");
        assert.ok(ttl > 29_000 && ttl <= 30_000, `pttl ${ttl}`);
        // Fractional points: INCRBY refuses them inside the script.
        await assert.rejects(
          redis.rlflxIncr("rl:d", 1.5, 60),
          (e: Error) => {
            assert.match(
              e.message,
              /^ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:2\.$/,
            );
            return true;
          },
        );
        // The SET NX ran before the failing INCRBY: no rollback in Lua.
        assert.equal(await redis.get("rl:d"), "0");
      } finally {
        redis.disconnect();
        await client.disconnect().catch(() => {});
        await target.stop();
      }
    },
  );
  Deno.test(
    `scripts (${name}): node-redlock's multi-key acquire, extend and release`,
    opts,
    async () => {
      const target = await start();
      const redis = ioredis(target.port);
      try {
        await redis.connect();
        const keys = ["{r}a", "{r}b", "{r}c"];
        const acquireSha = await sha1(REDLOCK_ACQUIRE);
        assert.equal(await redis.redlockAcquire(3, ...keys, "v1", 10_000), 3);
        assert.deepEqual(await redis.mget(...keys), ["v1", "v1", "v1"]);
        // Any key held: no entry created.
        assert.equal(
          await redis.redlockAcquire(2, "{r}c", "{r}d", "v2", 10_000),
          0,
        );
        assert.equal(await redis.exists("{r}d"), 0);
        // Extend with the right value only.
        assert.equal(await redis.redlockExtend(3, ...keys, "v2", 60_000), 0);
        assert.equal(await redis.redlockExtend(3, ...keys, "v1", 60_000), 3);
        for (const k of keys) {
          const pttl = await redis.pttl(k);
          assert.ok(pttl > 50_000 && pttl <= 60_000, `pttl ${pttl}`);
        }
        // Release counts only the entries holding our value.
        await redis.set("{r}b", "someone else");
        assert.equal(await redis.redlockRelease(3, ...keys, "v1"), 2);
        assert.deepEqual(await redis.mget(...keys), [
          null,
          "someone else",
          null,
        ]);
        assert.equal(await redis.redlockRelease(3, ...keys, "v1"), 0);
        // No keys at all: #KEYS is 0.
        assert.equal(await redis.redlockAcquire(0, "v", 1000), 0);
        // A duration SET refuses, inside the script.
        await assert.rejects(
          redis.redlockAcquire(1, "{r}x", "v", "soon"),
          (e: Error) => {
            assert.equal(
              e.message,
              "ERR value is not an integer or out of range script: " +
                `${acquireSha}, on @user_script:10.`,
            );
            return true;
          },
        );
        assert.equal(await redis.exists("{r}x"), 0);
      } finally {
        redis.disconnect();
        await target.stop();
      }
    },
  );

  Deno.test(
    `scripts (${name}): a function library through node-redis and ioredis (FUNCTION LOAD, FCALL, FCALL_RO)`,
    opts,
    async () => {
      const target = await start();
      const redis = ioredis(target.port);
      const client = nodeRedis(target.port);
      try {
        await redis.connect();
        await client.connect();
        assert.equal(await client.functionLoad(LOCK_LIBRARY), "locks");
        await assert.rejects(client.functionLoad(LOCK_LIBRARY), (e: Error) => {
          assert.equal(e.message, "ERR Library 'locks' already exists");
          return true;
        });
        assert.equal(
          await client.functionLoad(LOCK_LIBRARY, { REPLACE: true }),
          "locks",
        );
        // (Redis lists a library's functions in its hash table's order.)
        const [library, ...others] = await client.functionList();
        assert.deepEqual(others, []);
        library.functions.sort((x, y) => x.name.localeCompare(y.name));
        assert.deepEqual(library, {
          libraryName: "locks",
          engine: "LUA",
          functions: [
            { name: "lock_acquire", description: null, flags: [] },
            {
              name: "lock_owner",
              description: "who holds the lock",
              flags: ["no-writes"],
            },
            { name: "lock_release", description: null, flags: [] },
          ],
        });

        // node-redis: FCALL for the writers, FCALL_RO for the read-only one.
        assert.equal(await client.locks.lock_acquire("L", "me", 10_000), 1);
        assert.equal(await client.locks.lock_acquire("L", "you", 10_000), 0);
        assert.equal(await client.locks.lock_owner("L"), "me");
        assert.equal(await client.locks.lock_release("L", "you"), 0);
        assert.equal(await client.locks.lock_release("L", "me"), 1);
        assert.equal(await client.locks.lock_owner("L"), null);

        // ioredis: the same through FCALL / FCALL_RO.
        assert.equal(await redis.fcall("lock_acquire", 1, "L", "io", 5000), 1);
        assert.equal(await redis.fcall_ro("lock_owner", 1, "L"), "io");
        await assert.rejects(
          redis.fcall_ro("lock_release", 1, "L", "io"),
          (e: Error) => {
            assert.equal(
              e.message,
              "ERR Can not execute a script with write flag using *_ro command.",
            );
            return true;
          },
        );
        assert.equal(await redis.get("L"), "io");

        // DUMP, FLUSH, RESTORE: the library comes back whole.
        const dump = await redis.callBuffer("FUNCTION", "DUMP") as Buffer;
        assert.equal(await redis.call("FUNCTION", "FLUSH"), "OK");
        await assert.rejects(
          redis.fcall("lock_release", 1, "L", "io"),
          (e: Error) => {
            assert.equal(e.message, "ERR Function not found");
            return true;
          },
        );
        assert.equal(await redis.call("FUNCTION", "RESTORE", dump), "OK");
        assert.equal(await redis.fcall("lock_release", 1, "L", "io"), 1);
        assert.equal(await client.functionDelete("locks"), "OK");
        assert.deepEqual(await client.functionList(), []);
      } finally {
        redis.disconnect();
        await client.disconnect().catch(() => {});
        await target.stop();
      }
    },
  );
}

if (has("redis-server")) {
  Deno.test(
    "scripts: FUNCTION DUMP payloads are redis-server's bytes (rdbcompression no) and restore across servers",
    opts,
    async () => {
      await using ours = await startServer();
      await using ref = await RedisServer.start();
      const a = ioredis(ours.port);
      const b = ioredis(ref.port);
      try {
        await a.connect();
        await b.connect();
        for (const r of [a, b]) {
          assert.equal(await r.call("FUNCTION", "LOAD", LOCK_LIBRARY), "locks");
        }
        const fromOurs = await a.callBuffer("FUNCTION", "DUMP") as Buffer;
        // redis-server compresses the library's code with LZF (rdbcompression
        // yes, the default); we do not. Without compression the payloads are
        // the same bytes.
        const fromRedis = await b.callBuffer("FUNCTION", "DUMP") as Buffer;
        assert.equal(await b.config("SET", "rdbcompression", "no"), "OK");
        const plain = await b.callBuffer("FUNCTION", "DUMP") as Buffer;
        assert.ok(fromRedis.length < plain.length, "redis-server's LZF");
        assert.deepEqual(fromOurs, plain);

        // Each restores the other's payload, and the functions work.
        for (const r of [a, b]) {
          assert.equal(await r.call("FUNCTION", "FLUSH"), "OK");
        }
        assert.equal(await a.call("FUNCTION", "RESTORE", fromRedis), "OK");
        assert.equal(await b.call("FUNCTION", "RESTORE", fromOurs), "OK");
        for (const r of [a, b]) {
          assert.equal(await r.fcall("lock_acquire", 1, "L", "me", 5000), 1);
          assert.equal(await r.fcall_ro("lock_owner", 1, "L"), "me");
          assert.equal(await r.fcall("lock_release", 1, "L", "me"), 1);
        }
        // A damaged payload is refused the same way by both.
        const damaged = Buffer.from(fromRedis);
        damaged[damaged.length - 1] ^= 0xff;
        const refusals: string[] = [];
        for (const r of [a, b]) {
          await assert.rejects(
            r.call("FUNCTION", "RESTORE", damaged, "REPLACE"),
            (e: Error) => {
              refusals.push(e.message);
              return true;
            },
          );
        }
        assert.equal(refusals[0], refusals[1]);
        assert.equal(
          refusals[1],
          "ERR DUMP payload version or checksum are wrong",
        );
      } finally {
        a.disconnect();
        b.disconnect();
      }
    },
  );
}
