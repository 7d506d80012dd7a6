// Helpers for tests of `kv cli`: run it to completion, stream its output,
// or drive it (and redis-cli) at a tmux terminal.

import assert from "node:assert/strict";
import { run } from "./_helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** The command line that starts `kv cli` with `args` (for a terminal). */
export const kvCli = (args: string): string =>
  `${Deno.execPath()} run -A ${MAIN} cli ${args}`;

/** Runs `kv cli` with `args` to completion. */
export function kv(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
): ReturnType<typeof run> {
  return run(Deno.execPath(), ["run", "-A", MAIN, "cli", ...args], options);
}

/** A program whose output is collected while it runs, ended by a signal. */
export class Streaming {
  stdout = "";
  stderr = "";
  readonly child: Deno.ChildProcess;
  #readers: Promise<void>[];
  constructor(cmd: string, args: string[]) {
    this.child = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const collect = async (
      stream: ReadableStream<Uint8Array<ArrayBuffer>>,
      into: "stdout" | "stderr",
    ) => {
      for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
        this[into] += chunk;
      }
    };
    this.#readers = [
      collect(this.child.stdout, "stdout"),
      collect(this.child.stderr, "stderr"),
    ];
  }

  /** `kv cli` with `args`. */
  static kv(args: string[]): Streaming {
    return new Streaming(Deno.execPath(), ["run", "-A", MAIN, "cli", ...args]);
  }

  /** Waits (bounded, 10 s) until the output so far matches. */
  async waitFor(pattern: RegExp): Promise<void> {
    for (let i = 0; i < 200 && !pattern.test(this.stdout); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.match(this.stdout, pattern);
  }

  /** Sends SIGINT (unless already ended) and waits (bounded) for the end. */
  async end(
    signal: Deno.Signal | null = "SIGINT",
  ): Promise<Deno.CommandStatus> {
    if (signal !== null) {
      try {
        this.child.kill(signal);
      } catch {
        // exited
      }
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // exited
      }
    }, 10000);
    const status = await this.child.status;
    clearTimeout(timer);
    await Promise.all(this.#readers);
    return status;
  }
}

/** A terminal on a tmux server of its own (other tests may stop the
 * default one), running one program with a temporary HOME. */
export class Terminal implements AsyncDisposable {
  constructor(readonly socket: string, readonly home: string) {}

  static async open(
    command: string,
    size: { x: number; y: number } = { x: 120, y: 50 },
  ): Promise<Terminal> {
    const socket = `kv-cli-term-${Deno.pid}-${crypto.randomUUID()}`;
    const home = await Deno.makeTempDir({ prefix: "kv-home-" });
    const t = new Terminal(socket, home);
    await t.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      String(size.x),
      "-y",
      String(size.y),
      "-e",
      `HOME=${home}`,
      command,
    );
    return t;
  }

  tmux(...args: string[]): ReturnType<typeof run> {
    return run("tmux", ["-L", this.socket, ...args]);
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", "t", ...keys);
  }

  /** The screen, trailing blank lines taken off. */
  async screen(): Promise<string> {
    return (await this.tmux("capture-pane", "-p", "-t", "t")).stdout
      .trimEnd();
  }

  /** The cursor's column and row. */
  async cursor(): Promise<[number, number]> {
    const r = await this.tmux(
      "display",
      "-p",
      "-t",
      "t",
      "#{cursor_x} #{cursor_y}",
    );
    const [x, y] = r.stdout.trim().split(" ").map(Number);
    return [x, y];
  }

  /** Waits (bounded, 10 s) until the screen matches. */
  async waitFor(pattern: RegExp): Promise<string> {
    let text = "";
    for (let i = 0; i < 200; i++) {
      text = await this.screen();
      if (pattern.test(text)) return text;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`screen never matched ${pattern}:\n${text}`);
  }

  /** Waits (bounded) until the cursor is at [x, y]. */
  async cursorAt(x: number, y: number): Promise<void> {
    let at: [number, number] = [-1, -1];
    for (let i = 0; i < 200; i++) {
      at = await this.cursor();
      if (at[0] === x && at[1] === y) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(at, [x, y], `cursor\n${await this.screen()}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server");
    await Deno.remove(this.home, { recursive: true }).catch(() => {});
  }
}

/** kv cli and redis-cli with the same flags against `port`, each at a
 * terminal: once both screens match `start`, each line is typed into one,
 * then into the other, and both screens must match its pattern;
 * `between[i]` runs after step i. Resolves with both screens. */
export async function twin(
  port: number,
  flags: string,
  start: RegExp,
  steps: [string, RegExp][],
  between: Record<number, () => Promise<void>> = {},
): Promise<[string, string]> {
  await using a = await Terminal.open(kvCli(`-p ${port} ${flags}`));
  await using b = await Terminal.open(`redis-cli -p ${port} ${flags}`);
  for (const t of [a, b]) await t.waitFor(start);
  for (const [i, [line, pattern]] of steps.entries()) {
    for (const t of [a, b]) {
      await t.keys(line, "Enter");
      await t.waitFor(pattern);
    }
    await between[i]?.();
  }
  return [await a.screen(), await b.screen()];
}
