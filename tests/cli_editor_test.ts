// The interactive `kv cli`'s line editor in tmux: hints after each
// argument, wide hints and long lines on a narrow terminal, wide
// characters, Tab completion, word moves, `help @group`.

import assert from "node:assert/strict";
import { has, startServer } from "./_helpers.ts";
import { kvCli, Terminal } from "./_cli.ts";
import { charWidth, layout } from "../_line_editor.ts";
import { completions, helpEntries, hintFor } from "../cli.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** A kv cli against `port` at a terminal of its own, `cols` wide, at its
 * prompt. */
async function cliAt(port: number, cols: number): Promise<Terminal> {
  const t = await Terminal.open(kvCli(`-p ${port}`), { x: cols, y: 40 });
  try {
    await t.waitFor(/127\.0\.0\.1:\d+>$/);
  } catch (e) {
    await t[Symbol.asyncDispose]();
    throw e;
  }
  return t;
}

Deno.test("line editor: character widths and wrapping", () => {
  assert.deepEqual([..."a日\u0301😀"].map(charWidth), [1, 2, 0, 2]);
  assert.deepEqual(layout([..."abcd"], 4), { row: 0, col: 4 });
  assert.deepEqual(layout([..."abcde"], 4), { row: 1, col: 1 });
  // A wide character that does not fit starts the next row.
  assert.deepEqual(layout([..."abc日"], 4), { row: 1, col: 2 });
});

Deno.test("cli hints and completion follow redis-cli's rules", () => {
  const arg = (name: string, extra: [string, unknown][] = []) =>
    new Map<string, unknown>([["name", name], ["type", "key"], ...extra]);
  const docs = new Map<string, unknown>([
    [
      "getrange",
      new Map<string, unknown>([["group", "string"], [
        "arguments",
        [arg("key"), arg("start"), arg("end")],
      ]]),
    ],
    [
      "get",
      new Map<string, unknown>([["group", "string"], ["arguments", [
        arg("key"),
      ]]]),
    ],
    [
      "config",
      new Map<string, unknown>([["group", "server"], [
        "subcommands",
        new Map([[
          "config|get",
          new Map<string, unknown>([["group", "server"], [
            "arguments",
            [arg("parameter", [["flags", ["multiple"]]])],
          ]]),
        ]]),
      ]]),
    ],
  ]);
  const entries = helpEntries(docs);
  assert.equal(hintFor(entries, "GETRANGE"), " key start end");
  assert.equal(hintFor(entries, "getrange "), "key start end");
  assert.equal(hintFor(entries, "GETRANGE k "), "start end");
  assert.equal(hintFor(entries, "GETRANGE k 0"), " end");
  assert.equal(hintFor(entries, "GETRANGE k 0 1 "), "");
  assert.equal(hintFor(entries, "CONFIG GET "), "parameter [parameter ...]");
  assert.equal(hintFor(entries, "CONFIG GET a "), "[parameter ...]");
  assert.equal(hintFor(entries, "GE"), "");
  assert.deepEqual(completions(entries, "get"), ["get", "getrange"]);
  assert.deepEqual(completions(entries, "CONFIG"), ["CONFIG", "CONFIG GET"]);
  assert.deepEqual(completions(entries, "help @s"), [
    "help @server",
    "help @string",
  ]);
});

Deno.test({
  name: "kv cli line editor: hints, wrapping, wide characters (tmux)",
  ignore: !has("tmux"),
  ...opts,
  async fn() {
    await using server = await startServer();
    const prompt = `127.0.0.1:${server.port}> `;
    await using t = await cliAt(server.port, 40);
    const row0 = (await t.cursor())[1];
    // A hint after each argument.
    await t.keys("GETRANGE k ");
    await t.waitFor(/> GETRANGE k start end$/);
    await t.keys("0 ");
    await t.waitFor(/> GETRANGE k 0 end$/);
    // A hint wider than the terminal wraps; a shorter line leaves no
    // stale row of it.
    await t.keys("C-u", "ZADD ");
    await t.waitFor(/ZADD key \[NX\|XX\][\s\S]*\.\.\.\]$/);
    assert.ok((await t.screen()).split("\n").length >= row0 + 3);
    await t.keys("C-u", "ECHO ");
    await t.waitFor(/> ECHO message$/);
    assert.equal((await t.screen()).split("\n").length, row0 + 1);
    // Wide characters: echoed as typed, the cursor where they end.
    await t.keys("C-u", "APPEND 日本 v", "Left", "Left");
    await t.waitFor(/> APPEND 日本 v$/);
    await t.cursorAt(prompt.length + 11, row0);
    await t.keys("語");
    await t.waitFor(/> APPEND 日本語 v$/);
    await t.cursorAt(prompt.length + 13, row0);
    await t.keys("Enter");
    await t.waitFor(/> APPEND 日本語 v\n\(integer\) 1\n.*>$/);
    // Keys are kept as binary strings (a char per byte).
    const key = String.fromCharCode(...new TextEncoder().encode("日本語"));
    assert.equal(server.store.value(key), "v");
    // A line longer than the terminal wraps onto the next rows, typed in
    // several pieces; the prompt shows once.
    const before = (await t.screen()).split("\n").length;
    const word = "abcdefghij".repeat(9);
    await t.keys("ECHO ");
    for (let i = 0; i < word.length; i += 15) {
      await t.keys(word.slice(i, i + 15));
      const typed = "ECHO " + word.slice(0, i + 15);
      for (let n = 0; n < 200; n++) {
        const rows = (await t.screen()).split("\n").slice(before - 1);
        if (rows.join("").endsWith(typed)) break;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const screen = await t.screen();
    const rows = screen.split("\n").slice(before - 1);
    assert.equal(rows.join(""), prompt.trimEnd() + " ECHO " + word);
    const [, y] = await t.cursor();
    assert.equal(y, before - 1 + rows.length - 1);
    // Ctrl-A goes to the start of the line, on its first row.
    await t.keys("C-a");
    await t.cursorAt(prompt.length, before - 1);
    await t.keys("Enter");
    await t.waitFor(new RegExp(`\n"${word.slice(0, 30)}[\\s\\S]*>$`));
  },
});

Deno.test({
  name: "kv cli line editor: Tab completion, word moves, help @group (tmux)",
  ignore: !has("tmux"),
  ...opts,
  async fn() {
    await using server = await startServer();
    server.store.set("k", "hello");
    const prompt = `127.0.0.1:${server.port}> `;
    await using t = await cliAt(server.port, 120);
    // Tab completes command names; a second Tab shows the next.
    await t.keys("getr", "Tab");
    await t.waitFor(/> getrange key start end$/);
    await t.keys(" k 0 1", "Enter");
    await t.waitFor(/> getrange k 0 1\n"he"\n.*>$/);
    await t.keys("INCRBY", "Tab");
    await t.waitFor(/> INCRBY key increment$/);
    await t.keys("Tab");
    await t.waitFor(/> INCRBYFLOAT key increment$/);
    await t.keys("C-u", "help @stri", "Tab");
    await t.waitFor(/> help @string$/);
    await t.keys("C-u");
    // Alt-b / Alt-f and Ctrl-Left / Ctrl-Right move by word.
    await t.keys("SET key value");
    await t.waitFor(/> SET key value/);
    const row = (await t.cursor())[1];
    await t.keys("M-b");
    await t.cursorAt(prompt.length + 8, row);
    await t.keys("M-b");
    await t.cursorAt(prompt.length + 4, row);
    await t.keys("M-f");
    await t.cursorAt(prompt.length + 7, row);
    await t.keys("C-Left", "C-Left");
    await t.cursorAt(prompt.length, row);
    await t.keys("C-Right");
    await t.cursorAt(prompt.length + 3, row);
    await t.keys("M-f", "2", "Enter");
    await t.waitFor(/> SET key2 value\nOK\n.*>$/);
    assert.equal(server.store.value("key2"), "value");
    // help @string lists the group's commands.
    await t.keys("help @string", "Enter");
    const screen = await t.waitFor(/STRLEN key\n\s*summary: [^\n]+\n\s*since:/);
    assert.match(
      screen,
      /SETRANGE key offset value\n {2}summary: Overwrite part of a string at key starting at the specified offset\n {2}since: 2\.2\.0\n/,
    );
    assert.doesNotMatch(screen, /HSET|No help/);
  },
});
