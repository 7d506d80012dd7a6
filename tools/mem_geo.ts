// Memory per point of a geo index: RSS growth of one 1M-point GEOADD key
// on our server and on redis-server, and the ratio.
//
//   deno run --allow-all tools/mem_geo.ts [points]

import {
  rss,
  sendCounting,
  sleep,
  startOurs,
  startRedis,
  type Target,
} from "./_mem.ts";

const COUNT = Number(Deno.args[0] ?? 1_000_000);
const BATCH = 1000;
const SETTLE_SECONDS = Number(Deno.env.get("SETTLE") ?? 3);
const encoder = new TextEncoder();

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
    await sendCounting(conn, [data], replies);
  } finally {
    conn.close();
  }
}

async function measure(
  pid: number,
  port: number,
  load: { data: Uint8Array; commands: number },
): Promise<number> {
  await sleep(500);
  const before = rss(pid);
  await send(port, load.data, load.commands);
  // Let a garbage-collected heap settle (V8's memory reducer runs a few
  // seconds after allocation stops); redis-server's RSS does not move.
  let after = rss(pid);
  for (let i = 0; i < SETTLE_SECONDS; i++) {
    await sleep(1000);
    after = rss(pid);
  }
  return after - before;
}

/** Measures the load on a fresh server from `start`. */
async function measureOn(
  start: () => Promise<Target>,
  load: { data: Uint8Array; commands: number },
): Promise<number> {
  await using server = await start();
  return await measure(server.pid, server.port, load);
}

const load = loadData();
const a = await measureOn(
  () => startOurs({ permissions: ["--allow-all"] }),
  load,
);
const b = await measureOn(startRedis, load);
const per = (bytes: number) => (bytes / COUNT).toFixed(1);
console.log(
  `${COUNT} points in one key: ours ${per(a)} B/point, redis-server ${
    per(b)
  } B/point, ratio ${(a / b).toFixed(2)}`,
);
