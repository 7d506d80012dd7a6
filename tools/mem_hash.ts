// Memory of a 1M-field hash: RSS per field on our server against
// redis-server (each started fresh, loaded over the wire with HSET of 1,000
// fields at a time, RSS read from /proc before and after); then many small
// hashes (200,000 keys of 1, 2, 5 and 20 fields: per key, so the keyspace's
// own cost per key is in it too, shown alone by the plain SET line); then
// the same per-key cost for small sets (intset) and small sorted sets
// (listpack), for comparison.
//
//   deno run --allow-all tools/mem_hash.ts [elements] [big|small|others]...
//
// With no part named, all three run.

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

/** Field names of a session-like hash, the first `n` of them. */
const FIELDS = [
  "name",
  "age",
  "email",
  "visits",
  "last",
  ...Array.from({ length: 15 }, (_, i) => `attr${i}`),
];

/** HSET of `fields` fields at each of `keys` keys (`user:<i>`): short
 * fields, values a few bytes long, some of them integers. */
export function* smallHashes(keys: number, fields: number): Iterable<string[]> {
  for (let i = 0; i < keys; i++) {
    const cmd = ["HSET", `user:${i}`];
    for (let f = 0; f < fields; f++) {
      cmd.push(FIELDS[f], f % 2 === 0 ? `v${i}` : String(f * 7 + (i & 63)));
    }
    yield cmd;
  }
}

if (import.meta.main) {
  const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const parts = Deno.args.filter((a) => !/^\d+$/.test(a));
  const run = (part: string) => parts.length === 0 || parts.includes(part);
  const keys = 200_000;
  if (run("big")) {
    await compare(`hash of ${n} fields (field:N value:N)`, n, () => hsets(n));
  }
  if (run("small")) {
    await compare(
      `${keys} string keys (SET user:N vN), the keyspace alone`,
      keys,
      function* () {
        for (let i = 0; i < keys; i++) yield ["SET", `user:${i}`, `v${i}`];
      },
    );
    for (const fields of [1, 2, 5, 20]) {
      await compare(
        `${keys} hashes of ${fields} field${fields === 1 ? "" : "s"}`,
        keys,
        () => smallHashes(keys, fields),
      );
    }
  }
  if (run("others")) {
    for (const members of [1, 3, 10]) {
      await compare(
        `${keys} sets of ${members} integers (intset)`,
        keys,
        function* () {
          for (let i = 0; i < keys; i++) {
            const cmd = ["SADD", `s:${i}`];
            for (let m = 0; m < members; m++) {
              cmd.push(String(m * 1000 + (i & 255)));
            }
            yield cmd;
          }
        },
      );
    }
    for (const members of [1, 3, 10]) {
      await compare(
        `${keys} sorted sets of ${members} members (listpack)`,
        keys,
        function* () {
          for (let i = 0; i < keys; i++) {
            const cmd = ["ZADD", `z:${i}`];
            for (let m = 0; m < members; m++) {
              cmd.push(String(m + (i & 7)), `m${m}`);
            }
            yield cmd;
          }
        },
      );
    }
  }
}
