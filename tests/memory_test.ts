// Memory limit, eviction and memory introspection: replies compared with
// redis-server byte for byte, and the accounting and eviction at the store
// level.

import assert from "node:assert/strict";
import { type Cmd, compareWithRedis, hasRedis } from "./_compat.ts";
import { Conn, ServerProcess, startServer } from "./_helpers.ts";
import { Store } from "../store.ts";
import {
  ENTRY_BYTES,
  HEAP_CHECK_STEP,
  LFU_INIT_VAL,
  stringBytes,
} from "../data/_memory.ts";

// Every case leaves the settings as it found them (they outlive FLUSHALL).
const RESET: Cmd[] = [
  ["CONFIG", "SET", "maxmemory", "0"],
  ["CONFIG", "SET", "maxmemory-policy", "noeviction"],
];

const CASES: Record<string, Cmd[]> = {
  "config get and set of every memory setting": [
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "GET", "maxmemory-policy"],
    ["CONFIG", "GET", "maxmemory-samples"],
    ["CONFIG", "GET", "maxmemory-eviction-tenacity"],
    ["CONFIG", "GET", "lfu-log-factor"],
    ["CONFIG", "GET", "lfu-decay-time"],
    ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory", "100mb"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "SET", "maxmemory", "1gb"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "SET", "maxmemory", "12345"],
    ["CONFIG", "GET", "maxmemory"],
    ["CONFIG", "SET", "maxmemory", "abc"],
    ["CONFIG", "SET", "maxmemory", "-1"],
    ["CONFIG", "SET", "maxmemory", "1.5"],
    ["CONFIG", "SET", "maxmemory-policy", "foo"],
    ["CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU"],
    ["CONFIG", "GET", "maxmemory-policy"],
    ["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
    ["CONFIG", "GET", "maxmemory-policy"],
    ["CONFIG", "SET", "maxmemory-samples", "0"],
    ["CONFIG", "SET", "maxmemory-samples", "abc"],
    ["CONFIG", "SET", "maxmemory-samples", "10"],
    ["CONFIG", "GET", "maxmemory-samples"],
    ["CONFIG", "SET", "maxmemory-samples", "5"],
    ["CONFIG", "SET", "maxmemory-eviction-tenacity", "101"],
    ["CONFIG", "SET", "maxmemory-eviction-tenacity", "-1"],
    ["CONFIG", "SET", "maxmemory-eviction-tenacity", "10"],
    ["CONFIG", "SET", "lfu-log-factor", "-1"],
    ["CONFIG", "SET", "lfu-log-factor", "10"],
    ["CONFIG", "SET", "lfu-decay-time", "-1"],
    ["CONFIG", "SET", "lfu-decay-time", "1"],
    ["CONFIG", "SET", "maxmemory-clients", "10%"],
    ["CONFIG", "GET", "maxmemory-clients"],
    ["CONFIG", "SET", "maxmemory-clients", "101%"],
    ["CONFIG", "SET", "maxmemory-clients", "0"],
    ...RESET,
  ],
  "noeviction over the limit: denyoom commands refused, reads and DEL go on": [
    ["SET", "a", "1"],
    ["RPUSH", "l", "x"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "b", "2"],
    ["INCR", "a"],
    ["APPEND", "a", "x"],
    ["RPUSH", "l", "y"],
    ["HSET", "h", "f", "v"],
    ["SADD", "s", "m"],
    ["ZADD", "z", "1", "m"],
    ["XADD", "x", "*", "f", "v"],
    ["GET", "a"],
    ["LRANGE", "l", "0", "-1"],
    ["EXISTS", "a", "b"],
    ["LPOP", "l"],
    ["EXPIRE", "a", "100"],
    ["PERSIST", "a"],
    ["DEL", "a"],
    ["DBSIZE"],
    ...RESET,
    ["SET", "b", "2"],
    ["GET", "b"],
  ],
  "allkeys-random evicts everything, then refuses": [
    ["MSET", "a", "1", "b", "2", "c", "3"],
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-random"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "d", "4"],
    ["DBSIZE"],
    ["GET", "a"],
    ...RESET,
  ],
  "allkeys-lru and allkeys-lfu evict everything, then refuse": [
    ["MSET", "a", "1", "b", "2"],
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "d", "4"],
    ["DBSIZE"],
    ...RESET,
    ["MSET", "a", "1", "b", "2"],
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "d", "4"],
    ["DBSIZE"],
    ...RESET,
  ],
  "volatile policies only evict keys with a TTL": [
    ["MSET", "a", "1", "b", "2"],
    ["SET", "t", "1", "EX", "100"],
    ["SET", "u", "1", "EX", "200"],
    ["CONFIG", "SET", "maxmemory-policy", "volatile-ttl"],
    ["CONFIG", "SET", "maxmemory", "1"],
    ["SET", "d", "4"],
    ["DBSIZE"],
    ["EXISTS", "a", "b", "t", "u"],
    ["CONFIG", "SET", "maxmemory-policy", "volatile-lru"],
    ["SET", "d", "4"],
    ["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"],
    ["SET", "d", "4"],
    ["CONFIG", "SET", "maxmemory-policy", "volatile-random"],
    ["SET", "d", "4"],
    ["DBSIZE"],
    ...RESET,
  ],
  "object freq and idletime": [
    ["SET", "k", "v"],
    ["OBJECT", "FREQ", "k"],
    ["OBJECT", "FREQ", "nokey"],
    ["OBJECT", "IDLETIME", "k"],
    ["OBJECT", "IDLETIME", "nokey"],
    ["OBJECT", "FREQ"],
    ["OBJECT", "IDLETIME", "k", "x"],
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"],
    ["SET", "n", "v"],
    ["OBJECT", "FREQ", "n"],
    ["OBJECT", "FREQ", "nokey"],
    ["OBJECT", "IDLETIME", "n"],
    ["OBJECT", "IDLETIME", "nokey"],
    ["CONFIG", "SET", "maxmemory-policy", "volatile-lfu"],
    ["OBJECT", "IDLETIME", "n"],
    ["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"],
    ["SET", "m", "v"],
    ["OBJECT", "IDLETIME", "m"],
    ["OBJECT", "FREQ", "m"],
    ...RESET,
  ],
  "memory usage arguments and missing keys": [
    ["SET", "k", "v"],
    ["MEMORY", "USAGE", "nokey"],
    ["MEMORY", "USAGE", "nokey", "SAMPLES", "5"],
    ["MEMORY", "USAGE", "k", "SAMPLES"],
    ["MEMORY", "USAGE", "k", "SAMPLES", "x"],
    ["MEMORY", "USAGE", "k", "FOO", "1"],
    ["MEMORY", "USAGE", "k", "SAMPLES", "-1"],
    ["MEMORY", "USAGE", "k", "SAMPLES", "1", "SAMPLES"],
    ["MEMORY", "USAGE"],
    ["MEMORY", "FOO"],
    ["MEMORY", "HELP"],
    ["MEMORY", "PURGE"],
    ["MEMORY", "DOCTOR"],
  ],
};

Deno.test({
  name: "memory: replies as redis-server's",
  ignore: !hasRedis,
  fn: (t) => compareWithRedis(t, CASES),
});

/** Sends one command and returns its reply. */
async function call(c: Conn, ...args: (string | number)[]) {
  return await c.call(...args.map(String));
}

Deno.test("memory: an idle server collects the garbage a burst of writes left", async () => {
  // A server of its own (its heap is not the test's): 400,000 SETs, then
  // FLUSHALL, leave tens of MB of garbage (the keys, values and outgrown
  // hash tables); V8 alone would keep it while nothing allocates.
  await using p = await ServerProcess.start(["--save", ""]);
  const c = await Conn.open(p.port);
  try {
    const heap = async () => {
      const info = String(await call(c, "INFO", "memory"));
      return Number(/allocator_allocated:(\d+)/.exec(info)![1]);
    };
    const before = await heap();
    const value = "v".repeat(16);
    for (let batch = 0; batch < 40; batch++) {
      let req = "";
      for (let i = 0; i < 10_000; i++) {
        const key = `key:${String(batch * 10_000 + i).padStart(12, "0")}`;
        req += `*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$16\r\n${value}\r\n`;
      }
      const replies = await c.rawReplies(req, 10_000);
      assert.equal(replies, "+OK\r\n".repeat(10_000));
    }
    assert.equal(await call(c, "DBSIZE"), 400_000);
    assert.equal(await call(c, "FLUSHALL"), "OK");
    const MB = 1024 * 1024;
    const full = await heap();
    assert.ok(full > before + 40 * MB, `heap ${full} after, ${before} before`);
    // Each INFO is a command: ask less often than the idle second.
    let after = full;
    for (let i = 0; i < 8 && after > before + 16 * MB; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      after = await heap();
    }
    assert.ok(
      after < before + 16 * MB,
      `heap ${after} after idling, ${before} at start, ${full} after FLUSHALL`,
    );
  } finally {
    c.close();
  }
});

Deno.test("memory: MEMORY USAGE, STATS and INFO memory answer with plausible numbers", async () => {
  await using server = await startServer();
  const c = await Conn.open(server.port);
  try {
    await call(c, "SET", "k", "x".repeat(1000));
    const usage = await call(c, "MEMORY", "USAGE", "k");
    assert.equal(typeof usage, "number");
    assert.ok((usage as number) >= 1000 && (usage as number) < 1200);
    const fields: string[] = [];
    for (let i = 0; i < 200; i++) fields.push(`f${i}`, "v".repeat(50));
    await call(c, "HSET", "h", ...fields);
    const h = await call(c, "MEMORY", "USAGE", "h", "SAMPLES", "0") as number;
    assert.ok(h > 200 * 60 && h < 200 * 200, `hash estimate ${h}`);
    const stats = await call(c, "MEMORY", "STATS") as unknown[];
    assert.equal(stats.length, 56);
    assert.equal(stats[0], "peak.allocated");
    assert.equal(stats[20], "db.0");
    const info = String(await call(c, "INFO", "memory"));
    for (
      const f of [
        "used_memory",
        "used_memory_human",
        "used_memory_rss",
        "used_memory_peak",
        "maxmemory",
        "maxmemory_human",
        "maxmemory_policy",
        "mem_fragmentation_ratio",
      ]
    ) assert.match(info, new RegExp(`\r\n${f}:`));
    assert.match(info, /maxmemory:0\r\nmaxmemory_human:0B\r\n/);
    await call(c, "CONFIG", "SET", "maxmemory", "100mb");
    await call(c, "CONFIG", "SET", "maxmemory-policy", "allkeys-lru");
    const info2 = String(await call(c, "INFO", "memory"));
    assert.match(info2, /maxmemory:104857600\r\nmaxmemory_human:100\.00M\r\n/);
    assert.match(info2, /maxmemory_policy:allkeys-lru\r\n/);
  } finally {
    c.close();
  }
});

Deno.test("memory: the store's byte count follows writes and deletes", () => {
  const store = new Store();
  assert.equal(store.usedBytes, 0);
  store.set("key", "value");
  const one = ENTRY_BYTES + stringBytes(3) + stringBytes(5);
  assert.equal(store.usedBytes, one);
  store.set("key", "x".repeat(100));
  assert.equal(
    store.usedBytes,
    ENTRY_BYTES + stringBytes(3) + stringBytes(100),
  );
  store.delete("key");
  assert.equal(store.usedBytes, 0);
  // Expiry adds an entry; expiring takes everything away.
  let now = 1000;
  const timed = new Store({ clock: () => now });
  timed.set("k", "v", { expireAt: 2000 });
  assert.equal(timed.usedBytes, 2 * ENTRY_BYTES + 2 * stringBytes(1));
  now = 3000;
  assert.equal(timed.get("k"), undefined);
  assert.equal(timed.usedBytes, 0);
  // Containers: estimated, grown with their size, gone when emptied.
  for (let i = 0; i < 1000; i++) store.hashes.hset("h", [[`f${i}`, "v"]]);
  const grown = store.usedBytes;
  assert.ok(grown > 1000 * 40 && grown < 1000 * 120, `hash ${grown}`);
  store.hashes.hdel("h", Array.from({ length: 1000 }, (_, i) => `f${i}`));
  assert.equal(store.size, 0);
  assert.equal(store.usedBytes, 0);
  // A copy counts as much again; FLUSHALL resets.
  for (let i = 0; i < 100; i++) store.hashes.hset("h", [[`f${i}`, "v"]]);
  const h = store.usedBytes;
  store.copy("h", "h2");
  assert.ok(Math.abs(store.usedBytes - 2 * h) < h * 0.2);
  store.flush();
  assert.equal(store.usedBytes, 0);
});

Deno.test("memory: a snapshot's copy-on-write keeps the count right", () => {
  const store = new Store();
  for (let i = 0; i < 100; i++) store.hashes.hset("h", [[`f${i}`, "v"]]);
  store.set("s", "v");
  const before = store.usedBytes;
  {
    using _snap = store.snapshot();
    store.hashes.hset("h", [["extra", "v"]]);
    store.set("s", "w");
  }
  const after = store.usedBytes;
  assert.ok(after >= before && after - before < 200, `${before} ${after}`);
  store.flush();
  assert.equal(store.usedBytes, 0);
});

Deno.test("memory: allkeys-lru keeps the recently used keys", () => {
  let now = 1_000_000;
  const store = new Store({ clock: () => now });
  const m = store.memory;
  m.settings.maxmemoryPolicy = "allkeys-lru";
  m.settings.maxmemorySamples = 10;
  m.sync();
  for (let i = 0; i < 1000; i++) store.set(`old:${i}`, "x".repeat(100));
  now += 100_000;
  for (let i = 0; i < 1000; i++) store.set(`new:${i}`, "x".repeat(100));
  m.settings.maxmemory = m.used - store.usedBytes / 2;
  while (m.performEvictions() === 1); // time ran out: go on
  assert.ok(m.used <= m.settings.maxmemory);
  let old = 0, fresh = 0;
  for (const k of store.keys()) k.startsWith("old:") ? old++ : fresh++;
  assert.ok(fresh > 900, `kept ${fresh} new keys and ${old} old ones`);
  assert.ok(m.evictedKeys >= 900);
});

Deno.test("memory: allkeys-lfu keeps the frequently used keys", () => {
  const store = new Store();
  const m = store.memory;
  m.settings.maxmemoryPolicy = "allkeys-lfu";
  m.settings.maxmemorySamples = 10;
  m.sync();
  for (let i = 0; i < 1000; i++) store.set(`k:${i}`, "x".repeat(100));
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 1000; i += 10) store.get(`k:${i}`);
  }
  assert.ok(m.frequency("k:0") > LFU_INIT_VAL);
  assert.equal(m.frequency("k:1"), LFU_INIT_VAL);
  m.settings.maxmemory = m.used - store.usedBytes / 2;
  while (m.performEvictions() === 1);
  let hot = 0;
  for (let i = 0; i < 1000; i += 10) if (store.has(`k:${i}`)) hot++;
  assert.ok(hot > 90, `kept ${hot} of 100 hot keys`);
});

Deno.test("memory: LFU counters decay by lfu-decay-time", () => {
  let now = 60_000 * 1000;
  const store = new Store({ clock: () => now });
  const m = store.memory;
  m.settings.maxmemoryPolicy = "allkeys-lfu";
  m.sync();
  store.set("k", "v");
  for (let i = 0; i < 2000; i++) store.get("k");
  const f = m.frequency("k");
  assert.ok(f > 10 && f < 255, `counter ${f}`);
  now += 3 * 60_000;
  assert.equal(m.frequency("k"), f - 3);
  m.settings.lfuDecayTime = 0;
  assert.equal(m.frequency("k"), f);
});

Deno.test("memory: volatile-ttl evicts the soonest expiry first", () => {
  const now = 1_000_000;
  const store = new Store({ clock: () => now });
  const m = store.memory;
  m.settings.maxmemoryPolicy = "volatile-ttl";
  m.settings.maxmemorySamples = 16;
  m.sync();
  for (let i = 0; i < 200; i++) {
    store.set(`t:${i}`, "x".repeat(100), { expireAt: now + 1000 + i * 1000 });
  }
  store.set("forever", "x");
  m.settings.maxmemory = m.used - store.usedBytes / 4;
  while (m.performEvictions() === 1);
  assert.ok(store.has("forever"));
  assert.ok(store.has("t:199"));
  assert.ok(!store.has("t:0"));
});

Deno.test("memory: OBJECT IDLETIME counts seconds since the last access", async () => {
  await using server = await startServer();
  const c = await Conn.open(server.port);
  try {
    await call(c, "SET", "k", "v");
    assert.equal(await call(c, "OBJECT", "IDLETIME", "k"), 0);
    await new Promise((r) => setTimeout(r, 2100));
    assert.ok((await call(c, "OBJECT", "IDLETIME", "k") as number) >= 2);
    await call(c, "GET", "k");
    assert.equal(await call(c, "OBJECT", "IDLETIME", "k"), 0);
  } finally {
    c.close();
  }
});

Deno.test("memory: evicted keys are counted and logged as DEL", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-mem-" });
  try {
    {
      await using server = await startServer({
        dir,
        appendonly: true,
        appendfsync: "always",
      });
      const c = await Conn.open(server.port);
      try {
        for (let i = 0; i < 50; i++) await call(c, "SET", `k${i}`, "v");
        await call(c, "CONFIG", "SET", "maxmemory-policy", "allkeys-random");
        const used = server.store.memory.used;
        await call(c, "CONFIG", "SET", "maxmemory", String(used - 500));
        await call(c, "SET", "new", "v");
        const n = await call(c, "DBSIZE") as number;
        assert.ok(n < 50, `dbsize ${n}`);
        const info = String(await call(c, "INFO", "stats"));
        const evicted = Number(/evicted_keys:(\d+)/.exec(info)![1]);
        assert.equal(evicted, 51 - n);
        await call(c, "CONFIG", "SET", "maxmemory", "0");
      } finally {
        c.close();
      }
      const keys = server.store.keys().sort();
      await server.close();
      // The log replays to what was left, evictions included.
      await using again = await startServer({ dir, appendonly: true });
      assert.deepEqual(again.store.keys().sort(), keys);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("memory: the heap check lowers the limit in force when V8's heap is full", () => {
  const store = new Store();
  const m = store.memory;
  // Nothing to see with room on the heap.
  m.checkHeap();
  assert.equal(m.limit, 0);
  assert.equal(m.check(), false);
  assert.ok(HEAP_CHECK_STEP > 0);
});
