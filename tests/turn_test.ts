// _turn.ts: the replies of the reads that completed together wait until
// every one of those connections has run its commands.

import assert from "node:assert/strict";
import { replyTurn } from "../_turn.ts";

Deno.test("replyTurn settles after the continuations queued in the same drain", async () => {
  const events: string[] = [];
  // Three "connections" whose reads completed in one turn, the last one a
  // step behind (its read went through one promise more).
  const connection = (i: number) => async () => {
    events.push(`ran ${i}`);
    await replyTurn();
    events.push(`wrote ${i}`);
  };
  const loops = [
    Promise.resolve().then(connection(0)),
    Promise.resolve().then(connection(1)),
    Promise.resolve().then(() => null).then(connection(2)),
  ];
  await Promise.all(loops);
  assert.deepEqual(events, [
    "ran 0",
    "ran 1",
    "ran 2",
    "wrote 0",
    "wrote 1",
    "wrote 2",
  ]);
});

Deno.test("replyTurn: a later turn gets a new promise, and settles too", async () => {
  const first = replyTurn();
  assert.equal(replyTurn(), first);
  await first;
  const second = replyTurn();
  assert.notEqual(second, first);
  await second;
});
