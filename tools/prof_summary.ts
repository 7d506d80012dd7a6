// Summarizes a V8 .cpuprofile (deno run --cpu-prof): the functions with the
// most self time, and the inclusive time of chosen functions, in percent of
// all samples (idle included, and shown).
//
//   deno run --allow-read tools/prof_summary.ts FILE.cpuprofile [N] [fn,...]

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const [file, top = "40", names = ""] = Deno.args;
const prof = JSON.parse(Deno.readTextFileSync(file)) as {
  nodes: Node[];
  samples: number[];
};
const byId = new Map<number, Node>();
for (const n of prof.nodes) byId.set(n.id, n);
const parent = new Map<number, number>();
for (const n of prof.nodes) {
  for (const c of n.children ?? []) parent.set(c, n.id);
}
const counts = new Map<number, number>();
for (const s of prof.samples) counts.set(s, (counts.get(s) ?? 0) + 1);
const total = prof.samples.length;
const label = (n: Node) =>
  `${n.callFrame.functionName || "(anon)"} ${
    n.callFrame.url.split("/").slice(-2).join("/")
  }:${n.callFrame.lineNumber + 1}`;
const self = new Map<string, number>();
for (const [id, c] of counts) {
  const l = label(byId.get(id)!);
  self.set(l, (self.get(l) ?? 0) + c);
}
const idle = [...self].filter(([l]) => /^\((idle|program|garbage)/.test(l));
console.log(
  `samples ${total}; ${
    idle.map(([l, c]) => `${l.split(" ")[0]} ${(100 * c / total).toFixed(1)}%`)
      .join(", ")
  }`,
);
const busy = total - idle.filter(([l]) => l.startsWith("(idle")).reduce(
  (a, [, c]) => a + c,
  0,
);
console.log(`percentages below are of non-idle samples (${busy})`);
for (
  const [l, c] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(top))
) {
  console.log(`${(100 * c / busy).toFixed(1).padStart(5)}%  ${l}`);
}
// Inclusive time of named functions (a sample counts once per function).
if (names) {
  console.log("\ninclusive:");
  for (const name of names.split(",")) {
    let c = 0;
    for (const [id, k] of counts) {
      let cur: number | undefined = id;
      while (cur !== undefined) {
        if (byId.get(cur)!.callFrame.functionName === name) {
          c += k;
          break;
        }
        cur = parent.get(cur);
      }
    }
    console.log(`${(100 * c / busy).toFixed(1).padStart(5)}%  ${name}`);
  }
}
