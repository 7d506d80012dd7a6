// The server as users start it (main.ts serve, as `deno task serve` runs
// it): flags, logs, signals.

import assert from "node:assert/strict";
import { Conn, freePort, runServe, ServerProcess } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "process: start-up logs version, address and settings",
  opts,
  async () => {
    await using server = await ServerProcess.start([
      "--requirepass",
      "pw",
      "--maxclients",
      "123",
      "--loglevel",
      "notice",
    ]);
    using c = await Conn.open(server.port);
    assert.equal(await c.call("AUTH", "pw"), "OK");
    assert.deepEqual(await c.call("CONFIG", "GET", "maxclients"), [
      "maxclients",
      "123",
    ]);
    c.close();
    const status = await server.stop("SIGTERM");
    assert.equal(status.code, 0);
    const log = server.stderr;
    assert.match(
      log,
      /^\d+:M \d\d \w{3} \d{4} \d\d:\d\d:\d\d\.\d{3} \* @kv\/store \d+\.\d+\.\d+ /m,
    );
    assert.match(log, new RegExp(`port=${server.port} maxclients=123 `));
    assert.match(log, /requirepass=\(set\)/);
    assert.doesNotMatch(log, /pw\b/);
    assert.match(
      log,
      new RegExp(
        `Ready to accept connections tcp on 127\\.0\\.0\\.1:${server.port}`,
      ),
    );
    assert.match(log, /# Received SIGTERM scheduling shutdown/);
    assert.match(log, /ready to exit, bye bye/);
  },
);

Deno.test(
  "process: debug level logs connects and disconnects",
  opts,
  async () => {
    await using server = await ServerProcess.start(["--loglevel", "debug"]);
    using c = await Conn.open(server.port);
    assert.equal(await c.call("PING"), "PONG");
    await c.send("*1\r\n$x\r\n");
    await c.closedWithin(2000);
    await server.stop("SIGINT");
    assert.match(server.stderr, / \. Accepted 127\.0\.0\.1:\d+ id=1/);
    assert.match(server.stderr, / \. Client closed id=1 /);
    assert.match(
      server.stderr,
      /Protocol error \(ERR Protocol error: invalid bulk length\)/,
    );
    assert.match(server.stderr, /Received SIGINT/);
  },
);

Deno.test("process: warning level is quiet", opts, async () => {
  await using server = await ServerProcess.start(["--loglevel", "warning"]);
  using c = await Conn.open(server.port);
  await c.call("PING");
  c.close();
  const status = await server.stop("SIGTERM");
  assert.equal(status.code, 0);
  assert.doesNotMatch(server.stderr, /Ready to accept/);
  assert.match(server.stderr, /Received SIGTERM/);
});

Deno.test(
  "process: SIGTERM finishes in-flight replies and exits 0",
  opts,
  async () => {
    await using server = await ServerProcess.start(["--loglevel", "warning"]);
    using c = await Conn.open(server.port);
    const n = 50_000;
    await c.send("INCR counter\r\n".repeat(n));
    assert.equal(await c.reply(), 1);
    const stopping = server.stop("SIGTERM");
    // Whatever we get back is whole and in order; the connection then ends.
    let expected = 2;
    try {
      while (true) {
        assert.equal(await c.reply(3000), expected);
        expected++;
      }
    } catch (e) {
      assert.match(String(e), /connection closed|reset|timed out/i);
    }
    const status = await stopping;
    assert.equal(status.code, 0);
    assert.ok(expected > 2);
  },
);

Deno.test("process: bad flags exit 2 naming the flag", opts, async () => {
  const r = await runServe(["--nope", "1"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown flag --nope/);
  const r2 = await runServe(["--port", "x"]);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /bad value for --port 'x'/);
  const r3 = await runServe(["--loglevel", "loud"]);
  assert.equal(r3.code, 2);
});

Deno.test("process: a port in use is a clear error", opts, async () => {
  const port = freePort();
  const blocker = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const r = await runServe(["--port", String(port)]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(`Could not listen on 127\\.0\\.0\\.1:${port}`),
    );
  } finally {
    blocker.close();
  }
});

Deno.test(
  "process: bound beyond loopback without a password warns, serves loopback",
  opts,
  async () => {
    await using server = await ServerProcess.start(["--host", "0.0.0.0"]);
    // Only loopback traffic here: loopback clients are still served.
    using c = await Conn.open(server.port, "127.0.0.1");
    assert.equal(await c.call("PING"), "PONG");
    assert.deepEqual(await c.call("CONFIG", "GET", "protected-mode"), [
      "protected-mode",
      "yes",
    ]);
    c.close();
    await server.stop();
    assert.match(
      server.stderr,
      /# Bound to 0\.0\.0\.0 with no password: protected mode/,
    );
  },
);

Deno.test("process: SHUTDOWN stops the server, exit 0", opts, async () => {
  await using server = await ServerProcess.start();
  using c = await Conn.open(server.port);
  await c.send("SHUTDOWN NOSAVE\r\n");
  assert.equal(await c.closedWithin(5000), true);
  const status = await server.process.status;
  assert.equal(status.code, 0);
  const stopped = await server.stop();
  assert.equal(stopped.code, 0);
  assert.match(server.stderr, /User requested shutdown/);
});
