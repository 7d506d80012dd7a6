// Memory of HyperLogLog values: our server against redis-server, RSS
// measured from /proc. Three loads, each in a fresh pair of servers:
//   - one counter fed 1,000,000 elements (PFADD, 1000 per command), and
//     the same traffic as EXISTS (nothing stored) for comparison;
//   - 20,000 dense counters (PFADD of 20 elements, then PFDEBUG TODENSE);
//   - 100,000 sparse counters of 20 elements each.
//   - as a control, 500,000 SETs of strings as long as the sparse values.
// Prints bytes per element / per key on each side and the ratio; an
// argument picks the loads whose name contains it.
//
//   deno run --allow-all tools/mem_hyperloglog.ts

import {
  command,
  measurePipe as measure,
  startOurs,
  startRedis,
} from "./_mem.ts";

const KEYS = 500_000;

function* oneBig(): Iterable<string> {
  for (let i = 0; i < 1_000_000; i += 1000) {
    const args = ["PFADD", "big"];
    for (let j = i; j < i + 1000; j++) args.push(`element:${j}`);
    yield command(args);
  }
}

/** The same traffic with nothing stored: EXISTS of the 1,000,000
 * elements as keys (what parsing the commands alone leaves in RSS). */
function* oneBigControl(): Iterable<string> {
  for (let i = 0; i < 1_000_000; i += 1000) {
    const args = ["EXISTS"];
    for (let j = i; j < i + 1000; j++) args.push(`element:${j}`);
    yield command(args);
  }
}

function* manyDense(): Iterable<string> {
  for (let k = 0; k < 20_000; k++) {
    const key = `hll:${k}`;
    const args = ["PFADD", key];
    for (let j = 0; j < 20; j++) args.push(`e${k}:${j}`);
    yield command(args);
    yield command(["PFDEBUG", "TODENSE", key]);
  }
}

function* manySparse(): Iterable<string> {
  for (let k = 0; k < KEYS; k++) {
    const args = ["PFADD", `hll:${k}`];
    for (let j = 0; j < 20; j++) args.push(`e${k}:${j}`);
    yield command(args);
  }
}

function* manySets(): Iterable<string> {
  for (let k = 0; k < KEYS; k++) {
    yield command(["SET", `hll:${k}`, "v".repeat(60) + String(k).padStart(18)]);
  }
}

const LOADS: [string, () => Iterable<string>, number, string][] = [
  [`control: ${KEYS} SETs of 78-byte values`, manySets, KEYS, "key"],
  ["control: EXISTS of 1,000,000 names", oneBigControl, 1_000_000, "element"],
  ["1 counter, 1,000,000 elements", oneBig, 1_000_000, "element"],
  ["20,000 dense counters", manyDense, 20_000, "key"],
  [`${KEYS} sparse counters (20 elements)`, manySparse, KEYS, "key"],
];

const only = Deno.args[0];
for (const [name, load, n, unit] of LOADS) {
  if (only !== undefined && !name.includes(only)) continue;
  const ours = await measure(startOurs, load);
  const redis = await measure(startRedis, load);
  const fmt = (b: number) => (b / n).toFixed(1).padStart(9);
  console.log(
    `${name.padEnd(40)} ours ${fmt(ours)} B/${unit}  redis ${
      fmt(redis)
    } B/${unit}  ratio ${(ours / redis).toFixed(2)}`,
  );
}
