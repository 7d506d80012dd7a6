// Bitmap commands (SETBIT, BITCOUNT, BITFIELD, ...) and LCS.

import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  type Session,
  upper,
} from "./_shared.ts";
import { parseInt64 } from "../_number.ts";
import { notify } from "./pubsub.ts";
import {
  bitcountOf,
  type BitfieldOp,
  BITMAP_ERRORS,
  bitposOf,
  type BitRange,
  lcsInputs,
  lcsOf,
} from "../data/bitmap.ts";

/** Parses a bit offset as Redis's getBitOffsetFromArgument: an int64,
 * `#n` meaning n fields of `bits` (BITFIELD), at most the longest string
 * allowed. */
function bitOffset(s: Session, arg: string, bits = 0): number {
  const hash = bits > 0 && arg.charCodeAt(0) === 35; // '#'
  let v = parseInt64(hash ? arg.slice(1) : arg);
  if (v === null) throw new CommandError(BITMAP_ERRORS.bitOffset);
  if (hash) {
    const product = typeof v === "number" ? v * bits : NaN;
    // Redis multiplies in a 64-bit register: huge values wrap.
    v = Number.isSafeInteger(product)
      ? product
      : BigInt.asIntN(64, BigInt(v) * BigInt(bits));
  }
  if (v < 0) throw new CommandError(BITMAP_ERRORS.bitOffset);
  const byte = typeof v === "bigint" ? v >> 3n : Math.floor(v / 8);
  if (byte >= s.store.maxStringLength) {
    throw new CommandError(BITMAP_ERRORS.bitOffset);
  }
  return Number(v);
}

const setbit: Handler = (s, argv) => {
  const offset = bitOffset(s, argv[2]);
  const on = parseInt64(argv[3]);
  if (on !== 0 && on !== 1) throw new CommandError(BITMAP_ERRORS.bitValue);
  const dirty = s.store.dirty;
  const old = s.store.bitmaps.setbit(argv[1], offset, on);
  if (s.store.dirty !== dirty) notify(s, "setbit", argv[1], "$");
  s.out.int(old);
};

const getbit: Handler = (s, argv) => {
  s.out.int(s.store.bitmaps.getbit(argv[1], bitOffset(s, argv[2])));
};

function unitArg(arg: string): "BIT" | "BYTE" {
  const u = upper(arg);
  if (u === "BIT" || u === "BYTE") return u;
  throw new CommandError(Errors.syntax);
}

const bitcount: Handler = (s, argv) => {
  // As Redis 7.0: the key first (a missing key is 0 whatever follows).
  const v = s.store.readBits(argv[1]);
  if (v === undefined) {
    s.out.int(0);
    return;
  }
  let range: BitRange | undefined;
  if (argv.length === 4 || argv.length === 5) {
    const start = int64Arg(argv[2]);
    const end = int64Arg(argv[3]);
    range = { start, end, unit: argv.length === 5 ? unitArg(argv[4]) : "BYTE" };
  } else if (argv.length !== 2) {
    throw new CommandError(Errors.syntax);
  }
  s.out.int(bitcountOf(v, range));
};

const bitpos: Handler = (s, argv) => {
  const bit = int64Arg(argv[2]);
  if (bit !== 0 && bit !== 1) throw new CommandError(BITMAP_ERRORS.bitposBit);
  const v = s.store.readBits(argv[1]);
  if (v === undefined) {
    s.out.int(bit ? -1 : 0);
    return;
  }
  let range: BitRange | undefined;
  const n = argv.length;
  if (n >= 4 && n <= 6) {
    const start = int64Arg(argv[3]);
    const unit = n === 6 ? unitArg(argv[5]) : "BYTE";
    const end = n >= 5 ? int64Arg(argv[4]) : undefined;
    range = { start, end, unit };
  } else if (n !== 3) {
    throw new CommandError(Errors.syntax);
  }
  s.out.int(bitposOf(v, bit, range));
};

const bitop: Handler = (s, argv) => {
  const op = upper(argv[1]);
  if (op !== "AND" && op !== "OR" && op !== "XOR" && op !== "NOT") {
    throw new CommandError(Errors.syntax);
  }
  const existed = s.server.config.notifyKeyspaceEvents !== 0 &&
    s.store.has(argv[2]);
  const n = s.store.bitmaps.bitop(op, argv[2], argv.slice(3));
  if (n > 0) notify(s, "set", argv[2], "$");
  else if (existed) notify(s, "del", argv[2], "g");
  s.out.int(n);
};

/** Parses a field type as getBitfieldTypeFromArgument (`i1`..`i64`,
 * `u1`..`u63`; the number ends at a NUL byte as C reads it). */
function fieldType(arg: string): { signed: boolean; bits: number } {
  const c = arg.charCodeAt(0);
  if (c !== 105 && c !== 117) { // 'i', 'u'
    throw new CommandError(BITMAP_ERRORS.bitfieldType);
  }
  const signed = c === 105;
  let rest = arg.slice(1);
  const nul = rest.indexOf("\0");
  if (nul >= 0) rest = rest.slice(0, nul);
  const bits = parseInt64(rest);
  if (bits === null || bits < 1 || bits > (signed ? 64 : 63)) {
    throw new CommandError(BITMAP_ERRORS.bitfieldType);
  }
  return { signed, bits: Number(bits) };
}

function bitfieldGeneric(readonly: boolean): Handler {
  return (s, argv) => {
    const ops: BitfieldOp[] = [];
    let overflow: "WRAP" | "SAT" | "FAIL" = "WRAP";
    for (let j = 2; j < argv.length; j++) {
      const left = argv.length - j - 1;
      const sub = upper(argv[j]);
      let op: BitfieldOp["op"];
      if (sub === "GET" && left >= 2) op = "GET";
      else if (sub === "SET" && left >= 3) op = "SET";
      else if (sub === "INCRBY" && left >= 3) op = "INCRBY";
      else if (sub === "OVERFLOW" && left >= 1) {
        const type = upper(argv[++j]);
        if (type !== "WRAP" && type !== "SAT" && type !== "FAIL") {
          throw new CommandError(BITMAP_ERRORS.overflowType);
        }
        overflow = type;
        continue;
      } else {
        throw new CommandError(Errors.syntax);
      }
      const { signed, bits } = fieldType(argv[j + 1]);
      const offset = bitOffset(s, argv[j + 2], bits);
      const value = op === "GET" ? undefined : int64Arg(argv[j + 3]);
      ops.push({ op, signed, bits, offset, value, overflow });
      j += op === "GET" ? 2 : 3;
    }
    const dirty = s.store.dirty;
    const results = s.store.bitmaps.bitfield(argv[1], ops, { readonly });
    if (s.store.dirty !== dirty) notify(s, "setbit", argv[1], "$");
    s.out.array(results.length);
    for (const r of results) {
      if (r === null) s.out.nil();
      else s.out.int(r);
    }
  };
}

const lcs: Handler = (s, argv) => {
  // Both keys are looked up before the options are read, as in Redis.
  const [va, vb] = lcsInputs(s.store, argv[1], argv[2]);
  let idx = false, len = false, withLen = false, minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    if (opt === "IDX") idx = true;
    else if (opt === "LEN") len = true;
    else if (opt === "WITHMATCHLEN") withLen = true;
    else if (opt === "MINMATCHLEN" && j + 1 < argv.length) {
      const v = int64Arg(argv[++j]);
      minMatchLen = v < 0 ? 0 : Number(v);
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  if (idx && len) throw new CommandError(BITMAP_ERRORS.lcsIdxAndLen);
  const r = lcsOf(va, vb, {
    idx,
    len,
    minMatchLen,
    maxTable: s.store.maxStringLength,
  });
  const out = s.out;
  if (idx) {
    out.map(2);
    out.bulk("matches");
    const matches = r.matches!;
    out.array(matches.length);
    for (const [[a0, a1], [b0, b1], n] of matches) {
      out.array(withLen ? 3 : 2);
      out.array(2);
      out.int(a0);
      out.int(a1);
      out.array(2);
      out.int(b0);
      out.int(b1);
      if (withLen) out.int(n);
    }
    out.bulk("len");
    out.int(r.len);
  } else if (len) {
    out.int(r.len);
  } else {
    out.bulk(r.lcs!);
  }
};

/** Handlers of the bitmaps family, by command name. */
export const bitmapCommands: Record<string, Handler> = {
  setbit,
  getbit,
  bitcount,
  bitpos,
  bitop,
  bitfield: bitfieldGeneric(false),
  bitfield_ro: bitfieldGeneric(true),
  lcs,
};
