// Byte-for-byte comparison with redis-server: each family's test file runs
// its cases through compareWithRedis.

import assert from "node:assert/strict";
import { encodeCommand } from "../protocol.ts";
import { Conn, has, RedisServer, startServer } from "./_helpers.ts";

/** One command: name and arguments. */
export type Cmd = (string | number)[];

/** Whether redis-server is installed (the comparisons are skipped when
 * not). */
export const hasRedis: boolean = has("redis-server");

/** Runs `cmds` on a fresh keyspace over one connection and returns each raw
 * reply. KEYS replies are compared as sets (order depends on each server's
 * hash table); `unordered` names further commands whose array replies are
 * compared as sets. */
export async function runCase(
  port: number,
  cmds: Cmd[],
  resp: 2 | 3,
  unordered: ReadonlySet<string> = new Set(),
): Promise<string[]> {
  return await withConns(port, 1, resp, async ([c]) => {
    const out: string[] = [];
    for (const cmd of cmds) {
      const raw = await c.rawReplies(encodeCommand(cmd));
      const name = String(cmd[0]).toUpperCase();
      out.push(
        name === "KEYS" || unordered.has(name) ? sortedArray(raw) : raw,
      );
    }
    return out;
  });
}

/** A flat array reply with its elements sorted. */
function sortedArray(raw: string): string {
  const head = raw.split("\r\n")[0];
  return raw.split("\r\n").slice(1).join("\r\n").split(/(?=[$:,+])/).sort()
    .join("|") + head;
}

/** Opens `n` connections to `port` (each after HELLO 3 when `resp` is 3),
 * flushes every database, runs `fn` with them and closes them. */
export async function withConns<T>(
  port: number,
  n: number,
  resp: 2 | 3,
  fn: (conns: Conn[]) => Promise<T>,
): Promise<T> {
  const conns: Conn[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const c = await Conn.open(port);
      conns.push(c);
      if (resp === 3) await c.call("HELLO", "3");
    }
    await conns[0].call("FLUSHALL");
    return await fn(conns);
  } finally {
    for (const c of conns) c.close();
  }
}

/**
 * Runs every case on redis-server and on our server, in RESP2 and RESP3,
 * as test steps: `run` returns what the case recorded (raw replies), and
 * the two records must be identical, item by item (`label(case, i)` names
 * item i in a failure) and in length.
 */
export async function compareRecords<C>(
  t: Deno.TestContext,
  cases: Record<string, C>,
  run: (port: number, c: C, resp: 2 | 3) => Promise<string[]>,
  label: (c: C, i: number) => string,
): Promise<void> {
  await using redis = await RedisServer.start();
  await using ours = await startServer();
  for (const [name, c] of Object.entries(cases)) {
    for (const resp of [2, 3] as const) {
      await t.step(`${name} (RESP${resp})`, async () => {
        const expected = await run(redis.port, c, resp);
        const actual = await run(ours.port, c, resp);
        for (let i = 0; i < expected.length; i++) {
          assert.equal(
            actual[i],
            expected[i],
            `${label(c, i)}: got ${JSON.stringify(actual[i])}, ` +
              `redis said ${JSON.stringify(expected[i])}`,
          );
        }
        assert.equal(actual.length, expected.length);
      });
    }
  }
}

/**
 * Runs every case against redis-server and against our server, in RESP2
 * and RESP3, as test steps, and asserts the raw replies are identical.
 */
export async function compareWithRedis(
  t: Deno.TestContext,
  cases: Record<string, Cmd[]>,
  options: { unordered?: string[] } = {},
): Promise<void> {
  const unordered = new Set(options.unordered?.map((n) => n.toUpperCase()));
  await compareRecords(
    t,
    cases,
    (port, cmds, resp) => runCase(port, cmds, resp, unordered),
    (cmds, i) => cmds[i].join(" "),
  );
}
