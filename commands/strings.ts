// String commands: GET, SET and its family, counters, ranges.

import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";
import {
  addFloatStrings,
  addInt64,
  isInt64Min,
  negate,
  parseInt64,
} from "../_number.ts";

const INT64_MAX = 9223372036854775807n;

/** Validates an expire argument and turns it into an absolute time in ms,
 * as Redis's getExpireMillisecondsOrReply (SET, SETEX, GETEX). */
export function expireTime(
  cmd: string,
  raw: string,
  unitSeconds: boolean,
  absolute: boolean,
  now: number,
): number {
  const v = int64Arg(raw);
  const invalid = `ERR invalid expire time in '${cmd}' command`;
  if (v <= 0) throw new CommandError(invalid);
  let ms = BigInt(v);
  if (unitSeconds) {
    if (ms > INT64_MAX / 1000n) throw new CommandError(invalid);
    ms *= 1000n;
  }
  if (!absolute) {
    if (ms > INT64_MAX - BigInt(now)) throw new CommandError(invalid);
    ms += BigInt(now);
  }
  return Number(ms);
}

const NX = 1,
  XX = 2,
  GET = 4,
  KEEPTTL = 8,
  EX = 16,
  PX = 32,
  EXAT = 64,
  PXAT = 128,
  PERSIST = 256;
const EXPIRES = EX | PX | EXAT | PXAT;

/** Parses SET's and GETEX's options as Redis's
 * parseExtendedStringArgumentsOrReply does. */
function parseStringOptions(
  argv: string[],
  from: number,
  forSet: boolean,
): { flags: number; expire: string | undefined } {
  let flags = 0;
  let expire: string | undefined;
  for (let j = from; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const hasNext = j + 1 < argv.length;
    if (opt === "NX" && !(flags & XX) && forSet) flags |= NX;
    else if (opt === "XX" && !(flags & NX) && forSet) flags |= XX;
    else if (opt === "GET" && forSet) flags |= GET;
    else if (
      opt === "KEEPTTL" && !(flags & (PERSIST | EXPIRES)) && forSet
    ) flags |= KEEPTTL;
    else if (
      opt === "PERSIST" && !forSet && !(flags & (EXPIRES | KEEPTTL))
    ) flags |= PERSIST;
    else if (
      opt === "EX" && !(flags & (KEEPTTL | PERSIST | EXAT | PX | PXAT)) &&
      hasNext
    ) {
      flags |= EX;
      expire = argv[++j];
    } else if (
      opt === "PX" && !(flags & (KEEPTTL | PERSIST | EX | EXAT | PXAT)) &&
      hasNext
    ) {
      flags |= PX;
      expire = argv[++j];
    } else if (
      opt === "EXAT" && !(flags & (KEEPTTL | PERSIST | EX | PX | PXAT)) &&
      hasNext
    ) {
      flags |= EXAT;
      expire = argv[++j];
    } else if (
      opt === "PXAT" && !(flags & (KEEPTTL | PERSIST | EX | EXAT | PX)) &&
      hasNext
    ) {
      flags |= PXAT;
      expire = argv[++j];
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  return { flags, expire };
}

function expireFromFlags(
  cmd: string,
  flags: number,
  raw: string | undefined,
  now: number,
): number | undefined {
  if (raw === undefined) return undefined;
  return expireTime(
    cmd,
    raw,
    (flags & (EX | EXAT)) !== 0,
    (flags & (EXAT | PXAT)) !== 0,
    now,
  );
}

function checkLength(s: Session, total: number): void {
  if (total > s.server.config.protoMaxBulkLen) {
    throw new CommandError(Errors.tooBig);
  }
}

const get: Handler = (s, argv) => {
  s.out.bulkOrNil(s.store.read(argv[1]));
};

const set: Handler = (s, argv) => {
  const store = s.store;
  if (argv.length === 3) { // the common case: SET key value
    store.set(argv[1], argv[2]);
    store.dirty++;
    s.out.ok();
    return;
  }
  const { flags, expire } = parseStringOptions(argv, 3, true);
  const expireAt = expireFromFlags("set", flags, expire, store.clock());
  const key = argv[1];
  let found: boolean;
  if (flags & GET) {
    const old = store.read(key);
    s.out.bulkOrNil(old);
    found = old !== undefined;
  } else {
    found = store.has(key);
  }
  if ((flags & NX && found) || (flags & XX && !found)) {
    if (!(flags & GET)) s.out.nil();
    return;
  }
  if (expireAt !== undefined) store.set(key, argv[2], { expireAt });
  else if (flags & KEEPTTL) store.set(key, argv[2], { keepTtl: true });
  else store.set(key, argv[2]);
  store.dirty++;
  if (!(flags & GET)) s.out.ok();
};

const setnx: Handler = (s, argv) => {
  if (s.store.has(argv[1])) {
    s.out.int(0);
    return;
  }
  s.store.set(argv[1], argv[2]);
  s.store.dirty++;
  s.out.int(1);
};

function setWithExpire(cmd: string, unitSeconds: boolean): Handler {
  return (s, argv) => {
    const expireAt = expireTime(
      cmd,
      argv[2],
      unitSeconds,
      false,
      s.store.clock(),
    );
    s.store.set(argv[1], argv[3], { expireAt });
    s.store.dirty++;
    s.out.ok();
  };
}

const getset: Handler = (s, argv) => {
  s.out.bulkOrNil(s.store.read(argv[1]));
  s.store.set(argv[1], argv[2]);
  s.store.dirty++;
};

const getdel: Handler = (s, argv) => {
  const v = s.store.read(argv[1]);
  s.out.bulkOrNil(v);
  if (v !== undefined) {
    s.store.delete(argv[1]);
    s.store.dirty++;
  }
};

const getex: Handler = (s, argv) => {
  const store = s.store;
  const { flags, expire } = parseStringOptions(argv, 2, false);
  const now = store.clock();
  const expireAt = expireFromFlags("getex", flags, expire, now);
  const key = argv[1];
  const v = store.read(key);
  s.out.bulkOrNil(v);
  if (v === undefined) return;
  if (expireAt !== undefined) {
    store.setExpireAt(key, expireAt);
    store.dirty++;
  } else if (flags & PERSIST) {
    if (store.persist(key)) store.dirty++;
  }
};

const mget: Handler = (s, argv) => {
  s.out.array(argv.length - 1);
  for (let i = 1; i < argv.length; i++) s.out.bulkOrNil(s.store.read(argv[i]));
};

function checkPairs(argv: string[]): void {
  if (argv.length % 2 === 0) {
    throw new CommandError(
      `ERR wrong number of arguments for '${argv[0].toLowerCase()}' command`,
    );
  }
}

const mset: Handler = (s, argv) => {
  checkPairs(argv);
  for (let i = 1; i < argv.length; i += 2) s.store.set(argv[i], argv[i + 1]);
  s.store.dirty += (argv.length - 1) / 2;
  s.out.ok();
};

const msetnx: Handler = (s, argv) => {
  checkPairs(argv);
  for (let i = 1; i < argv.length; i += 2) {
    if (s.store.has(argv[i])) {
      s.out.int(0);
      return;
    }
  }
  for (let i = 1; i < argv.length; i += 2) s.store.set(argv[i], argv[i + 1]);
  s.store.dirty += (argv.length - 1) / 2;
  s.out.int(1);
};

const append: Handler = (s, argv) => {
  const old = s.store.get(argv[1]);
  let next: string;
  if (old === undefined) {
    next = argv[2];
    s.store.set(argv[1], next);
  } else {
    checkLength(s, old.length + argv[2].length);
    next = old + argv[2];
    s.store.set(argv[1], next, { keepTtl: true });
  }
  s.store.dirty++;
  s.out.int(next.length);
};

const strlen: Handler = (s, argv) => {
  s.out.int(s.store.read(argv[1])?.length ?? 0);
};

const getrange: Handler = (s, argv) => {
  let start = intArg(argv[2]);
  let end = intArg(argv[3]);
  const v = s.store.read(argv[1]);
  if (v === undefined || (start < 0 && end < 0 && start > end)) {
    s.out.bulk("");
    return;
  }
  const len = v.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) s.out.bulk("");
  else s.out.bulk(v.slice(start, end + 1));
};

const setrange: Handler = (s, argv) => {
  const offset = intArg(argv[2]);
  if (offset < 0) throw new CommandError("ERR offset is out of range");
  const value = argv[3];
  const old = s.store.get(argv[1]);
  if (old === undefined) {
    if (value.length === 0) {
      s.out.int(0);
      return;
    }
    checkLength(s, offset + value.length);
    s.store.set(argv[1], "\0".repeat(offset) + value);
    s.store.dirty++;
    s.out.int(offset + value.length);
    return;
  }
  if (value.length === 0) {
    s.out.int(old.length);
    return;
  }
  checkLength(s, offset + value.length);
  const padded = old.length < offset
    ? old + "\0".repeat(offset - old.length)
    : old;
  const next = padded.slice(0, offset) + value +
    padded.slice(offset + value.length);
  s.store.set(argv[1], next, { keepTtl: true });
  s.store.dirty++;
  s.out.int(next.length);
};

function incrBy(s: Session, key: string, by: number | bigint): void {
  const store = s.store;
  const old = store.get(key);
  let current: number | bigint = 0;
  if (old !== undefined) {
    const parsed = parseInt64(old);
    if (parsed === null) throw new CommandError(Errors.notInteger);
    current = parsed;
  }
  const next = addInt64(current, by);
  if (next === null) throw new CommandError(Errors.overflow);
  store.set(key, String(next), old === undefined ? undefined : KEEP);
  store.dirty++;
  s.out.int(next);
}

const KEEP = Object.freeze({ keepTtl: true });

const incr: Handler = (s, argv) => incrBy(s, argv[1], 1);
const decr: Handler = (s, argv) => incrBy(s, argv[1], -1);
const incrby: Handler = (s, argv) => incrBy(s, argv[1], int64Arg(argv[2]));
const decrby: Handler = (s, argv) => {
  const by = int64Arg(argv[2]);
  if (isInt64Min(by)) throw new CommandError("ERR decrement would overflow");
  incrBy(s, argv[1], negate(by));
};

const incrbyfloat: Handler = (s, argv) => {
  const old = s.store.get(argv[1]);
  const next = addFloatStrings(old ?? "0", argv[2]);
  if (next === null) throw new CommandError(Errors.notFloat);
  if (next === "inf") {
    throw new CommandError("ERR increment would produce NaN or Infinity");
  }
  s.store.set(argv[1], next, old === undefined ? undefined : KEEP);
  s.store.dirty++;
  s.out.bulk(next);
};

/** Handlers of the string family, by command name. */
export const stringCommands: Record<string, Handler> = {
  get,
  set,
  setnx,
  setex: setWithExpire("setex", true),
  psetex: setWithExpire("psetex", false),
  getset,
  getdel,
  getex,
  mget,
  mset,
  msetnx,
  append,
  strlen,
  getrange,
  substr: getrange,
  setrange,
  incr,
  decr,
  incrby,
  decrby,
  incrbyfloat,
};
