// Stopping the server never loses an acknowledged write: SHUTDOWN and
// SIGTERM stop taking commands first, then save, then exit, also while a
// background save or log rewrite runs (Redis stops the child and saves).

import assert from "node:assert/strict";
import { Conn, ServerProcess, startServer } from "./_helpers.ts";
import { ReplyError } from "../protocol.ts";
import { type Ack, missingAfterRestart, preload, writer } from "./_writes.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

type Stop = "SIGTERM" | "SHUTDOWN";
type During = "none" | "bgsave" | "rewrite";

/** Writers pipeline numbered SETs; the server is stopped mid-stream by
 * `how` (while `during` runs); after a restart every acknowledged write
 * must be there, and the server must have exited by itself. */
async function stopRun(
  how: Stop,
  during: During,
  args: string[],
  afterMs = 300,
) {
  const dir = await Deno.makeTempDir({ prefix: "kv-stop-" });
  try {
    const server = await ServerProcess.start(args, dir);
    if (during !== "none") await preload(server.port, 150_000);
    const setup = await Conn.open(server.port);
    await setup.call("SET", "big", "x".repeat(2048));
    setup.close();
    const stop = { killed: false };
    // Plain writers, and two whose batches also read a large value: the
    // stop comes while some batches are being read, run or answered.
    const writers = [...Array(8).keys()].map((n) =>
      writer(server.port, stop, `w${n}`, n < 2 ? "big" : undefined)
    );
    await new Promise((r) => setTimeout(r, afterMs));
    const admin = await Conn.open(server.port);
    if (during !== "none") {
      const reply = await admin.call(
        during === "bgsave" ? "BGSAVE" : "BGREWRITEAOF",
      );
      assert.match(String(reply), /started/);
    }
    if (how === "SIGTERM") server.process.kill("SIGTERM");
    else await admin.send("SHUTDOWN\r\n");
    // It exits by itself, without a SIGKILL (bounded wait).
    const exited = await Promise.race([
      server.process.status.then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), 20_000)),
    ]);
    stop.killed = true;
    admin.close();
    const status = await server.stop("SIGKILL");
    const acks = await Promise.all(writers);
    assert.ok(exited, `the server did not exit:\n${server.stderr}`);
    assert.equal(status.code, 0, server.stderr);
    let total = 0;
    for (const [n, a] of acks.entries()) {
      total += a.length;
      const missing: Ack[] = await missingAfterRestart(dir, args, a, `w${n}`);
      assert.deepEqual(
        missing.map((m) => m.i),
        [],
        `${missing.length} of ${a.length} acknowledged writes of writer ${n} lost`,
      );
    }
    assert.ok(total > 200, `only ${total} writes acknowledged`);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const SNAPSHOTS = ["--save", "3600 1", "--loglevel", "warning"];
const AOF_AND_SNAPSHOTS = [
  "--appendonly",
  "yes",
  "--appendfsync",
  "everysec",
  ...SNAPSHOTS,
];

for (const how of ["SIGTERM", "SHUTDOWN"] as const) {
  Deno.test(
    `shutdown: ${how} in snapshot mode loses no acknowledged write`,
    opts,
    async () => {
      // The race is narrow: several rounds, with the stop at other times.
      for (const afterMs of [150, 300, 450, 600]) {
        await stopRun(how, "none", SNAPSHOTS, afterMs);
      }
    },
  );
  Deno.test(
    `shutdown: ${how} during BGSAVE stops it, saves and exits`,
    opts,
    () => stopRun(how, "bgsave", SNAPSHOTS),
  );
  Deno.test(
    `shutdown: ${how} during BGREWRITEAOF stops it, saves and exits`,
    opts,
    () => stopRun(how, "rewrite", AOF_AND_SNAPSHOTS),
  );
}

Deno.test(
  "shutdown: when the final save fails, SHUTDOWN answers an error and the server goes on",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-stop-" });
    await using server = await startServer({ dir, save: [[3600, 1]] });
    using c = await Conn.open(server.port);
    assert.equal(await c.call("SET", "k", "v"), "OK");
    await Deno.remove(dir, { recursive: true }); // the save cannot succeed
    await c.send("SET a 1\r\nSHUTDOWN\r\nGET k\r\n");
    assert.equal(await c.reply(), "OK");
    const reply = await c.reply();
    assert.ok(reply instanceof ReplyError);
    assert.equal(reply.message, "ERR Errors trying to SHUTDOWN. Check logs.");
    assert.equal(await c.reply(), "v");
    using other = await Conn.open(server.port);
    assert.equal(await other.call("PING"), "PONG");
    // NOSAVE exits without saving, with no reply.
    await c.send("SHUTDOWN NOSAVE\r\n");
    await server.finished;
  },
);
