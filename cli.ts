/**
 * The `kv cli` command line, modelled on redis-cli:
 *
 * - `kv cli SET a 1`: runs one command, prints the reply, exits 1 on an
 *   error reply;
 * - `printf 'SET a 1\nGET a\n' | kv cli`: batch mode, one command per line
 *   (redis-cli's quoting), replies in order;
 * - `kv cli` on a terminal: an interactive prompt with history, hints and
 *   `help COMMAND`.
 *
 * Replies print as redis-cli prints them: `(integer) 1`, `(nil)`, numbered
 * arrays on a terminal; raw values when stdout is not a terminal (or with
 * `--raw`; `--no-raw` forces the terminal format).
 *
 * @module
 */

import { join } from "node:path";
import { Client, ConnectionError } from "./client.ts";
import {
  encodeCommand,
  ReplyDecoder,
  ReplyError,
  type RespValue,
  splitArgs,
} from "./protocol.ts";
import { binaryToBytes, textToBinary } from "./_bytes.ts";
import { formatCSV, formatRaw, formatTTY, synopsis } from "./_reply_format.ts";
import { LineEditor } from "./_line_editor.ts";
import { VERSION } from "./version.ts";
import { writeAll, writeAllSync } from "./_io.ts";

/** Parsed `kv cli` flags. */
export interface CliOptions {
  /** Server host (`-h`, `--host`). */
  host: string;
  /** Server port (`-p`, `--port`). */
  port: number;
  /** Password (`-a`, `--pass`). */
  password?: string;
  /** ACL user (`--user`). */
  user?: string;
  /** Use RESP3 (`-3`, `--resp3`). */
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
}

const USAGE = `kv cli ${VERSION.kv}

Usage: kv cli [OPTIONS] [COMMAND [ARG ...]]
  -h, --host <hostname>  Server hostname (default: 127.0.0.1).
  -p, --port <port>      Server port (default: 31337).
  -a, --pass <password>  Password to use when connecting to the server.
  --user <username>      ACL user to authenticate as.
  -3, --resp3            Start the session in RESP3 protocol mode.
  --raw                  Use raw formatting for replies.
  --no-raw               Force formatted output even when stdout is not a tty.
  --csv                  Output in CSV format.
  --eval <file>          Send an EVAL command using the Lua script at <file>.
  --no-auth-warning      Don't show the warning about passwords.
  --help                 Output this help and exit.

With a command, runs it and prints the reply (exit status 1 on an error
reply; SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and MONITOR print every message
until Ctrl-C or the connection closes). Without one, reads commands from stdin when it is not a terminal,
one per line, or starts an interactive prompt.

Examples:
  kv cli --eval myscript.lua key1 key2 , arg1 arg2 arg3

  (Note: when using --eval the comma separates KEYS[] from ARGV[] items)
`;

/** Parses flags up to the first word that is not one; the rest is the
 * command. Throws on a bad flag. */
export function parseCliArgs(
  args: readonly string[],
): { options: CliOptions; command: string[]; help: boolean } {
  const options: CliOptions = {
    host: "127.0.0.1",
    port: 31337,
    resp3: false,
    noAuthWarning: false,
  };
  let help = false;
  let i = 0;
  const value = (flag: string) => {
    const v = args[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    return v;
  };
  for (; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--host") options.host = value(a);
    else if (a === "-p" || a === "--port") {
      const p = Number(value(a));
      if (!Number.isInteger(p) || p < 0 || p > 65535) {
        throw new Error(`bad port '${args[i]}'`);
      }
      options.port = p;
    } else if (a === "-a" || a === "--pass") options.password = value(a);
    else if (a === "--user") options.user = value(a);
    else if (a === "-3" || a === "--resp3") options.resp3 = true;
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

function print(s: string): void {
  writeAllSync(Deno.stdout, encoder.encode(s));
}

/** How replies print: redis-cli's raw, terminal (`tty`) or `--csv` form. */
type Output = "raw" | "tty" | "csv";

function format(v: RespValue, output: Output): string {
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
  return (typeof arg === "string" ? arg : new TextDecoder().decode(arg))
    .toLowerCase();
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
  args: (string | Uint8Array)[],
  output: Output,
  stopper: { stop?: () => void } = {},
): Promise<StreamEnd> {
  const conn = await Deno.connect({ hostname: o.host, port: o.port });
  let stopped = false;
  stopper.stop = () => {
    stopped = true;
    try {
      conn.close();
    } catch {
      // already closed
    }
  };
  const decoder = new ReplyDecoder({ bulk: "bytes", doubles: "text" });
  const buf = new Uint8Array(64 * 1024);
  const next = async (): Promise<RespValue | undefined> => {
    while (true) {
      const r = decoder.next();
      if (r !== undefined) return r.value;
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch {
        n = null;
      }
      if (n === null) return undefined;
      decoder.feed(buf.subarray(0, n));
    }
  };
  try {
    const hello: (string | Uint8Array)[][] = [];
    if (o.password !== undefined) {
      hello.push(
        o.user === undefined
          ? ["AUTH", o.password]
          : ["AUTH", o.user, o.password],
      );
    }
    if (o.resp3) hello.push(["HELLO", "3"]);
    for (const c of [...hello, args]) await writeAll(conn, encodeCommand(c));
    for (let i = 0; i < hello.length; i++) {
      const reply = await next();
      if (reply === undefined) return stopped ? "stopped" : "closed";
      if (reply instanceof ReplyError) {
        print(format(reply, output));
        return "error";
      }
    }
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

/** Runs one command; error replies come back as values. */
async function run(client: Client, args: (string | Uint8Array)[]) {
  const [reply] = await client.pipeline().executeBytes(...args).exec();
  return reply as RespValue;
}

/** Splits a line typed or piped with redis-cli's quoting into arguments
 * (bytes, so `"\xff"` stays one byte); null on unbalanced quotes. */
export function lineToArgs(line: string): Uint8Array[] | null {
  const args = splitArgs(textToBinary(line));
  return args === null ? null : args.map(binaryToBytes);
}

async function connect(o: CliOptions, interactive: boolean): Promise<Client> {
  return await Client.connect({
    hostname: o.host,
    port: o.port,
    password: o.password,
    username: o.user,
    resp: o.resp3 ? 3 : 2,
    reconnect: interactive ? { retries: 5 } : false,
    doubles: "text", // printed as sent, as redis-cli does
  });
}

async function batch(client: Client, output: Output): Promise<number> {
  const input = await new Response(Deno.stdin.readable).text();
  const lines = input.split("\n");
  let failed = false;
  // Pipeline up to 1000 commands at a time; print replies in order.
  for (let start = 0; start < lines.length; start += 1000) {
    const p = client.pipeline();
    const slots: (string | null)[] = [];
    for (const line of lines.slice(start, start + 1000)) {
      const args = lineToArgs(line.replace(/\r$/, ""));
      if (args === null) slots.push("Invalid argument(s)\n");
      else if (args.length === 0) continue;
      else {
        p.executeBytes(...args);
        slots.push(null);
      }
    }
    const replies = p.length > 0 ? await p.exec() : [];
    let r = 0;
    let out = "";
    for (const slot of slots) {
      if (slot !== null) {
        out += slot;
        failed = true;
        continue;
      }
      const reply = replies[r++] as RespValue;
      if (reply instanceof ReplyError) failed = true;
      out += format(reply, output);
    }
    print(out);
  }
  return failed ? 1 : 0;
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

async function interactive(o: CliOptions, output: Output): Promise<number> {
  let client: Client | null = null;
  const address = `${o.host}:${o.port}`;
  try {
    client = await connect(o, true);
  } catch (e) {
    print(`Could not connect to Redis at ${address}: ${errorText(e)}\n`);
  }
  // Command docs for hints and help, fetched once from the server.
  const docs = client ? await commandDocs(o) : new Map<string, unknown>();
  const hint = (line: string) => {
    const words = line.trimStart().split(/\s+/);
    if (words.length !== 2 || words[1] !== "") return "";
    const doc = docs.get(words[0].toLowerCase());
    return doc ? synopsis(docField(doc, "arguments")) : "";
  };
  const path = historyPath();
  const editor = new LineEditor({ history: loadHistory(path), hint });
  while (true) {
    const prompt = client?.connected ? `${address}> ` : "not connected> ";
    const line = await editor.readLine(prompt);
    if (line === null) break;
    const args = lineToArgs(line);
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
    const name = new TextDecoder().decode(args[0]).toLowerCase();
    if (name === "quit" || name === "exit") break;
    if (name === "clear") {
      print("\x1b[H\x1b[2J");
      continue;
    }
    if (name === "help") {
      print(
        helpText(docs, args.slice(1).map((a) => new TextDecoder().decode(a))),
      );
      continue;
    }
    if (client === null) {
      try {
        client = await connect(o, true);
      } catch (e) {
        print(`Could not connect to Redis at ${address}: ${errorText(e)}\n`);
        continue;
      }
    }
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
        client?.close();
        return 1;
      }
      printElapsed(start, output);
      continue;
    }
    try {
      const reply = await run(client, args);
      print(format(reply, output));
      printElapsed(start, output);
    } catch (e) {
      print(`Error: ${errorText(e)}\n`);
    }
  }
  client?.close();
  return 0;
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

/** The text `help` and `help COMMAND` print, from COMMAND DOCS. */
export function helpText(docs: Map<string, unknown>, words: string[]): string {
  if (words.length === 0) {
    return `kv cli ${VERSION.kv}\n` +
      `To get help about a command, type "help <command>"\n` +
      `Type "quit" or press Ctrl-D to leave; up and down browse history.\n`;
  }
  const name = words.join(" ").toLowerCase().replace(" ", "|");
  let doc = docs.get(name);
  if (doc === undefined && name.includes("|")) {
    const parent = docs.get(name.split("|")[0]);
    const subs = docField(parent, "subcommands");
    doc = subs instanceof Map ? subs.get(name) : undefined;
  }
  if (doc === undefined) return `\n  No help for '${words.join(" ")}'\n\n`;
  const title = `${name.replace("|", " ").toUpperCase()} ${
    synopsis(docField(doc, "arguments"))
  }`.trimEnd();
  return `\n  \x1b[1m${title}\x1b[0m\n` +
    `  \x1b[33msummary:\x1b[0m ${docField(doc, "summary") ?? ""}\n` +
    `  \x1b[33msince:\x1b[0m ${docField(doc, "since") ?? ""}\n` +
    `  \x1b[33mgroup:\x1b[0m ${docField(doc, "group") ?? ""}\n\n`;
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
): (string | Uint8Array)[] {
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
      "Warning: Using a password with '-a' option on the command line interface may not be safe.",
    );
  }
  const output: Output = options.csv
    ? "csv"
    : options.raw ?? !Deno.stdout.isTerminal()
    ? "raw"
    : "tty";
  let command: (string | Uint8Array)[] = parsed.command;
  const evalMode = options.eval !== undefined;
  if (!evalMode && command.length === 0 && Deno.stdin.isTerminal()) {
    // At the prompt replies are formatted unless --raw (or --csv).
    return await interactive(
      options,
      options.csv ? "csv" : options.raw === true ? "raw" : "tty",
    );
  }
  if (
    !evalMode && command.length > 0 && STREAMING.has(commandName(command[0]))
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
  let client: Client;
  try {
    client = await connect(options, false);
  } catch (e) {
    if (e instanceof ReplyError) {
      print(format(e, output));
      return 1;
    }
    console.error(
      `Could not connect to Redis at ${options.host}:${options.port}: ${
        errorText(e)
      }`,
    );
    return 1;
  }
  try {
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
      const reply = await run(client, command);
      print(format(reply, output));
      return reply instanceof ReplyError ? 1 : 0;
    }
    return await batch(client, output);
  } catch (e) {
    console.error(`kv cli: ${errorText(e)}`);
    return 1;
  } finally {
    client.close();
  }
}

if (import.meta.main) {
  Deno.exit(await cli(Deno.args));
}
