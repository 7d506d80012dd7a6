// Types and helpers every command family uses.

import type { ReplyWriter } from "../protocol.ts";
import { type Store, STORE_ERRORS } from "../store.ts";
import type { Persistence } from "../persistence.ts";
import type { ServerConfig } from "../config.ts";
import type { CommandInfoData } from "./_table_data.ts";
import type { PubSub, Subscriptions } from "./pubsub.ts";
import { parseInt64 } from "../_number.ts";
import type { Transaction } from "./transactions.ts";
import type { BlockedClient } from "./blocking.ts";
import type { ClientTracking } from "./tracking.ts";

/** State of one connected client, as CLIENT and INFO show it.
 *
 * @example
 * ```ts
 * import { type ClientState, Server } from "@kv/store";
 * const whoami = (client: ClientState) => `${client.id} ${client.addr}`;
 * await using server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "WHOAMI",
 *   arity: 1,
 *   handler: (s) => s.out.bulk(whoami(s.client)),
 * });
 * ```
 */
export interface ClientState {
  /** Unique, increasing id (CLIENT ID). */
  readonly id: number;
  /** `ip:port` of the peer. */
  readonly addr: string;
  /** `ip:port` of our side. */
  readonly laddr: string;
  /** Connection time, ms since the epoch. */
  readonly createdAt: number;
  /** Last time a command arrived, ms since the epoch. */
  lastInteraction: number;
  /** CLIENT SETNAME. */
  name: string;
  /** CLIENT SETINFO LIB-NAME. */
  libName: string;
  /** CLIENT SETINFO LIB-VER. */
  libVer: string;
  /** AUTH succeeded (or no password is set). */
  authenticated: boolean;
  /** Last command run, lowercase (`client|list` for subcommands). */
  lastCommand: string;
  /** Close the connection once the pending replies are written. */
  closeAfterReply: boolean;
  /** The selected database (SELECT). */
  db: number;
  /** The client's reply writer (holds its RESP version). */
  readonly out: ReplyWriter;
  /** Bytes of input held for an incomplete request. */
  queryBufferBytes(): number;
  /** Closes the connection (CLIENT KILL, timeouts, limits). */
  kill(): void;
  /** MULTI and WATCH state (commands/transactions.ts); null or absent
   * when the client uses neither. */
  tx?: Transaction | null;
  /** Pub/sub subscriptions; null while the client has none. */
  pubsub: Subscriptions | null;
  /** Sends what was written to `out` outside the client's own commands
   * (pub/sub messages), enforcing the output buffer limits. */
  wake(): void;
  /** The blocking command the client waits in (commands/blocking.ts);
   * null or absent when it is not blocked. */
  blocked?: BlockedClient | null;
  /** Client-side caching mode (commands/tracking.ts); null or absent
   * when the client does not track. */
  tracking?: ClientTracking | null;
  /** CLIENT REPLY mode (commands/introspection.ts); 0 or absent: ON. */
  replyMode?: number;
  /** CLIENT NO-EVICT ON. */
  noEvict?: boolean;
  /** A replica of this server (it sent PSYNC or SYNC): CLIENT LIST's `S`
   * flag and `TYPE replica`. */
  replica?: boolean;
  /** A script of this client's runs past the busy threshold and yields
   * (commands/scripting.ts): its reply comes when this settles. */
  scriptWait?: Promise<void> | null;
}

/** Counters the server keeps for INFO stats.
 *
 * @example
 * ```ts
 * import { Server, type ServerStats } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * const stats: ServerStats = server.stats;
 * console.log(stats.commandsProcessed); // 0
 * ```
 */
export interface ServerStats {
  /** Connections accepted. */
  connectionsReceived: number;
  /** Connections refused (maxclients). */
  rejectedConnections: number;
  /** Commands processed. */
  commandsProcessed: number;
  /** Bytes read from clients. */
  netInputBytes: number;
  /** Bytes written to clients. */
  netOutputBytes: number;
  /** Errors replied, by code (INFO errorstats). */
  errors: Map<string, number>;
  /** Clients disconnected for exceeding the output buffer limit. */
  outputLimitDisconnections: number;
  /** Reads from client sockets (INFO total_reads_processed). */
  readsProcessed: number;
  /** Writes to client sockets (INFO total_writes_processed). */
  writesProcessed: number;
}

/** What a command sees of the server around it.
 *
 * @example
 * ```ts
 * import { Server, type ServerState } from "@kv/store";
 * const clientCount = (server: ServerState) => server.clients.size;
 * await using server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "CLIENTS",
 *   arity: 1,
 *   handler: (s) => s.out.int(clientCount(s.server)),
 * });
 * ```
 */
export interface ServerState {
  /** Settings (CONFIG GET/SET). */
  readonly config: ServerConfig;
  /** Database 0. */
  readonly store: Store;
  /** Database `index`, made on first use (SELECT); throws a RangeError
   * outside 0 to `databases` - 1. */
  db(index: number): Store;
  /** The databases made so far (index, store), ordered by index. */
  readonly databases: readonly (readonly [number, Store])[];
  /** Connected clients by id. */
  readonly clients: Map<number, ClientState>;
  /** Counters. */
  readonly stats: ServerStats;
  /** The command table. */
  readonly commands: CommandTable;
  /** Start time, ms since the epoch. */
  readonly startedAt: number;
  /** Port actually bound. */
  readonly port: number;
  /** Applies a CONFIG SET; returns an error message or undefined. */
  configSet(name: string, value: string): string | undefined;
  /** Commands per second over the last couple of seconds. */
  opsPerSec(): number;
  /** Snapshots and the append-only log. */
  readonly persistence: Persistence;
  /** Pub/sub channels and keyspace notifications. */
  readonly pubsub: PubSub;
  /**
   * Shuts down as SHUTDOWN and SIGTERM do: no command runs any more, a
   * background save or rewrite is stopped, a snapshot is saved when `save`
   * (default: when a save policy is configured), then the server closes.
   * When the save fails (unless `force`) it answers `client` with an error,
   * keeps running and resolves false.
   */
  shutdown(
    options?: { save?: boolean; force?: boolean; client?: ClientState },
  ): Promise<boolean>;
  /** Writes a log line. */
  log(level: "debug" | "verbose" | "notice" | "warning", msg: string): void;
}

/** Everything a command handler gets: where to write, and what it acts on.
 *
 * @example
 * ```ts
 * import { Client, Server, type Session } from "@kv/store";
 * const getUpper = (s: Session, key: string) =>
 *   s.out.bulkOrNil(s.store.read(key)?.toUpperCase());
 * await using server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "GETUPPER",
 *   arity: 2,
 *   flags: ["readonly"],
 *   keys: [1, 1, 1],
 *   handler: (s, argv) => getUpper(s, argv[1]),
 * });
 * await server.listen();
 * await using client = await Client.connect({ port: server.port });
 * await client.set("greeting", "hello");
 * await client.execute("GETUPPER", "greeting"); // "HELLO"
 * ```
 */
export interface Session {
  /** What the append-only log records for the running command, when it is
   * not the command as sent (relative times made absolute, for example).
   * Handlers set it; the dispatcher logs and clears it. */
  propagate: string[][] | null;
  /** Where the reply goes. */
  readonly out: ReplyWriter;
  /** The keyspace: the database the client selected (SELECT changes it,
   * with the client's `db`). */
  store: Store;
  /** The calling client. */
  readonly client: ClientState;
  /** The server. */
  readonly server: ServerState;
}

/** Parses, applies and replies to one command. argv[0] is its name.
 *
 * @example
 * ```ts
 * import { type Handler, Server } from "@kv/store";
 * const myPing: Handler = (s) => s.out.simple("PONG");
 * await using server = new Server({ port: 0 });
 * server.addCommand({ name: "MYPING", arity: 1, handler: myPing });
 * ```
 */
export type Handler = (s: Session, argv: string[]) => void;

/** One entry of the command table.
 *
 * @example
 * ```ts
 * import { type Command, Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * const get: Command | undefined = server.commands.get("get");
 * console.log(get?.arity, get?.calls); // 2 0
 * ```
 */
export interface Command {
  /** Lowercase full name (`config|get` for a subcommand). */
  readonly name: string;
  /** Redis arity: exact when positive, minimum when negative. */
  readonly arity: number;
  /** Flags (write, readonly, fast, no-auth, admin, ...). */
  readonly flags: ReadonlySet<string>;
  /** Changes the keyspace. */
  readonly write: boolean;
  /** O(1) and cheap: timed one call in 64 unless a low slowlog or latency
   * threshold asks for every call (commands/introspection.ts). */
  readonly cheap: boolean;
  /** May run before AUTH. */
  readonly noAuth: boolean;
  /** Metadata for COMMAND INFO. */
  readonly info: CommandInfoData;
  /** Metadata for COMMAND DOCS. */
  readonly docs: Record<string, unknown>;
  /** The handler; absent on containers such as CONFIG. */
  readonly run?: Handler;
  /** Subcommands by lowercase name. */
  readonly subcommands?: Map<string, Command>;
  /** Calls, for INFO commandstats. */
  calls: number;
  /** Microseconds spent, for INFO commandstats. */
  usec: number;
  /** Calls rejected before running (arity, auth). */
  rejected: number;
  /** Calls that replied with an error. */
  failed: number;
}

/** The command table: lookup by lowercase name.
 *
 * @example
 * ```ts
 * import { type CommandTable, Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * const table: CommandTable = server.commands;
 * table.has("get"); // true
 * table.get("GET")?.name; // "get"
 * ```
 */
export type CommandTable = Map<string, Command>;

/** Thrown by a handler to reply with an error; `message` starts with its
 * code (`ERR ...`). Handlers throw before writing any part of a reply.
 *
 * @example
 * ```ts
 * import { Client, CommandError, ReplyError, Server } from "@kv/store";
 * await using server = new Server({ port: 0 });
 * server.addCommand({
 *   name: "FAIL",
 *   arity: 1,
 *   handler: () => {
 *     throw new CommandError("ERR this always fails");
 *   },
 * });
 * await server.listen();
 * await using client = await Client.connect({ port: server.port });
 * try {
 *   await client.execute("FAIL");
 * } catch (e) {
 *   if (e instanceof ReplyError) console.log(e.message); // ERR this always fails
 * }
 * ```
 */
export class CommandError extends Error {
  /** Creates an error reply. */
  constructor(message: string) {
    super(message);
  }
}

/** Redis's common error replies (the store's own are STORE_ERRORS). */
export const Errors = {
  syntax: "ERR syntax error",
  notInteger: STORE_ERRORS.notInteger,
} as const;

/** Parses an int64 argument or throws Redis's integer error. */
export function int64Arg(s: string): number | bigint {
  const v = parseInt64(s);
  if (v === null) throw new CommandError(Errors.notInteger);
  return v;
}

/** Parses an integer argument that must be a safe JavaScript number. */
export function intArg(s: string, error: string = Errors.notInteger): number {
  const v = parseInt64(s);
  if (v === null) throw new CommandError(error);
  if (typeof v === "number") return v;
  return v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
}

/** `Session.propagate` values logged even when the command changed no key
 * (Redis's forceCommandPropagation): a script's effects, FLUSHALL. */
export const forcedPropagation: WeakSet<string[][]> = new WeakSet();

/** Logs `entries` for the running command whether or not it changed a
 * key (a script that wrote only in a database it SELECTed; FLUSHALL of
 * empty databases, which Redis 7 still propagates). */
export function forcePropagation(s: Session, entries: string[][]): void {
  forcedPropagation.add(entries);
  s.propagate = entries;
}

/** Uppercases an ASCII option name for comparisons. */
export function upper(s: string): string {
  return s.length < 16 ? s.toUpperCase() : s;
}

/** Replies with a HELP text, one status line per line, as Redis does. */
export function helpReply(s: Session, lines: string[]): void {
  s.out.array(lines.length);
  for (const l of lines) s.out.simple(l);
}
