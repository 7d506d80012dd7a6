// Takes the README's dashboard screenshot (docs/dashboard.png): a server
// with some data, a few minutes of varied load from redis-benchmark, then
// Debian's Chromium through playwright-core. Run:
//   deno run -A tools/screenshot.ts [seconds-of-load]
import { launchChromium } from "./_browser.ts";
import { Server } from "../server.ts";
import { freePort } from "./_processes.ts";

const seconds = Number(Deno.args[0] ?? 120);
const dir = await Deno.makeTempDir({ prefix: "kv-shot-" });
const server = new Server({
  port: freePort(),
  httpPort: freePort(),
  dir,
  save: [],
  logSink: () => {},
});
await server.listen();
const s = server.store;
const players = ["ada", "grace", "linus", "ken", "barbara", "edsger", "alan"];
s.zsets.zadd(
  "leaderboard",
  players.map((p, i) => [p, 1200 + ((i * 7919) % 900)] as [string, number]),
);
s.hashes.hset("profile:ada", [
  ["name", "Ada Lovelace"],
  ["lang", "en"],
  ["visits", "42"],
]);
s.lists.rpush("queue:mail", ["welcome:17", "digest:3", "reset:9"]);
s.sets.sadd("tags", ["redis", "deno", "typescript"]);
for (let i = 0; i < 5; i++) {
  s.streams.xadd("events", ["type", i % 2 ? "login" : "click", "user", `${i}`]);
}

for (let i = 1; i <= 24; i++) {
  s.set(
    `user:${i}`,
    JSON.stringify({ name: `user ${i}`, plan: i % 3 ? "free" : "pro" }),
  );
}
for (let i = 1; i <= 12; i++) {
  s.set(`session:${crypto.randomUUID().slice(0, 8)}`, "token", {
    expireAt: Date.now() + i * 600_000,
  });
}
s.set("visits", "48213");
s.set("config:theme", "dark");
s.set("cache:/home", "<html>…</html>", { expireAt: Date.now() + 90_000 });
s.set("blob:\xff\x00", "\x89PNG\r\n");
const end = Date.now() + seconds * 1000;
let phase = 0;
while (Date.now() < end) {
  const clients = [5, 20, 50, 10, 30][phase++ % 5];
  const child = new Deno.Command("redis-benchmark", {
    args: [
      "-p",
      String(server.port),
      "-t",
      "set,get",
      "-n",
      String(clients * 3000),
      "-c",
      String(clients),
      "-q",
      "-r",
      "100000",
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await child.status;
  await new Promise((r) => setTimeout(r, 1500));
}
// A few reads so the hit ratio is not empty.
for (let i = 0; i < 100; i++) s.read(`user:${i}`);

// Subscribers for the pub/sub view, and a client whose commands the
// MONITOR tail shows.
const enc = new TextEncoder();
const connect = async (inline: string) => {
  const c = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
  await c.write(enc.encode(inline));
  return c;
};
const clients = [
  await connect("SUBSCRIBE news chat:lobby\r\nPSUBSCRIBE user:*\r\n"),
  await connect("SUBSCRIBE news\r\n"),
  await connect("SUBSCRIBE news chat:lobby orders\r\n"),
];
const worker = await connect("");

const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
await page.goto(`http://127.0.0.1:${server.httpPort}/`);
await page.getByText("live", { exact: true }).waitFor();
await page.getByRole("button", { name: /^leaderboard,/ }).click();
await page.getByText(/zset · 7 members/).waitFor();
const command = page.getByRole("textbox", { name: "Command" });
for (const c of ["INCR visits", "TTL session:", "MGET user:1 user:2 nope"]) {
  await command.fill(
    c === "TTL session:" ? "SCAN 0 MATCH session:* COUNT 3" : c,
  );
  await command.press("Enter");
  await page.waitForTimeout(150);
}
await page.getByRole("button", { name: "Start monitor" }).click();
await page.getByRole("status").filter({ hasText: "monitoring" }).waitFor();
for (
  const c of [
    "HSET profile:ada visits 43",
    "PUBLISH news hello",
    "ZINCRBY leaderboard 5 grace",
    "LPOP queue:mail",
    "GET config:theme",
  ]
) {
  await worker.write(enc.encode(`${c}\r\n`));
  await new Promise((r) => setTimeout(r, 120));
}
await page.waitForTimeout(1200);
await page.screenshot({
  path: new URL("../docs/dashboard.png", import.meta.url).pathname,
  fullPage: true,
});
await browser.close();
for (const c of [...clients, worker]) c.close();
await server.close();
await Deno.remove(dir, { recursive: true });
console.log("wrote docs/dashboard.png");
