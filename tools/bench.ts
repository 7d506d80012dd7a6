// deno task bench: redis-benchmark against our server and redis-server in
// the same run, interleaved, median of 3 rounds (SET/GET/INCR/MSET at -P 1
// and 32, and redis-benchmark's whole default test set with latencies);
// memory per key after 1,000,000 SETs of 16-byte values and per element of
// a 1,000,000-element hash, list, set, sorted set and stream, in fresh
// processes; persistence timings. Writes BENCHMARKS.md.
//
// Everything runs on loopback; every process started here is stopped.

import { parseArgs } from "node:util";
import { freePort, RedisServer, serveArgs, waitForPort } from "./_processes.ts";

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

async function startOurs(
  extra: string[] = ["--save", ""],
  dir?: string,
): Promise<Target> {
  const port = freePort();
  const args = await serveArgs(ROOT);
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      ...args,
      "--port",
      String(port),
      "--loglevel",
      "warning",
      "--dir",
      dir ?? await Deno.makeTempDir({ prefix: "kv-bench-" }),
      ...extra,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await waitForPort(port);
  return { name: "@kv/store", port, process };
}

async function startRedis(extra: string[] = []): Promise<Target> {
  const redis = await RedisServer.start(["--databases", "16", ...extra]);
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
  const n = requests ??
    (QUICK
      ? (pipeline === 1 ? 20_000 : 200_000)
      : (pipeline === 1 ? 200_000 : 2_000_000));
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
  // "MSET (10 keys)","123.45",... (LRANGE tests are preceded by an LPUSH)
  const line = out.split("\n").find((l) =>
    l.startsWith(`"${test.toUpperCase()}`)
  );
  if (!line) throw new Error(`no result from redis-benchmark:\n${out}`);
  return Number(line.split(",")[1].replaceAll('"', ""));
}

interface DefaultResult {
  rps: number;
  p50: number;
  p99: number;
}

/** redis-benchmark's whole default test set (no -t), as a new user runs
 * it; fails on any error reply. */
async function defaultSet(
  port: number,
  requests: number,
): Promise<Map<string, DefaultResult>> {
  const out = await run("redis-benchmark", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-c",
    "50",
    "-n",
    String(requests),
    "--csv",
  ]);
  if (/ERR|WRONGTYPE|Error/.test(out)) {
    throw new Error(`redis-benchmark saw errors:\n${out}`);
  }
  const results = new Map<string, DefaultResult>();
  for (const line of out.split("\n")) {
    if (!/^"[A-Z]/.test(line) || line.startsWith('"test"')) continue;
    const cells = line.split('","').map((c) => c.replaceAll('"', ""));
    results.set(cells[0], {
      rps: Number(cells[1]),
      p50: Number(cells[4]),
      p99: Number(cells[6]),
    });
  }
  return results;
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
    // Steady state: both servers idle for 3 s (ours collects its garbage
    // after a second without commands, data/_memory.ts idleCollect; Redis's
    // RSS does not move).
    await new Promise((r) => setTimeout(r, 3000));
    const after = rss(t.process.pid);
    return { perKey: (after - before) / count, before, after };
  } finally {
    await stop(t);
  }
}

/** What one empty numbered database costs: RSS growth after SELECT, SET
 * and DEL in each of DBS databases on one connection, minus the growth
 * after the same commands all in database 0 (the connection and the
 * commands themselves), divided by DBS. Many databases, so that their cost
 * stands out of V8's garbage-collection noise (about a MiB). */
const DBS = 2048;

async function databaseCost(): Promise<number> {
  const growth = async (dbs: number[]) => {
    const t = await startOurs(["--save", "", "--databases", String(DBS)]);
    try {
      await new Promise((r) => setTimeout(r, 500));
      const before = rss(t.process.pid);
      const cmds = dbs.map((n) =>
        `*2\r\n$6\r\nSELECT\r\n$${String(n).length}\r\n${n}\r\n` +
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"
      ).join("");
      const out = await run(
        "redis-cli",
        ["-h", "127.0.0.1", "-p", String(t.port), "--pipe"],
        new TextEncoder().encode(cmds),
      );
      if (!out.includes(`replies: ${dbs.length * 3}`)) throw new Error(out);
      await new Promise((r) => setTimeout(r, 1000));
      return rss(t.process.pid) - before;
    } finally {
      await stop(t);
    }
  };
  const every = Array.from({ length: DBS }, (_, i) => i);
  const all = await growth(every);
  const zero = await growth(every.map(() => 0));
  return (all - zero) / DBS;
}

const TESTS = ["set", "get", "incr", "mset"];
const PIPELINES = [1, 32];
/** Issue 12's targets, as ratios to redis-server. */
const TARGETS: Record<string, number> = {
  "set/1": 1.0,
  "get/1": 1.0,
  "set/32": 0.8,
  "get/32": 0.8,
  "incr/1": 0.9,
  "incr/32": 0.7,
  "mset/1": 0.9,
  "mset/32": 0.7,
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

// --- Lua scripting: EVALSHA of a script with four redis.call ---------------

const SCRIPT = "local a = redis.call('get', KEYS[1]) " +
  "redis.call('set', KEYS[2], ARGV[1]) redis.call('incr', KEYS[3]) " +
  "return redis.call('get', KEYS[1])";
const SCRIPT_TARGET = 0.5; // issue 11: at least 0.5x redis-server

/** redis-benchmark of one EVALSHA command line; requests per second. */
async function evalsha(
  port: number,
  sha: string,
  pipeline: number,
  n: number,
): Promise<number> {
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
    "--csv",
    "evalsha",
    sha,
    "3",
    "k1",
    "k2",
    "k3",
    "v",
  ]);
  const line = out.split("\n").find((l) => l.startsWith('"evalsha'));
  if (!line) throw new Error(`no result from redis-benchmark:\n${out}`);
  return Number(line.split(",")[1].replaceAll('"', ""));
}

const scriptResults = new Map<number, { ours: number[]; redis: number[] }>();
{
  const ours = await startOurs();
  const redis = await startRedis();
  try {
    let sha = "";
    for (const target of [ours, redis]) {
      sha = (await run("redis-cli", [
        "-p",
        String(target.port),
        "SCRIPT",
        "LOAD",
        SCRIPT,
      ])).trim();
      await evalsha(target.port, sha, 32, 100_000); // warm-up
    }
    for (const p of PIPELINES) scriptResults.set(p, { ours: [], redis: [] });
    for (let round = 0; round < ROUNDS; round++) {
      for (const p of PIPELINES) {
        const r = scriptResults.get(p)!;
        const order = round % 2 === 0 ? [ours, redis] : [redis, ours];
        for (const target of order) {
          const n = QUICK ? 20_000 : (p === 1 ? 200_000 : 1_000_000);
          const rps = await evalsha(target.port, sha, p, n);
          (target === ours ? r.ours : r.redis).push(rps);
        }
        console.log(
          `round ${round + 1} EVALSHA -P ${p}: ours ${
            r.ours.at(-1)!.toFixed(0)
          }, redis ${r.redis.at(-1)!.toFixed(0)}`,
        );
      }
    }
  } finally {
    await stop(ours);
    await stop(redis);
  }
}

function scriptRows(): string {
  return [...scriptResults].map(([p, r]) => {
    const mo = median(r.ours);
    const mr = median(r.redis);
    const ratio = mo / mr;
    const target = p === 1 ? SCRIPT_TARGET : undefined;
    if (target !== undefined && ratio < target) allMet = false;
    return `| EVALSHA (4 redis.call) | ${p} | ${fmt(mo)} | ${fmt(mr)} | ${
      ratio.toFixed(2)
    }x | ${target === undefined ? "" : `>= ${target}x`} | ${
      target === undefined ? "" : ratio >= target ? "yes" : "**no**"
    } |`;
  }).join("\n");
}

// --- redis-benchmark's default test set -------------------------------------

/** Throughput targets of the default set at -P 1 (issue 12: SET and GET
 * 1.0x, these 0.9x, the rest 0.8x as before), and its latency target:
 * p50 and p99 at most 1.2x redis-server's. */
const DEFAULT_TARGETS: Record<string, number> = {
  SET: 1.0,
  GET: 1.0,
  INCR: 0.9,
  LPUSH: 0.9,
  RPOP: 0.9,
  HSET: 0.9,
  SADD: 0.9,
  ZADD: 0.9,
  "MSET (10 keys)": 0.9,
};
const DEFAULT_TARGET = 0.8;
const LATENCY_TARGET = 1.2;
const defaults = new Map<
  string,
  { ours: DefaultResult[]; redis: DefaultResult[] }
>();
{
  const ours = await startOurs();
  const redis = await startRedis();
  try {
    // Three warm-up passes: after one, V8 still deoptimized and recompiled
    // our code 27 times in the first measured round (--trace-deopt), the
    // slow stretches landing in its p99; after three, none.
    for (let pass = 0; pass < (QUICK ? 1 : 3); pass++) {
      for (const target of [ours, redis]) {
        await defaultSet(target.port, 10_000);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [ours, redis] : [redis, ours];
      for (const target of order) {
        const r = await defaultSet(target.port, QUICK ? 10_000 : 100_000);
        for (const [test, result] of r) {
          if (!defaults.has(test)) defaults.set(test, { ours: [], redis: [] });
          const d = defaults.get(test)!;
          (target === ours ? d.ours : d.redis).push(result);
        }
      }
      console.log(`round ${round + 1} default test set done`);
    }
  } finally {
    await stop(ours);
    await stop(redis);
  }
}

// --- Memory per element of each container type ------------------------------

const ELEMENTS = QUICK ? 100_000 : 1_000_000;

/** RESP commands that build one container of `elements` elements at `key`,
 * followed by the raw commands `then`. */
function containerData(
  type: string,
  key = type,
  elements = ELEMENTS,
  then = "",
): Uint8Array {
  const chunks: string[] = [];
  const bulk = (s: string) => `$${s.length}\r\n${s}\r\n`;
  if (type === "stream") {
    for (let i = 0; i < elements; i++) {
      chunks.push(
        `*5\r\n$4\r\nXADD\r\n${bulk(key)}$1\r\n*\r\n$1\r\nf\r\n${
          bulk(String(i))
        }`,
      );
    }
  } else {
    const BATCH = 1000;
    const per = type === "hash" || type === "zset" ? 2 : 1;
    const name = { hash: "HSET", list: "RPUSH", set: "SADD", zset: "ZADD" }[
      type
    ]!;
    for (let i = 0; i < elements; i += BATCH) {
      const n = Math.min(BATCH, elements - i);
      let cmd = `*${2 + per * n}\r\n${bulk(name)}${bulk(key)}`;
      for (let j = i; j < i + n; j++) {
        if (type === "hash") cmd += bulk(`field:${j}`) + bulk(`value:${j}`);
        else if (type === "zset") cmd += bulk(String(j)) + bulk(`member:${j}`);
        else cmd += bulk(`${type === "list" ? "element" : "member"}:${j}`);
      }
      chunks.push(cmd);
    }
  }
  return new TextEncoder().encode(chunks.join("") + then);
}

/** RSS growth per element after loading `data` into a fresh server that
 * was first warmed up with `warm` (the same commands for another key, a
 * tenth as many, then FLUSHALL), so the baseline holds what serving costs
 * (compiled code, parse buffers), not the data. */
async function memoryPerElement(
  start: () => Promise<Target>,
  data: Uint8Array,
  warm: Uint8Array,
): Promise<number> {
  const t = await start();
  try {
    const pipe = (bytes: Uint8Array) =>
      run(
        "redis-cli",
        ["-h", "127.0.0.1", "-p", String(t.port), "--pipe"],
        bytes,
      );
    await pipe(warm);
    await new Promise((r) => setTimeout(r, 1000));
    const before = rss(t.process.pid);
    const out = await pipe(data);
    if (!/errors: 0,/.test(out)) throw new Error(out);
    await new Promise((r) => setTimeout(r, 3000)); // steady state, as below
    return (rss(t.process.pid) - before) / ELEMENTS;
  } finally {
    await stop(t);
  }
}

const CONTAINER_TYPES = ["hash", "list", "set", "zset", "stream"];
const containerMemory = new Map<string, { ours: number[]; redis: number[] }>();
for (const type of CONTAINER_TYPES) {
  const data = containerData(type);
  const warm = containerData(
    type,
    "warm-up",
    ELEMENTS / 10,
    "*1\r\n$8\r\nFLUSHALL\r\n",
  );
  const r = { ours: [] as number[], redis: [] as number[] };
  containerMemory.set(type, r);
  for (let round = 0; round < ROUNDS; round++) {
    r.ours.push(await memoryPerElement(() => startOurs(), data, warm));
    r.redis.push(await memoryPerElement(() => startRedis(), data, warm));
    console.log(
      `round ${round + 1} ${type}: ours ${r.ours.at(-1)!.toFixed(1)} B, ` +
        `redis ${r.redis.at(-1)!.toFixed(1)} B per element`,
    );
  }
}

const COUNT = QUICK ? 100_000 : 1_000_000;
const data = loadData(COUNT);
const memOurs: number[] = [];
const memRedis: number[] = [];
let lastOurs = { perKey: 0, before: 0, after: 0 };
let lastRedis = { perKey: 0, before: 0, after: 0 };
for (let round = 0; round < ROUNDS; round++) {
  lastOurs = await memoryPerKey(() => startOurs(), data, COUNT);
  lastRedis = await memoryPerKey(() => startRedis(), data, COUNT);
  memOurs.push(lastOurs.perKey);
  memRedis.push(lastRedis.perKey);
  console.log(
    `round ${round + 1} memory per key: ours ${
      lastOurs.perKey.toFixed(1)
    } B, redis ${lastRedis.perKey.toFixed(1)} B`,
  );
}

const dbCost: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  dbCost.push(await databaseCost());
  console.log(
    `round ${round + 1} one empty database: ${dbCost.at(-1)!.toFixed(0)} B`,
  );
}

// --- Persistence -----------------------------------------------------------

async function command(port: number, ...args: string[]): Promise<string> {
  return (await run("redis-cli", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    ...args,
  ]))
    .trim();
}

async function load(port: number): Promise<void> {
  const out = await run(
    "redis-cli",
    ["-h", "127.0.0.1", "-p", String(port), "--pipe"],
    data,
  );
  if (!out.includes(`replies: ${COUNT}`)) throw new Error(out);
}

/** Milliseconds from spawning until DBSIZE answers `keys`. */
async function readyTime(
  start: () => Promise<Target>,
  keys: number,
): Promise<[number, Target]> {
  const t0 = performance.now();
  const t = await start();
  for (let i = 0; i < 6000; i++) {
    if (await command(t.port, "DBSIZE") === String(keys)) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return [performance.now() - t0, t];
}

/** The longest a PING waits while a BGSAVE runs. */
async function longestPause(port: number): Promise<number> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(64);
  const ping = new TextEncoder().encode("PING\r\n");
  let worst = 0;
  const started = await command(port, "BGSAVE");
  if (!started.includes("started")) throw new Error(started);
  const until = performance.now() + 60_000;
  let running = true;
  const watch = (async () => {
    while (running && performance.now() < until) {
      const info = await command(port, "INFO", "persistence");
      if (info.includes("rdb_bgsave_in_progress:0")) running = false;
      else await new Promise((r) => setTimeout(r, 20));
    }
    running = false;
  })();
  while (running) {
    const t = performance.now();
    await conn.write(ping);
    await conn.read(buf);
    worst = Math.max(worst, performance.now() - t);
  }
  await watch;
  conn.close();
  return worst;
}

interface PersistResult {
  saveMs: number;
  size: number;
  readyMs: number;
  emptyReadyMs: number;
  pauseMs: number;
}

async function persistenceRound(ours: boolean): Promise<PersistResult> {
  const dir = await Deno.makeTempDir({ prefix: "kv-bench-persist-" });
  const extra = ["--save", "", "--dir", dir];
  const start = () => ours ? startOurs(extra, dir) : startRedis(extra);
  try {
    const [emptyReadyMs, empty] = await readyTime(start, 0);
    await load(empty.port);
    const t = performance.now();
    const reply = await command(empty.port, "SAVE");
    const saveMs = performance.now() - t;
    if (reply !== "OK") throw new Error(`SAVE: ${reply}`);
    const pauseMs = await longestPause(empty.port);
    await stop(empty);
    const file = ours ? "dump.json" : "dump.rdb";
    const size = (await Deno.stat(`${dir}/${file}`)).size;
    const [readyMs, loaded] = await readyTime(start, COUNT);
    await stop(loaded);
    return { saveMs, size, readyMs, emptyReadyMs, pauseMs };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

const persistOurs: PersistResult[] = [];
const persistRedis: PersistResult[] = [];
for (let round = 0; round < ROUNDS; round++) {
  persistOurs.push(await persistenceRound(true));
  persistRedis.push(await persistenceRound(false));
  console.log(
    `round ${round + 1} persistence: ours ${
      JSON.stringify(persistOurs.at(-1))
    }, redis ${JSON.stringify(persistRedis.at(-1))}`,
  );
}

const aofResults = new Map<string, { ours: number[]; redis: number[] }>();
for (const fsync of ["everysec", "always"]) {
  const r = { ours: [] as number[], redis: [] as number[] };
  aofResults.set(fsync, r);
  for (let round = 0; round < ROUNDS; round++) {
    for (const isOurs of round % 2 === 0 ? [true, false] : [false, true]) {
      const dir = await Deno.makeTempDir({ prefix: "kv-bench-aof-" });
      const extra = [
        "--save",
        "",
        "--dir",
        dir,
        "--appendonly",
        "yes",
        "--appendfsync",
        fsync,
      ];
      const t = isOurs ? await startOurs(extra, dir) : await startRedis(extra);
      try {
        const rps = await benchmark(t.port, "set", 1, QUICK ? 10_000 : 100_000);
        (isOurs ? r.ours : r.redis).push(rps);
      } finally {
        await stop(t);
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    }
    console.log(
      `round ${round + 1} SET with appendfsync ${fsync}: ours ${
        r.ours.at(-1)!.toFixed(0)
      }, redis ${r.redis.at(-1)!.toFixed(0)}`,
    );
  }
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
const MEMORY_TARGET = 1.0; // issue 12: at most redis-server's
if (memRatio > MEMORY_TARGET) allMet = false;

function defaultRows(): string {
  const rows: string[] = [];
  for (const [test, d] of defaults) {
    if (d.ours.length === 0 || d.redis.length === 0) continue;
    const o = median(d.ours.map((x) => x.rps));
    const r = median(d.redis.map((x) => x.rps));
    const ratio = o / r;
    const target = DEFAULT_TARGETS[test] ?? DEFAULT_TARGET;
    const met = ratio >= target;
    if (!met) allMet = false;
    const ms = (k: "p50" | "p99", of: DefaultResult[]) =>
      median(of.map((x) => x[k]));
    const lat = (k: "p50" | "p99") =>
      `${ms(k, d.ours).toFixed(3)} / ${ms(k, d.redis).toFixed(3)}`;
    const latRatio = Math.max(
      ms("p50", d.ours) / ms("p50", d.redis),
      ms("p99", d.ours) / ms("p99", d.redis),
    );
    const latMet = latRatio <= LATENCY_TARGET;
    if (!latMet) allMet = false;
    rows.push(
      `| ${test} | ${fmt(o)} | ${fmt(r)} | ${ratio.toFixed(2)}x | ${
        lat("p50")
      } | ${lat("p99")} | ${met ? "met" : "**not met**"} (>= ${target}x) | ${
        latRatio.toFixed(2)
      }x, ${latMet ? "met" : "**not met**"} |`,
    );
  }
  return rows.join("\n");
}

function containerRows(): string {
  const built: Record<string, string> = {
    hash: "HSET hash field:<i> value:<i> (1,000 per command)",
    list: "RPUSH list element:<i> (1,000 per command)",
    set: "SADD set member:<i> (1,000 per command)",
    zset: "ZADD zset <i> member:<i> (1,000 per command)",
    stream: "XADD stream * f <i>",
  };
  return [...containerMemory].map(([type, r]) => {
    const o = median(r.ours);
    const m = median(r.redis);
    const ratio = o / m;
    if (ratio > 1.5) allMet = false;
    return `| ${type} | ${built[type]} | ${o.toFixed(1)} | ${m.toFixed(1)} | ${
      ratio.toFixed(2)
    }x | ${ratio <= 1.5 ? "met" : "**not met**"} (<= 1.5x) |`;
  }).join("\n");
}

function persistRows(): string {
  const row = (
    label: string,
    f: (p: PersistResult) => number,
    unit: string,
    target = "",
    met?: (ours: number, ratio: number) => boolean,
  ) => {
    const o = median(persistOurs.map(f));
    const r = median(persistRedis.map(f));
    let verdict = "";
    if (met !== undefined) {
      const ok = met(o, o / r);
      if (!ok) allMet = false;
      verdict = `${target}: ${ok ? "met" : "**not met**"}`;
    }
    return `| ${label} | ${fmt(o)} ${unit} | ${fmt(r)} ${unit} | ${
      (o / r).toFixed(2)
    }x | ${verdict} |`;
  };
  // Issue 12's targets.
  return [
    row("SAVE time", (p) => p.saveMs, "ms", "<= 1.2x", (_, x) => x <= 1.2),
    row("snapshot size", (p) => p.size / 1024, "KiB"),
    row(
      "start-up with the snapshot",
      (p) => p.readyMs,
      "ms",
      "<= 1.5x",
      (_, x) => x <= 1.5,
    ),
    row(
      "longest pause during BGSAVE",
      (p) => p.pauseMs,
      "ms",
      "<= 10 ms",
      (o) => o <= 10,
    ),
  ].join("\n");
}

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

## Lua scripting: redis-benchmark -c 50 EVALSHA

The script (loaded with SCRIPT LOAD on both servers) makes four calls:
\`${SCRIPT}\`, run as \`EVALSHA <sha> 3 k1 k2 k3 v\`.

| command | pipeline (-P) | @kv/store req/s | redis-server req/s | ratio | target | met |
| --- | --- | --- | --- | --- | --- | --- |
${scriptRows()}

## redis-benchmark's default test set: redis-benchmark -c 50 -n ${
  fmt(QUICK ? 10_000 : 100_000)
} (no -t, -P 1)

Every test of the default set runs with no error reply. Both servers first
run the whole set three times with 10,000 requests per test (V8 settles its
optimized code in those; after one such pass our server was still
deoptimized and recompiled 27 times during the next 100,000-request round).

| test | @kv/store req/s | redis-server req/s | ratio | p50 ms (ours / redis) | p99 ms (ours / redis) | throughput target | latency: worse of p50, p99 ratios (target <= ${LATENCY_TARGET}x) |
| --- | --- | --- | --- | --- | --- | --- | --- |
${defaultRows()}

## What holds back the targets not met

Profiles taken with \`perf\` and \`deno run --cpu-prof\` (summarized by
tools/prof_summary.ts; in-process costs from tools/micro.ts, which drives the
decoder and the dispatcher without sockets):

- **MSET (10 keys) at -P 1** lands around its 0.9x target (0.83-1.01x
  over the runs of this stop; the default set's, with 3-byte values, at the
  low end). The time is mostly outside our code: the kernel takes about
  55% of the server's CPU (the reply's \`send\` alone a third, mostly
  loopback delivery and waking the client), Deno's runtime (its op and
  promise machinery around each read and write) about a third, our
  JavaScript about a tenth; in process (tools/micro.ts) an MSET takes about
  1.35 us: the ten Map look-ups and inserts a third (each fresh key string
  is hashed and looked up in V8's string table), making the 21 argument
  strings 30%, decoding 21%. The
  system calls are Redis's: \`strace -c\` under SET -P 1 counts one
  \`recvfrom\` and one \`sendto\` per request and an \`epoll_wait\`
  per ~50. Its p50 is high because there our server, not redis-benchmark, is
  the bottleneck (p50 about clients / throughput).
- **p99 at -P 1.** Our p50 is Redis's or lower, our tail longer: SET -P 1,
  300k requests, our 87.5th percentile 0.24 ms against Redis's 0.20, our
  93.75th 0.30 against 0.22. In steady state (warmed up, server and
  redis-benchmark pinned to one core each, 5 rounds of PING_MBULK) our p99
  was 0.42-0.46 ms against Redis's 0.36-0.39 (about 1.17x), and a bare Deno
  server that reads into one buffer and writes \`+OK\` (no decoding, no
  store) 0.38-0.42. Part of it is garbage collection: the sampling heap
  profiler put our allocation at about 1.7 KB per request, nearly all of it
  Deno's \`conn.read\`/\`conn.write\` (about 0.9 KB per read), a scavenge
  (about 0.1 ms) every ~1,000 requests delaying the ~50 replies in flight.
  The server now calls Deno's read and write ops on the connection's
  resource directly (_net.ts, falling back to the methods where those
  internals are not there): 172 scavenges per 300k SETs instead of 319, and
  in 5 interleaved rounds p99 of SET, HSET, LPUSH and INCR 1.10-1.17x
  redis-server's against 1.16-1.29x. What remains is how Deno's event loop
  batches completions: bigger turns than Redis's epoll loop, a faster median
  and a longer tail. A larger young generation makes the pauses rarer but
  longer (p99 worse, below).
- **Start-up with a snapshot**: inserting a million new keys into the
  \`Map\` is still about 60% of the load (profile of the load), another 11%
  garbage collection. V8 interns every new Map key into its global string
  table; perf shows the string-table look-up (about 23% of all samples), the
  Map's bucket look-ups (19%) and the interning (11%), nearly all waiting on
  memory. In a bare Deno script, putting a million fresh 16-byte strings
  into a \`Map\` costs about 510 ns per key, the same strings into a
  second Map 115 ns: the difference is V8's first hashing and interning of
  a string, not our code. Earlier changes: the loader hands entries to the store
  about 6 MB behind the reader, once young-generation collections have moved
  the keys to the old generation, where V8 interns them in place instead of
  copying them (load CPU 825 -> 732 ms); and the server no longer loads the
  dashboard, the CLI, node:fs/os/process/crypto/vm or libm at start (spawn to
  first PONG about 76 -> 58 ms in tools/bench_boot.ts; a bare Deno TCP
  server answering PING 15 ms). With no data, as this bench polls (a
  redis-cli per try), ours answered after ${
  fmt(median(persistOurs.map((p) => p.emptyReadyMs)))
} ms, Redis after ${fmt(median(persistRedis.map((p) => p.emptyReadyMs)))} ms.

Measured and not kept: a larger V8 young generation (4, 8 or 16 MiB instead
of 2: fewer scavenges but no faster INCR, slower MSET and worse p99; 16 MiB
again this round: p99 of SET, HSET and SADD at -P 1 0.49-0.74 ms against
0.43-0.58),
\`--single-threaded-gc\` (no better p99; loading 1M keys 982-1020 ms
against 829-926), \`--minor-ms\` (V8's non-copying young collector:
loading 880-937 ms, no faster), parsing snapshot chunks with
\`JSON.parse\`, building the Map from an array of pairs, pre-sizing the
Map, \`TextDecoder("latin1")\` for key strings (270 ns against 20), and a
crude event loop of our own over epoll through FFI (an \`+OK\` echo server:
slower than Deno's own loop at -P 1 and -P 32).


## Memory per element: one container of ${fmt(ELEMENTS)} elements

Each server starts fresh, is warmed up with a tenth of the load into another
key and FLUSHALL, then the container is loaded with redis-cli --pipe; the
figure is the RSS growth divided by the number of elements.

| type | built with | @kv/store bytes/element | redis-server bytes/element | ratio | target |
| --- | --- | --- | --- | --- | --- |
${containerRows()}

## Memory: 1,000,000 SETs of 16-byte values (16-byte keys), fresh process

| server | bytes per key (RSS growth / keys) | RSS before | RSS after |
| --- | --- | --- | --- |
| @kv/store | ${mo.toFixed(1)} | ${fmt(lastOurs.before / 1024)} KiB | ${
  fmt(lastOurs.after / 1024)
} KiB |
| redis-server | ${mr.toFixed(1)} | ${fmt(lastRedis.before / 1024)} KiB | ${
  fmt(lastRedis.after / 1024)
} KiB |

Ratio: **${memRatio.toFixed(2)}x** (target <= ${MEMORY_TARGET}x: ${
  memRatio <= MEMORY_TARGET ? "met" : "**not met**"
}). Bytes per key is the median over rounds; RSS columns are from the last
round. Deno's runtime itself starts at about ${
  fmt(lastOurs.before / 1024 / 1024)
} MiB.

## Memory: numbered databases

An empty database that a client has used costs about **${
  fmt(median(dbCost))
} bytes** of RSS (median of ${ROUNDS} pairs of fresh processes with
\`--databases ${DBS}\`: RSS growth after SELECT, SET and DEL in each
database on one connection, minus the growth after the same commands all in
database 0, divided by ${fmt(DBS)}), so the 16 of the default configuration
add about ${fmt(median(dbCost) * 16 / 1024)} KiB, against a process of
${fmt(lastOurs.before / 1024 / 1024)} MiB. A database is made on first use;
per-key memory is the same in every database (one \`Map\` each).

## Persistence: ${fmt(COUNT)} keys (16-byte keys and values)

| measure | @kv/store | redis-server | ratio | target |
| --- | --- | --- | --- | --- |
${persistRows()}

Snapshots are JSON for us (\`dump.json\`) and RDB for Redis (\`dump.rdb\`).
"Start-up" is from spawning the process until DBSIZE answers with every key
(Deno's own start-up, about ${
  fmt(median(persistOurs.map((p) => p.emptyReadyMs)))
} ms with no data, included). "Longest pause" is the slowest PING answered
while a BGSAVE of all keys ran: Redis forks; we read a copy-on-write
snapshot of the store in chunks between other clients' commands.

| SET, redis-benchmark -c 50 -P 1 | @kv/store req/s | redis-server req/s | ratio |
| --- | --- | --- | --- |
${
  [...aofResults].map(([fsync, r]) => {
    const mo = median(r.ours);
    const mr = median(r.redis);
    return `| appendonly yes, appendfsync ${fsync} | ${fmt(mo)} | ${
      fmt(mr)
    } | ${(mo / mr).toFixed(2)}x |`;
  }).join("\n")
}

Every write is written to the log before its reply goes out; with
\`always\` it is also fsynced first. The server commits once per turn of
the event loop, so one write (and fsync) covers every connection whose
commands ran in that turn (group commit); the fsync blocks, as Redis's does
before its replies (asynchronous writes and fsyncs on Deno's thread pool
gave 48-50k against 64-66k req/s).

## How the numbers come about

- Keys and values are stored as one-byte V8 strings (one char per byte) in a
  \`Map\`; expiry times live in a second \`Map\` only for keys that have one.
- The request decoder has fast paths for \`*N\\r\\n\` and \`$len\\r\\n\`
  headers, and builds each argument as one flat string without temporary
  arrays; the command table holds upper- and lowercase names so lookups do
  not lowercase.
- One write per read, and the replies of all the reads that completed in
  one turn of the event loop leave together, back to back, after one write
  of the append-only log for all of them (_turn.ts; Redis writes its
  replies in beforeSleep the same way). Before, each connection wrote its
  reply as soon as its commands ran; between two sends the client on the
  other core went back to sleep, and each send paid for waking it (17-21%
  of the server's CPU under INCR -P 32): INCR -P 32 0.63x -> 0.85x, SET and
  GET -P 32 0.85-0.88x -> 1.04-1.08x, MSET -P 1 0.83x -> 0.97x.
- INCR stores its new value's digits made without \`String()\`, which
  keeps every string it makes in V8's old-space number-to-string cache: each
  counter value then survived the next scavenge (0.22-0.25 ms against SET's
  0.08-0.11).
- INFO commandstats times one call in 64 rather than every call.
- The server runs with \`--max-semi-space-size=2\` (see deno.json): V8's
  default young generation (tens of MiB) otherwise shows up in RSS.
- An idle server collects its garbage: after a second without commands, once
  V8's heap grew by 32 MB and a quarter since the last full collection
  (data/_memory.ts \`idleCollect\`). V8's own collector waits for the heap
  to grow, and its idle-time memory reducer does not run under Deno: after
  1M SETs an idle server kept about 14 bytes per key of garbage (the Map's
  outgrown tables, strings young during a scavenge) for as long as we
  watched; heaps past 160 MB are left to V8 (the collection pauses about
  1.5 ms per MB). Memory is read 3 s after each load, both servers idle.
`;

const output = flags.output.startsWith("/")
  ? flags.output
  : `${ROOT}${flags.output}`;
await Deno.writeTextFile(output, md);
console.log(md);
console.log(allMet ? "all targets met" : "some targets NOT met");
