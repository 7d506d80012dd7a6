// The web dashboard: its API over HTTP (status codes, auth, bad input), and
// the page in Debian's Chromium driven by playwright-core, with redis-cli
// on the other side.

import assert from "node:assert/strict";
import { has, run, startServer } from "./_helpers.ts";
import { freePort } from "../tools/_processes.ts";
import { CHROMIUM, launchChromium } from "../tools/_browser.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const SHOTS = new URL("./screenshots/", import.meta.url).pathname;

async function dashboard(options: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer({ httpPort: freePort(), ...options });
  const base = `http://127.0.0.1:${server.httpPort}`;
  return { server, base };
}

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

const hasBrowser = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();

async function cli(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", ["-p", String(port), ...args])).stdout.trim();
}

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
