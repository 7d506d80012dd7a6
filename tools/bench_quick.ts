// A quick comparison for performance work: redis-benchmark -c 50 -d 16
// against redis-server, this checkout's server and (optionally) the server
// of another checkout (--base DIR, e.g. a clone of main), all running at
// once on loopback ports, interleaved rounds (who goes first rotates),
// medians. Prints req/s, p99 and the ratios to redis-server. --base takes
// NAME=DIR,NAME=DIR,... to compare several checkouts at once.
//
//   deno run --allow-all tools/bench_quick.ts --tests mset:1,incr:32 \
//     --rounds 5 --base /tmp/main-copy
//
// Every process started here is stopped before it exits.

import { parseArgs } from "node:util";
import { freePort, RedisServer, serveArgs, waitForPort } from "./_processes.ts";

const { values: flags } = parseArgs({
  options: {
    tests: { type: "string", default: "set:32,get:32,incr:32,mset:1,mset:32" },
    rounds: { type: "string", default: "3" },
    base: { type: "string" },
    requests1: { type: "string", default: "200000" },
    requests32: { type: "string", default: "2000000" },
    // Before each test of a round, wait (up to 60 s) until the machine's
    // CPUs were at most this busy over a second (shared machines).
    "max-busy": { type: "string", default: "1" },
  },
});
const ROUNDS = Number(flags.rounds);
const ROOT = new URL("../", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Target {
  name: string;
  port: number;
  process: Deno.ChildProcess;
  redis?: RedisServer;
}

async function startKv(name: string, root: string): Promise<Target> {
  const args = await serveArgs(root);
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "kv-quick-" });
  const process = new Deno.Command(Deno.execPath(), {
    args: [...args, "--port", String(port), "--loglevel", "warning"]
      .concat(["--dir", dir, "--save", ""]),
    cwd: root,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitForPort(port);
  return { name, port, process };
}

async function stop(t: Target): Promise<void> {
  if (t.redis) return await t.redis.stop();
  try {
    t.process.kill("SIGKILL");
  } catch {
    // gone
  }
  await t.process.status;
}

async function bench(
  port: number,
  test: string,
  pipeline: number,
  n: number,
): Promise<{ rps: number; p99: number }> {
  const child = new Deno.Command("redis-benchmark", {
    args: ["-h", "127.0.0.1", "-p", String(port), "-c", "50", "-d", "16"]
      .concat(["-n", String(n), "-P", String(pipeline), "-t", test, "--csv"]),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const out = await child.output();
  clearTimeout(timer);
  const text = decoder.decode(out.stdout);
  const line = text.split("\n").find((l) =>
    l.startsWith(`"${test.toUpperCase()}`)
  );
  if (!line) {
    throw new Error(`no result:\n${text}${decoder.decode(out.stderr)}`);
  }
  const cells = line.split('","').map((c) => c.replaceAll('"', ""));
  return { rps: Number(cells[1]), p99: Number(cells[6]) };
}

/** Busy share of all CPUs over `ms` (from /proc/stat). */
async function busyShare(ms: number): Promise<number> {
  const read = () => {
    const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim()
      .split(/\s+/).slice(1).map(Number);
    const idle = f[3] + f[4];
    return [f.reduce((a, b) => a + b, 0), idle];
  };
  const [t0, i0] = read();
  await new Promise((r) => setTimeout(r, ms));
  const [t1, i1] = read();
  return t1 === t0 ? 0 : 1 - (i1 - i0) / (t1 - t0);
}

async function waitQuiet(): Promise<void> {
  const max = Number(flags["max-busy"]);
  if (max >= 1) return;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && await busyShare(1000) > max) {
    // others are busy: wait
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const tests = flags.tests.split(",").map((t) => {
  const [name, p] = t.split(":");
  return { name, pipeline: Number(p ?? "1") };
});
const targets: Target[] = [];
try {
  const redis = await RedisServer.start();
  targets.push({
    name: "redis",
    port: redis.port,
    process: redis.process,
    redis,
  });
  targets.push(await startKv("ours", ROOT));
  // --base DIR, or NAME=DIR,NAME=DIR,... for several other checkouts.
  for (const b of (flags.base ?? "").split(",").filter((x) => x !== "")) {
    const [name, dir] = b.includes("=") ? b.split("=") : ["base", b];
    targets.push(await startKv(name, dir));
  }
  for (const t of targets) {
    for (const { name } of tests) await bench(t.port, name, 32, 200_000);
  }
  const res = new Map<string, { rps: number; p99: number }[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const { name, pipeline } of tests) {
      const n = Number(pipeline === 1 ? flags.requests1 : flags.requests32);
      await waitQuiet();
      for (let i = 0; i < targets.length; i++) {
        const t = targets[(i + round) % targets.length];
        const key = `${name}/${pipeline}/${t.name}`;
        const r = await bench(t.port, name, pipeline, n);
        if (!res.has(key)) res.set(key, []);
        res.get(key)!.push(r);
      }
      const line = targets.map((t) => {
        const r = res.get(`${name}/${pipeline}/${t.name}`)!.at(-1)!;
        return `${t.name} ${r.rps.toFixed(0)} (p99 ${r.p99})`;
      }).join(", ");
      console.log(`round ${round + 1} ${name} -P ${pipeline}: ${line}`);
    }
  }
  console.log("\nmedians (ratio to redis: req/s, p99)");
  for (const { name, pipeline } of tests) {
    const of = (t: Target) => res.get(`${name}/${pipeline}/${t.name}`)!;
    const rr = median(of(targets[0]).map((r) => r.rps));
    const rp = median(of(targets[0]).map((r) => r.p99));
    const cols = targets.slice(1).map((t) => {
      const rps = median(of(t).map((r) => r.rps));
      const p99 = median(of(t).map((r) => r.p99));
      // Per-round ratios too (each round's pair ran back to back).
      const perRound = of(t).map((r, i) => r.rps / of(targets[0])[i].rps);
      return `${t.name} ${rps.toFixed(0)} = ${(rps / rr).toFixed(2)}x ` +
        `[rounds ${perRound.map((x) => x.toFixed(2)).join(" ")}; ` +
        `median ${median(perRound).toFixed(2)}] p99 ${p99} = ${
          (p99 / rp).toFixed(2)
        }x`;
    });
    console.log(
      `${name} -P ${pipeline}: redis ${rr.toFixed(0)} p99 ${rp}; ${
        cols.join("; ")
      }`,
    );
  }
} finally {
  for (const t of targets) await stop(t);
}
