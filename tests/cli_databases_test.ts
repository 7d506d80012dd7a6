// Numbered databases in `kv cli`, beside redis-cli against the same server:
// the prompt's [n] after SELECT and with -n (and (TX) after MULTI, which
// takes a queued SELECT's database back on DISCARD or a failed EXEC), a
// SELECT out of range, the database selected again after AUTH and after
// the server restarts, -n and redis://host:port/n with one-shot commands,
// --scan, --eval, SUBSCRIBE and batches.

import assert from "node:assert/strict";
import { has, run, startServer } from "./_helpers.ts";
import { kv, kvCli, Streaming, Terminal, twin } from "./_cli.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const hasCli = has("redis-cli");

/** `text` as a pattern that matches it literally. */
const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** `expected` as a pattern for the end of the screen, `%` standing for
 * the prompt's `127.0.0.1:port`. */
const ending = (port: number, expected: string) =>
  new RegExp(
    literal(expected).replaceAll("%", `127\\.0\\.0\\.1:${port}`) + "$",
  );

/** `twin` with each step's expected screen ending as text (see
 * `ending`). */
const twinText = (
  port: number,
  flags: string,
  start: RegExp,
  steps: [string, string][],
  between: Record<number, () => Promise<void>> = {},
) =>
  twin(
    port,
    flags,
    start,
    steps.map(([line, expected]) => [line, ending(port, expected)]),
    between,
  );

Deno.test({
  name:
    "kv cli databases: the prompt after SELECT, MULTI, DISCARD, EXEC and RESET (as redis-cli)",
  ignore: !has("tmux") || !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    server.db(3).set("k", "v3");
    server.db(2).set("k", "v2");
    const [ours, theirs] = await twinText(server.port, "-n 3", /\[3\]>$/, [
      ["GET k", 'GET k\n"v3"\n%[3]>'],
      ["SELECT 99", "SELECT 99\n(error) ERR DB index is out of range\n%[3]>"],
      [
        "SELECT x",
        "(error) ERR value is not an integer or out of range\n%[3]>",
      ],
      ["MULTI", "MULTI\nOK\n%[3](TX)>"],
      ["SELECT 2", "SELECT 2\nQUEUED\n%[2](TX)>"],
      ["GET k", "GET k\nQUEUED\n%[2](TX)>"],
      ["EXEC", 'EXEC\n1) OK\n2) "v2"\n%[2]>'],
      ["MULTI", "MULTI\nOK\n%[2](TX)>"],
      ["SELECT 5", "SELECT 5\nQUEUED\n%[5](TX)>"],
      ["DISCARD", "DISCARD\nOK\n%[2]>"],
      ["MULTI", "MULTI\nOK\n%[2](TX)>"],
      ["SELECT 4", "SELECT 4\nQUEUED\n%[4](TX)>"],
      ["NOSUCH", "%[4](TX)>"],
      [
        "EXEC",
        "EXEC\n(error) EXECABORT Transaction discarded because of previous errors.\n%[2]>",
      ],
      ["RESET", "RESET\nRESET\n%>"],
      ["SELECT 3", "SELECT 3\nOK\n%[3]>"],
      ["SELECT 0", "SELECT 0\nOK\n%>"],
    ]);
    assert.match(ours, /\(TX\)> SELECT 2\nQUEUED\n/);
    assert.equal(ours, theirs);
  },
});

Deno.test({
  name:
    "kv cli databases: -n out of range prints SELECT n failed and stays in 0 (as redis-cli)",
  ignore: !has("tmux") || !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    server.store.set("k", "v0");
    const start =
      /SELECT 99 failed: ERR DB index is out of range\n127\.0\.0\.1:\d+>$/;
    const [ours, theirs] = await twinText(server.port, "-n 99", start, [
      ["GET k", 'GET k\n"v0"\n%>'],
      ["SELECT 1", "SELECT 1\nOK\n%[1]>"],
    ]);
    assert.equal(ours, theirs);
  },
});

Deno.test({
  name:
    "kv cli databases: AUTH at the prompt selects the -n database a failed AUTH kept out (as redis-cli)",
  ignore: !has("tmux") || !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer({ requirepass: "pw" });
    server.db(3).set("k", "v3");
    const [ours, theirs] = await twinText(
      server.port,
      "--no-auth-warning -a wrong -n 3",
      /AUTH failed: WRONGPASS.*\n127\.0\.0\.1:\d+>$/,
      [
        ["GET k", "(error) NOAUTH Authentication required.\n%>"],
        [
          "AUTH nope",
          "(error) WRONGPASS invalid username-password pair or user is disabled.\n" +
          "SELECT 3 failed: NOAUTH Authentication required.\n%>",
        ],
        ["AUTH pw", "AUTH pw\nOK\n%[3]>"],
        ["GET k", 'GET k\n"v3"\n%[3]>'],
      ],
    );
    assert.doesNotMatch(ours, /SELECT 3 failed: NOAUTH.*\n.*\n.*GET k/);
    assert.equal(ours, theirs);
  },
});

Deno.test({
  name:
    "kv cli databases: after the server restarts, the prompt keeps [3] (as redis-cli) and the database is selected again",
  ignore: !has("tmux") || !hasCli,
  ...opts,
  async fn() {
    let server = await startServer();
    const port = server.port;
    try {
      const restart = async () => {
        await server.close();
        server = await startServer({ port });
      };
      const [ours, theirs] = await twinText(port, "", /127\.0\.0\.1:\d+>$/, [
        ["SELECT 3", "SELECT 3\nOK\n%[3]>"],
        ["PING", "PING\nPONG\n%[3]>"],
        [
          "PING",
          "PING\nError: Server closed the connection\nnot connected>",
        ],
        ["SET k after", "not connected> SET k after\nOK\n%[3]>"],
      ], {
        // After the first PING of each: the server restarts.
        1: restart,
      });
      assert.equal(ours, theirs);
      // kv cli wrote in database 3. (redis-cli 7.0.15 shows [3] too but
      // does not send SELECT again when the connection was lost, so its SET
      // goes to database 0 of the new connection.)
      assert.equal(server.db(3).value("k"), "after");
      // kv cli alone, started with -n 4: its write after a restart lands
      // in database 4.
      await using t = await Terminal.open(kvCli(`-p ${port} -n 4`));
      await t.waitFor(/\[4\]>$/);
      await restart();
      await t.keys("PING", "Enter");
      await t.waitFor(/Error: Server closed the connection\nnot connected>$/);
      await t.keys("SET only kv", "Enter");
      await t.waitFor(
        /not connected> SET only kv\nOK\n127\.0\.0\.1:\d+\[4\]>$/,
      );
      assert.equal(server.db(4).value("only"), "kv");
      assert.equal(server.store.value("only"), undefined);
    } finally {
      await server.close();
    }
  },
});

Deno.test({
  name:
    "kv cli databases: -n and /db with one-shot commands, --scan, --eval and batches (as redis-cli)",
  ignore: !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    const p = String(server.port);
    server.store.set("k", "v0");
    server.db(2).set("k", "v2");
    server.db(3).set("k", "v3");
    server.db(3).set("only3", "x");
    const script = await Deno.makeTempFile({ suffix: ".lua" });
    try {
      await Deno.writeTextFile(script, "return redis.call('GET', KEYS[1])");
      const batch = "GET k\nSELECT 2\nGET k\nSELECT 99\nGET k\n" +
        "SELECT x\nMULTI\nSELECT 0\nEXEC\nGET k\nSELECT 3\nGET k\n";
      const cases: [string[], string?][] = [
        [["-n", "3", "GET", "k"]],
        [["-n", "3", "--no-raw", "GET", "k"]],
        [["-u", `redis://127.0.0.1:${p}/3`, "GET", "k"]],
        [["-u", `redis://127.0.0.1:${p}/99`, "GET", "k"]],
        [["-n", "99", "GET", "k"]],
        [["-n", "-1", "--no-raw", "GET", "k"]],
        [["-n", "3", "--scan"]],
        [["-n", "3", "--scan", "--pattern", "only*"]],
        [["-n", "99", "--scan"]],
        [["-n", "3", "--eval", script, "k"]],
        [["-n", "99", "--eval", script, "k"]],
        [["-n", "3", "-r", "2", "GET", "k"]],
        [["-n", "3", "-x", "SET", "fromstdin"], "piped"],
        [["-n", "3"], batch],
        [["-n", "3", "--no-raw"], batch],
        [["-n", "99"], "GET k\n"],
      ];
      for (const [args, stdin] of cases) {
        const full = ["-p", p, ...args];
        const redis = await run("redis-cli", full, { stdin });
        const ours = await kv(full, { stdin });
        assert.deepEqual(
          [ours.code, ours.stdout, ours.stderr],
          [redis.code, redis.stdout, redis.stderr],
          args.join(" "),
        );
      }
      assert.equal(server.db(3).value("fromstdin"), "piped");
      // The outputs themselves, for the record.
      assert.equal((await kv(["-p", p, "-n", "3", "GET", "k"])).stdout, "v3\n");
      const failed = await kv(["-p", p, "-n", "99", "--scan"]);
      assert.deepEqual([failed.code, failed.stdout, failed.stderr], [
        1,
        "",
        "SELECT 99 failed: ERR DB index is out of range\n",
      ]);
      assert.equal(
        (await kv(["-p", p, "-n", "3"], { stdin: batch })).stdout,
        "v3\nOK\nv2\nERR DB index is out of range\n\nv2\n" +
          "ERR value is not an integer or out of range\n\n" +
          "OK\nQUEUED\nOK\nv0\nOK\nv3\n",
      );
    } finally {
      await Deno.remove(script);
    }
  },
});

Deno.test({
  name:
    "kv cli databases: a failed SELECT (or AUTH) is printed and stops HELLO 3; --scan exits 1 (as redis-cli)",
  ignore: !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer({ requirepass: "pw" });
    const p = String(server.port);
    server.store.set("k", "v0");
    const auth = ["-p", p, "--no-auth-warning", "-a"];
    for (const db of ["0", "3"]) {
      await run("redis-cli", [...auth, "pw", "-n", db, "HSET", "h", "f", db]);
    }
    for (
      const args of [
        // RESP2 after the failed SELECT: HGETALL prints 1) 2), not 1#.
        [...auth, "pw", "-n", "99", "-3", "--no-raw", "HGETALL", "h"],
        [...auth, "pw", "-n", "3", "-3", "--no-raw", "HGETALL", "h"],
        [...auth, "pw", "-n", "99", "--no-raw", "HGETALL", "h"],
        [...auth, "wrong", "-n", "3", "--scan"],
        [...auth, "pw", "-n", "3", "--scan"],
      ]
    ) {
      const redis = await run("redis-cli", args);
      const ours = await kv(args);
      assert.deepEqual(
        [ours.code, ours.stdout, ours.stderr],
        [redis.code, redis.stdout, redis.stderr],
        args.join(" "),
      );
    }
    // A failed AUTH: no SELECT is tried. (The exit status differs on
    // purpose: 1 for the error reply, where redis-cli exits 0.)
    const args = [...auth, "wrong", "-n", "3", "--no-raw", "GET", "k"];
    const redis = await run("redis-cli", args);
    const ours = await kv(args);
    assert.deepEqual([ours.stdout, ours.stderr], [redis.stdout, redis.stderr]);
    assert.deepEqual([ours.code, ours.stdout, ours.stderr], [
      1,
      "(error) NOAUTH Authentication required.\n",
      "AUTH failed: WRONGPASS invalid username-password pair or user is disabled.\n",
    ]);
  },
});

/** What a streaming command printed until its output ends with `until`
 * (then it is stopped). */
async function streamed(
  s: Streaming,
  until: string,
): Promise<{ stdout: string; stderr: string }> {
  try {
    await s.waitFor(new RegExp(literal(until) + "$"));
  } finally {
    await s.end("SIGKILL");
  }
  return { stdout: s.stdout, stderr: s.stderr };
}

Deno.test({
  name:
    "kv cli databases: SUBSCRIBE with -n out of range prints SELECT n failed and subscribes (as redis-cli)",
  ignore: !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    const args = ["-p", String(server.port), "-n", "99", "SUBSCRIBE", "ch"];
    const until = "subscribe\nch\n1\n";
    const redis = await streamed(new Streaming("redis-cli", args), until);
    const ours = await streamed(Streaming.kv(args), until);
    assert.deepEqual(ours, redis);
    assert.deepEqual(ours, {
      stdout: until,
      stderr: "SELECT 99 failed: ERR DB index is out of range\n",
    });
  },
});
