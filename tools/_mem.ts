// Helpers shared by the memory scripts (tools/mem_*.ts), which measure the
// RSS per element of our server against redis-server: starting either
// server, reading RSS from /proc, loading data over redis-cli --pipe or a
// socket, and comparing the two.

import { freePort, RedisServer, waitForPort } from "./_processes.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A server to measure. */
export interface Target {
  /** Its port. */
  port: number;
  /** Its process id. */
  pid: number;
  /** Stops it. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The permissions our server runs with unless told otherwise. */
const PERMISSIONS = [
  "--allow-net",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
];

/** Starts our server as a subprocess, as `deno task serve` does (a small
 * young generation: `--max-semi-space-size=2`), without persistence, in a
 * temporary directory that goes away with it. */
export async function startOurs(
  options: { permissions?: string[]; waitMs?: number } = {},
): Promise<Target> {
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "kv-mem-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--max-semi-space-size=2",
      ...(options.permissions ?? PERMISSIONS),
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
  const stop = async () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  try {
    await waitForPort(port, options.waitMs);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, pid: child.pid, stop, [Symbol.asyncDispose]: stop };
}

/** Starts redis-server on a free port. */
export async function startRedis(): Promise<Target> {
  const r = await RedisServer.start();
  const stop = () => r.stop();
  return {
    port: r.port,
    pid: r.process.pid,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** Resident set size of a process (VmRSS), in bytes. */
export function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** One command in RESP (arguments of one-byte characters). */
export function command(args: string[]): string {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${a.length}\r\n${a}\r\n`;
  return s;
}

/** Runs redis-cli --pipe on `data`; its stdout and stderr. */
export async function redisCliPipe(
  port: number,
  data: Uint8Array,
): Promise<{ stdout: string; stderr: string }> {
  const child = new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", "-p", String(port), "--pipe"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(data);
  await w.close();
  const out = await child.output();
  return {
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Sends commands through redis-cli --pipe, in chunks of about 8 MB;
 * throws unless each chunk reports no error. */
export async function pipe(
  port: number,
  commands: Iterable<string>,
): Promise<void> {
  let chunk: string[] = [];
  let size = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const { stdout } = await redisCliPipe(port, encoder.encode(chunk.join("")));
    if (!stdout.includes("errors: 0")) throw new Error(stdout);
    chunk = [];
    size = 0;
  };
  for (const c of commands) {
    chunk.push(c);
    size += c.length;
    if (size > 8 << 20) await flush();
  }
  await flush();
}

/** RSS growth of a fresh server from `start` after piping `load()` through
 * redis-cli (0.5 s before the baseline, 1.5 s before the second read). */
export async function measurePipe(
  start: () => Promise<Target>,
  load: () => Iterable<string>,
): Promise<number> {
  const t = await start();
  try {
    await sleep(500);
    const before = rss(t.pid);
    await pipe(t.port, load());
    await sleep(1500);
    return rss(t.pid) - before;
  } finally {
    await t.stop();
  }
}

/** Writes `data` (in slices of at most 1 MB) while reading the replies,
 * until `replies` line ends have come; throws on an error reply (a '-'
 * anywhere: every command here answers an integer or +OK). */
export async function sendCounting(
  conn: Deno.Conn,
  data: Iterable<Uint8Array>,
  replies: number,
): Promise<void> {
  const reading = (async () => {
    const buf = new Uint8Array(64 * 1024);
    let seen = 0;
    while (seen < replies) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("connection closed");
      for (let i = 0; i < n; i++) {
        if (buf[i] === 10) seen++;
        else if (buf[i] === 45) throw new Error("error reply"); // '-'
      }
    }
  })();
  for (const d of data) {
    for (let at = 0; at < d.length;) {
      at += await conn.write(d.subarray(at, at + (1 << 20)));
    }
  }
  await reading;
}

/** Sends the commands over one connection, a batch of 16 at a time,
 * reading (and counting) one reply line per command; throws on an error
 * reply. */
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
      batch.push(command(c));
      if (batch.length === 16) await flush();
    }
    if (batch.length > 0) await flush();
  } finally {
    conn.close();
  }
}

/** Loads `commands` into a fresh server of each kind (ours first) and
 * prints RSS per element and the ratio (0.5 s before the baseline, 2 s
 * before the second read). */
export async function compare(
  what: string,
  elements: number,
  commands: () => Iterable<string[]>,
): Promise<{ ours: number; redis: number; ratio: number }> {
  const perElement: number[] = [];
  for (const start of [startOurs, startRedis]) {
    const t = await start();
    try {
      await sleep(500);
      const before = rss(t.pid);
      await load(t.port, commands());
      await sleep(2000);
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
