// _net.ts: the server's reads and writes through Deno's ops on the
// connection's resource, and through the public methods when those ops are
// not at hand; both behave alike on a real loopback connection.

import assert from "node:assert/strict";
import { connectionIo } from "../_net.ts";
import { Conn, ServerProcess } from "./_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A connected pair on loopback: [server side, client side]. */
async function pair(): Promise<[Deno.TcpConn, Deno.TcpConn]> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const client = Deno.connect({
      hostname: "127.0.0.1",
      port: listener.addr.port,
    });
    const server = await listener.accept();
    return [server, await client];
  } finally {
    listener.close();
  }
}

Deno.test("net: this Deno gives the server its read and write ops", async () => {
  const [server, client] = await pair();
  try {
    // Deno 2.9.6, which the tasks pin: the direct path is the one served.
    assert.equal(connectionIo(server).direct, true);
    assert.equal(connectionIo(server, true).direct, false);
  } finally {
    server.close();
    client.close();
  }
});

for (const publicOnly of [false, true]) {
  const path = publicOnly ? "conn.read/conn.write" : "the ops";
  Deno.test(`net (${path}): reads, writes, the end of the stream and a closed connection`, async () => {
    const [server, client] = await pair();
    const io = connectionIo(server, publicOnly);
    try {
      await client.write(encoder.encode("PING\r\n"));
      const buf = new Uint8Array(64);
      const n = await io.read(buf);
      assert.equal(decoder.decode(buf.subarray(0, n ?? 0)), "PING\r\n");
      assert.equal(await io.write(encoder.encode("+PONG\r\n")), 7);
      const back = new Uint8Array(64);
      const m = await client.read(back);
      assert.equal(decoder.decode(back.subarray(0, m ?? 0)), "+PONG\r\n");
      // The client leaves: 0 or null, the end of the stream.
      client.close();
      const end = await io.read(buf);
      assert.ok(end === null || end === 0, String(end));
    } finally {
      try {
        client.close();
      } catch {
        // closed above
      }
    }
    // Closed on our side: a read fails rather than hanging.
    server.close();
    await assert.rejects(() => io.read(new Uint8Array(8)));
  });
}

Deno.test("net: KV_PUBLIC_NET=1 selects the public methods", async () => {
  const script = `
    import { connectionIo } from ${
    JSON.stringify(new URL("../_net.ts", import.meta.url).href)
  };
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const c = await Deno.connect({ hostname: "127.0.0.1", port: l.addr.port });
    const s = await l.accept();
    console.log(connectionIo(s).direct);
    s.close(); c.close(); l.close();`;
  for (const [value, direct] of [["1", "false"], ["0", "true"]]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", "--quiet", script],
      env: { KV_PUBLIC_NET: value },
    }).output();
    assert.equal(new TextDecoder().decode(out.stdout).trim(), direct);
  }
});

Deno.test("net: the server answers through the public methods too (KV_PUBLIC_NET=1)", async () => {
  Deno.env.set("KV_PUBLIC_NET", "1");
  let started: ServerProcess;
  try {
    started = await ServerProcess.start(["--save", ""]);
  } finally {
    Deno.env.delete("KV_PUBLIC_NET");
  }
  await using server = started;
  {
    using c = await Conn.open(server.port);
    assert.equal(await c.call("SET", "k", "v"), "OK");
    // Pipelined, and a reply larger than one read.
    const big = "x".repeat(100_000);
    const replies = await c.rawReplies(
      "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$100000\r\n" + big +
        "\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
      3,
    );
    assert.equal(replies, `+OK\r\n$100000\r\n${big}\r\n$1\r\nv\r\n`);
  }
});
