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

import { compare } from "./_mem.ts";

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
