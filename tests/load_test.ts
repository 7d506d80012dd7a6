// Load: thousands of idle connections do not slow the others down. (The
// memory fill and eviction scenarios are in eviction_test.ts.)

import assert from "node:assert/strict";
import { Conn, startServer } from "./_helpers.ts";

const CONNECTIONS = 5000;

/** The process's open file limit, as a shell started by it sees it. */
async function fileLimit(): Promise<number> {
  const out = await new Deno.Command("sh", {
    args: ["-c", "ulimit -n"],
    stdout: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  return text === "unlimited" ? Infinity : Number(text);
}

// Both ends live in this process: two descriptors per connection.
const limit = await fileLimit();
const enough = limit >= 2 * CONNECTIONS + 500;

Deno.test({
  name: `load: ${CONNECTIONS} idle connections, PING stays fast`,
  ignore: !enough,
  async fn() {
    await using server = await startServer({ maxclients: CONNECTIONS + 100 });
    const idle: Deno.TcpConn[] = [];
    try {
      for (let i = 0; i < CONNECTIONS; i += 250) {
        const batch = await Promise.all(
          Array.from(
            { length: Math.min(250, CONNECTIONS - i) },
            () => Deno.connect({ hostname: "127.0.0.1", port: server.port }),
          ),
        );
        idle.push(...batch);
      }
      // Every one is accepted (the server counts them once they arrive).
      const deadline = Date.now() + 20000;
      while (server.clientCount < CONNECTIONS && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(server.clientCount, CONNECTIONS);
      const c = await Conn.open(server.port);
      try {
        const times: number[] = [];
        for (let i = 0; i < 500; i++) {
          const t = performance.now();
          assert.equal(await c.call("PING"), "PONG");
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        const p50 = times[250];
        const p99 = times[495];
        console.log(
          `${CONNECTIONS} idle connections: PING p50 ${p50.toFixed(3)} ms, ` +
            `p99 ${p99.toFixed(3)} ms`,
        );
        assert.ok(p50 < 5, `p50 ${p50} ms`);
        assert.ok(p99 < 50, `p99 ${p99} ms`);
        // Some of the idle ones wake up and are answered too.
        for (let i = 0; i < CONNECTIONS; i += 500) {
          const conn = new Conn(idle[i]);
          assert.equal(await conn.call("PING"), "PONG");
        }
        const info = String(await c.call("INFO", "clients"));
        assert.match(info, new RegExp(`connected_clients:${CONNECTIONS + 1}`));
        // Their buffers count in used_memory (the cron sums them).
        await new Promise((r) => setTimeout(r, 250));
        const mem = String(await c.call("INFO", "memory"));
        const clients = Number(/mem_clients_normal:(\d+)/.exec(mem)![1]);
        assert.ok(clients >= CONNECTIONS * 1024, `clients ${clients}`);
      } finally {
        c.close();
      }
    } finally {
      for (const conn of idle) {
        try {
          conn.close();
        } catch {
          // closed
        }
      }
    }
  },
});

if (!enough) {
  console.warn(
    `load_test: skipped, the open file limit (${limit}) is below ` +
      `${2 * CONNECTIONS + 500}; raise it with ulimit -n`,
  );
}
