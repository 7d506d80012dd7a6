/**
 * A typed client for @kv/store and for Redis itself: one connection,
 * automatic pipelining of concurrent calls, explicit pipelines,
 * reconnection with backoff, and per-command timeouts.
 *
 * @example
 * ```ts
 * import { Client } from "@kv/store";
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
import { ClusterRouter, type NodeOps, slotOfKeys } from "./_cluster.ts";

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
  /** The numbered database to use (default 0): the client sends SELECT with
   * it when it connects, after every reconnect, and on every connection it
   * opens for itself (blocking commands, {@linkcode Client.isolated},
   * subscriptions, {@linkcode Client.localCache}). A database the server
   * does not have makes {@linkcode Client.connect} reject with the
   * server's error (`ERR DB index is out of range`). A `redis://` URL gives
   * it as its path (`redis://127.0.0.1:31337/3`). {@linkcode Client.select}
   * changes it later; {@linkcode Client.db} is the one in use.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using sessions = await Client.connect({ db: 3 });
   * await sessions.set("session:1", "alice"); // in database 3
   * await using same = await Client.connect("redis://127.0.0.1:31337/3");
   * console.log(await same.get("session:1")); // "alice"
   * ```
   */
  db?: number;
  /** Milliseconds a command may wait for its reply (and a connection
   * attempt may take) before failing with a {@linkcode TimeoutError};
   * 0 waits forever. Default 0. */
  timeout?: number;
  /** Reconnect after the connection drops (default on). Commands issued
   * while reconnecting wait for the new connection. */
  reconnect?: boolean | ReconnectOptions;
  /** How RESP3 doubles come back from {@linkcode Client.execute}:
   * `number` (default) or `text` ({@linkcode DoubleText}, the digits as
   * sent; the CLI prints them as redis-cli does). */
  doubles?: "number" | "text";
  /** Cluster mode: some nodes of a Redis Cluster to read its slot map
   * from (CLUSTER SHARDS, or CLUSTER SLOTS before Redis 7). Each command
   * goes to the primary serving the hash slot of its keys (`hostname` and
   * `port` are then ignored); the other options apply to every node
   * connection. `db` must be 0. See {@linkcode Client.nodes} and
   * {@linkcode Client.isolated} for what differs from one server.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using client = await Client.connect({
   *   cluster: [{ hostname: "127.0.0.1", port: 7000 }, { port: 7001 }],
   * });
   * await client.set("{user1}:name", "alice"); // on the node of {user1}'s slot
   * await client.mget("{user1}:name", "{user1}:email"); // one slot: allowed
   * ```
   */
  cluster?: ClusterNode[];
}

/** A node of a Redis Cluster to connect through (the `cluster` option of
 * {@linkcode Client.connect}).
 *
 * @example
 * ```ts
 * import type { ClusterNode } from "@kv/store";
 * const seeds: ClusterNode[] = [{ hostname: "10.0.0.1", port: 7000 }];
 * ```
 */
export interface ClusterNode {
  /** Host; default `127.0.0.1`. */
  hostname?: string;
  /** Port; default 6379. */
  port?: number;
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

/** One way of giving a key a TTL (SET, GETEX): at most one of `ex`, `px`,
 * `exat`, `pxat` (and SET's `keepTtl`, GETEX's `persist`); giving two is a
 * type error, as it is a syntax error for Redis.
 *
 * @example
 * ```ts
 * import type { Expiry } from "@kv/store";
 * const ttl: Expiry = { ex: 60 };
 * // @ts-expect-error: one expiry only
 * const both: Expiry = { ex: 60, px: 100 };
 * ```
 */
export type Expiry =
  | { ex?: never; px?: never; exat?: never; pxat?: never }
  | { ex: number; px?: never; exat?: never; pxat?: never }
  | { ex?: never; px: number; exat?: never; pxat?: never }
  | { ex?: never; px?: never; exat: number; pxat?: never }
  | { ex?: never; px?: never; exat?: never; pxat: number };

/** Options of {@linkcode Client.set}: an {@linkcode Expiry} (`ex` seconds,
 * `px` ms, `exat` unix seconds, `pxat` unix ms) or `keepTtl`, at most one of
 * `nx` (only if missing) and `xx` (only if present), and `get` (resolve to
 * the old value instead of "OK"). Combinations Redis refuses do not
 * type-check.
 *
 * @example
 * ```ts
 * import type { SetCommandOptions } from "@kv/store";
 * const lock: SetCommandOptions = { nx: true, px: 30_000 };
 * // @ts-expect-error: NX and XX together
 * const never: SetCommandOptions = { nx: true, xx: true };
 * ```
 */
export type SetCommandOptions =
  & (
    | (Expiry & { keepTtl?: never })
    | { ex?: never; px?: never; exat?: never; pxat?: never; keepTtl: boolean }
  )
  & ({ nx?: boolean; xx?: never } | { nx?: never; xx?: boolean })
  & { get?: boolean };

/** Options of {@linkcode Client.getex}: an {@linkcode Expiry}, or
 * `persist` to remove the TTL; never both.
 *
 * @example
 * ```ts
 * import type { GetExOptions } from "@kv/store";
 * const extend: GetExOptions = { ex: 3600 };
 * // @ts-expect-error: an expiry and PERSIST
 * const never: GetExOptions = { ex: 1, persist: true };
 * ```
 */
export type GetExOptions =
  | (Expiry & { persist?: never })
  | { ex?: never; px?: never; exat?: never; pxat?: never; persist: boolean };

/** Condition of EXPIRE and friends (Redis 7).
 *
 * @example
 * ```ts ignore
 * await client.expire("k", 60, "GT"); // only if it makes the TTL longer
 * ```
 */
export type ExpireCondition = "NX" | "XX" | "GT" | "LT";

/** Options of {@linkcode Client.scan}.
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

/** What the command methods can be called on: a {@linkcode Client} (they
 * return promises), a {@linkcode Pipeline} or a
 * {@linkcode ClientTransaction} (they queue the command and return the
 * pipeline or transaction, its type extended by the command's result).
 *
 * @example
 * ```ts
 * import type { Client, Queue } from "@kv/store";
 * const target: Queue = {} as Client;
 * ```
 */
export type Queue =
  | Client
  | Pipeline<unknown[]>
  | ClientTransaction<unknown[]>;

/** What a command method returns when called on `S`: `Promise<T>` on a
 * {@linkcode Client}; on a `Pipeline<[...A]>` (or a transaction), the same
 * pipeline typed `Pipeline<[...A, T]>`, so `exec()` resolves to a tuple of
 * every queued call's result.
 *
 * @example
 * ```ts
 * import type { Client, Pipeline, Reply } from "@kv/store";
 * type A = Reply<Client, number>; // Promise<number>
 * type B = Reply<Pipeline<[string]>, number>; // Pipeline<[string, number]>
 * ```
 */
export type Reply<S, T> = S extends Pipeline<infer A> ? Pipeline<[...A, T]>
  : S extends ClientTransaction<infer A> ? ClientTransaction<[...A, T]>
  : Promise<T>;

/** The replies of a pipeline or transaction that queued calls whose
 * results are `A`: each one, or the {@linkcode ReplyError} the server
 * answered instead.
 *
 * @example
 * ```ts
 * import type { ReplyError, Replies } from "@kv/store";
 * const r: Replies<[number]> = [1];
 * const e: Replies<[number]> = [{} as ReplyError];
 * ```
 */
export type Replies<A extends unknown[]> = {
  [K in keyof A]: A[K] | ReplyError;
};

/** @deprecated Use {@linkcode Queue}: the command methods now live on
 * {@linkcode Client} and take their result type from what they are called
 * on ({@linkcode Reply}).
 *
 * @example
 * ```ts
 * import type { Mode } from "@kv/store";
 * const m: Mode = "promise";
 * ```
 */
export type Mode = "promise" | "pipeline" | "transaction";
/** @deprecated Use {@linkcode Reply}.
 *
 * @example
 * ```ts
 * import type { Result } from "@kv/store";
 * const r: Result<"promise", number> = Promise.resolve(1);
 * ```
 */
export type Result<M extends Mode, T> = M extends "promise" ? Promise<T>
  : M extends "transaction" ? ClientTransaction<unknown[]>
  : Pipeline<unknown[]>;

/** The key of the one method each {@linkcode Queue} implements: send (or
 * queue) a command with a transform of its reply. */
const CALL: unique symbol = Symbol("call");

interface Caller {
  [CALL]<T>(args: Arg[], transform: Transform<T>): unknown;
}

/** Sends (Client) or queues (Pipeline, transaction) one command. */
function call<S, T>(
  self: S,
  args: Arg[],
  transform: Transform<T>,
): Reply<S, T> {
  return (self as unknown as Caller)[CALL](args, transform) as Reply<S, T>;
}

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
function keyedElement(v: RespValue): KeyedElement | null {
  if (v === null) return null;
  const [k, e] = v as RespValue[];
  return { key: text(k)!, element: text(e)! };
}
function keyedMember(v: RespValue): KeyedMember | null {
  if (v === null) return null;
  const [k, m, s] = v as RespValue[];
  return { key: text(k)!, member: text(m)!, score: toScore(s) };
}

/** Converts every bulk string in a reply to text, recursively.
 *
 * @example
 * ```ts
 * import { replyToText } from "@kv/store";
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

// --- option and result types of the data-type methods ----------------------

/** Field-value pairs for HSET, HMSET and XADD: a record, a Map (for
 * binary field names), or `[field, value]` tuples.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.hset("user:1", { name: "Ada" });
 * await client.hset("user:1", new Map([[new Uint8Array([0xff]), "binary"]]));
 * await client.hset("user:1", [["born", 1815], ["died", 1852]]);
 * ```
 */
export type FieldValues =
  | Record<string, Value>
  | Map<Value, Value>
  | [field: Value, value: Value][];

/** A score argument: a number (±Infinity are sent as `+inf`/`-inf`) or the
 * text Redis accepts.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.zadd("board", [["ada", Infinity], ["bob", "1.5"]]);
 * ```
 */
export type Score = number | string;

/** A score range bound: a {@linkcode Score}, or text such as `(1` (exclusive)
 * or `-inf`.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.zcount("board", "(10", Infinity); // scores > 10
 * ```
 */
export type ScoreBound = number | string;

/** A member with its score, as sent by ZADD and returned WITHSCORES.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const members: ScoredMember[] = [["ada", 10], ["bob", 20]];
 * await client.zadd("board", members);
 * ```
 */
export type ScoredMember = [member: Value, score: Score];

/** Options of a SCAN-like command over one key (HSCAN, SSCAN, ZSCAN).
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.hscan("user:1", 0, { match: "addr*", count: 100 });
 * ```
 */
export interface KeyScanOptions {
  /** Glob pattern the fields or members must match. */
  match?: string;
  /** How many elements to look at per call (a hint). */
  count?: number;
}

/** One step of an HSCAN iteration.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { cursor, entries } = await client.hscan("user:1", 0);
 * ```
 */
export interface HScanPage {
  /** Cursor for the next call; `"0"` when the iteration is done. */
  cursor: string;
  /** Field-value pairs found in this step. */
  entries: [field: string, value: string][];
}

/** One step of an SSCAN iteration.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { cursor, members } = await client.sscan("tags", 0);
 * ```
 */
export interface SScanPage {
  /** Cursor for the next call; `"0"` when the iteration is done. */
  cursor: string;
  /** Members found in this step. */
  members: string[];
}

/** One step of a ZSCAN iteration.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { cursor, members } = await client.zscan("board", 0);
 * ```
 */
export interface ZScanPage {
  /** Cursor for the next call; `"0"` when the iteration is done. */
  cursor: string;
  /** Members with their scores found in this step. */
  members: [member: string, score: number][];
}

/** Options of {@linkcode Client.lpos}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.lpos("queue", "job", { rank: -1, maxlen: 1000 });
 * ```
 */
export interface LPosOptions {
  /** Which match to return: 1 the first, -1 the last, 2 the second... */
  rank?: number;
  /** Compare at most this many elements (0: all). */
  maxlen?: number;
}

/** A list end, for LMOVE and LMPOP.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.lmove("todo", "doing", "LEFT", "RIGHT");
 * ```
 */
export type ListSide = "LEFT" | "RIGHT";

/** What LMPOP popped: the key and its elements.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const popped = await client.lmpop(["a", "b"], "LEFT", 10); // { key: "a", elements: [...] } or null
 * ```
 */
export interface ListPopResult {
  /** The first non-empty key. */
  key: string;
  /** The elements popped from it. */
  elements: string[];
}

/** Options of {@linkcode Client.zadd}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.zadd("board", [["ada", 12]], { gt: true, ch: true });
 * ```
 */
export interface ZAddCommandOptions {
  /** Only add new members. */
  nx?: boolean;
  /** Only update existing members. */
  xx?: boolean;
  /** Only update when the new score is greater. */
  gt?: boolean;
  /** Only update when the new score is less. */
  lt?: boolean;
  /** Count changed members, not only added ones. */
  ch?: boolean;
}

/** Options of {@linkcode Client.zrange} and {@linkcode Client.zrangestore}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.zrange("board", "(10", "+inf", { byScore: true, limit: { offset: 0, count: 5 } });
 * ```
 */
export interface ZRangeCommandOptions {
  /** `start`/`stop` are scores (BYSCORE). */
  byScore?: boolean;
  /** `start`/`stop` are lexicographic bounds like `[a` (BYLEX). */
  byLex?: boolean;
  /** Highest first (REV); with BYSCORE/BYLEX, `start` is the high bound. */
  rev?: boolean;
  /** Skip `offset` and return at most `count` (with BYSCORE/BYLEX). */
  limit?: { offset: number; count: number };
}

/** Options of ZRANGEBYSCORE-like commands.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.zrangebyscore("board", 0, 100, { limit: { offset: 10, count: 10 } });
 * ```
 */
export interface ZRangeByOptions {
  /** Skip `offset` and return at most `count`. */
  limit?: { offset: number; count: number };
}

/** How ZUNION/ZINTER combine scores.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.zunion(["a", "b"], { weights: [1, 2], aggregate: "MAX" });
 * ```
 */
export interface ZCombineCommandOptions {
  /** A multiplier per input key. */
  weights?: number[];
  /** SUM (default), MIN or MAX. */
  aggregate?: "SUM" | "MIN" | "MAX";
}

/** What ZMPOP popped: the key and its members with scores.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const popped = await client.zmpop(["a", "b"], "MIN"); // { key, members: [[m, s]] } or null
 * ```
 */
export interface ZPopResult {
  /** The first non-empty key. */
  key: string;
  /** Members popped, with their scores. */
  members: [member: string, score: number][];
}

/** What BLPOP / BRPOP popped: the key and the element.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const popped = await client.blpop(["jobs"], 1); // { key: "jobs", element: "j1" } or null
 * ```
 */
export interface KeyedElement {
  /** The list it came from. */
  key: string;
  /** The element. */
  element: string;
}

/** What BZPOPMIN / BZPOPMAX popped: the key, the member and its score.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const popped = await client.bzpopmin(["board"], 1); // { key, member, score } or null
 * ```
 */
export interface KeyedMember {
  /** The sorted set it came from. */
  key: string;
  /** The member. */
  member: string;
  /** Its score. */
  score: number;
}

/** A range for BITCOUNT and BITPOS: byte offsets (or bit offsets with
 * `unit: "BIT"`); negative from the end.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.bitcount("flags", { start: 0, end: 15, unit: "BIT" });
 * ```
 */
export interface BitOffsetRange {
  /** First byte (or bit). */
  start: number;
  /** Last byte (or bit), inclusive; BITPOS allows leaving it out. */
  end?: number;
  /** BYTE (default) or BIT. */
  unit?: "BYTE" | "BIT";
}

/** One BITFIELD operation. `type` is e.g. `u8` or `i16`; `offset` a bit
 * offset or `#n` (in units of the type's width).
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.bitfield("counters", [
 *   { overflow: "SAT" },
 *   { incrBy: "u8", offset: "#0", increment: 300 },
 *   { get: "u8", offset: 0 },
 * ]); // [255, 255]
 * ```
 */
export type BitFieldOperation =
  | { get: string; offset: number | string }
  | { set: string; offset: number | string; value: number | bigint }
  | { incrBy: string; offset: number | string; increment: number | bigint }
  | { overflow: "WRAP" | "SAT" | "FAIL" };

/** One match of LCS IDX: ranges in each string (inclusive), and its length
 * when asked for.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { matches, len } = await client.lcsIdx("a", "b", { withMatchLen: true });
 * ```
 */
export interface LcsMatch {
  /** Range in the first string. */
  a: [start: number, end: number];
  /** Range in the second string. */
  b: [start: number, end: number];
  /** The match's length (with `withMatchLen`). */
  len?: number;
}

/** The reply of LCS IDX.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const result: LcsIdxReply = await client.lcsIdx("a", "b");
 * ```
 */
export interface LcsIdxReply {
  /** Matching ranges, from the end of the strings backwards. */
  matches: LcsMatch[];
  /** Length of the longest common subsequence. */
  len: number;
}

/** A longitude/latitude pair.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const [pos] = await client.geopos("places", "rome"); // { longitude, latitude } or null
 * ```
 */
export interface GeoCoordinates {
  /** Longitude in degrees. */
  longitude: number;
  /** Latitude in degrees. */
  latitude: number;
}

/** A point to add with GEOADD.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.geoadd("places", [{ longitude: 12.4964, latitude: 41.9028, member: "rome" }]);
 * ```
 */
export interface GeoMember extends GeoCoordinates {
  /** The member's name. */
  member: Value;
}

/** A distance unit.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.geodist("places", "rome", "paris", "km");
 * ```
 */
export type DistanceUnit = "m" | "km" | "mi" | "ft";

/** Where GEOSEARCH starts: a member or coordinates.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.geosearch("places", { member: "rome" }, { radius: 500, unit: "km" });
 * ```
 */
export type GeoSearchFrom = { member: Value } | GeoCoordinates;

/** The shape of a GEOSEARCH: a circle or a box.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.geosearch("places", { longitude: 12, latitude: 42 }, { width: 400, height: 200, unit: "km" });
 * ```
 */
export type GeoSearchBy =
  | { radius: number; unit: DistanceUnit }
  | { width: number; height: number; unit: DistanceUnit };

/** Options of GEOSEARCH and GEORADIUS*.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.geosearch("places", { member: "rome" }, { radius: 9, unit: "km" }, { order: "ASC", count: 3, withDist: true });
 * ```
 */
export interface GeoQueryOptions {
  /** Nearest first (ASC) or farthest first (DESC). */
  order?: "ASC" | "DESC";
  /** At most this many results. */
  count?: number;
  /** With `count`: stop at the first `count` found, not the nearest. */
  any?: boolean;
  /** Return each match's coordinates. */
  withCoord?: boolean;
  /** Return each match's distance (in the search unit). */
  withDist?: boolean;
  /** Return each match's raw geohash score. */
  withHash?: boolean;
}

/** Options of GEOSEARCHSTORE.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.geosearchstore("near", "places", { member: "rome" }, { radius: 9, unit: "km" }, { storeDist: true });
 * ```
 */
export interface GeoQueryStoreOptions {
  /** Nearest first (ASC) or farthest first (DESC). */
  order?: "ASC" | "DESC";
  /** At most this many results. */
  count?: number;
  /** With `count`: stop at the first `count` found, not the nearest. */
  any?: boolean;
  /** Store distances as the scores instead of geohashes. */
  storeDist?: boolean;
}

/** One GEOSEARCH match, with what the options asked for.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const [first]: GeoSearchMatch[] = await client.geosearch("places", { member: "rome" }, { radius: 9, unit: "km" });
 * ```
 */
export interface GeoSearchMatch {
  /** The member's name. */
  member: string;
  /** Distance from the center (with `withDist`). */
  distance?: number;
  /** Raw geohash score (with `withHash`). */
  hash?: number;
  /** Coordinates (with `withCoord`). */
  coordinates?: GeoCoordinates;
}

/** Stream trimming: MAXLEN or MINID, exact or approximate (`~`).
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.xtrim("events", { maxlen: 1000, approximate: true });
 * ```
 */
export interface XTrimCommandOptions {
  /** Keep at most this many entries. */
  maxlen?: number;
  /** Drop entries with a smaller id. */
  minid?: string;
  /** Trim approximately (`~`), which is cheaper. */
  approximate?: boolean;
  /** With `approximate`: evict at most this many entries (LIMIT). */
  limit?: number;
}

/** Options of {@linkcode Client.xadd}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.xadd("events", "*", { type: "login" }, { maxlen: 1000, approximate: true });
 * ```
 */
export interface XAddCommandOptions extends XTrimCommandOptions {
  /** Do not create a missing stream (XADD then returns null). */
  nomkstream?: boolean;
}

/** A stream entry: its id and its fields.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const [entry]: StreamMessage[] = await client.xrange("events", "-", "+", { count: 1 });
 * console.log(entry.id, entry.fields.type);
 * ```
 */
export interface StreamMessage {
  /** The entry id, `ms-seq`. */
  id: string;
  /** Field-value pairs (a repeated field keeps its last value). */
  fields: Record<string, string>;
}

/** A pending entry XREADGROUP returns after it was deleted from the stream.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const [read] = await client.xreadgroup("g", "alice", { events: "0" });
 * const gone = read.entries.filter((e): e is DeletedStreamMessage => e.fields === null);
 * ```
 */
export interface DeletedStreamMessage {
  /** The entry id. */
  id: string;
  /** Always null: the entry is gone. */
  fields: null;
}

/** Entries read from one stream by XREAD or XREADGROUP.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * for (const { key, entries } of await client.xread({ events: "0" })) console.log(key, entries.length);
 * ```
 */
export interface StreamRead<E = StreamMessage> {
  /** The stream's key. */
  key: string;
  /** Entries read from it. */
  entries: E[];
}

/** Streams to read and the id to read after, as a record or pairs.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.xread([["events", "0"], ["audit", "$"]], { block: 1000 });
 * ```
 */
export type StreamIds = Record<string, string> | [key: Key, id: string][];

/** Options of XREAD and XREADGROUP.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.xread({ events: "$" }, { block: 5000, count: 10 });
 * ```
 */
export interface XReadOptions {
  /** At most this many entries per stream. */
  count?: number;
  /** Wait up to this many ms for data (0: forever). Holds the connection. */
  block?: number;
  /** XREADGROUP only: do not add the entries to the pending list. */
  noack?: boolean;
}

/** The summary form of XPENDING.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { count, consumers } = await client.xpending("events", "g");
 * ```
 */
export interface XPendingSummary {
  /** How many entries are pending. */
  count: number;
  /** The smallest pending id, or null when none. */
  smallest: string | null;
  /** The greatest pending id, or null when none. */
  largest: string | null;
  /** Pending counts per consumer. */
  consumers: { name: string; count: number }[];
}

/** The range of an extended XPENDING.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.xpending("events", "g", { start: "-", end: "+", count: 10, idle: 60_000 });
 * ```
 */
export interface XPendingRange {
  /** Smallest id (`-` for the start). */
  start: string;
  /** Greatest id (`+` for the end). */
  end: string;
  /** At most this many entries. */
  count: number;
  /** Only entries idle at least this many ms. */
  idle?: number;
  /** Only this consumer's entries. */
  consumer?: string;
}

/** One entry of an extended XPENDING.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const [first]: XPendingEntry[] = await client.xpending("events", "g", { start: "-", end: "+", count: 1 });
 * ```
 */
export interface XPendingEntry {
  /** The entry id. */
  id: string;
  /** The consumer it was delivered to. */
  consumer: string;
  /** Milliseconds since it was last delivered. */
  idle: number;
  /** How many times it was delivered. */
  deliveries: number;
}

/** Options of {@linkcode Client.xclaim}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.xclaim("events", "g", "bob", 60_000, ["1-0"], { retryCount: 3 });
 * ```
 */
export interface XClaimCommandOptions {
  /** Set the idle time (ms) of the claimed entries. */
  idle?: number;
  /** Set their last delivery time (unix ms). */
  time?: number;
  /** Set their delivery count. */
  retryCount?: number;
  /** Claim ids that are not pending, if they exist in the stream. */
  force?: boolean;
  /** Update the group's last id if greater (LASTID). */
  lastId?: string;
}

/** The reply of XAUTOCLAIM.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { next, entries, deleted } = await client.xautoclaim("events", "g", "bob", 60_000, "0");
 * ```
 */
export interface XAutoClaimReply<E = StreamMessage> {
  /** The cursor id for the next call; `0-0` when the scan is done. */
  next: string;
  /** Claimed entries (or ids with `justId`). */
  entries: E[];
  /** Pending ids whose entries no longer exist (removed from the list). */
  deleted: string[];
}

/** XINFO STREAM (the summary form).
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const { length, lastGeneratedId } = await client.xinfoStream("events");
 * ```
 */
export interface XInfoStreamReply {
  /** Number of entries. */
  length: number;
  /** Keys in the stream's radix tree. */
  radixTreeKeys: number;
  /** Nodes in the stream's radix tree. */
  radixTreeNodes: number;
  /** Number of consumer groups. */
  groups: number;
  /** The last id generated or added. */
  lastGeneratedId: string;
  /** The greatest id deleted. */
  maxDeletedEntryId: string;
  /** How many entries were ever added. */
  entriesAdded: number;
  /** The id of the first entry. */
  recordedFirstEntryId: string;
  /** The first entry, or null when empty. */
  firstEntry: StreamMessage | null;
  /** The last entry, or null when empty. */
  lastEntry: StreamMessage | null;
}

/** One group of XINFO GROUPS.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * for (const g of await client.xinfoGroups("events")) console.log(g.name, g.lag);
 * ```
 */
export interface XInfoGroup {
  /** The group's name. */
  name: string;
  /** Number of consumers. */
  consumers: number;
  /** Number of pending entries. */
  pending: number;
  /** The last id delivered to the group. */
  lastDeliveredId: string;
  /** Logical read counter, or null when unknown. */
  entriesRead: number | null;
  /** Entries still to be delivered, or null when unknown. */
  lag: number | null;
}

/** One consumer of XINFO CONSUMERS.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * for (const c of await client.xinfoConsumers("events", "g")) console.log(c.name, c.pending);
 * ```
 */
export interface XInfoConsumer {
  /** The consumer's name. */
  name: string;
  /** Its pending entries. */
  pending: number;
  /** Milliseconds since it last read or claimed. */
  idle: number;
}

/** Options of {@linkcode Client.sort} and {@linkcode Client.sortRo}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.sort("ids", { by: "weight_*", get: ["#", "name_*"], limit: { offset: 0, count: 10 }, order: "DESC" });
 * ```
 */
export interface SortOptions {
  /** Sort by the values of these keys (`*` replaced by the element), or
   * `nosort`. */
  by?: string;
  /** Skip `offset` and return at most `count`. */
  limit?: { offset: number; count: number };
  /** Return these patterns' values instead of the elements (`#`: the
   * element itself). */
  get?: string[];
  /** ASC (default) or DESC. */
  order?: "ASC" | "DESC";
  /** Compare as strings instead of numbers. */
  alpha?: boolean;
}

/** What a script or function returns, as the client hands it back: Lua
 * numbers as integers, strings (bulk or status) as text, `nil` as null,
 * tables as arrays (cut at the first nil), and an error inside a table as a
 * {@linkcode ReplyError} value. RESP3 connections give the same values as
 * RESP2: a Lua `true` is 1 and `false` null (after `redis.setresp(3)`,
 * RESP3 booleans are 1 and 0, maps flat arrays, sets arrays), except
 * doubles (`redis.setresp(3)`), which are numbers over RESP3 and strings
 * over RESP2.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const reply: ScriptReply = await client.eval("return {1, 'two'}"); // [1, "two"]
 * ```
 */
export type ScriptReply =
  | string
  | number
  | bigint
  | null
  | ReplyError
  | ScriptReply[];

/** Options of {@linkcode Client.functionLoad}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.functionLoad("#!lua name=lib\nredis.register_function('f', function() return 1 end)", { replace: true });
 * ```
 */
export interface FunctionLoadOptions {
  /** Replace a library of the same name (REPLACE). */
  replace?: boolean;
}

/** Options of {@linkcode Client.functionList}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * await client.functionList({ libraryName: "my*", withCode: true });
 * ```
 */
export interface FunctionListOptions {
  /** Only libraries whose name matches this glob (LIBRARYNAME). */
  libraryName?: string;
  /** Include each library's source (WITHCODE). */
  withCode?: boolean;
}

/** One function of a library, in {@linkcode FunctionLibrary.functions}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const [lib] = await client.functionList();
 * const f: FunctionInfo = lib.functions[0]; // { name: "f", description: null, flags: [] }
 * ```
 */
export interface FunctionInfo {
  /** The function's name (what FCALL takes). */
  name: string;
  /** Its description, or null when it was registered without one. */
  description: string | null;
  /** Its flags, e.g. `no-writes`, `allow-oom`. */
  flags: string[];
}

/** A library in the reply of {@linkcode Client.functionList}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const libs: FunctionLibrary[] = await client.functionList({ withCode: true });
 * console.log(libs[0].libraryName, libs[0].libraryCode);
 * ```
 */
export interface FunctionLibrary {
  /** The library's name (from its `#!lua name=...` line). */
  libraryName: string;
  /** The engine, `LUA`. */
  engine: string;
  /** The functions it registered. */
  functions: FunctionInfo[];
  /** Its source code (with `withCode` only). */
  libraryCode?: string;
}

/** The reply of {@linkcode Client.functionStats}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const stats: FunctionStats = await client.functionStats();
 * console.log(stats.engines.LUA.functionsCount, stats.runningScript?.name);
 * ```
 */
export interface FunctionStats {
  /** The function running now, or null. */
  runningScript: {
    /** The function's name. */
    name: string;
    /** The FCALL (or FCALL_RO) command that runs it, with its arguments. */
    command: string[];
    /** How long it has been running, in milliseconds. */
    durationMs: number;
  } | null;
  /** Libraries and functions loaded, per engine (`LUA`). */
  engines: Record<string, {
    /** Libraries loaded with this engine. */
    librariesCount: number;
    /** Functions they registered. */
    functionsCount: number;
  }>;
}

/** Options of {@linkcode Client.defineScript}.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const getset = client.defineScript("return redis.call('GETSET', KEYS[1], ARGV[1])", { numberOfKeys: 1 });
 * ```
 */
export interface DefineScriptOptions {
  /** How many keys every call must pass; a call with another number
   * throws a `RangeError` before anything is sent. Default: any. */
  numberOfKeys?: number;
  /** Run it with EVALSHA_RO / EVAL_RO (a read-only script, allowed on
   * replicas). */
  readOnly?: boolean;
}

/** A script defined with {@linkcode Client.defineScript}: call it with keys
 * and arguments; it runs with EVALSHA and falls back to EVAL when the
 * server does not have it (NOSCRIPT).
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * const client = await Client.connect();
 * const incrTo = client.defineScript<number>("return redis.call('INCRBY', KEYS[1], ARGV[1])");
 * await incrTo(["counter"], [5]); // 5
 * console.log(incrTo.lua, await incrTo.sha());
 * ```
 */
export interface DefinedScript<T = ScriptReply> {
  /** Runs the script on `keys` with `args`. */
  (keys?: Key[], args?: Value[]): Promise<T>;
  /** The script's source. */
  readonly lua: string;
  /** The script's SHA1 (what EVALSHA takes), as lowercase hex. */
  sha(): Promise<string>;
}

// --- transforms of the data-type methods ----------------------------------

/** Parses a score as Redis writes it: `inf`, `-inf`, `nan` included. */
function toScore(v: RespValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "bigint") return Number(v);
  const s = text(v);
  if (s === null) return NaN;
  const lower = s.toLowerCase();
  if (lower === "inf" || lower === "+inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  return Number(s);
}
function scoreOrNull(v: RespValue): number | null {
  return v === null ? null : toScore(v);
}
function scoreArg(s: Score): Arg {
  if (typeof s === "number") {
    if (s === Infinity) return "+inf";
    if (s === -Infinity) return "-inf";
  }
  return s;
}
function str(v: RespValue): string {
  return text(v)!;
}
function numOrNull(v: RespValue): number | null {
  return v === null ? null : num(v);
}
/** An array or RESP3 set (or null) as an array. */
function list(v: RespValue): RespValue[] {
  if (v === null) return [];
  if (v instanceof Set) return [...v];
  return v as RespValue[];
}
function strings(v: RespValue): string[] {
  return list(v).map(str);
}
function bools(v: RespValue): boolean[] {
  return list(v).map(bool);
}
function byteList(v: RespValue): Uint8Array[] {
  return list(v).map((e) => bytes(e)!);
}
/** A RESP3 map or a RESP2 flat array of pairs, as entries. */
function entries(v: RespValue): [RespValue, RespValue][] {
  if (v instanceof Map) return [...v];
  return pairUp(list(v));
}
function fieldRecord(v: RespValue): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, e] of entries(v)) setKey(out, str(k), str(e));
  return out;
}
/** Sets a property, even one called `__proto__`. */
function setKey<T>(o: Record<string, T>, k: string, v: T): void {
  if (k === "__proto__") {
    Object.defineProperty(o, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  } else o[k] = v;
}
/** Field-value pairs: flat (RESP2) or nested (RESP3). */
function stringPairs(v: RespValue): [string, string][] {
  const a = list(v);
  if (a.length > 0 && Array.isArray(a[0])) {
    return a.map((p) => {
      const [k, e] = p as RespValue[];
      return [str(k), str(e)];
    });
  }
  return pairUp(a).map(([k, e]) => [str(k), str(e)]);
}
/** Member-score pairs: flat (RESP2) or nested (RESP3). */
function scoredPairs(v: RespValue): [string, number][] {
  const a = list(v);
  if (a.length > 0 && Array.isArray(a[0])) {
    return a.map((p) => {
      const [m, s] = p as RespValue[];
      return [str(m), toScore(s)];
    });
  }
  return pairUp(a).map(([m, s]) => [str(m), toScore(s)]);
}
/** A RESP3 map or RESP2 pairs as a Map with text keys. */
function fieldsOf(v: RespValue): Map<string, RespValue> {
  const out = new Map<string, RespValue>();
  for (const [k, e] of entries(v)) out.set(str(k), e);
  return out;
}
function streamEntry(v: RespValue): StreamMessage {
  const [id, fields] = v as RespValue[];
  return { id: str(id), fields: fieldRecord(fields) };
}
function streamEntries(v: RespValue): StreamMessage[] {
  return list(v).map(streamEntry);
}
function maybeEntry(v: RespValue): StreamMessage | DeletedStreamMessage {
  const [id, fields] = v as RespValue[];
  return fields === null
    ? { id: str(id), fields: null }
    : { id: str(id), fields: fieldRecord(fields) };
}
function streamReads<E>(entry: (v: RespValue) => E) {
  return (v: RespValue): StreamRead<E>[] => {
    if (v === null) return [];
    return entries(v instanceof Map ? v : list(v).flat(1)).map((
      [k, e],
    ) => ({ key: str(k), entries: list(e).map(entry) }));
  };
}
function streamIdArgs(streams: StreamIds): Arg[] {
  const pairs: [Key, string][] = Array.isArray(streams)
    ? streams
    : Object.entries(streams);
  return [
    "STREAMS",
    ...pairs.map(([k]) => k),
    ...pairs.map(([, id]) => id),
  ];
}
function trimArgs(o: XTrimCommandOptions): Arg[] {
  const args: Arg[] = [];
  const mode = o.approximate ? "~" : "=";
  if (o.maxlen !== undefined) args.push("MAXLEN", mode, o.maxlen);
  else if (o.minid !== undefined) args.push("MINID", mode, o.minid);
  if (o.limit !== undefined) args.push("LIMIT", o.limit);
  return args;
}
function limitArgs(limit?: { offset: number; count: number }): Arg[] {
  return limit ? ["LIMIT", limit.offset, limit.count] : [];
}
function combineArgs(keys: Key[], o: ZCombineCommandOptions): Arg[] {
  const args: Arg[] = [keys.length, ...keys];
  if (o.weights) args.push("WEIGHTS", ...o.weights.map(scoreArg));
  if (o.aggregate) args.push("AGGREGATE", o.aggregate);
  return args;
}
function zrangeArgs(o: ZRangeCommandOptions): Arg[] {
  const args: Arg[] = [];
  if (o.byScore) args.push("BYSCORE");
  if (o.byLex) args.push("BYLEX");
  if (o.rev) args.push("REV");
  return [...args, ...limitArgs(o.limit)];
}
function bitRangeArgs(r?: BitOffsetRange): Arg[] {
  if (!r) return [];
  const args: Arg[] = [r.start];
  if (r.end !== undefined) {
    args.push(r.end);
    if (r.unit) args.push(r.unit);
  }
  return args;
}
function geoSearchArgs(
  from: GeoSearchFrom,
  by: GeoSearchBy,
  o: GeoQueryOptions & GeoQueryStoreOptions,
): Arg[] {
  const args: Arg[] = "member" in from
    ? ["FROMMEMBER", from.member]
    : ["FROMLONLAT", from.longitude, from.latitude];
  if ("radius" in by) args.push("BYRADIUS", by.radius, by.unit);
  else args.push("BYBOX", by.width, by.height, by.unit);
  return [...args, ...geoTailArgs(o)];
}
function geoTailArgs(o: GeoQueryOptions & GeoQueryStoreOptions): Arg[] {
  const args: Arg[] = [];
  if (o.order) args.push(o.order);
  if (o.count !== undefined) args.push("COUNT", o.count);
  if (o.any) args.push("ANY");
  if (o.withCoord) args.push("WITHCOORD");
  if (o.withDist) args.push("WITHDIST");
  if (o.withHash) args.push("WITHHASH");
  if (o.storeDist) args.push("STOREDIST");
  return args;
}
function coordinates(v: RespValue): GeoCoordinates | null {
  if (v === null) return null;
  const [lon, lat] = v as RespValue[];
  return { longitude: toScore(lon), latitude: toScore(lat) };
}
/** GEOSEARCH replies: names, or arrays in WITHDIST, WITHHASH, WITHCOORD
 * order. */
function geoMatches(o: GeoQueryOptions) {
  return (v: RespValue): GeoSearchMatch[] =>
    list(v).map((e) => {
      if (!Array.isArray(e)) return { member: str(e) };
      const m: GeoSearchMatch = { member: str(e[0]) };
      let i = 1;
      if (o.withDist) m.distance = toScore(e[i++]);
      if (o.withHash) m.hash = num(e[i++]);
      if (o.withCoord) m.coordinates = coordinates(e[i++])!;
      return m;
    });
}
function lcsRange(v: RespValue): [number, number] {
  const [s, e] = v as RespValue[];
  return [num(s), num(e)];
}
function xinfoEntry(v: RespValue): StreamMessage | null {
  return v === null ? null : streamEntry(v);
}
/** `radix-tree-keys` -> `radixTreeKeys`. */
function camel(name: string): string {
  return name.replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
}
/** XINFO STREAM FULL, text keys in camelCase. */
function infoFull(v: RespValue): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, e] of fieldsOf(v)) {
    const key = camel(k);
    if (key === "entries") out[key] = streamEntries(e);
    else if (key === "groups" || key === "consumers") {
      out[key] = list(e).map(infoFull);
    } else out[key] = e instanceof Uint8Array ? str(e) : replyToText(e);
  }
  return out;
}
function sortArgs(o: SortOptions): Arg[] {
  const args: Arg[] = [];
  if (o.by !== undefined) args.push("BY", o.by);
  args.push(...limitArgs(o.limit));
  for (const g of o.get ?? []) args.push("GET", g);
  if (o.order) args.push(o.order);
  if (o.alpha) args.push("ALPHA");
  return args;
}

/** Flattens FieldValues (or an already flat list) to field, value... */
function fieldArgs(pairs: [FieldValues | Value[]] | Value[]): Value[] {
  const [first] = pairs;
  if (pairs.length !== 1 || first instanceof Uint8Array) {
    return pairs as Value[];
  }
  if (first instanceof Map) return [...first].flat();
  if (Array.isArray(first)) {
    return Array.isArray(first[0])
      ? (first as Value[][]).flat()
      : first as Value[];
  }
  if (typeof first === "object") {
    return Object.entries(first as Record<string, Value>).flat();
  }
  return pairs as Value[];
}
function keyScanArgs(o: KeyScanOptions): Arg[] {
  const args: Arg[] = [];
  if (o.match !== undefined) args.push("MATCH", o.match);
  if (o.count !== undefined) args.push("COUNT", o.count);
  return args;
}
function stringsOrNull(v: RespValue): string[] | null {
  return v === null ? null : strings(v);
}
function intList(v: RespValue): (number | bigint | null)[] {
  return list(v).map((e) => e === null || typeof e === "bigint" ? e : num(e));
}

/** A script's reply as text, RESP3-only types turned into their RESP2
 * forms (so both protocols give the same values). */
function scriptReply(v: RespValue): ScriptReply {
  if (
    v === null || typeof v === "number" || typeof v === "bigint" ||
    typeof v === "string" || v instanceof ReplyError
  ) return v;
  if (typeof v === "boolean") return v ? 1 : 0; // as RESP2 has them
  if (Array.isArray(v)) return v.map(scriptReply);
  if (v instanceof Set) return [...v].map(scriptReply);
  if (v instanceof Map) {
    return [...v].flatMap(([k, e]) => [scriptReply(k), scriptReply(e)]);
  }
  if (v instanceof PushMessage) return v.data.map(scriptReply);
  return text(v); // bulk strings, verbatim strings, doubles as sent
}
/** EVAL, EVALSHA, FCALL and their _RO forms: name, body, keys, args. */
function scriptArgs(
  command: string,
  body: Arg,
  keys: Key[],
  args: Value[],
): Arg[] {
  return [command, body, keys.length, ...keys, ...args];
}
function functionLibrary(v: RespValue): FunctionLibrary {
  const f = fieldsOf(v);
  const lib: FunctionLibrary = {
    libraryName: str(f.get("library_name") ?? null),
    engine: str(f.get("engine") ?? null),
    functions: list(f.get("functions") ?? null).map((e) => {
      const fn = fieldsOf(e);
      return {
        name: str(fn.get("name") ?? null),
        description: text(fn.get("description") ?? null),
        flags: strings(fn.get("flags") ?? null),
      };
    }),
  };
  const code = f.get("library_code");
  if (code !== undefined) lib.libraryCode = str(code);
  return lib;
}
function functionStats(v: RespValue): FunctionStats {
  const f = fieldsOf(v);
  const running = f.get("running_script") ?? null;
  const engines: FunctionStats["engines"] = {};
  for (const [name, e] of fieldsOf(f.get("engines") ?? null)) {
    const counts = fieldsOf(e);
    setKey(engines, name, {
      librariesCount: num(counts.get("libraries_count") ?? null),
      functionsCount: num(counts.get("functions_count") ?? null),
    });
  }
  let runningScript: FunctionStats["runningScript"] = null;
  if (running !== null) {
    const r = fieldsOf(running);
    runningScript = {
      name: str(r.get("name") ?? null),
      command: strings(r.get("command") ?? null),
      durationMs: num(r.get("duration_ms") ?? null),
    };
  }
  return { runningScript, engines };
}

function byScore<S>(
  self: S,
  command: string,
  key: Key,
  a: ScoreBound,
  b: ScoreBound,
  options: ZRangeByOptions & { withScores?: boolean },
): Reply<S, unknown> {
  const args: Arg[] = [command, key, scoreArg(a), scoreArg(b)];
  if (options.withScores) args.push("WITHSCORES");
  args.push(...limitArgs(options.limit));
  return options.withScores
    ? call(self, args, scoredPairs)
    : call(self, args, strings);
}

function combined<S>(
  self: S,
  command: string,
  keys: Key[],
  options: ZCombineCommandOptions & { withScores?: boolean },
): Reply<S, unknown> {
  const args: Arg[] = [command, ...combineArgs(keys, options)];
  return options.withScores
    ? call(self, [...args, "WITHSCORES"], scoredPairs)
    : call(self, args, strings);
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

/** The name of the {@linkcode Client} method that sends a command: the
 * naming rule, applied to every command the server has. The command's name
 * in lowercase, as Redis spells it (and as ioredis and `@db/redis` name
 * their methods: `getex`, `incrbyfloat`, `zrangebyscore`); a subcommand is a
 * second word, and so is each part after a `_` or `-`, written with a
 * capital initial (`configGet`, `xgroupCreateconsumer`, `bitfieldRo`,
 * `clientNoEvict`). Nothing is split where the command name is not, so the
 * name follows from the command alone, with no judgement about where
 * English words start. Variants of one command add a suffix to that name
 * (`getBytes`, `lcsLen`, `hscanIterator`).
 *
 * @example
 * ```ts
 * import { methodName } from "@kv/store";
 * methodName("INCRBYFLOAT"); // "incrbyfloat"
 * methodName("config|resetstat"); // "configResetstat"
 * methodName("GEORADIUS_RO"); // "georadiusRo"
 * ```
 */
export function methodName(command: string): string {
  return command.split(/[|_\- ]/).map((part, i) => {
    const p = part.toLowerCase();
    return i === 0 ? p : p.charAt(0).toUpperCase() + p.slice(1);
  }).join("");
}

/** Options from a `redis://` URL (see {@linkcode Client.connect}). */
function parseRedisUrl(input: string | URL): ClientOptions {
  const url = new URL(input);
  if (url.protocol === "rediss:") {
    throw new TypeError(
      "rediss: URLs need TLS, which this client does not support; use redis: (plain TCP)",
    );
  }
  if (url.protocol !== "redis:") {
    throw new TypeError(`not a redis: URL: ${url.protocol}`);
  }
  const options: ClientOptions = {};
  if (url.hostname) options.hostname = url.hostname.replace(/^\[|\]$/g, "");
  if (url.port) options.port = Number(url.port);
  if (url.username) options.username = decodeURIComponent(url.username);
  if (url.password) options.password = decodeURIComponent(url.password);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "") {
    const db = Number(path);
    if (!/^\d+$/.test(path) || !Number.isSafeInteger(db)) {
      throw new TypeError(
        `the path of a redis: URL is a database number (redis://host:port/3), not "${url.pathname}"`,
      );
    }
    options.db = db;
  }
  return options;
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
 * Every command the server has is a method named by one rule (see
 * {@linkcode methodName}): the lowercase command name, subcommands as a
 * second word (`get`, `incrbyfloat`, `zrangebyscore`, `configGet`,
 * `xgroupCreateconsumer`, `evalshaRo`). Names from before the rule
 * (`incrBy`, `renameNx`, `flushDb`, ...) still work and are deprecated.
 *
 * @example
 * ```ts
 * import { Client } from "@kv/store";
 * const client = await Client.connect("redis://:s3cret@127.0.0.1:31337");
 * await client.mset({ a: "1", b: "2" });
 * console.log(await client.mget("a", "b", "c")); // ["1", "2", null]
 * for await (const key of client.scanIterator("user:*")) console.log(key);
 * client.close();
 * ```
 */
export class Client {
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
  /** A connection of its own (isolated, blocking or subscriber): blocking
   * commands stay on it and WATCH is allowed. */
  #dedicated = false;
  /** Connections this client opened for blocking commands, isolated
   * callbacks and subscriptions; closed with it. */
  #children = new Set<Client>();
  #idleBlocking: Client[] = [];
  #blockers = new Set<Client>();
  #subscriber: Promise<Client> | null = null;
  /** Live subscriptions by kind letter (c, p, s) and channel or pattern. */
  #subscriptions = new Map<string, Set<Subscription>>();
  /** The database this connection has selected (as the server confirmed):
   * selected again on reconnecting, and on the connections it opens. */
  #db: number;
  /** Cluster mode: routes every command to a node (no connection of its
   * own). */
  #cluster: ClusterRouter | null = null;

  private constructor(options: ClientOptions) {
    const db = options.db ?? 0;
    if (!Number.isSafeInteger(db)) {
      throw new TypeError(`db must be an integer, not ${db}`);
    }
    this.options = options;
    this.timeout = options.timeout ?? 0;
    this.#db = db;
    this.#decoder = this.#newDecoder();
  }

  /** The database this client uses: the `db` option, then the last
   * {@linkcode Client.select} (or SELECT sent any other way: `execute`, a
   * pipeline, a transaction that ran) the server confirmed; RESET makes
   * it 0. Reconnects and the connections the client opens for itself
   * select it.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using client = await Client.connect({ db: 2 });
   * await client.select(5);
   * console.log(client.db); // 5
   * ```
   */
  get db(): number {
    return this.#db;
  }

  #newDecoder(): ReplyDecoder {
    return new ReplyDecoder({
      bulk: "bytes",
      doubles: this.options.doubles ?? "number",
    });
  }

  /** Connects (127.0.0.1:31337 unless told otherwise), authenticates and
   * selects the database. Takes options, or a URL:
   * `redis://[user[:password]@]host[:port][/db]` (user and password
   * percent-decoded; the path is the `db` option, a number, and anything
   * else there is a TypeError). `rediss:` (TLS) is refused: the client
   * speaks plain TCP. Close the client when done (`await using`, or
   * {@linkcode Client.close}): an open client keeps the process running. */
  static async connect(
    options: ClientOptions | string | URL = {},
  ): Promise<Client> {
    const client = new Client(
      typeof options === "string" || options instanceof URL
        ? parseRedisUrl(options)
        : options,
    );
    if (client.options.cluster !== undefined) await client.#openCluster();
    else await client.#open();
    return client;
  }

  /** What the cluster router does through node connections. */
  static #nodeOps: NodeOps = {
    connect: (options) => Client.connect(options),
    pipeline: (node, commands) => {
      const send = (conn: Client) =>
        Promise.all(commands.map(([args, t]) => conn.#send(args, t, true)));
      return commands.some(([args]) => isBlocking(args))
        ? node.#blocking(send)
        : send(node);
    },
    exec: (node, commands, asking) => {
      if (asking) node.#send(["ASKING"], same, true);
      return node.#exec(commands);
    },
    connectionError: (message, cause) =>
      new ConnectionError(message, { cause }),
  };

  /** Cluster mode: reads the slot map; the nodes are connected to as
   * commands need them. */
  async #openCluster(): Promise<void> {
    const { cluster = [], ...base } = this.options;
    if (cluster.length === 0) {
      throw new TypeError("cluster: give at least one node");
    }
    if (this.#db !== 0) {
      throw new TypeError("a cluster has database 0 only: db must be 0");
    }
    const router = new ClusterRouter(base, cluster, Client.#nodeOps);
    await router.open();
    this.#cluster = router;
    this.#state = "ready";
    this.#emit("connect");
  }

  /** True while connected and ready (in cluster mode: until closed). */
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
    this.#refd = true;
    this.#decoder = this.#newDecoder();
    this.#readLoop(conn);
    try {
      await this.#handshake();
      this.#updateRef();
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
    // Sent at once; the first error (in the order sent) rejects.
    const sent: Promise<unknown>[] = [];
    if (o.resp === 3) {
      const args: Arg[] = ["HELLO", "3"];
      if (o.password !== undefined) {
        args.push("AUTH", o.username ?? "default", o.password);
      }
      if (o.name) args.push("SETNAME", o.name);
      sent.push(direct(args, same));
    } else {
      if (o.password !== undefined) {
        sent.push(direct(
          o.username ? ["AUTH", o.username, o.password] : ["AUTH", o.password],
          same,
        ));
      }
      if (o.name) sent.push(direct(["CLIENT", "SETNAME", o.name], same));
    }
    if (this.#db !== 0) sent.push(direct(["SELECT", this.#db], same));
    await Promise.all(sent);
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

  /** Whether the socket keeps the process alive. */
  #refd = true;
  /** Keep it alive even when idle (the subscriber connection, which waits
   * for messages). */
  #alwaysRef = false;

  /** An idle connection does not keep the process alive (as Node's
   * `socket.unref()`): a script that forgot `close()` still exits. A
   * command in flight, or a subscription, keeps it alive. */
  #updateRef(): void {
    const c = this.#conn;
    if (c === null) return;
    const want = this.#alwaysRef || this.#inflightHead < this.#inflight.length;
    if (want === this.#refd) return;
    this.#refd = want;
    try {
      if (want) c.ref();
      else c.unref();
    } catch {
      // closed meanwhile
    }
  }

  #dispatch(p: Pending, bytes: Uint8Array): void {
    this.#inflight.push(p);
    if (!this.#refd) this.#updateRef();
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

  /** Sends one command and resolves with its transformed reply; blocking
   * commands go to a connection of their own. */
  /** @ignore */
  [CALL]<T>(args: Arg[], transform: Transform<T>): unknown {
    if (this.#cluster !== null) return this.#cluster.call(args, transform);
    if (!this.#dedicated && isBlocking(args)) {
      return this.#blocking((conn) => conn.#send(args, transform, false));
    }
    return this.#send(args, transform, false);
  }

  #isClosed(): boolean {
    return this.#state === "closed";
  }

  /** Opens another connection with this client's options (or overrides). */
  async #child(overrides: ClientOptions = {}): Promise<Client> {
    if (this.#state === "closed") {
      throw new ConnectionError("the client is closed");
    }
    const child = new Client({ ...this.options, db: this.#db, ...overrides });
    child.#dedicated = true;
    this.#children.add(child);
    try {
      await child.#open();
    } catch (e) {
      this.#children.delete(child);
      throw e;
    }
    if (this.#isClosed()) {
      child.close();
      throw new ConnectionError("the client is closed");
    }
    return child;
  }

  /** Runs a blocking command on an idle blocking connection (or a new
   * one), so it never delays the calls pipelined on the main one. */
  async #blocking<T>(run: (conn: Client) => Promise<T>): Promise<T> {
    if (this.#isClosed()) {
      throw new ConnectionError("the client is closed");
    }
    let conn: Client | undefined;
    while ((conn = this.#idleBlocking.pop()) !== undefined) {
      if (conn.#state !== "closed") break;
      this.#children.delete(conn);
      this.#blockers.delete(conn);
    }
    if (conn === undefined) {
      conn = await this.#child({ timeout: 0 });
      this.#blockers.add(conn);
    }
    try {
      // An idle one opened before a SELECT on this client: select it too.
      if (conn.#db !== this.#db) {
        await conn.#send(["SELECT", this.#db], same, false);
      }
      return await run(conn);
    } finally {
      if (
        !this.#isClosed() && !conn.#isClosed() &&
        this.#idleBlocking.length < MAX_IDLE_BLOCKING
      ) {
        this.#idleBlocking.push(conn);
      } else {
        this.#children.delete(conn);
        this.#blockers.delete(conn);
        conn.close();
      }
    }
  }

  /** Connections currently open for blocking commands (busy or idle; in
   * cluster mode, over every node). */
  get blockingConnections(): number {
    if (this.#cluster !== null) return this.#cluster.blockingConnections;
    return this.#blockers.size;
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
      const selects = selectedDb(args);
      if (selects !== undefined) {
        // Remembered once the server has done it.
        p.transform = (v) => {
          if (v === (selects === 0 && args.length === 1 ? "RESET" : "OK")) {
            this.#db = selects;
          }
          return transform(v);
        };
      }
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
    if (this.#inflightHead >= this.#inflight.length) this.#updateRef();
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
    } else if (this.#state === "ready") {
      // No reconnecting: the client is done (rather than "ready" with no
      // connection, where the next command would wait forever).
      this.close();
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
    const cluster = this.#cluster;
    if (cluster !== null) {
      return new Pipeline((commands) => cluster.pipeline(commands));
    }
    return new Pipeline((commands) => {
      const send = (conn: Client) =>
        Promise.all(commands.map(([args, t]) => conn.#send(args, t, true)));
      // A pipeline holding a blocking command runs on a blocking connection.
      return !this.#dedicated && commands.some(([args]) => isBlocking(args))
        ? this.#blocking(send)
        : send(this);
    });
  }

  /** Starts a transaction: queue commands, then
   * {@linkcode ClientTransaction.exec} sends MULTI, them and EXEC in one write,
   * so no other call on this client can land inside it. */
  multi(): ClientTransaction {
    const cluster = this.#cluster;
    if (cluster !== null) {
      return new ClientTransaction(
        (commands) => cluster.exec(commands),
        () => null,
      );
    }
    return new ClientTransaction(
      (commands) => this.#exec(commands),
      () => this.#dedicated ? this.#send(["UNWATCH"], same, false) : null,
    );
  }

  async #exec(
    commands: [Arg[], Transform<unknown>][],
  ): Promise<unknown[] | null> {
    const sent: Promise<unknown>[] = [this.#send(["MULTI"], same, true)];
    for (const [args] of commands) sent.push(this.#send(args, same, true));
    sent.push(this.#send(["EXEC"], same, true));
    const replies = await Promise.all(sent);
    const queued = replies.slice(1, -1).find((r) => r instanceof ReplyError);
    const result = replies[replies.length - 1];
    if (result instanceof ReplyError) {
      if (queued !== undefined) {
        throw new ReplyError(
          `${result.message} (first queued error: ${
            (queued as ReplyError).message
          })`,
        );
      }
      throw result;
    }
    if (result === null) return null;
    // A SELECT that ran in the transaction changed the connection's database.
    (result as RespValue[]).forEach((r, i) => {
      const db = selectedDb(commands[i][0]);
      if (
        db !== undefined && r === (commands[i][0].length === 1 ? "RESET" : "OK")
      ) {
        this.#db = db;
      }
    });
    return (result as RespValue[]).map((r, i) => {
      if (r instanceof ReplyError) return r;
      try {
        return commands[i][1](r);
      } catch (e) {
        return e;
      }
    });
  }

  /** WATCH keys for the next transaction on this connection; only on a
   * dedicated connection ({@linkcode Client.isolated}), since calls
   * pipelined by other callers on a shared one could run a transaction
   * (which ends every WATCH) or change the keys in between. */
  watch(...keys: Key[]): Promise<string> {
    if (this.#cluster !== null) return clusterNeedsIsolated("WATCH");
    if (!this.#dedicated) {
      return Promise.reject(
        new Error(
          "WATCH needs a connection of its own: use client.isolated(async (c) => ...)",
        ),
      );
    }
    return this.#send(["WATCH", ...keys], text, false) as Promise<string>;
  }

  /** UNWATCH: forgets every watched key (dedicated connections only). */
  unwatch(): Promise<string> {
    if (this.#cluster !== null) return clusterNeedsIsolated("UNWATCH");
    if (!this.#dedicated) {
      return Promise.reject(
        new Error(
          "UNWATCH needs a connection of its own: use client.isolated(async (c) => ...)",
        ),
      );
    }
    return this.#send(["UNWATCH"], text, false) as Promise<string>;
  }

  /** Runs `fn` with a connection of its own (same options), closed when
   * `fn` settles: for WATCH / MULTI / EXEC (check-and-set) and anything
   * else that needs connection state no other caller may touch. Blocking
   * commands on it block it (and only it).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const done = await client.isolated(async (c) => {
   *   await c.watch("balance");
   *   const balance = Number(await c.get("balance"));
   *   return await c.multi().set("balance", balance - 10).exec(); // null if it changed
   * });
   * ```
   *
   * With a key first, in cluster mode, the connection is to the primary
   * serving that key's slot: WATCH and MULTI / EXEC on it work for keys of
   * that slot (hash tags put related keys in one: `{user1}:a`,
   * `{user1}:b`); a key of another slot gets the node's MOVED error. On one
   * server the key changes nothing.
   *
   * @example In cluster mode
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect({ cluster: [{ port: 7000 }] });
   * await client.isolated("{user1}:balance", async (c) => {
   *   await c.watch("{user1}:balance");
   *   const balance = Number(await c.get("{user1}:balance"));
   *   return await c.multi().set("{user1}:balance", balance - 10).exec();
   * });
   * ```
   */
  isolated<T>(fn: (connection: Client) => Promise<T> | T): Promise<T>;
  /** {@linkcode Client.isolated} on the node serving `key` (cluster mode). */
  isolated<T>(
    key: Key,
    fn: (connection: Client) => Promise<T> | T,
  ): Promise<T>;
  async isolated<T>(
    keyOrFn: Key | ((connection: Client) => Promise<T> | T),
    fn?: (connection: Client) => Promise<T> | T,
  ): Promise<T> {
    const run = typeof keyOrFn === "function" ? keyOrFn : fn!;
    const cluster = this.#cluster;
    if (cluster !== null) {
      if (typeof keyOrFn === "function") {
        throw new TypeError(
          "in cluster mode, isolated takes a key first: client.isolated(key, async (c) => ...) runs on the node of the key's slot",
        );
      }
      const node = await cluster.nodeFor(slotOfKeys([keyOrFn]));
      return await node.isolated(run);
    }
    const conn = await this.#child();
    try {
      return await run(conn);
    } finally {
      this.#children.delete(conn);
      conn.close();
    }
  }

  /** A local cache of GET replies kept fresh by the server's
   * invalidation messages (CLIENT TRACKING, RESP3), on a connection of its
   * own. Emptied whenever that connection drops, since invalidations may
   * have been missed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const cache = await client.localCache({ maxEntries: 1000 });
   * await cache.get("config"); // from the server
   * await cache.get("config"); // from memory, until someone changes it
   * ```
   */
  async localCache(options: { maxEntries?: number } = {}): Promise<LocalCache> {
    if (this.#cluster !== null) {
      throw new Error("localCache is not supported in cluster mode");
    }
    const conn = await this.#child({ resp: 3 });
    try {
      await conn.#send(["CLIENT", "TRACKING", "ON"], same, false);
    } catch (e) {
      this.#children.delete(conn);
      conn.close();
      throw e;
    }
    const cache = new LocalCache(
      options.maxEntries ?? 10_000,
      (key) => conn.#send(["GET", key], text, false),
      () => {
        this.#children.delete(conn);
        conn.close();
      },
    );
    conn.addEventListener("push", (e) => {
      const [kind, keys] = e.detail;
      if (kind !== "invalidate") return;
      cache.invalidate(Array.isArray(keys) ? keys.map(String) : null);
    });
    conn.addEventListener("close", () => cache.invalidate(null));
    conn.addEventListener("connect", () => {
      cache.invalidate(null);
      conn.#send(["CLIENT", "TRACKING", "ON"], same, false).catch(() => {});
    });
    return cache;
  }

  /** SUBSCRIBE: messages of these channels, as an async iterator or to
   * `listener`, from a connection the client manages (RESP3, opened on the
   * first subscription, subscribed again after a reconnect). Resolves once
   * the server has confirmed. Messages published while reconnecting are
   * lost, as with any Redis subscriber.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const sub = await client.subscribe("news");
   * for await (const { channel, message } of sub) console.log(channel, message);
   * ```
   */
  subscribe(
    channels: string | string[],
    listener?: (message: PubSubMessage) => void,
  ): Promise<Subscription> {
    return this.#subscribe("c", channels, listener);
  }

  /** PSUBSCRIBE: as {@linkcode Client.subscribe}, for glob-style patterns;
   * messages carry the `pattern` that matched. */
  psubscribe(
    patterns: string | string[],
    listener?: (message: PubSubMessage) => void,
  ): Promise<Subscription> {
    return this.#subscribe("p", patterns, listener);
  }

  /** SSUBSCRIBE: as {@linkcode Client.subscribe}, for shard channels. */
  ssubscribe(
    channels: string | string[],
    listener?: (message: PubSubMessage) => void,
  ): Promise<Subscription> {
    return this.#subscribe("s", channels, listener);
  }

  async #subscribe(
    kind: "c" | "p" | "s",
    names: string | string[],
    listener?: (message: PubSubMessage) => void,
  ): Promise<Subscription> {
    const list = typeof names === "string" ? [names] : [...names];
    if (list.length === 0) throw new Error("subscribe to at least one name");
    if (this.#cluster !== null) {
      return await this.#cluster.subscribe(kind, list, listener);
    }
    let conn = await this.#subscriberConnection();
    if (conn.#isClosed()) {
      // It gave up reconnecting: open another and subscribe it again.
      this.#children.delete(conn);
      if (this.#subscriber !== null && (await this.#subscriber) === conn) {
        this.#subscriber = null;
      }
      conn = await this.#subscriberConnection();
      this.#resubscribe(conn);
    }
    const sub = new Subscription(
      kind,
      list,
      listener,
      (s) => this.#unsubscribe(s),
    );
    const fresh: string[] = [];
    for (const name of list) {
      const key = kind + name;
      let set = this.#subscriptions.get(key);
      if (set === undefined) {
        this.#subscriptions.set(key, set = new Set());
        fresh.push(name);
      }
      set.add(sub);
    }
    if (fresh.length > 0) conn.#post([SUBSCRIBE[kind], ...fresh]);
    // Replied after the server has handled every SUBSCRIBE sent so far
    // (this call's or a concurrent one's for the same names).
    await conn.#send(["PING"], same, false);
    return sub;
  }

  async #unsubscribe(sub: Subscription): Promise<void> {
    const gone: string[] = [];
    for (const name of sub.names) {
      const key = sub.kind + name;
      const set = this.#subscriptions.get(key);
      if (set === undefined || !set.delete(sub)) continue;
      if (set.size === 0) {
        this.#subscriptions.delete(key);
        gone.push(name);
      }
    }
    const pending = this.#subscriber;
    if (gone.length === 0 || pending === null) return;
    const conn = await pending;
    if (conn.#state !== "ready") return;
    conn.#post([UNSUBSCRIBE[sub.kind], ...gone]);
    await conn.#send(["PING"], same, false).catch(() => {});
  }

  #subscriberConnection(): Promise<Client> {
    if (this.#subscriber === null) {
      const opening = this.#child({ resp: 3 }).then((conn) => {
        conn.#alwaysRef = true;
        conn.#updateRef();
        conn.addEventListener("push", (e) => this.#onMessage(e.detail));
        conn.addEventListener("connect", () => this.#resubscribe(conn));
        conn.addEventListener("error", (e) => this.#emit("error", e.detail));
        return conn;
      });
      this.#subscriber = opening;
      opening.catch(() => {
        if (this.#subscriber === opening) this.#subscriber = null;
      });
    }
    return this.#subscriber;
  }

  /** After a reconnect: subscribe again to everything still wanted. */
  #resubscribe(conn: Client): void {
    const byKind: Record<string, string[]> = { c: [], p: [], s: [] };
    for (const key of this.#subscriptions.keys()) {
      byKind[key[0]].push(key.slice(1));
    }
    for (const kind of ["c", "p", "s"] as const) {
      if (byKind[kind].length > 0) {
        conn.#post([SUBSCRIBE[kind], ...byKind[kind]]);
      }
    }
  }

  #onMessage(data: RespValue[]): void {
    const kind = data[0];
    let message: PubSubMessage;
    let key: string;
    if (kind === "message" || kind === "smessage") {
      message = { channel: String(data[1]), message: String(data[2]) };
      key = (kind === "message" ? "c" : "s") + message.channel;
    } else if (kind === "pmessage") {
      message = {
        pattern: String(data[1]),
        channel: String(data[2]),
        message: String(data[3]),
      };
      key = "p" + message.pattern;
    } else return;
    const set = this.#subscriptions.get(key);
    if (set === undefined) return;
    for (const sub of set) {
      try {
        sub.deliver(message);
      } catch (e) {
        // A listener threw: report it, keep delivering.
        this.#emit("error", e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  /** Writes a command whose replies arrive as push messages (SUBSCRIBE
   * and friends in RESP3); skipped while disconnected, since the
   * subscriptions are sent again on connect. */
  #post(args: Arg[]): void {
    if (this.#state !== "ready") return;
    this.#outbox.push(encodeCommand(args));
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  /** FLUSH: empties the database and resolves to how many keys it removed.
   * On servers without FLUSH (Redis), the same is done atomically with a
   * script. */
  async flush(): Promise<number> {
    if (this.#cluster !== null) {
      // Every primary's keys.
      const counts = await Promise.all(
        (await this.#cluster.primaryNodes()).map((node) => node.flush()),
      );
      return counts.reduce((a, b) => a + b, 0);
    }
    if (!this.#flushFallback) {
      try {
        return await call(this, ["FLUSH"], num);
      } catch (e) {
        if (!(e instanceof ReplyError && /unknown command/.test(e.message))) {
          throw e;
        }
        this.#flushFallback = true;
      }
    }
    return await call(this, [
      "EVAL",
      "local n = redis.call('DBSIZE') redis.call('FLUSHDB') return n",
      0,
    ], num);
  }

  /** Defines a Lua script to call like a function: each call runs EVALSHA
   * and, when the server does not have the script (a NOSCRIPT error: after
   * SCRIPT FLUSH, a restart, or on another server), runs it with EVAL,
   * which also caches it again. This fallback lives here only:
   * {@linkcode Client.evalsha} alone rejects with NOSCRIPT.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const swap = client.defineScript<string | null>(
   *   "return redis.call('SET', KEYS[1], ARGV[1], 'GET')",
   *   { numberOfKeys: 1 },
   * );
   * await swap(["k"], ["new"]); // the old value, or null
   * ```
   */
  defineScript<T = ScriptReply>(
    lua: string,
    options: DefineScriptOptions = {},
  ): DefinedScript<T> {
    const { numberOfKeys, readOnly = false } = options;
    let sha: Promise<string> | undefined;
    const digest = () => sha ??= sha1Hex(lua);
    const run = async (keys: Key[] = [], args: Value[] = []): Promise<T> => {
      if (numberOfKeys !== undefined && keys.length !== numberOfKeys) {
        throw new RangeError(
          `the script takes ${numberOfKeys} keys, got ${keys.length}`,
        );
      }
      const hash = await digest();
      try {
        return await (readOnly
          ? this.evalshaRo<T>(hash, keys, args)
          : this.evalsha<T>(hash, keys, args));
      } catch (e) {
        if (!(e instanceof ReplyError && e.code === "NOSCRIPT")) throw e;
      }
      return await (readOnly
        ? this.evalRo<T>(lua, keys, args)
        : this.eval<T>(lua, keys, args));
    };
    return Object.assign(run, { lua, sha: digest });
  }

  /** Iterates keys with SCAN, a page at a time; never loads the whole
   * keyspace. Redis (not @kv/store) may yield a key more than once. In
   * cluster mode it scans every primary in turn (a SCAN cursor is one
   * node's): a slot moved meanwhile may give its keys twice or not at
   * all. */
  async *scanIterator(
    match?: string,
    options: Omit<ScanOptions, "match"> = {},
  ): AsyncIterableIterator<string> {
    if (this.#cluster !== null) {
      for (const node of await this.#cluster.primaryNodes()) {
        yield* node.scanIterator(match, options);
      }
      return;
    }
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
    if (this.#cluster !== null) {
      throw new Error(
        "SHUTDOWN in cluster mode: call it on a node of client.nodes()",
      );
    }
    const closed = new Promise<void>((resolve) =>
      this.addEventListener("close", () => resolve(), { once: true })
    );
    this.#send(mode ? ["SHUTDOWN", mode] : ["SHUTDOWN"], same, false).catch(
      () => {},
    );
    await closed;
    this.close();
  }

  /** The connections to a cluster's primaries (cluster mode; the slot map
   * is read again first), for what goes to every node or to one on
   * purpose: FLUSHALL, DBSIZE, KEYS, SCRIPT LOAD, FUNCTION LOAD, INFO.
   * They belong to this client: closed with it, not by you. On one server,
   * `[this]`.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect({ cluster: [{ port: 7000 }] });
   * let keys = 0;
   * for (const node of await client.nodes()) keys += await node.dbsize();
   * ```
   */
  async nodes(): Promise<Client[]> {
    if (this.#cluster === null) return [this];
    return await this.#cluster.primaryNodes();
  }

  /** QUIT: asks the server to close the connection, then closes. */
  async quit(): Promise<void> {
    await call(this, ["QUIT"], same).catch(() => {});
    this.close();
  }

  /** Closes the connection; pending commands fail with ConnectionError. */
  close(): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#cluster?.close();
    for (const child of this.#children) child.close();
    this.#children.clear();
    this.#idleBlocking = [];
    this.#blockers.clear();
    this.#subscriber = null;
    const subs = new Set<Subscription>();
    for (const set of this.#subscriptions.values()) {
      for (const sub of set) subs.add(sub);
    }
    this.#subscriptions.clear();
    for (const sub of subs) sub.end();
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

  /** Sends (or queues) one command; implemented by Client and Pipeline. */

  /** Runs any command; bulk strings in the reply come back as text. */
  execute<S extends Queue = Client>(
    this: S,
    ...args: Arg[]
  ): Reply<S, RespValue> {
    return call(this, args, replyToText);
  }

  /** Runs any command; bulk strings in the reply stay bytes. */
  executeBytes<S extends Queue = Client>(
    this: S,
    ...args: Arg[]
  ): Reply<S, RespValue> {
    return call(this, args, same);
  }

  // --- strings -----------------------------------------------------------

  /** GET: the value as text, or null. */
  get<S extends Queue = Client>(this: S, key: Key): Reply<S, string | null> {
    return call(this, ["GET", key], text);
  }

  /** GET as raw bytes, or null. */
  getBytes<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, Uint8Array | null> {
    return call(this, ["GET", key], bytes);
  }

  /** SET with EX/PX/EXAT/PXAT, NX/XX, KEEPTTL and GET. Resolves to "OK",
   * or null when NX/XX prevented it; with `get`, to the old value. */
  set<S extends Queue = Client>(
    this: S,
    key: Key,
    value: Value,
    options: SetCommandOptions = {},
  ): Reply<S, string | null> {
    const args: Arg[] = ["SET", key, value, ...expireArgs(options)];
    if (options.nx) args.push("NX");
    if (options.xx) args.push("XX");
    if (options.keepTtl) args.push("KEEPTTL");
    if (options.get) args.push("GET");
    return call(this, args, text);
  }

  /** SETNX: true when the key was set. */
  setnx<S extends Queue = Client>(
    this: S,
    key: Key,
    value: Value,
  ): Reply<S, boolean> {
    return call(this, ["SETNX", key, value], bool);
  }

  /** SETEX: set with a TTL in seconds. */
  setex<S extends Queue = Client>(
    this: S,
    key: Key,
    seconds: number,
    value: Value,
  ): Reply<S, string> {
    return call(this, ["SETEX", key, seconds, value], (v) => text(v)!);
  }

  /** PSETEX: set with a TTL in milliseconds. */
  psetex<S extends Queue = Client>(
    this: S,
    key: Key,
    ms: number,
    value: Value,
  ): Reply<S, string> {
    return call(this, ["PSETEX", key, ms, value], (v) => text(v)!);
  }

  /** GETSET: set, returning the old value. */
  getset<S extends Queue = Client>(
    this: S,
    key: Key,
    value: Value,
  ): Reply<S, string | null> {
    return call(this, ["GETSET", key, value], text);
  }

  /** GETDEL: get and delete. */
  getdel<S extends Queue = Client>(this: S, key: Key): Reply<S, string | null> {
    return call(this, ["GETDEL", key], text);
  }

  /** GETEX: get, and change or remove the TTL. */
  getex<S extends Queue = Client>(
    this: S,
    key: Key,
    options: GetExOptions = {},
  ): Reply<S, string | null> {
    const args: Arg[] = ["GETEX", key, ...expireArgs(options)];
    if (options.persist) args.push("PERSIST");
    return call(this, args, text);
  }

  /** MGET: values in order, null for missing keys. */
  mget<S extends Queue = Client>(
    this: S,
    ...keys: Key[]
  ): Reply<S, (string | null)[]> {
    return call(this, ["MGET", ...keys], texts);
  }

  /** MSET from a record or from key, value, key, value... */
  mset<S extends Queue = Client>(
    this: S,
    ...pairs: [Record<string, Value>] | Value[]
  ): Reply<S, string> {
    return call(this, ["MSET", ...flattenPairs(pairs)], (v) => text(v)!);
  }

  /** MSETNX: set all or none; true when set. */
  msetnx<S extends Queue = Client>(
    this: S,
    ...pairs: [Record<string, Value>] | Value[]
  ): Reply<S, boolean> {
    return call(this, ["MSETNX", ...flattenPairs(pairs)], bool);
  }

  /** APPEND: the new length. */
  append<S extends Queue = Client>(
    this: S,
    key: Key,
    value: Value,
  ): Reply<S, number> {
    return call(this, ["APPEND", key, value], num);
  }

  /** STRLEN: the value's length in bytes. */
  strlen<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["STRLEN", key], num);
  }

  /** GETRANGE: a substring by byte offsets (inclusive; negative from the
   * end). */
  getrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    end: number,
  ): Reply<S, string> {
    return call(this, ["GETRANGE", key, start, end], (v) => text(v)!);
  }

  /** SETRANGE: overwrite from an offset; the new length. */
  setrange<S extends Queue = Client>(
    this: S,
    key: Key,
    offset: number,
    value: Value,
  ): Reply<S, number> {
    return call(this, ["SETRANGE", key, offset, value], num);
  }

  /** INCR: the new value. */
  incr<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["INCR", key], num);
  }

  /** INCRBY: the new value. */
  incrby<S extends Queue = Client>(
    this: S,
    key: Key,
    by: number,
  ): Reply<S, number> {
    return call(this, ["INCRBY", key, by], num);
  }

  /** DECR: the new value. */
  decr<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["DECR", key], num);
  }

  /** DECRBY: the new value. */
  decrby<S extends Queue = Client>(
    this: S,
    key: Key,
    by: number,
  ): Reply<S, number> {
    return call(this, ["DECRBY", key, by], num);
  }

  /** INCRBYFLOAT: the new value, as Redis formats it. */
  incrbyfloat<S extends Queue = Client>(
    this: S,
    key: Key,
    by: number | string,
  ): Reply<S, string> {
    return call(this, ["INCRBYFLOAT", key, by], (v) => text(v)!);
  }

  // --- keys --------------------------------------------------------------

  /** Deletes keys; how many existed. (DEL, which @kv/store also calls
   * DELETE.) */
  delete<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, number> {
    return call(this, ["DEL", ...keys], num);
  }

  /** DEL: how many keys existed. */
  del<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, number> {
    return call(this, ["DEL", ...keys], num);
  }

  /** UNLINK: how many keys existed. */
  unlink<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, number> {
    return call(this, ["UNLINK", ...keys], num);
  }

  /** EXISTS: how many of the keys exist (repeats count). */
  exists<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, number> {
    return call(this, ["EXISTS", ...keys], num);
  }

  /** EXPIRE in seconds; true when the TTL was set. */
  expire<S extends Queue = Client>(
    this: S,
    key: Key,
    seconds: number,
    condition?: ExpireCondition,
  ): Reply<S, boolean> {
    return call(this, [
      "EXPIRE",
      key,
      seconds,
      ...(condition ? [condition] : []),
    ], bool);
  }

  /** PEXPIRE in milliseconds; true when the TTL was set. */
  pexpire<S extends Queue = Client>(
    this: S,
    key: Key,
    ms: number,
    condition?: ExpireCondition,
  ): Reply<S, boolean> {
    return call(
      this,
      ["PEXPIRE", key, ms, ...(condition ? [condition] : [])],
      bool,
    );
  }

  /** EXPIREAT a unix time in seconds (or a Date). */
  expireat<S extends Queue = Client>(
    this: S,
    key: Key,
    at: number | Date,
    condition?: ExpireCondition,
  ): Reply<S, boolean> {
    const t = at instanceof Date ? Math.floor(at.getTime() / 1000) : at;
    return call(
      this,
      ["EXPIREAT", key, t, ...(condition ? [condition] : [])],
      bool,
    );
  }

  /** PEXPIREAT a unix time in milliseconds (or a Date). */
  pexpireat<S extends Queue = Client>(
    this: S,
    key: Key,
    at: number | Date,
    condition?: ExpireCondition,
  ): Reply<S, boolean> {
    const t = at instanceof Date ? at.getTime() : at;
    return call(
      this,
      ["PEXPIREAT", key, t, ...(condition ? [condition] : [])],
      bool,
    );
  }

  /** TTL in seconds; -1 without a TTL, -2 when the key is missing. */
  ttl<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["TTL", key], num);
  }

  /** PTTL in milliseconds; -1 without a TTL, -2 when missing. */
  pttl<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["PTTL", key], num);
  }

  /** EXPIRETIME: unix seconds; -1 without a TTL, -2 when missing. */
  expiretime<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["EXPIRETIME", key], num);
  }

  /** PEXPIRETIME: unix milliseconds; -1 without a TTL, -2 when missing. */
  pexpiretime<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["PEXPIRETIME", key], num);
  }

  /** PERSIST: true when a TTL was removed. */
  persist<S extends Queue = Client>(this: S, key: Key): Reply<S, boolean> {
    return call(this, ["PERSIST", key], bool);
  }

  /** TYPE: `string`, ..., or `none`. */
  type<S extends Queue = Client>(this: S, key: Key): Reply<S, string> {
    return call(this, ["TYPE", key], (v) => text(v)!);
  }

  /** RENAME (fails when the key is missing). */
  rename<S extends Queue = Client>(
    this: S,
    key: Key,
    to: Key,
  ): Reply<S, string> {
    return call(this, ["RENAME", key, to], (v) => text(v)!);
  }

  /** RENAMENX: true when renamed. */
  renamenx<S extends Queue = Client>(
    this: S,
    key: Key,
    to: Key,
  ): Reply<S, boolean> {
    return call(this, ["RENAMENX", key, to], bool);
  }

  /** RANDOMKEY, or null when empty. */
  randomkey<S extends Queue = Client>(this: S): Reply<S, string | null> {
    return call(this, ["RANDOMKEY"], text);
  }

  /** TOUCH: how many keys exist. */
  touch<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, number> {
    return call(this, ["TOUCH", ...keys], num);
  }

  /** COPY: true when copied; `db` copies into another database,
   * `replace` overwrites an existing `to`. */
  copy<S extends Queue = Client>(
    this: S,
    from: Key,
    to: Key,
    options: { db?: number; replace?: boolean } = {},
  ): Reply<S, boolean> {
    return call(this, [
      "COPY",
      from,
      to,
      ...(options.db !== undefined ? ["DB", options.db] : []),
      ...(options.replace ? ["REPLACE"] : []),
    ], bool);
  }

  /** MOVE: moves the key to database `db`; false when it does not exist
   * here or already exists there.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using client = await Client.connect();
   * await client.set("job", "1");
   * await client.move("job", 1); // true: now in database 1 only
   * ```
   */
  move<S extends Queue = Client>(
    this: S,
    key: Key,
    db: number,
  ): Reply<S, boolean> {
    return call(this, ["MOVE", key, db], bool);
  }
  /** DUMP: the key's value serialized as Redis does (bytes for
   * {@linkcode Client.restore}), or null when the key does not exist.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using client = await Client.connect();
   * await client.rpush("list", "a", "b");
   * const payload = await client.dump("list");
   * await client.restore("copy", 0, payload!); // "OK"
   * ```
   */
  dump<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, Uint8Array | null> {
    return call(this, ["DUMP", key], bytes);
  }

  /** RESTORE: creates `key` from a {@linkcode Client.dump} payload (of this
   * server or of Redis), with `ttl` ms to live (0: no expiry; with
   * `absttl`, a time in ms since the epoch). `replace` overwrites an
   * existing key (else a BUSYKEY error); `idletime` (seconds) and `freq`
   * set the access data an LRU / LFU policy reads.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using client = await Client.connect();
   * await client.set("k", "v");
   * const payload = await client.dump("k");
   * await client.restore("k", 60_000, payload!, { replace: true }); // "OK"
   * ```
   */
  restore<S extends Queue = Client>(
    this: S,
    key: Key,
    ttl: number,
    payload: Uint8Array,
    options: {
      replace?: boolean;
      absttl?: boolean;
      idletime?: number;
      freq?: number;
    } = {},
  ): Reply<S, string> {
    const args: Arg[] = ["RESTORE", key, ttl, payload];
    if (options.replace) args.push("REPLACE");
    if (options.absttl) args.push("ABSTTL");
    if (options.idletime !== undefined) args.push("IDLETIME", options.idletime);
    if (options.freq !== undefined) args.push("FREQ", options.freq);
    return call(this, args, str);
  }

  /** RESTORE-ASKING: {@linkcode Client.restore} as a Redis Cluster node
   * sends it while migrating a slot (accepted for a slot being imported);
   * the same as RESTORE on a standalone server. */
  restoreAsking<S extends Queue = Client>(
    this: S,
    key: Key,
    ttl: number,
    payload: Uint8Array,
    options: { replace?: boolean; absttl?: boolean } = {},
  ): Reply<S, string> {
    const args: Arg[] = ["RESTORE-ASKING", key, ttl, payload];
    if (options.replace) args.push("REPLACE");
    if (options.absttl) args.push("ABSTTL");
    return call(this, args, str);
  }

  /** MIGRATE: moves `keys` (one key, or several in one pipeline) to
   * database `db` of the server at host:port, the server acting as its
   * client (RESTORE there, then deleted here unless `copy`). "OK", or
   * "NOKEY" when none of the keys exists; `timeout` (ms) bounds each
   * step of the transfer (an IOERR error when one takes longer).
   * `replace` overwrites keys the target has (else its BUSYKEY error
   * comes back); `auth` / `auth2` log in to the target first.
   *
   * @example
   * ```ts ignore
   * import { Client } from "@kv/store";
   * await using client = await Client.connect();
   * await client.set("a", "1");
   * await client.migrate("127.0.0.1", 6380, ["a", "b"], 0, 5000, {
   *   copy: true,
   * }); // "OK"
   * ```
   */
  migrate<S extends Queue = Client>(
    this: S,
    host: string,
    port: number,
    keys: Key | Key[],
    db: number,
    timeout: number,
    options: {
      copy?: boolean;
      replace?: boolean;
      auth?: string;
      auth2?: { username: string; password: string };
    } = {},
  ): Reply<S, string> {
    const many = Array.isArray(keys);
    const args: Arg[] = ["MIGRATE", host, port, many ? "" : keys, db, timeout];
    if (options.copy) args.push("COPY");
    if (options.replace) args.push("REPLACE");
    if (options.auth !== undefined) args.push("AUTH", options.auth);
    if (options.auth2 !== undefined) {
      args.push("AUTH2", options.auth2.username, options.auth2.password);
    }
    if (many) args.push("KEYS", ...keys);
    return call(this, args, str);
  }

  /** SWAPDB: exchanges the contents of two databases (for every client;
   * clients stay on their database number). */
  swapdb<S extends Queue = Client>(
    this: S,
    index1: number,
    index2: number,
  ): Reply<S, string> {
    return call(this, ["SWAPDB", index1, index2], (v) => text(v)!);
  }

  /** KEYS matching a glob pattern (prefer {@linkcode Client.scanIterator}
   * on big keyspaces). */
  keys<S extends Queue = Client>(this: S, pattern = "*"): Reply<S, string[]> {
    return call(this, ["KEYS", pattern], keyList);
  }

  /** One SCAN step. */
  scan<S extends Queue = Client>(
    this: S,
    cursor: string | number,
    options: ScanOptions = {},
  ): Reply<S, ScanPage> {
    const args: Arg[] = ["SCAN", cursor];
    if (options.match !== undefined) args.push("MATCH", options.match);
    if (options.count !== undefined) args.push("COUNT", options.count);
    if (options.type !== undefined) args.push("TYPE", options.type);
    return call(this, args, (v) => {
      const [next, keys] = v as [RespValue, RespValue];
      return { cursor: text(next)!, keys: keyList(keys) };
    });
  }

  /** DBSIZE: the number of keys. */
  dbsize<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["DBSIZE"], num);
  }

  /** FLUSHDB: empties the selected database. */
  flushdb<S extends Queue = Client>(
    this: S,
    mode?: "ASYNC" | "SYNC",
  ): Reply<S, string> {
    return call(this, ["FLUSHDB", ...(mode ? [mode] : [])], (v) => text(v)!);
  }

  /** FLUSHALL: empties every database. */
  flushall<S extends Queue = Client>(
    this: S,
    mode?: "ASYNC" | "SYNC",
  ): Reply<S, string> {
    return call(this, ["FLUSHALL", ...(mode ? [mode] : [])], (v) => text(v)!);
  }

  // --- server and connection ---------------------------------------------

  /** PING: "PONG", or the message echoed. */
  ping<S extends Queue = Client>(this: S, message?: string): Reply<S, string> {
    return call(
      this,
      message === undefined ? ["PING"] : ["PING", message],
      (v) => text(v)!,
    );
  }

  /** ECHO. */
  echo<S extends Queue = Client>(this: S, message: Value): Reply<S, string> {
    return call(this, ["ECHO", message], (v) => text(v)!);
  }

  /** INFO, optionally of some sections, as text. */
  info<S extends Queue = Client>(
    this: S,
    ...sections: string[]
  ): Reply<S, string> {
    return call(this, ["INFO", ...sections], (v) => text(v)!);
  }

  /** TIME as Redis sends it, in whole units: `[seconds, microseconds]`
   * (unix time, and microseconds into that second). For a Date:
   * `new Date(seconds * 1000 + Math.floor(microseconds / 1000))`. */
  time<S extends Queue = Client>(
    this: S,
  ): Reply<S, [seconds: number, microseconds: number]> {
    return call(this, ["TIME"], (v) => {
      const [s, us] = (v as RespValue[]).map(num);
      return [s, us] as [number, number];
    });
  }

  /** CONFIG GET: matching settings as a record. */
  configGet<S extends Queue = Client>(
    this: S,
    ...patterns: string[]
  ): Reply<S, Record<string, string>> {
    return call(this, ["CONFIG", "GET", ...patterns], pairsToRecord);
  }

  /** CONFIG SET one or more settings. */
  configSet<S extends Queue = Client>(
    this: S,
    settings: Record<string, string | number>,
  ): Reply<S, string> {
    const args: Arg[] = ["CONFIG", "SET"];
    for (const [k, v] of Object.entries(settings)) args.push(k, v);
    return call(this, args, (v) => text(v)!);
  }

  /** CLIENT ID of this connection. */
  clientId<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["CLIENT", "ID"], num);
  }

  /** CLIENT GETNAME, or null. */
  clientGetname<S extends Queue = Client>(this: S): Reply<S, string | null> {
    return call(this, ["CLIENT", "GETNAME"], text);
  }

  /** CLIENT SETNAME (kept across reconnects only if given at connect). */
  clientSetname<S extends Queue = Client>(
    this: S,
    name: string,
  ): Reply<S, string> {
    return call(this, ["CLIENT", "SETNAME", name], (v) => text(v)!);
  }

  /** CLIENT LIST as text, one client per line. */
  clientList<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["CLIENT", "LIST"], (v) => text(v)!);
  }

  /** CLIENT INFO: this connection's line of CLIENT LIST. */
  clientInfo<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["CLIENT", "INFO"], (v) => text(v)!);
  }

  /** CLIENT KILL with filters, e.g. `{ ID: 12 }` or `{ ADDR: "127.0.0.1:5000" }`;
   * how many clients were closed. */
  clientKill<S extends Queue = Client>(
    this: S,
    filters: Record<string, string | number>,
  ): Reply<S, number> {
    const args: Arg[] = ["CLIENT", "KILL"];
    for (const [k, v] of Object.entries(filters)) args.push(k, v);
    return call(this, args, num);
  }

  /** CLIENT SETINFO LIB-NAME or LIB-VER. */
  clientSetInfo<S extends Queue = Client>(
    this: S,
    attribute: "LIB-NAME" | "LIB-VER",
    value: string,
  ): Reply<S, string> {
    return call(this, ["CLIENT", "SETINFO", attribute, value], (v) => text(v)!);
  }

  /** SELECT a numbered database for this connection's later commands.
   * Once the server has done it the client remembers it
   * ({@linkcode Client.db}): reconnects and the connections the client
   * opens for blocking commands, {@linkcode Client.isolated} and
   * subscriptions select it too. In a pipeline it changes the database of
   * the commands after it (and of later calls, since the pipeline runs on
   * the client's connection), as the server does; a pipeline holding a
   * blocking command runs on a connection of its own, so there it changes
   * that batch only. In a transaction it changes the database of the
   * commands after it inside the transaction, and of later calls once EXEC
   * has run it (not when the transaction was aborted). On the connection
   * of {@linkcode Client.isolated} it changes that connection only; a
   * {@linkcode Client.localCache} keeps reading the database it was made
   * in.
   * Rejects with `ERR DB index is out of range` for a database the server
   * does not have (the client stays where it was).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * await using client = await Client.connect();
   * await client.select(5);
   * await client.set("k", "in 5");
   * const [, value] = await client.pipeline().select(0).get("k").exec();
   * console.log(value); // null: database 0 (and the client is in 0 now)
   * ```
   */
  select<S extends Queue = Client>(this: S, db: number): Reply<S, string> {
    return call(this, ["SELECT", db], (v) => text(v)!);
  }

  /** AUTH on this connection (prefer the `password` option, which is
   * repeated after reconnects). */
  auth<S extends Queue = Client>(
    this: S,
    password: string,
    username?: string,
  ): Reply<S, string> {
    return call(
      this,
      username === undefined
        ? ["AUTH", password]
        : ["AUTH", username, password],
      (v) => text(v)!,
    );
  }

  /** HELLO: the server's handshake map (switching protocol here is not
   * tracked by the client; prefer the `resp` option). */
  hello<S extends Queue = Client>(this: S): Reply<S, Record<string, unknown>> {
    return call(this, ["HELLO"], (v) => {
      const out: Record<string, unknown> = {};
      const entries = v instanceof Map ? [...v] : pairUp(v as RespValue[]);
      for (const [k, e] of entries) out[text(k)!] = replyToText(e);
      return out;
    });
  }

  /** COMMAND COUNT. */
  commandCount<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["COMMAND", "COUNT"], num);
  }

  /** COMMAND LIST: every command name. */
  commandList<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["COMMAND", "LIST"], keyList);
  }

  /** COMMAND INFO for some commands (raw entries, text). */
  commandInfo<S extends Queue = Client>(
    this: S,
    ...names: string[]
  ): Reply<S, RespValue> {
    return call(this, ["COMMAND", "INFO", ...names], replyToText);
  }

  /** COMMAND DOCS for some commands (raw map, text). */
  commandDocs<S extends Queue = Client>(
    this: S,
    ...names: string[]
  ): Reply<S, RespValue> {
    return call(this, ["COMMAND", "DOCS", ...names], replyToText);
  }

  /** CONFIG RESETSTAT. */
  configResetstat<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["CONFIG", "RESETSTAT"], (v) => text(v)!);
  }

  /** SUBSTR: the old name of GETRANGE. */
  substr<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    end: number,
  ): Reply<S, string> {
    return call(this, ["SUBSTR", key, start, end], (v) => text(v)!);
  }

  /** SAVE: a blocking snapshot. */
  save<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["SAVE"], (v) => text(v)!);
  }

  /** BGSAVE: a background snapshot. */
  bgsave<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["BGSAVE"], (v) => text(v)!);
  }

  /** REPLICAOF host port: the server follows that primary (its data is
   * replaced by the primary's); `replicaof("NO", "ONE")` makes it a
   * primary again, keeping the data. */
  replicaof<S extends Queue = Client>(
    this: S,
    host: string,
    port: number | string,
  ): Reply<S, string> {
    return call(this, ["REPLICAOF", host, port], (v) => text(v)!);
  }

  /** SLAVEOF: Redis's older name of {@linkcode Client.replicaof}. */
  slaveof<S extends Queue = Client>(
    this: S,
    host: string,
    port: number | string,
  ): Reply<S, string> {
    return call(this, ["SLAVEOF", host, port], (v) => text(v)!);
  }

  /** ROLE: `["master", offset, [[ip, port, offset], ...]]` on a primary,
   * `["slave", host, port, state, offset]` on a replica, as Redis. */
  role<S extends Queue = Client>(
    this: S,
  ): Reply<S, (string | number | string[][])[]> {
    return call(
      this,
      ["ROLE"],
      (v) =>
        (v as RespValue[]).map((e) =>
          typeof e === "number"
            ? e
            : Array.isArray(e)
            ? e.map((r) => texts(r) as string[])
            : text(e)!
        ),
    );
  }

  /** LASTSAVE: unix time in seconds of the last successful save. */
  lastsave<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["LASTSAVE"], num);
  }

  // --- hashes ------------------------------------------------------------

  /** HSET from a record or from field, value, field, value...; how many
   * fields were new.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hset("user:1", { name: "Ada", born: 1815 }); // 2
   * ```
   */
  hset<S extends Queue = Client>(
    this: S,
    key: Key,
    ...pairs: [FieldValues] | Value[]
  ): Reply<S, number> {
    return call(this, ["HSET", key, ...fieldArgs(pairs)], num);
  }

  /** HSETNX: true when the field was new and got set.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hsetnx("user:1", "name", "Ada"); // false if it had a name
   * ```
   */
  hsetnx<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
    value: Value,
  ): Reply<S, boolean> {
    return call(this, ["HSETNX", key, field, value], bool);
  }

  /** HMSET (the old HSET): "OK".
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hmset("user:1", "name", "Ada", "born", 1815); // "OK"
   * ```
   */
  hmset<S extends Queue = Client>(
    this: S,
    key: Key,
    ...pairs: [FieldValues] | Value[]
  ): Reply<S, string> {
    return call(this, ["HMSET", key, ...fieldArgs(pairs)], str);
  }

  /** HGET: the field's value as text, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hget("user:1", "name"); // "Ada"
   * ```
   */
  hget<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
  ): Reply<S, string | null> {
    return call(this, ["HGET", key, field], text);
  }

  /** HGET as raw bytes, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hgetBytes("files", "logo.png"); // Uint8Array
   * ```
   */
  hgetBytes<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
  ): Reply<S, Uint8Array | null> {
    return call(this, ["HGET", key, field], bytes);
  }

  /** HMGET: values in order, null for missing fields.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hmget("user:1", "name", "email"); // ["Ada", null]
   * ```
   */
  hmget<S extends Queue = Client>(
    this: S,
    key: Key,
    ...fields: Value[]
  ): Reply<S, (string | null)[]> {
    return call(this, ["HMGET", key, ...fields], texts);
  }

  /** HGETALL as a record (empty for a missing key).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hgetall("user:1"); // { name: "Ada", born: "1815" }
   * ```
   */
  hgetall<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, Record<string, string>> {
    return call(this, ["HGETALL", key], fieldRecord);
  }

  /** HDEL: how many fields were removed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hdel("user:1", "born", "email"); // 1
   * ```
   */
  hdel<S extends Queue = Client>(
    this: S,
    key: Key,
    ...fields: Value[]
  ): Reply<S, number> {
    return call(this, ["HDEL", key, ...fields], num);
  }

  /** HEXISTS: true when the field exists.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hexists("user:1", "name"); // true
   * ```
   */
  hexists<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
  ): Reply<S, boolean> {
    return call(this, ["HEXISTS", key, field], bool);
  }

  /** HLEN: the number of fields.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hlen("user:1"); // 2
   * ```
   */
  hlen<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["HLEN", key], num);
  }

  /** HSTRLEN: the value's length in bytes (0 when missing).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hstrlen("user:1", "name"); // 3
   * ```
   */
  hstrlen<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
  ): Reply<S, number> {
    return call(this, ["HSTRLEN", key, field], num);
  }

  /** HKEYS: the field names.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hkeys("user:1"); // ["name", "born"]
   * ```
   */
  hkeys<S extends Queue = Client>(this: S, key: Key): Reply<S, string[]> {
    return call(this, ["HKEYS", key], strings);
  }

  /** HVALS: the values.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hvals("user:1"); // ["Ada", "1815"]
   * ```
   */
  hvals<S extends Queue = Client>(this: S, key: Key): Reply<S, string[]> {
    return call(this, ["HVALS", key], strings);
  }

  /** HINCRBY: the field's new value.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hincrby("stats", "visits", 1); // 1
   * ```
   */
  hincrby<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
    by: number,
  ): Reply<S, number> {
    return call(this, ["HINCRBY", key, field, by], num);
  }

  /** HINCRBYFLOAT: the field's new value, as Redis formats it.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hincrbyfloat("stats", "load", 0.5); // "0.5"
   * ```
   */
  hincrbyfloat<S extends Queue = Client>(
    this: S,
    key: Key,
    field: Value,
    by: number | string,
  ): Reply<S, string> {
    return call(this, ["HINCRBYFLOAT", key, field, by], str);
  }

  /** HRANDFIELD: one random field (or null); with `count`, that many
   * (negative: may repeat); with `withValues`, field-value pairs.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.hrandfield("user:1"); // "name"
   * await client.hrandfield("user:1", 2); // ["born", "name"]
   * await client.hrandfield("user:1", 1, { withValues: true }); // [["name", "Ada"]]
   * ```
   */
  hrandfield<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, string | null>;
  /** HRANDFIELD with a count: field names. */
  hrandfield<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
  ): Reply<S, string[]>;
  /** HRANDFIELD with a count and values: field-value pairs. */
  hrandfield<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
    options: { withValues: true },
  ): Reply<S, [string, string][]>;
  hrandfield<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
    options: { withValues?: boolean } = {},
  ): Reply<S, unknown> {
    if (count === undefined) return call(this, ["HRANDFIELD", key], text);
    if (options.withValues) {
      return call(this, ["HRANDFIELD", key, count, "WITHVALUES"], stringPairs);
    }
    return call(this, ["HRANDFIELD", key, count], strings);
  }

  /** One HSCAN step: field-value pairs.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const { cursor, entries } = await client.hscan("user:1", 0, { match: "n*" });
   * ```
   */
  hscan<S extends Queue = Client>(
    this: S,
    key: Key,
    cursor: string | number,
    options: KeyScanOptions = {},
  ): Reply<S, HScanPage> {
    return call(this, ["HSCAN", key, cursor, ...keyScanArgs(options)], (v) => {
      const [next, items] = v as [RespValue, RespValue];
      return { cursor: str(next), entries: stringPairs(items) };
    });
  }

  /** Iterates a hash's field-value pairs with HSCAN, a page at a time
   * (a field may come twice if the hash changes meanwhile).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * for await (const [field, value] of client.hscanIterator("user:1")) console.log(field, value);
   * ```
   */
  async *hscanIterator(
    this: Client,
    key: Key,
    options: KeyScanOptions = {},
  ): AsyncIterableIterator<[string, string]> {
    let cursor = "0";
    do {
      const page: HScanPage = await this.hscan(key, cursor, options);
      cursor = page.cursor;
      yield* page.entries;
    } while (cursor !== "0");
  }

  // --- lists -------------------------------------------------------------

  /** LPUSH: the new length (the last element given ends up first).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lpush("queue", "a", "b"); // 2; the list is b, a
   * ```
   */
  lpush<S extends Queue = Client>(
    this: S,
    key: Key,
    ...elements: Value[]
  ): Reply<S, number> {
    return call(this, ["LPUSH", key, ...elements], num);
  }

  /** RPUSH: the new length.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.rpush("queue", "a", "b"); // 2; the list is a, b
   * ```
   */
  rpush<S extends Queue = Client>(
    this: S,
    key: Key,
    ...elements: Value[]
  ): Reply<S, number> {
    return call(this, ["RPUSH", key, ...elements], num);
  }

  /** LPUSHX: push only onto an existing list; the length (0 if missing).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lpushx("queue", "a"); // 0 when there is no queue
   * ```
   */
  lpushx<S extends Queue = Client>(
    this: S,
    key: Key,
    ...elements: Value[]
  ): Reply<S, number> {
    return call(this, ["LPUSHX", key, ...elements], num);
  }

  /** RPUSHX: push only onto an existing list; the length (0 if missing).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.rpushx("queue", "a");
   * ```
   */
  rpushx<S extends Queue = Client>(
    this: S,
    key: Key,
    ...elements: Value[]
  ): Reply<S, number> {
    return call(this, ["RPUSHX", key, ...elements], num);
  }

  /** LPOP: the first element, or null; with `count`, up to that many
   * (null when the key is missing).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lpop("queue"); // "a"
   * await client.lpop("queue", 10); // ["b"]
   * ```
   */
  lpop<S extends Queue = Client>(this: S, key: Key): Reply<S, string | null>;
  /** LPOP with a count: up to that many elements, or null. */
  lpop<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
  ): Reply<S, string[] | null>;
  lpop<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
  ): Reply<S, unknown> {
    return count === undefined
      ? call(this, ["LPOP", key], text)
      : call(this, ["LPOP", key, count], stringsOrNull);
  }

  /** RPOP: the last element, or null; with `count`, up to that many
   * (null when the key is missing).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.rpop("queue"); // "b"
   * ```
   */
  rpop<S extends Queue = Client>(this: S, key: Key): Reply<S, string | null>;
  /** RPOP with a count: up to that many elements, or null. */
  rpop<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
  ): Reply<S, string[] | null>;
  rpop<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
  ): Reply<S, unknown> {
    return count === undefined
      ? call(this, ["RPOP", key], text)
      : call(this, ["RPOP", key, count], stringsOrNull);
  }

  /** LLEN: the list's length.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.llen("queue"); // 0 when missing
   * ```
   */
  llen<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["LLEN", key], num);
  }

  /** LINDEX: the element at an index (negative from the end), or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lindex("queue", -1); // the last element
   * ```
   */
  lindex<S extends Queue = Client>(
    this: S,
    key: Key,
    index: number,
  ): Reply<S, string | null> {
    return call(this, ["LINDEX", key, index], text);
  }

  /** LINDEX as raw bytes, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lindexBytes("frames", 0); // Uint8Array
   * ```
   */
  lindexBytes<S extends Queue = Client>(
    this: S,
    key: Key,
    index: number,
  ): Reply<S, Uint8Array | null> {
    return call(this, ["LINDEX", key, index], bytes);
  }

  /** LSET: "OK" (fails on a missing key or an index out of range).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lset("queue", 0, "first");
   * ```
   */
  lset<S extends Queue = Client>(
    this: S,
    key: Key,
    index: number,
    element: Value,
  ): Reply<S, string> {
    return call(this, ["LSET", key, index, element], str);
  }

  /** LINSERT before or after a pivot: the new length, -1 when the pivot is
   * missing, 0 when the key is.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.linsert("queue", "BEFORE", "b", "a2");
   * ```
   */
  linsert<S extends Queue = Client>(
    this: S,
    key: Key,
    where: "BEFORE" | "AFTER",
    pivot: Value,
    element: Value,
  ): Reply<S, number> {
    return call(this, ["LINSERT", key, where, pivot, element], num);
  }

  /** LRANGE: elements from `start` to `stop` inclusive (negative from the
   * end).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lrange("queue", 0, -1); // the whole list
   * ```
   */
  lrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
  ): Reply<S, string[]> {
    return call(this, ["LRANGE", key, start, stop], strings);
  }

  /** LRANGE as raw bytes.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lrangeBytes("frames", 0, -1); // Uint8Array[]
   * ```
   */
  lrangeBytes<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
  ): Reply<S, Uint8Array[]> {
    return call(this, ["LRANGE", key, start, stop], byteList);
  }

  /** LREM: removes `count` occurrences (from the head; negative: from the
   * tail; 0: all); how many were removed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lrem("queue", 0, "done"); // removes every "done"
   * ```
   */
  lrem<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
    element: Value,
  ): Reply<S, number> {
    return call(this, ["LREM", key, count, element], num);
  }

  /** LTRIM: keeps only `start`..`stop`; "OK".
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.ltrim("recent", 0, 99); // keep the first 100
   * ```
   */
  ltrim<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
  ): Reply<S, string> {
    return call(this, ["LTRIM", key, start, stop], str);
  }

  /** LPOS: the index of a match (or null); with `count`, the indexes of up
   * to that many matches (0: all).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lpos("queue", "b"); // 1
   * await client.lpos("queue", "b", { count: 0 }); // [1, 4]
   * ```
   */
  lpos<S extends Queue = Client>(
    this: S,
    key: Key,
    element: Value,
    options?: LPosOptions,
  ): Reply<S, number | null>;
  /** LPOS with COUNT: the indexes of the matches. */
  lpos<S extends Queue = Client>(
    this: S,
    key: Key,
    element: Value,
    options: LPosOptions & { count: number },
  ): Reply<S, number[]>;
  lpos<S extends Queue = Client>(
    this: S,
    key: Key,
    element: Value,
    options: LPosOptions & { count?: number } = {},
  ): Reply<S, unknown> {
    const args: Arg[] = ["LPOS", key, element];
    if (options.rank !== undefined) args.push("RANK", options.rank);
    if (options.count !== undefined) args.push("COUNT", options.count);
    if (options.maxlen !== undefined) args.push("MAXLEN", options.maxlen);
    return options.count === undefined
      ? call(this, args, numOrNull)
      : call(this, args, (v) => list(v).map(num));
  }

  /** LMOVE: pops from one end of `source`, pushes onto one end of
   * `destination`; the element, or null when `source` is empty.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lmove("todo", "doing", "LEFT", "RIGHT");
   * ```
   */
  lmove<S extends Queue = Client>(
    this: S,
    source: Key,
    destination: Key,
    from: ListSide,
    to: ListSide,
  ): Reply<S, string | null> {
    return call(this, ["LMOVE", source, destination, from, to], text);
  }

  /** RPOPLPUSH: LMOVE RIGHT LEFT.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.rpoplpush("todo", "doing");
   * ```
   */
  rpoplpush<S extends Queue = Client>(
    this: S,
    source: Key,
    destination: Key,
  ): Reply<S, string | null> {
    return call(this, ["RPOPLPUSH", source, destination], text);
  }

  /** LMPOP: pops up to `count` (default 1) elements from the first
   * non-empty list; null when all are empty.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lmpop(["urgent", "normal"], "LEFT", 5); // { key: "normal", elements: [...] }
   * ```
   */
  lmpop<S extends Queue = Client>(
    this: S,
    keys: Key[],
    from: ListSide,
    count?: number,
  ): Reply<S, ListPopResult | null> {
    const args: Arg[] = ["LMPOP", keys.length, ...keys, from];
    if (count !== undefined) args.push("COUNT", count);
    return call(this, args, (v) => {
      if (v === null) return null;
      const [k, elements] = v as RespValue[];
      return { key: str(k), elements: strings(elements) };
    });
  }

  // --- sets --------------------------------------------------------------

  /** SADD: how many members were new.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sadd("tags", "red", "blue"); // 2
   * ```
   */
  sadd<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, number> {
    return call(this, ["SADD", key, ...members], num);
  }

  /** SREM: how many members were removed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.srem("tags", "red"); // 1
   * ```
   */
  srem<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, number> {
    return call(this, ["SREM", key, ...members], num);
  }

  /** SMEMBERS: every member, in no particular order.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.smembers("tags"); // ["blue", "red"]
   * ```
   */
  smembers<S extends Queue = Client>(this: S, key: Key): Reply<S, string[]> {
    return call(this, ["SMEMBERS", key], strings);
  }

  /** SMEMBERS as raw bytes.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.smembersBytes("hashes"); // Uint8Array[]
   * ```
   */
  smembersBytes<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, Uint8Array[]> {
    return call(this, ["SMEMBERS", key], byteList);
  }

  /** SISMEMBER: true when it is a member.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sismember("tags", "red"); // true
   * ```
   */
  sismember<S extends Queue = Client>(
    this: S,
    key: Key,
    member: Value,
  ): Reply<S, boolean> {
    return call(this, ["SISMEMBER", key, member], bool);
  }

  /** SMISMEMBER: membership of each, in order.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.smismember("tags", "red", "green"); // [true, false]
   * ```
   */
  smismember<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, boolean[]> {
    return call(this, ["SMISMEMBER", key, ...members], bools);
  }

  /** SCARD: the number of members.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.scard("tags"); // 2
   * ```
   */
  scard<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["SCARD", key], num);
  }

  /** SPOP: removes a random member and returns it (or null); with
   * `count`, up to that many.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.spop("tags"); // "red"
   * await client.spop("tags", 5); // ["blue"]
   * ```
   */
  spop<S extends Queue = Client>(this: S, key: Key): Reply<S, string | null>;
  /** SPOP with a count: up to that many members. */
  spop<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
  ): Reply<S, string[]>;
  spop<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
  ): Reply<S, unknown> {
    return count === undefined
      ? call(this, ["SPOP", key], text)
      : call(this, ["SPOP", key, count], strings);
  }

  /** SRANDMEMBER: a random member (or null); with `count`, that many
   * distinct ones (negative: may repeat).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.srandmember("tags", -3); // e.g. ["red", "red", "blue"]
   * ```
   */
  srandmember<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, string | null>;
  /** SRANDMEMBER with a count. */
  srandmember<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
  ): Reply<S, string[]>;
  srandmember<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
  ): Reply<S, unknown> {
    return count === undefined
      ? call(this, ["SRANDMEMBER", key], text)
      : call(this, ["SRANDMEMBER", key, count], strings);
  }

  /** SMOVE: true when the member was moved.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.smove("todo", "done", "task-1"); // true
   * ```
   */
  smove<S extends Queue = Client>(
    this: S,
    source: Key,
    destination: Key,
    member: Value,
  ): Reply<S, boolean> {
    return call(this, ["SMOVE", source, destination, member], bool);
  }

  /** SINTER: members in every set.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sinter("a", "b");
   * ```
   */
  sinter<S extends Queue = Client>(
    this: S,
    ...keys: Key[]
  ): Reply<S, string[]> {
    return call(this, ["SINTER", ...keys], strings);
  }

  /** SINTERCARD: the size of the intersection, counting up to `limit`
   * (0: no limit).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sintercard(["a", "b"], { limit: 10 });
   * ```
   */
  sintercard<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: { limit?: number } = {},
  ): Reply<S, number> {
    const args: Arg[] = ["SINTERCARD", keys.length, ...keys];
    if (options.limit !== undefined) args.push("LIMIT", options.limit);
    return call(this, args, num);
  }

  /** SINTERSTORE: stores the intersection; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sinterstore("both", "a", "b");
   * ```
   */
  sinterstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    ...keys: Key[]
  ): Reply<S, number> {
    return call(this, ["SINTERSTORE", destination, ...keys], num);
  }

  /** SUNION: members in any set.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sunion("a", "b");
   * ```
   */
  sunion<S extends Queue = Client>(
    this: S,
    ...keys: Key[]
  ): Reply<S, string[]> {
    return call(this, ["SUNION", ...keys], strings);
  }

  /** SUNIONSTORE: stores the union; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sunionstore("any", "a", "b");
   * ```
   */
  sunionstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    ...keys: Key[]
  ): Reply<S, number> {
    return call(this, ["SUNIONSTORE", destination, ...keys], num);
  }

  /** SDIFF: members of the first set that are in none of the others.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sdiff("a", "b");
   * ```
   */
  sdiff<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, string[]> {
    return call(this, ["SDIFF", ...keys], strings);
  }

  /** SDIFFSTORE: stores the difference; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sdiffstore("only-a", "a", "b");
   * ```
   */
  sdiffstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    ...keys: Key[]
  ): Reply<S, number> {
    return call(this, ["SDIFFSTORE", destination, ...keys], num);
  }

  /** One SSCAN step.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const { cursor, members } = await client.sscan("tags", 0, { count: 100 });
   * ```
   */
  sscan<S extends Queue = Client>(
    this: S,
    key: Key,
    cursor: string | number,
    options: KeyScanOptions = {},
  ): Reply<S, SScanPage> {
    return call(this, ["SSCAN", key, cursor, ...keyScanArgs(options)], (v) => {
      const [next, items] = v as [RespValue, RespValue];
      return { cursor: str(next), members: strings(items) };
    });
  }

  /** Iterates a set's members with SSCAN, a page at a time.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * for await (const tag of client.sscanIterator("tags")) console.log(tag);
   * ```
   */
  async *sscanIterator(
    this: Client,
    key: Key,
    options: KeyScanOptions = {},
  ): AsyncIterableIterator<string> {
    let cursor = "0";
    do {
      const page: SScanPage = await this.sscan(key, cursor, options);
      cursor = page.cursor;
      yield* page.members;
    } while (cursor !== "0");
  }

  // --- sorted sets -------------------------------------------------------

  /** ZADD members with scores (pairs or a record of member to score);
   * how many were added (changed, with `ch`). With `incr`, ZADD INCR: the
   * new score, or null when a condition prevented it.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zadd("board", { ada: 10, bob: 20 }); // 2
   * await client.zadd("board", [["ada", 15]], { gt: true, ch: true }); // 1
   * await client.zadd("board", [["ada", 5]], { incr: true }); // 20
   * ```
   */
  zadd<S extends Queue = Client>(
    this: S,
    key: Key,
    members: ScoredMember[] | Record<string, Score> | Map<Value, Score>,
    options?: ZAddCommandOptions,
  ): Reply<S, number>;
  /** ZADD INCR: the new score, or null. */
  zadd<S extends Queue = Client>(
    this: S,
    key: Key,
    members: ScoredMember[] | Record<string, Score> | Map<Value, Score>,
    options: ZAddCommandOptions & { incr: true },
  ): Reply<S, number | null>;
  zadd<S extends Queue = Client>(
    this: S,
    key: Key,
    members: ScoredMember[] | Record<string, Score> | Map<Value, Score>,
    options: ZAddCommandOptions & { incr?: boolean } = {},
  ): Reply<S, unknown> {
    const args: Arg[] = ["ZADD", key];
    if (options.nx) args.push("NX");
    if (options.xx) args.push("XX");
    if (options.gt) args.push("GT");
    if (options.lt) args.push("LT");
    if (options.ch) args.push("CH");
    if (options.incr) args.push("INCR");
    const pairs = Array.isArray(members)
      ? members
      : members instanceof Map
      ? members
      : Object.entries(members);
    for (const [m, s] of pairs) args.push(scoreArg(s), m);
    return options.incr ? call(this, args, scoreOrNull) : call(this, args, num);
  }

  /** ZINCRBY: the member's new score.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zincrby("board", 5, "ada"); // 15
   * ```
   */
  zincrby<S extends Queue = Client>(
    this: S,
    key: Key,
    increment: Score,
    member: Value,
  ): Reply<S, number> {
    return call(this, ["ZINCRBY", key, scoreArg(increment), member], toScore);
  }

  /** ZSCORE: the member's score (±Infinity for infinite scores), or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zscore("board", "ada"); // 15
   * ```
   */
  zscore<S extends Queue = Client>(
    this: S,
    key: Key,
    member: Value,
  ): Reply<S, number | null> {
    return call(this, ["ZSCORE", key, member], scoreOrNull);
  }

  /** ZMSCORE: each member's score, null when missing.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zmscore("board", "ada", "zed"); // [15, null]
   * ```
   */
  zmscore<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, (number | null)[]> {
    return call(
      this,
      ["ZMSCORE", key, ...members],
      (v) => list(v).map(scoreOrNull),
    );
  }

  /** ZCARD: the number of members.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zcard("board"); // 2
   * ```
   */
  zcard<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["ZCARD", key], num);
  }

  /** ZCOUNT: members with a score between `min` and `max`.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zcount("board", "(10", Infinity);
   * ```
   */
  zcount<S extends Queue = Client>(
    this: S,
    key: Key,
    min: ScoreBound,
    max: ScoreBound,
  ): Reply<S, number> {
    return call(this, ["ZCOUNT", key, scoreArg(min), scoreArg(max)], num);
  }

  /** ZLEXCOUNT: members between two lexicographic bounds (`[a`, `(b`, `-`,
   * `+`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zlexcount("names", "[a", "(c");
   * ```
   */
  zlexcount<S extends Queue = Client>(
    this: S,
    key: Key,
    min: string,
    max: string,
  ): Reply<S, number> {
    return call(this, ["ZLEXCOUNT", key, min, max], num);
  }

  /** ZRANK: the member's rank, lowest score first, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrank("board", "ada"); // 0
   * ```
   */
  zrank<S extends Queue = Client>(
    this: S,
    key: Key,
    member: Value,
  ): Reply<S, number | null> {
    return call(this, ["ZRANK", key, member], numOrNull);
  }

  /** ZREVRANK: the member's rank, highest score first, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrevrank("board", "ada"); // 1
   * ```
   */
  zrevrank<S extends Queue = Client>(
    this: S,
    key: Key,
    member: Value,
  ): Reply<S, number | null> {
    return call(this, ["ZREVRANK", key, member], numOrNull);
  }

  /** ZRANGE by rank, score (`byScore`) or lex (`byLex`), optionally
   * reversed and limited; with `withScores`, member-score pairs.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrange("board", 0, -1); // ["ada", "bob"]
   * await client.zrange("board", "+inf", 10, { byScore: true, rev: true, withScores: true }); // [["bob", 20], ["ada", 15]]
   * ```
   */
  zrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: ScoreBound,
    stop: ScoreBound,
    options?: ZRangeCommandOptions & { withScores?: false },
  ): Reply<S, string[]>;
  /** ZRANGE WITHSCORES: member-score pairs. */
  zrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: ScoreBound,
    stop: ScoreBound,
    options: ZRangeCommandOptions & { withScores: true },
  ): Reply<S, [string, number][]>;
  zrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: ScoreBound,
    stop: ScoreBound,
    options: ZRangeCommandOptions & { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    const args: Arg[] = [
      "ZRANGE",
      key,
      scoreArg(start),
      scoreArg(stop),
      ...zrangeArgs(options),
    ];
    if (options.withScores) {
      return call(this, [...args, "WITHSCORES"], scoredPairs);
    }
    return call(this, args, strings);
  }

  /** ZRANGESTORE: stores a ZRANGE's result; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrangestore("top3", "board", 0, 2, { rev: true });
   * ```
   */
  zrangestore<S extends Queue = Client>(
    this: S,
    destination: Key,
    source: Key,
    start: ScoreBound,
    stop: ScoreBound,
    options: ZRangeCommandOptions = {},
  ): Reply<S, number> {
    return call(this, [
      "ZRANGESTORE",
      destination,
      source,
      scoreArg(start),
      scoreArg(stop),
      ...zrangeArgs(options),
    ], num);
  }

  /** ZRANGEBYSCORE: members with scores in `min`..`max`, lowest first.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrangebyscore("board", 10, "(20"); // ["ada"]
   * await client.zrangebyscore("board", -Infinity, Infinity, { withScores: true });
   * ```
   */
  zrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    min: ScoreBound,
    max: ScoreBound,
    options?: ZRangeByOptions & { withScores?: false },
  ): Reply<S, string[]>;
  /** ZRANGEBYSCORE WITHSCORES: member-score pairs. */
  zrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByOptions & { withScores: true },
  ): Reply<S, [string, number][]>;
  zrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    min: ScoreBound,
    max: ScoreBound,
    options: ZRangeByOptions & { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    return byScore(this, "ZRANGEBYSCORE", key, min, max, options);
  }

  /** ZREVRANGEBYSCORE: members with scores in `max`..`min`, highest first.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrevrangebyscore("board", Infinity, 0, { limit: { offset: 0, count: 3 } });
   * ```
   */
  zrevrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    max: ScoreBound,
    min: ScoreBound,
    options?: ZRangeByOptions & { withScores?: false },
  ): Reply<S, string[]>;
  /** ZREVRANGEBYSCORE WITHSCORES: member-score pairs. */
  zrevrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    max: ScoreBound,
    min: ScoreBound,
    options: ZRangeByOptions & { withScores: true },
  ): Reply<S, [string, number][]>;
  zrevrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    max: ScoreBound,
    min: ScoreBound,
    options: ZRangeByOptions & { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    return byScore(this, "ZREVRANGEBYSCORE", key, max, min, options);
  }

  /** ZRANGEBYLEX: members between two lexicographic bounds.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrangebylex("names", "[a", "(c", { limit: { offset: 0, count: 10 } });
   * ```
   */
  zrangebylex<S extends Queue = Client>(
    this: S,
    key: Key,
    min: string,
    max: string,
    options: ZRangeByOptions = {},
  ): Reply<S, string[]> {
    return call(this, [
      "ZRANGEBYLEX",
      key,
      min,
      max,
      ...limitArgs(options.limit),
    ], strings);
  }

  /** ZREVRANGEBYLEX: members between two lexicographic bounds, reversed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrevrangebylex("names", "+", "-");
   * ```
   */
  zrevrangebylex<S extends Queue = Client>(
    this: S,
    key: Key,
    max: string,
    min: string,
    options: ZRangeByOptions = {},
  ): Reply<S, string[]> {
    return call(this, [
      "ZREVRANGEBYLEX",
      key,
      max,
      min,
      ...limitArgs(options.limit),
    ], strings);
  }

  /** ZREVRANGE: members by rank, highest score first.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrevrange("board", 0, 2); // the top 3
   * ```
   */
  zrevrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
  ): Reply<S, string[]>;
  /** ZREVRANGE WITHSCORES: member-score pairs. */
  zrevrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
    options: { withScores: true },
  ): Reply<S, [string, number][]>;
  zrevrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
    options: { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    return options.withScores
      ? call(this, ["ZREVRANGE", key, start, stop, "WITHSCORES"], scoredPairs)
      : call(this, ["ZREVRANGE", key, start, stop], strings);
  }

  /** ZREM: how many members were removed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrem("board", "ada"); // 1
   * ```
   */
  zrem<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, number> {
    return call(this, ["ZREM", key, ...members], num);
  }

  /** ZREMRANGEBYRANK: removes members by rank; how many.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zremrangebyrank("board", 0, -11); // keep the top 10
   * ```
   */
  zremrangebyrank<S extends Queue = Client>(
    this: S,
    key: Key,
    start: number,
    stop: number,
  ): Reply<S, number> {
    return call(this, ["ZREMRANGEBYRANK", key, start, stop], num);
  }

  /** ZREMRANGEBYSCORE: removes members by score; how many.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zremrangebyscore("board", -Infinity, "(0");
   * ```
   */
  zremrangebyscore<S extends Queue = Client>(
    this: S,
    key: Key,
    min: ScoreBound,
    max: ScoreBound,
  ): Reply<S, number> {
    return call(
      this,
      ["ZREMRANGEBYSCORE", key, scoreArg(min), scoreArg(max)],
      num,
    );
  }

  /** ZREMRANGEBYLEX: removes members between lexicographic bounds; how
   * many.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zremrangebylex("names", "[a", "[b");
   * ```
   */
  zremrangebylex<S extends Queue = Client>(
    this: S,
    key: Key,
    min: string,
    max: string,
  ): Reply<S, number> {
    return call(this, ["ZREMRANGEBYLEX", key, min, max], num);
  }

  /** ZPOPMIN: removes and returns up to `count` (default 1) lowest
   * members with their scores.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zpopmin("board"); // [["ada", 15]]
   * ```
   */
  zpopmin<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
  ): Reply<S, [string, number][]> {
    return call(
      this,
      count === undefined ? ["ZPOPMIN", key] : ["ZPOPMIN", key, count],
      scoredPairs,
    );
  }

  /** ZPOPMAX: removes and returns up to `count` (default 1) highest
   * members with their scores.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zpopmax("board", 2); // [["bob", 20], ["ada", 15]]
   * ```
   */
  zpopmax<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
  ): Reply<S, [string, number][]> {
    return call(
      this,
      count === undefined ? ["ZPOPMAX", key] : ["ZPOPMAX", key, count],
      scoredPairs,
    );
  }

  /** ZMPOP: pops up to `count` (default 1) members from the first
   * non-empty sorted set; null when all are empty.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zmpop(["a", "b"], "MAX", 2); // { key: "a", members: [["x", 3], ["y", 2]] }
   * ```
   */
  zmpop<S extends Queue = Client>(
    this: S,
    keys: Key[],
    which: "MIN" | "MAX",
    count?: number,
  ): Reply<S, ZPopResult | null> {
    const args: Arg[] = ["ZMPOP", keys.length, ...keys, which];
    if (count !== undefined) args.push("COUNT", count);
    return call(this, args, (v) => {
      if (v === null) return null;
      const [k, members] = v as RespValue[];
      return { key: str(k), members: scoredPairs(members) };
    });
  }

  /** ZRANDMEMBER: a random member (or null); with `count`, that many
   * (negative: may repeat); with `withScores`, member-score pairs.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zrandmember("board", 2, { withScores: true }); // [["bob", 20], ["ada", 15]]
   * ```
   */
  zrandmember<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, string | null>;
  /** ZRANDMEMBER with a count. */
  zrandmember<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
  ): Reply<S, string[]>;
  /** ZRANDMEMBER with a count and scores. */
  zrandmember<S extends Queue = Client>(
    this: S,
    key: Key,
    count: number,
    options: { withScores: true },
  ): Reply<S, [string, number][]>;
  zrandmember<S extends Queue = Client>(
    this: S,
    key: Key,
    count?: number,
    options: { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    if (count === undefined) return call(this, ["ZRANDMEMBER", key], text);
    return options.withScores
      ? call(this, ["ZRANDMEMBER", key, count, "WITHSCORES"], scoredPairs)
      : call(this, ["ZRANDMEMBER", key, count], strings);
  }

  /** ZUNION: the union's members (scores combined by `aggregate`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zunion(["a", "b"], { weights: [1, 10], withScores: true });
   * ```
   */
  zunion<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options?: ZCombineCommandOptions & { withScores?: false },
  ): Reply<S, string[]>;
  /** ZUNION WITHSCORES: member-score pairs. */
  zunion<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: ZCombineCommandOptions & { withScores: true },
  ): Reply<S, [string, number][]>;
  zunion<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: ZCombineCommandOptions & { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    return combined(this, "ZUNION", keys, options);
  }

  /** ZINTER: members in every sorted set (scores combined by
   * `aggregate`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zinter(["a", "b"], { aggregate: "MIN" });
   * ```
   */
  zinter<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options?: ZCombineCommandOptions & { withScores?: false },
  ): Reply<S, string[]>;
  /** ZINTER WITHSCORES: member-score pairs. */
  zinter<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: ZCombineCommandOptions & { withScores: true },
  ): Reply<S, [string, number][]>;
  zinter<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: ZCombineCommandOptions & { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    return combined(this, "ZINTER", keys, options);
  }

  /** ZDIFF: members of the first sorted set in none of the others.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zdiff(["a", "b"], { withScores: true });
   * ```
   */
  zdiff<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options?: { withScores?: false },
  ): Reply<S, string[]>;
  /** ZDIFF WITHSCORES: member-score pairs. */
  zdiff<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: { withScores: true },
  ): Reply<S, [string, number][]>;
  zdiff<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: { withScores?: boolean } = {},
  ): Reply<S, unknown> {
    return combined(this, "ZDIFF", keys, options);
  }

  /** ZUNIONSTORE: stores the union; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zunionstore("total", ["week1", "week2"]);
   * ```
   */
  zunionstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    keys: Key[],
    options: ZCombineCommandOptions = {},
  ): Reply<S, number> {
    return call(this, [
      "ZUNIONSTORE",
      destination,
      ...combineArgs(keys, options),
    ], num);
  }

  /** ZINTERSTORE: stores the intersection; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zinterstore("both", ["a", "b"], { aggregate: "MAX" });
   * ```
   */
  zinterstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    keys: Key[],
    options: ZCombineCommandOptions = {},
  ): Reply<S, number> {
    return call(this, [
      "ZINTERSTORE",
      destination,
      ...combineArgs(keys, options),
    ], num);
  }

  /** ZDIFFSTORE: stores the difference; its size.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zdiffstore("only-a", ["a", "b"]);
   * ```
   */
  zdiffstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    keys: Key[],
  ): Reply<S, number> {
    return call(this, ["ZDIFFSTORE", destination, keys.length, ...keys], num);
  }

  /** ZINTERCARD: the size of the intersection, counting up to `limit`
   * (0: no limit).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.zintercard(["a", "b"], { limit: 100 });
   * ```
   */
  zintercard<S extends Queue = Client>(
    this: S,
    keys: Key[],
    options: { limit?: number } = {},
  ): Reply<S, number> {
    const args: Arg[] = ["ZINTERCARD", keys.length, ...keys];
    if (options.limit !== undefined) args.push("LIMIT", options.limit);
    return call(this, args, num);
  }

  /** One ZSCAN step: member-score pairs.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const { cursor, members } = await client.zscan("board", 0);
   * ```
   */
  zscan<S extends Queue = Client>(
    this: S,
    key: Key,
    cursor: string | number,
    options: KeyScanOptions = {},
  ): Reply<S, ZScanPage> {
    return call(this, ["ZSCAN", key, cursor, ...keyScanArgs(options)], (v) => {
      const [next, items] = v as [RespValue, RespValue];
      return { cursor: str(next), members: scoredPairs(items) };
    });
  }

  /** Iterates a sorted set's member-score pairs with ZSCAN.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * for await (const [member, score] of client.zscanIterator("board")) console.log(member, score);
   * ```
   */
  async *zscanIterator(
    this: Client,
    key: Key,
    options: KeyScanOptions = {},
  ): AsyncIterableIterator<[string, number]> {
    let cursor = "0";
    do {
      const page: ZScanPage = await this.zscan(key, cursor, options);
      cursor = page.cursor;
      yield* page.members;
    } while (cursor !== "0");
  }

  // --- bitmaps -----------------------------------------------------------

  /** SETBIT: the bit's old value.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.setbit("seen", 7, 1); // 0
   * ```
   */
  setbit<S extends Queue = Client>(
    this: S,
    key: Key,
    offset: number,
    bit: 0 | 1,
  ): Reply<S, number> {
    return call(this, ["SETBIT", key, offset, bit], num);
  }

  /** GETBIT: 0 or 1.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.getbit("seen", 7); // 1
   * ```
   */
  getbit<S extends Queue = Client>(
    this: S,
    key: Key,
    offset: number,
  ): Reply<S, number> {
    return call(this, ["GETBIT", key, offset], num);
  }

  /** BITCOUNT: set bits, in the whole value or a range.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bitcount("seen", { start: 0, end: -1 });
   * ```
   */
  bitcount<S extends Queue = Client>(
    this: S,
    key: Key,
    range?: BitOffsetRange,
  ): Reply<S, number> {
    return call(this, ["BITCOUNT", key, ...bitRangeArgs(range)], num);
  }

  /** BITPOS: the position of the first `bit`, or -1.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bitpos("seen", 0, { start: 2 });
   * ```
   */
  bitpos<S extends Queue = Client>(
    this: S,
    key: Key,
    bit: 0 | 1,
    range?: BitOffsetRange,
  ): Reply<S, number> {
    return call(this, ["BITPOS", key, bit, ...bitRangeArgs(range)], num);
  }

  /** BITOP AND/OR/XOR/NOT into `destination`; the result's length.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bitop("AND", "both", "seen:mon", "seen:tue");
   * ```
   */
  bitop<S extends Queue = Client>(
    this: S,
    operation: "AND" | "OR" | "XOR" | "NOT",
    destination: Key,
    ...keys: Key[]
  ): Reply<S, number> {
    return call(this, ["BITOP", operation, destination, ...keys], num);
  }

  /** BITFIELD: one result per GET/SET/INCRBY (null when OVERFLOW FAIL
   * stopped an update); 64-bit values beyond 2^53 come back as bigint.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bitfield("c", [{ set: "u8", offset: 0, value: 200 }, { incrBy: "u8", offset: 0, increment: 100 }]); // [0, 44]
   * ```
   */
  bitfield<S extends Queue = Client>(
    this: S,
    key: Key,
    operations: BitFieldOperation[],
  ): Reply<S, (number | bigint | null)[]> {
    const args: Arg[] = ["BITFIELD", key];
    for (const op of operations) {
      if ("get" in op) args.push("GET", op.get, op.offset);
      else if ("set" in op) {
        args.push("SET", op.set, op.offset, String(op.value));
      } else if ("incrBy" in op) {
        args.push("INCRBY", op.incrBy, op.offset, String(op.increment));
      } else args.push("OVERFLOW", op.overflow);
    }
    return call(this, args, intList);
  }

  /** BITFIELD_RO: GET operations only, for replicas and read-only
   * scripts.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bitfieldRo("c", [{ get: "u8", offset: 0 }, { get: "i4", offset: "#1" }]);
   * ```
   */
  bitfieldRo<S extends Queue = Client>(
    this: S,
    key: Key,
    gets: { get: string; offset: number | string }[],
  ): Reply<S, (number | bigint)[]> {
    const args: Arg[] = ["BITFIELD_RO", key];
    for (const g of gets) args.push("GET", g.get, g.offset);
    return call(this, args, intList as Transform<(number | bigint)[]>);
  }

  /** LCS: the longest common subsequence of two string values.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.mset({ a: "ohmytext", b: "mynewtext" });
   * await client.lcs("a", "b"); // "mytext"
   * ```
   */
  lcs<S extends Queue = Client>(
    this: S,
    key1: Key,
    key2: Key,
  ): Reply<S, string> {
    return call(this, ["LCS", key1, key2], str);
  }

  /** LCS LEN: the length of the longest common subsequence.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lcsLen("a", "b"); // 6
   * ```
   */
  lcsLen<S extends Queue = Client>(
    this: S,
    key1: Key,
    key2: Key,
  ): Reply<S, number> {
    return call(this, ["LCS", key1, key2, "LEN"], num);
  }

  /** LCS IDX: the matching ranges and the length.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.lcsIdx("a", "b", { minMatchLen: 4, withMatchLen: true }); // { matches: [{ a: [4, 7], b: [5, 8], len: 4 }], len: 6 }
   * ```
   */
  lcsIdx<S extends Queue = Client>(
    this: S,
    key1: Key,
    key2: Key,
    options: { minMatchLen?: number; withMatchLen?: boolean } = {},
  ): Reply<S, LcsIdxReply> {
    const args: Arg[] = ["LCS", key1, key2, "IDX"];
    if (options.minMatchLen !== undefined) {
      args.push("MINMATCHLEN", options.minMatchLen);
    }
    if (options.withMatchLen) args.push("WITHMATCHLEN");
    return call(this, args, (v) => {
      const f = fieldsOf(v);
      const matches = list(f.get("matches") ?? null).map((m) => {
        const [a, b, len] = m as RespValue[];
        const match: LcsMatch = { a: lcsRange(a), b: lcsRange(b) };
        if (len !== undefined) match.len = num(len);
        return match;
      });
      return { matches, len: num(f.get("len") ?? 0) };
    });
  }

  // --- HyperLogLog -------------------------------------------------------

  /** PFADD: true when the estimate changed (or the key was created).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.pfadd("visitors", "ada", "bob"); // true
   * ```
   */
  pfadd<S extends Queue = Client>(
    this: S,
    key: Key,
    ...elements: Value[]
  ): Reply<S, boolean> {
    return call(this, ["PFADD", key, ...elements], bool);
  }

  /** PFCOUNT: the estimated number of distinct elements (of the union).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.pfcount("visitors"); // 2
   * ```
   */
  pfcount<S extends Queue = Client>(this: S, ...keys: Key[]): Reply<S, number> {
    return call(this, ["PFCOUNT", ...keys], num);
  }

  /** PFMERGE: merges the sources into `destination`; "OK".
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.pfmerge("visitors:week", "visitors:mon", "visitors:tue");
   * ```
   */
  pfmerge<S extends Queue = Client>(
    this: S,
    destination: Key,
    ...sources: Key[]
  ): Reply<S, string> {
    return call(this, ["PFMERGE", destination, ...sources], str);
  }

  // --- geo ---------------------------------------------------------------

  /** GEOADD points; how many were added (changed, with `ch`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.geoadd("places", [{ longitude: 12.4964, latitude: 41.9028, member: "rome" }]); // 1
   * ```
   */
  geoadd<S extends Queue = Client>(
    this: S,
    key: Key,
    members: GeoMember[],
    options: { nx?: boolean; xx?: boolean; ch?: boolean } = {},
  ): Reply<S, number> {
    const args: Arg[] = ["GEOADD", key];
    if (options.nx) args.push("NX");
    if (options.xx) args.push("XX");
    if (options.ch) args.push("CH");
    for (const m of members) args.push(m.longitude, m.latitude, m.member);
    return call(this, args, num);
  }

  /** GEOPOS: each member's coordinates, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.geopos("places", "rome", "atlantis"); // [{ longitude: 12.49..., latitude: 41.90... }, null]
   * ```
   */
  geopos<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, (GeoCoordinates | null)[]> {
    return call(
      this,
      ["GEOPOS", key, ...members],
      (v) => list(v).map(coordinates),
    );
  }

  /** GEODIST: the distance between two members (meters unless told), or
   * null when one is missing.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.geodist("places", "rome", "paris", "km"); // 1105.5914
   * ```
   */
  geodist<S extends Queue = Client>(
    this: S,
    key: Key,
    member1: Value,
    member2: Value,
    unit?: DistanceUnit,
  ): Reply<S, number | null> {
    return call(this, [
      "GEODIST",
      key,
      member1,
      member2,
      ...(unit ? [unit] : []),
    ], scoreOrNull);
  }

  /** GEOHASH: each member's 11-character geohash, or null.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.geohash("places", "rome"); // ["sr2yk3dutv0"]
   * ```
   */
  geohash<S extends Queue = Client>(
    this: S,
    key: Key,
    ...members: Value[]
  ): Reply<S, (string | null)[]> {
    return call(this, ["GEOHASH", key, ...members], texts);
  }

  /** GEOSEARCH: members within a circle or box around a member or a
   * point, with what the options ask for.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.geosearch("places", { longitude: 12, latitude: 42 }, { radius: 100, unit: "km" }, { withDist: true, order: "ASC" });
   * // [{ member: "rome", distance: 41.3383 }]
   * ```
   */
  geosearch<S extends Queue = Client>(
    this: S,
    key: Key,
    from: GeoSearchFrom,
    by: GeoSearchBy,
    options: GeoQueryOptions = {},
  ): Reply<S, GeoSearchMatch[]> {
    return call(
      this,
      ["GEOSEARCH", key, ...geoSearchArgs(from, by, options)],
      geoMatches(options),
    );
  }

  /** GEOSEARCHSTORE: stores GEOSEARCH's members (as a sorted set of
   * geohashes, or distances with `storeDist`); how many.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.geosearchstore("near-rome", "places", { member: "rome" }, { radius: 500, unit: "km" });
   * ```
   */
  geosearchstore<S extends Queue = Client>(
    this: S,
    destination: Key,
    source: Key,
    from: GeoSearchFrom,
    by: GeoSearchBy,
    options: GeoQueryStoreOptions = {},
  ): Reply<S, number> {
    return call(this, [
      "GEOSEARCHSTORE",
      destination,
      source,
      ...geoSearchArgs(from, by, options),
    ], num);
  }

  /** GEORADIUS (deprecated; prefer {@linkcode Client.geosearch}):
   * members within a radius of a point.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.georadius("places", 12, 42, 100, "km", { withDist: true });
   * ```
   */
  georadius<S extends Queue = Client>(
    this: S,
    key: Key,
    longitude: number,
    latitude: number,
    radius: number,
    unit: DistanceUnit,
    options: GeoQueryOptions = {},
  ): Reply<S, GeoSearchMatch[]> {
    return call(this, [
      "GEORADIUS",
      key,
      longitude,
      latitude,
      radius,
      unit,
      ...geoTailArgs(options),
    ], geoMatches(options));
  }

  /** GEORADIUS_RO: the read-only GEORADIUS.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.georadiusRo("places", 12, 42, 100, "km");
   * ```
   */
  georadiusRo<S extends Queue = Client>(
    this: S,
    key: Key,
    longitude: number,
    latitude: number,
    radius: number,
    unit: DistanceUnit,
    options: GeoQueryOptions = {},
  ): Reply<S, GeoSearchMatch[]> {
    return call(this, [
      "GEORADIUS_RO",
      key,
      longitude,
      latitude,
      radius,
      unit,
      ...geoTailArgs(options),
    ], geoMatches(options));
  }

  /** GEORADIUSBYMEMBER (deprecated; prefer
   * {@linkcode Client.geosearch}): members within a radius of a member.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.georadiusbymember("places", "rome", 100, "km", { count: 5 });
   * ```
   */
  georadiusbymember<S extends Queue = Client>(
    this: S,
    key: Key,
    member: Value,
    radius: number,
    unit: DistanceUnit,
    options: GeoQueryOptions = {},
  ): Reply<S, GeoSearchMatch[]> {
    return call(this, [
      "GEORADIUSBYMEMBER",
      key,
      member,
      radius,
      unit,
      ...geoTailArgs(options),
    ], geoMatches(options));
  }

  /** GEORADIUSBYMEMBER_RO: the read-only GEORADIUSBYMEMBER.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.georadiusbymemberRo("places", "rome", 100, "km");
   * ```
   */
  georadiusbymemberRo<S extends Queue = Client>(
    this: S,
    key: Key,
    member: Value,
    radius: number,
    unit: DistanceUnit,
    options: GeoQueryOptions = {},
  ): Reply<S, GeoSearchMatch[]> {
    return call(this, [
      "GEORADIUSBYMEMBER_RO",
      key,
      member,
      radius,
      unit,
      ...geoTailArgs(options),
    ], geoMatches(options));
  }

  // --- streams -----------------------------------------------------------

  /** XADD an entry (`id` `*` generates one); its id, or null when
   * `nomkstream` found no stream.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xadd("events", "*", { type: "login", user: "ada" }); // "1700000000000-0"
   * await client.xadd("events", "*", ["type", "logout"], { maxlen: 1000, approximate: true });
   * ```
   */
  xadd<S extends Queue = Client>(
    this: S,
    key: Key,
    id: string,
    fields: FieldValues | Value[],
    options: XAddCommandOptions = {},
  ): Reply<S, string | null> {
    const args: Arg[] = ["XADD", key];
    if (options.nomkstream) args.push("NOMKSTREAM");
    args.push(...trimArgs(options), id);
    args.push(...fieldArgs([fields]));
    return call(this, args, text);
  }

  /** XLEN: the number of entries.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xlen("events"); // 2
   * ```
   */
  xlen<S extends Queue = Client>(this: S, key: Key): Reply<S, number> {
    return call(this, ["XLEN", key], num);
  }

  /** XRANGE: entries with ids in `start`..`end` (`-` and `+` for the
   * ends; `(id` exclusive).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xrange("events", "-", "+", { count: 10 }); // [{ id, fields }, ...]
   * ```
   */
  xrange<S extends Queue = Client>(
    this: S,
    key: Key,
    start = "-",
    end = "+",
    options: { count?: number } = {},
  ): Reply<S, StreamMessage[]> {
    const args: Arg[] = ["XRANGE", key, start, end];
    if (options.count !== undefined) args.push("COUNT", options.count);
    return call(this, args, streamEntries);
  }

  /** XREVRANGE: entries with ids in `end`..`start`, newest first.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xrevrange("events", "+", "-", { count: 1 }); // the newest entry
   * ```
   */
  xrevrange<S extends Queue = Client>(
    this: S,
    key: Key,
    end = "+",
    start = "-",
    options: { count?: number } = {},
  ): Reply<S, StreamMessage[]> {
    const args: Arg[] = ["XREVRANGE", key, end, start];
    if (options.count !== undefined) args.push("COUNT", options.count);
    return call(this, args, streamEntries);
  }

  /** XDEL: how many entries were deleted.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xdel("events", "1-0", "2-0");
   * ```
   */
  xdel<S extends Queue = Client>(
    this: S,
    key: Key,
    ...ids: string[]
  ): Reply<S, number> {
    return call(this, ["XDEL", key, ...ids], num);
  }

  /** XTRIM by MAXLEN or MINID; how many entries were removed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xtrim("events", { minid: "1700000000000-0" });
   * ```
   */
  xtrim<S extends Queue = Client>(
    this: S,
    key: Key,
    options: XTrimCommandOptions,
  ): Reply<S, number> {
    return call(this, ["XTRIM", key, ...trimArgs(options)], num);
  }

  /** XREAD: entries after the given ids, per stream (streams without any
   * are left out; `[]` when none has any, or BLOCK timed out).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xread({ events: "0-0" }, { count: 100 }); // [{ key: "events", entries: [...] }]
   * ```
   */
  xread<S extends Queue = Client>(
    this: S,
    streams: StreamIds,
    options: XReadOptions = {},
  ): Reply<S, StreamRead[]> {
    const args: Arg[] = ["XREAD"];
    if (options.count !== undefined) args.push("COUNT", options.count);
    if (options.block !== undefined) args.push("BLOCK", options.block);
    return call(
      this,
      [...args, ...streamIdArgs(streams)],
      streamReads(streamEntry),
    );
  }

  /** XGROUP CREATE a consumer group starting after `id` (`$`: new entries
   * only); "OK".
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xgroupCreate("events", "workers", "$", { mkstream: true });
   * ```
   */
  xgroupCreate<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    id: string,
    options: { mkstream?: boolean; entriesRead?: number } = {},
  ): Reply<S, string> {
    const args: Arg[] = ["XGROUP", "CREATE", key, group, id];
    if (options.mkstream) args.push("MKSTREAM");
    if (options.entriesRead !== undefined) {
      args.push("ENTRIESREAD", options.entriesRead);
    }
    return call(this, args, str);
  }

  /** XGROUP SETID: moves the group's last delivered id; "OK".
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xgroupSetid("events", "workers", "0"); // re-deliver everything
   * ```
   */
  xgroupSetid<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    id: string,
    options: { entriesRead?: number } = {},
  ): Reply<S, string> {
    const args: Arg[] = ["XGROUP", "SETID", key, group, id];
    if (options.entriesRead !== undefined) {
      args.push("ENTRIESREAD", options.entriesRead);
    }
    return call(this, args, str);
  }

  /** XGROUP DESTROY: true when the group existed.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xgroupDestroy("events", "workers"); // true
   * ```
   */
  xgroupDestroy<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
  ): Reply<S, boolean> {
    return call(this, ["XGROUP", "DESTROY", key, group], bool);
  }

  /** XGROUP CREATECONSUMER: true when the consumer was new.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xgroupCreateconsumer("events", "workers", "alice"); // true
   * ```
   */
  xgroupCreateconsumer<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
  ): Reply<S, boolean> {
    return call(this, ["XGROUP", "CREATECONSUMER", key, group, consumer], bool);
  }

  /** XGROUP DELCONSUMER: how many pending entries the consumer had.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xgroupDelconsumer("events", "workers", "alice"); // 0
   * ```
   */
  xgroupDelconsumer<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
  ): Reply<S, number> {
    return call(this, ["XGROUP", "DELCONSUMER", key, group, consumer], num);
  }

  /** XREADGROUP: entries for a consumer of a group (`>`: new entries;
   * another id: its own pending history, where deleted entries have
   * `fields: null`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xreadgroup("workers", "alice", { events: ">" }, { count: 10 });
   * ```
   */
  xreadgroup<S extends Queue = Client>(
    this: S,
    group: string,
    consumer: string,
    streams: StreamIds,
    options: XReadOptions = {},
  ): Reply<S, StreamRead<StreamMessage | DeletedStreamMessage>[]> {
    const args: Arg[] = ["XREADGROUP", "GROUP", group, consumer];
    if (options.count !== undefined) args.push("COUNT", options.count);
    if (options.block !== undefined) args.push("BLOCK", options.block);
    if (options.noack) args.push("NOACK");
    return call(
      this,
      [...args, ...streamIdArgs(streams)],
      streamReads(maybeEntry),
    );
  }

  /** XACK: how many entries were acknowledged.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xack("events", "workers", "1-0"); // 1
   * ```
   */
  xack<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    ...ids: string[]
  ): Reply<S, number> {
    return call(this, ["XACK", key, group, ...ids], num);
  }

  /** XPENDING: the group's summary; with a range, the pending entries.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xpending("events", "workers"); // { count: 1, smallest: "1-0", largest: "1-0", consumers: [{ name: "alice", count: 1 }] }
   * await client.xpending("events", "workers", { start: "-", end: "+", count: 10 }); // [{ id: "1-0", consumer: "alice", idle: 12, deliveries: 1 }]
   * ```
   */
  xpending<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
  ): Reply<S, XPendingSummary>;
  /** XPENDING with a range: the pending entries. */
  xpending<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    range: XPendingRange,
  ): Reply<S, XPendingEntry[]>;
  xpending<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    range?: XPendingRange,
  ): Reply<S, unknown> {
    if (range === undefined) {
      return call(this, ["XPENDING", key, group], (v): XPendingSummary => {
        const [count, smallest, largest, consumers] = v as RespValue[];
        return {
          count: num(count),
          smallest: text(smallest),
          largest: text(largest),
          consumers: list(consumers).map((c) => {
            const [name, n] = c as RespValue[];
            return { name: str(name), count: num(n) };
          }),
        };
      });
    }
    const args: Arg[] = ["XPENDING", key, group];
    if (range.idle !== undefined) args.push("IDLE", range.idle);
    args.push(range.start, range.end, range.count);
    if (range.consumer !== undefined) args.push(range.consumer);
    return call(this, args, (v) =>
      list(v).map((e): XPendingEntry => {
        const [id, consumer, idle, deliveries] = e as RespValue[];
        return {
          id: str(id),
          consumer: str(consumer),
          idle: num(idle),
          deliveries: num(deliveries),
        };
      }));
  }

  /** XCLAIM: takes over pending entries idle at least `minIdle` ms; the
   * claimed entries (ids only with `justId`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xclaim("events", "workers", "bob", 60_000, ["1-0"]); // [{ id: "1-0", fields: {...} }]
   * ```
   */
  xclaim<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
    minIdle: number,
    ids: string[],
    options?: XClaimCommandOptions & { justId?: false },
  ): Reply<S, StreamMessage[]>;
  /** XCLAIM JUSTID: the claimed ids. */
  xclaim<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
    minIdle: number,
    ids: string[],
    options: XClaimCommandOptions & { justId: true },
  ): Reply<S, string[]>;
  xclaim<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
    minIdle: number,
    ids: string[],
    options: XClaimCommandOptions & { justId?: boolean } = {},
  ): Reply<S, unknown> {
    const args: Arg[] = ["XCLAIM", key, group, consumer, minIdle, ...ids];
    if (options.idle !== undefined) args.push("IDLE", options.idle);
    if (options.time !== undefined) args.push("TIME", options.time);
    if (options.retryCount !== undefined) {
      args.push("RETRYCOUNT", options.retryCount);
    }
    if (options.force) args.push("FORCE");
    if (options.justId) args.push("JUSTID");
    if (options.lastId !== undefined) args.push("LASTID", options.lastId);
    return options.justId
      ? call(this, args, strings)
      : call(this, args, streamEntries);
  }

  /** XAUTOCLAIM: claims pending entries idle at least `minIdle` ms,
   * scanning from `start`; the next cursor, the entries, and the ids
   * found deleted.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xautoclaim("events", "workers", "bob", 60_000, "0-0", { count: 25 });
   * ```
   */
  xautoclaim<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
    minIdle: number,
    start: string,
    options?: { count?: number; justId?: false },
  ): Reply<S, XAutoClaimReply>;
  /** XAUTOCLAIM JUSTID: claimed ids instead of entries. */
  xautoclaim<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
    minIdle: number,
    start: string,
    options: { count?: number; justId: true },
  ): Reply<S, XAutoClaimReply<string>>;
  xautoclaim<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
    consumer: string,
    minIdle: number,
    start: string,
    options: { count?: number; justId?: boolean } = {},
  ): Reply<S, unknown> {
    const args: Arg[] = ["XAUTOCLAIM", key, group, consumer, minIdle, start];
    if (options.count !== undefined) args.push("COUNT", options.count);
    if (options.justId) args.push("JUSTID");
    return call(this, args, (v) => {
      const [next, claimed, deleted] = v as RespValue[];
      return {
        next: str(next),
        entries: options.justId ? strings(claimed) : streamEntries(claimed),
        deleted: strings(deleted),
      };
    });
  }

  /** XINFO STREAM: the stream's summary.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const info = await client.xinfoStream("events"); // { length: 2, lastGeneratedId: "2-0", ... }
   * ```
   */
  xinfoStream<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, XInfoStreamReply> {
    return call(this, ["XINFO", "STREAM", key], (v): XInfoStreamReply => {
      const f = fieldsOf(v);
      const n = (k: string) => num(f.get(k) ?? null);
      const s = (k: string) => str(f.get(k) ?? null);
      return {
        length: n("length"),
        radixTreeKeys: n("radix-tree-keys"),
        radixTreeNodes: n("radix-tree-nodes"),
        groups: n("groups"),
        lastGeneratedId: s("last-generated-id"),
        maxDeletedEntryId: s("max-deleted-entry-id"),
        entriesAdded: n("entries-added"),
        recordedFirstEntryId: s("recorded-first-entry-id"),
        firstEntry: xinfoEntry(f.get("first-entry") ?? null),
        lastEntry: xinfoEntry(f.get("last-entry") ?? null),
      };
    });
  }

  /** XINFO STREAM FULL: everything, with camelCase keys (`entries` as
   * {@linkcode StreamMessage}s; `groups` with their `pending` entries and
   * `consumers`).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const full = await client.xinfoStreamFull("events", { count: 10 });
   * ```
   */
  xinfoStreamFull<S extends Queue = Client>(
    this: S,
    key: Key,
    options: { count?: number } = {},
  ): Reply<S, Record<string, unknown>> {
    const args: Arg[] = ["XINFO", "STREAM", key, "FULL"];
    if (options.count !== undefined) args.push("COUNT", options.count);
    return call(this, args, infoFull);
  }

  /** XINFO GROUPS: the stream's consumer groups.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xinfoGroups("events"); // [{ name: "workers", consumers: 1, pending: 0, ... }]
   * ```
   */
  xinfoGroups<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, XInfoGroup[]> {
    return call(
      this,
      ["XINFO", "GROUPS", key],
      (v) =>
        list(v).map((g): XInfoGroup => {
          const f = fieldsOf(g);
          return {
            name: str(f.get("name") ?? null),
            consumers: num(f.get("consumers") ?? null),
            pending: num(f.get("pending") ?? null),
            lastDeliveredId: str(f.get("last-delivered-id") ?? null),
            entriesRead: numOrNull(f.get("entries-read") ?? null),
            lag: numOrNull(f.get("lag") ?? null),
          };
        }),
    );
  }

  /** XINFO CONSUMERS: a group's consumers.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xinfoConsumers("events", "workers"); // [{ name: "alice", pending: 1, idle: 1200 }]
   * ```
   */
  xinfoConsumers<S extends Queue = Client>(
    this: S,
    key: Key,
    group: string,
  ): Reply<S, XInfoConsumer[]> {
    return call(
      this,
      ["XINFO", "CONSUMERS", key, group],
      (v) =>
        list(v).map((c): XInfoConsumer => {
          const f = fieldsOf(c);
          return {
            name: str(f.get("name") ?? null),
            pending: num(f.get("pending") ?? null),
            idle: num(f.get("idle") ?? null),
          };
        }),
    );
  }

  /** XSETID: sets the stream's last id (and, optionally, its entries-added
   * counter and max deleted id); "OK".
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.xsetid("events", "5-0", { entriesAdded: 5, maxDeletedId: "3-0" });
   * ```
   */
  xsetid<S extends Queue = Client>(
    this: S,
    key: Key,
    lastId: string,
    options: { entriesAdded?: number; maxDeletedId?: string } = {},
  ): Reply<S, string> {
    const args: Arg[] = ["XSETID", key, lastId];
    if (options.entriesAdded !== undefined) {
      args.push("ENTRIESADDED", options.entriesAdded);
    }
    if (options.maxDeletedId !== undefined) {
      args.push("MAXDELETEDID", options.maxDeletedId);
    }
    return call(this, args, str);
  }

  // --- generic -----------------------------------------------------------

  /** SORT a list, set or sorted set: the elements (or GET values, null
   * for missing ones); with `store`, stores them and returns how many.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sort("ids", { order: "DESC", limit: { offset: 0, count: 10 } });
   * await client.sort("ids", { by: "nosort", get: ["#", "name_*"] });
   * await client.sort("ids", { alpha: true, store: "sorted" }); // 3
   * ```
   */
  sort<S extends Queue = Client>(
    this: S,
    key: Key,
    options?: SortOptions & { store?: undefined },
  ): Reply<S, (string | null)[]>;
  /** SORT ... STORE: how many elements were stored. */
  sort<S extends Queue = Client>(
    this: S,
    key: Key,
    options: SortOptions & { store: Key },
  ): Reply<S, number>;
  sort<S extends Queue = Client>(
    this: S,
    key: Key,
    options: SortOptions & { store?: Key } = {},
  ): Reply<S, unknown> {
    const args: Arg[] = ["SORT", key, ...sortArgs(options)];
    if (options.store !== undefined) {
      return call(this, [...args, "STORE", options.store], num);
    }
    return call(this, args, (v) => list(v).map(text));
  }

  /** SORT_RO: the read-only SORT (no STORE).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sortRo("ids", { alpha: true });
   * ```
   */
  sortRo<S extends Queue = Client>(
    this: S,
    key: Key,
    options: SortOptions = {},
  ): Reply<S, (string | null)[]> {
    return call(
      this,
      ["SORT_RO", key, ...sortArgs(options)],
      (v) => list(v).map(text),
    );
  }

  /** OBJECT ENCODING: the value's internal encoding (`listpack`,
   * `hashtable`, `intset`, `skiplist`, `quicklist`, `stream`, `int`,
   * `embstr`, `raw`), or null when the key is missing.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.sadd("ids", 1, 2, 3);
   * await client.objectEncoding("ids"); // "intset"
   * ```
   */
  objectEncoding<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, string | null> {
    return call(this, ["OBJECT", "ENCODING", key], text);
  }

  // --- the rest of the command table (introspection, help texts) -------

  /** BGREWRITEAOF: starts a rewrite of the append-only log; the status text. */
  bgrewriteaof<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["BGREWRITEAOF"], str);
  }

  /** CLIENT CACHING: for tracking in OPTIN/OPTOUT mode. */
  clientCaching<S extends Queue = Client>(
    this: S,
    mode: "YES" | "NO",
  ): Reply<S, string> {
    return call(this, ["CLIENT", "CACHING", mode], str);
  }

  /** CLIENT GETREDIR: the client id tracking redirects to (-1: none, 0: not tracking). */
  clientGetredir<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["CLIENT", "GETREDIR"], num);
  }

  /** CLIENT NO-EVICT. */
  clientNoEvict<S extends Queue = Client>(
    this: S,
    mode: "ON" | "OFF",
  ): Reply<S, string> {
    return call(this, ["CLIENT", "NO-EVICT", mode], str);
  }

  /** CLIENT TRACKINGINFO: flags, redirect and prefixes, as the server sends them (text). */
  clientTrackinginfo<S extends Queue = Client>(this: S): Reply<S, RespValue> {
    return call(this, ["CLIENT", "TRACKINGINFO"], replyToText);
  }

  /** CLIENT TRACKING with its options (REDIRECT id, PREFIX p, BCAST, OPTIN, OPTOUT, NOLOOP). */
  clientTracking<S extends Queue = Client>(
    this: S,
    mode: "ON" | "OFF",
    ...options: Arg[]
  ): Reply<S, string> {
    return call(this, ["CLIENT", "TRACKING", mode, ...options], str);
  }

  /** CLIENT HELP: the lines of its help text. */
  clientHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["CLIENT", "HELP"], strings);
  }

  /** CLIENT PAUSE for `timeout` ms. */
  clientPause<S extends Queue = Client>(
    this: S,
    timeout: number,
    mode?: "WRITE" | "ALL",
  ): Reply<S, string> {
    return call(
      this,
      ["CLIENT", "PAUSE", timeout, ...(mode ? [mode] : [])],
      str,
    );
  }

  /** CLIENT UNPAUSE. */
  clientUnpause<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["CLIENT", "UNPAUSE"], str);
  }

  /** CLIENT UNBLOCK: true when that client was blocked. */
  clientUnblock<S extends Queue = Client>(
    this: S,
    id: number,
    mode?: "TIMEOUT" | "ERROR",
  ): Reply<S, boolean> {
    return call(this, ["CLIENT", "UNBLOCK", id, ...(mode ? [mode] : [])], bool);
  }

  /** COMMAND HELP: the lines of its help text. */
  commandHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["COMMAND", "HELP"], strings);
  }

  /** CONFIG REWRITE: writes changed settings back to the configuration file. */
  configRewrite<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["CONFIG", "REWRITE"], str);
  }

  /** CONFIG HELP: the lines of its help text. */
  configHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["CONFIG", "HELP"], strings);
  }

  /** FUNCTION HELP: the lines of its help text. */
  functionHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["FUNCTION", "HELP"], strings);
  }

  /** LATENCY DOCTOR: the report, as text. */
  latencyDoctor<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["LATENCY", "DOCTOR"], str);
  }

  /** LATENCY GRAPH of an event. */
  latencyGraph<S extends Queue = Client>(
    this: S,
    event: string,
  ): Reply<S, string> {
    return call(this, ["LATENCY", "GRAPH", event], str);
  }

  /** LATENCY HISTOGRAM, as the server sends it (text). */
  latencyHistogram<S extends Queue = Client>(
    this: S,
    ...commands: string[]
  ): Reply<S, RespValue> {
    return call(this, ["LATENCY", "HISTOGRAM", ...commands], replyToText);
  }

  /** LATENCY HISTORY of an event: `[time, latency]` samples. */
  latencyHistory<S extends Queue = Client>(
    this: S,
    event: string,
  ): Reply<S, RespValue> {
    return call(this, ["LATENCY", "HISTORY", event], replyToText);
  }

  /** LATENCY LATEST: the latest sample of each event. */
  latencyLatest<S extends Queue = Client>(this: S): Reply<S, RespValue> {
    return call(this, ["LATENCY", "LATEST"], replyToText);
  }

  /** LATENCY RESET: how many event series were reset. */
  latencyReset<S extends Queue = Client>(
    this: S,
    ...events: string[]
  ): Reply<S, number> {
    return call(this, ["LATENCY", "RESET", ...events], num);
  }

  /** LATENCY HELP: the lines of its help text. */
  latencyHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["LATENCY", "HELP"], strings);
  }

  /** MEMORY DOCTOR: the report, as text. */
  memoryDoctor<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["MEMORY", "DOCTOR"], str);
  }

  /** MEMORY MALLOC-STATS, as text. */
  memoryMallocStats<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["MEMORY", "MALLOC-STATS"], str);
  }

  /** MEMORY PURGE. */
  memoryPurge<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["MEMORY", "PURGE"], str);
  }

  /** MEMORY STATS: field-value pairs (a Map in RESP3), as text. */
  memoryStats<S extends Queue = Client>(this: S): Reply<S, RespValue> {
    return call(this, ["MEMORY", "STATS"], replyToText);
  }

  /** MEMORY USAGE: bytes a key takes (an estimate), or null when it does not exist. */
  memoryUsage<S extends Queue = Client>(
    this: S,
    key: Key,
    samples?: number,
  ): Reply<S, number | null> {
    return call(this, [
      "MEMORY",
      "USAGE",
      key,
      ...(samples === undefined ? [] : ["SAMPLES", samples]),
    ], numOrNull);
  }

  /** MEMORY HELP: the lines of its help text. */
  memoryHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["MEMORY", "HELP"], strings);
  }

  /** OBJECT FREQ: the LFU counter (an LFU maxmemory-policy only), null when missing. */
  objectFreq<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, number | null> {
    return call(this, ["OBJECT", "FREQ", key], numOrNull);
  }

  /** OBJECT IDLETIME: seconds since last access, null when missing. */
  objectIdletime<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, number | null> {
    return call(this, ["OBJECT", "IDLETIME", key], numOrNull);
  }

  /** OBJECT REFCOUNT, null when missing. */
  objectRefcount<S extends Queue = Client>(
    this: S,
    key: Key,
  ): Reply<S, number | null> {
    return call(this, ["OBJECT", "REFCOUNT", key], numOrNull);
  }

  /** OBJECT HELP: the lines of its help text. */
  objectHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["OBJECT", "HELP"], strings);
  }

  /** PFDEBUG (GETREG, DECODE, ENCODING, TODENSE) of a HyperLogLog. */
  pfdebug<S extends Queue = Client>(
    this: S,
    subcommand: string,
    key: Key,
  ): Reply<S, RespValue> {
    return call(this, ["PFDEBUG", subcommand, key], replyToText);
  }

  /** PFSELFTEST: "OK" when the HyperLogLog implementation passes. */
  pfselftest<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["PFSELFTEST"], str);
  }

  /** PUBSUB CHANNELS: active channels (matching a glob). */
  pubsubChannels<S extends Queue = Client>(
    this: S,
    pattern?: string,
  ): Reply<S, string[]> {
    return call(this, [
      "PUBSUB",
      "CHANNELS",
      ...(pattern === undefined ? [] : [pattern]),
    ], strings);
  }

  /** PUBSUB NUMPAT: how many patterns are subscribed to. */
  pubsubNumpat<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["PUBSUB", "NUMPAT"], num);
  }

  /** PUBSUB NUMSUB: `[channel, subscribers]` pairs. */
  pubsubNumsub<S extends Queue = Client>(
    this: S,
    ...channels: string[]
  ): Reply<S, [string, number][]> {
    return call(
      this,
      ["PUBSUB", "NUMSUB", ...channels],
      (v) =>
        pairUp(list(v)).map(([c, n]) => [str(c), num(n)] as [string, number]),
    );
  }

  /** PUBSUB SHARDCHANNELS: active shard channels (matching a glob). */
  pubsubShardchannels<S extends Queue = Client>(
    this: S,
    pattern?: string,
  ): Reply<S, string[]> {
    return call(this, [
      "PUBSUB",
      "SHARDCHANNELS",
      ...(pattern === undefined ? [] : [pattern]),
    ], strings);
  }

  /** PUBSUB SHARDNUMSUB: `[channel, subscribers]` pairs. */
  pubsubShardnumsub<S extends Queue = Client>(
    this: S,
    ...channels: string[]
  ): Reply<S, [string, number][]> {
    return call(
      this,
      ["PUBSUB", "SHARDNUMSUB", ...channels],
      (v) =>
        pairUp(list(v)).map(([c, n]) => [str(c), num(n)] as [string, number]),
    );
  }

  /** PUBSUB HELP: the lines of its help text. */
  pubsubHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["PUBSUB", "HELP"], strings);
  }

  /** SCRIPT HELP: the lines of its help text. */
  scriptHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["SCRIPT", "HELP"], strings);
  }

  /** SLOWLOG GET: the entries, as the server sends them (text). */
  slowlogGet<S extends Queue = Client>(
    this: S,
    count?: number,
  ): Reply<S, RespValue> {
    return call(this, [
      "SLOWLOG",
      "GET",
      ...(count === undefined ? [] : [count]),
    ], replyToText);
  }

  /** SLOWLOG LEN. */
  slowlogLen<S extends Queue = Client>(this: S): Reply<S, number> {
    return call(this, ["SLOWLOG", "LEN"], num);
  }

  /** SLOWLOG RESET. */
  slowlogReset<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["SLOWLOG", "RESET"], str);
  }

  /** SLOWLOG HELP: the lines of its help text. */
  slowlogHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["SLOWLOG", "HELP"], strings);
  }

  /** WAIT: how many replicas acknowledged the writes (0 on a server without replicas). */
  wait<S extends Queue = Client>(
    this: S,
    numreplicas: number,
    timeout: number,
  ): Reply<S, number> {
    return call(this, ["WAIT", numreplicas, timeout], num);
  }

  /** XGROUP HELP: the lines of its help text. */
  xgroupHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["XGROUP", "HELP"], strings);
  }

  /** XINFO HELP: the lines of its help text. */
  xinfoHelp<S extends Queue = Client>(this: S): Reply<S, string[]> {
    return call(this, ["XINFO", "HELP"], strings);
  }
  // --- blocking commands and pub/sub --------------------------------------
  // On a Client these run on a connection of their own (see
  // Client.blockingConnections), so they never hold up other calls.

  /** BLPOP: waits up to `timeout` seconds (0: forever) for an element at
   * the head of the first non-empty list; null on timeout.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.blpop(["jobs", "urgent"], 5); // { key: "jobs", element: "j1" } or null
   * ```
   */
  blpop<S extends Queue = Client>(
    this: S,
    keys: Key[],
    timeout: number,
  ): Reply<S, KeyedElement | null> {
    return call(this, ["BLPOP", ...keys, timeout], keyedElement);
  }

  /** BRPOP: as {@linkcode Client.blpop}, from the tail.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.brpop(["jobs"], 0.5); // { key: "jobs", element: "j9" } or null
   * ```
   */
  brpop<S extends Queue = Client>(
    this: S,
    keys: Key[],
    timeout: number,
  ): Reply<S, KeyedElement | null> {
    return call(this, ["BRPOP", ...keys, timeout], keyedElement);
  }

  /** BLMOVE: LMOVE that waits up to `timeout` seconds for an element;
   * the element moved, or null on timeout.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.blmove("todo", "doing", "LEFT", "RIGHT", 10);
   * ```
   */
  blmove<S extends Queue = Client>(
    this: S,
    source: Key,
    destination: Key,
    from: ListSide,
    to: ListSide,
    timeout: number,
  ): Reply<S, string | null> {
    return call(this, ["BLMOVE", source, destination, from, to, timeout], text);
  }

  /** BRPOPLPUSH: BLMOVE RIGHT LEFT.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.brpoplpush("todo", "doing", 10);
   * ```
   */
  brpoplpush<S extends Queue = Client>(
    this: S,
    source: Key,
    destination: Key,
    timeout: number,
  ): Reply<S, string | null> {
    return call(this, ["BRPOPLPUSH", source, destination, timeout], text);
  }

  /** BLMPOP: LMPOP that waits up to `timeout` seconds; null on timeout.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.blmpop(1, ["urgent", "normal"], "LEFT", 5); // { key, elements } or null
   * ```
   */
  blmpop<S extends Queue = Client>(
    this: S,
    timeout: number,
    keys: Key[],
    from: ListSide,
    count?: number,
  ): Reply<S, ListPopResult | null> {
    const args: Arg[] = ["BLMPOP", timeout, keys.length, ...keys, from];
    if (count !== undefined) args.push("COUNT", count);
    return call(this, args, (v) => {
      if (v === null) return null;
      const [k, elements] = v as RespValue[];
      return { key: str(k), elements: strings(elements) };
    });
  }

  /** BZPOPMIN: waits up to `timeout` seconds for the lowest-scored member
   * of the first non-empty sorted set; null on timeout.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bzpopmin(["board"], 1); // { key: "board", member: "ada", score: 1 } or null
   * ```
   */
  bzpopmin<S extends Queue = Client>(
    this: S,
    keys: Key[],
    timeout: number,
  ): Reply<S, KeyedMember | null> {
    return call(this, ["BZPOPMIN", ...keys, timeout], keyedMember);
  }

  /** BZPOPMAX: as {@linkcode Client.bzpopmin}, the highest score.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bzpopmax(["board"], 1); // { key: "board", member: "bob", score: 20 } or null
   * ```
   */
  bzpopmax<S extends Queue = Client>(
    this: S,
    keys: Key[],
    timeout: number,
  ): Reply<S, KeyedMember | null> {
    return call(this, ["BZPOPMAX", ...keys, timeout], keyedMember);
  }

  /** BZMPOP: ZMPOP that waits up to `timeout` seconds; null on timeout.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.bzmpop(1, ["a", "b"], "MIN", 2); // { key, members: [[m, s], ...] } or null
   * ```
   */
  bzmpop<S extends Queue = Client>(
    this: S,
    timeout: number,
    keys: Key[],
    which: "MIN" | "MAX",
    count?: number,
  ): Reply<S, ZPopResult | null> {
    const args: Arg[] = ["BZMPOP", timeout, keys.length, ...keys, which];
    if (count !== undefined) args.push("COUNT", count);
    return call(this, args, (v) => {
      if (v === null) return null;
      const [k, members] = v as RespValue[];
      return { key: str(k), members: scoredPairs(members) };
    });
  }

  /** PUBLISH: how many subscribers received the message.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.publish("news", "hello"); // 1
   * ```
   */
  publish<S extends Queue = Client>(
    this: S,
    channel: Value,
    message: Value,
  ): Reply<S, number> {
    return call(this, ["PUBLISH", channel, message], num);
  }

  /** SPUBLISH: PUBLISH to a shard channel.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.spublish("orders", "created"); // 1
   * ```
   */
  spublish<S extends Queue = Client>(
    this: S,
    channel: Value,
    message: Value,
  ): Reply<S, number> {
    return call(this, ["SPUBLISH", channel, message], num);
  }

  // --- scripting and functions --------------------------------------------

  /** EVAL: runs a Lua script on `keys` (KEYS) with `args` (ARGV) and
   * resolves to its reply (see {@linkcode ScriptReply}); an error reply of
   * the script rejects with a `ReplyError`. The server caches the script,
   * so {@linkcode Client.evalsha} can run it again by its SHA1.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.eval("return redis.call('SET', KEYS[1], ARGV[1])", ["k"], ["v"]); // "OK"
   * await client.eval<number>("return #KEYS + #ARGV", ["a", "b"], [1]); // 3
   * ```
   */
  eval<T = ScriptReply, S extends Queue = Client>(
    this: S,
    script: Value,
    keys: Key[] = [],
    args: Value[] = [],
  ): Reply<S, T> {
    return call(
      this,
      scriptArgs("EVAL", script, keys, args),
      scriptReply as Transform<T>,
    );
  }

  /** EVAL_RO: EVAL of a script that must not write (a write is an error).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.evalRo("return redis.call('GET', KEYS[1])", ["k"]); // "v" or null
   * ```
   */
  evalRo<T = ScriptReply, S extends Queue = Client>(
    this: S,
    script: Value,
    keys: Key[] = [],
    args: Value[] = [],
  ): Reply<S, T> {
    return call(
      this,
      scriptArgs("EVAL_RO", script, keys, args),
      scriptReply as Transform<T>,
    );
  }

  /** EVALSHA: runs a script the server has cached (by EVAL or
   * {@linkcode Client.scriptLoad}) by its SHA1. When the server does not
   * have it, this rejects with a `ReplyError` whose `code` is `NOSCRIPT`:
   * it never falls back to EVAL by itself (it has no source to send); use
   * {@linkcode Client.defineScript} for a script that does.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const sha = await client.scriptLoad("return ARGV[1]");
   * await client.evalsha(sha, [], ["hi"]); // "hi"
   * ```
   */
  evalsha<T = ScriptReply, S extends Queue = Client>(
    this: S,
    sha: string,
    keys: Key[] = [],
    args: Value[] = [],
  ): Reply<S, T> {
    return call(
      this,
      scriptArgs("EVALSHA", sha, keys, args),
      scriptReply as Transform<T>,
    );
  }

  /** EVALSHA_RO: {@linkcode Client.evalsha} of a read-only script (no
   * fallback either: NOSCRIPT rejects).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const sha = await client.scriptLoad("return redis.call('GET', KEYS[1])");
   * await client.evalshaRo(sha, ["k"]);
   * ```
   */
  evalshaRo<T = ScriptReply, S extends Queue = Client>(
    this: S,
    sha: string,
    keys: Key[] = [],
    args: Value[] = [],
  ): Reply<S, T> {
    return call(
      this,
      scriptArgs("EVALSHA_RO", sha, keys, args),
      scriptReply as Transform<T>,
    );
  }

  /** SCRIPT LOAD: caches a script without running it; resolves to its
   * SHA1 (lowercase hex), for {@linkcode Client.evalsha}.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.scriptLoad("return 1"); // "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"
   * ```
   */
  scriptLoad<S extends Queue = Client>(
    this: S,
    script: Value,
  ): Reply<S, string> {
    return call(this, ["SCRIPT", "LOAD", script], str);
  }

  /** SCRIPT EXISTS: whether the server has each script, in order.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const sha = await client.scriptLoad("return 1");
   * await client.scriptExists(sha, "0000000000000000000000000000000000000000"); // [true, false]
   * ```
   */
  scriptExists<S extends Queue = Client>(
    this: S,
    ...shas: string[]
  ): Reply<S, boolean[]> {
    return call(this, ["SCRIPT", "EXISTS", ...shas], bools);
  }

  /** SCRIPT FLUSH: drops every cached script ("OK").
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.scriptFlush(); // or scriptFlush("ASYNC")
   * ```
   */
  scriptFlush<S extends Queue = Client>(
    this: S,
    mode?: "ASYNC" | "SYNC",
  ): Reply<S, string> {
    return call(
      this,
      mode ? ["SCRIPT", "FLUSH", mode] : ["SCRIPT", "FLUSH"],
      str,
    );
  }

  /** SCRIPT KILL: stops the script running now if it has not written
   * ("OK"); rejects with `NOTBUSY` when none runs, `UNKILLABLE` when it
   * wrote. On a {@linkcode Client} it goes on a connection of its own, so
   * it is not queued behind the script's own EVAL.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.scriptKill().catch((e) => e.code); // "NOTBUSY" when idle
   * ```
   */
  scriptKill<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["SCRIPT", "KILL"], str);
  }

  /** FCALL: calls a function of a loaded library (see
   * {@linkcode Client.functionLoad}) on `keys` with `args`; the reply as
   * for {@linkcode Client.eval}.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.fcall("myfunc", ["k"], ["v"]);
   * ```
   */
  fcall<T = ScriptReply, S extends Queue = Client>(
    this: S,
    fn: string,
    keys: Key[] = [],
    args: Value[] = [],
  ): Reply<S, T> {
    return call(
      this,
      scriptArgs("FCALL", fn, keys, args),
      scriptReply as Transform<T>,
    );
  }

  /** FCALL_RO: FCALL of a function registered with the `no-writes` flag.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.fcallRo("myreader", ["k"]);
   * ```
   */
  fcallRo<T = ScriptReply, S extends Queue = Client>(
    this: S,
    fn: string,
    keys: Key[] = [],
    args: Value[] = [],
  ): Reply<S, T> {
    return call(
      this,
      scriptArgs("FCALL_RO", fn, keys, args),
      scriptReply as Transform<T>,
    );
  }

  /** FUNCTION LOAD: loads a library (source starting `#!lua name=...`);
   * resolves to the library's name. Loading a name again rejects unless
   * `replace`.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.functionLoad(
   *   "#!lua name=mylib\nredis.register_function('hello', function() return 'hi' end)",
   *   { replace: true },
   * ); // "mylib"
   * await client.fcall("hello"); // "hi"
   * ```
   */
  functionLoad<S extends Queue = Client>(
    this: S,
    code: Value,
    options: FunctionLoadOptions = {},
  ): Reply<S, string> {
    const args: Arg[] = ["FUNCTION", "LOAD"];
    if (options.replace) args.push("REPLACE");
    return call(this, [...args, code], str);
  }

  /** FUNCTION LIST: the loaded libraries with their functions (and
   * source, with `withCode`), in the server's order.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * for (const lib of await client.functionList({ libraryName: "my*" })) {
   *   console.log(lib.libraryName, lib.functions.map((f) => f.name));
   * }
   * ```
   */
  functionList<S extends Queue = Client>(
    this: S,
    options: FunctionListOptions = {},
  ): Reply<S, FunctionLibrary[]> {
    const args: Arg[] = ["FUNCTION", "LIST"];
    if (options.libraryName !== undefined) {
      args.push("LIBRARYNAME", options.libraryName);
    }
    if (options.withCode) args.push("WITHCODE");
    return call(this, args, (v) => list(v).map(functionLibrary));
  }

  /** FUNCTION DELETE: removes a library and its functions ("OK").
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.functionDelete("mylib");
   * ```
   */
  functionDelete<S extends Queue = Client>(
    this: S,
    libraryName: string,
  ): Reply<S, string> {
    return call(this, ["FUNCTION", "DELETE", libraryName], str);
  }

  /** FUNCTION FLUSH: removes every library ("OK").
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.functionFlush(); // or functionFlush("SYNC")
   * ```
   */
  functionFlush<S extends Queue = Client>(
    this: S,
    mode?: "ASYNC" | "SYNC",
  ): Reply<S, string> {
    return call(
      this,
      mode ? ["FUNCTION", "FLUSH", mode] : ["FUNCTION", "FLUSH"],
      str,
    );
  }

  /** FUNCTION DUMP: every library as an opaque payload (bytes) for
   * {@linkcode Client.functionRestore}.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const payload = await client.functionDump();
   * await client.functionRestore(payload, "REPLACE");
   * ```
   */
  functionDump<S extends Queue = Client>(this: S): Reply<S, Uint8Array> {
    return call(this, ["FUNCTION", "DUMP"], (v) => bytes(v)!);
  }

  /** FUNCTION RESTORE: loads the libraries of a
   * {@linkcode Client.functionDump} payload ("OK"). `policy`: APPEND
   * (default; a library that exists is an error), REPLACE, or FLUSH (drop
   * every library first).
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const payload = await client.functionDump();
   * await client.functionRestore(payload, "FLUSH");
   * ```
   */
  functionRestore<S extends Queue = Client>(
    this: S,
    payload: Uint8Array,
    policy?: "FLUSH" | "APPEND" | "REPLACE",
  ): Reply<S, string> {
    const args: Arg[] = ["FUNCTION", "RESTORE", payload];
    if (policy) args.push(policy);
    return call(this, args, str);
  }

  /** FUNCTION STATS: the function running now (if any) and how many
   * libraries and functions each engine has.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * const { runningScript, engines } = await client.functionStats();
   * console.log(runningScript, engines.LUA.librariesCount);
   * ```
   */
  functionStats<S extends Queue = Client>(this: S): Reply<S, FunctionStats> {
    return call(this, ["FUNCTION", "STATS"], functionStats);
  }

  /** FUNCTION KILL: stops the function running now if it has not written
   * ("OK"); rejects with `NOTBUSY` when none runs. On a
   * {@linkcode Client} it goes on a connection of its own, so it is not
   * queued behind the function's own FCALL.
   *
   * @example
   * ```ts
   * import { Client } from "@kv/store";
   * const client = await Client.connect();
   * await client.functionKill().catch((e) => e.code); // "NOTBUSY" when idle
   * ```
   */
  functionKill<S extends Queue = Client>(this: S): Reply<S, string> {
    return call(this, ["FUNCTION", "KILL"], str);
  }
}

/** The method names used before the naming rule (see {@linkcode Client}),
 * kept so code written against them still works. Each is the same function
 * as its new name, on clients, pipelines and transactions. */
export interface Client {
  /** @deprecated Use {@linkcode Client.decrby} (the same method, named by the rule). */
  decrBy: Client["decrby"];
  /** @deprecated Use {@linkcode Client.incrby} (the same method, named by the rule). */
  incrBy: Client["incrby"];
  /** @deprecated Use {@linkcode Client.incrbyfloat} (the same method, named by the rule). */
  incrByFloat: Client["incrbyfloat"];
  /** @deprecated Use {@linkcode Client.expireat} (the same method, named by the rule). */
  expireAt: Client["expireat"];
  /** @deprecated Use {@linkcode Client.pexpireat} (the same method, named by the rule). */
  pexpireAt: Client["pexpireat"];
  /** @deprecated Use {@linkcode Client.expiretime} (the same method, named by the rule). */
  expireTime: Client["expiretime"];
  /** @deprecated Use {@linkcode Client.pexpiretime} (the same method, named by the rule). */
  pexpireTime: Client["pexpiretime"];
  /** @deprecated Use {@linkcode Client.flushall} (the same method, named by the rule). */
  flushAll: Client["flushall"];
  /** @deprecated Use {@linkcode Client.flushdb} (the same method, named by the rule). */
  flushDb: Client["flushdb"];
  /** @deprecated Use {@linkcode Client.georadiusbymember} (the same method, named by the rule). */
  georadiusByMember: Client["georadiusbymember"];
  /** @deprecated Use {@linkcode Client.georadiusbymemberRo} (the same method, named by the rule). */
  georadiusByMemberRo: Client["georadiusbymemberRo"];
  /** @deprecated Use {@linkcode Client.hincrby} (the same method, named by the rule). */
  hincrBy: Client["hincrby"];
  /** @deprecated Use {@linkcode Client.hincrbyfloat} (the same method, named by the rule). */
  hincrByFloat: Client["hincrbyfloat"];
  /** @deprecated Use {@linkcode Client.hrandfield} (the same method, named by the rule). */
  hrandField: Client["hrandfield"];
  /** @deprecated Use {@linkcode Client.randomkey} (the same method, named by the rule). */
  randomKey: Client["randomkey"];
  /** @deprecated Use {@linkcode Client.renamenx} (the same method, named by the rule). */
  renameNx: Client["renamenx"];
  /** @deprecated Use {@linkcode Client.srandmember} (the same method, named by the rule). */
  srandMember: Client["srandmember"];
  /** @deprecated Use {@linkcode Client.zdiffstore} (the same method, named by the rule). */
  zdiffStore: Client["zdiffstore"];
  /** @deprecated Use {@linkcode Client.zincrby} (the same method, named by the rule). */
  zincrBy: Client["zincrby"];
  /** @deprecated Use {@linkcode Client.zinterstore} (the same method, named by the rule). */
  zinterStore: Client["zinterstore"];
  /** @deprecated Use {@linkcode Client.zpopmax} (the same method, named by the rule). */
  zpopMax: Client["zpopmax"];
  /** @deprecated Use {@linkcode Client.zpopmin} (the same method, named by the rule). */
  zpopMin: Client["zpopmin"];
  /** @deprecated Use {@linkcode Client.zrandmember} (the same method, named by the rule). */
  zrandMember: Client["zrandmember"];
  /** @deprecated Use {@linkcode Client.zrangebylex} (the same method, named by the rule). */
  zrangeByLex: Client["zrangebylex"];
  /** @deprecated Use {@linkcode Client.zrangebyscore} (the same method, named by the rule). */
  zrangeByScore: Client["zrangebyscore"];
  /** @deprecated Use {@linkcode Client.zrangestore} (the same method, named by the rule). */
  zrangeStore: Client["zrangestore"];
  /** @deprecated Use {@linkcode Client.zremrangebylex} (the same method, named by the rule). */
  zremRangeByLex: Client["zremrangebylex"];
  /** @deprecated Use {@linkcode Client.zremrangebyrank} (the same method, named by the rule). */
  zremRangeByRank: Client["zremrangebyrank"];
  /** @deprecated Use {@linkcode Client.zremrangebyscore} (the same method, named by the rule). */
  zremRangeByScore: Client["zremrangebyscore"];
  /** @deprecated Use {@linkcode Client.zrevrangebylex} (the same method, named by the rule). */
  zrevrangeByLex: Client["zrevrangebylex"];
  /** @deprecated Use {@linkcode Client.zrevrangebyscore} (the same method, named by the rule). */
  zrevrangeByScore: Client["zrevrangebyscore"];
  /** @deprecated Use {@linkcode Client.zunionstore} (the same method, named by the rule). */
  zunionStore: Client["zunionstore"];
  /** @deprecated Use {@linkcode Client.clientGetname} (the same method, named by the rule). */
  clientGetName: Client["clientGetname"];
  /** @deprecated Use {@linkcode Client.clientSetname} (the same method, named by the rule). */
  clientSetName: Client["clientSetname"];
  /** @deprecated Use {@linkcode Client.configResetstat} (the same method, named by the rule). */
  configResetStat: Client["configResetstat"];
  /** @deprecated Use {@linkcode Client.xgroupCreateconsumer} (the same method, named by the rule). */
  xgroupCreateConsumer: Client["xgroupCreateconsumer"];
  /** @deprecated Use {@linkcode Client.xgroupDelconsumer} (the same method, named by the rule). */
  xgroupDelConsumer: Client["xgroupDelconsumer"];
  /** @deprecated Use {@linkcode Client.xgroupSetid} (the same method, named by the rule). */
  xgroupSetId: Client["xgroupSetid"];
}

/** Old method name, new method name. */
const DEPRECATED_NAMES: [string, string][] = [
  ["decrBy", "decrby"],
  ["incrBy", "incrby"],
  ["incrByFloat", "incrbyfloat"],
  ["expireAt", "expireat"],
  ["pexpireAt", "pexpireat"],
  ["expireTime", "expiretime"],
  ["pexpireTime", "pexpiretime"],
  ["flushAll", "flushall"],
  ["flushDb", "flushdb"],
  ["georadiusByMember", "georadiusbymember"],
  ["georadiusByMemberRo", "georadiusbymemberRo"],
  ["hincrBy", "hincrby"],
  ["hincrByFloat", "hincrbyfloat"],
  ["hrandField", "hrandfield"],
  ["randomKey", "randomkey"],
  ["renameNx", "renamenx"],
  ["srandMember", "srandmember"],
  ["zdiffStore", "zdiffstore"],
  ["zincrBy", "zincrby"],
  ["zinterStore", "zinterstore"],
  ["zpopMax", "zpopmax"],
  ["zpopMin", "zpopmin"],
  ["zrandMember", "zrandmember"],
  ["zrangeByLex", "zrangebylex"],
  ["zrangeByScore", "zrangebyscore"],
  ["zrangeStore", "zrangestore"],
  ["zremRangeByLex", "zremrangebylex"],
  ["zremRangeByRank", "zremrangebyrank"],
  ["zremRangeByScore", "zremrangebyscore"],
  ["zrevrangeByLex", "zrevrangebylex"],
  ["zrevrangeByScore", "zrevrangebyscore"],
  ["zunionStore", "zunionstore"],
  ["clientGetName", "clientGetname"],
  ["clientSetName", "clientSetname"],
  ["configResetStat", "configResetstat"],
  ["xgroupCreateConsumer", "xgroupCreateconsumer"],
  ["xgroupDelConsumer", "xgroupDelconsumer"],
  ["xgroupSetId", "xgroupSetid"],
];
for (const [old, name] of DEPRECATED_NAMES) {
  Object.defineProperty(
    Client.prototype,
    old,
    Object.getOwnPropertyDescriptor(Client.prototype, name)!,
  );
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
export class Pipeline<A extends unknown[] = []> {
  #commands: [Arg[], Transform<unknown>][] = [];
  #run: (commands: [Arg[], Transform<unknown>][]) => Promise<unknown[]>;

  /** Created by {@linkcode Client.pipeline}. */
  constructor(
    run: (commands: [Arg[], Transform<unknown>][]) => Promise<unknown[]>,
  ) {
    this.#run = run;
  }

  /** @ignore */
  [CALL]<T>(args: Arg[], transform: Transform<T>): unknown {
    this.#commands.push([args, transform]);
    return this;
  }

  /** How many commands are queued. */
  get length(): number {
    return this.#commands.length;
  }

  /** Sends every queued command at once; their replies, in order, typed
   * from the calls that queued them (an error reply comes back as a
   * {@linkcode ReplyError} in its place). */
  exec(): Promise<Replies<A>> {
    const commands = this.#commands;
    this.#commands = [];
    return this.#run(commands) as Promise<Replies<A>>;
  }
}

/** Every command method of {@linkcode Client}, queueing instead of sending.
 *
 * @example
 * ```ts
 * import type { Pipeline } from "@kv/store";
 * function queue(p: Pipeline): Pipeline<[string | null]> {
 *   return p.get("k");
 * }
 * ```
 */
export interface Pipeline<A extends unknown[] = []>
  extends Omit<Client, ClientOnly> {}

/**
 * Commands queued for one MULTI / EXEC transaction, made by
 * {@linkcode Client.multi}. Nothing is sent until
 * {@linkcode ClientTransaction.exec}, which writes MULTI, the commands and EXEC
 * at once. It has every command method of {@linkcode Client}; each queues
 * and returns the transaction, typed with the command's result.
 *
 * @example
 * ```ts
 * import { Client } from "@kv/store";
 * async function hits(client: Client) {
 *   const results = await client.multi().incr("hits").get("hits").exec();
 *   if (results === null) return; // a WATCHed key changed
 *   const [n, text] = results; // number | ReplyError, string | null | ReplyError
 *   console.log(n, text);
 * }
 * ```
 */
export class ClientTransaction<A extends unknown[] = []> {
  #commands: [Arg[], Transform<unknown>][] = [];
  #run: (commands: [Arg[], Transform<unknown>][]) => Promise<unknown[] | null>;
  #discard: () => Promise<unknown> | null;

  /** Created by {@linkcode Client.multi}. */
  constructor(
    run: (commands: [Arg[], Transform<unknown>][]) => Promise<unknown[] | null>,
    discard: () => Promise<unknown> | null,
  ) {
    this.#run = run;
    this.#discard = discard;
  }

  /** @ignore */
  [CALL]<T>(args: Arg[], transform: Transform<T>): unknown {
    this.#commands.push([args, transform]);
    return this;
  }

  /** How many commands are queued. */
  get length(): number {
    return this.#commands.length;
  }

  /** Runs the queued commands atomically: their typed results in order
   * (a command that failed inside the transaction gives its
   * {@linkcode ReplyError} as a value), or null when a WATCHed key changed.
   * Rejects with the EXECABORT error when the server refused a command
   * while queueing (a syntax or arity error): nothing ran. */
  exec(): Promise<Replies<A> | null> {
    const commands = this.#commands;
    this.#commands = [];
    return this.#run(commands) as Promise<Replies<A> | null>;
  }

  /** Drops the queued commands (nothing was sent); on a dedicated
   * connection also UNWATCHes, as DISCARD does. */
  async discard(): Promise<void> {
    this.#commands = [];
    await this.#discard();
  }
}

/** Every command method of {@linkcode Client}, queueing instead of sending.
 *
 * @example
 * ```ts
 * import type { ClientTransaction } from "@kv/store";
 * function queue(t: ClientTransaction): ClientTransaction<[number]> {
 *   return t.incr("k");
 * }
 * ```
 */
export interface ClientTransaction<A extends unknown[] = []>
  extends Omit<Client, ClientOnly> {}

/** Members of {@linkcode Client} that are not command methods (the
 * connection's own API): pipelines and transactions do not have them. */
const CLIENT_ONLY: readonly Exclude<ClientOnly, symbol>[] = [
  "options",
  "db",
  "timeout",
  "connected",
  "addEventListener",
  "removeEventListener",
  "blockingConnections",
  "pipeline",
  "multi",
  "watch",
  "unwatch",
  "isolated",
  "localCache",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "flush",
  "defineScript",
  "scanIterator",
  "hscanIterator",
  "sscanIterator",
  "zscanIterator",
  "shutdown",
  "nodes",
  "quit",
  "close",
];
/** Names of the {@linkcode Client} members that pipelines and transactions
 * leave out: the connection's own API, not commands.
 *
 * @example
 * ```ts
 * import type { ClientOnly } from "@kv/store";
 * const name: ClientOnly = "close";
 * ```
 */
export type ClientOnly =
  | "options"
  | "db"
  | "timeout"
  | "connected"
  | "addEventListener"
  | "removeEventListener"
  | "blockingConnections"
  | "pipeline"
  | "multi"
  | "watch"
  | "unwatch"
  | "isolated"
  | "localCache"
  | "subscribe"
  | "psubscribe"
  | "ssubscribe"
  | "flush"
  | "defineScript"
  | "scanIterator"
  | "hscanIterator"
  | "sscanIterator"
  | "zscanIterator"
  | "shutdown"
  | "nodes"
  | "quit"
  | "close"
  | typeof Symbol.asyncDispose;

{
  const skip = new Set<string>(CLIENT_ONLY);
  for (const name of Object.getOwnPropertyNames(Client.prototype)) {
    if (name === "constructor" || skip.has(name)) continue;
    const d = Object.getOwnPropertyDescriptor(Client.prototype, name)!;
    if (typeof d.value !== "function") continue;
    Object.defineProperty(Pipeline.prototype, name, d);
    Object.defineProperty(ClientTransaction.prototype, name, d);
  }
}

/** A message delivered to a {@linkcode Subscription}.
 *
 * @example
 * ```ts ignore
 * const sub = await client.psubscribe("news.*");
 * for await (const m of sub) console.log(m.pattern, m.channel, m.message);
 * ```
 */
export interface PubSubMessage {
  /** The channel it was published to. */
  channel: string;
  /** The message. */
  message: string;
  /** The pattern that matched (PSUBSCRIBE only). */
  pattern?: string;
}

/**
 * Channels (or patterns, or shard channels) subscribed with
 * {@linkcode Client.subscribe}, {@linkcode Client.psubscribe} or
 * {@linkcode Client.ssubscribe}: an async iterator of their messages
 * (unless a listener was given, which gets them instead). Iteration ends
 * after {@linkcode Subscription.unsubscribe} or when the client closes.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * await using client = await Client.connect();
 * await using sub = await client.subscribe("news");
 * await client.publish("news", "hello");
 * for await (const { message } of sub) {
 *   console.log(message); // "hello"
 *   break;
 * }
 * ```
 */
export class Subscription implements AsyncIterable<PubSubMessage> {
  /** `c` (channels), `p` (patterns) or `s` (shard channels). */
  readonly kind: "c" | "p" | "s";
  /** The channels or patterns. */
  readonly names: readonly string[];
  #listener?: (message: PubSubMessage) => void;
  #remove: (sub: Subscription) => Promise<void>;
  #queue: PubSubMessage[] = [];
  #head = 0;
  #waiting: ((r: IteratorResult<PubSubMessage>) => void) | null = null;
  #ended = false;

  /** Created by the client's subscribe methods. */
  constructor(
    kind: "c" | "p" | "s",
    names: readonly string[],
    listener: ((message: PubSubMessage) => void) | undefined,
    remove: (sub: Subscription) => Promise<void>,
  ) {
    this.kind = kind;
    this.names = names;
    this.#listener = listener;
    this.#remove = remove;
  }

  /** True until unsubscribed or the client closed. */
  get active(): boolean {
    return !this.#ended;
  }

  /** Hands a message to the listener or the iterator (internal). */
  deliver(message: PubSubMessage): void {
    if (this.#ended) return;
    if (this.#listener !== undefined) {
      this.#listener(message);
    } else if (this.#waiting !== null) {
      const w = this.#waiting;
      this.#waiting = null;
      w({ value: message, done: false });
    } else this.#queue.push(message);
  }

  /** Ends iteration without telling the server (internal). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#waiting !== null) {
      const w = this.#waiting;
      this.#waiting = null;
      w({ value: undefined, done: true });
    }
  }

  /** Unsubscribes (the server is told once no other subscription of this
   * client wants the same names) and ends iteration; messages already
   * received can still be read. */
  async unsubscribe(): Promise<void> {
    if (this.#ended) return;
    this.end();
    await this.#remove(this);
  }

  /** Unsubscribes (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.unsubscribe();
  }

  /** The next message; done once unsubscribed and drained. */
  next(): Promise<IteratorResult<PubSubMessage>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head++];
      if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => this.#waiting = resolve);
  }

  /** Iterates the messages; leaving a `for await` loop does not
   * unsubscribe (call {@linkcode Subscription.unsubscribe}). */
  [Symbol.asyncIterator](): AsyncIterator<PubSubMessage> {
    return { next: () => this.next() };
  }
}

/**
 * GET replies kept in memory and dropped when the server says the key
 * changed (client-side caching with CLIENT TRACKING), made by
 * {@linkcode Client.localCache}. Least recently used entries go first once
 * `maxEntries` are held.
 *
 * @example
 * ```ts ignore
 * import { Client } from "@kv/store";
 * await using client = await Client.connect();
 * await using cache = await client.localCache();
 * console.log(await cache.get("feature-flags"), cache.hits, cache.misses);
 * ```
 */
export class LocalCache {
  #entries = new Map<string, string | null>();
  #loading = new Map<string, Promise<string | null>>();
  #max: number;
  #fetch: (key: string) => Promise<string | null>;
  #close: () => void;
  /** Bumped by every invalidation: a reply that raced one is not kept. */
  #epoch = 0;
  #closed = false;
  /** Reads answered without a request of their own (from memory, or
   * sharing a read of the same key in flight). */
  hits = 0;
  /** Reads that went to the server. */
  misses = 0;

  /** Created by {@linkcode Client.localCache}. */
  constructor(
    maxEntries: number,
    fetch: (key: string) => Promise<string | null>,
    close: () => void,
  ) {
    this.#max = Math.max(1, maxEntries);
    this.#fetch = fetch;
    this.#close = close;
  }

  /** How many keys are held. */
  get size(): number {
    return this.#entries.size;
  }

  /** GET through the cache: the value as text, or null. */
  get(key: string): Promise<string | null> {
    if (this.#closed) {
      return Promise.reject(new ConnectionError("the cache is closed"));
    }
    if (this.#entries.has(key)) {
      const v = this.#entries.get(key)!;
      this.#entries.delete(key); // most recently used goes last
      this.#entries.set(key, v);
      this.hits++;
      return Promise.resolve(v);
    }
    const loading = this.#loading.get(key);
    if (loading !== undefined) {
      this.hits++;
      return loading;
    }
    this.misses++;
    const epoch = this.#epoch;
    const p = this.#fetch(key).then((v) => {
      if (this.#epoch === epoch && !this.#closed) {
        this.#entries.set(key, v);
        if (this.#entries.size > this.#max) {
          this.#entries.delete(this.#entries.keys().next().value!);
        }
      }
      return v;
    }).finally(() => this.#loading.delete(key));
    this.#loading.set(key, p);
    return p;
  }

  /** Drops these keys (all with null), as an invalidation does. */
  invalidate(keys: string[] | null): void {
    this.#epoch++;
    if (keys === null) this.#entries.clear();
    else for (const k of keys) this.#entries.delete(k);
  }

  /** Empties the cache and closes its connection. */
  close(): void {
    this.#closed = true;
    this.#entries.clear();
    this.#close();
  }

  /** Closes the cache (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

const SUBSCRIBE = { c: "SUBSCRIBE", p: "PSUBSCRIBE", s: "SSUBSCRIBE" };
const UNSUBSCRIBE = { c: "UNSUBSCRIBE", p: "PUNSUBSCRIBE", s: "SUNSUBSCRIBE" };
/** Idle blocking connections kept for the next blocking call. */
const MAX_IDLE_BLOCKING = 4;
const BLOCKING = new Set([
  "BLPOP",
  "BRPOP",
  "BLMOVE",
  "BRPOPLPUSH",
  "BLMPOP",
  "BZPOPMIN",
  "BZPOPMAX",
  "BZMPOP",
  "WAIT",
]);

function argText(a: Arg): string {
  return typeof a === "string"
    ? a
    : typeof a === "number"
    ? String(a)
    : utf8.decode(a);
}

/** WATCH and UNWATCH in cluster mode: only on a node's connection. */
function clusterNeedsIsolated(command: string): Promise<never> {
  return Promise.reject(
    new Error(
      `${command} in cluster mode needs the connection of a key's node: use client.isolated(key, async (c) => ...)`,
    ),
  );
}

/** A command that may block the connection, or that must not wait behind
 * one (SCRIPT KILL, FUNCTION KILL): it gets a connection of its own. */
function isBlocking(args: Arg[]): boolean {
  const name = argText(args[0]).toUpperCase();
  if (BLOCKING.has(name)) return true;
  if (name === "SCRIPT" || name === "FUNCTION") {
    return args.length === 2 && argText(args[1]).toUpperCase() === "KILL";
  }
  if (name !== "XREAD" && name !== "XREADGROUP") return false;
  for (let i = 1; i < args.length; i++) {
    const a = argText(args[i]).toUpperCase();
    if (a === "STREAMS") return false;
    if (a === "BLOCK") return true;
  }
  return false;
}

/** The database a command leaves its connection in when it succeeds:
 * SELECT's, 0 for RESET; undefined for any other command. */
function selectedDb(args: Arg[]): number | undefined {
  const n = args.length;
  if (n > 2) return undefined;
  const first = args[0];
  if (
    first === undefined || typeof first === "number" ||
    (first.length !== 6 && first.length !== 5)
  ) {
    return undefined;
  }
  const name = argText(first).toUpperCase();
  if (name === "RESET" && n === 1) return 0;
  if (name !== "SELECT" || n !== 2) return undefined;
  const text = argText(args[1]);
  return /^-?\d+$/.test(text) ? Number(text) : undefined;
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

async function sha1Hex(s: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-1",
    new TextEncoder().encode(s),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}
