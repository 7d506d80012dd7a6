// A command handler's mistake (a reply writer given a value it cannot
// encode, or any exception) becomes an error reply to that client: the
// partial reply is dropped, the connection goes on, and the server logs it.

import assert from "node:assert/strict";
import { Conn, startServer } from "./_helpers.ts";
import { Client } from "../client.ts";
import { ReplyError } from "../protocol.ts";
import type { Session } from "../commands.ts";
import { ReplyWriter } from "../protocol.ts";

const opts = { sanitizeResources: false, sanitizeOps: false };

Deno.test(
  "the README's DOUBLE command answers an error for a non-integer, and the connection goes on",
  opts,
  async () => {
    const lines: string[] = [];
    await using server = await startServer({
      logSink: (line) => lines.push(line),
    });
    // As README's "Run and extend the server from code".
    server.addCommand({
      name: "DOUBLE",
      arity: 2,
      flags: ["write"],
      keys: [1, 1, 1],
      summary: "Doubles the integer at key",
      handler: (s, argv) => {
        const n = Number(s.store.get(argv[1]) ?? "0") * 2;
        s.store.set(argv[1], String(n));
        s.out.int(n);
      },
    });
    await using client = await Client.connect({ port: server.port });
    await client.set("n", "21");
    assert.equal(await client.execute("DOUBLE", "n"), 42);
    await client.set("n", "twenty-one");
    await assert.rejects(
      () => client.execute("DOUBLE", "n"),
      (e: unknown) => {
        assert.ok(e instanceof ReplyError, String(e));
        assert.match(e.message, /^ERR /);
        assert.match(e.message, /'double'/);
        assert.match(e.message, /NaN/);
        return true;
      },
    );
    // The same connection still works.
    assert.equal(await client.execute("PING"), "PONG");
    assert.equal(await client.execute("DOUBLE", "missing"), 0);
    assert.ok(
      lines.some((l) => /double/i.test(l) && /NaN/.test(l)),
      `logged: ${lines.join("")}`,
    );
  },
);

/** Commands whose handlers write a reply and then make a mistake. */
const BROKEN: Record<string, (s: Session) => void> = {
  "INT-FRACTION": (s) => s.out.int(1.5),
  "INT-INFINITY": (s) => s.out.int(-Infinity),
  "INT-HUGE": (s) => s.out.int(1e21),
  "INT-STRING": (s) => s.out.int("7" as unknown as number),
  "BULK-NUMBER": (s) => s.out.bulk(42 as unknown as string),
  "BULK-UNDEFINED": (s) => s.out.bulk(undefined as unknown as string),
  "BULK-WIDE": (s) => s.out.bulk("日本"),
  "ARRAY-NEGATIVE": (s) => s.out.array(-2),
  "ARRAY-FRACTION": (s) => s.out.array(1.5),
  "MAP-NAN": (s) => s.out.map(NaN),
  "PARTIAL": (s) => {
    s.out.array(3);
    s.out.bulk("a");
    s.out.int(2);
    s.out.int(NaN);
  },
  "THROWS": () => {
    throw new TypeError("cannot read properties of undefined (reading 'x')");
  },
  "THROWS-VALUE": () => {
    throw "a string, not an Error";
  },
};

Deno.test(
  "reply writers refuse values they cannot encode; any exception becomes an error reply",
  opts,
  async () => {
    const lines: string[] = [];
    await using server = await startServer({
      logSink: (line) => lines.push(line),
    });
    for (const [name, handler] of Object.entries(BROKEN)) {
      server.addCommand({ name, arity: 1, handler });
    }
    const c = await Conn.open(server.port);
    try {
      for (const name of Object.keys(BROKEN)) {
        const raw = await c.rawReplies(`${name}\r\n`);
        assert.match(
          raw,
          new RegExp(
            `^-ERR [^\\r\\n]*'${name.toLowerCase()}'[^\\r\\n]*\\r\\n$`,
          ),
          `${name}: ${JSON.stringify(raw)}`,
        );
        // The connection goes on.
        assert.equal(await c.rawReplies("PING\r\n"), "+PONG\r\n");
      }
      const raw = (name: string) => c.rawReplies(`${name}\r\n`);
      assert.match(await raw("INT-FRACTION"), /1\.5/);
      assert.match(await raw("INT-INFINITY"), /-Infinity/);
      assert.match(await raw("BULK-NUMBER"), /42/);
      assert.match(await raw("THROWS"), /cannot read properties/);
      assert.match(await raw("THROWS-VALUE"), /a string, not an Error/);
      // Inside MULTI ... EXEC: one error among the replies.
      assert.equal(
        await c.rawReplies(
          "MULTI\r\nSET k v\r\nPARTIAL\r\nGET k\r\nEXEC\r\n",
          5,
        ).then((r) => r.replace(/-ERR [^\r]*\r\n/, "-ERR ...\r\n")),
        "+OK\r\n+QUEUED\r\n+QUEUED\r\n+QUEUED\r\n*3\r\n+OK\r\n-ERR ...\r\n$1\r\nv\r\n",
      );
      // Counted as errors, as CommandError replies are.
      const info = await c.call("INFO", "errorstats") as string;
      assert.match(info, /errorstat_ERR:count=\d+/);
      // From a script: redis.pcall sees an error, redis.call raises it.
      assert.match(
        String(await c.call("EVAL", "return redis.pcall('THROWS')", "0")),
        /cannot read properties/,
      );
      assert.equal(await c.call("PING"), "PONG");
    } finally {
      c.conn.close();
    }
    assert.ok(
      lines.some((l) => /throws/i.test(l) && /cannot read properties/.test(l)),
      `logged: ${lines.join("")}`,
    );
  },
);

Deno.test("ReplyWriter: well-formed values are written as before", () => {
  const w = new ReplyWriter();
  w.int(0);
  w.int(7);
  w.int(-3);
  w.int(12345678901);
  w.int(-(2 ** 53));
  w.int(9007199254740993n);
  w.int(-0);
  w.bulk("ab\xff");
  w.bulk("x".repeat(300) + "\xe9");
  w.array(0);
  w.map(2);
  assert.equal(
    new TextDecoder("latin1").decode(w.bytes()),
    ":0\r\n:7\r\n:-3\r\n:12345678901\r\n:-9007199254740992\r\n" +
      ":9007199254740993\r\n:0\r\n$3\r\nab\xff\r\n" +
      `$301\r\n${"x".repeat(300)}\xe9\r\n*0\r\n*4\r\n`,
  );
  // A refused value leaves the writer as it was.
  const before = w.length;
  assert.throws(() => w.int(NaN), TypeError);
  assert.throws(() => w.bulk("x".repeat(400) + "✓"), TypeError);
  assert.equal(w.length, before);
});
