// Large data through persistence, with the server as a process: a 300 MB
// value and a snapshot over 2 GB of small keys both save, load again and
// survive SIGTERM (which saves on the way out). Slow and memory-hungry, so
// skipped unless KV_LARGE_TESTS is set: run `deno task test:large`.

import assert from "node:assert/strict";
import { encodeCommand, ReplyError } from "../protocol.ts";
import { Conn, withDir } from "./_helpers.ts";
import { freePort, waitForPort } from "../tools/_processes.ts";
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION } from "../persistence.ts";
import { writeAll } from "../_io.ts";

const enabled = (Deno.env.get("KV_LARGE_TESTS") ?? "") !== "";
const opts = {
  ignore: !enabled,
  sanitizeResources: false,
  sanitizeOps: false,
};

/** The server as a process with a big V8 heap, on `dir`. */
class BigServer {
  stderr = "";
  #reader: Promise<void>;
  constructor(readonly process: Deno.ChildProcess, readonly port: number) {
    this.#reader = (async () => {
      for await (
        const chunk of process.stderr.pipeThrough(new TextDecoderStream())
      ) {
        // Keep the tail only: enough to find the last lines.
        this.stderr = (this.stderr + chunk).slice(-20_000);
      }
    })();
  }

  static async start(dir: string, args: string[] = []): Promise<BigServer> {
    const port = freePort();
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--v8-flags=--max-old-space-size=12000,--max-semi-space-size=2",
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
        "--save",
        "3600 1",
        ...args,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const server = new BigServer(child, port);
    try {
      await waitForPort(port, 240_000);
    } catch (e) {
      server.process.kill("SIGKILL");
      await server.process.status;
      throw new Error(`${e}\n${server.stderr}`);
    }
    return server;
  }

  /** SIGTERM, then waits for the exit (which saves first). */
  async term(): Promise<Deno.CommandStatus> {
    this.process.kill("SIGTERM");
    const status = await this.process.status;
    await this.#reader;
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.process.kill("SIGKILL");
    } catch {
      // gone already
    }
    await this.process.status;
    await this.#reader.catch(() => {});
  }
}

async function call(
  c: Conn,
  ms: number,
  ...argv: (string | number | Uint8Array)[]
): Promise<unknown> {
  await c.send(encodeCommand(argv));
  const r = await c.reply(ms);
  if (r instanceof ReplyError) throw new Error(`${argv[0]}: ${r.message}`);
  return r;
}

function log(msg: string): void {
  console.log(`  ${msg}`);
}

/** Deterministic bytes, all 256 values (not valid UTF-8: saved as
 * base64 in pieces). */
function bigValue(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 12345;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

function sameBytes(reply: unknown, want: Uint8Array): boolean {
  if (typeof reply !== "string" || reply.length !== want.length) return false;
  for (let i = 0; i < want.length; i++) {
    if (reply.charCodeAt(i) !== want[i]) return false;
  }
  return true;
}

Deno.test(
  "large: a 300 MB value saves, loads and survives SIGTERM",
  opts,
  () =>
    withDir(async (dir) => {
      const t0 = performance.now();
      const value = bigValue(300 * 1024 * 1024);
      {
        await using server = await BigServer.start(dir);
        using c = await Conn.open(server.port);
        assert.equal(await call(c, 60_000, "SET", "big", value), "OK");
        assert.equal(await call(c, 10_000, "SET", "small", "1"), "OK");
        assert.equal(await call(c, 120_000, "SAVE"), "OK");
        log(`saved: ${(await Deno.stat(`${dir}/dump.json`)).size} bytes`);
      }
      {
        // Loads; a change; SIGTERM saves it on the way out.
        const server = await BigServer.start(dir);
        await using _ = server;
        using c = await Conn.open(server.port);
        assert.ok(sameBytes(await call(c, 60_000, "GET", "big"), value));
        assert.equal(await call(c, 10_000, "SET", "small", "2"), "OK");
        const status = await server.term();
        assert.equal(status.code, 0, server.stderr);
        assert.match(server.stderr, /DB saved on disk/);
      }
      {
        // From the final snapshot; then with the log on (written from the
        // data at start), and once more from the log alone.
        await using server = await BigServer.start(dir, [
          "--appendonly",
          "yes",
        ]);
        using c = await Conn.open(server.port);
        assert.equal(await call(c, 10_000, "GET", "small"), "2");
        assert.ok(sameBytes(await call(c, 60_000, "GET", "big"), value));
      }
      await Deno.remove(`${dir}/dump.json`);
      {
        await using server = await BigServer.start(dir, [
          "--appendonly",
          "yes",
        ]);
        using c = await Conn.open(server.port);
        assert.ok(sameBytes(await call(c, 60_000, "GET", "big"), value));
        assert.equal(await call(c, 10_000, "GET", "small"), "2");
      }
      log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }),
);

/** The value of small key `i`: 200 bytes that tell which key it is. */
function smallValue(i: number): string {
  const head = `v${i}:`;
  return head + "abcdefghij".repeat(20).slice(head.length);
}

const FAR = Date.UTC(2100, 0, 1);

/** Writes a snapshot of `n` small keys (every 1000th with an expiry)
 * straight to the file, in pieces. */
async function writeSmallKeys(path: string, n: number): Promise<void> {
  using file = await Deno.open(path, { write: true, create: true });
  const enc = new TextEncoder();
  let text = `{"format":${
    JSON.stringify(SNAPSHOT_FORMAT)
  },"version":${SNAPSHOT_VERSION},"time":${Date.now()},"entries":[`;
  for (let i = 0; i < n; i++) {
    text += `${i === 0 ? "\n" : ",\n"}["key:${i}","${smallValue(i)}"${
      i % 1000 === 0 ? `,${FAR}` : ""
    }]`;
    if (text.length > 4_000_000) {
      await writeAll(file, enc.encode(text));
      text = "";
    }
  }
  text += `\n],"count":${n}}\n`;
  await writeAll(file, enc.encode(text));
}

async function checkSmallKeys(c: Conn, n: number): Promise<void> {
  assert.equal(await call(c, 10_000, "DBSIZE"), n + 1);
  for (let k = 0; k < 2000; k++) {
    const i = k === 0 ? n - 1 : Math.floor(Math.random() * n);
    assert.equal(await call(c, 10_000, "GET", `key:${i}`), smallValue(i));
  }
  assert.equal(await call(c, 10_000, "PEXPIRETIME", "key:5000"), FAR);
  assert.equal(await call(c, 10_000, "PEXPIRETIME", "key:5001"), -1);
}

Deno.test(
  "large: a 2 GB snapshot of small keys loads, saves (BGSAVE) and survives SIGTERM",
  opts,
  () =>
    withDir(async (dir) => {
      const t0 = performance.now();
      // KV_LARGE_KEYS: fewer keys for a quick try of the test itself.
      const n = Number(Deno.env.get("KV_LARGE_KEYS") ?? 10_000_000);
      const path = `${dir}/dump.json`;
      await writeSmallKeys(path, n);
      const size = (await Deno.stat(path)).size;
      if (n >= 10_000_000) assert.ok(size > 2 ** 31, `${size} bytes only`);
      log(`written: ${size} bytes, ${n} keys`);
      let t = performance.now();
      {
        const server = await BigServer.start(dir);
        await using _ = server;
        log(`loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        using c = await Conn.open(server.port);
        assert.equal(await call(c, 10_000, "SET", "extra", "1"), "OK");
        await checkSmallKeys(c, n);
        // In the background, answering meanwhile.
        t = performance.now();
        assert.equal(
          await call(c, 10_000, "BGSAVE"),
          "Background saving started",
        );
        assert.equal(await call(c, 10_000, "PING"), "PONG");
        for (;;) {
          const info = await call(c, 10_000, "INFO", "persistence") as string;
          if (/rdb_bgsave_in_progress:0/.test(info)) {
            assert.match(info, /rdb_last_bgsave_status:ok/);
            break;
          }
          if (performance.now() - t > 600_000) throw new Error("BGSAVE hangs");
          await new Promise((r) => setTimeout(r, 200));
        }
        log(`BGSAVE in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        assert.ok((await Deno.stat(path)).size >= size);
        await call(c, 10_000, "SET", "extra", "2");
        t = performance.now();
        const status = await server.term();
        assert.equal(status.code, 0, server.stderr);
        assert.match(server.stderr, /DB saved on disk/);
        log(`SIGTERM save in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      }
      t = performance.now();
      {
        await using server = await BigServer.start(dir);
        log(`loaded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
        using c = await Conn.open(server.port);
        await checkSmallKeys(c, n);
        assert.equal(await call(c, 10_000, "GET", "extra"), "2");
      }
      log(`${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }),
);
