// The memory limit end to end, on a server process of its own: eviction
// keeps used_memory and RSS bounded while far more is written, and with no
// maxmemory the server refuses writes before V8's heap limit would abort
// it. Set KV_MEMORY_TESTS=1 (deno task test:memory) for the 400 MB fill;
// the default run writes less.

import assert from "node:assert/strict";
import { encodeCommand } from "../protocol.ts";
import { Conn, freePort, waitForPort } from "./_helpers.ts";

const FULL = Deno.env.get("KV_MEMORY_TESTS") === "1";
const MB = 1024 * 1024;

/** `main.ts serve` in a process of its own, with V8 flags. */
async function spawnServer(v8Flags: string[], args: string[]) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--v8-flags=${["--max-semi-space-size=2", ...v8Flags].join(",")}`,
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "serve",
      "--port",
      String(port),
      "--save",
      "",
      "--loglevel",
      "warning",
      ...args,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitForPort(port, 20000);
  } catch (e) {
    child.kill("SIGKILL");
    await child.status;
    throw e;
  }
  return {
    port,
    pid: child.pid,
    child,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
    },
  };
}

/** VmRSS and VmHWM (peak) of a process, in bytes. */
async function rssOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (name: string) =>
    Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

function infoField(info: string, name: string): number {
  const m = new RegExp(`\r\n${name}:(\\d+)\r\n`).exec(info);
  assert.ok(m, `no ${name} in INFO`);
  return Number(m[1]);
}

/** Sends `count` SETs of `size`-byte values in pipelined batches; returns
 * the replies that were not +OK (counted by text). */
async function fill(
  c: Conn,
  prefix: string,
  count: number,
  size: number,
  onBatch?: () => Promise<void>,
): Promise<Map<string, number>> {
  const others = new Map<string, number>();
  const value = "v".repeat(size - 8);
  const batch = 500;
  for (let i = 0; i < count; i += batch) {
    const parts: Uint8Array[] = [];
    const n = Math.min(batch, count - i);
    for (let j = 0; j < n; j++) {
      const id = String(i + j).padStart(8, "0");
      parts.push(encodeCommand(["SET", `${prefix}${id}`, value + id]));
    }
    let total = 0;
    for (const p of parts) total += p.length;
    const all = new Uint8Array(total);
    let off = 0;
    for (const p of parts) {
      all.set(p, off);
      off += p.length;
    }
    await c.send(all);
    for (let j = 0; j < n; j++) {
      const r = await c.reply(30000);
      if (r !== "OK") {
        const text = String(r instanceof Error ? r.message : r);
        others.set(text, (others.get(text) ?? 0) + 1);
      }
    }
    if (onBatch) await onBatch();
  }
  return others;
}

Deno.test({
  name:
    "eviction: writing 4x maxmemory under allkeys-lru keeps used_memory and RSS bounded",
  async fn() {
    const limit = FULL ? 100 * MB : 32 * MB;
    const total = 4 * limit;
    await using server = await spawnServer([], [
      "--maxmemory",
      String(limit),
      "--maxmemory-policy",
      "allkeys-lru",
    ]);
    const c = await Conn.open(server.port);
    const info = new Conn(await Deno.connect({ port: server.port }));
    let maxUsed = 0;
    let batches = 0;
    try {
      const errors = await fill(c, "k:", total / 1024, 1024, async () => {
        if (++batches % 20 !== 0) return;
        const text = String(await info.call("INFO", "memory"));
        maxUsed = Math.max(maxUsed, infoField(text, "used_memory"));
      });
      assert.deepEqual([...errors], []);
      const text = String(await info.call("INFO", "memory"));
      const used = infoField(text, "used_memory");
      maxUsed = Math.max(maxUsed, used);
      const stats = String(await info.call("INFO", "stats"));
      const evicted = infoField(stats, "evicted_keys");
      const keys = await info.call("DBSIZE") as number;
      // The server collects evicted values' garbage at most once a second
      // (data/_memory.ts cron): RSS is read once that has had its chance
      // (up to 3 s), not at whatever moment the last batch ended (seen
      // between 99 and 155 MB right after it).
      let { rss, peak } = await rssOf(server.pid);
      for (
        let i = 0;
        i < 30 && rss >= 60 * MB + 2.5 * limit;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
        ({ rss, peak } = await rssOf(server.pid));
      }
      console.log(
        `limit ${limit / MB} MB, wrote ${total / MB} MB: keys ${keys}, ` +
          `evicted ${evicted}, used_memory max ${
            (maxUsed / MB).toFixed(1)
          } MB, RSS ${(rss / MB).toFixed(1)} MB (peak ${
            (peak / MB).toFixed(1)
          } MB)`,
      );
      assert.ok(maxUsed <= limit * 1.1, `used_memory reached ${maxUsed}`);
      assert.ok(used <= limit * 1.1);
      assert.ok(evicted > 0 && keys + evicted === total / 1024);
      assert.ok(rss < 60 * MB + 2.5 * limit, `RSS ${rss}`);
      // With 100 MB, the peak too (a small limit is dwarfed by V8's own).
      if (FULL) assert.ok(peak < 60 * MB + 2.5 * limit, `peak RSS ${peak}`);
      // The last keys written are still there.
      const last = String(total / 1024 - 1).padStart(8, "0");
      assert.equal(
        (await c.call("GET", `k:${last}`) as string).slice(-8),
        last,
      );
    } finally {
      c.close();
      info.close();
    }
  },
});

Deno.test({
  name:
    "eviction: with no maxmemory, writes past V8's heap ceiling answer -OOM and the server stays up",
  async fn() {
    await using server = await spawnServer(["--max-old-space-size=128"], []);
    const c = await Conn.open(server.port);
    try {
      // Bounded: 400 MB of 4 KB values could never fit a 128 MB heap.
      const value = "x".repeat(4096);
      let oom = 0;
      let written = 0;
      for (let i = 0; i < 100_000 && oom < 100; i += 100) {
        const parts: Uint8Array[] = [];
        for (let j = i; j < i + 100; j++) {
          parts.push(encodeCommand(["SET", `big:${j}`, value + j]));
        }
        for (const p of parts) await c.send(p);
        for (let j = 0; j < 100; j++) {
          const r = await c.reply(30000);
          if (r === "OK") written++;
          else {
            assert.ok(r instanceof Error, String(r));
            assert.equal(
              r.message,
              "OOM command not allowed when used memory > 'maxmemory'.",
            );
            oom++;
          }
        }
      }
      assert.ok(oom > 0, `no OOM after ${written} writes`);
      assert.ok(written > 5000, `only ${written} writes before OOM`);
      // Still up: reads and DEL work, denyoom commands do not.
      assert.equal(await c.call("PING"), "PONG");
      assert.equal(
        (await c.call("GET", "big:0") as string).length,
        4097,
      );
      assert.ok(await c.call("SET", "more", "x") instanceof Error);
      const dels: string[] = [];
      for (let j = 0; j < written; j += 1) dels.push(`big:${j}`);
      let deleted = 0;
      for (let j = 0; j < dels.length; j += 1000) {
        deleted += await c.call("DEL", ...dels.slice(j, j + 1000)) as number;
      }
      assert.equal(deleted, written);
      assert.equal(await c.call("SET", "more", "x"), "OK");
      // And can be filled again.
      let again = 0;
      for (let j = 0; j < 2000; j++) {
        if (await c.call("SET", `again:${j}`, value) === "OK") again++;
      }
      assert.equal(again, 2000);
      const info = String(await c.call("INFO", "memory"));
      assert.ok(infoField(info, "v8_heap_size_limit") < 300 * MB);
    } finally {
      c.close();
    }
  },
});

Deno.test({
  name:
    "eviction: a maxmemory larger than the V8 heap allows re-runs the server with a larger heap",
  async fn() {
    await using server = await spawnServer(["--max-old-space-size=64"], [
      "--maxmemory",
      "200mb",
    ]);
    const c = await Conn.open(server.port);
    let pid = 0;
    try {
      const info = String(await c.call("INFO"));
      pid = infoField(info, "process_id");
      assert.notEqual(pid, server.pid); // the re-run child serves
      assert.equal(infoField(info, "maxmemory"), 200 * MB);
      assert.ok(infoField(info, "v8_heap_size_limit") >= 400 * MB);
      await c.send(encodeCommand(["SHUTDOWN", "NOSAVE"]));
      assert.ok(await c.closedWithin(10000));
      // The wrapper exits with its child.
      const status = await server.child.status;
      assert.equal(status.code, 0);
    } finally {
      c.close();
      try {
        if (pid !== 0) Deno.kill(pid, "SIGKILL");
      } catch {
        // gone, as it should be
      }
    }
  },
});
