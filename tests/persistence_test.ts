// Snapshots and the append-only log, with the real server: in-process for
// behaviour, as a process killed with SIGKILL for crash safety.

import assert from "node:assert/strict";
import { encodeCommand, ReplyError } from "../protocol.ts";
import { Store } from "../store.ts";
import { Server } from "../server.ts";
import { PersistenceError, readSnapshotFile } from "../persistence.ts";
import {
  concat,
  Conn,
  runServe,
  ServerProcess,
  startServer,
  withDir,
} from "./_helpers.ts";
import { textToBinary } from "../_bytes.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "kv-persist-" });
}

async function until(cond: () => boolean | Promise<boolean>, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test(
  "snapshot: SAVE, then a restart loads keys, values and TTLs",
  opts,
  () =>
    withDir(async (dir) => {
      const bin = "\x00\xff\xfe binary";
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await c.call("SET", "text", "hello ✓");
        await c.call(
          "SET",
          new TextEncoder().encode("k"),
          new Uint8Array([0, 255, 254, 32, 98, 105, 110, 97, 114, 121]),
        );
        await c.call("SET", "ttl", "v", "EX", "1000");
        assert.equal(await c.call("SAVE"), "OK");
        const last = await c.call("LASTSAVE") as number;
        assert.ok(Math.abs(last - Date.now() / 1000) < 5);
        const info = await c.call("INFO", "persistence") as string;
        assert.match(info, /rdb_changes_since_last_save:0\r\n/);
        assert.match(info, /rdb_last_bgsave_status:ok\r\n/);
      }
      const entries = await readSnapshotFile(`${dir}/dump.json`);
      assert.equal(entries.length, 3);
      const raw = JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
      assert.equal(raw.format, "@kv/store snapshot");
      assert.equal(raw.version, 2);
      assert.ok(JSON.stringify(raw.entries).includes('"base64"'));
      await using again = await startServer({ dir });
      using c = await Conn.open(again.port);
      assert.equal(await c.call("GET", "text"), textToBinary("hello ✓"));
      assert.equal(await c.call("GET", "k"), bin);
      const ttl = await c.call("TTL", "ttl") as number;
      assert.ok(ttl > 990 && ttl <= 1000, `ttl ${ttl}`);
      assert.equal(await c.call("DBSIZE"), 3);
    }),
);

Deno.test(
  "snapshot: BGSAVE answers at once and saves a point-in-time view",
  opts,
  () =>
    withDir(async (dir) => {
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      const n = 100_000;
      for (let i = 0; i < n; i += 1000) {
        const batch: Uint8Array[] = [];
        for (let j = i; j < i + 1000; j++) {
          batch.push(encodeCommand(["SET", `k${j}`, "before"]));
        }
        await c.send(concat(batch));
        for (let j = 0; j < 1000; j++) await c.reply();
      }
      assert.equal(await c.call("BGSAVE"), "Background saving started");
      assert.ok(
        await c.call("BGSAVE") instanceof ReplyError,
        "a second BGSAVE is refused while one runs",
      );
      // The server keeps answering, and writes go on, while it saves.
      let during = 0;
      for (let i = 0; i < n; i += 997) {
        assert.equal(await c.call("SET", `k${i}`, "after"), "OK");
        if (server.persistence.bgsaveInProgress) during++;
      }
      assert.ok(during > 0, "no write happened during the save");
      await c.call("SET", "new-key", "after");
      await c.call("DEL", "k1");
      await server.persistence.waitForBgsave();
      const entries = await readSnapshotFile(`${dir}/dump.json`);
      assert.equal(entries.length, n);
      assert.ok(entries.every(([, v]) => v === "before"));
      assert.match(
        await c.call("INFO", "persistence") as string,
        /rdb_last_bgsave_status:ok/,
      );
    }),
);

Deno.test(
  "snapshot: the save policy starts a background save",
  opts,
  () =>
    withDir(async (dir) => {
      await using server = await startServer({ dir, save: [[1, 2]], hz: 50 });
      using c = await Conn.open(server.port);
      const before = await c.call("LASTSAVE") as number;
      await c.call("SET", "a", "1");
      await c.call("SET", "b", "2");
      await until(async () =>
        (await readSnapshotFile(`${dir}/dump.json`).catch(() => [])).length ===
          2
      );
      assert.ok((await c.call("LASTSAVE") as number) >= before);
      assert.deepEqual(await c.call("CONFIG", "GET", "save"), ["save", "1 2"]);
      assert.equal(await c.call("CONFIG", "SET", "save", ""), "OK");
      assert.ok(
        await c.call("CONFIG", "SET", "save", "1") instanceof ReplyError,
      );
    }),
);

Deno.test(
  "snapshot: a failed background save blocks writes with MISCONF until one succeeds",
  opts,
  () =>
    withDir(async (parent) => {
      const dir = `${parent}/data`;
      await Deno.mkdir(dir);
      await using server = await startServer({ dir, save: [[3600, 1]] });
      using c = await Conn.open(server.port);
      await c.call("SET", "a", "1");
      await Deno.remove(dir, { recursive: true }); // the disk goes away
      assert.equal(await c.call("BGSAVE"), "Background saving started");
      await server.persistence.waitForBgsave();
      const info = await c.call("INFO", "persistence") as string;
      assert.match(info, /rdb_last_bgsave_status:err/);
      const e = await c.call("SET", "b", "2");
      assert.ok(e instanceof ReplyError);
      assert.equal(e.code, "MISCONF");
      assert.ok(await c.call("PING") instanceof ReplyError); // as Redis
      assert.equal(await c.call("GET", "a"), "1"); // reads still work
      const saveError = await c.call("SAVE");
      assert.ok(saveError instanceof ReplyError);
      assert.equal(saveError.message, "ERR");
      await Deno.mkdir(dir);
      assert.equal(await c.call("BGSAVE"), "Background saving started");
      await server.persistence.waitForBgsave();
      assert.equal(await c.call("SET", "b", "2"), "OK");
      // With stop-writes-on-bgsave-error off, writes go on regardless.
      assert.equal(
        await c.call("CONFIG", "SET", "stop-writes-on-bgsave-error", "no"),
        "OK",
      );
    }),
);

Deno.test(
  "snapshot: a corrupt file stops the start, naming it, and is left alone",
  opts,
  () =>
    withDir(async (dir) => {
      const path = `${dir}/dump.json`;
      for (
        const [content, why] of [
          [
            '{"format":"@kv/store snapshot","version":1,"entries":[["a","1"]',
            /not valid JSON/,
          ],
          ['{"hello":"world"}', /not a @kv\/store snapshot/],
          [
            '{"format":"@kv/store snapshot","version":99,"entries":[]}',
            /unsupported format version 99/,
          ],
          [
            '{"format":"@kv/store snapshot","version":1,"entries":[["a"]]}',
            /entry 0 is not/,
          ],
          [
            '{"format":"@kv/store snapshot","version":1,"entries":[["a","1"]],"count":2}',
            /holds 1 entries, expected 2/,
          ],
        ] as const
      ) {
        await Deno.writeTextFile(path, content);
        const server = new Server({ port: 0, dir, logSink: () => {} });
        await assert.rejects(
          server.listen(),
          (e: unknown) =>
            e instanceof PersistenceError && e.message.includes(path) &&
            why.test(e.message),
        );
        assert.equal(await Deno.readTextFile(path), content);
      }
    }),
);

Deno.test(
  "aof: writes are logged with absolute times and replayed on start",
  opts,
  () =>
    withDir(async (dir) => {
      const clock = { now: 1_800_000_000_000 };
      {
        await using server = await startServer({
          dir,
          appendonly: true,
          store: new Store({ clock: () => clock.now }),
        });
        using c = await Conn.open(server.port);
        await c.call("SET", "a", "1");
        await c.call("INCR", "a");
        await c.call("SET", "short", "v", "PX", "1000");
        await c.call("SET", "long", "v", "EX", "1000");
        await c.call("SETEX", "sx", "1", "v");
        await c.call("INCRBYFLOAT", "f", "0.1");
        await c.call("INCRBYFLOAT", "f", "0.2");
        await c.call("EXPIRE", "a", "5000");
        await c.call("SET", "gone", "x");
        await c.call("DEL", "gone");
        await c.call("SETNX", "a", "no effect");
        await c.call("MSET", "m1", "1", "m2", "2");
        const info = await c.call("INFO", "persistence") as string;
        assert.match(info, /aof_enabled:1\r\n/);
      }
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.match(log, /PXAT\r\n\$13\r\n1800000001000\r\n/);
      assert.match(log, /PEXPIREAT\r\n\$1\r\na\r\n\$13\r\n1800005000000\r\n/);
      assert.ok(
        !log.includes("SETNX"),
        "commands that changed nothing are not logged",
      );
      assert.ok(
        !log.includes("INCRBYFLOAT"),
        "logged as the value it produced",
      );
      // Two seconds later: what expired in between stays expired.
      clock.now += 2000;
      await using server = await startServer({
        dir,
        appendonly: true,
        store: new Store({ clock: () => clock.now }),
      });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("GET", "a"), "2");
      assert.equal(await c.call("GET", "short"), null);
      assert.equal(await c.call("GET", "sx"), null);
      assert.equal(await c.call("TTL", "long"), 998);
      assert.equal(await c.call("GET", "f"), "0.3");
      assert.equal(await c.call("GET", "gone"), null);
      assert.deepEqual(await c.call("MGET", "m1", "m2"), ["1", "2"]);
    }),
);

Deno.test(
  "aof: a truncated last command is dropped with a warning; the rest loads",
  opts,
  () =>
    withDir(async (dir) => {
      const good =
        "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n";
      await Deno.writeTextFile(
        `${dir}/appendonly.aof`,
        good + "*3\r\n$3\r\nSET\r\n$1\r\nc\r\n$5\r\nhal",
      );
      const lines: string[] = [];
      await using server = await startServer({
        dir,
        appendonly: true,
        logSink: (l) => lines.push(l),
        loglevel: "warning",
      });
      using c = await Conn.open(server.port);
      assert.deepEqual(await c.call("MGET", "a", "b", "c"), ["1", "2", null]);
      assert.ok(
        lines.some((l) => /short read .* incomplete command/.test(l)),
        lines.join(""),
      );
      // The file was cut back to whole commands, and new writes follow them.
      await c.call("SET", "d", "4");
      server.persistence.commit();
      assert.ok(
        (await Deno.readTextFile(`${dir}/appendonly.aof`)).startsWith(
          good + "*3\r\n$3\r\nSET\r\n$1\r\nd",
        ),
      );
    }),
);

Deno.test(
  "aof: garbage in the middle stops the start with a clear message",
  opts,
  () =>
    withDir(async (dir) => {
      const path = `${dir}/appendonly.aof`;
      for (
        const garbage of [
          "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$x\r\n*1\r\n$4\r\nPING\r\n",
          "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\nthis is not a command\r\n*1\r\n$4\r\nPING\r\n",
          "*2\r\n$3\r\nGET\r\n*1\r\n$4\r\nPING\r\n",
        ]
      ) {
        await Deno.writeTextFile(path, garbage);
        const server = new Server({
          port: 0,
          dir,
          appendonly: true,
          logSink: () => {},
        });
        await assert.rejects(
          server.listen(),
          (e: unknown) =>
            e instanceof PersistenceError && e.message.includes(path) &&
            /Bad file format reading the append only file/.test(e.message),
        );
        assert.equal(await Deno.readTextFile(path), garbage, "left untouched");
      }
    }),
);

Deno.test(
  "aof: with the log on, it wins over the snapshot",
  opts,
  () =>
    withDir(async (dir) => {
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await c.call("SET", "from", "snapshot");
        await c.call("SAVE");
      }
      {
        // Turning the log on with no log yet starts it from the loaded data.
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        assert.equal(await c.call("GET", "from"), "snapshot");
        await c.call("SET", "from", "log");
      }
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("GET", "from"), "log");
    }),
);

Deno.test(
  "aof: BGREWRITEAOF compacts without losing writes made meanwhile",
  opts,
  () =>
    withDir(async (dir) => {
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        for (let i = 0; i < 2000; i++) {
          await c.send(encodeCommand(["INCR", "counter"]));
        }
        for (let i = 0; i < 2000; i++) await c.reply();
        for (let i = 0; i < 100_000; i += 500) {
          const batch: Uint8Array[] = [];
          for (let j = i; j < i + 500; j++) {
            batch.push(encodeCommand(["SET", `k${j}`, "v"]));
          }
          await c.send(concat(batch));
          for (let j = 0; j < 500; j++) await c.reply();
        }
        server.persistence.commit();
        const before = (await Deno.stat(`${dir}/appendonly.aof`)).size;
        assert.equal(
          await c.call("BGREWRITEAOF"),
          "Background append only file rewriting started",
        );
        // Writes while it runs.
        let during = 0;
        for (let i = 0; i < 300; i++) {
          assert.equal(await c.call("INCR", "counter"), 2001 + i);
          if (server.persistence.rewriteInProgress) during++;
        }
        assert.ok(during > 0, "no write happened during the rewrite");
        await c.call("SET", "during", "rewrite");
        await server.persistence.waitForRewrite();
        await c.call("SET", "after", "rewrite");
        server.persistence.commit();
        const after = (await Deno.stat(`${dir}/appendonly.aof`)).size;
        assert.ok(after < before, `${after} < ${before}`);
        const info = await c.call("INFO", "persistence") as string;
        assert.match(info, /aof_last_bgrewrite_status:ok/);
      }
      await using server = await startServer({ dir, appendonly: true });
      using c = await Conn.open(server.port);
      assert.equal(await c.call("GET", "counter"), "2300");
      assert.equal(await c.call("GET", "during"), "rewrite");
      assert.equal(await c.call("GET", "after"), "rewrite");
      assert.equal(await c.call("DBSIZE"), 100_003);
    }),
);

Deno.test(
  "aof: grows past its size and ratio, and is rewritten automatically",
  opts,
  () =>
    withDir(async (dir) => {
      await using server = await startServer({
        dir,
        appendonly: true,
        autoAofRewriteMinSize: 10_000,
        autoAofRewritePercentage: 100,
        hz: 50,
      });
      using c = await Conn.open(server.port);
      for (let i = 0; i < 1000; i++) {
        await c.send(encodeCommand(["SET", "same", String(i)]));
      }
      for (let i = 0; i < 1000; i++) await c.reply();
      await until(async () => {
        const info = await c.call("INFO", "persistence") as string;
        return /aof_last_rewrite_time_sec:\d/.test(info);
      });
      await server.persistence.waitForRewrite();
      assert.ok((await Deno.stat(`${dir}/appendonly.aof`)).size < 10_000);
    }),
);

Deno.test(
  "aof: CONFIG SET appendonly turns the log on and off",
  opts,
  () =>
    withDir(async (dir) => {
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      await c.call("SET", "a", "1");
      assert.equal(await c.call("CONFIG", "SET", "appendonly", "yes"), "OK");
      await until(() => server.persistence.aofEnabled);
      await c.call("SET", "b", "2");
      server.persistence.commit();
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      assert.ok(log.includes("$1\r\na\r\n") && log.includes("$1\r\nb\r\n"));
      assert.equal(await c.call("CONFIG", "SET", "appendonly", "no"), "OK");
      await until(() => !server.persistence.aofEnabled);
    }),
);

Deno.test(
  "process: SIGTERM saves a snapshot; SHUTDOWN NOSAVE does not",
  opts,
  async () => {
    const dir = await tempDir();
    try {
      {
        await using server = await ServerProcess.start([], dir);
        using c = await Conn.open(server.port);
        await c.call("SET", "kept", "1");
        c.close();
        assert.equal((await server.stop("SIGTERM")).code, 0);
        assert.match(server.stderr, /DB saved on disk/);
      }
      assert.deepEqual(await readSnapshotFile(`${dir}/dump.json`), [[
        "kept",
        "1",
      ]]);
      {
        await using server = await ServerProcess.start([], dir);
        using c = await Conn.open(server.port);
        assert.equal(await c.call("GET", "kept"), "1");
        await c.call("SET", "lost", "1");
        await c.send("SHUTDOWN NOSAVE\r\n");
        await c.closedWithin(5000);
        assert.equal((await server.process.status).code, 0);
      }
      assert.deepEqual(await readSnapshotFile(`${dir}/dump.json`), [[
        "kept",
        "1",
      ]]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test(
  "process: a missing --dir or a corrupt snapshot stops the start",
  opts,
  async () => {
    const r = await runServe(["--port", "0", "--dir", "/nonexistent/kv"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Can't use --dir '\/nonexistent\/kv'/);
    await withDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/dump.json`, "{broken");
      const r = await runServe(["--port", "0", "--dir", dir]);
      assert.equal(r.code, 1);
      assert.match(
        r.stderr,
        new RegExp(`Bad snapshot file ${dir}/dump.json: not valid JSON`),
      );
      assert.equal(await Deno.readTextFile(`${dir}/dump.json`), "{broken");
    });
  },
);

Deno.test(
  "a read-only directory: SAVE and BGSAVE fail clearly; with the log on, no start",
  opts,
  async () => {
    // /proc refuses new files even to root, unlike a chmod-ed directory.
    const lines: string[] = [];
    await using server = await startServer({
      dir: "/proc",
      save: [[3600, 1]],
      logSink: (l) => lines.push(l),
    });
    using c = await Conn.open(server.port);
    await c.call("SET", "a", "1");
    const e = await c.call("SAVE");
    assert.ok(e instanceof ReplyError);
    assert.ok(
      lines.some((l) => /Failed saving the DB: .*\/proc\/temp-kv-save/.test(l)),
      lines.join(""),
    );
    assert.equal(await c.call("BGSAVE"), "Background saving started");
    await server.persistence.waitForBgsave();
    assert.match(
      await c.call("INFO", "persistence") as string,
      /rdb_last_bgsave_status:err/,
    );
    assert.ok(lines.some((l) => /Background saving error/.test(l)));
    const m = await c.call("SET", "b", "2");
    assert.ok(m instanceof ReplyError && m.code === "MISCONF");
    const aof = new Server({
      port: 0,
      dir: "/proc",
      appendonly: true,
      logSink: () => {},
    });
    await assert.rejects(
      aof.listen(),
      (e: unknown) =>
        e instanceof PersistenceError &&
        /Can't open the append only file \/proc\/appendonly\.aof/.test(
          e.message,
        ),
    );
  },
);
