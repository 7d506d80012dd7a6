// Memory of a 1M-member set: RSS per member on our server against
// redis-server (each started fresh, loaded over the wire with SADD of 1,000
// members at a time, RSS read from /proc before and after); then many small
// sets (200,000 keys: 3 strings; 1, 3, 10 and 100 integers (packed
// intsets); 10 strings (packed); per key, so the keyspace's own cost, about
// 200 bytes a key on our side, is in it).
//
//   deno run --allow-all tools/mem_set.ts [elements] [big|small]

import { compare } from "./_mem.ts";

function* sadds(n: number, prefix: string): Iterable<string[]> {
  for (let i = 0; i < n; i += 1000) {
    const cmd = ["SADD", "set"];
    for (let j = i; j < Math.min(n, i + 1000); j++) cmd.push(`${prefix}${j}`);
    yield cmd;
  }
}

if (import.meta.main) {
  const n = Number(Deno.args.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const parts = Deno.args.filter((a) => !/^\d+$/.test(a));
  const run = (part: string) => parts.length === 0 || parts.includes(part);
  if (run("big")) {
    await compare(
      `set of ${n} members (member:N)`,
      n,
      () => sadds(n, "member:"),
    );
    await compare(`set of ${n} integers`, n, () => sadds(n, ""));
  }
  if (run("small")) {
    const keys = 200_000;
    await compare(`${keys} sets of 3 members`, keys, function* () {
      for (let i = 0; i < keys; i++) {
        yield ["SADD", `s:${i}`, "a", "bb", `m${i}`];
      }
    });
    for (const members of [1, 3, 10, 100]) {
      await compare(`${keys} sets of ${members} integers`, keys, function* () {
        for (let i = 0; i < keys; i++) {
          const cmd = ["SADD", `s:${i}`];
          for (let m = 0; m < members; m++) {
            cmd.push(String(m * 1000 + (i & 255)));
          }
          yield cmd;
        }
      });
    }
    await compare(`${keys} sets of 10 strings`, keys, function* () {
      for (let i = 0; i < keys; i++) {
        const cmd = ["SADD", `s:${i}`];
        for (let m = 0; m < 10; m++) cmd.push(`tag${m}:${i & 63}`);
        yield cmd;
      }
    });
  }
}
