// Test helpers: start our server or redis-server on a loopback port, and
// talk to them over TCP with raw bytes.

import assert from "node:assert/strict";
import { encodeCommand, ReplyDecoder, type RespValue } from "../protocol.ts";
import { Server, type ServerOptions } from "../server.ts";
import { writeAll } from "../_io.ts";
import { freePort, RedisServer, waitForPort } from "../tools/_processes.ts";

export { freePort, RedisServer, waitForPort };

export const encoder = new TextEncoder();
export const decoder = new TextDecoder();

/** Starts our server in-process on a free loopback port, quiet. */
export async function startServer(
  options: ServerOptions = {},
): Promise<Server & AsyncDisposable> {
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "kv-test-" });
  const server = new Server({
    port: 0,
    loglevel: "warning",
    logSink: () => {},
    save: [], // no snapshots unless a test asks for them
    dir,
    ...options,
  });
  if (options.dir === undefined) {
    server.finished.then(() => Deno.remove(dir, { recursive: true }))
      .catch(() => {});
  }
  await server.listen();
  return server as Server & AsyncDisposable;
}

/** Runs `fn` with a new temporary directory, removed afterwards. */
export async function withDir(
  fn: (dir: string) => Promise<void>,
  prefix = "kv-test-",
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Runs BGSAVE on `c` and waits for it; asserts it succeeded. */
export async function bgsave(
  c: Conn,
  server: Server,
): Promise<void> {
  assert.equal(await c.call("BGSAVE"), "Background saving started");
  await server.persistence.waitForBgsave();
  assert.match(
    await c.call("INFO", "persistence") as string,
    /\r\nrdb_last_bgsave_status:ok\r\n/,
  );
}

/** A raw TCP connection with RESP helpers. Replies decode bulk strings as
 * byte strings. */
export class Conn {
  readonly decoder = new ReplyDecoder({ bulk: "binary" });
  #buf = new Uint8Array(64 * 1024);
  #raw: Uint8Array[] = [];
  constructor(readonly conn: Deno.TcpConn) {}

  static async open(port: number, hostname = "127.0.0.1"): Promise<Conn> {
    return new Conn(await Deno.connect({ hostname, port }));
  }

  async send(data: string | Uint8Array): Promise<void> {
    await writeAll(
      this.conn,
      typeof data === "string" ? encoder.encode(data) : data,
    );
  }

  /** Reads until one reply is complete; rejects after `ms`. */
  async reply(ms = 5000): Promise<RespValue> {
    const deadline = Date.now() + ms;
    while (true) {
      const r = this.decoder.next();
      if (r) return r.value;
      const n = await this.#read(deadline);
      if (n === null) throw new Error("connection closed");
    }
  }

  async #read(deadline: number): Promise<number | null> {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error("timed out waiting for a reply");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("timed out")), left);
    });
    try {
      const n = await Promise.race([this.conn.read(this.#buf), timeout]);
      if (n !== null) {
        const chunk = this.#buf.slice(0, n);
        this.#raw.push(chunk);
        this.decoder.feed(chunk);
      }
      return n;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends a command and returns its reply. */
  async call(...args: (string | number | Uint8Array)[]): Promise<RespValue> {
    await this.send(encodeCommand(args));
    return await this.reply();
  }

  /** Sends raw bytes and returns exactly the raw bytes of `count` replies. */
  async rawReplies(data: string | Uint8Array, count = 1): Promise<string> {
    this.#raw = [];
    await this.send(data);
    for (let i = 0; i < count; i++) await this.reply();
    const all = concat(this.#raw);
    this.#raw = [];
    return decoder.decode(all);
  }

  /** Resolves true when the server closes the connection within `ms`. */
  async closedWithin(ms = 3000): Promise<boolean> {
    const deadline = Date.now() + ms;
    try {
      while (true) {
        const n = await this.#read(deadline);
        if (n === null) return true;
      }
    } catch (e) {
      if (e instanceof Error && e.message.startsWith("timed out")) return false;
      return true; // reset
    }
  }

  /** All bytes received until the connection closes or `ms` passes. */
  async drain(ms = 2000): Promise<string> {
    this.#raw = [];
    await this.closedWithin(ms);
    return decoder.decode(concat(this.#raw));
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Whether a program is on PATH. */
export function has(program: string): boolean {
  try {
    const r = new Deno.Command("sh", {
      args: ["-c", `command -v ${program}`],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return r.success;
  } catch {
    return false;
  }
}

/** Runs a program to completion with optional stdin; bounded by `ms`. */
export async function run(
  cmd: string,
  args: string[],
  options: { stdin?: string; ms?: number; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: options.env,
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }, options.ms ?? 20000);
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(encoder.encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  clearTimeout(timer);
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Runs `main.ts serve` with flags to completion: for starts that fail. */
export async function runServe(args: string[]) {
  const main = new URL("../main.ts", import.meta.url).pathname;
  return await run(Deno.execPath(), ["run", "-A", main, "serve", ...args]);
}

/** Waits (bounded) until the server on `port` answers PING with PONG
 * rather than -LOADING. */
export async function waitLoaded(port: number, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    try {
      const c = await Conn.open(port);
      try {
        const r = await c.call("PING");
        if (r === "PONG") return;
        if (!(r instanceof Error) || !r.message.startsWith("LOADING")) return;
      } finally {
        c.close();
      }
    } catch {
      // not ready yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the server on ${port} was still loading after ${ms} ms`);
}

/** A server process started like `deno task serve`, for tests of the
 * executable itself (flags, logs, signals). */
export class ServerProcess {
  stderr = "";
  #reader: Promise<void>;
  constructor(
    readonly process: Deno.ChildProcess,
    readonly port: number,
    readonly dir: string,
  ) {
    this.#reader = (async () => {
      for await (
        const chunk of process.stderr.pipeThrough(new TextDecoderStream())
      ) {
        this.stderr += chunk;
      }
    })();
  }

  /** Starts `main.ts serve` on a free port; data files go to `dir` (a new
   * temporary directory unless given, removed by `remove()`). */
  static async start(
    args: string[] = [],
    dir?: string,
  ): Promise<ServerProcess> {
    const port = freePort();
    const ownDir = dir === undefined;
    dir ??= await Deno.makeTempDir({ prefix: "kv-proc-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-sys",
        new URL("../main.ts", import.meta.url).pathname,
        "serve",
        "--port",
        String(port),
        "--dir",
        dir,
        ...args,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const p = new ServerProcess(child, port, dir);
    p.ownDir = ownDir;
    try {
      await waitForPort(port);
      // The port is bound before the data loads (clients get -LOADING, as
      // with Redis): wait until it is loaded.
      await waitLoaded(port);
    } catch (e) {
      await p.stop("SIGKILL");
      throw new Error(`${(e as Error).message}\n${p.stderr}`);
    }
    return p;
  }

  /** Sends a signal and waits (bounded) for the exit status. */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<Deno.CommandStatus> {
    try {
      this.process.kill(signal);
    } catch {
      // exited
    }
    const timer = setTimeout(() => {
      try {
        this.process.kill("SIGKILL");
      } catch {
        // exited
      }
    }, 10000);
    const status = await this.process.status;
    clearTimeout(timer);
    await this.#reader;
    return status;
  }

  ownDir = false;

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop("SIGKILL");
    if (this.ownDir) {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }
}

/** Runs tmux with arguments (for tests of interactive terminal programs). */
export async function tmux(...args: string[]) {
  return await run("tmux", args);
}

/** Waits (bounded, 10 s) until a tmux session's screen matches. */
export async function waitForScreen(
  session: string,
  pattern: RegExp,
): Promise<string> {
  let text = "";
  for (let i = 0; i < 200; i++) {
    text = (await tmux("capture-pane", "-p", "-t", session)).stdout;
    if (pattern.test(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`screen never matched ${pattern}:\n${text}`);
}
