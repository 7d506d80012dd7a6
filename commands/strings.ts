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
import { notify } from "./pubsub.ts";

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

/** An absolute time in ms as a command argument that parses back as an
 * int64 (times past 2^63 are clamped, as they lost precision anyway). */
function msArg(at: number): string {
  return at >= 9223372036854775807 ? "9223372036854775807" : String(at);
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

const get: Handler = (s, argv) => {
  s.out.bulkOrNil(s.store.read(argv[1]));
};

const set: Handler = (s, argv) => {
  const store = s.store;
  if (argv.length === 3) { // the common case: SET key value
    store.set(argv[1], argv[2]);
    store.dirty++;
    notify(s, "set", argv[1], "$");
    s.out.ok();
    return;
  }
  const { flags, expire } = parseStringOptions(argv, 3, true);
  const expireAt = expireFromFlags("set", flags, expire, store.clock());
  const r = store.setIf(argv[1], argv[2], {
    nx: (flags & NX) !== 0,
    xx: (flags & XX) !== 0,
    get: (flags & GET) !== 0,
    keepTtl: (flags & KEEPTTL) !== 0,
    expireAt,
  });
  // The log gets the effect: absolute expiry, no conditions.
  s.propagate = [
    expireAt !== undefined
      ? ["SET", argv[1], argv[2], "PXAT", msArg(expireAt)]
      : flags & KEEPTTL
      ? ["SET", argv[1], argv[2], "KEEPTTL"]
      : ["SET", argv[1], argv[2]],
  ];
  if (r.written) {
    notify(s, "set", argv[1], "$");
    if (expireAt !== undefined) notify(s, "expire", argv[1], "g");
  }
  if (flags & GET) s.out.bulkOrNil(r.previous);
  else if (r.written) s.out.ok();
  else s.out.nil();
};

const setnx: Handler = (s, argv) => {
  const written = s.store.setNx(argv[1], argv[2]);
  if (written) notify(s, "set", argv[1], "$");
  s.out.int(written ? 1 : 0);
};

function setWithExpire(cmd: string, unitSeconds: boolean): Handler {
  return (s, argv) => {
    const store = s.store;
    const expireAt = expireTime(
      cmd,
      argv[2],
      unitSeconds,
      false,
      store.clock(),
    );
    store.set(argv[1], argv[3], { expireAt });
    store.dirty++;
    s.propagate = [["SET", argv[1], argv[3], "PXAT", msArg(expireAt)]];
    notify(s, "set", argv[1], "$");
    notify(s, "expire", argv[1], "g");
    s.out.ok();
  };
}

const getset: Handler = (s, argv) => {
  const old = s.store.getSet(argv[1], argv[2]);
  notify(s, "set", argv[1], "$");
  s.out.bulkOrNil(old);
};

const getdel: Handler = (s, argv) => {
  const v = s.store.getDel(argv[1]);
  if (v !== undefined) notify(s, "del", argv[1], "g");
  s.out.bulkOrNil(v);
};

const getex: Handler = (s, argv) => {
  const store = s.store;
  const { flags, expire } = parseStringOptions(argv, 2, false);
  const expireAt = expireFromFlags("getex", flags, expire, store.clock());
  const hadTtl = store.expiryOf(argv[1]) !== undefined;
  const v = store.getEx(argv[1], {
    expireAt,
    persist: (flags & PERSIST) !== 0,
  });
  if (v !== undefined) {
    if (expireAt !== undefined) {
      notify(s, store.has(argv[1]) ? "expire" : "del", argv[1], "g");
    } else if (flags & PERSIST && hadTtl) notify(s, "persist", argv[1], "g");
  }
  s.out.bulkOrNil(v);
  s.propagate = expireAt !== undefined
    ? [["PEXPIREAT", argv[1], msArg(expireAt)]]
    : [["PERSIST", argv[1]]];
};

const mget: Handler = (s, argv) => {
  s.out.array(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    // A key of another type reads as nil, as in Redis.
    const v = s.store.readValue(argv[i]);
    s.out.bulkOrNil(typeof v === "string" ? v : undefined);
  }
};

function pairs(argv: string[]): [string, string][] {
  if (argv.length % 2 === 0) {
    throw new CommandError(
      `ERR wrong number of arguments for '${argv[0].toLowerCase()}' command`,
    );
  }
  const out: [string, string][] = [];
  for (let i = 1; i < argv.length; i += 2) out.push([argv[i], argv[i + 1]]);
  return out;
}

const mset: Handler = (s, argv) => {
  if (argv.length % 2 === 0) {
    throw new CommandError("ERR wrong number of arguments for 'mset' command");
  }
  // Straight from the arguments: no pair arrays on this hot path.
  const store = s.store;
  for (let i = 1; i < argv.length; i += 2) store.set(argv[i], argv[i + 1]);
  store.dirty += (argv.length - 1) / 2;
  if (s.server.config.notifyKeyspaceEvents !== 0) {
    for (let i = 1; i < argv.length; i += 2) notify(s, "set", argv[i], "$");
  }
  s.out.ok();
};

const msetnx: Handler = (s, argv) => {
  const kv = pairs(argv);
  const written = s.store.msetNx(kv);
  if (written) { for (const [k] of kv) notify(s, "set", k, "$"); }
  s.out.int(written ? 1 : 0);
};

const append: Handler = (s, argv) => {
  const n = s.store.append(argv[1], argv[2]);
  notify(s, "append", argv[1], "$");
  s.out.int(n);
};

const strlen: Handler = (s, argv) => s.out.int(s.store.strlen(argv[1]));

const getrange: Handler = (s, argv) => {
  const start = intArg(argv[2]);
  const end = intArg(argv[3]);
  s.out.bulk(s.store.getRange(argv[1], start, end));
};

const setrange: Handler = (s, argv) => {
  const n = s.store.setRange(argv[1], intArg(argv[2]), argv[3]);
  if (argv[3].length > 0) notify(s, "setrange", argv[1], "$");
  s.out.int(n);
};

function incrReply(s: Session, key: string, n: number | bigint): void {
  notify(s, "incrby", key, "$");
  s.out.int(n);
}
const incr: Handler = (s, argv) =>
  incrReply(s, argv[1], s.store.incrBy(argv[1], 1));
const decr: Handler = (s, argv) =>
  incrReply(s, argv[1], s.store.incrBy(argv[1], -1));
const incrby: Handler = (s, argv) => {
  incrReply(s, argv[1], s.store.incrBy(argv[1], int64Arg(argv[2])));
};
const decrby: Handler = (s, argv) => {
  incrReply(s, argv[1], s.store.decrBy(argv[1], int64Arg(argv[2])));
};

const incrbyfloat: Handler = (s, argv) => {
  const value = s.store.incrByFloat(argv[1], argv[2]);
  // Logged as the value it produced, so a replay gives the same string.
  s.propagate = [["SET", argv[1], value, "KEEPTTL"]];
  notify(s, "incrbyfloat", argv[1], "$");
  s.out.bulk(value);
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
