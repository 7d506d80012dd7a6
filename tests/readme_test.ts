// The README's TypeScript examples type-check, and those that need no
// server of their own run.

import assert from "node:assert/strict";
import { run } from "./_helpers.ts";

const README = new URL("../README.md", import.meta.url);
const MOD = new URL("../mod.ts", import.meta.url).href;

Deno.test("README: code examples type-check and run", {
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const md = await Deno.readTextFile(README);
  const blocks = [...md.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 4);
  const dir = await Deno.makeTempDir({ prefix: "kv-readme-" });
  try {
    for (const [i, block] of blocks.entries()) {
      const file = `${dir}/block${i}.ts`;
      await Deno.writeTextFile(
        file,
        "export {};\n" +
          block.replaceAll('"jsr:@kv/store"', JSON.stringify(MOD)),
      );
      const check = await run(Deno.execPath(), ["check", file]);
      assert.equal(check.code, 0, `block ${i}:\n${check.stderr}`);
      // Blocks that talk to a server on the default port are only checked.
      if (/Client\.connect\(\)/.test(block)) continue;
      const r = await run(Deno.execPath(), ["run", "-A", file]);
      assert.equal(r.code, 0, `block ${i}:\n${r.stderr}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
