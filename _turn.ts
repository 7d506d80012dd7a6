// The end of a turn of the event loop, for the server's replies.
//
// DESIGN: Redis reads and runs the commands of every client one epoll_wait
// reported, and writes the replies afterwards, together (beforeSleep's
// handleClientsWithPendingWrites). Our connections each run their own loop,
// so each wrote its reply as soon as its commands ran: between two of our
// sends came the next connection's decoding and commands, long enough for
// redis-benchmark (a fast reader on the other core) to go back to sleep,
// and every send paid the kernel's wake-up of the reader (perf: 17-21% of
// the server's CPU in `sock_def_readable`'s wake-up under INCR -P 32). Now
// a connection that has run its commands awaits `replyTurn()` first: Deno
// resolves the reads that completed together in one go, their loops run one
// after another in the same microtask drain, and the replies leave back to
// back once the last of them has run. Measured (redis-benchmark -c 50 -d 16,
// one server each way, alternating): INCR -P 32 1.71-1.79M -> 2.21-2.28M
// req/s, the server's system time per request 212-262 -> 122-130 ns; SET
// -P 32 2.06M -> 2.44M, GET -P 32 2.47M -> 3.03M; at -P 1 SET 177k -> 182k,
// MSET 143k -> 156k. The append-only log is written (and fsynced) once for
// the turn rather than once per connection: SET -P 1 with appendfsync
// everysec 136-137k -> 161-163k. The cost is one promise reaction per reply.

let turn: Promise<void> | null = null;
let endTurn: () => void = () => {};

function closeTurn(): void {
  turn = null;
  endTurn();
}

/**
 * A promise that settles once the microtasks queued before the first call
 * of this drain have run: the loops of the connections whose reads Deno
 * resolved together, queued together, have run their commands. A loop
 * queued further behind (its read went through more promise steps) finds
 * the turn closed and starts the next one: the batching is a best effort,
 * never a wait. One promise per turn, shared by every caller.
 */
export function replyTurn(): Promise<void> {
  if (turn === null) {
    turn = new Promise<void>((resolve) => endTurn = resolve);
    // Queued behind the continuations already queued in this drain.
    queueMicrotask(closeTurn);
  }
  return turn;
}
