// The dashboard, as a new user found it (issue 13): filtering a large
// keyspace, "New key" over an existing name, the chart's axes, the key
// count, JSON values, read-only values and fields, the phone layout, the
// favicon. Over HTTP and in Debian's Chromium.

/// <reference lib="dom" />
import assert from "node:assert/strict";
import { has, startServer } from "./_helpers.ts";
import { cli, dashboard, hasBrowser, SHOTS } from "./_dashboard.ts";
import { launchChromium } from "../tools/_browser.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

function put(base: string, body: unknown) {
  return fetch(`${base}/api/key`, {
    method: "PUT",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify(body),
  });
}

/** 200,000 keys, three of which match `needle:*`, far apart. */
function fill(server: Awaited<ReturnType<typeof startServer>>) {
  for (let i = 0; i < 200_000; i++) {
    if (i === 10 || i === 100_000 || i === 199_990) {
      server.store.set(`needle:${i}`, "found");
    }
    server.store.set(`hay:${i}`, "x");
  }
}

Deno.test(
  "dashboard API: favicon, DBSIZE and scan progress",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    const icon = await fetch(`${base}/favicon.ico`);
    assert.equal(icon.status, 200);
    assert.equal(icon.headers.get("content-type"), "image/x-icon");
    const bytes = new Uint8Array(await icon.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0]); // ICO header
    fill(server);
    // Every page says how many keys there are and how far the scan got; the
    // page asks again while the cursor goes on. Each request is short, so
    // several may be needed: all three matches come, and the cursor ends.
    let cursor = 0;
    const found: string[] = [];
    let requests = 0;
    do {
      const page = await (await fetch(
        `${base}/api/keys?pattern=needle:*&count=50&cursor=${cursor}`,
      )).json();
      assert.equal(page.total, 200_003);
      assert.ok(page.scanned > 0);
      for (const k of page.keys) found.push(k.key.text);
      cursor = page.cursor;
    } while (cursor !== 0 && ++requests < 10_000);
    assert.deepEqual(found, ["needle:10", "needle:100000", "needle:199990"]);
  },
);

Deno.test(
  "dashboard API: a new key over an existing name needs overwrite",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    server.store.set("taken", "old");
    let r = await put(base, { key: "taken", value: "new" });
    assert.equal(r.status, 409);
    const body = await r.json();
    assert.equal(body.error, "the key exists already");
    assert.equal(body.exists, true);
    assert.equal(body.key.type, "string");
    assert.equal(server.store.get("taken"), "old");
    r = await put(base, { key: "taken", value: "new", overwrite: true });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    assert.equal(server.store.get("taken"), "new");
    // Editing the open key (by id) is no overwrite.
    r = await put(base, { id: btoa("taken"), value: "newer" });
    assert.equal(r.status, 200);
    await r.body?.cancel();
    assert.equal(server.store.get("taken"), "newer");
  },
);

Deno.test({
  name:
    "dashboard in Chromium: filtering 200,000 keys scans on to a few far-apart matches, then hides Load more",
  ignore: !hasBrowser,
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard();
    await using _ = server;
    fill(server);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      // The key list says how many keys there are (DBSIZE).
      await page.locator("#keys-count").getByText("200,003 keys").waitFor();
      await page.getByLabel("Filter keys").fill("needle:*");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByText("All 200,003 keys looked at.").waitFor({
        timeout: 60_000,
      });
      const list = page.getByRole("list", { name: "Keys" });
      assert.deepEqual(
        await list.locator(".key-name").allTextContents(),
        ["needle:10", "needle:100000", "needle:199990"],
      );
      assert.equal(await page.locator("#more-keys").isHidden(), true);
      assert.equal(await page.locator("#keys-empty").isHidden(), true);
      assert.equal(await page.locator("#stop-scan").isHidden(), true);
      assert.equal(
        await page.locator("#keys-count").textContent(),
        "3 shown of 200,003 keys",
      );
      // A pattern that matches nothing: "No keys match." once at the end.
      await page.getByLabel("Filter keys").fill("nothing:*");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByText("No keys match.").waitFor({ timeout: 60_000 });
      assert.equal(await page.locator("#more-keys").isHidden(), true);
      await page.screenshot({ path: `${SHOTS}dashboard-filter.png` });
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "dashboard in Chromium: New key asks before replacing; JSON laid out; read-only values and fields; chart axes; favicon",
  ignore: !hasBrowser || !has("redis-cli"),
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard();
    await using _ = server;
    const json = '{"name":"Ada","langs":["en","fr"],"n":1}';
    server.store.set("doc", json);
    server.store.set("taken", "old");
    server.store.set("bin", "\xff\xfe\x00");
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
      });
      const dialogs: string[] = [];
      let answer = false;
      page.on("dialog", (d) => {
        dialogs.push(d.message());
        answer ? d.accept() : d.dismiss();
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      // The favicon the page names is served.
      const icon = await page.evaluate(async () => {
        const link = document.querySelector("link[rel=icon]");
        const r = await fetch((link as HTMLLinkElement).href);
        return [r.status, r.headers.get("content-type")];
      });
      assert.deepEqual(icon, [200, "image/x-icon"]);

      // New key with a taken name: asked; "no" keeps the old value.
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByLabel("Key", { exact: true }).fill("taken");
      await page.getByLabel("Value").fill("replaced");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Not saved: the key "taken" exists already/)
        .waitFor();
      assert.equal(dialogs.length, 1);
      assert.match(dialogs[0], /"taken" exists already \(a string, 3 bytes\)/);
      assert.equal(await cli(server.port, "GET", "taken"), "old");
      // "Yes" replaces it.
      answer = true;
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.equal(dialogs.length, 2);
      assert.equal(await cli(server.port, "GET", "taken"), "replaced");
      // A brand new name is not asked about.
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByLabel("Key", { exact: true }).fill("fresh");
      await page.getByLabel("Value").fill("v");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.equal(dialogs.length, 2);
      // A container over a taken name: asked too.
      answer = false;
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByLabel("Key", { exact: true }).fill("fresh");
      await page.getByLabel("Type", { exact: true }).selectOption("set");
      await page.getByLabel("Member").fill("m");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Not saved: the key "fresh" exists already/)
        .waitFor();
      assert.equal(dialogs.length, 3);
      assert.equal(await cli(server.port, "TYPE", "fresh"), "string");

      // JSON is laid out for reading; saving it unedited keeps the bytes.
      await page.getByRole("button", { name: /^doc,/ }).click();
      await page.getByText("JSON, laid out for reading", { exact: false })
        .waitFor();
      assert.equal(
        await page.getByLabel("Value").inputValue(),
        JSON.stringify(JSON.parse(json), null, 2),
      );
      await page.getByLabel("TTL (seconds, empty for none)").fill("300");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.equal(await cli(server.port, "GET", "doc"), json);
      assert.ok(Number(await cli(server.port, "TTL", "doc")) > 200);
      // The key field of an open key is read-only and looks it.
      const look = (sel: string) =>
        page.locator(sel).evaluate((el) => {
          const s = getComputedStyle(el);
          return `${s.backgroundColor} ${s.borderStyle}`;
        });
      const keyLook = await look("#detail-key");
      const ttlLook = await look("#detail-ttl");
      assert.notEqual(keyLook, ttlLook);
      assert.match(keyLook, /dashed/);
      // A binary value: read-only, no Save, its TTL set on its own.
      await page.getByRole("button", { name: /^bin,/ }).click();
      await page.getByText(/not UTF-8 text/).waitFor();
      assert.equal(await page.locator("#save-key").isHidden(), true);
      assert.match(await look("#detail-value"), /dashed/);
      await page.getByLabel("TTL (seconds, empty for none)").fill("120");
      await page.getByRole("button", { name: "Set TTL" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.ok(Number(await cli(server.port, "TTL", "bin")) > 100);
      assert.equal(server.store.get("bin"), "\xff\xfe\x00");
      // The chart has a scale and clock times.
      const top = await page.locator("#chart-y-max").textContent();
      assert.match(top!, /^[125]0*(,000)*$/, "a round top of the scale");
      const times = await page.locator("#chart-x span").allTextContents();
      assert.equal(times.length, 6);
      assert.equal(times[5], "now");
      for (const t of times.slice(0, 5)) assert.match(t, /^\d\d:\d\d/);
      await page.screenshot({ path: `${SHOTS}dashboard-json.png` });
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "dashboard in Chromium: on a phone, logged in, the live badge stays on one line",
  ignore: !hasBrowser,
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard({ requirepass: "s3cret" });
    await using _ = server;
    const browser = await launchChromium();
    try {
      for (const width of [320, 360, 390]) {
        const page = await browser.newPage({
          viewport: { width, height: 800 },
        });
        await page.goto(base);
        await page.getByLabel("Password").fill("s3cret");
        await page.getByRole("button", { name: "Log in" }).click();
        await page.getByText("live", { exact: true }).waitFor();
        await page.getByRole("button", { name: "Log out" }).waitFor();
        const lines = await page.locator("#live").evaluate((el) => {
          const range = document.createRange();
          range.selectNodeContents(el);
          const tops = new Set(
            [...range.getClientRects()].map((r) => Math.round(r.top)),
          );
          return tops.size;
        });
        assert.equal(lines, 1, `at ${width}px`);
        // Nothing in the top bar sticks out sideways.
        const overflow = await page.evaluate(() =>
          Math.max(
            ...[...document.querySelectorAll(".topbar, .topbar *")].map((e) =>
              e.getBoundingClientRect().right
            ),
          ) - document.documentElement.clientWidth
        );
        assert.ok(overflow <= 0, `at ${width}px: ${overflow}px too wide`);
        if (width === 360) {
          await page.screenshot({ path: `${SHOTS}dashboard-phone-login.png` });
        }
        await page.close();
      }
    } finally {
      await browser.close();
    }
  },
});
