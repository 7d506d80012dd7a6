// Generic keyspace commands: deletion, expiry, renaming, iteration.

import { globMatch } from "../_glob.ts";
import type { ExpireCondition } from "../store.ts";
import {
  CommandError,
  Errors,
  forcePropagation,
  type Handler,
  helpReply,
  int64Arg,
  intArg,
  upper,
} from "./_shared.ts";
import { parseInt64 } from "../_number.ts";
import { notify } from "./pubsub.ts";
import { dbIndexArg, dbOf } from "./connection.ts";

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

const del: Handler = (s, argv) => {
  if (s.server.config.notifyKeyspaceEvents === 0) {
    s.out.int(s.store.del(argv.slice(1)));
    return;
  }
  let n = 0;
  for (let i = 1; i < argv.length; i++) {
    if (s.store.del([argv[i]]) === 0) continue;
    n++;
    notify(s, "del", argv[i], "g");
  }
  s.out.int(n);
};

const exists: Handler = (s, argv) => {
  s.out.int(s.store.exists(argv.slice(1)));
};

const EXPIRE_NX = 1, EXPIRE_XX = 2, EXPIRE_GT = 4, EXPIRE_LT = 8;

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, as Redis's expireGenericCommand. */
function expireCommand(unitSeconds: boolean, relative: boolean): Handler {
  return (s, argv) => {
    let flag = 0;
    let condition: ExpireCondition | undefined;
    for (let j = 3; j < argv.length; j++) {
      const opt = upper(argv[j]);
      if (opt === "NX") flag |= EXPIRE_NX;
      else if (opt === "XX") flag |= EXPIRE_XX;
      else if (opt === "GT") flag |= EXPIRE_GT;
      else if (opt === "LT") flag |= EXPIRE_LT;
      else throw new CommandError(`ERR Unsupported option ${argv[j]}`);
      condition = opt as ExpireCondition;
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
    const at = Number(when);
    s.propagate = [["PEXPIREAT", argv[1], when.toString()]];
    const set = s.store.pexpireAt(argv[1], at, condition);
    if (set) {
      notify(s, s.store.has(argv[1]) ? "expire" : "del", argv[1], "g");
    }
    s.out.int(set ? 1 : 0);
  };
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME. */
function ttlCommand(seconds: boolean, absolute: boolean): Handler {
  return (s, argv) => {
    const v = absolute ? s.store.pexpireTime(argv[1]) : s.store.pttl(argv[1]);
    s.out.int(seconds && v >= 0 ? Math.floor((v + 500) / 1000) : v);
  };
}

const persist: Handler = (s, argv) => {
  const removed = s.store.persistKey(argv[1]);
  if (removed) notify(s, "persist", argv[1], "g");
  s.out.int(removed ? 1 : 0);
};

const type: Handler = (s, argv) => s.out.simple(s.store.type(argv[1]));

function renameCommand(nx: boolean): Handler {
  return (s, argv) => {
    // Redis deletes an existing destination and adds it anew: `new`.
    const replaced = s.server.config.notifyKeyspaceEvents !== 0 &&
      argv[1] !== argv[2] && s.store.has(argv[2]);
    const renamed = s.store.rename(argv[1], argv[2], nx);
    if (renamed && argv[1] !== argv[2]) {
      if (replaced) notify(s, "new", argv[2], "n");
      notify(s, "rename_from", argv[1], "g");
      notify(s, "rename_to", argv[2], "g");
    }
    if (nx) s.out.int(renamed ? 1 : 0);
    else s.out.ok();
  };
}

const randomkey: Handler = (s) => s.out.bulkOrNil(s.store.randomKey());

const touch: Handler = exists;

const SAME_OBJECT = "ERR source and destination objects are the same";

const copy: Handler = (s, argv) => {
  const [, src, dst] = argv;
  let replace = false;
  let db = s.client.db;
  let target = s.store;
  for (let j = 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    if (opt === "REPLACE") replace = true;
    else if (opt === "DB" && j + 1 < argv.length) {
      // Checked here, before the options after it, as Redis.
      db = dbIndexArg(argv[++j]);
      target = dbOf(s, db);
    } else throw new CommandError(Errors.syntax);
  }
  if (src === dst && target === s.store) throw new CommandError(SAME_OBJECT);
  const copied = s.store.copy(src, dst, replace, target);
  if (copied) notify(s, "copy_to", dst, "g", db);
  s.out.int(copied ? 1 : 0);
};

/** MOVE key db: into another database, unless it exists there. */
const move: Handler = (s, argv) => {
  const key = argv[1];
  const db = dbIndexArg(argv[2]);
  const target = dbOf(s, db);
  if (target === s.store) throw new CommandError(SAME_OBJECT);
  if (!s.store.move(key, target)) {
    s.out.int(0);
    return;
  }
  notify(s, "move_from", key, "g");
  notify(s, "move_to", key, "g", db);
  s.out.int(1);
};

/** SWAPDB index1 index2: the two databases exchange their keys; clients
 * stay in the database they selected. */
const swapdb: Handler = (s, argv) => {
  const a = dbIndexArg(argv[1], "ERR invalid first DB index");
  const b = dbIndexArg(argv[2], "ERR invalid second DB index");
  const first = dbOf(s, a);
  first.swap(dbOf(s, b));
  s.store.dirty++;
  s.out.ok();
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

const flushdb: Handler = (s, argv) => {
  flushMode(argv);
  s.store.flush();
  s.out.ok();
};

const flushall: Handler = (s, argv) => {
  flushMode(argv);
  let n = 0;
  for (const [, store] of s.server.databases) n += store.clear();
  // Counted where the command ran; logged even when every database was
  // empty, as Redis 7 forces its propagation.
  s.store.dirty += n;
  forcePropagation(s, [argv]);
  s.out.ok();
};

/** FLUSH [ASYNC|SYNC]: ours; empties the store, replies how many keys it
 * removed. */
const flush: Handler = (s, argv) => {
  flushMode(argv);
  s.out.int(s.store.flush());
};

/** OBJECT ENCODING of a string, by its content as Redis chooses it when
 * the value is set: a canonical 64-bit integer is `int`, up to 44 bytes
 * `embstr`, longer `raw`. (Redis also turns a value changed in place by
 * APPEND or SETRANGE into `raw`; we do not keep that history.) */
function stringEncoding(v: string): string {
  if (v.length <= 20 && parseInt64(v) !== null && String(parseInt64(v)) === v) {
    return "int";
  }
  return v.length <= 44 ? "embstr" : "raw";
}

const objectEncoding: Handler = (s, argv) => {
  const v = s.store.value(argv[2]);
  if (v === undefined) return s.out.nil();
  s.out.bulk(
    typeof v === "string" ? stringEncoding(v) : v.encoding(s.store.limits),
  );
};

/** Redis shares the integers 0 to 9999 between keys, with a refcount that
 * never changes (INT_MAX); every other value has one reference. */
const objectRefcount: Handler = (s, argv) => {
  const v = s.store.value(argv[2]);
  if (v === undefined) return s.out.nil();
  const shared = typeof v === "string" && /^(0|[1-9]\d{0,3})$/.test(v);
  s.out.int(shared ? 2147483647 : 1);
};

const objectHelp: Handler = (s) =>
  helpReply(s, [
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
  ]);

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
  flushall,
  move,
  swapdb,
  flush,
  "object|encoding": objectEncoding,
  "object|refcount": objectRefcount,
  "object|help": objectHelp,
};
