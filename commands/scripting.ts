/**
 * Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, with Redis
 * 7.0's semantics, on the engine of lua/engine.ts. FUNCTION and FCALL
 * (commands/functions.ts) run on the same machinery ({@linkcode runScript}).
 *
 * A script is atomic: while it runs no other client's command runs. Its
 * `redis.call`s run through the dispatcher as a client of their own, whose
 * writes are gathered and logged to the append-only file when the script
 * ends (as effects, wrapped in MULTI ... EXEC when there are several), so
 * replaying the log never depends on time or randomness.
 *
 * A long script: once it has run for `busy-reply-threshold` ms, the engine
 * yields every 100,000 instructions and the server goes on serving I/O:
 * other clients get `-BUSY`, SCRIPT KILL stops a script that has not
 * written, SHUTDOWN NOSAVE stops the server. Before the threshold nothing
 * else runs, as in Redis.
 *
 * @module
 */

import { LuaVM, RunStatus, type ScriptHost, sha1hex } from "../lua/engine.ts";
import { ReplyWriter } from "../protocol.ts";
import {
  type ClientState,
  type Command,
  CommandError,
  Errors,
  forcePropagation,
  type Handler,
  helpReply,
  type ServerState,
  type Session,
  upper,
} from "./_shared.ts";
import { execute } from "../commands.ts";
import { Transaction } from "./transactions.ts";
import { Introspection, monitoring } from "./introspection.ts";
import { OOM_ERROR } from "../data/_memory.ts";
import { parseInt64 } from "../_number.ts";
import { binaryToBytes } from "../_bytes.ts";

/** The id of the client scripts' commands run as. */
export const SCRIPT_CLIENT_ID = -1;

/** -BUSY while an EVAL script runs past the threshold. */
export const BUSY_EVAL =
  "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/** -BUSY while a function runs past the threshold. */
export const BUSY_FUNCTION =
  "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";
const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";
const NOTBUSY = "NOTBUSY No scripts in execution right now.";
const UNKILLABLE =
  "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.";

/** Script flags (shebang `flags=` or `redis.register_function`). */
export interface ScriptFlags {
  noWrites: boolean;
  allowOom: boolean;
  allowStale: boolean;
  noCluster: boolean;
  allowCrossSlotKeys: boolean;
}

/** Parses one flag name into `flags`; false when unknown. */
export function setFlag(flags: ScriptFlags, name: string): boolean {
  switch (name) {
    case "no-writes":
      flags.noWrites = true;
      return true;
    case "allow-oom":
      flags.allowOom = true;
      return true;
    case "allow-stale":
      flags.allowStale = true;
      return true;
    case "no-cluster":
      flags.noCluster = true;
      return true;
    case "allow-cross-slot-keys":
      flags.allowCrossSlotKeys = true;
      return true;
  }
  return false;
}

/** No flags set. */
export function noFlags(): ScriptFlags {
  return {
    noWrites: false,
    allowOom: false,
    allowStale: false,
    noCluster: false,
    allowCrossSlotKeys: false,
  };
}

/** A cached EVAL script. */
interface CachedScript {
  sha: string;
  body: string;
  /** Its handle in EVAL's Lua state. */
  ref: number;
  /** null: no shebang (Redis's compatibility mode). */
  flags: ScriptFlags | null;
}

/** One script running (at most one at a time). */
export interface ScriptRun {
  /** EVAL (true) or FCALL. */
  readonly isEval: boolean;
  /** The sha, or the function's name (error messages, FUNCTION STATS). */
  readonly name: string;
  /** The command that started it (FUNCTION STATS). */
  readonly argv: readonly string[];
  readonly startedAt: number;
  readonly readOnly: boolean;
  readonly allowOom: boolean;
  /** Memory was over the limit when it started. */
  readonly oomAtStart: boolean;
  /** It may yield (runs from a connection, not inside EXEC). */
  readonly yieldable: boolean;
  /** It ran a write command. */
  wrote: boolean;
  /** SCRIPT KILL, FUNCTION KILL or SHUTDOWN NOSAVE asked it to stop. */
  killed: boolean;
  /** Past busy-reply-threshold: others get -BUSY. */
  busy: boolean;
  /** redis.set_repl: bit 1 logs to the append-only file. */
  repl: number;
  /** Writes to log when it ends. */
  readonly log: string[][];
}

/** Scripts past their busy threshold, in every server of this process. */
let busyRuns = 0;

/** A run is over: nothing of it is running any more. */
function ended(sc: Scripting, run: ScriptRun): void {
  sc.running = null;
  if (run.busy) busyRuns--;
}

/** Per-server scripting state. */
export class Scripting {
  /** EVAL's Lua state, made when the first script runs. */
  evalVM: LuaVM | null = null;
  /** FUNCTION's Lua state (commands/functions.ts). */
  functionsVM: LuaVM | null = null;
  /** The script cache, by sha. */
  readonly scripts = new Map<string, CachedScript>();
  /** The same scripts by body: EVAL finds its script without hashing the
   * body with SHA-1 every time. */
  readonly #bodies = new Map<string, CachedScript>();
  /** Bytes of the cached scripts' bodies. */
  scriptsBytes = 0;
  /** The running script, if any. */
  running: ScriptRun | null = null;
  /** The client scripts' commands run as. */
  readonly session: Session;
  /** What the engine calls back while a script runs (one object for
   * every run: the running script is {@linkcode Scripting.running}). */
  readonly host: ScriptHost;
  readonly #server: ServerState;
  static readonly #all = new WeakMap<object, Scripting>();

  private constructor(server: ServerState) {
    this.#server = server;
    const out = new ReplyWriter(1024);
    const now = Date.now();
    const client: ClientState = {
      id: SCRIPT_CLIENT_ID,
      addr: "",
      laddr: "",
      createdAt: now,
      lastInteraction: now,
      name: "lua",
      libName: "",
      libVer: "",
      authenticated: true,
      lastCommand: "",
      closeAfterReply: false,
      db: 0,
      out,
      queryBufferBytes: () => 0,
      kill: () => {},
      pubsub: null,
      wake: () => {},
      tx: new Transaction(server.store),
    };
    this.session = {
      out,
      store: server.store,
      client,
      server,
      propagate: null,
    };
    this.host = {
      call: (a, resp, kind) => this.call(this.running!, a, resp, kind),
      tick: () => this.#tick(),
      log: (level, message) => {
        const levels = ["debug", "verbose", "notice", "warning"] as const;
        server.log(levels[level] ?? "notice", message);
      },
      setRepl: (flags) => {
        if (this.running !== null) this.running.repl = flags;
      },
    };
  }

  /** Every 100,000 instructions: go on (0), yield (1) or stop (2). */
  #tick(): number {
    const run = this.running;
    if (run === null) return 0;
    if (run.killed) return 2;
    const limit = this.#server.config.busyReplyThreshold;
    if (!run.yieldable || limit <= 0) return 0;
    if (Date.now() - run.startedAt < limit) return 0;
    if (!run.busy) {
      run.busy = true;
      busyRuns++;
      this.#server.log(
        "warning",
        `Slow script detected: still in execution after ${
          Math.round(Date.now() - run.startedAt)
        } milliseconds. You can try killing the script using the ${
          run.isEval ? "SCRIPT KILL" : "FUNCTION KILL"
        } command. Script name is: ${run.name}.`,
      );
    }
    return 1;
  }

  /** The scripting state of a server. */
  static of(server: ServerState): Scripting {
    let s = Scripting.#all.get(server.store);
    if (s === undefined) {
      s = new Scripting(server);
      Scripting.#all.set(server.store, s);
    }
    return s;
  }

  /** The running script when it is past the busy threshold. */
  static busy(server: ServerState): ScriptRun | null {
    // Asked before every command: nothing to look up while no script (of
    // any server in this process) is past its threshold.
    if (busyRuns === 0) return null;
    const s = Scripting.#all.get(server.store);
    const run = s?.running;
    return run != null && run.busy ? run : null;
  }

  /** EVAL's VM, made on first use. */
  vm(): LuaVM {
    return this.evalVM ??= LuaVM.create(false);
  }

  /** Caches (compiling) a script; returns it. */
  load(body: string): CachedScript {
    const known = this.#bodies.get(body);
    if (known !== undefined) return known;
    const sha = sha1hex(body);
    const cached = this.scripts.get(sha);
    if (cached !== undefined) return cached;
    const flags = parseShebang(body);
    const source = flags === null ? body : "--" + body.slice(2);
    const ref = this.vm().compile(source);
    if (typeof ref === "string") {
      throw new CommandError(
        `ERR Error compiling script (new function): ${ref}`,
      );
    }
    const script = { sha, body, ref, flags };
    this.scripts.set(sha, script);
    this.#bodies.set(body, script);
    this.scriptsBytes += body.length;
    return script;
  }

  /** SCRIPT FLUSH: forgets every script, with a fresh Lua state. */
  flush(): void {
    this.forgetAll();
    if (this.evalVM !== null) this.evalVM.reset();
  }

  /** Empties the script cache. */
  forgetAll(): void {
    this.scripts.clear();
    this.#bodies.clear();
    this.scriptsBytes = 0;
  }

  /** FUNCTION's libraries: how many, their functions, their code's bytes
   * (set by commands/functions.ts). */
  functionsInfo: () => {
    libraries: number;
    functions: number;
    bytes: number;
  } = () => ({ libraries: 0, functions: 0, bytes: 0 });

  /** Called when FUNCTION's Lua state failed and was dropped: the
   * libraries load again (set by commands/functions.ts). */
  functionsFailed: () => void = () => {};

  /** Bytes the Lua states use. */
  luaMemory(): { eval: number; functions: number } {
    return {
      eval: this.evalVM?.memory() ?? 0,
      functions: this.functionsVM?.memory() ?? 0,
    };
  }

  /** Runs one redis.call for the running script. */
  call(
    run: ScriptRun,
    argv: string[],
    resp: 2 | 3,
    kind: number,
  ): Uint8Array | ReplyWriter {
    const server = this.#server;
    const s = this.session;
    const out = s.out;
    out.reset();
    out.resp = resp;
    const command = lookup(server.commands, argv);
    if (kind === 2) {
      if (command === undefined) {
        return errorReply(
          "ERR Invalid command passed to redis.acl_check_cmd()",
        );
      }
      return ALLOWED;
    }
    if (command === undefined) {
      return errorReply("ERR Unknown Redis command called from script");
    }
    const arity = command.arity;
    if (
      (arity > 0 && argv.length !== arity) || argv.length < -arity ||
      command.run === undefined
    ) {
      return errorReply(
        "ERR Wrong number of args calling Redis command from script",
      );
    }
    if (command.flags.has("noscript")) {
      return errorReply("ERR This Redis command is not allowed from script");
    }
    if (command.write) {
      if (run.readOnly) {
        return errorReply(
          "ERR Write commands are not allowed from read-only scripts.",
        );
      }
      const denied = server.persistence.writeError();
      if (denied !== undefined) return errorReply(denied);
    }
    if (
      !run.allowOom && !run.wrote && run.oomAtStart &&
      command.flags.has("denyoom")
    ) {
      return errorReply(OOM_ERROR);
    }
    if (command.write) run.wrote = true;
    const tx = s.client.tx!;
    const logged = run.log.length;
    const loggedDb = tx.logDb;
    tx.log = run.log;
    try {
      execute(server.commands, s, argv, command);
    } finally {
      tx.log = null;
    }
    if ((run.repl & 1) === 0) {
      run.log.length = logged;
      tx.logDb = loggedDb;
    }
    return out;
  }
}

/** An error reply's bytes (`-` + the line + CRLF). */
function errorReply(line: string): Uint8Array {
  return binaryToBytes(`-${line}\r\n`);
}

/** `:1`: redis.acl_check_cmd's answer (no ACL users: all is allowed). */
const ALLOWED = binaryToBytes(":1\r\n");

function lookup(
  table: ServerState["commands"],
  argv: string[],
): Command | undefined {
  let command = table.get(argv[0]) ?? table.get(argv[0].toLowerCase());
  if (command?.subcommands !== undefined && argv.length > 1) {
    command = command.subcommands.get(argv[1].toLowerCase());
  }
  return command;
}

/** Parses a `#!lua flags=...` first line: null when there is none. */
function parseShebang(body: string): ScriptFlags | null {
  if (!body.startsWith("#!")) return null;
  const nl = body.indexOf("\n");
  if (nl === -1) throw new CommandError("ERR Invalid script shebang");
  const parts = body.slice(0, nl).split(" ").filter((p) => p !== "");
  if (parts[0] !== "#!lua") {
    throw new CommandError(
      `ERR Unexpected engine in script shebang: ${parts[0] ?? "#!"}`,
    );
  }
  const flags = noFlags();
  for (const part of parts.slice(1)) {
    if (!part.startsWith("flags=")) {
      throw new CommandError(`ERR Unknown lua shebang option: ${part}`);
    }
    for (const f of part.slice(6).split(",")) {
      if (f !== "" && !setFlag(flags, f)) {
        throw new CommandError(`ERR Unexpected flag in script shebang: ${f}`);
      }
    }
  }
  return flags;
}

/** What the caller of {@linkcode runScript} decided. */
export interface RunOptions {
  isEval: boolean;
  name: string;
  readOnly: boolean;
  allowOom: boolean;
}

/** Checks before a script with declared flags runs (Redis's
 * scriptPrepareForRun); throws the error reply. */
export function checkFlags(
  s: Session,
  flags: ScriptFlags,
  ro: boolean,
): void {
  if (flags.noWrites) return;
  // As Redis's processCommand treats a script that may write: a write
  // command that may grow memory (unless allow-oom).
  if (!flags.allowOom && s.store.memory.check()) {
    throw new CommandError(OOM_ERROR);
  }
  const denied = s.server.persistence.writeError();
  if (denied !== undefined) throw new CommandError(denied);
  if (ro) {
    throw new CommandError(
      "ERR Can not execute a script with write flag using *_ro command.",
    );
  }
}

/**
 * Runs a compiled script for the client of `s`, replying to it. When the
 * script yields (past the busy threshold), `s.client.scriptWait` is set to
 * the promise of its end and the reply comes then.
 */
export function runScript(
  s: Session,
  vm: LuaVM,
  ref: number,
  keys: readonly string[],
  args: readonly string[],
  argv: readonly string[],
  options: RunOptions,
): void {
  const sc = Scripting.of(s.server);
  const tx = s.client.tx;
  // The script starts in its caller's database; a SELECT inside it
  // changes only the script's own (as in Redis 7).
  const own = sc.session;
  own.store = s.store;
  own.client.db = own.client.tx!.logDb = s.client.db;
  const run: ScriptRun = {
    isEval: options.isEval,
    name: options.name,
    argv,
    startedAt: Date.now(),
    readOnly: options.readOnly,
    allowOom: options.allowOom,
    oomAtStart: s.store.memory.settings.maxmemory > 0 &&
      s.store.memory.check(),
    yieldable: s.server.clients.get(s.client.id) === s.client &&
      !(tx != null && tx.log !== null),
    wrote: false,
    killed: false,
    busy: false,
    repl: 3,
    log: [],
  };
  sc.running = run;
  vm.host = sc.host;
  let status: RunStatus;
  try {
    status = vm.run(ref, keys, args, s.out.resp, true);
  } catch (e) {
    engineFailure(s, sc, vm, run, e, false);
    return;
  }
  if (status !== RunStatus.Yield) {
    finish(s, sc, vm, run, status, false);
    return;
  }
  s.client.scriptWait = (async () => {
    try {
      while (status === RunStatus.Yield) {
        await new Promise((r) => setTimeout(r, 0));
        status = vm.resume();
      }
    } catch (e) {
      engineFailure(s, sc, vm, run, e, true);
      return;
    }
    finish(s, sc, vm, run, status, true);
  })();
}

/** The engine itself failed (a WebAssembly trap, not a Lua error): the
 * client gets an error, what the script wrote is logged, and the Lua state
 * is thrown away for a fresh one (EVAL's cache is emptied; FUNCTION's
 * libraries are loaded again). The server goes on. */
function engineFailure(
  s: Session,
  sc: Scripting,
  vm: LuaVM,
  run: ScriptRun,
  e: unknown,
  late: boolean,
): void {
  ended(sc, run);
  s.server.log("warning", `Lua engine failure, its state is reset: ${e}`);
  if (vm === sc.evalVM) {
    sc.evalVM = null;
    sc.forgetAll();
  } else if (vm === sc.functionsVM) {
    sc.functionsVM = null;
    sc.functionsFailed();
  }
  s.out.error("ERR the Lua engine failed; its state was reset");
  propagate(s, run, late);
}

const MULTI = ["MULTI"];
const EXEC = ["EXEC"];

function propagate(s: Session, run: ScriptRun, late: boolean): void {
  const log = run.log;
  if (log.length === 0) return;
  let entries = log;
  // Inside EXEC the transaction's MULTI ... EXEC holds them already (a
  // nested MULTI would not replay).
  const inExec = s.client.tx != null && s.client.tx.log !== null;
  if (log.length > 1 && !inExec) {
    log.unshift(MULTI);
    log.push(EXEC);
    entries = log;
  }
  // The log's entries run in the caller's database until a SELECT.
  if (late) s.server.persistence.feed(entries, s.client.db);
  // Logged even when the caller's database did not change: the script
  // may have written only in a database it SELECTed.
  else forcePropagation(s, entries);
}

function finish(
  s: Session,
  sc: Scripting,
  vm: LuaVM,
  run: ScriptRun,
  status: RunStatus,
  late: boolean,
): void {
  ended(sc, run);
  if (run.busy) {
    s.server.log(
      "warning",
      `Slow script finished after ${
        Math.round(Date.now() - run.startedAt)
      } milliseconds.`,
    );
  }
  if (status === RunStatus.Error) {
    const reply = vm.replyView();
    let text = "";
    for (let i = 0; i < reply.length; i++) {
      const c = reply[i];
      text += c === 1
        ? `${run.name}, on `
        : String.fromCharCode(c === 13 || c === 10 ? 32 : c);
    }
    // the error went through the dispatcher's accounting as EVAL's own
    const space = text.indexOf(" ");
    const code = space === -1 ? text.slice(1) : text.slice(1, space);
    const errors = s.server.stats.errors;
    errors.set(code, (errors.get(code) ?? 0) + 1);
    s.out.error(text.slice(1));
  } else {
    vm.replyTo(s.out);
  }
  propagate(s, run, late);
}

/** The -BUSY error for a command arriving while a script is busy, or
 * undefined when it may run. */
export function busyError(
  server: ServerState,
  command: Command,
): string | undefined {
  const run = Scripting.busy(server);
  if (run === null || command.flags.has("allow_busy")) return undefined;
  return run.isEval ? BUSY_EVAL : BUSY_FUNCTION;
}

/** Parses EVAL's numkeys. */
function numKeys(argv: string[]): number {
  const parsed = parseInt64(argv[2]);
  if (parsed === null) throw new CommandError(Errors.notInteger);
  const numkeys = typeof parsed === "number"
    ? parsed
    : parsed > 0n
    ? Infinity
    : -Infinity;
  if (numkeys > argv.length - 3) {
    throw new CommandError(
      "ERR Number of keys can't be greater than number of args",
    );
  }
  if (numkeys < 0) {
    throw new CommandError("ERR Number of keys can't be negative");
  }
  return numkeys;
}

function evalGeneric(s: Session, argv: string[], bySha: boolean, ro: boolean) {
  // As Redis: MONITOR shows the script's command before the ones it runs
  // (the command table keeps it from being shown after).
  if (monitoring()) Introspection.of(s.server).feed(s, argv);
  const sc = Scripting.of(s.server);
  const numkeys = numKeys(argv);
  const keys = argv.slice(3, 3 + numkeys);
  const args = argv.slice(3 + numkeys);
  let script: CachedScript | undefined;
  if (bySha) {
    script = sc.scripts.get(argv[1]);
    if (script === undefined && argv[1].length === 40) {
      script = sc.scripts.get(argv[1].toLowerCase());
    }
    if (script === undefined) throw new CommandError(NOSCRIPT);
  } else {
    script = sc.load(argv[1]);
  }
  const flags = script.flags;
  if (flags !== null) checkFlags(s, flags, ro);
  runScript(s, sc.vm(), script.ref, keys, args, argv, {
    isEval: true,
    name: script.sha,
    readOnly: ro || (flags !== null && flags.noWrites),
    allowOom: flags !== null && flags.allowOom,
  });
}

const SCRIPT_HELP = [
  "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "DEBUG (YES|SYNC|NO)",
  "    Set the debug mode for subsequent scripts executed.",
  "EXISTS <sha1> [<sha1> ...]",
  "    Return information about the existence of the scripts in the script cache.",
  "FLUSH [ASYNC|SYNC]",
  "    Flush the Lua scripts cache. Very dangerous on replicas.",
  "    When called without the optional mode argument, the behavior is determined by the",
  "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
  "    * ASYNC: Asynchronously flush the scripts cache.",
  "    * SYNC: Synchronously flush the scripts cache.",
  "KILL",
  "    Kill the currently executing Lua script.",
  "LOAD <script>",
  "    Load a script into the scripts cache without executing it.",
  "HELP",
  "    Prints this help.",
];

/** SCRIPT KILL and FUNCTION KILL (Redis's scriptKill). */
export function killScript(s: Session, isEval: boolean): void {
  const run = Scripting.of(s.server).running;
  if (run === null) throw new CommandError(NOTBUSY);
  if (run.wrote) throw new CommandError(UNKILLABLE);
  if (isEval && !run.isEval) throw new CommandError(BUSY_FUNCTION);
  if (!isEval && run.isEval) throw new CommandError(BUSY_EVAL);
  run.killed = true;
  s.out.ok();
}

/** Handlers of the scripting commands, by lowercase name. */
export const scriptingCommands: Record<string, Handler> = {
  eval: (s, argv) => evalGeneric(s, argv, false, false),
  evalsha: (s, argv) => evalGeneric(s, argv, true, false),
  eval_ro: (s, argv) => evalGeneric(s, argv, false, true),
  evalsha_ro: (s, argv) => evalGeneric(s, argv, true, true),
  "script|load": (s, argv) => {
    s.out.bulk(Scripting.of(s.server).load(argv[2]).sha);
  },
  "script|exists": (s, argv) => {
    const scripts = Scripting.of(s.server).scripts;
    s.out.array(argv.length - 2);
    for (let i = 2; i < argv.length; i++) {
      s.out.int(scripts.has(argv[i].toLowerCase()) ? 1 : 0);
    }
  },
  "script|flush": (s, argv) => {
    if (argv.length > 3) {
      throw new CommandError("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
    }
    if (argv.length === 3) {
      const mode = upper(argv[2]);
      if (mode !== "SYNC" && mode !== "ASYNC") {
        throw new CommandError(
          "ERR SCRIPT FLUSH only support SYNC|ASYNC option",
        );
      }
    }
    Scripting.of(s.server).flush();
    s.out.ok();
  },
  "script|kill": (s) => killScript(s, true),
  "script|debug": (s, argv) => {
    const mode = upper(argv[2]);
    if (mode === "NO") return s.out.ok();
    if (mode === "YES" || mode === "SYNC") {
      throw new CommandError("ERR The Lua debugger is not supported");
    }
    throw new CommandError("ERR Use SCRIPT DEBUG YES/SYNC/NO");
  },
  "script|help": (s) => helpReply(s, SCRIPT_HELP),
};
