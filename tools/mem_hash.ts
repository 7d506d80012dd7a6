// Memory of a 1M-field hash: RSS per field on our server against
// redis-server (each started fresh, loaded over the wire with HSET of 1,000
// fields at a time, RSS read from /proc before and after); then many small
// hashes (200,000 keys of 2 fields: per key, so the keyspace's own cost per
// key is in it too).
//
//   deno run --allow-all tools/mem_hash.ts [elements]

import { freePort, RedisServer, waitForPort } from "./_processes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const encoder = new TextEncoder();

/** A server to measure. */
export interface Target {
  /** Its port. */
  port: number;
  /** Its process id. */
  pid: number;
  /** Stops it. */
  stop(): Promise<void>;
}

/** Starts our server as a subprocess, as `deno task serve` does. */
export async function startOurs(): Promise<Target> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "kv-mem-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--max-semi-space-size=2",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
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
  await waitForPort(port);
  return {
    port,
    pid: child.pid,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch {
        // gone
      }
      await child.status;
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}

/** Starts redis-server on a free port. */
export async function startRedis(): Promise<Target> {
  const r = await RedisServer.start();
  return { port: r.port, pid: r.process.pid, stop: () => r.stop() };
}

/** Resident set size of a process, in bytes. */
export function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

function encode(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

/** Sends the commands over one connection, a batch at a time, reading
 * (and counting) one reply line per command; throws on an error reply. */
export async function load(
  port: number,
  commands: Iterable<string[]>,
): Promise<void> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const buf = new Uint8Array(1 << 16);
  try {
    let batch: string[] = [];
    const flush = async () => {
      await conn.write(encoder.encode(batch.join("")));
      let pending = batch.length;
      batch = [];
      while (pending > 0) {
        const n = await conn.read(buf);
        if (n === null) throw new Error("connection closed");
        for (let i = 0; i < n; i++) {
          if (buf[i] === 45) throw new Error("error reply");
          if (buf[i] === 10) pending--;
        }
      }
    };
    for (const c of commands) {
      batch.push(encode(c));
      if (batch.length === 16) await flush();
    }
    if (batch.length > 0) await flush();
  } finally {
    conn.close();
  }
}

/** Loads `commands` into a fresh server of each kind and prints RSS per
 * element and the ratio. */
export async function compare(
  what: string,
  elements: number,
  commands: () => Iterable<string[]>,
): Promise<{ ours: number; redis: number; ratio: number }> {
  const perElement: number[] = [];
  for (const start of [startOurs, startRedis]) {
    const t = await start();
    try {
      await new Promise((r) => setTimeout(r, 500));
      const before = rss(t.pid);
      await load(t.port, commands());
      await new Promise((r) => setTimeout(r, 2000));
      perElement.push((rss(t.pid) - before) / elements);
    } finally {
      await t.stop();
    }
  }
  const [ours, redis] = perElement;
  const ratio = ours / redis;
  console.log(
    `${what}: ours ${ours.toFixed(1)} B/element, redis-server ` +
      `${redis.toFixed(1)} B/element, ratio ${ratio.toFixed(2)}x`,
  );
  return { ours, redis, ratio };
}

function* hsets(n: number): Iterable<string[]> {
  for (let i = 0; i < n; i += 1000) {
    const cmd = ["HSET", "hash"];
    for (let j = i; j < Math.min(n, i + 1000); j++) {
      cmd.push(`field:${j}`, `value:${j}`);
    }
    yield cmd;
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 1_000_000);
  await compare(`hash of ${n} fields (field:N value:N)`, n, () => hsets(n));
  const keys = 200_000;
  await compare(`${keys} hashes of 2 fields`, keys, function* () {
    for (let i = 0; i < keys; i++) {
      yield ["HSET", `user:${i}`, "name", `n${i}`, "age", "42"];
    }
  });
}
