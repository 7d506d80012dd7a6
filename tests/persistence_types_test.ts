// Every data type through snapshots and the append-only log, with the real
// server over TCP: SAVE, BGSAVE, the log and BGREWRITEAOF each followed by
// a restart, the content of every key compared with plain reads. Also: a
// BGSAVE stays point-in-time for containers changed while it runs, long
// values go through in pieces, and version-1 snapshot files still load.

import assert from "node:assert/strict";
import { encodeCommand, ReplyError, type RespValue } from "../protocol.ts";
import { readSnapshotFile, SNAPSHOT_FORMAT } from "../persistence.ts";
import type { Server } from "../server.ts";
import { bgsave, concat, Conn, startServer, withDir } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

// --- which families the server has (a missing one's part is skipped) -----

const FAMILIES = {
  hash: ["hset", "hgetall", "hincrbyfloat", "hdel"],
  list: ["rpush", "lpush", "lrange", "lmove", "lpop"],
  set: ["sadd", "smembers", "spop", "srem", "smove"],
  zset: ["zadd", "zrange", "zincrby", "zpopmin", "zrem"],
  stream: [
    "xadd",
    "xrange",
    "xgroup",
    "xreadgroup",
    "xinfo",
    "xpending",
    "xclaim",
    "xautoclaim",
    "xack",
    "xdel",
    "xtrim",
    "xsetid",
  ],
} as const;
type Family = keyof typeof FAMILIES;

/** The families whose every command COMMAND INFO knows. */
const known: Set<Family> = await (async () => {
  await using server = await startServer();
  using c = await Conn.open(server.port);
  const out = new Set<Family>();
  for (const [family, names] of Object.entries(FAMILIES)) {
    const info = await c.call("COMMAND", "INFO", ...names) as RespValue[];
    if (Array.isArray(info) && info.every((i) => Array.isArray(i))) {
      out.add(family as Family);
    }
  }
  return out;
})();
const has = (...families: Family[]) => families.every((f) => known.has(f));
const missing = (Object.keys(FAMILIES) as Family[]).filter((f) => !has(f));
const partial = missing.length > 0
  ? ` (skipping ${missing.join(", ")}: not in this server yet)`
  : "";

// --- helpers ---------------------------------------------------------------

/** An argument as bytes: a byte string (chars up to 0xff) as its bytes,
 * other text as UTF-8. */
function arg(a: string | number): string | number | Uint8Array {
  if (typeof a === "number" || !/[\u0080-\uffff]/.test(a)) return a;
  if (/[\u0100-\uffff]/.test(a)) return a;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a.charCodeAt(i);
  return out;
}

/** A command whose string arguments are sent as `arg` makes them. */
function call(c: Conn, ...argv: (string | number)[]): Promise<RespValue> {
  return c.call(...argv.map(arg));
}

/** Sends commands in one pipeline; throws on the first error reply. */
async function run(c: Conn, commands: (string | number)[][]): Promise<void> {
  for (let i = 0; i < commands.length; i += 500) {
    const batch = commands.slice(i, i + 500);
    await c.send(concat(batch.map((argv) => encodeCommand(argv.map(arg)))));
    for (const argv of batch) {
      const r = await c.reply();
      if (r instanceof ReplyError) {
        throw new Error(`${JSON.stringify(argv)}: ${r.message}`);
      }
    }
  }
}

const FAR = Date.now() + 3_600_000; // expiry times: an hour from now
const bin = '\x00\xff\xfe\r\n"\\ bin';

/** Builds keys of every known type, each also with an expiry. */
function buildCommands(): (string | number)[][] {
  const cmds: (string | number)[][] = [
    ["SET", "str", "hello ✓"],
    ["SET", bin, bin],
    ["SET", "str:ttl", "v", "PXAT", FAR],
  ];
  if (has("hash")) {
    cmds.push(["HSET", "hash", "f1", "v1", "f2", "2", bin, bin]);
    const big: (string | number)[] = ["HSET", "hash:big"];
    for (let i = 0; i < 300; i++) big.push(`field${i}`, `value${i}`);
    cmds.push(big, ["HSET", "hash:ttl", "a", "1"], [
      "PEXPIREAT",
      "hash:ttl",
      FAR,
    ]);
  }
  if (has("list")) {
    cmds.push(["RPUSH", "list", "a", "b", bin, "", "c"]);
    const big: (string | number)[] = ["RPUSH", "list:big"];
    for (let i = 0; i < 1000; i++) big.push(`item${i}`);
    cmds.push(big, ["LPUSH", "list:ttl", "x"], ["PEXPIREAT", "list:ttl", FAR]);
  }
  if (has("set")) {
    cmds.push(["SADD", "set:int", 1, 2, 3, -5], ["SADD", "set", "a", bin]);
    const big: (string | number)[] = ["SADD", "set:big"];
    for (let i = 0; i < 600; i++) big.push(`m${i}`);
    cmds.push(big, ["SADD", "set:ttl", "x"], ["PEXPIREAT", "set:ttl", FAR]);
  }
  if (has("zset")) {
    cmds.push([
      "ZADD",
      "zset",
      1,
      "a",
      2.5,
      "b",
      "-inf",
      "c",
      "inf",
      bin,
      0.1,
      "d",
    ]);
    const big: (string | number)[] = ["ZADD", "zset:big"];
    for (let i = 0; i < 300; i++) big.push(i * 1.5, `m${i}`);
    cmds.push(big, ["ZADD", "zset:ttl", 1, "x"], [
      "PEXPIREAT",
      "zset:ttl",
      FAR,
    ]);
  }
  if (has("stream")) {
    cmds.push(
      ["XADD", "stream", "1-1", "a", "1"],
      ["XADD", "stream", "2-1", "b", "2", bin, bin],
      ["XADD", "stream", "3-0", "c", "3"],
      ["XADD", "stream", "4-0", "d", "4"],
      ["XDEL", "stream", "3-0"],
      ["XGROUP", "CREATE", "stream", "g1", "0"],
      ["XGROUP", "CREATE", "stream", "g2", "$", "ENTRIESREAD", "3"],
      [
        "XREADGROUP",
        "GROUP",
        "g1",
        "alice",
        "COUNT",
        "1",
        "STREAMS",
        "stream",
        ">",
      ],
      ["XREADGROUP", "GROUP", "g1", "bob", "STREAMS", "stream", ">"],
      ["XACK", "stream", "g1", "4-0"],
      ["XGROUP", "CREATECONSUMER", "stream", "g2", "carol"],
      ["XCLAIM", "stream", "g1", "carol", "0", "2-1", "RETRYCOUNT", "5"],
      ["XADD", "stream:empty", "5-5", "x", "y"],
      ["XDEL", "stream:empty", "5-5"],
      [
        "XSETID",
        "stream:empty",
        "9-9",
        "ENTRIESADDED",
        "7",
        "MAXDELETEDID",
        "8-0",
      ],
      ["XADD", "stream:ttl", "1-0", "k", "v"],
      ["PEXPIREAT", "stream:ttl", FAR],
    );
    const big: (string | number)[][] = [];
    for (let i = 1; i <= 500; i++) {
      big.push([
        "XADD",
        "stream:big",
        `${i}-0`,
        "n",
        i,
        "pad",
        "x".repeat(i % 7),
      ]);
    }
    cmds.push(...big, ["XTRIM", "stream:big", "MAXLEN", "400"]);
  }
  return cmds;
}

/** More writes of every known type, including ones whose effect depends
 * on time or randomness (they must be logged so that a replay agrees). */
function mixCommands(): (string | number)[][] {
  const cmds: (string | number)[][] = [
    ["SET", "str", "changed"],
    ["EXPIRE", "str", 5000],
    ["DEL", "str:ttl"],
  ];
  if (has("hash")) {
    cmds.push(
      ["HINCRBYFLOAT", "hash", "f2", "0.1"],
      ["HDEL", "hash", "f1"],
      ["HSET", "hash:new", "x", "y"],
      ["HDEL", "hash:new", "x"], // the key goes away
    );
  }
  if (has("list")) {
    cmds.push(
      ["LMOVE", "list", "list:moved", "LEFT", "RIGHT"],
      ["LPOP", "list:big", 10],
      ["RPUSH", "list:tmp", "a"],
      ["LPOP", "list:tmp"],
    );
  }
  if (has("set")) {
    cmds.push(
      ["SPOP", "set:big", 5],
      ["SPOP", "set:big"],
      ["SMOVE", "set", "set:moved", "a"],
      ["SREM", "set:int", 1],
    );
  }
  if (has("zset")) {
    cmds.push(
      ["ZINCRBY", "zset", 10, "a"],
      ["ZPOPMIN", "zset:big", 3],
      ["ZREM", "zset", "d"],
    );
  }
  if (has("stream")) {
    cmds.push(
      ["XADD", "stream", "*", "auto", "1"],
      ["XADD", "stream:big", "MAXLEN", "=", "300", "*", "n", "x"],
      ["XREADGROUP", "GROUP", "g2", "dave", "STREAMS", "stream", ">"],
      ["XAUTOCLAIM", "stream", "g1", "erin", "0", "0-0", "COUNT", "1"],
      ["XGROUP", "SETID", "stream", "g1", "1-1", "ENTRIESREAD", "1"],
      ["XGROUP", "DELCONSUMER", "stream", "g1", "bob"],
    );
  }
  return cmds;
}

/** Drops the fields that depend on time (idle times, seen times). */
function timeless(v: RespValue): RespValue {
  if (!Array.isArray(v)) return v;
  const out: RespValue[] = [];
  for (let i = 0; i < v.length; i++) {
    const name = v[i];
    if (
      typeof name === "string" && i + 1 < v.length &&
      ["idle", "inactive", "seen-time", "active-time"].includes(name)
    ) {
      i++;
      continue;
    }
    out.push(timeless(v[i]));
  }
  return out;
}

/** Every key's type, absolute expiry and content, read with plain
 * commands (RESP2, so maps are flat arrays). */
async function dumpAll(c: Conn): Promise<Record<string, unknown>> {
  const keys = (await call(c, "KEYS", "*") as string[]).sort();
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const type = await call(c, "TYPE", k) as string;
    const expiry = await call(c, "PEXPIRETIME", k);
    let content: unknown;
    switch (type) {
      case "string":
        content = await call(c, "GET", k);
        break;
      case "hash": {
        const flat = await call(c, "HGETALL", k) as string[];
        const pairs: string[] = [];
        for (let i = 0; i < flat.length; i += 2) {
          pairs.push(JSON.stringify([flat[i], flat[i + 1]]));
        }
        content = pairs.sort();
        break;
      }
      case "list":
        content = await call(c, "LRANGE", k, 0, -1);
        break;
      case "set":
        content = (await call(c, "SMEMBERS", k) as string[]).sort();
        break;
      case "zset":
        content = await call(c, "ZRANGE", k, 0, -1, "WITHSCORES");
        break;
      case "stream": {
        const info = timeless(await call(c, "XINFO", "STREAM", k)) as string[];
        // The radix tree's shape is not part of the content.
        const i = info.indexOf("radix-tree-keys");
        if (i >= 0) info.splice(i, 4);
        const groups = timeless(await call(c, "XINFO", "GROUPS", k));
        const consumers: unknown[] = [];
        const pending: unknown[] = [];
        for (const g of (await call(c, "XINFO", "GROUPS", k)) as string[][]) {
          const name = g[1];
          consumers.push(
            timeless(await call(c, "XINFO", "CONSUMERS", k, name)),
          );
          pending.push(await call(c, "XPENDING", k, name));
          const detail = await call(c, "XPENDING", k, name, "-", "+", 1000);
          // [id, consumer, idle, deliveries]: the idle time goes.
          pending.push(
            (detail as RespValue[][]).map((e) => [e[0], e[1], e[3]]),
          );
        }
        content = {
          entries: await call(c, "XRANGE", k, "-", "+"),
          info,
          groups,
          consumers,
          pending,
        };
        break;
      }
      default:
        content = `unknown type ${type}`;
    }
    out[k] = { type, expiry, content };
  }
  return out;
}

/** Checks that a dump holds every known type, with and without expiry. */
function assertAllTypes(dump: Record<string, unknown>): void {
  const seen = new Set<string>();
  for (const v of Object.values(dump)) {
    const { type, expiry } = v as { type: string; expiry: number };
    seen.add(`${type}:${expiry > 0 ? "ttl" : "none"}`);
  }
  const want = ["string", ...known].map((t) => t === "zset" ? "zset" : t);
  for (const t of want) {
    assert.ok(seen.has(`${t}:ttl`) && seen.has(`${t}:none`), `${t} missing`);
  }
}

/** Restarts on `dir` with `options` and returns the dump there. */
async function dumpAfterRestart(
  dir: string,
  options: Parameters<typeof startServer>[0] = {},
): Promise<Record<string, unknown>> {
  await using server = await startServer({ dir, ...options });
  using c = await Conn.open(server.port);
  return await dumpAll(c);
}

async function saveAndCompare(
  mode: "SAVE" | "BGSAVE",
  extra: (string | number)[][] = [],
): Promise<void> {
  await withDir(async (dir) => {
    let before: Record<string, unknown>;
    {
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      await run(c, buildCommands());
      await run(c, extra);
      before = await dumpAll(c);
      assertAllTypes(before);
      if (mode === "SAVE") assert.equal(await c.call("SAVE"), "OK");
      else {
        await bgsave(c, server);
      }
    }
    assert.deepEqual(await dumpAfterRestart(dir), before);
  });
}

// --- snapshots -------------------------------------------------------------

Deno.test(
  `types: every type and its expiry survive SAVE and a restart${partial}`,
  opts,
  () => saveAndCompare("SAVE"),
);

Deno.test(
  `types: every type and its expiry survive BGSAVE and a restart${partial}`,
  opts,
  () => saveAndCompare("BGSAVE", mixCommands()),
);

Deno.test(
  "types: the snapshot holds containers as the commands that build them",
  { ...opts, ignore: !has("hash") },
  () =>
    withDir(async (dir) => {
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        await run(c, [["HSET", "h", "a", "1"], ["PEXPIREAT", "h", FAR]]);
        assert.equal(await c.call("SAVE"), "OK");
      }
      const entries = await readSnapshotFile(`${dir}/dump.json`);
      assert.deepEqual(entries, [["h", {
        commands: [["HSET", "h", "a", "1"]],
      }, FAR]]);
      const raw = JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
      assert.equal(raw.entries[0][1].type, "hash");
    }),
);

// --- the append-only log ---------------------------------------------------

Deno.test(
  `types: every write of every type replays from the log${partial}`,
  opts,
  () =>
    withDir(async (dir) => {
      let before: Record<string, unknown>;
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await run(c, buildCommands());
        await run(c, mixCommands());
        before = await dumpAll(c);
        assertAllTypes(before);
      }
      assert.deepEqual(
        await dumpAfterRestart(dir, { appendonly: true }),
        before,
      );
    }),
);

Deno.test(
  `types: BGREWRITEAOF writes every type, then the log goes on${partial}`,
  opts,
  () =>
    withDir(async (dir) => {
      let before: Record<string, unknown>;
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        await run(c, buildCommands());
        assert.match(
          await c.call("BGREWRITEAOF") as string,
          /rewriting started/,
        );
        // Writes while it runs are kept.
        await run(c, mixCommands());
        await server.persistence.waitForRewrite();
        await run(c, [["SET", "after-rewrite", "1"]]);
        before = await dumpAll(c);
        assert.match(
          await c.call("INFO", "persistence") as string,
          /aof_last_bgrewrite_status:ok/,
        );
      }
      const log = await Deno.readTextFile(`${dir}/appendonly.aof`);
      if (has("hash")) assert.match(log, /HSET/i);
      assert.deepEqual(
        await dumpAfterRestart(dir, { appendonly: true }),
        before,
      );
      // And the snapshot of the same data, with the log off.
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        assert.equal(await c.call("SAVE"), "OK");
      }
      await Deno.remove(`${dir}/appendonly.aof`);
      assert.deepEqual(await dumpAfterRestart(dir), before);
    }),
);

// --- BGSAVE is point-in-time for containers ---------------------------------

Deno.test(
  "types: containers changed, deleted and re-created while BGSAVE runs are saved as they were",
  { ...opts, ignore: !has("hash", "list", "zset") },
  () =>
    withDir(async (dir) => {
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      // Containers read early by the save, 200k strings, containers read
      // late (a snapshot goes through keys in insertion order).
      const containers = (p: string): (string | number)[][] => [
        ["HSET", `${p}:hash`, "a", "1", "b", "2"],
        ["RPUSH", `${p}:list`, "x", "y", "z"],
        ["ZADD", `${p}:zset`, 1, "one", 2, "two"],
      ];
      await run(c, containers("early"));
      const n = 200_000;
      for (let i = 0; i < n; i += 5000) {
        const batch: Uint8Array[] = [];
        for (let j = i; j < i + 5000; j++) {
          batch.push(encodeCommand(["SET", `k${j}`, "v"]));
        }
        await c.send(concat(batch));
        for (let j = 0; j < 5000; j++) await c.reply();
      }
      await run(c, containers("late"));
      const before = await dumpContainers(c);
      assert.equal(await c.call("BGSAVE"), "Background saving started");
      const changes: (string | number)[][] = [];
      for (const p of ["early", "late"]) {
        changes.push(
          ["HSET", `${p}:hash`, "a", "changed", "c", "3"],
          ["HDEL", `${p}:hash`, "b"],
          ["LPUSH", `${p}:list`, "new"],
          ["RPOP", `${p}:list`],
          ["DEL", `${p}:zset`],
          ["ZADD", `${p}:zset`, 9, "recreated"],
          ["ZINCRBY", `${p}:zset`, 1, "recreated"],
        );
      }
      await run(c, changes);
      assert.ok(
        server.persistence.bgsaveInProgress,
        "the changes came after the save ended: make the data set bigger",
      );
      const live = await dumpContainers(c);
      await server.persistence.waitForBgsave();
      assert.notDeepEqual(live, before);
      await using again = await startServer({ dir: dir });
      using c2 = await Conn.open(again.port);
      assert.equal(await c2.call("DBSIZE"), n + 6);
      assert.deepEqual(await dumpContainers(c2), before);
    }),
);

async function dumpContainers(c: Conn): Promise<unknown> {
  const out: unknown[] = [];
  for (const p of ["early", "late"]) {
    out.push(
      await call(c, "HGETALL", `${p}:hash`),
      await call(c, "LRANGE", `${p}:list`, 0, -1),
      await call(c, "ZRANGE", `${p}:zset`, 0, -1, "WITHSCORES"),
    );
  }
  return out;
}

// --- long values go through in pieces ---------------------------------------

/** The UTF-8 bytes of `text`, as a byte string. */
function utf8Bytes(text: string): string {
  const b = new TextEncoder().encode(text);
  let s = "";
  for (let i = 0; i < b.length; i += 8192) {
    s += String.fromCharCode(...b.subarray(i, Math.min(b.length, i + 8192)));
  }
  return s;
}

/** Deterministic bytes: `n` of them, from a small generator. */
function bytes(n: number, seed: number, ascii: boolean): string {
  const codes = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    codes[i] = ascii ? 32 + ((x >>> 16) % 95) : (x >>> 16) & 255;
  }
  let s = "";
  for (let i = 0; i < n; i += 8192) {
    s += String.fromCharCode(...codes.subarray(i, Math.min(n, i + 8192)));
  }
  return s;
}

Deno.test(
  "types: long values (binary, text with escapes, plain) survive SAVE, BGSAVE and BGREWRITEAOF",
  opts,
  () =>
    withDir(async (dir) => {
      const n = 5 * 1024 * 1024 + 7; // longer than the 4 MB read window
      const values: Record<string, string> = {
        binary: bytes(n, 1, false), // not UTF-8: base64 in pieces
        text: bytes(n, 2, true) + '\n\t"\\ \xe2\x9c\x93 \x01', // escapes
        plain: "p".repeat(n),
        // Valid UTF-8, multi-byte characters cut across pieces.
        utf8: utf8Bytes("ключ✓".repeat(n / 11 | 0)),
      };
      const check = async (server: Server) => {
        using c = await Conn.open(server.port);
        for (const [k, v] of Object.entries(values)) {
          assert.ok(await call(c, "GET", k) === v, `value of ${k}`);
        }
        if (has("hash")) {
          assert.ok(
            await call(c, "HGET", "h", "field") === values.binary,
            "hash field",
          );
        }
      };
      {
        await using server = await startServer({ dir, appendonly: true });
        using c = await Conn.open(server.port);
        for (const [k, v] of Object.entries(values)) {
          assert.equal(await call(c, "SET", k, v), "OK");
        }
        if (has("hash")) await call(c, "HSET", "h", "field", values.binary);
        assert.equal(await c.call("SAVE"), "OK");
        await c.call("BGREWRITEAOF");
        await server.persistence.waitForRewrite();
      }
      {
        // From the rewritten log.
        await using server = await startServer({ dir, appendonly: true });
        await check(server);
      }
      await Deno.remove(`${dir}/appendonly.aof`);
      {
        // From the SAVE snapshot; then a BGSAVE of it.
        await using server = await startServer({ dir });
        await check(server);
        using c = await Conn.open(server.port);
        await c.call("BGSAVE");
        await server.persistence.waitForBgsave();
      }
      await using server = await startServer({ dir });
      await check(server);
      const raw = JSON.parse(await Deno.readTextFile(`${dir}/dump.json`));
      assert.equal(
        raw.count,
        Object.keys(values).length + (has("hash") ? 1 : 0),
      );
    }),
);

// --- files written by others -----------------------------------------------

Deno.test(
  "types: a version-1 snapshot (strings only) still loads",
  opts,
  () =>
    withDir(async (dir) => {
      const far = Date.now() + 100_000;
      const doc = {
        format: SNAPSHOT_FORMAT,
        version: 1,
        time: Date.now(),
        entries: [
          ["text", "hello ✓"],
          [{ base64: btoa("\xff\x00k") }, { base64: btoa("\x80\x81") }],
          ["ttl", "v", far],
          ["gone", "v", Date.now() - 1000],
          ["esc", 'a"b\\c\n\u0001\ud83d\ude00'],
        ],
        count: 5,
      };
      // Written with indentation, as another tool might.
      await Deno.writeTextFile(
        `${dir}/dump.json`,
        JSON.stringify(doc, null, 2),
      );
      await using server = await startServer({ dir });
      using c = await Conn.open(server.port);
      const utf8 = (s: string) =>
        String.fromCharCode(...new TextEncoder().encode(s));
      assert.equal(await c.call("GET", "text"), utf8("hello ✓"));
      assert.equal(await call(c, "GET", "\xff\x00k"), "\x80\x81");
      assert.equal(await c.call("PEXPIRETIME", "ttl"), far);
      assert.equal(await c.call("EXISTS", "gone"), 0);
      assert.equal(
        await c.call("GET", "esc"),
        utf8('a"b\\c\n\u0001\ud83d\ude00'),
      );
    }),
);

Deno.test(
  "types: a snapshot cut short or with a wrong count stops the start",
  opts,
  () =>
    withDir(async (dir) => {
      const good = JSON.stringify({
        format: SNAPSHOT_FORMAT,
        version: 2,
        time: 0,
        entries: [["a", "1"], ["b", "x".repeat(10_000)]],
        count: 2,
      });
      for (
        const [text, why] of [
          [good.slice(0, good.length - 5000), /not valid JSON/],
          [
            good.replace('"count":2', '"count":3'),
            /holds 2 entries, expected 3/,
          ],
          [
            good.replace('"version":2', '"version":9'),
            /unsupported format version 9/,
          ],
          [good.replace(SNAPSHOT_FORMAT, "other"), /not a @kv\/store snapshot/],
          [good.replace('["a","1"]', '["a",1]'), /entry 0 has a key or value/],
          [good + "x", /not valid JSON/],
        ] as const
      ) {
        await Deno.writeTextFile(`${dir}/dump.json`, text);
        await assert.rejects(
          startServer({ dir }),
          (e: unknown) => e instanceof Error && why.test(e.message),
          String(why),
        );
      }
    }),
);

// --- the codec on random data: pieces and read windows cut anywhere ---------

/** A seeded generator (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random byte string of one of the kinds the codec tells apart. */
function randomString(r: () => number, maxLength: number): string {
  const n = Math.floor(r() ** 3 * maxLength);
  const kind = Math.floor(r() * 5);
  const codes: number[] = [];
  const text = 'aé✓😀"\\\n\t\x01\x7f/';
  while (codes.length < n) {
    switch (kind) {
      case 0: // printable ASCII
        codes.push(32 + Math.floor(r() * 95));
        break;
      case 1: // text with escapes and multi-byte characters (as UTF-8)
        for (
          const b of new TextEncoder().encode(
            text[Math.floor(r() * text.length)],
          )
        ) codes.push(b);
        break;
      case 2: // any bytes
        codes.push(Math.floor(r() * 256));
        break;
      case 3: // UTF-8 with one bad byte somewhere
        codes.push(r() < 0.001 ? 0xff : 97 + Math.floor(r() * 26));
        break;
      default: // control characters only
        codes.push(Math.floor(r() * 32));
    }
  }
  codes.length = n;
  let s = "";
  for (let i = 0; i < codes.length; i += 8192) {
    s += String.fromCharCode(...codes.slice(i, i + 8192));
  }
  return s;
}

Deno.test(
  "types: random strings of every kind, cut across pieces and read windows, load back as saved (SAVE, BGSAVE, rewrite)",
  opts,
  () =>
    withDir(async (dir) => {
      const r = rng(42);
      const want = new Map<string, string>();
      let bytes = 0;
      while (bytes < 12 << 20) {
        const k = randomString(r, 40) + `#${want.size}`;
        const v = randomString(r, 200_000);
        want.set(k, v);
        bytes += k.length + v.length;
      }
      const load = async (options: Parameters<typeof startServer>[0]) => {
        await using server = await startServer({ dir, ...options });
        assert.equal(server.store.size, want.size);
        for (const [k, v] of want) {
          assert.ok(server.store.get(k) === v, `value of ${JSON.stringify(k)}`);
        }
      };
      {
        await using server = await startServer({ dir });
        for (const [k, v] of want) server.store.set(k, v);
        server.persistence.saveSync();
      }
      await load({});
      {
        await using server = await startServer({ dir });
        assert.equal(server.persistence.bgsave(), "started");
        await server.persistence.waitForBgsave();
      }
      await load({});
      {
        await using server = await startServer({ dir, appendonly: true });
        assert.equal(server.persistence.bgrewriteaof(), "started");
        await server.persistence.waitForRewrite();
      }
      await Deno.remove(`${dir}/dump.json`);
      await load({ appendonly: true });
    }),
);

Deno.test(
  "types: the parser reads the same whatever the size of its read window",
  opts,
  () =>
    withDir(async (dir) => {
      const r = rng(7);
      const strings: [string, string][] = [];
      for (let i = 0; i < 300; i++) {
        strings.push([randomString(r, 30) + `#${i}`, randomString(r, 3000)]);
      }
      {
        await using server = await startServer({ dir });
        using c = await Conn.open(server.port);
        for (const [k, v] of strings) server.store.set(k, v);
        if (has("hash")) {
          await run(c, [["HSET", "h", bin, bin, "f", "v"], [
            "PEXPIREAT",
            "h",
            FAR,
          ]]);
        }
        server.persistence.saveSync();
      }
      const path = `${dir}/dump.json`;
      const whole = await readSnapshotFile(path);
      assert.equal(whole.length, strings.length + (has("hash") ? 1 : 0));
      for (const [k, v] of strings) {
        assert.ok(whole.some(([k2, v2]) => k2 === k && v2 === v));
      }
      for (const size of [1, 2, 3, 5, 16, 17, 64, 1000, 4096]) {
        assert.deepEqual(await readSnapshotFile(path, size), whole, `${size}`);
      }
    }),
);
