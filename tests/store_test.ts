import assert from "node:assert/strict";
import { Store } from "../store.ts";
import { globMatch } from "../_glob.ts";

function clockAt(start = 1_000_000) {
  const clock = { now: start };
  return { clock, store: new Store({ clock: () => clock.now }) };
}

Deno.test("store: keys and values of any bytes round-trip", () => {
  const store = new Store();
  let all = "";
  for (let b = 0; b < 256; b++) all += String.fromCharCode(b);
  store.set(all, all + "\x00");
  assert.equal(store.get(all), all + "\x00");
  assert.deepEqual(store.keys(), [all]);
});

Deno.test("store: a key lives until its expiry time, then is gone on access", () => {
  const { clock, store } = clockAt();
  store.set("k", "v", { expireAt: clock.now + 100 });
  clock.now += 100; // at the expiry time: still there, as in Redis
  assert.equal(store.get("k"), "v");
  clock.now += 1;
  assert.equal(store.size, 1); // not reclaimed until touched
  assert.equal(store.get("k"), undefined);
  assert.equal(store.size, 0);
  assert.equal(store.stats.expired, 1);
});

Deno.test("store: set clears the TTL unless keepTtl", () => {
  const { clock, store } = clockAt();
  store.set("k", "v", { expireAt: clock.now + 100 });
  store.set("k", "w", { keepTtl: true });
  assert.equal(store.expiryOf("k"), clock.now + 100);
  store.set("k", "x");
  assert.equal(store.expiryOf("k"), undefined);
});

Deno.test("store: setExpireAt in the past deletes; persist removes the TTL", () => {
  const { clock, store } = clockAt();
  store.set("a", "1");
  assert.equal(store.setExpireAt("a", clock.now + 10), true);
  assert.equal(store.persist("a"), true);
  assert.equal(store.persist("a"), false);
  assert.equal(store.setExpireAt("a", clock.now), true);
  assert.equal(store.has("a"), false);
  assert.equal(store.setExpireAt("missing", clock.now + 10), false);
});

Deno.test("store: the active cycle reclaims expired keys nobody reads", () => {
  const { clock, store } = clockAt();
  for (let i = 0; i < 1000; i++) {
    store.set(`e${i}`, "v", { expireAt: clock.now + 10 });
  }
  for (let i = 0; i < 100; i++) store.set(`p${i}`, "v");
  for (let i = 0; i < 100; i++) {
    store.set(`later${i}`, "v", { expireAt: clock.now + 1_000_000 });
  }
  clock.now += 11;
  let removed = 0;
  for (let cycle = 0; cycle < 100 && store.size > 200; cycle++) {
    removed += store.activeExpireCycle(25);
  }
  assert.equal(removed, 1000);
  assert.equal(store.size, 200);
  assert.equal(store.volatileSize, 100);
  assert.equal(store.stats.expired, 1000);
});

Deno.test("store: the active cycle stops when few sampled keys had expired", () => {
  const { clock, store } = clockAt();
  // 1 in 10 expired: below a quarter, so one cycle looks at one sample only.
  for (let i = 0; i < 10_000; i++) {
    store.set(`k${i}`, "v", {
      expireAt: clock.now + (i % 10 === 0 ? 1 : 1_000_000),
    });
  }
  clock.now += 2;
  const removed = store.activeExpireCycle(25);
  assert.ok(removed <= 20, `removed ${removed}`);
});

Deno.test("store: keys() and entries() leave out expired keys", () => {
  const { clock, store } = clockAt();
  store.set("a", "1");
  store.set("b", "2", { expireAt: clock.now + 5 });
  store.set("c", "3", { expireAt: clock.now + 500 });
  clock.now += 10;
  assert.deepEqual(store.keys().sort(), ["a", "c"]);
  assert.deepEqual(
    [...store.entries()].map(([k]) => k).sort(),
    ["a", "c"],
  );
});

Deno.test("store: a full SCAN returns every key present throughout, despite writes", () => {
  const store = new Store();
  for (let i = 0; i < 5000; i++) store.set(`stable${i}`, "v");
  for (let i = 0; i < 2000; i++) store.set(`churn${i}`, "v");
  const seen = new Set<string>();
  let cursor = 0;
  let calls = 0;
  let extra = 0;
  do {
    const r = store.scan(cursor, 37);
    for (const k of r.keys) seen.add(k);
    cursor = r.cursor;
    // Delete and add keys between calls, as other clients would.
    for (let j = 0; j < 15; j++) {
      store.delete(`churn${(calls * 15 + j) % 2000}`);
      store.set(`new${extra++}`, "v");
    }
    calls++;
  } while (cursor !== 0 && calls < 10_000);
  assert.equal(cursor, 0);
  for (let i = 0; i < 5000; i++) {
    assert.ok(seen.has(`stable${i}`), `stable${i}`);
  }
});

Deno.test("store: an old SCAN cursor still resumes (by position)", () => {
  const store = new Store();
  for (let i = 0; i < 100; i++) store.set(`k${i}`, "v");
  const first = store.scan(0, 10);
  // Use many other cursors so the first one's live iterator is dropped.
  for (let i = 0; i < 300; i++) store.scan(0, 1);
  const seen = new Set(first.keys);
  let cursor = first.cursor;
  while (cursor !== 0) {
    const r = store.scan(cursor, 10);
    for (const k of r.keys) seen.add(k);
    cursor = r.cursor;
  }
  assert.equal(seen.size, 100);
});

Deno.test("store: SCAN filter and expired keys", () => {
  const { clock, store } = clockAt();
  store.set("a1", "v");
  store.set("b1", "v");
  store.set("a2", "v", { expireAt: clock.now + 1 });
  clock.now += 5;
  const r = store.scan(0, 100, (k) => k.startsWith("a"));
  assert.equal(r.cursor, 0);
  assert.deepEqual(r.keys, ["a1"]);
});

Deno.test("store: randomKey returns live keys only", () => {
  const { clock, store } = clockAt();
  assert.equal(store.randomKey(), undefined);
  for (let i = 0; i < 50; i++) store.set(`k${i}`, "v");
  store.set("gone", "v", { expireAt: clock.now + 1 });
  clock.now += 2;
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) seen.add(store.randomKey()!);
  assert.ok(!seen.has("gone"));
  assert.ok(seen.size > 10, `only ${seen.size} distinct keys`);
});

Deno.test("store: clear returns how many keys there were", () => {
  const store = new Store();
  store.set("a", "1");
  store.set("b", "2", { expireAt: Date.now() + 10_000 });
  assert.equal(store.clear(), 2);
  assert.equal(store.size, 0);
  assert.equal(store.volatileSize, 0);
});

Deno.test("store: read() counts hits and misses", () => {
  const store = new Store();
  store.set("a", "1");
  store.read("a");
  store.read("b");
  store.get("b"); // plain get does not count
  assert.deepEqual(store.stats, { hits: 1, misses: 1, expired: 0 });
});

Deno.test("glob: Redis's pattern rules", () => {
  const cases: [string, string, boolean][] = [
    ["*", "", true],
    ["*", "anything", true],
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "hllo", true],
    ["h*llo", "heeeello", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-b]llo", "hbllo", true],
    ["h[b-a]llo", "hallo", true],
    ["h[a-b]llo", "hcllo", false],
    ["a\\*b", "a*b", true],
    ["a\\*b", "axb", false],
    ["[\\]]", "]", true],
    ["*a*b*", "xxaxxbxx", true],
    ["*a*b*", "xxbxxaxx", false],
    ["[abc", "a", true],
    ["\\", "\\", true],
    ["key:*", "key:000000000001", true],
    ["*.txt", "x.txt", true],
    ["??", "\xff\x00", true],
  ];
  for (const [p, s, expected] of cases) {
    assert.equal(globMatch(p, s), expected, `${p} ~ ${JSON.stringify(s)}`);
  }
  assert.equal(globMatch("HELLO", "hello", true), true);
  // Abusive patterns finish quickly.
  const start = performance.now();
  assert.equal(globMatch("*a".repeat(50) + "b", "a".repeat(100)), false);
  assert.ok(performance.now() - start < 1000);
});

Deno.test("store: the active cycle estimates the average TTL", () => {
  const { clock, store } = clockAt();
  assert.equal(store.averageTtl, 0);
  for (let i = 0; i < 100; i++) {
    store.set(`k${i}`, "v", { expireAt: clock.now + 10_000 });
  }
  store.activeExpireCycle();
  assert.equal(store.averageTtl, 10_000);
  clock.now += 4_000;
  for (let i = 0; i < 50; i++) store.activeExpireCycle();
  const avg = store.averageTtl;
  assert.ok(avg < 10_000 && avg >= 6_000, `avg ${avg}`);
});

Deno.test("store commands: the same semantics in-process as over the wire", () => {
  const { clock, store } = clockAt();
  assert.equal(store.incrBy("n", 5), 5);
  assert.equal(store.decrBy("n", 2), 3);
  assert.equal(store.incrBy("big", 9007199254740993n), 9007199254740993n);
  store.set("s", "abc");
  assert.throws(() => store.incrBy("s", 1), {
    name: "StoreError",
    message: "ERR value is not an integer or out of range",
  });
  store.set("max", "9223372036854775807");
  assert.throws(() => store.incrBy("max", 1), /would overflow/);
  assert.equal(store.incrByFloat("f", "10.50"), "10.5");
  assert.equal(store.incrByFloat("f", 0.1), "10.6");
  assert.throws(() => store.incrByFloat("s", 1), /not a valid float/);
  assert.deepEqual(store.setIf("k", "1", { nx: true }), {
    written: true,
    previous: undefined,
  });
  assert.equal(store.setIf("k", "2", { nx: true }).written, false);
  assert.deepEqual(store.setIf("k", "3", { xx: true, get: true }), {
    written: true,
    previous: "1",
  });
  store.mset([["a", "1"], ["b", "2"]]);
  assert.deepEqual(store.mget(["a", "b", "zz"]), ["1", "2", undefined]);
  assert.equal(store.msetNx([["a", "x"], ["c", "3"]]), false);
  assert.equal(store.append("a", "23"), 3);
  assert.equal(store.getRange("a", 0, -2), "12");
  assert.equal(store.setRange("pad", 3, "x"), 4);
  assert.equal(store.get("pad"), "\0\0\0x");
  store.maxStringLength = 10;
  assert.throws(() => store.setRange("pad", 10, "x"), /exceeds maximum/);
  assert.throws(() => store.setRange("pad", -1, "x"), /offset is out of range/);
  // Expiry, with conditions, on the injected clock.
  assert.equal(store.pexpireAt("a", clock.now + 1000), true);
  assert.equal(store.pexpireAt("a", clock.now + 500, "GT"), false);
  assert.equal(store.pexpireAt("a", clock.now + 500, "LT"), true);
  assert.equal(store.pttl("a"), 500);
  assert.equal(store.pttl("b"), -1);
  assert.equal(store.pttl("nope"), -2);
  assert.equal(store.rename("a", "a2"), true);
  assert.equal(store.pttl("a2"), 500);
  assert.throws(() => store.rename("a", "x"), /no such key/);
  assert.equal(store.copy("a2", "a3"), true);
  clock.now += 501;
  assert.equal(store.exists(["a2", "a3", "b"]), 1);
  assert.equal(store.getEx("b", { expireAt: clock.now + 10 }), "2");
  assert.equal(store.persistKey("b"), true);
  assert.equal(store.getDel("b"), "2");
  assert.equal(store.del(["k", "nope"]), 1);
  assert.ok(store.dirty > 10);
  // Left: n, big, s, max, f, pad (a2 and a3 expired and were reclaimed).
  assert.deepEqual(store.keys().sort(), ["big", "f", "max", "n", "pad", "s"]);
  assert.equal(store.flush(), 6);
});

Deno.test("store: startExpiryCycle reclaims keys in the background", async () => {
  const store = new Store();
  using _sweep = store.startExpiryCycle(100);
  for (let i = 0; i < 50; i++) {
    store.set(`k${i}`, "v", { expireAt: Date.now() + 20 });
  }
  for (let i = 0; i < 100 && store.size > 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(store.size, 0);
});

Deno.test("store: a snapshot reads the keyspace as it was, while writes go on", () => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 30; round++) {
    const { clock, store } = clockAt();
    for (let i = 0; i < 500; i++) {
      store.set(
        `k${i}`,
        `v${i}`,
        rand(4) === 0 ? { expireAt: clock.now + 1 + rand(50) } : undefined,
      );
    }
    clock.now += 10; // some keys have expired by the snapshot
    const expected = new Map<string, string>();
    for (const [k, v, at] of store.entries()) expected.set(k, `${v}|${at}`);
    const snap = store.snapshot();
    const got = new Map<string, string>();
    let chunk;
    do {
      chunk = snap.next(1 + rand(40));
      for (const [k, v, at] of chunk) {
        assert.ok(!got.has(k), `key ${k} read twice`);
        got.set(k, `${v}|${at}`);
      }
      // Writes between chunks: changes, deletes, new keys, re-adds,
      // expiry changes, time passing, and sometimes a flush.
      for (let j = 0; j < 20; j++) {
        const k = `k${rand(600)}`;
        switch (rand(7)) {
          case 0:
            store.set(k, "changed");
            break;
          case 1:
            store.delete(k);
            break;
          case 2:
            store.set(`new${rand(100)}`, "x");
            break;
          case 3:
            store.setExpireAt(k, clock.now + rand(100));
            break;
          case 4:
            store.persist(k);
            break;
          case 5:
            store.get(k);
            clock.now += 1;
            break;
          case 6:
            if (rand(50) === 0) store.clear();
            else store.activeExpireCycle();
        }
      }
    } while (chunk.length > 0);
    snap.close();
    assert.deepEqual(got, expected, `round ${round}`);
  }
});

Deno.test("store: one snapshot at a time; closing ends it", () => {
  const store = new Store();
  store.set("a", "1");
  const s1 = store.snapshot();
  assert.throws(() => store.snapshot(), /already in progress/);
  s1.close();
  assert.deepEqual(s1.next(10), []);
  using s2 = store.snapshot();
  assert.deepEqual(s2.next(10), [["a", "1", undefined]]);
});
