// Writers for durability tests: numbered writes whose acknowledgements are
// recorded, and the check after a restart that none of them is missing.

import assert from "node:assert/strict";
import { encodeCommand } from "../protocol.ts";
import { concat, Conn, ServerProcess } from "./_helpers.ts";

/** One acknowledged write: its number and when its reply came. */
export interface Ack {
  i: number;
  at: number;
}

/** Writes w:0, w:1, ... in pipelined batches until the connection dies;
 * returns what was acknowledged, with when. */
export async function writer(
  port: number,
  stop: { killed: boolean },
  prefix = "w",
  readKey?: string,
): Promise<Ack[]> {
  // With `readKey`, each SET is followed by a GET of that key (a large
  // value), so a batch's replies pass the server's flush threshold and it
  // writes them while the batch is still running.
  const perBatch = readKey === undefined ? 50 : 400;
  const acks: Ack[] = [];
  const c = await Conn.open(port);
  let i = 0;
  try {
    while (!stop.killed && i < 2_000_000) {
      const batch: Uint8Array[] = [];
      for (let j = 0; j < perBatch; j++, i++) {
        batch.push(encodeCommand(["SET", `${prefix}:${i}`, String(i)]));
        if (readKey !== undefined) batch.push(encodeCommand(["GET", readKey]));
      }
      await c.send(concat(batch));
      for (let j = i - perBatch; j < i; j++) {
        const r = await c.reply(10_000);
        assert.equal(r, "OK");
        acks.push({ i: j, at: Date.now() });
        if (readKey !== undefined) await c.reply(10_000);
      }
    }
  } catch {
    // the server died
  } finally {
    c.close();
  }
  return acks;
}

/** Sets `n` keys pre:0... with 32-byte values. */
export async function preload(port: number, n: number): Promise<void> {
  const c = await Conn.open(port);
  try {
    for (let i = 0; i < n; i += 1000) {
      const parts: Uint8Array[] = [];
      for (let j = i; j < i + 1000; j++) {
        parts.push(encodeCommand(["SET", `pre:${j}`, "x".repeat(32)]));
      }
      await c.send(concat(parts));
      for (let j = 0; j < 1000; j++) await c.reply();
    }
  } finally {
    c.close();
  }
}

/** Restarts the server on `dir` and returns the acknowledged writes it
 * does not have. */
export async function missingAfterRestart(
  dir: string,
  args: string[],
  acks: Ack[],
  prefix = "w",
): Promise<Ack[]> {
  await using server = await ServerProcess.start(args, dir);
  const c = await Conn.open(server.port);
  try {
    const missing: Ack[] = [];
    for (let k = 0; k < acks.length; k += 1000) {
      const slice = acks.slice(k, k + 1000);
      const values = await c.call(
        "MGET",
        ...slice.map((a) => `${prefix}:${a.i}`),
      ) as (string | null)[];
      slice.forEach((a, n) => {
        if (values[n] !== String(a.i)) missing.push(a);
      });
    }
    return missing;
  } finally {
    c.close();
  }
}
