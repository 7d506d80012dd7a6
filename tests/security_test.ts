// Defects found by a hostile test of the server: HTTP requests sent to the
// RESP port, clients that stop reading, passwords that are not ASCII.

import assert from "node:assert/strict";
import { Conn, has, run, ServerProcess, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "security: an HTTP POST to the RESP port runs nothing and is cut off, as Redis does",
  opts,
  async () => {
    const logs: string[] = [];
    await using server = await startServer({
      loglevel: "warning",
      logSink: (line) => logs.push(line),
    });
    for (
      const request of [
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 13\r\n\r\n\r\nSET x pwned\r\n",
        "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nSET y pwned\r\n",
      ]
    ) {
      const c = await Conn.open(server.port);
      await c.send(request);
      assert.ok(await c.closedWithin(3000), "the connection stays open");
      c.close();
    }
    using check = await Conn.open(server.port);
    assert.equal(await check.call("EXISTS", "x", "y"), 0);
    assert.ok(
      logs.some((l) => l.includes("Possible SECURITY ATTACK detected")),
      logs.join("\n"),
    );
  },
);

Deno.test(
  "security: --timeout closes a client that stopped reading its replies",
  opts,
  async () => {
    await using server = await startServer({ timeout: 1, hz: 50 });
    using admin = await Conn.open(server.port);
    await admin.call("SET", "big", "x".repeat(1 << 20));
    // Ask for 200 MB of replies and never read them.
    const c = await Conn.open(server.port);
    const request = "GET big\r\n".repeat(200);
    await c.send(request);
    const deadline = Date.now() + 10_000;
    let clients = 2;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      const info = await admin.call("INFO", "clients") as string;
      clients = Number(/connected_clients:(\d+)/.exec(info)![1]);
      if (clients === 1) break;
    }
    c.close();
    assert.equal(clients, 1, "the client that does not read was not closed");
  },
);

Deno.test({
  name: "security: a non-ASCII --requirepass matches redis-cli -a",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    const password = "pässwört-ключ";
    await using server = await ServerProcess.start([
      "--requirepass",
      password,
      "--save",
      "",
    ]);
    const ok = await run("redis-cli", [
      "-p",
      String(server.port),
      "-a",
      password,
      "--no-auth-warning",
      "PING",
    ]);
    assert.equal(ok.stdout.trim(), "PONG", ok.stdout + ok.stderr);
    const wrong = await run("redis-cli", [
      "-p",
      String(server.port),
      "-a",
      "passwort",
      "--no-auth-warning",
      "PING",
    ]);
    assert.match(wrong.stdout + wrong.stderr, /WRONGPASS|NOAUTH/);
    // CONFIG SET keeps the bytes it is sent: the same password still works.
    const set = await run("redis-cli", [
      "-p",
      String(server.port),
      "-a",
      password,
      "--no-auth-warning",
      "CONFIG",
      "SET",
      "requirepass",
      password,
    ]);
    assert.equal(set.stdout.trim(), "OK");
    const again = await run("redis-cli", [
      "-p",
      String(server.port),
      "-a",
      password,
      "--no-auth-warning",
      "PING",
    ]);
    assert.equal(again.stdout.trim(), "PONG");
  },
});

Deno.test(
  "security: arguments too long for a string get an error reply, and the connection goes on",
  opts,
  async () => {
    await using server = await startServer();
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: server.port,
    });
    try {
      // 536,870,900 bytes: under Redis's 512 MB limit, over V8's longest
      // string (2^29 - 24).
      const len = 536_870_900;
      const enc = new TextEncoder();
      await conn.write(enc.encode(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${len}\r\n`));
      const chunk = new Uint8Array(1 << 20).fill(120);
      for (let sent = 0; sent < len;) {
        const n = Math.min(chunk.length, len - sent);
        let off = 0;
        while (off < n) off += await conn.write(chunk.subarray(off, n));
        sent += n;
      }
      await conn.write(enc.encode("\r\nPING\r\n"));
      const buf = new Uint8Array(4096);
      let text = "";
      const deadline = Date.now() + 20_000;
      while (!text.includes("PONG") && Date.now() < deadline) {
        const n = await conn.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      assert.match(text, /^-ERR argument of 536870900 bytes is longer/);
      assert.match(text, /\+PONG\r\n$/);
    } finally {
      conn.close();
    }
    // APPEND growing a value past the longest string: Redis's size error.
    using c = await Conn.open(server.port);
    server.store.set("big", "x".repeat(2 ** 29 - 30));
    const reply = await c.call("APPEND", "big", "0123456789");
    assert.equal(
      String((reply as Error).message),
      "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
    );
    assert.equal(await c.call("STRLEN", "big"), 2 ** 29 - 30);
    server.store.delete("big");
  },
);
