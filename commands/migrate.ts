// MIGRATE: this server acts as a client of another one (a redis-server, a
// Redis Cluster node, or a server like this one) and moves keys there with
// RESTORE, as Redis 7.0's cluster.c migrateCommand does. The values are
// serialized with DUMP's encoder (data/_rdb_values.ts), and RESTORE-ASKING
// (what a cluster node sends) is RESTORE here, as on a standalone Redis.
//
// Redis blocks its whole server while MIGRATE talks to the target. Here only
// the calling client waits (its reply comes when the migration ends, like a
// yielding script's: `ClientState.scriptWait`); other clients are served
// meanwhile. So that this stays as atomic as Redis's:
// - the keys are read, and their payloads and remaining TTLs made, when the
//   command starts, in one synchronous step;
// - without COPY, a key the target acknowledged is deleted when the
//   migration ends only if nobody changed it meanwhile (each key is watched
//   as WATCH does: a write, a deletion, an expiry, a flush or a SWAPDB
//   counts); a key written during the migration stays here, its newer value
//   being this server's.
// The deletions are logged as one DEL to the append-only file, with a `del`
// keyspace event for each key, as Redis rewrites MIGRATE for propagation.
//
// Connections to targets are cached per host:port for 10 seconds of idle
// time (Redis's migrate_cached_sockets, 64 at most); SELECT is sent only
// when the database differs from the one the cached connection selected
// last, AUTH / AUTH2 on every call. Two migrations to the same target run
// one after the other on its connection.

import { bytesToBinary } from "../_bytes.ts";
import { RdbWriter, sealPayload } from "../_rdb.ts";
import { writeValue } from "../data/_rdb_values.ts";
import { ReplyWriter } from "../protocol.ts";
import type { Store } from "../store.ts";
import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  type ServerState,
  type Session,
  upper,
} from "./_shared.ts";
import { dumpCommands } from "./dump.ts";
import { notify } from "./pubsub.ts";
import { SCRIPT_CLIENT_ID } from "./scripting.ts";
import { Transaction } from "./transactions.ts";

/** Seconds an unused cached connection is kept (Redis's
 * MIGRATE_SOCKET_CACHE_TTL). */
const CACHE_TTL_MS = 10_000;
/** Most cached connections (MIGRATE_SOCKET_CACHE_ITEMS). */
const CACHE_ITEMS = 64;
/** Writes go out in chunks of this size, each within the timeout. */
const WRITE_CHUNK = 64 * 1024;
/** Longest reply line read (Redis reads them into 1024-byte buffers). */
const LINE_MAX = 1024;

const CONNECT_ERROR = "IOERR error or timeout connecting to the client";
const KEYS_ERROR = "ERR When using MIGRATE KEYS option, the key argument " +
  "must be set to the empty string";
/** MIGRATE inside MULTI/EXEC, a script or a connection-less session (the
 * REST API, the dashboard's console): the command would have to block the
 * server, which this server does not do. */
const NOT_HERE =
  "ERR MIGRATE can run only as a connection's own command here, not inside MULTI/EXEC or a script";

/** An I/O step took longer than the timeout (Redis's ETIMEDOUT: no
 * retry). */
class TimeoutError extends Error {}

/** A cached connection to one target. */
class Target {
  /** The database the last successful migration selected; -1: unknown. */
  lastDb = -1;
  /** Bytes read past the last reply line. */
  #pending: Uint8Array = new Uint8Array(0);
  #readBuf = new Uint8Array(16 * 1024);
  #idle: ReturnType<typeof setTimeout> | undefined;
  closed = false;

  constructor(readonly conn: Deno.TcpConn, readonly onIdle: () => void) {}

  /** Used now: closed after CACHE_TTL_MS without use. */
  touch(): void {
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    const timer = setTimeout(this.onIdle, CACHE_TTL_MS);
    Deno.unrefTimer(timer as unknown as number);
    this.#idle = timer;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.#idle !== undefined) clearTimeout(this.#idle);
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }

  /** Writes all of `bytes`, each chunk within `ms`. */
  async write(bytes: Uint8Array, ms: number): Promise<void> {
    let off = 0;
    while (off < bytes.length) {
      const end = Math.min(bytes.length, off + WRITE_CHUNK);
      let chunk = bytes.subarray(off, end);
      while (chunk.length > 0) {
        const n = await this.#within(this.conn.write(chunk), ms);
        chunk = chunk.subarray(n);
      }
      off = end;
    }
  }

  /** Reads one reply line (without CRLF) as a byte string; throws on end
   * of stream, error or timeout. */
  async readLine(ms: number): Promise<string> {
    while (true) {
      const p = this.#pending;
      const lf = p.indexOf(10);
      if (lf !== -1 || p.length >= LINE_MAX) {
        const end = lf === -1 ? LINE_MAX - 1 : lf;
        const line = p.subarray(
          0,
          end > 0 && p[end - 1] === 13 ? end - 1 : end,
        );
        this.#pending = p.slice(lf === -1 ? end : lf + 1);
        return bytesToBinary(line);
      }
      const n = await this.#within(this.conn.read(this.#readBuf), ms);
      if (n === null) throw new Error("connection closed by the target");
      const joined = new Uint8Array(p.length + n);
      joined.set(p);
      joined.set(this.#readBuf.subarray(0, n), p.length);
      this.#pending = joined;
    }
  }

  /** `op`, or a TimeoutError (closing the connection) after `ms`. */
  async #within<T>(op: Promise<T>, ms: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TimeoutError()), ms);
    });
    try {
      return await Promise.race([op, timeout]);
    } catch (e) {
      if (e instanceof TimeoutError) {
        op.catch(() => {}); // fails once the connection closes
        this.close();
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** A server's cached connections, by "host:port", and the migration each
 * target is busy with. */
class Targets {
  readonly cache = new Map<string, Target>();
  readonly #queues = new Map<string, Promise<void>>();

  /** Runs `fn` after the migrations to `name` queued before it. */
  async serialized(name: string, fn: () => Promise<void>): Promise<void> {
    const before = this.#queues.get(name);
    const run = (before ?? Promise.resolve()).then(fn);
    const settled = run.catch(() => {});
    this.#queues.set(name, settled);
    try {
      await run;
    } finally {
      if (this.#queues.get(name) === settled) this.#queues.delete(name);
    }
  }

  /** The cached connection to host:port, or a new one; else why not
   * (see {@linkcode connectWithin}). */
  async get(
    name: string,
    host: string,
    port: number,
    ms: number,
  ): Promise<Target | ConnectFailure> {
    const cached = this.cache.get(name);
    if (cached !== undefined && !cached.closed) {
      cached.touch();
      return cached;
    }
    this.cache.delete(name);
    if (this.cache.size >= CACHE_ITEMS) {
      // Too many: drop the least recently made one that is idle.
      for (const [other, t] of this.cache) {
        if (this.#queues.has(other)) continue;
        t.close();
        this.cache.delete(other);
        break;
      }
    }
    const conn = await connectWithin(host, port, ms);
    if (typeof conn === "string") return conn;
    try {
      conn.setNoDelay(true);
    } catch {
      // not fatal
    }
    const target: Target = new Target(conn, () => {
      // Idle for CACHE_TTL_MS: closed, unless a migration uses it now.
      if (this.#queues.has(name)) target.touch();
      else this.drop(name, target);
    });
    target.touch();
    this.cache.set(name, target);
    return target;
  }

  /** Closes and forgets the connection (after an error: the next
   * migration connects again and sends SELECT). */
  drop(name: string, target: Target): void {
    target.close();
    if (this.cache.get(name) === target) this.cache.delete(name);
  }
}

const targetsOf = new WeakMap<ServerState, Targets>();

/** Connections to targets kept open now (INFO's
 * `migrate_cached_sockets`). */
export function migrateCachedSockets(server: ServerState): number {
  return targetsOf.get(server)?.cache.size ?? 0;
}

function targets(server: ServerState): Targets {
  let t = targetsOf.get(server);
  if (t === undefined) targetsOf.set(server, t = new Targets());
  return t;
}

/** Why a connection could not be made. Redis 7.0 connects without
 * waiting for the outcome: an address it cannot resolve fails at once
 * ("connecting"), a refused or slow connection shows when the pipeline is
 * written ("writing", retried once unless it timed out). */
type ConnectFailure = "unresolved" | "refused" | "timeout";

/** Connects within `ms`. `port` as Redis reads it: C's atoi, negative ones
 * not resolved, larger than 16 bits truncated (as the socket address
 * keeps them), 0 refused. */
async function connectWithin(
  hostname: string,
  atoiPort: number,
  ms: number,
): Promise<Deno.TcpConn | ConnectFailure> {
  if (atoiPort < 0) return "unresolved";
  const port = atoiPort & 0xffff;
  if (port === 0) return "refused";
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt: Promise<Deno.TcpConn>;
  try {
    attempt = Deno.connect({ hostname, port });
  } catch {
    return "unresolved";
  }
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve("timeout");
    }, ms);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (e) {
    return e instanceof Deno.errors.ConnectionRefused ||
        e instanceof Deno.errors.ConnectionReset ||
        e instanceof Deno.errors.ConnectionAborted
      ? "refused"
      : "unresolved";
  } finally {
    clearTimeout(timer);
    if (timedOut) attempt.then((c) => c.close(), () => {});
  }
}

/** The port as C's atoi reads it: leading digits (0 when none). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  if (m === null) return 0;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : 0;
}

/** One key to move: its name, remaining TTL and serialized value. */
interface Moving {
  key: string;
  ttl: number;
  payload: Uint8Array;
  /** Watches the key while the migration runs (without COPY). */
  watch: Transaction | null;
}

/** What the command was asked. */
interface Request {
  host: string;
  port: string;
  db: number;
  timeout: number;
  copy: boolean;
  replace: boolean;
  username: string | null;
  password: string | null;
  keys: string[];
}

/** Parses MIGRATE's arguments as Redis does: options first (syntax errors
 * before number errors), then the timeout, then the database. Passwords
 * are replaced by "(redacted)" in `argv`, so MONITOR and SLOWLOG do not
 * show them (Redis's redactClientCommandArgument). */
function parse(argv: string[]): Request {
  let copy = false;
  let replace = false;
  let username: string | null = null;
  let password: string | null = null;
  let firstKey = 3;
  let numKeys = 1;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = upper(argv[j]);
    if (opt === "COPY") copy = true;
    else if (opt === "REPLACE") replace = true;
    else if (opt === "AUTH") {
      if (more < 1) throw new CommandError(Errors.syntax);
      password = argv[++j];
      argv[j] = "(redacted)";
    } else if (opt === "AUTH2") {
      if (more < 2) throw new CommandError(Errors.syntax);
      username = argv[++j];
      argv[j] = "(redacted)";
      password = argv[++j];
      argv[j] = "(redacted)";
    } else if (opt === "KEYS") {
      if (argv[3].length !== 0) throw new CommandError(KEYS_ERROR);
      firstKey = j + 1;
      numKeys = argv.length - j - 1;
      break; // every argument after KEYS is a key
    } else throw new CommandError(Errors.syntax);
  }
  let timeout = Number(int64Arg(argv[5]));
  const db = Number(int64Arg(argv[4]));
  if (timeout <= 0) timeout = 1000;
  return {
    host: argv[1],
    port: argv[2],
    db,
    timeout,
    copy,
    replace,
    username,
    password,
    keys: argv.slice(firstKey, firstKey + numKeys),
  };
}

/** MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH password]
 * [AUTH2 username password] [KEYS key ...]. */
const migrate: Handler = (s, argv) => {
  const req = parse(argv);
  const client = s.client;
  if (
    client.id === SCRIPT_CLIENT_ID ||
    (client.tx != null && client.tx.executing) ||
    s.server.clients.get(client.id) !== client
  ) {
    throw new CommandError(NOT_HERE);
  }
  // The keys, read now: the payloads are what the keys hold at this point.
  const store = s.store;
  const db = client.db;
  const now = store.clock();
  const moving: Moving[] = [];
  let found = 0;
  for (const key of req.keys) {
    const value = store.readValue(key);
    if (value === undefined) continue;
    found++;
    let ttl = 0;
    const at = store.expiryOf(key);
    if (at !== undefined) {
      ttl = at - now;
      if (ttl < 0) continue; // expired while being read: skipped
      if (ttl < 1) ttl = 1;
    }
    const w = new RdbWriter();
    writeValue(w, value, store.limits);
    moving.push({
      key,
      ttl,
      payload: sealPayload(w.finish()),
      watch: null,
    });
  }
  if (found === 0) {
    s.out.simple("NOKEY");
    return;
  }
  if (!req.copy) {
    for (const m of moving) {
      m.watch = new Transaction(store);
      m.watch.watch(m.key, store);
    }
  }
  const name = `${req.host}:${req.port}`;
  const all = targets(s.server);
  client.scriptWait = all.serialized(
    name,
    () => transfer(s, all, name, req, moving, store, db),
  ).catch((e) => {
    // Not expected: the client still gets a reply.
    s.server.log("warning", `MIGRATE to ${name} failed: ${e}`);
    replyError(s, `ERR MIGRATE failed: ${e}`);
  }).finally(() => {
    for (const m of moving) m.watch?.unwatchAll();
  });
};

/** The pipeline for one attempt: AUTH, SELECT when the connection's
 * database differs, then one RESTORE per key. */
function pipeline(req: Request, moving: Moving[], select: boolean): Uint8Array {
  const w = new ReplyWriter(
    moving.reduce((n, m) => n + m.payload.length + m.key.length + 64, 256),
  );
  if (req.password !== null) {
    if (req.username !== null) {
      w.array(3);
      w.bulk("AUTH");
      w.bulk(req.username);
    } else {
      w.array(2);
      w.bulk("AUTH");
    }
    w.bulk(req.password);
  }
  if (select) {
    w.array(2);
    w.bulk("SELECT");
    w.bulk(String(req.db));
  }
  for (const m of moving) {
    w.array(req.replace ? 5 : 4);
    w.bulk("RESTORE");
    w.bulk(m.key);
    w.bulk(String(m.ttl));
    w.bulkBytes(m.payload);
    if (req.replace) w.bulk("REPLACE");
  }
  return w.bytes();
}

/** Talks to the target and replies to the client, as migrateCommand:
 * one retry on a fresh connection when the cached one failed before any
 * reply came (not after a timeout). */
async function transfer(
  s: Session,
  all: Targets,
  name: string,
  req: Request,
  moving: Moving[],
  store: Store,
  db: number,
): Promise<void> {
  let mayRetry = true;
  const ms = req.timeout;
  while (true) {
    const target = await all.get(name, req.host, atoi(req.port), ms);
    if (target === "unresolved") {
      replyError(s, CONNECT_ERROR);
      return;
    }
    if (typeof target === "string") {
      // Refused or timed out: seen by Redis when writing (socket_err).
      if (target === "refused" && mayRetry) {
        mayRetry = false;
        continue;
      }
      replyError(s, "IOERR error or timeout writing to target instance");
      return;
    }
    const select = target.lastDb !== req.db;
    let writeError = false;
    let timedOut = false;
    let authReply = "";
    let selectReply = "";
    let replies = 0;
    const acknowledged: Moving[] = [];
    let targetError: string | null = null;
    let socketError = false;
    try {
      try {
        await target.write(pipeline(req, moving, select), ms);
      } catch (e) {
        writeError = true;
        throw e;
      }
      if (req.password !== null) authReply = await target.readLine(ms);
      if (select) selectReply = await target.readLine(ms);
    } catch (e) {
      // Redis's socket_err: retried once unless it timed out.
      timedOut = e instanceof TimeoutError;
      all.drop(name, target);
      if (!timedOut && mayRetry) {
        mayRetry = false;
        continue;
      }
      replyError(
        s,
        `IOERR error or timeout ${
          writeError ? "writing" : "reading"
        } to target instance`,
      );
      return;
    }
    for (const m of moving) {
      let line: string;
      try {
        line = await target.readLine(ms);
      } catch (e) {
        timedOut = e instanceof TimeoutError;
        socketError = true;
        break;
      }
      replies++;
      const failed = req.password !== null && authReply[0] === "-"
        ? authReply
        : select && selectReply[0] === "-"
        ? selectReply
        : line[0] === "-"
        ? line
        : null;
      if (failed !== null) {
        if (targetError === null) {
          target.lastDb = -1;
          targetError = failed.slice(1);
        }
      } else acknowledged.push(m);
    }
    if (
      targetError === null && socketError && replies === 0 && mayRetry &&
      !timedOut
    ) {
      all.drop(name, target);
      mayRetry = false;
      continue;
    }
    if (socketError) all.drop(name, target);
    if (!req.copy) removeMoved(s, store, db, acknowledged);
    if (targetError !== null) {
      replyError(s, `ERR Target instance replied with error: ${targetError}`);
    } else if (socketError) {
      replyError(s, "IOERR error or timeout reading to target instance");
    } else {
      target.lastDb = req.db;
      s.out.ok();
    }
    return;
  }
}

/** Deletes the keys the target took, unless they changed meanwhile; one
 * DEL is logged for them. */
function removeMoved(
  s: Session,
  store: Store,
  db: number,
  acknowledged: Moving[],
): void {
  const deleted: string[] = [];
  for (const m of acknowledged) {
    if (m.watch === null || m.watch.dirty) continue; // changed: kept
    m.watch.unwatchAll();
    if (!store.delete(m.key)) continue;
    store.dirty++;
    notify(s, "del", m.key, "g", db);
    deleted.push(m.key);
  }
  if (deleted.length > 0) {
    s.server.persistence.feed([["DEL", ...deleted]], db);
  }
}

/** An error reply written after the command returned: counted in INFO
 * errorstats and commandstats as the dispatcher counts errors. */
function replyError(s: Session, message: string): void {
  const space = message.indexOf(" ");
  const code = space === -1 ? message : message.slice(0, space);
  const errors = s.server.stats.errors;
  errors.set(code, (errors.get(code) ?? 0) + 1);
  const command = s.server.commands.get("migrate");
  if (command !== undefined) command.failed++;
  s.out.error(message);
}

/** The MIGRATE handlers, by command name. */
export const migrateCommands: Record<string, Handler> = {
  migrate,
  // What a cluster node sends when it migrates keys: RESTORE here, as on a
  // standalone Redis (the ASKING part only matters in a cluster).
  "restore-asking": (s, argv) => dumpCommands.restore(s, argv),
};
