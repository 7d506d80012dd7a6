// Sorted set commands: ZADD, ZRANGE and the rest of the family.

import type { ReplyWriter } from "../protocol.ts";
import { notify, notifyIfGone } from "./pubsub.ts";
import { globMatch } from "../_glob.ts";
import { STORE_ERRORS, StoreError } from "../_errors.ts";
import {
  type Aggregate,
  formatScore,
  type LexRange,
  parseLexRange,
  parseScore,
  parseScoreRange,
  type ScoreRange,
  SortedSet,
} from "../data/zset.ts";
import {
  CommandError,
  Errors,
  type Handler,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";

const NOT_FLOAT = "ERR value is not a valid float";
const RANGE_NOT_FLOAT = "ERR min or max is not a float";
const LEX_INVALID = "ERR min or max not valid string range item";
const POSITIVE = "ERR value is out of range, must be positive";
const encoder = new TextEncoder();

/** Writes a score as Redis 7.0 does: "%.17g" in a bulk string (RESP2) or a
 * double (RESP3). */
function writeScore(out: ReplyWriter, d: number): void {
  if (
    Number.isInteger(d) && d < 9007199254740992 && d > -9007199254740992 &&
    !(d === 0 && 1 / d < 0)
  ) {
    out.double(d);
  } else if (out.resp === 3) {
    out.raw(encoder.encode(`,${formatScore(d)}\r\n`));
  } else {
    out.bulk(formatScore(d));
  }
}

/** Writes entries: flat members, or with scores flat (RESP2) or as
 * [member, score] pairs (RESP3). */
function writeEntries(
  out: ReplyWriter,
  entries: readonly (readonly [string, number])[],
  withScores: boolean,
  pairs = out.resp === 3,
): void {
  if (!withScores) {
    out.array(entries.length);
    for (const [m] of entries) out.bulk(m);
    return;
  }
  out.array(pairs ? entries.length : entries.length * 2);
  for (const [m, sc] of entries) {
    if (pairs) out.array(2);
    out.bulk(m);
    writeScore(out, sc);
  }
}

function scoreArg(s: string, error = NOT_FLOAT): number {
  const v = parseScore(s);
  if (v === null) throw new CommandError(error);
  return v;
}

function scoreRangeArgs(min: string, max: string): ScoreRange {
  const r = parseScoreRange(min, max);
  if (r === null) throw new CommandError(RANGE_NOT_FLOAT);
  return r;
}

function lexRangeArgs(min: string, max: string): LexRange {
  const r = parseLexRange(min, max);
  if (r === null) throw new CommandError(LEX_INVALID);
  return r;
}

/** Parses a long that must be >= 0 (getPositiveLongFromObjectOrReply). */
function positiveArg(s: string, error = POSITIVE): number {
  const v = intArg(s, error);
  if (v < 0) throw new CommandError(error);
  return v;
}

const zadd: Handler = (s, argv) => {
  let nx = false, xx = false, gt = false, lt = false, ch = false;
  let incr = false;
  let j = 2;
  for (; j < argv.length; j++) {
    const opt = upper(argv[j]);
    if (opt === "NX") nx = true;
    else if (opt === "XX") xx = true;
    else if (opt === "CH") ch = true;
    else if (opt === "INCR") incr = true;
    else if (opt === "GT") gt = true;
    else if (opt === "LT") lt = true;
    else break;
  }
  const elements = argv.length - j;
  if (elements === 0 || elements % 2 !== 0) {
    throw new CommandError(Errors.syntax);
  }
  if (nx && xx) {
    throw new CommandError(
      "ERR XX and NX options at the same time are not compatible",
    );
  }
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw new CommandError(
      "ERR GT, LT, and/or NX options at the same time are not compatible",
    );
  }
  if (incr && elements > 2) {
    throw new CommandError(
      "ERR INCR option supports a single increment-element pair",
    );
  }
  const entries: [string, number][] = [];
  for (let k = j; k < argv.length; k += 2) {
    entries.push([argv[k + 1], scoreArg(argv[k])]);
  }
  const options = { nx, xx, gt, lt, ch };
  const zsets = s.store.zsets;
  const dirty = s.store.dirty;
  if (incr) {
    const r = zsets.zincrby(argv[1], entries[0][0], entries[0][1], options);
    if (s.store.dirty !== dirty) notify(s, "zincr", argv[1], "z");
    if (r === undefined) s.out.nil();
    else writeScore(s.out, r);
    return;
  }
  const n = zsets.zadd(argv[1], entries, options);
  if (s.store.dirty !== dirty) notify(s, "zadd", argv[1], "z");
  s.out.int(n);
};

const zincrby: Handler = (s, argv) => {
  const by = scoreArg(argv[2]);
  const dirty = s.store.dirty;
  const score = s.store.zsets.zincrby(argv[1], argv[3], by)!;
  if (s.store.dirty !== dirty) notify(s, "zincr", argv[1], "z");
  writeScore(s.out, score);
};

const zscore: Handler = (s, argv) => {
  const v = s.store.zsets.zscore(argv[1], argv[2]);
  if (v === undefined) s.out.nil();
  else writeScore(s.out, v);
};

const zmscore: Handler = (s, argv) => {
  const scores = s.store.zsets.zmscore(argv[1], argv.slice(2));
  s.out.array(scores.length);
  for (const v of scores) {
    if (v === undefined) s.out.nil();
    else writeScore(s.out, v);
  }
};

const zcard: Handler = (s, argv) => {
  s.out.int(s.store.zsets.zcard(argv[1]));
};

const zcount: Handler = (s, argv) => {
  const range = scoreRangeArgs(argv[2], argv[3]);
  s.out.int(s.store.zsets.zcount(argv[1], range));
};

const zlexcount: Handler = (s, argv) => {
  const range = lexRangeArgs(argv[2], argv[3]);
  s.out.int(s.store.zsets.zlexcount(argv[1], range));
};

function rankCommand(reverse: boolean): Handler {
  return (s, argv) => {
    const r = s.store.zsets.zrank(argv[1], argv[2], reverse);
    if (r === undefined) s.out.nil();
    else s.out.int(r);
  };
}

const zrem: Handler = (s, argv) => {
  const n = s.store.zsets.zrem(argv[1], argv.slice(2));
  removed(s, "zrem", argv[1], n);
  s.out.int(n);
};

/** The events of a removal: its own, then `del` when the key is gone. */
function removed(s: Session, event: string, key: string, n: number): void {
  if (n === 0) return;
  notify(s, event, key, "z");
  notifyIfGone(s, key);
}

/** ZSTORE's events: the command's own when it stored a result, `del`
 * when an empty result removed the destination. */
function stored(s: Session, event: string, key: string, result: unknown[]) {
  const existed = s.server.config.notifyKeyspaceEvents !== 0 &&
    s.store.has(key);
  const n = s.store.zsets.zstore(key, result as [string, number][]);
  if (n > 0) notify(s, event, key, "z");
  else if (existed) notify(s, "del", key, "g");
  s.out.int(n);
}

type RangeType = "auto" | "rank" | "score" | "lex";

/** ZRANGE and its variants, as Redis's zrangeGenericCommand. */
function zrangeGeneric(
  s: Session,
  argv: string[],
  from: number,
  store: boolean,
  type: RangeType,
  reverse: boolean | undefined,
): void {
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let limited = false;
  for (let j = from + 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const left = argv.length - j - 1;
    if (!store && opt === "WITHSCORES") withScores = true;
    else if (opt === "LIMIT" && left >= 2) {
      offset = intArg(argv[j + 1]);
      limit = intArg(argv[j + 2]);
      limited = true;
      j += 2;
    } else if (reverse === undefined && opt === "REV") reverse = true;
    else if (type === "auto" && opt === "BYLEX") type = "lex";
    else if (type === "auto" && opt === "BYSCORE") type = "score";
    else throw new CommandError(Errors.syntax);
  }
  reverse ??= false;
  if (type === "auto") type = "rank";
  if (limited && limit !== -1 && type === "rank") {
    throw new CommandError(
      "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
  }
  if (withScores && type === "lex") {
    throw new CommandError(
      "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
    );
  }
  let minArg = argv[from + 1];
  let maxArg = argv[from + 2];
  if (reverse && type !== "rank") [minArg, maxArg] = [maxArg, minArg];
  let start = 0, stop = 0;
  let scoreRange: ScoreRange | undefined;
  let lexRange: LexRange | undefined;
  if (type === "rank") {
    start = intArg(minArg);
    stop = intArg(maxArg);
  } else if (type === "score") scoreRange = scoreRangeArgs(minArg, maxArg);
  else lexRange = lexRangeArgs(minArg, maxArg);
  const zsets = s.store.zsets;
  const key = argv[from];
  let result: [string, number][];
  if (type === "rank") result = zsets.zrange(key, start, stop, reverse);
  else if (type === "score") {
    result = zsets.zrangeByScore(key, scoreRange!, {
      offset,
      count: limit,
      reverse,
    });
  } else {
    result = zsets.zrangeByLex(key, lexRange!, {
      offset,
      count: limit,
      reverse,
    });
  }
  if (store) stored(s, "zrangestore", argv[1], result);
  else writeEntries(s.out, result, withScores);
}

const zrange: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 1, false, "auto", undefined);
const zrangestore: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 2, true, "auto", undefined);
const zrevrange: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 1, false, "rank", true);
const zrangebyscore: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 1, false, "score", false);
const zrevrangebyscore: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 1, false, "score", true);
const zrangebylex: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 1, false, "lex", false);
const zrevrangebylex: Handler = (s, argv) =>
  zrangeGeneric(s, argv, 1, false, "lex", true);

const zremrangebyrank: Handler = (s, argv) => {
  const start = intArg(argv[2]);
  const stop = intArg(argv[3]);
  const n = s.store.zsets.zremRangeByRank(argv[1], start, stop);
  removed(s, "zremrangebyrank", argv[1], n);
  s.out.int(n);
};

const zremrangebyscore: Handler = (s, argv) => {
  const range = scoreRangeArgs(argv[2], argv[3]);
  const n = s.store.zsets.zremRangeByScore(argv[1], range);
  removed(s, "zremrangebyscore", argv[1], n);
  s.out.int(n);
};

const zremrangebylex: Handler = (s, argv) => {
  const range = lexRangeArgs(argv[2], argv[3]);
  const n = s.store.zsets.zremRangeByLex(argv[1], range);
  removed(s, "zremrangebylex", argv[1], n);
  s.out.int(n);
};

function popCommand(max: boolean): Handler {
  return (s, argv) => {
    if (argv.length > 3) throw new CommandError(Errors.syntax);
    const count = argv.length === 3 ? positiveArg(argv[2]) : -1;
    const zsets = s.store.zsets;
    zsets.lookup(argv[1]); // WRONGTYPE first
    const out = zsets.zpop(argv[1], count === -1 ? 1 : count, max);
    removed(s, max ? "zpopmax" : "zpopmin", argv[1], out.length);
    writeEntries(s.out, out, true, count !== -1 && s.out.resp === 3);
  };
}

const zmpop: Handler = (s, argv) => {
  const numkeys = intArg(argv[1], "ERR numkeys should be greater than 0");
  if (numkeys < 1) {
    throw new CommandError("ERR numkeys should be greater than 0");
  }
  const whereAt = 2 + numkeys;
  if (whereAt >= argv.length) throw new CommandError(Errors.syntax);
  const where = upper(argv[whereAt]);
  if (where !== "MIN" && where !== "MAX") {
    throw new CommandError(Errors.syntax);
  }
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (count === -1 && upper(argv[j]) === "COUNT" && more > 0) {
      const error = "ERR count should be greater than 0";
      count = intArg(argv[++j], error);
      if (count < 1) throw new CommandError(error);
    } else throw new CommandError(Errors.syntax);
  }
  if (count === -1) count = 1;
  const zsets = s.store.zsets;
  const keys = argv.slice(2, whereAt);
  // The first non-empty key; a key of another type before it is an error.
  for (const key of keys) {
    const z = zsets.lookup(key);
    if (z === undefined) continue;
    const popped = zsets.zpop(key, count, where === "MAX");
    removed(s, where === "MAX" ? "zpopmax" : "zpopmin", key, popped.length);
    s.out.array(2);
    s.out.bulk(key);
    s.out.array(popped.length);
    for (const [m, sc] of popped) {
      s.out.array(2);
      s.out.bulk(m);
      writeScore(s.out, sc);
    }
    return;
  }
  s.out.nilArray();
};

const LONG_MAX = 9223372036854775807n;

const zrandmember: Handler = (s, argv) => {
  const zsets = s.store.zsets;
  if (argv.length === 2) {
    const z = zsets.read(argv[1]);
    if (z === undefined) s.out.nil();
    else s.out.bulk(z.at(Math.floor(Math.random() * z.size))![0]);
    return;
  }
  const raw = argv[2];
  const parsed = /^-?\d+$/.test(raw) ? BigInt(raw) : null;
  if (parsed === null || (parsed > LONG_MAX || parsed < -LONG_MAX - 1n)) {
    throw new CommandError(Errors.notInteger);
  }
  if (parsed < -LONG_MAX) {
    throw new CommandError(
      "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807",
    );
  }
  intArg(raw); // strict integer syntax (no leading zeros, ...)
  if (
    argv.length > 4 || (argv.length === 4 && upper(argv[3]) !== "WITHSCORES")
  ) {
    throw new CommandError(Errors.syntax);
  }
  const withScores = argv.length === 4;
  if (withScores && (parsed < -LONG_MAX / 2n || parsed > LONG_MAX / 2n)) {
    throw new CommandError("ERR value is out of range");
  }
  const z = zsets.read(argv[1]);
  if (z === undefined || parsed === 0n) {
    s.out.array(0);
    return;
  }
  // Beyond the set's size a positive count gives it all; a negative
  // count that large could not be answered anyway.
  let count = Number(parsed);
  if (count > z.size) count = z.size;
  if (count < -1e9) throw new CommandError("ERR value is out of range");
  writeEntries(s.out, zsets.zrandmember(argv[1], count), withScores);
};

/** Checks the types of the input keys of the set operations: sorted sets
 * and sets only. */
function checkInputs(s: Session, keys: readonly string[]): void {
  for (const key of keys) {
    const v = s.store.value(key);
    if (v === undefined) continue;
    if (typeof v === "string" || (v.type !== "zset" && v.type !== "set")) {
      throw new StoreError(STORE_ERRORS.wrongType);
    }
  }
}

/** ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, as Redis's
 * zunionInterDiffGenericCommand. */
function setOperation(
  op: "union" | "inter" | "diff",
  store: boolean,
  cardinalityOnly = false,
): Handler {
  return (s, argv) => {
    const numkeysAt = store ? 2 : 1;
    const setnum = intArg(argv[numkeysAt]);
    if (setnum < 1) {
      throw new CommandError(
        `ERR at least 1 input key is needed for '${
          argv[0].toLowerCase()
        }' command`,
      );
    }
    if (setnum > argv.length - (numkeysAt + 1)) {
      throw new CommandError(Errors.syntax);
    }
    const keys = argv.slice(numkeysAt + 1, numkeysAt + 1 + setnum);
    checkInputs(s, keys);
    let weights: number[] | undefined;
    let aggregate: Aggregate = "sum";
    let withScores = false;
    let limit = 0;
    let j = numkeysAt + 1 + setnum;
    while (j < argv.length) {
      const remaining = argv.length - j;
      const opt = upper(argv[j]);
      if (
        op !== "diff" && !cardinalityOnly && remaining >= setnum + 1 &&
        opt === "WEIGHTS"
      ) {
        j++;
        weights = [];
        for (let i = 0; i < setnum; i++, j++) {
          weights.push(scoreArg(argv[j], "ERR weight value is not a float"));
        }
      } else if (
        op !== "diff" && !cardinalityOnly && remaining >= 2 &&
        opt === "AGGREGATE"
      ) {
        const a = upper(argv[j + 1]);
        if (a === "SUM") aggregate = "sum";
        else if (a === "MIN") aggregate = "min";
        else if (a === "MAX") aggregate = "max";
        else throw new CommandError(Errors.syntax);
        j += 2;
      } else if (!store && !cardinalityOnly && opt === "WITHSCORES") {
        withScores = true;
        j++;
      } else if (cardinalityOnly && remaining >= 2 && opt === "LIMIT") {
        limit = positiveArg(argv[j + 1], "ERR LIMIT can't be negative");
        j += 2;
      } else throw new CommandError(Errors.syntax);
    }
    const zsets = s.store.zsets;
    if (cardinalityOnly) {
      s.out.int(zsets.zintercard(keys, limit));
      return;
    }
    const result = op === "diff"
      ? zsets.zdiff(keys)
      : op === "inter"
      ? zsets.zinter(keys, { weights, aggregate })
      : zsets.zunion(keys, { weights, aggregate });
    if (store) stored(s, `z${op}store`, argv[1], result);
    else writeEntries(s.out, result, withScores);
  };
}

// Live iterators of ZSCAN over big sets, by set and cursor: a cursor that
// comes back resumes its iterator (which sees every member present from
// start to end); an unknown one resumes by position.
const scans = new WeakMap<
  SortedSet,
  Map<number, Iterator<[string, number]>>
>();

const zscan: Handler = (s, argv) => {
  const cursorArg = argv[2];
  if (!/^[+-]?\d+$/.test(cursorArg)) {
    throw new CommandError("ERR invalid cursor");
  }
  const digits = cursorArg.replace(/^[+-]/, "");
  if (BigInt(digits) > 18446744073709551615n) {
    throw new CommandError("ERR invalid cursor");
  }
  const cursor = cursorArg.startsWith("-") && BigInt(digits) !== 0n
    ? Infinity
    : Number(digits);
  const z = s.store.zsets.read(argv[1]);
  let count = 10;
  let match: string | undefined;
  for (let j = 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const more = j + 1 < argv.length;
    if (z === undefined) break;
    if (opt === "COUNT" && more) {
      count = intArg(argv[++j]);
      if (count < 1) throw new CommandError(Errors.syntax);
    } else if (opt === "MATCH" && more) {
      match = argv[++j];
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  const out: [string, number][] = [];
  let next = 0;
  if (z !== undefined && z.listpack) {
    for (const e of z.entries()) out.push(e);
  } else if (z !== undefined && Number.isSafeInteger(cursor)) {
    let live = scans.get(z);
    if (live === undefined) scans.set(z, live = new Map());
    let it = cursor === 0 ? undefined : live.get(cursor);
    live.delete(cursor);
    if (it === undefined) {
      it = z.members();
      for (let i = 0; i < cursor; i++) if (it.next().done) break;
    }
    let position = cursor;
    let done = false;
    for (let i = 0; i < count; i++) {
      const r = it.next();
      if (r.done) {
        done = true;
        break;
      }
      position++;
      out.push(r.value);
    }
    if (!done) {
      next = position;
      if (live.size >= 64) live.delete(live.keys().next().value!);
      live.set(next, it);
    }
  }
  const pattern = match === "*" ? undefined : match;
  const shown = pattern === undefined
    ? out
    : out.filter(([m]) => globMatch(pattern, m));
  s.out.array(2);
  s.out.bulk(String(next));
  s.out.array(shown.length * 2);
  for (const [m, sc] of shown) {
    s.out.bulk(m);
    s.out.bulk(formatScore(sc));
  }
};

/** Handlers of the zsets family, by command name. */
export const zsetCommands: Record<string, Handler> = {
  zadd,
  zincrby,
  zscore,
  zmscore,
  zcard,
  zcount,
  zlexcount,
  zrank: rankCommand(false),
  zrevrank: rankCommand(true),
  zrange,
  zrangestore,
  zrevrange,
  zrangebyscore,
  zrevrangebyscore,
  zrangebylex,
  zrevrangebylex,
  zrem,
  zremrangebyrank,
  zremrangebyscore,
  zremrangebylex,
  zpopmin: popCommand(false),
  zpopmax: popCommand(true),
  zmpop,
  zrandmember,
  zunion: setOperation("union", false),
  zinter: setOperation("inter", false),
  zdiff: setOperation("diff", false),
  zunionstore: setOperation("union", true),
  zinterstore: setOperation("inter", true),
  zdiffstore: setOperation("diff", true),
  zintercard: setOperation("inter", false, true),
  zscan,
};
