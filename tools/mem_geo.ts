// Memory per point of a geo index: RSS growth of one 1M-point GEOADD key
// on our server and on redis-server, and the ratio.
//
//   deno run --allow-all tools/mem_geo.ts [points]

import { freePort, RedisServer, waitForPort } from "./_processes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const COUNT = Number(Deno.args[0] ?? 1_000_000);
const BATCH = 1000;
const SETTLE_SECONDS = Number(Deno.env.get("SETTLE") ?? 3);
const encoder = new TextEncoder();

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** GEOADD commands of `member:<i>` at seeded random positions, BATCH
 * points each. */
function loadData(): { data: Uint8Array; commands: number } {
  let seed = 42;
  const rand = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const parts: string[] = [];
  let commands = 0;
  for (let i = 0; i < COUNT; i += BATCH) {
    const n = Math.min(BATCH, COUNT - i);
    parts.push(`*${2 + 3 * n}\r\n$6\r\nGEOADD\r\n$3\r\ngeo\r\n`);
    for (let j = i; j < i + n; j++) {
      const lon = (rand() * 360 - 180).toFixed(6);
      const lat = ((rand() * 2 - 1) * 85).toFixed(6);
      const member = `member:${j}`;
      parts.push(
        `$${lon.length}\r\n${lon}\r\n$${lat.length}\r\n${lat}\r\n` +
          `$${member.length}\r\n${member}\r\n`,
      );
    }
    commands++;
  }
  return { data: encoder.encode(parts.join("")), commands };
}

/** Sends the pipelined commands and waits for every reply. */
async function send(port: number, data: Uint8Array, replies: number) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const reading = (async () => {
      const buf = new Uint8Array(64 * 1024);
      let seen = 0;
      while (seen < replies) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("connection closed");
        for (let i = 0; i < n; i++) {
          if (buf[i] === 10) seen++;
          if (buf[i] === 45) throw new Error("error reply");
        }
      }
    })();
    for (let at = 0; at < data.length;) {
      at += await conn.write(data.subarray(at, at + (1 << 20)));
    }
    await reading;
  } finally {
    conn.close();
  }
}

async function measure(
  pid: number,
  port: number,
  load: { data: Uint8Array; commands: number },
): Promise<number> {
  await new Promise((r) => setTimeout(r, 500));
  const before = rss(pid);
  await send(port, load.data, load.commands);
  // Let a garbage-collected heap settle (V8's memory reducer runs a few
  // seconds after allocation stops); redis-server's RSS does not move.
  let after = rss(pid);
  for (let i = 0; i < SETTLE_SECONDS; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    after = rss(pid);
  }
  return after - before;
}

async function ours(load: { data: Uint8Array; commands: number }) {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "kv-mem-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--max-semi-space-size=2",
      "--allow-all",
      "main.ts",
      "serve",
      "--port",
      String(port),
      "--save",
      "",
      "--loglevel",
      "warning",
      "--dir",
      dir,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  try {
    await waitForPort(port);
    return await measure(child.pid, port, load);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

async function redis(load: { data: Uint8Array; commands: number }) {
  await using server = await RedisServer.start();
  return await measure(server.process.pid, server.port, load);
}

const load = loadData();
const a = await ours(load);
const b = await redis(load);
const per = (bytes: number) => (bytes / COUNT).toFixed(1);
console.log(
  `${COUNT} points in one key: ours ${per(a)} B/point, redis-server ${
    per(b)
  } B/point, ratio ${(a / b).toFixed(2)}`,
);
