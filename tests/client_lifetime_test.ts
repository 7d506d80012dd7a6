// A Client left open does not keep the process alive once it is idle; a
// command in flight or a subscription does.

import assert from "node:assert/strict";
import { startServer } from "./_helpers.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MOD = new URL("../mod.ts", import.meta.url).href;

async function runScript(code: string, ms: number): Promise<number | null> {
  const dir = await Deno.makeTempDir({ prefix: "kv-lifetime-" });
  try {
    const file = `${dir}/script.ts`;
    await Deno.writeTextFile(file, code);
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", file],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // exited
      }
    }, ms);
    const status = await child.status;
    clearTimeout(timer);
    return status.signal === null ? status.code : null;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "client: a script that never closes its client still exits",
  ...opts,
  async fn() {
    await using server = await startServer();
    const code = `import { Client } from ${JSON.stringify(MOD)};
const client = await Client.connect({ port: ${server.port} });
await client.set("k", "v");
if (await client.get("k") !== "v") Deno.exit(3);
`;
    assert.equal(await runScript(code, 20_000), 0);
  },
});

Deno.test({
  name: "client: a subscriber keeps the process alive; a blocked command too",
  ...opts,
  async fn() {
    await using server = await startServer();
    const sub = `import { Client } from ${JSON.stringify(MOD)};
const client = await Client.connect({ port: ${server.port} });
await client.subscribe("ch", () => {});
`;
    // Killed after 2 s: it was still waiting for messages.
    assert.equal(await runScript(sub, 2_000), null);
    const blocked = `import { Client } from ${JSON.stringify(MOD)};
const client = await Client.connect({ port: ${server.port} });
const r = await client.blpop(["q"], 1);
Deno.exit(r === null ? 0 : 3);
`;
    // BLPOP's one-second wait keeps it alive until the timeout answers.
    assert.equal(await runScript(blocked, 20_000), 0);
  },
});
