// Start-up time with a snapshot: from spawning the server until DBSIZE
// answers the expected count, for redis-server (dump.rdb), this checkout's
// server and optionally another checkout's (--base DIR) (dump.json), in
// interleaved rounds; medians and ratios to redis-server. The data
// directories are only read (servers run with --save "" and are killed).
//
//   deno run --allow-all tools/bench_startup.ts --ours-dir D1 \
//     --redis-dir D2 --keys 1000000 [--base DIR] [--rounds 5]

import { parseArgs } from "node:util";
import { freePort, serveArgs } from "./_processes.ts";

const { values: flags } = parseArgs({
  options: {
    "ours-dir": { type: "string" },
    "redis-dir": { type: "string" },
    keys: { type: "string", default: "1000000" },
    rounds: { type: "string", default: "5" },
    base: { type: "string" },
  },
});
const ROOT = new URL("../", import.meta.url).pathname;
const KEYS = flags.keys;

/** Sends DBSIZE every few ms (reconnecting while nothing listens) until it
 * answers `KEYS`; bounded to 60 s. */
async function waitKeys(port: number): Promise<void> {
  const deadline = performance.now() + 60_000;
  const req = new TextEncoder().encode("DBSIZE\r\n");
  const buf = new Uint8Array(256);
  let conn: Deno.TcpConn | null = null;
  try {
    while (performance.now() < deadline) {
      try {
        conn ??= await Deno.connect({ hostname: "127.0.0.1", port });
        await conn.write(req);
        const n = await conn.read(buf);
        if (n === null) throw new Error("closed");
        const reply = new TextDecoder().decode(buf.subarray(0, n)).trim();
        if (reply === `:${KEYS}`) return;
      } catch {
        conn?.close();
        conn = null;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    throw new Error(`no ${KEYS} keys on ${port} after 60 s`);
  } finally {
    conn?.close();
  }
}

/** CPU time (user + system, all threads) a process used so far, in ms:
 * steadier than wall time on a shared machine. */
function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (utime, stime) are 12 and 13 after the name.
  return (Number(f[11]) + Number(f[12])) * 1000 / 100;
}

const cpu = new Map<string, number[]>();

async function once(which: "redis" | "ours" | "base"): Promise<number> {
  const port = freePort();
  const t0 = performance.now();
  const cmd = which === "redis"
    ? new Deno.Command("redis-server", {
      args: ["--port", String(port), "--bind", "127.0.0.1", "--save", ""]
        .concat(["--appendonly", "no", "--dir", flags["redis-dir"]!]),
      stdout: "null",
      stderr: "null",
    })
    : new Deno.Command(Deno.execPath(), {
      args: [...await serveArgs(which === "ours" ? ROOT : flags.base!)]
        .concat(["--port", String(port), "--save", "", "--loglevel"])
        .concat(["warning", "--dir", flags["ours-dir"]!]),
      cwd: which === "ours" ? ROOT : flags.base!,
      stdout: "null",
      stderr: "null",
    });
  const child = cmd.spawn();
  try {
    await waitKeys(port);
    const ms = performance.now() - t0;
    if (!cpu.has(which)) cpu.set(which, []);
    cpu.get(which)!.push(cpuMs(child.pid));
    return ms;
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const order: ("redis" | "ours" | "base")[] = flags.base
  ? ["redis", "ours", "base"]
  : ["redis", "ours"];
const times = new Map<string, number[]>(order.map((w) => [w, []]));
for (let round = 0; round < Number(flags.rounds); round++) {
  const line: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const w = order[(i + round) % order.length];
    const ms = await once(w);
    times.get(w)!.push(ms);
    line.push(`${w} ${ms.toFixed(0)} ms`);
  }
  console.log(`round ${round + 1}: ${line.join(", ")}`);
}
const r = median(times.get("redis")!);
for (const w of order) {
  const m = median(times.get(w)!);
  const per = times.get(w)!.map((t, i) => t / times.get("redis")![i]);
  console.log(
    `${w}: median ${m.toFixed(0)} ms = ${(m / r).toFixed(2)}x ` +
      `(per-round ratios ${per.map((x) => x.toFixed(2)).join(" ")}); ` +
      `CPU median ${median(cpu.get(w)!).toFixed(0)} ms [${
        cpu.get(w)!.map((x) => x.toFixed(0)).join(" ")
      }]`,
  );
}
