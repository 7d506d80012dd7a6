/**
 * Server settings: one table of parameters, named as in redis.conf, drives
 * command-line flags (`--port 31337`), CONFIG GET and CONFIG SET.
 *
 * @example
 * ```ts
 * import { parseServerArgs } from "./config.ts";
 * const config = parseServerArgs(["--port", "7000", "--requirepass", "s3cret"]);
 * console.log(config.port); // 7000
 * ```
 * @module
 */

import { globMatch } from "./_glob.ts";
import { formatNotifyFlags, parseNotifyFlags } from "./_notify.ts";
import { defaultEncodingLimits, type EncodingLimits } from "./store.ts";
import {
  defaultMemorySettings,
  EVICTION_POLICIES,
  type EvictionPolicy,
  type MemorySettings,
} from "./data/_memory.ts";

/** Log levels, least to most severe, as redis.conf names them.
 *
 * @example
 * ```ts ignore
 * const server = new Server({ loglevel: "debug" });
 * ```
 */
export type LogLevel = "debug" | "verbose" | "notice" | "warning";

/** Every server setting.
 *
 * @example
 * ```ts ignore
 * const config: ServerConfig = { ...defaultConfig(), port: 7000 };
 * ```
 */
export interface ServerConfig extends EncodingLimits, MemorySettings {
  /** Keys remembered for client-side caching (`tracking-table-max-keys`). */
  trackingTableMaxKeys: number;
  /** Address to listen on (`--host`, alias `--bind`). */
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Password clients must AUTH with; empty for none. */
  requirepass: string;
  /** Most clients connected at once. */
  maxclients: number;
  /** Close clients idle this many seconds; 0 never. */
  timeout: number;
  /** Least severe level logged. */
  loglevel: LogLevel;
  /** Refuse non-loopback clients when bound beyond loopback without a
   * password. */
  protectedMode: boolean;
  /** Where data files live. */
  dir: string;
  /** Longest bulk string accepted (`proto-max-bulk-len`). */
  protoMaxBulkLen: number;
  /** Output buffer limit: disconnect a client whose pending replies exceed
   * `hard` bytes, or stay above `soft` bytes for `softSeconds`. */
  clientOutputBufferLimit: { hard: number; soft: number; softSeconds: number };
  /** The same limit for clients subscribed to pub/sub channels (the
   * `pubsub` class; default `32mb 8mb 60`, as Redis). */
  clientOutputBufferLimitPubsub: {
    hard: number;
    soft: number;
    softSeconds: number;
  };
  /** Keyspace notification classes (`notify-keyspace-events`, bits of
   * _notify.ts); 0: off. */
  notifyKeyspaceEvents: number;
  /** Background task frequency per second (active expiry, timeouts). */
  hz: number;
  /** Milliseconds a script runs before other clients are answered -BUSY
   * and SCRIPT KILL may stop it (`busy-reply-threshold`, alias
   * `lua-time-limit`); 0: never. */
  busyReplyThreshold: number;
  /** Numbered databases clients can SELECT (`databases`, 16 as
   * redis.conf; set at start only). */
  databases: number;
  /** `rdbcompression`: RDB snapshot files LZF-compress strings when yes
   * (as Redis); our DUMP payloads are never compressed. */
  rdbcompression: boolean;
  /** Snapshot file name in `dir`; a name ending in `.rdb` selects Redis's
   * RDB format, any other the JSON snapshot. */
  dbfilename: string;
  /** Snapshot policy: save after `seconds` if at least `changes` writes
   * happened, for any pair; empty: no automatic snapshots. */
  save: [seconds: number, changes: number][];
  /** Refuse writes (-MISCONF) after a failed background save. */
  stopWritesOnBgsaveError: boolean;
  /** Log every write to the append-only file. */
  appendonly: boolean;
  /** When the append-only file is fsynced: on every write, once a second,
   * or when the OS decides. */
  appendfsync: "always" | "everysec" | "no";
  /** Append-only file name in `dir`. */
  appendfilename: string;
  /** Rewrite the log when it grew by this percentage since the last
   * rewrite (0: never automatically). */
  autoAofRewritePercentage: number;
  /** ... and is at least this many bytes. */
  autoAofRewriteMinSize: number;
  /** Port of the web dashboard on `host`; 0 turns it off. */
  httpPort: number;
  /** SLOWLOG logs commands that take at least this many microseconds;
   * -1: none, 0: all. */
  slowlogLogSlowerThan: number;
  /** Most SLOWLOG entries kept. */
  slowlogMaxLen: number;
  /** LATENCY records events of at least this many ms; 0: off. */
  latencyMonitorThreshold: number;
  /** `replicaof`: "host port" of the primary this server follows; ""
   * while it is a primary (REPLICAOF changes it). */
  replicaof: string;
  /** `masterauth`: the password a replica sends its primary (AUTH). */
  masterauth: string;
  /** `masteruser`: the user a replica authenticates as ("" : AUTH with the
   * password only). */
  masteruser: string;
  /** `replica-read-only`: a replica refuses writes from its clients. */
  replicaReadOnly: boolean;
  /** `repl-backlog-size`: bytes of the replication stream kept for
   * replicas that reconnect (partial resynchronization). */
  replBacklogSize: number;
  /** `repl-ping-replica-period`: seconds between the PINGs a primary
   * sends its replicas. */
  replPingReplicaPeriod: number;
  /** `repl-timeout`: seconds without a word from the other side of a
   * replication link before it is dropped. */
  replTimeout: number;
  /** The output buffer limit of replicas (the `replica` class, default
   * `256mb 64mb 60`, as Redis): the stream a replica does not read. */
  clientOutputBufferLimitReplica: {
    hard: number;
    soft: number;
    softSeconds: number;
  };
  /** The configuration file the settings were read from (`kv serve
   * FILE`), as an absolute path; "" for none. INFO server names it and
   * CONFIG REWRITE writes the settings back into it. Not a setting. */
  configFile: string;
}

/** The defaults: 127.0.0.1:31337, Redis's limits.
 *
 * @example
 * ```ts ignore
 * import { DEFAULT_CONFIG } from "./config.ts";
 * DEFAULT_CONFIG.port; // 31337
 * ```
 */
export const DEFAULT_CONFIG: Readonly<ServerConfig> = Object.freeze<
  ServerConfig
>({
  host: "127.0.0.1",
  port: 31337,
  requirepass: "",
  maxclients: 10000,
  timeout: 0,
  loglevel: "notice",
  protectedMode: true,
  dir: ".",
  protoMaxBulkLen: 512 * 1024 * 1024,
  clientOutputBufferLimit: {
    hard: 1024 * 1024 * 1024,
    soft: 256 * 1024 * 1024,
    softSeconds: 60,
  },
  clientOutputBufferLimitPubsub: {
    hard: 32 * 1024 * 1024,
    soft: 8 * 1024 * 1024,
    softSeconds: 60,
  },
  notifyKeyspaceEvents: 0,
  hz: 10,
  busyReplyThreshold: 5000,
  databases: 16,
  rdbcompression: true,
  dbfilename: "dump.json",
  save: [[3600, 1], [300, 100], [60, 10000]],
  stopWritesOnBgsaveError: true,
  appendonly: false,
  appendfsync: "everysec",
  appendfilename: "appendonly.aof",
  autoAofRewritePercentage: 100,
  autoAofRewriteMinSize: 64 * 1024 * 1024,
  httpPort: 0,
  slowlogLogSlowerThan: 10000,
  slowlogMaxLen: 128,
  latencyMonitorThreshold: 0,
  configFile: "",
  replicaof: "",
  masterauth: "",
  masteruser: "",
  replicaReadOnly: true,
  replBacklogSize: 1024 * 1024,
  replPingReplicaPeriod: 10,
  replTimeout: 60,
  clientOutputBufferLimitReplica: {
    hard: 256 * 1024 * 1024,
    soft: 64 * 1024 * 1024,
    softSeconds: 60,
  },
  ...defaultEncodingLimits(),
  trackingTableMaxKeys: 1_000_000,
  ...defaultMemorySettings(),
});

/** Returns a fresh copy of the defaults.
 *
 * @example
 * ```ts ignore
 * import { defaultConfig } from "./config.ts";
 * const config = defaultConfig();
 * config.timeout = 300;
 * ```
 */
export function defaultConfig(): ServerConfig {
  return {
    ...DEFAULT_CONFIG,
    clientOutputBufferLimit: { ...DEFAULT_CONFIG.clientOutputBufferLimit },
    clientOutputBufferLimitPubsub: {
      ...DEFAULT_CONFIG.clientOutputBufferLimitPubsub,
    },
    clientOutputBufferLimitReplica: {
      ...DEFAULT_CONFIG.clientOutputBufferLimitReplica,
    },
    save: DEFAULT_CONFIG.save.map(([s, c]) => [s, c]),
  };
}

interface Param {
  name: string;
  aliases?: string[];
  mutable: boolean;
  get(c: ServerConfig): string;
  /** Applies a value; returns an error text on a bad one. */
  set(c: ServerConfig, v: string): string | undefined;
}

/** Parses `100`, `10kb`, `1mb`, `2gb` (and `k`, `m`, `g` in powers of
 * ten) as redis.conf does; NaN when invalid. */
export function parseMemory(v: string): number {
  const m = /^(\d+)(b|k|kb|m|mb|g|gb)?$/i.exec(v.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  const unit = (m[2] ?? "b").toLowerCase();
  const mul: Record<string, number> = {
    b: 1,
    k: 1000,
    kb: 1024,
    m: 1000 ** 2,
    mb: 1024 ** 2,
    g: 1000 ** 3,
    gb: 1024 ** 3,
  };
  return n * mul[unit];
}

function intParam(
  name: string,
  key:
    | "port"
    | "maxclients"
    | "timeout"
    | "hz"
    | "httpPort"
    | "busyReplyThreshold"
    | "databases"
    | "replPingReplicaPeriod"
    | "replTimeout",
  min: number,
  max: number,
  mutable = true,
): Param {
  return {
    name,
    mutable,
    get: (c) => String(c[key]),
    set(c, v) {
      if (!/^-?\d+$/.test(v)) {
        return "argument couldn't be parsed into an integer";
      }
      const n = Number(v);
      if (n < min || n > max) {
        return `argument must be between ${min} and ${max} inclusive`;
      }
      c[key] = n;
    },
  };
}

function boolParam(
  name: string,
  key:
    | "protectedMode"
    | "stopWritesOnBgsaveError"
    | "appendonly"
    | "rdbcompression"
    | "replicaReadOnly",
  mutable = true,
): Param {
  return {
    name,
    mutable,
    get: (c) => c[key] ? "yes" : "no",
    set(c, v) {
      const s = v.toLowerCase();
      if (s !== "yes" && s !== "no") return "argument must be 'yes' or 'no'";
      c[key] = s === "yes";
    },
  };
}

const PARAMS: Param[] = [
  {
    name: "bind",
    aliases: ["host"],
    mutable: false,
    get: (c) => c.host,
    set(c, v) {
      c.host = v.split(" ")[0] || "127.0.0.1";
    },
  },
  intParam("port", "port", 0, 65535, false),
  {
    name: "requirepass",
    mutable: true,
    get: (c) => c.requirepass,
    set(c, v) {
      c.requirepass = v;
    },
  },
  intParam("maxclients", "maxclients", 1, 1_000_000),
  intParam("timeout", "timeout", 0, 2_147_483_647),
  intParam("hz", "hz", 1, 500),
  {
    ...intParam("busy-reply-threshold", "busyReplyThreshold", 0, 2 ** 53),
    aliases: ["lua-time-limit"],
  },
  intParam("http-port", "httpPort", 0, 65535, false),
  {
    name: "loglevel",
    mutable: true,
    get: (c) => c.loglevel,
    set(c, v) {
      const s = v.toLowerCase();
      if (!["debug", "verbose", "notice", "warning"].includes(s)) {
        return "argument(s) must be one of the following: debug, verbose, notice, warning";
      }
      c.loglevel = s as LogLevel;
    },
  },
  boolParam("protected-mode", "protectedMode"),
  // RDB files LZF-compress strings when yes; DUMP payloads never do.
  boolParam("rdbcompression", "rdbcompression"),
  {
    name: "dir",
    mutable: false,
    get: (c) => c.dir,
    set(c, v) {
      c.dir = v;
    },
  },
  {
    name: "proto-max-bulk-len",
    mutable: true,
    get: (c) => String(c.protoMaxBulkLen),
    set(c, v) {
      const n = parseMemory(v);
      if (!Number.isFinite(n) || n < 1024 * 1024) {
        return "argument must be a memory value of at least 1mb";
      }
      c.protoMaxBulkLen = n;
    },
  },
  {
    name: "client-output-buffer-limit",
    mutable: true,
    get: (c) => {
      const l = c.clientOutputBufferLimit;
      const p = c.clientOutputBufferLimitPubsub;
      const r = c.clientOutputBufferLimitReplica;
      return `normal ${l.hard} ${l.soft} ${l.softSeconds} ` +
        `slave ${r.hard} ${r.soft} ${r.softSeconds} ` +
        `pubsub ${p.hard} ${p.soft} ${p.softSeconds}`;
    },
    set(c, v) {
      const parts = v.trim().split(/\s+/);
      // Our own short form: three numbers set the normal class.
      if (parts.length === 3 && /^\d/.test(parts[0])) parts.unshift("normal");
      if (parts.length % 4 !== 0) {
        return "Wrong number of arguments in buffer limit configuration.";
      }
      const limits: [string, number, number, number][] = [];
      for (let i = 0; i < parts.length; i += 4) {
        const cls = parts[i].toLowerCase();
        if (!/^(normal|slave|replica|pubsub)$/.test(cls)) {
          return "Invalid client class specified in buffer limit configuration.";
        }
        const hard = parseMemory(parts[i + 1]);
        const soft = parseMemory(parts[i + 2]);
        const seconds = Number(parts[i + 3]);
        if (
          !Number.isFinite(hard) || !Number.isFinite(soft) ||
          !/^\d+$/.test(parts[i + 3]) || !Number.isSafeInteger(seconds)
        ) {
          return "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
        }
        limits.push([cls, hard, soft, seconds]);
      }
      for (const [cls, hard, soft, softSeconds] of limits) {
        const limit = { hard, soft, softSeconds };
        if (cls === "normal") c.clientOutputBufferLimit = limit;
        else if (cls === "pubsub") c.clientOutputBufferLimitPubsub = limit;
        else c.clientOutputBufferLimitReplica = limit;
      }
    },
  },
  {
    name: "notify-keyspace-events",
    mutable: true,
    get: (c) => formatNotifyFlags(c.notifyKeyspaceEvents),
    set(c, v) {
      const flags = parseNotifyFlags(v);
      if (flags === null) {
        return "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
      }
      c.notifyKeyspaceEvents = flags;
    },
  },
];

/** A numeric setting of the encoding thresholds, with Redis's range,
 * aliases and (for memory values) units. */
function limitParam(
  name: string,
  key: keyof EncodingLimits,
  min: number,
  max: number,
  options: { aliases?: string[]; memory?: boolean } = {},
): Param {
  return {
    name,
    aliases: options.aliases,
    mutable: true,
    get: (c) => String(c[key]),
    set(c, v) {
      const n = options.memory ? parseMemory(v) : Number(v);
      if (
        (!options.memory && !/^-?\d+$/.test(v)) || !Number.isFinite(n)
      ) {
        return options.memory
          ? "argument must be a memory value"
          : "argument couldn't be parsed into an integer";
      }
      if (n < min || n > max) {
        return `argument must be between ${min} and ${
          max === LONG_MAX ? "9223372036854775807" : max
        } inclusive`;
      }
      c[key] = n;
    },
  };
}

const LONG_MAX = Number.MAX_SAFE_INTEGER;
const INT_MAX = 2147483647;

/** A file name setting (no path). */
function nameParam(name: string, key: "dbfilename" | "appendfilename"): Param {
  return {
    name,
    mutable: key === "dbfilename",
    get: (c) => c[key],
    set(c, v) {
      if (v === "" || v.includes("/") || v === "." || v === "..") {
        return "dbfilename can't be a path, just a filename";
      }
      c[key] = v;
    },
  };
}

/** Parses redis.conf's `save` value: "3600 1 300 100", or "" for none. */
export function parseSavePolicy(v: string): [number, number][] | undefined {
  const words = v.trim() === "" ? [] : v.trim().split(/\s+/);
  if (words.length % 2 !== 0) return undefined;
  const out: [number, number][] = [];
  for (let i = 0; i < words.length; i += 2) {
    const s = Number(words[i]);
    const c = Number(words[i + 1]);
    if (!Number.isInteger(s) || !Number.isInteger(c) || s < 1 || c < 0) {
      return undefined;
    }
    out.push([s, c]);
  }
  return out;
}

PARAMS.push(
  {
    name: "tracking-table-max-keys",
    mutable: true,
    get: (c) => String(c.trackingTableMaxKeys),
    set(c, v) {
      if (!/^-?\d+$/.test(v)) {
        return "argument couldn't be parsed into an integer";
      }
      const n = Number(v);
      if (n < 0 || !Number.isSafeInteger(n)) {
        return "argument must be between 0 and 9223372036854775807 inclusive";
      }
      c.trackingTableMaxKeys = n;
    },
  },
  limitParam(
    "hash-max-listpack-entries",
    "hashMaxListpackEntries",
    0,
    LONG_MAX,
    {
      aliases: ["hash-max-ziplist-entries"],
    },
  ),
  limitParam("hash-max-listpack-value", "hashMaxListpackValue", 0, LONG_MAX, {
    aliases: ["hash-max-ziplist-value"],
    memory: true,
  }),
  limitParam("set-max-intset-entries", "setMaxIntsetEntries", 0, LONG_MAX),
  limitParam(
    "zset-max-listpack-entries",
    "zsetMaxListpackEntries",
    0,
    LONG_MAX,
    {
      aliases: ["zset-max-ziplist-entries"],
    },
  ),
  limitParam("zset-max-listpack-value", "zsetMaxListpackValue", 0, LONG_MAX, {
    aliases: ["zset-max-ziplist-value"],
    memory: true,
  }),
  limitParam(
    "list-max-listpack-size",
    "listMaxListpackSize",
    -INT_MAX - 1,
    INT_MAX,
    {
      aliases: ["list-max-ziplist-size"],
    },
  ),
  limitParam("list-compress-depth", "listCompressDepth", 0, INT_MAX),
  limitParam("stream-node-max-bytes", "streamNodeMaxBytes", 0, LONG_MAX, {
    memory: true,
  }),
  limitParam("stream-node-max-entries", "streamNodeMaxEntries", 0, LONG_MAX),
  limitParam("hll-sparse-max-bytes", "hllSparseMaxBytes", 0, LONG_MAX, {
    memory: true,
  }),
  intParam("databases", "databases", 1, INT_MAX, false),
  nameParam("dbfilename", "dbfilename"),
  nameParam("appendfilename", "appendfilename"),
  {
    name: "save",
    mutable: true,
    get: (c) => c.save.map(([s, n]) => `${s} ${n}`).join(" "),
    set(c, v) {
      const policy = parseSavePolicy(v);
      if (policy === undefined) return "Invalid save parameters";
      c.save = policy;
    },
  },
  boolParam("stop-writes-on-bgsave-error", "stopWritesOnBgsaveError"),
  boolParam("appendonly", "appendonly"),
  {
    name: "appendfsync",
    mutable: true,
    get: (c) => c.appendfsync,
    set(c, v) {
      const s = v.toLowerCase();
      if (s !== "always" && s !== "everysec" && s !== "no") {
        return "argument(s) must be one of the following: always, everysec, no";
      }
      c.appendfsync = s;
    },
  },
  {
    name: "auto-aof-rewrite-percentage",
    mutable: true,
    get: (c) => String(c.autoAofRewritePercentage),
    set(c, v) {
      if (!/^\d+$/.test(v)) {
        return "argument couldn't be parsed into an integer";
      }
      c.autoAofRewritePercentage = Number(v);
    },
  },
  {
    name: "auto-aof-rewrite-min-size",
    mutable: true,
    get: (c) => String(c.autoAofRewriteMinSize),
    set(c, v) {
      const n = parseMemory(v);
      if (!Number.isFinite(n)) return "argument must be a memory value";
      c.autoAofRewriteMinSize = n;
    },
  },
);

/** An integer setting of the memory limit, with Redis's range. */
function memoryIntParam(
  name: string,
  key:
    | "maxmemorySamples"
    | "maxmemoryEvictionTenacity"
    | "lfuLogFactor"
    | "lfuDecayTime",
  min: number,
  max: number,
): Param {
  return {
    name,
    mutable: true,
    get: (c) => String(c[key]),
    set(c, v) {
      if (!/^-?\d+$/.test(v)) {
        return "argument couldn't be parsed into an integer";
      }
      const n = Number(v);
      if (n < min || n > max) {
        return `argument must be between ${min} and ${max} inclusive`;
      }
      c[key] = n;
    },
  };
}

// The memory limit and eviction (data/_memory.ts).
PARAMS.push(
  {
    name: "maxmemory",
    mutable: true,
    get: (c) => String(c.maxmemory),
    set(c, v) {
      const n = parseMemory(v);
      if (!Number.isSafeInteger(n)) return "argument must be a memory value";
      c.maxmemory = n;
    },
  },
  {
    name: "maxmemory-policy",
    mutable: true,
    get: (c) => c.maxmemoryPolicy,
    set(c, v) {
      const p = v.toLowerCase() as EvictionPolicy;
      if (!EVICTION_POLICIES.includes(p)) {
        return `argument(s) must be one of the following: ${
          EVICTION_POLICIES.join(", ")
        }`;
      }
      c.maxmemoryPolicy = p;
    },
  },
  memoryIntParam("maxmemory-samples", "maxmemorySamples", 1, INT_MAX),
  memoryIntParam(
    "maxmemory-eviction-tenacity",
    "maxmemoryEvictionTenacity",
    0,
    100,
  ),
  memoryIntParam("lfu-log-factor", "lfuLogFactor", 0, INT_MAX),
  memoryIntParam("lfu-decay-time", "lfuDecayTime", 0, INT_MAX),
  {
    name: "maxmemory-clients",
    mutable: true,
    get: (c) => c.maxmemoryClients,
    set(c, v) {
      const pct = /^(\d+)%$/.exec(v);
      if (pct) {
        if (Number(pct[1]) > 100) {
          return "percentage argument must be less or equal to 100";
        }
        c.maxmemoryClients = v;
        return;
      }
      const n = parseMemory(v);
      if (!Number.isSafeInteger(n)) return "argument must be a memory value";
      c.maxmemoryClients = String(n);
    },
  },
);

/** A long long setting (SLOWLOG, LATENCY) with Redis's range checks. */
function longParam(
  name: string,
  key: "slowlogLogSlowerThan" | "slowlogMaxLen" | "latencyMonitorThreshold",
  min: number,
): Param {
  return {
    name,
    mutable: true,
    get: (c) => String(c[key]),
    set(c, v) {
      if (!/^-?\d+$/.test(v) || BigInt(v) > 9223372036854775807n) {
        return "argument couldn't be parsed into an integer";
      }
      const n = Number(v);
      if (n < min) {
        return `argument must be between ${min} and 9223372036854775807 inclusive`;
      }
      c[key] = n;
    },
  };
}

// Replication (replication.ts).
PARAMS.push(
  {
    name: "replicaof",
    aliases: ["slaveof"],
    mutable: false,
    get: (c) => c.replicaof,
    set(c, v) {
      const words = v.trim() === "" ? [] : v.trim().split(/\s+/);
      if (
        words.length === 2 && /^no$/i.test(words[0]) && /^one$/i.test(words[1])
      ) {
        c.replicaof = "";
        return;
      }
      if (words.length !== 0 && words.length !== 2) {
        return "wrong number of arguments";
      }
      if (words.length === 2) {
        const port = Number(words[1]);
        if (!/^\d+$/.test(words[1]) || port < 1 || port > 65535) {
          return "Invalid master port";
        }
      }
      c.replicaof = words.join(" ");
    },
  },
  {
    name: "masterauth",
    mutable: true,
    get: (c) => c.masterauth,
    set(c, v) {
      c.masterauth = v;
    },
  },
  {
    name: "masteruser",
    mutable: true,
    get: (c) => c.masteruser,
    set(c, v) {
      c.masteruser = v;
    },
  },
  {
    ...boolParam("replica-read-only", "replicaReadOnly"),
    aliases: ["slave-read-only"],
  },
  {
    name: "repl-backlog-size",
    mutable: true,
    get: (c) => String(c.replBacklogSize),
    set(c, v) {
      const n = parseMemory(v);
      if (!Number.isSafeInteger(n) || n < 1) {
        return "argument must be a memory value of at least 1";
      }
      // As Redis, at least 16kb.
      c.replBacklogSize = Math.max(n, 16 * 1024);
    },
  },
  {
    ...intParam(
      "repl-ping-replica-period",
      "replPingReplicaPeriod",
      1,
      INT_MAX,
    ),
    aliases: ["repl-ping-slave-period"],
  },
  intParam("repl-timeout", "replTimeout", 1, INT_MAX),
);

PARAMS.push(
  longParam("slowlog-log-slower-than", "slowlogLogSlowerThan", -1),
  longParam("slowlog-max-len", "slowlogMaxLen", 0),
  longParam("latency-monitor-threshold", "latencyMonitorThreshold", 0),
);

const BY_NAME = new Map<string, Param>();
for (const p of PARAMS) {
  BY_NAME.set(p.name, p);
  for (const a of p.aliases ?? []) BY_NAME.set(a, p);
}

/** Error texts of {@linkcode setConfig}. */
export type ConfigSetResult =
  | { ok: true }
  | { ok: false; kind: "unknown" | "immutable" | "invalid"; message: string };

/** Applies one setting by its redis.conf name. `force` allows immutable
 * settings (used at start-up). */
export function setConfig(
  config: ServerConfig,
  name: string,
  value: string,
  force = false,
): ConfigSetResult {
  const p = BY_NAME.get(name.toLowerCase());
  if (!p) return { ok: false, kind: "unknown", message: name };
  if (!p.mutable && !force) {
    return {
      ok: false,
      kind: "immutable",
      message: "can't set immutable config",
    };
  }
  const err = p.set(config, value);
  if (err !== undefined) return { ok: false, kind: "invalid", message: err };
  return { ok: true };
}

/** The settings whose names match a glob pattern, as name/value pairs. */
export function getConfig(
  config: ServerConfig,
  pattern: string,
): [string, string][] {
  const out: [string, string][] = [];
  const lower = pattern.toLowerCase();
  const exact = BY_NAME.get(lower);
  if (exact && !/[*?[\\]/.test(lower)) return [[lower, exact.get(config)]];
  for (const p of PARAMS) {
    // As Redis 7.0, a pattern also matches the old names (aliases).
    for (const name of [p.name, ...(p.aliases ?? [])]) {
      if (globMatch(pattern, name, true)) out.push([name, p.get(config)]);
    }
  }
  return out;
}

/** The canonical name of a setting, or undefined if there is none. */
export function configName(name: string): string | undefined {
  return BY_NAME.get(name.toLowerCase())?.name;
}

/**
 * Parses `kv serve`'s arguments as redis-server does: an optional
 * configuration file first (redis.conf syntax, see
 * {@linkcode parseConfigText}), then flags named after redis.conf that
 * override it: `--port 7000`, `--requirepass=x`, `--protected-mode no`,
 * `--save ""`. A relative file name and `dir` are taken from `cwd` (the
 * folder the user started the server in). Throws on an unknown flag or a
 * bad value, naming it; a {@linkcode ConfigFileError} for the file.
 *
 * @example
 * ```ts
 * import { parseServerArgs } from "./config.ts";
 * const config = parseServerArgs(["--port", "7000", "--protected-mode=no"]);
 * config.port; // 7000
 * ```
 */
export function parseServerArgs(
  args: readonly string[],
  base: ServerConfig = defaultConfig(),
  cwd?: string,
): ServerConfig {
  const config = base;
  const from = (path: string) =>
    cwd === undefined || path.startsWith("/") ? path : `${cwd}/${path}`;
  let i = 0;
  if (args.length > 0 && !args[0].startsWith("-")) {
    const path = from(args[0]);
    let text: string;
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      throw new Error(
        `Fatal error, can't open config file '${path}': ${
          e instanceof Error ? e.message : e
        }`,
      );
    }
    parseConfigText(text, config);
    config.configFile = cwd === undefined && !path.startsWith("/")
      ? `${Deno.cwd()}/${path}`
      : path;
    i = 1;
  }
  for (; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("--")) throw new Error(`unexpected argument '${arg}'`);
    let name = arg.slice(2);
    let value: string | undefined;
    const eq = name.indexOf("=");
    if (eq !== -1) {
      value = name.slice(eq + 1);
      name = name.slice(0, eq);
    } else {
      value = args[++i];
      if (value === undefined) throw new Error(`flag --${name} needs a value`);
      // `--replicaof host port`: two words, as redis-server takes them.
      if (
        /^(replicaof|slaveof)$/i.test(name) && !/\s/.test(value) &&
        i + 1 < args.length && !args[i + 1].startsWith("--")
      ) {
        value += " " + args[++i];
      }
    }
    const r = setConfig(config, name, value, true);
    if (!r.ok) {
      throw new Error(
        r.kind === "unknown"
          ? `unknown flag --${name}`
          : `bad value for --${name} '${value}': ${r.message}`,
      );
    }
  }
  config.dir = from(config.dir);
  return config;
}

// --- configuration files ---------------------------------------------------

/** The Redis version named in configuration file errors, as INFO's. */
const REDIS_VERSION = "7.0.0";

/** A configuration file line Redis would refuse; the message is Redis's:
 * `*** FATAL CONFIG FILE ERROR ...`, the line number, the line, why. */
export class ConfigFileError extends Error {
  /** Creates the error for `text` at 1-based `line`. */
  constructor(
    readonly line: number,
    readonly text: string,
    readonly reason: string,
  ) {
    super(
      `\n*** FATAL CONFIG FILE ERROR (Redis ${REDIS_VERSION}) ***\n` +
        `Reading the configuration file, at line ${line}\n` +
        `>>> '${text}'\n${reason}`,
    );
    this.name = "ConfigFileError";
  }
}

/**
 * Splits a redis.conf line into words as Redis does (sdssplitargs):
 * blanks separate words, `"..."` takes `\n \r \t \b \a \\ \" \xHH`
 * escapes, `'...'` takes `\'`; null when a quote is not closed (or a
 * closing quote is followed by something other than a blank).
 *
 * @example
 * ```ts
 * import { splitConfigLine } from "./config.ts";
 * splitConfigLine(`save ""`); // ["save", ""]
 * ```
 */
export function splitConfigLine(line: string): string[] | null {
  const words: string[] = [];
  let i = 0;
  const blank = (ch: string | undefined) =>
    ch === " " || ch === "\t" || ch === "\n" || ch === "\r" || ch === "\v" ||
    ch === "\f";
  while (true) {
    while (i < line.length && blank(line[i])) i++;
    if (i >= line.length) return words;
    let word = "";
    let inDq = false;
    let inSq = false;
    let done = false;
    while (!done) {
      const ch = line[i];
      if (inDq) {
        if (ch === undefined) return null;
        if (
          ch === "\\" && line[i + 1] === "x" &&
          /^[0-9a-fA-F]{2}$/.test(line.slice(i + 2, i + 4))
        ) {
          word += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === "\\" && i + 1 < line.length) {
          const e = line[++i];
          word += ({ n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" } as Record<
            string,
            string
          >)[e] ?? e;
        } else if (ch === '"') {
          if (i + 1 < line.length && !blank(line[i + 1])) return null;
          done = true;
        } else word += ch;
      } else if (inSq) {
        if (ch === undefined) return null;
        if (ch === "\\" && line[i + 1] === "'") {
          word += "'";
          i++;
        } else if (ch === "'") {
          if (i + 1 < line.length && !blank(line[i + 1])) return null;
          done = true;
        } else word += ch;
      } else if (ch === undefined || blank(ch)) {
        done = true;
      } else if (ch === '"') inDq = true;
      else if (ch === "'") inSq = true;
      else word += ch;
      if (i < line.length) i++;
    }
    words.push(word);
  }
}

/**
 * Applies redis.conf-style text (`name value ...` lines, `#` comments,
 * quoted values) to `config`, as redis-server reads its configuration
 * file. Several `save` lines add up (the first replaces the default
 * policy). Throws a {@linkcode ConfigFileError} with Redis's message on
 * an unknown directive or a bad value.
 *
 * @example
 * ```ts
 * import { defaultConfig, parseConfigText } from "./config.ts";
 * const config = defaultConfig();
 * parseConfigText("# test\nport 7000\nsave \"\"\n", config);
 * config.port; // 7000
 * ```
 */
export function parseConfigText(text: string, config: ServerConfig): void {
  const lines = text.split("\n");
  let saveSeen = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const words = splitConfigLine(line);
    const fail = (reason: string): never => {
      throw new ConfigFileError(i + 1, line, reason);
    };
    if (words === null) fail("Unbalanced quotes in configuration line");
    if (words!.length === 0) continue;
    const name = words![0].toLowerCase();
    const args = words!.slice(1);
    if (configName(name) === undefined || args.length === 0) {
      fail(
        configName(name) === undefined
          ? "Bad directive or wrong number of arguments"
          : "wrong number of arguments",
      );
    }
    const value = args.join(" ");
    if (name === "save") {
      const policy = parseSavePolicy(value);
      if (policy === undefined) fail("Invalid save parameters");
      config.save = saveSeen ? [...config.save, ...policy!] : policy!;
      saveSeen = true;
      continue;
    }
    const r = setConfig(config, name, value, true);
    if (!r.ok) fail(r.message);
  }
}

/** Settings written quoted by CONFIG REWRITE, as Redis writes them. */
const QUOTED = new Set([
  "dir",
  "dbfilename",
  "appendfilename",
  "requirepass",
  "masterauth",
]);
/** Settings whose value is several words, written unquoted. */
const WORDS = new Set([
  "save",
  "client-output-buffer-limit",
  "bind",
  "replicaof",
]);

/** A value as redis.conf text: quoted (with Redis's escapes) when it has
 * to be, or when Redis always quotes that setting. */
function confValue(name: string, value: string): string {
  if (WORDS.has(name) && value !== "") return value;
  if (!QUOTED.has(name) && value !== "" && /^[\x21-\x7e]+$/.test(value)) {
    if (!/["'\\]/.test(value)) return value;
  }
  let out = '"';
  for (const ch of value) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += "\\" + ch;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || c === 0x7f) {
      out += "\\x" + c.toString(16).padStart(2, "0");
    } else out += ch;
  }
  return out + '"';
}

/** Bytes (one char each) as UTF-8 text when they are valid UTF-8. */
function bytesAsText(v: string): string {
  if (!/[\x80-\xff]/.test(v)) return v;
  try {
    const bytes = Uint8Array.from(v, (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return v;
  }
}

const GENERATED = "# Generated by CONFIG REWRITE";

/**
 * The text CONFIG REWRITE writes: the file's lines in order, comments and
 * blank lines kept, each setting's line given its current value (a
 * setting's later lines dropped); then, under `# Generated by CONFIG
 * REWRITE`, the settings the file does not name whose value is not the
 * default (and `dir`, always), as Redis does.
 *
 * @example
 * ```ts
 * import { defaultConfig, rewriteConfigText } from "./config.ts";
 * const config = defaultConfig();
 * config.maxclients = 5;
 * rewriteConfigText("# mine\nmaxclients 10\n", config); // "# mine\nmaxclients 5\n..."
 * ```
 */
export function rewriteConfigText(text: string, config: ServerConfig): string {
  const lines = text === "" ? [] : text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const seen = new Set<string>();
  const out: string[] = [];
  const valueOf = (p: Param, c: ServerConfig) => {
    const v = p.get(c);
    return p.name === "requirepass" ? bytesAsText(v) : v;
  };
  for (const raw of lines) {
    const line = raw.trim();
    const words = line.startsWith("#") ? null : splitConfigLine(line);
    const p = words?.length ? BY_NAME.get(words[0].toLowerCase()) : undefined;
    if (p === undefined) {
      out.push(raw);
      continue;
    }
    if (seen.has(p.name)) continue; // one line per setting
    seen.add(p.name);
    const name = words![0].toLowerCase();
    out.push(`${name} ${confValue(p.name, valueOf(p, config))}`);
  }
  const defaults = defaultConfig();
  const added: string[] = [];
  for (const p of PARAMS) {
    if (seen.has(p.name)) continue;
    const value = valueOf(p, config);
    if (p.name !== "dir" && value === valueOf(p, defaults)) continue;
    added.push(`${p.name} ${confValue(p.name, value)}`);
  }
  if (added.length > 0) {
    if (!lines.includes(GENERATED)) {
      if (out.length > 0 && out[out.length - 1].trim() !== "") out.push("");
      out.push(GENERATED);
    }
    out.push(...added);
  }
  return out.join("\n") + "\n";
}

/**
 * CONFIG REWRITE: writes the live settings back into
 * `config.configFile` (see {@linkcode rewriteConfigText}), through a
 * temporary file renamed over it. Throws when there is no file, with
 * Redis's message, or when it cannot be written.
 */
export function rewriteConfigFile(config: ServerConfig): void {
  const path = config.configFile;
  if (path === "") {
    throw new Error("The server is running without a config file");
  }
  let text = "";
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    Deno.writeTextFileSync(tmp, rewriteConfigText(text, config));
    Deno.renameSync(tmp, path);
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // not created
    }
    throw e;
  }
}

/** What `kv serve --help` says about a setting, by its redis.conf name. */
const HELP: Record<string, string> = {
  bind: "address to listen on",
  port: "TCP port (0 picks a free one)",
  requirepass: "password for AUTH (none by default)",
  maxclients: "most clients connected at once",
  timeout: "close clients idle this many seconds (0: never)",
  loglevel: "debug, verbose, notice or warning",
  "protected-mode":
    "with no password, serve only 127.0.0.1 and ::1 when bound elsewhere",
  dir: "where data files go: relative to the folder you start kv from",
  dbfilename:
    "the snapshot file, in --dir (ending in .rdb: Redis's RDB format)",
  save: 'snapshot after SECONDS if CHANGES writes, for any pair; "" for none',
  "stop-writes-on-bgsave-error": "refuse writes after a failed save",
  appendonly: "log every write to the append-only file",
  appendfsync: "always, everysec or no",
  appendfilename: "the append-only file, in --dir",
  "auto-aof-rewrite-percentage": "rewrite the log when it grew this much",
  "auto-aof-rewrite-min-size": "... and is at least this big",
  "proto-max-bulk-len": "longest argument accepted",
  "client-output-buffer-limit":
    "CLASS HARD SOFT SECONDS (or HARD SOFT SECONDS for normal clients)",
  hz: "background cycles per second",
  databases: "numbered databases clients can SELECT (0 to N-1)",
  "http-port": "port of the web dashboard on the same address (0: off)",
  maxmemory: "memory limit (0: none), e.g. 100mb, 1gb",
  "maxmemory-policy": EVICTION_POLICIES.join(", "),
  "notify-keyspace-events": "keyspace notification classes",
  "busy-reply-threshold": "ms a script runs before others get -BUSY",
  replicaof: 'HOST PORT: follow that primary as its replica ("" : none)',
  masterauth: "the password this replica gives its primary",
  masteruser: "the user this replica authenticates as with its primary",
  "replica-read-only": "a replica refuses writes from its clients",
  "repl-backlog-size": "stream kept for replicas that reconnect",
  "repl-ping-replica-period": "seconds between PINGs to replicas",
  "repl-timeout": "seconds of silence before a replication link drops",
};

/**
 * The flags `kv serve` takes, one a line with its default, for `--help`:
 * every setting of the table (the CONFIG GET names), aliases beside.
 *
 * @example
 * ```ts
 * import { serverFlagsHelp } from "./config.ts";
 * console.log(serverFlagsHelp().includes("--appendonly")); // true
 * ```
 */
export function serverFlagsHelp(): string {
  const defaults = defaultConfig();
  const rows: [string, string][] = [];
  for (const p of PARAMS) {
    let value = p.get(defaults);
    if (p.name === "client-output-buffer-limit") {
      const l = defaults.clientOutputBufferLimit;
      value = `normal ${l.hard} ${l.soft} ${l.softSeconds} pubsub ` +
        `${defaults.clientOutputBufferLimitPubsub.hard} ` +
        `${defaults.clientOutputBufferLimitPubsub.soft} ` +
        `${defaults.clientOutputBufferLimitPubsub.softSeconds}`;
    }
    const shown = value === "" ? '""' : /\s/.test(value) ? `"${value}"` : value;
    const names = [p.name, ...(p.aliases ?? [])].map((n) => `--${n}`).join(
      ", ",
    );
    const help = HELP[p.name];
    rows.push([
      `${names} ${shown}`,
      help ?? (p.mutable ? "as in redis.conf" : "as in redis.conf (fixed)"),
    ]);
  }
  const width = Math.min(
    34,
    Math.max(...rows.map(([a]) => a.length)),
  );
  return rows.map(([a, b]) =>
    a.length > width
      ? `  ${a}\n  ${" ".repeat(width)}  ${b}`
      : `  ${a.padEnd(width)}  ${b}`
  ).join("\n");
}

/** Every setting's redis.conf name (the flags `kv serve` takes).
 *
 * @example
 * ```ts
 * import { configNames } from "./config.ts";
 * configNames().includes("save"); // true
 * ```
 */
export function configNames(): string[] {
  return PARAMS.map((p) => p.name);
}
