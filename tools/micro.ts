// In-process micro benchmark of the request path without the network:
// RequestDecoder + execute() on an embedded Server's command table, with
// the requests redis-benchmark sends (-d 16, no -r). Prints ns per command,
// median of several runs.
//
//   deno run --allow-all tools/micro.ts [mset|incr|set|get] [pipeline]

import { Server } from "../server.ts";
import { execute, type Session } from "../commands.ts";
import { ReplyWriter, RequestDecoder } from "../protocol.ts";

const test = Deno.args[0] ?? "mset";
const pipeline = Number(Deno.args[1] ?? "32");
const value = "x".repeat(16);
function resp(argv: string[]): string {
  return `*${argv.length}\r\n` +
    argv.map((a) => `$${a.length}\r\n${a}\r\n`).join("");
}
const one = test === "mset"
  ? resp(["MSET", ...Array(10).fill(["key:__rand_int__", value]).flat()])
  : test === "incr"
  ? resp(["INCR", "counter:__rand_int__"])
  : test === "set"
  ? resp(["SET", "key:__rand_int__", value])
  : resp(["GET", "key:__rand_int__"]);
const chunk = new TextEncoder().encode(one.repeat(pipeline));

const server = new Server({ port: 0 });
const state = server.state;
const out = new ReplyWriter(4096);
const client = {
  id: 1,
  addr: "127.0.0.1:1",
  laddr: "127.0.0.1:2",
  createdAt: Date.now(),
  lastInteraction: Date.now(),
  name: "",
  libName: "",
  libVer: "",
  authenticated: true,
  lastCommand: "",
  closeAfterReply: false,
  out,
  queryBufferBytes: () => 0,
  kill() {},
  tx: null,
  pubsub: null,
  wake() {},
  blocked: null,
  tracking: null,
  replyMode: 0,
  noEvict: false,
};
const session = {
  out,
  store: state.store,
  client,
  server: state,
  propagate: null,
} as unknown as Session;
const decoder = new RequestDecoder();
const commands = state.commands;

function run(batches: number): number {
  const t0 = performance.now();
  for (let b = 0; b < batches; b++) {
    decoder.feed(chunk);
    let argv: string[] | null;
    while ((argv = decoder.next()) !== null) execute(commands, session, argv);
    out.reset();
  }
  return ((performance.now() - t0) * 1e6) / (batches * pipeline);
}
run(20000 / pipeline + 1000); // warm up
const times: number[] = [];
for (let i = 0; i < 9; i++) times.push(run(Math.ceil(400_000 / pipeline)));
times.sort((a, b) => a - b);
console.log(
  `${test} -P ${pipeline}: ${times[4].toFixed(0)} ns/command (min ${
    times[0].toFixed(0)
  })`,
);
await server.close();
