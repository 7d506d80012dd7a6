/**
 * A typed client for @kv/store and for Redis itself: one connection,
 * automatic pipelining of concurrent calls, explicit pipelines,
 * reconnection with backoff, and per-command timeouts.
 *
 * @example
 * ```ts ignore
 * import { Client } from "./client.ts";
 * await using client = await Client.connect(); // 127.0.0.1:31337
 * await client.set("greeting", "hello", { ex: 60 });
 * console.log(await client.get("greeting")); // "hello"
 * const [, n] = await client.pipeline().incr("n").incr("n").exec();
 * console.log(n); // 2
 * ```
 * @module
 */

import {
  encodeCommand,
  PushMessage,
  ReplyDecoder,
  ReplyError,
  type RespValue,
  VerbatimString,
} from "./protocol.ts";
import { writeAll } from "./_io.ts";

/** A key: text (sent as UTF-8) or raw bytes.
 *
 * @example
 * ```ts ignore
 * await client.get(new Uint8Array([0xff, 0x00])); // a binary key
 * ```
 */
export type Key = string | Uint8Array;
/** A value: text (sent as UTF-8), a number, or raw bytes.
 *
 * @example
 * ```ts ignore
 * await client.set("n", 42);
 * ```
 */
export type Value = string | number | Uint8Array;
/** Any command argument.
 *
 * @example
 * ```ts ignore
 * await client.execute("SET", "k", 1); // strings, numbers or bytes
 * ```
 */
export type Arg = string | number | Uint8Array;

/** Options of {@linkcode Client.connect}.
 *
 * @example
 * ```ts ignore
 * const client = await Client.connect({ port: 6379, password: "s3cret", resp: 3, timeout: 1000 });
 * ```
 */
export interface ClientOptions {
  /** Server host; default `127.0.0.1`. */
  hostname?: string;
  /** Server port; default `31337`. */
  port?: number;
  /** ACL user name (Redis 6+); default `default`. */
  username?: string;
  /** Password, sent with AUTH (or HELLO AUTH) on every (re)connect. */
  password?: string;
  /** Protocol version: 2 (default) or 3 (sends HELLO 3). */
  resp?: 2 | 3;
  /** Connection name (CLIENT SETNAME). */
  name?: string;
  /** Milliseconds a command may wait for its reply (and a connection
   * attempt may take) before failing with a {@linkcode TimeoutError};
   * 0 waits forever. Default 0. */
  timeout?: number;
  /** Reconnect after the connection drops (default on). Commands issued
   * while reconnecting wait for the new connection. */
  reconnect?: boolean | ReconnectOptions;
  /** How RESP3 doubles come back from {@linkcode Commands.execute}:
   * `number` (default) or `text` ({@linkcode DoubleText}, the digits as
   * sent; the CLI prints them as redis-cli does). */
  doubles?: "number" | "text";
}

/** How {@linkcode Client} reconnects.
 *
 * @example
 * ```ts ignore
 * const client = await Client.connect({ reconnect: { retries: 5, minDelay: 100, maxDelay: 1000 } });
 * ```
 */
export interface ReconnectOptions {
  /** Attempts before giving up; default 20. */
  retries?: number;
  /** First delay in ms, doubled on each attempt; default 50. */
  minDelay?: number;
  /** Longest delay in ms; default 2000. */
  maxDelay?: number;
}

/** The connection failed, dropped, or the client was closed.
 *
 * @example
 * ```ts ignore
 * try {
 *   await Client.connect({ port: 1, reconnect: false });
 * } catch (e) {
 *   if (e instanceof ConnectionError) console.error(e.message);
 * }
 * ```
 */
export class ConnectionError extends Error {
  /** Creates a connection error. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectionError";
  }
}

/** A command got no reply within the client's timeout.
 *
 * @example
 * ```ts ignore
 * const client = await Client.connect({ timeout: 500 });
 * await client.get("k").catch((e) => e instanceof TimeoutError);
 * ```
 */
export class TimeoutError extends Error {
  /** Creates a timeout error. */
  constructor(message: string) {
    super(message);
    this.name = "TimeoutError";
  }
}

/** Options of {@linkcode Commands.set}.
 *
 * @example
 * ```ts ignore
 * await client.set("lock", "me", { nx: true, px: 30_000 });
 * ```
 */
export interface SetCommandOptions {
  /** Expire after this many seconds. */
  ex?: number;
  /** Expire after this many milliseconds. */
  px?: number;
  /** Expire at this unix time in seconds. */
  exat?: number;
  /** Expire at this unix time in milliseconds. */
  pxat?: number;
  /** Only set if the key does not exist. */
  nx?: boolean;
  /** Only set if the key exists. */
  xx?: boolean;
  /** Keep the key's current TTL. */
  keepTtl?: boolean;
  /** Return the old value instead of OK. */
  get?: boolean;
}

/** Options of {@linkcode Commands.getex}.
 *
 * @example
 * ```ts ignore
 * await client.getex("session", { ex: 3600 }); // read and extend
 * ```
 */
export interface GetExOptions {
  /** Expire after this many seconds. */
  ex?: number;
  /** Expire after this many milliseconds. */
  px?: number;
  /** Expire at this unix time in seconds. */
  exat?: number;
  /** Expire at this unix time in milliseconds. */
  pxat?: number;
  /** Remove the TTL. */
  persist?: boolean;
}

/** Condition of EXPIRE and friends (Redis 7).
 *
 * @example
 * ```ts ignore
 * await client.expire("k", 60, "GT"); // only if it makes the TTL longer
 * ```
 */
export type ExpireCondition = "NX" | "XX" | "GT" | "LT";

/** Options of {@linkcode Commands.scan}.
 *
 * @example
 * ```ts ignore
 * const page = await client.scan(0, { match: "user:*", count: 100 });
 * ```
 */
export interface ScanOptions {
  /** Glob pattern keys must match. */
  match?: string;
  /** How many keys to look at per call (a hint). */
  count?: number;
  /** Only keys of this type, e.g. `string`. */
  type?: string;
}

/** One step of a SCAN iteration.
 *
 * @example
 * ```ts ignore
 * const { cursor, keys } = await client.scan(0);
 * ```
 */
export interface ScanPage {
  /** Cursor for the next call; `"0"` when the iteration is done. */
  cursor: string;
  /** Keys found in this step. */
  keys: string[];
}

/** How a {@linkcode Commands} class returns results: promises (Client) or
 * itself for chaining (Pipeline).
 *
 * @example
 * ```ts ignore
 * const p: Pipeline = client.pipeline().get("a"); // Commands<"pipeline">
 * ```
 */
export type Mode = "promise" | "pipeline";
/** What a command method returns: a promise on a {@linkcode Client}, the
 * pipeline itself on a {@linkcode Pipeline}.
 *
 * @example
 * ```ts ignore
 * const value: string | null = await client.get("k"); // Result<"promise", string | null>
 * ```
 */
export type Result<M extends Mode, T> = M extends "promise" ? Promise<T>
  : Pipeline;
/** Turns a raw reply into a method's result.
 *
 * @example
 * ```ts ignore
 * const length: Transform<number> = (reply) => Number(reply);
 * ```
 */
export type Transform<T> = (reply: RespValue) => T;

const utf8 = new TextDecoder();

/** Bulk strings arrive as bytes; most methods want text. */
function text(v: RespValue): string | null {
  if (v === null) return null;
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (v instanceof VerbatimString) return v.text;
  return String(v);
}
function bytes(v: RespValue): Uint8Array | null {
  if (v === null || v instanceof Uint8Array) return v;
  return new TextEncoder().encode(String(v));
}
function num(v: RespValue): number {
  return typeof v === "bigint" ? Number(v) : Number(text(v));
}
function bool(v: RespValue): boolean {
  return v === 1 || v === true;
}
function texts(v: RespValue): (string | null)[] {
  return (v as RespValue[]).map(text);
}
function keyList(v: RespValue): string[] {
  return (v as RespValue[]).map((k) => text(k)!);
}
function same(v: RespValue): RespValue {
  return v;
}

/** Converts every bulk string in a reply to text, recursively.
 *
 * @example
 * ```ts ignore
 * import { replyToText } from "./client.ts";
 * replyToText([new TextEncoder().encode("a"), 1]); // ["a", 1]
 * ```
 */
export function replyToText(v: RespValue): RespValue {
  if (v instanceof Uint8Array) return utf8.decode(v);
  if (v instanceof VerbatimString) return v.text;
  if (Array.isArray(v)) return v.map(replyToText);
  if (v instanceof Map) {
    const m = new Map<RespValue, RespValue>();
    for (const [k, e] of v) m.set(replyToText(k), replyToText(e));
    return m;
  }
  if (v instanceof Set) return new Set([...v].map(replyToText));
  if (v instanceof PushMessage) return new PushMessage(v.data.map(replyToText));
  return v;
}

function pairUp(a: RespValue[]): [RespValue, RespValue][] {
  const out: [RespValue, RespValue][] = [];
  for (let i = 0; i + 1 < a.length; i += 2) out.push([a[i], a[i + 1]]);
  return out;
}

function pairsToRecord(v: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  if (v instanceof Map) {
    for (const [k, e] of v) out[text(k)!] = text(e)!;
    return out;
  }
  const a = v as RespValue[];
  for (let i = 0; i + 1 < a.length; i += 2) out[text(a[i])!] = text(a[i + 1])!;
  return out;
}

function expireArgs(o: SetCommandOptions | GetExOptions): Arg[] {
  if (o.ex !== undefined) return ["EX", o.ex];
  if (o.px !== undefined) return ["PX", o.px];
  if (o.exat !== undefined) return ["EXAT", o.exat];
  if (o.pxat !== undefined) return ["PXAT", o.pxat];
  return [];
}

/**
 * Every command as a typed method, shared by {@linkcode Client} (methods
 * return promises) and {@linkcode Pipeline} (methods queue and chain).
 *
 * @example
 * ```ts ignore
 * async function warm(c: Commands<"promise">) {
 *   await c.set("warm", "1");
 * }
 * ```
 */
export abstract class Commands<M extends Mode> {
  /** Sends (or queues) one command; implemented by Client and Pipeline. */
  protected abstract call<T>(
    args: Arg[],
    transform: Transform<T>,
  ): Result<M, T>;

  /** Runs any command; bulk strings in the reply come back as text. */
  execute(...args: Arg[]): Result<M, RespValue> {
    return this.call(args, replyToText);
  }

  /** Runs any command; bulk strings in the reply stay bytes. */
  executeBytes(...args: Arg[]): Result<M, RespValue> {
    return this.call(args, same);
  }

  // --- strings -----------------------------------------------------------

  /** GET: the value as text, or null. */
  get(key: Key): Result<M, string | null> {
    return this.call(["GET", key], text);
  }

  /** GET as raw bytes, or null. */
  getBytes(key: Key): Result<M, Uint8Array | null> {
    return this.call(["GET", key], bytes);
  }

  /** SET with EX/PX/EXAT/PXAT, NX/XX, KEEPTTL and GET. Resolves to "OK",
   * or null when NX/XX prevented it; with `get`, to the old value. */
  set(
    key: Key,
    value: Value,
    options: SetCommandOptions = {},
  ): Result<M, string | null> {
    const args: Arg[] = ["SET", key, value, ...expireArgs(options)];
    if (options.nx) args.push("NX");
    if (options.xx) args.push("XX");
    if (options.keepTtl) args.push("KEEPTTL");
    if (options.get) args.push("GET");
    return this.call(args, text);
  }

  /** SETNX: true when the key was set. */
  setnx(key: Key, value: Value): Result<M, boolean> {
    return this.call(["SETNX", key, value], bool);
  }

  /** SETEX: set with a TTL in seconds. */
  setex(key: Key, seconds: number, value: Value): Result<M, string> {
    return this.call(["SETEX", key, seconds, value], (v) => text(v)!);
  }

  /** PSETEX: set with a TTL in milliseconds. */
  psetex(key: Key, ms: number, value: Value): Result<M, string> {
    return this.call(["PSETEX", key, ms, value], (v) => text(v)!);
  }

  /** GETSET: set, returning the old value. */
  getset(key: Key, value: Value): Result<M, string | null> {
    return this.call(["GETSET", key, value], text);
  }

  /** GETDEL: get and delete. */
  getdel(key: Key): Result<M, string | null> {
    return this.call(["GETDEL", key], text);
  }

  /** GETEX: get, and change or remove the TTL. */
  getex(key: Key, options: GetExOptions = {}): Result<M, string | null> {
    const args: Arg[] = ["GETEX", key, ...expireArgs(options)];
    if (options.persist) args.push("PERSIST");
    return this.call(args, text);
  }

  /** MGET: values in order, null for missing keys. */
  mget(...keys: Key[]): Result<M, (string | null)[]> {
    return this.call(["MGET", ...keys], texts);
  }

  /** MSET from a record or from key, value, key, value... */
  mset(...pairs: [Record<string, Value>] | Value[]): Result<M, string> {
    return this.call(["MSET", ...flattenPairs(pairs)], (v) => text(v)!);
  }

  /** MSETNX: set all or none; true when set. */
  msetnx(...pairs: [Record<string, Value>] | Value[]): Result<M, boolean> {
    return this.call(["MSETNX", ...flattenPairs(pairs)], bool);
  }

  /** APPEND: the new length. */
  append(key: Key, value: Value): Result<M, number> {
    return this.call(["APPEND", key, value], num);
  }

  /** STRLEN: the value's length in bytes. */
  strlen(key: Key): Result<M, number> {
    return this.call(["STRLEN", key], num);
  }

  /** GETRANGE: a substring by byte offsets (inclusive; negative from the
   * end). */
  getrange(key: Key, start: number, end: number): Result<M, string> {
    return this.call(["GETRANGE", key, start, end], (v) => text(v)!);
  }

  /** SETRANGE: overwrite from an offset; the new length. */
  setrange(key: Key, offset: number, value: Value): Result<M, number> {
    return this.call(["SETRANGE", key, offset, value], num);
  }

  /** INCR: the new value. */
  incr(key: Key): Result<M, number> {
    return this.call(["INCR", key], num);
  }

  /** INCRBY: the new value. */
  incrBy(key: Key, by: number): Result<M, number> {
    return this.call(["INCRBY", key, by], num);
  }

  /** DECR: the new value. */
  decr(key: Key): Result<M, number> {
    return this.call(["DECR", key], num);
  }

  /** DECRBY: the new value. */
  decrBy(key: Key, by: number): Result<M, number> {
    return this.call(["DECRBY", key, by], num);
  }

  /** INCRBYFLOAT: the new value, as Redis formats it. */
  incrByFloat(key: Key, by: number | string): Result<M, string> {
    return this.call(["INCRBYFLOAT", key, by], (v) => text(v)!);
  }

  // --- keys --------------------------------------------------------------

  /** Deletes keys; how many existed. (DEL, which @kv/store also calls
   * DELETE.) */
  delete(...keys: Key[]): Result<M, number> {
    return this.call(["DEL", ...keys], num);
  }

  /** DEL: how many keys existed. */
  del(...keys: Key[]): Result<M, number> {
    return this.call(["DEL", ...keys], num);
  }

  /** UNLINK: how many keys existed. */
  unlink(...keys: Key[]): Result<M, number> {
    return this.call(["UNLINK", ...keys], num);
  }

  /** EXISTS: how many of the keys exist (repeats count). */
  exists(...keys: Key[]): Result<M, number> {
    return this.call(["EXISTS", ...keys], num);
  }

  /** EXPIRE in seconds; true when the TTL was set. */
  expire(
    key: Key,
    seconds: number,
    condition?: ExpireCondition,
  ): Result<M, boolean> {
    return this.call([
      "EXPIRE",
      key,
      seconds,
      ...(condition ? [condition] : []),
    ], bool);
  }

  /** PEXPIRE in milliseconds; true when the TTL was set. */
  pexpire(
    key: Key,
    ms: number,
    condition?: ExpireCondition,
  ): Result<M, boolean> {
    return this.call(
      ["PEXPIRE", key, ms, ...(condition ? [condition] : [])],
      bool,
    );
  }

  /** EXPIREAT a unix time in seconds (or a Date). */
  expireAt(
    key: Key,
    at: number | Date,
    condition?: ExpireCondition,
  ): Result<M, boolean> {
    const t = at instanceof Date ? Math.floor(at.getTime() / 1000) : at;
    return this.call(
      ["EXPIREAT", key, t, ...(condition ? [condition] : [])],
      bool,
    );
  }

  /** PEXPIREAT a unix time in milliseconds (or a Date). */
  pexpireAt(
    key: Key,
    at: number | Date,
    condition?: ExpireCondition,
  ): Result<M, boolean> {
    const t = at instanceof Date ? at.getTime() : at;
    return this.call(
      ["PEXPIREAT", key, t, ...(condition ? [condition] : [])],
      bool,
    );
  }

  /** TTL in seconds; -1 without a TTL, -2 when the key is missing. */
  ttl(key: Key): Result<M, number> {
    return this.call(["TTL", key], num);
  }

  /** PTTL in milliseconds; -1 without a TTL, -2 when missing. */
  pttl(key: Key): Result<M, number> {
    return this.call(["PTTL", key], num);
  }

  /** EXPIRETIME: unix seconds; -1 without a TTL, -2 when missing. */
  expireTime(key: Key): Result<M, number> {
    return this.call(["EXPIRETIME", key], num);
  }

  /** PEXPIRETIME: unix milliseconds; -1 without a TTL, -2 when missing. */
  pexpireTime(key: Key): Result<M, number> {
    return this.call(["PEXPIRETIME", key], num);
  }

  /** PERSIST: true when a TTL was removed. */
  persist(key: Key): Result<M, boolean> {
    return this.call(["PERSIST", key], bool);
  }

  /** TYPE: `string`, ..., or `none`. */
  type(key: Key): Result<M, string> {
    return this.call(["TYPE", key], (v) => text(v)!);
  }

  /** RENAME (fails when the key is missing). */
  rename(key: Key, to: Key): Result<M, string> {
    return this.call(["RENAME", key, to], (v) => text(v)!);
  }

  /** RENAMENX: true when renamed. */
  renameNx(key: Key, to: Key): Result<M, boolean> {
    return this.call(["RENAMENX", key, to], bool);
  }

  /** RANDOMKEY, or null when empty. */
  randomKey(): Result<M, string | null> {
    return this.call(["RANDOMKEY"], text);
  }

  /** TOUCH: how many keys exist. */
  touch(...keys: Key[]): Result<M, number> {
    return this.call(["TOUCH", ...keys], num);
  }

  /** COPY: true when copied. */
  copy(
    from: Key,
    to: Key,
    options: { replace?: boolean } = {},
  ): Result<M, boolean> {
    return this.call([
      "COPY",
      from,
      to,
      ...(options.replace ? ["REPLACE"] : []),
    ], bool);
  }

  /** KEYS matching a glob pattern (prefer {@linkcode Client.scanIterator}
   * on big keyspaces). */
  keys(pattern = "*"): Result<M, string[]> {
    return this.call(["KEYS", pattern], keyList);
  }

  /** One SCAN step. */
  scan(
    cursor: string | number,
    options: ScanOptions = {},
  ): Result<M, ScanPage> {
    const args: Arg[] = ["SCAN", cursor];
    if (options.match !== undefined) args.push("MATCH", options.match);
    if (options.count !== undefined) args.push("COUNT", options.count);
    if (options.type !== undefined) args.push("TYPE", options.type);
    return this.call(args, (v) => {
      const [next, keys] = v as [RespValue, RespValue];
      return { cursor: text(next)!, keys: keyList(keys) };
    });
  }

  /** DBSIZE: the number of keys. */
  dbsize(): Result<M, number> {
    return this.call(["DBSIZE"], num);
  }

  /** FLUSHDB. */
  flushDb(mode?: "ASYNC" | "SYNC"): Result<M, string> {
    return this.call(["FLUSHDB", ...(mode ? [mode] : [])], (v) => text(v)!);
  }

  /** FLUSHALL. */
  flushAll(mode?: "ASYNC" | "SYNC"): Result<M, string> {
    return this.call(["FLUSHALL", ...(mode ? [mode] : [])], (v) => text(v)!);
  }

  // --- server and connection ---------------------------------------------

  /** PING: "PONG", or the message echoed. */
  ping(message?: string): Result<M, string> {
    return this.call(
      message === undefined ? ["PING"] : ["PING", message],
      (v) => text(v)!,
    );
  }

  /** ECHO. */
  echo(message: Value): Result<M, string> {
    return this.call(["ECHO", message], (v) => text(v)!);
  }

  /** INFO, optionally of some sections, as text. */
  info(...sections: string[]): Result<M, string> {
    return this.call(["INFO", ...sections], (v) => text(v)!);
  }

  /** TIME as milliseconds since the epoch. */
  time(): Result<M, number> {
    return this.call(["TIME"], (v) => {
      const [s, us] = (v as RespValue[]).map(num);
      return s * 1000 + us / 1000;
    });
  }

  /** CONFIG GET: matching settings as a record. */
  configGet(...patterns: string[]): Result<M, Record<string, string>> {
    return this.call(["CONFIG", "GET", ...patterns], pairsToRecord);
  }

  /** CONFIG SET one or more settings. */
  configSet(settings: Record<string, string | number>): Result<M, string> {
    const args: Arg[] = ["CONFIG", "SET"];
    for (const [k, v] of Object.entries(settings)) args.push(k, v);
    return this.call(args, (v) => text(v)!);
  }

  /** CLIENT ID of this connection. */
  clientId(): Result<M, number> {
    return this.call(["CLIENT", "ID"], num);
  }

  /** CLIENT GETNAME, or null. */
  clientGetName(): Result<M, string | null> {
    return this.call(["CLIENT", "GETNAME"], text);
  }

  /** CLIENT SETNAME (kept across reconnects only if given at connect). */
  clientSetName(name: string): Result<M, string> {
    return this.call(["CLIENT", "SETNAME", name], (v) => text(v)!);
  }

  /** CLIENT LIST as text, one client per line. */
  clientList(): Result<M, string> {
    return this.call(["CLIENT", "LIST"], (v) => text(v)!);
  }

  /** CLIENT INFO: this connection's line of CLIENT LIST. */
  clientInfo(): Result<M, string> {
    return this.call(["CLIENT", "INFO"], (v) => text(v)!);
  }

  /** CLIENT KILL with filters, e.g. `{ ID: 12 }` or `{ ADDR: "127.0.0.1:5000" }`;
   * how many clients were closed. */
  clientKill(filters: Record<string, string | number>): Result<M, number> {
    const args: Arg[] = ["CLIENT", "KILL"];
    for (const [k, v] of Object.entries(filters)) args.push(k, v);
    return this.call(args, num);
  }

  /** CLIENT SETINFO LIB-NAME or LIB-VER. */
  clientSetInfo(
    attribute: "LIB-NAME" | "LIB-VER",
    value: string,
  ): Result<M, string> {
    return this.call(["CLIENT", "SETINFO", attribute, value], (v) => text(v)!);
  }

  /** SELECT a database (@kv/store has only 0). */
  select(db: number): Result<M, string> {
    return this.call(["SELECT", db], (v) => text(v)!);
  }

  /** AUTH on this connection (prefer the `password` option, which is
   * repeated after reconnects). */
  auth(password: string, username?: string): Result<M, string> {
    return this.call(
      username === undefined
        ? ["AUTH", password]
        : ["AUTH", username, password],
      (v) => text(v)!,
    );
  }

  /** HELLO: the server's handshake map (switching protocol here is not
   * tracked by the client; prefer the `resp` option). */
  hello(): Result<M, Record<string, unknown>> {
    return this.call(["HELLO"], (v) => {
      const out: Record<string, unknown> = {};
      const entries = v instanceof Map ? [...v] : pairUp(v as RespValue[]);
      for (const [k, e] of entries) out[text(k)!] = replyToText(e);
      return out;
    });
  }

  /** COMMAND COUNT. */
  commandCount(): Result<M, number> {
    return this.call(["COMMAND", "COUNT"], num);
  }

  /** COMMAND LIST: every command name. */
  commandList(): Result<M, string[]> {
    return this.call(["COMMAND", "LIST"], keyList);
  }

  /** COMMAND INFO for some commands (raw entries, text). */
  commandInfo(...names: string[]): Result<M, RespValue> {
    return this.call(["COMMAND", "INFO", ...names], replyToText);
  }

  /** COMMAND DOCS for some commands (raw map, text). */
  commandDocs(...names: string[]): Result<M, RespValue> {
    return this.call(["COMMAND", "DOCS", ...names], replyToText);
  }

  /** CONFIG RESETSTAT. */
  configResetStat(): Result<M, string> {
    return this.call(["CONFIG", "RESETSTAT"], (v) => text(v)!);
  }

  /** SUBSTR: the old name of GETRANGE. */
  substr(key: Key, start: number, end: number): Result<M, string> {
    return this.call(["SUBSTR", key, start, end], (v) => text(v)!);
  }

  /** SAVE: a blocking snapshot. */
  save(): Result<M, string> {
    return this.call(["SAVE"], (v) => text(v)!);
  }

  /** BGSAVE: a background snapshot. */
  bgsave(): Result<M, string> {
    return this.call(["BGSAVE"], (v) => text(v)!);
  }

  /** LASTSAVE: unix time in seconds of the last successful save. */
  lastsave(): Result<M, number> {
    return this.call(["LASTSAVE"], num);
  }
}

function flattenPairs(pairs: [Record<string, Value>] | Value[]): Value[] {
  if (
    pairs.length === 1 && typeof pairs[0] === "object" &&
    !(pairs[0] instanceof Uint8Array)
  ) {
    return Object.entries(pairs[0] as Record<string, Value>).flat();
  }
  return pairs as Value[];
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: unknown): void;
  transform: Transform<unknown>;
  timer?: ReturnType<typeof setTimeout>;
  settled: boolean;
  /** Part of a pipeline: error replies resolve as ReplyError values. */
  errorsAsValues: boolean;
}

interface Queued {
  pending: Pending;
  bytes: Uint8Array;
}

/** Events a {@linkcode Client} dispatches.
 *
 * @example
 * ```ts ignore
 * client.addEventListener("reconnecting", (e) => console.log(`attempt ${e.detail.attempt}`));
 * ```
 */
export interface ClientEventMap {
  /** Connected (also after a reconnect). */
  connect: Event;
  /** The connection dropped; `detail` is the cause. */
  close: CustomEvent<Error | undefined>;
  /** Trying again; `detail` says which attempt and after what delay. */
  reconnecting: CustomEvent<{ attempt: number; delay: number }>;
  /** Gave up reconnecting, or another failure; `detail` is the error. */
  error: CustomEvent<Error>;
  /** A RESP3 push message arrived. */
  push: CustomEvent<RespValue[]>;
}

/**
 * A connection to @kv/store or Redis with a typed method per command.
 * Calls made concurrently are pipelined over the one connection.
 *
 * @example
 * ```ts ignore
 * import { Client } from "./client.ts";
 * const client = await Client.connect({ port: 31337, password: "s3cret" });
 * await client.mset({ a: "1", b: "2" });
 * console.log(await client.mget("a", "b", "c")); // ["1", "2", null]
 * for await (const key of client.scanIterator("user:*")) console.log(key);
 * client.close();
 * ```
 */
export class Client extends Commands<"promise"> {
  /** The options this client was created with. */
  readonly options: Readonly<ClientOptions>;
  /** Per-command timeout in ms (0: none); may be changed at any time. */
  timeout: number;
  #events = new EventTarget();
  #conn: Deno.TcpConn | null = null;
  #decoder: ReplyDecoder;
  #inflight: Pending[] = [];
  #inflightHead = 0;
  #outbox: Uint8Array[] = [];
  #flushScheduled = false;
  #writing: Promise<void> = Promise.resolve();
  #offline: Queued[] = [];
  #state: "connecting" | "ready" | "reconnecting" | "closed" = "connecting";
  #flushFallback = false;

  private constructor(options: ClientOptions) {
    super();
    this.options = options;
    this.timeout = options.timeout ?? 0;
    this.#decoder = this.#newDecoder();
  }

  #newDecoder(): ReplyDecoder {
    return new ReplyDecoder({
      bulk: "bytes",
      doubles: this.options.doubles ?? "number",
    });
  }

  /** Connects (127.0.0.1:31337 unless told otherwise) and authenticates. */
  static async connect(options: ClientOptions = {}): Promise<Client> {
    const client = new Client(options);
    await client.#open();
    return client;
  }

  /** True while connected and ready. */
  get connected(): boolean {
    return this.#state === "ready";
  }

  /** Listens for `connect`, `close`, `reconnecting`, `error`, `push`. */
  addEventListener<K extends keyof ClientEventMap>(
    type: K,
    listener: (event: ClientEventMap[K]) => void,
    options?: AddEventListenerOptions,
  ): void {
    this.#events.addEventListener(type, listener as EventListener, options);
  }

  /** Stops listening. */
  removeEventListener<K extends keyof ClientEventMap>(
    type: K,
    listener: (event: ClientEventMap[K]) => void,
  ): void {
    this.#events.removeEventListener(type, listener as EventListener);
  }

  #emit(type: string, detail?: unknown): void {
    this.#events.dispatchEvent(
      detail === undefined
        ? new Event(type)
        : new CustomEvent(type, { detail }),
    );
  }

  async #open(): Promise<void> {
    const o = this.options;
    const hostname = o.hostname ?? "127.0.0.1";
    const port = o.port ?? 31337;
    let conn: Deno.TcpConn;
    try {
      conn = await withTimeout(
        Deno.connect({ hostname, port }),
        this.timeout,
        `connecting to ${hostname}:${port}`,
        (late) => late.then((c) => c.close()).catch(() => {}),
      );
    } catch (e) {
      if (e instanceof TimeoutError) throw e;
      throw new ConnectionError(
        `cannot connect to ${hostname}:${port}: ${(e as Error).message}`,
        { cause: e },
      );
    }
    conn.setNoDelay(true);
    this.#conn = conn;
    this.#decoder = this.#newDecoder();
    this.#readLoop(conn);
    try {
      await this.#handshake();
    } catch (e) {
      this.#conn = null;
      try {
        conn.close();
      } catch {
        // closed
      }
      throw e;
    }
    this.#state = "ready";
    this.#emit("connect");
    const offline = this.#offline;
    this.#offline = [];
    for (const q of offline) {
      if (!q.pending.settled) this.#dispatch(q.pending, q.bytes);
    }
  }

  async #handshake(): Promise<void> {
    const o = this.options;
    const direct = <T>(args: Arg[], t: Transform<T>) =>
      new Promise<T>((resolve, reject) => {
        const p: Pending = {
          resolve: resolve as (v: unknown) => void,
          reject,
          transform: t,
          settled: false,
          errorsAsValues: false,
        };
        this.#arm(p, args);
        this.#dispatch(p, encodeCommand(args));
      });
    if (o.resp === 3) {
      const args: Arg[] = ["HELLO", "3"];
      if (o.password !== undefined) {
        args.push("AUTH", o.username ?? "default", o.password);
      }
      if (o.name) args.push("SETNAME", o.name);
      await direct(args, same);
    } else {
      if (o.password !== undefined) {
        await direct(
          o.username ? ["AUTH", o.username, o.password] : ["AUTH", o.password],
          same,
        );
      }
      if (o.name) await direct(["CLIENT", "SETNAME", o.name], same);
    }
  }

  /** Starts the command's timer, if there is a timeout. */
  #arm(p: Pending, args: Arg[]): void {
    if (this.timeout > 0) {
      p.timer = setTimeout(() => {
        if (p.settled) return;
        p.settled = true;
        p.reject(
          new TimeoutError(
            `${String(args[0])} got no reply within ${this.timeout} ms`,
          ),
        );
      }, this.timeout);
    }
  }

  #dispatch(p: Pending, bytes: Uint8Array): void {
    this.#inflight.push(p);
    this.#outbox.push(bytes);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** Writes everything queued since the last flush in one write. */
  #flush(): void {
    this.#flushScheduled = false;
    const conn = this.#conn;
    const parts = this.#outbox;
    this.#outbox = [];
    if (conn === null || parts.length === 0) return;
    const data = parts.length === 1 ? parts[0] : concat(parts);
    this.#writing = this.#writing.then(() => writeAll(conn, data)).catch((e) =>
      this.#lost(conn, e)
    );
  }

  /** Sends one command and resolves with its transformed reply. */
  protected call<T>(args: Arg[], transform: Transform<T>): Promise<T> {
    return this.#send(args, transform, false);
  }

  #send<T>(
    args: Arg[],
    transform: Transform<T>,
    errorsAsValues: boolean,
  ): Promise<T> {
    if (this.#state === "closed") {
      return Promise.reject(new ConnectionError("the client is closed"));
    }
    return new Promise<T>((resolve, reject) => {
      const p: Pending = {
        resolve: resolve as (v: unknown) => void,
        reject,
        transform,
        settled: false,
        errorsAsValues,
      };
      this.#arm(p, args);
      const bytes = encodeCommand(args);
      if (this.#state === "ready") this.#dispatch(p, bytes);
      else this.#offline.push({ pending: p, bytes });
    });
  }

  async #readLoop(conn: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    let cause: Error | undefined;
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        this.#decoder.feed(buf.subarray(0, n));
        let r;
        while ((r = this.#decoder.next()) !== undefined) this.#onReply(r.value);
      }
    } catch (e) {
      cause = e as Error;
    }
    this.#lost(conn, cause);
  }

  #onReply(value: RespValue): void {
    if (value instanceof PushMessage) {
      this.#emit("push", value.data.map(replyToText));
      return;
    }
    const p = this.#inflight[this.#inflightHead++];
    if (
      this.#inflightHead > 1024 &&
      this.#inflightHead * 2 > this.#inflight.length
    ) {
      this.#inflight = this.#inflight.slice(this.#inflightHead);
      this.#inflightHead = 0;
    }
    if (p === undefined || p.settled) return;
    p.settled = true;
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (value instanceof ReplyError && !p.errorsAsValues) {
      p.reject(value);
      return;
    }
    try {
      p.resolve(value instanceof ReplyError ? value : p.transform(value));
    } catch (e) {
      p.reject(e);
    }
  }

  /** The connection is gone: fail what was in flight, then reconnect. */
  #lost(conn: Deno.TcpConn, cause?: Error): void {
    if (this.#conn !== conn) return; // already handled
    this.#conn = null;
    try {
      conn.close();
    } catch {
      // closed
    }
    const inflight = this.#inflight.slice(this.#inflightHead);
    this.#inflight = [];
    this.#inflightHead = 0;
    this.#outbox = [];
    const error = new ConnectionError(
      this.#state === "closed" ? "the client is closed" : "connection lost",
      { cause },
    );
    for (const p of inflight) {
      if (p.settled) continue;
      p.settled = true;
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(error);
    }
    if (this.#state === "closed") return;
    this.#emit("close", cause);
    if (this.#state === "ready" && this.options.reconnect !== false) {
      this.#state = "reconnecting";
      this.#reconnect();
    }
  }

  async #reconnect(): Promise<void> {
    const r = typeof this.options.reconnect === "object"
      ? this.options.reconnect
      : {};
    const retries = r.retries ?? 20;
    const minDelay = r.minDelay ?? 50;
    const maxDelay = r.maxDelay ?? 2000;
    let last: unknown;
    for (let attempt = 1; attempt <= retries; attempt++) {
      const delay = Math.min(maxDelay, minDelay * 2 ** (attempt - 1));
      this.#emit("reconnecting", { attempt, delay });
      await new Promise((res) => setTimeout(res, delay));
      if (this.#state === "closed") return;
      try {
        this.#state = "connecting";
        await this.#open();
        return;
      } catch (e) {
        last = e;
        this.#state = "reconnecting";
      }
    }
    this.#state = "closed";
    const error = new ConnectionError(
      `gave up reconnecting after ${retries} attempts`,
      { cause: last },
    );
    for (const q of this.#offline) {
      if (q.pending.settled) continue;
      q.pending.settled = true;
      if (q.pending.timer !== undefined) clearTimeout(q.pending.timer);
      q.pending.reject(error);
    }
    this.#offline = [];
    this.#emit("error", error);
  }

  /** Starts a pipeline: queue commands, then `exec()` sends them at once. */
  pipeline(): Pipeline {
    return new Pipeline((commands) =>
      Promise.all(commands.map(([args, t]) => this.#send(args, t, true)))
    );
  }

  /** FLUSH: empties the database and resolves to how many keys it removed.
   * On servers without FLUSH (Redis), the same is done atomically with a
   * script. */
  async flush(): Promise<number> {
    if (!this.#flushFallback) {
      try {
        return await this.call(["FLUSH"], num);
      } catch (e) {
        if (!(e instanceof ReplyError && /unknown command/.test(e.message))) {
          throw e;
        }
        this.#flushFallback = true;
      }
    }
    return await this.call([
      "EVAL",
      "local n = redis.call('DBSIZE') redis.call('FLUSHDB') return n",
      0,
    ], num);
  }

  /** Iterates keys with SCAN, a page at a time; never loads the whole
   * keyspace. Redis (not @kv/store) may yield a key more than once. */
  async *scanIterator(
    match?: string,
    options: Omit<ScanOptions, "match"> = {},
  ): AsyncIterableIterator<string> {
    let cursor = "0";
    do {
      const page: ScanPage = await this.scan(cursor, { ...options, match });
      cursor = page.cursor;
      yield* page.keys;
    } while (cursor !== "0");
  }

  /** SHUTDOWN the server (NOSAVE or SAVE); resolves once it has closed the
   * connection. */
  async shutdown(mode?: "NOSAVE" | "SAVE"): Promise<void> {
    const closed = new Promise<void>((resolve) =>
      this.addEventListener("close", () => resolve(), { once: true })
    );
    this.#send(mode ? ["SHUTDOWN", mode] : ["SHUTDOWN"], same, false).catch(
      () => {},
    );
    await closed;
    this.close();
  }

  /** QUIT: asks the server to close the connection, then closes. */
  async quit(): Promise<void> {
    await this.call(["QUIT"], same).catch(() => {});
    this.close();
  }

  /** Closes the connection; pending commands fail with ConnectionError. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    const conn = this.#conn;
    if (conn) this.#lost(conn);
    for (const q of this.#offline) {
      if (q.pending.settled) continue;
      q.pending.settled = true;
      if (q.pending.timer !== undefined) clearTimeout(q.pending.timer);
      q.pending.reject(new ConnectionError("the client is closed"));
    }
    this.#offline = [];
  }

  /** Closes the client (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * Commands queued on a client and sent together by
 * {@linkcode Pipeline.exec}, which resolves to their replies in order.
 * Error replies come back as {@linkcode ReplyError} values in the array.
 *
 * @example
 * ```ts ignore
 * const [ok, value] = await client.pipeline().set("a", "1").get("a").exec();
 * ```
 */
export class Pipeline extends Commands<"pipeline"> {
  #commands: [Arg[], Transform<unknown>][] = [];
  #run: (commands: [Arg[], Transform<unknown>][]) => Promise<unknown[]>;

  /** Created by {@linkcode Client.pipeline}. */
  constructor(
    run: (commands: [Arg[], Transform<unknown>][]) => Promise<unknown[]>,
  ) {
    super();
    this.#run = run;
  }

  /** Queues one command until {@linkcode Pipeline.exec}. */
  protected call<T>(args: Arg[], transform: Transform<T>): Pipeline {
    this.#commands.push([args, transform]);
    return this;
  }

  /** How many commands are queued. */
  get length(): number {
    return this.#commands.length;
  }

  /** Sends every queued command at once; their replies, in order. */
  exec(): Promise<unknown[]> {
    const commands = this.#commands;
    this.#commands = [];
    return this.#run(commands);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
  onLate: (p: Promise<T>) => void,
): Promise<T> {
  if (ms <= 0) return await p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate(p);
      reject(new TimeoutError(`${what} took longer than ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
