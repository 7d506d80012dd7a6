// Starting the server as a new user does (issue 13, items 6 and 8-11):
// --help and --version, where data files go under `deno task serve`, no
// empty snapshot over nothing, the port bound before the data loads
// (-LOADING meanwhile), one SIGINT line, CONFIG SET appendonly yes then
// no, and an embedded Server that keeps no files and says nothing.

import assert from "node:assert/strict";
import { configNames } from "../config.ts";
import { Server } from "../server.ts";
import { encodeCommand } from "../protocol.ts";
import { VERSION } from "../version.ts";
import {
  Conn,
  decoder,
  freePort,
  run,
  runServe,
  ServerProcess,
  startServer,
} from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const root = new URL("..", import.meta.url).pathname;
const main = `${root}main.ts`;

/** Waits (bounded) until the server answers PING with PONG, not -LOADING. */
async function ready(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      using c = await Conn.open(port);
      if (await c.call("PING") === "PONG") return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the server on ${port} never answered PONG`);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("startup: --help and -h print every flag with its default on stdout, exit 0", async () => {
  for (
    const args of [["--help"], ["-h"], ["serve", "--help"], ["serve", "-h"]]
  ) {
    const r = await run(Deno.execPath(), ["run", "-A", main, ...args]);
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, "", args.join(" "));
    assert.match(r.stdout, /Usage:/);
    for (const name of configNames()) {
      assert.match(r.stdout, new RegExp(`--${name}\\b`), `--${name}`);
    }
    for (
      const line of [
        `--save "3600 1 300 100 60 10000"`,
        "--appendonly no",
        "--dbfilename dump.json",
        "--appendfilename appendonly.aof",
        "--http-port 0",
        "--bind, --host 127.0.0.1",
        "--port 31337",
        "--dir .",
        `--requirepass ""`,
      ]
    ) {
      assert.ok(r.stdout.includes(line), `${args.join(" ")}: ${line}`);
    }
    // Where data files go is said.
    assert.match(r.stdout, /folder you start kv in/);
  }
});

Deno.test("startup: --version and -v print the version, exit 0", async () => {
  for (
    const args of [["--version"], ["-v"], ["serve", "--version"], [
      "serve",
      "-v",
    ]]
  ) {
    const r = await run(Deno.execPath(), ["run", "-A", main, ...args]);
    assert.equal(r.code, 0, args.join(" "));
    assert.equal(r.stdout, `kv ${VERSION.kv}\n`, args.join(" "));
  }
  const bad = await run(Deno.execPath(), ["run", "-A", main, "nonsense"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown command 'nonsense'/);
});

Deno.test(
  "startup: deno task serve keeps data where the user started it, logs one SIGINT",
  opts,
  async () => {
    const cwd = await Deno.makeTempDir({ prefix: "kv-cwd-" });
    const port = freePort();
    const mtime = async (path: string) =>
      (await exists(path)) ? (await Deno.stat(path)).mtime?.getTime() : null;
    const checkoutDump = await mtime(`${root}dump.json`);
    // setsid: a process group of its own, as a terminal's Ctrl-C reaches
    // the task runner and the server both.
    const child = new Deno.Command("setsid", {
      args: [
        Deno.execPath(),
        "task",
        "--config",
        `${root}deno.json`,
        "serve",
        "--port",
        String(port),
      ],
      cwd,
      clearEnv: true,
      env: {
        PATH: Deno.env.get("PATH") ?? "",
        HOME: Deno.env.get("HOME") ?? cwd,
        ...(Deno.env.get("DENO_DIR")
          ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
          : {}),
        NO_COLOR: "1",
      },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const stderr = child.stderr.pipeThrough(new TextDecoderStream())
      .getReader();
    let log = "";
    const reading = (async () => {
      for (;;) {
        const { value, done } = await stderr.read();
        if (done) return;
        log += value;
      }
    })();
    const killer = setTimeout(() => {
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // gone
      }
    }, 60_000);
    try {
      await ready(port).catch((e) => {
        throw new Error(`${e.message}\n${log}`);
      });
      {
        using c = await Conn.open(port);
        assert.equal(await c.call("SET", "k", "v"), "OK");
      }
      Deno.kill(-child.pid, "SIGINT"); // the whole group, as Ctrl-C
      const status = await child.status;
      await reading;
      assert.equal(status.code, 0, log);
      assert.equal(
        log.match(/Received SIGINT scheduling shutdown/g)?.length,
        1,
        log,
      );
      assert.ok(await exists(`${cwd}/dump.json`), log);
      // The checkout's own folder is left alone.
      assert.equal(await mtime(`${root}dump.json`), checkoutDump);
      assert.match(log, new RegExp(`dir=${cwd}`));
    } finally {
      clearTimeout(killer);
      try {
        Deno.kill(-child.pid, "SIGKILL");
      } catch {
        // exited
      }
      await Deno.remove(cwd, { recursive: true }).catch(() => {});
    }
  },
);

Deno.test(
  "startup: no file and no keys: nothing loaded is logged, nothing written on exit",
  opts,
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "kv-empty-" });
    try {
      {
        await using server = await ServerProcess.start([], dir);
        await ready(server.port);
        const status = await server.stop("SIGTERM");
        assert.equal(status.code, 0);
        assert.doesNotMatch(server.stderr, /DB loaded from disk/);
        assert.deepEqual(
          [...Deno.readDirSync(dir)].map((e) => e.name),
          [],
          server.stderr,
        );
      }
      {
        await using server = await ServerProcess.start([], dir);
        await ready(server.port);
        using c = await Conn.open(server.port);
        assert.equal(await c.call("SET", "k", "v"), "OK");
        await server.stop("SIGTERM");
        assert.ok(await exists(`${dir}/dump.json`), server.stderr);
      }
      {
        await using server = await ServerProcess.start([], dir);
        await ready(server.port);
        using c = await Conn.open(server.port);
        assert.equal(await c.call("DEL", "k"), 1);
        await server.stop("SIGTERM");
        // There was a file: the empty data replaces it.
        assert.match(server.stderr, /DB loaded from disk: 1 keys/);
        const doc = JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
        assert.deepEqual(doc.entries, []);
      }
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  },
);

/** A data directory holding a snapshot of `keys` keys. */
async function snapshotDir(keys: number): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "kv-big-" });
  await using server = await startServer({ dir });
  using c = await Conn.open(server.port);
  const batch = 2000;
  for (let i = 0; i < keys; i += batch) {
    const args: string[] = [];
    for (let j = i; j < Math.min(keys, i + batch); j++) {
      args.push(`key:${j}`, `value:${j}`);
    }
    assert.equal(await c.call("MSET", ...args), "OK");
  }
  assert.equal(await c.call("SAVE"), "OK");
  return dir;
}

Deno.test(
  "startup: a port in use is reported before the data is loaded",
  opts,
  async () => {
    const dir = await snapshotDir(10);
    const port = freePort();
    const taken = Deno.listen({ hostname: "127.0.0.1", port });
    try {
      const r = await runServe(["--port", String(port), "--dir", dir]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`Could not listen on 127\\.0\\.0\\.1:${port}`),
      );
      assert.doesNotMatch(r.stderr, /DB loaded from disk/);
    } finally {
      taken.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "startup: clients get -LOADING while the data loads, as Redis",
  opts,
  async () => {
    const dir = await snapshotDir(400_000);
    try {
      const server = new Server({ port: 0, dir, logSink: () => {} });
      const listening = server.listen();
      try {
        // Bound before loading: the port is known and connects.
        using c = await Conn.open(server.port);
        // Sent in one write, so both are answered at the same moment of the
        // load (a busy machine may otherwise finish it in between).
        const ping = encodeCommand(["PING"]);
        const info = encodeCommand(["INFO", "persistence"]);
        const both = new Uint8Array(ping.length + info.length);
        both.set(ping);
        both.set(info, ping.length);
        await c.send(both);
        const first = await c.reply();
        assert.equal(
          (first as Error).message,
          "LOADING Redis is loading the dataset in memory",
        );
        // INFO runs while loading (Redis's "loading" flag).
        assert.match(String(await c.reply()), /loading:1/);
        await listening;
        assert.equal(await c.call("PING"), "PONG");
        assert.equal(await c.call("DBSIZE"), 400_000);
      } finally {
        await listening.catch(() => {});
        await server.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "startup: CONFIG SET appendonly yes then no with 10,000 keys leaves the log off",
  opts,
  async () => {
    await using server = await startServer();
    using c = await Conn.open(server.port);
    for (let i = 0; i < 10_000; i += 1000) {
      const args: string[] = [];
      for (let j = i; j < i + 1000; j++) args.push(`k${j}`, "x".repeat(100));
      await c.call("MSET", ...args);
    }
    const enabled = async () =>
      /aof_enabled:(\d)/.exec(String(await c.call("INFO", "persistence")))![1];
    assert.equal(await c.call("CONFIG", "SET", "appendonly", "yes"), "OK");
    assert.equal(await enabled(), "1"); // as Redis, at once
    assert.equal(await c.call("CONFIG", "SET", "appendonly", "no"), "OK");
    assert.equal(await enabled(), "0");
    // Whatever the rewrite was doing, it ends and the log stays off.
    for (let i = 0; i < 200; i++) {
      const info = String(await c.call("INFO", "persistence"));
      if (/aof_rewrite_in_progress:0/.test(info)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await server.persistence.waitForRewrite();
    await c.call("PING");
    assert.equal(await enabled(), "0");
    assert.equal(server.persistence.aofEnabled, false);
    const aof = server.persistence.aofPath;
    const size = async () =>
      (await exists(aof)) ? (await Deno.stat(aof)).size : 0;
    const before = await size();
    for (let i = 0; i < 50; i++) await c.call("SET", `after${i}`, "v");
    assert.equal(await size(), before);
    assert.equal(await enabled(), "0");
    // And on again works.
    assert.equal(await c.call("CONFIG", "SET", "appendonly", "yes"), "OK");
    await server.persistence.waitForRewrite();
    for (let i = 0; i < 200 && !server.persistence.aofEnabled; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(server.persistence.aofEnabled, true);
    await c.call("SET", "logged", "yes");
    assert.match(await Deno.readTextFile(aof), /logged/);
  },
);

Deno.test(
  "startup: an embedded Server given no dir keeps no files and logs nothing",
  opts,
  async () => {
    const cwd = await Deno.makeTempDir({ prefix: "kv-embed-" });
    try {
      // A snapshot in the current directory must not be read.
      await Deno.writeTextFile(
        `${cwd}/dump.json`,
        JSON.stringify({
          format: "@kv/store snapshot",
          version: 2,
          entries: [["old", "x"]],
        }),
      );
      const before = await Deno.readTextFile(`${cwd}/dump.json`);
      const script = `
        import { Server } from ${JSON.stringify(`${root}server.ts`)};
        const server = new Server({ port: 0 });
        await server.listen();
        const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
        const send = async (s) => {
          await c.write(new TextEncoder().encode(s));
          const buf = new Uint8Array(1024);
          const n = await c.read(buf);
          return new TextDecoder().decode(buf.subarray(0, n));
        };
        const replies = [
          await send("DBSIZE\\r\\n"),
          await send("SET k v\\r\\n"),
          await send("CONFIG GET save\\r\\n"),
          await send("CONFIG GET appendonly\\r\\n"),
          await send("SAVE\\r\\n"),
          await send("CONFIG SET appendonly yes\\r\\n"),
        ];
        c.close();
        await server.shutdown();
        await server.finished;
        console.log(JSON.stringify(replies));
      `;
      const child = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "-"],
        cwd,
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const killer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // exited
        }
      }, 20_000);
      const w = child.stdin.getWriter();
      await w.write(new TextEncoder().encode(script));
      await w.close();
      const out = await child.output();
      clearTimeout(killer);
      const stderr = decoder.decode(out.stderr);
      assert.equal(out.code, 0, stderr);
      assert.equal(stderr, ""); // quiet
      const replies = JSON.parse(decoder.decode(out.stdout));
      assert.equal(replies[0], ":0\r\n");
      assert.equal(replies[1], "+OK\r\n");
      assert.equal(replies[2], "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
      assert.equal(replies[3], "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
      assert.match(replies[4], /^-ERR this server keeps no files/);
      assert.match(replies[5], /^-ERR CONFIG SET failed/);
      assert.deepEqual(
        [...Deno.readDirSync(cwd)].map((e) => e.name),
        ["dump.json"],
      );
      assert.equal(await Deno.readTextFile(`${cwd}/dump.json`), before);
    } finally {
      await Deno.remove(cwd, { recursive: true });
    }
  },
);

Deno.test("startup: an embedded Server with a dir keeps kv serve's defaults; a log level or sink turns logging on", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv-embed-dir-" });
  try {
    const lines: string[] = [];
    const server = new Server({ port: 0, dir, logSink: (l) => lines.push(l) });
    assert.deepEqual(server.config.save, [[3600, 1], [300, 100], [60, 10000]]);
    assert.equal(server.persistence.enabled, true);
    await server.listen();
    await server.close();
    assert.ok(lines.some((l) => l.includes("Ready to accept connections")));
    assert.throws(
      () => new Server({ port: 0, appendonly: true }),
      /need a `dir`/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
