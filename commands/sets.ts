// Set commands: SADD, SINTER and the rest of the family.

import type { FieldScanOptions } from "../data/set.ts";
import { parseInt64 } from "../_number.ts";
import {
  CommandError,
  Errors,
  type Handler,
  intArg,
  type Session,
  upper,
} from "./_shared.ts";
import { notify, notifyIfGone } from "./pubsub.ts";

const COUNT_RANGE =
  "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
const NOT_POSITIVE = "ERR value is out of range, must be positive";

/** Parses a SCAN-family cursor as Redis's strtoul does; a cursor no
 * iteration could have returned comes back as -1. */
export function parseCursor(arg: string): number {
  if (!/^[+-]?\d+$/.test(arg)) throw new CommandError("ERR invalid cursor");
  const digits = arg.replace(/^[+-]/, "");
  const big = BigInt(digits);
  if (big > 18446744073709551615n) {
    throw new CommandError("ERR invalid cursor");
  }
  if (big === 0n) return 0;
  if (arg.startsWith("-") || big > BigInt(Number.MAX_SAFE_INTEGER)) return -1;
  return Number(big);
}

/** Parses the MATCH and COUNT options of HSCAN, SSCAN (from argv[3]). */
export function parseScanOptions(argv: string[]): FieldScanOptions {
  const options: FieldScanOptions = {};
  for (let j = 3; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const more = j + 1 < argv.length;
    if (opt === "COUNT" && more) {
      const count = intArg(argv[++j]);
      if (count < 1) throw new CommandError(Errors.syntax);
      options.count = Math.min(count, 1 << 30);
    } else if (opt === "MATCH" && more) {
      options.match = argv[++j];
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  return options;
}

/** A signed count argument (SRANDMEMBER, HRANDFIELD): int64 without its
 * smallest value, clamped to safe integers. */
export function signedCount(arg: string): number | bigint {
  const v = parseInt64(arg);
  if (v === null) throw new CommandError(Errors.notInteger);
  if (v === -9223372036854775808n) throw new CommandError(COUNT_RANGE);
  return v;
}

/** A bigint count clamped to the safe integers. */
export function clampCount(v: number | bigint): number {
  if (typeof v === "number") return v;
  return v > 0n ? Number.MAX_SAFE_INTEGER : -Number.MAX_SAFE_INTEGER;
}

function bulks(s: Session, items: readonly string[], asSet: boolean): void {
  if (asSet) s.out.set(items.length);
  else s.out.array(items.length);
  for (const m of items) s.out.bulk(m);
}

/** The event of a *STORE command: its own when it stored a result,
 * `del` when an empty result removed the destination. */
function storeEvent(
  s: Session,
  event: string,
  key: string,
  n: number,
  existed: boolean,
): void {
  if (n > 0) notify(s, event, key, "s");
  else if (existed) notify(s, "del", key, "g");
}

const sadd: Handler = (s, argv) => {
  const n = s.store.sets.sadd(argv[1], argv.slice(2));
  if (n > 0) notify(s, "sadd", argv[1], "s");
  s.out.int(n);
};

const srem: Handler = (s, argv) => {
  const n = s.store.sets.srem(argv[1], argv.slice(2));
  if (n > 0) {
    notify(s, "srem", argv[1], "s");
    notifyIfGone(s, argv[1]);
  }
  s.out.int(n);
};

const smembers: Handler = (s, argv) => {
  bulks(s, s.store.sets.smembers(argv[1]), true);
};

const sismember: Handler = (s, argv) => {
  s.out.int(s.store.sets.sismember(argv[1], argv[2]) ? 1 : 0);
};

const smismember: Handler = (s, argv) => {
  const found = s.store.sets.smismember(argv[1], argv.slice(2));
  s.out.array(found.length);
  for (const f of found) s.out.int(f ? 1 : 0);
};

const scard: Handler = (s, argv) => s.out.int(s.store.sets.scard(argv[1]));

const spop: Handler = (s, argv) => {
  const key = argv[1];
  if (argv.length === 2) {
    const m = s.store.sets.spop(key);
    if (m !== undefined) {
      s.propagate = [["SREM", key, m]];
      notify(s, "spop", key, "s");
      notifyIfGone(s, key);
    }
    s.out.bulkOrNil(m);
    return;
  }
  if (argv.length > 3) throw new CommandError(Errors.syntax);
  const v = parseInt64(argv[2]);
  if (v === null || v < 0) throw new CommandError(NOT_POSITIVE);
  const popped = s.store.sets.spopCount(key, clampCount(v));
  if (popped.length > 0) {
    s.propagate = [["SREM", key, ...popped]];
    notify(s, "spop", key, "s");
    notifyIfGone(s, key);
  }
  bulks(s, popped, true);
};

const srandmember: Handler = (s, argv) => {
  const key = argv[1];
  if (argv.length === 2) {
    s.out.bulkOrNil(s.store.sets.srandmember(key));
    return;
  }
  if (argv.length > 3) throw new CommandError(Errors.syntax);
  const count = clampCount(signedCount(argv[2]));
  bulks(s, s.store.sets.srandmemberCount(key, count), false);
};

const smove: Handler = (s, argv) => {
  const [, src, dst, member] = argv;
  const notifying = s.server.config.notifyKeyspaceEvents !== 0 && src !== dst;
  const inDst = notifying && s.store.lookupAs(dst, "set") !== undefined &&
    s.store.sets.sismember(dst, member);
  const moved = s.store.sets.smove(src, dst, member);
  if (moved && notifying) {
    notify(s, "srem", src, "s");
    notifyIfGone(s, src);
    if (!inDst) notify(s, "sadd", dst, "s");
  }
  s.out.int(moved ? 1 : 0);
};

const sinter: Handler = (s, argv) => {
  bulks(s, s.store.sets.sinter(argv.slice(1)), true);
};

const sintercard: Handler = (s, argv) => {
  const n = parseInt64(argv[1]);
  if (n === null || n < 1) {
    throw new CommandError("ERR numkeys should be greater than 0");
  }
  if (n > argv.length - 2) {
    throw new CommandError(
      "ERR Number of keys can't be greater than number of args",
    );
  }
  const numkeys = Number(n);
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    if (upper(argv[j]) === "LIMIT" && j + 1 < argv.length) {
      const v = parseInt64(argv[++j]);
      if (v === null || v < 0) {
        throw new CommandError("ERR LIMIT can't be negative");
      }
      limit = clampCount(v);
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  s.out.int(s.store.sets.sintercard(argv.slice(2, 2 + numkeys), limit));
};

const sinterstore: Handler = (s, argv) => {
  const existed = s.server.config.notifyKeyspaceEvents !== 0 &&
    s.store.has(argv[1]);
  const n = s.store.sets.sinterstore(argv[1], argv.slice(2));
  storeEvent(s, "sinterstore", argv[1], n, existed);
  s.out.int(n);
};

const sunion: Handler = (s, argv) => {
  bulks(s, s.store.sets.sunion(argv.slice(1)), true);
};

const sunionstore: Handler = (s, argv) => {
  const existed = s.server.config.notifyKeyspaceEvents !== 0 &&
    s.store.has(argv[1]);
  const n = s.store.sets.sunionstore(argv[1], argv.slice(2));
  storeEvent(s, "sunionstore", argv[1], n, existed);
  s.out.int(n);
};

const sdiff: Handler = (s, argv) => {
  bulks(s, s.store.sets.sdiff(argv.slice(1)), true);
};

const sdiffstore: Handler = (s, argv) => {
  const existed = s.server.config.notifyKeyspaceEvents !== 0 &&
    s.store.has(argv[1]);
  const n = s.store.sets.sdiffstore(argv[1], argv.slice(2));
  storeEvent(s, "sdiffstore", argv[1], n, existed);
  s.out.int(n);
};

const sscan: Handler = (s, argv) => {
  const cursor = parseCursor(argv[2]);
  const store = s.store;
  const key = argv[1];
  // As Redis: a missing key answers before the options are looked at.
  if (store.lookupAs(key, "set") === undefined) {
    store.stats.misses++;
    s.out.array(2);
    s.out.bulk("0");
    s.out.array(0);
    return;
  }
  const options = parseScanOptions(argv);
  const r = store.sets.sscan(key, cursor, options);
  s.out.array(2);
  s.out.bulk(String(r.cursor));
  bulks(s, r.items, false);
};

/** Handlers of the sets family, by command name. */
export const setCommands: Record<string, Handler> = {
  sadd,
  srem,
  smembers,
  sismember,
  smismember,
  scard,
  spop,
  srandmember,
  smove,
  sinter,
  sintercard,
  sinterstore,
  sunion,
  sunionstore,
  sdiff,
  sdiffstore,
  sscan,
};
