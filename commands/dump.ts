// DUMP and RESTORE: a key's value in Redis's serialization (an RDB value,
// the RDB version and a CRC-64), as Redis 7.0's cluster.c dumpCommand and
// restoreCommand. The value encoders and decoders are data/_rdb_values.ts.

import { binaryToBytes, bytesToBinary } from "../_bytes.ts";
import { openPayload, RdbReader, RdbWriter, sealPayload } from "../_rdb.ts";
import { RdbFormatError, readValue, writeValue } from "../data/_rdb_values.ts";
import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  upper,
} from "./_shared.ts";
import { notify } from "./pubsub.ts";

/** DUMP key: the serialized value, or nil when the key is missing. */
const dump: Handler = (s, argv) => {
  const value = s.store.readValue(argv[1]);
  if (value === undefined) {
    s.out.nil();
    return;
  }
  const w = new RdbWriter();
  writeValue(w, value, s.store.limits);
  s.out.bulk(bytesToBinary(sealPayload(w.finish())));
};

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]. */
const restore: Handler = (s, argv) => {
  const key = argv[1];
  let replace = false;
  let absttl = false;
  let idle = -1;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = upper(argv[j]);
    const more = argv.length - j - 1;
    if (opt === "REPLACE") replace = true;
    else if (opt === "ABSTTL") absttl = true;
    else if (opt === "IDLETIME" && more >= 1 && freq === -1) {
      const v = Number(int64Arg(argv[++j]));
      if (v < 0) {
        throw new CommandError("ERR Invalid IDLETIME value, must be >= 0");
      }
      idle = v;
    } else if (opt === "FREQ" && more >= 1 && idle === -1) {
      const v = Number(int64Arg(argv[++j]));
      if (v < 0 || v > 255) {
        throw new CommandError(
          "ERR Invalid FREQ value, must be >= 0 and <= 255",
        );
      }
      freq = v;
    } else throw new CommandError(Errors.syntax);
  }
  const store = s.store;
  if (!replace && store.has(key)) {
    throw new CommandError("BUSYKEY Target key name already exists.");
  }
  const ttl = Number(int64Arg(argv[2]));
  if (ttl < 0) throw new CommandError("ERR Invalid TTL value, must be >= 0");
  const payload = binaryToBytes(argv[3]);
  if (openPayload(payload) === null) {
    throw new CommandError("ERR DUMP payload version or checksum are wrong");
  }
  let value;
  try {
    // Read from the whole payload, as Redis does: a value that claims more
    // bytes than it has reads into the version and checksum.
    value = readValue(new RdbReader(payload), store.limits);
  } catch (e) {
    if (e instanceof RdbFormatError) {
      s.server.log("verbose", `RESTORE of a bad payload: ${e.message}`);
      throw new CommandError("ERR Bad data format");
    }
    throw e;
  }
  const deleted = replace && store.delete(key);
  const expireAt = ttl === 0 ? undefined : absttl ? ttl : ttl + store.clock();
  if (expireAt !== undefined && expireAt <= store.clock()) {
    // Already expired: the key is not created (what REPLACE removed stays
    // removed, and is logged as a DEL).
    if (deleted) {
      s.propagate = [["DEL", key]];
      store.dirty++;
      notify(s, "del", key, "g");
    }
    s.out.ok();
    return;
  }
  store.set(key, value, expireAt === undefined ? undefined : { expireAt });
  if (expireAt !== undefined && !absttl) {
    // Logged with the absolute time, as Redis rewrites it.
    const logged = argv.slice();
    logged[2] = String(expireAt);
    logged.push("ABSTTL");
    s.propagate = [logged];
  }
  // IDLETIME sets the LRU clock (unless an LFU policy is in force), FREQ
  // the LFU counter (only under one), as Redis's objectSetLRUOrLFU.
  const memory = store.memory;
  const lfu = memory.settings.maxmemoryPolicy.endsWith("-lfu");
  if (lfu && freq >= 0) {
    store.setAccess(key, (memory.lfuMinutes() << 8) | freq);
  } else if (!lfu && idle >= 0) {
    memory.track(1); // kept from now on, as OBJECT IDLETIME does
    store.setAccess(key, memory.lruClock() - idle);
  }
  store.dirty++;
  notify(s, "restore", key, "g");
  s.out.ok();
};

/** The DUMP/RESTORE handlers, by command name. */
export const dumpCommands: Record<string, Handler> = {
  dump,
  restore,
};
