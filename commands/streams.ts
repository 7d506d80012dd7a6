// Stream commands: XADD, XREADGROUP and the rest of the family.

import type { ReplyWriter } from "../protocol.ts";
import {
  parseStreamBound,
  parseStreamId,
  type Stream,
  STREAM_ERRORS,
  type StreamEntry,
  type StreamId,
  type StreamTrimOptions,
} from "../data/stream.ts";
import {
  CommandError,
  Errors,
  type Handler,
  int64Arg,
  type Session,
  upper,
} from "./_shared.ts";
import { notify } from "./pubsub.ts";

const NO_KEY_GROUP = STREAM_ERRORS.noKeyGroup;

/** Whether `consumer` exists in `group` of the stream at `key` (false
 * when notifications are off: only they need to know). */
function hasConsumer(
  s: Session,
  key: string,
  group: string,
  consumer: string,
): boolean {
  if (s.server.config.notifyKeyspaceEvents === 0) return false;
  return s.store.lookupAs<Stream>(key, "stream")?.group(group)?.consumers
    .has(consumer) ?? false;
}

/** Publishes `xgroup-createconsumer` when a command created the consumer
 * (XREADGROUP, XCLAIM, XAUTOCLAIM), as Redis does. */
function consumerCreated(
  s: Session,
  key: string,
  group: string,
  consumer: string,
  existed: boolean,
): void {
  if (!existed && hasConsumer(s, key, group, consumer)) {
    notify(s, "xgroup-createconsumer", key, "t");
  }
}

function longArg(s: string): number {
  return Number(int64Arg(s));
}

function longArgOr(s: string, error: string): number {
  try {
    return longArg(s);
  } catch {
    throw new CommandError(error);
  }
}

function strictId(arg: string): StreamId {
  return parseStreamId(arg, 0, true);
}

function writeEntry(out: ReplyWriter, e: StreamEntry): void {
  out.array(2);
  out.bulk(e[0]);
  const f = e[1];
  out.array(f.length);
  for (let i = 0; i < f.length; i++) out.bulk(f[i]);
}

function writeEntries(out: ReplyWriter, entries: StreamEntry[]): void {
  out.array(entries.length);
  for (const e of entries) writeEntry(out, e);
}

function isToken(s: string, t: string): boolean {
  return s.length === t.length && upper(s) === t;
}

interface ParsedTrim {
  trim?: StreamTrimOptions;
  /** Index after the options (XADD: the id). */
  next: number;
  nomkstream: boolean;
  id?: ReturnType<typeof parseStreamId>;
}

/** Parses XADD's / XTRIM's options as Redis does. */
function parseAddOrTrim(argv: string[], xadd: boolean): ParsedTrim {
  let strategy: "maxlen" | "minid" | undefined;
  let approx = false;
  let maxlen = 0;
  let minid: StreamId | undefined;
  let limit = 0;
  let limitGiven = false;
  let nomkstream = false;
  let id: ReturnType<typeof parseStreamId> | undefined;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i];
    if (xadd && opt === "*") break;
    const o = upper(opt);
    if ((o === "MAXLEN" || o === "MINID") && more) {
      if (strategy !== undefined) {
        throw new CommandError(
          "ERR syntax error, MAXLEN and MINID options at the same time are not compatible",
        );
      }
      approx = false;
      const next = argv[i + 1];
      if (more >= 2 && next === "~") {
        approx = true;
        i++;
      } else if (more >= 2 && next === "=") i++;
      if (o === "MAXLEN") {
        maxlen = longArg(argv[i + 1]);
        if (maxlen < 0) {
          throw new CommandError("ERR The MAXLEN argument must be >= 0.");
        }
        strategy = "maxlen";
      } else {
        minid = strictId(argv[i + 1]);
        strategy = "minid";
      }
      i++;
    } else if (o === "LIMIT" && more) {
      limit = longArg(argv[i + 1]);
      if (limit < 0) {
        throw new CommandError("ERR The LIMIT argument must be >= 0.");
      }
      limitGiven = true;
      i++;
    } else if (xadd && o === "NOMKSTREAM") {
      nomkstream = true;
    } else if (xadd) {
      id = parseStreamId(opt, 0, true, true);
      break;
    } else {
      throw new CommandError(Errors.syntax);
    }
  }
  if (limit && strategy === undefined) {
    throw new CommandError(
      "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy",
    );
  }
  if (!xadd && strategy === undefined) {
    throw new CommandError(
      "ERR syntax error, XTRIM must be called with a trimming strategy",
    );
  }
  if (limitGiven && !approx) {
    throw new CommandError(
      "ERR syntax error, LIMIT cannot be used without the special ~ option",
    );
  }
  let trim: StreamTrimOptions | undefined;
  if (strategy !== undefined) {
    trim = {
      strategy,
      threshold: strategy === "maxlen" ? maxlen : minid!,
      approx,
      limit: limitGiven ? limit : undefined,
    };
  }
  return { trim, next: i, nomkstream, id };
}

/** What an approximate trim is logged as: an exact one that gives the same
 * result. */
function trimPropagation(s: Session, key: string): string[] {
  const stream = s.store.lookupAs<Stream>(key, "stream");
  return ["MAXLEN", "=", String(stream?.length ?? 0)];
}

const xadd: Handler = (s, argv) => {
  const p = parseAddOrTrim(argv, true);
  const fieldPos = p.next + 1;
  const n = argv.length - fieldPos;
  if (n < 2 || n % 2 === 1) {
    throw new CommandError("ERR wrong number of arguments for 'xadd' command");
  }
  const key = argv[1];
  const pairs = argv.slice(fieldPos);
  const before = s.server.config.notifyKeyspaceEvents === 0
    ? 0
    : s.store.lookupAs<Stream>(key, "stream")?.size ?? 0;
  const id = s.store.streams.xadd(key, pairs, {
    id: p.id,
    nomkstream: p.nomkstream,
    trim: p.trim,
  });
  if (id === undefined) {
    s.out.nil();
    return;
  }
  if (s.server.config.notifyKeyspaceEvents !== 0) {
    notify(s, "xadd", key, "t");
    const after = s.store.lookupAs<Stream>(key, "stream")?.size ?? 0;
    if (after < before + 1) notify(s, "xtrim", key, "t");
  }
  s.out.bulk(id);
  if (p.trim?.approx) {
    const prop = ["XADD", key];
    if (p.nomkstream) prop.push("NOMKSTREAM");
    prop.push(...trimPropagation(s, key), id, ...pairs);
    s.propagate = [prop];
  } else if (p.id === undefined || !p.id.seqGiven) {
    const prop = argv.slice();
    prop[p.next] = id;
    s.propagate = [prop];
  }
};

const xtrim: Handler = (s, argv) => {
  const p = parseAddOrTrim(argv, false);
  const n = s.store.streams.xtrim(argv[1], p.trim!);
  if (n > 0) notify(s, "xtrim", argv[1], "t");
  s.out.int(n);
  if (p.trim!.approx) {
    s.propagate = [["XTRIM", argv[1], ...trimPropagation(s, argv[1])]];
  }
};

const xlen: Handler = (s, argv) => s.out.int(s.store.streams.xlen(argv[1]));

function rangeCommand(reverse: boolean): Handler {
  return (s, argv) => {
    // Bounds first (their errors come before COUNT's), as Redis.
    const [startArg, endArg] = reverse
      ? [argv[3], argv[2]]
      : [argv[2], argv[3]];
    const sb = parseStreamBound(startArg, 0);
    if (sb.exclusive && isMaxId(sb.id)) {
      throw new CommandError("ERR invalid start ID for the interval");
    }
    const eb = parseStreamBound(endArg, 18446744073709551615n);
    if (eb.exclusive && eb.id.ms === 0 && eb.id.seq === 0) {
      throw new CommandError("ERR invalid end ID for the interval");
    }
    let count: number | undefined;
    for (let j = 4; j < argv.length; j++) {
      const more = argv.length - j - 1;
      if (isToken(argv[j], "COUNT") && more >= 1) {
        count = longArg(argv[j + 1]);
        if (count < 0) count = 0;
        j++;
      } else throw new CommandError(Errors.syntax);
    }
    const r = reverse
      ? s.store.streams.xrevrange(argv[1], argv[2], argv[3], count)
      : s.store.streams.xrange(argv[1], argv[2], argv[3], count);
    if (r === null) s.out.nilArray();
    else writeEntries(s.out, r);
  };
}

function isMaxId(id: StreamId): boolean {
  return id.ms === 18446744073709551615n && id.seq === 18446744073709551615n;
}

const xdel: Handler = (s, argv) => {
  const n = s.store.streams.xdel(argv[1], argv.slice(2));
  if (n > 0) notify(s, "xdel", argv[1], "t");
  s.out.int(n);
};

interface ReadArgs {
  count: number;
  block: boolean;
  group?: string;
  consumer?: string;
  noack: boolean;
  keys: string[];
  ids: string[];
}

function parseRead(argv: string[], group: boolean): ReadArgs {
  const r: ReadArgs = {
    count: 0,
    block: false,
    noack: false,
    keys: [],
    ids: [],
  };
  let streamsArg = 0;
  let streamsCount = 0;
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = upper(argv[i]);
    if (o === "BLOCK" && more) {
      i++;
      const t = longArgOr(
        argv[i],
        "ERR timeout is not an integer or out of range",
      );
      if (t < 0) throw new CommandError("ERR timeout is negative");
      r.block = true;
    } else if (o === "COUNT" && more) {
      i++;
      r.count = longArg(argv[i]);
      if (r.count < 0) r.count = 0;
    } else if (o === "STREAMS" && more) {
      streamsArg = i + 1;
      streamsCount = argv.length - streamsArg;
      if (streamsCount % 2 !== 0) {
        throw new CommandError(
          "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
        );
      }
      streamsCount /= 2;
      break;
    } else if (o === "GROUP" && more >= 2) {
      if (!group) {
        throw new CommandError(
          "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      r.group = argv[i + 1];
      r.consumer = argv[i + 2];
      i += 2;
    } else if (o === "NOACK") {
      if (!group) {
        throw new CommandError(
          "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.",
        );
      }
      r.noack = true;
    } else throw new CommandError(Errors.syntax);
  }
  if (streamsArg === 0) throw new CommandError(Errors.syntax);
  if (group && r.group === undefined) {
    throw new CommandError("ERR Missing GROUP option for XREADGROUP");
  }
  r.keys = argv.slice(streamsArg, streamsArg + streamsCount);
  r.ids = argv.slice(streamsArg + streamsCount);
  return r;
}

const xread: Handler = (s, argv) => {
  const r = parseRead(argv, false);
  // BLOCK: commands/blocking.ts wraps this handler and waits when it
  // answers nil.
  const res = s.store.streams.xread(r.keys, r.ids, r.count);
  if (res === null) {
    s.out.nilArray();
    return;
  }
  writeReadReply(s, res);
};

function writeReadReply(
  s: Session,
  res: [string, [string, string[] | null][]][],
): void {
  if (s.out.resp === 3) s.out.map(res.length);
  else s.out.array(res.length);
  for (const [key, entries] of res) {
    if (s.out.resp !== 3) s.out.array(2);
    s.out.bulk(key);
    s.out.array(entries.length);
    for (const e of entries) {
      if (e[1] === null) {
        s.out.array(2);
        s.out.bulk(e[0]);
        s.out.nilArray();
      } else writeEntry(s.out, e as StreamEntry);
    }
  }
}

const xreadgroup: Handler = (s, argv) => {
  const r = parseRead(argv, true);
  const propagate: string[][] = [];
  const existed = r.keys.map((k) => hasConsumer(s, k, r.group!, r.consumer!));
  const res = s.store.streams.xreadgroup(
    r.group!,
    r.consumer!,
    r.keys,
    r.ids,
    { count: r.count, noack: r.noack, propagate },
  );
  s.propagate = propagate;
  r.keys.forEach((k, i) =>
    consumerCreated(s, k, r.group!, r.consumer!, existed[i])
  );
  if (res === null) {
    s.out.nilArray();
    return;
  }
  writeReadReply(s, res);
};

const xack: Handler = (s, argv) => {
  s.out.int(s.store.streams.xack(argv[1], argv[2], argv.slice(3)));
};

const xpending: Handler = (s, argv) => {
  const argc = argv.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) {
    throw new CommandError(Errors.syntax);
  }
  const key = argv[1], group = argv[2];
  if (argc === 3) {
    const p = s.store.streams.xpending(key, group);
    s.out.array(4);
    s.out.int(p.count);
    if (p.count === 0) {
      s.out.nil();
      s.out.nil();
      s.out.nilArray();
      return;
    }
    s.out.bulk(p.min!);
    s.out.bulk(p.max!);
    s.out.array(p.consumers.length);
    for (const [name, n] of p.consumers) {
      s.out.array(2);
      s.out.bulk(name);
      s.out.bulk(String(n));
    }
    return;
  }
  let start = 3;
  let idle: number | undefined;
  if (isToken(argv[3], "IDLE")) {
    idle = longArg(argv[4]);
    if (argc < 8) throw new CommandError(Errors.syntax);
    start += 2;
  }
  let count = longArg(argv[start + 2]);
  if (count < 0) count = 0;
  const consumer = start + 3 < argc ? argv[start + 3] : undefined;
  const list = s.store.streams.xpendingRange(
    key,
    group,
    argv[start],
    argv[start + 1],
    count,
    { idle: idle || undefined, consumer },
  );
  s.out.array(list.length);
  for (const e of list) {
    s.out.array(4);
    s.out.bulk(e.id);
    s.out.bulk(e.consumer);
    s.out.int(e.idle);
    s.out.int(e.deliveries);
  }
};

function requireGroup(s: Session, key: string, group: string): void {
  if (!s.store.streams.hasGroup(key, group)) {
    throw new CommandError(
      `NOGROUP No such key '${key}' or consumer group '${group}'`,
    );
  }
}

const xclaim: Handler = (s, argv) => {
  const [, key, group, consumer] = argv;
  requireGroup(s, key, group);
  const minIdle = longArgOr(
    argv[4],
    "ERR Invalid min-idle-time argument for XCLAIM",
  );
  let j = 5;
  const ids: string[] = [];
  for (; j < argv.length; j++) {
    try {
      strictId(argv[j]);
    } catch {
      break;
    }
    ids.push(argv[j]);
  }
  const now = s.store.clock();
  let time: number | undefined;
  let retryCount: number | undefined;
  let force = false, justId = false;
  let lastId: StreamId | undefined;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = upper(argv[j]);
    if (o === "FORCE") force = true;
    else if (o === "JUSTID") justId = true;
    else if (o === "IDLE" && more) {
      j++;
      time = now -
        longArgOr(argv[j], "ERR Invalid IDLE option argument for XCLAIM");
    } else if (o === "TIME" && more) {
      j++;
      time = longArgOr(argv[j], "ERR Invalid TIME option argument for XCLAIM");
    } else if (o === "RETRYCOUNT" && more) {
      j++;
      retryCount = longArgOr(
        argv[j],
        "ERR Invalid RETRYCOUNT option argument for XCLAIM",
      );
    } else if (o === "LASTID" && more) {
      j++;
      lastId = strictId(argv[j]);
    } else {
      throw new CommandError(`ERR Unrecognized XCLAIM option '${argv[j]}'`);
    }
  }
  const propagate: string[][] = [];
  const existed = hasConsumer(s, key, group, consumer);
  const res = s.store.streams.xclaim(key, group, consumer, minIdle, ids, {
    time,
    retryCount: retryCount !== undefined && retryCount >= 0
      ? retryCount
      : undefined,
    force,
    justId,
    lastId,
    propagate,
  });
  if (lastId !== undefined && propagate.length === 0) {
    // Only the group's last id moved.
    propagate.push(["XGROUP", "SETID", key, group, ...lastIdOf(s, key, group)]);
  }
  s.propagate = propagate;
  consumerCreated(s, key, group, consumer, existed);
  s.out.array(res.length);
  for (const e of res) {
    if (typeof e === "string") s.out.bulk(e);
    else writeEntry(s.out, e);
  }
};

function lastIdOf(s: Session, key: string, group: string): string[] {
  const g = s.store.streams.xinfoGroups(key).find((x) => x.name === group)!;
  return [g.lastDeliveredId, "ENTRIESREAD", String(g.entriesRead ?? -1)];
}

const xautoclaim: Handler = (s, argv) => {
  const [, key, group, consumer] = argv;
  const minIdle = longArgOr(
    argv[4],
    "ERR Invalid min-idle-time argument for XAUTOCLAIM",
  );
  const sb = parseStreamBound(argv[5], 0);
  if (sb.exclusive && isMaxId(sb.id)) {
    throw new CommandError("ERR invalid start ID for the interval");
  }
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const o = upper(argv[j]);
    if (o === "COUNT" && more) {
      const max = Math.floor(Number.MAX_SAFE_INTEGER / 16);
      let c: number;
      try {
        c = longArg(argv[j + 1]);
      } catch {
        throw new CommandError("ERR COUNT must be > 0");
      }
      if (c < 1 || c > max) throw new CommandError("ERR COUNT must be > 0");
      count = c;
      j++;
    } else if (o === "JUSTID") justId = true;
    else throw new CommandError(Errors.syntax);
  }
  requireGroup(s, key, group);
  const propagate: string[][] = [];
  const existed = hasConsumer(s, key, group, consumer);
  const r = s.store.streams.xautoclaim(key, group, consumer, minIdle, argv[5], {
    count,
    justId,
    propagate,
  });
  consumerCreated(s, key, group, consumer, existed);
  s.propagate = propagate;
  s.out.array(3);
  s.out.bulk(r.next);
  s.out.array(r.claimed.length);
  for (const e of r.claimed) {
    if (typeof e === "string") s.out.bulk(e);
    else writeEntry(s.out, e);
  }
  s.out.array(r.deleted.length);
  for (const id of r.deleted) s.out.bulk(id);
};

function subcommandSyntax(argv: string[], cmd: string): CommandError {
  return new CommandError(
    `ERR unknown subcommand or wrong number of arguments for '${
      argv[1].slice(0, 128)
    }'. Try ${cmd} HELP.`,
  );
}

function entriesReadArg(arg: string): number {
  const n = longArg(arg);
  if (n < 0 && n !== -1) {
    throw new CommandError("ERR value for ENTRIESREAD must be positive or -1");
  }
  return n;
}

const xgroupCreate: Handler = (s, argv) => {
  let mkstream = false;
  let entriesRead: number | undefined;
  for (let i = 5; i < argv.length;) {
    const o = upper(argv[i]);
    if (o === "MKSTREAM") {
      mkstream = true;
      i++;
    } else if (o === "ENTRIESREAD" && i + 1 < argv.length) {
      entriesRead = entriesReadArg(argv[i + 1]);
      i += 2;
    } else throw subcommandSyntax(argv, "XGROUP");
  }
  if (argv.length > 8) {
    // Checked after the key, as Redis does.
    if (s.store.lookupAs(argv[2], "stream") === undefined && !mkstream) {
      throw new CommandError(NO_KEY_GROUP);
    }
    throw subcommandSyntax(argv, "XGROUP");
  }
  const ok = s.store.streams.xgroupCreate(argv[2], argv[3], argv[4], {
    mkstream,
    entriesRead,
  });
  if (!ok) {
    throw new CommandError("BUSYGROUP Consumer Group name already exists");
  }
  notify(s, "xgroup-create", argv[2], "t");
  s.out.ok();
};

const xgroupSetId: Handler = (s, argv) => {
  let entriesRead: number | undefined;
  if (argv.length > 5) {
    if (argv.length !== 7 || !isToken(argv[5], "ENTRIESREAD")) {
      throw subcommandSyntax(argv, "XGROUP");
    }
    entriesRead = entriesReadArg(argv[6]);
  }
  s.store.streams.xgroupSetId(argv[2], argv[3], argv[4], entriesRead);
  notify(s, "xgroup-setid", argv[2], "t");
  s.out.ok();
};

const xgroupDestroy: Handler = (s, argv) => {
  const destroyed = s.store.streams.xgroupDestroy(argv[2], argv[3]);
  if (destroyed) notify(s, "xgroup-destroy", argv[2], "t");
  s.out.int(destroyed ? 1 : 0);
};

const xgroupCreateConsumer: Handler = (s, argv) => {
  const created = s.store.streams.xgroupCreateConsumer(
    argv[2],
    argv[3],
    argv[4],
  );
  if (created) notify(s, "xgroup-createconsumer", argv[2], "t");
  s.out.int(created ? 1 : 0);
};

const xgroupDelConsumer: Handler = (s, argv) => {
  const dirty = s.store.dirty;
  const pending = s.store.streams.xgroupDelConsumer(argv[2], argv[3], argv[4]);
  if (s.store.dirty !== dirty) {
    notify(s, "xgroup-delconsumer", argv[2], "t");
  }
  s.out.int(pending);
};

function help(lines: string[]): Handler {
  return (s) => {
    s.out.array(lines.length);
    for (const l of lines) s.out.simple(l);
  };
}

const xgroupHelp = help([
  "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CREATE <key> <groupname> <id|$> [option]",
  "    Create a new consumer group. Options are:",
  "    * MKSTREAM",
  "      Create the empty stream if it does not exist.",
  "    * ENTRIESREAD entries_read",
  "      Set the group's entries_read counter (internal use).",
  "CREATECONSUMER <key> <groupname> <consumer>",
  "    Create a new consumer in the specified group.",
  "DELCONSUMER <key> <groupname> <consumer>",
  "    Remove the specified consumer.",
  "DESTROY <key> <groupname>",
  "    Remove the specified group.",
  "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
  "    Set the current group ID and entries_read counter.",
  "HELP",
  "    Prints this help.",
]);

const xinfoHelp = help([
  "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
  "CONSUMERS <key> <groupname>",
  "    Show consumers of <groupname>.",
  "GROUPS <key>",
  "    Show the stream consumer groups.",
  "STREAM <key> [FULL [COUNT <count>]",
  "    Show information about the stream.",
  "HELP",
  "    Prints this help.",
]);

const xsetid: Handler = (s, argv) => {
  const id = strictId(argv[2]);
  let entriesAdded: number | undefined;
  let maxDeletedId: StreamId | undefined;
  for (let i = 3; i < argv.length;) {
    const more = argv.length - 1 - i;
    const o = upper(argv[i]);
    if (o === "ENTRIESADDED" && more) {
      entriesAdded = longArg(argv[i + 1]);
      if (entriesAdded < 0) {
        throw new CommandError("ERR entries_added must be positive");
      }
      i += 2;
    } else if (o === "MAXDELETEDID" && more) {
      const md = strictId(argv[i + 1]);
      if (
        md.ms > id.ms || (md.ms === id.ms && md.seq > id.seq)
      ) {
        throw new CommandError(
          "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
        );
      }
      maxDeletedId = md.ms === 0 && md.seq === 0 ? undefined : md;
      i += 2;
    } else throw new CommandError(Errors.syntax);
  }
  s.store.streams.xsetid(argv[1], id, { entriesAdded, maxDeletedId });
  notify(s, "xsetid", argv[1], "t");
  s.out.ok();
};

function nullableInt(out: ReplyWriter, n: number | null): void {
  if (n === null) out.nil();
  else out.int(n);
}

const xinfoStream: Handler = (s, argv) => {
  const key = argv[2];
  const extra = argv.length - 3;
  if (extra === 0) {
    const i = s.store.streams.xinfoStream(key);
    const o = s.out;
    o.map(10);
    o.bulk("length");
    o.int(i.length);
    o.bulk("radix-tree-keys");
    o.int(i.radixTreeKeys);
    o.bulk("radix-tree-nodes");
    o.int(i.radixTreeNodes);
    o.bulk("last-generated-id");
    o.bulk(i.lastGeneratedId);
    o.bulk("max-deleted-entry-id");
    o.bulk(i.maxDeletedEntryId);
    o.bulk("entries-added");
    o.int(i.entriesAdded);
    o.bulk("recorded-first-entry-id");
    o.bulk(i.recordedFirstEntryId);
    o.bulk("groups");
    o.int(i.groups);
    o.bulk("first-entry");
    if (i.firstEntry) writeEntry(o, i.firstEntry);
    else o.nil();
    o.bulk("last-entry");
    if (i.lastEntry) writeEntry(o, i.lastEntry);
    else o.nil();
    return;
  }
  // The key is looked up before the options are checked.
  if (s.store.readAs(key, "stream") === undefined) {
    throw new CommandError("ERR no such key");
  }
  if (!isToken(argv[3], "FULL")) throw subcommandSyntax(argv, "XINFO");
  let count = 10;
  if (extra > 1) {
    if (extra !== 3 || !isToken(argv[4], "COUNT")) {
      throw subcommandSyntax(argv, "XINFO");
    }
    count = longArg(argv[5]);
    if (count < 0) count = 10;
  }
  const f = s.store.streams.xinfoStreamFull(key, count);
  const o = s.out;
  o.map(9);
  o.bulk("length");
  o.int(f.length);
  o.bulk("radix-tree-keys");
  o.int(f.radixTreeKeys);
  o.bulk("radix-tree-nodes");
  o.int(f.radixTreeNodes);
  o.bulk("last-generated-id");
  o.bulk(f.lastGeneratedId);
  o.bulk("max-deleted-entry-id");
  o.bulk(f.maxDeletedEntryId);
  o.bulk("entries-added");
  o.int(f.entriesAdded);
  o.bulk("recorded-first-entry-id");
  o.bulk(f.recordedFirstEntryId);
  o.bulk("entries");
  writeEntries(o, f.entries);
  o.bulk("groups");
  o.array(f.groups.length);
  for (const g of f.groups) {
    o.map(7);
    o.bulk("name");
    o.bulk(g.name);
    o.bulk("last-delivered-id");
    o.bulk(g.lastDeliveredId);
    o.bulk("entries-read");
    nullableInt(o, g.entriesRead);
    o.bulk("lag");
    nullableInt(o, g.lag);
    o.bulk("pel-count");
    o.int(g.pelCount);
    o.bulk("pending");
    o.array(g.pending.length);
    for (const [id, consumer, time, n] of g.pending) {
      o.array(4);
      o.bulk(id);
      o.bulk(consumer);
      o.int(time);
      o.int(n);
    }
    o.bulk("consumers");
    o.array(g.consumers.length);
    for (const c of g.consumers) {
      o.map(4);
      o.bulk("name");
      o.bulk(c.name);
      o.bulk("seen-time");
      o.int(c.seenTime);
      o.bulk("pel-count");
      o.int(c.pelCount);
      o.bulk("pending");
      o.array(c.pending.length);
      for (const [id, time, n] of c.pending) {
        o.array(3);
        o.bulk(id);
        o.int(time);
        o.int(n);
      }
    }
  }
};

const xinfoGroups: Handler = (s, argv) => {
  const groups = s.store.streams.xinfoGroups(argv[2]);
  const o = s.out;
  o.array(groups.length);
  for (const g of groups) {
    o.map(6);
    o.bulk("name");
    o.bulk(g.name);
    o.bulk("consumers");
    o.int(g.consumers);
    o.bulk("pending");
    o.int(g.pending);
    o.bulk("last-delivered-id");
    o.bulk(g.lastDeliveredId);
    o.bulk("entries-read");
    nullableInt(o, g.entriesRead);
    o.bulk("lag");
    nullableInt(o, g.lag);
  }
};

const xinfoConsumers: Handler = (s, argv) => {
  const cs = s.store.streams.xinfoConsumers(argv[2], argv[3]);
  const o = s.out;
  o.array(cs.length);
  for (const c of cs) {
    o.map(3);
    o.bulk("name");
    o.bulk(c.name);
    o.bulk("pending");
    o.int(c.pending);
    o.bulk("idle");
    o.int(c.idle);
  }
};

/** Handlers of the streams family, by command name. */
export const streamCommands: Record<string, Handler> = {
  xadd,
  xtrim,
  xlen,
  xrange: rangeCommand(false),
  xrevrange: rangeCommand(true),
  xdel,
  xread,
  xreadgroup,
  xack,
  xpending,
  xclaim,
  xautoclaim,
  xsetid,
  "xgroup|create": xgroupCreate,
  "xgroup|setid": xgroupSetId,
  "xgroup|destroy": xgroupDestroy,
  "xgroup|createconsumer": xgroupCreateConsumer,
  "xgroup|delconsumer": xgroupDelConsumer,
  "xgroup|help": xgroupHelp,
  "xinfo|stream": xinfoStream,
  "xinfo|groups": xinfoGroups,
  "xinfo|consumers": xinfoConsumers,
  "xinfo|help": xinfoHelp,
};
