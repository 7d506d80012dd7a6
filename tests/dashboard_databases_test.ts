// The dashboard's numbered databases (issue 15): every key request and the
// console take `db`; the stats carry the keyspace (INFO keyspace); the page
// has a database picker kept in the URL. Over HTTP against a real server
// with raw clients, and in Debian's Chromium.

/// <reference lib="dom" />
import assert from "node:assert/strict";
import { Conn } from "./_helpers.ts";
import { dashboard, hasBrowser, SHOTS } from "./_dashboard.ts";
import { launchChromium } from "../tools/_browser.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A JSON request to the API (with the Origin state changes need). */
async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: method === "GET"
      ? {}
      : { "content-type": "application/json", origin: base },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const get = (base: string, path: string) => call(base, "GET", path);

/** Key names of one page of `/api/keys` (sorted). */
async function names(base: string, query: string): Promise<string[]> {
  const r = await get(base, `/api/keys?${query}`);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.keys.map((k: { key: { text: string } }) => k.key.text).sort();
}

/** The INFO keyspace lines of a raw client, as the stats give them. */
async function infoKeyspace(c: Conn) {
  const info = await c.call("INFO", "keyspace") as string;
  return [...info.matchAll(/^db(\d+):keys=(\d+),expires=(\d+),/gm)].map(
    (m) => ({ db: Number(m[1]), keys: Number(m[2]), expires: Number(m[3]) }),
  );
}

/** The databases the server has made (a read must not make one). */
function made(
  server: { state: { databases: readonly (readonly [number, unknown])[] } },
) {
  return server.state.databases.map(([i]) => i);
}

Deno.test(
  "dashboard API: keys written in database 3 are listed with db=3, not in db 0; the stats carry INFO keyspace",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    using c = await Conn.open(server.port);
    assert.equal(await c.call("SET", "zero", "0"), "OK");
    assert.equal(await c.call("SELECT", "3"), "OK");
    assert.equal(await c.call("SET", "three:a", "alpha"), "OK");
    assert.equal(await c.call("HSET", "three:h", "f", "v", "g", "w"), 2);
    assert.equal(await c.call("SET", "three:t", "x", "EX", "500"), "OK");

    assert.deepEqual(await names(base, "db=3"), [
      "three:a",
      "three:h",
      "three:t",
    ]);
    assert.deepEqual(await names(base, ""), ["zero"]); // db 0 by default
    assert.deepEqual(await names(base, "db=0"), ["zero"]);
    // Filters (pattern, type) apply within the database.
    assert.deepEqual(await names(base, "db=3&pattern=*:h"), ["three:h"]);
    assert.deepEqual(await names(base, "db=3&type=string"), [
      "three:a",
      "three:t",
    ]);
    assert.deepEqual(await names(base, "db=0&type=hash"), []);
    const page = await get(base, "/api/keys?db=3");
    assert.equal(page.body.total, 3);
    assert.equal(page.body.cursor, 0);

    // One key, with a page of its elements, in its database only.
    const h = await get(base, `/api/key?db=3&id=${btoa("three:h")}`);
    assert.equal(h.status, 200);
    assert.equal(h.body.type, "hash");
    assert.equal(h.body.size, 2);
    assert.deepEqual(
      h.body.items.map((i: { field: { text: string } }) => i.field.text).sort(),
      ["f", "g"],
    );
    const a = await get(base, `/api/key?db=3&id=${btoa("three:a")}`);
    assert.deepEqual(a.body.value, { text: "alpha" });
    const t = await get(base, `/api/key?db=3&id=${btoa("three:t")}`);
    assert.ok(t.body.ttl > 490 && t.body.ttl <= 500, `ttl ${t.body.ttl}`);
    assert.equal(
      (await get(base, `/api/key?id=${btoa("three:a")}`)).status,
      404,
    );
    assert.equal(
      (await get(base, `/api/key?db=3&id=${btoa("zero")}`)).status,
      404,
    );

    // A database no client used reads as empty, and is not made by it.
    assert.ok(!made(server).includes(7));
    assert.deepEqual((await get(base, "/api/keys?db=7")).body, {
      cursor: 0,
      keys: [],
      scanned: 0,
      total: 0,
    });
    assert.equal(
      (await get(base, `/api/key?db=7&id=${btoa("zero")}`)).status,
      404,
    );
    const del = await call(
      base,
      "DELETE",
      `/api/key?db=7&id=${btoa("zero")}`,
    );
    assert.deepEqual(del.body, { deleted: 0 });
    assert.ok(!made(server).includes(7), `made: ${made(server)}`);

    // The stats: keys in every database, and per database as INFO says.
    const stats = (await get(base, "/api/stats")).body;
    assert.equal(stats.databases, 16);
    assert.equal(stats.keys, 4);
    assert.equal(stats.expires, 1);
    assert.deepEqual(stats.keyspace, [
      { db: 0, keys: 1, expires: 0 },
      { db: 3, keys: 3, expires: 1 },
    ]);
    assert.deepEqual(stats.keyspace, await infoKeyspace(c));
    assert.equal((await get(base, "/api/session")).body.databases, 16);
  },
);

Deno.test(
  "dashboard API: a key created, edited and deleted in db 5 is what a raw client in db 5 sees; db 0's key of that name untouched",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    using c = await Conn.open(server.port);
    assert.equal(await c.call("SET", "greeting", "from db 0"), "OK");
    assert.equal(await c.call("SELECT", "5"), "OK");

    // A string, with a TTL (db in the query string).
    let r = await call(base, "PUT", "/api/key?db=5", {
      key: "greeting",
      value: "hello",
      ttl: 100,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.key.text, "greeting");
    assert.equal(await c.call("GET", "greeting"), "hello");
    const ttl = await c.call("TTL", "greeting") as number;
    assert.ok(ttl > 90 && ttl <= 100, `ttl ${ttl}`);
    // Named as new again: the API asks first, in db 5's keyspace.
    r = await call(base, "PUT", "/api/key?db=5", {
      key: "greeting",
      value: "again",
    });
    assert.equal(r.status, 409);
    assert.equal(r.body.exists, true);
    // Edited by id, keeping its TTL (db in the body this time).
    r = await call(base, "PUT", "/api/key", {
      db: 5,
      id: btoa("greeting"),
      value: "hello again",
    });
    assert.equal(r.status, 200);
    assert.equal(await c.call("GET", "greeting"), "hello again");
    assert.ok((await c.call("TTL", "greeting") as number) > 0);

    // A container: made with its first element, then changed.
    r = await call(base, "POST", "/api/element?db=5", {
      key: "queue",
      create: true,
      action: "rpush",
      value: "a",
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    r = await call(base, "POST", "/api/element?db=5", {
      id: btoa("queue"),
      action: "lpush",
      value: "b",
    });
    assert.equal(r.status, 200);
    assert.deepEqual(await c.call("LRANGE", "queue", "0", "-1"), ["b", "a"]);
    r = await call(base, "POST", "/api/element?db=5", {
      id: btoa("queue"),
      action: "expire",
      ttl: 60,
    });
    assert.equal(r.status, 200);
    const qttl = await c.call("TTL", "queue") as number;
    assert.ok(qttl > 50 && qttl <= 60, `ttl ${qttl}`);
    // The list page reads db 5 (LRANGE through the dashboard's session).
    const q = await get(base, `/api/key?db=5&id=${btoa("queue")}`);
    assert.deepEqual(
      q.body.items.map((i: { value: { text: string } }) => i.value.text),
      ["b", "a"],
    );

    // Deleted.
    r = await call(base, "DELETE", `/api/key?db=5&id=${btoa("greeting")}`);
    assert.deepEqual(r.body, { deleted: 1 });
    assert.equal(await c.call("EXISTS", "greeting"), 0);
    assert.equal(await c.call("EXISTS", "queue"), 1);

    // Database 0 was never touched.
    assert.equal(await c.call("SELECT", "0"), "OK");
    assert.equal(await c.call("GET", "greeting"), "from db 0");
    assert.equal(await c.call("TTL", "greeting"), -1);
    assert.equal(await c.call("EXISTS", "queue"), 0);
    assert.deepEqual(await infoKeyspace(c), [
      { db: 0, keys: 1, expires: 0 },
      { db: 5, keys: 1, expires: 1 },
    ]);
  },
);

Deno.test(
  "dashboard API: a database out of range (or not a number) is a JSON error, on every endpoint",
  opts,
  async () => {
    const { server, base } = await dashboard({ databases: 4 });
    await using _ = server;
    const expected = { error: "db must be a database number from 0 to 3" };
    const id = btoa("k");
    for (const db of ["4", "-1", "abc", "1.5", "99999999999", " 1"]) {
      const q = `db=${encodeURIComponent(db)}`;
      for (
        const [method, path, body] of [
          ["GET", `/api/keys?${q}`, undefined],
          ["GET", `/api/key?${q}&id=${id}`, undefined],
          ["DELETE", `/api/key?${q}&id=${id}`, undefined],
          ["PUT", `/api/key?${q}`, { key: "k", value: "v" }],
          ["POST", `/api/element?${q}`, {
            key: "k",
            create: true,
            action: "sadd",
            member: "m",
          }],
          ["POST", `/api/command?${q}`, { command: "SET k v" }],
        ] as const
      ) {
        const res = await fetch(`${base}${path}`, {
          method,
          headers: method === "GET"
            ? {}
            : { "content-type": "application/json", origin: base },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        assert.equal(res.status, 400, `${method} ${path}`);
        assert.match(res.headers.get("content-type")!, /application\/json/);
        assert.deepEqual(await res.json(), expected, `${method} ${path}`);
      }
    }
    // In the body too; a query and a body that disagree are refused.
    for (const db of [4, -1, "x", 2.5, true]) {
      const r = await call(base, "POST", "/api/command", {
        command: "SET k v",
        db,
      });
      assert.equal(r.status, 400, String(db));
      assert.deepEqual(r.body, expected);
    }
    const both = await call(base, "PUT", "/api/key?db=1", {
      db: 2,
      key: "k",
      value: "v",
    });
    assert.equal(both.status, 400);
    assert.deepEqual(both.body, {
      error: "db differs in the query and the body",
    });
    // Nothing was written anywhere, and no database was made.
    using c = await Conn.open(server.port);
    assert.deepEqual(await infoKeyspace(c), []);
    assert.deepEqual(made(server), [0]);
    // The last database is fine.
    const ok = await call(base, "PUT", "/api/key?db=3", {
      key: "k",
      value: "v",
    });
    assert.equal(ok.status, 200);
    assert.equal(await c.call("SELECT", "3"), "OK");
    assert.equal(await c.call("GET", "k"), "v");
  },
);

Deno.test(
  "dashboard console: runs in the picked database; SELECT, RESET and EXEC move it; a MULTI there does not queue the page's edits",
  opts,
  async () => {
    const { server, base } = await dashboard();
    await using _ = server;
    using c = await Conn.open(server.port);
    const run = async (db: number, command: string) => {
      const r = await call(base, "POST", `/api/command?db=${db}`, {
        command,
      });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body as { output: string; error: boolean; db?: number };
    };
    // (`db` comes back only when the command moved the console.)
    assert.deepEqual(await run(3, "SET k three"), {
      output: "OK\n",
      error: false,
    });
    assert.equal(await c.call("GET", "k"), null);
    assert.equal(await c.call("SELECT", "3"), "OK");
    assert.equal(await c.call("GET", "k"), "three");
    // SELECT moves the console (the page's picker follows `db`).
    assert.deepEqual(await run(3, "SELECT 5"), {
      output: "OK\n",
      error: false,
      db: 5,
    });
    // Out of range: Redis's error, and the console stays where it was.
    assert.deepEqual(await run(5, "SELECT 16"), {
      output: "(error) ERR DB index is out of range\n",
      error: true,
    });
    assert.equal((await run(5, "DBSIZE")).output, "(integer) 0\n");
    assert.equal((await run(3, "DBSIZE")).output, "(integer) 1\n");
    assert.equal((await run(3, "GET k")).output, '"three"\n');
    // Each request runs in the database it names, whatever came before.
    assert.equal((await run(0, "GET k")).output, "(nil)\n");
    // RESET goes back to database 0.
    assert.equal((await run(3, "RESET")).db, 0);
    // A transaction that selects: the console ends in that database, and
    // the writes after SELECT went there.
    assert.equal((await run(0, "MULTI")).output, "OK\n");
    assert.equal((await run(0, "SELECT 2")).output, "QUEUED\n");
    assert.equal((await run(0, "SET m two")).output, "QUEUED\n");
    const exec = await run(0, "EXEC");
    assert.equal(exec.db, 2);
    assert.equal(exec.output, "1) OK\n2) OK\n");
    assert.equal(await c.call("SELECT", "2"), "OK");
    assert.equal(await c.call("GET", "m"), "two");
    // A MULTI left open in the console: the page's own edits still apply
    // at once (they run in a session of their own).
    // A script's SELECT does not change its caller's database (Redis 7).
    assert.deepEqual(
      await run(2, `EVAL "return redis.call('SELECT', 4)" 0`),
      { output: "OK\n", error: false },
    );
    assert.equal((await run(2, "SET after-eval 1")).output, "OK\n");
    assert.equal(await c.call("GET", "after-eval"), "1"); // c is in db 2
    assert.equal((await run(2, "MULTI")).output, "OK\n");
    const put = await call(base, "PUT", "/api/key?db=2", {
      key: "direct",
      value: "now",
    });
    assert.equal(put.status, 200);
    assert.equal(await c.call("GET", "direct"), "now");
    assert.equal((await run(2, "SET queued 1")).output, "QUEUED\n");
    assert.equal((await run(2, "DISCARD")).output, "OK\n");
    assert.equal(await c.call("EXISTS", "queued"), 0);
    // MOVE goes from the console's database to the one it names.
    assert.equal((await run(2, "MOVE direct 4")).output, "(integer) 1\n");
    assert.equal(await c.call("SELECT", "4"), "OK");
    assert.equal(await c.call("GET", "direct"), "now");
  },
);

Deno.test({
  name:
    "dashboard in Chromium: the database picker shows db 3's keys, the URL keeps it over a reload, SELECT in the console moves it; phone layout",
  ignore: !hasBrowser,
  ...opts,
  async fn() {
    await Deno.mkdir(SHOTS, { recursive: true });
    const { server, base } = await dashboard();
    await using _ = server;
    using c = await Conn.open(server.port);
    assert.equal(await c.call("MSET", "home:1", "a", "home:2", "b"), "OK");
    assert.equal(await c.call("SELECT", "3"), "OK");
    assert.equal(
      await c.call(
        "MSET",
        "user:1",
        "ada",
        "user:2",
        "grace",
        "user:3",
        "joan",
      ),
      "OK",
    );
    assert.equal(await c.call("EXPIRE", "user:3", "900"), 1);
    assert.equal(await c.call("HSET", "profile:1", "name", "Ada"), 1);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      const picker = page.getByLabel("Database", { exact: true });
      const list = page.getByRole("list", { name: "Keys", exact: true });
      const shown = async () =>
        (await list.locator(".key-name").allTextContents()).sort();
      // Database 0 first; the picker marks the databases that hold keys.
      await list.getByRole("button", { name: /^home:2,/ }).waitFor();
      assert.equal(await picker.inputValue(), "0");
      await page.locator("#db-picker option[value='3']").getByText(
        "db 3 · 4 keys",
      ).waitFor({ state: "attached" });
      assert.equal(
        await page.locator("#db-picker option[value='0']").textContent(),
        "db 0 · 2 keys",
      );
      assert.equal(
        await page.locator("#db-picker option[value='7']").textContent(),
        "db 7",
      );
      assert.equal(await page.locator("#db-picker option").count(), 16);
      // The keyspace, as INFO keyspace.
      const chips = page.getByRole("list", {
        name: "Databases that hold data",
      });
      await chips.getByRole("button", {
        name: "Database 3: 4 keys, 1 with a TTL",
      }).waitFor();
      assert.equal(await page.locator("#stat-keys").textContent(), "6");

      // Pick database 3.
      await picker.selectOption("3");
      await list.getByRole("button", { name: /^profile:1,/ }).waitFor();
      assert.deepEqual(await shown(), [
        "profile:1",
        "user:1",
        "user:2",
        "user:3",
      ]);
      assert.equal(new URL(page.url()).hash, "#db=3");
      assert.equal(await page.locator("#keys-count").textContent(), "4 keys");
      assert.equal(await page.locator("#keys-db").textContent(), "db 3");
      assert.equal(
        await page.locator("#console-prompt").textContent(),
        `127.0.0.1:${server.port}[3]>`,
      );
      // Open a key of db 3, and make one there.
      await list.getByRole("button", { name: /^user:2,/ }).click();
      await page.getByText("string · 5 bytes · no expiry").waitFor();
      assert.equal(await page.getByLabel("Value").inputValue(), "grace");
      await page.getByRole("button", { name: "New key" }).click();
      await page.getByLabel("Key", { exact: true }).fill("made:here");
      await page.getByLabel("Value").fill("in db 3");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText(/Saved ·/).waitFor();
      assert.equal(await c.call("GET", "made:here"), "in db 3"); // c is in 3
      await page.screenshot({
        path: `${SHOTS}dashboard-databases.png`,
        fullPage: true,
      });

      // A reload keeps database 3.
      await page.reload();
      await page.getByText("live", { exact: true }).waitFor();
      await list.getByRole("button", { name: /^made:here,/ }).waitFor();
      assert.equal(await picker.inputValue(), "3");
      assert.deepEqual(await shown(), [
        "made:here",
        "profile:1",
        "user:1",
        "user:2",
        "user:3",
      ]);

      // The console runs in db 3; SELECT there moves the picker and URL.
      const command = page.getByRole("textbox", { name: "Command" });
      await command.fill("GET user:1");
      await command.press("Enter");
      await page.locator("#console-output").getByText('"ada"').waitFor();
      await command.fill("SELECT 0");
      await command.press("Enter");
      await list.getByRole("button", { name: /^home:1,/ }).waitFor();
      assert.equal(await picker.inputValue(), "0");
      assert.equal(new URL(page.url()).hash, "");
      assert.deepEqual(await shown(), ["home:1", "home:2"]);

      // By keyboard: the picker takes arrow keys, a keyspace button Enter.
      await picker.focus();
      await page.keyboard.press("ArrowDown");
      await page.waitForURL(/#db=1$/);
      assert.equal(await picker.inputValue(), "1");
      await page.getByText("No keys match.").waitFor();
      const db3 = chips.getByRole("button", { name: /^Database 3:/ });
      await db3.focus();
      await page.keyboard.press("Enter");
      await page.waitForURL(/#db=3$/);
      await list.getByRole("button", { name: /^made:here,/ }).waitFor();
      assert.equal(await db3.getAttribute("aria-pressed"), "true");

      // A URL naming a database out of range opens database 0.
      await page.goto(`${base}/#db=99`);
      await page.getByText("live", { exact: true }).waitFor();
      await list.getByRole("button", { name: /^home:1,/ }).waitFor();
      assert.equal(await picker.inputValue(), "0");

      // A phone: the picker fits, nothing sticks out sideways.
      const phone = await browser.newPage({
        viewport: { width: 360, height: 800 },
      });
      await phone.goto(`${base}/#db=3`);
      await phone.getByText("live", { exact: true }).waitFor();
      await phone.getByRole("list", { name: "Keys", exact: true })
        .getByRole("button", { name: /^made:here,/ }).waitFor();
      // Nothing on the page is wider than the screen.
      const overflow = await phone.evaluate(() =>
        Math.max(
          document.documentElement.scrollWidth,
          ...[...document.querySelectorAll("#db-section, #db-section *")].map(
            (e) => e.getBoundingClientRect().right,
          ),
        ) - document.documentElement.clientWidth
      );
      assert.ok(overflow <= 0, `${overflow}px too wide`);
      await phone.screenshot({
        path: `${SHOTS}dashboard-databases-phone.png`,
        fullPage: true,
      });
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "dashboard in Chromium: with 1,000 databases the picker lists the first 16 and those with keys, and a number field opens any; with one database there is no picker",
  ignore: !hasBrowser,
  ...opts,
  async fn() {
    const { server, base } = await dashboard({ databases: 1000 });
    await using _ = server;
    using c = await Conn.open(server.port);
    assert.equal(await c.call("SELECT", "700"), "OK");
    assert.equal(await c.call("SET", "far", "away"), "OK");
    const one = await dashboard({ databases: 1 });
    await using _one = one.server;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({
        viewport: { width: 1280, height: 900 },
      });
      await page.goto(base);
      await page.getByText("live", { exact: true }).waitFor();
      await page.locator("#db-picker option[value='700']").getByText(
        "db 700 · 1 key",
      ).waitFor({ state: "attached" });
      assert.deepEqual(
        await page.locator("#db-picker option").evaluateAll((os) =>
          os.map((o) => (o as HTMLOptionElement).value)
        ),
        [...Array(16).keys(), 700].map(String),
      );
      const list = page.getByRole("list", { name: "Keys", exact: true });
      await page.getByLabel("Database", { exact: true }).selectOption("700");
      await list.getByRole("button", { name: /^far,/ }).waitFor();
      // Any other by number; out of range is refused on the page.
      const number = page.getByLabel("Database number");
      await number.fill("1000");
      assert.equal(
        await number.evaluate((e) => (e as HTMLInputElement).checkValidity()),
        false,
      );
      await page.getByRole("button", { name: "Open", exact: true }).click();
      assert.equal(new URL(page.url()).hash, "#db=700");
      await number.fill("512");
      await number.press("Enter");
      await page.waitForURL(/#db=512$/);
      await page.getByText("No keys match.").waitFor();
      assert.equal(
        await page.getByLabel("Database", { exact: true }).inputValue(),
        "512",
      );
      // No database was made by looking at one.
      assert.ok(!made(server).includes(512), `made: ${made(server)}`);

      // One database: no picker, and the console prompt has no number.
      await page.goto(`http://127.0.0.1:${one.server.httpPort}/#db=3`);
      await page.getByText("live", { exact: true }).waitFor();
      await page.locator("#console-prompt").getByText(
        `127.0.0.1:${one.server.port}>`,
        { exact: true },
      ).waitFor();
      assert.equal(await page.locator("#db-section").isHidden(), true);
      assert.equal(await page.locator("#keys-db").isHidden(), true);
      assert.equal(new URL(page.url()).hash, "");
    } finally {
      await browser.close();
    }
  },
});
