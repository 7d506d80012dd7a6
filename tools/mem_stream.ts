// Memory per stream entry: RSS growth after 1,000,000 XADDs of one small
// field each to one stream, on our server and on redis-server, each in a
// fresh process; prints bytes per entry and the ratio.
//
//   deno run --allow-all tools/mem_stream.ts [--entries N]
//
// Everything runs on loopback; every process started here is stopped.

import { parseArgs } from "node:util";
import { rss, startOurs, startRedis, type Target } from "./_mem.ts";

const { values: flags } = parseArgs({
  options: {
    entries: { type: "string", default: "1000000" },
    "no-warmup": { type: "boolean", default: false },
  },
});
const ENTRIES = Number(flags.entries);
const WARMUP = !flags["no-warmup"];

/** XADD <key> <id> f <n> for n in [from, to), as one RESP byte stream; ids
 * as `*` would make them over about a second: consecutive milliseconds with
 * a few entries each. */
function commands(from: number, to: number, key = "s"): Uint8Array {
  const parts: string[] = [];
  const base = 1_700_000_000_000;
  for (let i = from; i < to; i++) {
    const id = `${base + Math.floor(i / 4)}-${i % 4}`;
    const v = String(i);
    parts.push(
      `*5\r\n$4\r\nXADD\r\n$${key.length}\r\n${key}\r\n$${id.length}\r\n${id}\r\n$1\r\nf\r\n$${v.length}\r\n${v}\r\n`,
    );
  }
  return new TextEncoder().encode(parts.join(""));
}

/** Sends everything in chunks and reads the replies. */
async function load(port: number, entries = ENTRIES, key = "s") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const chunk = 50_000;
  const buf = new Uint8Array(1 << 20);
  try {
    for (let at = 0; at < entries; at += chunk) {
      const n = Math.min(chunk, entries - at);
      const data = commands(at, at + n, key);
      const writing = (async () => {
        for (let off = 0; off < data.length;) {
          off += await conn.write(data.subarray(off));
        }
      })();
      // Each reply is one line ending in \n (bulk: two): count line ends.
      let lines = 0;
      while (lines < 2 * n) {
        const r = await conn.read(buf);
        if (r === null) throw new Error("connection closed");
        for (let i = 0; i < r; i++) if (buf[i] === 10) lines++;
      }
      await writing;
    }
  } finally {
    conn.close();
  }
}

/** Warms the process up (buffers, compiled code, the young generation) with
 * a stream that is then deleted, so the measure counts the entries only. */
async function warmUp(port: number): Promise<void> {
  if (!WARMUP) return;
  await load(port, 100_000, "warm");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await conn.write(
      new TextEncoder().encode("*2\r\n$3\r\nDEL\r\n$4\r\nwarm\r\n"),
    );
    await conn.read(new Uint8Array(64));
  } finally {
    conn.close();
  }
}

async function settle(pid: number): Promise<number> {
  // Let the allocator and the GC settle (V8 gives memory back once idle
  // for a few seconds); take the lowest of the samples.
  let best = Infinity;
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    best = Math.min(best, rss(pid));
  }
  return best;
}

/** Entry cost on a fresh server from `start`. */
async function measureOn(start: () => Promise<Target>): Promise<number> {
  await using server = await start();
  await warmUp(server.port);
  const before = await settle(server.pid);
  await load(server.port);
  const after = await settle(server.pid);
  return (after - before) / ENTRIES;
}

const redisPer = await measureOn(startRedis);
const oursPer = await measureOn(startOurs);
console.log(`entries: ${ENTRIES} (XADD s <ms-seq> f <n>)`);
console.log(`redis-server: ${redisPer.toFixed(1)} bytes/entry`);
console.log(`@kv/store:    ${oursPer.toFixed(1)} bytes/entry`);
console.log(`ratio:        ${(oursPer / redisPer).toFixed(2)}x`);
