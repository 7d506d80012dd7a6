/**
 * The `kv` executable: `kv serve [flags]` runs the server, `kv cli [...]`
 * talks to one (see cli.ts).
 *
 * Flags follow redis.conf names: `--host` (or `--bind`), `--port`,
 * `--requirepass`, `--maxclients`, `--timeout`, `--loglevel`,
 * `--protected-mode`, `--dir`, `--proto-max-bulk-len`,
 * `--client-output-buffer-limit`, `--hz`.
 *
 * @module
 */

import { cli } from "./cli.ts";
import { parseServerArgs } from "./config.ts";
import { Server } from "./server.ts";
import { PersistenceError } from "./persistence.ts";
import { VERSION } from "./version.ts";

const USAGE = `@kv/store ${VERSION.kv}

Usage:
  kv cli [--host 127.0.0.1] [--port 31337] [-a PASSWORD] [--resp3] [--raw]
         [COMMAND [ARG ...]]   (kv cli --help for more)
  kv serve [--host 127.0.0.1] [--port 31337] [--requirepass PASSWORD]
           [--maxclients 10000] [--timeout 0] [--protected-mode yes|no]
           [--loglevel debug|verbose|notice|warning] [--dir .]
           [--proto-max-bulk-len 512mb] [--hz 10]
           [--client-output-buffer-limit "HARD SOFT SECONDS"]
`;

/** Runs the server until SIGINT or SIGTERM; resolves with the exit code. */
export async function serve(args: string[]): Promise<number> {
  let server: Server;
  try {
    server = new Server(parseServerArgs(args));
  } catch (e) {
    console.error(`kv: ${e instanceof Error ? e.message : e}\n\n${USAGE}`);
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
  const stop = (signal: Deno.Signal) => {
    server.log("warning", `Received ${signal} scheduling shutdown...`);
    // Saves a snapshot first when a save policy is set; if that fails the
    // server keeps running, as Redis does.
    server.shutdown();
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
    code = await cli(rest);
  } else if (command === "--version" || command === "version") {
    console.log(`kv ${VERSION.kv}`);
  } else {
    console.error(USAGE);
    code = command === undefined || command === "help" ? 0 : 2;
  }
  Deno.exit(code);
}
