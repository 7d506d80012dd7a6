// Hash commands: HSET, HGET and the rest of the family.

import { parseFloatStrict } from "../_number.ts";
import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  type Session,
} from "./_shared.ts";
import {
  clampCount,
  parseCursor,
  parseScanOptions,
  signedCount,
} from "./sets.ts";
import { notify, notifyIfGone } from "./pubsub.ts";

function checkPairs(argv: string[]): void {
  if (argv.length % 2 === 1) {
    throw new CommandError(
      `ERR wrong number of arguments for '${argv[0].toLowerCase()}' command`,
    );
  }
}

function bulks(s: Session, items: readonly string[]): void {
  s.out.array(items.length);
  for (const m of items) s.out.bulk(m);
}

const hset: Handler = (s, argv) => {
  checkPairs(argv);
  const n = s.store.hashes.hsetFlat(argv[1], argv, 2);
  notify(s, "hset", argv[1], "h");
  s.out.int(n);
};

const hmset: Handler = (s, argv) => {
  checkPairs(argv);
  s.store.hashes.hsetFlat(argv[1], argv, 2);
  notify(s, "hset", argv[1], "h");
  s.out.ok();
};

const hsetnx: Handler = (s, argv) => {
  const set = s.store.hashes.hsetnx(argv[1], argv[2], argv[3]);
  if (set) notify(s, "hset", argv[1], "h");
  s.out.int(set ? 1 : 0);
};

const hget: Handler = (s, argv) => {
  s.out.bulkOrNil(s.store.hashes.hget(argv[1], argv[2]));
};

const hmget: Handler = (s, argv) => {
  const values = s.store.hashes.hmget(argv[1], argv.slice(2));
  s.out.array(values.length);
  for (const v of values) s.out.bulkOrNil(v);
};

const hgetall: Handler = (s, argv) => {
  const all = s.store.hashes.hgetall(argv[1]);
  s.out.map(all.length);
  for (const [f, v] of all) {
    s.out.bulk(f);
    s.out.bulk(v);
  }
};

const hkeys: Handler = (s, argv) => bulks(s, s.store.hashes.hkeys(argv[1]));
const hvals: Handler = (s, argv) => bulks(s, s.store.hashes.hvals(argv[1]));

const hdel: Handler = (s, argv) => {
  const n = s.store.hashes.hdel(argv[1], argv.slice(2));
  if (n > 0) {
    notify(s, "hdel", argv[1], "h");
    notifyIfGone(s, argv[1]);
  }
  s.out.int(n);
};

const hexists: Handler = (s, argv) => {
  s.out.int(s.store.hashes.hexists(argv[1], argv[2]) ? 1 : 0);
};

const hlen: Handler = (s, argv) => s.out.int(s.store.hashes.hlen(argv[1]));

const hstrlen: Handler = (s, argv) => {
  s.out.int(s.store.hashes.hstrlen(argv[1], argv[2]));
};

const hincrby: Handler = (s, argv) => {
  const by = int64Arg(argv[3]);
  const n = s.store.hashes.hincrby(argv[1], argv[2], by);
  s.store.signalModified(argv[1]); // even by 0, as Redis
  notify(s, "hincrby", argv[1], "h");
  s.out.int(n);
};

const hincrbyfloat: Handler = (s, argv) => {
  const by = parseFloatStrict(argv[3]);
  if (by === null) throw new CommandError("ERR value is not a valid float");
  if (!Number.isFinite(by) && /inf/i.test(argv[3])) {
    throw new CommandError("ERR value is NaN or Infinity");
  }
  const value = s.store.hashes.hincrbyfloat(argv[1], argv[2], argv[3]);
  // Logged as the value it produced, so a replay gives the same string.
  s.propagate = [["HSET", argv[1], argv[2], value]];
  s.store.signalModified(argv[1]); // even by 0, as Redis
  notify(s, "hincrbyfloat", argv[1], "h");
  s.out.bulk(value);
};

const LONG_HALF = 4611686018427387903n;

const hrandfield: Handler = (s, argv) => {
  const hashes = s.store.hashes;
  if (argv.length === 2) {
    s.out.bulkOrNil(hashes.hrandfield(argv[1]));
    return;
  }
  const raw = signedCount(argv[2]);
  let withValues = false;
  if (argv.length > 4) throw new CommandError(Errors.syntax);
  if (argv.length === 4) {
    if (argv[3].toLowerCase() !== "withvalues") {
      throw new CommandError(Errors.syntax);
    }
    withValues = true;
    if (typeof raw === "bigint" && (raw > LONG_HALF || raw < -LONG_HALF)) {
      throw new CommandError("ERR value is out of range");
    }
  }
  const picked = hashes.hrandfieldCount(argv[1], clampCount(raw));
  const out = s.out;
  if (!withValues) {
    out.array(picked.length);
    for (const [f] of picked) out.bulk(f);
  } else if (out.resp === 3) {
    out.array(picked.length);
    for (const [f, v] of picked) {
      out.array(2);
      out.bulk(f);
      out.bulk(v);
    }
  } else {
    out.array(picked.length * 2);
    for (const [f, v] of picked) {
      out.bulk(f);
      out.bulk(v);
    }
  }
};

const hscan: Handler = (s, argv) => {
  const cursor = parseCursor(argv[2]);
  const store = s.store;
  const key = argv[1];
  // As Redis: a missing key answers before the options are looked at.
  if (store.lookupAs(key, "hash") === undefined) {
    store.stats.misses++;
    s.out.array(2);
    s.out.bulk("0");
    s.out.array(0);
    return;
  }
  const r = store.hashes.hscan(key, cursor, parseScanOptions(argv));
  s.out.array(2);
  s.out.bulk(String(r.cursor));
  s.out.array(r.items.length * 2);
  for (const [f, v] of r.items) {
    s.out.bulk(f);
    s.out.bulk(v);
  }
};

/** Handlers of the hashes family, by command name. */
export const hashCommands: Record<string, Handler> = {
  hset,
  hmset,
  hsetnx,
  hget,
  hmget,
  hgetall,
  hkeys,
  hvals,
  hdel,
  hexists,
  hlen,
  hstrlen,
  hincrby,
  hincrbyfloat,
  hrandfield,
  hscan,
};
