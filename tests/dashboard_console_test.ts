// The dashboard console prints INFO and its kind line by line, as redis-cli
// does, not as one quoted string.

import assert from "node:assert/strict";
import { freePort, startServer } from "./_helpers.ts";

Deno.test({
  name: "dashboard console: INFO prints its lines as they are",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using server = await startServer({ httpPort: freePort() });
    const base = `http://127.0.0.1:${server.httpPort}`;
    const run = async (command: string) =>
      (await (await fetch(`${base}/api/command`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: base },
        body: JSON.stringify({ command }),
      })).json()).output as string;
    await run("SET k v");
    const info = await run("INFO keyspace");
    assert.ok(info.startsWith("# Keyspace\r\n"), JSON.stringify(info));
    assert.match(info, /\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n/);
    assert.ok(!info.includes('"'), "not quoted");
    // Other replies keep redis-cli's terminal form.
    assert.equal(await run("GET k"), '"v"\n');
  },
});
