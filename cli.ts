/**
 * The `kv cli` command line, modelled on redis-cli:
 *
 * - `kv cli SET a 1`: runs one command, prints the reply, exits 1 on an
 *   error reply (`-r N` and `-i SECONDS` repeat it, `-x` reads its last
 *   argument from stdin);
 * - `printf 'SET a 1\nGET a\n' | kv cli`: batch mode, one command per line
 *   (redis-cli's quoting), replies in order, exit status 0 as redis-cli
 *   (`-e`: 1 when a command answered an error);
 * - `kv cli --scan --pattern 'user:*'`: every matching key, one a line;
 * - `kv cli` on a terminal: an interactive prompt with history, hints and
 *   `help COMMAND`.
 *
 * Replies print as redis-cli prints them: `(integer) 1`, `(nil)`, numbered
 * arrays on a terminal; raw values when stdout is not a terminal (or with
 * `--raw`; `--no-raw` forces the terminal format).
 *
 * @module
 */

import { join } from "./_path.ts";
import { Client, ConnectionError } from "./client.ts";
import {
  encodeCommand,
  PushMessage,
  ReplyDecoder,
  ReplyError,
  type RespValue,
  splitArgs,
} from "./protocol.ts";
import { binaryToBytes, textToBinary } from "./_bytes.ts";
import {
  formatCSV,
  formatRaw,
  formatTTY,
  printsRaw,
  quoteBytes,
  synopsis,
} from "./_reply_format.ts";
import { LineEditor } from "./_line_editor.ts";
import { VERSION } from "./version.ts";
import { writeAll, writeAllSync } from "./_io.ts";

/** Parsed `kv cli` flags. */
export interface CliOptions {
  /** Server host (`-h`, `--host`, or from `-u`). */
  host: string;
  /** Server port (`-p`, `--port`, or from `-u`). */
  port: number;
  /** Password (`-a`, `--pass`, from `-u`, or the `REDISCLI_AUTH`
   * environment variable). */
  password?: string;
  /** ACL user (`--user`, or from `-u`). */
  user?: string;
  /** Database selected on connecting (`-n`, or the path of `-u`). */
  db: number;
  /** Use RESP3 (`-3`, `--resp3`; `-2` goes back to RESP2). */
  resp3: boolean;
  /** Force raw (true) or terminal (false) output; default: raw unless
   * stdout is a terminal. */
  raw?: boolean;
  /** redis-cli's CSV output (`--csv`): quoted strings, comma-separated
   * aggregates. */
  csv?: boolean;
  /** Skip the warning about passwords on the command line. */
  noAuthWarning: boolean;
  /** `--eval <file>`: send EVAL with the Lua script in this file; the
   * command words are its keys, then `,`, then its arguments. */
  eval?: string;
  /** `-x`: the command's last argument is read from stdin. */
  stdinLastArg: boolean;
  /** `-r N`: run the command N times (-1: until interrupted). */
  repeat: number;
  /** `-i SECONDS`: wait this long between repeats and SCAN calls. */
  interval: number;
  /** `--scan`: list the keys with SCAN. */
  scan: boolean;
  /** `--pattern P`: the MATCH pattern of `--scan`. */
  pattern?: string;
  /** `--count N`: the COUNT hint of `--scan`. */
  count?: number;
  /** `-e`: exit 1 when a command answers an error, in batch mode too. */
  strict: boolean;
}

const USAGE = `kv cli ${VERSION.kv}

Usage: kv cli [OPTIONS] [COMMAND [ARG ...]]
  -h, --host <hostname>  Server hostname (default: 127.0.0.1).
  -p, --port <port>      Server port (default: 31337).
  -u <uri>               Server URI: redis://[[user][:password]@]host[:port][/db]
                         (user, password and db are optional).
  -a, --pass <password>  Password to use when connecting to the server.
                         The REDISCLI_AUTH environment variable is used when
                         neither -a nor -u gives one, with no warning.
  --user <username>      ACL user to authenticate as (with a password).
  -n <db>                Database number (default: 0; SELECT on connecting
                         and on connecting again).
  -2                     Start the session in RESP2 protocol mode (default).
  -3, --resp3            Start the session in RESP3 protocol mode.
  -x                     Read the last argument from stdin
                         (echo -n hello | kv cli -x SET k).
  -r <repeat>            Run the command N times (-1: until Ctrl-C).
  -i <interval>          With -r, wait <interval> seconds between runs (0.1
                         works); with --scan, between SCAN calls.
  --scan                 List all keys using the SCAN command.
  --pattern <pat>        Keys pattern when using --scan (default: *).
  --count <count>        COUNT hint for each SCAN of --scan (default: 10).
  -e                     Exit 1 when a command answers an error; without it
                         a batch read from stdin exits 0, as redis-cli's
                         (a single command exits 1 on an error either way).
  --raw                  Use raw formatting for replies (default when stdout
                         is not a tty).
  --no-raw               Force formatted output even when stdout is not a tty.
  --csv                  Output in CSV format.
  --eval <file>          Send an EVAL command using the Lua script at <file>.
  --no-auth-warning      Don't show the warning about passwords.
  --help                 Output this help and exit.

With a command, runs it and prints the reply (exit status 1 on an error
reply; SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR print every message
until Ctrl-C or the connection closes). Without one, reads commands from
stdin when it is not a terminal, one per line, or starts an interactive
prompt (Tab completes command names; "help @string" lists a group; the
prompt shows the selected database, as 127.0.0.1:31337[3]>, and (TX) after
MULTI; the connection is opened again, in the same database, on the next
command after the server restarts).

Examples:
  kv cli -u redis://default:s3cret@127.0.0.1:31337/0 PING
  cat /etc/passwd | kv cli -x SET mypasswd
  kv cli -r 100 -i 0.5 INCR counter
  kv cli --scan --pattern 'user:*'
  kv cli --eval myscript.lua key1 key2 , arg1 arg2 arg3

  (Note: when using --eval the comma separates KEYS[] from ARGV[] items)
`;

/** Reads a `redis://[[user][:password]@]host[:port][/db]` URI into the
 * options, as redis-cli's `-u` does (percent-escapes decoded). */
export function parseRedisUri(uri: string, options: CliOptions): void {
  const scheme = /^redis:\/\//i.exec(uri);
  if (scheme === null) {
    throw new Error(
      /^rediss:\/\//i.test(uri)
        ? "TLS (rediss://) is not supported"
        : "Invalid URI scheme",
    );
  }
  let rest = uri.slice(scheme[0].length);
  const at = rest.lastIndexOf("@");
  if (at !== -1) {
    const info = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = info.indexOf(":");
    if (colon !== -1) {
      const user = decodeURIComponent(info.slice(0, colon));
      if (user !== "") options.user = user;
      options.password = decodeURIComponent(info.slice(colon + 1));
    } else options.password = decodeURIComponent(info);
  }
  const slash = rest.indexOf("/");
  const hostPort = slash === -1 ? rest : rest.slice(0, slash);
  const path = slash === -1 ? "" : rest.slice(slash + 1);
  if (hostPort !== "") {
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(hostPort);
    if (m === null) throw new Error(`bad URI '${uri}'`);
    if (m[1] !== "") options.host = m[1].replace(/^\[(.*)\]$/, "$1");
    if (m[2]) options.port = portNumber(m[2]);
  }
  if (path !== "") options.db = Number.parseInt(path, 10) || 0;
}

function portNumber(s: string): number {
  const p = Number(s);
  if (!Number.isInteger(p) || p < 0 || p > 65535) {
    throw new Error(`bad port '${s}'`);
  }
  return p;
}

/** Parses flags up to the first word that is not one; the rest is the
 * command. Throws on a bad flag. */
export function parseCliArgs(
  args: readonly string[],
): { options: CliOptions; command: string[]; help: boolean } {
  const options: CliOptions = {
    host: "127.0.0.1",
    port: 31337,
    db: 0,
    resp3: false,
    noAuthWarning: false,
    stdinLastArg: false,
    repeat: 1,
    interval: 0,
    scan: false,
    strict: false,
  };
  let help = false;
  let i = 0;
  const value = (flag: string) => {
    const v = args[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  const integer = (flag: string) => {
    const v = value(flag);
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n)) {
      throw new Error(`${flag} needs an integer, not '${v}'`);
    }
    return n;
  };
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--host") options.host = value(a);
    else if (a === "-p" || a === "--port") options.port = portNumber(value(a));
    else if (a === "-u") parseRedisUri(value(a), options);
    else if (a === "-a" || a === "--pass") options.password = value(a);
    else if (a === "--user") options.user = value(a);
    else if (a === "-n") options.db = integer(a);
    else if (a === "-2") options.resp3 = false;
    else if (a === "-3" || a === "--resp3") options.resp3 = true;
    else if (a === "-x") options.stdinLastArg = true;
    else if (a === "-r") options.repeat = integer(a);
    else if (a === "-i") {
      const v = value(a);
      const s = Number(v);
      if (v.trim() === "" || !Number.isFinite(s) || s < 0) {
        throw new Error(`-i needs a number of seconds, not '${v}'`);
      }
      options.interval = s;
    } else if (a === "--scan") options.scan = true;
    else if (a === "--pattern") options.pattern = value(a);
    else if (a === "--count") options.count = integer(a);
    else if (a === "-e") options.strict = true;
    else if (a === "--raw") options.raw = true;
    else if (a === "--no-raw") options.raw = false;
    else if (a === "--csv") options.csv = true;
    else if (a === "--eval") options.eval = value(a);
    else if (a === "--no-auth-warning") options.noAuthWarning = true;
    else if (a === "--help") help = true;
    else if (a === "--") {
      i++;
      break;
    } else if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      throw new Error(`unknown option '${a}'`);
    } else break;
  }
  return { options, command: args.slice(i), help };
}

const encoder = new TextEncoder();
const utf8 = new TextDecoder();

function print(s: string | Uint8Array): void {
  writeAllSync(Deno.stdout, typeof s === "string" ? encoder.encode(s) : s);
}

function printError(s: string): void {
  writeAllSync(Deno.stderr, encoder.encode(s));
}

/** How replies print: redis-cli's raw, terminal (`tty`) or `--csv` form. */
type Output = "raw" | "tty" | "csv";

type Args = (string | Uint8Array)[];

/** A reply as redis-cli prints it for this command: INFO, CLIENT LIST and
 * the like print their text as it is in every mode. */
function format(v: RespValue, output: Output, args?: Args): string {
  // Printed as they are, with no newline added (the text ends in one).
  if (args !== undefined && printsRaw(args)) return formatRaw(v);
  return output === "raw"
    ? formatRaw(v) + "\n"
    : output === "csv"
    ? formatCSV(v) + "\n"
    : formatTTY(v);
}

/** Commands after which the connection only streams (messages, monitored
 * commands): their replies print as they arrive. */
const STREAMING = new Set(["subscribe", "psubscribe", "ssubscribe", "monitor"]);

function commandName(arg: string | Uint8Array): string {
  return (typeof arg === "string" ? arg : utf8.decode(arg)).toLowerCase();
}

/** The connection ended while a reply was owed. */
class ClosedError extends Error {
  constructor() {
    super("Server closed the connection");
  }
}

/** One connection to the server: commands written, replies read in order
 * (redis-cli's synchronous way; nothing is read between commands). */
class Link {
  #decoder = new ReplyDecoder({ bulk: "bytes", doubles: "text" });
  #buf = new Uint8Array(64 * 1024);
  /** Called with RESP3 push messages that arrive before a reply. */
  onPush?: (v: RespValue) => void;
  constructor(readonly conn: Deno.TcpConn) {}

  static async open(o: CliOptions): Promise<Link> {
    return new Link(await Deno.connect({ hostname: o.host, port: o.port }));
  }

  /** Writes the commands at once; rejects with a ClosedError when the
   * connection is gone. */
  async send(...commands: Args[]): Promise<void> {
    const parts = commands.map(encodeCommand);
    try {
      for (const p of parts) await writeAll(this.conn, p);
    } catch {
      throw new ClosedError();
    }
  }

  /** The next value the server sends (a reply or a push message);
   * undefined once the connection has ended. */
  async next(): Promise<RespValue | undefined> {
    while (true) {
      const r = this.#decoder.next();
      if (r !== undefined) return r.value;
      let n: number | null;
      try {
        n = await this.conn.read(this.#buf);
      } catch {
        n = null;
      }
      if (n === null) return undefined;
      this.#decoder.feed(this.#buf.subarray(0, n));
    }
  }

  /** Sends the commands at once and resolves with their replies; rejects
   * with a ClosedError when the connection ends first. */
  async call(...commands: Args[]): Promise<RespValue[]> {
    await this.send(...commands);
    const replies: RespValue[] = [];
    while (replies.length < commands.length) {
      const value = await this.next();
      if (value === undefined) throw new ClosedError();
      if (value instanceof PushMessage && this.onPush) {
        this.onPush(value);
      } else replies.push(value);
    }
    return replies;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}

/** What connecting did: the database selected, and whether every step
 * succeeded (`--scan` and `--eval` exit 1 when one did not). */
interface Session {
  link: Link;
  db: number;
  ok: boolean;
}

/** SELECT of the database `o.db` on a link now in database `current`, as
 * redis-cli's: nothing when it is there already; a failure prints
 * `SELECT n failed: ...`. Resolves with the database the link is in. */
async function selectDb(
  link: Link,
  o: CliOptions,
  current: number,
): Promise<{ db: number; ok: boolean }> {
  if (o.db === current) return { db: current, ok: true };
  const [r] = await link.call(["SELECT", String(o.db)]);
  if (r instanceof ReplyError) {
    printError(`SELECT ${o.db} failed: ${r.message}\n`);
    return { db: current, ok: false };
  }
  return { db: o.db, ok: true };
}

/** The steps after connecting, as redis-cli's: AUTH (a failure prints
 * `AUTH failed: ...`), SELECT of `-n` (`SELECT n failed: ...`), HELLO 3
 * with `-3`, stopping at the first that fails (the connection stays, so
 * AUTH or SELECT can be typed). */
async function handshake(
  link: Link,
  o: CliOptions,
): Promise<{ db: number; ok: boolean }> {
  if (o.password !== undefined) {
    const [r] = await link.call(
      o.user === undefined
        ? ["AUTH", o.password]
        : ["AUTH", o.user, o.password],
    );
    if (r instanceof ReplyError) {
      printError(`AUTH failed: ${r.message}\n`);
      return { db: 0, ok: false };
    }
  }
  const selected = await selectDb(link, o, 0);
  if (!selected.ok) return selected;
  if (o.resp3) {
    const [r] = await link.call(["HELLO", "3"]);
    if (r instanceof ReplyError) {
      printError(`HELLO 3 failed: ${r.message}\n`);
      return { db: selected.db, ok: false };
    }
  }
  return selected;
}

/** Connects and runs {@linkcode handshake}. */
async function openSession(o: CliOptions): Promise<Session> {
  const link = await Link.open(o);
  try {
    return { link, ...await handshake(link, o) };
  } catch (e) {
    link.close();
    throw e;
  }
}

/** How a streaming command ended: an error reply, the server closed the
 * connection, or `stop()` was called (Ctrl-C at the prompt). */
type StreamEnd = "error" | "closed" | "stopped";

/** Runs SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE or MONITOR on a connection of its
 * own and prints every reply as it arrives, as redis-cli does (with
 * "Reading messages..." first for the subscriptions, unless raw), until an
 * error reply, the end of the connection, or `stopper.stop()`. */
async function stream(
  o: CliOptions,
  args: Args,
  output: Output,
  stopper: { stop?: () => void } = {},
): Promise<StreamEnd> {
  const link = await Link.open(o);
  let stopped = false;
  stopper.stop = () => {
    stopped = true;
    link.close();
  };
  try {
    // As redis-cli: a failed AUTH or SELECT is printed, and the command is
    // sent anyway.
    try {
      await handshake(link, o);
      await link.send(args);
    } catch (e) {
      if (e instanceof ClosedError) return stopped ? "stopped" : "closed";
      throw e;
    }
    const next = () => link.next();
    const pubsub = commandName(args[0]) !== "monitor";
    if (pubsub && output !== "raw") {
      print("Reading messages... (press Ctrl-C to quit)\n");
    }
    while (true) {
      const reply = await next();
      if (reply === undefined) return stopped ? "stopped" : "closed";
      print(format(reply, output));
      if (reply instanceof ReplyError) return "error";
    }
  } finally {
    stopper.stop();
  }
}

/** redis-cli's "(1.23s)" after a command that took half a second or more
 * at the prompt (terminal output only). */
function printElapsed(start: number, output: Output): void {
  const ms = Date.now() - start;
  if (ms >= 500 && output === "tty") print(`(${(ms / 1000).toFixed(2)}s)\n`);
}

/** Splits a line typed or piped with redis-cli's quoting into arguments
 * (bytes, so `"\xff"` stays one byte); null on unbalanced quotes. */
export function lineToArgs(line: string): Uint8Array[] | null {
  const args = splitArgs(textToBinary(line));
  return args === null ? null : args.map(binaryToBytes);
}

const sleep = (seconds: number) =>
  new Promise((r) => setTimeout(r, seconds * 1000));

async function batch(link: Link, o: CliOptions, output: Output) {
  const input = await new Response(Deno.stdin.readable).text();
  const lines = input.split("\n");
  let failed = false;
  // Pipeline up to 1000 commands at a time; print replies in order.
  for (let start = 0; start < lines.length; start += 1000) {
    const commands: Args[] = [];
    const slots: (string | Args)[] = [];
    for (const line of lines.slice(start, start + 1000)) {
      const args = lineToArgs(line.replace(/\r$/, ""));
      if (args === null) slots.push("Invalid argument(s)\n");
      else if (args.length === 0) continue;
      else {
        commands.push(args);
        slots.push(args);
      }
    }
    const replies = commands.length > 0 ? await link.call(...commands) : [];
    let r = 0;
    let out = "";
    for (const slot of slots) {
      if (typeof slot === "string") {
        out += slot;
        failed = true;
        continue;
      }
      const reply = replies[r++];
      if (reply instanceof ReplyError) failed = true;
      out += format(reply, output, slot);
    }
    print(out);
  }
  // redis-cli exits 0 whatever the replies; -e asks for 1 on an error.
  return failed && o.strict ? 1 : 0;
}

/** `--scan [--pattern P] [--count N]`: every key, one per line (quoted
 * on a terminal, as redis-cli). */
async function scan(link: Link, o: CliOptions, output: Output) {
  let cursor = "0";
  do {
    const args: Args = ["SCAN", cursor];
    if (o.pattern !== undefined) args.push("MATCH", o.pattern);
    if (o.count !== undefined) args.push("COUNT", String(o.count));
    const [reply] = await link.call(args);
    if (!Array.isArray(reply) || reply.length !== 2) {
      printError(
        reply instanceof ReplyError ? `${reply.message}\n` : "I/O error\n",
      );
      return 1;
    }
    cursor = utf8.decode(reply[0] as Uint8Array);
    const keys = reply[1] as Uint8Array[];
    const out: Uint8Array[] = [];
    for (const key of keys) {
      out.push(
        output === "tty" ? encoder.encode(quoteBytes(key)) : key,
        encoder.encode("\n"),
      );
    }
    print(concatBytes(out));
    if (cursor !== "0" && o.interval > 0) await sleep(o.interval);
  } while (cursor !== "0");
  return 0;
}

function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function historyPath(): string | undefined {
  try {
    const home = Deno.env.get("HOME");
    return home ? join(home, ".kv_history") : undefined;
  } catch {
    return undefined;
  }
}

function loadHistory(path: string | undefined): string[] {
  if (!path) return [];
  try {
    return Deno.readTextFileSync(path).split("\n").filter(Boolean).slice(-1000);
  } catch {
    return [];
  }
}

function docField(doc: unknown, key: string): unknown {
  return doc instanceof Map ? doc.get(key) : undefined;
}

/** A command (or subcommand, or `@group`) that `help`, hints and Tab
 * completion know, as redis-cli's help entries. */
export interface HelpEntry {
  /** `GET`, `CONFIG GET`, or `@string` for a group. */
  full: string;
  /** The words of `full`, lowercase. */
  words: string[];
  /** The arguments' synopsis (`key start end`). */
  params: string;
  summary: string;
  since: string;
  group: string;
}

/** The help entries from COMMAND DOCS (subcommands included, groups as
 * `@group`), sorted by name as redis-cli sorts them. */
export function helpEntries(docs: Map<string, unknown>): HelpEntry[] {
  const entries: HelpEntry[] = [];
  const groups = new Set<string>();
  const add = (name: string, doc: unknown) => {
    const full = name.replace("|", " ").toUpperCase();
    const group = String(docField(doc, "group") ?? "");
    if (group) groups.add(group);
    entries.push({
      full,
      words: full.toLowerCase().split(" "),
      params: synopsis(docField(doc, "arguments")),
      summary: String(docField(doc, "summary") ?? ""),
      since: String(docField(doc, "since") ?? ""),
      group,
    });
  };
  for (const [name, doc] of docs) {
    add(name, doc);
    const subs = docField(doc, "subcommands");
    if (subs instanceof Map) { for (const [n, d] of subs) add(String(n), d); }
  }
  for (const g of groups) {
    entries.push({
      full: `@${g}`,
      words: [`@${g}`],
      params: "",
      summary: "",
      since: "",
      group: g,
    });
  }
  const key = (e: HelpEntry) => e.full.toLowerCase();
  return entries.sort((a, b) => key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

/** redis-cli's hint for a typed line: the arguments of the longest
 * command that the line's words start with, less the ones typed. */
export function hintFor(entries: HelpEntry[], line: string): string {
  const argv = splitArgs(line);
  if (argv === null || argv.length === 0) return "";
  const words = argv.map((w) => w.toLowerCase());
  let entry: HelpEntry | undefined;
  for (const e of entries) {
    if (e.full.startsWith("@")) continue;
    if (
      e.words.length <= words.length &&
      (entry === undefined || e.words.length > entry.words.length) &&
      e.words.every((w, i) => w === words[i])
    ) entry = e;
  }
  if (entry === undefined) return "";
  let hint = entry.params;
  let remove = words.length - entry.words.length;
  while (remove > 0 && hint.length > 0 && hint[0] !== "[") {
    if (hint[0] === " ") remove--;
    hint = hint.slice(1);
  }
  return /\s$/.test(line) ? hint : " " + hint;
}

/** Tab completion as redis-cli's: command names (and `@group`s after
 * `help `) that start with what is typed. */
export function completions(entries: HelpEntry[], line: string): string[] {
  const help = /^help\s+/i.exec(line);
  const start = help ? help[0].length : 0;
  const typed = line.slice(start).toLowerCase();
  const lower = /^[a-z]/.test(line.slice(start));
  return entries.filter((e) =>
    (help || !e.full.startsWith("@")) &&
    e.full.toLowerCase().startsWith(typed)
  ).map((e) => line.slice(0, start) + (lower ? e.full.toLowerCase() : e.full));
}

/** The text `help`, `help COMMAND` (every subcommand of a container too)
 * and `help @group` print, from COMMAND DOCS, as redis-cli's. */
export function helpText(docs: Map<string, unknown>, words: string[]): string {
  if (words.length === 0) {
    return `kv cli ${VERSION.kv}\n` +
      `To get help about commands type:\n` +
      `      "help @<group>" to get a list of commands in <group>\n` +
      `      "help <command>" for help on <command>\n` +
      `      "help <tab>" to get a list of possible help topics\n` +
      `      "quit" to exit; up and down browse history\n`;
  }
  const entries = helpEntries(docs).filter((e) => !e.full.startsWith("@"));
  const one = (e: HelpEntry, group: boolean) =>
    `\n  \x1b[1m${e.full}\x1b[0m \x1b[90m${e.params}\x1b[0m\n` +
    `  \x1b[33msummary:\x1b[0m ${e.summary}\n` +
    `  \x1b[33msince:\x1b[0m ${e.since}\n` +
    (group ? `  \x1b[33mgroup:\x1b[0m ${e.group}\n` : "");
  let out = "";
  if (words[0].startsWith("@")) {
    const group = words[0].slice(1).toLowerCase();
    for (const e of entries) if (e.group === group) out += one(e, false);
  } else {
    const typed = words.map((w) => w.toLowerCase());
    for (const e of entries) {
      if (
        typed.length <= e.words.length &&
        typed.every((w, i) => w === e.words[i])
      ) out += one(e, true);
    }
  }
  if (out === "") return `\n  No help for '${words.join(" ")}'\n\n`;
  return out + "\n";
}

/** COMMAND DOCS as nested maps, read over RESP3 (whatever protocol the
 * session uses) so maps arrive as maps; empty when the server cannot. */
async function commandDocs(o: CliOptions): Promise<Map<string, unknown>> {
  try {
    await using docs = await Client.connect({
      hostname: o.host,
      port: o.port,
      password: o.password,
      username: o.user,
      resp: 3,
      reconnect: false,
    });
    const reply = await docs.execute("COMMAND", "DOCS");
    return reply instanceof Map ? reply as Map<string, unknown> : new Map();
  } catch {
    return new Map(); // no hints or help, the prompt still works
  }
}

async function interactive(o: CliOptions, output: Output): Promise<number> {
  let link: Link | null = null;
  /** The database the connection is in (the prompt's `[n]`); `o.db` is
   * the one to select on connecting again, as redis-cli's dbnum and
   * input_dbnum. */
  let db = 0;
  /** After MULTI (the prompt's `(TX)`), and the database before it. */
  let inMulti = false;
  let preMultiDb = 0;
  const address = `${o.host}:${o.port}`;
  let docs = new Map<string, unknown>();
  let entries: HelpEntry[] = [];
  const onPush = (v: RespValue) => print(format(v, output));
  /** Connects (again); false after printing why it could not. */
  const connect = async () => {
    inMulti = false;
    try {
      ({ link, db } = await openSession(o));
      link.onPush = onPush;
    } catch (e) {
      if (e instanceof ClosedError) printError(`Error: ${e.message}\n`);
      else {printError(
          `Could not connect to Redis at ${address}: ${errorText(e)}\n`,
        );}
      link = null;
      return false;
    }
    if (docs.size === 0) {
      // Command docs for hints, completion and help, fetched once.
      docs = await commandDocs(o);
      entries = helpEntries(docs);
    }
    return true;
  };
  await connect();
  const path = historyPath();
  const editor = new LineEditor({
    history: loadHistory(path),
    hint: (line) => hintFor(entries, line),
    complete: (line) => completions(entries, line),
  });
  while (true) {
    const prompt = link === null
      ? "not connected> "
      : `${address}${db === 0 ? "" : `[${db}]`}${inMulti ? "(TX)" : ""}> `;
    const line = await editor.readLine(prompt);
    if (line === null) break;
    let args: Args | null = lineToArgs(line);
    if (args === null) {
      print("Invalid argument(s)\n");
      continue;
    }
    if (args.length === 0) continue;
    if (path) {
      try {
        Deno.writeTextFileSync(
          path,
          editor.history.slice(-1000).join("\n") + "\n",
        );
      } catch {
        // history is a convenience
      }
    }
    // "5 INCR n" runs INCR five times, as in redis-cli.
    let repeat = 1;
    const first = utf8.decode(args[0] as Uint8Array);
    if (args.length > 1 && /^\d+$/.test(first)) {
      repeat = Number(first);
      args = args.slice(1);
    }
    const name = commandName(args[0]);
    if (name === "quit" || name === "exit") break;
    if (name === "clear") {
      print("\x1b[H\x1b[2J");
      continue;
    }
    if (name === "help" || name === "?") {
      print(helpText(docs, args.slice(1).map((a) => commandName(a))));
      continue;
    }
    if (link === null && !await connect()) continue;
    const start = Date.now();
    if (STREAMING.has(name)) {
      // Messages print until Ctrl-C (back to the prompt, as redis-cli) or
      // the server closes the connection (redis-cli exits).
      const stopper: { stop?: () => void } = {};
      const onInterrupt = () => stopper.stop?.();
      Deno.addSignalListener("SIGINT", onInterrupt);
      let end: StreamEnd;
      try {
        end = await stream(o, args, output, stopper);
      } catch (e) {
        print(`Error: ${errorText(e)}\n`);
        continue;
      } finally {
        Deno.removeSignalListener("SIGINT", onInterrupt);
      }
      if (end === "closed") {
        (link as Link | null)?.close();
        return 1;
      }
      printElapsed(start, output);
      continue;
    }
    for (let n = 0; n < repeat; n++) {
      let reply: RespValue;
      try {
        [reply] = await link!.call(args);
      } catch (e) {
        // As redis-cli: say so; the next command connects again.
        printError(`Error: ${errorText(e)}\n`);
        link!.close();
        link = null;
        break;
      }
      print(format(reply, output, args));
      // The connection's state, as redis-cli keeps it for the prompt and
      // the next connection.
      const failed = reply instanceof ReplyError;
      const argc = args.length;
      if (name === "select" && argc === 2 && !failed) {
        // Also when only queued after MULTI, as redis-cli.
        db = o.db = Number.parseInt(utf8.decode(args[1] as Uint8Array), 10) ||
          0;
      } else if (name === "auth" && (argc === 2 || argc === 3)) {
        if (!failed) {
          // Later connections use these credentials.
          o.password = utf8.decode(args.at(-1) as Uint8Array);
          o.user = argc === 3 ? utf8.decode(args[1] as Uint8Array) : undefined;
        }
        // As redis-cli: the database of -n, if a failed AUTH kept it out.
        try {
          ({ db } = await selectDb(link!, o, db));
        } catch (e) {
          printError(`Error: ${errorText(e)}\n`);
          link!.close();
          link = null;
          break;
        }
        if (!failed && docs.size === 0) {
          docs = await commandDocs(o);
          entries = helpEntries(docs);
        }
      } else if (name === "multi" && argc === 1 && !failed) {
        inMulti = true;
        preMultiDb = db;
      } else if (name === "exec" && argc === 1 && inMulti) {
        inMulti = false;
        // Not run (EXECABORT, or a WATCHed key changed): its SELECT neither.
        if (failed || reply === null) db = o.db = preMultiDb;
      } else if (name === "discard" && argc === 1 && !failed) {
        inMulti = false;
        db = o.db = preMultiDb;
      } else if (name === "reset" && argc === 1 && !failed) {
        inMulti = false;
        db = o.db = 0;
        o.resp3 = false;
      }
      if (n + 1 < repeat && o.interval > 0) await sleep(o.interval);
    }
    printElapsed(start, output);
  }
  (link as Link | null)?.close();
  return 0;
}

function errorText(e: unknown): string {
  if (e instanceof Deno.errors.ConnectionRefused) return "Connection refused";
  if (e instanceof ConnectionError && e.cause instanceof Error) {
    return /refused/i.test(e.cause.message)
      ? "Connection refused"
      : e.cause.message;
  }
  return e instanceof Error ? e.message : String(e);
}

/** The EVAL command `--eval file k1 k2 , a1 a2` sends, as redis-cli builds
 * it: the file's bytes, then the words before the first lone `,` as keys
 * and the rest as arguments. */
export function evalCommand(
  script: Uint8Array,
  words: readonly string[],
): Args {
  const comma = words.indexOf(",");
  const keys = comma === -1 ? words : words.slice(0, comma);
  const args = comma === -1 ? [] : words.slice(comma + 1);
  return ["EVAL", script, String(keys.length), ...keys, ...args];
}

/** strerror()'s text for a file that could not be read. */
function fileError(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return "No such file or directory";
  if (e instanceof Deno.errors.PermissionDenied) return "Permission denied";
  if (e instanceof Deno.errors.IsADirectory) return "Is a directory";
  return e instanceof Error ? e.message : String(e);
}

/** Runs `kv cli` with its arguments; resolves with the exit status. */
export async function cli(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseCliArgs(args);
  } catch (e) {
    console.error(`kv cli: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { options, help } = parsed;
  if (help) {
    print(USAGE);
    return 0;
  }
  if (options.password !== undefined && !options.noAuthWarning) {
    console.error(
      "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe.",
    );
  }
  if (options.password === undefined) {
    // As redis-cli: the password from the environment, without a warning.
    let env: string | undefined;
    try {
      env = Deno.env.get("REDISCLI_AUTH");
    } catch {
      // no --allow-env
    }
    if (env !== undefined) options.password = env;
  }
  const output: Output = options.csv
    ? "csv"
    : options.raw ?? !Deno.stdout.isTerminal()
    ? "raw"
    : "tty";
  let command: Args = parsed.command;
  const evalMode = options.eval !== undefined;
  if (
    !evalMode && !options.scan && command.length === 0 &&
    Deno.stdin.isTerminal()
  ) {
    // At the prompt replies are formatted unless --raw (or --csv).
    return await interactive(
      options,
      options.csv ? "csv" : options.raw === true ? "raw" : "tty",
    );
  }
  if (
    !evalMode && !options.scan && command.length > 0 &&
    STREAMING.has(commandName(command[0]))
  ) {
    // Until an error reply (exit 0, as redis-cli), the end of the
    // connection (exit 1), or SIGINT (which ends the process).
    try {
      const end = await stream(options, command, output);
      if (end === "closed") {
        console.error("Error: Server closed the connection");
        return 1;
      }
      return 0;
    } catch (e) {
      console.error(
        `Could not connect to Redis at ${options.host}:${options.port}: ${
          errorText(e)
        }`,
      );
      return 1;
    }
  }
  let link: Link;
  let ok: boolean;
  try {
    ({ link, ok } = await openSession(options));
  } catch (e) {
    console.error(
      e instanceof ClosedError
        ? `Error: ${e.message}`
        : `Could not connect to Redis at ${options.host}:${options.port}: ${
          errorText(e)
        }`,
    );
    return 1;
  }
  try {
    // As redis-cli: these modes need the AUTH and SELECT to have worked.
    if (!ok && (options.scan || evalMode)) return 1;
    if (options.scan) return await scan(link, options, output);
    if (options.eval !== undefined) {
      // As redis-cli: connected first, then the file is read.
      let script: Uint8Array;
      try {
        script = await Deno.readFile(options.eval);
      } catch (e) {
        console.error(`Can't open file '${options.eval}': ${fileError(e)}`);
        return 1;
      }
      command = evalCommand(script, parsed.command);
    }
    if (command.length > 0) {
      if (options.stdinLastArg) {
        command = [...command, await readStdin()];
      }
      let failed = false;
      const name = commandName(command[0]);
      for (let n = 0; options.repeat < 0 || n < options.repeat; n++) {
        let reply: RespValue;
        try {
          [reply] = await link.call(command);
        } catch (e) {
          // SHUTDOWN's success is the end of the connection.
          if (e instanceof ClosedError && name === "shutdown") return 0;
          throw e;
        }
        print(format(reply, output, command));
        if (reply instanceof ReplyError) failed = true;
        if (options.interval > 0) await sleep(options.interval);
      }
      return failed ? 1 : 0;
    }
    return await batch(link, options, output);
  } catch (e) {
    console.error(
      e instanceof ClosedError
        ? `Error: ${e.message}`
        : `kv cli: ${errorText(e)}`,
    );
    return 1;
  } finally {
    link.close();
  }
}

async function readStdin(): Promise<Uint8Array> {
  return new Uint8Array(await new Response(Deno.stdin.readable).arrayBuffer());
}

if (import.meta.main) {
  Deno.exit(await cli(Deno.args));
}
