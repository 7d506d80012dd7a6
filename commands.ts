/**
 * The command table: one entry per command (name, arity, flags, key
 * positions, docs, handler) drives dispatch, arity errors, the auth gate,
 * COMMAND's replies and INFO commandstats. Metadata is Redis's own
 * (commands/_table_data.ts, generated from redis-server); the handlers live
 * in one module per family.
 *
 * @module
 */

import {
  COMMAND_DOCS,
  COMMAND_INFO,
  type CommandInfoData,
} from "./commands/_table_data.ts";
import {
  type Command,
  CommandError,
  type CommandTable,
  forcedPropagation,
  type Handler,
  type Session,
} from "./commands/_shared.ts";
import { StoreError } from "./store.ts";
import { ReplyValueError } from "./protocol.ts";
import { OOM_ERROR } from "./data/_memory.ts";
import { stringCommands } from "./commands/strings.ts";
import { keyCommands } from "./commands/keys.ts";
import { connectionCommands } from "./commands/connection.ts";
import { serverCommands } from "./commands/server.ts";
import { persistenceCommands } from "./commands/persistence.ts";
import { hashCommands } from "./commands/hashes.ts";
import { listCommands } from "./commands/lists.ts";
import { setCommands } from "./commands/sets.ts";
import { zsetCommands } from "./commands/zsets.ts";
import { streamCommands } from "./commands/streams.ts";
import { bitmapCommands } from "./commands/bitmaps.ts";
import { hyperloglogCommands } from "./commands/hyperloglog.ts";
import { geoCommands } from "./commands/geo.ts";
import { sortCommands } from "./commands/sort.ts";
import { blockingCommands } from "./commands/blocking.ts";
import {
  pubsubCommands,
  SUBSCRIBED_MODE_COMMANDS,
  subscribedModeError,
} from "./commands/pubsub.ts";
import { memoryCommands } from "./commands/memory.ts";
import { Tracking, trackingCommands } from "./commands/tracking.ts";
import {
  introspectionCommands,
  monitoring,
  mustTime,
  observeCommand,
} from "./commands/introspection.ts";
import {
  busyError,
  SCRIPT_CLIENT_ID,
  scriptingCommands,
} from "./commands/scripting.ts";
import { functionCommands } from "./commands/functions.ts";
import {
  READONLY_ERROR,
  replicaRefuses,
  replicasFollowing,
} from "./replication.ts";
import { dumpCommands } from "./commands/dump.ts";
import { migrateCommands } from "./commands/migrate.ts";
import { replicationCommands } from "./commands/replication.ts";
import {
  execAbort,
  NOT_IN_MULTI,
  RUN_IN_MULTI,
  transactionCommands,
} from "./commands/transactions.ts";

export type {
  ClientState,
  Command,
  CommandTable,
  Handler,
  ServerState,
  ServerStats,
  Session,
} from "./commands/_shared.ts";
export { CommandError } from "./commands/_shared.ts";

/** Metadata of commands that are ours, or newer than the Redis we generate
 * the table from. */
const EXTRA_INFO: CommandInfoData[] = [
  {
    name: "delete",
    arity: -2,
    flags: ["write"],
    keys: [1, -1, 1],
    acl: ["@keyspace", "@write", "@slow"],
    tips: [],
    keySpecs: [],
  },
  {
    name: "flush",
    arity: -1,
    flags: ["write"],
    keys: [0, 0, 0],
    acl: ["@keyspace", "@write", "@slow", "@dangerous"],
    tips: [],
    keySpecs: [],
  },
  {
    name: "client|setinfo",
    arity: 4,
    flags: ["noscript", "loading", "stale"],
    keys: [0, 0, 0],
    acl: ["@slow", "@connection"],
    tips: ["request_policy:all_nodes", "response_policy:all_succeeded"],
    keySpecs: [],
  },
];

const EXTRA_DOCS: Record<string, Record<string, unknown>> = {
  delete: {
    summary: "Deletes one or more keys and returns how many were removed",
    since: "0.1.0",
    group: "generic",
    complexity: "O(N) where N is the number of keys",
    arguments: [{ name: "key", type: "key", flags: ["multiple"] }],
  },
  flush: {
    summary: "Removes all keys and returns how many were removed",
    since: "0.1.0",
    group: "server",
    complexity: "O(N) where N is the number of keys",
    arguments: [{
      name: "flush-type",
      type: "oneof",
      flags: ["optional"],
      arguments: [
        { name: "async", type: "pure-token", token: "ASYNC" },
        { name: "sync", type: "pure-token", token: "SYNC" },
      ],
    }],
  },
  "client|setinfo": {
    summary: "Sets information specific to the client or connection",
    since: "7.2.0",
    group: "connection",
    complexity: "O(1)",
    arguments: [{
      name: "attr",
      type: "oneof",
      arguments: [
        { name: "libname", type: "string", token: "LIB-NAME" },
        { name: "libver", type: "string", token: "LIB-VER" },
      ],
    }],
  },
};

/** Every built-in handler, by lowercase full name (`config|get`). */
export const HANDLERS: Readonly<Record<string, Handler>> = {
  ...stringCommands,
  ...keyCommands,
  ...connectionCommands,
  ...serverCommands,
  ...persistenceCommands,
  ...hashCommands,
  ...listCommands,
  ...setCommands,
  ...zsetCommands,
  ...streamCommands,
  ...bitmapCommands,
  ...hyperloglogCommands,
  ...geoCommands,
  ...sortCommands,
  ...pubsubCommands,
  ...memoryCommands,
  ...transactionCommands,
  ...trackingCommands,
  ...introspectionCommands,
  ...scriptingCommands,
  ...functionCommands,
  ...dumpCommands,
  ...migrateCommands,
  ...replicationCommands,
  // After streams: XREAD and XREADGROUP with BLOCK wait here.
  ...blockingCommands,
};

/** Options of {@linkcode defineCommand}.
 *
 * @example
 * ```ts
 * import { Client, type CommandDefinition, Server } from "@kv/store";
 * const helloWorld: CommandDefinition = {
 *   name: "HELLOWORLD",
 *   arity: 1,
 *   flags: ["readonly", "fast"],
 *   handler: (s) => s.out.bulk("hello world"),
 * };
 * await using server = new Server({ port: 0 });
 * server.addCommand(helloWorld);
 * await server.listen();
 * await using client = await Client.connect({ port: server.port });
 * await client.execute("HELLOWORLD"); // "hello world"
 * ```
 */
export interface CommandDefinition {
  /** Command name (case-insensitive). */
  name: string;
  /** Redis arity: exact when positive (counting the name), minimum when
   * negative. */
  arity: number;
  /** Flags: `write`, `readonly`, `fast`, `no-auth` (runs before AUTH),
   * `admin`, ... */
  flags?: string[];
  /** First key, last key (-1: the last argument) and step; [0, 0, 0] when
   * the command takes no keys. */
  keys?: [number, number, number];
  /** One-line description for COMMAND DOCS. */
  summary?: string;
  /** Parses, applies and replies. */
  handler: Handler;
}

/** The complexity of commands whose work is a constant per key named in
 * the arguments (MSET, MSETNX; MGET and EXISTS are flagged fast): as
 * cheap to time as the O(1) commands. Timing each call with
 * `performance.now()` twice cost MSET about a tenth of its time. */
const PER_KEY =
  /^O\(N\) where N is the number of keys to (set|retrieve|check)\.$/;

function makeCommand(
  info: CommandInfoData,
  docs: Record<string, unknown>,
  run: Handler | undefined,
  subcommands?: Map<string, Command>,
): Command {
  const flags = new Set(info.flags);
  return {
    name: info.name,
    arity: info.arity,
    flags,
    write: flags.has("write"),
    cheap: flags.has("fast") || docs.complexity === "O(1)" ||
      PER_KEY.test(String(docs.complexity)),
    noAuth: flags.has("no_auth") || flags.has("no-auth"),
    info,
    docs,
    run,
    subcommands,
    calls: 0,
    usec: 0,
    rejected: 0,
    failed: 0,
  };
}

/** Builds a command from a definition, for {@linkcode CommandTable}s. */
export function defineCommand(def: CommandDefinition): Command {
  const name = def.name.toLowerCase();
  return makeCommand(
    {
      name,
      arity: def.arity,
      flags: def.flags ?? [],
      keys: def.keys ?? [0, 0, 0],
      acl: [],
      tips: [],
      keySpecs: [],
    },
    {
      summary: def.summary ?? "",
      since: "0.1.0",
      group: "server",
      complexity: "",
    },
    def.handler,
  );
}

/** Builds the table of built-in commands. Each call returns a new table
 * (with its own statistics), so servers can extend theirs. */
export function createCommandTable(): CommandTable {
  const table: CommandTable = new Map();
  const infos = [...COMMAND_INFO];
  for (const extra of EXTRA_INFO) {
    const bar = extra.name.indexOf("|");
    if (bar === -1) infos.push(extra);
    else {
      const parent = infos.find((i) => i.name === extra.name.slice(0, bar));
      if (parent) {
        infos[infos.indexOf(parent)] = {
          ...parent,
          subcommands: [...(parent.subcommands ?? []), extra],
        };
      }
    }
  }
  const docsOf = (name: string): Record<string, unknown> => {
    if (EXTRA_DOCS[name]) return EXTRA_DOCS[name];
    const bar = name.indexOf("|");
    if (bar === -1) {
      const { subcommands: _, ...rest } = COMMAND_DOCS[name] ?? {};
      return rest;
    }
    const parent = COMMAND_DOCS[name.slice(0, bar)];
    const subs = parent?.subcommands as
      | Record<string, Record<string, unknown>>
      | undefined;
    return subs?.[name] ?? {};
  };
  for (const info of infos) {
    let subs: Map<string, Command> | undefined;
    if (info.subcommands) {
      subs = new Map();
      for (const sub of info.subcommands) {
        const run = HANDLERS[sub.name];
        if (!run) continue; // a subcommand we do not implement
        subs.set(
          sub.name.slice(sub.name.indexOf("|") + 1),
          makeCommand(sub, docsOf(sub.name), run),
        );
      }
    }
    const run = HANDLERS[info.name];
    if (!run && !subs?.size) continue;
    addCommand(
      table,
      makeCommand(
        { ...info, subcommands: undefined },
        docsOf(info.name),
        run,
        subs,
      ),
    );
  }
  return table;
}

/** Adds a command to a table (replacing one of the same name). The table
 * holds each command under its lowercase and its uppercase name, so the
 * usual spellings are found without lowercasing on every call. */
export function addCommand(table: CommandTable, command: Command): void {
  table.set(command.name, command);
  table.set(command.name.toUpperCase(), command);
}

/** Formats the unknown-command error as Redis does. */
function unknownCommand(argv: string[]): string {
  let args = "";
  for (let i = 1; i < argv.length && args.length < 128; i++) {
    args += `'${argv[i].slice(0, 128 - args.length)}' `;
  }
  return `ERR unknown command '${
    argv[0].slice(0, 128)
  }', with args beginning with: ${args}`;
}

function recordError(s: Session, message: string): void {
  const space = message.indexOf(" ");
  const code = space === -1 ? message : message.slice(0, space);
  const errors = s.server.stats.errors;
  errors.set(code, (errors.get(code) ?? 0) + 1);
}

/** A handler's mistake (a value its reply writer refused, or any other
 * exception): logged, and answered as an error reply naming the command,
 * so the client's connection goes on. */
function handlerFailure(s: Session, command: Command, e: unknown): string {
  const what = e instanceof ReplyValueError
    ? e.message
    : e instanceof Error
    ? `${e.name}: ${e.message}`
    : String(e);
  const detail = what.length > 300 ? `${what.slice(0, 300)}...` : what;
  const where = e instanceof Error && e.stack !== undefined
    ? ` (${e.stack.split("\n").slice(1, 4).map((l) => l.trim()).join(" ")})`
    : "";
  s.server.log(
    "warning",
    `The '${command.name}' command failed, answered an error: ${detail}${where}`,
  );
  return `ERR the '${command.name}' command failed: ${detail}`;
}

function reject(s: Session, command: Command | undefined, message: string) {
  if (command) command.rejected++;
  // Refused inside MULTI: EXEC will abort (Redis's flagTransaction).
  const tx = s.client.tx;
  if (tx != null && tx.queue !== null) tx.failed = true;
  if (command?.name === "exec") message = execAbort(s, message);
  recordError(s, message);
  s.out.error(message);
}

/** When each server last logged the warning below. */
const lastSecurityWarning = new WeakMap<object, number>();

/** An HTTP request sent to the RESP port (a browser page attacking a local
 * server, cross-protocol): as Redis, run nothing more from this client and
 * close the connection, with a warning in the log (once a minute). */
function securityWarning(s: Session): void {
  const now = Date.now();
  if (now - (lastSecurityWarning.get(s.server) ?? 0) > 60_000) {
    lastSecurityWarning.set(s.server, now);
    s.server.log(
      "warning",
      "Possible SECURITY ATTACK detected. It looks like somebody is sending " +
        "POST or Host: commands to Redis. This is likely due to an attacker " +
        "attempting to use Cross Protocol Scripting to compromise your " +
        "Redis instance. Connection aborted.",
    );
  }
  s.client.closeAfterReply = true;
}

/** Looks up, checks and runs one command, writing its reply to `s.out`.
 * `resolved`: the command (or subcommand) already looked up by the caller
 * (scripts' redis.call). */
export function execute(
  table: CommandTable,
  s: Session,
  argv: string[],
  resolved?: Command,
): void {
  const name = argv[0];
  let command = resolved ?? table.get(name) ?? table.get(name.toLowerCase());
  if (command === undefined) {
    if (/^(post|host:)$/i.test(name)) return securityWarning(s);
    reject(s, undefined, unknownCommand(argv));
    return;
  }
  if (
    resolved === undefined && command.subcommands !== undefined &&
    argv.length > 1
  ) {
    const sub = command.subcommands.get(argv[1].toLowerCase());
    if (sub === undefined) {
      reject(
        s,
        undefined,
        `ERR unknown subcommand '${
          argv[1].slice(0, 128)
        }'. Try ${command.name.toUpperCase()} HELP.`,
      );
      return;
    }
    command = sub;
  }
  const arity = command.arity;
  if (
    (arity > 0 && argv.length !== arity) || argv.length < -arity ||
    command.run === undefined
  ) {
    reject(
      s,
      command,
      `ERR wrong number of arguments for '${command.name}' command`,
    );
    return;
  }
  if (!s.client.authenticated && !command.noAuth) {
    reject(s, command, "NOAUTH Authentication required.");
    return;
  }
  // Scripts' commands had these checks in commands/scripting.ts.
  const scripted = s.client.id === SCRIPT_CLIENT_ID;
  // Like Redis, refuse writes (and PING) while saving or logging fails.
  if ((command.write || command.name === "ping") && !scripted) {
    const denied = s.server.persistence.writeError();
    if (denied !== undefined) {
      reject(s, command, denied);
      return;
    }
  }
  // A read-only replica refuses its clients' writes (in MULTI and scripts
  // too); the primary's stream comes through an internal client.
  if (command.write && replicasFollowing !== 0 && replicaRefuses(s)) {
    reject(s, command, READONLY_ERROR);
    return;
  }
  // As Redis's processCommand: over maxmemory (or the V8 heap's ceiling),
  // evict first; when that cannot help, refuse commands that may grow
  // memory. Reads and DEL go on.
  if (
    !scripted && !s.server.persistence.loading && s.store.memory.check() &&
    command.flags.has("denyoom")
  ) {
    reject(s, command, OOM_ERROR);
    return;
  }
  // A subscribed RESP2 connection only (un)subscribes, pings or leaves.
  if (
    s.client.pubsub !== null && s.out.resp === 2 &&
    !SUBSCRIBED_MODE_COMMANDS.has(command.name)
  ) {
    reject(s, command, subscribedModeError(command.name));
    return;
  }
  // A script runs past busy-reply-threshold: only allow-busy commands.
  if (!scripted) {
    const busy = busyError(s.server, command);
    if (busy !== undefined) {
      reject(s, command, busy);
      return;
    }
  }
  // Inside MULTI: queued for EXEC (commands/transactions.ts).
  const tx = s.client.tx;
  if (tx != null && tx.queue !== null && !RUN_IN_MULTI.has(command.name)) {
    if (command.flags.has("no_multi")) {
      reject(s, command, NOT_IN_MULTI);
      return;
    }
    tx.queue.push(argv);
    s.out.simple("QUEUED");
    return;
  }
  const dirty = s.store.dirty;
  s.client.lastCommand = command.name;
  // Timing every call would cost more than many commands themselves: time
  // one call in 64 of cheap (O(1)) commands and scale (INFO commandstats
  // reports the estimate); others are timed for SLOWLOG and LATENCY.
  const exact = mustTime(s, command);
  const timed = exact || (command.calls & 63) === 0;
  const start = timed ? performance.now() : 0;
  const mark = s.out.length;
  try {
    command.run(s, argv);
  } catch (e) {
    // Whatever part of a reply was written before the error is dropped.
    s.out.length = mark;
    command.failed++;
    const message = e instanceof CommandError || e instanceof StoreError
      ? e.message
      : handlerFailure(s, command, e);
    recordError(s, message);
    s.out.error(message);
  }
  let us = -1;
  if (timed) {
    us = (performance.now() - start) * 1000;
    command.usec += exact ? us : us * 64;
  }
  command.calls++;
  // As Redis's call(): commands that ran (not the rejected or queued ones).
  if (s.client.id !== 0) s.server.stats.commandsProcessed++;
  if (timed || monitoring()) observeCommand(s, command, argv, us);
  if (s.store.touchesPending) s.store.settleTouches(s.store.dirty !== dirty);
  // Client-side caching: invalidations, keys read (commands/tracking.ts).
  if (s.store.keyModified !== null) {
    Tracking.of(s.server.store).afterCommand(s, command, argv, tx?.log != null);
  }
  // Log writes that changed something to the append-only file.
  // (or a command that asked to be logged: PFCOUNT's cache update).
  if (
    (command.write || s.propagate !== null) &&
    (s.store.dirty !== dirty ||
      (s.propagate !== null && forcedPropagation.has(s.propagate)))
  ) {
    // Inside EXEC the transaction's writes are gathered, then logged whole.
    if (tx != null && tx.log !== null) {
      if (tx.logDb !== s.client.db) {
        tx.logDb = s.client.db;
        tx.log.push(["SELECT", String(tx.logDb)]);
      }
      for (const entry of s.propagate ?? [argv]) {
        tx.log.push(entry);
        // A script's effects may change database.
        if (entry[0] === "SELECT") tx.logDb = Number(entry[1]);
      }
    } else if (s.server.persistence.feeding) {
      // (Checked first: no array is made per write when nothing is logged
      // or replicated.)
      s.server.persistence.feed(s.propagate ?? [argv], s.client.db);
    }
  }
  s.propagate = null;
}
