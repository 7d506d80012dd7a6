// The append-only log when the disk fails under it, injected at the file
// boundary (Deno.FsFile's synchronous write and fsync, which the log uses):
// a short write then an error must not log any command twice, and a failed
// fsync under `appendfsync always` must not be acknowledged to any client
// whose writes it covered, including the other clients served in the same
// turn of the event loop (their log write is shared).

import assert from "node:assert/strict";
import { Conn, startServer } from "./_helpers.ts";
import { encodeCommand } from "../protocol.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const proto = Deno.FsFile.prototype;

/** Runs `fn` with `method` of every Deno.FsFile replaced; restores it. */
async function withFault<K extends "writeSync" | "syncDataSync">(
  method: K,
  replacement: (
    original: Deno.FsFile[K],
  ) => Deno.FsFile[K],
  fn: () => Promise<void>,
): Promise<void> {
  const original = proto[method];
  proto[method] = replacement(original);
  try {
    await fn();
  } finally {
    proto[method] = original;
  }
}

/** Runs `fn` while every call of `method` fails, as on a failing disk. */
function whileFailing(
  method: "writeSync" | "syncDataSync",
  fn: () => Promise<void>,
): Promise<void> {
  return withFault(
    method,
    () =>
      function (): never {
        throw new Error(`injected: ${method} failed`);
      },
    fn,
  );
}

/** Sends `argv` on a new connection: it must get no reply (closed). */
async function notAcknowledged(port: number, argv: string[]): Promise<void> {
  using c = await Conn.open(port);
  await c.send(encodeCommand(argv));
  assert.equal(await replyOrClosed(c), "closed");
}

/** Blocks the event loop for `ms`, so that what clients send meanwhile is
 * read by the server in one turn. */
function stall(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy */ }
}

/** The reply, or "closed" when the server closed the connection without
 * one. */
async function replyOrClosed(c: Conn): Promise<unknown> {
  try {
    return await c.reply(3000);
  } catch (e) {
    if (e instanceof Error && e.message === "connection closed") {
      return "closed";
    }
    throw e;
  }
}

async function waitWriteStatus(c: Conn, status: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const info = String(await c.call("INFO", "persistence"));
    if (info.includes(`aof_last_write_status:${status}\r\n`)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`aof_last_write_status never became ${status}`);
}

for (const fsync of ["everysec", "always"] as const) {
  Deno.test(
    `aof faults (appendfsync ${fsync}): a short write then an error logs nothing twice`,
    opts,
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "kv-aof-fault-" });
      {
        await using server = await startServer({
          dir,
          appendonly: true,
          appendfsync: fsync,
        });
        using admin = await Conn.open(server.port);
        assert.equal(await admin.call("SET", "n", "10"), "OK");
        using c = await Conn.open(server.port);
        let calls = 0;
        await withFault(
          "writeSync",
          (original) =>
            function (this: Deno.FsFile, p: Uint8Array): number {
              calls++;
              // Half the bytes, then an error, as a filling disk does.
              if (calls === 1) return original.call(this, p.subarray(0, 9));
              if (calls === 2) throw new Error("injected: no space left");
              return original.call(this, p);
            },
          async () => {
            await c.send(
              new Uint8Array([
                ...encodeCommand(["SET", "k", "v"]),
                ...encodeCommand(["INCR", "n"]),
              ]),
            );
            // Not acknowledged: the log could not be written.
            assert.equal(await replyOrClosed(c), "closed");
          },
        );
        // The cron writes the rest again a second later.
        await waitWriteStatus(admin, "ok");
        assert.equal(await admin.call("GET", "n"), "11");
      }
      // Replayed, the log holds each command once.
      await using again = await startServer({
        dir,
        appendonly: true,
        appendfsync: fsync,
      });
      using c = await Conn.open(again.port);
      assert.equal(await c.call("GET", "n"), "11");
      assert.equal(await c.call("GET", "k"), "v");
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  );
}

Deno.test(
  "aof faults (appendfsync always): a failed fsync acknowledges none of the writes it covered, from any client of the turn",
  opts,
  async () => {
    await using server = await startServer({
      appendonly: true,
      appendfsync: "always",
    });
    using admin = await Conn.open(server.port);
    const clients = await Promise.all(
      [0, 1, 2].map(() => Conn.open(server.port)),
    );
    try {
      // Every connection is set up (a first command answered) first.
      for (const c of clients) assert.equal(await c.call("PING"), "PONG");
      await whileFailing("syncDataSync", async () => {
        for (const [i, c] of clients.entries()) {
          await c.send(encodeCommand(["INCR", `counter:${i}`]));
        }
        stall(100);
        for (const c of clients) {
          assert.equal(await replyOrClosed(c), "closed");
        }
        // Writes are refused while the log cannot be made durable.
        const refused = await admin.call("SET", "x", "1");
        assert.ok(refused instanceof Error, String(refused));
        assert.match(refused.message, /^MISCONF/);
      });
      // The cron's retry succeeds once the disk does: writes work again.
      await waitWriteStatus(admin, "ok");
      assert.equal(await admin.call("SET", "x", "1"), "OK");
    } finally {
      for (const c of clients) c.close();
    }
  },
);

for (const fsync of ["everysec", "always"] as const) {
  Deno.test(
    `aof faults (appendfsync ${fsync}): turning the log off while it cannot be written lets writes work again`,
    opts,
    async () => {
      await using server = await startServer({
        appendonly: true,
        appendfsync: fsync,
      });
      using admin = await Conn.open(server.port);
      await whileFailing("writeSync", async () => {
        await notAcknowledged(server.port, ["SET", "x", "1"]);
        assert.equal(
          await admin.call("CONFIG", "SET", "appendonly", "no"),
          "OK",
        );
        // No log: nothing to refuse writes for.
        assert.equal(await admin.call("SET", "z", "1"), "OK");
      });
      assert.equal(await admin.call("GET", "z"), "1");
    },
  );
}

Deno.test(
  "aof faults (appendfsync always): after a failed fsync is retried, a blocked client's timeout and later writes are answered",
  opts,
  async () => {
    await using server = await startServer({
      appendonly: true,
      appendfsync: "always",
    });
    using admin = await Conn.open(server.port);
    await whileFailing(
      "syncDataSync",
      () => notAcknowledged(server.port, ["INCR", "n"]),
    );
    await waitWriteStatus(admin, "ok");
    // Nothing was written since: a blocked client's timeout is answered.
    using blocked = await Conn.open(server.port);
    assert.equal(await blocked.call("BLPOP", "nothing", "0.1"), null);
    assert.equal(await blocked.call("PING"), "PONG");
    assert.equal(await admin.call("INCR", "n"), 2);
  },
);
