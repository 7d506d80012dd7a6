// What replaces Node built-ins so that a server does not load them at
// start-up gives the same results: _path.ts's join and resolve
// (node:path's POSIX ones), _secret.ts's compare and lua/engine.ts's SHA-1
// (node:crypto's), INFO's os, CPU and system memory (node:os's and
// node:process's).

import assert from "node:assert/strict";
import path from "node:path";
import { createHash, timingSafeEqual } from "node:crypto";
import { join, resolve } from "../_path.ts";
import { sameSecret } from "../_secret.ts";
import { sha1hex } from "../lua/engine.ts";
import os from "node:os";
import process from "node:process";
import { Conn, startServer } from "./_helpers.ts";

const PATHS = [
  "",
  ".",
  "..",
  "/",
  "//",
  "a",
  "a/",
  "./a",
  "../a",
  "a/..",
  "a/../..",
  "/a/../..",
  "/..",
  "a//b",
  "a/./b/",
  "/tmp/x/",
  "../../x/./y/../z",
  "dump.json",
  "./",
  "x/..//",
];

Deno.test("path: join as node:path's", () => {
  for (const a of PATHS) {
    assert.equal(join(a), path.posix.join(a), `join(${a})`);
    for (const b of PATHS) {
      assert.equal(join(a, b), path.posix.join(a, b), `join(${a}, ${b})`);
    }
  }
  assert.equal(join(), path.posix.join());
  assert.equal(join("a", "", "b"), path.posix.join("a", "", "b"));
});

Deno.test("path: resolve as node:path's", () => {
  for (const a of PATHS) {
    assert.equal(resolve(a), path.posix.resolve(a), `resolve(${a})`);
    for (const b of PATHS) {
      assert.equal(
        resolve(a, b),
        path.posix.resolve(a, b),
        `resolve(${a}, ${b})`,
      );
    }
  }
  assert.equal(resolve(), path.posix.resolve());
});

Deno.test("sha1hex: node:crypto's SHA-1, of bytes and byte strings", () => {
  const ref = (d: Uint8Array) => createHash("sha1").update(d).digest("hex");
  for (let n = 0; n < 200; n++) {
    const d = crypto.getRandomValues(new Uint8Array(n));
    assert.equal(sha1hex(d), ref(d), `${n} bytes`);
    assert.equal(sha1hex(String.fromCharCode(...d)), ref(d), `${n} chars`);
  }
  const big = new Uint8Array(1 << 20).map((_, i) => i * 31);
  assert.equal(sha1hex(big), ref(big));
  assert.equal(sha1hex("abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
});

Deno.test("sameSecret: equal bytes and length, as timingSafeEqual", () => {
  const words = ["", "a", "b", "ab", "a\0", "\0", "secret", "secreT", "\xff"];
  for (const a of words) {
    for (const b of words) {
      const len = Math.max(a.length, b.length, 1);
      const pa = new Uint8Array(len);
      const pb = new Uint8Array(len);
      pa.set(Array.from(a, (c) => c.charCodeAt(0)));
      pb.set(Array.from(b, (c) => c.charCodeAt(0)));
      const expected = timingSafeEqual(pa, pb) && a.length === b.length;
      assert.equal(sameSecret(a, b), expected, `${a} ${b}`);
      assert.equal(sameSecret(a, b), a === b);
    }
  }
});

Deno.test("INFO: os, CPU and system memory as node:os and node:process", async () => {
  await using server = await startServer();
  const c = await Conn.open(server.port);
  try {
    await c.send("INFO everything\r\n");
    const before = process.cpuUsage();
    const info = String(await c.reply());
    const after = process.cpuUsage();
    const field = (name: string) =>
      new RegExp(`^${name}:(.*)\r$`, "m").exec(info)?.[1];
    assert.equal(field("os"), `${os.type()} ${os.release()} ${os.arch()}`);
    assert.equal(Number(field("total_system_memory")), os.totalmem());
    const user = Number(field("used_cpu_user")) * 1e6;
    const sys = Number(field("used_cpu_sys")) * 1e6;
    // The same clock: between what node:process said before and after.
    assert.ok(before.user <= user + 1 && user <= after.user + 1, `${user}`);
    assert.ok(before.system <= sys + 1 && sys <= after.system + 1, `${sys}`);
  } finally {
    c.conn.close();
  }
});
