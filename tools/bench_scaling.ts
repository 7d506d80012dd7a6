// deno task bench:scaling: the numbers of docs/scaling.md, on loopback.
//
// 1. Full sync: a primary holding --keys keys (16-byte keys and values,
//    loaded with redis-cli --pipe) and a fresh replica; the time from
//    REPLICAOF until the replica says master_link_status:up and its offset
//    equals the primary's. Primaries: @kv/store and redis-server;
//    replicas: redis-server and @kv/store.
// 2. Replication lag: `redis-benchmark -t set -P 16 -c 20 -n 500000`
//    against a primary with one replica attached; both offsets are read
//    every 100 ms (INFO replication, sent to both at once; a replica
//    answering after the primary can show a later offset: such a sample
//    counts as 0); the maximum
//    and median lag in bytes, the time the replica needs to catch up once
//    the load ends, and the SET rate with and without the replica.
// 3. Import into a 3-node Redis Cluster: `redis-cli --cluster import
//    ... --cluster-copy` of --import-keys keys from @kv/store and from a
//    redis-server source, in keys per second.
//
// Each measure runs --rounds times (default 3), the two sources taking
// turns; the table gives the median and every round. Every process
// started here is killed before the script ends, even on an error or
// Ctrl-C. Prints a markdown table to stdout (progress goes to stderr).

import { parseArgs } from "node:util";
import { Client } from "../client.ts";
import {
  freePort,
  RedisServer,
  serveArgs,
  spawnRedis,
  waitForPort,
} from "./_processes.ts";

const { values: flags } = parseArgs({
  options: {
    rounds: { type: "string", default: "3" },
    keys: { type: "string", default: "1000000" },
    "import-keys": { type: "string", default: "100000" },
    quick: { type: "boolean", default: false },
  },
});
const QUICK = flags.quick;
const ROUNDS = Number(flags.rounds);
const SYNC_KEYS = QUICK ? 50_000 : Number(flags.keys);
const IMPORT_KEYS = QUICK ? 5_000 : Number(flags["import-keys"]);
const LAG_REQUESTS = QUICK ? 50_000 : 500_000;
const ROOT = new URL("../", import.meta.url).pathname;
const decoder = new TextDecoder();
const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => console.error(s);

// --- processes ---------------------------------------------------------------

/** Every process started here and not yet stopped. */
const live = new Set<Deno.ChildProcess>();
const dirs: string[] = [];

interface Node {
  kind: "@kv/store" | "redis-server";
  port: number;
  process: Deno.ChildProcess;
}

async function tempDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kv-scaling-" });
  dirs.push(dir);
  return dir;
}

/** Our server as `deno task serve` runs it. */
async function startOurs(extra: string[] = []): Promise<Node> {
  const serve = await serveArgs(ROOT);
  const port = freePort();
  const process = new Deno.Command(Deno.execPath(), {
    args: [
      ...serve,
      "--port",
      String(port),
      "--save",
      "",
      "--loglevel",
      "warning",
      "--dir",
      await tempDir(),
      ...extra,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "null",
  }).spawn();
  live.add(process);
  await waitForPort(port, 30_000);
  return { kind: "@kv/store", port, process };
}

/** redis-server with no persistence. A primary starts its diskless full
 * sync at once (repl-diskless-sync-delay 0; Redis's default waits 5 s for
 * more replicas), as ours does. */
async function startRedis(extra: string[] = []): Promise<Node> {
  const r = await RedisServer.start([
    "--repl-diskless-sync-delay",
    "0",
    ...extra,
  ]);
  live.add(r.process);
  dirs.push(r.dir);
  return { kind: "redis-server", port: r.port, process: r.process };
}

async function stop(node: { process: Deno.ChildProcess }): Promise<void> {
  if (!live.delete(node.process)) return;
  try {
    node.process.kill("SIGKILL");
  } catch {
    // gone
  }
  await node.process.status;
}

async function stopAll(): Promise<void> {
  for (const process of [...live]) await stop({ process });
  for (const dir of dirs.splice(0)) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs a program to its end (killed after `ms`); stdout and stderr. */
async function run(
  cmd: string,
  args: string[],
  opts: { stdin?: Uint8Array; ms?: number; quiet?: boolean } = {},
): Promise<{ code: number; out: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: opts.stdin ? "piped" : "null",
    stdout: opts.quiet ? "null" : "piped",
    stderr: "piped",
  }).spawn();
  live.add(child);
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, opts.ms ?? 180_000);
  try {
    if (opts.stdin) {
      const w = child.stdin.getWriter();
      await w.write(opts.stdin);
      await w.close();
    }
    const out = await child.output();
    return {
      code: out.code,
      out: (opts.quiet ? "" : decoder.decode(out.stdout)) +
        decoder.decode(out.stderr),
    };
  } finally {
    clearTimeout(timer);
    live.delete(child);
  }
}

// --- talking to servers --------------------------------------------------------

function connect(port: number): Promise<Client> {
  return Client.connect({ port, reconnect: false });
}

/** INFO `section` as a map of its fields. */
async function info(c: Client, section: string): Promise<Map<string, string>> {
  const text = String(await c.execute("INFO", section));
  const out = new Map<string, string>();
  for (const line of text.split("\r\n")) {
    const i = line.indexOf(":");
    if (i > 0 && !line.startsWith("#")) {
      out.set(line.slice(0, i), line.slice(i + 1));
    }
  }
  return out;
}

/** RESP for `n` SETs of 16-byte keys and 16-byte values. */
function setCommands(n: number, prefix = "key:"): Uint8Array {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    const key = prefix + String(i).padStart(16 - prefix.length, "0");
    const value = "v" + String(i).padStart(15, "0");
    parts.push(`*3\r\n$3\r\nSET\r\n$16\r\n${key}\r\n$16\r\n${value}\r\n`);
  }
  return encoder.encode(parts.join(""));
}

async function load(port: number, data: Uint8Array, n: number): Promise<void> {
  const r = await run("redis-cli", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "--pipe",
  ], { stdin: data });
  if (!r.out.includes(`errors: 0, replies: ${n}`)) {
    throw new Error(`loading failed on ${port}: ${r.out}`);
  }
}

/** Polls (bounded) until the replica's link is up and its offset is the
 * primary's; the milliseconds from `t0`. */
async function waitInStep(
  primary: Client,
  replica: Client,
  t0: number,
  every = 10,
  ms = 300_000,
): Promise<number> {
  const deadline = t0 + ms;
  while (performance.now() < deadline) {
    const [r, p] = await Promise.all([
      info(replica, "replication"),
      info(primary, "replication"),
    ]);
    if (
      r.get("master_link_status") === "up" &&
      r.get("slave_repl_offset") === p.get("master_repl_offset")
    ) {
      return performance.now() - t0;
    }
    await sleep(every);
  }
  throw new Error(`the replica did not catch up within ${ms} ms`);
}

const start = (kind: Node["kind"]) =>
  kind === "@kv/store" ? startOurs() : startRedis();

// --- 1. full sync -------------------------------------------------------------

const KINDS: Node["kind"][] = ["@kv/store", "redis-server"];
const PAIRS: [Node["kind"], Node["kind"]][] = [
  ["@kv/store", "redis-server"],
  ["redis-server", "redis-server"],
  ["@kv/store", "@kv/store"],
  ["redis-server", "@kv/store"],
];
const pairName = ([p, r]: [string, string]) => `${p} -> ${r}`;

/** Results by row name, one number per round. */
const results = new Map<string, number[]>();
function record(row: string, value: number): void {
  const list = results.get(row) ?? [];
  list.push(value);
  results.set(row, list);
}

async function fullSyncs(round: number): Promise<void> {
  const data = setCommands(SYNC_KEYS);
  const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
  for (const primaryKind of order) {
    const primary = await start(primaryKind);
    try {
      await load(primary.port, data, SYNC_KEYS);
      await using p = await connect(primary.port);
      for (const [pk, replicaKind] of PAIRS) {
        if (pk !== primaryKind) continue;
        const replica = await start(replicaKind);
        try {
          await using r = await connect(replica.port);
          const t0 = performance.now();
          await r.execute("REPLICAOF", "127.0.0.1", String(primary.port));
          const ms = await waitInStep(p, r, t0);
          const size = Number(await r.execute("DBSIZE"));
          if (size !== SYNC_KEYS) {
            throw new Error(`replica holds ${size} keys, not ${SYNC_KEYS}`);
          }
          record(`sync ${pairName([primaryKind, replicaKind])}`, ms);
          log(
            `full sync ${pairName([primaryKind, replicaKind])}: ${ms | 0} ms`,
          );
        } finally {
          await stop(replica);
        }
      }
    } finally {
      await stop(primary);
    }
  }
}

// --- 2. lag under load ----------------------------------------------------------

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function setRate(port: number): Promise<number> {
  const r = await run("redis-benchmark", [
    "-h",
    "127.0.0.1",
    "-p",
    String(port),
    "-t",
    "set",
    "-P",
    "16",
    "-c",
    "20",
    "-n",
    String(LAG_REQUESTS),
    "--csv",
  ]);
  const line = r.out.split("\n").find((l) => l.startsWith('"SET"'));
  if (!line) throw new Error(`no result from redis-benchmark:\n${r.out}`);
  return Number(line.split(",")[1].replaceAll('"', ""));
}

async function lags(round: number): Promise<void> {
  const pairs = round % 2 === 0 ? PAIRS : [...PAIRS].reverse();
  for (const pair of pairs) {
    const [primaryKind, replicaKind] = pair;
    const primary = await start(primaryKind);
    const replica = await start(replicaKind);
    try {
      await using p = await connect(primary.port);
      await using r = await connect(replica.port);
      const alone = await setRate(primary.port);
      await r.execute("REPLICAOF", "127.0.0.1", String(primary.port));
      await waitInStep(p, r, performance.now());
      const samples: number[] = [];
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const [pi, ri] = await Promise.all([
            info(p, "replication"),
            info(r, "replication"),
          ]);
          // The two answers are not taken at the same instant: when the
          // replica answers later than the primary, its offset can pass
          // the primary's; that sample counts as no lag.
          samples.push(Math.max(
            0,
            Number(pi.get("master_repl_offset")) -
              Number(ri.get("slave_repl_offset")),
          ));
          await sleep(100);
        }
      })();
      let rate: number;
      try {
        rate = await setRate(primary.port);
      } finally {
        sampling = false;
        await sampler;
      }
      const catchUp = await waitInStep(p, r, performance.now(), 1);
      const name = pairName(pair);
      record(`lag max ${name}`, Math.max(0, ...samples));
      record(`lag median ${name}`, median(samples));
      record(`catch-up ${name}`, catchUp);
      record(`rate alone ${name}`, alone);
      record(`rate replicated ${name}`, rate);
      log(
        `lag ${name}: max ${Math.max(0, ...samples)} B, median ${
          median(samples)
        } B over ${samples.length} samples, catch-up ${
          catchUp.toFixed(1)
        } ms, SET ${alone | 0} req/s alone, ${rate | 0} with the replica`,
      );
    } finally {
      await stop(replica);
      await stop(primary);
    }
  }
}

// --- 3. import into a Redis Cluster -----------------------------------------------

/** A port whose cluster bus port (port + 10000) is free too. */
function clusterPort(taken: Set<number>): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = freePort();
    if (port + 10000 > 65535 || taken.has(port)) continue;
    try {
      Deno.listen({ hostname: "127.0.0.1", port: port + 10000 }).close();
    } catch {
      continue;
    }
    taken.add(port);
    taken.add(port + 10000);
    return port;
  }
  throw new Error("no free port pair for a cluster node");
}

async function startCluster(): Promise<Node[]> {
  const dir = await tempDir();
  const taken = new Set<number>();
  const nodes: Node[] = [];
  for (let i = 0; i < 3; i++) {
    const port = clusterPort(taken);
    const process = spawnRedis(port, dir, [
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `${dir}/nodes-${port}.conf`,
    ]);
    live.add(process);
    nodes.push({ kind: "redis-server", port, process });
    await waitForPort(port);
  }
  const r = await run("redis-cli", [
    "--cluster",
    "create",
    ...nodes.map((n) => `127.0.0.1:${n.port}`),
    "--cluster-replicas",
    "0",
    "--cluster-yes",
  ], { ms: 60_000 });
  if (r.code !== 0) throw new Error(`cluster create failed: ${r.out}`);
  const deadline = Date.now() + 30_000;
  for (const n of nodes) {
    while (true) {
      await using c = await connect(n.port);
      const text = String(await c.execute("CLUSTER", "INFO"));
      if (
        text.includes("cluster_state:ok") &&
        text.includes("cluster_known_nodes:3")
      ) break;
      if (Date.now() > deadline) throw new Error("the cluster is not ok");
      await sleep(100);
    }
  }
  return nodes;
}

async function clusterKeys(nodes: Node[]): Promise<number> {
  let n = 0;
  for (const node of nodes) {
    await using c = await connect(node.port);
    n += Number(await c.execute("DBSIZE"));
  }
  return n;
}

async function imports(round: number, cluster: Node[]): Promise<void> {
  const data = setCommands(IMPORT_KEYS, "imp:");
  const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
  for (const kind of order) {
    const source = await start(kind);
    try {
      await load(source.port, data, IMPORT_KEYS);
      const t0 = performance.now();
      const r = await run("redis-cli", [
        "--cluster",
        "import",
        `127.0.0.1:${cluster[0].port}`,
        "--cluster-from",
        `127.0.0.1:${source.port}`,
        "--cluster-copy",
      ], { quiet: true, ms: 300_000 });
      const ms = performance.now() - t0;
      if (r.code !== 0) throw new Error(`import failed: ${r.out}`);
      const n = await clusterKeys(cluster);
      if (n !== IMPORT_KEYS) {
        throw new Error(`the cluster holds ${n} keys, not ${IMPORT_KEYS}`);
      }
      record(`import ${kind}`, IMPORT_KEYS / (ms / 1000));
      log(
        `import from ${kind}: ${IMPORT_KEYS} keys in ${ms | 0} ms (${
          (IMPORT_KEYS / (ms / 1000)) | 0
        } keys/s)`,
      );
      for (const node of cluster) {
        await using c = await connect(node.port);
        await c.execute("FLUSHALL");
      }
    } finally {
      await stop(source);
    }
  }
}

// --- the table ---------------------------------------------------------------------

function fmt(x: number, digits = 0): string {
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function cell(row: string, digits = 0, unit = ""): string {
  const xs = results.get(row) ?? [];
  if (xs.length === 0) return "-";
  const all = xs.map((x) => fmt(x, digits)).join(", ");
  return `${fmt(median(xs), digits)}${unit}` +
    (xs.length > 1 ? ` (${all})` : "");
}

async function machine(): Promise<string> {
  const cores = navigator.hardwareConcurrency;
  const uname = await run("uname", ["-srm"]);
  const redis = await run("redis-server", ["--version"]);
  return `${cores} cores, ${uname.out.trim()}, Deno ${Deno.version.deno}, ` +
    redis.out.trim().replace(/ sha=.*/, "");
}

function table(): string {
  const out: string[] = [];
  const keys = fmt(SYNC_KEYS);
  out.push(
    `Full sync of ${keys} keys (16-byte keys and values), from REPLICAOF to`,
    "`master_link_status:up` with equal offsets, in ms:",
    "",
    "| primary -> replica | full sync (ms) |",
    "| --- | --- |",
  );
  for (const pair of PAIRS) {
    out.push(`| ${pairName(pair)} | ${cell(`sync ${pairName(pair)}`)} |`);
  }
  out.push(
    "",
    `Replication lag during \`redis-benchmark -t set -P 16 -c 20 -n ${
      fmt(LAG_REQUESTS).replaceAll(",", "")
    }\` against the primary (offsets sampled every 100 ms):`,
    "",
    "| primary -> replica | max lag (bytes) | median lag (bytes) | catch-up after the load (ms) | SET req/s, no replica | SET req/s, one replica |",
    "| --- | --- | --- | --- | --- | --- |",
  );
  for (const pair of PAIRS) {
    const n = pairName(pair);
    out.push(
      `| ${n} | ${cell(`lag max ${n}`)} | ${cell(`lag median ${n}`)} | ${
        cell(`catch-up ${n}`, 1)
      } | ${cell(`rate alone ${n}`)} | ${cell(`rate replicated ${n}`)} |`,
    );
  }
  out.push(
    "",
    `\`redis-cli --cluster import ... --cluster-copy\` of ${
      fmt(IMPORT_KEYS)
    } keys into a 3-node Redis Cluster:`,
    "",
    "| source | keys/s |",
    "| --- | --- |",
  );
  for (const kind of KINDS) out.push(`| ${kind} | ${cell(`import ${kind}`)} |`);
  out.push(
    "",
    ROUNDS === 1
      ? "One round."
      : `Medians of ${ROUNDS} rounds (each round in parentheses).`,
  );
  return out.join("\n");
}

// --- main ---------------------------------------------------------------------------

const onSignal = () => {
  stopAll().finally(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);
Deno.addSignalListener("SIGTERM", onSignal);

const began = performance.now();
try {
  const header = `Measured on ${
    new Date().toISOString().slice(0, 10)
  }: ${await machine()}.`;
  for (let round = 0; round < ROUNDS; round++) {
    log(`round ${round + 1} of ${ROUNDS}`);
    await fullSyncs(round);
    await lags(round);
  }
  const cluster = await startCluster();
  try {
    for (let round = 0; round < ROUNDS; round++) await imports(round, cluster);
  } finally {
    for (const node of cluster) await stop(node);
  }
  console.log(header + "\n\n" + table());
  log(`done in ${((performance.now() - began) / 1000).toFixed(0)} s`);
} finally {
  await stopAll();
  Deno.removeSignalListener("SIGINT", onSignal);
  Deno.removeSignalListener("SIGTERM", onSignal);
}
