// Generic keyspace commands: deletion, expiry, renaming, iteration.

import { globMatch } from "../_glob.ts";
import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

function deleteKeys(s: Session, argv: string[]): number {
  let n = 0;
  for (let i = 1; i < argv.length; i++) if (s.store.delete(argv[i])) n++;
  s.store.dirty += n;
  return n;
}

const del: Handler = (s, argv) => s.out.int(deleteKeys(s, argv));

// EXISTS, TOUCH, TYPE, TTL and friends read their keys the way Redis's
// lookupKeyRead does: they count as keyspace hits or misses.
const exists: Handler = (s, argv) => {
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    if (s.store.read(argv[i]) !== undefined) n++;
  }
  s.out.int(n);
};

const EXPIRE_NX = 1, EXPIRE_XX = 2, EXPIRE_GT = 4, EXPIRE_LT = 8;

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, as Redis's expireGenericCommand. */
function expireCommand(unitSeconds: boolean, relative: boolean): Handler {
  return (s, argv) => {
    let flag = 0;
    for (let j = 3; j < argv.length; j++) {
      const opt = upper(argv[j]);
      if (opt === "NX") flag |= EXPIRE_NX;
      else if (opt === "XX") flag |= EXPIRE_XX;
      else if (opt === "GT") flag |= EXPIRE_GT;
      else if (opt === "LT") flag |= EXPIRE_LT;
      else throw new CommandError(`ERR Unsupported option ${argv[j]}`);
    }
    if ((flag & EXPIRE_NX) && (flag & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
      throw new CommandError(
        "ERR NX and XX, GT or LT options at the same time are not compatible",
      );
    }
    if ((flag & EXPIRE_GT) && (flag & EXPIRE_LT)) {
      throw new CommandError(
        "ERR GT and LT options at the same time are not compatible",
      );
    }
    let when = BigInt(int64Arg(argv[2]));
    const invalid = new CommandError(
      `ERR invalid expire time in '${argv[0].toLowerCase()}' command`,
    );
    if (unitSeconds) {
      if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) throw invalid;
      when *= 1000n;
    }
    const now = s.store.clock();
    if (relative) {
      if (when > INT64_MAX - BigInt(now)) throw invalid;
      when += BigInt(now);
    }
    const key = argv[1];
    if (!s.store.has(key)) {
      s.out.int(0);
      return;
    }
    const at = Number(when);
    if (flag) {
      const current = s.store.expireAt(key);
      if (
        ((flag & EXPIRE_NX) && current !== undefined) ||
        ((flag & EXPIRE_XX) && current === undefined) ||
        ((flag & EXPIRE_GT) && (current === undefined || at <= current)) ||
        ((flag & EXPIRE_LT) && current !== undefined && at >= current)
      ) {
        s.out.int(0);
        return;
      }
    }
    s.store.setExpireAt(key, at);
    s.store.dirty++;
    s.out.int(1);
  };
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME. */
function ttlCommand(seconds: boolean, absolute: boolean): Handler {
  return (s, argv) => {
    const key = argv[1];
    if (s.store.read(key) === undefined) {
      s.out.int(-2);
      return;
    }
    const at = s.store.expireAt(key);
    if (at === undefined) {
      s.out.int(-1);
      return;
    }
    let v = absolute ? at : Math.max(0, at - s.store.clock());
    if (seconds) v = Math.floor((v + 500) / 1000);
    s.out.int(v);
  };
}

const persist: Handler = (s, argv) => {
  const removed = s.store.persist(argv[1]);
  if (removed) s.store.dirty++;
  s.out.int(removed ? 1 : 0);
};

const type: Handler = (s, argv) =>
  s.out.simple(s.store.read(argv[1]) === undefined ? "none" : "string");

function renameCommand(nx: boolean): Handler {
  return (s, argv) => {
    const store = s.store;
    const [, src, dst] = argv;
    const value = store.get(src);
    if (value === undefined) throw new CommandError(Errors.noSuchKey);
    if (src === dst) {
      if (nx) s.out.int(0);
      else s.out.ok();
      return;
    }
    if (nx && store.has(dst)) {
      s.out.int(0);
      return;
    }
    const expireAt = store.expireAt(src);
    store.delete(src);
    store.set(dst, value, expireAt === undefined ? undefined : { expireAt });
    store.dirty++;
    if (nx) s.out.int(1);
    else s.out.ok();
  };
}

const randomkey: Handler = (s) => s.out.bulkOrNil(s.store.randomKey());

const touch: Handler = exists;

const copy: Handler = (s, argv) => {
  const store = s.store;
  const [, src, dst] = argv;
  let replace = false;
  let db = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    if (opt === "REPLACE") replace = true;
    else if (opt === "DB" && j + 1 < argv.length) {
      db = intArg(argv[++j]);
    } else throw new CommandError(Errors.syntax);
  }
  if (db !== 0) throw new CommandError("ERR DB index is out of range");
  if (src === dst) {
    throw new CommandError("ERR source and destination objects are the same");
  }
  const value = store.read(src);
  if (value === undefined) {
    s.out.int(0);
    return;
  }
  if (store.has(dst)) {
    if (!replace) {
      s.out.int(0);
      return;
    }
    store.delete(dst);
  }
  const expireAt = store.expireAt(src);
  store.set(dst, value, expireAt === undefined ? undefined : { expireAt });
  store.dirty++;
  s.out.int(1);
};

const scan: Handler = (s, argv) => {
  // strtoull's rules: an optional sign, digits, at most 2^64 - 1; a
  // negative cursor wraps around to a huge one, which ends the iteration.
  const cursorArg = argv[1];
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
  let count = 10;
  let match: string | undefined;
  let typeName: string | undefined;
  for (let j = 2; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const more = j + 1 < argv.length;
    if (opt === "COUNT" && more) {
      count = intArg(argv[++j]);
      if (count < 1) throw new CommandError(Errors.syntax);
    } else if (opt === "MATCH" && more) {
      match = argv[++j];
    } else if (opt === "TYPE" && more) {
      typeName = argv[++j].toLowerCase();
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  const pattern = match === "*" ? undefined : match;
  const store = s.store;
  const filter = pattern === undefined && typeName === undefined
    ? undefined
    : (key: string) =>
      (pattern === undefined || globMatch(pattern, key)) &&
      (typeName === undefined || store.type(key) === typeName);
  const result = Number.isSafeInteger(cursor)
    ? store.scan(
      cursor,
      Math.min(count, 1_000_000),
      filter,
    )
    : { cursor: 0, keys: [] };
  s.out.array(2);
  s.out.bulk(String(result.cursor));
  s.out.array(result.keys.length);
  for (const k of result.keys) s.out.bulk(k);
};

const keys: Handler = (s, argv) => {
  const list = s.store.keys(argv[1]);
  s.out.array(list.length);
  for (const k of list) s.out.bulk(k);
};

const dbsize: Handler = (s) => s.out.int(s.store.size);

/** FLUSHDB and FLUSHALL take ASYNC or SYNC. */
function flushMode(argv: string[]): void {
  if (argv.length > 2) throw new CommandError(Errors.syntax);
  if (argv.length === 2) {
    const mode = upper(argv[1]);
    if (mode !== "ASYNC" && mode !== "SYNC") {
      throw new CommandError(Errors.syntax);
    }
  }
}

function flushAll(s: Session): number {
  const n = s.store.clear();
  s.store.dirty += n;
  return n;
}

const flushdb: Handler = (s, argv) => {
  flushMode(argv);
  flushAll(s);
  s.out.ok();
};

/** FLUSH [ASYNC|SYNC]: ours; empties the store, replies how many keys it
 * removed. */
const flush: Handler = (s, argv) => {
  flushMode(argv);
  s.out.int(flushAll(s));
};

/** Handlers of the keyspace family, by command name. */
export const keyCommands: Record<string, Handler> = {
  del,
  unlink: del,
  delete: del,
  exists,
  expire: expireCommand(true, true),
  pexpire: expireCommand(false, true),
  expireat: expireCommand(true, false),
  pexpireat: expireCommand(false, false),
  ttl: ttlCommand(true, false),
  pttl: ttlCommand(false, false),
  expiretime: ttlCommand(true, true),
  pexpiretime: ttlCommand(false, true),
  persist,
  type,
  rename: renameCommand(false),
  renamenx: renameCommand(true),
  randomkey,
  touch,
  copy,
  scan,
  keys,
  dbsize,
  flushdb,
  flushall: flushdb,
  flush,
};
