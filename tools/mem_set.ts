// Memory of a 1M-member set: RSS per member on our server against
// redis-server (each started fresh, loaded over the wire with SADD of 1,000
// members at a time, RSS read from /proc before and after); then many small
// sets (200,000 keys of 3 members, per key).
//
//   deno run --allow-all tools/mem_set.ts [elements]

import { compare } from "./mem_hash.ts";

function* sadds(n: number, prefix: string): Iterable<string[]> {
  for (let i = 0; i < n; i += 1000) {
    const cmd = ["SADD", "set"];
    for (let j = i; j < Math.min(n, i + 1000); j++) cmd.push(`${prefix}${j}`);
    yield cmd;
  }
}

if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 1_000_000);
  await compare(`set of ${n} members (member:N)`, n, () => sadds(n, "member:"));
  await compare(`set of ${n} integers`, n, () => sadds(n, ""));
  const keys = 200_000;
  await compare(`${keys} sets of 3 members`, keys, function* () {
    for (let i = 0; i < keys; i++) yield ["SADD", `s:${i}`, "a", "bb", `m${i}`];
  });
}
