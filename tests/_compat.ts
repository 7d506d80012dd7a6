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
  const c = await Conn.open(port);
  try {
    await c.call("FLUSHALL");
    if (resp === 3) await c.call("HELLO", "3");
    const out: string[] = [];
    for (const cmd of cmds) {
      const raw = await c.rawReplies(encodeCommand(cmd));
      const name = String(cmd[0]).toUpperCase();
      out.push(
        name === "KEYS" || unordered.has(name) ? sortedArray(raw) : raw,
      );
    }
    return out;
  } finally {
    c.close();
  }
}

/** A flat array reply with its elements sorted. */
function sortedArray(raw: string): string {
  const head = raw.split("\r\n")[0];
  return raw.split("\r\n").slice(1).join("\r\n").split(/(?=[$:,+])/).sort()
    .join("|") + head;
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
  await using redis = await RedisServer.start();
  await using ours = await startServer();
  for (const [name, cmds] of Object.entries(cases)) {
    for (const resp of [2, 3] as const) {
      await t.step(`${name} (RESP${resp})`, async () => {
        const expected = await runCase(redis.port, cmds, resp, unordered);
        const actual = await runCase(ours.port, cmds, resp, unordered);
        for (let i = 0; i < cmds.length; i++) {
          assert.equal(
            actual[i],
            expected[i],
            `${cmds[i].join(" ")}: got ${JSON.stringify(actual[i])}, ` +
              `redis said ${JSON.stringify(expected[i])}`,
          );
        }
      });
    }
  }
}
