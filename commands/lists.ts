// List commands: LPUSH, RPOP, LRANGE and the rest of the family.

import { parseInt64 } from "../_number.ts";
import type { ReplyWriter } from "../protocol.ts";
import { STORE_ERRORS } from "../store.ts";
import {
  CommandError,
  Errors,
  type Handler,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";
import { notify, notifyIfGone } from "./pubsub.ts";

const ERR_POSITIVE = "ERR value is out of range, must be positive";
const ERR_RANK =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
const ERR_COUNT = "ERR COUNT can't be negative";
const ERR_MAXLEN = "ERR MAXLEN can't be negative";
const ERR_NUMKEYS = "ERR numkeys should be greater than 0";
const ERR_COUNT_POSITIVE = "ERR count should be greater than 0";

/** A non-negative integer argument, or `error` (Redis's
 * getPositiveLongFromObjectOrReply). */
function positiveArg(s: string, error: string): number {
  const v = intArg(s, error);
  if (v < 0) throw new CommandError(error);
  return v;
}

/** A strictly positive integer argument, or `error`. */
function atLeastOneArg(s: string, error: string): number {
  const v = intArg(s, error);
  if (v < 1) throw new CommandError(error);
  return v;
}

/** LEFT or RIGHT, or a syntax error. */
function whereArg(s: string): "LEFT" | "RIGHT" {
  const w = upper(s);
  if (w === "LEFT" || w === "RIGHT") return w;
  throw new CommandError(Errors.syntax);
}

function bulks(out: ReplyWriter, values: readonly string[]): void {
  out.array(values.length);
  for (const v of values) out.bulk(v);
}

function push(left: boolean, create: boolean): Handler {
  return (s, argv) => {
    const elements = argv.slice(2);
    const lists = s.store.lists;
    const n = left
      ? create
        ? lists.lpush(argv[1], elements)
        : lists.lpushx(argv[1], elements)
      : create
      ? lists.rpush(argv[1], elements)
      : lists.rpushx(argv[1], elements);
    if (n > 0) notify(s, left ? "lpush" : "rpush", argv[1], "l");
    s.out.int(n);
  };
}

function pop(left: boolean): Handler {
  return (s, argv) => {
    if (argv.length > 3) {
      throw new CommandError(
        `ERR wrong number of arguments for '${left ? "lpop" : "rpop"}' command`,
      );
    }
    const lists = s.store.lists;
    const event = left ? "lpop" : "rpop";
    if (argv.length === 2) {
      const v = left ? lists.lpop(argv[1]) : lists.rpop(argv[1]);
      if (v !== undefined) {
        notify(s, event, argv[1], "l");
        notifyIfGone(s, argv[1]);
      }
      s.out.bulkOrNil(v);
      return;
    }
    const count = positiveArg(argv[2], ERR_POSITIVE);
    const values = left
      ? lists.lpop(argv[1], count)
      : lists.rpop(argv[1], count);
    if (values !== undefined && values.length > 0) {
      notify(s, event, argv[1], "l");
      notifyIfGone(s, argv[1]);
    }
    if (values === undefined) s.out.nilArray();
    else bulks(s.out, values);
  };
}

const llen: Handler = (s, argv) => {
  s.out.int(s.store.lists.llen(argv[1]));
};

const lindex: Handler = (s, argv) => {
  const index = parseInt64(argv[2]);
  if (index === null) {
    // Redis looks the key up first: a missing key answers nil.
    if (s.store.readAs(argv[1], "list") === undefined) s.out.nil();
    else throw new CommandError(Errors.notInteger);
    return;
  }
  s.out.bulkOrNil(s.store.lists.lindex(argv[1], clamp(index)));
};

const lset: Handler = (s, argv) => {
  const index = parseInt64(argv[2]);
  if (index === null) {
    if (s.store.lookupAs(argv[1], "list") === undefined) {
      throw new CommandError(STORE_ERRORS.noSuchKey);
    }
    throw new CommandError(Errors.notInteger);
  }
  s.store.lists.lset(argv[1], clamp(index), argv[3]);
  s.store.signalModified(argv[1]); // even with the same value, as Redis
  notify(s, "lset", argv[1], "l");
  s.out.ok();
};

/** An int64 as a safe number (beyond it, every index is out of range). */
function clamp(v: number | bigint): number {
  if (typeof v === "number") return v;
  return v > 0n ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
}

const linsert: Handler = (s, argv) => {
  const where = upper(argv[2]);
  if (where !== "BEFORE" && where !== "AFTER") {
    throw new CommandError(Errors.syntax);
  }
  const n = s.store.lists.linsert(argv[1], where, argv[3], argv[4]);
  if (n > 0) notify(s, "linsert", argv[1], "l");
  s.out.int(n);
};

const lrange: Handler = (s, argv) => {
  const start = intArg(argv[2]);
  const stop = intArg(argv[3]);
  bulks(s.out, s.store.lists.lrange(argv[1], start, stop));
};

const lrem: Handler = (s, argv) => {
  const count = intArg(argv[2]);
  const n = s.store.lists.lrem(argv[1], count, argv[3]);
  if (n > 0) {
    notify(s, "lrem", argv[1], "l");
    notifyIfGone(s, argv[1]);
  }
  s.out.int(n);
};

const ltrim: Handler = (s, argv) => {
  const start = intArg(argv[2]);
  const stop = intArg(argv[3]);
  const existed = s.store.lookupAs(argv[1], "list") !== undefined;
  s.store.lists.ltrim(argv[1], start, stop);
  if (existed) {
    s.store.signalModified(argv[1]); // even when nothing was cut, as Redis
    notify(s, "ltrim", argv[1], "l");
    notifyIfGone(s, argv[1]);
  }
  s.out.ok();
};

const lpos: Handler = (s, argv) => {
  let rank = 1;
  let count: number | undefined;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const more = j + 1 < argv.length;
    if (opt === "RANK" && more) {
      const v = parseInt64(argv[++j]);
      if (v === null) throw new CommandError(Errors.notInteger);
      if (v === 0) throw new CommandError(ERR_RANK);
      // RANK -2^63 cannot be negated: Redis ends up treating it as -1.
      rank = v === -9223372036854775808n ? -1 : clamp(v);
    } else if (opt === "COUNT" && more) {
      count = positiveArg(argv[++j], ERR_COUNT);
    } else if (opt === "MAXLEN" && more) {
      maxlen = positiveArg(argv[++j], ERR_MAXLEN);
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  const lists = s.store.lists;
  if (count === undefined) {
    const at = lists.lpos(argv[1], argv[2], { rank, maxlen });
    if (at === undefined) s.out.nil();
    else s.out.int(at);
    return;
  }
  const all = lists.lpos(argv[1], argv[2], { rank, count, maxlen });
  s.out.array(all.length);
  for (const i of all) s.out.int(i);
};

const lmove: Handler = (s, argv) => {
  const from = whereArg(argv[3]);
  const to = whereArg(argv[4]);
  const v = s.store.lists.lmove(argv[1], argv[2], from, to);
  if (v !== undefined) moved(s, argv[1], argv[2], from, to);
  s.out.bulkOrNil(v);
};

/** LMOVE's events: the push on the destination, the pop on the source,
 * then `del` when the source emptied. */
function moved(
  s: Session,
  src: string,
  dst: string,
  from: "LEFT" | "RIGHT",
  to: "LEFT" | "RIGHT",
): void {
  notify(s, to === "LEFT" ? "lpush" : "rpush", dst, "l");
  notify(s, from === "LEFT" ? "lpop" : "rpop", src, "l");
  notifyIfGone(s, src);
}

const rpoplpush: Handler = (s, argv) => {
  const v = s.store.lists.rpoplpush(argv[1], argv[2]);
  if (v !== undefined) moved(s, argv[1], argv[2], "RIGHT", "LEFT");
  s.out.bulkOrNil(v);
};

const lmpop: Handler = (s, argv) => {
  const numkeys = atLeastOneArg(argv[1], ERR_NUMKEYS);
  const whereAt = 2 + numkeys;
  if (whereAt >= argv.length) throw new CommandError(Errors.syntax);
  const where = whereArg(argv[whereAt]);
  let count = -1;
  for (let j = whereAt + 1; j < argv.length; j++) {
    if (count === -1 && upper(argv[j]) === "COUNT" && j + 1 < argv.length) {
      count = atLeastOneArg(argv[++j], ERR_COUNT_POSITIVE);
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  const r = s.store.lists.lmpop(
    argv.slice(2, whereAt),
    where,
    count === -1 ? 1 : count,
  );
  if (r === undefined) {
    s.out.nilArray();
    return;
  }
  notify(s, where === "LEFT" ? "lpop" : "rpop", r[0], "l");
  notifyIfGone(s, r[0]);
  s.out.array(2);
  s.out.bulk(r[0]);
  bulks(s.out, r[1]);
};

/** Handlers of the lists family, by command name. */
export const listCommands: Record<string, Handler> = {
  lpush: push(true, true),
  rpush: push(false, true),
  lpushx: push(true, false),
  rpushx: push(false, false),
  lpop: pop(true),
  rpop: pop(false),
  llen,
  lindex,
  lset,
  linsert,
  lrange,
  lrem,
  ltrim,
  lpos,
  lmove,
  rpoplpush,
  lmpop,
};
