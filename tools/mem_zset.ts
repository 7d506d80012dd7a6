// Memory per sorted set member: RSS growth of one 1M-member sorted set on
// our server and on redis-server, and the ratio; then per key for 200,000
// small sorted sets (1, 3, 10 and 30 members: the packed form), the
// keyspace's own cost included.
//
//   deno run --allow-all tools/mem_zset.ts [members] [--no-small]

import {
  compare,
  redisCliPipe,
  rss,
  sleep,
  startOurs,
  startRedis,
} from "./_mem.ts";

const COUNT = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
const BATCH = 1000;

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

async function measure(
  name: string,
  port: number,
  pid: number,
  load: { data: Uint8Array; commands: number },
): Promise<number> {
  await sleep(500);
  const before = rss(pid);
  const { stdout, stderr } = await redisCliPipe(port, load.data);
  const out = stdout + stderr;
  if (!out.includes(`replies: ${load.commands}`)) throw new Error(out);
  await sleep(2000);
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

const redis = await startRedis();
let theirs: number;
try {
  theirs = await measure("redis-server", redis.port, redis.pid, load);
} finally {
  await redis.stop();
}

const ours = await startOurs({ waitMs: 30_000 });
try {
  const mine = await measure("@kv/store", ours.port, ours.pid, load);
  console.log(`ratio: ${(mine / theirs).toFixed(2)}x redis-server`);
} finally {
  await ours.stop();
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
