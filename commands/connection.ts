// Connection commands: PING, ECHO, QUIT, SELECT, RESET, AUTH, HELLO, CLIENT.

import { sameSecret } from "../_secret.ts";
import { VERSION } from "../version.ts";
import { parseInt64 } from "../_number.ts";
import type { Store } from "../store.ts";
import {
  type ClientState,
  CommandError,
  Errors,
  type Handler,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";
import {
  discardTransaction,
  multiCount,
  multiMemory,
  transactionFlags,
} from "./transactions.ts";
import { isMonitor, stopMonitor } from "./introspection.ts";
import { Tracking, trackingFlags, trackingRedirect } from "./tracking.ts";
import { Replication } from "../replication.ts";

const ping: Handler = (s, argv) => {
  if (argv.length > 2) {
    throw new CommandError("ERR wrong number of arguments for 'ping' command");
  }
  // A subscribed RESP2 client gets PING's answer in the message format.
  if (s.client.pubsub !== null && s.out.resp === 2) {
    s.out.array(2);
    s.out.bulk("pong");
    s.out.bulk(argv.length === 1 ? "" : argv[1]);
  } else if (argv.length === 1) s.out.simple("PONG");
  else s.out.bulk(argv[1]);
};

const echo: Handler = (s, argv) => s.out.bulk(argv[1]);

const quit: Handler = (s) => {
  s.out.ok();
  s.client.closeAfterReply = true;
};

const select: Handler = (s, argv) => {
  selectDb(s, dbIndexArg(argv[1]));
  s.out.ok();
};

/** Redis's error for a database number outside 0 to `databases` - 1. */
const DB_OUT_OF_RANGE = "ERR DB index is out of range";

/** Redis's error for an integer outside 32 bits where one is needed. */
const NOT_INT32 =
  "ERR value is out of range, value must between -2147483648 and 2147483647";

/** Parses a database number as Redis's getIntFromObjectOrReply: a 32-bit
 * integer. Not an integer: `error` (the integer error by default); an
 * integer outside 32 bits: `error` when given, else Redis's range error. */
export function dbIndexArg(arg: string, error?: string): number {
  const n = parseInt64(arg);
  if (n === null) throw new CommandError(error ?? Errors.notInteger);
  if (typeof n !== "number" || n < -2147483648 || n > 2147483647) {
    throw new CommandError(error ?? NOT_INT32);
  }
  return n;
}

/** Database `index` of the server, or Redis's out-of-range error. */
export function dbOf(s: Session, index: number): Store {
  if (index < 0 || index >= s.server.config.databases) {
    throw new CommandError(DB_OUT_OF_RANGE);
  }
  return s.server.db(index);
}

/** Makes database `index` the one the client of `s` works in. */
export function selectDb(s: Session, index: number): void {
  s.store = dbOf(s, index);
  s.client.db = index;
}

const reset: Handler = (s) => {
  const c = s.client;
  c.name = "";
  c.out.resp = 2;
  c.authenticated = s.server.config.requirepass === "";
  selectDb(s, 0);
  s.server.pubsub.dropClient(c);
  discardTransaction(c);
  if (c.tracking != null) Tracking.of(s.server.store).disable(c);
  stopMonitor(s);
  c.replyMode = 0;
  c.noEvict = false;
  s.out.simple("RESET");
};

/** Compares a password with the configured one in constant time. */
function passwordMatches(s: Session, user: string, password: string): boolean {
  if (user !== "default") return false;
  const required = s.server.config.requirepass;
  if (required === "") return true; // the default user has nopass
  return sameSecret(password, required);
}

const WRONGPASS =
  "WRONGPASS invalid username-password pair or user is disabled.";

function authenticate(s: Session, user: string, password: string): void {
  if (!passwordMatches(s, user, password)) {
    s.server.log("verbose", `Failed AUTH from client id=${s.client.id}`);
    throw new CommandError(WRONGPASS);
  }
  s.client.authenticated = true;
}

const auth: Handler = (s, argv) => {
  if (argv.length > 3) throw new CommandError(Errors.syntax);
  if (argv.length === 2) {
    if (s.server.config.requirepass === "") {
      throw new CommandError(
        "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
      );
    }
    authenticate(s, "default", argv[1]);
  } else {
    authenticate(s, argv[1], argv[2]);
  }
  s.out.ok();
};

function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 33 || c > 126) return false;
  }
  return true;
}

function setName(c: ClientState, name: string): void {
  if (!validName(name)) {
    throw new CommandError(
      "ERR Client names cannot contain spaces, newlines or special characters.",
    );
  }
  c.name = name;
}

const hello: Handler = (s, argv) => {
  let version = 0;
  let next = 1;
  if (argv.length >= 2) {
    const parsed = parseInt64(argv[next++]);
    if (parsed === null) {
      throw new CommandError(
        "ERR Protocol version is not an integer or out of range",
      );
    }
    const v = Number(parsed);
    if (v < 2 || v > 3) {
      throw new CommandError("NOPROTO unsupported protocol version");
    }
    version = v;
  }
  let user: string | undefined;
  let password: string | undefined;
  let name: string | undefined;
  for (let j = next; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = upper(argv[j]);
    if (opt === "AUTH" && more >= 2) {
      user = argv[j + 1];
      password = argv[j + 2];
      j += 2;
    } else if (opt === "SETNAME" && more >= 1) {
      name = argv[++j];
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${argv[j]}'`);
    }
  }
  if (user !== undefined && password !== undefined) {
    authenticate(s, user, password);
  }
  if (!s.client.authenticated) {
    throw new CommandError(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time",
    );
  }
  if (name !== undefined) setName(s.client, name);
  if (version) s.client.out.resp = version as 2 | 3;
  const out = s.out;
  out.map(7);
  out.bulk("server");
  out.bulk("redis");
  out.bulk("version");
  out.bulk(VERSION.redis);
  out.bulk("proto");
  out.int(out.resp);
  out.bulk("id");
  out.int(s.client.id);
  out.bulk("mode");
  out.bulk("standalone");
  out.bulk("role");
  out.bulk(Replication.of(s.server).master === null ? "master" : "replica");
  out.bulk("modules");
  out.array(0);
};

/** One CLIENT LIST line, in Redis's format. */
export function clientLine(c: ClientState): string {
  const now = Date.now();
  const age = Math.floor((now - c.createdAt) / 1000);
  const idle = Math.floor((now - c.lastInteraction) / 1000);
  const qbuf = c.queryBufferBytes();
  const obl = c.out.length;
  // Redis's order: O (monitor), P, x, b (blocked), d, e (no-evict).
  const tx = transactionFlags(c);
  const flags = (c.replica === true ? "S" : "") + (isMonitor(c) ? "O" : "") +
      (c.pubsub !== null ? "P" : "") +
      tx.replace(
        /^x?/,
        `$&${c.blocked != null ? "b" : ""}${trackingFlags(c)}`,
      ) +
      (c.noEvict ? "e" : "") || "N";
  return `id=${c.id} addr=${c.addr} laddr=${c.laddr} fd=-1 name=${c.name} ` +
    `age=${age} idle=${idle} flags=${flags} db=${c.db} ` +
    `sub=${c.pubsub?.channels.size ?? 0} psub=${
      c.pubsub?.patterns.size ?? 0
    } ` +
    `ssub=${c.pubsub?.shard.size ?? 0} multi=${multiCount(c)} ` +
    `qbuf=${qbuf} qbuf-free=0 argv-mem=0 multi-mem=${multiMemory(c)} ` +
    `rbs=0 rbp=0 ` +
    `obl=${obl} oll=0 omem=0 tot-mem=${qbuf + obl} events=r ` +
    `cmd=${c.lastCommand || "NULL"} user=default redir=${
      trackingRedirect(c)
    } ` +
    `resp=${c.out.resp} lib-name=${c.libName} lib-ver=${c.libVer}`;
}

const clientId: Handler = (s) => s.out.int(s.client.id);

const clientSetname: Handler = (s, argv) => {
  setName(s.client, argv[2]);
  s.out.ok();
};

const clientGetname: Handler = (s) => {
  s.out.bulkOrNil(s.client.name === "" ? undefined : s.client.name);
};

const clientSetinfo: Handler = (s, argv) => {
  const attr = upper(argv[2]);
  const value = argv[3];
  if (attr !== "LIB-NAME" && attr !== "LIB-VER") {
    throw new CommandError(`ERR Unrecognized option '${argv[2]}'`);
  }
  if (!validName(value) && value !== "") {
    throw new CommandError(
      `ERR ${attr.toLowerCase()} cannot contain spaces, newlines or special characters.`,
    );
  }
  if (attr === "LIB-NAME") s.client.libName = value;
  else s.client.libVer = value;
  s.out.ok();
};

function writeLines(s: Session, lines: string): void {
  s.out.verbatim("txt", lines);
}

/** Client types CLIENT LIST and CLIENT KILL filter by; all of ours are
 * `normal`. */
const CLIENT_TYPES = new Set([
  "normal",
  "master",
  "replica",
  "slave",
  "pubsub",
]);

/** A TYPE argument, checked, as {@linkcode clientType} names it
 * (`replica` is `slave`). */
function typeArg(given: string): string {
  const lower = given.toLowerCase();
  if (!CLIENT_TYPES.has(lower)) {
    throw new CommandError(`ERR Unknown client type '${given}'`);
  }
  return lower === "replica" ? "slave" : lower;
}

/** CLIENT LIST/KILL TYPE of a client, as Redis's getClientType: `slave`
 * for a replica of ours, `pubsub` while it is subscribed to anything. */
function clientType(c: ClientState): string {
  if (c.replica === true) return "slave";
  return (c.pubsub?.total ?? 0) > 0 ? "pubsub" : "normal";
}

const clientList: Handler = (s, argv) => {
  let clients = [...s.server.clients.values()];
  for (let j = 2; j < argv.length; j++) {
    const opt = upper(argv[j]);
    if (opt === "TYPE" && j + 1 < argv.length) {
      const t = typeArg(argv[++j]);
      clients = clients.filter((c) => clientType(c) === t);
    } else if (opt === "ID" && j + 1 < argv.length) {
      const ids = new Set<number>();
      for (j++; j < argv.length; j++) {
        const id = intArg(argv[j], "ERR Invalid client ID");
        if (id <= 0) throw new CommandError("ERR Invalid client ID");
        ids.add(id);
      }
      clients = clients.filter((c) => ids.has(c.id));
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  writeLines(s, clients.map((c) => clientLine(c) + "\n").join(""));
};

const clientInfo: Handler = (s) => {
  writeLines(s, clientLine(s.client) + "\n");
};

const clientKill: Handler = (s, argv) => {
  const clients = [...s.server.clients.values()];
  if (argv.length === 3) { // old form: CLIENT KILL addr:port
    const target = clients.find((c) => c.addr === argv[2]);
    if (!target) throw new CommandError("ERR No such client");
    killClient(s, target);
    s.out.ok();
    return;
  }
  const filters: ((c: ClientState) => boolean)[] = [];
  let skipMe = true;
  if (argv.length % 2 !== 0) throw new CommandError(Errors.syntax);
  for (let j = 2; j < argv.length; j += 2) {
    const opt = upper(argv[j]);
    const v = argv[j + 1];
    if (opt === "ID") {
      const id = intArg(v, "ERR client-id should be greater than 0");
      if (id <= 0) {
        throw new CommandError("ERR client-id should be greater than 0");
      }
      filters.push((c) => c.id === id);
    } else if (opt === "ADDR") {
      filters.push((c) => c.addr === v);
    } else if (opt === "LADDR") {
      filters.push((c) => c.laddr === v);
    } else if (opt === "TYPE") {
      const t = typeArg(v);
      filters.push((c) => clientType(c) === t);
    } else if (opt === "USER") {
      filters.push(() => v === "default");
    } else if (opt === "SKIPME") {
      const yn = v.toLowerCase();
      if (yn !== "yes" && yn !== "no") throw new CommandError(Errors.syntax);
      skipMe = yn === "yes";
    } else if (opt === "MAXAGE") {
      const max = intArg(v);
      filters.push((c) => (Date.now() - c.createdAt) / 1000 >= max);
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  let killed = 0;
  for (const c of clients) {
    if (skipMe && c === s.client) continue;
    if (filters.every((f) => f(c))) {
      killClient(s, c);
      killed++;
    }
  }
  s.out.int(killed);
};

function killClient(s: Session, c: ClientState): void {
  s.server.log("verbose", `Killing client id=${c.id} addr=${c.addr}`);
  if (c === s.client) c.closeAfterReply = true;
  else c.kill();
}

const clientHelp: Handler = (s) => {
  // Redis 7.0's text (SETINFO, from 7.2, is ours too).
  const lines = [
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "SETINFO <LIB-NAME|LIB-VER> <value>",
    "    Set client library name or version.",
    "HELP",
    "    Prints this help.",
  ];
  s.out.array(lines.length);
  for (const l of lines) s.out.simple(l);
};

/** Handlers of the connection family, by command name. */
export const connectionCommands: Record<string, Handler> = {
  ping,
  echo,
  quit,
  select,
  reset,
  auth,
  hello,
  "client|id": clientId,
  "client|setname": clientSetname,
  "client|getname": clientGetname,
  "client|setinfo": clientSetinfo,
  "client|list": clientList,
  "client|info": clientInfo,
  "client|kill": clientKill,
  "client|help": clientHelp,
};
