// Start-up cost of an empty server: from spawning `main.ts serve` (with
// deno.json's serve-task flags) until the first PING answers +PONG, and
// its idle RSS (VmRSS from /proc/PID/status, 500 ms after that PONG), for
// this checkout and optionally others (--base DIR, repeatable), in
// interleaved rounds after one unmeasured warm-up start of each (Deno's
// transpile and code caches).
// Prints the medians. Every server runs in a fresh temporary directory with
// --save "" --appendonly no and is killed before the next starts.
//
//   deno run --allow-all tools/bench_boot.ts [--base /work/main] \
//     [--rounds 15] [-- EXTRA SERVER FLAGS]

import { parseArgs } from "node:util";
import { freePort, serveArgs } from "./_processes.ts";

const { values: flags, positionals } = parseArgs({
  options: {
    rounds: { type: "string", default: "15" },
    base: { type: "string", multiple: true },
  },
  allowPositionals: true,
});
const ROOT = new URL("../", import.meta.url).pathname;

/** Sends PING every 1 ms (reconnecting while nothing listens) until +PONG;
 * bounded to 20 s. */
async function waitPong(port: number): Promise<void> {
  const deadline = performance.now() + 20_000;
  const ping = new TextEncoder().encode("PING\r\n");
  const buf = new Uint8Array(64);
  while (performance.now() < deadline) {
    let conn: Deno.TcpConn | null = null;
    try {
      conn = await Deno.connect({ hostname: "127.0.0.1", port });
      await conn.write(ping);
      const n = await conn.read(buf);
      if (
        n !== null &&
        new TextDecoder().decode(buf.subarray(0, n)) === "+PONG\r\n"
      ) return;
    } catch {
      // not listening yet
    } finally {
      conn?.close();
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  throw new Error(`no PONG on ${port} after 20 s`);
}

function rssMb(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function once(root: string): Promise<{ ms: number; rss: number }> {
  const dir = await Deno.makeTempDir({ prefix: "kv-boot-" });
  const port = freePort();
  const args = [...await serveArgs(root), "--port", String(port)]
    .concat(["--save", "", "--appendonly", "no", "--dir", dir])
    .concat(["--loglevel", "warning", ...positionals]);
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    await waitPong(port);
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 500));
    return { ms, rss: rssMb(child.pid) };
  } finally {
    child.kill("SIGKILL");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const roots: [string, string][] = [["ours", ROOT]];
for (const dir of flags.base ?? []) roots.push([dir, dir]);
for (const [, root] of roots) await once(root); // warm-up
const ms = new Map<string, number[]>(roots.map(([w]) => [w, []]));
const rss = new Map<string, number[]>(roots.map(([w]) => [w, []]));
for (let round = 0; round < Number(flags.rounds); round++) {
  const line: string[] = [];
  for (let i = 0; i < roots.length; i++) {
    const [w, root] = roots[(i + round) % roots.length];
    const r = await once(root);
    ms.get(w)!.push(r.ms);
    rss.get(w)!.push(r.rss);
    line.push(`${w} ${r.ms.toFixed(0)} ms ${r.rss.toFixed(1)} MB`);
  }
  console.log(`round ${round + 1}: ${line.join(", ")}`);
}
for (const [w] of roots) {
  console.log(
    `${w}: median ${median(ms.get(w)!).toFixed(1)} ms to PONG, ` +
      `idle RSS ${median(rss.get(w)!).toFixed(1)} MB`,
  );
}
