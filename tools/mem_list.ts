// Memory of one 1M-element list: RSS per element on our server and on
// redis-server, and the ratio.
//
//   deno run --allow-all tools/mem_list.ts [elements]
//   (WARMUP=0 to skip the warm-up, SETTLE_MS=... to wait longer)
//
// Each server starts fresh; the list is built with pipelined RPUSHes of
// 1000 elements; RSS (from /proc) is read before and after, once it has
// settled.

import { encodeCommand } from "../protocol.ts";
import {
  sendCounting,
  sleep,
  startOurs,
  startRedis,
  type Target,
} from "./_mem.ts";

const N = Number(Deno.args[0] ?? 1_000_000);
const BATCH = 1000;
/** Set WARMUP=0 to measure from a cold start. */
const WARMUP = Deno.env.get("WARMUP") !== "0";

/** Resident memory of a process in bytes: all of it (VmRSS), and its
 * anonymous part (RssAnon: the data, without the pages of the executable
 * that running new code paths maps in). */
async function rss(pid: number): Promise<{ all: number; anon: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kb = (name: string) => {
    const m = status.match(new RegExp(`${name}:\\s+(\\d+) kB`));
    if (!m) throw new Error(`no ${name}`);
    return Number(m[1]) * 1024;
  };
  return { all: kb("VmRSS"), anon: kb("RssAnon") };
}

/** Sends the commands, pipelined, and waits for one line of reply each
 * (every command here answers an integer or +OK). */
function send(conn: Deno.TcpConn, cmds: Uint8Array[]): Promise<void> {
  return sendCounting(conn, cmds, cmds.length);
}

/** A way to fill the server: `units` things (elements, lists), built by
 * the commands `build(from, to, key)` returns for units [from, to). */
interface Shape {
  label: string;
  unit: string;
  units: number;
  build(from: number, to: number, key: string): Uint8Array[];
}

/** One list of N elements made by `element`. */
function oneList(label: string, element: (i: number) => string): Shape {
  return {
    label,
    unit: "element",
    units: N,
    build(from, to, key) {
      const cmds: Uint8Array[] = [];
      for (let b = from; b < to; b += BATCH) {
        const args = ["RPUSH", key];
        for (let j = b; j < Math.min(to, b + BATCH); j++) args.push(element(j));
        cmds.push(encodeCommand(args));
      }
      return cmds;
    },
  };
}

/** RSS growth per unit (all, anonymous) after building the shape. */
async function measure(
  target: Target,
  shape: Shape,
): Promise<{ all: number; anon: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: target.port });
  const total = shape.units;
  const step = Math.max(1, Math.floor(total / 20));
  try {
    // Warm up with a tenth of the data, deleted again: the code paths
    // (and, for us, the JIT's and the GC's code pages) are then in memory
    // before the baseline, which leaves the data's own cost.
    if (WARMUP) {
      await send(conn, shape.build(0, Math.floor(total / 10), "warmup"));
      await send(conn, [encodeCommand(["FLUSHALL"])]);
    }
    await send(conn, [encodeCommand(["RPUSH", "baseline", "x"])]);
    await sleep(500);
    const before = await rss(target.pid);
    for (let i = 0; i < total; i += step) {
      await send(conn, shape.build(i, Math.min(total, i + step), "list"));
    }
    await sleep(Number(Deno.env.get("SETTLE_MS") ?? 2000));
    const after = await rss(target.pid);
    return {
      all: (after.all - before.all) / total,
      anon: (after.anon - before.anon) / total,
    };
  } finally {
    conn.close();
  }
}

const SHAPES: Shape[] = [
  oneList("14-byte strings (element:NNNNNN)", (i) => "element:" + (100000 + i)),
  oneList("small integers (0..N)", (i) => String(i)),
  oneList(
    "40-byte strings",
    (i) => "a fairly long list element number " + (100000 + i),
  ),
  {
    label: `${N / 100} lists of 200 elements (element:NNNNNN)`,
    unit: "list",
    units: N / 100,
    build(from, to, key) {
      const cmds: Uint8Array[] = [];
      for (let i = from; i < to; i++) {
        const args = ["RPUSH", `${key}:${i}`];
        for (let j = 0; j < 200; j++) args.push("element:" + (100000 + j));
        cmds.push(encodeCommand(args));
      }
      return cmds;
    },
  },
  {
    label: `${N / 10} lists of 10 short elements`,
    unit: "list",
    units: N / 10,
    build(from, to, key) {
      const cmds: Uint8Array[] = [];
      for (let i = from; i < to; i++) {
        cmds.push(encodeCommand([
          "RPUSH",
          `${key}:${i}`,
          "a",
          "bb",
          "ccc",
          "element:1",
          "element:2",
          "12",
          "345",
          "x",
          "y",
          "z",
        ]));
      }
      return cmds;
    },
  },
];

for (const shape of SHAPES) {
  const results: { all: number; anon: number }[] = [];
  for (const start of [startRedis, startOurs]) {
    const target = await start();
    try {
      results.push(await measure(target, shape));
    } finally {
      await target.stop();
    }
  }
  const [redis, ours] = results;
  const f = (n: number) => n.toFixed(1);
  const u = shape.unit;
  console.log(
    `${shape.label}: RSS per ${u}: redis-server ${f(redis.all)} B, ` +
      `@kv/store ${f(ours.all)} B, ratio ${
        (ours.all / redis.all).toFixed(2)
      }x;` +
      ` anonymous RSS: redis-server ${f(redis.anon)} B, @kv/store ${
        f(ours.anon)
      } B, ratio ${(ours.anon / redis.anon).toFixed(2)}x`,
  );
}
