// Crash safety with the real server process: a writer sends numbered writes
// and records which were acknowledged; the server is killed with SIGKILL
// mid-stream (also during BGSAVE and during a log rewrite); after a restart
// every acknowledged write is there with appendfsync always, and with
// everysec what is missing was acknowledged in the last second.

import assert from "node:assert/strict";
import { Conn, ServerProcess } from "./_helpers.ts";
import { missingAfterRestart, preload, writer } from "./_writes.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function crashRun(
  fsync: "always" | "everysec",
  during: "bgsave" | "rewrite" | "none",
  killAfterMs: number,
) {
  const dir = await Deno.makeTempDir({ prefix: "kv-crash-" });
  const args = [
    "--appendonly",
    "yes",
    "--appendfsync",
    fsync,
    "--save",
    "",
    "--loglevel",
    "warning",
  ];
  try {
    const server = await ServerProcess.start(args, dir);
    if (during !== "none") await preload(server.port, 100_000);
    const stop = { killed: false };
    const writing = writer(server.port, stop);
    await new Promise((r) => setTimeout(r, killAfterMs));
    if (during !== "none") {
      const admin = await Conn.open(server.port);
      const reply = await admin.call(
        during === "bgsave" ? "BGSAVE" : "BGREWRITEAOF",
      );
      assert.match(String(reply), /started/);
      const info = await admin.call("INFO", "persistence") as string;
      assert.match(
        info,
        during === "bgsave"
          ? /rdb_bgsave_in_progress:1/
          : /aof_rewrite_in_progress:1/,
        "the background job should still be running when the kill comes",
      );
      admin.close();
    }
    const killedAt = Date.now();
    server.process.kill("SIGKILL");
    stop.killed = true;
    await server.process.status;
    await server.stop("SIGKILL");
    const acks = await writing;
    assert.ok(acks.length > 100, `only ${acks.length} writes acknowledged`);
    const missing = await missingAfterRestart(dir, args, acks);
    return { acks, missing, killedAt };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

for (const during of ["none", "bgsave", "rewrite"] as const) {
  for (const killAfterMs of during === "none" ? [150, 700] : [300]) {
    Deno.test(
      `crash: appendfsync always loses no acknowledged write (kill after ${killAfterMs} ms${
        during === "none" ? "" : `, during ${during}`
      })`,
      opts,
      async () => {
        const { acks, missing } = await crashRun("always", during, killAfterMs);
        assert.deepEqual(
          missing.map((a) => a.i),
          [],
          `${missing.length} of ${acks.length} acknowledged writes lost`,
        );
      },
    );
  }
}

Deno.test(
  "crash: appendfsync everysec loses at most the last second",
  opts,
  async () => {
    const { acks, missing, killedAt } = await crashRun(
      "everysec",
      "none",
      1500,
    );
    // What is missing was acknowledged within about a second of the kill
    // (plus the fsync's own time on a busy machine).
    for (const a of missing) {
      assert.ok(
        a.at >= killedAt - 2000,
        `w:${a.i} acknowledged ${killedAt - a.at} ms before the kill is lost`,
      );
    }
    assert.ok(missing.length < acks.length, "everything was lost");
  },
);

Deno.test(
  "crash: a kill during SAVE or BGSAVE leaves the previous snapshot whole",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-crash-" });
    const args = ["--save", "", "--loglevel", "warning"];
    try {
      for (
        const [command, delay] of [["BGSAVE", 20], ["SAVE", 30], [
          "BGSAVE",
          100,
        ]] as const
      ) {
        await Deno.remove(`${dir}/dump.json`).catch(() => {});
        const server = await ServerProcess.start(args, dir);
        const c = await Conn.open(server.port);
        await c.call("SET", "first", "snapshot");
        assert.equal(await c.call("SAVE"), "OK");
        c.close();
        await preload(server.port, 200_000);
        const c2 = await Conn.open(server.port);
        await c2.send(`${command}\r\n`);
        await new Promise((r) => setTimeout(r, delay));
        server.process.kill("SIGKILL");
        await server.stop("SIGKILL");
        c2.close();
        // The file is the old snapshot or the new one, whole: it loads.
        await using again = await ServerProcess.start(args, dir);
        const c3 = await Conn.open(again.port);
        const size = await c3.call("DBSIZE") as number;
        assert.ok(
          size === 1 || size === 200_001,
          `${command}: loaded ${size} keys`,
        );
        assert.equal(await c3.call("GET", "first"), "snapshot");
        c3.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);
