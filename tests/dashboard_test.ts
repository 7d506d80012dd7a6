// The web dashboard: its API over HTTP (status codes, auth, bad input), and
// the page in Debian's Chromium driven by playwright-core, with redis-cli
// on the other side.

import assert from "node:assert/strict";
import { concat, Conn, encoder, has, run, startServer } from "./_helpers.ts";
import { Introspection, monitoring } from "../commands/introspection.ts";
import { freePort } from "../tools/_processes.ts";
import { cli, dashboard, hasBrowser, SHOTS } from "./_dashboard.ts";
import { launchChromium } from "../tools/_browser.ts";
import { Dashboard } from "../dashboard.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function post(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = "POST",
) {
  return fetch(url, {
    method,
    headers: {
      "content-type": "application/json",
      origin: new URL(url).origin,
      ...headers,
    },
    body: JSON.stringify(body),
  });
}

Deno.test(
  "dashboard API: the page, sessions and the loopback rule",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const page = await fetch(`${base}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-type")!, /text\/html/);
    assert.match(
      page.headers.get("content-security-policy")!,
      /default-src 'self'/,
    );
    assert.match(await page.text(), /<title>@kv\/store dashboard<\/title>/);
    const js = await fetch(`${base}/app.js`);
    assert.match(js.headers.get("content-type")!, /javascript/);
    await js.body?.cancel();
    const session = await (await fetch(`${base}/api/session`)).json();
    assert.equal(session.passwordRequired, false);
    assert.equal(session.authenticated, true);
    const nope = await fetch(`${base}/api/nope`);
    assert.equal(nope.status, 404);
    await nope.body?.cancel();
    const method = await fetch(`${base}/api/stats`, {
      method: "PATCH",
      headers: { origin: base },
    });
    assert.equal(method.status, 405);
    await method.body?.cancel();
    // Bound beyond loopback with no password: the dashboard refuses.
    const open = await startServer({ host: "0.0.0.0", httpPort: freePort() });
    try {
      const r = await fetch(`http://127.0.0.1:${open.httpPort}/`);
      assert.equal(r.status, 403);
      assert.match(await r.text(), /no password/);
    } finally {
      await open.close();
    }
  },
);

Deno.test("dashboard API: password, cookie session, logout", opts, async () => {
  const { server, base } = await dashboard({ requirepass: "s3cret" });
  await using _ = server;
  assert.equal((await fetch(`${base}/api/stats`)).status, 401);
  assert.equal((await fetch(`${base}/api/keys`)).status, 401);
  const wrong = await post(`${base}/api/login`, { password: "nope" });
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers.get("set-cookie"), null);
  await wrong.body?.cancel();
  const ok = await post(`${base}/api/login`, { password: "s3cret" });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const cookie = ok.headers.get("set-cookie")!;
  assert.match(
    cookie,
    /^kv_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\//,
  );
  const session = cookie.split(";")[0];
  const stats = await fetch(`${base}/api/stats`, {
    headers: { cookie: session },
  });
  assert.equal(stats.status, 200);
  const s = await stats.json();
  assert.equal(typeof s.opsPerSec, "number");
  assert.ok(Array.isArray(s.history));
  assert.equal(
    (await fetch(`${base}/api/stats`, {
      headers: { cookie: "kv_session=forged" },
    })).status,
    401,
  );
  const out = await post(`${base}/api/logout`, {}, { cookie: session });
  await out.body?.cancel();
  assert.equal(
    (await fetch(`${base}/api/stats`, { headers: { cookie: session } })).status,
    401,
  );
});

Deno.test(
  "dashboard API: state changes need Origin and JSON",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const noOrigin = await fetch(`${base}/api/command`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ command: "SET x 1" }),
    });
    assert.equal(noOrigin.status, 403);
    await noOrigin.body?.cancel();
    const foreign = await post(`${base}/api/command`, { command: "SET x 1" }, {
      origin: "http://evil.example",
    });
    assert.equal(foreign.status, 403);
    await foreign.body?.cancel();
    assert.equal(server.store.get("x"), undefined, "nothing ran");
    const text = await fetch(`${base}/api/command`, {
      method: "POST",
      headers: { "content-type": "text/plain", origin: base },
      body: "SET x 1",
    });
    assert.equal(text.status, 415);
    await text.body?.cancel();
    const bad = await fetch(`${base}/api/command`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: "{not json",
    });
    assert.equal(bad.status, 400);
    await bad.body?.cancel();
    const wrongShape = await post(`${base}/api/command`, { command: 42 });
    assert.equal(wrongShape.status, 400);
    await wrongShape.body?.cancel();
  },
);

Deno.test("dashboard API: keys, values, TTLs, console", opts, async () => {
  const { server, base } = await dashboard();
  await using _ = server;
  for (let i = 0; i < 250; i++) server.store.set(`user:${i}`, `name ${i}`);
  server.store.set("other", "x");
  server.store.set("\xff\x00bin", "\xfe\xff", {
    expireAt: Date.now() + 60_000,
  });
  // Paged through SCAN.
  let page = await (await fetch(`${base}/api/keys?pattern=user:*&count=100`))
    .json();
  assert.equal(page.keys.length, 100);
  assert.notEqual(page.cursor, 0);
  const seen = new Set(
    page.keys.map((k: { key: { text: string } }) => k.key.text),
  );
  while (page.cursor !== 0) {
    page = await (await fetch(
      `${base}/api/keys?pattern=user:*&count=100&cursor=${page.cursor}`,
    )).json();
    for (const k of page.keys) seen.add(k.key.text);
  }
  assert.equal(seen.size, 250);
  assert.equal((await fetch(`${base}/api/keys?cursor=-1`)).status, 400);
  // Binary keys and values come as hex.
  const bin =
    (await (await fetch(`${base}/api/keys?pattern=*bin`)).json()).keys[0];
  assert.equal(bin.key.text, null);
  assert.equal(bin.key.hex, "ff0062696e");
  assert.ok(bin.ttl > 50 && bin.ttl <= 60);
  const detail =
    await (await fetch(`${base}/api/key?id=${encodeURIComponent(bin.key.id)}`))
      .json();
  assert.equal(detail.value.hex, "feff");
  assert.equal((await fetch(`${base}/api/key?id=%%%`)).status, 400);
  assert.equal(
    (await fetch(`${base}/api/key?id=${btoa("missing")}`)).status,
    404,
  );
  // Create, update with a TTL, keep the TTL, remove it.
  let r = await post(
    `${base}/api/key`,
    { key: "greeting", value: "hello ✓", ttl: 100 },
    {},
    "PUT",
  );
  assert.equal(r.status, 200);
  await r.body?.cancel();
  assert.equal(server.store.get("greeting"), "hello \xe2\x9c\x93");
  assert.equal(
    Math.round((server.store.expiryOf("greeting")! - Date.now()) / 1000),
    100,
  );
  r = await post(
    `${base}/api/key`,
    { id: btoa("greeting"), value: "hi" },
    {},
    "PUT",
  );
  await r.body?.cancel();
  assert.ok(server.store.expiryOf("greeting") !== undefined, "TTL kept");
  r = await post(
    `${base}/api/key`,
    { id: btoa("greeting"), value: "hi", ttl: null },
    {},
    "PUT",
  );
  await r.body?.cancel();
  assert.equal(server.store.expiryOf("greeting"), undefined);
  for (
    const body of [{ key: "k", value: 1 }, { key: "k", value: "v", ttl: -5 }, {
      value: "v",
    }]
  ) {
    const bad = await post(`${base}/api/key`, body, {}, "PUT");
    assert.equal(bad.status, 400, JSON.stringify(body));
    await bad.body?.cancel();
  }
  const del = await fetch(`${base}/api/key?id=${btoa("greeting")}`, {
    method: "DELETE",
    headers: { origin: base },
  });
  assert.deepEqual(await del.json(), { deleted: 1 });
  // The console runs any command; replies as redis-cli prints them.
  const run1 = await (await post(`${base}/api/command`, { command: "INCR n" }))
    .json();
  assert.deepEqual(run1, { output: "(integer) 1\n", error: false });
  const run2 =
    await (await post(`${base}/api/command`, { command: "MGET n nope" }))
      .json();
  assert.equal(run2.output, '1) "1"\n2) (nil)\n');
  const run3 = await (await post(`${base}/api/command`, { command: "GET" }))
    .json();
  assert.deepEqual(run3, {
    output: "(error) ERR wrong number of arguments for 'get' command\n",
    error: true,
  });
  const run4 =
    await (await post(`${base}/api/command`, { command: 'SET "open' })).json();
  assert.equal(run4.output, "Invalid argument(s)\n");
});

Deno.test("dashboard API: live stats stream", opts, async () => {
  const { server, base } = await dashboard();
  await using _ = server;
  const res = await fetch(`${base}/api/events`);
  assert.match(res.headers.get("content-type")!, /text\/event-stream/);
  const reader = res.body!.getReader();
  const { value } = await reader.read();
  const text = new TextDecoder().decode(value);
  assert.match(text, /^data: \{.*"opsPerSec":\d+.*\}\n\n/);
  await reader.cancel();
});

Deno.test({
  name: "dashboard in Chromium: browse, edit, delete, console, chart",
  ignore: !hasBrowser || !has("redis-cli"),
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard();
    await using _ = server;
    const port = String(server.port);
    await cli(
      server.port,
      "MSET",
      "user:1",
      "alice",
      "user:2",
      "bob",
      "session:abc",
      "token",
    );
    await cli(server.port, "EXPIRE", "session:abc", "3600");
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      // Filter by a glob.
      await page.getByLabel("Filter keys").fill("user:*");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("button", { name: /^user:2,/ }).waitFor();
      assert.equal(
        await page.getByRole("list", { name: "Keys" }).getByRole("button")
          .count(),
        2,
      );
      // Open a key, edit its value and TTL.
      await page.getByRole("button", { name: /^user:1,/ }).click();
      await page.getByText("string · 5 bytes · no expiry").waitFor();
      assert.equal(await page.getByLabel("Value").inputValue(), "alice");
      await page.getByLabel("Value").fill("alice <b>smith</b>");
      await page.getByLabel("TTL (seconds, empty for none)").fill("500");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.equal(
        await cli(server.port, "GET", "user:1"),
        "alice <b>smith</b>",
      );
      const ttl = Number(await cli(server.port, "TTL", "user:1"));
      assert.ok(ttl > 490 && ttl <= 500, `ttl ${ttl}`);
      // Text stays text: no element was made from the value.
      assert.equal(await page.locator("b").count(), 0);
      await page.screenshot({
        path: `${SHOTS}dashboard-key.png`,
        fullPage: true,
      });
      // Delete one, confirming.
      await page.getByRole("button", { name: /^user:2,/ }).click();
      page.once("dialog", (d) => d.accept());
      await page.getByRole("button", { name: "Delete" }).click();
      await page.getByText('Deleted "user:2".').waitFor();
      assert.equal(await cli(server.port, "EXISTS", "user:2"), "0");
      // Create one.
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByLabel("Key", { exact: true }).fill("created");
      await page.getByLabel("Value").fill("from the page");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.equal(await cli(server.port, "GET", "created"), "from the page");
      // The console.
      const command = page.getByRole("textbox", { name: "Command" });
      await command.fill("INCR n");
      await command.press("Enter");
      await page.getByText("(integer) 1").waitFor();
      await command.fill("INCR n");
      await command.press("Enter");
      await page.getByText("(integer) 2").waitFor();
      await command.press("ArrowUp");
      assert.equal(await command.inputValue(), "INCR n");
      // The ops/sec chart moves under load.
      const bench = run("redis-benchmark", [
        "-p",
        port,
        "-t",
        "set",
        "-n",
        "300000",
        "-c",
        "20",
        "-q",
      ], { ms: 20_000 });
      // (Polled from here: the page's CSP rightly refuses evaluated code.)
      let last = 0;
      for (let i = 0; i < 150 && last <= 100; i++) {
        await page.waitForTimeout(100);
        last = Number(await page.locator("#chart").getAttribute("data-last"));
      }
      assert.ok(last > 100, `the chart shows ${last} ops/sec under load`);
      await page.screenshot({
        path: `${SHOTS}dashboard-load.png`,
        fullPage: true,
      });
      await bench;
      const ops = await page.locator("#stat-ops").textContent();
      assert.ok(ops !== "–");
      // Phone width.
      const phone = await browser.newPage({
        viewport: { width: 390, height: 844 },
      });
      await phone.goto(base);
      await phone.getByText("live", { exact: true }).waitFor();
      await phone.screenshot({
        path: `${SHOTS}dashboard-phone.png`,
        fullPage: true,
      });
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "dashboard in Chromium: log in, and a wrong password is refused",
  ignore: !hasBrowser,
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard({ requirepass: "s3cret" });
    await using _ = server;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1000, height: 700 },
      });
      await page.goto(base);
      await page.getByLabel("Password").fill("wrong");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByText("Wrong password.").waitFor();
      await page.screenshot({ path: `${SHOTS}dashboard-login.png` });
      await page.getByLabel("Password").fill("s3cret");
      await page.getByRole("button", { name: "Log in" }).click();
      await page.getByRole("textbox", { name: "Command" }).waitFor();
      const cookies = await page.context().cookies();
      const session = cookies.find((c) => c.name === "kv_session")!;
      assert.equal(session.httpOnly, true);
      assert.equal(session.sameSite, "Strict");
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByLabel("Password").waitFor();
    } finally {
      await browser.close();
    }
  },
});

Deno.test(
  "dashboard: closing the server ends live streams (no hang)",
  opts,
  async () => {
    const { server, base } = await dashboard();
    const res = await fetch(`${base}/api/events`);
    const reader = res.body!.getReader();
    await reader.read();
    const start = Date.now();
    await server.close();
    assert.ok(Date.now() - start < 3000, "close waited on the stream");
    // The stream ends rather than hanging.
    let done = false;
    for (let i = 0; i < 5 && !done; i++) done = (await reader.read()).done;
    assert.ok(done);
  },
);

async function getJson(url: string) {
  const r = await fetch(url);
  const body = await r.json();
  return { status: r.status, body };
}

async function element(base: string, body: Record<string, unknown>) {
  const r = await post(`${base}/api/element`, body);
  return { status: r.status, body: await r.json() };
}

const keyUrl = (base: string, key: string, q = "") =>
  `${base}/api/key?id=${encodeURIComponent(btoa(key))}${q}`;

Deno.test(
  "dashboard API: every type listed, paged, edited, removed",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const store = server.store;
    store.hashes.hset("h", [["a", "1"], ["b", "2"], ["\xff", "\xfe\x01"]]);
    store.lists.rpush("l", ["x", "y", "z", "y"]);
    store.sets.sadd("s", ["m1", "m2"]);
    store.zsets.zadd("z", [["two", 2], ["one", 1], ["one.5", 1.5]]);
    store.set("str", "v");
    const add = (fields: string[]) => store.streams.xadd("x", fields);
    add(["f", "1"]);
    add(["f", "2"]);
    add(["f", "3", "g", "4"]);
    // Types and sizes in the key list, and the type filter (SCAN TYPE).
    const all = (await getJson(`${base}/api/keys`)).body.keys;
    const types = Object.fromEntries(
      all.map((k: { key: { text: string }; type: string; size: number }) => [
        k.key.text,
        `${k.type}/${k.size}`,
      ]),
    );
    assert.deepEqual(types, {
      h: "hash/3",
      l: "list/4",
      s: "set/2",
      z: "zset/3",
      x: "stream/3",
      str: "string/1",
    });
    for (const t of ["hash", "list", "set", "zset", "stream", "string"]) {
      const { body } = await getJson(`${base}/api/keys?type=${t}`);
      assert.deepEqual(body.keys.map((k: { type: string }) => k.type), [t]);
    }
    assert.equal((await getJson(`${base}/api/keys?type=nope`)).status, 400);

    // Hash: fields and values, binary ones as hex; HSET and HDEL.
    let h = (await getJson(keyUrl(base, "h"))).body;
    assert.equal(h.encoding, "listpack");
    assert.deepEqual(h.items, [
      { field: { text: "a" }, value: { text: "1" } },
      { field: { text: "b" }, value: { text: "2" } },
      { field: { hex: "ff" }, value: { hex: "fe01" } },
    ]);
    assert.equal(h.next, null);
    let r = await element(base, {
      id: btoa("h"),
      action: "hset",
      field: "a",
      value: "één",
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.key.size, 3);
    assert.equal(store.hashes.hget("h", "a"), "\xc3\xa9\xc3\xa9n");
    r = await element(base, {
      id: btoa("h"),
      action: "hdel",
      field: { hex: "ff" },
    });
    assert.equal(r.body.result, 1);
    assert.deepEqual(store.hashes.hkeys("h").sort(), ["a", "b"]);
    h = (await getJson(keyUrl(base, "h"))).body;
    assert.deepEqual(h.items[0], {
      field: { text: "a" },
      value: { text: "één" },
    });

    // List: items with their index; push, set, remove by index.
    let l = (await getJson(keyUrl(base, "l", "&count=2"))).body;
    assert.deepEqual(l.items, [
      { index: 0, value: { text: "x" } },
      { index: 1, value: { text: "y" } },
    ]);
    assert.equal(l.next, 2);
    l = (await getJson(keyUrl(base, "l", "&count=2&cursor=2"))).body;
    assert.deepEqual(l.items.map((i: { index: number }) => i.index), [2, 3]);
    assert.equal(l.next, null);
    await element(base, { id: btoa("l"), action: "lpush", value: "head" });
    await element(base, { id: btoa("l"), action: "rpush", value: "tail" });
    await element(base, {
      id: btoa("l"),
      action: "lset",
      index: 1,
      value: "X",
    });
    // Removes the second "y" (index 4), not the first.
    r = await element(base, {
      id: btoa("l"),
      action: "lrem",
      index: 4,
      value: "y",
    });
    assert.equal(r.status, 200);
    assert.deepEqual(store.lists.lrange("l", 0, -1), [
      "head",
      "X",
      "y",
      "z",
      "tail",
    ]);
    // The page was stale: nothing removed.
    r = await element(base, {
      id: btoa("l"),
      action: "lrem",
      index: 0,
      value: "nope",
    });
    assert.equal(r.status, 409);
    r = await element(base, {
      id: btoa("l"),
      action: "lset",
      index: 99,
      value: "v",
    });
    assert.deepEqual(r, {
      status: 409,
      body: { error: "ERR index out of range" },
    });

    // Set: members by SSCAN; add and remove.
    const s = (await getJson(keyUrl(base, "s"))).body;
    assert.deepEqual(
      s.items.map((i: { member: { text: string } }) => i.member.text).sort(),
      ["m1", "m2"],
    );
    await element(base, { id: btoa("s"), action: "sadd", member: "m3" });
    await element(base, { id: btoa("s"), action: "srem", member: "m1" });
    assert.deepEqual(store.sets.smembers("s").sort(), ["m2", "m3"]);

    // Sorted set: in order, with scores; add, change a score, remove.
    let z = (await getJson(keyUrl(base, "z"))).body;
    assert.deepEqual(z.items, [
      { rank: 0, member: { text: "one" }, score: "1" },
      { rank: 1, member: { text: "one.5" }, score: "1.5" },
      { rank: 2, member: { text: "two" }, score: "2" },
    ]);
    await element(base, {
      id: btoa("z"),
      action: "zadd",
      member: "one",
      score: "3",
    });
    await element(base, { id: btoa("z"), action: "zrem", member: "two" });
    r = await element(base, {
      id: btoa("z"),
      action: "zadd",
      member: "m",
      score: "abc",
    });
    assert.deepEqual(r.body, { error: "ERR value is not a valid float" });
    z = (await getJson(keyUrl(base, "z", "&count=1&cursor=1"))).body;
    assert.deepEqual(z.items, [
      { rank: 1, member: { text: "one" }, score: "3" },
    ]);
    assert.equal(z.next, null);

    // Stream: newest first, paged by id; add and delete entries.
    let x = (await getJson(keyUrl(base, "x", "&count=2"))).body;
    assert.equal(x.items.length, 2);
    assert.deepEqual(x.items[0].fields, [
      [{ text: "f" }, { text: "3" }],
      [{ text: "g" }, { text: "4" }],
    ]);
    const older =
      (await getJson(keyUrl(base, "x", `&count=2&cursor=${x.next}`)))
        .body;
    assert.deepEqual(
      older.items.map((e: { fields: unknown[][] }) => e.fields[0][1]),
      [
        { text: "1" },
      ],
    );
    assert.equal(older.next, null);
    r = await element(base, {
      id: btoa("x"),
      action: "xadd",
      entry: "*",
      fields: [["k", "v"]],
    });
    assert.equal(r.status, 200);
    assert.match(r.body.result.text, /^\d+-\d+$/);
    await element(base, {
      id: btoa("x"),
      action: "xdel",
      entry: x.items[1].id,
    });
    x = (await getJson(keyUrl(base, "x"))).body;
    assert.equal(x.size, 3);
    assert.deepEqual(x.items[0].fields, [[{ text: "k" }, { text: "v" }]]);

    // Wrong type: the command's own error.
    r = await element(base, {
      id: btoa("str"),
      action: "hset",
      field: "f",
      value: "v",
    });
    assert.deepEqual(r, {
      status: 409,
      body: {
        error:
          "WRONGTYPE Operation against a key holding the wrong kind of value",
      },
    });
    // Creating a key of each type with its first element.
    for (
      const [key, body] of [
        ["nh", { action: "hset", field: "f", value: "v" }],
        ["nl", { action: "rpush", value: "v" }],
        ["ns", { action: "sadd", member: "v" }],
        ["nz", { action: "zadd", member: "v", score: 1 }],
        ["nx", { action: "xadd", fields: [["f", "v"]] }],
      ] as const
    ) {
      r = await element(base, { key, create: true, ...body });
      assert.equal(r.status, 200, key);
      assert.equal(r.body.key.size, 1);
      r = await element(base, { key, create: true, ...body });
      assert.equal(r.status, 409);
      assert.equal(r.body.error, "the key exists already");
      assert.equal(r.body.exists, true);
      assert.equal(r.body.key.size, 1);
    }
    assert.deepEqual(
      ["nh", "nl", "ns", "nz", "nx"].map((k) => store.type(k)),
      ["hash", "list", "set", "zset", "stream"],
    );
    // Replaced when the page says so: the old key goes first.
    store.set("was-string", "old");
    r = await element(base, {
      key: "was-string",
      create: true,
      action: "sadd",
      member: "m",
    });
    assert.equal(r.status, 409);
    assert.equal(r.body.key.type, "string");
    assert.equal(store.get("was-string"), "old");
    r = await element(base, {
      key: "was-string",
      create: true,
      overwrite: true,
      action: "sadd",
      member: "m",
    });
    assert.equal(r.status, 200);
    assert.equal(store.type("was-string"), "set");
    // TTL of a container.
    await element(base, { id: btoa("nh"), action: "expire", ttl: 100 });
    assert.ok(store.expiryOf("nh")! > Date.now() + 90_000);
    await element(base, { id: btoa("nh"), action: "expire", ttl: null });
    assert.equal(store.expiryOf("nh"), undefined);
    // Removing the last element removes the key.
    r = await element(base, { id: btoa("ns"), action: "srem", member: "v" });
    assert.equal(r.body.key, null);
    assert.equal(store.type("ns"), "none");
    // Bad requests.
    for (
      const body of [
        { id: btoa("h"), action: "nope" },
        { id: btoa("h"), action: "hset", field: 1, value: "v" },
        { id: btoa("l"), action: "lset", value: "v" },
        { id: btoa("h"), action: "hset", field: { hex: "zz" }, value: "v" },
        { action: "hset", field: "f", value: "v" },
        { id: btoa("x"), action: "xadd", fields: [] },
      ]
    ) {
      const bad = await element(base, body);
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    assert.equal((await getJson(keyUrl(base, "h", "&cursor=abc"))).status, 400);
    assert.equal((await getJson(keyUrl(base, "x", "&cursor=abc"))).status, 400);
    // The writes went through commands: counted as changes.
    assert.ok(store.dirty > 20);
  },
);

Deno.test(
  "dashboard API: a million-element list and hash page quickly",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const store = server.store;
    const n = 1_000_000;
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(`item:${i}`);
    store.lists.rpush("big:list", items);
    const flat: string[] = [];
    for (let i = 0; i < n; i++) flat.push(`f${i}`, `v${i}`);
    store.hashes.hsetFlat("big:hash", flat);
    let t = performance.now();
    const first = (await getJson(keyUrl(base, "big:list"))).body;
    assert.equal(first.size, n);
    assert.equal(first.items.length, 50);
    assert.equal(first.next, 50);
    const next = (await getJson(keyUrl(base, "big:list", "&cursor=999990")))
      .body;
    assert.deepEqual(
      next.items.map((i: { index: number }) => i.index).at(-1),
      n - 1,
    );
    assert.equal(next.next, null);
    assert.ok(
      performance.now() - t < 500,
      `list pages took ${performance.now() - t} ms`,
    );
    t = performance.now();
    let page = (await getJson(keyUrl(base, "big:hash"))).body;
    assert.equal(page.encoding, "hashtable");
    const seen = new Set<string>();
    for (let i = 0; i < 5; i++) {
      assert.ok(page.items.length > 0 && page.items.length <= 100);
      for (const it of page.items) seen.add(it.field.text);
      assert.notEqual(page.next, null);
      page = (await getJson(keyUrl(base, "big:hash", `&cursor=${page.next}`)))
        .body;
    }
    assert.ok(seen.size >= 200);
    assert.ok(
      performance.now() - t < 500,
      `hash pages took ${performance.now() - t} ms`,
    );
  },
);

Deno.test({
  name: "dashboard in Chromium: a hash and a sorted set, viewed and edited",
  ignore: !hasBrowser || !has("redis-cli"),
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard();
    await using _ = server;
    const p = server.port;
    await cli(
      p,
      "HSET",
      "user:7",
      "name",
      "Ada",
      "lang",
      "en",
      "<b>x</b>",
      "1",
    );
    await cli(p, "ZADD", "board", "10", "ann", "20", "bob", "5", "cy");
    await cli(p, "RPUSH", "queue", "a", "b");
    await cli(p, "SET", "plain", "text");
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 1000 },
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      // The type filter.
      await page.getByLabel("Filter by type").selectOption("hash");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("button", { name: /^user:7, hash, 3 fields/ })
        .waitFor();
      assert.equal(
        await page.getByRole("list", { name: "Keys" }).getByRole("button")
          .count(),
        1,
      );
      // The hash as a field/value table.
      await page.getByRole("button", { name: /^user:7,/ }).click();
      await page.getByText("hash · 3 fields · no expiry · listpack")
        .waitFor();
      const table = page.getByRole("table");
      const form = page.locator("#element-form");
      assert.equal(await table.getByRole("row").count(), 4);
      await table.getByRole("cell", { name: "Ada" }).waitFor();
      assert.equal(await page.locator("b").count(), 0, "text stays text");
      // Edit a value, add a field, remove one.
      await page.getByRole("button", { name: "Edit name" }).click();
      assert.equal(
        await form.getByLabel("Field", { exact: true }).inputValue(),
        "name",
      );
      await form.getByLabel("Value", { exact: true }).fill("Ada Lovelace");
      await page.getByRole("button", { name: "Set field" }).click();
      await table.getByRole("cell", { name: "Ada Lovelace" }).waitFor();
      await form.getByLabel("Field", { exact: true }).fill("born");
      await form.getByLabel("Value", { exact: true }).fill("1815");
      await page.getByRole("button", { name: "Set field" }).click();
      await table.getByRole("cell", { name: "1815" }).waitFor();
      await page.getByRole("button", { name: "Remove lang" }).click();
      await page.getByText("hash · 3 fields").waitFor();
      assert.equal(
        await cli(p, "HGET", "user:7", "name"),
        "Ada Lovelace",
      );
      assert.equal(await cli(p, "HGET", "user:7", "born"), "1815");
      assert.equal(await cli(p, "HEXISTS", "user:7", "lang"), "0");
      // The sorted set, in order with scores.
      await page.getByLabel("Filter by type").selectOption("");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("button", { name: /^board, zset, 3 members/ })
        .click();
      await page.getByText("zset · 3 members").waitFor();
      const rows = page.getByRole("table").getByRole("row");
      assert.deepEqual(
        (await rows.allTextContents()).slice(1).map((t) => t.slice(0, 6)),
        ["0cy5Ed", "1ann10", "2bob20"],
      );
      // Change a score, add a member, remove one.
      await page.getByRole("button", { name: "Edit cy" }).click();
      await form.getByLabel("Score", { exact: true }).fill("30");
      await page.getByRole("button", { name: "Set score" }).click();
      await page.getByRole("row", { name: /^2 cy 30/ }).waitFor();
      await form.getByLabel("Member", { exact: true }).fill("dee");
      await form.getByLabel("Score", { exact: true }).fill("-1.5");
      await page.getByRole("button", { name: "Set score" }).click();
      await page.getByRole("row", { name: /^0 dee -1.5/ }).waitFor();
      await page.getByRole("button", { name: "Remove bob" }).click();
      await page.getByText("zset · 3 members").waitFor();
      assert.equal(
        await cli(p, "ZRANGE", "board", "0", "-1", "WITHSCORES"),
        "dee\n-1.5\nann\n10\ncy\n30",
      );
      await form.getByLabel("Score", { exact: true }).fill("abc");
      await form.getByLabel("Member", { exact: true }).fill("x");
      await page.getByRole("button", { name: "Set score" }).click();
      await page.getByText("ERR value is not a valid float").waitFor();
      await page.screenshot({
        path: `${SHOTS}dashboard-zset.png`,
        fullPage: true,
      });
      // Create a hash from the page.
      const first = page.locator("#first-element");
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByLabel("Key", { exact: true }).fill("made");
      await page.getByLabel("Type", { exact: true }).selectOption("hash");
      await first.getByLabel("Field", { exact: true }).fill("f");
      await first.getByLabel("Value", { exact: true }).fill("v");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved · hash · 1 field/).waitFor();
      assert.equal(await cli(p, "HGETALL", "made"), "f\nv");
    } finally {
      await browser.close();
    }
  },
});

/** One raw HTTP/1.1 request (so the Host header is ours to choose). */
async function rawHttp(
  port: number,
  head: string,
  body = "",
): Promise<{ status: number; text: string }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const bytes = new TextEncoder().encode(
      `${head}\r\nContent-Length: ${
        new TextEncoder().encode(body).length
      }\r\nConnection: close\r\n\r\n${body}`,
    );
    let off = 0;
    while (off < bytes.length) off += await conn.write(bytes.subarray(off));
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(16384);
    for (let i = 0; i < 1000; i++) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
    const text = new TextDecoder().decode(
      new Uint8Array(chunks.flatMap((c) => [...c])),
    );
    return { status: Number(text.split(" ")[1]), text };
  } finally {
    conn.close();
  }
}

Deno.test(
  "dashboard security: only this server's host names (no DNS rebinding)",
  opts,
  async () => {
    const { server } = await dashboard();
    await using _ = server;
    const port = server.httpPort;
    for (
      const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        `LOCALHOST:${port}`,
        `[::1]:${port}`,
      ]
    ) {
      const r = await rawHttp(
        port,
        `GET /api/session HTTP/1.1\r\nHost: ${host}`,
      );
      assert.equal(r.status, 200, host);
    }
    for (
      const host of [
        `evil.example:${port}`,
        "evil.example",
        `127.0.0.1:${port + 1}`,
        `127.0.0.1`,
        `localhost.evil.example:${port}`,
        "",
      ]
    ) {
      for (const path of ["/", "/api/keys", "/api/session"]) {
        const r = await rawHttp(port, `GET ${path} HTTP/1.1\r\nHost: ${host}`);
        assert.ok(
          r.status === 403 || r.status === 421 || r.status === 400,
          `${host} ${path}: ${r.status}`,
        );
      }
    }
    // A rebinding page's write: its Origin matches its (foreign) Host.
    server.store.set("k", "v");
    const body = JSON.stringify({ command: "DEL k" });
    const r = await rawHttp(
      port,
      `POST /api/command HTTP/1.1\r\nHost: evil.example:${port}\r\n` +
        `Origin: http://evil.example:${port}\r\nContent-Type: application/json`,
      body,
    );
    assert.ok(r.status === 403 || r.status === 421, String(r.status));
    assert.equal(server.store.get("k"), "v");
  },
);

Deno.test(
  "dashboard security: the JSON check wants application/json itself",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    for (
      const type of [
        "text/plain; application/json",
        "text/plain; charset=application/json",
        "application/json-patch",
        "multipart/form-data; boundary=application/json",
        "",
      ]
    ) {
      const r = await fetch(`${base}/api/command`, {
        method: "POST",
        headers: { "content-type": type, origin: base },
        body: JSON.stringify({ command: "SET x 1" }),
      });
      assert.equal(r.status, 415, type);
      await r.body?.cancel();
    }
    assert.equal(server.store.get("x"), undefined);
    for (
      const type of [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/json;charset=UTF-8",
      ]
    ) {
      const r = await fetch(`${base}/api/command`, {
        method: "POST",
        headers: { "content-type": type, origin: base },
        body: JSON.stringify({ command: "INCR x" }),
      });
      assert.equal(r.status, 200, type);
      await r.body?.cancel();
    }
    assert.equal(server.store.get("x"), "3");
  },
);

Deno.test(
  "dashboard security: failed logins are rate-limited, sessions capped",
  opts,
  async () => {
    const { server, base } = await dashboard({ requirepass: "s3cret" });
    await using _ = server;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await post(`${base}/api/login`, { password: `guess${i}` });
      statuses.push(r.status);
      await r.body?.cancel();
    }
    // A few tries, then refused without even checking.
    assert.ok(statuses.filter((s) => s === 401).length <= 5, String(statuses));
    assert.ok(statuses.slice(10).every((s) => s === 429), String(statuses));
    const locked = await post(`${base}/api/login`, { password: "s3cret" });
    assert.equal(locked.status, 429);
    const wait = Number(locked.headers.get("retry-after"));
    assert.ok(wait >= 1 && wait <= 2, `retry after ${wait}`);
    await locked.body?.cancel();
    await new Promise((r) => setTimeout(r, wait * 1000 + 100));
    const ok = await post(`${base}/api/login`, { password: "s3cret" });
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    // A success starts over.
    const again = await post(`${base}/api/login`, { password: "nope" });
    assert.equal(again.status, 401);
    await again.body?.cancel();
    // The session table keeps the most recent sessions only.
    const cookies: string[] = [];
    for (let i = 0; i < 300; i++) {
      const r = await post(`${base}/api/login`, { password: "s3cret" });
      assert.equal(r.status, 200);
      cookies.push(r.headers.get("set-cookie")!.split(";")[0]);
      await r.body?.cancel();
    }
    const status = async (cookie: string) => {
      const r = await fetch(`${base}/api/stats`, { headers: { cookie } });
      await r.body?.cancel();
      return r.status;
    };
    assert.equal(await status(cookies[0]), 401, "the oldest was evicted");
    assert.equal(await status(cookies[299]), 200);
  },
);

Deno.test(
  "dashboard security: a large value is sent once, in ranges",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const big = "é".repeat(3_000_000); // 6 MB of UTF-8 text
    server.store.set("big", textToBinaryForTest(big));
    const r = await fetch(keyUrl(base, "big"));
    const raw = await r.text();
    assert.ok(raw.length < 200_000, `response of ${raw.length} bytes`);
    const first = JSON.parse(raw);
    assert.equal(first.total, 6_000_000);
    assert.equal(first.size, 6_000_000);
    assert.deepEqual(Object.keys(first.value), ["text"], "sent once");
    assert.equal(first.offset, 0);
    // Cut at a character boundary.
    assert.equal(first.next % 2, 0);
    assert.equal(first.value.text, "é".repeat(first.next / 2));
    const last = await (await fetch(
      keyUrl(base, "big", `&cursor=${6_000_000 - 10}`),
    )).json();
    assert.equal(last.value.text, "ééééé");
    assert.equal(last.next, null);
    const capped = await (await fetch(keyUrl(base, "big", "&count=99999999")))
      .json();
    assert.equal(capped.next, 1024 * 1024);
    // Binary values: hex only.
    server.store.set("bin", "\xff".repeat(100_000));
    const bin = await (await fetch(keyUrl(base, "bin"))).json();
    assert.deepEqual(Object.keys(bin.value), ["hex"]);
    assert.equal(bin.value.hex.length, 2 * 64 * 1024);
    assert.equal(bin.next, 64 * 1024);
  },
);

function textToBinaryForTest(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) out += String.fromCharCode(b);
  return out;
}

Deno.test(
  "dashboard security: the login limit counts each client address apart",
  opts,
  async () => {
    const { server, base } = await dashboard({ requirepass: "s3cret" });
    await using _ = server;
    const d = new Dashboard(server);
    const from = (hostname: string) =>
      ({
        remoteAddr: { transport: "tcp", hostname, port: 50000 },
        completed: Promise.resolve(),
      }) as Deno.ServeHandlerInfo;
    const login = async (addr: string, password: string) => {
      const r = await d.handle(
        new Request(`${base}/api/login`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: base },
          body: JSON.stringify({ password }),
        }),
        from(addr),
      );
      await r.body?.cancel();
      return r.status;
    };
    for (let i = 0; i < 5; i++) assert.equal(await login("10.0.0.1", "x"), 401);
    assert.equal(await login("10.0.0.1", "s3cret"), 429);
    assert.equal(await login("10.0.0.2", "x"), 401, "another address");
    assert.equal(await login("10.0.0.2", "s3cret"), 200);
  },
);

/** Reads server-sent events until `until` holds for the text so far. */
async function readEvents(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  until: (text: string) => boolean,
  ms = 5000,
): Promise<string> {
  let text = "";
  const deadline = Date.now() + ms;
  const dec = new TextDecoder();
  while (!until(text)) {
    const left = deadline - Date.now();
    assert.ok(left > 0, `timed out; got: ${JSON.stringify(text.slice(-500))}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`timed out; got: ${JSON.stringify(text)}`)),
          left,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    if (r.done) break;
    text += dec.decode(r.value, { stream: true });
  }
  return text;
}

/** Waits (bounded) until `cond` holds. */
async function eventually(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    assert.ok(Date.now() < deadline, "timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("dashboard API: pub/sub numbers", opts, async () => {
  const { server, base } = await dashboard();
  await using _ = server;
  const stats = async () =>
    (await (await fetch(`${base}/api/stats`)).json()).pubsub;
  assert.deepEqual(await stats(), {
    channels: 0,
    patterns: 0,
    shardChannels: 0,
    list: [],
  });
  using a = await Conn.open(server.port);
  using b = await Conn.open(server.port);
  using c = await Conn.open(server.port);
  await a.send("SUBSCRIBE news sport\r\n");
  await a.reply();
  await a.reply();
  await b.send("SUBSCRIBE news\r\n");
  await b.reply();
  // A binary name, a pattern and a shard channel.
  await c.send(
    concat([
      encoder.encode("*2\r\n$9\r\nSUBSCRIBE\r\n$2\r\n"),
      new Uint8Array([0xff, 0]),
      encoder.encode("\r\nPSUBSCRIBE n* s?\r\nSSUBSCRIBE shard1\r\n"),
    ]),
  );
  for (let i = 0; i < 4; i++) await c.reply();
  using q = await Conn.open(server.port);
  const p = await stats();
  assert.equal(p.channels, 3);
  assert.equal(p.patterns, 2);
  assert.equal(p.shardChannels, 1);
  // As PUBSUB NUMPAT / CHANNELS / NUMSUB say, the busiest first.
  assert.equal(await q.call("PUBSUB", "NUMPAT"), p.patterns);
  assert.equal(
    ((await q.call("PUBSUB", "CHANNELS")) as string[]).length,
    p.channels,
  );
  assert.deepEqual(
    await q.call(
      "PUBSUB",
      "NUMSUB",
      "news",
      "sport",
      new Uint8Array([0xff, 0]),
    ),
    ["news", 2, "sport", 1, "\xff\x00", 1],
  );
  assert.deepEqual(p.list, [
    { channel: { id: btoa("news"), text: "news" }, subscribers: 2 },
    { channel: { id: btoa("sport"), text: "sport" }, subscribers: 1 },
    {
      channel: { id: btoa("\xff\x00"), text: null, hex: "ff00" },
      subscribers: 1,
    },
  ]);
  // The live stream carries them too, and follows (un)subscribes.
  const res = await fetch(`${base}/api/events`);
  const reader = res.body!.getReader();
  const first = await readEvents(reader, (t) => t.includes("\n\n"));
  assert.match(
    first,
    /"pubsub":\{"channels":3,"patterns":2,"shardChannels":1,/,
  );
  a.close();
  await readEvents(reader, (t) => t.includes('"channels":2,"patterns":2'));
  await reader.cancel();
  const after = await stats();
  assert.deepEqual(
    after.list.map((x: { subscribers: number }) => x.subscribers),
    [1, 1],
  );
});

Deno.test(
  "dashboard API: the MONITOR tail streams commands and stops when closed",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const intro = Introspection.of(server.state);
    // Another origin's page is refused.
    const cross = await fetch(`${base}/api/monitor`, {
      headers: { origin: "http://evil.example" },
    });
    assert.equal(cross.status, 403);
    await cross.body?.cancel();
    assert.equal(intro.tails.size, 0);
    const res = await fetch(`${base}/api/monitor`, {
      headers: { origin: base },
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /text\/event-stream/);
    const reader = res.body!.getReader();
    await readEvents(reader, (t) => t.includes(": monitoring\n\n"));
    assert.equal(intro.tails.size, 1);
    assert.ok(monitoring());
    using conn = await Conn.open(server.port);
    assert.equal(await conn.call("SET", "greeting", 'say "hi"\n'), "OK");
    // A MONITOR client of the same server sees the same line.
    using mon = await Conn.open(server.port);
    assert.equal(await mon.call("MONITOR"), "OK");
    assert.equal(await conn.call("GET", "greeting"), 'say "hi"\n');
    const seen = await mon.reply();
    const text = await readEvents(reader, (t) => t.includes("GET"));
    const lines = text.split("\n").filter((l) => l.startsWith("data: "))
      .flatMap((l) => JSON.parse(l.slice(6)).lines as string[]);
    assert.match(
      lines[0],
      /^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "greeting" "say \\"hi\\"\\n"$/,
    );
    assert.equal(lines.at(-1), seen);
    // Closing the stream ends the tail.
    await reader.cancel();
    await eventually(() => intro.tails.size === 0);
    mon.close();
    await conn.call("PING"); // the server drops the gone MONITOR client
    await eventually(() => !monitoring());
    // A password: a session is needed.
    const { server: locked, base: lockedBase } = await dashboard({
      requirepass: "pw",
    });
    await using _l = locked;
    const refused = await fetch(`${lockedBase}/api/monitor`);
    assert.equal(refused.status, 401);
    await refused.body?.cancel();
  },
);

Deno.test(
  "dashboard API: at most 8 MONITOR tails; long lines are cut",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const readers = [];
    for (let i = 0; i < 8; i++) {
      const r = await fetch(`${base}/api/monitor`);
      assert.equal(r.status, 200);
      readers.push(r.body!.getReader());
    }
    const ninth = await fetch(`${base}/api/monitor`);
    assert.equal(ninth.status, 429);
    await ninth.body?.cancel();
    using conn = await Conn.open(server.port);
    await conn.call("SET", "big", "x".repeat(100_000));
    const text = await readEvents(readers[0], (t) => t.includes("characters)"));
    const line =
      JSON.parse(text.split("\n").find((l) => l.startsWith("data: "))!.slice(6))
        .lines[0];
    assert.ok(line.length < 4200, `${line.length}`);
    assert.match(line, /… \(100\d{3} characters\)$/);
    for (const r of readers) await r.cancel();
    const intro = Introspection.of(server.state);
    await eventually(() => intro.tails.size === 0);
    // Closing the dashboard ends open tails too.
    const r = await fetch(`${base}/api/monitor`);
    const reader = r.body!.getReader();
    await readEvents(reader, (t) => t.includes(": monitoring"));
    await server.close();
    assert.equal(intro.tails.size, 0);
    await readEvents(reader, () => false);
  },
);

Deno.test(
  "dashboard API: a MONITOR tail read slowly drops lines, bounded",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const res = await fetch(`${base}/api/monitor`);
    const reader = res.body!.getReader();
    await readEvents(reader, (t) => t.includes(": monitoring"));
    // ~40 MB of MONITOR lines while the page reads nothing.
    using conn = await Conn.open(server.port);
    const value = "v".repeat(1000);
    const batch = encoder.encode(
      `*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000\r\n${value}\r\n`.repeat(1000),
    );
    const N = 40_000;
    for (let i = 0; i < N; i += 1000) {
      await conn.send(batch);
      for (let j = 0; j < 1000; j++) await conn.reply();
    }
    await new Promise((r) => setTimeout(r, 300));
    // Now read: every line arrived or was counted as dropped.
    let lines = 0;
    let dropped = 0;
    let text = "";
    const dec = new TextDecoder();
    const deadline = Date.now() + 10_000;
    while (lines + dropped < N) {
      assert.ok(Date.now() < deadline, `${lines} lines, ${dropped} dropped`);
      const r = await reader.read();
      if (r.done) break;
      text += dec.decode(r.value, { stream: true });
      let end;
      while ((end = text.indexOf("\n\n")) >= 0) {
        const event = text.slice(0, end);
        text = text.slice(end + 2);
        if (!event.startsWith("data: ")) continue;
        const e = JSON.parse(event.slice(6));
        lines += e.lines.length;
        dropped += e.dropped;
      }
    }
    assert.equal(lines + dropped, N);
    assert.ok(dropped > 0, "lines were dropped");
    assert.ok(lines < N / 2, `${lines} lines held for a slow page`);
    await reader.cancel();
  },
);

Deno.test({
  name: "dashboard in Chromium: pub/sub view and the MONITOR tail",
  ignore: !hasBrowser || !has("redis-cli"),
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard();
    await using _ = server;
    const intro = Introspection.of(server.state);
    using sub = await Conn.open(server.port);
    await sub.send("SUBSCRIBE news alerts\r\nPSUBSCRIBE user:*\r\n");
    for (let i = 0; i < 3; i++) await sub.reply();
    using sub2 = await Conn.open(server.port);
    await sub2.send("SUBSCRIBE news\r\n");
    await sub2.reply();
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      // The channels, busiest first, with their counts.
      const channels = page.getByRole("table", { name: "Channels" });
      await channels.getByRole("cell", { name: "news" }).waitFor();
      assert.deepEqual(
        await channels.locator("tbody tr").allTextContents(),
        ["news2", "alerts1"],
      );
      assert.equal(await page.locator("#pubsub-channels").textContent(), "2");
      assert.equal(await page.locator("#pubsub-patterns").textContent(), "1");
      // Live: a new channel shows within a tick.
      await sub2.send("SUBSCRIBE <b>x</b>\r\n");
      await sub2.reply();
      await channels.getByRole("cell", { name: "<b>x</b>" }).waitFor();
      assert.equal(await page.locator("b").count(), 0);
      // The tail: start, see a command typed in redis-cli, stop.
      await page.getByRole("button", { name: "Start monitor" }).click();
      await page.getByRole("status").filter({ hasText: "monitoring" })
        .waitFor();
      assert.equal(intro.tails.size, 1);
      await cli(server.port, "SET", "typed-key", "<i>hello</i>");
      const output = page.getByLabel("Monitor output");
      await output.getByText('"SET" "typed-key" "<i>hello</i>"').waitFor();
      assert.equal(await page.locator("i").count(), 0);
      await page.screenshot({
        path: `${SHOTS}dashboard-monitor.png`,
        fullPage: true,
      });
      await page.getByRole("button", { name: "Stop monitor" }).click();
      await eventually(() => intro.tails.size === 0);
      await cli(server.port, "SET", "after", "stop");
      await page.waitForTimeout(300);
      assert.equal(await output.getByText('"after"').count(), 0);
      // Started again, it ends when the page goes away.
      await page.getByRole("button", { name: "Start monitor" }).click();
      await eventually(() => intro.tails.size === 1);
      await page.close();
      await eventually(() => intro.tails.size === 0);
    } finally {
      await browser.close();
    }
  },
});
