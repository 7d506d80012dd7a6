// The append-only log on a full disk (a file-size limit stands in for it):
// writes are refused with -MISCONF while the log cannot be written, the
// server retries as Redis does, and once the log can grow again (here after
// BGREWRITEAOF compacts it) writes work again; nothing acknowledged is lost.
// Temporary files of a save or rewrite killed half-way are removed at
// start-up.

import assert from "node:assert/strict";
import { Conn, freePort, ServerProcess, waitForPort } from "./_helpers.ts";
import { ReplyError } from "../protocol.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const MAIN = new URL("../main.ts", import.meta.url).pathname;

for (const fsync of ["everysec", "always"]) {
  Deno.test(
    `aof (appendfsync ${fsync}): after a log write error, writes come back once the log can be written`,
    opts,
    () => writeErrorRecovers(fsync),
  );
}

async function writeErrorRecovers(fsync: string): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "kv-aof-err-" });
  const port = freePort();
  // 256 KiB per file at most; SIGXFSZ ignored, so a write past it fails
  // with EFBIG as on a full disk instead of killing the process.
  const child = new Deno.Command("sh", {
    args: [
      "-c",
      `trap '' XFSZ; ulimit -f 256; exec "$0" run -A "$1" serve --port "$2" --dir "$3" --appendonly yes --appendfsync "$4" --save "" --loglevel warning`,
      Deno.execPath(),
      MAIN,
      String(port),
      dir,
      fsync,
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reading = (async () => {
    for await (
      const chunk of child.stderr.pipeThrough(new TextDecoderStream())
    ) stderr += chunk;
  })();
  try {
    await waitForPort(port);
    const value = "v".repeat(1024);
    const acked: number[] = [];
    let failed = false;
    for (let i = 0; i < 1000 && !failed; i++) {
      const c = await Conn.open(port);
      try {
        const r = await c.call("SET", "k", `${i}:${value}`);
        if (r === "OK") acked.push(i);
        else failed = true;
      } catch {
        failed = true; // the reply was never sent: the log write failed
      } finally {
        c.close();
      }
    }
    assert.ok(failed, "the file-size limit was never reached");
    using c = await Conn.open(port);
    const refused = await c.call("SET", "other", "x");
    assert.ok(refused instanceof ReplyError, String(refused));
    assert.match(refused.message, /^MISCONF Errors writing to the AOF file/);
    // Reads still work; the last acknowledged write is there.
    const last = acked.at(-1)!;
    const got = await c.call("GET", "k") as string;
    assert.ok(got.startsWith(`${last}:`) || got.startsWith(`${last + 1}:`));
    // Compacting the log makes room: writes work again.
    assert.match(String(await c.call("BGREWRITEAOF")), /started/);
    let ok: unknown = null;
    for (let i = 0; i < 100 && ok !== "OK"; i++) {
      await new Promise((r) => setTimeout(r, 100));
      ok = await c.call("SET", "after", "1");
    }
    assert.equal(ok, "OK", stderr);
    assert.equal(await c.call("GET", "after"), "1");
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reading;
  }
  // After a restart (no limit), every acknowledged write is there.
  await using again = await ServerProcess.start(
    ["--appendonly", "yes", "--save", ""],
    dir,
  );
  using c = await Conn.open(again.port);
  assert.equal(await c.call("GET", "after"), "1");
  assert.ok(String(await c.call("GET", "k")).length > 1024);
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

Deno.test(
  "startup: temporary files of a killed save or rewrite are removed",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-temp-" });
    // Left by a process that no longer runs (pid 2^22 - 1 is never used).
    const stale = [
      `${dir}/temp-kv-bgsave-4194303-1700000000000-1.json`,
      `${dir}/temp-kv-rewriteaof-4194303-1700000000000-2.aof`,
    ];
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    for (const f of stale) {
      await Deno.writeTextFile(f, "x".repeat(1000));
      await Deno.utime(f, tenMinutesAgo, tenMinutesAgo);
    }
    // And a file that only looks alike but is not ours.
    await Deno.writeTextFile(`${dir}/temp-other.json`, "keep");
    await using _server = await ServerProcess.start(["--save", ""], dir);
    for (const f of stale) {
      await assert.rejects(() => Deno.stat(f), Deno.errors.NotFound);
    }
    assert.equal(await Deno.readTextFile(`${dir}/temp-other.json`), "keep");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  },
);
