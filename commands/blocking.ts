/**
 * Blocking commands: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN,
 * BZPOPMAX, BZMPOP, XREAD / XREADGROUP with BLOCK, WAIT, and CLIENT
 * UNBLOCK.
 *
 * A blocking command first runs as its non-blocking form; when that finds
 * nothing (and the client may block), the client is queued on each of its
 * keys ({@linkcode Blocking}) and its read loop in server.ts awaits the
 * waiter's promise: no polling, no CPU while it waits. Every write of a
 * key somebody waits on marks the key ready (`Store.keyReady`); after each
 * top-level command the server calls {@linkcode Blocking.flush}, which
 * retries the waiters of each ready key first come, first served, as
 * Redis's handleClientsBlockedOnKeys does. A served pop is logged as its
 * non-blocking equivalent (BLPOP as LPOP, BLMPOP as LPOP key count, BLMOVE
 * as LMOVE, BZPOPMIN as ZPOPMIN, ...), as Redis propagates it.
 *
 * @module
 */

import { Replication } from "../replication.ts";
import { StoreError } from "../store.ts";
import type { Store } from "../store.ts";
import type { Container } from "../store.ts";
import { parseInt64 } from "../_number.ts";
import { formatId, type Stream } from "../data/stream.ts";
import {
  type ClientState,
  CommandError,
  Errors,
  type Handler,
  intArg,
  type ServerState,
  type Session,
  upper,
} from "./_shared.ts";
import { listCommands } from "./lists.ts";
import { zsetCommands } from "./zsets.ts";
import { streamCommands } from "./streams.ts";
import { keyCommands } from "./keys.ts";
import { notify, notifyIfGone } from "./pubsub.ts";

const ERR_TIMEOUT_FLOAT = "ERR timeout is not a float or out of range";
const ERR_TIMEOUT_INT = "ERR timeout is not an integer or out of range";
const ERR_TIMEOUT_NEGATIVE = "ERR timeout is negative";
const ERR_NUMKEYS = "ERR numkeys should be greater than 0";
const ERR_COUNT = "ERR count should be greater than 0";
const ERR_UNBLOCK_REASON =
  "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR";
const UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK";
/** The longest delay setTimeout takes; longer waits re-arm. */
const MAX_TIMER = 2 ** 31 - 1;

/** One client waiting in a blocking command.
 *
 * @example
 * ```ts
 * import { type BlockedClient, Blocking, Store } from "@kv/store";
 * const blocking = Blocking.of(new Store());
 * const w: BlockedClient | undefined = blocking.get(1); // client 1's wait, if any
 * console.log(w?.keys, w?.deadline); // undefined undefined: it is not blocked
 * ```
 */
export interface BlockedClient {
  /** The waiting client. */
  readonly client: ClientState;
  /** Its session: where the reply goes. */
  readonly session: Session;
  /** The keys it waits on (none for WAIT). */
  readonly keys: readonly string[];
  /** When it times out (ms since the epoch); 0: never. */
  readonly deadline: number;
  /** Served, timed out, unblocked or cancelled. */
  done: boolean;
  /** Resolves once `done`. */
  readonly promise: Promise<void>;
  /** Tries the command again: writes the reply and returns true when it
   * could be served. */
  readonly attempt: (s: Session, key?: string) => boolean;
  /** Writes the reply a timeout gives. */
  readonly timeoutReply: (s: Session) => void;
  /** Served (with an error) when its key goes away (XREADGROUP). */
  readonly endsWithKey: boolean;
  /** @internal */
  resolve: () => void;
  /** @internal */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The clients blocked on the keys of one {@linkcode Store}: a FIFO queue
 * per key, the keys written since the last {@linkcode Blocking.flush}, and
 * timeouts.
 *
 * @example
 * ```ts
 * import { Blocking, Store } from "@kv/store";
 * const blocking = Blocking.of(new Store());
 * console.log(blocking.count); // 0 clients blocked
 * ```
 */
export class Blocking {
  readonly #store: Store;
  #byKey = new Map<string, BlockedClient[]>();
  #byClient = new Map<number, BlockedClient>();
  #ready: string[] = [];
  #readySet = new Set<string>();
  #withTimeout = 0;
  #noKeyWaiters = 0;
  #scheduled = false;
  /** Keys were written that blocked clients wait on: call
   * {@linkcode Blocking.flush}. */
  pending = false;

  /** The blocking state of a store (made on first use). */
  static of(store: Store): Blocking {
    let b = registry.get(store);
    if (b === undefined) {
      b = new Blocking(store);
      registry.set(store, b);
    }
    return b;
  }

  private constructor(store: Store) {
    this.#store = store;
  }

  /** Clients blocked (INFO `blocked_clients`). */
  get count(): number {
    return this.#byClient.size;
  }

  /** Blocked clients with a timeout (INFO `clients_in_timeout_table`). */
  get withTimeout(): number {
    return this.#withTimeout;
  }

  /** The waiter of a client, if it is blocked. */
  get(clientId: number): BlockedClient | undefined {
    return this.#byClient.get(clientId);
  }

  /** Marks `key` ready when clients wait on it (the store calls it for
   * each key written while clients block). */
  signal(key: string): void {
    this.#signal(key);
  }

  /** Marks every key clients wait on ready (FLUSHALL, FLUSHDB). */
  signalAll(): void {
    for (const key of this.#byKey.keys()) this.#signal(key);
  }

  #signal = (key: string): void => {
    if (!this.#byKey.has(key) || this.#readySet.has(key)) return;
    this.#readySet.add(key);
    this.#ready.push(key);
    if (!this.pending) readyBlockings.push(this);
    this.pending = true;
    // Writes from outside a client's loop (the dashboard, embedded use)
    // are served too; the server's loop flushes first after each command.
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        if (this.pending) this.flush();
      });
    }
  };

  /**
   * Blocks the client of `s` on `keys` for `timeoutMs` (0: forever):
   * `attempt` is retried with each key written (served from that key
   * only, as Redis serves the ready key), `timeoutReply` answers a
   * timeout; `endsWithKey` when the key's removal ends the wait (then
   * `attempt` answers). The client's loop then awaits the waiter's
   * promise.
   */
  block(
    s: Session,
    keys: readonly string[],
    timeoutMs: number,
    attempt: (s: Session, key?: string) => boolean,
    timeoutReply: (s: Session) => void,
    endsWithKey = false,
  ): BlockedClient {
    const { promise, resolve } = Promise.withResolvers<void>();
    if (endsWithKey) this.#noKeyWaiters++;
    const w: BlockedClient = {
      client: s.client,
      session: s,
      keys,
      deadline: timeoutMs > 0 ? Date.now() + timeoutMs : 0,
      done: false,
      promise,
      attempt,
      timeoutReply,
      endsWithKey,
      resolve,
      timer: undefined,
    };
    for (const key of new Set(keys)) {
      const q = this.#byKey.get(key);
      if (q === undefined) this.#byKey.set(key, [w]);
      else q.push(w);
    }
    this.#byClient.set(s.client.id, w);
    s.client.blocked = w;
    this.#store.keyReady = this.#signal;
    if (w.deadline > 0) {
      this.#withTimeout++;
      this.#arm(w);
    }
    return w;
  }

  #arm(w: BlockedClient): void {
    const left = w.deadline - Date.now();
    w.timer = setTimeout(() => {
      w.timer = undefined;
      if (w.done) return;
      if (Date.now() < w.deadline) this.#arm(w);
      else this.#timeout(w);
    }, Math.max(0, Math.min(left, MAX_TIMER)));
  }

  #timeout(w: BlockedClient): void {
    if (w.done) return;
    w.timeoutReply(w.session);
    this.#finish(w);
  }

  /** Serves the clients blocked on the keys written since the last call,
   * each key's first come first, until no key is ready. */
  flush(): void {
    this.pending = false;
    const ready = this.#ready;
    // Serving may write more keys (BLMOVE's destination): they queue up.
    for (let i = 0; i < ready.length; i++) {
      const key = ready[i];
      this.#readySet.delete(key);
      const q = this.#byKey.get(key);
      if (q === undefined) continue;
      // A waiter served or cancelled leaves the queue: the next one moves
      // to index j.
      let j = 0;
      while (j < q.length) {
        const w = q[j];
        if ((w.client as { closed?: boolean }).closed === true) {
          this.cancel(w);
        } else if (!this.#try(w, key)) {
          // Nobody behind can be served from a missing key (a list popped
          // empty), except an XREADGROUP, which then ends: O(1) a push.
          if (this.#noKeyWaiters === 0 && !this.#store.has(key)) break;
          j++;
        }
      }
    }
    ready.length = 0;
    this.pending = false;
  }

  #try(w: BlockedClient, key: string): boolean {
    const s = w.session;
    const store = s.store;
    const dirty = store.dirty;
    const mark = s.out.length;
    let served = false;
    try {
      served = w.attempt(s, key);
    } catch (e) {
      if (!(e instanceof CommandError || e instanceof StoreError)) throw e;
      served = false; // a key of another type now: it goes on waiting
    }
    if (!served) {
      s.out.length = mark;
      s.propagate = null;
      return false;
    }
    if (store.dirty !== dirty && s.propagate !== null) {
      s.server.persistence.feed(s.propagate, s.client.db);
    }
    s.propagate = null;
    this.#finish(w);
    return true;
  }

  #finish(w: BlockedClient): void {
    if (w.done) return;
    w.done = true;
    if (w.endsWithKey) this.#noKeyWaiters--;
    if (w.timer !== undefined) clearTimeout(w.timer);
    if (w.deadline > 0) this.#withTimeout--;
    for (const key of new Set(w.keys)) {
      const q = this.#byKey.get(key);
      if (q === undefined) continue;
      const i = q.indexOf(w);
      if (i !== -1) q.splice(i, 1);
      if (q.length === 0) this.#byKey.delete(key);
    }
    if (this.#byClient.get(w.client.id) === w) {
      this.#byClient.delete(w.client.id);
    }
    if (w.client.blocked === w) w.client.blocked = null;
    if (this.#byClient.size === 0) this.#store.keyReady = null;
    w.resolve();
  }

  /** CLIENT UNBLOCK: answers the client as a timeout would, or with the
   * UNBLOCKED error; false when it is not blocked. */
  unblock(clientId: number, error: boolean): boolean {
    const w = this.#byClient.get(clientId);
    if (w === undefined || w.done) return false;
    if (error) w.session.out.error(UNBLOCKED);
    else w.timeoutReply(w.session);
    this.#finish(w);
    return true;
  }

  /** Forgets a waiter with no reply (its client left). */
  cancel(w: BlockedClient): void {
    this.#finish(w);
  }
}

const registry = new WeakMap<Store, Blocking>();

/** The stores' blocking states with keys ready (a write in any database):
 * the server's loop serves them after each command with
 * {@linkcode serveReady}. */
export const readyBlockings: Blocking[] = [];

/** Serves the clients blocked on keys written since the last call, in
 * every database. */
export function serveReady(): void {
  for (let i = 0; i < readyBlockings.length; i++) {
    const b = readyBlockings[i];
    if (b.pending) b.flush();
  }
  readyBlockings.length = 0;
}

/**
 * Input a blocked client sent while it waited, and the read still pending
 * when it was woken: the read loop takes its next bytes from here first.
 *
 * @example
 * ```ts ignore
 * // Internal: the server's read loop (server.ts); @kv/store does not export it.
 * import { HeldInput, waitBlocked } from "./blocking.ts";
 * const held = new HeldInput();
 * if (!(await waitBlocked(conn, held, waiter))) return; // the client left
 * // served: the read loop takes held.chunks (and held.read) first
 * ```
 */
export class HeldInput {
  /** Chunks read while blocked, in order. */
  chunks: Uint8Array[] = [];
  /** A read started while blocked, not finished yet. */
  read: Promise<number | null> | null = null;
  /** Where that read goes: small, as a blocked client seldom sends
   * anything (1 KB per waiter). */
  readonly buf: Uint8Array = new Uint8Array(1024);

  /** True when bytes (or a read) are waiting here. */
  get pending(): boolean {
    return this.chunks.length !== 0 || this.read !== null;
  }

  /** The next chunk: a held one, or the pending read's (null at the end
   * of the input). */
  async next(): Promise<Uint8Array | null> {
    if (this.chunks.length !== 0) return this.chunks.shift()!;
    const n = await this.read;
    this.read = null;
    if (n === null || n === undefined) return null;
    return this.buf.slice(0, n);
  }
}

const WOKEN = Symbol("woken");

/**
 * Waits until `w` is done (served, timed out, unblocked) while reading
 * what the client sends meanwhile into `held` (it runs after the wait, as
 * in Redis); true when woken, false when the client disconnected (the
 * waiter is then forgotten, so nothing is given to it).
 */
export async function waitBlocked(
  conn: Deno.Conn,
  held: HeldInput,
  w: BlockedClient,
): Promise<boolean> {
  const woken = w.promise.then(() => WOKEN);
  try {
    while (!w.done) {
      held.read ??= conn.read(held.buf);
      const r = await Promise.race([woken, held.read]);
      if (r === WOKEN) break;
      held.read = null;
      if (r === null) return false;
      held.chunks.push(held.buf.slice(0, r as number));
    }
    return true;
  } finally {
    if (!w.done) Blocking.of(w.session.store).cancel(w);
  }
}

// --- Arguments ---------------------------------------------------------

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)(?:[pP]([+-]?\d+))?$/;
const INFINITY = /^[+-]?inf(inity)?$/i;

/** Parses a number as C's strtold does (Redis's getLongDoubleFromObject):
 * decimal, hexadecimal and infinity; null otherwise (NaN too). */
function parseLongDouble(s: string): number | null {
  if (s.length === 0 || s.length > 5120) return null;
  if (DECIMAL.test(s)) return Number(s);
  if (INFINITY.test(s)) return s[0] === "-" ? -Infinity : Infinity;
  const m = HEX.exec(s);
  if (m === null || (m[2] === "" && m[3] === "")) return null;
  let v = 0;
  for (const ch of m[2]) v = v * 16 + parseInt(ch, 16);
  let scale = 1 / 16;
  for (const ch of m[3]) {
    v += parseInt(ch, 16) * scale;
    scale /= 16;
  }
  if (m[4] !== undefined) v *= 2 ** Number(m[4]);
  return m[1] === "-" ? -v : v;
}

/** A timeout in seconds (a double) as milliseconds; 0 is forever. */
export function secondsTimeout(arg: string): number {
  const v = parseLongDouble(arg);
  if (v === null) throw new CommandError(ERR_TIMEOUT_FLOAT);
  const ms = Math.ceil(v * 1000);
  // Beyond a long long, Redis's conversion goes negative.
  if (!(ms < 9223372036854775807) || ms < 0) {
    throw new CommandError(ERR_TIMEOUT_NEGATIVE);
  }
  return ms === 0 ? 0 : ms; // not -0
}

/** A timeout in milliseconds (an integer); 0 is forever. */
export function millisecondsTimeout(arg: string): number {
  const v = parseInt64(arg);
  if (v === null) throw new CommandError(ERR_TIMEOUT_INT);
  if (v < 0) throw new CommandError(ERR_TIMEOUT_NEGATIVE);
  return Number(v);
}

/** True when the client may block: a real connection, not inside EXEC
 * (Redis answers a blocking command in MULTI as a timeout). */
function mayBlock(s: Session): boolean {
  const tx = s.client.tx;
  if (tx != null && tx.log !== null) return false;
  return s.server.clients.get(s.client.id) === s.client;
}

/** Runs `attempt`; when it finds nothing, blocks (or answers as a timeout
 * when the client may not block). */
function runBlocking(
  s: Session,
  keys: readonly string[],
  timeoutMs: number,
  attempt: (s: Session, key?: string) => boolean,
  timeoutReply: (s: Session) => void,
  deniedReply: (s: Session) => void = timeoutReply,
): void {
  if (attempt(s)) return;
  if (!mayBlock(s)) {
    deniedReply(s);
    return;
  }
  Blocking.of(s.store).block(s, keys, timeoutMs, attempt, timeoutReply);
}

const nilArray = (s: Session) => s.out.nilArray();

function whereArg(s: string, a: string, b: string): string {
  const w = upper(s);
  if (w === a || w === b) return w;
  throw new CommandError(Errors.syntax);
}

/** The container of `type` at `key` (no keyspace stats), or undefined. */
function lookup(s: Session, key: string, type: Container["type"]) {
  return s.store.lookupAs<Container>(key, type);
}

// --- Lists ---------------------------------------------------------------

/** Runs a move; a waiter whose destination now holds another type is
 * answered with the error (the element stays), as Redis does. */
function moveOrFail(s: Session, move: () => void): void {
  if (s.client.blocked == null) return move();
  try {
    move();
  } catch (e) {
    if (!(e instanceof CommandError || e instanceof StoreError)) throw e;
    s.out.error(e.message);
  }
}

function blpop(left: boolean): Handler {
  return (s, argv) => {
    const timeout = secondsTimeout(argv[argv.length - 1]);
    const keys = argv.slice(1, -1);
    runBlocking(s, keys, timeout, (s, ready) => {
      for (const key of ready === undefined ? keys : [ready]) {
        if (lookup(s, key, "list") === undefined) continue;
        const lists = s.store.lists;
        const v = left ? lists.lpop(key) : lists.rpop(key);
        notify(s, left ? "lpop" : "rpop", key, "l");
        notifyIfGone(s, key);
        s.propagate = [[left ? "LPOP" : "RPOP", key]];
        s.out.array(2);
        s.out.bulk(key);
        s.out.bulk(v!);
        return true;
      }
      return false;
    }, nilArray);
  };
}

const blmove: Handler = (s, argv) => {
  whereArg(argv[3], "LEFT", "RIGHT");
  whereArg(argv[4], "LEFT", "RIGHT");
  const timeout = secondsTimeout(argv[5]);
  const [, src, dst] = argv;
  runBlocking(
    s,
    [src],
    timeout,
    (s) => {
      if (lookup(s, src, "list") === undefined) return false;
      const move = ["LMOVE", src, dst, argv[3], argv[4]];
      moveOrFail(s, () => listCommands.lmove(s, move));
      s.propagate = [move];
      return true;
    },
    nilArray,
    (s) => s.out.nil(),
  );
};

const brpoplpush: Handler = (s, argv) => {
  const timeout = secondsTimeout(argv[3]);
  const [, src, dst] = argv;
  runBlocking(
    s,
    [src],
    timeout,
    (s) => {
      if (lookup(s, src, "list") === undefined) return false;
      const move = ["RPOPLPUSH", src, dst];
      moveOrFail(s, () => listCommands.rpoplpush(s, move));
      s.propagate = [move];
      return true;
    },
    nilArray,
    (s) => s.out.nil(),
  );
};

/** BLMPOP and BZMPOP: timeout numkeys key... where [COUNT n]. */
function parseMpop(argv: string[], a: string, b: string) {
  const timeout = secondsTimeout(argv[1]);
  const numkeys = intArg(argv[2], ERR_NUMKEYS);
  if (numkeys < 1) throw new CommandError(ERR_NUMKEYS);
  const whereAt = 3 + numkeys;
  if (whereAt >= argv.length) throw new CommandError(Errors.syntax);
  const where = whereArg(argv[whereAt], a, b);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && upper(argv[j]) === "COUNT" && j + 1 < argv.length) {
      count = intArg(argv[++j], ERR_COUNT);
      if (count < 1) throw new CommandError(ERR_COUNT);
    } else throw new CommandError(Errors.syntax);
  }
  return {
    timeout,
    keys: argv.slice(3, whereAt),
    where,
    count: count === -1 ? 1 : count,
  };
}

function mpop(zset: boolean): Handler {
  return (s, argv) => {
    const { timeout, keys, where, count } = zset
      ? parseMpop(argv, "MIN", "MAX")
      : parseMpop(argv, "LEFT", "RIGHT");
    runBlocking(s, keys, timeout, (s, ready) => {
      for (const key of ready === undefined ? keys : [ready]) {
        const c = lookup(s, key, zset ? "zset" : "list");
        if (c === undefined) continue;
        const n = Math.min(count, c.size);
        const args = ["1", key, where, "COUNT", String(count)];
        if (zset) {
          zsetCommands.zmpop(s, ["ZMPOP", ...args]);
          s.propagate = [[
            where === "MIN" ? "ZPOPMIN" : "ZPOPMAX",
            key,
            `${n}`,
          ]];
        } else {
          listCommands.lmpop(s, ["LMPOP", ...args]);
          s.propagate = [[where === "LEFT" ? "LPOP" : "RPOP", key, `${n}`]];
        }
        return true;
      }
      return false;
    }, nilArray);
  };
}

// --- Sorted sets ---------------------------------------------------------

function bzpop(max: boolean): Handler {
  return (s, argv) => {
    const timeout = secondsTimeout(argv[argv.length - 1]);
    const keys = argv.slice(1, -1);
    runBlocking(s, keys, timeout, (s, ready) => {
      for (const key of ready === undefined ? keys : [ready]) {
        if (lookup(s, key, "zset") === undefined) continue;
        const [[member, score]] = s.store.zsets.zpop(key, 1, max);
        notify(s, max ? "zpopmax" : "zpopmin", key, "z");
        notifyIfGone(s, key);
        s.propagate = [[max ? "ZPOPMAX" : "ZPOPMIN", key]];
        s.out.array(3);
        s.out.bulk(key);
        s.out.bulk(member);
        s.out.double(score);
        return true;
      }
      return false;
    }, nilArray);
  };
}

// --- Streams -------------------------------------------------------------

/** True when the handler run since `mark` answered the null array. */
function answeredNil(s: Session, mark: number): boolean {
  return s.out.length - mark === (s.out.resp === 3 ? 3 : 5);
}

function xreadBlocking(group: boolean): Handler {
  const run = group ? streamCommands.xreadgroup : streamCommands.xread;
  return (s, argv) => {
    const mark = s.out.length;
    run(s, argv); // parses, checks, and answers when there is data
    // Where BLOCK is, and where the ids start.
    let block = -1;
    let streams = -1;
    for (let i = 1; i < argv.length; i++) {
      const o = upper(argv[i]);
      if (o === "BLOCK") block = i++;
      else if (o === "COUNT") i++;
      else if (o === "GROUP") i += 2;
      else if (o === "STREAMS") {
        streams = i + 1;
        break;
      }
    }
    if (block === -1 || !answeredNil(s, mark)) return;
    const timeout = Number(parseInt64(argv[block + 1]));
    const retry = argv.slice();
    retry.splice(block, 2);
    const half = (argv.length - streams) / 2;
    const keys = argv.slice(streams, streams + half);
    if (!group) {
      // `$` is the last id now: entries added later are served.
      const first = streams - 2 + half;
      for (let i = 0; i < half; i++) {
        if (retry[first + i] !== "$") continue;
        const st = s.store.lookupAs<Stream>(keys[i], "stream");
        retry[first + i] = st === undefined ? "0-0" : formatId(st.lastId);
      }
    }
    if (!mayBlock(s)) return;
    s.out.length = mark;
    s.propagate = null;
    const groupName = group
      ? argv[argv.findIndex((a) => upper(a) === "GROUP") + 1]
      : "";
    Blocking.of(s.store).block(
      s,
      keys,
      timeout,
      (s, ready) => {
        // Served from the ready stream only, as Redis does.
        const i = ready === undefined ? -1 : keys.indexOf(ready);
        const only = i === -1 ? keys : [keys[i]];
        // As Redis 7.0: XREADGROUP ends when its stream or group goes away.
        if (group && !groupStillThere(s, only, groupName)) return true;
        const at = s.out.length;
        run(
          s,
          i === -1 ? retry : [
            ...retry.slice(0, streams - 2),
            keys[i],
            retry[streams - 2 + half + i],
          ],
        );
        if (answeredNil(s, at)) {
          s.out.length = at;
          return false;
        }
        return true;
      },
      nilArray,
      group,
    );
  };
}

/** For a blocked XREADGROUP: false (with the error written) when a stream
 * or the group is gone. */
function groupStillThere(
  s: Session,
  keys: readonly string[],
  group: string,
): boolean {
  for (const key of keys) {
    let st: Stream | undefined;
    try {
      st = s.store.lookupAs<Stream>(key, "stream");
    } catch {
      st = undefined; // another type now
    }
    if (st === undefined) {
      s.out.error("UNBLOCKED the stream key no longer exists");
      return false;
    }
    if (st.group(group) === undefined) {
      s.out.error(
        "NOGROUP the consumer group this client was blocked on no longer exists",
      );
      return false;
    }
  }
  return true;
}

// --- WAIT and CLIENT UNBLOCK -----------------------------------------------

const wait: Handler = (s, argv) => {
  const repl = Replication.of(s.server);
  if (repl.isReplica) {
    throw new CommandError(
      "ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.",
    );
  }
  const replicas = intArg(argv[1]);
  const timeout = millisecondsTimeout(argv[2]);
  // The replicas that acknowledged the stream up to the last write (the
  // client's included; Redis counts from the client's own last write).
  const offset = repl.writeOffset;
  const acked = (s: Session) => s.out.int(repl.acked(offset));
  if (repl.acked(offset) >= replicas || !mayBlock(s)) return acked(s);
  const blocking = Blocking.of(s.store);
  const id = s.client.id;
  const w = blocking.block(s, [], timeout, () => false, (s) => {
    cancel();
    acked(s);
  });
  // Woken (answered as by a timeout, with the count) once enough ACKs came.
  const cancel = repl.waitFor(offset, replicas, () => {
    if (!w.done) blocking.unblock(id, false);
  });
  w.promise.then(cancel);
};

const clientUnblock: Handler = (s, argv) => {
  if (argv.length > 4) {
    throw new CommandError(
      "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP.",
    );
  }
  const id = intArg(argv[2]);
  let error = false;
  if (argv.length === 4) {
    const reason = upper(argv[3]);
    if (reason === "ERROR") error = true;
    else if (reason !== "TIMEOUT") throw new CommandError(ERR_UNBLOCK_REASON);
  }
  const waiter = s.server.clients.get(id)?.blocked;
  const store = waiter == null ? s.store : waiter.session.store;
  s.out.int(Blocking.of(store).unblock(id, error) ? 1 : 0);
};

/** Clients blocked in any database (INFO `blocked_clients`, and with a
 * timeout, `clients_in_timeout_table`). */
export function blockedCounts(
  server: ServerState,
): { count: number; withTimeout: number } {
  let count = 0, withTimeout = 0;
  for (const [, store] of server.databases) {
    const b = Blocking.of(store);
    count += b.count;
    withTimeout += b.withTimeout;
  }
  return { count, withTimeout };
}

/** After a command that replaced keys in several databases (FLUSHALL,
 * FLUSHDB, SWAPDB), the clients blocked in those look again: a key that
 * now exists serves them, a stream gone ends XREADGROUP, as in Redis. */
function thenSignal(
  run: Handler,
  stores: (s: Session, argv: string[]) => Iterable<Store>,
): Handler {
  return (s, argv) => {
    run(s, argv);
    for (const store of stores(s, argv)) Blocking.of(store).signalAll();
  };
}
const allDbs = (s: Session) => s.server.databases.map(([, store]) => store);

/** Handlers of the blocking commands, by command name. */
export const blockingCommands: Record<string, Handler> = {
  blpop: blpop(true),
  brpop: blpop(false),
  blmove,
  brpoplpush,
  blmpop: mpop(false),
  bzpopmin: bzpop(false),
  bzpopmax: bzpop(true),
  bzmpop: mpop(true),
  xread: xreadBlocking(false),
  xreadgroup: xreadBlocking(true),
  wait,
  "client|unblock": clientUnblock,
  // Emptying the keyspace ends the XREADGROUP waits, as in Redis.
  flushall: thenSignal(keyCommands.flushall, allDbs),
  flushdb: thenSignal(keyCommands.flushdb, (s) => [s.store]),
  // SWAPDB ran, so its two indexes are valid.
  swapdb: thenSignal(keyCommands.swapdb, (s, argv) => [
    s.server.db(Number(argv[1])),
    s.server.db(Number(argv[2])),
  ]),
  // The stream ops change groups without Store.written: wake XREADGROUP.
  "xgroup|destroy": (s, argv) => {
    streamCommands["xgroup|destroy"](s, argv);
    Blocking.of(s.store).signal(argv[2]);
  },
};
