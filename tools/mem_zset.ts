// Memory per sorted set member: RSS growth of one 1M-member sorted set on
// our server and on redis-server, and the ratio; then per key for 200,000
// small sorted sets (1, 3, 10 and 30 members: the packed form), the
// keyspace's own cost included.
//
//   deno run --allow-all tools/mem_zset.ts [members] [--no-small]

import { freePort, RedisServer, waitForPort } from "./_processes.ts";
import { compare } from "./mem_hash.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const COUNT = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const BATCH = 1000;

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : NaN;
}

/** ZADD commands adding `member:<i>` with score i (a few non-integer
 * scores too), BATCH members each. */
function loadData(): { data: Uint8Array; commands: number } {
  const parts: string[] = [];
  let commands = 0;
  for (let i = 0; i < COUNT; i += BATCH) {
    const n = Math.min(BATCH, COUNT - i);
    parts.push(`*${2 + 2 * n}\r\n$4\r\nZADD\r\n$3\r\nbig\r\n`);
    for (let j = i; j < i + n; j++) {
      const score = j % 10 === 0 ? `${j}.5` : String(j);
      const member = `member:${j}`;
      parts.push(
        `$${score.length}\r\n${score}\r\n$${member.length}\r\n${member}\r\n`,
      );
    }
    commands++;
  }
  return { data: new TextEncoder().encode(parts.join("")), commands };
}

async function pipe(port: number, data: Uint8Array): Promise<string> {
  const child = new Deno.Command("redis-cli", {
    args: ["-h", "127.0.0.1", "-p", String(port), "--pipe"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(data);
  await writer.close();
  const out = await child.output();
  return new TextDecoder().decode(out.stdout) +
    new TextDecoder().decode(out.stderr);
}

async function measure(
  name: string,
  port: number,
  pid: number,
  load: { data: Uint8Array; commands: number },
): Promise<number> {
  await new Promise((r) => setTimeout(r, 500));
  const before = rss(pid);
  const out = await pipe(port, load.data);
  if (!out.includes(`replies: ${load.commands}`)) throw new Error(out);
  await new Promise((r) => setTimeout(r, 2000));
  const after = rss(pid);
  const per = (after - before) / COUNT;
  console.log(
    `${name}: ${per.toFixed(1)} bytes/member (RSS ${
      (before / 2 ** 20).toFixed(1)
    } -> ${(after / 2 ** 20).toFixed(1)} MiB)`,
  );
  return per;
}

const load = loadData();

const redis = await RedisServer.start();
let theirs: number;
try {
  theirs = await measure("redis-server", redis.port, redis.process.pid, load);
} finally {
  await redis.stop();
}

const port = freePort();
const dir = await Deno.makeTempDir({ prefix: "kv-mem-" });
const ours = new Deno.Command(Deno.execPath(), {
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
    "--dir",
    dir,
    "--loglevel",
    "warning",
  ],
  cwd: ROOT,
  stdout: "null",
  stderr: "inherit",
}).spawn();
try {
  await waitForPort(port, 30_000);
  const mine = await measure("@kv/store", port, ours.pid, load);
  console.log(`ratio: ${(mine / theirs).toFixed(2)}x redis-server`);
} finally {
  try {
    ours.kill("SIGKILL");
  } catch {
    // gone
  }
  await ours.status;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
}

if (!Deno.args.includes("--no-small")) {
  const keys = 200_000;
  for (const members of [1, 3, 10, 30]) {
    await compare(
      `${keys} sorted sets of ${members} members`,
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
