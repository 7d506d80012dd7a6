/**
 * Functions: FUNCTION LOAD, DELETE, FLUSH, LIST, DUMP, RESTORE, STATS,
 * KILL and FCALL / FCALL_RO, with Redis 7.0's semantics. A library is Lua
 * code starting with `#!lua name=<library>` that registers functions with
 * `redis.register_function`; it runs once, at load, in a Lua state of its
 * own (lua/engine.ts), whose functions FCALL then calls like EVAL scripts
 * (commands/scripting.ts `runScript`). Libraries are saved in snapshots and
 * logged like writes; DUMP and RESTORE use Redis's payload (RDB opcode 245
 * with the code, the RDB version, CRC-64), so payloads move both ways
 * between us and redis-server.
 *
 * @module
 */

import type { RegisteredFunction } from "../lua/engine.ts";
import { LuaVM } from "../lua/engine.ts";
import {
  CommandError,
  type Handler,
  helpReply,
  type ServerState,
  type Session,
  upper,
} from "./_shared.ts";
import {
  checkFlags,
  killScript,
  noFlags,
  runScript,
  type ScriptFlags,
  Scripting,
} from "./scripting.ts";
import { globMatch } from "../_glob.ts";
import { Introspection, monitoring } from "./introspection.ts";
import { binaryToBytes, bytesToBinary } from "../_bytes.ts";
import { openPayload, RdbReader, rdbString, sealPayload } from "../_rdb.ts";

/** A registered function. */
interface FunctionEntry {
  name: string;
  /** Its handle in FUNCTION's Lua state. */
  ref: number;
  description: string | null;
  flags: ScriptFlags;
  flagNames: string[];
  library: Library;
}

/** A loaded library. */
interface Library {
  name: string;
  code: string;
  functions: FunctionEntry[];
}

const FLAG_NAMES = [
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
];

/** How long a library's code may run when it loads, in ms (Redis's
 * LOAD_TIMEOUT_MS). */
const LOAD_TIMEOUT = 500;

const NAME_RULE =
  "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

/** Every library of a server. */
class Functions {
  readonly libraries = new Map<string, Library>();
  readonly functions = new Map<string, FunctionEntry>();
  #vm: LuaVM | null = null;
  static readonly #all = new WeakMap<object, Functions>();

  static of(server: ServerState): Functions {
    let f = Functions.#all.get(server.store);
    if (f === undefined) {
      f = new Functions();
      Functions.#all.set(server.store, f);
      const sc = Scripting.of(server);
      sc.functionsFailed = () => f!.reload(server);
      sc.functionsInfo = () => ({
        libraries: f!.libraries.size,
        functions: f!.functions.size,
        bytes: f!.codeBytes(),
      });
    }
    return f;
  }

  vm(server: ServerState): LuaVM {
    if (this.#vm === null) {
      this.#vm = LuaVM.create(true);
      Scripting.of(server).functionsVM = this.#vm;
    }
    return this.#vm;
  }

  /** A fresh Lua state with every library loaded again. */
  reload(server: ServerState): void {
    const codes = [...this.libraries.values()].map((l) => l.code);
    this.#vm = null;
    this.libraries.clear();
    this.functions.clear();
    for (const code of codes) {
      try {
        this.load(server, code, true);
      } catch (e) {
        server.log("warning", `A library failed to load again: ${e}`);
      }
    }
  }

  codeBytes(): number {
    let n = 0;
    for (const lib of this.libraries.values()) n += lib.code.length;
    return n;
  }

  /** Loads a library (Redis's functionsCreateWithLibraryCtx); returns its
   * name or throws the error reply. */
  load(server: ServerState, code: string, replace: boolean): string {
    const { name, engine } = parseMetadata(code);
    if (!/^[A-Za-z0-9_]+$/.test(name)) throw new CommandError(NAME_RULE);
    if (engine.toLowerCase() !== "lua") {
      throw new CommandError(`ERR Engine '${engine}' not found`);
    }
    const old = this.libraries.get(name);
    if (old !== undefined && !replace) {
      throw new CommandError(`ERR Library '${name}' already exists`);
    }
    const vm = this.vm(server);
    // A library's code runs at most LOAD_TIMEOUT ms (Redis's limit).
    const started = performance.now();
    vm.host = {
      ...Scripting.of(server).host,
      tick: () => performance.now() - started > LOAD_TIMEOUT ? 2 : 0,
    };
    // The shebang line becomes a comment: line numbers stay as written.
    const result = vm.loadLibrary("--" + code.slice(2));
    if (typeof result === "string") throw new CommandError(`ERR ${result}`);
    if (result.length === 0) {
      throw new CommandError("ERR No functions registered");
    }
    for (const fn of result) {
      const other = this.functions.get(fn.name);
      if (other !== undefined && other.library !== old) {
        throw new CommandError(`ERR Function ${fn.name} already exists`);
      }
    }
    if (old !== undefined) this.#drop(vm, old);
    const lib: Library = { name, code, functions: [] };
    const refs = vm.commitLibrary();
    result.forEach((fn, i) => lib.functions.push(entry(fn, refs[i], lib)));
    this.libraries.set(name, lib);
    for (const fn of lib.functions) this.functions.set(fn.name, fn);
    return name;
  }

  #drop(vm: LuaVM, lib: Library): void {
    for (const fn of lib.functions) {
      vm.forget(fn.ref);
      this.functions.delete(fn.name);
    }
    this.libraries.delete(lib.name);
  }

  delete(server: ServerState, name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    this.#drop(this.vm(server), lib);
    return true;
  }

  flush(): void {
    this.libraries.clear();
    this.functions.clear();
    this.#vm?.reset();
  }
}

function entry(
  fn: RegisteredFunction,
  ref: number,
  library: Library,
): FunctionEntry {
  const flags = noFlags();
  const flagNames: string[] = [];
  FLAG_NAMES.forEach((n, i) => {
    if (fn.flags & (1 << i)) flagNames.push(n);
  });
  flags.noWrites = (fn.flags & 1) !== 0;
  flags.allowOom = (fn.flags & 2) !== 0;
  flags.allowStale = (fn.flags & 4) !== 0;
  flags.noCluster = (fn.flags & 8) !== 0;
  flags.allowCrossSlotKeys = (fn.flags & 16) !== 0;
  return {
    name: fn.name,
    ref,
    description: fn.description,
    flags,
    flagNames,
    library,
  };
}

/** `#!<engine> name=<library>` (Redis's functionExtractLibMetaData). */
function parseMetadata(code: string): { engine: string; name: string } {
  if (!code.startsWith("#!")) {
    throw new CommandError("ERR Missing library metadata");
  }
  const nl = code.indexOf("\n");
  if (nl === -1) throw new CommandError("ERR Invalid library metadata");
  const parts = code.slice(0, nl).split(/[ \t\r]+/).filter((p) => p !== "");
  if (parts.length === 0) {
    throw new CommandError("ERR Invalid library metadata");
  }
  const engine = parts[0].slice(2);
  let name: string | undefined;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === "name=") {
      if (name !== undefined) {
        throw new CommandError(
          "ERR Invalid metadata value, name argument was given multiple times",
        );
      }
      name = part.slice(5);
      continue;
    }
    throw new CommandError(`ERR Invalid metadata value given: ${part}`);
  }
  if (name === undefined) {
    throw new CommandError("ERR Library name was not given");
  }
  return { engine, name };
}

/** The code of every library (snapshots, log rewrites). */
export function libraryCodes(server: ServerState): string[] {
  return [...Functions.of(server).libraries.values()].map((l) => l.code);
}

/** Whether FUNCTION or FCALL needs the engine loaded at all. */
function functionsOf(s: Session): Functions {
  return Functions.of(s.server);
}

const functionLoad: Handler = (s, argv) => {
  let replace = false;
  let i = 2;
  for (; i < argv.length - 1; i++) {
    if (upper(argv[i]) === "REPLACE") replace = true;
    else throw new CommandError(`ERR Unknown option given: ${argv[i]}`);
  }
  if (i >= argv.length) throw new CommandError("ERR Function code is missing");
  const name = functionsOf(s).load(s.server, argv[i], replace);
  s.store.dirty++;
  s.out.bulk(name);
};

const functionDelete: Handler = (s, argv) => {
  if (!functionsOf(s).delete(s.server, argv[2])) {
    throw new CommandError("ERR Library not found");
  }
  s.store.dirty++;
  s.out.ok();
};

const functionFlush: Handler = (s, argv) => {
  if (argv.length === 3) {
    const mode = upper(argv[2]);
    if (mode !== "SYNC" && mode !== "ASYNC") {
      throw new CommandError(
        "ERR FUNCTION FLUSH only supports SYNC|ASYNC option",
      );
    }
  } else if (argv.length > 3) {
    throw new CommandError(
      "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP.",
    );
  }
  functionsOf(s).flush();
  s.store.dirty++;
  s.out.ok();
};

const functionList: Handler = (s, argv) => {
  let pattern: string | null = null;
  let withCode = false;
  for (let i = 2; i < argv.length; i++) {
    const opt = upper(argv[i]);
    if (opt === "WITHCODE" && !withCode) withCode = true;
    else if (opt === "LIBRARYNAME" && pattern === null) {
      if (++i >= argv.length) {
        throw new CommandError("ERR library name argument was not given");
      }
      pattern = argv[i];
    } else throw new CommandError(`ERR Unknown argument ${argv[i]}`);
  }
  const libs = [...functionsOf(s).libraries.values()].filter((l) =>
    pattern === null || globMatch(pattern, l.name)
  );
  const out = s.out;
  out.array(libs.length);
  for (const lib of libs) {
    out.map(withCode ? 4 : 3);
    out.bulk("library_name");
    out.bulk(lib.name);
    out.bulk("engine");
    out.bulk("LUA");
    out.bulk("functions");
    out.array(lib.functions.length);
    for (const fn of lib.functions) {
      out.map(3);
      out.bulk("name");
      out.bulk(fn.name);
      out.bulk("description");
      if (fn.description === null) out.nil();
      else out.bulk(fn.description);
      out.bulk("flags");
      out.set(fn.flagNames.length);
      for (const f of fn.flagNames) out.simple(f);
    }
    if (withCode) {
      out.bulk("library_code");
      out.bulk(lib.code);
    }
  }
};

const functionStats: Handler = (s) => {
  const f = functionsOf(s);
  const run = Scripting.of(s.server).running;
  const out = s.out;
  out.map(2);
  out.bulk("running_script");
  if (run === null || run.isEval) out.nil();
  else {
    out.map(3);
    out.bulk("name");
    out.bulk(run.name);
    out.bulk("command");
    out.array(run.argv.length);
    for (const a of run.argv) out.bulk(a);
    out.bulk("duration_ms");
    out.int(Date.now() - run.startedAt);
  }
  out.bulk("engines");
  out.map(1);
  out.bulk("LUA");
  out.map(2);
  out.bulk("libraries_count");
  out.int(f.libraries.size);
  out.bulk("functions_count");
  out.int(f.functions.size);
};

const functionDump: Handler = (s) => {
  const body: number[] = [];
  for (const lib of functionsOf(s).libraries.values()) {
    body.push(245); // RDB_OPCODE_FUNCTION2
    rdbString(body, lib.code);
  }
  s.out.bulk(bytesToBinary(sealPayload(body)));
};

const functionRestore: Handler = (s, argv) => {
  let policy = "APPEND";
  if (argv.length > 4) {
    throw new CommandError(
      "ERR unknown subcommand or wrong number of arguments for 'restore'. Try FUNCTION HELP.",
    );
  }
  if (argv.length === 4) {
    policy = upper(argv[3]);
    if (policy !== "FLUSH" && policy !== "APPEND" && policy !== "REPLACE") {
      throw new CommandError(
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
      );
    }
  }
  const body = openPayload(binaryToBytes(argv[2]));
  if (body === null) {
    throw new CommandError("ERR DUMP payload version or checksum are wrong");
  }
  const codes: string[] = [];
  const r = new RdbReader(body);
  while (!r.done) {
    const type = r.byte();
    if (type === 246) {
      throw new CommandError("ERR Pre-GA function format not supported");
    }
    if (type !== 245) {
      throw new CommandError("ERR given type is not a function");
    }
    const code = r.string();
    if (code === null) throw new CommandError("ERR Failed loading library");
    codes.push(code);
  }
  const f = functionsOf(s);
  // Check everything against the libraries as they would be, then apply.
  const names = codes.map((c) => parseMetadata(c).name);
  if (policy === "APPEND") {
    for (const n of names) {
      if (f.libraries.has(n)) {
        throw new CommandError(`ERR Library ${n} already exists`);
      }
    }
  }
  const saved = [...f.libraries.values()].map((l) => l.code);
  if (policy === "FLUSH") f.flush();
  try {
    for (const code of codes) f.load(s.server, code, policy !== "APPEND");
  } catch (e) {
    // Put back what was there.
    f.flush();
    for (const code of saved) f.load(s.server, code, true);
    throw e;
  }
  s.store.dirty++;
  s.out.ok();
};

const FUNCTION_HELP = [
  "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "LOAD [REPLACE] <FUNCTION CODE>",
  "    Create a new library with the given library name and code.",
  "DELETE <LIBRARY NAME>",
  "    Delete the given library.",
  "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
  "    Return general information on all the libraries:",
  "    * Library name",
  "    * The engine used to run the Library",
  "    * Library description",
  "    * Functions list",
  "    * Library code (if WITHCODE is given)",
  "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
  "STATS",
  "    Return information about the current function running:",
  "    * Function name",
  "    * Command used to run the function",
  "    * Duration in MS that the function is running",
  "    If no function is running, return nil",
  "    In addition, returns a list of available engines.",
  "KILL",
  "    Kill the current running function.",
  "FLUSH [ASYNC|SYNC]",
  "    Delete all the libraries.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the libraries.",
  "    * SYNC: Synchronously flush the libraries.",
  "DUMP",
  "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
  "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
  "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
  "    control how to handle existing libraries (default APPEND):",
  "    * FLUSH: delete all existing libraries.",
  "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
  "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
  "      libraries with the new libraries (notice that even on this option there is a chance of failure",
  "      in case of functions name collision with another library).",
  "HELP",
  "    Prints this help.",
];

function fcall(s: Session, argv: string[], ro: boolean): void {
  // As Redis: MONITOR shows FCALL before the commands its function runs,
  // and also when it fails (an unknown function).
  if (monitoring()) Introspection.of(s.server).feed(s, argv);
  const f = functionsOf(s);
  const fn = f.functions.get(argv[1]);
  if (fn === undefined) throw new CommandError("ERR Function not found");
  const n = Number(argv[2]);
  if (!/^-?\d+$/.test(argv[2]) || !Number.isSafeInteger(n)) {
    throw new CommandError("ERR Bad number of keys provided");
  }
  if (n > argv.length - 3) {
    throw new CommandError(
      "ERR Number of keys can't be greater than number of args",
    );
  }
  if (n < 0) throw new CommandError("ERR Number of keys can't be negative");
  checkFlags(s, fn.flags, ro);
  runScript(
    s,
    f.vm(s.server),
    fn.ref,
    argv.slice(3, 3 + n),
    argv.slice(3 + n),
    argv,
    {
      isEval: false,
      name: fn.name,
      readOnly: ro || fn.flags.noWrites,
      allowOom: fn.flags.allowOom,
    },
  );
}

/** Handlers of the function commands, by lowercase name. */
export const functionCommands: Record<string, Handler> = {
  "function|load": functionLoad,
  "function|delete": functionDelete,
  "function|flush": functionFlush,
  "function|list": functionList,
  "function|stats": functionStats,
  "function|dump": functionDump,
  "function|restore": functionRestore,
  "function|kill": (s) => killScript(s, false),
  "function|help": (s) => helpReply(s, FUNCTION_HELP),
  fcall: (s, argv) => fcall(s, argv, false),
  fcall_ro: (s, argv) => fcall(s, argv, true),
};
