// Memory and SETBIT cost of bitmaps: our server against redis-server.
//
// Memory (RSS from /proc, each load in a fresh pair of servers):
//   - one 16 MB bitmap (2^27 bits), made by SETBIT at its last bit and
//     1,000 BITFIELD SET i64 writes spread over it;
//   - 200,000 small bitmaps (SETBIT b:<i> 1023 1: 128 bytes each).
// Prints bytes per bit / per key on each side and the ratio.
//
// SETBIT cost (`setbit` argument): SETBIT at spread offsets of a 16 MB
// bitmap, over the wire on both servers, and in-process: the store's byte
// string (copied on each change) against the mutable Bitmap buffer.
//
// Threshold (`threshold` argument): where SETBIT should stop rebuilding a
// flat byte string and keep a mutable Bitmap instead (FLAT_MAX in
// data/bitmap.ts): SETBIT time on each form by value size, in-process, and
// memory per key of each form (RSS of a child process holding many keys).
//
//   deno run --allow-all tools/mem_bitmap.ts [memory|setbit|threshold]

import {
  command,
  measurePipe as measure,
  pipe,
  startOurs,
  startRedis,
  type Target,
} from "./_mem.ts";
import { Store } from "../store.ts";

const decoder = new TextDecoder();
const BIG_BITS = 2 ** 27;
const SMALL_KEYS = 200_000;

function* oneBig(): Iterable<string> {
  yield command(["SETBIT", "big", String(BIG_BITS - 1), "1"]);
  const args = ["BITFIELD", "big"];
  for (let i = 0; i < 1000; i++) {
    args.push("SET", "i64", `#${(i * 2_654_435_761) % (BIG_BITS / 64)}`, "-1");
  }
  yield command(args);
}

function* manySmall(): Iterable<string> {
  for (let k = 0; k < SMALL_KEYS; k++) {
    yield command(["SETBIT", `b:${k}`, "1023", "1"]);
  }
}

async function memory(): Promise<void> {
  const loads: [string, () => Iterable<string>, number, string][] = [
    ["1 bitmap of 2^27 bits (16 MB)", oneBig, BIG_BITS, "bit"],
    [`${SMALL_KEYS} bitmaps of 1024 bits`, manySmall, SMALL_KEYS, "key"],
  ];
  for (const [name, load, n, unit] of loads) {
    const ours = await measure(startOurs, load);
    const redis = await measure(startRedis, load);
    const fmt = (b: number) => (b / n).toFixed(3).padStart(9);
    console.log(
      `${name.padEnd(36)} ours ${fmt(ours)} B/${unit}  redis ${
        fmt(redis)
      } B/${unit}  ratio ${(ours / redis).toFixed(2)}`,
    );
  }
}

/** Offsets spread over the bitmap. */
function offset(i: number): number {
  return (i * 2_654_435_761 + 12_345) % BIG_BITS;
}

async function overTheWire(
  start: () => Promise<Target>,
  n: number,
): Promise<number> {
  const t = await start();
  try {
    await pipe(t.port, oneBig());
    const cmds: string[] = [];
    for (let i = 0; i < n; i++) {
      cmds.push(command(["SETBIT", "big", String(offset(i)), String(i & 1)]));
    }
    const t0 = performance.now();
    await pipe(t.port, cmds);
    return (performance.now() - t0) / n;
  } finally {
    await t.stop();
  }
}

async function setbit(): Promise<void> {
  // The store as it is (a Bitmap past FLAT_MAX) against a flat byte string
  // rebuilt on each change (flatMax = Infinity).
  const store = new Store();
  store.set("big", "\0".repeat(BIG_BITS / 8));
  store.bitmaps.setbit("big", 0, 1); // becomes a Bitmap here
  let t0 = performance.now();
  for (let i = 0; i < 10_000; i++) {
    store.bitmaps.setbit("big", offset(i), i & 1);
  }
  const bufferMs = (performance.now() - t0) / 10_000;
  const flat = new Store();
  flat.bitmaps.flatMax = Infinity;
  flat.set("big", "\0".repeat(BIG_BITS / 8));
  const n = 100;
  t0 = performance.now();
  for (let i = 0; i < n; i++) flat.bitmaps.setbit("big", offset(i), 1);
  const stringMs = (performance.now() - t0) / n;
  console.log(
    `in-process SETBIT on 16 MB: flat byte string ${
      stringMs.toFixed(3)
    } ms/op, ` +
      `Bitmap buffer ${(bufferMs * 1000).toFixed(2)} us/op ` +
      `(10,000 SETBITs: ${(stringMs * 10).toFixed(1)} s against ${
        (bufferMs * 10).toFixed(3)
      } s)`,
  );
  const ours = await overTheWire(startOurs, 10_000);
  const redis = await overTheWire(startRedis, 10_000);
  console.log(
    `over the wire SETBIT on 16 MB (pipelined): ours ${
      (ours * 1000).toFixed(2)
    } us/op, redis ${(redis * 1000).toFixed(2)} us/op`,
  );
}

const SIZES = [256, 1024, 2048, 4096, 8192, 16384, 65536];

/** SETBIT time (us/op) on a value of `size` bytes kept flat or as a
 * Bitmap. */
function setbitTime(size: number, flat: boolean): number {
  const store = new Store();
  store.bitmaps.flatMax = flat ? Infinity : 0;
  store.bitmaps.setbit("k", size * 8 - 1, 1);
  const n = Math.max(2000, Math.min(200_000, 2e8 / size));
  const bits = size * 8 - 1;
  // Warm up, then time.
  for (let i = 0; i < 500; i++) store.bitmaps.setbit("k", offset(i) % bits, 1);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    store.bitmaps.setbit("k", offset(i) % bits, (i >> 1) & 1);
  }
  return (performance.now() - t0) * 1000 / n;
}

/** In a child process: RSS per key of many values of `size` bytes made by
 * SETBIT, flat or as Bitmaps. */
function memoryPerKey(size: number, flat: boolean): number {
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--v8-flags=--expose-gc,--max-semi-space-size=2",
      "--allow-read",
      "--allow-env",
      new URL(import.meta.url).pathname,
      "threshold-child",
      String(size),
      flat ? "flat" : "bitmap",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  return Number(decoder.decode(out.stdout).trim());
}

function thresholdChild(size: number, flat: boolean): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  const keys = Math.min(50_000, Math.floor(256 * 1024 * 1024 / size));
  const store = new Store();
  store.bitmaps.flatMax = flat ? Infinity : 0;
  const names = Array.from({ length: keys }, (_, i) => `b:${i}`);
  // Every byte written (an untouched zero page would cost no RSS).
  const fill = "\x55".repeat(size);
  store.bitmaps.setbit("warm", 7, 1);
  gc();
  const before = Deno.memoryUsage().rss;
  for (const k of names) {
    store.set(k, fill);
    store.bitmaps.setbit(k, 0, 1);
  }
  gc();
  const after = Deno.memoryUsage().rss;
  console.log(((after - before) / keys).toFixed(1));
}

function threshold(): void {
  console.log(
    "size B   SETBIT flat us  Bitmap us   B/key flat  B/key Bitmap  overhead",
  );
  for (const size of SIZES) {
    const tf = setbitTime(size, true), tb = setbitTime(size, false);
    const mf = memoryPerKey(size, true), mb = memoryPerKey(size, false);
    console.log(
      `${String(size).padStart(6)} ${tf.toFixed(2).padStart(15)} ${
        tb.toFixed(3).padStart(10)
      } ${mf.toFixed(0).padStart(12)} ${mb.toFixed(0).padStart(13)} ${
        ((mb / mf - 1) * 100).toFixed(1).padStart(8)
      }%`,
    );
  }
}

const mode = Deno.args[0];
if (mode === "threshold-child") {
  thresholdChild(Number(Deno.args[1]), Deno.args[2] === "flat");
  Deno.exit(0);
}
if (mode === undefined || mode === "memory") await memory();
if (mode === undefined || mode === "setbit") await setbit();
if (mode === undefined || mode === "threshold") threshold();
