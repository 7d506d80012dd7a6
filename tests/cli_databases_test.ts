// Numbered databases in `kv cli`, beside redis-cli against the same server:
// the prompt's [n] after SELECT and with -n (and (TX) after MULTI, which
// takes a queued SELECT's database back on DISCARD or a failed EXEC), a
// SELECT out of range, the database selected again after AUTH and after
// the server restarts, -n and redis://host:port/n with one-shot commands,
// --scan, --eval, SUBSCRIBE and batches.

import assert from "node:assert/strict";
import { decoder, has, run, startServer } from "./_helpers.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };
const MAIN = new URL("../main.ts", import.meta.url).pathname;
const hasCli = has("redis-cli");

const kvCli = (args: string) => `${Deno.execPath()} run -A ${MAIN} cli ${args}`;

/** A terminal on a tmux server of its own, running one program (as in
 * cli_session_test.ts). */
class Terminal implements AsyncDisposable {
  constructor(readonly socket: string, readonly home: string) {}

  static async open(command: string): Promise<Terminal> {
    const socket = `kv-cli-db-${Deno.pid}-${crypto.randomUUID()}`;
    const home = await Deno.makeTempDir({ prefix: "kv-home-" });
    const t = new Terminal(socket, home);
    await t.tmux(
      "new-session",
      "-d",
      "-s",
      "t",
      "-x",
      "120",
      "-y",
      "60",
      "-e",
      `HOME=${home}`,
      command,
    );
    return t;
  }

  tmux(...args: string[]) {
    return run("tmux", ["-L", this.socket, ...args]);
  }

  async keys(...keys: string[]): Promise<void> {
    await this.tmux("send-keys", "-t", "t", ...keys);
  }

  async screen(): Promise<string> {
    return (await this.tmux("capture-pane", "-p", "-t", "t")).stdout.trimEnd();
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

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server");
    await Deno.remove(this.home, { recursive: true }).catch(() => {});
  }
}

/** kv cli and redis-cli with the same flags against `port`: each line is
 * typed into both, then both screens must match `pattern` (the prompt
 * written `%`, for `127.0.0.1:PORT`). `between` runs after a step named
 * by its index. Resolves with both screens. */
async function twin(
  port: number,
  flags: string,
  start: RegExp,
  steps: [string, string][],
  between: Record<number, () => Promise<void>> = {},
): Promise<[string, string]> {
  await using a = await Terminal.open(kvCli(`-p ${port} ${flags}`));
  await using b = await Terminal.open(`redis-cli -p ${port} ${flags}`);
  for (const t of [a, b]) await t.waitFor(start);
  for (const [i, [line, expected]] of steps.entries()) {
    const pattern = new RegExp(
      expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll(
        "%",
        `127\\.0\\.0\\.1:${port}`,
      ) + "$",
    );
    await a.keys(line, "Enter");
    await a.waitFor(pattern);
    await b.keys(line, "Enter");
    await b.waitFor(pattern);
    await between[i]?.();
  }
  return [await a.screen(), await b.screen()];
}

Deno.test({
  name:
    "kv cli databases: the prompt after SELECT, MULTI, DISCARD, EXEC and RESET (as redis-cli)",
  ignore: !has("tmux") || !hasCli,
  ...opts,
  async fn() {
    await using server = await startServer();
    server.db(3).set("k", "v3");
    server.db(2).set("k", "v2");
    const [ours, theirs] = await twin(server.port, "-n 3", /\[3\]>$/, [
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
    const [ours, theirs] = await twin(server.port, "-n 99", start, [
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
    const [ours, theirs] = await twin(
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
      const [ours, theirs] = await twin(port, "", /127\.0\.0\.1:\d+>$/, [
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

function kv(args: string[], stdin?: string) {
  return run(Deno.execPath(), ["run", "-A", MAIN, "cli", ...args], { stdin });
}

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
        const ours = await kv(full, stdin);
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
        (await kv(["-p", p, "-n", "3"], batch)).stdout,
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

/** Runs a streaming command until its output contains `until`, then stops
 * it; resolves with what it printed. */
async function streamed(
  cmd: string,
  args: string[],
  until: string,
): Promise<{ stdout: string; stderr: string }> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
  }, 20_000);
  let stdout = "";
  const errText = new Response(child.stderr).text();
  try {
    const reader = child.stdout.getReader();
    while (!stdout.includes(until)) {
      const { value, done } = await reader.read();
      if (done) break;
      stdout += decoder.decode(value);
    }
    reader.releaseLock();
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // exited
    }
    await child.status;
  }
  await child.stdout.cancel().catch(() => {});
  return { stdout, stderr: await errText };
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
    const redis = await streamed("redis-cli", args, until);
    const ours = await streamed(
      Deno.execPath(),
      ["run", "-A", MAIN, "cli", ...args],
      until,
    );
    assert.deepEqual(ours, redis);
    assert.deepEqual(ours, {
      stdout: until,
      stderr: "SELECT 99 failed: ERR DB index is out of range\n",
    });
  },
});
