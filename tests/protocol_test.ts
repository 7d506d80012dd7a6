import assert from "node:assert/strict";
import {
  DEFAULT_MAX_BULK_LENGTH,
  DoubleText,
  encodeCommand,
  formatDouble,
  PushMessage,
  ReplyDecoder,
  ReplyError,
  ReplyWriter,
  RequestDecoder,
  type RespValue,
  splitArgs,
  VerbatimString,
} from "../protocol.ts";
import { binaryToBytes, bytesToBinary } from "../_bytes.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function bytes(s: string): Uint8Array {
  return binaryToBytes(s);
}

/** Feeds chunks and collects every request until "need more". */
function decodeChunks(chunks: Uint8Array[], d = new RequestDecoder()) {
  const out: string[][] = [];
  for (const chunk of chunks) {
    d.feed(chunk);
    let r;
    while ((r = d.next()) !== null) out.push(r);
    if (d.error) break;
  }
  return { out, error: d.error };
}

// A stream with every kind of request: binary data holding CR LF, an empty
// argument, inline commands with quotes, empty lines, many frames at once.
const STREAM = "*3\r\n$3\r\nSET\r\n$5\r\na\r\nb\x00\r\n$0\r\n\r\n" +
  "*1\r\n$4\r\nPING\r\n" +
  "SET k \"hello world\" 'x y'\r\n" +
  "\r\n" +
  "*2\r\n$4\r\nECHO\r\n$12\r\n\xff\xfe\x80binary!!!\r\n" +
  "GET k\n" +
  "*-1\r\n*0\r\n" +
  "*2\r\n$3\r\nGET\r\n$16\r\nkey:000000000001\r\n" +
  `*2\r\n$4\r\nECHO\r\n$70000\r\n${"z".repeat(70000)}\r\n`;
const EXPECTED = [
  ["SET", "a\r\nb\x00", ""],
  ["PING"],
  ["SET", "k", "hello world", "x y"],
  ["ECHO", "\xff\xfe\x80binary!!!"],
  ["GET", "k"],
  ["GET", "key:000000000001"],
  ["ECHO", "z".repeat(70000)],
];

Deno.test("request decoder: one chunk holding many frames", () => {
  const { out, error } = decodeChunks([bytes(STREAM)]);
  assert.equal(error, null);
  assert.deepEqual(out, EXPECTED);
});

Deno.test("request decoder: a frame split at every byte", () => {
  const all = bytes(STREAM);
  // Two chunks, split at every position (skipping through the long bulk).
  for (
    let i = 0;
    i <= all.length;
    i += i < 300 || i > all.length - 100 ? 1 : 997
  ) {
    const { out, error } = decodeChunks([all.subarray(0, i), all.subarray(i)]);
    assert.equal(error, null, `split at ${i}`);
    assert.deepEqual(out, EXPECTED, `split at ${i}`);
  }
});

Deno.test("request decoder: byte by byte, and the chunk buffer may be reused", () => {
  const all = bytes(STREAM);
  const d = new RequestDecoder();
  const out: string[][] = [];
  const reused = new Uint8Array(1);
  for (const b of all) {
    reused[0] = b;
    d.feed(reused);
    let r;
    while ((r = d.next()) !== null) out.push(r);
    reused[0] = 0; // the decoder must have copied what it keeps
  }
  assert.deepEqual(out, EXPECTED);
});

Deno.test("request decoder: 'need more bytes' is null with no error", () => {
  const d = new RequestDecoder();
  d.feed(bytes("*2\r\n$3\r\nGET\r\n$1"));
  assert.equal(d.next(), null);
  assert.equal(d.error, null);
  assert.ok(d.pendingBytes > 0);
  d.feed(bytes("\r\nk\r\n"));
  assert.deepEqual(d.next(), ["GET", "k"]);
  assert.equal(d.pendingBytes, 0);
});

Deno.test("request decoder: a large bulk in small chunks", () => {
  const value = "v".repeat(3_000_000);
  const frame = bytes(`*2\r\n$4\r\nECHO\r\n$${value.length}\r\n${value}\r\n`);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < frame.length; i += 65536) {
    chunks.push(frame.subarray(i, i + 65536));
  }
  const { out } = decodeChunks(chunks);
  assert.equal(out.length, 1);
  assert.equal(out[0][1].length, value.length);
  assert.equal(out[0][1], value);
});

const PROTOCOL_ERRORS: [string, string][] = [
  ["*abc\r\n", "invalid multibulk length"],
  ["*1048577\r\n", "invalid multibulk length"],
  ["*1\r\n$abc\r\n", "invalid bulk length"],
  ["*1\r\n$-1\r\n", "invalid bulk length"],
  ["*1\r\n$01\r\nx\r\n", "invalid bulk length"],
  [`*1\r\n$${DEFAULT_MAX_BULK_LENGTH + 1}\r\n`, "invalid bulk length"],
  ["*1\r\n:1\r\n", "expected '$', got ':'"],
  ['GET "abc\r\n', "unbalanced quotes in request"],
  ["GET 'abc\r\n", "unbalanced quotes in request"],
  ['GET "a"b\r\n', "unbalanced quotes in request"],
  [`*${"1".repeat(70000)}`, "too big mbulk count string"],
  [`*1\r\n$${"1".repeat(70000)}`, "too big bulk count string"],
  ["x".repeat(70000), "too big inline request"],
];

Deno.test("request decoder: malformed input gives Redis's protocol errors", () => {
  for (const [input, message] of PROTOCOL_ERRORS) {
    const { out, error } = decodeChunks([bytes(input)]);
    assert.deepEqual(out, [], input.slice(0, 30));
    assert.equal(error, `ERR Protocol error: ${message}`, input.slice(0, 30));
  }
});

Deno.test("request decoder: stops for good after an error", () => {
  const d = new RequestDecoder();
  d.feed(bytes("*x\r\n*1\r\n$4\r\nPING\r\n"));
  assert.equal(d.next(), null);
  assert.ok(d.error);
  d.feed(bytes("*1\r\n$4\r\nPING\r\n"));
  assert.equal(d.next(), null);
});

Deno.test("request decoder: tighter limits before authentication", () => {
  let auth = true;
  const d = new RequestDecoder({ authRequired: () => auth });
  d.feed(bytes("*11\r\n"));
  assert.equal(d.next(), null);
  assert.equal(d.error, "ERR Protocol error: unauthenticated multibulk length");
  const d2 = new RequestDecoder({ authRequired: () => auth });
  d2.feed(bytes("*1\r\n$16385\r\n"));
  assert.equal(d2.next(), null);
  assert.equal(d2.error, "ERR Protocol error: unauthenticated bulk length");
  auth = false;
  const d3 = new RequestDecoder({ authRequired: () => auth });
  d3.feed(bytes(`*11\r\n${"$1\r\nx\r\n".repeat(11)}`));
  assert.equal(d3.next()?.length, 11);
});

Deno.test("request decoder: maxBulkLength is configurable", () => {
  const d = new RequestDecoder({ maxBulkLength: 10 });
  d.feed(bytes("*1\r\n$11\r\n"));
  assert.equal(d.next(), null);
  assert.equal(d.error, "ERR Protocol error: invalid bulk length");
});

Deno.test("splitArgs: redis-cli quoting rules", () => {
  const cases: [string, string[] | null][] = [
    ["", []],
    ["   ", []],
    ["SET a b", ["SET", "a", "b"]],
    ['SET a "hello world"', ["SET", "a", "hello world"]],
    ['"a\\nb\\r\\t\\b\\a\\\\\\""', ['a\nb\r\t\b\x07\\"']],
    ['"\\x41\\x6a\\xff"', ["Aj\xff"]],
    ['"\\xZZ"', ["xZZ"]],
    ["'it\\'s' 'a\\nb'", ["it's", "a\\nb"]],
    ['""', [""]],
    ["a  \t b", ["a", "b"]],
    ['"unterminated', null],
    ["'unterminated", null],
    ['"a"b', null],
    ["'a'b", null],
    ['x"y"', ["xy"]],
  ];
  for (const [line, expected] of cases) {
    assert.deepEqual(splitArgs(line), expected, line);
  }
});

function written(fn: (w: ReplyWriter) => void, resp: 2 | 3 = 2): string {
  const w = new ReplyWriter(4);
  w.resp = resp;
  fn(w);
  return bytesToBinary(w.bytes());
}

Deno.test("reply writer: RESP2 and RESP3 forms", () => {
  assert.equal(written((w) => w.ok()), "+OK\r\n");
  assert.equal(written((w) => w.int(0)), ":0\r\n");
  assert.equal(written((w) => w.int(-12345678901234)), ":-12345678901234\r\n");
  assert.equal(
    written((w) => w.int(9223372036854775807n)),
    ":9223372036854775807\r\n",
  );
  assert.equal(written((w) => w.bulk("")), "$0\r\n\r\n");
  assert.equal(written((w) => w.bulk("\x00\xff")), "$2\r\n\x00\xff\r\n");
  const big = "a".repeat(1000) + "\xff";
  assert.equal(written((w) => w.bulk(big)), `$1001\r\n${big}\r\n`);
  assert.equal(written((w) => w.error("ERR a\r\nb")), "-ERR a  b\r\n");
  assert.equal(written((w) => w.nil()), "$-1\r\n");
  assert.equal(written((w) => w.nil(), 3), "_\r\n");
  assert.equal(written((w) => w.nilArray()), "*-1\r\n");
  assert.equal(written((w) => w.map(2)), "*4\r\n");
  assert.equal(written((w) => w.map(2), 3), "%2\r\n");
  assert.equal(written((w) => w.set(3)), "*3\r\n");
  assert.equal(written((w) => w.set(3), 3), "~3\r\n");
  assert.equal(written((w) => w.push(2), 3), ">2\r\n");
  assert.equal(written((w) => w.double(1.5)), "$3\r\n1.5\r\n");
  assert.equal(written((w) => w.double(1.5), 3), ",1.5\r\n");
  assert.equal(written((w) => w.double(-Infinity), 3), ",-inf\r\n");
  assert.equal(written((w) => w.bool(true)), ":1\r\n");
  assert.equal(written((w) => w.bool(false), 3), "#f\r\n");
  assert.equal(
    written((w) => w.bigNumber(10n ** 30n), 3),
    `(${10n ** 30n}\r\n`,
  );
  assert.equal(written((w) => w.verbatim("txt", "hi")), "$2\r\nhi\r\n");
  assert.equal(written((w) => w.verbatim("txt", "hi"), 3), "=6\r\ntxt:hi\r\n");
});

Deno.test("formatDouble: Redis 7.0's %.17g spellings", () => {
  assert.equal(formatDouble(Infinity), "inf");
  assert.equal(formatDouble(-Infinity), "-inf");
  assert.equal(formatDouble(NaN), "nan");
  assert.equal(formatDouble(0.1), "0.10000000000000001");
  assert.equal(formatDouble(3), "3");
  assert.equal(formatDouble(-0), "-0");
  assert.equal(formatDouble(1e20), "1e+20");
  assert.equal(formatDouble(1.5e-7), "1.4999999999999999e-07");
});

Deno.test("reply decoder: doubles as text keep the server's digits", () => {
  const d = new ReplyDecoder({ doubles: "text" });
  d.feed(new TextEncoder().encode(",13.36138933897018433\r\n,inf\r\n"));
  const a = d.next()!.value as DoubleText;
  assert.ok(a instanceof DoubleText);
  assert.equal(a.text, "13.36138933897018433");
  assert.equal(Number(a), 13.361389338970184);
  assert.equal(Number(d.next()!.value), Infinity);
});

/** Every RESP3 type, encoded by the writer, decoded back. */
const VALUES: RespValue[] = [
  "text",
  "",
  "ünïcode ✓",
  42,
  -7,
  2n ** 70n,
  true,
  false,
  null,
  1.25,
  new ReplyError("ERR something failed"),
  new VerbatimString("txt", "some text"),
  ["a", 1, ["nested", null], []],
  new Map<RespValue, RespValue>([["k", 1], ["m", new Map([["x", "y"]])]]),
  new Set<RespValue>(["x", "y"]),
  new PushMessage(["message", "chan", "hi"]),
];

Deno.test("reply decoder: round trip of every RESP3 type, split at every byte", () => {
  const w = new ReplyWriter();
  w.resp = 3;
  for (const v of VALUES) w.value(v);
  // An attribute before a value is read and kept aside.
  w.attribute(1);
  w.bulk("ttl");
  w.int(10);
  w.bulk("after attribute");
  const all = w.bytes().slice();
  const expected = [...VALUES, "after attribute"];
  for (let i = 0; i <= all.length; i++) {
    const d = new ReplyDecoder();
    const got: RespValue[] = [];
    for (const chunk of [all.subarray(0, i), all.subarray(i)]) {
      d.feed(chunk);
      let r;
      while ((r = d.next()) !== undefined) got.push(r.value);
    }
    assert.deepEqual(got, expected, `split at ${i}`);
    assert.deepEqual(d.attributes, new Map([["ttl", 10]]));
  }
});

Deno.test("reply decoder: RESP2 replies, bytes mode, blob errors", () => {
  const d = new ReplyDecoder({ bulk: "bytes" });
  d.feed(enc.encode("$3\r\nabc\r\n*-1\r\n$-1\r\n!9\r\nERR blob!\r\n:99\r\n"));
  assert.deepEqual(d.next()?.value, enc.encode("abc"));
  assert.equal(d.next()?.value, null);
  assert.equal(d.next()?.value, null);
  const err = d.next()?.value;
  assert.ok(err instanceof ReplyError);
  assert.equal(err.code, "ERR");
  assert.equal(d.next()?.value, 99);
  assert.equal(d.next(), undefined);
});

Deno.test("reply decoder: rejects an unknown type byte", () => {
  const d = new ReplyDecoder();
  d.feed(enc.encode("?what\r\n"));
  assert.throws(() => d.next(), /unknown reply type/);
});

Deno.test("encodeCommand: strings as UTF-8, bytes as they are", () => {
  assert.equal(
    dec.decode(encodeCommand(["SET", "ключ", new Uint8Array([1, 2])])),
    "*3\r\n$3\r\nSET\r\n$8\r\nключ\r\n$2\r\n\x01\x02\r\n",
  );
});

Deno.test("bytesToBinary: every length and byte value round-trips", () => {
  const all = new Uint8Array(5000);
  for (let i = 0; i < all.length; i++) all[i] = (i * 7) & 255;
  for (
    const n of [0, 1, 2, 3, 4, 5, 12, 13, 16, 64, 65, 1024, 1025, 4096, 5000]
  ) {
    const s = bytesToBinary(all, 0, n);
    assert.equal(s.length, n);
    assert.deepEqual(binaryToBytes(s), all.subarray(0, n));
  }
  const ascii = enc.encode("a".repeat(10000));
  assert.equal(bytesToBinary(ascii), "a".repeat(10000));
});
