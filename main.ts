/**
 * The `kv` executable: `kv serve [FILE] [flags]` runs the server, `kv cli
 * [...]` talks to one (see cli.ts). `kv --help` and `kv serve --help` list
 * every flag with its default; `kv --version` prints the version.
 *
 * Flags follow redis.conf names (`--port`, `--bind`, `--save`,
 * `--appendonly`, `--dir`, ... every CONFIG GET setting), and FILE is a
 * redis.conf-style configuration file that the flags override.
 *
 * @module
 */

import type { Server } from "./server.ts";
import { VERSION } from "./version.ts";

// DESIGN: main.ts imports nothing of the server or the client up front:
// `kv serve` imports the server's modules, `kv cli` the client's (about
// 4 MB and 10 ms a server need not load; and a one-shot `kv cli PING` runs
// without loading the server).

/** `kv --help`: the commands and every server flag (config.ts). */
async function usage(): Promise<string> {
  const { serverFlagsHelp } = await import("./config.ts");
  return `@kv/store ${VERSION.kv}

Usage:
  kv serve [FILE] [--FLAG VALUE ...]   run the server
  kv cli [--host 127.0.0.1] [--port 31337] [-a PASSWORD] [COMMAND [ARG ...]]
                                       talk to one (kv cli --help for more)
  kv --help, -h                        this text
  kv --version, -v                     the version

kv serve takes, as redis-server does, an optional configuration file FILE
(redis.conf syntax: "name value ..." lines, # comments, quoted values;
CONFIG REWRITE writes changed settings back into it), then flags named as
redis.conf's settings that override it: --port 7000, --save "" or
--save="". Data files (the snapshot, the append-only file) go to --dir,
taken from the folder you start kv in: the current directory, or under
\`deno task serve\` (and npx) the folder you ran that from. Ctrl-C or
SIGTERM saves a snapshot (with a save policy and something to save) and
exits.

kv serve flags, with their defaults:
${serverFlagsHelp()}
`;
}

const MB = 1024 * 1024;

/**
 * V8's heap limit is fixed when the process starts. A `--maxmemory` the
 * heap could not hold (data, plus the garbage of evicted values, under
 * three quarters of the limit: data/_memory.ts) runs this same command
 * line again in a child with a larger `--max-old-space-size` (through
 * DENO_V8_FLAGS), forwarding signals; resolves with its exit code. Null
 * when the heap is large enough, or when the command line cannot be
 * re-run (no /proc, or no --allow-run): then a warning says which flag to
 * add, and the V8 heap ceiling lowers the limit in force instead.
 */
async function serveWithLargerHeap(maxmemory: number): Promise<number | null> {
  if (maxmemory === 0 || Deno.env.get("KV_HEAP_RAISED") === "1") return null;
  const { default: v8 } = await import("node:v8");
  const limit = v8.getHeapStatistics().heap_size_limit;
  if (limit >= 2 * maxmemory + 32 * MB) return null;
  const oldSpace = Math.ceil(2.2 * maxmemory / MB) + 64;
  const advice = `kv: maxmemory ${maxmemory} is more than the V8 heap ` +
    `(${Math.floor(limit / MB)} MB) can hold with room for garbage; start ` +
    `with --v8-flags=--max-old-space-size=${oldSpace}`;
  let argv: string[];
  try {
    const run = await Deno.permissions.query({
      name: "run",
      command: Deno.execPath(),
    });
    if (run.state !== "granted") throw new Error("no --allow-run");
    argv = Deno.readTextFileSync("/proc/self/cmdline").split("\0");
    if (argv[argv.length - 1] === "") argv.pop();
  } catch {
    console.error(`${advice} (or allow it to re-run itself: --allow-run)`);
    return null;
  }
  const flags = Deno.env.get("DENO_V8_FLAGS");
  // A smaller --max-old-space-size on the command line would win.
  const args: string[] = [];
  for (const a of argv.slice(1)) {
    if (!a.startsWith("--v8-flags=")) {
      args.push(a);
      continue;
    }
    const kept = a.slice("--v8-flags=".length).split(",").filter((f) =>
      f !== "" && !f.includes("max-old-space-size")
    );
    if (kept.length > 0) args.push(`--v8-flags=${kept.join(",")}`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: {
      DENO_V8_FLAGS: `${flags ? flags + "," : ""}` +
        `--max-old-space-size=${oldSpace}`,
      KV_HEAP_RAISED: "1",
    },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const forward = (signal: Deno.Signal) => () => {
    try {
      child.kill(signal);
    } catch {
      // exited
    }
  };
  const onInt = forward("SIGINT");
  const onTerm = forward("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  const status = await child.status;
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  return status.code;
}

/** Runs the server until SIGINT or SIGTERM; resolves with the exit code. */
export async function serve(args: string[]): Promise<number> {
  if (args.some((a) => a === "--help" || a === "-h")) {
    console.log(await usage());
    return 0;
  }
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-v")) {
    console.log(`kv ${VERSION.kv}`);
    return 0;
  }
  const [{ ConfigFileError, parseServerArgs }, { Server }, {
    PersistenceError,
  }] = await Promise.all([
    import("./config.ts"),
    import("./server.ts"),
    import("./persistence.ts"),
  ]);
  let server: Server;
  try {
    // Relative paths are taken from where the user started us: deno task
    // (and npm) run tasks in the project's folder, and say where the user
    // was in INIT_CWD.
    let cwd: string | undefined;
    try {
      cwd = Deno.env.get("INIT_CWD") || undefined;
    } catch {
      // no --allow-env: the current directory
    }
    const config = parseServerArgs(args, undefined, cwd);
    const code = await serveWithLargerHeap(config.maxmemory);
    if (code !== null) return code;
    server = new Server(config);
  } catch (e) {
    if (e instanceof ConfigFileError) {
      console.error(e.message); // Redis's words
      return 1;
    }
    console.error(
      `kv: ${e instanceof Error ? e.message : e}\n` +
        `(kv serve --help lists the flags)`,
    );
    return 2;
  }
  try {
    await server.listen();
  } catch (e) {
    server.log(
      "warning",
      e instanceof PersistenceError
        ? `Fatal error loading the data: ${e.message}`
        : `Could not listen on ${server.config.host}:${server.config.port}: ${
          e instanceof Error ? e.message : e
        }`,
    );
    return 1;
  }
  // Under `deno task`, Ctrl-C reaches the task runner and us, and the
  // runner passes it on: one shutdown, logged once. A signal that comes
  // after a failed shutdown (the save failed, we go on) tries again.
  let stopping = false;
  const stop = (signal: Deno.Signal) => {
    if (stopping) return;
    stopping = true;
    server.log("warning", `Received ${signal} scheduling shutdown...`);
    // Saves a snapshot first when a save policy is set; if that fails the
    // server keeps running, as Redis does.
    server.shutdown().then((done) => {
      if (!done) stopping = false;
    });
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  Deno.addSignalListener("SIGINT", onInt);
  Deno.addSignalListener("SIGTERM", onTerm);
  await server.finished;
  Deno.removeSignalListener("SIGINT", onInt);
  Deno.removeSignalListener("SIGTERM", onTerm);
  return 0;
}

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  let code = 0;
  if (command === "serve") {
    code = await serve(rest);
  } else if (command === "cli") {
    const { cli } = await import("./cli.ts");
    code = await cli(rest);
  } else if (
    command === "--version" || command === "-v" || command === "version"
  ) {
    console.log(`kv ${VERSION.kv}`);
  } else if (
    command === undefined || command === "help" || command === "--help" ||
    command === "-h"
  ) {
    console.log(await usage());
  } else {
    console.error(`kv: unknown command '${command}'\n\n${await usage()}`);
    code = 2;
  }
  Deno.exit(code);
}
