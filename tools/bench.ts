// deno task bench: redis-benchmark against our server and redis-server in
// the same run, interleaved, median of 3 rounds; plus memory per key after
// 1,000,000 SETs of 16-byte values in a fresh process. Writes BENCHMARKS.md.
//
// Everything runs on loopback; every process started here is stopped.

import { parseArgs } from "node:util";
import { freePort, RedisServer, waitForPort } from "./_processes.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    quick: { type: "boolean", default: false },
    output: { type: "string", default: "BENCHMARKS.md" },
  },
});
const ROUNDS = Number(flags.rounds);
const QUICK = flags.quick;
const ROOT = new URL("../", import.meta.url).pathname;
const decoder = new TextDecoder();

interface Target {
  name: string;
  port: number;
  process: Deno.ChildProcess;
  redis?: RedisServer;
}

/** Reads the serve task from deno.json so we measure what users run. */
async function serveArgs(): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const task: string = config.tasks.serve;
  return task.split(/\s+/).slice(1); // drop "deno"
}

async function startOurs(): Promise<Target> {
  const port = freePort();
  const args = await serveArgs();
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      ...args,
      "--port",
      String(port),
      "--loglevel",
      "warning",
      "--save",
      "",
      "--dir",
      await Deno.makeTempDir({ prefix: "kv-bench-" }),
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitForPort(port);
  return { name: "@kv/store", port, process };
}

async function startRedis(): Promise<Target> {
  const redis = await RedisServer.start(["--databases", "16"]);
  return {
    name: "redis-server",
    port: redis.port,
    process: redis.process,
    redis,
  };
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

async function run(cmd: string, args: string[], stdin?: Uint8Array) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  if (stdin) {
    const w = child.stdin.getWriter();
    await w.write(stdin);
    await w.close();
  }
  const out = await child.output();
  clearTimeout(timer);
  return decoder.decode(out.stdout) + decoder.decode(out.stderr);
}

async function benchmark(
  port: number,
  test: string,
  pipeline: number,
  requests?: number,
): Promise<number> {
  const n = requests ?? QUICK
    ? (pipeline === 1 ? 20_000 : 200_000)
    : (pipeline === 1 ? 200_000 : 2_000_000);
  const out = await run("redis-benchmark", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-c",
    "50",
    "-n",
    String(n),
    "-P",
    String(pipeline),
    "-t",
    test,
    "--csv",
  ]);
  // "MSET (10 keys)","123.45",...
  const line = out.split("\n").find((l) =>
    /^"[A-Z]/.test(l) && !l.startsWith('"test"')
  );
  if (!line) throw new Error(`no result from redis-benchmark:\n${out}`);
  return Number(line.split(",")[1].replaceAll('"', ""));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** RESP for SET key:000000000000 .. of 16-byte values. */
function loadData(count: number): Uint8Array {
  const value = "v".repeat(16);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) {
    const key = `key:${String(i).padStart(12, "0")}`;
    parts.push(`*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$16\r\n${value}\r\n`);
  }
  return new TextEncoder().encode(parts.join(""));
}

async function memoryPerKey(
  start: () => Promise<Target>,
  data: Uint8Array,
  count: number,
): Promise<{ perKey: number; before: number; after: number }> {
  const t = await start();
  try {
    await new Promise((r) => setTimeout(r, 500));
    const before = rss(t.process.pid);
    const out = await run(
      "redis-cli",
      ["-h", "127.0.0.1", "-p", String(t.port), "--pipe"],
      data,
    );
    if (!out.includes(`replies: ${count}`)) throw new Error(out);
    await new Promise((r) => setTimeout(r, 1500));
    const after = rss(t.process.pid);
    return { perKey: (after - before) / count, before, after };
  } finally {
    await stop(t);
  }
}

const TESTS = ["set", "get", "incr", "mset"];
const PIPELINES = [1, 32];
const TARGETS: Record<string, number> = {
  "set/1": 0.8,
  "get/1": 0.8,
  "set/32": 0.5,
  "get/32": 0.5,
};

const versionLine = (await run("redis-server", ["--version"])).trim();
console.log(`benchmarking against ${versionLine}`);

const results = new Map<string, { ours: number[]; redis: number[] }>();
for (const t of TESTS) {
  for (const p of PIPELINES) results.set(`${t}/${p}`, { ours: [], redis: [] });
}

const ours = await startOurs();
const redis = await startRedis();
try {
  // Warm up both (our JIT, everyone's caches) before measuring.
  for (const target of [ours, redis]) {
    for (const t of TESTS) await benchmark(target.port, t, 32, 100_000);
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of TESTS) {
      for (const p of PIPELINES) {
        const r = results.get(`${t}/${p}`)!;
        // Alternate who goes first, so drift in machine load is shared.
        const order = round % 2 === 0 ? [ours, redis] : [redis, ours];
        for (const target of order) {
          const rps = await benchmark(target.port, t, p);
          (target === ours ? r.ours : r.redis).push(rps);
        }
        console.log(
          `round ${round + 1} ${t.toUpperCase()} -P ${p}: ours ${
            r.ours.at(-1)!.toFixed(0)
          }, redis ${r.redis.at(-1)!.toFixed(0)}`,
        );
      }
    }
  }
} finally {
  await stop(ours);
  await stop(redis);
}

const COUNT = QUICK ? 100_000 : 1_000_000;
const data = loadData(COUNT);
const memOurs: number[] = [];
const memRedis: number[] = [];
let lastOurs = { perKey: 0, before: 0, after: 0 };
let lastRedis = { perKey: 0, before: 0, after: 0 };
for (let round = 0; round < ROUNDS; round++) {
  lastOurs = await memoryPerKey(startOurs, data, COUNT);
  lastRedis = await memoryPerKey(startRedis, data, COUNT);
  memOurs.push(lastOurs.perKey);
  memRedis.push(lastRedis.perKey);
  console.log(
    `round ${round + 1} memory per key: ours ${
      lastOurs.perKey.toFixed(1)
    } B, redis ${lastRedis.perKey.toFixed(1)} B`,
  );
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const rows: string[] = [];
let allMet = true;
for (const [key, r] of results) {
  const [t, p] = key.split("/");
  const mo = median(r.ours);
  const mr = median(r.redis);
  const ratio = mo / mr;
  const target = TARGETS[key];
  const met = target === undefined ? "" : ratio >= target ? "yes" : "**no**";
  if (target !== undefined && ratio < target) allMet = false;
  rows.push(
    `| ${t.toUpperCase()} | ${p} | ${fmt(mo)} | ${fmt(mr)} | ${
      ratio.toFixed(2)
    }x | ${target === undefined ? "-" : `>= ${target}x`} | ${met || "-"} |`,
  );
}
const mo = median(memOurs);
const mr = median(memRedis);
const memRatio = mo / mr;
if (memRatio > 1.5) allMet = false;

const cpu = (await run("sh", ["-c", "nproc; uname -srm"])).trim().split("\n");
const md = `# Benchmarks

Generated by \`deno task bench\` (tools/bench.ts) on ${
  new Date().toISOString().slice(0, 10)
}: ${cpu[0]} cores, ${
  cpu[1]
}, Deno ${Deno.version.deno}, against ${versionLine}.
The server and redis-benchmark share the machine. Each figure is the median
of ${ROUNDS} interleaved rounds (the two servers take turns going first);
single runs vary by up to ±30% on this shared machine, so read the ratios.

## Throughput: redis-benchmark -c 50

| command | pipeline (-P) | @kv/store req/s | redis-server req/s | ratio | target | met |
| --- | --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

MSET is redis-benchmark's \`MSET (10 keys)\`.

## Memory: 1,000,000 SETs of 16-byte values (16-byte keys), fresh process

| server | bytes per key (RSS growth / keys) | RSS before | RSS after |
| --- | --- | --- | --- |
| @kv/store | ${mo.toFixed(1)} | ${fmt(lastOurs.before / 1024)} KiB | ${
  fmt(lastOurs.after / 1024)
} KiB |
| redis-server | ${mr.toFixed(1)} | ${fmt(lastRedis.before / 1024)} KiB | ${
  fmt(lastRedis.after / 1024)
} KiB |

Ratio: **${memRatio.toFixed(2)}x** (target <= 1.5x: ${
  memRatio <= 1.5 ? "met" : "**not met**"
}). Bytes per key is the median over rounds; RSS columns are from the last
round. Deno's runtime itself starts at about ${
  fmt(lastOurs.before / 1024 / 1024)
} MiB.

## How the numbers come about

- Keys and values are stored as one-byte V8 strings (one char per byte) in a
  \`Map\`; expiry times live in a second \`Map\` only for keys that have one.
- The request decoder has fast paths for \`*N\\r\\n\` and \`$len\\r\\n\`
  headers, and builds each argument as one flat string without temporary
  arrays; the command table holds upper- and lowercase names so lookups do
  not lowercase.
- One write per read; INFO commandstats times one call in 16 rather than
  every call.
- The server runs with \`--max-semi-space-size=2\` (see deno.json): V8's
  default young generation (tens of MiB) otherwise shows up in RSS.
`;

const output = flags.output.startsWith("/")
  ? flags.output
  : `${ROOT}${flags.output}`;
await Deno.writeTextFile(output, md);
console.log(md);
console.log(allMet ? "all targets met" : "some targets NOT met");
