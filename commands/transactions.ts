/**
 * Transactions: MULTI, EXEC, DISCARD, WATCH and UNWATCH, with Redis 7.0's
 * semantics. While a client is in MULTI the dispatcher (commands.ts
 * `execute`) queues its commands and answers `+QUEUED`; a command refused
 * while queuing (unknown, arity, NOAUTH, ...) marks the transaction failed
 * and EXEC answers EXECABORT. EXEC runs the queue in one synchronous go,
 * so no other client runs in between, and the writes it made reach the
 * append-only log together, wrapped in MULTI ... EXEC when there are
 * several (as Redis propagates them).
 *
 * WATCH registers the client in {@linkcode Store.watched}; the store
 * signals every write or removal of a watched key (commands, expiry, lazy
 * or active, flushes), which makes the next EXEC reply nil. As Redis 7.0,
 * a key already expired when watched may be deleted without that counting
 * as a change, and EXEC also fails when a watched key expired since.
 *
 * @module
 */

import type { KeyWatchers, Store } from "../store.ts";
import {
  type ClientState,
  CommandError,
  type Handler,
  type Session,
} from "./_shared.ts";
import { execute } from "../commands.ts";

/** Commands that run at once inside MULTI instead of being queued. */
export const RUN_IN_MULTI: ReadonlySet<string> = new Set([
  "exec",
  "discard",
  "multi",
  "watch",
  "quit",
  "reset",
]);

/** Redis's reply to EXEC after a command was refused while queuing. */
export const EXECABORT =
  "EXECABORT Transaction discarded because of previous errors.";
/** Redis's reply to a `no-multi` command inside MULTI. */
export const NOT_IN_MULTI = "ERR Command not allowed inside a transaction";

/** One client's watch of one key. */
class Watch {
  constructor(readonly tx: Transaction, public expired: boolean) {}
}

/** A transaction's watches in one database: key -> watch. */
type Watches = Map<string, Watch>;

/** Everyone watching one key: told by the store when it changes. */
class KeyWatch extends Set<Watch> implements KeyWatchers {
  touched(exists: boolean): void {
    for (const w of this) {
      // A key that was already expired when watched, now deleted: no
      // logical change (Redis 7.0's touchWatchedKey).
      if (w.expired && !exists) {
        w.expired = false;
        continue;
      }
      w.tx.touch();
    }
  }
}

/**
 * One client's MULTI and WATCH state (`ClientState.tx`).
 *
 * @example A command of your own that answers differently inside MULTI
 * ```ts
 * import { Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "INTX",
 *   arity: 1,
 *   handler: (s) => s.out.int(s.client.tx?.executing ? 1 : 0),
 * });
 * ```
 */
export class Transaction {
  /** Commands queued since MULTI; null outside MULTI. */
  queue: string[][] | null = null;
  /** A command was refused while queuing: EXEC aborts. */
  failed = false;
  /** A watched key changed: EXEC replies nil. */
  dirty = false;
  /** While EXEC runs: the commands it queued (CLIENT LIST's `multi`). */
  running = 0;
  /** While EXEC runs: what its commands log, written whole at the end. */
  log: string[][] | null = null;
  /** Watched keys, by database. */
  readonly #watches = new Map<Store, Watches>();
  #watching = 0;
  readonly #store: Store;
  /** While EXEC runs or a script logs: the database its last logged
   * write ran in (a write in another one is logged after a SELECT). */
  logDb = 0;

  /** State for a client acting on `store`. */
  constructor(store: Store) {
    this.#store = store;
  }

  /** True between MULTI and the end of EXEC or DISCARD. */
  get inMulti(): boolean {
    return this.queue !== null || this.log !== null;
  }

  /** True while EXEC runs the queue (blocking commands must not block). */
  get executing(): boolean {
    return this.log !== null;
  }

  /** How many keys are watched. */
  get watching(): number {
    return this.#watching;
  }

  /** A watched key changed: EXEC will fail, nothing more to watch. */
  touch(): void {
    this.dirty = true;
    this.unwatchAll();
  }

  /** WATCH of one key, in `store` (the client's database). */
  watch(key: string, store: Store = this.#store): void {
    let watches = this.#watches.get(store);
    if (watches === undefined) this.#watches.set(store, watches = new Map());
    if (watches.has(key)) return;
    // Held past its time but not yet removed (Redis's keyIsExpired).
    const at = store.expiryOf(key);
    const w = new Watch(this, at !== undefined && store.clock() > at);
    watches.set(key, w);
    this.#watching++;
    let set = store.watched.get(key) as KeyWatch | undefined;
    if (set === undefined) {
      set = new KeyWatch();
      store.watched.set(key, set);
    }
    set.add(w);
  }

  /** True when a key watched while it existed has expired since. */
  watchedKeyExpired(): boolean {
    if (this.#watching === 0) return false;
    for (const [store, watches] of this.#watches) {
      const now = store.clock();
      for (const [key, w] of watches) {
        if (w.expired) continue;
        const at = store.expiryOf(key);
        if (at !== undefined && now > at) return true;
      }
    }
    return false;
  }

  /** UNWATCH: forgets every watched key (the dirty flag is the caller's). */
  unwatchAll(): void {
    if (this.#watching === 0) return;
    for (const [store, watches] of this.#watches) {
      const registry = store.watched;
      for (const [key, w] of watches) {
        const set = registry.get(key) as KeyWatch | undefined;
        if (set === undefined) continue;
        set.delete(w);
        if (set.size === 0) registry.delete(key);
      }
    }
    this.#watches.clear();
    this.#watching = 0;
  }

  /** Leaves MULTI and forgets the watches (DISCARD, EXEC, RESET, the
   * client leaving). */
  discard(): void {
    this.queue = null;
    this.failed = false;
    this.dirty = false;
    this.running = 0;
    this.log = null;
    this.unwatchAll();
  }
}

/** Discards the transaction and watches of a client (RESET, disconnect). */
export function discardTransaction(client: ClientState): void {
  const tx = client.tx;
  if (tx != null) tx.discard();
}

/** CLIENT LIST's flags for transactions: `x` in MULTI, `d` when a watched
 * key changed (empty otherwise). */
export function transactionFlags(client: ClientState): string {
  const tx = client.tx;
  if (tx == null) return "";
  return (tx.inMulti ? "x" : "") + (tx.dirty ? "d" : "");
}

/** CLIENT LIST's `multi`: commands queued, -1 outside MULTI. */
export function multiCount(client: ClientState): number {
  const tx = client.tx;
  if (tx == null || !tx.inMulti) return -1;
  return tx.queue !== null ? tx.queue.length : tx.running;
}

/** CLIENT LIST's `multi-mem`: an estimate of the queued commands' bytes. */
export function multiMemory(client: ClientState): number {
  const queue = client.tx?.queue;
  if (queue == null) return 0;
  let n = 0;
  for (const argv of queue) {
    n += 8 * argv.length;
    for (const a of argv) n += a.length;
  }
  return n;
}

function txOf(s: Session): Transaction {
  return s.client.tx ??= new Transaction(s.store);
}

const multi: Handler = (s) => {
  const tx = txOf(s);
  if (tx.inMulti) throw new CommandError("ERR MULTI calls can not be nested");
  tx.queue = [];
  s.out.ok();
};

const exec: Handler = (s) => {
  const tx = s.client.tx;
  if (tx == null || tx.queue === null) {
    throw new CommandError("ERR EXEC without MULTI");
  }
  if (!tx.failed && !tx.dirty && tx.watchedKeyExpired()) tx.dirty = true;
  if (tx.failed) {
    tx.discard();
    throw new CommandError(EXECABORT);
  }
  if (tx.dirty) {
    tx.discard();
    s.out.nilArray();
    return;
  }
  const queue = tx.queue;
  tx.unwatchAll();
  tx.queue = null;
  tx.running = queue.length;
  const log: string[][] = tx.log = [];
  const db = tx.logDb = s.client.db;
  const commands = s.server.commands;
  try {
    s.out.array(queue.length);
    for (const argv of queue) execute(commands, s, argv);
  } finally {
    tx.discard();
    s.client.lastCommand = "exec";
  }
  // One write is logged alone; several as MULTI ... EXEC.
  if (log.length === 1) s.server.persistence.feed(log, db);
  else if (log.length > 1) {
    log.unshift(["MULTI"]);
    log.push(["EXEC"]);
    s.server.persistence.feed(log, db);
  }
};

const discard: Handler = (s) => {
  const tx = s.client.tx;
  if (tx == null || tx.queue === null) {
    throw new CommandError("ERR DISCARD without MULTI");
  }
  tx.discard();
  s.out.ok();
};

const watch: Handler = (s, argv) => {
  const tx = txOf(s);
  if (tx.inMulti) {
    throw new CommandError("ERR WATCH inside MULTI is not allowed");
  }
  // Once a watched key changed, EXEC fails whatever else is watched.
  if (!tx.dirty) {
    for (let i = 1; i < argv.length; i++) tx.watch(argv[i], s.store);
  }
  s.out.ok();
};

const unwatch: Handler = (s) => {
  const tx = s.client.tx;
  if (tx != null) {
    tx.unwatchAll();
    tx.dirty = false;
  }
  s.out.ok();
};

/** Handlers of the transaction commands, by lowercase name. */
export const transactionCommands: Record<string, Handler> = {
  multi,
  exec,
  discard,
  watch,
  unwatch,
};

/** EXEC itself refused (arity, NOAUTH, ...): the transaction is discarded
 * and the error becomes an EXECABORT, as Redis's execCommandAbort. */
export function execAbort(s: Session, message: string): string {
  discardTransaction(s.client);
  return `EXECABORT Transaction discarded because of: ${
    message.startsWith("ERR ") ? message.slice(4) : message
  }`;
}
