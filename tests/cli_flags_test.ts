// `kv cli` flags redis-cli users reach for (-u, -n, -x, -r, -i, --scan,
// REDISCLI_AUTH, -e), compared with redis-cli against the same server.

import assert from "node:assert/strict";
import { has, run, startServer } from "./_helpers.ts";
import { kv } from "./_cli.ts";
import { type CliOptions, parseCliArgs, parseRedisUri } from "../cli.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

/** Runs the same arguments through redis-cli and kv cli. */
async function both(
  args: string[],
  options: { stdin?: string; env?: Record<string, string> } = {},
) {
  const redis = await run("redis-cli", args, options);
  const ours = await kv(args, options);
  return { redis, ours };
}

Deno.test("cli arguments: -u URIs, -n, -r, -i, -x, --scan, -e", () => {
  const parse = (uri: string) => {
    const o = { host: "127.0.0.1", port: 31337, db: 0 } as CliOptions;
    parseRedisUri(uri, o);
    return [o.host, o.port, o.user, o.password, o.db];
  };
  assert.deepEqual(parse("redis://example.com:7000/2"), [
    "example.com",
    7000,
    undefined,
    undefined,
    2,
  ]);
  assert.deepEqual(parse("redis://u:p%40ss@h"), ["h", 31337, "u", "p@ss", 0]);
  assert.deepEqual(parse("redis://:pw@127.0.0.1:6379"), [
    "127.0.0.1",
    6379,
    undefined,
    "pw",
    0,
  ]);
  assert.deepEqual(parse("REDIS://[::1]:7/"), [
    "::1",
    7,
    undefined,
    undefined,
    0,
  ]);
  assert.throws(() => parse("http://x"), /Invalid URI scheme/);
  assert.throws(() => parse("rediss://x"), /TLS/);
  const { options, command } = parseCliArgs([
    "-n",
    "3",
    "-r",
    "-1",
    "-i",
    "0.5",
    "-x",
    "-e",
    "--scan",
    "--pattern",
    "a*",
    "--count",
    "5",
    "SET",
    "k",
  ]);
  assert.deepEqual(
    [
      options.db,
      options.repeat,
      options.interval,
      options.stdinLastArg,
      options.strict,
      options.scan,
      options.pattern,
      options.count,
    ],
    [3, -1, 0.5, true, true, true, "a*", 5],
  );
  assert.deepEqual(command, ["SET", "k"]);
  assert.throws(() => parseCliArgs(["-n", "x"]), /-n needs an integer/);
  assert.throws(() => parseCliArgs(["-i", "soon"]), /-i needs a number/);
});

Deno.test("kv cli --help lists every flag", opts, async () => {
  const r = await kv(["--help"]);
  assert.equal(r.code, 0);
  for (
    const flag of [
      "-h, --host",
      "-p, --port",
      "-u <uri>",
      "-a, --pass",
      "--user",
      "-n <db>",
      "-2 ",
      "-3, --resp3",
      "-x ",
      "-r <repeat>",
      "-i <interval>",
      "--scan",
      "--pattern",
      "--count",
      "-e ",
      "--raw",
      "--no-raw",
      "--csv",
      "--eval",
      "--no-auth-warning",
      "--help",
    ]
  ) assert.ok(r.stdout.includes(`  ${flag}`), `--help lists ${flag}`);
  assert.match(r.stdout, /REDISCLI_AUTH/);
});

Deno.test({
  name: "kv cli: -u, REDISCLI_AUTH and -n as redis-cli",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer({ requirepass: "pw" });
    const p = server.port;
    for (
      const args of [
        ["-u", `redis://default:pw@127.0.0.1:${p}/0`, "PING"],
        [
          "-u",
          `redis://default:pw@127.0.0.1:${p}`,
          "--no-auth-warning",
          "PING",
        ],
        ["-u", `redis://default:nope@127.0.0.1:${p}`, "PING"],
        ["-p", String(p), "-a", "pw", "--no-auth-warning", "-n", "1", "PING"],
        ["-p", String(p), "-a", "pw", "--no-auth-warning", "-n", "0", "PING"],
      ]
    ) {
      const { redis, ours } = await both(args);
      assert.deepEqual(
        [ours.stdout, ours.stderr],
        [redis.stdout, redis.stderr],
        args.join(" "),
      );
    }
    // Database 99 does not exist (16 here): Redis's error from SELECT.
    const { ours } = await both([
      "-p",
      String(p),
      "-a",
      "pw",
      "-n",
      "99",
      "GET",
      "k",
    ]);
    assert.match(
      ours.stderr,
      /^SELECT 99 failed: ERR DB index is out of range$/m,
    );
    // The password from the environment, with no warning.
    const env = { REDISCLI_AUTH: "pw" };
    const r = await both(["-p", String(p), "PING"], { env });
    assert.deepEqual([r.ours.code, r.ours.stdout, r.ours.stderr], [
      0,
      "PONG\n",
      "",
    ]);
    assert.deepEqual([r.ours.stdout, r.ours.stderr], [
      r.redis.stdout,
      r.redis.stderr,
    ]);
    // -a wins over the environment.
    const wrong = await kv(["-p", String(p), "-a", "pw", "PING"], {
      env: { REDISCLI_AUTH: "nope" },
    });
    assert.equal(wrong.stdout, "PONG\n");
  },
});

Deno.test({
  name: "kv cli: -x, -r, -i, --scan --pattern as redis-cli",
  ignore: !has("redis-cli"),
  ...opts,
  async fn() {
    await using server = await startServer();
    const p = ["-p", String(server.port)];
    // -x: the last argument is all of stdin, newline included.
    let r = await both([...p, "-x", "SET", "k"], { stdin: "hello\nworld\n" });
    assert.deepEqual([r.ours.code, r.ours.stdout], [0, r.redis.stdout]);
    assert.equal(server.store.value("k"), "hello\nworld\n");
    // -r: repeated; -i: with a pause between runs.
    r = await both([...p, "-r", "3", "INCR", "n"]);
    assert.equal(r.redis.stdout, "1\n2\n3\n");
    r.redis = await run("redis-cli", [...p, "GET", "n"]);
    assert.equal(r.ours.stdout, "4\n5\n6\n");
    r = await both([...p, "-r", "2", "-i", "0.05", "--no-raw", "PING"]);
    assert.deepEqual([r.ours.code, r.ours.stdout], [0, r.redis.stdout]);
    // --scan: every key, one a line, raw or quoted.
    for (let i = 0; i < 30; i++) {
      server.store.set(`user:${i}`, "x");
      server.store.set(`other:${i}`, "y");
    }
    server.store.set("user:\xff\n", "z");
    for (
      const flags of [
        ["--scan"],
        ["--scan", "--pattern", "user:*"],
        ["--scan", "--pattern", "user:2*", "--no-raw"],
        ["--scan", "--pattern", "*\n", "--no-raw"],
      ]
    ) {
      r = await both([...p, ...flags]);
      assert.deepEqual(
        [r.ours.code, r.ours.stdout],
        [r.redis.code, r.redis.stdout],
        flags.join(" "),
      );
    }
    assert.equal(r.ours.stdout, '"user:\\xff\\n"\n');
    // --count (which redis-cli 7.0 lacks) changes the SCAN calls only.
    const counted = await kv([
      ...p,
      "--scan",
      "--pattern",
      "user:1*",
      "--count",
      "3",
    ]);
    assert.deepEqual(
      counted.stdout.split("\n").filter(Boolean).sort(),
      ["user:1", ...Array.from({ length: 10 }, (_, i) => `user:1${i}`)],
    );
  },
});
